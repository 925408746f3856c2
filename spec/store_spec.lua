-- spec/store_spec.lua: the store as a Lua object: open and close, the
-- schema and its file, how errors surface, what requests may hold, and the
-- query plans of the hot queries.
local inventory = require "inventory"
local cjson = require "cjson"
local H = require "spec.helper"

local D = "domain-1"

local tmpdb, rmdb = H.tmpdb, H.rmdb
local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- everything the store holds in domain D, as REST text
local function snapshot(inv)
  return assert(inv:call("job", "list", { domain_id = D }, true)) .. "\n"
      .. assert(inv:call("job_task", "list", { domain_id = D }, true))
end

local fails, raises = H.fails, H.raises

describe("store", function()
  describe("open and close", function()
    it("opens a store; close is idempotent and returns true", function()
      local inv = H.open()
      assert.is_true(inv:close())
      assert.is_true(inv:close())
    end)

    it("opens :memory: and a file, which inv.path names", function()
      H.only("sqlite", "a SQLite file")
      local inv = assert(inventory.open{ path = ":memory:" })
      assert.is_true(inv:close())
      local path = tmpdb()
      inv = assert(inventory.open{ path = path })
      assert.are.equal(path, inv.path)
      assert.is_true(exists(path))
      assert.is_true(inv:close())
      assert.is_true(inv:close())
      rmdb(path)
    end)

    it("refuses an option it does not know, naming it and listing the known ones", function()
      local dir = tmpdb()
      assert(os.execute("mkdir " .. dir))
      local cwd_db = "inventory.db"
      local had = exists(cwd_db)
      for _, opts in ipairs{ { pth = dir .. "/x.db" }, { path = dir .. "/x.db", busy_timeot = 5 },
                             { [1] = "x.db" } } do
        local inv, msg, code, class = inventory.open(opts)
        assert.is_nil(inv)
        assert.are.equal("ERROR_INVALID_PARAMETER", code)
        assert.are.equal("client", class)
        local key = next(opts) == "path" and "busy_timeot" or tostring(next(opts))
        if opts.busy_timeot then key = "busy_timeot" end
        assert.truthy(msg:find("key = " .. key, 1, true), msg)
        assert.truthy(msg:find("path, url, schema, busy_timeout, page_limit, readonly, "
                               .. "statement_timeout, stat_timeout", 1, true), msg)
      end
      assert.is_false(exists(dir .. "/x.db"))              -- nothing was opened
      assert.are.equal(had, exists(cwd_db))                -- no fallback to ./inventory.db
      os.remove(dir)
    end)

    it("refuses url together with path; a url that cannot be reached is unavailable", function()
      local inv, msg, code, class = inventory.open{ url = "postgresql://u@localhost/db", path = ":memory:" }
      assert.is_nil(inv)
      assert.are.same({ "ERROR_INVALID_PARAMETER", "client" }, { code, class })
      assert.truthy(msg:find("key = url", 1, true) and msg:find("not both", 1, true), msg)
      inv, msg, code, class = inventory.open{ url = "postgresql://u:secret@127.0.0.1:1/db?connect_timeout=2" }
      assert.is_nil(inv)
      assert.are.same({ "ERROR_DB_QUERY", "unavailable" }, { code, class })
      assert.truthy(msg:find("cannot open postgresql://u:***@127.0.0.1:1/db", 1, true), msg)
      assert.falsy(msg:find("secret", 1, true), msg)             -- no password in a message
      inv, msg, code, class = inventory.open{ url = "postgresql://u@127.0.0.1:1/db", schema = "Bad-Name" }
      assert.is_nil(inv)
      assert.are.same({ "ERROR_INVALID_PARAMETER", "client" }, { code, class })
      assert.truthy(msg:find("key = schema", 1, true), msg)
      inv, msg, code, class = inventory.open{ path = ":memory:", schema = "inventory" }
      assert.is_nil(inv)
      assert.are.same({ "ERROR_INVALID_PARAMETER", "client" }, { code, class })
      assert.truthy(msg:find("key = schema", 1, true), msg)
    end)

    it("refuses an option of the wrong type or out of its range, naming it", function()
      for _, case in ipairs{ { busy_timeout = "x" }, { page_limit = 2.5 }, { stat_timeout = 1e300 },
                             { busy_timeout = -5 }, { journal_seconds = -1 }, { statement_timeout = -1 },
                             { page_limit = 0 }, { page_limit = 1e12 }, { readonly = "no" }, { path = 5 },
                             { statement_timeout = 0 / 0 } } do
        local k = next(case)
        local o = { path = ":memory:" }
        for kk, v in pairs(case) do o[kk] = v end
        local inv, msg, code, class = inventory.open(o)
        assert.is_nil(inv, k)
        assert.are.same({ "ERROR_INVALID_PARAMETER", "client" }, { code, class })
        assert.truthy(msg:find("(key = " .. k .. ", reason = ", 1, true), msg)
      end
    end)

    it("takes every known option", function()
      local inv = H.open{ busy_timeout = 100, page_limit = 10, readonly = false,
                          statement_timeout = 1000, stat_timeout = 5000, journal_seconds = 60 }
      assert(inv.job.list{ domain_id = D })
      inv:close()
    end)

    it("raises for inv.job:get{...} (a colon): call it with a dot", function()
      local inv = H.open()
      raises("call inv%.job%.get{%.%.%.} with a dot", function()
        return inv.job:get{ job_id = "job-1", domain_id = D }
      end)
      raises("call inv%.job_task%.list{%.%.%.} with a dot", function() return inv.job_task:list{ domain_id = D } end)
      raises("call inventory%.job%.stat{%.%.%.} with a dot", function()
        return inventory.job:stat{ domain_id = D }
      end)
      -- the slip is told where it was made
      local err = raises("with a dot", function()
        local r = inv.spot_job:get{}                    -- not a tail call: its line is reported
        return r
      end)
      assert.truthy(tostring(err):find("store_spec.lua", 1, true), err)
      inv:close()
    end)

    it("raises on use after close", function()
      local inv = H.open()
      inv:close()
      raises("attempt to use a closed store", inv.job.list, { domain_id = D })
      raises("attempt to use a closed store", inv.job.create, { domain_id = D, collector_id = "c" })
      raises("attempt to use a closed store", inv.call, inv, "job", "list", { domain_id = D })
      raises("attempt to use a closed store", inv.sweep, inv, {})
      raises("attempt to use a closed store", inv.schema_version, inv)
      raises("attempt to use a closed store", inv.set_now, inv, 0)
    end)

    it("raises when a request is not a table", function()
      local inv = H.open()
      raises("table expected, got string", inv.job.get, "job-1")
      raises("table expected, got nil", inv.job_task.list)
      raises("table expected, got number", inv.job.create, 5)
      raises("table expected, got string", inv.call, inv, "job", "list", "x")
      raises("table or JSON text expected, got number", inv.import, inv, "job", 5)
      -- a string is JSON text (an array or JSON lines): not JSON is the API's error
      local ok, msg, code = inv:import("job", "x")
      assert.is_nil(ok)
      assert.are.equal("ERROR_INVALID_PARAMETER", code)
      assert.matches("line 1", msg)
      raises("job, job_task or spot_job expected", inv.import, inv, "collector", {})
      raises("table expected, got string", inventory.open, "inventory.db")
      inv:close()
    end)

    it("closes the connection when collected (__gc)", function()
      H.only("sqlite", "the WAL file of a SQLite connection")
      local path = tmpdb()
      do
        local inv = assert(inventory.open{ path = path })
        assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { {} } })
        assert.is_true(exists(path .. "-wal"))         -- WAL open while connected
      end
      collectgarbage(); collectgarbage()
      -- the last connection checkpoints and removes the WAL file on close
      assert.is_false(exists(path .. "-wal"))
      local inv = assert(inventory.open{ path = path })
      assert.are.equal(1, assert(inv.job.list{ domain_id = D }).total_count)
      inv:close()
      rmdb(path)
    end)

    it("reopening a store keeps its data", function()
      local first = H.open{ shared = true }
      local inv = first
      inv:set_now("2024-03-01T12:00:00.000Z")
      local j = assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { { secret_id = "s" } } })
      assert(inv:import("spot_job", { { job_id = "job-5b0700000001", domain_id = D } }))
      inv:close()
      inv = assert(H.reopen(first))
      assert.are.equal(4, inv:schema_version())
      local again = assert(inv.job.get{ job_id = j.job_id, domain_id = D })
      assert.are.same(j, again)
      assert.are.equal(1, assert(inv.job_task.list{ domain_id = D, job_id = j.job_id }).total_count)
      assert.are.equal(1, assert(inv.spot_job.list{ domain_id = D }).total_count)
      inv:close()
      H.drop(first)
    end)

    it("a stored document that is not JSON fails the call cleanly, and the store goes on", function()
      local rest = require "inventory.rest"
      local inv = H.open{ shared = true }                  -- (SQLite: a file the sqlite3 tool writes)
      local log = {}
      local h = rest.new{ store = inv, log = function(m, level) log[#log + 1] = level .. ": " .. m end,
                          resolver = rest.static_resolver{ tk = { domain_id = D, role = "DOMAIN_ADMIN" } } }
      assert(inv:import("job_task", { { job_task_id = "job-task-bad1", job_id = "job-bad001", domain_id = D,
        errors = { { error_code = "E", message = "m", additional = { x = 1 } } },
        created_at = "2024-01-01T00:00:00.000Z" },
        { job_task_id = "job-task-good", job_id = "job-bad001", domain_id = D,
        errors = { { error_code = "G", message = "fine" } }, created_at = "2024-01-02T00:00:00.000Z" } }))
      local function corrupt(text)
        local sql = "UPDATE job_task SET errors = '" .. text .. "' WHERE job_task_id = 'job-task-bad1'"
        if H.BACKEND == "sqlite" then
          local pipe = assert(io.popen("sqlite3 -bail " .. H.where(inv).path, "w"))
          assert(pipe:write(sql, ";\n"))
          pipe:close()
          local rd = assert(io.popen("sqlite3 " .. H.where(inv).path
                                     .. " \"SELECT errors FROM job_task WHERE job_task_id = 'job-task-bad1'\""))
          assert.are.equal(text .. "\n", rd:read("*a"))          -- the write is there
          rd:close()
        else
          H.psql(inv, sql)
        end
      end
      local MSG = "Database query failed. (reason = the stored errors is not valid JSON)"
      for _, text in ipairs{ '[{"error_code":"E","message":', 'nope', '[{"a":1}] x', '[1,2,', '"open' } do
        corrupt(text)
        for _, call in ipairs{
          function() return inv.job_task.get{ domain_id = D, job_task_id = "job-task-bad1" } end,
          function() return inv.job_task.list{ domain_id = D } end,
          function() return inv.job_task.list{ domain_id = D, query = { only = { "errors.error_code" } } } end,
          function() return inv:call("job_task", "list", { domain_id = D }, true) end,
          function() return inv:call("job_task", "get", { domain_id = D, job_task_id = "job-task-bad1" }, true) end,
          function()
            local dv, own, r, msg, code, class = inv:cached_call(nil, nil, "job_task", "list", { domain_id = D })
            assert.is_nil(dv); assert.is_nil(own)
            return r, msg, code, class
          end,
        } do
          local r, msg, code, class = call()
          assert.is_nil(r)                                   -- no half-built result
          assert.are.equal("ERROR_DB_QUERY", code)
          assert.are.equal("server", class)
          assert.are.equal(MSG, msg)
        end
        -- over REST: a 500 with a JSON body, never the foreign text in a response
        local status, body = h:handle("POST", "/inventory/v1/job-task/list", "{}", { authorization = "Bearer tk" })
        assert.are.equal(500, status)
        assert.are.equal("ERROR_DB_QUERY", cjson.decode(body).error.code)
        assert.is_nil(body:find(text, 1, true))
        assert.matches("the stored errors is not valid JSON", log[#log], 1, true)
        -- the rest of the record, the other record, and the next call, as usual
        local t = assert(inv.job_task.get{ domain_id = D, job_task_id = "job-task-bad1", only = { "status" } })
        assert.are.same({ status = "PENDING" }, t)
        local g = assert(inv.job_task.get{ domain_id = D, job_task_id = "job-task-good" })
        assert.are.equal("G", g.errors[1].error_code)
        local j = cjson.decode((assert(inv:call("job_task", "get", { domain_id = D, job_task_id = "job-task-good" }, true))))
        assert.are.equal("fine", j.errors[1].message)
      end
      H.drop(inv)
    end)

    it("a file is in WAL mode", function()
      H.only("sqlite", "the SQLite file header")
      local path = tmpdb()
      local inv = assert(inventory.open{ path = path })
      inv:close()
      local f = assert(io.open(path, "rb"))
      local header = f:read(100)
      f:close()
      assert.are.equal("SQLite format 3\0", header:sub(1, 16))
      -- file format read/write versions: 2 = WAL
      assert.are.same({ 2, 2 }, { header:byte(19), header:byte(20) })
      rmdb(path)
    end)

    it("checkpoint moves the write-ahead log into the file (SQLite); PostgreSQL has nothing to do", function()
      local inv = H.open{ shared = true }          -- SQLite: a file (":memory:" has no log)
      assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { { secret_id = "s" } } })
      local r = assert(inv:checkpoint())
      if H.PG then
        assert.are.same({ log_frames = 0, checkpointed = 0 }, r)
      else
        assert.is_true(r.log_frames > 0)
        assert.are.equal(r.log_frames, r.checkpointed)
        -- the log is reused from its start: the next write's frames, all moved
        assert(inv.job.create{ domain_id = D, collector_id = "c2" })
        local again = assert(inv:checkpoint())
        assert.is_true(again.log_frames > 0 and again.log_frames <= r.log_frames)
        assert.are.equal(again.log_frames, again.checkpointed)
      end
      inv:close()
      H.drop(inv)
    end)

    it("schema version is 4", function()
      local inv = H.open()
      assert.are.equal(4, inv:schema_version())
      inv:close()
    end)

    it("a newer file is refused", function()
      H.only("sqlite", "SQLite's user_version in the file header")
      local path = tmpdb()
      assert(inventory.open{ path = path }):close()
      local f = assert(io.open(path, "r+b"))
      f:seek("set", 60)                                -- PRAGMA user_version, big-endian
      f:write("\0\0\0\99")
      f:close()
      local ok, msg, code = inventory.open{ path = path }
      assert.is_nil(ok)
      assert.matches("newer than this library", msg)
      assert.is_string(code)
      rmdb(path)
    end)

    it("a newer schema is refused", function()
      H.only("postgresql", "the schema_version table of a PostgreSQL schema")
      local inv = H.open{ shared = true }
      H.psql(inv, "UPDATE schema_version SET version = 99")
      local ok, msg, code = H.reopen(inv)
      assert.is_nil(ok)
      assert.matches("newer than this library", msg)
      assert.are.equal("ERROR_DB_QUERY", code)
      inv:close()
    end)

    it("a schema of version 2 migrates (the indexes of schema 3, the data kept)", function()
      H.only("postgresql", "the indexes of a PostgreSQL schema (SQLite's: test_store.c, migrateV2)")
      local inv = H.open{ shared = true }
      inv:set_now("2024-03-01T12:00:00.000Z")
      local j = assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { { secret_id = "s" } } })
      inv:close()
      -- the indexes of version 2, as its migration made them (runIndex: ", id" after domain-led ones;
      -- now after those that end with the list order only)
      H.psql(inv, "DROP INDEX job_domain_status, job_status_created, job_task_domain_status; "
        .. "CREATE INDEX job_in_progress ON job(created_at) WHERE status = 'IN_PROGRESS'; "
        .. "CREATE INDEX job_task_domain_collector_status ON job_task(domain_id, collector_id, status, id); "
        .. "CREATE INDEX job_task_job ON job_task(job_id); "
        .. "CREATE INDEX job_task_created ON job_task(created_at); "
        .. "UPDATE schema_version SET version = 2")
      local again = assert(H.reopen(inv))
      assert.are.equal(4, again:schema_version())
      assert.are.equal("job_created,job_domain_collector_created,job_domain_collector_status,"
        .. "job_domain_created,job_domain_id_job_id_key,job_domain_status,job_domain_workspace,job_pkey,"
        .. "job_status_created,job_task_domain_created,job_task_domain_id_job_task_id_key,"
        .. "job_task_domain_job,job_task_domain_status,job_task_domain_workspace_project,job_task_pkey",
        (H.psql(again, "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes "
          .. "WHERE schemaname = current_schema() AND tablename IN ('job', 'job_task')"):gsub("%s+$", "")))
      assert.are.equal("CREATE INDEX job_task_domain_status ON " .. H.where(inv).schema
        .. ".job_task USING btree (domain_id, status)",
        (H.psql(again, "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
          .. "AND indexname = 'job_task_domain_status'"):gsub("%s+$", "")))
      local t = assert(again.job_task.list{ domain_id = D, job_id = j.job_id }).results[1]
      assert(again.job_task.finish{ job_task_id = t.job_task_id, domain_id = D, status = "SUCCESS" })
      assert.are.equal("SUCCESS", assert(again.job.get{ job_id = j.job_id, domain_id = D }).status)
      local p = assert(again:purge{ older_than_days = 0 })
      assert.are.same({ jobs = 1, tasks = 1 }, p)
      again:close()
      H.drop(inv)
    end)

    it("a schema of version 3 migrates to 4 (journal rows take their seqs; the stamp for the others)", function()
      H.only("postgresql", "the change journal's commit stamp on PostgreSQL")
      local inv = H.open{ shared = true }
      inv:set_now("2024-03-01T12:00:00.000Z")
      local j = assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { { secret_id = "s" } } })
      local t = assert(inv.job_task.list{ domain_id = D, job_id = j.job_id }).results[1]
      inv:close()
      -- version 3's trigger (every journal row queued for the commit stamp), and a write of
      -- version 3: rows without a seq, numbered at its commit
      H.psql(inv, "DROP TRIGGER change_stamp ON change; CREATE CONSTRAINT TRIGGER change_stamp AFTER INSERT "
        .. "ON change DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_stamp(); "
        .. "UPDATE schema_version SET version = 3")
      H.psql(inv, "BEGIN; INSERT INTO change (at, op, resource, id) VALUES (0, 'reset', 'job', ''); "
        .. "INSERT INTO change (at, op, resource, id) VALUES (0, 'reset', 'job_task', ''); COMMIT")
      local again = assert(H.reopen(inv))
      assert.are.equal(4, again:schema_version())
      assert.matches("FOR EACH ROW WHEN ((new.seq IS NULL)) EXECUTE FUNCTION", H.psql(again,
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'change_stamp' "
        .. "AND tgrelid = 'change'::regclass"), 1, true)
      assert(again.job_task.finish{ job_task_id = t.job_task_id, domain_id = D, status = "SUCCESS" })
      -- a process still on version 3's statements (prepared before the migration) inserts
      -- without a seq: the stamp numbers its rows at its commit, after the others
      H.psql(again, "INSERT INTO change (at, op, resource, id) VALUES (0, 'reset', 'job', '')")
      assert(again.job.delete{ job_id = j.job_id, domain_id = D })
      local r = assert(again:changes{})
      local got = {}
      for i, c in ipairs(r.changes) do
        assert.are.equal(i, c.seq)
        got[i] = c.resource .. ":" .. c.op
      end
      assert.are.same({ "job:upsert", "job_task:upsert", "job:reset", "job_task:reset", "job_task:upsert",
                        "job:upsert", "job:reset", "job_task:delete", "job:delete" }, got)
      assert.are.same({ 1, 9 }, { r.first, r.last })
      assert.are.equal("9", (H.psql(again, "SELECT seq FROM change_seq"):gsub("%s+$", "")))
      assert.are.equal("0", (H.psql(again, "SELECT count(*) FROM change WHERE seq IS NULL"):gsub("%s+$", "")))
      again:close()
      H.drop(inv)
    end)

    it("open failures return nil, message, code", function()
      H.only("sqlite", "a SQLite file path")
      local ok, msg, code = inventory.open{ path = "/nonexistent-dir/sub/inventory.db" }
      assert.is_nil(ok)
      assert.matches("cannot open", msg)
      assert.are.equal("ERROR_DB_QUERY", code)
    end)

    it("a read-only store reads and refuses writes", function()
      local inv = H.open{ shared = true }
      assert(inv.job.create{ domain_id = D, collector_id = "c" })
      inv:close()
      local ro = assert(H.reopen(inv, { readonly = true }))
      assert.are.equal(1, assert(ro.job.list{ domain_id = D }).total_count)
      local ok, msg = ro.job.create{ domain_id = D, collector_id = "c" }
      assert.is_nil(ok)
      assert.is_string(msg)
      assert.are.equal(1, assert(ro.job.list{ domain_id = D }).total_count)
      ro:close()
      H.drop(inv)
    end)
  end)

  describe("the module", function()
    it("has _VERSION, _NAME, sqlite_version and null", function()
      assert.matches("^%d+%.%d+%.%d+$", inventory._VERSION)
      assert.are.equal("inventory", inventory._NAME)
      assert.matches("^3%.", inventory.sqlite_version)
      assert.are.equal(cjson.null, inventory.null)
    end)

    it("touches no globals", function()
      local before = {}
      for k in pairs(_G) do before[k] = true end
      package.loaded["inventory"], package.loaded["inventory.core"] = nil, nil
      local m = require "inventory"
      local inv = assert(m.open(H.options()))
      assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { {} } })
      assert(inv.job.list{ domain_id = D })
      assert(inv:sweep{})
      inv:close()
      for k in pairs(_G) do assert.is_true(before[k], "new global " .. tostring(k)) end
      for k in pairs(before) do assert.is_not_nil(_G[k], "global removed " .. tostring(k)) end
    end)
  end)

  describe("errors", function()
    local inv
    before_each(function()
      inv = H.open()
      assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { { secret_id = "s" } } })
    end)
    after_each(function() inv:close() end)

    it("bad input is nil, message, code", function()
      local msg = fails("ERROR_REQUIRED_PARAMETER", inv.job.list{})
      assert.are.equal("Required parameter. (key = domain_id)", msg)
      fails("ERROR_INVALID_PARAMETER_TYPE", inv.job.list{ domain_id = 1 })
      fails("ERROR_INVALID_PARAMETER", inv.job.list{ domain_id = D, colour = "red" })
      fails("ERROR_NOT_FOUND", inv.job.get{ job_id = "job-000000000000", domain_id = D })
      fails("ERROR_DB_QUERY", inv.job.list{ domain_id = D, query = { filter = { { k = "x", v = 1, o = "eq" } } } })
    end)

    it("an unknown resource or method is ERROR_INVALID_PARAMETER", function()
      local msg = fails("ERROR_INVALID_PARAMETER", inv:call("collector", "list", { domain_id = D }))
      assert.matches("resource", msg)
      msg = fails("ERROR_INVALID_PARAMETER", inv:call("job", "update", { domain_id = D }))
      assert.matches("method", msg)
      fails("ERROR_INVALID_PARAMETER", inv:call("store", "vacuum", {}))
      fails("ERROR_INVALID_PARAMETER", inv:explain("collector", "list", { domain_id = D }))
      assert.is_nil(inv.job.update)
      assert.is_nil(inv.spot_job.create)
    end)

    it("the REST path fails the same way", function()
      local ok, msg, code = inv:call("job", "get", { domain_id = D }, true)
      assert.are.same({ nil, "Required parameter. (key = job_id)", "ERROR_REQUIRED_PARAMETER" }, { ok, msg, code })
    end)
  end)

  describe("request values", function()
    local inv
    before_each(function()
      inv = H.open()
      assert(inv.job.create{ domain_id = D, collector_id = "c", tasks = { { secret_id = "s" } } })
    end)
    after_each(function() inv:close() end)

    it("cjson.null and inventory.null are null", function()
      for _, null in ipairs{ cjson.null, inventory.null } do
        local j = assert(inv.job.create{ domain_id = D, collector_id = "c-null", request_secret_id = null,
                                         workspace_id = null, tasks = { { secret_id = null } } })
        assert.is_nil(j.request_secret_id)
        assert.are.equal("*", j.workspace_id)
        assert(inv.job.get{ job_id = j.job_id, domain_id = D, workspace_id = null, only = null })
        assert.are.equal(2, assert(inv.job.list{ domain_id = D, workspace_id = null, query = null }).total_count)
        assert.are.equal(2, assert(inv.job.list{ domain_id = D, query = { filter = {
          { k = "request_secret_id", v = null, o = "eq" } } } }).total_count)
        fails("ERROR_REQUIRED_PARAMETER", inv.job.list{ domain_id = null })
        assert(inv.job.delete{ job_id = j.job_id, domain_id = D })
      end
    end)

    it("an empty table is [] or {} as marked (array_mt, object_mt); results carry the marks", function()
      local t = assert(inv.job_task.list{ domain_id = D }).results[1]
      assert(inv.job_task.start{ domain_id = D, job_task_id = t.job_task_id })
      assert(inv.job_task.add_error{ domain_id = D, job_task_id = t.job_task_id, error_code = "E", message = "m",
        additional = { l = setmetatable({}, inventory.array_mt), o = setmetatable({}, inventory.object_mt),
                       d = inventory.decode('{"l":[],"o":{},"n":null}') } })
      local text = assert(inv:call("job_task", "get", { domain_id = D, job_task_id = t.job_task_id, only = { "errors" } }, true))
      assert.are.equal('{"errors":[{"error_code":"E","message":"m","additional":'
                       .. '{"d":{"l":[],"n":null,"o":{}},"l":[],"o":{}}}]}', text)
      -- a result goes back as it came
      local a = assert(inv.job_task.get{ domain_id = D, job_task_id = t.job_task_id }).errors[1].additional
      assert.are.equal(inventory.array_mt, getmetatable(a.l))
      assert.are.equal(inventory.object_mt, getmetatable(a.o))
      assert(inv.job_task.add_error{ domain_id = D, job_task_id = t.job_task_id, error_code = "E2", message = "m",
                                     additional = a })
      text = assert(inv:call("job_task", "get", { domain_id = D, job_task_id = t.job_task_id, only = { "errors" } }, true))
      assert.truthy(text:find('"error_code":"E2","message":"m","additional":{"d":{"l":[],"o":{}},"l":[],"o":{}}', 1, true), text)
      -- inventory.decode: JSON's values, null kept in objects, errors as nil, message
      assert.are.equal(inventory.null, inventory.decode('{"a":null}').a)
      local v, msg = inventory.decode("[1,")
      assert.is_nil(v)
      assert.truthy(msg:find("invalid JSON", 1, true), msg)
    end)

    it("null inside a JSON value is kept as JSON null", function()
      assert(inv:import("job", { { job_id = "job-00000000000f", domain_id = D,
                                   filter = { a = { cjson.null, 1 } } } }))
      local j = assert(inv.job.get{ job_id = "job-00000000000f", domain_id = D })
      assert.are.equal(cjson.null, j.filter.a[1])
      assert.are.equal('{"a":[null,1]}',
                       cjson.encode(cjson.decode((assert(inv:call("job", "get",
                         { job_id = "job-00000000000f", domain_id = D }, true)))).filter))
    end)

    it("values that are not JSON give clear errors and change nothing", function()
      local before = snapshot(inv)
      local deep = {}
      local c = deep
      for _ = 1, 100 do c.x = {}; c = c.x end
      local cases = {
        { "NaN", { created_count = 0 / 0 } },
        { "infinit", { created_count = math.huge } },
        { "infinit", { created_count = -math.huge } },
        { "UTF%-8", { domain_id = "domain-\255" } },
        { "UTF%-8", { ["key\255"] = 1 } },
        { "both list positions and named keys", { tasks_extra = { 1, x = 2 } } },
        { "a hole: position 2 is nil", { tasks_extra = { 1, nil, 3 } } },
        { "a table has a boolean as a key; keys are strings", { tasks_extra = { [true] = 1 } } },
        { "a table has the key 1.5; keys are strings", { tasks_extra = { [1.5] = 1 } } },
        { "not a JSON value", { created_count = print } },
        { "not a JSON value", { created_count = coroutine.create(print) } },
        { "not a JSON value", { created_count = io.stdout } },
        { "deeper than", { tasks_extra = deep } },
      }
      local id = assert(inv.job_task.list{ domain_id = D }).results[1].job_task_id
      for i, case in ipairs(cases) do
        local req = { job_task_id = id, domain_id = D, status = "SUCCESS" }
        for k, v in pairs(case[2]) do req[k] = v end
        local ok, msg, code = inv.job_task.finish(req)
        assert.is_nil(ok, "case " .. i)
        assert.matches(case[1], msg, nil, false, "case " .. i)
        assert.matches("^ERROR_INVALID_PARAMETER", code)
      end
      local ok, msg = inv.job.create{ domain_id = D, collector_id = "c", tasks = { { secret_id = print } } }
      assert.is_nil(ok)
      assert.matches("tasks.secret_id", msg, 1, true)
      assert.are.equal(before, snapshot(inv))
      assert.are.equal("PENDING", assert(inv.job_task.get{ job_task_id = id, domain_id = D }).status)
    end)

    it("integral floats are integers; other numbers are refused where an integer is needed", function()
      local id = assert(inv.job_task.list{ domain_id = D }).results[1].job_task_id
      fails("ERROR_INVALID_PARAMETER_TYPE", inv.job_task.finish{ job_task_id = id, domain_id = D,
                                                                 status = "SUCCESS", created_count = 2.5 })
      local t = assert(inv.job_task.finish{ job_task_id = id, domain_id = D, status = "SUCCESS",
                                            created_count = 2.0 })
      assert.are.equal(2, t.created_count)
    end)
  end)

  describe("query plans (inv:explain)", function()
    local inv
    before_each(function() inv = H.open() end)
    after_each(function() inv:close() end)

    it("tasks of one job use job_task_domain_job", function()
      H.only("sqlite", "SQLite's EXPLAIN QUERY PLAN")
      local plan = assert(inv:explain("job_task", "list", { domain_id = D, job_id = "job-123456789012" }))
      assert.matches("USING INDEX job_task_domain_job", plan, 1, true)
      assert.is_nil(plan:find("TEMP B-TREE", 1, true))       -- the default order comes from the index
    end)

    it("jobs of a domain by created_at use job_domain_created", function()
      H.only("sqlite", "SQLite's EXPLAIN QUERY PLAN")
      local plan = assert(inv:explain("job", "list", { domain_id = D }))
      assert.matches("USING INDEX job_domain_created", plan, 1, true)
      assert.is_nil(plan:find("TEMP B-TREE", 1, true))
      plan = assert(inv:explain("job", "list", { domain_id = D, query = { page = { limit = 5 } } }))
      assert.matches("USING INDEX job_domain_created", plan, 1, true)
    end)

    it("jobs of a collector by status use job_domain_collector_status", function()
      H.only("sqlite", "SQLite's EXPLAIN QUERY PLAN")
      local plan = assert(inv:explain("job", "list", { domain_id = D, collector_id = "collector-1",
                                                       status = "IN_PROGRESS" }))
      assert.matches("USING INDEX job_domain_collector_status", plan, 1, true)
    end)

    it("explain gives PostgreSQL's plan of the rows query", function()
      H.only("postgresql", "PostgreSQL's EXPLAIN")
      local plan = assert(inv:explain("job_task", "list", { domain_id = D, job_id = "job-123456789012" }))
      assert.matches("job_task", plan, 1, true)
      assert.matches("Scan", plan, 1, true)
    end)

    it("explain takes list requests and reports their errors", function()
      fails("ERROR_INVALID_PARAMETER", inv:explain("job", "get", { domain_id = D }))
      fails("ERROR_REQUIRED_PARAMETER", inv:explain("job", "list", {}))
    end)
  end)
end)
