/*
** pg_driver.c: the PostgreSQL driver, over libpq. One connection per store;
** every statement a server-side prepared statement, cached per connection by
** its text; results fetched whole and stepped row by row; errors mapped from
** SQLSTATE to the core's codes and classes; the call's budget as the
** session's statement_timeout; a lost connection re-established at the next
** call (the prepared statements with it).
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "pg_int.h"

/* type OIDs (pg_type.h is a server header) */
#define OID_BOOL    16
#define OID_INT8    20
#define OID_INT2    21
#define OID_INT4    23
#define OID_TEXT    25
#define OID_JSON   114
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700
#define OID_JSONB 3802

/* ===================== errors ===================== */

static int startsWith(const char *z, const char *zPre) { return strncmp(z, zPre, strlen(zPre)) == 0; }

/* The connection is gone (or going): every prepared statement with it. */
static void forgetStatements(PgConn *c) {
  int i;
  for (i = 0; i < c->nStmt; i++) c->aStmt[i].bPrepared = 0;
  c->nTimeoutSet = -1;
  c->bInTx = 0;
}

/* An error of a statement (pRes) or of the connection (pRes NULL or a
** fatal result without SQLSTATE). Whose fault it is follows from SQLSTATE:
** serialization failures and deadlocks are retried (INV_UNAVAILABLE with
** s->bRetry), a lost server is INV_UNAVAILABLE, a cancelled statement past
** the call's deadline is the request's time budget, data exceptions and our
** functions' RAISEs are the request's, the rest the store's. */
int inv_pg_err(inv_store *s, const PGresult *pRes) {
  PgConn *c = PG_CONN(s);
  const char *zState = pRes ? PQresultErrorField(pRes, PG_DIAG_SQLSTATE) : NULL;
  const char *zMsg = pRes ? PQresultErrorField(pRes, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  char zBuf[600];
  if (!zMsg || !zMsg[0]) {
    snprintf(zBuf, sizeof zBuf, "%s", PQerrorMessage(c->pg));
    zMsg = zBuf;
    {
      size_t n = strlen(zBuf);
      while (n && (zBuf[n - 1] == '\n' || zBuf[n - 1] == ' ')) zBuf[--n] = 0;
    }
  }
  if (!zState || PQstatus(c->pg) != CONNECTION_OK || startsWith(zState, "08")
      || !strcmp(zState, "57P01") || !strcmp(zState, "57P02") || !strcmp(zState, "57P03")) {
    forgetStatements(c);
    return inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                         "Database query failed. (reason = PostgreSQL is unavailable: %.400s)", zMsg);
  }
  if (!strcmp(zState, "40001") || !strcmp(zState, "40P01")) {
    s->bRetry = 1;
    return inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                         "Database query failed. (reason = %.400s)", zMsg);
  }
  if (!strcmp(zState, "57014")) {                /* statement_timeout, or a cancel */
    if (s->nsDeadline) return inv_err_budget(s);
    return inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY",
                         "Database query failed. (reason = %.400s)", zMsg);
  }
  if (!strcmp(zState, "23505")) {
    return inv_err(s, "ERROR_SAVE_UNIQUE_VALUES",
                   "Tried to save duplicate unique values. (keys = %.400s)", zMsg);
  }
  if (startsWith(zState, "22") || !strcmp(zState, "P0001") || startsWith(zState, "2201B")) {
    return inv_err_db(s, "%.600s", zMsg);
  }
  if (startsWith(zState, "53")) {                /* insufficient resources */
    return inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                         "Database query failed. (reason = %.400s)", zMsg);
  }
  return inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY",
                       "Database query failed. (reason = %.400s [%s])", zMsg, zState);
}

/* Run SQL of ours with no parameters and no rows to read. */
static int execSimple(inv_store *s, const char *zSql) {
  PgConn *c = PG_CONN(s);
  PGresult *r = PQexec(c->pg, zSql);
  int rc = INV_OK;
  if (!r || (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)) {
    rc = inv_pg_err(s, r);
  }
  PQclear(r);
  return rc;
}

/* ===================== connection ===================== */

static int connectNow(inv_store *s, char *zErr, size_t nErr);

/* A usable connection: re-established when the server went away. */
static int ensureConnected(inv_store *s) {
  PgConn *c = PG_CONN(s);
  char zErr[400];
  if (c->pg && PQstatus(c->pg) == CONNECTION_OK) return INV_OK;
  forgetStatements(c);
  if (c->pg) { PQfinish(c->pg); c->pg = NULL; }
  if (connectNow(s, zErr, sizeof zErr)) {
    return inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                         "Database query failed. (reason = PostgreSQL is unavailable: %s)", zErr);
  }
  return INV_OK;
}

/* The session's statement_timeout follows the call's budget. */
static int setTimeout(inv_store *s) {
  PgConn *c = PG_CONN(s);
  char zSql[64];
  if (c->nTimeoutSet == s->nBudgetMs) return INV_OK;
  snprintf(zSql, sizeof zSql, "SET statement_timeout = %d", s->nBudgetMs);
  if (execSimple(s, zSql)) return INV_ERROR;
  c->nTimeoutSet = s->nBudgetMs;
  return INV_OK;
}

/* ===================== statements ===================== */

static unsigned int hashSql(const char *z) {
  unsigned int h = 2166136261u;
  for (; *z; z++) h = (h ^ (unsigned char)*z) * 16777619u;
  return h;
}

static void stmtClearParams(PgStmt *p) {
  int i;
  for (i = 0; i < p->nParam; i++) { inv_free(p->azParam[i]); p->azParam[i] = NULL; }
}

static void stmtResetResult(PgStmt *p) {
  if (p->pRes) { PQclear(p->pRes); p->pRes = NULL; }
  p->iRow = -1;
  p->nRow = 0;
  p->bDone = 0;
}

static void stmtFree(PgConn *c, PgStmt *p, int bDeallocate) {
  stmtResetResult(p);
  stmtClearParams(p);
  if (bDeallocate && p->bPrepared && c->pg && PQstatus(c->pg) == CONNECTION_OK) {
    char zSql[48];
    PGresult *r;
    snprintf(zSql, sizeof zSql, "DEALLOCATE %s", p->zName);
    r = PQexec(c->pg, zSql);
    PQclear(r);
  }
  inv_free(p->azParam);
  inv_free(p->zSql);
  memset(p, 0, sizeof *p);
}

/* Make p known to the server (after a reconnect too). */
static int stmtPrepare(inv_store *s, PgStmt *p) {
  PgConn *c = PG_CONN(s);
  PGresult *r;
  int n;
  if (p->bPrepared) return INV_OK;
  snprintf(p->zName, sizeof p->zName, "inv_s%u", ++c->nextName);
  r = PQprepare(c->pg, p->zName, p->zSql, 0, NULL);
  if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
    /* SQL of ours the server refuses: not the request's fault */
    int rc = inv_pg_err(s, r);
    if (s->eErrClass == INV_CLIENT) s->eErrClass = INV_SERVER;
    PQclear(r);
    return rc;
  }
  PQclear(r);
  r = PQdescribePrepared(c->pg, p->zName);
  if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) { int rc = inv_pg_err(s, r); PQclear(r); return rc; }
  n = PQnparams(r);
  PQclear(r);
  if (n != p->nParam) {
    stmtClearParams(p);
    inv_free(p->azParam);
    p->azParam = NULL;
    p->nParam = 0;
    if (n) {
      p->azParam = inv_malloc(sizeof(char*) * (size_t)n);
      if (!p->azParam) return inv_err_nomem(s);
      memset(p->azParam, 0, sizeof(char*) * (size_t)n);
    }
    p->nParam = n;
  }
  p->bPrepared = 1;
  return INV_OK;
}

static inv_stmt *xPrepare(inv_store *s, const char *zSql, int bStatic) {
  PgConn *c = PG_CONN(s);
  unsigned int h;
  int i, iVictim = 0;
  PgStmt *p = NULL;
  if (ensureConnected(s) || setTimeout(s)) return NULL;
  if (bStatic) {
    for (i = 0; i < c->nStmt; i++) if (c->aStmt[i].zStatic == zSql) { p = &c->aStmt[i]; break; }
  }
  if (!p) {
    h = hashSql(zSql);
    for (i = 0; i < c->nStmt; i++) {
      PgStmt *e = &c->aStmt[i];
      if (e->hash == h && strcmp(e->zSql, zSql) == 0) { p = e; break; }
      if (!e->pRes && (c->aStmt[iVictim].pRes || e->lastUse < c->aStmt[iVictim].lastUse)) iVictim = i;
    }
    if (!p) {
      size_t n = strlen(zSql);
      char *zCopy = inv_malloc(n + 1);
      if (!zCopy) { inv_err_nomem(s); return NULL; }
      memcpy(zCopy, zSql, n + 1);
      if (c->nStmt < INV_PG_STMT_CACHE) p = &c->aStmt[c->nStmt++];
      else { p = &c->aStmt[iVictim]; stmtFree(c, p, 1); }
      memset(p, 0, sizeof *p);
      p->zSql = zCopy;
      p->hash = h;
      p->iRow = -1;
    }
    if (bStatic) p->zStatic = zSql;
  }
  p->lastUse = ++c->useClock;
  stmtResetResult(p);
  stmtClearParams(p);
  if (stmtPrepare(s, p)) return NULL;
  return (inv_stmt*)p;
}

static int xBind(inv_store *s, inv_stmt *pStmt, int i, const inv_bind *b) {
  PgStmt *p = (PgStmt*)pStmt;
  char *z;
  char zNum[40];
  const char *zVal = NULL;
  size_t n = 0;
  if (i < 1 || i > p->nParam) {
    return inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY",
                         "Database query failed. (reason = parameter %d of %d)", i, p->nParam);
  }
  switch (b->t) {
    case INV_INT:  snprintf(zNum, sizeof zNum, "%lld", (long long)b->i); zVal = zNum; break;
    case INV_REAL: snprintf(zNum, sizeof zNum, "%.17g", b->r); zVal = zNum; break;
    case INV_STR:
      zVal = b->z; n = b->n;
      /* PostgreSQL's text holds no NUL: such a value names nothing stored */
      if (memchr(b->z, 0, b->n)) {
        return inv_err_invalid(s, "query", "A string with a NUL character cannot be "
                               "compared on PostgreSQL.");
      }
      break;
    default: break;
  }
  inv_free(p->azParam[i - 1]);
  p->azParam[i - 1] = NULL;
  if (!zVal) return INV_OK;
  if (b->t != INV_STR) n = strlen(zVal);
  z = inv_malloc(n + 1);
  if (!z) return inv_err_nomem(s);
  memcpy(z, zVal, n);
  z[n] = 0;
  p->azParam[i - 1] = z;
  return INV_OK;
}

static int execute(inv_store *s, PgStmt *p) {
  PgConn *c = PG_CONN(s);
  PGresult *r;
  ExecStatusType st;
  if (inv_budget_exceeded(s)) return inv_err_budget(s);
  r = PQexecPrepared(c->pg, p->zName, p->nParam, (const char *const *)p->azParam, NULL, NULL, 0);
  st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    int rc = inv_pg_err(s, r);
    PQclear(r);
    /* a prepared statement the server forgot (a pooler, DISCARD ALL) */
    return rc;
  }
  p->pRes = r;
  p->nRow = st == PGRES_TUPLES_OK ? PQntuples(r) : 0;
  p->iRow = -1;
  p->bDone = 1;
  {
    const char *z = PQcmdTuples(r);
    c->nChanges = z && z[0] ? atoll(z) : 0;
  }
  return INV_OK;
}

static int xStep(inv_store *s, inv_stmt *pStmt) {
  PgStmt *p = (PgStmt*)pStmt;
  if (!p->bDone && execute(s, p)) return -1;
  if (p->iRow + 1 < p->nRow) { p->iRow++; return INV_ROW; }
  p->iRow = p->nRow;
  return INV_DONE;
}

static void xReset(inv_store *s, inv_stmt *p) {
  (void)s;
  stmtResetResult((PgStmt*)p);
}

static int xColumnType(inv_stmt *pStmt, int i) {
  PgStmt *p = (PgStmt*)pStmt;
  if (!p->pRes || p->iRow < 0 || p->iRow >= p->nRow || PQgetisnull(p->pRes, p->iRow, i)) return INV_T_NULL;
  switch (PQftype(p->pRes, i)) {
    case OID_INT8: case OID_INT4: case OID_INT2: case OID_BOOL: return INV_T_INT;
    case OID_FLOAT4: case OID_FLOAT8: return INV_T_REAL;
    case OID_NUMERIC: {
      /* an integral numeric (sum of integers) is an integer, as SQLite has it */
      const char *z = PQgetvalue(p->pRes, p->iRow, i);
      size_t n = strlen(z);
      if (n <= 18 && !strpbrk(z, ".eEnN")) return INV_T_INT;
      return INV_T_REAL;
    }
    case OID_JSON: case OID_JSONB: return INV_T_JSON;
    default: return INV_T_TEXT;
  }
}
static int64_t xColumnInt(inv_stmt *pStmt, int i) {
  PgStmt *p = (PgStmt*)pStmt;
  const char *z;
  if (xColumnType(pStmt, i) == INV_T_NULL) return 0;
  z = PQgetvalue(p->pRes, p->iRow, i);
  if (PQftype(p->pRes, i) == OID_BOOL) return z[0] == 't';
  return strtoll(z, NULL, 10);
}
static double xColumnReal(inv_stmt *pStmt, int i) {
  PgStmt *p = (PgStmt*)pStmt;
  if (xColumnType(pStmt, i) == INV_T_NULL) return 0;
  return strtod(PQgetvalue(p->pRes, p->iRow, i), NULL);
}
static const char *xColumnText(inv_stmt *pStmt, int i, size_t *pn) {
  PgStmt *p = (PgStmt*)pStmt;
  if (xColumnType(pStmt, i) == INV_T_NULL) { *pn = 0; return ""; }
  *pn = (size_t)PQgetlength(p->pRes, p->iRow, i);
  return PQgetvalue(p->pRes, p->iRow, i);
}

/* ===================== transactions ===================== */

static void xRollback(inv_store *s) {
  PgConn *c = PG_CONN(s);
  if (!c->bInTx) return;
  c->bInTx = 0;
  if (c->pg && PQstatus(c->pg) == CONNECTION_OK) {
    PGresult *r = PQexec(c->pg, "ROLLBACK");
    PQclear(r);
  }
}

/* Writes run at READ COMMITTED: each statement of the write side is a
** conditional UPDATE or takes the rows it changes, so row locks serialise
** what must be serialised. A read of several statements takes one snapshot. */
static int xBegin(inv_store *s, int eMode) {
  PgConn *c = PG_CONN(s);
  if (ensureConnected(s) || setTimeout(s)) return INV_ERROR;
  if (execSimple(s, eMode == INV_TX_READ ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                        : "BEGIN")) return INV_ERROR;
  c->bInTx = 1;
  return INV_OK;
}

static int xCommit(inv_store *s) {
  PgConn *c = PG_CONN(s);
  int rc = execSimple(s, "COMMIT");
  c->bInTx = 0;
  if (rc) xRollback(s);
  return rc;
}

static int64_t xChanges(inv_store *s) { return PG_CONN(s)->nChanges; }

/* ===================== versions ===================== */

/* Every write bumps change_seq in its own transaction (the journal's
** commit stamp, pg_schema.c): equal values, equal reads. */
static int xVersion(inv_store *s, int64_t *pData, int64_t *pOwn) {
  static const char zSql[] = "SELECT seq FROM change_seq";
  inv_stmt *p = xPrepare(s, zSql, 1);
  int rc;
  if (!p) return INV_ERROR;
  rc = xStep(s, p);
  if (rc < 0) return INV_ERROR;
  *pData = rc == INV_ROW ? xColumnInt(p, 0) : 0;
  *pOwn = 0;
  xReset(s, p);
  return INV_OK;
}

static int xSchemaVersion(inv_store *s) {
  PgConn *c = PG_CONN(s);
  PGresult *r;
  int v = -1;
  if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) return -1;
  r = PQexec(c->pg, "SELECT version FROM schema_version");
  if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) v = atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

static const char *xEngineVersion(inv_store *s) {
  PgConn *c = PG_CONN(s);
  const char *z = c->pg ? PQparameterStatus(c->pg, "server_version") : NULL;
  snprintf(c->zVersion, sizeof c->zVersion, "%s", z ? z : "");
  return c->zVersion;
}

static int xExplain(inv_store *s, inv_q *q, inv_buf *pOut) {
  PgConn *c = PG_CONN(s);
  PGresult *r;
  const char **az;
  int i, rc = INV_OK;
  if (ensureConnected(s)) return INV_ERROR;
  inv_buf_reset(&s->tmp);
  inv_buf_adds(&s->tmp, "EXPLAIN ");
  inv_buf_add(&s->tmp, q->b->z, q->b->n);
  if (s->tmp.bOom) return inv_err_nomem(s);
  az = inv_arena_alloc(&s->arena, sizeof(char*) * (size_t)(q->nBind ? q->nBind : 1));
  if (!az) return inv_err_nomem(s);
  for (i = 0; i < q->nBind; i++) {
    const inv_bind *b = &q->aBind[i];
    char z[40];
    if (b->t == INV_STR) az[i] = b->z;
    else if (b->t == INV_INT) { snprintf(z, sizeof z, "%lld", (long long)b->i); az[i] = inv_arena_strdup(&s->arena, z, strlen(z)); }
    else if (b->t == INV_REAL) { snprintf(z, sizeof z, "%.17g", b->r); az[i] = inv_arena_strdup(&s->arena, z, strlen(z)); }
    else az[i] = NULL;
  }
  r = PQexecParams(c->pg, s->tmp.z, q->nBind, NULL, az, NULL, NULL, 0);
  if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) rc = inv_pg_err(s, r);
  else {
    for (i = 0; i < PQntuples(r); i++) {
      inv_buf_adds(pOut, PQgetvalue(r, i, 0));
      inv_buf_addc(pOut, '\n');
    }
  }
  PQclear(r);
  if (!rc && pOut->bOom) rc = inv_err_nomem(s);
  return rc;
}

/* ===================== open / close ===================== */

static int connectNow(inv_store *s, char *zErr, size_t nErr) {
  PgConn *c = PG_CONN(s);
  char zTimeout[16], zSql[160];
  const char *azKey[] = { "connect_timeout", "application_name", "client_encoding", "dbname", NULL };
  const char *azVal[5];
  snprintf(zTimeout, sizeof zTimeout, "%d", c->nConnectTimeout);
  azVal[0] = zTimeout;                 /* defaults first: the URL's own settings win */
  azVal[1] = "inventory";
  azVal[2] = "UTF8";
  azVal[3] = c->zConnInfo;
  azVal[4] = NULL;
  c->pg = PQconnectdbParams(azKey, azVal, 1);
  if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
    const char *zMsg = c->pg ? PQerrorMessage(c->pg) : "out of memory";
    size_t n;
    snprintf(zErr, nErr, "%s", zMsg);
    n = strlen(zErr);
    while (n && (zErr[n - 1] == '\n' || zErr[n - 1] == ' ')) zErr[--n] = 0;
    if (c->pg) { PQfinish(c->pg); c->pg = NULL; }
    return INV_ERROR;
  }
  /* the schema (a validated identifier) is where every table lives */
  snprintf(zSql, sizeof zSql, "SET search_path = \"%s\"", c->zSchema);
  {
    PGresult *r = PQexec(c->pg, zSql);
    int bOk = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!bOk) {
      snprintf(zErr, nErr, "%s", PQerrorMessage(c->pg));
      PQfinish(c->pg);
      c->pg = NULL;
      return INV_ERROR;
    }
  }
  c->nTimeoutSet = -1;
  return INV_OK;
}

static void xClose(inv_store *s) {
  PgConn *c = PG_CONN(s);
  int i;
  if (!c) return;
  xRollback(s);
  for (i = 0; i < c->nStmt; i++) stmtFree(c, &c->aStmt[i], 0);
  if (c->pg) PQfinish(c->pg);
  inv_free(c->zConnInfo);
  inv_free(c->zSchema);
  inv_free(c);
  s->pConn = NULL;
}

static int validSchema(const char *z) {
  size_t i, n = strlen(z);
  if (n == 0 || n > 63) return 0;
  for (i = 0; i < n; i++) {
    char ch = z[i];
    if (!((ch >= 'a' && ch <= 'z') || ch == '_' || (i && ch >= '0' && ch <= '9'))) return 0;
  }
  return 1;
}

static char *dupStr(const char *z) {
  size_t n = strlen(z);
  char *p = inv_malloc(n + 1);
  if (p) memcpy(p, z, n + 1);
  return p;
}

static int xOpen(inv_store *s, const inv_options *pOpt, char *zErr, size_t nErr) {
  PgConn *c;
  const char *zSchema = pOpt->zSchema && pOpt->zSchema[0] ? pOpt->zSchema : "inventory";
  if (!pOpt->zUrl || !pOpt->zUrl[0]) { snprintf(zErr, nErr, "no PostgreSQL URL"); return INV_ERROR; }
  if (!validSchema(zSchema)) {
    snprintf(zErr, nErr, "schema \"%.80s\": a lowercase name of letters, digits and _ "
             "(at most 63, not starting with a digit) is required", zSchema);
    return INV_ERROR;
  }
  if (pOpt->nJournalSec <= 0) {
    snprintf(zErr, nErr, "journal_seconds must be positive on PostgreSQL: the change journal "
             "is what keeps readers on other machines exact");
    return INV_ERROR;
  }
  c = inv_malloc(sizeof *c);
  if (!c) { snprintf(zErr, nErr, "out of memory"); return INV_ERROR; }
  memset(c, 0, sizeof *c);
  s->pConn = c;
  c->zConnInfo = dupStr(pOpt->zUrl);
  c->zSchema = dupStr(zSchema);
  c->nConnectTimeout = pOpt->nBusyMs >= 1000 ? pOpt->nBusyMs / 1000 : 1;
  c->nTimeoutSet = -1;
  if (!c->zConnInfo || !c->zSchema) { snprintf(zErr, nErr, "out of memory"); return INV_ERROR; }
  if (connectNow(s, zErr, nErr)) return INV_ERROR;
  if (pOpt->bReadOnly) {
    if (xSchemaVersion(s) != INV_SCHEMA_VERSION) {
      snprintf(zErr, nErr, "schema \"%s\" is not an inventory store of schema %d", zSchema,
               INV_SCHEMA_VERSION);
      return INV_ERROR;
    }
    return execSimple(s, "SET default_transaction_read_only = on") ? (snprintf(zErr, nErr, "%s",
             inv_store_errmsg(s)), INV_ERROR) : INV_OK;
  }
  return inv_pg_migrate(s, zErr, nErr);
}

/* A call starts: a transaction the last one left is rolled back (a raised
** Lua error), results it left are freed. */
static void xBeginCall(inv_store *s) {
  PgConn *c = PG_CONN(s);
  int i;
  xRollback(s);
  for (i = 0; i < c->nStmt; i++) stmtResetResult(&c->aStmt[i]);
  s->bRetry = 0;
}

/* The store's size: its schema's tables with their indexes and TOAST; where
** it is: the connection string without its password. */
static int xInfo(inv_store *s, int64_t *pnBytes, const char **pzWhere) {
  PgConn *c = PG_CONN(s);
  static const char zSql[] =
    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::int8 FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
    "AND c.relkind = 'r'";
  inv_stmt *p = xPrepare(s, zSql, 1);
  int rc;
  if (!p) return INV_ERROR;
  rc = xStep(s, p);
  if (rc < 0) return INV_ERROR;
  *pnBytes = xColumnInt(p, 0);
  xReset(s, p);
  {
    const char *z = c->zConnInfo, *zAt = strchr(z, '@'), *zColon = strstr(z, "://");
    inv_buf *b = &s->tmp;
    inv_buf_reset(b);
    if (zAt && zColon && zColon < zAt) {
      const char *zPw = memchr(zColon + 3, ':', (size_t)(zAt - zColon - 3));
      inv_buf_add(b, z, (size_t)((zPw ? zPw : zAt) - z));
      if (zPw) inv_buf_adds(b, ":***");
      inv_buf_adds(b, zAt);
    } else if (!strstr(z, "password")) {
      inv_buf_adds(b, z);
    } else {
      inv_buf_adds(b, "(a connection string with a password)");
    }
    inv_buf_printf(b, " (schema %s)", c->zSchema);
    *pzWhere = b->bOom ? "" : b->z;
  }
  return INV_OK;
}

const inv_driver inv_pg_driver = {
  2, "postgresql", &inv_pg_dialect,
  xOpen, xClose, xBeginCall, xPrepare, xBind, xStep, xReset,
  xColumnType, xColumnInt, xColumnReal, xColumnText,
  xBegin, xCommit, xRollback, xChanges, xVersion, xSchemaVersion, xEngineVersion, xExplain,
  xInfo, NULL, NULL                    /* integrity: the server's own; backup: pg_dump */
};
