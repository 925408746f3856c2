/*
** linventory.c: the Lua binding, module "inventory.core". The only C file
** that includes lua.h. It converts Lua tables to inv_val requests, calls the
** core, and pushes results through a sink that builds Lua tables.
**
** Memory: a request lives in the store's arena and every buffer of a call
** belongs to the store, so a Lua error raised while results are pushed (out
** of memory) loses nothing: the next call's inv_store_begin() resets it.
**
** Errors: runtime failures return nil, message, code; misuse (a closed
** store, a request that is not a table) raises.
*/
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <math.h>
#include "lcompat.h"
#include "inventory.h"

#if defined(__GNUC__)
# define INV_EXPORT __attribute__((visibility("default")))
#else
# define INV_EXPORT
#endif

#define STORE_MT "inventory.store"
#define MAX_DEPTH INV_JSON_MAX_DEPTH

typedef struct LStore LStore;
struct LStore { inv_store *p; };

static inv_store *checkStore(lua_State *L, int i) {
  LStore *u = luaL_checkudata(L, i, STORE_MT);
  if (!u->p) luaL_error(L, "attempt to use a closed store");
  return u->p;
}

/* ===================== Lua -> inv_val ===================== */

/* The last key order sorted at each of the first levels: the records of an
** import (or the tasks of a create) are tables with the same keys, which
** Lua hands out in the same order, so one sort serves them all. A key is
** known by its pointer: Lua interns short strings, and every key seen is
** alive (in the request) for the whole conversion, so an equal pointer is
** the same text. */
#define SORT_MEMO_DEPTH 4
#define SORT_MEMO_KEYS  32
typedef struct SortMemo SortMemo;
struct SortMemo {
  size_t n;                              /* 0: none */
  const char *az[SORT_MEMO_KEYS];        /* the keys in the order Lua gave them */
  unsigned char aFrom[SORT_MEMO_KEYS];   /* sorted position i holds given key aFrom[i] */
};

typedef struct Conv Conv;
struct Conv {
  lua_State *L;
  inv_store *s;
  inv_arena *a;
  const char *azKey[MAX_DEPTH + 1];   /* where we are (the keys down to here), for messages */
  size_t anKey[MAX_DEPTH + 1];
  int nKey;
  int nVal;                   /* values converted: a table shared N times counts N times */
  int bTwoPass;               /* a one-pass conversion fell back: two passes from here on */
  SortMemo aSort[SORT_MEMO_DEPTH];
};
/* A request holds at most this many values (a table referenced from many
** places would otherwise be converted again at each, exponentially). */
#define MAX_VALUES 1000000

/* The error of a conversion, naming where it is: the keys down to here
** joined by dots, each one that fits in 255 bytes (built on an error only). */
static int convFail(Conv *c, const char *zCode, const char *zReason) {
  char zPath[256];
  size_t nPath = 0;
  int i;
  zPath[0] = 0;
  for (i = 0; i < c->nKey; i++) {
    size_t n = c->anKey[i];
    if (nPath + n + 2 < sizeof zPath) {
      if (nPath) zPath[nPath++] = '.';
      memcpy(zPath + nPath, c->azKey[i], n);
      nPath += n;
      zPath[nPath] = 0;
    }
  }
  inv_store_set_error(c->s, zCode, "Parameter is invalid. (key = %s, reason = %s)",
                      zPath[0] ? zPath : "request", zReason);
  return -1;
}

static int keyCmp(const void *a, const void *b) {
  const inv_kv *x = a, *y = b;
  size_t n = x->nKey < y->nKey ? x->nKey : y->nKey;
  int r = memcmp(x->zKey, y->zKey, n);
  return r ? r : (x->nKey < y->nKey ? -1 : x->nKey > y->nKey);
}

/* Keys in byte order (what is stored and answered does not depend on
** Lua's hashing): an insertion sort for the few keys of a record. */
static void sortKeys(inv_kv *a, size_t n) {
  size_t i, j;
  if (n > 24) { qsort(a, n, sizeof(inv_kv), keyCmp); return; }
  for (i = 1; i < n; i++) {
    inv_kv x = a[i];
    for (j = i; j > 0 && keyCmp(&a[j - 1], &x) > 0; j--) a[j] = a[j - 1];
    a[j] = x;
  }
}

/* sortKeys, remembering the permutation for the next table whose keys come
** in the same order (SortMemo). */
static void sortKeysMemo(Conv *c, int depth, inv_kv *a, size_t n) {
  SortMemo *m;
  inv_kv aTmp[SORT_MEMO_KEYS];
  size_t i, j;
  if (depth >= SORT_MEMO_DEPTH || n < 2 || n > SORT_MEMO_KEYS) { sortKeys(a, n); return; }
  m = &c->aSort[depth];
  memcpy(aTmp, a, n * sizeof *a);
  if (m->n == n) {
    for (i = 0; i < n && a[i].zKey == m->az[i]; i++) {}
    if (i == n) {
      for (i = 0; i < n; i++) a[i] = aTmp[m->aFrom[i]];
      return;
    }
  }
  /* an insertion sort of positions (as sortKeys sorts the keys) */
  for (i = 0; i < n; i++) {
    unsigned char x = (unsigned char)i;
    m->az[i] = a[i].zKey;
    for (j = i; j > 0 && keyCmp(&aTmp[m->aFrom[j - 1]], &aTmp[x]) > 0; j--) m->aFrom[j] = m->aFrom[j - 1];
    m->aFrom[j] = x;
  }
  m->n = n;
  for (i = 0; i < n; i++) a[i] = aTmp[m->aFrom[i]];
}

static int toVal(Conv *c, int idx, inv_val *out, int depth);

/* A key: valid UTF-8 without a NUL byte; a value: valid UTF-8. ASCII (the
** common case) in one pass. */
static int keyOk(const char *z, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)z[i];
    if (ch == 0 || ch >= 0x80) return inv_utf8_valid(z, n) && !memchr(z, 0, n);
  }
  return 1;
}
static int textOk(const char *z, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) if ((unsigned char)z[i] >= 0x80) return inv_utf8_valid(z, n);
  return 1;
}

/* A light userdata that inventory.mark_empty_array registered. */
static char emptyArrayKey;
static int isEmptyArrayMark(lua_State *L, int idx) {
  int b;
  lua_pushlightuserdata(L, &emptyArrayKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  b = lua_touserdata(L, -1) != NULL && lua_touserdata(L, -1) == lua_touserdata(L, idx);
  lua_pop(L, 1);
  return b;
}

/* Which an empty table is: 'a' for a list, when its metatable is
** inventory.array_mt or one marked __jsontype = "array" (dkjson's mark;
** lua-cjson's array_mt and empty_array_mt where it has them, see init.lua),
** 'o' for __jsontype = "object", else 0 (either). */
static int emptyKind(lua_State *L, int idx) {
  int eKind = 0;
  if (!lua_getmetatable(L, idx)) return 0;
  lua_pushliteral(L, "__jsontype");
  lua_rawget(L, -2);
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *z = lua_tostring(L, -1);
    eKind = strcmp(z, "array") == 0 ? 'a' : strcmp(z, "object") == 0 ? 'o' : 0;
  }
  lua_pop(L, 2);
  return eKind;
}

/* One pass over a table of the first ONE_PASS_DEPTH levels (a request, its
** query, its stages and conditions, a record: where most values are), in
** the common shapes: every key a string, or the positions 1, 2, 3, ... in
** that order. Anything else, an error in a value included, undoes what it
** did and returns 1: the two passes of toTable then decide, with their
** messages in their order. The first fallback turns one-pass off for the
** rest of the conversion (c->bTwoPass), so falling back repeats the work
** once at most, not once per level. */
#define ONE_PASS_DEPTH 12
#define ONE_PASS_STACK 32
static int toTableOnePass(Conv *c, int idx, inv_val *out, int depth) {
  lua_State *L = c->L;
  int nVal0 = c->nVal, nKey0 = c->nKey;
  union { inv_kv kv[ONE_PASS_STACK]; inv_val v[ONE_PASS_STACK]; } stk;
  inv_kv *aKv = stk.kv;
  inv_val *aV = stk.v;
  size_t n = 0, nCap = ONE_PASS_STACK;
  int eMode = 0;                          /* 's' object, 'i' list */
  /* the keys of the last table sorted at this depth, in Lua's order: a key
  ** at the same position and address is that (checked) text again */
  const SortMemo *pM = depth < SORT_MEMO_DEPTH ? &c->aSort[depth] : NULL;
  if (!lua_checkstack(L, 4)) return 1;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int rc, kt = lua_type(L, -2);
    if (!eMode) eMode = kt == LUA_TSTRING ? 's' : 'i';
    if (n == nCap) {                      /* off the stack: the arena, doubling */
      size_t nSz = eMode == 's' ? sizeof(inv_kv) : sizeof(inv_val);
      void *pNew = inv_arena_alloc(c->a, nSz * nCap * 2);
      if (!pNew) goto fallback;
      memcpy(pNew, eMode == 's' ? (void*)aKv : (void*)aV, nSz * n);
      if (eMode == 's') aKv = pNew; else aV = pNew;
      nCap *= 2;
    }
    if (eMode == 's') {
      size_t nk;
      const char *z;
      if (kt != LUA_TSTRING) goto fallback;
      z = lua_tolstring(L, -2, &nk);
      if (!(pM && n < pM->n && pM->az[n] == z) && !keyOk(z, nk)) goto fallback;
      aKv[n].zKey = z;
      aKv[n].nKey = nk;
      c->azKey[c->nKey] = z;
      c->anKey[c->nKey++] = nk;
      rc = toVal(c, lua_gettop(L), &aKv[n].v, depth + 1);
      c->nKey--;
    } else {
      if (kt != LUA_TNUMBER || !inv_lua_isinteger(L, -2)
          || lua_tonumber(L, -2) != (lua_Number)(n + 1)) goto fallback;
      rc = toVal(c, lua_gettop(L), &aV[n], depth + 1);
    }
    if (rc) goto fallback;
    lua_pop(L, 1);
    n++;
  }
  if (n == 0) return 1;                   /* {}: toTable tells [] from {} */
  memset(out, 0, sizeof *out);
  if (eMode == 's') {
    if (aKv == stk.kv) {
      aKv = inv_arena_alloc(c->a, sizeof(inv_kv) * n);
      if (!aKv) return 1;
      memcpy(aKv, stk.kv, sizeof(inv_kv) * n);
    }
    sortKeysMemo(c, depth, aKv, n);
    out->t = INV_OBJ;
    out->u.obj.a = aKv;
    out->u.obj.n = n;
  } else {
    if (aV == stk.v) {
      aV = inv_arena_alloc(c->a, sizeof(inv_val) * n);
      if (!aV) return 1;
      memcpy(aV, stk.v, sizeof(inv_val) * n);
    }
    out->t = INV_ARR;
    out->u.arr.a = aV;
    out->u.arr.n = n;
  }
  return 0;
fallback:
  lua_pop(L, 2);                          /* the key and its value */
  c->nVal = nVal0;
  c->nKey = nKey0;
  c->bTwoPass = 1;
  return 1;
}

static int toTable(Conv *c, int idx, inv_val *out, int depth) {
  lua_State *L = c->L;
  size_t nStr = 0, nInt = 0, nMax = 0, i;
  if (depth < ONE_PASS_DEPTH && !c->bTwoPass && toTableOnePass(c, idx, out, depth) == 0) return 0;
  if (depth >= MAX_DEPTH) return convFail(c, "ERROR_INVALID_PARAMETER", "nesting deeper than 64 levels.");
  if (!lua_checkstack(L, 4)) return convFail(c, "ERROR_INVALID_PARAMETER", "nesting too deep.");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int kt = lua_type(L, -2);
    if (kt == LUA_TSTRING) nStr++;
    else if (kt == LUA_TNUMBER && inv_lua_isinteger(L, -2) && lua_tonumber(L, -2) >= 1) {
      lua_Number n = lua_tonumber(L, -2);
      nInt++;
      if (n > (lua_Number)nMax) nMax = (size_t)n;
    } else {
      char zR[160];
      if (kt == LUA_TNUMBER) {
        snprintf(zR, sizeof zR, "a table has the key %.14g; keys are strings, or list positions "
                 "1, 2, 3, ...", (double)lua_tonumber(L, -2));
      } else {
        snprintf(zR, sizeof zR, "a table has a %s as a key; keys are strings, or list positions "
                 "1, 2, 3, ...", lua_typename(L, kt));
      }
      lua_pop(L, 2);
      return convFail(c, "ERROR_INVALID_PARAMETER_TYPE", zR);
    }
    lua_pop(L, 1);
  }
  memset(out, 0, sizeof *out);
  if (nStr == 0 && nInt == 0) {            /* {}: usable as [] or {} */
    int eKind = emptyKind(L, idx);
    out->t = eKind == 'o' ? INV_OBJ : INV_ARR;
    out->bEmpty = eKind == 0;
    return 0;
  }
  if (nStr && nInt) {
    return convFail(c, "ERROR_INVALID_PARAMETER", "a table has both list positions and named keys; "
                    "use a list or an object, not both.");
  }
  if (nInt) {
    inv_val *a;
    if (nMax != nInt) {
      char zR[128];
      for (i = 1; i <= nMax; i++) {
        int bNil;
        lua_rawgeti(L, idx, (int)i);
        bNil = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (bNil) break;
      }
      snprintf(zR, sizeof zR, "a list has a hole: position %zu is nil, and %zu is not.", i, nMax);
      return convFail(c, "ERROR_INVALID_PARAMETER", zR);
    }
    a = inv_arena_alloc(c->a, sizeof(inv_val) * nInt);
    if (!a) return convFail(c, "ERROR_UNKNOWN", "out of memory.");
    for (i = 0; i < nInt; i++) {
      int rc;
      lua_rawgeti(L, idx, (int)(i + 1));
      rc = toVal(c, lua_gettop(L), &a[i], depth + 1);
      lua_pop(L, 1);
      if (rc) return rc;
    }
    out->t = INV_ARR;
    out->u.arr.a = a;
    out->u.arr.n = nInt;
    return 0;
  }
  {
    inv_kv *a = inv_arena_alloc(c->a, sizeof(inv_kv) * nStr);
    size_t k = 0;
    if (!a) return convFail(c, "ERROR_UNKNOWN", "out of memory.");
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      size_t n;
      const char *z = lua_tolstring(L, -2, &n);
      int rc;
      if (!inv_utf8_valid(z, n) || memchr(z, 0, n)) {
        lua_pop(L, 2);
        return convFail(c, "ERROR_INVALID_PARAMETER", "a key is not valid UTF-8 text.");
      }
      /* the key's text stays Lua's: the request table is on the stack
      ** for the whole call, and Lua strings end with a NUL */
      a[k].zKey = z;
      a[k].nKey = n;
      c->azKey[c->nKey] = z;
      c->anKey[c->nKey++] = n;
      rc = toVal(c, lua_gettop(L), &a[k].v, depth + 1);
      c->nKey--;
      if (rc) { lua_pop(L, 2); return rc; }
      lua_pop(L, 1);
      k++;
    }
    /* deterministic order: what we store does not depend on hashing */
    sortKeysMemo(c, depth, a, nStr);
    out->t = INV_OBJ;
    out->u.obj.a = a;
    out->u.obj.n = nStr;
    return 0;
  }
}

static int toVal(Conv *c, int idx, inv_val *out, int depth) {
  lua_State *L = c->L;
  memset(out, 0, sizeof *out);
  if (++c->nVal > MAX_VALUES) return convFail(c, "ERROR_INVALID_PARAMETER", "more than 1,000,000 values.");
  switch (lua_type(L, idx)) {
    case LUA_TNIL: out->t = INV_NULL; return 0;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == NULL) { out->t = INV_NULL; return 0; }   /* cjson.null */
      if (isEmptyArrayMark(L, idx)) { out->t = INV_ARR; return 0; }         /* cjson.empty_array */
      return convFail(c, "ERROR_INVALID_PARAMETER_TYPE", "a light userdata other than cjson.null "
                      "is not a JSON value.");
    case LUA_TBOOLEAN: out->t = INV_BOOL; out->u.b = lua_toboolean(L, idx); return 0;
    case LUA_TNUMBER: {
      lua_Number n = lua_tonumber(L, idx);
#if LUA_VERSION_NUM >= 503
      if (lua_isinteger(L, idx)) { out->t = INV_INT; out->u.i = (int64_t)lua_tointeger(L, idx); return 0; }
#endif
      if (isnan(n) || isinf(n)) {
        return convFail(c, "ERROR_INVALID_PARAMETER", isnan(n) ? "NaN is not a JSON number."
                        : n > 0 ? "infinity is not a JSON number." : "-infinity is not a JSON number.");
      }
      if (n == floor(n) && n >= -9223372036854775808.0 && n < 9223372036854775808.0) {
        out->t = INV_INT; out->u.i = (int64_t)n;
      } else {
        out->t = INV_REAL; out->u.r = n;
      }
      return 0;
    }
    case LUA_TSTRING: {
      size_t n;
      const char *z = lua_tolstring(L, idx, &n);
      if (!textOk(z, n)) return convFail(c, "ERROR_INVALID_PARAMETER", "a string is not valid UTF-8.");
      out->t = INV_STR;
      out->u.s.z = z;                /* Lua's text (see the keys) */
      out->u.s.n = n;
      return 0;
    }
    case LUA_TTABLE: return toTable(c, inv_lua_absindex(L, idx), out, depth);
    default: {
      char zR[96];
      snprintf(zR, sizeof zR, "a %s is not a JSON value.", lua_typename(L, lua_type(L, idx)));
      return convFail(c, "ERROR_INVALID_PARAMETER_TYPE", zR);
    }
  }
}

/* ===================== the request's tokens ===================== */

/* The tokens of the request table at idx, as toVal would convert it (equal
** tokens: an equal request), keys in the order Lua gives them: the key of
** the compiled-request cache, made without converting the request. 1: a
** table the cache does not take (toVal decides what it is). */
#define TOK_DEPTH 24
static int tokWalk(lua_State *L, int idx, inv_rc_req *t, int depth) {
  inv_rc_tok *k;
  int iTok;
  if (t->n >= INV_RC_TOKENS || depth > TOK_DEPTH) return 1;
  iTok = t->n++;
  k = &t->a[iTok];
  k->bEmpty = 0; k->bSlot = 0; k->n = 0; k->u.i = 0;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: k->t = INV_NULL; return 0;
    case LUA_TBOOLEAN: k->t = INV_BOOL; k->u.i = lua_toboolean(L, idx); return 0;
    case LUA_TNUMBER: {
      lua_Number n;
#if LUA_VERSION_NUM >= 503
      if (lua_isinteger(L, idx)) { k->t = INV_INT; k->u.i = (int64_t)lua_tointeger(L, idx); return 0; }
#endif
      n = lua_tonumber(L, idx);
      if (isnan(n) || isinf(n)) return 1;
      if (n == floor(n) && n >= -9223372036854775808.0 && n < 9223372036854775808.0) {
        k->t = INV_INT; k->u.i = (int64_t)n;
      } else {
        k->t = INV_REAL; k->u.r = n;
      }
      return 0;
    }
    case LUA_TSTRING: {
      size_t n;
      k->t = INV_STR;
      k->u.z = lua_tolstring(L, idx, &n);
      k->n = n;
      return 0;
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == NULL) { k->t = INV_NULL; return 0; }
      if (isEmptyArrayMark(L, idx)) { k->t = INV_ARR; return 0; }
      return 1;
    case LUA_TTABLE: {
      size_t nItem = 0;
      int eMode = 0;
      idx = inv_lua_absindex(L, idx);
      if (!lua_checkstack(L, 4)) return 1;
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        int kt = lua_type(L, -2);
        if (!eMode) eMode = kt == LUA_TSTRING ? 's' : 'i';
        if (eMode == 's') {
          inv_rc_tok *kk;
          size_t nk;
          if (kt != LUA_TSTRING || t->n >= INV_RC_TOKENS) { lua_pop(L, 2); return 1; }
          kk = &t->a[t->n++];
          kk->t = INV_RC_KEY; kk->bEmpty = 0; kk->bSlot = 0;
          kk->u.z = lua_tolstring(L, -2, &nk);
          kk->n = nk;
        } else if (kt != LUA_TNUMBER || !inv_lua_isinteger(L, -2)
                   || lua_tonumber(L, -2) != (lua_Number)(nItem + 1)) {
          lua_pop(L, 2);
          return 1;
        }
        if (tokWalk(L, lua_gettop(L), t, depth + 1)) { lua_pop(L, 2); return 1; }
        lua_pop(L, 1);
        nItem++;
      }
      k = &t->a[iTok];
      k->n = nItem;
      if (nItem == 0) {                    /* {}: as toVal tells [] from {} */
        int eKind = emptyKind(L, idx);
        k->t = eKind == 'o' ? INV_OBJ : INV_ARR;
        k->bEmpty = eKind == 0;
      } else {
        k->t = eMode == 's' ? INV_OBJ : INV_ARR;
      }
      return 0;
    }
    default:
      return 1;
  }
}

/* ===================== inv_sink -> Lua ===================== */

#define SINK_DEPTH 200

typedef struct LSink LSink;
struct LSink {
  inv_sink base;
  lua_State *L;
  int n;                       /* open containers */
  int aNext[SINK_DEPTH];       /* next array index; an object: 0 empty, -1 not */
  int bAny;                    /* a value was pushed at the top level */
  int bKeepNull;               /* an object's null is kept (inventory.null), not dropped */
  int iKeyCache;               /* stack index: {[id] = interned field name} */
};

/* A value is on the stack top: store it into the open container. */
static void lsPlace(LSink *k) {
  lua_State *L = k->L;
  if (k->n == 0) { k->bAny = 1; return; }
  if (k->aNext[k->n - 1] > 0) lua_rawseti(L, -2, k->aNext[k->n - 1]++);
  else {
    lua_rawset(L, -3);          /* table, key, value */
    k->aNext[k->n - 1] = -1;
  }
}
static void lsOpen(LSink *k, int bArr, int nHint) {
  lua_State *L = k->L;
  if (k->n >= SINK_DEPTH || !lua_checkstack(L, 8)) luaL_error(L, "result nested too deeply");
  if (nHint < 0) nHint = 4;      /* unknown size (decoded JSON): room for a small object */
  if (bArr) lua_createtable(L, nHint, 0);
  else lua_createtable(L, 0, nHint);
  k->aNext[k->n++] = bArr ? 1 : 0;
}
static void lsBeginObj(inv_sink *s, int n) { lsOpen((LSink*)s, 0, n); }
static void lsBeginArr(inv_sink *s, int n) { lsOpen((LSink*)s, 1, n); }
static void lsEnd(inv_sink *s) { LSink *k = (LSink*)s; k->n--; lsPlace(k); }
/* An empty list gets core.array_mt, an empty object core.object_mt, so
** that each goes back to the store as it came (an unmarked {} is either). */
static char arrayMtKey, objectMtKey;
static void lsMark(lua_State *L, char *pKey) {
  lua_pushlightuserdata(L, pKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_setmetatable(L, -2);
}
static void lsEndArr(inv_sink *s) {
  LSink *k = (LSink*)s;
  if (k->aNext[k->n - 1] == 1) lsMark(k->L, &arrayMtKey);
  lsEnd(s);
}
static void lsEndObj(inv_sink *s) {
  LSink *k = (LSink*)s;
  if (k->aNext[k->n - 1] == 0) lsMark(k->L, &objectMtKey);
  lsEnd(s);
}
static void lsKey(inv_sink *s, const char *z, size_t n) { lua_pushlstring(((LSink*)s)->L, z, n); }
/* a schema field name: interned once, then an array lookup */
static void lsKeyId(inv_sink *s, int id, const char *z, size_t n) {
  LSink *k = (LSink*)s;
  lua_State *L = k->L;
  lua_rawgeti(L, k->iKeyCache, id);
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushlstring(L, z, n);
    lua_pushvalue(L, -1);
    lua_rawseti(L, k->iKeyCache, id);
  }
}
static char keyCacheKey;
static void lsNull(inv_sink *s) {
  LSink *k = (LSink*)s;
  if (k->n && k->aNext[k->n - 1] <= 0 && !k->bKeepNull) { lua_pop(k->L, 1); return; }   /* drop the key */
  lua_pushlightuserdata(k->L, NULL);                                   /* null */
  lsPlace(k);
}
static void lsBool(inv_sink *s, int b) { lua_pushboolean(((LSink*)s)->L, b); lsPlace((LSink*)s); }
static void lsInt(inv_sink *s, int64_t i) { inv_lua_pushint64(((LSink*)s)->L, (long long)i); lsPlace((LSink*)s); }
static void lsReal(inv_sink *s, double r) { lua_pushnumber(((LSink*)s)->L, r); lsPlace((LSink*)s); }
static void lsStr(inv_sink *s, const char *z, size_t n) { lua_pushlstring(((LSink*)s)->L, z, n); lsPlace((LSink*)s); }

static void lsInit(LSink *k, lua_State *L) {
  memset(k, 0, sizeof *k);
  k->L = L;
  k->base.xBeginObj = lsBeginObj; k->base.xEndObj = lsEndObj;
  k->base.xBeginArr = lsBeginArr; k->base.xEndArr = lsEndArr;
  k->base.xKey = lsKey; k->base.xNull = lsNull; k->base.xBool = lsBool;
  k->base.xInt = lsInt; k->base.xReal = lsReal; k->base.xStr = lsStr;
  k->base.xJson = NULL;
}

/* ===================== store ===================== */

static int pushError(lua_State *L, inv_store *s, int base) {
  lua_settop(L, base);
  lua_pushnil(L);
  lua_pushstring(L, inv_store_errmsg(s));
  lua_pushstring(L, inv_store_errcode(s));
  lua_pushstring(L, inv_store_errclass(s));
  return 4;
}

/* core.open{path=, busy_timeout=, page_limit=, readonly=, statement_timeout=,
** stat_timeout=, journal_seconds=, url=, schema=, driver=, connect_timeout=}
** -> store | nil, msg, code, class */
static int lOpen(lua_State *L) {
  inv_options o = INV_OPTIONS_INIT;
  inv_store *s;
  LStore *u;
  char zErr[512];
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "path");
    if (!lua_isnil(L, -1)) o.zPath = luaL_checkstring(L, -1);
    lua_getfield(L, 1, "busy_timeout");
    if (!lua_isnil(L, -1)) o.nBusyMs = (int)luaL_checkinteger(L, -1);
    lua_getfield(L, 1, "page_limit");
    if (!lua_isnil(L, -1)) o.nPageLimit = (int)luaL_checkinteger(L, -1);
    lua_getfield(L, 1, "readonly");
    o.bReadOnly = lua_toboolean(L, -1);
    lua_getfield(L, 1, "statement_timeout");
    if (!lua_isnil(L, -1)) o.nTimeoutMs = (int)luaL_checkinteger(L, -1);
    lua_getfield(L, 1, "stat_timeout");
    if (!lua_isnil(L, -1)) o.nStatTimeoutMs = (int)luaL_checkinteger(L, -1);
    lua_getfield(L, 1, "journal_seconds");
    if (!lua_isnil(L, -1)) o.nJournalSec = (int)luaL_checkinteger(L, -1);
    lua_getfield(L, 1, "url");
    if (!lua_isnil(L, -1)) o.zUrl = luaL_checkstring(L, -1);
    lua_getfield(L, 1, "schema");
    if (!lua_isnil(L, -1)) o.zSchema = luaL_checkstring(L, -1);
    lua_getfield(L, 1, "driver");          /* inventory.pg's driver */
    if (!lua_isnil(L, -1)) {
      luaL_checktype(L, -1, LUA_TLIGHTUSERDATA);
      o.pDriver = (const struct inv_driver *)lua_touserdata(L, -1);
    }
    lua_getfield(L, 1, "connect_timeout");
    if (!lua_isnil(L, -1)) o.nConnectTimeoutMs = (int)luaL_checkinteger(L, -1);
    lua_pop(L, 11);
  }
  u = inv_lua_newudata(L, sizeof *u);          /* anchor before opening */
  u->p = NULL;
  luaL_getmetatable(L, STORE_MT);
  lua_setmetatable(L, -2);
  if (inv_store_open(&o, &s, zErr, sizeof zErr)) {
    lua_pushnil(L);
    lua_pushstring(L, zErr);
    lua_pushstring(L, "ERROR_DB_QUERY");
    /* a server that cannot be reached is transient; a file that cannot be
    ** opened is the store's (init.lua checks the options first) */
    lua_pushstring(L, o.zUrl ? "unavailable" : "server");
    return 4;
  }
  u->p = s;
  return 1;
}

/* Start a call on the store: the request table at index 4 becomes *pReq in
** the store's arena. Returns 0, or -1 with the error set on the store. */
static int beginCall(lua_State *L, inv_store *s, inv_val *pReq) {
  Conv c;
  luaL_checktype(L, 4, LUA_TTABLE);
  inv_store_begin(s);
  memset(&c, 0, sizeof c);
  c.L = L; c.s = s; c.a = inv_store_arena(s);
  if (toVal(&c, 4, pReq, 0)) return -1;
  if (pReq->bEmpty) { pReq->t = INV_OBJ; pReq->bEmpty = 0; pReq->u.obj.n = 0; pReq->u.obj.a = NULL; }
  return 0;
}

/* The Lua sink of a call's result or a store report: it interns field names
** (its key cache on the stack). */
static void lsBegin(LSink *k, lua_State *L) {
  lsInit(k, L);
  lua_pushlightuserdata(L, &keyCacheKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_createtable(L, 192, 0);
    lua_pushlightuserdata(L, &keyCacheKey);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
  }
  k->iKeyCache = lua_gettop(L);
  k->base.xKeyId = lsKeyId;
}

/* The JSON text a call wrote into the store's buffer. */
static int pushJson(lua_State *L, inv_store *s, int base) {
  inv_buf *b = inv_store_buffer(s);
  if (b->bOom) {
    inv_store_set_error(s, "ERROR_UNKNOWN", "Out of memory.");
    return pushError(L, s, base);
  }
  if (b->n == 0) lua_pushliteral(L, "{}");
  else lua_pushlstring(L, b->z, b->n);
  return 1;
}

/* store:call(resource, method, request [, json]) -> result | nil, msg, code
** json = true renders for REST and returns the JSON text. */
static int lCall(lua_State *L) {
  inv_store *s = checkStore(L, 1);
  const char *zRes = luaL_checkstring(L, 2);
  const char *zMethod = luaL_checkstring(L, 3);
  int bJson = lua_toboolean(L, 5);
  int base;
  inv_val req;
  inv_rc_req t, *pt = NULL;
  lua_settop(L, 5);
  base = lua_gettop(L);
  if (strcmp(zMethod, "stat") == 0 && lua_istable(L, 4)) {
    /* the compiled-request cache knows the request by its tokens: a hit
    ** answers without converting it (a miss: converted, compiled, kept
    ** under these tokens) */
    t.n = 0;
    if (tokWalk(L, 4, &t, 0) == 0) {
      int rc;
      pt = &t;
      inv_store_begin(s);
      req.t = INV_OBJ; req.bEmpty = 0; req.u.obj.a = NULL; req.u.obj.n = 0;
      if (bJson) {
        inv_json_sink js;
        inv_json_sink_init(&js, inv_store_buffer(s));
        rc = inv_call_keyed(s, zRes, zMethod, &req, pt, 1, &js.base, 1);
        if (rc == INV_OK) return pushJson(L, s, base);
      } else {
        LSink k;
        lsBegin(&k, L);
        rc = inv_call_keyed(s, zRes, zMethod, &req, pt, 1, &k.base, 0);
        if (rc == INV_OK) return 1;
      }
      if (rc != INV_MISS) return pushError(L, s, base);
      lua_settop(L, base);
    }
  }
  if (beginCall(L, s, &req)) return pushError(L, s, base);
  if (bJson) {
    inv_buf *b = inv_store_buffer(s);      /* owned by the store: a raise loses nothing */
    inv_json_sink js;
    inv_json_sink_init(&js, b);
    if ((pt ? inv_call_keyed(s, zRes, zMethod, &req, pt, 0, &js.base, 1)
            : inv_call(s, zRes, zMethod, &req, &js.base, 1)) != INV_OK) return pushError(L, s, base);
    return pushJson(L, s, base);
  } else {
    LSink k;
    lsBegin(&k, L);
    if ((pt ? inv_call_keyed(s, zRes, zMethod, &req, pt, 0, &k.base, 0)
            : inv_call(s, zRes, zMethod, &req, &k.base, 0)) != INV_OK) return pushError(L, s, base);
    if (!k.bAny) lua_pushboolean(L, 1);       /* methods without a result */
    return 1;
  }
}

/* store:cached_call(seen_dv, seen_own, resource, method, request)
** -> dv, own, json | dv, own, false (the store's version is (seen_dv,
** seen_own): a cached answer still holds) | nil, nil, nil, msg, code, class.
** A read rendered for REST, with the version it was read at (in the same
** snapshot on SQLite): what inventory.rest caches. */
static int lCachedCall(lua_State *L) {
  inv_store *s = checkStore(L, 1);
  int bSeen = !lua_isnoneornil(L, 2) && lua_toboolean(L, 2);
  int64_t seenData = bSeen ? (int64_t)luaL_checkinteger(L, 2) : 0;
  int64_t seenOwn = bSeen ? (int64_t)luaL_checkinteger(L, 3) : 0;
  const char *zRes = luaL_checkstring(L, 4);
  const char *zMethod = luaL_checkstring(L, 5);
  int64_t d = 0, o = 0;
  int bSame = 0, base;
  inv_val req;
  inv_buf *b;
  inv_json_sink js;
  lua_settop(L, 6);
  lua_remove(L, 2);                       /* the request to index 4, as beginCall reads it */
  lua_remove(L, 2);
  base = lua_gettop(L);
  luaL_checktype(L, 4, LUA_TTABLE);
  if (bSeen) {                            /* a hit costs the version only, not the request's */
    inv_store_begin(s);                   /* conversion */
    if (inv_store_version(s, &d, &o) != INV_OK) goto fail;
    if (d == seenData && o == seenOwn) {
      inv_lua_pushint64(L, (long long)d);
      inv_lua_pushint64(L, (long long)o);
      lua_pushboolean(L, 0);
      return 3;
    }
  }
  if (beginCall(L, s, &req)) goto fail;
  b = inv_store_buffer(s);
  inv_json_sink_init(&js, b);
  if (inv_call_versioned(s, bSeen, seenData, seenOwn, zRes, zMethod, &req, &js.base, 1,
                         &d, &o, &bSame) != INV_OK) goto fail;
  if (b->bOom) {
    inv_store_set_error(s, "ERROR_UNKNOWN", "Out of memory.");
    goto fail;
  }
  inv_lua_pushint64(L, (long long)d);
  inv_lua_pushint64(L, (long long)o);
  if (bSame) lua_pushboolean(L, 0);
  else if (b->n == 0) lua_pushliteral(L, "{}");
  else lua_pushlstring(L, b->z, b->n);
  return 3;
fail:
  lua_settop(L, base);
  lua_pushnil(L);
  lua_pushnil(L);
  lua_pushnil(L);
  lua_pushstring(L, inv_store_errmsg(s));
  lua_pushstring(L, inv_store_errcode(s));
  lua_pushstring(L, inv_store_errclass(s));
  return 6;
}

static int lClose(lua_State *L) {
  LStore *u = luaL_checkudata(L, 1, STORE_MT);
  if (u->p) { inv_store_close(u->p); u->p = NULL; }
  lua_pushboolean(L, 1);
  return 1;
}

/* store:set_now(iso | ms | nil): freeze the clock (tests). */
static int lSetNow(lua_State *L) {
  inv_store *s = checkStore(L, 1);
  int64_t ms = 0;
  if (lua_type(L, 2) == LUA_TSTRING) {
    size_t n;
    const char *z = lua_tolstring(L, 2, &n);
    if (inv_time_parse_strict(z, n, &ms)) return luaL_argerror(L, 2, "ISO 8601 datetime expected");
  } else if (!lua_isnoneornil(L, 2)) {
    lua_Number x = luaL_checknumber(L, 2);
    /* years 1..9999, as every datetime the store parses (NaN fails too) */
    if (!(x >= -62135596800000.0 && x <= 253402300799999.0)) {
      return luaL_argerror(L, 2, "milliseconds within the years 1 to 9999 expected");
    }
    ms = (int64_t)x;
  }
  inv_store_set_now(s, ms);
  return 0;
}

/* store:version() -> data_version, own_changes (see inv_store_version) */
static int lVersion(lua_State *L) {
  inv_store *s = checkStore(L, 1);
  int64_t d, o;
  inv_store_begin(s);
  if (inv_store_version(s, &d, &o) != INV_OK) return pushError(L, s, lua_gettop(L));
  inv_lua_pushint64(L, (long long)d);
  inv_lua_pushint64(L, (long long)o);
  return 2;
}

/* store:request_cache() -> { hits = n, misses = n, entries = n } */
static int lRequestCache(lua_State *L) {
  unsigned nHit, nMiss;
  int n;
  inv_store_request_cache(checkStore(L, 1), &nHit, &nMiss, &n);
  lua_createtable(L, 0, 3);
  lua_pushnumber(L, (lua_Number)nHit); lua_setfield(L, -2, "hits");
  lua_pushnumber(L, (lua_Number)nMiss); lua_setfield(L, -2, "misses");
  lua_pushnumber(L, (lua_Number)n); lua_setfield(L, -2, "entries");
  return 1;
}

static int lSchemaVersion(lua_State *L) {
  lua_pushinteger(L, inv_store_schema_version(checkStore(L, 1)));
  return 1;
}

/* store:explain(resource, method, request) -> plan text | nil, msg, code */
static int lExplain(lua_State *L) {
  inv_store *s = checkStore(L, 1);
  const char *zRes = luaL_checkstring(L, 2);
  const char *zMethod = luaL_checkstring(L, 3);
  int base;
  inv_val req;
  lua_settop(L, 4);
  base = lua_gettop(L);
  if (beginCall(L, s, &req)) return pushError(L, s, base);
  {
    inv_buf *b = inv_store_buffer(s);
    if (inv_explain(s, zRes, zMethod, &req, b) != INV_OK) return pushError(L, s, base);
    lua_pushlstring(L, b->z ? b->z : "", b->n);
  }
  return 1;
}

/* ===================== operating a store (inv_admin.c) ===================== */

/* A store report into one Lua table (info, checkpoint, check). */
static int pushReport(lua_State *L, int (*xReport)(inv_store*, inv_sink*)) {
  inv_store *s = checkStore(L, 1);
  int base = lua_gettop(L);
  LSink k;
  inv_store_begin(s);
  lsInit(&k, L);
  if (xReport(s, &k.base) != INV_OK) return pushError(L, s, base);
  return 1;
}

/* store:info() -> { backend, engine_version, schema_version, size_bytes, path } */
static int lInfo(lua_State *L) {
  return pushReport(L, inv_store_info);
}

/* store:checkpoint() -> { log_frames, checkpointed } (inv_store_checkpoint) */
static int lCheckpoint(lua_State *L) {
  return pushReport(L, inv_store_checkpoint);
}

/* store:check() -> { ok = bool, problems = { text, ... } } */
static int lCheck(lua_State *L) {
  return pushReport(L, inv_store_check);
}

/* store:backup(path [, overwrite]) -> true | nil, msg, code */
static int lBackup(lua_State *L) {
  inv_store *s = checkStore(L, 1);
  const char *zPath = luaL_checkstring(L, 2);
  int bOverwrite = lua_toboolean(L, 3);
  inv_store_begin(s);
  if (inv_store_backup(s, zPath, bOverwrite) != INV_OK) return pushError(L, s, lua_gettop(L));
  lua_pushboolean(L, 1);
  return 1;
}

/* store:export(resource, request [, lines]) -> { records, next? }
** | text (JSON lines), next | nil, msg, code */
static int lExport(lua_State *L) {
  inv_store *s = checkStore(L, 1);
  const char *zRes = luaL_checkstring(L, 2);
  int bLines = lua_toboolean(L, 4);
  int base;
  int64_t next = 0;
  inv_val req;
  lua_settop(L, 3);
  lua_pushvalue(L, 3);                    /* beginCall reads the request at index 4 */
  base = lua_gettop(L);
  if (beginCall(L, s, &req)) return pushError(L, s, base);
  if (bLines) {
    inv_buf *b = inv_store_buffer(s);
    if (inv_export(s, zRes, &req, NULL, b, &next) != INV_OK) return pushError(L, s, base);
    lua_pushlstring(L, b->z ? b->z : "", b->n);
    if (next) inv_lua_pushint64(L, (long long)next); else lua_pushnil(L);
    return 2;
  } else {
    LSink k;
    lsBegin(&k, L);
    if (inv_export(s, zRes, &req, &k.base, NULL, &next) != INV_OK) return pushError(L, s, base);
    return 1;
  }
}

/* store:import_text(resource, text) -> number imported | nil, msg, code */
static int lImportText(lua_State *L) {
  inv_store *s = checkStore(L, 1);
  const char *zRes = luaL_checkstring(L, 2);
  size_t n;
  const char *z = luaL_checklstring(L, 3, &n);
  int base = lua_gettop(L);
  LSink k;
  inv_store_begin(s);
  lsInit(&k, L);
  if (inv_import_text(s, zRes, z, n, &k.base) != INV_OK) return pushError(L, s, base);
  return 1;
}

/* store:wait_change(since, timeout_seconds [, poll_seconds = 0.1]) -> changed | nil, msg, code */
static int lWaitChange(lua_State *L) {
  inv_store *s = checkStore(L, 1);
  int64_t since = (int64_t)luaL_checknumber(L, 2);
  lua_Number t = luaL_optnumber(L, 3, 1), poll = luaL_optnumber(L, 4, 0.1);
  int bChanged = 0;
  if (!(t >= 0 && t <= 86400)) return luaL_argerror(L, 3, "seconds from 0 to 86400 expected");
  if (!(poll >= 0.001 && poll <= 86400)) return luaL_argerror(L, 4, "seconds from 0.001 to 86400 expected");
  inv_store_begin(s);
  if (inv_store_wait_change(s, since, (int)(t * 1000), (int)(poll * 1000), &bChanged) != INV_OK) {
    return pushError(L, s, lua_gettop(L));
  }
  lua_pushboolean(L, bChanged);
  return 1;
}

static int lTostring(lua_State *L) {
  LStore *u = luaL_checkudata(L, 1, STORE_MT);
  if (u->p) lua_pushfstring(L, "inventory.store (%p)", (void*)u);
  else lua_pushliteral(L, "inventory.store (closed)");
  return 1;
}

static const luaL_Reg aStoreMethod[] = {
  { "call", lCall }, { "close", lClose }, { "set_now", lSetNow },
  { "schema_version", lSchemaVersion }, { "explain", lExplain },
  { "version", lVersion }, { "cached_call", lCachedCall },
  { "info", lInfo }, { "check", lCheck }, { "backup", lBackup }, { "checkpoint", lCheckpoint },
  { "export", lExport }, { "import_text", lImportText }, { "wait_change", lWaitChange },
  { "request_cache", lRequestCache },
  { NULL, NULL }
};

/* core.decode(text) -> value | nil, message: JSON text as Lua values the
** store takes back unchanged: null as core.null (kept in objects too), an
** empty list with core.array_mt. The arena is a userdata, freed by the
** collector if building the tables raises. */
static const char *const ARENA_MT = "inventory.arena";
static int lArenaGc(lua_State *L) {
  inv_arena_free((inv_arena *)luaL_checkudata(L, 1, ARENA_MT));
  return 0;
}
static int lDecode(lua_State *L) {
  size_t n;
  const char *z = luaL_checklstring(L, 1, &n);
  inv_arena *a = inv_lua_newudata(L, sizeof *a);
  inv_val v;
  char zErr[200];
  LSink k;
  inv_arena_init(a);
  luaL_getmetatable(L, ARENA_MT);
  lua_setmetatable(L, -2);
  if (inv_json_parse(a, z, n, &v, zErr, sizeof zErr)) {
    inv_arena_free(a);
    lua_pushnil(L);
    lua_pushstring(L, zErr);
    return 2;
  }
  lsInit(&k, L);
  k.bKeepNull = 1;
  inv_sink_val(&k.base, &v);
  inv_arena_free(a);
  return 1;
}

/* core.mark_empty_array(lightuserdata): a value that means [] (lua-cjson's
** empty_array, where it has one) */
static int lMarkEmptyArray(lua_State *L) {
  luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
  lua_pushlightuserdata(L, &emptyArrayKey);
  lua_pushvalue(L, 1);
  lua_rawset(L, LUA_REGISTRYINDEX);
  return 0;
}

/* the metatable { __jsontype = zType } kept in the registry at pKey (once
** per state: busted re-runs luaopen) */
static void pushMark(lua_State *L, char *pKey, const char *zType) {
  lua_pushlightuserdata(L, pKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (lua_istable(L, -1)) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, zType);
  lua_setfield(L, -2, "__jsontype");
  lua_pushlightuserdata(L, pKey);
  lua_pushvalue(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
}

INV_EXPORT int luaopen_inventory_core(lua_State *L);
INV_EXPORT int luaopen_inventory_core(lua_State *L) {
  if (luaL_newmetatable(L, STORE_MT)) {      /* idempotent: busted re-runs luaopen */
    const luaL_Reg *r;
    lua_createtable(L, 0, 8);
    for (r = aStoreMethod; r->name; r++) {
      lua_pushcfunction(L, r->func);
      lua_setfield(L, -2, r->name);
    }
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, lClose);
    lua_setfield(L, -2, "__gc");
#if LUA_VERSION_NUM >= 504
    lua_pushcfunction(L, lClose);
    lua_setfield(L, -2, "__close");
#endif
    lua_pushcfunction(L, lTostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, STORE_MT);
    lua_setfield(L, -2, "__name");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, ARENA_MT)) {
    lua_pushcfunction(L, lArenaGc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  lua_createtable(L, 0, 10);
  lua_pushcfunction(L, lOpen);
  lua_setfield(L, -2, "open");
  lua_pushcfunction(L, lDecode);
  lua_setfield(L, -2, "decode");
  lua_pushcfunction(L, lMarkEmptyArray);
  lua_setfield(L, -2, "mark_empty_array");
  pushMark(L, &arrayMtKey, "array");
  lua_setfield(L, -2, "array_mt");
  pushMark(L, &objectMtKey, "object");
  lua_setfield(L, -2, "object_mt");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  lua_pushliteral(L, INV_VERSION);
  lua_setfield(L, -2, "_VERSION");
  lua_pushstring(L, inv_sqlite_version());
  lua_setfield(L, -2, "sqlite_version");
  lua_pushinteger(L, inv_schema_version());
  lua_setfield(L, -2, "schema_version");
  return 1;
}
