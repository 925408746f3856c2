/*
** inv_json.c: JSON: the strict parser (text -> arena inv_val), the
** streaming replayer (text -> sink events), and the writers (inv_val / sink
** events -> compact text). The two parsers share one lexer.
**
** Numbers are converted with strtod()/snprintf(), which follow the C
** locale's decimal point: the host program must keep LC_NUMERIC at "C"
** (the default). The writer additionally maps a ',' decimal point to '.'.
*/
#include "inv_val.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===================== UTF-8 ===================== */

/* Encode code point cp (<= 0x10FFFF, not a surrogate) at z; returns the
** number of bytes written (1..4). */
static size_t utf8Put(char *z, unsigned long cp) {
  unsigned char *s = (unsigned char *)z;
  if (cp < 0x80) { s[0] = (unsigned char)cp; return 1; }
  if (cp < 0x800) {
    s[0] = (unsigned char)(0xC0 | (cp >> 6));
    s[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    s[0] = (unsigned char)(0xE0 | (cp >> 12));
    s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    s[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  s[0] = (unsigned char)(0xF0 | (cp >> 18));
  s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  s[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

/* ===================== lexical pieces shared by both parsers ===================== */

static int isWs(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int isDigit(unsigned char c) {
  return c >= '0' && c <= '9';
}

static size_t skipWs(const unsigned char *z, size_t n, size_t i) {
  while (i < n && isWs(z[i])) i++;
  return i;
}

/* Does z[i..n) start with the literal zLit? */
static int matchLit(const unsigned char *z, size_t n, size_t i,
                     const char *zLit, size_t nLit) {
  return n - i >= nLit && memcmp(z + i, zLit, nLit) == 0;
}

/*
** String body scan. i is just after the opening quote. On success returns
** 0, *pEnd = index of the closing quote, *pEsc = 1 if a backslash occurs.
** On failure (unescaped control character, unterminated string) returns -1
** and *pEnd = offset of the offending byte. Escapes and UTF-8 are checked
** by strDecode()/inv_utf8_valid().
*/
static int strScan(const unsigned char *z, size_t n, size_t i,
                    size_t *pEnd, int *pEsc) {
  int bEsc = 0;
  while (i < n) {
    unsigned char c = z[i];
    if (c == '"') { *pEnd = i; *pEsc = bEsc; return 0; }
    if (c < 0x20) { *pEnd = i; return -1; }
    if (c == '\\') {
      bEsc = 1;
      if (++i >= n) break;
      /* The escaped byte is checked by strDecode(); a control character
      ** there would be an invalid escape anyway. */
    }
    i++;
  }
  *pEnd = n;
  return -1;
}

/* Four hex digits at z[i..i+4) (all before b): 0 and *pCp, or -1. */
static int hex4(const unsigned char *z, size_t i, size_t b, unsigned long *pCp) {
  unsigned long v = 0;
  size_t k;
  if (i > b || b - i < 4) return -1;
  for (k = 0; k < 4; k++) {
    unsigned char c = z[i + k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned long)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned long)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned long)(c - 'A' + 10);
    else return -1;
  }
  *pCp = v;
  return 0;
}

#define DEC_OK    0
#define DEC_SYNTAX 1   /* bad escape or lone surrogate at *pOff */
#define DEC_UTF8  2    /* invalid raw UTF-8 */

/*
** Decode the string body z[a..b) (as delimited by strScan) into dst,
** which has room for b-a+1 bytes (decoding never grows the text). Checks
** escapes, surrogate pairing and raw UTF-8. NUL-terminates dst and sets
** *pLen. Returns DEC_OK, DEC_SYNTAX (with *pOff) or DEC_UTF8.
*/
static int strDecode(const unsigned char *z, size_t a, size_t b, char *dst,
                      size_t *pLen, size_t *pOff) {
  size_t i = a, o = 0;
  while (i < b) {
    unsigned char c = z[i];
    if (c == '\\') {
      unsigned long cp, lo;
      /* strScan guarantees a byte after the backslash before b. */
      switch (z[i + 1]) {
        case '"':  dst[o++] = '"';  i += 2; break;
        case '\\': dst[o++] = '\\'; i += 2; break;
        case '/':  dst[o++] = '/';  i += 2; break;
        case 'b':  dst[o++] = '\b'; i += 2; break;
        case 'f':  dst[o++] = '\f'; i += 2; break;
        case 'n':  dst[o++] = '\n'; i += 2; break;
        case 'r':  dst[o++] = '\r'; i += 2; break;
        case 't':  dst[o++] = '\t'; i += 2; break;
        case 'u':
          if (hex4(z, i + 2, b, &cp)) { *pOff = i; return DEC_SYNTAX; }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (b - i >= 12 && z[i + 6] == '\\' && z[i + 7] == 'u'
                && hex4(z, i + 8, b, &lo) == 0
                && lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              i += 12;
            } else {
              *pOff = i;                        /* lone high surrogate */
              return DEC_SYNTAX;
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            *pOff = i;                          /* lone low surrogate */
            return DEC_SYNTAX;
          } else {
            i += 6;
          }
          o += utf8Put(dst + o, cp);
          break;
        default:
          *pOff = i;
          return DEC_SYNTAX;
      }
    } else if (c < 0x80) {
      dst[o++] = (char)c;
      i++;
    } else {
      size_t k = inv_utf8_seq(z + i, b - i);
      if (k == 0) return DEC_UTF8;
      memcpy(dst + o, z + i, k);
      o += k;
      i += k;
    }
  }
  dst[o] = 0;
  *pLen = o;
  return DEC_OK;
}

/*
** Number scan (RFC 8259 grammar). z[i] is '-' or a digit. On success 0,
** *pEnd = end of the number, *pInt = 1 when there is no fraction or
** exponent. On failure -1 and *pEnd = offset of the offending byte.
*/
static int numScan(const unsigned char *z, size_t n, size_t i,
                    size_t *pEnd, int *pInt) {
  int bInt = 1;
  if (i < n && z[i] == '-') i++;
  if (i >= n || !isDigit(z[i])) { *pEnd = i; return -1; }
  if (z[i] == '0') {
    i++;
    if (i < n && isDigit(z[i])) { *pEnd = i; return -1; }   /* leading 0 */
  } else {
    while (i < n && isDigit(z[i])) i++;
  }
  if (i < n && z[i] == '.') {
    bInt = 0;
    i++;
    if (i >= n || !isDigit(z[i])) { *pEnd = i; return -1; }
    while (i < n && isDigit(z[i])) i++;
  }
  if (i < n && (z[i] == 'e' || z[i] == 'E')) {
    bInt = 0;
    i++;
    if (i < n && (z[i] == '+' || z[i] == '-')) i++;
    if (i >= n || !isDigit(z[i])) { *pEnd = i; return -1; }
    while (i < n && isDigit(z[i])) i++;
  }
  *pEnd = i;
  *pInt = bInt;
  return 0;
}

/* Digits z[a..b) (optional '-') as int64: 1 if it fits, else 0. */
static int numInt(const unsigned char *z, size_t a, size_t b, int64_t *pOut) {
  int bNeg = 0;
  uint64_t u = 0, lim;
  if (z[a] == '-') { bNeg = 1; a++; }
  lim = bNeg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; a < b; a++) {
    unsigned d = (unsigned)(z[a] - '0');
    if (u > (lim - d) / 10) return 0;
    u = u * 10 + d;
  }
  if (!bNeg) *pOut = (int64_t)u;
  else if (u == (uint64_t)INT64_MAX + 1) *pOut = INT64_MIN;
  else *pOut = -(int64_t)u;
  return 1;
}

#define NUM_OK     0
#define NUM_RANGE  1   /* infinite as a double */
#define NUM_SYNTAX 2   /* strtod disagreed (non-"C" LC_NUMERIC) */
#define NUM_OOM    3

/*
** Convert the scanned number z[a..b) into v (INV_INT or INV_REAL). zTmp,
** when not NULL, is scratch space of at least b-a+1 bytes for the
** NUL-terminated copy strtod() needs; otherwise a small stack buffer or a
** temporary heap block is used.
*/
static int numConvert(const unsigned char *z, size_t a, size_t b, int bInt,
                       char *zTmp, inv_val *v) {
  char aBuf[64];
  char *zNum = zTmp, *zEnd;
  size_t len = b - a;
  double r;
  int ok;
  if (bInt && numInt(z, a, b, &v->u.i)) {
    v->t = INV_INT;
    return NUM_OK;
  }
  if (zNum == NULL) {
    if (len < sizeof(aBuf)) {
      zNum = aBuf;
    } else {
      zNum = (char *)inv_malloc(len + 1);
      if (zNum == NULL) return NUM_OOM;
    }
  }
  memcpy(zNum, z + a, len);
  zNum[len] = 0;
  r = strtod(zNum, &zEnd);
  ok = (zEnd == zNum + len);
  if (zNum != aBuf && zNum != zTmp) inv_free(zNum);
  if (!ok) return NUM_SYNTAX;
  if (isinf(r) || isnan(r)) return NUM_RANGE;
  v->t = INV_REAL;
  v->u.r = r;
  return NUM_OK;
}

/* ===================== tree parser ===================== */

typedef struct JParse JParse;
struct JParse {
  const unsigned char *z;  /* input */
  size_t n;                /* input length */
  size_t i;                /* current offset */
  inv_arena *pArena;       /* owns the result */
  int nDepth;              /* open arrays + objects */
  int nMaxDepth;
  int bErr;                /* an error was recorded */
  char *zErr;              /* error message out */
  size_t nErr;
  inv_val *aVal;           /* element stack shared by all open arrays */
  size_t nVal, nValAlloc;
  inv_kv *aKv;             /* member stack shared by all open objects */
  size_t nKv, nKvAlloc;
};

/* Cut a possibly truncated message at a UTF-8 character boundary. */
static void errFixUtf8(char *z) {
  size_t n = strlen(z), k = n;
  while (k > 0 && ((unsigned char)z[k - 1] & 0xC0) == 0x80) k--;
  if (k > 0 && (unsigned char)z[k - 1] >= 0x80) {
    size_t lead = k - 1;
    if (inv_utf8_seq((const unsigned char *)z + lead, n - lead) != n - lead) {
      z[lead] = 0;
    }
  }
}

#if defined(__GNUC__)
static int jpErrf(JParse *p, const char *zFmt, ...)
  __attribute__((format(printf, 2, 3)));
#endif
static int jpErrf(JParse *p, const char *zFmt, ...) {
  if (!p->bErr) {
    p->bErr = 1;
    if (p->zErr && p->nErr) {
      va_list ap;
      va_start(ap, zFmt);
      vsnprintf(p->zErr, p->nErr, zFmt, ap);
      va_end(ap);
      errFixUtf8(p->zErr);
    }
  }
  return -1;
}

static int jpSyntax(JParse *p, size_t off) {
  return jpErrf(p, "invalid JSON at offset %llu", (unsigned long long)off);
}

static int jpOom(JParse *p) {
  return jpErrf(p, "out of memory");
}

static int jpPushVal(JParse *p, const inv_val *v) {
  if (p->nVal == p->nValAlloc) {
    size_t nNew = p->nValAlloc ? p->nValAlloc * 2 : 16;
    inv_val *aNew;
    if (nNew > (size_t)-1 / sizeof(inv_val)) return jpOom(p);
    aNew = (inv_val *)inv_realloc(p->aVal, nNew * sizeof(inv_val));
    if (aNew == NULL) return jpOom(p);
    p->aVal = aNew;
    p->nValAlloc = nNew;
  }
  p->aVal[p->nVal++] = *v;
  return 0;
}

static int jpPushKv(JParse *p, const inv_kv *kv) {
  if (p->nKv == p->nKvAlloc) {
    size_t nNew = p->nKvAlloc ? p->nKvAlloc * 2 : 16;
    inv_kv *aNew;
    if (nNew > (size_t)-1 / sizeof(inv_kv)) return jpOom(p);
    aNew = (inv_kv *)inv_realloc(p->aKv, nNew * sizeof(inv_kv));
    if (aNew == NULL) return jpOom(p);
    p->aKv = aNew;
    p->nKvAlloc = nNew;
  }
  p->aKv[p->nKv++] = *kv;
  return 0;
}

/* Reject duplicate keys among a[0..n): small objects pairwise, larger ones
** with a temporary open-addressing hash table. */
static int jpCheckDups(JParse *p, const inv_kv *a, size_t n) {
  size_t j, k;
  if (n < 2) return 0;
  if (n <= 16) {
    for (j = 1; j < n; j++) {
      for (k = 0; k < j; k++) {
        if (a[j].nKey == a[k].nKey
            && memcmp(a[j].zKey, a[k].zKey, a[j].nKey) == 0) {
          return jpErrf(p, "duplicate key \"%s\"", a[j].zKey);
        }
      }
    }
    return 0;
  } else {
    size_t nSlot = 32, mask, *aSlot;
    while (nSlot < 2 * n) nSlot *= 2;
    if (nSlot > (size_t)-1 / sizeof(size_t)) return jpOom(p);
    aSlot = (size_t *)inv_malloc(nSlot * sizeof(size_t));
    if (aSlot == NULL) return jpOom(p);
    memset(aSlot, 0, nSlot * sizeof(size_t));   /* 0 = empty, else index+1 */
    mask = nSlot - 1;
    for (j = 0; j < n; j++) {
      size_t h = inv_hash(a[j].zKey, a[j].nKey) & mask;
      while (aSlot[h]) {
        const inv_kv *o = &a[aSlot[h] - 1];
        if (o->nKey == a[j].nKey && memcmp(o->zKey, a[j].zKey, o->nKey) == 0) {
          inv_free(aSlot);
          return jpErrf(p, "duplicate key \"%s\"", a[j].zKey);
        }
        h = (h + 1) & mask;
      }
      aSlot[h] = j + 1;
    }
    inv_free(aSlot);
    return 0;
  }
}

static int jpValue(JParse *p, inv_val *v);

/* p->i is at the opening quote. */
static int jpString(JParse *p, const char **pz, size_t *pn) {
  size_t a = p->i + 1, end, len, off = 0;
  int bEsc = 0, rc;
  char *dst;
  if (strScan(p->z, p->n, a, &end, &bEsc)) return jpSyntax(p, end);
  dst = (char *)inv_arena_alloc(p->pArena, end - a + 1);
  if (dst == NULL) return jpOom(p);
  if (!bEsc) {
    if (!inv_utf8_valid((const char *)p->z + a, end - a)) {
      return jpErrf(p, "invalid UTF-8 in string");
    }
    len = end - a;
    memcpy(dst, p->z + a, len);
    dst[len] = 0;
  } else {
    rc = strDecode(p->z, a, end, dst, &len, &off);
    if (rc == DEC_SYNTAX) return jpSyntax(p, off);
    if (rc == DEC_UTF8) return jpErrf(p, "invalid UTF-8 in string");
  }
  *pz = dst;
  *pn = len;
  p->i = end + 1;
  return 0;
}

static int jpOpen(JParse *p) {
  if (++p->nDepth > p->nMaxDepth) {
    return jpErrf(p, "nesting deeper than %d levels", p->nMaxDepth);
  }
  p->i++;
  return 0;
}

/* p->i is at '['. */
static int jpArray(JParse *p, inv_val *v) {
  size_t mark = p->nVal, cnt;
  if (jpOpen(p)) return -1;
  p->i = skipWs(p->z, p->n, p->i);
  if (p->i < p->n && p->z[p->i] == ']') {
    p->i++;
  } else {
    for (;;) {
      inv_val el;
      if (jpValue(p, &el) || jpPushVal(p, &el)) return -1;
      p->i = skipWs(p->z, p->n, p->i);
      if (p->i < p->n && p->z[p->i] == ',') { p->i++; continue; }
      if (p->i < p->n && p->z[p->i] == ']') { p->i++; break; }
      return jpSyntax(p, p->i);
    }
  }
  cnt = p->nVal - mark;
  v->t = INV_ARR;
  v->u.arr.a = NULL;
  v->u.arr.n = cnt;
  if (cnt) {
    v->u.arr.a = (inv_val *)inv_arena_alloc(p->pArena, cnt * sizeof(inv_val));
    if (v->u.arr.a == NULL) return jpOom(p);
    memcpy(v->u.arr.a, p->aVal + mark, cnt * sizeof(inv_val));
  }
  p->nVal = mark;
  p->nDepth--;
  return 0;
}

/* p->i is at '{'. */
static int jpObject(JParse *p, inv_val *v) {
  size_t mark = p->nKv, cnt;
  if (jpOpen(p)) return -1;
  p->i = skipWs(p->z, p->n, p->i);
  if (p->i < p->n && p->z[p->i] == '}') {
    p->i++;
  } else {
    for (;;) {
      inv_kv kv;
      if (p->i >= p->n || p->z[p->i] != '"') return jpSyntax(p, p->i);
      if (jpString(p, &kv.zKey, &kv.nKey)) return -1;
      p->i = skipWs(p->z, p->n, p->i);
      if (p->i >= p->n || p->z[p->i] != ':') return jpSyntax(p, p->i);
      p->i++;
      if (jpValue(p, &kv.v) || jpPushKv(p, &kv)) return -1;
      p->i = skipWs(p->z, p->n, p->i);
      if (p->i < p->n && p->z[p->i] == ',') {
        p->i = skipWs(p->z, p->n, p->i + 1);
        continue;
      }
      if (p->i < p->n && p->z[p->i] == '}') { p->i++; break; }
      return jpSyntax(p, p->i);
    }
  }
  cnt = p->nKv - mark;
  if (cnt > 1 && jpCheckDups(p, p->aKv + mark, cnt)) return -1;
  v->t = INV_OBJ;
  v->u.obj.a = NULL;
  v->u.obj.n = cnt;
  if (cnt) {
    v->u.obj.a = (inv_kv *)inv_arena_alloc(p->pArena, cnt * sizeof(inv_kv));
    if (v->u.obj.a == NULL) return jpOom(p);
    memcpy(v->u.obj.a, p->aKv + mark, cnt * sizeof(inv_kv));
  }
  p->nKv = mark;
  p->nDepth--;
  return 0;
}

static int jpNumber(JParse *p, inv_val *v) {
  size_t end;
  int bInt = 0;
  if (numScan(p->z, p->n, p->i, &end, &bInt)) return jpSyntax(p, end);
  switch (numConvert(p->z, p->i, end, bInt, NULL, v)) {
    case NUM_OK: break;
    case NUM_RANGE: return jpErrf(p, "number out of range");
    case NUM_OOM: return jpOom(p);
    default: return jpSyntax(p, p->i);
  }
  p->i = end;
  return 0;
}

/* Parse one value at p->i (leading whitespace allowed) into *v. */
static int jpValue(JParse *p, inv_val *v) {
  size_t i;
  memset(v, 0, sizeof(*v));
  i = p->i = skipWs(p->z, p->n, p->i);
  if (i >= p->n) return jpSyntax(p, i);
  switch (p->z[i]) {
    case '[': return jpArray(p, v);
    case '{': return jpObject(p, v);
    case '"':
      v->t = INV_STR;
      return jpString(p, &v->u.s.z, &v->u.s.n);
    case 't':
      if (!matchLit(p->z, p->n, i, "true", 4)) return jpSyntax(p, i);
      v->t = INV_BOOL; v->u.b = 1; p->i += 4;
      return 0;
    case 'f':
      if (!matchLit(p->z, p->n, i, "false", 5)) return jpSyntax(p, i);
      v->t = INV_BOOL; v->u.b = 0; p->i += 5;
      return 0;
    case 'n':
      if (!matchLit(p->z, p->n, i, "null", 4)) return jpSyntax(p, i);
      v->t = INV_NULL; p->i += 4;
      return 0;
    default:
      if (p->z[i] == '-' || isDigit(p->z[i])) return jpNumber(p, v);
      return jpSyntax(p, i);
  }
}

static int jsonParse(inv_arena *a, const char *z, size_t n, int nMaxDepth, inv_val *pOut,
                     char *zErr, size_t nErr) {
  JParse p;
  inv_val v;
  int rc;
  memset(&p, 0, sizeof(p));
  p.nMaxDepth = nMaxDepth;
  p.z = (const unsigned char *)(z ? z : "");
  p.n = z ? n : 0;
  p.pArena = a;
  p.zErr = zErr;
  p.nErr = nErr;
  if (zErr && nErr) zErr[0] = 0;
  rc = jpValue(&p, &v);
  if (rc == 0) {
    p.i = skipWs(p.z, p.n, p.i);
    if (p.i < p.n) rc = jpSyntax(&p, p.i);          /* trailing garbage */
  }
  inv_free(p.aVal);
  inv_free(p.aKv);
  if (rc == 0) {
    *pOut = v;
  } else {
    memset(pOut, 0, sizeof(*pOut));
    pOut->t = INV_NULL;
  }
  return rc;
}

int inv_json_parse(inv_arena *a, const char *z, size_t n, inv_val *pOut, char *zErr, size_t nErr) {
  return jsonParse(a, z, n, INV_JSON_MAX_DEPTH, pOut, zErr, nErr);
}

int inv_json_parse_built(inv_arena *a, const char *z, size_t n, inv_val *pOut, char *zErr, size_t nErr) {
  return jsonParse(a, z, n, INV_JSON_BUILT_DEPTH, pOut, zErr, nErr);
}

/* ===================== writers ===================== */

/* Does the 8-byte word hold a byte that needs escaping (< 0x20, '"', '\\')?
** The classic has-zero-byte trick, applied three times. */
static int wordNeedsEscape(uint64_t x) {
  const uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
  uint64_t q = x ^ (k01 * '"'), s = x ^ (k01 * '\\');
  uint64_t lt = (x - k01 * 0x20) & ~x;               /* bytes < 0x20 (and >= 0x80 masked) */
  uint64_t zq = (q - k01) & ~q, zs = (s - k01) & ~s;
  return ((lt | zq | zs) & k80) != 0;
}

void inv_json_write_str(inv_buf *b, const char *z, size_t n) {
  static const char aHex[] = "0123456789abcdef";
  size_t i = 0, start = 0;
  inv_buf_addc(b, '"');
  for (;;) {
    unsigned char c;
    char esc[6];
    size_t nEsc = 2;
    /* skip plain text a word at a time, then a byte at a time */
    while (i + 8 <= n) {
      uint64_t x;
      memcpy(&x, z + i, 8);
      if (wordNeedsEscape(x)) break;
      i += 8;
    }
    while (i < n) {
      c = (unsigned char)z[i];
      if (c < 0x20 || c == '"' || c == '\\') break;
      i++;
    }
    if (i >= n) break;
    c = (unsigned char)z[i];
    if (i > start) inv_buf_add(b, z + start, i - start);
    start = ++i;
    esc[0] = '\\';
    switch (c) {
      case '"':  esc[1] = '"';  break;
      case '\\': esc[1] = '\\'; break;
      case '\b': esc[1] = 'b';  break;
      case '\f': esc[1] = 'f';  break;
      case '\n': esc[1] = 'n';  break;
      case '\r': esc[1] = 'r';  break;
      case '\t': esc[1] = 't';  break;
      default:
        esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
        esc[4] = aHex[c >> 4]; esc[5] = aHex[c & 15];
        nEsc = 6;
        break;
    }
    inv_buf_add(b, esc, nEsc);
  }
  if (n > start) inv_buf_add(b, z + start, n - start);
  inv_buf_addc(b, '"');
}

/* Shortest of %.15g/%.16g/%.17g that reads back as the same double;
** integral-looking results get ".0". Non-finite values (impossible in a
** valid inv_val) are written as null to keep the output valid JSON. */
void inv_json_write_real(inv_buf *b, double r) {
  char z[48];
  int prec;
  size_t k;
  if (isnan(r) || isinf(r)) {
    inv_buf_adds(b, "null");
    return;
  }
  for (prec = 15; prec <= 17; prec++) {
    snprintf(z, sizeof(z), "%.*g", prec, r);
    if (prec == 17 || strtod(z, NULL) == r) break;
  }
  for (k = 0; z[k]; k++) {
    if (z[k] == ',') z[k] = '.';          /* a non-"C" decimal point */
  }
  if (strpbrk(z, ".eni") == NULL) {
    inv_buf_adds(b, z);
    inv_buf_add(b, ".0", 2);
  } else {
    inv_buf_adds(b, z);
  }
}

void inv_json_write(inv_buf *b, const inv_val *v) {
  inv_json_sink s;
  inv_json_sink_init(&s, b);
  inv_sink_val(&s.base, v);
}

/* ===================== JSON sink ===================== */

/*
** One flag is enough to place commas: bComma is set after any complete
** value (scalar, spliced JSON, or closed container) and cleared after an
** opening bracket or a key. A closed container is itself a value of its
** parent level, so "set after close" is right for the parent.
*/
static inv_json_sink *jsk(inv_sink *s) {
  return (inv_json_sink *)s;
}

static void jskComma(inv_json_sink *p) {
  if (p->bComma) inv_buf_addc(p->pBuf, ',');
}

static void jskBeginObj(inv_sink *s, int nHint) {
  inv_json_sink *p = jsk(s);
  (void)nHint;
  jskComma(p);
  inv_buf_addc(p->pBuf, '{');
  p->bComma = 0;
}

static void jskEndObj(inv_sink *s) {
  inv_json_sink *p = jsk(s);
  inv_buf_addc(p->pBuf, '}');
  p->bComma = 1;
}

static void jskBeginArr(inv_sink *s, int nHint) {
  inv_json_sink *p = jsk(s);
  (void)nHint;
  jskComma(p);
  inv_buf_addc(p->pBuf, '[');
  p->bComma = 0;
}

static void jskEndArr(inv_sink *s) {
  inv_json_sink *p = jsk(s);
  inv_buf_addc(p->pBuf, ']');
  p->bComma = 1;
}

static void jskKey(inv_sink *s, const char *z, size_t n) {
  inv_json_sink *p = jsk(s);
  jskComma(p);
  inv_json_write_str(p->pBuf, z, n);
  inv_buf_addc(p->pBuf, ':');
  p->bComma = 0;
}

/* A schema field name: plain ASCII, written without escaping. */
static void jskKeyId(inv_sink *s, int id, const char *z, size_t n) {
  inv_json_sink *p = jsk(s);
  (void)id;
  jskComma(p);
  inv_buf_addc(p->pBuf, '"');
  inv_buf_add(p->pBuf, z, n);
  inv_buf_add(p->pBuf, "\":", 2);
  p->bComma = 0;
}

static void jskNull(inv_sink *s) {
  inv_json_sink *p = jsk(s);
  jskComma(p);
  inv_buf_add(p->pBuf, "null", 4);
  p->bComma = 1;
}

static void jskBool(inv_sink *s, int bVal) {
  inv_json_sink *p = jsk(s);
  jskComma(p);
  if (bVal) inv_buf_add(p->pBuf, "true", 4);
  else inv_buf_add(p->pBuf, "false", 5);
  p->bComma = 1;
}

static void jskInt(inv_sink *s, int64_t i) {
  inv_json_sink *p = jsk(s);
  jskComma(p);
  inv_buf_addi(p->pBuf, i);
  p->bComma = 1;
}

static void jskReal(inv_sink *s, double r) {
  inv_json_sink *p = jsk(s);
  jskComma(p);
  inv_json_write_real(p->pBuf, r);
  p->bComma = 1;
}

static void jskStr(inv_sink *s, const char *z, size_t n) {
  inv_json_sink *p = jsk(s);
  jskComma(p);
  inv_json_write_str(p->pBuf, z, n);
  p->bComma = 1;
}

static void jskJson(inv_sink *s, const char *z, size_t n) {
  inv_json_sink *p = jsk(s);
  jskComma(p);
  inv_buf_add(p->pBuf, z, n);
  p->bComma = 1;
}

inv_json_sink *inv_json_sink_of(inv_sink *s) {
  return s && s->xBeginObj == jskBeginObj ? (inv_json_sink *)s : NULL;
}

void inv_json_sink_init(inv_json_sink *s, inv_buf *pBuf) {
  memset(s, 0, sizeof(*s));
  s->base.xBeginObj = jskBeginObj;
  s->base.xEndObj = jskEndObj;
  s->base.xBeginArr = jskBeginArr;
  s->base.xEndArr = jskEndArr;
  s->base.xKey = jskKey;
  s->base.xNull = jskNull;
  s->base.xBool = jskBool;
  s->base.xInt = jskInt;
  s->base.xReal = jskReal;
  s->base.xStr = jskStr;
  s->base.xJson = jskJson;
  s->base.xKeyId = jskKeyId;
  s->pBuf = pBuf;
  s->bComma = 0;
}

/* ===================== inv_val -> sink ===================== */

static int hint(size_t n) {
  return n > (size_t)INT_MAX ? INT_MAX : (int)n;
}

void inv_sink_val(inv_sink *s, const inv_val *v) {
  size_t i;
  if (v == NULL) { s->xNull(s); return; }
  if (v->bEmpty) {
    s->xBeginObj(s, 0);
    s->xEndObj(s);
    return;
  }
  switch (v->t) {
    case INV_BOOL: s->xBool(s, v->u.b); break;
    case INV_INT:  s->xInt(s, v->u.i); break;
    case INV_REAL: s->xReal(s, v->u.r); break;
    case INV_STR:  s->xStr(s, v->u.s.z, v->u.s.n); break;
    case INV_ARR:
      s->xBeginArr(s, hint(v->u.arr.n));
      for (i = 0; i < v->u.arr.n; i++) inv_sink_val(s, &v->u.arr.a[i]);
      s->xEndArr(s);
      break;
    case INV_OBJ:
      s->xBeginObj(s, hint(v->u.obj.n));
      for (i = 0; i < v->u.obj.n; i++) {
        const inv_kv *kv = &v->u.obj.a[i];
        s->xKey(s, kv->zKey, kv->nKey);
        inv_sink_val(s, &kv->v);
      }
      s->xEndObj(s);
      break;
    default: s->xNull(s); break;
  }
}

/* ===================== JSON text -> sink (streaming) ===================== */

/*
** Two passes over the text with the same recursive-descent code: first
** with pSink == NULL to validate (so an invalid text emits nothing and a
** sink never sees unbalanced Begin/End events), then with the sink to
** replay. The validation pass grows the scratch buffer to the largest size
** any escaped string or long number needs, so the replay pass allocates
** nothing and cannot fail. Unescaped strings are passed to the sink as
** pointers into the input (not NUL-terminated: sinks must use n).
** Duplicate keys are not detected here (texts come from our own writer).
*/
typedef struct JStream JStream;
struct JStream {
  const unsigned char *z;
  size_t n;
  size_t i;
  int nDepth;
  inv_sink *pSink;         /* NULL while validating */
  inv_buf scratch;         /* decoded strings, number copies */
};

static char *jsScratch(JStream *p, size_t n) {
  inv_buf_reset(&p->scratch);
  if (inv_buf_reserve(&p->scratch, n)) return NULL;
  return p->scratch.z;
}

static int jsValue(JStream *p);

/* p->i at the opening quote; bKey selects xKey or xStr. */
static int jsString(JStream *p, int bKey) {
  size_t a = p->i + 1, end, len = 0, off;
  const char *zOut;
  int bEsc = 0;
  if (strScan(p->z, p->n, a, &end, &bEsc)) return -1;
  if (!bEsc) {
    if (p->pSink == NULL && !inv_utf8_valid((const char *)p->z + a, end - a)) {
      return -1;
    }
    zOut = (const char *)p->z + a;
    len = end - a;
  } else {
    char *dst = jsScratch(p, end - a + 1);
    if (dst == NULL) return -1;
    if (strDecode(p->z, a, end, dst, &len, &off) != DEC_OK) return -1;
    zOut = dst;
  }
  if (p->pSink) {
    if (bKey) p->pSink->xKey(p->pSink, zOut, len);
    else p->pSink->xStr(p->pSink, zOut, len);
  }
  p->i = end + 1;
  return 0;
}

static int jsNumber(JStream *p) {
  size_t end;
  int bInt = 0;
  char *zTmp;
  inv_val v;
  if (numScan(p->z, p->n, p->i, &end, &bInt)) return -1;
  if (end - p->i >= 63) {
    /* Long numbers need a heap copy for strtod: use the scratch buffer
    ** (short ones use a stack buffer inside numConvert). */
    zTmp = jsScratch(p, end - p->i + 1);
    if (zTmp == NULL) return -1;
  } else {
    zTmp = NULL;
  }
  if (numConvert(p->z, p->i, end, bInt, zTmp, &v) != NUM_OK) return -1;
  if (p->pSink) {
    if (v.t == INV_INT) p->pSink->xInt(p->pSink, v.u.i);
    else p->pSink->xReal(p->pSink, v.u.r);
  }
  p->i = end;
  return 0;
}

/* A container failed after its Begin event: while replaying, close it, so
** that the sink stays balanced (-2: a value was emitted); else -1. */
static int jsFail(JStream *p, int bArr) {
  if (!p->pSink) return -1;
  if (bArr) p->pSink->xEndArr(p->pSink);
  else p->pSink->xEndObj(p->pSink);
  return -2;
}

/* Each parser returns 0, -1 (failed, nothing emitted) or -2 (failed, one
** balanced value emitted): inv_sink_json_replay leaves a sink balanced. */
static int jsArray(JStream *p) {
  if (++p->nDepth > INV_JSON_BUILT_DEPTH) return -1;
  p->i++;
  if (p->pSink) p->pSink->xBeginArr(p->pSink, -1);
  p->i = skipWs(p->z, p->n, p->i);
  if (p->i < p->n && p->z[p->i] == ']') {
    p->i++;
  } else {
    for (;;) {
      if (jsValue(p)) return jsFail(p, 1);
      p->i = skipWs(p->z, p->n, p->i);
      if (p->i < p->n && p->z[p->i] == ',') { p->i++; continue; }
      if (p->i < p->n && p->z[p->i] == ']') { p->i++; break; }
      return jsFail(p, 1);
    }
  }
  if (p->pSink) p->pSink->xEndArr(p->pSink);
  p->nDepth--;
  return 0;
}

static int jsObject(JStream *p) {
  if (++p->nDepth > INV_JSON_BUILT_DEPTH) return -1;
  p->i++;
  if (p->pSink) p->pSink->xBeginObj(p->pSink, -1);
  p->i = skipWs(p->z, p->n, p->i);
  if (p->i < p->n && p->z[p->i] == '}') {
    p->i++;
  } else {
    for (;;) {
      int rc;
      if (p->i >= p->n || p->z[p->i] != '"') return jsFail(p, 0);
      if (jsString(p, 1)) return jsFail(p, 0);
      p->i = skipWs(p->z, p->n, p->i);
      rc = p->i < p->n && p->z[p->i] == ':' ? (p->i++, jsValue(p)) : -1;
      if (rc) {
        if (rc == -1 && p->pSink) p->pSink->xNull(p->pSink);   /* the key's value */
        return jsFail(p, 0);
      }
      p->i = skipWs(p->z, p->n, p->i);
      if (p->i < p->n && p->z[p->i] == ',') {
        p->i = skipWs(p->z, p->n, p->i + 1);
        continue;
      }
      if (p->i < p->n && p->z[p->i] == '}') { p->i++; break; }
      return jsFail(p, 0);
    }
  }
  if (p->pSink) p->pSink->xEndObj(p->pSink);
  p->nDepth--;
  return 0;
}

static int jsValue(JStream *p) {
  size_t i = p->i = skipWs(p->z, p->n, p->i);
  if (i >= p->n) return -1;
  switch (p->z[i]) {
    case '[': return jsArray(p);
    case '{': return jsObject(p);
    case '"': return jsString(p, 0);
    case 't':
      if (!matchLit(p->z, p->n, i, "true", 4)) return -1;
      if (p->pSink) p->pSink->xBool(p->pSink, 1);
      p->i += 4;
      return 0;
    case 'f':
      if (!matchLit(p->z, p->n, i, "false", 5)) return -1;
      if (p->pSink) p->pSink->xBool(p->pSink, 0);
      p->i += 5;
      return 0;
    case 'n':
      if (!matchLit(p->z, p->n, i, "null", 4)) return -1;
      if (p->pSink) p->pSink->xNull(p->pSink);
      p->i += 4;
      return 0;
    default:
      if (p->z[i] == '-' || isDigit(p->z[i])) return jsNumber(p);
      return -1;
  }
}

/* Run one pass over the whole text: a value and nothing but whitespace. */
static int jsRun(JStream *p, inv_sink *pSink) {
  int rc;
  p->i = 0;
  p->nDepth = 0;
  p->pSink = pSink;
  if ((rc = jsValue(p)) != 0) return rc;
  if (skipWs(p->z, p->n, p->i) != p->n) return pSink ? -2 : -1;
  return 0;
}

int inv_sink_json(inv_sink *s, const char *z, size_t n) {
  inv_buf scratch;
  int rc;
  inv_buf_init(&scratch);
  rc = inv_sink_json_ex(s, z, n, &scratch);
  inv_buf_free(&scratch);
  return rc;
}

int inv_sink_json_replay(inv_sink *s, const char *z, size_t n, inv_buf *pScratch) {
  JStream p;
  int rc;
  memset(&p, 0, sizeof(p));
  p.z = (const unsigned char *)(z ? z : "");
  p.n = z ? n : 0;
  p.scratch = *pScratch;      /* borrowed: handed back below */
  /* room for the longest decoded string or number copy: the pass never
  ** grows the buffer, so a sink that longjmps leaves it owned by the caller */
  rc = inv_buf_reserve(&p.scratch, p.n + 1);
  *pScratch = p.scratch;
  if (rc == 0) rc = jsRun(&p, s);
  *pScratch = p.scratch;
  return rc;
}

int inv_json_check(const char *z, size_t n, inv_buf *pScratch) {
  JStream p;
  int rc;
  memset(&p, 0, sizeof(p));
  p.z = (const unsigned char *)(z ? z : "");
  p.n = z ? n : 0;
  p.scratch = *pScratch;      /* borrowed: handed back below */
  rc = jsRun(&p, NULL) ? -1 : 0;
  *pScratch = p.scratch;
  return rc;
}

int inv_sink_json_ex(inv_sink *s, const char *z, size_t n, inv_buf *pScratch) {
  JStream p;
  int rc;
  memset(&p, 0, sizeof(p));
  p.z = (const unsigned char *)(z ? z : "");
  p.n = z ? n : 0;
  p.scratch = *pScratch;      /* borrowed: handed back below */
  rc = jsRun(&p, NULL) ? -1 : 0;
  if (rc == 0) {
    if (s->xJson) {
      /* Splice the text itself, without surrounding whitespace. */
      size_t a = skipWs(p.z, p.n, 0), b = p.n;
      while (b > a && isWs(p.z[b - 1])) b--;
      s->xJson(s, (const char *)p.z + a, b - a);
    } else {
      *pScratch = p.scratch;   /* a sink that longjmps leaves it owned by the caller */
      rc = jsRun(&p, s);      /* validated: cannot fail */
    }
  }
  *pScratch = p.scratch;
  return rc;
}
