-- inventory.ngx_thread: the module nginx runs in its thread pool
-- (ngx.run_worker_thread) for stat and analyze, so a long aggregate does not
-- block the worker's event loop.
--
-- Each pool thread has its own Lua VM; this module keeps one store per
-- database path in that VM, opened on first use (one SQLite connection per
-- thread VM, never shared). Only strings, numbers, booleans, nil and plain
-- tables cross into a thread VM, so the request is packed: JSON nulls (a
-- light userdata) travel as a marker and are restored on the other side.
--
--   worker:  ngx.run_worker_thread(pool, "inventory.ngx_thread", "call",
--                                  opts, resource, method, thread.pack(request))
--   thread:  call(...) -> json | nil, message, code
local _M = {}

local type, pairs = type, pairs

-- a string the binding would reject anyway (invalid UTF-8), so it cannot
-- stand for a real value
local NULL_MARK = "\0\255inventory.null\255\0"
_M.NULL_MARK = NULL_MARK

--- pack(v): a deep copy with JSON nulls (light userdata NULL) replaced by a marker
function _M.pack(v)
  local t = type(v)
  if t == "table" then
    local out = {}
    for k, x in pairs(v) do out[k] = _M.pack(x) end
    return out
  elseif t == "userdata" then
    return NULL_MARK
  end
  return v
end

--- unpack(v, null): the inverse of pack; null is the JSON null of this VM
function _M.unpack(v, null)
  local t = type(v)
  if t == "table" then
    for k, x in pairs(v) do v[k] = _M.unpack(x, null) end
    return v
  elseif v == NULL_MARK then
    return null
  end
  return v
end

local stores = {}

--- call(opts, resource, method, packed_request) -> json | nil, message, code
-- opts = { path =, busy_timeout =, page_limit = }
function _M.call(opts, resource, method, req)
  local inventory = require "inventory"
  local key = opts.path
  local inv = stores[key]
  if not inv then
    local err, code
    inv, err, code = inventory.open{ path = opts.path, busy_timeout = opts.busy_timeout,
                                     page_limit = opts.page_limit }
    if not inv then return nil, err, code or "ERROR_UNKNOWN" end
    stores[key] = inv
  end
  return inv:call(resource, method, _M.unpack(req, inventory.null), true)
end

return _M
