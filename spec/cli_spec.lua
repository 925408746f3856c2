-- spec/cli_spec.lua: bin/inventory, run as a separate process under lua5.4
-- (with no LUA_PATH / LUA_CPATH: it finds the checkout's modules itself),
-- against the Lua API's answers for the same requests on the same store.
--
-- Every test runs on the backend under test (spec/helper.lua): SQLite (a
-- fresh file), or PostgreSQL when INVENTORY_TEST_URL names a database (its
-- default schema; tests write only in their own random domain, so a shared
-- database works). What only SQLite has (backup) is skipped on PostgreSQL.
local inventory = require "inventory"
local H = require "spec.helper"
local cjson = require("cjson.safe").new()

local ROOT = assert(io.popen("pwd")):read("*l")
local BIN = ROOT .. "/bin/inventory"
local TMP = os.tmpname()
os.remove(TMP)
os.execute("mkdir -p '" .. TMP .. "'")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- true when the command succeeded (os.execute differs: 5.4 true/nil, LuaJIT 0/status)
local function sh(cmd)
  local a = os.execute(cmd)
  return a == true or a == 0
end

-- run(args, { env = {}, stdin = text, lua = "lua5.4", cwd = dir, stdout = path }) -> { code, out, err }
-- (stdout: where the standard output goes instead of a file read back, e.g. /dev/full)
local function run(args, o)
  o = o or {}
  local parts = {}
  for i, a in ipairs(args) do parts[i] = q(a) end
  local env = { "env", "-u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4",
                "-u INVENTORY_DB -u INVENTORY_URL -u INVENTORY_DOMAIN -u COLUMNS" }
  for k, v in pairs(o.env or {}) do env[#env + 1] = k .. "=" .. q(v) end
  local so, se, sc, si = TMP .. "/out", TMP .. "/err", TMP .. "/code", TMP .. "/in"
  write(si, o.stdin or "")
  local cmd = (o.cwd and ("cd " .. q(o.cwd) .. " && ") or "") .. table.concat(env, " ") .. " "
              .. (o.lua or "lua5.4") .. " " .. q(BIN) .. " " .. table.concat(parts, " ")
              .. " <" .. q(si) .. " >" .. q(o.stdout or so) .. " 2>" .. q(se) .. "; echo $? >" .. q(sc)
  if o.stdout then os.remove(so) end
  sh(cmd)
  return { code = tonumber(read(sc)), out = read(so) or "", err = read(se) or "" }
end

local function lines(s)
  local t = {}
  for l in s:gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

local function esc(s) return (s:gsub("%p", "%%%0")) end

local function utf8_width(s) return select(2, s:gsub("[^\128-\191]", "")) end

local function no_traceback(r)
  assert.is_nil(r.err:find("traceback", 1, true), r.err)
  assert.is_nil(r.err:find("%.lua:%d+:"), r.err)
end

-- deep equality with a path in the message
local function same(a, b, path)
  path = path or "$"
  if type(a) ~= "table" or type(b) ~= "table" then
    if a ~= b then error(path .. ": " .. tostring(a) .. " ~= " .. tostring(b), 2) end
    return
  end
  for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
  for k, v in pairs(b) do if a[k] == nil then same(nil, v, path .. "." .. tostring(k)) end end
end

math.randomseed(os.time())
local function rand_id() return string.format("%06x%06x", math.random(0, 0xffffff), math.random(0, 0xffffff)) end

local BACKENDS = {}
if H.PG then
  BACKENDS[1] = { name = "postgresql", new = function()
    return { args = { "--url", H.URL }, open = function() return assert(inventory.open{ url = H.URL }) end }
  end }
else
  BACKENDS[1] = { name = "sqlite", sqlite = true, new = function()
      local path = TMP .. "/store-" .. rand_id() .. ".db"
      return { args = { "--db", path }, path = path,
               open = function() return assert(inventory.open{ path = path }) end }
    end }
end

-- The fixture: jobs in several states, tasks with errors, in domain D.
local function fixture(inv, D)
  local F = { D = D }
  local function tasks_of(job)
    return assert(inv.job_task.list{ domain_id = D, job_id = job.job_id,
                                     query = { sort = { { key = "secret_id" } } } }).results
  end
  -- A: in progress, one success, one failure with errors, one pending
  F.A = assert(inv.job.create{ domain_id = D, collector_id = "collector-1", plugin_id = "plugin-aws",
                               tasks = { { secret_id = "s1", project_id = "project-1", provider = "aws" },
                                         { secret_id = "s2", project_id = "project-2" },
                                         { secret_id = "s3", project_id = "project-1" } } })
  local ta = tasks_of(F.A)
  F.TA = ta
  assert(inv.job_task.start{ domain_id = D, job_task_id = ta[1].job_task_id })
  assert(inv.job_task.finish{ domain_id = D, job_task_id = ta[1].job_task_id, status = "SUCCESS",
                              created_count = 5, updated_count = 2 })
  assert(inv.job_task.start{ domain_id = D, job_task_id = ta[2].job_task_id })
  assert(inv.job_task.add_error{ domain_id = D, job_task_id = ta[2].job_task_id, error_code = "ERROR_A",
                                 message = "denied, \"quoted\"", additional = { resource_type = "x", n = 2.5 } })
  assert(inv.job_task.add_error{ domain_id = D, job_task_id = ta[2].job_task_id, error_code = "ERROR_B",
                                 message = "ünïcode ✓" })
  assert(inv.job_task.finish{ domain_id = D, job_task_id = ta[2].job_task_id, status = "FAILURE",
                              failure_count = 2 })
  -- B: succeeded
  F.B = assert(inv.job.create{ domain_id = D, collector_id = "collector-2", plugin_id = "plugin-gcp",
                               tasks = { { secret_id = "s4" }, { secret_id = "s5" } } })
  for _, t in ipairs(tasks_of(F.B)) do
    assert(inv.job_task.finish{ domain_id = D, job_task_id = t.job_task_id, status = "SUCCESS", created_count = 1 })
  end
  -- C: canceled; D0: no tasks (SUCCESS at once); E: a workspace job with sub-tasks
  F.C = assert(inv.job.create{ domain_id = D, collector_id = "collector-3", tasks = { { secret_id = "s6" } } })
  assert(inv.job.cancel{ domain_id = D, job_id = F.C.job_id })
  F.D0 = assert(inv.job.create{ domain_id = D, collector_id = "collector-4" })
  F.E = assert(inv.job.create{ domain_id = D, collector_id = "collector-5", workspace_id = "ws-1",
                               tasks = { { secret_id = "s7", sub_tasks = 2 }, { secret_id = "s8" } } })
  local te = tasks_of(F.E)
  assert(inv.job_task.finish{ domain_id = D, job_task_id = te[1].job_task_id, status = "SUCCESS" })
  assert(inv:import("spot_job", { { job_id = "job-spot-" .. rand_id(), domain_id = D, status = "ERROR",
                                   filter = {}, created_at = "2022-01-02T03:04:05.678Z" } }))
  F.ids = { job = {}, job_task = {} }
  for _, r in ipairs(assert(inv.job.list{ domain_id = D }).results) do F.ids.job[#F.ids.job + 1] = r.job_id end
  for _, r in ipairs(assert(inv.job_task.list{ domain_id = D }).results) do
    F.ids.job_task[#F.ids.job_task + 1] = r.job_task_id
  end
  return F
end

for _, backend in ipairs(BACKENDS) do
describe("bin/inventory on " .. backend.name, function()
  local B, inv, F, D

  local function cli(args, o)
    local full = {}
    for _, a in ipairs(B.args) do full[#full + 1] = a end
    full[#full + 1] = "--domain"; full[#full + 1] = D
    for _, a in ipairs(args) do full[#full + 1] = a end
    local r = run(full, o)
    no_traceback(r)
    return r
  end
  -- the CLI's -o json equals the REST rendering of the same request
  local function same_json(args, resource, method, req)
    local r = cli(args)
    assert.are.equal(0, r.code, r.err)
    req.domain_id = req.domain_id or D
    local want = assert(inv:call(resource, method, req, true))
    assert.are.equal(want .. "\n", r.out)
    return r
  end

  setup(function()
    B = backend.new()
    inv = B.open()
    D = "domain-cli-" .. rand_id()
    F = fixture(inv, D)
  end)
  teardown(function()
    if inv then inv:close() end
  end)

  describe("-o json is the REST API's answer", function()
    it("list, get, stat, analyze", function()
      same_json({ "list", "job", "-o", "json" }, "job", "list", {})
      same_json({ "list", "job_task", "-p", "job_id=" .. F.A.job_id, "-o", "json" }, "job_task", "list",
                { job_id = F.A.job_id })
      same_json({ "get", "job", F.A.job_id, "-o", "json" }, "job", "get", { job_id = F.A.job_id })
      same_json({ "get", "inventory.JobTask", F.TA[2].job_task_id, "-o", "json" }, "job_task", "get",
                { job_task_id = F.TA[2].job_task_id })
      same_json({ "list", "spot_job", "-o", "json" }, "spot_job", "list", {})
      local sq = { aggregate = { { group = { keys = { { key = "status", name = "status" } },
                                             fields = { { operator = "count", name = "n" } } } } } }
      same_json({ "stat", "job_task", "-j", cjson.encode(sq), "-o", "json" }, "job_task", "stat", { query = sq })
      same_json({ "stat", "job", "-j", cjson.encode{ query = sq }, "-o", "json" }, "job", "stat", { query = sq })
      local aq = { group_by = { "collector_id" }, fields = { n = { operator = "count" } } }
      same_json({ "analyze", "job", "-j", cjson.encode(aq), "-o", "json" }, "job", "analyze", { query = aq })
    end)
    it("is the default when stdout is not a terminal", function()
      same_json({ "list", "job" }, "job", "list", {})
    end)
    it("sort, page, --minimal, --workspace, -f", function()
      same_json({ "list", "job", "-s", "collector_id", "-s", "-created_at", "-l", "2", "--start", "2", "-o", "json" },
                "job", "list", { query = { sort = { { key = "collector_id", desc = false },
                                                    { key = "created_at", desc = true } },
                                           page = { limit = 2, start = 2 } } })
      same_json({ "list", "job_task", "--minimal", "-o", "json" }, "job_task", "list", { query = { minimal = true } })
      same_json({ "list", "job_task", "--workspace", "ws-1", "-o", "json" }, "job_task", "list",
                { workspace_id = "ws-1" })
      local file = TMP .. "/req.json"
      write(file, cjson.encode{ status = "SUCCESS", query = { page = { limit = 1 } } })
      same_json({ "list", "job", "-f", file, "-o", "json" }, "job", "list",
                { status = "SUCCESS", query = { page = { limit = 1 } } })
    end)
    it("-p nests, types numbers and booleans, makes lists, reads @file", function()
      same_json({ "list", "job", "-p", "query.page.limit=1", "-p", "query.count_only=true", "-o", "json" },
                "job", "list", { query = { page = { limit = 1 }, count_only = true } })
      same_json({ "list", "job", "-p", "status=SUCCESS", "-p", "status=CANCELED", "-o", "json" },
                "job", "list", { status = { "SUCCESS", "CANCELED" } })
      same_json({ "get", "job_task", F.TA[2].job_task_id, "-p", "only=job_task_id", "-p", "only=errors", "-o", "json" },
                "job_task", "get", { job_task_id = F.TA[2].job_task_id, only = { "job_task_id", "errors" } })
      local filter = { { k = "total_tasks", v = 2, o = "gte" } }
      same_json({ "list", "job", "-p", "query.filter=" .. cjson.encode(filter), "-o", "json" },
                "job", "list", { query = { filter = filter } })
      local file = TMP .. "/filter.json"
      write(file, cjson.encode(filter))
      same_json({ "list", "job", "-p", "query.filter=@" .. file, "-o", "json" },
                "job", "list", { query = { filter = filter } })
      -- an id or a text parameter stays text however it looks, quoted or not
      same_json({ "list", "job", "-p", "job_id=123", "-o", "json" }, "job", "list", { job_id = "123" })
      same_json({ "list", "job", "-p", 'job_id="123"', "-o", "json" }, "job", "list", { job_id = "123" })
      same_json({ "list", "job_task", "-p", "project_id=007", "-p", "query.keyword=42", "-o", "json" },
                "job_task", "list", { project_id = "007", query = { keyword = "42" } })
      -- elsewhere a number-looking value is a number: the API's type error where it wants text
      local r = cli({ "list", "job", "-p", "query.page.limit=x" })
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("ERROR_INVALID_PARAMETER_TYPE", 1, true), r.err)
    end)
    it("--filter expressions", function()
      same_json({ "list", "job", "--filter", "status=SUCCESS", "-o", "json" }, "job", "list",
                { query = { filter = { { k = "status", v = "SUCCESS", o = "eq" } } } })
      same_json({ "list", "job", "--filter", "collector_id!=collector-1", "--filter", "total_tasks>=2", "-o", "json" },
                "job", "list", { query = { filter = { { k = "collector_id", v = "collector-1", o = "not" },
                                                      { k = "total_tasks", v = 2, o = "gte" } } } })
      same_json({ "list", "job", "--filter", "created_at>2025-01-01", "-o", "json" }, "job", "list",
                { query = { filter = { { k = "created_at", v = "2025-01-01", o = "gt" } } } })
      same_json({ "list", "job", "--filter", "job_id:" .. F.A.job_id:sub(5, 10), "-o", "json" }, "job", "list",
                { query = { filter = { { k = "job_id", v = F.A.job_id:sub(5, 10), o = "contain" } } } })
      same_json({ "list", "job", "--filter", "status=SUCCESS,CANCELED", "-o", "json" }, "job", "list",
                { query = { filter = { { k = "status", v = { "SUCCESS", "CANCELED" }, o = "in" } } } })
      same_json({ "list", "job_task", "--filter", "project_id=123", "--filter", "errors.error_code~^error_b$",
                  "-o", "json" }, "job_task", "list",
                { query = { filter = { { k = "project_id", v = "123", o = "eq" },
                                       { k = "errors.error_code", v = "^error_b$", o = "regex" } } } })
      local r = cli({ "list", "job", "--filter", "status" })
      assert.are.equal(2, r.code)
    end)
  end)

  describe("exit status", function()
    it("1 for an API error: code and message on stderr, nothing on stdout", function()
      local r = cli({ "get", "job", "job-nope" })
      assert.are.equal(1, r.code)
      assert.are.equal("", r.out)
      assert.truthy(r.err:find("^inventory: ERROR_NOT_FOUND: Resource cannot be found"), r.err)
      r = cli({ "list", "job", "-j", '{"query":{"filter":[{"k":"nope","v":1,"o":"eq"}]}}' })
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("ERROR_DB_QUERY", 1, true))
      r = run(B.args and { B.args[1], B.args[2], "list", "job" } or {})
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("--domain or INVENTORY_DOMAIN", 1, true), r.err)
      -- INVENTORY_DOMAIN is the default of --domain
      r = run({ B.args[1], B.args[2], "list", "job", "-o", "json" }, { env = { INVENTORY_DOMAIN = D } })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal(assert(inv:call("job", "list", { domain_id = D }, true)) .. "\n", r.out)
    end)
    it("2 for a usage error, with a short usage line", function()
      for _, args in ipairs{ { "frob" }, {}, { "list" }, { "list", "nope" }, { "get", "job" },
                             { "list", "job", "-o", "xml" }, { "list", "job", "--bogus" },
                             { "list", "job", "-j", "{bad" }, { "list", "job", "-j", "[1]" },
                             { "list", "job", "-p", "novalue" }, { "list", "job", "-p", "a=@/nonexistent/x.json" },
                             { "list", "job", "-l", "many" }, { "stat", "job" }, { "delete", "job", "x" },
                             { "list", "job", "-j", "{}", "-f", "x" }, { "start", "job", "x" } } do
        local r = cli(args)
        assert.are.equal(2, r.code, table.concat(args, " ") .. ": " .. r.err)
        assert.are.equal("", r.out)
        assert.truthy(r.err:find("^usage: inventory "), r.err)
        assert.truthy(r.err:find("\ninventory: "), r.err)
      end
    end)
    it("--help for every command, 0", function()
      local r = cli({ "--help" })
      assert.are.equal(0, r.code)
      local cmds = {}
      for c in r.out:gmatch("\n  ([a-z][a-z%-]*) ") do cmds[#cmds + 1] = c end
      assert.is_true(#cmds >= 17, r.out)
      for _, c in ipairs(cmds) do
        local h = cli({ c, "--help" })
        assert.are.equal(0, h.code, c)
        assert.truthy(h.out:find("^usage: inventory %[global options%] " .. c:gsub("%-", "%%-")), h.out)
        h = cli({ "help", c })
        assert.are.equal(0, h.code, c)
      end
    end)
    it("--url goes to inventory.open", function()
      local r = run({ "--url", "postgresql://nobody@127.0.0.1:1/nothing", "--domain", D, "list", "job" })
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("cannot open postgresql://nobody@127.0.0.1:1/nothing", 1, true)
                    or r.err:lower():find("postgresql", 1, true), r.err)
      r = run({ "--url", "x", "--db", "y", "list", "job" })
      assert.are.equal(2, r.code)
    end)
    it("a store that is not there is an error, not a new file", function()
      H.only("sqlite", "a SQLite file path")
      local path = TMP .. "/absent.db"
      local r = run({ "--db", path, "--domain", D, "list", "job" })
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("no such file", 1, true))
      assert.is_nil(read(path))
    end)
    it("a read creates and migrates nothing: no schema on PostgreSQL, no tables in another file", function()
      local reads = { { "list", "job" }, { "get", "job", "job-000000000000" }, { "check" },
                      { "export", "job" }, { "version" } }
      if backend.name == "postgresql" then
        local schema = "cli_absent_" .. rand_id():lower()
        for _, a in ipairs(reads) do
          local args = { "--url", H.URL, "--schema", schema, "--domain", D }
          for _, x in ipairs(a) do args[#args + 1] = x end
          local r = run(args)
          if a[1] ~= "version" then
            assert.are.equal(1, r.code, a[1])
            assert.truthy(r.err:find("not an inventory store", 1, true), r.err)
          end
        end
        -- the schema was not created: opening it read-only still finds none
        local none, msg = inventory.open{ url = H.URL, schema = schema, readonly = true }
        assert.is_nil(none)
        assert.truthy(msg:find("not an inventory store", 1, true), msg)
      else
        local path = TMP .. "/other-app.db"
        os.remove(path)
        assert(sh("sqlite3 " .. q(path) .. " 'CREATE TABLE notes(x)'"))
        local before = read(path)
        for _, a in ipairs(reads) do
          local args = { "--db", path, "--domain", D }
          for _, x in ipairs(a) do args[#args + 1] = x end
          local r = run(args)
          if a[1] ~= "version" then
            assert.are.equal(1, r.code, a[1])
            assert.truthy(r.err:find("not an inventory store", 1, true), r.err)
          end
        end
        assert.are.equal(before, read(path))            -- not a byte changed (no WAL switch)
      end
    end)
  end)

  describe("formats", function()
    it("table: a wide character (CJK) takes two columns, a combining mark none", function()
      local D2 = D .. "-wide"
      assert(inv.job.create{ domain_id = D2, collector_id = "c-1" })
      assert(inv.job.create{ domain_id = D2, collector_id = "収集器-東京都の収集" })
      assert(inv.job.create{ domain_id = D2, collector_id = "cafe\204\129-2" })   -- e + U+0301
      local args = {}
      for _, a in ipairs(B.args) do args[#args + 1] = a end
      for _, a in ipairs{ "--domain", D2, "list", "job", "-o", "table", "-c", "collector_id,status",
                          "-s", "collector_id" } do args[#args + 1] = a end
      local r = run(args, { env = { COLUMNS = "300" } })
      no_traceback(r)
      assert.are.equal(0, r.code, r.err)
      assert.are.same({ "collector_id         status",
                        "c-1                  SUCCESS",
                        "cafe\204\129-2               SUCCESS",
                        "収集器-東京都の収集  SUCCESS",
                        "Count: 3 / 3" }, lines(r.out))
    end)
    it("table: default columns, -c, fits COLUMNS", function()
      local r = cli({ "list", "job", "-o", "table" }, { env = { COLUMNS = "300" } })
      assert.are.equal(0, r.code)
      local ls = lines(r.out)
      assert.truthy(ls[1]:find("^job_id%s+status%s+collector_id"), ls[1])
      assert.are.equal(#F.ids.job + 2, #ls)            -- header, rows, count
      assert.are.equal("Count: 5 / 5", ls[#ls])
      for _, id in ipairs(F.ids.job) do assert.truthy(r.out:find(id, 1, true)) end
      for _, width in ipairs{ 40, 60, 100 } do
        r = cli({ "list", "job_task", "-o", "table" }, { env = { COLUMNS = tostring(width) } })
        assert.are.equal(0, r.code)
        for _, l in ipairs(lines(r.out)) do
          assert.is_true(utf8_width(l) <= width, width .. ": " .. l)
        end
      end
      r = cli({ "list", "job_task", "-o", "table", "-c", "job_task_id,errors.error_code,status" },
              { env = { COLUMNS = "300" } })
      ls = lines(r.out)
      assert.truthy(ls[1]:find("^job_task_id%s+errors%.error_code%s+status$"), ls[1])
      assert.truthy(r.out:find('["ERROR_A","ERROR_B"]', 1, true), r.out)
      -- one element by its index from 0
      r = cli({ "get", "job_task", F.TA[2].job_task_id, "-o", "table", "-c", "errors.1.error_code,errors.0.message,errors.2.message" },
              { env = { COLUMNS = "300" } })
      ls = lines(r.out)
      assert.truthy(ls[1]:find("^errors%.1%.error_code%s+errors%.0%.message%s+errors%.2%.message$"), r.out)
      assert.truthy(r.out:find("\nERROR_B%s+denied, \"quoted\"%s*\n"), r.out)
      assert.is_nil(r.out:find("\27", 1, true))       -- no colour when not a terminal
      r = cli({ "get", "job", F.B.job_id, "-o", "table" }, { env = { COLUMNS = "300" } })
      assert.truthy(r.out:find(esc(F.B.job_id) .. "%s+SUCCESS%s+collector%-2%s+plugin%-gcp%s+2%s+0%s+0"), r.out)
    end)
    it("csv", function()
      local r = cli({ "list", "job_task", "-o", "csv", "-c", "job_task_id,status,errors", "-s", "created_at" })
      assert.are.equal(0, r.code)
      local ls = {}
      for l in r.out:gmatch("([^\r\n]*)\r\n") do ls[#ls + 1] = l end
      assert.are.equal("job_task_id,status,errors", ls[1])
      assert.are.equal(#F.ids.job_task + 1, #ls)
      local found
      for _, l in ipairs(ls) do
        if l:find(F.TA[2].job_task_id, 1, true) then found = l end
      end
      -- a field with quotes and commas is quoted, its quotes doubled
      assert.truthy(found:find(',FAILURE,"[{""error_code"":""ERROR_A"",""message"":""denied, \\""quoted\\""""', 1, true),
                    found)
    end)
    it("ids", function()
      local r = cli({ "list", "job", "-o", "ids" })
      assert.are.equal(table.concat(F.ids.job, "\n") .. "\n", r.out)
      r = cli({ "get", "job_task", F.TA[1].job_task_id, "-o", "ids" })
      assert.are.equal(F.TA[1].job_task_id .. "\n", r.out)
      r = cli({ "stat", "job", "-j", '{"distinct":"status"}', "-o", "ids" })
      assert.are.equal(2, r.code)
    end)
    it("yaml", function()
      local r = cli({ "get", "job_task", F.TA[2].job_task_id, "-o", "yaml" })
      assert.are.equal(0, r.code)
      assert.truthy(r.out:find("^job_task_id: " .. esc(F.TA[2].job_task_id) .. "\nstatus: FAILURE\n"), r.out)
      assert.truthy(r.out:find('\nerrors:\n%- error_code: ERROR_A\n  message: denied, "quoted"\n  additional:\n'), r.out)
      assert.truthy(r.out:find('\n    "n": 2.5\n', 1, true), r.out)   -- n is false to a YAML 1.1 reader
      assert.truthy(r.out:find("\n  message: ünïcode ✓\n", 1, true), r.out)
      assert.truthy(r.out:find('\nworkspace_id: "*"\n', 1, true), r.out)
      r = cli({ "list", "job", "-o", "yaml", "-l", "1" })
      assert.truthy(r.out:find("^results:\n%- job_id: job%-"), r.out)
      assert.truthy(r.out:find("\ntotal_count: 5\n$"), r.out)
    end)
  end)

  describe("the write side", function()
    it("create, start, add-error, finish, cancel answer like the API", function()
      local r = cli({ "create", "-p", "collector_id=collector-9", "-p", "plugin_id=plugin-x",
                      "-p", 'tasks=[{"secret_id":"s1"},{"secret_id":"s2"}]', "-o", "json" })
      assert.are.equal(0, r.code, r.err)
      local job = cjson.decode(r.out)
      assert.are.equal(assert(inv:call("job", "get", { domain_id = D, job_id = job.job_id }, true)) .. "\n", r.out)
      local tasks = assert(inv.job_task.list{ domain_id = D, job_id = job.job_id }).results
      local t1, t2 = tasks[1].job_task_id, tasks[2].job_task_id
      local function same_task(res)
        assert.are.equal(0, res.code, res.err)
        local id = cjson.decode(res.out).job_task_id
        assert.are.equal(assert(inv:call("job_task", "get", { domain_id = D, job_task_id = id }, true)) .. "\n",
                         res.out)
      end
      same_task(cli({ "start", t1, "-o", "json" }))
      same_task(cli({ "add-error", "job_task", t1, "-p", "error_code=ERROR_X", "-p", "message= spaced ",
                      "-p", "additional.count=3", "-o", "json" }))
      same_task(cli({ "finish", t1, "--status", "SUCCESS", "-p", "created_count=7", "-o", "json" }))
      r = cli({ "finish", t1, "--status", "SUCCESS", "-o", "json" })
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("ERROR_JOB_TASK_STATE_CHANGE", 1, true))
      r = cli({ "cancel", job.job_id, "-o", "json" })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal("CANCELED", cjson.decode(r.out).status)
      same_task(cli({ "start", t2, "-o", "json" }))          -- fails: its job was canceled
      assert.are.equal("FAILURE", assert(inv.job_task.get{ domain_id = D, job_task_id = t2 }).status)
      r = cli({ "delete", "job", job.job_id })
      assert.are.equal(2, r.code)                           -- not a terminal, no --yes
      r = cli({ "delete", "job", job.job_id, "--yes", "-o", "json" })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal("{}\n", r.out)
      assert.is_nil((inv.job.get{ domain_id = D, job_id = job.job_id }))
      r = cli({ "delete", "job", job.job_id, "--yes" })
      assert.are.equal(1, r.code)
    end)
    it("sweep and purge", function()
      local r = cli({ "sweep", "--timeout-hours", "100000", "-o", "json" })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal('{"jobs":0,"tasks":0}\n', r.out)
      r = cli({ "purge", "--older-than-days", "100000", "--yes", "-o", "table" })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal("jobs: 0\ntasks: 0\n", r.out)
      r = cli({ "purge" })
      assert.are.equal(2, r.code)
    end)
  end)

  describe("export and import", function()
    it("round trip: every record, field by field, hidden fields included", function()
      local files = {}
      for _, res in ipairs{ "job", "job_task", "spot_job" } do
        local r = cli({ "export", res })
        assert.are.equal(0, r.code, r.err)
        files[res] = TMP .. "/export-" .. res .. ".jsonl"
        write(files[res], r.out)
        local n = 0
        for l in r.out:gmatch("[^\n]+") do
          n = n + 1
          assert.are.equal(D, cjson.decode(l).domain_id)
        end
        if res ~= "spot_job" then assert.are.equal(#F.ids[res], n) end
      end
      -- into a fresh SQLite store, through the CLI
      local copy = TMP .. "/imported-" .. rand_id() .. ".db"
      for _, res in ipairs{ "job", "job_task", "spot_job" } do
        local r = run({ "--db", copy, "import", res, files[res], "-o", "json" })
        assert.are.equal(0, r.code, r.err)
      end
      local c = assert(inventory.open{ path = copy })
      for _, res in ipairs{ "job", "job_task", "spot_job" } do
        local a = assert(inv:export(res, { domain_id = D }))
        local b = assert(c:export(res, { domain_id = D }))
        assert.are.equal(#a.records, #b.records)
        for i = 1, #a.records do same(a.records[i], b.records[i], res .. "[" .. i .. "]") end
        assert.is_not_nil(a.records[1].created_at)
        if res == "job_task" then assert.is_not_nil(a.records[1].total_sub_tasks) end
        -- and what the API shows is the same
        for _, rec in ipairs(a.records) do
          local key = res == "job_task" and "job_task_id" or "job_id"
          same(assert(inv[res].get{ domain_id = D, [key] = rec[key] }),
               assert(c[res].get{ domain_id = D, [key] = rec[key] }), res .. " " .. rec[key])
        end
      end
      assert.is_true(assert(c:check()).ok)
      -- the same export text back out of the copy
      local r = run({ "--db", copy, "export", "job_task", "--domain", D })
      assert.are.equal(read(files.job_task), r.out)
      -- a JSON array on stdin works too; a second import of the same ids fails whole
      local arr = "[" .. read(files.job):gsub("\n$", ""):gsub("\n", ",") .. "]"
      local copy2 = TMP .. "/imported2-" .. rand_id() .. ".db"
      r = run({ "--db", copy2, "import", "job", "-", "-o", "table" }, { stdin = arr })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal("imported " .. #F.ids.job .. " job records\n", r.out)
      r = run({ "--db", copy2, "import", "job", "-" }, { stdin = arr })
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("ERROR_SAVE_UNIQUE_VALUES", 1, true), r.err)
      c:close()
    end)
    it("export takes a filter", function()
      local r = cli({ "export", "job", "--filter", "status=SUCCESS" })
      local n = 0
      for l in r.out:gmatch("[^\n]+") do
        n = n + 1
        assert.are.equal("SUCCESS", cjson.decode(l).status)
      end
      assert.are.equal(2, n)
      r = cli({ "export", "job", "-j", '{"query":{"sort":[]}}' })
      assert.are.equal(1, r.code)
    end)
  end)

  describe("check", function()
    it("ok on a store written through the API; a job whose counters disagree is named", function()
      local r = cli({ "check", "-o", "table" })
      if r.code ~= 0 then error(r.out .. r.err) end
      assert.are.equal("ok\n", r.out)
      local bad = "job-bad-" .. rand_id()
      assert(inv:import("job", { { job_id = bad, domain_id = D, status = "IN_PROGRESS", total_tasks = 1,
                                  remained_tasks = 0, created_at = "2024-05-01T00:00:00Z" } }))
      assert(inv:import("job_task", { { job_task_id = "job-task-bad-" .. rand_id(), job_id = bad, domain_id = D,
                                       status = "PENDING" } }))
      r = cli({ "check", "-o", "json" })
      assert.are.equal(1, r.code)
      local doc = cjson.decode(r.out)
      assert.is_false(doc.ok)
      assert.truthy(doc.problems[1]:find(bad, 1, true), doc.problems[1])
      assert(inv.job.delete{ domain_id = D, job_id = bad })
      assert.are.equal(0, cli({ "check" }).code)
    end)
  end)

  describe("watch", function()
    it("redraws once after another process writes, then stops on a signal", function()
      local outf, pidf = TMP .. "/watch.out", TMP .. "/watch.pid"
      local args = {}
      for _, a in ipairs(B.args) do args[#args + 1] = q(a) end
      sh("env -u LUA_PATH -u LUA_CPATH lua5.4 " .. q(BIN) .. " " .. table.concat(args, " ") .. " --domain " .. q(D)
         .. " watch job --interval 0.1 >" .. q(outf) .. " 2>&1 & echo $! >" .. q(pidf))
      local pid = assert(tonumber(read(pidf)))
      local function draws()
        local n = 0
        for _ in (read(outf) or ""):gmatch("Every 0%.1s: inventory list job") do n = n + 1 end
        return n
      end
      local function wait_for(n)
        for _ = 1, 100 do
          if draws() >= n then return true end
          sh("sleep 0.1")
        end
        return false
      end
      local ok, e = pcall(function()
        assert.is_true(wait_for(1), read(outf))
        sh("sleep 0.5")
        assert.are.equal(1, draws())                       -- nothing changed: no redraw
        local r = cli({ "create", "-p", "collector_id=collector-watch", "-o", "ids" })
        assert.are.equal(0, r.code, r.err)
        assert.is_true(wait_for(2), read(outf))
        sh("sleep 0.5")
        assert.are.equal(2, draws())
        local text = read(outf)
        local second = text:sub((select(2, text:find("Every 0%.1s")) or 0) + 1)
        assert.truthy(second:find(r.out:match("%S+"), 1, true), second)
        assert.truthy(second:find("Count: 6 / 6", 1, true), second)
      end)
      sh("kill -INT " .. pid .. " 2>/dev/null")
      local gone = false
      for _ = 1, 50 do
        if not sh("kill -0 " .. pid .. " 2>/dev/null") then gone = true; break end
        sh("sleep 0.1")
      end
      if not gone then sh("kill -KILL " .. pid .. " 2>/dev/null") end
      assert(ok, e)
      assert.is_true(gone)
      assert.is_nil((read(outf) or ""):find("traceback", 1, true))
      local job = assert(inv.job.list{ domain_id = D, collector_id = "collector-watch" }).results[1]
      assert(inv.job.delete{ domain_id = D, job_id = job.job_id })
    end)
  end)

  describe("version", function()
    it("program, schema and backend; under luajit too; from another directory", function()
      local r = cli({ "version", "-o", "table" })
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:find("^inventory " .. inventory._VERSION:gsub("%.", "%%.") .. " %(Lua 5%.4%)\n"), r.out)
      assert.truthy(r.out:find("schema " .. inventory.schema_version, 1, true), r.out)
      r = cli({ "version", "-o", "json" }, { lua = "luajit", cwd = "/" })
      assert.are.equal(0, r.code, r.err)
      local doc = cjson.decode(r.out)
      assert.truthy(doc.lua:find("^LuaJIT"))
      assert.are.equal(backend.name, doc.backend)
      assert.are.equal(inventory.schema_version, doc.schema_version)
    end)
  end)

  describe("backup", function()
    it("a copy that opens and holds the same records, taken while another process writes", function()
      H.only("sqlite", "backup is SQLite's online backup (PostgreSQL's is pg_dump)")
      local writer = TMP .. "/writer.sh"
      local pidf = TMP .. "/writer.pid"
      write(writer, "for i in 1 2 3 4 5 6 7 8 9 10; do env -u LUA_PATH -u LUA_CPATH lua5.4 " .. q(BIN)
            .. " --db " .. q(B.path) .. " --domain " .. q(D .. "-w") .. " create -p collector_id=c$i -o ids"
            .. " >/dev/null; done\n")
      sh("sh " .. q(writer) .. " & echo $! >" .. q(pidf))
      local copy = TMP .. "/backup-" .. rand_id() .. ".db"
      local r = cli({ "backup", copy, "-o", "table" })
      sh("while kill -0 " .. tonumber(read(pidf)) .. " 2>/dev/null; do sleep 0.1; done")
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:find("^backup: " .. esc(copy) .. " %(%d+ bytes%)\n$"), r.out)
      local c = assert(inventory.open{ path = copy })
      for _, res in ipairs{ "job", "job_task", "spot_job" } do
        local a = assert(inv:export(res, { domain_id = D }))
        local b = assert(c:export(res, { domain_id = D }))
        same(a, b, res)
      end
      local w = assert(c.job.list{ domain_id = D .. "-w", query = { count_only = true } }).total_count
      assert.is_true(w >= 0 and w <= 10)
      assert.is_true(assert(c:check()).ok)
      c:close()
      r = cli({ "backup", copy })
      assert.are.equal(1, r.code)
      assert.truthy(r.err:find("exists", 1, true))
      r = cli({ "backup", copy, "--overwrite", "-o", "json" })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal(copy, cjson.decode(r.out).path)
      r = cli({ "backup", B.path, "--overwrite" })
      assert.are.equal(1, r.code)
    end)
  end)
  describe("what a new user's probe found", function()
    local function usage_error(r, pattern)
      assert.are.equal(2, r.code, r.err .. r.out)
      assert.are.equal("", r.out)
      assert.truthy(r.err:find("^usage: inventory "), r.err)
      if pattern then assert.truthy(r.err:find(pattern, 1, true), r.err) end
    end
    local function count(resource, req)
      req = req or {}
      req.domain_id = D
      req.query = { count_only = true }
      return assert(inv[resource].list(req)).total_count
    end

    it("a failed write of the output is exit 1 and 'cannot write output' (lua5.4 and luajit)", function()
      for _, lua in ipairs{ "lua5.4", "luajit" } do
        for _, args in ipairs{ { "export", "job" }, { "list", "job", "-o", "json" }, { "list", "job", "-o", "table" },
                               { "get", "job_task", F.TA[2].job_task_id, "-o", "yaml" },
                               { "stat", "job", "-j", '{"distinct":"status"}', "-o", "csv" },
                               { "check", "-o", "table" }, { "version", "-o", "json" } } do
          local r = cli(args, { lua = lua, stdout = "/dev/full" })
          local what = lua .. " " .. table.concat(args, " ")
          assert.are.equal(1, r.code, what .. ": " .. r.err)
          assert.truthy(r.err:find("^inventory: cannot write output: [^\n]+\n$"), what .. ": " .. r.err)
        end
        -- the same commands to a file: exit 0
        assert.are.equal(0, cli({ "export", "job" }, { lua = lua }).code)
      end
    end)

    it("a format the command cannot print is refused before anything is done", function()
      local sweepable = F.A.job_id                    -- IN_PROGRESS: sweep --timeout-hours 0 would fail it
      local jobs, tasks = count("job"), count("job_task")
      usage_error(cli({ "sweep", "--timeout-hours", "0", "-o", "ids" }), "-o ids: sweep prints table, json, yaml or csv")
      assert.are.equal("IN_PROGRESS", assert(inv.job.get{ domain_id = D, job_id = sweepable }).status)
      usage_error(cli({ "purge", "--older-than-days", "0", "--yes", "-o", "ids" }), "-o ids: purge prints")
      assert.are.equal(jobs, count("job"))
      assert.are.equal(tasks, count("job_task"))
      usage_error(cli({ "delete", "job", F.B.job_id, "--yes", "-o", "csv" }), "-o csv: delete prints table, json or ids")
      assert.is_not_nil((inv.job.get{ domain_id = D, job_id = F.B.job_id }))
      -- a create that cannot be printed creates nothing
      usage_error(cli({ "create", "-p", "collector_id=collector-refused", "-o", "json", "-c", "job_id" }), "-c does not apply")
      usage_error(cli({ "create", "-p", "collector_id=collector-refused", "-o", "xml" }), "-o xml: create prints")
      assert.are.equal(0, count("job", { collector_id = "collector-refused" }))
      -- -o ids with an only that leaves the id out: refused before the call
      usage_error(cli({ "list", "job", "-p", "query.only=status", "-o", "ids" }), "only leaves out job_id")
    end)

    it("every command x every format works or is refused up front", function()
      local formats = { "table", "json", "yaml", "csv", "ids" }
      local sq = cjson.encode{ distinct = "status" }
      local aq = cjson.encode{ group_by = { "collector_id" }, fields = { n = { operator = "count" } } }
      local exportf = TMP .. "/matrix-export.jsonl"
      write(exportf, assert(inv:export("job", { domain_id = D }, true)))
      local backup_src = TMP .. "/matrix-" .. rand_id() .. ".db"     -- SQLite on both backends: backup is SQLite's
      assert.are.equal(0, run({ "--db", backup_src, "import", "job", exportf }).code)
      local created = {}
      local function task()                 -- a fresh PENDING task of a fresh job
        local j = assert(inv.job.create{ domain_id = D, collector_id = "collector-matrix", tasks = { { secret_id = "m" } } })
        created[#created + 1] = j.job_id
        return assert(inv.job_task.list{ domain_id = D, job_id = j.job_id }).results[1].job_task_id, j.job_id
      end
      -- command -> formats it prints, and how to run it once
      local matrix = {
        { "get", "table json yaml csv ids", function() return cli({ "get", "job", F.A.job_id }) end },
        { "list", "table json yaml csv ids", function() return cli({ "list", "job" }) end },
        { "stat", "table json yaml csv", function() return cli({ "stat", "job", "-j", sq }) end },
        { "analyze", "table json yaml csv", function() return cli({ "analyze", "job", "-j", aq }) end },
        { "delete", "table json ids", function() local _, j = task(); return cli({ "delete", "job", j, "--yes" }) end },
        { "create", "table json yaml csv ids", function() return cli({ "create", "-p", "collector_id=collector-matrix" }) end },
        { "start", "table json yaml csv ids", function() return cli({ "start", (task()) }) end },
        { "finish", "table json yaml csv ids", function() return cli({ "finish", (task()), "--status", "SUCCESS" }) end },
        { "add-error", "table json yaml csv ids", function()
          return cli({ "add-error", (task()), "-p", "error_code=E", "-p", "message=m" }) end },
        { "cancel", "table json yaml csv ids", function() local _, j = task(); return cli({ "cancel", j }) end },
        { "import", "table json yaml csv", function()
          return run({ "--db", TMP .. "/matrix-import-" .. rand_id() .. ".db", "import", "job", exportf }) end },
        { "export", "", function() return cli({ "export", "job" }) end },
        { "sweep", "table json yaml csv", function() return cli({ "sweep", "--timeout-hours", "100000" }) end },
        { "purge", "table json yaml csv", function() return cli({ "purge", "--older-than-days", "100000", "--yes" }) end },
        { "check", "table json yaml csv", function() return cli({ "check" }) end },
        { "backup", "table json yaml csv", function()
          return run({ "--db", backup_src, "backup", TMP .. "/matrix-copy.db", "--overwrite" }) end },
        { "version", "table json yaml csv", function() return cli({ "version" }) end },
      }
      for _, m in ipairs(matrix) do
        local name, accepts, go = m[1], {}, m[3]
        for f in m[2]:gmatch("%S+") do accepts[f] = true end
        for _, f in ipairs(formats) do
          -- the runner appends -o FORMAT to the command's own arguments
          local real_cli, real_run = cli, run
          local function with_o(args, o)
            args[#args + 1] = "-o"; args[#args + 1] = f
            return args, o
          end
          cli = function(args, o) return real_cli(with_o(args, o)) end
          run = function(args, o) return real_run(with_o(args, o)) end
          local ok, r = pcall(go)
          cli, run = real_cli, real_run
          assert(ok, r)
          no_traceback(r)
          local what = name .. " -o " .. f .. ": "
          if accepts[f] then
            assert.are.equal(0, r.code, what .. r.err)
            assert.are.equal("", r.err, what .. r.err)
            assert.truthy(r.out:find("%S"), what .. "nothing printed")
            if f == "json" then assert.is_not_nil(cjson.decode(r.out), what .. r.out) end
            if f == "csv" then assert.truthy(r.out:find("^[^\r\n]+\r\n"), what .. r.out) end
          else
            assert.are.equal(2, r.code, what .. r.err)
            assert.are.equal("", r.out, what .. r.out)
            local want = name == "export" and "unknown option -o" or ("-o " .. f .. ": " .. name .. " prints")
            assert.truthy(r.err:find(want, 1, true), what .. r.err)
          end
        end
      end
      -- every command of the CLI is in the matrix, but watch (it runs until stopped; its
      -- formats are list's, and a refused one stops it before it starts)
      usage_error(cli({ "watch", "job", "-o", "xml" }), "-o xml: watch prints table, json, yaml, csv or ids")
      usage_error(cli({ "watch", "job", "-o", "json", "-c", "job_id" }), "-c does not apply")
      local help = run({ "--help" }).out
      local seen = {}
      for _, m in ipairs(matrix) do seen[m[1]] = true end
      for name in help:gmatch("\n  ([a-z-]+) ") do
        if name ~= "watch" and not name:find("^%-") then assert.is_true(seen[name] == true, name) end
      end
      for _, j in ipairs(created) do inv.job.delete{ domain_id = D, job_id = j } end
      for _, r in ipairs(assert(inv.job.list{ domain_id = D, collector_id = "collector-matrix" }).results) do
        assert(inv.job.delete{ domain_id = D, job_id = r.job_id })
      end
    end)

    it("stat distinct in table and csv: the values, under the key's name", function()
      local want = assert(inv.job.stat{ domain_id = D, query = { distinct = "status" } }).results
      assert.is_true(#want >= 3)
      local r = cli({ "stat", "job", "-j", '{"distinct":"status"}', "-o", "table" })
      assert.are.equal(0, r.code, r.err)
      local ls = lines(r.out)
      assert.are.equal("status", ls[1])
      for i, v in ipairs(want) do assert.are.equal(v, ls[i + 1]) end
      assert.are.equal("Count: " .. #want .. " / " .. #want, ls[#want + 2])
      r = cli({ "stat", "job", "-j", '{"distinct":"status"}', "-o", "csv" })
      assert.are.equal("status\r\n" .. table.concat(want, "\r\n") .. "\r\n", r.out)
    end)

    it("--workspace: applied where it means something, refused elsewhere", function()
      usage_error(cli({ "list", "spot_job", "--workspace", "ws-1" }), "spot_job records have no workspace")
      usage_error(cli({ "--workspace", "ws-1", "get", "spot-automation.Job", "job-x" }), "spot_job records have no workspace")
      usage_error(cli({ "export", "spot_job", "--workspace", "ws-1" }), "spot_job records have no workspace")
      for _, args in ipairs{ { "sweep" }, { "purge", "--yes" }, { "check" }, { "version" },
                             { "start", F.TA[3].job_task_id }, { "cancel", F.A.job_id } } do
        args[#args + 1] = "--workspace"; args[#args + 1] = "ws-1"
        usage_error(cli(args), "--workspace does not apply to " .. args[1])
      end
      assert.are.equal("PENDING", assert(inv.job_task.get{ domain_id = D, job_task_id = F.TA[3].job_task_id }).status)
      -- export: the workspace's records and the domain-level ones, as list shows them
      for _, res in ipairs{ "job", "job_task" } do
        local r = cli({ "export", res, "--workspace", "ws-1" })
        assert.are.equal(0, r.code, r.err)
        local n, ws1 = 0, 0
        for l in r.out:gmatch("[^\n]+") do
          local rec = cjson.decode(l)
          n = n + 1
          assert.truthy(rec.workspace_id == "ws-1" or rec.workspace_id == "*", l)
          if rec.workspace_id == "ws-1" then ws1 = ws1 + 1 end
        end
        assert.are.equal(count(res, { workspace_id = "ws-1" }), n)
        if res == "job" then assert.is_true(ws1 >= 1) end
        r = cli({ "export", res, "--workspace", "ws-none" })
        local m = 0
        for l in r.out:gmatch("[^\n]+") do
          m = m + 1
          assert.are.equal("*", cjson.decode(l).workspace_id)
        end
        assert.are.equal(count(res, { workspace_id = "ws-none" }), m)
        assert.is_true(m >= 1)
      end
    end)

    it("COMMAND --help lists only the options the command takes", function()
      local api = { "-p KEY=VALUE", "-j JSON", "--filter EXPR", "-s [-]KEY", "-l N", "-c COLS" }
      local takes = {
        check = {}, version = {}, backup = {}, delete = { "-p KEY=VALUE", "-j JSON" },
        start = { "-p KEY=VALUE", "-j JSON", "-c COLS" }, sweep = {}, import = {},
        list = api, export = { "-j JSON", "--filter EXPR" },
      }
      for name, want in pairs(takes) do
        local r = cli({ name, "--help" })
        assert.are.equal(0, r.code, r.err)
        local set = {}
        for _, x in ipairs(want) do set[x] = true end
        for _, x in ipairs(api) do
          if set[x] then
            assert.truthy(r.out:find("\n  " .. x, 1, true), name .. " should list " .. x .. "\n" .. r.out)
          else
            assert.is_nil(r.out:find("\n  " .. x, 1, true), name .. " lists " .. x .. "\n" .. r.out)
          end
        end
        -- -o lists exactly what the command prints
        if name == "export" then
          assert.is_nil(r.out:find("-o FORMAT", 1, true))
        else
          assert.truthy(r.out:find("\n  -o FORMAT ", 1, true), name)
        end
      end
      assert.truthy(cli({ "delete", "--help" }).out:find("-o FORMAT         table, json or ids\n", 1, true))
      assert.truthy(cli({ "check", "--help" }).out:find("-o FORMAT         table, json, yaml or csv\n", 1, true))
    end)

    it("messages say what is allowed", function()
      usage_error(cli({ "list", "job", "-l", "-1" }), "-l -1: a whole number of 0 or more is expected")
      usage_error(cli({ "list", "job", "--start", "-1" }), "--start -1: a whole number of 0 or more is expected")
      usage_error(cli({ "list", "job", "-l", "2.5" }), "a whole number of 0 or more")
      local r = cli({ "stat", "job", "-j", '{"distinct":"status"}', "-o", "ids" })
      usage_error(r, "-o ids: stat prints table, json, yaml or csv")
      assert.is_nil(r.err:find("minimal", 1, true), r.err)
      usage_error(cli({ "sweep", "--timeout-hours", "-3" }), "a number of 0 or more")
      usage_error(cli({ "backup", TMP .. "/never.db", "-o", "ids" }), "-o ids: backup prints")
      assert.is_nil(read(TMP .. "/never.db"))
      usage_error(cli({ "version", "-o", "ids" }), "-o ids: version prints")
      usage_error(cli({ "delete", "job", F.B.job_id, "--yes", "-o", "yaml" }), "-o yaml: delete prints")
    end)

    it("yaml quotes what a YAML reader would not read as a string", function()
      local tricky = { "2024-01-02", "2022-01-02T03:04:05.678Z", "yes", "No", "ON", "off", "y", "N", "~",
                       "Null", "TRUE", "1_000", "0x1f", "0o17", "012", "1:30", ".5", "+1", ".inf", ".NaN",
                       "1e3", "=", "<<" }
      local tasks = {}
      for i, v in ipairs(tricky) do tasks[i] = { secret_id = "yaml-" .. i, project_id = v } end
      local j = assert(inv.job.create{ domain_id = D, collector_id = "2024-01-02", plugin_id = "yes", tasks = tasks })
      local r = cli({ "list", "job_task", "-p", "job_id=" .. j.job_id, "-l", "1000", "-o", "yaml" })
      assert.are.equal(0, r.code, r.err)
      local seen = {}
      for _, l in ipairs(lines(r.out)) do
        local k, v = l:match("^[%s%-]*([%w_]+): (.+)$")
        if k == "project_id" then
          assert.are.equal('"', v:sub(1, 1), l)
          seen[cjson.decode(v)] = true
        end
        if k == "created_at" or k == "started_at" or k == "updated_at" then
          assert.truthy(v:find('^"%d%d%d%d%-%d%d%-%d%dT[%d:.]+Z"$'), l)
        end
      end
      for _, v in ipairs(tricky) do assert.is_true(seen[v] == true, v) end
      r = cli({ "get", "job", j.job_id, "-o", "yaml" })
      assert.truthy(r.out:find('\ncollector_id: "2024-01-02"\n', 1, true), r.out)
      assert.truthy(r.out:find('\nplugin_id: "yes"\n', 1, true), r.out)
      assert.truthy(r.out:find('\nstatus: IN_PROGRESS\n', 1, true), r.out)   -- plain words stay plain
      assert(inv.job.delete{ domain_id = D, job_id = j.job_id })
    end)

    it("-c: table without -o, projected yaml and csv, refused with json", function()
      local r = cli({ "list", "job", "-c", "job_id,status" }, { env = { COLUMNS = "300" } })
      assert.are.equal(0, r.code, r.err)
      local ls = lines(r.out)
      assert.truthy(ls[1]:find("^job_id%s+status$"), ls[1])
      assert.are.equal(#F.ids.job + 2, #ls)
      r = cli({ "list", "job", "-c", "job_id,status", "-o", "json" })
      usage_error(r, "-c does not apply to -o json")
      assert.truthy(r.err:find("-p only=", 1, true), r.err)
      r = cli({ "get", "job_task", F.TA[2].job_task_id, "-c", "status,errors.0.error_code,job_task_id,nope", "-o", "yaml" })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal("status: FAILURE\nerrors.0.error_code: ERROR_A\njob_task_id: " .. F.TA[2].job_task_id
                       .. "\nnope: null\n", r.out)
      r = cli({ "list", "job", "-c", "status,job_id", "-o", "yaml", "-s", "created_at" })
      local want = { "results:" }
      for _, id in ipairs(F.ids.job) do
        local st = assert(inv.job.get{ domain_id = D, job_id = id }).status
        table.insert(want, 2, "- status: " .. st .. "\n  job_id: " .. id)
      end
      local got = {}
      for rec in r.out:gmatch("%- status: [^\n]+\n  job_id: [^\n]+") do got[#got + 1] = rec end
      assert.are.equal(#F.ids.job, #got)
      assert.truthy(r.out:find("\ntotal_count: " .. #F.ids.job .. "\n$"), r.out)
      assert.is_nil(r.out:find("collector_id", 1, true), r.out)
      usage_error(cli({ "list", "job", "-c", "job_id", "-o", "ids" }), "-c does not apply to -o ids")
      r = cli({ "list", "job", "-c", "job_id,status", "-o", "csv", "-s", "created_at" })
      assert.truthy(r.out:find("^job_id,status\r\n"), r.out)
    end)

    it("table: only= sets the default columns; ids are never cut", function()
      local r = cli({ "list", "job_task", "-p", "query.only=job_task_id", "-p", "query.only=errors", "-o", "table" },
                    { env = { COLUMNS = "300" } })
      assert.are.equal(0, r.code, r.err)
      local ls = lines(r.out)
      assert.truthy(ls[1]:find("^job_task_id%s+errors$"), ls[1])
      assert.truthy(r.out:find('"error_code":"ERROR_A"', 1, true), r.out)
      r = cli({ "get", "job_task", F.TA[2].job_task_id, "-p", "only=errors", "-o", "table" }, { env = { COLUMNS = "300" } })
      assert.truthy(r.out:find("^errors\n%[{\"error_code\":\"ERROR_A\""), r.out)
      for _, width in ipairs{ 20, 30, 40 } do
        for _, res in ipairs{ "job", "job_task" } do
          r = cli({ "list", res, "-o", "table" }, { env = { COLUMNS = tostring(width) } })
          assert.are.equal(0, r.code, r.err)
          for _, id in ipairs(F.ids[res]) do
            assert.truthy(r.out:find("\n" .. esc(id) .. "%f[%s]"), width .. ": " .. id .. " cut\n" .. r.out)
          end
          assert.is_nil(r.out:find("job%-[%x-]*~"), r.out)
        end
      end
      -- a chosen id column, not first, is kept whole too
      r = cli({ "list", "job_task", "-c", "status,job_id,job_task_id" }, { env = { COLUMNS = "30" } })
      for _, id in ipairs(F.ids.job_task) do
        assert.is_nil(r.out:find(esc(id:sub(1, 12)) .. "[%x]*~"), r.out)
      end
    end)
  end)
end)
end

-- the scratch directory goes when the file is done
teardown(function() os.execute("rm -rf " .. q(TMP)) end)
