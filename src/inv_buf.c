/*
** inv_buf.c: growable byte buffer with a sticky out-of-memory flag.
**
** Invariants: z is NULL or NUL-terminated at z[n]; nAlloc > n when z is
** non-NULL. Once an append fails, bOom is set and every later append is
** ignored (the content written before stays valid). inv_buf_reset() and
** inv_buf_free() clear the flag.
*/
#include "inv_val.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BUF_FIRST ((size_t)64)

void inv_buf_init(inv_buf *b) {
  b->z = NULL;
  b->n = 0;
  b->nAlloc = 0;
  b->bOom = 0;
}

void inv_buf_free(inv_buf *b) {
  inv_free(b->z);
  inv_buf_init(b);
}

/* Empty the buffer, keep its memory; clears the out-of-memory flag. */
void inv_buf_reset(inv_buf *b) {
  b->n = 0;
  b->bOom = 0;
  if (b->z) b->z[0] = 0;
}

/* Make room for n more bytes plus the NUL terminator. 0 ok, -1 on failure
** (then bOom is set). Always allocates when z is NULL, so after a
** successful call z is non-NULL. */
int inv_buf_reserve(inv_buf *b, size_t n) {
  size_t need, nNew;
  char *zNew;
  if (b->bOom) return -1;
  if (n > (size_t)-1 - 1 - b->n) goto oom;
  need = b->n + n + 1;
  if (need <= b->nAlloc) return 0;
  nNew = b->nAlloc ? b->nAlloc : BUF_FIRST;
  while (nNew < need) {
    if (nNew > (size_t)-1 / 2) { nNew = need; break; }
    nNew *= 2;
  }
  zNew = (char *)inv_realloc(b->z, nNew);
  if (zNew == NULL) goto oom;
  if (b->z == NULL) zNew[0] = 0;
  b->z = zNew;
  b->nAlloc = nNew;
  return 0;
oom:
  b->bOom = 1;
  return -1;
}

void inv_buf_add_slow(inv_buf *b, const char *z, size_t n) {
  if (b->bOom) return;
  /* z may point into the buffer itself: remember it as an offset. */
  if (n && b->z && (uintptr_t)z >= (uintptr_t)b->z &&
      (uintptr_t)z < (uintptr_t)(b->z + b->nAlloc)) {
    size_t off = (size_t)(z - b->z);
    if (inv_buf_reserve(b, n)) return;
    memmove(b->z + b->n, b->z + off, n);
  } else {
    if (inv_buf_reserve(b, n)) return;
    if (n) memcpy(b->z + b->n, z, n);
  }
  b->n += n;
  b->z[b->n] = 0;
}

void inv_buf_adds(inv_buf *b, const char *z) {
  inv_buf_add(b, z, strlen(z));
}


/* Decimal, without printf; INT64_MIN included: z (at least 21 bytes) gets
** the digits and a NUL; their number is returned. */
size_t inv_fmt_int(char *z, int64_t i) {
  char a[24];
  size_t k = sizeof(a), n;
  /* magnitude without overflow: -(i+1) fits in int64 for every i < 0 */
  uint64_t u = i < 0 ? (uint64_t)(-(i + 1)) + 1 : (uint64_t)i;
  do {
    a[--k] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u);
  if (i < 0) a[--k] = '-';
  n = sizeof(a) - k;
  memcpy(z, a + k, n);
  z[n] = 0;
  return n;
}

void inv_buf_addi(inv_buf *b, int64_t i) {
  char z[24];
  inv_buf_add(b, z, inv_fmt_int(z, i));
}

/* A format of plain "%s", "%d" and "%%" conversions only (what the SQL
** builders print: column names, CTE numbers) is appended here, without
** vsnprintf's per-call setup: 1 (done, or out of memory), or 0 when zFmt
** has another conversion or more than 16 strings (nothing appended). The
** room for all of it is reserved first; an argument pointing into the
** buffer (its text before the call) is followed to where the growth moved
** it, with the length it had then. */
static int fmtSimple(inv_buf *b, const char *zFmt, va_list ap) {
  va_list ap2;
  const char *z;
  char *zOut;
  size_t need = 0, nOld, anArg[16];
  int nArg = 0;
  uintptr_t zOld;
  va_copy(ap2, ap);
  for (z = zFmt; *z; z++) {
    if (*z != '%') { need++; continue; }
    if (z[1] == 's') {
      const char *zArg = va_arg(ap2, const char *);
      if (nArg == sizeof anArg / sizeof anArg[0]) { va_end(ap2); return 0; }
      anArg[nArg] = zArg ? strlen(zArg) : 6;
      need += anArg[nArg++];
    } else if (z[1] == 'd') {
      (void)va_arg(ap2, int);
      need += 11;
    } else if (z[1] == '%') {
      need++;
    } else {
      va_end(ap2);
      return 0;
    }
    z++;
  }
  va_end(ap2);
  zOld = (uintptr_t)b->z;
  nOld = b->nAlloc;
  if (inv_buf_reserve(b, need)) return 1;
  zOut = b->z + b->n;
  nArg = 0;
  for (z = zFmt; *z; z++) {
    if (*z != '%') { *zOut++ = *z; continue; }
    z++;
    if (*z == 's') {
      const char *zArg = va_arg(ap, const char *);
      size_t n;
      if (!zArg) zArg = "(null)";
      else if (zOld && (uintptr_t)zArg >= zOld && (uintptr_t)zArg < zOld + nOld) {
        zArg = b->z + ((uintptr_t)zArg - zOld);       /* the buffer's own text, moved */
      }
      n = anArg[nArg++];        /* measured before: the text may be followed by ours now */
      memmove(zOut, zArg, n);
      zOut += n;
    } else if (*z == 'd') {
      char a[12];
      int v = va_arg(ap, int), k = (int)sizeof(a);
      unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
      do { a[--k] = (char)('0' + (int)(u % 10)); u /= 10; } while (u);
      if (v < 0) a[--k] = '-';
      memcpy(zOut, a + k, sizeof(a) - (size_t)k);
      zOut += sizeof(a) - (size_t)k;
    } else {
      *zOut++ = '%';
    }
  }
  b->n = (size_t)(zOut - b->z);
  b->z[b->n] = 0;
  return 1;
}

/* vsnprintf into the free space; a second pass after growing if it did not
** fit; plain %s / %d / %% formats through fmtSimple. */
void inv_buf_printf(inv_buf *b, const char *zFmt, ...) {
  va_list ap, ap2;
  size_t avail;
  int k;
  if (b->bOom) return;
  va_start(ap, zFmt);
  k = fmtSimple(b, zFmt, ap);
  va_end(ap);
  if (k) return;
  if (inv_buf_reserve(b, 0)) return;
  avail = b->nAlloc - b->n;
  va_start(ap, zFmt);
  va_copy(ap2, ap);
  k = vsnprintf(b->z + b->n, avail, zFmt, ap);
  va_end(ap);
  if (k < 0) {
    b->z[b->n] = 0;                 /* encoding error: append nothing */
  } else if ((size_t)k < avail) {
    b->n += (size_t)k;
  } else {
    b->z[b->n] = 0;                 /* drop the truncated first attempt */
    if (inv_buf_reserve(b, (size_t)k) == 0) {
      vsnprintf(b->z + b->n, (size_t)k + 1, zFmt, ap2);
      b->n += (size_t)k;
      b->z[b->n] = 0;
    }
  }
  va_end(ap2);
}
