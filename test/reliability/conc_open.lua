-- test/reliability/conc_open.lua: one of several processes that open a store
-- file nobody has created yet, all at once (concurrency.lua phase D).
--
--   lua5.4 conc_open.lua TARGET GOFILE N K
--
-- Prints "ready", waits for GOFILE, opens TARGET (busy_timeout 5000), creates one
-- job with N tasks, prints "ok <job_id>" or "err <code> <message>".
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local C = dofile(dir .. "/common.lua")

local db, go, n, k = arg[1], arg[2], tonumber(arg[3]), arg[4]
io.stdout:write("ready\n")
io.stdout:flush()
while not C.exists(go) do C.sleep(0.002) end
local inv, m, c = C.open(db, { busy_timeout = 5000 })
if not inv then
  print("err open " .. tostring(c) .. " " .. tostring(m))
  os.exit(0)
end
local tasks = {}
for i = 1, n do tasks[i] = { secret_id = "s" .. i } end
local j, m2, c2 = inv.job.create{ domain_id = "domain-open", collector_id = "collector-" .. k,
                                  tasks = tasks }
if j then print("ok " .. j.job_id) else print("err create " .. tostring(c2) .. " " .. tostring(m2)) end
inv:close()
