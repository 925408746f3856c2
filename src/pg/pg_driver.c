/*
** pg_driver.c: the PostgreSQL driver, over libpq. One connection per store;
** every statement a server-side prepared statement, cached per connection by
** its text; results fetched whole and stepped row by row; errors mapped from
** SQLSTATE to the core's codes and classes; the call's budget as the
** session's statement_timeout; a lost connection re-established at the next
** call (the prepared statements with it).
*/
#define _GNU_SOURCE             /* memmem */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <errno.h>
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

/* libpq's message as one line: a run of line breaks and tabs becomes one
** space, trailing ones go. */
static void oneLine(char *z) {
  char *w = z, *r;
  for (r = z; *r; r++) {
    if (*r == '\n' || *r == '\t' || *r == '\r') {
      if (w > z && w[-1] != ' ') *w++ = ' ';
    } else {
      *w++ = *r;
    }
  }
  while (w > z && w[-1] == ' ') w--;
  *w = 0;
}

/* The connection is gone (or going): every prepared statement with it. */
static void forgetStatements(PgConn *c) {
  int i;
  for (i = 0; i < c->nStmt; i++) c->aStmt[i].bPrepared = 0;
  c->nTimeoutSet = -1;
  c->bInTx = 0;
  c->bWriteTx = 0;
  c->bEndSent = 0;
}

/* Close the connection (the next exchange opens a new one). */
static void dropConnection(PgConn *c) {
  forgetStatements(c);
  if (c->pg) { PQfinish(c->pg); c->pg = NULL; }
}

/* SQLSTATEs after which the session is gone: connection exceptions, the
** server shutting down or terminating it (pg_terminate_backend: 57P01). */
static int lostState(const char *zState) {
  return zState && (startsWith(zState, "08") || !strcmp(zState, "57P01")
                    || !strcmp(zState, "57P02") || !strcmp(zState, "57P03"));
}

/* Did the exchange that gave pRes lose the connection? */
static int connectionLost(PgConn *c, const PGresult *pRes) {
  if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) return 1;
  if (!pRes) return 1;
  return lostState(PQresultErrorField(pRes, PG_DIAG_SQLSTATE));
}

/* What an unavailable error adds once this call's write has committed: the
** caller must not take the failure for a write that did not happen. */
static const char *afterCommit(PgConn *c) {
  return c->bCommitted ? "; the write was committed, reading its result failed" : "";
}

/* An error of a statement (pRes) or of the connection (pRes NULL or a
** fatal result without SQLSTATE). Whose fault it is follows from SQLSTATE:
** serialization failures and deadlocks are retried (INV_UNAVAILABLE with
** s->bRetry), a lost server is INV_UNAVAILABLE (and a write transaction it
** took with it, which committed nothing, runs again), a cancelled statement
** past the call's deadline is the request's time budget, data exceptions and
** our functions' RAISEs are the request's, the rest the store's. */
int inv_pg_err(inv_store *s, const PGresult *pRes) {
  PgConn *c = PG_CONN(s);
  const char *zState = pRes ? PQresultErrorField(pRes, PG_DIAG_SQLSTATE) : NULL;
  const char *zMsg = pRes ? PQresultErrorField(pRes, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  char zBuf[600];
  if (c->bCommitted) s->bRetry = 0;              /* never a second write */
  if (c->bTimedOut) {
    return inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                         "Database query failed. (reason = PostgreSQL is unavailable: no answer "
                         "within %d ms; the connection was closed%s)", c->nConnectTimeoutMs,
                         afterCommit(c));
  }
  if (!zMsg || !zMsg[0]) {
    snprintf(zBuf, sizeof zBuf, "%s", c->pg ? PQerrorMessage(c->pg) : "no connection");
    zMsg = zBuf;
    oneLine(zBuf);
    if (!zBuf[0]) snprintf(zBuf, sizeof zBuf, "the connection was lost");
  }
  if (!zState || !c->pg || PQstatus(c->pg) != CONNECTION_OK || lostState(zState)) {
    /* a write transaction died with the session: nothing of it was
    ** committed, so the call may run again (on a new connection) */
    if (c->bInTx && c->bWriteTx) s->bRetry = 1;
    dropConnection(c);
    return inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                         "Database query failed. (reason = PostgreSQL is unavailable: %.400s%s)", zMsg,
                         afterCommit(c));
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
    /* DETAIL "Key (domain_id, job_id)=(...) already exists.": name the last column */
    const char *zDetail = PQresultErrorField(pRes, PG_DIAG_MESSAGE_DETAIL);
    const char *zEnd = zDetail ? strstr(zDetail, ")=(") : NULL, *zCol = zEnd;
    while (zCol && zCol > zDetail && zCol[-1] != ' ' && zCol[-1] != '(') zCol--;
    return inv_err(s, "ERROR_SAVE_UNIQUE_VALUES", "Tried to save duplicate unique values. (key = %.*s)",
                   zCol ? (int)(zEnd - zCol) : 2, zCol ? zCol : "id");
  }
  if (startsWith(zState, "22") || !strcmp(zState, "P0001")) {
    /* inv_sum(bigint) is int8pl (pg_schema.c): its overflow is the sum's,
    ** said as SQLite's sum says it */
    if (!strcmp(zState, "22003") && !strcmp(zMsg, "bigint out of range")) zMsg = "integer overflow";
    return inv_err_db(s, "%.600s", zMsg);
  }
  /* transient: insufficient resources (too many connections), a lock not
  ** granted within lock_timeout (busy_timeout), the server not accepting */
  if (startsWith(zState, "53") || !strcmp(zState, "55P03") || !strcmp(zState, "57P04")) {
    return inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                         "Database query failed. (reason = %.400s)", zMsg);
  }
  return inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY",
                       "Database query failed. (reason = %.400s [%s])", zMsg, zState);
}

/* ===================== the network: every wait bounded ===================== */

/* When a wait for the server that starts now gives up (monotonic ns; 0:
** never): after the call's budget (the session's statement_timeout, which
** bounds each statement: the server cancels first when it is alive) plus
** the connect timeout. This is for a server that does not answer. */
static int64_t waitDeadline(inv_store *s) {
  PgConn *c = PG_CONN(s);
  if (c->nsOpDeadline) return c->nsOpDeadline;
  if (s->nsDeadline && s->nBudgetMs > 0) {
    return inv_clock_ns() + ((int64_t)s->nBudgetMs + c->nConnectTimeoutMs) * 1000000;
  }
  return 0;
}

/* Wait until the socket is readable (bWrite: writable) or the deadline
** passes: 1 ready, 0 timed out, -1 error. */
static int waitSocket(PGconn *pg, int bWrite, int64_t nsUntil) {
  struct pollfd fd;
  int rc;
  fd.fd = PQsocket(pg);
  fd.events = (short)(bWrite ? POLLOUT : POLLIN);
  fd.revents = 0;
  if (fd.fd < 0) return -1;
  do {
    int ms = -1;
    if (nsUntil) {
      int64_t left = nsUntil - inv_clock_ns();
      if (left <= 0) return 0;
      ms = left / 1000000 > 60000 ? 60000 : (int)(left / 1000000) + 1;
    }
    rc = poll(&fd, 1, ms);
    if (rc == 0 && nsUntil && inv_clock_ns() < nsUntil) rc = -2;   /* a 60 s slice: go on */
  } while ((rc < 0 && errno == EINTR) || rc == -2);
  return rc < 0 ? -1 : rc > 0;
}

/* The answer to what was just sent, as PQexec gives it (the first error,
** else the last result): NULL when the connection failed, or when the server
** did not answer before the deadline (then the connection is closed and
** c->bTimedOut set: a server that hangs must not hold a caller, or an nginx
** thread, for longer than its budget). */
static PGresult *awaitResultUntil(inv_store *s, int64_t nsUntil) {
  PgConn *c = PG_CONN(s);
  PGresult *pKeep = NULL, *r;
  for (;;) {
    while (!PQisBusy(c->pg)) {
      r = PQgetResult(c->pg);
      if (!r) return pKeep;
      if (pKeep && PQresultStatus(pKeep) == PGRES_FATAL_ERROR) { PQclear(r); continue; }
      PQclear(pKeep);
      pKeep = r;
      if (PQresultStatus(r) == PGRES_COPY_IN || PQresultStatus(r) == PGRES_COPY_OUT) return pKeep;
    }
    {
      int w = waitSocket(c->pg, 0, nsUntil);
      if (w == 0) {
        PQclear(pKeep);
        dropConnection(c);
        c->bTimedOut = 1;
        return NULL;
      }
      if (w < 0 || !PQconsumeInput(c->pg)) {
        /* the connection failed: what libpq has (a FATAL message) tells why */
        while ((r = PQgetResult(c->pg)) != NULL) {
          if (!pKeep || PQresultStatus(pKeep) != PGRES_FATAL_ERROR) { PQclear(pKeep); pKeep = r; }
          else PQclear(r);
          if (PQstatus(c->pg) == CONNECTION_BAD && PQisBusy(c->pg)) break;
        }
        return pKeep;
      }
    }
  }
}

static PGresult *awaitResult(inv_store *s) { return awaitResultUntil(s, waitDeadline(s)); }

/* Send SQL of ours without parameters and wait for its answer. */
static PGresult *exchangeSimple(inv_store *s, const char *zSql) {
  PgConn *c = PG_CONN(s);
  if (!c->pg) return NULL;
  if (!PQsendQuery(c->pg, zSql)) return NULL;
  return awaitResult(s);
}

/* A wait limit for what runs outside a call (version, info, the schema
** version): the statement budget and the connect timeout. */
static void opDeadlineStart(inv_store *s) {
  PgConn *c = PG_CONN(s);
  int ms = (s->nTimeoutMs > 0 ? s->nTimeoutMs : 0) + c->nConnectTimeoutMs;
  c->nsOpDeadline = inv_clock_ns() + (int64_t)ms * 1000000;
}
static void opDeadlineEnd(inv_store *s) { PG_CONN(s)->nsOpDeadline = 0; }

static int resultOk(const PGresult *r) {
  return r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
}

/* ===================== connection ===================== */

static int connectNow(inv_store *s, char *zErr, size_t nErr);

/* The answer to a read transaction's ROLLBACK that xRollback sent without
** waiting, read before anything else is sent; a failed one closes the
** connection (a session in an unknown state: a new one). */
static void settle(inv_store *s) {
  PgConn *c = PG_CONN(s);
  PGresult *r;
  if (!c->bEndSent) return;
  c->bEndSent = 0;
  if (!c->pg) return;
  r = awaitResultUntil(s, inv_clock_ns() + (int64_t)c->nConnectTimeoutMs * 1000000);
  if (!resultOk(r)) dropConnection(c);
  PQclear(r);
}

/* A usable connection: re-established when the server went away. */
static int ensureConnected(inv_store *s) {
  PgConn *c = PG_CONN(s);
  char zErr[400];
  settle(s);
  if (c->pg && PQstatus(c->pg) == CONNECTION_OK) return INV_OK;
  dropConnection(c);
  if (connectNow(s, zErr, sizeof zErr)) {
    return inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                         "Database query failed. (reason = PostgreSQL is unavailable: %s%s)", zErr,
                         afterCommit(c));
  }
  return INV_OK;
}

/* After a failed exchange outside a transaction: run it again on a new
** connection? Once per exchange, when the connection was lost (a server
** restarted since the last call, a session terminated) but not when the
** server did not answer in time (it would not answer again). Outside a
** transaction the exchange is one statement of ours that only reads (every
** write runs in a transaction), so running it again loses nothing. */
static int mayRunAgain(inv_store *s, const PGresult *r, int iTry, int bWasInTx) {
  PgConn *c = PG_CONN(s);
  if (iTry > 0 || bWasInTx || c->bTimedOut || !connectionLost(c, r)) return 0;
  dropConnection(c);
  return 1;
}

/* Run SQL of ours with no parameters and no rows to read (bTimeout: in the
** session the call's statement_timeout holds). */
static int execOurs(inv_store *s, const char *zSql, int bTimeout);

/* The session's statement_timeout follows the call's budget. */
static int setTimeout(inv_store *s) {
  PgConn *c = PG_CONN(s);
  char zSql[64];
  if (c->nTimeoutSet == s->nBudgetMs) return INV_OK;
  snprintf(zSql, sizeof zSql, "SET statement_timeout = %d", s->nBudgetMs);
  if (execOurs(s, zSql, 0)) return INV_ERROR;
  c->nTimeoutSet = s->nBudgetMs;
  return INV_OK;
}

/* A connection with the call's settings. */
static int ready(inv_store *s) {
  return ensureConnected(s) || setTimeout(s) ? INV_ERROR : INV_OK;
}

static int execOurs(inv_store *s, const char *zSql, int bTimeout) {
  PgConn *c = PG_CONN(s);
  int iTry, bWasInTx = c->bInTx, rc = INV_OK;
  for (iTry = 0; ; iTry++) {
    PGresult *r;
    if (bTimeout ? ready(s) : ensureConnected(s)) return INV_ERROR;
    r = exchangeSimple(s, zSql);
    if (resultOk(r)) { PQclear(r); break; }
    if (mayRunAgain(s, r, iTry, bWasInTx)) { PQclear(r); continue; }
    rc = inv_pg_err(s, r);
    PQclear(r);
    break;
  }
  return rc;
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
  p->bBindOom = 0;
}

static void stmtResetResult(PgStmt *p) {
  if (p->pRes) { PQclear(p->pRes); p->pRes = NULL; }
  p->iRow = -1;
  p->nRow = 0;
  p->bDone = 0;
}

static void stmtFree(inv_store *s, PgConn *c, PgStmt *p, int bDeallocate) {
  stmtResetResult(p);
  stmtClearParams(p);
  if (bDeallocate && p->bPrepared && c->pg && PQstatus(c->pg) == CONNECTION_OK) {
    char zSql[48];
    PGresult *r;
    snprintf(zSql, sizeof zSql, "DEALLOCATE %s", p->zName);
    if (PQsendQuery(c->pg, zSql)) {
      r = awaitResultUntil(s, inv_clock_ns() + (int64_t)c->nConnectTimeoutMs * 1000000);
      PQclear(r);
    }
  }
  inv_free(p->azParam);
  inv_free(p->zSql);
  memset(p, 0, sizeof *p);
}

static int ready(inv_store *s);

/* Make p known to the server (after a reconnect too). Outside a
** transaction a lost connection is replaced once (mayRunAgain). */
static int stmtPrepare(inv_store *s, PgStmt *p) {
  PgConn *c = PG_CONN(s);
  PGresult *r;
  int n, iTry, bWasInTx = c->bInTx;
  for (iTry = 0; !p->bPrepared; iTry++) {
    if (ready(s)) return INV_ERROR;
    if (p->bPrepared) break;                  /* (ready() may not reconnect) */
    snprintf(p->zName, sizeof p->zName, "inv_s%u", ++c->nextName);
    r = PQsendPrepare(c->pg, p->zName, p->zSql, 0, NULL) ? awaitResult(s) : NULL;
    if (r && PQresultStatus(r) == PGRES_COMMAND_OK) {
      PQclear(r);
      r = PQsendDescribePrepared(c->pg, p->zName) ? awaitResult(s) : NULL;
      if (r && PQresultStatus(r) == PGRES_COMMAND_OK) {
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
        break;
      }
    }
    if (mayRunAgain(s, r, iTry, bWasInTx)) { PQclear(r); continue; }
    {
      /* SQL of ours the server refuses: not the request's fault */
      int rc = inv_pg_err(s, r);
      if (s->eErrClass == INV_CLIENT) s->eErrClass = INV_SERVER;
      PQclear(r);
      return rc;
    }
  }
  return INV_OK;
}

static inv_stmt *xPrepare(inv_store *s, const char *zSql, int bStatic) {
  PgConn *c = PG_CONN(s);
  unsigned int h;
  int i, iVictim = 0;
  PgStmt *p = NULL;
  if (ready(s)) return NULL;
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
      else { p = &c->aStmt[iVictim]; stmtFree(s, c, p, 1); }
      memset(p, 0, sizeof *p);
      p->zSql = zCopy;
      p->hash = h;
      p->iRow = -1;
    }
    if (bStatic) p->zStatic = zSql;
    p->bThenCommit = strncmp(zSql, INV_PG_THEN_COMMIT, sizeof INV_PG_THEN_COMMIT - 1) == 0;
  }
  p->lastUse = ++c->useClock;
  stmtResetResult(p);
  stmtClearParams(p);
  if (stmtPrepare(s, p)) return NULL;
  return (inv_stmt*)p;
}

/* A real as the shortest text that reads back as it (the JSON writer's
** digits): the numeric it binds to equals a document's same number. */
static void realText(char *z, size_t n, double r) {
  int prec;
  for (prec = 15; prec <= 17; prec++) {
    snprintf(z, n, "%.*g", prec, r);
    if (prec == 17 || strtod(z, NULL) == r) break;
  }
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
    case INV_INT:  inv_fmt_int(zNum, b->i); zVal = zNum; break;
    case INV_REAL: realText(zNum, sizeof zNum, b->r); zVal = zNum; break;
    case INV_STR: zVal = b->z; n = b->n; break;
    default: break;
  }
  inv_free(p->azParam[i - 1]);
  p->azParam[i - 1] = NULL;
  if (!zVal) return INV_OK;
  if (b->t != INV_STR) n = strlen(zVal);
  if (b->t == INV_STR && memchr(zVal, 0, n)) {
    /* PostgreSQL's text holds no U+0000: a request's reads as U+FFFF, as a
    ** document's JSON escape of it does (inv_str). Only a comparison value
    ** can hold one: every stored text field refuses it. */
    size_t k, m = 0;
    z = inv_malloc(n * 3 + 1);
    if (!z) { p->bBindOom = 1; return inv_err_nomem(s); }
    for (k = 0; k < n; k++) {
      if (zVal[k]) z[m++] = zVal[k];
      else { z[m++] = (char)0xEF; z[m++] = (char)0xBF; z[m++] = (char)0xBF; }
    }
    z[m] = 0;
    p->azParam[i - 1] = z;
    return INV_OK;
  }
  z = inv_malloc(n + 1);
  if (!z) { p->bBindOom = 1; return inv_err_nomem(s); }
  memcpy(z, zVal, n);
  z[n] = 0;
  p->azParam[i - 1] = z;
  return INV_OK;
}

/* Run p with its bound values. Outside a transaction a lost connection is
** replaced and p runs again once (mayRunAgain); so is a prepared statement
** the server forgot (a pooler's DISCARD ALL). */
static int execute(inv_store *s, PgStmt *p) {
  PgConn *c = PG_CONN(s);
  PGresult *r;
  ExecStatusType st;
  int iTry, bWasInTx = c->bInTx;
  /* (once the call's write has committed, the read of its answer runs
  ** whatever the time: a budget error then would report a stored write as
  ** failed; the session's statement_timeout still bounds it) */
  if (!c->bCommitted && inv_budget_exceeded(s)) return inv_err_budget(s);
  if (p->bBindOom) return inv_err_nomem(s);
  settle(s);
  for (iTry = 0; ; iTry++) {
    if (iTry && stmtPrepare(s, p)) return INV_ERROR;
    r = c->pg && PQsendQueryPrepared(c->pg, p->zName, p->nParam, (const char *const *)p->azParam,
                                     NULL, NULL, 0) ? awaitResult(s) : NULL;
    st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) break;
    if (!iTry && !bWasInTx && r && c->pg && PQstatus(c->pg) == CONNECTION_OK) {
      const char *zState = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      if (zState && !strcmp(zState, "26000")) {         /* no such prepared statement */
        PQclear(r);
        p->bPrepared = 0;
        continue;
      }
    }
    if (mayRunAgain(s, r, iTry, bWasInTx)) { PQclear(r); p->bPrepared = 0; continue; }
    {
      int rc = inv_pg_err(s, r);
      PQclear(r);
      return rc;
    }
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

static int commitFate(inv_store *s, const char *zXid);

/* One result of a pipeline, waiting for it until nsUntil; NULL between the
** results of two statements, and (*pbLost set) when the connection failed
** or the server did not answer in time (then it is closed). */
static PGresult *pipelineResult(inv_store *s, int64_t nsUntil, int *pbLost) {
  PgConn *c = PG_CONN(s);
  for (;;) {
    int w;
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) { *pbLost = 1; return NULL; }
    if (!PQisBusy(c->pg)) return PQgetResult(c->pg);
    w = waitSocket(c->pg, 0, nsUntil);
    if (w == 0) { dropConnection(c); c->bTimedOut = 1; *pbLost = 1; return NULL; }
    if (w < 0 || !PQconsumeInput(c->pg)) { *pbLost = 1; return NULL; }
  }
}

/* An error the server gave on a connection still up (a SQLSTATE of its
** own, not one of a session ending): not one libpq made of a lost
** connection, after which the transaction may have committed. */
static int serverSaid(PgConn *c, const PGresult *r) {
  return r && PQresultErrorField(r, PG_DIAG_SQLSTATE) && !connectionLost(c, r);
}

/* Run p, the last statement of a write (p->bThenCommit), and COMMIT in one
** exchange: p, COMMIT, then one Sync, so that the server sends p's answer
** with COMMIT's (a Sync between them sent it first: the client woke while
** change_seq was still held, and 8 writers on 2 cores finished 10 % fewer
** tasks a second than with the commit stamp). p failed: the server skipped
** COMMIT and the transaction is left aborted, for the caller's ROLLBACK, as
** after any failed statement. The connection lost after p: the fate of the
** transaction decides (commitFate), as at a COMMIT of its own. */
static int executeThenCommit(inv_store *s, PgStmt *p) {
  PgConn *c = PG_CONN(s);
  PGresult *r, *r1 = NULL, *r2 = NULL;
  int bSync = 0, bLost = 0, rc;
  int64_t nsUntil;
  char zXid[sizeof c->zXid];
  if (!c->bCommitted && inv_budget_exceeded(s)) return inv_err_budget(s);
  if (p->bBindOom) return inv_err_nomem(s);
  settle(s);
  memcpy(zXid, c->zXid, sizeof zXid);
  nsUntil = waitDeadline(s);
  if (!c->pg || !PQenterPipelineMode(c->pg)) bLost = 1;
  else if (!PQsendQueryPrepared(c->pg, p->zName, p->nParam, (const char *const *)p->azParam, NULL, NULL, 0)
           || !PQsendQueryParams(c->pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0)
           || !PQpipelineSync(c->pg)) {
    bLost = 1;
  }
  while (!bLost && !bSync) {
    r = pipelineResult(s, nsUntil, &bLost);
    if (!r) continue;
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) { bSync = 1; PQclear(r); }
    else if (!r1) r1 = r;
    else if (!r2) r2 = r;
    else PQclear(r);
  }
  if (!bLost) PQexitPipelineMode(c->pg);
  if (r1 && !resultOk(r1) && PQresultErrorField(r1, PG_DIAG_SQLSTATE)) {
    /* the server's error in p's place: p failed (its answer would have come
    ** first, an error after it flushed behind it), COMMIT was skipped and
    ** nothing was committed. The transaction stays open (aborted) for the
    ** caller's ROLLBACK; when the session ended with it (a shutdown,
    ** pg_terminate_backend), the call runs again (inv_pg_err, still in the
    ** transaction), as after any statement of a write */
    rc = inv_pg_err(s, r1);
    PQclear(r1); PQclear(r2);
    return rc;
  }
  c->bInTx = 0;
  c->bWriteTx = 0;
  if (bLost || !r2 || !resultOk(r1) || (!resultOk(r2) && !serverSaid(c, r2))) {
    /* the connection went: an error in p's place may be only that (the
    ** server can have committed and died before its answers left), so the
    ** server says what became of the transaction (aborted: the call runs
    ** again) */
    if (r1 && !resultOk(r1)) { PQclear(r1); r1 = NULL; }
    dropConnection(c);
    PQclear(r2);
    rc = commitFate(s, zXid);
    if (rc == INV_OK && !r1) {
      rc = inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                         "Database query failed. (reason = PostgreSQL is unavailable: the connection "
                         "was lost at COMMIT; the write was committed, its answer was lost)");
    }
    if (rc != INV_OK) { PQclear(r1); return rc; }
  } else if (!resultOk(r2) || strcmp(PQcmdStatus(r2), "COMMIT") != 0) {
    /* refused at COMMIT (a deferred check, a serialization failure): the
    ** transaction is over */
    rc = resultOk(r2) ? inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY",
                                      "Database query failed. (reason = COMMIT rolled back)")
                      : inv_pg_err(s, r2);
    PQclear(r1); PQclear(r2);
    return rc;
  } else {
    PQclear(r2);
    c->bCommitted = 1;
  }
  p->pRes = r1;
  p->nRow = PQresultStatus(r1) == PGRES_TUPLES_OK ? PQntuples(r1) : 0;
  p->iRow = -1;
  p->bDone = 1;
  {
    const char *z = PQcmdTuples(r1);
    c->nChanges = z && z[0] ? atoll(z) : 0;
  }
  return INV_OK;
}

static int xStep(inv_store *s, inv_stmt *pStmt) {
  PgStmt *p = (PgStmt*)pStmt;
  PgConn *c = PG_CONN(s);
  if (!p->bDone && p->bThenCommit && c->bInTx && c->bWriteTx) {
    if (executeThenCommit(s, p)) return -1;
  }
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
      /* stat's numbers (pg_schema.c): a numeric without a fraction that
      ** fits int64 is SQLite's integer; the rest its reals */
      const char *z = PQgetvalue(p->pRes, p->iRow, i);
      char *zEnd;
      if (strpbrk(z, ".eEnNI")) return INV_T_REAL;
      errno = 0;
      (void)strtoll(z, &zEnd, 10);
      return errno == 0 && *zEnd == 0 ? INV_T_INT : INV_T_REAL;
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
/* JSON text read through inv_doc holds the escape \uffff where the document
** had \u0000 (pg_schema.c): turned back, in place (the same length). The
** writer of stored JSON never escapes U+FFFF, so no other such escape
** exists (an escaped backslash before "uffff" is no escape: left alone). */
static void unescapeNul(char *z, size_t n) {
  char *zAt = z;
  while ((zAt = memchr(zAt, '\\', n - (size_t)(zAt - z))) != NULL) {
    size_t nBack = 0;
    while (zAt + nBack < z + n && zAt[nBack] == '\\') nBack++;
    zAt += nBack;
    if ((nBack & 1) && z + n - zAt >= 5 && memcmp(zAt, "uffff", 5) == 0) memcpy(zAt, "u0000", 5);
  }
}

static const char *xColumnText(inv_stmt *pStmt, int i, size_t *pn) {
  PgStmt *p = (PgStmt*)pStmt;
  char *z;
  if (xColumnType(pStmt, i) == INV_T_NULL) { *pn = 0; return ""; }
  *pn = (size_t)PQgetlength(p->pRes, p->iRow, i);
  z = PQgetvalue(p->pRes, p->iRow, i);
  if (*pn >= 6 && memmem(z, *pn, "\\uffff", 6)) unescapeNul(z, *pn);
  return z;
}

/* xColumnType's type and xColumnText's or xColumnInt's value in one read. */
static int xColumnGet(inv_stmt *pStmt, int i, int bText, int64_t *pI, const char **pz, size_t *pn) {
  PgStmt *p = (PgStmt*)pStmt;
  int t = xColumnType(pStmt, i);
  char *z;
  if (t == INV_T_NULL) return t;
  z = PQgetvalue(p->pRes, p->iRow, i);
  if (bText) {
    *pn = (size_t)PQgetlength(p->pRes, p->iRow, i);
    if (*pn >= 6 && memmem(z, *pn, "\\uffff", 6)) unescapeNul(z, *pn);
    *pz = z;
  } else {
    *pI = PQftype(p->pRes, i) == OID_BOOL ? z[0] == 't' : strtoll(z, NULL, 10);
  }
  return t;
}

/* ===================== transactions ===================== */

static void xRollback(inv_store *s) {
  PgConn *c = PG_CONN(s);
  if (!c->bInTx) return;
  c->bInTx = 0;
  if (!c->bWriteTx && c->pg && PQstatus(c->pg) == CONNECTION_OK) {
    /* a read's snapshot ends without waiting (settle() reads the answer) */
    if (PQsendQuery(c->pg, "ROLLBACK")) c->bEndSent = 1;
    else dropConnection(c);
    return;
  }
  c->bWriteTx = 0;
  if (c->pg && PQstatus(c->pg) == CONNECTION_OK) {
    PGresult *r = PQsendQuery(c->pg, "ROLLBACK")
      ? awaitResultUntil(s, inv_clock_ns() + (int64_t)c->nConnectTimeoutMs * 1000000) : NULL;
    if (!resultOk(r)) dropConnection(c);       /* a session in an unknown state: a new one */
    PQclear(r);
  }
}

/* Writes run at READ COMMITTED: each statement of the write side is a
** conditional UPDATE or takes the rows it changes, so row locks serialise
** what must be serialised. A read of several statements takes one snapshot.
** A write learns its transaction id at BEGIN (the same round trip), to ask
** the server about its fate if the connection dies at COMMIT. A lost
** connection at BEGIN is replaced once: nothing has happened yet. */
static int xBegin(inv_store *s, int eMode) {
  PgConn *c = PG_CONN(s);
  int iTry;
  if (c->bInTx && eMode == INV_TX_READ) return INV_OK;     /* a snapshot already */
  for (iTry = 0; ; iTry++) {
    PGresult *r;
    if (ready(s)) return INV_ERROR;
    r = exchangeSimple(s, eMode == INV_TX_READ ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                              : "BEGIN; SELECT pg_current_xact_id()::text");
    if (resultOk(r)) {
      c->zXid[0] = 0;
      if (eMode != INV_TX_READ && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        snprintf(c->zXid, sizeof c->zXid, "%s", PQgetvalue(r, 0, 0));
      }
      PQclear(r);
      break;
    }
    if (mayRunAgain(s, r, iTry, 0)) { PQclear(r); continue; }
    {
      int rc = inv_pg_err(s, r);
      PQclear(r);
      if (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE) { c->bInTx = 1; xRollback(s); }
      return rc;
    }
  }
  c->bInTx = 1;
  c->bWriteTx = eMode != INV_TX_READ;
  return INV_OK;
}

static void sleepMs(int ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

/* The connection died while COMMIT was on its way: the transaction may or
** may not have committed. A new connection asks the server (pg_xact_status
** of the id BEGIN learnt): committed, the call succeeded; aborted, nothing
** was written and the call runs again (s->bRetry); while the old session is
** still ending it asks again, until the call's wait limit. When the server
** cannot be reached the outcome is unknown, and the error says so. */
static int commitFate(inv_store *s, const char *zXid) {
  PgConn *c = PG_CONN(s);
  int64_t nsUntil = inv_clock_ns()
                  + ((int64_t)(s->nBudgetMs > 0 ? s->nBudgetMs : 0) + c->nConnectTimeoutMs) * 1000000;
  while (zXid[0]) {
    PGresult *r;
    const char *azParam[1];
    c->bTimedOut = 0;
    if (ensureConnected(s)) break;
    azParam[0] = zXid;
    r = PQsendQueryParams(c->pg, "SELECT pg_xact_status($1::xid8)", 1, NULL, azParam, NULL, NULL, 0)
      ? awaitResult(s) : NULL;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
      const char *z = PQgetisnull(r, 0, 0) ? "aborted" : PQgetvalue(r, 0, 0);
      if (!strcmp(z, "committed")) {
        PQclear(r);
        s->zErrCode = NULL;
        c->bCommitted = 1;
        return INV_OK;
      }
      if (strcmp(z, "in progress") != 0) {
        PQclear(r);
        s->bRetry = 1;
        return inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                             "Database query failed. (reason = PostgreSQL is unavailable: the "
                             "connection was lost at COMMIT; the transaction was rolled back)");
      }
    }
    PQclear(r);
    if (inv_clock_ns() + 50 * 1000000 > nsUntil) break;
    sleepMs(50);
  }
  s->bRetry = 0;
  return inv_err_class(s, INV_UNAVAILABLE, "ERROR_DB_QUERY",
                       "Database query failed. (reason = PostgreSQL is unavailable: the connection "
                       "was lost at COMMIT; whether the write was committed is unknown)");
}

static int xCommit(inv_store *s) {
  PgConn *c = PG_CONN(s);
  PGresult *r;
  int bWrite = c->bWriteTx, rc;
  char zXid[sizeof c->zXid];
  if (!c->bInTx) return INV_OK;
  memcpy(zXid, c->zXid, sizeof zXid);
  r = exchangeSimple(s, "COMMIT");
  if (resultOk(r) && strcmp(PQcmdStatus(r), "COMMIT") == 0) {
    PQclear(r);
    c->bInTx = 0;
    c->bCommitted = bWrite;
    c->bWriteTx = 0;
    return INV_OK;
  }
  if (r && !connectionLost(c, r)) {
    /* refused (a deferred check, a serialization failure) or rolled back */
    rc = resultOk(r) ? inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY",
                                     "Database query failed. (reason = COMMIT rolled back)")
                     : inv_pg_err(s, r);
    PQclear(r);
    xRollback(s);
    return rc;
  }
  PQclear(r);
  dropConnection(c);
  if (!bWrite) return INV_OK;          /* a read transaction: its reads are done */
  return commitFate(s, zXid);
}

static int64_t xChanges(inv_store *s) { return PG_CONN(s)->nChanges; }

/* ===================== versions ===================== */

/* Every write bumps change_seq in its own transaction (the journal's
** commit stamp, pg_schema.c): equal values, equal reads. */
static int xVersion(inv_store *s, int64_t *pData, int64_t *pOwn) {
  static const char zSql[] = "SELECT seq FROM change_seq";
  inv_stmt *p;
  int rc;
  opDeadlineStart(s);
  p = xPrepare(s, zSql, 1);
  rc = p ? xStep(s, p) : -1;
  opDeadlineEnd(s);
  if (rc < 0) return INV_ERROR;
  *pData = rc == INV_ROW ? xColumnInt(p, 0) : 0;
  *pOwn = 0;
  xReset(s, p);
  return INV_OK;
}

static int xSchemaVersion(inv_store *s) {
  PGresult *r;
  int v = -1;
  opDeadlineStart(s);
  if (ensureConnected(s) == INV_OK) {
    r = exchangeSimple(s, "SELECT version FROM schema_version");
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) v = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  opDeadlineEnd(s);
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
    else if (b->t == INV_INT) az[i] = inv_arena_strdup(&s->arena, z, inv_fmt_int(z, b->i));
    else if (b->t == INV_REAL) { realText(z, sizeof z, b->r); az[i] = inv_arena_strdup(&s->arena, z, strlen(z)); }
    else az[i] = NULL;
  }
  r = PQsendQueryParams(c->pg, s->tmp.z, q->nBind, NULL, az, NULL, NULL, 0) ? awaitResult(s) : NULL;
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

/* A connection string as it may be shown: without its password (a URI's
** user:password@, a password= setting in either form). */
static void redactUrl(inv_buf *b, const char *z) {
  const char *zAt = strchr(z, '@'), *zColon = strstr(z, "://");
  if (zAt && zColon && zColon < zAt && !memchr(zColon + 3, '/', (size_t)(zAt - zColon - 3))) {
    const char *zPw = memchr(zColon + 3, ':', (size_t)(zAt - zColon - 3));
    inv_buf_add(b, z, (size_t)((zPw ? zPw : zAt) - z));
    if (zPw) inv_buf_adds(b, ":***");
    z = zAt;
  }
  while (*z) {
    if (strncmp(z, "password=", 9) == 0) {
      inv_buf_adds(b, "password=***");
      z += 9;
      while (*z && *z != '&' && *z != ' ') z++;
    } else {
      inv_buf_addc(b, *z++);
    }
  }
}

/* zErr becomes "cannot open <url> (schema <s>): <zErr>", as SQLite's
** "cannot open <path>: <reason>". */
static void openError(inv_store *s, char *zErr, size_t nErr) {
  PgConn *c = PG_CONN(s);
  inv_buf *b = &s->tmp;
  inv_buf_reset(b);
  inv_buf_adds(b, "cannot open ");
  redactUrl(b, c->zConnInfo);
  inv_buf_printf(b, " (schema %s): %s", c->zSchema, zErr);
  if (!b->bOom) snprintf(zErr, nErr, "%s", b->z);
}

static void ignoreNotice(void *pArg, const char *zMsg) { (void)pArg; (void)zMsg; }

/* Connect within the connect timeout (c->nConnectTimeoutMs: libpq's own
** connect_timeout counts whole seconds, and not at all for a connection made
** step by step), then set the session up: the schema, lock_timeout, and
** read-only for a readonly store. Run again after every reconnect. */
static int connectNow(inv_store *s, char *zErr, size_t nErr) {
  PgConn *c = PG_CONN(s);
  char zTimeout[16], zSql[256];
  const char *azKey[] = { "connect_timeout", "application_name", "client_encoding", "dbname", NULL };
  const char *azVal[5];
  int64_t nsUntil = inv_clock_ns() + (int64_t)c->nConnectTimeoutMs * 1000000;
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  const char *zWhy = NULL;
  snprintf(zTimeout, sizeof zTimeout, "%d", (c->nConnectTimeoutMs + 999) / 1000);
  azVal[0] = zTimeout;                 /* defaults first: the URL's own settings win */
  azVal[1] = "inventory";
  azVal[2] = "UTF8";
  azVal[3] = c->zConnInfo;
  azVal[4] = NULL;
  c->bTimedOut = 0;
  c->pg = PQconnectStartParams(azKey, azVal, 1);
  if (!c->pg) { snprintf(zErr, nErr, "out of memory"); return INV_ERROR; }
  if (PQstatus(c->pg) == CONNECTION_BAD) st = PGRES_POLLING_FAILED;
  while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
    int w = waitSocket(c->pg, st == PGRES_POLLING_WRITING, nsUntil);
    if (w == 0) { zWhy = "timeout"; break; }
    if (w < 0) { st = PGRES_POLLING_FAILED; break; }
    st = PQconnectPoll(c->pg);
  }
  if (zWhy || st != PGRES_POLLING_OK) {
    if (zWhy) snprintf(zErr, nErr, "no connection within %d ms (connect_timeout)", c->nConnectTimeoutMs);
    else snprintf(zErr, nErr, "%s", PQerrorMessage(c->pg));
    oneLine(zErr);
    PQfinish(c->pg);
    c->pg = NULL;
    return INV_ERROR;
  }
  /* the server's notices (CREATE ... IF NOT EXISTS, skipping) are not ours
  ** to print: libpq would write them to stderr (nginx's error log) */
  PQsetNoticeProcessor(c->pg, ignoreNotice, NULL);
  /* the schema (a validated identifier) is where every table lives, the
  ** function set's schema last; lock_timeout once the store is open (the
  ** first open waits for another process's migration as long as it takes).
  ** Generic plans: a prepared statement is planned once per connection.
  ** With the default (auto) mode the server kept planning the stat and
  ** analyze statements on every call (their generic plan's estimate is not
  ** cheaper): 170-400 us of 250-1,000; every statement of ours names the
  ** domain first and the plans chosen with and without values were the
  ** same (bench/FINDINGS.md, PostgreSQL) */
  {
    char zFn[40];
    inv_pg_fn_schema(zFn, sizeof zFn);
    snprintf(zSql, sizeof zSql, "SET search_path = \"%s\", \"%s\"; SET plan_cache_mode = force_generic_plan; SET lock_timeout = %d%s", c->zSchema, zFn,
             c->bOpen ? c->nLockTimeoutMs : 0, c->bReadOnly ? "; SET default_transaction_read_only = on" : "");
  }
  {
    PGresult *r = PQsendQuery(c->pg, zSql) ? awaitResultUntil(s, nsUntil) : NULL;
    int bOk = resultOk(r);
    if (!bOk) {
      const char *zMsg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
      snprintf(zErr, nErr, "%s", zMsg ? zMsg : c->bTimedOut ? "no answer (connect_timeout)"
                                 : c->pg ? PQerrorMessage(c->pg) : "the connection was lost");
      oneLine(zErr);
      PQclear(r);
      if (c->pg) { PQfinish(c->pg); c->pg = NULL; }
      return INV_ERROR;
    }
    PQclear(r);
  }
  c->nTimeoutSet = -1;
  return INV_OK;
}

static void xClose(inv_store *s) {
  PgConn *c = PG_CONN(s);
  int i;
  if (!c) return;
  xRollback(s);
  for (i = 0; i < c->nStmt; i++) stmtFree(s, c, &c->aStmt[i], 0);
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
  c->nConnectTimeoutMs = pOpt->nConnectTimeoutMs > 0 ? pOpt->nConnectTimeoutMs : 5000;
  c->nLockTimeoutMs = pOpt->nBusyMs > 0 ? pOpt->nBusyMs : 0;
  c->bReadOnly = pOpt->bReadOnly;
  c->nTimeoutSet = -1;
  if (!c->zConnInfo || !c->zSchema) { snprintf(zErr, nErr, "out of memory"); return INV_ERROR; }
  if (connectNow(s, zErr, nErr)) {
    /* said as a call says it: inventory.open tells it apart (unavailable) */
    char zWhy[400];
    snprintf(zWhy, sizeof zWhy, "%s", zErr);
    snprintf(zErr, nErr, "PostgreSQL is unavailable: %s", zWhy);
    openError(s, zErr, nErr);
    return INV_ERROR;
  }
  if (pOpt->bReadOnly) {
    int v = xSchemaVersion(s);
    if (v != INV_SCHEMA_VERSION) {
      inv_schema_refusal(v, zErr, nErr);
      openError(s, zErr, nErr);
      return INV_ERROR;
    }
  } else if (inv_pg_migrate(s, zErr, nErr)) {
    openError(s, zErr, nErr);
    return INV_ERROR;
  }
  c->bOpen = 1;
  if (c->nLockTimeoutMs) {
    char zSql[64];
    snprintf(zSql, sizeof zSql, "SET lock_timeout = %d", c->nLockTimeoutMs);
    if (execOurs(s, zSql, 0)) {
      snprintf(zErr, nErr, "%s", inv_store_errmsg(s));
      openError(s, zErr, nErr);
      return INV_ERROR;
    }
  }
  return INV_OK;
}

/* A call starts: a transaction the last one left is rolled back (a raised
** Lua error), results it left are freed. */
static void xBeginCall(inv_store *s) {
  PgConn *c = PG_CONN(s);
  int i;
  xRollback(s);
  for (i = 0; i < c->nStmt; i++) stmtResetResult(&c->aStmt[i]);
  s->bRetry = 0;
  c->bTimedOut = 0;
  c->bCommitted = 0;
}

/* The store's size: its schema's tables with their indexes and TOAST; where
** it is: the connection string without its password. */
static int xInfo(inv_store *s, int64_t *pnBytes, const char **pzWhere) {
  PgConn *c = PG_CONN(s);
  static const char zSql[] =
    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::int8 FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
    "AND c.relkind = 'r'";
  inv_stmt *p;
  int rc;
  opDeadlineStart(s);
  p = xPrepare(s, zSql, 1);
  rc = p ? xStep(s, p) : -1;
  opDeadlineEnd(s);
  if (rc < 0) return INV_ERROR;
  *pnBytes = xColumnInt(p, 0);
  xReset(s, p);
  inv_buf_reset(&s->tmp);
  redactUrl(&s->tmp, c->zConnInfo);
  inv_buf_printf(&s->tmp, " (schema %s)", c->zSchema);
  *pzWhere = s->tmp.bOom ? "" : s->tmp.z;
  return INV_OK;
}

static void xForget(inv_store *s, const char *zSql) {
  PgConn *c = PG_CONN(s);
  int i;
  if (!c) return;
  for (i = 0; i < c->nStmt; i++) if (c->aStmt[i].zStatic == zSql) c->aStmt[i].zStatic = NULL;
}

const inv_driver inv_pg_driver = {
  6, "postgresql", &inv_pg_dialect,
  xOpen, xClose, xBeginCall, xPrepare, xBind, xStep, xReset,
  xColumnType, xColumnInt, xColumnReal, xColumnText,
  xBegin, xCommit, xRollback, xChanges, xVersion, xSchemaVersion, xEngineVersion, xExplain,
  xInfo, NULL, NULL,                   /* integrity: the server's own; backup: pg_dump */
  0,                                   /* results are fetched whole: a page and its count
                                          share a snapshot in a read transaction */
  xColumnGet,
  NULL,                                /* the version and the call: two statements, as a
                                          read transaction is the call's own */
  NULL,                                /* checkpoint: the server's own */
  xForget
};
