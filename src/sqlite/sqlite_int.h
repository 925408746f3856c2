/*
** sqlite_int.h: private header of the SQLite backend (src/sqlite/): its
** connection state, and what its files share. Nothing outside src/sqlite/
** includes this file or sqlite3.h.
*/
#ifndef INV_SQLITE_INT_H
#define INV_SQLITE_INT_H

#include <sqlite3.h>
#include "inv_int.h"

#if !defined(INV_STMT_CACHE)
# define INV_STMT_CACHE 64          /* prepared statements kept per store */
#endif
#if !defined(INV_STMT_KEEP)
# define INV_STMT_KEEP (64 << 10)   /* SQL text a cached statement may have (a long in list) */
#endif

/* Pages in the write-ahead log that make the write that appends them
** checkpoint it (SQLite's default: 1,000). A checkpoint writes each page
** once however often the log holds it, then syncs: a larger log is fewer
** and cheaper checkpoints, and a server checkpoints it from a timer
** (inv_store_checkpoint), off the path of its requests. */
#if !defined(INV_WAL_AUTOCHECKPOINT)
# define INV_WAL_AUTOCHECKPOINT 10000
#endif
#define INV_STR_(x) #x
#define INV_STR(x) INV_STR_(x)

typedef struct SqliteCached SqliteCached;
struct SqliteCached {
  char *zSql;                     /* owned copy of the text (the key) */
  const char *zStatic;            /* the caller's constant text, when looked up by address */
  sqlite3_stmt *pStmt;
  unsigned int hash;
  unsigned long lastUse;
  int bOnce;                      /* text over INV_STMT_KEEP: dropped at the next call */
};

typedef struct inv_regex_ctx inv_regex_ctx;

typedef struct SqliteConn SqliteConn;
struct SqliteConn {
  sqlite3 *db;
  SqliteCached aCache[INV_STMT_CACHE];
  int nCache;
  unsigned long useClock;
  sqlite3_stmt *apActive[8];      /* statements stepped during this call */
  int nActive;
  sqlite3_stmt *pHeld;            /* xVersionHeld's statement, stepped: the call's snapshot */
  inv_regex_ctx *pRegex;          /* compiled patterns, matching time of a call */
};

#define SQLITE_CONN(s) ((SqliteConn*)(s)->pConn)
#define SQLITE_DB(s)   (SQLITE_CONN(s)->db)

extern const inv_dialect inv_sqlite_dialect;

/* An error SQLite reported, with its class (sqlite_driver.c). */
int inv_sqlite_err(inv_store *s);

/* stat/analyze SQL functions (sqlite_func.c) */
int inv_sqlite_func_register(sqlite3 *db);

/* regex SQL function (sqlite_regex.c). Compiled patterns are cached per
** connection by their text (a call that names a pattern in 1,000 places
** compiles it once and finds it in O(1) on every row); the call's matching
** time is shared by every pattern and statement of a call. */
inv_regex_ctx *inv_regex_new(void);
void inv_regex_free(inv_regex_ctx *x);
void inv_regex_begin(inv_regex_ctx *x);                  /* a new call */
int inv_regex_register(sqlite3 *db, inv_regex_ctx *x);

/* operating a store (sqlite_admin.c): the driver's xInfo, xIntegrity, xBackup */
int inv_sqlite_info(inv_store *s, int64_t *pnBytes, const char **pzWhere);
int inv_sqlite_integrity(inv_store *s, void *pCtx, void (*xProblem)(void*, const char*));
int inv_sqlite_backup(inv_store *s, const char *zPath, int bOverwrite);

#endif /* INV_SQLITE_INT_H */
