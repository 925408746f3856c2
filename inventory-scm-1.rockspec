rockspec_format = "3.0"
package = "inventory"
version = "scm-1"
-- luarocks make builds the checkout it runs in (offline); this names that
-- checkout as a git repository, with no machine path
source = { url = "git+file://." }
description = {
  summary = "Cloudforet inventory Job/JobTask store on SQLite, with its query, stat and analyze languages",
  detailed = [[
A C library on SQLite with a Lua binding (Lua 5.4, LuaJIT 2.1/OpenResty) that stores collection
jobs and job tasks and answers the Cloudforet/SpaceONE inventory Job and JobTask APIs. The REST
layer (inventory.rest, inventory.ngx) also needs lua-cjson (Debian: lua-cjson).
]],
  license = "Apache-2.0",
}
dependencies = { "lua >= 5.1" }
external_dependencies = {
  SQLITE = { header = "sqlite3.h", library = "sqlite3" },
  PCRE2 = { header = "pcre2.h", library = "pcre2-8" },
}
-- The Makefile builds (make rock) and installs (make rock-install) inventory.core,
-- and inventory.pg (the PostgreSQL backend) where libpq's header is found: objects
-- and the module go to build/rock/<lua>/, nothing next to the sources.
-- For LuaJIT/OpenResty: luarocks --lua-version=5.1 make LUA_INCDIR=/usr/include/luajit-2.1
build = {
  type = "make",
  build_target = "rock",
  build_variables = {
    CFLAGS = "$(CFLAGS)", LIBFLAG = "$(LIBFLAG)", LUA_INCDIR = "$(LUA_INCDIR)",
    SQLITE_INCDIR = "$(SQLITE_INCDIR)", SQLITE_LIBDIR = "$(SQLITE_LIBDIR)",
    PCRE2_INCDIR = "$(PCRE2_INCDIR)", PCRE2_LIBDIR = "$(PCRE2_LIBDIR)",
  },
  install_target = "rock-install",
  install_variables = { INST_LIBDIR = "$(LIBDIR)", INST_LUADIR = "$(LUADIR)", LUA_INCDIR = "$(LUA_INCDIR)" },
  -- the command line; luarocks wraps it with the tree's module paths
  install = { bin = { inventory = "bin/inventory" } },
}

test = { type = "command", command = "make test" }
