/*
** inv_store.c: a store: opening it on its backend, the start of a call,
** errors and their classes, the call's time budget, and the thin wrappers
** through which the core calls the driver.
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "inv_int.h"

/* ===================== errors ===================== */

static int errv(inv_store *s, int eClass, const char *zCode, const char *zFmt, va_list ap) {
  char zMsg[1024];                     /* messages are cut at 1 KiB */
  int n = vsnprintf(zMsg, sizeof zMsg, zFmt, ap);
  size_t nMsg = n <= 0 ? 0 : n < (int)sizeof zMsg ? (size_t)n : sizeof zMsg - 1;
  inv_utf8_clean(zMsg, nMsg);          /* a %.200s may have cut a character */
  inv_buf_reset(&s->err);
  if (nMsg) inv_buf_add(&s->err, zMsg, nMsg);
  s->zErrCode = zCode;
  s->eErrClass = eClass;
  return INV_ERROR;
}

int inv_err(inv_store *s, const char *zCode, const char *zFmt, ...) {
  va_list ap;
  int rc;
  va_start(ap, zFmt);
  rc = errv(s, INV_CLIENT, zCode, zFmt, ap);
  va_end(ap);
  return rc;
}

int inv_err_class(inv_store *s, int eClass, const char *zCode, const char *zFmt, ...) {
  va_list ap;
  int rc;
  va_start(ap, zFmt);
  rc = errv(s, eClass, zCode, zFmt, ap);
  va_end(ap);
  return rc;
}

void inv_store_set_error(inv_store *s, const char *zCode, const char *zFmt, ...) {
  va_list ap;
  va_start(ap, zFmt);
  errv(s, strcmp(zCode, "ERROR_UNKNOWN") == 0 ? INV_SERVER : INV_CLIENT, zCode, zFmt, ap);
  va_end(ap);
}

int inv_err_required(inv_store *s, const char *zKey) {
  return inv_err(s, "ERROR_REQUIRED_PARAMETER", "Required parameter. (key = %s)", zKey);
}
int inv_err_invalid(inv_store *s, const char *zKey, const char *zReason) {
  return inv_err(s, "ERROR_INVALID_PARAMETER",
                 "Parameter is invalid. (key = %s, reason = %s)", zKey, zReason);
}
int inv_err_type(inv_store *s, const char *zKey, const char *zType) {
  return inv_err(s, "ERROR_INVALID_PARAMETER_TYPE",
                 "Parameter type is invalid. (key = %s, type = %s)", zKey, zType);
}
int inv_err_db(inv_store *s, const char *zFmt, ...) {
  char zReason[900];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zReason, sizeof zReason, zFmt, ap);
  va_end(ap);
  return inv_err(s, "ERROR_DB_QUERY", "Database query failed. (reason = %s)", zReason);
}

/* The call ran past its budget (the driver noticed the deadline). */
int inv_err_budget(inv_store *s) {
  return inv_err_db(s, "The request ran longer than its time budget of %d ms; narrow "
                    "its filter, or raise the store's %s.", s->nBudgetMs,
                    s->nBudgetMs == s->nStatTimeoutMs ? "stat_timeout" : "statement_timeout");
}
int inv_err_nomem(inv_store *s) {
  return inv_err_class(s, INV_SERVER, "ERROR_UNKNOWN", "Out of memory.");
}

int inv_store_errclass_id(inv_store *s) { return s->zErrCode ? s->eErrClass : 0; }
const char *inv_store_errclass(inv_store *s) {
  switch (inv_store_errclass_id(s)) {
    case INV_CLIENT: return "client";
    case INV_UNAVAILABLE: return "unavailable";
    case INV_SERVER: return "server";
    default: return "";
  }
}

/* ===================== the call's time budget ===================== */

int64_t inv_clock_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int inv_budget_exceeded(inv_store *s) {
  return s->nsDeadline && inv_clock_ns() > s->nsDeadline;
}

const char *inv_store_errcode(inv_store *s) { return s->zErrCode ? s->zErrCode : ""; }
const char *inv_store_errmsg(inv_store *s) {
  return s->zErrCode && s->err.z ? s->err.z : "";
}

/* ===================== values as text ===================== */

const char *inv_json_text(inv_store *s, const inv_val *v) {
  inv_buf tmp;
  char *z;
  inv_buf_init(&tmp);
  inv_json_write(&tmp, v);                 /* an empty Lua table: {} */
  z = tmp.bOom ? NULL : inv_arena_strdup(&s->arena, tmp.z ? tmp.z : "", tmp.n);
  inv_buf_free(&tmp);
  return z;
}

/* ===================== the driver, as the core calls it ===================== */

inv_stmt *inv_prepare(inv_store *s, const char *zSql) { return s->pDrv->xPrepare(s, zSql, 0); }
inv_stmt *inv_prepare_static(inv_store *s, const char *zSql) { return s->pDrv->xPrepare(s, zSql, 1); }
inv_stmt *inv_sql(inv_store *s, int iSql) { return s->pDrv->xPrepare(s, s->pDia->azSql[iSql], 1); }

int inv_bind_int(inv_store *s, inv_stmt *p, int i, int64_t v) {
  inv_bind b;
  memset(&b, 0, sizeof b);
  b.t = INV_INT; b.i = v;
  return s->pDrv->xBind(s, p, i, &b);
}
int inv_bind_text(inv_store *s, inv_stmt *p, int i, const char *z) {
  inv_bind b;
  memset(&b, 0, sizeof b);
  if (z) { b.t = INV_STR; b.z = z; b.n = strlen(z); }
  return s->pDrv->xBind(s, p, i, &b);
}
int inv_bind_textn(inv_store *s, inv_stmt *p, int i, const char *z, size_t n) {
  inv_bind b;
  memset(&b, 0, sizeof b);
  b.t = INV_STR; b.z = z; b.n = n;
  return s->pDrv->xBind(s, p, i, &b);
}
int inv_bind_null(inv_store *s, inv_stmt *p, int i) { return inv_bind_text(s, p, i, NULL); }
int inv_step(inv_store *s, inv_stmt *p) { return s->pDrv->xStep(s, p); }
void inv_reset(inv_store *s, inv_stmt *p) { s->pDrv->xReset(s, p); }
int inv_run(inv_store *s, inv_stmt *p) {
  int rc;
  while ((rc = s->pDrv->xStep(s, p)) == INV_ROW) {}
  s->pDrv->xReset(s, p);
  return rc < 0 ? INV_ERROR : INV_OK;
}
int inv_col_type(inv_store *s, inv_stmt *p, int i) { return s->pDrv->xColumnType(p, i); }
int64_t inv_col_int(inv_store *s, inv_stmt *p, int i) { return s->pDrv->xColumnInt(p, i); }
double inv_col_real(inv_store *s, inv_stmt *p, int i) { return s->pDrv->xColumnReal(p, i); }
const char *inv_col_text(inv_store *s, inv_stmt *p, int i, size_t *pn) {
  return s->pDrv->xColumnText(p, i, pn);
}
int inv_col_get(inv_store *s, inv_stmt *p, int i, int bText, int64_t *pI,
                const char **pz, size_t *pn) {
  const inv_driver *d = s->pDrv;
  int t;
  if (d->iVersion >= 4 && d->xColumnGet) return d->xColumnGet(p, i, bText, pI, pz, pn);
  t = d->xColumnType(p, i);
  if (t == INV_T_NULL) return t;
  if (bText) *pz = d->xColumnText(p, i, pn);
  else *pI = d->xColumnInt(p, i);
  return t;
}
int64_t inv_changes(inv_store *s) { return s->pDrv->xChanges(s); }
int inv_begin_write(inv_store *s) { return s->pDrv->xBegin(s, INV_TX_WRITE); }
int inv_begin_read(inv_store *s) { return s->pDrv->xBegin(s, INV_TX_READ); }
int inv_read_snapshot(inv_store *s) {
  if (s->pDrv->iVersion >= 3 && s->pDrv->bStmtSnapshot) return INV_OK;
  return inv_begin_read(s);
}
int inv_commit(inv_store *s) { return s->pDrv->xCommit(s); }
void inv_rollback(inv_store *s) { s->pDrv->xRollback(s); }

/* ===================== open / close ===================== */

int64_t inv_now(inv_store *s) { return s->nowFixed ? s->nowFixed : inv_time_now(); }
void inv_store_set_now(inv_store *s, int64_t ms) { s->nowFixed = ms; }
inv_arena *inv_store_arena(inv_store *s) { return &s->arena; }
inv_buf *inv_store_buffer(inv_store *s) { return &s->out; }
const char *inv_store_backend(inv_store *s) { return s->pDrv->zName; }
const char *inv_store_engine_version(inv_store *s) { return s->pDrv->xEngineVersion(s); }

int inv_store_version(inv_store *s, int64_t *pData, int64_t *pOwn) {
  return s->pDrv->xVersion(s, pData, pOwn);
}
int inv_store_schema_version(inv_store *s) { return s->pDrv->xSchemaVersion(s); }

/* The by-id read of each resource, from its field table and the dialect's
** placeholders: "SELECT t.* FROM <table> AS t WHERE t.<id> = #1 AND
** t.domain_id = #2 LIMIT 1" (every lookup names the domain: a store may be
** sharded by it). */
static char *byIdSql(inv_store *s, const inv_resource *r) {
  inv_buf b;
  char *z;
  inv_buf_init(&b);
  inv_buf_printf(&b, "SELECT t.* FROM %s AS t WHERE t.%s = ", r->zTable, r->aField[r->iId].zName);
  s->pDia->xParam(&b, 1, INV_STR);
  inv_buf_adds(&b, " AND t.domain_id = ");
  s->pDia->xParam(&b, 2, INV_STR);
  inv_buf_adds(&b, " LIMIT 1");
  z = b.bOom ? NULL : b.z;
  if (!z) inv_buf_free(&b);
  return z;
}

int inv_store_open(const inv_options *pOpt, inv_store **ppOut, char *zErr, size_t nErr) {
  inv_options o = INV_OPTIONS_INIT;
  inv_store *s;
  int i;
  *ppOut = NULL;
  if (pOpt) o = *pOpt;
  if (o.nPageLimit <= 0) o.nPageLimit = 1000;
  s = inv_malloc(sizeof *s);
  if (!s) { snprintf(zErr, nErr, "out of memory"); return INV_ERROR; }
  memset(s, 0, sizeof *s);
  inv_arena_init(&s->arena);
  inv_buf_init(&s->sql);
  inv_buf_init(&s->tmp);
  inv_buf_init(&s->err);
  inv_buf_init(&s->jscratch);
  inv_buf_init(&s->out);
  s->nPageLimit = o.nPageLimit;
  s->nTimeoutMs = o.nTimeoutMs > 0 ? o.nTimeoutMs : 0;
  s->nStatTimeoutMs = o.nStatTimeoutMs > 0 ? o.nStatTimeoutMs : 0;
  s->nJournalSec = o.nJournalSec > 0 ? o.nJournalSec : 0;
  if (o.zUrl && o.zUrl[0]) {
    if (!o.pDriver) {
      snprintf(zErr, nErr, "cannot open %s: no PostgreSQL driver (load the inventory.pg module)",
               "the PostgreSQL store");
      inv_store_close(s);
      return INV_ERROR;
    }
    s->pDrv = o.pDriver;
  } else {
    s->pDrv = &inv_sqlite_driver;
  }
  s->pDia = s->pDrv->pDialect;
  for (i = 0; i < INV_N_RES; i++) {
    s->azById[i] = byIdSql(s, inv_resources[i]);
    if (!s->azById[i]) {
      snprintf(zErr, nErr, "out of memory");
      inv_store_close(s);
      return INV_ERROR;
    }
  }
  if (s->pDrv->xOpen(s, &o, zErr, nErr)) {
    inv_store_close(s);
    return INV_ERROR;
  }
  *ppOut = s;
  return INV_OK;
}

void inv_store_close(inv_store *s) {
  int i;
  if (!s) return;
  inv_rc_clear(s);                     /* (its statements' addresses: before the close) */
  if (s->pConn && s->pDrv) s->pDrv->xClose(s);
  for (i = 0; i < INV_N_RES; i++) inv_free(s->azById[i]);
  inv_free(s->zJsonKeys);
  inv_arena_free(&s->arena);
  inv_buf_free(&s->sql);
  inv_buf_free(&s->tmp);
  inv_buf_free(&s->err);
  inv_buf_free(&s->jscratch);
  inv_buf_free(&s->out);
  inv_free(s);
}

/* Empty a buffer for the next call; one that a large call grew gives its
** memory back (a long-lived store, as in an nginx worker, keeps ~1 MB). */
static void bufNext(inv_buf *b) {
  if (b->nAlloc > INV_BUF_KEEP) { inv_buf_free(b); inv_buf_init(b); }
  else inv_buf_reset(b);
}

void inv_store_begin(inv_store *s) {
  s->pDrv->xBeginCall(s);
  inv_arena_reset(&s->arena);
  bufNext(&s->sql);
  bufNext(&s->tmp);
  bufNext(&s->jscratch);
  bufNext(&s->out);
  s->zErrCode = NULL;
  s->nsDeadline = 0;
}
