/*
** test_store.c: opening and closing stores (file and :memory:), the schema
** version, a job lifecycle round through inv_call, and allocation-failure
** injection (inv_mem_fail_after): every call returns INV_OK or INV_ERROR,
** never crashes or leaks, leaves no transaction open, and the store stays
** usable afterwards. SQLite's own allocations do not go through inv_malloc;
** only the core's do (PostgreSQL's driver's do too).
**
** On PostgreSQL (tbackend.h): the lifecycle and the failures injected into
** one store's calls; files and fresh stores per failure are SQLite's.
*/
#define _POSIX_C_SOURCE 200809L
#include "tharness.h"
#include "tbackend.h"
#include "sqlite/sqlite_int.h"   /* the file checks look inside SQLite */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void test_store(void);

/* ------------------------------------------------------------- helpers */

/* A store at zPath; ":memory:" is a fresh store of the backend under test. */
static inv_store *openAt(const char *zPath, int bReadOnly, char *zErr, size_t nErr) {
  inv_options o = INV_OPTIONS_INIT;
  inv_store *s = NULL;
  o.zPath = zPath;
  o.bReadOnly = bReadOnly;
  zErr[0] = 0;
  if (th_open(&o, &s, zErr, nErr) != INV_OK) return NULL;
  return s;
}

/* inv_store_begin, parse zReq, inv_call into the store's buffer. On
** success *pOut (if given) is the parsed output. Besides INV_OK/INV_ERROR:
** -2 when the request could not be parsed for lack of memory, -3 when the
** output could not be (the buffer's sticky OOM flag, or the parser's), -1
** when the request or the output is not JSON (a bug). */
#define CALL_NOMEM_REQ (-2)
#define CALL_NOMEM_OUT (-3)
static int callJ(inv_store *s, const char *zRes, const char *zMethod, const char *zReq,
                 int bJson, inv_val *pOut) {
  inv_val req;
  inv_json_sink js;
  char zErr[128];
  int rc;
  inv_store_begin(s);
  if (inv_json_parse(inv_store_arena(s), zReq, strlen(zReq), &req, zErr, sizeof zErr)) {
    if (strstr(zErr, "out of memory")) return CALL_NOMEM_REQ;
    fprintf(stderr, "test_store: bad request JSON (%s): %s\n", zErr, zReq);
    return -1;
  }
  inv_json_sink_init(&js, inv_store_buffer(s));
  rc = inv_call(s, zRes, zMethod, &req, &js.base, bJson);
  if (rc == INV_OK && pOut) {
    inv_buf *b = inv_store_buffer(s);
    if (b->bOom) return CALL_NOMEM_OUT;
    if (!b->z || inv_json_parse(inv_store_arena(s), b->z, b->n, pOut, zErr, sizeof zErr)) {
      if (b->z && strstr(zErr, "out of memory")) return CALL_NOMEM_OUT;
      fprintf(stderr, "test_store: output is not JSON (%s): %s\n", zErr, b->z ? b->z : "(none)");
      return -1;
    }
  }
  if (rc != INV_OK && getenv("INV_TEST_VERBOSE")) {
    fprintf(stderr, "  %s.%s: %s %s\n", zRes, zMethod, inv_store_errcode(s), inv_store_errmsg(s));
  }
  return rc;
}

static const char *strField(const inv_val *o, const char *zKey) {
  const inv_val *v = inv_val_get(o, zKey);
  return v && v->t == INV_STR ? v->u.s.z : NULL;
}
static int64_t intField(const inv_val *o, const char *zKey) {
  const inv_val *v = inv_val_get(o, zKey);
  return v && v->t == INV_INT ? v->u.i : -999;
}

static int countRows(inv_store *s, const char *zSql) {
  inv_buf b;
  const char *z;
  int n;
  inv_buf_init(&b);
  z = th_sql_one(s, zSql, &b);
  n = z && z[0] >= '0' && z[0] <= '9' ? atoi(z) : -1;
  inv_buf_free(&b);
  return n;
}

static void removeDb(const char *zPath) {
  char z[600];
  unlink(zPath);
  snprintf(z, sizeof z, "%s-wal", zPath);
  unlink(z);
  snprintf(z, sizeof z, "%s-shm", zPath);
  unlink(z);
  snprintf(z, sizeof z, "%s-journal", zPath);
  unlink(z);
}

/* ------------------------------------------------------- open / close */

static void openClose(void) {
  char zErr[256], zPath[64];
  inv_store *s;
  int fd;
  inv_val out;

  /* :memory: */
  s = openAt(":memory:", 0, zErr, sizeof zErr);
  CHECK(s != NULL);
  if (s) {
    CHECK_INT(inv_store_schema_version(s), 4);
    CHECK_INT(INV_SCHEMA_VERSION, 4);
    CHECK_INT(countRows(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                           "AND name IN ('job','job_task','change')"), 3);
    CHECK_STR(inv_store_errcode(s), "");
    CHECK_STR(inv_store_errmsg(s), "");
    inv_store_close(s);
  }
  inv_store_close(NULL);                         /* a no-op */
  CHECK(inv_sqlite_version() != NULL && inv_sqlite_version()[0] == '3');

  /* a failed open leaves *ppOut NULL */
  {
    inv_options o = INV_OPTIONS_INIT;
    o.zPath = "/nonexistent-dir-inv/x.db";
    s = (inv_store *)&fd;
    CHECK_INT(inv_store_open(&o, &s, zErr, sizeof zErr), INV_ERROR);
    CHECK(s == NULL);
  }

  /* a temp file: created, migrated once, data persists across opens */
  snprintf(zPath, sizeof zPath, "/tmp/inv_test_store_XXXXXX");
  fd = mkstemp(zPath);
  CHECK(fd >= 0);
  if (fd < 0) return;
  close(fd);                                     /* an empty file is an empty database */
  s = openAt(zPath, 0, zErr, sizeof zErr);
  CHECK(s != NULL);
  if (!s) { fprintf(stderr, "  open %s: %s\n", zPath, zErr); removeDb(zPath); return; }
  CHECK_INT(inv_store_schema_version(s), 4);
  CHECK_INT(callJ(s, "job", "import", "{\"records\":[{\"job_id\":\"job-f1\",\"domain_id\":\"d1\","
                  "\"status\":\"SUCCESS\",\"created_at\":\"2024-01-01T00:00:00Z\"}]}", 1, NULL), INV_OK);
  inv_store_close(s);

  s = openAt(zPath, 0, zErr, sizeof zErr);       /* reopen: no second migration */
  CHECK(s != NULL);
  if (s) {
    CHECK_INT(inv_store_schema_version(s), 4);
    CHECK_INT(callJ(s, "job", "get", "{\"job_id\":\"job-f1\",\"domain_id\":\"d1\"}", 1, &out), INV_OK);
    CHECK_STR(strField(&out, "status"), "SUCCESS");
    CHECK_STR(strField(&out, "created_at"), "2024-01-01T00:00:00.000Z");
    /* a second connection sees the same data (WAL) */
    {
      inv_store *s2 = openAt(zPath, 1, zErr, sizeof zErr);
      CHECK(s2 != NULL);
      if (s2) {
        CHECK_INT(callJ(s2, "job", "list", "{\"domain_id\":\"d1\"}", 1, &out), INV_OK);
        CHECK_INT(intField(&out, "total_count"), 1);
        /* read-only: writes fail cleanly */
        CHECK_INT(callJ(s2, "job", "create", "{\"domain_id\":\"d1\",\"collector_id\":\"c\"}", 1, NULL),
                  INV_ERROR);
        CHECK_STR(inv_store_errcode(s2), "ERROR_DB_QUERY");
        CHECK(sqlite3_get_autocommit(SQLITE_DB(s2)));
        inv_store_close(s2);
      }
    }
    inv_store_close(s);
  }

  /* a version 1 file (before the change journal) migrates to 3, data kept */
  {
    sqlite3 *db = NULL;
    if (sqlite3_open(zPath, &db) == SQLITE_OK) {
      sqlite3_exec(db, "DROP TABLE change; "
                       "PRAGMA user_version = 1", 0, 0, 0);
    }
    sqlite3_close(db);
    s = openAt(zPath, 0, zErr, sizeof zErr);
    CHECK(s != NULL);
    if (s) {
      CHECK_INT(inv_store_schema_version(s), 4);
      CHECK_INT(countRows(s, "SELECT count(*) FROM sqlite_master WHERE name = 'change'"), 1);
      CHECK_INT(callJ(s, "job", "get", "{\"job_id\":\"job-f1\",\"domain_id\":\"d1\"}", 1, &out), INV_OK);
      CHECK_INT(callJ(s, "job", "cancel", "{\"job_id\":\"job-f1\",\"domain_id\":\"d1\"}", 1, NULL),
                INV_ERROR);                        /* SUCCESS: no state change, and no journal row */
      CHECK_INT(countRows(s, "SELECT count(*) FROM change"), 0);
      inv_store_close(s);
    }
  }

  /* a schema newer than the library is refused */
  {
    sqlite3 *db = NULL;
    if (sqlite3_open(zPath, &db) == SQLITE_OK) {
      sqlite3_exec(db, "PRAGMA user_version = 5", 0, 0, 0);
    }
    sqlite3_close(db);
    s = openAt(zPath, 0, zErr, sizeof zErr);
    CHECK(s == NULL);
    CHECK(strstr(zErr, "newer than this library") != NULL);
    inv_store_close(s);
    s = openAt(zPath, 1, zErr, sizeof zErr);
    CHECK(s == NULL);
    CHECK(strstr(zErr, "newer than this library") != NULL);
    inv_store_close(s);
  }
  removeDb(zPath);

  /* read-only on a file that is not there / a path that cannot be a file */
  s = openAt(zPath, 1, zErr, sizeof zErr);
  CHECK(s == NULL);
  CHECK(strstr(zErr, "cannot open") != NULL);
  removeDb(zPath);
  s = openAt("/tmp", 0, zErr, sizeof zErr);
  CHECK(s == NULL);
  CHECK(zErr[0] != 0);
  s = openAt("/nonexistent-dir-inv/x.db", 0, zErr, sizeof zErr);
  CHECK(s == NULL);
  CHECK(strstr(zErr, "cannot open") != NULL);
  /* a file that is not a database */
  snprintf(zPath, sizeof zPath, "/tmp/inv_test_junk_XXXXXX");
  fd = mkstemp(zPath);
  if (fd >= 0) {
    static const char zJunk[] = "this is not an SQLite database, not at all..............";
    CHECK(write(fd, zJunk, sizeof zJunk) == (ssize_t)sizeof zJunk);
    close(fd);
    s = openAt(zPath, 0, zErr, sizeof zErr);
    CHECK(s == NULL);
    CHECK(zErr[0] != 0);
    inv_store_close(s);
    removeDb(zPath);
  }
}

/* ------------------------------------------------------------ lifecycle */

static void lifecycle(void) {
  char zErr[256], zReq[512], zJob[64], azTask[2][64];
  inv_store *s = openAt(":memory:", 0, zErr, sizeof zErr);
  inv_val out;
  const inv_val *res;
  int i;
  CHECK(s != NULL);
  if (!s) return;
  inv_store_set_now(s, 1704067200000);            /* 2024-01-01T00:00:00Z */
  CHECK_INT(callJ(s, "job", "create", "{\"domain_id\":\"d1\",\"collector_id\":\"c1\","
                  "\"plugin_id\":\"plugin-1\",\"tasks\":[{\"secret_id\":\"s1\",\"project_id\":\"p1\"},"
                  "{\"secret_id\":\"s2\",\"project_id\":\"p2\",\"provider\":\"aws\"}]}", 0, &out), INV_OK);
  CHECK_STR(strField(&out, "status"), "IN_PROGRESS");
  CHECK_INT(intField(&out, "total_tasks"), 2);
  CHECK_INT(intField(&out, "remained_tasks"), 2);
  CHECK_STR(strField(&out, "created_at"), "2024-01-01T00:00:00.000Z");
  snprintf(zJob, sizeof zJob, "%s", strField(&out, "job_id") ? strField(&out, "job_id") : "");
  CHECK(strncmp(zJob, "job-", 4) == 0 && strlen(zJob) == 16);

  snprintf(zReq, sizeof zReq, "{\"domain_id\":\"d1\",\"job_id\":\"%s\","
           "\"query\":{\"sort\":[{\"key\":\"secret_id\"}]}}", zJob);
  CHECK_INT(callJ(s, "job_task", "list", zReq, 0, &out), INV_OK);
  CHECK_INT(intField(&out, "total_count"), 2);
  res = inv_val_get(&out, "results");
  CHECK(res && res->t == INV_ARR && res->u.arr.n == 2);
  if (!res || res->t != INV_ARR || res->u.arr.n != 2) { inv_store_close(s); return; }
  for (i = 0; i < 2; i++) {
    const inv_val *t = &res->u.arr.a[i];
    snprintf(azTask[i], sizeof azTask[i], "%s", strField(t, "job_task_id") ? strField(t, "job_task_id") : "");
    CHECK_STR(strField(t, "status"), "PENDING");
    CHECK_STR(strField(t, "job_id"), zJob);
    CHECK(strncmp(azTask[i], "job-task-", 9) == 0);
  }
  CHECK_STR(strField(&res->u.arr.a[1], "provider"), "aws");

  /* the first task finishes: the job is still running */
  inv_store_set_now(s, 1704067260000);
  snprintf(zReq, sizeof zReq, "{\"job_task_id\":\"%s\",\"domain_id\":\"d1\",\"status\":\"SUCCESS\","
           "\"created_count\":3,\"updated_count\":1}", azTask[0]);
  CHECK_INT(callJ(s, "job_task", "finish", zReq, 0, &out), INV_OK);
  CHECK_STR(strField(&out, "status"), "SUCCESS");
  CHECK_INT(intField(&out, "created_count"), 3);
  CHECK_STR(strField(&out, "finished_at"), "2024-01-01T00:01:00.000Z");
  snprintf(zReq, sizeof zReq, "{\"job_id\":\"%s\",\"domain_id\":\"d1\"}", zJob);
  CHECK_INT(callJ(s, "job", "get", zReq, 0, &out), INV_OK);
  CHECK_STR(strField(&out, "status"), "IN_PROGRESS");
  CHECK_INT(intField(&out, "remained_tasks"), 1);
  CHECK_INT(intField(&out, "success_tasks"), 1);

  /* the second: the job finishes as SUCCESS, exactly once */
  inv_store_set_now(s, 1704067320000);
  snprintf(zReq, sizeof zReq, "{\"job_task_id\":\"%s\",\"domain_id\":\"d1\",\"status\":\"SUCCESS\"}",
           azTask[1]);
  CHECK_INT(callJ(s, "job_task", "finish", zReq, 0, &out), INV_OK);
  CHECK_STR(strField(&out, "status"), "SUCCESS");
  snprintf(zReq, sizeof zReq, "{\"job_id\":\"%s\",\"domain_id\":\"d1\"}", zJob);
  CHECK_INT(callJ(s, "job", "get", zReq, 0, &out), INV_OK);
  CHECK_STR(strField(&out, "status"), "SUCCESS");
  CHECK_INT(intField(&out, "remained_tasks"), 0);
  CHECK_INT(intField(&out, "success_tasks"), 2);
  CHECK_INT(intField(&out, "failure_tasks"), 0);
  CHECK_STR(strField(&out, "finished_at"), "2024-01-01T00:02:00.000Z");

  /* finishing again is a state error; nothing moves */
  snprintf(zReq, sizeof zReq, "{\"job_task_id\":\"%s\",\"domain_id\":\"d1\",\"status\":\"FAILURE\"}",
           azTask[1]);
  CHECK_INT(callJ(s, "job_task", "finish", zReq, 0, NULL), INV_ERROR);
  CHECK_STR(inv_store_errcode(s), "ERROR_JOB_TASK_STATE_CHANGE");
  CHECK(!th_in_tx(s));
  snprintf(zReq, sizeof zReq, "{\"job_id\":\"%s\",\"domain_id\":\"d1\"}", zJob);
  CHECK_INT(callJ(s, "job", "get", zReq, 0, &out), INV_OK);
  CHECK_STR(strField(&out, "status"), "SUCCESS");
  CHECK_INT(intField(&out, "success_tasks"), 2);
  /* another domain sees nothing */
  snprintf(zReq, sizeof zReq, "{\"job_id\":\"%s\",\"domain_id\":\"d2\"}", zJob);
  CHECK_INT(callJ(s, "job", "get", zReq, 0, NULL), INV_ERROR);
  CHECK_STR(inv_store_errcode(s), "ERROR_NOT_FOUND");

  /* a job with a failing task ends as FAILURE */
  CHECK_INT(callJ(s, "job", "create", "{\"domain_id\":\"d1\",\"collector_id\":\"c2\","
                  "\"tasks\":[{\"secret_id\":\"s1\"}]}", 0, &out), INV_OK);
  snprintf(zJob, sizeof zJob, "%s", strField(&out, "job_id") ? strField(&out, "job_id") : "");
  snprintf(zReq, sizeof zReq, "{\"domain_id\":\"d1\",\"job_id\":\"%s\"}", zJob);
  CHECK_INT(callJ(s, "job_task", "list", zReq, 0, &out), INV_OK);
  res = inv_val_get(&out, "results");
  CHECK(res && res->t == INV_ARR && res->u.arr.n == 1);
  if (res && res->t == INV_ARR && res->u.arr.n == 1) {
    snprintf(zReq, sizeof zReq, "{\"job_task_id\":\"%s\",\"domain_id\":\"d1\",\"status\":\"FAILURE\"}",
             strField(&res->u.arr.a[0], "job_task_id"));
    CHECK_INT(callJ(s, "job_task", "finish", zReq, 0, NULL), INV_OK);
    snprintf(zReq, sizeof zReq, "{\"job_id\":\"%s\",\"domain_id\":\"d1\"}", zJob);
    CHECK_INT(callJ(s, "job", "get", zReq, 0, &out), INV_OK);
    CHECK_STR(strField(&out, "status"), "FAILURE");
    CHECK_INT(intField(&out, "failure_tasks"), 1);
  }
  /* unknown resource / method */
  CHECK_INT(callJ(s, "nope", "list", "{}", 0, NULL), INV_ERROR);
  CHECK_STR(inv_store_errcode(s), "ERROR_INVALID_PARAMETER");
  CHECK_INT(callJ(s, "job", "nope", "{}", 0, NULL), INV_ERROR);
  CHECK_STR(inv_store_errcode(s), "ERROR_INVALID_PARAMETER");
  CHECK_INT(callJ(s, "job", "list", "[]", 0, NULL), INV_ERROR);
  CHECK_STR(inv_store_errcode(s), "ERROR_INVALID_PARAMETER_TYPE");
  inv_store_close(s);
}

/* ------------------------------------------------- allocation failures */

static const char zSeed[] =
  "{\"records\":["
  "{\"job_id\":\"job-1\",\"domain_id\":\"d1\",\"status\":\"SUCCESS\",\"collector_id\":\"c1\","
  "\"total_tasks\":3,\"filter\":{\"a\":1,\"t\":[\"x\",\"y\"]},\"created_at\":\"2024-01-01T00:00:00Z\","
  "\"errors\":[{\"error_code\":\"E\",\"message\":\"m\",\"additional\":{\"k\":\"v\"}}]},"
  "{\"job_id\":\"job-2\",\"domain_id\":\"d1\",\"status\":\"FAILURE\",\"collector_id\":\"c2\","
  "\"created_at\":\"2024-01-02T00:00:00Z\"}]}";

/* Big enough to need several arena chunks and a long SQL text. */
static void listRequest(inv_buf *b, int k) {
  int i;
  inv_buf_reset(b);
  inv_buf_adds(b, "{\"domain_id\":\"d1\",\"status\":[\"SUCCESS\",\"FAILURE\",\"IN_PROGRESS\"],"
                  "\"query\":{\"filter\":[");
  for (i = 0; i < 12; i++) {
    inv_buf_printf(b, "{\"k\":\"filter.a%d\",\"v\":[%d,\"s%d\",null,{\"o\":%d}],\"o\":\"not_in\"},",
                   i, i, i, i);
  }
  inv_buf_adds(b, "{\"k\":\"errors\",\"v\":{\"error_code__in\":[\"E\",\"F\"],\"message__icontains\":\"M\","
                  "\"additional__k__iexact\":\"V\"},\"o\":\"match\"},"
                  "{\"k\":\"job_id\",\"v\":\"^job-\",\"o\":\"regex\"},"
                  "{\"k\":\"created_at\",\"v\":\"now-3650d\",\"o\":\"timediff_gt\"},"
                  "{\"k\":\"filter.t\",\"v\":[\"x\",\"q\"],\"o\":\"contain_in\"}],"
                  "\"filter_or\":[{\"k\":\"total_tasks\",\"v\":\"3\",\"o\":\"eq\"},"
                  "{\"k\":\"errors.0.additional.k\",\"v\":true,\"o\":\"exists\"}],");
  inv_buf_printf(b, "\"keyword\":\"job %d\",", k % 3);
  inv_buf_adds(b, "\"sort\":[{\"key\":\"filter.a\",\"desc\":true},{\"key\":\"errors.error_code\"}],"
                  "\"page\":{\"start\":1,\"limit\":10},\"only\":[\"job_id\",\"filter.a\",\"errors\"]}}");
}

static const char zCreate[] =
  "{\"domain_id\":\"d1\",\"collector_id\":\"c9\",\"plugin_id\":\"p\",\"workspace_id\":\"ws-1\","
  "\"tasks\":[{\"secret_id\":\"s1\",\"project_id\":\"p1\",\"sub_tasks\":2},{\"secret_id\":\"s2\"}]}";

/* A failed call names its error (OOM is ERROR_UNKNOWN "Out of memory."). */
static int sane(inv_store *s, int rc) {
  if (rc == INV_OK || rc == CALL_NOMEM_REQ || rc == CALL_NOMEM_OUT) return 1;
  return rc == INV_ERROR && inv_store_errcode(s)[0] != 0 && !th_in_tx(s);
}

/* One store, failures injected into list and create calls. */
static void oomSameStore(void) {
  char zErr[256];
  inv_store *s = openAt(":memory:", 0, zErr, sizeof zErr);
  inv_buf req;
  inv_val out;
  long k;
  int nClean = 0, nBad = 0, nCreated = 0, nCreateTried = 0, nFailedCalls = 0;
  CHECK(s != NULL);
  if (!s) return;
  inv_buf_init(&req);
  CHECK_INT(callJ(s, "job", "import", zSeed, 1, NULL), INV_OK);
  for (k = 1; k <= 3000 && nClean < 25; k++) {
    inv_json_sink js;
    inv_val v;
    int rc1 = -1, rc2 = -1;
    listRequest(&req, (int)k);
    inv_store_begin(s);
    if (inv_json_parse(inv_store_arena(s), req.z, req.n, &v, zErr, sizeof zErr) == 0) {
      inv_json_sink_init(&js, inv_store_buffer(s));
      inv_mem_fail_after(k);
      rc1 = inv_call(s, "job", "list", &v, &js.base, (int)(k & 1));
      if (!sane(s, rc1)) nBad++;
      inv_store_begin(s);
      if (inv_json_parse(inv_store_arena(s), zCreate, strlen(zCreate), &v, zErr, sizeof zErr) == 0) {
        inv_json_sink_init(&js, inv_store_buffer(s));
        nCreateTried++;
        rc2 = inv_call(s, "job", "create", &v, &js.base, (int)(k & 1));
        if (!sane(s, rc2)) nBad++;
        if (rc2 == INV_OK) nCreated++;
      }
      inv_mem_fail_after(0);
    }
    if (rc1 == INV_OK && rc2 == INV_OK) nClean++; else { nClean = 0; nFailedCalls++; }
    /* usable again at once */
    if (callJ(s, "job", "list", req.z, 1, &out) != INV_OK) {
      nBad++;
      fprintf(stderr, "  after fail_after(%ld): %s %s\n", k, inv_store_errcode(s), inv_store_errmsg(s));
    }
  }
  inv_mem_fail_after(0);
  if (getenv("INV_TEST_VERBOSE")) {
    fprintf(stderr, "  oom, same store: %ld rounds, %d with a failed call\n", k - 1, nFailedCalls);
  }
  CHECK_INT(nBad, 0);
  CHECK(nClean >= 25);                 /* ran past the last allocation of the calls */
  CHECK(nFailedCalls > 0);             /* and the injection did hit them */
  /* the store is consistent: every successful create is there; a create
  ** may also have committed before a later step (rendering) failed */
  CHECK_INT(callJ(s, "job", "list", "{\"domain_id\":\"d1\",\"collector_id\":\"c9\","
                  "\"query\":{\"count_only\":true}}", 1, &out), INV_OK);
  CHECK(intField(&out, "total_count") >= 1);
  CHECK(intField(&out, "total_count") <= nCreateTried);
  /* each create cancels the previous IN_PROGRESS one of its collector */
  CHECK_INT(callJ(s, "job", "list", "{\"domain_id\":\"d1\",\"collector_id\":\"c9\","
                  "\"status\":\"IN_PROGRESS\",\"query\":{\"count_only\":true}}", 1, &out), INV_OK);
  CHECK_INT(intField(&out, "total_count"), 1);
  CHECK_INT(countRows(s, "SELECT count(*) FROM job_task t JOIN job j USING (job_id) "
                         "WHERE j.collector_id = 'c9'"), 2 * countRows(s, "SELECT count(*) FROM job "
                         "WHERE collector_id = 'c9'"));
  CHECK(nCreated <= nCreateTried);
  CHECK_INT(callJ(s, "job", "create", zCreate, 1, &out), INV_OK);
  CHECK_STR(strField(&out, "status"), "IN_PROGRESS");
  inv_buf_free(&req);
  inv_store_close(s);
}

/* A fresh store per k: failures in open, import, list, create, finish. */
static void oomFreshStore(void) {
  long k;
  int nClean = 0, nBad = 0, nOpenFailed = 0;
  inv_buf req;
  inv_buf_init(&req);
  listRequest(&req, 0);
  for (k = 1; k <= 5000 && nClean < 25; k++) {
    char zErr[256];
    inv_store *s;
    inv_val out;
    int bAll = 1, rc;
    inv_mem_fail_after(k);
    s = openAt(":memory:", 0, zErr, sizeof zErr);
    if (!s) {
      inv_mem_fail_after(0);
      nOpenFailed++;
      nClean = 0;
      if (!zErr[0]) nBad++;
      continue;
    }
    rc = callJ(s, "job", "import", zSeed, 0, NULL);
    if (!sane(s, rc)) nBad++;
    bAll &= rc == INV_OK;
    rc = callJ(s, "job", "list", req.z, (int)(k & 1), NULL);
    if (!sane(s, rc)) nBad++;
    bAll &= rc == INV_OK;
    rc = callJ(s, "job", "create", zCreate, (int)(k & 1), NULL);
    if (!sane(s, rc)) nBad++;
    bAll &= rc == INV_OK;
    rc = callJ(s, "job_task", "list", "{\"domain_id\":\"d1\",\"query\":{\"keyword\":\"task\"}}", 0, &out);
    if (!sane(s, rc)) nBad++;
    bAll &= rc == INV_OK;
    if (rc == INV_OK) {
      const inv_val *res = inv_val_get(&out, "results");
      if (res && res->t == INV_ARR && res->u.arr.n > 0) {
        char zReq[256];
        snprintf(zReq, sizeof zReq, "{\"job_task_id\":\"%s\",\"domain_id\":\"d1\",\"status\":\"SUCCESS\"}",
                 strField(&res->u.arr.a[0], "job_task_id"));
        rc = callJ(s, "job_task", "finish", zReq, 1, NULL);
        if (!sane(s, rc)) nBad++;
        bAll &= rc == INV_OK;
      }
    }
    inv_mem_fail_after(0);
    nClean = bAll ? nClean + 1 : 0;
    /* the store works now */
    rc = callJ(s, "job", "list", "{\"domain_id\":\"d1\",\"query\":{\"count_only\":true}}", 1, &out);
    if (rc != INV_OK) {
      nBad++;
      fprintf(stderr, "  fresh store after fail_after(%ld): %s %s\n", k, inv_store_errcode(s),
              inv_store_errmsg(s));
    }
    if (callJ(s, "job", "create", zCreate, 1, NULL) != INV_OK) nBad++;
    inv_store_close(s);
  }
  inv_mem_fail_after(0);
  inv_buf_free(&req);
  if (getenv("INV_TEST_VERBOSE")) {
    fprintf(stderr, "  oom, fresh stores: %ld rounds, %d failed opens\n", k - 1, nOpenFailed);
  }
  CHECK_INT(nBad, 0);
  CHECK(nOpenFailed > 0);
  CHECK(nClean >= 25);
}

/* The pieces of messages (inv_msg.c): values as cut JSON, cut on a
** character boundary, plain lists, and the frames. */
static void messagePieces(void) {
  char zErr[128];
  inv_store *s = openAt(":memory:", 0, zErr, sizeof zErr);
  inv_val v;
  const char *const az[] = { "a", "b", "c", NULL }, *const azNone[] = { NULL };
  char zLong[200];
  size_t i;
  CHECK(s != NULL);
  if (!s) return;
  inv_store_begin(s);
  memset(&v, 0, sizeof v);
  v.t = INV_STR; v.u.s.z = "x\"y"; v.u.s.n = 3;
  CHECK_STR(inv_msg_value(s, &v, 100), "\"x\\\"y\"");        /* "x\"y" as JSON */
  CHECK_STR(inv_msg_value(s, NULL, 100), "null");
  /* 100 x U+00E9 (2 bytes): cut at 9 bytes keeps 4 characters, never half of one */
  for (i = 0; i < 200; i += 2) { zLong[i] = (char)0xC3; zLong[i + 1] = (char)0xA9; }
  CHECK_STR(inv_msg_text(s, zLong, 200, 9), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...");
  CHECK_STR(inv_msg_text(s, zLong, 4, 9), "\xc3\xa9\xc3\xa9");
  CHECK_STR(inv_msg_list(s, az), "a, b, c");
  CHECK_STR(inv_msg_list(s, azNone), "");
  CHECK_INT(inv_err_type_of(s, "query.sort", "list", &v), INV_ERROR);
  CHECK_STR(inv_store_errcode(s), "ERROR_INVALID_PARAMETER_TYPE");
  CHECK_STR(inv_store_errmsg(s), "Parameter type is invalid. (key = query.sort, type = list, value = \"x\\\"y\")");
  CHECK_INT(inv_err_query(s, "query.filter", "%s is wrong.", "this"), INV_ERROR);
  CHECK_STR(inv_store_errcode(s), "ERROR_DB_QUERY");
  CHECK_STR(inv_store_errmsg(s), "Database query failed. (key = query.filter, reason = this is wrong.)");
  CHECK_INT(inv_err_query(s, NULL, "no key"), INV_ERROR);
  CHECK_STR(inv_store_errmsg(s), "Database query failed. (reason = no key)");
  CHECK_INT(inv_err_enum(s, "status", &v, az), INV_ERROR);
  CHECK_STR(inv_store_errmsg(s), "Parameter is invalid. (key = status, reason = \"x\\\"y\" is not one of a, b, c.)");
  CHECK_INT(inv_err_unknown_key(s, "query.z", az), INV_ERROR);
  CHECK_STR(inv_store_errmsg(s), "Parameter is invalid. (key = query.z, reason = unknown parameter; use one of a, b, c.)");
  inv_store_close(s);
}

/* ------------------------------------------- a store of schema 2 migrates */

/* SQLite's plan of zSql on s's connection, its steps joined by " | ". */
static const char *planOf(inv_store *s, const char *zSql, char *zOut, size_t nOut) {
  sqlite3_stmt *p = NULL;
  char zQ[1024];
  size_t n = 0;
  zOut[0] = 0;
  snprintf(zQ, sizeof zQ, "EXPLAIN QUERY PLAN %s", zSql);
  if (sqlite3_prepare_v2(SQLITE_DB(s), zQ, -1, &p, NULL) != SQLITE_OK) {
    snprintf(zOut, nOut, "error: %s", sqlite3_errmsg(SQLITE_DB(s)));
  } else {
    while (sqlite3_step(p) == SQLITE_ROW && n + 1 < nOut) {
      int k = snprintf(zOut + n, nOut - n, "%s%s", n ? " | " : "", (const char*)sqlite3_column_text(p, 3));
      n += k > 0 ? (size_t)k : 0;
    }
  }
  sqlite3_finalize(p);
  return zOut;
}

/* test/c/data/store-v2.sql: a store the library wrote before schema 3 (its
** dump). Opened by this library it migrates to 3: the indexes of
** inv_schema.c, the planner's figures, the data and its answers kept. */
static void migrateV2(void) {
  static const char *const azIdx =
    "job_created,job_domain_collector_created,job_domain_collector_status,job_domain_created,"
    "job_domain_status,job_domain_workspace,job_status_created,job_task_domain_created,"
    "job_task_domain_job,job_task_domain_status,job_task_domain_workspace_project,"
    "spot_job_domain_created";
  char zPath[64], zErr[256], zPlan[1024];
  FILE *f = fopen("test/c/data/store-v2.sql", "rb");
  char *zDump;
  long nDump;
  sqlite3 *db = NULL;
  inv_store *s;
  inv_val out;
  int fd;
  CHECK(f != NULL);
  if (!f) return;
  fseek(f, 0, SEEK_END);
  nDump = ftell(f);
  fseek(f, 0, SEEK_SET);
  zDump = malloc((size_t)nDump + 1);
  CHECK(zDump && fread(zDump, 1, (size_t)nDump, f) == (size_t)nDump);
  fclose(f);
  if (!zDump) return;
  zDump[nDump] = 0;
  snprintf(zPath, sizeof zPath, "/tmp/inv_test_v2_XXXXXX");
  fd = mkstemp(zPath);
  CHECK(fd >= 0);
  if (fd < 0) { free(zDump); return; }
  close(fd);
  CHECK(sqlite3_open(zPath, &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, zDump, 0, 0, 0) == SQLITE_OK);
  sqlite3_close(db);
  free(zDump);

  s = openAt(zPath, 1, zErr, sizeof zErr);        /* read-only: no migration, refused */
  CHECK(s == NULL);
  CHECK(strstr(zErr, "its schema 2 is older than this program's 4; open it once for writing to migrate it") != NULL);
  s = openAt(zPath, 0, zErr, sizeof zErr);
  CHECK(s != NULL);
  if (!s) { fprintf(stderr, "  open %s: %s\n", zPath, zErr); removeDb(zPath); return; }
  CHECK_INT(inv_store_schema_version(s), 4);
  {
    inv_buf b;
    inv_buf_init(&b);
    CHECK_STR(th_sql_one(s, "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master "
                         "WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name)", &b), azIdx);
    CHECK_STR(th_sql_one(s, "SELECT stat FROM sqlite_stat1 WHERE idx = 'job_task_domain_job'", &b),
              "1000000 100000 100 100");
    CHECK_STR(th_sql_one(s, "PRAGMA integrity_check", &b), "ok");
    inv_buf_free(&b);
  }
  /* the plans the figures are for: a job's progress reads its tasks, the
  ** domain's summary is a covering scan in status order, the jobs of a
  ** collector by status stop after their page */
  CHECK(strstr(planOf(s, "SELECT status, count(*) FROM job_task WHERE domain_id = 'd' AND job_id = 'j' "
                      "GROUP BY status", zPlan, sizeof zPlan), "job_task_domain_job") != NULL);
  CHECK_STR(planOf(s, "SELECT status, count(*) FROM job_task WHERE domain_id = 'd' GROUP BY status",
                   zPlan, sizeof zPlan),
            "SEARCH job_task USING COVERING INDEX job_task_domain_status (domain_id=?)");
  CHECK_STR(planOf(s, "SELECT * FROM job WHERE domain_id = 'd' AND collector_id = 'c' AND status = 'S' "
                   "ORDER BY created_at DESC LIMIT 20", zPlan, sizeof zPlan),
            "SEARCH job USING INDEX job_domain_collector_status (domain_id=? AND collector_id=? AND status=?)");
  CHECK(strstr(planOf(s, "DELETE FROM job_task WHERE created_at < 5", zPlan, sizeof zPlan),
               "job_task_domain_created (ANY(domain_id) AND created_at<?)") != NULL);

  /* the records answer as before */
  CHECK_INT(callJ(s, "job", "get", "{\"job_id\":\"job-a77f8f60c954\",\"domain_id\":\"domain-a\"}", 1, &out),
            INV_OK);
  CHECK_STR(strField(&out, "status"), "FAILURE");
  CHECK_INT(intField(&out, "success_tasks"), 1);
  CHECK_INT(intField(&out, "failure_tasks"), 1);
  CHECK_STR(strField(&out, "finished_at"), "2024-01-01T00:01:00.000Z");
  CHECK_INT(callJ(s, "job_task", "list", "{\"domain_id\":\"domain-a\",\"query\":{\"filter\":[{\"k\":"
                  "\"errors.error_code\",\"v\":\"ERROR_AUTH\",\"o\":\"eq\"}]}}", 1, &out), INV_OK);
  CHECK_INT(intField(&out, "total_count"), 1);
  CHECK_INT(callJ(s, "job_task", "stat", "{\"domain_id\":\"domain-a\",\"query\":{\"aggregate\":[{\"group\":"
                  "{\"keys\":[{\"key\":\"status\",\"name\":\"s\"}],\"fields\":[{\"name\":\"n\","
                  "\"operator\":\"count\"}]}}]}}", 1, NULL), INV_OK);
  CHECK_STR(inv_store_buffer(s)->z, "{\"results\":[{\"s\":\"FAILURE\",\"n\":1},{\"s\":\"PENDING\",\"n\":3},"
            "{\"s\":\"SUCCESS\",\"n\":1}]}");
  CHECK_INT(callJ(s, "job", "get", "{\"job_id\":\"job-v1old\",\"domain_id\":\"domain-a\"}", 1, &out), INV_OK);
  CHECK_STR(strField(&out, "status"), "ERROR");

  /* and the write side runs on the new indexes: the running job's three
  ** tasks finish, the job with them; the canceled job's task fails at its
  ** start; purge takes the v1 job of 2020 and the spot job of 2021 */
  {
    static const char *const azTask[] = {
      "job-task-226cf166a163", "job-task-a46fb829ea05", "job-task-07d4aaf55654"
    };
    char zReq[200];
    int i;
    inv_store_set_now(s, 1704240000000);
    for (i = 0; i < 3; i++) {
      snprintf(zReq, sizeof zReq, "{\"job_task_id\":\"%s\",\"domain_id\":\"domain-a\",\"status\":"
               "\"SUCCESS\"}", azTask[i]);
      CHECK_INT(callJ(s, "job_task", "finish", zReq, 1, NULL), INV_OK);
    }
    CHECK_INT(callJ(s, "job", "get", "{\"job_id\":\"job-646e86d7b09f\",\"domain_id\":\"domain-a\"}", 1, &out),
              INV_OK);
    CHECK_STR(strField(&out, "status"), "SUCCESS");
    CHECK_STR(strField(&out, "finished_at"), "2024-01-03T00:00:00.000Z");
    CHECK_INT(callJ(s, "job_task", "start", "{\"job_task_id\":\"job-task-2685938a1db3\",\"domain_id\":"
                    "\"domain-b\"}", 1, &out), INV_OK);
    CHECK_STR(strField(&out, "status"), "FAILURE");
    CHECK_INT(callJ(s, "store", "purge", "{\"older_than_days\":1000}", 1, &out), INV_OK);
    CHECK_INT(intField(&out, "jobs"), 2);
    CHECK_INT(intField(&out, "tasks"), 0);
    CHECK_INT(countRows(s, "SELECT count(*) FROM job"), 3);
  }
  inv_store_close(s);
  s = openAt(zPath, 1, zErr, sizeof zErr);         /* now a store of schema 3 */
  CHECK(s != NULL);
  inv_store_close(s);
  removeDb(zPath);
}

void test_store(void) {
  messagePieces();
  if (!TH_PG) openClose();             /* SQLite's files */
  if (!TH_PG) migrateV2();
  lifecycle();
  oomSameStore();
  if (!TH_PG) oomFreshStore();         /* a store per failure: thousands of opens */
}
