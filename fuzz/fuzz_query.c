/*
** fuzz_query.c: libFuzzer target for the request compiler (filter, sort,
** page, only, keyword) behind job.list and job_task.list.
**
** One :memory: store is opened once, with a few imported records. Each input
** is parsed as JSON; an object is the request itself when it has a
** "domain_id", else the query of {"domain_id":"d1","query":<input>}. It runs
** through inv_call(job, list) and inv_call(job_task, list).
**
** Besides crashes, leaks and UB (ASan/UBSan), the target aborts when an
** invariant breaks:
**   - a call returns something else than INV_OK / INV_ERROR;
**   - a failed call has no error code, or a call leaves a transaction open;
**   - a successful call's output is not JSON, or is not
**     {"results":[...], "total_count":N} with len(results) <= N <= records.
** With FUZZ_STRICT=1 in the environment it also aborts on an ERROR_DB_QUERY
** whose reason is an SQLite compile/runtime error (syntax error, wrong number
** of arguments, JSON path error, ...): the compiler produced bad SQL.
**
** Build and run: make fuzz [FUZZ_SECONDS=60]
** Reproduce:     ./build/fuzz_query <file>
*/
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inv_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inv_store *pStore;
static int bStrict;

#define N_JOBS  4
#define N_TASKS 3

static const char zJobs[] =
  "{\"records\":["
  "{\"job_id\":\"job-aaa111\",\"status\":\"SUCCESS\",\"total_tasks\":3,"
  "\"collector_id\":\"collector-1\",\"plugin_id\":\"plugin-aws\",\"domain_id\":\"d1\","
  "\"workspace_id\":\"*\",\"created_at\":\"2024-01-01T00:00:00Z\","
  "\"finished_at\":\"2024-01-01T00:10:00Z\",\"filter\":{\"a\":1,\"t\":[\"x\",{\"y\":2}],"
  "\"s\":\"H\\u00e9llo\"},\"collector_info\":{\"provider\":\"aws\"}},"
  "{\"job_id\":\"job-bbb222\",\"status\":\"FAILURE\",\"total_tasks\":5,"
  "\"collector_id\":\"collector-1\",\"plugin_id\":\"plugin-aws\",\"domain_id\":\"d1\","
  "\"workspace_id\":\"ws-1\",\"created_at\":\"2024-01-02T00:00:00Z\","
  "\"finished_at\":\"2024-01-02T00:20:00Z\",\"filter\":{\"a\":2.5,\"t\":\"x\",\"s\":null},"
  "\"errors\":[{\"error_code\":\"E_A\",\"message\":\"m\",\"additional\":{\"k\":[1,2]}}]},"
  "{\"job_id\":\"job-ccc333\",\"status\":\"IN_PROGRESS\",\"total_tasks\":2,"
  "\"collector_id\":\"collector-2\",\"domain_id\":\"d1\",\"created_at\":\"2024-01-03T00:00:00Z\","
  "\"filter\":{}},"
  "{\"job_id\":\"job-ddd444\",\"status\":\"CANCELED\",\"collector_id\":\"collector-2\","
  "\"domain_id\":\"d2\",\"created_at\":\"2024-01-04T00:00:00Z\","
  "\"finished_at\":\"2024-01-04T01:00:00Z\"}"
  "]}";

static const char zTasks[] =
  "{\"records\":["
  "{\"job_task_id\":\"job-task-001\",\"job_id\":\"job-aaa111\",\"status\":\"SUCCESS\","
  "\"provider\":\"aws\",\"created_count\":10,\"errors\":[],\"project_id\":\"project-1\","
  "\"domain_id\":\"d1\",\"created_at\":\"2024-01-01T00:01:00Z\"},"
  "{\"job_task_id\":\"job-task-002\",\"job_id\":\"job-bbb222\",\"status\":\"FAILURE\","
  "\"provider\":\"aws\",\"failure_count\":2,\"project_id\":\"project-2\",\"domain_id\":\"d1\","
  "\"errors\":[{\"error_code\":\"E_A\",\"message\":\"timeout\",\"additional\":{}},"
  "{\"error_code\":\"E_B\",\"message\":\"denied\",\"additional\":{\"resource_type\":\"x.Y\"}}],"
  "\"created_at\":\"2024-01-02T00:01:00Z\"},"
  "{\"job_task_id\":\"job-task-003\",\"job_id\":\"job-bbb222\",\"status\":\"FAILURE\","
  "\"provider\":null,\"domain_id\":\"d1\",\"workspace_id\":\"ws-1\",\"errors\":["
  "{\"error_code\":\"E_A\",\"message\":\"Timeout again\"}],"
  "\"created_at\":\"2024-01-02T00:02:00Z\"}"
  "]}";

static void die(const char *zWhat, const char *zDetail) {
  fprintf(stderr, "fuzz_query: %s: %s\n", zWhat, zDetail ? zDetail : "");
  abort();
}

static void importRecords(const char *zRes, const char *zJson) {
  inv_val v;
  inv_json_sink js;
  char zErr[128];
  inv_store_begin(pStore);
  if (inv_json_parse(inv_store_arena(pStore), zJson, strlen(zJson), &v, zErr, sizeof zErr)) {
    die("seed records", zErr);
  }
  inv_json_sink_init(&js, inv_store_buffer(pStore));
  if (inv_call(pStore, zRes, "import", &v, &js.base, 1) != INV_OK) {
    die("import", inv_store_errmsg(pStore));
  }
}

static void setup(void) {
  inv_options o = INV_OPTIONS_INIT;
  char zErr[256];
  o.zPath = ":memory:";
  if (inv_store_open(&o, &pStore, zErr, sizeof zErr)) die("open", zErr);
  inv_store_set_now(pStore, 1704369600000);       /* 2024-01-04T12:00:00Z: deterministic */
  importRecords("job", zJobs);
  importRecords("job_task", zTasks);
  bStrict = getenv("FUZZ_STRICT") != NULL && getenv("FUZZ_STRICT")[0] == '1';
}

/* Reasons that mean the compiler produced SQL SQLite refused: the reason
** starts with an SQLite message (user text only ever follows our own
** prefixes such as "Cannot resolve field"). */
static int badSql(const char *zMsg) {
  static const char zHead[] = "Database query failed. (reason = ";
  static const char *const az[] = {
    "near \"", "wrong number of arguments", "JSON path error", "bad JSON path",
    "no such column", "no such function", "unrecognized token", "malformed JSON",
    "incomplete input", "parser stack overflow", "too many SQL variables",
    "Expression tree is too large", "at most", "bad parameter", "column index out of range",
    "not an error", "SQL logic error", NULL
  };
  int i;
  if (strncmp(zMsg, zHead, sizeof zHead - 1) != 0) return 0;
  zMsg += sizeof zHead - 1;
  for (i = 0; az[i]; i++) if (strncmp(zMsg, az[i], strlen(az[i])) == 0) return 1;
  return 0;
}

static void runOne(const char *zRes, int nRecords, const uint8_t *data, size_t size) {
  inv_store *s = pStore;
  inv_val v, req, out;
  inv_kv *kv;
  inv_json_sink js;
  inv_buf *b;
  char zErr[128];
  int rc;

  inv_store_begin(s);
  if (inv_json_parse(inv_store_arena(s), (const char *)data, size, &v, zErr, sizeof zErr)) return;
  if (v.t != INV_OBJ) return;
  if (inv_val_get(&v, "domain_id")) {
    req = v;
  } else {
    kv = inv_arena_alloc(inv_store_arena(s), sizeof(inv_kv) * 2);
    if (!kv) die("arena", "out of memory");
    memset(kv, 0, sizeof(inv_kv) * 2);
    kv[0].zKey = "domain_id"; kv[0].nKey = 9;
    kv[0].v.t = INV_STR; kv[0].v.u.s.z = "d1"; kv[0].v.u.s.n = 2;
    kv[1].zKey = "query"; kv[1].nKey = 5;
    kv[1].v = v;
    memset(&req, 0, sizeof req);
    req.t = INV_OBJ; req.u.obj.a = kv; req.u.obj.n = 2;
  }
  b = inv_store_buffer(s);
  inv_json_sink_init(&js, b);
  rc = inv_call(s, zRes, "list", &req, &js.base, 1);

  if (!sqlite3_get_autocommit(s->db)) die("transaction left open", zRes);
  if (rc == INV_ERROR) {
    if (!inv_store_errcode(s)[0]) die("error without a code", zRes);
    if (bStrict && strcmp(inv_store_errcode(s), "ERROR_DB_QUERY") == 0
        && badSql(inv_store_errmsg(s))) {
      die("bad SQL", inv_store_errmsg(s));
    }
    return;
  }
  if (rc != INV_OK) die("bad return code", zRes);
  if (b->bOom) die("output", "out of memory");
  if (!b->z || inv_json_parse(inv_store_arena(s), b->z, b->n, &out, zErr, sizeof zErr)) {
    die("output is not JSON", b->z);
  }
  {
    const inv_val *res = inv_val_get(&out, "results");
    const inv_val *tot = inv_val_get(&out, "total_count");
    if (!res || !inv_val_is_arr(res) || !tot || tot->t != INV_INT) die("output shape", b->z);
    if ((int64_t)res->u.arr.n > tot->u.i || tot->u.i > nRecords || tot->u.i < 0) {
      die("results/total_count", b->z);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!pStore) setup();
  runOne("job", N_JOBS, data, size);
  runOne("job_task", N_TASKS, data, size);
  return 0;
}
