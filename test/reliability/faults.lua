-- test/reliability/faults.lua: faults of the PostgreSQL server under running
-- writers (PostgreSQL only; run.sh runs it on that backend).
--
--   lua5.4 test/reliability/faults.lua        (run by test/reliability/run.sh)
--
-- It starts its own throwaway cluster (scripts/pg.sh, FSYNC=on: the server is
-- killed here) and stops it at the end, also when a check fails.
--   F1 the server stopped mid-run (pg_ctl stop -m fast, then -m immediate:
--      a crash) for a second under 2 writer processes, then started again:
--      while it is down every call fails with ERROR_DB_QUERY, class
--      "unavailable", "PostgreSQL is unavailable", within its budget plus the
--      connect timeout; nothing is half-written (every reported write is
--      there, a failed one left nothing, no counter drifts); every call that
--      starts once the server is back succeeds.
--   F2 sessions killed by pg_terminate_backend in the middle of their write
--      transactions, every 20 ms for 2.5 s, under 2 writers: a write whose
--      transaction died runs again on a new connection (4 tries in all), so
--      a call fails only when all its tries were killed, with a clear error;
--      every write is there exactly once.
--   F3 a server that hangs (SIGSTOP of the cluster's processes): a call
--      fails within its budget plus the connect timeout, an open within the
--      connect timeout, both "unavailable"; after SIGCONT the next call
--      succeeds without reopening the store.
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local C = dofile(dir .. "/common.lua")
local socket = require "socket"

local T = C.tap("faults")
local TMP = C.tmpdir("faults")
-- the cluster's directory: its own, under /tmp (the postgres user must reach
-- it; a Unix socket path is short), removed by pg.sh stop
local PGDIR = io.popen("mktemp -d /tmp/inv-faults-pg-XXXXXX"):read("l")
assert(PGDIR and PGDIR ~= "", "mktemp failed")
local CONNECT_MS = 1000
local BUDGET_MS = 500               -- fault_writer's statement_timeout
local D = "domain-fault"
local children = {}
local stopped = {}                  -- pids we SIGSTOPped (resumed on the way out)

local function now() return socket.gettime() end

local PGSH = "FSYNC=on sh " .. C.q(C.ROOT .. "/scripts/pg.sh")
local function pg_down(mode) return os.execute(PGSH .. " down " .. C.q(PGDIR) .. " " .. mode .. " >/dev/null 2>&1") end
local function pg_up() return os.execute(PGSH .. " up " .. C.q(PGDIR) .. " >/dev/null 2>&1") end

local function cleanup()
  for _, pid in ipairs(stopped) do os.execute("kill -CONT " .. pid .. " 2>/dev/null") end
  for _, ch in ipairs(children) do
    if not ch.done then os.execute("kill -9 " .. ch.pid .. " 2>/dev/null"); pcall(C.wait, ch) end
  end
  os.execute(PGSH .. " stop " .. C.q(PGDIR) .. " 2>/dev/null")
  C.rmtree(TMP)
end

-- start n fault writers on target; returns them (each with .log)
local function start_writers(target, n, tag, stopfile)
  local ws = {}
  for w = 1, n do
    local logf = string.format("%s/%s-w%d.log", TMP, tag, w)
    local ch = C.spawn(table.concat({ "env", "RELIABILITY_BACKEND=postgresql",
                                      C.q("RELIABILITY_PG_URL=" .. C.PG_URL), C.LUA, C.q(dir .. "/fault_writer.lua"), C.q(target), C.q(logf),
                                      w * 1000 + #children, C.q(stopfile), CONNECT_MS }, " "),
                       logf .. ".err")
    ch.log, ch.err = logf, logf .. ".err"
    children[#children + 1] = ch
    ws[#ws + 1] = ch
  end
  for _, ch in ipairs(ws) do
    local l = ch.h:read("l")
    assert(l == "ready", "writer did not start: " .. tostring(l))
  end
  return ws
end

-- stop the writers; returns all their log lines and problems with their exits
local function stop_writers(ws, stopfile)
  assert(io.open(stopfile, "w")):close()
  local lines, bad = {}, {}
  for _, ch in ipairs(ws) do
    local ok, how, code = C.wait(ch)
    ch.done = true
    local f = io.open(ch.err)
    local etext = f and f:read("a") or ""
    if f then f:close() end
    if not (ok and code == 0) or etext ~= "" then
      bad[#bad + 1] = string.format("writer %d: %s %s; stderr: %s", ch.pid, tostring(how), tostring(code), etext)
    end
    for _, l in ipairs(C.read_lines(ch.log)) do lines[#lines + 1] = l end
  end
  return lines, bad
end

-- the start time (s) and duration (ms) at the end of a log line
local function stamp(l)
  local t0, ms = l:match("(%d+%.%d+) (%d+%.?%d*)$")
  return tonumber(t0), tonumber(ms)
end

-- ===================== F1: the server stopped mid-run =====================

local function f1(mode)
  local target = C.target(TMP, "f1" .. mode)
  local stopfile = TMP .. "/stop-f1" .. mode
  local ws = start_writers(target, 2, "f1" .. mode, stopfile)
  C.sleep(0.7)
  local tDown = now()
  local okStop = pg_down(mode)
  C.sleep(1.0)
  local okStart = pg_up()
  local tUp = now()
  C.sleep(0.8)
  local lines, bad = stop_writers(ws, stopfile)
  T:ok(okStop and okStart, "F1 (" .. mode .. "): the server stopped (-m " .. mode .. ") and started again")
  T:ok(#bad == 0, "F1 (" .. mode .. "): the writers ran through it and exited 0", table.concat(bad, "\n"))
  local nOk, nFail, nUnknown, nCommitted, maxMs, after, afterBad, unclear = 0, 0, 0, 0, 0, 0, {}, {}
  local limit = BUDGET_MS + CONNECT_MS + 500
  for _, l in ipairs(lines) do
    local t0, ms = stamp(l)
    local x = C.split(l)
    if x[1] == "X" then
      nFail = nFail + 1
      if x[7] == "1" then nUnknown = nUnknown + 1 end
      if x[7] == "2" then nCommitted = nCommitted + 1 end
      maxMs = math.max(maxMs, ms or 0)
      if x[4] ~= "ERROR_DB_QUERY" or x[5] ~= "unavailable" or not x[8]:find("PostgreSQL_is_unavailable", 1, true)
         or (ms or math.huge) > limit then
        unclear[#unclear + 1] = l
      end
      if t0 and t0 > tUp then afterBad[#afterBad + 1] = l end
    else
      nOk = nOk + 1
      if t0 and t0 > tUp then after = after + 1 end
    end
  end
  T:note(string.format("F1 (%s): %d calls succeeded, %d failed while the server was down (%d with an "
    .. "unknown outcome, %d committed but unread), the slowest failure took %.0f ms; %d calls after the "
    .. "restart", mode, nOk, nFail, nUnknown, nCommitted, maxMs, after))
  T:ok(nFail > 0, "F1 (" .. mode .. "): calls failed while the server was down", nFail)
  T:ok(#unclear == 0, "F1 (" .. mode .. "): every failure is ERROR_DB_QUERY, unavailable, 'PostgreSQL is "
       .. "unavailable', within the budget plus the connect timeout (" .. limit .. " ms)", C.head(unclear, 10))
  T:ok(after > 0 and #afterBad == 0, "F1 (" .. mode .. "): every call after the restart succeeded",
       after .. " calls after; failed:\n" .. C.head(afterBad, 10))
  local problems, info = C.check_log(target, D, lines)
  if info.unlogged > info.unknown then
    problems[#problems + 1] = string.format("%d committed writes no success reported, %d failures with "
      .. "an unknown outcome", info.unlogged, info.unknown)
  end
  T:ok(#problems == 0, "F1 (" .. mode .. "): nothing half-written: every reported write there once, failed "
       .. "writes absent, counters consistent", C.head(problems, 15))
  T:note(string.format("F1 (%s): %d jobs, %d tasks; %.1f s down", mode, info.jobs, info.tasks, tUp - tDown))
end

-- ===================== F2: pg_terminate_backend mid-transaction =====================

local function f2()
  local target = C.target(TMP, "f2")
  local stopfile = TMP .. "/stop-f2"
  local killf = TMP .. "/kills"
  local ws = start_writers(target, 2, "f2", stopfile)
  -- every 20 ms: terminate the sessions of inventory that are inside a write
  -- transaction (they have a transaction id: BEGIN asked for it)
  local sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
              .. "application_name = 'inventory' AND backend_xid IS NOT NULL AND pid <> pg_backend_pid();"
  local killer = C.spawn("sh -c " .. C.q("for i in $(seq 1 125); do echo " .. C.q(sql) .. "; sleep 0.02; done | psql -X -q -A -t -d "
    .. C.q(C.PG_URL) .. " > " .. C.q(killf)), TMP .. "/killer.err")
  children[#children + 1] = killer
  C.wait(killer)
  killer.done = true
  local lines, bad = stop_writers(ws, stopfile)
  local kills = 0
  for _, l in ipairs(C.read_lines(killf)) do kills = kills + (tonumber(l) or 0) end
  T:ok(#bad == 0, "F2: the writers ran through it and exited 0", table.concat(bad, "\n"))
  T:ok(kills >= 10, "F2: sessions were terminated inside their write transactions", kills .. " terminated")
  local fails, nOk = {}, 0
  for _, l in ipairs(lines) do
    if l:sub(1, 2) == "X " then fails[#fails + 1] = l else nOk = nOk + 1 end
  end
  local problems, info = C.check_log(target, D, lines)
  if info.unlogged > info.unknown then
    problems[#problems + 1] = string.format("%d committed writes no success reported", info.unlogged)
  end
  local unclear = {}
  for _, l in ipairs(fails) do
    local x = C.split(l)
    if x[4] ~= "ERROR_DB_QUERY" or x[5] ~= "unavailable" or not x[8]:find("PostgreSQL_is_unavailable", 1, true) then
      unclear[#unclear + 1] = l
    end
  end
  T:note(string.format("F2: %d sessions terminated mid-transaction; %d calls succeeded, %d failed", kills, nOk, #fails))
  -- a write whose transaction died runs again (4 tries in all): a call fails
  -- only when all its tries were terminated
  T:ok(#fails * 4 <= kills and #unclear == 0, "F2: a transaction that died with its session ran again: "
       .. "no call failed but after 4 terminated tries, and then clearly", C.head(fails, 10))
  T:ok(#problems == 0, "F2: every reported write there exactly once, counters consistent", C.head(problems, 15))
end

-- ===================== F3: a server that does not answer =====================

local function cluster_pids()
  local f = io.open(PGDIR .. "/data/postmaster.pid")
  local pm = f and tonumber(f:read("l"))
  if f then f:close() end
  assert(pm, "no postmaster.pid")
  local pids = { pm }
  local p = io.popen("ps -o pid= --ppid " .. pm)
  for l in p:lines() do pids[#pids + 1] = tonumber(l) end
  p:close()
  return pids
end

local function f3()
  local target = C.target(TMP, "f3")
  local inv = assert(C.open(target, { statement_timeout = 300, connect_timeout = CONNECT_MS }))
  assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { {} } })
  for _, pid in ipairs(cluster_pids()) do
    os.execute("kill -STOP " .. pid)
    stopped[#stopped + 1] = pid
  end
  local t0 = now()
  local r, m, c, cl = inv.job.list{ domain_id = D }
  local dt = (now() - t0) * 1000
  T:ok(r == nil and c == "ERROR_DB_QUERY" and cl == "unavailable" and dt < 300 + CONNECT_MS + 500,
       "F3: a call to a hung server fails within its budget plus the connect timeout, unavailable",
       string.format("%.0f ms: %s %s %s", dt, tostring(c), tostring(cl), tostring(m)))
  T:note(string.format("F3: the call gave up after %.0f ms: %s", dt, tostring(m)))
  t0 = now()
  local inv2, m2, c2, cl2 = C.open(target, { connect_timeout = CONNECT_MS })
  dt = (now() - t0) * 1000
  T:ok(inv2 == nil and c2 == "ERROR_DB_QUERY" and cl2 == "unavailable" and dt < CONNECT_MS + 500,
       "F3: an open against a hung server fails within the connect timeout, unavailable",
       string.format("%.0f ms: %s %s %s", dt, tostring(c2), tostring(cl2), tostring(m2)))
  for _, pid in ipairs(stopped) do os.execute("kill -CONT " .. pid) end
  stopped = {}
  r, m = inv.job.list{ domain_id = D }
  T:ok(r and #r.results == 1, "F3: after SIGCONT the next call succeeds on the same store", tostring(m))
  inv:close()
end

local ok, err = xpcall(function()
  local out = io.popen(PGSH .. " start " .. C.q(PGDIR) .. " 2>&1")
  local url = out:read("a"):gsub("%s+$", "")
  assert(out:close(), "the cluster did not start: " .. url)
  C.PG_URL = url
  f1("fast")
  f1("immediate")
  f2()
  f3()
end, debug.traceback)
if not ok then T:ok(false, "faults suite ran to the end", err) end
cleanup()
os.exit(T:done() and 0 or 1)
