-- bench/run.lua: the benchmark harness (Lua 5.4). Run through bench/run.sh
-- (make bench / make bench-quick / make bench-scale), which builds the data.
--
--   lua5.4 bench/run.lua --mode full|mid|quick --inv INV_DB --hand HAND_DB
--                        --winv INV_WRITE_DB --whand HAND_WRITE_DB [--wpeer PEER_WRITE_DB]
--                        --out RESULTS.md [--cases get,list_job,...] [--rest FILE]
--        (the writes: inventory on INV_WRITE_DB, the limit on HAND_WRITE_DB, the
--        LuaSQL peer on PEER_WRITE_DB, a second copy of the hand-written file, so
--        that each pays the checkpoints of its own writes only; without
--        --wpeer the peer shares the limit's copy)
--   lua5.4 bench/run.lua --mode scale --inv ... --hand ... --winv ... --whand ... [--wpeer ...]
--                        --cases list_job,stat_status,finish --summary FILE
--   lua5.4 bench/run.lua --scale-report DIR --out RESULTS.md
--   lua5.4 bench/run.lua --profile CASE --contender NAME --inv INV_DB --hand HAND_DB [--n N]
--        (runs one contender's operation N times, untimed: for perf/callgrind;
--        with --backend pg --url URL on PostgreSQL)
--   lua5.4 bench/run.lua --backend pg --mode full|mid|quick --url URL --hand HAND_DB --out RESULTS.md
--                        [--cases ...] [--rest FILE]
--        (PostgreSQL: inventory and the limit on one database, loaded by
--        build/bench/gen_pg; the parameters come from the SQLite HAND_DB of the
--        same rows; the "PostgreSQL" section of RESULTS.md)
--
-- Every case runs its three contenders (bench/contenders.lua) on the same
-- rows, in this one process, each on its own connection (inventory on its
-- file, the limit and the LuaSQL peer on the hand-written file):
--   1. check: every contender runs the same parameters; the signatures (row
--      count, total_count, first and last records whole, or the groups) must agree,
--      else the run fails;
--   2. warm-up, then R rounds; in each round every contender runs a batch of
--      B operations, the contenders' order rotating from round to round
--      (interleaved, so drift hits all three alike), with a full GC before
--      each batch; every operation is timed with CLOCK_MONOTONIC.
-- Reads report the median and p99; writes the throughput (operations, or
-- records for import, / time spent in the batches) and latency. "finish, 2
-- processes" starts two lua5.4 workers per contender (bench/worker.lua) on
-- their own tasks, released together at one CLOCK_MONOTONIC instant.

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
local SCALE = opt.mode == "scale"
local PG = opt.backend == "pg"

local function die(fmt, ...)
  io.stderr:write("bench: " .. string.format(fmt, ...) .. "\n")
  os.exit(1)
end

local function read_file(p)
  local f = io.open(p)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
local function write_file(p, s)
  local f = assert(io.open(p, "w"))
  f:write(s)
  f:close()
end
local function sh(cmd)
  local f = io.popen(cmd .. " 2>/dev/null")
  if not f then return "" end
  local s = f:read("a") or ""
  f:close()
  return (s:gsub("%s+$", ""))
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
-- read from the hand-written file (the same rows as inventory's file)
local KEYWORDS = { "a1b", "3f0", "c7e", "52d", "e09" }
local ERROR_CODES = { "ERROR_AUTHENTICATION_FAILURE_PLUGIN", "ERROR_PLUGIN_TIMEOUT",
  "ERROR_COLLECTOR_COLLECTING", "ERROR_INVALID_CREDENTIALS", "ERROR_UNKNOWN" }

local function read_params(path)
  local db = assert(limit.open(path))
  local P, meta = {}, {}
  for _, r in ipairs(limit.query(db, "SELECT key, value FROM bench_meta")) do meta[r.key] = r.value end
  local nJob, nTask = math.tointeger(tonumber(meta.jobs)), math.tointeger(tonumber(meta.tasks))
  if not nJob then die("no bench_meta in %s", path) end
  -- the regular domains: their jobs and tasks come first (ids 1..nJob, 1..nTask)
  P.domains = limit.query(db, "SELECT DISTINCT domain_id FROM job WHERE id <= ? ORDER BY 1", nJob)
  local step = math.max(1, nJob // 1000)
  P.jobs = limit.query(db, "SELECT job_id, domain_id FROM job WHERE id <= ? AND id % ? = 0 ORDER BY id",
                       nJob, step)
  shuffle(P.jobs, 1)
  local tstep = math.max(1, nTask // 1000)
  P.tasks = limit.query(db, "SELECT job_task_id, domain_id FROM job_task WHERE id <= ? AND id % ? = 0 "
                        .. "ORDER BY id", nTask, tstep)
  shuffle(P.tasks, 4)
  P.keywords, P.errors, P.collectors = {}, {}, {}
  for _, d in ipairs(P.domains) do
    for _, k in ipairs(KEYWORDS) do P.keywords[#P.keywords + 1] = { domain_id = d.domain_id, keyword = k } end
    for _, e in ipairs(ERROR_CODES) do P.errors[#P.errors + 1] = { domain_id = d.domain_id, error_code = e } end
  end
  for _, r in ipairs(limit.query(db, "SELECT DISTINCT domain_id, collector_id FROM job WHERE id <= ? "
                                 .. "ORDER BY 1, 2", nJob)) do
    for _, st in ipairs{ "SUCCESS", "FAILURE" } do
      P.collectors[#P.collectors + 1] = { domain_id = r.domain_id, collector_id = r.collector_id, status = st }
    end
  end
  -- the workspaces that hold tasks (the regular domains: 10 each; 4 of them a
  -- collector's own, about 22% of their domain's tasks each, the other 6 about 2%)
  P.workspaces = limit.query(db, "SELECT DISTINCT domain_id, workspace_id FROM job_task WHERE id <= ? "
                             .. "ORDER BY 1, 2", nTask)
  shuffle(P.workspaces, 6)
  shuffle(P.keywords, 2)
  shuffle(P.errors, 3)
  shuffle(P.collectors, 5)
  if meta.small_domain then
    P.small = { { domain_id = meta.small_domain } }
    P.big = { { domain_id = meta.big_domain } }
    P.small_jobs, P.big_jobs = meta.small_jobs, meta.big_jobs
  end
  P.n_jobs, P.n_tasks = nJob, nTask
  P.all_jobs = limit.query(db, "SELECT count(*) AS n FROM job")[1].n
  P.all_tasks = limit.query(db, "SELECT count(*) AS n FROM job_task")[1].n
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
local function task_template()
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

-- Fresh IN_PROGRESS jobs with 100 PENDING tasks each (untimed), the tasks
-- "finish" works on: through inventory's API on its file, with plain
-- INSERTs on the hand-written one. Returns the task list and the job ids.
-- The hand-written rows get ids of the API's shape, as inventory's (prefix +
-- 12 random hex digits, C.new_id, as the limit's create makes them): with
-- numbered ids the limit's finishes found their tasks and jobs on the few
-- index pages last used, inventory's at random places of 1M-entry indexes.
local function make_pending(c, hand, tag, nJobs, domain_id)
  local tasks, jobs = {}, {}
  if c.name == "inventory" then
    for j = 1, nJobs do
      -- a collector per job: a new job of the same collector cancels the running one
      local job = assert(c.inv.job.create{ domain_id = domain_id,
        collector_id = string.format("collector-finish-%s-%04d", tag, j),
        plugin_id = "plugin-bench", workspace_id = "workspace-bench", tasks = task_template() })
      jobs[j] = job.job_id
      local l = assert(c.inv.job_task.list{ domain_id = domain_id, job_id = job.job_id,
        query = { page = { limit = 100 } } })
      for _, t in ipairs(l.results) do
        tasks[#tasks + 1] = { job_task_id = t.job_task_id, domain_id = domain_id, created = 3, updated = 17 }
      end
    end
    return tasks, jobs
  end
  local t0 = limit.time_ms()
  limit.exec(hand, "BEGIN IMMEDIATE")
  for j = 1, nJobs do
    local jid = C.new_id("job-")
    jobs[j] = jid
    limit.exec(hand, C.SQL.insert_job, jid, 100, 100, domain_id, "workspace-bench",
               string.format("collector-finish-%s-%04d", tag, j), "plugin-bench", t0, t0)
    for i = 1, 100 do
      local tid = C.new_id("job-task-")
      local tt = task_template()[i]
      limit.exec(hand, C.SQL.insert_task, tid, tt.provider, jid, tt.secret_id, tt.service_account_id,
                 tt.project_id, "workspace-bench", domain_id, t0)
      tasks[#tasks + 1] = { job_task_id = tid, domain_id = domain_id, created = 3, updated = 17 }
    end
  end
  limit.exec(hand, "COMMIT")
  return tasks, jobs
end

-- Every write case starts with the write-ahead logs of its files moved into
-- the files and emptied (a TRUNCATE checkpoint on a connection of its own),
-- outside the clock: what the earlier cases and this case's setup wrote
-- (make_pending: inventory's job.create calls, one commit each, the others'
-- plain INSERTs in one commit) is nobody's cost, and each contender's batches
-- pay the automatic checkpoints of this case's writes only.
local function wal_truncate(paths)
  for _, path in ipairs(paths) do
    local db = assert(limit.open(path))
    local r = limit.query(db, "PRAGMA wal_checkpoint(TRUNCATE)")[1]
    limit.close(db)
    if not r or r.busy ~= 0 or r.log ~= 0 then
      die("the TRUNCATE checkpoint of %s did not complete (busy %s, log %s)", path,
          tostring(r and r.busy), tostring(r and r.log))
    end
  end
end

-- "create", "import" and "finish" in this process: batches, interleaved.
-- paramsFor[name] is a list, or a function(i) building the i-th parameter
-- (called before the batch that uses it, outside the clock). prepare, when
-- given, runs after the check and before the first round (outside the clock).
local function run_writes(case, cs, paramsFor, prepare)
  local R, B = case.rounds, case.batch
  local per = case.records or 1
  local lat, busy, done, pos = {}, {}, {}, {}
  for _, c in ipairs(cs) do lat[c.name], busy[c.name], done[c.name], pos[c.name] = {}, 0, 0, 0 end
  local function param(name, i)
    local ps = paramsFor[name]
    if type(ps) == "function" then return ps(i) end
    return ps[i]
  end
  -- check: one operation each (ids differ, the shape must not)
  local ref
  for _, c in ipairs(cs) do
    pos[c.name] = pos[c.name] + 1
    local sig = c.sig[case.op](c.ops[case.op](param(c.name, pos[c.name])))
    if not ref then ref = sig elseif sig ~= ref then
      die("MISMATCH in %s: %s gives [%s], %s gives [%s]", case.name, cs[1].name, ref, c.name, sig)
    end
  end
  case.sig_example, case.checked = ref, 1
  if prepare then prepare() end
  for r = 1, R do
    for k = 0, #cs - 1 do
      local c = cs[(r + k - 1) % #cs + 1]
      local op, l, i0 = c.ops[case.op], lat[c.name], pos[c.name]
      local batch = {}
      for b = 1, B do batch[b] = param(c.name, i0 + b) end
      collectgarbage("collect")
      local b0 = now()
      for b = 1, B do
        local p = batch[b]
        local t0 = now()
        op(p)
        l[#l + 1] = now() - t0
      end
      busy[c.name] = busy[c.name] + (now() - b0)
      done[c.name] = done[c.name] + B * per
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

local function run_two_procs(case, names, files, tasksFor, outdir, prepare)
  local R, B = case.rounds, case.batch
  local lat, tputs, pos = {}, {}, {}
  for _, n in ipairs(names) do lat[n], tputs[n], pos[n] = {}, {}, { 1, 1 } end
  local lua = opt.lua or "lua5.4"
  for r = 1, R do
    for k = 0, #names - 1 do
      local name = names[(r + k - 1) % #names + 1]
      local pipes, lists = {}, {}
      -- each round (2 x B finishes, more than one log's worth of pages at
      -- full size) starts from empty logs: a round pays its own checkpoints,
      -- not the rest of another contender's round on the shared file
      if prepare then prepare() end
      local start = now() + 400 * 1000000          -- both workers start 400 ms from now
      for w = 1, 2 do
        lists[w] = string.format("%s/finish-%s-%d.txt", outdir, name, w)
        write_list(lists[w], tasksFor[name][w], pos[name][w], B)
        pos[name][w] = pos[name][w] + B
        pipes[w] = assert(io.popen(string.format("%s bench/worker.lua %s %s %s %s %d", lua, name, files.inv,
                                                 name == "luasql" and files.peer or files.hand, lists[w], start)))
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
local function reps(full, quick, scale)
  if SCALE then return scale or quick end
  return QUICK and quick or full
end
local IMPORT_N = reps(1000, 200, 1000)

-- target: the issue's (10): reads inv/limit <= target (median latency),
-- writes inv/limit >= target (throughput)
local CASES = {
  { name = "get", title = "get a job by id", op = "get", params = "jobs", kind = "read",
    target = 1.2, rounds = reps(40, 3), batch = reps(500, 50), check = reps(50, 10) },
  { name = "task_get", title = "get a task by id", op = "task_get", params = "tasks", kind = "read",
    target = 1.2, rounds = reps(40, 3), batch = reps(500, 50), check = reps(50, 10) },
  { name = "list_job", title = "list the 20 newest tasks of one job", op = "list_job", params = "jobs",
    kind = "read", target = 1.2, rounds = reps(40, 3, 10), batch = reps(250, 30, 100), check = reps(50, 10) },
  { name = "list_ws", title = "list the 20 newest tasks of one workspace (a workspace member)", op = "list_ws",
    params = "workspaces", kind = "read", target = 1.2, rounds = reps(40, 3), batch = reps(100, 20),
    check = reps(50, 20) },
  { name = "list_page", title = "list a page of 1,000 tasks (one domain)", op = "list_page",
    params = "domains", kind = "read", target = 1.2, rounds = reps(40, 2), batch = reps(10, 5), check = 10 },
  { name = "list_keyword", title = "list with a keyword (job_task_id, 100/page)", op = "list_keyword",
    params = "keywords", kind = "read", target = 1.2, rounds = reps(30, 2), batch = reps(4, 5),
    check = reps(10, 20), warm = 2 },
  { name = "list_errors", title = "list with errors.error_code = X (100/page)", op = "list_errors",
    params = "errors", kind = "read", target = 1.2, rounds = reps(30, 2), batch = reps(4, 5),
    check = reps(10, 20), warm = 2 },
  { name = "jobs_collector", title = "list the jobs of a collector by status (20/page)", op = "jobs_collector",
    params = "collectors", kind = "read", target = 1.2, rounds = reps(40, 3), batch = reps(250, 30),
    check = reps(50, 10) },
  { name = "stat_status", title = "stat: count by status over one domain's tasks", op = "stat_status",
    params = "domains", kind = "read", target = 1.2, rounds = reps(40, 2, 6), batch = reps(5, 5), check = 10,
    warm = 2 },
  { name = "stat_job", title = "stat: one job's tasks by status (progress)", op = "stat_job",
    params = "jobs", kind = "read", target = 1.2, rounds = reps(40, 3), batch = reps(250, 30),
    check = reps(50, 10) },
  { name = "stat_day", title = "stat: one domain's tasks by day (date_format)", op = "stat_day",
    params = "domains", kind = "read", target = 1.2, rounds = reps(30, 2), batch = reps(5, 5), check = 10,
    warm = 2 },
  { name = "job_days", title = "stat: daily job outcomes (date_format, status)", op = "job_days",
    params = "domains", kind = "read", target = 1.2, rounds = reps(40, 3), batch = reps(50, 10), check = 10 },
  { name = "analyze_small", title = "analyze by collector, %s jobs in the domain", op = "analyze_small",
    params = "small", kind = "read", target = 1.3, rounds = reps(40, 3), batch = reps(500, 50), check = 1 },
  { name = "analyze_big", title = "analyze by collector, %s jobs in the domain", op = "analyze_big",
    params = "big", kind = "read", target = 1.3, rounds = reps(40, 3), batch = reps(20, 5), check = 1 },
  { name = "create", title = "job.create with 100 tasks", op = "create", kind = "write",
    target = 0.7, rounds = reps(20, 2), batch = reps(30, 3) },
  { name = "import", title = "import tasks, " .. IMPORT_N .. " records per call (records/s)", op = "import",
    kind = "write", records = IMPORT_N, target = 0.7, rounds = reps(10, 2), batch = reps(3, 2) },
  { name = "finish", title = "task finish, 1 process (one transaction per call)", op = "finish",
    kind = "write", target = 0.8, rounds = reps(20, 2, 10), batch = reps(400, 20, 200) },
  { name = "finish2", title = "task finish, 2 processes (own tasks each)", op = "finish", kind = "write2",
    target = 0.8, rounds = reps(6, 1), batch = reps(1000, 50) },
}

-- the budget inventory ships for each read case (inv_options: nTimeoutMs 500 for
-- get and list, nStatTimeoutMs 10,000 for stat and analyze); off in the harness
local BUDGET_LIST, BUDGET_STAT = 500e6, 10000e6       -- ns
for _, c in ipairs(CASES) do
  if c.kind == "read" then
    c.budget = (c.op:match("^stat") or c.op:match("^analyze") or c.op == "job_days") and BUDGET_STAT or BUDGET_LIST
  end
end

local function files_of(w)
  return w and { inv = opt.winv, hand = opt.whand, peer = opt.wpeer } or { inv = opt.inv, hand = opt.hand }
end

-- ---------------------------------------------------------------- profile mode
if opt.profile then
  local P = read_params(opt.hand)
  local case
  for _, c in ipairs(CASES) do if c.name == opt.profile then case = c end end
  if not case or case.kind ~= "read" then die("--profile takes a read case") end
  local c = C.open(opt.contender or "inventory", PG and { url = opt.url } or files_of(false))
  local params, n = P[case.params], tonumber(opt.n or 1000)
  local t0 = now()
  for i = 1, n do c.ops[case.op](params[(i - 1) % #params + 1]) end
  io.write(string.format("%s %s: %d ops, %.1f us/op\n", c.name, case.name, n, (now() - t0) / 1e3 / n))
  os.exit(0)
end

-- ---------------------------------------------------------------- machine
-- the commit: git when it is there, else read from .git (a worktree's .git
-- is a file naming the real directory)
local function commit()
  local h = sh("git rev-parse --short=7 HEAD")
  if h:match("^%x+$") then
    -- (the results file itself does not count: make bench writes its
    -- SQLite section before the PostgreSQL part reads this)
    if sh("git status --porcelain --untracked-files=no -- . ':!bench/RESULTS.md'") ~= "" then
      h = h .. " (with uncommitted changes)"
    end
    return h
  end
  local gitdir = ".git"
  local dotgit = read_file(".git")
  if dotgit then gitdir = dotgit:match("gitdir: (%S+)") or gitdir end
  local head = read_file(gitdir .. "/HEAD")
  if not head then return "unknown" end
  head = head:gsub("%s+$", "")
  local ref = head:match("^ref: (.+)$")
  if not ref then return head:sub(1, 7) end
  local v = read_file(gitdir .. "/" .. ref)
  return v and v:sub(1, 7) or "unknown"
end
local function machine()
  local cpu = (read_file("/proc/cpuinfo") or ""):match("model name%s*:%s*([^\n]+)") or "unknown"
  local mem = (read_file("/proc/meminfo") or ""):match("MemTotal:%s*(%d+)")
  return {
    nproc = sh("nproc --all"),
    cpu = cpu,
    mem = mem and string.format("%.1f GiB", tonumber(mem) / 1048576) or "unknown",
    date = os.date("!%Y-%m-%dT%H:%M:%SZ"),
    commit = commit(),
    kernel = sh("uname -sr"),
  }
end
local function loadavg() return ((read_file("/proc/loadavg") or "?"):match("^(%S+ %S+ %S+)")) or "?" end

local function fsize(p)
  local f = io.open(p, "rb")
  if not f then return 0 end
  local n = f:seek("end")
  f:close()
  return n
end
local function mb(n) return string.format("%.0f MB", n / 1e6) end

-- ---------------------------------------------------------------- scale report
-- bench/run.sh scale leaves one summary per size (--summary, a Lua table);
-- the report is the "Scale" section of RESULTS.md, between markers, kept
-- when make bench rewrites the rest of the file
local SCALE_BEGIN, SCALE_END = "<!-- scale: written by make bench-scale -->", "<!-- /scale -->"

local function serialize(v, ind)
  ind = ind or ""
  if type(v) == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local out = { "{\n" }
    for _, k in ipairs(keys) do
      local kk = type(k) == "number" and ("[" .. k .. "]") or string.format("[%q]", k)
      out[#out + 1] = ind .. "  " .. kk .. " = " .. serialize(v[k], ind .. "  ") .. ",\n"
    end
    out[#out + 1] = ind .. "}"
    return table.concat(out)
  elseif type(v) == "string" then return string.format("%q", v)
  else return tostring(v) end
end

-- the PostgreSQL section (bench/run.lua --backend pg), between its markers
local PG_BEGIN, PG_END = "<!-- postgresql: written by make bench -->", "<!-- /postgresql -->"

local function section_of(text, b, e)
  local a = text:find(b, 1, true)
  local _, d = text:find(e, 1, true)
  return (a and d) and text:sub(a, d) or nil
end

-- the report, followed by the sections other runs write (kept as they are)
local function with_scale_section(report)
  local old = read_file(opt.out) or ""
  local section = section_of(old, SCALE_BEGIN, SCALE_END) or (SCALE_BEGIN .. "\n## Scale\n\nNot measured "
    .. "yet: run `make bench-scale`.\n" .. SCALE_END)
  local pg = section_of(old, PG_BEGIN, PG_END)
  return report .. "\n" .. (pg and (pg .. "\n\n") or "") .. section .. "\n"
end

-- text with the section between markers b and e replaced by (or, when it
-- has none, given) the new section, placed before the scale section
local function put_section(text, b, e, section)
  local a = text:find(b, 1, true)
  local _, d = text:find(e, 1, true)
  if a and d then return text:sub(1, a - 1) .. section .. text:sub(d + 1) end
  local sa = text:find(SCALE_BEGIN, 1, true)
  if sa then return text:sub(1, sa - 1) .. section .. "\n\n" .. text:sub(sa) end
  return text .. "\n" .. section .. "\n"
end

if opt["scale-report"] then
  local dir = opt["scale-report"]
  local rows = {}
  for _, n in ipairs{ "10k", "100k", "1M", "10M" } do
    local s = read_file(dir .. "/scale-" .. n .. ".lua")
    if s then
      local r = load("return " .. s)()
      -- the RSS phase's summary (bench/rest_bench.sh rss)
      for line in (read_file(dir .. "/rest-scale-" .. n .. ".txt") or ""):gmatch("[^\n]+") do
        local k, v = line:match("^(%S+)%s+(.*)$")
        if k then r[k] = v end
      end
      if r.rss_end_kb then
        r.rss = string.format("%.0f MB (%.0f MB at the start; %s req/s)", tonumber(r.rss_end_kb) / 1024,
          tonumber(r.rss_start_kb) / 1024, r.mixed_rps and string.format("%.0f", tonumber(r.mixed_rps)) or "?")
      end
      rows[#rows + 1] = r
    end
  end
  if #rows == 0 then die("no scale summaries in %s", dir) end
  local M = machine()
  local L = {}
  local function add(s) L[#L + 1] = s end
  add(SCALE_BEGIN)
  add("## Scale: how cost grows")
  add("")
  add(string.format("`make bench-scale`, %s (commit %s, %s cores, %s; load average %s at the start, %s at "
    .. "the end). One data set per size (bench/gen.c: 100 tasks per job, 10 domains), both files loaded "
    .. "from the same rows; medians of interleaved batches, as in the main table.",
    rows[1].date, rows[1].commit, M.nproc, M.cpu, rows[1].load_start, rows[#rows].load_end))
  add("")
  add("| tasks | inventory file | hand-written file | list_job: 20 of a job (us) | list_page: 1,000 of a "
    .. "domain (us) | stat_status: a domain (us) | finish (per s) | nginx worker RSS |")
  add("|---|---|---|---|---|---|---|---|")
  local function lat(r, c)
    if not r[c] then return "-" end
    return string.format("%.1f / %.1f (%.2f)%s", r[c].inventory / 1e3, r[c].limit / 1e3,
      r[c].inventory / r[c].limit, r[c].over and " [1]" or "")
  end
  for _, r in ipairs(rows) do
    add(string.format("| %s | %s | %s | %s | %s | %s | %s | %s |", r.label, mb(r.inv_size), mb(r.hand_size),
      lat(r, "list_job"), lat(r, "list_page"), lat(r, "stat_status"),
      r.finish and string.format("%.0f / %.0f (%.2f)", r.finish.inventory, r.finish.limit,
                                 r.finish.inventory / r.finish.limit) or "-",
      r.rss or "not measured"))
  end
  add("")
  add("Cells: inventory / limit (ratio). RSS: the larger of the 2 nginx workers' VmRSS after "
    .. (rows[1].rss_seconds or "?") .. " s of mixed load (bench/rest_bench.sh rss: wrk -t2 -c32 rotating over "
    .. "job get, a job's task list, a job's task stat and analyze of the domain for 400 jobs, the result cache on "
    .. "as shipped), with its value before the load and the rate of the mixed load. [1]: inventory's p99 is "
    .. "over the call budget it ships with (500 ms for a list, 10 s for a stat; off in the harness): with the "
    .. "defaults such calls are refused.")
  for _, r in ipairs(rows) do
    if r.note then add(r.note) end
  end
  add(SCALE_END)
  local section = table.concat(L, "\n")
  local old = read_file(opt.out) or "# inventory benchmark results\n\nNot run yet: `make bench`.\n"
  local a = old:find(SCALE_BEGIN, 1, true)
  local _, d = old:find(SCALE_END, 1, true)
  local new
  if a and d then new = old:sub(1, a - 1) .. section .. old:sub(d + 1)
  else new = old .. "\n" .. section .. "\n" end
  write_file(opt.out, new)
  io.write(section, "\n")
  io.write("bench: scale section written into " .. opt.out .. "\n")
  os.exit(0)
end

-- ---------------------------------------------------------------- main
local only = {}
if opt.cases then for n in opt.cases:gmatch("[^,]+") do only[n] = true end end
local function wanted(c) return not opt.cases or only[c.name] end

-- ---------------------------------------------------------------- PostgreSQL
-- inventory (schema "inventory", its PostgreSQL backend) against the limit
-- (schema "hand", bench/limit_pg.c) on one server; the targets are issue 14's
if PG then
  local LP = require "limit_pg"
  local names = C.PG_NAMES
  local files = { url = opt.url }
  local PG_TARGET = { read = 1.5, stat = 1.3, write = 0.7 }
  local PG_CASES = { get = "read", task_get = "read", list_job = "read", list_ws = "read", list_page = "read",
    list_keyword = "read", list_errors = "read", jobs_collector = "read", stat_status = "stat",
    stat_job = "stat", stat_day = "stat", job_days = "stat", analyze_small = "stat", analyze_big = "stat",
    create = "write", finish = "write" }
  if not opt.url then die("--url is required with --backend pg") end
  local M = machine()
  M.load_start = loadavg()
  local P = read_params(opt.hand)
  local setup = assert(LP.open(opt.url, "hand"))
  local server = LP.query(setup, "SELECT version() AS v")[1].v:match("^(PostgreSQL [%d.]+)") or "?"
  local settings = {}
  for _, r in ipairs(LP.query(setup, "SELECT name, setting, unit FROM pg_settings WHERE name IN "
      .. "('shared_buffers', 'fsync', 'synchronous_commit', 'work_mem', 'max_connections', 'jit', "
      .. "'random_page_cost', 'effective_cache_size', 'wal_level', 'max_wal_size') ORDER BY name")) do
    local v = r.setting
    if r.unit == "8kB" then v = string.format("%.0f MB", tonumber(v) * 8 / 1024)
    elseif r.unit == "kB" then v = string.format("%.0f MB", tonumber(v) / 1024)
    elseif r.unit == "MB" then v = v .. " MB" end
    settings[#settings + 1] = r.name .. " " .. v
  end
  local function schema_size(nsp)
    local r = LP.query(setup, "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::int8 AS n FROM pg_class c "
      .. "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'", nsp)[1]
    return r.n
  end
  local size_inv, size_hand = schema_size("inventory"), schema_size("hand")
  io.write(string.format("bench (%s, %s): %d jobs, %d tasks; %s, %s cores; commit %s\n", opt.mode, server,
    P.all_jobs, P.all_tasks, M.cpu, M.nproc, M.commit))
  local results = {}
  local t_all = now()
  local cs = {}
  for i, n in ipairs(names) do cs[i] = C.open(n, files) end
  for _, case in ipairs(CASES) do
    local kind = PG_CASES[case.name]
    if kind and kind ~= "write" and wanted(case) and P[case.params] then
      local t0 = now()
      case.target = PG_TARGET[kind]
      if case.params == "small" then case.title = string.format(case.title, P.small_jobs) end
      if case.params == "big" then case.title = string.format(case.title, P.big_jobs) end
      case.res = run_latency(case, cs, P[case.params])
      results[#results + 1] = case
      io.write(string.format("  %-14s inv %9.1f us  limit %9.1f us  (%.2f)  (%.1f s)\n", case.name,
        case.res.inventory.median / 1e3, case.res.limit.median / 1e3,
        case.res.inventory.median / case.res.limit.median, (now() - t0) / 1e9))
      io.flush()
    end
  end
  -- writes, on the same database (after the reads)
  local dom = P.domains[1].domain_id
  local finished_jobs = {}
  local function pending(c, tag, nJobs)
    local tasks, jobs = {}, {}
    if c.name == "inventory" then
      for j = 1, nJobs do
        local job = assert(c.inv.job.create{ domain_id = dom,
          collector_id = string.format("collector-finish-%s-%04d", tag, j),
          plugin_id = "plugin-bench", workspace_id = "workspace-bench", tasks = task_template() })
        jobs[j] = job.job_id
        local l = assert(c.inv.job_task.list{ domain_id = dom, job_id = job.job_id,
          query = { page = { limit = 100 } } })
        for _, t in ipairs(l.results) do
          tasks[#tasks + 1] = { job_task_id = t.job_task_id, domain_id = dom, created = 3, updated = 17 }
        end
      end
      return tasks, jobs
    end
    LP.exec(setup, "BEGIN")
    for j = 1, nJobs do
      local jid = C.new_id("job-")
      jobs[j] = jid
      LP.exec(setup, C.SQL_PG.insert_job, jid, 100, dom, "workspace-bench",
              string.format("collector-finish-%s-%04d", tag, j), "plugin-bench")
      local ids, prov, sec, sa, proj, ws = {}, {}, {}, {}, {}, {}
      for i = 1, 100 do
        local tt = task_template()[i]
        ids[i] = C.new_id("job-task-")
        prov[i], sec[i], sa[i], proj[i], ws[i] = tt.provider, tt.secret_id, tt.service_account_id,
          tt.project_id, "workspace-bench"
        tasks[#tasks + 1] = { job_task_id = ids[i], domain_id = dom, created = 3, updated = 17 }
      end
      LP.exec(setup, C.SQL_PG.insert_tasks, C.pg_array(ids, 100), C.pg_array(prov, 100), C.pg_array(sec, 100),
              C.pg_array(sa, 100), C.pg_array(proj, 100), C.pg_array(ws, 100), jid, dom)
    end
    LP.exec(setup, "COMMIT")
    return tasks, jobs
  end
  for _, case in ipairs(CASES) do
    if PG_CASES[case.name] == "write" and wanted(case) then
      local t0 = now()
      local need = case.rounds * case.batch + 1
      local pf = {}
      case.target = PG_TARGET.write
      for _, c in ipairs(cs) do
        if case.op == "create" then
          local p = { domain_id = dom, collector_id = "collector-bench-" .. c.name, plugin_id = "plugin-bench",
                      workspace_id = "workspace-bench", tasks = task_template() }
          local l = {}
          for i = 1, need do l[i] = p end
          pf[c.name] = l
        else
          local tasks, jobs = pending(c, "f1-" .. c.name, (need + 99) // 100)
          pf[c.name] = tasks
          finished_jobs[c.name] = jobs
        end
      end
      case.res = run_writes(case, cs, pf)
      results[#results + 1] = case
      io.write(string.format("  %-14s inv %9.0f/s    limit %9.0f/s  (%.2f)  (%.1f s)\n", case.name,
        case.res.inventory.tput, case.res.limit.tput, case.res.inventory.tput / case.res.limit.tput,
        (now() - t0) / 1e9))
      io.flush()
    end
  end
  local consistency
  for _, c in ipairs(cs) do
    local jobs = finished_jobs[c.name] or {}
    local full, ok = 0, 0
    for _, jid in ipairs(jobs) do
      local j
      if c.name == "inventory" then j = assert(c.inv.job.get{ job_id = jid, domain_id = dom })
      else j = LP.query(setup, C.SQL_PG.job_status, jid)[1] end
      if j.success_tasks == 100 then
        full = full + 1
        if j.status == "SUCCESS" and j.remained_tasks == 0 then ok = ok + 1 end
      elseif j.status ~= "IN_PROGRESS" then
        die("consistency: %s's job %s is %s with %d of 100 tasks finished", c.name, jid, j.status, j.success_tasks)
      end
    end
    if ok ~= full then die("consistency: %s: %d jobs fully finished, %d of them SUCCESS", c.name, full, ok) end
    if #jobs > 0 then
      consistency = (consistency or "") .. string.format("%s: %d jobs, %d fully finished and SUCCESS; ",
        c.name, #jobs, ok)
    end
  end
  for _, c in ipairs(cs) do c.close() end
  LP.close(setup)

  -- the REST part (bench/rest_pg.sh): "key value" lines
  local rest
  if opt.rest and opt.rest ~= "" then
    local t = {}
    for line in (read_file(opt.rest) or ""):gmatch("[^\n]+") do
      local k, v = line:match("^(%S+)%s+(.*)$")
      if k then t[k] = v end
    end
    rest = (t.pg_uncached_rps and t.sqlite_uncached_rps) and t or { failed = true }
  end

  -- the section
  local us = function(ns) return ns / 1e3 end
  local L, missed = {}, {}
  local function add(x) L[#L + 1] = x end
  add(PG_BEGIN)
  add("## PostgreSQL")
  add("")
  add(string.format("Generated by `%s` (bench/run.sh, bench/run.lua --backend pg). Do not edit: re-run it.",
    ({ quick = "make bench-quick", full = "make bench" })[opt.mode] or ("sh bench/run.sh " .. opt.mode)))
  add("")
  add("| | |")
  add("|---|---|")
  add(string.format("| machine | %s cores, %s, %s RAM, %s |", M.nproc, M.cpu, M.mem, M.kernel))
  add(string.format("| date | %s |", M.date))
  add(string.format("| commit | %s |", M.commit))
  local pinned = sh("taskset -pc $PPID 2>/dev/null"):match(":%s*(%S+)%s*$")
  add(string.format("| server | %s, a throwaway cluster started by the bench (scripts/pg.sh): Unix socket, "
    .. "client and server on %s; %s |", server,
    pinned and pinned:match("^%d+$") and ("one CPU (" .. pinned .. ": the harness and every backend, "
      .. "bench/run.sh) of " .. M.nproc) or ("the same " .. M.nproc .. " cores"),
    table.concat(settings, ", ")))
  add(string.format("| data | %d jobs and %d tasks, the rows of the SQLite data set of this mode (bench/gen.c built as gen_pg), in one "
    .. "database: schema `inventory` loaded through inventory's import (%s), schema `hand` "
    .. "(bench/schema_pg.sql) by COPY (%s); both VACUUM (ANALYZE)d |", P.all_jobs, P.all_tasks,
    mb(size_inv), mb(size_hand)))
  add(string.format("| mode | %s (wall time %.0f s) |", opt.mode, (now() - t_all) / 1e9))
  add(string.format("| load average | %s at the start, %s at the end |", M.load_start, loadavg()))
  add("")
  add("inventory through its PostgreSQL backend (`inventory.open{ url = ... }`) against the limit: "
    .. "hand-written SQL for a hand-written schema (bench/schema_pg.sql, bench/contenders.lua's SQL_PG) "
    .. "through a minimal libpq module (bench/limit_pg.c: prepared statements, one PQexecPrepared a "
    .. "statement), one connection each, contenders interleaved; both answer the API's records (the limit "
    .. "formats times with to_char in its SELECT and decodes errors with lua-cjson). Targets are issue 14's: list and get "
    .. "<= 1.5, stat and analyze <= 1.3 (median latency, inventory / limit), bulk create and task finish "
    .. ">= 0.7 (throughput).")
  add("")
  add("| case | inventory | limit (hand-written) | inv/limit | target | met |")
  add("|---|---|---|---|---|---|")
  for _, case in ipairs(results) do
    local r = case.res
    local inv, lim = r.inventory, r.limit
    if case.kind == "read" then
      local rl = inv.median / lim.median
      local ok = rl <= case.target
      if not ok then missed[#missed + 1] = case.name end
      add(string.format("| %s | %.1f / %.1f | %.1f / %.1f | %.2f | <= %.1f | %s |", case.title, us(inv.median),
        us(inv.p99), us(lim.median), us(lim.p99), rl, case.target, ok and "yes" or "**no**"))
    else
      local rl = inv.tput / lim.tput
      local ok = rl >= case.target
      if not ok then missed[#missed + 1] = case.name end
      add(string.format("| %s | %.0f/s (%.0f / %.0f) | %.0f/s (%.0f / %.0f) | %.2f | >= %.1f | %s |", case.title,
        inv.tput, us(inv.median), us(inv.p99), lim.tput, us(lim.median), us(lim.p99), rl, case.target,
        ok and "yes" or "**no**"))
    end
  end
  add("")
  add(string.format("Reads: median / p99 latency in microseconds per call; writes: throughput, then median / p99 "
    .. "latency per call. Samples per contender: %s.", (function()
    local t = {}
    for _, case in ipairs(results) do t[#t + 1] = string.format("%s %d", case.name, case.res.inventory.n) end
    return table.concat(t, ", ")
  end)()))
  add("Checks passed: every read case compared the signatures (row count, total_count, the first and last "
    .. "records whole, a get's record whole, or the groups) on its first parameters; writes compared the returned record's shape."
    .. (consistency and (" After the writes: " .. consistency) or ""))
  add("")
  if rest and not rest.failed then
    local function cell(k)
      local rps = tonumber(rest[k .. "_rps"])
      return string.format("%.0f req/s (p50 %s, p99 %s)", rps or 0, rest[k .. "_p50"] or "?", rest[k .. "_p99"] or "?")
    end
    add(string.format("REST, side by side (bench/rest_pg.sh: %s):", rest.setup or ""))
    add("")
    add("| `POST /inventory/v1/job-task/list` | SQLite | PostgreSQL (thread pool) | PostgreSQL / SQLite |")
    add("|---|---|---|---|")
    for _, k in ipairs{ { "uncached", "uncached (`Cache-Control: no-cache`)" }, { "cached", "result cache hit" } } do
      local a, b = tonumber(rest["sqlite_" .. k[1] .. "_rps"]), tonumber(rest["pg_" .. k[1] .. "_rps"])
      if a and b then
        add(string.format("| %s | %s | %s | %.2f |", k[2], cell("sqlite_" .. k[1]), cell("pg_" .. k[1]), b / a))
      end
    end
    add("")
    if rest.pg_uncached_cpu or rest.sqlite_uncached_cpu then
      add(string.format("CPU per uncached request (workers, wrk, PostgreSQL's backends): SQLite %s; PostgreSQL %s.",
        rest.sqlite_uncached_cpu or "?", rest.pg_uncached_cpu or "?"))
      add("")
    end
  elseif rest then
    add(string.format("REST: not measured, bench/rest_pg.sh failed (its log: bench/out/rest-pg-%s.log).", opt.mode))
    add("")
  end
  add(#missed == 0 and "All PostgreSQL targets met." or ("PostgreSQL targets missed: " .. table.concat(missed, ", ")
    .. ". Causes: bench/FINDINGS.md."))
  add(PG_END)
  local section = table.concat(L, "\n")
  if opt.out then
    local old = read_file(opt.out) or "# inventory benchmark results\n\nNot run yet: `make bench`.\n"
    write_file(opt.out, put_section(old, PG_BEGIN, PG_END, section))
  end
  io.write(string.format("bench (PostgreSQL): %d cases in %.0f s; %s\n", #results, (now() - t_all) / 1e9,
    #missed == 0 and "all targets met" or (#missed .. " target(s) missed: " .. table.concat(missed, ", "))))
  if opt.out then io.write("bench: PostgreSQL section in " .. opt.out .. "\n") end
  os.exit(0)
end

local M = machine()
M.load_start = loadavg()
local P = read_params(opt.hand)
io.write(string.format("bench (%s): %s + %s, %d jobs, %d tasks; %s, %s cores, %s; commit %s\n",
  opt.mode, opt.inv, opt.hand, P.all_jobs, P.all_tasks, M.cpu, M.nproc, M.mem, M.commit))

local results = {}
local t_all = now()

-- reads: one connection per contender
local cs = {}
for i, n in ipairs(C.NAMES) do cs[i] = C.open(n, files_of(false)) end
for _, case in ipairs(CASES) do
  if case.kind == "read" and wanted(case) and P[case.params] then
    local t0 = now()
    if case.params == "small" then case.title = string.format(case.title, P.small_jobs) end
    if case.params == "big" then case.title = string.format(case.title, P.big_jobs) end
    case.res = run_latency(case, cs, P[case.params])
    results[#results + 1] = case
    io.write(string.format("  %-14s inv %9.1f us  limit %9.1f us  luasql %9.1f us   (%.1f s)\n", case.name,
      case.res.inventory.median / 1e3, case.res.limit.median / 1e3, case.res.luasql.median / 1e3,
      (now() - t0) / 1e9))
    io.flush()
  end
end
for _, c in ipairs(cs) do c.close() end

-- writes: on copies of the data (bench/run.sh makes them)
local any_write = false
for _, case in ipairs(CASES) do if case.kind ~= "read" and wanted(case) then any_write = true end end
if any_write then
  if not opt.winv or not opt.whand then die("--winv and --whand are required for the write cases") end
  local dom = P.domains[1].domain_id
  -- a setup connection on each hand-written copy: the limit's, the peer's
  local setups = { limit = assert(limit.open(opt.whand)), luasql = assert(limit.open(opt.wpeer or opt.whand)) }
  local outdir = opt.outdir or "bench/out"
  local wf = files_of(true)
  local logs = { opt.winv, opt.whand }
  if opt.wpeer and opt.wpeer ~= opt.whand then logs[3] = opt.wpeer end
  local function truncate_logs() wal_truncate(logs) end
  cs = {}
  for i, n in ipairs(C.NAMES) do cs[i] = C.open(n, wf) end
  local finished_jobs = {}
  for _, case in ipairs(CASES) do
    if case.kind ~= "read" and wanted(case) then
      local t0 = now()
      local need = case.rounds * case.batch + 1
      if case.op == "create" then
        local pf = {}
        for _, c in ipairs(cs) do
          local p = { domain_id = dom, collector_id = "collector-bench-" .. c.name, plugin_id = "plugin-bench",
                      workspace_id = "workspace-bench", tasks = task_template() }
          local l = {}
          for i = 1, need do l[i] = p end
          pf[c.name] = l
        end
        case.res = run_writes(case, cs, pf, truncate_logs)
      elseif case.op == "import" then
        local pf = {}
        for ci, c in ipairs(cs) do
          pf[c.name] = function(i) return C.import_batch(tostring(ci), i, IMPORT_N, dom) end
        end
        case.res = run_writes(case, cs, pf, truncate_logs)
      elseif case.kind == "write" then
        local pf = {}
        for _, c in ipairs(cs) do
          local tasks, jobs = make_pending(c, setups[c.name], "f1-" .. c.name, (need + 99) // 100, dom)
          pf[c.name] = tasks
          finished_jobs[c.name] = finished_jobs[c.name] or {}
          for _, j in ipairs(jobs) do table.insert(finished_jobs[c.name], j) end
        end
        case.res = run_writes(case, cs, pf, truncate_logs)
      else
        -- two workers per contender, each on its own jobs' tasks
        local tf, need2 = {}, case.rounds * case.batch
        for _, c in ipairs(cs) do
          local a, ja = make_pending(c, setups[c.name], "f2a-" .. c.name, (need2 + 99) // 100, dom)
          local b, jb = make_pending(c, setups[c.name], "f2b-" .. c.name, (need2 + 99) // 100, dom)
          tf[c.name] = { a, b }
          finished_jobs[c.name] = finished_jobs[c.name] or {}
          for _, j in ipairs(ja) do table.insert(finished_jobs[c.name], j) end
          for _, j in ipairs(jb) do table.insert(finished_jobs[c.name], j) end
        end
        case.res = run_two_procs(case, C.NAMES, wf, tf, outdir, truncate_logs)
        case.checked = 0
      end
      results[#results + 1] = case
      io.write(string.format("  %-14s inv %9.0f/s    limit %9.0f/s    luasql %9.0f/s     (%.1f s)\n", case.name,
        case.res.inventory.tput, case.res.limit.tput, case.res.luasql.tput, (now() - t0) / 1e9))
      io.flush()
    end
  end
  -- consistency: every job whose 100 tasks were all finished ended SUCCESS,
  -- nothing remaining (inventory: through its API; the others: SQL)
  for _, c in ipairs(cs) do
    local jobs = finished_jobs[c.name] or {}
    local full, ok = 0, 0
    for _, jid in ipairs(jobs) do
      local st, rem, succ
      if c.name == "inventory" then
        local j = assert(c.inv.job.get{ job_id = jid, domain_id = dom })
        st, rem, succ = j.status, j.remained_tasks, j.success_tasks
      else
        local j = limit.query(setups[c.name], "SELECT status, remained_tasks, success_tasks FROM job WHERE job_id = ?",
                              jid)[1]
        st, rem, succ = j.status, j.remained_tasks, j.success_tasks
      end
      if succ == 100 then
        full = full + 1
        if st == "SUCCESS" and rem == 0 then ok = ok + 1 end
      elseif st ~= "IN_PROGRESS" then
        die("consistency: %s's job %s is %s with %d of 100 tasks finished", c.name, jid, st, succ)
      end
    end
    if ok ~= full then die("consistency: %s: %d jobs fully finished, %d of them SUCCESS", c.name, full, ok) end
    results.consistency = (results.consistency or "") .. string.format("%s: %d jobs, %d fully finished "
      .. "and SUCCESS; ", c.name, #jobs, ok)
  end
  for _, c in ipairs(cs) do c.close() end
  limit.close(setups.limit)
  limit.close(setups.luasql)
end

-- ---------------------------------------------------------------- scale summary
if SCALE then
  local s = { label = opt.label or "?", date = M.date, commit = M.commit, load_start = M.load_start,
              load_end = loadavg(), inv_size = fsize(opt.inv), hand_size = fsize(opt.hand) }
  for _, case in ipairs(results) do
    local r = case.res
    if case.kind == "read" then
      s[case.name] = { inventory = r.inventory.median, limit = r.limit.median, luasql = r.luasql.median,
                       p99 = r.inventory.p99, over = r.inventory.p99 > case.budget or nil }
    else
      s[case.name] = { inventory = r.inventory.tput, limit = r.limit.tput, luasql = r.luasql.tput }
    end
  end
  write_file(opt.summary, serialize(s) .. "\n")
  io.write("bench: scale summary in " .. opt.summary .. "\n")
  os.exit(0)
end

-- ---------------------------------------------------------------- REST (optional)
-- bench/rest_bench.sh's summary: "key value" lines
local rest
if opt.rest and opt.rest ~= "" then
  local t = {}
  for line in (read_file(opt.rest) or ""):gmatch("[^\n]+") do
    local k, v = line:match("^(%S+)%s+(.*)$")
    if k then t[k] = v end
  end
  if t.static_rps and t.uncached_rps and t.limit_rps then rest = t else rest = { failed = true } end
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
add(string.format("| data | %d jobs, %d tasks (bench/gen.c): 10 domains of %d jobs x %d tasks%s; inventory's "
  .. "file %s (loaded through its import), the hand-written file %s (bench/schema.sql) |", P.all_jobs,
  P.all_tasks, P.n_jobs // 10, P.n_tasks // P.n_jobs, P.small and string.format(", plus a domain of %s "
  .. "jobs and one of %s (analyze)", P.small_jobs, P.big_jobs) or "", mb(fsize(opt.inv)), mb(fsize(opt.hand))))
add(string.format("| mode | %s (wall time %.0f s) |", opt.mode, (now() - t_all) / 1e9))
add(string.format("| load average | %s at the start, %s at the end (2 cores: above ~0.3 at the start, "
  .. "other processes were running) |", M.load_start, loadavg()))
add("")
add("The limit is hand-written SQL on a hand-written schema (bench/schema.sql, bench/contenders.lua), "
  .. "through a minimal C module (bench/limit.c); the peer is the same SQL through LuaSQL. All three answer "
  .. "the API's records (the limit and the peer format times with strftime in their SELECT and decode errors "
  .. "with lua-cjson; until 2026-12-03 the limit returned raw columns, integer times and JSON text). Targets are "
  .. "issue 10's. Reads: median / p99 latency in microseconds per call (warm cache, one process, "
  .. "contenders interleaved); the ratio is inventory / limit of the medians, met when <= the target. "
  .. "Writes: throughput (calls or records per second), then median / p99 latency per call; the ratio is "
  .. "inventory / limit of the throughputs, met when >= the target.")
add("")
add("| case | inventory | limit (hand-written) | LuaSQL peer | inv/limit | target | met | inv/peer |")
add("|---|---|---|---|---|---|---|---|")
for _, case in ipairs(results) do
  local r = case.res
  local inv, lim, peer = r.inventory, r.limit, r.luasql
  if case.kind == "read" then
    local rl, rp = inv.median / lim.median, inv.median / peer.median
    local ok = rl <= case.target
    if not ok then missed[#missed + 1] = case end
    add(string.format("| %s | %s | %s | %s | %.2f | <= %.1f | %s | %.2f |", case.title,
      fmt_lat(inv), fmt_lat(lim), fmt_lat(peer), rl, case.target, ok and "yes" or "**no**", rp))
  else
    local rl, rp = inv.tput / lim.tput, inv.tput / peer.tput
    local ok = rl >= case.target
    if not ok then missed[#missed + 1] = case end
    add(string.format("| %s | %s | %s | %s | %.2f | >= %.1f | %s | %.2f |", case.title,
      fmt_tput(inv), fmt_tput(lim), fmt_tput(peer), rl, case.target, ok and "yes" or "**no**", rp))
  end
end
add("")
add(string.format("Samples per contender: %s.", (function()
  local t = {}
  for _, case in ipairs(results) do t[#t + 1] = string.format("%s %d", case.name, case.res.inventory.n) end
  return table.concat(t, ", ")
end)()))
do
  local over = {}
  for _, case in ipairs(results) do
    if case.budget and case.res.inventory.p99 > case.budget then
      over[#over + 1] = string.format("%s (median %.0f ms, p99 %.0f ms)", case.name,
        case.res.inventory.median / 1e6, case.res.inventory.p99 / 1e6)
    end
  end
  add("Call budgets: inventory runs here with its per-call budgets off (`statement_timeout = 0, stat_timeout "
    .. "= 0`), as the limit has none; shipped, a get or list is cut at 500 ms and a stat or analyze at 10 s. "
    .. (#over == 0 and "Every inventory p99 above is within them."
        or ("Over them (refused with the shipped defaults, at least sometimes): " .. table.concat(over, ", ") .. ".")))
end
add("Checks passed: every read case compared the contenders' signatures (row count, total_count, the first and")
add("last records whole, a get's record whole, or the groups) on its first parameters; writes compared the "
  .. "returned record's shape.")
if results.consistency then add("After the writes: " .. results.consistency) end
add("LuaSQL note: LuaSQL's conn:execute steps a query once, resets it and steps it again for the cursor, "
  .. "so an aggregate or the first page row is computed twice by the peer; it has no parameter binding, "
  .. "so each call formats, escapes and prepares its SQL anew.")
add("")
if rest and not rest.failed then
  local function row(name, label)
    local rps = tonumber(rest[name .. "_rps"])
    local cpu = rest[name .. "_cpu"] or ""
    local w, wu, ws, wrk = cpu:match("workers ([%d.]+) us %(user ([%d.]+), sys ([%d.]+)%), wrk ([%d.]+) us")
    return string.format("| %s | %.0f | %s | %s | %.2f | %s | %s |", label, rps, rest[name .. "_p50"] or "?",
      rest[name .. "_p99"] or "?", rps / tonumber(rest.static_rps),
      w and string.format("%s (%s + %s)", w, wu, ws) or "?", wrk or "?")
  end
  local ur, lr, sr = tonumber(rest.uncached_rps), tonumber(rest.limit_rps), tonumber(rest.static_rps)
  add(string.format("### REST through nginx (bench/rest_bench.sh, %s)", rest.setup or ""))
  add("")
  add("| path | req/s | p50 | p99 | / static | workers' CPU per request, us (user + sys) | wrk's CPU per request, us |")
  add("|---|---|---|---|---|---|---|")
  add(row("static", "nginx serving the same bytes as a static file"))
  add(row("uncached", "inventory REST, uncached (`Cache-Control: no-cache`)"))
  add(row("limit", "hand-written OpenResty handler (bench/rest_limit.lua)"))
  if rest.cached_rps then add(row("cached", "inventory REST, result cache hit")) end
  if rest.layer_rps then add(row("layer", "inventory's REST layer over a store stub")) end
  if rest.floor_rps then
    add(row("floor", "the same layer over SQLite's part of the uncached call only (the floor)"))
  end
  add("")
  local ok1, ok2 = ur / sr >= 0.5, ur / lr >= 1.2
  if not ok1 then missed[#missed + 1] = { name = "rest_static" } end
  if not ok2 then missed[#missed + 1] = { name = "rest_limit" } end
  add(string.format("Targets (issue 10, item 4): uncached REST >= 0.5 x static: %.2f, %s; >= 1.2 x the "
    .. "hand-written handler: %.2f, %s. Answers: %s. CPU per request: the 2 workers' user and system time "
    .. "(/proc/PID/stat) and wrk's, over the run, divided by the requests served; with wrk on the same 2 "
    .. "cores, the rate is bounded by 2 cores / (workers + wrk). Where the uncached request's time goes: "
    .. "bench/FINDINGS.md.", ur / sr, ok1 and "met" or "**not met**", ur / lr, ok2 and "met" or "**not met**",
    rest.sizes or "?"))
elseif rest and rest.failed then
  add("REST: not measured, bench/rest_bench.sh failed (its log is in bench/out/).")
  missed[#missed + 1] = { name = "rest" }
else
  add("REST: not measured in this run.")
end
add("")
if #missed == 0 then
  add("All targets met.")
else
  local t = {}
  for _, c in ipairs(missed) do t[#t + 1] = c.name end
  add("Targets missed: " .. table.concat(t, ", ") .. ". Causes and proposed changes: bench/FINDINGS.md.")
end
local report = table.concat(lines, "\n") .. "\n"
if opt.out then write_file(opt.out, with_scale_section(report)) end

io.write(string.format("bench: %d cases in %.0f s; %s\n", #results, (now() - t_all) / 1e9,
  #missed == 0 and "all targets met" or (#missed .. " target(s) missed")))
for _, case in ipairs(results) do
  local r = case.res
  if case.kind == "read" then
    io.write(string.format("  %-14s inv/limit %5.2f  inv/peer %5.2f\n", case.name,
      r.inventory.median / r.limit.median, r.inventory.median / r.luasql.median))
  else
    io.write(string.format("  %-14s inv/limit %5.2f  inv/peer %5.2f  (throughput)\n", case.name,
      r.inventory.tput / r.limit.tput, r.inventory.tput / r.luasql.tput))
  end
end
if opt.out then io.write("bench: results in " .. opt.out .. "\n") end
