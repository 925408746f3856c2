/*
** inv_reqcache.c: the compiled-request cache. A read whose compiled form
** (the SQL text, its bound values, how its rows are rendered) is known from
** an earlier request of the same shape skips the compilers.
**
** Exact, not a guess: the key is the whole request, every key and every
** value, except the values a compile site declared it binds verbatim (a
** "slot", inv_q_bind_slot: the SQL the compilers wrote does not depend on
** the value, only on its being a string). Everything else a compiler may
** decide on (page limit and start, operators, keys, keywords, times, lists,
** numbers, anything not a string) is compared byte for byte. A slot value
** must also pass what any compiler checks of an id before binding it (a
** string, not empty, no NUL byte, not "*"); one that does not misses, and
** the compilers answer it (with their error, or their other SQL). A compile
** that read the clock (timediff) is not kept.
**
** Slots are found by the address of their text: the compile's verbatim
** bind points at the request's own string. A bound address that more than
** one string of the request shares (Lua interns short strings) could be
** either: such a request is not kept.
**
** Bounded: INV_RC_SIZE entries per store, the least recently used replaced;
** emptied by inv_rc_clear (the store's close).
*/
#include <string.h>
#include "inv_int.h"

#define INV_RC_SIZE 64
/* the texts an entry may copy (keys, strings, bound text such as an in
** list's JSON): a larger request is compiled every time */
#define INV_RC_TEXT (32 << 10)

/* A token of a request's walk: containers, keys and leaves in order. */
enum { TK_NULL = INV_NULL, TK_BOOL = INV_BOOL, TK_INT = INV_INT, TK_REAL = INV_REAL,
       TK_STR = INV_STR, TK_ARR = INV_ARR, TK_OBJ = INV_OBJ, TK_KEY = INV_RC_KEY };

typedef struct RcEntry RcEntry;
struct RcEntry {
  size_t hash;               /* 0: empty */
  int iKind;                 /* resource, method and render flags (inv_rc_kind) */
  int nTok;
  inv_rc_tok *aTok;          /* owned texts (keys, non-slot strings) in the same block */
  int nBind;
  inv_bind *aBind;           /* constants; a slot's text comes from the request */
  int *aSlotTok;             /* per bind: the token it takes, or -1 */
  void *pPlan;               /* the method's (inv_malloc'd by it, freed here) */
  const char *zStatic;       /* the SQL in pPlan the plan prepares by address */
  unsigned lastUse;
};

struct inv_reqcache {
  RcEntry a[INV_RC_SIZE];
  unsigned clock;
  unsigned nHit, nMiss;
};

static void entryFree(inv_store *s, RcEntry *e) {
  /* the driver finds the statement by the text's address: not after this
  ** (another plan may be given the same address) */
  if (e->zStatic && s->pConn && s->pDrv && s->pDrv->iVersion >= 6 && s->pDrv->xForget) {
    s->pDrv->xForget(s, e->zStatic);
  }
  inv_free(e->aTok);               /* one block: tokens, texts, binds, slots */
  inv_free(e->pPlan);
  memset(e, 0, sizeof *e);
}

void inv_rc_clear(inv_store *s) {
  int i;
  if (!s->pReqCache) return;
  for (i = 0; i < INV_RC_SIZE; i++) if (s->pReqCache->a[i].hash) entryFree(s, &s->pReqCache->a[i]);
  inv_free(s->pReqCache);
  s->pReqCache = NULL;
}

static size_t mix(size_t h, size_t x) {
  h ^= x;
  h *= (size_t)1099511628211ULL;
  return h;
}

/* The walk: tokens into t->a. Returns 0, or 1 when the request is too
** large to keep. */
static int walk(inv_rc_req *t, const inv_val *v) {
  inv_rc_tok *k;
  size_t i;
  if (t->n >= INV_RC_TOKENS) return 1;
  k = &t->a[t->n++];
  k->t = v->t;
  k->bEmpty = v->bEmpty;
  k->bSlot = 0;
  switch (v->t) {
    case INV_BOOL: k->n = 0; k->u.i = v->u.b; break;
    case INV_INT: k->n = 0; k->u.i = v->u.i; break;
    case INV_REAL: k->n = 0; k->u.r = v->u.r; break;
    case INV_STR: k->n = v->u.s.n; k->u.z = v->u.s.z; break;
    case INV_ARR:
      k->n = v->u.arr.n;
      for (i = 0; i < v->u.arr.n; i++) if (walk(t, &v->u.arr.a[i])) return 1;
      break;
    case INV_OBJ:
      k->n = v->u.obj.n;
      for (i = 0; i < v->u.obj.n; i++) {
        const inv_kv *kv = &v->u.obj.a[i];
        inv_rc_tok *kk;
        if (t->n >= INV_RC_TOKENS) return 1;
        kk = &t->a[t->n++];
        kk->t = TK_KEY; kk->bEmpty = 0; kk->bSlot = 0;
        kk->n = kv->nKey; kk->u.z = kv->zKey;
        if (walk(t, &kv->v)) return 1;
      }
      break;
    default: k->n = 0; k->u.i = 0; break;
  }
  return 0;
}

/* The shape: containers and their sizes, keys (their length and ends: the
** tokens are compared whole), leaf types. */
void inv_rc_hash(inv_rc_req *t) {
  size_t h = (size_t)14695981039346656037ULL;
  int i;
  for (i = 0; i < t->n; i++) {
    const inv_rc_tok *k = &t->a[i];
    h = mix(h, (size_t)k->t * 2 + k->bEmpty);
    if (k->t == TK_ARR || k->t == TK_OBJ) h = mix(h, k->n);
    else if (k->t == TK_KEY) {
      h = mix(h, k->n << 16 | (k->n ? (size_t)(unsigned char)k->u.z[0] << 8
                                      | (unsigned char)k->u.z[k->n - 1] : 0));
    }
  }
  t->hash = h ? h : 1;
}

int inv_rc_walk(const inv_val *req, inv_rc_req *t) {
  t->n = 0;
  if (walk(t, req)) return 1;
  inv_rc_hash(t);
  return 0;
}

/* What a slot's value must be: see the header comment. */
static int slotOk(const char *z, size_t n) {
  size_t i;
  if (n == 0 || (n == 1 && z[0] == '*')) return 0;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)z[i];
    if (ch == 0) return 0;
    /* (a caller's tokens: the text is checked here, not by a conversion) */
    if (ch >= 0x80) return memchr(z, 0, n) == NULL && inv_utf8_valid(z, n);
  }
  return 1;
}

static int sameToks(const RcEntry *e, const inv_rc_req *t) {
  int i;
  if (e->nTok != t->n) return 0;
  for (i = 0; i < t->n; i++) {
    const inv_rc_tok *a = &e->aTok[i], *b = &t->a[i];
    if (a->t != b->t || a->bEmpty != b->bEmpty) return 0;
    switch (a->t) {
      case TK_BOOL: case TK_INT:
        if (a->u.i != b->u.i) return 0;
        break;
      case TK_REAL:
        if (memcmp(&a->u.r, &b->u.r, sizeof a->u.r) != 0) return 0;
        break;
      case TK_STR:
        if (a->bSlot) {
          if (!slotOk(b->u.z, b->n)) return 0;
          break;
        }
        /* fall through */
      case TK_KEY: {
        size_t j;
        if (a->n != b->n) return 0;
        if (a->u.z == b->u.z) break;
        if (a->n > 24) { if (memcmp(a->u.z, b->u.z, a->n) != 0) return 0; break; }
        for (j = 0; j < a->n; j++) if (a->u.z[j] != b->u.z[j]) return 0;
        break;
      }
      case TK_ARR: case TK_OBJ:
        if (a->n != b->n) return 0;
        break;
      default:
        break;
    }
  }
  return 1;
}

void *inv_rc_find(inv_store *s, int iKind, const inv_rc_req *t, inv_q *q) {
  inv_reqcache *c = s->pReqCache;
  int i, j;
  if (!c) return NULL;
  for (i = 0; i < INV_RC_SIZE; i++) {
    RcEntry *e = &c->a[i];
    if (e->hash != t->hash || e->iKind != iKind || !sameToks(e, t)) continue;
    /* the binds: the constants as they are, the slots from this request */
    if (e->nBind > q->nBindAlloc) {
      inv_bind *a = inv_arena_alloc(&s->arena, sizeof(inv_bind) * (size_t)e->nBind);
      if (!a) return NULL;
      q->aBind = a;
      q->nBindAlloc = e->nBind;
    }
    memcpy(q->aBind, e->aBind, sizeof(inv_bind) * (size_t)e->nBind);
    for (j = 0; j < e->nBind; j++) {
      if (e->aSlotTok[j] >= 0) {
        const inv_rc_tok *k = &t->a[e->aSlotTok[j]];
        q->aBind[j].z = k->u.z;
        q->aBind[j].n = k->n;
      }
    }
    q->nBind = e->nBind;
    e->lastUse = ++c->clock;
    c->nHit++;
    return e->pPlan;
  }
  c->nMiss++;
  return NULL;
}

int inv_rc_add(inv_store *s, int iKind, const inv_rc_req *t, const inv_q *q, void *pPlan,
               const char *zStatic) {
  inv_reqcache *c = s->pReqCache;
  RcEntry *e;
  size_t nText = 0, nSize, off;
  int i, j, iVictim = 0;
  int aSlot[INV_RC_TOKENS];
  int *aSlotTok;
  char *pBlock, *zText;
  inv_rc_tok *aTok;
  inv_bind *aBind;
  if (q->bNoCache || q->b->bOom) { inv_free(pPlan); return INV_OK; }
  /* each slot: the one string of the request at its address */
  for (i = 0; i < t->n; i++) aSlot[i] = 0;
  for (j = 0; j < q->nBind; j++) {
    const inv_bind *b = &q->aBind[j];
    int iTok = -1;
    if (!b->bSlot) continue;
    for (i = 0; i < t->n; i++) {
      if (t->a[i].t == TK_STR && t->a[i].u.z == b->z) {
        if (iTok >= 0 || t->a[i].n != b->n) { inv_free(pPlan); return INV_OK; }
        iTok = i;
      }
    }
    if (iTok < 0 || !slotOk(b->z, b->n)) { inv_free(pPlan); return INV_OK; }
    aSlot[iTok] = 1;
  }
  /* and no key shares a slot's address (a key is never a slot) */
  for (i = 0; i < t->n; i++) {
    if (t->a[i].t == TK_KEY) {
      for (j = 0; j < t->n; j++) {
        if (aSlot[j] && t->a[j].u.z == t->a[i].u.z) { inv_free(pPlan); return INV_OK; }
      }
    }
  }
  for (i = 0; i < t->n; i++) {
    if ((t->a[i].t == TK_STR && !aSlot[i]) || t->a[i].t == TK_KEY) nText += t->a[i].n + 1;
  }
  for (j = 0; j < q->nBind; j++) {
    if (q->aBind[j].t == INV_STR && !q->aBind[j].bSlot) nText += q->aBind[j].n + 1;
  }
  if (nText > INV_RC_TEXT) { inv_free(pPlan); return INV_OK; }
  if (!c) {
    c = inv_malloc(sizeof *c);
    if (!c) { inv_free(pPlan); return INV_OK; }   /* (a cache is an optimisation) */
    memset(c, 0, sizeof *c);
    s->pReqCache = c;
  }
  nSize = sizeof(inv_rc_tok) * (size_t)t->n + sizeof(inv_bind) * (size_t)q->nBind
          + sizeof(int) * (size_t)q->nBind + nText + 16;
  pBlock = inv_malloc(nSize);
  if (!pBlock) { inv_free(pPlan); return INV_OK; }
  aTok = (inv_rc_tok*)(void*)pBlock;
  off = sizeof(inv_rc_tok) * (size_t)t->n;
  aBind = (inv_bind*)(void*)(pBlock + off);
  off += sizeof(inv_bind) * (size_t)q->nBind;
  aSlotTok = (int*)(void*)(pBlock + off);
  off += sizeof(int) * (size_t)q->nBind;
  zText = pBlock + off;
  for (i = 0; i < t->n; i++) {
    aTok[i] = t->a[i];
    aTok[i].bSlot = (unsigned char)aSlot[i];
    if ((t->a[i].t == TK_STR && !aSlot[i]) || t->a[i].t == TK_KEY) {
      memcpy(zText, t->a[i].u.z, t->a[i].n);
      zText[t->a[i].n] = 0;
      aTok[i].u.z = zText;
      zText += t->a[i].n + 1;
    } else if (aSlot[i]) {
      aTok[i].u.z = NULL;
    }
  }
  for (j = 0; j < q->nBind; j++) {
    aBind[j] = q->aBind[j];
    aSlotTok[j] = -1;
    if (aBind[j].bSlot) {
      for (i = 0; i < t->n; i++) if (aSlot[i] && t->a[i].u.z == q->aBind[j].z) aSlotTok[j] = i;
      aBind[j].z = NULL;
    } else if (aBind[j].t == INV_STR) {
      memcpy(zText, q->aBind[j].z, q->aBind[j].n);
      zText[q->aBind[j].n] = 0;
      aBind[j].z = zText;
      zText += q->aBind[j].n + 1;
    }
  }
  /* the place: an empty one, else the least recently used */
  for (i = 0; i < INV_RC_SIZE; i++) {
    if (!c->a[i].hash) { iVictim = i; break; }
    if (c->a[i].lastUse < c->a[iVictim].lastUse) iVictim = i;
  }
  e = &c->a[iVictim];
  if (e->hash) entryFree(s, e);
  e->hash = t->hash;
  e->iKind = iKind;
  e->nTok = t->n;
  e->aTok = aTok;
  e->nBind = q->nBind;
  e->aBind = aBind;
  e->aSlotTok = aSlotTok;
  e->pPlan = pPlan;
  e->zStatic = zStatic;
  e->lastUse = ++c->clock;
  return INV_OK;
}

void inv_store_request_cache(inv_store *s, unsigned *pHit, unsigned *pMiss, int *pn) {
  int i, n = 0;
  *pHit = *pMiss = 0;
  if (s->pReqCache) {
    *pHit = s->pReqCache->nHit;
    *pMiss = s->pReqCache->nMiss;
    for (i = 0; i < INV_RC_SIZE; i++) n += s->pReqCache->a[i].hash != 0;
  }
  *pn = n;
}
