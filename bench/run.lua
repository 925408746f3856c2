-- bench/run.lua: the benchmark harness (Lua 5.4). Run through bench/run.sh
-- (make bench / make bench-quick), which builds the data and sets the paths.
--
--   lua5.4 bench/run.lua --mode full|quick --db READ_DB --wdb WRITE_DB --out RESULTS.md
--                        [--cases get,list_job,...] [--rest FILE]
--   lua5.4 bench/run.lua --profile CASE --contender NAME --db DB [--n N]
--        (runs one contender's operation N times, untimed: for perf/callgrind)
--
-- Every case runs its three contenders (bench/contenders.lua) on the same
-- file and rows, in this one process, each on its own connection:
--   1. check: every contender runs the same parameters; the signatures (row
--      count, total_count, first and last id, or first group) must agree,
--      else the run fails;
--   2. warm-up, then R rounds; in each round every contender runs a batch of
--      B operations, the contenders' order rotating from round to round
--      (interleaved, so drift hits all three alike), with a full GC before
--      each batch; every operation is timed with CLOCK_MONOTONIC.
-- Latency cases report the median and p99; write cases also report the
-- throughput (operations / time spent in the batches). "finish, 2 processes"
-- starts two lua5.4 workers per contender (bench/worker.lua) on their own
-- tasks, released together at one CLOCK_MONOTONIC instant.

package.path = "./bench/?.lua;" .. package.path
local C = require "contenders"
local limit = require "limit"
local now = limit.now

-- ---------------------------------------------------------------- arguments
local opt = { mode = "quick" }
do
  local i = 1
  while i <= #arg do
    local k = arg[i]:match("^%-%-(.+)$")
    if not k then error("bad argument " .. arg[i]) end
    opt[k] = arg[i + 1]
    i = i + 2
  end
end
local QUICK = opt.mode == "quick"

local function die(fmt, ...)
  io.stderr:write("bench: " .. string.format(fmt, ...) .. "\n")
  os.exit(1)
end

-- deterministic shuffle (LCG), so every run uses the same parameter order
local function shuffle(t, seed)
  local s = seed or 12345
  for i = #t, 2, -1 do
    s = (s * 1103515245 + 12345) % 2147483648
    local j = s % i + 1
    t[i], t[j] = t[j], t[i]
  end
  return t
end

-- ---------------------------------------------------------------- parameters
local KEYWORDS = { "a1b", "3f0", "c7e", "52d", "e09" }
local ERROR_CODES = { "ERROR_AUTHENTICATION_FAILURE_PLUGIN", "ERROR_PLUGIN_TIMEOUT",
  "ERROR_COLLECTOR_COLLECTING", "ERROR_INVALID_CREDENTIALS", "ERROR_UNKNOWN" }

local function read_params(path)
  local db = assert(limit.open(path))
  local P = {}
  local doms = limit.query(db, "SELECT DISTINCT domain_id FROM job ORDER BY 1")
  if #doms == 0 then die("no data in %s", path) end
  P.domains = {}
  for i, r in ipairs(doms) do P.domains[i] = { domain_id = r.domain_id } end
  local nJob = limit.query(db, "SELECT count(*) AS n FROM job")[1].n
  local step = math.max(1, nJob // 1000)
  P.jobs = limit.query(db, "SELECT job_id, domain_id FROM job WHERE id % ? = 0 ORDER BY id", step)
  shuffle(P.jobs, 1)
  P.keywords, P.errors = {}, {}
  for _, d in ipairs(P.domains) do
    for _, k in ipairs(KEYWORDS) do P.keywords[#P.keywords + 1] = { domain_id = d.domain_id, keyword = k } end
    for _, e in ipairs(ERROR_CODES) do P.errors[#P.errors + 1] = { domain_id = d.domain_id, error_code = e } end
  end
  shuffle(P.keywords, 2)
  shuffle(P.errors, 3)
  P.n_jobs = nJob
  P.n_tasks = limit.query(db, "SELECT count(*) AS n FROM job_task")[1].n
  limit.close(db)
  return P
end

-- ---------------------------------------------------------------- statistics
local function percentile(sorted, p)
  local n = #sorted
  if n == 0 then return 0 / 0 end
  local k = math.max(1, math.min(n, math.ceil(p * n)))
  return sorted[k]
end
local function summarize(samples)
  local s = {}
  for i = 1, #samples do s[i] = samples[i] end
  table.sort(s)
  return { n = #s, median = percentile(s, 0.5), p99 = percentile(s, 0.99) }
end

-- ---------------------------------------------------------------- latency cases
local function check(case, cs, params)
  local n = math.min(#params, case.check or 10)
  for i = 1, n do
    local p = params[i]
    local ref
    for _, c in ipairs(cs) do
      local sig = c.sig[case.op](c.ops[case.op](p))
      if not ref then ref = sig
      elseif sig ~= ref then
        die("MISMATCH in %s (param %d): %s gives [%s], %s gives [%s]", case.name, i,
            cs[1].name, ref, c.name, sig)
      end
    end
    if i == 1 then case.sig_example = ref end
  end
  return n
end

local function run_latency(case, cs, params)
  local R, B = case.rounds, case.batch
  local lat, busy, ops_done, pos = {}, {}, {}, {}
  for _, c in ipairs(cs) do lat[c.name], busy[c.name], ops_done[c.name], pos[c.name] = {}, 0, 0, 0 end
  case.checked = check(case, cs, params)
  -- warm-up: a batch per contender, untimed
  for _, c in ipairs(cs) do
    local op = c.ops[case.op]
    for i = 1, math.min(B, case.warm or B) do op(params[(i - 1) % #params + 1]) end
  end
  for r = 1, R do
    for k = 0, #cs - 1 do
      local c = cs[(r + k - 1) % #cs + 1]
      local op, l, i0 = c.ops[case.op], lat[c.name], pos[c.name]
      local np = #params
      collectgarbage("collect")
      local b0 = now()
      for b = 1, B do
        local p = params[(i0 + b - 1) % np + 1]
        local t0 = now()
        op(p)
        l[#l + 1] = now() - t0
      end
      busy[c.name] = busy[c.name] + (now() - b0)
      ops_done[c.name] = ops_done[c.name] + B
      pos[c.name] = i0 + B
    end
  end
  local res = {}
  for _, c in ipairs(cs) do
    local s = summarize(lat[c.name])
    s.tput = ops_done[c.name] / (busy[c.name] / 1e9)
    res[c.name] = s
  end
  return res
end

-- ---------------------------------------------------------------- write setup
local TASK_TEMPLATE
local function task_template(P)
  if TASK_TEMPLATE then return TASK_TEMPLATE end
  local t = {}
  for i = 1, 100 do
    t[i] = { secret_id = string.format("secret-bench%05d", i),
             service_account_id = string.format("service-account-bench%05d", i),
             project_id = string.format("project-bench%03d", i % 20),
             provider = "aws" }
  end
  TASK_TEMPLATE = t
  return t
end

-- Fresh IN_PROGRESS jobs with 100 PENDING tasks each, inserted with plain SQL
-- (untimed): the tasks that "finish" works on. Returns the task list in order.
local function make_pending(db, tag, nJobs, domain_id)
  local tasks = {}
  local t0 = limit.time_ms()
  limit.exec(db, "BEGIN IMMEDIATE")
  for j = 1, nJobs do
    local jid = string.format("job-%s-%04d", tag, j)
    limit.exec(db, C.SQL.insert_job, jid, 100, 100, domain_id, "workspace-bench",
               "collector-finish-" .. tag, "plugin-bench", t0, t0)
    for i = 1, 100 do
      local tid = string.format("job-task-%s-%04d-%03d", tag, j, i)
      limit.exec(db, C.SQL.insert_task, tid, "aws", jid, "secret-bench", "collector-finish-" .. tag,
                 "service-account-bench", "project-bench", "workspace-bench", domain_id, t0)
      tasks[#tasks + 1] = { job_task_id = tid, domain_id = domain_id, created = 3, updated = 17 }
    end
  end
  limit.exec(db, "COMMIT")
  return tasks
end

-- "create" and "finish" in this process: batches, interleaved, latency and throughput
local function run_writes(case, cs, paramsFor)
  local R, B = case.rounds, case.batch
  local lat, busy, done, pos = {}, {}, {}, {}
  for _, c in ipairs(cs) do lat[c.name], busy[c.name], done[c.name], pos[c.name] = {}, 0, 0, 0 end
  -- check: one operation each (ids differ, the shape must not)
  local ref
  for _, c in ipairs(cs) do
    local ps = paramsFor[c.name]
    pos[c.name] = pos[c.name] + 1
    local sig = c.sig[case.op](c.ops[case.op](ps[pos[c.name]]))
    if not ref then ref = sig elseif sig ~= ref then
      die("MISMATCH in %s: %s gives [%s], %s gives [%s]", case.name, cs[1].name, ref, c.name, sig)
    end
  end
  case.sig_example, case.checked = ref, 1
  for r = 1, R do
    for k = 0, #cs - 1 do
      local c = cs[(r + k - 1) % #cs + 1]
      local op, l, ps, i0 = c.ops[case.op], lat[c.name], paramsFor[c.name], pos[c.name]
      collectgarbage("collect")
      local b0 = now()
      for b = 1, B do
        local p = ps[i0 + b]
        local t0 = now()
        op(p)
        l[#l + 1] = now() - t0
      end
      busy[c.name] = busy[c.name] + (now() - b0)
      done[c.name] = done[c.name] + B
      pos[c.name] = i0 + B
    end
  end
  local res = {}
  for _, c in ipairs(cs) do
    local s = summarize(lat[c.name])
    s.tput = done[c.name] / (busy[c.name] / 1e9)
    res[c.name] = s
  end
  return res
end

-- "finish" by 2 processes at once: rounds of (2 workers of one contender)
local function write_list(path, tasks, i0, n)
  local f = assert(io.open(path, "w"))
  for i = i0, i0 + n - 1 do
    local t = tasks[i]
    f:write(t.job_task_id, " ", t.domain_id, "\n")
  end
  f:close()
end

local function run_two_procs(case, names, wdb, tasksFor, outdir)
  local R, B = case.rounds, case.batch
  local lat, tputs, pos = {}, {}, {}
  for _, n in ipairs(names) do lat[n], tputs[n], pos[n] = {}, {}, { 1, 1 } end
  local lua = opt.lua or "lua5.4"
  for r = 1, R do
    for k = 0, #names - 1 do
      local name = names[(r + k - 1) % #names + 1]
      local pipes, files = {}, {}
      local start = now() + 400 * 1000000          -- both workers start 400 ms from now
      for w = 1, 2 do
        files[w] = string.format("%s/finish-%s-%d.txt", outdir, name, w)
        write_list(files[w], tasksFor[name][w], pos[name][w], B)
        pos[name][w] = pos[name][w] + B
        pipes[w] = assert(io.popen(string.format("%s bench/worker.lua %s %s %s %d", lua, name, wdb,
                                                 files[w], start)))
      end
      local t_end = 0
      for w = 1, 2 do
        local out = pipes[w]:read("a")
        local ok = pipes[w]:close()
        local head = out:match("^[^\n]*")
        local n, t0, t1 = head:match("^ok (%d+) (%d+) (%d+)$")
        if not ok or not n then die("worker %s/%d failed: %s", name, w, out) end
        t0, t1 = math.tointeger(t0), math.tointeger(t1)
        if t0 < start then die("worker %s/%d started before the barrier", name, w) end
        if t1 > t_end then t_end = t1 end
        for v in out:gmatch("\n(%d+)") do lat[name][#lat[name] + 1] = math.tointeger(v) end
      end
      tputs[name][#tputs[name] + 1] = 2 * B / ((t_end - start) / 1e9)
    end
  end
  local res = {}
  for _, n in ipairs(names) do
    local s = summarize(lat[n])
    local ts = {}
    for i, v in ipairs(tputs[n]) do ts[i] = v end
    table.sort(ts)
    s.tput = percentile(ts, 0.5)                     -- median of the rounds' throughputs
    res[n] = s
  end
  return res
end

-- ---------------------------------------------------------------- the cases
local function reps(full, quick) return QUICK and quick or full end

local CASES = {
  { name = "get", title = "get by id (job.get)", op = "get", params = "jobs", kind = "read",
    target = 1.5, rounds = reps(40, 3), batch = reps(500, 50), check = reps(50, 10) },
  { name = "list_job", title = "list the 20 newest tasks of one job", op = "list_job", params = "jobs",
    kind = "read", target = 1.5, rounds = reps(40, 3), batch = reps(250, 30), check = reps(50, 10) },
  { name = "list_page", title = "list a full page of 1,000 tasks (one domain)", op = "list_page",
    params = "domains", kind = "read", target = 1.5, rounds = reps(40, 2), batch = reps(10, 5), check = 10 },
  { name = "list_keyword", title = "list with a keyword (job_task_id, 100/page)", op = "list_keyword",
    params = "keywords", kind = "read", target = 1.5, rounds = reps(30, 2), batch = reps(4, 5),
    check = reps(10, 20), warm = 2 },
  { name = "list_errors", title = "list with errors.error_code = X (100/page)", op = "list_errors",
    params = "errors", kind = "read", target = 1.5, rounds = reps(30, 2), batch = reps(4, 5),
    check = reps(10, 20), warm = 2 },
  { name = "stat_status", title = "stat: group by status, count (one domain's tasks)", op = "stat_status",
    params = "domains", kind = "read", target = 1.2, rounds = reps(40, 2), batch = reps(5, 5), check = 10,
    warm = 2 },
  { name = "stat_day", title = "stat: group by created_at day (date_format), count", op = "stat_day",
    params = "domains", kind = "read", target = 1.2, rounds = reps(30, 2), batch = reps(5, 5), check = 10,
    warm = 2 },
  { name = "analyze", title = "analyze jobs by collector: count, sum x2", op = "analyze", params = "domains",
    kind = "read", target = 1.3, rounds = reps(40, 3), batch = reps(100, 10), check = 10 },
  { name = "create", title = "bulk create: job.create with 100 tasks", op = "create", kind = "write",
    target = 0.7, rounds = reps(20, 2), batch = reps(30, 3) },
  { name = "finish", title = "task finish, 1 process (one transaction per call)", op = "finish",
    kind = "write", target = 0.7, rounds = reps(20, 2), batch = reps(400, 20) },
  { name = "finish2", title = "task finish, 2 processes (own tasks each)", op = "finish", kind = "write2",
    target = 0.7, rounds = reps(6, 1), batch = reps(1000, 50) },
}

-- ---------------------------------------------------------------- profile mode
if opt.profile then
  local P = read_params(opt.db)
  local case
  for _, c in ipairs(CASES) do if c.name == opt.profile then case = c end end
  if not case or case.kind ~= "read" then die("--profile takes a read case") end
  local c = C.open(opt.contender or "inventory", opt.db)
  local params, n = P[case.params], tonumber(opt.n or 1000)
  local t0 = now()
  for i = 1, n do c.ops[case.op](params[(i - 1) % #params + 1]) end
  io.write(string.format("%s %s: %d ops, %.1f us/op\n", c.name, case.name, n, (now() - t0) / 1e3 / n))
  os.exit(0)
end

-- ---------------------------------------------------------------- machine
local function sh(cmd)
  local f = io.popen(cmd .. " 2>/dev/null")
  if not f then return "" end
  local s = f:read("a") or ""
  f:close()
  return (s:gsub("%s+$", ""))
end
local function read_file(p)
  local f = io.open(p)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
-- the commit, read from .git without running git (= git rev-parse --short HEAD)
local function commit()
  local head = read_file(".git/HEAD")
  if not head then return "unknown" end
  head = head:gsub("%s+$", "")
  local ref = head:match("^ref: (.+)$")
  if not ref then return head:sub(1, 7) end
  local h = read_file(".git/" .. ref)
  if h then return h:sub(1, 7) end
  local packed = read_file(".git/packed-refs") or ""
  for line in packed:gmatch("[^\n]+") do
    local hash, name = line:match("^(%x+) (.+)$")
    if name == ref then return hash:sub(1, 7) end
  end
  return "unknown"
end
local function machine()
  local cpu = (read_file("/proc/cpuinfo") or ""):match("model name%s*:%s*([^\n]+)") or "unknown"
  local mem = (read_file("/proc/meminfo") or ""):match("MemTotal:%s*(%d+)")
  return {
    nproc = sh("nproc"),
    cpu = cpu,
    mem = mem and string.format("%.1f GiB", tonumber(mem) / 1048576) or "unknown",
    date = os.date("!%Y-%m-%dT%H:%M:%SZ"),
    commit = commit(),
    kernel = sh("uname -sr"),
  }
end

-- ---------------------------------------------------------------- main
local only = {}
if opt.cases then for n in opt.cases:gmatch("[^,]+") do only[n] = true end end
local function wanted(c) return not opt.cases or only[c.name] end

local M = machine()
local function loadavg() return ((read_file("/proc/loadavg") or "?"):match("^(%S+ %S+ %S+)")) or "?" end
M.load_start = loadavg()
local P = read_params(opt.db)
io.write(string.format("bench (%s): %s, %d jobs, %d tasks; %s, %s cores, %s; commit %s\n",
  opt.mode, opt.db, P.n_jobs, P.n_tasks, M.cpu, M.nproc, M.mem, M.commit))

local results = {}
local t_all = now()

-- reads: one connection per contender on the read database
local cs = {}
for i, n in ipairs(C.NAMES) do cs[i] = C.open(n, opt.db) end
for _, case in ipairs(CASES) do
  if case.kind == "read" and wanted(case) then
    local t0 = now()
    case.res = run_latency(case, cs, P[case.params])
    results[#results + 1] = case
    io.write(string.format("  %-14s inv %9.1f us  limit %9.1f us  luasql %9.1f us   (%.1f s)\n", case.name,
      case.res.inventory.median / 1e3, case.res.limit.median / 1e3, case.res.luasql.median / 1e3,
      (now() - t0) / 1e9))
    io.flush()
  end
end
for _, c in ipairs(cs) do c.close() end

-- writes: on a copy of the data (bench/run.sh makes it)
local any_write = false
for _, case in ipairs(CASES) do if case.kind ~= "read" and wanted(case) then any_write = true end end
if any_write then
  if not opt.wdb then die("--wdb is required for the write cases") end
  local WP = read_params(opt.wdb)
  local dom = WP.domains[1].domain_id
  local setup = assert(limit.open(opt.wdb))
  local outdir = opt.outdir or "bench/out"
  cs = {}
  for i, n in ipairs(C.NAMES) do cs[i] = C.open(n, opt.wdb) end
  for _, case in ipairs(CASES) do
    if case.kind ~= "read" and wanted(case) then
      local t0 = now()
      local need = case.rounds * case.batch + 1
      if case.kind == "write" and case.op == "create" then
        local tasks = task_template(WP)
        local pf = {}
        for _, c in ipairs(cs) do
          local p = { domain_id = dom, collector_id = "collector-bench-" .. c.name, plugin_id = "plugin-bench",
                      workspace_id = "workspace-bench", tasks = tasks }
          local l = {}
          for i = 1, need do l[i] = p end
          pf[c.name] = l
        end
        case.res = run_writes(case, cs, pf)
      elseif case.kind == "write" then
        local pf = {}
        for _, c in ipairs(cs) do
          pf[c.name] = make_pending(setup, "f1-" .. c.name, (need + 99) // 100, dom)
        end
        case.res = run_writes(case, cs, pf)
        case.sig_example = case.sig_example
      else
        -- two workers per contender, each on its own jobs' tasks
        local tf, need2 = {}, case.rounds * case.batch
        for _, n in ipairs(C.NAMES) do
          tf[n] = { make_pending(setup, "f2a-" .. n, (need2 + 99) // 100, dom),
                    make_pending(setup, "f2b-" .. n, (need2 + 99) // 100, dom) }
        end
        case.res = run_two_procs(case, C.NAMES, opt.wdb, tf, outdir)
        case.checked = 0
      end
      results[#results + 1] = case
      io.write(string.format("  %-14s inv %9.0f/s    limit %9.0f/s    luasql %9.0f/s     (%.1f s)\n", case.name,
        case.res.inventory.tput, case.res.limit.tput, case.res.luasql.tput, (now() - t0) / 1e9))
      io.flush()
    end
  end
  -- consistency: every contender's finished jobs ended SUCCESS with nothing remaining
  for _, n in ipairs(C.NAMES) do
    local r = limit.query(setup, "SELECT count(*) AS n, sum(status = 'SUCCESS' AND remained_tasks = 0 "
      .. "AND success_tasks = 100) AS ok FROM job WHERE collector_id LIKE ?", "collector-finish-f%-" .. n)[1]
    local full = limit.query(setup, "SELECT count(*) AS n FROM job_task WHERE collector_id LIKE ? "
      .. "AND status = 'SUCCESS'", "collector-finish-f%-" .. n)[1].n
    results.consistency = (results.consistency or "") .. string.format("%s: %d finish jobs, %d fully finished, "
      .. "%d tasks SUCCESS; ", n, r.n, r.ok or 0, full)
  end
  for _, c in ipairs(cs) do c.close() end
  limit.close(setup)
end

-- ---------------------------------------------------------------- REST (optional)
-- bench/rest_bench.sh's output: "... POST /inventory/v1/job-task/list  N req/s",
-- "... GET  /static.json (S bytes)   N req/s" and wrk's "rest: Latency avg stdev max" lines
local rest
if opt.rest and opt.rest ~= "" then
  local log = read_file(opt.rest) or ""
  local r = log:match("POST%s+%S+%s+([%d.]+)%s*req/s")
  local size, st = log:match("GET%s+/static%.json%s*%((%d+) bytes%)%s*([%d.]+)%s*req/s")
  if r and st then
    local lr = log:match("rest:%s*Latency%s+(%S+)") or "?"
    local ls = log:match("static:%s*Latency%s+(%S+)") or "?"
    local tasks = log:match("rest_bench: (%d+) tasks") or "?"
    rest = { rest = tonumber(r), static = tonumber(st), size = size, lat_rest = lr, lat_static = ls,
             tasks = tasks, log = opt.rest,
             layer = tonumber(log:match("REST layer over a store stub%s+([%d.]+)%s*req/s") or "") }
  else
    rest = { failed = true, log = opt.rest }
  end
end

-- ---------------------------------------------------------------- report
local function us(ns) return ns / 1e3 end
local function fmt_lat(s) return string.format("%.1f / %.1f", us(s.median), us(s.p99)) end
local function fmt_tput(s) return string.format("%.0f/s (%.0f / %.0f)", s.tput, us(s.median), us(s.p99)) end

local lines, missed = {}, {}
local function add(s) lines[#lines + 1] = s end
add("# inventory benchmark results")
add("")
add(string.format("Generated by `make %s` (bench/run.sh, bench/run.lua). Do not edit: re-run it.",
  QUICK and "bench-quick" or "bench"))
add("")
add("| | |")
add("|---|---|")
add(string.format("| machine | %s cores, %s, %s RAM, %s |", M.nproc, M.cpu, M.mem, M.kernel))
add(string.format("| date | %s |", M.date))
add(string.format("| commit | %s |", M.commit))
add(string.format("| runtimes | %s; SQLite %s; LuaSQL %s |", _VERSION,
  require("inventory").sqlite_version, require("luasql.sqlite3")._VERSION or "?"))
add(string.format("| data | %s jobs, %s tasks, 10 domains, 100 workspaces, 50 collectors (bench/gen.c) |",
  P.n_jobs, P.n_tasks))
add(string.format("| mode | %s (wall time %.0f s) |", opt.mode, (now() - t_all) / 1e9))
add(string.format("| load average | %s at the start, %s at the end (2 cores: above ~0.3 at the start, "
  .. "other processes were running) |", M.load_start, loadavg()))
add("")
add("Latency: median / p99 in microseconds per call (warm cache, one process, contenders interleaved).")
add("Writes: throughput (calls per second), then median / p99 latency. Ratios: inventory/limit and")
add("inventory/peer of the median latency (reads) or of the throughput (writes).")
add("")
add("| case | inventory | limit (C API) | LuaSQL peer | inv/limit | inv/peer | target | met |")
add("|---|---|---|---|---|---|---|---|")
for _, case in ipairs(results) do
  local r = case.res
  local inv, lim, peer = r.inventory, r.limit, r.luasql
  if case.kind == "read" then
    local rl, rp = inv.median / lim.median, inv.median / peer.median
    local ok = rl <= case.target and rp < 1
    if not ok then missed[#missed + 1] = case end
    add(string.format("| %s | %s | %s | %s | %.2f | %.2f | inv/limit <= %.1f, inv/peer < 1 | %s |", case.title,
      fmt_lat(inv), fmt_lat(lim), fmt_lat(peer), rl, rp, case.target, ok and "yes" or "**no**"))
  else
    local rl, rp = inv.tput / lim.tput, inv.tput / peer.tput
    local ok = rl >= case.target
    if not ok then missed[#missed + 1] = case end
    add(string.format("| %s | %s | %s | %s | %.2f | %.2f | tput >= %.1f x limit | %s |", case.title,
      fmt_tput(inv), fmt_tput(lim), fmt_tput(peer), rl, rp, case.target, ok and "yes" or "**no**"))
  end
end
if rest and not rest.failed then
  add(string.format("| REST: POST job-task/list (one job's 20 tasks, %s B) through nginx, wrk -t2 -c32; "
    .. "vs GET of a static file of the same bytes | %.0f req/s (avg %s) | static file: %.0f req/s (avg %s) "
    .. "| n/a | REST/static %.2f | n/a | none in the issue (rest_bench.sh: >= 0.5) | - |",
    rest.size, rest.rest, rest.lat_rest, rest.static, rest.lat_static, rest.rest / rest.static))
else
  add("| REST list through nginx (wrk) vs a static file of the same size | not measured | | | | | | |")
end
add("")
add(string.format("Samples per contender: %s.", (function()
  local t = {}
  for _, case in ipairs(results) do t[#t + 1] = string.format("%s %d", case.name, case.res.inventory.n) end
  return table.concat(t, ", ")
end)()))
add("Checks passed: every read case compared the contenders' signatures (row count, total_count, first and")
add("last id, or first/last group) on its first parameters; writes compared the returned record's shape.")
if results.consistency then add("After the writes: " .. results.consistency) end
add("")
if not rest then
  add("REST row: not measured, bench/rest_bench.sh (examples/nginx) was not present when this ran.")
elseif rest.failed then
  add("REST row: not measured, bench/rest_bench.sh failed (" .. rest.log .. ").")
else
  add(string.format("REST row: bench/rest_bench.sh on its own data set (%s tasks), nginx with 2 workers "
    .. "sharing the 2 cores with wrk; log in %s.%s", rest.tasks, rest.log, rest.layer and string.format(
    " The same REST layer over a store stub (no SQLite): %.0f req/s, %.2f x static.", rest.layer,
    rest.layer / rest.static) or ""))
  if (read_file("lua/inventory/rest.lua") or ""):find("cache_entries", 1, true) then
    add("Caution: the REST layer caches read results per worker (lua/inventory/rest.lua, `cache_entries`) "
      .. "and wrk repeats one request, so the REST row measures cache hits, not a store call "
      .. "(one list_job call alone is the list_job row above).")
  end
end
add("LuaSQL note: LuaSQL's conn:execute steps a query once, resets it and steps it again for the cursor, "
  .. "so an aggregate (stat, analyze) or the first page row is computed twice by the peer; it also has no "
  .. "parameter binding, so each call formats, escapes and prepares its SQL anew.")
add("")
if #missed == 0 then
  add("All targets met.")
else
  local t = {}
  for _, c in ipairs(missed) do t[#t + 1] = c.name end
  add("Targets missed: " .. table.concat(t, ", ") .. ". Causes and proposed fixes: bench/README.md, \"Findings\".")
end
local report = table.concat(lines, "\n") .. "\n"
if opt.out then
  local f = assert(io.open(opt.out, "w"))
  f:write(report)
  f:close()
end

io.write(string.format("bench: %d cases in %.0f s; %s\n", #results, (now() - t_all) / 1e9,
  #missed == 0 and "all targets met" or (#missed .. " target(s) missed")))
for _, case in ipairs(results) do
  local r = case.res
  if case.kind == "read" then
    io.write(string.format("  %-13s inv/limit %5.2f  inv/peer %5.2f\n", case.name,
      r.inventory.median / r.limit.median, r.inventory.median / r.luasql.median))
  else
    io.write(string.format("  %-13s inv/limit %5.2f  inv/peer %5.2f  (throughput)\n", case.name,
      r.inventory.tput / r.limit.tput, r.inventory.tput / r.luasql.tput))
  end
end
if opt.out then io.write("bench: results in " .. opt.out .. "\n") end
