/*
** bench/gen.c: the benchmark's data, generated once, loaded twice.
**
**   build/bench/gen INV_DB HAND_DB SCHEMA_SQL NJOBS NTASKS [NBIG]
**
** Every record is generated once (a fixed-seed PRNG: the same rows on every
** run) and written to both files, in the same order:
**   INV_DB   through inventory's own API: inv_store_open creates its schema,
**            and the records go in as JSON documents through inv_call(...,
**            "import") in batches of IMPORT_BATCH (one transaction each);
**   HAND_DB  the hand-written schema (SCHEMA_SQL, bench/schema.sql): the
**            tables, plain prepared INSERTs in one transaction, then the
**            indexes (the part of the file after "-- @indexes").
** Nothing here knows inventory's tables or SQL.
**
** Built with -DGEN_PG (build/bench/gen_pg), the same rows go to one
** PostgreSQL database instead, both sides in one run:
**
**   build/bench/gen_pg URL SCHEMA_PG_SQL NJOBS NTASKS [NBIG]
**
**   the schema "inventory"  through inventory's API on its PostgreSQL
**            backend (inv_pg_driver): the same import calls as above;
**   the schema "hand"       bench/schema_pg.sql's tables, the rows with
**            COPY (tasks streamed while generated, jobs after them), then
**            its indexes and VACUUM (ANALYZE), statement by statement.
** Both schemas are dropped first; afterwards inventory's tables get the same
** VACUUM (ANALYZE) as the hand-written ones (what autovacuum does after a
** bulk load, done at once so that every run starts from the same state).
**
** The rows: NJOBS jobs with NTASKS/NJOBS tasks each over 10 domains, 100
** workspaces (10 per domain) and 50 collectors (5 per domain, one of them
** domain-level, workspace "*"), in creation order over the 60 days before
** 2025-01-01T00:00:00Z. With NBIG > 0, two more domains for analyze: a small
** one (100 jobs of 10 tasks) and a large one (NBIG jobs of 2 tasks); their
** ids are in HAND_DB's bench_meta table (key, value), with the counts.
**
** Proportions (deterministic):
**   - the newest job of each collector is IN_PROGRESS (about 40% of its
**     tasks PENDING or IN_PROGRESS), about 3% of the others are CANCELED;
**   - 70% of jobs have no failing task, 20% about 30% failing tasks, 10%
**     about 80%: about 1 task in 7 is a FAILURE with one `errors` element
**     {error_code (5 codes), message, additional {resource_type}};
**   - counters: created 0-5, updated 0-400, deleted 0-3, disconnected 0-2,
**     failure 1-3 on failed tasks.
** Ids are "job-"/"job-task-" and 12 hex digits from a bijection of the row
** number: they look random and never collide.
**
** Loading speed only (nothing here is measured): each connection of this
** process gets a 1 GB page cache (sqlite3_auto_extension), so that the
** random-id unique indexes of 10M rows are not read back from disk.
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <sqlite3.h>
#include "inventory.h"
#ifdef GEN_PG
# include <libpq-fe.h>
# include "inv_int.h"                   /* inv_pg_driver */
#endif

#define N_DOMAIN 10
#define N_WS_PER_DOMAIN 10
#define N_COLL_PER_DOMAIN 5
#define BASE_MS 1735689600000LL          /* 2025-01-01T00:00:00.000Z */
#define SPAN_MS (60LL * 86400000LL)      /* 60 days */
#define IMPORT_BATCH 5000                /* records per import call */
#define SMALL_JOBS 100
#define SMALL_PER_JOB 10
#define BIG_PER_JOB 2

/* an invertible mix of 48-bit values: ids look random, never collide */
static uint64_t mix48(uint64_t x, uint64_t salt) {
  const uint64_t M = (1ULL << 48) - 1;
  x = (x + salt) & M;
  x = (x * 0x9E3779B97F4BULL) & M;       /* odd multiplier: a bijection mod 2^48 */
  x ^= x >> 21;
  x = (x * 0xBF58476D1CE5ULL) & M;
  x ^= x >> 17;
  return x & M;
}

/* splitmix64 PRNG */
static uint64_t rngState = 20250101;
static uint64_t rnd64(void) {
  uint64_t z = (rngState += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
static int64_t rnd(int64_t n) { return (int64_t)(rnd64() % (uint64_t)n); }   /* 0..n-1 */

static void die(const char *zWhat, const char *zWhy) {
  fprintf(stderr, "gen: %s: %s\n", zWhat, zWhy ? zWhy : "?");
  exit(1);
}
#ifndef GEN_PG
static void exec(sqlite3 *db, const char *zSql) {
  char *zErr = NULL;
  if (sqlite3_exec(db, zSql, 0, 0, &zErr) != SQLITE_OK) die(zSql, zErr);
}
#endif
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#ifndef GEN_PG
static int bigCache(sqlite3 *db, char **pzErr, const void *pApi) {
  (void)pzErr; (void)pApi;
  sqlite3_exec(db, "PRAGMA cache_size=-1000000", 0, 0, 0);
  return SQLITE_OK;
}

#endif

static const char *const azProvider[] = { "aws", "google_cloud", "azure" };
static const char *const azPlugin[] = {
  "plugin-aws-ec2-inven-collector", "plugin-google-cloud-inven-collector",
  "plugin-azure-inven-collector"
};
static const char *const azErrCode[] = {
  "ERROR_AUTHENTICATION_FAILURE_PLUGIN", "ERROR_PLUGIN_TIMEOUT", "ERROR_COLLECTOR_COLLECTING",
  "ERROR_INVALID_CREDENTIALS", "ERROR_UNKNOWN"
};
static const char *const azErrMsg[] = {
  "Plugin authentication failed: the secret was rejected by the provider.",
  "The plugin did not answer within 600 seconds.",
  "Failed to collect resources: an API call returned 503 Service Unavailable.",
  "The credentials are invalid or expired.",
  "Unexpected error while collecting resources."
};
static const char *const azResType[] = {
  "inventory.CloudService", "inventory.CloudServiceType", "inventory.Region"
};

static void fmtId(char *z, const char *zPrefix, uint64_t v) {
  sprintf(z, "%s%012llx", zPrefix, (unsigned long long)v);
}

/* ---------------------------------------------------------------- records */

typedef struct Task Task;
struct Task {
  char zId[40], zStatus[16], zJob[32], zSecret[32], zSa[40], zProj[32], zWs[32], zDom[32], zColl[32];
  const char *zProvider;
  int bFinished;
  int64_t c[6];                 /* created updated failure deleted disconnected total */
  int iErr, iRes;               /* error code and resource type, -1 = no error */
  int64_t created, started, finished;     /* 0 = null */
};

typedef struct Job Job;
struct Job {
  char zId[32], zDom[32], zWs[32], zColl[32];
  const char *zStatus, *zPlugin, *zGroup;
  long nTotal, nRemained, nSuccess, nFailure;
  int64_t created, updated, finished;     /* finished 0 = null */
};

/* ---------------------------------------------------------------- inventory's side: import */

typedef struct Inv Inv;
struct Inv {
  inv_store *s;
  inv_buf jobs, tasks;          /* JSON records of the pending batches */
  long nJobs, nTasks;
  double tBusy;                 /* seconds inside inv_call */
};

static void nop(inv_sink *k) { (void)k; }
static void nopHint(inv_sink *k, int n) { (void)k; (void)n; }
static void nopStr(inv_sink *k, const char *z, size_t n) { (void)k; (void)z; (void)n; }
static void nopBool(inv_sink *k, int b) { (void)k; (void)b; }
static void nopInt(inv_sink *k, int64_t i) { (void)k; (void)i; }
static void nopReal(inv_sink *k, double r) { (void)k; (void)r; }

static void invFlush(Inv *v, const char *zRes, inv_buf *b, long *pN) {
  static inv_sink sink = { nopHint, nop, nopHint, nop, nopStr, nop, nopBool, nopInt, nopReal,
                           nopStr, NULL, NULL };
  inv_val req;
  char zErr[256];
  double t0;
  if (*pN == 0) return;
  inv_buf_adds(b, "]}");
  if (b->bOom) die("import", "out of memory");
  inv_store_begin(v->s);
  if (inv_json_parse(inv_store_arena(v->s), b->z, b->n, &req, zErr, sizeof zErr)) die("import JSON", zErr);
  t0 = now_s();
  if (inv_call(v->s, zRes, "import", &req, &sink, 0) != INV_OK) {
    fprintf(stderr, "gen: %s import: %s %s\n", zRes, inv_store_errcode(v->s), inv_store_errmsg(v->s));
    exit(1);
  }
  v->tBusy += now_s() - t0;
  inv_buf_reset(b);
  *pN = 0;
}

static void jsonTime(inv_buf *b, const char *zKey, int64_t ms) {
  char z[32];
  if (!ms) return;
  inv_time_format(ms, z);
  inv_buf_printf(b, ",\"%s\":\"%s\"", zKey, z);
}

static void invTask(Inv *v, const Task *t) {
  inv_buf *b = &v->tasks;
  inv_buf_adds(b, v->nTasks ? "," : "{\"records\":[");
  inv_buf_printf(b, "{\"job_task_id\":\"%s\",\"status\":\"%s\",\"provider\":\"%s\","
    "\"created_count\":%lld,\"updated_count\":%lld,\"failure_count\":%lld,\"deleted_count\":%lld,"
    "\"disconnected_count\":%lld,\"total_count\":%lld,", t->zId, t->zStatus, t->zProvider,
    (long long)t->c[0], (long long)t->c[1], (long long)t->c[2], (long long)t->c[3],
    (long long)t->c[4], (long long)t->c[5]);
  if (t->iErr >= 0) {
    inv_buf_printf(b, "\"errors\":[{\"error_code\":\"%s\",\"message\":\"%s\","
                      "\"additional\":{\"resource_type\":\"%s\"}}],",
                   azErrCode[t->iErr], azErrMsg[t->iErr], azResType[t->iRes]);
  } else {
    inv_buf_adds(b, "\"errors\":[],");
  }
  inv_buf_printf(b, "\"job_id\":\"%s\",\"secret_id\":\"%s\",\"collector_id\":\"%s\","
    "\"service_account_id\":\"%s\",\"project_id\":\"%s\",\"workspace_id\":\"%s\",\"domain_id\":\"%s\"",
    t->zJob, t->zSecret, t->zColl, t->zSa, t->zProj, t->zWs, t->zDom);
  jsonTime(b, "created_at", t->created);
  jsonTime(b, "started_at", t->started);
  jsonTime(b, "finished_at", t->finished);
  inv_buf_addc(b, '}');
  if (++v->nTasks >= IMPORT_BATCH) invFlush(v, "job_task", b, &v->nTasks);
}

static void invJob(Inv *v, const Job *j) {
  inv_buf *b = &v->jobs;
  inv_buf_adds(b, v->nJobs ? "," : "{\"records\":[");
  inv_buf_printf(b, "{\"job_id\":\"%s\",\"status\":\"%s\",\"total_tasks\":%ld,\"remained_tasks\":%ld,"
    "\"success_tasks\":%ld,\"failure_tasks\":%ld,\"resource_group\":\"%s\",\"domain_id\":\"%s\","
    "\"workspace_id\":\"%s\",\"collector_id\":\"%s\",\"plugin_id\":\"%s\"", j->zId, j->zStatus,
    j->nTotal, j->nRemained, j->nSuccess, j->nFailure, j->zGroup, j->zDom, j->zWs, j->zColl, j->zPlugin);
  jsonTime(b, "created_at", j->created);
  jsonTime(b, "updated_at", j->updated);
  jsonTime(b, "finished_at", j->finished);
  inv_buf_addc(b, '}');
  if (++v->nJobs >= IMPORT_BATCH) invFlush(v, "job", b, &v->nJobs);
}

#ifndef GEN_PG
/* ---------------------------------------------------------------- the hand-written side */

typedef struct Hand Hand;
struct Hand {
  sqlite3 *db;
  sqlite3_stmt *pJob, *pTask;
  double tBusy;
};

static void bindTime(sqlite3_stmt *p, int i, int64_t ms) {
  if (ms) sqlite3_bind_int64(p, i, ms); else sqlite3_bind_null(p, i);
}

static void handTask(Hand *h, const Task *t) {
  sqlite3_stmt *p = h->pTask;
  char zErrs[512];
  double t0 = now_s();
  if (t->iErr >= 0) {
    snprintf(zErrs, sizeof zErrs,
             "[{\"error_code\":\"%s\",\"message\":\"%s\",\"additional\":{\"resource_type\":\"%s\"}}]",
             azErrCode[t->iErr], azErrMsg[t->iErr], azResType[t->iRes]);
  } else {
    strcpy(zErrs, "[]");
  }
  sqlite3_bind_text(p, 1, t->zId, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 2, t->zStatus, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 3, t->zProvider, -1, SQLITE_STATIC);
  sqlite3_bind_int64(p, 4, t->c[0]);
  sqlite3_bind_int64(p, 5, t->c[1]);
  sqlite3_bind_int64(p, 6, t->c[2]);
  sqlite3_bind_int64(p, 7, t->c[3]);
  sqlite3_bind_int64(p, 8, t->c[4]);
  sqlite3_bind_text(p, 9, zErrs, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 10, t->zJob, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 11, t->zSecret, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 12, t->zSa, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 13, t->zProj, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 14, t->zWs, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 15, t->zDom, -1, SQLITE_STATIC);
  sqlite3_bind_int64(p, 16, t->created);
  bindTime(p, 17, t->started);
  bindTime(p, 18, t->finished);
  if (sqlite3_step(p) != SQLITE_DONE) die("insert task", sqlite3_errmsg(h->db));
  sqlite3_reset(p);
  h->tBusy += now_s() - t0;
}

static void handJob(Hand *h, const Job *j) {
  sqlite3_stmt *p = h->pJob;
  double t0 = now_s();
  sqlite3_bind_text(p, 1, j->zId, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 2, j->zStatus, -1, SQLITE_STATIC);
  sqlite3_bind_int64(p, 3, j->nTotal);
  sqlite3_bind_int64(p, 4, j->nRemained);
  sqlite3_bind_int64(p, 5, j->nSuccess);
  sqlite3_bind_int64(p, 6, j->nFailure);
  sqlite3_bind_text(p, 7, j->zGroup, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 8, j->zDom, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 9, j->zWs, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 10, j->zColl, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 11, j->zPlugin, -1, SQLITE_STATIC);
  sqlite3_bind_int64(p, 12, j->created);
  bindTime(p, 13, j->updated);
  bindTime(p, 14, j->finished);
  if (sqlite3_step(p) != SQLITE_DONE) die("insert job", sqlite3_errmsg(h->db));
  sqlite3_reset(p);
  h->tBusy += now_s() - t0;
}

#else
/* ---------------------------------------------------------------- the hand-written side on PostgreSQL */

typedef struct PgHand PgHand;
struct PgHand {
  PGconn *pg;
  inv_buf jobs;                 /* COPY lines of the jobs, sent after the tasks */
  inv_buf line;
  double tBusy;
};

static void pgDie(PGconn *pg, const char *zWhat) {
  char z[512];
  snprintf(z, sizeof z, "%s", PQerrorMessage(pg));
  die(zWhat, z);
}

static void pgExec(PGconn *pg, const char *zSql) {
  PGresult *r = PQexec(pg, zSql);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    char z[600];
    snprintf(z, sizeof z, "%s", PQresultErrorMessage(r));
    PQclear(r);
    die(zSql, z);
  }
  PQclear(r);
}

/* COPY's text format: a field, \N for NULL; backslash, tab and line breaks escaped */
static void copyText(inv_buf *b, const char *z) {
  if (!z) { inv_buf_adds(b, "\\N"); return; }
  for (; *z; z++) {
    switch (*z) {
      case '\\': inv_buf_adds(b, "\\\\"); break;
      case '\t': inv_buf_adds(b, "\\t"); break;
      case '\n': inv_buf_adds(b, "\\n"); break;
      case '\r': inv_buf_adds(b, "\\r"); break;
      default: inv_buf_addc(b, *z);
    }
  }
}
static void copyTime(inv_buf *b, int64_t ms) {
  char z[32];
  if (!ms) { inv_buf_adds(b, "\\N"); return; }
  inv_time_format(ms, z);                /* 2024-11-02T10:00:00.123Z: timestamptz reads it */
  inv_buf_adds(b, z);
}

static void pgSend(PgHand *h, inv_buf *b) {
  if (b->bOom) die("COPY", "out of memory");
  if (b->n && PQputCopyData(h->pg, b->z, (int)b->n) != 1) pgDie(h->pg, "COPY data");
  inv_buf_reset(b);
}

static void pgTask(PgHand *h, const Task *t) {
  inv_buf *b = &h->line;
  double t0 = now_s();
  char zErrs[512];
  if (t->iErr >= 0) {
    snprintf(zErrs, sizeof zErrs,
             "[{\"error_code\":\"%s\",\"message\":\"%s\",\"additional\":{\"resource_type\":\"%s\"}}]",
             azErrCode[t->iErr], azErrMsg[t->iErr], azResType[t->iRes]);
  } else {
    strcpy(zErrs, "[]");
  }
  copyText(b, t->zId); inv_buf_addc(b, '\t');
  copyText(b, t->zStatus); inv_buf_addc(b, '\t');
  copyText(b, t->zProvider); inv_buf_addc(b, '\t');
  inv_buf_printf(b, "%lld\t%lld\t%lld\t%lld\t%lld\t", (long long)t->c[0], (long long)t->c[1],
                 (long long)t->c[2], (long long)t->c[3], (long long)t->c[4]);
  copyText(b, zErrs); inv_buf_addc(b, '\t');
  copyText(b, t->zJob); inv_buf_addc(b, '\t');
  copyText(b, t->zSecret); inv_buf_addc(b, '\t');
  copyText(b, t->zSa); inv_buf_addc(b, '\t');
  copyText(b, t->zProj); inv_buf_addc(b, '\t');
  copyText(b, t->zWs); inv_buf_addc(b, '\t');
  copyText(b, t->zDom); inv_buf_addc(b, '\t');
  copyTime(b, t->created); inv_buf_addc(b, '\t');
  copyTime(b, t->started); inv_buf_addc(b, '\t');
  copyTime(b, t->finished); inv_buf_addc(b, '\n');
  if (b->n >= 65536) pgSend(h, b);
  h->tBusy += now_s() - t0;
}

static void pgJob(PgHand *h, const Job *j) {
  inv_buf *b = &h->jobs;
  copyText(b, j->zId); inv_buf_addc(b, '\t');
  copyText(b, j->zStatus); inv_buf_addc(b, '\t');
  inv_buf_printf(b, "%ld\t%ld\t%ld\t%ld\t", j->nTotal, j->nRemained, j->nSuccess, j->nFailure);
  copyText(b, j->zGroup); inv_buf_addc(b, '\t');
  copyText(b, j->zDom); inv_buf_addc(b, '\t');
  copyText(b, j->zWs); inv_buf_addc(b, '\t');
  copyText(b, j->zColl); inv_buf_addc(b, '\t');
  copyText(b, j->zPlugin); inv_buf_addc(b, '\t');
  copyTime(b, j->created); inv_buf_addc(b, '\t');
  copyTime(b, j->updated); inv_buf_addc(b, '\t');
  copyTime(b, j->finished); inv_buf_addc(b, '\n');
}

static void pgCopyEnd(PGconn *pg) {
  PGresult *r;
  if (PQputCopyEnd(pg, NULL) != 1) pgDie(pg, "COPY end");
  while ((r = PQgetResult(pg)) != NULL) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      char z[600];
      snprintf(z, sizeof z, "%s", PQresultErrorMessage(r));
      die("COPY", z);
    }
    PQclear(r);
  }
}

static void pgCopyBegin(PGconn *pg, const char *zSql) {
  PGresult *r = PQexec(pg, zSql);
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    char z[600];
    snprintf(z, sizeof z, "%s", PQresultErrorMessage(r));
    die(zSql, z);
  }
  PQclear(r);
}

/* Run a script of statements one by one (VACUUM refuses a transaction
** block, which a multi-statement query is): split at ";" ending a line. */
static void pgScript(PGconn *pg, char *z) {
  char *zEnd;
  while (*z) {
    zEnd = strstr(z, ";\n");
    if (zEnd) *zEnd = 0;
    {
      /* skip statements that are only comments and blanks */
      const char *p = z;
      int bSql = 0;
      while (*p) {
        if (*p == '-' && p[1] == '-') { while (*p && *p != '\n') p++; continue; }
        if (*p != ' ' && *p != '\n' && *p != '\t') { bSql = 1; break; }
        p++;
      }
      if (bSql) pgExec(pg, z);
    }
    if (!zEnd) break;
    z = zEnd + 2;
  }
}
#endif

/* ---------------------------------------------------------------- generation */

typedef struct Gen Gen;
struct Gen {
  Inv inv;
#ifdef GEN_PG
  PgHand hand;
#else
  Hand hand;
#endif
  long iJob, iTask;             /* global row numbers (ids) */
  long nErrTasks;
};

/* nJob jobs of perJob tasks over nDom domains starting at domain firstDom,
** spread over the 60 days. */
static void genJobs(Gen *g, long nJob, long perJob, int firstDom, int nDom) {
  int nColl = nDom * N_COLL_PER_DOMAIN;
  long j, i;
  for (j = 0; j < nJob; j++) {
    int collLocal = (int)(j % nColl);
    int dom = firstDom + collLocal / N_COLL_PER_DOMAIN;
    int coll = dom * N_COLL_PER_DOMAIN + collLocal % N_COLL_PER_DOMAIN;   /* global collector */
    int bDomainLevel = coll % N_COLL_PER_DOMAIN == 0;
    int wsColl = dom * N_WS_PER_DOMAIN + coll % N_COLL_PER_DOMAIN;
    int64_t created = BASE_MS - SPAN_MS + (int64_t)((double)SPAN_MS * (double)j / (double)nJob);
    int bNewest = j >= nJob - nColl;              /* the newest run of its collector */
    int bCanceled = !bNewest && rnd(100) < 3;
    int64_t r = rnd(100);
    int failPct = r < 70 ? 0 : r < 90 ? 30 : 80;
    int64_t lastFinish = created;
    Job job;
    memset(&job, 0, sizeof job);
    fmtId(job.zId, "job-", mix48((uint64_t)++g->iJob, 0x1234));
    fmtId(job.zDom, "domain-", mix48((uint64_t)dom + 1, 0xd0));
    fmtId(job.zColl, "collector-", mix48((uint64_t)coll + 1, 0xc0));
    if (bDomainLevel) strcpy(job.zWs, "*");
    else fmtId(job.zWs, "workspace-", mix48((uint64_t)wsColl + 1, 0xa0));

    for (i = 0; i < perJob; i++) {
      int wsT = bDomainLevel ? dom * N_WS_PER_DOMAIN + (int)(i % N_WS_PER_DOMAIN) : wsColl;
      int bErr = 0;
      Task t;
      memset(&t, 0, sizeof t);
      t.iErr = -1;
      fmtId(t.zId, "job-task-", mix48((uint64_t)++g->iTask, 0x7777));
      fmtId(t.zWs, "workspace-", mix48((uint64_t)wsT + 1, 0xa0));
      fmtId(t.zProj, "project-", mix48((uint64_t)(wsT * 20 + i % 20) + 1, 0xb0));
      fmtId(t.zSecret, "secret-", mix48((uint64_t)(coll * 1000 + i) + 1, 0xe0));
      fmtId(t.zSa, "service-account-", mix48((uint64_t)(coll * 1000 + i) + 1, 0xf0));
      strcpy(t.zJob, job.zId);
      strcpy(t.zDom, job.zDom);
      strcpy(t.zColl, job.zColl);
      t.zProvider = azProvider[coll % 3];
      t.created = created;
      if (bNewest && rnd(100) < 40) {
        t.bFinished = 0;
        strcpy(t.zStatus, rnd(4) == 0 ? "IN_PROGRESS" : "PENDING");
        if (t.zStatus[0] == 'I') t.started = created + 1000 + rnd(60000);
        job.nRemained++;
      } else if (bCanceled && rnd(100) < 50) {
        t.bFinished = 1;
        strcpy(t.zStatus, "CANCELED");
        t.finished = created + 1000 + rnd(60000);
        job.nFailure++;
      } else {
        t.bFinished = 1;
        bErr = rnd(100) < failPct;
        strcpy(t.zStatus, bErr ? "FAILURE" : "SUCCESS");
        t.started = created + 1000 + rnd(60000);
        t.finished = t.started + 5000 + rnd(600000);
        t.c[0] = rnd(6); t.c[1] = rnd(401); t.c[3] = rnd(4); t.c[4] = rnd(3);
        t.c[2] = bErr ? 1 + rnd(3) : 0;
        t.c[5] = t.c[0] + t.c[1] + t.c[2] + t.c[3] + t.c[4];
        if (bErr) job.nFailure++; else job.nSuccess++;
      }
      if (t.finished > lastFinish) lastFinish = t.finished;
      if (bErr) {
        t.iErr = (int)rnd(5);
        t.iRes = (int)rnd(3);
        g->nErrTasks++;
      }
      invTask(&g->inv, &t);
#ifdef GEN_PG
      pgTask(&g->hand, &t);
#else
      handTask(&g->hand, &t);
#endif
    }
    job.nTotal = perJob;
    if (job.nRemained) job.zStatus = "IN_PROGRESS";
    else if (bCanceled) job.zStatus = "CANCELED";
    else job.zStatus = job.nFailure ? "FAILURE" : "SUCCESS";
    job.zPlugin = azPlugin[coll % 3];
    job.zGroup = bDomainLevel ? "DOMAIN" : "WORKSPACE";
    job.created = created;
    job.updated = job.nRemained ? created : lastFinish;
    job.finished = job.nRemained ? 0 : lastFinish;
    invJob(&g->inv, &job);
#ifdef GEN_PG
    pgJob(&g->hand, &job);
#else
    handJob(&g->hand, &job);
#endif
  }
}

static char *readFile(const char *zPath) {
  FILE *f = fopen(zPath, "rb");
  long n;
  char *z;
  if (!f) die(zPath, "cannot open");
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  z = malloc((size_t)n + 1);
  if (!z || fread(z, 1, (size_t)n, f) != (size_t)n) die(zPath, "cannot read");
  z[n] = 0;
  fclose(f);
  return z;
}

#ifndef GEN_PG
static void removeDb(const char *zDb) {
  char z[1024];
  remove(zDb);
  snprintf(z, sizeof z, "%s-wal", zDb); remove(z);
  snprintf(z, sizeof z, "%s-shm", zDb); remove(z);
}

static void meta(sqlite3 *db, const char *zKey, const char *zVal) {
  sqlite3_stmt *p;
  if (sqlite3_prepare_v2(db, "INSERT INTO bench_meta (key, value) VALUES (?, ?)", -1, &p, NULL)) {
    die("bench_meta", sqlite3_errmsg(db));
  }
  sqlite3_bind_text(p, 1, zKey, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 2, zVal, -1, SQLITE_STATIC);
  if (sqlite3_step(p) != SQLITE_DONE) die("bench_meta", sqlite3_errmsg(db));
  sqlite3_finalize(p);
}

int main(int argc, char **argv) {
  const char *zInv, *zHand;
  long nJob, nTask, nBig = 0;
  char zErr[256], *zSchema, *zIdx, z[64];
  inv_options o = INV_OPTIONS_INIT;
  Gen g;
  double t0, t1;

  if (argc < 6) { fprintf(stderr, "usage: gen INV_DB HAND_DB SCHEMA_SQL NJOBS NTASKS [NBIG]\n"); return 2; }
  zInv = argv[1];
  zHand = argv[2];
  zSchema = readFile(argv[3]);
  nJob = atol(argv[4]);
  nTask = atol(argv[5]);
  if (argc > 6) nBig = atol(argv[6]);
  if (nJob < 1 || nTask < nJob || nBig < 0) { fprintf(stderr, "gen: need NTASKS >= NJOBS >= 1\n"); return 2; }
  zIdx = strstr(zSchema, "\n-- @indexes\n");
  if (!zIdx) die(argv[3], "no \"-- @indexes\" line");
  *zIdx = 0;
  zIdx += strlen("\n-- @indexes\n");
  removeDb(zInv);
  removeDb(zHand);
  memset(&g, 0, sizeof g);
  sqlite3_auto_extension((void (*)(void))bigCache);

  /* inventory: its own schema, its own connection settings */
  o.zPath = zInv;
  o.nTimeoutMs = 0;             /* a loader: no per-call budget (5,000 records into 10M rows) */
  if (inv_store_open(&o, &g.inv.s, zErr, sizeof zErr) != INV_OK) die("inv_store_open", zErr);
  inv_buf_init(&g.inv.jobs);
  inv_buf_init(&g.inv.tasks);

  /* the hand-written schema */
  if (sqlite3_open(zHand, &g.hand.db) != SQLITE_OK) die(zHand, sqlite3_errmsg(g.hand.db));
  exec(g.hand.db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY");
  exec(g.hand.db, zSchema);
  exec(g.hand.db, "CREATE TABLE bench_meta (key TEXT PRIMARY KEY, value TEXT)");
  exec(g.hand.db, "BEGIN");
  if (sqlite3_prepare_v2(g.hand.db,
      "INSERT INTO job (job_id, status, total_tasks, remained_tasks, success_tasks, failure_tasks, "
      "resource_group, domain_id, workspace_id, collector_id, plugin_id, created_at, updated_at, "
      "finished_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)", -1, &g.hand.pJob, NULL)) {
    die("prepare job", sqlite3_errmsg(g.hand.db));
  }
  if (sqlite3_prepare_v2(g.hand.db,
      "INSERT INTO job_task (job_task_id, status, provider, created_count, updated_count, failure_count, "
      "deleted_count, disconnected_count, errors, job_id, secret_id, service_account_id, project_id, "
      "workspace_id, domain_id, created_at, started_at, finished_at) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)", -1, &g.hand.pTask, NULL)) {
    die("prepare task", sqlite3_errmsg(g.hand.db));
  }

  t0 = now_s();
  genJobs(&g, nJob, nTask / nJob, 0, N_DOMAIN);
  if (nBig > 0) {
    char zDom[32];
    fmtId(zDom, "domain-", mix48((uint64_t)N_DOMAIN + 1, 0xd0));
    meta(g.hand.db, "small_domain", zDom);
    snprintf(z, sizeof z, "%d", SMALL_JOBS); meta(g.hand.db, "small_jobs", z);
    genJobs(&g, SMALL_JOBS, SMALL_PER_JOB, N_DOMAIN, 1);
    fmtId(zDom, "domain-", mix48((uint64_t)N_DOMAIN + 2, 0xd0));
    meta(g.hand.db, "big_domain", zDom);
    snprintf(z, sizeof z, "%ld", nBig); meta(g.hand.db, "big_jobs", z);
    genJobs(&g, nBig, BIG_PER_JOB, N_DOMAIN + 1, 1);
  }
  invFlush(&g.inv, "job_task", &g.inv.tasks, &g.inv.nTasks);
  invFlush(&g.inv, "job", &g.inv.jobs, &g.inv.nJobs);
  snprintf(z, sizeof z, "%d", N_DOMAIN); meta(g.hand.db, "domains", z);
  snprintf(z, sizeof z, "%ld", nJob); meta(g.hand.db, "jobs", z);
  snprintf(z, sizeof z, "%ld", nJob * (nTask / nJob)); meta(g.hand.db, "tasks", z);
  sqlite3_finalize(g.hand.pJob);
  sqlite3_finalize(g.hand.pTask);
  exec(g.hand.db, "COMMIT");
  t1 = now_s();
  exec(g.hand.db, zIdx);
  exec(g.hand.db, "PRAGMA wal_checkpoint(TRUNCATE)");
  if (sqlite3_close(g.hand.db) != SQLITE_OK) die("close", zHand);
  inv_store_close(g.inv.s);
  inv_buf_free(&g.inv.jobs);
  inv_buf_free(&g.inv.tasks);
  free(zSchema);
  printf("gen: %ld jobs, %ld tasks (%ld with errors) in %.1f s: inventory import %.1f s (%s), "
         "hand-written INSERTs %.1f s + indexes %.1f s (%s)\n", g.iJob, g.iTask, g.nErrTasks,
         now_s() - t0, g.inv.tBusy, zInv, g.hand.tBusy, now_s() - t1, zHand);
  return 0;
}
#else
int main(int argc, char **argv) {
  const char *zUrl;
  long nJob, nTask, nBig = 0;
  char zErr[256], *zSchema, *zIdx, z[512];
  inv_options o = INV_OPTIONS_INIT;
  Gen g;
  double t0, t1, t2;
  int i;

  if (argc < 5) { fprintf(stderr, "usage: gen_pg URL SCHEMA_PG_SQL NJOBS NTASKS [NBIG]\n"); return 2; }
  zUrl = argv[1];
  zSchema = readFile(argv[2]);
  nJob = atol(argv[3]);
  nTask = atol(argv[4]);
  if (argc > 5) nBig = atol(argv[5]);
  if (nJob < 1 || nTask < nJob || nBig < 0) { fprintf(stderr, "gen_pg: need NTASKS >= NJOBS >= 1\n"); return 2; }
  zIdx = strstr(zSchema, "\n-- @indexes\n");
  if (!zIdx) die(argv[2], "no \"-- @indexes\" line");
  *zIdx = 0;
  zIdx += strlen("\n-- @indexes\n");
  memset(&g, 0, sizeof g);

  /* the hand-written side's connection; both schemas from scratch */
  g.hand.pg = PQconnectdb(zUrl);
  if (PQstatus(g.hand.pg) != CONNECTION_OK) pgDie(g.hand.pg, zUrl);
  PQsetNoticeProcessor(g.hand.pg, NULL, NULL);
  pgExec(g.hand.pg, "SET client_min_messages = warning");
  pgExec(g.hand.pg, "DROP SCHEMA IF EXISTS inventory CASCADE");
  pgExec(g.hand.pg, "DROP SCHEMA IF EXISTS hand CASCADE");
  pgExec(g.hand.pg, "CREATE SCHEMA hand");
  pgExec(g.hand.pg, "SET search_path = hand");
  pgExec(g.hand.pg, zSchema);
  inv_buf_init(&g.hand.jobs);
  inv_buf_init(&g.hand.line);

  /* inventory: its own schema (created on open), its own connection */
  o.zUrl = zUrl;
  o.zSchema = "inventory";
  o.pDriver = &inv_pg_driver;
  o.nTimeoutMs = 0;             /* a loader: no per-call budget */
  if (inv_store_open(&o, &g.inv.s, zErr, sizeof zErr) != INV_OK) die("inv_store_open", zErr);
  inv_buf_init(&g.inv.jobs);
  inv_buf_init(&g.inv.tasks);

  pgCopyBegin(g.hand.pg, "COPY job_task (job_task_id, status, provider, created_count, updated_count, "
    "failure_count, deleted_count, disconnected_count, errors, job_id, secret_id, service_account_id, "
    "project_id, workspace_id, domain_id, created_at, started_at, finished_at) FROM STDIN");
  t0 = now_s();
  genJobs(&g, nJob, nTask / nJob, 0, N_DOMAIN);
  if (nBig > 0) {
    genJobs(&g, SMALL_JOBS, SMALL_PER_JOB, N_DOMAIN, 1);
    genJobs(&g, nBig, BIG_PER_JOB, N_DOMAIN + 1, 1);
  }
  invFlush(&g.inv, "job_task", &g.inv.tasks, &g.inv.nTasks);
  invFlush(&g.inv, "job", &g.inv.jobs, &g.inv.nJobs);
  t1 = now_s();
  pgSend(&g.hand, &g.hand.line);
  pgCopyEnd(g.hand.pg);
  pgCopyBegin(g.hand.pg, "COPY job (job_id, status, total_tasks, remained_tasks, success_tasks, "
    "failure_tasks, resource_group, domain_id, workspace_id, collector_id, plugin_id, created_at, "
    "updated_at, finished_at) FROM STDIN");
  pgSend(&g.hand, &g.hand.jobs);
  pgCopyEnd(g.hand.pg);
  g.hand.tBusy += now_s() - t1;
  inv_store_close(g.inv.s);
  t1 = now_s();
  pgScript(g.hand.pg, zIdx);
  t2 = now_s();
  /* inventory's tables: the same maintenance */
  snprintf(z, sizeof z, "VACUUM (ANALYZE) inventory.job");
  pgExec(g.hand.pg, z);
  snprintf(z, sizeof z, "VACUUM (ANALYZE) inventory.job_task");
  pgExec(g.hand.pg, z);
  /* every page of the four tables all-visible, as a settled table is: a
  ** VACUUM while another snapshot is open (autovacuum's ANALYZE, started
  ** during the load) leaves the rows newer than it unmarked, and then an
  ** index-only scan fetches the heap (the mid data set once had 2,185 of
  ** inventory's 5,288 task pages all-visible against all of hand's, and
  ** the planner took a bitmap heap scan for its count by status) */
  for (i = 0; i < 20; i++) {
    PGresult *r = PQexec(g.hand.pg, "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n "
                         "ON n.oid = c.relnamespace WHERE n.nspname IN ('inventory', 'hand') AND c.relname IN "
                         "('job', 'job_task') AND c.relallvisible < c.relpages");
    int k, nLeft = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : 0;
    for (k = 0; k < nLeft; k++) {
      snprintf(z, sizeof z, "VACUUM %s", PQgetvalue(r, k, 0));
      pgExec(g.hand.pg, z);
    }
    PQclear(r);
    if (!nLeft) break;
    pgExec(g.hand.pg, "SELECT pg_sleep(0.25)");
  }
  PQfinish(g.hand.pg);
  inv_buf_free(&g.inv.jobs);
  inv_buf_free(&g.inv.tasks);
  inv_buf_free(&g.hand.jobs);
  inv_buf_free(&g.hand.line);
  free(zSchema);
  printf("gen_pg: %ld jobs, %ld tasks (%ld with errors) in %.1f s: inventory import %.1f s (schema "
         "inventory) + VACUUM (ANALYZE) %.1f s, hand-written COPY %.1f s + indexes and VACUUM (ANALYZE) "
         "%.1f s (schema hand)\n", g.iJob, g.iTask, g.nErrTasks, now_s() - t0, g.inv.tBusy,
         now_s() - t2, g.hand.tBusy, t2 - t1);
  return 0;
}
#endif
