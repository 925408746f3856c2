-- test/reliability/crash.lua: kill -9 a writer at random moments and check
-- that the store survives every time.
--
--   lua5.4 test/reliability/crash.lua        (run by test/reliability/run.sh)
--   RELIABILITY_KILLS=n (default 25, at least 20), RELIABILITY_SEED=n
--
-- Each iteration starts crash_writer.lua (lua5.4, busy_timeout 5000) on the
-- same store (a file; on PostgreSQL a schema: RELIABILITY_BACKEND, common.lua),
-- lets it write for 20-300 ms, kills it with SIGKILL, then:
--   - PRAGMA integrity_check (sqlite3 CLI) is "ok" (SQLite);
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

local T = C.tap("crash")
local TMP = C.tmpdir("crash")
local DB, LOG = C.target(TMP, "crash"), TMP .. "/writer.log"
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
  local lines, partial = read_log()
  local bad, info = C.check_log(DB, D, lines)
  if partial then bad[#bad + 1] = "the log ends with a partial line" end
  -- committed but not logged: the call in flight when the kill came, at most one per process
  if info.unlogged > kills then
    bad[#bad + 1] = string.format("%d committed writes never logged after %d kills", info.unlogged, kills)
  end
  return bad, #lines, info.jobs, info.tasks, info.unlogged
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
