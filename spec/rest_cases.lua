-- spec/rest_cases.lua: REST cases written once and run twice: by
-- spec/rest_spec.lua against inventory.rest over a :memory: store, and by
-- test/nginx/driver.lua against a real nginx, both holding
-- spec/rest_fixture.lua's records.
--
-- A case: { name, method, path, body (table, text or nil), token (default
-- "a-admin"), status, and what the answer must hold:
--   code = "ERROR_..."             the error code (an error body)
--   fields = { k = v }             top-level values (C.ABSENT: not rendered)
--   ids = { key, { ... } }         the sorted ids of results
--   total = n                      total_count
--   same = { ... }                 the whole body
--   counted = { domain, n, key }   a count-by-domain stat/analyze answer
--   text_has = "..."               a substring of the body text
--   check = function(body, text)   anything else (raises on failure)
-- }
-- C.check(case, status, body, text) raises with a message on the first
-- difference; each runner reports it its own way.
local F = require "spec.rest_fixture"

local C = {}

C.ABSENT = setmetatable({}, { __tostring = function() return "(absent)" end })

local A1, A2 = "job-a00000000001", "job-a00000000002"
local T1, T2, T3 = "job-task-a00000000001", "job-task-a00000000002", "job-task-a00000000003"

C.STAT = { query = { aggregate = { { group = {
  keys = { { key = "domain_id", name = "d" } },
  fields = { { operator = "count", name = "n" } } } } } } }
C.ANALYZE = { query = { group_by = { "domain_id" }, fields = { n = { operator = "count" } } } }

---------------------------------------------------------------------------
-- comparisons that raise

local function show(v)
  if type(v) ~= "table" or v == C.ABSENT then return tostring(v) end
  local ok, cjson = pcall(require, "cjson")
  if ok then
    local ok2, s = pcall(cjson.encode, v)
    if ok2 then return s end
  end
  return tostring(v)
end

local function fail(msg) error(msg, 0) end

function C.eq(actual, expected, what)
  if actual ~= expected then
    fail((what or "value") .. ": expected " .. show(expected) .. ", got " .. show(actual))
  end
end

-- deep, strict comparison; reports the first differing path
function C.same(actual, expected, path)
  path = path or "$"
  if type(expected) ~= "table" or type(actual) ~= "table" then
    if actual ~= expected then
      fail(path .. ": expected " .. show(expected) .. ", got " .. show(actual))
    end
    return
  end
  for k, v in pairs(expected) do C.same(actual[k], v, path .. "." .. tostring(k)) end
  for k in pairs(actual) do
    if expected[k] == nil then fail(path .. "." .. tostring(k) .. ": unexpected field") end
  end
end

function C.sorted(list)
  local c = {}
  for i, v in ipairs(list) do c[i] = v end
  table.sort(c)
  return c
end

function C.ids(body, key)
  local out = {}
  for i, row in ipairs(body.results) do out[i] = row[key] end
  table.sort(out)
  return out
end

-- the rows of a count-by-domain answer are all of `domain`; their counts sum to n
function C.counted(body, domain, n, key)
  if type(body) ~= "table" or type(body.results) ~= "table" then fail("no results: " .. show(body)) end
  local total = 0
  for _, row in ipairs(body.results) do
    C.eq(row[key or "d"], domain, "domain of a row")
    total = total + row.n
  end
  C.eq(total, n, "count")
end

function C.check(case, status, body, text)
  C.eq(status, case.status, "status (body " .. tostring(text):sub(1, 300) .. ")")
  if type(body) ~= "table" then fail("not a JSON object: " .. tostring(text):sub(1, 200)) end
  if tostring(text):find("\\/", 1, true) then fail("an escaped slash in " .. text) end
  if case.code or status >= 400 then
    if type(body.error) ~= "table" then fail("not an error body: " .. text) end
    if type(body.error.message) ~= "string" then fail("an error without a message: " .. text) end
    if case.code then C.eq(body.error.code, case.code, "error code (" .. body.error.message .. ")") end
  end
  for k, v in pairs(case.fields or {}) do
    if v == C.ABSENT then C.eq(body[k], nil, k) else C.eq(body[k], v, k) end
  end
  if case.ids then C.same(C.ids(body, case.ids[1]), C.sorted(case.ids[2]), "ids") end
  if case.total then C.eq(body.total_count, case.total, "total_count") end
  if case.same then C.same(body, case.same) end
  if case.counted then C.counted(body, case.counted[1], case.counted[2], case.counted[3]) end
  if case.text_has and not text:find(case.text_has, 1, true) then
    fail("the body lacks " .. case.text_has .. ": " .. text)
  end
  if case.check then case.check(body, text) end
end

---------------------------------------------------------------------------
-- every path answers, for a domain admin (read-only: the runners' own
-- tests delete)

C.ROUTES = {
  { name = "POST /inventory/v1/job/get", method = "POST", path = "/inventory/v1/job/get",
    body = { job_id = A1 }, status = 200,
    fields = { job_id = A1, domain_id = F.A, workspace_id = "*", remained_tasks = C.ABSENT } },
  { name = "POST /inventory/v1/job/list", method = "POST", path = "/inventory/v1/job/list",
    body = { query = {} }, status = 200, ids = { "job_id", F.SEES["a-admin"].job }, total = 3 },
  { name = "POST /inventory/v1/job/list with an empty body", method = "POST",
    path = "/inventory/v1/job/list", body = "", status = 200, total = 3 },
  { name = "POST /inventory/v1/job/list without a body", method = "POST",
    path = "/inventory/v1/job/list", status = 200, total = 3 },
  { name = "POST /inventory/v1/job/stat", method = "POST", path = "/inventory/v1/job/stat",
    body = C.STAT, status = 200, counted = { F.A, 3 } },
  { name = "POST /inventory/v1/job/analyze", method = "POST", path = "/inventory/v1/job/analyze",
    body = C.ANALYZE, status = 200, counted = { F.A, 3, "domain_id" } },
  { name = "POST /inventory/v1/job-task/get", method = "POST", path = "/inventory/v1/job-task/get",
    body = { job_task_id = T1 }, status = 200, fields = { job_task_id = T1, project_id = "project-1" } },
  { name = "POST /inventory/v1/job-task/list", method = "POST", path = "/inventory/v1/job-task/list",
    body = { job_id = A1 }, status = 200, ids = { "job_task_id", { T1, T2 } } },
  { name = "POST /inventory/v1/job-task/stat", method = "POST", path = "/inventory/v1/job-task/stat",
    body = C.STAT, status = 200, counted = { F.A, 4 } },
  { name = "GET /inventory/v1/jobs", method = "GET", path = "/inventory/v1/jobs", status = 200,
    ids = { "job_id", F.SEES["a-admin"].job } },
  { name = "GET /inventory/v1/jobs with query-string parameters", method = "GET",
    path = "/inventory/v1/jobs?status=FAILURE&query.only=job_id&query.only=status&query.page.limit=5",
    status = 200, same = { results = { { job_id = A2, status = "FAILURE" } }, total_count = 1 } },
  { name = "GET /inventory/v1/jobs with a page in the query string", method = "GET",
    path = "/inventory/v1/jobs?query.page.limit=1&query.page.start=3", status = 200, total = 3,
    check = function(b) C.eq(#b.results, 1, "rows"); C.eq(b.results[1].job_id, A1, "job_id") end },
  { name = "GET /inventory/v1/jobs with an unknown parameter", method = "GET",
    path = "/inventory/v1/jobs?nope=1", status = 400, code = "ERROR_INVALID_PARAMETER" },
  { name = "POST /inventory/v1/jobs/search", method = "POST", path = "/inventory/v1/jobs/search",
    body = { query = { filter = { { k = "status", v = "SUCCESS", o = "eq" } } } }, status = 200,
    ids = { "job_id", { A1 } } },
  { name = "POST /inventory/v1/jobs/stat", method = "POST", path = "/inventory/v1/jobs/stat",
    body = C.STAT, status = 200, counted = { F.A, 3 } },
  { name = "GET /inventory/v1/job/{job_id}", method = "GET", path = "/inventory/v1/job/" .. A1,
    status = 200, fields = { job_id = A1 } },
  { name = "GET /inventory/v1/job/{job_id} with only", method = "GET",
    path = "/inventory/v1/job/" .. A1 .. "?only=job_id&only=status", status = 200,
    same = { job_id = A1, status = "SUCCESS" } },
  { name = "GET /inventory/v1/job/{job_id}: the path id wins over the query string", method = "GET",
    path = "/inventory/v1/job/" .. A1 .. "?job_id=" .. A2, status = 200, fields = { job_id = A1 } },
  { name = "GET /inventory/v1/job-tasks", method = "GET", path = "/inventory/v1/job-tasks?job_id=" .. A1,
    status = 200, ids = { "job_task_id", { T1, T2 } } },
  { name = "POST /inventory/v1/job-tasks/search", method = "POST",
    path = "/inventory/v1/job-tasks/search", body = { status = "FAILURE" }, status = 200,
    ids = { "job_task_id", { T3 } },
    check = function(b) C.eq(b.results[1].errors[1].message, "denied/forbidden", "error message") end },
  { name = "POST /inventory/v1/job-tasks/stat", method = "POST", path = "/inventory/v1/job-tasks/stat",
    body = C.STAT, status = 200, counted = { F.A, 4 } },
  { name = "GET /inventory/v1/job-task/{job_task_id}", method = "GET",
    path = "/inventory/v1/job-task/" .. T1, status = 200, fields = { job_task_id = T1 } },
  { name = "GET /spot-automation/v1/jobs", method = "GET", path = "/spot-automation/v1/jobs",
    status = 200, ids = { "job_id", F.SEES["a-admin"].spot_job }, text_has = '"filter":{}' },
  { name = "POST /spot-automation/v1/jobs/search", method = "POST",
    path = "/spot-automation/v1/jobs/search", body = { status = "ERROR" }, status = 200,
    ids = { "job_id", { "job-sa0000000002" } } },
  { name = "POST /spot-automation/v1/jobs/stat", method = "POST", path = "/spot-automation/v1/jobs/stat",
    body = C.STAT, status = 200, counted = { F.A, 2 } },
}

---------------------------------------------------------------------------
-- the paths of each resource, for the scoping checks (every token sees,
-- counts, gets and deletes only its own records on every path)

C.KEY = { job = "job_id", job_task = "job_task_id", spot_job = "job_id" }
C.LIST_PATHS = {
  job = { { "POST", "/inventory/v1/job/list" }, { "GET", "/inventory/v1/jobs" },
          { "POST", "/inventory/v1/jobs/search" } },
  job_task = { { "POST", "/inventory/v1/job-task/list" }, { "GET", "/inventory/v1/job-tasks" },
               { "POST", "/inventory/v1/job-tasks/search" } },
  spot_job = { { "GET", "/spot-automation/v1/jobs" }, { "POST", "/spot-automation/v1/jobs/search" } },
}
C.STAT_PATHS = {
  job = { "/inventory/v1/job/stat", "/inventory/v1/jobs/stat" },
  job_task = { "/inventory/v1/job-task/stat", "/inventory/v1/job-tasks/stat" },
  spot_job = { "/spot-automation/v1/jobs/stat" },
}
-- GET_PATHS[resource](id), DELETE_PATHS[resource](id) -> { { method, path, body? }, ... }
C.GET_PATHS = {
  job = function(id) return { { "POST", "/inventory/v1/job/get", { job_id = id } },
                              { "GET", "/inventory/v1/job/" .. id } } end,
  job_task = function(id) return { { "POST", "/inventory/v1/job-task/get", { job_task_id = id } },
                                   { "GET", "/inventory/v1/job-task/" .. id } } end,
}
C.DELETE_PATHS = {
  job = function(id) return { { "POST", "/inventory/v1/job/delete", { job_id = id } },
                              { "DELETE", "/inventory/v1/job/" .. id } } end,
  job_task = function(id) return { { "POST", "/inventory/v1/job-task/delete", { job_task_id = id } },
                                   { "DELETE", "/inventory/v1/job-task/" .. id } } end,
}

-- a known path with another method: 405 and its Allow header
C.NOT_ALLOWED = {
  { "GET", "/inventory/v1/job/list", "POST" }, { "DELETE", "/inventory/v1/job/delete", "POST" },
  { "GET", "/inventory/v1/job-task/stat", "POST" }, { "PUT", "/inventory/v1/job/analyze", "POST" },
  { "POST", "/inventory/v1/jobs", "GET" }, { "GET", "/inventory/v1/jobs/search", "POST" },
  { "GET", "/inventory/v1/jobs/stat", "POST" }, { "POST", "/inventory/v1/job-tasks", "GET" },
  { "GET", "/inventory/v1/job-tasks/search", "POST" }, { "GET", "/inventory/v1/job-tasks/stat", "POST" },
  { "POST", "/inventory/v1/job/" .. A1, "DELETE, GET" }, { "PUT", "/inventory/v1/job/" .. A1, "DELETE, GET" },
  { "POST", "/inventory/v1/job-task/" .. T1, "DELETE, GET" }, { "PUT", "/inventory/v1/job-task/" .. T1, "DELETE, GET" },
  { "DELETE", "/spot-automation/v1/jobs", "GET" }, { "GET", "/spot-automation/v1/jobs/search", "POST" },
  { "DELETE", "/spot-automation/v1/jobs/stat", "POST" },
}

-- paths that are no route: 404 as JSON
C.UNKNOWN_PATHS = { "/", "/nope", "/inventory/v1/jobs/", "/inventory/v1/job/", "/inventory/v1/job-task/",
                    "/inventory/v1/job/a/b", "/inventory/v2/job/list", "/inventory/v1/job-tasks/x",
                    "/spot-automation/v1/job/list" }

-- every delete path, which a workspace member may not use (403)
C.MEMBER_DELETES = {
  { "POST", "/inventory/v1/job/delete", { job_id = A2 } }, { "DELETE", "/inventory/v1/job/" .. A2 },
  { "POST", "/inventory/v1/job-task/delete", { job_task_id = T1 } }, { "DELETE", "/inventory/v1/job-task/" .. T1 },
}

---------------------------------------------------------------------------
-- client mistakes (issue 15, section 2): each is the caller's fault, a 4xx
-- with its reason, and never an [error] line in the server's log. stat and
-- analyze go through the thread pool behind nginx.

local function list_filter(k, v, o)
  return { query = { filter = { { k = k, v = v, o = o } } } }
end
local function stages(n)
  local a = {}
  for i = 1, n do a[i] = { count = { name = "n" .. i } } end
  return { query = { aggregate = a } }
end

C.CLIENT_FAULTS = {
  { name = "an invalid regex \"(\"", method = "POST", path = "/inventory/v1/job/list",
    body = list_filter("job_id", "(", "regex"), status = 400, code = "ERROR_DB_QUERY" },
  { name = "an invalid regex \"(a)\\\\2\"", method = "POST", path = "/inventory/v1/job-task/list",
    body = list_filter("job_task_id", "(a)\\2", "regex"), status = 400, code = "ERROR_DB_QUERY" },
  { name = "an invalid regex in stat's filter", method = "POST", path = "/inventory/v1/job/stat",
    body = { query = { filter = { { k = "job_id", v = { "job-", "(" }, o = "regex_in" } },
                       aggregate = { { count = { name = "n" } } } } },
    status = 400, code = "ERROR_DB_QUERY" },
  { name = "unwind without only", method = "POST", path = "/inventory/v1/job-task/list",
    body = { query = { unwind = { path = "errors" } } }, status = 400, code = "ERROR_DB_QUERY" },
  { name = "a bad timediff \"now/x\"", method = "POST", path = "/inventory/v1/job/list",
    body = list_filter("created_at", "now/x", "timediff_gt"), status = 400, code = "ERROR_DB_QUERY" },
  { name = "a stat stage {\"group\":\"x\"}", method = "POST", path = "/inventory/v1/job/stat",
    body = { query = { aggregate = { { group = "x" } } } }, status = 400, code = "ERROR_DB_QUERY" },
  { name = "a stat stage {\"skip\":-1}", method = "POST", path = "/inventory/v1/job-task/stat",
    body = { query = { aggregate = { { skip = -1 } } } }, status = 400, code = "ERROR_DB_QUERY" },
  { name = "65 stat stages", method = "POST", path = "/inventory/v1/job/stat",
    body = stages(65), status = 400, code = "ERROR_DB_QUERY" },
  { name = "analyze with fields {}", method = "POST", path = "/inventory/v1/job/analyze",
    body = '{"query":{"fields":{}}}', status = 400, code = "ERROR_DB_QUERY" },
  { name = "a division by zero in a project stage", method = "POST", path = "/inventory/v1/job/stat",
    body = { query = { aggregate = { { project = { fields = {
      { name = "x", operator = "divide", fields = { "total_tasks", 0 } } } } } } } },
    status = 400, code = "ERROR_DB_QUERY" },
  { name = "an unknown field (as before)", method = "POST", path = "/inventory/v1/job/list",
    body = list_filter("nope", 1, "eq"), status = 400, code = "ERROR_DB_QUERY" },
  { name = "an unknown operator (as before)", method = "POST", path = "/inventory/v1/job/list",
    body = list_filter("status", "x", "zz"), status = 400, code = "ERROR_DB_QUERY" },
  { name = "a condition without an operator (as before)", method = "POST", path = "/inventory/v1/job/list",
    body = { query = { filter = { { k = "status", v = "x" } } } }, status = 400, code = "ERROR_DB_QUERY" },
  { name = "a missing required parameter", method = "POST", path = "/inventory/v1/job/get",
    body = {}, status = 400, code = "ERROR_REQUIRED_PARAMETER" },
  { name = "a query that is not an object", method = "POST", path = "/inventory/v1/job/list",
    body = { query = 5 }, status = 400, code = "ERROR_INVALID_PARAMETER_TYPE" },
  { name = "an unknown request key", method = "POST", path = "/inventory/v1/job/list",
    body = { nope = 1 }, status = 400, code = "ERROR_INVALID_PARAMETER" },
  { name = "an in condition with a string", method = "POST", path = "/inventory/v1/job/list",
    body = list_filter("status", "x", "in"), status = 400, code = "ERROR_OPERATOR_LIST_VALUE_TYPE" },
  { name = "a job that does not exist", method = "POST", path = "/inventory/v1/job/get",
    body = { job_id = "job-000000000000" }, status = 404, code = "ERROR_NOT_FOUND" },
  { name = "a task that does not exist", method = "DELETE",
    path = "/inventory/v1/job-task/job-task-000000000000", status = 404, code = "ERROR_NOT_FOUND" },
  -- the thread-pool transport keeps a string a string: the old null marker
  -- (NUL and 0xFF bytes) is refused by stat and analyze as by list (it was
  -- null in the thread), and an object that looks like the new marker stays
  -- an object
  { name = "list refuses the old thread null marker", method = "POST", path = "/inventory/v1/job/list",
    body = '{"query":{"filter":[{"k":"finished_at","v":"\\u0000\255inventory.null\255\\u0000","o":"eq"}]}}',
    status = 400, code = "ERROR_INVALID_PARAMETER" },
  { name = "stat refuses the old thread null marker", method = "POST", path = "/inventory/v1/job/stat",
    body = '{"query":{"filter":[{"k":"finished_at","v":"\\u0000\255inventory.null\255\\u0000","o":"eq"}],'
      .. '"aggregate":[{"count":{"name":"n"}}]}}',
    status = 400, code = "ERROR_INVALID_PARAMETER" },
  { name = "analyze refuses the old thread null marker", method = "POST", path = "/inventory/v1/job/analyze",
    body = '{"query":{"filter":[{"k":"finished_at","v":"\\u0000\255inventory.null\255\\u0000","o":"eq"}],'
      .. '"fields":{"n":{"operator":"count"}}}}',
    status = 400, code = "ERROR_INVALID_PARAMETER" },
  { name = "stat keeps an object that looks like the marker an object", method = "POST",
    path = "/inventory/v1/job/stat",
    body = '{"query":{"filter":[{"k":"finished_at","v":{"true":"inventory.null"},"o":"eq"}],'
      .. '"aggregate":[{"count":{"name":"n"}}]}}',
    status = 400, code = "ERROR_INVALID_PARAMETER" },
  -- a body with bytes after a NUL is refused like "{} x"
  { name = "a body with bytes after a NUL", method = "POST", path = "/inventory/v1/job/list",
    body = '{"query":{}}\0junk', status = 400, code = "ERROR_INVALID_PARAMETER" },
  { name = "a body with bytes after the object", method = "POST", path = "/inventory/v1/job/list",
    body = "{} x", status = 400, code = "ERROR_INVALID_PARAMETER" },
  { name = "a stat body with a NUL", method = "POST", path = "/inventory/v1/job/stat",
    body = '{"query":{"aggregate":[{"count":{"name":"n"}}]}}\0', status = 400, code = "ERROR_INVALID_PARAMETER" },
}

return C
