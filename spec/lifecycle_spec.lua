-- spec/lifecycle_spec.lua: the write side (create, start, add_error, finish,
-- cancel, sweep, purge, delete) and reference/lifecycle.md section 6, edge
-- cases 1-13, 17-22, 24-31 and 33-45, with DESIGN.md's fixes where they
-- differ from the reference.
--
-- Not here, on purpose:
--   14-16  v1-compat `mark_error` (TIMEOUT jobs, job-level ERROR): the store
--          imports and serves v1 records, but it never runs the v1
--          lifecycle; its writes follow HEAD (2.x) only.
--   23     DOMAIN_ADMIN passing workspace_id: the store sees only the scope
--          the host gives it (domain_id, workspace_id, user_projects), so a
--          domain admin who names a workspace is a workspace caller (22).
--   32     per-plugin task concurrency: the gate lives in the host's worker
--          (it re-enqueues the message); the store has no plugin metadata.
local inventory = require "inventory"
local cjson = require "cjson"
local H = require "spec.helper"

local D = "domain-1"
local MIN, HOUR, DAY = 60000, 3600000, 86400000
local T0 = 1709294400000                  -- 2024-03-01T12:00:00.000Z

local function iso(ms)
  return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(ms / 1000))
         .. string.format(".%03dZ", ms % 1000)
end

local tmpdb, rmdb = H.tmpdb, H.rmdb

-- A job created at `at` with n tasks (secret-1 .. secret-n, project-1 ..),
-- and its tasks in that order.
local function mkjob(inv, n, opts)
  opts = opts or {}
  if opts.at then inv:set_now(opts.at) end
  local tasks = {}
  for i = 1, n do
    tasks[i] = { secret_id = "secret-" .. i, service_account_id = "sa-" .. i,
                 project_id = opts.projects and opts.projects[i] or "project-" .. i,
                 workspace_id = opts.task_ws, provider = "aws", sub_tasks = opts.sub_tasks }
  end
  local job = assert(inv.job.create{
    domain_id = opts.domain or D, collector_id = opts.collector or "collector-1",
    plugin_id = "plugin-aws", workspace_id = opts.ws,
    request_secret_id = opts.secret, request_workspace_id = opts.rws, tasks = tasks,
  })
  local list = assert(inv.job_task.list{ domain_id = opts.domain or D, job_id = job.job_id,
                                         query = { sort = { { key = "secret_id" } } } })
  local ids = {}
  for i, t in ipairs(list.results) do ids[i] = t.job_task_id end
  return job, ids
end

local function job(inv, id, domain)
  return assert(inv.job.get{ job_id = id, domain_id = domain or D })
end
local function task(inv, id, domain)
  return assert(inv.job_task.get{ job_task_id = id, domain_id = domain or D })
end
local function finish(inv, id, status, counts)
  local req = { job_task_id = id, domain_id = D, status = status or "SUCCESS" }
  for k, v in pairs(counts or {}) do req[k] = v end
  return inv.job_task.finish(req)
end
-- the REST rendering, decoded
local function rest(inv, resource, method, req)
  return cjson.decode((assert(inv:call(resource, method, req, true))))
end
local function start(inv, id) return inv.job_task.start{ job_task_id = id, domain_id = D } end

-- The REST rendering of everything in the given domains: equal snapshots
-- mean the store did not change.
local function snapshot(inv, domains)
  local out = {}
  for _, d in ipairs(domains or { D }) do
    out[#out + 1] = assert(inv:call("job", "list", { domain_id = d }, true))
    out[#out + 1] = assert(inv:call("job_task", "list", { domain_id = d }, true))
  end
  return table.concat(out, "\n")
end

local fails = H.fails

describe("lifecycle", function()
  local inv
  before_each(function()
    inv = assert(inventory.open{ path = ":memory:" })
    inv:set_now(T0)
  end)
  after_each(function() inv:close() end)

  describe("create", function()
    it("creates an IN_PROGRESS job with PENDING tasks (counters, ids, scope)", function()
      local j, ids = mkjob(inv, 3)
      assert.are.equal("IN_PROGRESS", j.status)
      assert.are.same({ 3, 3, 0, 0 }, { j.total_tasks, j.remained_tasks, j.success_tasks, j.failure_tasks })
      assert.are.equal("DOMAIN", j.resource_group)
      assert.are.equal("*", j.workspace_id)
      assert.are.equal("plugin-aws", j.plugin_id)
      assert.are.equal(iso(T0), j.created_at)
      assert.are.equal(iso(T0), j.updated_at)
      assert.is_nil(j.finished_at)
      assert.is_nil(j.request_secret_id)
      assert.are.equal(3, #ids)
      for i, id in ipairs(ids) do
        local t = task(inv, id)
        assert.are.equal("PENDING", t.status)
        assert.are.equal(j.job_id, t.job_id)
        assert.are.equal("secret-" .. i, t.secret_id)
        assert.are.equal("sa-" .. i, t.service_account_id)
        assert.are.equal("project-" .. i, t.project_id)
        assert.are.equal("aws", t.provider)              -- DESIGN: provider is stored
        assert.are.equal("*", t.workspace_id)            -- the job's when the secret has none
        assert.are.same({ 0, 0, 0, 0, 0 }, { t.created_count, t.updated_count, t.deleted_count,
                                             t.disconnected_count, t.failure_count })
        assert.are.same({}, t.errors)
        assert.is_nil(t.started_at)
        assert.is_nil(t.finished_at)
        assert.is_nil(t.total_sub_tasks)                 -- not exposed
        assert.is_nil(t.collector_id)
      end
    end)

    it("edge 1: a job with no task succeeds at once", function()
      for _, tasks in ipairs{ {}, inventory.null } do
        local j = assert(inv.job.create{ domain_id = D, collector_id = "collector-0", tasks = tasks })
        assert.are.equal("SUCCESS", j.status)
        assert.are.same({ 0, 0, 0, 0 }, { j.total_tasks, j.remained_tasks, j.success_tasks, j.failure_tasks })
        assert.are.equal(iso(T0), j.finished_at)
        assert.are.equal(0, assert(inv.job_task.list{ domain_id = D, job_id = j.job_id }).total_count)
      end
      local j = assert(inv.job.create{ domain_id = D, collector_id = "collector-0" })
      assert.are.equal("SUCCESS", j.status)
    end)

    it("edge 41: ids are job-<12 hex> and job-task-<12 hex>, lowercase, unique", function()
      local seen = {}
      for _ = 1, 20 do
        local j, ids = mkjob(inv, 2, { collector = "c-" .. #seen })
        assert.matches("^job%-%x%x%x%x%x%x%x%x%x%x%x%x$", j.job_id)
        assert.is_nil(j.job_id:find("%u"))
        assert.is_nil(seen[j.job_id]); seen[j.job_id] = true
        for _, id in ipairs(ids) do
          assert.matches("^job%-task%-%x%x%x%x%x%x%x%x%x%x%x%x$", id)
          assert.is_nil(id:find("%u"))
          assert.is_nil(seen[id]); seen[id] = true
        end
      end
    end)

    it("edge 41: legacy job_task- ids are found by get, start and finish after import", function()
      assert(inv:import("job", { { job_id = "job-0123456789ab", status = "IN_PROGRESS", domain_id = D,
                                   total_tasks = 1, remained_tasks = 1,
                                   created_at = "2024-03-01T11:00:00.000Z" } }))
      assert(inv:import("job_task", { { job_task_id = "job_task-69b301d0fbfc", status = "PENDING",
                                        job_id = "job-0123456789ab", domain_id = D,
                                        created_at = "2024-03-01T11:00:00.100Z" } }))
      assert.are.equal("job_task-69b301d0fbfc", task(inv, "job_task-69b301d0fbfc").job_task_id)
      assert.are.equal("IN_PROGRESS", assert(start(inv, "job_task-69b301d0fbfc")).status)
      assert.are.equal("SUCCESS", assert(finish(inv, "job_task-69b301d0fbfc")).status)
      local j = job(inv, "job-0123456789ab")
      assert.are.same({ "SUCCESS", 0, 1 }, { j.status, j.remained_tasks, j.success_tasks })
    end)

    it("takes workspace, resource group, request ids and the task's own workspace", function()
      local j = assert(inv.job.create{
        domain_id = D, collector_id = "collector-1", workspace_id = "ws-1",
        request_secret_id = "secret-9", request_workspace_id = "ws-1",
        tasks = { { secret_id = "secret-9", workspace_id = "ws-2" }, { secret_id = "secret-8" } },
      })
      assert.are.same({ "WORKSPACE", "ws-1", "secret-9", "ws-1" },
                      { j.resource_group, j.workspace_id, j.request_secret_id, j.request_workspace_id })
      local l = assert(inv.job_task.list{ domain_id = D, job_id = j.job_id,
                                          query = { sort = { { key = "secret_id" } } } })
      assert.are.same({ "ws-1", "ws-2" }, { l.results[1].workspace_id, l.results[2].workspace_id })
      assert.is_nil(l.results[1].provider)
    end)
  end)

  describe("task transitions", function()
    it("edge 2: three successes finish the job once, at the last one", function()
      local j, ids = mkjob(inv, 3)
      inv:set_now(T0 + MIN); assert(finish(inv, ids[1], "SUCCESS", { created_count = 2 }))
      inv:set_now(T0 + 2 * MIN); assert(finish(inv, ids[2], "SUCCESS", { updated_count = 4 }))
      local mid = job(inv, j.job_id)
      assert.are.same({ "IN_PROGRESS", 1, 2, 0 },
                      { mid.status, mid.remained_tasks, mid.success_tasks, mid.failure_tasks })
      assert.is_nil(mid.finished_at)
      inv:set_now(T0 + 3 * MIN); assert(finish(inv, ids[3]))
      local fin = job(inv, j.job_id)
      assert.are.same({ "SUCCESS", 0, 3, 0 },
                      { fin.status, fin.remained_tasks, fin.success_tasks, fin.failure_tasks })
      assert.are.equal(iso(T0 + 3 * MIN), fin.finished_at)
      assert.is_true(fin.updated_at >= fin.finished_at)
      local t = task(inv, ids[1])
      assert.are.same({ "SUCCESS", 2, iso(T0 + MIN), iso(T0 + MIN) },
                      { t.status, t.created_count, t.started_at, t.finished_at })
    end)

    it("edge 3: an early failure does not finish the job early", function()
      local j, ids = mkjob(inv, 3)
      assert(start(inv, ids[1]))
      local t = assert(finish(inv, ids[1], "FAILURE", { failure_count = 1 }))
      assert.are.same({ "FAILURE", 1 }, { t.status, t.failure_count })
      assert.are.equal("IN_PROGRESS", job(inv, j.job_id).status)
      assert(finish(inv, ids[2])); assert(finish(inv, ids[3]))
      local fin = job(inv, j.job_id)
      assert.are.same({ "FAILURE", 0, 2, 1 },
                      { fin.status, fin.remained_tasks, fin.success_tasks, fin.failure_tasks })
      assert.is_string(fin.finished_at)
    end)

    it("edge 4: two failures make a FAILURE job", function()
      local j, ids = mkjob(inv, 2)
      assert(finish(inv, ids[1], "FAILURE")); assert(finish(inv, ids[2], "FAILURE"))
      local fin = job(inv, j.job_id)
      assert.are.same({ "FAILURE", 0, 0, 2 },
                      { fin.status, fin.remained_tasks, fin.success_tasks, fin.failure_tasks })
    end)

    it("edge 5: start is idempotent; started_at is the first call's time", function()
      local _, ids = mkjob(inv, 1)
      inv:set_now(T0 + MIN)
      local a = assert(start(inv, ids[1]))
      inv:set_now(T0 + 2 * MIN)
      local b = assert(start(inv, ids[1]))
      assert.are.same({ "IN_PROGRESS", iso(T0 + MIN) }, { a.status, a.started_at })
      assert.are.same({ "IN_PROGRESS", iso(T0 + MIN) }, { b.status, b.started_at })
    end)

    it("edge 6: start on a SUCCESS or FAILURE task changes nothing", function()
      local j, ids = mkjob(inv, 2)
      inv:set_now(T0 + MIN)
      assert(start(inv, ids[1])); assert(finish(inv, ids[1]))
      assert(finish(inv, ids[2], "FAILURE"))                   -- never started
      local before = snapshot(inv)
      inv:set_now(T0 + 5 * MIN)
      local a = assert(start(inv, ids[1]))
      local b = assert(start(inv, ids[2]))
      assert.are.same({ "SUCCESS", iso(T0 + MIN) }, { a.status, a.started_at })
      assert.are.equal("FAILURE", b.status)
      assert.are.equal(before, snapshot(inv))
      assert.are.equal("FAILURE", job(inv, j.job_id).status)
    end)

    it("finish without start sets started_at (the task did run)", function()
      local _, ids = mkjob(inv, 1)
      local t = assert(finish(inv, ids[1]))
      assert.are.equal(iso(T0), t.started_at)
    end)

    it("edge 29: non-positive counts are ignored", function()
      local _, ids = mkjob(inv, 1, { sub_tasks = 3 })
      assert(finish(inv, ids[1], "SUCCESS", { created_count = 3, updated_count = 1 }))
      local t = assert(finish(inv, ids[1], "SUCCESS", { created_count = 0, disconnected_count = -2,
                                                        updated_count = -7, failure_count = 0 }))
      assert.are.same({ 3, 1, 0, 0, 0 }, { t.created_count, t.updated_count, t.disconnected_count,
                                           t.deleted_count, t.failure_count })
    end)

    it("edge 31: a report after the task is done is ERROR_JOB_TASK_STATE_CHANGE, nothing moves", function()
      local j, ids = mkjob(inv, 1)
      assert(finish(inv, ids[1], "SUCCESS", { created_count = 1 }))
      local before = snapshot(inv)
      inv:set_now(T0 + HOUR)
      local msg = fails("ERROR_JOB_TASK_STATE_CHANGE",
                        finish(inv, ids[1], "SUCCESS", { created_count = 5 }))
      assert.matches(ids[1], msg, 1, true)
      fails("ERROR_JOB_TASK_STATE_CHANGE", finish(inv, ids[1], "FAILURE"))
      assert.are.equal(before, snapshot(inv))
      local fin = job(inv, j.job_id)
      assert.are.same({ 0, 1, 0 }, { fin.remained_tasks, fin.success_tasks, fin.failure_tasks })
    end)
  end)

  describe("sub-tasks", function()
    it("edge 27: a failed sub-task fails the task at once; the job counts it at the last", function()
      local j, ids = mkjob(inv, 2, { sub_tasks = 3 })
      assert(start(inv, ids[1]))
      inv:set_now(T0 + MIN)
      local t = assert(finish(inv, ids[1], "FAILURE", { failure_count = 1 }))
      assert.are.same({ "FAILURE", iso(T0 + MIN) }, { t.status, t.finished_at })
      local mid = job(inv, j.job_id)
      assert.are.same({ 2, 0, 0 }, { mid.remained_tasks, mid.success_tasks, mid.failure_tasks })
      inv:set_now(T0 + 2 * MIN)
      assert(finish(inv, ids[1], "SUCCESS", { created_count = 5 }))
      mid = job(inv, j.job_id)
      assert.are.same({ 2, 0, 0 }, { mid.remained_tasks, mid.success_tasks, mid.failure_tasks })
      inv:set_now(T0 + 3 * MIN)
      t = assert(finish(inv, ids[1], "SUCCESS", { created_count = 7 }))
      assert.are.same({ "FAILURE", 12, 1 }, { t.status, t.created_count, t.failure_count })
      assert.are.equal(iso(T0 + MIN), t.finished_at)          -- the failure's time
      local fin = job(inv, j.job_id)
      assert.are.same({ "IN_PROGRESS", 1, 0, 1 },
                      { fin.status, fin.remained_tasks, fin.success_tasks, fin.failure_tasks })
      fails("ERROR_JOB_TASK_STATE_CHANGE", finish(inv, ids[1]))  -- a 4th report
    end)

    it("edge 28: the task succeeds after its last sub-task; counts add up", function()
      local j, ids = mkjob(inv, 1, { sub_tasks = 2 })
      assert(start(inv, ids[1]))
      local t = assert(finish(inv, ids[1], "SUCCESS", { created_count = 1, disconnected_count = 2 }))
      assert.are.equal("IN_PROGRESS", t.status)
      assert.is_nil(t.finished_at)
      local mid = job(inv, j.job_id)
      assert.are.same({ "IN_PROGRESS", 1, 0 }, { mid.status, mid.remained_tasks, mid.success_tasks })
      inv:set_now(T0 + MIN)
      t = assert(finish(inv, ids[1], "SUCCESS", { deleted_count = 3, disconnected_count = 1 }))
      assert.are.same({ "SUCCESS", 1, 3, 3, iso(T0 + MIN) },
                      { t.status, t.created_count, t.deleted_count, t.disconnected_count, t.finished_at })
      local fin = job(inv, j.job_id)
      assert.are.same({ "SUCCESS", 0, 1 }, { fin.status, fin.remained_tasks, fin.success_tasks })
    end)

    it("rejects bad sub_tasks and creates nothing", function()
      for _, bad in ipairs{ 0, -1, 1.5, "2", true, 1000001 } do
        local before = snapshot(inv)
        fails("ERROR_INVALID_PARAMETER", inv.job.create{ domain_id = D, collector_id = "c",
                                                          tasks = { { sub_tasks = bad } } })
        assert.are.equal(before, snapshot(inv))
      end
    end)
  end)

  describe("errors on tasks (edge 26)", function()
    it("appends in order, trims the message, drops an empty additional", function()
      local _, ids = mkjob(inv, 1)
      assert(inv.job_task.add_error{ job_task_id = ids[1], domain_id = D, error_code = "ERROR_A",
                                     message = "  boom \n", additional = {} })
      assert(inv.job_task.add_error{ job_task_id = ids[1], domain_id = D, error_code = "ERROR_B",
                                     message = "second",
                                     additional = { resource_type = "inventory.CloudService" } })
      local t = assert(inv.job_task.add_error{ job_task_id = ids[1], domain_id = D,
                                               error_code = "ERROR_C" })
      assert.are.same({
        { error_code = "ERROR_A", message = "boom" },
        { error_code = "ERROR_B", message = "second",
          additional = { resource_type = "inventory.CloudService" } },
        { error_code = "ERROR_C", message = "" },
      }, t.errors)
      assert.are.equal("PENDING", t.status)                   -- an error changes no status
      local r = rest(inv, "job_task", "get", { job_task_id = ids[1], domain_id = D })
      assert.is_nil(r.errors[1].additional)                   -- absent, not {}
      assert.are.equal("inventory.CloudService", r.errors[2].additional.resource_type)
    end)

    it("rejects bad requests without appending", function()
      local _, ids = mkjob(inv, 1)
      local before = snapshot(inv)
      fails("ERROR_REQUIRED_PARAMETER", inv.job_task.add_error{ job_task_id = ids[1], domain_id = D })
      fails("ERROR_INVALID_PARAMETER_TYPE", inv.job_task.add_error{
        job_task_id = ids[1], domain_id = D, error_code = "E", additional = "x" })
      fails("ERROR_INVALID_PARAMETER_TYPE", inv.job_task.add_error{
        job_task_id = ids[1], domain_id = D, error_code = "E", message = 5 })
      fails("ERROR_INVALID_PARAMETER", inv.job_task.add_error{
        job_task_id = ids[1], domain_id = D, error_code = "E", severity = "high" })
      fails("ERROR_NOT_FOUND", inv.job_task.add_error{
        job_task_id = ids[1], domain_id = "domain-2", error_code = "E" })
      assert.are.equal(before, snapshot(inv))
    end)

    it("keeps appends from two connections to one file", function()
      local path = tmpdb()
      local a = assert(inventory.open{ path = path })
      local b = assert(inventory.open{ path = path })
      local _, ids = mkjob(a, 1)
      for i = 1, 5 do
        assert(a.job_task.add_error{ job_task_id = ids[1], domain_id = D, error_code = "A" .. i })
        assert(b.job_task.add_error{ job_task_id = ids[1], domain_id = D, error_code = "B" .. i })
      end
      local codes = {}
      for i, e in ipairs(task(a, ids[1]).errors) do codes[i] = e.error_code end
      assert.are.same({ "A1", "B1", "A2", "B2", "A3", "B3", "A4", "B4", "A5", "B5" }, codes)
      a:close(); b:close(); rmdb(path)
    end)
  end)

  describe("duplicate cancellation at create", function()
    it("edge 7: the same collector, domain and null request ids cancel the running job", function()
      local old = mkjob(inv, 2)
      inv:set_now(T0 + 10 * MIN)
      local new = mkjob(inv, 1)
      local o = job(inv, old.job_id)
      assert.are.same({ "CANCELED", iso(T0 + 10 * MIN), iso(T0 + 10 * MIN) },
                      { o.status, o.finished_at, o.updated_at })
      assert.are.equal(2, o.remained_tasks)                   -- tasks fail when they start
      assert.are.equal("IN_PROGRESS", job(inv, new.job_id).status)
    end)

    it("edge 7: cancels even when the new job has no task; same non-null ids match", function()
      local old = mkjob(inv, 1, { secret = "secret-1", rws = "ws-1" })
      assert(inv.job.create{ domain_id = D, collector_id = "collector-1",
                             request_secret_id = "secret-1", request_workspace_id = "ws-1" })
      assert.are.equal("CANCELED", job(inv, old.job_id).status)
    end)

    it("edge 8: a different request secret, request workspace, collector or domain cancels nothing", function()
      local old = mkjob(inv, 1)
      local before = snapshot(inv)
      mkjob(inv, 1, { secret = "secret-1" })
      mkjob(inv, 1, { rws = "ws-1" })
      mkjob(inv, 1, { collector = "collector-2" })
      mkjob(inv, 1, { domain = "domain-2" })
      local o = job(inv, old.job_id)
      assert.are.same({ "IN_PROGRESS", iso(T0) }, { o.status, o.updated_at })
      assert.is_nil(o.finished_at)
      assert.are_not.equal(before, snapshot(inv))
      -- and the non-null ones only cancel their exact twins
      local s1 = assert(inv.job.list{ domain_id = D, query = { filter = {
        { k = "request_secret_id", v = "secret-1", o = "eq" } } } }).results[1]
      mkjob(inv, 1, { secret = "secret-2" })
      assert.are.equal("IN_PROGRESS", job(inv, s1.job_id).status)
      mkjob(inv, 1, { secret = "secret-1" })
      assert.are.equal("CANCELED", job(inv, s1.job_id).status)
    end)

    it("edge 9: a finished job is left alone", function()
      local old, ids = mkjob(inv, 1)
      assert(finish(inv, ids[1]))
      local before = job(inv, old.job_id)
      inv:set_now(T0 + HOUR)
      mkjob(inv, 1)
      assert.are.same(before, job(inv, old.job_id))
    end)
  end)

  describe("cancel", function()
    it("cancels an IN_PROGRESS job; a second cancel is ERROR_JOB_STATE_CHANGE", function()
      local j = mkjob(inv, 2)
      inv:set_now(T0 + MIN)
      local c = assert(inv.job.cancel{ job_id = j.job_id, domain_id = D })
      assert.are.same({ "CANCELED", iso(T0 + MIN), iso(T0 + MIN) }, { c.status, c.finished_at, c.updated_at })
      fails("ERROR_JOB_STATE_CHANGE", inv.job.cancel{ job_id = j.job_id, domain_id = D })
      fails("ERROR_NOT_FOUND", inv.job.cancel{ job_id = j.job_id, domain_id = "domain-2" })
      fails("ERROR_REQUIRED_PARAMETER", inv.job.cancel{ job_id = j.job_id })
    end)

    it("edge 10: a task of a canceled job fails on start with ERROR_COLLECT_CANCELED", function()
      local j, ids = mkjob(inv, 2)
      inv:set_now(T0 + MIN)
      assert(inv.job.cancel{ job_id = j.job_id, domain_id = D })
      inv:set_now(T0 + 2 * MIN)
      local t = assert(start(inv, ids[1]))
      assert.are.equal("FAILURE", t.status)
      assert.is_nil(t.started_at)
      assert.are.equal(iso(T0 + 2 * MIN), t.finished_at)
      assert.are.same({ { error_code = "ERROR_COLLECT_CANCELED", message = "The job has been canceled." } },
                      t.errors)
      local c = job(inv, j.job_id)
      assert.are.same({ "CANCELED", iso(T0 + MIN), 1, 1, 0 },
                      { c.status, c.finished_at, c.remained_tasks, c.failure_tasks, c.success_tasks })
      -- the failed task is done: a later report or start changes nothing
      fails("ERROR_JOB_TASK_STATE_CHANGE", finish(inv, ids[1]))
      assert.are.equal(1, #assert(start(inv, ids[1])).errors)
    end)

    it("edge 10: a task started before the cancel fails on its next start", function()
      local j, ids = mkjob(inv, 1, { sub_tasks = 2 })
      assert(start(inv, ids[1]))
      assert(finish(inv, ids[1]))                              -- 1 of 2 sub-tasks
      assert(inv.job.cancel{ job_id = j.job_id, domain_id = D })
      local t = assert(start(inv, ids[1]))
      assert.are.same({ "FAILURE", iso(T0) }, { t.status, t.started_at })
      local c = job(inv, j.job_id)
      assert.are.same({ "CANCELED", 0, 1 }, { c.status, c.remained_tasks, c.failure_tasks })
    end)

    it("edge 11: the last task of a canceled job moves counters, not the status", function()
      local j, ids = mkjob(inv, 1)
      assert(start(inv, ids[1]))
      inv:set_now(T0 + MIN)
      assert(inv.job.cancel{ job_id = j.job_id, domain_id = D })
      inv:set_now(T0 + 2 * MIN)
      assert(finish(inv, ids[1]))
      local c = job(inv, j.job_id)
      assert.are.same({ "CANCELED", 0, 1, iso(T0 + MIN) },
                      { c.status, c.remained_tasks, c.success_tasks, c.finished_at })
    end)
  end)

  describe("finalisation exactly once", function()
    -- Run `body` (Lua source of a function(inv, arg)) in two child
    -- processes at once, on the store file `path`, one with each argument.
    local function in_parallel(path, body, arg_a, arg_b)
      local lua = type(jit) == "table" and "luajit" or "lua5.4"
      local go, child = path .. ".go", path .. ".child.lua"
      local f = assert(io.open(child, "w"))
      f:write(string.format([[
package.path = %q
package.cpath = %q
local inventory = require "inventory"
local path, go, arg = ...
local inv = assert(inventory.open{ path = path, busy_timeout = 20000 })
local body = %s
while not io.open(go) do end
body(inv, arg)
inv:close()
io.write("done")
]], package.path, package.cpath, body))
      f:close()
      local function spawn(a)
        return assert(io.popen(string.format("%s %q %q %q %q", lua, child, path, go, a)))
      end
      local pa, pb = spawn(arg_a), spawn(arg_b)
      assert(io.open(go, "w")):close()
      assert.are.equal("done", pa:read("*a"))
      assert.are.equal("done", pb:read("*a"))
      pa:close(); pb:close()
      os.remove(go); os.remove(child)
    end

    it("edge 30: two processes finishing the last tasks finalise every job once", function()
      local path = tmpdb()
      local inv2 = assert(inventory.open{ path = path })
      local N = 40
      local left, right = {}, {}
      for i = 1, N do
        local _, ids = mkjob(inv2, 2, { collector = "collector-" .. i })
        left[i], right[i] = ids[1], ids[2]
      end
      in_parallel(path, [[function(inv, ids)
        for id in ids:gmatch("[^,]+") do
          assert(inv.job_task.finish{ job_task_id = id, domain_id = "domain-1", status = "SUCCESS",
                                      created_count = 1 })
        end
      end]], table.concat(left, ","), table.concat(right, ","))
      local l = assert(inv2.job.list{ domain_id = D })
      assert.are.equal(N, l.total_count)
      for _, j in ipairs(l.results) do
        assert.are.same({ "SUCCESS", 0, 2, 0, 2 },
                        { j.status, j.remained_tasks, j.success_tasks, j.failure_tasks, j.total_tasks })
        assert.is_string(j.finished_at)
      end
      inv2:close()
      rmdb(path)
    end)

    it("edge 30: two processes reporting sub-tasks of one task count each once", function()
      local path = tmpdb()
      local inv2 = assert(inventory.open{ path = path })
      local j, ids = mkjob(inv2, 1, { sub_tasks = 40 })
      in_parallel(path, [[function(inv, id)
        for _ = 1, 20 do
          assert(inv.job_task.finish{ job_task_id = id, domain_id = "domain-1", status = "SUCCESS",
                                      created_count = 1 })
        end
      end]], ids[1], ids[1])
      local t = task(inv2, ids[1])
      assert.are.same({ "SUCCESS", 40 }, { t.status, t.created_count })
      local fin = job(inv2, j.job_id)
      assert.are.same({ "SUCCESS", 0, 1, 0 }, { fin.status, fin.remained_tasks, fin.success_tasks, fin.failure_tasks })
      fails("ERROR_JOB_TASK_STATE_CHANGE", inv2.job_task.finish{ job_task_id = ids[1], domain_id = D,
                                                                 status = "SUCCESS" })
      inv2:close()
      rmdb(path)
    end)

    it("two processes creating jobs of one collector leave exactly one running", function()
      local path = tmpdb()
      assert(inventory.open{ path = path }):close()          -- schema first
      in_parallel(path, [[function(inv, who)
        for i = 1, 30 do
          assert(inv.job.create{ domain_id = "domain-1", collector_id = "collector-1",
                                 tasks = { { secret_id = who .. i } } })
        end
      end]], "a", "b")
      local inv2 = assert(inventory.open{ path = path })
      assert.are.equal(60, assert(inv2.job.list{ domain_id = D }).total_count)
      assert.are.equal(1, assert(inv2.job.list{ domain_id = D, status = "IN_PROGRESS" }).total_count)
      assert.are.equal(59, assert(inv2.job.list{ domain_id = D, status = "CANCELED" }).total_count)
      inv2:close()
      rmdb(path)
    end)

    it("remained_tasks never goes below 0, even for an imported inconsistent job", function()
      assert(inv:import("job", { { job_id = "job-00000000000a", status = "IN_PROGRESS", domain_id = D,
                                   total_tasks = 2, remained_tasks = 0,
                                   created_at = "2024-03-01T11:00:00.000Z" } }))
      assert(inv:import("job_task", {
        { job_task_id = "job-task-00000000000a", status = "PENDING", job_id = "job-00000000000a", domain_id = D },
        { job_task_id = "job-task-00000000000b", status = "PENDING", job_id = "job-00000000000a", domain_id = D },
      }))
      assert(finish(inv, "job-task-00000000000a"))
      local j = job(inv, "job-00000000000a")
      assert.are.same({ "SUCCESS", 0, 1, 0 }, { j.status, j.remained_tasks, j.success_tasks, j.failure_tasks })
      inv:set_now(T0 + MIN)
      assert(finish(inv, "job-task-00000000000b", "FAILURE"))
      j = job(inv, "job-00000000000a")
      -- counted, clamped at 0, and not finalised a second time
      assert.are.same({ "SUCCESS", 0, 1, 1, iso(T0) },
                      { j.status, j.remained_tasks, j.success_tasks, j.failure_tasks, j.finished_at })
    end)

    it("a finished job keeps its finished_at when later writes touch it", function()
      local j, ids = mkjob(inv, 2)
      assert(finish(inv, ids[1]))
      inv:set_now(T0 + MIN)
      assert(finish(inv, ids[2]))
      inv:set_now(T0 + 2 * MIN)
      assert(inv.job_task.delete{ job_task_id = ids[1], domain_id = D })
      fails("ERROR_JOB_STATE_CHANGE", inv.job.cancel{ job_id = j.job_id, domain_id = D })
      assert.are.same({ "SUCCESS", iso(T0 + MIN) }, { job(inv, j.job_id).status, job(inv, j.job_id).finished_at })
    end)
  end)

  describe("updated_at (edge 42, DESIGN: moves on every write)", function()
    it("moves on counter changes as well as on status changes", function()
      local j, ids = mkjob(inv, 3)
      inv:set_now(T0 + MIN)
      assert(start(inv, ids[1]))                               -- touches only the task
      assert.are.equal(iso(T0), job(inv, j.job_id).updated_at)
      inv:set_now(T0 + 2 * MIN)
      assert(finish(inv, ids[1]))                              -- counters only
      assert.are.equal(iso(T0 + 2 * MIN), job(inv, j.job_id).updated_at)
      inv:set_now(T0 + 3 * MIN)
      assert(inv.job_task.delete{ job_task_id = ids[2], domain_id = D })   -- counters only
      assert.are.equal(iso(T0 + 3 * MIN), job(inv, j.job_id).updated_at)
      inv:set_now(T0 + 4 * MIN)
      assert(finish(inv, ids[3]))                              -- status
      local fin = job(inv, j.job_id)
      assert.are.same({ "SUCCESS", iso(T0 + 4 * MIN), iso(T0 + 4 * MIN) },
                      { fin.status, fin.updated_at, fin.finished_at })
    end)
  end)

  describe("timeout sweep", function()
    it("edge 12: fails IN_PROGRESS jobs older than the timeout, per domain", function()
      local T = T0 + 10 * HOUR
      local old = mkjob(inv, 1, { at = T - 2 * HOUR - 1000, collector = "c-old" })
      local young = mkjob(inv, 1, { at = T - HOUR - 59 * MIN, collector = "c-young" })
      local done, dids = mkjob(inv, 1, { at = T - 5 * HOUR, collector = "c-done" })
      assert(finish(inv, dids[1]))
      local other = mkjob(inv, 1, { at = T - 3 * HOUR, collector = "c-old", domain = "domain-2" })
      local edge = mkjob(inv, 1, { at = T - 2 * HOUR, collector = "c-edge" })   -- exactly 2 h: kept
      local before_done = job(inv, done.job_id)
      inv:set_now(T)
      assert.are.same({ jobs = 1, tasks = 1 }, assert(inv:sweep{ timeout_hours = 2, domain_id = D }))
      local o = job(inv, old.job_id)
      assert.are.same({ "FAILURE", iso(T), iso(T) }, { o.status, o.finished_at, o.updated_at })
      assert.are.equal("IN_PROGRESS", job(inv, young.job_id).status)
      assert.are.equal("IN_PROGRESS", job(inv, edge.job_id).status)
      assert.are.same(before_done, job(inv, done.job_id))
      assert.are.equal("IN_PROGRESS", job(inv, other.job_id, "domain-2").status)
      assert.are.same({ jobs = 1, tasks = 1 }, assert(inv:sweep{}))         -- all domains, 2 h
      assert.are.equal("FAILURE", job(inv, other.job_id, "domain-2").status)
      assert.are.same({ jobs = 0, tasks = 0 }, assert(inv:sweep{}))
      assert.are.same({ jobs = 2, tasks = 2 }, assert(inv:sweep{ timeout_hours = 0 }))   -- young, edge
    end)

    it("DESIGN: also fails the job's unfinished tasks, with an error", function()
      local j, ids = mkjob(inv, 3, { sub_tasks = 2 })
      assert(start(inv, ids[1])); assert(finish(inv, ids[1])); assert(finish(inv, ids[1]))  -- SUCCESS
      assert(start(inv, ids[2])); assert(finish(inv, ids[2]))                             -- 1 of 2
      inv:set_now(T0 + 3 * HOUR)
      assert.are.same({ jobs = 1, tasks = 2 }, assert(inv:sweep{}))
      local fin = job(inv, j.job_id)
      assert.are.same({ "FAILURE", 0, 1, 2, iso(T0 + 3 * HOUR) },
                      { fin.status, fin.remained_tasks, fin.success_tasks, fin.failure_tasks, fin.finished_at })
      assert.are.equal("SUCCESS", task(inv, ids[1]).status)
      assert.are.same({}, task(inv, ids[1]).errors)
      for i = 2, 3 do
        local t = task(inv, ids[i])
        assert.are.same({ "FAILURE", iso(T0 + 3 * HOUR) }, { t.status, t.finished_at })
        assert.are.equal(1, #t.errors)
        assert.are.equal("ERROR_JOB_TIMEOUT", t.errors[1].error_code)
        assert.is_truthy(t.errors[1].message:find("timed out", 1, true))
      end
      assert.are.equal(iso(T0), task(inv, ids[2]).started_at)
      assert.is_nil(task(inv, ids[3]).started_at)
    end)

    it("edge 13: a late report on a timed-out job is refused; the job stays as swept", function()
      local j, ids = mkjob(inv, 2)
      assert(start(inv, ids[1]))
      inv:set_now(T0 + 3 * HOUR)
      assert(inv:sweep{})
      local swept = job(inv, j.job_id)
      local before = snapshot(inv)
      inv:set_now(T0 + 4 * HOUR)
      fails("ERROR_JOB_TASK_STATE_CHANGE", finish(inv, ids[1]))
      fails("ERROR_JOB_TASK_STATE_CHANGE", finish(inv, ids[2], "FAILURE"))
      assert.are.equal("FAILURE", assert(start(inv, ids[2])).status)   -- no-op
      assert.are.equal(before, snapshot(inv))
      assert.are.same(swept, job(inv, j.job_id))
      assert.are.equal(iso(T0 + 3 * HOUR), swept.finished_at)
    end)

    it("rejects bad arguments and changes nothing", function()
      mkjob(inv, 1)
      inv:set_now(T0 + 5 * HOUR)
      local before = snapshot(inv)
      fails("ERROR_INVALID_PARAMETER_TYPE", inv:sweep{ timeout_hours = "2" })
      fails("ERROR_INVALID_PARAMETER_TYPE", inv:sweep{ timeout_hours = true })
      fails("ERROR_INVALID_PARAMETER", inv:sweep{ timeout_hours = -1 })
      fails("ERROR_INVALID_PARAMETER", inv:sweep{ timeout = 2 })
      fails("ERROR_INVALID_PARAMETER_TYPE", inv:sweep{ domain_id = 7 })
      assert.are.equal(before, snapshot(inv))
    end)
  end)

  describe("retention purge (edge 17)", function()
    local path
    before_each(function()
      inv:close()
      path = tmpdb()
      inv = assert(inventory.open{ path = path })
    end)
    after_each(function() inv:close(); rmdb(path) end)

    it("deletes old jobs and tasks whatever their status, cascading by job", function()
      local T = T0 + 100 * DAY
      local old, oids = mkjob(inv, 2, { at = T - 61 * DAY, collector = "c-old" })   -- IN_PROGRESS, PENDING
      local kept, kids = mkjob(inv, 2, { at = T - 59 * DAY, collector = "c-kept" })
      assert(finish(inv, kids[1]))
      assert(inv:import("job", { { job_id = "job-00000000000e", status = "SUCCESS", domain_id = D,
                                   created_at = iso(T - 60 * DAY - 5000) } }))
      assert(inv:import("job_task", { { job_task_id = "job-task-00000000000e", status = "SUCCESS",
                                        job_id = "job-00000000000e", domain_id = D,
                                        created_at = iso(T - 60 * DAY + 5000) } }))
      local other = mkjob(inv, 1, { at = T - 90 * DAY, domain = "domain-2" })
      inv:set_now(T)
      assert.are.same({ jobs = 2, tasks = 3 }, assert(inv:purge{ older_than_days = 60, domain_id = D }))
      fails("ERROR_NOT_FOUND", inv.job.get{ job_id = old.job_id, domain_id = D })
      fails("ERROR_NOT_FOUND", inv.job_task.get{ job_task_id = oids[1], domain_id = D })
      fails("ERROR_NOT_FOUND", inv.job.get{ job_id = "job-00000000000e", domain_id = D })
      fails("ERROR_NOT_FOUND", inv.job_task.get{ job_task_id = "job-task-00000000000e", domain_id = D })
      assert.are.equal("IN_PROGRESS", job(inv, kept.job_id).status)
      assert.are.equal(2, assert(inv.job_task.list{ domain_id = D }).total_count)
      assert.are.equal(other.job_id, job(inv, other.job_id, "domain-2").job_id)
      assert.are.same({ jobs = 1, tasks = 1 }, assert(inv:purge{}))         -- all domains, 60 days
      assert.are.same({ jobs = 0, tasks = 0 }, assert(inv:purge{}))
      assert.are.same({ jobs = 1, tasks = 2 }, assert(inv:purge{ older_than_days = 0 }))
    end)

    it("purges spot-automation jobs too and keeps data across reopen", function()
      local T = T0 + 100 * DAY
      assert(inv:import("spot_job", {
        { job_id = "job-5b07000000a1", status = "SUCCESS", domain_id = D, created_at = iso(T - 70 * DAY) },
        { job_id = "job-5b07000000a2", status = "SUCCESS", domain_id = D, created_at = iso(T - 10 * DAY) },
      }))
      inv:close()
      inv = assert(inventory.open{ path = path })
      inv:set_now(T)
      assert.are.same({ jobs = 1, tasks = 0 }, assert(inv:purge{}))
      assert.are.equal(1, assert(inv.spot_job.list{ domain_id = D }).total_count)
    end)

    it("rejects bad arguments and changes nothing", function()
      mkjob(inv, 1, { at = T0 })
      inv:set_now(T0 + 100 * DAY)
      local before = snapshot(inv)
      fails("ERROR_INVALID_PARAMETER_TYPE", inv:purge{ older_than_days = "60" })
      fails("ERROR_INVALID_PARAMETER", inv:purge{ older_than_days = -1 })
      fails("ERROR_INVALID_PARAMETER", inv:purge{ days = 60 })
      assert.are.equal(before, snapshot(inv))
    end)
  end)

  describe("delete", function()
    it("edge 18: a job takes its tasks with it; other jobs keep theirs", function()
      local a = mkjob(inv, 2, { collector = "c-a" })
      local b, bids = mkjob(inv, 2, { collector = "c-b" })
      assert.is_true(assert(inv.job.delete{ job_id = a.job_id, domain_id = D }))
      fails("ERROR_NOT_FOUND", inv.job.get{ job_id = a.job_id, domain_id = D })
      assert.are.equal(0, assert(inv.job_task.list{ domain_id = D, job_id = a.job_id }).total_count)
      assert.are.equal(2, assert(inv.job_task.list{ domain_id = D }).total_count)
      assert.are.equal(bids[1], task(inv, bids[1]).job_task_id)
      assert.are.equal(2, job(inv, b.job_id).remained_tasks)
      assert.are.equal("{}", assert(inv:call("job", "delete", { job_id = b.job_id, domain_id = D }, true)))
    end)

    it("edge 18: cascades in one transaction on a file store", function()
      local path = tmpdb()
      local s = assert(inventory.open{ path = path })
      local j = mkjob(s, 3)
      assert(s.job.delete{ job_id = j.job_id, domain_id = D })
      s:close()
      s = assert(inventory.open{ path = path })
      assert.are.equal(0, assert(s.job.list{ domain_id = D }).total_count)
      assert.are.equal(0, assert(s.job_task.list{ domain_id = D }).total_count)
      s:close(); rmdb(path)
    end)

    it("edge 19: a running job can be deleted; later reports are NOT_FOUND", function()
      local j, ids = mkjob(inv, 2)
      assert(start(inv, ids[1]))
      assert(inv.job.delete{ job_id = j.job_id, domain_id = D })
      fails("ERROR_NOT_FOUND", finish(inv, ids[1]))
      fails("ERROR_NOT_FOUND", start(inv, ids[2]))
      fails("ERROR_NOT_FOUND", inv.job_task.add_error{ job_task_id = ids[2], domain_id = D, error_code = "E" })
      assert.are.equal(0, assert(inv.job.list{ domain_id = D }).total_count)
      assert.are.equal(0, assert(inv.job_task.list{ domain_id = D }).total_count)
    end)

    it("edge 20: unknown ids and other domains are NOT_FOUND with the key/value tuple", function()
      local j = mkjob(inv, 1)
      local msg = fails("ERROR_NOT_FOUND", inv.job.delete{ job_id = "job-000000000000", domain_id = D })
      assert.are.equal("Resource cannot be found or access is denied. "
                       .. "(('job_id', 'domain_id') = ('job-000000000000', 'domain-1'))", msg)
      msg = fails("ERROR_NOT_FOUND", inv.job.delete{ job_id = j.job_id, domain_id = "domain-2" })
      assert.truthy(msg:find("('" .. j.job_id .. "', 'domain-2')", 1, true))
      fails("ERROR_NOT_FOUND", inv.job_task.delete{ job_task_id = "job-task-000000000000", domain_id = D })
      fails("ERROR_REQUIRED_PARAMETER", inv.job.delete{ domain_id = D })
      fails("ERROR_REQUIRED_PARAMETER", inv.job.delete{ job_id = "", domain_id = D })
      assert.are.equal(1, assert(inv.job.list{ domain_id = D }).total_count)
    end)

    it("edge 21: a workspace caller cannot delete a domain-level job but can get it", function()
      local j = mkjob(inv, 1)                                  -- workspace "*"
      local msg = fails("ERROR_NOT_FOUND", inv.job.delete{ job_id = j.job_id, domain_id = D,
                                                           workspace_id = "ws-1" })
      assert.truthy(msg:find("workspace_id", 1, true))
      assert.are.equal(j.job_id, assert(inv.job.get{ job_id = j.job_id, domain_id = D,
                                                     workspace_id = "ws-1" }).job_id)
      local w = mkjob(inv, 1, { ws = "ws-1", collector = "c-w" })
      fails("ERROR_NOT_FOUND", inv.job.delete{ job_id = w.job_id, domain_id = D, workspace_id = "ws-2" })
      assert(inv.job.delete{ job_id = w.job_id, domain_id = D, workspace_id = "ws-1" })
    end)

    it("edge 24 (DESIGN): deleting an unfinished task takes it out of the job, which may finish", function()
      local j, ids = mkjob(inv, 2)
      inv:set_now(T0 + MIN)
      assert(inv.job_task.delete{ job_task_id = ids[1], domain_id = D })
      local mid = job(inv, j.job_id)
      assert.are.same({ "IN_PROGRESS", 1, 1 }, { mid.status, mid.total_tasks, mid.remained_tasks })
      inv:set_now(T0 + 2 * MIN)
      assert(finish(inv, ids[2]))
      local fin = job(inv, j.job_id)
      assert.are.same({ "SUCCESS", 1, 0, 1, iso(T0 + 2 * MIN) },
                      { fin.status, fin.total_tasks, fin.remained_tasks, fin.success_tasks, fin.finished_at })
    end)

    it("edge 24 (DESIGN): deleting the last unfinished task finishes the job at once", function()
      local j, ids = mkjob(inv, 2)
      assert(finish(inv, ids[1], "FAILURE"))
      inv:set_now(T0 + MIN)
      assert(inv.job_task.delete{ job_task_id = ids[2], domain_id = D })
      local fin = job(inv, j.job_id)
      assert.are.same({ "FAILURE", 1, 0, 1, iso(T0 + MIN) },
                      { fin.status, fin.total_tasks, fin.remained_tasks, fin.failure_tasks, fin.finished_at })
    end)

    it("deleting a finished task leaves the job's counters alone", function()
      local j, ids = mkjob(inv, 2)
      assert(finish(inv, ids[1]))
      local before = job(inv, j.job_id)
      inv:set_now(T0 + MIN)
      assert(inv.job_task.delete{ job_task_id = ids[1], domain_id = D })
      assert.are.same(before, job(inv, j.job_id))
    end)

    it("edge 43: deleting a collector's jobs removes their tasks, not other collectors'", function()
      -- The store has no collector resource: the host removes a collector's
      -- jobs with list{collector_id} + delete, each delete cascading.
      mkjob(inv, 2, { collector = "collector-x" })
      inv:set_now(T0 + MIN)
      mkjob(inv, 1, { collector = "collector-x", secret = "secret-1" })
      local keep = mkjob(inv, 2, { collector = "collector-y" })
      mkjob(inv, 1, { collector = "collector-x", domain = "domain-2" })
      for _, j in ipairs(assert(inv.job.list{ domain_id = D, collector_id = "collector-x" }).results) do
        assert(inv.job.delete{ job_id = j.job_id, domain_id = D })
      end
      assert.are.same({ keep.job_id }, { assert(inv.job.list{ domain_id = D }).results[1].job_id })
      assert.are.equal(1, assert(inv.job.list{ domain_id = D }).total_count)
      assert.are.equal(2, assert(inv.job_task.list{ domain_id = D }).total_count)
      assert.are.equal(1, assert(inv.job.list{ domain_id = "domain-2" }).total_count)
    end)
  end)

  describe("scope", function()
    local ws1, ws2, dom
    before_each(function()
      ws1 = mkjob(inv, 2, { ws = "ws-1", collector = "c-1", task_ws = "ws-1", projects = { "p1", "p2" } })
      ws2 = mkjob(inv, 1, { ws = "ws-2", collector = "c-2", task_ws = "ws-2" })
      dom = mkjob(inv, 1, { collector = "c-3" })                -- "*" job, "*" task
    end)

    local function idset(res, key)
      local out = {}
      for _, r in ipairs(res.results) do out[r[key]] = true end
      return out
    end

    it("edge 22: a workspace caller lists its workspace and domain-level jobs", function()
      local l = assert(inv.job.list{ domain_id = D, workspace_id = "ws-1" })
      assert.are.same({ [ws1.job_id] = true, [dom.job_id] = true }, idset(l, "job_id"))
      assert.are.equal(2, l.total_count)
      assert.are.equal(3, assert(inv.job.list{ domain_id = D }).total_count)
      assert.are.equal(0, assert(inv.job.list{ domain_id = "domain-2" }).total_count)
    end)

    it("edge 22 (DESIGN): the same workspace rule on get, list and stat", function()
      fails("ERROR_NOT_FOUND", inv.job.get{ job_id = ws2.job_id, domain_id = D, workspace_id = "ws-1" })
      assert(inv.job.get{ job_id = dom.job_id, domain_id = D, workspace_id = "ws-1" })
      local t = assert(inv.job_task.list{ domain_id = D, workspace_id = "ws-1" })
      assert.are.equal(3, t.total_count)                       -- two ws-1 tasks and the "*" one
      local dt = assert(inv.job_task.list{ domain_id = D, job_id = dom.job_id }).results[1]
      assert(inv.job_task.get{ job_task_id = dt.job_task_id, domain_id = D, workspace_id = "ws-1" })
      local st, msg = inv:call("job", "stat", { domain_id = D, workspace_id = "ws-1",
                                                query = { distinct = "job_id" } })
      assert(st, msg)
      local seen = {}
      for _, v in ipairs(st.results) do seen[v] = true end
      assert.are.same({ [ws1.job_id] = true, [dom.job_id] = true }, seen)
      local an = assert(inv:call("job", "analyze", { domain_id = D, workspace_id = "ws-1", query = {
        fields = { n = { operator = "count" } } } }))
      assert.are.same({ { n = 2 } }, an.results)
    end)

    it("edge 25 (DESIGN): an empty project list sees no task, on list and on get", function()
      local l = assert(inv.job_task.list{ domain_id = D, workspace_id = "ws-1", user_projects = {} })
      assert.are.equal(0, l.total_count)
      local ids = assert(inv.job_task.list{ domain_id = D, job_id = ws1.job_id,
                                            query = { sort = { { key = "project_id" } } } })
      local p1, p2 = ids.results[1].job_task_id, ids.results[2].job_task_id
      fails("ERROR_NOT_FOUND", inv.job_task.get{ job_task_id = p1, domain_id = D, workspace_id = "ws-1",
                                                 user_projects = {} })
      fails("ERROR_NOT_FOUND", inv.job_task.get{ job_task_id = p2, domain_id = D, workspace_id = "ws-1",
                                                 user_projects = { "p1" } })
      assert(inv.job_task.get{ job_task_id = p1, domain_id = D, workspace_id = "ws-1", user_projects = { "p1" } })
      l = assert(inv.job_task.list{ domain_id = D, user_projects = { "p1" } })
      assert.are.same({ p1 }, { l.results[1].job_task_id })
      -- jobs are not project-scoped
      assert.are.equal(2, assert(inv.job.list{ domain_id = D, workspace_id = "ws-1", user_projects = {} }).total_count)
    end)

    it("task delete uses workspace equality (the task's own workspace)", function()
      local dt = assert(inv.job_task.list{ domain_id = D, job_id = dom.job_id }).results[1]
      fails("ERROR_NOT_FOUND", inv.job_task.delete{ job_task_id = dt.job_task_id, domain_id = D,
                                                    workspace_id = "ws-1" })
      local t = assert(inv.job_task.list{ domain_id = D, job_id = ws1.job_id }).results[1]
      assert(inv.job_task.delete{ job_task_id = t.job_task_id, domain_id = D, workspace_id = "ws-1" })
    end)
  end)

  describe("requests that fail leave the store unchanged", function()
    it("missing domain_id is ERROR_REQUIRED_PARAMETER on every method", function()
      local j, ids = mkjob(inv, 1)
      local before = snapshot(inv)
      local calls = {
        function() return inv.job.create{ collector_id = "c" } end,
        function() return inv.job.create{ domain_id = "", collector_id = "c" } end,
        function() return inv.job.get{ job_id = j.job_id } end,
        function() return inv.job.list{} end,
        function() return inv.job.delete{ job_id = j.job_id } end,
        function() return inv.job.cancel{ job_id = j.job_id } end,
        function() return inv.job_task.get{ job_task_id = ids[1] } end,
        function() return inv.job_task.list{ query = {} } end,
        function() return inv.job_task.delete{ job_task_id = ids[1] } end,
        function() return inv.job_task.start{ job_task_id = ids[1] } end,
        function() return inv.job_task.finish{ job_task_id = ids[1], status = "SUCCESS" } end,
        function() return inv.job_task.add_error{ job_task_id = ids[1], error_code = "E" } end,
        function() return inv.job_task.finish{ job_task_id = ids[1], domain_id = inventory.null,
                                               status = "SUCCESS" } end,
      }
      for i, call in ipairs(calls) do
        local ok, msg, code = call()
        assert.is_nil(ok, "call " .. i)
        assert.are.equal("ERROR_REQUIRED_PARAMETER", code, "call " .. i)
        assert.are.equal("Required parameter. (key = domain_id)", msg, "call " .. i)
      end
      assert.are.equal(before, snapshot(inv))
    end)

    it("bad types and unknown keys on create write nothing, not even the cancellation", function()
      local old = mkjob(inv, 1)
      local before = snapshot(inv)
      local bad = {
        { "ERROR_INVALID_PARAMETER", { domain_id = D, collector_id = "collector-1", colour = "red" } },
        { "ERROR_INVALID_PARAMETER", { domain_id = D, collector_id = "collector-1",
                                       tasks = { { secret_id = "s" }, { secret = "s" } } } },
        { "ERROR_INVALID_PARAMETER_TYPE", { domain_id = D, collector_id = "collector-1",
                                            tasks = { { secret_id = "s" }, { secret_id = 5 } } } },
        { "ERROR_INVALID_PARAMETER_TYPE", { domain_id = D, collector_id = "collector-1", tasks = "x" } },
        { "ERROR_INVALID_PARAMETER_TYPE", { domain_id = D, collector_id = "collector-1", tasks = { a = 1 } } },
        { "ERROR_INVALID_PARAMETER_TYPE", { domain_id = D, collector_id = "collector-1", tasks = { "s" } } },
        { "ERROR_INVALID_PARAMETER_TYPE", { domain_id = D, collector_id = 7 } },
        { "ERROR_INVALID_PARAMETER_TYPE", { domain_id = { D }, collector_id = "collector-1" } },
        { "ERROR_INVALID_PARAMETER", { domain_id = D, collector_id = "collector-1", resource_group = "ALL" } },
        { "ERROR_INVALID_PARAMETER", { domain_id = D, collector_id = string.rep("c", 41) } },
        { "ERROR_REQUIRED_PARAMETER", { domain_id = D } },
        { "ERROR_INVALID_PARAMETER", { domain_id = D, collector_id = "collector-1", plugin_id = "plugin\0x" } },
        { "ERROR_INVALID_PARAMETER", { domain_id = D, collector_id = "collector-1",
                                       tasks = { { secret_id = "secret\0x" } } } },
      }
      for i, case in ipairs(bad) do
        local ok, msg, code = inv.job.create(case[2])
        assert.is_nil(ok, "case " .. i)
        assert.are.equal(case[1], code, "case " .. i .. ": " .. tostring(msg))
      end
      assert.are.equal(before, snapshot(inv))
      assert.are.equal("IN_PROGRESS", job(inv, old.job_id).status)
    end)

    it("bad finish and start requests write nothing", function()
      local _, ids = mkjob(inv, 1, { sub_tasks = 2 })
      assert(start(inv, ids[1]))
      local before = snapshot(inv)
      local bad = {
        { "ERROR_REQUIRED_PARAMETER", { job_task_id = ids[1], domain_id = D } },
        { "ERROR_INVALID_PARAMETER", { job_task_id = ids[1], domain_id = D, status = "DONE" } },
        { "ERROR_INVALID_PARAMETER", { job_task_id = ids[1], domain_id = D, status = "success" } },
        { "ERROR_INVALID_PARAMETER_TYPE", { job_task_id = ids[1], domain_id = D, status = "SUCCESS",
                                            created_count = "3" } },
        { "ERROR_INVALID_PARAMETER_TYPE", { job_task_id = ids[1], domain_id = D, status = "SUCCESS",
                                            created_count = true } },
        { "ERROR_INVALID_PARAMETER_TYPE", { job_task_id = ids[1], domain_id = D, status = "SUCCESS",
                                            created_count = 1.5 } },
        { "ERROR_INVALID_PARAMETER", { job_task_id = ids[1], domain_id = D, status = "SUCCESS", count = 1 } },
        { "ERROR_REQUIRED_PARAMETER", { domain_id = D, status = "SUCCESS" } },
        { "ERROR_NOT_FOUND", { job_task_id = "job-task-000000000000", domain_id = D, status = "SUCCESS" } },
      }
      for i, case in ipairs(bad) do
        local ok, msg, code = inv.job_task.finish(case[2])
        assert.is_nil(ok, "case " .. i)
        assert.are.equal(case[1], code, "case " .. i .. ": " .. tostring(msg))
      end
      fails("ERROR_INVALID_PARAMETER", inv.job_task.start{ job_task_id = ids[1], domain_id = D, force = true })
      fails("ERROR_INVALID_PARAMETER_TYPE", inv.job_task.start{ job_task_id = 3, domain_id = D })
      fails("ERROR_INVALID_PARAMETER", inv:call("job", "start", { job_task_id = ids[1], domain_id = D }))
      fails("ERROR_INVALID_PARAMETER", inv:call("job_task", "create", { domain_id = D, collector_id = "c" }))
      assert.are.equal(before, snapshot(inv))
    end)

    it("a failed import writes none of its records", function()
      local before = snapshot(inv)
      fails("ERROR_INVALID_PARAMETER", inv:import("job", {
        { job_id = "job-00000000001a", status = "SUCCESS", domain_id = D },
        { job_id = "job-00000000001b", status = "DONE", domain_id = D },
      }))
      fails("ERROR_SAVE_UNIQUE_VALUES", inv:import("job", {
        { job_id = "job-00000000001a", status = "SUCCESS", domain_id = D },
        { job_id = "job-00000000001a", status = "SUCCESS", domain_id = D },
      }))
      fails("ERROR_REQUIRED_PARAMETER", inv:import("job", { { job_id = "job-00000000001a" } }))
      fails("ERROR_INVALID_PARAMETER", inv:import("job", {
        { job_id = "job-00000000001a", domain_id = D, created_at = "yesterday" } }))
      fails("ERROR_INVALID_PARAMETER", inv:import("job", { { job_id = "job-0000\0", domain_id = D } }))
      fails("ERROR_INVALID_PARAMETER_TYPE", inv:import("job", { { job_id = "job-00000000001a", domain_id = 1 } }))
      assert.are.equal(before, snapshot(inv))
    end)
  end)

  describe("reads over created jobs", function()
    local ids = {}
    before_each(function()
      ids = {}
      for i = 1, 5 do
        local j = mkjob(inv, 1, { at = T0 + i * MIN, collector = "collector-" .. (i % 2),
                                  secret = "secret-" .. i })      -- no duplicate cancellation
        ids[i] = j.job_id
      end
    end)

    it("edge 33: keyword tokens match job_id substrings, ANDed with filters; blank is none", function()
      local a, b = ids[1]:sub(5, 8):upper(), ids[4]:sub(9, 12)
      local l = assert(inv.job.list{ domain_id = D, query = { keyword = a .. " " .. b } })
      local got = {}
      for _, r in ipairs(l.results) do got[r.job_id] = true end
      assert.is_true(got[ids[1]]); assert.is_true(got[ids[4]])
      l = assert(inv.job.list{ domain_id = D, collector_id = "collector-1",
                               query = { keyword = a .. " " .. b } })
      for _, r in ipairs(l.results) do assert.are.equal("collector-1", r.collector_id) end
      assert.are.equal(5, assert(inv.job.list{ domain_id = D, query = { keyword = "   " } }).total_count)
    end)

    it("edge 35: newest first by default; ties broken by insertion order", function()
      local l = assert(inv.job.list{ domain_id = D })
      assert.are.same({ ids[5], ids[4], ids[3], ids[2], ids[1] },
                      { l.results[1].job_id, l.results[2].job_id, l.results[3].job_id,
                        l.results[4].job_id, l.results[5].job_id })
      l = assert(inv.job.list{ domain_id = D, query = { sort = { { key = "status" } } } })
      assert.are.same({ ids[1], ids[2], ids[3], ids[4], ids[5] },
                      { l.results[1].job_id, l.results[2].job_id, l.results[3].job_id,
                        l.results[4].job_id, l.results[5].job_id })
    end)

    it("edge 36: minimal and count_only", function()
      local l = assert(inv.job.list{ domain_id = D, query = { minimal = true } })
      local keys = {}
      for k in pairs(l.results[1]) do keys[#keys + 1] = k end
      table.sort(keys)
      assert.are.same({ "collector_id", "created_at", "job_id", "plugin_id", "status" }, keys)
      l = assert(inv.job.list{ domain_id = D, query = { count_only = true } })
      assert.are.same({}, l.results)
      assert.are.equal(5, l.total_count)
      assert.are.equal('{"results":[],"total_count":5}',
                       assert(inv:call("job", "list", { domain_id = D, query = { count_only = true } }, true)))
    end)

    it("edge 37: status in, and the operator type errors", function()
      local l = assert(inv.job.list{ domain_id = D, query = { filter = {
        { k = "status", v = { "SUCCESS", "FAILURE" }, o = "in" } } } })
      assert.are.equal(0, l.total_count)
      l = assert(inv.job.list{ domain_id = D, query = { filter = {
        { k = "status", v = { "IN_PROGRESS" }, o = "in" } } } })
      assert.are.equal(5, l.total_count)
      fails("ERROR_OPERATOR_VALUE_TYPE", inv.job.list{ domain_id = D, query = { filter = {
        { k = "status", v = { "SUCCESS" }, o = "eq" } } } })
      fails("ERROR_OPERATOR_LIST_VALUE_TYPE", inv.job.list{ domain_id = D, query = { filter = {
        { k = "status", v = "SUCCESS", o = "in" } } } })
      fails("ERROR_DB_QUERY", inv.job.list{ domain_id = D, query = { filter = {
        { k = "status", v = "SUCCESS", o = "foo" } } } })
    end)

    it("edge 38: TIMEOUT finds nothing; v1 statuses are valid values; others are rejected", function()
      assert.are.equal(0, assert(inv.job.list{ domain_id = D, status = "TIMEOUT" }).total_count)
      assert.are.equal(0, assert(inv.job.list{ domain_id = D, status = "CREATED" }).total_count)
      fails("ERROR_INVALID_PARAMETER", inv.job.list{ domain_id = D, status = "DONE" })
      fails("ERROR_INVALID_PARAMETER", inv.job_task.list{ domain_id = D, status = "CREATED" })
    end)

    it("edge 39: required parameters of get, stat and analyze", function()
      local msg = fails("ERROR_REQUIRED_PARAMETER", inv.job.get{ domain_id = D })
      assert.are.equal("Required parameter. (key = job_id)", msg)
      fails("ERROR_REQUIRED_PARAMETER", inv.job.get{ job_id = "", domain_id = D })
      fails("ERROR_REQUIRED_PARAMETER", inv.job_task.get{ job_task_id = inventory.null, domain_id = D })
      local m = fails("ERROR_REQUIRED_PARAMETER", inv:call("job", "stat", { domain_id = D }))
      assert.are.equal("Required parameter. (key = query)", m)
      m = fails("ERROR_REQUIRED_PARAMETER", inv:call("job", "stat", { domain_id = D,
                                                                      query = { page = { limit = 1 } } }))
      assert.are.equal("Required parameter. (key = aggregate)", m)
      m = fails("ERROR_REQUIRED_PARAMETER", inv:call("job", "analyze", { domain_id = D,
                                                                         query = { group_by = { "status" } } }))
      assert.are.equal("Required parameter. (key = query.fields)", m)
    end)

    it("edge 40: the REST rendering omits defaults and formats datetimes", function()
      local j = ids[5]
      local r = rest(inv, "job", "get", { job_id = j, domain_id = D })
      assert.is_nil(r.finished_at)
      assert.is_nil(r.success_tasks)
      assert.is_nil(r.failure_tasks)
      assert.is_nil(r.request_workspace_id)                   -- null
      assert.are.equal(1, r.remained_tasks)
      local tid = assert(inv.job_task.list{ domain_id = D, job_id = j }).results[1].job_task_id
      local t = rest(inv, "job_task", "get", { job_task_id = tid, domain_id = D })
      for _, k in ipairs{ "created_count", "updated_count", "deleted_count", "disconnected_count",
                          "failure_count", "errors", "started_at", "finished_at" } do
        assert.is_nil(t[k], k)
      end
      for _, v in ipairs{ r.created_at, r.updated_at, t.created_at } do
        assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", v)
      end
      assert(finish(inv, tid, "FAILURE", { failure_count = 1 }))
      t = rest(inv, "job_task", "get", { job_task_id = tid, domain_id = D })
      assert.are.same({ 1, "FAILURE" }, { t.failure_count, t.status })
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", t.finished_at)
    end)

    it("edge 44: stat distinct on status", function()
      local st, m = inv:call("job", "stat", { domain_id = D, query = { distinct = "collector_id" } })
      assert(st, m)
      assert.are.same({ "collector-0", "collector-1" }, st.results)
      assert.are.equal(2, st.total_count)
      local _, tids = mkjob(inv, 1, { collector = "collector-9" })
      assert(finish(inv, tids[1], "FAILURE"))
      st = assert(inv:call("job", "stat", { domain_id = D, query = { distinct = "status" } }))
      assert.are.same({ "FAILURE", "IN_PROGRESS" }, st.results)
      assert.are.equal(2, st.total_count)
    end)

    it("edge 45: analyze group_by status with a count", function()
      local _, tids = mkjob(inv, 1, { collector = "collector-9" })
      assert(finish(inv, tids[1]))
      local res, m = inv:call("job", "analyze", { domain_id = D, query = {
        group_by = { "status" }, fields = { count = { operator = "count" } },
        sort = { { key = "count", desc = true } } } })
      assert(res, m)
      assert.are.same({ { status = "IN_PROGRESS", count = 5 }, { status = "SUCCESS", count = 1 } }, res.results)
      assert.is_false(res.more)
    end)
  end)

  describe("page limits (edge 34)", function()
    it("defaults to 1000, refuses more, counts everything, treats start 0 as 1", function()
      local recs = {}
      for i = 1, 1005 do
        recs[i] = { job_id = string.format("job-%012x", i), status = "SUCCESS", domain_id = D,
                    created_at = iso(T0 + i * 1000) }
      end
      assert(inv:import("job", recs))
      local l, msg, code, class = inv.job.list{ domain_id = D, query = { page = { limit = 5000 } } }
      assert.is_nil(l)
      assert.are.same({ "ERROR_INVALID_PARAMETER", "client" }, { code, class })
      assert.truthy(msg:find("at most 1000 rows per page", 1, true), msg)
      l = assert(inv.job.list{ domain_id = D })
      assert.are.same({ 1000, 1005 }, { #l.results, l.total_count })
      l = assert(inv.job.list{ domain_id = D, query = { page = { start = 0, limit = 2 } } })
      assert.are.same({ 2, 1005, string.format("job-%012x", 1005) },
                      { #l.results, l.total_count, l.results[1].job_id })
      l = assert(inv.job.list{ domain_id = D, query = { page = { start = 2000, limit = 10 } } })
      assert.are.same({ 0, 1005 }, { #l.results, l.total_count })
      local small = assert(inventory.open{ path = ":memory:", page_limit = 3 })
      assert(small:import("job", recs))
      assert.are.equal(3, #assert(small.job.list{ domain_id = D }).results)
      small:close()
    end)
  end)
end)
