-- inventory.ngx_thread: the module nginx runs in its thread pool
-- (ngx.run_worker_thread): for stat and analyze on SQLite, so a long
-- aggregate does not block the worker's event loop; for every call on
-- PostgreSQL, whose client library (libpq) blocks on the network (remote()
-- below is the worker's side of it).
--
-- Each pool thread has its own Lua VM; this module keeps one store per
-- database path (or url and schema) in that VM, opened on first use (one
-- SQLite or PostgreSQL connection per thread VM, never shared). Only strings, numbers, booleans, nil and plain
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
local ngx = ngx              -- (remote() is for an nginx worker)

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

-- this thread VM's store for opts (one per path, or per url and schema),
-- opened on first use; a failed open is tried again by the next call, and
-- the PostgreSQL driver reconnects a store whose connection was lost
local function store_for(opts)
  local inventory = require "inventory"
  local key = (opts.path or opts.url or "") .. "\0" .. (opts.schema or "")
  local inv = stores[key]
  if not inv then
    local err, code, class
    inv, err, code, class = inventory.open(opts)
    if not inv then return nil, err, code or "ERROR_UNKNOWN", class or "server" end
    stores[key] = inv
  end
  return inv, inventory
end

--- call(opts, resource, method, packed_request) -> json | nil, message, code, class
-- opts = { path =, busy_timeout =, page_limit =, ... }: inventory.open's options
function _M.call(opts, resource, method, req)
  local inv, inventory, code, class = store_for(opts)
  if not inv then return nil, inventory, code, class end
  return inv:call(resource, method, _M.unpack(req, inventory.null), true)
end

--- call_versioned(opts, seen_dv, seen_own, resource, method, packed_request)
-- -> dv, own, json | dv, own, false (the store's version is (seen_dv,
-- seen_own): the caller's cached answer still holds) | nil, nil, nil, message,
-- code, class. One trip to the thread pool for a cached read (the store's
-- cached_call): an answer is never older than its tag.
function _M.call_versioned(opts, seen_dv, seen_own, resource, method, req)
  local inv, inventory, code, class = store_for(opts)
  if not inv then return nil, nil, nil, inventory, code, class end
  return inv:cached_call(seen_dv or nil, seen_own or nil, resource, method, _M.unpack(req, inventory.null))
end

-- the Store methods a remote store forwards (inventory.init's Store)
local METHODS = { version = true, info = true, changes = true, trim_changes = true,
                  sweep = true, purge = true }

--- method(opts, name, packed_arg) -> the Store method's results, packed
function _M.method(opts, name, arg)
  if not METHODS[name] then return nil, "not a forwarded method: " .. tostring(name), "ERROR_UNKNOWN", "server" end
  local inv, inventory, code, class = store_for(opts)
  if not inv then return nil, inventory, code, class end
  local a, b, c, d = inv[name](inv, _M.unpack(arg, inventory.null))
  return _M.pack(a), b, c, d
end

---------------------------------------------------------------------------
-- the worker's side: a store whose every call runs in the thread pool

--- remote(pool, opts) -> a store for the nginx worker (inventory.ngx with a
-- PostgreSQL url): call, cached_call, version, info, changes, trim_changes,
-- sweep and purge run through ngx.run_worker_thread on `pool`, in a thread
-- VM's own store, so the worker's event loop never waits on the network.
-- A thread pool that cannot take the task (its queue is full) is
-- "unavailable" (503); any other failure of the thread is the server's.
function _M.remote(pool, opts)
  local null = require("inventory").null
  local function run(fn, ...)
    local ok, a, b, c, d, e, f = ngx.run_worker_thread(pool, "inventory.ngx_thread", fn, opts, ...)
    if not ok then
      local why = tostring(a)
      return false, "the worker thread failed: " .. why, "ERROR_UNKNOWN",
        why:find("queue", 1, true) and "unavailable" or "server"
    end
    return true, a, b, c, d, e, f
  end
  local R = { remote = true }
  function R.call(_, resource, method, req)
    local ok, a, b, c, d = run("call", resource, method, _M.pack(req))
    if not ok then return nil, a, b, c end
    return a, b, c, d
  end
  function R.cached_call(_, seen_dv, seen_own, resource, method, req)
    local ok, dv, own, res, msg, code, class = run("call_versioned", seen_dv or false, seen_own or false,
                                                  resource, method, _M.pack(req))
    if not ok then return nil, nil, nil, dv, own, res end
    return dv, own, res, msg, code, class
  end
  for name in pairs(METHODS) do
    R[name] = function(_, arg)
      local ok, a, b, c, d = run("method", name, _M.pack(arg))
      if not ok then return nil, a, b, c end
      return _M.unpack(a, null), b, c, d
    end
  end
  return R
end

return _M
