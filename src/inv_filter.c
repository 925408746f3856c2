/*
** inv_filter.c: the filter compiler.
**
** A Query's filter / filter_or / keyword become one parameterised SQL
** expression over "t", the resource's table. Keys are resolved against the
** resource's field table (inv_keys.c) and never pasted: only our own column
** names and generated aliases appear in the SQL text; every user value (and
** every path built from a user key) is bound. How each test is spelt is the
** dialect's (inv_backend.h); what is tested is decided here.
**
** Semantics follow the reference's MongoDB behaviour (reference/query.md
** section 3) with the fixes listed in DESIGN.md:
**   - an array path matches when any element matches; negative operators
**     (not, not_in, not_contain, not_contain_in, exists false) are the
**     negation of their positive form, so they match when no element does;
**   - comparisons are type-bracketed (strings with strings, numbers with
**     numbers, datetimes with datetimes);
**   - contain/regex ignore case; keyword is a contain_in added to filter_or.
*/
#include <string.h>
#include <stdio.h>
#include <ctype.h>
#include "inv_int.h"

/* An `in` list of at most this many strings binds each (below: one JSON list). */
#define SMALL_IN 8

/* ===================== operators ===================== */

enum {
  OP_LT, OP_LTE, OP_GT, OP_GTE, OP_EQ, OP_NOT, OP_EXISTS, OP_CONTAIN,
  OP_NOT_CONTAIN, OP_IN, OP_NOT_IN, OP_CONTAIN_IN, OP_NOT_CONTAIN_IN,
  OP_MATCH, OP_REGEX, OP_REGEX_IN, OP_DT_GT, OP_DT_LT, OP_DT_GTE, OP_DT_LTE,
  OP_TD_GT, OP_TD_LT, OP_TD_GTE, OP_TD_LTE, N_OP
};
static const char *const azOp[N_OP] = {
  "lt", "lte", "gt", "gte", "eq", "not", "exists", "contain", "not_contain",
  "in", "not_in", "contain_in", "not_contain_in", "match", "regex",
  "regex_in", "datetime_gt", "datetime_lt", "datetime_gte", "datetime_lte",
  "timediff_gt", "timediff_lt", "timediff_gte", "timediff_lte"
};
#define OP_IS_LIST(op) ((op) == OP_IN || (op) == OP_NOT_IN || (op) == OP_CONTAIN_IN \
                        || (op) == OP_NOT_CONTAIN_IN || (op) == OP_REGEX_IN)

static int findOp(const inv_val *v) {
  int i;
  if (!v || v->t != INV_STR) return -1;
  for (i = 0; i < N_OP; i++) if (strcmp(azOp[i], v->u.s.z) == 0) return i;
  return -1;
}

/* The positive atoms every operator reduces to. */
enum { A_FALSE, A_TRUE, A_EQ, A_LT, A_LTE, A_GT, A_GTE, A_LIKE, A_REGEX,
       A_EXISTS, A_IN, A_MATCH, A_INSTR, A_PREFIX, A_SUFFIX };

/* A predicate: atom + value(s). */
typedef struct Pred Pred;
struct Pred {
  int atom;
  const inv_val *v;          /* A_EQ..A_GTE: scalar (NULL means SQL NULL); */
  int bCase;                 /* A_REGEX/A_LIKE/A_PREFIX/A_SUFFIX: case-sensitive */
  const char *zPat;          /* A_LIKE/A_REGEX/A_INSTR/A_PREFIX/A_SUFFIX: text */
  size_t nPat;
  const inv_val *pList;      /* A_IN: the (coerced) values, an INV_ARR */
  const inv_val *pMatch;     /* A_MATCH: the sub-condition object */
};

static const inv_val nullVal = { INV_NULL, 0, { 0 } };

/* ===================== emitting a predicate ===================== */

/* "NOT coalesce(x, false)": a negation that also holds where x is null */
static void notClose(inv_q *q) {
  inv_buf_adds(q->b, ", ");
  inv_buf_adds(q->b, q->d->zFalse);
  inv_buf_addc(q->b, ')');
}

static int emitPred(inv_q *q, const inv_acc *a, const Pred *p);
static int compileMatch(inv_q *q, const char *zAlias, int bErrs, const inv_val *pSub);

/* The JSON class of a filter value (the type guard of a comparison). */
static int jsonClass(const inv_val *v) {
  switch (v->t) {
    case INV_STR: return INV_JT_STRING;
    case INV_INT: case INV_REAL: return INV_JT_NUMBER;
    case INV_BOOL: return v->u.b ? INV_JT_TRUE : INV_JT_FALSE;
    case INV_ARR: return INV_JT_ARRAY;
    default: return INV_JT_OBJECT;
  }
}

static const char *cmpOp(int atom) {
  switch (atom) {
    case A_LT: return " < "; case A_LTE: return " <= ";
    case A_GT: return " > "; case A_GTE: return " >= ";
    default: return " = ";
  }
}

/* The LIKE pattern of z: '%', '_' and '\' escaped with '\'. */
static const char *likePattern(inv_q *q, const char *z, size_t n, int bPre, int bPost,
                               size_t *pn) {
  char *p = inv_arena_alloc(&q->s->arena, n * 2 + 3);
  size_t i, k = 0;
  if (!p) return NULL;
  if (bPre) p[k++] = '%';
  for (i = 0; i < n; i++) {
    if (z[i] == '%' || z[i] == '_' || z[i] == '\\') p[k++] = '\\';
    p[k++] = z[i];
  }
  if (bPost) p[k++] = '%';
  p[k] = 0;
  *pn = k;
  return p;
}

static int emitLike(inv_q *q, const inv_acc *a, const char *z, size_t n, int bPre, int bPost) {
  size_t nPat;
  const char *zPat = likePattern(q, z, n, bPre, bPost, &nPat);
  if (!zPat) return inv_err_nomem(q->s);
  return q->d->xLike(q, a, zPat, nPat, bPre, bPost);
}

/* (the value is a string AND it is LIKE z): $elemMatch's iexact, ... */
static int emitTextLike(inv_q *q, const inv_acc *a, const char *z, size_t n, int bPre, int bPost) {
  inv_buf_addc(q->b, '(');
  if (q->d->xJsonTypeIs(q, a, INV_JT_STRING)) return INV_ERROR;
  inv_buf_adds(q->b, " AND ");
  if (emitLike(q, a, z, n, bPre, bPost)) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

/* Predicate on a value inside a document (a path or an array element),
** without the leaf-array expansion. Each one is a subexpression the engine
** compares with the others when it compiles the statement: a query may hold
** INV_MAX_DYN. */
static int emitDynOne(inv_q *q, const inv_acc *a, const Pred *p) {
  inv_buf *b = q->b;
  const inv_dialect *d = q->d;
  if (++q->nDyn > INV_MAX_DYN) {
    return inv_err_invalid(q->s, "query", "A query may test values inside objects and arrays at most "
                           "2000 times (each element of an in/not_in list counts).");
  }
  switch (p->atom) {
    case A_EQ: case A_LT: case A_LTE: case A_GT: case A_GTE: {
      const inv_val *v = p->v ? p->v : &nullVal;
      if (v->t == INV_NULL) {
        if (p->atom == A_LT || p->atom == A_GT) { inv_buf_adds(b, d->zFalse); return INV_OK; }
        return d->xIsNull(q, a);
      }
      if (v->t == INV_BOOL) {
        if (p->atom != A_EQ) { inv_buf_adds(b, d->zFalse); return INV_OK; }
        return d->xJsonTypeIs(q, a, jsonClass(v));
      }
      if (v->t == INV_ARR || v->t == INV_OBJ) {
        const char *z;
        if (p->atom != A_EQ) { inv_buf_adds(b, d->zFalse); return INV_OK; }
        if (v->bEmpty) return d->xJsonEmpty(q, a);   /* {} from Lua: an empty object or array */
        z = inv_json_text(q->s, v);
        if (!z) return inv_err_nomem(q->s);
        inv_buf_addc(b, '(');
        if (d->xJsonTypeIs(q, a, jsonClass(v))) return INV_ERROR;
        inv_buf_adds(b, " AND ");
        if (d->xJsonEquals(q, a, z, strlen(z))) return INV_ERROR;
        inv_buf_addc(b, ')');
        return INV_OK;
      }
      inv_buf_addc(b, '(');
      if (!(a->bStr && v->t == INV_STR)) {
        if (a->bStr) { inv_buf_adds(b, d->zFalse); inv_buf_addc(b, ')'); return INV_OK; }
        if (d->xJsonTypeIs(q, a, jsonClass(v))) return INV_ERROR;
        inv_buf_adds(b, " AND ");
      }
      if ((v->t == INV_STR ? d->xValueText : d->xValueNumber)(q, a)) return INV_ERROR;
      inv_buf_adds(b, cmpOp(p->atom));
      inv_q_bind_val(q, v);
      inv_buf_addc(b, ')');
      return INV_OK;
    }
    case A_LIKE: case A_REGEX: case A_INSTR: case A_PREFIX: case A_SUFFIX: {
      int rc;
      inv_buf_addc(b, '(');
      if (!a->bStr) {
        if (d->xJsonTypeIs(q, a, INV_JT_STRING)) return INV_ERROR;
        inv_buf_adds(b, " AND ");
      }
      if (p->atom == A_LIKE) rc = emitLike(q, a, p->zPat, p->nPat, 1, 1);
      else if (p->atom == A_REGEX) {
        rc = inv_q_count_regex(q);
        if (!rc) rc = d->xRegex(q, a, p->zPat, p->nPat, p->bCase);
      } else if (p->atom == A_INSTR) rc = d->xContains(q, a, p->zPat, p->nPat);
      else if (p->nPat == 0) { inv_buf_adds(b, d->zTrue); rc = INV_OK; }   /* "" starts and ends every string */
      else rc = d->xStartsWith(q, a, p->zPat, p->nPat, p->atom == A_SUFFIX);
      if (rc) return INV_ERROR;
      inv_buf_addc(b, ')');
      return INV_OK;
    }
    case A_EXISTS:
      if (a->eKind == INV_ACC_ELEM && a->nSeg == 0) { inv_buf_adds(b, d->zTrue); return INV_OK; }
      return d->xExists(q, a);
    case A_MATCH: {
      /* $elemMatch: the value must be an array of objects */
      const char *zAlias = inv_q_alias(q);
      inv_acc e;
      if (!zAlias) return inv_err_nomem(q->s);
      memset(&e, 0, sizeof e);
      e.eKind = INV_ACC_ELEM;
      e.zBase = zAlias;
      inv_buf_addc(b, '(');
      if (d->xJsonTypeIs(q, a, INV_JT_ARRAY)) return INV_ERROR;
      inv_buf_adds(b, " AND ");
      if (d->xEachOpen(q, a, zAlias) || d->xJsonTypeIs(q, &e, INV_JT_OBJECT)) return INV_ERROR;
      inv_buf_adds(b, " AND ");
      if (compileMatch(q, zAlias, 0, p->pMatch)) return INV_ERROR;
      inv_buf_adds(b, "))");
      return INV_OK;
    }
    case A_TRUE: inv_buf_adds(b, d->zTrue); return INV_OK;
    default: inv_buf_adds(b, d->zFalse); return INV_OK;
  }
}

/* Balanced OR of one predicate per list element (depth log n). */
static int emitOrList(inv_q *q, const inv_acc *a, const Pred *p, size_t i0, size_t n) {
  if (n == 0) { inv_buf_adds(q->b, q->d->zFalse); return INV_OK; }
  if (n == 1) {
    Pred e = *p;
    const inv_val *v = &p->pList->u.arr.a[i0];
    e.pList = NULL;
    if (p->atom == A_IN) { e.atom = A_EQ; e.v = v; }
    else { e.zPat = v->u.s.z; e.nPat = v->u.s.n; }
    return emitPred(q, a, &e);
  }
  inv_buf_addc(q->b, '(');
  if (emitOrList(q, a, p, i0, n / 2)) return INV_ERROR;
  inv_buf_adds(q->b, " OR ");
  if (emitOrList(q, a, p, i0 + n / 2, n - n / 2)) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int emitDyn(inv_q *q, const inv_acc *a, const Pred *p) {
  /* a free-form leaf that is an array matches when the value itself or any
  ** element matches (MongoDB) */
  if (a->bFree && p->atom != A_EXISTS && p->atom != A_MATCH && p->atom != A_FALSE
      && p->atom != A_TRUE && !(p->v && (p->v->t == INV_NULL || p->v->t == INV_ARR))) {
    const char *zAlias = inv_q_alias(q);
    inv_acc e;
    if (!zAlias) return inv_err_nomem(q->s);
    memset(&e, 0, sizeof e);
    e.eKind = INV_ACC_ELEM;
    e.zBase = zAlias;
    inv_buf_addc(q->b, '(');
    if (emitDynOne(q, a, p)) return INV_ERROR;
    inv_buf_adds(q->b, " OR (");
    if (q->d->xJsonTypeIs(q, a, INV_JT_ARRAY)) return INV_ERROR;
    inv_buf_adds(q->b, " AND ");
    if (q->d->xEachOpen(q, a, zAlias) || emitDynOne(q, &e, p)) return INV_ERROR;
    inv_buf_adds(q->b, ")))");
    return INV_OK;
  }
  return emitDynOne(q, a, p);
}

/* Predicate on a typed column. Values were coerced to the column's type. */
static int emitCol(inv_q *q, const inv_acc *a, const Pred *p) {
  inv_buf *b = q->b;
  const inv_dialect *d = q->d;
  const inv_field *f = a->pField;
  const char *zCol = f->zName;
  switch (p->atom) {
    case A_EQ: case A_LT: case A_LTE: case A_GT: case A_GTE: {
      const inv_val *v = p->v ? p->v : &nullVal;
      if (v->t == INV_NULL) {
        if (p->atom == A_LT || p->atom == A_GT || (f->flags & FF_NOTNULL)) inv_buf_adds(b, d->zFalse);
        else inv_buf_printf(b, "t.%s IS NULL", zCol);
        return INV_OK;
      }
      if (f->eType == F_OBJ || f->eType == F_ERRS) {
        const char *z;
        if (p->atom != A_EQ || (v->t != INV_OBJ && v->t != INV_ARR)) { inv_buf_adds(b, d->zFalse); return INV_OK; }
        if (v->bEmpty) return d->xJsonEquals(q, a, f->eType == F_ERRS ? "[]" : "{}", 2);
        z = inv_json_text(q->s, v);
        if (!z) return inv_err_nomem(q->s);
        if (f->eType == F_ERRS && v->t == INV_OBJ) {
          /* an object equals an array when an element equals it */
          const char *zAlias = inv_q_alias(q);
          inv_acc e;
          if (!zAlias) return inv_err_nomem(q->s);
          memset(&e, 0, sizeof e);
          e.eKind = INV_ACC_ELEM;
          e.zBase = zAlias;
          if (d->xEachOpen(q, a, zAlias) || d->xJsonEquals(q, &e, z, strlen(z))) return INV_ERROR;
          inv_buf_addc(b, ')');
          return INV_OK;
        }
        if ((f->eType == F_OBJ) != (v->t == INV_OBJ)) { inv_buf_adds(b, d->zFalse); return INV_OK; }
        return d->xJsonEquals(q, a, z, strlen(z));
      }
      if (f->eType == F_STR ? v->t != INV_STR : (v->t != INV_INT && v->t != INV_REAL)) {
        inv_buf_adds(b, d->zFalse);    /* type-bracketed: never equal */
        return INV_OK;
      }
      inv_buf_printf(b, "t.%s%s", zCol, cmpOp(p->atom));
      /* a string compared with a text column: the SQL is the same for every
      ** string (a slot of the compiled-request cache) */
      if (v->t == INV_STR) return inv_q_bind_slot(q, v->u.s.z, v->u.s.n);
      return inv_q_bind_val(q, v);
    }
    case A_LIKE:
      if (f->eType != F_STR) { inv_buf_adds(b, d->zFalse); return INV_OK; }
      return emitLike(q, a, p->zPat, p->nPat, 1, 1);
    case A_REGEX:
      if (f->eType != F_STR) { inv_buf_adds(b, d->zFalse); return INV_OK; }
      if (inv_q_count_regex(q)) return INV_ERROR;
      return d->xRegex(q, a, p->zPat, p->nPat, 0);
    case A_EXISTS:
      if (f->flags & (FF_NULLABLE | FF_NOTNULL)) inv_buf_adds(b, d->zTrue);
      else inv_buf_printf(b, "t.%s IS NOT NULL", zCol);
      return INV_OK;
    case A_IN: {
      /* scalar values of the column's type go into one JSON list parameter;
      ** null in the list also matches null/missing */
      const inv_val *l = p->pList;
      size_t i, nOk = 0;
      int bNull = 0, rc = INV_OK;
      inv_buf tmp;
      char *z;
      if (f->eType == F_STR && l->u.arr.n <= SMALL_IN) {
        /* a few strings (a workspace caller's (ws, '*')): each its own
        ** parameter, as a hand-written IN list has them; SQLite walked a
        ** table-valued json_each() list for every row (list_ws 1.27) */
        for (i = 0; i < l->u.arr.n && l->u.arr.a[i].t == INV_STR; i++) {}
        if (i == l->u.arr.n && i > 0) {
          inv_buf_printf(b, "t.%s IN (", zCol);
          for (i = 0; i < l->u.arr.n && rc == INV_OK; i++) {
            if (i) inv_buf_adds(b, ", ");
            rc = inv_q_bind_text(q, l->u.arr.a[i].u.s.z, l->u.arr.a[i].u.s.n);
          }
          inv_buf_addc(b, ')');
          return rc;
        }
      }
      inv_buf_init(&tmp);
      inv_buf_addc(&tmp, '[');
      for (i = 0; i < l->u.arr.n; i++) {
        const inv_val *v = &l->u.arr.a[i];
        if (v->t == INV_NULL) { bNull = 1; continue; }
        if (f->eType == F_STR ? v->t != INV_STR : (v->t != INV_INT && v->t != INV_REAL)) continue;
        if (nOk++) inv_buf_addc(&tmp, ',');
        inv_json_write(&tmp, v);
      }
      inv_buf_addc(&tmp, ']');
      z = tmp.bOom ? NULL : inv_arena_strdup(&q->s->arena, tmp.z, tmp.n);
      inv_buf_free(&tmp);
      if (!z) return inv_err_nomem(q->s);
      bNull = bNull && !(f->flags & FF_NOTNULL);
      if (!bNull && nOk == 0) { inv_buf_adds(b, d->zFalse); return INV_OK; }
      if (bNull) inv_buf_printf(b, "(t.%s IS NULL OR ", zCol);
      if (nOk) rc = d->xColumnIn(q, f, z, strlen(z));
      else inv_buf_adds(b, d->zFalse);
      if (bNull) inv_buf_addc(b, ')');
      return rc;
    }
    case A_MATCH:
      if (f->eType != F_ERRS) { inv_buf_adds(b, d->zFalse); return INV_OK; }
      {
        const char *zAlias = inv_q_alias(q);
        if (!zAlias) return inv_err_nomem(q->s);
        if (d->xEachOpen(q, a, zAlias) || compileMatch(q, zAlias, 1, p->pMatch)) return INV_ERROR;
        inv_buf_addc(b, ')');
      }
      return INV_OK;
    case A_TRUE: inv_buf_adds(b, d->zTrue); return INV_OK;
    default: inv_buf_adds(b, d->zFalse); return INV_OK;
  }
}

/* contain ignores case. LIKE folds ASCII letters only, so a needle with
** other characters becomes a caseless UTF-8 regex of the escaped literal
** (the regex engine folds Unicode, as the reference's MongoDB regex does). */
static int likeNeedsRegex(const Pred *p) {
  size_t i;
  if (p->atom != A_LIKE || p->pList) return 0;
  for (i = 0; i < p->nPat; i++) if ((unsigned char)p->zPat[i] >= 0x80) return 1;
  return 0;
}

static int emitLikeAsRegex(inv_q *q, const inv_acc *a, const Pred *p) {
  Pred r = *p;
  char *z = inv_arena_alloc(&q->s->arena, p->nPat * 2 + 1);
  size_t i, k = 0;
  if (!z) return inv_err_nomem(q->s);
  for (i = 0; i < p->nPat; i++) {
    unsigned char c = (unsigned char)p->zPat[i];
    /* a backslash before any ASCII non-alphanumeric makes it literal */
    if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      z[k++] = '\\';
    }
    z[k++] = (char)c;
  }
  z[k] = 0;
  r.atom = A_REGEX;
  r.bCase = 0;
  r.zPat = z;
  r.nPat = k;
  return emitPred(q, a, &r);
}

static int emitPred(inv_q *q, const inv_acc *a, const Pred *p) {
  if (likeNeedsRegex(p)) return emitLikeAsRegex(q, a, p);
  if (p->atom == A_IN && !(a->eKind == INV_ACC_COL && a->pField->eType != F_OBJ
                           && a->pField->eType != F_ERRS)) {
    return emitOrList(q, a, p, 0, p->pList->u.arr.n);
  }
  if ((p->atom == A_LIKE || p->atom == A_REGEX) && p->pList) {
    return emitOrList(q, a, p, 0, p->pList->u.arr.n);
  }
  return a->eKind == INV_ACC_COL ? emitCol(q, a, p) : emitDyn(q, a, p);
}

/* ===================== paths ===================== */

/* Does p match a null or missing value? (MongoDB: {k: null}, $lte/$gte null,
** $in holding null.) */
static int predMatchesNull(const Pred *p) {
  size_t i;
  switch (p->atom) {
    case A_EQ: case A_LTE: case A_GTE:
      return !p->v || p->v->t == INV_NULL;
    case A_IN:
      for (i = 0; i < p->pList->u.arr.n; i++) {
        if (p->pList->u.arr.a[i].t == INV_NULL) return 1;
      }
      return 0;
    default:
      return 0;
  }
}

/* The accessor of a resolved key's field column. */
static void colAcc(inv_acc *a, const inv_key *k) {
  memset(a, 0, sizeof *a);
  a->eKind = INV_ACC_COL;
  a->pField = k->pField;
}

/* The accessor of a key's path below its field's column "t.<field>". */
static int pathAcc(inv_q *q, inv_acc *a, const inv_key *k) {
  char z[64];
  colAcc(a, k);
  snprintf(z, sizeof z, "t.%s", k->pField->zName);
  a->eKind = INV_ACC_PATH;
  a->zBase = inv_arena_strdup(&q->s->arena, z, strlen(z));
  a->azSeg = k->azSeg + 1;
  a->anSeg = k->anSeg + 1;
  a->nSeg = k->nSeg - 1;
  return a->zBase ? INV_OK : inv_err_nomem(q->s);
}

/* Build the accessor(s) for a resolved key and emit the predicate,
** wrapping array levels in an iteration. */
static int emitPath(inv_q *q, const inv_key *pa, const Pred *p) {
  const inv_field *f = pa->pField;
  inv_acc a;
  colAcc(&a, pa);
  if (pa->nSeg == 1) return emitPred(q, &a, p);
  if (f->eType == F_OBJ) {
    if (pathAcc(q, &a, pa)) return INV_ERROR;
    a.bFree = 1;
    return emitPred(q, &a, p);
  }
  /* F_ERRS: errors.N.x is one element; errors.x any element */
  {
    int bIdx = inv_key_is_index(pa->azSeg[1], pa->anSeg[1]);
    int iLast = bIdx ? 2 : 1;
    const char *zAlias;
    int bHas;
    inv_acc col = a;
    /* error_code / message are strings; additional.* is free-form */
    a.bStr = pa->nSeg == iLast + 1 && pa->azSeg[iLast][0] != 'a';
    a.bFree = !a.bStr && pa->nSeg > iLast + 1;
    if (bIdx) {
      int bStr = a.bStr, bFree = a.bFree;
      if (pathAcc(q, &a, pa)) return INV_ERROR;
      a.bIndex0 = 1;
      a.bStr = bStr; a.bFree = bFree;
      return emitPred(q, &a, p);
    }
    zAlias = inv_q_alias(q);
    if (!zAlias) return inv_err_nomem(q->s);
    a.eKind = INV_ACC_ELEM;
    a.zBase = zAlias;
    a.azSeg = pa->azSeg + 1;
    a.anSeg = pa->anSeg + 1;
    a.nSeg = pa->nSeg - 1;
    /* A predicate that matches null (eq/lte/gte null, in [.., null]) also
    ** matches when the path is missing: an empty or absent array. */
    if (predMatchesNull(p)) {
      inv_buf_addc(q->b, '(');
      if (q->d->xArrayEmpty(q, &col)) return INV_ERROR;
      inv_buf_adds(q->b, " OR ");
    }
    /* an equality with a string: the engine may test the stored text for
    ** it first (xDocHas), when the JSON writer keeps its bytes as they are
    ** (U+FFFF excepted: PostgreSQL reads a stored \u0000 as it) */
    bHas = 0;
    if (!predMatchesNull(p) && p->atom == A_EQ && p->v && p->v->t == INV_STR && col.eKind == INV_ACC_COL
        && q->d->iVersion >= 3 && q->d->xDocHas) {
      size_t k, n = p->v->u.s.n;
      const unsigned char *z = (const unsigned char *)p->v->u.s.z;
      bHas = 1;
      for (k = 0; k < n && bHas; k++) {
        if (z[k] < 0x20 || z[k] == '"' || z[k] == '\\') bHas = 0;
        else if (z[k] == 0xEF && k + 2 < n && z[k + 1] == 0xBF && z[k + 2] == 0xBF) bHas = 0;
      }
      if (bHas) {
        inv_buf_addc(q->b, '(');
        if (q->d->xDocHas(q, &col, p->v->u.s.z, n)) return INV_ERROR;
        inv_buf_adds(q->b, " AND ");
      }
    }
    if (q->d->xEachOpen(q, &col, zAlias) || emitPred(q, &a, p)) return INV_ERROR;
    inv_buf_addc(q->b, ')');
    if (bHas) inv_buf_addc(q->b, ')');
    if (predMatchesNull(p)) inv_buf_addc(q->b, ')');
    return INV_OK;
  }
}

/* The ORDER BY term(s) of a sort key, direction included (bound parameters
** into q). */
int inv_sort_expr(inv_q *q, const char *z, size_t n, int bDesc) {
  inv_key pa;
  const inv_field *f;
  inv_acc a;
  if (inv_key_resolve(q->s, q->r, z, n, 0, &pa)) return INV_ERROR;
  f = pa.pField;
  if (pa.nSeg == 1) {
    memset(&a, 0, sizeof a);
    a.eKind = INV_ACC_COL;
    a.pField = f;
    return q->d->xSortPath(q, &a, bDesc, 0);
  }
  if (pathAcc(q, &a, &pa)) return INV_ERROR;
  a.bIndex0 = f->eType == F_ERRS && inv_key_is_index(pa.azSeg[1], pa.anSeg[1]);
  /* an array path (errors.x) sorts by its minimum (ascending) or maximum
  ** (descending) element; errors.N.x and free-form paths by the value */
  return q->d->xSortPath(q, &a, bDesc, f->eType == F_ERRS && !a.bIndex0);
}

/* ===================== values ===================== */

/* Python int() of a string: optional whitespace, sign, digits (single '_'
** between digits allowed). */
static int pyInt(const char *z, size_t n, inv_val *pOut) {
  size_t i = 0, j;
  int neg = 0, nd = 0;
  double d = 0;
  uint64_t u = 0;
  int bBig = 0;
  while (i < n && isspace((unsigned char)z[i])) i++;
  while (n > i && isspace((unsigned char)z[n - 1])) n--;
  if (i < n && (z[i] == '+' || z[i] == '-')) neg = z[i++] == '-';
  for (j = i; j < n; j++) {
    if (z[j] == '_' && j > i && j + 1 < n && isdigit((unsigned char)z[j + 1])
        && isdigit((unsigned char)z[j - 1])) continue;
    if (!isdigit((unsigned char)z[j])) return -1;
    nd++;
    d = d * 10 + (z[j] - '0');
    if (u > (UINT64_MAX - 9) / 10) bBig = 1;
    u = u * 10 + (uint64_t)(z[j] - '0');
  }
  if (nd == 0) return -1;
  if (bBig || u > (uint64_t)INT64_MAX) { pOut->t = INV_REAL; pOut->u.r = neg ? -d : d; }
  else { pOut->t = INV_INT; pOut->u.i = neg ? -(int64_t)u : (int64_t)u; }
  return 0;
}

/* An example of the datetimes messages ask for. */
#define DATETIME_EXAMPLE "an ISO 8601 datetime such as 2024-01-31T12:00:00Z"

static int datetimeError(inv_q *q, const inv_field *f, const inv_val *v) {
  return inv_err(q->s, "ERROR_INVALID_PARAMETER",
                 "Parameter is invalid. (key = %s, reason = %s is not " DATETIME_EXAMPLE ".)",
                 f->zName, inv_msg_value(q->s, v, INV_MSG_VALUE));
}

/* Coerce a scalar to the column's type: ints (Python int() rules, numbers as
** given), datetimes (lenient ISO 8601 -> ms). Strings and JSON: as is.
** Writes into *pOut (may alias nothing). zWhere: the filter, for messages. */
static int coerce(inv_q *q, const inv_field *f, const inv_val *v, inv_val *pOut,
                  const char *zWhere) {
  *pOut = *v;
  if (v->t == INV_NULL || !f) return INV_OK;
  if (f->eType == F_INT) {
    switch (v->t) {
      case INV_INT: case INV_REAL: return INV_OK;
      case INV_BOOL: pOut->t = INV_INT; pOut->u.i = v->u.b; return INV_OK;
      case INV_STR:
        if (pyInt(v->u.s.z, v->u.s.n, pOut) == 0) return INV_OK;
        /* fall through */
      default:
        return inv_err_query(q->s, zWhere, "%s holds integers, and %s is not an integer.",
                             f->zName, inv_msg_value(q->s, v, INV_MSG_VALUE));
    }
  }
  if (f->eType == F_TIME) {
    int64_t ms;
    if (v->t == INV_STR && inv_time_parse_lenient(v->u.s.z, v->u.s.n, &ms) == 0) {
      pOut->t = INV_INT; pOut->u.i = ms;
      return INV_OK;
    }
    return datetimeError(q, f, v);
  }
  return INV_OK;
}

static int coerceList(inv_q *q, const inv_field *f, const inv_val *l, inv_val *pOut,
                      const char *zWhere) {
  size_t i, n = l->u.arr.n;
  inv_val *a;
  pOut->t = INV_ARR; pOut->bEmpty = 0;
  pOut->u.arr.n = n;
  if (n == 0) { pOut->u.arr.a = NULL; return INV_OK; }
  a = inv_arena_alloc(&q->s->arena, sizeof(inv_val) * n);
  if (!a) return inv_err_nomem(q->s);
  for (i = 0; i < n; i++) {
    if (coerce(q, f, &l->u.arr.a[i], &a[i], zWhere)) return INV_ERROR;
  }
  pOut->u.arr.a = a;
  return INV_OK;
}

/* ===================== conditions ===================== */

static const inv_val *condGet(const inv_val *c, const char *zLong, const char *zShort) {
  const inv_val *v = inv_val_get(c, zLong);
  return v ? v : inv_val_get(c, zShort);
}

/* The operators, as messages list them. */
static const char zOpNames[] =
  "lt, lte, gt, gte, eq, not, exists, contain, not_contain, in, not_in, contain_in, "
  "not_contain_in, match, regex, regex_in, datetime_gt, datetime_lt, datetime_gte, "
  "datetime_lte, timediff_gt, timediff_lt, timediff_gte, timediff_lte";

/* SQLite refuses LIKE patterns over 50,000 bytes; ours escape to twice the
** value at most. */
#define INV_MAX_LIKE 24000
static int likeTooLong(inv_q *q, const char *zWhere, size_t n) {
  char zR[96];
  snprintf(zR, sizeof zR, "a contain value may hold at most 24000 bytes; this one has %zu.", n);
  return inv_err_invalid(q->s, zWhere, zR);
}

/* A text operator (contain, regex, a match's icontains, ...) given
** something else than a string. zKey: the filter it is in, or NULL for a
** match's key (user text: the reason starts with our words, never with it). */
static int strValueError(inv_q *q, const char *zKey, const char *zOp, const inv_val *v) {
  size_t n = strlen(zOp);
  int bList = n > 3 && memcmp(zOp + n - 3, "_in", 3) == 0;
  return inv_err_query(q->s, zKey, "%s%s takes %s, not %s.", zKey ? "" : "in a match, ", zOp,
                       bList ? "strings" : "a string", inv_msg_value(q->s, v, INV_MSG_VALUE));
}

/* A pattern the engine refused: the engine's reason, framed. */
static int regexError(inv_q *q, const char *zKey, const char *zOp, const char *z, size_t n,
                      const char *zErr) {
  return inv_err_query(q->s, zKey, "the regular expression \"%s\" of %s is invalid: %s.",
                       inv_msg_text(q->s, z, n, INV_MSG_VALUE), zOp, zErr);
}

/* Absent, null or "": a condition without it. */
static int isMissing(const inv_val *v) {
  return !v || v->t == INV_NULL || (v->t == INV_STR && v->u.s.n == 0);
}

static int compileCond(inv_q *q, const inv_val *c, const char *zWhere) {
  const inv_val *pOp, *pKey, *pV;
  int op, bNeg = 0, rc;
  inv_key pa;
  Pred p;
  inv_val cv;
  const char *zKey;
  size_t nKey;
  if (!inv_val_is_obj(c)) {
    return inv_err_type_of(q->s, zWhere, "list of condition objects", c);
  }
  {
    size_t i;
    for (i = 0; i < c->u.obj.n; i++) {
      const char *z = c->u.obj.a[i].zKey;
      if (strcmp(z, "k") && strcmp(z, "key") && strcmp(z, "v") && strcmp(z, "value")
          && strcmp(z, "o") && strcmp(z, "operator")) {
        static const char *const azCond[] = { "k", "v", "o", "key", "value", "operator", NULL };
        char zK[128];
        snprintf(zK, sizeof zK, "%s.%s", zWhere, inv_msg_text(q->s, z, strlen(z), 60));
        return inv_err_unknown_key(q->s, zK, azCond);
      }
    }
  }
  /* 1. operator */
  pOp = condGet(c, "operator", "o");
  op = findOp(pOp);
  if (op < 0) {
    if (isMissing(pOp)) {
      return inv_err_query(q->s, zWhere, "the condition %s has no operator; give \"o\" as one of %s.",
                           inv_msg_value(q->s, c, 200), zOpNames);
    }
    return inv_err_query(q->s, zWhere, "filter operator %s is not supported; use one of %s.",
                         inv_msg_value(q->s, pOp, 60), zOpNames);
  }
  /* 2. list shape */
  pV = condGet(c, "value", "v");
  if (!pV) pV = &nullVal;
  if (OP_IS_LIST(op)) {
    if (!inv_val_is_arr(pV)) {
      return inv_err(q->s, "ERROR_OPERATOR_LIST_VALUE_TYPE",
                     "The value of the %s operator must be a list. (key = %s, condition = %s)",
                     azOp[op], zWhere, inv_msg_value(q->s, c, 200));
    }
    if (pV->u.arr.n > INV_MAX_LIST && op != OP_IN && op != OP_NOT_IN) {
      char zR[96];
      snprintf(zR, sizeof zR, "a %s list may hold at most 1000 values; this one has %zu.",
               azOp[op], pV->u.arr.n);
      return inv_err_invalid(q->s, zWhere, zR);
    }
    if (inv_q_count_list(q, pV->u.arr.n, op != OP_IN && op != OP_NOT_IN)) return INV_ERROR;
  } else if (pV->t == INV_ARR && !pV->bEmpty) {
    /* an empty table from Lua ({}, bEmpty) is usable as [] or {}: only the
    ** list operators take it as a list */
    static const char *const azListOf[][2] = {
      { "eq", "; use in for a list" }, { "not", "; use not_in for a list" },
      { "contain", "; use contain_in for a list" },
      { "not_contain", "; use not_contain_in for a list" }, { "regex", "; use regex_in for a list" }
    };
    const char *zHint = "";
    size_t i;
    for (i = 0; i < sizeof azListOf / sizeof azListOf[0]; i++) {
      if (strcmp(azListOf[i][0], azOp[op]) == 0) zHint = azListOf[i][1];
    }
    return inv_err(q->s, "ERROR_OPERATOR_VALUE_TYPE",
                   "The value of the %s operator must not be a list%s. (key = %s, condition = %s)",
                   azOp[op], zHint, zWhere, inv_msg_value(q->s, c, 200));
  }
  /* 3. key */
  pKey = condGet(c, "key", "k");
  if (isMissing(pKey)) {
    return inv_err_query(q->s, zWhere, "the condition %s has no key; give \"k\", the field to test.",
                         inv_msg_value(q->s, c, 200));
  }
  if (pKey->t != INV_STR) {
    return inv_err_query(q->s, zWhere, "the key %s is not a field name; give \"k\" as a string "
                         "such as \"status\".", inv_msg_value(q->s, pKey, INV_MSG_VALUE));
  }
  zKey = pKey->u.s.z;
  nKey = pKey->u.s.n;
  /* 4./5. resolve the key: an unknown key is an error whatever the operator
  ** (the reference's regex matched nothing on one: DESIGN fixes it) */
  rc = inv_key_resolve(q->s, q->r, zKey, nKey, 0, &pa);
  if (rc) return rc;
  /* 6. per-operator checks and the reduction to a positive predicate */
  memset(&p, 0, sizeof p);
  switch (op) {
    case OP_EXISTS:
      if (pV->t != INV_BOOL) {
        return inv_err(q->s, "ERROR_OPERATOR_BOOLEAN_TYPE",
                       "The value of the exists operator must be true or false. (key = %s, "
                       "condition = %s)", zWhere, inv_msg_value(q->s, c, 200));
      }
      p.atom = A_EXISTS;
      bNeg = !pV->u.b;
      break;
    case OP_MATCH:
      if (!inv_val_is_obj(pV)) {
        return inv_err(q->s, "ERROR_OPERATOR_DICT_VALUE_TYPE",
                       "The value of the match operator must be an object. (key = %s, "
                       "condition = %s)", zWhere, inv_msg_value(q->s, c, 200));
      }
      p.atom = A_MATCH;
      p.pMatch = pV;
      break;
    case OP_REGEX: case OP_REGEX_IN: {
      size_t i, n = op == OP_REGEX ? 1 : pV->u.arr.n;
      for (i = 0; i < n; i++) {
        const inv_val *e = op == OP_REGEX ? pV : &pV->u.arr.a[i];
        char zErr[256];
        if (e->t != INV_STR) return strValueError(q, zWhere, azOp[op], e);
        if (q->d->xRegexCheck(e->u.s.z, e->u.s.n, zErr, sizeof zErr)) {
          return regexError(q, zWhere, azOp[op], e->u.s.z, e->u.s.n, zErr);
        }
      }
      p.atom = A_REGEX;
      if (op == OP_REGEX) { p.zPat = pV->u.s.z; p.nPat = pV->u.s.n; }
      else p.pList = pV;
      if (pa.iField < 0) p.atom = A_FALSE;
      break;
    }
    case OP_DT_GT: case OP_DT_LT: case OP_DT_GTE: case OP_DT_LTE:
    case OP_TD_GT: case OP_TD_LT: case OP_TD_GTE: case OP_TD_LTE: {
      int64_t ms;
      int bTd = op >= OP_TD_GT;
      int k = bTd ? op - OP_TD_GT : op - OP_DT_GT;
      static const int aAtom[4] = { A_GT, A_LT, A_GTE, A_LTE };
      if (bTd) {
        q->bNoCache = 1;               /* relative to now: not kept */
        if (pV->t != INV_STR || inv_timediff_eval(pV->u.s.z, pV->u.s.n, q->now, &ms)) {
          return inv_err_query(q->s, zWhere, "%s is not a relative time for %s; write now, "
                               "now/d, now/w or now/m, then optionally + or - a number and a "
                               "unit s, m, h, d or w, as in now-2d.",
                               inv_msg_value(q->s, pV, INV_MSG_VALUE), azOp[op]);
        }
      } else if (pV->t != INV_STR || inv_time_parse_strict(pV->u.s.z, pV->u.s.n, &ms)) {
        return inv_err(q->s, "ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = %s, "
                       "reason = %s takes " DATETIME_EXAMPLE ", not %s.)",
                       pa.pField ? pa.pField->zName : "value", azOp[op],
                       inv_msg_value(q->s, pV, INV_MSG_VALUE));
      }
      p.atom = aAtom[k];
      cv.t = INV_INT; cv.bEmpty = 0; cv.u.i = ms;
      p.v = &cv;
      if (pa.nSeg != 1 || pa.pField->eType != F_TIME) p.atom = A_FALSE;
      break;
    }
    case OP_CONTAIN: case OP_NOT_CONTAIN:
    case OP_CONTAIN_IN: case OP_NOT_CONTAIN_IN: {
      int bList = op == OP_CONTAIN_IN || op == OP_NOT_CONTAIN_IN;
      int bTyped = pa.nSeg == 1 && (pa.pField->eType == F_INT || pa.pField->eType == F_TIME);
      bNeg = op == OP_NOT_CONTAIN || op == OP_NOT_CONTAIN_IN;
      if (bTyped) {                    /* reference: contain on ints/dates is equality */
        if (bList) {
          inv_val *pl = inv_arena_alloc(&q->s->arena, sizeof *pl);
          if (!pl || coerceList(q, pa.pField, pV, pl, zWhere)) return pl ? INV_ERROR : inv_err_nomem(q->s);
          p.atom = A_IN; p.pList = pl;
        } else {
          if (coerce(q, pa.pField, pV, &cv, zWhere)) return INV_ERROR;
          p.atom = A_EQ; p.v = &cv;
        }
        break;
      }
      if (bList) {
        size_t i;
        for (i = 0; i < pV->u.arr.n; i++) {
          if (pV->u.arr.a[i].t != INV_STR) return strValueError(q, zWhere, azOp[op], &pV->u.arr.a[i]);
          if (pV->u.arr.a[i].u.s.n > INV_MAX_LIKE) return likeTooLong(q, zWhere, pV->u.arr.a[i].u.s.n);
        }
        p.atom = A_LIKE; p.pList = pV;
        if (pV->u.arr.n == 0) p.atom = A_FALSE;   /* fix: empty list matches nothing */
      } else {
        if (pV->t != INV_STR) return strValueError(q, zWhere, azOp[op], pV);
        if (pV->u.s.n > INV_MAX_LIKE) return likeTooLong(q, zWhere, pV->u.s.n);
        p.atom = A_LIKE; p.zPat = pV->u.s.z; p.nPat = pV->u.s.n;
      }
      if (pa.nSeg == 1 && (pa.pField->eType == F_OBJ || pa.pField->eType == F_ERRS)) {
        p.atom = A_FALSE;
      }
      break;
    }
    case OP_IN: case OP_NOT_IN: {
      inv_val *pl = inv_arena_alloc(&q->s->arena, sizeof *pl);
      if (!pl) return inv_err_nomem(q->s);
      if (coerceList(q, pa.nSeg == 1 ? pa.pField : NULL, pV, pl, zWhere)) return INV_ERROR;
      if ((pa.nSeg != 1 || pa.pField->eType == F_OBJ || pa.pField->eType == F_ERRS)
          && pl->u.arr.n > INV_MAX_LIST) {
        char zR[128];
        snprintf(zR, sizeof zR, "an %s list on a nested key may hold at most 1000 values; this "
                 "one has %zu.", azOp[op], pl->u.arr.n);
        return inv_err_invalid(q->s, zWhere, zR);
      }
      p.atom = A_IN; p.pList = pl;
      bNeg = op == OP_NOT_IN;
      break;
    }
    default: {                         /* eq not lt lte gt gte */
      static const int aAtom[6] = { A_LT, A_LTE, A_GT, A_GTE, A_EQ, A_EQ };
      if (coerce(q, pa.nSeg == 1 ? pa.pField : NULL, pV, &cv, zWhere)) return INV_ERROR;
      p.atom = aAtom[op];
      p.v = &cv;
      bNeg = op == OP_NOT;
      break;
    }
  }
  if (bNeg) inv_buf_adds(q->b, "NOT coalesce(");
  if (pa.iField < 0 || p.atom == A_FALSE) { inv_buf_adds(q->b, q->d->zFalse); rc = INV_OK; }
  else rc = emitPath(q, &pa, &p);
  if (bNeg) notClose(q);
  return rc;
}

/* ===================== $elemMatch sub-conditions ===================== */

static const struct { const char *z; int atom; int bNeg; int bCase; } aSuffix[] = {
  { "ne", A_EQ, 1, 0 }, { "lt", A_LT, 0, 0 }, { "lte", A_LTE, 0, 0 },
  { "gt", A_GT, 0, 0 }, { "gte", A_GTE, 0, 0 }, { "in", A_IN, 0, 0 },
  { "nin", A_IN, 1, 0 }, { "exists", A_EXISTS, 0, 0 },
  { "contains", A_INSTR, 0, 1 }, { "icontains", A_LIKE, 0, 0 },
  { "startswith", A_PREFIX, 0, 1 }, { "istartswith", A_PREFIX, 0, 0 },
  { "endswith", A_SUFFIX, 0, 1 }, { "iendswith", A_SUFFIX, 0, 0 },
  { "exact", A_EQ, 0, 0 }, { "iexact", A_LIKE, 0, 0 },
  { "regex", A_REGEX, 0, 1 }, { "iregex", A_REGEX, 0, 0 },
};

/* The sub-conditions over the current element of iteration zAlias. bErrs:
** the element is an ErrorInfo (keys validated). */
static int compileMatch(inv_q *q, const char *zAlias, int bErrs, const inv_val *pSub) {
  size_t i;
  if (pSub->u.obj.n == 0) { inv_buf_adds(q->b, q->d->zTrue); return INV_OK; }
  inv_buf_addc(q->b, '(');
  for (i = 0; i < pSub->u.obj.n; i++) {
    const inv_kv *kv = &pSub->u.obj.a[i];
    const char *zK = kv->zKey;
    size_t nK = kv->nKey, j, k;
    Pred p;
    inv_acc a;
    int bNeg = 0, iSuf = -1;
    const char **azSeg;
    size_t *anSeg;
    int nSeg = 0;
    if (nK > INV_MAX_KEY) return inv_err_resolve(q->s, zK, nK);
    /* a trailing "__op" suffix */
    for (j = nK; j >= 2; j--) {
      if (zK[j - 1] == '_' && zK[j - 2] == '_') {
        for (k = 0; k < sizeof aSuffix / sizeof aSuffix[0]; k++) {
          if (strlen(aSuffix[k].z) == nK - j && memcmp(aSuffix[k].z, zK + j, nK - j) == 0) {
            iSuf = (int)k;
            nK = j - 2;
            break;
          }
        }
        break;
      }
    }
    if (i) inv_buf_adds(q->b, " AND ");
    /* path: "a.b" or "a__b" (at most nK / 2 + 1 segments) */
    azSeg = inv_arena_alloc(&q->s->arena, sizeof(char*) * (nK / 2 + 1));
    anSeg = inv_arena_alloc(&q->s->arena, sizeof(size_t) * (nK / 2 + 1));
    if (!azSeg || !anSeg) return inv_err_nomem(q->s);
    {
      size_t s0 = 0;
      for (j = 0; j <= nK; j++) {
        int bEnd = j == nK;
        int bSep = !bEnd && (zK[j] == '.' || (zK[j] == '_' && j + 1 < nK && zK[j + 1] == '_'));
        if (bEnd || bSep) {
          size_t n = j - s0;
          if (n == 0 || memchr(zK + s0, '"', n) || memchr(zK + s0, 0, n)) {
            return inv_err_resolve(q->s, zK, kv->nKey);
          }
          if (bErrs && nSeg == 0 && !inv_key_error_member(zK + s0, n, !bEnd)) {
            return inv_err_resolve(q->s, zK + s0, n);
          }
          azSeg[nSeg] = zK + s0;
          anSeg[nSeg] = n;
          nSeg++;
          if (bSep && zK[j] == '_') j++;
          s0 = j + 1;
        }
      }
    }
    memset(&a, 0, sizeof a);
    a.eKind = INV_ACC_ELEM;
    a.zBase = zAlias;
    a.azSeg = azSeg;
    a.anSeg = anSeg;
    a.nSeg = nSeg;
    a.bFree = 1;
    memset(&p, 0, sizeof p);
    if (iSuf < 0) { p.atom = A_EQ; }
    else { p.atom = aSuffix[iSuf].atom; bNeg = aSuffix[iSuf].bNeg; p.bCase = aSuffix[iSuf].bCase; }
    switch (p.atom) {
      case A_IN:
        if (!inv_val_is_arr(&kv->v)) {
          return inv_err(q->s, "ERROR_OPERATOR_LIST_VALUE_TYPE",
                         "The value of %s in a match must be a list. (match = %s)",
                         inv_msg_text(q->s, kv->zKey, kv->nKey, INV_MSG_VALUE),
                         inv_msg_value(q->s, pSub, 200));
        }
        p.pList = &kv->v;
        if (kv->v.u.arr.n > INV_MAX_LIST) {
          char zR[96];
          snprintf(zR, sizeof zR, "a list may hold at most 1000 values; this one has %zu.",
                   kv->v.u.arr.n);
          return inv_err_invalid(q->s, "match", zR);
        }
        if (inv_q_count_list(q, kv->v.u.arr.n, 0)) return INV_ERROR;
        break;
      case A_EXISTS:
        if (kv->v.t != INV_BOOL) {
          return inv_err(q->s, "ERROR_OPERATOR_BOOLEAN_TYPE",
                         "The value of %s in a match must be true or false. (match = %s)",
                         inv_msg_text(q->s, kv->zKey, kv->nKey, INV_MSG_VALUE),
                         inv_msg_value(q->s, pSub, 200));
        }
        bNeg = !kv->v.u.b;
        break;
      case A_LIKE: case A_INSTR: case A_PREFIX: case A_SUFFIX: case A_REGEX:
        if (kv->v.t != INV_STR) {
          return strValueError(q, NULL, inv_msg_text(q->s, kv->zKey, kv->nKey, INV_MSG_VALUE), &kv->v);
        }
        p.zPat = kv->v.u.s.z; p.nPat = kv->v.u.s.n;
        if (p.atom == A_REGEX) {
          char zErr[256];
          if (q->d->xRegexCheck(p.zPat, p.nPat, zErr, sizeof zErr)) {
            return regexError(q, NULL, inv_msg_text(q->s, kv->zKey, kv->nKey, INV_MSG_VALUE),
                              p.zPat, p.nPat, zErr);
          }
        }
        if (iSuf >= 0 && strcmp(aSuffix[iSuf].z, "iexact") == 0) {
          /* case-insensitive equality: LIKE without wildcards */
          if (bNeg) inv_buf_adds(q->b, "NOT coalesce(");
          if (emitTextLike(q, &a, p.zPat, p.nPat, 0, 0)) return INV_ERROR;
          if (bNeg) notClose(q);
          continue;
        }
        if (p.atom == A_PREFIX && !p.bCase) { p.atom = A_LIKE; }
        if (p.atom == A_SUFFIX && !p.bCase) { p.atom = A_LIKE; }
        if (p.atom == A_LIKE && iSuf >= 0 && aSuffix[iSuf].atom != A_LIKE) {
          /* istartswith / iendswith */
          int bPre = aSuffix[iSuf].atom == A_SUFFIX, bPost = aSuffix[iSuf].atom == A_PREFIX;
          if (emitTextLike(q, &a, p.zPat, p.nPat, bPre, bPost)) return INV_ERROR;
          continue;
        }
        break;
      default:
        if (kv->v.t == INV_ARR && p.atom != A_EQ) {
          return inv_err(q->s, "ERROR_OPERATOR_VALUE_TYPE",
                         "The value of %s in a match must not be a list. (match = %s)",
                         inv_msg_text(q->s, kv->zKey, kv->nKey, INV_MSG_VALUE),
                         inv_msg_value(q->s, pSub, 200));
        }
        p.v = &kv->v;
        break;
    }
    if (bNeg) inv_buf_adds(q->b, "NOT coalesce(");
    if (emitPred(q, &a, &p)) return INV_ERROR;
    if (bNeg) notClose(q);
  }
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

/* ===================== where ===================== */

/* Conditions i0..i0+n as a balanced tree of zJoin, so that a long filter
** stays far below SQLite's expression depth limit; compiled in array order. */
static int condRange(inv_q *q, const inv_val *l, size_t i0, size_t n, const char *zWhere,
                     const char *zJoin) {
  if (n == 1) return compileCond(q, &l->u.arr.a[i0], zWhere);
  inv_buf_addc(q->b, '(');
  if (condRange(q, l, i0, n / 2, zWhere, zJoin)) return INV_ERROR;
  inv_buf_adds(q->b, zJoin);
  if (condRange(q, l, i0 + n / 2, n - n / 2, zWhere, zJoin)) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int condList(inv_q *q, const inv_val *l, const char *zWhere, const char *zJoin,
                    int *pn) {
  if (!l || l->t == INV_NULL) return INV_OK;
  if (!inv_val_is_arr(l)) return inv_err_type_of(q->s, zWhere, "list", l);
  if (l->u.arr.n > INV_MAX_CONDS) {
    char zR[96];
    snprintf(zR, sizeof zR, "a filter may hold at most 1000 conditions; this one has %zu.",
             l->u.arr.n);
    return inv_err_invalid(q->s, zWhere, zR);
  }
  if (l->u.arr.n == 0) return INV_OK;
  if ((*pn)++) inv_buf_adds(q->b, zJoin);
  return condRange(q, l, 0, l->u.arr.n, zWhere, zJoin);
}

/* Tokens of a keyword: trimmed, split on ' ', empty tokens dropped. */
static int keywordTokens(inv_q *q, const inv_val *pKw, inv_val *pList) {
  const char *z = pKw->u.s.z;
  size_t n = pKw->u.s.n, i = 0, nTok = 0;
  inv_val *a = inv_arena_alloc(&q->s->arena, sizeof(inv_val) * (n / 2 + 1));
  if (!a) return inv_err_nomem(q->s);
  while (i < n) {
    size_t j = i;
    while (j < n && z[j] != ' ') j++;
    if (j > i) {
      /* trimming: whitespace other than ' ' at either end of the keyword */
      size_t a0 = i, a1 = j;
      if (nTok == 0) while (a0 < a1 && isspace((unsigned char)z[a0])) a0++;
      if (j == n) while (a1 > a0 && isspace((unsigned char)z[a1 - 1])) a1--;
      if (a1 > a0) {
        char *zt = inv_arena_strdup(&q->s->arena, z + a0, a1 - a0);
        if (!zt) return inv_err_nomem(q->s);
        memset(&a[nTok], 0, sizeof a[nTok]);
        a[nTok].t = INV_STR; a[nTok].u.s.z = zt; a[nTok].u.s.n = a1 - a0;
        nTok++;
      }
    }
    i = j + 1;
  }
  pList->t = INV_ARR; pList->bEmpty = 0;
  pList->u.arr.a = a; pList->u.arr.n = nTok;
  return INV_OK;
}

int inv_where(inv_q *q, const inv_val *pFilter, const inv_val *pFilterOr,
              const inv_val *pKeyword, const inv_val *pExtra) {
  int nAnd = 0, nOr = 0;
  inv_val kwList;
  memset(&kwList, 0, sizeof kwList);
  if (pKeyword && pKeyword->t != INV_NULL) {
    if (pKeyword->t != INV_STR) return inv_err_type_of(q->s, "query.keyword", "string", pKeyword);
    if (keywordTokens(q, pKeyword, &kwList)) return INV_ERROR;
  }
  inv_buf_addc(q->b, '(');
  if (condList(q, pExtra, "query.filter", " AND ", &nAnd)) return INV_ERROR;
  if (condList(q, pFilter, "query.filter", " AND ", &nAnd)) return INV_ERROR;
  if (!nAnd) inv_buf_adds(q->b, q->d->zTrue);
  inv_buf_adds(q->b, ") AND (");
  if (condList(q, pFilterOr, "query.filter_or", " OR ", &nOr)) return INV_ERROR;
  if (kwList.u.arr.n) {
    /* keyword: {"k": keyword field, "v": tokens, "o": "contain_in"} in filter_or */
    inv_key pa;
    Pred p;
    if (nOr++) inv_buf_adds(q->b, " OR ");
    if (inv_key_resolve(q->s, q->r, q->r->zKeyword, strlen(q->r->zKeyword), 0, &pa)) return INV_ERROR;
    memset(&p, 0, sizeof p);
    p.atom = A_LIKE;
    p.pList = &kwList;
    if (kwList.u.arr.n > INV_MAX_LIST) {
      char zR[96];
      snprintf(zR, sizeof zR, "at most 1000 words; this keyword has %zu.", kwList.u.arr.n);
      return inv_err_invalid(q->s, "query.keyword", zR);
    }
    {
      size_t i;
      for (i = 0; i < kwList.u.arr.n; i++) {
        if (kwList.u.arr.a[i].u.s.n > INV_MAX_LIKE) {
          return likeTooLong(q, "query.keyword", kwList.u.arr.a[i].u.s.n);
        }
      }
    }
    if (emitPath(q, &pa, &p)) return INV_ERROR;
  }
  if (!nOr) inv_buf_adds(q->b, q->d->zTrue);
  inv_buf_addc(q->b, ')');
  return q->b->bOom ? inv_err_nomem(q->s) : INV_OK;
}
