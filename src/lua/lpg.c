/*
** lpg.c: the Lua module "inventory.pg", the PostgreSQL backend (src/pg/
** and libpq) for inventory.open{ url = ... }. It is a module of its own so
** that a user of SQLite alone never needs libpq: inventory.open loads it
** when a url is given, and hands its driver to the core.
**
** The module carries its own copy of the core's helpers, which its driver
** calls (the core module hides its symbols); both copies work on the same
** store and hold no global state.
*/
#include "lcompat.h"
#include <libpq-fe.h>
#include "inv_int.h"

#if defined(__GNUC__)
# define INV_EXPORT __attribute__((visibility("default")))
#else
# define INV_EXPORT
#endif

INV_EXPORT int luaopen_inventory_pg(lua_State *L);
INV_EXPORT int luaopen_inventory_pg(lua_State *L) {
  lua_createtable(L, 0, 2);
  lua_pushlightuserdata(L, (void*)&inv_pg_driver);
  lua_setfield(L, -2, "driver");
  lua_pushinteger(L, PQlibVersion());
  lua_setfield(L, -2, "libpq_version");
  return 1;
}
