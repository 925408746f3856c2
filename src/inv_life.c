/*
** inv_life.c: the write side. What the reference does inside
** Collector.collect and its workers, with DESIGN.md's fixes: every
** transition runs in one write transaction (taken before the first read), a job finalises
** exactly once (a conditional UPDATE), remained_tasks never goes below 0,
** updated_at moves on every write, and the timeout sweep also fails the
** job's unfinished tasks.
**
** Also import (documented JSON records as they are), sweep and purge.
*/
#define _GNU_SOURCE
#include <string.h>
#include <stdio.h>
#include <ctype.h>
#include <errno.h>
#include <sys/random.h>
#include "inv_int.h"

/* ===================== ids ===================== */

/* Random bytes for new ids: one read of the OS random source serves a whole
** call (a job and its tasks), refilled when a collision used them up. */
typedef struct IdPool IdPool;
struct IdPool {
  unsigned char *a;
  size_t n, i;
};

static int poolFill(inv_store *s, IdPool *pool, size_t nIds) {
  size_t got = 0, n = nIds * 6;
  unsigned char *a = inv_arena_alloc(&s->arena, n);
  if (!a) return inv_err_nomem(s);
  while (got < n) {
    ssize_t k = getrandom(a + got, n - got, 0);
    if (k < 0) {
      if (errno == EINTR) continue;
      return inv_err(s, "ERROR_UNKNOWN", "The OS random source failed.");
    }
    got += (size_t)k;
  }
  pool->a = a; pool->n = n; pool->i = 0;
  return INV_OK;
}

/* prefix + 12 lowercase hex digits from the pool. */
static int newId(inv_store *s, IdPool *pool, const char *zPrefix, char *zOut, size_t nOut) {
  static const char hex[] = "0123456789abcdef";
  size_t k, i;
  if (pool->i + 6 > pool->n && poolFill(s, pool, 8)) return INV_ERROR;
  i = (size_t)snprintf(zOut, nOut, "%s", zPrefix);
  for (k = 0; k < 6; k++) {
    unsigned char c = pool->a[pool->i++];
    zOut[i++] = hex[c >> 4];
    zOut[i++] = hex[c & 15];
  }
  zOut[i] = 0;
  return INV_OK;
}

/* Insert with a fresh id; a collision draws again (never returned): an
** error of a unique key, or no row inserted (a dialect whose INSERT skips a
** taken key: an error there would abort the transaction). The statement's
** parameter iParam is the id. */
static int insertWithId(inv_store *s, IdPool *pool, inv_stmt *p, int iParam, const char *zPrefix,
                        char *zId, size_t nId) {
  int tries;
  for (tries = 0; tries < 8; tries++) {
    int rc;
    if (newId(s, pool, zPrefix, zId, nId)) return INV_ERROR;
    inv_bind_text(s, p, iParam, zId);
    rc = inv_run(s, p);
    if (rc == INV_OK && inv_changes(s) > 0) return INV_OK;
    if (rc == INV_OK) continue;
    if (strcmp(inv_store_errcode(s), "ERROR_SAVE_UNIQUE_VALUES") != 0) return INV_ERROR;
  }
  return inv_err(s, "ERROR_SAVE_UNIQUE_VALUES", "Tried to save duplicate unique values. "
                 "(key = id, reason = 8 new %s... ids in a row were already taken)", zPrefix);
}

/* ===================== small helpers ===================== */

static int optString(inv_store *s, const inv_val *req, const char *zKey, const char **pz) {
  const inv_val *v = inv_val_get(req, zKey);
  *pz = NULL;
  if (!v || v->t == INV_NULL) return INV_OK;
  if (v->t != INV_STR) return inv_err_type_of(s, zKey, "string", v);
  /* values are bound as C strings: an embedded NUL would cut them short */
  if (strlen(v->u.s.z) != v->u.s.n) return inv_err_invalid(s, zKey, "holds a NUL byte.");
  if (v->u.s.n > INV_MAX_ID) {
    char zR[200];
    snprintf(zR, sizeof zR, "%s is longer than %d bytes.", inv_msg_value(s, v, 60), INV_MAX_ID);
    return inv_err_invalid(s, zKey, zR);
  }
  if (v->u.s.n) *pz = v->u.s.z;
  return INV_OK;
}

/* Finalise a job exactly once: when its last task is done and it is still
** IN_PROGRESS (a conditional UPDATE, inside the caller's transaction). */
int inv_job_finalize(inv_store *s, const char *zJob, const char *zDomain, int64_t now) {
  inv_stmt *p = inv_sql(s, INV_SQL_JOB_FINALIZE);
  if (!p) return INV_ERROR;
  inv_bind_int(s, p, 1, now);
  inv_bind_text(s, p, 2, zJob);
  inv_bind_text(s, p, 3, zDomain);
  return inv_run(s, p);
}

/* A task's counters moved to its job: +1 success or failure, -1 remained;
** the UPDATE returns what is left, and the job is finalised (exactly once)
** after its last task only. The counters' UPDATE names no indexed column:
** folding the finalisation into it would rewrite the job's status index
** entries on every task. */
static int jobTaskDone(inv_store *s, const char *zJob, const char *zDomain, int bFailure,
                       int64_t now) {
  int bPlain = s->pDia->azSql[INV_SQL_JOB_TASK_DONE_PLAIN] != NULL;
  inv_stmt *p = inv_sql(s, bPlain ? INV_SQL_JOB_TASK_DONE_PLAIN : INV_SQL_JOB_TASK_DONE);
  int rc, bLast = 0;
  if (!p) return INV_ERROR;
  inv_bind_int(s, p, 1, now);
  inv_bind_text(s, p, 2, zJob);
  inv_bind_text(s, p, 3, zDomain);
  inv_bind_int(s, p, 4, bFailure ? 1 : 0);
  if (bPlain) {
    /* no RETURNING: the finalising UPDATE changes the job only when this
    ** was its last task and it is still IN_PROGRESS (exactly once) */
    if (inv_run(s, p)) return INV_ERROR;
    return inv_job_finalize(s, zJob, zDomain, now);
  }
  rc = inv_step(s, p);
  if (rc == INV_ROW) {
    size_t n;
    bLast = inv_col_int(s, p, 0) == 0 && strcmp(inv_col_text(s, p, 1, &n), "IN_PROGRESS") == 0;
    while (rc == INV_ROW) rc = inv_step(s, p);
  }
  inv_reset(s, p);
  if (rc < 0) return INV_ERROR;
  return bLast ? inv_job_finalize(s, zJob, zDomain, now) : INV_OK;
}

/* The task row the write methods work on. */
typedef struct Task Task;
struct Task {
  char zId[INV_MAX_ID * 4 + 1];
  char zStatus[32];
  char zJob[INV_MAX_ID * 4 + 1];
  char zDomain[INV_MAX_ID * 4 + 1];
  int64_t nRemainedSub;
  int bStarted;
};

static int loadTask(inv_store *s, const inv_val *req, Task *t) {
  const char *zId, *zDomain;
  inv_stmt *p;
  int rc;
  if (inv_req_string(s, req, "job_task_id", 1, &zId)) return INV_ERROR;
  if (inv_req_string(s, req, "domain_id", 1, &zDomain)) return INV_ERROR;
  p = inv_sql(s, INV_SQL_TASK_LOAD);
  if (!p) return INV_ERROR;
  inv_bind_text(s, p, 1, zId);
  inv_bind_text(s, p, 2, zDomain);
  rc = inv_step(s, p);
  if (rc < 0) return INV_ERROR;
  if (rc != INV_ROW) {
    inv_reset(s, p);
    return inv_err(s, "ERROR_NOT_FOUND", "Resource cannot be found or access is denied. "
                   "(job_task_id = %s, domain_id = %s)",
                   inv_msg_text(s, zId, strlen(zId), INV_MSG_VALUE),
                   inv_msg_text(s, zDomain, strlen(zDomain), INV_MSG_VALUE));
  }
  snprintf(t->zId, sizeof t->zId, "%s", zId);
  snprintf(t->zDomain, sizeof t->zDomain, "%s", zDomain);
  {
    size_t n;
    snprintf(t->zStatus, sizeof t->zStatus, "%s", inv_col_text(s, p, 0, &n));
    snprintf(t->zJob, sizeof t->zJob, "%s", inv_col_text(s, p, 2, &n));
  }
  t->nRemainedSub = inv_col_int(s, p, 1);
  t->bStarted = inv_col_int(s, p, 3) != 0;
  inv_reset(s, p);
  return INV_OK;
}

static int appendError(inv_store *s, const Task *t, const char *zJson) {
  inv_stmt *p = inv_sql(s, INV_SQL_TASK_APPEND_ERROR);
  if (!p) return INV_ERROR;
  inv_bind_text(s, p, 1, zJson);
  inv_bind_text(s, p, 2, t->zId);
  inv_bind_text(s, p, 3, t->zDomain);
  return inv_run(s, p);
}

/* ===================== job.create ===================== */

/* A new task's fields from its request (t); zWs: the job's workspace,
** the task's when it names none. */
typedef struct TaskFields TaskFields;
struct TaskFields { const char *zSecret, *zSa, *zProject, *zWs, *zProvider; int64_t nSub; };
static void taskFields(inv_store *s, const inv_val *t, const char *zWs, TaskFields *f) {
  const inv_val *v;
  optString(s, t, "secret_id", &f->zSecret);
  optString(s, t, "service_account_id", &f->zSa);
  optString(s, t, "project_id", &f->zProject);
  optString(s, t, "workspace_id", &f->zWs);
  optString(s, t, "provider", &f->zProvider);
  if (!f->zWs) f->zWs = zWs;
  f->nSub = 1;
  v = inv_val_get(t, "sub_tasks");
  if (v && v->t != INV_NULL) inv_val_integer(v, &f->nSub);
}

/* One task of a new job, by its own INSERT, with a fresh id. */
static int insertTask(inv_store *s, IdPool *pool, const inv_val *t, const char *zJob,
                      const char *zCollector, const char *zWs, const char *zDomain, int64_t now) {
  TaskFields f;
  char zTask[64];
  inv_stmt *p;
  taskFields(s, t, zWs, &f);
  p = inv_sql(s, INV_SQL_TASK_INSERT);
  if (!p) return INV_ERROR;
  inv_bind_text(s, p, 2, f.zProvider);
  inv_bind_int(s, p, 3, f.nSub);
  inv_bind_text(s, p, 4, zJob);
  inv_bind_text(s, p, 5, f.zSecret);
  inv_bind_text(s, p, 6, zCollector);
  inv_bind_text(s, p, 7, f.zSa);
  inv_bind_text(s, p, 8, f.zProject);
  inv_bind_text(s, p, 9, f.zWs);
  inv_bind_text(s, p, 10, zDomain);
  inv_bind_int(s, p, 11, now);
  return insertWithId(s, pool, p, 1, "job-task-", zTask, sizeof zTask);
}

static void jsonStrOrNull(inv_buf *b, const char *zKey, const char *z) {
  inv_buf_adds(b, zKey);
  if (z) inv_json_write_str(b, z, strlen(z));
  else inv_buf_adds(b, "null");
}

/* A job's tasks by one statement (INV_SQL_TASK_INSERT_JSON): their rows as
** a JSON array, in the request's order. A task whose new id was taken (the
** statement leaves it out) is found afterwards and inserted by itself with
** another id. */
static int insertTasksJson(inv_store *s, IdPool *pool, const inv_val *pTasks, const char *zJob,
                           const char *zCollector, const char *zWs, const char *zDomain,
                           int64_t now) {
  inv_buf *b = &s->tmp;
  size_t nTask = pTasks->u.arr.n, i;
  char *zIds, *zRows;
  inv_stmt *p;
  zIds = inv_arena_alloc(&s->arena, nTask * 32);
  if (!zIds) return inv_err_nomem(s);
  inv_buf_reset(b);
  inv_buf_addc(b, '[');
  for (i = 0; i < nTask; i++) {
    TaskFields f;
    char *zTask = zIds + i * 32;
    taskFields(s, &pTasks->u.arr.a[i], zWs, &f);
    if (newId(s, pool, "job-task-", zTask, 32)) return INV_ERROR;
    if (i) inv_buf_addc(b, ',');
    jsonStrOrNull(b, "{\"i\":", zTask);
    jsonStrOrNull(b, ",\"p\":", f.zProvider);
    inv_buf_printf(b, ",\"n\":%lld", (long long)f.nSub);
    jsonStrOrNull(b, ",\"s\":", f.zSecret);
    jsonStrOrNull(b, ",\"a\":", f.zSa);
    jsonStrOrNull(b, ",\"r\":", f.zProject);
    jsonStrOrNull(b, ",\"w\":", f.zWs);
    inv_buf_addc(b, '}');
  }
  inv_buf_addc(b, ']');
  if (b->bOom) return inv_err_nomem(s);
  zRows = inv_arena_strdup(&s->arena, b->z, b->n);
  if (!zRows) return inv_err_nomem(s);
  p = inv_sql(s, INV_SQL_TASK_INSERT_JSON);
  if (!p) return INV_ERROR;
  inv_bind_text(s, p, 1, zJob);
  inv_bind_text(s, p, 2, zCollector);
  inv_bind_text(s, p, 3, zDomain);
  inv_bind_int(s, p, 4, now);
  inv_bind_textn(s, p, 5, zRows, b->n);
  if (inv_run(s, p)) return INV_ERROR;
  if ((size_t)inv_changes(s) == nTask) return INV_OK;
  /* an id was taken (by another domain's task, or drawn twice): which ones
  ** went in is read back, the others go in one by one */
  p = inv_sql(s, INV_SQL_TASK_IDS_OF_JOB);
  if (!p) return INV_ERROR;
  inv_bind_text(s, p, 1, zJob);
  inv_bind_text(s, p, 2, zDomain);
  {
    int rc;
    char *aIn = inv_arena_alloc(&s->arena, nTask);
    if (!aIn) return inv_err_nomem(s);
    memset(aIn, 0, nTask);
    while ((rc = inv_step(s, p)) == INV_ROW) {
      size_t n;
      const char *z = inv_col_text(s, p, 0, &n);
      for (i = 0; i < nTask; i++) if (!aIn[i] && strcmp(zIds + i * 32, z) == 0) { aIn[i] = 1; break; }
    }
    inv_reset(s, p);
    if (rc < 0) return INV_ERROR;
    for (i = 0; i < nTask; i++) {
      if (!aIn[i] && insertTask(s, pool, &pTasks->u.arr.a[i], zJob, zCollector, zWs, zDomain, now)) {
        return INV_ERROR;
      }
    }
  }
  return INV_OK;
}

int inv_m_create(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  static const char *const azKeys[] = {
    "domain_id", "collector_id", "plugin_id", "workspace_id", "resource_group",
    "request_secret_id", "request_workspace_id", "tasks", NULL
  };
  static const char *const azTaskKeys[] = {
    "secret_id", "service_account_id", "project_id", "workspace_id", "provider",
    "sub_tasks", NULL
  };
  const char *zDomain, *zCollector, *zPlugin, *zWs, *zRg, *zRs, *zRw;
  const inv_val *pTasks;
  size_t nTask = 0, i;
  int64_t now = inv_now(s);
  char zJob[64];
  inv_stmt *p;
  IdPool pool;
  if (r != &inv_res_job) {
    return inv_err_invalid(s, "method", "create is a method of job; tasks are created with their job.");
  }
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  if (inv_req_string(s, req, "domain_id", 1, &zDomain)
      || inv_req_string(s, req, "collector_id", 1, &zCollector)
      || optString(s, req, "domain_id", &zDomain) || optString(s, req, "collector_id", &zCollector)
      || optString(s, req, "plugin_id", &zPlugin) || optString(s, req, "workspace_id", &zWs)
      || optString(s, req, "resource_group", &zRg)
      || optString(s, req, "request_secret_id", &zRs)
      || optString(s, req, "request_workspace_id", &zRw)) return INV_ERROR;
  if (zRg && strcmp(zRg, "DOMAIN") && strcmp(zRg, "WORKSPACE")) {
    static const char *const azRg[] = { "DOMAIN", "WORKSPACE", NULL };
    return inv_err_enum(s, "resource_group", inv_val_get(req, "resource_group"), azRg);
  }
  if (!zWs) zWs = "*";
  if (!zRg) zRg = strcmp(zWs, "*") == 0 ? "DOMAIN" : "WORKSPACE";
  pTasks = inv_val_get(req, "tasks");
  if (pTasks && pTasks->t != INV_NULL) {
    if (!inv_val_is_arr(pTasks)) return inv_err_type_of(s, "tasks", "list", pTasks);
    nTask = pTasks->u.arr.n;
    for (i = 0; i < nTask; i++) {           /* validate everything before writing */
      const inv_val *t = &pTasks->u.arr.a[i];
      const char *z;
      const inv_val *v;
      int64_t n;
      if (inv_check_keys(s, t, azTaskKeys, "tasks")) return INV_ERROR;
      if (optString(s, t, "secret_id", &z) || optString(s, t, "service_account_id", &z)
          || optString(s, t, "project_id", &z) || optString(s, t, "workspace_id", &z)
          || optString(s, t, "provider", &z)) return INV_ERROR;
      v = inv_val_get(t, "sub_tasks");
      if (v && v->t != INV_NULL && (v->t == INV_BOOL || !inv_val_integer(v, &n) || n < 1 || n > 1000000)) {
        char zR[200];
        snprintf(zR, sizeof zR, "must be an integer from 1 to 1000000, not %s.",
                 inv_msg_value(s, v, INV_MSG_VALUE));
        return inv_err_invalid(s, "tasks.sub_tasks", zR);
      }
    }
  }
  /* the ids of the job and its tasks: one read of the random source */
  if (poolFill(s, &pool, 1 + nTask)) return INV_ERROR;
  if (inv_begin_write(s)) return INV_ERROR;
  /* one create of a collector at a time (inv_backend.h) */
  p = inv_sql(s, INV_SQL_JOB_LOCK_COLLECTOR);
  if (!p) return INV_ERROR;
  inv_bind_text(s, p, 1, zDomain);
  inv_bind_text(s, p, 2, zCollector);
  if (inv_run(s, p)) return INV_ERROR;
  /* cancel the duplicate IN_PROGRESS jobs of the same collector, domain,
  ** request workspace and request secret (journalled first: after the
  ** update they are not told apart from other canceled jobs) */
  if (inv_journal_duplicates(s, zDomain, zCollector, zRw, zRs)) return INV_ERROR;
  p = inv_sql(s, INV_SQL_JOB_CANCEL_DUPLICATES);
  if (!p) return INV_ERROR;
  inv_bind_int(s, p, 1, now);
  inv_bind_text(s, p, 2, zDomain);
  inv_bind_text(s, p, 3, zCollector);
  inv_bind_text(s, p, 4, zRw);
  inv_bind_text(s, p, 5, zRs);
  if (inv_run(s, p)) return INV_ERROR;
  p = inv_sql(s, INV_SQL_JOB_INSERT);
  if (!p) return INV_ERROR;
  inv_bind_text(s, p, 2, nTask ? "IN_PROGRESS" : "SUCCESS");
  inv_bind_int(s, p, 3, (int64_t)nTask);
  inv_bind_text(s, p, 4, zRs);
  inv_bind_text(s, p, 5, zRw);
  inv_bind_text(s, p, 6, zRg);
  inv_bind_text(s, p, 7, zDomain);
  inv_bind_text(s, p, 8, zWs);
  inv_bind_text(s, p, 9, zCollector);
  inv_bind_text(s, p, 10, zPlugin);
  inv_bind_int(s, p, 11, now);
  if (nTask) inv_bind_null(s, p, 12); else inv_bind_int(s, p, 12, now);
  if (insertWithId(s, &pool, p, 1, "job-", zJob, sizeof zJob)) return INV_ERROR;
  if (nTask && s->pDia->azSql[INV_SQL_TASK_INSERT_JSON]) {
    if (insertTasksJson(s, &pool, pTasks, zJob, zCollector, zWs, zDomain, now)) return INV_ERROR;
  } else {
    for (i = 0; i < nTask; i++) {
      if (insertTask(s, &pool, &pTasks->u.arr.a[i], zJob, zCollector, zWs, zDomain, now)) return INV_ERROR;
    }
  }
  if (nTask ? inv_journal_job_and_tasks(s, zJob, zDomain) : inv_journal_job(s, zJob, zDomain)) {
    return INV_ERROR;
  }
  if (inv_commit(s)) return INV_ERROR;
  return inv_render_by_id(s, &inv_res_job, zJob, zDomain, k, f);
}

/* ===================== job_task.start ===================== */

int inv_m_start(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  static const char *const azKeys[] = { "job_task_id", "domain_id", NULL };
  Task t;
  int64_t now = inv_now(s);
  inv_stmt *p;
  int rc, bCanceled = 0;
  if (r != &inv_res_task) return inv_err_invalid(s, "method", "start is a method of job_task.");
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  if (inv_begin_write(s) || loadTask(s, req, &t)) return INV_ERROR;
  if (t.nRemainedSub > 0 && (strcmp(t.zStatus, "PENDING") == 0 || strcmp(t.zStatus, "IN_PROGRESS") == 0)) {
    p = inv_sql(s, INV_SQL_JOB_IS_CANCELED);
    if (!p) return INV_ERROR;
    inv_bind_text(s, p, 1, t.zJob);
    inv_bind_text(s, p, 2, t.zDomain);
    rc = inv_step(s, p);
    if (rc < 0) return INV_ERROR;
    bCanceled = rc == INV_ROW && inv_col_int(s, p, 0);
    inv_reset(s, p);
  }
  if (bCanceled) {
    /* the job was canceled: the task fails with ERROR_COLLECT_CANCELED */
    if (appendError(s, &t, "{\"error_code\":\"ERROR_COLLECT_CANCELED\","
                           "\"message\":\"The job has been canceled.\"}")) return INV_ERROR;
    p = inv_sql(s, INV_SQL_TASK_FAIL_CANCELED);
    if (!p) return INV_ERROR;
    inv_bind_int(s, p, 1, now);
    inv_bind_text(s, p, 2, t.zId);
    inv_bind_text(s, p, 3, t.zDomain);
    if (inv_run(s, p) || jobTaskDone(s, t.zJob, t.zDomain, 1, now)) return INV_ERROR;
  } else if (strcmp(t.zStatus, "PENDING") == 0) {
    p = inv_sql(s, INV_SQL_TASK_START);
    if (!p) return INV_ERROR;
    inv_bind_int(s, p, 1, now);
    inv_bind_text(s, p, 2, t.zId);
    inv_bind_text(s, p, 3, t.zDomain);
    if (inv_run(s, p)) return INV_ERROR;
  }
  if (bCanceled ? inv_journal_task_job(s, t.zId, t.zDomain, t.zJob)
      : strcmp(t.zStatus, "PENDING") == 0 && inv_journal_task(s, t.zId, t.zDomain, t.zJob)) {
    return INV_ERROR;
  }
  if (inv_commit(s)) return INV_ERROR;
  return inv_render_by_id(s, r, t.zId, t.zDomain, k, f);
}

/* ===================== job_task.add_error ===================== */

int inv_m_add_error(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  static const char *const azKeys[] = {
    "job_task_id", "domain_id", "error_code", "message", "additional", NULL
  };
  Task t;
  const char *zCode;
  const inv_val *pMsg, *pAdd;
  inv_buf *b = &s->tmp;
  if (r != &inv_res_task) return inv_err_invalid(s, "method", "add_error is a method of job_task.");
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  if (inv_req_string(s, req, "error_code", 1, &zCode)) return INV_ERROR;
  pMsg = inv_val_get(req, "message");
  if (pMsg && pMsg->t != INV_NULL && pMsg->t != INV_STR) return inv_err_type_of(s, "message", "string", pMsg);
  pAdd = inv_val_get(req, "additional");
  if (pAdd && pAdd->t != INV_NULL && !inv_val_is_obj(pAdd)) return inv_err_type_of(s, "additional", "object", pAdd);
  /* {"error_code": ..., "message": trimmed, "additional": only when non-empty} */
  inv_buf_reset(b);
  inv_buf_adds(b, "{\"error_code\":");
  inv_json_write_str(b, zCode, strlen(zCode));
  inv_buf_adds(b, ",\"message\":");
  if (pMsg && pMsg->t == INV_STR) {
    const char *z = pMsg->u.s.z;
    size_t n = pMsg->u.s.n;
    while (n && isspace((unsigned char)*z)) { z++; n--; }
    while (n && isspace((unsigned char)z[n - 1])) n--;
    inv_json_write_str(b, z, n);
  } else {
    inv_buf_adds(b, "\"\"");
  }
  if (pAdd && pAdd->t == INV_OBJ && pAdd->u.obj.n) {
    inv_buf_adds(b, ",\"additional\":");
    inv_json_write(b, pAdd);
  }
  inv_buf_addc(b, '}');
  if (b->bOom) return inv_err_nomem(s);
  {
    char *zJson = inv_arena_strdup(&s->arena, b->z, b->n);
    if (!zJson) return inv_err_nomem(s);
    if (inv_begin_write(s) || loadTask(s, req, &t) || appendError(s, &t, zJson)
        || inv_journal_task(s, t.zId, t.zDomain, t.zJob)) return INV_ERROR;
  }
  if (inv_commit(s)) return INV_ERROR;
  return inv_render_by_id(s, r, t.zId, t.zDomain, k, f);
}

/* ===================== job_task.finish ===================== */

/* The finish statements' parameters (INV_SQL_TASK_FINISH_ALL and _PLAIN):
** the six counts, the time, whether it failed, the task's id and domain. */
static void bindFinish(inv_store *s, inv_stmt *p, const char *zId, const char *zDomain,
                       const int64_t *aCount, int64_t now, int bFail) {
  int i;
  for (i = 0; i < 6; i++) inv_bind_int(s, p, i + 1, aCount[i]);
  inv_bind_int(s, p, 7, now);
  inv_bind_int(s, p, 8, bFail);
  inv_bind_text(s, p, 9, zId);
  inv_bind_text(s, p, 10, zDomain);
}

/* A finish that changed no row: the task is missing (ERROR_NOT_FOUND) or
** already finished. */
static int finishRefused(inv_store *s, const inv_val *req, const char *zStatus) {
  Task t;
  if (loadTask(s, req, &t)) return INV_ERROR;
  return inv_err(s, "ERROR_JOB_TASK_STATE_CHANGE",
                 "Job task %s state change: %s -> %s", t.zId, t.zStatus, zStatus);
}

/* finish by one statement (INV_SQL_TASK_FINISH_ALL, the journal on): the
** task, the job's counters and the journal; the job is finalised after its
** last task as below; the answer is the statement's row. */
static int finishAll(inv_store *s, const inv_resource *r, const inv_val *req, const char *zId,
                     const char *zDomain, const char *zStatus, const int64_t *aCount, int64_t now,
                     int bFail, inv_sink *k, int f) {
  inv_stmt *p = inv_sql(s, INV_SQL_TASK_FINISH_ALL);
  int rc, bLast = 0;
  Task t;
  if (!p) return INV_ERROR;
  bindFinish(s, p, zId, zDomain, aCount, now, bFail);
  rc = inv_step(s, p);
  if (rc < 0) return INV_ERROR;
  if (rc != INV_ROW) {
    inv_reset(s, p);
    return finishRefused(s, req, zStatus);
  }
  if (inv_journal_wrote(s)) { inv_reset(s, p); return INV_ERROR; }
  if (inv_col_type(s, p, 1 + r->nField) != INV_T_NULL) {
    size_t n;
    bLast = inv_col_int(s, p, 1 + r->nField) == 0
         && strcmp(inv_col_text(s, p, 2 + r->nField, &n), "IN_PROGRESS") == 0;
  }
  if (bLast) {
    size_t n;
    int iJob = inv_field_index(r, "job_id", 6);
    snprintf(t.zJob, sizeof t.zJob, "%s", inv_col_text(s, p, 1 + iJob, &n));
    if (inv_job_finalize(s, t.zJob, zDomain, now)) { inv_reset(s, p); return INV_ERROR; }
  }
  if (inv_commit(s)) { inv_reset(s, p); return INV_ERROR; }
  rc = inv_render_row(s, r, p, 1, k, f, NULL);
  inv_reset(s, p);
  return rc;
}

/* finish by INV_SQL_TASK_FINISH_PLAIN: the UPDATE, then the task read by id
** (what the answer renders); the job's counters and the journal run while
** that row is pending. An error after the rendering (the COMMIT) discards
** the answer, as any error does. */
static int finishPlain(inv_store *s, const inv_resource *r, const inv_val *req, const char *zId,
                       const char *zDomain, const char *zStatus, const int64_t *aCount,
                       int64_t now, int bFail, inv_sink *k, int f) {
  inv_stmt *p = inv_sql(s, INV_SQL_TASK_FINISH_PLAIN);
  int rc, bTaskFailed;
  int iLeft = 1 + inv_field_index(r, "remained_sub_tasks", 18);
  int iStatus = 1 + inv_field_index(r, "status", 6), iJob = 1 + inv_field_index(r, "job_id", 6);
  int64_t nLeft;
  size_t n;
  Task t;
  if (!p) return INV_ERROR;
  bindFinish(s, p, zId, zDomain, aCount, now, bFail);
  if (inv_run(s, p)) return INV_ERROR;
  if (inv_changes(s) == 0) {
    return finishRefused(s, req, zStatus);
  }
  p = inv_prepare_static(s, s->azById[r->iRes]);
  if (!p) return INV_ERROR;
  inv_bind_text(s, p, 1, zId);
  inv_bind_text(s, p, 2, zDomain);
  rc = inv_step(s, p);
  if (rc < 0) return INV_ERROR;
  if (rc != INV_ROW) {                                    /* (it was just changed) */
    inv_reset(s, p);
    return inv_err(s, "ERROR_UNKNOWN", "Job task %s vanished while it finished.", zId);
  }
  nLeft = inv_col_int(s, p, iLeft);
  bTaskFailed = strcmp(inv_col_text(s, p, iStatus, &n), "FAILURE") == 0;
  snprintf(t.zJob, sizeof t.zJob, "%s", inv_col_text(s, p, iJob, &n));
  if (nLeft == 0 && t.zJob[0]) {
    rc = jobTaskDone(s, t.zJob, zDomain, bTaskFailed, now)
      || inv_journal_task_job(s, zId, zDomain, t.zJob);
  } else {
    rc = inv_journal_task(s, zId, zDomain, t.zJob);
  }
  if (rc == INV_OK) rc = inv_render_row(s, r, p, 1, k, f, NULL);
  inv_reset(s, p);
  if (rc != INV_OK || inv_commit(s)) return INV_ERROR;
  return INV_OK;
}

int inv_m_finish(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  static const char *const azCount[] = {
    "created_count", "updated_count", "deleted_count", "disconnected_count",
    "failure_count", "total_count", NULL
  };
  static const char *const azKeys[] = {
    "job_task_id", "domain_id", "status", "created_count", "updated_count",
    "deleted_count", "disconnected_count", "failure_count", "total_count", NULL
  };
  Task t;
  const char *zStatus, *zId, *zDomain;
  int64_t aCount[6], now = inv_now(s);
  int i, bFail;
  inv_stmt *p;
  if (r != &inv_res_task) return inv_err_invalid(s, "method", "finish is a method of job_task.");
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  if (inv_req_string(s, req, "status", 1, &zStatus)) return INV_ERROR;
  if (strcmp(zStatus, "SUCCESS") && strcmp(zStatus, "FAILURE")) {
    static const char *const azFinal[] = { "SUCCESS", "FAILURE", NULL };
    return inv_err_enum(s, "status", inv_val_get(req, "status"), azFinal);
  }
  bFail = zStatus[0] == 'F';
  for (i = 0; azCount[i]; i++) {
    const inv_val *v = inv_val_get(req, azCount[i]);
    aCount[i] = 0;
    if (v && v->t != INV_NULL) {
      if (v->t == INV_BOOL || !inv_val_integer(v, &aCount[i])) return inv_err_type_of(s, azCount[i], "integer", v);
      if (aCount[i] < 0) aCount[i] = 0;     /* the reference ignores non-positive counts */
    }
  }
  if (inv_req_string(s, req, "job_task_id", 1, &zId)) return INV_ERROR;
  if (inv_req_string(s, req, "domain_id", 1, &zDomain)) return INV_ERROR;
  if (inv_begin_write(s)) return INV_ERROR;
  if (s->pDia->azSql[INV_SQL_TASK_FINISH_ALL] && s->nJournalSec > 0) {
    return finishAll(s, r, req, zId, zDomain, zStatus, aCount, now, bFail, k, f);
  }
  if (s->pDia->azSql[INV_SQL_TASK_FINISH_PLAIN]) {
    return finishPlain(s, r, req, zId, zDomain, zStatus, aCount, now, bFail, k, f);
  }
  /* one UPDATE finds the task, checks its state and finishes a sub-task;
  ** no row: the task is not there (or not in this domain), or it is done */
  p = inv_sql(s, INV_SQL_TASK_FINISH);
  if (!p) return INV_ERROR;
  bindFinish(s, p, zId, zDomain, aCount, now, bFail);
  {
    int rc = inv_step(s, p);
    int64_t nLeft;
    int bTaskFailed;
    size_t n;
    const char *zJob;
    if (rc < 0) return INV_ERROR;
    if (rc != INV_ROW) {
      inv_reset(s, p);
      return finishRefused(s, req, zStatus);
    }
    nLeft = inv_col_int(s, p, 0);
    bTaskFailed = strcmp(inv_col_text(s, p, 1, &n), "FAILURE") == 0;
    zJob = inv_col_text(s, p, 2, &n);
    snprintf(t.zJob, sizeof t.zJob, "%s", zJob);
    while (rc == INV_ROW) rc = inv_step(s, p);
    inv_reset(s, p);
    if (rc < 0) return INV_ERROR;
    if (nLeft == 0 && t.zJob[0]) {
      if (jobTaskDone(s, t.zJob, zDomain, bTaskFailed, now)
          || inv_journal_task_job(s, zId, zDomain, t.zJob)) return INV_ERROR;
    } else if (inv_journal_task(s, zId, zDomain, t.zJob)) {
      return INV_ERROR;
    }
  }
  if (inv_commit(s)) return INV_ERROR;
  return inv_render_by_id(s, r, zId, zDomain, k, f);
}

/* ===================== job.cancel ===================== */

int inv_m_cancel(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  static const char *const azKeys[] = { "job_id", "domain_id", NULL };
  const char *zId, *zDomain;
  int64_t now = inv_now(s);
  inv_stmt *p;
  size_t nSt;
  int rc;
  if (r != &inv_res_job) return inv_err_invalid(s, "method", "cancel is a method of job.");
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  if (inv_req_string(s, req, "job_id", 1, &zId) || inv_req_string(s, req, "domain_id", 1, &zDomain)) {
    return INV_ERROR;
  }
  if (inv_begin_write(s)) return INV_ERROR;
  p = inv_sql(s, INV_SQL_JOB_STATUS);
  if (!p) return INV_ERROR;
  inv_bind_text(s, p, 1, zId);
  inv_bind_text(s, p, 2, zDomain);
  rc = inv_step(s, p);
  if (rc < 0) return INV_ERROR;
  if (rc != INV_ROW) {
    inv_reset(s, p);
    return inv_err(s, "ERROR_NOT_FOUND", "Resource cannot be found or access is denied. "
                   "(job_id = %s, domain_id = %s)",
                   inv_msg_text(s, zId, strlen(zId), INV_MSG_VALUE),
                   inv_msg_text(s, zDomain, strlen(zDomain), INV_MSG_VALUE));
  }
  if (strcmp(inv_col_text(s, p, 0, &nSt), "IN_PROGRESS") != 0) {
    char zSt[32];
    snprintf(zSt, sizeof zSt, "%s", inv_col_text(s, p, 0, &nSt));
    inv_reset(s, p);
    return inv_err(s, "ERROR_JOB_STATE_CHANGE", "Job %s state change: %s -> CANCELED", zId, zSt);
  }
  inv_reset(s, p);
  p = inv_sql(s, INV_SQL_JOB_CANCEL);
  if (!p) return INV_ERROR;
  inv_bind_int(s, p, 1, now);
  inv_bind_text(s, p, 2, zId);
  inv_bind_text(s, p, 3, zDomain);
  if (inv_run(s, p) || inv_journal_job(s, zId, zDomain) || inv_commit(s)) return INV_ERROR;
  return inv_render_by_id(s, r, zId, zDomain, k, f);
}

/* ===================== sweep / purge ===================== */

static int numberArg(inv_store *s, const inv_val *req, const char *zKey, double dDefault,
                     double *pOut) {
  const inv_val *v = inv_val_get(req, zKey);
  *pOut = dDefault;
  if (!v || v->t == INV_NULL) return INV_OK;
  if (!inv_val_number(v, pOut) || v->t == INV_BOOL) return inv_err_type_of(s, zKey, "number", v);
  if (*pOut < 0 || *pOut > 1e6) return inv_err_range(s, zKey, "must be from 0 to 1000000", v);
  return INV_OK;
}

static void emitCounts(inv_sink *k, int64_t nJobs, int64_t nTasks) {
  k->xBeginObj(k, 2);
  k->xKey(k, "jobs", 4); k->xInt(k, nJobs);
  k->xKey(k, "tasks", 5); k->xInt(k, nTasks);
  k->xEndObj(k);
}

int inv_m_sweep(inv_store *s, const inv_val *req, inv_sink *k) {
  static const char *const azKeys[] = { "timeout_hours", "domain_id", NULL };
  double h;
  const char *zDomain;
  int64_t now = inv_now(s), nJobs = 0, nTasks = 0;
  inv_stmt *p;
  int rc;
  if (inv_check_keys(s, req, azKeys, "")
      || numberArg(s, req, "timeout_hours", 2, &h)
      || inv_req_string(s, req, "domain_id", 0, &zDomain)) return INV_ERROR;
  if (inv_begin_write(s)) return INV_ERROR;
  if (inv_journal_sweep(s, now - (int64_t)(h * 3600000.0), zDomain)) return INV_ERROR;
  /* the unfinished tasks of timed-out jobs fail with an error */
  p = inv_sql(s, INV_SQL_SWEEP_TASKS);
  if (!p) return INV_ERROR;
  inv_bind_int(s, p, 1, now);
  inv_bind_int(s, p, 2, now - (int64_t)(h * 3600000.0));
  inv_bind_text(s, p, 3, zDomain);
  inv_bind_text(s, p, 4, "{\"error_code\":\"ERROR_JOB_TIMEOUT\","
                         "\"message\":\"The job has timed out.\"}");
  if (inv_run(s, p)) return INV_ERROR;
  nTasks = inv_changes(s);
  /* each job: its failed tasks move into failure_tasks; status FAILURE */
  p = inv_sql(s, INV_SQL_SWEEP_JOBS);
  if (!p) return INV_ERROR;
  inv_bind_int(s, p, 1, now);
  inv_bind_int(s, p, 2, now - (int64_t)(h * 3600000.0));
  inv_bind_text(s, p, 3, zDomain);
  rc = inv_run(s, p);
  if (rc) return INV_ERROR;
  nJobs = inv_changes(s);
  if (inv_commit(s)) return INV_ERROR;
  emitCounts(k, nJobs, nTasks);
  return INV_OK;
}

int inv_m_purge(inv_store *s, const inv_val *req, inv_sink *k) {
  static const char *const azKeys[] = { "older_than_days", "domain_id", NULL };
  /* tasks of purged jobs (cascade by job), then old tasks, then the jobs */
  static const int aiSql[] = {
    INV_SQL_PURGE_JOB_TASKS, INV_SQL_PURGE_TASKS, INV_SQL_PURGE_JOBS, INV_SQL_PURGE_SPOT_JOBS
  };
  double d;
  const char *zDomain;
  int64_t now = inv_now(s), n[4];
  int i;
  if (inv_check_keys(s, req, azKeys, "")
      || numberArg(s, req, "older_than_days", 60, &d)
      || inv_req_string(s, req, "domain_id", 0, &zDomain)) return INV_ERROR;
  if (inv_begin_write(s)) return INV_ERROR;
  for (i = 0; i < 4; i++) {
    inv_stmt *p = inv_sql(s, aiSql[i]);
    if (!p) return INV_ERROR;
    inv_bind_int(s, p, 1, now - (int64_t)(d * 86400000.0));
    inv_bind_text(s, p, 2, zDomain);
    if (inv_run(s, p)) return INV_ERROR;
    n[i] = inv_changes(s);
  }
  if ((n[2] + n[3] && inv_journal_reset(s, "job"))
      || (n[0] + n[1] && inv_journal_reset(s, "job_task"))) return INV_ERROR;
  if (inv_commit(s)) return INV_ERROR;
  emitCounts(k, n[2] + n[3], n[0] + n[1]);
  return INV_OK;
}

/* ===================== import ===================== */

/* "records.<field>": where an import error points (built on an error only). */
static const char *recordKey(const inv_field *f, char *z, size_t n) {
  snprintf(z, n, "records.%s", f->zName);
  return z;
}

/* The last datetime text a time field of an import held, and its instant:
** the records of a batch often share one (the tasks of a job are created
** together), and the text is compared whole before its instant is reused. */
typedef struct TimeMemo TimeMemo;
struct TimeMemo {
  const char *z;                          /* NULL: none yet */
  size_t n;
  int64_t ms;
};

/* Validate one field value of a record and bind it at parameter i. */
static int importField(inv_store *s, const inv_field *f, const inv_val *v, inv_stmt *p, int i,
                       int64_t *pTime, TimeMemo *pTm) {
  char zK[96];
  if (!v || v->t == INV_NULL) {
    if (f->flags & FF_NOTNULL) return INV_OK;          /* caller binds the default */
    inv_bind_null(s, p, i);
    return INV_OK;
  }
  switch (f->eType) {
    case F_STR:
      if (v->t != INV_STR) return inv_err_type_of(s, recordKey(f, zK, sizeof zK), "string", v);
      if (memchr(v->u.s.z, 0, v->u.s.n)) {
        return inv_err_invalid(s, recordKey(f, zK, sizeof zK), "holds a NUL byte.");
      }
      if ((f->flags & FF_SHORT) && v->u.s.n > INV_MAX_ID) {
        char zR[200];
        snprintf(zR, sizeof zR, "%s is longer than %d bytes.", inv_msg_value(s, v, 60), INV_MAX_ID);
        return inv_err_invalid(s, recordKey(f, zK, sizeof zK), zR);
      }
      if (f->azEnum && !inv_enum_has(f->azEnum, v->u.s.z)) {
        return inv_err_enum(s, recordKey(f, zK, sizeof zK), v, f->azEnum);
      }
      inv_bind_textn(s, p, i, v->u.s.z, v->u.s.n);
      return INV_OK;
    case F_INT: {
      int64_t n;
      if (v->t == INV_BOOL || !inv_val_integer(v, &n)) {
        return inv_err_type_of(s, recordKey(f, zK, sizeof zK), "integer", v);
      }
      inv_bind_int(s, p, i, n);
      return INV_OK;
    }
    case F_TIME: {
      int64_t ms;
      if (v->t == INV_STR && pTm->z && pTm->n == v->u.s.n && memcmp(pTm->z, v->u.s.z, v->u.s.n) == 0) {
        ms = pTm->ms;
      } else if (v->t != INV_STR || inv_time_parse_lenient(v->u.s.z, v->u.s.n, &ms)) {
        char zR[200];
        snprintf(zR, sizeof zR, "%s is not an ISO 8601 datetime such as 2024-01-31T12:00:00Z.",
                 inv_msg_value(s, v, INV_MSG_VALUE));
        return inv_err_invalid(s, recordKey(f, zK, sizeof zK), zR);
      } else {
        pTm->z = v->u.s.z; pTm->n = v->u.s.n; pTm->ms = ms;
      }
      inv_bind_int(s, p, i, ms);
      if (pTime) *pTime = ms;
      return INV_OK;
    }
    case F_OBJ:
      if (!inv_val_is_obj(v)) return inv_err_type_of(s, recordKey(f, zK, sizeof zK), "object", v);
      break;
    case F_ERRS: {
      static const char *const azErr[] = { "error_code", "message", "additional", NULL };
      size_t j;
      if (!inv_val_is_arr(v)) return inv_err_type_of(s, recordKey(f, zK, sizeof zK), "list", v);
      if (v->bEmpty || v->u.arr.n == 0) {             /* the common case: no error */
        inv_bind_textn(s, p, i, "[]", 2);
        return INV_OK;
      }
      for (j = 0; j < v->u.arr.n; j++) {
        const inv_val *e = &v->u.arr.a[j], *x;
        if (inv_check_keys(s, e, azErr, recordKey(f, zK, sizeof zK))) return INV_ERROR;
        if ((x = inv_val_get(e, "error_code")) && x->t != INV_NULL && x->t != INV_STR) {
          return inv_err_type_of(s, "records.errors.error_code", "string", x);
        }
        if ((x = inv_val_get(e, "message")) && x->t != INV_NULL && x->t != INV_STR) {
          return inv_err_type_of(s, "records.errors.message", "string", x);
        }
        if ((x = inv_val_get(e, "additional")) && x->t != INV_NULL && !inv_val_is_obj(x)) {
          return inv_err_type_of(s, "records.errors.additional", "object", x);
        }
      }
      break;
    }
  }
  /* JSON columns: our canonical compact text */
  {
    inv_buf *b = &s->tmp;
    char *z;
    inv_buf_reset(b);
    if (v->bEmpty) inv_buf_adds(b, f->eType == F_ERRS ? "[]" : "{}");
    else inv_json_write(b, v);
    if (b->bOom) return inv_err_nomem(s);
    z = inv_arena_strdup(&s->arena, b->z, b->n);
    if (!z) return inv_err_nomem(s);
    inv_bind_textn(s, p, i, z, b->n);
  }
  return INV_OK;
}

/* import{records}: one prepared INSERT per record, in one transaction. A
** record is read in one pass over its keys (each mapped to its field), then
** validated and bound field by field in field order; the messages are the
** same as a lookup per field gave. */
int inv_m_import(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  static const char *const azKeys[] = { "records", NULL };
  const inv_val *pRecs;
  const char *azField[32];
  const inv_val *aSlot[32];
  const char *azPrevKey[32];
  size_t anPrevKey[32];
  int aPrevField[32];
  TimeMemo aTm[32];
  inv_buf *b = &s->sql;
  inv_stmt *p;
  size_t i;
  int j;
  int iStatus = inv_field_index(r, "status", 6), iDomain = inv_field_index(r, "domain_id", 9);
  int iCreated = inv_field_index(r, "created_at", 10);
  int iTotalSub = inv_field_index(r, "total_sub_tasks", 15);
  int iRemainedSub = inv_field_index(r, "remained_sub_tasks", 18);
  int iUpdated = inv_field_index(r, "updated_at", 10);
  int64_t now = inv_now(s);
  (void)f;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  pRecs = inv_val_get(req, "records");
  if (!pRecs || !inv_val_is_arr(pRecs)) return inv_err_type_of(s, "records", "list", pRecs);
  for (j = 0; j < r->nField; j++) azField[j] = r->aField[j].zName;
  azField[j] = NULL;
  memset((void*)azPrevKey, 0, sizeof azPrevKey);
  memset(aTm, 0, sizeof aTm);
  inv_buf_reset(b);
  inv_buf_printf(b, "INSERT INTO %s (", r->zTable);
  for (j = 0; j < r->nField; j++) inv_buf_printf(b, "%s%s", j ? ", " : "", r->aField[j].zName);
  inv_buf_adds(b, ") VALUES (");
  for (j = 0; j < r->nField; j++) {
    if (j) inv_buf_adds(b, ", ");
    s->pDia->xParam(b, j + 1, r->aField[j].eType == F_INT || r->aField[j].eType == F_TIME ? INV_INT : INV_STR);
  }
  inv_buf_addc(b, ')');
  if (b->bOom) return inv_err_nomem(s);
  if (inv_begin_write(s)) return INV_ERROR;
  p = inv_prepare(s, b->z);
  if (!p) return INV_ERROR;
  for (i = 0; i < pRecs->u.arr.n; i++) {
    const inv_val *rec = &pRecs->u.arr.a[i], *pStatus, *v;
    int64_t created = now, tCreated = 0;
    int bFinished;
    size_t kk;
    if (rec->t != INV_OBJ) {
      if (inv_check_keys(s, rec, azField, "records")) return INV_ERROR;   /* not an object */
      memset(aSlot, 0, sizeof(aSlot[0]) * (size_t)r->nField);         /* {}: no field */
    } else {
      memset(aSlot, 0, sizeof(aSlot[0]) * (size_t)r->nField);
      for (kk = 0; kk < rec->u.obj.n; kk++) {
        const inv_kv *kv = &rec->u.obj.a[kk];
        int iF;
        /* the records of a batch mostly have the same keys, in the same
        ** order, often the same text (Lua's interned strings): a key at the
        ** address and length of the last record's is that field again
        ** (every record is alive for the whole call) */
        if (kk < 32 && azPrevKey[kk] == kv->zKey && anPrevKey[kk] == kv->nKey) {
          iF = aPrevField[kk];
        } else {
          iF = inv_field_index(r, kv->zKey, kv->nKey);
          if (kk < 32) { azPrevKey[kk] = kv->zKey; anPrevKey[kk] = kv->nKey; aPrevField[kk] = iF; }
        }
        if (iF < 0) {
          /* the message names the first unknown key, as the check of every key did */
          if (inv_check_keys(s, rec, azField, "records")) return INV_ERROR;
          continue;                                   /* (a name with a NUL byte: never a field) */
        }
        if (!aSlot[iF]) aSlot[iF] = &kv->v;          /* a repeated key: the first one */
      }
    }
    v = aSlot[r->iId];
    if (!v || v->t != INV_STR || v->u.s.n == 0) {
      char zK[64];
      snprintf(zK, sizeof zK, "records.%s", r->aField[r->iId].zName);
      return inv_err_required(s, zK);
    }
    /* required here; its type is checked with the other fields below */
    v = iDomain >= 0 ? aSlot[iDomain] : NULL;
    if (!v || v->t == INV_NULL || (v->t == INV_STR && v->u.s.n == 0)) {
      return inv_err_required(s, "records.domain_id");
    }
    /* every parameter is bound below: a field, or its default */
    for (j = 0; j < r->nField; j++) {
      if (importField(s, &r->aField[j], aSlot[j], p, j + 1, j == iCreated ? &tCreated : NULL, &aTm[j])) {
        return INV_ERROR;
      }
    }
    if (tCreated) created = tCreated;
    /* defaults of NOT NULL fields that were not given */
    pStatus = aSlot[iStatus];
    if (!pStatus || pStatus->t == INV_NULL) {
      inv_bind_text(s, p, iStatus + 1, r->zDefaultStatus);
    }
    bFinished = pStatus && pStatus->t == INV_STR
             && strcmp(pStatus->u.s.z, "PENDING") != 0 && strcmp(pStatus->u.s.z, "IN_PROGRESS") != 0
             && strcmp(pStatus->u.s.z, "CREATED") != 0;
    for (j = 0; j < r->nField; j++) {
      const inv_field *fd = &r->aField[j];
      v = aSlot[j];
      if (v && v->t != INV_NULL) continue;
      if (fd->eType == F_INT && (fd->flags & FF_NOTNULL)) {
        int64_t n = 0;
        if (r->bTasks && j == iTotalSub) n = 1;
        if (r->bTasks && j == iRemainedSub) n = bFinished ? 0 : 1;
        inv_bind_int(s, p, j + 1, n);
      } else if (fd->eType == F_TIME && (fd->flags & FF_NOTNULL)) {
        inv_bind_int(s, p, j + 1, created);
      } else if (fd->eType == F_TIME && j == iUpdated) {
        inv_bind_int(s, p, j + 1, created);
      } else if (fd->eType == F_ERRS && (fd->flags & FF_NOTNULL)) {
        inv_bind_textn(s, p, j + 1, "[]", 2);
      }
    }
    if (inv_step(s, p) < 0) {
      /* an id already stored (or twice in this batch) */
      if (strcmp(inv_store_errcode(s), "ERROR_SAVE_UNIQUE_VALUES") == 0) {
        const inv_val *pId = aSlot[r->iId];
        inv_err(s, "ERROR_SAVE_UNIQUE_VALUES", "Tried to save duplicate unique values. "
                "(key = %s, value = %s)", r->aField[r->iId].zName,
                inv_msg_text(s, pId->u.s.z, pId->u.s.n, INV_MSG_VALUE));
      }
      return INV_ERROR;
    }
    inv_reset(s, p);
  }
  if (pRecs->u.arr.n && inv_journal_reset(s, r->zName)) return INV_ERROR;
  if (inv_commit(s)) return INV_ERROR;
  k->xInt(k, (int64_t)pRecs->u.arr.n);
  return INV_OK;
}
