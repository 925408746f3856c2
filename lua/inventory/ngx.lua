-- inventory.ngx: glue between nginx (ngx_lua) and inventory.rest.
--
--   init_worker_by_lua_block {
--     require("inventory.ngx").init_worker{
--       db = "/srv/inventory/inventory.db",      -- SQLite; or, PostgreSQL:
--       -- url = "postgresql://inv@db1/inv", schema = "inventory", connect_timeout = 2000,
--       tokens = "/srv/inventory/tokens.json",   -- or resolver = function(headers) ... end
--       thread_pool = "inventory",               -- stat/analyze in ngx.run_worker_thread;
--                                                -- every call, with a url (required then)
--       busy_timeout = 5000, page_limit = 1000,  -- optional, passed to inventory.open, as are
--       statement_timeout =, stat_timeout =, journal_seconds =
--       cache_entries = 256,                     -- exact read-result cache per worker; 0 = off
--       sweep_interval = 600, sweep_timeout_hours = 2,      -- seconds; 0/nil = off
--       purge_interval = 86400, purge_older_than_days = 60, -- seconds; 0/nil = off
--       checkpoint_interval = 1,                 -- SQLite: seconds between checkpoints; 0 = off
--       metrics_allow = { "127.0.0.1" }, metrics_interval = 15,  -- /metrics (inventory.metrics)
--       events = { max_streams = 1000, keep_seconds = 3600 }, -- inventory.events options
--     }
--   }
--   location /inventory/ { content_by_lua_block { require("inventory.ngx").handle() } }
--   location = /inventory/v1/events {            -- Server-Sent Events (inventory.events)
--     lua_check_client_abort on;
--     content_by_lua_block { require("inventory.ngx").events() }
--   }
--
-- SQLite: one store (one SQLite connection) per worker, opened in
-- init_worker_by_lua* (never in init_by_lua*: a connection must not cross the
-- fork). If the open fails there, it is retried on the next request (503
-- until it succeeds).
-- PostgreSQL (url): libpq blocks, and a blocked worker stops every connection
-- it holds, so every call runs in the thread pool (inventory.ngx_thread: one
-- store, one connection, per thread VM; the driver reconnects after a
-- failure). The worker's store is a proxy that never opens a connection; a
-- timer opens the thread's store (and migrates the schema) at start-up. When
-- the server is down, calls answer 503 within connect_timeout (plus the
-- call's budget for a server that hangs), and the next call after it is back
-- succeeds: nothing to restart.
-- The sweep, purge and checkpoint timers run on worker 0 only. The checkpoint
-- timer (SQLite) moves the write-ahead log into the file (store:checkpoint(),
-- which waits for no one), so that the writes that fill the log do not pay
-- for it.
local rest = require "inventory.rest"
local thread = require "inventory.ngx_thread"
local metrics = require "inventory.metrics"

local ngx = ngx
local type, pairs, ipairs, pcall, tostring, tonumber = type, pairs, ipairs, pcall, tostring, tonumber

local _M = { _VERSION = rest._VERSION }

local cfg            -- the options of init_worker
local store          -- this worker's store
local handler        -- this worker's rest handler
local resolver       -- built once per worker
local setup_err      -- why there is no handler (logged, sent as 503)

local LEVELS = { error = ngx.ERR, warn = ngx.WARN, info = ngx.INFO }

local function log(level, ...)
  ngx.log(level, "inventory: ", ...)
end

-- the options of inventory.open that init_worker passes through
local STORE_OPTIONS = { "busy_timeout", "page_limit", "statement_timeout", "stat_timeout", "journal_seconds" }
local function store_options()
  local o = {}
  if cfg.url then
    o.url, o.schema, o.connect_timeout = cfg.url, cfg.schema, cfg.connect_timeout
  else
    o.path = cfg.db
  end
  for _, k in ipairs(STORE_OPTIONS) do o[k] = cfg[k] end
  return o
end

-- where the store is, as a message may say it (a url without its password)
local function where()
  if cfg.url then
    return (cfg.url:gsub("(://[^:/@]*):[^@]*@", "%1:***@"):gsub("(password=)%S+", "%1***"))
  end
  return tostring(cfg.db)
end

local function thread_offload(pool)
  local opts = store_options()
  return function(resource, method, req)
    local ok, res, msg, code, class = ngx.run_worker_thread(pool, "inventory.ngx_thread", "call",
                                                            opts, resource, method, thread.pack(req))
    if not ok then
      return nil, "the worker thread failed: " .. tostring(res), "ERROR_UNKNOWN", "server"
    end
    return res, msg, code, class
  end
end

-- open the store and build the handler; true | nil, err
local function setup()
  if handler then return true end
  if not store then
    if cfg.url then
      -- PostgreSQL: no connection in the worker; the thread VMs open theirs
      store = thread.remote(cfg.thread_pool, store_options())
    else
      local inventory = require "inventory"
      local inv, err = inventory.open(store_options())
      if not inv then
        err = tostring(err)
        setup_err = err:find("^cannot open ") and err or "cannot open " .. where() .. ": " .. err
        return nil, setup_err
      end
      store = inv
    end
  end
  handler = rest.new{
    store = metrics.instrument(store),       -- tells /metrics the cache's hits and misses
    resolver = resolver,
    -- (a remote store runs every call in the pool already)
    offload = metrics.instrument_offload(cfg.thread_pool and not cfg.url and thread_offload(cfg.thread_pool)
                                         or nil),
    cache_entries = cfg.cache_entries,       -- read-result cache; 0 = off (default 256)
    -- server faults at error, transient ones (503) at warn, client faults at info
    log = function(msg, level) log(LEVELS[level] or ngx.ERR, msg) end,
  }
  setup_err = nil
  return true
end

local function every(interval, name, fn)
  interval = tonumber(interval) or 0
  if interval <= 0 then return end
  local ok, err = ngx.timer.every(interval, function(premature)
    if premature then return end
    if not setup() then log(ngx.WARN, name, " skipped: ", setup_err); return end
    local pok, res, msg = pcall(fn, store)
    if not pok or res == nil then
      log(ngx.ERR, name, " failed: ", tostring(pok and msg or res))
    elseif type(res) == "table" and ((res.jobs or 0) > 0 or (res.tasks or 0) > 0) then
      log(ngx.NOTICE, name, ": ", res.jobs or 0, " jobs, ", res.tasks or 0, " tasks")
    end
  end)
  if not ok then log(ngx.ERR, "cannot start the ", name, " timer: ", err) end
end

--- init_worker(opts): call from init_worker_by_lua*.
function _M.init_worker(opts)
  if type(opts) ~= "table" or (type(opts.db) ~= "string") == (type(opts.url) ~= "string") then
    error("inventory.ngx.init_worker: opts.db (a SQLite database path) or opts.url (a PostgreSQL "
          .. "connection string) is required, not both", 2)
  end
  if opts.url and type(opts.thread_pool) ~= "string" then
    error("inventory.ngx.init_worker: a PostgreSQL store (url) needs opts.thread_pool: libpq blocks, "
          .. "so every call runs in nginx's thread pool", 2)
  end
  cfg = {}
  for k, v in pairs(opts) do cfg[k] = v end
  metrics.init_worker(cfg)             -- metrics_allow, metrics_interval, metrics_dict
  if type(cfg.resolver) == "function" then
    resolver = cfg.resolver
  elseif type(cfg.tokens) == "string" then
    local ok, r = pcall(rest.token_file_resolver, cfg.tokens)
    if not ok then
      setup_err = tostring(r)
      log(ngx.ERR, setup_err)
      return
    end
    resolver = r
  else
    error("inventory.ngx.init_worker: opts.tokens (a token file) or opts.resolver is required", 2)
  end
  local ok, err = setup()
  if not ok then log(ngx.ERR, err, " (retried on the next request)") end
  if ok and cfg.url then
    -- open a thread's store now (the schema is created or migrated on open)
    -- rather than on the first request; a server that is down is tried again
    -- by every request
    ngx.timer.at(0, function(premature)
      if premature then return end
      local info, msg = store:info()
      if not info then log(ngx.WARN, "the store at ", where(), " does not answer yet: ", tostring(msg)) end
    end)
  end

  local ev = {}
  for k, v in pairs(type(cfg.events) == "table" and cfg.events or {}) do ev[k] = v end
  ev.store = function() return setup() and store or nil end
  require("inventory.events").init_worker(ev)

  if ngx.worker.id() == 0 then
    every(cfg.sweep_interval, "sweep", function(s)
      return s:sweep{ timeout_hours = cfg.sweep_timeout_hours or 2 }
    end)
    every(cfg.purge_interval, "purge", function(s)
      return s:purge{ older_than_days = cfg.purge_older_than_days or 60 }
    end)
    if not cfg.url then
      local interval = cfg.checkpoint_interval
      if interval == nil then interval = 1 end
      every(interval, "checkpoint", function(s) return s:checkpoint() end)
    end
  end
end

-- this worker's store, opened if it is not yet: store | nil, why
local function current_store()
  if not cfg then return nil, "init_worker was not called" end
  if not store then setup() end
  return store, setup_err
end

--- healthz(): GET /healthz, 200 {"status":"ok"} or 503 (inventory.metrics)
function _M.healthz()
  return metrics.healthz(current_store)
end

--- metrics(): GET /metrics, Prometheus text for the allowed addresses
function _M.metrics()
  return metrics.metrics(current_store, cfg and cfg.thread_pool and thread_offload(cfg.thread_pool) or nil)
end

--- log(): log_by_lua*, counts every request for /metrics
function _M.log()
  return metrics.log()
end

--- store(): this worker's store (nil before init_worker or if the open failed)
function _M.store()
  return store
end

-- the request body: in memory, or in the temp file nginx spilled it to
local function read_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then return body end
  local file = ngx.req.get_body_file()
  if not file then return nil end
  local f, err = io.open(file, "rb")
  if not f then return nil, err end
  body = f:read("*a")
  f:close()
  return body
end

local function respond(status, text, headers)
  ngx.status = status
  local h = ngx.header
  h["Content-Type"] = "application/json"
  h["Content-Length"] = #text
  if headers then for k, v in pairs(headers) do h[k] = v end end
  ngx.print(text)
end

--- handle(): the content handler (content_by_lua*).
function _M.handle()
  if not cfg then
    return respond(503, rest.error_body("ERROR_UNKNOWN",
      "The inventory store is not configured (init_worker was not called)."))
  end
  if not resolver or not setup() then
    log(ngx.ERR, setup_err)
    return respond(503, rest.error_body("ERROR_UNKNOWN", "The inventory store is unavailable."))
  end
  local method = ngx.req.get_method()
  local body
  if method == "POST" then
    local err
    body, err = read_body()
    if err then
      log(ngx.ERR, "cannot read the request body: ", err)
      return respond(500, rest.error_body("ERROR_UNKNOWN", "Cannot read the request body."))
    end
  end
  local path = ngx.var.uri
  local ok, status, text, headers = pcall(handler.handle, handler, method, path, body,
                                          ngx.req.get_headers(), ngx.var.args or "")
  if not ok then
    log(ngx.ERR, "handler error: ", tostring(status))
    return respond(500, rest.error_body("ERROR_UNKNOWN", "Internal error."))
  end
  return respond(status, text, headers)
end

--- events(): the content handler of GET /inventory/v1/events (inventory.events).
function _M.events()
  if not cfg or not resolver or not setup() then
    if cfg then log(ngx.ERR, setup_err) end
    return respond(503, rest.error_body("ERROR_UNKNOWN", "The inventory store is unavailable."))
  end
  return require("inventory.events").handle(store, resolver)
end

return _M
