-- spec/api_spec.lua: the public Lua API of DESIGN.md, method by method:
-- every documented call exists on an explicit store and on the default one,
-- and stat / analyze answer through it as through inv:call.
local inventory = require "inventory"
local H = require "spec.helper"

local DOCUMENTED = {
  job = { "get", "list", "stat", "analyze", "delete", "create", "cancel", "import" },
  job_task = { "get", "list", "stat", "delete", "start", "add_error", "finish", "import" },
  spot_job = { "get", "list", "stat", "delete", "import" },
}

describe("inventory API surface", function()
  it("has every documented method on a store", function()
    local inv = H.open()
    for resource, methods in pairs(DOCUMENTED) do
      for _, m in ipairs(methods) do
        assert.is_function(inv[resource][m], resource .. "." .. m)
      end
    end
    for _, m in ipairs({ "import", "sweep", "purge", "close", "call", "explain", "version",
                         "set_now", "schema_version" }) do
      assert.is_function(inv[m], m)
    end
    inv:close()
  end)

  it("has every documented method on the default store (inventory.job, ...), and only those", function()
    for resource, methods in pairs(DOCUMENTED) do
      for _, m in ipairs(methods) do
        assert.is_function(inventory[resource][m], resource .. "." .. m)
      end
    end
    assert.is_nil(inventory.spot_job.analyze)
    assert.is_nil(inventory.job_task.cancel)
  end)

  it("answers stat and analyze through inv.job / inv.job_task", function()
    local inv = H.canonical()
    local r = assert(inv.job.stat{ domain_id = "domain-1",
                                   query = { aggregate = { { count = { name = "n" } } } } })
    assert.same({ { n = 4 } }, r.results)
    assert.equal(1, r.total_count)
    r = assert(inv.job.analyze{ domain_id = "domain-1", query = {
      group_by = { "status" }, fields = { c = { operator = "count" } }, sort = { { key = "status" } } } })
    assert.same({ "CANCELED", "FAILURE", "IN_PROGRESS", "SUCCESS" },
                { r.results[1].status, r.results[2].status, r.results[3].status, r.results[4].status })
    assert.is_false(r.more)
    r = assert(inv.job_task.stat{ domain_id = "domain-1", query = { distinct = "job_id" } })
    assert.same({ "job-aaa111", "job-bbb222" }, r.results)
    assert.is_nil(r.total_count)
    inv:close()
  end)

  it("raises for a request that is not a table", function()
    local inv = H.open()
    assert.has_error(function() inv.job.stat("x") end)
    inv:close()
  end)
end)
