/*
** fuzz/fixture.h: the store every request fuzzer runs against: a :memory:
** store with a few jobs and tasks (nested filters, errors, nulls) and a
** frozen clock, so that runs are deterministic. Define FUZZ_NAME first.
*/
#ifndef FUZZ_FIXTURE_H
#define FUZZ_FIXTURE_H

static inv_store *pStore;

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
  fprintf(stderr, "%s: %s: %s\n", FUZZ_NAME, zWhat, zDetail ? zDetail : "");
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

static void openFixture(void) {
  inv_options o = INV_OPTIONS_INIT;
  char zErr[256];
  o.zPath = ":memory:";
  if (inv_store_open(&o, &pStore, zErr, sizeof zErr)) die("open", zErr);
  inv_store_set_now(pStore, 1704369600000);       /* 2024-01-04T12:00:00Z: deterministic */
  importRecords("job", zJobs);
  importRecords("job_task", zTasks);
}

#endif
