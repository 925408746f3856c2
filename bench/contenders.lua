-- bench/contenders.lua: the three contenders of every benchmark case.
--
--   local C = require "contenders"
--   local c = C.open("inventory" | "limit" | "luasql", db_path)
--   local res = c.ops.get(param)      -- one operation (what the clock times)
--   local sig = c.sig.get(res)        -- its signature, compared across contenders
--
-- inventory: the project's Lua API (lua/inventory, lib/lua/5.4/inventory/core.so).
-- limit:     the same query as hand-written SQL through bench/limit.c: cached
--            prepared statements, rows as Lua tables keyed by column name.
-- luasql:    what a Lua user would otherwise write: the same SQL through LuaSQL
--            (Debian's lua-sql-sqlite3). LuaSQL has no parameter binding, so
--            values are escaped (conn:escape) and spliced in, and every call
--            prepares its SQL again; rows come from cur:fetch({}, "a").
--
-- "The same query": the SQL below is the store's own SQL for the case (see
-- bench/README.md for how it was captured), selecting the fields the store
-- returns (the hidden task fields left out), with the same filter, order,
-- paging and total_count rule: the count runs only when the page may not
-- hold every row (start = 1 and fewer rows than the limit: total = #rows),
-- inside one read transaction with the rows, as the store does. The limit and
-- the peer return raw column values (times as integer ms, errors as JSON
-- text); the store also renders times as ISO strings and decodes errors.
-- Signatures (row count, total, first and last id / first group) must match
-- across contenders for every checked parameter, or the run fails.

local M = {}

local JOB_COLS = "t.job_id, t.status, t.filter, t.total_tasks, t.remained_tasks, t.success_tasks, "
  .. "t.failure_tasks, t.errors, t.collector_info, t.request_secret_id, t.request_workspace_id, "
  .. "t.resource_group, t.project_id, t.domain_id, t.workspace_id, t.collector_id, t.plugin_id, "
  .. "t.created_at, t.updated_at, t.finished_at"
local TASK_COLS = "t.job_task_id, t.status, t.provider, t.created_count, t.updated_count, "
  .. "t.failure_count, t.deleted_count, t.disconnected_count, t.errors, t.job_id, t.secret_id, "
  .. "t.service_account_id, t.project_id, t.workspace_id, t.domain_id, t.created_at, "
  .. "t.started_at, t.finished_at"
M.JOB_COLS, M.TASK_COLS = JOB_COLS, TASK_COLS

-- The SQL of each case. "?" placeholders: the limit binds them; the peer
-- substitutes escaped literals (see luasql below).
local SQL = {
  get = "SELECT " .. JOB_COLS .. " FROM job AS t WHERE t.job_id = ? AND t.domain_id = ? LIMIT 1",
  list_job_rows = "SELECT " .. TASK_COLS .. " FROM job_task AS t WHERE t.job_id = ? AND t.domain_id = ? "
    .. "ORDER BY t.created_at DESC, t.id LIMIT ?",
  list_job_count = "SELECT count(*) AS n FROM job_task AS t WHERE t.job_id = ? AND t.domain_id = ?",
  list_dom_rows = "SELECT " .. TASK_COLS .. " FROM job_task AS t WHERE t.domain_id = ? "
    .. "ORDER BY t.created_at DESC, t.id LIMIT ?",
  list_dom_count = "SELECT count(*) AS n FROM job_task AS t WHERE t.domain_id = ?",
  kw_rows = "SELECT " .. TASK_COLS .. " FROM job_task AS t WHERE t.domain_id = ? "
    .. "AND t.job_task_id LIKE ? ESCAPE '\\' ORDER BY t.created_at DESC, t.id LIMIT ?",
  kw_count = "SELECT count(*) AS n FROM job_task AS t WHERE t.domain_id = ? "
    .. "AND t.job_task_id LIKE ? ESCAPE '\\'",
  err_rows = "SELECT " .. TASK_COLS .. " FROM job_task AS t WHERE t.domain_id = ? "
    .. "AND EXISTS (SELECT 1 FROM json_each(t.errors) AS e WHERE json_extract(e.value, '$.error_code') = ?) "
    .. "ORDER BY t.created_at DESC, t.id LIMIT ?",
  err_count = "SELECT count(*) AS n FROM job_task AS t WHERE t.domain_id = ? "
    .. "AND EXISTS (SELECT 1 FROM json_each(t.errors) AS e WHERE json_extract(e.value, '$.error_code') = ?)",
  stat_status = "SELECT status, count(*) AS count FROM job_task WHERE domain_id = ? GROUP BY status",
  stat_day = "SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS date, count(*) AS count "
    .. "FROM job_task WHERE domain_id = ? GROUP BY 1",
  analyze = "SELECT collector_id, count(*) AS jobs, coalesce(sum(success_tasks), 0) AS success, "
    .. "coalesce(sum(failure_tasks), 0) AS failure FROM job WHERE domain_id = ? GROUP BY collector_id",
  -- writes: the store's statements (job.create, job_task.finish)
  cancel_dup = "UPDATE job SET status = 'CANCELED', finished_at = ?, updated_at = ? WHERE domain_id = ? "
    .. "AND collector_id = ? AND status = 'IN_PROGRESS' AND request_workspace_id IS NULL "
    .. "AND request_secret_id IS NULL",
  insert_job = "INSERT INTO job (job_id, status, total_tasks, remained_tasks, resource_group, domain_id, "
    .. "workspace_id, collector_id, plugin_id, created_at, updated_at) "
    .. "VALUES (?, 'IN_PROGRESS', ?, ?, 'WORKSPACE', ?, ?, ?, ?, ?, ?)",
  insert_task = "INSERT INTO job_task (job_task_id, status, provider, total_sub_tasks, remained_sub_tasks, "
    .. "job_id, secret_id, collector_id, service_account_id, project_id, workspace_id, domain_id, "
    .. "created_at) VALUES (?, 'PENDING', ?, 1, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
  job_by_id = "SELECT " .. JOB_COLS .. " FROM job AS t WHERE t.job_id = ?",
  load_task = "SELECT status, remained_sub_tasks AS remained, job_id FROM job_task "
    .. "WHERE job_task_id = ? AND domain_id = ?",
  finish_task = "UPDATE job_task SET created_count = created_count + ?, updated_count = updated_count + ?, "
    .. "total_count = total_count + ?, remained_sub_tasks = remained_sub_tasks - 1, "
    .. "started_at = coalesce(started_at, ?), "
    .. "status = CASE WHEN remained_sub_tasks = 1 AND status <> 'FAILURE' THEN 'SUCCESS' ELSE status END, "
    .. "finished_at = CASE WHEN remained_sub_tasks = 1 AND status <> 'FAILURE' THEN ? ELSE finished_at END "
    .. "WHERE job_task_id = ? AND domain_id = ? AND remained_sub_tasks > 0",
  job_task_done = "UPDATE job SET success_tasks = success_tasks + 1, "
    .. "remained_tasks = max(remained_tasks - 1, 0), updated_at = ? WHERE job_id = ? AND domain_id = ?",
  job_finalize = "UPDATE job SET status = CASE WHEN failure_tasks > 0 THEN 'FAILURE' ELSE 'SUCCESS' END, "
    .. "finished_at = ?, updated_at = ? WHERE job_id = ? AND domain_id = ? AND status = 'IN_PROGRESS' "
    .. "AND remained_tasks = 0",
  task_by_id = "SELECT " .. TASK_COLS .. " FROM job_task AS t WHERE t.job_task_id = ?",
}
M.SQL = SQL

-- LIKE pattern of a keyword token, as the store escapes it
local function like_pat(tok)
  return "%" .. tok:gsub("[%%_\\]", "\\%0") .. "%"
end
M.like_pat = like_pat

-- ids for the writes of the limit and the peer: prefix + 12 hex digits
local function new_id(prefix)
  return string.format("%s%06x%06x", prefix, math.random(0, 0xffffff), math.random(0, 0xffffff))
end

-- ---------------------------------------------------------------- signatures
local function sig_page(first_key, rows, total)
  local n = #rows
  return string.format("n=%d total=%s first=%s last=%s", n, tostring(total),
    n > 0 and tostring(rows[1][first_key]) or "-", n > 0 and tostring(rows[n][first_key]) or "-")
end
local function sig_groups(rows, key, a, b)
  local n = #rows
  if n == 0 then return "n=0" end
  return string.format("n=%d first=%s/%s/%s last=%s/%s", n, tostring(rows[1][key]), tostring(rows[1][a]),
    tostring(b and rows[1][b]), tostring(rows[n][key]), tostring(rows[n][a]))
end

-- inventory results: {results=, total_count=} (list), {results=} (stat), {results=, more=} (analyze)
local inv_sig = {
  get = function(r) return string.format("%s %s %d", r.job_id, r.status, r.total_tasks) end,
  list_job = function(r) return sig_page("job_task_id", r.results, r.total_count) end,
  list_page = function(r) return sig_page("job_task_id", r.results, r.total_count) end,
  list_keyword = function(r) return sig_page("job_task_id", r.results, r.total_count) end,
  list_errors = function(r) return sig_page("job_task_id", r.results, r.total_count) end,
  stat_status = function(r) return sig_groups(r.results, "status", "count") end,
  stat_day = function(r) return sig_groups(r.results, "date", "count") end,
  analyze = function(r) return sig_groups(r.results, "collector_id", "jobs", "success") end,
  create = function(r) return string.format("%s total=%d remained=%d", r.status, r.total_tasks, r.remained_tasks) end,
  finish = function(r) return string.format("%s", r.status) end,
}
-- limit / peer results: {rows=, total=} or a row
local raw_sig = {
  get = function(r) return string.format("%s %s %d", r.job_id, r.status, r.total_tasks) end,
  list_job = function(r) return sig_page("job_task_id", r.rows, r.total) end,
  list_page = function(r) return sig_page("job_task_id", r.rows, r.total) end,
  list_keyword = function(r) return sig_page("job_task_id", r.rows, r.total) end,
  list_errors = function(r) return sig_page("job_task_id", r.rows, r.total) end,
  stat_status = function(r) return sig_groups(r.rows, "status", "count") end,
  stat_day = function(r) return sig_groups(r.rows, "date", "count") end,
  analyze = function(r) return sig_groups(r.rows, "collector_id", "jobs", "success") end,
  create = inv_sig.create,
  finish = inv_sig.finish,
}

-- ---------------------------------------------------------------- inventory
local function open_inventory(path)
  local inventory = require "inventory"
  local inv = assert(inventory.open{ path = path })
  local job, task = inv.job, inv.job_task
  local ops = {}
  function ops.get(p) return assert(job.get{ job_id = p.job_id, domain_id = p.domain_id }) end
  function ops.list_job(p)
    return assert(task.list{ domain_id = p.domain_id, job_id = p.job_id,
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
  function ops.stat_status(p)
    return assert(inv:call("job_task", "stat", { domain_id = p.domain_id, query = { aggregate = {
      { group = { keys = { { key = "status", name = "status" } },
                  fields = { { name = "count", operator = "count" } } } } } } }))
  end
  function ops.stat_day(p)
    return assert(inv:call("job_task", "stat", { domain_id = p.domain_id, query = { aggregate = {
      { group = { keys = { { key = "created_at", name = "date", date_format = "%Y-%m-%d" } },
                  fields = { { name = "count", operator = "count" } } } } } } }))
  end
  function ops.analyze(p)
    return assert(inv:call("job", "analyze", { domain_id = p.domain_id, query = {
      group_by = { "collector_id" },
      fields = { jobs = { operator = "count" },
                 success = { operator = "sum", key = "success_tasks" },
                 failure = { operator = "sum", key = "failure_tasks" } } } }))
  end
  function ops.create(p)
    return assert(job.create{ domain_id = p.domain_id, collector_id = p.collector_id,
      plugin_id = p.plugin_id, workspace_id = p.workspace_id, tasks = p.tasks })
  end
  function ops.finish(p)
    return assert(task.finish{ job_task_id = p.job_task_id, domain_id = p.domain_id, status = "SUCCESS",
      created_count = p.created, updated_count = p.updated })
  end
  return { name = "inventory", ops = ops, sig = inv_sig, close = function() inv:close() end }
end

-- ---------------------------------------------------------------- the limit
local function open_limit(path)
  local limit = require "limit"
  local db = assert(limit.open(path))
  local query, exec, time_ms = limit.query, limit.exec, limit.time_ms
  local ops = {}
  -- a page and its total_count (the store's rule), in one read transaction
  local function page(rows_sql, count_sql, lim, a, b)
    local rows, total
    exec(db, "BEGIN")
    if b then rows = query(db, rows_sql, a, b, lim) else rows = query(db, rows_sql, a, lim) end
    if #rows < lim then
      total = #rows
    else
      total = (b and query(db, count_sql, a, b) or query(db, count_sql, a))[1].n
    end
    exec(db, "COMMIT")
    return { rows = rows, total = total }
  end
  function ops.get(p) return query(db, SQL.get, p.job_id, p.domain_id)[1] end
  function ops.list_job(p) return page(SQL.list_job_rows, SQL.list_job_count, 20, p.job_id, p.domain_id) end
  function ops.list_page(p) return page(SQL.list_dom_rows, SQL.list_dom_count, 1000, p.domain_id) end
  function ops.list_keyword(p) return page(SQL.kw_rows, SQL.kw_count, 100, p.domain_id, like_pat(p.keyword)) end
  function ops.list_errors(p) return page(SQL.err_rows, SQL.err_count, 100, p.domain_id, p.error_code) end
  function ops.stat_status(p) return { rows = query(db, SQL.stat_status, p.domain_id) } end
  function ops.stat_day(p) return { rows = query(db, SQL.stat_day, p.domain_id) } end
  function ops.analyze(p) return { rows = query(db, SQL.analyze, p.domain_id), more = false } end
  function ops.create(p)
    local now = time_ms()
    local jid = new_id("job-")
    local tasks = p.tasks
    exec(db, "BEGIN IMMEDIATE")
    exec(db, SQL.cancel_dup, now, now, p.domain_id, p.collector_id)
    exec(db, SQL.insert_job, jid, #tasks, #tasks, p.domain_id, p.workspace_id, p.collector_id,
         p.plugin_id, now, now)
    for i = 1, #tasks do
      local t = tasks[i]
      exec(db, SQL.insert_task, new_id("job-task-"), t.provider, jid, t.secret_id, p.collector_id,
           t.service_account_id, t.project_id, t.workspace_id or p.workspace_id, p.domain_id, now)
    end
    exec(db, "COMMIT")
    return query(db, SQL.job_by_id, jid)[1]
  end
  function ops.finish(p)
    local now = time_ms()
    exec(db, "BEGIN IMMEDIATE")
    local t = query(db, SQL.load_task, p.job_task_id, p.domain_id)[1]
    if not t or t.remained <= 0 then exec(db, "ROLLBACK"); error("finish: task not found or finished") end
    -- BEGIN IMMEDIATE holds the write lock: remained_sub_tasks is now t.remained - 1
    exec(db, SQL.finish_task, p.created, p.updated, p.created + p.updated, now, now,
         p.job_task_id, p.domain_id)
    if t.remained == 1 then
      exec(db, SQL.job_task_done, now, t.job_id, p.domain_id)
      exec(db, SQL.job_finalize, now, now, t.job_id, p.domain_id)
    end
    exec(db, "COMMIT")
    return query(db, SQL.task_by_id, p.job_task_id)[1]
  end
  return { name = "limit", ops = ops, sig = raw_sig, db = db, close = function() limit.close(db) end }
end

-- ---------------------------------------------------------------- the LuaSQL peer
local function open_luasql(path)
  local driver = require "luasql.sqlite3"
  local env = assert(driver.sqlite3())
  local conn = assert(env:connect(path))
  local function run(sql)
    local cur = assert(conn:execute(sql))
    if type(cur) ~= "number" then cur:close() end
  end
  run("PRAGMA busy_timeout=5000")
  run("PRAGMA synchronous=NORMAL")
  run("PRAGMA foreign_keys=ON")
  run("PRAGMA temp_store=MEMORY")
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
  -- what a user writes: string.format with escaped values
  local F = string.format
  local ops = {}
  local function page(rows_sql, count_sql, lim)
    run("BEGIN")
    local rows, total = query(rows_sql), nil
    if #rows < lim then
      total = #rows
    else
      total = query(count_sql)[1].n
    end
    run("COMMIT")
    return { rows = rows, total = total }
  end
  local TASKS = "SELECT " .. TASK_COLS .. " FROM job_task AS t WHERE "
  function ops.get(p)
    return query(F("SELECT %s FROM job AS t WHERE t.job_id = '%s' AND t.domain_id = '%s' LIMIT 1",
                   JOB_COLS, esc(p.job_id), esc(p.domain_id)))[1]
  end
  function ops.list_job(p)
    local w = F("t.job_id = '%s' AND t.domain_id = '%s'", esc(p.job_id), esc(p.domain_id))
    return page(TASKS .. w .. " ORDER BY t.created_at DESC, t.id LIMIT 20",
                "SELECT count(*) AS n FROM job_task AS t WHERE " .. w, 20)
  end
  function ops.list_page(p)
    local w = F("t.domain_id = '%s'", esc(p.domain_id))
    return page(TASKS .. w .. " ORDER BY t.created_at DESC, t.id LIMIT 1000",
                "SELECT count(*) AS n FROM job_task AS t WHERE " .. w, 1000)
  end
  function ops.list_keyword(p)
    local w = F("t.domain_id = '%s' AND t.job_task_id LIKE '%s' ESCAPE '\\'", esc(p.domain_id),
                esc(like_pat(p.keyword)))
    return page(TASKS .. w .. " ORDER BY t.created_at DESC, t.id LIMIT 100",
                "SELECT count(*) AS n FROM job_task AS t WHERE " .. w, 100)
  end
  function ops.list_errors(p)
    local w = F("t.domain_id = '%s' AND EXISTS (SELECT 1 FROM json_each(t.errors) AS e "
                .. "WHERE json_extract(e.value, '$.error_code') = '%s')", esc(p.domain_id), esc(p.error_code))
    return page(TASKS .. w .. " ORDER BY t.created_at DESC, t.id LIMIT 100",
                "SELECT count(*) AS n FROM job_task AS t WHERE " .. w, 100)
  end
  function ops.stat_status(p) return { rows = query(fill(SQL.stat_status, p.domain_id)) } end
  function ops.stat_day(p) return { rows = query(fill(SQL.stat_day, p.domain_id)) } end
  function ops.analyze(p) return { rows = query(fill(SQL.analyze, p.domain_id)), more = false } end
  function ops.create(p)
    local now = os.time() * 1000
    local jid = new_id("job-")
    local tasks = p.tasks
    run("BEGIN IMMEDIATE")
    run(fill(SQL.cancel_dup, now, now, p.domain_id, p.collector_id))
    run(fill(SQL.insert_job, jid, #tasks, #tasks, p.domain_id, p.workspace_id, p.collector_id,
             p.plugin_id, now, now))
    for i = 1, #tasks do
      local t = tasks[i]
      run(fill(SQL.insert_task, new_id("job-task-"), t.provider, jid, t.secret_id, p.collector_id,
               t.service_account_id, t.project_id, t.workspace_id or p.workspace_id, p.domain_id, now))
    end
    run("COMMIT")
    return query(fill(SQL.job_by_id, jid))[1]
  end
  function ops.finish(p)
    local now = os.time() * 1000
    run("BEGIN IMMEDIATE")
    local t = query(fill(SQL.load_task, p.job_task_id, p.domain_id))[1]
    if not t or t.remained <= 0 then run("ROLLBACK"); error("finish: task not found or finished") end
    -- no RETURNING: LuaSQL steps a statement that returns rows twice (the
    -- UPDATE would run twice); the lock is held, so remained is t.remained - 1
    run(fill(SQL.finish_task, p.created, p.updated, p.created + p.updated, now, now,
             p.job_task_id, p.domain_id))
    if t.remained == 1 then
      run(fill(SQL.job_task_done, now, t.job_id, p.domain_id))
      run(fill(SQL.job_finalize, now, now, t.job_id, p.domain_id))
    end
    run("COMMIT")
    return query(fill(SQL.task_by_id, p.job_task_id))[1]
  end
  return { name = "luasql", ops = ops, sig = raw_sig,
           close = function() conn:close(); env:close() end }
end

function M.open(kind, path)
  if kind == "inventory" then return open_inventory(path) end
  if kind == "limit" then return open_limit(path) end
  if kind == "luasql" then return open_luasql(path) end
  error("unknown contender " .. tostring(kind))
end

M.NAMES = { "inventory", "limit", "luasql" }
return M
