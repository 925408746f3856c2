/*
** inv_func.c: the SQL functions the stat and analyze pipelines call
** (registered on every connection by inv_store_open): date formatting,
** arithmetic and numeric guards, and the aggregates SQLite lacks (ordered
** push, first/last, add_to_set, merge_objects). They depend on values,
** JSON and time only, not on the store.
*/
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <math.h>
#include "inv_int.h"

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
  if (m->nBytes + n > 256u * 1024 * 1024) {
    sqlite3_result_error(ctx, "push holds too many values", -1);
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
  if (b.bOom) sqlite3_result_error_nomem(ctx);
  else sqlite3_result_text(ctx, b.z, (int)b.n, SQLITE_TRANSIENT);
  inv_buf_free(&b);
}

/* inv_merge_objects(seq, json): aggregate, MongoDB's $mergeObjects. The
** members of each object in seq order, a later value replacing an earlier
** one in place (shallow: objects are not merged, a null is kept, where
** json_patch() would do both differently). Null and missing inputs are
** skipped, {} when nothing was merged; any other input is an error, as in
** MongoDB. The inputs are collected like push's, merged at the end. */
typedef struct MergeKv MergeKv;
struct MergeKv { const char *zKey; size_t nKey; size_t iVal; };

static const char *jsonTypeName(const inv_val *v) {
  switch (v->t) {
    case INV_BOOL: return "bool";
    case INV_INT: return "int";
    case INV_REAL: return "double";
    case INV_STR: return "string";
    case INV_ARR: return "array";
    default: return "null";
  }
}
static void fnMergeFinal(sqlite3_context *ctx) {
  PushCtx *m = sqlite3_aggregate_context(ctx, 0);
  inv_arena a;
  inv_buf vals, b;
  MergeKv *aKv = NULL;
  int nKv = 0, nKvAlloc = 0, i, rc = SQLITE_OK;
  char zMsg[96];
  inv_arena_init(&a);
  inv_buf_init(&vals);
  inv_buf_init(&b);
  zMsg[0] = 0;
  if (m && m->n) qsort(m->a, (size_t)m->n, sizeof(PushItem), cmpSeq);
  for (i = 0; m && i < m->n && rc == SQLITE_OK; i++) {
    inv_val v;
    size_t j;
    if (inv_json_parse(&a, m->a[i].z, strlen(m->a[i].z), &v, zMsg, sizeof zMsg)) { rc = SQLITE_ERROR; break; }
    if (v.t == INV_NULL) continue;
    if (v.t != INV_OBJ) {
      snprintf(zMsg, sizeof zMsg, "$mergeObjects requires object inputs, but input is of type %s",
               jsonTypeName(&v));
      rc = SQLITE_ERROR;
      break;
    }
    for (j = 0; j < v.u.obj.n; j++) {
      const inv_kv *kv = &v.u.obj.a[j];
      int k;
      /* values are appended to one buffer, NUL-separated, by offset */
      size_t iVal = vals.n;
      inv_json_write(&vals, &kv->v);
      inv_buf_addc(&vals, 0);
      for (k = 0; k < nKv; k++) {
        if (aKv[k].nKey == kv->nKey && !memcmp(aKv[k].zKey, kv->zKey, kv->nKey)) break;
      }
      if (k == nKv) {
        if (nKv == nKvAlloc) {
          int nNew = nKvAlloc ? nKvAlloc * 2 : 8;
          MergeKv *aNew = inv_realloc(aKv, sizeof(MergeKv) * (size_t)nNew);
          if (!aNew) { rc = SQLITE_NOMEM; break; }
          aKv = aNew;
          nKvAlloc = nNew;
        }
        aKv[nKv].zKey = kv->zKey;                /* lives in the arena */
        aKv[nKv].nKey = kv->nKey;
        nKv++;
      }
      aKv[k].iVal = iVal;
    }
  }
  if (rc == SQLITE_OK) {
    inv_buf_addc(&b, '{');
    for (i = 0; i < nKv; i++) {
      if (i) inv_buf_addc(&b, ',');
      inv_json_write_str(&b, aKv[i].zKey, aKv[i].nKey);
      inv_buf_addc(&b, ':');
      inv_buf_adds(&b, vals.z + aKv[i].iVal);
    }
    inv_buf_addc(&b, '}');
    if (b.bOom || vals.bOom) rc = SQLITE_NOMEM;
  }
  if (rc == SQLITE_NOMEM) sqlite3_result_error_nomem(ctx);
  else if (rc != SQLITE_OK) sqlite3_result_error(ctx, zMsg, -1);
  else sqlite3_result_text(ctx, b.z, (int)b.n, SQLITE_TRANSIENT);
  for (i = 0; m && i < m->n; i++) inv_free(m->a[i].z);
  if (m) { inv_free(m->a); m->a = NULL; m->n = 0; }
  inv_free(aKv);
  inv_buf_free(&vals);
  inv_buf_free(&b);
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
  for (i = 0; i + 1 < argc; i += 2) {
    if (sqlite3_value_type(argv[i + 1]) == SQLITE_NULL) continue;
    if (bAny++) inv_buf_addc(&b, ',');
    inv_json_write_str(&b, (const char*)sqlite3_value_text(argv[i]), (size_t)sqlite3_value_bytes(argv[i]));
    inv_buf_addc(&b, ':');
    inv_buf_add(&b, (const char*)sqlite3_value_text(argv[i + 1]), (size_t)sqlite3_value_bytes(argv[i + 1]));
  }
  inv_buf_addc(&b, '}');
  if (b.bOom) sqlite3_result_error_nomem(ctx);
  else sqlite3_result_text(ctx, b.z, (int)b.n, SQLITE_TRANSIENT);
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
** sorted by their JSON text (the reference leaves the order unspecified). */
typedef struct SetCtx SetCtx;
struct SetCtx { char **az; int n, nAlloc; size_t nBytes; };
static void fnSetStep(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  SetCtx *m = sqlite3_aggregate_context(ctx, sizeof *m);
  const char *z;
  int i;
  (void)argc;
  if (!m) { sqlite3_result_error_nomem(ctx); return; }
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  z = (const char*)sqlite3_value_text(argv[0]);
  if (!z) return;
  for (i = 0; i < m->n; i++) if (strcmp(m->az[i], z) == 0) return;
  if (m->n >= 100000 || m->nBytes > 16 * 1024 * 1024) {
    sqlite3_result_error(ctx, "add_to_set holds too many values", -1);
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
    size_t n = strlen(z);
    char *zCopy = inv_malloc(n + 1);
    if (!zCopy) { sqlite3_result_error_nomem(ctx); return; }
    memcpy(zCopy, z, n + 1);
    m->az[m->n++] = zCopy;
    m->nBytes += n;
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
    m->az = NULL;
    m->n = 0;
  }
  inv_buf_addc(&b, ']');
  if (b.bOom) sqlite3_result_error_nomem(ctx);
  else sqlite3_result_text(ctx, b.z, (int)b.n, SQLITE_TRANSIENT);
  inv_buf_free(&b);
}

int inv_stat_register(sqlite3 *db) {
  int f = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, rc;
  rc = sqlite3_create_function_v2(db, "inv_date_format", 2, f, NULL, fnDateFormat, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_divide", 2, f, NULL, fnDivide, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_number", 1, f, NULL, fnNumber, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_array_size", 1, f, NULL, fnArraySize, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_merge_objects", 2, f, NULL, NULL,
                                                       fnPushStep, fnMergeFinal, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_add_to_set", 1, f, NULL, NULL,
                                                       fnSetStep, fnSetFinal, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "inv_push", 2, f, NULL, NULL,
                                                       fnPushStep, fnPushFinal, NULL);
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
