/*
** lcompat.h: what one source needs to build for Lua 5.4 and LuaJIT 2.1
** (the 5.1 API). Our shims carry the inv_lua_ prefix: LuaJIT 2.1 already
** defines several luaL_* names of 5.2, so we never define lua_* / luaL_*.
*/
#ifndef LCOMPAT_H
#define LCOMPAT_H
#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM >= 502
# define inv_lua_rawlen(L, i)      lua_rawlen((L), (i))
#else
# define inv_lua_rawlen(L, i)      lua_objlen((L), (i))
#endif

#if LUA_VERSION_NUM >= 504
# define inv_lua_newudata(L, sz)   lua_newuserdatauv((L), (sz), 0)
#else
# define inv_lua_newudata(L, sz)   lua_newuserdata((L), (sz))
#endif

#if LUA_VERSION_NUM >= 502
# define inv_lua_absindex(L, i)    lua_absindex((L), (i))
#else
# define inv_lua_absindex(L, i) \
    (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#endif

/* Is the number at i an integer? On 5.3+ the subtype; on 5.1/LuaJIT an
** integral double. */
static inline int inv_lua_isinteger(lua_State *L, int i) {
#if LUA_VERSION_NUM >= 503
  return lua_isinteger(L, i);
#else
  lua_Number n = lua_tonumber(L, i);
  return n >= -9007199254740992.0 && n <= 9007199254740992.0 && n == (lua_Number)(long long)n;
#endif
}

/* int64 results: exact on 5.3+; on LuaJIT doubles are exact up to 2^53. */
static inline void inv_lua_pushint64(lua_State *L, long long v) {
#if LUA_VERSION_NUM >= 503
  lua_pushinteger(L, (lua_Integer)v);
#else
  lua_pushnumber(L, (lua_Number)v);
#endif
}

#endif
