-- test/reliability/fault_writer.lua: a writer that keeps going through faults
-- of the server (faults.lua stops it, restarts it, terminates its sessions).
--
--   lua5.4 fault_writer.lua TARGET LOG SEED STOPFILE CONNECT_MS
--
-- Writes as crash_writer.lua does (create, start, finish, add_error) until
-- STOPFILE exists, with a call budget of 500 ms and connect_timeout
-- CONNECT_MS. Prints "ready" once its store is open. Every call appends one
-- line to LOG (line buffered), with the call's start (epoch seconds) and its
-- duration (ms) as the last two fields:
--   C job_id total_tasks | F task status created_count | S task status |
--   E task message_id                                  a call that succeeded
--   X op id code class ms unknown message              a call that failed:
--     id is the task (start, finish), task/message_id (add_error) or "-";
--     unknown is 1 when the error says the outcome is unknown (the
--     connection was lost at COMMIT and the server could not be asked), 2
--     when it says the write was committed (reading its result failed)
-- A failed finish takes its task out of play, so the task must stay open
-- unless the outcome is unknown (common.lua C.check_log).
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local C = dofile(dir .. "/common.lua")
local socket = require "socket"

local target, logf, seed, stopfile, connect_ms = arg[1], arg[2], tonumber(arg[3]), arg[4], tonumber(arg[5])
local D = "domain-fault"
math.randomseed(seed)

local log = assert(io.open(logf, "a"))
log:setvbuf("line")
local function out(...) log:write(table.concat({ ... }, " "), "\n") end
local function clean(x) return (tostring(x):gsub("%s+", "_")) end

local inv, m, c = C.open(target, { busy_timeout = 5000, statement_timeout = 500, connect_timeout = connect_ms })
if not inv then io.stderr:write("open failed: ", tostring(c), " ", tostring(m), "\n"); os.exit(3) end

local pool = {}
local function take(remove)
  if #pool == 0 then return nil end
  local i = math.random(#pool)
  local id = pool[i]
  if remove then pool[i] = pool[#pool]; pool[#pool] = nil end
  return id
end

-- run one call: fn() -> result | nil, msg, code, class; logs and returns the result
local function call(op, id, fn, ok_line)
  local t0 = socket.gettime()
  local r, msg, code, class = fn()
  local ms = (socket.gettime() - t0) * 1000
  local stamp = string.format("%.6f %.1f", t0, ms)
  if r then
    out(ok_line(r), stamp)
  else
    local unknown = tostring(msg):find("is unknown", 1, true) and "1"
                    or tostring(msg):find("was committed", 1, true) and "2" or "0"
    out("X", op, id or "-", clean(code), clean(class), string.format("%.1f", ms), unknown, clean(msg), stamp)
    socket.sleep(0.005)                  -- (a client backs off a little after a failure)
  end
  return r
end

io.stdout:write("ready\n")
io.stdout:flush()
local n = 0
while not C.exists(stopfile) do
  n = n + 1
  local x = math.random(100)
  if x <= 12 or #pool == 0 then
    local nt = math.random(6)
    local tasks = {}
    for i = 1, nt do tasks[i] = { secret_id = "s" .. i, project_id = "p" .. (i % 3) } end
    local j = call("create", "-", function()
      return inv.job.create{ domain_id = D, collector_id = "collector-" .. math.random(4),
                             plugin_id = "plugin-fault", tasks = tasks }
    end, function(j) return "C " .. j.job_id .. " " .. j.total_tasks end)
    if j then
      local r = inv.job_task.list{ domain_id = D, query = {
        filter = { { k = "job_id", v = j.job_id, o = "eq" } }, only = { "job_task_id" } } }
      -- (a failed list loses the tasks for this writer: they stay PENDING)
      for _, t in ipairs(r and r.results or {}) do pool[#pool + 1] = t.job_task_id end
    end
  elseif x <= 67 then
    local id = take(true)
    local st = math.random(4) == 1 and "FAILURE" or "SUCCESS"
    local cc = math.random(0, 50)
    call("finish", id, function()
      return inv.job_task.finish{ job_task_id = id, domain_id = D, status = st, created_count = cc }
    end, function(t) return "F " .. id .. " " .. t.status .. " " .. t.created_count end)
  elseif x <= 87 then
    local id = take(false)
    local msg = string.format("%d-%d", seed, n)
    call("add_error", id .. "/" .. msg, function()
      return inv.job_task.add_error{ job_task_id = id, domain_id = D, error_code = "ERROR_TEST", message = msg }
    end, function() return "E " .. id .. " " .. msg end)
  else
    local id = take(false)
    local t = call("start", id, function()
      return inv.job_task.start{ job_task_id = id, domain_id = D }
    end, function(t) return "S " .. id .. " " .. t.status end)
    if t and t.status == "FAILURE" then          -- its job was canceled: the task is done
      for i, p in ipairs(pool) do if p == id then pool[i] = pool[#pool]; pool[#pool] = nil; break end end
    end
  end
end
log:close()
inv:close()
os.exit(0)
