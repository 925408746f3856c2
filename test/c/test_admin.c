/*
** test_admin.c: operating a store (inv_admin.c): info, the integrity check
** and counter audit (clean after every kind of lifecycle step, and each
** broken counter reported), the online backup (a copy that opens and holds
** the same records; an existing file refused unless overwritten; the store's
** own file refused), export (paging cursor, domain and filter, hidden fields,
** JSON lines) and import of the text back into a fresh store, and waiting
** for another connection's commit.
*/
#define _POSIX_C_SOURCE 200809L
#include "tharness.h"
#include "tbackend.h"
#include "sqlite/sqlite_int.h"   /* these checks look inside SQLite (counters broken on purpose) */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

void test_admin(void);

/* ------------------------------------------------------------- helpers */

/* A store at zPath; on PostgreSQL a fresh schema whatever the path. */
static inv_store *openAt(const char *zPath) {
  inv_options o = INV_OPTIONS_INIT;
  inv_store *s = NULL;
  char zErr[512];
  o.zPath = TH_PG ? ":memory:" : zPath;
  if (th_open(&o, &s, zErr, sizeof zErr) != INV_OK) {
    fprintf(stderr, "test_admin: open %s: %s\n", zPath, zErr);
    return NULL;
  }
  return s;
}

/* Parse zReq, call, parse the JSON output into *pOut (when given). */
static int callJ(inv_store *s, const char *zRes, const char *zMethod, const char *zReq,
                 inv_val *pOut) {
  inv_val req;
  inv_json_sink js;
  char zErr[128];
  int rc;
  inv_store_begin(s);
  if (inv_json_parse(inv_store_arena(s), zReq, strlen(zReq), &req, zErr, sizeof zErr)) {
    fprintf(stderr, "test_admin: bad request JSON (%s): %s\n", zErr, zReq);
    return -1;
  }
  inv_json_sink_init(&js, inv_store_buffer(s));
  rc = inv_call(s, zRes, zMethod, &req, &js.base, 0);
  if (rc == INV_OK && pOut) {
    inv_buf *b = inv_store_buffer(s);
    if (!b->z || inv_json_parse(inv_store_arena(s), b->z, b->n, pOut, zErr, sizeof zErr)) return -1;
  }
  if (rc != INV_OK && getenv("INV_TEST_VERBOSE")) {
    fprintf(stderr, "  %s.%s: %s %s\n", zRes, zMethod, inv_store_errcode(s), inv_store_errmsg(s));
  }
  return rc;
}

/* Run an admin function that writes into a sink; parse its JSON output. */
typedef int (*SinkFn)(inv_store*, inv_sink*);
static int sinkJ(inv_store *s, SinkFn x, inv_val *pOut) {
  inv_json_sink js;
  char zErr[128];
  inv_store_begin(s);
  inv_json_sink_init(&js, inv_store_buffer(s));
  if (x(s, &js.base) != INV_OK) return INV_ERROR;
  if (!inv_store_buffer(s)->z
      || inv_json_parse(inv_store_arena(s), inv_store_buffer(s)->z, inv_store_buffer(s)->n,
                        pOut, zErr, sizeof zErr)) return -1;
  return INV_OK;
}

static const char *strField(const inv_val *o, const char *zKey) {
  const inv_val *v = inv_val_get(o, zKey);
  return v && v->t == INV_STR ? v->u.s.z : NULL;
}
static int64_t intField(const inv_val *o, const char *zKey) {
  const inv_val *v = inv_val_get(o, zKey);
  return v && v->t == INV_INT ? v->u.i : -999;
}

static int exec(inv_store *s, const char *zSql) {
  return th_exec(s, zSql) == 0 ? SQLITE_OK : SQLITE_ERROR;
}

static void removeDb(const char *zPath) {
  char z[600];
  unlink(zPath);
  snprintf(z, sizeof z, "%s-wal", zPath);
  unlink(z);
  snprintf(z, sizeof z, "%s-shm", zPath);
  unlink(z);
}

/* The check's verdict: 1 ok, 0 problems (the first copied to zFirst), -1 error. */
static int checkOk(inv_store *s, char *zFirst, size_t nFirst, int64_t *pnProblems) {
  inv_val out;
  const inv_val *ok, *pr;
  if (sinkJ(s, inv_store_check, &out) != INV_OK) return -1;
  ok = inv_val_get(&out, "ok");
  pr = inv_val_get(&out, "problems");
  if (!ok || ok->t != INV_BOOL || !pr || !inv_val_is_arr(pr)) return -1;
  if (pnProblems) *pnProblems = (int64_t)pr->u.arr.n;
  if (zFirst) {
    zFirst[0] = 0;
    if (pr->u.arr.n && pr->u.arr.a[0].t == INV_STR) snprintf(zFirst, nFirst, "%s", pr->u.arr.a[0].u.s.z);
  }
  return ok->u.b && pr->u.arr.n == 0;
}

/* Task ids of a job, in creation order. */
static int taskIds(inv_store *s, const char *zJob, char az[][48], int nMax) {
  char zReq[256];
  inv_val out;
  const inv_val *res;
  int i, n = 0;
  snprintf(zReq, sizeof zReq, "{\"domain_id\":\"d1\",\"job_id\":\"%s\","
           "\"query\":{\"sort\":[{\"key\":\"created_at\"}]}}", zJob);
  if (callJ(s, "job_task", "list", zReq, &out) != INV_OK) return 0;
  res = inv_val_get(&out, "results");
  for (i = 0; res && i < (int)res->u.arr.n && n < nMax; i++) {
    snprintf(az[n++], 48, "%s", strField(&res->u.arr.a[i], "job_task_id"));
  }
  return n;
}

static void taskCall(inv_store *s, const char *zMethod, const char *zTask, const char *zExtra) {
  char zReq[512];
  snprintf(zReq, sizeof zReq, "{\"domain_id\":\"d1\",\"job_task_id\":\"%s\"%s%s}", zTask,
           zExtra[0] ? "," : "", zExtra);
  CHECK_INT(callJ(s, "job_task", zMethod, zReq, NULL), INV_OK);
}

/* A store where every lifecycle step happened once: returns the job ids. */
static void lifecycle(inv_store *s, char zJob[3][48]) {
  inv_val out;
  char az[4][48];
  int n;
  /* job 0: 4 tasks (one with 2 sub-tasks): success, failure, a failure
  ** halfway through its sub-tasks, one deleted unfinished, one finished
  ** then deleted */
  CHECK_INT(callJ(s, "job", "create", "{\"domain_id\":\"d1\",\"collector_id\":\"c1\",\"tasks\":"
                  "[{\"secret_id\":\"s1\"},{\"secret_id\":\"s2\"},{\"secret_id\":\"s3\",\"sub_tasks\":2},"
                  "{\"secret_id\":\"s4\"}]}", &out), INV_OK);
  snprintf(zJob[0], 48, "%s", strField(&out, "job_id"));
  n = taskIds(s, zJob[0], az, 4);
  CHECK_INT(n, 4);
  if (n != 4) return;
  taskCall(s, "start", az[0], "");
  taskCall(s, "finish", az[0], "\"status\":\"SUCCESS\",\"created_count\":2");
  CHECK_INT(checkOk(s, NULL, 0, NULL), 1);
  taskCall(s, "add_error", az[1], "\"error_code\":\"E1\",\"message\":\"boom\"");
  taskCall(s, "finish", az[1], "\"status\":\"FAILURE\",\"failure_count\":1");
  CHECK_INT(checkOk(s, NULL, 0, NULL), 1);
  taskCall(s, "finish", az[2], "\"status\":\"FAILURE\"");   /* 1 of 2 sub-tasks: still open */
  CHECK_INT(checkOk(s, NULL, 0, NULL), 1);
  {
    char zReq[128];
    snprintf(zReq, sizeof zReq, "{\"domain_id\":\"d1\",\"job_task_id\":\"%s\"}", az[0]);
    CHECK_INT(callJ(s, "job_task", "delete", zReq, NULL), INV_OK);      /* finished */
    CHECK_INT(checkOk(s, NULL, 0, NULL), 1);
    snprintf(zReq, sizeof zReq, "{\"domain_id\":\"d1\",\"job_task_id\":\"%s\"}", az[3]);
    CHECK_INT(callJ(s, "job_task", "delete", zReq, NULL), INV_OK);      /* unfinished */
    CHECK_INT(checkOk(s, NULL, 0, NULL), 1);
  }
  taskCall(s, "finish", az[2], "\"status\":\"SUCCESS\"");   /* the last sub-task: FAILURE */
  CHECK_INT(checkOk(s, NULL, 0, NULL), 1);
  {
    char zReq[128];
    snprintf(zReq, sizeof zReq, "{\"domain_id\":\"d1\",\"job_id\":\"%s\"}", zJob[0]);
    CHECK_INT(callJ(s, "job", "get", zReq, &out), INV_OK);
    CHECK_STR(strField(&out, "status"), "FAILURE");
  }
  /* job 1: canceled, then a task started (fails), one left pending */
  CHECK_INT(callJ(s, "job", "create", "{\"domain_id\":\"d1\",\"collector_id\":\"c2\",\"tasks\":"
                  "[{\"secret_id\":\"s1\"},{\"secret_id\":\"s2\"}]}", &out), INV_OK);
  snprintf(zJob[1], 48, "%s", strField(&out, "job_id"));
  n = taskIds(s, zJob[1], az, 2);
  CHECK_INT(n, 2);
  {
    char zReq[128];
    snprintf(zReq, sizeof zReq, "{\"domain_id\":\"d1\",\"job_id\":\"%s\"}", zJob[1]);
    CHECK_INT(callJ(s, "job", "cancel", zReq, NULL), INV_OK);
  }
  if (n == 2) taskCall(s, "start", az[0], "");
  CHECK_INT(checkOk(s, NULL, 0, NULL), 1);
  /* job 2: in another domain, swept by the timeout */
  CHECK_INT(callJ(s, "job", "create", "{\"domain_id\":\"d2\",\"collector_id\":\"c1\",\"tasks\":"
                  "[{\"secret_id\":\"s1\"},{\"secret_id\":\"s2\"}]}", &out), INV_OK);
  snprintf(zJob[2], 48, "%s", strField(&out, "job_id"));
  inv_store_set_now(s, inv_time_now() + 3 * 3600 * 1000);
  CHECK_INT(callJ(s, "store", "sweep", "{\"timeout_hours\":2,\"domain_id\":\"d2\"}", &out), INV_OK);
  CHECK_INT(intField(&out, "jobs"), 1);
  inv_store_set_now(s, 0);
  CHECK_INT(checkOk(s, NULL, 0, NULL), 1);
}

/* ------------------------------------------------------------- tests */

static void infoAndCheck(void) {
  char zPath[64], zFirst[512], zJob[3][48];
  inv_store *s;
  inv_val out;
  int fd;
  int64_t n;
  snprintf(zPath, sizeof zPath, "/tmp/inv_test_admin_XXXXXX");
  fd = mkstemp(zPath);
  CHECK(fd >= 0);
  if (fd < 0) return;
  close(fd);
  s = openAt(zPath);
  CHECK(s != NULL);
  if (!s) { removeDb(zPath); return; }
  CHECK_INT(inv_schema_version(), INV_SCHEMA_VERSION);
  CHECK_INT(sinkJ(s, inv_store_info, &out), INV_OK);
  CHECK_STR(strField(&out, "backend"), TH_PG ? "postgresql" : "sqlite");
  if (TH_PG) CHECK(strField(&out, "engine_version") && strncmp(strField(&out, "engine_version"), "15", 2) == 0);
  else CHECK_STR(strField(&out, "engine_version"), sqlite3_libversion());
  CHECK_INT(intField(&out, "schema_version"), INV_SCHEMA_VERSION);
  CHECK(intField(&out, "size_bytes") > 0);
  if (TH_PG) CHECK(strField(&out, "path") && strstr(strField(&out, "path"), "(schema c") != NULL);
  else CHECK_STR(strField(&out, "path"), zPath);

  CHECK_INT(checkOk(s, NULL, 0, NULL), 1);               /* empty */
  lifecycle(s, zJob);
  CHECK(!th_in_tx(s));                   /* the check left no transaction */

  /* each broken counter is reported, naming the job */
  CHECK_INT(exec(s, "UPDATE job SET remained_tasks = remained_tasks + 1, total_tasks = total_tasks + 1 "
                    "WHERE collector_id = 'c2'"), SQLITE_OK);
  CHECK_INT(checkOk(s, zFirst, sizeof zFirst, &n), 0);
  CHECK_INT(n, 1);
  CHECK(strstr(zFirst, zJob[1]) != NULL && strstr(zFirst, "remained_tasks is 2, 1 of its 2 tasks") != NULL);
  CHECK_INT(exec(s, "UPDATE job SET remained_tasks = remained_tasks - 1, total_tasks = total_tasks - 1 "
                    "WHERE collector_id = 'c2'"), SQLITE_OK);
  CHECK_INT(checkOk(s, NULL, 0, NULL), 1);
  CHECK_INT(exec(s, "UPDATE job SET success_tasks = 0 "
                    "WHERE domain_id = 'd1' AND collector_id = 'c1'"), SQLITE_OK);
  CHECK_INT(checkOk(s, zFirst, sizeof zFirst, &n), 0);
  CHECK_INT(n, 1);     /* job 0 had 1 success: its finished SUCCESS task was deleted */
  CHECK(strstr(zFirst, "success_tasks + failure_tasks + remained_tasks") != NULL);
  CHECK_INT(exec(s, "UPDATE job SET failure_tasks = 0, success_tasks = 2 "
                    "WHERE domain_id = 'd1' AND collector_id = 'c1'"), SQLITE_OK);
  CHECK_INT(checkOk(s, zFirst, sizeof zFirst, &n), 0);
  CHECK(strstr(zFirst, "failure_tasks is 0, 2 of its tasks failed") != NULL);
  CHECK_INT(exec(s, "UPDATE job SET failure_tasks = 2, success_tasks = 1 "
                    "WHERE domain_id = 'd1' AND collector_id = 'c1'"), SQLITE_OK);
  CHECK_INT(checkOk(s, NULL, 0, NULL), 1);
  CHECK_INT(exec(s, "UPDATE job_task SET status = 'SUCCESS', remained_sub_tasks = 0 WHERE domain_id = 'd1' "
                    "AND status = 'PENDING'"), SQLITE_OK);
  CHECK_INT(checkOk(s, zFirst, sizeof zFirst, &n), 0);
  CHECK(strstr(zFirst, "remained_tasks is 1, 0 of its") != NULL);
  CHECK_INT(n, 2);     /* and its success_tasks (0) is below its 1 SUCCESS task */
  CHECK(!th_in_tx(s));
  inv_store_close(s);
  removeDb(zPath);
}

static int64_t countOf(inv_store *s, const char *zRes, const char *zDomain) {
  char zReq[128];
  inv_val out;
  snprintf(zReq, sizeof zReq, "{\"domain_id\":\"%s\",\"query\":{\"count_only\":true}}", zDomain);
  if (callJ(s, zRes, "list", zReq, &out) != INV_OK) return -1;
  return intField(&out, "total_count");
}

static void backup(void) {
  char zPath[64], zCopy[80], zJob[3][48];
  inv_store *s, *c;
  inv_val out;
  int fd;
  struct stat st;
  snprintf(zPath, sizeof zPath, "/tmp/inv_test_backup_XXXXXX");
  fd = mkstemp(zPath);
  CHECK(fd >= 0);
  if (fd < 0) return;
  close(fd);
  snprintf(zCopy, sizeof zCopy, "%s.copy", zPath);
  removeDb(zCopy);
  s = openAt(zPath);
  if (!s) { removeDb(zPath); return; }
  lifecycle(s, zJob);
  inv_store_begin(s);
  CHECK_INT(inv_store_backup(s, zCopy, 0), INV_OK);
  CHECK(stat(zCopy, &st) == 0 && (st.st_mode & 0777) == 0600);
  c = openAt(zCopy);
  CHECK(c != NULL);
  if (c) {
    char zA[4096], zB[4096];
    inv_buf *b;
    int64_t next;
    CHECK_INT(countOf(c, "job", "d1"), 2);
    CHECK_INT(countOf(c, "job_task", "d1"), 4);
    CHECK_INT(countOf(c, "job", "d2"), 1);
    /* the same records, field by field: the exports are equal */
    inv_store_begin(s);
    b = inv_store_buffer(s);
    CHECK_INT(inv_export(s, "job_task", NULL, NULL, b, &next), INV_ERROR);   /* a request is needed */
    CHECK_INT(callJ(s, "job", "list", "{\"domain_id\":\"d1\"}", NULL), INV_OK);
    {
      inv_val req;
      char zErr[64];
      inv_store_begin(s);
      inv_json_parse(inv_store_arena(s), "{}", 2, &req, zErr, sizeof zErr);
      CHECK_INT(inv_export(s, "job_task", &req, NULL, inv_store_buffer(s), &next), INV_OK);
      snprintf(zA, sizeof zA, "%s", inv_store_buffer(s)->z ? inv_store_buffer(s)->z : "");
      inv_store_begin(c);
      inv_json_parse(inv_store_arena(c), "{}", 2, &req, zErr, sizeof zErr);
      CHECK_INT(inv_export(c, "job_task", &req, NULL, inv_store_buffer(c), &next), INV_OK);
      snprintf(zB, sizeof zB, "%s", inv_store_buffer(c)->z ? inv_store_buffer(c)->z : "");
      CHECK(zA[0] != 0);
      CHECK_STR(zA, zB);
    }
    CHECK_INT(checkOk(c, NULL, 0, NULL), 1);
    inv_store_close(c);
  }
  /* an existing file is refused, unless overwritten; the store's own file always */
  inv_store_begin(s);
  CHECK_INT(inv_store_backup(s, zCopy, 0), INV_ERROR);
  CHECK_STR(inv_store_errcode(s), "ERROR_INVALID_PARAMETER");
  CHECK(strstr(inv_store_errmsg(s), "exists") != NULL);
  CHECK_INT(callJ(s, "job", "create", "{\"domain_id\":\"d1\",\"collector_id\":\"c9\"}", &out), INV_OK);
  inv_store_begin(s);
  CHECK_INT(inv_store_backup(s, zCopy, 1), INV_OK);
  c = openAt(zCopy);
  if (c) { CHECK_INT(countOf(c, "job", "d1"), 3); inv_store_close(c); }
  inv_store_begin(s);
  CHECK_INT(inv_store_backup(s, zPath, 1), INV_ERROR);
  CHECK(strstr(inv_store_errmsg(s), "own file") != NULL);
  inv_store_begin(s);
  CHECK_INT(inv_store_backup(s, "/nonexistent-dir-inv/x.db", 0), INV_ERROR);
  CHECK(strstr(inv_store_errmsg(s), "cannot create") != NULL);
  inv_store_close(s);
  removeDb(zPath);
  removeDb(zCopy);
}

static void exportImport(void) {
  inv_store *s = openAt(":memory:"), *t = openAt(":memory:");
  inv_val out, req;
  char zErr[128], zJob[3][48], *zAll = NULL;
  int64_t next = 0, after = 0;
  int nPages = 0, nRecs = 0;
  if (!s || !t) { inv_store_close(s); inv_store_close(t); return; }
  lifecycle(s, zJob);
  /* pages of 2 through the cursor, as a Lua caller would */
  do {
    char zReq[96];
    const inv_val *recs, *pNext;
    snprintf(zReq, sizeof zReq, "{\"limit\":2,\"after\":%lld}", (long long)after);
    CHECK_INT(callJ(s, "job_task", "list", "{\"domain_id\":\"d1\"}", NULL), INV_OK);
    inv_store_begin(s);
    inv_json_parse(inv_store_arena(s), zReq, strlen(zReq), &req, zErr, sizeof zErr);
    {
      inv_json_sink js;
      inv_json_sink_init(&js, inv_store_buffer(s));
      CHECK_INT(inv_export(s, "job_task", &req, &js.base, NULL, &next), INV_OK);
      CHECK_INT(inv_json_parse(inv_store_arena(s), inv_store_buffer(s)->z, inv_store_buffer(s)->n,
                               &out, zErr, sizeof zErr), 0);
    }
    recs = inv_val_get(&out, "records");
    pNext = inv_val_get(&out, "next");
    CHECK(recs && inv_val_is_arr(recs));
    if (!recs) break;
    nRecs += (int)recs->u.arr.n;
    if (recs->u.arr.n) {
      /* hidden fields are there */
      CHECK(inv_val_get(&recs->u.arr.a[0], "total_sub_tasks") != NULL);
      CHECK(inv_val_get(&recs->u.arr.a[0], "remained_sub_tasks") != NULL);
      CHECK(inv_val_get(&recs->u.arr.a[0], "collector_id") != NULL);
    }
    CHECK((pNext != NULL) == (next != 0));
    after = next;
    nPages++;
  } while (next && nPages < 10);
  CHECK_INT(nRecs, 6);            /* d1: 4 - 2 deleted + 2; d2: 2 */
  CHECK_INT(nPages, 3);

  /* domain and filter */
  inv_store_begin(s);
  inv_json_parse(inv_store_arena(s), "{\"domain_id\":\"d2\"}", 18, &req, zErr, sizeof zErr);
  CHECK_INT(inv_export(s, "job_task", &req, NULL, inv_store_buffer(s), &next), INV_OK);
  {
    const char *z = inv_store_buffer(s)->z;
    int nl = 0;
    for (; z && *z; z++) nl += *z == '\n';
    CHECK_INT(nl, 2);
    CHECK_INT(next, 0);
  }
  inv_store_begin(s);
  {
    static const char zQ[] = "{\"query\":{\"filter\":[{\"k\":\"status\",\"v\":\"FAILURE\",\"o\":\"eq\"}]}}";
    inv_json_parse(inv_store_arena(s), zQ, strlen(zQ), &req, zErr, sizeof zErr);
  }
  CHECK_INT(inv_export(s, "job_task", &req, NULL, inv_store_buffer(s), &next), INV_OK);
  {
    const char *z = inv_store_buffer(s)->z;
    int nl = 0;
    for (; z && *z; z++) nl += *z == '\n';
    CHECK_INT(nl, 5);             /* d1: 2 finished with FAILURE, 1 started in a canceled job; d2: 2 swept */
  }
  /* bad requests */
  inv_store_begin(s);
  inv_json_parse(inv_store_arena(s), "{\"limit\":0}", 11, &req, zErr, sizeof zErr);
  CHECK_INT(inv_export(s, "job", &req, NULL, inv_store_buffer(s), &next), INV_ERROR);
  CHECK_STR(inv_store_errcode(s), "ERROR_INVALID_PARAMETER");
  inv_store_begin(s);
  inv_json_parse(inv_store_arena(s), "{\"query\":{\"sort\":[]}}", 21, &req, zErr, sizeof zErr);
  CHECK_INT(inv_export(s, "job", &req, NULL, inv_store_buffer(s), &next), INV_ERROR);
  inv_store_begin(s);
  inv_json_parse(inv_store_arena(s), "{}", 2, &req, zErr, sizeof zErr);
  CHECK_INT(inv_export(s, "nope", &req, NULL, inv_store_buffer(s), &next), INV_ERROR);

  /* everything as JSON lines, imported into a fresh store: the same text back */
  {
    const char *azRes[] = { "job", "job_task" };
    int i;
    for (i = 0; i < 2; i++) {
      size_t n;
      inv_json_sink js;
      inv_store_begin(s);
      inv_json_parse(inv_store_arena(s), "{}", 2, &req, zErr, sizeof zErr);
      CHECK_INT(inv_export(s, azRes[i], &req, NULL, inv_store_buffer(s), &next), INV_OK);
      n = inv_store_buffer(s)->n;
      zAll = malloc(n + 1);
      if (!zAll) return;
      memcpy(zAll, inv_store_buffer(s)->z, n + 1);
      inv_store_begin(t);
      inv_json_sink_init(&js, inv_store_buffer(t));
      CHECK_INT(inv_import_text(t, azRes[i], zAll, n, &js.base), INV_OK);
      inv_store_begin(t);
      inv_json_parse(inv_store_arena(t), "{}", 2, &req, zErr, sizeof zErr);
      CHECK_INT(inv_export(t, azRes[i], &req, NULL, inv_store_buffer(t), &next), INV_OK);
      CHECK_STR(inv_store_buffer(t)->z, zAll);
      free(zAll);
    }
  }
  CHECK_INT(checkOk(t, NULL, 0, NULL), 1);
  /* a JSON array works too; a bad line is named; all or nothing */
  {
    inv_json_sink js;
    static const char zArr[] = " [{\"job_id\":\"job-x1\",\"domain_id\":\"d3\"}]";
    static const char zBad[] = "{\"job_id\":\"job-x2\",\"domain_id\":\"d3\"}\n\n{\"job_id\":";
    inv_store_begin(t);
    inv_json_sink_init(&js, inv_store_buffer(t));
    CHECK_INT(inv_import_text(t, "job", zArr, strlen(zArr), &js.base), INV_OK);
    CHECK_STR(inv_store_buffer(t)->z, "1");
    inv_store_begin(t);
    inv_json_sink_init(&js, inv_store_buffer(t));
    CHECK_INT(inv_import_text(t, "job", zBad, strlen(zBad), &js.base), INV_ERROR);
    CHECK(strstr(inv_store_errmsg(t), "line 3") != NULL);
    CHECK_INT(countOf(t, "job", "d3"), 1);
    inv_store_begin(t);
    inv_json_sink_init(&js, inv_store_buffer(t));
    CHECK_INT(inv_import_text(t, "job", "\n \n", 3, &js.base), INV_OK);   /* nothing: 0 */
    CHECK_STR(inv_store_buffer(t)->z, "0");
  }
  inv_store_close(s);
  inv_store_close(t);
}

static void waitChange(void) {
  char zPath[64];
  inv_store *a, *b;
  int fd, bChanged = -1;
  int64_t d, o;
  snprintf(zPath, sizeof zPath, "/tmp/inv_test_wait_XXXXXX");
  fd = mkstemp(zPath);
  if (fd < 0) { CHECK(0); return; }
  close(fd);
  a = openAt(zPath);
  b = TH_PG ? (a ? th_reopen(a) : NULL) : openAt(zPath);
  if (a && b) {
    inv_store_begin(a);
    CHECK_INT(inv_store_version(a, &d, &o), INV_OK);
    CHECK_INT(inv_store_wait_change(a, d, 150, 50, &bChanged), INV_OK);
    CHECK_INT(bChanged, 0);                               /* nothing happened */
    CHECK_INT(callJ(b, "job", "create", "{\"domain_id\":\"d1\",\"collector_id\":\"c\"}", NULL), INV_OK);
    inv_store_begin(a);
    CHECK_INT(inv_store_wait_change(a, d, 5000, 20, &bChanged), INV_OK);
    CHECK_INT(bChanged, 1);                               /* b committed */
    /* SQLite: this connection's own writes do not count (data_version is for
    ** others); PostgreSQL's version is the store's commit counter: they do */
    CHECK_INT(inv_store_version(a, &d, &o), INV_OK);
    CHECK_INT(callJ(a, "job", "create", "{\"domain_id\":\"d1\",\"collector_id\":\"c\"}", NULL), INV_OK);
    inv_store_begin(a);
    CHECK_INT(inv_store_wait_change(a, d, 0, 100, &bChanged), INV_OK);
    CHECK_INT(bChanged, TH_PG ? 1 : 0);
  }
  inv_store_close(a);
  inv_store_close(b);
  removeDb(zPath);
}

/* the exporters' summary: counts by domain and status, finished jobs of the
** window, the oldest IN_PROGRESS job per domain */
static void metrics(void) {
  inv_store *s = openAt(":memory:");
  char zJob[3][48];
  inv_val out;
  const inv_val *a;
  size_t i;
  int64_t nJobs = 0, nTasks = 0;
  if (!s) return;
  lifecycle(s, zJob);
  CHECK_INT(callJ(s, "store", "metrics", "{}", &out), INV_OK);
  a = inv_val_get(&out, "jobs");
  CHECK(a && inv_val_is_arr(a));
  for (i = 0; a && i < a->u.arr.n; i++) nJobs += intField(&a->u.arr.a[i], "count");
  CHECK_INT(nJobs, 3);
  a = inv_val_get(&out, "job_tasks");
  for (i = 0; a && i < a->u.arr.n; i++) {
    const inv_val *r = &a->u.arr.a[i];
    nTasks += intField(r, "count");
    if (strcmp(strField(r, "domain_id"), "d2") == 0) {
      CHECK_STR(strField(r, "status"), "FAILURE");      /* swept */
      CHECK_INT(intField(r, "count"), 2);
    }
  }
  CHECK_INT(nTasks, 6);
  a = inv_val_get(&out, "finished");
  CHECK(a && a->u.arr.n == 2);     /* d1: failed, canceled (d2 was swept 3 h ahead of now) */
  a = inv_val_get(&out, "oldest_in_progress");
  CHECK(a && a->u.arr.n == 0);
  CHECK(intField(&out, "size_bytes") > 0);
  CHECK_INT(callJ(s, "job", "create", "{\"domain_id\":\"d3\",\"collector_id\":\"c\","
                  "\"tasks\":[{}]}", NULL), INV_OK);
  inv_store_set_now(s, inv_time_now() + 7200 * 1000);
  CHECK_INT(callJ(s, "store", "metrics", "{\"window_seconds\":60}", &out), INV_OK);
  a = inv_val_get(&out, "finished");
  CHECK(a && a->u.arr.n == 0);                          /* nothing in the last minute */
  a = inv_val_get(&out, "oldest_in_progress");
  CHECK(a && a->u.arr.n == 1);
  if (a && a->u.arr.n == 1) {
    const inv_val *age = inv_val_get(&a->u.arr.a[0], "age_seconds");
    double d = 0;
    CHECK(age && inv_val_number(age, &d) && d >= 7199 && d < 7300);
    CHECK_STR(strField(&a->u.arr.a[0], "domain_id"), "d3");
  }
  CHECK_INT(callJ(s, "store", "metrics", "{\"window_seconds\":\"x\"}", NULL), INV_ERROR);
  CHECK_INT(callJ(s, "store", "metrics", "{\"nope\":1}", NULL), INV_ERROR);
  CHECK(!th_in_tx(s));
  inv_store_close(s);
}

/* ---------------------------------------- stored documents into a sink */

/* A sink of events only (no xJson, no xKeyId, not a JSON sink): each event
** goes on to a JSON sink, and the depth is counted. Rows reach it through
** the one-pass replay of stored documents. */
typedef struct EvSink EvSink;
struct EvSink { inv_sink base; inv_json_sink *pTo; int nDepth, bNeg; };
static void evBeginObj(inv_sink *k, int n) {
  EvSink *e = (EvSink*)k; e->nDepth++; e->pTo->base.xBeginObj(&e->pTo->base, n);
}
static void evEndObj(inv_sink *k) {
  EvSink *e = (EvSink*)k; if (--e->nDepth < 0) e->bNeg = 1; e->pTo->base.xEndObj(&e->pTo->base);
}
static void evBeginArr(inv_sink *k, int n) {
  EvSink *e = (EvSink*)k; e->nDepth++; e->pTo->base.xBeginArr(&e->pTo->base, n);
}
static void evEndArr(inv_sink *k) {
  EvSink *e = (EvSink*)k; if (--e->nDepth < 0) e->bNeg = 1; e->pTo->base.xEndArr(&e->pTo->base);
}
static void evKey(inv_sink *k, const char *z, size_t n) { ((EvSink*)k)->pTo->base.xKey(&((EvSink*)k)->pTo->base, z, n); }
static void evNull(inv_sink *k) { ((EvSink*)k)->pTo->base.xNull(&((EvSink*)k)->pTo->base); }
static void evBool(inv_sink *k, int b) { ((EvSink*)k)->pTo->base.xBool(&((EvSink*)k)->pTo->base, b); }
static void evInt(inv_sink *k, int64_t i) { ((EvSink*)k)->pTo->base.xInt(&((EvSink*)k)->pTo->base, i); }
static void evReal(inv_sink *k, double r) { ((EvSink*)k)->pTo->base.xReal(&((EvSink*)k)->pTo->base, r); }
static void evStr(inv_sink *k, const char *z, size_t n) { ((EvSink*)k)->pTo->base.xStr(&((EvSink*)k)->pTo->base, z, n); }

/* Call zMethod on job_task with zReq through an event sink (bEvents) or a
** JSON sink; the text written into *pOut (a copy), the event sink's depth
** into *pRes, the result code back. */
static int callStored(inv_store *s, const char *zMethod, const char *zReq, int bEvents,
                      inv_buf *pOut, EvSink *pRes) {
  inv_val req;
  inv_json_sink js;
  EvSink ev, *pEv = &ev;
  char zErr[128];
  int rc;
  inv_store_begin(s);
  if (inv_json_parse(inv_store_arena(s), zReq, strlen(zReq), &req, zErr, sizeof zErr)) return -9;
  inv_json_sink_init(&js, inv_store_buffer(s));
  memset(pEv, 0, sizeof *pEv);
  pEv->base.xBeginObj = evBeginObj; pEv->base.xEndObj = evEndObj;
  pEv->base.xBeginArr = evBeginArr; pEv->base.xEndArr = evEndArr;
  pEv->base.xKey = evKey; pEv->base.xNull = evNull; pEv->base.xBool = evBool;
  pEv->base.xInt = evInt; pEv->base.xReal = evReal; pEv->base.xStr = evStr;
  pEv->pTo = &js;
  rc = inv_call(s, "job_task", zMethod, &req, bEvents ? &pEv->base : &js.base, 1);
  inv_buf_reset(pOut);
  inv_buf_add(pOut, inv_store_buffer(s)->z ? inv_store_buffer(s)->z : "", inv_store_buffer(s)->n);
  pRes->nDepth = ev.nDepth;
  pRes->bNeg = ev.bNeg;
  return rc;
}

static void storedDocs(void) {
  inv_store *s = openAt(":memory:");
  inv_json_sink js;
  inv_buf a, b;
  EvSink ev;
  int i, k;
  static const char zTasks[] =
    "{\"job_task_id\":\"job-task-doc1\",\"job_id\":\"job-doc1\",\"domain_id\":\"d1\","
    "\"errors\":[{\"error_code\":\"E1\",\"message\":\"a \\\"quoted\\\" \\u00e9 line\\nnext\","
    "\"additional\":{\"n\":[1,-2.5,true,null,{\"deep\":[[]]}]}}],\"created_at\":\"2024-01-01T00:00:00.000Z\"}\n"
    "{\"job_task_id\":\"job-task-doc2\",\"job_id\":\"job-doc1\",\"domain_id\":\"d1\","
    "\"errors\":[{\"error_code\":\"E2\",\"message\":\"m\"}],\"created_at\":\"2024-01-02T00:00:00.000Z\"}\n";
  static const char *azBad[] = { "[{\"error_code\":\"E1\",\"message\":", "nope", "[{\"a\":1}] x", "[1,2,",
                                 "\"open" };
  static const char *azReq[] = {
    "{\"domain_id\":\"d1\",\"job_task_id\":\"job-task-doc1\"}",
    "{\"domain_id\":\"d1\",\"query\":{\"sort\":[{\"key\":\"created_at\"}]}}",
    "{\"domain_id\":\"d1\",\"query\":{\"only\":[\"job_task_id\",\"errors.error_code\"]}}",
  };
  static const char *azMethod[] = { "get", "list", "list" };
  if (!s) { CHECK(0); return; }
  inv_buf_init(&a);
  inv_buf_init(&b);
  inv_store_begin(s);
  inv_json_sink_init(&js, inv_store_buffer(s));
  CHECK_INT(inv_import_text(s, "job_task", zTasks, strlen(zTasks), &js.base), INV_OK);
  /* as stored: the event sink (one-pass replay) writes what the JSON sink
  ** (the text spliced) writes, byte for byte, balanced */
  for (k = 0; k < 3; k++) {
    CHECK_INT(callStored(s, azMethod[k], azReq[k], 0, &a, &ev), INV_OK);
    CHECK_INT(callStored(s, azMethod[k], azReq[k], 1, &b, &ev), INV_OK);
    CHECK(a.n > 0 && a.n == b.n && memcmp(a.z, b.z, a.n) == 0);
    CHECK(ev.nDepth == 0 && !ev.bNeg);
    CHECK(strstr(a.z ? a.z : "", "\"E1\"") != NULL);
  }
  CHECK(strstr(a.z ? a.z : "", "\"E2\"") != NULL);
  /* a document that is not JSON after all: both sinks fail the call with
  ** ERROR_DB_QUERY; the row's events stay balanced; the next call goes on */
  for (i = 0; i < (int)(sizeof azBad / sizeof azBad[0]); i++) {
    char zSql[256];
    snprintf(zSql, sizeof zSql, "UPDATE job_task SET errors = '%s' WHERE job_task_id = 'job-task-doc1'", azBad[i]);
    CHECK_INT(th_exec(s, zSql), 0);
    for (k = 0; k < 3; k++) {
      CHECK_INT(callStored(s, azMethod[k], azReq[k], 0, &a, &ev), INV_ERROR);
      CHECK_STR(inv_store_errcode(s), "ERROR_DB_QUERY");
      CHECK_STR(inv_store_errmsg(s), "Database query failed. (reason = the stored errors is not valid JSON)");
      CHECK(strstr(a.z ? a.z : "", azBad[i]) == NULL);          /* never spliced */
      CHECK_INT(callStored(s, azMethod[k], azReq[k], 1, &b, &ev), INV_ERROR);
      CHECK_STR(inv_store_errcode(s), "ERROR_DB_QUERY");
      CHECK(!ev.bNeg);
      if (k == 0) CHECK_INT(ev.nDepth, 0);                        /* get: the row itself closed */
    }
    CHECK_INT(callStored(s, "get", "{\"domain_id\":\"d1\",\"job_task_id\":\"job-task-doc2\"}", 1, &b, &ev),
              INV_OK);
    CHECK(strstr(b.z ? b.z : "", "\"E2\"") != NULL && ev.nDepth == 0);
  }
  inv_buf_free(&a);
  inv_buf_free(&b);
  inv_store_close(s);
}

void test_admin(void) {
  metrics();
  infoAndCheck();
  if (!TH_PG) backup();                /* SQLite's online backup (PostgreSQL: pg_dump) */
  exportImport();
  waitChange();
  storedDocs();
}
