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

-- job_id -> list of { old_status, new_status, old_finished, new_finished }
function C.read_audit(db)
  local out, ok = C.sqlite(db, "SELECT job_id, old_status, new_status, coalesce(old_finished,'-'), "
                             .. "coalesce(new_finished,'-') FROM test_audit_job ORDER BY rowid")
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
