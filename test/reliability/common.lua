-- test/reliability/common.lua: shared helpers of the reliability suite
-- (concurrency.lua, crash.lua and their child processes).
--
--   local C = dofile(dir .. "/common.lua")      -- sets package.path/cpath to the repo
--   local t = C.tap("concurrency")              -- t:ok(cond, name, detail), t:done()
--
-- Plain Lua 5.4 (children run under lua5.4); no dependency beyond the
-- inventory module itself and the sqlite3 CLI (installed by scripts/deps.sh).

local C = {}

-- the repository root, from this file's path
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
C.DIR = here
C.ROOT = here .. "/../.."
package.path = C.ROOT .. "/lua/?.lua;" .. C.ROOT .. "/lua/?/init.lua;" .. package.path
package.cpath = C.ROOT .. "/lib/lua/5.4/?.so;" .. package.cpath

C.LUA = os.getenv("RELIABILITY_LUA") or "lua5.4"

-- ===================== the backend under test =====================
-- RELIABILITY_BACKEND=sqlite (default) or postgresql; on PostgreSQL,
-- RELIABILITY_PG_URL names the (throwaway) server run.sh started. A store is
-- named by a "target": a file path (SQLite) or "pg:<schema>" (a schema of
-- that server), so that child processes get it as one argument.
C.BACKEND = os.getenv("RELIABILITY_BACKEND") or "sqlite"
C.PG = C.BACKEND == "postgresql"
C.PG_URL = os.getenv("RELIABILITY_PG_URL")
if C.PG then assert(C.PG_URL and C.PG_URL ~= "", "RELIABILITY_PG_URL is required on postgresql") end

-- a fresh store's target: dir/tag.db, or the schema "rel_<tag>_<dir's
-- random suffix>" (lowercase letters, digits and _: every run its own)
function C.target(dir, tag)
  if C.PG then
    local name = "rel_" .. tag .. "_" .. (dir:match("([^/%-]+)$") or "x")
    return "pg:" .. (name:lower():gsub("[^%w_]", "_"))
  end
  return dir .. "/" .. tag .. ".db"
end

-- inventory.open's options for a target, with extra options merged in
function C.options(target, extra)
  local o = {}
  for k, v in pairs(extra or {}) do o[k] = v end
  local schema = target:match("^pg:(.+)$")
  if schema then o.url, o.schema = C.PG_URL, schema else o.path = target end
  return o
end

function C.open(target, extra)
  return require("inventory").open(C.options(target, extra))
end

-- run SQL on a target with the engine's own client (sqlite3, psql); rows
-- come back one a line, columns separated by "|". Returns the output and ok.
function C.sql(target, sql)
  local schema = target:match("^pg:(.+)$")
  local cmd
  if schema then
    cmd = "psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d " .. C.q(C.PG_URL) .. " -c "
          .. C.q("SET search_path TO " .. schema) .. " -c " .. C.q(sql)
  else
    cmd = "sqlite3 " .. C.q(target) .. " " .. C.q(sql)
  end
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return (out:gsub("%s+$", "")), ok
end

-- the engine's integrity check (SQLite: PRAGMA integrity_check; PostgreSQL,
-- whose storage checks are the server's: the store's own audit of every
-- job's counters against its tasks, inv:check()): "ok" or the problems
function C.integrity(target)
  if not C.PG then return (C.sqlite(target, "PRAGMA integrity_check")) end
  local inv, m, c = C.open(target, { statement_timeout = 0 })
  if not inv then return "open failed: " .. tostring(c) .. " " .. tostring(m) end
  local r, m2 = inv:check()
  inv:close()
  if not r then return "check failed: " .. tostring(m2) end
  if r.ok then return "ok" end
  return table.concat(r.problems, "\n")
end

function C.now() -- wall clock seconds with sub-second resolution (no luasocket needed)
  local p = io.popen("date +%s.%N")
  local s = p:read("l")
  p:close()
  return tonumber(s)
end

function C.q(s) -- shell quote
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

function C.sleep(sec)
  os.execute(string.format("sleep %.3f", sec))
end

-- a fresh private temp directory (under $RELIABILITY_TMP when run.sh set
-- it, so an interrupted run is still cleaned up); C.rmtree(dir) removes it
local BASE = os.getenv("RELIABILITY_TMP") or "/tmp"
function C.tmpdir(tag)
  local p = io.popen("mktemp -d -p " .. C.q(BASE) .. " inv-" .. tag .. "-XXXXXX")
  local d = p:read("l")
  p:close()
  assert(d and #d > 0, "mktemp failed")
  return d
end
function C.rmtree(d)
  if d and d:match("/inv%-[%w]+%-[%w]+$") then os.execute("rm -rf " .. C.q(d)) end
end

function C.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

function C.read_lines(path)
  local out = {}
  local f = io.open(path, "r")
  if not f then return out end
  for l in f:lines() do out[#out + 1] = l end
  f:close()
  return out
end

function C.split(l)
  local t = {}
  for w in l:gmatch("%S+") do t[#t + 1] = w end
  return t
end

-- run the sqlite3 CLI on a database; returns its output (trimmed) and ok
function C.sqlite(db, sql)
  local p = io.popen("sqlite3 " .. C.q(db) .. " " .. C.q(sql) .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return (out:gsub("%s+$", "")), ok
end

-- Start a child in the background; returns { pid =, h = popen handle }.
-- The child's stdout is the pipe (its first line is the pid); stderr goes to errfile.
function C.spawn(cmd, errfile)
  -- io.popen runs this under /bin/sh -c: that shell prints its pid and becomes the child
  local h = io.popen("echo $$; exec " .. cmd .. " 2>" .. C.q(errfile), "r")
  local pid = tonumber(h:read("l"))
  assert(pid, "could not start: " .. cmd)
  return { pid = pid, h = h }
end
-- wait for a spawned child; returns ok, how, code (as io.popen's close)
function C.wait(child)
  return child.h:close()
end

-- TAP-ish reporting: every check prints "ok - name" or "not ok - name"
function C.tap(suite)
  local t = { suite = suite, pass = 0, fail = 0 }
  function t:ok(cond, name, detail)
    if cond then
      self.pass = self.pass + 1
      print("ok - " .. name)
    else
      self.fail = self.fail + 1
      print("not ok - " .. name .. (detail and ("\n#   " .. tostring(detail):gsub("\n", "\n#   ")) or ""))
    end
    io.stdout:flush()
    return cond
  end
  function t:note(s) print("# " .. s); io.stdout:flush() end
  function t:done()
    print(string.format("%s: %d passed, %d failed", self.suite, self.pass, self.fail))
    io.stdout:flush()
    return self.fail == 0
  end
  return t
end

-- ===================== reading the whole store back =====================

-- every job of a domain (the store caps pages at 1000: page through)
function C.all(inv, resource, domain, query)
  local out, start = {}, 1
  while true do
    local q = { page = { start = start, limit = 1000 }, sort = { { key = "created_at" } } }
    for k, v in pairs(query or {}) do q[k] = v end
    local r, m, c = inv:call(resource, "list", { domain_id = domain, query = q })
    if not r then error("list " .. resource .. " failed: " .. tostring(c) .. " " .. tostring(m)) end
    for _, x in ipairs(r.results) do out[#out + 1] = x end
    if #r.results < 1000 then break end
    start = start + 1000
  end
  return out
end

-- Check the counter invariants of every job against its tasks. Returns a
-- list of problems (strings). jobs: list of job records; tasks_by_job:
-- job_id -> list of task records.
function C.check_counters(jobs, tasks_by_job)
  local bad = {}
  local function add(fmt, ...) bad[#bad + 1] = string.format(fmt, ...) end
  for _, j in ipairs(jobs) do
    local ts = tasks_by_job[j.job_id] or {}
    local nS, nF, nOpen = 0, 0, 0
    for _, t in ipairs(ts) do
      if t.status == "SUCCESS" then nS = nS + 1
      elseif t.status == "FAILURE" then nF = nF + 1
      else nOpen = nOpen + 1 end
    end
    if j.success_tasks + j.failure_tasks + j.remained_tasks ~= j.total_tasks then
      add("%s: success %d + failure %d + remained %d ~= total %d", j.job_id, j.success_tasks,
          j.failure_tasks, j.remained_tasks, j.total_tasks)
    end
    if j.remained_tasks < 0 then add("%s: remained_tasks %d < 0", j.job_id, j.remained_tasks) end
    if #ts ~= j.total_tasks then add("%s: %d task rows, total_tasks %d", j.job_id, #ts, j.total_tasks) end
    if nS ~= j.success_tasks or nF ~= j.failure_tasks or nOpen ~= j.remained_tasks then
      add("%s: tasks SUCCESS/FAILURE/open = %d/%d/%d, job counters %d/%d/%d", j.job_id, nS, nF,
          nOpen, j.success_tasks, j.failure_tasks, j.remained_tasks)
    end
    if j.status == "IN_PROGRESS" and j.remained_tasks == 0 and j.total_tasks > 0 then
      add("%s: remained_tasks 0 but still IN_PROGRESS", j.job_id)
    end
    if j.status ~= "IN_PROGRESS" and j.finished_at == nil then
      add("%s: status %s without finished_at", j.job_id, j.status)
    end
    if j.status == "IN_PROGRESS" and j.finished_at ~= nil then
      add("%s: IN_PROGRESS with finished_at %s", j.job_id, tostring(j.finished_at))
    end
  end
  return bad
end

-- The store against a writer's log (crash_writer.lua, fault_writer.lua):
--   C job_id total_tasks | F task status created_count | S task status |
--   E task message_id     (a write the writer saw succeed)
--   X op id code class ms unknown message   (fault_writer: a failed call; id
--                         is its task, message id or "-"; unknown is 1 when
--                         the error says whether it committed is unknown, 2
--                         when it says the write was committed)
--   ERR ...               (crash_writer: anything unexpected)
-- Every reported write must be there, exactly once; a failed call whose
-- outcome is known must have left nothing (its finish, its error); counters
-- agree with the tasks; at most one IN_PROGRESS job per collector. Returns
-- the problems and { jobs, tasks, unlogged (committed writes no success line
-- names), unknown (failed calls that may have committed unseen), committed
-- (failed calls that said their write was committed) }.
function C.check_log(target, domain, lines)
  local bad = {}
  local function add(fmt, ...) bad[#bad + 1] = string.format(fmt, ...) end
  local info = { jobs = 0, tasks = 0, unlogged = 0, unknown = 0, committed = 0 }
  local inv, m, c = C.open(target, { busy_timeout = 5000, statement_timeout = 0 })  -- an audit: no call budget
  if not inv then
    add("reopen failed: %s %s", tostring(c), tostring(m))
    return bad, info
  end
  local jobs = C.all(inv, "job", domain)
  local tasks = C.all(inv, "job_task", domain)
  inv:close()
  info.jobs, info.tasks = #jobs, #tasks
  local by_job, task_by_id, job_by_id = {}, {}, {}
  for _, t in ipairs(tasks) do
    by_job[t.job_id] = by_job[t.job_id] or {}
    table.insert(by_job[t.job_id], t)
    task_by_id[t.job_task_id] = t
  end
  for _, j in ipairs(jobs) do job_by_id[j.job_id] = j end
  for _, p in ipairs(C.check_counters(jobs, by_job)) do bad[#bad + 1] = p end
  local running = {}
  for _, j in ipairs(jobs) do
    if j.status == "IN_PROGRESS" then
      if running[j.collector_id] then add("two IN_PROGRESS jobs of %s: %s %s", j.collector_id, running[j.collector_id], j.job_id) end
      running[j.collector_id] = j.job_id
    end
  end
  local logged_jobs, logged_fin, logged_err = {}, {}, {}
  local function stored_errors(task, msg)
    local x, n = task_by_id[task], 0
    for _, e in ipairs(x and x.errors or {}) do if e.message == msg then n = n + 1 end end
    return n
  end
  for _, l in ipairs(lines) do
    local t = C.split(l)
    if t[1] == "ERR" then add("writer reported: %s", l)
    elseif t[1] == "C" then
      logged_jobs[t[2]] = true
      local j = job_by_id[t[2]]
      if not j then add("logged job %s missing", t[2])
      elseif j.total_tasks ~= tonumber(t[3]) then add("job %s total %d, logged %s", t[2], j.total_tasks, t[3]) end
    elseif t[1] == "F" then
      logged_fin[t[2]] = true
      local x = task_by_id[t[2]]
      if not x then add("logged finished task %s missing", t[2])
      elseif x.status ~= t[3] or x.created_count ~= tonumber(t[4]) then
        add("task %s is %s/%d, finish reported %s/%s", t[2], x.status, x.created_count, t[3], t[4])
      end
    elseif t[1] == "S" then
      local x = task_by_id[t[2]]
      if not x then add("logged started task %s missing", t[2])
      elseif t[3] == "FAILURE" then
        logged_fin[t[2]] = true
        if x.status ~= "FAILURE" then add("task %s failed at start (canceled job) but is %s", t[2], x.status) end
      elseif x.started_at == nil then add("task %s started (%s) but has no started_at", t[2], t[3]) end
    elseif t[1] == "E" then
      logged_err[t[2] .. " " .. t[3]] = true
      local n = stored_errors(t[2], t[3])
      if n ~= 1 then add("error %s on task %s stored %d times", t[3], t[2], n) end
    elseif t[1] == "X" then
      local op, id, unknown, committed = t[2], t[3], t[7] == "1", t[7] == "2"
      if unknown then
        info.unknown = info.unknown + 1
        if op == "finish" then logged_fin[id] = true end
      elseif committed then
        -- the write was committed (the error says so): it must be there
        info.committed = info.committed + 1
        if op == "finish" then
          logged_fin[id] = true
          local x = task_by_id[id]
          if not (x and (x.status == "SUCCESS" or x.status == "FAILURE")) then
            add("finish of %s was committed but the task is open: %s", id, l)
          end
        elseif op == "add_error" then
          local task, msg = id:match("^(.+)/(.+)$")
          logged_err[task .. " " .. msg] = true
          if stored_errors(task, msg) ~= 1 then add("add_error %s was committed but is not stored once: %s", msg, l) end
        else
          info.unknown = info.unknown + 1       -- (a create's new id is not in the log)
        end
      elseif op == "finish" then
        local x = task_by_id[id]
        if x and (x.status == "SUCCESS" or x.status == "FAILURE") then
          add("finish of %s failed but the task is %s: %s", id, x.status, l)
        end
      elseif op == "add_error" then
        local task, msg = id:match("^(.+)/(.+)$")
        local n = stored_errors(task, msg)
        if n ~= 0 then add("add_error %s on %s failed but is stored %d times: %s", msg, task, n, l) end
      end
    elseif l ~= "" then add("unknown log line: %s", l) end
  end
  -- committed but never logged: a write in flight when its process was killed,
  -- or one whose failure said its outcome is unknown
  for _, j in ipairs(jobs) do if not logged_jobs[j.job_id] then info.unlogged = info.unlogged + 1 end end
  for _, x in ipairs(tasks) do
    if (x.status == "SUCCESS" or x.status == "FAILURE") and not logged_fin[x.job_task_id] then
      info.unlogged = info.unlogged + 1
    end
    for _, e in ipairs(x.errors or {}) do
      if e.error_code == "ERROR_TEST" and not logged_err[x.job_task_id .. " " .. e.message] then
        info.unlogged = info.unlogged + 1
      end
    end
  end
  return bad, info
end

function C.head(list, n)
  local out = {}
  for i = 1, math.min(#list, n or 10) do out[i] = list[i] end
  if #list > (n or 10) then out[#out + 1] = string.format("... (%d more)", #list - (n or 10)) end
  return table.concat(out, "\n")
end

-- An audit trigger (a test instrument, not part of the schema): every change
-- of a job's status or finished_at is logged, so "finalised exactly once"
-- is observed, not inferred.
C.AUDIT_SQL = [[
CREATE TABLE IF NOT EXISTS test_audit_job (job_id TEXT, old_status TEXT, new_status TEXT,
  old_finished INTEGER, new_finished INTEGER);
CREATE TRIGGER IF NOT EXISTS test_audit_job_fin AFTER UPDATE ON job
WHEN old.status IS NOT new.status OR old.finished_at IS NOT new.finished_at
BEGIN
  INSERT INTO test_audit_job VALUES (new.job_id, old.status, new.status, old.finished_at, new.finished_at);
END;
]]
C.AUDIT_SQL_PG = [[
CREATE TABLE test_audit_job (n bigserial PRIMARY KEY, job_id text, old_status text, new_status text,
  old_finished bigint, new_finished bigint);
CREATE FUNCTION test_audit_job_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO test_audit_job (job_id, old_status, new_status, old_finished, new_finished)
  VALUES (NEW.job_id, OLD.status, NEW.status, OLD.finished_at, NEW.finished_at);
  RETURN NULL;
END $$;
CREATE TRIGGER test_audit_job_fin AFTER UPDATE ON job FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.finished_at IS DISTINCT FROM NEW.finished_at)
EXECUTE FUNCTION test_audit_job_fn();
]]

-- install the audit trigger on a target's store
function C.audit(target)
  local out, ok = C.sql(target, C.PG and C.AUDIT_SQL_PG or C.AUDIT_SQL)
  assert(ok, "audit trigger: " .. out)
end

-- job_id -> list of { old_status, new_status, old_finished, new_finished }
function C.read_audit(target)
  local out, ok = C.sql(target, "SELECT job_id, old_status, new_status, coalesce(CAST(old_finished AS TEXT),'-'), "
                             .. "coalesce(CAST(new_finished AS TEXT),'-') FROM test_audit_job ORDER BY "
                             .. (C.PG and "n" or "rowid"))
  assert(ok, "audit read failed: " .. out)
  local by = {}
  for l in out:gmatch("[^\n]+") do
    local id, os_, ns, of, nf = l:match("^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)$")
    by[id] = by[id] or {}
    table.insert(by[id], { old = os_, new = ns, old_fin = of, new_fin = nf })
  end
  return by
end

return C
