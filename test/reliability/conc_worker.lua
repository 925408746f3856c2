-- test/reliability/conc_worker.lua: one worker process of concurrency.lua.
--
--   lua5.4 conc_worker.lua TARGET PLAN LOG W NWORKERS BUSY_MS GOFILE MODE
--
-- Opens its own store on TARGET (a file, or pg:<schema>: common.lua), prints "ready", waits for GOFILE, then walks
-- the plan (one line per task: "j i job_id task_id") and handles every task
-- whose line number g (0-based) has g % NWORKERS == W: maybe start, maybe
-- add_error, then finish. Every workers walks the jobs in the same order, so
-- all of them hit the same job rows at the same time. MODE "full" also makes
-- each worker append one error to two shared tasks of every job, worker 1
-- cancel jobs 30 and 70, and worker 2 run a timeout sweep when it reaches job
-- 50. Every call's outcome is logged, one line each, flushed:
--   F ok|err task status [finished_at created_count | code msg]   finish
--   S ok|err task [status | code msg]                             start
--   E ok|err task msg_id [code msg]                               add_error
--   X ok|err job [code msg]                                       cancel
--   W ok|err [jobs tasks | code msg]                              sweep
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local C = dofile(dir .. "/common.lua")
local P = dofile(dir .. "/conc_plan.lua")

local db, plan, logf, W, N, busy, go, mode =
  arg[1], arg[2], arg[3], tonumber(arg[4]), tonumber(arg[5]), tonumber(arg[6]), arg[7], arg[8]
local D = P.DOMAIN

local inv, m, c = C.open(db, { busy_timeout = busy })
if not inv then
  io.stderr:write("open failed: ", tostring(c), " ", tostring(m), "\n")
  os.exit(3)
end
local log = assert(io.open(logf, "w"))
log:setvbuf("line")
local function out(...) log:write(table.concat({ ... }, " "), "\n") end
local function clean(s) return (tostring(s):gsub("%s+", "_")) end

local lines = {}
for l in io.lines(plan) do
  local j, i, job, task = l:match("^(%d+) (%d+) (%S+) (%S+)$")
  lines[#lines + 1] = { j = tonumber(j), i = tonumber(i), job = job, task = task }
end
-- first task of each job: the shared error targets
local first = {}
for _, x in ipairs(lines) do
  first[x.j] = first[x.j] or {}
  first[x.j][x.i] = x.task
end

io.stdout:write("ready\n")
io.stdout:flush()
while not C.exists(go) do C.sleep(0.005) end
out("T start", string.format("%.6f", C.now()))

local function add_error(task, id)
  local r, msg, code = inv.job_task.add_error{ job_task_id = task, domain_id = D,
    error_code = "ERROR_TEST", message = id, additional = { by = "w" .. W } }
  if r then out("E ok", task, id) else out("E err", task, id, clean(code), clean(msg)) end
end

local entered = {}
for g, x in ipairs(lines) do
  if (g - 1) % N == W then
    if not entered[x.j] then
      entered[x.j] = true
      if mode == "full" then
        for _, i in ipairs(P.SHARED) do
          add_error(first[x.j][i], string.format("shared-w%d-j%d-i%d", W, x.j, i))
        end
        if W == 1 and P.CANCEL[x.j] then
          local r, msg, code = inv.job.cancel{ job_id = x.job, domain_id = D }
          if r then out("X ok", x.job) else out("X err", x.job, clean(code), clean(msg)) end
        end
        if W == 2 and x.j == P.SWEEP_AT then
          local r, msg, code = inv:sweep{ timeout_hours = 2 }
          if r then out("W ok", r.jobs, r.tasks) else out("W err", clean(code), clean(msg)) end
        end
      end
    end
    if mode == "full" and P.starts(x.j, x.i) then
      local r, msg, code = inv.job_task.start{ job_task_id = x.task, domain_id = D }
      if r then out("S ok", x.task, r.status) else out("S err", x.task, clean(code), clean(msg)) end
    end
    if P.own_error(x.j, x.i) then add_error(x.task, string.format("own-j%d-i%d", x.j, x.i)) end
    local st = P.fails(x.j, x.i) and "FAILURE" or "SUCCESS"
    local r, msg, code = inv.job_task.finish{ job_task_id = x.task, domain_id = D, status = st,
      created_count = x.i, updated_count = x.j, failure_count = st == "FAILURE" and 1 or 0 }
    if r then
      out("F ok", x.task, st, r.status .. "/" .. tostring(r.finished_at), r.created_count)
    else
      out("F err", x.task, st, clean(code), clean(msg))
    end
  end
end
out("T end", string.format("%.6f", C.now()))
log:close()
inv:close()
os.exit(0)
