-- spec/ngx_thread_spec.lua: the thread pool's side of inventory.ngx
-- (inventory.ngx_thread), outside nginx: call_versioned (the one trip a
-- cached read makes on PostgreSQL) and the REST cache over it, on a real
-- store. (test/nginx/cluster.lua runs the same through nginx's thread pool,
-- two nginx instances and a PostgreSQL server.)
local inventory = require "inventory"
local rest = require "inventory.rest"
local thread = require "inventory.ngx_thread"
local cjson = require "cjson.safe"

local TOKENS = { t1 = { domain_id = "d1", role = "DOMAIN_ADMIN" } }

-- a store as the REST handler sees one behind the thread pool: cached_call
-- and call run ngx_thread's functions (here in this VM); runs() counts the
-- calls the store really ran
local function pooled(opts)
  local n = 0
  local s = {}
  function s.cached_call(_, seen_dv, seen_own, resource, method, req)
    local dv, own, res, msg, code, class = thread.call_versioned(opts, seen_dv or false, seen_own or false,
                                                                 resource, method, thread.pack(req))
    if res ~= false then n = n + 1 end
    return dv, own, res, msg, code, class
  end
  function s.call(_, resource, method, req)
    n = n + 1
    return thread.call(opts, resource, method, thread.pack(req))
  end
  return s, function() return n end
end

local function list(h, headers)
  headers = headers or {}
  headers.authorization = "Bearer t1"
  local status, text = h:handle("POST", "/inventory/v1/job/list", '{"query":{}}', headers)
  return status, text, cjson.decode(text)
end

describe("inventory.ngx_thread", function()
  local path, other
  before_each(function()
    path = os.tmpname()
    other = assert(inventory.open{ path = path })      -- another node's connection
  end)
  after_each(function()
    other:close()
    os.remove(path); os.remove(path .. "-wal"); os.remove(path .. "-shm")
  end)

  it("call_versioned: runs the call, or says the version is the one the caller saw", function()
    local opts = { path = path }
    local dv, own, json = thread.call_versioned(opts, false, false, "job", "list",
                                                thread.pack{ domain_id = "d1" })
    assert.is_number(dv)
    assert.equal(0, cjson.decode(json).total_count or 0)
    local dv2, own2, same = thread.call_versioned(opts, dv, own, "job", "list", thread.pack{ domain_id = "d1" })
    assert.same({ dv, own, false }, { dv2, own2, same })
    assert(other.job.create{ domain_id = "d1", collector_id = "c1" })
    local dv3, _, json3 = thread.call_versioned(opts, dv, own, "job", "list", thread.pack{ domain_id = "d1" })
    assert.are_not.equal(dv, dv3)
    assert.equal(1, cjson.decode(json3).total_count)
  end)

  it("call_versioned: a store that cannot be opened is an error of the call", function()
    local dv, own, res, msg, code = thread.call_versioned({ path = "/nonexistent-dir/x.db" }, false, false,
                                                          "job", "list", thread.pack{ domain_id = "d1" })
    assert.same({ nil, nil, nil }, { dv, own, res })
    assert.equal("ERROR_DB_QUERY", code)
    assert.truthy(msg)
  end)

  it("the REST cache over it: one trip per read, a hit runs nothing, another node's commit is seen", function()
    local store, runs = pooled{ path = path }
    local h = rest.new{ store = store, resolver = rest.static_resolver(TOKENS) }
    local status, text1 = list(h)
    assert.equal(200, status)
    assert.equal(1, runs())
    local _, text2 = list(h)
    assert.equal(text1, text2)
    assert.equal(1, runs(), "a hit")
    assert(other.job.create{ domain_id = "d1", collector_id = "c1" })
    local _, _, b = list(h)
    assert.equal(1, b.total_count)
    assert.equal(2, runs())
    list(h, { ["cache-control"] = "no-cache" })
    assert.equal(3, runs(), "no-cache asks the store")
  end)

  it("pack and unpack carry JSON nulls across, and nothing else turns into one", function()
    local v = thread.unpack(thread.pack{ a = inventory.null, b = { "x", inventory.null }, c = "inventory.null" },
                            inventory.null)
    assert.equal(inventory.null, v.a)
    assert.equal(inventory.null, v.b[2])
    assert.equal("inventory.null", v.c)
  end)
end)
