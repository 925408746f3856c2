-- test/nginx/cluster.lua: nginx on PostgreSQL, as a cluster runs it: two
-- nginx instances (A and B, 2 workers each) on one database, and writers in
-- other processes. Started by test/nginx/run.sh (PostgreSQL pass), which
-- owns both nginx and the cluster. Prints "cluster: N passed, N failed".
--
--   1. No stale answer: A's read cache (per worker, tagged with the store's
--      version, change_seq.seq) is warm on every read below; after each write
--      committed elsewhere (another process through the Lua API, or a DELETE
--      through B) every read through A answers the new state, and the cache
--      did serve hits meanwhile (it was not simply off).
--   2. Under a running writer: every read through A that starts after a
--      write was acknowledged shows it (no answer older than its request).
--   3. The event loop never waits on the network: with the server frozen
--      (SIGSTOP), a request that needs the store waits in the thread pool
--      while another one on the same nginx answers at once; the waiting one
--      ends 503 within the budget plus connect_timeout.
--   4. An outage: the server stopped under the running nginx; requests answer
--      503 with a JSON error and Retry-After within the connect timeout,
--      /healthz 503; the server started again, the service recovers by itself.
--
-- Environment: BASE, BASE_B, WORK, DB (the URL), PG_DIR (scripts/pg.sh's
-- directory), ROOT, ERROR_LOG, ERROR_LOG_B, NGINX_PID, NGINX_PID_B.
local cjson = require "cjson.safe"
local socket = require "socket"
local F = require "spec.rest_fixture"

local BASE = assert(os.getenv("BASE"), "BASE")
local BASE_B = assert(os.getenv("BASE_B"), "BASE_B")
local WORK = assert(os.getenv("WORK"), "WORK")
local DB = assert(os.getenv("DB"), "DB")
local PG_DIR = assert(os.getenv("PG_DIR"), "PG_DIR")
local ROOT = os.getenv("ROOT") or "."
local ERROR_LOGS = { assert(os.getenv("ERROR_LOG")), assert(os.getenv("ERROR_LOG_B")) }
local NGINX_PIDS = { assert(os.getenv("NGINX_PID")), assert(os.getenv("NGINX_PID_B")) }
local CONNECT_MS = 2000            -- mkprefix.sh's connect_timeout
local BUDGET_MS = 500              -- the default statement_timeout (a call's budget)
local TOKEN = "b-admin"
local D = F.B

local passed, failed = 0, 0
local function test(name, fn)
  local ok, err = pcall(fn)
  if ok then passed = passed + 1 else failed = failed + 1; print("not ok - " .. name .. ": " .. tostring(err)) end
end
local function fail(msg) error(msg, 0) end
local function eq(a, b, what)
  if a ~= b then fail((what or "value") .. ": expected " .. tostring(b) .. ", got " .. tostring(a)) end
end
local function truthy(v, what) if not v then fail(what or "expected a true value") end end
local function note(s) print("# " .. s); io.stdout:flush() end
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local nreq = 0
-- http(base, method, path, body) -> { status, headers, text, json, secs }
local function http(base, method, path, body, token)
  nreq = nreq + 1
  local hdr, out = WORK .. "/c.headers", WORK .. "/c.body"
  os.remove(hdr); os.remove(out)
  local args = { "curl", "-sS", "--max-time", "15", "-o", out, "-D", hdr, "-w", "%{http_code} %{time_total}",
                 "-X", method }
  if body then
    write(WORK .. "/c.req", type(body) == "table" and assert(cjson.encode(body)) or body)
    for _, a in ipairs{ "--data-binary", "@" .. WORK .. "/c.req", "-H", "Content-Type: application/json" } do
      args[#args + 1] = a
    end
  end
  if token ~= false then args[#args + 1] = "-H"; args[#args + 1] = "Authorization: Bearer " .. (token or TOKEN) end
  args[#args + 1] = base .. path
  local cmd = {}
  for i, a in ipairs(args) do cmd[i] = q(a) end
  local p = io.popen(table.concat(cmd, " ") .. " 2>&1")
  local res = p:read("*a")
  p:close()
  local code, secs = res:match("(%d%d%d) ([%d%.]+)%s*$")
  local r = { status = tonumber(code) or 0, secs = tonumber(secs), headers = {}, text = read(out) or "" }
  for line in (read(hdr) or ""):gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then r.headers[k:lower()] = v end
  end
  r.json = cjson.decode(r.text)
  return r
end

local function ok200(r, what)
  eq(r.status, 200, (what or "status") .. " (" .. r.text:sub(1, 200) .. ")")
  return r.json
end

-- another process writes through the Lua API (test/nginx/writes.lua); returns
-- the marks it made (name -> value) once its writes committed and it exited
local nwrite = 0
local function external(chunk)
  nwrite = nwrite + 1
  local cf, of = WORK .. "/w" .. nwrite .. ".lua", WORK .. "/w" .. nwrite .. ".out"
  write(cf, chunk)
  local okw = os.execute("lua5.4 " .. q(ROOT .. "/test/nginx/writes.lua") .. " " .. q(DB) .. " " .. q(cf)
                         .. " " .. q(of))
  truthy(okw, "the writer process failed: " .. chunk)
  local marks = {}
  for line in (read(of) or ""):gmatch("[^\n]+") do
    local name, value = line:match("^([^\t]*)\t([^\t]*)")
    if name then marks[name] = value end
  end
  return marks
end

local function scrape_hits(base)
  local r = http(base, "GET", "/metrics", nil, false)
  eq(r.status, 200, "/metrics")
  return tonumber(r.text:match("\ninventory_read_cache_hits_total (%d+)")) or 0
end

---------------------------------------------------------------------------
-- 1. no stale answer after another node's committed write

local COLLECTOR = "collector-cluster"
local jobs = {}

test("setup: another process creates 8 jobs of 3 tasks", function()
  local m = external([[
    for i = 1, 8 do
      local j = assert(inv.job.create{ domain_id = "]] .. D .. [[", collector_id = "]] .. COLLECTOR .. [[-" .. i,
                                       workspace_id = "ws-1", tasks = { { project_id = "project-1" },
                                       { project_id = "project-1" }, { project_id = "project-1" } } })
      local r = assert(inv.job_task.list{ domain_id = "]] .. D .. [[", query = {
        filter = { { k = "job_id", v = j.job_id, o = "eq" } }, sort = { { key = "created_at" } } } })
      local ids = {}
      for k, t in ipairs(r.results) do ids[k] = t.job_task_id end
      mark("job" .. i, j.job_id .. " " .. table.concat(ids, " "))
    end
  ]])
  for i = 1, 8 do
    local fields = {}
    for w in (m["job" .. i] or ""):gmatch("%S+") do fields[#fields + 1] = w end
    eq(#fields, 4, "job " .. i .. " and its 3 tasks")
    jobs[i] = { id = fields[1], tasks = { fields[2], fields[3], fields[4] } }
  end
end)

-- (the REST rendering leaves a zero count out)
local function n0(v) return v or 0 end

-- the reads whose answers a write must change, each asked 4 times (both of
-- A's workers get a cached copy); want(kind, response) checks every answer
local function reads(j, want)
  for _ = 1, 4 do
    want("job", http(BASE, "GET", "/inventory/v1/job/" .. j.id))
    want("list", http(BASE, "POST", "/inventory/v1/job/list", { query = { filter = {
      { k = "collector_id", v = COLLECTOR, o = "contain" } } } }))
    want("stat", http(BASE, "POST", "/inventory/v1/job-task/stat", { query = {
      filter = { { k = "job_id", v = j.id, o = "eq" } },
      aggregate = { { group = { keys = { { key = "status", name = "status" } },
                                fields = { { operator = "count", name = "n" } } } } } } }))
  end
end

local function count_of(stat, status)
  for _, row in ipairs(stat.results or {}) do if row.status == status then return row.n end end
  return 0
end

test("no stale answer through A after writes committed by another process and through B", function()
  truthy(#jobs == 8, "the setup made the jobs")
  local hits0 = scrape_hits(BASE)
  local checks = 0
  local listed = 8
  for i, j in ipairs(jobs) do
    local step
    -- what every answer of A must be in each step
    local function want(kind, r)
      if kind == "list" then
        eq(n0(ok200(r, "list").total_count), listed, step .. ": A's list total_count")
      elseif kind == "stat" then
        local b = ok200(r, "stat")
        local w = ({ before = { 0, 3 }, finished = { 1, 2 }, deleted = { 1, 1 }, final = { 1, 0 },
                     gone = { 0, 0 } })[step]
        eq(count_of(b, "SUCCESS"), w[1], step .. ": A's stat, SUCCESS tasks")
        eq(count_of(b, "PENDING"), w[2], step .. ": A's stat, PENDING tasks")
      elseif step == "gone" then
        eq(r.status, 404, step .. ": A's get of the job B deleted")
      else
        local b = ok200(r, "job get")
        local w = ({ before = { 3, 0, 3, "IN_PROGRESS" }, finished = { 3, 1, 2, "IN_PROGRESS" },
                     deleted = { 2, 1, 1, "IN_PROGRESS" }, final = { 2, 1, 0, "FAILURE" } })[step]
        eq(n0(b.total_tasks), w[1], step .. ": A's job total_tasks")
        eq(n0(b.success_tasks), w[2], step .. ": A's job success_tasks")
        eq(n0(b.remained_tasks), w[3], step .. ": A's job remained_tasks")
        eq(b.status, w[4], step .. ": A's job status")
      end
    end
    step = "before"
    reads(j, want)
    -- (a) another process finishes task 1
    external('assert(inv.job_task.finish{ domain_id = "' .. D .. '", job_task_id = "' .. j.tasks[1]
             .. '", status = "SUCCESS" })')
    step = "finished"
    reads(j, want)
    -- (b) B deletes task 2 (its job loses a task)
    eq(http(BASE_B, "DELETE", "/inventory/v1/job-task/" .. j.tasks[2]).status, 200, "B's delete")
    step = "deleted"
    reads(j, want)
    for _ = 1, 4 do
      eq(http(BASE, "GET", "/inventory/v1/job-task/" .. j.tasks[2]).status, 404, "A: the task B deleted")
    end
    -- (c) another process finishes task 3: the job finalises
    external('assert(inv.job_task.finish{ domain_id = "' .. D .. '", job_task_id = "' .. j.tasks[3]
             .. '", status = "FAILURE" })')
    step = "final"
    reads(j, want)
    -- (d) B deletes the job
    eq(http(BASE_B, "POST", "/inventory/v1/job/delete", { job_id = j.id }).status, 200, "B's job delete")
    listed = listed - 1
    step = "gone"
    reads(j, want)
    checks = checks + 4
    if i == 1 then note("job " .. i .. ": every answer of A fresh after each of 4 writes elsewhere") end
  end
  local hits = scrape_hits(BASE) - hits0
  note(string.format("%d writes elsewhere, each followed by 12 reads through A: no stale answer; %d cache "
                     .. "hits on A meanwhile", checks, hits))
  truthy(hits >= 100, "A's cache served hits while the store changed elsewhere: " .. hits)
end)

---------------------------------------------------------------------------
-- 2. under a running writer

test("under a running writer: no read through A is older than a write acknowledged before it", function()
  local m = external([[
    local tasks = {}
    for i = 1, 150 do tasks[i] = {} end
    local j = assert(inv.job.create{ domain_id = "]] .. D .. [[", collector_id = "collector-stream", tasks = tasks })
    mark("job", j.job_id)
  ]])
  local job = assert(m.job, "the job")
  local acks = WORK .. "/acks"
  local chunk = WORK .. "/finisher.lua"
  write(chunk, [[
    local r = assert(inv.job_task.list{ domain_id = "]] .. D .. [[", query = {
      filter = { { k = "job_id", v = "]] .. job .. [[", o = "eq" } }, page = { limit = 1000 } } })
    for k, t in ipairs(r.results) do
      assert(inv.job_task.finish{ domain_id = "]] .. D .. [[", job_task_id = t.job_task_id, status = "SUCCESS" })
      mark("ack", k)
      sleep(0.01)
    end
  ]])
  local h = io.popen("lua5.4 " .. q(ROOT .. "/test/nginx/writes.lua") .. " " .. q(DB) .. " " .. q(chunk) .. " "
                     .. q(acks) .. " 2>&1; echo writer-exit=$?")
  local seen = {}
  local t_end = socket.gettime() + 30
  repeat
    local t0 = socket.gettime()
    local r = http(BASE, "GET", "/inventory/v1/job/" .. job)
    local b = ok200(r, "job get")
    seen[#seen + 1] = { t0 = t0, success = n0(b.success_tasks) }
  until n0(b.success_tasks) == 150 or socket.gettime() > t_end
  local wout = h:read("*a")
  h:close()
  truthy(wout:find("writer-exit=0", 1, true), "the writer: " .. wout)
  local ackt = {}
  for line in (read(acks) or ""):gmatch("[^\n]+") do
    local k, t = line:match("^ack\t(%d+)\t([%d%.]+)$")
    if k then ackt[tonumber(k)] = tonumber(t) end
  end
  eq(#ackt, 150, "acknowledged finishes")
  local stale, prev = {}, 0
  for _, s in ipairs(seen) do
    local before = 0
    for k = 1, 150 do if ackt[k] and ackt[k] < s.t0 then before = k end end
    if s.success < before then
      stale[#stale + 1] = string.format("a read at %.3f shows %d finished, %d were acknowledged", s.t0, s.success, before)
    end
    if s.success < prev then stale[#stale + 1] = "a read went back: " .. s.success .. " after " .. prev end
    prev = s.success
  end
  note(string.format("%d reads through A while another process finished 150 tasks: none stale", #seen))
  truthy(#seen >= 20, "reads made while the writer ran: " .. #seen)
  truthy(#stale == 0, table.concat(stale, "; "))
end)

---------------------------------------------------------------------------
-- 3. the event loop never waits on the network

local function cluster_pids()
  local f = io.open(PG_DIR .. "/data/postmaster.pid")
  local pm = f and tonumber(f:read("l"))
  if f then f:close() end
  assert(pm, "no postmaster.pid")
  local pids = { pm }
  local p = io.popen("ps -o pid= --ppid " .. pm)
  for l in p:lines() do pids[#pids + 1] = tonumber(l) end
  p:close()
  return pids
end

local frozen = {}
local function thaw()
  for _, pid in ipairs(frozen) do os.execute("kill -CONT " .. pid .. " 2>/dev/null") end
  frozen = {}
end

test("a frozen server holds its requests in the thread pool, never the event loop", function()
  for _, pid in ipairs(cluster_pids()) do
    os.execute("kill -STOP " .. pid .. " 2>/dev/null")
    frozen[#frozen + 1] = pid
  end
  -- 4 requests that need the store, in the background
  local bg = io.popen("for i in 1 2 3 4; do curl -s -o /dev/null -w '%{http_code} %{time_total}\\n' "
    .. "--max-time 15 -H 'Authorization: Bearer " .. TOKEN .. "' -H 'Cache-Control: no-cache' "
    .. q(BASE .. "/inventory/v1/jobs") .. " & done; wait")
  socket.sleep(0.3)
  -- meanwhile requests that do not need the store answer at once, on both workers
  local slow = {}
  for _ = 1, 10 do
    local r = http(BASE, "POST", "/inventory/v1/no-such-path", {})
    eq(r.status, 404, "a request without the store")
    if r.secs > 0.2 then slow[#slow + 1] = r.secs end
  end
  local out = bg:read("*a")
  bg:close()
  thaw()
  truthy(#slow == 0, "requests without the store waited: " .. table.concat(slow, ", "))
  local n = 0
  for code, secs in out:gmatch("(%d+) ([%d%.]+)") do
    n = n + 1
    eq(code, "503", "a request that needed the frozen store")
    -- (2 s of slack: on 2 loaded cores, curl's and the pool thread's start
    -- took 1.5 s beyond the 2.5 s once; a hung request takes curl's 15 s)
    truthy(tonumber(secs) < (BUDGET_MS + CONNECT_MS + 2000) / 1000,
           "it ended within the budget plus connect_timeout: " .. secs .. " s")
  end
  eq(n, 4, "answers of the requests that needed the store")
  -- thawed: the next request answers (its thread reconnects)
  local t_end = socket.gettime() + 10
  local r
  repeat r = http(BASE, "GET", "/inventory/v1/jobs"); if r.status ~= 200 then socket.sleep(0.1) end
  until r.status == 200 or socket.gettime() > t_end
  eq(r.status, 200, "after SIGCONT")
  note("a frozen server: requests needing it ended 503 after " .. out:gsub("\n", " "):gsub("%s+$", "")
       .. "; the others answered at once")
end)
thaw()

---------------------------------------------------------------------------
-- 4. an outage: the server stopped and started under the running nginx

local function pg(cmd)
  return os.execute("sh " .. q(ROOT .. "/scripts/pg.sh") .. " " .. cmd .. " " .. q(PG_DIR) .. " >/dev/null 2>&1")
end

test("PostgreSQL stopped: 503 JSON with Retry-After within connect_timeout; started: recovers by itself", function()
  ok200(http(BASE, "GET", "/inventory/v1/jobs"), "before the outage")
  truthy(pg("down"), "pg.sh down")
  local down_ok, worst = true, 0
  local ok_pg, err_pg = pcall(function()
    for _, path in ipairs{ "/inventory/v1/jobs", "/inventory/v1/job/" .. jobs[1].id } do
      for _ = 1, 4 do
        local r = http(BASE, "GET", path)
        worst = math.max(worst, r.secs or 99)
        eq(r.status, 503, "status of " .. path .. " while the server is down (" .. r.text:sub(1, 200) .. ")")
        eq(r.headers["content-type"], "application/json", "Content-Type")
        truthy(type(r.json) == "table" and type(r.json.error) == "table" and r.json.error.code == "ERROR_DB_QUERY",
               "a JSON error body: " .. r.text)
        truthy(r.json.error.message:find("PostgreSQL is unavailable", 1, true), "the message: " .. r.text)
        eq(r.headers["retry-after"], "1", "Retry-After")
        truthy(r.secs < CONNECT_MS / 1000, string.format("answered in %.3f s", r.secs))
      end
    end
    local h = http(BASE, "GET", "/healthz", nil, false)
    eq(h.status, 503, "/healthz while down")
    truthy(h.json and h.json.error, "/healthz's JSON error")
  end)
  if not ok_pg then down_ok = false end
  truthy(pg("up"), "pg.sh up")
  if not down_ok then fail(err_pg) end
  -- no restart of nginx: the next requests succeed once the server accepts connections
  local t0 = socket.gettime()
  local r
  repeat r = http(BASE, "GET", "/inventory/v1/jobs"); if r.status ~= 200 then socket.sleep(0.1) end
  until r.status == 200 or socket.gettime() - t0 > 10
  eq(r.status, 200, "after the server is back")
  local after = socket.gettime() - t0
  -- every worker, every thread: all answer again
  for _ = 1, 12 do ok200(http(BASE, "GET", "/inventory/v1/jobs"), "after the server is back") end
  ok200(http(BASE, "GET", "/healthz", nil, false), "/healthz after the server is back")
  note(string.format("outage: 503 within %.0f ms at worst; served again %.2f s after the server was started",
                     worst * 1000, after))
end)

---------------------------------------------------------------------------

test("both error logs: no crash, no [alert] or [crit], no worker exited on a signal", function()
  for i, path in ipairs(ERROR_LOGS) do
    for line in (read(path) or ""):gmatch("[^\n]+") do
      if line:find("%[crit%]") or line:find("%[alert%]") or line:find("%[emerg%]")
         or line:find("exited on signal", 1, true) then
        fail("error.log " .. i .. ": " .. line)
      end
    end
    truthy(os.execute("kill -0 " .. NGINX_PIDS[i]), "nginx " .. i .. " still runs")
  end
end)

note(string.format("%d HTTP requests, %d writer processes", nreq, nwrite))
print(string.format("cluster: %d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
