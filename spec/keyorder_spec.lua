-- spec/keyorder_spec.lua: an object is stored with its keys in byte order,
-- whatever order Lua hands them out in. The binding remembers the last
-- order it sorted at each of the first levels (the records of an import
-- share their keys): tables with the same keys in the same order reuse it,
-- any other order is sorted anew.
local H = require "spec.helper"

describe("object keys in stored JSON", function()
  local inv
  setup(function() inv = H.open() end)
  teardown(function() inv:close() end)

  -- a table with the keys of ks, inserted in that order (Lua's order of
  -- lua_next differs with the insertion order and the table's size)
  local function obj(ks, pre)
    local t = {}
    for i = 1, pre or 0 do t["pad" .. i] = i end
    for i = 1, pre or 0 do t["pad" .. i] = nil end
    for _, k in ipairs(ks) do t[k] = k:upper() end
    return t
  end

  it("sorts every record's objects, shared key orders or not", function()
    local recs = {}
    local orders = {
      { "zeta", "alpha", "mid", "beta" }, { "beta", "mid", "alpha", "zeta" },
      { "alpha", "zeta", "beta", "mid" }, { "zeta", "alpha", "mid", "beta" },
    }
    for i = 1, 24 do
      local ks = orders[i % #orders + 1]
      recs[i] = { job_id = string.format("job-k%02d", i), domain_id = "d",
                  filter = obj(ks, i % 3 == 0 and 40 or 0),
                  collector_info = obj({ "b" .. i % 2, "a", "c" }) }
    end
    assert.equal(24, assert(inv:import("job", recs)))
    for i = 1, 24 do
      local j = assert(inv:call("job", "get", { job_id = string.format("job-k%02d", i), domain_id = "d" }, true))
      assert.truthy(j:find('"filter":{"alpha":"ALPHA","beta":"BETA","mid":"MID","zeta":"ZETA"}', 1, true), j)
      local b = "b" .. i % 2
      assert.truthy(j:find('"collector_info":{"a":"A","' .. b .. '":"' .. b:upper() .. '","c":"C"}', 1, true), j)
    end
  end)

  it("sorts the records' own keys (what an unknown key's message names)", function()
    local r1 = { job_id = "job-x1", domain_id = "d", zz_unknown = 1, aa_unknown = 2 }
    local r2 = { aa_unknown = 2, zz_unknown = 1, domain_id = "d", job_id = "job-x2" }
    for _, r in ipairs{ r1, r2 } do
      local ok, msg = inv:import("job", { { job_id = "job-ok", domain_id = "d" }, r })
      assert.is_nil(ok)
      assert.truthy(msg:find("aa_unknown", 1, true), msg)
    end
  end)
end)

-- The binding reads the first levels of a request (the request, its lists,
-- their records) in one pass when their shape is plain; any other shape is
-- read again by the general conversion, whose messages and order stand.
describe("the conversion of a request's first levels", function()
  local inv
  setup(function() inv = H.open() end)
  teardown(function() inv:close() end)

  local function rec(i) return { job_id = string.format("job-c%03d", i), domain_id = "d" } end

  it("reads a list whose positions come out of order", function()
    local l = {}
    for i = 40, 1, -1 do l[i] = rec(i) end            -- in the hash part, any order
    assert.equal(40, assert(inv:import("job", l)))
    assert.equal("job-c040", assert(inv.job.get{ job_id = "job-c040", domain_id = "d" }).job_id)
  end)

  it("names the hole of a list", function()
    local ok, msg, code = inv:import("job", { rec(101), nil, rec(103) })
    assert.is_nil(ok)
    assert.equal("ERROR_INVALID_PARAMETER", code)
    assert.truthy(msg:find("position 2 is nil, and 3 is not", 1, true), msg)
  end)

  it("refuses a record with list positions and named keys", function()
    local r = rec(104)
    r[1] = "x"
    local ok, msg = inv:import("job", { r })
    assert.is_nil(ok)
    assert.truthy(msg:find("both list positions and named keys", 1, true), msg)
  end)

  it("reports a bad key before a bad value of the same table, as before", function()
    local r = rec(105)
    r.filter = function() end
    r[true] = 1
    local ok, msg, code = inv:import("job", { r })
    assert.is_nil(ok)
    assert.equal("ERROR_INVALID_PARAMETER_TYPE", code)
    assert.truthy(msg:find("a table has a boolean as a key", 1, true), msg)
  end)

  it("reports a bad value with its path", function()
    local r = rec(106)
    r.filter = { a = { b = function() end } }
    local ok, msg = inv:import("job", { rec(107), r })
    assert.is_nil(ok)
    assert.truthy(msg:find("a function is not a JSON value", 1, true), msg)
    assert.truthy(msg:find("filter.a.b", 1, true), msg)
  end)

  it("sorts a record of more than 32 keys", function()
    local r = rec(108)
    for i = 40, 1, -1 do r[string.format("zz%02d", i)] = i end
    local ok, msg = inv:import("job", { r })
    assert.is_nil(ok)
    assert.truthy(msg:find("zz01", 1, true), msg)
    assert.falsy(msg:find("zz02", 1, true), msg)
  end)
end)
