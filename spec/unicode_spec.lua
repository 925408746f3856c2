-- spec/unicode_spec.lua: contain ignores case beyond ASCII (the reference's
-- MongoDB regex with the "i" flag folds Unicode); regex metacharacters in a
-- non-ASCII needle stay literal.
local H = require "spec.helper"

describe("contain with non-ASCII text", function()
  local inv
  setup(function()
    inv = H.open()
    assert(inv:import("job", {
      { job_id = "job-u1", domain_id = "d", collector_info = { name = "Ärger-Sammler (große)" } },
      { job_id = "job-u2", domain_id = "d", collector_info = { name = "plain collector" } },
      { job_id = "job-u3", domain_id = "d", collector_info = { name = "ÉTÉ a.b" } },
    }))
  end)
  teardown(function() inv:close() end)

  local function ids(v, o)
    local r = assert(inv.job.list{ domain_id = "d", query = {
      filter = { { k = "collector_info.name", v = v, o = o } }, sort = { { key = "job_id" } } } })
    local out = {}
    for i, x in ipairs(r.results) do out[i] = x.job_id end
    return out
  end

  it("folds case of non-ASCII letters", function()
    assert.same({ "job-u1" }, ids("äRGER", "contain"))
    assert.same({ "job-u1" }, ids("GROßE", "contain"))
    assert.same({ "job-u3" }, ids("été", "contain"))
  end)

  it("keeps regex metacharacters literal", function()
    assert.same({ "job-u1" }, ids("Sammler (GROßE)", "contain"))
    assert.same({ "job-u3" }, ids("été a.b", "contain"))
    assert.same({}, ids("été a?b", "contain"))
  end)

  it("negates and lists as contain does", function()
    assert.same({ "job-u2", "job-u3" }, ids("äRGER", "not_contain"))
    assert.same({ "job-u1", "job-u3" }, ids({ "äRGER", "ÉTÉ" }, "contain_in"))
    assert.same({ "job-u2" }, ids({ "äRGER", "été" }, "not_contain_in"))
  end)
end)
