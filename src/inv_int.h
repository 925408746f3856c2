/*
** inv_int.h: private header of the inventory core.
**
** Resources are data: a resource is an inv_resource holding a table of
** inv_field. The filter compiler, sort, projection, rendering, the schema DDL
** and import validation are all written once over those tables.
*/
#ifndef INV_INT_H
#define INV_INT_H

#include <stdarg.h>
#include "inventory.h"
#include "inv_backend.h"

#if !defined(INV_MAX_LIST)
# define INV_MAX_LIST 1000          /* elements of a list expanded into SQL */
#endif
#if !defined(INV_MAX_CONDS)
# define INV_MAX_CONDS 1000         /* conditions in one filter/filter_or */
#endif
#if !defined(INV_MAX_ID)
# define INV_MAX_ID 40              /* max length of ids and short strings */
#endif
#if !defined(INV_MAX_KEY)
# define INV_MAX_KEY 1024           /* bytes of a key path (filter, sort, only) */
#endif
#if !defined(INV_MAX_KEY_SEGS)
# define INV_MAX_KEY_SEGS 32        /* its dotted segments */
#endif
#if !defined(INV_MAX_DYN)
# define INV_MAX_DYN 2000           /* predicates on JSON values in one query */
#endif
#if !defined(INV_BUF_KEEP)
# define INV_BUF_KEEP (1 << 20)     /* a store's buffers keep at most this between calls */
#endif
#if !defined(INV_MAX_VALUE)
# define INV_MAX_VALUE (16 << 20)   /* bytes of one value a stat stage builds (MongoDB's
                                       16 MB document limit): push, add_to_set, objects */
#endif

#define INV_SCHEMA_VERSION 4

/* ===================== resources as data ===================== */

typedef enum inv_ftype {
  F_STR = 1,     /* TEXT */
  F_INT,         /* INTEGER NOT NULL DEFAULT 0 */
  F_TIME,        /* INTEGER ms since epoch (UTC) */
  F_OBJ,         /* TEXT holding a JSON object, free-form (dict) */
  F_ERRS         /* TEXT holding a JSON array of {error_code, message, additional} */
} inv_ftype;

/* Field flags */
#define FF_NULLABLE  0x01   /* stored as explicit null: `exists` is always true */
#define FF_NOTNULL   0x02   /* always holds a value (ids, status, counters) */
#define FF_HIDDEN    0x04   /* stored and filterable, not rendered by default */
#define FF_MINIMAL   0x08   /* part of the `minimal` rendering */
#define FF_ID        0x10   /* the resource id */
#define FF_SHORT     0x20   /* string limited to INV_MAX_ID bytes */
#define FF_WRITABLE  0x40   /* accepted by create (jobs) / tasks[] (tasks) */

struct inv_field {
  const char *zName;              /* API name, also the column name */
  unsigned char nName;            /* strlen(zName) */
  unsigned char eType;            /* inv_ftype */
  unsigned char flags;            /* FF_* */
  const char *const *azEnum;      /* allowed values (NULL-terminated) or NULL */
};

struct inv_resource {
  const char *zName;              /* "job", "job_task", "spot_job" */
  int iRes;                       /* its index in inv_resources[] */
  const char *zTable;             /* SQL table */
  const char *zIdPrefix;          /* "job-", "job-task-" */
  const inv_field *aField;        /* render order */
  int nField;
  int iId;                        /* index of the id field */
  const char *zKeyword;           /* keyword field */
  const char *zDefaultStatus;     /* status when none is given on import */
  const char *const *azListParam; /* request-level filters of list (NULL-terminated) */
  const char *const *azIndex;     /* CREATE INDEX statements */
  int bTasks;                     /* JobTask semantics (user_projects) */
  int bAnalyze;                   /* analyze is served */
  int bStatCap;                   /* stat gets the page default/cap */
  int bOwnsTasks;                 /* a Job: its tasks go with it when it is deleted */
  int bJournal;                   /* its changes go to the change journal */
};

extern const inv_resource inv_res_job;
extern const inv_resource inv_res_task;
extern const inv_resource inv_res_spot;
#define INV_N_RES 3
extern const inv_resource *const inv_resources[INV_N_RES + 1];   /* NULL-terminated */
const inv_resource *inv_resource_find(const char *zName);
int inv_field_index(const inv_resource *r, const char *zName, size_t n);
/* "SELECT t.*" reads column 0, "id" (the insertion order), then field i at
** column i + 1 (the dialect's xCreateTable keeps that order). */

/* Job/task statuses */
extern const char *const inv_job_status[];
extern const char *const inv_task_status[];
int inv_enum_has(const char *const *az, const char *z);
/* why a read-only open refuses a store of schema v, into zOut */
void inv_schema_refusal(int v, char *zOut, size_t nOut);

/* ===================== the store ===================== */

typedef struct inv_reqcache inv_reqcache;

struct inv_store {
  const inv_driver *pDrv;         /* the backend */
  const inv_dialect *pDia;        /* pDrv->pDialect */
  void *pConn;                    /* the driver's connection state */
  int nPageLimit;
  int nTimeoutMs;                 /* call budgets (inv_options) */
  int nStatTimeoutMs;
  int nJournalSec;                /* change journal retention; 0 = off */
  unsigned nJournalWrites;        /* journal statements run: trim every 1,024 */
  int64_t nsDeadline;             /* monotonic ns when this call runs out; 0 = none */
  int nBudgetMs;                  /* the budget that set it, for the message */
  int64_t nowFixed;               /* 0: wall clock */
  inv_arena arena;                /* everything a call allocates */
  inv_buf sql;                    /* SQL under construction */
  inv_buf tmp;                    /* scratch (messages, JSON text) */
  inv_buf err;                    /* message of the last error */
  inv_buf jscratch;               /* inv_sink_json_ex scratch */
  inv_buf out;                    /* the caller's output (inv_store_buffer) */
  const char *zErrCode;           /* NULL when the last call succeeded */
  int eErrClass;                  /* INV_CLIENT, INV_UNAVAILABLE, INV_SERVER */
  int bRetry;                     /* the error is a conflict: the call may run again */
  char *azById[INV_N_RES];        /* "SELECT t.* ... WHERE <id> = #1 AND domain_id = #2" */
  /* rendering (inv_render.c): the last datetime formatted and where its day
  ** starts (bTime: valid); each field's JSON key, built on first use */
  int bTime;
  int64_t nTimeMs, nTimeDay0;
  char zTime[32];
  char *zJsonKeys;
  inv_reqcache *pReqCache;        /* compiled requests (inv_reqcache.c); NULL: none yet */
  inv_rc_req *pRcKeyed;           /* inv_call_keyed: the request's tokens, or NULL */
  int bRcOnly;                    /* inv_call_keyed: from the cache alone */
};

int64_t inv_now(inv_store *s);

/* Errors: set code and message; always returns INV_ERROR. inv_err's class
** is INV_CLIENT (validation is what raises most errors); inv_err_class
** names another. */
int inv_err(inv_store *s, const char *zCode, const char *zFmt, ...);
int inv_err_class(inv_store *s, int eClass, const char *zCode, const char *zFmt, ...);
int inv_err_required(inv_store *s, const char *zKey);
int inv_err_invalid(inv_store *s, const char *zKey, const char *zReason);
int inv_err_type(inv_store *s, const char *zKey, const char *zType);
int inv_err_db(inv_store *s, const char *zFmt, ...);     /* ERROR_DB_QUERY */
int inv_err_nomem(inv_store *s);                          /* INV_SERVER */
int inv_err_budget(inv_store *s);        /* the call ran out of its time budget */
/* Message pieces (inv_msg.c): a user's value as compact JSON and a string,
** cut on a character boundary at nMax bytes with "..." (arena text); a
** NULL-terminated list as "a, b, c". The frames: a type error naming the
** value, a query the store cannot run as written (ERROR_DB_QUERY "Database
** query failed. (key = K, reason = R)"; no key: "(reason = R)"), an unknown
** parameter with the known ones, a value outside an enumeration. */
#define INV_MSG_VALUE 100
const char *inv_msg_value(inv_store *s, const inv_val *v, size_t nMax);
const char *inv_msg_text(inv_store *s, const char *z, size_t n, size_t nMax);
const char *inv_msg_list(inv_store *s, const char *const *az);
/* The list fields of r that unwind takes ("errors"). */
const char *inv_msg_list_fields(inv_store *s, const inv_resource *r);
int inv_err_type_of(inv_store *s, const char *zKey, const char *zType, const inv_val *v);
int inv_err_query(inv_store *s, const char *zKey, const char *zFmt, ...);
int inv_err_unknown_key(inv_store *s, const char *zKey, const char *const *azAllowed);
int inv_err_enum(inv_store *s, const char *zKey, const inv_val *v, const char *const *azEnum);
int inv_err_unknown_resource(inv_store *s, const char *zResource);
/* "Parameter is invalid. (key = K, reason = <zRule>, not <v>.)" */
int inv_err_range(inv_store *s, const char *zKey, const char *zRule, const inv_val *v);
/* Monotonic clock (ns) and the call's deadline (inv_call sets it). */
int64_t inv_clock_ns(void);
int inv_budget_exceeded(inv_store *s);

/* The driver, as the core calls it (thin wrappers over s->pDrv). Prepared
** statements come from the driver's cache, reset and without bindings:
** inv_prepare for built text, inv_prepare_static for text with static
** storage (a literal, a dialect's statement; found by address), inv_sql for
** one of the dialect's fixed statements. inv_step returns INV_ROW, INV_DONE,
** or -1 with the error set. */
inv_stmt *inv_prepare(inv_store *s, const char *zSql);
inv_stmt *inv_prepare_static(inv_store *s, const char *zSql);
inv_stmt *inv_sql(inv_store *s, int iSql);
int inv_bind_int(inv_store *s, inv_stmt *p, int i, int64_t v);
int inv_bind_text(inv_store *s, inv_stmt *p, int i, const char *z);   /* NULL: null */
int inv_bind_textn(inv_store *s, inv_stmt *p, int i, const char *z, size_t n);
int inv_bind_null(inv_store *s, inv_stmt *p, int i);
int inv_step(inv_store *s, inv_stmt *p);
void inv_reset(inv_store *s, inv_stmt *p);
int inv_run(inv_store *s, inv_stmt *p);                  /* step to the end, reset */
int inv_col_type(inv_store *s, inv_stmt *p, int i);      /* INV_T_* */
int64_t inv_col_int(inv_store *s, inv_stmt *p, int i);
double inv_col_real(inv_store *s, inv_stmt *p, int i);
const char *inv_col_text(inv_store *s, inv_stmt *p, int i, size_t *pn);
/* Type and value of a column in one read (the driver's xColumnGet): text
** (bText) or integer; nothing is read for INV_T_NULL. */
int inv_col_get(inv_store *s, inv_stmt *p, int i, int bText, int64_t *pI,
                const char **pz, size_t *pn);
int64_t inv_changes(inv_store *s);
int inv_begin_write(inv_store *s);
int inv_begin_read(inv_store *s);
/* One snapshot for a read of several statements (a page, then its count):
** a read transaction where the engine needs one (ended by inv_call). */
int inv_read_snapshot(inv_store *s);
int inv_commit(inv_store *s);
void inv_rollback(inv_store *s);

/* ===================== SQL building ===================== */

struct inv_bind {
  unsigned char t;                /* INV_NULL, INV_INT, INV_REAL, INV_STR */
  unsigned char bSlot;            /* the request's own string, bound verbatim (inv_q_bind_slot) */
  int64_t i;
  double r;
  const char *z;
  size_t n;
};

struct inv_q {
  inv_store *s;
  const inv_dialect *d;
  const inv_resource *r;
  inv_buf *b;                     /* SQL text */
  inv_bind *aBind;                /* arena */
  int nBind, nBindAlloc;
  int nAlias;                     /* iteration aliases used */
  int nDyn;                       /* predicates on JSON values emitted */
  int nRegex;                     /* regular expressions emitted */
  int nListVal;                   /* values of in / not_in lists compiled */
  int nPatternVal;                /* values of contain_in, not_contain_in, regex_in */
  int64_t now;
  int bSlots;                     /* the compile may declare slots (inv_reqcache.c) */
  int bNoCache;                   /* the compile read the clock: not kept */
};

/* Bind the request's own string z[0..n) verbatim, where the SQL written so
** far does not depend on its text, only on its being a string: a slot of
** the compiled-request cache when q->bSlots, else inv_q_bind_text. */
int inv_q_bind_slot(inv_q *q, const char *z, size_t n);

/* ===================== the compiled-request cache (inv_reqcache.c) ===================== */

/* (inv_rc_tok, inv_rc_req: inventory.h) The tokens of a request; 1: too
** large to keep. */
int inv_rc_walk(const inv_val *req, inv_rc_req *t);
/* The shape hash of tokens (t->hash), however they were made. */
void inv_rc_hash(inv_rc_req *t);
/* The plan of a request of the same kind (iKind: the method's resource,
** method and render flags) and tokens, with its binds placed in q (the
** slots' text from this request); NULL: none. */
void *inv_rc_find(inv_store *s, int iKind, const inv_rc_req *t, inv_q *q);
/* Keep the compile in q (its binds) with pPlan (inv_malloc'd; owned by the
** cache from here, freed when not kept). zStatic: SQL text inside pPlan
** that the plan prepares by address (inv_prepare_static), or NULL. */
int inv_rc_add(inv_store *s, int iKind, const inv_rc_req *t, const inv_q *q, void *pPlan,
               const char *zStatic);
/* Empty the cache (while the connection is open: the store closes it first). */
void inv_rc_clear(inv_store *s);

/* What one request may ask for in total (besides each list's own cap). */
#if !defined(INV_MAX_REGEX)
# define INV_MAX_REGEX 1000         /* regular expressions (regex, regex_in, ...) */
#endif
#if !defined(INV_MAX_LIST_TOTAL)
# define INV_MAX_LIST_TOTAL 100000  /* values of in / not_in lists together */
#endif
#if !defined(INV_MAX_PATTERN_TOTAL)
# define INV_MAX_PATTERN_TOTAL 10000 /* values of contain_in, not_contain_in, regex_in */
#endif
/* Count one regular expression / n list values (bPattern: a list of
** patterns, tested on every row) against the request's caps. */
int inv_q_count_regex(inv_q *q);
int inv_q_count_list(inv_q *q, size_t n, int bPattern);

void inv_q_init(inv_q *q, inv_store *s, const inv_resource *r);
int inv_q_bind_int(inv_q *q, int64_t i);
int inv_q_bind_real(inv_q *q, double r);
int inv_q_bind_text(inv_q *q, const char *z, size_t n);
int inv_q_bind_null(inv_q *q);
int inv_q_bind_val(inv_q *q, const inv_val *v);     /* scalar values */
/* Prepare q's SQL and apply its bindings. NULL on error (set). */
inv_stmt *inv_q_prepare(inv_q *q);
int inv_q_apply(inv_q *q, inv_stmt *p);
/* Cut the SQL q->b holds from n0 on: returned as an arena copy, q->b back
** at n0 (its bound parameters stay bound). NULL when out of memory. */
char *inv_q_take(inv_q *q, size_t n0);
/* A new alias ("e1", "e2", ...) for an iteration. */
const char *inv_q_alias(inv_q *q);

/* The where clause of a filter/filter_or/keyword request.
** Appends "(...)" to q->b. pQuery may be NULL. pExtra: the request-level
** conditions (array of condition objects), ANDed. */
int inv_where(inv_q *q, const inv_val *pFilter, const inv_val *pFilterOr,
              const inv_val *pKeyword, const inv_val *pExtra);

/* ===================== keys (inv_keys.c) ===================== */

/* A key resolved against a resource: its field, and every dotted segment
** (segment 0 names the field). */
typedef struct inv_key inv_key;
struct inv_key {
  int iField;                     /* -1: unknown (lenient resolution only) */
  const inv_field *pField;
  const char **azSeg;
  size_t *anSeg;
  int nSeg;
};
/* Resolve a key: unknown fields, paths below a scalar field and unknown
** members of an error are ERROR_DB_QUERY "Cannot resolve field", or, when
** bLenient, iField = -1. */
int inv_key_resolve(inv_store *s, const inv_resource *r, const char *z, size_t n,
                    int bLenient, inv_key *k);
/* Validate a key (as filters do); *piField is its field. */
int inv_key_check(inv_store *s, const inv_resource *r, const char *z, size_t n, int *piField);
int inv_err_resolve(inv_store *s, const char *z, size_t n);
/* A segment that is an array position ("errors.0"). */
int inv_key_is_index(const char *z, size_t n);
/* An ErrorInfo member (additional, or error_code / message when no segment
** follows: bMore). */
int inv_key_error_member(const char *z, size_t n, int bMore);
/* Append the SQL expression a sort key orders by. */
int inv_sort_expr(inv_q *q, const char *z, size_t n, int bDesc);

/* A value as compact JSON text in the arena (NULL when out of memory). */
const char *inv_json_text(inv_store *s, const inv_val *v);

/* ===================== requests ===================== */

/* Request-level scope and filters turned into conditions (inv_val objects
** {"k","v","o"}) in the arena; see inv_read.c. */
typedef struct inv_req inv_req;
struct inv_req {
  inv_store *s;
  const inv_resource *r;
  const inv_val *pReq;            /* the request object */
  const char *zMethod;
  const inv_val *pQuery;          /* request.query or NULL */
  inv_val conds;                  /* INV_ARR of request-level conditions */
  size_t nCondAlloc;
  const char *zDomain;
};

/* ===================== rendering ===================== */

#define R_JSON     0x01   /* omit defaults (REST) */
#define R_MINIMAL  0x02
#define R_ALL      0x04   /* every stored field, the hidden ones too (export) */
typedef struct inv_only inv_only;  /* projection from `only` */

/* Render the current row of p (columns in field order starting at iCol0)
** as an object into sink. */
int inv_render_row(inv_store *s, const inv_resource *r, inv_stmt *p,
                   int iCol0, inv_sink *sink, int flags, const inv_only *pOnly);
int inv_only_compile(inv_store *s, const inv_resource *r, const inv_val *pOnly,
                     inv_only **ppOut);

/* Emit a JSON text column, optionally projected by sub-paths. */
void inv_emit_json(inv_store *s, inv_sink *sink, const char *z, size_t n);

/* ===================== methods ===================== */

int inv_m_get(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f);
int inv_m_list(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f);
int inv_m_delete(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f);
int inv_m_stat(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f);
/* list's unwind filter (inv_stat.c): stat's restricted match over rows "p"
** holding q->r's fields, field iField's element (JSON text) in p._u;
** appended to q->b as " AND (...)" terms. */
int inv_unwind_filter(inv_q *q, int iField, const inv_val *pFilter);
int inv_m_analyze(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f);
int inv_m_create(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f);
int inv_m_start(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f);
int inv_m_add_error(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f);
int inv_m_finish(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f);
int inv_m_cancel(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f);
int inv_m_import(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f);
int inv_m_sweep(inv_store *s, const inv_val *req, inv_sink *k);
int inv_m_purge(inv_store *s, const inv_val *req, inv_sink *k);
int inv_m_metrics(inv_store *s, const inv_val *req, inv_sink *k);   /* inv_admin.c */
int inv_m_changes(inv_store *s, const inv_val *req, inv_sink *k);
int inv_m_trim_changes(inv_store *s, const inv_val *req, inv_sink *k);

/* The change journal (inv_journal.c): rows for the records a write changes,
** inside the write's transaction: upserts after the change, deletes before. */
int inv_journal_task(inv_store *s, const char *zTask, const char *zDomain, const char *zJob);
int inv_journal_job(inv_store *s, const char *zJob, const char *zDomain);
int inv_journal_task_job(inv_store *s, const char *zTask, const char *zDomain, const char *zJob);
int inv_journal_wrote(inv_store *s);
int inv_journal_job_tasks(inv_store *s, const char *zJob, const char *zDomain);
int inv_journal_job_and_tasks(inv_store *s, const char *zJob, const char *zDomain);
int inv_journal_task_deleted(inv_store *s, const char *zTask, const char *zDomain);
int inv_journal_job_deleted(inv_store *s, const char *zJob, const char *zDomain);
int inv_journal_sweep(inv_store *s, int64_t cutoff, const char *zDomain);
int inv_journal_duplicates(inv_store *s, const char *zDomain, const char *zCollector,
                           const char *zReqWs, const char *zReqSecret);
int inv_journal_reset(inv_store *s, const char *zResource);

/* Finalise a finished job exactly once (inv_life.c; in a transaction). */
int inv_job_finalize(inv_store *s, const char *zJob, const char *zDomain, int64_t now);

/* Shared request checks (inv_req.c) */
/* Check that every key of obj is in azAllowed (NULL-terminated). */
int inv_check_keys(inv_store *s, const inv_val *obj, const char *const *azAllowed,
                   const char *zPrefix);
/* Required non-empty string parameter. */
int inv_req_string(inv_store *s, const inv_val *req, const char *zKey,
                   int bRequired, const char **pz);
/* Render one record by id, after a write (inv_render.c). */
int inv_render_by_id(inv_store *s, const inv_resource *r, const char *zId, const char *zDomain,
                     inv_sink *k, int flags);

/* Read requests (inv_req.c): conditions collected into q->conds (the
** scope: domain, workspace with "*" when bStar, user projects; request-level
** filter parameters, eq or in), and the page {start, limit}. */
void inv_req_init(inv_req *q, inv_store *s, const inv_resource *r, const inv_val *req,
                  const char *zMethod);
int inv_req_cond(inv_req *q, const char *zKey, const inv_val *v, const char *zOp);
int inv_req_param(inv_req *q, const char *zKey, const char *const *azEnum);
int inv_req_scope(inv_req *q, int bStar);
int inv_page_parse(inv_store *s, const inv_val *pPage, const char *zWhere,
                   int64_t *pStart, int64_t *pLimit);
int inv_page_cap(inv_store *s, const char *zWhere, int64_t *pLimit);

/* The store's backends: src/sqlite/ (in the core), src/pg/ (libinvpg.a,
** the inventory.pg module: see inv_options.pDriver). */
extern const inv_driver inv_sqlite_driver;
extern const inv_driver inv_pg_driver;

#endif /* INV_INT_H */
