/*
** inv_mem.c: allocation wrappers (with a test-only failure hook) and the
** arena (bump allocator) that owns everything one request allocates.
*/
#include "inv_val.h"

#include <stdlib.h>
#include <string.h>

/* ===================== allocation wrappers ===================== */

/*
** Failure-injection countdown for tests. When > 0, every inv_malloc() or
** inv_realloc() call decrements it and the call that brings it to 0 fails
** (returns NULL); the hook is then disarmed. 0 means disabled.
**
** This is the only mutable global in the core. It is a test-only hook and
** NOT thread-safe: set it only from single-threaded test code.
*/
static long nMemFailCountdown = 0;

void inv_mem_fail_after(long n) {
  nMemFailCountdown = n > 0 ? n : 0;
}

/* 1 if the current allocation call must fail (injected failure). */
static int memInjectFail(void) {
  if (nMemFailCountdown > 0) {
    nMemFailCountdown--;
    if (nMemFailCountdown == 0) return 1;
  }
  return 0;
}

void *inv_malloc(size_t n) {
  if (memInjectFail()) return NULL;
  return malloc(n ? n : 1);
}

/* Like realloc(); on failure returns NULL and leaves p untouched. A size of
** 0 is treated as 1 so that NULL always means failure. */
void *inv_realloc(void *p, size_t n) {
  if (memInjectFail()) return NULL;
  return realloc(p, n ? n : 1);
}

void inv_free(void *p) {
  free(p);
}

/* ===================== arena ===================== */

struct inv_chunk {
  inv_chunk *pNext;        /* next (older) chunk */
  size_t nSize;            /* usable bytes after the header */
};

/* The header size rounded up to 8 so that chunk data is 8-aligned (malloc
** returns memory aligned for any type). */
#define ARENA_HDR   ((sizeof(inv_chunk) + 7) & ~(size_t)7)
#define ARENA_FIRST ((size_t)4096)      /* first chunk */
#define ARENA_MAX   ((size_t)65536)     /* chunks double up to this size */

static char *chunkData(inv_chunk *c) {
  return (char *)c + ARENA_HDR;
}

void inv_arena_init(inv_arena *a) {
  a->pHead = NULL;
  a->nUsed = 0;
  a->nTotal = 0;
}

/*
** Bump-allocate n bytes, 8-aligned. A new chunk is twice the size of the
** current one (4 KiB first, 64 KiB at most); a request larger than that
** gets a chunk of its own, linked behind the current chunk so the free
** space of the current chunk is not lost. NULL on out-of-memory; the arena
** stays usable and freeable.
*/
void *inv_arena_alloc(inv_arena *a, size_t n) {
  inv_chunk *c;
  size_t n8, sz;
  if (n == 0) n = 1;
  if (n > (size_t)-1 - 8 - ARENA_HDR) return NULL;
  n8 = (n + 7) & ~(size_t)7;
  if (a->pHead && a->pHead->nSize - a->nUsed >= n8) {
    char *p = chunkData(a->pHead) + a->nUsed;
    a->nUsed += n8;
    a->nTotal += n8;
    return p;
  }
  if (a->pHead == NULL) {
    sz = ARENA_FIRST;
  } else {
    sz = a->pHead->nSize < ARENA_MAX / 2 ? a->pHead->nSize * 2 : ARENA_MAX;
    if (sz < ARENA_FIRST) sz = ARENA_FIRST;
  }
  if (n8 > sz) {
    /* Oversized request: a dedicated chunk. */
    c = (inv_chunk *)inv_malloc(ARENA_HDR + n8);
    if (c == NULL) return NULL;
    c->nSize = n8;
    if (a->pHead) {
      c->pNext = a->pHead->pNext;
      a->pHead->pNext = c;
    } else {
      c->pNext = NULL;
      a->pHead = c;
      a->nUsed = n8;
    }
    a->nTotal += n8;
    return chunkData(c);
  }
  c = (inv_chunk *)inv_malloc(ARENA_HDR + sz);
  if (c == NULL) return NULL;
  c->nSize = sz;
  c->pNext = a->pHead;
  a->pHead = c;
  a->nUsed = n8;
  a->nTotal += n8;
  return chunkData(c);
}

/* Copy n bytes of z and add a NUL terminator. z may be NULL when n == 0. */
char *inv_arena_strdup(inv_arena *a, const char *z, size_t n) {
  char *p;
  if (n == (size_t)-1) return NULL;
  p = (char *)inv_arena_alloc(a, n + 1);
  if (p == NULL) return NULL;
  if (n) memcpy(p, z, n);
  p[n] = 0;
  return p;
}

/* Keep the newest chunk (the largest, at most 64 KiB) for the next call;
** free the others. */
void inv_arena_reset(inv_arena *a) {
  inv_chunk *c;
  if (!a->pHead) return;
  c = a->pHead->pNext;
  while (c) {
    inv_chunk *pNext = c->pNext;
    inv_free(c);
    c = pNext;
  }
  if (a->pHead->nSize > ARENA_MAX) { inv_free(a->pHead); a->pHead = NULL; }
  else a->pHead->pNext = NULL;
  a->nUsed = 0;
  a->nTotal = 0;
}

void inv_arena_free(inv_arena *a) {
  inv_chunk *c = a->pHead;
  while (c) {
    inv_chunk *pNext = c->pNext;
    inv_free(c);
    c = pNext;
  }
  inv_arena_init(a);
}
