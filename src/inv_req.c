/*
** inv_req.c: checks shared by every method's request: unknown keys, the
** required string parameters (ids, domain_id), and the scope (domain,
** workspace, user projects) and page of the read methods.
*/
#include <string.h>
#include <stdio.h>
#include "inv_int.h"

int inv_check_keys(inv_store *s, const inv_val *obj, const char *const *azAllowed,
                   const char *zPrefix) {
  size_t i;
  if (!inv_val_is_obj(obj)) return inv_err_type(s, zPrefix[0] ? zPrefix : "request", "dict");
  for (i = 0; i < obj->u.obj.n; i++) {
    const char *const *pz;
    const char *zKey = obj->u.obj.a[i].zKey;
    for (pz = azAllowed; *pz; pz++) if (strcmp(*pz, zKey) == 0) break;
    if (!*pz) {
      char zK[160];
      snprintf(zK, sizeof zK, "%s%s%.100s", zPrefix, zPrefix[0] ? "." : "", zKey);
      return inv_err_invalid(s, zK, "Unknown parameter.");
    }
  }
  return INV_OK;
}

int inv_req_string(inv_store *s, const inv_val *req, const char *zKey, int bRequired,
                   const char **pz) {
  const inv_val *v = inv_val_get(req, zKey);
  *pz = NULL;
  if (!v || v->t == INV_NULL || (v->t == INV_STR && v->u.s.n == 0)) {
    return bRequired ? inv_err_required(s, zKey) : INV_OK;
  }
  if (v->t != INV_STR) return inv_err_type(s, zKey, "str");
  if (strlen(v->u.s.z) != v->u.s.n) return inv_err_invalid(s, zKey, "NUL byte in string.");
  *pz = v->u.s.z;
  return INV_OK;
}

/* ===================== scope and page of read requests ===================== */

int inv_req_cond(inv_req *q, const char *zKey, const inv_val *v, const char *zOp) {
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
int inv_req_param(inv_req *q, const char *zKey, const char *const *azEnum) {
  const inv_val *v = inv_val_get(q->pReq, zKey);
  size_t i;
  if (!v || v->t == INV_NULL || (v->t == INV_STR && v->u.s.n == 0)) return INV_OK;
  if (v->t == INV_STR) {
    if (azEnum && !inv_enum_has(azEnum, v->u.s.z)) {
      return inv_err_invalid(q->s, zKey, "Invalid enum value.");
    }
    return inv_req_cond(q, zKey, v, "eq");
  }
  if (!inv_val_is_arr(v)) return inv_err_type(q->s, zKey, "str");
  for (i = 0; i < v->u.arr.n; i++) {
    const inv_val *e = &v->u.arr.a[i];
    if (e->t != INV_STR) return inv_err_type(q->s, zKey, "list of str");
    if (azEnum && !inv_enum_has(azEnum, e->u.s.z)) {
      return inv_err_invalid(q->s, zKey, "Invalid enum value.");
    }
  }
  return inv_req_cond(q, zKey, v, "in");
}

/* domain_id (required), workspace_id and user_projects. bStar: a workspace
** caller also sees domain-level records (workspace_id "*"). */
int inv_req_scope(inv_req *q, int bStar) {
  const char *zWs;
  const inv_val *v;
  if (inv_req_string(q->s, q->pReq, "domain_id", 1, &q->zDomain)) return INV_ERROR;
  if (inv_req_cond(q, "domain_id", inv_val_get(q->pReq, "domain_id"), "eq")) return INV_ERROR;
  if (inv_req_string(q->s, q->pReq, "workspace_id", 0, &zWs)) return INV_ERROR;
  if (zWs) {
    if (bStar && strcmp(zWs, "*") != 0) {
      inv_val *l = inv_arena_alloc(&q->s->arena, sizeof(inv_val) * 3);
      if (!l) return inv_err_nomem(q->s);
      memset(l, 0, sizeof(inv_val) * 3);
      l[0] = *inv_val_get(q->pReq, "workspace_id");
      l[1].t = INV_STR; l[1].u.s.z = "*"; l[1].u.s.n = 1;
      l[2].t = INV_ARR; l[2].u.arr.a = l; l[2].u.arr.n = 2;
      if (inv_req_cond(q, "workspace_id", &l[2], "in")) return INV_ERROR;
    } else if (inv_req_cond(q, "workspace_id", inv_val_get(q->pReq, "workspace_id"), "eq")) {
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
    if (q->r->bTasks && inv_req_cond(q, "project_id", v, "in")) return INV_ERROR;
  }
  return INV_OK;
}

void inv_req_init(inv_req *q, inv_store *s, const inv_resource *r, const inv_val *req,
                  const char *zMethod) {
  memset(q, 0, sizeof *q);
  q->s = s; q->r = r; q->pReq = req; q->zMethod = zMethod;
  q->conds.t = INV_ARR;
}

int inv_page_parse(inv_store *s, const inv_val *pPage, const char *zWhere,
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

/* The page default and cap of list, Job stat and analyze: no limit means
** the store's page_limit; a larger limit is refused (it was cut silently,
** so a client asking for 5,000 rows got 1,000 and no sign of it). */
int inv_page_cap(inv_store *s, const char *zWhere, int64_t *pLimit) {
  if (*pLimit == 0) { *pLimit = s->nPageLimit; return INV_OK; }
  if (*pLimit > s->nPageLimit) {
    char zK[64], zR[160];
    snprintf(zK, sizeof zK, "%s.limit", zWhere);
    snprintf(zR, sizeof zR, "at most %d rows per page; ask for the next page with %s.start.",
             s->nPageLimit, zWhere);
    return inv_err_invalid(s, zK, zR);
  }
  return INV_OK;
}
