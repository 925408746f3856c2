/*
** inv_backend.h: the backend seam. The core (semantics: field tables,
** request validation, the filter/stat/analyze compilers, lifecycle rules,
** rendering, errors) speaks to a database engine only through the two
** interfaces below, each with one owner:
**
**   inv_driver   how SQL runs: open and close, prepared statements (cached),
**                binding, stepping, reading a column as one of the core's
**                values, errors and their class, transactions, the change
**                counter, the schema and its migrations.
**   inv_dialect  how SQL is spelt: placeholders, reading a field or a path
**                of a stored JSON document, iterating a JSON array, JSON type
**                tests, case-insensitive LIKE, regular expressions, the stat
**                aggregates and value conversions, date formatting, limits,
**                materialised CTEs, and the fixed statements of the write
**                side (upsert, RETURNING, conditional updates).
**
** A backend is a folder (src/sqlite/, src/pg/) defining one inv_driver whose
** pDialect points at its inv_dialect. Nothing outside the folder includes the
** engine's headers or spells its SQL; a difference between engines is one
** function of the dialect, never an "if (engine == ...)" in a compiler.
**
** Contract, for a backend author:
**   - Every user value reaches the engine as a bound parameter (inv_q_bind_*
**     appends the dialect's placeholder). Paths built from user keys are bound
**     too (xJsonPath binds the engine's path form). Only our column names,
**     aliases and the dialect's constants are spelt in SQL text.
**   - Errors are reported with inv_err_class(): INV_CLIENT for what the request
**     caused (a function error on its data, its time budget), INV_UNAVAILABLE
**     for transient conditions (busy, locked, connection lost), INV_SERVER for
**     the rest. The driver honours s->nsDeadline (inv_budget_exceeded()).
**   - Both backends answer every request the same; tests run on both.
** The structs carry a version (iVersion): later members are appended, so an
** older backend keeps compiling with zeroes there.
*/
#ifndef INV_BACKEND_H
#define INV_BACKEND_H

#include "inventory.h"

typedef struct inv_resource inv_resource;
typedef struct inv_field inv_field;
typedef struct inv_q inv_q;
typedef struct inv_bind inv_bind;

/* A prepared statement of a backend (the driver's own type behind it). */
typedef struct inv_stmt inv_stmt;

/* What xStep returns besides -1 (error set on the store). */
#define INV_ROW   100
#define INV_DONE  101

/* Column types a driver reports. INV_T_JSON: text holding a JSON document
** (a backend whose engine types JSON columns says so; SQLite says TEXT and
** the compilers know from the column's kind). */
#define INV_T_NULL 0
#define INV_T_INT  1
#define INV_T_REAL 2
#define INV_T_TEXT 3
#define INV_T_JSON 4

/* Transactions */
#define INV_TX_WRITE 1          /* a write: serialised with other writers */
#define INV_TX_READ  2          /* one snapshot for several reads */

/* ===================== statements the write side runs ===================== */
/* The dialect spells each; #N is its parameter N (spelt as its placeholders are). */
enum {
  INV_SQL_JOB_FINALIZE,        /* #1 now, #2 job_id, #3 domain_id */
  INV_SQL_JOB_TASK_DONE,       /* #1 now, #2 job_id, #3 domain_id, #4 failed (0/1): success or
                                  failure +1, remained -1 -> remained_tasks, status (the
                                  core finalises the job when none remain) */
  INV_SQL_JOB_TASK_LEFT,       /* #1 now, #2 job_id, #3 domain_id: total -1, remained -1 */
  INV_SQL_TASK_LOAD,           /* #1 job_task_id, #2 domain_id -> status, remained_sub_tasks,
                                  job_id, started (0/1) */
  INV_SQL_TASK_APPEND_ERROR,   /* #1 error JSON, #2 job_task_id, #3 domain_id */
  INV_SQL_JOB_CANCEL_DUPLICATES, /* #1 now, #2 domain, #3 collector, #4 request ws, #5 secret */
  INV_SQL_JOB_INSERT,          /* #1 id #2 status #3 total #4 req secret #5 req ws #6 rg
                                  #7 domain #8 ws #9 collector #10 plugin #11 now #12 finished */
  INV_SQL_TASK_INSERT,         /* #1 id #2 provider #3 sub_tasks #4 job #5 secret #6 collector
                                  #7 service account #8 project #9 ws #10 domain #11 now */
  INV_SQL_JOB_IS_CANCELED,     /* #1 job_id, #2 domain_id -> 0/1 */
  INV_SQL_TASK_FAIL_CANCELED,  /* #1 now, #2 job_task_id, #3 domain_id */
  INV_SQL_TASK_START,          /* #1 now, #2 job_task_id, #3 domain_id */
  INV_SQL_TASK_FINISH,         /* #1..#6 counts, #7 now, #8 failed (0/1), #9 id, #10 domain;
                                  only while remained_sub_tasks > 0
                                  -> remained_sub_tasks, status, job_id */
  INV_SQL_JOB_STATUS,          /* #1 job_id, #2 domain_id -> status */
  INV_SQL_JOB_CANCEL,          /* #1 now, #2 job_id, #3 domain_id */
  INV_SQL_SWEEP_TASKS,         /* #1 now, #2 cut-off, #3 domain or NULL, #4 error JSON */
  INV_SQL_SWEEP_JOBS,          /* #1 now, #2 cut-off, #3 domain or NULL */
  INV_SQL_PURGE_JOB_TASKS,     /* #1 cut-off, #2 domain or NULL (tasks of purged jobs) */
  INV_SQL_PURGE_TASKS,
  INV_SQL_PURGE_JOBS,
  INV_SQL_PURGE_SPOT_JOBS,
  INV_SQL_JOB_DELETE_TASKS,    /* #1 job_id, #2 domain_id */
  INV_SQL_JOURNAL_TASK,        /* #1 now, #2 op, #3 job_task_id, #4 domain, #5 job_id */
  INV_SQL_JOURNAL_JOB,         /* #1 now, #2 op, #3 job_id, #4 domain */
  INV_SQL_JOURNAL_TASK_JOB,    /* #1 now, #2 op, #3 job_task_id, #4 domain, #5 job_id */
  INV_SQL_JOURNAL_JOB_TASKS,   /* #1 now, #2 op, #3 job_id, #4 domain */
  INV_SQL_JOURNAL_TASK_DELETED, /* #1 now, #2 op, #3 job_task_id, #4 domain */
  INV_SQL_JOURNAL_JOB_DELETED_TASKS, /* #1 now, #2 op, #3 job_id, #4 domain */
  INV_SQL_JOURNAL_JOB_DELETED, /* #1 now, #2 op, #3 job_id, #4 domain */
  INV_SQL_JOURNAL_SWEEP_TASKS, /* #1 now, #2 op, #3 domain or NULL, #4 cut-off */
  INV_SQL_JOURNAL_SWEEP_JOBS,
  INV_SQL_JOURNAL_DUPLICATES,  /* #1 now, #2 op, #3 domain, #4 collector, #5 req ws, #6 secret */
  INV_SQL_JOURNAL_RESET,       /* #1 now, #2 op, #3 resource */
  INV_SQL_JOURNAL_TRIM,        /* #1 cut-off time (never the newest row) */
  INV_SQL_JOURNAL_BOUNDS,      /* -> min(seq) or NULL, max(seq) or 0 */
  INV_SQL_JOURNAL_READ,        /* #1 after, #2 limit -> seq, at, resource, op, id, domain,
                                  workspace, project, job, collector (scope filled in) */
  INV_SQL_JOB_LOCK_COLLECTOR,  /* #1 domain, #2 collector: held to the end of the write, so
                                  that one create of a collector at a time sees the jobs
                                  the others committed (an engine whose writers are
                                  serialised already spells a statement that does nothing) */
  INV_SQL_TASK_INSERT_JSON,    /* optional (NULL: one INV_SQL_TASK_INSERT a task): #1 job
                                  #2 collector #3 domain #4 now #5 a JSON array of the tasks,
                                  [{"i": id, "p": provider, "n": sub_tasks, "s": secret,
                                  "a": service account, "r": project, "w": ws}], inserted in
                                  its order by one statement; a task whose id is taken is left
                                  out (no error), and the core inserts it again with a new id */
  INV_SQL_TASK_IDS_OF_JOB,     /* with the above: #1 job_id, #2 domain -> job_task_id */
  INV_SQL_TASK_FINISH_ALL,     /* optional (NULL: INV_SQL_TASK_FINISH, then the job's counters
                                  and the journal by their own statements), used when the
                                  journal is on: INV_SQL_TASK_FINISH's parameters; in one
                                  statement the task's UPDATE, the job's counters when its
                                  last sub-task finished (INV_SQL_JOB_TASK_DONE), the journal
                                  rows (the task, and the job when its counters moved:
                                  INV_SQL_JOURNAL_TASK or _TASK_JOB, at #7) -> the task's row
                                  as the by-id SELECT t.* has it, then the job's
                                  remained_tasks and status (NULL: not moved) */
  INV_SQL_TASK_FINISH_PLAIN,   /* optional (NULL: INV_SQL_TASK_FINISH): its UPDATE without
                                  RETURNING; the core checks the rows it changed and reads the
                                  task by id (an engine whose RETURNING costs more than a
                                  second statement: SQLite builds an ephemeral table for it) */
  INV_SQL_JOB_TASK_DONE_PLAIN, /* optional (NULL: INV_SQL_JOB_TASK_DONE): its UPDATE without
                                  RETURNING; the core then runs INV_SQL_JOB_FINALIZE, which
                                  changes the job after its last task only */
  INV_SQL_JOURNAL_JOB_AND_TASKS, /* optional (NULL: INV_SQL_JOURNAL_JOB, then _JOB_TASKS): the
                                  two in one statement, the job's row first; #1 now, #2 op,
                                  #3 job_id, #4 domain (job.create's last statement) */
  INV_SQL_N
};

/* ===================== the driver ===================== */

typedef struct inv_dialect inv_dialect;
typedef struct inv_driver inv_driver;      /* struct inv_driver in inventory.h's options */
struct inv_driver {
  int iVersion;                             /* 6 */
  const char *zName;                        /* "sqlite", "postgresql" */
  const inv_dialect *pDialect;
  /* Open the connection of s (s->pConn) per the options, create or migrate
  ** the schema; close it. An open failure writes a message into zErr. */
  int  (*xOpen)(inv_store *s, const inv_options *pOpt, char *zErr, size_t nErr);
  void (*xClose)(inv_store *s);
  /* A call starts: reset what the last one left (statements, a transaction). */
  void (*xBeginCall)(inv_store *s);
  /* A prepared statement for zSql, reset and without bindings, from the
  ** cache (bStatic: zSql has static storage and is found by address). */
  inv_stmt *(*xPrepare)(inv_store *s, const char *zSql, int bStatic);
  /* Bind parameter i (1-based). Text stays valid until the statement is
  ** stepped to its end or reset. */
  int  (*xBind)(inv_store *s, inv_stmt *p, int i, const inv_bind *v);
  int  (*xStep)(inv_store *s, inv_stmt *p);          /* INV_ROW, INV_DONE, -1 */
  void (*xReset)(inv_store *s, inv_stmt *p);
  int  (*xColumnType)(inv_stmt *p, int i);           /* INV_T_* */
  int64_t (*xColumnInt)(inv_stmt *p, int i);
  double (*xColumnReal)(inv_stmt *p, int i);
  const char *(*xColumnText)(inv_stmt *p, int i, size_t *pn);   /* "" for NULL */
  int  (*xBegin)(inv_store *s, int eMode);           /* INV_TX_* */
  int  (*xCommit)(inv_store *s);                     /* rolls back when it fails */
  void (*xRollback)(inv_store *s);                   /* a no-op outside a transaction */
  int64_t (*xChanges)(inv_store *s);                 /* rows the last statement changed */
  /* Equal versions mean equal read results (callers cache on them). */
  int  (*xVersion)(inv_store *s, int64_t *pData, int64_t *pOwn);
  int  (*xSchemaVersion)(inv_store *s);
  const char *(*xEngineVersion)(inv_store *s);
  /* The engine's plan of q's statement, one line per step. */
  int  (*xExplain)(inv_store *s, inv_q *q, inv_buf *pOut);
  /* ---- iVersion 2: operating a store (inv_admin.c) ---- */
  /* The store's size in bytes and where it is (a file; a server's URL
  ** without its password). */
  int  (*xInfo)(inv_store *s, int64_t *pnBytes, const char **pzWhere);
  /* The engine's own consistency check: each problem to xProblem(pCtx, text). */
  int  (*xIntegrity)(inv_store *s, void *pCtx, void (*xProblem)(void*, const char*));
  /* A consistent copy into the file zPath while others write; an existing
  ** file only with bOverwrite. NULL: the engine's own tools do it (pg_dump). */
  int  (*xBackup)(inv_store *s, const char *zPath, int bOverwrite);
  /* ---- iVersion 3 ---- */
  /* 1: a statement stepped but not finished keeps its snapshot, which the
  ** next statement of the connection shares (SQLite): a read of several
  ** statements (a page, then its count) needs no transaction. 0: the core
  ** takes a read transaction (INV_TX_READ) for them. */
  int bStmtSnapshot;
  /* ---- iVersion 4 ---- */
  /* Column i of the current row in one read: returns its type (INV_T_*)
  ** and, unless INV_T_NULL, its value as xColumnText (bText: *pz, *pn) or
  ** xColumnInt (*pI) give it. Rendering reads every column so. NULL: the
  ** core composes it of xColumnType and xColumnText / xColumnInt. */
  int  (*xColumnGet)(inv_stmt *p, int i, int bText, int64_t *pI, const char **pz, size_t *pn);
  /* xVersion, read in the snapshot that the read call which follows shares,
  ** held until that call ends (xRollback, which every call runs last, ends
  ** it): a cache tags the answer with the version it was read at, in one
  ** snapshot. NULL: inv_call_versioned takes xVersion, then the call its
  ** own snapshot. */
  int  (*xVersionHeld)(inv_store *s, int64_t *pData, int64_t *pOwn);
  /* ---- iVersion 5 ---- */
  /* Move what a write-ahead log holds into the store, without waiting for
  ** readers or writers (SQLite: a PASSIVE checkpoint): *pnLog frames in the
  ** log, *pnDone of them in the store now. NULL: the engine does it itself. */
  int  (*xCheckpoint)(inv_store *s, int64_t *pnLog, int64_t *pnDone);
  /* ---- iVersion 6 ---- */
  /* zSql, prepared with bStatic, is about to be freed: a statement cached
  ** for it is no longer found by that address (another text may get it). */
  void (*xForget)(inv_store *s, const char *zSql);
};

/* ===================== the dialect ===================== */

/* JSON value classes a filter tests for (xJsonTypeIs). */
enum { INV_JT_STRING = 1, INV_JT_NUMBER, INV_JT_TRUE, INV_JT_FALSE, INV_JT_ARRAY,
       INV_JT_OBJECT, INV_JT_NULL, INV_JT_CONTAINER /* object or array */ };

/* Where a filter reads a value: a typed column, a path of a JSON document,
** or the current element of an iteration (inv_filter.c builds them). */
typedef struct inv_acc inv_acc;
struct inv_acc {
  int eKind;                     /* INV_ACC_COL, INV_ACC_PATH, INV_ACC_ELEM */
  const inv_field *pField;       /* COL: the column */
  const char *zBase;             /* PATH: SQL of the JSON document ("t.filter");
                                    ELEM: the iteration's alias */
  const char *const *azSeg;      /* PATH: segments below zBase (keys; bIndex: a position) */
  const size_t *anSeg;
  int nSeg;                      /* 0: zBase itself */
  int bIndex0;                   /* segment 0 is an array position (errors.N) */
  int eValKind;                  /* EXPR: the value's kind (INV_K_*: JSON text or not) */
  int bStr;                      /* declared a string (no type guard needed) */
  int bFree;                     /* free-form: a leaf array matches by element */
};
#define INV_ACC_COL  1
#define INV_ACC_PATH 2
#define INV_ACC_ELEM 3
#define INV_ACC_EXPR 4           /* zBase: an SQL expression of a plain value */

struct inv_dialect {
  int iVersion;                              /* 3 */
  const char *zTrue, *zFalse;                /* boolean constants ("1" / "true") */
  /* Placeholder of parameter i (1-based) bound as eType (INV_INT, INV_REAL,
  ** INV_STR, INV_NULL: inv_val.h): "?i", or "$i" with the cast an engine
  ** with static types needs to compare a number. */
  void (*xParam)(inv_buf *b, int i, int eType);
  /* The fixed statements (INV_SQL_*). */
  const char *const *azSql;
  /* Schema: CREATE TABLE of a resource (column "id" first, the insertion
  ** order, then the fields in order), its indexes. */
  void (*xCreateTable)(inv_buf *b, const inv_resource *r);

  /* ---- filters (inv_filter.c), over an accessor ---- */
  /* the value as the engine compares it with a bound string / number */
  int (*xValueText)(inv_q *q, const inv_acc *a);
  int (*xValueNumber)(inv_q *q, const inv_acc *a);
  /* "the value is null or missing" */
  int (*xIsNull)(inv_q *q, const inv_acc *a);
  /* "the path exists" (a null counts) */
  int (*xExists)(inv_q *q, const inv_acc *a);
  /* the value's JSON class */
  int (*xJsonTypeIs)(inv_q *q, const inv_acc *a, int eJt);
  /* the value (an object or array) equals the bound compact JSON zJson */
  int (*xJsonEquals)(inv_q *q, const inv_acc *a, const char *zJson, size_t n);
  /* an empty object or array */
  int (*xJsonEmpty)(inv_q *q, const inv_acc *a);
  /* ASCII-caseless LIKE of a text value with a bound, escaped ('\')
  ** pattern; bPre/bPost: '%' around it */
  int (*xLike)(inv_q *q, const inv_acc *a, const char *z, size_t n, int bPre, int bPost);
  /* regular expression (PCRE syntax), caseless unless bCase */
  int (*xRegex)(inv_q *q, const inv_acc *a, const char *z, size_t n, int bCase);
  /* case-sensitive: contains / starts with / ends with */
  int (*xContains)(inv_q *q, const inv_acc *a, const char *z, size_t n);
  int (*xStartsWith)(inv_q *q, const inv_acc *a, const char *z, size_t n, int bEnd);
  /* "EXISTS (SELECT 1 FROM <elements of a's array> AS zAlias WHERE " ...
  ** closed by the caller with "))"; the elements are INV_ACC_ELEM zAlias */
  int (*xEachOpen)(inv_q *q, const inv_acc *a, const char *zAlias);
  /* "the array has no element" */
  int (*xArrayEmpty)(inv_q *q, const inv_acc *a);
  /* a typed column IN a bound JSON array of its values (zJson) */
  int (*xColumnIn)(inv_q *q, const inv_field *f, const char *zJson, size_t n);
  /* sort: the ORDER BY term(s) of a column or a path, direction included
  ** (NULL first ascending, last descending; a JSON value in the order
  ** SQLite gives its JSON reader's values: null, numbers and booleans, then
  ** text and containers by their text); of an array path, its minimum
  ** (ascending) or maximum (descending) element value */
  int (*xSortPath)(inv_q *q, const inv_acc *a, int bDesc, int bArrayMinMax);
  /* check a pattern the engine will run: 0, or the engine's reason in zErr
  ** ("missing closing parenthesis at offset 1"; the core names the pattern) */
  int (*xRegexCheck)(const char *z, size_t n, char *zErr, size_t nErr);

  /* ---- iterating a JSON array expression (list unwind, stat) ---- */
  /* the FROM item "<elements of zArr> AS zAlias" (none when zArr is not an
  ** array: callers test xJsonTypeIs first where it may not be one) */
  int (*xEachFrom)(inv_q *q, const char *zArr, const char *zAlias);
  /* the current element as JSON text; its position (orders the elements) */
  int (*xEachElem)(inv_q *q, const char *zArr, const char *zAlias);
  int (*xEachKey)(inv_q *q, const char *zAlias);
  /* a one-element JSON array of the current element (list unwind) */
  int (*xEachElemArray)(inv_q *q, const char *zAlias);

  /* ---- stat (inv_stat*.c): values are plain SQL values, datetimes (ms),
  ** or JSON text ("kinds" INV_K_*); a JSON value that is missing is NULL, a
  ** JSON null is the text "null" ---- */
  const char *zCteMaterialized;              /* keyword(s) that keep a CTE from being inlined */
  /* LIMIT/OFFSET values: n < 0 means no limit */
  int (*xLimit)(inv_q *q, int64_t n);
  /* the JSON text at a's path (a->zBase is JSON text), NULL when missing */
  int (*xJsonGet)(inv_q *q, const inv_acc *a);
  /* errors.x not unwound: a JSON array of the elements' values at a's path
  ** (a->zBase is the JSON array), NULL when the array is */
  int (*xJsonPluck)(inv_q *q, const inv_acc *a);
  /* JSON text as a plain value (numbers, text, booleans as 1/0, NULL for a
  ** null; containers stay JSON text) */
  int (*xJsonToValue)(inv_q *q, const char *zExpr);
  /* a value as JSON text: SQL NULL stays NULL when bNullMissing, else
  ** "null"; datetimes formatted with zTimeFmt (strftime) */
  int (*xValueToJson)(inv_q *q, const char *zExpr, int eKind, int bNullMissing,
                      const char *zTimeFmt);
  /* the value x (of kind eKind) when it is a number, else NULL */
  int (*xNumber)(inv_q *q, const char *zExpr, int eKind);
  /* MongoDB aggregation comparison of a value with a bound one, in BSON
  ** order, no coercion; op: "eq" (null-safe), "not", "gt", "gte", "lt",
  ** "lte"; a NULL value is below every other. v is the bound value (for a
  ** datetime key, an INV_INT of ms). */
  int (*xCompare)(inv_q *q, const char *zExpr, int eKind, const char *zOp, const inv_val *v);
  /* the unwind filter's raw equality: (x = v) without coercion, NULL-safe */
  int (*xRawEquals)(inv_q *q, const char *zExpr, int eKind, const inv_val *v);
  /* date_format: MongoDB $dateToString of a datetime; bPart: one of
  ** "year", "month", "day" as an integer */
  int (*xDateFormat)(inv_q *q, const char *zExpr, const char *zFmt, size_t nFmt, int bPart);
  /* accumulators over the rows of a group (zSeq orders them) */
  int (*xAggFirstLast)(inv_q *q, int bLast, const char *zSeq, const char *zExpr);
  int (*xAggPush)(inv_q *q, const char *zSeq, const char *zJson);
  int (*xAggAddToSet)(inv_q *q, const char *zJson);
  int (*xAggMergeObjects)(inv_q *q, const char *zSeq, const char *zJson);
  int (*xAggMinMax)(inv_q *q, int bMax, const char *zExpr, int eKind);
  /* a JSON object of names (bound) and JSON values; a NULL value leaves its
  ** name out */
  int (*xObject)(inv_q *q, const inv_val *const *apName, const char *const *azJson, int n);
  /* arithmetic: an operand (a non-number is an error naming zOp), a / b */
  int (*xOperand)(inv_q *q, const char *zExpr, int eKind, const char *zOp);
  int (*xDivide)(inv_q *q, const char *zA, const char *zB);
  /* project's size, sum, array_to_object, object_to_array of "x", a column
  ** of the subquery the compiler wraps around the key (eKind: its kind) */
  int (*xProjectUnary)(inv_q *q, const char *zOp, int eKind);
  /* a plain value as JSON text (project's unary ops take JSON) */
  int (*xQuote)(inv_q *q, const char *zExpr);
  /* ORDER BY term of a value of kind eKind (JSON text sorts by its value,
  ** then its text) */
  int (*xOrderTerm)(inv_q *q, const char *zExpr, int eKind, int bDesc);
  /* ---- iVersion 2 ---- */
  /* the window order of a group stage's rows (inside "row_number() OVER
  ** (...)"), given its key expressions and their kinds: the order of
  ** SQLite's GROUP BY, which the stream after the group follows (NULL
  ** first; plain values NULL, numbers, text; JSON text by its bytes).
  ** SQLite writes nothing (its GROUP BY delivers the rows so). When the
  ** group is the pipeline's last stage, the same order over its output
  ** columns (p.c0, ...) is the statement's ORDER BY, and no window is made. */
  int (*xGroupOrder)(inv_q *q, const char *const *azExpr, const int *aeKind, int n);
  /* arithmetic over n operands (xOperand's values or bound numbers), left
  ** to right: cOp '+', '-' or '*'. Integers give integers, a real makes the
  ** result real (a double), as in SQLite. */
  int (*xArith)(inv_q *q, char cOp, const char *const *azOperand, int n);
  /* a group's sum (0 over nothing) or average (NULL over nothing) of
  ** zExpr: SQLite's sum (an integer of integers; a double as soon as a
  ** real comes, added in stream order: zSeq) and avg (a double) */
  int (*xAggSum)(inv_q *q, const char *zSeq, const char *zExpr, int bAvg);
  /* ---- iVersion 3 ---- */
  /* A group key formatted by date_format (xDateFormat's zFmt) that an
  ** engine groups faster by a number: when the format names every unit
  ** down to its finest (a day: "%Y-%m-%d"), the group is the instant cut to
  ** that unit (*pzGroup, arena text: the statement's GROUP BY term) and the
  ** key is that instant formatted (written to q->b), once a group instead
  ** of once a row. *pzGroup NULL (nothing written): xDateFormat's key. May
  ** be NULL. */
  int (*xDateGroup)(inv_q *q, const char *zExpr, const char *zFmt, size_t nFmt, const char **pzGroup);
  /* A cheap test that must hold when an element of the document column a
  ** (INV_ACC_COL) has a value whose text is z[0..n) (bytes the JSON writer
  ** keeps as they are: no control character, quote or backslash): the
  ** column's text contains z. False for a NULL column. ANDed before the
  ** exact test, so that most documents are never parsed. May be NULL. */
  int (*xDocHas)(inv_q *q, const inv_acc *a, const char *z, size_t n);
};

/* Kinds of values the stat compiler tracks. */
#define INV_K_VAL  0          /* a plain SQL value: integer, real, text, null */
#define INV_K_TIME 1          /* integer ms since epoch: rendered as ISO 8601 */
#define INV_K_JSON 2          /* JSON text: rendered as the value it encodes */
/* xGroupOrder's kinds may carry one of these bits: an INV_K_VAL of a known
** SQL type (a text or integer column, a formatted date), which orders by
** itself (NULL first) */
#define INV_K_IS_TEXT 0x100
#define INV_K_IS_INT  0x200

#endif /* INV_BACKEND_H */
