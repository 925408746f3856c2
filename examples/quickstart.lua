-- examples/quickstart.lua: one collection job, from creation to its end.
--
--   lua5.4 examples/quickstart.lua [db path]     (from the repository root)
--   luajit examples/quickstart.lua [db path]
--
-- A collector run is a job with one task per credential (secret). A worker
-- starts each task, records errors, and finishes it with its counts; the
-- job finishes with its last task.

-- Run from a checkout: find the module and the C core built by `make`.
local abi = jit and "5.1" or _VERSION:match("%d+%.%d+")
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./lib/lua/" .. abi .. "/?.so;" .. package.cpath

local inventory = require "inventory"
local cjson = require "cjson"

-- Indented JSON, keys sorted, so the output reads well.
local function pretty(v, indent)
  indent = indent or ""
  if type(v) ~= "table" then return cjson.encode(v) end
  local inner, parts = indent .. "  ", {}
  if #v > 0 or next(v) == nil then                 -- a list (or empty)
    if next(v) == nil then return "[]" end
    for _, x in ipairs(v) do parts[#parts + 1] = inner .. pretty(x, inner) end
    return "[\n" .. table.concat(parts, ",\n") .. "\n" .. indent .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    parts[#parts + 1] = inner .. cjson.encode(k) .. ": " .. pretty(v[k], inner)
  end
  return "{\n" .. table.concat(parts, ",\n") .. "\n" .. indent .. "}"
end

local inv = assert(inventory.open{ path = arg[1] or "quickstart.db" })
local domain = "domain-quickstart"

-- Collector.collect: a job with three tasks, one per secret.
local job = assert(inv.job.create{
  domain_id = domain, collector_id = "collector-aws", plugin_id = "plugin-aws-inven-collector",
  tasks = {
    { secret_id = "secret-prod", project_id = "project-prod", provider = "aws" },
    { secret_id = "secret-dev", project_id = "project-dev", provider = "aws" },
    { secret_id = "secret-audit", project_id = "project-audit", provider = "aws" },
  },
})

-- The workers: each task starts, collects, and reports.
local tasks = assert(inv.job_task.list{ domain_id = domain, job_id = job.job_id }).results
for _, t in ipairs(tasks) do
  assert(inv.job_task.start{ job_task_id = t.job_task_id, domain_id = domain })
end
assert(inv.job_task.finish{ job_task_id = tasks[1].job_task_id, domain_id = domain,
                            status = "SUCCESS", created_count = 12, updated_count = 40 })
assert(inv.job_task.finish{ job_task_id = tasks[2].job_task_id, domain_id = domain,
                            status = "SUCCESS", created_count = 3, deleted_count = 1 })
assert(inv.job_task.add_error{ job_task_id = tasks[3].job_task_id, domain_id = domain,
                               error_code = "ERROR_COLLECTOR_PLUGIN",
                               message = "AccessDenied: not authorized to perform ec2:DescribeInstances",
                               additional = { resource_type = "inventory.CloudService" } })
assert(inv.job_task.finish{ job_task_id = tasks[3].job_task_id, domain_id = domain,
                            status = "FAILURE", failure_count = 1 })

-- The job finished with its last task: FAILURE, since one task failed.
print("job:")
print(pretty(assert(inv.job.get{ job_id = job.job_id, domain_id = domain })))
print("tasks:")
print(pretty(assert(inv.job_task.list{ domain_id = domain, job_id = job.job_id })))

inv:close()
