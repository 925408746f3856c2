-- The call's wall-clock budget (issue 15, section 1): statement_timeout for
-- get, list, delete and the writes, stat_timeout for stat and analyze; import,
-- sweep and purge have none. A call past its budget is interrupted and fails
-- as the caller's fault (ERROR_DB_QUERY, class "client"), naming the limit;
-- the store stays usable. Also the regex cost that grew with the square of the
-- pattern count (SQLite's auxdata list): linear now, and capped per request.
local H = require "spec.helper"

local SCALE = tonumber(os.getenv("INV_TEST_TIME_SCALE")) or 1   -- ASan, valgrind
local D = "domain-b"
local N = 20000

-- N tasks in one job, imported (no budget on import)
local function store(opts)
  local inv = H.open(opts)
  local jobs = { { job_id = "job-000000000001", status = "IN_PROGRESS", domain_id = D,
                   created_at = "2024-01-01T00:00:00.000Z" } }
  local tasks = {}
  for i = 1, N do
    tasks[i] = { job_task_id = ("job-task-%012d"):format(i), job_id = "job-000000000001",
                 status = "SUCCESS", domain_id = D, secret_id = "secret-" .. i,
                 created_at = "2024-01-01T00:00:01.000Z" }
  end
  assert(inv:import("job", jobs))
  assert(inv:import("job_task", tasks))
  return inv
end

-- 500 contain conditions on an unindexed column: about 10 million LIKEs
local function heavy()
  local fo = {}
  for i = 1, 500 do fo[i] = { k = "secret_id", v = "no-such-" .. i, o = "contain" } end
  return { domain_id = D, query = { filter_or = fo } }
end

local function clock_ms(f)
  local t0 = os.clock()
  local a, b, c, d = f()
  return (os.clock() - t0) * 1000, a, b, c, d
end

describe("the call's time budget", function()
  local inv
  setup(function() inv = store{ statement_timeout = 40, stat_timeout = 60 } end)
  teardown(function() inv:close() end)

  it("interrupts a list past statement_timeout with a client error naming the limit", function()
    local ms, r, msg, code, class = clock_ms(function() return inv.job_task.list(heavy()) end)
    assert.is_nil(r)
    assert.are.same({ "ERROR_DB_QUERY", "client" }, { code, class })
    assert.are.equal("Database query failed. (reason = The request ran longer than its time budget "
                     .. "of 40 ms; narrow its filter, or raise the store's statement_timeout.)", msg)
    assert.is_true(ms < 1000 * SCALE, ("took %.0f ms"):format(ms))
  end)

  it("interrupts stat past stat_timeout, and says so", function()
    local q = heavy()
    q.query.aggregate = { { group = { keys = { { key = "status", name = "s" } },
                                      fields = { { operator = "count", name = "n" } } } } }
    local r, msg, code, class = inv.job_task.stat(q)
    assert.is_nil(r)
    assert.are.same({ "ERROR_DB_QUERY", "client" }, { code, class })
    assert.truthy(msg:find("time budget of 60 ms; narrow its filter, or raise the store's stat_timeout", 1, true), msg)
  end)

  it("leaves the store usable, and cheap calls pass", function()
    local r = assert(inv.job_task.list{ domain_id = D, query = { page = { limit = 3 },
      filter = { { k = "job_task_id", v = "job-task-000000000007", o = "eq" } } } })
    assert.are.equal(1, r.total_count)
    assert(inv.job_task.finish ~= nil)
  end)

  it("has none with 0, and none on import", function()
    local free = store{ statement_timeout = 0 }
    local r = assert(free.job_task.list(heavy()))
    assert.are.equal(0, r.total_count)
    free:close()
  end)
end)

describe("many regular expressions", function()
  local inv
  setup(function() inv = store() end)
  teardown(function() inv:close() end)

  -- 10 x 100 patterns over 20,000 rows: the cost is linear in rows x patterns
  -- (it was quadratic in the patterns); the regex budget or the call budget
  -- bounds what remains
  it("1000 patterns answer within the budgets", function()
    local fo = {}
    for i = 1, 10 do
      local v = {}
      for j = 1, 100 do v[j] = "lit" .. i .. "x" .. j end
      fo[i] = { k = "secret_id", v = v, o = "regex_in" }
    end
    local ms, r, msg, code, class = clock_ms(function()
      return inv.job_task.list{ domain_id = D, query = { filter_or = fo } }
    end)
    assert.is_true(ms < 1500 * SCALE, ("took %.0f ms"):format(ms))
    if not r then assert.are.same({ "ERROR_DB_QUERY", "client" }, { code, class }, msg) end
  end)

  it("a request with more than 1000 is refused before it runs", function()
    local fo = {}
    for i = 1, 10 do
      local v = {}
      for j = 1, 400 do v[j] = "lit" .. i .. "x" .. j end
      fo[i] = { k = "secret_id", v = v, o = "regex_in" }
    end
    local ms, r, msg, code, class = clock_ms(function()
      return inv.job_task.list{ domain_id = D, query = { filter_or = fo } }
    end)
    assert.is_nil(r)
    assert.are.same({ "ERROR_INVALID_PARAMETER", "client" }, { code, class })
    assert.truthy(msg:find("at most 1000 regular expressions", 1, true), msg)
    assert.is_true(ms < 200 * SCALE, ("took %.0f ms"):format(ms))
  end)
end)
