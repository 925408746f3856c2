-- test/reliability/crash.lua: kill -9 a writer at random moments and check
-- that the store survives every time.
--
--   lua5.4 test/reliability/crash.lua        (run by test/reliability/run.sh)
--   RELIABILITY_KILLS=n (default 25, at least 20), RELIABILITY_SEED=n
--
-- Each iteration starts crash_writer.lua (lua5.4, busy_timeout 5000) on the
-- same store file, lets it write for 20-300 ms, kills it with SIGKILL, then:
--   - PRAGMA integrity_check (sqlite3 CLI) is "ok";
--   - the store opens again;
--   - every job's counters equal its tasks' statuses and
--     success + failure + remained == total (a create, a finish, a start are
--     each all-or-nothing across the job and task rows);
--   - at most one IN_PROGRESS job per collector (create cancels the running
--     one in the same transaction);
--   - every write the writer logged as committed is there (jobs with their
--     tasks, finish statuses and counts, each error exactly once);
--   - writes committed but never logged: at most one per killed process.
-- The whole run stops early (after at least 20 kills) past ~60 s.
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local C = dofile(dir .. "/common.lua")
local inventory = require "inventory"

local T = C.tap("crash")
local TMP = C.tmpdir("crash")
local DB, LOG = TMP .. "/crash.db", TMP .. "/writer.log"
local D = "domain-crash"
local KILLS = math.max(20, tonumber(os.getenv("RELIABILITY_KILLS") or "") or 25)
local BUDGET = 60
local SEED = tonumber(os.getenv("RELIABILITY_SEED") or "") or os.time()
math.randomseed(SEED)
local current

-- the log so far; a partial last line (none expected: lines are written whole) is dropped
local function read_log()
  local f = io.open(LOG, "rb")
  if not f then return {} end
  local s = f:read("a")
  f:close()
  local lines = {}
  for l in s:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  return lines, #s > 0 and s:sub(-1) ~= "\n"
end

local function verify(_, kills)
  local bad = {}
  local function add(fmt, ...) bad[#bad + 1] = string.format(fmt, ...) end
  local ic = C.sqlite(DB, "PRAGMA integrity_check")
  if ic ~= "ok" then add("integrity_check: %s", ic) end
  local inv, m, c = inventory.open{ path = DB, busy_timeout = 5000, statement_timeout = 0 }  -- an audit: no call budget
  if not inv then
    add("reopen failed: %s %s", tostring(c), tostring(m))
    return bad, 0, 0, 0, 0
  end
  local jobs = C.all(inv, "job", D)
  local tasks = C.all(inv, "job_task", D)
  inv:close()
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
  -- the store holds what the log says
  local lines, partial = read_log()
  if partial then add("the log ends with a partial line") end
  local logged_jobs, logged_fin, logged_err = {}, {}, {}
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
      local x = task_by_id[t[2]]
      local n = 0
      for _, e in ipairs(x and x.errors or {}) do if e.message == t[3] then n = n + 1 end end
      if n ~= 1 then add("error %s on task %s stored %d times", t[3], t[2], n) end
    elseif l ~= "" then add("unknown log line: %s", l) end
  end
  -- committed but not logged: the call in flight when the kill came, at most one per process
  local unlogged = 0
  for _, j in ipairs(jobs) do if not logged_jobs[j.job_id] then unlogged = unlogged + 1 end end
  for _, x in ipairs(tasks) do
    if (x.status == "SUCCESS" or x.status == "FAILURE") and not logged_fin[x.job_task_id] then
      -- a task of a job created but not logged cannot have been finished by a logged call either
      unlogged = unlogged + 1
    end
    for _, e in ipairs(x.errors or {}) do
      if e.error_code == "ERROR_TEST" and not logged_err[x.job_task_id .. " " .. e.message] then
        unlogged = unlogged + 1
      end
    end
  end
  if unlogged > kills then add("%d committed writes never logged after %d kills", unlogged, kills) end
  return bad, #lines, #jobs, #tasks, unlogged
end

local ok, err = xpcall(function()
  T:note(string.format("seed %d, %d kills, budget %d s", SEED, KILLS, BUDGET))
  local t0 = C.now()
  local kills, prev, failures = 0, 0, 0
  local stats = { survived = 0, min = math.huge, max = 0 }
  for it = 1, KILLS do
    if it > 20 and C.now() - t0 > BUDGET then
      T:note(string.format("time budget reached after %d kills", kills))
      break
    end
    local errf = TMP .. "/writer.err"
    local cmd = table.concat({ C.LUA, C.q(dir .. "/crash_writer.lua"), C.q(DB), C.q(LOG), SEED * 100 + it,
                               ">/dev/null" }, " ")
    current = C.spawn(cmd, errf)
    local ms = math.random(20, 300)
    C.sleep(ms / 1000)
    local killed = os.execute("kill -9 " .. current.pid .. " 2>/dev/null")
    local _, how, code = C.wait(current)
    current = nil
    local ef = io.open(errf)
    local etext = ef and ef:read("a") or ""
    if ef then ef:close() end
    local died = killed and how == "signal" and code == 9
    if died then kills = kills + 1 end
    local bad, nlines, njobs, ntasks, unlogged = verify(it, kills)
    local writes = nlines - prev
    prev = nlines
    stats.min, stats.max = math.min(stats.min, writes), math.max(stats.max, writes)
    if not died then bad[#bad + 1] = string.format("writer was not killed: it ended by %s %s; stderr: %s",
                                                   tostring(how), tostring(code), etext) end
    if #bad == 0 then stats.survived = stats.survived + 1 else failures = failures + 1 end
    T:ok(#bad == 0, string.format("kill %d after %d ms (%d writes logged): store intact, every logged write present",
         it, ms, writes), C.head(bad, 15))
    if it % 5 == 0 then
      T:note(string.format("after %d kills: %d jobs, %d tasks, %d logged writes, %d committed but not yet "
                           .. "logged when the writer was killed (expected)", kills, njobs, ntasks, nlines, unlogged))
    end
  end
  T:ok(kills >= 20, "at least 20 SIGKILLs delivered mid-run", kills)
  local _, nlines = verify(0, kills)
  T:note(string.format("%d kills, %d survived; %d writes logged (%d-%d per run); %.1f s",
    kills, stats.survived, nlines, stats.min, stats.max, C.now() - t0))
end, debug.traceback)
if not ok then T:ok(false, "crash suite ran to the end", err) end
if current then os.execute("kill -9 " .. current.pid .. " 2>/dev/null"); pcall(C.wait, current) end
C.rmtree(TMP)
os.exit(T:done() and 0 or 1)
