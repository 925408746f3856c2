-- bench/worker.lua: one process of the "task finish, 2 processes" case.
--
--   lua5.4 bench/worker.lua CONTENDER INV_DB HAND_DB TASKFILE START_NS
--
-- Opens CONTENDER (bench/contenders.lua) on its file (inventory: INV_DB; the
-- limit and the peer: HAND_DB), reads "job_task_id domain_id"
-- lines from TASKFILE, waits for the CLOCK_MONOTONIC instant START_NS (the
-- harness releases both workers together), finishes each task in its own
-- transaction, and prints "ok N T_START T_END" then one latency (ns) a line.
package.path = "./bench/?.lua;" .. package.path
local C = require "contenders"
local limit = require "limit"

local name, inv, hand, file, start = arg[1], arg[2], arg[3], arg[4], math.tointeger(tonumber(arg[5]))
local c = C.open(name, { inv = inv, hand = hand })
local tasks = {}
for line in io.lines(file) do
  local id, dom = line:match("^(%S+) (%S+)$")
  tasks[#tasks + 1] = { job_task_id = id, domain_id = dom, created = 3, updated = 17 }
end
local op, now = c.ops.finish, limit.now
local lat = {}
collectgarbage("collect")
limit.sleep_until(start)
local t0 = now()
for i = 1, #tasks do
  local a = now()
  op(tasks[i])
  lat[i] = now() - a
end
local t1 = now()
c.close()
io.write(string.format("ok %d %d %d\n", #tasks, t0, t1))
for i = 1, #lat do io.write(lat[i], "\n") end
