-- spec/rest_cache_spec.lua: the REST handler's read-result cache returns
-- exactly what the store would: any commit (this connection's or another's)
-- invalidates it.
local inventory = require "inventory"
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

describe("inventory.rest result cache", function()
  local path, a, b
  before_each(function()
    path = os.tmpname()
    a = assert(inventory.open{ path = path })
    b = assert(inventory.open{ path = path })     -- another connection, as another worker
  end)
  after_each(function()
    a:close(); b:close()
    os.remove(path); os.remove(path .. "-wal"); os.remove(path .. "-shm")
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
    local calls = 0
    local counted = {
      call = function(_, ...) calls = calls + 1; return a:call(...) end,
      version = function() return a:version() end,
    }
    local h = rest.new{ store = counted, resolver = rest.static_resolver(TOKENS) }
    local hdr = { authorization = "Bearer t1" }
    h:handle("POST", "/inventory/v1/job/list", "{}", hdr)
    h:handle("POST", "/inventory/v1/job/list", "{}", hdr)
    assert.equal(1, calls)
    hdr["Cache-Control"] = "no-cache"
    local status = h:handle("POST", "/inventory/v1/job/list", "{}", hdr)
    assert.equal(200, status)
    assert.equal(2, calls)
  end)

  it("reports the store version", function()
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
