/*
** sqlite_regex.c: inv_regexp(pattern, value [, case_sensitive]) for SQLite,
** backed by PCRE2 (the reference's MongoDB uses PCRE syntax).
**
** Case-insensitive and UTF-8 unless the third argument is true. Non-text
** values never match. Every match runs under a match and depth budget, so a
** pathological pattern fails the query with a clear error instead of hanging
** the worker. Compiled patterns are cached per store by their text (not as
** SQLite auxdata: SQLite finds auxdata by a linear scan of the statement's
** list, so a statement naming N patterns cost N^2 per row).
*/
#define _POSIX_C_SOURCE 200809L
#include <time.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include "sqlite_int.h"
#include "inv_regex.h"

#define INV_STR_(x) #x
#define INV_STR(x) INV_STR_(x)

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
  char *zPat;                       /* the key: pattern text and flag */
  size_t nPat;
  int bCase;
  size_t h;
  pcre2_code *pCode;
  pcre2_match_data *pData;
  pcre2_match_context *pMctx;
};

/* The cache: compiled patterns by text (open addressing, never more than
** half full), and per call a pointer index, since a statement hands the
** same bound text (the same pointer) to the function on every row. */
#define RX_SLOTS   4096              /* a request names at most 1,000 patterns */
#define RX_KEEP    1024              /* more than this at the start of a call: start over */
#define PTR_SLOTS  2048
typedef struct PtrSlot PtrSlot;
struct PtrSlot { const void *p; size_t n; int bCase; unsigned gen; Rx *rx; };
struct inv_regex_ctx {
  Rx *aSlot[RX_SLOTS];
  int nRx;
  PtrSlot aPtr[PTR_SLOTS];
  unsigned gen;                     /* the call; pointer slots of older calls are stale */
  int64_t nsSpent;                  /* matching time of this call */
};

static int64_t nowNs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void rxFree(Rx *x) {
  if (!x) return;
  pcre2_match_data_free(x->pData);
  pcre2_match_context_free(x->pMctx);
  pcre2_code_free(x->pCode);
  inv_free(x->zPat);
  inv_free(x);
}

inv_regex_ctx *inv_regex_new(void) {
  inv_regex_ctx *x = inv_malloc(sizeof *x);
  if (x) memset(x, 0, sizeof *x);
  return x;
}

static void rxClear(inv_regex_ctx *x) {
  int i;
  for (i = 0; i < RX_SLOTS; i++) { rxFree(x->aSlot[i]); x->aSlot[i] = NULL; }
  x->nRx = 0;
}

void inv_regex_free(inv_regex_ctx *x) {
  if (!x) return;
  rxClear(x);
  inv_free(x);
}

void inv_regex_begin(inv_regex_ctx *x) {
  x->nsSpent = 0;
  if (++x->gen == 0) {                /* wrapped: forget every pointer */
    memset(x->aPtr, 0, sizeof x->aPtr);
    x->gen = 1;
  }
  if (x->nRx > RX_KEEP) rxClear(x);   /* compiled patterns live from call to call */
}

/* The compiled pattern of z[0..n): from the pointer index, else the text
** index, else compiled now (NULL with *pzErr set, or out of memory). */
static Rx *rxFind(inv_regex_ctx *x, const char *z, size_t n, int bCase, char *zErr, size_t nErr) {
  size_t iPtr = ((uintptr_t)z >> 3) % PTR_SLOTS, h, i;
  PtrSlot *ps = &x->aPtr[iPtr];
  Rx *rx;
  if (ps->gen == x->gen && ps->p == z && ps->n == n && ps->bCase == bCase) return ps->rx;
  h = inv_hash(z, n) ^ (size_t)bCase;
  for (i = h % RX_SLOTS; (rx = x->aSlot[i]) != NULL; i = (i + 1) % RX_SLOTS) {
    if (rx->h == h && rx->nPat == n && rx->bCase == bCase && memcmp(rx->zPat, z, n) == 0) break;
  }
  if (!rx) {
    if (x->nRx >= RX_SLOTS / 2) {
      snprintf(zErr, nErr, "A request may use at most %d regular expressions.", RX_SLOTS / 2);
      return NULL;
    }
    rx = inv_malloc(sizeof *rx);
    if (!rx) return NULL;
    memset(rx, 0, sizeof *rx);
    rx->zPat = inv_malloc(n + 1);
    if (!rx->zPat) { rxFree(rx); return NULL; }
    memcpy(rx->zPat, z, n);
    rx->zPat[n] = 0;
    rx->nPat = n; rx->bCase = bCase; rx->h = h;
    rx->pCode = inv_regex_compile(z, n, bCase, zErr, nErr);
    if (!rx->pCode) { rxFree(rx); return NULL; }
    rx->pData = pcre2_match_data_create_from_pattern(rx->pCode, NULL);
    rx->pMctx = pcre2_match_context_create(NULL);
    if (!rx->pData || !rx->pMctx) { rxFree(rx); zErr[0] = 0; return NULL; }
    /* JIT when available (it falls back to the interpreter). Its vector
    ** loads read a few bytes past the subject inside the same page, which
    ** valgrind reports: INV_REGEX_NO_JIT=1 turns it off for such runs. */
    if (!getenv("INV_REGEX_NO_JIT")) pcre2_jit_compile(rx->pCode, PCRE2_JIT_COMPLETE);
    pcre2_set_match_limit(rx->pMctx, INV_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(rx->pMctx, INV_REGEX_DEPTH_LIMIT);
    x->aSlot[i] = rx;
    x->nRx++;
  }
  ps->p = z; ps->n = n; ps->bCase = bCase; ps->gen = x->gen; ps->rx = rx;
  return rx;
}

static void regexpFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  inv_regex_ctx *x = sqlite3_user_data(ctx);
  const char *zPat, *zVal;
  int n, nPat, rc;
  Rx *rx;
  if (sqlite3_value_type(argv[1]) != SQLITE_TEXT) { sqlite3_result_int(ctx, 0); return; }
  zPat = (const char*)sqlite3_value_text(argv[0]);
  nPat = sqlite3_value_bytes(argv[0]);
  if (!zPat) { sqlite3_result_int(ctx, 0); return; }
  {
    char zErr[256];
    zErr[0] = 0;
    rx = rxFind(x, zPat, (size_t)nPat, argc > 2 && sqlite3_value_int(argv[2]), zErr, sizeof zErr);
    if (!rx) {
      if (zErr[0]) sqlite3_result_error(ctx, zErr, -1);
      else sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  zVal = (const char*)sqlite3_value_text(argv[1]);
  n = sqlite3_value_bytes(argv[1]);
  /* one match is only interrupted by its step limit, and a step over a long
  ** value (a backreference) costs its length: long values do not match */
  if (n > INV_REGEX_MAX_SUBJECT) { sqlite3_result_int(ctx, 0); return; }
  if (!inv_utf8_valid(zVal, (size_t)n)) { sqlite3_result_int(ctx, 0); return; }
  {
    /* a per-match step limit bounds one row; a time budget per call
    ** bounds a pattern that is merely slow on every row */
    int64_t t0 = nowNs();
    rc = pcre2_match(rx->pCode, (PCRE2_SPTR)zVal, (PCRE2_SIZE)n, 0, PCRE2_NO_UTF_CHECK,
                     rx->pData, rx->pMctx);
    x->nsSpent += nowNs() - t0;
    if (x->nsSpent > (int64_t)INV_REGEX_TIME_BUDGET_MS * 1000000) rc = INT32_MIN;
  }
  if (rc == INT32_MIN) {
    sqlite3_result_error(ctx, "Regular expressions ran longer than their budget of " INV_STR(INV_REGEX_TIME_BUDGET_MS) " ms in this request.", -1);
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

int inv_regex_register(sqlite3 *db, inv_regex_ctx *pnsSpent) {
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
