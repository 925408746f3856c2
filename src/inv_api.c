/*
** inv_api.c: inv_call(), the entry point of every API method: it finds the
** resource and the method and runs it. The methods live in inv_read.c (get,
** list, delete), inv_stat.c (stat, analyze) and inv_life.c (the write side,
** import, sweep, purge).
*/
#include <string.h>
#include "inv_int.h"

typedef int (*inv_method)(inv_store*, const inv_resource*, const inv_val*, inv_sink*, int);
static const struct { const char *zName; inv_method x; } aMethod[] = {
  { "get", inv_m_get }, { "list", inv_m_list }, { "stat", inv_m_stat },
  { "analyze", inv_m_analyze },
  { "delete", inv_m_delete },
  { "create", inv_m_create }, { "start", inv_m_start },
  { "add_error", inv_m_add_error }, { "finish", inv_m_finish },
  { "cancel", inv_m_cancel }, { "import", inv_m_import },
};

/* The call's wall-clock budget: stat and analyze have their own (they run
** on nginx's thread pool); bulk operations (import, sweep, purge) have none. */
static void startBudget(inv_store *s, const char *zMethod) {
  int ms = s->nTimeoutMs;
  if (strcmp(zMethod, "stat") == 0 || strcmp(zMethod, "analyze") == 0
      || strcmp(zMethod, "metrics") == 0) ms = s->nStatTimeoutMs;      /* metrics: aggregates too */
  else if (strcmp(zMethod, "import") == 0 || strcmp(zMethod, "sweep") == 0
           || strcmp(zMethod, "purge") == 0) ms = 0;
  s->nBudgetMs = ms;
  s->nsDeadline = ms > 0 ? inv_clock_ns() + (int64_t)ms * 1000000 : 0;
}

static int dispatch(inv_store *s, const char *zResource, const char *zMethod,
                    const inv_val *pReq, inv_sink *pSink, int bJson) {
  const inv_resource *r;
  size_t i;
  int rc;
  if (!pReq || !inv_val_is_obj(pReq)) {
    return pReq ? inv_err_type_of(s, "request", "object", pReq)
                : inv_err_type(s, "request", "object");
  }
  if (strcmp(zResource, "store") == 0) {
    if (strcmp(zMethod, "sweep") == 0) rc = inv_m_sweep(s, pReq, pSink);
    else if (strcmp(zMethod, "purge") == 0) rc = inv_m_purge(s, pReq, pSink);
    else if (strcmp(zMethod, "metrics") == 0) rc = inv_m_metrics(s, pReq, pSink);
    else if (strcmp(zMethod, "changes") == 0) rc = inv_m_changes(s, pReq, pSink);
    else if (strcmp(zMethod, "trim_changes") == 0) rc = inv_m_trim_changes(s, pReq, pSink);
    else return inv_err(s, "ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = method, reason = "
                        "\"%s\" is not a method of store; use one of sweep, purge, metrics, changes, "
                        "trim_changes.)", inv_msg_text(s, zMethod, strlen(zMethod), 60));
    inv_rollback(s);
    return rc;
  }
  r = inv_resource_find(zResource);
  if (!r) {
    return inv_err_unknown_resource(s, zResource);
  }
  for (i = 0; i < sizeof aMethod / sizeof aMethod[0]; i++) {
    if (strcmp(aMethod[i].zName, zMethod) == 0) {
      rc = aMethod[i].x(s, r, pReq, pSink, bJson ? R_JSON : 0);
      inv_rollback(s);        /* ends a read snapshot; else a no-op unless a method failed
                                 mid-transaction */
      return rc;
    }
  }
  return inv_err(s, "ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = method, reason = "
                 "\"%s\" is not a method; use one of get, list, stat, analyze, delete, create, start, "
                 "add_error, finish, cancel, import.)", inv_msg_text(s, zMethod, strlen(zMethod), 60));
}

/* A write that lost a conflict to another (a serialization failure, a
** deadlock), or whose transaction died with its connection before COMMIT
** (s->bRetry), rolled back and wrote nothing: it runs again, at most 4
** times in all. */
#define INV_TRIES 4

int inv_call(inv_store *s, const char *zResource, const char *zMethod,
             const inv_val *pReq, inv_sink *pSink, int bJson) {
  int rc, i;
  startBudget(s, zMethod);
  for (i = 0; i < INV_TRIES; i++) {
    s->bRetry = 0;
    rc = dispatch(s, zResource, zMethod, pReq, pSink, bJson);
    if (rc == INV_OK || !s->bRetry || inv_budget_exceeded(s) || i + 1 == INV_TRIES) break;
    s->zErrCode = NULL;              /* (the last try's error is the call's) */
  }
  s->nsDeadline = 0;                 /* the budget is the call's only */
  return rc;
}

int inv_call_keyed(inv_store *s, const char *zResource, const char *zMethod, const inv_val *pReq,
                   inv_rc_req *t, int bOnly, inv_sink *pSink, int bJson) {
  int rc;
  if (strcmp(zMethod, "stat") != 0) {      /* the methods that keep compiles */
    return bOnly ? INV_MISS : inv_call(s, zResource, zMethod, pReq, pSink, bJson);
  }
  inv_rc_hash(t);
  s->pRcKeyed = t;
  s->bRcOnly = bOnly;
  rc = inv_call(s, zResource, zMethod, pReq, pSink, bJson);
  s->pRcKeyed = NULL;
  s->bRcOnly = 0;
  return rc;
}

/* A read whose answer a cache keeps, tagged with the store's version: the
** version is read first, in the snapshot the call reads when the driver can
** hold one (SQLite), and when it is the version the caller saw (bSeen), the
** call does not run (*pSame = 1). */
int inv_call_versioned(inv_store *s, int bSeen, int64_t seenData, int64_t seenOwn,
                       const char *zResource, const char *zMethod, const inv_val *pReq,
                       inv_sink *pSink, int bJson, int64_t *pData, int64_t *pOwn, int *pSame) {
  const inv_driver *d = s->pDrv;
  int rc;
  *pSame = 0;
  if (strcmp(zMethod, "get") != 0 && strcmp(zMethod, "list") != 0 && strcmp(zMethod, "stat") != 0
      && strcmp(zMethod, "analyze") != 0) {
    return inv_err(s, "ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = method, reason = "
                   "a versioned call reads: get, list, stat or analyze.)");
  }
  if (d->iVersion >= 4 && d->xVersionHeld) rc = d->xVersionHeld(s, pData, pOwn);
  else rc = d->xVersion(s, pData, pOwn);
  if (rc != INV_OK || (bSeen && *pData == seenData && *pOwn == seenOwn)) {
    inv_rollback(s);                 /* ends a held snapshot */
    *pSame = rc == INV_OK;
    return rc;
  }
  rc = inv_call(s, zResource, zMethod, pReq, pSink, bJson);
  inv_rollback(s);                   /* (a request refused before its method ran) */
  return rc;
}
