rockspec_format = "3.0"
package = "inventory"
version = "scm-1"
source = { url = "git+file:///work/main" }
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
build = {
  type = "builtin",
  modules = {
    ["inventory"] = "lua/inventory/init.lua",
    ["inventory.rest"] = "lua/inventory/rest.lua",
    ["inventory.ngx"] = "lua/inventory/ngx.lua",
    ["inventory.ngx_thread"] = "lua/inventory/ngx_thread.lua",
    ["inventory.metrics"] = "lua/inventory/metrics.lua",
    ["inventory.cli"] = "lua/inventory/cli.lua",
    ["inventory.core"] = {
      sources = {
        "src/lua/linventory.c",
        "src/inv_mem.c", "src/inv_buf.c", "src/inv_json.c", "src/inv_time.c",
        "src/inv_schema.c", "src/inv_store.c", "src/inv_req.c", "src/inv_api.c",
        "src/inv_sql.c", "src/inv_keys.c", "src/inv_filter.c", "src/inv_read.c",
        "src/inv_render.c", "src/inv_life.c", "src/inv_stat.c", "src/sqlite/sqlite_driver.c",
        "src/sqlite/sqlite_dialect.c", "src/sqlite/sqlite_func.c", "src/sqlite/sqlite_regex.c",
        "src/sqlite/sqlite_admin.c",
        "src/inv_journal.c", "src/inv_admin.c",
      },
      incdirs = { "include", "src", "$(SQLITE_INCDIR)", "$(PCRE2_INCDIR)" },
      libdirs = { "$(SQLITE_LIBDIR)", "$(PCRE2_LIBDIR)" },
      libraries = { "sqlite3", "pcre2-8", "m" },
    },
  },
  -- the command line; luarocks wraps it with the tree's module paths
  install = { bin = { inventory = "bin/inventory" } },
}

test = { type = "command", command = "make test" }
