/*
** inv_read.c: get, list and delete; the request-level parameters and the
** scope (domain, workspace, user projects) shared by every read method.
*/
#include <string.h>
#include <stdio.h>
#include "inv_int.h"

/* ===================== request helpers ===================== */

static int addCond(inv_req *q, const char *zKey, const inv_val *v, const char *zOp) {
  inv_val *pc;
  inv_kv *kv;
  if (q->conds.u.arr.n >= q->nCondAlloc) {
    size_t nNew = q->nCondAlloc ? q->nCondAlloc * 2 : 8;
    inv_val *a = inv_arena_alloc(&q->s->arena, sizeof(inv_val) * nNew);
    if (!a) return inv_err_nomem(q->s);
    if (q->conds.u.arr.n) memcpy(a, q->conds.u.arr.a, sizeof(inv_val) * q->conds.u.arr.n);
    q->conds.u.arr.a = a;
    q->nCondAlloc = nNew;
  }
  kv = inv_arena_alloc(&q->s->arena, sizeof(inv_kv) * 3);
  if (!kv) return inv_err_nomem(q->s);
  memset(kv, 0, sizeof(inv_kv) * 3);
  kv[0].zKey = "k"; kv[0].nKey = 1;
  kv[0].v.t = INV_STR; kv[0].v.u.s.z = zKey; kv[0].v.u.s.n = strlen(zKey);
  kv[1].zKey = "v"; kv[1].nKey = 1; kv[1].v = *v;
  kv[2].zKey = "o"; kv[2].nKey = 1;
  kv[2].v.t = INV_STR; kv[2].v.u.s.z = zOp; kv[2].v.u.s.n = strlen(zOp);
  pc = &q->conds.u.arr.a[q->conds.u.arr.n++];
  memset(pc, 0, sizeof *pc);
  pc->t = INV_OBJ; pc->u.obj.a = kv; pc->u.obj.n = 3;
  return INV_OK;
}

/* A request-level filter parameter: a string (eq) or a list of strings (in).
** azEnum: the allowed values, or NULL. */
static int paramFilter(inv_req *q, const char *zKey, const char *const *azEnum) {
  const inv_val *v = inv_val_get(q->pReq, zKey);
  size_t i;
  if (!v || v->t == INV_NULL || (v->t == INV_STR && v->u.s.n == 0)) return INV_OK;
  if (v->t == INV_STR) {
    if (azEnum && !inv_enum_has(azEnum, v->u.s.z)) {
      return inv_err_invalid(q->s, zKey, "Invalid enum value.");
    }
    return addCond(q, zKey, v, "eq");
  }
  if (!inv_val_is_arr(v)) return inv_err_type(q->s, zKey, "str");
  for (i = 0; i < v->u.arr.n; i++) {
    const inv_val *e = &v->u.arr.a[i];
    if (e->t != INV_STR) return inv_err_type(q->s, zKey, "list of str");
    if (azEnum && !inv_enum_has(azEnum, e->u.s.z)) {
      return inv_err_invalid(q->s, zKey, "Invalid enum value.");
    }
  }
  return addCond(q, zKey, v, "in");
}

/* domain_id (required), workspace_id and user_projects. bStar: a workspace
** caller also sees domain-level records (workspace_id "*"). */
static int scope(inv_req *q, int bStar) {
  const char *zWs;
  const inv_val *v;
  if (inv_req_string(q->s, q->pReq, "domain_id", 1, &q->zDomain)) return INV_ERROR;
  if (addCond(q, "domain_id", inv_val_get(q->pReq, "domain_id"), "eq")) return INV_ERROR;
  if (inv_req_string(q->s, q->pReq, "workspace_id", 0, &zWs)) return INV_ERROR;
  if (zWs) {
    if (bStar && strcmp(zWs, "*") != 0) {
      inv_val *l = inv_arena_alloc(&q->s->arena, sizeof(inv_val) * 3);
      if (!l) return inv_err_nomem(q->s);
      memset(l, 0, sizeof(inv_val) * 3);
      l[0] = *inv_val_get(q->pReq, "workspace_id");
      l[1].t = INV_STR; l[1].u.s.z = "*"; l[1].u.s.n = 1;
      l[2].t = INV_ARR; l[2].u.arr.a = l; l[2].u.arr.n = 2;
      if (addCond(q, "workspace_id", &l[2], "in")) return INV_ERROR;
    } else if (addCond(q, "workspace_id", inv_val_get(q->pReq, "workspace_id"), "eq")) {
      return INV_ERROR;
    }
  }
  v = inv_val_get(q->pReq, "user_projects");
  if (v && v->t != INV_NULL) {
    size_t i;
    if (!inv_val_is_arr(v)) return inv_err_type(q->s, "user_projects", "list of str");
    for (i = 0; i < v->u.arr.n; i++) {
      if (v->u.arr.a[i].t != INV_STR) return inv_err_type(q->s, "user_projects", "list of str");
    }
    /* jobs are not project-scoped; tasks are: an empty list sees nothing */
    if (q->r->bTasks && addCond(q, "project_id", v, "in")) return INV_ERROR;
  }
  return INV_OK;
}

static void reqInit(inv_req *q, inv_store *s, const inv_resource *r, const inv_val *req,
                    const char *zMethod) {
  memset(q, 0, sizeof *q);
  q->s = s; q->r = r; q->pReq = req; q->zMethod = zMethod;
  q->conds.t = INV_ARR;
}

/* ===================== page / sort ===================== */

static int pageParse(inv_store *s, const inv_val *pPage, const char *zWhere,
                     int64_t *pStart, int64_t *pLimit) {
  static const char *const azPage[] = { "start", "limit", NULL };
  const inv_val *v;
  char zK[64];
  *pStart = 1; *pLimit = 0;
  if (!pPage || pPage->t == INV_NULL) return INV_OK;
  if (inv_check_keys(s, pPage, azPage, zWhere)) return INV_ERROR;
  v = inv_val_get(pPage, "start");
  if (v && v->t != INV_NULL) {
    snprintf(zK, sizeof zK, "%s.start", zWhere);
    if (v->t == INV_BOOL || !inv_val_integer(v, pStart)) return inv_err_type(s, zK, "int");
    if (*pStart < 0) return inv_err_invalid(s, zK, "must not be negative.");
    if (*pStart < 1) *pStart = 1;
  }
  v = inv_val_get(pPage, "limit");
  if (v && v->t != INV_NULL) {
    snprintf(zK, sizeof zK, "%s.limit", zWhere);
    if (v->t == INV_BOOL || !inv_val_integer(v, pLimit)) return inv_err_type(s, zK, "int");
    if (*pLimit < 0) return inv_err_invalid(s, zK, "must not be negative.");
  }
  return INV_OK;
}

/* ORDER BY for a v2 list [{key, desc}] or a v1 object {key, desc, keys}.
** bUnwind: the rows are unwound (see listPlan): no default sort, and ties are
** broken by insertion order, then element order. */
static int orderBy(inv_q *q, const inv_val *pSort, int bUnwind) {
  const inv_val *aItem = NULL;
  size_t nItem = 0, i;
  int nKey = 0;
  inv_val one;
  if (pSort && pSort->t != INV_NULL) {
    if (pSort->t == INV_OBJ) {             /* v1: key wins over keys */
      static const char *const azV1[] = { "key", "desc", "keys", NULL };
      const inv_val *k = inv_val_get(pSort, "key"), *ks = inv_val_get(pSort, "keys");
      if (inv_check_keys(q->s, pSort, azV1, "query.sort")) return INV_ERROR;
      if (k && k->t == INV_STR && k->u.s.n) { one = *pSort; aItem = &one; nItem = 1; }
      else if (ks && ks->t != INV_NULL) {
        if (!inv_val_is_arr(ks)) return inv_err_type(q->s, "query.sort.keys", "list");
        aItem = ks->u.arr.a; nItem = ks->u.arr.n;
      }
    } else if (inv_val_is_arr(pSort)) {
      aItem = pSort->u.arr.a; nItem = pSort->u.arr.n;
    } else {
      return inv_err_type(q->s, "query.sort", "list");
    }
  }
  if (nItem > 64) return inv_err_invalid(q->s, "query.sort", "A sort may have at most 64 keys.");
  inv_buf_adds(q->b, " ORDER BY ");
  for (i = 0; i < nItem; i++) {
    static const char *const azItem[] = { "key", "desc", NULL };
    static const char *const azItemV1[] = { "key", "desc", "keys", NULL };
    const inv_val *it = &aItem[i], *k, *d;
    int bDesc = 0;
    if (!inv_val_is_obj(it)) return inv_err_type(q->s, "query.sort", "list of dict");
    if (inv_check_keys(q->s, it, aItem == &one ? azItemV1 : azItem, "query.sort")) return INV_ERROR;
    k = inv_val_get(it, "key");
    d = inv_val_get(it, "desc");
    if (d && d->t != INV_NULL) {
      if (d->t != INV_BOOL) return inv_err_type(q->s, "query.sort.desc", "bool");
      bDesc = d->u.b;
    }
    if (!k || k->t == INV_NULL || (k->t == INV_STR && k->u.s.n == 0)) continue;  /* no sort */
    if (k->t != INV_STR) return inv_err_type(q->s, "query.sort.key", "str");
    if (inv_sort_expr(q, k->u.s.z, k->u.s.n, bDesc)) return INV_ERROR;
    inv_buf_adds(q->b, bDesc ? " DESC, " : ", ");
    nKey++;
  }
  if (!nKey && !bUnwind) inv_buf_adds(q->b, "t.created_at DESC, ");
  inv_buf_adds(q->b, bUnwind ? "t.id, t.unwind_idx" : "t.id");
  return INV_OK;
}

/* ===================== finding one record ===================== */

/* "Resource cannot be found..." with the conditions as Python tuples. */
static int notFound(inv_req *q) {
  inv_buf *b = &q->s->tmp;
  size_t i, n = q->conds.u.arr.n;
  inv_buf_reset(b);
  if (n == 1) {
    const inv_val *c = &q->conds.u.arr.a[0];
    inv_buf_printf(b, "%s = %s", inv_val_get(c, "k")->u.s.z, inv_val_get(c, "v")->u.s.z);
  } else {
    inv_buf_addc(b, '(');
    for (i = 0; i < n; i++) {
      inv_buf_printf(b, "%s'%s'", i ? ", " : "", inv_val_get(&q->conds.u.arr.a[i], "k")->u.s.z);
    }
    inv_buf_adds(b, ") = (");
    for (i = 0; i < n; i++) {
      const inv_val *v = inv_val_get(&q->conds.u.arr.a[i], "v");
      if (i) inv_buf_adds(b, ", ");
      if (v->t == INV_STR) inv_buf_printf(b, "'%.100s'", v->u.s.z);
      else {
        size_t j;
        inv_buf_addc(b, '[');
        for (j = 0; j < v->u.arr.n && j < 20; j++) {
          inv_buf_printf(b, "%s'%.100s'", j ? ", " : "", v->u.arr.a[j].u.s.z);
        }
        inv_buf_addc(b, ']');
      }
    }
    inv_buf_addc(b, ')');
  }
  return inv_err(q->s, "ERROR_NOT_FOUND",
                 "Resource cannot be found or access is denied. (%s)", b->z ? b->z : "");
}

/* Find one record by id within the scope: fills the id condition list and
** runs "SELECT t.* ... LIMIT 1". Returns the statement on a row, NULL with
** the error set otherwise. */
static sqlite3_stmt *findOne(inv_req *rq, int bStar) {
  inv_q q;
  const char *zIdName = rq->r->aField[rq->r->iId].zName;
  const char *zId;
  sqlite3_stmt *p;
  int rc;
  if (inv_req_string(rq->s, rq->pReq, zIdName, 1, &zId)) return NULL;
  {
    /* the common shape, id + domain only: a fixed statement, no filter compiler */
    const inv_val *pWs = inv_val_get(rq->pReq, "workspace_id");
    const inv_val *pUp = inv_val_get(rq->pReq, "user_projects");
    const char *zDomain;
    if ((!pWs || pWs->t == INV_NULL) && (!pUp || pUp->t == INV_NULL)
        && inv_req_string(rq->s, rq->pReq, "domain_id", 0, &zDomain) == INV_OK && zDomain) {
      static const char *const azSql[] = {
        "SELECT t.* FROM job AS t WHERE t.job_id = ?1 AND t.domain_id = ?2 LIMIT 1",
        "SELECT t.* FROM job_task AS t WHERE t.job_task_id = ?1 AND t.domain_id = ?2 LIMIT 1",
        "SELECT t.* FROM spot_job AS t WHERE t.job_id = ?1 AND t.domain_id = ?2 LIMIT 1",
      };
      int iRes = rq->r == &inv_res_job ? 0 : rq->r == &inv_res_task ? 1 : 2;
      p = inv_stmt_static(rq->s, azSql[iRes]);
      if (!p) return NULL;
      sqlite3_bind_text(p, 1, zId, -1, SQLITE_STATIC);
      sqlite3_bind_text(p, 2, zDomain, -1, SQLITE_STATIC);
      rq->zDomain = zDomain;
      rc = inv_step(rq->s, p);
      if (rc < 0) return NULL;
      if (rc == SQLITE_ROW) return p;
      sqlite3_reset(p);
      /* not found: fall through to build the reference's message */
    }
  }
  if (addCond(rq, zIdName, inv_val_get(rq->pReq, zIdName), "eq")) return NULL;
  if (scope(rq, bStar)) return NULL;
  inv_q_init(&q, rq->s, rq->r);
  inv_buf_reset(q.b);
  inv_buf_printf(q.b, "SELECT t.* FROM %s AS t WHERE ", rq->r->zTable);
  if (inv_where(&q, &rq->conds, NULL, NULL, NULL)) return NULL;
  inv_buf_adds(q.b, " LIMIT 1");
  p = inv_q_prepare(&q);
  if (!p) return NULL;
  rc = inv_step(rq->s, p);
  if (rc < 0) return NULL;
  if (rc != SQLITE_ROW) { sqlite3_reset(p); notFound(rq); return NULL; }
  return p;
}

/* ===================== get ===================== */

int inv_m_get(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  const char *azKeys[] = { r->aField[r->iId].zName, "domain_id", "workspace_id",
                           "user_projects", "only", NULL };
  inv_req rq;
  inv_only *pOnly = NULL;
  sqlite3_stmt *p;
  int rc;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  reqInit(&rq, s, r, req, "get");
  if (inv_only_compile(s, r, inv_val_get(req, "only"), &pOnly)) return INV_ERROR;
  p = findOne(&rq, 1);
  if (!p) return INV_ERROR;
  rc = inv_render_row(s, r, p, 1, k, f, pOnly);
  sqlite3_reset(p);
  return rc;
}

/* ===================== list ===================== */

/* query.unwind = {path, filter}: checks in the reference's order (only,
** dict, path). The path must name an array field of the resource (errors);
** *piField is that field, *ppFilter the restricted match (or NULL). */
static int unwindCheck(inv_store *s, const inv_resource *r, const inv_val *pQ,
                       const inv_val *pUnwind, int *piField, const inv_val **ppFilter) {
  static const char *const azUnwind[] = { "path", "filter", NULL };
  const inv_val *o = inv_val_get(pQ, "only"), *v;
  int iField;
  if (!o || o->t == INV_NULL || (inv_val_is_arr(o) && o->u.arr.n == 0)) {
    return inv_err_db(s, "unwind option requires only option.");
  }
  if (!inv_val_is_obj(pUnwind)) return inv_err_db(s, "unwind option should be dict type.");
  if (inv_check_keys(s, pUnwind, azUnwind, "query.unwind")) return INV_ERROR;
  v = inv_val_get(pUnwind, "path");
  if (!v || v->t == INV_NULL || (v->t == INV_STR && v->u.s.n == 0)) {
    return inv_err_db(s, "unwind option should have path key.");
  }
  if (v->t != INV_STR) return inv_err_type(s, "query.unwind.path", "str");
  o = inv_val_get(pUnwind, "filter");
  *ppFilter = o && o->t != INV_NULL ? o : NULL;
  if (inv_key_check(s, r, v->u.s.z, v->u.s.n, &iField)) return INV_ERROR;
  if (r->aField[iField].eType != F_ERRS || strlen(r->aField[iField].zName) != v->u.s.n) {
    return inv_err_db(s, "Cannot resolve field \"%.*s\"",
                      (int)(v->u.s.n > 200 ? 200 : v->u.s.n), v->u.s.z);
  }
  *piField = iField;
  return INV_OK;
}

typedef struct ListPlan ListPlan;
struct ListPlan {
  inv_req rq;
  inv_q q;
  const inv_val *pQ;
  int64_t start, limit;
  int bCountOnly, bMinimal;
  inv_only *pOnly;
  size_t nWhereText;           /* SQL text up to the end of WHERE */
  int nBindWhere;              /* bindings of the WHERE */
};

/* Validate a list request and build "SELECT t.* ... WHERE ... ORDER BY". */
static int listPlan(inv_store *s, const inv_resource *r, const inv_val *req, ListPlan *lp) {
  static const char *const azQuery[] = {
    "filter", "filter_or", "sort", "page", "minimal", "count_only", "only",
    "keyword", "unwind", "lookup", "add_fields", NULL
  };
  const char *azKeys[24];
  const char *const *pz;
  int nKeys = 0;
  const inv_val *pQ, *v;
  inv_q *q = &lp->q;
  int iUnwind = -1;
  const inv_val *pUnwindFilter = NULL;

  memset(lp, 0, sizeof *lp);
  azKeys[nKeys++] = "query"; azKeys[nKeys++] = "domain_id";
  azKeys[nKeys++] = "workspace_id"; azKeys[nKeys++] = "user_projects";
  for (pz = r->azListParam; *pz; pz++) azKeys[nKeys++] = *pz;
  azKeys[nKeys] = NULL;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  reqInit(&lp->rq, s, r, req, "list");
  for (pz = r->azListParam; *pz; pz++) {
    const char *const *azEnum = strcmp(*pz, "status") == 0 ? r->aField[1].azEnum : NULL;
    if (paramFilter(&lp->rq, *pz, azEnum)) return INV_ERROR;
  }
  if (scope(&lp->rq, 1)) return INV_ERROR;

  pQ = inv_val_get(req, "query");
  if (pQ && pQ->t == INV_NULL) pQ = NULL;
  if (pQ && inv_check_keys(s, pQ, azQuery, "query")) return INV_ERROR;
  lp->pQ = pQ;
  if (pQ && ((v = inv_val_get(pQ, "lookup")) || (v = inv_val_get(pQ, "add_fields")))
      && v->t != INV_NULL) {
    return inv_err_invalid(s, inv_val_get(pQ, "lookup") ? "query.lookup" : "query.add_fields",
                           "Not supported by this store.");
  }
  if (pQ && (v = inv_val_get(pQ, "unwind")) && v->t != INV_NULL) {
    if (unwindCheck(s, r, pQ, v, &iUnwind, &pUnwindFilter)) return INV_ERROR;
  }
  lp->start = 1;
  if (pQ && pageParse(s, inv_val_get(pQ, "page"), "query.page", &lp->start, &lp->limit)) return INV_ERROR;
  if (lp->limit == 0 || lp->limit > s->nPageLimit) lp->limit = s->nPageLimit;
  if (pQ && (v = inv_val_get(pQ, "count_only")) && v->t != INV_NULL) {
    if (v->t != INV_BOOL) return inv_err_type(s, "query.count_only", "bool");
    lp->bCountOnly = v->u.b;
  }
  if (pQ && (v = inv_val_get(pQ, "minimal")) && v->t != INV_NULL) {
    if (v->t != INV_BOOL) return inv_err_type(s, "query.minimal", "bool");
    lp->bMinimal = v->u.b;
  }
  if (pQ && inv_only_compile(s, r, inv_val_get(pQ, "only"), &lp->pOnly)) return INV_ERROR;

  inv_q_init(q, s, r);
  inv_buf_reset(q->b);
  if (iUnwind < 0) {
    inv_buf_printf(q->b, "SELECT t.* FROM %s AS t WHERE ", r->zTable);
  } else {
    /* Unwound rows: a subquery named "t" with the table's columns, where the
    ** array field holds just one element, plus its position (unwind_idx).
    ** Records whose array is empty or null give no row. The filter applies
    ** to the records (inner t), the unwind filter to the unwound rows (p,
    ** the element also as _u, as stat's unwind stage has it), sort and
    ** paging to what is left. */
    int i;
    inv_buf_adds(q->b, "SELECT t.* FROM (SELECT ");
    if (pUnwindFilter) {
      inv_buf_adds(q->b, "p.id");
      for (i = 0; i < r->nField; i++) inv_buf_printf(q->b, ", p.%s", r->aField[i].zName);
      inv_buf_adds(q->b, ", p.unwind_idx FROM (SELECT ");
    }
    inv_buf_adds(q->b, "t.id");
    for (i = 0; i < r->nField; i++) {
      const char *zName = r->aField[i].zName;
      if (i == iUnwind) inv_buf_printf(q->b, ", json_array(json(u.value)) AS %s", zName);
      else inv_buf_printf(q->b, ", t.%s", zName);
    }
    if (pUnwindFilter) inv_buf_printf(q->b, ", t.%s -> u.fullkey AS _u", r->aField[iUnwind].zName);
    inv_buf_printf(q->b, ", u.key AS unwind_idx FROM %s AS t, json_each(t.%s) AS u WHERE ",
                   r->zTable, r->aField[iUnwind].zName);
  }
  if (inv_where(q, pQ ? inv_val_get(pQ, "filter") : NULL,
                pQ ? inv_val_get(pQ, "filter_or") : NULL,
                pQ ? inv_val_get(pQ, "keyword") : NULL, &lp->rq.conds)) return INV_ERROR;
  if (pUnwindFilter) {
    inv_buf_adds(q->b, ") AS p WHERE 1");
    if (inv_unwind_filter(q, iUnwind, pUnwindFilter)) return INV_ERROR;
  }
  if (iUnwind >= 0) inv_buf_adds(q->b, ") AS t");
  lp->nWhereText = q->b->n;
  lp->nBindWhere = q->nBind;
  if (orderBy(q, pQ ? inv_val_get(pQ, "sort") : NULL, iUnwind >= 0)) return INV_ERROR;
  inv_buf_adds(q->b, " LIMIT ");
  inv_q_bind_int(q, lp->limit);
  inv_buf_adds(q->b, " OFFSET ");
  inv_q_bind_int(q, lp->start - 1);
  return q->b->bOom ? inv_err_nomem(s) : INV_OK;
}

/* "SELECT count(*) FROM <table> AS t WHERE ..." of a plan, in s->tmp. */
static const char *countSql(inv_store *s, ListPlan *lp) {
  static const char zHead[] = "SELECT t.* FROM ";
  inv_buf_reset(&s->tmp);
  inv_buf_adds(&s->tmp, "SELECT count(*) FROM ");
  inv_buf_add(&s->tmp, lp->q.b->z + sizeof zHead - 1, lp->nWhereText - (sizeof zHead - 1));
  return s->tmp.bOom ? NULL : s->tmp.z;
}

int inv_m_list(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  ListPlan lp;
  int64_t total = -1, nRow = 0;
  sqlite3_stmt *p = NULL, *pc;
  int rc = SQLITE_DONE;
  if (listPlan(s, r, req, &lp)) return INV_ERROR;
  k->xBeginObj(k, 2);
  k->xKey(k, "results", 7);
  k->xBeginArr(k, lp.bCountOnly ? 0 : (int)(lp.limit < 64 ? lp.limit : 64));
  if (!lp.bCountOnly) {
    p = inv_q_prepare(&lp.q);
    if (!p) return INV_ERROR;
    /* stop at a full page without stepping on: the statement stays active,
    ** so the count below reads the same snapshot (no BEGIN needed) */
    while (nRow < lp.limit && (rc = inv_step(s, p)) == SQLITE_ROW) {
      if (inv_render_row(s, r, p, 1, k, f | (lp.bMinimal ? R_MINIMAL : 0), lp.pOnly)) return INV_ERROR;
      nRow++;
    }
    if (rc < 0) return INV_ERROR;
    if (nRow < lp.limit && (nRow > 0 || lp.start == 1)) {
      total = lp.start - 1 + nRow;          /* the page ran out: nothing after it */
    }
  }
  k->xEndArr(k);
  if (total < 0) {
    const char *zSql = countSql(s, &lp);
    if (!zSql) return inv_err_nomem(s);
    pc = inv_stmt(s, zSql);
    lp.q.nBind = lp.nBindWhere;
    if (!pc || inv_q_apply(&lp.q, pc)) return INV_ERROR;
    rc = inv_step(s, pc);
    if (rc < 0) return INV_ERROR;
    total = rc == SQLITE_ROW ? sqlite3_column_int64(pc, 0) : 0;
    sqlite3_reset(pc);
  }
  if (p) sqlite3_reset(p);
  k->xKey(k, "total_count", 11);
  k->xInt(k, total);
  k->xEndObj(k);
  return INV_OK;
}

/* EXPLAIN QUERY PLAN of the rows query of a list (or get) request. */
int inv_explain(inv_store *s, const char *zResource, const char *zMethod,
                const inv_val *pReq, inv_buf *pOut) {
  const inv_resource *r = inv_resource_find(zResource);
  ListPlan lp;
  sqlite3_stmt *p = NULL;
  int rc;
  if (!r) return inv_err_invalid(s, "resource", "unknown resource.");
  if (strcmp(zMethod, "list") != 0) return inv_err_invalid(s, "method", "explain supports list.");
  if (listPlan(s, r, pReq, &lp)) return INV_ERROR;
  inv_buf_reset(&s->tmp);
  inv_buf_adds(&s->tmp, "EXPLAIN QUERY PLAN ");
  inv_buf_add(&s->tmp, lp.q.b->z, lp.q.b->n);
  if (s->tmp.bOom) return inv_err_nomem(s);
  if (sqlite3_prepare_v2(s->db, s->tmp.z, -1, &p, NULL) != SQLITE_OK) {
    sqlite3_finalize(p);
    return inv_err_sqlite(s);
  }
  if (inv_q_apply(&lp.q, p)) { sqlite3_finalize(p); return INV_ERROR; }
  while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
    inv_buf_adds(pOut, (const char*)sqlite3_column_text(p, 3));
    inv_buf_addc(pOut, '\n');
  }
  sqlite3_finalize(p);
  if (rc != SQLITE_DONE) return inv_err_sqlite(s);
  return pOut->bOom ? inv_err_nomem(s) : INV_OK;
}

/* ===================== delete ===================== */

/* Take an unfinished task out of its job's counters (the job may finish). */
static int taskLeavesJob(inv_store *s, const char *zJob, const char *zDomain) {
  static const char zUpd[] =
    "UPDATE job SET total_tasks = max(total_tasks - 1, 0), "
    "remained_tasks = max(remained_tasks - 1, 0), updated_at = ? "
    "WHERE job_id = ? AND domain_id = ?";
  int64_t now = inv_now(s);
  sqlite3_stmt *p = inv_stmt_static(s, zUpd);
  if (!p) return INV_ERROR;
  sqlite3_bind_int64(p, 1, now);
  sqlite3_bind_text(p, 2, zJob, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(p, 3, zDomain, -1, SQLITE_TRANSIENT);
  if (inv_step(s, p) < 0) return INV_ERROR;
  sqlite3_reset(p);
  return inv_job_finalize(s, zJob, zDomain, now);
}

int inv_m_delete(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  const char *azKeys[] = { r->aField[r->iId].zName, "domain_id", "workspace_id",
                           "user_projects", NULL };
  inv_req rq;
  sqlite3_stmt *p;
  int64_t rowid;
  char zJob[INV_MAX_ID * 4 + 1] = "";
  int bUnfinished = 0;
  (void)k; (void)f;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  reqInit(&rq, s, r, req, "delete");
  if (inv_begin_write(s)) return INV_ERROR;
  p = findOne(&rq, 0);                      /* delete: workspace equality */
  if (!p) return INV_ERROR;
  rowid = sqlite3_column_int64(p, 0);
  if (r == &inv_res_task) {
    const unsigned char *z = sqlite3_column_text(p, 1 + inv_field_index(r, "job_id", 6));
    if (z) snprintf(zJob, sizeof zJob, "%s", (const char*)z);
    bUnfinished = sqlite3_column_int64(p, 1 + inv_field_index(r, "remained_sub_tasks", 18)) > 0;
  }
  sqlite3_reset(p);
  if (r == &inv_res_job) {
    /* a job takes its tasks with it */
    p = inv_stmt_static(s, "DELETE FROM job_task WHERE job_id = (SELECT job_id FROM job WHERE id = ?) "
                    "AND domain_id = ?");
    if (!p) return INV_ERROR;
    sqlite3_bind_int64(p, 1, rowid);
    sqlite3_bind_text(p, 2, rq.zDomain, -1, SQLITE_STATIC);
    if (inv_step(s, p) < 0) return INV_ERROR;
    sqlite3_reset(p);
  }
  inv_buf_reset(&s->tmp);
  inv_buf_printf(&s->tmp, "DELETE FROM %s WHERE id = ?", r->zTable);
  p = inv_stmt(s, s->tmp.z);
  if (!p) return INV_ERROR;
  sqlite3_bind_int64(p, 1, rowid);
  if (inv_step(s, p) < 0) return INV_ERROR;
  sqlite3_reset(p);
  if (bUnfinished && zJob[0] && taskLeavesJob(s, zJob, rq.zDomain)) return INV_ERROR;
  return inv_commit(s);
}

/* ===================== shared with stat and analyze ===================== */

int inv_req_scope(inv_store *s, const inv_resource *r, const inv_val *req,
                  const char *zMethod, inv_req *rq) {
  reqInit(rq, s, r, req, zMethod);
  return scope(rq, 1);
}

int inv_page_parse(inv_store *s, const inv_val *pPage, const char *zWhere,
                   int64_t *pStart, int64_t *pLimit) {
  return pageParse(s, pPage, zWhere, pStart, pLimit);
}
