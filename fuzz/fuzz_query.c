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
#include "sqlite/sqlite_int.h"   /* these checks look inside SQLite */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_query"
#include "fixture.h"

static int bStrict;

#define N_JOBS  4
#define N_TASKS 3

static void setup(void) {
  openFixture();
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

  if (!sqlite3_get_autocommit(SQLITE_DB(s))) die("transaction left open", zRes);
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
