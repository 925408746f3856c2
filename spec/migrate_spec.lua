-- spec/migrate_spec.lua: moving a store from SQLite to PostgreSQL (README,
-- "Moving from the embedded store"): `inventory export` of every resource,
-- `inventory import` into the new store, with ids, timestamps, counters and
-- hidden fields kept. The target is a fresh schema of INVENTORY_TEST_URL when
-- it is set (the PostgreSQL pass of make test), else another SQLite file (the
-- same path, between two files). The source holds jobs and tasks in every
-- state (written through the API: finished, failed, canceled, swept, a
-- duplicate canceled, empty; imported: legacy statuses), errors, v1 records
-- and spot jobs; every record of the copy is compared with the original
-- field by field, and the REST rendering of every record and list with it.
local inventory = require "inventory"
local cjson = require "cjson.safe"

local URL = os.getenv("INVENTORY_TEST_URL")
if URL == "" then URL = nil end
local ROOT = assert(io.popen("pwd")):read("*l")
local BIN = ROOT .. "/bin/inventory"
local RESOURCES = { "job", "job_task", "spot_job" }
local DA, DB_ = "domain-mig-a", "domain-mig-b"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- the CLI, as a user runs it (nothing from the environment but PATH)
local function cli(args)
  local p = io.popen("cd " .. q(ROOT) .. " && env -u INVENTORY_DB -u INVENTORY_URL -u INVENTORY_DOMAIN "
                     .. "-u INVENTORY_SCHEMA lua5.4 " .. q(BIN) .. " " .. args .. " 2>&1; echo \"rc=$?\"")
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return rc, out:gsub("rc=%d+%s*$", "")
end

-- every record of a resource, as export writes them (JSON lines, every page)
local function export_lines(inv, resource)
  local lines, after = {}, nil
  repeat
    local text, nxt = inv:export(resource, { after = after, limit = 500 }, true)
    assert(text, nxt)
    for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
    after = nxt
  until after == nil
  return lines
end

-- Compare two records field by field; the first differing path is the message.
local function same(a, b, path)
  if type(a) ~= "table" or type(b) ~= "table" then
    if a ~= b then error(path .. ": " .. tostring(a) .. " in the source, " .. tostring(b) .. " in the copy", 0) end
    return
  end
  for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
  for k, v in pairs(b) do if a[k] == nil then same(nil, v, path .. "." .. tostring(k)) end end
end

-- The source: every state the API can leave, and what only an import brings.
local function fill(inv)
  local T0 = 1700000000000                       -- 2023-11-14T22:13:20Z
  local function tasks_of(job_id, domain)
    local r = assert(inv.job_task.list{ domain_id = domain, query = {
      filter = { { k = "job_id", v = job_id, o = "eq" } }, sort = { { key = "created_at" } } } })
    local ids = {}
    for i, t in ipairs(r.results) do ids[i] = t.job_task_id end
    return ids
  end
  inv:set_now(T0)
  -- finished: SUCCESS and FAILURE tasks, counts, errors with additional data
  local j1 = assert(inv.job.create{ domain_id = DA, collector_id = "collector-1", plugin_id = "plugin-aws",
    workspace_id = "ws-1", request_secret_id = "secret-1", resource_group = "WORKSPACE",
    tasks = { { secret_id = "secret-1", provider = "aws", project_id = "project-1", service_account_id = "sa-1" },
              { secret_id = "secret-2", provider = "google_cloud", project_id = "project-2", sub_tasks = 3 },
              { secret_id = "secret-3", workspace_id = "ws-2" } } })
  local t1 = tasks_of(j1.job_id, DA)
  inv:set_now(T0 + 1234)
  assert(inv.job_task.start{ domain_id = DA, job_task_id = t1[1] })
  assert(inv.job_task.add_error{ domain_id = DA, job_task_id = t1[2], error_code = "ERROR_PLUGIN",
    message = "denied: \"quoted\" ünïcode ✓", additional = { resource_type = "inventory.CloudService",
    nested = { a = { 1, 2.5, true, inventory.null } } } })
  inv:set_now(T0 + 60000)
  assert(inv.job_task.finish{ domain_id = DA, job_task_id = t1[1], status = "SUCCESS", created_count = 12,
    updated_count = 3, deleted_count = 1, disconnected_count = 2, failure_count = 0 })
  for _ = 1, 3 do
    assert(inv.job_task.finish{ domain_id = DA, job_task_id = t1[2], status = "FAILURE", failure_count = 1 })
  end
  assert(inv.job_task.finish{ domain_id = DA, job_task_id = t1[3], status = "SUCCESS" })
  -- in progress: a started task, a pending one
  inv:set_now(T0 + 120000)
  local j2 = assert(inv.job.create{ domain_id = DA, collector_id = "collector-2", tasks = { {}, {} } })
  local t2 = tasks_of(j2.job_id, DA)
  assert(inv.job_task.start{ domain_id = DA, job_task_id = t2[1] })
  -- canceled: the cancel, then a start fails the task (ERROR_COLLECT_CANCELED)
  local j3 = assert(inv.job.create{ domain_id = DA, collector_id = "collector-3", tasks = { {}, {} } })
  local t3 = tasks_of(j3.job_id, DA)
  inv:set_now(T0 + 180000)
  assert(inv.job.cancel{ domain_id = DA, job_id = j3.job_id })
  assert(inv.job_task.start{ domain_id = DA, job_task_id = t3[1] })
  -- a duplicate: the second create of a collector cancels the first
  local j4 = assert(inv.job.create{ domain_id = DB_, collector_id = "collector-4", tasks = { {} } })
  inv:set_now(T0 + 190000)
  assert(inv.job.create{ domain_id = DB_, collector_id = "collector-4", tasks = { {}, {} } })
  assert(j4)
  -- empty: SUCCESS at once
  assert(inv.job.create{ domain_id = DB_, collector_id = "collector-5" })
  -- swept: an old job fails with ERROR_JOB_TIMEOUT on its open tasks
  inv:set_now(T0 - 5 * 3600 * 1000)
  assert(inv.job.create{ domain_id = DB_, collector_id = "collector-6", tasks = { {}, {} } })
  inv:set_now(T0 + 200000)
  local swept = assert(inv:sweep{ timeout_hours = 2 })
  assert(swept.jobs >= 1, "the sweep failed a job")
  inv:set_now(nil)
  -- imported as they are: legacy statuses, a CANCELED task, v1 records (the
  -- seed pages' shapes: filter, collector_info, job-level errors, job_task- ids)
  assert(inv:import("job", {
    { job_id = "job-123456789012", status = "ERROR", filter = {}, total_tasks = 2,
      collector_info = { collector_id = "collector-123456789012", name = "Jenkins Collector", state = "ENABLED",
        plugin_info = { plugin_id = "plugin-jenkins-inven-collector", version = "0.1.1" }, provider = "jenkins",
        capability = {}, is_public = true },
      domain_id = DA, created_at = "2022-01-01T10:00:01.389Z", updated_at = "2022-01-01T10:00:01.389Z",
      finished_at = "2022-01-01T10:02:11.270Z" },
    { job_id = "job-3b124006c2d2", status = "TIMEOUT", filter = { region = "ap-northeast-2" }, total_tasks = 1,
      remained_tasks = 1, errors = { { error_code = "ERROR_TIMEOUT", message = "timed out", additional = {} } },
      project_id = "project-1", domain_id = DA, created_at = "2022-06-17T08:00:01.225Z" },
    { job_id = "job-c00000000001", status = "CREATED", domain_id = DB_, created_at = "2021-03-04T05:06:07.008Z" },
  }))
  assert(inv:import("job_task", {
    { job_task_id = "job_task-69b301d0fbfc", status = "SUCCESS", created_count = 3, updated_count = 197,
      failure_count = 0, job_id = "job-3b124006c2d2", secret_id = "secret-1b7e4b4d3f9b", provider = "aws",
      service_account_id = "sa-4bc7d4a4fbd5", project_id = "project-18655a2e6ed6", domain_id = DA,
      created_at = "2022-06-17T08:00:03.183Z", started_at = "2022-06-17T08:00:03.262Z",
      finished_at = "2022-06-17T08:00:12.030Z" },
    { job_task_id = "job-task-c00000000001", status = "CANCELED", job_id = "job-c00000000001", domain_id = DB_,
      errors = { { error_code = "ERROR_DUPLICATE_JOB", message = "Duplicate job task.", additional = { n = 2 } } },
      created_at = "2021-03-04T05:06:08.000Z" },
  }))
  assert(inv:import("spot_job", {
    { job_id = "job-sa0000000001", status = "SUCCESS", filter = {}, total_tasks = 1, remained_tasks = 0,
      errors = {}, project_id = "project-1", domain_id = DA, created_at = "2021-01-01T00:00:00.000Z",
      updated_at = "2021-01-01T00:05:00.000Z", finished_at = "2021-01-01T00:05:00.000Z" },
    { job_id = "job-sa0000000002", status = "ERROR", filter = { instance = "i-1" }, total_tasks = 2,
      remained_tasks = 1, errors = { { error_code = "ERROR_SPOT", message = "no capacity",
      additional = { az = "a" } } }, project_id = "project-2", domain_id = DB_,
      created_at = "2021-02-01T00:00:00.000Z" },
  }))
end

describe("moving a store from SQLite to " .. (URL and "PostgreSQL" or "another SQLite file"), function()
  local dir, src_path, src, dst, target_args

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. q(dir)))
    src_path = dir .. "/source.db"
    src = assert(inventory.open{ path = src_path })
    fill(src)
    if URL then
      local schema = "mig_" .. tostring(os.time()) .. "_" .. tostring(math.random(1e6))
      dst = assert(inventory.open{ url = URL, schema = schema })
      target_args = "--url " .. q(URL) .. " --schema " .. schema
    else
      dst = assert(inventory.open{ path = dir .. "/target.db" })
      target_args = "--db " .. q(dir .. "/target.db")
    end
  end)

  teardown(function()
    if src then src:close() end
    if dst then dst:close() end
    if dir then os.execute("rm -rf " .. q(dir)) end
  end)

  it("the source holds every state, errors, v1 records and spot jobs", function()
    local statuses = {}
    for _, r in ipairs(RESOURCES) do
      for _, l in ipairs(export_lines(src, r)) do
        local rec = assert(cjson.decode(l))
        statuses[r .. " " .. rec.status] = true
      end
    end
    for _, s in ipairs{ "job SUCCESS", "job FAILURE", "job CANCELED", "job IN_PROGRESS", "job ERROR",
                        "job TIMEOUT", "job CREATED", "job_task PENDING", "job_task IN_PROGRESS",
                        "job_task SUCCESS", "job_task FAILURE", "job_task CANCELED", "spot_job SUCCESS",
                        "spot_job ERROR" } do
      assert.is_true(statuses[s] == true, s)
    end
  end)

  it("inventory export | inventory import copies every record, field by field", function()
    for _, r in ipairs(RESOURCES) do
      local file = dir .. "/" .. r .. ".jsonl"
      local rc, out = cli("--db " .. q(src_path) .. " export " .. r .. " > " .. q(file))
      assert.equal(0, rc, out)
      rc, out = cli(target_args .. " import " .. r .. " " .. q(file))
      assert.equal(0, rc, out)
    end
    for _, r in ipairs(RESOURCES) do
      local a, b = export_lines(src, r), export_lines(dst, r)
      assert.equal(#a, #b, r .. ": records")
      assert.is_true(#a > 0, r)
      for i = 1, #a do
        local ra, rb = assert(cjson.decode(a[i])), assert(cjson.decode(b[i]))
        same(ra, rb, r .. "[" .. i .. "]")
        assert.equal(a[i], b[i], r .. "[" .. i .. "]: the same JSON text, key order included")
      end
    end
  end)

  it("the copy answers every get and list as the source does (the REST rendering)", function()
    local KEY = { job = "job_id", job_task = "job_task_id", spot_job = "job_id" }
    for _, r in ipairs(RESOURCES) do
      for _, d in ipairs{ DA, DB_ } do
        local req = { domain_id = d, query = { sort = { { key = "created_at" }, { key = KEY[r] } } } }
        local la = assert(src:call(r, "list", req, true))
        local lb = assert(dst:call(r, "list", req, true))
        assert.equal(la, lb, r .. " list of " .. d)
        for _, rec in ipairs(cjson.decode(la).results or {}) do
          local g = { [KEY[r]] = rec[KEY[r]], domain_id = d }
          assert.equal(assert(src:call(r, "get", g, true)), assert(dst:call(r, "get", g, true)),
                       r .. " " .. rec[KEY[r]])
        end
      end
    end
  end)

  it("the copy keeps working: its counter audit says what the source's says, the write side goes on", function()
    -- (the v1 record job-3b124006c2d2 came with counters its task disagrees
    -- with: records imported as they are keep what they were)
    local a, b = assert(src:check()), assert(dst:check())
    local function job_problems(c)
      local out = {}
      for _, p in ipairs(c.problems or {}) do if p:find("^job ") then out[#out + 1] = p end end
      table.sort(out)
      return out
    end
    assert.same(job_problems(a), job_problems(b))
    assert.equal(2, #job_problems(b))
    local open = assert(dst.job_task.list{ domain_id = DA, query = {
      filter = { { k = "status", v = "PENDING", o = "eq" } } } })
    assert.is_true(#open.results > 0)
    local t = assert(dst.job_task.finish{ domain_id = DA, job_task_id = open.results[1].job_task_id,
                                          status = "SUCCESS" })
    assert.equal("SUCCESS", t.status)
  end)
end)
