-- spec/messages_spec.lua: messages a person can read (issue 15, section 3).
--
-- Error codes stay the reference's (clients switch on them); every message is
-- plain English that names what the user wrote and says what is allowed. This
-- walks the issue's examples and each family of messages that was rewritten,
-- asserting the exact new text, that it quotes the user's value, and that it
-- holds no Python syntax (dict_keys, quoted lists, tuples, None, int()), no
-- message inside a message, and no internal name (analyze's stat stages, SQL,
-- MongoDB's $operators). Runs under Lua 5.4 and LuaJIT.
local H = require "spec.helper"

local DBQ = "Database query failed. "
local OPS = "lt, lte, gt, gte, eq, not, exists, contain, not_contain, in, not_in, contain_in, "
  .. "not_contain_in, match, regex, regex_in, datetime_gt, datetime_lt, datetime_gte, datetime_lte, "
  .. "timediff_gt, timediff_lt, timediff_gte, timediff_lte"
local GROUP_OPS = "count, sum, average, max, min, first, last, push, add_to_set, merge_objects"

-- what no message may hold
local FORBIDDEN = { "dict_keys", "['", "('", "None", "int()", "NoneType", "bytes-like", "'str'",
                    "$divide", "$size", "$add", "$mergeObjects", "$arrayToObject", "$regex",
                    "supported_operator", "reason = Parameter", "reason = Required",
                    "condition requires", "condition's", "_seq", "SELECT", "WITH s0" }

-- valid UTF-8 (no overlong forms, surrogates or bytes past U+10FFFF)
local function utf8_ok(s)
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    local len, lo, hi
    lo, hi = 0x80, 0xBF
    if c < 0x80 then len = 1
    elseif c >= 0xC2 and c <= 0xDF then len = 2
    elseif c >= 0xE0 and c <= 0xEF then
      len = 3
      if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F end
    elseif c >= 0xF0 and c <= 0xF4 then
      len = 4
      if c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
    else return false end
    for k = 1, len - 1 do
      local b = s:byte(i + k)
      if not b then return false end
      if k == 1 and (b < lo or b > hi) then return false end
      if k > 1 and (b < 0x80 or b > 0xBF) then return false end
    end
    i = i + len
  end
  return true
end

-- a message as it should be: no forbidden text, valid UTF-8, one level of
-- parentheses after the first sentence, "Database query failed" at most once
local function plain(msg)
  assert.is_string(msg)
  for _, f in ipairs(FORBIDDEN) do
    assert.is_nil(msg:find(f, 1, true), "message holds " .. f .. ": " .. msg)
  end
  assert.is_true(utf8_ok(msg), "message is not UTF-8: " .. msg)
  local _, n = msg:gsub("Database query failed", "")
  assert.is_true(n <= 1, "a message inside a message: " .. msg)
  assert.is_nil(msg:find("Parameter is invalid%. %(.-Parameter"), msg)
  return msg
end

-- the call failed with code; its message is plain and equals want (when
-- given) and quotes every string of has
local function failed(code, want, has, r, msg, got)
  assert.is_nil(r, "expected " .. code)
  assert.are.equal(code, got, msg)
  plain(msg)
  if want then assert.are.equal(want, msg) end
  for _, h in ipairs(has or {}) do assert.truthy(msg:find(h, 1, true), "lacks " .. h .. ": " .. msg) end
  return msg
end

local inv
local function list(q) return H.jobs(inv, q) end
local function tasks(q) return H.tasks(inv, q) end
local function F(k, v, o) return { filter = { { k = k, v = v, o = o } } } end
local function stat(q, res) return inv[res or "job"].stat{ domain_id = "domain-1", query = q } end
local function analyze(q) return inv.job.analyze{ domain_id = "domain-1", query = q } end
local COUNT = { n = { operator = "count" } }

describe("messages", function()
  setup(function() inv = H.canonical() end)
  teardown(function() inv:close() end)

  -- ========================================================= the issue's examples
  describe("the issue's examples", function()
    it("an unsupported operator is named, and the operators are listed plainly", function()
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.filter, reason = filter operator "lte_x" is not supported; '
             .. "use one of " .. OPS .. ".)", { '"lte_x"' }, list(F("status", "x", "lte_x")))
    end)

    it("a missing operator is said to be missing, not unsupported", function()
      local msg = failed("ERROR_DB_QUERY", DBQ .. '(key = query.filter, reason = the condition '
        .. '{"k":"status","v":"x"} has no operator; give "o" as one of ' .. OPS .. ".)", nil,
        list({ filter = { { k = "status", v = "x" } } }))
      assert.is_nil(msg:find("not supported", 1, true))
      -- the same for an empty or null operator
      for _, o in ipairs{ "", H.null or require("inventory").null } do
        msg = failed("ERROR_DB_QUERY", nil, { "has no operator" }, list({ filter = { { k = "status", v = "x", o = o } } }))
        assert.is_nil(msg:find("not supported", 1, true))
      end
    end)

    it("NOT_FOUND names each key and value, lists plainly", function()
      local NF = "Resource cannot be found or access is denied. "
      failed("ERROR_NOT_FOUND", NF .. "(job_id = job-nope, domain_id = domain-me)", nil,
             inv.job.get{ job_id = "job-nope", domain_id = "domain-me" })
      failed("ERROR_NOT_FOUND", NF .. "(job_id = job-nope, domain_id = domain-me, workspace_id = ws-1 or *)", nil,
             inv.job.get{ job_id = "job-nope", domain_id = "domain-me", workspace_id = "ws-1" })
      failed("ERROR_NOT_FOUND", NF .. "(job_task_id = jt-nope, domain_id = domain-me, workspace_id = ws-1 or *, "
             .. "project_id = p1, p2 or p3)", nil, inv.job_task.get{ job_task_id = "jt-nope", domain_id = "domain-me",
             workspace_id = "ws-1", user_projects = { "p1", "p2", "p3" } })
      failed("ERROR_NOT_FOUND", NF .. "(job_task_id = job-task-001, domain_id = domain-1, project_id = [])", nil,
             inv.job_task.get{ job_task_id = "job-task-001", domain_id = "domain-1", user_projects = {} })
      failed("ERROR_NOT_FOUND", NF .. "(job_id = job-nope, domain_id = domain-me)", nil,
             inv.job.cancel{ job_id = "job-nope", domain_id = "domain-me" })
      failed("ERROR_NOT_FOUND", NF .. "(job_task_id = jt-nope, domain_id = domain-me)", nil,
             inv.job_task.start{ job_task_id = "jt-nope", domain_id = "domain-me" })
      failed("ERROR_NOT_FOUND", NF .. "(job_id = job-nope, domain_id = domain-me)", nil,
             inv.job.delete{ job_id = "job-nope", domain_id = "domain-me" })
      -- more than 20 projects: the first 20, then how many more
      local many = {}
      for i = 1, 25 do many[i] = "p" .. i end
      failed("ERROR_NOT_FOUND", nil, { "p19, p20 or 5 more)" },
             inv.job_task.get{ job_task_id = "jt-nope", domain_id = "d", user_projects = many })
    end)

    it("a stage error is one message, not a message wrapped in another", function()
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.aggregate.sort, reason = must be a list of {key, desc} objects, '
             .. 'not "status".)', { '"status"' }, stat({ aggregate = { { sort = "status" } } }))
      failed("ERROR_DB_QUERY", DBQ .. "(key = query.aggregate.count.name, reason = is required: the name of the "
             .. "count in the results.)", nil, stat({ aggregate = { { count = {} } } }))
    end)

    it("analyze's select = {} names query.select, not the stage it becomes", function()
      local msg = failed("ERROR_DB_QUERY", DBQ .. "(key = query.select, reason = is empty: give at least one field.)",
                         nil, analyze({ group_by = { "status" }, fields = COUNT, select = {} }))
      assert.is_nil(msg:find("aggregate", 1, true))
      assert.is_nil(msg:find("project", 1, true))
    end)

    it("the colon slip and the page cap (done earlier) still read plainly", function()
      H.raises("call inv%.job%.get{%.%.%.} with a dot", function() return inv.job:get{ job_id = "x" } end)
      failed("ERROR_INVALID_PARAMETER", nil, { "key = query.page.limit", "at most 1000 rows per page" },
             list({ page = { limit = 5000 } }))
    end)
  end)

  -- ========================================================= filter conditions
  describe("filter conditions", function()
    it("a value of the wrong type for an integer field names the field and the value", function()
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.filter, reason = total_tasks holds integers, and "abc" is not '
             .. "an integer.)", { '"abc"' }, list(F("total_tasks", "abc", "eq")))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.filter, reason = total_tasks holds integers, and {"a":1} is not '
             .. "an integer.)", { '{"a":1}' }, list(F("total_tasks", { a = 1 }, "gt")))
      failed("ERROR_DB_QUERY", nil, { "key = query.filter_or", '"x"' },
             list({ filter_or = { { k = "total_tasks", v = { 1, "x" }, o = "in" } } }))
    end)

    it("text operators name themselves and the value", function()
      failed("ERROR_DB_QUERY", DBQ .. "(key = query.filter, reason = contain takes a string, not 5.)", nil,
             list(F("status", 5, "contain")))
      failed("ERROR_DB_QUERY", DBQ .. "(key = query.filter, reason = contain_in takes strings, not true.)", nil,
             list(F("status", { "a", true }, "contain_in")))
      failed("ERROR_DB_QUERY", DBQ .. "(key = query.filter, reason = regex takes a string, not 5.)", nil,
             list(F("job_id", 5, "regex")))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.filter, reason = the regular expression "a(" of regex is invalid: '
             .. "missing closing parenthesis at offset 2.)", nil, list(F("job_id", "a(", "regex")))
      failed("ERROR_DB_QUERY", DBQ .. "(reason = in a match, message__icontains takes a string, not 5.)", nil,
             tasks(F("errors", { message__icontains = 5 }, "match")))
    end)

    it("value shape errors keep their codes and show the condition as written", function()
      failed("ERROR_OPERATOR_LIST_VALUE_TYPE", 'The value of the in operator must be a list. (key = query.filter, '
             .. 'condition = {"k":"status","o":"in","v":"x"})', nil, list(F("status", "x", "in")))
      failed("ERROR_OPERATOR_VALUE_TYPE", "The value of the eq operator must not be a list; use in for a list. "
             .. '(key = query.filter, condition = {"k":"status","o":"eq","v":["x"]})', nil, list(F("status", { "x" }, "eq")))
      failed("ERROR_OPERATOR_BOOLEAN_TYPE", "The value of the exists operator must be true or false. "
             .. '(key = query.filter, condition = {"k":"status","o":"exists","v":"yes"})', nil,
             list(F("status", "yes", "exists")))
      failed("ERROR_OPERATOR_DICT_VALUE_TYPE", "The value of the match operator must be an object. "
             .. '(key = query.filter, condition = {"k":"errors","o":"match","v":"x"})', nil, tasks(F("errors", "x", "match")))
    end)

    it("times say what they take", function()
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.filter, reason = "now/x" is not a relative time for timediff_gt; '
             .. "write now, now/d, now/w or now/m, then optionally + or - a number and a unit s, m, h, d or w, "
             .. "as in now-2d.)", nil, list(F("created_at", "now/x", "timediff_gt")))
      failed("ERROR_INVALID_PARAMETER", 'Parameter is invalid. (key = created_at, reason = datetime_gt takes an ISO '
             .. '8601 datetime such as 2024-01-31T12:00:00Z, not "yesterday".)', nil, list(F("created_at", "yesterday", "datetime_gt")))
      failed("ERROR_INVALID_PARAMETER", 'Parameter is invalid. (key = created_at, reason = "yesterday" is not an ISO '
             .. "8601 datetime such as 2024-01-31T12:00:00Z.)", nil, list(F("created_at", "yesterday", "eq")))
    end)

    it("a condition without a key says so, and so does a key that is not a string", function()
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.filter, reason = the condition {"o":"eq","v":"x"} has no key; '
             .. 'give "k", the field to test.)', nil, list({ filter = { { v = "x", o = "eq" } } }))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.filter, reason = the key 5 is not a field name; give "k" as a '
             .. 'string such as "status".)', nil, list(F(5, "x", "eq")))
    end)
  end)

  -- ========================================================= request shapes
  describe("request shapes", function()
    it("a type error names the type in JSON words and shows the value", function()
      failed("ERROR_INVALID_PARAMETER_TYPE", 'Parameter type is invalid. (key = query.sort, type = list, value = "x")',
             nil, list({ sort = "x" }))
      failed("ERROR_INVALID_PARAMETER_TYPE", "Parameter type is invalid. (key = domain_id, type = string, value = 5)",
             nil, inv.job.get{ job_id = "x", domain_id = 5 })
      failed("ERROR_INVALID_PARAMETER_TYPE", "Parameter type is invalid. (key = query.filter, type = list of "
             .. 'condition objects, value = "status")', nil, list({ filter = { "status" } }))
      failed("ERROR_INVALID_PARAMETER_TYPE", 'Parameter type is invalid. (key = only, type = list of strings, value = "x")',
             nil, list({ only = "x" }))
      for _, py in ipairs{ "type = dict", "type = str)", "type = int)", "type = bool", "of dict", "of str)" } do
        local _, msg = list({ sort = { { key = "x", desc = "yes" } }, only = 5 })
        assert.is_nil(msg:find(py, 1, true), msg)
      end
    end)

    it("an unknown parameter lists the known ones", function()
      failed("ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = query.foo, reason = unknown parameter; use "
             .. "one of filter, filter_or, sort, page, minimal, count_only, only, keyword, unwind, lookup, add_fields.)",
             nil, list({ foo = 1 }))
      failed("ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = query.filter.x, reason = unknown parameter; "
             .. "use one of k, v, o, key, value, operator.)", nil, list({ filter = { { k = "status", v = "x", o = "eq", x = 1 } } }))
    end)

    it("a value outside a set names the value and the set", function()
      failed("ERROR_INVALID_PARAMETER", 'Parameter is invalid. (key = status, reason = "DONE" is not one of '
             .. "CANCELED, IN_PROGRESS, SUCCESS, FAILURE, CREATED, ERROR, TIMEOUT.)", nil,
             inv.job.list{ domain_id = "domain-1", status = "DONE" })
      failed("ERROR_INVALID_PARAMETER", 'Parameter is invalid. (key = status, reason = "DONE" is not one of SUCCESS, '
             .. "FAILURE.)", nil, inv.job_task.finish{ job_task_id = "job-task-001", domain_id = "domain-1", status = "DONE" })
      failed("ERROR_INVALID_PARAMETER", 'Parameter is invalid. (key = resource_group, reason = "X" is not one of '
             .. "DOMAIN, WORKSPACE.)", nil, inv.job.create{ domain_id = "d", collector_id = "c", resource_group = "X" })
      failed("ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = query.page.start, reason = must be 0 or more, "
             .. "not -5.)", nil, list({ page = { start = -5 } }))
    end)

    it("unwind in list says what it needs", function()
      failed("ERROR_DB_QUERY", DBQ .. "(key = query.unwind, reason = an unwind needs query.only too: the fields to "
             .. 'return for each element, such as ["job_id", "errors"].)', nil, tasks({ unwind = { path = "errors" } }))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.unwind.path, reason = "status" is not a list field; unwind takes '
             .. "errors.)", nil, tasks({ unwind = { path = "status" }, only = { "job_task_id" } }))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.unwind.filter, reason = operator "gt" is not supported here; use '
             .. "one of eq, not, in, not_in, contain, not_contain, contain_in, not_contain_in.)", nil,
             tasks({ unwind = { path = "errors", filter = { { k = "errors.error_code", v = "E", o = "gt" } } },
                     only = { "job_task_id" } }))
    end)

    it("a Lua request that is not JSON says what is wrong with it", function()
      failed("ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = query.filter, reason = a table has both list "
             .. "positions and named keys; use a list or an object, not both.)", nil,
             list({ filter = { { k = "status", v = "x", o = "eq" }, x = 1 } }))
      failed("ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = query.filter, reason = a list has a hole: "
             .. "position 2 is nil, and 3 is not.)", nil, list({ filter = { 1, nil, 3 } }))
      failed("ERROR_INVALID_PARAMETER_TYPE", "Parameter is invalid. (key = query, reason = a table has a boolean as a "
             .. "key; keys are strings, or list positions 1, 2, 3, ...)", nil, list({ [true] = 1 }))
      failed("ERROR_INVALID_PARAMETER_TYPE", "Parameter is invalid. (key = query.filter.v, reason = a function is not a "
             .. "JSON value.)", nil, list(F("status", print, "eq")))
      failed("ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = query.filter.v, reason = NaN is not a JSON number.)",
             nil, list(F("total_tasks", 0 / 0, "eq")))
    end)

    it("an unknown method or resource lists the known ones", function()
      failed("ERROR_INVALID_PARAMETER", 'Parameter is invalid. (key = method, reason = "drop" is not a method; use one '
             .. "of get, list, stat, analyze, delete, create, start, add_error, finish, cancel, import.)", nil,
             inv:call("job", "drop", { domain_id = "d" }))
      failed("ERROR_INVALID_PARAMETER", 'Parameter is invalid. (key = resource, reason = "collector" is not a resource; '
             .. "use one of job, job_task, spot_job.)", nil, inv:call("collector", "list", { domain_id = "d" }))
    end)

    it("a duplicate id on import names the key and the value", function()
      local copy = H.open()
      assert(copy:import("job", { { job_id = "job-dup", domain_id = "d" } }))
      failed("ERROR_SAVE_UNIQUE_VALUES", "Tried to save duplicate unique values. (key = job_id, value = job-dup)", nil,
             copy:import("job", { { job_id = "job-dup", domain_id = "d" } }))
      copy:close()
    end)
  end)

  -- ========================================================= stat stages
  describe("stat stages", function()
    local function G(fields, keys) return { aggregate = { { group = { keys = keys, fields = fields } } } } end
    local FIELDS = DBQ .. "(key = query.aggregate.group.fields, reason = "

    it("a group field's operator: named when unsupported, said missing when missing", function()
      failed("ERROR_DB_QUERY", FIELDS .. 'the operator "median" of field "m" is not supported; use one of '
             .. GROUP_OPS .. ".)", nil, stat(G({ { name = "m", operator = "median", key = "total_tasks" } })))
      local msg = failed("ERROR_DB_QUERY", FIELDS .. 'field "m" has no operator; use one of ' .. GROUP_OPS .. ".)",
                         nil, stat(G({ { name = "m", key = "total_tasks" } })))
      assert.is_nil(msg:find("not supported", 1, true))
    end)

    it("a field without a name or a key is named by what it has", function()
      failed("ERROR_DB_QUERY", FIELDS .. 'the field {"operator":"count"} has no name.)', nil,
             stat(G({ { operator = "count" } })))
      failed("ERROR_DB_QUERY", FIELDS .. 'field "s": sum needs a key.)', nil, stat(G({ { name = "s", operator = "sum" } })))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.aggregate.group.keys, reason = the group key {"key":"status"} has '
             .. 'no "name", its name in the results.)', nil, stat(G(nil, { { key = "status" } })))
    end)

    it("conditions name their operator and the set", function()
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.aggregate.group.fields.conditions, reason = the condition operator '
             .. '"like" of field "n" is not supported; use one of eq, not, gt, gte, lt, lte.)', nil,
             stat(G({ { name = "n", operator = "count", conditions = { { k = "status", v = "x", o = "like" } } } })))
    end)

    it("project operators, operands and arity", function()
      local PF = DBQ .. "(key = query.aggregate.project.fields, reason = "
      local function P(f) return { aggregate = { { project = { fields = { f } } } } } end
      failed("ERROR_DB_QUERY", PF .. 'the operator "pow" of field "x" is not supported; use one of size, sum, '
             .. "array_to_object, object_to_array, add, subtract, multiply, divide.)", nil,
             stat(P({ name = "x", operator = "pow", key = "total_tasks" })))
      failed("ERROR_DB_QUERY", PF .. 'field "x": divide takes exactly two values, not ["total_tasks"].)', nil,
             stat(P({ name = "x", operator = "divide", fields = { "total_tasks" } })))
      failed("ERROR_DB_QUERY", PF .. 'field "x": true is not a field name, a number or an {operator, fields} object.)',
             nil, stat(P({ name = "x", operator = "add", fields = { "total_tasks", true } })))
      local msg = failed("ERROR_DB_QUERY", PF .. 'field "x": the operation {"fields":[1]} has no operator; use one of '
                         .. "add, subtract, multiply, divide.)", nil,
                         stat(P({ name = "x", operator = "add", fields = { "total_tasks", { fields = { 1 } } } })))
      assert.is_nil(msg:find("not supported", 1, true))
    end)

    it("limit, skip, sort and the stage list name the value", function()
      failed("ERROR_DB_QUERY", DBQ .. "(key = query.aggregate.limit, reason = must be a positive integer, not 0.)", nil,
             stat({ aggregate = { { limit = 0 } } }))
      failed("ERROR_DB_QUERY", DBQ .. "(key = query.aggregate.skip, reason = must be an integer of 0 or more, not -1.)",
             nil, stat({ aggregate = { { skip = -1 } } }))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.aggregate.sort.desc, reason = must be true or false, not "yes".)',
             nil, stat({ aggregate = { { sort = { { key = "status", desc = "yes" } } } } }))
      failed("ERROR_DB_QUERY", DBQ .. "(key = query.aggregate, reason = each stage is an object with one of unwind, "
             .. 'group, count, sort, project, limit, skip; {"drop":{}} has none.)', nil, stat({ aggregate = { { drop = {} } } }))
      local many = {}
      for i = 1, 65 do many[i] = { skip = 0 } end
      failed("ERROR_DB_QUERY", DBQ .. "(key = query.aggregate, reason = a pipeline has at most 64 stages; this one has "
             .. "65.)", nil, stat({ aggregate = many }))
    end)

    it("a date format says what is wrong and what is allowed", function()
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.aggregate.group.keys.date_format, reason = "%q" is not a date format: '
             .. "%q is not a format specifier; use %Y, %m, %d, %H, %M, %S, %L, %j, %w, %u, %U, %V, %G, %z, %Z or %%.)",
             nil, stat(G(nil, { { key = "created_at", name = "d", date_format = "%q" } })))
    end)

    it("run-time errors name the operator by its name and quote the value", function()
      local function P(f) return { aggregate = { { project = { fields = { f } } } } } end
      failed("ERROR_DB_QUERY", DBQ .. "(reason = cannot divide by zero: the second value of a divide is 0)", nil,
             stat(P({ name = "x", operator = "divide", fields = { "total_tasks", 0 } })))
      failed("ERROR_DB_QUERY", nil, { "(reason = add takes numbers, not \"" }, stat(P({ name = "x", operator = "add",
             fields = { "status", 1 } })))
      failed("ERROR_DB_QUERY", nil, { "(reason = size takes a list, not \"" },
             stat(P({ name = "x", operator = "size", key = "status" })))
      failed("ERROR_DB_QUERY", nil, { "(reason = merge_objects takes objects, not \"" },
             stat(G({ { name = "m", operator = "merge_objects", key = "status" } })))
      failed("ERROR_DB_QUERY", DBQ .. '(reason = array_to_object takes objects with exactly the keys k and v, '
             .. 'not {"k":"collector-1"})', nil,
             stat({ aggregate = { { group = { fields = { { name = "a", operator = "push",
                                                           fields = { { key = "collector_id", name = "k" } } } } } },
                                  { project = { fields = { { key = "a", name = "o", operator = "array_to_object" } } } } } }))
    end)
  end)

  -- ========================================================= analyze
  describe("analyze", function()
    local function sel(s) return analyze({ group_by = { "status" }, fields = COUNT, select = s }) end

    it("stage errors name analyze's keys: fields, select, sort, unwind, group_by, field_group", function()
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.fields, reason = the operator "median" of field "m" is not '
             .. "supported; use one of " .. GROUP_OPS .. ".)", nil,
             analyze({ fields = { m = { operator = "median", key = "total_tasks" } } }))
      -- a misspelt operator is said to be one, not a missing key (count and push need none)
      for _, op in ipairs{ "cnt", "Count" } do
        failed("ERROR_DB_QUERY", DBQ .. '(key = query.fields, reason = the operator "' .. op .. '" of field "n" is not '
               .. "supported; use one of " .. GROUP_OPS .. ".)", nil,
               analyze({ group_by = { "collector_id" }, fields = { n = { operator = op } } }))
      end
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.fields, reason = field "m": sum of the datetime "created_at" is not '
             .. "supported.)", nil, analyze({ fields = { m = { operator = "sum", key = "created_at" } } }))
      failed("ERROR_DB_QUERY", DBQ .. "(key = query.fields, reason = give at least one key to group by or one field.)",
             nil, analyze({ fields = {} }))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.select, reason = field "x": divide takes exactly two values, not '
             .. '["n"].)', nil, sel({ x = { operator = "divide", fields = { "n" } } }))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.select, reason = field "x": add takes fields, a list of values, not '
             .. "a key.)", nil, sel({ x = { operator = "add", key = "n" } }))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.select, reason = field "x": the operator "pow" of an operation '
             .. "inside it is not supported; use one of add, subtract, multiply, divide.)", nil,
             sel({ x = { operator = "add", fields = { "n", { operator = "pow", fields = { 1 } } } } }))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.sort.desc, reason = must be true or false, not "yes".)', nil,
             analyze({ group_by = { "status" }, fields = COUNT, sort = { { key = "n", desc = "yes" } } }))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.unwind.path, reason = "status" is not a list field; unwind takes '
             .. "errors.)", nil, analyze({ fields = COUNT, unwind = { path = "status" } }))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.unwind.filter, reason = operator "gt" is not supported here; use '
             .. "one of eq, not, in, not_in, contain, not_contain, contain_in, not_contain_in.)", nil,
             analyze({ fields = COUNT, unwind = { path = "errors", filter = { { k = "x", v = 1, o = "gt" } } } }))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.group_by, reason = "" is not a field name: give the key to group '
             .. "by.)", nil, analyze({ fields = COUNT, group_by = { "" } }))
      failed("ERROR_DB_QUERY", DBQ .. '(key = query.field_group, reason = "" names no group_by key.)', nil,
             analyze({ fields = COUNT, group_by = { "status" }, field_group = { "" } }))
    end)

    it("analyze's own checks name the entry: query.fields.<name>, query.select.<name>", function()
      failed("ERROR_REQUIRED_PARAMETER", "Required parameter. (key = query.fields.total.key)", nil,
             analyze({ fields = { total = { operator = "sum" } } }))
      failed("ERROR_INVALID_PARAMETER", 'Parameter is invalid. (key = query.select.x.operator, reason = "pow" is not '
             .. "supported; use one of add, subtract, multiply, divide, size, sum.)", nil, sel({ x = { operator = "pow" } }))
      failed("ERROR_INVALID_PARAMETER", 'Parameter is invalid. (key = query.group_by, reason = {"key":"status"} needs a '
             .. "key and a name, both strings.)", nil, analyze({ fields = COUNT, group_by = { { key = "status" } } }))
    end)

    it("no bad value of any analyze key surfaces a stat stage's name", function()
      local BAD = { "", "x", 5, true, {}, { "x" }, { "" }, { 5 }, { x = 1 }, { {} }, { key = "x" }, { key = "" },
        { operator = "pow" }, { operator = "" }, { operator = 5 }, { operator = "add", fields = { true } },
        { operator = "add", key = "n" }, { operator = "size", fields = { "n" } }, { operator = "divide", fields = { "n" } },
        { operator = "divide", fields = { "n", 0 } }, { fields = { "n" } }, { operator = "add", fields = { "n", { operator = "pow" } } },
        { operator = "push", fields = { a = "" } }, { operator = "push", fields = { [""] = "x" } },
        { operator = "sum", key = "created_at" }, { path = "status" }, { path = "errors", filter = "x" },
        { path = "errors", filter = { { k = "x", v = 1, o = "gt" } } }, { { key = "n", desc = "yes" } }, { { key = "nope" } },
        { { key = 5 } }, { "status" }, { { key = "status", name = "" } }, { start = -1 }, { limit = 5000 } }
      local n = 0
      for _, key in ipairs{ "group_by", "fields", "select", "field_group", "sort", "page", "unwind" } do
        for _, v in ipairs(BAD) do
          for _, shape in ipairs{ "whole", "entry", "empty name" } do
            local q = { group_by = { "status" }, fields = { n = { operator = "count" } } }
            if shape == "whole" then q[key] = v
            elseif key == "fields" or key == "select" then q[key] = { [shape == "entry" and "x" or ""] = v }
            end
            local r, msg = analyze(q)
            if not r then
              n = n + 1
              plain(msg)
              for _, internal in ipairs{ "aggregate", "project", "stage", "group.", ".keys", "sub-field {" } do
                assert.is_nil(msg:find(internal, 1, true), key .. ": " .. msg)
              end
            end
          end
        end
      end
      assert.is_true(n > 200, "the sweep refused " .. n .. " requests")
    end)
  end)

  -- ========================================================= values in messages
  describe("values in messages", function()
    it("a long value is cut on a character boundary, the message stays UTF-8 and short", function()
      local long = string.rep("\195\169", 300)                     -- 300 x "é", 600 bytes
      local msg = failed("ERROR_DB_QUERY", nil, { "filter operator \"" .. string.rep("\195\169", 29) .. "...",
                                                   "is not supported" }, list(F("status", "x", long)))
      assert.is_true(#msg < 1024, msg)
      failed("ERROR_NOT_FOUND", nil, { "(job_id = " .. string.rep("\195\169", 50) .. "..., domain_id = d)" },
             inv.job.get{ job_id = long, domain_id = "d" })
      msg = failed("ERROR_DB_QUERY", nil, { "the regular expression \"" }, list(F("job_id", "(" .. long, "regex")))
      assert.is_true(#msg < 1024, msg)
      failed("ERROR_INVALID_PARAMETER", nil, { "key = query." .. string.rep("\195\169", 50) .. "..." },
             list({ [long] = 1 }))
    end)

    it("a hostile string is quoted as data", function()
      local evil = 'x"); DROP TABLE job; --'
      local msg = failed("ERROR_DB_QUERY", nil, { 'filter operator "x\\"); DROP TABLE job; --" is not supported' },
                         list(F("status", "x", evil)))
      assert.is_nil(msg:find("SQL", 1, true))
    end)
  end)

  -- ========================================================= the REST layer
  describe("through the REST renderer", function()
    it("the same plain messages reach a REST client", function()
      local rest = require "inventory.rest"
      local RF = require "spec.rest_fixture"
      local cjson = require "cjson"
      local store = RF.load(assert(require("inventory").open{ path = ":memory:" }))
      local api = rest.new{ store = store, resolver = rest.static_resolver(RF.TOKENS) }
      local token = next(RF.TOKENS)
      local headers = { authorization = "Bearer " .. token }
      local status, body = api:handle("POST", "/inventory/v1/job/list",
        '{"query":{"filter":[{"k":"status","v":"x"}]}}', headers)
      assert.are.equal(400, status)
      local msg = cjson.decode(body).error.message
      plain(msg)
      assert.truthy(msg:find("has no operator", 1, true), msg)
      status, body = api:handle("POST", "/inventory/v1/job/list", "[1,2]", headers)
      assert.are.equal(400, status)
      msg = cjson.decode(body).error.message
      assert.are.equal("Parameter type is invalid. (key = body, type = object, value = [1,2])", plain(msg))
      store:close()
    end)
  end)
end)
