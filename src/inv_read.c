/*
** inv_read.c: get, list and delete (the request's scope and page are
** inv_req.c's).
*/
#include <string.h>
#include <stdio.h>
#include "inv_int.h"

/* ===================== sort ===================== */

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
static inv_stmt *findOne(inv_req *rq, int bStar) {
  inv_q q;
  const char *zIdName = rq->r->aField[rq->r->iId].zName;
  const char *zId;
  inv_stmt *p;
  int rc;
  if (inv_req_string(rq->s, rq->pReq, zIdName, 1, &zId)) return NULL;
  {
    /* the common shape, id + domain only: a fixed statement, no filter compiler */
    const inv_val *pWs = inv_val_get(rq->pReq, "workspace_id");
    const inv_val *pUp = inv_val_get(rq->pReq, "user_projects");
    const char *zDomain;
    if ((!pWs || pWs->t == INV_NULL) && (!pUp || pUp->t == INV_NULL)
        && inv_req_string(rq->s, rq->pReq, "domain_id", 0, &zDomain) == INV_OK && zDomain) {
      p = inv_prepare_static(rq->s, rq->s->azById[rq->r->iRes]);
      if (!p) return NULL;
      inv_bind_text(rq->s, p, 1, zId);
      inv_bind_text(rq->s, p, 2, zDomain);
      rq->zDomain = zDomain;
      rc = inv_step(rq->s, p);
      if (rc < 0) return NULL;
      if (rc == INV_ROW) return p;
      inv_reset(rq->s, p);
      /* not found: fall through to build the reference's message */
    }
  }
  if (inv_req_cond(rq, zIdName, inv_val_get(rq->pReq, zIdName), "eq")) return NULL;
  if (inv_req_scope(rq, bStar)) return NULL;
  inv_q_init(&q, rq->s, rq->r);
  inv_buf_reset(q.b);
  inv_buf_printf(q.b, "SELECT t.* FROM %s AS t WHERE ", rq->r->zTable);
  if (inv_where(&q, &rq->conds, NULL, NULL, NULL)) return NULL;
  inv_buf_adds(q.b, " LIMIT 1");
  p = inv_q_prepare(&q);
  if (!p) return NULL;
  rc = inv_step(rq->s, p);
  if (rc < 0) return NULL;
  if (rc != INV_ROW) { inv_reset(rq->s, p); notFound(rq); return NULL; }
  return p;
}

/* ===================== get ===================== */

int inv_m_get(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  const char *azKeys[] = { r->aField[r->iId].zName, "domain_id", "workspace_id",
                           "user_projects", "only", NULL };
  inv_req rq;
  inv_only *pOnly = NULL;
  inv_stmt *p;
  int rc;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  inv_req_init(&rq, s, r, req, "get");
  if (inv_only_compile(s, r, inv_val_get(req, "only"), &pOnly)) return INV_ERROR;
  p = findOne(&rq, 1);
  if (!p) return INV_ERROR;
  rc = inv_render_row(s, r, p, 1, k, f, pOnly);
  inv_reset(s, p);
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
  inv_req_init(&lp->rq, s, r, req, "list");
  for (pz = r->azListParam; *pz; pz++) {
    const char *const *azEnum = strcmp(*pz, "status") == 0 ? r->aField[1].azEnum : NULL;
    if (inv_req_param(&lp->rq, *pz, azEnum)) return INV_ERROR;
  }
  if (inv_req_scope(&lp->rq, 1)) return INV_ERROR;

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
  if (pQ && inv_page_parse(s, inv_val_get(pQ, "page"), "query.page", &lp->start, &lp->limit)) return INV_ERROR;
  if (inv_page_cap(s, "query.page", &lp->limit)) return INV_ERROR;
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
    {
      char zArr[64];
      snprintf(zArr, sizeof zArr, "t.%s", r->aField[iUnwind].zName);
      inv_buf_adds(q->b, "t.id");
      for (i = 0; i < r->nField; i++) {
        inv_buf_adds(q->b, ", ");
        if (i != iUnwind) { inv_buf_printf(q->b, "t.%s", r->aField[i].zName); continue; }
        if (q->d->xEachElemArray(q, "u")) return INV_ERROR;
        inv_buf_printf(q->b, " AS %s", r->aField[i].zName);
      }
      if (pUnwindFilter) {
        inv_buf_adds(q->b, ", ");
        if (q->d->xEachElem(q, zArr, "u")) return INV_ERROR;
        inv_buf_adds(q->b, " AS _u");
      }
      inv_buf_adds(q->b, ", ");
      if (q->d->xEachKey(q, "u")) return INV_ERROR;
      inv_buf_printf(q->b, " AS unwind_idx FROM %s AS t, ", r->zTable);
      if (q->d->xEachFrom(q, zArr, "u")) return INV_ERROR;
      inv_buf_adds(q->b, " WHERE ");
    }
  }
  if (inv_where(q, pQ ? inv_val_get(pQ, "filter") : NULL,
                pQ ? inv_val_get(pQ, "filter_or") : NULL,
                pQ ? inv_val_get(pQ, "keyword") : NULL, &lp->rq.conds)) return INV_ERROR;
  if (pUnwindFilter) {
    inv_buf_printf(q->b, ") AS p WHERE %s", q->d->zTrue);
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
  inv_stmt *p = NULL, *pc;
  int rc = INV_DONE;
  if (listPlan(s, r, req, &lp)) return INV_ERROR;
  k->xBeginObj(k, 2);
  k->xKey(k, "results", 7);
  k->xBeginArr(k, lp.bCountOnly ? 0 : (int)(lp.limit < 64 ? lp.limit : 64));
  if (!lp.bCountOnly) {
    p = inv_q_prepare(&lp.q);
    if (!p) return INV_ERROR;
    /* stop at a full page without stepping on: the statement stays active,
    ** so the count below reads the same snapshot (no BEGIN needed) */
    while (nRow < lp.limit && (rc = inv_step(s, p)) == INV_ROW) {
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
    pc = inv_prepare(s, zSql);
    lp.q.nBind = lp.nBindWhere;
    if (!pc || inv_q_apply(&lp.q, pc)) return INV_ERROR;
    rc = inv_step(s, pc);
    if (rc < 0) return INV_ERROR;
    total = rc == INV_ROW ? inv_col_int(s, pc, 0) : 0;
    inv_reset(s, pc);
  }
  if (p) inv_reset(s, p);
  k->xKey(k, "total_count", 11);
  k->xInt(k, total);
  k->xEndObj(k);
  return INV_OK;
}

/* The engine's plan of the rows query of a list request. */
int inv_explain(inv_store *s, const char *zResource, const char *zMethod,
                const inv_val *pReq, inv_buf *pOut) {
  const inv_resource *r = inv_resource_find(zResource);
  ListPlan lp;
  if (!r) return inv_err_invalid(s, "resource", "unknown resource.");
  if (strcmp(zMethod, "list") != 0) return inv_err_invalid(s, "method", "explain supports list.");
  if (listPlan(s, r, pReq, &lp)) return INV_ERROR;
  if (lp.q.b->bOom) return inv_err_nomem(s);
  return s->pDrv->xExplain(s, &lp.q, pOut);
}

/* ===================== delete ===================== */

/* The id a delete request names (checked by findOne). */
static const char *zIdOf(inv_req *rq) {
  return inv_val_get(rq->pReq, rq->r->aField[rq->r->iId].zName)->u.s.z;
}

/* Take an unfinished task out of its job's counters (the job may finish). */
static int taskLeavesJob(inv_store *s, const char *zJob, const char *zDomain) {
  int64_t now = inv_now(s);
  inv_stmt *p = inv_sql(s, INV_SQL_JOB_TASK_LEFT);
  if (!p) return INV_ERROR;
  inv_bind_int(s, p, 1, now);
  inv_bind_text(s, p, 2, zJob);
  inv_bind_text(s, p, 3, zDomain);
  if (inv_run(s, p)) return INV_ERROR;
  return inv_job_finalize(s, zJob, zDomain, now);
}

int inv_m_delete(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  const char *azKeys[] = { r->aField[r->iId].zName, "domain_id", "workspace_id",
                           "user_projects", NULL };
  inv_req rq;
  inv_stmt *p;
  int64_t rowid;
  char zJob[INV_MAX_ID * 4 + 1] = "";
  int bUnfinished = 0;
  (void)k; (void)f;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  inv_req_init(&rq, s, r, req, "delete");
  if (inv_begin_write(s)) return INV_ERROR;
  p = findOne(&rq, 0);                      /* delete: workspace equality */
  if (!p) return INV_ERROR;
  rowid = inv_col_int(s, p, 0);
  if (r->bTasks) {
    size_t n;
    snprintf(zJob, sizeof zJob, "%s", inv_col_text(s, p, 1 + inv_field_index(r, "job_id", 6), &n));
    bUnfinished = inv_col_int(s, p, 1 + inv_field_index(r, "remained_sub_tasks", 18)) > 0;
  }
  inv_reset(s, p);
  /* the journal learns of the deletes before they happen */
  if (r->bJournal && (r->bOwnsTasks ? inv_journal_job_deleted(s, zIdOf(&rq), rq.zDomain)
                                    : inv_journal_task_deleted(s, zIdOf(&rq), rq.zDomain))) {
    return INV_ERROR;
  }
  if (r->bOwnsTasks) {                        /* a job takes its tasks with it */
    p = inv_sql(s, INV_SQL_JOB_DELETE_TASKS);
    if (!p) return INV_ERROR;
    inv_bind_text(s, p, 1, zIdOf(&rq));
    inv_bind_text(s, p, 2, rq.zDomain);
    if (inv_run(s, p)) return INV_ERROR;
  }
  inv_buf_reset(&s->tmp);
  inv_buf_printf(&s->tmp, "DELETE FROM %s WHERE id = ", r->zTable);
  s->pDia->xParam(&s->tmp, 1, INV_INT);
  if (s->tmp.bOom) return inv_err_nomem(s);
  p = inv_prepare(s, s->tmp.z);
  if (!p) return INV_ERROR;
  inv_bind_int(s, p, 1, rowid);
  if (inv_run(s, p)) return INV_ERROR;
  if (bUnfinished && zJob[0] && (taskLeavesJob(s, zJob, rq.zDomain)
                                 || inv_journal_job(s, zJob, rq.zDomain))) return INV_ERROR;
  return inv_commit(s);
}
