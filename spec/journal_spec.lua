-- The change journal (inv:changes, inv:trim_changes): one row per record a
-- write changes, in the write's transaction, in commit order; "reset" for
-- bulk changes; trimmed by age. It feeds the event stream and the console.
local inventory = require "inventory"
local H = require "spec.helper"

local D = "domain-j"

local function ops(r)
  local out = {}
  for _, c in ipairs(r.changes) do out[#out + 1] = c.resource .. ":" .. c.op .. ":" .. c.id end
  return out
end

local function since(inv, after)
  return assert(inv:changes{ after = after })
end

describe("the change journal", function()
  local inv
  before_each(function()
    inv = H.open()
    inv:set_now("2024-05-01T00:00:00.000Z")
  end)
  after_each(function() inv:close() end)

  it("starts empty", function()
    assert.are.same({ changes = {}, first = 1, last = 0 }, since(inv, 0))
  end)

  it("records each record a write changes, in commit order, with its scope", function()
    local job = assert(inv.job.create{ domain_id = D, collector_id = "col-1", workspace_id = "ws-1",
      tasks = { { secret_id = "s1", project_id = "p1" }, { secret_id = "s2", project_id = "p2" } } })
    local tasks = assert(inv.job_task.list{ domain_id = D, job_id = job.job_id }).results
    table.sort(tasks, function(a, b) return a.secret_id < b.secret_id end)
    local r = since(inv, 0)
    assert.are.same({ "job:upsert:" .. job.job_id, "job_task:upsert:" .. tasks[1].job_task_id,
                      "job_task:upsert:" .. tasks[2].job_task_id }, ops(r))
    assert.are.same({ 1, 3 }, { r.first, r.last })
    assert.are.same({ seq = 1, at = "2024-05-01T00:00:00.000Z", resource = "job", op = "upsert",
                      id = job.job_id, domain_id = D, workspace_id = "ws-1", job_id = job.job_id,
                      collector_id = "col-1" }, r.changes[1])
    assert.are.same({ seq = 2, at = "2024-05-01T00:00:00.000Z", resource = "job_task", op = "upsert",
                      id = tasks[1].job_task_id, domain_id = D, workspace_id = "ws-1", project_id = "p1",
                      job_id = job.job_id, collector_id = "col-1" }, r.changes[2])

    local t1, t2 = tasks[1].job_task_id, tasks[2].job_task_id
    assert(inv.job_task.start{ job_task_id = t1, domain_id = D })
    assert(inv.job_task.add_error{ job_task_id = t1, domain_id = D, error_code = "E", message = "m" })
    assert(inv.job_task.finish{ job_task_id = t1, domain_id = D, status = "SUCCESS" })
    assert(inv.job_task.finish{ job_task_id = t2, domain_id = D, status = "FAILURE" })
    assert.are.same({ "job_task:upsert:" .. t1, "job_task:upsert:" .. t1, "job_task:upsert:" .. t1,
                      "job:upsert:" .. job.job_id, "job_task:upsert:" .. t2, "job:upsert:" .. job.job_id },
                    ops(since(inv, 3)))
    assert.are.equal("FAILURE", assert(inv.job.get{ job_id = job.job_id, domain_id = D }).status)
  end)

  it("a refused write leaves no row", function()
    local job = assert(inv.job.create{ domain_id = D, collector_id = "c" })   -- no tasks: SUCCESS
    local last = since(inv, 0).last
    local r, _, code = inv.job.cancel{ job_id = job.job_id, domain_id = D }
    assert.is_nil(r)
    assert.are.equal("ERROR_JOB_STATE_CHANGE", code)
    assert.are.same({}, since(inv, last).changes)
  end)

  it("records cancel, and the duplicate jobs a new job cancels", function()
    local a = assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { {} } })
    local last = since(inv, 0).last
    local b = assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { {} } })
    local r = ops(since(inv, last))
    assert.are.same({ "job:upsert:" .. a.job_id, "job:upsert:" .. b.job_id }, { r[1], r[2] })
    last = since(inv, 0).last
    assert(inv.job.cancel{ job_id = b.job_id, domain_id = D })
    assert.are.same({ "job:upsert:" .. b.job_id }, ops(since(inv, last)))
  end)

  it("records deletes: a task (and its job's counters), a job with its tasks", function()
    local job = assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { {}, {} } })
    local ids = {}
    for _, t in ipairs(assert(inv.job_task.list{ domain_id = D, job_id = job.job_id }).results) do
      ids[#ids + 1] = t.job_task_id
    end
    table.sort(ids)
    local last = since(inv, 0).last
    assert(inv.job_task.delete{ job_task_id = ids[1], domain_id = D })
    assert.are.same({ "job_task:delete:" .. ids[1], "job:upsert:" .. job.job_id }, ops(since(inv, last)))
    last = since(inv, 0).last
    assert(inv.job.delete{ job_id = job.job_id, domain_id = D })
    assert.are.same({ "job_task:delete:" .. ids[2], "job:delete:" .. job.job_id }, ops(since(inv, last)))
  end)

  it("records the jobs and tasks a sweep fails", function()
    local job = assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { {} } })
    local task = assert(inv.job_task.list{ domain_id = D, job_id = job.job_id }).results[1]
    local last = since(inv, 0).last
    inv:set_now("2024-05-01T05:00:00.000Z")
    assert.are.same({ jobs = 1, tasks = 1 }, assert(inv:sweep{ timeout_hours = 2 }))
    local r = since(inv, last)
    assert.are.same({ "job_task:upsert:" .. task.job_task_id, "job:upsert:" .. job.job_id }, ops(r))
    assert.are.equal("2024-05-01T05:00:00.000Z", r.changes[1].at)
  end)

  it("records one reset for an import and for a purge", function()
    assert(inv:import("job", H.JOBS))
    local r = since(inv, 0)
    assert.are.same({ "job:reset:" }, ops(r))
    inv:set_now("2024-09-01T00:00:00.000Z")
    assert(inv:purge{ older_than_days = 30 })
    assert.are.same({ "job:reset:" }, ops(since(inv, r.last)))
  end)

  it("pages with after and limit; refuses bad values", function()
    assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { {}, {}, {} } })
    local r = assert(inv:changes{ after = 1, limit = 2 })
    assert.are.same({ 2, 3 }, { r.changes[1].seq, r.changes[2].seq })
    assert.are.equal(4, r.last)
    local _, msg, code, class = inv:changes{ limit = 0 }
    assert.are.same({ "ERROR_INVALID_PARAMETER", "client" }, { code, class })
    assert.truthy(msg:find("limit", 1, true))
    _, _, code = inv:changes{ after = "x" }
    assert.are.equal("ERROR_INVALID_PARAMETER_TYPE", code)
    _, _, code = inv:changes{ since = 1 }
    assert.are.equal("ERROR_INVALID_PARAMETER", code)
  end)

  it("trims by age: first moves past what a late reader missed", function()
    assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { {} } })
    inv:set_now("2024-05-01T02:00:00.000Z")
    assert(inv.job.create{ domain_id = D, collector_id = "c2" })
    assert.are.equal(2, assert(inv:trim_changes{ keep_seconds = 3600 }))
    local r = since(inv, 0)
    assert.are.same({ 3, 3 }, { r.first, r.last })
    assert.is_true(0 < r.first - 1)         -- a reader at 0 missed trimmed changes: it reloads
    assert.are.equal(1, #r.changes)
    -- the newest change is never trimmed, so sequence numbers are never reused
    assert.are.equal(0, assert(inv:trim_changes{ keep_seconds = 0 }))
    assert(inv.job.create{ domain_id = D, collector_id = "c3" })
    assert.are.equal(1, assert(inv:trim_changes{ keep_seconds = 0 }))
    r = since(inv, 0)
    assert.are.same({ 4, 4, 4 }, { r.changes[1].seq, r.first, r.last })
  end)

  it("trims itself every 1,024 changes, keeping journal_seconds", function()
    local s = H.open{ journal_seconds = 60 }
    s:set_now("2024-05-01T00:00:00.000Z")
    for i = 1, 1000 do
      assert(s.job.create{ domain_id = D, collector_id = "c" .. i })
    end
    s:set_now("2024-05-01T00:05:00.000Z")
    for i = 1, 30 do assert(s.job.create{ domain_id = D, collector_id = "d" .. i }) end
    local r = assert(s:changes{ limit = 10000 })
    assert.are.same({ 1001, 1030, 30 }, { r.first, r.last, #r.changes })
    s:close()
  end)

  it("is off with journal_seconds = 0", function()
    local s = H.open{ journal_seconds = 0 }
    assert(s.job.create{ domain_id = D, collector_id = "c", tasks = { {} } })
    assert.are.same({ changes = {}, first = 1, last = 0 }, assert(s:changes{}))
    s:close()
  end)

  it("shows another connection's writes", function()
    local path = os.tmpname()
    local a = assert(inventory.open{ path = path })
    local b = assert(inventory.open{ path = path })
    local job = assert(a.job.create{ domain_id = D, collector_id = "c" })
    assert.are.same({ "job:upsert:" .. job.job_id }, ops(assert(b:changes{})))
    a:close(); b:close()
    for _, sfx in ipairs{ "", "-wal", "-shm" } do os.remove(path .. sfx) end
  end)
end)
