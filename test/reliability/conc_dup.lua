-- test/reliability/conc_dup.lua: one of 8 processes that create jobs of the
-- same collectors at the same time (concurrency.lua phase F).
--
--   lua5.4 conc_dup.lua TARGET GOFILE K ROUNDS
--
-- Prints "ready", waits for GOFILE, then for r = 1..ROUNDS creates one job
-- (one task) of collector "collector-dup-<r>"; prints "ok <job_id>" or
-- "err <code> <message>" for each.
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local C = dofile(dir .. "/common.lua")

local db, go, k, rounds = arg[1], arg[2], arg[3], tonumber(arg[4])
local inv, m, c = C.open(db, { busy_timeout = 5000, statement_timeout = 5000 })
if not inv then io.stderr:write("open failed: ", tostring(c), " ", tostring(m), "\n"); os.exit(3) end
io.stdout:write("ready\n")
io.stdout:flush()
while not C.exists(go) do C.sleep(0.002) end
for r = 1, rounds do
  local j, m2, c2 = inv.job.create{ domain_id = "domain-dup", collector_id = "collector-dup-" .. r,
                                    plugin_id = "plugin-" .. k, tasks = { {} } }
  if j then print("ok " .. j.job_id) else print("err " .. tostring(c2) .. " " .. tostring(m2)) end
  io.stdout:flush()
end
inv:close()
