-- spec/hostile_spec.lua: bad requests, table-driven. Every case is one
-- request with the error code it must get (or "OK" for requests that must
-- work, or treat a hostile string as plain data); after each case, the store
-- must be exactly as before (every job, task and spot job of both domains,
-- rendered as REST JSON). A raise (a Lua error) fails the case: a request
-- never crashes the caller. Covers wrong types at every position, unknown keys
-- and operators, SQL fragments in keys, values, sort keys, `only`, group and
-- field names, deep nesting, huge arrays, megabyte strings, invalid UTF-8, NUL
-- bytes, NaN and infinities, pages, catastrophic regular expressions,
-- datetime garbage, and another domain's ids.
--
-- Runs under Lua 5.4 and LuaJIT (numbers: 2^62 is an integer in 5.4 and an
-- integral double in LuaJIT; both reach the core as the same integer).
local inventory = require "inventory"
local H = require "spec.helper"

local D, D2 = "domain-1", "domain-2"
local NULL = inventory.null
local MB = string.rep("a", 1024 * 1024)
local BAD_UTF8 = "job-\xff\xfe"
local SECRET = "collector-d2-secret"      -- a domain-2 value that must never leak

local function nest(n, mk)                -- n levels of {x = {x = ...}} (or {{...}})
  local root = {}
  local cur = root
  for _ = 1, n do
    local nxt = {}
    if mk == "list" then cur[1] = nxt else cur.x = nxt end
    cur = nxt
  end
  return root
end
local function list(n, f)
  local t = {}
  for i = 1, n do t[i] = f(i) end
  return t
end
local function cycle()
  local t = { k = "status", o = "eq" }
  t.v = t
  return t
end

-- ===================== the store =====================

local function fixture()
  local inv = H.canonical()
  -- an unfinished job with open tasks: a bad write that slipped through would change it
  assert(inv:import("job", { { job_id = "job-open01", domain_id = D, status = "IN_PROGRESS",
    total_tasks = 2, remained_tasks = 2, collector_id = "collector-9", workspace_id = "*",
    created_at = "2024-01-05T00:00:00.000Z" } }))
  assert(inv:import("job_task", {
    { job_task_id = "job-task-open1", job_id = "job-open01", domain_id = D, status = "PENDING",
      workspace_id = "*", created_at = "2024-01-05T00:00:01.000Z" },
    { job_task_id = "job-task-open2", job_id = "job-open01", domain_id = D, status = "IN_PROGRESS",
      workspace_id = "*", created_at = "2024-01-05T00:00:02.000Z",
      started_at = "2024-01-05T00:00:03.000Z" } }))
  -- another domain: its ids must be invisible from domain-1
  assert(inv:import("job", { { job_id = "job-d2d2d2", domain_id = D2, status = "IN_PROGRESS",
    total_tasks = 1, remained_tasks = 1, collector_id = SECRET, plugin_id = "plugin-d2-secret",
    workspace_id = "*", created_at = "2024-01-06T00:00:00.000Z" } }))
  assert(inv:import("job_task", { { job_task_id = "job-task-d2d2", job_id = "job-d2d2d2",
    domain_id = D2, status = "PENDING", secret_id = "secret-d2-secret", workspace_id = "*",
    created_at = "2024-01-06T00:00:01.000Z" } }))
  assert(inv:import("spot_job", { { job_id = "job-spot01", domain_id = D, status = "CREATED",
    created_at = "2024-01-07T00:00:00.000Z" } }))
  return inv
end

-- everything both domains hold, as REST text (page cap 1000: the store is small)
local function snapshot(inv)
  local out = {}
  for _, d in ipairs{ D, D2 } do
    for _, r in ipairs{ "job", "job_task", "spot_job" } do
      out[#out + 1] = assert(inv:call(r, "list", { domain_id = d,
        query = { sort = { { key = "created_at" } } } }, true))
    end
  end
  return table.concat(out, "\n")
end

-- ===================== the cases =====================
-- { name, resource, method, request, code [, message substring] [, check = f(result)] }
-- code "OK": the call must succeed (check, if given, inspects the result).

local CASES = {}
local function case(name, res, method, req, code, msg, check)
  CASES[#CASES + 1] = { name = name, res = res, method = method, req = req, code = code,
                        msg = msg, check = check }
end
local function q(query) return { domain_id = D, query = query } end
local function cond(k, v, o) return q{ filter = { { k = k, v = v, o = o } } } end
local RESOLVE = "Cannot resolve field"
local NESTING = "nesting deeper than 64 levels"
local function empty(r) return #r.results == 0 end
local NJOBS = 5                           -- domain-1 jobs in the fixture

local T = "ERROR_INVALID_PARAMETER_TYPE"
-- wall-clock bounds (catastrophic input must stay bounded) stretch under
-- valgrind / sanitizers: INV_TEST_TIME_SCALE=30 there
local TIME_SCALE = tonumber(os.getenv("INV_TEST_TIME_SCALE")) or 1
local I = "ERROR_INVALID_PARAMETER"
local R = "ERROR_REQUIRED_PARAMETER"
local DBQ = "ERROR_DB_QUERY"
local NF = "ERROR_NOT_FOUND"

-- ---- 1. domain_id: wrong types, empty, NUL, invalid UTF-8, nesting, at every method
local METHODS = {
  { "job", "list", {} },
  { "job", "get", { job_id = "job-aaa111" } },
  { "job", "stat", { query = { aggregate = { { count = { name = "n" } } } } } },
  { "job", "analyze", { query = { group_by = { "status" }, fields = { n = { operator = "count" } } } } },
  { "job", "delete", { job_id = "job-aaa111" } },
  { "job", "create", { collector_id = "collector-h", tasks = { { secret_id = "s" } } } },
  { "job", "cancel", { job_id = "job-open01" } },
  { "job_task", "list", {} },
  { "job_task", "get", { job_task_id = "job-task-open1" } },
  { "job_task", "delete", { job_task_id = "job-task-open1" } },
  { "job_task", "start", { job_task_id = "job-task-open1" } },
  { "job_task", "add_error", { job_task_id = "job-task-open1", error_code = "E" } },
  { "job_task", "finish", { job_task_id = "job-task-open1", status = "SUCCESS" } },
}
local DOMAIN_VALUES = {
  { "a number", 5, T }, { "a boolean", true, T }, { "a list", { "domain-1" }, T },
  { "a dict", { id = "domain-1" }, T }, { "empty", "", R }, { "null", NULL, R },
  { "NUL inside", "domain-1\0x", I, "NUL" }, { "invalid UTF-8", "domain-\xc3\x28", I, "UTF-8" },
  { "10,000 levels deep", nest(10000), I, NESTING },
}
for _, m in ipairs(METHODS) do
  for _, dv in ipairs(DOMAIN_VALUES) do
    local req = {}
    for k, v in pairs(m[3]) do req[k] = v end
    req.domain_id = dv[2]
    case(("%s.%s: domain_id %s"):format(m[1], m[2], dv[1]), m[1], m[2], req, dv[3], dv[4])
  end
end

-- ---- 2. request-level keys
case("list: unknown top-level key", "job", "list", { domain_id = D, bogus = 1 }, I, "bogus")
case("list: query a string", "job", "list", q("x"), T, "query")
case("list: query a number", "job", "list", q(5), T, "query")
case("list: query a list", "job", "list", q{ 1, 2 }, T, "query")
case("list: unknown query key", "job", "list", q{ bogus = 1 }, I, "query.bogus")
case("list: unknown query key holding SQL", "job", "list", q{ ["1=1; DROP TABLE job"] = 1 }, I, "Unknown parameter")
case("list: workspace_id a number", "job", "list", { domain_id = D, workspace_id = 5 }, T, "workspace_id")
case("task list: user_projects a string", "job_task", "list", { domain_id = D, user_projects = "p" }, T, "user_projects")
case("task list: user_projects of numbers", "job_task", "list", { domain_id = D, user_projects = { 1, 2 } }, T, "user_projects")
case("unknown method", "job", "drop", { domain_id = D }, I, "unknown method")
case("unknown resource", "collector", "list", { domain_id = D }, I, "unknown resource")
case("analyze on job_task", "job_task", "analyze",
     q{ group_by = { "status" }, fields = { n = { operator = "count" } } }, I, "analyze is a method of job")
case("a float table key", "job", "list", q{ [1.5] = 1 }, T, "table keys")
case("a boolean table key", "job", "list", q{ [true] = 1 }, T, "table keys")
case("a negative list index", "job", "list", q{ filter = { [-1] = 1 } }, T, "table keys")
case("a list with holes", "job", "list", q{ filter = { [1] = { k = "status", v = "x", o = "eq" },
     [3] = { k = "status", v = "x", o = "eq" } } }, I, "holes")
case("an index of 2^40", "job", "list", q{ filter = { [2 ^ 40] = 1 } }, I, "holes")
case("a table mixing list and dict keys", "job", "list",
     q{ filter = { { k = "status", v = "x", o = "eq" }, x = 1 } }, I, "mixes")
case("a function value", "job", "list", cond("status", print, "eq"), T, "function")
case("a coroutine value", "job", "list", cond("status", coroutine.create(print), "eq"), T, "function")
case("a userdata value", "job", "list", cond("status", io.stdout, "eq"), T, "userdata")
case("a cyclic table", "job", "list", q{ filter = { cycle() } }, I, NESTING)
case("a key with invalid UTF-8", "job", "list", q{ filter = { { k = "status", v = "x", o = "eq", ["\xff"] = 1 } } }, I, "UTF-8")
case("a key with a NUL byte", "job", "list", q{ ["a\0b"] = 1 }, I, "UTF-8")

-- ---- 3. filter / filter_or and their conditions
for _, where in ipairs{ "filter", "filter_or" } do
  case(where .. " a string", "job", "list", q{ [where] = "x" }, T, "query." .. where)
  case(where .. " a number", "job", "list", q{ [where] = 5 }, T, "query." .. where)
  case(where .. " a dict", "job", "list", q{ [where] = { k = "status" } }, T, "query." .. where)
  case(where .. " item a string", "job", "list", q{ [where] = { "status" } }, T, "list of dict")
  case(where .. " item a number", "job", "list", q{ [where] = { 5 } }, T, "list of dict")
  case(where .. " item a boolean", "job", "list", q{ [where] = { true } }, T, "list of dict")
  case(where .. " item a list", "job", "list", q{ [where] = { { "status", "x", "eq" } } }, T, "list of dict")
end
case("condition: unknown condition key", "job", "list",
     q{ filter = { { k = "status", v = "x", o = "eq", x = 1 } } }, I, "Unknown parameter")
case("condition: key wins over k", "job", "list", q{ filter = { { k = "status", key = "nope", v = "x", o = "eq" } } }, DBQ, RESOLVE)
case("condition: k a number", "job", "list", cond(5, "x", "eq"), DBQ, "should have key")
case("condition: k a boolean", "job", "list", cond(true, "x", "eq"), DBQ, "should have key")
case("condition: k a list", "job", "list", cond({ "status" }, "x", "eq"), DBQ, "should have key")
case("condition: k empty", "job", "list", cond("", "x", "eq"), DBQ, "should have key")
case("condition: k missing", "job", "list", q{ filter = { { v = "x", o = "eq" } } }, DBQ, "should have key")
case("condition: o missing", "job", "list", q{ filter = { { k = "status", v = "x" } } }, DBQ, "operator is not supported")
case("condition: o a number", "job", "list", cond("status", "x", 5), DBQ, "operator is not supported")
case("condition: o a list", "job", "list", cond("status", "x", { "eq" }), DBQ, "operator is not supported")
case("condition: o upper case", "job", "list", cond("status", "x", "EQ"), DBQ, "operator is not supported")
case("condition: o unknown", "job", "list", cond("status", "x", "like"), DBQ, "operator is not supported")
case("condition: o holding SQL", "job", "list", cond("status", "x", "= 1 OR 1"), DBQ, "operator is not supported")
case("condition: unknown key", "job", "list", cond("nope", "x", "eq"), DBQ, RESOLVE)
case("condition: unknown key, not_in", "job", "list", cond("nope", { "x" }, "not_in"), DBQ, RESOLVE)
case("condition: SQL in the key", "job", "list", cond("job_id; DROP TABLE job;--", "x", "eq"), DBQ, RESOLVE)
case("condition: SQL in the key (OR)", "job", "list", cond("1=1 OR job_id", "x", "eq"), DBQ, RESOLVE)
case("condition: SQL in a nested key segment", "job", "list", cond("status.x') OR 1=1 --", "x", "eq"), DBQ, RESOLVE)
case("condition: SQL in a free-form path is data", "job", "list",
     cond("filter.a') OR 1=1 --", "x", "eq"), "OK", nil, empty)
case("condition: a double quote in a path", "job", "list", cond('filter.a"b', "x", "eq"), DBQ, RESOLVE)
case("condition: JSON path syntax in a path is data", "job", "list", cond("filter.$[0]", "x", "eq"), "OK", nil, empty)
case("condition: empty path segment", "job", "list", cond("filter..a", "x", "eq"), DBQ, RESOLVE)
case("condition: NUL in the key", "job", "list", cond("job_id\0x", "x", "eq"), DBQ, RESOLVE)
case("condition: a megabyte key", "job", "list", cond(MB, "x", "eq"), DBQ, RESOLVE)
case("condition: SQL in the value is data", "job", "list", cond("job_id", "' OR 1=1 --", "eq"), "OK", nil, empty)
case("condition: SQL in a contain value is data", "job", "list",
     cond("job_id", "%' OR 1=1 --", "contain"), "OK", nil, empty)
case("condition: LIKE wildcards in contain are data", "job", "list", cond("job_id", "%_%", "contain"), "OK", nil, empty)
case("condition: NUL inside the value is data", "job", "list", cond("job_id", "job-aaa111\0", "eq"), "OK", nil, empty)
case("condition: invalid UTF-8 value", "job", "list", cond("job_id", BAD_UTF8, "eq"), I, "UTF-8")
case("condition: in with a scalar", "job", "list", cond("status", "SUCCESS", "in"), "ERROR_OPERATOR_LIST_VALUE_TYPE")
case("condition: not_in with a dict", "job", "list", cond("status", { a = 1 }, "not_in"), "ERROR_OPERATOR_LIST_VALUE_TYPE")
case("condition: eq with a list", "job", "list", cond("status", { "SUCCESS" }, "eq"), "ERROR_OPERATOR_VALUE_TYPE")
case("condition: exists with a string", "job", "list", cond("status", "yes", "exists"), "ERROR_OPERATOR_BOOLEAN_TYPE")
case("condition: match with a string", "job_task", "list", cond("errors", "x", "match"), "ERROR_OPERATOR_DICT_VALUE_TYPE")
case("condition: match with an unknown suffix", "job_task", "list",
     cond("errors", { message__drop = "x" }, "match"), DBQ, RESOLVE)
case("condition: match with SQL in a field", "job_task", "list",
     cond("errors", { ["x); DROP TABLE job; --"] = "x" }, "match"), DBQ, RESOLVE)
case("condition: match in with a scalar", "job_task", "list",
     cond("errors", { error_code__in = "E_A" }, "match"), "ERROR_OPERATOR_LIST_VALUE_TYPE")
case("condition: contain with a number", "job", "list", cond("status", 5, "contain"), DBQ, "decoding to str")
case("condition: contain with null", "job", "list", cond("status", NULL, "contain"), DBQ, "decoding to str")
case("condition: contain_in with numbers", "job", "list", cond("status", { 5 }, "contain_in"), DBQ, "decoding to str")
case("condition: regex with a number", "job", "list", cond("status", 5, "regex"), DBQ, "has to be a string")
case("condition: regex_in with a boolean", "job", "list", cond("status", { true }, "regex_in"), DBQ, "has to be a string")
case("condition: int field with letters", "job", "list", cond("total_tasks", "abc", "eq"), DBQ, "invalid literal for int()")
case("condition: int field with a dict", "job", "list", cond("total_tasks", { a = 1 }, "gt"), DBQ, "int() argument")
case("condition: int field with 400 digits is a number", "job", "list",
     cond("total_tasks", string.rep("9", 400), "lt"), "OK", nil, function(r) return #r.results == NJOBS end)

-- ---- 4. special numbers
case("NaN value", "job", "list", cond("total_tasks", 0 / 0, "eq"), I, "NaN")
case("+infinity value", "job", "list", cond("total_tasks", 1 / 0, "lt"), I, "NaN")
case("-infinity value", "job", "list", cond("total_tasks", -1 / 0, "gt"), I, "NaN")
case("NaN inside an in list", "job", "list", cond("total_tasks", { 1, 0 / 0 }, "in"), I, "NaN")
case("NaN page limit", "job", "list", q{ page = { limit = 0 / 0 } }, I, "NaN")
case("infinite page start", "job", "list", q{ page = { start = 1 / 0 } }, I, "NaN")
case("NaN sweep timeout", "store", "sweep", { timeout_hours = 0 / 0 }, I, "NaN")
case("infinite purge age", "store", "purge", { older_than_days = 1 / 0 }, I, "NaN")
case("NaN finish count", "job_task", "finish",
     { job_task_id = "job-task-open1", domain_id = D, status = "SUCCESS", created_count = 0 / 0 }, I, "NaN")
case("NaN inside add_error additional", "job_task", "add_error",
     { job_task_id = "job-task-open1", domain_id = D, error_code = "E", additional = { x = 0 / 0 } }, I, "NaN")
case("NaN stat limit", "job", "stat", q{ aggregate = { { limit = 0 / 0 } } }, I, "NaN")
case("NaN datetime value", "job", "list", cond("created_at", 0 / 0, "datetime_gt"), I, "NaN")

-- ---- 5. sort / only / page / keyword / flags
case("sort a string", "job", "list", q{ sort = "status" }, T, "query.sort")
case("sort item a string", "job", "list", q{ sort = { "status" } }, T, "query.sort")
case("sort key a number", "job", "list", q{ sort = { { key = 5 } } }, T, "query.sort.key")
case("sort desc a string", "job", "list", q{ sort = { { key = "status", desc = "yes" } } }, T, "query.sort.desc")
case("sort unknown key", "job", "list", q{ sort = { { key = "nope" } } }, DBQ, RESOLVE)
case("sort key holding SQL", "job", "list", q{ sort = { { key = "created_at; DROP TABLE job" } } }, DBQ, RESOLVE)
case("sort key holding SQL (CASE)", "job", "list",
     q{ sort = { { key = "(CASE WHEN 1 THEN job_id END)" } } }, DBQ, RESOLVE)
case("sort key with a quote in a path", "job", "list", q{ sort = { { key = 'filter.a"' } } }, DBQ, RESOLVE)
case("sort free-form path with SQL is data", "job", "list",
     q{ sort = { { key = "filter.x') --" } } }, "OK", nil, function(r) return #r.results == NJOBS end)
case("sort with 10,000 keys", "job", "list", q{ sort = list(10000, function() return { key = "job_id" } end) }, I, "at most 64 keys")
case("only a string", "job", "list", q{ only = "job_id" }, T, "only")
case("only of numbers", "job", "list", q{ only = { 5 } }, T, "only")
case("only an unknown field", "job", "list", q{ only = { "job_id", "nope" } }, DBQ, RESOLVE)
case("only an entry holding SQL", "job", "list", q{ only = { "job_id, (SELECT 1)" } }, DBQ, RESOLVE)
case("only an entry holding SQL (2)", "job", "list", q{ only = { "status) FROM job --" } }, DBQ, RESOLVE)
case("only a free-form path holding SQL is data", "job", "list", q{ only = { "filter.x') --" } }, "OK", nil,
     function(r) return #r.results == NJOBS and next(r.results[1]) == nil end)
case("only an invalid UTF-8 entry", "job", "list", q{ only = { BAD_UTF8 } }, I, "UTF-8")
case("page a string", "job", "list", q{ page = "1" }, T, "query.page")
case("page start a string", "job", "list", q{ page = { start = "1" } }, T, "query.page.start")
case("page limit a boolean", "job", "list", q{ page = { limit = true } }, T, "query.page.limit")
case("page limit a fraction", "job", "list", q{ page = { limit = 2.5 } }, T, "query.page.limit")
case("page start negative", "job", "list", q{ page = { start = -5, limit = 2 } }, I, "negative")
case("page limit negative", "job", "list", q{ page = { limit = -1 } }, I, "negative")
case("page start 1e300", "job", "list", q{ page = { start = 1e300 } }, T, "query.page.start")
case("page start 2^63", "job", "list", q{ page = { start = 2 ^ 63, limit = 1 } }, T, "query.page.start")
case("page unknown key", "job", "list", q{ page = { start = 1, size = 5 } }, I, "Unknown parameter")
case("page start 2^62 works", "job", "list", q{ page = { start = 2 ^ 62, limit = 1000 } }, "OK", nil,
     function(r) return #r.results == 0 and r.total_count == NJOBS end)
case("page limit 2^62 is refused, not cut", "job", "list", q{ page = { limit = 2 ^ 62 } }, I,
     "at most 1000 rows per page")
case("keyword a number", "job", "list", q{ keyword = 5 }, T, "query.keyword")
case("keyword a list", "job", "list", q{ keyword = { "a" } }, T, "query.keyword")
case("keyword invalid UTF-8", "job", "list", q{ keyword = BAD_UTF8 }, I, "UTF-8")
case("keyword of 524,288 tokens", "job", "list", q{ keyword = string.rep("a ", 512 * 1024) }, I, "Too many keywords")
case("keyword holding SQL is data", "job", "list", q{ keyword = "%' OR '1'='1" }, "OK", nil, empty)
case("count_only a string", "job", "list", q{ count_only = "yes" }, T, "count_only")
case("minimal a number", "job", "list", q{ minimal = 1 }, T, "minimal")
case("unwind a string", "job_task", "list", q{ unwind = "errors", only = { "errors" } }, DBQ, "dict")
case("unwind path holding SQL", "job_task", "list",
     q{ unwind = { path = "errors; DROP TABLE job" }, only = { "errors" } }, DBQ, RESOLVE)

-- ---- 6. stat: aggregate stages, group keys and fields, distinct
local function stat(query) return q(query) end
local function grp(keys, fields) return stat{ aggregate = { { group = { keys = keys, fields = fields } } } } end
case("stat: no query", "job", "stat", { domain_id = D }, R, "query")
case("stat: query a string", "job", "stat", q("x"), T, "query")
case("stat: neither aggregate nor distinct", "job", "stat", stat{}, R, "aggregate")
case("stat: aggregate a string", "job", "stat", stat{ aggregate = "x" }, DBQ, "key = aggregate, type = list")
case("stat: aggregate a number", "job", "stat", stat{ aggregate = 5 }, DBQ, "key = aggregate, type = list")
case("stat: a stage that is a string", "job", "stat", stat{ aggregate = { "group" } }, DBQ, "Required parameter")
case("stat: an empty stage", "job", "stat", stat{ aggregate = { {} } }, DBQ, "Required parameter")
case("stat: an unknown stage", "job", "stat", stat{ aggregate = { { drop = {} } } }, DBQ, "Required parameter")
case("stat: 65 stages", "job", "stat", stat{ aggregate = list(65, function() return { limit = 5 } end) }, DBQ, "at most 64 stages")
case("stat: group keys a string", "job", "stat", grp("status"), DBQ, "aggregate.group.keys")
case("stat: group key a number", "job", "stat", grp({ 5 }), DBQ, "requires a key")
case("stat: group key without a name", "job", "stat", grp({ { key = "status" } }), DBQ, "requires a name")
case("stat: group fields a string", "job", "stat", grp({ { key = "status", name = "s" } }, "x"), DBQ, "aggregate.group.fields")
case("stat: group field without a name", "job", "stat",
     grp({ { key = "status", name = "s" } }, { { operator = "count" } }), DBQ, "requires a name")
case("stat: group field operator unknown", "job", "stat",
     grp({ { key = "status", name = "s" } }, { { name = "n", operator = "drop" } }), DBQ, "not supported")
case("stat: group field operator holding SQL", "job", "stat",
     grp({ { key = "status", name = "s" } }, { { name = "n", operator = "count(*)); DROP TABLE job; --" } }), DBQ, "not supported")
case("stat: 1000 group keys", "job", "stat",
     grp(list(1000, function(i) return { key = "status", name = "k" .. i } end)), DBQ, "at most 64")
case("stat: group key holding SQL is a missing field", "job", "stat",
     grp({ { key = "status) FROM job; --", name = "s" } }, { { name = "n", operator = "count" } }), "OK", nil,
     function(r) return #r.results == 1 and r.results[1].n == NJOBS and r.results[1].s == nil end)
case("stat: group name holding SQL is a name", "job", "stat",
     grp({ { key = "status", name = 's"; DROP TABLE job; --' } }, { { name = "n", operator = "count" } }), "OK", nil,
     function(r) return #r.results == 4 and r.results[1]['s"; DROP TABLE job; --'] ~= nil end)
case("stat: field name holding SQL is a name", "job", "stat",
     grp({ { key = "status", name = "s" } }, { { name = "c'); DROP TABLE job; --", operator = "count" } }), "OK", nil,
     function(r) return r.results[1]["c'); DROP TABLE job; --"] ~= nil end)
case("stat: field key holding SQL sums nothing", "job", "stat",
     grp({ { key = "status", name = "s" } }, { { name = "n", operator = "sum", key = "total_tasks) --" } }), "OK", nil,
     function(r) for _, x in ipairs(r.results) do if x.n ~= 0 then return false end end return true end)
case("stat: date_format holding SQL is a format", "job", "stat",
     stat{ aggregate = { { group = { keys = { { key = "created_at", name = "d", date_format = "%Y'); DROP TABLE job; --" } } } } } },
     "OK", nil, function(r) return r.results[1].d == "2024'); DROP TABLE job; --" end)
case("stat: date_format a number", "job", "stat",
     stat{ aggregate = { { group = { keys = { { key = "created_at", name = "d", date_format = 5 } } } } } }, DBQ, "date_format")
case("stat: count name a number", "job", "stat", stat{ aggregate = { { count = { name = 5 } } } }, DBQ, "aggregate.count.name")
case("stat: count name holding SQL is a name", "job", "stat",
     stat{ aggregate = { { count = { name = 'x"); DROP TABLE job; --' } } } }, "OK", nil,
     function(r) return r.results[1]['x"); DROP TABLE job; --'] == NJOBS end)
case("stat: sort a string", "job", "stat", stat{ aggregate = { { sort = "x" } } }, DBQ, "aggregate.sort")
case("stat: sort desc a string", "job", "stat", stat{ aggregate = { { sort = { { key = "status", desc = "y" } } } } }, DBQ, "aggregate.sort.desc")
case("stat: limit a string", "job", "stat", stat{ aggregate = { { limit = "5" } } }, DBQ, "limit")
case("stat: limit negative", "job", "stat", stat{ aggregate = { { limit = -5 } } }, DBQ, "limit")
case("stat: skip negative", "job", "stat", stat{ aggregate = { { skip = -1 } } }, DBQ, "skip")
case("stat: skip a fraction", "job", "stat", stat{ aggregate = { { skip = 1.5 } } }, DBQ, "skip")
case("stat: project fields a string", "job", "stat", stat{ aggregate = { { project = { fields = "x" } } } }, DBQ, "aggregate.project.fields")
case("stat: project 17 levels deep", "job", "stat", stat{ aggregate = {
       { group = { keys = { { key = "status", name = "s" } }, fields = { { name = "n", operator = "count" } } } },
       { project = { fields = { { name = "x", operator = "add", fields = (function()
         local f = { "n", 1 }
         for _ = 1, 17 do f = { "n", { operator = "add", fields = f } } end
         return f end)() } } } } } }, DBQ, "16 levels")
case("stat: unwind path a number", "job_task", "stat", stat{ aggregate = { { unwind = { path = 5 } } } }, DBQ, "aggregate.unwind.path")
case("stat: unwind path holding SQL", "job_task", "stat",
     stat{ aggregate = { { unwind = { path = "errors); DROP TABLE job; --" } } } }, DBQ, RESOLVE)
case("stat: distinct a number", "job", "stat", stat{ distinct = 5 }, T, "query.distinct")
case("stat: distinct holding SQL is a missing field", "job", "stat", stat{ distinct = "status FROM job --" }, "OK", nil, empty)
case("stat: page start negative", "job", "stat", stat{ aggregate = { { count = { name = "n" } } }, page = { start = -1 } }, I, "negative")
case("stat: sort key holding SQL", "job", "stat", stat{ aggregate = {
       { group = { keys = { { key = "status", name = "s" } }, fields = { { name = "n", operator = "count" } } } },
       { sort = { { key = "n) --" } } } } }, DBQ, RESOLVE)
case("stat: unknown key in a group stage", "job", "stat",
     stat{ aggregate = { { group = { keys = { { key = "status", name = "s" } }, bogus = 1 } } } }, DBQ, "Unknown parameter")
case("stat: unknown key in an unwind stage", "job_task", "stat",
     stat{ aggregate = { { unwind = { path = "errors", bogus = 1 } } } }, DBQ, "Unknown parameter")
case("stat: unknown query key", "job", "stat", stat{ aggregate = { { count = { name = "n" } } }, bogus = 1 }, I, "query.bogus")
case("stat: filter with an unknown key", "job", "stat",
     stat{ aggregate = { { count = { name = "n" } } }, filter = { { k = "nope", v = 1, o = "eq" } } }, DBQ, RESOLVE)

-- ---- 7. analyze: group_by, fields, select, field_group
local function an(query) return q(query) end
local CNT = { n = { operator = "count" } }
case("analyze: no query", "job", "analyze", { domain_id = D }, R, "query")
case("analyze: unknown query key", "job", "analyze", an{ group_by = { "status" }, fields = CNT, bogus = 1 }, I, "query.bogus")
case("analyze: no fields", "job", "analyze", an{ group_by = { "status" } }, R, "query.fields")
case("analyze: fields a string", "job", "analyze", an{ fields = "x" }, T, "query.fields")
case("analyze: fields a list", "job", "analyze", an{ fields = { "x" } }, T, "query.fields")
case("analyze: a field without operator", "job", "analyze", an{ fields = { n = {} } }, R, "query.fields.operator")
case("analyze: a field operator a number", "job", "analyze", an{ fields = { n = { operator = 5 } } }, R, "query.fields.operator")
case("analyze: a field a string", "job", "analyze", an{ fields = { n = "count" } }, T, "query.fields")
case("analyze: sum without key", "job", "analyze", an{ fields = { n = { operator = "sum" } } }, R, "query.fields.key")
case("analyze: unknown operator", "job", "analyze", an{ fields = { n = { operator = "drop", key = "status" } } }, DBQ, "not supported")
case("analyze: push fields a string", "job", "analyze",
     an{ group_by = { "status" }, fields = { n = { operator = "push", fields = "x" } } }, T, "query.fields.fields")
case("analyze: group_by a string", "job", "analyze", an{ group_by = "status", fields = CNT }, T, "group_by")
case("analyze: group_by item a number", "job", "analyze", an{ group_by = { 5 }, fields = CNT }, I, "group_by")
case("analyze: group_by item without key", "job", "analyze", an{ group_by = { { name = "x" } }, fields = CNT }, I, "requires a key and name")
case("analyze: group_by item with a numeric name", "job", "analyze", an{ group_by = { { key = "status", name = 5 } }, fields = CNT }, I, "requires a key and name")
case("analyze: field_group a string", "job", "analyze", an{ field_group = "status", group_by = { "status" }, fields = CNT }, T, "field_group")
case("analyze: field_group of numbers", "job", "analyze", an{ field_group = { 5 }, group_by = { "status" }, fields = CNT }, T, "field_group")
case("analyze: field_group _total_", "job", "analyze", an{ field_group = { "_total_x" }, group_by = { "status" }, fields = CNT }, I, "_total_")
case("analyze: select a string", "job", "analyze", an{ select = "x", group_by = { "status" }, fields = CNT }, T, "query.select")
case("analyze: select operator unknown", "job", "analyze",
     an{ select = { x = { operator = "drop", fields = { "n" } } }, group_by = { "status" }, fields = CNT }, I, "query.select.operator")
case("analyze: select without fields", "job", "analyze",
     an{ select = { x = { operator = "add" } }, group_by = { "status" }, fields = CNT }, R, "query.select.fields")
case("analyze: sort a string", "job", "analyze", an{ group_by = { "status" }, fields = CNT, sort = "n" }, T, "query.sort")
case("analyze: page limit negative", "job", "analyze", an{ group_by = { "status" }, fields = CNT, page = { limit = -1 } }, I, "negative")
case("analyze: group_by holding SQL is a missing field", "job", "analyze",
     an{ group_by = { "status; DROP TABLE job" }, fields = CNT }, "OK", nil,
     function(r) return #r.results == 1 and r.results[1].n == NJOBS end)
case("analyze: group_by name holding SQL is a name", "job", "analyze",
     an{ group_by = { { key = "status", name = 'x"; DROP TABLE job; --' } }, fields = CNT }, "OK", nil,
     function(r) return r.results[1]['x"; DROP TABLE job; --'] ~= nil end)
case("analyze: field name holding SQL is a name", "job", "analyze",
     an{ fields = { ['n"); DROP TABLE job; --'] = { operator = "count" } } }, "OK", nil,
     function(r) return r.results[1]['n"); DROP TABLE job; --'] == NJOBS end)
case("analyze: field key holding SQL sums nothing", "job", "analyze",
     an{ fields = { n = { operator = "sum", key = "total_tasks); DROP TABLE job; --" } } }, "OK", nil,
     function(r) return r.results[1].n == 0 end)
case("analyze: push field path holding SQL pushes nothing", "job", "analyze",
     an{ group_by = { "status" }, fields = { n = { operator = "push", fields = { a = "job_id); --" } } } }, "OK", nil,
     function(r) return r.results[1].n[1].a == nil end)

-- ---- 8. deep nesting (10,000 levels) and huge arrays
case("10,000-level query", "job", "list", q(nest(10000)), I, NESTING)
case("10,000-level filter value", "job", "list", cond("filter", nest(10000), "eq"), I, NESTING)
case("10,000-level list value", "job", "list", cond("filter", nest(10000, "list"), "eq"), I, NESTING)
case("10,000-level match value", "job_task", "list", cond("errors", nest(10000), "match"), I, NESTING)
case("10,000-level aggregate", "job", "stat", stat{ aggregate = { nest(10000) } }, I, NESTING)
case("10,000-level analyze fields", "job", "analyze", an{ fields = nest(10000) }, I, NESTING)
case("10,000-level add_error additional", "job_task", "add_error",
     { job_task_id = "job-task-open1", domain_id = D, error_code = "E", additional = nest(10000) }, I, NESTING)
case("10,000-level create tasks", "job", "create",
     { domain_id = D, collector_id = "collector-h", tasks = { nest(10000) } }, I, NESTING)
case("10,000-level import record", "job", "import",
     { records = { { job_id = "job-deep01", domain_id = D, filter = nest(10000) } } }, I, NESTING)
case("in with 100,000 elements works", "job", "list",
     cond("job_id", list(100000, function(i) return "job-" .. i end), "in"), "OK", nil, empty)
case("not_in with 100,000 elements works", "job", "list",
     cond("job_id", list(100000, function(i) return "job-" .. i end), "not_in"), "OK", nil,
     function(r) return #r.results == NJOBS end)
case("in with 100,000 elements on a nested key", "job", "list",
     cond("filter.a", list(100000, function(i) return i end), "in"), I, "at most 1000")
case("contain_in with 1001 elements", "job", "list",
     cond("job_id", list(1001, function(i) return "x" .. i end), "contain_in"), I, "at most 1000")
case("not_contain_in with 1001 elements", "job", "list",
     cond("job_id", list(1001, function(i) return "x" .. i end), "not_contain_in"), I, "at most 1000")
case("regex_in with 1001 elements", "job", "list",
     cond("job_id", list(1001, function(i) return "x" .. i end), "regex_in"), I, "at most 1000")
case("match in with 1001 elements", "job_task", "list",
     cond("errors", { error_code__in = list(1001, function(i) return "E" .. i end) }, "match"), I, "at most 1000")
case("1001 filter conditions", "job", "list",
     q{ filter = list(1001, function() return { k = "status", v = "x", o = "not" } end) }, I, "at most 1000")
-- work that grew faster than the request: each is refused up front
case("a 1025-byte key", "job", "list", cond("filter." .. ("a"):rep(1018), "x", "eq"), DBQ, RESOLVE)
case("a key of 33 segments", "job", "list", cond("filter" .. (".a"):rep(32), "x", "eq"), DBQ, RESOLVE)
case("a sort key of 16,000 segments", "job", "list", q{ sort = { { key = "filter" .. (".a"):rep(16000) } } },
     DBQ, RESOLVE)
case("3 x 1000-element in on a nested key (3000 predicates)", "job", "list",
     q{ filter = list(3, function() return { k = "filter.a", v = list(1000, function(i) return i end), o = "not_in" } end) },
     I, "at most 2000 times")
case("match of 3 keys x 1000 values", "job_task", "list",
     cond("errors", { additional__k1__nin = list(1000, function(i) return i end),
                      additional__k2__nin = list(1000, function(i) return i end),
                      additional__k3__in = list(1000, function(i) return i end) }, "match"), I, "at most 2000 times")
case("in on a whole object field with 1001 values", "job", "list",
     cond("filter", list(1001, function(i) return { a = i } end), "in"), I, "at most 1000 elements")
case("only with 257 keys", "job", "list", q{ only = list(257, function() return "job_id" end) }, I, "At most 256 keys")
case("only with 17 keys inside one field", "job", "list",
     q{ only = list(17, function(i) return "filter.k" .. i end) }, I, "At most 16 keys inside one field")
case("only with 16 keys inside one field", "job", "list",
     q{ only = list(16, function(i) return "filter.k" .. i end) }, "OK")

-- a million values: the Lua binding refuses the request before the core sees it
case("1000 conditions x 1000-element contain_in", "job", "list",
     q{ filter = list(1000, function() return { k = "job_id", v = list(1000, function(i) return "x" .. i end),
                                                o = "contain_in" } end) }, I, "more than 1,000,000 values")
case("500 conditions x 1000-element contain_in", "job", "list",
     q{ filter = list(500, function() return { k = "job_id", v = list(1000, function(i) return "x" .. i end),
                                               o = "contain_in" } end) }, I, "at most 10000 values in all")
case("10 conditions x 400-element regex_in (4000 regular expressions)", "job", "list",
     q{ filter_or = list(10, function(j) return { k = "job_id", o = "regex_in",
        v = list(400, function(i) return "lit" .. j .. "x" .. i end) } end) }, I, "at most 1000 regular expressions")
case("100,001 in values in all", "job", "list",
     q{ filter = { { k = "job_id", o = "in", v = list(60000, function(i) return "j" .. i end) },
                   { k = "job_id", o = "not_in", v = list(40001, function(i) return "k" .. i end) } } },
     I, "at most 100000 values in all")
-- a table shared by many keys is converted at each: it counts each time
case("a table shared 2^21 times", "job", "list",
     (function() local t = { "x" } for _ = 1, 21 do t = { t, t } end
        return q{ filter = { { k = "filter.a", v = t, o = "in" } } } end)(), I, "more than 1,000,000 values")

-- ---- 9. megabyte strings
case("megabyte value in eq works", "job", "list", cond("job_id", MB, "eq"), "OK", nil, empty)
case("megabyte value in contain", "job", "list", cond("job_id", MB, "contain"), I, "at most 24000")
case("megabyte keyword", "job", "list", q{ keyword = MB }, I, "at most 24000")
case("megabyte domain_id for list works", "job", "list", { domain_id = MB }, "OK", nil, empty)
case("megabyte job_id for get", "job", "get", { domain_id = D, job_id = MB }, NF)
case("megabyte collector_id for create", "job", "create", { domain_id = D, collector_id = MB }, I, "longer than")
case("megabyte sort key", "job", "list", q{ sort = { { key = MB } } }, DBQ, RESOLVE)
case("megabyte only entry", "job", "list", q{ only = { MB } }, DBQ, RESOLVE)
case("megabyte regex", "job", "list", cond("job_id", MB, "regex"), DBQ, "too large")
case("megabyte group name", "job", "stat", grp({ { key = "status", name = MB } }, { { name = "n", operator = "count" } }), "OK", nil,
     function(r) return #r.results == 4 and r.results[1][MB] ~= nil end)
case("megabyte field name", "job", "analyze", an{ fields = { [MB] = { operator = "count" } } }, "OK", nil,
     function(r) return r.results[1][MB] == NJOBS end)

-- ---- 10. regular expressions
case("regex that does not compile", "job", "list", cond("job_id", "(", "regex"), DBQ, "Regular expression is invalid")
case("regex nested 5000 deep", "job", "list",
     cond("job_id", string.rep("(a", 5000) .. string.rep(")", 5000), "regex"), DBQ, "Regular expression is invalid")
case("regex with invalid UTF-8", "job", "list", cond("job_id", "\xc3(", "regex"), I, "UTF-8")
case("regex recursion", "job", "list", cond("collector_id", "(?R)?a", "regex"), "OK", nil, empty)
case("regex on an unknown key is an error (DESIGN)", "job", "list", cond("nope", "x", "regex"), DBQ,
     'Cannot resolve field "nope"')
case("regex_in on an unknown key is an error (DESIGN)", "job", "list", cond("nope", { "x" }, "regex_in"), DBQ,
     'Cannot resolve field "nope"')

-- ---- 11. datetimes
for _, v in ipairs{ "yesterday", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
                    "2024-01-01T25:00:00Z", "2024-01-01T00:61:00Z", "2024-01-01T00:00:00+99:99",
                    "99999-01-01T00:00:00Z", "-2024-01-01T00:00:00Z", "2024-01-01T00:00:00Q", "" } do
  case("datetime_gt " .. string.format("%q", v), "job", "list", cond("created_at", v, "datetime_gt"), I, "ISO 8601")
end
case("datetime_lt a number", "job", "list", cond("created_at", 1704067200000, "datetime_lt"), I, "ISO 8601")
case("datetime_gt a list", "job", "list", cond("created_at", { "2024-01-01T00:00:00Z" }, "datetime_gt"), "ERROR_OPERATOR_VALUE_TYPE")
case("eq on a datetime with garbage", "job", "list", cond("created_at", "yesterday", "eq"), I, "not a datetime")
case("lt on a datetime with a bad day", "job", "list", cond("finished_at", "2024-02-30", "lt"), I, "not a datetime")
case("in on a datetime with garbage", "job", "list", cond("created_at", { "2024-01-01T00:00:00Z", "x" }, "in"), I, "not a datetime")
case("timediff garbage", "job", "list", cond("created_at", "now-5y", "timediff_gt"), DBQ, "timediff_gt operator is invalid")
case("timediff overflowing", "job", "list", cond("created_at", "now-99999999999999999999d", "timediff_lt"), DBQ, "invalid")
case("timediff a number", "job", "list", cond("created_at", 5, "timediff_gt"), DBQ, "invalid")
case("import with a bad datetime", "job", "import",
     { records = { { job_id = "job-baddate", domain_id = D, created_at = "tomorrow" } } }, I, "records.created_at")

-- ---- 12. the write methods' parameters
local OPEN = "job-task-open1"
local function fin(t) t.job_task_id = t.job_task_id or OPEN; t.domain_id = D; return t end
case("create: no collector_id", "job", "create", { domain_id = D }, R, "collector_id")
case("create: collector_id a dict", "job", "create", { domain_id = D, collector_id = { a = 1 } }, T, "collector_id")
case("create: collector_id with NUL", "job", "create", { domain_id = D, collector_id = "c\0d" }, I, "NUL")
case("create: collector_id of 41 characters", "job", "create", { domain_id = D, collector_id = string.rep("c", 41) }, I, "longer than")
case("create: unknown key", "job", "create", { domain_id = D, collector_id = "c", drop = 1 }, I, "drop")
case("create: resource_group unknown", "job", "create", { domain_id = D, collector_id = "c", resource_group = "PROJECT" }, I, "resource_group")
case("create: plugin_id a number", "job", "create", { domain_id = D, collector_id = "c", plugin_id = 5 }, T, "plugin_id")
case("create: tasks a string", "job", "create", { domain_id = D, collector_id = "c", tasks = "x" }, T, "tasks")
case("create: tasks a dict", "job", "create", { domain_id = D, collector_id = "c", tasks = { a = 1 } }, T, "tasks")
case("create: a task a number", "job", "create", { domain_id = D, collector_id = "c", tasks = { 5 } }, T, "tasks")
case("create: a task with an unknown key", "job", "create", { domain_id = D, collector_id = "c", tasks = { { foo = 1 } } }, I, "tasks.foo")
case("create: a good task then a bad one", "job", "create",
     { domain_id = D, collector_id = "c", tasks = { { secret_id = "s" }, { secret_id = true } } }, T, "secret_id")
case("create: sub_tasks 0", "job", "create", { domain_id = D, collector_id = "c", tasks = { { sub_tasks = 0 } } }, I, "sub_tasks")
case("create: sub_tasks 2^40", "job", "create", { domain_id = D, collector_id = "c", tasks = { { sub_tasks = 2 ^ 40 } } }, I, "sub_tasks")
case("create: sub_tasks a string", "job", "create", { domain_id = D, collector_id = "c", tasks = { { sub_tasks = "3" } } }, I, "sub_tasks")
case("finish: no job_task_id", "job_task", "finish", { domain_id = D, status = "SUCCESS" }, R, "job_task_id")
case("finish: job_task_id a number", "job_task", "finish", fin{ job_task_id = 5, status = "SUCCESS" }, T, "job_task_id")
case("finish: no status", "job_task", "finish", fin{}, R, "status")
case("finish: status unknown", "job_task", "finish", fin{ status = "DONE" }, I, "status")
case("finish: status lower case", "job_task", "finish", fin{ status = "success" }, I, "status")
case("finish: status a number", "job_task", "finish", fin{ status = 1 }, T, "status")
case("finish: created_count a string", "job_task", "finish", fin{ status = "SUCCESS", created_count = "5" }, T, "created_count")
case("finish: created_count a fraction", "job_task", "finish", fin{ status = "SUCCESS", created_count = 1.5 }, T, "created_count")
case("finish: created_count a boolean", "job_task", "finish", fin{ status = "SUCCESS", created_count = true }, T, "created_count")
case("finish: failure_count 2^70", "job_task", "finish", fin{ status = "FAILURE", failure_count = 2 ^ 70 }, T, "failure_count")
case("finish: unknown key", "job_task", "finish", fin{ status = "SUCCESS", drop = 1 }, I, "drop")
case("finish: a finished task", "job_task", "finish", fin{ job_task_id = "job-task-001", status = "SUCCESS" }, "ERROR_JOB_TASK_STATE_CHANGE")
case("finish: an id holding SQL", "job_task", "finish", fin{ job_task_id = "x' OR '1'='1", status = "SUCCESS" }, NF)
case("add_error: no error_code", "job_task", "add_error", fin{ message = "m" }, R, "error_code")
case("add_error: error_code a number", "job_task", "add_error", fin{ error_code = 5 }, T, "error_code")
case("add_error: error_code with NUL", "job_task", "add_error", fin{ error_code = "E\0F" }, I, "NUL")
case("add_error: message a number", "job_task", "add_error", fin{ error_code = "E", message = 5 }, T, "message")
case("add_error: message a dict", "job_task", "add_error", fin{ error_code = "E", message = { a = 1 } }, T, "message")
case("add_error: additional a string", "job_task", "add_error", fin{ error_code = "E", additional = "x" }, T, "additional")
case("add_error: additional a list", "job_task", "add_error", fin{ error_code = "E", additional = { 1, 2 } }, T, "additional")
case("add_error: unknown key", "job_task", "add_error", fin{ error_code = "E", x = 1 }, I, "Unknown parameter")
case("add_error: unknown task", "job_task", "add_error", fin{ job_task_id = "job-task-nope", error_code = "E" }, NF)
case("start: unknown key", "job_task", "start", fin{ status = "IN_PROGRESS" }, I, "Unknown parameter")
case("start: job_task_id a list", "job_task", "start", fin{ job_task_id = { OPEN } }, T, "job_task_id")
case("cancel: no job_id", "job", "cancel", { domain_id = D }, R, "job_id")
case("cancel: a finished job", "job", "cancel", { domain_id = D, job_id = "job-aaa111" }, "ERROR_JOB_STATE_CHANGE")
case("delete: job_id a list", "job", "delete", { domain_id = D, job_id = { "job-aaa111" } }, T, "job_id")
case("delete: unknown key", "job", "delete", { domain_id = D, job_id = "job-aaa111", force = true }, I, "force")
case("delete: an id holding SQL", "job", "delete", { domain_id = D, job_id = "job-aaa111' OR '1'='1" }, NF)
case("get: unknown key", "job", "get", { domain_id = D, job_id = "job-aaa111", x = 1 }, I, "Unknown parameter")
case("sweep: timeout a string", "store", "sweep", { timeout_hours = "2" }, T, "timeout_hours")
case("sweep: timeout negative", "store", "sweep", { timeout_hours = -1 }, I, "timeout_hours")
case("sweep: timeout 1e300", "store", "sweep", { timeout_hours = 1e300 }, I, "timeout_hours")
case("sweep: unknown key", "store", "sweep", { x = 1 }, I, "Unknown parameter")
case("purge: age a boolean", "store", "purge", { older_than_days = true }, T, "older_than_days")
case("purge: age negative", "store", "purge", { older_than_days = -1 }, I, "older_than_days")
case("purge: domain_id a number", "store", "purge", { domain_id = 5 }, T, "domain_id")
case("import: records a string", "job", "import", { records = "x" }, T, "records")
case("import: a record a number", "job", "import", { records = { 5 } }, T, "records")
case("import: a record without id", "job", "import", { records = { { domain_id = D } } }, R, "records.job_id")
case("import: an id already stored", "job", "import", { records = { { job_id = "job-aaa111", domain_id = D } } }, "ERROR_SAVE_UNIQUE_VALUES")
case("import: the same id twice", "job", "import",
     { records = { { job_id = "job-twice1", domain_id = D }, { job_id = "job-twice1", domain_id = D } } }, "ERROR_SAVE_UNIQUE_VALUES")
case("import: a good record then a bad one", "job", "import",
     { records = { { job_id = "job-good01", domain_id = D }, { job_id = "job-bad001" } } }, R, "records.domain_id")
case("import: a bad status", "job", "import", { records = { { job_id = "job-st0001", domain_id = D, status = "WAT" } } }, I, "records.status")
case("import: a counter a string", "job", "import",
     { records = { { job_id = "job-ct0001", domain_id = D, total_tasks = "x" } } }, T, "records.total_tasks")
case("import: an unknown field", "job", "import", { records = { { job_id = "job-uk0001", domain_id = D, drop = 1 } } }, I, "records.drop")

-- ---- 13. another domain's ids: not found, nothing leaks
local function d2(t) t.domain_id = D; return t end
case("other domain: job.get", "job", "get", d2{ job_id = "job-d2d2d2" }, NF)
case("other domain: job.delete", "job", "delete", d2{ job_id = "job-d2d2d2" }, NF)
case("other domain: job.cancel", "job", "cancel", d2{ job_id = "job-d2d2d2" }, NF)
case("other domain: job_task.get", "job_task", "get", d2{ job_task_id = "job-task-d2d2" }, NF)
case("other domain: job_task.delete", "job_task", "delete", d2{ job_task_id = "job-task-d2d2" }, NF)
case("other domain: job_task.start", "job_task", "start", d2{ job_task_id = "job-task-d2d2" }, NF)
case("other domain: job_task.add_error", "job_task", "add_error", d2{ job_task_id = "job-task-d2d2", error_code = "E" }, NF)
case("other domain: job_task.finish", "job_task", "finish", d2{ job_task_id = "job-task-d2d2", status = "SUCCESS" }, NF)
case("other domain: list by id", "job", "list", cond("job_id", "job-d2d2d2", "eq"), "OK", nil, empty)
case("other domain: list by collector", "job", "list", cond("collector_id", SECRET, "eq"), "OK", nil, empty)
case("other domain: task list by id", "job_task", "list", cond("job_task_id", "job-task-d2d2", "eq"), "OK", nil, empty)
case("other domain: keyword", "job", "list", q{ keyword = "d2d2" }, "OK", nil, empty)
case("other domain: regex on everything", "job", "list", cond("collector_id", ".*", "regex"), "OK", nil,
     function(r) for _, x in ipairs(r.results) do if x.domain_id ~= D then return false end end return true end)
case("other domain: stat distinct", "job", "stat", stat{ distinct = "collector_id" }, "OK", nil,
     function(r) for _, v in ipairs(r.results) do if v == SECRET then return false end end return true end)
case("other domain: analyze", "job", "analyze", an{ group_by = { "collector_id" }, fields = CNT }, "OK", nil,
     function(r) for _, x in ipairs(r.results) do if x.collector_id == SECRET then return false end end return true end)

-- ===================== running them =====================

local function fmt(v)
  local s = tostring(v)
  return #s > 300 and s:sub(1, 300) .. "..." or s
end

describe("hostile requests", function()
  local inv, before

  setup(function()
    inv = fixture()
    before = snapshot(inv)
  end)
  teardown(function() inv:close() end)

  it("has at least 150 bad requests", function()
    assert.is_true(#CASES >= 150, #CASES .. " cases")
  end)

  for i, c in ipairs(CASES) do
    it(("%d. %s -> %s"):format(i, c.name, c.code), function()
      local t0 = os.clock()
      local ok, res, msg, code, class = pcall(inv.call, inv, c.res, c.method, c.req)
      local dt = os.clock() - t0
      assert(ok, "raised: " .. fmt(res))
      if c.code == "OK" then
        assert(res ~= nil, "failed: " .. tostring(code) .. " " .. fmt(msg))
        if c.check then assert(c.check(res), "unexpected result") end
      else
        assert(res == nil, "succeeded, expected " .. c.code)
        assert(code == c.code, "code " .. tostring(code) .. " (" .. fmt(msg) .. "), expected " .. c.code)
        assert(type(msg) == "string" and #msg > 0, "no message")
        -- every hostile request is the caller's fault: a 4xx, never a 500
        assert(class == "client", "class " .. tostring(class) .. " (" .. fmt(msg) .. "), expected client")
        if c.msg then assert(msg:find(c.msg, 1, true), "message " .. fmt(msg) .. " lacks " .. c.msg) end
        assert(not msg:find(SECRET, 1, true), "message leaks another domain's data: " .. fmt(msg))
      end
      assert(dt < 2 * TIME_SCALE, ("took %.2f s"):format(dt))
      assert(snapshot(inv) == before, "the store changed")
    end)
  end
end)

-- ===================== outside the table =====================

describe("hostile requests: misuse raises, it never crashes", function()
  it("a request that is not a table raises a Lua error", function()
    local inv = fixture()
    for _, v in ipairs{ "x", 5, true } do
      assert.is_false(pcall(inv.call, inv, "job", "list", v))
      assert.is_false(pcall(inv.job.list, v))
    end
    assert.is_false(pcall(inv.job.list))
    inv:close()
  end)
end)

-- Is s valid UTF-8? (no utf8 library in LuaJIT)
local function utf8_ok(s)
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    local k = c < 0x80 and 0 or (c >= 0xC2 and c < 0xE0) and 1 or (c >= 0xE0 and c < 0xF0) and 2
              or (c >= 0xF0 and c < 0xF5) and 3 or nil
    if not k then return false end
    for j = i + 1, i + k do
      local d = s:byte(j)
      if not d or d < 0x80 or d > 0xBF then return false end
    end
    i = i + k + 1
  end
  return true
end

describe("messages stay UTF-8", function()
  it("a message that quotes a cut key or value is valid UTF-8", function()
    local inv = H.open()
    for _, r in ipairs{ { inv:call("job", "list", cond("a" .. ("é"):rep(200), "x", "eq")) },
                        { inv:call("job", "list", cond("job_id", ("é"):rep(300), "bogus")) },
                        { inv:call("job", "get", { domain_id = D, job_id = ("é"):rep(300) }) } } do
      assert.is_nil(r[1])
      assert.is_true(utf8_ok(r[2]), r[2])
    end
    inv:close()
  end)

  it("set_now takes milliseconds of the years 1 to 9999 only", function()
    local inv = H.open()
    for _, x in ipairs{ 0 / 0, -9.2e18, 1e300, 253402300800000 } do
      assert.is_false(pcall(inv.set_now, inv, x))
    end
    inv:set_now(253402300799999)
    local j = assert(inv.job.create{ domain_id = D, collector_id = "c" })
    assert.equal("9999-12-31T23:59:59.999Z", j.created_at)
    inv:close()
  end)
end)

describe("hostile strings as data", function()
  it("SQL, quotes, NUL-free control characters and megabyte messages round-trip as data", function()
    local inv = H.open()
    local evil = "x'); DROP TABLE job; --"
    local j = assert(inv.job.create{ domain_id = D, collector_id = "c\"'`;--", plugin_id = evil,
                                     tasks = { { secret_id = "\t\r\n\1", project_id = "ü🙂" } } })
    assert.are.equal(evil, j.plugin_id)
    assert.are.equal("c\"'`;--", j.collector_id)
    local t = assert(inv.job_task.list{ domain_id = D }).results[1]
    assert.are.equal("\t\r\n\1", t.secret_id)
    assert.are.equal("ü🙂", t.project_id)
    local r = assert(inv.job_task.add_error{ job_task_id = t.job_task_id, domain_id = D,
                                             error_code = evil, message = MB .. "b" })
    assert.are.equal(evil, r.errors[1].error_code)
    assert.are.equal(#MB + 1, #r.errors[1].message)
    assert.are.equal(1, #assert(inv.job.list(cond("plugin_id", evil, "eq"))).results)
    inv:close()
  end)
end)

-- Catastrophic regular expressions against stored values: bounded time
-- (< 2 s), with ERROR_DB_QUERY or a result, and the store unchanged.
-- Wall-clock time: what a blocked nginx worker feels (the core's own budget is
-- wall-clock too, so CPU time would undercount on a loaded machine).
local function wall()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("l"))
  p:close()
  return t
end

describe("hostile regular expressions", function()
  local function timed(inv, key, pat, res)
    local t0 = wall()
    local r, msg, code = inv:call(res or "job", "list", cond(key, pat, "regex"))
    local dt = wall() - t0
    assert(r or code == DBQ, "failed with " .. tostring(code) .. " " .. tostring(msg))
    return dt, r, msg
  end

  it('"(a+)+$" against a 100,000-character "aaaa...b" is bounded', function()
    local inv = H.open()
    local long = string.rep("a", 100000) .. "b"
    assert(inv:import("job", { { job_id = "job-long01", domain_id = D, filter = { name = long } } }))
    assert(inv:import("job_task", { { job_task_id = "job-task-long1", job_id = "job-long01", domain_id = D,
                                      errors = { { error_code = "E", message = long } } } }))
    local before = snapshot(inv)
    for _, c in ipairs{ { "filter.name", "(a+)+$" }, { "filter.name", "(a|aa)+$" }, { "filter.name", "^(a*)*c$" },
                        { "errors.message", "(a+)+$", "job_task" } } do
      local dt = timed(inv, c[1], c[2], c[3])
      assert(dt < 2 * TIME_SCALE, ("%s on %s took %.2f s"):format(c[2], c[1], dt))
    end
    local t0 = wall()
    local r, _, code = inv:call("job_task", "list", cond("errors", { message__iregex = "(a+)+$" }, "match"))
    assert(r or code == DBQ)
    assert(wall() - t0 < 2)
    assert.are.equal(before, snapshot(inv))
    inv:close()
  end)

  -- A backreference step compares a whole captured substring, so one match's
  -- cost grows with the square of the value's length whatever the step limit.
  it("a backreference pattern against a 100,000-character value is bounded", function()
    local inv = H.open()
    assert(inv:import("job", { { job_id = "job-long02", domain_id = D,
                                 filter = { name = string.rep("a", 100000) .. "b" } } }))
    local dt = timed(inv, "filter.name", "^(a+)\\1+c")
    assert(dt < 2 * TIME_SCALE, ("the backreference pattern took %.2f s"):format(dt))
    inv:close()
  end)

  -- ... and one match is not interrupted by a budget checked between matches:
  -- a 1.4 MB value (an add_error message, an imported filter) is enough.
  it("a backreference pattern against a 1,400,000-character value is bounded", function()
    local inv = H.open()
    assert(inv:import("job", { { job_id = "job-long03", domain_id = D,
                                 filter = { name = string.rep("a", 1400000) .. "b" } } }))
    local dt = timed(inv, "filter.name", "^(a+)\\1+c")
    assert(dt < 2 * TIME_SCALE, ("the backreference pattern took %.2f s"):format(dt))
    inv:close()
  end)

  -- A step limit per match bounds one row: a pattern that stays just under it
  -- on every value must still be bounded over many rows.
  it('"(a+)+$" against 1000 values of 17 "a"s and a "b" is bounded', function()
    local inv = H.open()
    assert(inv:import("job", list(1000, function(i)
      return { job_id = ("job-%06d"):format(i), domain_id = D, filter = { name = string.rep("a", 17) .. "b" } }
    end)))
    local dt = timed(inv, "filter.name", "(a+)+$")
    assert(dt < 2 * TIME_SCALE, ("(a+)+$ over 1000 rows took %.2f s"):format(dt))
    inv:close()
  end)

  -- A time budget per regex call site still multiplies: regex_in expands to
  -- one call per pattern (up to 1000), and so does a filter of regex
  -- conditions. The whole query must stay bounded.
  it("regex_in of 40 slow patterns over 2000 values is bounded", function()
    local inv = H.open()
    assert(inv:import("job", list(2000, function(i)
      return { job_id = ("job-%06d"):format(i), domain_id = D, filter = { name = string.rep("a", 15) .. "b" } }
    end)))
    local pats = list(40, function(i) return "(a+)+$" .. string.rep(" ?", i) end)
    local t0 = wall()
    local r, msg, code = inv:call("job", "list", cond("filter.name", pats, "regex_in"))
    local dt = wall() - t0
    assert(r or code == DBQ, "failed with " .. tostring(code) .. " " .. tostring(msg))
    assert(dt < 2 * TIME_SCALE, ("regex_in of 40 patterns took %.2f s"):format(dt))
    t0 = wall()
    r, msg, code = inv:call("job", "list", q{ filter_or = list(40, function(i)
      return { k = "filter.name", v = pats[i], o = "regex" } end) })
    dt = wall() - t0
    assert(r or code == DBQ, "failed with " .. tostring(code) .. " " .. tostring(msg))
    assert(dt < 2 * TIME_SCALE, ("40 regex conditions took %.2f s"):format(dt))
    inv:close()
  end)
end)

-- The core caps a filter at 1000 conditions (INV_MAX_CONDS) and says so for
-- 1001; the cap itself must then work.
describe("hostile limits", function()
  it("a filter of exactly 1000 conditions (the documented maximum) works", function()
    local inv = fixture()
    for _, where in ipairs{ "filter", "filter_or" } do
      local r, msg, code = inv:call("job", "list",
        q{ [where] = list(1000, function() return { k = "status", v = "x", o = "not" } end) })
      assert(r, where .. ": " .. tostring(code) .. " " .. tostring(msg))
    end
    inv:close()
  end)
end)
