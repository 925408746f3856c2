/*
** inv_value.c: what the core asks of a value: object lookup, type tests,
** numbers as doubles or exact integers, the name Python gives its type;
** UTF-8 validation; the hash of a key (FNV-1a).
*/
#include <string.h>
#include <math.h>
#include "inv_val.h"

/* ===================== values ===================== */

const inv_val *inv_val_get(const inv_val *obj, const char *zKey) {
  size_t i, n;
  if (obj == NULL || zKey == NULL || obj->t != INV_OBJ) return NULL;
  n = strlen(zKey);
  for (i = 0; i < obj->u.obj.n; i++) {
    const inv_kv *kv = &obj->u.obj.a[i];
    if (kv->nKey == n && memcmp(kv->zKey, zKey, n) == 0) return &kv->v;
  }
  return NULL;
}

int inv_val_is_arr(const inv_val *v) {
  return v != NULL && (v->t == INV_ARR || v->bEmpty);
}

int inv_val_is_obj(const inv_val *v) {
  return v != NULL && (v->t == INV_OBJ || v->bEmpty);
}

/* 1 and *pOut when v is a number (INT or REAL); 0 otherwise. */
int inv_val_number(const inv_val *v, double *pOut) {
  if (v == NULL) return 0;
  if (v->t == INV_INT) { *pOut = (double)v->u.i; return 1; }
  if (v->t == INV_REAL) { *pOut = v->u.r; return 1; }
  return 0;
}

/* 1 and *pOut when v is an INT, or a REAL that is integral and within the
** int64 range; 0 otherwise. */
int inv_val_integer(const inv_val *v, int64_t *pOut) {
  if (v == NULL) return 0;
  if (v->t == INV_INT) { *pOut = v->u.i; return 1; }
  if (v->t == INV_REAL) {
    double r = v->u.r;
    int64_t i;
    /* [-2^63, 2^63): both bounds are exact doubles. NaN fails both. */
    if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0)) return 0;
    i = (int64_t)r;
    if ((double)i != r) return 0;
    *pOut = i;
    return 1;
  }
  return 0;
}

/* ===================== UTF-8 ===================== */

/* Length of the valid multi-byte sequence at s (s[0] >= 0x80, n >= 1
** bytes available), or 0 if it is invalid (stray continuation, overlong,
** surrogate, > U+10FFFF, truncated). */
size_t inv_utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  unsigned lo = 0x80, hi = 0xBF;
  if (c < 0xC2) return 0;                       /* continuation, C0/C1 */
  if (c < 0xE0) {
    return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
  }
  if (c < 0xF0) {
    if (c == 0xE0) lo = 0xA0;                   /* overlong */
    if (c == 0xED) hi = 0x9F;                   /* surrogates */
    if (n < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80) return 0;
    return 3;
  }
  if (c < 0xF5) {
    if (c == 0xF0) lo = 0x90;                   /* overlong */
    if (c == 0xF4) hi = 0x8F;                   /* > U+10FFFF */
    if (n < 4 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80
        || (s[3] & 0xC0) != 0x80) return 0;
    return 4;
  }
  return 0;
}

int inv_utf8_valid(const char *z, size_t n) {
  const unsigned char *s = (const unsigned char *)z;
  size_t i = 0;
  while (i < n) {
    size_t k;
    if (s[i] < 0x80) {
      /* ASCII runs 8 bytes at a time */
      while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ULL) break;
        i += 8;
      }
      while (i < n && s[i] < 0x80) i++;
      continue;
    }
    k = inv_utf8_seq(s + i, n - i);
    if (k == 0) return 0;
    i += k;
  }
  return 1;
}

void inv_utf8_clean(char *z, size_t n) {
  unsigned char *s = (unsigned char *)z;
  size_t i = 0;
  while (i < n) {
    size_t k;
    if (s[i] < 0x80) { i++; continue; }
    k = inv_utf8_seq(s + i, n - i);
    if (k == 0) s[i++] = '?';
    else i += k;
  }
}

/* ===================== hash ===================== */

size_t inv_hash(const char *z, size_t n) {
  size_t h = (size_t)2166136261u;
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= (unsigned char)z[i];
    h *= (size_t)16777619u;
  }
  return h;
}
