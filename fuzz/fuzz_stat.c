/*
** fuzz_stat.c: libFuzzer target for the stat and analyze compiler
** (src/inv_stat.c: distinct, the aggregate stages unwind, group, count, sort,
** project, limit, skip, and analyze's group_by/fields/select/field_group/
** sort/page rewritten into a stage pipeline).
**
** One :memory: store is opened once, with the records of fuzz_query.c. Each
** input is parsed as JSON; an object is the request itself when it has a
** "domain_id", else the query of {"domain_id":"d1","query":<input>}. It runs
** through inv_call(job, stat), inv_call(job_task, stat) and
** inv_call(job, analyze); the job stat runs twice and must give the same
** answer: first as the store answers it (from the compiled-request cache
** when an earlier input of its shape, with other values, was kept there),
** then compiled again with the cache emptied (from the statement cache). The output mode (bJson:
** REST rendering or complete records) is the parity of the input size, so
** both are covered.
**
** Besides crashes, leaks and UB (ASan/UBSan), the target aborts when an
** invariant breaks:
**   - a call returns something else than INV_OK / INV_ERROR;
**   - a failed call has no error code, or a call leaves a transaction open;
**   - a successful call's output is not JSON (parsed back with
**     inv_json_parse_built), or not an object with a "results" array and nothing
**     else but "total_count" (stat) or "more" (analyze);
**   - stat: "total_count" is present exactly when the effective page limit
**     is positive (always for job, whose stat has the page default/cap), is
**     an integer >= 0, and len(results) = clamp(total_count - (start-1), 0,
**     limit): the paged SELECT and the count(*) agree;
**   - stat with an aggregate: every result is an object;
**   - analyze: "more" is a bool, len(results) <= limit, and == limit when
**     "more" is true; results are objects;
**   - the repeated job stat gives the same code and the same bytes, unless
**     either call ran out of the regex time budget (wall-clock time, so a
**     call near it may pass once and fail the next time).
** With FUZZ_STRICT=1 in the environment it also aborts on an ERROR_DB_QUERY
** whose reason is an SQLite compile/runtime error (syntax error, wrong number
** of arguments, JSON path error, ...): the compiler produced bad SQL. With
** FUZZ_VERBOSE=1 it prints each call's outcome (for checking seeds).
**
** Build and run: make fuzz [FUZZ_SECONDS=60]
** Reproduce:     ./build/fuzz_stat <file>
*/
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite/sqlite_int.h"   /* these checks look inside SQLite */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_stat"
#include "fixture.h"

static int bStrict, bVerbose;
static inv_buf first;          /* output of the first job stat, for the repeat */

static void setup(void) {
  openFixture();
  inv_buf_init(&first);
  bStrict = getenv("FUZZ_STRICT") != NULL && getenv("FUZZ_STRICT")[0] == '1';
  bVerbose = getenv("FUZZ_VERBOSE") != NULL && getenv("FUZZ_VERBOSE")[0] == '1';
}

/* Reasons that mean the compiler produced SQL SQLite refused: the reason
** starts with an SQLite message (user text only ever follows our own
** prefixes such as "Cannot resolve field"; our errors that name a key are
** "(key = ..., reason = ...)" and never match). Every level of "Database
** query failed. (reason = " is skipped, should one ever be nested. */
static int badSql(const char *zMsg) {
  static const char zHead[] = "Database query failed. (reason = ";
  static const char *const az[] = {
    "near \"", "wrong number of arguments", "JSON path error", "bad JSON path",
    "no such column", "no such function", "unrecognized token", "malformed JSON",
    "incomplete input", "parser stack overflow", "too many SQL variables",
    "Expression tree is too large", "at most", "bad parameter", "column index out of range",
    "not an error", "SQL logic error", "misuse of", "ambiguous column", "sub-select returns",
    "too many terms", "too many columns", "ORDER BY term", "GROUP BY term",
    "1st ORDER BY", "2nd ORDER BY", "aggregate functions are not allowed",
    "misuse of aggregate", "misuse of window", "no such table", NULL
  };
  int i, bAny = 0;
  while (strncmp(zMsg, zHead, sizeof zHead - 1) == 0) { zMsg += sizeof zHead - 1; bAny = 1; }
  if (!bAny) return 0;
  for (i = 0; az[i]; i++) if (strncmp(zMsg, az[i], strlen(az[i])) == 0) return 1;
  return 0;
}

/* The request: the input object, or {"domain_id":"d1","query":<input>}. */
static int makeRequest(inv_store *s, const uint8_t *data, size_t size, inv_val *pReq) {
  inv_val v;
  inv_kv *kv;
  char zErr[128];
  if (inv_json_parse(inv_store_arena(s), (const char *)data, size, &v, zErr, sizeof zErr)) return 0;
  if (v.t != INV_OBJ) return 0;
  if (inv_val_get(&v, "domain_id")) {
    *pReq = v;
    return 1;
  }
  kv = inv_arena_alloc(inv_store_arena(s), sizeof(inv_kv) * 2);
  if (!kv) die("arena", "out of memory");
  memset(kv, 0, sizeof(inv_kv) * 2);
  kv[0].zKey = "domain_id"; kv[0].nKey = 9;
  kv[0].v.t = INV_STR; kv[0].v.u.s.z = "d1"; kv[0].v.u.s.n = 2;
  kv[1].zKey = "query"; kv[1].nKey = 5;
  kv[1].v = v;
  memset(pReq, 0, sizeof *pReq);
  pReq->t = INV_OBJ; pReq->u.obj.a = kv; pReq->u.obj.n = 2;
  return 1;
}

/* The page a successful call ran with (inv_read.c pageParse, statBegin):
** start >= 1; limit 0 = none; bCap: 0 or above the store's cap is the cap. */
static void effectivePage(const inv_val *pQ, int bCap, int64_t *pStart, int64_t *pLimit) {
  const inv_val *page = pQ ? inv_val_get(pQ, "page") : NULL, *v;
  *pStart = 1;
  *pLimit = 0;
  if (page && page->t == INV_OBJ) {
    v = inv_val_get(page, "start");
    if (v && v->t != INV_NULL && inv_val_integer(v, pStart) && *pStart < 1) *pStart = 1;
    v = inv_val_get(page, "limit");
    if (v && v->t != INV_NULL && !inv_val_integer(v, pLimit)) *pLimit = 0;
  }
  if (bCap && (*pLimit <= 0 || *pLimit > pStore->nPageLimit)) *pLimit = pStore->nPageLimit;
}

/* A stat with a (non-empty) aggregate list returns rows, not scalars. */
static int hasAggregate(const inv_val *pQ) {
  const inv_val *agg = pQ ? inv_val_get(pQ, "aggregate") : NULL;
  return agg && agg->t == INV_ARR && agg->u.arr.n > 0;
}

static void checkOutput(const char *zRes, const char *zMethod, const inv_val *req,
                        inv_buf *b, int bAnalyze) {
  inv_store *s = pStore;
  const inv_resource *r = inv_resource_find(zRes);
  const inv_val *pQ = inv_val_get(req, "query");
  const inv_val *res, *tot, *more;
  inv_val out;
  char zErr[128];
  int64_t start, limit, n;
  size_t i;

  if (!r) die("no such resource", zRes);
  if (b->bOom) die("output", "out of memory");
  if (!b->z || inv_json_parse_built(inv_store_arena(s), b->z, b->n, &out, zErr, sizeof zErr)) {
    fprintf(stderr, "fuzz_stat: %s.%s: %s\n", zRes, zMethod, zErr);
    die("output is not JSON", b->z);
  }
  if (out.t != INV_OBJ) die("output is not an object", b->z);
  res = inv_val_get(&out, "results");
  tot = inv_val_get(&out, "total_count");
  more = inv_val_get(&out, "more");
  if (!res || res->t != INV_ARR) die("output has no results array", b->z);
  if (out.u.obj.n != (size_t)(1 + (tot != NULL) + (more != NULL))) die("output has unknown keys", b->z);
  n = (int64_t)res->u.arr.n;

  if (bAnalyze) {
    effectivePage(pQ, 1, &start, &limit);
    if (tot) die("analyze has a total_count", b->z);
    if (!more || more->t != INV_BOOL) die("analyze has no bool \"more\"", b->z);
    if (n > limit) die("analyze: more results than the page limit", b->z);
    if (more->u.b && n != limit) die("analyze: \"more\" with a short page", b->z);
    for (i = 0; i < res->u.arr.n; i++) {
      if (res->u.arr.a[i].t != INV_OBJ) die("analyze: a result is not an object", b->z);
    }
    return;
  }

  effectivePage(pQ, r->bStatCap, &start, &limit);
  if (more) die("stat has a \"more\"", b->z);
  if (limit > 0) {
    int64_t want;
    if (!tot || tot->t != INV_INT) die("paged stat has no integer total_count", b->z);
    if (tot->u.i < 0) die("negative total_count", b->z);
    /* rows from start (1-based) on, at most limit of them */
    want = tot->u.i > start - 1 ? tot->u.i - (start - 1) : 0;
    if (want > limit) want = limit;
    if (n != want) die("results/total_count/page disagree", b->z);
  } else {
    if (tot) die("unpaged stat has a total_count", b->z);
  }
  if (hasAggregate(pQ)) {
    for (i = 0; i < res->u.arr.n; i++) {
      if (res->u.arr.a[i].t != INV_OBJ) die("stat: an aggregate result is not an object", b->z);
    }
  }
}

/* One call on a fresh begin; returns rc. The output stays in the store's
** buffer until the next inv_store_begin(). */
static int runOne(const char *zRes, const char *zMethod, const uint8_t *data, size_t size,
                  int bJson, int *pbParsed) {
  inv_store *s = pStore;
  inv_val req;
  inv_json_sink js;
  inv_buf *b;
  int rc;
  char zWhat[64];

  inv_store_begin(s);
  *pbParsed = makeRequest(s, data, size, &req);
  if (!*pbParsed) return INV_ERROR;
  b = inv_store_buffer(s);
  inv_json_sink_init(&js, b);
  rc = inv_call(s, zRes, zMethod, &req, &js.base, bJson);
  snprintf(zWhat, sizeof zWhat, "%s.%s", zRes, zMethod);

  if (!sqlite3_get_autocommit(SQLITE_DB(s))) die("transaction left open", zWhat);
  if (rc == INV_ERROR) {
    if (!inv_store_errcode(s) || !inv_store_errcode(s)[0]) die("error without a code", zWhat);
    if (bVerbose) fprintf(stderr, "%s: %s %s\n", zWhat, inv_store_errcode(s), inv_store_errmsg(s));
    if (bStrict && strcmp(inv_store_errcode(s), "ERROR_DB_QUERY") == 0
        && badSql(inv_store_errmsg(s))) {
      die("bad SQL", inv_store_errmsg(s));
    }
    return rc;
  }
  if (rc != INV_OK) die("bad return code", zWhat);
  if (bVerbose) fprintf(stderr, "%s: %.*s\n", zWhat, (int)(b->n > 2000 ? 2000 : b->n), b->z ? b->z : "");
  checkOutput(zRes, zMethod, &req, b, strcmp(zMethod, "analyze") == 0);
  return rc;
}

/* Did the last call fail on a time budget: the regex budget
** (sqlite_regex.c: "Regular expressions ran longer than their budget ...")
** or the call's (inv_err_budget: "The request ran longer than its time
** budget ...")? */
static int overBudget(void) {
  return strstr(inv_store_errmsg(pStore), "ran longer than") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int bJson = (int)(size & 1), bParsed, rc, rc2, bSlow;
  char zCode[64];
  if (!pStore) setup();

  /* job stat, then again: same code, same bytes (the cached statement) */
  rc = runOne("job", "stat", data, size, bJson, &bParsed);
  if (!bParsed) return 0;
  inv_buf_reset(&first);
  snprintf(zCode, sizeof zCode, "%s", rc == INV_OK ? "" : inv_store_errcode(pStore));
  if (rc == INV_OK && inv_store_buffer(pStore)->n) {
    inv_buf_add(&first, inv_store_buffer(pStore)->z, inv_store_buffer(pStore)->n);
  }
  bSlow = rc != INV_OK && overBudget();
  /* the second run compiles: the first may have come from the compiled-
  ** request cache, kept by an earlier input of the same shape with other
  ** values (libFuzzer's mutations of one input make many) */
  inv_rc_clear(pStore);
  rc2 = runOne("job", "stat", data, size, bJson, &bParsed);
  /* the regex time budget is wall-clock time: a call near it may pass once
  ** and fail the next time (a loaded or slower machine, valgrind) */
  if (bSlow || (rc2 != INV_OK && overBudget())) goto others;
  if (rc2 != rc) {
    fprintf(stderr, "fuzz_stat: first: rc %d %s; again: rc %d %s %s\n", rc, zCode, rc2,
            rc2 == INV_OK ? "" : inv_store_errcode(pStore), rc2 == INV_OK ? "" : inv_store_errmsg(pStore));
    die("repeated job.stat", "a different return code");
  }
  if (rc != INV_OK && strcmp(zCode, inv_store_errcode(pStore)) != 0) {
    die("repeated job.stat: a different error code", inv_store_errcode(pStore));
  }
  if (rc == INV_OK && (first.bOom || first.n != inv_store_buffer(pStore)->n
                       || (first.n && memcmp(first.z, inv_store_buffer(pStore)->z, first.n) != 0))) {
    fprintf(stderr, "fuzz_stat: first:  %s\n", first.z ? first.z : "");
    die("repeated job.stat: a different output", inv_store_buffer(pStore)->z);
  }

others:
  runOne("job_task", "stat", data, size, bJson, &bParsed);
  runOne("job", "analyze", data, size, bJson, &bParsed);
  return 0;
}
