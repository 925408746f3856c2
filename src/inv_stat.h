/*
** inv_stat.h: private header of stat and analyze (inv_stage.c compiles the
** stages, inv_pipeline.c runs a pipeline and serves stat, inv_analyze.c
** turns an AnalyzeQuery into a pipeline).
**
** A StatisticsQuery (distinct, or an aggregate pipeline of unwind, group,
** count, sort, project, limit, skip) is compiled to one SQL statement: a
** chain of CTEs s0, s1, ... that the engine runs in one pass.
**
** Every CTE carries its columns and a "_seq" column holding the stream order
** (insertion order at first, then what sort stages say). Order-sensitive
** accumulators (first, last, push) are aggregates that take _seq with the
** value and order by it themselves, so they do not depend on how the engine
** feeds GROUP BY.
**
** Missing and null: a value SQL has as NULL is either "missing" (a path that
** names nothing, a column not stored) or a JSON null (a nullable column, a
** JSON null in a document). The reference keeps them apart: a missing group
** key or projected key is left out of the row, push skips missing values.
** SExpr/SCol.bNullMissing says which one a NULL is; JSON paths are kept as
** JSON text ("null" for a null) so that SQL NULL is always "missing".
**
** Output names never reach SQL: a stage's columns are c0, c1, ... and the
** names live in C (SCol). Group keys, field names, paths and values are all
** bound or mapped. An error raised while building a stage is ERROR_DB_QUERY
** "Database query failed. (key = <where>, reason = <what is wrong>)", where
** <where> is the key the user wrote: query.aggregate.group.fields in stat,
** query.unwind.filter in list, and analyze's own keys (query.fields,
** query.group_by, query.select, query.field_group, query.sort, query.unwind)
** for the stages analyze builds; reasons name fields by their names, never by
** the shape analyze rewrote them into.
*/
#ifndef INV_STAT_H
#define INV_STAT_H

#include "inv_int.h"

/* kinds of values a column holds (inv_backend.h) */
#define K_VAL  INV_K_VAL
#define K_TIME INV_K_TIME
#define K_JSON INV_K_JSON

typedef struct SCol SCol;
struct SCol {
  const char *zName;       /* output name */
  size_t nName;
  int eKind;
  int bKey;                /* a group key (kept by project unless exclude_keys) */
  int bNullMissing;        /* SQL NULL here means "missing": the key is left out */
};

#define MAX_COLS 64

typedef struct SC SC;
struct SC {
  inv_store *s;
  const inv_resource *r;
  inv_q *q;
  inv_buf *b;
  int iCte;                /* current CTE is s<iCte> */
  int bRaw;                /* rows are documents (id, fields..., _u) */
  int bScalar;             /* rows are single values (distinct) */
  int iUnwound;            /* raw: field index unwound into _u, or -1 */
  SCol aCol[MAX_COLS];     /* named stage columns */
  int nCol;
  /* where messages point (inv_stat_err) */
  const char *zKeyBase;    /* NULL: "query.aggregate" (stat); "query" (list's unwind) */
  const char *zStage;      /* the stage being compiled: "group", "unwind", ... */
  int nGroup;              /* group stages compiled so far */
  int bAnalyze;            /* analyze's pipeline: name analyze's keys */
  int bOrderFree;          /* set by inv_stat_stages for the stage it compiles: no
                              later stage reads the order (only projects follow) */
  int bNoSeq;              /* the rows' order is the last group's natural GROUP BY
                              order, not _seq: the statement has no ORDER BY */
  int bLastStage;          /* set by inv_stat_stages: the stage it compiles is the last */
  const char *zFinalOrder; /* the statement's ORDER BY terms (over the last CTE's
                              columns) instead of _seq; NULL: by _seq */
  /* a group stage without a window (bNoSeq), its CTE at c->b[nFoldAt,
  ** nFoldEnd), its SELECT from nFoldBody: an unpaged statement whose last
  ** CTE it is runs that SELECT itself (no coroutine, no LIMIT) */
  int iFoldCte;            /* the CTE it made, or 0 */
  size_t nFoldAt, nFoldBody, nFoldEnd;
};

/* An expression over the current CTE row ("p"). */
typedef struct SExpr SExpr;
struct SExpr {
  int eKind;
  int bMissing;            /* the key names nothing: always null */
  int bNullMissing;        /* SQL NULL means a missing value (not a null one) */
  int eSqlType;            /* K_VAL of a known SQL type: INV_K_IS_TEXT (a text
                              column), INV_K_IS_INT (an integer one), or 0 */
};

/* inv_stage.c */
/* A stage error: ERROR_DB_QUERY naming the key zPart of the current stage
** ("fields", "keys.date_format", "" for the stage itself) as the user wrote
** it, and the reason. */
int inv_stat_err(SC *c, const char *zPart, const char *zFmt, ...);
const inv_val *inv_stat_get(const inv_val *o, const char *zLong, const char *zShort);
int inv_stat_is_str(const inv_val *v);
void inv_stat_add_cols(SC *c, const char *zAlias);
/* The SQL expression "p.<column>" (zFmt with %s or %d) as arena text. */
const char *inv_stat_row_expr(SC *c, const char *zFmt, const char *z, int i);
/* The JSON text at dotted path z[0..n) of the JSON text zBase. */
int inv_stat_json_at(SC *c, const char *zBase, const char *z, size_t n, int bIndex0);
/* Compile the stages of an aggregate pipeline after s0. */
int inv_stat_stages(SC *c, const inv_val *agg);

/* inv_pipeline.c */
/* Scope, page and filter of a stat/analyze request: SC ready after s0. */
int inv_stat_begin(inv_store *s, const inv_resource *r, const inv_val *req, const char *zMethod,
                   SC *c, inv_q *q, const inv_val **ppQuery, int64_t *pStart, int64_t *pLimit,
                   int bCap);
/* Run the compiled pipeline: the page (bMore: analyze's "more") and count. */
int inv_stat_run(SC *c, int64_t start, int64_t limit, inv_sink *k, int f, int bMore);

/* the group operators: is z one, and their list for messages */
int inv_stat_group_op(const char *z);
extern const char inv_stat_group_ops[];

#endif /* INV_STAT_H */
