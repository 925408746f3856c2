-- spec/reqcache_spec.lua: the compiled-request cache (src/inv_reqcache.c).
-- A stat request of the shape of one compiled before runs its kept SQL
-- with this request's ids in the slots; everything else must answer as a
-- compile would. Each request here runs twice: on a store that has already
-- answered others of its shape (warm: the cache answers it when it can) and
-- on a fresh connection to the same data (cold: the compilers answer it).
-- Results, REST text and errors must be the same; where the cache should
-- have answered, its hit count says it did.
local H = require "spec.helper"
local inventory_null = require("inventory").null

local NOW = "2024-06-01T00:00:00.000Z"
local D1, D2 = "domain-rc1", "domain-rc2"

local function fixture()
  local inv = H.open{ shared = true }
  inv:set_now(NOW)
  local tasks, jobs = {}, {}
  local statuses = { "PENDING", "IN_PROGRESS", "SUCCESS", "FAILURE", "CANCELED" }
  for j = 1, 6 do
    local d = j <= 4 and D1 or D2
    local job = string.format("job-rc%03d", j)
    jobs[#jobs + 1] = { job_id = job, domain_id = d, status = statuses[j % 4 + 2],
                        collector_id = "collector-" .. (j % 2), workspace_id = j % 3 == 0 and "*" or "ws-" .. (j % 2),
                        created_at = string.format("2024-0%d-15T00:00:00.000Z", j) }
    for t = 1, 4 + j do
      local i = #tasks + 1
      tasks[i] = { job_task_id = string.format("job-task-rc%04d", i), job_id = job, domain_id = d,
                   status = statuses[(i + j) % 5 + 1], created_count = i % 4,
                   workspace_id = i % 4 == 0 and "*" or "ws-" .. (i % 2),
                   project_id = "project-" .. (i % 3), provider = "p" .. (t % 2),
                   created_at = string.format("2024-0%d-%02dT00:00:00.000Z", j, t + 1),
                   errors = i % 3 == 0 and { { error_code = "E" .. (i % 7), message = "m" .. i } } or nil }
    end
  end
  assert(inv:import("job", jobs))
  assert(inv:import("job_task", tasks))
  return inv
end

local function pack(...) return { n = select("#", ...), ... } end

describe("the compiled-request cache", function()
  local inv
  setup(function() inv = fixture() end)
  teardown(function() H.drop(inv) end)

  local function hits() return inv:request_cache().hits end

  -- the answer of a compile: a fresh connection's first call
  local function cold(res, req, json, now)
    local fresh = assert(H.reopen(inv))
    fresh:set_now(now or NOW)
    local r = pack(fresh:call(res, "stat", req, json))
    fresh:close()
    return r
  end

  -- req on the warm store and on a cold one: the same answer (Lua and REST)
  local function check(res, req, now)
    for _, json in ipairs{ false, true } do
      local want = cold(res, req, json, now)
      inv:set_now(now or NOW)
      local got = pack(inv:call(res, "stat", req, json))
      assert(H.same(want, got), "request " .. H.show(req) .. (json and " (REST)" or "")
             .. "\n want " .. H.show(want) .. "\n got  " .. H.show(got))
    end
  end

  -- every request of a list (one shape), twice over, on the warm store;
  -- returns the cache hits they made
  local function run(res, reqs, now)
    local h0 = hits()
    for _ = 1, 2 do
      for _, req in ipairs(reqs) do check(res, req, now) end
    end
    return hits() - h0
  end

  local function A(name) return { { group = { keys = { { key = "status", name = name or "status" } },
                                               fields = { { name = "count", operator = "count" } } } } } end
  local function by_job(domain, job, o)
    return { domain_id = domain, query = { aggregate = A(), filter = { { k = "job_id", v = job, o = o or "eq" } } } }
  end

  it("answers the console's progress stat for every job and domain from one compile", function()
    local reqs = {}
    for j = 1, 6 do reqs[#reqs + 1] = by_job(j <= 4 and D1 or D2, string.format("job-rc%03d", j)) end
    reqs[#reqs + 1] = by_job(D1, "job-rc005")            -- a job of the other domain: nothing
    reqs[#reqs + 1] = by_job(D2, "job-none")
    reqs[#reqs + 1] = by_job("domain-none", "job-rc001")
    reqs[#reqs + 1] = by_job(D1, "job-rc00")              -- a prefix is no match
    reqs[#reqs + 1] = by_job(D1, "JOB-RC001")
    reqs[#reqs + 1] = by_job(D1, "job-rc001 ")
    reqs[#reqs + 1] = by_job(D1, "日本")
    local n = run("job_task", reqs)
    -- 2 rounds x 2 renderings x 13 requests; the first of each rendering compiles
    assert.is_true(n >= 2 * 2 * #reqs - 2, "hits " .. n)
    assert.is_true(inv:request_cache().entries >= 1)
  end)

  it("compiles again for a value a slot does not take: empty, '*', a NUL byte, not a string", function()
    local h0 = hits()
    run("job_task", {
      by_job(D1, "job-rc001"),
      by_job(D1, ""), by_job(D1, "*"), by_job(D1, "job-rc001\0x"), by_job(D1, "a\0"),
      by_job(D1, 1), by_job(D1, 1.5), by_job(D1, true), by_job(D1, false), by_job(D1, inventory_null),
      by_job(D1, {}), by_job(D1, { "job-rc001" }), by_job(D1, { a = "job-rc001" }),
      by_job(D1, "job-rc002"),
    })
    assert.is_true(hits() > h0)
  end)

  it("takes the domain's own checks for a slot: empty, NUL, not a string, '*'", function()
    run("job_task", {
      by_job(D1, "job-rc001"), by_job("", "job-rc001"), by_job("d\0", "job-rc001"),
      by_job(7, "job-rc001"), by_job(true, "job-rc001"), by_job("*", "job-rc001"), by_job(D2, "job-rc006"),
    })
  end)

  it("keeps the operator, the key and their spellings in the key", function()
    local reqs = {}
    for _, o in ipairs{ "eq", "not", "gt", "gte", "lt", "lte", "contain", "not_contain" } do
      for _, v in ipairs{ "job-rc002", "job-rc004", "job-rc0" } do reqs[#reqs + 1] = by_job(D1, v, o) end
    end
    for _, k in ipairs{ "job_task_id", "status", "provider", "workspace_id", "project_id", "collector_id" } do
      for _, v in ipairs{ "PENDING", "SUCCESS", "p1", "ws-1", "*", "project-2", "job-task-rc0003", "FOO" } do
        reqs[#reqs + 1] = { domain_id = D1, query = { aggregate = A(), filter = { { k = k, v = v, o = "eq" } } } }
      end
    end
    reqs[#reqs + 1] = { domain_id = D1, query = { aggregate = A(),
                                                  filter = { { key = "job_id", value = "job-rc001", operator = "eq" } } } }
    reqs[#reqs + 1] = { domain_id = D1, query = { aggregate = A(),
                                                  filter = { { key = "job_id", value = "job-rc003", operator = "eq" } } } }
    assert.is_true(run("job_task", reqs) > 0)
  end)

  it("keeps the page in the key: limit and start choose the SQL and the count", function()
    local reqs = {}
    for _, page in ipairs{ { limit = 1 }, { limit = 2 }, { limit = 10 }, { start = 2, limit = 1 },
                           { start = 3, limit = 2 }, { start = 50, limit = 2 }, { start = 2 }, { start = 0 },
                           { limit = 0 }, { limit = -1 }, { start = -1, limit = 1 }, { limit = "2" },
                           { limit = 1.5 }, { limit = 2.0 }, {} } do
      for _, job in ipairs{ "job-rc001", "job-rc003", "job-rc004" } do
        local r = by_job(D1, job)
        r.query.page = page
        reqs[#reqs + 1] = r
      end
    end
    assert.is_true(run("job_task", reqs) > 0)
    -- and on Job, whose stat pages are capped
    local jreqs = {}
    for _, page in ipairs{ { limit = 1 }, { limit = 2 }, { start = 2, limit = 1 }, { limit = 1001 } } do
      for _, c in ipairs{ "collector-0", "collector-1" } do
        jreqs[#jreqs + 1] = { domain_id = D1, query = { aggregate = A(), page = page,
                                                        filter = { { k = "collector_id", v = c, o = "eq" } } } }
      end
    end
    assert.is_true(run("job", jreqs) > 0)
  end)

  it("keeps keywords, times, lists, matches and starts_with in the key", function()
    local function F(filter, extra)
      local q = { aggregate = A(), filter = filter }
      for k, v in pairs(extra or {}) do q[k] = v end
      return { domain_id = D1, query = q }
    end
    local reqs = {}
    for _, kw in ipairs{ "rc0001", "task-rc00", "rc0002 rc0003", " rc0004 ", "", "%", "_", "x y z" } do
      reqs[#reqs + 1] = F(nil, { keyword = kw })
      reqs[#reqs + 1] = F({ { k = "job_id", v = "job-rc001", o = "eq" } }, { keyword = kw })
    end
    for _, t in ipairs{ "2024-01-03T00:00:00Z", "2024-02-01T00:00:00Z", "2024-03-04", "2024-13-01", "x" } do
      for _, o in ipairs{ "datetime_gt", "datetime_lte", "eq", "gte" } do
        reqs[#reqs + 1] = F({ { k = "created_at", v = t, o = o } })
      end
    end
    for _, l in ipairs{ { "job-rc001" }, { "job-rc001", "job-rc002" }, {}, { "job-rc003", 5 } } do
      reqs[#reqs + 1] = F({ { k = "job_id", v = l, o = "in" } })
      reqs[#reqs + 1] = F({ { k = "job_id", v = l, o = "not_in" } })
      reqs[#reqs + 1] = F({ { k = "job_id", v = l, o = "contain_in" } })
    end
    for _, m in ipairs{ { error_code__startswith = "E1" }, { error_code__startswith = "E" },
                        { error_code__startswith = "" }, { error_code__istartswith = "e2" },
                        { error_code = "E3" }, { error_code = "E4" }, { message__contains = "m1" } } do
      reqs[#reqs + 1] = F({ { k = "errors", v = m, o = "match" } })
    end
    for _, v in ipairs{ "3", "2", 1, "x", "1_0" } do
      reqs[#reqs + 1] = F({ { k = "created_count", v = v, o = "contain" } })
      reqs[#reqs + 1] = F({ { k = "created_count", v = v, o = "eq" } })
    end
    for _, v in ipairs{ "E1", "E2", "e1" } do
      reqs[#reqs + 1] = F({ { k = "errors.error_code", v = v, o = "eq" } })
    end
    for _, r in ipairs{ "^job-rc00[12]$", "RC003", "(" } do
      reqs[#reqs + 1] = F({ { k = "job_id", v = r, o = "regex" } })
    end
    reqs[#reqs + 1] = F(nil, { filter_or = { { k = "job_id", v = "job-rc001", o = "eq" },
                                             { k = "job_id", v = "job-rc002", o = "eq" } } })
    reqs[#reqs + 1] = F(nil, { filter_or = { { k = "job_id", v = "job-rc003", o = "eq" },
                                             { k = "job_id", v = "job-rc003", o = "eq" } } })
    reqs[#reqs + 1] = F(nil, { filter_or = { { k = "job_id", v = "job-rc003", o = "eq" },
                                             { k = "status", v = "SUCCESS", o = "eq" } } })
    run("job_task", reqs)
  end)

  it("never keeps a compile that read the clock (timediff)", function()
    local req = { domain_id = D1, query = { aggregate = A(),
                                            filter = { { k = "created_at", v = "now-30d", o = "timediff_gt" } } } }
    local e0 = inv:request_cache().entries
    local h0 = hits()
    local seen = {}
    for _, now in ipairs{ "2024-01-20T00:00:00.000Z", "2024-03-20T00:00:00.000Z", "2024-05-20T00:00:00.000Z",
                          "2024-08-01T00:00:00.000Z", "2024-01-20T00:00:00.000Z" } do
      check("job_task", req, now)
      inv:set_now(now)
      local r = assert(inv:call("job_task", "stat", req))
      local n = 0
      for _, row in ipairs(r.results) do n = n + row.count end
      seen[#seen + 1] = n
    end
    assert.are.equal(h0, hits())
    assert.are.equal(e0, inv:request_cache().entries)
    assert.are_not.equal(seen[1], seen[3])          -- the window moved with the clock
    assert.are.equal(seen[1], seen[5])
  end)

  it("keeps the scope: workspace '*' or one, user projects", function()
    local reqs = {}
    for _, ws in ipairs{ "ws-0", "ws-1", "*", "ws-2", "" } do
      for _, job in ipairs{ "job-rc001", "job-rc002" } do
        local r = by_job(D1, job)
        r.workspace_id = ws
        reqs[#reqs + 1] = r
      end
    end
    for _, up in ipairs{ { "project-1" }, { "project-0", "project-2" }, {}, { "project-1", 3 } } do
      for _, job in ipairs{ "job-rc001", "job-rc003" } do
        local r = by_job(D1, job)
        r.user_projects = up
        reqs[#reqs + 1] = r
      end
    end
    assert.is_true(run("job_task", reqs) > 0)
  end)

  it("answers when two values of a request are the same text, and after", function()
    -- the same string twice (Lua interns it): which one a bind took is not
    -- known, so that request is not kept; both orders of first use
    local function R(d, v1, v2)
      return { domain_id = d, query = { aggregate = A(), filter = {
        { k = "job_id", v = v1, o = "eq" }, { k = "workspace_id", v = v2, o = "not" } } } }
    end
    run("job_task", {
      R(D1, "ws-1", "ws-1"), R(D1, "job-rc001", "ws-1"), R(D1, "job-rc002", "ws-0"),
      R(D1, "job-rc002", "job-rc002"), R(D1, D1, D1), R(D1, "job-rc003", D1),
    })
    local function R2(d, v) return { domain_id = d, query = { aggregate = A(), filter = {
      { k = "domain_id", v = v, o = "eq" } } } } end
    run("job_task", { R2(D1, D1), R2(D1, D2), R2(D2, D2), R2(D2, D1) })
  end)

  it("keeps the stages: names, keys, operators and their values", function()
    local function S(agg) return { domain_id = D1, query = { aggregate = agg,
      filter = { { k = "job_id", v = "job-rc002", o = "eq" } } } } end
    local reqs = {
      S(A("status")), S(A("s")), S(A("")), S(A(5)),
      S{ { group = { keys = { { key = "provider", name = "p" } }, fields = { { name = "n", operator = "count" } } } } },
      S{ { group = { keys = { { key = "created_at", name = "d", date_format = "%Y-%m-%d" } },
                     fields = { { name = "n", operator = "count" } } } } },
      S{ { group = { keys = { { key = "created_at", name = "d", date_format = "%Y-%m" } },
                     fields = { { name = "n", operator = "count" } } } } },
      S{ { group = { keys = { { key = "status", name = "s" } }, fields = { { name = "n", operator = "sum",
                                                                              key = "created_count" } } } },
         { sort = { key = "n", desc = true } }, { limit = 1 } },
      S{ { group = { keys = { { key = "status", name = "s" } }, fields = { { name = "n", operator = "sum",
                                                                              key = "created_count" } } } },
         { sort = { key = "n", desc = true } }, { limit = 2 } },
      S{ { count = { name = "total" } } },
      S{ { count = { name = "all" } } },
    }
    run("job_task", reqs)
    -- the same pipelines for another job: the cache answers with its rows
    local h0 = hits()
    for _, r in ipairs(reqs) do r.query.filter[1].v = "job-rc004"; check("job_task", r) end
    assert.is_true(hits() > h0)
  end)

  it("knows a Lua request by its table: numbers, nulls, marks, key orders, odd tables", function()
    local inventory = require "inventory"
    local cjson = require "cjson"
    local function P(page) local r = by_job(D1, "job-rc002"); r.query.page = page; return r end
    local reqs = {
      P{ limit = 2 }, P{ limit = 2.0 }, P{ limit = 2.5 }, P{ limit = 1e300 }, P{ limit = -0.0 },
      P{ limit = 0 / 0 }, P{ limit = 1 / 0 }, P{ limit = inventory.null }, P{ limit = cjson.null },
      P(setmetatable({}, inventory.array_mt)), P(setmetatable({}, inventory.object_mt)), P{},
      P{ 1, 2 }, P{ [2] = 1 }, P{ limit = 1, [1] = 2 }, P{ [1.5] = 1 },
      by_job(D1, "job-\255"), by_job(D1, "job-rc00\0"), by_job(D1, "job-rc001"),
      { domain_id = D1, query = { aggregate = A(), filter = { { k = "job_id", v = "job-rc003", o = "eq",
                                                                 ["\255"] = 1 } } } },
      { domain_id = D1, query = { aggregate = A(), filter = { { k = "job_id", v = "job-rc003", o = "eq",
                                                                 ["a\0"] = 1 } } } },
      { domain_id = D1, query = { aggregate = A(), filter = { [1] = { k = "job_id", v = "job-rc004", o = "eq" },
                                                              [3] = { k = "job_id", v = "x", o = "eq" } } } },
      { domain_id = D1, query = { aggregate = A(), filter = setmetatable({}, inventory.array_mt) } },
      { domain_id = D1, query = { aggregate = A(), filter = cjson.empty_array or {} } },
      { domain_id = D1, query = { aggregate = A(), filter = { { k = "job_id", v = print, o = "eq" } } } },
      { domain_id = D1, query = { aggregate = A(), filter = { { k = "job_id", v = io.stdout, o = "eq" } } } },
    }
    -- the same keys set in other orders (Lua may hand them out otherwise)
    local o1 = { o = "eq" }; o1.v = "job-rc001"; o1.k = "job_id"
    local o2 = { k = "job_id" }; o2.o = "eq"; o2.v = "job-rc002"
    reqs[#reqs + 1] = { query = { filter = { o1 }, aggregate = A() }, domain_id = D1 }
    reqs[#reqs + 1] = { query = { filter = { o2 }, aggregate = A() }, domain_id = D1 }
    -- a table shared, and one nested deeper than the walk goes
    local shared = { k = "job_id", v = "job-rc003", o = "eq" }
    reqs[#reqs + 1] = { domain_id = D1, query = { aggregate = A(), filter = { shared, shared } } }
    local deep = { "x" }
    for _ = 1, 30 do deep = { deep } end
    reqs[#reqs + 1] = { domain_id = D1, query = { aggregate = A(), filter = { { k = "job_id", v = deep, o = "eq" } } } }
    run("job_task", reqs)
    -- a request that holds itself: the conversion's own error, cached or not
    local loop = { k = "job_id", o = "eq" }
    loop.v = loop
    run("job_task", { { domain_id = D1, query = { aggregate = A(), filter = { loop } } }, by_job(D1, "job-rc001") })
  end)

  it("does not keep a request whose texts are large", function()
    local big = string.rep("job-rc", 3500)             -- 21,000 bytes: its LIKE pattern as much again
    local req = { domain_id = D1, query = { aggregate = A(), filter = { { k = "job_id", v = big, o = "contain" } } } }
    assert.are.equal(0, run("job_task", { req }))
    local small = { domain_id = D1, query = { aggregate = A(), filter = { { k = "job_id", v = "rc00", o = "contain" } } } }
    assert.is_true(run("job_task", { small }) > 0)
  end)

  it("is bounded: many shapes keep at most 64 entries and still answer", function()
    for i = 1, 80 do
      local r = by_job(D1, "job-rc001")
      r.query.page = { limit = i }
      check("job_task", r)
    end
    assert.is_true(inv:request_cache().entries <= 64)
    run("job_task", { by_job(D1, "job-rc001"), by_job(D1, "job-rc002") })
  end)
end)
