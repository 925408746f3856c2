/*
** sqlite_func.c: the SQL functions the stat and analyze pipelines call
** (registered on every connection by inv_store_open): date formatting,
** arithmetic and numeric guards, and the aggregates SQLite lacks (ordered
** push, first/last, add_to_set, merge_objects). They depend on values,
** JSON and time only, not on the store.
*/
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <math.h>
#include "sqlite_int.h"

/* inv_date_format(ms, format): MongoDB $dateToString specifiers, UTC. */
static void fnDateFormat(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  inv_buf b;
  (void)argc;
  if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER || sqlite3_value_type(argv[1]) != SQLITE_TEXT) {
    sqlite3_result_null(ctx);
    return;
  }
  inv_buf_init(&b);
  inv_time_strftime(&b, (const char*)sqlite3_value_text(argv[1]), sqlite3_value_int64(argv[0]));
  if (b.bOom) sqlite3_result_error_nomem(ctx);
  else sqlite3_result_text(ctx, b.z ? b.z : "", (int)b.n, SQLITE_TRANSIENT);
  inv_buf_free(&b);
}

/* inv_divide(a, b): a / b as a real; null operands give null; zero is an error. */
static void fnDivide(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  double a, b;
  (void)argc;
  if (sqlite3_value_numeric_type(argv[0]) == SQLITE_NULL || sqlite3_value_numeric_type(argv[1]) == SQLITE_NULL
      || sqlite3_value_type(argv[0]) == SQLITE_TEXT || sqlite3_value_type(argv[1]) == SQLITE_TEXT) {
    sqlite3_result_null(ctx);
    return;
  }
  a = sqlite3_value_double(argv[0]);
  b = sqlite3_value_double(argv[1]);
  if (b == 0) { sqlite3_result_error(ctx, "can't $divide by zero", -1); return; }
  sqlite3_result_double(ctx, a / b);
}

/* inv_number(x): x when it is a number, else null. */
static void fnNumber(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  int t = sqlite3_value_type(argv[0]);
  (void)argc;
  if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) sqlite3_result_value(ctx, argv[0]);
  else sqlite3_result_null(ctx);
}

/* inv_array_size(json): the length of a JSON array; an error otherwise. */
static void fnArraySize(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) { sqlite3_result_null(ctx); return; }
  {
    const char *z = (const char*)sqlite3_value_text(argv[0]);
    int n = 0, depth = 0, bStr = 0, bAny = 0;
    if (!z || *z != '[') { sqlite3_result_error(ctx, "The argument to $size must be an array", -1); return; }
    /* count top-level elements of our canonical compact JSON */
    for (z++; *z; z++) {
      char ch = *z;
      if (bStr) { if (ch == '\\') z++; else if (ch == '"') bStr = 0; continue; }
      if (ch == '"') { bStr = 1; bAny = 1; }
      else if (ch == '[' || ch == '{') { depth++; bAny = 1; }
      else if (ch == ']' || ch == '}') { if (depth-- == 0) break; }
      else if (ch == ',' && depth == 0) n++;
      else if (ch != ' ') bAny = 1;
    }
    sqlite3_result_int(ctx, bAny ? n + 1 : 0);
  }
}

/* An open-addressing index over entries 0..n-1 of a caller's table, whose
** keys xKey(pCtx, i) returns: aSlot[] holds an entry number + 1, 0 when
** free. Finding a key costs O(1), so a set or an object of n keys builds in
** O(n), not O(n^2). */
typedef struct KeyIndex KeyIndex;
struct KeyIndex { int *aSlot; int nSlot; };
typedef const char *(*KeyFn)(void *pCtx, int i, size_t *pn);

/* The slot holding key (z, n), or the free slot where it belongs. */
static int kiSlot(const KeyIndex *x, const char *z, size_t n, KeyFn xKey, void *pCtx) {
  int i = (int)(inv_hash(z, n) & (size_t)(x->nSlot - 1));
  for (;;) {
    size_t nk;
    const char *zk;
    if (!x->aSlot[i]) return i;
    zk = xKey(pCtx, x->aSlot[i] - 1, &nk);
    if (nk == n && memcmp(zk, z, n) == 0) return i;
    i = (i + 1) & (x->nSlot - 1);
  }
}
/* Room for one more entry (nEntry now): at most half the slots in use. */
static int kiReserve(KeyIndex *x, int nEntry, KeyFn xKey, void *pCtx) {
  KeyIndex y;
  int i;
  if ((nEntry + 1) * 2 <= x->nSlot) return SQLITE_OK;
  y.nSlot = x->nSlot ? x->nSlot * 2 : 16;
  y.aSlot = inv_malloc(sizeof(int) * (size_t)y.nSlot);
  if (!y.aSlot) return SQLITE_NOMEM;
  memset(y.aSlot, 0, sizeof(int) * (size_t)y.nSlot);
  for (i = 0; i < nEntry; i++) {
    size_t n;
    const char *z = xKey(pCtx, i, &n);
    y.aSlot[kiSlot(&y, z, n, xKey, pCtx)] = i + 1;
  }
  inv_free(x->aSlot);
  *x = y;
  return SQLITE_OK;
}

/* The error of a value over INV_MAX_VALUE (zWhat names the operator). */
static void resultTooLarge(sqlite3_context *ctx, const char *zWhat) {
  char zMsg[120];
  snprintf(zMsg, sizeof zMsg, "%s: the value is larger than 16 MB (MongoDB's document limit)", zWhat);
  sqlite3_result_error(ctx, zMsg, -1);
}

/* b as a JSON text result: an error when out of memory or over
** INV_MAX_VALUE. */
static void resultJson(sqlite3_context *ctx, inv_buf *b, const char *zWhat) {
  if (b->bOom) {
    sqlite3_result_error_nomem(ctx);
  } else if (b->n > INV_MAX_VALUE) {
    resultTooLarge(ctx, zWhat);
  } else {
    sqlite3_result_text(ctx, b->z, (int)b->n, SQLITE_TRANSIENT);
  }
}

/* inv_push(seq, json): aggregate; the JSON texts as an array in seq order
** (the stream order, whatever order GROUP BY feeds the rows in). A NULL
** (missing) value is skipped. */
typedef struct PushItem PushItem;
struct PushItem { int64_t seq; char *z; };
typedef struct PushCtx PushCtx;
struct PushCtx { PushItem *a; int n, nAlloc; size_t nBytes; };
static void fnPushStep(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  PushCtx *m = sqlite3_aggregate_context(ctx, sizeof *m);
  size_t n;
  char *z;
  (void)argc;
  if (!m) { sqlite3_result_error_nomem(ctx); return; }
  if (sqlite3_value_type(argv[1]) == SQLITE_NULL) return;
  n = (size_t)sqlite3_value_bytes(argv[1]);
  if (m->nBytes + n + 1 > INV_MAX_VALUE) {
    resultTooLarge(ctx, (const char*)sqlite3_user_data(ctx));
    return;
  }
  if (m->n == m->nAlloc) {
    int nNew = m->nAlloc ? m->nAlloc * 2 : 16;
    PushItem *a = inv_realloc(m->a, sizeof(PushItem) * (size_t)nNew);
    if (!a) { sqlite3_result_error_nomem(ctx); return; }
    m->a = a;
    m->nAlloc = nNew;
  }
  z = inv_malloc(n + 1);
  if (!z) { sqlite3_result_error_nomem(ctx); return; }
  memcpy(z, sqlite3_value_text(argv[1]), n);
  z[n] = 0;
  m->a[m->n].seq = sqlite3_value_int64(argv[0]);
  m->a[m->n].z = z;
  m->n++;
  m->nBytes += n + 1;
}
static int cmpSeq(const void *a, const void *b) {
  int64_t x = ((const PushItem*)a)->seq, y = ((const PushItem*)b)->seq;
  return x < y ? -1 : x > y;
}
static void fnPushFinal(sqlite3_context *ctx) {
  PushCtx *m = sqlite3_aggregate_context(ctx, 0);
  inv_buf b;
  int i;
  inv_buf_init(&b);
  inv_buf_addc(&b, '[');
  if (m && m->n) {
    qsort(m->a, (size_t)m->n, sizeof(PushItem), cmpSeq);
    for (i = 0; i < m->n; i++) {
      if (i) inv_buf_addc(&b, ',');
      inv_buf_adds(&b, m->a[i].z);
      inv_free(m->a[i].z);
    }
  }
  if (m) { inv_free(m->a); m->a = NULL; m->n = 0; }
  inv_buf_addc(&b, ']');
  resultJson(ctx, &b, "push");
  inv_buf_free(&b);
}

/* Members collected into one object: a later value of a key replaces the
** earlier one in place (MongoDB's $mergeObjects and $arrayToObject). Keys
** point into the caller's arena; values are JSON text in vals, each
** NUL-terminated, by offset. */
typedef struct KvSet KvSet;
struct KvSet {
  struct { const char *zKey; size_t nKey; size_t iVal; } *a;
  int n, nAlloc;
  KeyIndex idx;
  inv_buf vals;
};
static void kvInit(KvSet *p) { memset(p, 0, sizeof *p); inv_buf_init(&p->vals); }
static void kvFree(KvSet *p) { inv_free(p->a); inv_free(p->idx.aSlot); inv_buf_free(&p->vals); }
static const char *kvKey(void *pCtx, int i, size_t *pn) {
  KvSet *p = pCtx;
  *pn = p->a[i].nKey;
  return p->a[i].zKey;
}
static int kvPut(KvSet *p, const char *zKey, size_t nKey, const inv_val *v) {
  size_t iVal = p->vals.n;
  int k, iSlot;
  inv_json_write(&p->vals, v);
  inv_buf_addc(&p->vals, 0);
  if (p->vals.bOom || kiReserve(&p->idx, p->n, kvKey, p)) return SQLITE_NOMEM;
  iSlot = kiSlot(&p->idx, zKey, nKey, kvKey, p);
  k = p->idx.aSlot[iSlot] ? p->idx.aSlot[iSlot] - 1 : p->n;
  if (k == p->n) {
    if (p->n == p->nAlloc) {
      int nNew = p->nAlloc ? p->nAlloc * 2 : 8;
      void *aNew = inv_realloc(p->a, sizeof(*p->a) * (size_t)nNew);
      if (!aNew) return SQLITE_NOMEM;
      p->a = aNew;
      p->nAlloc = nNew;
    }
    p->a[k].zKey = zKey;
    p->a[k].nKey = nKey;
    p->idx.aSlot[iSlot] = ++p->n;
  }
  p->a[k].iVal = iVal;
  return SQLITE_OK;
}
/* The object as the function's result (zWhat names it in a size error). */
static void kvResult(sqlite3_context *ctx, KvSet *p, const char *zWhat) {
  inv_buf b;
  int i;
  inv_buf_init(&b);
  inv_buf_addc(&b, '{');
  for (i = 0; i < p->n; i++) {
    if (i) inv_buf_addc(&b, ',');
    inv_json_write_str(&b, p->a[i].zKey, p->a[i].nKey);
    inv_buf_addc(&b, ':');
    inv_buf_adds(&b, p->vals.z + p->a[i].iVal);
  }
  inv_buf_addc(&b, '}');
  resultJson(ctx, &b, zWhat);
  inv_buf_free(&b);
}

static const char *jsonTypeName(const inv_val *v) {
  switch (v->t) {
    case INV_BOOL: return "bool";
    case INV_INT: return "int";
    case INV_REAL: return "double";
    case INV_STR: return "string";
    case INV_ARR: return "array";
    case INV_OBJ: return "object";
    default: return "null";
  }
}

/* inv_merge_objects(seq, json): aggregate, MongoDB's $mergeObjects. The
** members of each object in seq order, a later value replacing an earlier
** one in place (shallow: objects are not merged, a null is kept, where
** json_patch() would do both differently). Null and missing inputs are
** skipped, {} when nothing was merged; any other input is an error, as in
** MongoDB. The inputs are collected like push's, merged at the end. */
static void fnMergeFinal(sqlite3_context *ctx) {
  PushCtx *m = sqlite3_aggregate_context(ctx, 0);
  inv_arena a;
  KvSet kv;
  int i, rc = SQLITE_OK;
  char zMsg[96];
  inv_arena_init(&a);
  kvInit(&kv);
  zMsg[0] = 0;
  if (m && m->n) qsort(m->a, (size_t)m->n, sizeof(PushItem), cmpSeq);
  for (i = 0; m && i < m->n && rc == SQLITE_OK; i++) {
    inv_val v;
    size_t j;
    if (inv_json_parse_built(&a, m->a[i].z, strlen(m->a[i].z), &v, zMsg, sizeof zMsg)) { rc = SQLITE_ERROR; break; }
    if (v.t == INV_NULL) continue;
    if (v.t != INV_OBJ) {
      snprintf(zMsg, sizeof zMsg, "$mergeObjects requires object inputs, but input is of type %s",
               jsonTypeName(&v));
      rc = SQLITE_ERROR;
      break;
    }
    for (j = 0; j < v.u.obj.n && rc == SQLITE_OK; j++) {
      rc = kvPut(&kv, v.u.obj.a[j].zKey, v.u.obj.a[j].nKey, &v.u.obj.a[j].v);
    }
  }
  if (rc == SQLITE_NOMEM) sqlite3_result_error_nomem(ctx);
  else if (rc != SQLITE_OK) sqlite3_result_error(ctx, zMsg, -1);
  else kvResult(ctx, &kv, "merge_objects");
  for (i = 0; m && i < m->n; i++) inv_free(m->a[i].z);
  if (m) { inv_free(m->a); m->a = NULL; m->n = 0; }
  kvFree(&kv);
  inv_arena_free(&a);
}

/* inv_array_to_object(json): MongoDB's $arrayToObject of a JSON array:
** either [k, v] pairs or {"k": k, "v": v} objects, all of one form, k a
** string; a later k replaces an earlier one in place. NULL (not an
** array) stays NULL; a malformed element is an error with MongoDB's
** reason. */
static void fnArrayToObject(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  inv_arena a;
  KvSet kv;
  inv_val v;
  size_t i;
  int rc = SQLITE_OK, bPairs = 0;
  char zMsg[160];
  (void)argc;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) { sqlite3_result_null(ctx); return; }
  inv_arena_init(&a);
  kvInit(&kv);
  zMsg[0] = 0;
  if (inv_json_parse_built(&a, (const char*)sqlite3_value_text(argv[0]), (size_t)sqlite3_value_bytes(argv[0]),
                     &v, zMsg, sizeof zMsg)) {
    rc = SQLITE_ERROR;
  } else if (v.t != INV_ARR) {
    snprintf(zMsg, sizeof zMsg, "$arrayToObject requires an array input, found: %s", jsonTypeName(&v));
    rc = SQLITE_ERROR;
  }
  for (i = 0; rc == SQLITE_OK && i < v.u.arr.n; i++) {
    const inv_val *e = &v.u.arr.a[i], *k = NULL, *val = NULL;
    if (i == 0) bPairs = e->t == INV_ARR;
    if (bPairs ? e->t != INV_ARR : e->t != INV_OBJ) {
      snprintf(zMsg, sizeof zMsg, "$arrayToObject requires a consistent input format. Elements must "
               "all be arrays or all be objects. Found: %s", jsonTypeName(e));
      rc = SQLITE_ERROR;
    } else if (bPairs) {
      if (e->u.arr.n != 2) {
        snprintf(zMsg, sizeof zMsg, "$arrayToObject requires an array of size 2 arrays,found array of "
                 "size: %d", (int)e->u.arr.n);
        rc = SQLITE_ERROR;
      } else {
        k = &e->u.arr.a[0];
        val = &e->u.arr.a[1];
      }
    } else {
      k = inv_val_get(e, "k");
      val = inv_val_get(e, "v");
      if (e->u.obj.n != 2 || !k || !val) {
        snprintf(zMsg, sizeof zMsg, "$arrayToObject requires an object with keys 'k' and 'v'. "
                 "Found an object with %d keys", (int)e->u.obj.n);
        rc = SQLITE_ERROR;
      }
    }
    if (rc == SQLITE_OK && k->t != INV_STR) {
      snprintf(zMsg, sizeof zMsg, "$arrayToObject requires an array of key-value pairs, where the key "
               "must be of type string. Found key type: %s", jsonTypeName(k));
      rc = SQLITE_ERROR;
    }
    if (rc == SQLITE_OK && memchr(k->u.s.z, 0, k->u.s.n)) {
      snprintf(zMsg, sizeof zMsg, "Key field cannot contain an embedded null byte");
      rc = SQLITE_ERROR;
    }
    if (rc == SQLITE_OK) rc = kvPut(&kv, k->u.s.z, k->u.s.n, val);
  }
  if (rc == SQLITE_NOMEM) sqlite3_result_error_nomem(ctx);
  else if (rc != SQLITE_OK) sqlite3_result_error(ctx, zMsg, -1);
  else kvResult(ctx, &kv, "array_to_object");
  kvFree(&kv);
  inv_arena_free(&a);
}

/* inv_first(seq, v) / inv_last(seq, v): aggregate; v of the row with the
** smallest / largest seq, as it is (NULL included). */
static const char zPickLast[] = "last";    /* user data of inv_last */
typedef struct PickCtx PickCtx;
struct PickCtx { int64_t seq; sqlite3_value *v; int bSet; };
static void fnPickStep(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  PickCtx *m = sqlite3_aggregate_context(ctx, sizeof *m);
  int bLast = sqlite3_user_data(ctx) != NULL;
  int64_t seq = sqlite3_value_int64(argv[0]);
  (void)argc;
  if (!m) { sqlite3_result_error_nomem(ctx); return; }
  if (m->bSet && (bLast ? seq <= m->seq : seq >= m->seq)) return;
  sqlite3_value_free(m->v);
  m->v = sqlite3_value_dup(argv[1]);
  m->seq = seq;
  m->bSet = 1;
  if (!m->v) sqlite3_result_error_nomem(ctx);
}
static void fnPickFinal(sqlite3_context *ctx) {
  PickCtx *m = sqlite3_aggregate_context(ctx, 0);
  if (m && m->v) {
    sqlite3_result_value(ctx, m->v);
    sqlite3_value_free(m->v);
    m->v = NULL;
  } else {
    sqlite3_result_null(ctx);
  }
}

/* inv_json_value(x, bNullMissing [, timefmt]): x as JSON text. NULL is SQL
** NULL (missing) when bNullMissing, else "null"; with timefmt an integer
** is a datetime, rendered as a JSON string. */
static void fnJsonValue(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  int t = sqlite3_value_type(argv[0]);
  inv_buf b;
  if (t == SQLITE_NULL) {
    if (sqlite3_value_int(argv[1])) sqlite3_result_null(ctx);
    else sqlite3_result_text(ctx, "null", 4, SQLITE_STATIC);
    return;
  }
  inv_buf_init(&b);
  if (t == SQLITE_INTEGER && argc > 2 && sqlite3_value_type(argv[2]) == SQLITE_TEXT) {
    inv_buf tmp;
    inv_buf_init(&tmp);
    inv_time_strftime(&tmp, (const char*)sqlite3_value_text(argv[2]), sqlite3_value_int64(argv[0]));
    inv_json_write_str(&b, tmp.z ? tmp.z : "", tmp.n);
    if (tmp.bOom) b.bOom = 1;
    inv_buf_free(&tmp);
  } else if (t == SQLITE_INTEGER) {
    inv_buf_addi(&b, sqlite3_value_int64(argv[0]));
  } else if (t == SQLITE_FLOAT) {
    inv_json_write_real(&b, sqlite3_value_double(argv[0]));
  } else if (t == SQLITE_TEXT) {
    inv_json_write_str(&b, (const char*)sqlite3_value_text(argv[0]), (size_t)sqlite3_value_bytes(argv[0]));
  } else {
    inv_buf_adds(&b, "null");
  }
  if (b.bOom) sqlite3_result_error_nomem(ctx);
  else sqlite3_result_text(ctx, b.z, (int)b.n, SQLITE_TRANSIENT);
  inv_buf_free(&b);
}

/* inv_object(name, json, ...): a JSON object of the pairs whose JSON text
** is not NULL: a missing value leaves its member out (push sub-fields). */
static void fnObject(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  inv_buf b;
  int i, bAny = 0;
  inv_buf_init(&b);
  inv_buf_addc(&b, '{');
  for (i = 0; i + 1 < argc && b.n <= INV_MAX_VALUE; i += 2) {   /* stop once over */
    if (sqlite3_value_type(argv[i + 1]) == SQLITE_NULL) continue;
    if (bAny++) inv_buf_addc(&b, ',');
    inv_json_write_str(&b, (const char*)sqlite3_value_text(argv[i]), (size_t)sqlite3_value_bytes(argv[i]));
    inv_buf_addc(&b, ':');
    inv_buf_add(&b, (const char*)sqlite3_value_text(argv[i + 1]), (size_t)sqlite3_value_bytes(argv[i + 1]));
  }
  inv_buf_addc(&b, '}');
  resultJson(ctx, &b, "push");                      /* push's sub-field objects */
  inv_buf_free(&b);
}

/* inv_operand(x, op): x for arithmetic; a string (or any non-number but
** null) is an error, as in MongoDB. */
static void fnOperand(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  int t = sqlite3_value_type(argv[0]);
  (void)argc;
  if (t == SQLITE_TEXT || t == SQLITE_BLOB) {
    char zMsg[96];
    snprintf(zMsg, sizeof zMsg, "$%s only supports numeric types, not string",
             (const char*)sqlite3_value_text(argv[1]));
    sqlite3_result_error(ctx, zMsg, -1);
    return;
  }
  sqlite3_result_value(ctx, argv[0]);
}

/* inv_add_to_set(json): aggregate; the distinct values as a JSON array,
** sorted by their JSON text (the reference leaves the order unspecified);
** idx finds a value seen before. */
typedef struct SetCtx SetCtx;
struct SetCtx { char **az; int n, nAlloc; size_t nBytes; KeyIndex idx; };
static const char *setKey(void *pCtx, int i, size_t *pn) {
  SetCtx *m = pCtx;
  *pn = strlen(m->az[i]);
  return m->az[i];
}
static void fnSetStep(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  SetCtx *m = sqlite3_aggregate_context(ctx, sizeof *m);
  const char *z;
  size_t n;
  int iSlot;
  (void)argc;
  if (!m) { sqlite3_result_error_nomem(ctx); return; }
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  z = (const char*)sqlite3_value_text(argv[0]);
  if (!z) return;
  n = strlen(z);
  if (kiReserve(&m->idx, m->n, setKey, m)) { sqlite3_result_error_nomem(ctx); return; }
  iSlot = kiSlot(&m->idx, z, n, setKey, m);
  if (m->idx.aSlot[iSlot]) return;                   /* seen */
  if (m->nBytes + n + 1 > INV_MAX_VALUE) {
    resultTooLarge(ctx, "add_to_set");
    return;
  }
  if (m->n == m->nAlloc) {
    int nNew = m->nAlloc ? m->nAlloc * 2 : 8;
    char **a = inv_realloc(m->az, sizeof(char*) * (size_t)nNew);
    if (!a) { sqlite3_result_error_nomem(ctx); return; }
    m->az = a;
    m->nAlloc = nNew;
  }
  {
    char *zCopy = inv_malloc(n + 1);
    if (!zCopy) { sqlite3_result_error_nomem(ctx); return; }
    memcpy(zCopy, z, n + 1);
    m->az[m->n++] = zCopy;
    m->idx.aSlot[iSlot] = m->n;
    m->nBytes += n + 1;
  }
}
static int cmpStr(const void *a, const void *b) {
  return strcmp(*(char *const*)a, *(char *const*)b);
}
static void fnSetFinal(sqlite3_context *ctx) {
  SetCtx *m = sqlite3_aggregate_context(ctx, 0);
  inv_buf b;
  int i;
  inv_buf_init(&b);
  inv_buf_addc(&b, '[');
  if (m) {
    if (m->n) qsort(m->az, (size_t)m->n, sizeof(char*), cmpStr);   /* az is NULL when n is 0 */
    for (i = 0; i < m->n; i++) {
      if (i) inv_buf_addc(&b, ',');
      inv_buf_adds(&b, m->az[i]);
      inv_free(m->az[i]);
    }
    inv_free(m->az);
    inv_free(m->idx.aSlot);
    m->az = NULL;
    m->idx.aSlot = NULL;
    m->n = m->idx.nSlot = 0;
  }
  inv_buf_addc(&b, ']');
  resultJson(ctx, &b, "add_to_set");
  inv_buf_free(&b);
}

int inv_sqlite_func_register(sqlite3 *db) {
  int f = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, rc;
  rc = sqlite3_create_function_v2(db, "inv_date_format", 2, f, NULL, fnDateFormat, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_divide", 2, f, NULL, fnDivide, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_number", 1, f, NULL, fnNumber, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_array_size", 1, f, NULL, fnArraySize, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_merge_objects", 2, f, (void*)"merge_objects",
                                                       NULL, fnPushStep, fnMergeFinal, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_add_to_set", 1, f, NULL, NULL,
                                                       fnSetStep, fnSetFinal, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_push", 2, f, (void*)"push", NULL,
                                                       fnPushStep, fnPushFinal, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_array_to_object", 1, f, NULL,
                                                       fnArrayToObject, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_first", 2, f, NULL, NULL,
                                                       fnPickStep, fnPickFinal, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_last", 2, f, (void*)zPickLast, NULL,
                                                       fnPickStep, fnPickFinal, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_json_value", 2, f, NULL, fnJsonValue, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_json_value", 3, f, NULL, fnJsonValue, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_object", -1, f, NULL, fnObject, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_operand", 2, f, NULL, fnOperand, NULL, NULL, NULL);
  return rc;
}
