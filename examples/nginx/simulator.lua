-- examples/nginx/simulator.lua: a demo collector worker, so that a new user of
-- `make run` sees progress bars move. It writes through the public Lua API
-- (job.create, job_task.start / add_error / finish), in its own process, like
-- a collector worker: the server learns of its writes from the change journal.
--
--   luajit examples/nginx/simulator.lua DB [--first 2] [--every 30-60] [--watch PID] [--seed N]
--                                          [--domains domain-1,domain-2] [--pace 1]
--
-- Starts its first job `--first` seconds after start (default 2), then one
-- every 30-60 s (--every MIN-MAX) for a demo collector picked at random (the
-- collectors, their plugins, workspaces, secrets and projects are read from
-- the database: examples/nginx/seed.lua wrote them). Each job has 2-5 tasks,
-- each started a few seconds after the job, finished 20-110 s later, SUCCESS
-- or (1 in 5) FAILURE with one or two errors. Stops by itself when the
-- process --watch PID is gone (run.sh passes the nginx master); SIGTERM
-- stops it at any time: every write is one transaction. --pace N runs the
-- tasks N times faster (tests).
local inventory = require "inventory"

local db
local first, every_min, every_max, watch, seed, pace = 2, 30, 60, nil, nil, 1
local domains = "domain-1f2e3d4c5b6a,domain-9a8b7c6d5e4f"     -- examples/nginx/tokens.json
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--first" then first = tonumber(arg[i + 1]); i = i + 1
    elseif a == "--every" then
      local lo, hi = tostring(arg[i + 1]):match("^(%d+)%-(%d+)$")
      every_min, every_max = tonumber(lo), tonumber(hi); i = i + 1
    elseif a == "--watch" then watch = tostring(arg[i + 1]); i = i + 1
    elseif a == "--seed" then seed = tonumber(arg[i + 1]); i = i + 1
    elseif a == "--pace" then pace = tonumber(arg[i + 1]); i = i + 1
    elseif a == "--domains" then domains = tostring(arg[i + 1]); i = i + 1
    elseif not db then db = a
    else error("unknown argument " .. a) end
    i = i + 1
  end
end
assert(db and first and pace and pace > 0 and every_min and every_max and every_min <= every_max,
  "usage: simulator.lua DB [--first S] [--every MIN-MAX] [--watch PID] [--seed N]")

local ok_socket, socket = pcall(require, "socket")
local function now() return ok_socket and socket.gettime() or os.time() end
local function sleep(s)
  if ok_socket then socket.sleep(s) else os.execute("sleep " .. tostring(s)) end
end
math.randomseed(seed or math.floor(now() * 1000) % 2147483647)
local function rnd(a, b) return math.random(a, b) end
local function log(...)
  io.stderr:write(os.date("!%H:%M:%S "), "simulator: ", table.concat({ ... }), "\n")
  io.stderr:flush()
end

local function alive(pid)
  if not pid then return true end
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if not f then return false end
  local st = f:read("*l") or ""
  f:close()
  return not st:match("^%d+ %b() Z")
end

local inv
for _ = 1, 50 do
  inv = inventory.open{ path = db, busy_timeout = 5000 }
  if inv then break end
  sleep(0.2)
end
assert(inv, "simulator: cannot open " .. db)

local ERRORS = {
  { "ERROR_PLUGIN", "Failed to collect resources: AccessDenied (ec2:DescribeInstances)",
    { resource_type = "inventory.CloudService", cloud_service_group = "EC2" } },
  { "ERROR_COLLECTOR_STATE", "Collector plugin timed out after 600 seconds.", nil },
  { "ERROR_AUTHENTICATE_FAILURE", "The secret's credentials were rejected by the provider.", nil },
  { "ERROR_PLUGIN", "Quota exceeded for quota metric 'Read requests'",
    { resource_type = "inventory.CloudService", cloud_service_group = "ComputeEngine" } },
}

-- the demo collectors: the newest job of each collector of each domain is its
-- template (plugin, workspace, resource group); its tasks give the secrets
local list = {}
for d in domains:gmatch("[^,]+") do
  local cs = inv.job.stat{ domain_id = d, query = { distinct = "collector_id" } }
  for _, c in ipairs(cs and cs.results or {}) do
    local j = inv.job.list{ domain_id = d, collector_id = c,
      query = { sort = { { key = "created_at", desc = true } }, page = { limit = 1 } } }
    j = j and j.results[1]
    local ts = j and inv.job_task.list{ domain_id = d, job_id = j.job_id }
    local secrets = {}
    for _, t in ipairs(ts and ts.results or {}) do
      secrets[#secrets + 1] = { secret_id = t.secret_id, service_account_id = t.service_account_id,
                                project_id = t.project_id, workspace_id = t.workspace_id,
                                provider = t.provider }
    end
    if #secrets > 0 then
      list[#list + 1] = { domain_id = d, collector_id = c, plugin_id = j.plugin_id,
                          workspace_id = j.workspace_id, resource_group = j.resource_group,
                          secrets = secrets }
    end
  end
end
if #list == 0 then
  log("no demo collector in ", db, " (seed it with examples/nginx/seed.lua); nothing to do")
  os.exit(0)
end
log(#list, " collectors; first job in ", first, " s, then one every ", every_min, "-", every_max, " s")

local pending = {}     -- { at = time, fn = function } sorted by at

local function later(at, fn)
  local i = #pending + 1
  while i > 1 and pending[i - 1].at > at do i = i - 1 end
  table.insert(pending, i, { at = at, fn = fn })
end

local function try(what, res, err, code)
  if res == nil then log(what, " failed: ", tostring(err), " (", tostring(code), ")") end
  return res
end

local function new_job()
  local c = list[rnd(1, #list)]
  local n = math.min(#c.secrets, rnd(2, 5))
  local tasks, used = {}, {}
  while #tasks < n do
    local s = c.secrets[rnd(1, #c.secrets)]
    if not used[s] or #tasks >= #c.secrets then
      used[s] = true
      tasks[#tasks + 1] = { secret_id = s.secret_id, service_account_id = s.service_account_id,
                            project_id = s.project_id, workspace_id = s.workspace_id,
                            provider = s.provider }
    end
  end
  local job = try("job.create", inv.job.create{
    domain_id = c.domain_id, collector_id = c.collector_id, plugin_id = c.plugin_id,
    workspace_id = c.workspace_id, resource_group = c.resource_group,
    request_workspace_id = c.workspace_id ~= "*" and c.workspace_id or nil, tasks = tasks })
  if not job then return end
  log("job ", job.job_id, " (", c.collector_id, ", ", #tasks, " tasks)")
  local ts = inv.job_task.list{ domain_id = c.domain_id, job_id = job.job_id }
  local t0 = now()
  for _, t in ipairs(ts and ts.results or {}) do
    local d, id = c.domain_id, t.job_task_id
    local started = t0 + rnd(2, 12) / pace
    local finished = started + rnd(20, 110) / pace
    local failed = rnd(1, 5) == 1
    later(started, function()
      try("job_task.start", inv.job_task.start{ domain_id = d, job_task_id = id })
    end)
    local nerr = failed and rnd(1, 2) or (rnd(1, 8) == 1 and 1 or 0)
    for k = 1, nerr do
      local e = ERRORS[rnd(1, #ERRORS)]
      later(started + (finished - started) * k / (nerr + 1), function()
        try("job_task.add_error", inv.job_task.add_error{ domain_id = d, job_task_id = id,
          error_code = e[1], message = e[2], additional = e[3] })
      end)
    end
    later(finished, function()
      try("job_task.finish", inv.job_task.finish{ domain_id = d, job_task_id = id,
        status = failed and "FAILURE" or "SUCCESS",
        created_count = rnd(0, 5), updated_count = failed and 0 or rnd(50, 2000),
        deleted_count = rnd(1, 8) == 1 and rnd(1, 5) or 0,
        disconnected_count = rnd(1, 8) == 1 and rnd(1, 3) or 0, failure_count = nerr })
    end)
  end
end

local next_job = now() + first
while alive(watch) do
  local t = now()
  if t >= next_job then
    new_job()
    next_job = t + rnd(every_min, every_max)
  end
  while pending[1] and pending[1].at <= t do
    local p = table.remove(pending, 1)
    local ok, err = pcall(p.fn)
    if not ok then log("error: ", tostring(err)) end
  end
  sleep(0.5)
end
log("the server is gone; stopping")
inv:close()
