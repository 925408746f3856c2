-- spec/rest_cache_spec.lua: the REST handler's read-result cache returns
-- exactly what the store would: any commit (this connection's or another's)
-- invalidates it.
local H = require "spec.helper"
local rest = require "inventory.rest"
local cjson = require "cjson.safe"

local TOKENS = { t1 = { domain_id = "d1", role = "DOMAIN_ADMIN" },
                 t2 = { domain_id = "d2", role = "DOMAIN_ADMIN" } }

local function list(h, token)
  local status, text = h:handle("POST", "/inventory/v1/job/list", '{"query":{}}',
                                { authorization = "Bearer " .. token })
  assert.equal(200, status)
  return cjson.decode(text).total_count, text
end

-- a store that counts its calls: counting(store) -> proxy, calls()
local function counting(store)
  local n = 0
  return { call = function(_, ...) n = n + 1; return store:call(...) end,
           version = function() return store:version() end },
         function() return n end
end

describe("inventory.rest result cache", function()
  local a, b
  before_each(function()
    a = H.open{ shared = true }
    b = assert(H.reopen(a))                        -- another connection, as another worker
  end)
  after_each(function()
    b:close(); H.drop(a)
  end)

  it("serves a repeated read from the cache and sees this store's writes", function()
    local h = rest.new{ store = a, resolver = rest.static_resolver(TOKENS) }
    assert.equal(0, (list(h, "t1")))
    assert(a.job.create{ domain_id = "d1", collector_id = "c1" })
    assert.equal(1, (list(h, "t1")))
    local n1, text1 = list(h, "t1")
    assert.equal(1, n1)
    local _, text2 = list(h, "t1")
    assert.equal(text1, text2)
  end)

  it("sees another connection's commit", function()
    local h = rest.new{ store = a, resolver = rest.static_resolver(TOKENS) }
    assert.equal(0, (list(h, "t1")))
    assert(b.job.create{ domain_id = "d1", collector_id = "c1" })
    assert.equal(1, (list(h, "t1")))
    assert(b.job.create{ domain_id = "d1", collector_id = "c2" })
    assert.equal(2, (list(h, "t1")))
  end)

  it("keys entries by the caller's scope", function()
    local h = rest.new{ store = a, resolver = rest.static_resolver(TOKENS) }
    assert(a.job.create{ domain_id = "d1", collector_id = "c1" })
    assert.equal(1, (list(h, "t1")))
    assert.equal(0, (list(h, "t2")))
  end)

  it("can be turned off and stays bounded", function()
    local h = rest.new{ store = a, resolver = rest.static_resolver(TOKENS), cache_entries = 0 }
    assert.equal(0, (list(h, "t1")))
    assert.equal(0, h.cache_n)
    local h2 = rest.new{ store = a, resolver = rest.static_resolver(TOKENS), cache_entries = 2 }
    for i = 1, 5 do
      h2:handle("POST", "/inventory/v1/job/list", '{"query":{"page":{"limit":' .. i .. '}}}',
                { authorization = "Bearer t1" })
      assert.is_true(h2.cache_n <= 2)
    end
  end)

  it("asks the store again for Cache-Control: no-cache", function()
    local counted, calls = counting(a)
    local h = rest.new{ store = counted, resolver = rest.static_resolver(TOKENS) }
    local hdr = { authorization = "Bearer t1" }
    h:handle("POST", "/inventory/v1/job/list", "{}", hdr)
    h:handle("POST", "/inventory/v1/job/list", "{}", hdr)
    assert.equal(1, calls())
    hdr["Cache-Control"] = "no-cache"
    local status = h:handle("POST", "/inventory/v1/job/list", "{}", hdr)
    assert.equal(200, status)
    assert.equal(2, calls())
  end)

  it("cannot hand one caller's entry to another: no text of one part stands for another", function()
    local h = rest.new{ store = a, resolver = rest.static_resolver(TOKENS) }
    local job = assert(a.job.create{ domain_id = "d1", collector_id = "c1" }).job_id
    -- the keys of these two requests were equal when the parts were joined with "\n"
    local bodyA = '{"job_id":"' .. job .. '","workspace_id":"' .. "\nd2\n\n-\nGET\n" .. '"}' .. "\n"
    local status = h:handle("POST", "/inventory/v1/job/get", bodyA, { authorization = "Bearer t1" })
    assert.equal(200, status)
    local idB = "\nd1\n\n-\nPOST\n\n" .. '{"job_id":"' .. job .. '","workspace_id":"'
    local statusB, textB = h:handle("GET", "/inventory/v1/job/" .. idB .. '?"}', nil, { authorization = "Bearer t2" })
    assert.not_equal(200, statusB)                        -- it was domain d1's job, served to d2
    assert.is_table(cjson.decode(textB).error)
  end)

  it("keys by role and each user project: members with other project lists share nothing", function()
    local ids = {
      m1 = { domain_id = "d1", workspace_id = "w1", role = "WORKSPACE_MEMBER", user_projects = { "p1,p2" } },
      m2 = { domain_id = "d1", workspace_id = "w1", role = "WORKSPACE_MEMBER", user_projects = { "p1", "p2" } },
      m3 = { domain_id = "d1", workspace_id = "w1", role = "WORKSPACE_MEMBER", user_projects = { "-" } },
      o1 = { domain_id = "d1", workspace_id = "w1", role = "WORKSPACE_OWNER" },
    }
    local h = rest.new{ store = a, resolver = rest.static_resolver(ids) }
    assert(a:import("job_task", { { job_task_id = "job-task-000000000001", job_id = "job-000000000001",
                                    domain_id = "d1", workspace_id = "w1", project_id = "p1" } }))
    local function n(token)
      local status, text = h:handle("POST", "/inventory/v1/job-task/list", '{"query":{}}',
                                    { authorization = "Bearer " .. token })
      assert.equal(200, status)
      return cjson.decode(text).total_count
    end
    assert.equal(1, n("m2"))
    assert.equal(0, n("m1"))
    assert.equal(1, n("o1"))
    assert.equal(0, n("m3"))
  end)

  it("does not keep answers that move with the clock (timediff), nor large requests", function()
    local counted, calls = counting(a)
    local h = rest.new{ store = counted, resolver = rest.static_resolver(TOKENS) }
    local hdr = { authorization = "Bearer t1" }
    local q = '{"query":{"filter":[{"k":"created_at","v":"now-1d","o":"timediff_gte"}]}}'
    h:handle("POST", "/inventory/v1/job/list", q, hdr)
    h:handle("POST", "/inventory/v1/job/list", q, hdr)
    assert.equal(2, calls())
    local big = '{"query":{}}' .. string.rep(" ", 5000)
    h:handle("POST", "/inventory/v1/job/list", big, hdr)
    h:handle("POST", "/inventory/v1/job/list", big, hdr)
    assert.equal(4, calls())
    assert.equal(0, h.cache_n)
  end)

  it("honours no-cache in any case, max-age=0 and Pragma: no-cache", function()
    local counted, calls = counting(a)
    local h = rest.new{ store = counted, resolver = rest.static_resolver(TOKENS) }
    local function get(extra)
      local hdr = { authorization = "Bearer t1" }
      for k, v in pairs(extra) do hdr[k] = v end
      assert.equal(200, (h:handle("POST", "/inventory/v1/job/list", "{}", hdr)))
    end
    get({}); get({})
    assert.equal(1, calls())
    get({ ["Cache-Control"] = "No-Cache" }); get({ ["cache-control"] = "max-age=0" }); get({ Pragma = "no-cache" })
    assert.equal(4, calls())
  end)

  it("reports the store version: any commit, this connection's or another's, changes it", function()
    local v1 = { a:version() }
    assert(a.job.create{ domain_id = "d1", collector_id = "c1" })
    local v2 = { a:version() }
    assert.are_not.same(v1, v2)
    assert(b.job.create{ domain_id = "d1", collector_id = "c1" })
    local v3 = { a:version() }
    assert.are_not.same(v2, v3)
    assert.are.same(v3, { a:version() })             -- no commit, no change
  end)

  it("SQLite's version: data_version moves for other connections, the change count for its own", function()
    H.only("sqlite", "SQLite's data_version and change count (PostgreSQL: one commit counter)")
    local d1, o1 = a:version()
    assert(a.job.create{ domain_id = "d1", collector_id = "c1" })
    local d2, o2 = a:version()
    assert.equal(d1, d2)
    assert.is_true(o2 > o1)
    assert(b.job.create{ domain_id = "d1", collector_id = "c1" })
    local d3 = a:version()
    assert.is_true(d3 ~= d2)
  end)
end)
