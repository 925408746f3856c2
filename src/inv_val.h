/*
** inv_val.h: the core's building blocks that know nothing of SQLite or Lua.
**
**   inv_arena   bump allocator owning everything one request allocates
**   inv_buf     growable byte buffer with a sticky out-of-memory flag
**   inv_val     a JSON document (request bodies, stored nested fields)
**   inv_sink    an event stream that results are written into
**                (the Lua binding pushes tables; the JSON writer writes text)
**   JSON        parse text into inv_val, write inv_val/events as text
**   time        ISO 8601 parse/format and the timediff grammar
**
** Everything here is re-entrant: no mutable globals (except the test-only
** allocation-failure hook in inv_mem.c).
*/
#ifndef INV_VAL_H
#define INV_VAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ===================== memory ===================== */

void *inv_malloc(size_t n);            /* NULL on failure (or injected failure) */
void *inv_realloc(void *p, size_t n);
void inv_free(void *p);

/* Test hook: the n-th allocation from now fails (n >= 1); 0 disables. */
void inv_mem_fail_after(long n);

typedef struct inv_chunk inv_chunk;
typedef struct inv_arena inv_arena;
struct inv_arena {
  inv_chunk *pHead;        /* newest chunk first */
  size_t nUsed;            /* bytes used in pHead */
  size_t nTotal;           /* bytes handed out, for limits */
};
void inv_arena_init(inv_arena *a);
void *inv_arena_alloc(inv_arena *a, size_t n);   /* 8-aligned; NULL on OOM */
char *inv_arena_strdup(inv_arena *a, const char *z, size_t n); /* NUL-terminated copy */
void inv_arena_reset(inv_arena *a);
void inv_arena_free(inv_arena *a);               /* frees all chunks; reusable after */

/* ===================== buffer ===================== */

typedef struct inv_buf inv_buf;
struct inv_buf {
  char *z;                 /* data, always NUL-terminated when z != NULL */
  size_t n;                /* bytes used */
  size_t nAlloc;           /* bytes allocated */
  int bOom;                /* sticky: an append failed */
};
void inv_buf_init(inv_buf *b);
void inv_buf_free(inv_buf *b);
void inv_buf_reset(inv_buf *b);                  /* n = 0, keeps memory */
int  inv_buf_reserve(inv_buf *b, size_t n);      /* room for n more bytes; 0 ok */
void inv_buf_add_slow(inv_buf *b, const char *z, size_t n);
void inv_buf_adds(inv_buf *b, const char *z);    /* NUL-terminated */
/* Appends: inline when there is room (the hot path of the JSON writer). */
static inline void inv_buf_add(inv_buf *b, const char *z, size_t n) {
  if (b->n + n < b->nAlloc && !b->bOom && (z < b->z || z >= b->z + b->nAlloc)) {
    memcpy(b->z + b->n, z, n);
    b->n += n;
    b->z[b->n] = 0;
  } else {
    inv_buf_add_slow(b, z, n);
  }
}
static inline void inv_buf_addc(inv_buf *b, char c) {
  if (b->n + 1 < b->nAlloc && !b->bOom) {
    b->z[b->n++] = c;
    b->z[b->n] = 0;
  } else {
    inv_buf_add_slow(b, &c, 1);
  }
}
void inv_buf_addi(inv_buf *b, int64_t i);        /* decimal */
size_t inv_fmt_int(char *z, int64_t i);         /* decimal and a NUL in z (>= 21 bytes): its length */
void inv_buf_printf(inv_buf *b, const char *zFmt, ...);

/* ===================== values ===================== */

typedef enum inv_type {
  INV_NULL = 0, INV_BOOL, INV_INT, INV_REAL, INV_STR, INV_ARR, INV_OBJ
} inv_type;

typedef struct inv_val inv_val;
typedef struct inv_kv inv_kv;
struct inv_val {
  unsigned char t;         /* inv_type */
  unsigned char bEmpty;    /* an empty Lua table: usable as [] or {} */
  union {
    int b;                                   /* INV_BOOL */
    int64_t i;                               /* INV_INT */
    double r;                                /* INV_REAL (finite) */
    struct { const char *z; size_t n; } s;   /* INV_STR: valid UTF-8, NUL-terminated */
    struct { inv_val *a; size_t n; } arr;    /* INV_ARR */
    struct { inv_kv *a; size_t n; } obj;     /* INV_OBJ, keys unique, in input order */
  } u;
};
struct inv_kv {
  const char *zKey;        /* NUL-terminated, valid UTF-8 */
  size_t nKey;
  inv_val v;
};

/* Object lookup by key; NULL when absent. */
const inv_val *inv_val_get(const inv_val *obj, const char *zKey);
/* Is v an array (or an empty table)? an object (or an empty table)? */
int inv_val_is_arr(const inv_val *v);
int inv_val_is_obj(const inv_val *v);
/* Number (INT or REAL) as double / as exact integer (REAL must be integral). */
int inv_val_number(const inv_val *v, double *pOut);
int inv_val_integer(const inv_val *v, int64_t *pOut);
/* 1 if z[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int inv_utf8_valid(const char *z, size_t n);
/* Length of the valid multi-byte sequence at s (s[0] >= 0x80, n >= 1 bytes
** available), or 0 if it is invalid. */
size_t inv_utf8_seq(const unsigned char *s, size_t n);
/* FNV-1a of z[0..n): keys of a JSON object, of a stat set or object. */
size_t inv_hash(const char *z, size_t n);
/* Replace each byte that starts no valid UTF-8 sequence with '?' (messages
** cut at a byte count, or quoting what the caller sent, stay UTF-8). */
void inv_utf8_clean(char *z, size_t n);

/* ===================== sink ===================== */

typedef struct inv_sink inv_sink;
struct inv_sink {
  void (*xBeginObj)(inv_sink*, int nHint);
  void (*xEndObj)(inv_sink*);
  void (*xBeginArr)(inv_sink*, int nHint);
  void (*xEndArr)(inv_sink*);
  void (*xKey)(inv_sink*, const char *z, size_t n);
  void (*xNull)(inv_sink*);
  void (*xBool)(inv_sink*, int b);
  void (*xInt)(inv_sink*, int64_t i);
  void (*xReal)(inv_sink*, double r);
  void (*xStr)(inv_sink*, const char *z, size_t n);
  /* Optional: a complete JSON value as text (already valid JSON). When NULL,
  ** inv_sink_json() parses the text and replays it as events. */
  void (*xJson)(inv_sink*, const char *z, size_t n);
  /* Optional: a key of the schema (a field name), with a small stable id
  ** (1..255): the sink may cache it by id. When NULL, xKey is used. */
  void (*xKeyId)(inv_sink*, int id, const char *z, size_t n);
};

/* Emit a whole value / a JSON text into a sink. inv_sink_json returns 0, or
** -1 when the text is not valid JSON (nothing sensible was emitted then). */
void inv_sink_val(inv_sink *s, const inv_val *v);
int inv_sink_json(inv_sink *s, const char *z, size_t n);
/* The same with a caller-owned scratch buffer (not freed): use it when the
** sink may longjmp, so that no memory is lost. */
int inv_sink_json_ex(inv_sink *s, const char *z, size_t n, inv_buf *pScratch);
/* One pass for text this library wrote (a stored document): the events go
** to the sink as the text is read, without a validation pass first. 0; or,
** when the text turns out not to be JSON, -1 (nothing was emitted) or -2
** (what could be read was emitted as one balanced value): the caller fails
** its call. */
int inv_sink_json_replay(inv_sink *s, const char *z, size_t n, inv_buf *pScratch);
/* Is the text one JSON value (as a sink's replay reads it)? 0 or -1; emits
** nothing (a JSON sink checks a stored document so before splicing it). */
int inv_json_check(const char *z, size_t n, inv_buf *pScratch);

/* ===================== JSON ===================== */

#define INV_JSON_MAX_DEPTH 64      /* requests and stored documents */
/* Values the stat stages build nest deeper: a stored document (64) plus at
** most two levels per stage (64 stages). Our readers of such text (the
** sinks' replay, inv_json_parse_built) accept this much. */
#define INV_JSON_BUILT_DEPTH 256

/* Parse JSON text into a value allocated from the arena. Returns 0 on
** success; on failure -1 and a message in zErr (e.g. "invalid JSON at
** offset 12", "nesting deeper than 64 levels", "invalid UTF-8",
** "duplicate key \"a\"", "number out of range"). Integers that fit int64
** become INV_INT; other numbers INV_REAL (NaN/Inf impossible in JSON). */
int inv_json_parse(inv_arena *a, const char *z, size_t n, inv_val *pOut,
                   char *zErr, size_t nErr);
/* The same for text a stat stage built (INV_JSON_BUILT_DEPTH levels). */
int inv_json_parse_built(inv_arena *a, const char *z, size_t n, inv_val *pOut,
                         char *zErr, size_t nErr);

/* Append v as compact JSON: no spaces, "/" not escaped, control characters
** as \u00XX, integers as integers, reals with %.17g (integral reals keep a
** ".0"). An empty table (bEmpty) is written as "{}". */
void inv_json_write(inv_buf *b, const inv_val *v);
/* Append a JSON string literal (with quotes). */
void inv_json_write_str(inv_buf *b, const char *z, size_t n);
/* Append a real as JSON (17 significant digits, integral values as "N.0"). */
void inv_json_write_real(inv_buf *b, double r);

/* A sink that writes compact JSON into a buffer (commas handled). */
typedef struct inv_json_sink inv_json_sink;
struct inv_json_sink {
  inv_sink base;
  inv_buf *pBuf;
  int bComma;              /* a value was written at this level: next needs ',' */
};
void inv_json_sink_init(inv_json_sink *s, inv_buf *pBuf);
/* s as a JSON sink (a renderer may write into its buffer), or NULL. */
inv_json_sink *inv_json_sink_of(inv_sink *s);

/* ===================== time ===================== */

/* Datetimes are int64 milliseconds since 1970-01-01T00:00:00Z (UTC).
** Supported range: years 0001..9999. */

/* Strict ISO 8601 (python-dateutil isoparse): YYYY, YYYY-MM, YYYY-MM-DD,
** YYYYMMDD, week dates YYYY-Www[-D], ordinal YYYY-DDD; then optionally one
** separator character (any single char, usually 'T' or ' ') and a time:
** hh, hh:mm, hhmm, hh:mm:ss, hhmmss, with a fraction (. or ,) of any length
** (digits past milliseconds truncated); 24:00:00 means next midnight;
** offsets Z z +hh +hhmm +hh:mm -hh:mm. Returns 0 and the instant in *pMs,
** or -1. */
int inv_time_parse_strict(const char *z, size_t n, int64_t *pMs);

/* Lenient: everything strict accepts plus YYYY/MM/DD, YYYY.MM.DD,
** single-digit month/day (2024-1-5), and surrounding whitespace. */
int inv_time_parse_lenient(const char *z, size_t n, int64_t *pMs);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 chars + NUL). */
void inv_time_format(int64_t ms, char zOut[32]);
/* "YYYY-MM-DDTHH:MM:SSZ" (20 chars + NUL), as the reference's push renders. */
void inv_time_format_sec(int64_t ms, char zOut[32]);
/* strftime-like for stat date_format, in UTC, following MongoDB's
** $dateToString: %Y %m %d %H %M %S %L %j %w(1=Sun) %u(1=Mon) %U %V %G %z
** %Z %% . Appends to b. A format inv_time_format_check() refuses is
** formatted anyway, its unknown specifiers copied as they are. */
void inv_time_strftime(inv_buf *b, const char *zFmt, int64_t ms);
/* 0 when every '%' of zFmt[0..n) starts a specifier inv_time_strftime()
** knows; else 1 and the reason in zErr ("%q is not a format specifier; use
** %Y, ...", "it ends with a lone %; ..."). */
int inv_time_format_check(const char *zFmt, size_t n, char *zErr, size_t nErr);
/* Calendar parts in UTC. */
void inv_time_parts(int64_t ms, int *pYear, int *pMonth, int *pDay);

/* timediff grammar (reference 7.5). Returns 0 and the instant, or -1. */
int inv_timediff_eval(const char *z, size_t n, int64_t nowMs, int64_t *pMs);

/* Wall clock in ms. */
int64_t inv_time_now(void);

#endif /* INV_VAL_H */
