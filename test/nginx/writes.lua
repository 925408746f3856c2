-- test/nginx/writes.lua: another process writing to the store nginx serves.
--
--   lua5.4 test/nginx/writes.lua DB CHUNK_FILE OUT_FILE
--
-- Runs the Lua chunk in CHUNK_FILE with `inv` (the store), `D` (a table of
-- helpers) and `mark(name, value)`, which appends "name<TAB>value<TAB>time"
-- to OUT_FILE right after the preceding write committed (LuaSocket's clock).
local inventory = require "inventory"
local socket = require "socket"
local db, chunk_file, out_file = arg[1], arg[2], arg[3]
local inv = assert(inventory.open{ path = db, busy_timeout = 5000 })
local out = assert(io.open(out_file, "a"))
local function mark(name, value)
  out:write(name, "\t", tostring(value or ""), "\t", string.format("%.6f", socket.gettime()), "\n")
  out:flush()
end
local env = setmetatable({ inv = inv, mark = mark, sleep = socket.sleep, now = socket.gettime },
                         { __index = _G })
local fn = assert(loadfile(chunk_file, "t", env))
fn()
out:close()
inv:close()
