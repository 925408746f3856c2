/*
** inv_admin.c: operating a store (what the command line and the metrics
** need beside the API): facts about the store, an integrity check with a
** counter audit, an online backup, export and import of whole tables, the
** exporters' cross-domain summary, and waiting for another process's commit.
**
** What only the engine can do (its size, its own integrity check, a copy
** while others write) is the driver's (xInfo, xIntegrity, xBackup); the rest
** is written once, in SQL both backends speak.
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "inv_int.h"

#define CHECK_MAX_PROBLEMS 1000      /* problems listed by a check; the rest are counted */
#define EXPORT_DEFAULT_LIMIT 1000
#define EXPORT_MAX_LIMIT 10000

int inv_schema_version(void) { return INV_SCHEMA_VERSION; }

static int notSupported(inv_store *s, const char *zWhat) {
  return inv_err(s, "ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = store, reason = the "
                 "%s backend has no %s; use the engine's own tools)", s->pDrv->zName, zWhat);
}

/* size in bytes and location, from the driver */
static int storeSize(inv_store *s, int64_t *pn, const char **pz) {
  if (s->pDrv->iVersion < 2 || !s->pDrv->xInfo) { *pn = 0; *pz = ""; return INV_OK; }
  return s->pDrv->xInfo(s, pn, pz);
}

/* ===================== info ===================== */

int inv_store_info(inv_store *s, inv_sink *k) {
  int64_t nBytes;
  const char *zWhere, *zEngine = s->pDrv->xEngineVersion(s);
  if (storeSize(s, &nBytes, &zWhere)) return INV_ERROR;
  k->xBeginObj(k, 5);
  k->xKey(k, "backend", 7); k->xStr(k, s->pDrv->zName, strlen(s->pDrv->zName));
  k->xKey(k, "engine_version", 14); k->xStr(k, zEngine, strlen(zEngine));
  k->xKey(k, "schema_version", 14); k->xInt(k, inv_store_schema_version(s));
  k->xKey(k, "size_bytes", 10); k->xInt(k, nBytes);
  k->xKey(k, "path", 4); k->xStr(k, zWhere, strlen(zWhere));
  k->xEndObj(k);
  return INV_OK;
}

/* ===================== metrics ===================== */

/* Rows of "domain_id, status, count" (or another text, text, number) as
** objects with the given keys. */
static int emitRows(inv_store *s, inv_sink *k, inv_stmt *p, const char *const *azKey, int bReal) {
  int rc;
  while ((rc = inv_step(s, p)) == INV_ROW) {
    size_t n0, n1;
    const char *z0 = inv_col_text(s, p, 0, &n0), *z1 = inv_col_text(s, p, 1, &n1);
    k->xBeginObj(k, 3);
    k->xKey(k, azKey[0], strlen(azKey[0])); k->xStr(k, z0, n0);
    k->xKey(k, azKey[1], strlen(azKey[1])); k->xStr(k, z1, n1);
    k->xKey(k, azKey[2], strlen(azKey[2]));
    if (bReal) k->xReal(k, (double)inv_col_int(s, p, 2) / 1000.0);
    else k->xInt(k, inv_col_int(s, p, 2));
    k->xEndObj(k);
  }
  inv_reset(s, p);
  return rc < 0 ? INV_ERROR : INV_OK;
}

/* Every domain's job and task counts by status, the durations of the jobs
** finished in the last window_seconds (default 3600), the oldest IN_PROGRESS
** job of each domain, and the store's size: what a Prometheus exporter
** needs, across domains (the API's methods are per domain). */
int inv_m_metrics(inv_store *s, const inv_val *req, inv_sink *k) {
  static const char *const azKeys[] = { "window_seconds", NULL };
  static const char *const azCount[] = {
    "SELECT domain_id, status, count(*) FROM job GROUP BY domain_id, status ORDER BY 1, 2",
    "SELECT domain_id, status, count(*) FROM job_task GROUP BY domain_id, status ORDER BY 1, 2",
  };
  static const char *const azCountKey[] = { "domain_id", "status", "count" };
  static const char *const azFinKey[] = { "domain_id", "status", "seconds" };
  static const char zOldest[] =
    "SELECT domain_id, min(created_at) FROM job WHERE status = 'IN_PROGRESS' GROUP BY domain_id ORDER BY 1";
  const inv_val *v;
  double window = 3600;
  int64_t now = inv_now(s), nBytes;
  const char *zWhere;
  inv_stmt *p;
  inv_q q;
  int i, rc;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  if ((v = inv_val_get(req, "window_seconds")) && v->t != INV_NULL) {
    if (v->t == INV_BOOL || !inv_val_number(v, &window)) return inv_err_type_of(s, "window_seconds", "number", v);
    if (window < 0 || window > 1e8) return inv_err_range(s, "window_seconds", "must be from 0 to 100000000", v);
  }
  if (storeSize(s, &nBytes, &zWhere)) return INV_ERROR;
  if (inv_begin_read(s)) return INV_ERROR;             /* one snapshot */
  k->xBeginObj(k, 5);
  for (i = 0; i < 2; i++) {
    k->xKey(k, i ? "job_tasks" : "jobs", i ? 9 : 4);
    k->xBeginArr(k, 0);
    if (!(p = inv_prepare_static(s, azCount[i])) || emitRows(s, k, p, azCountKey, 0)) return INV_ERROR;
    k->xEndArr(k);
  }
  /* the jobs finished in the window: their run time */
  k->xKey(k, "finished", 8);
  k->xBeginArr(k, 0);
  inv_q_init(&q, s, &inv_res_job);
  inv_buf_reset(q.b);
  inv_buf_adds(q.b, "SELECT domain_id, status, finished_at - created_at FROM job WHERE finished_at >= ");
  inv_q_bind_int(&q, now - (int64_t)(window * 1000.0));
  inv_buf_adds(q.b, " AND finished_at <= ");
  inv_q_bind_int(&q, now);
  inv_buf_adds(q.b, " ORDER BY id");
  if (!(p = inv_q_prepare(&q)) || emitRows(s, k, p, azFinKey, 1)) return INV_ERROR;
  k->xEndArr(k);
  k->xKey(k, "oldest_in_progress", 18);
  k->xBeginArr(k, 0);
  if (!(p = inv_prepare_static(s, zOldest))) return INV_ERROR;
  while ((rc = inv_step(s, p)) == INV_ROW) {
    char zT[32];
    size_t n;
    const char *z = inv_col_text(s, p, 0, &n);
    int64_t t = inv_col_int(s, p, 1);
    inv_time_format(t, zT);
    k->xBeginObj(k, 3);
    k->xKey(k, "domain_id", 9); k->xStr(k, z, n);
    k->xKey(k, "created_at", 10); k->xStr(k, zT, strlen(zT));
    k->xKey(k, "age_seconds", 11); k->xReal(k, (double)(now - t) / 1000.0);
    k->xEndObj(k);
  }
  inv_reset(s, p);
  if (rc < 0) return INV_ERROR;
  k->xEndArr(k);
  inv_rollback(s);
  k->xKey(k, "size_bytes", 10);
  k->xInt(k, nBytes);
  k->xEndObj(k);
  return INV_OK;
}

/* ===================== check ===================== */

/* The counter audit, one row per job whose counters disagree with its
** tasks (see inv_store_check). Tasks belong to a job by (job_id, domain_id). */
static const char zAudit[] =
  "SELECT j.job_id, j.domain_id, j.status, j.total_tasks, j.remained_tasks, "
  "j.success_tasks, j.failure_tasks, t.n, t.n_open, t.n_success, t.n_failure "
  "FROM job AS j JOIN (SELECT domain_id, job_id, count(*) AS n, "
  "  sum(CASE WHEN remained_sub_tasks > 0 THEN 1 ELSE 0 END) AS n_open, "
  "  sum(CASE WHEN status = 'SUCCESS' AND remained_sub_tasks = 0 THEN 1 ELSE 0 END) AS n_success, "
  "  sum(CASE WHEN status = 'FAILURE' AND remained_sub_tasks = 0 THEN 1 ELSE 0 END) AS n_failure "
  "  FROM job_task GROUP BY domain_id, job_id) AS t "
  "ON t.job_id = j.job_id AND t.domain_id = j.domain_id "
  "WHERE j.remained_tasks <> t.n_open OR j.success_tasks < t.n_success "
  "OR j.failure_tasks < t.n_failure "
  "OR j.success_tasks + j.failure_tasks + j.remained_tasks <> j.total_tasks "
  "ORDER BY j.id";

typedef struct Problems Problems;
struct Problems {
  inv_sink *k;
  int64_t n;                  /* found */
};

static void problem(Problems *pr, const char *zFmt, ...) {
  char z[512];
  va_list ap;
  int n;
  if (pr->n++ >= CHECK_MAX_PROBLEMS) return;
  va_start(ap, zFmt);
  n = vsnprintf(z, sizeof z, zFmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if (n >= (int)sizeof z) n = (int)sizeof z - 1;
  inv_utf8_clean(z, (size_t)n);
  pr->k->xStr(pr->k, z, (size_t)n);
}

static void integrityProblem(void *pCtx, const char *z) {
  problem((Problems*)pCtx, "integrity: %s", z);
}

static int checkRun(inv_store *s, inv_sink *k) {
  Problems pr;
  inv_stmt *p;
  int rc;
  pr.k = k;
  pr.n = 0;
  k->xBeginObj(k, 2);
  k->xKey(k, "problems", 8);
  k->xBeginArr(k, 0);
  if (s->pDrv->iVersion >= 2 && s->pDrv->xIntegrity && s->pDrv->xIntegrity(s, &pr, integrityProblem)) {
    return INV_ERROR;
  }
  {
    int v = inv_store_schema_version(s);
    if (v != INV_SCHEMA_VERSION) {
      problem(&pr, "schema: version %d, this library uses %d", v, INV_SCHEMA_VERSION);
    }
  }
  if (!(p = inv_prepare_static(s, zAudit))) return INV_ERROR;
  while ((rc = inv_step(s, p)) == INV_ROW) {
    size_t n;
    const char *zJob = inv_col_text(s, p, 0, &n);
    char zWho[200];
    int64_t nTotal = inv_col_int(s, p, 3), nRemained = inv_col_int(s, p, 4);
    int64_t nSuccess = inv_col_int(s, p, 5), nFailure = inv_col_int(s, p, 6);
    int64_t nTasks = inv_col_int(s, p, 7), nOpen = inv_col_int(s, p, 8);
    int64_t nTaskOk = inv_col_int(s, p, 9), nTaskFail = inv_col_int(s, p, 10);
    snprintf(zWho, sizeof zWho, "job %.80s", zJob);
    snprintf(zWho + strlen(zWho), sizeof zWho - strlen(zWho), " (%.80s)", inv_col_text(s, p, 1, &n));
    if (nRemained != nOpen) {
      problem(&pr, "%s: remained_tasks is %lld, %lld of its %lld tasks are unfinished",
              zWho, (long long)nRemained, (long long)nOpen, (long long)nTasks);
    }
    if (nSuccess < nTaskOk) {
      problem(&pr, "%s: success_tasks is %lld, %lld of its tasks succeeded",
              zWho, (long long)nSuccess, (long long)nTaskOk);
    }
    if (nFailure < nTaskFail) {
      problem(&pr, "%s: failure_tasks is %lld, %lld of its tasks failed",
              zWho, (long long)nFailure, (long long)nTaskFail);
    }
    if (nSuccess + nFailure + nRemained != nTotal) {
      problem(&pr, "%s: success_tasks + failure_tasks + remained_tasks is %lld, total_tasks %lld",
              zWho, (long long)(nSuccess + nFailure + nRemained), (long long)nTotal);
    }
  }
  inv_reset(s, p);
  if (rc < 0) return INV_ERROR;
  if (pr.n > CHECK_MAX_PROBLEMS) {
    char z[96];
    int n = snprintf(z, sizeof z, "... and %lld more", (long long)(pr.n - CHECK_MAX_PROBLEMS));
    k->xStr(k, z, (size_t)n);
  }
  k->xEndArr(k);
  k->xKey(k, "ok", 2);
  k->xBool(k, pr.n == 0);
  k->xEndObj(k);
  return INV_OK;
}

int inv_store_check(inv_store *s, inv_sink *k) {
  int rc;
  /* the whole check reads one snapshot */
  if (inv_begin_read(s)) return INV_ERROR;
  rc = checkRun(s, k);
  inv_rollback(s);                       /* end the read transaction */
  return rc;
}

/* ===================== backup ===================== */

int inv_store_backup(inv_store *s, const char *zPath, int bOverwrite) {
  if (!zPath || !zPath[0]) return inv_err_required(s, "path");
  if (s->pDrv->iVersion < 2 || !s->pDrv->xBackup) return notSupported(s, "backup");
  return s->pDrv->xBackup(s, zPath, bOverwrite);
}

/* ===================== checkpoint ===================== */

int inv_store_checkpoint(inv_store *s, inv_sink *k) {
  int64_t nLog = 0, nDone = 0;
  if (s->pDrv->iVersion >= 5 && s->pDrv->xCheckpoint && s->pDrv->xCheckpoint(s, &nLog, &nDone)) {
    return INV_ERROR;
  }
  k->xBeginObj(k, 2);
  k->xKey(k, "log_frames", 10); k->xInt(k, nLog);
  k->xKey(k, "checkpointed", 12); k->xInt(k, nDone);
  k->xEndObj(k);
  return INV_OK;
}

/* ===================== export ===================== */

int inv_export(inv_store *s, const char *zResource, const inv_val *pReq, inv_sink *k,
               inv_buf *pLines, int64_t *pNext) {
  static const char *const azKeys[] = { "domain_id", "after", "limit", "query", NULL };
  static const char *const azQuery[] = { "filter", "filter_or", "keyword", NULL };
  const inv_resource *r = inv_resource_find(zResource);
  const inv_val *v, *pQ = NULL;
  const char *zDomain;
  int64_t after = 0, limit = EXPORT_DEFAULT_LIMIT, n = 0, last = 0;
  inv_q q;
  inv_stmt *p;
  int rc;
  *pNext = 0;
  if (!r) return inv_err_unknown_resource(s, zResource);
  if (!pReq || inv_check_keys(s, pReq, azKeys, "")) return INV_ERROR;
  if (inv_req_string(s, pReq, "domain_id", 0, &zDomain)) return INV_ERROR;
  if ((v = inv_val_get(pReq, "after")) && v->t != INV_NULL) {
    if (v->t == INV_BOOL || !inv_val_integer(v, &after)) return inv_err_type_of(s, "after", "integer", v);
  }
  if ((v = inv_val_get(pReq, "limit")) && v->t != INV_NULL) {
    if (v->t == INV_BOOL || !inv_val_integer(v, &limit)) return inv_err_type_of(s, "limit", "integer", v);
    if (limit < 1 || limit > EXPORT_MAX_LIMIT) {
      return inv_err_range(s, "limit", "must be from 1 to 10000", v);
    }
  }
  if ((v = inv_val_get(pReq, "query")) && v->t != INV_NULL) {
    if (inv_check_keys(s, v, azQuery, "query")) return INV_ERROR;
    pQ = v;
  }
  inv_q_init(&q, s, r);
  inv_buf_reset(q.b);
  inv_buf_printf(q.b, "SELECT t.* FROM %s AS t WHERE t.id > ", r->zTable);
  inv_q_bind_int(&q, after);
  if (zDomain) {
    inv_buf_adds(q.b, " AND t.domain_id = ");
    inv_q_bind_text(&q, zDomain, strlen(zDomain));
  }
  inv_buf_adds(q.b, " AND ");
  if (inv_where(&q, pQ ? inv_val_get(pQ, "filter") : NULL, pQ ? inv_val_get(pQ, "filter_or") : NULL,
                pQ ? inv_val_get(pQ, "keyword") : NULL, NULL)) return INV_ERROR;
  inv_buf_adds(q.b, " ORDER BY t.id LIMIT ");
  inv_q_bind_int(&q, limit + 1);           /* one more: is there a next page? */
  if (q.b->bOom) return inv_err_nomem(s);
  p = inv_q_prepare(&q);
  if (!p) return INV_ERROR;
  if (!pLines) {
    k->xBeginObj(k, 2);
    k->xKey(k, "records", 7);
    k->xBeginArr(k, (int)(limit < 64 ? limit : 64));
  }
  while ((rc = inv_step(s, p)) == INV_ROW) {
    if (n == limit) { *pNext = last; break; }
    last = inv_col_int(s, p, 0);
    if (pLines) {
      inv_json_sink js;
      inv_json_sink_init(&js, pLines);
      inv_render_row(s, r, p, 1, &js.base, R_ALL, NULL);
      inv_buf_addc(pLines, '\n');
      if (pLines->bOom) { inv_reset(s, p); return inv_err_nomem(s); }
    } else {
      inv_render_row(s, r, p, 1, k, R_ALL, NULL);
    }
    n++;
  }
  inv_reset(s, p);
  if (rc < 0) return INV_ERROR;
  if (!pLines) {
    k->xEndArr(k);
    if (*pNext) { k->xKey(k, "next", 4); k->xInt(k, *pNext); }
    k->xEndObj(k);
  }
  return INV_OK;
}

/* ===================== import of JSON text ===================== */

int inv_import_text(inv_store *s, const char *zResource, const char *z, size_t n,
                    inv_sink *k) {
  inv_arena *a = &s->arena;
  inv_val recs, req;
  inv_kv *kv;
  char zErr[160];
  size_t i = 0;
  if (!inv_resource_find(zResource)) return inv_err_unknown_resource(s, zResource);
  if (n >= 3 && memcmp(z, "\xEF\xBB\xBF", 3) == 0) { z += 3; n -= 3; }   /* a BOM */
  while (i < n && (z[i] == ' ' || z[i] == '\t' || z[i] == '\r' || z[i] == '\n')) i++;
  memset(&recs, 0, sizeof recs);
  recs.t = INV_ARR;
  if (i < n && z[i] == '[') {
    /* one JSON array */
    if (inv_json_parse(a, z, n, &recs, zErr, sizeof zErr)) {
      return inv_err(s, "ERROR_INVALID_PARAMETER",
                     "Parameter is invalid. (key = records, reason = %s)", zErr);
    }
    if (recs.t != INV_ARR) return inv_err_type_of(s, "records", "list", &recs);
  } else {
    /* JSON lines: one record per line; blank lines are skipped */
    size_t nAlloc = 0, iLine = 0;
    while (i < n) {
      size_t j = i;
      const char *zNl = memchr(z + i, '\n', n - i);
      size_t e = zNl ? (size_t)(zNl - z) : n;
      iLine++;
      while (j < e && (z[j] == ' ' || z[j] == '\t' || z[j] == '\r')) j++;
      if (j < e) {
        inv_val rec;
        if (inv_json_parse(a, z + j, e - j, &rec, zErr, sizeof zErr)) {
          return inv_err(s, "ERROR_INVALID_PARAMETER",
                         "Parameter is invalid. (key = records, reason = line %lld: %s)",
                         (long long)iLine, zErr);
        }
        if (recs.u.arr.n == nAlloc) {
          size_t nNew = nAlloc ? nAlloc * 2 : 64;
          inv_val *aNew = inv_arena_alloc(a, sizeof(inv_val) * nNew);
          if (!aNew) return inv_err_nomem(s);
          if (recs.u.arr.n) memcpy(aNew, recs.u.arr.a, sizeof(inv_val) * recs.u.arr.n);
          recs.u.arr.a = aNew;
          nAlloc = nNew;
        }
        recs.u.arr.a[recs.u.arr.n++] = rec;
      } else {
        /* a blank line (or only whitespace) */
      }
      i = e + 1;
      if (!zNl) break;
    }
  }
  kv = inv_arena_alloc(a, sizeof *kv);
  if (!kv) return inv_err_nomem(s);
  kv->zKey = "records"; kv->nKey = 7; kv->v = recs;
  memset(&req, 0, sizeof req);
  req.t = INV_OBJ; req.u.obj.a = kv; req.u.obj.n = 1;
  return inv_call(s, zResource, "import", &req, k, 0);
}

/* ===================== waiting for a change ===================== */

int inv_store_wait_change(inv_store *s, int64_t since, int nTimeoutMs, int nPollMs,
                          int *pbChanged) {
  int nWaited = 0, nPoll = nPollMs < nTimeoutMs ? nPollMs : nTimeoutMs;
  *pbChanged = 0;
  if (nPoll < 1) nPoll = 1;
  for (;;) {
    int64_t d, o;
    if (inv_store_version(s, &d, &o)) return INV_ERROR;
    if (d != since) { *pbChanged = 1; return INV_OK; }
    if (nWaited >= nTimeoutMs) return INV_OK;
    {
      struct timespec ts;
      ts.tv_sec = nPoll / 1000;
      ts.tv_nsec = (long)(nPoll % 1000) * 1000000L;
      nanosleep(&ts, NULL);               /* a signal ends it early: fine */
    }
    nWaited += nPoll;
  }
}
