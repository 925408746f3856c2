/*
** inv_stat.c: stat (StatisticsQuery: distinct, or an aggregate pipeline of
** unwind, group, count, sort, project, limit, skip) compiled to one SQL
** statement: a chain of CTEs s0, s1, ... that SQLite runs in one pass.
**
** Every CTE carries its columns and a "_seq" column holding the stream order
** (insertion order at first, then what sort stages say). Order-sensitive
** accumulators (first, last, push) are aggregates that take _seq with the
** value and order by it themselves, so they do not depend on how SQLite
** feeds GROUP BY.
**
** Missing and null: a value SQL has as NULL is either "missing" (a path that
** names nothing, a column not stored) or a JSON null (a nullable column, a
** JSON null in a document). The reference keeps them apart: a missing group
** key or projected key is left out of the row, push skips missing values.
** SExpr/SCol.bNullMissing says which one a NULL is; JSON paths are kept as
** JSON text ("null" for a null) so that SQL NULL is always "missing".
**
** Output names never reach SQL: a stage's columns are c0, c1, ... and the
** names live in C (SCol). Group keys, field names, paths and values are all
** bound or mapped. Errors raised while building a stage are wrapped as the
** reference wraps them: ERROR_DB_QUERY "Database query failed. (reason =
** <inner message>)".
*/
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include "inv_int.h"

/* kinds of values a column holds */
enum { K_VAL = 0,   /* plain SQL value: integer, real, text or null */
       K_TIME,      /* integer ms since epoch: rendered as ISO 8601 */
       K_JSON };    /* JSON text: rendered as the value it encodes */

typedef struct SCol SCol;
struct SCol {
  const char *zName;       /* output name */
  size_t nName;
  int eKind;
  int bKey;                /* a group key (kept by project unless exclude_keys) */
  int bNullMissing;        /* SQL NULL here means "missing": the key is left out */
};

#define MAX_COLS 64

typedef struct SC SC;
struct SC {
  inv_store *s;
  const inv_resource *r;
  inv_q *q;
  inv_buf *b;
  int iCte;                /* current CTE is s<iCte> */
  int bRaw;                /* rows are documents (id, fields..., _u) */
  int bScalar;             /* rows are single values (distinct) */
  int iUnwound;            /* raw: field index unwound into _u, or -1 */
  SCol aCol[MAX_COLS];     /* named stage columns */
  int nCol;
};

/* An expression over the current CTE row ("p"). */
typedef struct SExpr SExpr;
struct SExpr {
  int eKind;
  int bMissing;            /* the key names nothing: always null */
  int bNullMissing;        /* SQL NULL means a missing value (not a null one) */
};

/* ===================== errors ===================== */

/* A stage error, wrapped like the reference: inner ERROR_DB_QUERY messages
** appear nested. bDbInner: the inner error is itself a DB_QUERY. */
static int stageErr(SC *c, int bDbInner, const char *zFmt, ...) {
  char zInner[700];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zInner, sizeof zInner, zFmt, ap);
  va_end(ap);
  if (bDbInner) {
    return inv_err(c->s, "ERROR_DB_QUERY",
                   "Database query failed. (reason = Database query failed. (reason = %s))", zInner);
  }
  return inv_err(c->s, "ERROR_DB_QUERY", "Database query failed. (reason = %s)", zInner);
}
static int stageRequired(SC *c, const char *zKey) {
  return stageErr(c, 0, "Required parameter. (key = %s)", zKey);
}

/* ===================== small value helpers ===================== */

static const inv_val *getAlias(const inv_val *o, const char *zLong, const char *zShort) {
  const inv_val *v = inv_val_get(o, zLong);
  if (!v && zShort) v = inv_val_get(o, zShort);
  return v && v->t != INV_NULL ? v : NULL;
}
static int isStr(const inv_val *v) { return v && v->t == INV_STR && v->u.s.n > 0; }

static void bindStr(SC *c, const char *z, size_t n) { inv_q_bind_text(c->q, z, n); }

/* ===================== column lists ===================== */

static void addRawCols(SC *c, const char *zAlias) {
  int i;
  inv_buf_printf(c->b, "%s.id", zAlias);
  for (i = 0; i < c->r->nField; i++) inv_buf_printf(c->b, ", %s.%s", zAlias, c->r->aField[i].zName);
  inv_buf_printf(c->b, ", %s._u", zAlias);
}
static void addNamedCols(SC *c, const char *zAlias) {
  int i;
  for (i = 0; i < c->nCol; i++) inv_buf_printf(c->b, "%s%s.c%d", i ? ", " : "", zAlias, i);
}
static void addCols(SC *c, const char *zAlias) {
  if (c->bRaw) addRawCols(c, zAlias); else addNamedCols(c, zAlias);
}
/* start "s<n+1> AS (SELECT" */
static void cteOpen(SC *c) { inv_buf_printf(c->b, ", s%d AS (SELECT ", c->iCte + 1); }
/* A CTE SQLite must not flatten into the next one: that would copy each of
** its expressions in wherever the next stage names the column, so a chain
** of projects that name a column twice ("add a a") grows exponentially. */
static void cteOpenMaterialized(SC *c) {
  inv_buf_printf(c->b, ", s%d AS MATERIALIZED (SELECT ", c->iCte + 1);
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

/* JSON path "$."a"."b"" of segments z[0..n) split on '.', from segment iFrom. */
static const char *jsonPath(SC *c, const char *z, size_t n, int iFrom, int bFirstIndex) {
  inv_buf tmp;
  size_t i = 0, i0;
  int iSeg = 0;
  char *zOut;
  inv_buf_init(&tmp);
  inv_buf_addc(&tmp, '$');
  while (i <= n) {
    i0 = i;
    while (i < n && z[i] != '.') i++;
    if (iSeg >= iFrom) {
      /* labels are written as the stored JSON writes keys (escaped) */
      if (iSeg == iFrom && bFirstIndex) inv_buf_printf(&tmp, "[%.*s]", (int)(i - i0), z + i0);
      else { inv_buf_addc(&tmp, '.'); inv_json_write_str(&tmp, z + i0, i - i0); }
    }
    iSeg++;
    i++;
  }
  zOut = tmp.bOom ? NULL : inv_arena_strdup(&c->s->arena, tmp.z, tmp.n);
  inv_buf_free(&tmp);
  return zOut;
}

static int allDigits(const char *z, size_t n) {
  size_t i;
  if (!n || n > 9) return 0;
  for (i = 0; i < n; i++) if (z[i] < '0' || z[i] > '9') return 0;
  return 1;
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
      const char *zPath = jsonPath(c, zDot + 1, n - (size_t)(zDot - z) - 1, 0, 0);
      if (!zPath) return inv_err_nomem(c->s);
      inv_buf_printf(c->b, "(p.c%d -> ", iHead);
      bindStr(c, zPath, strlen(zPath));
      inv_buf_addc(c->b, ')');
      e->eKind = K_JSON;
      e->bNullMissing = 1;
      return INV_OK;
    }
    if (i < 0) {
      if (bError) return stageErr(c, 1, "Cannot resolve field \"%.*s\"", (int)(n > 200 ? 200 : n), z);
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
    const char *zDot = memchr(z, '.', n);
    size_t nHead = zDot ? (size_t)(zDot - z) : n;
    int iField;
    const inv_field *f;
    if (c->r->bTasks && n == 13 && memcmp(z, "user_projects", 13) == 0) { z = "project_id"; n = nHead = 10; zDot = NULL; }
    iField = inv_field_index(c->r, z, nHead);
    if (iField < 0 || (zDot && inv_key_check(c->s, c->r, z, n, &iField))) {
      if (bError) {
        return stageErr(c, 1, "Cannot resolve field \"%.*s\"", (int)(nHead > 200 ? 200 : nHead), z);
      }
      /* raw paths: an unknown key, or a path below a scalar or into an
      ** error element's unknown member, is missing (as in MongoDB) */
      inv_buf_adds(c->b, "NULL");
      e->bMissing = e->bNullMissing = 1;
      c->s->zErrCode = NULL;
      return INV_OK;
    }
    f = &c->r->aField[iField];
    if (!zDot) {
      if (iField == c->iUnwound) { inv_buf_adds(c->b, "p._u"); e->eKind = K_JSON; return INV_OK; }
      inv_buf_printf(c->b, "p.%s", f->zName);
      e->eKind = f->eType == F_TIME ? K_TIME : (f->eType == F_OBJ || f->eType == F_ERRS) ? K_JSON : K_VAL;
      /* only null=True columns hold an explicit null (reference 1.4) */
      e->bNullMissing = !(f->flags & FF_NULLABLE);
      return INV_OK;
    }
    {
      const char *zRest = zDot + 1;
      size_t nRest = n - nHead - 1;
      const char *zPath;
      e->eKind = K_JSON;
      e->bNullMissing = 1;                 /* "->" gives 'null' for a JSON null */
      if (f->eType == F_OBJ || iField == c->iUnwound) {
        zPath = jsonPath(c, zRest, nRest, 0, 0);
        if (!zPath) return inv_err_nomem(c->s);
        inv_buf_printf(c->b, iField == c->iUnwound ? "(p._u -> " : "(p.%s -> ", f->zName);
        bindStr(c, zPath, strlen(zPath));
        inv_buf_addc(c->b, ')');
        return INV_OK;
      }
      /* F_ERRS, not unwound: errors.0.x is one element; errors.x is the
      ** array of the elements' values (the reference groups by it) */
      {
        const char *zDot2 = memchr(zRest, '.', nRest);
        size_t nSeg = zDot2 ? (size_t)(zDot2 - zRest) : nRest;
        if (allDigits(zRest, nSeg)) {
          zPath = jsonPath(c, zRest, nRest, 0, 1);
          if (!zPath) return inv_err_nomem(c->s);
          inv_buf_printf(c->b, "(p.%s -> ", f->zName);
          bindStr(c, zPath, strlen(zPath));
          inv_buf_addc(c->b, ')');
          return INV_OK;
        }
        zPath = jsonPath(c, zRest, nRest, 0, 0);
        if (!zPath) return inv_err_nomem(c->s);
        /* an array, maybe [] (no element has it); missing when the
        ** document has no errors at all (a v2 Job) */
        inv_buf_printf(c->b, "(SELECT CASE WHEN p.%s IS NOT NULL THEN json_group_array(json(ea.value -> ",
                       f->zName);
        bindStr(c, zPath, strlen(zPath));
        inv_buf_printf(c->b, ")) END FROM json_each(p.%s) AS ea WHERE json_type(ea.value, ", f->zName);
        bindStr(c, zPath, strlen(zPath));
        inv_buf_adds(c->b, ") IS NOT NULL)");
        return INV_OK;
      }
    }
  }
}

/* The key as a plain SQL value (numbers, text) for arithmetic and order. */
static int keyValue(SC *c, const char *z, size_t n, int bError, SExpr *e) {
  size_t n0 = c->b->n;
  int nBind0 = c->q->nBind;
  if (keyExpr(c, z, n, bError, e)) return INV_ERROR;
  if (e->eKind == K_JSON) {
    /* wrap: json_extract(<expr>, '$') */
    size_t nExpr = c->b->n - n0;
    char *zExpr = inv_arena_strdup(&c->s->arena, c->b->z + n0, nExpr);
    if (!zExpr) return inv_err_nomem(c->s);
    c->b->n = n0;
    inv_buf_adds(c->b, "json_extract(");
    inv_buf_add(c->b, zExpr, nExpr);
    inv_buf_adds(c->b, ", '$')");
    (void)nBind0;
  }
  return INV_OK;
}

/* Datetime formats inside JSON containers: push by key keeps the ISO form
** of 7.2; the datetime sub-fields of push render without milliseconds, as
** the reference does. */
#define TIME_ISO "'%Y-%m-%dT%H:%M:%S.%LZ'"
#define TIME_SEC "'%Y-%m-%dT%H:%M:%SZ'"

/* The key as JSON text, for JSON containers (push, add_to_set,
** merge_objects): SQL NULL when the value is missing, "null" when it is a
** null. zTimeFmt: an SQL string literal, how datetimes render. */
static int keyJson(SC *c, const char *z, size_t n, const char *zTimeFmt) {
  size_t n0 = c->b->n;
  SExpr e;
  char *zExpr;
  if (keyExpr(c, z, n, 0, &e)) return INV_ERROR;
  if (e.eKind == K_JSON) return INV_OK;       /* JSON text already, NULL = missing */
  zExpr = inv_arena_strdup(&c->s->arena, c->b->z + n0, c->b->n - n0);
  if (!zExpr) return inv_err_nomem(c->s);
  c->b->n = n0;
  inv_buf_printf(c->b, "inv_json_value(%s, %d", zExpr, e.bNullMissing);
  if (e.eKind == K_TIME) inv_buf_printf(c->b, ", %s", zTimeFmt);
  inv_buf_addc(c->b, ')');
  return INV_OK;
}

/* ===================== stages ===================== */

static int checkKeys(SC *c, const inv_val *o, const char *const *az, const char *zWhere) {
  size_t i;
  if (!inv_val_is_obj(o)) return stageErr(c, 1, "Parameter type is invalid. (key = %s, type = dict)", zWhere);
  for (i = 0; i < o->u.obj.n; i++) {
    const char *const *pz;
    for (pz = az; *pz; pz++) if (strcmp(*pz, o->u.obj.a[i].zKey) == 0) break;
    if (!*pz) {
      return stageErr(c, 0, "Parameter is invalid. (key = %s.%.60s, reason = Unknown parameter.)",
                      zWhere, o->u.obj.a[i].zKey);
    }
  }
  return INV_OK;
}

/* ---- unwind ---- */

/* The restricted match after an unwind (reference 4.2.1): raw paths, no
** coercion, case-sensitive unescaped regex for the contain family. */
static int unwindFilter(SC *c, const inv_val *pFilter) {
  size_t i;
  if (!inv_val_is_arr(pFilter)) return stageErr(c, 1, "Parameter type is invalid. (key = aggregate.unwind.filter, type = list)");
  for (i = 0; i < pFilter->u.arr.n; i++) {
    const inv_val *cond = &pFilter->u.arr.a[i];
    const inv_val *k, *v, *o;
    const char *zOp;
    int bNeg = 0, bList, bLike;
    SExpr e;
    if (!inv_val_is_obj(cond)) return stageRequired(c, "aggregate.match.filter");
    k = getAlias(cond, "key", "k");
    v = getAlias(cond, "value", "v");
    o = getAlias(cond, "operator", "o");
    /* a falsy key, value or operator is "required" (reference) */
    if (!isStr(k) || !isStr(o) || !v || (v->t == INV_BOOL && !v->u.b)
        || (v->t == INV_INT && v->u.i == 0) || (v->t == INV_REAL && v->u.r == 0)
        || (v->t == INV_STR && v->u.s.n == 0) || (inv_val_is_arr(v) && v->u.arr.n == 0)) {
      return stageRequired(c, "aggregate.match.filter");
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
    else return stageErr(c, 0, "Unsupported operator: %.40s", zOp);
    if (bList && !inv_val_is_arr(v)) return stageErr(c, 0, "Unsupported value for %s: a list is required", zOp);
    inv_buf_adds(c->b, " AND ");
    if (bNeg) inv_buf_adds(c->b, "NOT coalesce(");
    inv_buf_addc(c->b, '(');
    {
      size_t j, nv = bList ? v->u.arr.n : 1;
      for (j = 0; j < nv; j++) {
        const inv_val *x = bList ? &v->u.arr.a[j] : v;
        if (j) inv_buf_adds(c->b, " OR ");
        if (bLike) {
          char zErr[200];
          if (x->t != INV_STR) return stageErr(c, 0, "Unsupported value for %s: a string is required", zOp);
          if (c->q->d->xRegexCheck(x->u.s.z, x->u.s.n, zErr, sizeof zErr)) return stageErr(c, 1, "%s", zErr);
          if (inv_q_count_regex(c->q)) return INV_ERROR;
          inv_buf_adds(c->b, "inv_regexp(");
          bindStr(c, x->u.s.z, x->u.s.n);
          inv_buf_adds(c->b, ", ");
          if (keyValue(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
          inv_buf_adds(c->b, ", 1)");
        } else {
          inv_buf_adds(c->b, "(+");               /* raw values: no affinity, no coercion */
          if (keyValue(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
          if (x->t == INV_NULL) inv_buf_adds(c->b, " IS NULL");
          else {
            inv_buf_adds(c->b, " = ");
            inv_q_bind_val(c->q, x);
          }
          inv_buf_addc(c->b, ')');
        }
      }
    }
    inv_buf_addc(c->b, ')');
    if (bNeg) inv_buf_adds(c->b, ", 0)");
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
  return unwindFilter(&c, pFilter);
}

static int stageUnwind(SC *c, const inv_val *o) {
  static const char *const az[] = { "path", "filter", NULL };
  const inv_val *path, *filter;
  const char *z;
  size_t n;
  int iField;
  if (checkKeys(c, o, az, "aggregate.unwind")) return INV_ERROR;
  path = inv_val_get(o, "path");
  if (!isStr(path)) return stageRequired(c, "aggregate.unwind.path");
  z = path->u.s.z;
  n = path->u.s.n;
  if (!c->bRaw) {
    /* a named column (after group/count/project): an array gives one row
    ** per element, in element order; null, missing and [] drop the row;
    ** any other value is a one-element array (MongoDB's $unwind) */
    int iCol = findCol(c, z, n), j;
    if (iCol < 0) return stageErr(c, 1, "Cannot resolve field \"%.*s\"", (int)(n > 200 ? 200 : n), z);
    cteOpen(c);
    if (c->aCol[iCol].eKind != K_JSON) {
      addNamedCols(c, "p");
      inv_buf_printf(c->b, ", p._seq AS _seq FROM s%d AS p WHERE p.c%d IS NOT NULL", c->iCte, iCol);
    } else {
      for (j = 0; j < c->nCol; j++) {
        if (j) inv_buf_adds(c->b, ", ");
        if (j == iCol) {
          inv_buf_printf(c->b, "CASE WHEN json_type(p.c%d) = 'array' THEN p.c%d -> u.fullkey "
                         "ELSE p.c%d END AS c%d", j, j, j, j);
        } else {
          inv_buf_printf(c->b, "p.c%d", j);
        }
      }
      inv_buf_printf(c->b, ", row_number() OVER (ORDER BY p._seq, u.key) AS _seq FROM s%d AS p, "
                     "json_each(CASE WHEN json_type(p.c%d) = 'array' THEN p.c%d ELSE '[0]' END) AS u "
                     "WHERE json_type(p.c%d) <> 'null'", c->iCte, iCol, iCol, iCol);
    }
    cteClose(c);
  } else {
    iField = inv_field_index(c->r, z, n);
    if (iField < 0 || c->r->aField[iField].eType != F_ERRS) {
      return stageErr(c, 1, "Cannot resolve field \"%.*s\"", (int)(n > 200 ? 200 : n), z);
    }
    if (c->iUnwound >= 0) return stageErr(c, 0, "%.100s is already unwound.", z);
    /* the element replaces the array in the document (and is kept as _u,
    ** JSON text, for paths below it); documents with [] are dropped */
    cteOpen(c);
    {
      int i;
      inv_buf_adds(c->b, "p.id");
      for (i = 0; i < c->r->nField; i++) {
        if (i == iField) inv_buf_printf(c->b, ", p.%s -> u.fullkey AS %s", c->r->aField[i].zName, c->r->aField[i].zName);
        else inv_buf_printf(c->b, ", p.%s", c->r->aField[i].zName);
      }
      inv_buf_printf(c->b, ", p.%s -> u.fullkey AS _u, p._seq * 1000000 + u.key AS _seq FROM s%d AS p, "
                     "json_each(p.%s) AS u WHERE json_type(p.%s) = 'array'", c->r->aField[iField].zName,
                     c->iCte, c->r->aField[iField].zName, c->r->aField[iField].zName);
    }
    cteClose(c);
    c->iUnwound = iField;
  }
  filter = inv_val_get(o, "filter");
  if (filter && filter->t != INV_NULL) {
    /* the restricted match sees the unwound element */
    cteOpen(c);
    addCols(c, "p");
    inv_buf_printf(c->b, ", p._seq AS _seq FROM s%d AS p WHERE 1", c->iCte);
    if (unwindFilter(c, filter)) return INV_ERROR;
    cteClose(c);
  }
  return INV_OK;
}

/* ---- group ---- */

static const char zGroupOps[] =
  "['count', 'sum', 'average', 'max', 'min', 'first', 'last', 'push', 'add_to_set', 'merge_objects']";

/* `conditions` given: a missing, null or empty list means none (the
** reference tests it for truth). */
static int condsPresent(const inv_val *conds) {
  return conds && conds->t != INV_NULL && !(inv_val_is_arr(conds) && conds->u.arr.n == 0);
}

/* Check the `conditions` of a group field (the reference checks them right
** after the name, before the field's key). */
static int groupCondsCheck(SC *c, const inv_val *conds) {
  size_t i;
  if (!inv_val_is_arr(conds)) return stageErr(c, 1, "Parameter type is invalid. (key = aggregate.group.fields.conditions, type = list)");
  for (i = 0; i < conds->u.arr.n; i++) {
    const inv_val *x = &conds->u.arr.a[i], *o;
    const char *zOp;
    const char *zRepr = inv_cond_repr(c->s, x);
    if (!inv_val_is_obj(x) || !isStr(getAlias(x, "key", "k"))) {
      return stageErr(c, 1, "'aggregate.group.fields.conditions.key' condition requires a key: %s", zRepr);
    }
    if (!getAlias(x, "value", "v")) {
      return stageErr(c, 1, "'aggregate.group.fields.conditions.value' condition requires a value: %s", zRepr);
    }
    o = getAlias(x, "operator", "o");
    if (!isStr(o)) {
      return stageErr(c, 1, "'aggregate.group.fields.conditions.operator' condition requires a operator: %s", zRepr);
    }
    zOp = o->u.s.z;
    if (strcmp(zOp, "eq") && strcmp(zOp, "not") && strcmp(zOp, "gt") && strcmp(zOp, "gte")
        && strcmp(zOp, "lt") && strcmp(zOp, "lte")) {
      return stageErr(c, 1, "'aggregate.group.fields.conditions.operator' condition's %.40s operator is not "
                      "supported. (supported_operator = ['eq', 'not', 'gt', 'gte', 'lt', 'lte'])", zOp);
    }
  }
  return INV_OK;
}

/* The (checked) conditions as one SQL boolean, ANDed. They are
** aggregation-expression comparisons: no coercion and no type bracketing,
** the total BSON order instead (null and missing below everything, numbers
** below strings). So the key loses its column affinity ("+", else SQLite
** would turn "5" into 5 for an INTEGER column) and a NULL key compares as
** the smallest value. `not` is "!=" (the reference's compiles to an invalid
** expression: QUIRK fixed). The value is never null (checked). */
static int groupConds(SC *c, const inv_val *conds) {
  size_t i;
  inv_buf_addc(c->b, '(');
  for (i = 0; i < conds->u.arr.n; i++) {
    const inv_val *x = &conds->u.arr.a[i];
    const inv_val *k = getAlias(x, "key", "k"), *v = getAlias(x, "value", "v");
    const char *zOp = getAlias(x, "operator", "o")->u.s.z;
    int bEq = !strcmp(zOp, "eq"), bNot = !strcmp(zOp, "not"), bLt = zOp[0] == 'l';
    SExpr e;
    if (i) inv_buf_adds(c->b, " AND ");
    inv_buf_adds(c->b, bEq || bNot ? "(+" : "coalesce(+");
    if (keyValue(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
    inv_buf_adds(c->b, bEq ? " IS " : bNot ? " IS NOT " : !strcmp(zOp, "gt") ? " > " :
                       !strcmp(zOp, "gte") ? " >= " : bLt && zOp[2] == 0 ? " < " : " <= ");
    if (e.eKind == K_TIME && v->t == INV_STR) {
      int64_t ms;
      if (inv_time_parse_lenient(v->u.s.z, v->u.s.n, &ms)) {
        return stageErr(c, 0, "Parameter is invalid. (key = %.100s, reason = not a datetime.)", k->u.s.z);
      }
      inv_q_bind_int(c->q, ms);
    } else if (v->t == INV_ARR || v->t == INV_OBJ) {
      inv_buf_adds(c->b, "json(");
      inv_q_bind_val(c->q, v);
      inv_buf_addc(c->b, ')');
    } else {
      inv_q_bind_val(c->q, v);
    }
    /* NULL only comes from the key: below any value */
    inv_buf_adds(c->b, bEq || bNot ? ")" : bLt ? ", 1)" : ", 0)");
  }
  inv_buf_addc(c->b, ')');
  return INV_OK;
}

/* The key expressions of a group as a select list "expr AS c0, ...", their
** kinds into aCol. */
static int groupKeyExprs(SC *c, const inv_val *const *apKey, int nKey, SCol *aCol) {
  int i;
  for (i = 0; i < nKey; i++) {
    const inv_val *kv = apKey[i];
    const inv_val *k = getAlias(kv, "key", "k"), *df = inv_val_get(kv, "date_format");
    SExpr e;
    size_t n0;
    if (i) inv_buf_adds(c->b, ", ");
    n0 = c->b->n;
    /* an empty date_format is no date_format (the reference tests its truth) */
    if (df && df->t != INV_NULL && !(df->t == INV_STR && df->u.s.n == 0)) {
      char *zE, zErr[80];
      int bPart;
      if (df->t != INV_STR) {
        return stageErr(c, 1, "Parameter type is invalid. (key = aggregate.group.keys.date_format, type = str)");
      }
      bPart = strlen(df->u.s.z) == df->u.s.n
              && (!strcmp(df->u.s.z, "year") || !strcmp(df->u.s.z, "month") || !strcmp(df->u.s.z, "day"));
      if (!bPart && inv_time_format_check(df->u.s.z, df->u.s.n, zErr, sizeof zErr)) {
        return stageErr(c, 1, "%s", zErr);     /* MongoDB refuses it when parsing */
      }
      if (keyExpr(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      if (e.eKind != K_TIME && !e.bMissing) {
        return stageErr(c, 1, "date_format requires a datetime field: %.100s", k->u.s.z);
      }
      zE = inv_arena_strdup(&c->s->arena, c->b->z + n0, c->b->n - n0);
      if (!zE) return inv_err_nomem(c->s);
      c->b->n = n0;
      if (bPart) {
        inv_buf_printf(c->b, "CAST(inv_date_format(%s, '%s') AS INTEGER)", zE,
                       df->u.s.z[0] == 'y' ? "%Y" : df->u.s.z[0] == 'm' ? "%m" : "%d");
      } else {
        inv_buf_printf(c->b, "inv_date_format(%s, ", zE);
        bindStr(c, df->u.s.z, df->u.s.n);
        inv_buf_addc(c->b, ')');
      }
      aCol[i].eKind = K_VAL;
      aCol[i].bNullMissing = 0;                /* a null date gives null */
    } else {
      if (keyExpr(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      aCol[i].eKind = e.eKind;
      aCol[i].bNullMissing = e.bNullMissing;   /* a missing key leaves the row */
    }
    inv_buf_printf(c->b, " AS c%d", i);
  }
  return INV_OK;
}

static int isGroupOp(const char *z) {
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
  if (!inv_val_is_obj(fv)) return stageErr(c, 1, "'aggregate.group.fields' condition requires a name: %s", inv_cond_repr(c->s, fv));
  k = getAlias(fv, "key", "k");
  n = getAlias(fv, "name", "n");
  op = getAlias(fv, "operator", "o");
  sub = getAlias(fv, "fields", "f");
  conds = inv_val_get(fv, "conditions");
  zOp = isStr(op) ? op->u.s.z : NULL;
  if (!zOp || !isGroupOp(zOp)) {
    return stageErr(c, 1, "'aggregate.group.fields' condition's %.40s operator is not supported. "
                    "(supported_operator = %s)", zOp ? zOp : "None", zGroupOps);
  }
  if (!isStr(n)) return stageErr(c, 1, "'aggregate.group.fields' condition requires a name: %s", inv_cond_repr(c->s, fv));
  if (sub && inv_val_is_arr(sub)) {
    size_t j;
    for (j = 0; j < sub->u.arr.n; j++) {
      const inv_val *sf = &sub->u.arr.a[j];
      if (!inv_val_is_obj(sf) || !isStr(getAlias(sf, "key", "k"))) {
        return stageErr(c, 1, "'aggregate.group.fields.fields' condition requires a key: %s", inv_cond_repr(c->s, fv));
      }
      if (!isStr(getAlias(sf, "name", "n"))) {
        return stageErr(c, 1, "'aggregate.group.fields.fields' condition requires a name: %s", inv_cond_repr(c->s, fv));
      }
    }
  }
  if (condsPresent(conds) && groupCondsCheck(c, conds)) return INV_ERROR;
  if (!strcmp(zOp, "push")) {
    if (!isStr(k) && !(sub && inv_val_is_arr(sub) && sub->u.arr.n)) {
      return stageErr(c, 1, "'aggregate.group.fields' condition requires fields: %s", inv_cond_repr(c->s, fv));
    }
  } else if (strcmp(zOp, "count") && !isStr(k)) {
    return stageErr(c, 1, "'aggregate.group.fields' condition requires a key: %s", inv_cond_repr(c->s, fv));
  }
  if (condsPresent(conds) && strcmp(zOp, "count") && strcmp(zOp, "sum") && strcmp(zOp, "average")) {
    return stageErr(c, 1, "'aggregate.group.fields' condition's conditions not supported: %s", inv_cond_repr(c->s, fv));
  }
  return INV_OK;
}

static int stageGroup(SC *c, const inv_val *o) {
  static const char *const az[] = { "keys", "fields", NULL };
  const inv_val *keys, *fields;
  const inv_val *apKey[MAX_COLS];
  size_t nKey = 0, nField = 0, i;
  SCol aNew[MAX_COLS];
  int nNew = 0, j;
  if (checkKeys(c, o, az, "aggregate.group")) return INV_ERROR;
  keys = inv_val_get(o, "keys");
  fields = inv_val_get(o, "fields");
  if (keys && keys->t != INV_NULL) {
    if (!inv_val_is_arr(keys)) return stageErr(c, 1, "Parameter type is invalid. (key = aggregate.group.keys, type = list)");
    nKey = keys->u.arr.n;
  } else keys = NULL;
  if (fields && fields->t != INV_NULL) {
    if (!inv_val_is_arr(fields)) return stageErr(c, 1, "Parameter type is invalid. (key = aggregate.group.fields, type = list)");
    nField = fields->u.arr.n;
  } else fields = NULL;
  if (nKey + nField == 0) return stageRequired(c, "aggregate.group.keys || aggregate.group.fields");
  if (nKey + nField > MAX_COLS) return stageErr(c, 0, "A group may have at most %d keys and fields.", MAX_COLS);
  memset(aNew, 0, sizeof aNew);
  /* validate keys */
  for (i = 0; i < nKey; i++) {
    const inv_val *kv = &keys->u.arr.a[i];
    const inv_val *k, *n;
    if (!inv_val_is_obj(kv)) return stageErr(c, 1, "'aggregate.group.keys' condition requires a key: %s", inv_cond_repr(c->s, kv));
    k = getAlias(kv, "key", "k");
    n = getAlias(kv, "name", "n");
    if (!isStr(k)) return stageErr(c, 1, "'aggregate.group.keys' condition requires a key: %s", inv_cond_repr(c->s, kv));
    if (!isStr(n)) return stageErr(c, 1, "'aggregate.group.keys' condition requires a name: %s", inv_cond_repr(c->s, kv));
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
    n = getAlias(&fields->u.arr.a[i], "name", "n");
    aNew[nNew].zName = n->u.s.z; aNew[nNew].nName = n->u.s.n; aNew[nNew].bKey = 0;
    nNew++;
  }

  /* the group: keys AS c0.., accumulators AS cK.., then _seq */
  cteOpen(c);
  if (groupKeyExprs(c, apKey, (int)nKey, aNew)) return INV_ERROR;
  for (i = 0; i < nField; i++) {
    const inv_val *fv = &fields->u.arr.a[i];
    const char *zOp = getAlias(fv, "operator", "o")->u.s.z;
    const inv_val *k = getAlias(fv, "key", "k"), *conds = inv_val_get(fv, "conditions");
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
      int bSum = zOp[0] == 's';
      /* non-numeric values are ignored; with conditions, failing docs give 0
      ** (and still count in an average: the reference's quirk) */
      inv_buf_adds(c->b, bSum ? "coalesce(sum(" : "avg(");
      if (bCond) {
        inv_buf_adds(c->b, "CASE WHEN ");
        if (groupConds(c, conds)) return INV_ERROR;
        inv_buf_adds(c->b, " THEN ");
      }
      {
        /* an INTEGER NOT NULL column of the schema needs no numeric guard */
        int bTypedInt = 0;
        if (c->bRaw && !memchr(k->u.s.z, '.', k->u.s.n)) {
          int fi = inv_field_index(c->r, k->u.s.z, k->u.s.n);
          bTypedInt = fi >= 0 && fi != c->iUnwound && c->r->aField[fi].eType == F_INT;
        }
        inv_buf_adds(c->b, bTypedInt ? "(" : "inv_number(");
      }
      if (keyValue(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      if (e.eKind == K_TIME) {
        return stageErr(c, 0, "%s of a datetime field is not supported: %.100s", zOp, k->u.s.z);
      }
      inv_buf_addc(c->b, ')');
      if (bCond) inv_buf_adds(c->b, " ELSE 0 END");
      inv_buf_adds(c->b, bSum ? "), 0)" : ")");
    } else if (!strcmp(zOp, "max") || !strcmp(zOp, "min")) {
      inv_buf_adds(c->b, zOp[1] == 'a' ? "max(" : "min(");
      if (keyValue(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      inv_buf_addc(c->b, ')');
      if (e.eKind == K_TIME) aNew[iCol].eKind = K_TIME;
    } else if (!strcmp(zOp, "first") || !strcmp(zOp, "last")) {
      /* the value of the document with the smallest/largest _seq; a
      ** missing value gives null */
      inv_buf_adds(c->b, zOp[0] == 'f' ? "inv_first(p._seq, " : "inv_last(p._seq, ");
      if (keyExpr(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      inv_buf_addc(c->b, ')');
      aNew[iCol].eKind = e.eKind;
    } else if (!strcmp(zOp, "push")) {
      /* in _seq order; a missing value is skipped, a missing sub-field is
      ** left out of its object */
      const inv_val *sub = getAlias(fv, "fields", "f");
      inv_buf_adds(c->b, "inv_push(p._seq, ");
      if (isStr(k)) {
        if (keyJson(c, k->u.s.z, k->u.s.n, TIME_ISO)) return INV_ERROR;
      } else {
        size_t iSub;
        int nPut = 0;
        inv_buf_adds(c->b, "inv_object(");
        for (iSub = 0; iSub < sub->u.arr.n; iSub++) {
          const inv_val *sf = &sub->u.arr.a[iSub];
          const inv_val *sk = getAlias(sf, "key", "k"), *sn = getAlias(sf, "name", "n");
          size_t iLater;
          /* a name given twice keeps its last key, as a dict would */
          for (iLater = iSub + 1; iLater < sub->u.arr.n; iLater++) {
            const inv_val *ln = getAlias(&sub->u.arr.a[iLater], "name", "n");
            if (ln->u.s.n == sn->u.s.n && memcmp(ln->u.s.z, sn->u.s.z, sn->u.s.n) == 0) break;
          }
          if (iLater < sub->u.arr.n) continue;
          if (nPut++) inv_buf_adds(c->b, ", ");
          bindStr(c, sn->u.s.z, sn->u.s.n);
          inv_buf_adds(c->b, ", ");
          if (keyJson(c, sk->u.s.z, sk->u.s.n, TIME_SEC)) return INV_ERROR;
        }
        inv_buf_addc(c->b, ')');
      }
      inv_buf_addc(c->b, ')');
      aNew[iCol].eKind = K_JSON;
    } else {                                   /* add_to_set, merge_objects */
      inv_buf_adds(c->b, zOp[0] == 'a' ? "inv_add_to_set(" : "inv_merge_objects(p._seq, ");
      if (keyJson(c, k->u.s.z, k->u.s.n, TIME_ISO)) return INV_ERROR;
      inv_buf_addc(c->b, ')');
      aNew[iCol].eKind = K_JSON;
    }
    inv_buf_printf(c->b, " AS c%d", iCol);
  }
  inv_buf_printf(c->b, ", row_number() OVER () AS _seq FROM s%d AS p", c->iCte);
  if (nKey) {
    inv_buf_adds(c->b, " GROUP BY ");
    for (i = 0; i < nKey; i++) inv_buf_printf(c->b, "%s%d", i ? ", " : "", (int)i + 1);
  }
  inv_buf_adds(c->b, " HAVING count(*) > 0");          /* no input, no rows */
  cteClose(c);
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
  if (checkKeys(c, o, az, "aggregate.count")) return INV_ERROR;
  n = getAlias(o, "name", NULL);
  if (!isStr(n)) return stageRequired(c, "aggregate.count.name");
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
    const inv_val *k = getAlias(o, "key", NULL), *ks = getAlias(o, "keys", NULL);
    if (checkKeys(c, o, az, "aggregate.sort")) return INV_ERROR;
    if (isStr(k)) { aItem = o; nItem = 1; }
    else if (ks && inv_val_is_arr(ks) && ks->u.arr.n) { aItem = ks->u.arr.a; nItem = ks->u.arr.n; }
    else if (ks && !inv_val_is_arr(ks)) {
      return stageErr(c, 1, "Parameter type is invalid. (key = aggregate.sort.keys, type = list)");
    } else return stageRequired(c, "aggregate.sort.key");
  } else if (inv_val_is_arr(o)) {
    aItem = o->u.arr.a; nItem = o->u.arr.n;
  } else {
    return stageErr(c, 1, "Parameter type is invalid. (key = aggregate.sort, type = list)");
  }
  cteOpen(c);
  addCols(c, "p");
  inv_buf_adds(c->b, ", row_number() OVER (ORDER BY ");
  for (i = 0; i < nItem; i++) {
    const inv_val *it = &aItem[i], *k, *d;
    SExpr e;
    int bDesc = 0;
    if (!inv_val_is_obj(it)) return stageErr(c, 1, "Parameter type is invalid. (key = aggregate.sort, type = list of dict)");
    k = getAlias(it, "key", "k");
    d = inv_val_get(it, "desc");
    if (d && d->t != INV_NULL) {
      if (d->t != INV_BOOL) return stageErr(c, 1, "Parameter type is invalid. (key = aggregate.sort.desc, type = bool)");
      bDesc = d->u.b;
    }
    if (!isStr(k)) continue;                        /* an empty key: no sort */
    if (keyValue(c, k->u.s.z, k->u.s.n, 1, &e)) return INV_ERROR;
    inv_buf_adds(c->b, bDesc ? " DESC, " : ", ");
  }
  inv_buf_printf(c->b, "p._seq) AS _seq FROM s%d AS p", c->iCte);
  cteClose(c);
  return INV_OK;
}

/* ---- limit / skip ---- */

static int stageLimit(SC *c, const inv_val *o, int bSkip) {
  int64_t n;
  if (o->t == INV_BOOL || !inv_val_integer(o, &n) || n < 0 || (!bSkip && n == 0)) {
    return stageErr(c, 0, bSkip ? "the skip value must be a non-negative integer"
                                : "the limit must be positive");
  }
  cteOpen(c);
  addCols(c, "p");
  inv_buf_printf(c->b, ", p._seq AS _seq FROM s%d AS p ORDER BY p._seq LIMIT ", c->iCte);
  if (bSkip) inv_buf_adds(c->b, "-1 OFFSET ");
  inv_q_bind_int(c->q, n);
  cteClose(c);
  return INV_OK;
}

/* ---- project ---- */

static const char zProjOps[] =
  "['size', 'sum', 'array_to_object', 'object_to_array', 'add', 'subtract', 'multiply', 'divide']";

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
    /* a non-numeric operand is an error, as in MongoDB (SQLite would take
    ** 'abc' + 1 as 1); null and missing give null */
    inv_buf_adds(c->b, "inv_operand(");
    if (keyValue(c, x->u.s.z, x->u.s.n, 0, &e)) return INV_ERROR;
    inv_buf_printf(c->b, ", '%s')", zOp);             /* zOp: one of ours */
    return INV_OK;
  }
  if (x->t == INV_INT || x->t == INV_REAL) return inv_q_bind_val(c->q, x);
  if (x->t == INV_OBJ) {
    const inv_val *op = getAlias(x, "operator", "o"), *f = getAlias(x, "fields", "f");
    if (!isStr(op) || (strcmp(op->u.s.z, "add") && strcmp(op->u.s.z, "subtract")
                       && strcmp(op->u.s.z, "multiply") && strcmp(op->u.s.z, "divide"))) {
      return stageErr(c, 1, "'aggregate.project.fields' condition's %.40s operator is not supported. "
                      "(supported_operator = %s)", isStr(op) ? op->u.s.z : "None", zProjOps);
    }
    return projArith(c, arithOp(op->u.s.z), f, x, depth + 1);
  }
  return stageErr(c, 1, "'aggregate.project.fields' condition accept only string or object or "
                  "numeric types: %s", inv_cond_repr(c->s, whole));
}

static int projArith(SC *c, const char *zOp, const inv_val *fields, const inv_val *whole, int depth) {
  size_t i;
  int bTwo = !strcmp(zOp, "subtract") || !strcmp(zOp, "divide");
  if (depth > 16) return stageErr(c, 0, "project expressions nest at most 16 levels");
  if (!fields || !inv_val_is_arr(fields) || fields->u.arr.n == 0) {
    return stageErr(c, 1, "'aggregate.project.fields' condition requires a fields: %s", inv_cond_repr(c->s, whole));
  }
  if (bTwo && fields->u.arr.n != 2) {
    return stageErr(c, 1, "'aggregate.project.fields' condition's %s operator requires two fields: %s",
                    zOp, inv_cond_repr(c->s, whole));
  }
  if (fields->u.arr.n > 100) return stageErr(c, 0, "project expressions take at most 100 fields");
  if (!strcmp(zOp, "divide")) {
    inv_buf_adds(c->b, "inv_divide(");
    if (projOperand(c, zOp, &fields->u.arr.a[0], whole, depth)) return INV_ERROR;
    inv_buf_adds(c->b, ", ");
    if (projOperand(c, zOp, &fields->u.arr.a[1], whole, depth)) return INV_ERROR;
    inv_buf_addc(c->b, ')');
    return INV_OK;
  }
  inv_buf_addc(c->b, '(');
  for (i = 0; i < fields->u.arr.n; i++) {
    if (i) inv_buf_adds(c->b, zOp[0] == 'a' ? " + " : zOp[0] == 's' ? " - " : " * ");
    if (projOperand(c, zOp, &fields->u.arr.a[i], whole, depth)) return INV_ERROR;
  }
  inv_buf_addc(c->b, ')');
  return INV_OK;
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
  zE = inv_arena_strdup(&c->s->arena, c->b->z + n0, c->b->n - n0);
  if (!zE) return inv_err_nomem(c->s);
  c->b->n = n0;
  /* the key's SQL may hold bound parameters: emit it once, through a subquery */
  inv_buf_printf(c->b, "(SELECT ");
  if (!strcmp(zOp, "size")) {
    inv_buf_adds(c->b, "inv_array_size(x)");
  } else if (!strcmp(zOp, "sum")) {
    /* $sum: the numbers of an array or the value itself; non-numeric
    ** values (and dates) are ignored, nothing numeric gives 0 */
    inv_buf_adds(c->b, e.eKind == K_JSON
      ? "CASE WHEN json_type(x) = 'array' THEN (SELECT coalesce(sum(inv_number(value)), 0) "
        "FROM json_each(x)) ELSE coalesce(inv_number(json_extract(x, '$')), 0) END"
      : e.eKind == K_TIME ? "0" : "coalesce(inv_number(x), 0)");
  } else if (!strcmp(zOp, "object_to_array")) {
    inv_buf_adds(c->b, "CASE WHEN json_type(x) = 'object' THEN (SELECT json_group_array("
                       "json_object('k', key, 'v', CASE WHEN type IN ('object','array') "
                       "THEN json(value) ELSE value END)) FROM json_each(x)) END");
    *pKind = K_JSON;
  } else {
    inv_buf_adds(c->b, "CASE WHEN json_type(x) = 'array' THEN inv_array_to_object(x) END");
    *pKind = K_JSON;
  }
  /* a plain value is not JSON: quoted, it is a JSON string (size of it fails) */
  if (e.eKind == K_JSON || !strcmp(zOp, "sum")) inv_buf_printf(c->b, " FROM (SELECT %s AS x))", zE);
  else inv_buf_printf(c->b, " FROM (SELECT json_quote(%s) AS x))", zE);
  return INV_OK;
}

static int stageProject(SC *c, const inv_val *o) {
  static const char *const az[] = { "fields", "exclude_keys", NULL };
  const inv_val *fields, *ex;
  SCol aNew[MAX_COLS];
  int nNew = 0, bExclude = 0, i;
  size_t j;
  if (checkKeys(c, o, az, "aggregate.project")) return INV_ERROR;
  fields = inv_val_get(o, "fields");
  ex = inv_val_get(o, "exclude_keys");
  if (ex && ex->t != INV_NULL) {
    if (ex->t != INV_BOOL) return stageErr(c, 1, "Parameter type is invalid. (key = aggregate.project.exclude_keys, type = bool)");
    bExclude = ex->u.b;
  }
  if (!fields || !inv_val_is_arr(fields) || fields->u.arr.n == 0) return stageRequired(c, "aggregate.project.fields");
  if (fields->u.arr.n + (size_t)c->nCol > MAX_COLS) return stageErr(c, 0, "A project may have at most %d fields.", MAX_COLS);
  memset(aNew, 0, sizeof aNew);
  for (j = 0; j < fields->u.arr.n; j++) {        /* arithmetic names columns more than once */
    const inv_val *op = inv_val_is_obj(&fields->u.arr.a[j]) ? getAlias(&fields->u.arr.a[j], "operator", "o") : NULL;
    if (isStr(op) && arithOp(op->u.s.z)) break;
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
    if (!inv_val_is_obj(fv)) return stageErr(c, 1, "'aggregate.project.fields' condition requires a name: %s", inv_cond_repr(c->s, fv));
    k = getAlias(fv, "key", "k");
    n = getAlias(fv, "name", "n");
    op = getAlias(fv, "operator", "o");
    sub = getAlias(fv, "fields", "f");
    /* the reference checks the operator before the name */
    zOp = !op ? NULL : isStr(op) ? op->u.s.z : "";
    if (zOp && !arithOp(zOp) && strcmp(zOp, "size") && strcmp(zOp, "sum")
        && strcmp(zOp, "array_to_object") && strcmp(zOp, "object_to_array")) {
      return stageErr(c, 1, "'aggregate.project.fields' condition's %.40s operator is not supported. "
                      "(supported_operator = %s)", zOp, zProjOps);
    }
    if (!isStr(n)) return stageErr(c, 1, "'aggregate.project.fields' condition requires a name: %s", inv_cond_repr(c->s, fv));
    if (nNew) inv_buf_adds(c->b, ", ");
    if (!zOp) {
      if (!isStr(k)) return stageErr(c, 1, "'aggregate.project.fields' condition requires a key: %s", inv_cond_repr(c->s, fv));
      if (keyExpr(c, k->u.s.z, k->u.s.n, 0, &e)) return INV_ERROR;
      kind = e.eKind;
      bNullMissing = e.bNullMissing;           /* a missing key omits the field */
    } else if (arithOp(zOp)) {
      if (isStr(k) && !sub) {
        return stageErr(c, 1, "'aggregate.project.fields' condition requires a fields: %s", inv_cond_repr(c->s, fv));
      }
      if (projArith(c, arithOp(zOp), sub, fv, 0)) return INV_ERROR;
    } else {
      if (!isStr(k)) return stageErr(c, 1, "'aggregate.project.fields' condition requires a key: %s", inv_cond_repr(c->s, fv));
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

static const char zStageList[] = "aggregate.unwind or aggregate.group or aggregate.count or "
  "aggregate.sort or aggregate.project or aggregate.limit or aggregate.skip";

static int inv_stat_stages(SC *c, const inv_val *agg) {
  static const char *const azStage[] = { "unwind", "group", "count", "sort", "project", "limit", "skip", NULL };
  size_t i;
  if (agg->u.arr.n > 64) return stageErr(c, 0, "An aggregate may have at most 64 stages.");
  for (i = 0; i < agg->u.arr.n; i++) {
    const inv_val *st = &agg->u.arr.a[i], *v = NULL;
    int k = 0;
    if (inv_val_is_obj(st)) {
      for (k = 0; azStage[k]; k++) if ((v = inv_val_get(st, azStage[k])) != NULL) break;
    }
    if (!v) return stageRequired(c, zStageList);
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

/* Render the current row of the final SELECT. */
/* Column i of the final SELECT as a value (NULL: null). */
static void renderValue(SC *c, inv_stmt *p, int i, inv_sink *k) {
  inv_store *s = c->s;
  int t = inv_col_type(s, p, i);
  int eKind = c->aCol[i].eKind;
  size_t n;
  if (t == INV_T_REAL && !isfinite(inv_col_real(s, p, i))) t = INV_T_NULL;
  if (t == INV_T_NULL) {
    k->xNull(k);
  } else if (eKind == K_TIME && t == INV_T_INT) {
    char zT[32];
    inv_time_format(inv_col_int(s, p, i), zT);
    k->xStr(k, zT, strlen(zT));
  } else if ((eKind == K_JSON && t == INV_T_TEXT) || t == INV_T_JSON) {
    const char *z = inv_col_text(s, p, i, &n);
    inv_emit_json(s, k, z, n);
  } else if (t == INV_T_INT) {
    k->xInt(k, inv_col_int(s, p, i));
  } else if (t == INV_T_REAL) {
    k->xReal(k, inv_col_real(s, p, i));
  } else {
    const char *z = inv_col_text(s, p, i, &n);
    k->xStr(k, z, n);
  }
}

/* Render the current row of the final SELECT: a document, a scalar
** (distinct), or an object of the named columns. */
static void renderRow(SC *c, inv_stmt *p, inv_sink *k, int f) {
  int i, j;
  if (c->bRaw) {
    inv_render_row(c->s, c->r, p, 1, k, f, NULL);
    return;
  }
  if (c->bScalar) {
    renderValue(c, p, 0, k);
    return;
  }
  k->xBeginObj(k, c->nCol);
  for (i = 0; i < c->nCol; i++) {
    int t = inv_col_type(c->s, p, i);
    /* a later column of the same name wins */
    for (j = i + 1; j < c->nCol; j++) {
      if (c->aCol[j].nName == c->aCol[i].nName
          && !memcmp(c->aCol[j].zName, c->aCol[i].zName, c->aCol[i].nName)) break;
    }
    if (j < c->nCol) continue;
    /* no NaN or infinity reaches a result (1e308 * 10): null instead */
    if (t == INV_T_REAL && !isfinite(inv_col_real(c->s, p, i))) t = INV_T_NULL;
    /* a missing value leaves the row; a null one is null (Lua: nil) */
    if (t == INV_T_NULL && (c->aCol[i].bNullMissing || !(f & R_JSON))) continue;
    k->xKey(k, c->aCol[i].zName, c->aCol[i].nName);
    renderValue(c, p, i, k);
  }
  k->xEndObj(k);
}

/* Run "WITH ... SELECT <cols> FROM sN ORDER BY _seq LIMIT ? OFFSET ?" and,
** when paged, the count. nWith: length of the WITH part in c->b. */
static int runPipeline(SC *c, int64_t start, int64_t limit, inv_sink *k, int f, int bMore) {
  inv_store *s = c->s;
  size_t nWith = c->b->n;
  int nBindWith = c->q->nBind, rc = INV_DONE;
  int64_t nRow = 0, total = -1, nWant;
  inv_stmt *p, *pc;
  inv_buf_adds(c->b, " SELECT ");
  addCols(c, "p");
  inv_buf_printf(c->b, " FROM s%d AS p ORDER BY p._seq LIMIT ", c->iCte);
  inv_q_bind_int(c->q, limit > 0 ? limit + (bMore ? 1 : 0) : -1);
  inv_buf_adds(c->b, " OFFSET ");
  /* stat pages only with a limit (reference 4.4); analyze skips whenever
  ** start is given (5.7) */
  inv_q_bind_int(c->q, start > 1 && (limit > 0 || bMore) ? start - 1 : 0);
  if (c->b->bOom) return inv_err_nomem(s);
  p = inv_q_prepare(c->q);
  if (!p) return INV_ERROR;
  k->xBeginObj(k, 2);
  k->xKey(k, "results", 7);
  k->xBeginArr(k, -1);
  /* rows to read: analyze reads one more for "more"; a full stat page stops
  ** without stepping on, so the statement stays active and the count below
  ** reads the same snapshot (no BEGIN needed) */
  nWant = limit > 0 ? limit + (bMore ? 1 : 0) : INT64_MAX;
  while (nRow < nWant && (rc = inv_step(s, p)) == INV_ROW) {
    if (!(bMore && nRow == limit)) renderRow(c, p, k, f);
    nRow++;
  }
  if (rc < 0) return INV_ERROR;
  k->xEndArr(k);
  if (bMore) {
    k->xKey(k, "more", 4);
    k->xBool(k, nRow > limit);
  } else if (limit > 0) {
    if (nRow < limit && (nRow > 0 || start <= 1)) {
      total = (start > 1 ? start - 1 : 0) + nRow;     /* the page ran out */
    } else {
      c->b->n = nWith;
      c->b->z[nWith] = 0;
      inv_buf_printf(c->b, " SELECT count(*) FROM s%d", c->iCte);
      c->q->nBind = nBindWith;
      if (c->b->bOom) return inv_err_nomem(s);
      pc = inv_prepare(s, c->b->z);
      if (!pc || inv_q_apply(c->q, pc)) return INV_ERROR;
      rc = inv_step(s, pc);
      if (rc < 0) return INV_ERROR;
      total = rc == INV_ROW ? inv_col_int(s, pc, 0) : 0;
      inv_reset(s, pc);
    }
    k->xKey(k, "total_count", 11);
    k->xInt(k, total);
  }
  inv_reset(s, p);
  k->xEndObj(k);
  return INV_OK;
}

/* ===================== distinct ===================== */

static int runDistinct(SC *c, const inv_val *pKey, int64_t start, int64_t limit, inv_sink *k, int f) {
  const char *z = pKey->u.s.z;
  size_t n = pKey->u.s.n;
  const char *zDot = memchr(z, '.', n);
  size_t nHead = zDot ? (size_t)(zDot - z) : n;
  int iField = inv_field_index(c->r, z, nHead), kind = K_VAL;
  const inv_field *fd;
  if (iField >= 0 && zDot && inv_key_check(c->s, c->r, z, n, &iField)) { c->s->zErrCode = NULL; iField = -1; }
  if (iField < 0) {
    inv_buf_adds(c->b, ", d AS (SELECT NULL AS v FROM s0 WHERE 0)");  /* unknown path: [] */
  } else if (fd = &c->r->aField[iField], !zDot) {
    if (fd->eType == F_ERRS) {                                 /* flattened */
      inv_buf_printf(c->b, ", d AS (SELECT DISTINCT p.%s -> u.fullkey AS v FROM s0 AS p, "
                     "json_each(p.%s) AS u WHERE json_type(p.%s) = 'array')", fd->zName, fd->zName, fd->zName);
      kind = K_JSON;
    } else {
      /* a NULL is a value only in a null=True column; elsewhere it is a
      ** missing field, which MongoDB's distinct skips */
      inv_buf_printf(c->b, ", d AS (SELECT DISTINCT p.%s AS v FROM s0 AS p%s)", fd->zName,
                     (fd->flags & FF_NULLABLE) ? "" : " WHERE v IS NOT NULL");
      kind = fd->eType == F_TIME ? K_TIME : fd->eType == F_OBJ ? K_JSON : K_VAL;
    }
  } else {
    /* a path below a JSON column: x holds its JSON text per document (per
    ** element of errors), NULL when missing; embedded documents are values,
    ** arrays give their elements (MongoDB's distinct flattens them) */
    const char *zPath = jsonPath(c, zDot + 1, n - nHead - 1, 0, 0);
    if (!zPath) return inv_err_nomem(c->s);
    if (fd->eType == F_ERRS) {
      inv_buf_printf(c->b, ", x AS (SELECT (p.%s -> u.fullkey) -> ", fd->zName);
      bindStr(c, zPath, strlen(zPath));
      inv_buf_printf(c->b, " AS j FROM s0 AS p, json_each(p.%s) AS u WHERE json_type(p.%s) = 'array')",
                     fd->zName, fd->zName);
    } else {
      inv_buf_printf(c->b, ", x AS (SELECT p.%s -> ", fd->zName);
      bindStr(c, zPath, strlen(zPath));
      inv_buf_adds(c->b, " AS j FROM s0 AS p)");
    }
    inv_buf_adds(c->b, ", d AS (SELECT DISTINCT v FROM (SELECT j AS v FROM x WHERE json_type(j) <> 'array' "
                       "UNION ALL SELECT x.j -> e.fullkey FROM x, json_each(x.j) AS e "
                       "WHERE json_type(x.j) = 'array'))");
    kind = K_JSON;
  }
  /* ascending: null, numbers, strings (code points), then documents */
  if (kind == K_JSON) {
    inv_buf_adds(c->b, ", s1 AS (SELECT v AS c0, row_number() OVER (ORDER BY json_extract(v, '$'), v) "
                       "AS _seq FROM d)");
  } else {
    inv_buf_adds(c->b, ", s1 AS (SELECT v AS c0, row_number() OVER (ORDER BY v) AS _seq FROM d)");
  }
  c->iCte = 1;
  c->bRaw = 0;
  c->bScalar = 1;                    /* the results are the values themselves */
  c->nCol = 1;
  c->aCol[0].zName = "v"; c->aCol[0].nName = 1; c->aCol[0].eKind = kind;
  return runPipeline(c, start, limit, k, f, 0);
}

/* ===================== stat ===================== */

/* Scope, filter, keyword: s0 = the matching documents in insertion order. */
static int baseCte(SC *c, inv_req *rq, const inv_val *pQ) {
  int i;
  inv_buf_adds(c->b, "WITH s0 AS (SELECT t.id");
  for (i = 0; i < c->r->nField; i++) inv_buf_printf(c->b, ", t.%s", c->r->aField[i].zName);
  inv_buf_printf(c->b, ", NULL AS _u, t.id AS _seq FROM %s AS t WHERE ", c->r->zTable);
  return inv_where(c->q, inv_val_get(pQ, "filter"), inv_val_get(pQ, "filter_or"),
                   inv_val_get(pQ, "keyword"), &rq->conds);
}

/* Shared by stat and analyze: scope, filter and the s0 CTE. */
static int statBegin(inv_store *s, const inv_resource *r, const inv_val *req, const char *zMethod,
                   SC *c, inv_q *q, const inv_val **ppQuery, int64_t *pStart, int64_t *pLimit,
                   int bCap) {
  static const char *const azKeys[] = { "query", "domain_id", "workspace_id", "user_projects", NULL };
  inv_req rq;
  const inv_val *pQ;
  int i;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  pQ = inv_val_get(req, "query");
  if (!pQ || pQ->t == INV_NULL) return inv_err_required(s, "query");
  if (!inv_val_is_obj(pQ)) return inv_err_type(s, "query", "dict");
  inv_req_init(&rq, s, r, req, zMethod);
  if (inv_req_scope(&rq, 1)) return INV_ERROR;
  if (inv_page_parse(s, inv_val_get(pQ, "page"), "query.page", pStart, pLimit)) return INV_ERROR;
  if (bCap && inv_page_cap(s, "query.page", pLimit)) return INV_ERROR;
  memset(c, 0, sizeof *c);
  inv_q_init(q, s, r);
  inv_buf_reset(q->b);
  c->s = s; c->r = r; c->q = q; c->b = q->b;
  c->bRaw = 1; c->iUnwound = -1;
  *ppQuery = pQ;
  (void)i;
  if (baseCte(c, &rq, pQ)) return INV_ERROR;
  inv_buf_addc(c->b, ')');
  return INV_OK;
}

int inv_m_stat(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  static const char *const azQuery[] = {
    "filter", "filter_or", "keyword", "aggregate", "distinct", "page", NULL
  };
  SC c;
  inv_q q;
  const inv_val *pQ = NULL, *agg, *dist;
  int64_t start, limit;
  if (statBegin(s, r, req, "stat", &c, &q, &pQ, &start, &limit, r->bStatCap)) return INV_ERROR;
  if (inv_check_keys(s, pQ, azQuery, "query")) return INV_ERROR;
  agg = inv_val_get(pQ, "aggregate");
  dist = inv_val_get(pQ, "distinct");
  if (agg && agg->t != INV_NULL) {
    if (!inv_val_is_arr(agg)) {
      return inv_err_db(s, "Parameter type is invalid. (key = aggregate, type = list)");
    }
    if (agg->u.arr.n == 0) agg = NULL;
  } else agg = NULL;
  if (dist && (dist->t == INV_NULL || (dist->t == INV_STR && dist->u.s.n == 0))) dist = NULL;
  if (!agg && !dist) return inv_err_required(s, "aggregate");
  if (!agg) {
    if (dist->t != INV_STR) return inv_err_type(s, "query.distinct", "str");
    return runDistinct(&c, dist, start, limit, k, f);
  }
  if (inv_stat_stages(&c, agg)) return INV_ERROR;
  return runPipeline(&c, start, limit, k, f, 0);
}

/* ===================== analyze ===================== */
/*
** AnalyzeQuery (Job only) is validated with its own error codes, then turned
** into a stat pipeline: [unwind] -> group (group_by + fields) -> project
** (select) -> group (field_group pivot) -> sort -> page with "more".
*/

static inv_val *mkVal(inv_store *s, int t, size_t n) {
  inv_val *v = inv_arena_alloc(&s->arena, sizeof *v);
  if (!v) return NULL;
  memset(v, 0, sizeof *v);
  v->t = (unsigned char)t;
  if (t == INV_OBJ && n) {
    v->u.obj.a = inv_arena_alloc(&s->arena, sizeof(inv_kv) * n);
    if (!v->u.obj.a) return NULL;
  } else if (t == INV_ARR && n) {
    v->u.arr.a = inv_arena_alloc(&s->arena, sizeof(inv_val) * n);
    if (!v->u.arr.a) return NULL;
  }
  return v;
}
static void objPut(inv_val *o, const char *zKey, const inv_val *v) {
  inv_kv *kv = &o->u.obj.a[o->u.obj.n++];
  kv->zKey = zKey; kv->nKey = strlen(zKey);
  kv->v = *v;
}
static inv_val strVal(const char *z, size_t n) {
  inv_val v;
  memset(&v, 0, sizeof v);
  v.t = INV_STR; v.u.s.z = z; v.u.s.n = n;
  return v;
}
/* {"key": k, "name": n} */
static inv_val *keyName(inv_store *s, inv_val k, inv_val n) {
  inv_val *o = mkVal(s, INV_OBJ, 2);
  if (!o) return NULL;
  objPut(o, "key", &k);
  objPut(o, "name", &n);
  return o;
}

/* Append the stage {zName: v} to a pipeline (room was made for it). */
static int addStage(inv_store *s, inv_val *pipe, const char *zName, const inv_val *v) {
  inv_val *stage = mkVal(s, INV_OBJ, 1);
  if (!stage) return inv_err_nomem(s);
  objPut(stage, zName, v);
  pipe->u.arr.a[pipe->u.arr.n++] = *stage;
  return INV_OK;
}

static const char zSelectOps[] = "['add', 'subtract', 'multiply', 'divide', 'size', 'sum']";

int inv_m_analyze(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  static const char *const azQuery[] = {
    "group_by", "field_group", "fields", "select", "sort", "page", "filter", "filter_or",
    "keyword", "unwind", NULL
  };
  SC c;
  inv_q q;
  const inv_val *pQ, *gb, *fg, *fields, *sel, *sort, *unw;
  inv_val *pipe, *group, *keys, *gfields;
  size_t i, j, nFg = 0;
  int64_t start, limit;
  if (!r->bAnalyze) return inv_err_invalid(s, "method", "analyze is a method of job.");
  pQ = inv_val_get(req, "query");
  if (!pQ || pQ->t == INV_NULL) return inv_err_required(s, "query");
  if (!inv_val_is_obj(pQ)) return inv_err_type(s, "query", "dict");
  fields = inv_val_get(pQ, "fields");
  if (!fields || fields->t == INV_NULL) return inv_err_required(s, "query.fields");
  if (!inv_val_is_obj(fields)) return inv_err_type(s, "query.fields", "dict");
  {
    /* domain_id is required before the model checks the query */
    const char *zDomain;
    if (inv_req_string(s, req, "domain_id", 1, &zDomain)) return INV_ERROR;
  }
  if (inv_check_keys(s, pQ, azQuery, "query")) return INV_ERROR;
  gb = inv_val_get(pQ, "group_by");
  fg = inv_val_get(pQ, "field_group");
  sel = inv_val_get(pQ, "select");
  sort = inv_val_get(pQ, "sort");
  unw = inv_val_get(pQ, "unwind");

  /* 1. field_group */
  if (fg && fg->t != INV_NULL) {
    if (!inv_val_is_arr(fg)) return inv_err_type(s, "field_group", "list of str");
    for (i = 0; i < fg->u.arr.n; i++) {
      const inv_val *x = &fg->u.arr.a[i];
      if (x->t != INV_STR) return inv_err_type(s, "field_group", "list of str");
      if (strncmp(x->u.s.z, "_total_", 7) == 0) {
        return inv_err_invalid(s, "field_group", "Field group keys cannot contain _total_ characters.");
      }
    }
    nFg = fg->u.arr.n;
  }
  /* 2. group_by -> keys */
  if (gb && gb->t != INV_NULL && !inv_val_is_arr(gb)) return inv_err_type(s, "group_by", "list");
  keys = mkVal(s, INV_ARR, gb && gb->t != INV_NULL ? gb->u.arr.n : 0);
  if (!keys) return inv_err_nomem(s);
  for (i = 0; gb && gb->t != INV_NULL && i < gb->u.arr.n; i++) {
    const inv_val *x = &gb->u.arr.a[i];
    inv_val *kn;
    if (x->t == INV_STR) {
      const char *zLast = x->u.s.z, *z;
      for (z = x->u.s.z; *z; z++) if (*z == '.') zLast = z + 1;
      kn = keyName(s, *x, strVal(zLast, strlen(zLast)));
    } else if (x->t == INV_OBJ) {
      const inv_val *kk = inv_val_get(x, "key"), *nn = inv_val_get(x, "name");
      if (!isStr(kk) || !isStr(nn)) {
        return inv_err_invalid(s, "group_by", "group_by option requires a key and name.");
      }
      kn = keyName(s, *kk, *nn);
    } else {
      return inv_err_invalid(s, "group_by", "group_by option should be dict or str type.");
    }
    if (!kn) return inv_err_nomem(s);
    keys->u.arr.a[keys->u.arr.n++] = *kn;
  }
  /* 3. fields -> group fields */
  gfields = mkVal(s, INV_ARR, fields->u.obj.n);
  if (!gfields) return inv_err_nomem(s);
  for (i = 0; i < fields->u.obj.n; i++) {
    const inv_kv *kv = &fields->u.obj.a[i];
    const inv_val *op, *kk, *sub;
    inv_val *gf;
    /* conditions: accepted and ignored, as the reference does for analyze */
    static const char *const azField[] = { "operator", "key", "fields", "data_type", "conditions", NULL };
    if (!inv_val_is_obj(&kv->v)) return inv_err_type(s, "query.fields", "dict of dict");
    if (inv_check_keys(s, &kv->v, azField, "query.fields")) return INV_ERROR;
    op = inv_val_get(&kv->v, "operator");
    kk = inv_val_get(&kv->v, "key");
    sub = inv_val_get(&kv->v, "fields");
    if (!isStr(op)) return inv_err_required(s, "query.fields.operator");
    if (strcmp(op->u.s.z, "count") && strcmp(op->u.s.z, "push") && !isStr(kk)) {
      return inv_err_required(s, "query.fields.key");
    }
    if (!strcmp(op->u.s.z, "push") && !isStr(kk)
        && (!sub || sub->t == INV_NULL || (inv_val_is_obj(sub) && sub->u.obj.n == 0))) {
      return inv_err_required(s, "query.fields.fields");
    }
    gf = mkVal(s, INV_OBJ, 4);
    if (!gf) return inv_err_nomem(s);
    {
      inv_val nm = strVal(kv->zKey, kv->nKey);
      objPut(gf, "name", &nm);
      objPut(gf, "operator", op);
      if (isStr(kk)) objPut(gf, "key", kk);
    }
    if (sub && sub->t != INV_NULL && !isStr(kk)) {
      /* push fields: a map {outname: path} -> [{key, name}] */
      inv_val *l;
      if (!inv_val_is_obj(sub)) return inv_err_type(s, "query.fields.fields", "dict");
      l = mkVal(s, INV_ARR, sub->u.obj.n);
      if (!l) return inv_err_nomem(s);
      for (j = 0; j < sub->u.obj.n; j++) {
        const inv_kv *skv = &sub->u.obj.a[j];
        inv_val *kn;
        if (skv->v.t != INV_STR) return inv_err_type(s, "query.fields.fields", "dict of str");
        kn = keyName(s, skv->v, strVal(skv->zKey, skv->nKey));
        if (!kn) return inv_err_nomem(s);
        l->u.arr.a[l->u.arr.n++] = *kn;
      }
      objPut(gf, "fields", l);
    }
    gfields->u.arr.a[gfields->u.arr.n++] = *gf;
  }
  pipe = mkVal(s, INV_ARR, 6);
  if (!pipe) return inv_err_nomem(s);
  if (unw && unw->t != INV_NULL) {
    if (addStage(s, pipe, "unwind", unw)) return INV_ERROR;
  }
  group = mkVal(s, INV_OBJ, 2);
  if (!group) return inv_err_nomem(s);
  if (keys->u.arr.n) objPut(group, "keys", keys);
  if (gfields->u.arr.n) objPut(group, "fields", gfields);
  if (addStage(s, pipe, "group", group)) return INV_ERROR;
  /* 4. select -> project with exclude_keys */
  if (sel && sel->t != INV_NULL) {
    inv_val *pf, *proj, *tv;
    if (!inv_val_is_obj(sel)) return inv_err_type(s, "query.select", "dict");
    pf = mkVal(s, INV_ARR, sel->u.obj.n);
    if (!pf) return inv_err_nomem(s);
    for (i = 0; i < sel->u.obj.n; i++) {
      const inv_kv *kv = &sel->u.obj.a[i];
      inv_val *x;
      inv_val nm = strVal(kv->zKey, kv->nKey);
      if (kv->v.t == INV_STR) {
        x = keyName(s, kv->v, nm);
      } else if (kv->v.t == INV_OBJ) {
        const inv_val *op = inv_val_get(&kv->v, "operator");
        const inv_val *kk = inv_val_get(&kv->v, "key"), *ff = inv_val_get(&kv->v, "fields");
        const char *zOp = isStr(op) ? op->u.s.z : "";
        if (strcmp(zOp, "add") && strcmp(zOp, "subtract") && strcmp(zOp, "multiply")
            && strcmp(zOp, "divide") && strcmp(zOp, "size") && strcmp(zOp, "sum")) {
          char zR[128];
          snprintf(zR, sizeof zR, "supported_operator = %s", zSelectOps);
          return inv_err_invalid(s, "query.select.operator", zR);
        }
        /* key wins over fields; an empty fields list is no fields (the
        ** reference tests their truth) */
        if (!isStr(kk) && !(ff && ff->t != INV_NULL && !(inv_val_is_arr(ff) && ff->u.arr.n == 0))) {
          return inv_err_required(s, "query.select.fields");
        }
        x = mkVal(s, INV_OBJ, 4);
        if (!x) return inv_err_nomem(s);
        objPut(x, "name", &nm);
        objPut(x, "operator", op);
        if (isStr(kk)) objPut(x, "key", kk);
        else objPut(x, "fields", ff);
      } else {
        continue;                                /* silently skipped (reference) */
      }
      if (!x) return inv_err_nomem(s);
      pf->u.arr.a[pf->u.arr.n++] = *x;
    }
    proj = mkVal(s, INV_OBJ, 2);
    tv = mkVal(s, INV_BOOL, 0);
    if (!proj || !tv) return inv_err_nomem(s);
    tv->u.b = 1;
    objPut(proj, "fields", pf);
    objPut(proj, "exclude_keys", tv);
    if (addStage(s, pipe, "project", proj)) return INV_ERROR;
  }
  /* 5. field_group: a second group, pivoting the field_group keys */
  if (nFg) {
    inv_val *k2 = mkVal(s, INV_ARR, keys->u.arr.n);
    inv_val *f2 = mkVal(s, INV_ARR, gfields->u.arr.n * 2);
    inv_val *g2 = mkVal(s, INV_OBJ, 2);
    if (!k2 || !f2 || !g2) return inv_err_nomem(s);
    for (i = 0; i < keys->u.arr.n; i++) {
      const inv_val *nm = inv_val_get(&keys->u.arr.a[i], "name");
      int bPivot = 0;
      for (j = 0; j < nFg; j++) {
        if (fg->u.arr.a[j].u.s.n == nm->u.s.n && !memcmp(fg->u.arr.a[j].u.s.z, nm->u.s.z, nm->u.s.n)) bPivot = 1;
      }
      if (!bPivot) {
        inv_val *kn = keyName(s, *nm, *nm);
        if (!kn) return inv_err_nomem(s);
        k2->u.arr.a[k2->u.arr.n++] = *kn;
      }
    }
    for (i = 0; i < gfields->u.arr.n; i++) {
      const inv_val *nm = inv_val_get(&gfields->u.arr.a[i], "name");
      const char *zOp = inv_val_get(&gfields->u.arr.a[i], "operator")->u.s.z;
      inv_val *push = mkVal(s, INV_OBJ, 3), *sub = mkVal(s, INV_ARR, nFg + 1), *kn;
      inv_val opPush = strVal("push", 4), vValue = strVal("value", 5);
      if (!push || !sub) return inv_err_nomem(s);
      kn = keyName(s, *nm, vValue);
      if (!kn) return inv_err_nomem(s);
      sub->u.arr.a[sub->u.arr.n++] = *kn;
      for (j = 0; j < nFg; j++) {
        kn = keyName(s, fg->u.arr.a[j], fg->u.arr.a[j]);
        if (!kn) return inv_err_nomem(s);
        sub->u.arr.a[sub->u.arr.n++] = *kn;
      }
      objPut(push, "name", nm);
      objPut(push, "operator", &opPush);
      objPut(push, "fields", sub);
      if (!strcmp(zOp, "sum") || !strcmp(zOp, "count") || !strcmp(zOp, "average")
          || !strcmp(zOp, "max") || !strcmp(zOp, "min")) {
        /* _total_F: sum of counts/sums, unweighted mean of averages, max, min */
        inv_val *tot = mkVal(s, INV_OBJ, 3);
        char *zName = inv_arena_alloc(&s->arena, nm->u.s.n + 8);
        inv_val op = strVal(!strcmp(zOp, "average") ? "average" : !strcmp(zOp, "max") ? "max"
                            : !strcmp(zOp, "min") ? "min" : "sum", 0);
        inv_val vn;
        if (!tot || !zName) return inv_err_nomem(s);
        op.u.s.n = strlen(op.u.s.z);
        memcpy(zName, "_total_", 7);
        memcpy(zName + 7, nm->u.s.z, nm->u.s.n + 1);
        vn = strVal(zName, nm->u.s.n + 7);
        objPut(tot, "name", &vn);
        objPut(tot, "operator", &op);
        objPut(tot, "key", nm);
        f2->u.arr.a[f2->u.arr.n++] = *tot;
      }
      f2->u.arr.a[f2->u.arr.n++] = *push;     /* after _total_F, as the reference */
    }
    if (k2->u.arr.n) objPut(g2, "keys", k2);
    objPut(g2, "fields", f2);
    if (addStage(s, pipe, "group", g2)) return INV_ERROR;
  }
  /* 6. sort (field names become _total_<name> after a pivot) */
  if (sort && sort->t != INV_NULL) {
    inv_val *sl;
    if (!inv_val_is_arr(sort)) return inv_err_type(s, "query.sort", "list");
    sl = mkVal(s, INV_ARR, sort->u.arr.n);
    if (!sl) return inv_err_nomem(s);
    for (i = 0; i < sort->u.arr.n; i++) {
      const inv_val *it = &sort->u.arr.a[i];
      inv_val *o2;
      const inv_val *kk, *dd;
      if (!inv_val_is_obj(it)) return inv_err_type(s, "query.sort", "list of dict");
      kk = inv_val_get(it, "key");
      dd = inv_val_get(it, "desc");
      o2 = mkVal(s, INV_OBJ, 2);
      if (!o2) return inv_err_nomem(s);
      if (isStr(kk)) {
        inv_val kv2 = *kk;
        if (nFg && inv_val_get(fields, kk->u.s.z)) {
          char *z = inv_arena_alloc(&s->arena, kk->u.s.n + 8);
          if (!z) return inv_err_nomem(s);
          memcpy(z, "_total_", 7);
          memcpy(z + 7, kk->u.s.z, kk->u.s.n + 1);
          kv2 = strVal(z, kk->u.s.n + 7);
        }
        objPut(o2, "key", &kv2);
      }
      if (dd) objPut(o2, "desc", dd);
      sl->u.arr.a[sl->u.arr.n++] = *o2;
    }
    if (addStage(s, pipe, "sort", sl)) return INV_ERROR;
  }
  /* scope, filter, and the pipeline */
  {
    inv_val req2 = *req;
    if (statBegin(s, r, &req2, "analyze", &c, &q, &pQ, &start, &limit, 1)) return INV_ERROR;
  }
  if (inv_stat_stages(&c, pipe)) return INV_ERROR;
  return runPipeline(&c, start, limit, k, f, limit > 0);
}
