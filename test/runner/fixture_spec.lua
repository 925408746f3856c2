-- test/runner/fixture_spec.lua: what spec/runner_spec.lua feeds scripts/test.sh
-- (SPEC=this file): two tests pass, one fails, one is pending, on purpose.
-- Not under spec/: busted's own run never sees it.
describe("runner fixture", function()
  it("passes", function() assert.are.equal(2, 1 + 1) end)
  it("passes too", function() assert.is_true(true) end)
  it("is pending", function() pending("skipped on purpose") end)
  it("fails on purpose", function() assert.are.equal(3, 1 + 1) end)
end)
