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
** The journal keeps journal_seconds (inv_options; default 3600): a write
** that crosses a multiple of 1,024 sequence numbers trims older rows, so the
** table stays bounded without a timer. inv_m_changes reads it; the oldest
** sequence still kept tells a reader that missed trimmed rows to reload.
*/
#include <string.h>
#include <stdio.h>
#include "inv_int.h"

#define TRIM_EVERY 1024

/* Trim when the rows just inserted crossed a multiple of TRIM_EVERY. The
** newest row is never trimmed: seq is the rowid, max(rowid) + 1, so keeping
** the last row keeps sequence numbers from being reused. */
static const char zTrimSql[] =
  "DELETE FROM change WHERE at <= ?1 AND seq < (SELECT max(seq) FROM change)";

static int maybeTrim(inv_store *s) {
  int n = sqlite3_changes(s->db);
  int64_t seqAfter = sqlite3_last_insert_rowid(s->db);   /* the last row inserted */
  sqlite3_stmt *p;
  if (n == 0 || seqAfter / TRIM_EVERY == (seqAfter - n) / TRIM_EVERY) return INV_OK;
  p = inv_stmt_static(s, zTrimSql);
  if (!p) return INV_ERROR;
  sqlite3_bind_int64(p, 1, inv_now(s) - (int64_t)s->nJournalSec * 1000);
  if (inv_step(s, p) < 0) return INV_ERROR;
  sqlite3_reset(p);
  return INV_OK;
}

/* Bind ?1 the time, ?2 the op, then azArg (text; NULL binds null) from ?3
** and iArg after them (if bInt); run; trim. */
static int journalEx(inv_store *s, const char *zSql, const char *zOp, int nArg,
                     const char *const *azArg, int bInt, int64_t iArg) {
  sqlite3_stmt *p;
  int i;
  if (s->nJournalSec <= 0) return INV_OK;        /* journal off */
  p = inv_stmt_static(s, zSql);
  if (!p) return INV_ERROR;
  sqlite3_bind_int64(p, 1, inv_now(s));
  sqlite3_bind_text(p, 2, zOp, -1, SQLITE_STATIC);
  for (i = 0; i < nArg; i++) {
    if (azArg[i]) sqlite3_bind_text(p, i + 3, azArg[i], -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(p, i + 3);
  }
  if (bInt) sqlite3_bind_int64(p, nArg + 3, iArg);
  if (inv_step(s, p) < 0) return INV_ERROR;
  sqlite3_reset(p);
  return maybeTrim(s);
}
static int journal(inv_store *s, const char *zSql, const char *zOp, int nArg,
                   const char *const *azArg) {
  return journalEx(s, zSql, zOp, nArg, azArg, 0, 0);
}

/* An upsert row holds the record's id, domain and job only: readers find
** its scope (workspace, project, collector; they never change) in the record
** itself. A delete row keeps the whole scope, since the record is gone. */
int inv_journal_task(inv_store *s, const char *zTask, const char *zDomain, const char *zJob) {
  static const char zSql[] =
    "INSERT INTO change (at, op, resource, id, domain_id, job_id) "
    "VALUES (?1, ?2, 'job_task', ?3, ?4, ?5)";
  const char *az[3];
  az[0] = zTask; az[1] = zDomain; az[2] = zJob;
  return journal(s, zSql, "upsert", 3, az);
}

int inv_journal_job(inv_store *s, const char *zJob, const char *zDomain) {
  static const char zSql[] =
    "INSERT INTO change (at, op, resource, id, domain_id, job_id) "
    "VALUES (?1, ?2, 'job', ?3, ?4, ?3)";
  const char *az[2];
  az[0] = zJob; az[1] = zDomain;
  return journal(s, zSql, "upsert", 2, az);
}

/* A task and then its job, in one statement (a finish, a failed start). */
int inv_journal_task_job(inv_store *s, const char *zTask, const char *zDomain, const char *zJob) {
  static const char zSql[] =
    "INSERT INTO change (at, op, resource, id, domain_id, job_id) "
    "VALUES (?1, ?2, 'job_task', ?3, ?4, ?5), (?1, ?2, 'job', ?5, ?4, ?5)";
  const char *az[3];
  az[0] = zTask; az[1] = zDomain; az[2] = zJob;
  return journal(s, zSql, "upsert", 3, az);
}

int inv_journal_job_tasks(inv_store *s, const char *zJob, const char *zDomain) {
  static const char zSql[] =
    "INSERT INTO change (at, op, resource, id, domain_id, job_id) "
    "SELECT ?1, ?2, 'job_task', job_task_id, domain_id, job_id FROM job_task "
    "WHERE job_id = ?3 AND domain_id = ?4 ORDER BY id";
  const char *az[2];
  az[0] = zJob; az[1] = zDomain;
  return journal(s, zSql, "upsert", 2, az);
}

/* Deletes, written before the rows go: a task; a job and its tasks. */
int inv_journal_task_deleted(inv_store *s, const char *zTask, const char *zDomain) {
  static const char zSql[] =
    "INSERT INTO change (at, op, resource, id, domain_id, workspace_id, project_id, job_id, "
    "collector_id) SELECT ?1, ?2, 'job_task', job_task_id, domain_id, workspace_id, project_id, "
    "job_id, collector_id FROM job_task WHERE job_task_id = ?3 AND domain_id = ?4";
  const char *az[2];
  az[0] = zTask; az[1] = zDomain;
  return journal(s, zSql, "delete", 2, az);
}

int inv_journal_job_deleted(inv_store *s, const char *zJob, const char *zDomain) {
  static const char zTasks[] =
    "INSERT INTO change (at, op, resource, id, domain_id, workspace_id, project_id, job_id, "
    "collector_id) SELECT ?1, ?2, 'job_task', job_task_id, domain_id, workspace_id, project_id, "
    "job_id, collector_id FROM job_task WHERE job_id = ?3 AND domain_id = ?4 ORDER BY id";
  static const char zTheJob[] =
    "INSERT INTO change (at, op, resource, id, domain_id, workspace_id, job_id, collector_id) "
    "SELECT ?1, ?2, 'job', job_id, domain_id, workspace_id, job_id, collector_id FROM job "
    "WHERE job_id = ?3 AND domain_id = ?4";
  const char *az[2];
  az[0] = zJob; az[1] = zDomain;
  if (journal(s, zTasks, "delete", 2, az)) return INV_ERROR;
  return journal(s, zTheJob, "delete", 2, az);
}

/* The IN_PROGRESS jobs a sweep will fail (before it does), and their
** unfinished tasks: ?3 the domain or NULL, ?4 the cut-off time. */
int inv_journal_sweep(inv_store *s, int64_t cutoff, const char *zDomain) {
  static const char zTasks[] =
    "INSERT INTO change (at, op, resource, id, domain_id, job_id) "
    "SELECT ?1, ?2, 'job_task', t.job_task_id, t.domain_id, t.job_id FROM job AS j "
    "JOIN job_task AS t ON t.job_id = j.job_id AND t.domain_id = j.domain_id "
    "WHERE j.status = 'IN_PROGRESS' AND j.created_at < ?4 "
    "AND (?3 IS NULL OR j.domain_id = ?3) AND t.remained_sub_tasks > 0 ORDER BY t.id";
  static const char zJobs[] =
    "INSERT INTO change (at, op, resource, id, domain_id, job_id) "
    "SELECT ?1, ?2, 'job', job_id, domain_id, job_id FROM job "
    "WHERE status = 'IN_PROGRESS' AND created_at < ?4 AND (?3 IS NULL OR domain_id = ?3) ORDER BY id";
  const char *az[1];
  az[0] = zDomain;
  if (journalEx(s, zTasks, "upsert", 1, az, 1, cutoff)) return INV_ERROR;
  return journalEx(s, zJobs, "upsert", 1, az, 1, cutoff);
}

/* The IN_PROGRESS jobs of a collector that job.create will cancel. */
int inv_journal_duplicates(inv_store *s, const char *zDomain, const char *zCollector,
                           const char *zReqWs, const char *zReqSecret) {
  static const char zSql[] =
    "INSERT INTO change (at, op, resource, id, domain_id, job_id) "
    "SELECT ?1, ?2, 'job', job_id, domain_id, job_id FROM job WHERE domain_id = ?3 "
    "AND collector_id = ?4 AND status = 'IN_PROGRESS' "
    "AND request_workspace_id IS ?5 AND request_secret_id IS ?6 ORDER BY id";
  const char *az[4];
  az[0] = zDomain; az[1] = zCollector; az[2] = zReqWs; az[3] = zReqSecret;
  return journal(s, zSql, "upsert", 4, az);
}

/* A bulk change of a resource: readers reload. */
int inv_journal_reset(inv_store *s, const char *zResource) {
  static const char zSql[] =
    "INSERT INTO change (at, op, resource, id) VALUES (?1, ?2, ?3, '')";
  const char *az[1];
  az[0] = zResource;
  return journal(s, zSql, "reset", 1, az);
}

/* ===================== reading ===================== */

/* store.changes{after = seq, limit = n} -> {changes = [...], first, last} */
int inv_m_changes(inv_store *s, const inv_val *req, inv_sink *k) {
  static const char *const azKeys[] = { "after", "limit", NULL };
  /* an upsert's scope comes from its record (NULL when it is gone since) */
  static const char zRows[] =
    "SELECT c.seq, c.at, c.resource, c.op, c.id, c.domain_id, "
    "coalesce(c.workspace_id, t.workspace_id, j.workspace_id), coalesce(c.project_id, t.project_id), "
    "c.job_id, coalesce(c.collector_id, t.collector_id, j.collector_id) FROM change AS c "
    "LEFT JOIN job_task AS t ON c.op = 'upsert' AND c.resource = 'job_task' "
    "AND t.job_task_id = c.id AND t.domain_id = c.domain_id "
    "LEFT JOIN job AS j ON c.op = 'upsert' AND c.resource = 'job' "
    "AND j.job_id = c.id AND j.domain_id = c.domain_id "
    "WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2";
  static const char zBounds[] = "SELECT min(seq), coalesce(max(seq), 0) FROM change";
  static const char *const azName[] = {
    "seq", "at", "resource", "op", "id", "domain_id", "workspace_id", "project_id", "job_id",
    "collector_id"
  };
  const inv_val *v;
  int64_t after = 0, limit = 1000, first, last;
  sqlite3_stmt *p;
  int rc, i;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  if ((v = inv_val_get(req, "after")) && v->t != INV_NULL) {
    if (v->t == INV_BOOL || !inv_val_integer(v, &after)) return inv_err_type(s, "after", "int");
    if (after < 0) return inv_err_invalid(s, "after", "must not be negative.");
  }
  if ((v = inv_val_get(req, "limit")) && v->t != INV_NULL) {
    if (v->t == INV_BOOL || !inv_val_integer(v, &limit)) return inv_err_type(s, "limit", "int");
    if (limit < 1 || limit > 10000) return inv_err_invalid(s, "limit", "must be from 1 to 10000.");
  }
  /* one snapshot for the bounds and the rows */
  if (inv_exec(s, "BEGIN")) return INV_ERROR;
  p = inv_stmt_static(s, zBounds);
  if (!p) return INV_ERROR;
  rc = inv_step(s, p);
  if (rc < 0) return INV_ERROR;
  last = sqlite3_column_int64(p, 1);
  first = sqlite3_column_type(p, 0) == SQLITE_NULL ? last + 1 : sqlite3_column_int64(p, 0);
  sqlite3_reset(p);
  p = inv_stmt_static(s, zRows);
  if (!p) return INV_ERROR;
  sqlite3_bind_int64(p, 1, after);
  sqlite3_bind_int64(p, 2, limit);
  k->xBeginObj(k, 3);
  k->xKey(k, "changes", 7);
  k->xBeginArr(k, -1);
  while ((rc = inv_step(s, p)) == SQLITE_ROW) {
    k->xBeginObj(k, 10);
    for (i = 0; i < 10; i++) {
      if (sqlite3_column_type(p, i) == SQLITE_NULL) continue;
      k->xKey(k, azName[i], strlen(azName[i]));
      if (i == 0) k->xInt(k, sqlite3_column_int64(p, 0));
      else if (i == 1) {
        char zT[32];
        inv_time_format(sqlite3_column_int64(p, 1), zT);
        k->xStr(k, zT, strlen(zT));
      } else {
        k->xStr(k, (const char*)sqlite3_column_text(p, i), (size_t)sqlite3_column_bytes(p, i));
      }
    }
    k->xEndObj(k);
  }
  sqlite3_reset(p);
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
  static const char *const zTrim = zTrimSql;
  const inv_val *v;
  int64_t keep = s->nJournalSec > 0 ? s->nJournalSec : 3600;   /* 0: the journal is off */
  sqlite3_stmt *p;
  if (inv_check_keys(s, req, azKeys, "")) return INV_ERROR;
  if ((v = inv_val_get(req, "keep_seconds")) && v->t != INV_NULL) {
    if (v->t == INV_BOOL || !inv_val_integer(v, &keep)) return inv_err_type(s, "keep_seconds", "int");
    if (keep < 0) return inv_err_invalid(s, "keep_seconds", "must not be negative.");
  }
  if (inv_begin_write(s)) return INV_ERROR;
  p = inv_stmt_static(s, zTrim);
  if (!p) return INV_ERROR;
  sqlite3_bind_int64(p, 1, inv_now(s) - keep * 1000);
  if (inv_step(s, p) < 0) return INV_ERROR;
  sqlite3_reset(p);
  {
    int64_t n = sqlite3_changes(s->db);
    if (inv_commit(s)) return INV_ERROR;
    k->xInt(k, n);
  }
  return INV_OK;
}
