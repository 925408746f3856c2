-- spec/analyze_spec.lua: analyze (AnalyzeQuery, Job only) on the Appendix A
-- dataset: reference/query.md section 5 (group_by, fields, select,
-- field_group, sort, page and "more"), its worked examples and the analyze
-- edge cases 62-69.
--
-- Analyze validates its own shape with its own codes (ERROR_REQUIRED_PARAMETER,
-- ERROR_INVALID_PARAMETER, raised directly), then runs as a stat pipeline
-- whose errors are wrapped ERROR_DB_QUERY. Where the reference has a QUIRK,
-- the `it` says whether we FOLLOW or FIX it, per DESIGN.md.
local H = require "spec.helper"
local cjson = require "cjson"

local J1, J2, J3, J4 = "job-aaa111", "job-bbb222", "job-ccc333", "job-ddd444"
local DBQ = "Database query failed. "
local IS54 = math.type ~= nil
local GROUP_OPS = "['count', 'sum', 'average', 'max', 'min', 'first', 'last', 'push', "
  .. "'add_to_set', 'merge_objects']"
local SELECT_OPS = "['add', 'subtract', 'multiply', 'divide', 'size', 'sum']"

local inv

local ok, fails = H.ok, H.fails
local function analyze(q, res, req)
  req = req or {}
  req.domain_id = req.domain_id or "domain-1"
  req.query = q
  return inv:call(res or "job", "analyze", req)
end
local function AN(q) return ok(analyze(q)) end
local function raw(q) return ok(inv:call("job", "analyze", { domain_id = "domain-1", query = q }, true)) end
local function json(q) return cjson.decode(raw(q)) end
local function col(r, name)
  local out = {}
  for i, row in ipairs(r.results) do out[i] = row[name] end
  return out
end
local function required(key, ...)
  assert.are.equal("Required parameter. (key = " .. key .. ")", fails("ERROR_REQUIRED_PARAMETER", ...))
end
local function invalid(key, reason, ...)
  assert.are.equal("Parameter is invalid. (key = " .. key .. ", reason = " .. reason .. ")",
                   fails("ERROR_INVALID_PARAMETER", ...))
end
local function wrapped(inner, ...)
  assert.are.equal(DBQ .. "(reason = " .. inner .. ")", fails("ERROR_DB_QUERY", ...))
end
-- an inner ERROR_DB_QUERY (the reference wrapped it twice): wrapped once
local function nested(inner, ...)
  assert.are.equal(DBQ .. "(reason = " .. inner .. ")", fails("ERROR_DB_QUERY", ...))
end
local COUNT = { count = { operator = "count" } }

describe("analyze", function()
  setup(function() inv = H.canonical() end)
  teardown(function() inv:close() end)

  -- ============================================================ edge cases
  describe("edge cases 62-69 (reference/query.md)", function()
    it("62: the page example of 5.7: limit 2 gives more: true", function()
      local r = AN({ group_by = { "status" }, fields = COUNT, sort = { { key = "status" } }, page = { limit = 2 } })
      assert.are.same({ results = { { status = "CANCELED", count = 1 }, { status = "FAILURE", count = 1 } }, more = true }, r)
      assert.are.equal('{"results":[{"status":"CANCELED","count":1},{"status":"FAILURE","count":1}],"more":true}',
                       raw({ group_by = { "status" }, fields = COUNT, sort = { { key = "status" } }, page = { limit = 2 } }))
    end)

    it("62: start 3, limit 2 gives the last two rows and more: false", function()
      local r = AN({ group_by = { "status" }, fields = COUNT, sort = { { key = "status" } },
                     page = { start = 3, limit = 2 } })
      assert.are.same({ results = { { status = "IN_PROGRESS", count = 1 }, { status = "SUCCESS", count = 1 } },
                        more = false }, r)
    end)

    it("63: through the Job API a page limit always exists (default 1000): more is always there, total_count never", function()
      local r = AN({ group_by = { "status" }, fields = COUNT })
      assert.is_false(r.more)
      assert.is_nil(r.total_count)
      local j = json({ group_by = { "status" }, fields = COUNT })
      assert.is_false(j.more)
      assert.is_nil(j.total_count)
    end)

    it("63: the default limit is the store's page_limit", function()
      local small = H.open{ page_limit = 3 }
      ok(small:import("job", H.JOBS))
      local r = ok(small:call("job", "analyze", { domain_id = "domain-1", query = {
        group_by = { "status" }, fields = COUNT, sort = { { key = "status" } } } }))
      assert.are.same({ { "CANCELED", "FAILURE", "IN_PROGRESS" }, true }, { col(r, "status"), r.more })
      local res, msg, code, class = small:call("job", "analyze", { domain_id = "domain-1", query = {
        group_by = { "status" }, fields = COUNT, sort = { { key = "status" } }, page = { limit = 50 } } })
      assert.are.same({ "ERROR_INVALID_PARAMETER", "client" }, { code, class })   -- refused, not cut
      assert.is_nil(res)
      assert.truthy(msg:find("at most 3 rows per page", 1, true), msg)
      small:close()
    end)

    it("64: a string group_by is named by its last dot segment", function()
      -- v2 jobs have no errors: the key is missing (left out of the row)
      assert.are.same({ { count = 4 } }, json({ group_by = { "errors.error_code" }, fields = COUNT }).results)
      assert.are.same({ "collector-1", "collector-2" },
                      col(AN({ group_by = { "collector_id" }, fields = COUNT, sort = { { key = "collector_id" } } }),
                          "collector_id"))
    end)

    it("64: an object group_by needs key and name; other types are invalid", function()
      invalid("group_by", "group_by option requires a key and name.", analyze({ group_by = { { key = "collector_id" } }, fields = COUNT }))
      invalid("group_by", "group_by option requires a key and name.", analyze({ group_by = { { name = "c" } }, fields = COUNT }))
      invalid("group_by", "group_by option requires a key and name.",
              analyze({ group_by = { { key = "", name = "c" } }, fields = COUNT }))
      invalid("group_by", "group_by option should be dict or str type.", analyze({ group_by = { 5 }, fields = COUNT }))
    end)

    it("65: fields is required; operator, key and push fields are checked in that order", function()
      required("query.fields", analyze({ group_by = { "status" } }))
      required("query.fields.operator", analyze({ fields = { n = { key = "x" } } }))
      required("query.fields.key", analyze({ fields = { n = { operator = "sum" } } }))
      required("query.fields.fields", analyze({ fields = { n = { operator = "push" } } }))
      required("query.fields.fields", analyze({ fields = { n = { operator = "push", fields = {} } } }))
    end)

    it("66: the select example of 5.5: only the selected names appear", function()
      local r = AN({ group_by = { { key = "collector_id", name = "collector" } },
                     fields = { tasks = { operator = "sum", key = "total_tasks" }, jobs = { operator = "count" } },
                     select = { collector = "collector", avg_tasks = { operator = "divide", fields = { "tasks", "jobs" } } },
                     sort = { { key = "collector" } } })
      assert.are.same({ { collector = "collector-1", avg_tasks = 4.0 }, { collector = "collector-2", avg_tasks = 1.0 } },
                      r.results)
      if IS54 then assert.are.equal("float", math.type(r.results[1].avg_tasks)) end
    end)

    it("66: select operator pow is invalid; an operator without key or fields is required", function()
      invalid("query.select.operator", "supported_operator = " .. SELECT_OPS,
              analyze({ group_by = { "status" }, fields = COUNT, select = { x = { operator = "pow" } } }))
      required("query.select.fields", analyze({ group_by = { "status" }, fields = COUNT, select = { x = { operator = "add" } } }))
      required("query.select.fields",
               analyze({ group_by = { "status" }, fields = COUNT, select = { x = { operator = "add", fields = {} } } }))
    end)

    it("67: the field_group example of 5.6: _total_count and count as {value, status}", function()
      local r = AN({ group_by = { "collector_id", "status" }, field_group = { "status" }, fields = COUNT,
                     sort = { { key = "count", desc = true } } })
      assert.are.equal(2, #r.results)
      assert.is_false(r.more)
      local by = {}
      for _, row in ipairs(r.results) do by[row.collector_id] = row end
      assert.are.equal(2, by["collector-1"]._total_count)
      assert.are.equal(2, by["collector-2"]._total_count)
      local function statuses(row)
        local out = {}
        for i, x in ipairs(row.count) do assert.are.equal(1, x.value); out[i] = x.status end
        table.sort(out)
        return out
      end
      assert.are.same({ "FAILURE", "SUCCESS" }, statuses(by["collector-1"]))
      assert.are.same({ "CANCELED", "IN_PROGRESS" }, statuses(by["collector-2"]))
      -- as the reference: the key, then _total_F before F
      local text = raw({ group_by = { "collector_id", "status" }, field_group = { "status" }, fields = COUNT,
                         sort = { { key = "collector_id" } } })
      assert.truthy(text:find('^{"results":%[{"collector_id":"collector%-1","_total_count":2,"count":%[{"value":1,'), text)
    end)

    it("67: a field_group entry starting with _total_ is invalid", function()
      invalid("field_group", "Field group keys cannot contain _total_ characters.",
              analyze({ group_by = { "status" }, field_group = { "_total_x" }, fields = COUNT }))
    end)

    it("68: push with a fields map builds {outname: value} objects", function()
      local r = AN({ group_by = { "collector_id" }, fields = { jobs = { operator = "push", fields = { id = "job_id", st = "status" } } },
                     sort = { { key = "collector_id" } } })
      assert.are.same({ { id = J1, st = "SUCCESS" }, { id = J2, st = "FAILURE" } }, r.results[1].jobs)
      assert.are.same({ { id = J3, st = "IN_PROGRESS" }, { id = J4, st = "CANCELED" } }, r.results[2].jobs)
    end)

    it("69: keyword bbb narrows the documents (keyword over job_id)", function()
      assert.are.same({ { status = "FAILURE", count = 1 } },
                      AN({ keyword = "bbb", group_by = { "status" }, fields = COUNT }).results)
    end)
  end)

  -- ================================================================ fields
  describe("fields", function()
    it("every group operator", function()
      local r = AN({ group_by = { "collector_id" }, sort = { { key = "collector_id" } }, fields = {
        n = { operator = "count" }, t = { operator = "sum", key = "total_tasks" },
        a = { operator = "average", key = "total_tasks" }, mx = { operator = "max", key = "created_at" },
        mn = { operator = "min", key = "total_tasks" }, f = { operator = "first", key = "job_id" },
        l = { operator = "last", key = "job_id" }, p = { operator = "push", key = "status" },
        s = { operator = "add_to_set", key = "plugin_id" }, m = { operator = "merge_objects", key = "filter" } } })
      assert.are.same({ collector_id = "collector-1", n = 2, t = 8, a = 4.0, mx = "2024-01-02T00:00:00.000Z", mn = 3,
                        f = J1, l = J2, p = { "SUCCESS", "FAILURE" }, s = { "plugin-aws" }, m = {} }, r.results[1])
      if IS54 then
        assert.are.same({ "integer", "integer", "float" },
                        { math.type(r.results[1].n), math.type(r.results[1].t), math.type(r.results[1].a) })
      end
    end)

    it("count ignores its key; conditions are not part of analyze (ignored)", function()
      assert.are.same({ { n = 4 } }, AN({ fields = { n = { operator = "count", key = "nope",
        conditions = { { key = "status", value = "SUCCESS", operator = "eq" } } } } }).results)
    end)

    it("an operator outside the group set is a wrapped ERROR_DB_QUERY", function()
      nested("'aggregate.group.fields' condition's median operator is not supported. (supported_operator = "
             .. GROUP_OPS .. ")", analyze({ fields = { m = { operator = "median", key = "total_tasks" } } }))
    end)

    it("fields {} with group_by gives the key tuples; with nothing to group it is a wrapped Required", function()
      assert.are.same({ { status = "CANCELED" }, { status = "FAILURE" }, { status = "IN_PROGRESS" }, { status = "SUCCESS" } },
                      AN({ group_by = { "status" }, fields = {}, sort = { { key = "status" } } }).results)
      wrapped("Required parameter. (key = aggregate.group.keys || aggregate.group.fields)", analyze({ fields = {} }))
    end)

    it("an empty input gives no rows (FOLLOW), with more: false", function()
      assert.are.same({ results = {}, more = false },
                      AN({ filter = { { k = "status", v = "NOPE", o = "eq" } }, fields = COUNT }))
      assert.are.equal('{"results":[],"more":false}', raw({ filter = { { k = "status", v = "NOPE", o = "eq" } }, fields = COUNT }))
    end)
  end)

  -- ============================================================== group_by
  describe("group_by", function()
    it("strings and {key, name} objects mix", function()
      local r = AN({ group_by = { "plugin_id", { key = "collector_id", name = "c" } }, fields = COUNT,
                     sort = { { key = "c", desc = true } } })
      assert.are.same({ { plugin_id = "plugin-gcp", c = "collector-2", count = 2 },
                        { plugin_id = "plugin-aws", c = "collector-1", count = 2 } }, r.results)
    end)

    it("two paths ending in the same segment collide: the later one groups (QUIRK: FOLLOW)", function()
      -- the group id is a dict: {status: $errors.status} replaces {status: $status}
      assert.are.same({ { count = 4 } }, json({ group_by = { "status", "errors.status" }, fields = COUNT }).results)
    end)

    it("a null key is a group of its own (kept in JSON)", function()
      local j = json({ group_by = { "finished_at" }, fields = COUNT, sort = { { key = "finished_at" } } })
      assert.are.equal(4, #j.results)
      assert.are.same({ finished_at = cjson.null, count = 1 }, j.results[1])
      assert.are.equal("2024-01-01T00:10:00.000Z", j.results[2].finished_at)   -- dates as ISO (QUIRK: FIX)
    end)
  end)

  -- ================================================================ select
  describe("select", function()
    local base = { group_by = { "collector_id" }, sort = { { key = "collector_id" } },
                   fields = { t = { operator = "sum", key = "total_tasks" }, n = { operator = "count" },
                              ids = { operator = "push", key = "job_id" } } }
    local function sel(select, extra)
      local q = {}
      for k, v in pairs(base) do q[k] = v end
      for k, v in pairs(extra or {}) do q[k] = v end
      q.select = select
      return analyze(q)
    end

    it("copies fields and keys under new names, drops the rest", function()
      local r = ok(sel({ c = "collector_id", tasks = "t" }, { sort = { { key = "c" } } }))
      assert.are.same({ { c = "collector-1", tasks = 8 }, { c = "collector-2", tasks = 2 } }, r.results)
    end)

    it("add, subtract, multiply, divide with numbers and nested expressions", function()
      local r = ok(sel({ c = "collector_id",
        add = { operator = "add", fields = { "t", "n", 10 } },
        sub = { operator = "subtract", fields = { "t", "n" } },
        mul = { operator = "multiply", fields = { "t", 0.5 } },
        div = { operator = "divide", fields = { "t", "n" } },
        nest = { operator = "divide", fields = { { operator = "add", fields = { "t", 2 } },
                                                 { operator = "multiply", fields = { "n", 5 } } } } },
        { sort = { { key = "c" } } }))
      assert.are.same({ c = "collector-1", add = 20, sub = 6, mul = 4.0, div = 4.0, nest = 1.0 }, r.results[1])
      assert.are.same({ c = "collector-2", add = 14, sub = 0, mul = 1.0, div = 1.0, nest = 0.4 }, r.results[2])
    end)

    it("size and sum take a key", function()
      local r = ok(sel({ c = "collector_id", k = { operator = "size", key = "ids" }, s = { operator = "sum", key = "t" } },
                       { sort = { { key = "c" } } }))
      assert.are.same({ { c = "collector-1", k = 2, s = 8 }, { c = "collector-2", k = 2, s = 2 } }, r.results)
    end)

    it("key wins over fields: an arithmetic operator with a key is a wrapped error", function()
      nested("'aggregate.project.fields' condition requires a fields: {\"name\":\"x\",\"operator\":\"add\",\"key\":\"t\"}",
             sel({ x = { operator = "add", key = "t", fields = { "t", 1 } } }))
      nested("'aggregate.project.fields' condition requires a key: {\"name\":\"x\",\"operator\":\"size\",\"fields\":[\"ids\"]}",
             sel({ x = { operator = "size", fields = { "ids" } } }))
    end)

    it("a spec neither string nor object is skipped; nothing left is a wrapped Required", function()
      local r = ok(sel({ c = "collector_id", x = 5 }, { sort = { { key = "c" } } }))
      assert.are.same({ { c = "collector-1" }, { c = "collector-2" } }, r.results)
      wrapped("Required parameter. (key = aggregate.project.fields)", sel({ x = 5 }, { sort = {} }))
    end)

    it("sort applies to the selected names", function()
      local r = ok(sel({ c = "collector_id", avg = { operator = "divide", fields = { "t", "n" } } },
                       { sort = { { key = "avg" } } }))
      assert.are.same({ "collector-2", "collector-1" }, col(r, "c"))
    end)

    it("divide by zero is a wrapped ERROR_DB_QUERY", function()
      wrapped("can't $divide by zero", sel({ x = { operator = "divide", fields = { "t", 0 } } }, { sort = {} }))
    end)
  end)

  -- =========================================================== field_group
  describe("field_group", function()
    it("_total_ of sum and count is a sum, of max a max, of min a min", function()
      local r = AN({ group_by = { "plugin_id", "status" }, field_group = { "status" },
                     fields = { t = { operator = "sum", key = "total_tasks" }, n = { operator = "count" },
                                mx = { operator = "max", key = "total_tasks" }, mn = { operator = "min", key = "total_tasks" },
                                ids = { operator = "push", key = "job_id" } },
                     sort = { { key = "plugin_id" } } })
      local aws = r.results[1]
      assert.are.same({ "plugin-aws", 8, 2, 5, 3 }, { aws.plugin_id, aws._total_t, aws._total_n, aws._total_mx, aws._total_mn })
      assert.is_nil(aws._total_ids)                              -- push has no total
      assert.are.equal(2, #aws.ids)
      assert.are.equal(1, #aws.ids[1].value)
    end)

    it("_total_ of an average is the unweighted mean of the averages (QUIRK: FOLLOW)", function()
      -- collector-1: SUCCESS avg 3, FAILURE avg 5; collector-2 with a 3-job group would weigh in
      local r = AN({ group_by = { "plugin_id", "collector_id" }, field_group = { "collector_id" },
                     fields = { a = { operator = "average", key = "total_tasks" } }, sort = { { key = "plugin_id" } } })
      assert.are.same({ 4.0, 1.0 }, col(r, "_total_a"))
      r = AN({ filter = { { k = "job_id", v = { J1, J2, J3 }, o = "in" } }, group_by = { "status", "plugin_id" },
               field_group = { "status" }, fields = { a = { operator = "average", key = "total_tasks" } },
               sort = { { key = "plugin_id" } } })
      assert.are.same({ 4.0, 2.0 }, col(r, "_total_a"))
    end)

    it("sort keys naming a field become _total_<field>", function()
      local r = AN({ group_by = { "collector_id", "status" }, field_group = { "status" },
                     fields = { t = { operator = "sum", key = "total_tasks" } }, sort = { { key = "t" } } })
      assert.are.same({ "collector-2", "collector-1" }, col(r, "collector_id"))
      assert.are.same({ 2, 8 }, col(r, "_total_t"))
    end)

    it("every key in field_group: one row holding the pivots", function()
      local r = AN({ group_by = { "status" }, field_group = { "status" }, fields = COUNT })
      assert.are.equal(1, #r.results)
      assert.are.equal(4, r.results[1]._total_count)
      assert.are.equal(4, #r.results[1].count)
    end)

    it("the 5.1 shape example runs: select drops what the pivot pushes (FOLLOW the pipeline order of 5.8)", function()
      local r = AN({ group_by = { "status", { key = "collector_id", name = "collector" } }, field_group = { "status" },
                     fields = { count = { operator = "count" }, tasks = { operator = "sum", key = "total_tasks" },
                                jobs = { operator = "push", fields = { id = "job_id", st = "status" } } },
                     select = { collector = "collector", avg = { operator = "divide", fields = { "tasks", "count" } } },
                     sort = { { key = "count", desc = true } }, page = { start = 1, limit = 10 } })
      assert.are.same({ "collector-1", "collector-2" }, (function()
        local c = col(r, "collector"); table.sort(c); return c end)())
      assert.are.same({ 0, 0 }, col(r, "_total_count"))
      assert.is_false(r.more)
    end)
  end)

  -- ========================================================= sort and page
  describe("sort and page", function()
    it("sorts on keys and fields, several keys, desc", function()
      local r = AN({ group_by = { "plugin_id", "status" }, fields = { t = { operator = "sum", key = "total_tasks" } },
                     sort = { { key = "plugin_id", desc = true }, { key = "t" } } })
      assert.are.same({ "CANCELED", "IN_PROGRESS", "SUCCESS", "FAILURE" }, col(r, "status"))
    end)

    it("an unknown sort key is an ERROR_DB_QUERY (DESIGN: unknown sort keys are errors)", function()
      nested('Cannot resolve field "nope"', analyze({ group_by = { "status" }, fields = COUNT, sort = { { key = "nope" } } }))
    end)

    it("start 0 is 1; a start past the end gives [] and more: false", function()
      local r = AN({ group_by = { "status" }, fields = COUNT, sort = { { key = "status" } }, page = { start = 0, limit = 1 } })
      assert.are.same({ { "CANCELED" }, true }, { col(r, "status"), r.more })
      r = AN({ group_by = { "status" }, fields = COUNT, page = { start = 9, limit = 1 } })
      assert.are.same({ results = {}, more = false }, r)
    end)

    it("limit equal to the row count: more is false", function()
      assert.is_false(AN({ group_by = { "status" }, fields = COUNT, page = { limit = 4 } }).more)
      assert.is_true(AN({ group_by = { "status" }, fields = COUNT, page = { limit = 3 } }).more)
    end)
  end)

  -- ============================================================ the request
  describe("request", function()
    it("checks run in the reference's order: query, fields, domain_id, field_group, group_by, fields, select, pipeline", function()
      required("query", inv:call("job", "analyze", { domain_id = "domain-1" }))
      required("query.fields", inv:call("job", "analyze", { query = { group_by = { 5 } } }))
      required("domain_id", inv:call("job", "analyze", { query = { group_by = { 5 }, fields = {} } }))
      invalid("field_group", "Field group keys cannot contain _total_ characters.",
              analyze({ field_group = { "_total_" }, group_by = { 5 }, fields = { n = {} } }))
      invalid("group_by", "group_by option should be dict or str type.",
              analyze({ group_by = { 5 }, fields = { n = {} } }))
      required("query.fields.operator", analyze({ fields = { n = {} }, select = { x = { operator = "pow" } } }))
      invalid("query.select.operator", "supported_operator = " .. SELECT_OPS,
              analyze({ fields = { n = { operator = "median", key = "x" } }, select = { x = { operator = "pow" } } }))
      nested("'aggregate.group.fields' condition's median operator is not supported. (supported_operator = "
             .. GROUP_OPS .. ")", analyze({ fields = { n = { operator = "median", key = "x" } } }))
    end)

    it("an invalid filter keeps its own code (not wrapped)", function()
      fails("ERROR_OPERATOR_LIST_VALUE_TYPE",
            analyze({ filter = { { k = "status", v = "x", o = "in" } }, fields = COUNT }))
      assert.are.equal(DBQ .. "(reason = Cannot resolve field \"nope\")",
                       fails("ERROR_DB_QUERY", analyze({ filter = { { k = "nope", v = "x", o = "eq" } }, fields = COUNT })))
    end)

    it("filter, filter_or and keyword narrow the documents", function()
      local r = AN({ filter = { { k = "collector_id", v = "collector-1", o = "eq" } },
                     filter_or = { { k = "status", v = "SUCCESS", o = "eq" }, { k = "total_tasks", v = 4, o = "gt" } },
                     group_by = { "status" }, fields = COUNT, sort = { { key = "status" } } })
      assert.are.same({ "FAILURE", "SUCCESS" }, col(r, "status"))
    end)

    it("unwind runs before the group", function()
      local v1 = H.open()
      ok(v1:import("job", { { job_id = "job-v1aaa", status = "ERROR", domain_id = "domain-v1", created_at = "2022-06-17T08:00:00.407Z",
                             errors = { { error_code = "ERROR_X", message = "boom", additional = {} },
                                        { error_code = "ERROR_Y", message = "bang", additional = {} } } },
                           { job_id = "job-v1bbb", status = "SUCCESS", domain_id = "domain-v1", created_at = "2022-06-17T08:00:01.225Z",
                             errors = { { error_code = "ERROR_X", message = "again", additional = {} } } } }))
      local r = ok(v1:call("job", "analyze", { domain_id = "domain-v1", query = {
        unwind = { path = "errors" }, group_by = { "errors.error_code" },
        fields = { n = { operator = "count" }, jobs = { operator = "push", key = "job_id" } },
        sort = { { key = "error_code" } } } }))
      assert.are.same({ { error_code = "ERROR_X", n = 2, jobs = { "job-v1aaa", "job-v1bbb" } },
                        { error_code = "ERROR_Y", n = 1, jobs = { "job-v1aaa" } } }, r.results)
      v1:close()
    end)

    it("analyze is a Job method", function()
      invalid("method", "analyze is a method of job.", analyze({ fields = COUNT }, "job_task"))
    end)

    it("an unknown query key is invalid", function()
      invalid("query.lookup", "Unknown parameter.", analyze({ fields = COUNT, lookup = {} }))
    end)

    it("output names are data: any string comes back verbatim", function()
      local evil = 'n") FROM job; --'
      local r = AN({ group_by = { { key = "status", name = "s'\"" } }, fields = { [evil] = { operator = "count" } },
                     sort = { { key = "s'\"" } }, page = { limit = 1 } })
      assert.are.same({ { ["s'\""] = "CANCELED", [evil] = 1 } }, r.results)
    end)
  end)
end)
