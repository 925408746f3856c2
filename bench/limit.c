/*
** bench/limit.c: the "physical limit" contender of the benchmark, a tiny
** Lua module over the SQLite C API: hand-written SQL in, rows out as Lua
** tables with the column names as keys, nothing else. Built twice from this
** one source: for Lua 5.4 (the harness) and for LuaJIT (the hand-written
** OpenResty handler, bench/rest_limit.lua).
**
**   local limit = require "limit"
**   local db = limit.open(path)             -- same pragmas as the store
**   local rows = limit.query(db, sql, ...)  -- { {col = value, ...}, ... }
**   local n = limit.exec(db, sql, ...)      -- changes (BEGIN/COMMIT too)
**   limit.now()                             -- CLOCK_MONOTONIC, ns (integer)
**   limit.time_ms()                         -- CLOCK_REALTIME, ms (integer)
**   limit.sleep_until(ns)                   -- wait for a monotonic instant
**
** A fair limit: statements are prepared once with sqlite3_prepare_v3
** (SQLITE_PREPARE_PERSISTENT) and cached by SQL text (looked up by pointer,
** then by content); parameters are bound without copies (SQLITE_STATIC: the
** Lua strings stay on the stack until the statement is reset); column names
** are interned once per statement and kept in a Lua table; NULL columns are
** left out of the row (as the store leaves out null fields).
*/
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <errno.h>
#include <sqlite3.h>
#include "lua.h"
#include "lauxlib.h"

/* the few calls that differ between Lua 5.4 and LuaJIT (the 5.1 API) */
#if LUA_VERSION_NUM >= 504
# define newudata(L, n) lua_newuserdatauv((L), (n), 0)
#else
# define newudata(L, n) lua_newuserdata((L), (n))
#endif
#if LUA_VERSION_NUM >= 503
typedef lua_Integer RowN;           /* the index type of lua_rawseti */
# define isinteger(L, i) lua_isinteger((L), (i))
#else
typedef int RowN;
static int isinteger(lua_State *L, int i) {
  lua_Number x = lua_tonumber(L, i);
  return x >= -9007199254740992.0 && x <= 9007199254740992.0 && x == (lua_Number)(long long)x;
}
#endif

#define DB_MT "bench.limit.db"
#define CACHE_N 64

typedef struct Cached Cached;
struct Cached {
  const char *zKey;          /* the Lua string's bytes last seen (pointer compare first) */
  int keyRef;                /* registry ref anchoring that string: its address stays unique */
  char *zSql;                /* owned copy */
  size_t nSql;
  sqlite3_stmt *p;
  int namesRef;              /* registry ref: array of column names */
};

typedef struct Db Db;
struct Db {
  sqlite3 *db;
  Cached a[CACHE_N];
  int n;
  int next;                  /* round-robin victim when full */
};

static Db *checkDb(lua_State *L) {
  Db *d = luaL_checkudata(L, 1, DB_MT);
  if (!d->db) luaL_error(L, "limit: database is closed");
  return d;
}

static int l_open(lua_State *L) {
  const char *zPath = luaL_checkstring(L, 1);
  Db *d = newudata(L, sizeof *d);
  memset(d, 0, sizeof *d);
  luaL_getmetatable(L, DB_MT);
  lua_setmetatable(L, -2);
  if (sqlite3_open_v2(zPath, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    const char *zErr = d->db ? sqlite3_errmsg(d->db) : "out of memory";
    lua_pushnil(L);
    lua_pushstring(L, zErr);
    sqlite3_close(d->db);
    d->db = NULL;
    return 2;
  }
  sqlite3_busy_timeout(d->db, 5000);
  /* wal_autocheckpoint as the store sets it (INV_WAL_AUTOCHECKPOINT, 10,000
  ** pages): the write cases time each contender's automatic checkpoints in
  ** its own batches, at the same WAL size (with SQLite's default of 1,000
  ** the limit paid ten small checkpoints where inventory paid one, or none
  ** in a short run) */
  sqlite3_exec(d->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                      "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
                      "PRAGMA wal_autocheckpoint=10000", 0, 0, 0);
  return 1;
}

static int l_close(lua_State *L) {
  Db *d = luaL_checkudata(L, 1, DB_MT);
  int i;
  for (i = 0; i < d->n; i++) {
    sqlite3_finalize(d->a[i].p);
    free(d->a[i].zSql);
    luaL_unref(L, LUA_REGISTRYINDEX, d->a[i].namesRef);
    luaL_unref(L, LUA_REGISTRYINDEX, d->a[i].keyRef);
  }
  d->n = 0;
  if (d->db) sqlite3_close_v2(d->db);
  d->db = NULL;
  return 0;
}

/* The cached statement for the SQL at stack index idx; pushes its names table. */
static sqlite3_stmt *stmtAt(lua_State *L, Db *d, int idx) {
  size_t n;
  const char *z = luaL_checklstring(L, idx, &n);
  int i, nCol;
  Cached *c;
  sqlite3_stmt *p = NULL;
  for (i = 0; i < d->n; i++) {
    c = &d->a[i];
    if (c->zKey == z || (c->nSql == n && memcmp(c->zSql, z, n) == 0)) {
      if (c->zKey != z) {                /* another string, same text: anchor this one */
        luaL_unref(L, LUA_REGISTRYINDEX, c->keyRef);
        lua_pushvalue(L, idx);
        c->keyRef = luaL_ref(L, LUA_REGISTRYINDEX);
        c->zKey = z;
      }
      lua_rawgeti(L, LUA_REGISTRYINDEX, c->namesRef);
      return c->p;
    }
  }
  if (sqlite3_prepare_v3(d->db, z, (int)n, SQLITE_PREPARE_PERSISTENT, &p, NULL) != SQLITE_OK) {
    luaL_error(L, "limit: %s (in %s)", sqlite3_errmsg(d->db), z);
  }
  if (d->n < CACHE_N) c = &d->a[d->n++];
  else {
    c = &d->a[d->next];
    d->next = (d->next + 1) % CACHE_N;
    sqlite3_finalize(c->p);
    free(c->zSql);
    luaL_unref(L, LUA_REGISTRYINDEX, c->namesRef);
    luaL_unref(L, LUA_REGISTRYINDEX, c->keyRef);
  }
  lua_pushvalue(L, idx);
  c->keyRef = luaL_ref(L, LUA_REGISTRYINDEX);
  c->zKey = z;
  c->zSql = malloc(n + 1);
  memcpy(c->zSql, z, n + 1);
  c->nSql = n;
  c->p = p;
  nCol = sqlite3_column_count(p);
  lua_createtable(L, nCol, 0);
  for (i = 0; i < nCol; i++) {
    lua_pushstring(L, sqlite3_column_name(p, i));
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushvalue(L, -1);
  c->namesRef = luaL_ref(L, LUA_REGISTRYINDEX);
  return p;
}

static sqlite3_stmt *stmt(lua_State *L, Db *d) { return stmtAt(L, d, 2); }

static void bindAll(lua_State *L, Db *d, sqlite3_stmt *p, int top) {
  int i, rc = SQLITE_OK;
  for (i = 3; i <= top && rc == SQLITE_OK; i++) {
    int k = i - 2;
    switch (lua_type(L, i)) {
      case LUA_TNIL: rc = sqlite3_bind_null(p, k); break;
      case LUA_TBOOLEAN: rc = sqlite3_bind_int(p, k, lua_toboolean(L, i)); break;
      case LUA_TNUMBER:
        if (isinteger(L, i)) rc = sqlite3_bind_int64(p, k, (sqlite3_int64)lua_tonumber(L, i));
        else rc = sqlite3_bind_double(p, k, lua_tonumber(L, i));
        break;
      case LUA_TSTRING: {
        size_t n;
        const char *z = lua_tolstring(L, i, &n);
        rc = sqlite3_bind_text(p, k, z, (int)n, SQLITE_STATIC);
        break;
      }
      default: luaL_error(L, "limit: cannot bind a %s", luaL_typename(L, i));
    }
  }
  if (rc != SQLITE_OK) luaL_error(L, "limit: bind: %s", sqlite3_errmsg(d->db));
}

static int fail(lua_State *L, Db *d, sqlite3_stmt *p) {
  const char *zErr = sqlite3_errmsg(d->db);
  lua_pushfstring(L, "limit: %s", zErr);
  sqlite3_reset(p);
  sqlite3_clear_bindings(p);
  return lua_error(L);
}

/* limit.query(db, sql, ...) -> array of rows */
static int l_query(lua_State *L) {
  Db *d = checkDb(L);
  int top = lua_gettop(L), names, nCol, rc, i;
  RowN nRow = 0;
  sqlite3_stmt *p = stmt(L, d);
  names = lua_gettop(L);
  bindAll(L, d, p, top);
  nCol = sqlite3_column_count(p);
  lua_newtable(L);
  while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
    lua_createtable(L, 0, nCol);
    for (i = 0; i < nCol; i++) {
      switch (sqlite3_column_type(p, i)) {
        case SQLITE_NULL: continue;
        case SQLITE_INTEGER:
          lua_rawgeti(L, names, i + 1);
#if LUA_VERSION_NUM >= 503
          lua_pushinteger(L, sqlite3_column_int64(p, i));
#else
          lua_pushnumber(L, (lua_Number)sqlite3_column_int64(p, i));
#endif
          break;
        case SQLITE_FLOAT:
          lua_rawgeti(L, names, i + 1);
          lua_pushnumber(L, sqlite3_column_double(p, i));
          break;
        default: {
          const char *z = (const char*)sqlite3_column_text(p, i);
          int n = sqlite3_column_bytes(p, i);
          lua_rawgeti(L, names, i + 1);
          lua_pushlstring(L, z, (size_t)n);
          break;
        }
      }
      lua_rawset(L, -3);
    }
    lua_rawseti(L, -2, ++nRow);
  }
  if (rc != SQLITE_DONE) return fail(L, d, p);
  sqlite3_reset(p);
  sqlite3_clear_bindings(p);
  return 1;
}

/* limit.exec(db, sql, ...) -> changes */
static int l_exec(lua_State *L) {
  Db *d = checkDb(L);
  int top = lua_gettop(L), rc;
  sqlite3_stmt *p = stmt(L, d);
  bindAll(L, d, p, top);
  while ((rc = sqlite3_step(p)) == SQLITE_ROW) {}
  if (rc != SQLITE_DONE) return fail(L, d, p);
  sqlite3_reset(p);
  sqlite3_clear_bindings(p);
  lua_pushinteger(L, sqlite3_changes(d->db));
  return 1;
}

/* limit.floor(db, rows_sql, count_sql, a, b, limit, offset) -> rows, total:
** the SQLite part of a page read, and nothing else (the REST floor of
** bench/rest_bench.sh): rows_sql (?1 a, ?2 b, ?3 limit, ?4 offset) stepped
** for at most `limit` rows, every column of each read once through the
** value API (type, then text and length, or the integer), as a renderer
** would; count_sql (?1 a, ?2 b) stepped once while the rows statement is
** still active (one snapshot, one read transaction); both reset. */
static int l_readFloor(lua_State *L) {
  Db *d = checkDb(L);
  sqlite3_stmt *p, *c;
  size_t na, nb, sum = 0;
  const char *za = luaL_checklstring(L, 4, &na), *zb = luaL_checklstring(L, 5, &nb);
  sqlite3_int64 lim = (sqlite3_int64)luaL_checknumber(L, 6), off = (sqlite3_int64)luaL_checknumber(L, 7);
  sqlite3_int64 nRow = 0, total = -1;
  int rc = SQLITE_ROW, i, nCol;
  p = stmtAt(L, d, 2);
  lua_pop(L, 1);
  c = stmtAt(L, d, 3);
  lua_pop(L, 1);
  sqlite3_bind_text(p, 1, za, (int)na, SQLITE_STATIC);
  sqlite3_bind_text(p, 2, zb, (int)nb, SQLITE_STATIC);
  sqlite3_bind_int64(p, 3, lim);
  sqlite3_bind_int64(p, 4, off);
  nCol = sqlite3_column_count(p);
  while (nRow < lim && (rc = sqlite3_step(p)) == SQLITE_ROW) {
    for (i = 0; i < nCol; i++) {
      sqlite3_value *v = sqlite3_column_value(p, i);
      switch (sqlite3_value_type(v)) {
        case SQLITE_NULL: break;
        case SQLITE_INTEGER: sum += (size_t)sqlite3_value_int64(v); break;
        default: {
          const unsigned char *z = sqlite3_value_text(v);
          sum += (size_t)sqlite3_value_bytes(v) + (z ? z[0] : 0);
          break;
        }
      }
    }
    nRow++;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(L, d, p);
  sqlite3_bind_text(c, 1, za, (int)na, SQLITE_STATIC);
  sqlite3_bind_text(c, 2, zb, (int)nb, SQLITE_STATIC);
  if (sqlite3_step(c) == SQLITE_ROW) total = sqlite3_column_int64(c, 0);
  else return fail(L, d, c);
  sqlite3_reset(c);
  sqlite3_reset(p);
  lua_pushinteger(L, (lua_Integer)nRow);
  lua_pushinteger(L, (lua_Integer)total);
  lua_pushinteger(L, (lua_Integer)(sum & 0xffff));
  return 3;
}

static int l_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushinteger(L, (lua_Integer)ts.tv_sec * 1000000000 + ts.tv_nsec);
  return 1;
}

static int l_time_ms(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushinteger(L, (lua_Integer)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
  return 1;
}

static int l_sleep_until(lua_State *L) {
  lua_Integer ns = luaL_checkinteger(L, 1);
  struct timespec ts;
  ts.tv_sec = (time_t)(ns / 1000000000);
  ts.tv_nsec = (long)(ns % 1000000000);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
  return 0;
}

int luaopen_limit(lua_State *L);
int luaopen_limit(lua_State *L) {
  const luaL_Reg *f;
  static const luaL_Reg fs[] = {
    { "open", l_open }, { "close", l_close }, { "query", l_query }, { "exec", l_exec }, { "floor", l_readFloor },
    { "now", l_now }, { "time_ms", l_time_ms }, { "sleep_until", l_sleep_until },
    { NULL, NULL }
  };
  f = fs;
  if (luaL_newmetatable(L, DB_MT)) {
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  lua_newtable(L);
  for (; f->name; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  return 1;
}
