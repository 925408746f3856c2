/*
** inv_journal.c: the change journal. Every write appends one row per record
** it changes (op "upsert" or "delete") to the table `change`, in the same
** transaction as the write, so every process that writes to the store (an
** nginx worker, a collector, the command line) is seen by every reader: the
** event stream, `watch`, the console. Bulk operations (import, purge) write
** one row with op "reset" ("reload what you show"). seq increases in commit
** order (writers are serialised) and is never reused (the newest row is
** never trimmed).
**
** The journal keeps journal_seconds (inv_options; default 3600): every
** 1,024th journal write of a connection trims older rows, so the table stays
** bounded without a timer. inv_m_changes reads it; the oldest
** sequence still kept tells a reader that missed trimmed rows to reload.
*/
#include <string.h>
#include <stdio.h>
#include "inv_int.h"

#define TRIM_EVERY 1024

/* Every TRIM_EVERY journal writes of this connection, the rows older than
** journal_seconds go (never the newest: where the engine numbers a row
** max(seq) + 1, keeping the last row keeps sequence numbers from being
** reused). The trim is housekeeping, never the call's failure: where it runs
** after the write's COMMIT (PostgreSQL's journal statements that go with
** their COMMIT) the write is stored, and inside a transaction a failed
** statement that matters fails the COMMIT (PostgreSQL aborts the whole
** transaction; SQLite undoes the statement only). The next trim comes
** TRIM_EVERY writes later. */
static int maybeTrim(inv_store *s) {
  inv_stmt *p;
  if (++s->nJournalWrites % TRIM_EVERY) return INV_OK;
  p = inv_sql(s, INV_SQL_JOURNAL_TRIM);
  if (p) {
    inv_bind_int(s, p, 1, inv_now(s) - (int64_t)s->nJournalSec * 1000);
    if (inv_run(s, p) == INV_OK) return INV_OK;
  }
  inv_buf_reset(&s->err);
  s->zErrCode = NULL;
  return INV_OK;
}

/* A statement of the backend's wrote journal rows itself (the journal on). */
int inv_journal_wrote(inv_store *s) { return maybeTrim(s); }

/* Run journal statement iSql: #1 the time, #2 the op, then azArg (text;
** NULL binds null) from #3, then iArg after them (if bInt); trim. */
static int journalEx(inv_store *s, int iSql, const char *zOp, int nArg,
                     const char *const *azArg, int bInt, int64_t iArg) {
  inv_stmt *p;
  int i;
  if (s->nJournalSec <= 0) return INV_OK;        /* journal off */
  p = inv_sql(s, iSql);
  if (!p) return INV_ERROR;
  inv_bind_int(s, p, 1, inv_now(s));
  inv_bind_text(s, p, 2, zOp);
  for (i = 0; i < nArg; i++) inv_bind_text(s, p, i + 3, azArg[i]);
  if (bInt) inv_bind_int(s, p, nArg + 3, iArg);
  if (inv_run(s, p)) return INV_ERROR;
  return maybeTrim(s);
}
static int journal(inv_store *s, int iSql, const char *zOp, int nArg, const char *const *azArg) {
  return journalEx(s, iSql, zOp, nArg, azArg, 0, 0);
}

/* An upsert row holds the record's id, domain and job only: readers find
** its scope (workspace, project, collector; they never change) in the record
** itself. A delete row keeps the whole scope, since the record is gone. */
int inv_journal_task(inv_store *s, const char *zTask, const char *zDomain, const char *zJob) {
  const char *az[3];
  az[0] = zTask; az[1] = zDomain; az[2] = zJob;
  return journal(s, INV_SQL_JOURNAL_TASK, "upsert", 3, az);
}

int inv_journal_job(inv_store *s, const char *zJob, const char *zDomain) {
  const char *az[2];
  az[0] = zJob; az[1] = zDomain;
  return journal(s, INV_SQL_JOURNAL_JOB, "upsert", 2, az);
}

/* A task and then its job, in one statement (a finish, a failed start). */
int inv_journal_task_job(inv_store *s, const char *zTask, const char *zDomain, const char *zJob) {
  const char *az[3];
  az[0] = zTask; az[1] = zDomain; az[2] = zJob;
  return journal(s, INV_SQL_JOURNAL_TASK_JOB, "upsert", 3, az);
}

int inv_journal_job_tasks(inv_store *s, const char *zJob, const char *zDomain) {
  const char *az[2];
  az[0] = zJob; az[1] = zDomain;
  return journal(s, INV_SQL_JOURNAL_JOB_TASKS, "upsert", 2, az);
}

/* A new job and its tasks: one statement where the dialect has it. */
int inv_journal_job_and_tasks(inv_store *s, const char *zJob, const char *zDomain) {
  const char *az[2];
  az[0] = zJob; az[1] = zDomain;
  if (!s->pDia->azSql[INV_SQL_JOURNAL_JOB_AND_TASKS]) {
    return inv_journal_job(s, zJob, zDomain) || inv_journal_job_tasks(s, zJob, zDomain) ? INV_ERROR : INV_OK;
  }
  return journal(s, INV_SQL_JOURNAL_JOB_AND_TASKS, "upsert", 2, az);
}

/* Deletes, written before the rows go: a task; a job and its tasks. */
int inv_journal_task_deleted(inv_store *s, const char *zTask, const char *zDomain) {
  const char *az[2];
  az[0] = zTask; az[1] = zDomain;
  return journal(s, INV_SQL_JOURNAL_TASK_DELETED, "delete", 2, az);
}

int inv_journal_job_deleted(inv_store *s, const char *zJob, const char *zDomain) {
  const char *az[2];
  az[0] = zJob; az[1] = zDomain;
  if (journal(s, INV_SQL_JOURNAL_JOB_DELETED_TASKS, "delete", 2, az)) return INV_ERROR;
  return journal(s, INV_SQL_JOURNAL_JOB_DELETED, "delete", 2, az);
}

/* The IN_PROGRESS jobs a sweep will fail (before it does), and their
** unfinished tasks. */
int inv_journal_sweep(inv_store *s, int64_t cutoff, const char *zDomain) {
  const char *az[1];
  az[0] = zDomain;
  if (journalEx(s, INV_SQL_JOURNAL_SWEEP_TASKS, "upsert", 1, az, 1, cutoff)) return INV_ERROR;
  return journalEx(s, INV_SQL_JOURNAL_SWEEP_JOBS, "upsert", 1, az, 1, cutoff);
}

/* The IN_PROGRESS jobs of a collector that job.create will cancel. */
int inv_journal_duplicates(inv_store *s, const char *zDomain, const char *zCollector,
                           const char *zReqWs, const char *zReqSecret) {
  const char *az[4];
  az[0] = zDomain; az[1] = zCollector; az[2] = zReqWs; az[3] = zReqSecret;
  return journal(s, INV_SQL_JOURNAL_DUPLICATES, "upsert", 4, az);
}

/* A bulk change of a resource: readers reload. */
int inv_journal_reset(inv_store *s, const char *zResource) {
  const char *az[1];
  az[0] = zResource;
  return journal(s, INV_SQL_JOURNAL_RESET, "reset", 1, az);
}

/* ===================== reading ===================== */

/* store.changes{after = seq, limit = n} -> {changes = [...], first, last} */
int inv_m_changes(inv_store *s, const inv_val *req, inv_sink *k) {
  static const char *const azKeys[] = { "after", "limit", NULL };
  static const char *const azName[] = {
    "seq", "at", "resource", "op", "id", "domain_id", "workspace_id", "project_id", "job_id",
    "collector_id"
  };
  const inv_val *v;
  int64_t after = 0, limit = 1000, first, last;
  inv_stmt *p;
  int rc, i;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  if ((v = inv_val_get(req, "after")) && v->t != INV_NULL) {
    if (v->t == INV_BOOL || !inv_val_integer(v, &after)) return inv_err_type_of(s, "after", "integer", v);
    if (after < 0) return inv_err_range(s, "after", "must be 0 or more", v);
  }
  if ((v = inv_val_get(req, "limit")) && v->t != INV_NULL) {
    if (v->t == INV_BOOL || !inv_val_integer(v, &limit)) return inv_err_type_of(s, "limit", "integer", v);
    if (limit < 1 || limit > 10000) return inv_err_range(s, "limit", "must be from 1 to 10000", v);
  }
  /* one snapshot for the bounds and the rows */
  if (inv_begin_read(s)) return INV_ERROR;
  p = inv_sql(s, INV_SQL_JOURNAL_BOUNDS);
  if (!p) return INV_ERROR;
  rc = inv_step(s, p);
  if (rc < 0) return INV_ERROR;
  last = inv_col_int(s, p, 1);
  first = inv_col_type(s, p, 0) == INV_T_NULL ? last + 1 : inv_col_int(s, p, 0);
  inv_reset(s, p);
  p = inv_sql(s, INV_SQL_JOURNAL_READ);
  if (!p) return INV_ERROR;
  inv_bind_int(s, p, 1, after);
  inv_bind_int(s, p, 2, limit);
  k->xBeginObj(k, 3);
  k->xKey(k, "changes", 7);
  k->xBeginArr(k, -1);
  while ((rc = inv_step(s, p)) == INV_ROW) {
    k->xBeginObj(k, 10);
    for (i = 0; i < 10; i++) {
      if (inv_col_type(s, p, i) == INV_T_NULL) continue;
      k->xKey(k, azName[i], strlen(azName[i]));
      if (i == 0) k->xInt(k, inv_col_int(s, p, 0));
      else if (i == 1) {
        char zT[32];
        inv_time_format(inv_col_int(s, p, 1), zT);
        k->xStr(k, zT, strlen(zT));
      } else {
        size_t n;
        const char *z = inv_col_text(s, p, i, &n);
        k->xStr(k, z, n);
      }
    }
    k->xEndObj(k);
  }
  inv_reset(s, p);
  if (rc < 0) return INV_ERROR;
  k->xEndArr(k);
  k->xKey(k, "first", 5); k->xInt(k, first);
  k->xKey(k, "last", 4); k->xInt(k, last);
  k->xEndObj(k);
  inv_rollback(s);
  return INV_OK;
}

/* store.trim_changes{keep_seconds = n} -> number of rows removed (never the
** newest: see maybeTrim) */
int inv_m_trim_changes(inv_store *s, const inv_val *req, inv_sink *k) {
  static const char *const azKeys[] = { "keep_seconds", NULL };
  const inv_val *v;
  int64_t keep = s->nJournalSec > 0 ? s->nJournalSec : 3600;   /* 0: the journal is off */
  inv_stmt *p;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  if ((v = inv_val_get(req, "keep_seconds")) && v->t != INV_NULL) {
    if (v->t == INV_BOOL || !inv_val_integer(v, &keep)) return inv_err_type_of(s, "keep_seconds", "integer", v);
    if (keep < 0) return inv_err_range(s, "keep_seconds", "must be 0 or more", v);
  }
  if (inv_begin_write(s)) return INV_ERROR;
  p = inv_sql(s, INV_SQL_JOURNAL_TRIM);
  if (!p) return INV_ERROR;
  inv_bind_int(s, p, 1, inv_now(s) - keep * 1000);
  if (inv_run(s, p)) return INV_ERROR;
  {
    int64_t n = inv_changes(s);
    if (inv_commit(s)) return INV_ERROR;
    k->xInt(k, n);
  }
  return INV_OK;
}
