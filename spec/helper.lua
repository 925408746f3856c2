-- spec/helper.lua: shared fixtures for the busted specs.
--   local H = require "spec.helper"
--   local inv = H.open()             -- a fresh :memory: store
--   local inv = H.canonical()        -- :memory: store holding Appendix A of reference/query.md
--   H.ids(result)                    -- { "job-aaa111", ... } of a list result
--   H.ok(inv.job.list{...})          -- the result, or a failed assertion naming the error
--   H.fails(code, inv.job.get{...})  -- asserts nil, message, code; returns the message
--   H.raises(pattern, f, ...)        -- asserts that f(...) raises an error matching pattern
--   H.tmpdb() / H.rmdb(path)         -- a fresh database path; remove it and its -wal/-shm
local inventory = require "inventory"
local assert = require "luassert"     -- busted's assert, also inside this module

local H = {}

-- ok(result, msg, code, class): the result of a call that must succeed
function H.ok(r, msg, code, class)
  assert(r, "unexpected error: " .. tostring(code) .. " (" .. tostring(class) .. "): " .. tostring(msg))
  return r
end

-- fails(code, result, msg, got_code, class): a call that must fail with code;
-- returns its message
function H.fails(code, r, msg, got, class)
  assert.is_nil(r, "expected " .. code)
  assert.are.equal(code, got, msg)
  assert.is_string(msg)
  return msg, class
end

-- raises(pattern, f, ...): f(...) raises an error whose text matches pattern
function H.raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error matching " .. pattern)
  assert.matches(pattern, tostring(err))
  return err
end

function H.tmpdb()
  local path = os.tmpname()
  os.remove(path)                         -- SQLite creates it
  return path
end
function H.rmdb(path)
  for _, suffix in ipairs{ "", "-wal", "-shm", "-journal" } do os.remove(path .. suffix) end
end

-- The call budgets scale with INV_TEST_TIME_SCALE (ASan, valgrind run the
-- specs 10 to 30 times slower than a plain build).
H.TIME_SCALE = tonumber(os.getenv("INV_TEST_TIME_SCALE")) or 1

function H.open(opts)
  opts = opts or {}
  opts.path = opts.path or ":memory:"
  if opts.statement_timeout == nil then opts.statement_timeout = math.floor(500 * H.TIME_SCALE) end
  if opts.stat_timeout == nil then opts.stat_timeout = math.floor(10000 * H.TIME_SCALE) end
  return assert(inventory.open(opts))
end

-- reference/query.md Appendix A, insertion order = listed order
H.JOBS = {
  { job_id = "job-aaa111", status = "SUCCESS", total_tasks = 3, collector_id = "collector-1",
    plugin_id = "plugin-aws", created_at = "2024-01-01T00:00:00.000Z",
    finished_at = "2024-01-01T00:10:00.000Z" },
  { job_id = "job-bbb222", status = "FAILURE", total_tasks = 5, collector_id = "collector-1",
    plugin_id = "plugin-aws", created_at = "2024-01-02T00:00:00.000Z",
    finished_at = "2024-01-02T00:20:00.000Z" },
  { job_id = "job-ccc333", status = "IN_PROGRESS", total_tasks = 2, collector_id = "collector-2",
    plugin_id = "plugin-gcp", created_at = "2024-01-03T00:00:00.000Z" },
  { job_id = "job-ddd444", status = "CANCELED", total_tasks = 0, collector_id = "collector-2",
    plugin_id = "plugin-gcp", created_at = "2024-01-04T00:00:00.000Z",
    finished_at = "2024-01-04T01:00:00.000Z" },
}
for _, j in ipairs(H.JOBS) do
  j.resource_group = "DOMAIN"; j.workspace_id = "*"; j.domain_id = "domain-1"
  j.remained_tasks = 0; j.success_tasks = 0; j.failure_tasks = 0
  j.updated_at = j.created_at
end

H.TASKS = {
  { job_task_id = "job-task-001", job_id = "job-aaa111", status = "SUCCESS", provider = "aws",
    created_count = 10, failure_count = 0, errors = {}, created_at = "2024-01-01T00:01:00.000Z" },
  { job_task_id = "job-task-002", job_id = "job-bbb222", status = "FAILURE", provider = "aws",
    created_count = 1, failure_count = 2,
    errors = { { error_code = "E_A", message = "timeout", additional = {} },
               { error_code = "E_B", message = "denied",
                 additional = { resource_type = "inventory.CloudService" } } },
    created_at = "2024-01-02T00:01:00.000Z" },
  { job_task_id = "job-task-003", job_id = "job-bbb222", status = "FAILURE",
    created_count = 0, failure_count = 1,
    errors = { { error_code = "E_A", message = "Timeout again", additional = {} } },
    created_at = "2024-01-02T00:02:00.000Z" },
}
for _, t in ipairs(H.TASKS) do
  t.collector_id = "collector-1"; t.secret_id = "secret-1"; t.service_account_id = "sa-1"
  t.project_id = "project-1"; t.workspace_id = "ws-1"; t.domain_id = "domain-1"
end

function H.canonical(opts)
  local inv = H.open(opts)
  assert(inv:import("job", H.JOBS))
  assert(inv:import("job_task", H.TASKS))
  return inv
end

-- ids of a list result, in order
function H.ids(res, key)
  local out = {}
  for i, r in ipairs(res.results) do
    out[i] = r[key or r.job_task_id and "job_task_id" or "job_id"]
  end
  return out
end

-- a Job list on the canonical domain with a query
function H.jobs(inv, query)
  return inv.job.list{ domain_id = "domain-1", query = query }
end
function H.tasks(inv, query)
  return inv.job_task.list{ domain_id = "domain-1", query = query }
end

return H
