-- spec/runner_spec.lua: scripts/test.sh counts what each suite reports in its
-- own unit, a pending test as skipped (never as passed), and still ends with
-- the one summing line CI reads. It runs the busted part of the runner on
-- test/runner/fixture_spec.lua (2 pass, 1 fails, 1 pending).
describe("scripts/test.sh", function()
  it("counts a pending test as skipped, apart, and sums into one closing line", function()
    -- a child busted of its own (no sanitizer preload inherited)
    local p = assert(io.popen("env -u LD_PRELOAD TEST_SUITES=busted SPEC=test/runner/fixture_spec.lua "
                              .. "sh scripts/test.sh 2>&1; echo \"rc=$?\""))
    local out = p:read("*a")
    p:close()
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.truthy(out:find("busted (lua5.4): 2 tests passed, 1 failed, 1 skipped", 1, true), out)
    assert.truthy(out:find("busted (luajit): 2 tests passed, 1 failed, 1 skipped", 1, true), out)
    assert.are.equal("rc=1", lines[#lines])
    assert.are.equal("4 passed, 2 failed", lines[#lines - 1])
    assert.are.equal("2 skipped", lines[#lines - 2])
  end)
end)
