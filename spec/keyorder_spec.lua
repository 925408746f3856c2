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
