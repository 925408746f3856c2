/*
** inv_store.c: opening a store, the schema and its migrations, the
** prepared-statement cache, transactions, errors, and method dispatch.
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

/* An error SQLite reported while running a statement. Whose fault it is
** follows from SQLite's code: a busy or locked database is transient; an
** interrupt is the call's time budget running out; an error of a function
** or of the data (a regex too complex, $divide by zero, a value over 16 MB,
** an integer overflow) is the request's; memory, I/O, a corrupt or
** read-only file are the store's. */
int inv_err_sqlite(inv_store *s) {
  int rc = sqlite3_errcode(s->db) & 0xff;
  switch (rc) {
    case SQLITE_BUSY: case SQLITE_LOCKED:
      return inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                           "Database query failed. (reason = %s)", sqlite3_errmsg(s->db));
    case SQLITE_INTERRUPT:
      if (s->nsDeadline) {
        return inv_err_db(s, "The request ran longer than its time budget of %d ms; narrow "
                          "its filter, or raise the store's %s.", s->nBudgetMs,
                          s->nBudgetMs == s->nStatTimeoutMs ? "stat_timeout" : "statement_timeout");
      }
      return inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY",
                           "Database query failed. (reason = %s)", sqlite3_errmsg(s->db));
    case SQLITE_ERROR: case SQLITE_TOOBIG: case SQLITE_MISMATCH: case SQLITE_RANGE:
    case SQLITE_CONSTRAINT:
      return inv_err_db(s, "%s", sqlite3_errmsg(s->db));
    case SQLITE_NOMEM:
      return inv_err_nomem(s);
    default:
      return inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY",
                           "Database query failed. (reason = %s)", sqlite3_errmsg(s->db));
  }
}
/* SQLite refused SQL this store built: never the request's fault (the
** compilers keep every request within SQLite's limits; fuzz_query checks). */
static int errPrepare(inv_store *s) {
  if ((sqlite3_errcode(s->db) & 0xff) == SQLITE_NOMEM) return inv_err_nomem(s);
  return inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY",
                       "Database query failed. (reason = %s)", sqlite3_errmsg(s->db));
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

/* SQLite calls this every 1,000 virtual machine steps: a statement past the
** call's deadline is interrupted (SQLITE_INTERRUPT, see inv_err_sqlite). */
static int progress(void *p) {
  return inv_budget_exceeded((inv_store*)p);
}

const char *inv_store_errcode(inv_store *s) { return s->zErrCode ? s->zErrCode : ""; }
const char *inv_store_errmsg(inv_store *s) {
  return s->zErrCode && s->err.z ? s->err.z : "";
}

/* ===================== statements ===================== */

static unsigned int hashSql(const char *z) {
  unsigned int h = 2166136261u;
  for (; *z; z++) h = (h ^ (unsigned char)*z) * 16777619u;
  return h;
}

static int isActive(inv_store *s, sqlite3_stmt *p) {
  int i;
  for (i = 0; i < s->nActive; i++) if (s->apActive[i] == p) return 1;
  return 0;
}

static void trackActive(inv_store *s, sqlite3_stmt *p) {
  if (isActive(s, p)) return;
  if (s->nActive < (int)(sizeof s->apActive / sizeof s->apActive[0])) {
    s->apActive[s->nActive++] = p;
  }
}

sqlite3_stmt *inv_stmt(inv_store *s, const char *zSql) {
  unsigned int h = hashSql(zSql);
  int i, iVictim = 0;
  sqlite3_stmt *p = NULL;
  size_t n;
  char *zCopy;
  for (i = 0; i < s->nCache; i++) {
    inv_cached *c = &s->aCache[i];
    if (c->hash == h && strcmp(c->zSql, zSql) == 0) {
      c->lastUse = ++s->useClock;
      sqlite3_reset(c->pStmt);
      sqlite3_clear_bindings(c->pStmt);
      trackActive(s, c->pStmt);
      return c->pStmt;
    }
    /* the victim: the least recently used statement this call is not using */
    if (!isActive(s, c->pStmt)
        && (isActive(s, s->aCache[iVictim].pStmt) || c->lastUse < s->aCache[iVictim].lastUse)) {
      iVictim = i;
    }
  }
  if (sqlite3_prepare_v3(s->db, zSql, -1, SQLITE_PREPARE_PERSISTENT, &p, NULL) != SQLITE_OK) {
    errPrepare(s);
    sqlite3_finalize(p);
    return NULL;
  }
  n = strlen(zSql);
  zCopy = inv_malloc(n + 1);
  if (!zCopy) { sqlite3_finalize(p); inv_err_nomem(s); return NULL; }
  memcpy(zCopy, zSql, n + 1);
  if (s->nCache < INV_STMT_CACHE) {
    iVictim = s->nCache++;
  } else {
    inv_cached *c = &s->aCache[iVictim];     /* not in use (at most 8 of 64 are) */
    sqlite3_finalize(c->pStmt);
    inv_free(c->zSql);
  }
  s->aCache[iVictim].zSql = zCopy;
  s->aCache[iVictim].zStatic = NULL;
  s->aCache[iVictim].pStmt = p;
  s->aCache[iVictim].hash = h;
  s->aCache[iVictim].lastUse = ++s->useClock;
  s->aCache[iVictim].bOnce = n > INV_STMT_KEEP;
  trackActive(s, p);
  return p;
}

sqlite3_stmt *inv_stmt_static(inv_store *s, const char *zSql) {
  int i;
  sqlite3_stmt *p;
  for (i = 0; i < s->nCache; i++) {
    inv_cached *c = &s->aCache[i];
    if (c->zStatic == zSql) {
      c->lastUse = ++s->useClock;
      sqlite3_reset(c->pStmt);
      sqlite3_clear_bindings(c->pStmt);
      trackActive(s, c->pStmt);
      return c->pStmt;
    }
  }
  p = inv_stmt(s, zSql);
  for (i = 0; p && i < s->nCache; i++) {
    if (s->aCache[i].pStmt == p) s->aCache[i].zStatic = zSql;
  }
  return p;
}

int inv_step(inv_store *s, sqlite3_stmt *p) {
  int rc = sqlite3_step(p);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return rc;
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {   /* extended result codes are on */
    int ext = sqlite3_extended_errcode(s->db);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
      inv_err(s, "ERROR_SAVE_UNIQUE_VALUES",
              "Tried to save duplicate unique values. (keys = %s)", sqlite3_errmsg(s->db));
      sqlite3_reset(p);
      return -1;
    }
  }
  if ((rc & 0xff) == SQLITE_NOMEM) inv_err_nomem(s);
  else inv_err_sqlite(s);
  sqlite3_reset(p);
  return -1;
}

int inv_exec(inv_store *s, const char *zSql) {
  sqlite3_stmt *p = inv_stmt_static(s, zSql);
  int rc;
  if (!p) return INV_ERROR;
  rc = inv_step(s, p);
  sqlite3_reset(p);
  return rc < 0 ? INV_ERROR : INV_OK;
}

int inv_begin_write(inv_store *s) { return inv_exec(s, "BEGIN IMMEDIATE"); }
int inv_commit(inv_store *s) {
  if (inv_exec(s, "COMMIT")) { inv_rollback(s); return INV_ERROR; }
  return INV_OK;
}
void inv_rollback(inv_store *s) {
  if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", 0, 0, 0);
}

/* ===================== open / close ===================== */

int64_t inv_now(inv_store *s) { return s->nowFixed ? s->nowFixed : inv_time_now(); }
void inv_store_set_now(inv_store *s, int64_t ms) { s->nowFixed = ms; }
const char *inv_sqlite_version(void) { return sqlite3_libversion(); }
inv_arena *inv_store_arena(inv_store *s) { return &s->arena; }
inv_buf *inv_store_buffer(inv_store *s) { return &s->out; }

int inv_store_version(inv_store *s, int64_t *pData, int64_t *pOwn) {
  sqlite3_stmt *p = inv_stmt_static(s, "PRAGMA data_version");
  int rc;
  if (!p) return INV_ERROR;
  rc = inv_step(s, p);
  if (rc < 0) return INV_ERROR;
  *pData = rc == SQLITE_ROW ? sqlite3_column_int64(p, 0) : 0;
  sqlite3_reset(p);
  *pOwn = sqlite3_total_changes64(s->db);
  return INV_OK;
}

int inv_store_schema_version(inv_store *s) {
  sqlite3_stmt *p;
  int v = -1;
  if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &p, NULL) == SQLITE_OK) {
    if (sqlite3_step(p) == SQLITE_ROW) v = sqlite3_column_int(p, 0);
  }
  sqlite3_finalize(p);
  return v;
}

/* Migrations by PRAGMA user_version. Version 1 is the first schema. */
static int migrate(inv_store *s, char *zErr, size_t nErr) {
  int v = inv_store_schema_version(s);
  char *zMsg = NULL;
  if (v < 0) { snprintf(zErr, nErr, "%s", sqlite3_errmsg(s->db)); return INV_ERROR; }
  if (v > INV_SCHEMA_VERSION) {
    snprintf(zErr, nErr, "database schema version %d is newer than this library (%d)",
             v, INV_SCHEMA_VERSION);
    return INV_ERROR;
  }
  if (v == INV_SCHEMA_VERSION) return INV_OK;
  if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", 0, 0, &zMsg) != SQLITE_OK) goto fail;
  v = inv_store_schema_version(s);     /* another process may have migrated */
  if (v == 0) {
    const inv_resource *ar[3];
    int i;
    ar[0] = &inv_res_job; ar[1] = &inv_res_task; ar[2] = &inv_res_spot;
    for (i = 0; i < 3; i++) {
      const char *const *pz;
      inv_buf_reset(&s->tmp);
      inv_resource_ddl(ar[i], &s->tmp);
      if (s->tmp.bOom) { snprintf(zErr, nErr, "out of memory"); goto rollback; }
      if (sqlite3_exec(s->db, s->tmp.z, 0, 0, &zMsg) != SQLITE_OK) goto fail;
      for (pz = ar[i]->azIndex; *pz; pz++) {
        if (sqlite3_exec(s->db, *pz, 0, 0, &zMsg) != SQLITE_OK) goto fail;
      }
    }
    v = 1;
  }
  if (v == 1) {
    /* 2: the change journal (inv_journal.c) */
    if (sqlite3_exec(s->db, "CREATE TABLE change (seq INTEGER PRIMARY KEY, "
                     "at INTEGER NOT NULL, resource TEXT NOT NULL, op TEXT NOT NULL, "
                     "id TEXT NOT NULL, domain_id TEXT, workspace_id TEXT, project_id TEXT, "
                     "job_id TEXT, collector_id TEXT)", 0, 0, &zMsg) != SQLITE_OK) goto fail;
    v = 2;
  }
  /* future: if (v == 2) { ...ALTER...; v = 3; } */
  {
    char zSql[64];
    snprintf(zSql, sizeof zSql, "PRAGMA user_version = %d", v);
    if (sqlite3_exec(s->db, zSql, 0, 0, &zMsg) != SQLITE_OK) goto fail;
  }
  if (sqlite3_exec(s->db, "COMMIT", 0, 0, &zMsg) != SQLITE_OK) goto fail;
  return INV_OK;
fail:
  snprintf(zErr, nErr, "%s", zMsg ? zMsg : sqlite3_errmsg(s->db));
  sqlite3_free(zMsg);
rollback:
  if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", 0, 0, 0);
  return INV_ERROR;
}

/* Switch a new file to WAL. SQLite does not apply the busy handler to this
** pragma, so while another connection writes to a fresh (not yet WAL) file
** it answers BUSY at once: retry within the busy budget. */
static int setWal(sqlite3 *db, int nBusyMs) {
  int waited = 0;
  for (;;) {
    sqlite3_stmt *p;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &p, NULL);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(p);
      rc = sqlite3_finalize(p);
    }
    if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) return rc;
    if (waited >= nBusyMs) return rc;
    sqlite3_sleep(5);
    waited += 5;
  }
}

int inv_store_open(const inv_options *pOpt, inv_store **ppOut, char *zErr, size_t nErr) {
  inv_options o = INV_OPTIONS_INIT;
  inv_store *s;
  int flags, rc;
  char zSql[96];
  *ppOut = NULL;
  if (pOpt) o = *pOpt;
  if (!o.zPath || !o.zPath[0]) o.zPath = "inventory.db";
  if (o.nBusyMs < 0) o.nBusyMs = 0;
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
  s->pRegex = inv_regex_new();
  if (!s->pRegex) { snprintf(zErr, nErr, "out of memory"); goto fail; }
  flags = (o.bReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  rc = sqlite3_open_v2(o.zPath, &s->db, flags, NULL);
  if (rc != SQLITE_OK) {
    snprintf(zErr, nErr, "cannot open %s: %s", o.zPath,
             s->db ? sqlite3_errmsg(s->db) : "out of memory");
    goto fail;
  }
  sqlite3_extended_result_codes(s->db, 1);
  sqlite3_busy_timeout(s->db, o.nBusyMs);
  sqlite3_progress_handler(s->db, 1000, progress, s);
  if (!o.bReadOnly && setWal(s->db, o.nBusyMs) != SQLITE_OK) {
    snprintf(zErr, nErr, "cannot open %s: %s", o.zPath, sqlite3_errmsg(s->db));
    goto fail;
  }
  snprintf(zSql, sizeof zSql,
           "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY");
  if (sqlite3_exec(s->db, zSql, 0, 0, 0) != SQLITE_OK
      || inv_regex_register(s->db, s->pRegex) != SQLITE_OK
      || inv_stat_register(s->db) != SQLITE_OK) {
    snprintf(zErr, nErr, "cannot open %s: %s", o.zPath, sqlite3_errmsg(s->db));
    goto fail;
  }
  if (o.bReadOnly) {
    if (inv_store_schema_version(s) != INV_SCHEMA_VERSION) {
      snprintf(zErr, nErr, "cannot open %s: not an inventory database of schema %d",
               o.zPath, INV_SCHEMA_VERSION);
      goto fail;
    }
  } else if (migrate(s, zErr, nErr)) {
    goto fail;
  }
  *ppOut = s;
  return INV_OK;
fail:
  inv_store_close(s);
  return INV_ERROR;
}

void inv_store_close(inv_store *s) {
  int i;
  if (!s) return;
  for (i = 0; i < s->nCache; i++) {
    sqlite3_finalize(s->aCache[i].pStmt);
    inv_free(s->aCache[i].zSql);
  }
  if (s->db) {
    if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", 0, 0, 0);
    sqlite3_close_v2(s->db);
  }
  inv_arena_free(&s->arena);
  inv_buf_free(&s->sql);
  inv_buf_free(&s->tmp);
  inv_buf_free(&s->err);
  inv_buf_free(&s->jscratch);
  inv_buf_free(&s->out);
  inv_regex_free(s->pRegex);
  inv_free(s);
}

/* Empty a buffer for the next call; one that a large call grew gives its
** memory back (a long-lived store, as in an nginx worker, keeps ~1 MB). */
static void bufNext(inv_buf *b) {
  if (b->nAlloc > INV_BUF_KEEP) { inv_buf_free(b); inv_buf_init(b); }
  else inv_buf_reset(b);
}

void inv_store_begin(inv_store *s) {
  int i;
  for (i = 0; i < s->nActive; i++) sqlite3_reset(s->apActive[i]);
  s->nActive = 0;
  if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", 0, 0, 0);
  for (i = 0; i < s->nCache; i++) {     /* a huge statement serves one call only */
    if (!s->aCache[i].bOnce) continue;
    sqlite3_finalize(s->aCache[i].pStmt);
    inv_free(s->aCache[i].zSql);
    s->aCache[i--] = s->aCache[--s->nCache];
  }
  inv_arena_reset(&s->arena);
  bufNext(&s->sql);
  bufNext(&s->tmp);
  bufNext(&s->jscratch);
  bufNext(&s->out);
  s->zErrCode = NULL;
  s->nsDeadline = 0;
  if (s->pRegex) inv_regex_begin(s->pRegex);
}
