-- test/reliability/crash_writer.lua: the process crash.lua kills.
--
--   lua5.4 crash_writer.lua TARGET LOG SEED      (TARGET: a file, or pg:<schema>)
--
-- Writes forever: creates jobs (1..6 tasks, sometimes 60; collectors drawn
-- from a small set, so a create also cancels the collector's running job),
-- starts, finishes (SUCCESS / FAILURE) and add_errors tasks. After each call
-- returns it appends one line to LOG (line buffered, so a line is in the
-- kernel before the next call starts) with what the call reported committed:
--   C job_id total_tasks          job.create
--   F task status created_count   job_task.finish
--   S task status                 job_task.start
--   E task message_id             job_task.add_error
--   ERR what code message         anything unexpected (crash.lua fails on it)
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local C = dofile(dir .. "/common.lua")

local db, logf, seed = arg[1], arg[2], tonumber(arg[3])
local D = "domain-crash"
math.randomseed(seed)

local log = assert(io.open(logf, "a"))
log:setvbuf("line")
local function out(...) log:write(table.concat({ ... }, " "), "\n") end
local function fail(what, m, c)
  out("ERR", what, tostring(c), (tostring(m):gsub("%s+", "_")))
end

local inv, m, c = C.open(db, { busy_timeout = 5000 })
if not inv then fail("open", m, c); os.exit(3) end

-- the open tasks, rebuilt from the store (a killed predecessor may have
-- committed a write it never logged)
local pool = {}
do
  local start = 1
  while true do
    local r, m2, c2 = inv.job_task.list{ domain_id = D, query = {
      filter = { { k = "status", v = { "PENDING", "IN_PROGRESS" }, o = "in" } },
      only = { "job_task_id" }, page = { start = start, limit = 1000 } } }
    if not r then fail("list", m2, c2); os.exit(3) end
    for _, t in ipairs(r.results) do pool[#pool + 1] = t.job_task_id end
    if #r.results < 1000 then break end
    start = start + 1000
  end
end
local function take(remove)
  if #pool == 0 then return nil end
  local i = math.random(#pool)
  local id = pool[i]
  if remove then pool[i] = pool[#pool]; pool[#pool] = nil end
  return id
end

local n = 0
while true do
  n = n + 1
  local x = math.random(100)
  if x <= 12 or #pool == 0 then
    local nt = math.random(100) <= 5 and 60 or math.random(6)
    local tasks = {}
    for i = 1, nt do tasks[i] = { secret_id = "s" .. i, project_id = "p" .. (i % 3) } end
    local j, m2, c2 = inv.job.create{ domain_id = D, collector_id = "collector-" .. math.random(6),
                                      plugin_id = "plugin-crash", tasks = tasks }
    if not j then fail("create", m2, c2) else
      out("C", j.job_id, j.total_tasks)
      local r, m3, c3 = inv.job_task.list{ domain_id = D, query = {
        filter = { { k = "job_id", v = j.job_id, o = "eq" } }, only = { "job_task_id" } } }
      if not r then fail("list", m3, c3) else
        for _, t in ipairs(r.results) do pool[#pool + 1] = t.job_task_id end
      end
    end
  elseif x <= 67 then
    local id = take(true)
    local st = math.random(4) == 1 and "FAILURE" or "SUCCESS"
    local cc = math.random(0, 50)
    local t, m2, c2 = inv.job_task.finish{ job_task_id = id, domain_id = D, status = st, created_count = cc }
    if not t then fail("finish " .. id, m2, c2) else out("F", id, t.status, t.created_count) end
  elseif x <= 87 then
    local id = take(false)
    local msg = string.format("%d-%d", seed, n)
    local t, m2, c2 = inv.job_task.add_error{ job_task_id = id, domain_id = D, error_code = "ERROR_TEST",
                                              message = msg }
    if not t then fail("add_error " .. id, m2, c2) else out("E", id, msg) end
  else
    local id = take(false)
    local t, m2, c2 = inv.job_task.start{ job_task_id = id, domain_id = D }
    if not t then fail("start " .. id, m2, c2) else
      out("S", id, t.status)
      if t.status == "FAILURE" then          -- its job was canceled: the task is done
        for i, p in ipairs(pool) do if p == id then pool[i] = pool[#pool]; pool[#pool] = nil; break end end
      end
    end
  end
end
