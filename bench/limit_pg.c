/*
** bench/limit_pg.c: the limit of the PostgreSQL benchmark, bench/limit.c's
** twin over libpq: hand-written SQL in, rows out as Lua tables with the
** column names as keys, nothing else (Lua 5.4, the harness).
**
**   local L = require "limit_pg"
**   local db = L.open(conninfo [, schema])  -- search_path = schema
**   local rows = L.query(db, sql, ...)      -- { {col = value, ...}, ... }
**   local n = L.exec(db, sql, ...)          -- rows changed (PQcmdTuples)
**   L.close(db)
**
** What a competent libpq user writes: each SQL text is prepared once on the
** server (PQprepare, parameter types inferred by the server) and cached per
** connection by its text (looked up by the Lua string's address, then by
** content); each call is one PQexecPrepared, one round trip, with the
** values in text form (numbers formatted, strings as they are); results in
** text form, converted by the column's type (int2/4/8 -> integer, float4/8
** and numeric -> number, bool -> boolean, the rest strings); NULL columns
** are left out of the row (as the store leaves out null fields). Column
** names are interned once per statement.
*/
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <libpq-fe.h>
#include "lua.h"
#include "lauxlib.h"

#define DB_MT "bench.limit_pg.db"
#define CACHE_N 64
#define MAX_PARAMS 64

/* type OIDs (pg_type.h is a server header) */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

enum { K_TEXT, K_INT, K_REAL, K_BOOL };

typedef struct Cached Cached;
struct Cached {
  const char *zKey;          /* the Lua string's bytes last seen (pointer compare first) */
  int keyRef;                /* registry ref anchoring that string */
  char *zSql;                /* owned copy */
  size_t nSql;
  char zName[16];            /* server-side name */
  int namesRef;              /* registry ref: array of column names (-1: not known yet) */
  int nCol;
  int aKind[64];             /* K_* per column (the first 64) */
};

typedef struct Db Db;
struct Db {
  PGconn *pg;
  Cached a[CACHE_N];
  int n;
  int next;
  unsigned nName;
};

static Db *checkDb(lua_State *L) {
  Db *d = luaL_checkudata(L, 1, DB_MT);
  if (!d->pg) luaL_error(L, "limit_pg: connection is closed");
  return d;
}

static int l_open(lua_State *L) {
  const char *zInfo = luaL_checkstring(L, 1);
  const char *zSchema = luaL_optstring(L, 2, NULL);
  Db *d = lua_newuserdatauv(L, sizeof *d, 0);
  memset(d, 0, sizeof *d);
  luaL_getmetatable(L, DB_MT);
  lua_setmetatable(L, -2);
  d->pg = PQconnectdb(zInfo);
  if (PQstatus(d->pg) != CONNECTION_OK) {
    lua_pushnil(L);
    lua_pushstring(L, PQerrorMessage(d->pg));
    PQfinish(d->pg);
    d->pg = NULL;
    return 2;
  }
  if (zSchema) {
    char z[160];
    PGresult *r;
    snprintf(z, sizeof z, "SET search_path = \"%s\"", zSchema);
    r = PQexec(d->pg, z);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      lua_pushnil(L);
      lua_pushstring(L, PQresultErrorMessage(r));
      PQclear(r);
      PQfinish(d->pg);
      d->pg = NULL;
      return 2;
    }
    PQclear(r);
  }
  return 1;
}

static int l_close(lua_State *L) {
  Db *d = luaL_checkudata(L, 1, DB_MT);
  int i;
  for (i = 0; i < d->n; i++) {
    free(d->a[i].zSql);
    if (d->a[i].namesRef != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, d->a[i].namesRef);
    luaL_unref(L, LUA_REGISTRYINDEX, d->a[i].keyRef);
  }
  d->n = 0;
  if (d->pg) PQfinish(d->pg);
  d->pg = NULL;
  return 0;
}

static int pgFail(lua_State *L, PGresult *r, const char *zSql) {
  char z[600];
  snprintf(z, sizeof z, "%s", r ? PQresultErrorMessage(r) : "no result");
  PQclear(r);
  return luaL_error(L, "limit_pg: %s (in %s)", z, zSql);
}

/* The cached statement for the SQL at stack index 2 (prepared on first use). */
static Cached *stmt(lua_State *L, Db *d) {
  size_t n;
  const char *z = luaL_checklstring(L, 2, &n);
  int i;
  Cached *c;
  PGresult *r;
  for (i = 0; i < d->n; i++) {
    c = &d->a[i];
    if (c->zKey == z || (c->nSql == n && memcmp(c->zSql, z, n) == 0)) {
      if (c->zKey != z) {
        luaL_unref(L, LUA_REGISTRYINDEX, c->keyRef);
        lua_pushvalue(L, 2);
        c->keyRef = luaL_ref(L, LUA_REGISTRYINDEX);
        c->zKey = z;
      }
      return c;
    }
  }
  {
    char zName[16];
    snprintf(zName, sizeof zName, "lim%u", ++d->nName);
    r = PQprepare(d->pg, zName, z, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) { pgFail(L, r, z); return NULL; }
    PQclear(r);
    if (d->n < CACHE_N) c = &d->a[d->n++];
    else {
      char zDrop[48];
      c = &d->a[d->next];
      d->next = (d->next + 1) % CACHE_N;
      snprintf(zDrop, sizeof zDrop, "DEALLOCATE %s", c->zName);
      PQclear(PQexec(d->pg, zDrop));
      free(c->zSql);
      if (c->namesRef != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, c->namesRef);
      luaL_unref(L, LUA_REGISTRYINDEX, c->keyRef);
    }
    memset(c, 0, sizeof *c);
    memcpy(c->zName, zName, sizeof zName);
  }
  lua_pushvalue(L, 2);
  c->keyRef = luaL_ref(L, LUA_REGISTRYINDEX);
  c->zKey = z;
  c->zSql = malloc(n + 1);
  memcpy(c->zSql, z, n + 1);
  c->nSql = n;
  c->namesRef = LUA_NOREF;
  return c;
}

/* The column names and kinds of c, from its first result. */
static void learnColumns(lua_State *L, Cached *c, const PGresult *r) {
  int i, nCol = PQnfields(r);
  lua_createtable(L, nCol, 0);
  for (i = 0; i < nCol; i++) {
    lua_pushstring(L, PQfname(r, i));
    lua_rawseti(L, -2, i + 1);
    if (i < 64) {
      switch (PQftype(r, i)) {
        case OID_INT2: case OID_INT4: case OID_INT8: c->aKind[i] = K_INT; break;
        case OID_FLOAT4: case OID_FLOAT8: case OID_NUMERIC: c->aKind[i] = K_REAL; break;
        case OID_BOOL: c->aKind[i] = K_BOOL; break;
        default: c->aKind[i] = K_TEXT;
      }
    }
  }
  c->namesRef = luaL_ref(L, LUA_REGISTRYINDEX);
  c->nCol = nCol;
}

/* Execute c with the values from stack index 3 on. */
static PGresult *run(lua_State *L, Db *d, Cached *c) {
  int top = lua_gettop(L), i, n = top - 2;
  const char *az[MAX_PARAMS];
  char aNum[MAX_PARAMS][32];
  PGresult *r;
  ExecStatusType st;
  if (n > MAX_PARAMS) luaL_error(L, "limit_pg: too many values");
  for (i = 0; i < n; i++) {
    int k = i + 3;
    switch (lua_type(L, k)) {
      case LUA_TNIL: az[i] = NULL; break;
      case LUA_TBOOLEAN: az[i] = lua_toboolean(L, k) ? "true" : "false"; break;
      case LUA_TNUMBER:
        if (lua_isinteger(L, k)) snprintf(aNum[i], sizeof aNum[i], "%lld", (long long)lua_tointeger(L, k));
        else snprintf(aNum[i], sizeof aNum[i], "%.17g", lua_tonumber(L, k));
        az[i] = aNum[i];
        break;
      case LUA_TSTRING: az[i] = lua_tostring(L, k); break;
      default: luaL_error(L, "limit_pg: cannot bind a %s", luaL_typename(L, k));
    }
  }
  r = PQexecPrepared(d->pg, c->zName, n, az, NULL, NULL, 0);
  st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) pgFail(L, r, c->zSql);
  return r;
}

/* limit_pg.query(db, sql, ...) -> array of rows */
static int l_query(lua_State *L) {
  Db *d = checkDb(L);
  Cached *c = stmt(L, d);
  PGresult *r = run(L, d, c);
  int nRow = PQntuples(r), nCol, i, j, names;
  if (c->namesRef == LUA_NOREF) learnColumns(L, c, r);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->namesRef);
  names = lua_gettop(L);
  nCol = c->nCol;
  lua_createtable(L, nRow, 0);
  for (j = 0; j < nRow; j++) {
    lua_createtable(L, 0, nCol);
    for (i = 0; i < nCol; i++) {
      const char *z;
      if (PQgetisnull(r, j, i)) continue;
      z = PQgetvalue(r, j, i);
      lua_rawgeti(L, names, i + 1);
      switch (i < 64 ? c->aKind[i] : K_TEXT) {
        case K_INT: lua_pushinteger(L, strtoll(z, NULL, 10)); break;
        case K_REAL: {
          char *zEnd;
          long long v = strtoll(z, &zEnd, 10);
          if (*zEnd == 0) lua_pushinteger(L, v);          /* a numeric sum without a fraction */
          else lua_pushnumber(L, strtod(z, NULL));
          break;
        }
        case K_BOOL: lua_pushboolean(L, z[0] == 't'); break;
        default: lua_pushlstring(L, z, (size_t)PQgetlength(r, j, i));
      }
      lua_rawset(L, -3);
    }
    lua_rawseti(L, -2, j + 1);
  }
  PQclear(r);
  return 1;
}

/* limit_pg.exec(db, sql, ...) -> rows changed */
static int l_exec(lua_State *L) {
  Db *d = checkDb(L);
  Cached *c = stmt(L, d);
  PGresult *r = run(L, d, c);
  const char *z = PQcmdTuples(r);
  lua_pushinteger(L, z && z[0] ? strtoll(z, NULL, 10) : 0);
  PQclear(r);
  return 1;
}

int luaopen_limit_pg(lua_State *L);
int luaopen_limit_pg(lua_State *L) {
  static const luaL_Reg fs[] = {
    { "open", l_open }, { "close", l_close }, { "query", l_query }, { "exec", l_exec },
    { NULL, NULL }
  };
  if (luaL_newmetatable(L, DB_MT)) {
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newlib(L, fs);
  return 1;
}
