/*
** pg_int.h: private header of the PostgreSQL backend (src/pg/): its
** connection state and what its files share. Nothing outside src/pg/
** includes libpq-fe.h or spells PostgreSQL's SQL.
*/
#ifndef INV_PG_INT_H
#define INV_PG_INT_H

#include <libpq-fe.h>
#include "inv_int.h"

#if !defined(INV_PG_STMT_CACHE)
# define INV_PG_STMT_CACHE 128      /* server-side prepared statements per connection */
#endif
#define INV_PG_MAX_PARAMS 65535     /* the protocol's limit */

/* The dialect's mark on a statement after which the core runs nothing more of
** its write (the journal statements that take change_seq, pg_dialect.c): the
** driver sends COMMIT in the same exchange (a libpq pipeline), so the row
** lock on change_seq is held for the server's time only, never across a
** round trip to the client. */
#define INV_PG_THEN_COMMIT "/* then COMMIT */ "

/* A prepared statement: its server-side name, and the result of its last
** execution, stepped through row by row. */
typedef struct PgStmt PgStmt;
struct PgStmt {
  char *zSql;                       /* the key (owned) */
  const char *zStatic;              /* the caller's constant text, found by address */
  unsigned int hash;
  unsigned long lastUse;
  int nParam;
  char zName[16];                   /* "inv_s<N>" */
  int bPrepared;                    /* known to the server */
  /* bound values (text form), for the next execution */
  char **azParam;                   /* nParam entries; NULL is SQL NULL */
  int *anParamAlloc;
  /* the result of the last execution */
  PGresult *pRes;
  int iRow;                         /* the current row (after a step), -1 before */
  int nRow;
  int bDone;                        /* executed: stepping walks pRes */
  int bThenCommit;                  /* the write's last statement (its SQL begins
                                       INV_PG_THEN_COMMIT): COMMIT goes with it */
  int bBindOom;                     /* a value could not be bound (out of memory):
                                       the statement does not run (callers may
                                       not look at xBind's answer) */
};

typedef struct PgConn PgConn;
struct PgConn {
  PGconn *pg;
  char *zConnInfo;                  /* to reconnect */
  char *zSchema;
  PgStmt aStmt[INV_PG_STMT_CACHE];
  int nStmt;
  unsigned long useClock;
  unsigned nextName;
  int bInTx;                        /* a transaction is open */
  int bWriteTx;                     /* ... and it is a write (c->zXid is its id) */
  int bEndSent;                     /* a read transaction's ROLLBACK was sent, its
                                       answer not read yet (read before the next
                                       exchange: the round trip overlaps the caller) */
  char zXid[24];                    /* the write transaction's id, to learn its
                                       fate when the connection dies at COMMIT */
  int nTimeoutSet;                  /* statement_timeout the session has (ms; -1 unknown) */
  int nConnectTimeoutMs;            /* a connection attempt's limit (inv_options) */
  int nLockTimeoutMs;               /* lock_timeout of the session (busy_timeout) */
  int bReadOnly;                    /* a readonly store: read-only sessions */
  int bOpen;                        /* opened (migrated): the session gets lock_timeout */
  int bCommitted;                   /* this call's write has committed */
  int bTimedOut;                    /* the server did not answer in time: the
                                       connection was dropped */
  int64_t nsOpDeadline;             /* a network wait's limit outside a call's
                                       budget (version, info); 0 = none */
  int64_t nChanges;                 /* rows the last statement changed */
  char zVersion[32];
};

#define PG_CONN(s) ((PgConn*)(s)->pConn)

extern const inv_dialect inv_pg_dialect;

/* An error the server or libpq reported, with its class. */
int inv_pg_err(inv_store *s, const PGresult *pRes);

/* The schema: the SQL of each migration step (pg_schema.c). */
int inv_pg_migrate(inv_store *s, char *zErr, size_t nErr);
/* The schema of the dialect's functions ("inventory_fn_<hash>"): last in
** every store's search_path. */
void inv_pg_fn_schema(char *zOut, size_t nOut);

/* Regular expressions: PCRE syntax translated to PostgreSQL's (pg_regex.c),
** for a caseless match or not: 0 and the translation in pOut, or 1 and a
** message in zErr (a construct the two engines read differently is refused,
** never silently changed). */
int inv_pg_regex(const char *z, size_t n, int bCaseless, inv_buf *pOut, char *zErr, size_t nErr);
int inv_pg_regex_check(const char *z, size_t n, char *zErr, size_t nErr);

#endif /* INV_PG_INT_H */
