/*
** inv_stage.c: the stages of a stat pipeline (unwind with its restricted
** filter, group with its accumulators and conditions, count, sort, project
** with arithmetic, limit, skip), each a CTE over the one before; the keys a
** stage names, as expressions of the current row (inv_stat.h has the model).
*/
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "inv_stat.h"

/* ===================== errors ===================== */

/* The key a stage error points at: zPart of the current stage, as the user
** wrote it. Analyze's stages were built from analyze's own keys: unwind
** from query.unwind, the first group's keys from query.group_by and its
** fields from query.fields, project from query.select, the second group
** (the pivot) from query.field_group, sort from query.sort. */
static const char *stageKey(SC *c, const char *zPart) {
  char z[256];
  const char *zStage = c->zStage, *zBase;
  if (c->bAnalyze && zStage) {
    if (!strcmp(zStage, "group") && c->nGroup > 1) { zBase = "query.field_group"; zPart = ""; }
    else if (!strcmp(zStage, "group") && !strncmp(zPart, "keys", 4)) { zBase = "query.group_by"; zPart += 4; }
    else if (!strcmp(zStage, "group")) { zBase = "query.fields"; if (!strncmp(zPart, "fields", 6)) zPart += 6; }
    else if (!strcmp(zStage, "project")) { zBase = "query.select"; if (!strncmp(zPart, "fields", 6)) zPart += 6; }
    else if (!strcmp(zStage, "sort")) zBase = "query.sort";
    else zBase = "query.unwind";
    if (*zPart == '.') zPart++;
    snprintf(z, sizeof z, "%s%s%s", zBase, *zPart ? "." : "", zPart);
  } else {
    snprintf(z, sizeof z, "%s%s%s%s%s", c->zKeyBase ? c->zKeyBase : "query.aggregate",
             zStage ? "." : "", zStage ? zStage : "", *zPart ? "." : "", zPart);
  }
  return inv_arena_strdup(&c->s->arena, z, strlen(z));
}

int inv_stat_err(SC *c, const char *zPart, const char *zFmt, ...) {
  char zReason[700];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zReason, sizeof zReason, zFmt, ap);
  va_end(ap);
  return inv_err_query(c->s, stageKey(c, zPart), "%s", zReason);
}

/* A user's value in a reason. */
static const char *val(SC *c, const inv_val *v) { return inv_msg_value(c->s, v, INV_MSG_VALUE); }

/* How a reason names a group or project field, or a sub-field (zWhat):
** 'field "total"' by its name, else 'the field {...}' as the user wrote it. */
static const char *label(SC *c, const inv_val *fv, const char *zWhat) {
  const inv_val *n = inv_val_is_obj(fv) ? inv_stat_get(fv, "name", "n") : NULL;
  const char *zText;
  char *z;
  int bName = n && n->t == INV_STR;
  zText = bName ? inv_msg_text(c->s, n->u.s.z, n->u.s.n, 60) : inv_msg_value(c->s, fv, 200);
  z = inv_arena_alloc(&c->s->arena, strlen(zText) + strlen(zWhat) + 8);
  if (!z) return zWhat;
  if (bName) sprintf(z, "%s \"%s\"", zWhat, zText);
  else sprintf(z, "the %s %s", zWhat, zText);
  return z;
}
static const char *fieldName(SC *c, const inv_val *fv) { return label(c, fv, "field"); }

/* ===================== small value helpers ===================== */

const inv_val *inv_stat_get(const inv_val *o, const char *zLong, const char *zShort) {
  const inv_val *v = inv_val_get(o, zLong);
  if (!v && zShort) v = inv_val_get(o, zShort);
  return v && v->t != INV_NULL ? v : NULL;
}
int inv_stat_is_str(const inv_val *v) { return v && v->t == INV_STR && v->u.s.n > 0; }


/* ===================== column lists ===================== */

static void addRawCols(SC *c, const char *zAlias) {
  int i;
  inv_buf_printf(c->b, "%s.id", zAlias);
  for (i = 0; i < c->r->nField; i++) {
    inv_buf_add(c->b, ", ", 2);
    inv_buf_adds(c->b, zAlias);
    inv_buf_addc(c->b, '.');
    inv_buf_add(c->b, c->r->aField[i].zName, c->r->aField[i].nName);
  }
  inv_buf_printf(c->b, ", %s._u", zAlias);
}
static void addNamedCols(SC *c, const char *zAlias) {
  int i;
  for (i = 0; i < c->nCol; i++) inv_buf_printf(c->b, "%s%s.c%d", i ? ", " : "", zAlias, i);
}
void inv_stat_add_cols(SC *c, const char *zAlias) {
  if (c->bRaw) addRawCols(c, zAlias); else addNamedCols(c, zAlias);
}
/* start "s<n+1> AS (SELECT" */
static void cteOpen(SC *c) { inv_buf_printf(c->b, ", s%d AS (SELECT ", c->iCte + 1); }
/* A CTE the engine must not flatten into the next one: that would copy
** each of its expressions in wherever the next stage names the column, so a
** chain of projects that name a column twice ("add a a") grows
** exponentially. */
static void cteOpenMaterialized(SC *c) {
  inv_buf_printf(c->b, ", s%d AS %s(SELECT ", c->iCte + 1, c->q->d->zCteMaterialized);
}
static void cteClose(SC *c) { inv_buf_addc(c->b, ')'); c->iCte++; }

static int findCol(SC *c, const char *z, size_t n) {
  int i;
  for (i = c->nCol - 1; i >= 0; i--) {
    if (c->aCol[i].nName == n && memcmp(c->aCol[i].zName, z, n) == 0) return i;
  }
  return -1;
}

/* ===================== key -> expression ===================== */

/* The accessor of the dotted path z[0..n) below the JSON text zBase
** (bIndex0: its first segment is an array position). */
static int pathAcc(SC *c, inv_acc *a, const char *zBase, const char *z, size_t n, int bIndex0) {
  size_t i, i0 = 0;
  int nSeg = 1;
  memset(a, 0, sizeof *a);
  for (i = 0; i < n; i++) if (z[i] == '.') nSeg++;
  a->eKind = INV_ACC_PATH;
  a->zBase = zBase;
  a->bIndex0 = bIndex0;
  a->azSeg = inv_arena_alloc(&c->s->arena, sizeof(char*) * (size_t)nSeg);
  a->anSeg = inv_arena_alloc(&c->s->arena, sizeof(size_t) * (size_t)nSeg);
  if (!a->azSeg || !a->anSeg || !zBase) return inv_err_nomem(c->s);
  nSeg = 0;
  for (i = 0; i <= n; i++) {
    if (i == n || z[i] == '.') {
      ((const char**)a->azSeg)[nSeg] = z + i0;
      ((size_t*)a->anSeg)[nSeg] = i - i0;
      nSeg++;
      i0 = i + 1;
    }
  }
  a->nSeg = nSeg;
  return INV_OK;
}

/* An SQL expression of the current row, as arena text. */
const char *inv_stat_row_expr(SC *c, const char *zFmt, const char *z, int i) {
  char zBuf[96];
  if (z) snprintf(zBuf, sizeof zBuf, zFmt, z);
  else snprintf(zBuf, sizeof zBuf, zFmt, i);
  return inv_arena_strdup(&c->s->arena, zBuf, strlen(zBuf));
}

/* The JSON text at path z[0..n) of the JSON text zBase. */
int inv_stat_json_at(SC *c, const char *zBase, const char *z, size_t n, int bIndex0) {
  inv_acc a;
  if (pathAcc(c, &a, zBase, z, n, bIndex0)) return INV_ERROR;
  return c->q->d->xJsonGet(c->q, &a);
}

/* Emit the SQL of a key over the current row "p" and report its kind.
** Named stages: a column name (or nothing: null). Raw stages: a field path.
** bError: an unknown key is an error (sort) instead of null. */
static int keyExpr(SC *c, const char *z, size_t n, int bError, SExpr *e) {
  memset(e, 0, sizeof *e);
  if (!c->bRaw) {
    int i = findCol(c, z, n);
    const char *zDot = i < 0 ? memchr(z, '.', n) : NULL;
    int iHead = zDot ? findCol(c, z, (size_t)(zDot - z)) : -1;
    if (iHead >= 0 && c->aCol[iHead].eKind == K_JSON) {
      /* a path below a JSON column (an unwound push of objects, ...) */
      e->eKind = K_JSON;
      e->bNullMissing = 1;
      return inv_stat_json_at(c, inv_stat_row_expr(c, "p.c%d", NULL, iHead), zDot + 1, n - (size_t)(zDot - z) - 1, 0);
    }
    if (i < 0) {
      if (bError) return inv_err_resolve(c->s, z, n);
      inv_buf_adds(c->b, "NULL");
      e->bMissing = e->bNullMissing = 1;
      return INV_OK;
    }
    inv_buf_printf(c->b, "p.c%d", i);
    e->eKind = c->aCol[i].eKind;
    e->bNullMissing = c->aCol[i].bNullMissing;
    return INV_OK;
  }
  {
    inv_key k;
    const inv_field *f;
    if (inv_key_resolve(c->s, c->r, z, n, !bError, &k)) return INV_ERROR;
    if (k.iField < 0) {
      /* raw paths: an unknown key, or a path below a scalar or into an
      ** error element's unknown member, is missing (as in MongoDB) */
      inv_buf_adds(c->b, "NULL");
      e->bMissing = e->bNullMissing = 1;
      return INV_OK;
    }
    f = k.pField;
    if (k.nSeg == 1) {
      if (k.iField == c->iUnwound) { inv_buf_adds(c->b, "p._u"); e->eKind = K_JSON; return INV_OK; }
      inv_buf_printf(c->b, "p.%s", f->zName);
      e->eKind = f->eType == F_TIME ? K_TIME : (f->eType == F_OBJ || f->eType == F_ERRS) ? K_JSON : K_VAL;
      e->eSqlType = f->eType == F_STR ? INV_K_IS_TEXT : f->eType == F_INT ? INV_K_IS_INT : 0;
      /* only null=True columns hold an explicit null (reference 1.4) */
      e->bNullMissing = !(f->flags & FF_NULLABLE);
      return INV_OK;
    }
    {
      const char *zRest = k.azSeg[1];
      size_t nRest = n - (size_t)(zRest - z);
      e->eKind = K_JSON;
      e->bNullMissing = 1;                 /* a JSON null is "null", missing is NULL */
      if (f->eType == F_OBJ || k.iField == c->iUnwound) {
        return inv_stat_json_at(c, k.iField == c->iUnwound ? "p._u" : inv_stat_row_expr(c, "p.%s", f->zName, 0),
                      zRest, nRest, 0);
      }
      /* F_ERRS, not unwound: errors.0.x is one element; errors.x is the
      ** array of the elements' values (the reference groups by it): an
      ** array, maybe [] (no element has it); missing when the document has
      ** no errors at all (a v2 Job) */
      if (inv_key_is_index(k.azSeg[1], k.anSeg[1])) {
        return inv_stat_json_at(c, inv_stat_row_expr(c, "p.%s", f->zName, 0), zRest, nRest, 1);
      }
      {
        inv_acc a;
        if (pathAcc(c, &a, inv_stat_row_expr(c, "p.%s", f->zName, 0), zRest, nRest, 0)) return INV_ERROR;
        return c->q->d->xJsonPluck(c->q, &a);
      }
    }
  }
}

/* The key as a plain SQL value (numbers, text) for arithmetic and order. */
static int keyValue(SC *c, const char *z, size_t n, int bError, SExpr *e) {
  size_t n0 = c->b->n;
  if (keyExpr(c, z, n, bError, e)) return INV_ERROR;
  if (e->eKind == K_JSON) {
    const char *zExpr = inv_q_take(c->q, n0);
    if (!zExpr) return inv_err_nomem(c->s);
    return c->q->d->xJsonToValue(c->q, zExpr);
  }
  return INV_OK;
}

/* Datetime formats inside JSON containers: push by key keeps the ISO form
** of 7.2; the datetime sub-fields of push render without milliseconds, as
** the reference does. */
#define TIME_ISO "%Y-%m-%dT%H:%M:%S.%LZ"
#define TIME_SEC "%Y-%m-%dT%H:%M:%SZ"

/* The key as JSON text, for JSON containers (push, add_to_set,
** merge_objects): SQL NULL when the value is missing, "null" when it is a
** null. zTimeFmt: how datetimes render (strftime). */
static int keyJson(SC *c, const char *z, size_t n, const char *zTimeFmt) {
  size_t n0 = c->b->n;
  SExpr e;
  const char *zExpr;
  if (keyExpr(c, z, n, 0, &e)) return INV_ERROR;
  if (e.eKind == K_JSON) return INV_OK;       /* JSON text already, NULL = missing */
  zExpr = inv_q_take(c->q, n0);
  if (!zExpr) return inv_err_nomem(c->s);
  return c->q->d->xValueToJson(c->q, zExpr, e.eKind, e.bNullMissing, zTimeFmt);
}

/* ===================== stages ===================== */

/* The stage's own object: an object of known parameters (az). */
static int checkKeys(SC *c, const inv_val *o, const char *const *az) {
  size_t i;
  if (!inv_val_is_obj(o)) return inv_stat_err(c, "", "must be an object, not %s.", val(c, o));
  for (i = 0; i < o->u.obj.n; i++) {
    const char *const *pz;
    const char *zKey = o->u.obj.a[i].zKey;
    for (pz = az; *pz; pz++) if (strcmp(*pz, zKey) == 0) break;
    if (!*pz) {
      return inv_stat_err(c, inv_msg_text(c->s, zKey, strlen(zKey), 60),
                          "unknown parameter; use one of %s.", inv_msg_list(c->s, az));
    }
  }
  return INV_OK;
}

/* ---- unwind ---- */

/* The restricted match after an unwind (reference 4.2.1): raw paths, no
** coercion, case-sensitive unescaped regex for the contain family. */
static const char zUnwindOps[] =
  "eq, not, in, not_in, contain, not_contain, contain_in, not_contain_in";
static int unwindFilter(SC *c, const inv_val *pFilter) {
  size_t i;
  if (!inv_val_is_arr(pFilter)) {
    return inv_stat_err(c, "filter", "must be a list of conditions, not %s.", val(c, pFilter));
  }
  for (i = 0; i < pFilter->u.arr.n; i++) {
    const inv_val *cond = &pFilter->u.arr.a[i];
    const inv_val *k, *v, *o;
    const char *zOp;
    int bNeg = 0, bList, bLike;
    SExpr e;
    if (!inv_val_is_obj(cond)) {
      return inv_stat_err(c, "filter", "each condition is an object {k, v, o}, not %s.", val(c, cond));
    }
    k = inv_stat_get(cond, "key", "k");
    v = inv_stat_get(cond, "value", "v");
    o = inv_stat_get(cond, "operator", "o");
    /* a falsy key, value or operator is "required" (reference) */
    if (!inv_stat_is_str(k)) {
      return inv_stat_err(c, "filter", "the condition %s has no key; give \"k\", the field to test.",
                          inv_msg_value(c->s, cond, 200));
    }
    if (!inv_stat_is_str(o)) {
      return inv_stat_err(c, "filter", "the condition %s has no operator; give \"o\" as one of %s.",
                          inv_msg_value(c->s, cond, 200), zUnwindOps);
    }
    if (!v || (v->t == INV_BOOL && !v->u.b)
        || (v->t == INV_INT && v->u.i == 0) || (v->t == INV_REAL && v->u.r == 0)
        || (v->t == INV_STR && v->u.s.n == 0) || (inv_val_is_arr(v) && v->u.arr.n == 0)) {
      return inv_stat_err(c, "filter", "the condition %s has no value; here 0, false, \"\" and [] "
                          "count as none.", inv_msg_value(c->s, cond, 200));
    }
    zOp = o->u.s.z;
    if (!strcmp(zOp, "eq")) { bList = 0; bLike = 0; }
    else if (!strcmp(zOp, "not")) { bList = 0; bLike = 0; bNeg = 1; }
    else if (!strcmp(zOp, "in")) { bList = 1; bLike = 0; }
    else if (!strcmp(zOp, "not_in")) { bList = 1; bLike = 0; bNeg = 1; }
    else if (!strcmp(zOp, "contain")) { bList = 0; bLike = 1; }
    else if (!strcmp(zOp, "not_contain")) { bList = 0; bLike = 1; bNeg = 1; }
    else if (!strcmp(zOp, "contain_in")) { bList = 1; bLike = 1; }
    else if (!strcmp(zOp, "not_contain_in")) { bList = 1; bLike = 1; bNeg = 1; }
    else {
      return inv_stat_err(c, "filter", "operator %s is not supported here; use one of %s.",
                          val(c, o), zUnwindOps);
    }
    if (bList && !inv_val_is_arr(v)) return inv_stat_err(c, "filter", "%s takes a list, not %s.", zOp, val(c, v));
    inv_buf_adds(c->b, " AND ");
    if (bNeg) inv_buf_adds(c->b, "NOT coalesce(");
    inv_buf_addc(c->b, '(');
    {
      size_t j, nv = bList ? v->u.arr.n : 1, n0;
      inv_acc a;
      const char *zKey;
      /* the key's value, once: each test below names it */
      n0 = c->b->n;
      if (keyValue(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      zKey = inv_q_take(c->q, n0);
      if (!zKey) return inv_err_nomem(c->s);
      memset(&a, 0, sizeof a);
      a.eKind = INV_ACC_EXPR;
      a.zBase = zKey;
      a.eValKind = e.eKind;
      for (j = 0; j < nv; j++) {
        const inv_val *x = bList ? &v->u.arr.a[j] : v;
        if (j) inv_buf_adds(c->b, " OR ");
        if (bLike) {
          char zErr[200];
          if (x->t != INV_STR) return inv_stat_err(c, "filter", "%s takes %s, not %s.", zOp,
                                                   bList ? "strings" : "a string", val(c, x));
          if (c->q->d->xRegexCheck(x->u.s.z, x->u.s.n, zErr, sizeof zErr)) {
            return inv_stat_err(c, "filter", "the regular expression \"%s\" of %s is invalid: %s.",
                                inv_msg_text(c->s, x->u.s.z, x->u.s.n, INV_MSG_VALUE), zOp, zErr);
          }
          if (inv_q_count_regex(c->q) || c->q->d->xRegex(c->q, &a, x->u.s.z, x->u.s.n, 1)) return INV_ERROR;
        } else if (c->q->d->xRawEquals(c->q, zKey, e.eKind, x)) {   /* raw values: no coercion */
          return INV_ERROR;
        }
      }
    }
    inv_buf_addc(c->b, ')');
    if (bNeg) {
      inv_buf_adds(c->b, ", ");
      inv_buf_adds(c->b, c->q->d->zFalse);
      inv_buf_addc(c->b, ')');
    }
  }
  return INV_OK;
}

int inv_unwind_filter(inv_q *q, int iField, const inv_val *pFilter) {
  SC c;
  memset(&c, 0, sizeof c);
  c.s = q->s;
  c.r = q->r;
  c.q = q;
  c.b = q->b;
  c.bRaw = 1;
  c.iUnwound = iField;
  c.zKeyBase = "query";
  c.zStage = "unwind";
  return unwindFilter(&c, pFilter);
}

static int stageUnwind(SC *c, const inv_val *o) {
  static const char *const az[] = { "path", "filter", NULL };
  const inv_val *path, *filter;
  const char *z;
  size_t n;
  int iField;
  if (checkKeys(c, o, az)) return INV_ERROR;
  path = inv_val_get(o, "path");
  if (!inv_stat_is_str(path)) {
    if (path && path->t != INV_NULL && !(path->t == INV_STR)) {
      return inv_stat_err(c, "path", "must be a string, the list field to unwind, not %s.", val(c, path));
    }
    return inv_stat_err(c, "path", "is required: the list field to unwind, such as errors.");
  }
  z = path->u.s.z;
  n = path->u.s.n;
  if (!c->bRaw) {
    /* a named column (after group/count/project): an array gives one row
    ** per element, in element order; null, missing and [] drop the row;
    ** any other value is a one-element array (MongoDB's $unwind) */
    int iCol = findCol(c, z, n), j;
    if (iCol < 0) return inv_err_resolve(c->s, z, n);
    cteOpen(c);
    if (c->aCol[iCol].eKind != K_JSON) {
      addNamedCols(c, "p");
      inv_buf_printf(c->b, ", p._seq AS _seq FROM s%d AS p WHERE p.c%d IS NOT NULL", c->iCte, iCol);
    } else {
      const inv_dialect *d = c->q->d;
      const char *zCol = inv_stat_row_expr(c, "p.c%d", NULL, iCol), *zIsArr;
      inv_acc a;
      size_t n0;
      memset(&a, 0, sizeof a);
      a.eKind = INV_ACC_EXPR;
      a.zBase = zCol;
      n0 = c->b->n;
      if (!zCol || d->xJsonTypeIs(c->q, &a, INV_JT_ARRAY)) return INV_ERROR;
      zIsArr = inv_q_take(c->q, n0);
      if (!zIsArr) return inv_err_nomem(c->s);
      for (j = 0; j < c->nCol; j++) {
        if (j) inv_buf_adds(c->b, ", ");
        if (j == iCol) {
          inv_buf_printf(c->b, "CASE WHEN %s THEN ", zIsArr);
          if (d->xEachElem(c->q, zCol, "u")) return INV_ERROR;
          inv_buf_printf(c->b, " ELSE %s END AS c%d", zCol, j);
        } else {
          inv_buf_printf(c->b, "p.c%d", j);
        }
      }
      inv_buf_adds(c->b, ", row_number() OVER (ORDER BY p._seq, ");
      if (d->xEachKey(c->q, "u")) return INV_ERROR;
      inv_buf_printf(c->b, ") AS _seq FROM s%d AS p, ", c->iCte);
      {
        /* any other value is a one-element array */
        char *zArr = inv_arena_alloc(&c->s->arena, strlen(zIsArr) + 2 * strlen(zCol) + 64);
        if (!zArr) return inv_err_nomem(c->s);
        sprintf(zArr, "CASE WHEN %s THEN %s ELSE '[0]' END", zIsArr, zCol);
        if (d->xEachFrom(c->q, zArr, "u")) return INV_ERROR;
      }
      inv_buf_adds(c->b, " WHERE NOT (");
      if (d->xJsonTypeIs(c->q, &a, INV_JT_NULL)) return INV_ERROR;
      inv_buf_addc(c->b, ')');
    }
    cteClose(c);
  } else {
    iField = inv_field_index(c->r, z, n);
    inv_key k;
    /* an unknown field cannot be resolved; a known one that is no list is said so */
    if (iField < 0 && inv_key_resolve(c->s, c->r, z, n, 0, &k)) return INV_ERROR;
    if (iField < 0 || c->r->aField[iField].eType != F_ERRS) {
      return inv_stat_err(c, "path", "%s is not a list field; unwind takes %s.", val(c, path),
                          inv_msg_list_fields(c->s, c->r));
    }
    if (c->iUnwound >= 0) return inv_stat_err(c, "path", "%s is already unwound by an earlier unwind.", val(c, path));
    /* the element replaces the array in the document (and is kept as _u,
    ** JSON text, for paths below it); documents with [] are dropped */
    cteOpen(c);
    {
      const inv_dialect *d = c->q->d;
      const char *zArr = inv_stat_row_expr(c, "p.%s", c->r->aField[iField].zName, 0);
      inv_acc a;
      int i;
      if (!zArr) return inv_err_nomem(c->s);
      inv_buf_adds(c->b, "p.id");
      for (i = 0; i < c->r->nField; i++) {
        inv_buf_adds(c->b, ", ");
        if (i != iField) { inv_buf_printf(c->b, "p.%s", c->r->aField[i].zName); continue; }
        if (d->xEachElem(c->q, zArr, "u")) return INV_ERROR;
        inv_buf_printf(c->b, " AS %s", c->r->aField[i].zName);
      }
      inv_buf_adds(c->b, ", ");
      if (d->xEachElem(c->q, zArr, "u")) return INV_ERROR;
      inv_buf_adds(c->b, " AS _u, p._seq * 1000000 + ");
      if (d->xEachKey(c->q, "u")) return INV_ERROR;
      inv_buf_printf(c->b, " AS _seq FROM s%d AS p, ", c->iCte);
      if (d->xEachFrom(c->q, zArr, "u")) return INV_ERROR;
      inv_buf_adds(c->b, " WHERE ");
      memset(&a, 0, sizeof a);
      a.eKind = INV_ACC_EXPR;
      a.zBase = zArr;
      if (d->xJsonTypeIs(c->q, &a, INV_JT_ARRAY)) return INV_ERROR;
    }
    cteClose(c);
    c->iUnwound = iField;
  }
  filter = inv_val_get(o, "filter");
  if (filter && filter->t != INV_NULL) {
    /* the restricted match sees the unwound element */
    cteOpen(c);
    inv_stat_add_cols(c, "p");
    inv_buf_printf(c->b, ", p._seq AS _seq FROM s%d AS p WHERE %s", c->iCte, c->q->d->zTrue);
    if (unwindFilter(c, filter)) return INV_ERROR;
    cteClose(c);
  }
  return INV_OK;
}

/* ---- group ---- */

const char inv_stat_group_ops[] =
  "count, sum, average, max, min, first, last, push, add_to_set, merge_objects";
static const char zCondOps[] = "eq, not, gt, gte, lt, lte";

/* `conditions` given: a missing, null or empty list means none (the
** reference tests it for truth). */
static int condsPresent(const inv_val *conds) {
  return conds && conds->t != INV_NULL && !(inv_val_is_arr(conds) && conds->u.arr.n == 0);
}

/* Check the `conditions` of a group field (the reference checks them right
** after the name, before the field's key). */
static int groupCondsCheck(SC *c, const inv_val *fv, const inv_val *conds) {
  size_t i;
  const char *zPart = "fields.conditions";
  if (!inv_val_is_arr(conds)) {
    return inv_stat_err(c, zPart, "the conditions of %s must be a list, not %s.",
                        fieldName(c, fv), val(c, conds));
  }
  for (i = 0; i < conds->u.arr.n; i++) {
    const inv_val *x = &conds->u.arr.a[i], *o;
    const char *zRepr = inv_msg_value(c->s, x, 200);
    if (!inv_val_is_obj(x) || !inv_stat_is_str(inv_stat_get(x, "key", "k"))) {
      return inv_stat_err(c, zPart, "the condition %s of %s has no key.", zRepr, fieldName(c, fv));
    }
    if (!inv_stat_get(x, "value", "v")) {
      return inv_stat_err(c, zPart, "the condition %s of %s has no value.", zRepr, fieldName(c, fv));
    }
    o = inv_stat_get(x, "operator", "o");
    if (!inv_stat_is_str(o)) {
      return inv_stat_err(c, zPart, "the condition %s of %s has no operator; use one of %s.",
                          zRepr, fieldName(c, fv), zCondOps);
    }
    if (strcmp(o->u.s.z, "eq") && strcmp(o->u.s.z, "not") && strcmp(o->u.s.z, "gt")
        && strcmp(o->u.s.z, "gte") && strcmp(o->u.s.z, "lt") && strcmp(o->u.s.z, "lte")) {
      return inv_stat_err(c, zPart, "the condition operator %s of %s is not supported; use one "
                          "of %s.", val(c, o), fieldName(c, fv), zCondOps);
    }
  }
  return INV_OK;
}

/* The (checked) conditions as one SQL boolean, ANDed. They are
** aggregation-expression comparisons: no coercion and no type bracketing,
** the total BSON order instead (null and missing below everything, numbers
** below strings; the dialect's xCompare). `not` is "!=" (the reference's
** compiles to an invalid expression: QUIRK fixed). The value is never null
** (checked). */
static int groupConds(SC *c, const inv_val *conds) {
  size_t i;
  inv_buf_addc(c->b, '(');
  for (i = 0; i < conds->u.arr.n; i++) {
    const inv_val *x = &conds->u.arr.a[i];
    const inv_val *k = inv_stat_get(x, "key", "k"), *v = inv_stat_get(x, "value", "v");
    const char *zOp = inv_stat_get(x, "operator", "o")->u.s.z, *zKey;
    inv_val ms;
    size_t n0;
    SExpr e;
    if (i) inv_buf_adds(c->b, " AND ");
    n0 = c->b->n;
    if (keyValue(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
    zKey = inv_q_take(c->q, n0);
    if (!zKey) return inv_err_nomem(c->s);
    if (e.eKind == K_TIME && v->t == INV_STR) {
      memset(&ms, 0, sizeof ms);
      ms.t = INV_INT;
      if (inv_time_parse_lenient(v->u.s.z, v->u.s.n, &ms.u.i)) {
        return inv_stat_err(c, "fields.conditions", "%s is a datetime, and the condition value %s "
                            "is not an ISO 8601 datetime such as 2024-01-31T12:00:00Z.",
                            inv_msg_text(c->s, k->u.s.z, k->u.s.n, INV_MSG_VALUE), val(c, v));
      }
      v = &ms;
    }
    if (c->q->d->xCompare(c->q, zKey, e.eKind, zOp, v)) return INV_ERROR;
  }
  inv_buf_addc(c->b, ')');
  return INV_OK;
}

/* The key expressions of a group as a select list "expr AS c0, ...", their
** kinds into aCol. */
static int groupKeyExprs(SC *c, const inv_val *const *apKey, int nKey, SCol *aCol,
                         const char **azExpr, int *aSqlType, const char **azGroup) {
  int i;
  for (i = 0; i < nKey; i++) {
    const inv_val *kv = apKey[i];
    const inv_val *k = inv_stat_get(kv, "key", "k"), *df = inv_val_get(kv, "date_format");
    SExpr e;
    size_t n0;
    if (i) inv_buf_adds(c->b, ", ");
    n0 = c->b->n;
    /* an empty date_format is no date_format (the reference tests its truth) */
    if (df && df->t != INV_NULL && !(df->t == INV_STR && df->u.s.n == 0)) {
      char *zE, zErr[160];
      int bPart;
      if (df->t != INV_STR) {
        return inv_stat_err(c, "keys.date_format", "must be a string such as \"%%Y-%%m-%%d\", not %s.",
                            val(c, df));
      }
      bPart = strlen(df->u.s.z) == df->u.s.n
              && (!strcmp(df->u.s.z, "year") || !strcmp(df->u.s.z, "month") || !strcmp(df->u.s.z, "day"));
      if (!bPart && inv_time_format_check(df->u.s.z, df->u.s.n, zErr, sizeof zErr)) {
        return inv_stat_err(c, "keys.date_format", "%s is not a date format: %s.",  /* MongoDB refuses it */
                            val(c, df), zErr);
      }
      if (keyExpr(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      if (e.eKind != K_TIME && !e.bMissing) {
        return inv_stat_err(c, "keys.date_format", "date_format works on datetimes, and the key %s "
                            "is not one.", val(c, k));
      }
      zE = inv_q_take(c->q, n0);
      if (!zE) return inv_err_nomem(c->s);
      aSqlType[i] = bPart ? INV_K_IS_INT : INV_K_IS_TEXT;     /* (or NULL) */
      if (bPart) {
        const char *zFmt = df->u.s.z[0] == 'y' ? "%Y" : df->u.s.z[0] == 'm' ? "%m" : "%d";
        if (c->q->d->xDateFormat(c->q, zE, zFmt, 2, 1)) return INV_ERROR;
      } else if (c->q->d->iVersion >= 3 && c->q->d->xDateGroup && !e.bMissing) {
        if (c->q->d->xDateGroup(c->q, zE, df->u.s.z, df->u.s.n, &azGroup[i])) return INV_ERROR;
        if (!azGroup[i] && c->q->d->xDateFormat(c->q, zE, df->u.s.z, df->u.s.n, 0)) return INV_ERROR;
      } else if (c->q->d->xDateFormat(c->q, zE, df->u.s.z, df->u.s.n, 0)) {
        return INV_ERROR;
      }
      aCol[i].eKind = K_VAL;
      aCol[i].bNullMissing = 0;                /* a null date gives null */
    } else {
      if (keyExpr(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      aCol[i].eKind = e.eKind;
      aCol[i].bNullMissing = e.bNullMissing;   /* a missing key leaves the row */
      aSqlType[i] = e.eKind == K_VAL ? e.eSqlType : 0;
    }
    azExpr[i] = inv_arena_strdup(&c->s->arena, c->b->z + n0, c->b->n - n0);
    if (!azExpr[i]) return inv_err_nomem(c->s);
    inv_buf_printf(c->b, " AS c%d", i);
  }
  return INV_OK;
}

int inv_stat_group_op(const char *z) {
  static const char *const az[] = { "count", "sum", "average", "max", "min", "first", "last",
                                    "push", "add_to_set", "merge_objects", NULL };
  int i;
  for (i = 0; az[i]; i++) if (!strcmp(az[i], z)) return 1;
  return 0;
}

/* Check one group field in the reference's order: operator, name, push
** sub-fields, conditions, key (or push fields), conditions allowed. */
static int groupFieldCheck(SC *c, const inv_val *fv) {
  const inv_val *k, *n, *op, *sub, *conds;
  const char *zOp;
  if (!inv_val_is_obj(fv)) {
    return inv_stat_err(c, "fields", "each field is an object {name, operator, key}, not %s.", val(c, fv));
  }
  k = inv_stat_get(fv, "key", "k");
  n = inv_stat_get(fv, "name", "n");
  op = inv_stat_get(fv, "operator", "o");
  sub = inv_stat_get(fv, "fields", "f");
  conds = inv_val_get(fv, "conditions");
  if (!op) {
    return inv_stat_err(c, "fields", "%s has no operator; use one of %s.", fieldName(c, fv), inv_stat_group_ops);
  }
  zOp = inv_stat_is_str(op) ? op->u.s.z : NULL;
  if (!zOp || !inv_stat_group_op(zOp)) {
    return inv_stat_err(c, "fields", "the operator %s of %s is not supported; use one of %s.",
                        val(c, op), fieldName(c, fv), inv_stat_group_ops);
  }
  if (!inv_stat_is_str(n)) return inv_stat_err(c, "fields", "%s has no name.", fieldName(c, fv));
  if (sub && inv_val_is_arr(sub)) {
    size_t j;
    for (j = 0; j < sub->u.arr.n; j++) {
      const inv_val *sf = &sub->u.arr.a[j];
      if (!inv_val_is_obj(sf) || !inv_stat_is_str(inv_stat_get(sf, "key", "k"))) {
        return inv_stat_err(c, "fields.fields", "%s of %s has no key.",
                            label(c, sf, "sub-field"), fieldName(c, fv));
      }
      if (!inv_stat_is_str(inv_stat_get(sf, "name", "n"))) {
        return inv_stat_err(c, "fields.fields", "%s of %s has no name.",
                            label(c, sf, "sub-field"), fieldName(c, fv));
      }
    }
  }
  if (condsPresent(conds) && groupCondsCheck(c, fv, conds)) return INV_ERROR;
  if (!strcmp(zOp, "push")) {
    if (!inv_stat_is_str(k) && !(sub && inv_val_is_arr(sub) && sub->u.arr.n)) {
      return inv_stat_err(c, "fields", "%s: push needs a key, or fields to build objects from.",
                          fieldName(c, fv));
    }
  } else if (strcmp(zOp, "count") && !inv_stat_is_str(k)) {
    return inv_stat_err(c, "fields", "%s: %s needs a key.", fieldName(c, fv), zOp);
  }
  if (condsPresent(conds) && strcmp(zOp, "count") && strcmp(zOp, "sum") && strcmp(zOp, "average")) {
    return inv_stat_err(c, "fields.conditions", "%s: conditions work with count, sum and average, "
                        "not %s.", fieldName(c, fv), zOp);
  }
  return INV_OK;
}

static int stageGroup(SC *c, const inv_val *o) {
  static const char *const az[] = { "keys", "fields", NULL };
  const inv_val *keys, *fields;
  const inv_val *apKey[MAX_COLS];
  const char *azKeyExpr[MAX_COLS];
  int aKeyKind[MAX_COLS], aSqlType[MAX_COLS];
  const char *azGroup[MAX_COLS];
  size_t nKey = 0, nField = 0, i;
  SCol aNew[MAX_COLS];
  int nNew = 0, j;
  c->nGroup++;
  if (checkKeys(c, o, az)) return INV_ERROR;
  keys = inv_val_get(o, "keys");
  fields = inv_val_get(o, "fields");
  if (keys && keys->t != INV_NULL) {
    if (!inv_val_is_arr(keys)) {
      return inv_stat_err(c, "keys", "must be a list of {key, name} objects, not %s.", val(c, keys));
    }
    nKey = keys->u.arr.n;
  } else keys = NULL;
  if (fields && fields->t != INV_NULL) {
    if (!inv_val_is_arr(fields)) {
      return inv_stat_err(c, "fields", "must be a list of {name, operator, key} objects, not %s.",
                          val(c, fields));
    }
    nField = fields->u.arr.n;
  } else fields = NULL;
  if (nKey + nField == 0) return inv_stat_err(c, "", "give at least one key to group by or one field.");
  if (nKey + nField > MAX_COLS) {
    return inv_stat_err(c, "", "group by at most %d keys and fields together; this has %zu.",
                        MAX_COLS, nKey + nField);
  }
  memset(aNew, 0, sizeof aNew);
  /* validate keys */
  for (i = 0; i < nKey; i++) {
    const inv_val *kv = &keys->u.arr.a[i];
    const inv_val *k, *n;
    if (!inv_val_is_obj(kv)) {
      return inv_stat_err(c, "keys", "each key is an object {key, name}, not %s.", val(c, kv));
    }
    k = inv_stat_get(kv, "key", "k");
    n = inv_stat_get(kv, "name", "n");
    if (!inv_stat_is_str(k)) {
      return inv_stat_err(c, "keys", "the group key %s has no \"key\", the field to group by.",
                          inv_msg_value(c->s, kv, 200));
    }
    if (!inv_stat_is_str(n)) {
      return inv_stat_err(c, "keys", "the group key %s has no \"name\", its name in the results.",
                          inv_msg_value(c->s, kv, 200));
    }
    /* the group id is an object: a later key of the same name replaces
    ** the earlier one, in its place (the reference builds a dict) */
    for (j = 0; j < nNew; j++) {
      if (aNew[j].nName == n->u.s.n && !memcmp(aNew[j].zName, n->u.s.z, n->u.s.n)) break;
    }
    apKey[j] = kv;
    if (j < nNew) continue;
    aNew[nNew].zName = n->u.s.z; aNew[nNew].nName = n->u.s.n; aNew[nNew].bKey = 1;
    nNew++;
  }
  nKey = (size_t)nNew;
  /* validate fields */
  for (i = 0; i < nField; i++) {
    const inv_val *n;
    if (groupFieldCheck(c, &fields->u.arr.a[i])) return INV_ERROR;
    n = inv_stat_get(&fields->u.arr.a[i], "name", "n");
    aNew[nNew].zName = n->u.s.z; aNew[nNew].nName = n->u.s.n; aNew[nNew].bKey = 0;
    nNew++;
  }

  /* the group: keys AS c0.., accumulators AS cK.., then _seq */
  {
    size_t nAt = c->b->n;
    cteOpen(c);
    c->nFoldAt = nAt;
    c->nFoldBody = c->b->n - 7;        /* "SELECT " */
  }
  memset(azGroup, 0, sizeof azGroup);
  memset(aSqlType, 0, sizeof aSqlType);
  if (groupKeyExprs(c, apKey, (int)nKey, aNew, azKeyExpr, aSqlType, azGroup)) return INV_ERROR;
  for (i = 0; i < nField; i++) {
    const inv_val *fv = &fields->u.arr.a[i];
    const char *zOp = inv_stat_get(fv, "operator", "o")->u.s.z;
    const inv_val *k = inv_stat_get(fv, "key", "k"), *conds = inv_val_get(fv, "conditions");
    int bCond = condsPresent(conds);
    int iCol = (int)(nKey + i);
    SExpr e;
    if (nKey || i) inv_buf_adds(c->b, ", ");
    aNew[iCol].eKind = K_VAL;
    if (!strcmp(zOp, "count")) {
      if (bCond) {
        inv_buf_adds(c->b, "sum(CASE WHEN ");
        if (groupConds(c, conds)) return INV_ERROR;
        inv_buf_adds(c->b, " THEN 1 ELSE 0 END)");
      } else {
        inv_buf_adds(c->b, "count(*)");
      }
    } else if (!strcmp(zOp, "sum") || !strcmp(zOp, "average")) {
      int bSum = zOp[0] == 's', bTypedInt = 0;
      size_t n0;
      const char *zV;
      /* non-numeric values are ignored; with conditions, failing docs give 0
      ** (and still count in an average: the reference's quirk) */
      size_t nAgg = c->b->n;
      const char *zIn;
      if (bCond) {
        inv_buf_adds(c->b, "CASE WHEN ");
        if (groupConds(c, conds)) return INV_ERROR;
        inv_buf_adds(c->b, " THEN ");
      }
      /* an INTEGER NOT NULL column of the schema needs no numeric guard */
      if (c->bRaw && !memchr(k->u.s.z, '.', k->u.s.n)) {
        int fi = inv_field_index(c->r, k->u.s.z, k->u.s.n);
        bTypedInt = fi >= 0 && fi != c->iUnwound && c->r->aField[fi].eType == F_INT;
      }
      n0 = c->b->n;
      if (keyValue(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      if (e.eKind == K_TIME) {
        return inv_stat_err(c, "fields", "%s: %s of the datetime %s is not supported.",
                            fieldName(c, fv), zOp, val(c, k));
      }
      if (!bTypedInt) {
        zV = inv_q_take(c->q, n0);
        if (!zV || c->q->d->xNumber(c->q, zV, e.eKind)) return zV ? INV_ERROR : inv_err_nomem(c->s);
      }
      if (bCond) inv_buf_adds(c->b, " ELSE 0 END");
      /* the aggregate over that value: the dialect's sum or average */
      zIn = inv_q_take(c->q, nAgg);
      if (!zIn) return inv_err_nomem(c->s);
      if (c->q->d->xAggSum(c->q, "p._seq", zIn, !bSum)) return INV_ERROR;
    } else {
      size_t n0 = c->b->n;
      const char *zV;
      int bJson = !strcmp(zOp, "push") || !strcmp(zOp, "add_to_set") || !strcmp(zOp, "merge_objects");
      const inv_val *sub = inv_stat_get(fv, "fields", "f");
      /* the operand: a plain value (max, min), as it is (first, last),
      ** or JSON text (push, add_to_set, merge_objects) */
      if (!strcmp(zOp, "max") || !strcmp(zOp, "min")) {
        if (keyValue(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      } else if (!bJson) {
        if (keyExpr(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      } else if (inv_stat_is_str(k)) {
        if (keyJson(c, k->u.s.z, k->u.s.n, TIME_ISO)) return INV_ERROR;
      } else {
        /* push of sub-fields: an object; a missing sub-field is left out,
        ** a name given twice keeps its last key, as a dict would */
        const inv_val *apName[MAX_COLS];
        const char *azJson[MAX_COLS];
        size_t iSub;
        int nPut = 0;
        for (iSub = 0; iSub < sub->u.arr.n; iSub++) {
          const inv_val *sf = &sub->u.arr.a[iSub];
          const inv_val *sk = inv_stat_get(sf, "key", "k"), *sn = inv_stat_get(sf, "name", "n");
          size_t iLater, m0 = c->b->n;
          for (iLater = iSub + 1; iLater < sub->u.arr.n; iLater++) {
            const inv_val *ln = inv_stat_get(&sub->u.arr.a[iLater], "name", "n");
            if (ln->u.s.n == sn->u.s.n && memcmp(ln->u.s.z, sn->u.s.z, sn->u.s.n) == 0) break;
          }
          if (iLater < sub->u.arr.n) continue;
          if (nPut >= MAX_COLS) {
            return inv_stat_err(c, "fields.fields", "%s: push takes at most %d fields.", fieldName(c, fv), MAX_COLS);
          }
          if (keyJson(c, sk->u.s.z, sk->u.s.n, TIME_SEC)) return INV_ERROR;
          apName[nPut] = sn;
          azJson[nPut] = inv_q_take(c->q, m0);
          if (!azJson[nPut++]) return inv_err_nomem(c->s);
        }
        if (c->q->d->xObject(c->q, apName, azJson, nPut)) return INV_ERROR;
      }
      zV = inv_q_take(c->q, n0);
      if (!zV) return inv_err_nomem(c->s);
      if (!strcmp(zOp, "max") || !strcmp(zOp, "min")) {
        /* the largest/smallest value */
        if (c->q->d->xAggMinMax(c->q, zOp[1] == 'a', zV, e.eKind)) return INV_ERROR;
        if (e.eKind == K_TIME) aNew[iCol].eKind = K_TIME;
      } else if (!bJson) {
        /* the value of the document with the smallest/largest _seq; a
        ** missing value gives null */
        if (c->q->d->xAggFirstLast(c->q, zOp[0] == 'l', "p._seq", zV)) return INV_ERROR;
        aNew[iCol].eKind = e.eKind;
      } else {
        /* push: in _seq order, a missing value skipped */
        int rc = zOp[0] == 'p' ? c->q->d->xAggPush(c->q, "p._seq", zV)
               : zOp[0] == 'a' ? c->q->d->xAggAddToSet(c->q, zV)
               : c->q->d->xAggMergeObjects(c->q, "p._seq", zV);
        if (rc) return INV_ERROR;
        aNew[iCol].eKind = K_JSON;
      }
    }
    inv_buf_printf(c->b, " AS c%d", iCol);
  }
  /* the groups' order (the stream order of what follows): the engine's
  ** GROUP BY order, which the dialect spells where it is not SQLite's */
  for (i = 0; i < nKey; i++) aKeyKind[i] = aNew[i].eKind | aSqlType[i];
  {
    size_t nWin = c->b->n, nOrder;
    inv_buf_adds(c->b, ", row_number() OVER (");
    nOrder = c->b->n;
    if (c->q->d->iVersion >= 2 && c->q->d->xGroupOrder
        && c->q->d->xGroupOrder(c->q, azKeyExpr, aKeyKind, (int)nKey)) return INV_ERROR;
    if (c->b->n > nOrder && c->bLastStage && nKey <= 9) {
      /* the last stage, of an engine whose GROUP BY has no order: the
      ** statement orders the groups by their key columns (p.c0, ...), no
      ** window (whose ORDER BY repeats each key's expression, a date's
      ** format ten times, and keeps the engine from hashing the groups) */
      static const char *const azCol[] = { "p.c0", "p.c1", "p.c2", "p.c3", "p.c4", "p.c5", "p.c6",
                                           "p.c7", "p.c8" };
      size_t nEnd;
      c->b->n = nWin;
      c->b->z[nWin] = 0;
      nEnd = c->b->n;
      if (c->q->d->xGroupOrder(c->q, azCol, aKeyKind, (int)nKey)) return INV_ERROR;
      if (c->b->n < nEnd + 9 || memcmp(c->b->z + nEnd, "ORDER BY ", 9) != 0) {
        return inv_err_class(c->s, INV_SERVER, "ERROR_DB_QUERY",
                             "Database query failed. (reason = a group order without ORDER BY)");
      }
      c->zFinalOrder = inv_q_take(c->q, nEnd + 9);
      c->b->n = nEnd;
      c->b->z[nEnd] = 0;
      if (!c->zFinalOrder) return inv_err_nomem(c->s);
      inv_buf_printf(c->b, ", 0 AS _seq FROM s%d AS p", c->iCte);
    } else if (c->b->n == nOrder && c->bOrderFree) {
      /* the engine's GROUP BY delivers the groups in their order (the
      ** dialect spells none) and no later stage reads _seq: no window
      ** function (it keeps the engine from flattening the stage, and the
      ** statement from its GROUP BY order), no ORDER BY at the end */
      c->b->n = nWin;
      c->b->z[nWin] = 0;
      inv_buf_printf(c->b, ", 0 AS _seq FROM s%d AS p", c->iCte);
      c->bNoSeq = 1;
    } else {
      inv_buf_printf(c->b, ") AS _seq FROM s%d AS p", c->iCte);
    }
  }
  if (nKey) {
    inv_buf_adds(c->b, " GROUP BY ");
    for (i = 0; i < nKey; i++) {
      if (azGroup[i]) inv_buf_printf(c->b, "%s%s", i ? ", " : "", azGroup[i]);
      else inv_buf_printf(c->b, "%s%d", i ? ", " : "", (int)i + 1);
    }
  }
  inv_buf_adds(c->b, " HAVING count(*) > 0");          /* no input, no rows */
  cteClose(c);
  c->iFoldCte = c->bNoSeq ? c->iCte : 0;
  c->nFoldEnd = c->b->n;
  memcpy(c->aCol, aNew, sizeof(SCol) * (size_t)nNew);
  c->nCol = nNew;
  c->bRaw = 0;
  c->iUnwound = -1;
  return INV_OK;
}

/* ---- count ---- */

static int stageCount(SC *c, const inv_val *o) {
  static const char *const az[] = { "name", NULL };
  const inv_val *n;
  if (checkKeys(c, o, az)) return INV_ERROR;
  n = inv_stat_get(o, "name", NULL);
  if (!inv_stat_is_str(n)) return inv_stat_err(c, "name", "is required: the name of the count in the results.");
  cteOpen(c);
  inv_buf_printf(c->b, "count(*) AS c0, 1 AS _seq FROM s%d AS p HAVING count(*) > 0", c->iCte);
  cteClose(c);
  c->aCol[0].zName = n->u.s.z; c->aCol[0].nName = n->u.s.n;
  c->aCol[0].eKind = K_VAL; c->aCol[0].bKey = 0; c->aCol[0].bNullMissing = 0;
  c->nCol = 1;
  c->bRaw = 0;
  c->iUnwound = -1;
  return INV_OK;
}

/* ---- sort ---- */

/* v2: [{key, desc}, ...]. v1 (reference/query.md 2.2): one object {key,
** desc, keys: [{key, desc}]}, where key wins over keys and neither is
** ERROR_REQUIRED_PARAMETER (aggregate.sort.key). */
static int stageSort(SC *c, const inv_val *o) {
  const inv_val *aItem;
  size_t nItem, i;
  if (o->t == INV_OBJ) {
    static const char *const az[] = { "key", "desc", "keys", NULL };
    const inv_val *k = inv_stat_get(o, "key", NULL), *ks = inv_stat_get(o, "keys", NULL);
    if (checkKeys(c, o, az)) return INV_ERROR;
    if (inv_stat_is_str(k)) { aItem = o; nItem = 1; }
    else if (ks && inv_val_is_arr(ks) && ks->u.arr.n) { aItem = ks->u.arr.a; nItem = ks->u.arr.n; }
    else if (ks && !inv_val_is_arr(ks)) {
      return inv_stat_err(c, "keys", "must be a list of {key, desc} objects, not %s.", val(c, ks));
    } else return inv_stat_err(c, "key", "is required: the field to sort by; or give keys, a list of {key, desc} objects.");
  } else if (inv_val_is_arr(o)) {
    aItem = o->u.arr.a; nItem = o->u.arr.n;
  } else {
    return inv_stat_err(c, "", "must be a list of {key, desc} objects, not %s.", val(c, o));
  }
  cteOpen(c);
  inv_stat_add_cols(c, "p");
  inv_buf_adds(c->b, ", row_number() OVER (ORDER BY ");
  for (i = 0; i < nItem; i++) {
    const inv_val *it = &aItem[i], *k, *d;
    SExpr e;
    int bDesc = 0;
    if (!inv_val_is_obj(it)) return inv_stat_err(c, "", "each sort key is an object {key, desc}, not %s.", val(c, it));
    k = inv_stat_get(it, "key", "k");
    d = inv_val_get(it, "desc");
    if (d && d->t != INV_NULL) {
      if (d->t != INV_BOOL) return inv_stat_err(c, "desc", "must be true or false, not %s.", val(c, d));
      bDesc = d->u.b;
    }
    if (!inv_stat_is_str(k)) continue;                        /* an empty key: no sort */
    {
      size_t n0 = c->b->n;
      const char *zKey;
      if (keyExpr(c, k->u.s.z, k->u.s.n, 1, &e)) return INV_ERROR;
      zKey = inv_q_take(c->q, n0);
      if (!zKey || c->q->d->xOrderTerm(c->q, zKey, e.eKind, bDesc)) {
        return zKey ? INV_ERROR : inv_err_nomem(c->s);
      }
    }
    inv_buf_adds(c->b, ", ");
  }
  inv_buf_printf(c->b, "p._seq) AS _seq FROM s%d AS p", c->iCte);
  cteClose(c);
  return INV_OK;
}

/* ---- limit / skip ---- */

static int stageLimit(SC *c, const inv_val *o, int bSkip) {
  int64_t n;
  if (o->t == INV_BOOL || !inv_val_integer(o, &n) || n < 0 || (!bSkip && n == 0)) {
    return inv_stat_err(c, "", bSkip ? "must be an integer of 0 or more, not %s."
                                     : "must be a positive integer, not %s.", val(c, o));
  }
  cteOpen(c);
  inv_stat_add_cols(c, "p");
  inv_buf_printf(c->b, ", p._seq AS _seq FROM s%d AS p ORDER BY p._seq LIMIT ", c->iCte);
  if (bSkip) {
    if (c->q->d->xLimit(c->q, -1)) return INV_ERROR;
    inv_buf_adds(c->b, " OFFSET ");
  }
  if (inv_q_bind_int(c->q, n)) return INV_ERROR;
  cteClose(c);
  return INV_OK;
}

/* ---- project ---- */

static const char zProjOps[] =
  "size, sum, array_to_object, object_to_array, add, subtract, multiply, divide";
static const char zArithOps[] = "add, subtract, multiply, divide";

static int projArith(SC *c, const char *zOp, const inv_val *fields, const inv_val *whole, int depth);
static const char *arithOp(const char *z) {
  static const char *const az[] = { "add", "subtract", "multiply", "divide", NULL };
  int i;
  for (i = 0; az[i]; i++) if (!strcmp(az[i], z)) return az[i];
  return NULL;
}

/* An arithmetic operand: a field name, a number, or a nested {operator, fields}. */
static int projOperand(SC *c, const char *zOp, const inv_val *x, const inv_val *whole, int depth) {
  SExpr e;
  if (x->t == INV_STR) {
    /* a non-numeric operand is an error, as in MongoDB (SQL engines would
    ** take 'abc' + 1 as 1 or fail otherwise); null and missing give null */
    size_t n0 = c->b->n;
    const char *zV;
    if (keyValue(c, x->u.s.z, x->u.s.n, 0, &e)) return INV_ERROR;
    zV = inv_q_take(c->q, n0);
    if (!zV) return inv_err_nomem(c->s);
    return c->q->d->xOperand(c->q, zV, e.eKind, zOp);
  }
  if (x->t == INV_INT || x->t == INV_REAL) return inv_q_bind_val(c->q, x);
  if (x->t == INV_OBJ) {
    const inv_val *op = inv_stat_get(x, "operator", "o"), *f = inv_stat_get(x, "fields", "f");
    if (!op) {
      return inv_stat_err(c, "fields", "%s: the operation %s has no operator; use one of %s.",
                          fieldName(c, whole), val(c, x), zArithOps);
    }
    if (!inv_stat_is_str(op) || !arithOp(op->u.s.z)) {
      return inv_stat_err(c, "fields", "%s: the operator %s of an operation inside it is not "
                          "supported; use one of %s.", fieldName(c, whole), val(c, op), zArithOps);
    }
    return projArith(c, arithOp(op->u.s.z), f, whole, depth + 1);
  }
  return inv_stat_err(c, "fields", "%s: %s is not a field name, a number or an {operator, fields} "
                      "object.", fieldName(c, whole), val(c, x));
}

static int projArith(SC *c, const char *zOp, const inv_val *fields, const inv_val *whole, int depth) {
  size_t i;
  int bTwo = !strcmp(zOp, "subtract") || !strcmp(zOp, "divide");
  if (depth > 16) return inv_stat_err(c, "fields", "%s: operations nest at most 16 deep.", fieldName(c, whole));
  if (!fields || !inv_val_is_arr(fields) || fields->u.arr.n == 0) {
    return inv_stat_err(c, "fields", "%s: %s needs fields, a list of field names, numbers or "
                        "{operator, fields} objects%s%s.", fieldName(c, whole), zOp,
                        fields ? ", not " : "", fields ? val(c, fields) : "");
  }
  if (bTwo && fields->u.arr.n != 2) {
    return inv_stat_err(c, "fields", "%s: %s takes exactly two values, not %s.",
                        fieldName(c, whole), zOp, val(c, fields));
  }
  if (fields->u.arr.n > 100) {
    return inv_stat_err(c, "fields", "%s: %s takes at most 100 values, not %zu.",
                        fieldName(c, whole), zOp, fields->u.arr.n);
  }
  if (!strcmp(zOp, "divide")) {
    size_t n0 = c->b->n, n1;
    const char *zA, *zB;
    if (projOperand(c, zOp, &fields->u.arr.a[0], whole, depth)) return INV_ERROR;
    n1 = c->b->n;
    if (projOperand(c, zOp, &fields->u.arr.a[1], whole, depth)) return INV_ERROR;
    zB = inv_q_take(c->q, n1);
    zA = zB ? inv_q_take(c->q, n0) : NULL;
    if (!zA) return inv_err_nomem(c->s);
    return c->q->d->xDivide(c->q, zA, zB);
  }
  {
    /* the operands, then the dialect's arithmetic over them */
    const char *az[100];
    for (i = 0; i < fields->u.arr.n; i++) {
      size_t n0 = c->b->n;
      if (projOperand(c, zOp, &fields->u.arr.a[i], whole, depth)) return INV_ERROR;
      az[i] = inv_q_take(c->q, n0);
      if (!az[i]) return inv_err_nomem(c->s);
    }
    return c->q->d->xArith(c->q, zOp[0] == 'a' ? '+' : zOp[0] == 's' ? '-' : '*', az, (int)i);
  }
}

/* size / sum / array_to_object / object_to_array of the key's value. */
static int projUnary(SC *c, const char *zOp, const inv_val *k, int *pKind) {
  size_t n0 = c->b->n;
  SExpr e;
  char *zE;
  if (keyExpr(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
  if (e.bMissing) {                                   /* "NULL", nothing bound */
    c->b->n = n0;
    inv_buf_adds(c->b, strcmp(zOp, "sum") ? "NULL" : "0");
    return INV_OK;
  }
  zE = inv_q_take(c->q, n0);
  if (!zE) return inv_err_nomem(c->s);
  /* the key's SQL may hold bound parameters: emit it once, through a subquery */
  inv_buf_adds(c->b, "(SELECT ");
  if (c->q->d->xProjectUnary(c->q, zOp, e.eKind)) return INV_ERROR;
  if (strcmp(zOp, "size") && strcmp(zOp, "sum")) *pKind = K_JSON;
  /* a plain value is not JSON: quoted, it is a JSON string (size of it fails) */
  inv_buf_adds(c->b, " FROM (SELECT ");
  if (e.eKind == K_JSON || !strcmp(zOp, "sum")) inv_buf_adds(c->b, zE);
  else if (c->q->d->xQuote(c->q, zE)) return INV_ERROR;
  inv_buf_adds(c->b, " AS x) AS px)");
  return INV_OK;
}

static int stageProject(SC *c, const inv_val *o) {
  static const char *const az[] = { "fields", "exclude_keys", NULL };
  const inv_val *fields, *ex;
  SCol aNew[MAX_COLS];
  int nNew = 0, bExclude = 0, i;
  size_t j;
  if (checkKeys(c, o, az)) return INV_ERROR;
  fields = inv_val_get(o, "fields");
  ex = inv_val_get(o, "exclude_keys");
  if (ex && ex->t != INV_NULL) {
    if (ex->t != INV_BOOL) return inv_stat_err(c, "exclude_keys", "must be true or false, not %s.", val(c, ex));
    bExclude = ex->u.b;
  }
  if (!fields || fields->t == INV_NULL) {
    return inv_stat_err(c, "fields", "is required: a list of {name, key} or {name, operator, ...} objects.");
  }
  if (!inv_val_is_arr(fields)) {
    return inv_stat_err(c, "fields", "must be a list of {name, key} or {name, operator, ...} "
                        "objects, not %s.", val(c, fields));
  }
  if (fields->u.arr.n == 0) return inv_stat_err(c, "fields", "is empty: give at least one field.");
  if (fields->u.arr.n + (size_t)c->nCol > MAX_COLS) {
    return inv_stat_err(c, "fields", "at most %d fields, the group keys it keeps included; this has %zu.",
                        MAX_COLS, fields->u.arr.n + (size_t)c->nCol);
  }
  memset(aNew, 0, sizeof aNew);
  for (j = 0; j < fields->u.arr.n; j++) {        /* arithmetic names columns more than once */
    const inv_val *op = inv_val_is_obj(&fields->u.arr.a[j]) ? inv_stat_get(&fields->u.arr.a[j], "operator", "o") : NULL;
    if (inv_stat_is_str(op) && arithOp(op->u.s.z)) break;
  }
  if (j < fields->u.arr.n) cteOpenMaterialized(c);
  else cteOpen(c);
  /* the group keys stay unless exclude_keys */
  if (!c->bRaw && !bExclude) {
    for (i = 0; i < c->nCol; i++) {
      if (!c->aCol[i].bKey) continue;
      inv_buf_printf(c->b, "%sp.c%d AS c%d", nNew ? ", " : "", i, nNew);
      aNew[nNew++] = c->aCol[i];
    }
  }
  for (j = 0; j < fields->u.arr.n; j++) {
    const inv_val *fv = &fields->u.arr.a[j], *k, *n, *op, *sub;
    SExpr e;
    int kind = K_VAL;
    int bNullMissing = 0;
    const char *zOp;
    if (!inv_val_is_obj(fv)) {
      return inv_stat_err(c, "fields", "each field is an object {name, key} or {name, operator, ...}, "
                          "not %s.", val(c, fv));
    }
    k = inv_stat_get(fv, "key", "k");
    n = inv_stat_get(fv, "name", "n");
    op = inv_stat_get(fv, "operator", "o");
    sub = inv_stat_get(fv, "fields", "f");
    /* the reference checks the operator before the name */
    zOp = !op ? NULL : inv_stat_is_str(op) ? op->u.s.z : "";
    if (zOp && !arithOp(zOp) && strcmp(zOp, "size") && strcmp(zOp, "sum")
        && strcmp(zOp, "array_to_object") && strcmp(zOp, "object_to_array")) {
      return inv_stat_err(c, "fields", "the operator %s of %s is not supported; use one of %s.",
                          val(c, op), fieldName(c, fv), zProjOps);
    }
    if (!inv_stat_is_str(n)) return inv_stat_err(c, "fields", "%s has no name.", fieldName(c, fv));
    if (nNew) inv_buf_adds(c->b, ", ");
    if (!zOp) {
      if (!inv_stat_is_str(k)) {
        return inv_stat_err(c, "fields", "%s needs a key, the field whose value it takes.", fieldName(c, fv));
      }
      if (keyExpr(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      kind = e.eKind;
      bNullMissing = e.bNullMissing;           /* a missing key omits the field */
    } else if (arithOp(zOp)) {
      if (inv_stat_is_str(k) && !sub) {
        return inv_stat_err(c, "fields", "%s: %s takes fields, a list of values, not a key.",
                            fieldName(c, fv), zOp);
      }
      if (projArith(c, arithOp(zOp), sub, fv, 0)) return INV_ERROR;
    } else {
      if (!inv_stat_is_str(k)) return inv_stat_err(c, "fields", "%s: %s needs a key.", fieldName(c, fv), zOp);
      if (projUnary(c, zOp, k, &kind)) return INV_ERROR;
    }
    inv_buf_printf(c->b, " AS c%d", nNew);
    aNew[nNew].zName = n->u.s.z; aNew[nNew].nName = n->u.s.n;
    aNew[nNew].eKind = kind; aNew[nNew].bKey = 0; aNew[nNew].bNullMissing = bNullMissing;
    nNew++;
  }
  inv_buf_printf(c->b, ", p._seq AS _seq FROM s%d AS p", c->iCte);
  cteClose(c);
  /* exclude_keys resets the key list: later stages see plain names */
  memcpy(c->aCol, aNew, sizeof(SCol) * (size_t)nNew);
  c->nCol = nNew;
  c->bRaw = 0;
  c->iUnwound = -1;
  return INV_OK;
}

/* ===================== the statement ===================== */


int inv_stat_stages(SC *c, const inv_val *agg) {
  static const char *const azStage[] = { "unwind", "group", "count", "sort", "project", "limit", "skip", NULL };
  size_t i;
  c->zStage = NULL;
  if (agg->u.arr.n > 64) {
    return inv_stat_err(c, "", "a pipeline has at most 64 stages; this one has %zu.", agg->u.arr.n);
  }
  for (i = 0; i < agg->u.arr.n; i++) {
    const inv_val *st = &agg->u.arr.a[i], *v = NULL;
    int k = 0;
    c->zStage = NULL;
    if (inv_val_is_obj(st)) {
      for (k = 0; azStage[k]; k++) if ((v = inv_val_get(st, azStage[k])) != NULL) break;
    }
    if (!v) {
      return inv_stat_err(c, "", "each stage is an object with one of %s; %s has none.",
                          inv_msg_list(c->s, azStage), inv_msg_value(c->s, st, 200));
    }
    c->zStage = azStage[k];
    /* the order matters to a later stage unless only projects follow */
    {
      size_t j;
      c->bOrderFree = 1;
      for (j = i + 1; j < agg->u.arr.n && c->bOrderFree; j++) {
        const inv_val *later = &agg->u.arr.a[j];
        c->bOrderFree = inv_val_is_obj(later) && later->u.obj.n == 1 && inv_val_get(later, "project");
      }
    }
    if (k != 4) c->bNoSeq = 0;         /* a project keeps its input's order */
    c->bLastStage = i + 1 == agg->u.arr.n;
    c->zFinalOrder = NULL;
    switch (k) {
      case 0: if (stageUnwind(c, v)) return INV_ERROR; break;
      case 1: if (stageGroup(c, v)) return INV_ERROR; break;
      case 2: if (stageCount(c, v)) return INV_ERROR; break;
      case 3: if (stageSort(c, v)) return INV_ERROR; break;
      case 4: if (stageProject(c, v)) return INV_ERROR; break;
      default: if (stageLimit(c, v, k == 6)) return INV_ERROR; break;
    }
  }
  return c->b->bOom ? inv_err_nomem(c->s) : INV_OK;
}
