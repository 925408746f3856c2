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
  describe("store:cached_call", function()
    it("answers a read as JSON with its version; the seen version, false without reading", function()
      assert(a.job.create{ domain_id = "d1", collector_id = "c1" })
      local req = { domain_id = "d1", query = {} }
      local dv, own, text = a:cached_call(nil, nil, "job", "list", req)
      assert.is_not_nil(dv)
      assert.is_not_nil(own)
      assert.equal(a:call("job", "list", req, true), text)
      assert.equal(1, cjson.decode(text).total_count)
      assert.are.same({ dv, own }, { a:version() })
      -- nothing committed since: the cached answer holds
      local dv2, own2, same = a:cached_call(dv, own, "job", "list", req)
      assert.are.same({ dv, own, false }, { dv2, own2, same })
      -- a commit of this connection, then of another: a new answer, a new version
      assert(a.job.create{ domain_id = "d1", collector_id = "c2" })
      local dv3, own3, text3 = a:cached_call(dv, own, "job", "list", req)
      assert.equal(2, cjson.decode(text3).total_count)
      assert.are_not.same({ dv, own }, { dv3, own3 })
      assert(b.job.create{ domain_id = "d1", collector_id = "c3" })
      local dv4, own4, text4 = a:cached_call(dv3, own3, "job", "list", req)
      assert.equal(3, cjson.decode(text4).total_count)
      assert.are_not.same({ dv3, own3 }, { dv4, own4 })
      -- get, stat and analyze as well
      local job = cjson.decode(text4).results[1].job_id
      local _, _, got = a:cached_call(false, false, "job", "get", { domain_id = "d1", job_id = job })
      assert.equal(job, cjson.decode(got).job_id)
      local _, _, st = a:cached_call(nil, nil, "job", "stat", { domain_id = "d1",
        query = { aggregate = { { count = { name = "n" } } } } })
      assert.equal(3, cjson.decode(st).results[1].n)
    end)

    it("fails as a call does, and refuses a write", function()
      local r = { a:cached_call(nil, nil, "job", "get", { domain_id = "d1", job_id = "job-000000000bad" }) }
      assert.equal(6, select("#", a:cached_call(nil, nil, "job", "get",
        { domain_id = "d1", job_id = "job-000000000bad" })))
      assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_nil(r[3])
      assert.equal("ERROR_NOT_FOUND", r[5])
      assert.equal("client", r[6])
      local w = { a:cached_call(nil, nil, "job", "create", { domain_id = "d1", collector_id = "c1" }) }
      assert.is_nil(w[3])
      assert.equal("ERROR_INVALID_PARAMETER", w[5])
      assert.matches("a versioned call reads", w[4], 1, true)
      assert.equal(0, a.job.list{ domain_id = "d1" }.total_count)     -- nothing written
      assert.has_error(function() a:cached_call(nil, nil, "job", "list", "{}") end)
      -- the store goes on
      local _, _, text = assert(a:cached_call(nil, nil, "job", "list", { domain_id = "d1" }))
      assert.equal(0, cjson.decode(text).total_count)
    end)

    it("SQLite: the version is read in the call's snapshot, and the snapshot ends with the call", function()
      H.only("sqlite", "a stepped statement holds SQLite's read snapshot")
      local req = { domain_id = "d1", query = {} }
      local dv, own = a:cached_call(nil, nil, "job", "list", req)
      -- the snapshot was released: another connection writes and checkpoints freely
      assert(b.job.create{ domain_id = "d1", collector_id = "c1" })
      local dv2, own2, text2 = a:cached_call(dv, own, "job", "list", req)
      assert.equal(1, cjson.decode(text2).total_count)
      assert.is_true(dv2 ~= dv)
      assert.equal(own, own2)
      assert.are.same({ dv2, own2 }, { a:version() })
    end)
  end)

  describe("a token map's resolver", function()
    local ids = { t1 = { domain_id = "d1", role = "DOMAIN_ADMIN" },
                  t2 = { domain_id = "d2", role = "DOMAIN_ADMIN" } }
    local function seen_of(resolve)
      for i = 1, 10 do
        local name, v = debug.getupvalue(resolve, i)
        if name == "seen" then return v end
      end
      error("no cache in the resolver")
    end
    local function count(t) local n = 0; for _ in pairs(t) do n = n + 1 end; return n end

    it("maps each header text anew: a changed header, another identity", function()
      local resolve = rest.static_resolver(ids)
      assert.equal("d1", resolve{ authorization = "Bearer t1" }.domain_id)
      assert.equal("d2", resolve{ authorization = "Bearer t2" }.domain_id)
      assert.equal("d1", resolve{ authorization = "Bearer t1" }.domain_id)
      assert.equal("d1", resolve{ Authorization = "bearer  t1 " }.domain_id)
      assert.is_nil(resolve{ authorization = "Bearer t3" })
      assert.is_nil(resolve{ authorization = "Basic t1" })
      assert.is_nil(resolve{ authorization = "Bearer t3" })               -- a miss, kept as one
      assert.is_nil(resolve{})
      assert.is_nil(resolve{ authorization = { "Bearer t9", "Bearer t1" } })  -- the first value only
      assert.equal("d2", resolve{ authorization = { "Bearer t2" } }.domain_id)
    end)

    it("finds the header of an ngx table by its __index, without a scan", function()
      local resolve = rest.static_resolver(ids)
      local function ngx_headers(t)     -- ngx.req.get_headers(): lowercase keys, __index for others
        return setmetatable(t, { __index = function(h, k)
          if type(k) == "string" then
            local l = k:lower():gsub("_", "-")
            if l ~= k then return rawget(h, l) end
          end
        end })
      end
      assert.equal("d2", resolve(ngx_headers{ authorization = "Bearer t2" }).domain_id)
      assert.is_nil(resolve(ngx_headers{ ["x-other"] = "Bearer t2" }))
      assert.equal("d1", rest.bearer(ngx_headers{ authorization = "Bearer t1" }) and
                         resolve(ngx_headers{ authorization = "Bearer t1" }).domain_id)
    end)

    it("keeps at most 1,024 header texts", function()
      local resolve = rest.static_resolver(ids)
      local seen = seen_of(resolve)
      for i = 1, 3000 do
        assert.is_nil(resolve{ authorization = "Bearer x" .. i })
        assert.is_true(count(seen_of(resolve)) <= 1024)
      end
      assert.are_not.equal(seen, seen_of(resolve))                        -- started over
      assert.equal("d1", resolve{ authorization = "Bearer t1" }.domain_id)
      assert.equal("d1", resolve{ authorization = "Bearer t1" }.domain_id)
    end)

    it("a token file's resolver caches alike, and the handler takes its identities as checked", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write('{"tf1":{"domain_id":"d1","role":"DOMAIN_ADMIN"}}')
      f:close()
      local resolve = rest.token_file_resolver(path)
      os.remove(path)
      assert.equal("d1", resolve{ authorization = "Bearer tf1" }.domain_id)
      assert.is_nil(resolve{ authorization = "Bearer tf2" })
      assert.equal(2, count(seen_of(resolve)))
      local h = rest.new{ store = a, resolver = resolve }
      assert(a.job.create{ domain_id = "d1", collector_id = "c1" })
      local status, text = h:handle("POST", "/inventory/v1/job/list", "{}", { authorization = "Bearer tf1" })
      assert.equal(200, status)
      assert.equal(1, cjson.decode(text).total_count)
      -- an identity from another resolver is checked on every request
      local h2 = rest.new{ store = a, resolver = function() return { domain_id = "d1", role = "NOBODY" } end }
      assert.equal(403, (h2:handle("POST", "/inventory/v1/job/list", "{}", {})))
    end)
  end)
end)
