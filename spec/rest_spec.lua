-- spec/rest_spec.lua: inventory.rest (router, identity, scoping, errors) over
-- a :memory: store, under lua5.4 and luajit. The same records run behind a
-- real nginx in test/nginx/run.sh, and the cases of spec/rest_cases.lua
-- (every path; client mistakes) run in both.
local inventory = require "inventory"
local rest = require "inventory.rest"
local thread = require "inventory.ngx_thread"
local cjson = require "cjson.safe"
local F = require "spec.rest_fixture"
local C = require "spec.rest_cases"
local H = require "spec.helper"


local function open()
  return F.load(H.open())
end

local function handler(opts)
  opts = opts or {}
  local inv = opts.store or open()
  return rest.new{ store = inv, resolver = rest.static_resolver(F.TOKENS), offload = opts.offload }, inv
end

-- call(h, token, method, path, body) -> status, decoded body, headers, text
local function call(h, token, method, path, body)
  local headers = token and { authorization = "Bearer " .. token } or {}
  if type(body) == "table" then body = assert(cjson.encode(body)) end
  local status, text, hdrs = h:handle(method, path, body, headers)
  assert.is_string(text)
  assert.is_table(hdrs)
  return status, cjson.decode(text), hdrs, text
end

local function ids(body, key)
  local out = {}
  for i, r in ipairs(body.results) do out[i] = r[key] end
  table.sort(out)
  return out
end

local function sorted(list)
  local c = {}
  for i, v in ipairs(list) do c[i] = v end
  table.sort(c)
  return c
end

local STAT, ANALYZE = C.STAT, C.ANALYZE
local unpack = table.unpack or unpack     -- luacheck: compat

local function expect_error(status, body, want_status, want_code)
  assert.are.equal(want_status, status)
  assert.is_table(body)
  assert.is_table(body.error)
  if want_code then assert.are.equal(want_code, body.error.code) end
  assert.is_string(body.error.message)
end

-- a stat/analyze answer: 200, and the rows are the caller's only
local function expect_counted(status, body, domain, n, key)
  assert.are.equal(200, status)
  C.counted(body, domain, n, key)
end

-- a handler whose stat and analyze go through the thread-pool transport
-- (inventory.ngx_thread: pack, then call in "the thread" on its own
-- connection to the same store), as behind nginx
local function threaded(log)
  local inv = F.load(H.open{ shared = true })
  local where = H.where(inv)
  local h = rest.new{ store = inv, resolver = rest.static_resolver(F.TOKENS), log = log,
    offload = function(resource, method, req)
      return thread.call(where, resource, method, thread.pack(req))
    end }
  return h, inv
end

describe("inventory.rest", function()

  describe("routes", function()
    it("lists every documented path", function()
      local got = {}
      for _, r in ipairs(rest.routes()) do
        got[#got + 1] = r.method .. " " .. r.path .. " " .. r.resource .. "." .. r.call
      end
      assert.are.same(sorted{
        "POST /inventory/v1/job/get job.get", "POST /inventory/v1/job/list job.list",
        "POST /inventory/v1/job/stat job.stat", "POST /inventory/v1/job/analyze job.analyze",
        "POST /inventory/v1/job/delete job.delete",
        "POST /inventory/v1/job-task/get job_task.get", "POST /inventory/v1/job-task/list job_task.list",
        "POST /inventory/v1/job-task/stat job_task.stat",
        "POST /inventory/v1/job-task/delete job_task.delete",
        "GET /inventory/v1/jobs job.list", "POST /inventory/v1/jobs/search job.list",
        "POST /inventory/v1/jobs/stat job.stat",
        "GET /inventory/v1/job/{job_id} job.get", "DELETE /inventory/v1/job/{job_id} job.delete",
        "GET /inventory/v1/job-tasks job_task.list", "POST /inventory/v1/job-tasks/search job_task.list",
        "POST /inventory/v1/job-tasks/stat job_task.stat",
        "GET /inventory/v1/job-task/{job_task_id} job_task.get",
        "DELETE /inventory/v1/job-task/{job_task_id} job_task.delete",
        "GET /spot-automation/v1/jobs spot_job.list", "POST /spot-automation/v1/jobs/search spot_job.list",
        "POST /spot-automation/v1/jobs/stat spot_job.stat",
      }, sorted(got))
    end)
  end)

  describe("every path, as a domain admin", function()
    local h
    before_each(function() h = handler() end)

    local A3, T4 = "job-a00000000003", "job-task-a00000000004"

    for _, c in ipairs(C.ROUTES) do
      it(c.name, function()
        local status, b, _, text = call(h, c.token or "a-admin", c.method, c.path, c.body)
        C.check(c, status, b, text)
      end)
    end
    it("POST /inventory/v1/job/delete", function()
      local s, b, _, text = call(h, "a-admin", "POST", "/inventory/v1/job/delete", { job_id = A3 })
      assert.are.equal(200, s)
      assert.are.equal("{}", text)
      assert.are.same({}, b)
      s, b = call(h, "a-admin", "POST", "/inventory/v1/job/get", { job_id = A3 })
      expect_error(s, b, 404, "ERROR_NOT_FOUND")
    end)
    it("POST /inventory/v1/job-task/delete", function()
      local s, _, _, text = call(h, "a-admin", "POST", "/inventory/v1/job-task/delete", { job_task_id = T4 })
      assert.are.equal(200, s)
      assert.are.equal("{}", text)
      local b
      s, b = call(h, "a-admin", "POST", "/inventory/v1/job-task/get", { job_task_id = T4 })
      expect_error(s, b, 404, "ERROR_NOT_FOUND")
    end)
    it("DELETE /inventory/v1/job/{job_id}", function()
      local s, _, _, text = call(h, "a-admin", "DELETE", "/inventory/v1/job/" .. A3)
      assert.are.equal(200, s)
      assert.are.equal("{}", text)
      local b
      s, b = call(h, "a-admin", "GET", "/inventory/v1/job/" .. A3)
      expect_error(s, b, 404, "ERROR_NOT_FOUND")
    end)
    it("DELETE /inventory/v1/job-task/{job_task_id}", function()
      local s, _, _, text = call(h, "a-admin", "DELETE", "/inventory/v1/job-task/" .. T4)
      assert.are.equal(200, s)
      assert.are.equal("{}", text)
    end)
  end)

  describe("statuses and headers", function()
    local h
    before_each(function() h = handler() end)

    it("404 for an unknown path, as JSON", function()
      for _, p in ipairs(C.UNKNOWN_PATHS) do
        local s, b, hd = call(h, "a-admin", "POST", p, {})
        expect_error(s, b, 404, "ERROR_NOT_FOUND")
        assert.are.same({}, hd)
      end
    end)

    it("an echoed path stays valid UTF-8 JSON: other bytes are %-encoded", function()
      local s, b, _, text = call(h, "a-admin", "GET", "/inventory/v1/job\255/x\n\"y", nil)
      expect_error(s, b, 404, "ERROR_NOT_FOUND")
      assert.truthy(b.error.message:find("/inventory/v1/job%FF/x%0A\"y", 1, true), b.error.message)
      assert.is_nil(text:find("\255", 1, true))
    end)

    it("a decoded %3F is part of the path when the query string comes apart (nginx)", function()
      local st, text = h:handle("GET", "/inventory/v1/job/job-a00000000001?job_id=zzz", nil,
                                { authorization = "Bearer a-admin" }, "")
      assert.equal(404, st)
      assert.equal("ERROR_NOT_FOUND", cjson.decode(text).error.code)
      st = h:handle("GET", "/inventory/v1/job/job-a00000000001", nil, { authorization = "Bearer a-admin" }, "")
      assert.equal(200, st)
    end)

    it("an internal failure is 500 \"Internal error.\" to the client, the detail goes to the log", function()
      local logged = {}
      local inv = open()
      local bad = rest.new{ store = inv, resolver = function() error("resolver exploded at secret.lua:4") end,
                            log = function(m) logged[#logged + 1] = m end }
      local st, text = bad:handle("POST", "/inventory/v1/job/list", "{}", {})
      assert.equal(500, st)
      assert.equal("Internal error.", cjson.decode(text).error.message)
      assert.truthy(logged[1]:find("resolver exploded", 1, true))
      local raising = rest.new{ store = { call = function() error("store exploded") end },
                                resolver = rest.static_resolver(F.TOKENS),
                                log = function(m) logged[#logged + 1] = m end }
      st, text = raising:handle("POST", "/inventory/v1/job/list", "{}", { authorization = "Bearer a-admin" })
      assert.equal(500, st)
      assert.is_nil(text:find("exploded", 1, true))
      assert.truthy(logged[2]:find("job.list raised: .*store exploded"))
    end)

    it("405 with Allow for a known path and another method", function()
      -- the shared cases, and HEAD (nginx answers a HEAD without its body)
      local cases = { { "HEAD", "/spot-automation/v1/jobs/stat", "POST" } }
      for _, c in ipairs(C.NOT_ALLOWED) do cases[#cases + 1] = c end
      for _, c in ipairs(cases) do
        local s, b, hd = call(h, "a-admin", c[1], c[2], {})
        expect_error(s, b, 405, "ERROR_METHOD_NOT_ALLOWED")
        assert.are.same({ Allow = c[3] }, hd)
      end
    end)

    it("405 for a POST to an id path says it read an id, and which POST methods there are", function()
      local s, b, hd = call(h, "a-admin", "POST", "/inventory/v1/job/frob", {})
      expect_error(s, b, 405, "ERROR_METHOD_NOT_ALLOWED")
      assert.are.equal("DELETE, GET", hd.Allow)
      assert.truthy(b.error.message:find("The last segment is read as a job_id; the POST methods of "
                                         .. "/inventory/v1/job/ are get, list, stat, analyze, delete.", 1, true))
      s, b = call(h, "a-admin", "POST", "/inventory/v1/job-task/create", {})
      assert.are.equal(405, s)
      assert.truthy(b.error.message:find("are get, list, stat, delete.", 1, true), b.error.message)
    end)

    it("405 comes before authentication", function()
      local s, _, hd = call(h, nil, "GET", "/inventory/v1/job/list")
      assert.are.equal(405, s)
      assert.are.equal("POST", hd.Allow)
    end)

    it("401 with WWW-Authenticate without a valid bearer token", function()
      local headers = {
        {}, { authorization = "" }, { authorization = "Bearer" }, { authorization = "Basic YTpi" },
        { authorization = "Bearer nope" }, { authorization = "Bearer a-admin extra" },
        { ["x-authorization"] = "Bearer a-admin" },
      }
      for _, hd in ipairs(headers) do
        local s, text, out = h:handle("POST", "/inventory/v1/job/list", "{}", hd)
        local b = cjson.decode(text)
        expect_error(s, b, 401, "ERROR_AUTHENTICATE_FAILURE")
        assert.are.equal('Bearer realm="inventory"', out["WWW-Authenticate"])
      end
    end)

    it("reads the Authorization header in any case, and the first of repeated ones", function()
      for _, hd in ipairs{ { Authorization = "Bearer a-admin" }, { AUTHORIZATION = "bearer a-admin" },
                           { authorization = { "Bearer a-admin", "Bearer b-admin" } } } do
        local s, text = h:handle("POST", "/inventory/v1/job/list", "{}", hd)
        assert.are.equal(200, s)
        assert.are.equal(3, cjson.decode(text).total_count)
      end
    end)

    it("403 for a workspace member on every delete path", function()
      for _, c in ipairs(C.MEMBER_DELETES) do
        local s, b = call(h, "a-member", c[1], c[2], c[3])
        expect_error(s, b, 403, "ERROR_PERMISSION_DENIED")
      end
      local s, b = call(h, "a-admin", "GET", "/inventory/v1/job-task/job-task-a00000000001")
      assert.are.equal(200, s)
      assert.are.equal("job-task-a00000000001", b.job_task_id)
    end)

    it("403 for workspace roles on the spot-automation service (no workspace there)", function()
      for _, tok in ipairs{ "a-owner", "a-member" } do
        for _, c in ipairs{ { "GET", "/spot-automation/v1/jobs" },
                            { "POST", "/spot-automation/v1/jobs/search", {} },
                            { "POST", "/spot-automation/v1/jobs/stat", STAT } } do
          local s, b = call(h, tok, c[1], c[2], c[3])
          expect_error(s, b, 403, "ERROR_PERMISSION_DENIED")
        end
      end
    end)

    it("403 when the resolver returns a malformed identity", function()
      local bad = {
        { role = "DOMAIN_ADMIN" }, { domain_id = "", role = "DOMAIN_ADMIN" },
        { domain_id = F.A, role = "USER" }, { domain_id = F.A }, { domain_id = F.A, role = "WORKSPACE_OWNER" },
        { domain_id = F.A, role = "WORKSPACE_MEMBER", workspace_id = "ws-1", user_projects = "project-1" },
        { domain_id = F.A, role = "WORKSPACE_MEMBER", workspace_id = "ws-1", user_projects = { 1 } },
        "domain-aaaaaaaaaaaa",
      }
      for _, ident in ipairs(bad) do
        local hh = rest.new{ store = open(), resolver = function() return ident end }
        local s, b = call(hh, nil, "POST", "/inventory/v1/job/list", {})
        expect_error(s, b, 403, "ERROR_PERMISSION_DENIED")
      end
    end)

    it("500 when the resolver raises", function()
      local hh = rest.new{ store = open(), resolver = function() error("boom") end }
      local s, b = call(hh, nil, "POST", "/inventory/v1/job/list", {})
      expect_error(s, b, 500, "ERROR_UNKNOWN")
    end)

    it("400 for a body that is not a JSON object", function()
      for _, body in ipairs{ "[]", "[1]", "1", '"x"', "null", "true", "{bad", '{"a":1', "{} x",
                             '{"query":NaN}', '{"query":{"page":{"limit":Infinity}}}',
                             string.rep("[", 200) .. string.rep("]", 200) } do
        local s, b = call(h, "a-admin", "POST", "/inventory/v1/job/list", body)
        assert.are.equal(400, s, body)
        assert.truthy(b.error.code == "ERROR_INVALID_PARAMETER" or b.error.code == "ERROR_INVALID_PARAMETER_TYPE")
      end
    end)

    it("404 for a record that does not exist", function()
      for _, c in ipairs{ { "POST", "/inventory/v1/job/get", { job_id = "job-000000000000" } },
                          { "POST", "/inventory/v1/job/delete", { job_id = "job-000000000000" } },
                          { "GET", "/inventory/v1/job-task/job-task-000000000000" },
                          { "DELETE", "/inventory/v1/job-task/job-task-000000000000" } } do
        local s, b = call(h, "a-admin", c[1], c[2], c[3])
        expect_error(s, b, 404, "ERROR_NOT_FOUND")
      end
    end)
  end)

  describe("client mistakes (issue 15): 4xx with their reason, logged at info, never at error", function()
    for _, mode in ipairs{ "inline", "through the thread-pool transport" } do
      for _, c in ipairs(C.CLIENT_FAULTS) do
        it(c.name .. " (" .. mode .. ")", function()
          local logged = {}
          local function log(msg, level) logged[#logged + 1] = { level, msg } end
          local h, inv
          if mode == "inline" then
            inv = open()
            h = rest.new{ store = inv, resolver = rest.static_resolver(F.TOKENS), log = log }
          else
            h, inv = threaded(log)
          end
          local status, b, _, text = call(h, c.token or "a-admin", c.method, c.path, c.body)
          C.check(c, status, b, text)
          for _, l in ipairs(logged) do
            assert.are_not.equal("error", l[1], l[2])
            assert.are_not.equal("warn", l[1], l[2])
          end
          H.drop(inv)
        end)
      end
    end
  end)

  describe("status mapping", function()
    it("maps a failure's class and code, never its message", function()
      local S = rest.status_of
      for code, status in pairs{ ERROR_REQUIRED_PARAMETER = 400, ERROR_INVALID_PARAMETER = 400,
          ERROR_INVALID_PARAMETER_TYPE = 400, ERROR_OPERATOR_LIST_VALUE_TYPE = 400, ERROR_DB_QUERY = 400,
          ERROR_AUTHENTICATE_FAILURE = 401, ERROR_PERMISSION_DENIED = 403, ERROR_NOT_FOUND = 404,
          ERROR_JOB_STATE_CHANGE = 409, ERROR_JOB_TASK_STATE_CHANGE = 409, ERROR_SAVE_UNIQUE_VALUES = 409,
          ERROR_SOMETHING_NEW = 400 } do
        assert.are.equal(status, S(code, "client"), code)
        assert.are.equal(503, S(code, "unavailable"), code)
        assert.are.equal(500, S(code, "server"), code)
      end
    end)
    it("without a class, judges by the code: request codes are the client's, others the server's", function()
      local S = rest.status_of
      assert.are.equal(400, S("ERROR_REQUIRED_PARAMETER"))
      assert.are.equal(400, S("ERROR_INVALID_PARAMETER"))
      assert.are.equal(400, S("ERROR_INVALID_PARAMETER_TYPE"))
      assert.are.equal(400, S("ERROR_OPERATOR_LIST_VALUE_TYPE"))
      assert.are.equal(400, S("ERROR_OPERATOR_VALUE_TYPE"))
      assert.are.equal(400, S("ERROR_OPERATOR_BOOLEAN_TYPE"))
      assert.are.equal(400, S("ERROR_OPERATOR_DICT_VALUE_TYPE"))
      assert.are.equal(401, S("ERROR_AUTHENTICATE_FAILURE"))
      assert.are.equal(403, S("ERROR_PERMISSION_DENIED"))
      assert.are.equal(404, S("ERROR_NOT_FOUND"))
      assert.are.equal(409, S("ERROR_JOB_STATE_CHANGE"))
      assert.are.equal(409, S("ERROR_JOB_TASK_STATE_CHANGE"))
      assert.are.equal(409, S("ERROR_SAVE_UNIQUE_VALUES"))
      assert.are.equal(500, S("ERROR_DB_QUERY"))
      assert.are.equal(500, S("ERROR_UNKNOWN"))
      assert.are.equal(500, S("ERROR_SOMETHING_NEW"))
      assert.are.equal(500, S(nil, nil))
      assert.are.equal(500, S("ERROR_DB_QUERY", "bogus"))
    end)
    it("a message never decides the status (the old prefixes are not read)", function()
      local inv = open()
      local function with(msg, code, class)
        local h = rest.new{ store = inv, resolver = rest.static_resolver(F.TOKENS),
                            offload = function() return nil, msg, code, class end }
        return call(h, "a-admin", "POST", "/inventory/v1/job/stat", STAT)
      end
      local s = with("Database query failed. (reason = Filter operator is not supported.)", "ERROR_DB_QUERY", "server")
      assert.are.equal(500, s)
      s = with('Cannot resolve field "x"', "ERROR_DB_QUERY")
      assert.are.equal(500, s)
      s = with("Database query failed. (reason = database is locked)", "ERROR_DB_QUERY", "client")
      assert.are.equal(400, s)
      inv:close()
    end)
    it("writes error bodies as JSON without escaped slashes", function()
      local text = rest.error_body("ERROR_X", 'a/b "q" \\ \n\t' .. string.char(1))
      assert.are.equal('{"error":{"code":"ERROR_X","message":"a/b \\"q\\" \\\\ \\n\\t\\u0001"}}', text)
      assert.are.same({ error = { code = "ERROR_X", message = 'a/b "q" \\ \n\t' .. string.char(1) } },
                      cjson.decode(text))
    end)
  end)

  describe("identity override", function()
    local h, inv
    before_each(function() h, inv = handler() end)

    it("domain_id always comes from the identity", function()
      local s, b = call(h, "a-admin", "POST", "/inventory/v1/job/list", { domain_id = F.B })
      assert.are.equal(200, s)
      assert.are.same(F.SEES["a-admin"].job, ids(b, "job_id"))
      s, b = call(h, "a-admin", "POST", "/inventory/v1/job/get", { job_id = "job-b00000000001", domain_id = F.B })
      expect_error(s, b, 404, "ERROR_NOT_FOUND")
      s, b = call(h, "a-admin", "GET", "/inventory/v1/jobs?domain_id=" .. F.B)
      assert.are.equal(200, s)
      assert.are.same(F.SEES["a-admin"].job, ids(b, "job_id"))
    end)

    it("workspace_id comes from the identity for workspace roles", function()
      local s, b = call(h, "a-owner", "POST", "/inventory/v1/job-task/list", { workspace_id = "ws-2" })
      assert.are.equal(200, s)
      assert.are.same(F.SEES["a-owner"].job_task, ids(b, "job_task_id"))
      s, b = call(h, "a-owner", "POST", "/inventory/v1/job/get", { job_id = "job-a00000000003", workspace_id = "ws-2" })
      expect_error(s, b, 404, "ERROR_NOT_FOUND")
    end)

    it("a domain admin may narrow to a workspace", function()
      local s, b = call(h, "a-admin", "POST", "/inventory/v1/job-task/list", { workspace_id = "ws-2" })
      assert.are.equal(200, s)
      assert.are.same({ "job-task-a00000000004" }, ids(b, "job_task_id"))
    end)

    it("user_projects comes from the identity for members and is dropped for others", function()
      local s, b = call(h, "a-member", "POST", "/inventory/v1/job-task/list",
                        { user_projects = { "project-1", "project-2", "project-3" } })
      assert.are.equal(200, s)
      assert.are.same(F.SEES["a-member"].job_task, ids(b, "job_task_id"))
      s, b = call(h, "a-member-none", "POST", "/inventory/v1/job-task/list", { user_projects = { "project-1" } })
      assert.are.equal(200, s)
      assert.are.same({}, b.results)
      assert.are.equal(0, b.total_count)
      s, b = call(h, "a-admin", "POST", "/inventory/v1/job-task/list", { user_projects = { "project-3" } })
      assert.are.equal(200, s)
      assert.are.same(F.SEES["a-admin"].job_task, ids(b, "job_task_id"))
    end)

    it("does not change the resolver's identity", function()
      local ident = { domain_id = F.A, role = "WORKSPACE_MEMBER", workspace_id = "ws-1", user_projects = { "project-1" } }
      local hh = rest.new{ store = inv, resolver = function() return ident end }
      call(hh, nil, "POST", "/inventory/v1/job-task/list", { user_projects = { "x" }, domain_id = F.B })
      assert.are.same({ domain_id = F.A, role = "WORKSPACE_MEMBER", workspace_id = "ws-1",
                        user_projects = { "project-1" } }, ident)
    end)
  end)

  describe("scoping", function()
    local h, inv
    before_each(function() h, inv = handler() end)

    local LISTS, STATS, KEY = C.LIST_PATHS, C.STAT_PATHS, C.KEY
    local ALL = { job = {}, job_task = {}, spot_job = {} }
    for _, r in ipairs(F.JOBS) do ALL.job[#ALL.job + 1] = r.job_id end
    for _, r in ipairs(F.TASKS) do ALL.job_task[#ALL.job_task + 1] = r.job_task_id end
    for _, r in ipairs(F.SPOT) do ALL.spot_job[#ALL.spot_job + 1] = r.job_id end

    local function exists(resource, id)
      local req = { domain_id = id:find("%-b") and F.B or F.A }
      req[KEY[resource]] = id
      return inv:call(resource, "get", req, true) ~= nil
    end

    for _, tok in ipairs{ "a-admin", "a-owner", "a-member", "a-member-none", "b-admin" } do
      local domain = F.TOKENS[tok].domain_id
      for resource, sees in pairs(F.SEES[tok]) do
        local visible = F.set(sees)

        it(tok .. " lists exactly its " .. resource .. " records on every list path", function()
          for _, c in ipairs(LISTS[resource]) do
            local s, b = call(h, tok, c[1], c[2], c[1] == "POST" and {} or nil)
            assert.are.equal(200, s)
            assert.are.same(sorted(sees), ids(b, KEY[resource]))
            assert.are.equal(#sees, b.total_count)
            for _, row in ipairs(b.results) do assert.are.equal(domain, row.domain_id) end
          end
        end)

        it(tok .. " counts only its " .. resource .. " records on every stat path", function()
          for _, p in ipairs(STATS[resource]) do
            local s, b = call(h, tok, "POST", p, STAT)
            expect_counted(s, b, domain, #sees)
          end
        end)

        if C.GET_PATHS[resource] then
          it(tok .. " gets a " .. resource .. " record only when it is in scope", function()
            for _, id in ipairs(ALL[resource]) do
              for _, c in ipairs(C.GET_PATHS[resource](id)) do
                local s, b = call(h, tok, c[1], c[2], c[3])
                if visible[id] then
                  assert.are.equal(200, s, id)
                  assert.are.equal(id, b[KEY[resource]])
                else
                  expect_error(s, b, 404, "ERROR_NOT_FOUND")
                end
              end
            end
          end)
        end
      end

      if F.TOKENS[tok].role ~= "WORKSPACE_MEMBER" then
        it(tok .. " never deletes a record of the other domain", function()
          for resource, paths in pairs(C.DELETE_PATHS) do
            for _, id in ipairs(ALL[resource]) do
              local rec_domain = id:find("%-b") and F.B or F.A
              if rec_domain ~= domain then
                for _, c in ipairs(paths(id)) do
                  local s, b = call(h, tok, c[1], c[2], c[3])
                  expect_error(s, b, 404, "ERROR_NOT_FOUND")
                  assert.is_true(exists(resource, id), id)
                end
              end
            end
          end
        end)
      end
    end

    it("a workspace owner deletes in its workspace, not domain-level jobs", function()
      local s, b = call(h, "a-owner", "POST", "/inventory/v1/job/delete", { job_id = "job-a00000000001" })
      expect_error(s, b, 404, "ERROR_NOT_FOUND")
      assert.is_true(exists("job", "job-a00000000001"))
      s, b = call(h, "a-owner", "DELETE", "/inventory/v1/job/job-a00000000003")
      expect_error(s, b, 404, "ERROR_NOT_FOUND")
      s = call(h, "a-owner", "DELETE", "/inventory/v1/job/job-a00000000002")
      assert.are.equal(200, s)
      assert.is_false(exists("job", "job-a00000000002"))
      s = call(h, "a-owner", "POST", "/inventory/v1/job-task/delete", { job_task_id = "job-task-a00000000002" })
      assert.are.equal(200, s)
      s, b = call(h, "a-owner", "DELETE", "/inventory/v1/job-task/job-task-a00000000004")
      expect_error(s, b, 404, "ERROR_NOT_FOUND")
    end)

    it("analyze sees only the caller's jobs", function()
      for _, tok in ipairs{ "a-admin", "a-owner", "b-admin" } do
        local s, b = call(h, tok, "POST", "/inventory/v1/job/analyze", ANALYZE)
        expect_counted(s, b, F.TOKENS[tok].domain_id, #F.SEES[tok].job, "domain_id")
      end
    end)
  end)

  describe("offload", function()
    it("sends stat and analyze, and only them, through the offload function", function()
      local seen = {}
      local h = handler{ offload = function(resource, method, req)
        seen[#seen + 1] = { resource, method, req }
        return '{"results":[],"total_count":0}'
      end }
      local s, _, _, text = call(h, "a-member", "POST", "/inventory/v1/job-task/stat",
                                 { query = { aggregate = {} }, domain_id = F.B, user_projects = { "x" } })
      assert.are.equal(200, s)
      assert.are.equal('{"results":[],"total_count":0}', text)
      call(h, "a-admin", "POST", "/inventory/v1/job/analyze", ANALYZE)
      call(h, "a-admin", "POST", "/spot-automation/v1/jobs/stat", STAT)
      call(h, "a-admin", "POST", "/inventory/v1/job/list", {})
      call(h, "a-admin", "GET", "/inventory/v1/job/job-a00000000001")
      assert.are.equal(3, #seen)
      assert.are.same({ "job_task", "stat" }, { seen[1][1], seen[1][2] })
      assert.are.same({ domain_id = F.A, workspace_id = "ws-1", user_projects = { "project-1" } },
        { domain_id = seen[1][3].domain_id, workspace_id = seen[1][3].workspace_id,
          user_projects = seen[1][3].user_projects })
      assert.are.same({ "job", "analyze" }, { seen[2][1], seen[2][2] })
      assert.are.same({ "spot_job", "stat" }, { seen[3][1], seen[3][2] })
    end)

    it("a database locked past the busy timeout is 503 with Retry-After, logged at warn (a real lock)", function()
      H.only("sqlite", "SQLite's file lock and busy timeout")
      local path = H.tmpdb()
      local inv = F.load(assert(inventory.open{ path = path, busy_timeout = 20 }))
      local logged = {}
      local h = rest.new{ store = inv, resolver = rest.static_resolver(F.TOKENS), cache_entries = 0,
                          log = function(msg, level) logged[#logged + 1] = { level = level, msg = msg } end }
      local env = require("luasql.sqlite3").sqlite3()     -- another connection holds the write lock
      local con = assert(env:connect(path))
      assert(con:execute("BEGIN EXCLUSIVE"))
      local s, b, hd = call(h, "a-admin", "POST", "/inventory/v1/job/delete", { job_id = "job-a00000000001" })
      expect_error(s, b, 503, "ERROR_DB_QUERY")
      assert.are.equal("1", hd["Retry-After"])
      assert.truthy(b.error.message:find("locked", 1, true), b.error.message)
      assert.are.same({ "warn" }, { logged[#logged].level })
      s = call(h, "a-admin", "POST", "/inventory/v1/job/list", {})     -- reads go on (WAL)
      assert.are.equal(200, s)
      con:execute("ROLLBACK")
      con:close(); env:close()
      s = call(h, "a-admin", "POST", "/inventory/v1/job/delete", { job_id = "job-a00000000001" })
      assert.are.equal(200, s)
      inv:close()
      H.rmdb(path)
    end)

    it("maps offload errors like store errors: by class, the detail of a server fault to the log", function()
      local logged = {}
      local function log(msg, level) logged[#logged + 1] = { level = level, msg = msg } end
      local function with(...)
        local ret = { ... }
        local h = rest.new{ store = open(), resolver = rest.static_resolver(F.TOKENS), log = log,
                            offload = function() return unpack(ret, 1, 4) end }
        return call(h, "a-admin", "POST", "/inventory/v1/job/stat", STAT)
      end
      -- transient: 503 with Retry-After and the reason, logged at warn
      local s, b, hd = with(nil, "Database query failed. (reason = database is locked)", "ERROR_DB_QUERY",
                            "unavailable")
      expect_error(s, b, 503, "ERROR_DB_QUERY")
      assert.are.equal("1", hd["Retry-After"])
      assert.truthy(b.error.message:find("locked", 1, true))
      assert.are.equal("warn", logged[#logged].level)
      -- a server fault: 500 "Internal error.", the detail in the log at error
      s, b, hd = with(nil, "disk I/O error at page 42", "ERROR_DB_QUERY", "server")
      expect_error(s, b, 500, "ERROR_DB_QUERY")
      assert.are.equal("Internal error.", b.error.message)
      assert.are.same({}, hd)
      assert.are.equal("error", logged[#logged].level)
      assert.truthy(logged[#logged].msg:find("disk I/O error at page 42", 1, true))
      -- the caller's fault: 400 with the reason, logged at info
      s, b = with(nil, "the skip value must be a non-negative integer", "ERROR_DB_QUERY", "client")
      expect_error(s, b, 400, "ERROR_DB_QUERY")
      assert.truthy(b.error.message:find("non-negative", 1, true))
      assert.are.equal("info", logged[#logged].level)
      -- a raising offload: 500, logged
      local h = handler{ offload = function() error("thread pool gone") end }
      s, b = call(h, "a-admin", "POST", "/inventory/v1/job/stat", STAT)
      expect_error(s, b, 500, "ERROR_UNKNOWN")
    end)
  end)

  describe("inventory.ngx_thread", function()
    it("packs JSON nulls for the trip into a thread VM and back", function()
      local req = { a = cjson.null, b = { 1, cjson.null, { c = cjson.null } }, s = "x", n = 2.5, t = true }
      local packed = thread.pack(req)
      for _, v in ipairs{ packed.a, packed.b[2], packed.b[3].c } do
        assert.is_table(v)                                  -- only tables, strings... cross
        assert.is_true(thread.is_null_mark(v))
      end
      assert.are.equal(cjson.null, req.a)                   -- the original is untouched
      local back = thread.unpack(packed, inventory.null)
      assert.are.equal(inventory.null, back.a)
      assert.are.equal(inventory.null, back.b[2])
      assert.are.same({ 1, inventory.null, { c = inventory.null } }, back.b)
      assert.are.same({ "x", 2.5, true }, { back.s, back.n, back.t })
    end)

    it("cannot be forged: no value decoded from JSON turns into null", function()
      for _, text in ipairs{ '{"v":"\\u0000\255inventory.null\255\\u0000"}', '{"v":{"true":"inventory.null"}}',
                             '{"v":["inventory.null"]}', '{"v":"inventory.null"}', '{"v":{"1":"inventory.null"}}' } do
        local req = assert(cjson.decode(text))
        local back = thread.unpack(thread.pack(req), inventory.null)
        assert.are_not.equal(inventory.null, back.v, text)
        assert.are.same(req, back)
      end
    end)

    it("answers like the store, with its own connection", function()
      local inv = F.load(H.open{ shared = true })
      local where = H.where(inv)
      local req = { domain_id = F.A, query = { filter = { { k = "finished_at", v = cjson.null, o = "eq" } } } }
      local direct = assert(inv:call("job", "list", req, true))
      local via = thread.call(where, "job", "list", thread.pack(req))
      assert.are.equal(direct, via)
      local again = thread.call(where, "job", "list", thread.pack(req))  -- the cached store
      assert.are.equal(direct, again)
      local res, msg, code, class = thread.call(where, "job", "get",
                                                thread.pack{ domain_id = F.A, job_id = "x" })
      assert.is_nil(res)
      assert.are.same({ "ERROR_NOT_FOUND", "client" }, { code, class })
      assert.is_string(msg)
      -- the 4 values of a failed open, too
      local bad = H.where(inv)              -- a store not opened yet, an unknown option
      if bad.path then bad.path = bad.path .. "-not-opened" else bad.schema = H.schema_name() end
      bad.pth = "x"
      res, msg, code, class = thread.call(bad, "job", "list",
                                          thread.pack{ domain_id = F.A })
      assert.is_nil(res)
      assert.are.same({ "ERROR_INVALID_PARAMETER", "client" }, { code, class })
      assert.truthy(msg:find("pth", 1, true), msg)
      H.drop(inv)
    end)
  end)

  describe("token_file_resolver", function()
    local function write(text)
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      f:write(text)
      f:close()
      return path
    end

    it("resolves bearer tokens from a JSON file", function()
      local path = write([[{
        "_comment": "ignored",
        "t1": { "domain_id": "domain-1", "role": "DOMAIN_ADMIN" },
        "t2": { "domain_id": "domain-1", "role": "WORKSPACE_MEMBER", "workspace_id": "ws-1" },
        "t3": { "domain_id": "domain-1", "role": "WORKSPACE_MEMBER", "workspace_id": "ws-1",
                "user_projects": ["p-1", "p-2"] }
      }]])
      local resolve = rest.token_file_resolver(path)
      os.remove(path)
      assert.are.same({ domain_id = "domain-1", role = "DOMAIN_ADMIN" },
                      resolve{ authorization = "Bearer t1" })
      assert.are.same({ domain_id = "domain-1", role = "WORKSPACE_MEMBER", workspace_id = "ws-1",
                        user_projects = {} }, resolve{ authorization = "Bearer t2" })
      assert.are.same({ "p-1", "p-2" }, resolve{ Authorization = "Bearer t3" }.user_projects)
      assert.is_nil(resolve{ authorization = "Bearer _comment" })
      assert.is_nil(resolve{ authorization = "Bearer t4" })
      assert.is_nil(resolve{})
    end)

    it("ships a demo token file for two domains and every role", function()
      local resolve = rest.token_file_resolver("examples/nginx/tokens.json")
      local domains, roles = {}, {}
      for _, d in ipairs{ "a", "b" } do
        for _, r in ipairs{ "admin", "owner", "member" } do
          local id = resolve{ authorization = "Bearer demo-" .. d .. "-" .. r }
          assert.is_table(id)
          domains[id.domain_id] = true
          roles[d .. id.role] = true
        end
      end
      local n = 0
      for _ in pairs(domains) do n = n + 1 end
      assert.are.equal(2, n)
      for _, d in ipairs{ "a", "b" } do
        for _, r in ipairs{ "DOMAIN_ADMIN", "WORKSPACE_OWNER", "WORKSPACE_MEMBER" } do
          assert.is_true(roles[d .. r])
        end
      end
    end)

    it("fails at load time on a bad file", function()
      assert.has_error(function() rest.token_file_resolver("/nonexistent/tokens.json") end)
      for _, text in ipairs{ "", "[]", "{bad", '{"t": {"role": "DOMAIN_ADMIN"}}',
                             '{"t": {"domain_id": "d", "role": "ROOT"}}',
                             '{"t": {"domain_id": "d", "role": "WORKSPACE_OWNER"}}' } do
        local path = write(text)
        assert.has_error(function() rest.token_file_resolver(path) end)
        os.remove(path)
      end
    end)
  end)

  describe("decode_args", function()
    it("decodes grpc-gateway style query strings", function()
      assert.are.same({ a = "1 2", b = "/x", c = { "1", "2" }, query = { page = { limit = 10, start = 2 },
                        only = { "x", "y" }, minimal = true, keyword = "k" } },
        rest.decode_args("a=1+2&b=%2Fx&c=1&c=2&query.page.limit=10&query.page.start=2"
                         .. "&query.only=x&only=y&query.minimal=true&keyword=k",
                         { only = true, keyword = true }))
      assert.are.same({ e = "", f = "" }, rest.decode_args("e&f=&&=x"))
      assert.are.same({ page = { limit = "x" } }, rest.decode_args("page.limit=x"))
    end)
  end)
end)

