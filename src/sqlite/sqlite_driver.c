/*
** sqlite_driver.c: the SQLite driver. One file (WAL, synchronous=NORMAL, a
** busy timeout) or ":memory:"; the schema created and migrated by PRAGMA
** user_version; a prepared-statement cache keyed by SQL text; the call's time
** budget as a progress handler; SQLite's errors mapped to the core's codes
** and classes.
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include "sqlite_int.h"

/* ===================== errors ===================== */

/* An error SQLite reported while running a statement. Whose fault it is
** follows from SQLite's code: a busy or locked database is transient; an
** interrupt is the call's time budget running out; an error of a function
** or of the data (a regex too complex, a division by zero, a value over 16 MB,
** an integer overflow) is the request's; memory, I/O, a corrupt or
** read-only file are the store's. */
int inv_sqlite_err(inv_store *s) {
  sqlite3 *db = SQLITE_DB(s);
  int rc = sqlite3_errcode(db) & 0xff;
  switch (rc) {
    case SQLITE_BUSY: case SQLITE_LOCKED:
      return inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                           "Database query failed. (reason = %s)", sqlite3_errmsg(db));
    case SQLITE_INTERRUPT:
      if (s->nsDeadline) return inv_err_budget(s);
      return inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY",
                           "Database query failed. (reason = %s)", sqlite3_errmsg(db));
    case SQLITE_ERROR: case SQLITE_TOOBIG: case SQLITE_MISMATCH: case SQLITE_RANGE:
    case SQLITE_CONSTRAINT:
      return inv_err_db(s, "%s", sqlite3_errmsg(db));
    case SQLITE_NOMEM:
      return inv_err_nomem(s);
    default:
      return inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY",
                           "Database query failed. (reason = %s)", sqlite3_errmsg(db));
  }
}

/* SQLite refused SQL this store built: never the request's fault (the
** compilers keep every request within SQLite's limits; fuzz_query checks). */
static int errPrepare(inv_store *s) {
  sqlite3 *db = SQLITE_DB(s);
  if ((sqlite3_errcode(db) & 0xff) == SQLITE_NOMEM) return inv_err_nomem(s);
  return inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY",
                       "Database query failed. (reason = %s)", sqlite3_errmsg(db));
}

/* SQLite calls this every 1,000 virtual machine steps: a statement past the
** call's deadline is interrupted (SQLITE_INTERRUPT, see inv_sqlite_err). */
static int progress(void *p) {
  return inv_budget_exceeded((inv_store*)p);
}

/* ===================== statements ===================== */

/* The statement cache's hash of an SQL text: eight bytes a step (a stat's
** text is about 900 bytes, hashed on every call); equal hashes are
** confirmed with strcmp. */
static unsigned int hashSql(const char *z) {
  size_t n = strlen(z), i;
  uint64_t h = 1469598103934665603ull ^ (uint64_t)n, w;
  for (i = 0; i + 8 <= n; i += 8) {
    memcpy(&w, z + i, 8);
    h = (h ^ w) * 1099511628211ull;
    h ^= h >> 32;
  }
  for (; i < n; i++) h = (h ^ (unsigned char)z[i]) * 1099511628211ull;
  return (unsigned int)(h ^ (h >> 32));
}

static int isActive(SqliteConn *c, sqlite3_stmt *p) {
  int i;
  for (i = 0; i < c->nActive; i++) if (c->apActive[i] == p) return 1;
  return 0;
}

static void trackActive(SqliteConn *c, sqlite3_stmt *p) {
  if (isActive(c, p)) return;
  if (c->nActive < (int)(sizeof c->apActive / sizeof c->apActive[0])) {
    c->apActive[c->nActive++] = p;
  }
}

static sqlite3_stmt *cached(SqliteConn *c, SqliteCached *e) {
  e->lastUse = ++c->useClock;
  sqlite3_reset(e->pStmt);
  sqlite3_clear_bindings(e->pStmt);
  trackActive(c, e->pStmt);
  return e->pStmt;
}

static sqlite3_stmt *prepareText(inv_store *s, const char *zSql) {
  SqliteConn *c = SQLITE_CONN(s);
  unsigned int h = hashSql(zSql);
  int i, iVictim = 0;
  sqlite3_stmt *p = NULL;
  size_t n;
  char *zCopy;
  for (i = 0; i < c->nCache; i++) {
    SqliteCached *e = &c->aCache[i];
    if (e->hash == h && strcmp(e->zSql, zSql) == 0) return cached(c, e);
    /* the victim: the least recently used statement this call is not using */
    if (!isActive(c, e->pStmt)
        && (isActive(c, c->aCache[iVictim].pStmt) || e->lastUse < c->aCache[iVictim].lastUse)) {
      iVictim = i;
    }
  }
  if (sqlite3_prepare_v3(c->db, zSql, -1, SQLITE_PREPARE_PERSISTENT, &p, NULL) != SQLITE_OK) {
    errPrepare(s);
    sqlite3_finalize(p);
    return NULL;
  }
  n = strlen(zSql);
  zCopy = inv_malloc(n + 1);
  if (!zCopy) { sqlite3_finalize(p); inv_err_nomem(s); return NULL; }
  memcpy(zCopy, zSql, n + 1);
  if (c->nCache < INV_STMT_CACHE) {
    iVictim = c->nCache++;
  } else {
    SqliteCached *e = &c->aCache[iVictim];   /* not in use (at most 8 of 64 are) */
    sqlite3_finalize(e->pStmt);
    inv_free(e->zSql);
  }
  c->aCache[iVictim].zSql = zCopy;
  c->aCache[iVictim].zStatic = NULL;
  c->aCache[iVictim].pStmt = p;
  c->aCache[iVictim].hash = h;
  c->aCache[iVictim].lastUse = ++c->useClock;
  c->aCache[iVictim].bOnce = n > INV_STMT_KEEP;
  trackActive(c, p);
  return p;
}

static inv_stmt *xPrepare(inv_store *s, const char *zSql, int bStatic) {
  SqliteConn *c = SQLITE_CONN(s);
  sqlite3_stmt *p;
  int i;
  if (bStatic) {
    for (i = 0; i < c->nCache; i++) {
      if (c->aCache[i].zStatic == zSql) return (inv_stmt*)cached(c, &c->aCache[i]);
    }
  }
  p = prepareText(s, zSql);
  if (p && bStatic) {
    for (i = 0; i < c->nCache; i++) if (c->aCache[i].pStmt == p) c->aCache[i].zStatic = zSql;
  }
  return (inv_stmt*)p;
}

static int xBind(inv_store *s, inv_stmt *pStmt, int i, const inv_bind *b) {
  sqlite3_stmt *p = (sqlite3_stmt*)pStmt;
  int rc;
  switch (b->t) {
    case INV_INT:  rc = sqlite3_bind_int64(p, i, b->i); break;
    case INV_REAL: rc = sqlite3_bind_double(p, i, b->r); break;
    case INV_STR:  rc = sqlite3_bind_text(p, i, b->z, (int)b->n, SQLITE_STATIC); break;
    default:       rc = sqlite3_bind_null(p, i); break;
  }
  return rc == SQLITE_OK ? INV_OK : inv_sqlite_err(s);
}

static int xStep(inv_store *s, inv_stmt *pStmt) {
  sqlite3_stmt *p = (sqlite3_stmt*)pStmt;
  sqlite3 *db = SQLITE_DB(s);
  int rc = sqlite3_step(p);
  if (rc == SQLITE_ROW) return INV_ROW;
  if (rc == SQLITE_DONE) return INV_DONE;
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {   /* extended result codes are on */
    int ext = sqlite3_extended_errcode(db);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
      /* "UNIQUE constraint failed: job.job_id": name the column only */
      const char *zMsg = sqlite3_errmsg(db), *zCol = strrchr(zMsg, '.');
      inv_err(s, "ERROR_SAVE_UNIQUE_VALUES", "Tried to save duplicate unique values. (key = %s)",
              zCol ? zCol + 1 : "id");
      sqlite3_reset(p);
      return -1;
    }
  }
  inv_sqlite_err(s);
  sqlite3_reset(p);
  return -1;
}

static void xReset(inv_store *s, inv_stmt *p) {
  (void)s;
  sqlite3_reset((sqlite3_stmt*)p);
}

static int xColumnType(inv_stmt *pStmt, int i) {
  sqlite3_stmt *p = (sqlite3_stmt*)pStmt;
  switch (sqlite3_column_type(p, i)) {
    case SQLITE_INTEGER: return INV_T_INT;
    case SQLITE_FLOAT: return INV_T_REAL;
    case SQLITE_NULL: return INV_T_NULL;
    default: return INV_T_TEXT;
  }
}
static int64_t xColumnInt(inv_stmt *p, int i) { return sqlite3_column_int64((sqlite3_stmt*)p, i); }
static double xColumnReal(inv_stmt *p, int i) { return sqlite3_column_double((sqlite3_stmt*)p, i); }
static const char *xColumnText(inv_stmt *pStmt, int i, size_t *pn) {
  sqlite3_stmt *p = (sqlite3_stmt*)pStmt;
  const char *z = (const char*)sqlite3_column_text(p, i);
  *pn = z ? (size_t)sqlite3_column_bytes(p, i) : 0;
  return z ? z : "";
}

/* One read per column: sqlite3_column_value, then the value's accessors
** (each sqlite3_column_* call checks its arguments and enters and leaves
** the connection's mutex; a rendered row reads 20 columns). */
static int xColumnGet(inv_stmt *pStmt, int i, int bText, int64_t *pI, const char **pz, size_t *pn) {
  sqlite3_value *v = sqlite3_column_value((sqlite3_stmt*)pStmt, i);
  int t = sqlite3_value_type(v);
  if (t == SQLITE_NULL) return INV_T_NULL;
  if (bText) {
    const char *z = (const char*)sqlite3_value_text(v);
    *pn = z ? (size_t)sqlite3_value_bytes(v) : 0;
    *pz = z ? z : "";
  } else {
    *pI = sqlite3_value_int64(v);
  }
  return t == SQLITE_INTEGER ? INV_T_INT : t == SQLITE_FLOAT ? INV_T_REAL : INV_T_TEXT;
}

/* ===================== transactions ===================== */

static int execStatic(inv_store *s, const char *zSql) {
  inv_stmt *p = xPrepare(s, zSql, 1);
  int rc;
  if (!p) return INV_ERROR;
  rc = xStep(s, p);
  xReset(s, p);
  return rc < 0 ? INV_ERROR : INV_OK;
}

static void xRollback(inv_store *s) {
  SqliteConn *c = SQLITE_CONN(s);
  if (c->pHeld) { sqlite3_reset(c->pHeld); c->pHeld = NULL; }    /* a held snapshot ends */
  if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", 0, 0, 0);
}

/* A write takes the write lock first (BEGIN IMMEDIATE): no upgrade from a
** read lock can deadlock. Reads need no transaction: a statement stepping
** holds its snapshot, and the core keeps the rows statement active while it
** counts (see inv_read.c). */
static int xBegin(inv_store *s, int eMode) {
  if (eMode == INV_TX_READ) return execStatic(s, "BEGIN");
  return execStatic(s, "BEGIN IMMEDIATE");
}

static int xCommit(inv_store *s) {
  if (execStatic(s, "COMMIT")) { xRollback(s); return INV_ERROR; }
  return INV_OK;
}

static int64_t xChanges(inv_store *s) { return sqlite3_changes64(SQLITE_DB(s)); }

/* ===================== versions ===================== */

static int xVersion(inv_store *s, int64_t *pData, int64_t *pOwn) {
  inv_stmt *p = xPrepare(s, "PRAGMA data_version", 1);
  int rc;
  if (!p) return INV_ERROR;
  rc = xStep(s, p);
  if (rc < 0) return INV_ERROR;
  *pData = rc == INV_ROW ? xColumnInt(p, 0) : 0;
  xReset(s, p);
  *pOwn = sqlite3_total_changes64(SQLITE_DB(s));
  return INV_OK;
}

/* The version in the read snapshot of the call that follows: the statement
** stays stepped (it holds the snapshot, as a page's statement does for its
** count) until xRollback or the next call resets it. */
static int xVersionHeld(inv_store *s, int64_t *pData, int64_t *pOwn) {
  SqliteConn *c = SQLITE_CONN(s);
  inv_stmt *p = xPrepare(s, "PRAGMA data_version", 1);
  int rc;
  if (!p) return INV_ERROR;
  rc = xStep(s, p);
  if (rc < 0) return INV_ERROR;
  *pData = rc == INV_ROW ? xColumnInt(p, 0) : 0;
  *pOwn = sqlite3_total_changes64(c->db);
  if (rc == INV_ROW) c->pHeld = (sqlite3_stmt*)p;
  else xReset(s, p);
  return INV_OK;
}

static int schemaVersion(sqlite3 *db) {
  sqlite3_stmt *p;
  int v = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &p, NULL) == SQLITE_OK) {
    if (sqlite3_step(p) == SQLITE_ROW) v = sqlite3_column_int(p, 0);
  }
  sqlite3_finalize(p);
  return v;
}
static int xSchemaVersion(inv_store *s) { return schemaVersion(SQLITE_DB(s)); }
static const char *xEngineVersion(inv_store *s) { (void)s; return sqlite3_libversion(); }

static int xExplain(inv_store *s, inv_q *q, inv_buf *pOut) {
  sqlite3 *db = SQLITE_DB(s);
  sqlite3_stmt *p = NULL;
  int rc, i;
  inv_buf_reset(&s->tmp);
  inv_buf_adds(&s->tmp, "EXPLAIN QUERY PLAN ");
  inv_buf_add(&s->tmp, q->b->z, q->b->n);
  if (s->tmp.bOom) return inv_err_nomem(s);
  if (sqlite3_prepare_v2(db, s->tmp.z, -1, &p, NULL) != SQLITE_OK) {
    sqlite3_finalize(p);
    return errPrepare(s);
  }
  for (i = 0; i < q->nBind; i++) {
    if (xBind(s, (inv_stmt*)p, i + 1, &q->aBind[i])) { sqlite3_finalize(p); return INV_ERROR; }
  }
  while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
    inv_buf_adds(pOut, (const char*)sqlite3_column_text(p, 3));
    inv_buf_addc(pOut, '\n');
  }
  sqlite3_finalize(p);
  if (rc != SQLITE_DONE) return inv_sqlite_err(s);
  return pOut->bOom ? inv_err_nomem(s) : INV_OK;
}

/* ===================== open / close ===================== */

/* The planner's figures for our indexes (sqlite_stat1, as ANALYZE writes
** them: the rows, then the rows per distinct prefix of the index's columns),
** fixed for the shape of the data rather than measured: a store of 10
** domains, 1,000 jobs of 100 tasks each per domain. Without them SQLite
** takes any index that delivers a GROUP BY's order, and the progress of one
** job (domain_id = ? AND job_id = ? GROUP BY status) walked every task of the
** domain through job_task_domain_status; with them it reads the job's 100.
** Fixed figures keep the plans the same on a fresh file and a full one. A
** later ANALYZE replaces them with measured ones. */
static const char *const azStat[][3] = {
  { "job", "sqlite_autoindex_job_1", "10000 1" },
  { "job", "job_domain_created", "10000 1000 1" },
  { "job", "job_domain_collector_status", "10000 1000 200 50 1" },
  { "job", "job_domain_collector_created", "10000 1000 200 1" },
  { "job", "job_domain_workspace", "10000 1000 100" },
  { "job", "job_domain_status", "10000 1000 250 1" },
  { "job", "job_status_created", "10000 2500 1" },
  { "job", "job_created", "10000 1" },
  { "job_task", "sqlite_autoindex_job_task_1", "1000000 1" },
  { "job_task", "job_task_domain_job", "1000000 100000 100 100" },
  { "job_task", "job_task_domain_created", "1000000 100000 100" },
  { "job_task", "job_task_domain_status", "1000000 100000 25000" },
  { "job_task", "job_task_domain_workspace_project", "1000000 100000 10000 1000" },
  { "spot_job", "sqlite_autoindex_spot_job_1", "1000 1" },
  { "spot_job", "spot_job_domain_created", "1000 100 1" },
};

/* Write azStat (in the migration's transaction). "ANALYZE sqlite_schema"
** creates sqlite_stat1 when it is missing and gathers nothing (SQLite skips
** its own tables). */
static int writeStats(sqlite3 *db, char **pzMsg) {
  sqlite3_stmt *p = NULL;
  size_t i;
  int rc = sqlite3_exec(db, "ANALYZE sqlite_schema; DELETE FROM sqlite_stat1 "
                        "WHERE tbl IN ('job', 'job_task', 'spot_job')", 0, 0, pzMsg);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_prepare_v2(db, "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?1, ?2, ?3)",
                          -1, &p, NULL);
  for (i = 0; rc == SQLITE_OK && i < sizeof azStat / sizeof azStat[0]; i++) {
    sqlite3_bind_text(p, 1, azStat[i][0], -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 2, azStat[i][1], -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 3, azStat[i][2], -1, SQLITE_STATIC);
    rc = sqlite3_step(p) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    sqlite3_reset(p);
  }
  sqlite3_finalize(p);
  return rc;
}

/* Migrations by PRAGMA user_version: 1 the tables of the resources, 2 the
** change journal, 3 the indexes of schema 3 and the planner's figures, 4 nothing
** (a PostgreSQL change). */
static int migrate(inv_store *s, char *zErr, size_t nErr) {
  sqlite3 *db = SQLITE_DB(s);
  int v = schemaVersion(db);
  char *zMsg = NULL;
  if (v < 0) { snprintf(zErr, nErr, "%s", sqlite3_errmsg(db)); return INV_ERROR; }
  if (v > INV_SCHEMA_VERSION) {
    snprintf(zErr, nErr, "database schema version %d is newer than this library (%d)",
             v, INV_SCHEMA_VERSION);
    return INV_ERROR;
  }
  if (v == INV_SCHEMA_VERSION) return INV_OK;
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, &zMsg) != SQLITE_OK) goto fail;
  v = schemaVersion(db);               /* another process may have migrated */
  if (v == 0) {
    int i;
    for (i = 0; inv_resources[i]; i++) {
      const inv_resource *r = inv_resources[i];
      const char *const *pz;
      inv_buf_reset(&s->tmp);
      inv_sqlite_dialect.xCreateTable(&s->tmp, r);
      if (s->tmp.bOom) { snprintf(zErr, nErr, "out of memory"); goto rollback; }
      if (sqlite3_exec(db, s->tmp.z, 0, 0, &zMsg) != SQLITE_OK) goto fail;
      for (pz = r->azIndex; *pz; pz++) {
        if (sqlite3_exec(db, *pz, 0, 0, &zMsg) != SQLITE_OK) goto fail;
      }
    }
    v = 1;
  }
  if (v == 1) {
    /* the change journal (inv_journal.c); seq is the rowid: the newest row is
    ** never trimmed, so sequence numbers are not reused */
    if (sqlite3_exec(db, "CREATE TABLE change (seq INTEGER PRIMARY KEY, "
                     "at INTEGER NOT NULL, resource TEXT NOT NULL, op TEXT NOT NULL, "
                     "id TEXT NOT NULL, domain_id TEXT, workspace_id TEXT, project_id TEXT, "
                     "job_id TEXT, collector_id TEXT)", 0, 0, &zMsg) != SQLITE_OK) goto fail;
    v = 2;
  }
  if (v == 2) {
    /* schema 3: the indexes of inv_schema.c (status summaries covered, no
    ** partial index, one B-tree less per task) and the planner's figures */
    static const char *const azDrop[] = {
      "DROP INDEX IF EXISTS job_in_progress", "DROP INDEX IF EXISTS job_task_job",
      "DROP INDEX IF EXISTS job_task_domain_collector_status", "DROP INDEX IF EXISTS job_task_created",
      NULL
    };
    const char *const *pz;
    int i;
    for (pz = azDrop; *pz; pz++) if (sqlite3_exec(db, *pz, 0, 0, &zMsg) != SQLITE_OK) goto fail;
    for (i = 0; inv_resources[i]; i++) {
      for (pz = inv_resources[i]->azIndex; *pz; pz++) {
        if (sqlite3_exec(db, *pz, 0, 0, &zMsg) != SQLITE_OK) goto fail;
      }
    }
    if (writeStats(db, &zMsg) != SQLITE_OK) goto fail;
    v = 3;
  }
  /* schema 4 changed the PostgreSQL journal's stamping only: nothing here */
  if (v == 3) v = 4;
  /* future: if (v == 4) { ...ALTER...; v = 5; } */
  {
    char zSql[64];
    snprintf(zSql, sizeof zSql, "PRAGMA user_version = %d", v);
    if (sqlite3_exec(db, zSql, 0, 0, &zMsg) != SQLITE_OK) goto fail;
  }
  if (sqlite3_exec(db, "COMMIT", 0, 0, &zMsg) != SQLITE_OK) goto fail;
  /* this connection made the indexes itself: it loads their figures now
  ** (others read them with the changed schema). The migration is done: a
  ** failure here (another connection writing) costs plans, not the open */
  sqlite3_exec(db, "ANALYZE sqlite_schema", 0, 0, 0);
  return INV_OK;
fail:
  snprintf(zErr, nErr, "%s", zMsg ? zMsg : sqlite3_errmsg(db));
  sqlite3_free(zMsg);
rollback:
  if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
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

static void xClose(inv_store *s) {
  SqliteConn *c = SQLITE_CONN(s);
  int i;
  if (!c) return;
  for (i = 0; i < c->nCache; i++) {
    sqlite3_finalize(c->aCache[i].pStmt);
    inv_free(c->aCache[i].zSql);
  }
  if (c->db) {
    if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", 0, 0, 0);
    sqlite3_close_v2(c->db);
  }
  inv_regex_free(c->pRegex);
  inv_free(c);
  s->pConn = NULL;
}

static int xOpen(inv_store *s, const inv_options *pOpt, char *zErr, size_t nErr) {
  const char *zPath = pOpt->zPath && pOpt->zPath[0] ? pOpt->zPath : "inventory.db";
  int nBusyMs = pOpt->nBusyMs < 0 ? 0 : pOpt->nBusyMs;
  SqliteConn *c = inv_malloc(sizeof *c);
  int flags, rc;
  if (!c) { snprintf(zErr, nErr, "out of memory"); return INV_ERROR; }
  memset(c, 0, sizeof *c);
  s->pConn = c;
  c->pRegex = inv_regex_new();
  if (!c->pRegex) { snprintf(zErr, nErr, "out of memory"); return INV_ERROR; }
  flags = (pOpt->bReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  rc = sqlite3_open_v2(zPath, &c->db, flags, NULL);
  if (rc != SQLITE_OK) {
    snprintf(zErr, nErr, "cannot open %s: %s", zPath,
             c->db ? sqlite3_errmsg(c->db) : "out of memory");
    return INV_ERROR;
  }
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_busy_timeout(c->db, nBusyMs);
  sqlite3_progress_handler(c->db, 1000, progress, s);
  if (!pOpt->bReadOnly && setWal(c->db, nBusyMs) != SQLITE_OK) {
    snprintf(zErr, nErr, "cannot open %s: %s", zPath, sqlite3_errmsg(c->db));
    return INV_ERROR;
  }
  if (sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                   "PRAGMA temp_store=MEMORY; "
                   "PRAGMA wal_autocheckpoint=" INV_STR(INV_WAL_AUTOCHECKPOINT), 0, 0, 0) != SQLITE_OK
      || inv_regex_register(c->db, c->pRegex) != SQLITE_OK
      || inv_sqlite_func_register(c->db) != SQLITE_OK) {
    snprintf(zErr, nErr, "cannot open %s: %s", zPath, sqlite3_errmsg(c->db));
    return INV_ERROR;
  }
  if (pOpt->bReadOnly) {
    int v = schemaVersion(c->db);
    if (v != INV_SCHEMA_VERSION) {
      char zWhy[200];
      inv_schema_refusal(v, zWhy, sizeof zWhy);
      snprintf(zErr, nErr, "cannot open %s: %s", zPath, zWhy);
      return INV_ERROR;
    }
    return INV_OK;
  }
  return migrate(s, zErr, nErr);
}

/* A call starts: the statements the last one stepped are reset (a raised
** Lua error may have left them mid-way), a transaction it left is rolled
** back, and a statement too large to keep is dropped. */
static void xBeginCall(inv_store *s) {
  SqliteConn *c = SQLITE_CONN(s);
  int i;
  for (i = 0; i < c->nActive; i++) sqlite3_reset(c->apActive[i]);
  c->nActive = 0;
  c->pHeld = NULL;                      /* (it was one of them) */
  if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", 0, 0, 0);
  for (i = 0; i < c->nCache; i++) {     /* a huge statement serves one call only */
    if (!c->aCache[i].bOnce) continue;
    sqlite3_finalize(c->aCache[i].pStmt);
    inv_free(c->aCache[i].zSql);
    c->aCache[i--] = c->aCache[--c->nCache];
  }
  inv_regex_begin(c->pRegex);
}

static void xForget(inv_store *s, const char *zSql) {
  SqliteConn *c = SQLITE_CONN(s);
  int i;
  for (i = 0; i < c->nCache; i++) if (c->aCache[i].zStatic == zSql) c->aCache[i].zStatic = NULL;
}

/* A PASSIVE checkpoint: the frames of the log that no reader still needs
** go into the file; never waits (busy: nothing done this time). */
static int xCheckpoint(inv_store *s, int64_t *pnLog, int64_t *pnDone) {
  int nLog = 0, nDone = 0;
  int rc = sqlite3_wal_checkpoint_v2(SQLITE_DB(s), NULL, SQLITE_CHECKPOINT_PASSIVE, &nLog, &nDone);
  if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) return inv_sqlite_err(s);
  *pnLog = nLog < 0 ? 0 : nLog;
  *pnDone = nDone < 0 ? 0 : nDone;
  return INV_OK;
}

const inv_driver inv_sqlite_driver = {
  6, "sqlite", &inv_sqlite_dialect,
  xOpen, xClose, xBeginCall, xPrepare, xBind, xStep, xReset,
  xColumnType, xColumnInt, xColumnReal, xColumnText,
  xBegin, xCommit, xRollback, xChanges, xVersion, xSchemaVersion, xEngineVersion, xExplain,
  inv_sqlite_info, inv_sqlite_integrity, inv_sqlite_backup,       /* sqlite_admin.c */
  1,                                   /* a stepped statement holds its snapshot */
  xColumnGet, xVersionHeld,
  xCheckpoint,
  xForget
};

const char *inv_sqlite_version(void) { return sqlite3_libversion(); }
