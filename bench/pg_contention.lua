-- bench/pg_contention.lua: what the store's version costs on PostgreSQL.
--
--   lua5.4 bench/pg_contention.lua              (starts a throwaway cluster: scripts/pg.sh)
--   URL=postgresql:///inv?host=... lua5.4 bench/pg_contention.lua
--   WRITERS=8 SECONDS=4 FSYNC=on lua5.4 bench/pg_contention.lua
--
-- Every write bumps change_seq.seq in its transaction (schema 4: the
-- statement that writes its journal rows takes their numbers from it and
-- holds the row to its COMMIT, sent in the same exchange; schema 3 did it at
-- COMMIT, by a deferred trigger): the read cache of every nginx worker on
-- every machine compares it before it answers from memory. The row is one,
-- so the writers of all processes queue on it for the end of their
-- transactions. This measures, with WRITERS processes each finishing
-- the tasks of its own job (no other row in common) for SECONDS:
--   - finishes per second with the bump (as shipped), and without it (the
--     trigger disabled in a scratch schema: only a schema 3 store then writes
--     no version; since schema 4 the journal statements take it themselves,
--     and "nobump" measures the same as "bump");
--   - the time a version read takes (inv:version(), one round trip) while
--     they write, and the time of a job.get, for scale.
-- Prints one table. Runs twice with FSYNC=both (fsync off, then on: on a
-- disk with a slow fsync the queue on the row shows most). MODES="bump"
-- measures the shipped schema only.
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./lib/lua/5.4/?.so;" .. package.cpath
local inventory = require "inventory"
local socket = require "socket"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- child: lua5.4 bench/pg_contention.lua writer URL SCHEMA JOB SECONDS GO
--        lua5.4 bench/pg_contention.lua reader URL SCHEMA JOB SECONDS GO
if arg[1] == "writer" or arg[1] == "reader" then
  local url, schema, job, secs, go = arg[2], arg[3], arg[4], tonumber(arg[5]), arg[6]
  local inv = assert(inventory.open{ url = url, schema = schema, statement_timeout = 0 })
  local D = "domain-bench"
  local tasks = {}
  if arg[1] == "writer" then
    local start = 1
    repeat
      local r = assert(inv.job_task.list{ domain_id = D, query = { filter = { { k = "job_id", v = job, o = "eq" } },
        only = { "job_task_id" }, page = { start = start, limit = 1000 } } })
      for _, t in ipairs(r.results) do tasks[#tasks + 1] = t.job_task_id end
      start = start + 1000
    until #r.results < 1000
  end
  io.stdout:write("ready\n"); io.stdout:flush()
  while not io.open(go) do socket.sleep(0.002) end
  local t0 = socket.gettime()
  local t_end, n, lat = t0 + secs, 0, {}
  if arg[1] == "writer" then
    while socket.gettime() < t_end and n < #tasks do
      n = n + 1
      assert(inv.job_task.finish{ domain_id = D, job_task_id = tasks[n], status = "SUCCESS" })
    end
    print(string.format("done %d %.6f", n, socket.gettime() - t0))
  else
    while socket.gettime() < t_end do
      local ta = socket.gettime()
      assert(inv:version())
      local tb = socket.gettime()
      assert(inv.job.get{ domain_id = D, job_id = job })
      local tc = socket.gettime()
      lat[#lat + 1] = { (tb - ta) * 1e6, (tc - tb) * 1e6 }
      socket.sleep(0.002)
    end
    local v, g = {}, {}
    for i, x in ipairs(lat) do v[i], g[i] = x[1], x[2] end
    table.sort(v); table.sort(g)
    local function pct(t, p) return t[math.max(1, math.floor(#t * p))] end
    print(string.format("done %d %.0f %.0f %.0f %.0f", #lat, pct(v, 0.5), pct(v, 0.99), pct(g, 0.5), pct(g, 0.99)))
  end
  inv:close()
  os.exit(0)
end

local WRITERS = tonumber(os.getenv("WRITERS") or "") or 8
local SECONDS = tonumber(os.getenv("SECONDS") or "") or 4
local TASKS = 4000                               -- per writer: more than it can finish in SECONDS

local url, pgdir = os.getenv("URL"), nil
local function start_cluster(fsync)
  pgdir = io.popen("mktemp -d /tmp/inv-pgbench-XXXXXX"):read("l")
  local p = io.popen("FSYNC=" .. fsync .. " sh scripts/pg.sh start " .. q(pgdir) .. " 2>&1")
  local u = p:read("a"):gsub("%s+$", "")
  assert(p:close(), "the cluster did not start: " .. u)
  return u
end
local function stop_cluster()
  if pgdir then os.execute("sh scripts/pg.sh stop " .. q(pgdir)); pgdir = nil end
end

local function run(u, mode)
  local schema = "bench_" .. mode .. "_" .. tostring(os.time())
  local inv = assert(inventory.open{ url = u, schema = schema, statement_timeout = 0 })
  local jobs = {}
  for w = 1, WRITERS do
    local tasks = {}
    for i = 1, TASKS do tasks[i] = {} end
    jobs[w] = assert(inv.job.create{ domain_id = "domain-bench", collector_id = "collector-" .. w,
                                     tasks = tasks }).job_id
  end
  inv:close()
  if mode == "nobump" then
    assert(os.execute("psql -X -q -d " .. q(u) .. " -c " .. q("ALTER TABLE " .. schema .. ".change DISABLE TRIGGER change_stamp")))
  end
  local go = os.tmpname(); os.remove(go)
  local kids = {}
  for w = 1, WRITERS do
    kids[w] = io.popen("lua5.4 bench/pg_contention.lua writer " .. q(u) .. " " .. schema .. " " .. jobs[w] .. " "
                       .. SECONDS .. " " .. q(go))
  end
  local reader = io.popen("lua5.4 bench/pg_contention.lua reader " .. q(u) .. " " .. schema .. " " .. jobs[1] .. " "
                          .. SECONDS .. " " .. q(go))
  for _, k in ipairs(kids) do assert(k:read("l") == "ready") end
  assert(reader:read("l") == "ready")
  assert(io.open(go, "w")):close()
  local total, took = 0, 0
  for _, k in ipairs(kids) do
    local n, secs = (k:read("l") or ""):match("^done (%d+) ([%d%.]+)")
    k:close()
    total = total + (tonumber(n) or 0)
    took = math.max(took, tonumber(secs) or SECONDS)
  end
  local _, vp50, vp99, gp50, gp99 = (reader:read("l") or ""):match("^done (%d+) (%d+) (%d+) (%d+) (%d+)")
  reader:close()
  os.remove(go)
  return total / took, vp50, vp99, gp50, gp99
end

local modes = os.getenv("FSYNC") == "both" and { "off", "on" } or { os.getenv("FSYNC") or "off" }
local ok, err = pcall(function()
  print(string.format("%d writer processes, each finishing its own job's tasks for %d s; one reader", WRITERS, SECONDS))
  print(string.format("%-6s %-22s %12s %16s %16s", "fsync", "change_seq bump", "finishes/s", "version p50/p99",
                      "job.get p50/p99"))
  for _, fsync in ipairs(modes) do
    local u = url or start_cluster(fsync)
    for _, mode in ipairs(os.getenv("MODES") and (function() local t = {} for m in os.getenv("MODES"):gmatch("%S+") do t[#t + 1] = m end return t end)() or { "bump", "nobump" }) do
      local rate, vp50, vp99, gp50, gp99 = run(u, mode)
      print(string.format("%-6s %-22s %12.0f %10s/%s us %10s/%s us", url and "(url)" or fsync,
        mode, rate, vp50, vp99, gp50, gp99))
    end
    if not url then stop_cluster() end
  end
end)
stop_cluster()
if not ok then io.stderr:write(tostring(err), "\n"); os.exit(1) end
