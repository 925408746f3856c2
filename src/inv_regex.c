/*
** inv_regex.c: inv_regexp(pattern, value [, case_sensitive]) for SQLite,
** backed by PCRE2 (the reference's MongoDB uses PCRE syntax).
**
** Case-insensitive and UTF-8 unless the third argument is true. Non-text
** values never match. Every match runs under a match and depth budget, so a
** pathological pattern fails the query with a clear error instead of hanging
** the worker. The compiled pattern is cached per statement (auxdata).
*/
#define _POSIX_C_SOURCE 200809L
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <time.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include "inv_int.h"

#if !defined(INV_REGEX_MATCH_LIMIT)
# define INV_REGEX_MATCH_LIMIT 100000    /* backtracking steps per match */
#endif
#if !defined(INV_REGEX_TIME_BUDGET_MS)
# define INV_REGEX_TIME_BUDGET_MS 250    /* matching time per call */
#endif
#if !defined(INV_REGEX_MAX_SUBJECT)
# define INV_REGEX_MAX_SUBJECT 65536     /* longer values do not match */
#endif
#if !defined(INV_REGEX_DEPTH_LIMIT)
# define INV_REGEX_DEPTH_LIMIT 10000
#endif

typedef struct Rx Rx;
struct Rx {
  pcre2_code *pCode;
  pcre2_match_data *pData;
  pcre2_match_context *pMctx;
};

static int64_t nowNs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void rxFree(void *p) {
  Rx *x = p;
  if (!x) return;
  pcre2_match_data_free(x->pData);
  pcre2_match_context_free(x->pMctx);
  pcre2_code_free(x->pCode);
  inv_free(x);
}

static pcre2_code *rxCompile(const char *z, size_t n, int bCase, char *zErr, size_t nErr) {
  int err;
  PCRE2_SIZE off;
  uint32_t opt = PCRE2_UTF | PCRE2_NO_UTF_CHECK | (bCase ? 0 : PCRE2_CASELESS);
  pcre2_code *p = pcre2_compile((PCRE2_SPTR)z, n, opt, &err, &off, NULL);
  if (!p && zErr) {
    PCRE2_UCHAR zMsg[200];
    pcre2_get_error_message(err, zMsg, sizeof zMsg);
    snprintf(zErr, nErr, "Regular expression is invalid: %s at offset %d.",
             (const char*)zMsg, (int)off);
  }
  return p;
}

int inv_regex_check(const char *zPat, size_t n, char *zErr, size_t nErr) {
  pcre2_code *p;
  if (!inv_utf8_valid(zPat, n)) {
    snprintf(zErr, nErr, "Regular expression is invalid: not UTF-8.");
    return 1;
  }
  p = rxCompile(zPat, n, 0, zErr, nErr);
  if (!p) return 1;
  pcre2_code_free(p);
  return 0;
}

static void regexpFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  Rx *x = sqlite3_get_auxdata(ctx, 0);
  const char *zVal;
  int n, rc;
  if (sqlite3_value_type(argv[1]) != SQLITE_TEXT) { sqlite3_result_int(ctx, 0); return; }
  if (!x) {
    const char *zPat = (const char*)sqlite3_value_text(argv[0]);
    int nPat = sqlite3_value_bytes(argv[0]);
    int bCase = argc > 2 && sqlite3_value_int(argv[2]);
    char zErr[256];
    if (!zPat) { sqlite3_result_int(ctx, 0); return; }
    x = inv_malloc(sizeof *x);
    if (!x) { sqlite3_result_error_nomem(ctx); return; }
    memset(x, 0, sizeof *x);
    x->pCode = rxCompile(zPat, (size_t)nPat, bCase, zErr, sizeof zErr);
    if (!x->pCode) { rxFree(x); sqlite3_result_error(ctx, zErr, -1); return; }
    x->pData = pcre2_match_data_create_from_pattern(x->pCode, NULL);
    x->pMctx = pcre2_match_context_create(NULL);
    if (!x->pData || !x->pMctx) { rxFree(x); sqlite3_result_error_nomem(ctx); return; }
    /* JIT when available (it falls back to the interpreter). Its vector
    ** loads read a few bytes past the subject inside the same page, which
    ** valgrind reports: INV_REGEX_NO_JIT=1 turns it off for such runs. */
    if (!getenv("INV_REGEX_NO_JIT")) pcre2_jit_compile(x->pCode, PCRE2_JIT_COMPLETE);
    pcre2_set_match_limit(x->pMctx, INV_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(x->pMctx, INV_REGEX_DEPTH_LIMIT);
    sqlite3_set_auxdata(ctx, 0, x, rxFree);
    x = sqlite3_get_auxdata(ctx, 0);
    if (!x) { sqlite3_result_error_nomem(ctx); return; }
  }
  zVal = (const char*)sqlite3_value_text(argv[1]);
  n = sqlite3_value_bytes(argv[1]);
  /* one match is only interrupted by its step limit, and a step over a long
  ** value (a backreference) costs its length: long values do not match */
  if (n > INV_REGEX_MAX_SUBJECT) { sqlite3_result_int(ctx, 0); return; }
  if (!inv_utf8_valid(zVal, (size_t)n)) { sqlite3_result_int(ctx, 0); return; }
  {
    /* a per-match step limit bounds one row; a time budget per statement
    ** bounds a pattern that is merely slow on every row */
    int64_t *pnsSpent = sqlite3_user_data(ctx);
    int64_t t0 = nowNs();
    rc = pcre2_match(x->pCode, (PCRE2_SPTR)zVal, (PCRE2_SIZE)n, 0, PCRE2_NO_UTF_CHECK,
                     x->pData, x->pMctx);
    *pnsSpent += nowNs() - t0;
    if (*pnsSpent > (int64_t)INV_REGEX_TIME_BUDGET_MS * 1000000) rc = INT32_MIN;
  }
  if (rc == INT32_MIN) {
    sqlite3_result_error(ctx, "Regular expression is too complex: time budget exceeded.", -1);
    return;
  }
  if (rc >= 0) { sqlite3_result_int(ctx, 1); return; }
  if (rc == PCRE2_ERROR_NOMATCH) { sqlite3_result_int(ctx, 0); return; }
  if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT
      || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    sqlite3_result_error(ctx, "Regular expression is too complex: match limit exceeded.", -1);
    return;
  }
  {
    PCRE2_UCHAR zMsg[200];
    pcre2_get_error_message(rc, zMsg, sizeof zMsg);
    sqlite3_result_error(ctx, (const char*)zMsg, -1);
  }
}

int inv_regex_register(sqlite3 *db, int64_t *pnsSpent) {
  int rc = sqlite3_create_function_v2(db, "inv_regexp", 2,
                                      SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                      pnsSpent, regexpFunc, NULL, NULL, NULL);
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "inv_regexp", 3,
                                    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                    pnsSpent, regexpFunc, NULL, NULL, NULL);
  }
  return rc;
}
