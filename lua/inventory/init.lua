-- inventory: Cloudforet inventory Job / JobTask store on SQLite.
--
--   local inventory = require "inventory"
--   local inv = assert(inventory.open{ path = "inventory.db" })
--   inv.job.list{ domain_id = "domain-1", query = { page = { limit = 10 } } }
--
-- inventory.job / inventory.job_task work on a default store opened lazily
-- at $INVENTORY_DB, else ./inventory.db. Every method returns its result, or
-- nil, message, code, class: code is the reference's error name, class says
-- whose fault it was ("client", "unavailable": transient, "server"). Misuse
-- (a closed store, a request that is not a table, inv.job:get{} with a colon)
-- raises.

local core = require "inventory.core"

local type, error, setmetatable, pairs, ipairs, tostring =
  type, error, setmetatable, pairs, ipairs, tostring
local getenv = os.getenv

local _M = {
  _NAME = "inventory",
  _VERSION = core._VERSION,
  sqlite_version = core.sqlite_version,
  schema_version = core.schema_version,   -- the schema this library reads and writes
  null = core.null,          -- the JSON null (the same value as cjson.null)
  -- An empty Lua table is taken as [] or {}, whichever the field is; one
  -- with array_mt is always [], with object_mt always {}. Empty lists and
  -- objects in results carry them.
  array_mt = core.array_mt,
  object_mt = core.object_mt,
  -- inventory.decode(text) -> value | nil, message: JSON as Lua values that
  -- go back to the store unchanged (null kept as inventory.null, [] marked)
  decode = core.decode,
}

-- lua-cjson's own marks of a list, where this build of it has them
-- (OpenResty's): its array_mt and empty_array_mt are taken as ours, its
-- empty_array as [].
do
  local ok, cjson = pcall(require, "cjson")
  if ok and type(cjson) == "table" then
    for _, mt in ipairs{ cjson.array_mt, cjson.empty_array_mt } do
      if type(mt) == "table" and rawget(mt, "__jsontype") == nil then rawset(mt, "__jsontype", "array") end
    end
    if type(cjson.empty_array) == "userdata" then core.mark_empty_array(cjson.empty_array) end
  end
end

local RESOURCES = {
  job = { "get", "list", "stat", "analyze", "delete", "create", "cancel", "import" },
  job_task = { "get", "list", "stat", "delete", "start", "add_error", "finish", "import" },
  spot_job = { "get", "list", "stat", "delete", "import" },
}

local Store = {}
Store.__index = Store

-- The method tables (inv.job, inventory.job, ...): a request that is one of
-- them is the slip inv.job:get{...} (a colon), told apart from a bad request.
local API_TABLES = setmetatable({}, { __mode = "k" })

local function api(ud, resource)
  local t = { _resource = resource }
  API_TABLES[t] = true
  for _, m in ipairs(RESOURCES[resource]) do
    t[m] = function(req)
      if API_TABLES[req] then
        error("call inv." .. resource .. "." .. m .. "{...} with a dot, not inv."
              .. resource .. ":" .. m .. "{...}", 2)
      end
      if type(req) ~= "table" then
        error("bad argument #1 to '" .. resource .. "." .. m .. "' (table expected, got "
              .. type(req) .. ")", 2)
      end
      return ud:call(resource, m, req)
    end
  end
  return t
end

-- The options of inventory.open, in the order the error message lists them.
local OPTIONS = { "path", "url", "schema", "busy_timeout", "page_limit", "readonly",
                  "statement_timeout", "stat_timeout", "journal_seconds", "connect_timeout" }
local KNOWN = {}
for _, k in ipairs(OPTIONS) do KNOWN[k] = true end

local function invalid(msg)
  return nil, msg, "ERROR_INVALID_PARAMETER", "client"
end

-- The PostgreSQL backend is the module inventory.pg (libpq), loaded when a
-- url is given: a user of SQLite alone never needs libpq.
local function pg_driver()
  local ok, pg = pcall(require, "inventory.pg")
  if not ok then
    return nil, "Parameter is invalid. (key = url, reason = the PostgreSQL module inventory.pg "
      .. "cannot be loaded: " .. tostring(pg):gsub("\n.*", "") .. ")"
  end
  return pg.driver
end

-- The numeric options: whole numbers in [min, max] (milliseconds, rows,
-- seconds); 0 turns a budget off.
local INT_MAX = 2147483647
local RANGES = {
  busy_timeout = { 0, INT_MAX, "milliseconds" }, page_limit = { 1, 1000000, "rows" },
  statement_timeout = { 0, INT_MAX, "milliseconds, 0 for none" },
  stat_timeout = { 0, INT_MAX, "milliseconds, 0 for none" },
  journal_seconds = { 0, INT_MAX, "seconds" }, connect_timeout = { 1, INT_MAX, "milliseconds" },
}

-- the first option of the wrong type or out of its range -> message | nil
local function check_options(opts)
  for _, k in ipairs(OPTIONS) do
    local v, r = opts[k], RANGES[k]
    if v ~= nil then
      local why
      if r then
        if type(v) ~= "number" or v ~= v or v % 1 ~= 0 or v < r[1] or v > r[2] then
          why = string.format("a whole number from %d to %d (%s) is required", r[1], r[2], r[3])
        end
      elseif k == "readonly" then
        if type(v) ~= "boolean" then why = "true or false is required" end
      elseif type(v) ~= "string" then
        why = "a string is required"
      end
      if why then
        local shown = type(v) == "string" and string.format("%q", v:sub(1, 100)) or tostring(v)
        return "Parameter is invalid. (key = " .. k .. ", reason = " .. why .. ", not " .. shown .. ")"
      end
    end
  end
end

-- a URL as it may be shown: without its password
local function redact(url)
  return (url:gsub("(://[^:/@]*):[^@]*@", "%1:***@"):gsub("(password=)%S+", "%1***"))
end

--- inventory.open{ path =, url =, schema =, busy_timeout =, page_limit =,
--                  readonly =, statement_timeout =, stat_timeout =, journal_seconds =,
--                  connect_timeout = }
-- connect_timeout (ms, PostgreSQL only, default 5000): how long a connection
-- attempt may take, and how long past a call's budget a server that does not
-- answer is waited for before the connection is given up.
-- syntax: inv, err, code, class = inventory.open(opts)
-- An option it does not know (a misspelt "pth"), or url together with path,
-- is refused (nil, message, "ERROR_INVALID_PARAMETER", "client"): never a
-- silent fallback to the default path.
function _M.open(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'open' (table expected, got " .. type(opts) .. ")", 2)
  end
  opts = opts or {}
  local unknown = {}
  for k in pairs(opts) do
    if not KNOWN[k] then unknown[#unknown + 1] = tostring(k) end
  end
  if #unknown > 0 then
    table.sort(unknown)
    return invalid("Parameter is invalid. (key = " .. table.concat(unknown, ", ")
      .. ", reason = not an option of inventory.open; the options are "
      .. table.concat(OPTIONS, ", ") .. ")")
  end
  local bad = check_options(opts)
  if bad then return invalid(bad) end
  if opts.url ~= nil and opts.path ~= nil then
    return invalid("Parameter is invalid. (key = url, reason = give url (PostgreSQL) or "
      .. "path (SQLite), not both)")
  end
  -- neither path nor url: $INVENTORY_URL when it is set, else $INVENTORY_DB
  local url = opts.url
  if url == nil and opts.path == nil then
    url = getenv("INVENTORY_URL")
    if url == "" then url = nil end
  end
  if url == nil and opts.schema ~= nil then
    return invalid("Parameter is invalid. (key = schema, reason = a schema applies to a "
      .. "PostgreSQL url; a SQLite path has none)")
  end
  if url == nil and opts.connect_timeout ~= nil then
    return invalid("Parameter is invalid. (key = connect_timeout, reason = a connect timeout "
      .. "applies to a PostgreSQL url; a SQLite path has none)")
  end
  local o = {
    busy_timeout = opts.busy_timeout,
    page_limit = opts.page_limit,
    readonly = opts.readonly,
    statement_timeout = opts.statement_timeout,
    stat_timeout = opts.stat_timeout,
    journal_seconds = opts.journal_seconds,
  }
  if url then
    if type(url) ~= "string" then
      return invalid("Parameter is invalid. (key = url, reason = a connection string expected)")
    end
    local schema = opts.schema
    if schema ~= nil and (type(schema) ~= "string" or not schema:find("^[a-z_][a-z0-9_]*$")
                          or #schema > 63) then
      return invalid("Parameter is invalid. (key = schema, reason = a lowercase name of letters, "
        .. "digits and _ (at most 63, not starting with a digit) is required)")
    end
    if opts.journal_seconds ~= nil and not (type(opts.journal_seconds) == "number"
                                            and opts.journal_seconds > 0) then
      return invalid("Parameter is invalid. (key = journal_seconds, reason = must be positive on "
        .. "PostgreSQL: the change journal keeps readers on other machines exact)")
    end
    local driver, err = pg_driver()
    if not driver then return invalid(err) end
    o.url, o.schema, o.driver, o.connect_timeout = url, schema, driver, opts.connect_timeout
  else
    o.path = opts.path or getenv("INVENTORY_DB") or "inventory.db"
  end
  local ud, err, code, class = core.open(o)
  if not ud then
    if url then err = redact(err) end          -- (the driver names the url and schema)
    return nil, err, code, class
  end
  local self = setmetatable({ _ud = ud, path = o.path, url = url and redact(url),
                              schema = url and (opts.schema or "inventory") }, Store)
  for name in pairs(RESOURCES) do self[name] = api(ud, name) end
  return self
end

--- inv:import(resource, records) -> number imported | nil, msg, code
-- records: a list of documented records, or JSON text (one array, or JSON
-- lines as inv:export writes them), parsed by the core.
function Store:import(resource, records)
  if type(resource) ~= "string" or not RESOURCES[resource] then
    error("bad argument #1 to 'import' (job, job_task or spot_job expected)", 2)
  end
  if type(records) == "string" then return self._ud:import_text(resource, records) end
  if type(records) ~= "table" then
    error("bad argument #2 to 'import' (table or JSON text expected, got " .. type(records) .. ")", 2)
  end
  return self._ud:call(resource, "import", { records = records })
end

--- inv:sweep{ timeout_hours = 2, domain_id = nil } -> { jobs = n, tasks = n }
function Store:sweep(opts)
  return self._ud:call("store", "sweep", opts or {})
end

--- inv:purge{ older_than_days = 60, domain_id = nil } -> { jobs = n, tasks = n }
function Store:purge(opts)
  return self._ud:call("store", "purge", opts or {})
end

--- inv:request_cache() -> { hits = n, misses = n, entries = n }: stat requests
-- answered from the compiled-request cache (the same shape as one compiled
-- before, other ids), requests compiled, compiled requests kept (at most 64).
function Store:request_cache()
  return self._ud:request_cache()
end

--- inv:info() -> { backend, engine_version, schema_version, size_bytes, path }
function Store:info()
  return self._ud:info()
end

--- inv:check() -> { ok = bool, problems = { text, ... } }: the engine's
-- integrity check and an audit of every job's counters against its tasks.
function Store:check()
  return self._ud:check()
end

--- inv:checkpoint() -> { log_frames = n, checkpointed = n }
-- SQLite: moves the write-ahead log into the file now (a PASSIVE checkpoint:
-- it waits for no one), so that no write pays for it; a server calls it from
-- a timer (inventory.ngx does, every checkpoint_interval seconds). PostgreSQL
-- checkpoints by itself: { log_frames = 0, checkpointed = 0 }.
function Store:checkpoint()
  return self._ud:checkpoint()
end

--- inv:backup(path [, { overwrite = bool }]) -> true | nil, msg, code
-- A consistent copy (SQLite's online backup API) while the store is in use.
function Store:backup(path, opts)
  if type(path) ~= "string" then
    error("bad argument #1 to 'backup' (string expected, got " .. type(path) .. ")", 2)
  end
  return self._ud:backup(path, type(opts) == "table" and opts.overwrite or false)
end

--- inv:export(resource, { domain_id?, after?, limit?, query? } [, lines])
-- -> { records = {...}, next = cursor|nil }, or with lines = true the
-- records as JSON lines (text) and the next cursor. Records come in
-- insertion order with every stored field, so inv:import reproduces them.
function Store:export(resource, opts, lines)
  if type(resource) ~= "string" or not RESOURCES[resource] then
    error("bad argument #1 to 'export' (job, job_task or spot_job expected)", 2)
  end
  return self._ud:export(resource, opts or {}, lines and true or false)
end

--- inv:wait_change(since, seconds [, poll]) -> true when another connection
-- has committed since data version `since` (from inv:version()), false after
-- `seconds` without one. Looks every `poll` seconds (default 0.1).
function Store:wait_change(since, seconds, poll)
  return self._ud:wait_change(since, seconds, poll)
end

--- inv:changes{ after = seq, limit = 1000 } -> { changes = { {seq, at, resource, op,
-- id, domain_id, workspace_id, project_id, job_id, collector_id}, ... }, first, last }:
-- the change journal, in commit order (op "upsert", "delete", or "reset" for a
-- bulk change). first is the oldest seq still kept: a reader that last saw a
-- seq below first - 1 missed trimmed changes and reloads.
function Store:changes(opts)
  return self._ud:call("store", "changes", opts or {})
end

--- inv:trim_changes{ keep_seconds = journal_seconds } -> number of changes removed
function Store:trim_changes(opts)
  return self._ud:call("store", "trim_changes", opts or {})
end

--- inv:call(resource, method, request [, json]): the generic entry point;
-- json = true returns the REST rendering as JSON text.
function Store:call(resource, method, req, json)
  if type(req) ~= "table" then
    error("bad argument #3 to 'call' (table expected, got " .. type(req) .. ")", 2)
  end
  return self._ud:call(resource, method, req, json)
end

--- inv:cached_call(seen_dv, seen_own, resource, method, req) -> dv, own, json
-- | dv, own, false | nil, nil, nil, message, code, class: a read (get, list,
-- stat, analyze) rendered for REST, with the version (inv:version()) it was
-- read at, in the same snapshot on SQLite; false, without reading, when the
-- version is (seen_dv, seen_own). What inventory.rest's cache runs.
function Store:cached_call(seen_dv, seen_own, resource, method, req)
  if type(req) ~= "table" then
    error("bad argument #5 to 'cached_call' (table expected, got " .. type(req) .. ")", 2)
  end
  return self._ud:cached_call(seen_dv, seen_own, resource, method, req)
end

--- inv:explain("job", "list", request) -> EXPLAIN QUERY PLAN text
function Store:explain(resource, method, req)
  return self._ud:explain(resource, method, req)
end

--- inv:set_now("2024-01-04T12:00:00Z" | ms | nil): freeze the clock (tests).
function Store:set_now(t)
  return self._ud:set_now(t)
end

--- inv:version() -> data_version, own_changes: equal values mean that every
-- read returns what it returned before (another connection's commit moves
-- the first, this store's writes the second). For result caches.
function Store:version()
  return self._ud:version()
end

function Store:schema_version()
  return self._ud:schema_version()
end

--- inv:close(): idempotent, always true.
function Store:close()
  return self._ud:close()
end
Store.__close = Store.close   -- local inv <close> = inventory.open{...} (Lua 5.4)

-- The default store, opened on first use.
local default
local function default_store()
  if not default then
    local s, err = _M.open()
    if not s then error("inventory: cannot open the default store: " .. tostring(err), 3) end
    default = s
  end
  return default
end

-- inventory.job.list{...} opens the default store on first use; a slip
-- (inventory.job:list{...}) raises before opening anything.
for name, methods in pairs(RESOURCES) do
  local proxy, wrappers = {}, {}
  for _, m in ipairs(methods) do
    wrappers[m] = function(req)
      if API_TABLES[req] then
        error("call inventory." .. name .. "." .. m .. "{...} with a dot, not inventory."
              .. name .. ":" .. m .. "{...}", 2)
      end
      return default_store()[name][m](req)
    end
  end
  API_TABLES[proxy] = true
  _M[name] = setmetatable(proxy, { __index = wrappers })
end

return _M
