-- test/nginx/driver.lua: HTTP checks against a running nginx, with curl.
-- Started by test/nginx/run.sh, which owns nginx; prints "nginx: N passed, N failed".
--
-- Environment: BASE (http://127.0.0.1:PORT), WORK (scratch dir), SEEDS_DIR,
-- PHASE2 (shell command importing the 2.0 seed page's records), ERROR_LOG.
local cjson = require "cjson.safe"
local F = require "spec.rest_fixture"
local C = require "spec.rest_cases"
local seeds = require "seeds"

local BASE = assert(os.getenv("BASE"), "BASE")
local PORT = assert(BASE:match(":(%d+)$"), "BASE has a port")
local WORK = assert(os.getenv("WORK"), "WORK")
local SEEDS_DIR = assert(os.getenv("SEEDS_DIR"), "SEEDS_DIR")
local PHASE2 = assert(os.getenv("PHASE2"), "PHASE2")
local ERROR_LOG = assert(os.getenv("ERROR_LOG"), "ERROR_LOG")

local passed, failed = 0, 0

local function test(name, fn)
  local ok, err = pcall(fn)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    print("not ok - " .. name .. ": " .. tostring(err))
  end
end

local function fail(msg) error(msg, 0) end

local function show(v)
  if type(v) == "table" then return (cjson.encode(v)) or tostring(v) end
  return tostring(v)
end

local function eq(actual, expected, what)
  if actual ~= expected then
    fail((what or "value") .. ": expected " .. show(expected) .. ", got " .. show(actual))
  end
end

local function truthy(v, what) if not v then fail(what or "expected a true value") end end

-- deep, strict comparison; reports the first differing path
local function same(actual, expected, path)
  path = path or "$"
  if type(expected) ~= "table" or type(actual) ~= "table" then
    if actual ~= expected then
      fail(path .. ": expected " .. show(expected) .. ", got " .. show(actual))
    end
    return
  end
  for k, v in pairs(expected) do same(actual[k], v, path .. "." .. tostring(k)) end
  for k in pairs(actual) do
    if expected[k] == nil then fail(path .. "." .. tostring(k) .. ": unexpected field") end
  end
end

local function sorted(list)
  local c = {}
  for i, v in ipairs(list) do c[i] = v end
  table.sort(c)
  return c
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- http(method, path, body, token, headers) -> { status, headers (lower-case), text, json }
local function http(method, path, body, token, headers)
  local req, hdr, out = WORK .. "/req.json", WORK .. "/resp.headers", WORK .. "/resp.body"
  os.remove(hdr); os.remove(out)
  local args = { "curl", "-sS", "--max-time", "10", "-o", out, "-D", hdr, "-w", "%{http_code}", "-X", method }
  if body ~= nil then
    if type(body) == "table" then body = assert(cjson.encode(body)) end
    write(req, body)
    args[#args + 1] = "--data-binary"; args[#args + 1] = "@" .. req
    args[#args + 1] = "-H"; args[#args + 1] = "Content-Type: application/json"
  end
  if token then args[#args + 1] = "-H"; args[#args + 1] = "Authorization: Bearer " .. token end
  for k, v in pairs(headers or {}) do args[#args + 1] = "-H"; args[#args + 1] = k .. ": " .. v end
  args[#args + 1] = BASE .. path
  local cmd = {}
  for i, a in ipairs(args) do cmd[i] = q(a) end
  local p = io.popen(table.concat(cmd, " ") .. " 2>&1")
  local code = p:read("*a")
  p:close()
  local r = { status = tonumber(code:match("(%d%d%d)%s*$")) or 0, headers = {}, text = read(out) or "" }
  for line in (read(hdr) or ""):gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then r.headers[k:lower()] = v end
  end
  r.json = cjson.decode(r.text)
  if r.status == 0 then fail("curl failed: " .. code) end
  return r
end

-- every answer is JSON with an exact Content-Length and no "\/"
local function json_ok(r, status)
  eq(r.status, status, "status (body " .. r.text:sub(1, 300) .. ")")
  eq(r.headers["content-type"], "application/json", "Content-Type")
  eq(tonumber(r.headers["content-length"]), #r.text, "Content-Length")
  truthy(type(r.json) == "table", "a JSON object body: " .. r.text:sub(1, 200))
  truthy(not r.text:find("\\/", 1, true), "no escaped slashes")
  return r.json
end

local function err_ok(r, status, code)
  local b = json_ok(r, status)
  truthy(type(b.error) == "table", "an error object: " .. r.text)
  if code then eq(b.error.code, code, "error code") end
  truthy(type(b.error.message) == "string", "an error message")
  return b
end

local function ids(b, key)
  local out = {}
  for i, row in ipairs(b.results) do out[i] = row[key] end
  table.sort(out)
  return out
end

local STAT, ANALYZE = C.STAT, C.ANALYZE

local function counted(r, domain, n, key)
  C.counted(json_ok(r, 200), domain, n, key)
end

-- the lines nginx appended to its error log since `from` (a byte offset)
local function log_since(from)
  return (read(ERROR_LOG) or ""):sub(from + 1)
end
local function log_size() return #(read(ERROR_LOG) or "") end

local function no_error_lines(text, what)
  for line in text:gmatch("[^\n]+") do
    if line:find("%[error%]") or line:find("%[crit%]") or line:find("%[alert%]") then
      fail((what or "error.log") .. ": " .. line)
    end
  end
end

-- raw(bytes) -> { status, headers, text, json }: one request written as is
-- on a fresh connection (bash's /dev/tcp), for what curl will not send
local function raw(bytes)
  local req, out = WORK .. "/raw.req", WORK .. "/raw.out"
  write(req, bytes)
  os.remove(out)
  os.execute("bash -c " .. q("exec 3<>/dev/tcp/127.0.0.1/" .. PORT .. " && cat " .. q(req)
    .. " >&3 && timeout 10 cat <&3") .. " > " .. q(out) .. " 2>/dev/null")
  local resp = read(out) or ""
  local head, body = resp:match("^(.-)\r\n\r\n(.*)$")
  if not head then fail("no HTTP answer: " .. resp:sub(1, 200)) end
  local r = { status = tonumber(head:match("^HTTP/1%.%d (%d%d%d)")) or 0, headers = {}, text = body }
  for line in head:gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then r.headers[k:lower()] = v end
  end
  r.json = cjson.decode(body)
  return r
end

local A1, A2, A3 = "job-a00000000001", "job-a00000000002", "job-a00000000003"

---------------------------------------------------------------------------
-- /healthz and /metrics (first: the store is as the fixture wrote it)

local DB = os.getenv("DB")

-- Prometheus text -> { "name{labels}" = value }, and the sample list
local function parse_metrics(text)
  local samples, list = {}, {}
  for line in text:gmatch("[^\n]+") do
    if line:sub(1, 1) ~= "#" then
      local series, value = line:match("^(%S+)%s+(%S+)$")
      if not series then fail("bad exposition line: " .. line) end
      local v = tonumber(value) or (value == "+Inf" and math.huge) or nil
      if v == nil then fail("bad value: " .. line) end
      samples[series] = v
      list[#list + 1] = series
    end
  end
  return samples, list
end

local function scrape()
  local r = http("GET", "/metrics")
  eq(r.status, 200, "status of /metrics (" .. r.text:sub(1, 200) .. ")")
  eq(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8", "Content-Type")
  return r.text, parse_metrics(r.text)
end

test("GET /healthz answers 200 {\"status\":\"ok\"} without a token", function()
  local b = json_ok(http("GET", "/healthz"), 200)
  same(b, { status = "ok" })
end)
test("/metrics passes promtool check metrics", function()
  local text = scrape()
  local file = WORK .. "/metrics.txt"
  write(file, text)
  local p = io.popen("promtool check metrics < " .. q(file) .. " 2>&1; echo rc=$?")
  local out = p:read("*a")
  p:close()
  truthy(out:find("rc=0", 1, true), "promtool: " .. out)
  truthy(not out:find("[^%s]", 1) or out:match("^%s*rc=0%s*$"), "promtool complained: " .. out)
  for _, name in ipairs{ "inventory_http_requests_total", "inventory_http_request_duration_seconds",
                         "inventory_read_cache_hits_total", "inventory_read_cache_misses_total",
                         "inventory_jobs", "inventory_job_tasks", "inventory_job_duration_seconds",
                         "inventory_oldest_in_progress_job_age_seconds", "inventory_store_size_bytes" } do
    truthy(text:find("# TYPE " .. name .. " ", 1, true), "TYPE of " .. name)
    truthy(text:find("# HELP " .. name .. " ", 1, true), "HELP of " .. name)
  end
end)
test("/metrics: the store's gauges are the store's numbers", function()
  local inv = assert(require("testdb").open(DB, { readonly = true }))
  local m = assert(inv:call("store", "metrics", {}))
  local info = assert(inv:info())
  inv:close()
  local _, s = scrape()
  local n = 0
  for _, r in ipairs(m.jobs) do
    eq(s['inventory_jobs{domain_id="' .. r.domain_id .. '",status="' .. r.status .. '"}'], r.count,
       "jobs of " .. r.domain_id .. " " .. r.status)
    n = n + 1
  end
  for _, r in ipairs(m.job_tasks) do
    eq(s['inventory_job_tasks{domain_id="' .. r.domain_id .. '",status="' .. r.status .. '"}'], r.count,
       "tasks of " .. r.domain_id .. " " .. r.status)
    n = n + 1
  end
  truthy(n >= 4, "series of several domains and statuses")
  -- no series for a domain/status the store does not have
  local count = 0
  for k in pairs(s) do if k:find("^inventory_jobs{") or k:find("^inventory_job_tasks{") then count = count + 1 end end
  eq(count, n, "gauge series")
  eq(s.inventory_store_size_bytes, info.size_bytes, "size_bytes")
  local per = {}
  for _, f in ipairs(m.finished) do per[f.domain_id] = (per[f.domain_id] or 0) + 1 end
  for dom, c in pairs(per) do
    eq(s['inventory_job_duration_seconds_count{domain_id="' .. dom .. '"}'], c, "finished jobs of " .. dom)
    eq(s['inventory_job_duration_seconds_bucket{domain_id="' .. dom .. '",le="+Inf"}'], c, "+Inf bucket")
  end
  for _, o in ipairs(m.oldest_in_progress) do
    local v = s['inventory_oldest_in_progress_job_age_seconds{domain_id="' .. o.domain_id .. '"}']
    truthy(v and math.abs(v - o.age_seconds) < 60, "oldest IN_PROGRESS of " .. o.domain_id .. ": " .. tostring(v))
  end
end)
test("/metrics counts requests by route and code over both workers, and the read cache", function()
  local _, before = scrape()
  local key200 = 'inventory_http_requests_total{route="/inventory/v1/job-task/list",code="200"}'
  local key404 = 'inventory_http_requests_total{route="/inventory/v1/job/{job_id}",code="404"}'
  local hits = "inventory_read_cache_hits_total"
  for _ = 1, 12 do json_ok(http("POST", "/inventory/v1/job-task/list", { job_id = A1 }, "a-admin"), 200) end
  for _ = 1, 3 do err_ok(http("GET", "/inventory/v1/job/job-nope-metrics", nil, "a-admin"), 404) end
  local _, after = scrape()
  eq((after[key200] or 0) - (before[key200] or 0), 12, "job-task/list 200s")
  eq((after[key404] or 0) - (before[key404] or 0), 3, "job/{job_id} 404s")
  -- 12 identical reads on 2 workers: at most 2 misses, the rest hits
  truthy((after[hits] or 0) - (before[hits] or 0) >= 10, "cache hits " .. tostring(after[hits]))
  local hb = 'inventory_http_request_duration_seconds_count{route="/inventory/v1/job-task/list"}'
  eq((after[hb] or 0) - (before[hb] or 0), 12, "histogram count")
  local inf = 'inventory_http_request_duration_seconds_bucket{route="/inventory/v1/job-task/list",le="+Inf"}'
  eq(after[inf], after[hb], "+Inf bucket = count")
end)
test("examples/prometheus: the alert rules pass promtool check rules and their unit tests", function()
  for _, c in ipairs{ "promtool check rules examples/prometheus/inventory-alerts.yml",
                      "promtool test rules examples/prometheus/inventory-alerts.test.yml" } do
    local p = io.popen(c .. " 2>&1; echo rc=$?")
    local out = p:read("*a")
    p:close()
    truthy(out:find("SUCCESS", 1, true) and out:find("rc=0", 1, true), c .. ": " .. out)
  end
end)
test("/metrics is refused to an address outside metrics_allow (127.0.0.2)", function()
  local p = io.popen("curl -sS --interface 127.0.0.2 -o /dev/null -w '%{http_code}' " .. q(BASE .. "/metrics") .. " 2>&1")
  local code = p:read("*a")
  p:close()
  eq(code, "403", "status from 127.0.0.2")
end)
local T1, T2, T4 = "job-task-a00000000001", "job-task-a00000000002", "job-task-a00000000004"

---------------------------------------------------------------------------
-- every path answers, for a domain admin

for _, c in ipairs(C.ROUTES) do
  test(c.name, function()
    local r = http(c.method, c.path, c.body, c.token or "a-admin")
    json_ok(r, c.status)
    C.check(c, r.status, r.json, r.text)
  end)
end

---------------------------------------------------------------------------
-- client mistakes (spec/rest_cases.lua, issue 15): 4xx, and not one [error]
-- line in nginx's error log (stat and analyze run in the thread pool here)

for _, c in ipairs(C.CLIENT_FAULTS) do
  test("client mistake: " .. c.name, function()
    local from = log_size()
    local r = http(c.method, c.path, c.body, c.token or "a-admin")
    json_ok(r, c.status)
    C.check(c, r.status, r.json, r.text)
    no_error_lines(log_since(from), "error.log after " .. c.name)
  end)
end

---------------------------------------------------------------------------
-- nginx's own answers are JSON too (examples/nginx/nginx.conf error_page)

local NGINX_ERRORS = {
  { "414 for a URI over 8k", "GET /inventory/v1/jobs?" .. string.rep("a", 9000) .. " HTTP/1.1\r\nHost: x\r\n"
      .. "Connection: close\r\n\r\n", 414, "ERROR_INVALID_PARAMETER" },
  { "400 (494) for a header over 8k", "GET /inventory/v1/jobs HTTP/1.1\r\nHost: x\r\nX-Big: "
      .. string.rep("a", 9000) .. "\r\nConnection: close\r\n\r\n", 400, "ERROR_INVALID_PARAMETER", "header" },
  { "501 for Transfer-Encoding: gzip", "POST /inventory/v1/job/list HTTP/1.1\r\nHost: x\r\n"
      .. "Transfer-Encoding: gzip\r\nConnection: close\r\n\r\n", 501, "ERROR_INVALID_PARAMETER" },
  { "505 for HTTP/2.0 on an HTTP/1 listener", "GET /inventory/v1/jobs HTTP/2.0\r\nHost: x\r\n\r\n", 505,
    "ERROR_INVALID_PARAMETER" },
  { "405 for TRACE", "TRACE /inventory/v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405,
    "ERROR_METHOD_NOT_ALLOWED" },
  { "400 for a malformed request line", "GARBAGE\r\n\r\n", 400, "ERROR_INVALID_PARAMETER" },
  { "400 for HTTP/1.1 without Host", "GET /inventory/v1/jobs HTTP/1.1\r\nConnection: close\r\n\r\n", 400,
    "ERROR_INVALID_PARAMETER" },
  { "400 for a NUL in the path", "GET /inventory/v1/job/a%00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    400, "ERROR_INVALID_PARAMETER" },
  { "413 for a declared body over 8m", "POST /inventory/v1/job/list HTTP/1.1\r\nHost: x\r\n"
      .. "Content-Length: 99999999\r\nConnection: close\r\n\r\n", 413, "ERROR_INVALID_PARAMETER" },
  { "404 outside the API (an internal location asked for directly)", "GET /.inventory/error HTTP/1.1\r\n"
      .. "Host: x\r\nConnection: close\r\n\r\n", 404, "ERROR_NOT_FOUND" },
}
for _, c in ipairs(NGINX_ERRORS) do
  test("nginx's own " .. c[1] .. " is JSON", function()
    local r = raw(c[2])
    err_ok(r, c[3], c[4])
    if c[5] then truthy(r.json.error.message:find(c[5], 1, true), "message: " .. r.text) end
  end)
end

---------------------------------------------------------------------------
-- statuses and headers

test("404 for unknown paths, as JSON", function()
  for _, p in ipairs(C.UNKNOWN_PATHS) do
    err_ok(http("POST", p, {}, "a-admin"), 404, "ERROR_NOT_FOUND")
  end
end)
test("a %3F in the path is part of the id, not a query string; echoed bytes stay JSON", function()
  err_ok(http("GET", "/inventory/v1/job/" .. A1 .. "%3Fjob_id=zzz", nil, "a-admin"), 404, "ERROR_NOT_FOUND")
  json_ok(http("GET", "/inventory/v1/job/" .. A1, nil, "a-admin"), 200)
  err_ok(http("GET", "/inventory/v1/job%FF/x", nil, "a-admin"), 404, "ERROR_NOT_FOUND")
end)
test("nginx's own refusals through curl: 413 for a body over 8m, 400 for a NUL in the path", function()
  local big = string.rep(" ", 9 * 1024 * 1024)
  err_ok(http("POST", "/inventory/v1/job/list", "{}" .. big, "a-admin"), 413, "ERROR_INVALID_PARAMETER")
  err_ok(http("GET", "/inventory/v1/job/a%00b", nil, "a-admin"), 400, "ERROR_INVALID_PARAMETER")
end)
test("405 with Allow", function()
  for _, c in ipairs(C.NOT_ALLOWED) do
    local r = http(c[1], c[2], nil, "a-admin")
    err_ok(r, 405, "ERROR_METHOD_NOT_ALLOWED")
    eq(r.headers["allow"], c[3], "Allow of " .. c[1] .. " " .. c[2])
  end
end)
test("401 with WWW-Authenticate", function()
  for _, c in ipairs{ { nil, nil }, { "nope", nil }, { nil, { Authorization = "Basic YTpi" } } } do
    local r = http("POST", "/inventory/v1/job/list", {}, c[1], c[2])
    err_ok(r, 401, "ERROR_AUTHENTICATE_FAILURE")
    eq(r.headers["www-authenticate"], 'Bearer realm="inventory"', "WWW-Authenticate")
  end
  local r = http("GET", "/inventory/v1/jobs", nil, nil, { authorization = "bearer a-admin" })
  json_ok(r, 200)
end)
test("403 for a workspace member deleting, on every delete path", function()
  for _, c in ipairs(C.MEMBER_DELETES) do
    err_ok(http(c[1], c[2], c[3], "a-member"), 403, "ERROR_PERMISSION_DENIED")
  end
  json_ok(http("GET", "/inventory/v1/job-task/" .. T1, nil, "a-admin"), 200)
end)
test("403 for workspace roles on spot-automation", function()
  err_ok(http("GET", "/spot-automation/v1/jobs", nil, "a-owner"), 403, "ERROR_PERMISSION_DENIED")
  err_ok(http("POST", "/spot-automation/v1/jobs/search", {}, "a-member"), 403, "ERROR_PERMISSION_DENIED")
end)
test("400 for a body that is not a JSON object", function()
  for _, body in ipairs{ "[]", "1", "null", "{bad", '{"query":NaN}' } do
    local r = http("POST", "/inventory/v1/job/list", body, "a-admin")
    local b = err_ok(r, 400)
    truthy(b.error.code == "ERROR_INVALID_PARAMETER" or b.error.code == "ERROR_INVALID_PARAMETER_TYPE",
           "code " .. tostring(b.error.code))
  end
end)
test("a body larger than client_body_buffer_size (read back from the temp file)", function()
  local list = { A1 }
  for i = 1, 12000 do list[#list + 1] = string.format("job-%012d", i) end
  local body = assert(cjson.encode{ query = { filter = { { k = "job_id", v = list, o = "in" } } } })
  truthy(#body > 64 * 1024, "body size " .. #body)
  local b = json_ok(http("POST", "/inventory/v1/job/list", body, "a-admin"), 200)
  same(ids(b, "job_id"), { A1 })
end)
test("the identity overrides domain_id, workspace_id and user_projects in the body", function()
  local b = json_ok(http("POST", "/inventory/v1/job/list", { domain_id = F.B }, "a-admin"), 200)
  same(ids(b, "job_id"), F.SEES["a-admin"].job)
  b = json_ok(http("POST", "/inventory/v1/job-task/list", { workspace_id = "ws-2" }, "a-owner"), 200)
  same(ids(b, "job_task_id"), sorted(F.SEES["a-owner"].job_task))
  b = json_ok(http("POST", "/inventory/v1/job-task/list",
                   { user_projects = { "project-1", "project-2", "project-3" } }, "a-member"), 200)
  same(ids(b, "job_task_id"), sorted(F.SEES["a-member"].job_task))
  b = json_ok(http("GET", "/inventory/v1/job-tasks?domain_id=" .. F.B .. "&user_projects=project-9", nil,
                   "a-member"), 200)
  same(ids(b, "job_task_id"), sorted(F.SEES["a-member"].job_task))
end)
test("parallel requests over keep-alive on both workers", function()
  local cfg = WORK .. "/parallel.cfg"
  local lines = {}
  for i = 1, 60 do
    lines[#lines + 1] = string.format('silent\nshow-error\nurl = "%s/inventory/v1/job-task/list"\n'
      .. 'request = "POST"\ndata = "{\\"job_id\\":\\"%s\\"}"\nheader = "Authorization: Bearer a-admin"\n'
      .. 'output = "%s/par-%d.json"\nwrite-out = "%%{http_code}\\n"\n', BASE, A1, WORK, i)
  end
  write(cfg, table.concat(lines, "next\n"))
  local p = io.popen("curl -sS -Z --parallel-max 16 -K " .. q(cfg) .. " 2>&1")
  local out = p:read("*a")
  p:close()
  local n = 0
  for line in out:gmatch("[^\r\n]+") do
    local code = line:match("^(%d%d%d)$")
    if code then eq(code, "200", "status"); n = n + 1 end
  end
  eq(n, 60, "answers")
  for i = 1, 60 do
    local b = cjson.decode(read(WORK .. "/par-" .. i .. ".json") or "")
    truthy(b and b.total_count == 2, "answer " .. i)
  end
end)

-- issue 15: the requests that kept a worker busy for 9.8 s (10 x 400
-- regex_in), 37 s (20 x 400) and 6 minutes (100 x 400), sent together with
-- two 2 x 400 ones (under the cap: they run, bounded by the regex budget),
-- while another domain's token lists: every hostile answer is a 400 within
-- the budget, and the cheap list is served meanwhile.
test("hostile regex requests answer 400 within the budget; another client is served meanwhile", function()
  local function regexes(nf, nv)
    local fo = {}
    for i = 1, nf do
      local v = {}
      for j = 1, nv do v[j] = "lit" .. i .. "x" .. j end
      fo[i] = { k = "secret_id", v = v, o = "regex_in" }
    end
    return assert(cjson.encode({ query = { filter_or = fo } }))
  end
  local reqs = { { "10x400", regexes(10, 400), "a-member", "400" }, { "20x400", regexes(20, 400), "a-admin", "400" },
                 { "100x400", regexes(100, 400), "a-admin", "400" }, { "2x400a", regexes(2, 400), "a-admin", "200|400" },
                 { "2x400b", regexes(2, 400), "a-owner", "200|400" },
                 { "cheap", '{"query":{"page":{"limit":5}}}', "b-admin", "200" } }
  local lines = {}
  for i, r in ipairs(reqs) do
    write(WORK .. "/hostile-" .. i .. ".json", r[2])
    lines[i] = string.format('silent\nshow-error\nurl = "%s/inventory/v1/job-task/list"\nrequest = "POST"\n'
      .. 'data-binary = "@%s/hostile-%d.json"\nheader = "Authorization: Bearer %s"\n'
      .. 'header = "Content-Type: application/json"\noutput = "%s/hostile-%d.out"\n'
      .. 'write-out = "%d %%{http_code} %%{time_total}\\n"\n', BASE, WORK, i, r[3], WORK, i, i)
  end
  write(WORK .. "/hostile.cfg", table.concat(lines, "next\n"))
  local p = io.popen("curl -sS -Z --parallel-max 8 --max-time 30 -K " .. q(WORK .. "/hostile.cfg") .. " 2>&1")
  local out = p:read("*a")
  p:close()
  local seen = 0
  for i, code, secs in out:gmatch("(%d+) (%d%d%d) ([%d.]+)") do
    local r = reqs[tonumber(i)]
    seen = seen + 1
    truthy(("|" .. r[4] .. "|"):find("|" .. code .. "|", 1, true), r[1] .. ": status " .. code .. " "
           .. (read(WORK .. "/hostile-" .. i .. ".out") or ""):sub(1, 300))
    truthy(tonumber(secs) < 1.5, r[1] .. " answered within the budget: " .. secs .. " s")
    if code == "400" then
      local b = cjson.decode(read(WORK .. "/hostile-" .. i .. ".out") or "")
      truthy(b and b.error and (b.error.code == "ERROR_INVALID_PARAMETER" or b.error.code == "ERROR_DB_QUERY"),
             r[1] .. ": a JSON error")
    end
  end
  eq(seen, #reqs, "answers (" .. out:sub(1, 300) .. ")")
end)

---------------------------------------------------------------------------
-- scoping: a token sees, counts and deletes only its own records

local LISTS, STATS, KEY, GETS, DELETES = C.LIST_PATHS, C.STAT_PATHS, C.KEY, C.GET_PATHS, C.DELETE_PATHS
local RECORDS = { job = {}, job_task = {} }
for _, r in ipairs(F.JOBS) do RECORDS.job[#RECORDS.job + 1] = r end
for _, r in ipairs(F.TASKS) do RECORDS.job_task[#RECORDS.job_task + 1] = r end

local ADMIN_OF = { [F.A] = "a-admin", [F.B] = "b-admin" }

local function still_there(resource, rec)
  local r = http("POST", resource == "job" and "/inventory/v1/job/get" or "/inventory/v1/job-task/get",
                 { [KEY[resource]] = rec[KEY[resource]] }, ADMIN_OF[rec.domain_id])
  json_ok(r, 200)
end

for _, tok in ipairs{ "a-admin", "a-owner", "a-member", "a-member-none", "b-admin" } do
  local domain = F.TOKENS[tok].domain_id
  for _, resource in ipairs{ "job", "job_task", "spot_job" } do
    local sees = F.SEES[tok][resource]
    if sees then
      local visible = F.set(sees)
      test(tok .. ": " .. resource .. " lists", function()
        for _, c in ipairs(LISTS[resource]) do
          local b = json_ok(http(c[1], c[2], c[1] == "POST" and {} or nil, tok), 200)
          same(ids(b, KEY[resource]), sorted(sees), c[1] .. " " .. c[2])
          eq(b.total_count, #sees, "total_count")
          for _, row in ipairs(b.results) do eq(row.domain_id, domain, "domain_id") end
        end
      end)
      test(tok .. ": " .. resource .. " stats", function()
        for _, p in ipairs(STATS[resource]) do counted(http("POST", p, STAT, tok), domain, #sees) end
      end)
      if GETS[resource] then
        test(tok .. ": " .. resource .. " gets", function()
          for _, rec in ipairs(RECORDS[resource]) do
            local id = rec[KEY[resource]]
            for _, c in ipairs(GETS[resource](id)) do
              local r = http(c[1], c[2], c[3], tok)
              if visible[id] then
                eq(json_ok(r, 200)[KEY[resource]], id, c[1] .. " " .. c[2])
              else
                err_ok(r, 404, "ERROR_NOT_FOUND")
              end
            end
          end
        end)
      end
    end
  end
  if tok == "a-admin" or tok == "a-owner" or tok == "b-admin" then
    test(tok .. ": analyze", function()
      counted(http("POST", "/inventory/v1/job/analyze", ANALYZE, tok), domain, #F.SEES[tok].job, "domain_id")
    end)
  end
  if F.TOKENS[tok].role ~= "WORKSPACE_MEMBER" then
    test(tok .. ": never deletes a record of the other domain", function()
      for resource, mk in pairs(DELETES) do
        for _, rec in ipairs(RECORDS[resource]) do
          if rec.domain_id ~= domain then
            for _, c in ipairs(mk(rec[KEY[resource]])) do
              err_ok(http(c[1], c[2], c[3], tok), 404, "ERROR_NOT_FOUND")
              still_there(resource, rec)
            end
          end
        end
      end
    end)
  end
end

---------------------------------------------------------------------------
-- deletes that succeed (they change the data: last of the fixture checks)

test("a workspace owner deletes in its workspace only", function()
  err_ok(http("POST", "/inventory/v1/job/delete", { job_id = A1 }, "a-owner"), 404, "ERROR_NOT_FOUND")
  err_ok(http("DELETE", "/inventory/v1/job/" .. A3, nil, "a-owner"), 404, "ERROR_NOT_FOUND")
  local r = http("DELETE", "/inventory/v1/job-task/" .. T2, nil, "a-owner")
  json_ok(r, 200); eq(r.text, "{}")
  err_ok(http("GET", "/inventory/v1/job-task/" .. T2, nil, "a-admin"), 404, "ERROR_NOT_FOUND")
  r = http("POST", "/inventory/v1/job/delete", { job_id = A2 }, "a-owner")
  json_ok(r, 200); eq(r.text, "{}")
  err_ok(http("POST", "/inventory/v1/job/get", { job_id = A2 }, "a-admin"), 404, "ERROR_NOT_FOUND")
end)
test("a domain admin deletes through every delete path", function()
  local r = http("POST", "/inventory/v1/job-task/delete", { job_task_id = T4 }, "a-admin")
  json_ok(r, 200); eq(r.text, "{}")
  r = http("DELETE", "/inventory/v1/job/" .. A3, nil, "a-admin")
  json_ok(r, 200); eq(r.text, "{}")
  err_ok(http("GET", "/inventory/v1/job/" .. A3, nil, "a-admin"), 404, "ERROR_NOT_FOUND")
  r = http("DELETE", "/inventory/v1/job-task/" .. T1, nil, "a-admin")
  json_ok(r, 200)
  r = http("POST", "/inventory/v1/job/delete", { job_id = A1 }, "a-admin")
  json_ok(r, 200)
  local b = json_ok(http("POST", "/inventory/v1/job/list", {}, "a-admin"), 200)
  eq(b.total_count, 0)
  same(b.results, {})
  truthy(http("POST", "/inventory/v1/job/list", {}, "a-admin").text:find('"results":[]', 1, true),
         "an empty list renders as []")
  b = json_ok(http("POST", "/inventory/v1/job/list", {}, "b-admin"), 200)
  eq(b.total_count, 2, "domain B untouched")
end)

---------------------------------------------------------------------------
-- the seed pages' examples, replayed over HTTP

local S
test("the seed pages' examples load", function() S = seeds.load(SEEDS_DIR) end)

local function replay(e, token, what)
  local r = http("POST", e.path, e.request_text, token)
  local b = json_ok(r, 200)
  same(b, e.response, what)
end

if S then
  test("000 Job.get (v1 page): request and response example", function()
    replay(S.job_v1.get, "seed-domain-1234", "000 get")
  end)
  test("000 Job.list (v1 page): request and response example", function()
    replay(S.job_v1.list, "seed-domain-5801", "000 list")
  end)
  test("003 JobTask.list (v1 page): GET /inventory/v1/job-tasks and POST .../search", function()
    local e = S.task_v1.list
    for _, c in ipairs(e.paths) do
      local r = http(c[1], c[2], c[1] == "POST" and e.request_text or nil, "seed-domain-5801")
      local b = json_ok(r, 200)
      eq(b.total_count, e.response.total_count, "total_count")
      for i, want in ipairs(e.response.results) do same(b.results[i], want, c[2] .. " results[" .. i .. "]") end
      eq(#b.results, 1000, "the page cap")
    end
    local b = json_ok(http("POST", "/inventory/v1/job-task/list", e.request_text, "seed-domain-5801"), 200)
    for i, want in ipairs(e.response.results) do same(b.results[i], want, "job-task/list results[" .. i .. "]") end
  end)
  test("000 Job.delete (v1 page): request example", function()
    local r = http("POST", S.job_v1.delete.path, S.job_v1.delete.request_text, "seed-domain-1234")
    json_ok(r, 200); eq(r.text, "{}")
    err_ok(http("POST", "/inventory/v1/job/get", S.job_v1.get.request_text, "seed-domain-1234"), 404,
           "ERROR_NOT_FOUND")
    -- the list page's jobs go too (2.x delete cascades to their tasks)
    for _, j in ipairs(S.job_v1.list.response.results) do
      json_ok(http("POST", "/inventory/v1/job/delete", { job_id = j.job_id }, "seed-domain-5801"), 200)
    end
    local b = json_ok(http("POST", "/inventory/v1/job-task/list", { query = { count_only = true } },
                           "seed-domain-5801"), 200)
    eq(b.total_count, 0, "tasks deleted with their jobs")
  end)
  test("002 Job.get / list / delete (2.0 page), after importing its records into the live database", function()
    truthy(os.execute(PHASE2), "phase2 import")
    replay(S.job_v2.get, "seed-domain-1234", "002 get")
    replay(S.job_v2.list, "seed-domain-5801", "002 list")
    local r = http("POST", S.job_v2.delete.path, S.job_v2.delete.request_text, "seed-domain-1234")
    json_ok(r, 200); eq(r.text, "{}")
    err_ok(http("POST", S.job_v2.get.path, S.job_v2.get.request_text, "seed-domain-1234"), 404, "ERROR_NOT_FOUND")
  end)
end

---------------------------------------------------------------------------

test("the error log has no errors or crashed workers", function()
  local log = read(ERROR_LOG) or ""
  for line in log:gmatch("[^\n]+") do
    -- (nginx logs the 413 the suite provokes on purpose at [error])
    if (line:find("%[error%]") and not line:find("client intended to send too large body", 1, true))
       or line:find("%[crit%]") or line:find("%[alert%]") or line:find("%[emerg%]")
       or line:find("exited on signal", 1, true) then
      fail("error.log: " .. line)
    end
  end
end)

print(string.format("nginx: %d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
