-- inventory.ngx_thread: the module nginx runs in its thread pool
-- (ngx.run_worker_thread) for stat and analyze, so a long aggregate does not
-- block the worker's event loop.
--
-- Each pool thread has its own Lua VM; this module keeps one store per
-- database path in that VM, opened on first use (one SQLite connection per
-- thread VM, never shared). Only strings, numbers, booleans, nil and plain
-- tables cross into a thread VM, so the request is packed: a JSON null (a
-- light userdata) travels as a marker table and is restored on the other
-- side. The marker is a table whose only key is the boolean true: a request
-- decoded from JSON or from a query string has string and integer keys only,
-- so no value a client sends can turn into null on the way (a string, say
-- an old marker spelling, stays that string and the binding judges it as
-- the inline path does).
--
--   worker:  ngx.run_worker_thread(pool, "inventory.ngx_thread", "call",
--                                  opts, resource, method, thread.pack(request))
--   thread:  call(...) -> json | nil, message, code, class
local _M = {}

local type, pairs, next, rawget = type, pairs, next, rawget

local NULL_TAG = "inventory.null"

local function is_null_mark(t)
  return rawget(t, true) == NULL_TAG and next(t, next(t)) == nil
end
_M.is_null_mark = is_null_mark

--- pack(v): a deep copy with JSON nulls (light userdata NULL) replaced by a marker
function _M.pack(v)
  local t = type(v)
  if t == "table" then
    local out = {}
    for k, x in pairs(v) do out[k] = _M.pack(x) end
    return out
  elseif t == "userdata" then
    return { [true] = NULL_TAG }
  end
  return v
end

--- unpack(v, null): the inverse of pack; null is the JSON null of this VM
function _M.unpack(v, null)
  if type(v) == "table" then
    if is_null_mark(v) then return null end
    for k, x in pairs(v) do v[k] = _M.unpack(x, null) end
  end
  return v
end

local stores = {}

--- call(opts, resource, method, packed_request) -> json | nil, message, code, class
-- opts = { path =, busy_timeout =, page_limit =, ... }: inventory.open's options
function _M.call(opts, resource, method, req)
  local inventory = require "inventory"
  local key = opts.path or opts.url
  local inv = stores[key]
  if not inv then
    local err, code, class
    inv, err, code, class = inventory.open(opts)
    if not inv then return nil, err, code or "ERROR_UNKNOWN", class or "server" end
    stores[key] = inv
  end
  return inv:call(resource, method, _M.unpack(req, inventory.null), true)
end

return _M
