-- examples/nginx/seed.lua: fill a demo database the way the collector workers
-- would, through the write API (job.create, job_task.start / add_error /
-- finish, job.cancel), plus a few legacy spot-automation jobs (import).
--
--   lua5.4 examples/nginx/seed.lua run/data/inventory.db [START_MS]  (LUA_CPATH: lib/lua/5.4)
--   luajit examples/nginx/seed.lua run/data/inventory.db [START_MS]  (LUA_CPATH: lib/lua/5.1)
--
-- Two domains (the ones of examples/nginx/tokens.json), two workspaces each,
-- four collectors per domain running every 12 hours for 20 days from
-- START_MS (Unix ms; default 2024-06-01; run.sh passes 20 days ago, so that
-- the console's last-30-days overview has history): 320 jobs and 960 tasks. Everything is deterministic (a
-- fixed clock and a fixed pseudo-random sequence) except the job and task ids,
-- which the core draws from the OS random source.
local inventory = require "inventory"

local path = arg[1] or "inventory.db"
local inv = assert(inventory.open{ path = path })

-- Park-Miller: exact in 5.4 integers and in LuaJIT doubles alike
local seed = 20240601
local function rnd(n)               -- 1..n
  seed = (seed * 16807) % 2147483647
  return seed % n + 1
end
local function pick(t) return t[rnd(#t)] end

local BASE = tonumber(arg[2]) or 1717200000000   -- default 2024-06-01T00:00:00.000Z in ms
local HOUR = 3600 * 1000

local DOMAINS = {
  { id = "domain-1f2e3d4c5b6a", ws = { "workspace-a1b2c3d4e5f6", "workspace-0a9b8c7d6e5f" } },
  { id = "domain-9a8b7c6d5e4f", ws = { "workspace-5f4e3d2c1b0a", "workspace-c0ffee123456" } },
}

local PROVIDERS = {
  { name = "aws", short = "aws", plugin = "plugin-aws-ec2-inven-collector" },
  { name = "google_cloud", short = "gcp", plugin = "plugin-google-cloud-inven-collector" },
  { name = "azure", short = "azr", plugin = "plugin-azure-inven-collector" },
  { name = "openstack", short = "ops", plugin = "plugin-openstack-inven-collector" },
}

local ERRORS = {
  { "ERROR_PLUGIN", "Failed to collect resources: AccessDenied (ec2:DescribeInstances)",
    { resource_type = "inventory.CloudService", cloud_service_group = "EC2" } },
  { "ERROR_COLLECTOR_STATE", "Collector plugin timed out after 600 seconds.", nil },
  { "ERROR_AUTHENTICATE_FAILURE", "The secret's credentials were rejected by the provider.", nil },
  { "ERROR_PLUGIN", "Quota exceeded for quota metric 'Read requests'",
    { resource_type = "inventory.CloudService", cloud_service_group = "ComputeEngine" } },
}

-- 6-hex-digit suffixes from the PRNG, so fixture ids look like the reference's
local function hex12()
  return string.format("%06x%06x", rnd(0xffffff) - 1, rnd(0xffffff) - 1)
end

local njobs, ntasks = 0, 0

for di, d in ipairs(DOMAINS) do
  -- one project and one secret per (workspace, provider, k): project-<domain><workspace><provider><k>
  local secrets = {}
  for wi, ws in ipairs(d.ws) do
    for _, p in ipairs(PROVIDERS) do
      for k = 1, 2 do
        secrets[#secrets + 1] = {
          workspace_id = ws, provider = p.name,
          project_id = string.format("project-%d%d%s%d", di, wi, p.short, k),
          service_account_id = "sa-" .. hex12(),
          secret_id = "secret-" .. hex12(),
        }
      end
    end
  end
  -- collectors: aws and openstack are DOMAIN collectors, the others belong to a workspace
  local collectors = {}
  for pi, p in ipairs(PROVIDERS) do
    local c = { id = "collector-" .. hex12(), provider = p.name, plugin = p.plugin }
    if pi == 1 or pi == 4 then
      c.resource_group, c.workspace_id = "DOMAIN", "*"
    else
      c.resource_group, c.workspace_id = "WORKSPACE", d.ws[(pi % 2) + 1]
    end
    collectors[#collectors + 1] = c
  end

  for run = 1, 40 do
    for ci, c in ipairs(collectors) do
      local t0 = BASE + (run - 1) * 12 * HOUR + (ci - 1) * 7 * 60 * 1000 + di * 1000
      local tasks = {}
      for _, s in ipairs(secrets) do
        if s.provider == c.provider and (c.workspace_id == "*" or c.workspace_id == s.workspace_id) then
          tasks[#tasks + 1] = { secret_id = s.secret_id, service_account_id = s.service_account_id,
                                project_id = s.project_id, workspace_id = s.workspace_id,
                                provider = s.provider }
        end
      end
      inv:set_now(t0)
      local job = assert(inv.job.create{
        domain_id = d.id, collector_id = c.id, plugin_id = c.plugin,
        resource_group = c.resource_group, workspace_id = c.workspace_id,
        request_workspace_id = c.workspace_id ~= "*" and c.workspace_id or nil,
        tasks = tasks,
      })
      njobs = njobs + 1
      ntasks = ntasks + #tasks
      local list = assert(inv.job_task.list{ domain_id = d.id,
        query = { filter = { { k = "job_id", v = job.job_id, o = "eq" } },
                  sort = { { key = "created_at" } } } }).results
      local last = run == 40 and ci <= 2          -- still running at the end
      local cancel = (run % 13 == 0 and ci == 3)   -- canceled by an operator
      local t = t0
      for ti, task in ipairs(list) do
        if cancel and ti == 2 then
          inv:set_now(t + 1000)
          assert(inv.job.cancel{ domain_id = d.id, job_id = job.job_id })
          break
        end
        if last and ti > 1 then break end          -- later tasks stay PENDING
        t = t + rnd(5000)
        inv:set_now(t)
        assert(inv.job_task.start{ domain_id = d.id, job_task_id = task.job_task_id })
        if not (last and ti == 1) then
          local failed = rnd(10) == 1
          local nerr = failed and rnd(2) or (rnd(6) == 1 and 1 or 0)
          for _ = 1, nerr do
            local e = pick(ERRORS)
            t = t + rnd(60000)
            inv:set_now(t)
            assert(inv.job_task.add_error{ domain_id = d.id, job_task_id = task.job_task_id,
                                           error_code = e[1], message = e[2], additional = e[3] })
          end
          t = t + rnd(300000)
          inv:set_now(t)
          assert(inv.job_task.finish{
            domain_id = d.id, job_task_id = task.job_task_id,
            status = failed and "FAILURE" or "SUCCESS",
            created_count = run == 1 and rnd(400) or rnd(6) - 1,
            updated_count = failed and 0 or 50 + rnd(2000),
            deleted_count = rnd(8) == 1 and rnd(5) or 0,
            disconnected_count = rnd(8) == 1 and rnd(3) or 0,
            failure_count = nerr,
          })
        end
      end
    end
  end

  -- legacy spot-automation jobs (a v1 service: records are imported as documented)
  local spot = {}
  for i = 1, 20 do
    local t0 = BASE + (i - 1) * 24 * HOUR + di * 1000
    local status = pick{ "SUCCESS", "SUCCESS", "SUCCESS", "ERROR", "TIMEOUT", "CANCELED" }
    local rec = {
      job_id = "job-" .. hex12(), status = status, filter = {},
      total_tasks = 1 + rnd(4), remained_tasks = 0,
      project_id = secrets[rnd(#secrets)].project_id, domain_id = d.id,
      created_at = t0, updated_at = t0 + 90000, finished_at = t0 + 90000,
      errors = status == "ERROR" and { { error_code = "ERROR_SPOT_GROUP", message = "Spot group not found.",
                                         additional = { spot_group_id = "spot-group-" .. hex12() } } } or {},
    }
    spot[#spot + 1] = rec
  end
  for _, rec in ipairs(spot) do
    for _, k in ipairs{ "created_at", "updated_at", "finished_at" } do
      local ms = rec[k]
      local s = math.floor(ms / 1000)
      rec[k] = os.date("!%Y-%m-%dT%H:%M:%S", s) .. string.format(".%03dZ", ms - s * 1000)
    end
  end
  assert(inv:import("spot_job", spot))
end

inv:set_now(nil)
inv:close()
io.write(string.format("seeded %s: %d jobs, %d tasks, 40 spot-automation jobs\n", path, njobs, ntasks))
