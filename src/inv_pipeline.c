/*
** inv_pipeline.c: running a stat pipeline (the page of rows and the count),
** rendering its rows, distinct, and the stat method itself: scope, page and
** filter make the first CTE (s0), inv_stage.c the rest.
*/
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include "inv_stat.h"

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

/* How the statement a pipeline ends with runs (statFinish writes it). */
typedef struct RunInfo RunInfo;
struct RunInfo {
  size_t nWith;            /* the WITH part's length in c->b (the count's) */
  int nBindWith;           /* its binds */
  int bWinCount;           /* the count comes with the rows (_n) */
  int iCount;              /* its column */
};

/* Append "SELECT <cols> FROM sN ORDER BY _seq LIMIT ? OFFSET ?" to the WITH
** part in c->b. */
static int statFinish(SC *c, int64_t start, int64_t limit, int bMore, RunInfo *ri) {
  inv_store *s = c->s;
  ri->nWith = c->b->n;
  ri->nBindWith = c->q->nBind;
  /* a paged stat on an engine whose statement holds no snapshot: the count
  ** comes with the rows (a window over the groups, which the ORDER BY
  ** computes all of anyway), not from a second statement in a read
  ** transaction (two round trips more) */
  ri->bWinCount = limit > 0 && !bMore && !(s->pDrv->iVersion >= 3 && s->pDrv->bStmtSnapshot) && !c->bNoSeq;
  ri->iCount = c->bRaw ? c->r->nField + 2 : c->nCol;
  if (limit <= 0 && !bMore && c->bNoSeq && c->iFoldCte && c->iFoldCte == c->iCte
      && c->nFoldEnd == c->b->n && !c->zFinalOrder && !c->bRaw && !c->bScalar
      && c->b->n > c->nFoldBody && c->nFoldBody > c->nFoldAt
      && memcmp(c->b->z + c->nFoldBody, "SELECT ", 7) == 0) {
    /* the last stage is a group in its GROUP BY order, nothing paged: its
    ** SELECT is the statement ("WITH s0 AS (...) SELECT <c0, c1, ..., _seq>
    ** ... GROUP BY ...": the columns the rows render come first) */
    size_t nBody = c->b->n - 1 - c->nFoldBody;     /* without the CTE's ')' */
    c->b->z[c->nFoldAt] = ' ';
    memmove(c->b->z + c->nFoldAt + 1, c->b->z + c->nFoldBody, nBody);
    c->b->n = c->nFoldAt + 1 + nBody;
    c->b->z[c->b->n] = 0;
    ri->nWith = c->b->n;
    ri->nBindWith = c->q->nBind;
    return c->b->bOom ? inv_err_nomem(s) : INV_OK;
  }
  inv_buf_adds(c->b, " SELECT ");
  inv_stat_add_cols(c, "p");
  if (ri->bWinCount) inv_buf_adds(c->b, ", count(*) OVER () AS _n");
  if (c->zFinalOrder) inv_buf_printf(c->b, " FROM s%d AS p ORDER BY %s LIMIT ", c->iCte, c->zFinalOrder);
  else inv_buf_printf(c->b, c->bNoSeq ? " FROM s%d AS p LIMIT " : " FROM s%d AS p ORDER BY p._seq LIMIT ",
                      c->iCte);
  c->q->d->xLimit(c->q, limit > 0 ? limit + (bMore ? 1 : 0) : -1);
  inv_buf_adds(c->b, " OFFSET ");
  /* stat pages only with a limit (reference 4.4); analyze skips whenever
  ** start is given (5.7) */
  inv_q_bind_int(c->q, start > 1 && (limit > 0 || bMore) ? start - 1 : 0);
  if (c->b->bOom) return inv_err_nomem(s);
  return INV_OK;
}

/* Run the statement in c->b (zKept: kept text, prepared by its address)
** with the binds of c->q and, when paged, the count. */
static int statExec(SC *c, const RunInfo *ri, const char *zKept, int64_t start, int64_t limit,
                    inv_sink *k, int f, int bMore) {
  inv_store *s = c->s;
  int rc = INV_DONE;
  int64_t nRow = 0, total, nWant, nAll = -1;
  inv_stmt *p, *pc;
  if (limit > 0 && !bMore && !ri->bWinCount && inv_read_snapshot(s)) return INV_ERROR;   /* the count's */
  if (zKept) {
    p = inv_prepare_static(s, zKept);
    if (p && inv_q_apply(c->q, p)) return INV_ERROR;
  } else p = inv_q_prepare(c->q);
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
    if (ri->bWinCount && nRow == 0) nAll = inv_col_int(s, p, ri->iCount);
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
    } else if (nAll >= 0) {
      total = nAll;                                   /* the rows' own count */
    } else {
      if (zKept) {
        inv_buf_reset(c->b);
        inv_buf_add(c->b, zKept, ri->nWith);
      } else {
        c->b->n = ri->nWith;
        c->b->z[ri->nWith] = 0;
      }
      inv_buf_printf(c->b, " SELECT count(*) FROM s%d", c->iCte);
      c->q->nBind = ri->nBindWith;
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

/* Run "WITH ... SELECT <cols> FROM sN ORDER BY _seq LIMIT ? OFFSET ?" and,
** when paged, the count. The WITH part is in c->b. */
int inv_stat_run(SC *c, int64_t start, int64_t limit, inv_sink *k, int f, int bMore) {
  RunInfo ri;
  if (statFinish(c, start, limit, bMore, &ri)) return INV_ERROR;
  return statExec(c, &ri, NULL, start, limit, k, f, bMore);
}

/* ===================== the compiled stat, kept (inv_reqcache.c) ===================== */

/* What a stat request compiled to, besides its binds: the pipeline's
** columns, the statement, the page. One block: the SQL text and the
** columns' names follow. */
typedef struct StatPlan StatPlan;
struct StatPlan {
  SC c;                    /* s, q, b and the compile-only pointers unset */
  RunInfo ri;
  int64_t start, limit;
  size_t nSql;
  char *zSql;
};

/* the SQL text a kept plan may have (a larger one is compiled every time) */
#define INV_RC_SQL (32 << 10)

/* The cache's kind of a request: resource, method, render flags. */
static int statKind(const inv_resource *r, int iMethod, int f) {
  return (r->iRes << 12) | (iMethod << 8) | (f & 0xff);
}

static StatPlan *planOf(const SC *c, const RunInfo *ri, int64_t start, int64_t limit) {
  size_t nNames = 0, n;
  int i;
  StatPlan *pl;
  char *z;
  for (i = 0; i < c->nCol; i++) nNames += c->aCol[i].nName + 1;
  pl = inv_malloc(sizeof *pl + c->b->n + 1 + nNames);
  if (!pl) return NULL;
  pl->c = *c;
  pl->c.s = NULL; pl->c.q = NULL; pl->c.b = NULL;
  pl->c.zKeyBase = NULL; pl->c.zStage = NULL; pl->c.zFinalOrder = NULL;
  pl->ri = *ri;
  pl->start = start;
  pl->limit = limit;
  pl->nSql = c->b->n;
  pl->zSql = z = (char*)(pl + 1);
  memcpy(z, c->b->z, c->b->n + 1);
  z += c->b->n + 1;
  for (i = 0; i < c->nCol; i++) {
    n = c->aCol[i].nName;
    if (n) memcpy(z, c->aCol[i].zName, n);
    z[n] = 0;
    pl->c.aCol[i].zName = z;
    z += n + 1;
  }
  return pl;
}

/* ===================== distinct ===================== */

static int runDistinct(SC *c, const inv_val *pKey, int64_t start, int64_t limit, inv_sink *k, int f) {
  const inv_dialect *d = c->q->d;
  inv_key key;
  const inv_field *fd;
  int kind = K_VAL;
  inv_acc a;
  memset(&a, 0, sizeof a);
  a.eKind = INV_ACC_EXPR;
  if (inv_key_resolve(c->s, c->r, pKey->u.s.z, pKey->u.s.n, 1, &key)) return INV_ERROR;
  fd = key.pField;
  if (key.iField < 0) {
    inv_buf_printf(c->b, ", d AS (SELECT NULL AS v FROM s0 WHERE %s)", d->zFalse);  /* unknown path: [] */
  } else if (key.nSeg == 1) {
    if (fd->eType == F_ERRS) {                                 /* flattened */
      const char *zArr = inv_stat_row_expr(c, "p.%s", fd->zName, 0);
      if (!zArr) return inv_err_nomem(c->s);
      a.zBase = zArr;
      inv_buf_adds(c->b, ", d AS (SELECT DISTINCT ");
      if (d->xEachElem(c->q, zArr, "u")) return INV_ERROR;
      inv_buf_adds(c->b, " AS v FROM s0 AS p, ");
      if (d->xEachFrom(c->q, zArr, "u")) return INV_ERROR;
      inv_buf_adds(c->b, " WHERE ");
      if (d->xJsonTypeIs(c->q, &a, INV_JT_ARRAY)) return INV_ERROR;
      inv_buf_addc(c->b, ')');
      kind = K_JSON;
    } else {
      /* a NULL is a value only in a null=True column; elsewhere it is a
      ** missing field, which MongoDB's distinct skips */
      inv_buf_printf(c->b, ", d AS (SELECT DISTINCT p.%s AS v FROM s0 AS p", fd->zName);
      if (!(fd->flags & FF_NULLABLE)) inv_buf_printf(c->b, " WHERE p.%s IS NOT NULL", fd->zName);
      inv_buf_addc(c->b, ')');
      kind = fd->eType == F_TIME ? K_TIME : fd->eType == F_OBJ ? K_JSON : K_VAL;
    }
  } else {
    /* a path below a JSON column: x holds its JSON text per document (per
    ** element of errors), NULL when missing; embedded documents are values,
    ** arrays give their elements (MongoDB's distinct flattens them) */
    const char *zCol = inv_stat_row_expr(c, "p.%s", fd->zName, 0), *zDoc = zCol;
    const char *zRest = key.azSeg[1];
    size_t nRest = pKey->u.s.n - (size_t)(zRest - pKey->u.s.z), n0;
    if (!zCol) return inv_err_nomem(c->s);
    inv_buf_adds(c->b, ", x AS (SELECT ");
    if (fd->eType == F_ERRS) {
      n0 = c->b->n;
      if (d->xEachElem(c->q, zCol, "u")) return INV_ERROR;
      zDoc = inv_q_take(c->q, n0);
      if (!zDoc) return inv_err_nomem(c->s);
    }
    if (inv_stat_json_at(c, zDoc, zRest, nRest, 0)) return INV_ERROR;
    inv_buf_adds(c->b, " AS j FROM s0 AS p");
    if (fd->eType == F_ERRS) {
      inv_buf_adds(c->b, ", ");
      if (d->xEachFrom(c->q, zCol, "u")) return INV_ERROR;
      inv_buf_adds(c->b, " WHERE ");
      a.zBase = zCol;
      if (d->xJsonTypeIs(c->q, &a, INV_JT_ARRAY)) return INV_ERROR;
    }
    inv_buf_adds(c->b, "), d AS (SELECT DISTINCT v FROM (SELECT j AS v FROM x WHERE NOT (");
    a.zBase = "j";
    if (d->xJsonTypeIs(c->q, &a, INV_JT_ARRAY)) return INV_ERROR;
    inv_buf_adds(c->b, ") UNION ALL SELECT ");
    if (d->xEachElem(c->q, "x.j", "e")) return INV_ERROR;
    inv_buf_adds(c->b, " FROM x, ");
    if (d->xEachFrom(c->q, "x.j", "e")) return INV_ERROR;
    inv_buf_adds(c->b, " WHERE ");
    a.zBase = "x.j";
    if (d->xJsonTypeIs(c->q, &a, INV_JT_ARRAY)) return INV_ERROR;
    inv_buf_adds(c->b, ") AS dv)");
    kind = K_JSON;
  }
  /* ascending: null, numbers, strings (code points), then documents; JSON
  ** values of equal value by their text */
  inv_buf_adds(c->b, ", s1 AS (SELECT v AS c0, row_number() OVER (ORDER BY ");
  if (d->xOrderTerm(c->q, "v", kind, 0)) return INV_ERROR;
  inv_buf_adds(c->b, kind == K_JSON ? ", v) AS _seq FROM d)" : ") AS _seq FROM d)");
  c->iCte = 1;
  c->bRaw = 0;
  c->bScalar = 1;                    /* the results are the values themselves */
  c->nCol = 1;
  c->aCol[0].zName = "v"; c->aCol[0].nName = 1; c->aCol[0].eKind = kind;
  return inv_stat_run(c, start, limit, k, f, 0);
}

/* ===================== stat ===================== */

/* Scope, filter, keyword: s0 = the matching documents in insertion order. */
static int baseCte(SC *c, inv_req *rq, const inv_val *pQ) {
  int i, rc;
  inv_buf_adds(c->b, "WITH s0 AS (SELECT t.id");
  for (i = 0; i < c->r->nField; i++) {
    inv_buf_add(c->b, ", t.", 4);
    inv_buf_add(c->b, c->r->aField[i].zName, c->r->aField[i].nName);
  }
  inv_buf_printf(c->b, ", NULL AS _u, t.id AS _seq FROM %s AS t WHERE ", c->r->zTable);
  /* the filter's verbatim strings are the compiled-request cache's slots */
  c->q->bSlots = 1;
  rc = inv_where(c->q, inv_val_get(pQ, "filter"), inv_val_get(pQ, "filter_or"),
                 inv_val_get(pQ, "keyword"), &rq->conds);
  c->q->bSlots = 0;
  return rc;
}

/* Shared by stat and analyze: scope, filter and the s0 CTE. */
int inv_stat_begin(inv_store *s, const inv_resource *r, const inv_val *req, const char *zMethod,
                   SC *c, inv_q *q, const inv_val **ppQuery, int64_t *pStart, int64_t *pLimit,
                   int bCap) {
  static const char *const azKeys[] = { "query", "domain_id", "workspace_id", "user_projects", NULL };
  inv_req rq;
  const inv_val *pQ;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  pQ = inv_val_get(req, "query");
  if (!pQ || pQ->t == INV_NULL) return inv_err_required(s, "query");
  if (!inv_val_is_obj(pQ)) return inv_err_type_of(s, "query", "object", pQ);
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
  inv_rc_req *pt = s->pRcKeyed;
  int bKeep, iKind = statKind(r, 1, f);
  RunInfo ri;
  StatPlan *pl;
  /* the request's tokens: the caller's (inv_call_keyed), else its walk */
  if (!pt) {                           /* (4 KB: the arena's, not the stack's) */
    pt = inv_arena_alloc(&s->arena, sizeof *pt);
    bKeep = pt && !inv_rc_walk(req, pt);
  } else bKeep = 1;
  if (bKeep) {
    /* a request compiled before: its statement, this request's slots */
    inv_q_init(&q, s, r);
    pl = inv_rc_find(s, iKind, pt, &q);
    if (pl) {
      /* (the columns in use only: SC holds room for MAX_COLS) */
      memcpy(&c, &pl->c, offsetof(SC, aCol));
      memcpy(c.aCol, pl->c.aCol, sizeof(SCol) * (size_t)pl->c.nCol);
      memcpy(&c.nCol, &pl->c.nCol, sizeof c - offsetof(SC, nCol));
      c.s = s; c.q = &q; c.b = q.b;
      return statExec(&c, &pl->ri, pl->zSql, pl->start, pl->limit, k, f, 0);
    }
  }
  if (s->bRcOnly) return INV_MISS;     /* the caller converts the request and calls again */
  if (inv_stat_begin(s, r, req, "stat", &c, &q, &pQ, &start, &limit, r->bStatCap)) return INV_ERROR;
  if (inv_check_keys(s, pQ, azQuery, "query")) return INV_ERROR;
  agg = inv_val_get(pQ, "aggregate");
  dist = inv_val_get(pQ, "distinct");
  if (agg && agg->t != INV_NULL) {
    if (!inv_val_is_arr(agg)) {
      return inv_err_query(s, "query.aggregate", "must be a list of stages, not %s.",
                           inv_msg_value(s, agg, INV_MSG_VALUE));
    }
    if (agg->u.arr.n == 0) agg = NULL;
  } else agg = NULL;
  if (dist && (dist->t == INV_NULL || (dist->t == INV_STR && dist->u.s.n == 0))) dist = NULL;
  if (!agg && !dist) return inv_err_required(s, "query.aggregate or query.distinct");
  if (!agg) {
    if (dist->t != INV_STR) return inv_err_type_of(s, "query.distinct", "string", dist);
    return runDistinct(&c, dist, start, limit, k, f);
  }
  if (inv_stat_stages(&c, agg)) return INV_ERROR;
  if (statFinish(&c, start, limit, 0, &ri)) return INV_ERROR;
  if (bKeep && c.b->n <= INV_RC_SQL) {
    pl = planOf(&c, &ri, start, limit);
    if (pl) inv_rc_add(s, iKind, pt, &q, pl, pl->zSql);
  }
  return statExec(&c, &ri, NULL, start, limit, k, f, 0);
}
