-- test/nginx/events_driver.lua: the event stream (GET /inventory/v1/events)
-- against the running nginx of test/nginx/run.sh, with writes made by another
-- process (test/nginx/writes.lua) on the same database.
-- Prints "events: N passed, N failed".
--
-- Environment: BASE, WORK, DB, OWNER (chown after a root write, or ""),
-- NGINX_PID (the master: the reload test sends it SIGHUP), ERROR_LOG.
-- run.sh renders the shipped config with max_streams = 10 and keepalive = 2 s.
local cjson = require "cjson.safe"
local sse = require "sse"

local BASE = assert(os.getenv("BASE"), "BASE")
local WORK = assert(os.getenv("WORK"), "WORK")
local DB = assert(os.getenv("DB"), "DB")
local OWNER = os.getenv("OWNER") or ""
local NGINX_PID = assert(os.getenv("NGINX_PID"), "NGINX_PID")
local ERROR_LOG = assert(os.getenv("ERROR_LOG"), "ERROR_LOG")
local PORT = assert(tonumber(BASE:match(":(%d+)$")), "port of BASE")
local ROOT = os.getenv("ROOT") or "."
local CAP = 10

local A, B = "domain-aaaaaaaaaaaa", "domain-bbbbbbbbbbbb"
local passed, failed = 0, 0
local opened = setmetatable({}, { __mode = "k" })   -- streams a test left open
local function test(name, fn)
  local ok, err = pcall(fn)
  for s in pairs(opened) do s:close() end
  if ok then passed = passed + 1 else failed = failed + 1; print("not ok - " .. name .. ": " .. tostring(err)) end
end
local function fail(msg) error(msg, 0) end
local function show(v) return type(v) == "table" and (cjson.encode(v) or "?") or tostring(v) end
local function eq(a, e, what) if a ~= e then fail((what or "value") .. ": expected " .. show(e) .. ", got " .. show(a)) end end
local function truthy(v, what) if not v then fail(what or "expected a true value") end end
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function sorted_keys(set) local t = {} for k in pairs(set) do t[#t + 1] = k end table.sort(t) return t end
local function same_set(a, b, what)
  local x, y = sorted_keys(a), sorted_keys(b)
  eq(table.concat(x, ","), table.concat(y, ","), what)
end

local function open(token, path, headers)
  local h = {}
  for k, v in pairs(headers or {}) do h[k] = v end
  if token then h.Authorization = "Bearer " .. token end
  local s, err = sse.open("127.0.0.1", PORT, path or "/inventory/v1/events", h)
  if not s then fail("cannot open a stream: " .. tostring(err)) end
  opened[s] = true
  return s
end

-- open a stream and read its hello
local function stream(token, path, headers)
  local s = open(token, path, headers)
  eq(s.status, 200, "stream status (body " .. tostring(s.body) .. ")")
  local hello = s:next(3)
  truthy(hello and hello.event == "hello", "a hello event first, got " .. show(hello))
  s.hello = cjson.decode(hello.data)
  return s
end

-- run Lua code in another process against the database; returns its marks
local nwrites = 0
local function writes(code, background)
  nwrites = nwrites + 1
  local chunk, out = WORK .. "/w" .. nwrites .. ".lua", WORK .. "/w" .. nwrites .. ".out"
  local f = assert(io.open(chunk, "wb")); f:write(code); f:close()
  local cmd = "lua5.4 " .. q(ROOT .. "/test/nginx/writes.lua") .. " " .. q(DB) .. " " .. q(chunk) .. " " .. q(out)
  if OWNER ~= "" then cmd = cmd .. " && chown -R " .. OWNER .. " " .. q(DB:match("^(.*)/")) end
  local done = WORK .. "/w" .. nwrites .. ".done"
  if background then
    os.execute("(" .. cmd .. "; touch " .. q(done) .. ") >" .. q(out .. ".log") .. " 2>&1 &")
    return function()   -- wait for it, then its marks
      for _ = 1, 200 do
        local d = io.open(done); if d then d:close(); break end
        sse.now(); os.execute("sleep 0.05")
      end
      return (function()
        local marks = {}
        for line in io.lines(out) do
          local name, value, t = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
          marks[#marks + 1] = { name = name, value = value, t = tonumber(t) }
          marks[name] = marks[name] or value
        end
        return marks
      end)()
    end
  end
  truthy(os.execute(cmd .. " >" .. q(out .. ".log") .. " 2>&1"), "the writer failed: " .. cmd)
  local marks = {}
  for line in io.lines(out) do
    local name, value, t = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    marks[#marks + 1] = { name = name, value = value, t = tonumber(t) }
    marks[name] = marks[name] or value
  end
  return marks
end

local function http(method, path, body, token)
  local bodyfile = WORK .. "/ev-body.json"
  local args = "curl -sS --max-time 10 -o " .. q(bodyfile) .. " -w '%{http_code}' -X " .. method
  if body then
    local f = assert(io.open(WORK .. "/ev-req.json", "wb")); f:write(cjson.encode(body)); f:close()
    args = args .. " --data-binary @" .. q(WORK .. "/ev-req.json")
  end
  if token then args = args .. " -H " .. q("Authorization: Bearer " .. token) end
  local p = io.popen(args .. " " .. q(BASE .. path))
  local code = tonumber(p:read("*a"))
  p:close()
  local f = io.open(bodyfile, "rb")
  local text = f and f:read("*a") or ""
  if f then f:close() end
  return code, cjson.decode(text), text
end

local function ids_of(events, kind, key)
  local set = {}
  for _, ev in ipairs(events) do
    if ev.event == kind then
      local d = cjson.decode(ev.data)
      if d and d[key] then set[d[key]] = true end
    end
  end
  return set
end

---------------------------------------------------------------------------

test("refusals: 401 without a valid token, 405 for POST, 400 for a repeated filter", function()
  local s = open(nil)
  eq(s.status, 401, "status"); eq(s.headers["www-authenticate"], 'Bearer realm="inventory"')
  eq(cjson.decode(s.body).error.code, "ERROR_AUTHENTICATE_FAILURE"); s:close()
  s = open("nope"); eq(s.status, 401); s:close()
  local code, b = http("POST", "/inventory/v1/events", {}, "a-admin")
  eq(code, 405); eq(b.error.code, "ERROR_METHOD_NOT_ALLOWED")
  s = open("a-admin", "/inventory/v1/events?job_id=a&job_id=b")
  eq(s.status, 400); eq(cjson.decode(s.body).error.code, "ERROR_INVALID_PARAMETER"); s:close()
end)

test("a stream starts with its headers, retry and a hello naming the caller's scope", function()
  local s = stream("a-member")
  truthy(s.headers["content-type"]:find("^text/event%-stream"), "content-type " .. s.headers["content-type"])
  eq(s.headers["cache-control"], "no-cache")
  eq(s.retry, 2000, "retry")
  truthy(tonumber(s.last_id), "a first id: " .. tostring(s.last_id))
  eq(s.hello.role, "WORKSPACE_MEMBER"); eq(s.hello.domain_id, A); eq(s.hello.workspace_id, "ws-1")
  eq(show(s.hello.user_projects), '["project-1"]')
  s:close()
end)

-- the scenario behind the scoping and latency checks
local SCENARIO = [[
local A, B = "domain-aaaaaaaaaaaa", "domain-bbbbbbbbbbbb"
local function job(d, ws, coll, tasks)
  local j = assert(inv.job.create{ domain_id = d, collector_id = coll, plugin_id = "plugin-events",
    workspace_id = ws, resource_group = ws == "*" and "DOMAIN" or "WORKSPACE", tasks = tasks })
  return j.job_id
end
local function t(p, ws) return { secret_id = "secret-" .. p, project_id = p, workspace_id = ws, provider = "aws" } end
local J = job(A, "ws-1", "collector-ev1", { t("project-1", "ws-1"), t("project-2", "ws-1") }); mark("J", J)
local K = job(A, "ws-2", "collector-ev2", { t("project-3", "ws-2") }); mark("K", K)
local M = job(A, "*", "collector-ev3", { t("project-1", "ws-1"), t("project-3", "ws-2") }); mark("M", M)
local L = job(B, "ws-1", "collector-ev1", { t("project-1", "ws-1") }); mark("L", L)
for _, pair in ipairs{ { A, J }, { A, K }, { A, M }, { B, L } } do
  local ts = assert(inv.job_task.list{ domain_id = pair[1], job_id = pair[2] }).results
  for _, x in ipairs(ts) do
    sleep(0.05)
    assert(inv.job_task.start{ domain_id = pair[1], job_task_id = x.job_task_id }); mark("start", x.job_task_id)
    sleep(0.05)
    if x.project_id == "project-2" then
      assert(inv.job_task.add_error{ domain_id = pair[1], job_task_id = x.job_task_id,
        error_code = "ERROR_PLUGIN", message = "denied", additional = { k = "v" } })
    end
    assert(inv.job_task.finish{ domain_id = pair[1], job_task_id = x.job_task_id,
      status = x.project_id == "project-2" and "FAILURE" or "SUCCESS", created_count = 2 })
    mark("finish", x.job_task_id)
  end
end
]]

local TOKENS = { "a-admin", "a-owner", "a-member", "b-admin" }
local got = {}           -- token or filter name -> events
local marks
local continuous          -- an admin stream kept open for the resume test

test("writes by another process reach every stream in scope within 1 s", function()
  local streams = {}
  for _, tok in ipairs(TOKENS) do streams[tok] = stream(tok) end
  continuous = stream("a-admin")
  opened[continuous] = nil     -- kept open for the resume test
  -- the filters: by collector (collector-ev2: job K only); by job, opened once J exists
  streams.by_collector = stream("a-admin", "/inventory/v1/events?collector_id=collector-ev2")
  local LIVE = { "a-admin", "a-owner", "a-member", "b-admin", "by_collector" }
  local wait = writes(SCENARIO, true)
  -- read every stream while the writer runs (arrival times are taken at read)
  local deadline = sse.now() + 15
  local done
  for _, tok in ipairs(LIVE) do got[tok] = {} end
  got.continuous = {}
  got.by_job = {}
  while sse.now() < deadline do
    for _, tok in ipairs(LIVE) do
      local ev = streams[tok]:next(0.01)
      if ev then got[tok][#got[tok] + 1] = ev end
    end
    if not streams.by_job then
      local f = io.open(WORK .. "/w" .. nwrites .. ".out")
      local first = f and f:read("*l")
      if f then f:close() end
      local j = first and first:match("^J\t([^\t]+)")
      if j then streams.by_job = stream("a-admin", "/inventory/v1/events?job_id=" .. j); LIVE[#LIVE + 1] = "by_job" end
    end
    local ev = continuous:next(0.01)
    if ev then got.continuous[#got.continuous + 1] = ev end
    if not done then
      local f = io.open(WORK .. "/w" .. nwrites .. ".done")
      if f then f:close(); done = sse.now() end
    elseif sse.now() - done > 1.5 then
      break
    end
  end
  marks = wait()
  for _, tok in ipairs(LIVE) do streams[tok]:close() end
  -- each finish reaches the admin's stream (and each creation), within 1 s of its commit
  local worst = 0
  local checked = 0
  for _, m in ipairs(marks) do
    local key, kind, status = "job_id", "job", nil
    if m.name == "finish" then key, kind, status = "job_task_id", "job_task", true end
    if m.name == "start" then goto continue end
    checked = checked + 1
    local d, arrived = m.name == "L" and "b-admin" or "a-admin", nil
    for _, who in ipairs{ "a-admin", "b-admin" } do        -- L's task is domain B's
      for _, ev in ipairs(got[who]) do
        local rec = ev.event == kind and cjson.decode(ev.data)
        if rec and rec[key] == m.value and (not status or rec.finished_at) then arrived = ev.t; break end
      end
      if arrived then break end
    end
    if not arrived then
      local seen = {}
      for _, ev in ipairs(got[d]) do seen[#seen + 1] = ev.id .. ":" .. ev.event .. ":" .. ev.data:sub(1, 60) end
      fail("no event for " .. m.name .. " " .. m.value .. " on " .. d .. "; got " .. table.concat(seen, " | "))
    end
    local lat = arrived - m.t
    if lat > worst then worst = lat end
    truthy(lat < 1.0, string.format("%s %s arrived %.3f s after its commit", m.name, m.value, lat))
    ::continue::
  end
  truthy(checked == 10, "10 writes checked, not " .. checked)
  print(string.format("# events: %d writes checked, slowest commit-to-event %.0f ms", checked, worst * 1000))
end)

test("each stream sees exactly what list shows the same token (domain, workspace, projects)", function()
  truthy(marks, "the scenario ran")
  local new = { [marks.J] = true, [marks.K] = true, [marks.M] = true, [marks.L] = true }
  for _, tok in ipairs(TOKENS) do
    local code, jl = http("POST", "/inventory/v1/job/list",
      { query = { filter = { { k = "collector_id", v = { "collector-ev1", "collector-ev2", "collector-ev3" }, o = "in" } } } }, tok)
    eq(code, 200, "job list")
    local want_jobs, want_tasks = {}, {}
    for _, j in ipairs(jl.results) do if new[j.job_id] then want_jobs[j.job_id] = true end end
    local _, tl = http("POST", "/inventory/v1/job-task/list",
      { query = { filter = { { k = "job_id", v = { marks.J, marks.K, marks.M, marks.L }, o = "in" } } } }, tok)
    for _, t in ipairs(tl.results) do want_tasks[t.job_task_id] = true end
    same_set(ids_of(got[tok], "job", "job_id"), want_jobs, tok .. ": jobs")
    same_set(ids_of(got[tok], "job_task", "job_task_id"), want_tasks, tok .. ": tasks")
    for _, ev in ipairs(got[tok]) do
      local rec = cjson.decode(ev.data)
      if ev.event == "job" or ev.event == "job_task" then eq(rec.domain_id, tok:sub(1, 1) == "a" and A or B, "domain") end
      if tok == "a-member" and ev.event == "job_task" then eq(rec.project_id, "project-1", "member's project") end
    end
  end
  -- and by name: the owner sees J and M (its workspace and the domain's), not K
  same_set(ids_of(got["a-owner"], "job", "job_id"), { [marks.J] = true, [marks.M] = true }, "owner's jobs")
  same_set(ids_of(got["b-admin"], "job", "job_id"), { [marks.L] = true }, "domain B's jobs")
end)

test("events carry the record as the REST API renders it, ids increase", function()
  local last = 0
  for _, ev in ipairs(got["a-admin"]) do
    local id = tonumber(ev.id)
    truthy(id and id > last, "ids increase: " .. tostring(ev.id) .. " after " .. last)
    last = id
  end
  local code, _, text = http("POST", "/inventory/v1/job/get", { job_id = marks.J }, "a-admin")
  eq(code, 200)
  local final
  for _, ev in ipairs(got["a-admin"]) do
    if ev.event == "job" and cjson.decode(ev.data).job_id == marks.J then final = ev.data end
  end
  eq(final, text, "the last job event of J is the REST rendering")
  local failed_task
  for _, ev in ipairs(got["a-admin"]) do
    local r = cjson.decode(ev.data)
    if ev.event == "job_task" and r.status == "FAILURE" then failed_task = r end
  end
  truthy(failed_task and failed_task.errors[1].error_code == "ERROR_PLUGIN", "a task's errors in its event")
end)

test("filters: ?job_id= gives a job and its tasks, ?collector_id= that collector's", function()
  truthy(marks and got.by_job, "the scenario ran")
  same_set(ids_of(got.by_collector, "job", "job_id"), { [marks.K] = true }, "collector_id filter: jobs")
  eq(#sorted_keys(ids_of(got.by_collector, "job_task", "job_task_id")), 1, "collector_id filter: K's task")
  same_set(ids_of(got.by_job, "job", "job_id"), { [marks.J] = true }, "job_id filter: jobs")
  for _, ev in ipairs(got.by_job) do
    if ev.event == "job_task" then eq(cjson.decode(ev.data).job_id, marks.J, "job_id filter: tasks") end
  end
  eq(#sorted_keys(ids_of(got.by_job, "job_task", "job_task_id")), 2, "job_id filter: J's two tasks")
end)

test("Last-Event-ID: a reconnecting client gets every change it missed, once", function()
  truthy(continuous, "the continuous stream")
  got.continuous = got.continuous or {}
  local r = stream("a-admin")
  local m1 = writes([[
    local A = "domain-aaaaaaaaaaaa"
    local j = assert(inv.job.create{ domain_id = A, collector_id = "collector-ev4", workspace_id = "ws-1",
      tasks = { { secret_id = "s", project_id = "project-1", workspace_id = "ws-1" },
                { secret_id = "s", project_id = "project-2", workspace_id = "ws-1" } } })
    mark("N", j.job_id)
    for _, x in ipairs(assert(inv.job_task.list{ domain_id = A, job_id = j.job_id }).results) do
      assert(inv.job_task.start{ domain_id = A, job_task_id = x.job_task_id })
    end
  ]])
  local before = r:drain(1.0)
  truthy(#before >= 3, "events before the cut: " .. #before)
  local cut = before[2].id
  r:close()
  local m2 = writes([[
    local A = "domain-aaaaaaaaaaaa"
    local ts = assert(inv.job_task.list{ domain_id = A, job_id = "]] .. m1.N .. [[",
                      query = { filter = { { k = "status", v = "IN_PROGRESS", o = "eq" } } } }).results
    for _, x in ipairs(ts) do
      assert(inv.job_task.finish{ domain_id = A, job_task_id = x.job_task_id, status = "SUCCESS" })
      mark("done", x.job_task_id)
    end
  ]])
  truthy(#m2 == 2, "two tasks finished")
  -- the code after a cut never saw ids past it: resume there
  local resumed = stream("a-admin", nil, { ["Last-Event-ID"] = cut })
  local after = resumed:drain(1.0)
  resumed:close()
  for _, ev in ipairs(continuous:drain(0.5)) do got.continuous[#got.continuous + 1] = ev end
  local want = {}
  for _, ev in ipairs(got.continuous) do
    if tonumber(ev.id) > tonumber(cut) then want[#want + 1] = ev.id .. " " .. ev.event end
  end
  local have, seen = {}, {}
  for _, ev in ipairs(after) do
    truthy(not seen[ev.id], "event " .. ev.id .. " twice")
    seen[ev.id] = true
    have[#have + 1] = ev.id .. " " .. ev.event
  end
  truthy(#want >= 4, "changes after the cut: " .. #want)
  eq(table.concat(have, ","), table.concat(want, ","), "resumed events = the continuous stream's after the cut")
  -- the query-string form, for clients that cannot set headers
  local r2 = stream("a-admin", "/inventory/v1/events?last_event_id=" .. cut)
  local after2 = r2:drain(1.0)
  r2:close()
  eq(#after2, #after, "?last_event_id= resumes the same way")
  continuous:close()
end)

test("event: delete with the deleted ids, in scope only", function()
  local admin, owner = stream("a-admin"), stream("a-owner")
  local code = http("POST", "/inventory/v1/job/delete", { job_id = marks.K }, "a-admin")
  eq(code, 200, "delete")
  local ea, eo = admin:drain(1.0), owner:drain(0.3)
  admin:close(); owner:close()
  local del
  for _, ev in ipairs(ea) do
    local d = cjson.decode(ev.data)
    if ev.event == "delete" and d.resource == "job" then del = d end
  end
  truthy(del, "a delete event on the admin's stream")
  eq(del.job_id, marks.K, "deleted id")
  for _, ev in ipairs(eo) do truthy(ev.event ~= "delete", "the owner (ws-1) sees no delete of a ws-2 job") end
end)

test("event: reset when the client is older than the journal, or ahead of it", function()
  local s = stream("a-admin")
  local now_id = tonumber(s.last_id)
  s:close()
  s = stream("a-admin", nil, { ["Last-Event-ID"] = tostring(now_id + 1000) })
  local ev = s:next(1)
  s:close()
  truthy(ev and ev.event == "reset", "an id past the newest: reset, got " .. show(ev))
  writes([[ mark("trimmed", inv:trim_changes{ keep_seconds = 0 }) ]])
  s = stream("a-admin", nil, { ["Last-Event-ID"] = "1" })
  ev = s:next(1.5)
  s:close()
  truthy(ev and ev.event == "reset", "an id the journal no longer holds: reset, got " .. show(ev))
  truthy(tonumber(ev.id), "the reset carries the position to resume from")
end)

test("a comment keeps a quiet stream open (every 2 s in this suite, 15 s by default)", function()
  local s = stream("b-admin", "/inventory/v1/events?job_id=job-nothing")
  local t0 = sse.now()
  local ev, err = s:next(2.6)
  s:close()
  truthy(not ev, "no event expected, got " .. show(ev))
  eq(err, "timeout")
  truthy(#s.comments >= 1 and s.comments[1].text == "keepalive", "a keepalive comment: " .. show(s.comments))
  truthy(s.comments[1].t - t0 < 2.6, "in time")
end)

test("the per-worker cap: a JSON 503 with Retry-After beyond it; a closed stream frees its slot", function()
  local open_ones, refused = {}, nil
  for _ = 1, 2 * CAP + 1 do
    local s = open("a-admin")
    if s.status == 200 then open_ones[#open_ones + 1] = s
    else refused = s; break end
  end
  truthy(refused, "no 503 after " .. #open_ones .. " streams")
  eq(refused.status, 503)
  eq(refused.headers["content-type"], "application/json")
  truthy(refused.headers["retry-after"], "Retry-After")
  local b = cjson.decode(refused.body)
  truthy(b and b.error and b.error.message:find("Too many open event streams", 1, true), refused.body)
  refused:close()
  for _, s in ipairs(open_ones) do s:close() end
  os.execute("sleep 0.3")
  local again = {}
  for i = 1, CAP do
    local s = open("a-admin")
    eq(s.status, 200, "stream " .. i .. " after the others closed")
    again[#again + 1] = s
  end
  for _, s in ipairs(again) do s:close() end
end)

test("nginx reload: streams end cleanly at once, old workers exit, clients resume with no loss", function()
  local s = stream("a-admin")
  local quiet = s:drain(0.3)
  local resume_at = s.last_id
  local t0 = sse.now()
  truthy(os.execute("kill -HUP " .. NGINX_PID), "SIGHUP")
  local ev, err = s:next(5)
  while ev do ev, err = s:next(5) end
  local took = sse.now() - t0
  eq(err, "ended", "the response ended with its last chunk (not a reset connection)")
  truthy(took < 3, string.format("ended %.2f s after the reload", took))
  local bye = s.comments[#s.comments]
  truthy(bye and bye.text:find("restarting", 1, true), "a last comment: " .. show(s.comments))
  s:close()
  local m = writes([[
    local j = assert(inv.job.create{ domain_id = "domain-aaaaaaaaaaaa", collector_id = "collector-ev5",
                                      tasks = { { secret_id = "s", project_id = "project-1" } } })
    mark("R", j.job_id)
  ]])
  local r = stream("a-admin", nil, { ["Last-Event-ID"] = resume_at })
  local evs = r:drain(1.0)
  r:close()
  truthy(ids_of(evs, "job", "job_id")[m.R], "the job written during the reload reaches the resumed stream")
  -- no worker is left shutting down
  local left
  for _ = 1, 50 do
    local p = io.popen("ps -o args= --ppid " .. NGINX_PID .. " 2>/dev/null")
    local out = p:read("*a"); p:close()
    left = select(2, out:gsub("shutting down", ""))
    if left == 0 then break end
    os.execute("sleep 0.1")
  end
  eq(left, 0, "old workers still shutting down")
  truthy(#quiet >= 0)
end)

test("the error log has no errors from the event stream", function()
  local f = io.open(ERROR_LOG, "rb")
  local log = f and f:read("*a") or ""
  if f then f:close() end
  for line in log:gmatch("[^\n]+") do
    if line:find("inventory events", 1, true) and (line:find("%[error%]") or line:find("%[crit%]")) then
      fail("error.log: " .. line)
    end
    if line:find("exited on signal", 1, true) then fail("error.log: " .. line) end
  end
end)

print(string.format("events: %d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
