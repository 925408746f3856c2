-- spec/backends_spec.lua: PostgreSQL answers as SQLite, byte for byte.
--
-- Each request below runs on a twin (spec/helper.lua, H.twin): on
-- PostgreSQL, the store under test and a SQLite :memory: store of the same
-- records answer it, and the REST texts (or the errors: message, code and
-- class) must be the same bytes. The records mix every kind of JSON value a
-- document may hold (integers, reals, booleans, strings with escapes and
-- non-ASCII text, U+0000, nulls, objects, arrays, missing fields), which is
-- where two engines would part: the order of mixed values, numbers
-- (integer or real, their digits), JSON text the engine builds, text
-- comparisons, regular expressions, date formatting.
--
-- On SQLite there is nothing to compare with: every test is skipped there.
local H = require "spec.helper"
local cjson = require "cjson"

local null = cjson.null
local D = "domain-b"

-- values of filter.v, one per job (and errors.additional.v, one per task)
local VALUES = {
  0, 1, -1, 2, 10, 9, 100, 2.5, 0.1, 0.2, 0.30000000000000004, -0.5, 1e300, 1.5e-7, 3.0,
  9007199254740993, 123456789012345678, -9223372036854775807,
  true, false, null,
  "", "a", "B", "b", "ab", "a b", "10", "9", "2.5", "true", "null",
  "é", "É", "straße", "ǅ", "日本", "🙂", "tab\there", "quote\"q", "back\\slash", "/",
  { }, { a = 1 }, { b = { c = "d" } }, { 1, 2 }, { "x", 1, true }, {}, { { k = "k1", v = 1 } },
}

local function fixture()
  local inv = H.twin()
  inv:set_now("2024-06-01T00:00:00.000Z")
  local jobs, tasks = {}, {}
  for i, v in ipairs(VALUES) do
    local id = string.format("job-%012x", i)
    -- dates over several years, weekdays and ISO weeks (year ends)
    local day = (i * 37) % 365
    local created = os.date("!%Y-%m-%dT%H:%M:%S", 1640995200 + day * 86400 + i * 3671) .. string.format(".%03dZ", (i * 7) % 1000)
    jobs[i] = { job_id = id, domain_id = D, status = ({ "SUCCESS", "FAILURE", "CANCELED", "IN_PROGRESS" })[i % 4 + 1],
                collector_id = "collector-" .. (i % 3), total_tasks = i % 5, created_at = created,
                finished_at = i % 6 ~= 0 and created or nil,
                filter = { v = v, n = i, w = (i % 2 == 0) and v or nil, tags = { i % 3, "t" .. (i % 2) } } }
    tasks[i] = { job_task_id = string.format("job-task-%012x", i), job_id = id, domain_id = D,
                 status = i % 2 == 0 and "SUCCESS" or "FAILURE", created_count = i, failure_count = i % 3,
                 provider = i % 4 == 0 and null or "p" .. (i % 3), created_at = created,
                 errors = { { error_code = "E" .. (i % 4), message = type(v) == "string" and v or "m" .. i,
                              additional = { v = v } },
                            i % 3 == 0 and { error_code = "F", message = "second", additional = {} } or nil } }
  end
  -- ISO week and year edges
  for i, d in ipairs{ "2020-12-31T23:59:59.999Z", "2021-01-01T00:00:00.000Z", "2021-01-03T12:00:00.000Z",
                      "2021-01-04T00:00:00.000Z", "2024-02-29T06:07:08.009Z", "2026-12-28T00:00:00.000Z",
                      "1969-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z" } do
    jobs[#jobs + 1] = { job_id = string.format("job-d%011x", i), domain_id = D, status = "SUCCESS",
                        collector_id = "dates", created_at = d, finished_at = d }
  end
  assert(inv:import("job", jobs))
  assert(inv:import("job_task", tasks))
  return inv
end

local function rest(inv, resource, method, query)
  return inv:call(resource, method, { domain_id = D, query = query }, true)
end

describe("PostgreSQL answers as SQLite", function()
  local inv
  setup(function() if H.PG then inv = fixture() end end)
  teardown(function() if inv then inv:close() end end)
  -- a test of this file: on PostgreSQL only (there is nothing to compare on SQLite)
  local busted_it = it
  local function it(name, f)
    busted_it(name, function() H.only("postgresql", "compares PostgreSQL's answers with SQLite's"); f() end)
  end

  local KEYS = { "filter.v", "filter.w", "filter.tags", "filter", "filter.v.a", "total_tasks", "status",
                 "finished_at", "collector_id" }

  it("list: sort by mixed values, either direction", function()
    for _, k in ipairs(KEYS) do
      for _, desc in ipairs{ false, true } do
        rest(inv, "job", "list", { sort = { { key = k, desc = desc } }, only = { "job_id", k } })
      end
    end
    for _, k in ipairs{ "errors.additional.v", "errors.message", "errors.0.additional.v", "provider" } do
      for _, desc in ipairs{ false, true } do
        rest(inv, "job_task", "list", { sort = { { key = k, desc = desc } }, only = { "job_task_id" } })
      end
    end
  end)

  it("list: every operator against every kind of value", function()
    local probes = { 0, 1, 2.5, 0.1, 0.30000000000000004, 1e300, 9007199254740993, true, false, null,
                     "", "a", "b", "10", "É", "é", "quote\"q", { a = 1 }, { 1, 2 } }
    local n = 0
    for _, k in ipairs{ "filter.v", "filter.tags", "filter", "errors.additional.v", "errors.message" } do
      local res = k:find("^errors") and "job_task" or "job"
      for _, v in ipairs(probes) do
        for _, o in ipairs{ "eq", "not", "lt", "lte", "gt", "gte", "contain", "not_contain", "exists" } do
          local vv = o == "exists" and (v ~= false and v ~= null) or v
          rest(inv, res, "list", { filter = { { k = k, v = vv, o = o } }, only = { res == "job" and "job_id" or "job_task_id" } })
          n = n + 1
        end
        for _, o in ipairs{ "in", "not_in", "contain_in", "not_contain_in" } do
          rest(inv, res, "list", { filter = { { k = k, v = { v, "a" }, o = o } }, count_only = true })
          n = n + 1
        end
      end
    end
    assert.is_true(n > 1000)
  end)

  it("list: match on errors with every suffix", function()
    for _, sfx in ipairs{ "", "__ne", "__lt", "__gte", "__in", "__nin", "__contains", "__icontains", "__startswith",
                          "__istartswith", "__endswith", "__iendswith", "__iexact", "__regex", "__iregex", "__exists" } do
      for _, v in ipairs{ "e", "E1", "m1", "É", 2.5, true } do
        local val = v
        if sfx == "__in" or sfx == "__nin" then val = { v } end
        if sfx == "__exists" then val = true end
        rest(inv, "job_task", "list", { filter = { { k = "errors", v = { ["message" .. sfx] = val }, o = "match" } },
                                        only = { "job_task_id" } })
        rest(inv, "job_task", "list", { filter = { { k = "errors", v = { ["additional.v" .. sfx] = val }, o = "match" } },
                                        only = { "job_task_id" } })
      end
    end
  end)

  it("stat: group by mixed values; sum, average, min, max, first, last, push, add_to_set, merge_objects", function()
    local ops = { "count", "sum", "average", "min", "max", "first", "last", "push", "add_to_set" }
    for _, k in ipairs(KEYS) do
      local fields = {}
      for _, op in ipairs(ops) do fields[#fields + 1] = { operator = op, key = op ~= "count" and "filter.v" or nil, name = op } end
      rest(inv, "job", "stat", { aggregate = { { group = { keys = { { key = k, name = "k" } }, fields = fields } } } })
      rest(inv, "job", "stat", { aggregate = { { group = { keys = { { key = k, name = "k" } }, fields = fields } },
                                              { sort = { key = "k" } } } })
      rest(inv, "job", "stat", { aggregate = { { group = { keys = { { key = k, name = "k" } }, fields = fields } },
                                              { sort = { key = "k", desc = true } } } })
    end
    for _, k in ipairs{ "filter.v", "filter.n", "total_tasks", "filter.tags" } do
      local fields = {}
      for _, op in ipairs(ops) do fields[#fields + 1] = { operator = op, key = op ~= "count" and k or nil, name = op } end
      rest(inv, "job", "stat", { aggregate = { { group = { fields = fields } } } })
      rest(inv, "job", "stat", { aggregate = { { group = { keys = { { key = "collector_id", name = "c" } }, fields = fields } },
                                              { sort = { key = "c" } } } })
    end
    rest(inv, "job_task", "stat", { aggregate = { { unwind = { path = "errors" } },
      { group = { keys = { { key = "errors.error_code", name = "c" } },
                  fields = { { operator = "merge_objects", key = "errors.additional", name = "m" },
                             { operator = "sum", key = "errors.additional.v", name = "s" },
                             { operator = "average", key = "errors.additional.v", name = "a" } } } },
      { sort = { key = "c" } } } })
  end)

  it("stat: project arithmetic over integers and reals; size, sum, object_to_array, array_to_object", function()
    local P = function(fields) return { project = { fields = fields } } end
    for _, op in ipairs{ "add", "subtract", "multiply", "divide" } do
      for _, pair in ipairs{ { "filter.n", 2 }, { "filter.n", 0.1 }, { "filter.v", "filter.n" }, { 0.1, 0.2 },
                             { 3, 2 }, { "total_tasks", 2.5 }, { 1e300, 10 } } do
        rest(inv, "job", "stat", { aggregate = {
          P({ { operator = op, fields = pair, name = "x" }, { key = "job_id", name = "id" } }), { sort = { key = "id" } } } })
      end
    end
    rest(inv, "job", "stat", { aggregate = { P({ { operator = "add", name = "x",
      fields = { "filter.n", { operator = "multiply", fields = { "filter.n", 0.5 } }, 1 } }, { key = "job_id", name = "id" } }),
      { sort = { key = "x" } } } })
    -- where several documents fail, which one's error comes first is the
    -- engine's order of rows (README, "PostgreSQL: differences"): failures
    -- compare by code and class
    for _, op in ipairs{ "size", "sum", "object_to_array", "array_to_object" } do
      for _, k in ipairs{ "filter.tags", "filter.v", "filter", "errors" } do
        local res = k == "errors" and "job_task" or "job"
        local req = { domain_id = D, query = { aggregate = { P({ { operator = op, key = k, name = "x" },
          { key = res == "job" and "job_id" or "job_task_id", name = "id" } }), { sort = { key = "id" } } } } }
        local a = { inv._pg:call(res, "stat", req, true) }
        local b = { inv._sqlite:call(res, "stat", req, true) }
        if a[1] or b[1] then
          assert.are.equal(b[1], a[1], op .. " " .. k)
        else
          assert.are.same({ b[3], b[4] }, { a[3], a[4] }, op .. " " .. k)
        end
      end
    end
  end)

  it("stat: match stages and distinct over mixed values", function()
    for _, v in ipairs{ 0, 2.5, "a", true, null, { a = 1 } } do
      for _, o in ipairs{ "eq", "not", "gt", "gte", "lt", "lte" } do
        rest(inv, "job", "stat", { aggregate = { { match = { { k = "filter.v", v = v, o = o } } },
                                                 { count = { name = "n" } } } })
      end
    end
    for _, k in ipairs{ "filter.v", "filter.tags", "filter", "errors.additional.v", "errors.message", "provider" } do
      rest(inv, (k:find("^errors") or k == "provider") and "job_task" or "job", "stat", { distinct = k })
    end
    rest(inv, "job_task", "stat", { distinct = "errors.additional.v" })
    rest(inv, "job_task", "stat", { distinct = "provider" })
  end)

  it("stat: date_format with every specifier, over years, weeks and their edges", function()
    for _, fmt in ipairs{ "%Y-%m-%dT%H:%M:%S.%LZ", "%j %w %u %U %V %G", "%z %Z %%", "year", "month", "day", "x%Y%",
                          "%d%w%j%u%G%V%m%Y", '"q\\%H%M%S%L%%%Y"', "%Y-%m-%d", "DD YYYY %Y" } do
      rest(inv, "job", "stat", { aggregate = { { group = { keys = { { key = "created_at", name = "d", date_format = fmt } },
                                                            fields = { { operator = "count", name = "n" } } } },
                                              { sort = { key = "d" } } } })
    end
  end)

  it("stat and analyze: a sum of a typed integer field, within int64 and beyond it", function()
    -- per domain: past the largest int64 (2^62 + 2^62 = 2^63), within it,
    -- at the smallest (-2^63 exactly) and past it; 2^62 is exact on LuaJIT too
    local p62 = 2 ^ 62
    local jobs = {}
    for d, vs in ipairs{ { p62, p62 }, { 5, 7 }, { -p62, -p62 }, { -p62, -p62, -1 } } do
      for _, v in ipairs(vs) do
        jobs[#jobs + 1] = { job_id = string.format("job-s%011x", #jobs + 1), domain_id = "domain-sum" .. (d - 1),
                            collector_id = "c", success_tasks = v, created_at = "2024-01-01T00:00:00.000Z" }
      end
    end
    assert(inv:import("job", jobs))
    for d = 0, 3 do
      local q = { domain_id = "domain-sum" .. d, query = { group_by = { "collector_id" },
        fields = { s = { operator = "sum", key = "success_tasks" }, a = { operator = "average", key = "success_tasks" } } } }
      local st = { domain_id = "domain-sum" .. d, query = { aggregate = { { group = { keys = { { key = "collector_id", name = "c" } },
        fields = { { name = "s", operator = "sum", key = "success_tasks" } } } } } } }
      for _, call in ipairs{ { "analyze", q }, { "stat", st } } do
        local a = { inv._pg:call("job", call[1], call[2], true) }
        local b = { inv._sqlite:call("job", call[1], call[2], true) }
        assert.are.same(b, a, call[1] .. " domain-sum" .. d)
        if d == 1 or d == 2 then
          assert.truthy(a[1], call[1] .. " domain-sum" .. d .. ": " .. tostring(a[2]))
          assert.matches(d == 1 and '"s":12[,}]' or '"s":%-9223372036854775808[,}]', a[1])
        else
          assert.is_nil(a[1])
          assert.are.equal("Database query failed. (reason = integer overflow)", a[2])
        end
      end
    end
  end)

  it("analyze over mixed values", function()
    for _, k in ipairs{ "filter.v", "status", "collector_id" } do
      inv:call("job", "analyze", { domain_id = D, query = { group_by = { k },
        fields = { n = { operator = "count" }, s = { operator = "sum", key = "filter.n" },
                   m = { operator = "max", key = "filter.v" } } } }, true)
    end
  end)

  it("regular expressions: what the engines read alike matches alike; the rest is refused on PostgreSQL", function()
    local PATTERNS = {
      "a", "^a", "a$", "^$", ".", "^.$", "a.b", "\\d", "\\D", "\\w+", "\\W", "\\s", "\\S", "[a-c]", "[^a-c]",
      "[\\d]", "[\\w-]", "a|b", "(a)(b)?", "(?:ab)+", "a{2}", "a{1,}", "{", "a{,2}", "x{", "}", "\\bb", "\\Bb",
      "\\Aa", "b\\z", "\\x41", "\\x{e9}", "\\.", "\\$", "[.]", "é", "É", "^.{2}$", "日", "🙂", "(a)\\1",
      "(?=a)", "(?!a)", "(?<=a)b", "(?<!a)b", "\\t", "\\n", "[[:alpha:]]", "(?i)a", "a++", "(?>a)",
      "\\p{L}", "\\Qa.b\\E", "\\h", "\\R", "x\\Z", "[\\D]", "(?<n>a)", "\\cA", "\\0", "\\101", "a*?",
      "[]a]", "[^]a]", "[a\\]]", "\\/", "\"", "\\\\", "straße", "STRASSE", "ǅ", "ǆ", "Ǆ",
    }
    local refused = 0
    -- a request on both, unless PostgreSQL refuses its pattern (then SQLite's
    -- answer is not compared: the refusal is the documented answer)
    local function check(res, cond)
      local req = { domain_id = D, query = { filter = { cond }, only = { res == "job" and "job_id" or "job_task_id" } } }
      local a = { inv._pg:call(res, "list", req, true) }
      if a[1] == nil and a[3] == "ERROR_DB_QUERY" and tostring(a[2]):find("not supported on PostgreSQL", 1, true) then
        refused = refused + 1            -- refused with a clear error, never run with another meaning
      else
        inv:call(res, "list", req, true)
      end
    end
    for _, p in ipairs(PATTERNS) do
      check("job", { k = "filter.v", v = p, o = "regex" })
      check("job_task", { k = "errors.message", v = p, o = "regex" })
      check("job_task", { k = "errors", v = { message__iregex = p }, o = "match" })
      check("job_task", { k = "errors", v = { message__regex = p }, o = "match" })
    end
    assert.is_true(refused > 0 and refused < #PATTERNS)
  end)

  -- A documented difference (README, "PostgreSQL: differences"): a string
  -- holding U+0000 in a document. SQLite compares and matches such a
  -- string only up to the U+0000 (its functions read C strings);
  -- PostgreSQL, whose text cannot hold U+0000, reads it whole, the U+0000
  -- as U+FFFF. Both store and render it as it was given.
  it("U+0000 in a document: rendered as given on both; compared up to it on SQLite, whole on PostgreSQL", function()
    local recs = { { job_id = "job-nul000000001", domain_id = D, created_at = "2024-01-01T00:00:00.000Z",
                     filter = { v = "nul\0z" } } }
    local pg, sq = inv._pg, inv._sqlite
    for _, s in ipairs{ pg, sq } do assert(s:import("job", recs)) end
    local function ids(s, cond)
      local r = assert(s:call("job", "list", { domain_id = D, query = { filter = { cond }, only = { "job_id" } } }))
      local out = {}
      for i, x in ipairs(r.results) do out[i] = x.job_id end
      return out
    end
    -- rendered as given
    local function got(s)
      return assert(s:call("job", "get", { domain_id = D, job_id = "job-nul000000001" }, true))
    end
    assert.are.equal(got(sq), got(pg))
    assert.truthy(got(pg):find('"nul\\u0000z"', 1, true))
    -- compared: whole on PostgreSQL, up to the U+0000 on SQLite
    local eq = { k = "filter.v", v = "nul\0z", o = "eq" }
    assert.are.same({ "job-nul000000001" }, ids(pg, eq))
    assert.are.same({}, ids(sq, eq))
    assert.are.same({}, ids(pg, { k = "filter.v", v = "nul", o = "eq" }))
    assert.are.same({ "job-nul000000001" }, ids(sq, { k = "filter.v", v = "nul", o = "eq" }))
  end)
end)
