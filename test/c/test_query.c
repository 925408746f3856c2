/*
** test_query.c: the filter compiler (inv_where) on its own, and filters end
** to end through inv_call(job|job_task, list).
**
** The compiler is checked from the outside: the SQL text it appends must be
** made only of our own words (keywords, functions, the resource's column
** names, generated aliases e<N>) and punctuation, with no string literal
** other than the JSON type names; every user value and every JSON path built
** from a user key must be a bound parameter; and the statement must prepare
** and run against a populated store (runtime JSON path errors included).
**
** The dataset is reference/query.md Appendix A (jobs J1-J4, tasks T1-T3),
** plus a few free-form `filter` / `collector_info` objects on the jobs.
** Expected results follow DESIGN.md's decisions where they fix the reference.
**
** On PostgreSQL (tbackend.h) the same conditions compile, bind and run, and
** every user value stays out of the SQL text; the vocabulary check and the
** exact SQL texts are SQLite's (its words).
*/
#include "tharness.h"
#include "tbackend.h"

#include <stdlib.h>
#include <string.h>

void test_query(void);

/* A marker value: a quote of each kind and an SQL comment opener. */
#define MARK  "zz'MARK\"--"
#define MARKJ "\"zz'MARK\\\"--\""            /* MARK as a JSON string */
/* A marker inside a key (no double quote: such a segment cannot be a path). */
#define KMARK "zz'KMARK--;) OR 1=1"

/* ---------------------------------------------------------------- setup */

static const char zJobs[] =
  "{\"records\":["
  "{\"job_id\":\"job-aaa111\",\"status\":\"SUCCESS\",\"total_tasks\":3,"
  "\"collector_id\":\"collector-1\",\"plugin_id\":\"plugin-aws\","
  "\"created_at\":\"2024-01-01T00:00:00.000Z\",\"updated_at\":\"2024-01-01T00:00:00.000Z\","
  "\"finished_at\":\"2024-01-01T00:10:00.000Z\",\"resource_group\":\"DOMAIN\","
  "\"workspace_id\":\"*\",\"domain_id\":\"domain-1\","
  "\"filter\":{\"a\":1,\"tags\":[\"x\",\"y\"],\"s\":\"Hello\",\"o\":{\"p\":true}},"
  "\"collector_info\":{\"provider\":\"aws\"}},"
  "{\"job_id\":\"job-bbb222\",\"status\":\"FAILURE\",\"total_tasks\":5,"
  "\"collector_id\":\"collector-1\",\"plugin_id\":\"plugin-aws\","
  "\"created_at\":\"2024-01-02T00:00:00.000Z\",\"updated_at\":\"2024-01-02T00:00:00.000Z\","
  "\"finished_at\":\"2024-01-02T00:20:00.000Z\",\"resource_group\":\"DOMAIN\","
  "\"workspace_id\":\"*\",\"domain_id\":\"domain-1\","
  "\"filter\":{\"a\":2,\"tags\":\"x\",\"s\":null}},"
  "{\"job_id\":\"job-ccc333\",\"status\":\"IN_PROGRESS\",\"total_tasks\":2,"
  "\"collector_id\":\"collector-2\",\"plugin_id\":\"plugin-gcp\","
  "\"created_at\":\"2024-01-03T00:00:00.000Z\",\"updated_at\":\"2024-01-03T00:00:00.000Z\","
  "\"finished_at\":null,\"resource_group\":\"DOMAIN\",\"workspace_id\":\"*\","
  "\"domain_id\":\"domain-1\",\"filter\":{}},"
  "{\"job_id\":\"job-ddd444\",\"status\":\"CANCELED\",\"total_tasks\":0,"
  "\"collector_id\":\"collector-2\",\"plugin_id\":\"plugin-gcp\","
  "\"created_at\":\"2024-01-04T00:00:00.000Z\",\"updated_at\":\"2024-01-04T00:00:00.000Z\","
  "\"finished_at\":\"2024-01-04T01:00:00.000Z\",\"resource_group\":\"DOMAIN\","
  "\"workspace_id\":\"*\",\"domain_id\":\"domain-1\"}"
  "]}";

static const char zTasks[] =
  "{\"records\":["
  "{\"job_task_id\":\"job-task-001\",\"job_id\":\"job-aaa111\",\"status\":\"SUCCESS\","
  "\"provider\":\"aws\",\"created_count\":10,\"failure_count\":0,\"errors\":[],"
  "\"created_at\":\"2024-01-01T00:01:00.000Z\",\"collector_id\":\"collector-1\","
  "\"secret_id\":\"secret-1\",\"service_account_id\":\"sa-1\",\"project_id\":\"project-1\","
  "\"workspace_id\":\"ws-1\",\"domain_id\":\"domain-1\"},"
  "{\"job_task_id\":\"job-task-002\",\"job_id\":\"job-bbb222\",\"status\":\"FAILURE\","
  "\"provider\":\"aws\",\"created_count\":1,\"failure_count\":2,\"errors\":["
  "{\"error_code\":\"E_A\",\"message\":\"timeout\",\"additional\":{}},"
  "{\"error_code\":\"E_B\",\"message\":\"denied\","
  "\"additional\":{\"resource_type\":\"inventory.CloudService\"}}],"
  "\"created_at\":\"2024-01-02T00:01:00.000Z\",\"collector_id\":\"collector-1\","
  "\"secret_id\":\"secret-1\",\"service_account_id\":\"sa-1\",\"project_id\":\"project-1\","
  "\"workspace_id\":\"ws-1\",\"domain_id\":\"domain-1\"},"
  "{\"job_task_id\":\"job-task-003\",\"job_id\":\"job-bbb222\",\"status\":\"FAILURE\","
  "\"provider\":null,\"created_count\":0,\"failure_count\":1,\"errors\":["
  "{\"error_code\":\"E_A\",\"message\":\"Timeout again\",\"additional\":{}}],"
  "\"created_at\":\"2024-01-02T00:02:00.000Z\",\"collector_id\":\"collector-1\","
  "\"secret_id\":\"secret-1\",\"service_account_id\":\"sa-1\",\"project_id\":\"project-1\","
  "\"workspace_id\":\"ws-1\",\"domain_id\":\"domain-1\"}"
  "]}";

static int parseIn(inv_store *s, const char *zJson, inv_val *pOut) {
  char zErr[128];
  int rc = inv_json_parse(inv_store_arena(s), zJson, strlen(zJson), pOut, zErr, sizeof zErr);
  if (rc) fprintf(stderr, "test_query: bad JSON in a test (%s): %s\n", zErr, zJson);
  return rc;
}

/* inv_call with a JSON request; the output text is in inv_store_buffer(s). */
static int callJson(inv_store *s, const char *zRes, const char *zMethod, const char *zReq) {
  inv_val req;
  inv_json_sink js;
  inv_store_begin(s);
  if (parseIn(s, zReq, &req)) return -1;
  inv_json_sink_init(&js, inv_store_buffer(s));
  return inv_call(s, zRes, zMethod, &req, &js.base, 1);
}

static inv_store *openFixture(void) {
  inv_options o = INV_OPTIONS_INIT;
  inv_store *s = NULL;
  char zErr[256];
  int64_t now = 0;
  o.zPath = ":memory:";
  if (th_open(&o, &s, zErr, sizeof zErr)) {
    fprintf(stderr, "test_query: open failed: %s\n", zErr);
    return NULL;
  }
  inv_time_parse_strict("2024-01-04T12:00:00Z", 20, &now);
  inv_store_set_now(s, now);
  CHECK_INT(callJson(s, "job", "import", zJobs), INV_OK);
  CHECK_STR(inv_store_buffer(s)->z, "4");
  CHECK_INT(callJson(s, "job_task", "import", zTasks), INV_OK);
  CHECK_STR(inv_store_buffer(s)->z, "3");
  return s;
}

/* ------------------------------------------------------- SQL inspection */

/* Words the compiler may write (besides column names, the table name, "t"
** and the aliases e<N>). */
static const char *const azWord[] = {
  "SELECT", "FROM", "AS", "WHERE", "AND", "OR", "NOT", "IS", "NULL", "IN", "LIKE",
  "ESCAPE", "EXISTS", "coalesce", "json_extract", "json_type", "json_each", "json",
  "instr", "substr", "inv_regexp", "value", "type", "min", "max", "json_array_length",
  "json_quote", "json_valid", "key", "fullkey", "path", "atom", "typeof", "length", "lower",
  "upper", "CASE", "WHEN", "THEN", "ELSE", "END", "BETWEEN", "GLOB", "COLLATE", "BINARY",
  "NOCASE", "ifnull", "nullif", "abs", "count", "SELECT", "DISTINCT", "LIMIT", "TRUE", "FALSE",
  NULL
};
/* String literals it may write. */
static const char *const azLit[] = {
  "text", "integer", "real", "true", "false", "array", "object", "\\", NULL
};

static int inList(const char *const *az, const char *z, size_t n) {
  for (; *az; az++) if (strlen(*az) == n && memcmp(*az, z, n) == 0) return 1;
  return 0;
}

/* 0 when zSql is made of our own words only; otherwise 1 and a message. On
** PostgreSQL: no marker, comment or statement end (its words and quoted
** collation names are the dialect's; the vocabulary is SQLite's). */
static int sqlForeign(const inv_resource *r, const char *zSql, char *zWhy, size_t nWhy) {
  const char *z = zSql;
  if (TH_PG) {
    if (strstr(zSql, "MARK") || strstr(zSql, "--") || strstr(zSql, "/*") || strchr(zSql, ';')) {
      snprintf(zWhy, nWhy, "forbidden character sequence");
      return 1;
    }
    return 0;
  }
  if (strstr(zSql, "--") || strstr(zSql, "/*") || strchr(zSql, ';') || strchr(zSql, '"')
      || strchr(zSql, '[') || strchr(zSql, '`') || strstr(zSql, "MARK")) {
    snprintf(zWhy, nWhy, "forbidden character sequence");
    return 1;
  }
  while (*z) {
    const char *z0 = z;
    if (*z == '\'') {                        /* a string literal */
      z++;
      while (*z && *z != '\'') z++;
      if (!*z || !inList(azLit, z0 + 1, (size_t)(z - z0 - 1))) {
        snprintf(zWhy, nWhy, "string literal at offset %d", (int)(z0 - zSql));
        return 1;
      }
      z++;
    } else if ((*z >= 'a' && *z <= 'z') || (*z >= 'A' && *z <= 'Z') || *z == '_') {
      size_t n;
      int i, bOk = 0;
      while ((*z >= 'a' && *z <= 'z') || (*z >= 'A' && *z <= 'Z') || *z == '_'
             || (*z >= '0' && *z <= '9')) z++;
      n = (size_t)(z - z0);
      if (inList(azWord, z0, n) || (n == 1 && z0[0] == 't')
          || (strlen(r->zTable) == n && memcmp(r->zTable, z0, n) == 0)) bOk = 1;
      for (i = 0; !bOk && i < r->nField; i++) {
        if (strlen(r->aField[i].zName) == n && memcmp(r->aField[i].zName, z0, n) == 0) bOk = 1;
      }
      if (!bOk && z0[0] == 'e' && n > 1) {
        size_t k;
        bOk = 1;
        for (k = 1; k < n; k++) if (z0[k] < '0' || z0[k] > '9') bOk = 0;
      }
      if (!bOk) {
        snprintf(zWhy, nWhy, "foreign word \"%.*s\"", (int)n, z0);
        return 1;
      }
    } else if (*z >= '0' && *z <= '9') {
      while (*z >= '0' && *z <= '9') z++;
      if (z - z0 != 1 || (*z0 != '0' && *z0 != '1')) {   /* only constants 0 and 1 */
        snprintf(zWhy, nWhy, "number literal \"%.*s\"", (int)(z - z0), z0);
        return 1;
      }
    } else if (*z == '?') {                  /* a parameter: ?NNN */
      z++;
      while (*z >= '0' && *z <= '9') z++;
    } else if (strchr("()?,.=<>!- *", *z)) {
      z++;
    } else {
      snprintf(zWhy, nWhy, "character 0x%02x", (unsigned char)*z);
      return 1;
    }
  }
  return 0;
}

/* Is zNeedle inside a text binding? */
static int bindHas(const inv_q *q, const char *zNeedle) {
  int i;
  size_t n = strlen(zNeedle);
  for (i = 0; i < q->nBind; i++) {
    const inv_bind *b = &q->aBind[i];
    size_t j;
    if (b->t != INV_STR || b->n < n) continue;
    for (j = 0; j + n <= b->n; j++) if (memcmp(b->z + j, zNeedle, n) == 0) return 1;
  }
  return 0;
}

static int bindHasInt(const inv_q *q, int64_t v) {
  int i;
  for (i = 0; i < q->nBind; i++) if (q->aBind[i].t == INV_INT && q->aBind[i].i == v) return 1;
  return 0;
}

/* One compiled where clause. */
typedef struct Cw Cw;
struct Cw {
  inv_store *s;
  const inv_resource *r;
  inv_q q;
  size_t n0;                  /* SQL length before inv_where */
  int rc;
  const char *zWhere;         /* what inv_where appended */
};

/* inv_store_begin, then compile filter / filter_or / keyword (JSON texts or
** NULL) for resource r after a "SELECT t.* FROM <table> AS t WHERE " head. */
static int compileW(Cw *c, inv_store *s, const inv_resource *r, const char *zFilter,
                    const char *zFilterOr, const char *zKeyword) {
  inv_val f, fo, kw;
  memset(c, 0, sizeof *c);
  c->s = s;
  c->r = r;
  inv_store_begin(s);
  if ((zFilter && parseIn(s, zFilter, &f)) || (zFilterOr && parseIn(s, zFilterOr, &fo))
      || (zKeyword && parseIn(s, zKeyword, &kw))) {
    c->rc = -1;
    return -1;
  }
  inv_q_init(&c->q, s, r);
  inv_buf_printf(c->q.b, "SELECT t.* FROM %s AS t WHERE ", r->zTable);
  c->n0 = c->q.b->n;
  c->rc = inv_where(&c->q, zFilter ? &f : NULL, zFilterOr ? &fo : NULL,
                    zKeyword ? &kw : NULL, NULL);
  c->zWhere = c->q.b->z + c->n0;
  return c->rc;
}

/* Prepare the compiled statement (the store's driver), bind, run. Rows, or
** -1 on any failure. */
static int runW(Cw *c) {
  inv_store *s = c->s;
  inv_stmt *p = s->pDrv->xPrepare(s, c->q.b->z, 0);
  int rc, nRow = 0;
  if (!p) {
    fprintf(stderr, "  prepare: %s\n  sql: %s\n", inv_store_errmsg(s), c->q.b->z);
    return -1;
  }
  if (th_param_count(s, p) != c->q.nBind || inv_q_apply(&c->q, p)) {
    fprintf(stderr, "  %d parameters, %d bindings\n  sql: %s\n", th_param_count(s, p), c->q.nBind,
            c->q.b->z);
    s->pDrv->xReset(s, p);
    return -1;
  }
  while ((rc = s->pDrv->xStep(s, p)) == INV_ROW) nRow++;
  if (rc != INV_DONE) {
    fprintf(stderr, "  step: %s\n  sql: %s\n", inv_store_errmsg(s), c->q.b->z);
    nRow = -1;
  }
  s->pDrv->xReset(s, p);
  return nRow;
}

/* "(1) AND (1)" in the dialect's words ("(true) AND (" on PostgreSQL) */
static const char *trueAnd(inv_store *s, int bBoth) {
  static char z[64];
  if (bBoth) snprintf(z, sizeof z, "(%s) AND (%s)", s->pDia->zTrue, s->pDia->zTrue);
  else snprintf(z, sizeof z, "(%s) AND (", s->pDia->zTrue);
  return z;
}

/* Compiled, clean, bound as expected (zBound in a text binding, unless
** NULL) and runs: the rows, or -1 (reported). */
static int okW(Cw *c, const char *zBound, int line) {
  char zWhy[128];
  int n;
  if (c->rc != INV_OK) {
    th_failed++;
    fprintf(stderr, "FAIL %s:%d: inv_where failed: %s %s\n", __FILE__, line,
            inv_store_errcode(c->s), inv_store_errmsg(c->s));
    return -1;
  }
  if (sqlForeign(c->r, c->zWhere, zWhy, sizeof zWhy)) {
    th_failed++;
    fprintf(stderr, "FAIL %s:%d: SQL not ours (%s): %s\n", __FILE__, line, zWhy, c->zWhere);
    return -1;
  }
  th_passed++;
  /* PostgreSQL binds a caseless pattern with some letters written as their
  ** caseless sets (K is [Kk\u212a]): the marker's head is bound as it is */
  if (zBound && TH_PG && strstr(c->zWhere, "~*") && strncmp(zBound, "zz'MARK", 7) == 0) zBound = "zz'MAR";
  if (zBound) {
    if (bindHas(&c->q, zBound)) th_passed++;
    else {
      th_failed++;
      fprintf(stderr, "FAIL %s:%d: \"%s\" is in no binding: %s\n", __FILE__, line, zBound,
              c->zWhere);
    }
  }
  n = runW(c);
  if (n < 0) {
    th_failed++;
    fprintf(stderr, "FAIL %s:%d: the statement does not run\n", __FILE__, line);
  } else {
    th_passed++;
  }
  return n;
}
#define OKW(c, zBound) okW(c, zBound, __LINE__)

/* Failed with zCode (and zMsg inside the message, unless NULL) before any
** SQL or binding was produced. */
static void errW(Cw *c, const char *zCode, const char *zMsg, int line) {
  const char *zGot = inv_store_errcode(c->s), *zM = inv_store_errmsg(c->s);
  if (c->rc == INV_ERROR && strcmp(zGot, zCode) == 0 && (!zMsg || strstr(zM, zMsg))) {
    th_passed++;
  } else {
    th_failed++;
    fprintf(stderr, "FAIL %s:%d: expected %s (%s), got rc=%d %s %s\n  sql: %s\n", __FILE__,
            line, zCode, zMsg ? zMsg : "", c->rc, zGot, zM, c->zWhere ? c->zWhere : "");
  }
}
#define ERRW(c, code, msg) errW(c, code, msg, __LINE__)

/* Refused before anything for the condition was built: the where clause
** holds only its opening parenthesis and nothing was bound. */
static void untouchedW(Cw *c, int line) {
  if (c->q.nBind == 0 && c->q.b->n == c->n0 + 1 && strcmp(c->zWhere, "(") == 0) {
    th_passed++;
  } else {
    th_failed++;
    fprintf(stderr, "FAIL %s:%d: SQL was built before the refusal: \"%s\" (%d bindings)\n",
            __FILE__, line, c->zWhere, c->q.nBind);
  }
}
#define UNTOUCHED(c) untouchedW(c, __LINE__)

/* ------------------------------------------------------------ operators */

static const char *const azAllOps[] = {
  "lt", "lte", "gt", "gte", "eq", "not", "exists", "contain", "not_contain", "in",
  "not_in", "contain_in", "not_contain_in", "match", "regex", "regex_in",
  "datetime_gt", "datetime_lt", "datetime_gte", "datetime_lte",
  "timediff_gt", "timediff_lt", "timediff_gte", "timediff_lte", NULL
};

/* A valid value for each operator, used with a hostile or nested key. */
static int isListOp(const char *zOp) {
  return strcmp(zOp, "in") == 0 || strcmp(zOp, "not_in") == 0 || strcmp(zOp, "contain_in") == 0
      || strcmp(zOp, "not_contain_in") == 0 || strcmp(zOp, "regex_in") == 0;
}
static const char *validValue(const char *zOp) {
  if (strcmp(zOp, "exists") == 0) return "true";
  if (strcmp(zOp, "match") == 0) return "{\"k\":\"x\"}";
  if (strncmp(zOp, "datetime_", 9) == 0) return "\"2024-01-02T00:00:00Z\"";
  if (strncmp(zOp, "timediff_", 9) == 0) return "\"now-1d\"";
  if (strcmp(zOp, "in") == 0 || strcmp(zOp, "not_in") == 0) return "[\"x\",null,1]";
  if (isListOp(zOp)) return "[\"x\",\"y\"]";
  return "\"x\"";
}

/* Each operator with the marker as its value (or inside it). */
static void opsValueMarker(inv_store *s) {
  static const struct { const char *zRes, *zCond, *zBound; } a[] = {
    { "job", "[{\"k\":\"job_id\",\"v\":" MARKJ ",\"o\":\"lt\"}]", MARK },
    { "job", "[{\"k\":\"job_id\",\"v\":" MARKJ ",\"o\":\"lte\"}]", MARK },
    { "job", "[{\"k\":\"job_id\",\"v\":" MARKJ ",\"o\":\"gt\"}]", MARK },
    { "job", "[{\"k\":\"job_id\",\"v\":" MARKJ ",\"o\":\"gte\"}]", MARK },
    { "job", "[{\"k\":\"job_id\",\"v\":" MARKJ ",\"o\":\"eq\"}]", MARK },
    { "job", "[{\"k\":\"job_id\",\"v\":" MARKJ ",\"o\":\"not\"}]", MARK },
    { "job", "[{\"k\":\"job_id\",\"v\":" MARKJ ",\"o\":\"contain\"}]", MARK },
    { "job", "[{\"k\":\"job_id\",\"v\":" MARKJ ",\"o\":\"not_contain\"}]", MARK },
    /* up to 8 strings: each bound as it is; more: one JSON list */
    { "job", "[{\"k\":\"job_id\",\"v\":[" MARKJ "],\"o\":\"in\"}]", MARK },
    { "job", "[{\"k\":\"job_id\",\"v\":[" MARKJ "],\"o\":\"not_in\"}]", MARK },
    { "job", "[{\"k\":\"job_id\",\"v\":[" MARKJ ",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\"],\"o\":\"in\"}]",
      "zz'MARK\\\"--" },
    { "job", "[{\"k\":\"job_id\",\"v\":[" MARKJ ",\"a\"],\"o\":\"contain_in\"}]", MARK },
    { "job", "[{\"k\":\"job_id\",\"v\":[" MARKJ ",\"a\"],\"o\":\"not_contain_in\"}]", MARK },
    { "job_task", "[{\"k\":\"errors\",\"v\":{\"message\":" MARKJ "},\"o\":\"match\"}]", MARK },
    { "job", "[{\"k\":\"job_id\",\"v\":" MARKJ ",\"o\":\"regex\"}]", MARK },
    { "job", "[{\"k\":\"job_id\",\"v\":[\"a\"," MARKJ "],\"o\":\"regex_in\"}]", MARK },
    /* nested free-form values: bound JSON paths and values */
    { "job", "[{\"k\":\"filter.s\",\"v\":" MARKJ ",\"o\":\"eq\"}]", MARK },
    { "job", "[{\"k\":\"filter.s\",\"v\":" MARKJ ",\"o\":\"lt\"}]", MARK },
    { "job", "[{\"k\":\"filter.tags\",\"v\":[" MARKJ "],\"o\":\"in\"}]", MARK },
    { "job", "[{\"k\":\"filter.tags\",\"v\":[" MARKJ "],\"o\":\"not_in\"}]", MARK },
    { "job", "[{\"k\":\"filter.s\",\"v\":" MARKJ ",\"o\":\"not_contain\"}]", MARK },
    { "job", "[{\"k\":\"filter.s\",\"v\":" MARKJ ",\"o\":\"regex\"}]", MARK },
    /* object values are bound as JSON text (the marker's quote escaped) */
    { "job", "[{\"k\":\"filter\",\"v\":{\"a\":" MARKJ "},\"o\":\"eq\"}]", "zz'MARK\\\"--" },
    { "job", "[{\"k\":\"filter.o\",\"v\":{\"a\":" MARKJ "},\"o\":\"eq\"}]", "zz'MARK\\\"--" },
    { "job_task", "[{\"k\":\"errors.message\",\"v\":" MARKJ ",\"o\":\"eq\"}]", MARK },
    { "job_task", "[{\"k\":\"errors.0.message\",\"v\":" MARKJ ",\"o\":\"not\"}]", MARK },
    { "job_task", "[{\"k\":\"errors.additional.x\",\"v\":[" MARKJ "],\"o\":\"contain_in\"}]", MARK },
    { "job_task", "[{\"k\":\"errors\",\"v\":{\"error_code__in\":[" MARKJ "]},\"o\":\"match\"}]", MARK },
    { "job_task", "[{\"k\":\"errors\",\"v\":{\"message__iexact\":" MARKJ "},\"o\":\"match\"}]", MARK },
    { "job_task", "[{\"k\":\"errors\",\"v\":{\"message__istartswith\":" MARKJ "},\"o\":\"match\"}]", MARK },
    { "job_task", "[{\"k\":\"errors\",\"v\":{\"message__endswith\":" MARKJ "},\"o\":\"match\"}]", MARK },
    { "job_task", "[{\"k\":\"errors\",\"v\":{\"message__contains\":" MARKJ "},\"o\":\"match\"}]", MARK },
    { "job_task", "[{\"k\":\"errors\",\"v\":{\"message__iregex\":" MARKJ "},\"o\":\"match\"}]", MARK },
    { "job_task", "[{\"k\":\"errors\",\"v\":{\"message__ne\":" MARKJ "},\"o\":\"match\"}]", MARK },
    { "job_task", "[{\"k\":\"errors\",\"v\":{\"additional.zz'KMARK\":" MARKJ "},\"o\":\"match\"}]", "KMARK" },
    { "job", "[{\"k\":\"filter.tags\",\"v\":{\"zz'KMARK\":1},\"o\":\"match\"}]", "KMARK" },
  };
  size_t i;
  for (i = 0; i < sizeof a / sizeof a[0]; i++) {
    Cw c;
    int n;
    compileW(&c, s, inv_resource_find(a[i].zRes), a[i].zCond, NULL, NULL);
    n = OKW(&c, a[i].zBound);
    if (n < 0) fprintf(stderr, "  (case %d: %s)\n", (int)i, a[i].zCond);
  }
}

/* datetime_* and timediff_*: the instant is bound, never pasted. */
static void opsTime(inv_store *s) {
  static const char *const azDt[] = { "datetime_gt", "datetime_lt", "datetime_gte", "datetime_lte" };
  static const char *const azTd[] = { "timediff_gt", "timediff_lt", "timediff_gte", "timediff_lte" };
  int64_t ms = 0, now = inv_now(s);
  int i;
  char z[256];
  inv_time_parse_strict("2024-01-02T03:04:05.678Z", 24, &ms);
  for (i = 0; i < 4; i++) {
    Cw c;
    snprintf(z, sizeof z, "[{\"k\":\"created_at\",\"v\":\"2024-01-02T03:04:05.678Z\",\"o\":\"%s\"}]",
             azDt[i]);
    compileW(&c, s, &inv_res_job, z, NULL, NULL);
    OKW(&c, NULL);
    CHECK(bindHasInt(&c.q, ms));
    CHECK(strstr(c.zWhere, "2024") == NULL);
    /* the marker is not a date: refused, nothing built */
    snprintf(z, sizeof z, "[{\"k\":\"created_at\",\"v\":" MARKJ ",\"o\":\"%s\"}]", azDt[i]);
    compileW(&c, s, &inv_res_job, z, NULL, NULL);
    ERRW(&c, "ERROR_INVALID_PARAMETER", "ISO 8601");
    UNTOUCHED(&c);

    snprintf(z, sizeof z, "[{\"k\":\"finished_at\",\"v\":\"now-1d\",\"o\":\"%s\"}]", azTd[i]);
    compileW(&c, s, &inv_res_job, z, NULL, NULL);
    OKW(&c, NULL);
    CHECK(bindHasInt(&c.q, now - 86400000));
    CHECK(strstr(c.zWhere, "now") == NULL);
    snprintf(z, sizeof z, "[{\"k\":\"finished_at\",\"v\":" MARKJ ",\"o\":\"%s\"}]", azTd[i]);
    compileW(&c, s, &inv_res_job, z, NULL, NULL);
    ERRW(&c, "ERROR_DB_QUERY", MARKJ " is not a relative time for timediff_");
    UNTOUCHED(&c);
  }
}

/* Every operator with a hostile nested key: the key reaches the SQL only as
** a bound JSON path; with a double quote it is refused (regex: false). */
static void opsKeyMarker(inv_store *s) {
  int i;
  for (i = 0; azAllOps[i]; i++) {
    const char *zOp = azAllOps[i];
    int bTime = strncmp(zOp, "datetime_", 9) == 0 || strncmp(zOp, "timediff_", 9) == 0;
    char z[512];
    Cw c;
    int n;
    /* free-form object */
    snprintf(z, sizeof z, "[{\"k\":\"filter." KMARK "\",\"v\":%s,\"o\":\"%s\"}]",
             validValue(zOp), zOp);
    compileW(&c, s, &inv_res_job, z, NULL, NULL);
    n = OKW(&c, bTime ? NULL : "KMARK");
    if (n < 0) fprintf(stderr, "  (op %s)\n", zOp);
    if (bTime) CHECK(c.q.nBind == 0);          /* a date on a nested key: false */
    /* deeper, and under errors.additional (an array path) */
    snprintf(z, sizeof z, "[{\"k\":\"errors.additional." KMARK ".x y\",\"v\":%s,\"o\":\"%s\"}]",
             validValue(zOp), zOp);
    compileW(&c, s, &inv_res_task, z, NULL, NULL);
    if (OKW(&c, bTime ? NULL : "KMARK") < 0) fprintf(stderr, "  (op %s)\n", zOp);
    snprintf(z, sizeof z, "[{\"k\":\"errors.1.additional." KMARK "\",\"v\":%s,\"o\":\"%s\"}]",
             validValue(zOp), zOp);
    compileW(&c, s, &inv_res_task, z, NULL, NULL);
    if (OKW(&c, bTime ? NULL : "KMARK") < 0) fprintf(stderr, "  (op %s)\n", zOp);
    /* a double quote cannot be addressed: refused before any SQL */
    snprintf(z, sizeof z, "[{\"k\":\"filter.zz\\\"MARK\",\"v\":%s,\"o\":\"%s\"}]",
             validValue(zOp), zOp);
    compileW(&c, s, &inv_res_job, z, NULL, NULL);
    ERRW(&c, "ERROR_DB_QUERY", "Cannot resolve field");
    UNTOUCHED(&c);
    /* an undeclared top-level key */
    snprintf(z, sizeof z, "[{\"k\":\"" KMARK "\",\"v\":%s,\"o\":\"%s\"}]", validValue(zOp), zOp);
    compileW(&c, s, &inv_res_job, z, NULL, NULL);
    ERRW(&c, "ERROR_DB_QUERY", "Cannot resolve field \"" KMARK "\"");
    UNTOUCHED(&c);
    /* the marker value on a typed column of each kind */
    if (!bTime && strcmp(zOp, "exists") && strcmp(zOp, "match")) {
      static const char *const azCol[] = { "job_id", "total_tasks", "created_at", "filter", "errors" };
      int k;
      for (k = 0; k < 5; k++) {
        snprintf(z, sizeof z, "[{\"k\":\"%s\",\"v\":%s%s%s,\"o\":\"%s\"}]", azCol[k],
                 isListOp(zOp) ? "[" : "", MARKJ, isListOp(zOp) ? "]" : "", zOp);
        compileW(&c, s, &inv_res_job, z, NULL, NULL);
        if (c.rc == INV_OK) {
          n = OKW(&c, NULL);
          if (n < 0) fprintf(stderr, "  (%s)\n", z);
        } else {
          /* a string that is no int / no date: refused before any SQL */
          CHECK(k == 1 || k == 2);
          UNTOUCHED(&c);
        }
      }
    }
  }
}

/* A SQLite JSON path ($[0]."a"."b") as the text[] PostgreSQL's dialect
** binds ({"0","a","b"}; labels are escaped alike). */
static const char *pgPath(const char *z, char *zOut, size_t nOut) {
  size_t n = 0;
  int bFirst = 1;
  zOut[n++] = '{';
  if (*z == '$') z++;
  while (*z && n + 8 < nOut) {
    if (!bFirst) zOut[n++] = ',';
    bFirst = 0;
    zOut[n++] = '"';
    if (*z == '[') {
      for (z++; *z && *z != ']'; z++) zOut[n++] = *z;
      if (*z) z++;
    } else if (z[0] == '.' && z[1] == '"') {
      for (z += 2; *z && *z != '"' && n + 4 < nOut; z++) {
        if (*z == '\\' && z[1]) zOut[n++] = *z++;
        zOut[n++] = *z;
      }
      if (*z) z++;
    } else {
      break;
    }
    zOut[n++] = '"';
  }
  zOut[n++] = '}';
  zOut[n] = 0;
  return zOut;
}

/* Keys that are not declared fields, hostile keys. */
static void keys(inv_store *s) {
  static const struct { const char *zRes, *zKey, *zMsg; } aBad[] = {
    { "job", "foo", "Cannot resolve field \"foo\"" },
    { "job", "status.x", "Cannot resolve field" },
    { "job", "total_tasks.0", "Cannot resolve field" },
    { "job", "errors.foo", "Cannot resolve field \"foo\"" },
    { "job_task", "errors.foo", "Cannot resolve field \"foo\"" },
    { "job_task", "errors.0.foo", "Cannot resolve field \"foo\"" },
    { "job_task", "errors.message.x", "Cannot resolve field" },
    { "job_task", "errors.error_code.x", "Cannot resolve field" },
    { "job", "status; DROP TABLE job", "Cannot resolve field \"status; DROP TABLE job\"" },
    { "job", "a\\\"b", "Cannot resolve field" },
    { "job", "filter.a\\\"b", "Cannot resolve field" },
    { "job", "filter..a", "Cannot resolve field" },
    { "job", "filter.", "Cannot resolve field" },
    { "job", ".filter", "Cannot resolve field" },
    { "job", "job_id\\u0000x", "Cannot resolve field" },
    { "job", "filter.a\\u0000b", "Cannot resolve field" },
    { "job", "t.job_id", "Cannot resolve field" },
    { "job", "JOB_ID", "Cannot resolve field" },
    { "job", "job_id ", "Cannot resolve field" },
    { "job", "id", "Cannot resolve field" },
    { "job", "rowid", "Cannot resolve field" },
    { "job", "collector", "Cannot resolve field \"collector\"" },
    { "job", "collector.provider", "Cannot resolve field \"collector\"" },
    { "job", "provider", "Cannot resolve field \"provider\"" },
    { "job_task", "total_tasks", "Cannot resolve field \"total_tasks\"" },
    { "job", "user_projects", "Cannot resolve field \"user_projects\"" },
  };
  static const char *const azOps[] = { "eq", "not", "in", "exists", "contain_in", "lt" };
  size_t i, j;
  char z[512];
  Cw c;
  for (i = 0; i < sizeof aBad / sizeof aBad[0]; i++) {
    for (j = 0; j < sizeof azOps / sizeof azOps[0]; j++) {
      snprintf(z, sizeof z, "[{\"k\":\"%s\",\"v\":%s,\"o\":\"%s\"}]", aBad[i].zKey,
               validValue(azOps[j]), azOps[j]);
      compileW(&c, s, inv_resource_find(aBad[i].zRes), z, NULL, NULL);
      ERRW(&c, "ERROR_DB_QUERY", aBad[i].zMsg);
      UNTOUCHED(&c);
    }
    /* regex too: an unknown key is an error whatever the operator (DESIGN) */
    snprintf(z, sizeof z, "[{\"k\":\"%s\",\"v\":\"x\",\"o\":\"regex\"}]", aBad[i].zKey);
    compileW(&c, s, inv_resource_find(aBad[i].zRes), z, NULL, NULL);
    ERRW(&c, "ERROR_DB_QUERY", aBad[i].zMsg);
    CHECK_INT(c.q.nBind, 0);
    snprintf(z, sizeof z, "[{\"k\":\"%s\",\"v\":[\"x\",\"y\"],\"o\":\"regex_in\"}]", aBad[i].zKey);
    compileW(&c, s, inv_resource_find(aBad[i].zRes), z, NULL, NULL);
    ERRW(&c, "ERROR_DB_QUERY", aBad[i].zMsg);
    /* in filter_or too */
    snprintf(z, sizeof z, "[{\"k\":\"%s\",\"v\":\"x\",\"o\":\"eq\"}]", aBad[i].zKey);
    compileW(&c, s, inv_resource_find(aBad[i].zRes), NULL, z, NULL);
    ERRW(&c, "ERROR_DB_QUERY", aBad[i].zMsg);
    CHECK_INT(c.q.nBind, 0);
    CHECK_STR(c.zWhere, trueAnd(s, 0));
  }
  /* the first bad key of several stops compilation there */
  compileW(&c, s, &inv_res_job, "[{\"k\":\"job_id\",\"v\":\"a\",\"o\":\"eq\"},"
           "{\"k\":\"foo\",\"v\":\"b\",\"o\":\"eq\"},{\"k\":\"bar\",\"v\":\"c\",\"o\":\"eq\"}]",
           NULL, NULL);
  ERRW(&c, "ERROR_DB_QUERY", "Cannot resolve field \"foo\"");
  CHECK_INT(c.q.nBind, 1);

  /* declared nested keys: paths are bound, never pasted */
  {
    static const struct { const char *zRes, *zKey, *zPath; } aOk[] = {
      { "job_task", "errors.0.message", "$[0].\"message\"" },
      { "job_task", "errors.12.additional.a b", "$[12].\"additional\".\"a b\"" },
      { "job_task", "errors.message", "$.\"message\"" },
      { "job_task", "errors.additional.resource_type", "$.\"additional\".\"resource_type\"" },
      { "job_task", "errors.additional.0", "$.\"additional\".\"0\"" },
      { "job_task", "errors.0", "$[0]" },
      { "job", "errors.error_code", "$.\"error_code\"" },
      { "job", "filter.status; DROP TABLE job", "$.\"status; DROP TABLE job\"" },
      { "job", "filter.a'b", "$.\"a'b\"" },
      { "job", "filter.a\\\\b", "$.\"a\\\\b\"" },   /* labels are escaped as stored */
      { "job", "filter.$", "$.\"$\"" },
      { "job", "filter.*", "$.\"*\"" },
      { "job", "filter.[0]", "$.\"[0]\"" },
      { "job", "filter.0", "$.\"0\"" },
      { "job", "collector_info.provider", "$.\"provider\"" },
      { "job", "filter.\\u00e9t\\u00e9", "$.\"\xc3\xa9t\xc3\xa9\"" },
    };
    for (i = 0; i < sizeof aOk / sizeof aOk[0]; i++) {
      char zPg[256];
      const char *zPath = TH_PG ? pgPath(aOk[i].zPath, zPg, sizeof zPg) : aOk[i].zPath;
      for (j = 0; azAllOps[j]; j++) {
        int bTime = strncmp(azAllOps[j], "datetime_", 9) == 0
                 || strncmp(azAllOps[j], "timediff_", 9) == 0;
        snprintf(z, sizeof z, "[{\"k\":\"%s\",\"v\":%s,\"o\":\"%s\"}]", aOk[i].zKey,
                 validValue(azAllOps[j]), azAllOps[j]);
        compileW(&c, s, inv_resource_find(aOk[i].zRes), z, NULL, NULL);
        if (OKW(&c, bTime ? NULL : zPath) < 0) {
          fprintf(stderr, "  (key %s, op %s)\n", aOk[i].zKey, azAllOps[j]);
        }
      }
    }
  }
  /* user_projects is project_id on tasks */
  compileW(&c, s, &inv_res_task, "[{\"k\":\"user_projects\",\"v\":[\"p\"],\"o\":\"in\"}]", NULL, NULL);
  OKW(&c, "p");
  CHECK(strstr(c.zWhere, "t.project_id") != NULL);
  /* the table still stands */
  compileW(&c, s, &inv_res_job, "[]", "[]", NULL);
  CHECK_INT(OKW(&c, NULL), 4);
  CHECK_STR(c.zWhere, trueAnd(s, 1));
}

/* Condition shapes and their error codes. */
static void shapes(inv_store *s) {
  static const struct { const char *zFilter, *zCode, *zMsg; } a[] = {
    { "[{\"k\":\"status\",\"v\":\"SUCCESS\",\"o\":\"in\"}]", "ERROR_OPERATOR_LIST_VALUE_TYPE",
      "The value of the in operator must be a list." },
    { "[{\"k\":\"status\",\"v\":\"x\",\"o\":\"not_in\"}]", "ERROR_OPERATOR_LIST_VALUE_TYPE", "the not_in operator" },
    { "[{\"k\":\"status\",\"v\":{},\"o\":\"contain_in\"}]", "ERROR_OPERATOR_LIST_VALUE_TYPE", NULL },
    { "[{\"k\":\"status\",\"v\":null,\"o\":\"not_contain_in\"}]", "ERROR_OPERATOR_LIST_VALUE_TYPE", NULL },
    { "[{\"k\":\"status\",\"o\":\"regex_in\"}]", "ERROR_OPERATOR_LIST_VALUE_TYPE", NULL },
    { "[{\"k\":\"foo\",\"v\":\"x\",\"o\":\"in\"}]", "ERROR_OPERATOR_LIST_VALUE_TYPE", NULL },
    { "[{\"v\":\"x\",\"o\":\"in\"}]", "ERROR_OPERATOR_LIST_VALUE_TYPE", NULL },
    { "[{\"k\":\"status\",\"v\":[\"SUCCESS\"],\"o\":\"eq\"}]", "ERROR_OPERATOR_VALUE_TYPE",
      "The value of the eq operator must not be a list; use in for a list." },
    { "[{\"k\":\"status\",\"v\":[],\"o\":\"not\"}]", "ERROR_OPERATOR_VALUE_TYPE", NULL },
    { "[{\"k\":\"created_at\",\"v\":[1],\"o\":\"datetime_gt\"}]", "ERROR_OPERATOR_VALUE_TYPE", NULL },
    { "[{\"k\":\"status\",\"v\":[true],\"o\":\"exists\"}]", "ERROR_OPERATOR_VALUE_TYPE", NULL },
    { "[{\"k\":\"foo\",\"v\":[\"x\"],\"o\":\"regex\"}]", "ERROR_OPERATOR_VALUE_TYPE", NULL },
    { "[{\"k\":\"finished_at\",\"v\":\"yes\",\"o\":\"exists\"}]", "ERROR_OPERATOR_BOOLEAN_TYPE",
      "The value of the exists operator must be true or false." },
    { "[{\"k\":\"finished_at\",\"o\":\"exists\"}]", "ERROR_OPERATOR_BOOLEAN_TYPE", NULL },
    { "[{\"k\":\"finished_at\",\"v\":1,\"o\":\"exists\"}]", "ERROR_OPERATOR_BOOLEAN_TYPE", NULL },
    { "[{\"k\":\"errors\",\"v\":\"x\",\"o\":\"match\"}]", "ERROR_OPERATOR_DICT_VALUE_TYPE",
      "The value of the match operator must be an object." },
    { "[{\"k\":\"errors\",\"v\":null,\"o\":\"match\"}]", "ERROR_OPERATOR_DICT_VALUE_TYPE", NULL },
    { "[{\"k\":\"status\",\"v\":\"SUCCESS\"}]", "ERROR_DB_QUERY",
      "(key = query.filter, reason = the condition {\"k\":\"status\",\"v\":\"SUCCESS\"} has no operator; "
      "give \"o\" as one of lt, lte, gt, gte, eq, not," },
    { "[{\"k\":\"status\",\"v\":\"SUCCESS\",\"o\":\"\"}]", "ERROR_DB_QUERY", "has no operator" },
    { "[{\"k\":\"status\",\"v\":\"SUCCESS\",\"o\":\"EQ\"}]", "ERROR_DB_QUERY",
      "filter operator \"EQ\" is not supported; use one of lt, lte, gt, gte, eq, not, exists, contain, "
      "not_contain, in, not_in, contain_in, not_contain_in, match, regex, regex_in, datetime_gt, "
      "datetime_lt, datetime_gte, datetime_lte, timediff_gt, timediff_lt, timediff_gte, timediff_lte.)" },
    { "[{\"k\":\"status\",\"v\":\"SUCCESS\",\"o\":1}]", "ERROR_DB_QUERY", "filter operator 1 is not supported" },
    { "[{\"k\":\"status\",\"v\":\"SUCCESS\",\"o\":" MARKJ "}]", "ERROR_DB_QUERY", NULL },
    { "[{\"v\":\"x\",\"o\":\"eq\"}]", "ERROR_DB_QUERY",
      "(key = query.filter, reason = the condition {\"v\":\"x\",\"o\":\"eq\"} has no key; give \"k\", the "
      "field to test.)" },
    { "[{\"k\":\"\",\"v\":\"x\",\"o\":\"eq\"}]", "ERROR_DB_QUERY", "has no key" },
    { "[{\"k\":null,\"v\":\"x\",\"o\":\"eq\"}]", "ERROR_DB_QUERY", "has no key" },
    { "[{\"k\":5,\"v\":\"x\",\"o\":\"eq\"}]", "ERROR_DB_QUERY", "the key 5 is not a field name" },
    { "[{\"key\":null,\"k\":\"status\",\"v\":\"x\",\"o\":\"eq\"}]", "ERROR_DB_QUERY", "has no key" },
    { "[{\"k\":\"status\",\"v\":\"x\",\"o\":\"eq\",\"x\":1}]", "ERROR_INVALID_PARAMETER",
      "(key = query.filter.x, reason = unknown parameter; use one of k, v, o, key, value, operator.)" },
    { "[\"status\"]", "ERROR_INVALID_PARAMETER_TYPE", "type = list of condition objects, value = \"status\")" },
    { "[[]]", "ERROR_INVALID_PARAMETER_TYPE", NULL },
    { "{\"k\":\"status\"}", "ERROR_INVALID_PARAMETER_TYPE", "query.filter" },
    { "\"status\"", "ERROR_INVALID_PARAMETER_TYPE", NULL },
    { "[{\"k\":\"job_id\",\"v\":\"(\",\"o\":\"regex\"}]", "ERROR_DB_QUERY", NULL },
    { "[{\"k\":\"job_id\",\"v\":[\"a\",\"[\"],\"o\":\"regex_in\"}]", "ERROR_DB_QUERY", NULL },
    { "[{\"k\":\"job_id\",\"v\":5,\"o\":\"regex\"}]", "ERROR_DB_QUERY", "reason = regex takes a string, not 5.)" },
    { "[{\"k\":\"job_id\",\"v\":[null],\"o\":\"regex_in\"}]", "ERROR_DB_QUERY", NULL },
    { "[{\"k\":\"created_at\",\"v\":\"2024/01/03\",\"o\":\"datetime_gt\"}]", "ERROR_INVALID_PARAMETER",
      "(key = created_at, reason = datetime_gt takes an ISO 8601 datetime such as 2024-01-31T12:00:00Z, "
      "not \"2024/01/03\".)" },
    { "[{\"k\":\"created_at\",\"v\":5,\"o\":\"datetime_lt\"}]", "ERROR_INVALID_PARAMETER", NULL },
    { "[{\"k\":\"created_at\",\"v\":\"now-5y\",\"o\":\"timediff_gte\"}]", "ERROR_DB_QUERY",
      "\"now-5y\" is not a relative time for timediff_gte; write now, now/d, now/w or now/m" },
    { "[{\"k\":\"created_at\",\"v\":\"NOW-1d\",\"o\":\"timediff_gte\"}]", "ERROR_DB_QUERY", NULL },
    { "[{\"k\":\"created_at\",\"v\":5,\"o\":\"timediff_lt\"}]", "ERROR_DB_QUERY", NULL },
    { "[{\"k\":\"total_tasks\",\"v\":\"abc\",\"o\":\"eq\"}]", "ERROR_DB_QUERY",
      "(key = query.filter, reason = total_tasks holds integers, and \"abc\" is not an integer.)" },
    { "[{\"k\":\"total_tasks\",\"v\":[1,\"5.5\"],\"o\":\"in\"}]", "ERROR_DB_QUERY", "and \"5.5\" is not an integer" },
    { "[{\"k\":\"total_tasks\",\"v\":{},\"o\":\"eq\"}]", "ERROR_DB_QUERY", "and {} is not an integer" },
    { "[{\"k\":\"status\",\"v\":5,\"o\":\"contain\"}]", "ERROR_DB_QUERY",
      "(key = query.filter, reason = contain takes a string, not 5.)" },
    { "[{\"k\":\"status\",\"v\":[\"a\",1.5],\"o\":\"contain_in\"}]", "ERROR_DB_QUERY", "contain_in takes strings, not 1.5." },
    { "[{\"k\":\"finished_at\",\"v\":\"garbage\",\"o\":\"eq\"}]", "ERROR_INVALID_PARAMETER",
      "\"garbage\" is not an ISO 8601 datetime" },
    { "[{\"k\":\"errors\",\"v\":{\"foo\":1},\"o\":\"match\"}]", "ERROR_DB_QUERY", "Cannot resolve field \"foo\"" },
    { "[{\"k\":\"errors\",\"v\":{\"message__in\":\"x\"},\"o\":\"match\"}]", "ERROR_OPERATOR_LIST_VALUE_TYPE", NULL },
    { "[{\"k\":\"errors\",\"v\":{\"message__exists\":1},\"o\":\"match\"}]", "ERROR_OPERATOR_BOOLEAN_TYPE", NULL },
    { "[{\"k\":\"errors\",\"v\":{\"message__icontains\":1},\"o\":\"match\"}]", "ERROR_DB_QUERY", NULL },
    { "[{\"k\":\"errors\",\"v\":{\"message__regex\":\"(\"},\"o\":\"match\"}]", "ERROR_DB_QUERY", NULL },
    { "[{\"k\":\"errors\",\"v\":{\"message__lt\":[1]},\"o\":\"match\"}]", "ERROR_OPERATOR_VALUE_TYPE", NULL },
    { "[{\"k\":\"errors\",\"v\":{\"a\\\"b\":1},\"o\":\"match\"}]", "ERROR_DB_QUERY", "Cannot resolve field" },
  };
  size_t i;
  for (i = 0; i < sizeof a / sizeof a[0]; i++) {
    Cw c;
    compileW(&c, s, &inv_res_job, a[i].zFilter, NULL, NULL);
    ERRW(&c, a[i].zCode, a[i].zMsg);
    if (c.rc == INV_ERROR && c.q.nBind != 0) {
      th_failed++;
      fprintf(stderr, "FAIL %s:%d: case %d bound values before failing\n", __FILE__, __LINE__, (int)i);
    } else {
      th_passed++;
    }
  }
  /* the list shape is checked before the key: the message shows the
  ** condition as given */
  {
    Cw c;
    compileW(&c, s, &inv_res_job, "[{\"k\":\"status\",\"v\":\"SUCCESS\",\"o\":\"in\"}]", NULL, NULL);
    ERRW(&c, "ERROR_OPERATOR_LIST_VALUE_TYPE",
         "The value of the in operator must be a list. (key = query.filter, condition = "
         "{\"k\":\"status\",\"v\":\"SUCCESS\",\"o\":\"in\"})");
    compileW(&c, s, &inv_res_job, NULL, NULL, "5");
    ERRW(&c, "ERROR_INVALID_PARAMETER_TYPE", "query.keyword");
    compileW(&c, s, &inv_res_job, NULL, "{}", NULL);
    ERRW(&c, "ERROR_INVALID_PARAMETER_TYPE", "query.filter_or");
  }
  /* limits */
  {
    inv_buf b;
    int k;
    Cw c;
    inv_buf_init(&b);
    inv_buf_adds(&b, "[{\"k\":\"job_id\",\"v\":[");
    for (k = 0; k < 1001; k++) inv_buf_printf(&b, "%s\"v%d\"", k ? "," : "", k);
    inv_buf_adds(&b, "],\"o\":\"contain_in\"}]");
    compileW(&c, s, &inv_res_job, b.z, NULL, NULL);
    ERRW(&c, "ERROR_INVALID_PARAMETER", "at most 1000");
    /* in on a column takes any length: one JSON parameter */
    memcpy(strstr(b.z, "contain_in"), "in\"}]\0", 6);
    compileW(&c, s, &inv_res_job, b.z, NULL, NULL);
    OKW(&c, "\"v1000\"");
    CHECK_INT(c.q.nBind, 1);
    inv_buf_reset(&b);
    inv_buf_addc(&b, '[');
    for (k = 0; k < 1001; k++) inv_buf_printf(&b, "%s{\"k\":\"job_id\",\"v\":\"x\",\"o\":\"eq\"}", k ? "," : "");
    inv_buf_addc(&b, ']');
    compileW(&c, s, &inv_res_job, b.z, NULL, NULL);
    ERRW(&c, "ERROR_INVALID_PARAMETER", "at most 1000 conditions");
    /* a 1000-element list on a nested key becomes a balanced OR that runs */
    for (k = 0; k < 2; k++) {
      int j;
      inv_buf_reset(&b);
      inv_buf_adds(&b, "[{\"k\":\"errors.error_code\",\"v\":[\"E_A\"");
      for (j = 1; j < 1000 + k; j++) inv_buf_printf(&b, ",\"E_%d\"", j);
      inv_buf_adds(&b, "],\"o\":\"in\"}]");
      compileW(&c, s, &inv_res_task, b.z, NULL, NULL);
      if (k) ERRW(&c, "ERROR_INVALID_PARAMETER", "at most 1000 values; this one has 1001.");
      else CHECK_INT(OKW(&c, "E_A"), 2);
    }
    inv_buf_free(&b);
  }
}

/* The SQL of representative conditions, exactly (a change here is a change
** of plan that deserves a look): SQLite's. */
static void exactSqlSqlite(inv_store *s);
static void exactSql(inv_store *s) {
  if (TH_PG) return;                   /* SQLite's texts */
  exactSqlSqlite(s);
}
static void exactSqlSqlite(inv_store *s) {
  static const struct { const char *zRes, *zFilter, *zSql; int nBind; } a[] = {
    { "job", "[{\"k\":\"status\",\"v\":\"SUCCESS\",\"o\":\"eq\"}]", "(t.status = ?1) AND (1)", 1 },
    { "job", "[{\"k\":\"status\",\"v\":5,\"o\":\"eq\"}]", "(0) AND (1)", 0 },
    { "job", "[{\"k\":\"job_id\",\"v\":\"x\",\"o\":\"not\"}]", "(NOT coalesce(t.job_id = ?1, 0)) AND (1)", 1 },
    { "job", "[{\"k\":\"job_id\",\"v\":\"a_%\",\"o\":\"contain\"}]", "(t.job_id LIKE ?1 ESCAPE '\\') AND (1)", 1 },
    { "job", "[{\"k\":\"job_id\",\"v\":\"x\",\"o\":\"regex\"}]", "(inv_regexp(?1, t.job_id)) AND (1)", 1 },
    { "job", "[{\"k\":\"finished_at\",\"v\":null,\"o\":\"eq\"}]", "(t.finished_at IS NULL) AND (1)", 0 },
    { "job", "[{\"k\":\"finished_at\",\"v\":true,\"o\":\"exists\"}]", "(1) AND (1)", 0 },
    { "job", "[{\"k\":\"total_tasks\",\"v\":[],\"o\":\"in\"}]", "(0) AND (1)", 0 },
    { "job", "[{\"k\":\"status\",\"v\":[],\"o\":\"contain_in\"}]", "(0) AND (1)", 0 },
    { "job", "[{\"k\":\"status\",\"v\":[],\"o\":\"not_in\"}]", "(NOT coalesce(0, 0)) AND (1)", 0 },
    { "job", "[{\"k\":\"created_at\",\"v\":\"2024-01-01\",\"o\":\"datetime_gte\"}]", "(t.created_at >= ?1) AND (1)", 1 },
  };
  size_t i;
  for (i = 0; i < sizeof a / sizeof a[0]; i++) {
    Cw c;
    compileW(&c, s, inv_resource_find(a[i].zRes), a[i].zFilter, NULL, NULL);
    OKW(&c, NULL);
    CHECK_STR(c.zWhere, a[i].zSql);
    CHECK_INT(c.q.nBind, a[i].nBind);
  }
  {
    Cw c;
    compileW(&c, s, &inv_res_job, "[{\"k\":\"job_id\",\"v\":\"a_%\\\\\",\"o\":\"contain\"}]", NULL, NULL);
    OKW(&c, "%a\\_\\%\\\\%");
    /* the keyword: one LIKE per token, in filter_or */
    compileW(&c, s, &inv_res_job, NULL, NULL, "\" aaa  zz'MARK\\\"--\\t\"");
    OKW(&c, "%zz'MARK\"--%");
    CHECK_INT(c.q.nBind, 2);
    CHECK(strncmp(c.zWhere, "(1) AND (", 9) == 0);
    CHECK(bindHas(&c.q, "%aaa%"));
  }
}

/* ----------------------------------------------------------- end to end */

static const char *shortId(const char *z) {
  static const char *const az[][2] = {
    { "job-aaa111", "J1" }, { "job-bbb222", "J2" }, { "job-ccc333", "J3" }, { "job-ddd444", "J4" },
    { "job-task-001", "T1" }, { "job-task-002", "T2" }, { "job-task-003", "T3" },
  };
  size_t i;
  for (i = 0; i < sizeof az / sizeof az[0]; i++) if (strcmp(az[i][0], z) == 0) return az[i][1];
  return z;
}

/* List with a query (JSON), result as "J4,J3/2" (ids, then total_count) or
** "ERR:<code>". */
static const char *list(inv_store *s, const char *zRes, const char *zQuery) {
  static char zOut[512];
  char zReq[8192];
  inv_val out;
  const inv_val *res, *tot;
  const char *zId = strcmp(zRes, "job") == 0 ? "job_id" : "job_task_id";
  size_t i, n = 0;
  char zErr[64];
  snprintf(zReq, sizeof zReq, "{\"domain_id\":\"domain-1\",\"query\":%s}", zQuery);
  if (callJson(s, zRes, "list", zReq) != INV_OK) {
    snprintf(zOut, sizeof zOut, "ERR:%s", inv_store_errcode(s));
    if (getenv("INV_TEST_VERBOSE")) fprintf(stderr, "  %s: %s\n", zQuery, inv_store_errmsg(s));
    return zOut;
  }
  if (inv_json_parse(inv_store_arena(s), inv_store_buffer(s)->z, inv_store_buffer(s)->n, &out,
                     zErr, sizeof zErr)) {
    return "BAD JSON OUTPUT";
  }
  res = inv_val_get(&out, "results");
  tot = inv_val_get(&out, "total_count");
  if (!res || !inv_val_is_arr(res) || !tot || tot->t != INV_INT) return "BAD OUTPUT SHAPE";
  zOut[0] = 0;
  for (i = 0; i < res->u.arr.n; i++) {
    const inv_val *v = inv_val_get(&res->u.arr.a[i], zId);
    n += (size_t)snprintf(zOut + n, sizeof zOut - n, "%s%s", i ? "," : "",
                          v && v->t == INV_STR ? shortId(v->u.s.z) : "?");
    if (n >= sizeof zOut) return "TOO LONG";
  }
  snprintf(zOut + n, sizeof zOut - n, "/%lld", (long long)tot->u.i);
  return zOut;
}

#define F1(k, v, o) "{\"filter\":[{\"k\":\"" k "\",\"v\":" v ",\"o\":\"" o "\"}]}"

static void endToEnd(inv_store *s) {
  static const struct { const char *zRes, *zQuery, *zExpect; } a[] = {
    { "job", "{}", "J4,J3,J2,J1/4" },
    { "job", "null", "J4,J3,J2,J1/4" },
    { "job", F1("status", "\"success\"", "eq"), "/0" },
    { "job", F1("status", "\"succ\"", "contain"), "J1/1" },
    { "job", F1("job_id", "\"JOB-A\"", "contain"), "J1/1" },
    { "job", F1("job_id", "\"job-.\"", "contain"), "/0" },
    { "job", F1("job_id", "\"%\"", "contain"), "/0" },
    { "job", F1("job_id", "\"b_b\"", "contain"), "/0" },
    { "job", F1("job_id", "\"\"", "contain"), "J4,J3,J2,J1/4" },
    { "job", F1("job_id", "\"^JOB-[ab]\"", "regex"), "J2,J1/2" },
    { "job", F1("job_id", "[\"111$\",\"^job-d\"]", "regex_in"), "J4,J1/2" },
    { "job", F1("finished_at", "null", "not"), "J4,J2,J1/3" },
    { "job", F1("finished_at", "null", "eq"), "J3/1" },
    { "job", F1("finished_at", "true", "exists"), "J4,J3,J2,J1/4" },
    { "job", F1("finished_at", "false", "exists"), "/0" },
    { "job", F1("finished_at", "\"yes\"", "exists"), "ERR:ERROR_OPERATOR_BOOLEAN_TYPE" },
    { "job", F1("status", "\"SUCCESS\"", "in"), "ERR:ERROR_OPERATOR_LIST_VALUE_TYPE" },
    { "job", F1("status", "[\"SUCCESS\"]", "eq"), "ERR:ERROR_OPERATOR_VALUE_TYPE" },
    { "job", "{\"filter\":[{\"k\":\"status\",\"v\":\"SUCCESS\"}]}", "ERR:ERROR_DB_QUERY" },
    { "job", F1("status", "[]", "in"), "/0" },
    { "job", F1("status", "[]", "not_in"), "J4,J3,J2,J1/4" },
    { "job", F1("status", "[]", "contain_in"), "/0" },                 /* DESIGN fix */
    { "job", F1("status", "[]", "regex_in"), "/0" },
    { "job", F1("job_id", "[\"aaa\",\"bbb\"]", "not_contain_in"), "J4,J3/2" },   /* DESIGN fix */
    { "job", F1("job_id", "[\"aaa\",\"bbb\"]", "contain_in"), "J2,J1/2" },
    { "job", "{\"filter\":[{\"k\":\"status\",\"v\":[\"SUCCESS\",\"FAILURE\"],\"o\":\"in\"}],"
             "\"filter_or\":[{\"k\":\"collector_id\",\"v\":\"collector-2\",\"o\":\"eq\"},"
             "{\"k\":\"total_tasks\",\"v\":4,\"o\":\"gt\"}]}", "J2/1" },
    { "job", "{\"keyword\":\"aaa ccc\"}", "J3,J1/2" },
    { "job", "{\"keyword\":\"   \"}", "J4,J3,J2,J1/4" },
    { "job", "{\"keyword\":\"aaa\",\"filter_or\":[{\"k\":\"status\",\"v\":\"FAILURE\",\"o\":\"eq\"}]}", "J2,J1/2" },
    { "job", F1("total_tasks", "2.5", "lt"), "J4,J3/2" },              /* DESIGN: no truncation */
    { "job", F1("total_tasks", "2.5", "gt"), "J2,J1/2" },
    { "job", F1("total_tasks", "\"5\"", "eq"), "J2/1" },
    { "job", F1("total_tasks", "\" 5 \"", "eq"), "J2/1" },
    { "job", F1("total_tasks", "true", "eq"), "/0" },
    { "job", F1("total_tasks", "\"abc\"", "eq"), "ERR:ERROR_DB_QUERY" },
    { "job", F1("total_tasks", "5", "contain"), "J2/1" },
    { "job", F1("total_tasks", "[3,\"5\"]", "in"), "J2,J1/2" },
    { "job", F1("total_tasks", "[3,null]", "not_in"), "J4,J3,J2/3" },
    { "job", F1("status", "5", "eq"), "/0" },
    { "job", F1("status", "5", "contain"), "ERR:ERROR_DB_QUERY" },
    { "job", F1("status", "\"IN\"", "gt"), "J3,J1/2" },
    { "job", F1("status", "\"a\"", "lt"), "J4,J3,J2,J1/4" },
    { "job", "{\"filter\":[{\"k\":\"total_tasks\",\"v\":1,\"o\":\"gte\"},"
             "{\"k\":\"total_tasks\",\"v\":3,\"o\":\"lte\"}]}", "J3,J1/2" },
    { "job", F1("created_at", "\"2024-01-03\"", "datetime_gte"), "J4,J3/2" },
    { "job", F1("created_at", "\"2024-01-03T09:00:00+09:00\"", "datetime_gte"), "J4,J3/2" },
    { "job", F1("created_at", "\"2024/01/03\"", "datetime_gt"), "ERR:ERROR_INVALID_PARAMETER" },
    { "job", F1("created_at", "\"2024/01/03\"", "gt"), "J4/1" },
    { "job", F1("finished_at", "\"garbage\"", "eq"), "ERR:ERROR_INVALID_PARAMETER" },
    { "job", F1("finished_at", "null", "gte"), "J3/1" },
    { "job", F1("finished_at", "null", "gt"), "/0" },
    { "job", F1("created_at", "\"now-5y\"", "timediff_gte"), "ERR:ERROR_DB_QUERY" },
    { "job", F1("created_at", "\"now-2d\"", "timediff_gte"), "J4,J3/2" },
    { "job", F1("created_at", "\"now/d\"", "timediff_gte"), "J4/1" },
    { "job", F1("created_at", "\"now/m\"", "timediff_gte"), "J4,J3,J2,J1/4" },
    { "job", F1("created_at", "\"now-10m\"", "timediff_gte"), "/0" },
    { "job", F1("finished_at", "\"now-3d\"", "timediff_lt"), "J1/1" },
    { "job", F1("foo", "\"x\"", "eq"), "ERR:ERROR_DB_QUERY" },
    { "job", F1("foo", "\"x\"", "regex"), "ERR:ERROR_DB_QUERY" },
    { "job", F1("collector.provider", "\"aws\"", "eq"), "ERR:ERROR_DB_QUERY" },
    { "job", F1("collector_info.provider", "\"aws\"", "eq"), "J1/1" },
    { "job", F1("status; DROP TABLE job", "\"x\"", "eq"), "ERR:ERROR_DB_QUERY" },
    { "job", F1("filter.a", "1", "eq"), "J1/1" },
    { "job", F1("filter.a", "1", "gt"), "J2/1" },
    { "job", F1("filter.a", "\"z\"", "lt"), "/0" },
    { "job", F1("filter.a", "\"1\"", "eq"), "/0" },
    { "job", F1("filter.a", "[1,2]", "in"), "J2,J1/2" },
    { "job", F1("filter.tags", "\"x\"", "eq"), "J2,J1/2" },
    { "job", F1("filter.tags", "\"x\"", "not"), "J4,J3/2" },
    { "job", F1("filter.tags", "[\"y\"]", "in"), "J1/1" },
    { "job", F1("filter.tags", "[\"x\",\"y\"]", "eq"), "ERR:ERROR_OPERATOR_VALUE_TYPE" },
    { "job", F1("filter.tags", "[[\"x\",\"y\"]]", "in"), "J1/1" },
    { "job", F1("filter.tags", "\"X\"", "contain"), "J2,J1/2" },
    { "job", F1("filter.s", "\"ELL\"", "contain"), "J1/1" },
    { "job", F1("filter.s", "\"ELL\"", "not_contain"), "J4,J3,J2/3" },
    { "job", F1("filter.s", "\"^hel\"", "regex"), "J1/1" },
    { "job", F1("filter.s", "null", "eq"), "J4,J3,J2/3" },
    { "job", F1("filter.s", "true", "exists"), "J2,J1/2" },
    { "job", F1("filter.a", "false", "exists"), "J4,J3/2" },
    { "job", F1("filter.o.p", "true", "eq"), "J1/1" },
    { "job", F1("filter.o", "{\"p\":true}", "eq"), "J1/1" },
    { "job", F1("filter", "{}", "eq"), "J3/1" },
    { "job", F1("filter.tags", "{}", "match"), "/0" },
    { "job", F1("job_id", MARKJ, "eq"), "/0" },
    { "job", F1("job_id", MARKJ, "not"), "J4,J3,J2,J1/4" },
    { "job", F1("job_id", MARKJ, "contain"), "/0" },
    { "job", F1("job_id", MARKJ, "not_contain"), "J4,J3,J2,J1/4" },
    { "job", F1("job_id", MARKJ, "regex"), "/0" },
    { "job", F1("filter." KMARK, MARKJ, "not"), "J4,J3,J2,J1/4" },
    { "job", "{\"sort\":[{\"key\":\"total_tasks\",\"desc\":true}]}", "J2,J1,J3,J4/4" },
    { "job", "{\"sort\":[{\"key\":\"collector_id\"}]}", "J1,J2,J3,J4/4" },
    { "job", "{\"sort\":[{\"key\":\"finished_at\"}]}", "J3,J1,J2,J4/4" },
    { "job", "{\"sort\":[{\"key\":\"finished_at\",\"desc\":true}]}", "J4,J2,J1,J3/4" },
    { "job", "{\"sort\":[{\"key\":\"nope\"}]}", "ERR:ERROR_DB_QUERY" },
    { "job", "{\"sort\":[{\"key\":\"filter.a\",\"desc\":true}]}", "J2,J1,J3,J4/4" },
    { "job", "{\"page\":{\"start\":2,\"limit\":2}}", "J3,J2/4" },
    { "job", "{\"page\":{\"start\":0,\"limit\":2}}", "J4,J3/4" },
    { "job", "{\"page\":{\"start\":5,\"limit\":2}}", "/4" },
    { "job", "{\"count_only\":true}", "/4" },
    { "job", "{\"only\":[\"foo\"]}", "ERR:ERROR_DB_QUERY" },
    { "job", "{\"only\":[\"job_id\"],\"filter\":[{\"k\":\"job_id\",\"v\":\"a\",\"o\":\"contain\"}]}", "J1/1" },
    { "job_task", "{}", "T3,T2,T1/3" },
    { "job_task", F1("errors.error_code", "\"E_A\"", "eq"), "T3,T2/2" },
    { "job_task", F1("errors.error_code", "\"E_A\"", "not"), "T1/1" },
    { "job_task", F1("errors.error_code", "[\"E_B\"]", "in"), "T2/1" },
    { "job_task", F1("errors.error_code", "[\"E_A\"]", "not_in"), "T1/1" },
    { "job_task", F1("errors.error_code", "\"e_b\"", "contain"), "T2/1" },
    { "job_task", F1("errors.error_code", "\"e_a\"", "not_contain"), "T1/1" },
    { "job_task", F1("errors.error_code", "false", "exists"), "T1/1" },
    { "job_task", F1("errors.error_code", "true", "exists"), "T3,T2/2" },
    { "job_task", F1("errors.message", "\"TIMEOUT\"", "contain"), "T3,T2/2" },
    { "job_task", F1("errors.0.error_code", "\"E_A\"", "eq"), "T3,T2/2" },
    { "job_task", F1("errors.1.error_code", "\"E_B\"", "eq"), "T2/1" },
    { "job_task", F1("errors.1.error_code", "\"E_A\"", "eq"), "/0" },
    { "job_task", F1("errors.1", "true", "exists"), "T2/1" },
    { "job_task", F1("errors.0.message", "\"^time\"", "regex"), "T3,T2/2" },
    { "job_task", F1("errors", "{\"error_code\":\"E_B\",\"message\":\"timeout\"}", "match"), "/0" },
    { "job_task", F1("errors", "{\"error_code\":\"E_A\",\"message\":\"timeout\"}", "match"), "T2/1" },
    { "job_task", "{\"filter\":[{\"k\":\"errors.error_code\",\"v\":\"E_B\",\"o\":\"eq\"},"
                  "{\"k\":\"errors.message\",\"v\":\"timeout\",\"o\":\"eq\"}]}", "T2/1" },
    { "job_task", F1("errors", "{\"error_code__ne\":\"E_A\"}", "match"), "T2/1" },
    { "job_task", F1("errors", "{\"message__icontains\":\"TIME\"}", "match"), "T3,T2/2" },
    { "job_task", F1("errors", "{\"message__contains\":\"Time\"}", "match"), "T3/1" },
    { "job_task", F1("errors", "{\"message__startswith\":\"t\"}", "match"), "T2/1" },
    { "job_task", F1("errors", "{\"message__istartswith\":\"T\"}", "match"), "T3,T2/2" },
    { "job_task", F1("errors", "{\"message__endswith\":\"again\"}", "match"), "T3/1" },
    { "job_task", F1("errors", "{\"error_code__in\":[\"E_B\",\"E_C\"]}", "match"), "T2/1" },
    { "job_task", F1("errors", "{\"error_code__nin\":[\"E_A\"]}", "match"), "T2/1" },
    { "job_task", F1("errors", "{\"additional.resource_type__iexact\":\"INVENTORY.CLOUDSERVICE\"}", "match"), "T2/1" },
    { "job_task", F1("errors", "{\"additional__resource_type__exists\":true}", "match"), "T2/1" },
    { "job_task", F1("errors", "{\"message__iregex\":\"^TIME\"}", "match"), "T3,T2/2" },
    { "job_task", F1("errors", "{\"message__regex\":\"^Time\"}", "match"), "T3/1" },
    { "job_task", F1("errors", "{}", "match"), "T3,T2/2" },
    { "job_task", F1("provider", "\"aws\"", "not"), "T3/1" },
    { "job_task", F1("provider", "true", "exists"), "T3,T2,T1/3" },
    { "job_task", F1("provider", "null", "eq"), "T3/1" },
    { "job_task", F1("provider", "\"aw\"", "contain"), "T2,T1/2" },
    { "job_task", F1("provider", "\"aw\"", "not_contain"), "T3/1" },
    { "job_task", F1("errors.additional.resource_type", "\"cloudservice\"", "contain"), "T2/1" },
    { "job_task", F1("user_projects", "[\"project-1\"]", "in"), "T3,T2,T1/3" },
    { "job_task", F1("errors.additional." KMARK, MARKJ, "eq"), "/0" },
    { "job_task", "{\"keyword\":\"002 003\"}", "T3,T2/2" },
    { "job_task", "{\"sort\":[{\"key\":\"errors.error_code\",\"desc\":true}]}", "T2,T3,T1/3" },
  };
  size_t i;
  for (i = 0; i < sizeof a / sizeof a[0]; i++) {
    const char *zGot = list(s, a[i].zRes, a[i].zQuery);
    if (strcmp(zGot, a[i].zExpect) == 0) th_passed++;
    else {
      th_failed++;
      fprintf(stderr, "FAIL %s: %s list %s\n  got %s, expected %s\n", __FILE__, a[i].zRes,
              a[i].zQuery, zGot, a[i].zExpect);
    }
    /* no transaction is left open, whatever happened */
    CHECK(!th_in_tx(s));
  }
  /* request-level filters combine with the query */
  CHECK_INT(callJson(s, "job", "list", "{\"domain_id\":\"domain-1\",\"status\":[\"SUCCESS\",\"CANCELED\"],"
                     "\"query\":{\"filter\":[{\"k\":\"total_tasks\",\"v\":0,\"o\":\"gt\"}]}}"), INV_OK);
  CHECK(strstr(inv_store_buffer(s)->z, "job-aaa111") && !strstr(inv_store_buffer(s)->z, "job-ddd444"));
  CHECK_INT(callJson(s, "job", "list", "{\"domain_id\":\"domain-2\"}"), INV_OK);
  CHECK_STR(inv_store_buffer(s)->z, "{\"results\":[],\"total_count\":0}");
  CHECK_INT(callJson(s, "job", "list", "{\"domain_id\":" MARKJ "}"), INV_OK);
  CHECK_STR(inv_store_buffer(s)->z, "{\"results\":[],\"total_count\":0}");
  CHECK_INT(callJson(s, "job", "list", "{\"domain_id\":\"domain-1\",\"status\":" MARKJ "}"), INV_ERROR);
  CHECK_STR(inv_store_errcode(s), "ERROR_INVALID_PARAMETER");
  CHECK_INT(callJson(s, "job", "list", "{\"domain_id\":\"domain-1\",\"job_id\":" MARKJ "}"), INV_OK);
  CHECK_STR(inv_store_buffer(s)->z, "{\"results\":[],\"total_count\":0}");
  /* everything is still there */
  CHECK_STR(list(s, "job", "{}"), "J4,J3,J2,J1/4");
  CHECK_STR(list(s, "job_task", "{}"), "T3,T2,T1/3");
}

/* Regressions of bugs found by these tests and the fuzzer (all fixed). */
static void knownBugs(void) {
  inv_options o = INV_OPTIONS_INIT;
  inv_store *s = NULL;
  char zErr[256];
  long k;
  int nWrong = 0;
  o.zPath = ":memory:";
  if (th_open(&o, &s, zErr, sizeof zErr)) { CHECK(0); return; }
  CHECK_INT(callJson(s, "job_task", "import", "{\"records\":[{\"job_task_id\":\"t1\","
                     "\"domain_id\":\"d\",\"errors\":[{\"error_code\":\"E\",\"message\":\"abc\","
                     "\"additional\":{\"a\\\\b\":1,\"\\u00dc\":\"\\u00c4rger\"}}]}]}"), INV_OK);
  /* 1. endswith "" matches nothing (substr(x, -0) is the whole string);
  **    startswith "", iendswith "" and contains "" match every string */
  CHECK_INT(callJson(s, "job_task", "list", "{\"domain_id\":\"d\",\"query\":{\"filter\":[{\"k\":"
                     "\"errors\",\"v\":{\"message__endswith\":\"\"},\"o\":\"match\"}]}}"), INV_OK);
  CHECK(strstr(inv_store_buffer(s)->z, "\"total_count\":1") != NULL);
  /* 2. a key segment holding a backslash is not escaped in the JSON path,
  **    so it never matches the stored (escaped) key (SQLite 3.40) */
  CHECK_INT(callJson(s, "job_task", "list", "{\"domain_id\":\"d\",\"query\":{\"filter\":[{\"k\":"
                     "\"errors.additional.a\\\\b\",\"v\":1,\"o\":\"eq\"}]}}"), INV_OK);
  CHECK(strstr(inv_store_buffer(s)->z, "\"total_count\":1") != NULL);
  /* 3. a NUL in a match sub-key truncates the bound path: SQLite's "JSON
  **    path error" at run time instead of Cannot resolve field */
  CHECK_INT(callJson(s, "job_task", "list", "{\"domain_id\":\"d\",\"query\":{\"filter\":[{\"k\":"
                     "\"errors\",\"v\":{\"additional.a\\u0000b\":1},\"o\":\"match\"}]}}"), INV_ERROR);
  CHECK(strstr(inv_store_errmsg(s), "Cannot resolve field") != NULL);
  /* 4. contain folds ASCII case only (LIKE); regex folds Unicode */
  CHECK_INT(callJson(s, "job_task", "list", "{\"domain_id\":\"d\",\"query\":{\"filter\":[{\"k\":"
                     "\"errors.additional.\\u00dc\",\"v\":\"\\u00e4RGER\",\"o\":\"contain\"}]}}"), INV_OK);
  CHECK(strstr(inv_store_buffer(s)->z, "\"total_count\":1") != NULL);
  /* 5. an allocation failure while binding is ignored by the compiler: the
  **    SQL lacks a parameter and the call fails with ERROR_DB_QUERY ("wrong
  **    number of arguments to function json()", "near \")\": syntax error")
  **    instead of ERROR_UNKNOWN "Out of memory." */
  for (k = 1; k < 60; k++) {
    inv_buf b;
    int i, rc;
    inv_buf_init(&b);
    inv_buf_adds(&b, "{\"domain_id\":\"d1\",\"query\":{\"filter\":[");
    for (i = 0; i < 12; i++) {
      inv_buf_printf(&b, "%s{\"k\":\"filter.a%d\",\"v\":[%d,\"s%d\",null,{\"o\":%d}],\"o\":\"not_in\"}",
                     i ? "," : "", i, i, i, i);
    }
    inv_buf_adds(&b, "]}}");
    {
      inv_val req;
      inv_json_sink js;
      inv_store_begin(s);
      if (parseIn(s, b.z, &req) == 0) {
        inv_json_sink_init(&js, inv_store_buffer(s));
        inv_mem_fail_after(k);
        rc = inv_call(s, "job", "list", &req, &js.base, 1);
        inv_mem_fail_after(0);
        if (rc != INV_OK && strcmp(inv_store_errcode(s), "ERROR_UNKNOWN") != 0) {
          nWrong++;
          if (getenv("INV_TEST_VERBOSE")) fprintf(stderr, "  k=%ld: %s %s\n", k, inv_store_errcode(s), inv_store_errmsg(s));
        }
      }
    }
    inv_buf_free(&b);
  }
  CHECK_INT(nWrong, 0);
  inv_store_close(s);
}

void test_query(void) {
  inv_store *s = openFixture();
  CHECK(s != NULL);
  if (!s) return;
  opsValueMarker(s);
  opsTime(s);
  opsKeyMarker(s);
  keys(s);
  shapes(s);
  exactSql(s);
  endToEnd(s);
  inv_store_close(s);
  knownBugs();
}
