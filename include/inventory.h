/*
** inventory.h: the public C API of the inventory core.
**
** The core stores collection Jobs and JobTasks in SQLite and answers the
** Cloudforet inventory Job/JobTask API (get, list, stat, analyze, delete) plus
** the write side (create, start, add_error, finish, cancel, import, sweep,
** purge). It knows nothing of Lua: requests are inv_val documents and results
** are written into an inv_sink (see inv_val.h).
**
** Usage, SQLite style:
**
**   inv_store *s;
**   char zErr[256];
**   inv_options o = INV_OPTIONS_INIT; o.zPath = "inventory.db";
**   if (inv_store_open(&o, &s, zErr, sizeof zErr)) { ...zErr... }
**   inv_store_begin(s);                        -- start of every call
**   inv_val req; ...build req in inv_store_arena(s)...
**   if (inv_call(s, "job", "list", &req, sink, 0) != INV_OK) {
**     inv_store_errcode(s), inv_store_errmsg(s)
**   }
**   inv_store_close(s);
**
** A call never longjmps. If the caller's sink does (a Lua error), nothing is
** lost: all memory of a call belongs to the store, and the next
** inv_store_begin() resets statements and rolls back an open transaction.
** One store is one SQLite connection: use it from one thread at a time.
*/
#ifndef INVENTORY_H
#define INVENTORY_H

#include <stdint.h>
#include "inv_val.h"

#define INV_VERSION "0.1.0"

/* Return codes. */
#define INV_OK     0
#define INV_ERROR  1    /* see inv_store_errcode() / inv_store_errmsg() */

typedef struct inv_store inv_store;

typedef struct inv_options inv_options;
struct inv_options {
  const char *zPath;       /* file name or ":memory:" */
  int nBusyMs;             /* SQLite busy timeout; default 5000 */
  int nPageLimit;          /* default and cap of page.limit; default 1000 */
  int bReadOnly;           /* open read-only (no schema creation) */
  int nTimeoutMs;          /* wall-clock budget of a get, list, delete or write
                              call; default 500; 0 = none */
  int nStatTimeoutMs;      /* the same for stat and analyze; default 10000 */
  int nJournalSec;         /* how long the change journal keeps a change;
                              default 3600; 0 = no journal (SQLite only) */
  const char *zUrl;        /* a PostgreSQL connection string (URI or key=value):
                              the store is on that server, with pDriver */
  const char *zSchema;     /* its schema; default "inventory" */
  const struct inv_driver *pDriver;   /* the backend for zUrl (inv_pg_driver,
                              from the inventory.pg module); NULL: SQLite */
  int nConnectTimeoutMs;   /* PostgreSQL: a connection attempt's limit, also the
                              grace after a call's budget before a server that
                              does not answer is given up; default 5000 */
};
#define INV_OPTIONS_INIT { "inventory.db", 5000, 1000, 0, 500, 10000, 3600, NULL, NULL, NULL, 5000 }

int inv_store_open(const inv_options *pOpt, inv_store **ppOut,
                   char *zErr, size_t nErr);
void inv_store_close(inv_store *s);          /* NULL is a no-op */

/* Start a call: clears the previous call's arena, error and statements. */
void inv_store_begin(inv_store *s);
/* The arena of the current call (request values live here). */
inv_arena *inv_store_arena(inv_store *s);

/* A buffer owned by the store for the caller's output of one call (the JSON
** text of a response); reset by inv_store_begin(). */
inv_buf *inv_store_buffer(inv_store *s);

/* Freeze the clock (ms since epoch, UTC) for tests; 0 = wall clock. */
void inv_store_set_now(inv_store *s, int64_t ms);

/* Run one API method. zResource: "job", "job_task", "spot_job" or "store";
** zMethod: get list stat analyze delete create start add_error finish cancel
** import (resources) or sweep purge changes trim_changes metrics (store; metrics
** is inv_admin.c's cross-domain summary for exporters). bJson selects the rendering of
** the REST gateway (defaults omitted) instead of complete records. A method
** that has no result (delete) writes nothing into the sink. */
int inv_call(inv_store *s, const char *zResource, const char *zMethod,
             const inv_val *pReq, inv_sink *pSink, int bJson);

/* The tokens of a request, as the caller walked it (the Lua binding walks
** its table, keys in the order Lua gives them): objects and lists (n: their
** size), keys (t = INV_RC_KEY), leaves. The key of the compiled-request
** cache (inv_reqcache.c). */
#define INV_RC_TOKENS 128
#define INV_RC_KEY 16
typedef struct inv_rc_tok inv_rc_tok;
struct inv_rc_tok {
  unsigned char t;                /* an inv_type, or INV_RC_KEY */
  unsigned char bEmpty;           /* an empty table usable as [] or {} */
  unsigned char bSlot;            /* (the cache's own) a slot: an id-like string */
  size_t n;                       /* string and key bytes, container size */
  union { const char *z; int64_t i; double r; } u;
};
typedef struct inv_rc_req inv_rc_req;
struct inv_rc_req {
  int n;
  size_t hash;                    /* set by the core */
  inv_rc_tok a[INV_RC_TOKENS];
};
/* inv_call for a request whose tokens t the caller made from what *pReq
** is made of (equal tokens: an equal request), so that the compiled-request
** cache knows it by them. bOnly: answer from the cache alone, without
** reading pReq (which may be an empty object); INV_MISS, nothing done,
** when the cache has no entry: the caller converts the request and calls
** again with bOnly = 0. */
#define INV_MISS 2
int inv_call_keyed(inv_store *s, const char *zResource, const char *zMethod, const inv_val *pReq,
                   inv_rc_req *t, int bOnly, inv_sink *pSink, int bJson);

/* Error of the last failed call: code name (e.g. "ERROR_NOT_FOUND") and
** message (the reference's text). Valid until the next inv_store_begin(). */
const char *inv_store_errcode(inv_store *s);
const char *inv_store_errmsg(inv_store *s);

/* Whose fault the last error was:
**   INV_CLIENT       the request (a bad value, an unknown field, a limit or
**                    time budget it exceeded): answer 4xx, log at info
**   INV_UNAVAILABLE  a transient condition (the database is busy or locked,
**                    the server is down): retry later, 503
**   INV_SERVER       a fault of the store itself (out of memory, I/O, a bug):
**                    500 and the error log
** inv_store_errclass() returns "client", "unavailable" or "server" ("" when
** the last call succeeded). */
#define INV_CLIENT      1
#define INV_UNAVAILABLE 2
#define INV_SERVER      3
int inv_store_errclass_id(inv_store *s);
const char *inv_store_errclass(inv_store *s);

/* Set an error from outside the core (the binding's request conversion):
** class INV_CLIENT, or INV_SERVER for ERROR_UNKNOWN (out of memory). */
void inv_store_set_error(inv_store *s, const char *zCode, const char *zFmt, ...);

/* A version of what this store can see: *pData changes when another
** connection commits (PRAGMA data_version), *pOwn when this one writes.
** Equal versions mean equal read results: callers may cache on them. */
int inv_store_version(inv_store *s, int64_t *pData, int64_t *pOwn);

/* inv_call of a read (get, list, stat, analyze) with the store's version it
** reads: *pData, *pOwn as inv_store_version gives them, taken in the call's
** own snapshot where the backend can (SQLite). When bSeen and the version
** is (seenData, seenOwn), nothing is read: *pSame = 1 and INV_OK. */
int inv_call_versioned(inv_store *s, int bSeen, int64_t seenData, int64_t seenOwn,
                       const char *zResource, const char *zMethod, const inv_val *pReq,
                       inv_sink *pSink, int bJson, int64_t *pData, int64_t *pOwn, int *pSame);

/* The SQLite library's version; a store's backend ("sqlite",
** "postgresql"), its engine's version and its schema version. */
const char *inv_sqlite_version(void);
const char *inv_store_backend(inv_store *s);
const char *inv_store_engine_version(inv_store *s);
int inv_store_schema_version(inv_store *s);

/* The compiled-request cache (stat): requests answered from it, requests
** compiled, and compiled requests kept (at most 64). */
void inv_store_request_cache(inv_store *s, unsigned *pHits, unsigned *pMisses, int *pEntries);

/* Query plan of the SQL a read method would run (one line per plan row),
** for tests and the curious. Same request as inv_call. */
int inv_explain(inv_store *s, const char *zResource, const char *zMethod,
                const inv_val *pReq, inv_buf *pOut);

/* ===================== operating a store (inv_admin.c) ===================== */

/* The schema version this library reads and writes (PRAGMA user_version). */
int inv_schema_version(void);

/* Facts about the store into pSink: {backend, engine_version,
** schema_version, size_bytes, path}. */
int inv_store_info(inv_store *s, inv_sink *pSink);

/* Integrity check and counter audit into pSink: {problems: [text...], ok}.
** The audit: for every job that has tasks, remained_tasks equals the number
** of its tasks with remained_sub_tasks > 0; success_tasks (failure_tasks) is
** at least the number of its finished SUCCESS (FAILURE) tasks (deleting a
** finished task leaves the job's counters); and success_tasks +
** failure_tasks + remained_tasks equals total_tasks. */
int inv_store_check(inv_store *s, inv_sink *pSink);

/* A consistent copy of the store into the file zPath, taken with SQLite's
** online backup API in steps, while other connections go on writing. An
** existing file is refused unless bOverwrite; the store's own file always. */
int inv_store_backup(inv_store *s, const char *zPath, int bOverwrite);

/* Move the write-ahead log into the store now, without waiting for other
** connections (SQLite: a PASSIVE checkpoint), so that no write pays for it:
** a server calls this from a timer. pSink gets {log_frames, checkpointed}:
** the frames in the log, and how many of them are in the store now (fewer
** when a reader still needs them). An engine that checkpoints by itself
** (PostgreSQL) does nothing: {log_frames = 0, checkpointed = 0}. */
int inv_store_checkpoint(inv_store *s, inv_sink *pSink);

/* Records of zResource in insertion order, every stored field (the hidden
** ones too), so that importing them reproduces each record. pReq: {domain_id?,
** after? (a cursor from *pNext), limit? (default 1000, at most 10000),
** query? {filter, filter_or, keyword}}. With pLines NULL, pSink gets
** {records: [...], next?}; otherwise the records are appended to pLines as
** JSON lines and pSink is not used. *pNext: the cursor of the next page, 0
** when there is none. */
int inv_export(inv_store *s, const char *zResource, const inv_val *pReq, inv_sink *pSink,
               inv_buf *pLines, int64_t *pNext);

/* Import records given as JSON text (one array, or JSON lines): parsed by
** the core's parser, then inv_call(s, zResource, "import", ...). */
int inv_import_text(inv_store *s, const char *zResource, const char *z, size_t n,
                    inv_sink *pSink);

/* Wait until another connection has committed since the data version
** `since` (inv_store_version's *pData), at most nTimeoutMs, looking every
** nPollMs. *pbChanged: 1 when it has. */
int inv_store_wait_change(inv_store *s, int64_t since, int nTimeoutMs, int nPollMs,
                          int *pbChanged);

#endif /* INVENTORY_H */
