-- spec/rest_fixture.lua: two domains of records and a token per role, shared
-- by spec/rest_spec.lua (router over a :memory: store) and test/nginx
-- (the same records behind a real nginx).
--
-- Domain B deliberately reuses domain A's workspace and project ids
-- ("ws-1", "project-1"): only domain_id keeps them apart.
local F = {}

F.A = "domain-aaaaaaaaaaaa"
F.B = "domain-bbbbbbbbbbbb"

F.TOKENS = {
  ["a-admin"] = { domain_id = F.A, role = "DOMAIN_ADMIN" },
  ["a-owner"] = { domain_id = F.A, role = "WORKSPACE_OWNER", workspace_id = "ws-1" },
  ["a-member"] = { domain_id = F.A, role = "WORKSPACE_MEMBER", workspace_id = "ws-1",
                   user_projects = { "project-1" } },
  ["a-member-none"] = { domain_id = F.A, role = "WORKSPACE_MEMBER", workspace_id = "ws-1",
                        user_projects = {} },
  ["b-admin"] = { domain_id = F.B, role = "DOMAIN_ADMIN" },
  ["b-owner"] = { domain_id = F.B, role = "WORKSPACE_OWNER", workspace_id = "ws-1" },
  ["b-member"] = { domain_id = F.B, role = "WORKSPACE_MEMBER", workspace_id = "ws-1",
                   user_projects = { "project-1" } },
}

local function job(id, domain, ws, status, created, extra)
  local j = {
    job_id = id, status = status, domain_id = domain, workspace_id = ws,
    resource_group = ws == "*" and "DOMAIN" or "WORKSPACE",
    collector_id = "collector-" .. id:sub(5), plugin_id = "plugin-aws-inven-collector",
    total_tasks = 2, remained_tasks = status == "IN_PROGRESS" and 1 or 0,
    success_tasks = status == "SUCCESS" and 2 or 1, failure_tasks = status == "FAILURE" and 1 or 0,
    created_at = created, updated_at = created,
    finished_at = status ~= "IN_PROGRESS" and created:gsub("T00", "T01") or nil,
  }
  for k, v in pairs(extra or {}) do j[k] = v end
  return j
end

F.JOBS = {
  job("job-a00000000001", F.A, "*", "SUCCESS", "2024-01-01T00:00:00.000Z"),
  job("job-a00000000002", F.A, "ws-1", "FAILURE", "2024-01-02T00:00:00.000Z",
      { request_workspace_id = "ws-1" }),
  job("job-a00000000003", F.A, "ws-2", "IN_PROGRESS", "2024-01-03T00:00:00.000Z"),
  job("job-b00000000001", F.B, "*", "SUCCESS", "2024-01-01T00:30:00.000Z"),
  job("job-b00000000002", F.B, "ws-1", "SUCCESS", "2024-01-02T00:30:00.000Z"),
}

local function task(id, job_id, domain, ws, project, status, created, extra)
  local t = {
    job_task_id = id, job_id = job_id, domain_id = domain, workspace_id = ws,
    project_id = project, status = status, provider = "aws",
    secret_id = "secret-" .. id:sub(10), service_account_id = "sa-" .. id:sub(10),
    collector_id = "collector-" .. job_id:sub(5),
    created_at = created, started_at = created,
    finished_at = (status == "SUCCESS" or status == "FAILURE") and created:gsub("T00", "T01") or nil,
    created_count = 0, updated_count = 10, failure_count = status == "FAILURE" and 1 or 0,
    deleted_count = 0, disconnected_count = 0,
    errors = status == "FAILURE" and { { error_code = "ERROR_PLUGIN", message = "denied/forbidden",
                                         additional = { resource_type = "inventory.CloudService" } } }
             or {},
  }
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

F.TASKS = {
  task("job-task-a00000000001", "job-a00000000001", F.A, "ws-1", "project-1", "SUCCESS", "2024-01-01T00:01:00.000Z"),
  task("job-task-a00000000002", "job-a00000000001", F.A, "ws-1", "project-2", "SUCCESS", "2024-01-01T00:02:00.000Z"),
  task("job-task-a00000000003", "job-a00000000002", F.A, "ws-1", "project-1", "FAILURE", "2024-01-02T00:01:00.000Z"),
  task("job-task-a00000000004", "job-a00000000003", F.A, "ws-2", "project-3", "IN_PROGRESS", "2024-01-03T00:01:00.000Z"),
  task("job-task-b00000000001", "job-b00000000001", F.B, "ws-1", "project-1", "SUCCESS", "2024-01-01T00:31:00.000Z"),
  task("job-task-b00000000002", "job-b00000000002", F.B, "ws-1", "project-1", "SUCCESS", "2024-01-02T00:31:00.000Z"),
}

F.SPOT = {
  { job_id = "job-sa0000000001", status = "SUCCESS", filter = {}, total_tasks = 1, remained_tasks = 0,
    errors = {}, project_id = "project-1", domain_id = F.A,
    created_at = "2021-01-01T00:00:00.000Z", updated_at = "2021-01-01T00:05:00.000Z",
    finished_at = "2021-01-01T00:05:00.000Z" },
  { job_id = "job-sa0000000002", status = "ERROR", filter = {}, total_tasks = 2, remained_tasks = 1,
    errors = { { error_code = "ERROR_SPOT_GROUP", message = "Spot group not found.", additional = {} } },
    project_id = "project-2", domain_id = F.A,
    created_at = "2021-01-02T00:00:00.000Z", updated_at = "2021-01-02T00:05:00.000Z" },
  { job_id = "job-sb0000000001", status = "SUCCESS", filter = {}, total_tasks = 1, remained_tasks = 0,
    errors = {}, project_id = "project-1", domain_id = F.B,
    created_at = "2021-01-01T00:30:00.000Z", updated_at = "2021-01-01T00:35:00.000Z",
    finished_at = "2021-01-01T00:35:00.000Z" },
}

-- ids visible to each token, per resource and read method family
-- (lifecycle.md 3.1 with DESIGN's fix: "*" records are visible to workspace
-- callers on every read method; deletes use workspace equality)
F.SEES = {
  ["a-admin"] = {
    job = { "job-a00000000001", "job-a00000000002", "job-a00000000003" },
    job_task = { "job-task-a00000000001", "job-task-a00000000002", "job-task-a00000000003",
                 "job-task-a00000000004" },
    spot_job = { "job-sa0000000001", "job-sa0000000002" },
  },
  ["a-owner"] = {
    job = { "job-a00000000001", "job-a00000000002" },
    job_task = { "job-task-a00000000001", "job-task-a00000000002", "job-task-a00000000003" },
  },
  ["a-member"] = {
    job = { "job-a00000000001", "job-a00000000002" },       -- jobs have no project scope
    job_task = { "job-task-a00000000001", "job-task-a00000000003" },
  },
  ["a-member-none"] = {
    job = { "job-a00000000001", "job-a00000000002" },
    job_task = {},
  },
  ["b-admin"] = {
    job = { "job-b00000000001", "job-b00000000002" },
    job_task = { "job-task-b00000000001", "job-task-b00000000002" },
    spot_job = { "job-sb0000000001" },
  },
}

function F.load(inv)
  assert(inv:import("job", F.JOBS))
  assert(inv:import("job_task", F.TASKS))
  assert(inv:import("spot_job", F.SPOT))
  return inv
end

function F.set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

return F
