-- spec/helper.lua: shared fixtures for the busted specs.
--   local H = require "spec.helper"
--   local inv = H.open()             -- a fresh store on the backend under test
--   local inv = H.open{ shared = true }  -- one a second connection can reach (SQLite: a file)
--   local inv2 = H.reopen(inv)       -- a second connection to inv's store
--   H.where(inv)                     -- { path = } or { url =, schema = }: inv's store
--   H.drop(inv)                      -- close inv and remove its store (file or schema)
--   local inv = H.canonical()        -- a fresh store holding Appendix A of reference/query.md
--   H.ids(result)                    -- { "job-aaa111", ... } of a list result
--   H.ok(inv.job.list{...})          -- the result, or a failed assertion naming the error
--   H.fails(code, inv.job.get{...})  -- asserts nil, message, code; returns the message
--   H.raises(pattern, f, ...)        -- asserts that f(...) raises an error matching pattern
--   H.tmpdb() / H.rmdb(path)         -- a fresh database path; remove it and its -wal/-shm
--   H.only("sqlite", reason)         -- inside an it(): the test is skipped (pending, with
--                                       the reason) on the other backend
--
-- The backend under test: PostgreSQL when INVENTORY_TEST_URL names a server
-- (scripts/test.sh starts one with scripts/pg.sh), SQLite otherwise. On
-- PostgreSQL every store is a fresh schema of that database (the process id,
-- the time and a counter name it); on SQLite a fresh :memory: store (a temp
-- file when it is shared).
local inventory = require "inventory"
local assert = require "luassert"     -- busted's assert, also inside this module

local H = {}

-- ok(result, msg, code, class): the result of a call that must succeed
function H.ok(r, msg, code, class)
  assert(r, "unexpected error: " .. tostring(code) .. " (" .. tostring(class) .. "): " .. tostring(msg))
  return r
end

-- fails(code, result, msg, got_code, class): a call that must fail with code;
-- returns its message
function H.fails(code, r, msg, got, class)
  assert.is_nil(r, "expected " .. code)
  assert.are.equal(code, got, msg)
  assert.is_string(msg)
  return msg, class
end

-- raises(pattern, f, ...): f(...) raises an error whose text matches pattern
function H.raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error matching " .. pattern)
  assert.matches(pattern, tostring(err))
  return err
end

function H.tmpdb()
  local path = os.tmpname()
  os.remove(path)                         -- SQLite creates it
  return path
end
function H.rmdb(path)
  for _, suffix in ipairs{ "", "-wal", "-shm", "-journal" } do os.remove(path .. suffix) end
end

-- The call budgets scale with INV_TEST_TIME_SCALE (ASan, valgrind run the
-- specs 10 to 30 times slower than a plain build).
H.TIME_SCALE = tonumber(os.getenv("INV_TEST_TIME_SCALE")) or 1

H.URL = os.getenv("INVENTORY_TEST_URL")
if H.URL == "" then H.URL = nil end
H.BACKEND = H.URL and "postgresql" or "sqlite"
H.PG = H.URL ~= nil

-- the process id (schema names of concurrent runs never meet)
local PID = (function()
  local f = io.open("/proc/self/stat", "r")
  local pid = f and f:read("*l"):match("^(%d+)")
  if f then f:close() end
  return pid or tostring(math.random(1, 1e9))
end)()
local WHERE = setmetatable({}, { __mode = "k" })      -- store -> where it is

-- State that outlives this module: busted loads it afresh for each spec file
-- (insulate), and schema names must never repeat within a process.
local STATE = debug.getregistry().inventory_spec_helper or { counter = 0, opened = nil }
debug.getregistry().inventory_spec_helper = STATE

-- The stores a test opens close when it ends (a PostgreSQL connection each:
-- the server's connection limit is no matter of garbage collection). Stores
-- of a describe's setup or before_each are their own code's to close.
if not STATE.subscribed then
  STATE.subscribed = true
  local api = require "busted"
  api.subscribe({ "test", "start" }, function()
    STATE.opened = {}
    return nil, true
  end)
  api.subscribe({ "test", "end" }, function()
    for _, inv in ipairs(STATE.opened or {}) do pcall(inv.close, inv) end
    STATE.opened = nil
    return nil, true
  end)
end
local function track(inv)
  if STATE.opened then STATE.opened[#STATE.opened + 1] = inv end
  return inv
end

-- a fresh schema name: t<pid>_<time>_<n>
function H.schema_name()
  STATE.counter = STATE.counter + 1
  return string.format("t%s_%d_%d", PID, os.time(), STATE.counter)
end

local function copy(t)
  local o = {}
  for k, v in pairs(t or {}) do o[k] = v end
  return o
end

local function budgets(opts)
  if opts.statement_timeout == nil then opts.statement_timeout = math.floor(500 * H.TIME_SCALE) end
  if opts.stat_timeout == nil then opts.stat_timeout = math.floor(10000 * H.TIME_SCALE) end
end

-- H.open(opts): a fresh store on the backend under test. opts are
-- inventory.open's, and shared = true (a second connection may open it:
-- SQLite then uses a temp file instead of :memory:). An explicit path or
-- url is the caller's: a spec passes one only for what is SQLite's alone.
function H.open(opts)
  opts = copy(opts)
  local shared = opts.shared
  opts.shared = nil
  if H.PG and opts.path == nil and opts.url == nil then
    opts.url = H.URL
    opts.schema = opts.schema or H.schema_name()
  elseif opts.path == nil and opts.url == nil then
    opts.path = shared and H.tmpdb() or ":memory:"
  end
  budgets(opts)
  local inv = track(assert(inventory.open(opts)))
  WHERE[inv] = { path = opts.path, url = opts.url, schema = opts.schema,
                 tmp = shared and opts.path ~= nil and opts.path ~= ":memory:" }
  return inv
end

-- H.options(opts): inventory.open's options for a fresh store (not opened)
function H.options(opts)
  opts = copy(opts)
  if H.PG then
    opts.url = H.URL
    opts.schema = opts.schema or H.schema_name()
  else
    opts.path = opts.path or ":memory:"
  end
  budgets(opts)
  return opts
end

-- H.psql(inv, sql): run SQL of a test on inv's PostgreSQL schema with psql
-- (what a test does behind the library's back); returns psql's output
function H.psql(inv, sql)
  local w = H.where(inv)
  assert(w.url, "H.psql: a PostgreSQL store")
  local q = function(x) return "'" .. x:gsub("'", "'\\''") .. "'" end
  local p = assert(io.popen("env -u LD_PRELOAD psql -X -q -t -A -v ON_ERROR_STOP=1 " .. q(w.url) .. " -c "
                            .. q("SET search_path = " .. w.schema .. "; " .. sql) .. " 2>&1; echo \"rc=$?\""))
  local out = p:read("*a")
  p:close()
  local body, rc = out:match("^(.-)rc=(%d+)%s*$")
  assert(rc == "0", "psql: " .. out)
  return body
end

-- where inv's store is, as inventory.open's options ({ path } or { url, schema })
function H.where(inv)
  local w = assert(WHERE[inv], "H.where: a store H.open did not open")
  return { path = w.path, url = w.url, schema = w.schema }
end

-- H.reopen(inv, opts): another connection to inv's store (opts: more options)
function H.reopen(inv, opts)
  local w = H.where(inv)
  assert(w.path ~= ":memory:", "H.reopen: open the first with shared = true")
  local o = copy(opts)
  for k, v in pairs(w) do o[k] = v end
  budgets(o)
  local inv2, msg, code, class = inventory.open(o)
  if not inv2 then return nil, msg, code, class end
  WHERE[inv2] = { path = w.path, url = w.url, schema = w.schema }
  return track(inv2)
end

-- H.open_source(inv, extra): Lua source of an inventory.open{...} call that
-- reaches inv's store (for a child process); extra: more options
function H.open_source(inv, extra)
  local o = H.where(inv)
  for k, v in pairs(extra or {}) do o[k] = v end
  local parts = {}
  for k, v in pairs(o) do
    -- (LuaJIT's %q quotes a number as a string)
    parts[#parts + 1] = type(v) == "string" and string.format("%s = %q", k, v) or k .. " = " .. tostring(v)
  end
  table.sort(parts)
  return "inventory.open{ " .. table.concat(parts, ", ") .. " }"
end

-- H.drop(inv): close inv and remove its store (a temp file H.open made; on
-- PostgreSQL its schema is left to the throwaway server)
function H.drop(inv)
  local w = WHERE[inv]
  inv:close()
  if w and w.tmp then H.rmdb(w.path) end
end

-- ===================== twins: both backends, one answer =====================
-- H.twin(opts): on SQLite, H.open(opts). On PostgreSQL, a store that runs
-- every call on the PostgreSQL store under test AND on a SQLite :memory:
-- store of the same data, and asserts that both answer the same: REST text
-- byte for byte, Lua results value for value (an integer is no float),
-- errors by message, code and class; then returns PostgreSQL's answer.
-- job.create draws random ids: it runs on PostgreSQL, and the records it
-- made are copied to SQLite (export, import). The clock is pinned on both
-- for each call (set_now, or the wall clock's second).
local unpack = table.unpack or unpack      -- luacheck: compat
local function pack(...) return { n = select("#", ...), ... } end

local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) == "number" then
    return a == b and (not math.type or math.type(a) == math.type(b))
  end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
H.same = same

local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then return string.format("%q", #v > 2000 and v:sub(1, 2000) .. "..." or v) end
  if type(v) ~= "table" or depth > 6 then
    return (math.type and math.type(v) == "float") and string.format("%.17g(float)", v) or tostring(v)
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = tostring(k) .. "=" .. show(v[k], depth + 1) end
  return "{" .. table.concat(out, ", ") .. "}"
end
H.show = show

local RESOURCE_METHODS = {
  job = { "get", "list", "stat", "analyze", "delete", "create", "cancel", "import" },
  job_task = { "get", "list", "stat", "delete", "start", "add_error", "finish", "import" },
  spot_job = { "get", "list", "stat", "delete", "import" },
}

function H.twin(opts)
  local a = H.open(opts)
  if not H.PG then return a end
  local o = copy(opts)
  o.path, o.url, o.schema, o.shared = ":memory:", nil, nil, nil
  budgets(o)
  local b = track(assert(inventory.open(o)))
  local t = { _pg = a, _sqlite = b, calls = 0 }
  local fixed, last = nil, 0
  local function pin()
    if fixed then return end
    last = math.max(os.time() * 1000, last + 1)
    a:set_now(last); b:set_now(last)
  end
  local function unpin()
    if not fixed then a:set_now(nil); b:set_now(nil) end
  end
  -- README "PostgreSQL: differences" 5: when several documents fail one stat
  -- stage, the message quotes the one the engine's row order met first; the
  -- code, class and words before the value agree
  local function same_failure(ra, rb)
    local function masked(m) return (m:gsub(", not .*%)$", ", not ...)")) end
    return ra[1] == nil and rb[1] == nil and ra[3] == "ERROR_DB_QUERY" and ra[3] == rb[3] and ra[4] == rb[4]
      and type(ra[2]) == "string" and type(rb[2]) == "string" and masked(ra[2]) == masked(rb[2])
  end
  -- run f on both stores, assert equal answers, return PostgreSQL's
  local function both(label, f)
    pin()
    local ra, rb = pack(f(a)), pack(f(b))
    unpin()
    t.calls = t.calls + 1
    if not same(ra, rb) and not same_failure(ra, rb) then
      if type(label) == "function" then label = label() end
      local where = ""
      if type(ra[1]) == "string" and type(rb[1]) == "string" then
        local i = 1
        while ra[1]:byte(i) == rb[1]:byte(i) do i = i + 1 end
        where = ("\n  first difference at byte %d:\n  postgresql: ...%s\n  sqlite:     ...%s"):format(i,
          ra[1]:sub(math.max(1, i - 120), i + 80), rb[1]:sub(math.max(1, i - 120), i + 80))
      end
      error("the backends answer differently: " .. label .. where .. "\n  postgresql: " .. show(ra)
            .. "\n  sqlite:     " .. show(rb), 3)
    end
    return unpack(ra, 1, ra.n)
  end
  -- a create: on PostgreSQL, then its records copied to SQLite
  local function create(resource, req, json)
    pin()
    local r = pack(a:call(resource, "create", req, json))
    unpin()
    if r[1] == nil then return both("job.create (failing)", function(s) return s:call(resource, "create", req, json) end) end
    local job = json and require("cjson.safe").decode(r[1]) or r[1]
    for _, res in ipairs{ "job", "job_task" } do
      local ex = assert(a:export(res, { domain_id = job.domain_id,
        query = { filter = { { k = "job_id", v = job.job_id, o = "eq" } } } }))
      if #ex.records > 0 then assert(b:import(res, ex.records)) end
    end
    return unpack(r, 1, r.n)
  end
  function t:call(resource, method, req, json)
    if method == "create" then return create(resource, req, json) end
    return both(function() return resource .. "." .. method .. " " .. show(req) end,
                function(s) return s:call(resource, method, req, json) end)
  end
  function t:import(resource, records)
    return both("import " .. resource, function(s) return s:import(resource, records) end)
  end
  function t:export(resource, eo, lines)
    return both("export " .. resource, function(s) return s:export(resource, eo, lines) end)
  end
  for _, m in ipairs{ "sweep", "purge" } do
    t[m] = function(_, x) return both(function() return m .. " " .. show(x) end, function(s) return s[m](s, x) end) end
  end
  function t:set_now(x)
    fixed = x
    a:set_now(x); b:set_now(x)
  end
  function t:close() b:close(); return a:close() end
  for resource, methods in pairs(RESOURCE_METHODS) do
    local api = {}
    for _, m in ipairs(methods) do
      api[m] = function(req, ...)
        -- the colon slip (inv.job:get{...}) raises as the store under test does
        if req == api then return a[resource][m](a[resource], ...) end
        if m == "create" then return create(resource, req, false) end
        return both(function() return resource .. "." .. m .. " " .. show(req) end,
                    function(s) return s[resource][m](req) end)
      end
    end
    t[resource] = api
  end
  -- anything else (explain, info, version, ...): the store under test
  return setmetatable(t, { __index = function(_, k)
    local v = a[k]
    if type(v) == "function" then return function(_, ...) return v(a, ...) end end
    return v
  end })
end

-- busted's environment of the spec files (what `pending` is resolved in):
-- the environment of the first wrapped function up the stack of require
local SPEC_ENV = (function()
  local getfenv = require("busted.compatibility").getfenv
  for level = 2, 30 do
    local info = debug.getinfo(level, "f")
    if not info then break end
    local env = info.func and getfenv(info.func)
    if env and env ~= _G then return env end
  end
end)()

-- H.only(backend, reason): inside an it(), skip the test on the other
-- backend: busted counts it as pending (scripts/test.sh: skipped), with why
function H.only(backend, reason)
  if H.BACKEND ~= backend then
    assert(SPEC_ENV, "H.only: no busted environment").pending(backend .. " only: " .. reason)
  end
end

-- reference/query.md Appendix A, insertion order = listed order
H.JOBS = {
  { job_id = "job-aaa111", status = "SUCCESS", total_tasks = 3, collector_id = "collector-1",
    plugin_id = "plugin-aws", created_at = "2024-01-01T00:00:00.000Z",
    finished_at = "2024-01-01T00:10:00.000Z" },
  { job_id = "job-bbb222", status = "FAILURE", total_tasks = 5, collector_id = "collector-1",
    plugin_id = "plugin-aws", created_at = "2024-01-02T00:00:00.000Z",
    finished_at = "2024-01-02T00:20:00.000Z" },
  { job_id = "job-ccc333", status = "IN_PROGRESS", total_tasks = 2, collector_id = "collector-2",
    plugin_id = "plugin-gcp", created_at = "2024-01-03T00:00:00.000Z" },
  { job_id = "job-ddd444", status = "CANCELED", total_tasks = 0, collector_id = "collector-2",
    plugin_id = "plugin-gcp", created_at = "2024-01-04T00:00:00.000Z",
    finished_at = "2024-01-04T01:00:00.000Z" },
}
for _, j in ipairs(H.JOBS) do
  j.resource_group = "DOMAIN"; j.workspace_id = "*"; j.domain_id = "domain-1"
  j.remained_tasks = 0; j.success_tasks = 0; j.failure_tasks = 0
  j.updated_at = j.created_at
end

H.TASKS = {
  { job_task_id = "job-task-001", job_id = "job-aaa111", status = "SUCCESS", provider = "aws",
    created_count = 10, failure_count = 0, errors = {}, created_at = "2024-01-01T00:01:00.000Z" },
  { job_task_id = "job-task-002", job_id = "job-bbb222", status = "FAILURE", provider = "aws",
    created_count = 1, failure_count = 2,
    errors = { { error_code = "E_A", message = "timeout", additional = {} },
               { error_code = "E_B", message = "denied",
                 additional = { resource_type = "inventory.CloudService" } } },
    created_at = "2024-01-02T00:01:00.000Z" },
  { job_task_id = "job-task-003", job_id = "job-bbb222", status = "FAILURE",
    created_count = 0, failure_count = 1,
    errors = { { error_code = "E_A", message = "Timeout again", additional = {} } },
    created_at = "2024-01-02T00:02:00.000Z" },
}
for _, t in ipairs(H.TASKS) do
  t.collector_id = "collector-1"; t.secret_id = "secret-1"; t.service_account_id = "sa-1"
  t.project_id = "project-1"; t.workspace_id = "ws-1"; t.domain_id = "domain-1"
end

function H.canonical(opts)
  local inv = H.twin(opts)
  assert(inv:import("job", H.JOBS))
  assert(inv:import("job_task", H.TASKS))
  return inv
end

-- ids of a list result, in order
function H.ids(res, key)
  local out = {}
  for i, r in ipairs(res.results) do
    out[i] = r[key or r.job_task_id and "job_task_id" or "job_id"]
  end
  return out
end

-- a Job list on the canonical domain with a query
function H.jobs(inv, query)
  return inv.job.list{ domain_id = "domain-1", query = query }
end
function H.tasks(inv, query)
  return inv.job_task.list{ domain_id = "domain-1", query = query }
end

return H
