/*
** test_stat.c: the stat pipeline compiler (inv_stat.c) from the outside,
** through inv_call(s, "job"|"job_task", "stat"|"analyze", req, json sink, 1).
**
** Every statement the store runs is captured with sqlite3_trace_v2 on the
** store's connection: sqlite3_sql() gives the text SQLite prepared ('?' for
** each parameter), sqlite3_expanded_sql() the same with the bound values.
** The properties checked:
**   - marker strings placed in group key names, field names, push sub-field
**     names, paths, values and date_format strings never appear in the
**     prepared text; values and paths appear only as bound parameters, and
**     output names do not reach SQL at all (they live in C and come back
**     verbatim as JSON keys, whatever they hold);
**   - the prepared text holds no ';', no comment, no double quote, and only
**     string literals of our own;
**   - two requests that differ only in names and values prepare the same
**     text (one cached statement);
**   - a malformed stage fails before any statement runs, with the wrapped
**     ERROR_DB_QUERY message.
** The dataset is reference/query.md Appendix A (jobs J1-J4, tasks T1-T3).
**
** On PostgreSQL (tbackend.h) the statements are read back from the
** driver's statement cache (texts, bound values); the literal vocabulary is
** SQLite's, and its SQL functions have PostgreSQL twins checked alike.
*/
#include "tharness.h"
#include "tbackend.h"
#include "sqlite/sqlite_int.h"   /* SQLite's trace */

#include <stdlib.h>
#include <string.h>

void test_stat(void);

/* Markers: a quote of each kind, an SQL comment and a statement end. */
#define MARK   "zz'SMARK\\\"--;"         /* as written inside a JSON string */
#define MARKRAW "zz'SMARK\"--;"          /* the same, decoded */
#define EVIL   "x\\\") FROM job; --"     /* JSON for: x") FROM job; -- */

/* ---------------------------------------------------------------- data */

static const char zStatJobs[] =
  "{\"records\":["
  "{\"job_id\":\"job-aaa111\",\"status\":\"SUCCESS\",\"total_tasks\":3,"
  "\"collector_id\":\"collector-1\",\"plugin_id\":\"plugin-aws\","
  "\"created_at\":\"2024-01-01T00:00:00.000Z\",\"updated_at\":\"2024-01-01T00:00:00.000Z\","
  "\"finished_at\":\"2024-01-01T00:10:00.000Z\",\"resource_group\":\"DOMAIN\","
  "\"workspace_id\":\"*\",\"domain_id\":\"domain-1\",\"filter\":{\"zz'SMARK\":1}},"
  "{\"job_id\":\"job-bbb222\",\"status\":\"FAILURE\",\"total_tasks\":5,"
  "\"collector_id\":\"collector-1\",\"plugin_id\":\"plugin-aws\","
  "\"created_at\":\"2024-01-02T00:00:00.000Z\",\"updated_at\":\"2024-01-02T00:00:00.000Z\","
  "\"finished_at\":\"2024-01-02T00:20:00.000Z\",\"resource_group\":\"DOMAIN\","
  "\"workspace_id\":\"*\",\"domain_id\":\"domain-1\"},"
  "{\"job_id\":\"job-ccc333\",\"status\":\"IN_PROGRESS\",\"total_tasks\":2,"
  "\"collector_id\":\"collector-2\",\"plugin_id\":\"plugin-gcp\","
  "\"created_at\":\"2024-01-03T00:00:00.000Z\",\"updated_at\":\"2024-01-03T00:00:00.000Z\","
  "\"resource_group\":\"DOMAIN\",\"workspace_id\":\"*\",\"domain_id\":\"domain-1\"},"
  "{\"job_id\":\"job-ddd444\",\"status\":\"CANCELED\",\"total_tasks\":0,"
  "\"collector_id\":\"collector-2\",\"plugin_id\":\"plugin-gcp\","
  "\"created_at\":\"2024-01-04T00:00:00.000Z\",\"updated_at\":\"2024-01-04T00:00:00.000Z\","
  "\"finished_at\":\"2024-01-04T01:00:00.000Z\",\"resource_group\":\"DOMAIN\","
  "\"workspace_id\":\"*\",\"domain_id\":\"domain-1\"}"
  "]}";

static const char zStatTasks[] =
  "{\"records\":["
  "{\"job_task_id\":\"job-task-001\",\"job_id\":\"job-aaa111\",\"status\":\"SUCCESS\","
  "\"provider\":\"aws\",\"created_count\":10,\"errors\":[],"
  "\"created_at\":\"2024-01-01T00:01:00.000Z\",\"domain_id\":\"domain-1\"},"
  "{\"job_task_id\":\"job-task-002\",\"job_id\":\"job-bbb222\",\"status\":\"FAILURE\","
  "\"provider\":\"aws\",\"created_count\":1,\"failure_count\":2,\"errors\":["
  "{\"error_code\":\"E_A\",\"message\":\"timeout\",\"additional\":{}},"
  "{\"error_code\":\"E_B\",\"message\":\"denied\","
  "\"additional\":{\"resource_type\":\"inventory.CloudService\"}}],"
  "\"created_at\":\"2024-01-02T00:01:00.000Z\",\"domain_id\":\"domain-1\"},"
  "{\"job_task_id\":\"job-task-003\",\"job_id\":\"job-bbb222\",\"status\":\"FAILURE\","
  "\"provider\":null,\"failure_count\":1,\"errors\":["
  "{\"error_code\":\"E_A\",\"message\":\"Timeout again\",\"additional\":{}}],"
  "\"created_at\":\"2024-01-02T00:02:00.000Z\",\"domain_id\":\"domain-1\"}"
  "]}";

/* ------------------------------------------------------------- tracing */

typedef struct Trace Trace;
struct Trace {
  inv_buf sql;            /* prepared texts, one per line */
  inv_buf expanded;       /* the same with bound values */
  int nStmt;              /* statements started */
  int nWith;              /* ... of them a stat pipeline ("WITH s0 ...") */
};
static Trace trace;

static int traceCb(unsigned eType, void *pCtx, void *P, void *X) {
  sqlite3_stmt *pStmt = P;
  const char *zSql;
  char *zExp;
  (void)pCtx; (void)X;
  if (eType != SQLITE_TRACE_STMT) return 0;
  zSql = sqlite3_sql(pStmt);
  if (!zSql) return 0;
  trace.nStmt++;
  if (strncmp(zSql, "WITH s0", 7) == 0) trace.nWith++;
  inv_buf_adds(&trace.sql, zSql);
  inv_buf_addc(&trace.sql, '\n');
  zExp = sqlite3_expanded_sql(pStmt);
  if (zExp) {
    inv_buf_adds(&trace.expanded, zExp);
    sqlite3_free(zExp);
  }
  inv_buf_addc(&trace.expanded, '\n');
  return 0;
}

static void traceReset(void) {
  inv_buf_reset(&trace.sql);
  inv_buf_reset(&trace.expanded);
  if (trace.sql.z) trace.sql.z[0] = 0;
  if (trace.expanded.z) trace.expanded.z[0] = 0;
  trace.nStmt = trace.nWith = 0;
}
static const char *traceSql(void) { return trace.sql.z ? trace.sql.z : ""; }
static const char *traceExp(void) { return trace.expanded.z ? trace.expanded.z : ""; }

/* ------------------------------------------------------------- calling */

static int parseReq(inv_store *s, const char *zJson, inv_val *pOut) {
  char zErr[128];
  int rc = inv_json_parse(inv_store_arena(s), zJson, strlen(zJson), pOut, zErr, sizeof zErr);
  if (rc) fprintf(stderr, "test_stat: bad JSON in a test (%s): %s\n", zErr, zJson);
  return rc;
}

/* inv_call with a JSON request, traced from a clean slate; the JSON output
** is in inv_store_buffer(s). */
static int call(inv_store *s, const char *zRes, const char *zMethod, const char *zReq) {
  inv_val req;
  inv_json_sink js;
  int rc;
  inv_store_begin(s);
  if (parseReq(s, zReq, &req)) return -1;
  traceReset();
  th_trace_mark(s);
  inv_json_sink_init(&js, inv_store_buffer(s));
  rc = inv_call(s, zRes, zMethod, &req, &js.base, 1);
  if (TH_PG) trace.nWith = th_trace_collect(s, &trace.sql, &trace.expanded, "WITH s0");
  return rc;
}
static const char *out(inv_store *s) {
  inv_buf *b = inv_store_buffer(s);
  return b->z ? b->z : "";
}

/* stat on domain-1 with the given query (JSON text) */
static int stat(inv_store *s, const char *zRes, const char *zQuery) {
  inv_buf b;
  int rc;
  inv_buf_init(&b);
  inv_buf_printf(&b, "{\"domain_id\":\"domain-1\",\"query\":%s}", zQuery);
  rc = b.bOom ? -1 : call(s, zRes, "stat", b.z);
  inv_buf_free(&b);
  return rc;
}
static int analyze(inv_store *s, const char *zQuery) {
  inv_buf b;
  int rc;
  inv_buf_init(&b);
  inv_buf_printf(&b, "{\"domain_id\":\"domain-1\",\"query\":%s}", zQuery);
  rc = b.bOom ? -1 : call(s, "job", "analyze", b.z);
  inv_buf_free(&b);
  return rc;
}

static inv_store *openStore(void) {
  inv_store *s = th_open_memory("test_stat");
  if (!s) return NULL;
  CHECK_INT(call(s, "job", "import", zStatJobs), INV_OK);
  CHECK_STR(out(s), "4");
  CHECK_INT(call(s, "job_task", "import", zStatTasks), INV_OK);
  CHECK_STR(out(s), "3");
  if (!TH_PG) sqlite3_trace_v2(SQLITE_DB(s), SQLITE_TRACE_STMT, traceCb, NULL);
  return s;
}

/* ------------------------------------------------------ SQL inspection */

/* String literals the compilers may write: JSON type names, JSON paths and
** datetime formats of our own, arithmetic operator names. */
static const char *const azStatLit[] = {
  "array", "object", "null", "text", "integer", "real", "true", "false", "\\",
  "$", "$.k", "$.v", "$[0]", "$[1]", "[0]",
  "%Y", "%m", "%d", "%Y-%m-%dT%H:%M:%S.%LZ", "%Y-%m-%dT%H:%M:%SZ",
  "add", "subtract", "multiply", "divide",
  NULL
};

static int litAllowed(const char *z, size_t n) {
  const char *const *az;
  for (az = azStatLit; *az; az++) if (strlen(*az) == n && memcmp(*az, z, n) == 0) return 1;
  return 0;
}

/* 0 when every traced prepared text is clean; else 1 and the reason. */
static int sqlDirty(const char *zSql, char *zWhy, size_t nWhy) {
  const char *z;
  if (TH_PG) {                 /* its words, quoted collations and literals are the dialect's */
    if (strstr(zSql, "SMARK") || strstr(zSql, "FROM job;") || strstr(zSql, "--") || strstr(zSql, "/*")
        || strchr(zSql, ';') || strchr(zSql, '`')) {
      snprintf(zWhy, nWhy, "forbidden text in: %.300s", zSql);
      return 1;
    }
    return 0;
  }
  if (strstr(zSql, "SMARK") || strstr(zSql, "FROM job;") || strstr(zSql, "--")
      || strstr(zSql, "/*") || strchr(zSql, ';') || strchr(zSql, '"') || strchr(zSql, '`')) {
    snprintf(zWhy, nWhy, "forbidden text in: %.300s", zSql);
    return 1;
  }
  for (z = zSql; *z; z++) {
    if (*z == '\'') {
      const char *z0 = ++z;
      while (*z && *z != '\'') z++;
      if (!*z || !litAllowed(z0, (size_t)(z - z0))) {
        snprintf(zWhy, nWhy, "string literal '%.*s'", (int)(z - z0 > 60 ? 60 : z - z0), z0);
        return 1;
      }
    }
  }
  return 0;
}

static int traceClean(void) {
  char zWhy[400];
  if (!sqlDirty(traceSql(), zWhy, sizeof zWhy)) return 1;
  fprintf(stderr, "test_stat: %s\n", zWhy);
  return 0;
}
#define CHECK_CLEAN() CHECK(traceClean())

/* ---------------------------------------------------------------- tests */

/* Group key names, field names and a count name: data, never SQL. */
static void testNames(inv_store *s) {
  CHECK_INT(stat(s, "job", "{\"aggregate\":[{\"group\":{\"keys\":[{\"key\":\"status\",\"name\":\"" MARK "\"}],"
                 "\"fields\":[{\"operator\":\"count\",\"name\":\"" EVIL "\"},"
                 "{\"operator\":\"sum\",\"key\":\"total_tasks\",\"name\":\"a.b\"}]}},"
                 "{\"sort\":[{\"key\":\"" MARK "\"}]},{\"limit\":1}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"" MARK "\":\"CANCELED\",\"" EVIL "\":1,\"a.b\":0}],\"total_count\":1}");
  CHECK_CLEAN();
  CHECK(strstr(traceExp(), "SMARK") == NULL);                /* names are not even bound */
  CHECK(strstr(traceExp(), "FROM job;") == NULL);
  CHECK_INT(trace.nWith, 1);

  /* a count stage and a project with marker names */
  CHECK_INT(stat(s, "job", "{\"aggregate\":[{\"project\":{\"fields\":[{\"key\":\"job_id\",\"name\":\"" EVIL "\"}]}},"
                 "{\"count\":{\"name\":\"" MARK "\"}}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"" MARK "\":4}],\"total_count\":1}");
  CHECK_CLEAN();
  CHECK(strstr(traceExp(), "SMARK") == NULL);

  /* analyze: group_by and fields names */
  CHECK_INT(analyze(s, "{\"group_by\":[{\"key\":\"collector_id\",\"name\":\"" MARK "\"}],"
                    "\"fields\":{\"" EVIL "\":{\"operator\":\"count\"}},\"sort\":[{\"key\":\"" MARK "\"}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"" MARK "\":\"collector-1\",\"" EVIL "\":2},"
                    "{\"" MARK "\":\"collector-2\",\"" EVIL "\":2}],\"more\":false}");
  CHECK_CLEAN();
  CHECK(strstr(traceExp(), "SMARK") == NULL);
}

/* Push sub-field names are bound (json object member names). */
static void testPushNames(inv_store *s) {
  CHECK_INT(stat(s, "job", "{\"aggregate\":[{\"group\":{\"keys\":[{\"key\":\"plugin_id\",\"name\":\"p\"}],"
                 "\"fields\":[{\"operator\":\"push\",\"name\":\"j\",\"fields\":["
                 "{\"key\":\"job_id\",\"name\":\"" MARK "\"},{\"key\":\"finished_at\",\"name\":\"" EVIL "\"}]}]}},"
                 "{\"sort\":[{\"key\":\"p\"}]},{\"limit\":1}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"p\":\"plugin-aws\",\"j\":["
                    "{\"" MARK "\":\"job-aaa111\",\"" EVIL "\":\"2024-01-01T00:10:00Z\"},"
                    "{\"" MARK "\":\"job-bbb222\",\"" EVIL "\":\"2024-01-02T00:20:00Z\"}]}],\"total_count\":1}");
  CHECK_CLEAN();
  CHECK(strstr(traceExp(), "SMARK") != NULL);                /* bound, so expanded */
}

/* Paths: below errors, below a free-form object, unknown. */
static void testPaths(inv_store *s) {
  /* a path below a free-form object whose key holds the marker: bound */
  CHECK_INT(stat(s, "job", "{\"aggregate\":[{\"group\":{\"keys\":[{\"key\":\"filter.zz'SMARK\",\"name\":\"v\"}],"
                 "\"fields\":[{\"operator\":\"count\",\"name\":\"n\"}]}},{\"sort\":[{\"key\":\"n\"}]}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"v\":1,\"n\":1},{\"n\":3}],\"total_count\":2}");
  CHECK_CLEAN();
  CHECK(strstr(traceExp(), "SMARK") != NULL);

  /* unknown top-level keys are missing: nothing of them reaches SQL */
  CHECK_INT(stat(s, "job", "{\"aggregate\":[{\"group\":{\"keys\":[{\"key\":\"" MARK "\",\"name\":\"v\"}],"
                 "\"fields\":[{\"operator\":\"push\",\"key\":\"" MARK ".x\",\"name\":\"p\"},"
                 "{\"operator\":\"count\",\"name\":\"n\"}]}}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"p\":[],\"n\":4}],\"total_count\":1}");
  CHECK_CLEAN();
  CHECK(strstr(traceExp(), "SMARK") == NULL);

  /* below errors, unwound and not */
  CHECK_INT(stat(s, "job_task", "{\"aggregate\":[{\"unwind\":{\"path\":\"errors\"}},"
                 "{\"group\":{\"keys\":[{\"key\":\"errors.additional.zz'SMARK\",\"name\":\"v\"},"
                 "{\"key\":\"errors.error_code\",\"name\":\"c\"}],"
                 "\"fields\":[{\"operator\":\"count\",\"name\":\"n\"}]}},{\"sort\":[{\"key\":\"c\"}]}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"c\":\"E_A\",\"n\":2},{\"c\":\"E_B\",\"n\":1}]}");
  CHECK_CLEAN();
  CHECK(strstr(traceExp(), "SMARK") != NULL);

  /* distinct on a marker path */
  CHECK_INT(stat(s, "job_task", "{\"distinct\":\"errors.zz'SMARK\\\"--;\"}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[]}");
  CHECK_CLEAN();
  CHECK_INT(stat(s, "job", "{\"distinct\":\"filter.zz'SMARK\"}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[1],\"total_count\":1}");
  CHECK_CLEAN();
  CHECK(strstr(traceExp(), "SMARK") != NULL);
}

/* Values: unwind filter, conditions, literals, date_format. */
static void testValues(inv_store *s) {
  CHECK_INT(stat(s, "job_task", "{\"aggregate\":[{\"unwind\":{\"path\":\"errors\",\"filter\":["
                 "{\"k\":\"errors.message\",\"v\":\"" MARK "\",\"o\":\"not_contain\"},"
                 "{\"k\":\"errors.error_code\",\"v\":[\"" MARK "\",\"E_A\"],\"o\":\"in\"}]}},"
                 "{\"count\":{\"name\":\"n\"}}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"n\":2}]}");
  CHECK_CLEAN();
  CHECK(strstr(traceExp(), "SMARK") != NULL);

  CHECK_INT(stat(s, "job", "{\"aggregate\":[{\"group\":{\"fields\":["
                 "{\"o\":\"count\",\"n\":\"n\",\"conditions\":[{\"key\":\"status\",\"value\":\"" MARK "\",\"operator\":\"not\"}]},"
                 "{\"o\":\"sum\",\"k\":\"total_tasks\",\"n\":\"t\",\"conditions\":[{\"key\":\"total_tasks\",\"value\":424242,\"operator\":\"lt\"}]}"
                 "]}},{\"project\":{\"fields\":[{\"name\":\"x\",\"operator\":\"add\",\"fields\":[\"t\",313131.5,"
                 "{\"operator\":\"multiply\",\"fields\":[\"n\",0]}]}]}}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"x\":313141.5}],\"total_count\":1}");
  CHECK_CLEAN();
  CHECK(strstr(traceSql(), "424242") == NULL);
  CHECK(strstr(traceSql(), "313131") == NULL);
  CHECK(strstr(traceExp(), "424242") != NULL);
  CHECK(strstr(traceExp(), "313131.5") != NULL);

  /* a date_format string is bound and its text comes back */
  CHECK_INT(stat(s, "job", "{\"aggregate\":[{\"group\":{\"keys\":[{\"key\":\"created_at\",\"name\":\"d\","
                 "\"date_format\":\"%Y " MARK "\"}]}},{\"limit\":1}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"d\":\"2024 " MARK "\"}],\"total_count\":1}");
  CHECK_CLEAN();
  CHECK(strstr(traceExp(), "SMARK") != NULL);

  /* filter and keyword values in the s0 CTE */
  CHECK_INT(stat(s, "job", "{\"filter\":[{\"k\":\"status\",\"v\":\"" MARK "\",\"o\":\"not\"}],\"keyword\":\"zz'SMARK job\","
                 "\"aggregate\":[{\"count\":{\"name\":\"n\"}}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"n\":4}],\"total_count\":1}");
  CHECK_CLEAN();
}

/* The first pipeline statement traced (the rows; a count may follow). */
static const char *firstWith(void) {
  static char z[8192];
  const char *zStart = strstr(traceSql(), "WITH s0"), *zEnd;
  z[0] = 0;
  if (!zStart) return z;
  zEnd = strchr(zStart, '\n');
  if (!zEnd || (size_t)(zEnd - zStart) >= sizeof z) return z;
  memcpy(z, zStart, (size_t)(zEnd - zStart));
  z[zEnd - zStart] = 0;
  return z;
}

/* Requests differing only in names and values share one prepared text
** (a date_format's value too, within its kind: on PostgreSQL a format that
** names every unit down to the day groups by the day, xDateGroup, so
** "%Y-%m-%d" and "%d.%m.%Y" share a text, "%m" has its own). */
static void testSameText(inv_store *s) {
  char *z1;
  CHECK_INT(stat(s, "job", "{\"filter\":[{\"k\":\"total_tasks\",\"v\":1,\"o\":\"gte\"}],"
                 "\"aggregate\":[{\"group\":{\"keys\":[{\"key\":\"collector_id\",\"name\":\"a\"},"
                 "{\"key\":\"created_at\",\"name\":\"d\",\"date_format\":\"%Y-%m-%d\"}],"
                 "\"fields\":[{\"operator\":\"push\",\"name\":\"p\",\"fields\":[{\"key\":\"job_id\",\"name\":\"x\"}]},"
                 "{\"operator\":\"count\",\"name\":\"n\",\"conditions\":[{\"key\":\"status\",\"value\":\"SUCCESS\",\"operator\":\"eq\"}]}]}},"
                 "{\"sort\":[{\"key\":\"a\",\"desc\":true}]},{\"skip\":1}],\"page\":{\"limit\":2}}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"a\":\"collector-1\",\"d\":\"2024-01-01\",\"p\":[{\"x\":\"job-aaa111\"}],\"n\":1},"
                    "{\"a\":\"collector-1\",\"d\":\"2024-01-02\",\"p\":[{\"x\":\"job-bbb222\"}],\"n\":0}],\"total_count\":2}");
  z1 = malloc(strlen(firstWith()) + 1);
  if (z1) memcpy(z1, firstWith(), strlen(firstWith()) + 1);
  CHECK(z1 && strstr(z1, TH_PG ? " LIMIT $" : " LIMIT ?") != NULL
        && strstr(z1, TH_PG ? " OFFSET $" : " OFFSET ?") != NULL);
  CHECK_INT(stat(s, "job", "{\"filter\":[{\"k\":\"total_tasks\",\"v\":3,\"o\":\"gte\"}],"
                 "\"aggregate\":[{\"group\":{\"keys\":[{\"key\":\"collector_id\",\"name\":\"" MARK "\"},"
                 "{\"key\":\"created_at\",\"name\":\"" EVIL "\",\"date_format\":\"%d.%m.%Y\"}],"
                 "\"fields\":[{\"operator\":\"push\",\"name\":\"q\",\"fields\":[{\"key\":\"job_id\",\"name\":\"" MARK "\"}]},"
                 "{\"operator\":\"count\",\"name\":\"m\",\"conditions\":[{\"key\":\"status\",\"value\":\"" MARK "\",\"operator\":\"eq\"}]}]}},"
                 "{\"sort\":[{\"key\":\"" MARK "\",\"desc\":true}]},{\"skip\":0}],\"page\":{\"limit\":2}}"), INV_OK);
  CHECK(z1 && strcmp(z1, firstWith()) == 0);
  CHECK_CLEAN();
  free(z1);
}

/* A malformed stage fails while compiling: no statement runs. */
static void testStageErrors(inv_store *s) {
  static const struct { const char *zRes, *zQuery, *zMsg; } aCase[] = {
    { "job", "{\"aggregate\":[{\"group\":{\"fields\":[{\"operator\":\"count\"}]}}]}",
      "Database query failed. (key = query.aggregate.group.fields, reason = the field "
      "{\"operator\":\"count\"} has no name.)" },
    { "job", "{\"aggregate\":[{\"foo\":{}}]}",
      "Database query failed. (key = query.aggregate, reason = each stage is an object with one of "
      "unwind, group, count, sort, project, limit, skip; {\"foo\":{}} has none.)" },
    { "job", "{\"aggregate\":\"x\"}",
      "Database query failed. (key = query.aggregate, reason = must be a list of stages, not \"x\".)" },
    { "job", "{\"aggregate\":[{\"unwind\":{}}]}",
      "Database query failed. (key = query.aggregate.unwind.path, reason = is required: the list "
      "field to unwind, such as errors.)" },
    { "job", "{\"aggregate\":[{\"count\":{}}]}",
      "Database query failed. (key = query.aggregate.count.name, reason = is required: the name of "
      "the count in the results.)" },
    { "job", "{\"aggregate\":[{\"limit\":0}]}",
      "Database query failed. (key = query.aggregate.limit, reason = must be a positive integer, not 0.)" },
    { "job", "{\"aggregate\":[{\"sort\":[{\"key\":\"" MARK "\"}]}]}",
      "Database query failed. (reason = Cannot resolve field \"" MARKRAW "\")" },
    { "job", "{\"aggregate\":[{\"project\":{\"fields\":[{\"name\":\"x\",\"operator\":\"divide\",\"fields\":[1]}]}}]}",
      "Database query failed. (key = query.aggregate.project.fields, reason = field \"x\": divide takes "
      "exactly two values, not [1].)" },
    { "job", "{\"aggregate\":[{\"group\":{\"keys\":[{\"key\":\"status\",\"name\":\"s\",\"date_format\":\"%Y\"}]}}]}",
      "Database query failed. (key = query.aggregate.group.keys.date_format, reason = date_format works "
      "on datetimes, and the key \"status\" is not one.)" },
    { "job_task", "{\"aggregate\":[{\"unwind\":{\"path\":\"errors\",\"filter\":[{\"k\":\"x\",\"v\":0,\"o\":\"eq\"}]}}]}",
      "Database query failed. (key = query.aggregate.unwind.filter, reason = the condition "
      "{\"k\":\"x\",\"v\":0,\"o\":\"eq\"} has no value; here 0, false, \"\" and [] count as none.)" },
    { "job_task", "{\"aggregate\":[{\"unwind\":{\"path\":\"errors\",\"filter\":[{\"k\":\"x\",\"v\":1,\"o\":\"gt\"}]}}]}",
      "Database query failed. (key = query.aggregate.unwind.filter, reason = operator \"gt\" is not "
      "supported here; use one of eq, not, in, not_in, contain, not_contain, contain_in, not_contain_in.)" },
  };
  size_t i;
  for (i = 0; i < sizeof aCase / sizeof aCase[0]; i++) {
    CHECK_INT(stat(s, aCase[i].zRes, aCase[i].zQuery), INV_ERROR);
    CHECK_STR(inv_store_errcode(s), "ERROR_DB_QUERY");
    CHECK_STR(inv_store_errmsg(s), aCase[i].zMsg);
    CHECK_INT(trace.nWith, 0);
  }
  /* run-time errors come from SQLite through the same wrapping */
  CHECK_INT(stat(s, "job", "{\"aggregate\":[{\"group\":{\"keys\":[{\"key\":\"status\",\"name\":\"s\"}],"
                 "\"fields\":[{\"o\":\"sum\",\"k\":\"total_tasks\",\"n\":\"t\"}]}},"
                 "{\"project\":{\"fields\":[{\"name\":\"x\",\"operator\":\"divide\",\"fields\":[1,\"t\"]}]}}]}"),
            INV_ERROR);
  CHECK_STR(inv_store_errcode(s), "ERROR_DB_QUERY");
  CHECK_STR(inv_store_errmsg(s), "Database query failed. (reason = cannot divide by zero: the second "
            "value of a divide is 0)");
  CHECK_INT(trace.nWith, 1);
  /* and the store goes on */
  CHECK_INT(stat(s, "job", "{\"aggregate\":[{\"count\":{\"name\":\"n\"}}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"n\":4}],\"total_count\":1}");
}

/* What the results look like: numbers, missing and null, dates. */
static void testRendering(inv_store *s) {
  CHECK_INT(stat(s, "job", "{\"aggregate\":[{\"group\":{\"keys\":[{\"key\":\"collector_id\",\"name\":\"c\"}],"
                 "\"fields\":[{\"o\":\"count\",\"n\":\"n\"},{\"o\":\"sum\",\"k\":\"total_tasks\",\"n\":\"t\"},"
                 "{\"o\":\"average\",\"k\":\"total_tasks\",\"n\":\"a\"},{\"o\":\"max\",\"k\":\"created_at\",\"n\":\"m\"},"
                 "{\"o\":\"min\",\"k\":\"finished_at\",\"n\":\"f\"},{\"o\":\"first\",\"k\":\"request_secret_id\",\"n\":\"r\"}]}},"
                 "{\"project\":{\"fields\":[{\"key\":\"n\",\"name\":\"n\"},{\"key\":\"t\",\"name\":\"t\"},"
                 "{\"key\":\"a\",\"name\":\"a\"},{\"key\":\"m\",\"name\":\"m\"},{\"key\":\"f\",\"name\":\"f\"},"
                 "{\"key\":\"r\",\"name\":\"r\"},{\"key\":\"nope\",\"name\":\"gone\"},"
                 "{\"name\":\"d\",\"operator\":\"divide\",\"fields\":[\"t\",\"n\"]}]}},"
                 "{\"sort\":[{\"key\":\"c\"}]}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":["
    "{\"c\":\"collector-1\",\"n\":2,\"t\":8,\"a\":4.0,\"m\":\"2024-01-02T00:00:00.000Z\","
    "\"f\":\"2024-01-01T00:10:00.000Z\",\"r\":null,\"d\":4.0},"
    "{\"c\":\"collector-2\",\"n\":2,\"t\":2,\"a\":1.0,\"m\":\"2024-01-04T00:00:00.000Z\","
    "\"f\":\"2024-01-04T01:00:00.000Z\",\"r\":null,\"d\":1.0}],\"total_count\":2}");
  CHECK_CLEAN();

  /* no NaN, no infinity */
  CHECK_INT(stat(s, "job", "{\"aggregate\":[{\"group\":{\"fields\":[{\"o\":\"average\",\"k\":\"status\",\"n\":\"a\"},"
                 "{\"o\":\"sum\",\"k\":\"total_tasks\",\"n\":\"t\"}]}},"
                 "{\"project\":{\"fields\":[{\"key\":\"a\",\"name\":\"a\"},"
                 "{\"name\":\"x\",\"operator\":\"multiply\",\"fields\":[\"t\",1e308,10]}]}}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"a\":null,\"x\":null}],\"total_count\":1}");

  /* empty input: no rows, whatever the stage */
  CHECK_INT(stat(s, "job", "{\"filter\":[{\"k\":\"status\",\"v\":\"NOPE\",\"o\":\"eq\"}],"
                 "\"aggregate\":[{\"group\":{\"fields\":[{\"o\":\"count\",\"n\":\"n\"}]}},{\"count\":{\"name\":\"c\"}}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[],\"total_count\":0}");
  CHECK_INT(stat(s, "job_task", "{\"filter\":[{\"k\":\"status\",\"v\":\"NOPE\",\"o\":\"eq\"}],"
                 "\"aggregate\":[{\"count\":{\"name\":\"c\"}}]}"), INV_OK);
  CHECK_STR(out(s), "{\"results\":[]}");
}

/* ---------------------------------------------------------------- SQL functions */

/* The text (or "error: <message>") of a one-value SELECT on the store's
** connection. */
static const char *sqlOne(inv_store *s, const char *zSql, inv_buf *b) {
  sqlite3_stmt *p = NULL;
  if (TH_PG) {                        /* "error: <the function's message>" */
    const char *z = th_sql_one(s, zSql, b), *zR = strstr(z, "(reason = ");
    if (strncmp(z, "error: ", 7) == 0 && zR) {
      size_t n = strlen(zR + 10);
      memmove(b->z + 7, zR + 10, n + 1);
      if (n && b->z[7 + n - 1] == ')') b->z[7 + n - 1] = 0;
    }
    return b->z;
  }
  inv_buf_reset(b);
  if (sqlite3_prepare_v2(SQLITE_DB(s), zSql, -1, &p, NULL) != SQLITE_OK) {
    inv_buf_printf(b, "prepare: %s", sqlite3_errmsg(SQLITE_DB(s)));
  } else if (sqlite3_step(p) == SQLITE_ROW) {
    const char *z = (const char *)sqlite3_column_text(p, 0);
    inv_buf_adds(b, z ? z : "NULL");
  } else {
    inv_buf_printf(b, "error: %s", sqlite3_errmsg(SQLITE_DB(s)));
  }
  sqlite3_finalize(p);
  inv_buf_addc(b, 0);
  return b->z;
}

/* PostgreSQL's twins of the SQL functions (pg_schema.c): the same answers
** and messages. */
static void testSqlFunctionsPg(inv_store *s) {
  inv_buf b;
  inv_buf_init(&b);
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[[\"a\",1],[\"b\",[2]],[\"a\",{\"x\":null}]]')", &b),
            "{\"a\":{\"x\":null},\"b\":[2]}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[{\"k\":\"a\",\"v\":1},{\"v\":2,\"k\":\"b\"}]')", &b),
            "{\"a\":1,\"b\":2}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[]')", &b), "{}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object(NULL)", &b), "NULL");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[[\"a\\u00e9\",1]]')", &b), "{\"a\xc3\xa9\":1}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[[\"a\",1],{\"k\":\"b\",\"v\":2}]')", &b),
            "error: array_to_object takes a list whose elements are all [key, value] pairs, not {\"k\":\"b\",\"v\":2}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[[\"a\",1,2]]')", &b),
            "error: array_to_object takes [key, value] pairs of two elements, not [\"a\",1,2]");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[{\"k\":\"a\"}]')", &b),
            "error: array_to_object takes objects with exactly the keys k and v, not {\"k\":\"a\"}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[{\"k\":\"a\",\"w\":1}]')", &b),
            "error: array_to_object takes objects with exactly the keys k and v, not {\"k\":\"a\",\"w\":1}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[[1,2]]')", &b), "error: array_to_object takes string keys, not 1");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[{\"k\":null,\"v\":2}]')", &b),
            "error: array_to_object takes string keys, not null");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object(inv_doc('[[\"a\\u0000b\",1]]'))", &b),
            "error: array_to_object takes keys without a NUL byte");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[\"a\"]')", &b),
            "error: array_to_object takes a list of [key, value] pairs or {\"k\": key, \"v\": value} objects, not \"a\"");
  /* many keys: 20,000 pairs over 15,000 keys, the later value kept */
  CHECK_STR(sqlOne(s, "WITH o(x) AS (SELECT inv_array_to_object((SELECT json_agg(json_build_array('k' || (i % 15000), i)) "
                      "FROM generate_series(0, 19999) AS i))) "
                      "SELECT (SELECT count(*) FROM json_object_keys(x::json)) || ' ' || (x::json ->> 'k0') || ' ' "
                      "|| (x::json ->> 'k14999') FROM o", &b), "15000 15000 14999");
  /* and merge_objects over 20,000 inputs, 15,000 keys (a search per key took 14 s) */
  CHECK_STR(sqlOne(s, "WITH o(x) AS (SELECT inv_merge_objects(json_build_object('k' || (i % 15000), i)::text ORDER BY i) "
                      "FROM generate_series(0, 19999) AS i) "
                      "SELECT (SELECT count(*) FROM json_object_keys(x::json)) || ' ' || (x::json ->> 'k0') || ' ' "
                      "|| (x::json ->> 'k14999') || ' ' || (SELECT k FROM json_object_keys(x::json) AS k LIMIT 1) FROM o", &b),
            "15000 15000 14999 k0");
  /* values a stage builds stop at 16 MB */
  CHECK_STR(sqlOne(s, "SELECT length(inv_cap(repeat('x', 17000000), 'push'))", &b),
            "error: push builds a value larger than 16 MB, the most one value may hold");
  CHECK_STR(sqlOne(s, "SELECT length(inv_merge_objects(json_build_object('k' || i, repeat('x', 900000))::text)) "
                      "FROM generate_series(1, 20) AS i", &b),
            "error: merge_objects builds a value larger than 16 MB, the most one value may hold");
  /* sums: integers exact, reals correctly rounded whatever the order */
  CHECK_STR(sqlOne(s, "SELECT inv_sum(x) FROM (VALUES (1::numeric), (2), (NULL)) AS v(x)", &b), "3");
  CHECK_STR(sqlOne(s, "SELECT inv_sum(x ORDER BY o) FROM (VALUES (inv_real(1e16), 1), (inv_real(1), 2), "
                      "(inv_real(-1e16), 3)) AS v(x, o)", &b), "1.0");
  CHECK_STR(sqlOne(s, "SELECT inv_sum(x) FROM (VALUES (9223372036854775807::numeric), (1)) AS v(x)", &b),
            "error: integer overflow");
  CHECK_STR(sqlOne(s, "SELECT inv_arith(0.1, '+', 0.2)::text", &b), "0.30000000000000004");
  CHECK_STR(sqlOne(s, "SELECT inv_arith(inv_real(1e308), '*', 10)::text", &b), "Infinity");
  inv_buf_free(&b);
}

static void testSqlFunctions(inv_store *s) {
  inv_buf b;
  if (TH_PG) { testSqlFunctionsPg(s); return; }
  inv_buf_init(&b);
  /* $arrayToObject: pairs or {k, v}; a later key replaces the earlier in place */
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[[\"a\",1],[\"b\",[2]],[\"a\",{\"x\":null}]]')", &b),
            "{\"a\":{\"x\":null},\"b\":[2]}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[{\"k\":\"a\",\"v\":1},{\"v\":2,\"k\":\"b\"}]')", &b),
            "{\"a\":1,\"b\":2}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[]')", &b), "{}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object(NULL)", &b), "NULL");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[[\"a\\u00e9\",1]]')", &b), "{\"a\xc3\xa9\":1}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[[\"a\",1],{\"k\":\"b\",\"v\":2}]')", &b),
            "error: array_to_object takes a list whose elements are all [key, value] pairs, not "
            "{\"k\":\"b\",\"v\":2}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[[\"a\",1,2]]')", &b),
            "error: array_to_object takes [key, value] pairs of two elements, not [\"a\",1,2]");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[{\"k\":\"a\"}]')", &b),
            "error: array_to_object takes objects with exactly the keys k and v, not {\"k\":\"a\"}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[{\"k\":\"a\",\"w\":1}]')", &b),
            "error: array_to_object takes objects with exactly the keys k and v, not {\"k\":\"a\",\"w\":1}");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[[1,2]]')", &b),
            "error: array_to_object takes string keys, not 1");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[{\"k\":null,\"v\":2}]')", &b),
            "error: array_to_object takes string keys, not null");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[[\"a\\u0000b\",1]]')", &b),
            "error: array_to_object takes keys without a NUL byte");
  CHECK_STR(sqlOne(s, "SELECT inv_array_to_object('[\"a\"]')", &b),
            "error: array_to_object takes a list of [key, value] pairs or {\"k\": key, \"v\": value} "
            "objects, not \"a\"");

  /* many keys stay linear work: 200,000 pairs over 150,000 keys, the later value kept */
  CHECK_STR(sqlOne(s, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199999), "
                      "o(x) AS (SELECT inv_array_to_object((SELECT json_group_array(json_array('k' || (i % 150000), i)) "
                      "FROM n))) SELECT (SELECT count(*) FROM json_each(x)) || ' ' || (x ->> '$.k0') || ' ' "
                      "|| (x ->> '$.k149999') FROM o", &b), "150000 150000 149999");

  /* add_to_set: distinct by JSON text, sorted; many values stay linear */
  CHECK_STR(sqlOne(s, "SELECT inv_add_to_set(column1) FROM (VALUES ('\"b\"'), ('1'), (NULL), ('\"b\"'), ('1'), ('[1]'))", &b),
            "[\"b\",1,[1]]");
  CHECK_STR(sqlOne(s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
                      "SELECT json_array_length(inv_add_to_set(i % 150000)) FROM n", &b), "150000");

  /* values a stage builds stop at 16 MB (MongoDB's document limit) */
  CHECK_STR(sqlOne(s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) "
                      "SELECT length(inv_push(i, json_quote(printf('%.*c', 900000, 'x')))) FROM n", &b),
            "error: push builds a value larger than 16 MB, the most one value may hold");
  CHECK_STR(sqlOne(s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) "
                      "SELECT length(inv_push(i, json_quote(printf('%.*c', 700000, 'x')))) FROM n", &b),
            "14000061");
  CHECK_STR(sqlOne(s, "WITH v(x) AS (SELECT json_quote(printf('%.*c', 9000000, 'x'))) "
                      "SELECT length(inv_object('a', x, 'b', x)) FROM v", &b),
            "error: push builds a value larger than 16 MB, the most one value may hold");
  CHECK_STR(sqlOne(s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) "
                      "SELECT length(inv_add_to_set(json_quote(printf('%d%.*c', i, 900000, 'x')))) FROM n", &b),
            "error: add_to_set builds a value larger than 16 MB, the most one value may hold");
  CHECK_STR(sqlOne(s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) "
                      "SELECT length(inv_merge_objects(i, json_object(printf('k%d', i), printf('%.*c', 900000, 'x')))) FROM n", &b),
            "error: merge_objects builds a value larger than 16 MB, the most one value may hold");
  inv_buf_free(&b);
}

/* A chain of projects naming a column twice ("add a a") is linear work:
** each such CTE is materialized, not copied into the next stage's
** expressions (2^40 copies otherwise). */
static void testProjectChain(inv_store *s) {
  inv_buf q;
  int i;
  inv_buf_init(&q);
  inv_buf_adds(&q, "{\"aggregate\":[{\"group\":{\"fields\":[{\"o\":\"count\",\"n\":\"a\"}]}}");
  for (i = 0; i < 40; i++) inv_buf_adds(&q, ",{\"project\":{\"fields\":[{\"n\":\"a\",\"o\":\"add\",\"f\":[\"a\",\"a\"]}]}}");
  inv_buf_adds(&q, "]}");
  CHECK(stat(s, "job", q.z) == INV_OK);
  CHECK_STR(out(s), "{\"results\":[{\"a\":4398046511104}],\"total_count\":1}");   /* 4 jobs * 2^40 */
  CHECK(strstr(traceSql(), "AS MATERIALIZED") != NULL);
  inv_buf_free(&q);
}

/* A store's buffers give back what one large call grew (a long-lived store
** in an nginx worker would keep it otherwise). */
static void testBufferTrim(inv_store *s) {
  inv_buf *b = inv_store_buffer(s);
  char z[4096];
  int i;
  memset(z, 'x', sizeof z);
  for (i = 0; i < 600; i++) inv_buf_add(b, z, sizeof z);        /* 2.4 MB */
  CHECK(b->nAlloc > INV_BUF_KEEP);
  inv_store_begin(s);
  CHECK(b->n == 0 && b->nAlloc <= INV_BUF_KEEP);
  inv_buf_add(b, z, sizeof z);                                  /* small: kept */
  i = (int)b->nAlloc;
  inv_store_begin(s);
  CHECK(b->n == 0 && (int)b->nAlloc == i);
}

/* ------------------------------------------------- compiled-request cache */

/* A stat request answered from the cache (a store that compiled another
** request of its shape) answers as a fresh store's compile: the same JSON,
** or the same error. */
static void rcCheck(inv_store *s, const char *zRes, const char *zReq, int bHit) {
  inv_store *c = openStore();
  char *zWant = NULL, zWantErr[400];
  int rcWant, rcGot;
  unsigned h0, h1, m;
  int n;
  CHECK(c != NULL);
  if (!c) return;
  if (!TH_PG) sqlite3_trace_v2(SQLITE_DB(c), 0, NULL, NULL);
  rcWant = call(c, zRes, "stat", zReq);
  {
    const char *z = out(c);
    size_t nz = strlen(z);
    zWant = malloc(nz + 1);
    if (zWant) memcpy(zWant, z, nz + 1);
  }
  snprintf(zWantErr, sizeof zWantErr, "%s %s", inv_store_errcode(c) ? inv_store_errcode(c) : "",
           rcWant ? inv_store_errmsg(c) : "");
  inv_store_close(c);
  inv_store_request_cache(s, &h0, &m, &n);
  rcGot = call(s, zRes, "stat", zReq);
  inv_store_request_cache(s, &h1, &m, &n);
  CHECK_INT(rcGot, rcWant);
  if (rcWant == INV_OK) CHECK_STR(out(s), zWant ? zWant : "");
  else {
    char zGotErr[400];
    snprintf(zGotErr, sizeof zGotErr, "%s %s", inv_store_errcode(s) ? inv_store_errcode(s) : "",
             inv_store_errmsg(s));
    CHECK_STR(zGotErr, zWantErr);
  }
  if (bHit >= 0) CHECK_INT((int)(h1 - h0), bHit);
  CHECK(n <= 64);
  free(zWant);
}

#define RC_AGG "\"aggregate\":[{\"group\":{\"keys\":[{\"key\":\"status\",\"name\":\"status\"}]," \
               "\"fields\":[{\"name\":\"count\",\"operator\":\"count\"}]}}]"
#define RC_JOB(d, j) "{\"domain_id\":" d ",\"query\":{" RC_AGG ",\"filter\":[{\"k\":\"job_id\",\"v\":" j ",\"o\":\"eq\"}]}}"

static void testRequestCache(inv_store *s) {
  /* the slots: ids of the filter and the domain */
  rcCheck(s, "job_task", RC_JOB("\"domain-1\"", "\"job-aaa111\""), -1);
  rcCheck(s, "job_task", RC_JOB("\"domain-1\"", "\"job-bbb222\""), 1);
  rcCheck(s, "job_task", RC_JOB("\"domain-1\"", "\"job-none\""), 1);
  rcCheck(s, "job_task", RC_JOB("\"domain-2\"", "\"job-bbb222\""), 1);
  rcCheck(s, "job_task", RC_JOB("\"domain-1\"", "\"job-aaa111\""), 1);
  /* values a slot does not take: compiled (and answered) anew */
  rcCheck(s, "job_task", RC_JOB("\"\"", "\"job-bbb222\""), 0);
  rcCheck(s, "job_task", RC_JOB("\"*\"", "\"job-bbb222\""), 0);
  rcCheck(s, "job_task", RC_JOB("\"d\\u0000\"", "\"job-bbb222\""), 0);
  rcCheck(s, "job_task", RC_JOB("1", "\"job-bbb222\""), 0);
  rcCheck(s, "job_task", RC_JOB("\"domain-1\"", "\"\""), 0);
  rcCheck(s, "job_task", RC_JOB("\"domain-1\"", "2"), 0);
  rcCheck(s, "job_task", RC_JOB("\"domain-1\"", "null"), 0);
  rcCheck(s, "job_task", RC_JOB("\"domain-1\"", "[\"job-bbb222\"]"), 0);
  rcCheck(s, "job_task", RC_JOB("\"domain-1\"", "\"job-bbb222\""), 1);
  /* the page is in the key: each limit its own entry */
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"page\":{\"limit\":1}}}", -1);
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"page\":{\"limit\":2}}}", 0);
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"page\":{\"start\":2,\"limit\":1}}}", 0);
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"page\":{\"limit\":1}}}", 1);
  /* times, keywords, starts_with: in the key */
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"filter\":[{\"k\":\"created_at\","
          "\"v\":\"2024-01-02T00:00:00Z\",\"o\":\"datetime_gt\"}]}}", -1);
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"filter\":[{\"k\":\"created_at\","
          "\"v\":\"2024-01-02T00:01:30Z\",\"o\":\"datetime_gt\"}]}}", 0);
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"keyword\":\"task-001\"}}", -1);
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"keyword\":\"task-00\"}}", 0);
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"filter\":[{\"k\":\"errors\","
          "\"v\":{\"error_code__startswith\":\"E_A\"},\"o\":\"match\"}]}}", -1);
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"filter\":[{\"k\":\"errors\","
          "\"v\":{\"error_code__startswith\":\"E_\"},\"o\":\"match\"}]}}", 0);
  /* the workspace: "*" is not a slot's value */
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"workspace_id\":\"*\",\"query\":{" RC_AGG "}}", -1);
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"workspace_id\":\"ws-1\",\"query\":{" RC_AGG "}}", 0);
  /* a clock-relative filter is never kept */
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"filter\":[{\"k\":\"created_at\","
          "\"v\":\"now-1d\",\"o\":\"timediff_gt\"}]}}", 0);
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"filter\":[{\"k\":\"created_at\","
          "\"v\":\"now-1d\",\"o\":\"timediff_gt\"}]}}", 0);
  /* on Job too: its own entries */
  rcCheck(s, "job", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"filter\":[{\"k\":\"collector_id\","
          "\"v\":\"collector-1\",\"o\":\"eq\"}]}}", -1);
  rcCheck(s, "job", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"filter\":[{\"k\":\"collector_id\","
          "\"v\":\"collector-2\",\"o\":\"eq\"}]}}", 1);
}

/* Bounded: more shapes than entries, every one still answered right. */
static void testRequestCacheBound(inv_store *s) {
  int i;
  unsigned h, m;
  int n;
  for (i = 1; i <= 70; i++) {
    char z[600];
    snprintf(z, sizeof z, "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"page\":{\"limit\":%d}}}", i);
    CHECK_INT(call(s, "job_task", "stat", z), INV_OK);
  }
  inv_store_request_cache(s, &h, &m, &n);
  CHECK_INT(n, 64);
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"page\":{\"limit\":70}}}", 1);
  rcCheck(s, "job_task", "{\"domain_id\":\"domain-1\",\"query\":{" RC_AGG ",\"page\":{\"limit\":3}}}", 0);
}

void test_stat(void) {
  inv_store *s;
  inv_buf_init(&trace.sql);
  inv_buf_init(&trace.expanded);
  s = openStore();
  CHECK(s != NULL);
  if (!s) { inv_buf_free(&trace.sql); inv_buf_free(&trace.expanded); return; }
  testNames(s);
  testPushNames(s);
  testPaths(s);
  testValues(s);
  testSameText(s);
  testStageErrors(s);
  testRendering(s);
  testSqlFunctions(s);
  testProjectChain(s);
  testBufferTrim(s);
  testRequestCache(s);
  testRequestCacheBound(s);
  if (!TH_PG) sqlite3_trace_v2(SQLITE_DB(s), 0, NULL, NULL);
  inv_store_close(s);
  inv_buf_free(&trace.sql);
  inv_buf_free(&trace.expanded);
}
