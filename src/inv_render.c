/*
** inv_render.c: rows -> sink.
**
** The same code renders for the Lua API (complete records: counters as 0,
** errors as an empty array) and for the REST gateway (R_JSON: fields holding
** a default, i.e. 0, "", null or an empty list, are omitted; an object field
** that is set is rendered even when empty). R_ALL (export) adds the hidden
** fields. Datetimes render as
** "YYYY-MM-DDTHH:MM:SS.mmmZ".
*/
#include <stdio.h>
#include <string.h>
#include "inv_int.h"

/* `only`: the requested fields, each whole or as sub-paths. */
typedef struct OnlyItem OnlyItem;
struct OnlyItem {
  int iField;
  const char *zSub;        /* NULL: the whole field; else "a.b" below it */
  size_t nSub;
};
struct inv_only {
  int n;
  OnlyItem *a;
};

#define ONLY_MAX_KEYS 256     /* keys of an `only` list */
#define ONLY_MAX_SUB  16      /* of them inside one field ("filter.a") */

int inv_only_compile(inv_store *s, const inv_resource *r, const inv_val *pOnly,
                     inv_only **ppOut) {
  inv_only *o;
  size_t i;
  *ppOut = NULL;
  if (!pOnly || pOnly->t == INV_NULL) return INV_OK;
  if (!inv_val_is_arr(pOnly)) return inv_err_type_of(s, "only", "list of strings", pOnly);
  if (pOnly->u.arr.n == 0) return INV_OK;
  /* each rendered field scans the list: rows x fields x keys stays small */
  if (pOnly->u.arr.n > ONLY_MAX_KEYS) {
    char zR[64];
    snprintf(zR, sizeof zR, "at most 256 keys; this one has %zu.", pOnly->u.arr.n);
    return inv_err_invalid(s, "only", zR);
  }
  o = inv_arena_alloc(&s->arena, sizeof *o);
  if (!o) return inv_err_nomem(s);
  o->a = inv_arena_alloc(&s->arena, sizeof(OnlyItem) * pOnly->u.arr.n);
  if (!o->a) return inv_err_nomem(s);
  o->n = 0;
  for (i = 0; i < pOnly->u.arr.n; i++) {
    const inv_val *v = &pOnly->u.arr.a[i];
    const char *zDot;
    int iField;
    if (v->t != INV_STR) return inv_err_type_of(s, "only", "list of strings", v);
    if (inv_key_check(s, r, v->u.s.z, v->u.s.n, &iField)) return INV_ERROR;
    o->a[o->n].iField = iField;
    zDot = memchr(v->u.s.z, '.', v->u.s.n);
    o->a[o->n].zSub = zDot ? zDot + 1 : NULL;
    o->a[o->n].nSub = zDot ? v->u.s.n - (size_t)(zDot + 1 - v->u.s.z) : 0;
    if (zDot) {
      int j, nSub = 1;
      for (j = 0; j < o->n; j++) nSub += o->a[j].iField == iField && o->a[j].zSub;
      if (nSub > ONLY_MAX_SUB) {
        return inv_err_invalid(s, "only", "at most 16 keys inside one field, such as filter.a and filter.b.");
      }
    }
    o->n++;
  }
  *ppOut = o;
  return INV_OK;
}

/* ---- projection of a JSON value by dotted sub-paths ---- */

typedef struct SubPath SubPath;
struct SubPath { const char *z; size_t n; };

/* Emit v keeping only the given paths (n > 0). Objects keep the keys named
** by a path's first segment; arrays project each element; scalars under a
** path that goes on are dropped (returns 0 = nothing emitted). */
static int emitProjected(inv_store *s, inv_sink *k, const inv_val *v,
                         const SubPath *aP, int nP, int bInArray) {
  size_t i;
  int j;
  if (v->t == INV_ARR) {
    k->xBeginArr(k, (int)v->u.arr.n);
    for (i = 0; i < v->u.arr.n; i++) emitProjected(s, k, &v->u.arr.a[i], aP, nP, 1);
    k->xEndArr(k);
    return 1;
  }
  if (v->t != INV_OBJ) {
    (void)bInArray;
    return 0;
  }
  k->xBeginObj(k, -1);
  for (i = 0; i < v->u.obj.n; i++) {
    const inv_kv *kv = &v->u.obj.a[i];
    SubPath aSub[ONLY_MAX_SUB];
    int nSub = 0, bWhole = 0;
    for (j = 0; j < nP; j++) {
      const char *zDot = memchr(aP[j].z, '.', aP[j].n);
      size_t nHead = zDot ? (size_t)(zDot - aP[j].z) : aP[j].n;
      if (nHead != kv->nKey || memcmp(aP[j].z, kv->zKey, nHead) != 0) continue;
      if (!zDot) bWhole = 1;
      else if (nSub < ONLY_MAX_SUB) {         /* nP <= ONLY_MAX_SUB: never cut */
        aSub[nSub].z = zDot + 1;
        aSub[nSub].n = aP[j].n - nHead - 1;
        nSub++;
      }
    }
    if (bWhole) {
      k->xKey(k, kv->zKey, kv->nKey);
      inv_sink_val(k, &kv->v);
    } else if (nSub && (kv->v.t == INV_OBJ || kv->v.t == INV_ARR)) {
      k->xKey(k, kv->zKey, kv->nKey);
      emitProjected(s, k, &kv->v, aSub, nSub, 0);
    }
  }
  k->xEndObj(k);
  return 1;
}

void inv_emit_json(inv_store *s, inv_sink *k, const char *z, size_t n) {
  if (k->xJson) { k->xJson(k, z, n); return; }
  /* the common values of errors / filter: no parser needed */
  if (n == 2 && z[0] == '[' && z[1] == ']') { k->xBeginArr(k, 0); k->xEndArr(k); return; }
  if (n == 2 && z[0] == '{' && z[1] == '}') { k->xBeginObj(k, 0); k->xEndObj(k); return; }
  if (inv_sink_json_ex(k, z, n, &s->jscratch)) k->xNull(k);  /* ours: cannot fail */
}

/* ---- datetimes ---- */

#define MS_DAY 86400000

static const char kDigits2[] =
  "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
  "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
  "8081828384858687888990919293949596979899";

static void put2(char *z, int v) {           /* 0 <= v < 100 */
  memcpy(z, kDigits2 + 2 * v, 2);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" of ms (24 bytes, not terminated), through the
** store's one-entry cache: the instant formatted last is a lookup (the
** tasks of a job share their created_at), another one of the same day
** formats its time of day only. Other years than 0 to 9999 are not cached
** (inv_time_format writes them longer; the first 24 bytes are rendered, as
** always). */
static const char *timeText(inv_store *s, int64_t ms) {
  if (s->bTime) {
    int64_t r;
    if (ms == s->nTimeMs) return s->zTime;
    r = ms - s->nTimeDay0;
    if (r >= 0 && r < MS_DAY) {
      int v = (int)r, m = v % 1000;
      char *z = s->zTime;
      put2(z + 11, v / 3600000);
      put2(z + 14, v / 60000 % 60);
      put2(z + 17, v / 1000 % 60);
      z[20] = (char)('0' + m / 100);
      put2(z + 21, m % 100);
      s->nTimeMs = ms;
      return z;
    }
  }
  inv_time_format(ms, s->zTime);
  s->bTime = s->zTime[4] == '-' && s->zTime[23] == 'Z' && s->zTime[24] == 0;
  if (s->bTime) {
    int64_t r = ms % MS_DAY;
    if (r < 0) r += MS_DAY;
    s->nTimeMs = ms;
    s->nTimeDay0 = ms - r;
  }
  return s->zTime;
}

/* ---- a row into any sink ---- */

/* A stored document (errors, filter): text this library wrote, replayed
** in one pass (a sink that splices JSON takes it as it is, after one
** checking pass: a response is never JSON with a foreign text inside). 0,
** or -1 when it is not JSON after all: the sink got a null or what could
** be read, balanced, and the call fails. */
/* A stored document that is not JSON after all fails the call. */
static int badStored(inv_store *s, const inv_field *f) {
  inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY", "Database query failed. (reason = the stored %s "
                "is not valid JSON)", f->zName);
  return -1;
}

static int emitStored(inv_store *s, inv_sink *k, const char *z, size_t n, const inv_field *f) {
  int rc, bEmpty = n == 2 && ((z[0] == '[' && z[1] == ']') || (z[0] == '{' && z[1] == '}'));
  if (k->xJson) {
    rc = bEmpty ? 0 : inv_json_check(z, n, &s->jscratch);
    if (rc == 0) { k->xJson(k, z, n); return 0; }
  } else if (bEmpty) {
    if (z[0] == '[') { k->xBeginArr(k, 0); k->xEndArr(k); }
    else { k->xBeginObj(k, 0); k->xEndObj(k); }
    return 0;
  } else {
    rc = inv_sink_json_replay(k, z, n, &s->jscratch);
    if (rc == 0) return 0;
  }
  if (rc == -1) k->xNull(k);
  return badStored(s, f);
}

/* Is field i of r rendered (flags, `only`)? Its sub-paths from `only` in
** aSub (*pnSub of them; 0: the whole field, also when `only` names it whole
** beside sub-paths). Hidden fields (JobTask
** total_sub_tasks, ...) are not part of the API's records: never rendered,
** not even when `only` names them; an export (R_ALL) has them, so that an
** import reproduces the record. */
static int fieldWanted(const inv_resource *r, int i, int flags, const inv_only *pOnly,
                       SubPath *aSub, int *pnSub) {
  const inv_field *f = &r->aField[i];
  int j, bWhole = 0;
  *pnSub = 0;
  if ((f->flags & FF_HIDDEN) && !(flags & R_ALL)) return 0;
  if (pOnly) {
    for (j = 0; j < pOnly->n; j++) {
      if (pOnly->a[j].iField != i) continue;
      if (!pOnly->a[j].zSub) bWhole = 1;
      else if (*pnSub < ONLY_MAX_SUB) {
        aSub[*pnSub].z = pOnly->a[j].zSub;
        aSub[*pnSub].n = pOnly->a[j].nSub;
        (*pnSub)++;
      }
    }
    if (bWhole) *pnSub = 0;                     /* the whole field wins */
    return bWhole || *pnSub;
  }
  return !(flags & R_MINIMAL) || (f->flags & FF_MINIMAL);
}

static int renderSink(inv_store *s, const inv_resource *r, inv_stmt *p,
                      int iCol0, inv_sink *k, int flags, const inv_only *pOnly) {
  int i, bJson = flags & R_JSON, bBad = 0;
  int idBase = 1 + r->iRes * 64;                /* key ids 1..192 */
  k->xBeginObj(k, r->nField);
  for (i = 0; i < r->nField; i++) {
    const inv_field *f = &r->aField[i];
    SubPath aSub[ONLY_MAX_SUB];
    int nSub, t;
    int64_t v = 0;
    const char *z = "";
    size_t n = 0;
    if (pOnly) {
      if (!fieldWanted(r, i, flags, pOnly, aSub, &nSub)) continue;
    } else {                                /* fieldWanted without `only`, inline */
      if ((f->flags & FF_HIDDEN) && !(flags & R_ALL)) continue;
      if ((flags & R_MINIMAL) && !(f->flags & FF_MINIMAL)) continue;
      nSub = 0;
    }
    t = inv_col_get(s, p, iCol0 + i, f->eType != F_INT && f->eType != F_TIME, &v, &z, &n);
    if (t == INV_T_NULL) continue;
    switch (f->eType) {
      case F_STR:
        if (bJson && n == 0) break;
        if (k->xKeyId) k->xKeyId(k, idBase + i, f->zName, f->nName); else k->xKey(k, f->zName, f->nName);
        k->xStr(k, z, n);
        break;
      case F_INT:
        if (bJson && v == 0) break;
        if (k->xKeyId) k->xKeyId(k, idBase + i, f->zName, f->nName); else k->xKey(k, f->zName, f->nName);
        k->xInt(k, v);
        break;
      case F_TIME:
        if (k->xKeyId) k->xKeyId(k, idBase + i, f->zName, f->nName); else k->xKey(k, f->zName, f->nName);
        k->xStr(k, timeText(s, v), 24);
        break;
      default:                              /* F_OBJ, F_ERRS: JSON text */
        if (bJson && f->eType == F_ERRS && n == 2) break;   /* "[]" */
        if (k->xKeyId) k->xKeyId(k, idBase + i, f->zName, f->nName); else k->xKey(k, f->zName, f->nName);
        if (!nSub) {
          if (emitStored(s, k, z, n, f)) bBad = 1;
        } else {
          inv_val jv;
          char zErr[64];
          if (inv_json_parse(&s->arena, z, n, &jv, zErr, sizeof zErr)) {
            k->xNull(k);
            badStored(s, f);
            bBad = 1;
          } else if (!emitProjected(s, k, &jv, aSub, nSub, 0)) {
            k->xNull(k);
          }
        }
        break;
    }
  }
  k->xEndObj(k);
  return bBad ? INV_ERROR : INV_OK;
}

/* ---- a row into a JSON sink: written straight into its buffer ---- */

#define KEY_SLOT 32               /* ",\"name\":" of a field, zero-padded */
#define KEY_FIELDS 64             /* fields per resource (key ids: 64 each) */
/* After the key slots: for each resource and each rendering without a
** projection (R_MINIMAL, R_ALL: 4 of them), the indexes of the fields it
** renders, in order, ended by WANT_END. */
#define WANT_OFF ((size_t)(INV_N_RES * KEY_FIELDS + 1) * KEY_SLOT)
#define WANT_END 0xff
#define WANT_LIST(z, iRes, flags) ((const unsigned char*)(z) + WANT_OFF + \
  ((size_t)(iRes) * 4 + (((flags) & R_MINIMAL) ? 1u : 0u) + (((flags) & R_ALL) ? 2u : 0u)) * (KEY_FIELDS + 1))

/* The JSON keys of every resource's fields, built on the store's first
** JSON row (one more slot: a copy of a whole slot from offset 1 stays inside). */
static const char *jsonKeys(inv_store *s) {
  int ri, i;
  char *z;
  if (s->zJsonKeys) return s->zJsonKeys;
  size_t nAll = WANT_OFF + (size_t)INV_N_RES * 4 * (KEY_FIELDS + 1);
  z = inv_malloc(nAll);
  if (!z) return NULL;
  memset(z, 0, nAll);
  for (ri = 0; ri < INV_N_RES && inv_resources[ri]; ri++) {
    const inv_resource *r = inv_resources[ri];
    int fl;
    for (fl = 0; fl < 4; fl++) {
      int flags = ((fl & 1) ? R_MINIMAL : 0) | ((fl & 2) ? R_ALL : 0), n = 0;
      unsigned char *pw = (unsigned char*)z + WANT_OFF + ((size_t)r->iRes * 4 + (size_t)fl) * (KEY_FIELDS + 1);
      for (i = 0; i < r->nField && i < KEY_FIELDS; i++) {
        SubPath aSub[ONLY_MAX_SUB];
        int nSub;
        if (fieldWanted(r, i, flags, NULL, aSub, &nSub)) pw[n++] = (unsigned char)i;
      }
      pw[n] = WANT_END;
    }
    for (i = 0; i < r->nField && i < KEY_FIELDS; i++) {
      const inv_field *f = &r->aField[i];
      char *w = z + ((size_t)r->iRes * KEY_FIELDS + (size_t)i) * KEY_SLOT;
      if ((size_t)f->nName + 4 > KEY_SLOT) continue;        /* written the long way */
      w[0] = ',';
      w[1] = '"';
      memcpy(w + 2, f->zName, f->nName);
      w[2 + f->nName] = '"';
      w[3 + f->nName] = ':';
    }
  }
  s->zJsonKeys = z;
  return z;
}

/* Does any of the 8 bytes at z need an escape in a JSON string (< 0x20,
** '"', '\\')? (a false alarm only costs the careful writer) */
static int wordNeedsEscape(const char *z) {
  const uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
  uint64_t x, q, b;
  memcpy(&x, z, 8);
  q = x ^ (k01 * '"');
  b = x ^ (k01 * '\\');
  return ((((x - k01 * 0x20) & ~x) | ((q - k01) & ~q) | ((b - k01) & ~b)) & k80) != 0;
}
/* The decimal digits of v at w; returns the end. */
static char *putInt(char *w, int64_t v) {
  uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v, t;
  int nd = 1, k;
  if (v < 0) *w++ = '-';
  for (t = u; t >= 10; t /= 10) nd++;
  for (k = nd - 1; k > 0; k--) {
    w[k] = (char)('0' + (int)(u % 10));
    u /= 10;
  }
  w[0] = (char)('0' + (int)u);
  return w + nd;
}

/* A JSON string of z[0..n) at w, quoted, when no byte needs an escape: the
** bytes are checked and copied 8 at a time (the last 8 overlapping). NULL
** when one may need an escape (nothing useful written: the careful writer
** takes over). */
static char *putPlainStr(char *w, const char *z, size_t n) {
  size_t i;
  *w++ = '"';
  if (n < 8) {
    for (i = 0; i < n; i++) {
      unsigned char c = (unsigned char)z[i];
      if (c < 0x20 || c == '"' || c == '\\') return NULL;
      w[i] = (char)c;
    }
  } else {
    for (i = 0; i + 8 < n; i += 8) {
      if (wordNeedsEscape(z + i)) return NULL;
      memcpy(w + i, z + i, 8);
    }
    if (wordNeedsEscape(z + n - 8)) return NULL;
    memcpy(w + n - 8, z + n - 8, 8);
  }
  w += n;
  *w++ = '"';
  return w;
}

/* The same row as renderSink would write through the sink's events, byte
** for byte, without a call per event: the key from the table above, the
** value with one room check. */
static int renderJson(inv_store *s, const inv_resource *r, inv_stmt *p, int iCol0,
                      inv_json_sink *js, int flags, const inv_only *pOnly, const char *zKeys) {
  inv_buf *b = js->pBuf;
  const char *zSlot = zKeys + (size_t)r->iRes * KEY_FIELDS * KEY_SLOT;
  const inv_driver *d = s->pDrv;
  int (*xGet)(inv_stmt*, int, int, int64_t*, const char**, size_t*) =
    d->iVersion >= 4 && d->xColumnGet ? d->xColumnGet : NULL;
  const unsigned char *pWant = pOnly ? NULL : WANT_LIST(zKeys, r->iRes, flags);
  int i, k, bJson = flags & R_JSON, bFirst = 1;
  char *w;
  if (inv_buf_reserve(b, 2)) return INV_OK;     /* b->bOom: the caller fails the call */
  w = b->z + b->n;
  if (js->bComma) *w++ = ',';
  *w++ = '{';
  b->n = (size_t)(w - b->z);
  for (k = 0;; k++) {
    const inv_field *f;
    SubPath aSub[ONLY_MAX_SUB];
    int nSub = 0, t;
    int64_t v = 0;
    const char *z = "";
    size_t n = 0, need;
    char *e;
    if (pWant) {                    /* the fields rendered without a projection */
      i = pWant[k];
      if (i == WANT_END) break;
    } else {
      i = k;
      if (i >= r->nField) break;
      if (!fieldWanted(r, i, flags, pOnly, aSub, &nSub)) continue;
    }
    f = &r->aField[i];
    if (xGet) t = xGet(p, iCol0 + i, f->eType != F_INT && f->eType != F_TIME, &v, &z, &n);
    else t = inv_col_get(s, p, iCol0 + i, f->eType != F_INT && f->eType != F_TIME, &v, &z, &n);
    if (t == INV_T_NULL) continue;
    switch (f->eType) {
      case F_STR:
        if (bJson && n == 0) continue;
        need = n + 2;
        break;
      case F_INT:
        if (bJson && v == 0) continue;
        need = 20;
        break;
      case F_TIME:
        need = 26;
        break;
      default:
        if (bJson && f->eType == F_ERRS && n == 2) continue;
        need = n;
        break;
    }
    if (b->nAlloc - b->n <= KEY_SLOT + need && inv_buf_reserve(b, KEY_SLOT + need)) {
      b->z[b->n] = 0;
      return INV_OK;
    }
    w = b->z + b->n;
    if (zSlot[(size_t)i * KEY_SLOT]) {
      memcpy(w, zSlot + (size_t)i * KEY_SLOT + bFirst, KEY_SLOT);
      w += f->nName + 4 - bFirst;
    } else {
      if (!bFirst) *w++ = ',';
      *w++ = '"';
      memcpy(w, f->zName, f->nName);
      w += f->nName;
      *w++ = '"';
      *w++ = ':';
    }
    bFirst = 0;
    switch (f->eType) {
      case F_STR:
        if ((e = putPlainStr(w, z, n)) != NULL) {
          w = e;
        } else {
          b->n = (size_t)(w - b->z);
          inv_json_write_str(b, z, n);
          continue;
        }
        break;
      case F_INT:
        w = putInt(w, v);
        break;
      case F_TIME:
        *w++ = '"';
        memcpy(w, timeText(s, v), 24);
        w += 24;
        *w++ = '"';
        break;
      default:
        if (!nSub) {
          /* stored JSON, as the sink's xJson splices it: checked first,
          ** unless "[]" or "{}" (a response never carries a foreign text) */
          if (!(n == 2 && ((z[0] == '[' && z[1] == ']') || (z[0] == '{' && z[1] == '}')))
              && inv_json_check(z, n, &s->jscratch)) {
            b->n = (size_t)(w - b->z);
            js->bComma = 0;                 /* after a key */
            js->base.xNull(&js->base);      /* the row ends well formed; the call fails */
            inv_buf_addc(b, '}');
            js->bComma = 1;
            badStored(s, f);
            return INV_ERROR;
          }
          memcpy(w, z, n);
          w += n;
        } else {
          inv_val jv;
          char zErr[64];
          b->n = (size_t)(w - b->z);
          js->bComma = 0;                   /* after a key */
          if (inv_json_parse(&s->arena, z, n, &jv, zErr, sizeof zErr)) {
            js->base.xNull(&js->base);
            inv_buf_addc(b, '}');
            js->bComma = 1;
            badStored(s, f);
            return INV_ERROR;
          }
          if (!emitProjected(s, &js->base, &jv, aSub, nSub, 0)) js->base.xNull(&js->base);
          continue;
        }
        break;
    }
    b->n = (size_t)(w - b->z);
  }
  if (inv_buf_reserve(b, 1)) { b->z[b->n] = 0; return INV_OK; }
  b->z[b->n++] = '}';
  b->z[b->n] = 0;
  js->bComma = 1;
  return INV_OK;
}

int inv_render_row(inv_store *s, const inv_resource *r, inv_stmt *p,
                   int iCol0, inv_sink *k, int flags, const inv_only *pOnly) {
  inv_json_sink *js = inv_json_sink_of(k);
  const char *zKeys;
  if (js && r->iRes >= 0 && r->iRes < INV_N_RES && r->nField <= KEY_FIELDS
      && (zKeys = jsonKeys(s)) != NULL) {
    return renderJson(s, r, p, iCol0, js, flags, pOnly, zKeys);
  }
  return renderSink(s, r, p, iCol0, k, flags, pOnly);
}

/* Render one record by id (the result of a write). */
int inv_render_by_id(inv_store *s, const inv_resource *r, const char *zId, const char *zDomain,
                     inv_sink *k, int flags) {
  inv_stmt *p = inv_prepare_static(s, s->azById[r->iRes]);
  int rc;
  if (!p) return INV_ERROR;
  inv_bind_text(s, p, 1, zId);
  inv_bind_text(s, p, 2, zDomain);
  rc = inv_step(s, p);
  if (rc < 0) return INV_ERROR;
  if (rc != INV_ROW) {
    inv_reset(s, p);
    return inv_err(s, "ERROR_NOT_FOUND",
                   "Resource cannot be found or access is denied. (%s = %s)",
                   r->aField[r->iId].zName, zId);
  }
  rc = inv_render_row(s, r, p, 1, k, flags, NULL);
  inv_reset(s, p);
  return rc;
}
