-- bench/contenders.lua: the three contenders of every benchmark case.
--
--   local C = require "contenders"
--   local c = C.open("inventory" | "limit" | "luasql", files)   -- files = { inv =, hand =[, peer =] }
--   local c = C.open("inventory" | "limit", { url = URL })        -- PostgreSQL (C.PG_NAMES)
--   local res = c.ops.get(param)      -- one operation (what the clock times)
--   local sig = c.sig.get(res)        -- its signature, compared across contenders
--
-- inventory: the project's Lua API (lua/inventory, lib/lua/5.4/inventory/core.so)
--            on its own file (files.inv), which bench/gen.c loaded through
--            inventory's import.
-- limit:     what a competent user writes by hand: the schema of
--            bench/schema.sql (files.hand, the same rows) and the SQL below,
--            through bench/limit.c (cached prepared statements, rows as Lua
--            tables keyed by column name).
-- luasql:    what a Lua user would otherwise write: the same hand-written SQL
--            on the same rows through LuaSQL (Debian's lua-sql-sqlite3): the
--            hand-written file, or files.peer when given (the writes run on a
--            copy of its own, so it pays its own checkpoints only). It
--            has no parameter binding, so values are escaped (conn:escape)
--            and spliced in, and every call prepares its SQL again.
--
-- Nothing below is inventory's SQL: the SQL is written for bench/schema.sql
-- and the API's semantics (the same filter, order, page and total_count
-- rule: the count runs only when the page may hold fewer rows than exist,
-- in one read transaction with the rows; ties in a sort break by insertion
-- order). Every contender answers the API's records: the limit and the
-- peer format times as ISO strings in their SELECT and decode the JSON
-- columns with cjson, as hand-written code serving this API must.
-- Signatures (row count, total, the first and last records whole, a get's
-- record whole, or the groups) must match
-- across contenders for every checked parameter, or the run fails.
--
-- On PostgreSQL (files.url: one database, the rows loaded by bench/gen.c's
-- gen_pg into two schemas): inventory through its PostgreSQL backend on the
-- schema "inventory"; the limit is SQL_PG below, written for
-- bench/schema_pg.sql (schema "hand"), through bench/limit_pg.c (libpq,
-- prepared statements, one PQexecPrepared per statement). There is no peer.

local M = {}

local JOB_COLS = "job_id, status, filter, total_tasks, remained_tasks, success_tasks, failure_tasks, "
  .. "errors, collector_info, request_secret_id, request_workspace_id, resource_group, project_id, "
  .. "domain_id, workspace_id, collector_id, plugin_id, created_at, updated_at, finished_at"
local TASK_COLS = "job_task_id, status, provider, created_count, updated_count, failure_count, "
  .. "deleted_count, disconnected_count, errors, job_id, secret_id, service_account_id, project_id, "
  .. "workspace_id, domain_id, created_at, started_at, finished_at"
M.JOB_COLS, M.TASK_COLS = JOB_COLS, TASK_COLS

-- The columns of an answer: the API's record, as hand-written code must
-- return it (the same record as inventory's): times as ISO 8601 UTC strings
-- with milliseconds, formatted by the engine in the SELECT (an ORDER BY then
-- names the table's column, job.created_at, not the formatted alias); the
-- JSON columns (errors, filter, collector_info) decoded by cjson in Lua
-- (api_rows below).
local TIMES = { created_at = true, updated_at = true, started_at = true, finished_at = true }
local function api_cols(cols, iso)
  return (cols:gsub("[%w_]+", function(c) return TIMES[c] and iso(c) or c end))
end
local function iso_sqlite(c) return "strftime('%Y-%m-%dT%H:%M:%fZ', " .. c .. " / 1000.0, 'unixepoch') AS " .. c end
local function iso_pg(c)
  return "to_char(" .. c .. " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS " .. c
end
local JOB_API, TASK_API = api_cols(JOB_COLS, iso_sqlite), api_cols(TASK_COLS, iso_sqlite)
local JOB_API_PG, TASK_API_PG = api_cols(JOB_COLS, iso_pg), api_cols(TASK_COLS, iso_pg)

local decode = require("cjson").decode
-- the rows of a record-returning statement, made the API's records
local function api_rows(rows)
  for i = 1, #rows do
    local r = rows[i]
    if r.errors then r.errors = decode(r.errors) end
    if r.filter then r.filter = decode(r.filter) end
    if r.collector_info then r.collector_info = decode(r.collector_info) end
  end
  return rows
end

-- The hand-written SQL of each case. "?" placeholders: the limit binds
-- them; the peer substitutes escaped literals.
local SQL = {
  get = "SELECT " .. JOB_API .. " FROM job WHERE job_id = ? AND domain_id = ?",
  task_get = "SELECT " .. TASK_API .. " FROM job_task WHERE job_task_id = ? AND domain_id = ?",
  list_job_rows = "SELECT " .. TASK_API .. " FROM job_task WHERE domain_id = ? AND job_id = ? "
    .. "ORDER BY job_task.created_at DESC, id LIMIT ?",
  list_job_count = "SELECT count(*) AS n FROM job_task WHERE domain_id = ? AND job_id = ?",
  -- a workspace member sees the workspace's tasks and the domain-level ones
  -- (workspace_id "*"), as on every read of the API
  list_ws_rows = "SELECT " .. TASK_API .. " FROM job_task WHERE domain_id = ? AND workspace_id IN (?, '*') "
    .. "ORDER BY job_task.created_at DESC, id LIMIT ?",
  list_ws_count = "SELECT count(*) AS n FROM job_task WHERE domain_id = ? AND workspace_id IN (?, '*')",
  list_dom_rows = "SELECT " .. TASK_API .. " FROM job_task WHERE domain_id = ? "
    .. "ORDER BY job_task.created_at DESC, id LIMIT ?",
  list_dom_count = "SELECT count(*) AS n FROM job_task WHERE domain_id = ?",
  kw_rows = "SELECT " .. TASK_API .. " FROM job_task WHERE domain_id = ? AND job_task_id LIKE ? ESCAPE '\\' "
    .. "ORDER BY job_task.created_at DESC, id LIMIT ?",
  kw_count = "SELECT count(*) AS n FROM job_task WHERE domain_id = ? AND job_task_id LIKE ? ESCAPE '\\'",
  err_rows = "SELECT " .. TASK_API .. " FROM job_task WHERE domain_id = ? "
    .. "AND EXISTS (SELECT 1 FROM json_each(errors) WHERE value ->> 'error_code' = ?) "
    .. "ORDER BY job_task.created_at DESC, id LIMIT ?",
  err_count = "SELECT count(*) AS n FROM job_task WHERE domain_id = ? "
    .. "AND EXISTS (SELECT 1 FROM json_each(errors) WHERE value ->> 'error_code' = ?)",
  coll_rows = "SELECT " .. JOB_API .. " FROM job WHERE domain_id = ? AND collector_id = ? AND status = ? "
    .. "ORDER BY job.created_at DESC, id LIMIT ?",
  coll_count = "SELECT count(*) AS n FROM job WHERE domain_id = ? AND collector_id = ? AND status = ?",
  stat_status = "SELECT status, count(*) AS count FROM job_task WHERE domain_id = ? GROUP BY status",
  stat_job = "SELECT status, count(*) AS count FROM job_task WHERE domain_id = ? AND job_id = ? GROUP BY status",
  stat_day = "SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS date, count(*) AS count "
    .. "FROM job_task WHERE domain_id = ? GROUP BY 1",
  job_days = "SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS date, status, count(*) AS count "
    .. "FROM job WHERE domain_id = ? GROUP BY 1, 2",
  analyze = "SELECT collector_id, count(*) AS jobs, sum(success_tasks) AS success, "
    .. "sum(failure_tasks) AS failure FROM job WHERE domain_id = ? GROUP BY collector_id",
  -- writes
  insert_job = "INSERT INTO job (job_id, status, total_tasks, remained_tasks, resource_group, domain_id, "
    .. "workspace_id, collector_id, plugin_id, created_at, updated_at) "
    .. "VALUES (?, 'IN_PROGRESS', ?, ?, 'WORKSPACE', ?, ?, ?, ?, ?, ?)",
  insert_job_returning = "INSERT INTO job (job_id, status, total_tasks, remained_tasks, resource_group, "
    .. "domain_id, workspace_id, collector_id, plugin_id, created_at, updated_at) "
    .. "VALUES (?, 'IN_PROGRESS', ?, ?, 'WORKSPACE', ?, ?, ?, ?, ?, ?) RETURNING " .. JOB_API,
  insert_task = "INSERT INTO job_task (job_task_id, provider, job_id, secret_id, service_account_id, "
    .. "project_id, workspace_id, domain_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  import_task = "INSERT INTO job_task (job_task_id, status, provider, created_count, updated_count, "
    .. "failure_count, deleted_count, disconnected_count, errors, job_id, secret_id, service_account_id, "
    .. "project_id, workspace_id, domain_id, created_at, started_at, finished_at) "
    .. "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  job_by_id = "SELECT " .. JOB_API .. " FROM job WHERE job_id = ?",
  -- task finish: the task, then its job's counters (and status, when it was the last)
  finish_task_returning = "UPDATE job_task SET status = 'SUCCESS', created_count = created_count + ?, "
    .. "updated_count = updated_count + ?, started_at = coalesce(started_at, ?), finished_at = ? "
    .. "WHERE job_task_id = ? AND domain_id = ? AND status IN ('PENDING', 'IN_PROGRESS') RETURNING " .. TASK_API,
  finish_task = "UPDATE job_task SET status = 'SUCCESS', created_count = created_count + ?, "
    .. "updated_count = updated_count + ?, started_at = coalesce(started_at, ?), finished_at = ? "
    .. "WHERE job_task_id = ? AND domain_id = ? AND status IN ('PENDING', 'IN_PROGRESS')",
  finish_job = "UPDATE job SET remained_tasks = remained_tasks - 1, success_tasks = success_tasks + 1, "
    .. "status = CASE WHEN remained_tasks = 1 THEN (CASE WHEN failure_tasks > 0 THEN 'FAILURE' ELSE 'SUCCESS' END) "
    .. "ELSE status END, finished_at = CASE WHEN remained_tasks = 1 THEN ? ELSE finished_at END, updated_at = ? "
    .. "WHERE job_id = ? AND domain_id = ? AND status = 'IN_PROGRESS'",
  task_by_id = "SELECT " .. TASK_API .. " FROM job_task WHERE job_task_id = ?",
}
M.SQL = SQL

-- The same cases written for bench/schema_pg.sql, as a PostgreSQL user
-- writes them: $n placeholders, times as timestamptz (now() for "now"),
-- errors as jsonb (a containment test), ILIKE for the caseless keyword, a
-- day as the UTC date, the tasks of a create as one INSERT of arrays.
local SQL_PG = {
  get = "SELECT " .. JOB_API_PG .. " FROM job WHERE job_id = $1 AND domain_id = $2",
  task_get = "SELECT " .. TASK_API_PG .. " FROM job_task WHERE job_task_id = $1 AND domain_id = $2",
  list_job_rows = "SELECT " .. TASK_API_PG .. " FROM job_task WHERE domain_id = $1 AND job_id = $2 "
    .. "ORDER BY job_task.created_at DESC, id LIMIT $3",
  list_job_count = "SELECT count(*) AS n FROM job_task WHERE domain_id = $1 AND job_id = $2",
  list_ws_rows = "SELECT " .. TASK_API_PG .. " FROM job_task WHERE domain_id = $1 AND workspace_id IN ($2, '*') "
    .. "ORDER BY job_task.created_at DESC, id LIMIT $3",
  list_ws_count = "SELECT count(*) AS n FROM job_task WHERE domain_id = $1 AND workspace_id IN ($2, '*')",
  list_dom_rows = "SELECT " .. TASK_API_PG .. " FROM job_task WHERE domain_id = $1 "
    .. "ORDER BY job_task.created_at DESC, id LIMIT $2",
  list_dom_count = "SELECT count(*) AS n FROM job_task WHERE domain_id = $1",
  kw_rows = "SELECT " .. TASK_API_PG .. " FROM job_task WHERE domain_id = $1 AND job_task_id ILIKE $2 "
    .. "ORDER BY job_task.created_at DESC, id LIMIT $3",
  kw_count = "SELECT count(*) AS n FROM job_task WHERE domain_id = $1 AND job_task_id ILIKE $2",
  err_rows = "SELECT " .. TASK_API_PG .. " FROM job_task WHERE domain_id = $1 "
    .. "AND errors @> jsonb_build_array(jsonb_build_object('error_code', $2::text)) "
    .. "ORDER BY job_task.created_at DESC, id LIMIT $3",
  err_count = "SELECT count(*) AS n FROM job_task WHERE domain_id = $1 "
    .. "AND errors @> jsonb_build_array(jsonb_build_object('error_code', $2::text))",
  coll_rows = "SELECT " .. JOB_API_PG .. " FROM job WHERE domain_id = $1 AND collector_id = $2 AND status = $3 "
    .. "ORDER BY job.created_at DESC, id LIMIT $4",
  coll_count = "SELECT count(*) AS n FROM job WHERE domain_id = $1 AND collector_id = $2 AND status = $3",
  stat_status = "SELECT status, count(*) AS count FROM job_task WHERE domain_id = $1 GROUP BY status",
  stat_job = "SELECT status, count(*) AS count FROM job_task WHERE domain_id = $1 AND job_id = $2 GROUP BY status",
  stat_day = "SELECT (created_at AT TIME ZONE 'UTC')::date AS date, count(*) AS count "
    .. "FROM job_task WHERE domain_id = $1 GROUP BY 1",
  job_days = "SELECT (created_at AT TIME ZONE 'UTC')::date AS date, status, count(*) AS count "
    .. "FROM job WHERE domain_id = $1 GROUP BY 1, 2",
  analyze = "SELECT collector_id, count(*) AS jobs, sum(success_tasks) AS success, "
    .. "sum(failure_tasks) AS failure FROM job WHERE domain_id = $1 GROUP BY collector_id",
  -- writes
  insert_job = "INSERT INTO job (job_id, status, total_tasks, remained_tasks, resource_group, domain_id, "
    .. "workspace_id, collector_id, plugin_id, created_at, updated_at) "
    .. "VALUES ($1, 'IN_PROGRESS', $2, $2, 'WORKSPACE', $3, $4, $5, $6, now(), now())",
  insert_job_returning = "INSERT INTO job (job_id, status, total_tasks, remained_tasks, resource_group, "
    .. "domain_id, workspace_id, collector_id, plugin_id, created_at, updated_at) "
    .. "VALUES ($1, 'IN_PROGRESS', $2, $2, 'WORKSPACE', $3, $4, $5, $6, now(), now()) RETURNING " .. JOB_API_PG,
  -- the tasks of a job in one statement: ids, providers, secrets, service
  -- accounts, projects and workspaces as text[] literals
  insert_tasks = "INSERT INTO job_task (job_task_id, provider, secret_id, service_account_id, project_id, "
    .. "workspace_id, job_id, domain_id, created_at) "
    .. "SELECT t.*, $7, $8, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
    .. "$6::text[]) AS t",
  finish_task_returning = "UPDATE job_task SET status = 'SUCCESS', created_count = created_count + $1, "
    .. "updated_count = updated_count + $2, started_at = coalesce(started_at, now()), finished_at = now() "
    .. "WHERE job_task_id = $3 AND domain_id = $4 AND status IN ('PENDING', 'IN_PROGRESS') RETURNING " .. TASK_API_PG,
  finish_job = "UPDATE job SET remained_tasks = remained_tasks - 1, success_tasks = success_tasks + 1, "
    .. "status = CASE WHEN remained_tasks = 1 THEN (CASE WHEN failure_tasks > 0 THEN 'FAILURE' ELSE 'SUCCESS' END) "
    .. "ELSE status END, finished_at = CASE WHEN remained_tasks = 1 THEN now() ELSE finished_at END, "
    .. "updated_at = now() WHERE job_id = $1 AND domain_id = $2 AND status = 'IN_PROGRESS'",
  job_status = "SELECT status, remained_tasks, success_tasks FROM job WHERE job_id = $1",
}
M.SQL_PG = SQL_PG

-- a text[] literal of strings (NULL for nil)
local function pg_array(t, n)
  local out = {}
  for i = 1, n do
    local v = t[i]
    out[i] = v == nil and "NULL" or ('"' .. tostring(v):gsub('[\\"]', "\\%0") .. '"')
  end
  return "{" .. table.concat(out, ",") .. "}"
end
M.pg_array = pg_array

-- LIKE pattern of a keyword (a case-insensitive substring of job_task_id)
local function like_pat(tok)
  return "%" .. tok:gsub("[%%_\\]", "\\%0") .. "%"
end
M.like_pat = like_pat

-- ids for the writes of the limit and the peer: prefix + 12 hex digits
local function new_id(prefix)
  return string.format("%s%06x%06x", prefix, math.random(0, 0xffffff), math.random(0, 0xffffff))
end
M.new_id = new_id

-- import batches: N task records of one new job, as documented records
-- (inventory's import) and as column values (the INSERTs); built before the
-- batch that uses them, untimed
local ERR_MSG = "The plugin did not answer within 600 seconds."
local function iso(ms)
  return os.date("!%Y-%m-%dT%H:%M:%S", ms // 1000) .. string.format(".%03dZ", ms % 1000)
end
function M.import_batch(tag, k, n, domain_id)
  local docs, rows = {}, {}
  local jid = string.format("job-imp%s%06d", tag, k)
  local created = 1735689600000 - 86400000 + k * 1000
  for i = 1, n do
    local id = string.format("job-task-i%s%06d%04d", tag, k, i)
    local fail = i % 7 == 0
    local started, finished = created + 1000 + i, created + 60000 + i
    local cnt = { i % 6, i % 401, fail and 1 or 0, i % 4, i % 3 }
    local errs = fail and { { error_code = "ERROR_PLUGIN_TIMEOUT", message = ERR_MSG,
                              additional = { resource_type = "inventory.CloudService" } } } or {}
    local ws, proj = "workspace-bench", string.format("project-bench%03d", i % 20)
    local secret, sa = string.format("secret-bench%05d", i), string.format("service-account-bench%05d", i)
    docs[i] = { job_task_id = id, status = fail and "FAILURE" or "SUCCESS", provider = "aws",
      created_count = cnt[1], updated_count = cnt[2], failure_count = cnt[3], deleted_count = cnt[4],
      disconnected_count = cnt[5], errors = errs, job_id = jid, secret_id = secret,
      service_account_id = sa, project_id = proj, workspace_id = ws, domain_id = domain_id,
      created_at = iso(created), started_at = iso(started), finished_at = iso(finished) }
    rows[i] = { id, docs[i].status, "aws", cnt[1], cnt[2], cnt[3], cnt[4], cnt[5],
      fail and ('[{"error_code":"ERROR_PLUGIN_TIMEOUT","message":"' .. ERR_MSG
                .. '","additional":{"resource_type":"inventory.CloudService"}}]') or "[]",
      jid, secret, sa, proj, ws, domain_id, created, started, finished }
  end
  return { docs = docs, rows = rows }
end

-- ---------------------------------------------------------------- signatures
-- a record in one canonical text: keys sorted, numbers as %.17g (an
-- integer and the same float alike), nulls of either library as null
local function canon(v)
  local t = type(v)
  if t == "table" then
    local ks, out = {}, {}
    for k in pairs(v) do ks[#ks + 1] = k end
    table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
    for i, k in ipairs(ks) do out[i] = tostring(k) .. "=" .. canon(v[k]) end
    return "{" .. table.concat(out, ",") .. "}"
  elseif t == "number" then return string.format("%.17g", v)
  elseif t == "string" then return string.format("%q", v)
  elseif t == "userdata" then return "null"
  end
  return tostring(v)
end
-- a page: its size, total_count, and its first and last records whole
local function sig_page(_, rows, total)
  local n = #rows
  return string.format("n=%d total=%s first=%s last=%s", n, tostring(total),
    n > 0 and canon(rows[1]) or "-", n > 0 and canon(rows[n]) or "-")
end
-- groups, in any order (the API does not promise one): sorted by their keys
local function sig_groups(rows, keys, vals)
  local t = {}
  for i, r in ipairs(rows) do
    local k, v = {}, {}
    for j, name in ipairs(keys) do k[j] = tostring(r[name]) end
    for j, name in ipairs(vals) do v[j] = tostring(math.tointeger(r[name]) or r[name]) end
    t[i] = table.concat(k, "/") .. "=" .. table.concat(v, "/")
  end
  table.sort(t)
  if #t == 0 then return "n=0" end
  return string.format("n=%d first=%s last=%s", #t, t[1], t[#t])
end

local G = {
  stat_status = { { "status" }, { "count" } },
  stat_job = { { "status" }, { "count" } },
  stat_day = { { "date" }, { "count" } },
  job_days = { { "date", "status" }, { "count" } },
  analyze = { { "collector_id" }, { "jobs", "success", "failure" } },
}

-- inventory's results: a record, {results=, total_count=} (list), {results=} (stat, analyze)
local inv_sig = {
  get = canon,
  task_get = canon,
  list_job = function(r) return sig_page("job_task_id", r.results, r.total_count) end,
  list_ws = function(r) return sig_page("job_task_id", r.results, r.total_count) end,
  list_page = function(r) return sig_page("job_task_id", r.results, r.total_count) end,
  list_keyword = function(r) return sig_page("job_task_id", r.results, r.total_count) end,
  list_errors = function(r) return sig_page("job_task_id", r.results, r.total_count) end,
  jobs_collector = function(r) return sig_page("job_id", r.results, r.total_count) end,
  create = function(r) return string.format("%s total=%d remained=%d", r.status, r.total_tasks, r.remained_tasks) end,
  import = function(r) return string.format("imported=%d", r) end,
  finish = function(r) return string.format("%s created=%d", r.status, r.created_count) end,
}
-- the limit's and the peer's: a row, {rows=, total=}, {rows=}
local raw_sig = {
  get = inv_sig.get,
  task_get = inv_sig.task_get,
  list_job = function(r) return sig_page("job_task_id", r.rows, r.total) end,
  list_ws = function(r) return sig_page("job_task_id", r.rows, r.total) end,
  list_page = function(r) return sig_page("job_task_id", r.rows, r.total) end,
  list_keyword = function(r) return sig_page("job_task_id", r.rows, r.total) end,
  list_errors = function(r) return sig_page("job_task_id", r.rows, r.total) end,
  jobs_collector = function(r) return sig_page("job_id", r.rows, r.total) end,
  create = inv_sig.create,
  import = inv_sig.import,
  finish = inv_sig.finish,
}
for op, g in pairs(G) do
  inv_sig[op] = function(r) return sig_groups(r.results, g[1], g[2]) end
  raw_sig[op] = function(r) return sig_groups(r.rows, g[1], g[2]) end
end
inv_sig.analyze_small, inv_sig.analyze_big = inv_sig.analyze, inv_sig.analyze
raw_sig.analyze_small, raw_sig.analyze_big = raw_sig.analyze, raw_sig.analyze

-- ---------------------------------------------------------------- inventory
local function open_inventory(files)
  local inventory = require "inventory"
  -- the call budgets off (the limit has none): a slow case is measured, not
  -- refused; bench/run.lua says which medians the shipped budgets would cut
  local inv
  if files.url then
    inv = assert(inventory.open{ url = files.url, schema = "inventory", statement_timeout = 0, stat_timeout = 0 })
  else
    inv = assert(inventory.open{ path = files.inv, statement_timeout = 0, stat_timeout = 0 })
  end
  local job, task = inv.job, inv.job_task
  local ops = {}
  local function stat(resource, domain_id, keys, filter)
    local q = { aggregate = { { group = { keys = keys, fields = { { name = "count", operator = "count" } } } } } }
    q.filter = filter
    return assert(inv:call(resource, "stat", { domain_id = domain_id, query = q }))
  end
  local function analyze(p)
    return assert(inv:call("job", "analyze", { domain_id = p.domain_id, query = {
      group_by = { "collector_id" },
      fields = { jobs = { operator = "count" },
                 success = { operator = "sum", key = "success_tasks" },
                 failure = { operator = "sum", key = "failure_tasks" } } } }))
  end
  function ops.get(p) return assert(job.get{ job_id = p.job_id, domain_id = p.domain_id }) end
  function ops.task_get(p) return assert(task.get{ job_task_id = p.job_task_id, domain_id = p.domain_id }) end
  function ops.list_job(p)
    return assert(task.list{ domain_id = p.domain_id, job_id = p.job_id,
      query = { sort = { { key = "created_at", desc = true } }, page = { limit = 20 } } })
  end
  function ops.list_ws(p)
    return assert(task.list{ domain_id = p.domain_id, workspace_id = p.workspace_id,
      query = { sort = { { key = "created_at", desc = true } }, page = { limit = 20 } } })
  end
  function ops.list_page(p)
    return assert(task.list{ domain_id = p.domain_id, query = { page = { limit = 1000 } } })
  end
  function ops.list_keyword(p)
    return assert(task.list{ domain_id = p.domain_id, query = { keyword = p.keyword, page = { limit = 100 } } })
  end
  function ops.list_errors(p)
    return assert(task.list{ domain_id = p.domain_id, query = {
      filter = { { k = "errors.error_code", v = p.error_code, o = "eq" } }, page = { limit = 100 } } })
  end
  function ops.jobs_collector(p)
    return assert(job.list{ domain_id = p.domain_id, collector_id = p.collector_id, status = p.status,
      query = { page = { limit = 20 } } })
  end
  function ops.stat_status(p) return stat("job_task", p.domain_id, { { key = "status", name = "status" } }) end
  function ops.stat_job(p)
    return stat("job_task", p.domain_id, { { key = "status", name = "status" } },
                { { k = "job_id", v = p.job_id, o = "eq" } })
  end
  function ops.stat_day(p)
    return stat("job_task", p.domain_id, { { key = "created_at", name = "date", date_format = "%Y-%m-%d" } })
  end
  function ops.job_days(p)
    return stat("job", p.domain_id, { { key = "created_at", name = "date", date_format = "%Y-%m-%d" },
                                      { key = "status", name = "status" } })
  end
  ops.analyze_small, ops.analyze_big = analyze, analyze
  function ops.create(p)
    return assert(job.create{ domain_id = p.domain_id, collector_id = p.collector_id,
      plugin_id = p.plugin_id, workspace_id = p.workspace_id, tasks = p.tasks })
  end
  function ops.import(p) return assert(inv:import("job_task", p.docs)) end
  function ops.finish(p)
    return assert(task.finish{ job_task_id = p.job_task_id, domain_id = p.domain_id, status = "SUCCESS",
      created_count = p.created, updated_count = p.updated })
  end
  return { name = "inventory", ops = ops, sig = inv_sig, inv = inv, close = function() inv:close() end }
end

-- ---------------------------------------------------------------- the limit
-- The limit's read cases over a connection: query and exec as the module
-- gives them, S its SQL, begin the statement that opens a page's read
-- transaction (a page and its total_count in one snapshot).
local function limit_reads(db, query, exec, S, begin)
  local ops = {}
  local function page(rows_sql, count_sql, lim, a, b, c)
    local rows, total
    exec(db, begin)
    if c then rows = query(db, rows_sql, a, b, c, lim)
    elseif b then rows = query(db, rows_sql, a, b, lim)
    else rows = query(db, rows_sql, a, lim) end
    api_rows(rows)
    if #rows < lim then
      total = #rows
    elseif c then total = query(db, count_sql, a, b, c)[1].n
    elseif b then total = query(db, count_sql, a, b)[1].n
    else total = query(db, count_sql, a)[1].n end
    exec(db, "COMMIT")
    return { rows = rows, total = total }
  end
  function ops.get(p) return api_rows(query(db, S.get, p.job_id, p.domain_id))[1] end
  function ops.task_get(p) return api_rows(query(db, S.task_get, p.job_task_id, p.domain_id))[1] end
  function ops.list_job(p) return page(S.list_job_rows, S.list_job_count, 20, p.domain_id, p.job_id) end
  function ops.list_ws(p) return page(S.list_ws_rows, S.list_ws_count, 20, p.domain_id, p.workspace_id) end
  function ops.list_page(p) return page(S.list_dom_rows, S.list_dom_count, 1000, p.domain_id) end
  function ops.list_keyword(p) return page(S.kw_rows, S.kw_count, 100, p.domain_id, like_pat(p.keyword)) end
  function ops.list_errors(p) return page(S.err_rows, S.err_count, 100, p.domain_id, p.error_code) end
  function ops.jobs_collector(p)
    return page(S.coll_rows, S.coll_count, 20, p.domain_id, p.collector_id, p.status)
  end
  function ops.stat_status(p) return { rows = query(db, S.stat_status, p.domain_id) } end
  function ops.stat_job(p) return { rows = query(db, S.stat_job, p.domain_id, p.job_id) } end
  function ops.stat_day(p) return { rows = query(db, S.stat_day, p.domain_id) } end
  function ops.job_days(p) return { rows = query(db, S.job_days, p.domain_id) } end
  local function analyze(p) return { rows = query(db, S.analyze, p.domain_id) } end
  ops.analyze_small, ops.analyze_big = analyze, analyze
  return ops
end

local function open_limit(files)
  local limit = require "limit"
  local db = assert(limit.open(files.hand))
  local query, exec, time_ms = limit.query, limit.exec, limit.time_ms
  local ops = limit_reads(db, query, exec, SQL, "BEGIN")
  -- job.create: the job and its tasks, plain prepared INSERTs in one transaction
  function ops.create(p)
    local now = time_ms()
    local jid = new_id("job-")
    local tasks = p.tasks
    exec(db, "BEGIN IMMEDIATE")
    local j = api_rows(query(db, SQL.insert_job_returning, jid, #tasks, #tasks, p.domain_id, p.workspace_id,
                             p.collector_id, p.plugin_id, now, now))[1]
    for i = 1, #tasks do
      local t = tasks[i]
      exec(db, SQL.insert_task, new_id("job-task-"), t.provider, jid, t.secret_id, t.service_account_id,
           t.project_id, t.workspace_id or p.workspace_id, p.domain_id, now)
    end
    exec(db, "COMMIT")
    return j
  end
  -- import: the same rows as plain prepared INSERTs in one transaction
  function ops.import(p)
    local rows = p.rows
    exec(db, "BEGIN IMMEDIATE")
    for i = 1, #rows do
      local r = rows[i]
      exec(db, SQL.import_task, r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
           r[13], r[14], r[15], r[16], r[17], r[18])
    end
    exec(db, "COMMIT")
    return #rows
  end
  -- task finish: UPDATE job_task ... RETURNING the task; UPDATE job
  function ops.finish(p)
    local now = time_ms()
    exec(db, "BEGIN IMMEDIATE")
    local t = api_rows(query(db, SQL.finish_task_returning, p.created, p.updated, now, now, p.job_task_id,
                             p.domain_id))[1]
    if not t then exec(db, "ROLLBACK"); error("finish: task not found or finished") end
    exec(db, SQL.finish_job, now, now, t.job_id, p.domain_id)
    exec(db, "COMMIT")
    return t
  end
  return { name = "limit", ops = ops, sig = raw_sig, db = db, close = function() limit.close(db) end }
end

-- ---------------------------------------------------------------- the limit on PostgreSQL
local function open_limit_pg(files)
  local L = require "limit_pg"
  local db = assert(L.open(files.url, "hand"))
  local query, exec = L.query, L.exec
  local S = SQL_PG
  -- (a read-only REPEATABLE READ transaction: at READ COMMITTED each
  -- statement would take its own snapshot)
  local ops = limit_reads(db, query, exec, S, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
  -- job.create: the job (RETURNING it) and its tasks, one INSERT each, in one transaction
  function ops.create(p)
    local jid = new_id("job-")
    local tasks, n = p.tasks, #p.tasks
    local ids, prov, sec, sa, proj, ws = {}, {}, {}, {}, {}, {}
    for i = 1, n do
      local t = tasks[i]
      ids[i], prov[i], sec[i], sa[i], proj[i] = new_id("job-task-"), t.provider, t.secret_id,
        t.service_account_id, t.project_id
      ws[i] = t.workspace_id or p.workspace_id
    end
    exec(db, "BEGIN")
    local j = api_rows(query(db, S.insert_job_returning, jid, n, p.domain_id, p.workspace_id, p.collector_id,
                             p.plugin_id))[1]
    exec(db, S.insert_tasks, pg_array(ids, n), pg_array(prov, n), pg_array(sec, n), pg_array(sa, n),
         pg_array(proj, n), pg_array(ws, n), jid, p.domain_id)
    exec(db, "COMMIT")
    return j
  end
  -- task finish: UPDATE job_task ... RETURNING the task; UPDATE job
  function ops.finish(p)
    exec(db, "BEGIN")
    local t = api_rows(query(db, S.finish_task_returning, p.created, p.updated, p.job_task_id, p.domain_id))[1]
    if not t then exec(db, "ROLLBACK"); error("finish: task not found or finished") end
    exec(db, S.finish_job, t.job_id, p.domain_id)
    exec(db, "COMMIT")
    return t
  end
  return { name = "limit", ops = ops, sig = raw_sig, db = db, pg = L, close = function() L.close(db) end }
end

-- ---------------------------------------------------------------- the LuaSQL peer
local function open_luasql(files)
  local driver = require "luasql.sqlite3"
  local env = assert(driver.sqlite3())
  local conn = assert(env:connect(files.peer or files.hand))   -- its own copy for the writes
  local function run(sql)
    local cur = assert(conn:execute(sql))
    if type(cur) ~= "number" then cur:close() end
  end
  run("PRAGMA busy_timeout=5000")
  run("PRAGMA synchronous=NORMAL")
  run("PRAGMA temp_store=MEMORY")
  run("PRAGMA wal_autocheckpoint=10000")       -- as the store and the limit (bench/limit.c)
  local esc = function(v) return conn:escape(v) end
  -- "?" -> literals: strings quoted and escaped, numbers as they are, nil as NULL
  local function fill(sql, ...)
    local args, i = { ... }, 0
    return (sql:gsub("%?", function()
      i = i + 1
      local v = args[i]
      if v == nil then return "NULL" end
      if type(v) == "number" then return tostring(v) end
      return "'" .. esc(v) .. "'"
    end))
  end
  local function query(sql)
    local cur = assert(conn:execute(sql))
    local rows, n = {}, 0
    local row = cur:fetch({}, "a")
    while row do
      n = n + 1
      rows[n] = row
      row = cur:fetch({}, "a")
    end
    cur:close()
    return rows
  end
  local ops = {}
  local function page(rows_sql, count_sql, lim, a, b, c)
    run("BEGIN")
    local rows, total
    if c then rows = query(fill(rows_sql, a, b, c, lim))
    elseif b then rows = query(fill(rows_sql, a, b, lim))
    else rows = query(fill(rows_sql, a, lim)) end
    api_rows(rows)
    if #rows < lim then
      total = #rows
    else
      total = query(fill(count_sql, a, b, c))[1].n
    end
    run("COMMIT")
    return { rows = rows, total = total }
  end
  function ops.get(p) return api_rows(query(fill(SQL.get, p.job_id, p.domain_id)))[1] end
  function ops.task_get(p) return api_rows(query(fill(SQL.task_get, p.job_task_id, p.domain_id)))[1] end
  function ops.list_job(p) return page(SQL.list_job_rows, SQL.list_job_count, 20, p.domain_id, p.job_id) end
  function ops.list_ws(p) return page(SQL.list_ws_rows, SQL.list_ws_count, 20, p.domain_id, p.workspace_id) end
  function ops.list_page(p) return page(SQL.list_dom_rows, SQL.list_dom_count, 1000, p.domain_id) end
  function ops.list_keyword(p) return page(SQL.kw_rows, SQL.kw_count, 100, p.domain_id, like_pat(p.keyword)) end
  function ops.list_errors(p) return page(SQL.err_rows, SQL.err_count, 100, p.domain_id, p.error_code) end
  function ops.jobs_collector(p)
    return page(SQL.coll_rows, SQL.coll_count, 20, p.domain_id, p.collector_id, p.status)
  end
  function ops.stat_status(p) return { rows = query(fill(SQL.stat_status, p.domain_id)) } end
  function ops.stat_job(p) return { rows = query(fill(SQL.stat_job, p.domain_id, p.job_id)) } end
  function ops.stat_day(p) return { rows = query(fill(SQL.stat_day, p.domain_id)) } end
  function ops.job_days(p) return { rows = query(fill(SQL.job_days, p.domain_id)) } end
  local function analyze(p) return { rows = query(fill(SQL.analyze, p.domain_id)) } end
  ops.analyze_small, ops.analyze_big = analyze, analyze
  -- no RETURNING anywhere: LuaSQL steps a statement that returns rows twice
  function ops.create(p)
    local now = os.time() * 1000
    local jid = new_id("job-")
    local tasks = p.tasks
    run("BEGIN IMMEDIATE")
    run(fill(SQL.insert_job, jid, #tasks, #tasks, p.domain_id, p.workspace_id, p.collector_id,
             p.plugin_id, now, now))
    for i = 1, #tasks do
      local t = tasks[i]
      run(fill(SQL.insert_task, new_id("job-task-"), t.provider, jid, t.secret_id, t.service_account_id,
               t.project_id, t.workspace_id or p.workspace_id, p.domain_id, now))
    end
    run("COMMIT")
    return api_rows(query(fill(SQL.job_by_id, jid)))[1]
  end
  function ops.import(p)
    local rows = p.rows
    run("BEGIN IMMEDIATE")
    for i = 1, #rows do
      local r = rows[i]
      run(fill(SQL.import_task, r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
               r[13], r[14], r[15], r[16], r[17], r[18]))
    end
    run("COMMIT")
    return #rows
  end
  function ops.finish(p)
    local now = os.time() * 1000
    run("BEGIN IMMEDIATE")
    local cur = assert(conn:execute(fill(SQL.finish_task, p.created, p.updated, now, now, p.job_task_id,
                                         p.domain_id)))
    if cur ~= 1 then run("ROLLBACK"); error("finish: task not found or finished") end
    local t = api_rows(query(fill(SQL.task_by_id, p.job_task_id)))[1]
    run(fill(SQL.finish_job, now, now, t.job_id, p.domain_id))
    run("COMMIT")
    return t
  end
  return { name = "luasql", ops = ops, sig = raw_sig,
           close = function() conn:close(); env:close() end }
end

function M.open(kind, files)
  if kind == "inventory" then return open_inventory(files) end
  if kind == "limit" and files.url then return open_limit_pg(files) end
  if kind == "limit" then return open_limit(files) end
  if kind == "luasql" then return open_luasql(files) end
  error("unknown contender " .. tostring(kind))
end

M.NAMES = { "inventory", "limit", "luasql" }
M.PG_NAMES = { "inventory", "limit" }
return M
