/*
** bench/gen.c: the benchmark's deterministic data generator.
**
**   build/bench/gen DB NJOBS NTASKS        (make bench builds and runs it)
**
** Opens DB once through the core (inv_store_open creates the schema), then
** fills it through the plain SQLite C API in one transaction: NJOBS jobs and
** NTASKS job tasks (NTASKS/NJOBS per job) over 10 domains, 100 workspaces
** (10 per domain) and 50 collectors (5 per domain, one of them domain-level),
** in creation order over the 60 days before 2025-01-01T00:00:00Z. The
** secondary indexes are dropped during the load and rebuilt after it.
**
** Proportions (deterministic, from a fixed-seed PRNG):
**   - the newest job of each collector is IN_PROGRESS (about 40% of its
**     tasks unfinished), about 3% of the others are CANCELED;
**   - 70% of jobs have no failing task, 20% have about 30% failing tasks,
**     10% about 80%: about 1 task in 7 is a FAILURE with one `errors`
**     element {error_code (5 codes), message, additional {resource_type}};
**   - counters: created 0-5, updated 0-400, deleted 0-3, disconnected 0-2.
** Ids are "job-"/"job-task-" and 12 hex digits from a bijection of the row
** number, so they look random and never collide.
**
** The harness (bench/run.lua) reads the ids and keys it needs back from the
** file, so nothing else depends on these formulas.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sqlite3.h>
#include "inventory.h"

#define N_DOMAIN 10
#define N_WS_PER_DOMAIN 10
#define N_COLL_PER_DOMAIN 5
#define N_COLL (N_DOMAIN * N_COLL_PER_DOMAIN)
#define BASE_MS 1735689600000LL          /* 2025-01-01T00:00:00.000Z */
#define SPAN_MS (60LL * 86400000LL)      /* 60 days */

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

static void die(sqlite3 *db, const char *zWhat) {
  fprintf(stderr, "gen: %s: %s\n", zWhat, db ? sqlite3_errmsg(db) : "?");
  exit(1);
}
static void exec(sqlite3 *db, const char *zSql) {
  char *zErr = NULL;
  if (sqlite3_exec(db, zSql, 0, 0, &zErr) != SQLITE_OK) {
    fprintf(stderr, "gen: %s: %s\n", zSql, zErr ? zErr : "?");
    exit(1);
  }
}

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

int main(int argc, char **argv) {
  const char *zDb;
  long nJob, nTask, perJob, j, i;
  char zErr[256];
  inv_options o = INV_OPTIONS_INIT;
  inv_store *s;
  sqlite3 *db;
  sqlite3_stmt *pJob, *pTask, *p;
  char azIdx[32][512];
  int nIdx = 0, k;
  long nErrTasks = 0;

  if (argc < 4) { fprintf(stderr, "usage: gen DB NJOBS NTASKS\n"); return 2; }
  zDb = argv[1];
  nJob = atol(argv[2]);
  nTask = atol(argv[3]);
  if (nJob < 1 || nTask < nJob) { fprintf(stderr, "gen: need NTASKS >= NJOBS >= 1\n"); return 2; }
  perJob = nTask / nJob;
  remove(zDb);
  {
    char z[1024];
    snprintf(z, sizeof z, "%s-wal", zDb); remove(z);
    snprintf(z, sizeof z, "%s-shm", zDb); remove(z);
  }

  /* 1. the schema, as the store creates it */
  o.zPath = zDb;
  if (inv_store_open(&o, &s, zErr, sizeof zErr) != INV_OK) {
    fprintf(stderr, "gen: inv_store_open: %s\n", zErr);
    return 1;
  }
  inv_store_close(s);

  /* 2. bulk load */
  if (sqlite3_open(zDb, &db) != SQLITE_OK) die(db, "open");
  exec(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000; PRAGMA temp_store=MEMORY");
  if (sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
                             "AND tbl_name IN ('job','job_task')", -1, &p, NULL) != SQLITE_OK) die(db, "indexes");
  while (sqlite3_step(p) == SQLITE_ROW && nIdx < 32) {
    snprintf(azIdx[nIdx++], sizeof azIdx[0], "%s", (const char*)sqlite3_column_text(p, 0));
  }
  sqlite3_finalize(p);
  exec(db, "BEGIN");
  for (k = 0; k < nIdx; k++) {              /* "CREATE INDEX name ON ..." -> DROP INDEX name */
    char zDrop[256], zName[128];
    if (sscanf(azIdx[k], "CREATE INDEX %127s", zName) != 1) die(db, "index name");
    snprintf(zDrop, sizeof zDrop, "DROP INDEX %s", zName);
    exec(db, zDrop);
  }
  if (sqlite3_prepare_v2(db,
      "INSERT INTO job (job_id, status, total_tasks, remained_tasks, success_tasks, failure_tasks, "
      "resource_group, domain_id, workspace_id, collector_id, plugin_id, created_at, updated_at, "
      "finished_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)", -1, &pJob, NULL) != SQLITE_OK) {
    die(db, "prepare job");
  }
  if (sqlite3_prepare_v2(db,
      "INSERT INTO job_task (job_task_id, status, provider, total_sub_tasks, remained_sub_tasks, "
      "created_count, updated_count, failure_count, deleted_count, disconnected_count, total_count, "
      "errors, job_id, secret_id, collector_id, service_account_id, project_id, workspace_id, "
      "domain_id, created_at, started_at, finished_at) "
      "VALUES (?1,?2,?3,1,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)",
      -1, &pTask, NULL) != SQLITE_OK) {
    die(db, "prepare task");
  }

  for (j = 0; j < nJob; j++) {
    int coll = (int)(j % N_COLL);                 /* collector 0..49 */
    int dom = coll / N_COLL_PER_DOMAIN;           /* domain 0..9 */
    int bDomainLevel = coll % N_COLL_PER_DOMAIN == 0;
    int wsColl = dom * N_WS_PER_DOMAIN + coll % N_COLL_PER_DOMAIN;   /* its workspace */
    int64_t created = BASE_MS - SPAN_MS + (int64_t)((double)SPAN_MS * (double)j / (double)nJob);
    int bNewest = j >= nJob - N_COLL;             /* the newest run of its collector */
    int bCanceled = !bNewest && rnd(100) < 3;
    int64_t r = rnd(100);
    int failPct = r < 70 ? 0 : r < 90 ? 30 : 80;
    long nSuccess = 0, nFailure = 0, nRemained = 0;
    int64_t lastFinish = created;
    char zJob[32], zDom[32], zWs[32], zColl[32];
    const char *zStatus;
    fmtId(zJob, "job-", mix48((uint64_t)j + 1, 0x1234));
    fmtId(zDom, "domain-", mix48((uint64_t)dom + 1, 0xd0));
    fmtId(zColl, "collector-", mix48((uint64_t)coll + 1, 0xc0));
    if (bDomainLevel) strcpy(zWs, "*");
    else fmtId(zWs, "workspace-", mix48((uint64_t)wsColl + 1, 0xa0));

    for (i = 0; i < perJob; i++) {
      long t = j * perJob + i;
      int wsT = bDomainLevel ? dom * N_WS_PER_DOMAIN + (int)(i % N_WS_PER_DOMAIN) : wsColl;
      const char *zTStatus;
      int bErr = 0, bFinished;
      int64_t started = 0, finished = 0;
      int64_t c[6] = { 0, 0, 0, 0, 0, 0 };
      char zTask[40], zWsT[32], zProj[32], zSecret[32], zSa[40], zErrs[512];
      fmtId(zTask, "job-task-", mix48((uint64_t)t + 1, 0x7777));
      fmtId(zWsT, "workspace-", mix48((uint64_t)wsT + 1, 0xa0));
      fmtId(zProj, "project-", mix48((uint64_t)(wsT * 20 + i % 20) + 1, 0xb0));
      fmtId(zSecret, "secret-", mix48((uint64_t)(coll * 1000 + i) + 1, 0xe0));
      fmtId(zSa, "service-account-", mix48((uint64_t)(coll * 1000 + i) + 1, 0xf0));
      if (bNewest && rnd(100) < 40) {
        bFinished = 0;
        zTStatus = rnd(4) == 0 ? "IN_PROGRESS" : "PENDING";
        if (zTStatus[0] == 'I') started = created + 1000 + rnd(60000);
        nRemained++;
      } else if (bCanceled && rnd(100) < 50) {
        bFinished = 1;
        zTStatus = "CANCELED";
        finished = created + 1000 + rnd(60000);
        nFailure++;
      } else {
        bFinished = 1;
        bErr = rnd(100) < failPct;
        zTStatus = bErr ? "FAILURE" : "SUCCESS";
        started = created + 1000 + rnd(60000);
        finished = started + 5000 + rnd(600000);
        c[0] = rnd(6); c[1] = rnd(401); c[3] = rnd(4); c[4] = rnd(3);
        c[2] = bErr ? 1 + rnd(3) : 0;
        c[5] = c[0] + c[1] + c[2] + c[3] + c[4];
        if (bErr) nFailure++; else nSuccess++;
      }
      if (finished > lastFinish) lastFinish = finished;
      if (bErr) {
        int e = (int)rnd(5);
        snprintf(zErrs, sizeof zErrs,
                 "[{\"error_code\":\"%s\",\"message\":\"%s\",\"additional\":{\"resource_type\":\"%s\"}}]",
                 azErrCode[e], azErrMsg[e], azResType[rnd(3)]);
        nErrTasks++;
      } else {
        strcpy(zErrs, "[]");
      }
      sqlite3_bind_text(pTask, 1, zTask, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(pTask, 2, zTStatus, -1, SQLITE_STATIC);
      sqlite3_bind_text(pTask, 3, azProvider[coll % 3], -1, SQLITE_STATIC);
      sqlite3_bind_int(pTask, 4, bFinished ? 0 : 1);
      sqlite3_bind_int64(pTask, 5, c[0]);     /* created */
      sqlite3_bind_int64(pTask, 6, c[1]);     /* updated */
      sqlite3_bind_int64(pTask, 7, c[2]);     /* failure */
      sqlite3_bind_int64(pTask, 8, c[3]);     /* deleted */
      sqlite3_bind_int64(pTask, 9, c[4]);     /* disconnected */
      sqlite3_bind_int64(pTask, 10, c[5]);    /* total */
      sqlite3_bind_text(pTask, 11, zErrs, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(pTask, 12, zJob, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(pTask, 13, zSecret, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(pTask, 14, zColl, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(pTask, 15, zSa, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(pTask, 16, zProj, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(pTask, 17, zWsT, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(pTask, 18, zDom, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(pTask, 19, created);
      if (started) sqlite3_bind_int64(pTask, 20, started); else sqlite3_bind_null(pTask, 20);
      if (finished) sqlite3_bind_int64(pTask, 21, finished); else sqlite3_bind_null(pTask, 21);
      if (sqlite3_step(pTask) != SQLITE_DONE) die(db, "insert task");
      sqlite3_reset(pTask);
    }
    if (nRemained) zStatus = "IN_PROGRESS";
    else if (bCanceled) zStatus = "CANCELED";
    else zStatus = nFailure ? "FAILURE" : "SUCCESS";
    sqlite3_bind_text(pJob, 1, zJob, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(pJob, 2, zStatus, -1, SQLITE_STATIC);
    sqlite3_bind_int64(pJob, 3, perJob);
    sqlite3_bind_int64(pJob, 4, nRemained);
    sqlite3_bind_int64(pJob, 5, nSuccess);
    sqlite3_bind_int64(pJob, 6, nFailure);
    sqlite3_bind_text(pJob, 7, bDomainLevel ? "DOMAIN" : "WORKSPACE", -1, SQLITE_STATIC);
    sqlite3_bind_text(pJob, 8, zDom, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(pJob, 9, zWs, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(pJob, 10, zColl, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(pJob, 11, azPlugin[coll % 3], -1, SQLITE_STATIC);
    sqlite3_bind_int64(pJob, 12, created);
    sqlite3_bind_int64(pJob, 13, nRemained ? created : lastFinish);
    if (nRemained) sqlite3_bind_null(pJob, 14); else sqlite3_bind_int64(pJob, 14, lastFinish);
    if (sqlite3_step(pJob) != SQLITE_DONE) die(db, "insert job");
    sqlite3_reset(pJob);
  }
  sqlite3_finalize(pJob);
  sqlite3_finalize(pTask);
  for (k = 0; k < nIdx; k++) exec(db, azIdx[k]);
  exec(db, "COMMIT");
  exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  if (sqlite3_close(db) != SQLITE_OK) die(db, "close");
  printf("gen: %s: %ld jobs, %ld tasks (%ld with errors)\n", zDb, nJob, nJob * perJob, nErrTasks);
  return 0;
}
