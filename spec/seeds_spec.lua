-- spec/seeds_spec.lua: the request/response examples of the seed pages
-- (shared/seeds/*.txt) as test cases.
--
-- Each block imports the records a page's response examples show, sends
-- the page's requests and compares the REST rendering (inv:call(..., true),
-- decoded with cjson) with the documented response, field by field.
-- domain_id is added to the 2.x requests (seed 002), where the gateway
-- injects it from the caller's token. The examples are copied verbatim
-- below so that the spec runs without shared/.
local inventory = require "inventory"
local cjson = require "cjson"
local H = require "spec.helper"

-- The REST rendering of a call, decoded.
local function rest(inv, resource, method, req)
  local text, msg, code = inv:call(resource, method, req, true)
  assert(text, tostring(code) .. ": " .. tostring(msg))
  return cjson.decode(text), text
end

-- Compare a documented value with ours, naming the first differing path.
local function same_fields(want, got, path)
  path = path or "$"
  if type(want) ~= "table" then
    assert.are.equal(want, got, path)
    return
  end
  assert.are.equal("table", type(got), path)
  for k, v in pairs(want) do same_fields(v, got[k], path .. "." .. tostring(k)) end
  for k in pairs(got) do
    assert.is_not_nil(want[k], path .. "." .. tostring(k) .. " is not in the documented response")
  end
end

local fails = H.fails

-- --------------------------------------------------------------- seed 000
-- 000_bbf0656e50dc0615.txt: inventory v1 Job, POST /inventory/v1/job/{verb}
-- (2023-02 .. 2023-06): delete, get, list, stat; v1 JobInfo.
local SEED000_GET_RESPONSE = [[
{
"job_id": "job-123456789012",
"status": "ERROR",
"filter": {},
"total_tasks": 2,
"collector_info": {
"collector_id": "collector-123456789012",
"name": "Jenkins Collector",
"state": "ENABLED",
"plugin_info": {
"plugin_id": "plugin-jenkins-inven-collector",
"version": "0.1.1"
},
"provider": "jenkins",
"capability": {},
"is_public": true
},
"domain_id": "domain-123456789012",
"created_at": "2022-01-01T10:00:01.389Z",
"updated_at": "2022-01-01T10:00:01.389Z",
"finished_at": "2022-01-01T10:02:11.270Z"
}
]]
local SEED000_LIST_RESPONSE = [[
{
"results": [
{
"job_id": "job-3b124006c2d2",
"status": "SUCCESS",
"filter": {},
"total_tasks": 2,
"collector_info": {
"collector_id": "collector-accd02663b3d",
"name": "openstack-collector",
"state": "ENABLED",
"plugin_info": {
"plugin_id": "plugin-openstack-inven-collector",
"version": "0.4.2.20220616.134758"
},
"provider": "openstack",
"capability": {
"supported_schema": [
"openstack_credentials"
]
},
"is_public": true
},
"domain_id": "domain-58010aa2e451",
"created_at": "2022-06-17T08:00:01.225Z",
"updated_at": "2022-06-17T08:00:01.225Z",
"finished_at": "2022-06-17T08:00:15.197Z"
},
{
"job_id": "job-587a3d3b4db3",
"status": "SUCCESS",
"filter": {},
"total_tasks": 3,
"collector_info": {
"collector_id": "collector-2c0847644f39",
"name": "AWS stat-kwon Collector",
"state": "ENABLED",
"plugin_info": {
"plugin_id": "plugin-30d21ef75a5d",
"version": "1.13.13.20220610.143142"
},
"provider": "aws",
"capability": {
"supported_schema": [
"aws_access_key"
]
},
"is_public": true
},
"domain_id": "domain-58010aa2e451",
"created_at": "2022-06-17T08:00:00.407Z",
"updated_at": "2022-06-17T08:00:00.407Z",
"finished_at": "2022-06-17T08:07:32.023Z"
}
],
"total_count": 2
}
]]

-- --------------------------------------------------------------- seed 002
-- 002_aa2ecdde73131cf5.txt: the SpaceONE 2.0 page. Its examples are stale
-- copies of the v1 ones (domain_id in requests, filter, collector_info) and
-- its list example adds "resource_group": "DOMAIN". Its request examples
-- for delete and get carry a trailing comma, { "job_id": "...", }, which
-- is not JSON: we send the object they mean.
local SEED002_LIST_RESPONSE = [[
{ "results": [ { "job_id": "job-3b124006c2d2", "status": "SUCCESS", "filter": {}, "total_tasks": 2, "collector_info": { "collector_id": "collector-accd02663b3d", "name": "openstack-collector", "state": "ENABLED", "plugin_info": { "plugin_id": "plugin-openstack-inven-collector", "version": "0.4.2.20220616.134758" }, "provider": "openstack", "capability": { "supported_schema": [ "openstack_credentials" ] }, "is_public": true }, "resource_group": "DOMAIN", "domain_id": "domain-58010aa2e451", "created_at": "2022-06-17T08:00:01.225Z", "updated_at": "2022-06-17T08:00:01.225Z", "finished_at": "2022-06-17T08:00:15.197Z" }, { "job_id": "job-587a3d3b4db3", "status": "SUCCESS", "filter": {}, "total_tasks": 3, "collector_info": { "collector_id": "collector-2c0847644f39", "name": "AWS stat-kwon Collector", "state": "ENABLED", "plugin_info": { "plugin_id": "plugin-30d21ef75a5d", "version": "1.13.13.20220610.143142" }, "provider": "aws", "capability": { "supported_schema": [ "aws_access_key" ] }, "is_public": true }, "resource_group": "DOMAIN", "domain_id": "domain-58010aa2e451", "created_at": "2022-06-17T08:00:00.407Z", "updated_at": "2022-06-17T08:00:00.407Z", "finished_at": "2022-06-17T08:07:32.023Z" } ], "total_count": 2 }
]]
local SEED002_GET_RESPONSE = [[
{ "job_id": "job-123456789012", "status": "ERROR", "filter": {}, "total_tasks": 2, "collector_info": { "collector_id": "collector-123456789012", "name": "Jenkins Collector", "state": "ENABLED", "plugin_info": { "plugin_id": "plugin-jenkins-inven-collector", "version": "0.1.1" }, "provider": "jenkins", "capability": {}, "is_public": true }, "domain_id": "domain-123456789012", "created_at": "2022-01-01T10:00:01.389Z", "updated_at": "2022-01-01T10:00:01.389Z", "finished_at": "2022-01-01T10:02:11.270Z" }
]]

-- --------------------------------------------------------------- seed 003
-- 003_aff995bb8618cde0.txt: inventory v1 JobTask (2022-11 .. 2023-02):
-- GET|DELETE /inventory/v1/job-task/{id}, job-tasks list/search/stat; ids
-- with the legacy prefix job_task-.
local SEED003_LIST_RESPONSE = [[
{
    "results": [
        {
            "job_task_id": "job_task-69b301d0fbfc",
            "status": "SUCCESS",
            "updated_count": 55,
            "job_id": "job-587a3d3b4db3",
            "secret_id": "secret-957e407bfc15",
            "provider": "aws",
            "service_account_id": "sa-a41ff4765671",
            "project_id": "project-77dffd3f7cd3",
            "domain_id": "domain-58010aa2e451",
            "created_at": "2022-06-17T08:00:00.680Z",
            "started_at": "2022-06-17T08:00:00.914Z",
            "finished_at": "2022-06-17T08:05:48.933Z"
        },
        {
            "job_task_id": "job_task-c5077338cf23",
            "status": "SUCCESS",
            "updated_count": 1921,
            "job_id": "job-587a3d3b4db3",
            "secret_id": "secret-1cd7417c1889",
            "provider": "aws",
            "service_account_id": "sa-5e186fcc7c91",
            "project_id": "project-18655561c535",
            "domain_id": "domain-58010aa2e451",
            "created_at": "2022-06-17T08:00:00.582Z",
            "started_at": "2022-06-17T08:00:00.814Z",
            "finished_at": "2022-06-17T08:07:31.995Z"
        }
    ],
    "total_count": 4839
}
]]

-- --------------------------------------------------------------- seed 004
-- 004_70229d475e93eb3a.txt: spaceone.api.spot_automation.v1 Job (list and
-- stat only). The page has no example: this record is built from its
-- JobInfo fields (job_id, status, filter, total_tasks, remained_tasks,
-- errors[ErrorInfo], project_id, domain_id, created_at, updated_at,
-- finished_at).
local SEED004_JOB = [[
{
  "job_id": "job-5b07aa0c1d2e",
  "status": "ERROR",
  "filter": {"spot_group_id": "spot-group-8e6b2c1f9a3d"},
  "total_tasks": 3,
  "remained_tasks": 1,
  "errors": [
    {"error_code": "ERROR_SPOT_GROUP_STATE", "message": "Spot group is not in ACTIVE state.",
     "additional": {"spot_group_id": "spot-group-8e6b2c1f9a3d"}}
  ],
  "project_id": "project-77dffd3f7cd3",
  "domain_id": "domain-58010aa2e451",
  "created_at": "2021-06-01T00:00:00.120Z",
  "updated_at": "2021-06-01T00:03:10.500Z",
  "finished_at": "2021-06-01T00:03:10.500Z"
}
]]

describe("seeds", function()
  local inv
  before_each(function() inv = assert(inventory.open{ path = ":memory:" }) end)
  after_each(function() inv:close() end)

  describe("000: v1 Job get/list/delete", function()
    local get_doc, list_doc
    before_each(function()
      get_doc, list_doc = cjson.decode(SEED000_GET_RESPONSE), cjson.decode(SEED000_LIST_RESPONSE)
      assert.are.equal(1, inv:import("job", { get_doc }))
      -- insertion order is not the documented order: the default sort does it
      assert.are.equal(2, inv:import("job", { list_doc.results[2], list_doc.results[1] }))
    end)

    it("get {job_id, domain_id} renders the documented JobInfo", function()
      local got = rest(inv, "job", "get", { job_id = "job-123456789012", domain_id = "domain-123456789012" })
      same_fields(get_doc, got)
    end)

    it("list {query: {}} in the domain renders the documented JobsInfo", function()
      local got = rest(inv, "job", "list", { query = {}, domain_id = "domain-58010aa2e451" })
      same_fields(list_doc, got)
      assert.are.equal(2, got.total_count)
    end)

    it("datetimes round-trip exactly, to the millisecond", function()
      local _, text = rest(inv, "job", "list", { query = {}, domain_id = "domain-58010aa2e451" })
      for _, ts in ipairs{ '"created_at":"2022-06-17T08:00:01.225Z"', '"finished_at":"2022-06-17T08:00:15.197Z"',
                           '"created_at":"2022-06-17T08:00:00.407Z"', '"finished_at":"2022-06-17T08:07:32.023Z"' } do
        assert.truthy(text:find(ts, 1, true), ts)
      end
      local lua = assert(inv.job.get{ job_id = "job-123456789012", domain_id = "domain-123456789012" })
      assert.are.same({ "2022-01-01T10:00:01.389Z", "2022-01-01T10:02:11.270Z" }, { lua.created_at, lua.finished_at })
    end)

    it("get with only (GetJobRequest.only) returns just those fields", function()
      local got = rest(inv, "job", "get", { job_id = "job-123456789012", domain_id = "domain-123456789012",
                                           only = { "job_id", "status", "collector_info.plugin_info" } })
      same_fields({ job_id = "job-123456789012", status = "ERROR",
                    collector_info = { plugin_info = get_doc.collector_info.plugin_info } }, got)
    end)

    it("get in another domain, or of an unknown id, is ERROR_NOT_FOUND", function()
      fails("ERROR_NOT_FOUND", inv:call("job", "get", { job_id = "job-123456789012",
                                                        domain_id = "domain-58010aa2e451" }, true))
      fails("ERROR_NOT_FOUND", inv:call("job", "get", { job_id = "job-000000000000",
                                                        domain_id = "domain-123456789012" }, true))
    end)

    it("delete {job_id, domain_id} answers {} (Empty) and the job is gone", function()
      local got, text = rest(inv, "job", "delete", { job_id = "job-123456789012", domain_id = "domain-123456789012" })
      assert.are.equal("{}", text)
      assert.are.same({}, got)
      fails("ERROR_NOT_FOUND", inv.job.get{ job_id = "job-123456789012", domain_id = "domain-123456789012" })
      assert.are.equal(2, assert(inv.job.list{ domain_id = "domain-58010aa2e451" }).total_count)
    end)

    it("JobsQuery parameters narrow the list (job_id, status, project_id)", function()
      local d = "domain-58010aa2e451"
      assert.are.equal(1, rest(inv, "job", "list", { domain_id = d, job_id = "job-587a3d3b4db3" }).total_count)
      assert.are.equal(2, rest(inv, "job", "list", { domain_id = d, status = "SUCCESS" }).total_count)
      assert.are.equal(0, rest(inv, "job", "list", { domain_id = d, status = "ERROR" }).total_count)
      assert.are.equal(1, rest(inv, "job", "list", { domain_id = "domain-123456789012", status = "ERROR" }).total_count)
      assert.are.equal(0, rest(inv, "job", "list", { domain_id = d, project_id = "project-1" }).total_count)
    end)

    it("the Lua API returns complete records (counters as 0, errors absent on a v1 job)", function()
      local j = assert(inv.job.get{ job_id = "job-3b124006c2d2", domain_id = "domain-58010aa2e451" })
      assert.are.same({ 2, 0, 0, 0 }, { j.total_tasks, j.remained_tasks, j.success_tasks, j.failure_tasks })
      assert.are.same({}, j.filter)
      assert.are.same({ "openstack_credentials" }, j.collector_info.capability.supported_schema)
      assert.is_true(j.collector_info.is_public)
    end)
  end)

  describe("001: v1 Job list and stat (GET /inventory/v1/jobs)", function()
    -- The page has no example; its JobsQuery is {query, job_id, status,
    -- collector_id, project_id, domain_id (required)} and its statuses are
    -- the v1 set. We list the seed-000 records through it.
    before_each(function()
      local doc = cjson.decode(SEED000_LIST_RESPONSE)
      assert(inv:import("job", doc.results))
    end)

    it("requires domain_id", function()
      local msg = fails("ERROR_REQUIRED_PARAMETER", inv:call("job", "list", { query = {} }, true))
      assert.are.equal("Required parameter. (key = domain_id)", msg)
    end)

    it("accepts every v1 status as a filter value", function()
      for _, st in ipairs{ "CREATED", "CANCELED", "IN_PROGRESS", "SUCCESS", "ERROR", "TIMEOUT" } do
        local got = rest(inv, "job", "list", { domain_id = "domain-58010aa2e451", status = st })
        assert.are.equal(st == "SUCCESS" and 2 or 0, got.total_count, st)
      end
      fails("ERROR_INVALID_PARAMETER", inv:call("job", "list", { domain_id = "domain-58010aa2e451",
                                                                 status = "JOB_STATE_NONE" }, true))
    end)

    it("filters v1 jobs by their collector through collector_info", function()
      local got = rest(inv, "job", "list", { domain_id = "domain-58010aa2e451", query = {
        filter = { { k = "collector_info.collector_id", v = "collector-2c0847644f39", o = "eq" } } } })
      assert.are.equal(1, got.total_count)
      assert.are.equal("job-587a3d3b4db3", got.results[1].job_id)
    end)

    it("stat (POST /inventory/v1/jobs/stat) counts by status", function()
      local st, m = inv:call("job", "stat", { domain_id = "domain-58010aa2e451", query = {
        aggregate = { { group = { keys = { { key = "status", name = "status" } },
                                  fields = { { operator = "count", name = "count" } } } } } } }, true)
      assert(st, m)
      local got = cjson.decode(st)
      assert.are.same({ { status = "SUCCESS", count = 2 } }, got.results)
    end)
  end)

  describe("002: the SpaceONE 2.0 page (stale v1 examples)", function()
    local list_doc, get_doc
    before_each(function()
      list_doc, get_doc = cjson.decode(SEED002_LIST_RESPONSE), cjson.decode(SEED002_GET_RESPONSE)
      assert(inv:import("job", list_doc.results))
      assert(inv:import("job", { get_doc }))
    end)

    it("list {query: {}} (domain injected) renders the documented response", function()
      same_fields(list_doc, (rest(inv, "job", "list", { query = {}, domain_id = "domain-58010aa2e451" })))
    end)

    it("get {job_id} (domain injected) renders the documented response", function()
      same_fields(get_doc, (rest(inv, "job", "get", { job_id = "job-123456789012",
                                                     domain_id = "domain-123456789012" })))
    end)

    it("delete {job_id} (domain injected) answers {}", function()
      local _, text = rest(inv, "job", "delete", { job_id = "job-3b124006c2d2", domain_id = "domain-58010aa2e451" })
      assert.are.equal("{}", text)
      local l = rest(inv, "job", "list", { query = {}, domain_id = "domain-58010aa2e451" })
      assert.are.equal(1, l.total_count)
      same_fields(list_doc.results[2], l.results[1])
    end)

    it("2.x JobsQuery parameters: workspace_id and plugin_id", function()
      -- v1 records have neither a workspace nor a top-level plugin_id
      local d = "domain-58010aa2e451"
      assert.are.equal(0, rest(inv, "job", "list", { domain_id = d, workspace_id = "workspace-1" }).total_count)
      assert.are.equal(0, rest(inv, "job", "list", { domain_id = d, plugin_id = "plugin-30d21ef75a5d" }).total_count)
      assert.are.equal(2, rest(inv, "job", "list", { domain_id = d, query = { filter = {
        { k = "resource_group", v = "DOMAIN", o = "eq" } } } }).total_count)
    end)

    it("the current JobInfo shape renders beside the v1 one", function()
      local j = assert(inv.job.create{ domain_id = "domain-58010aa2e451", collector_id = "collector-accd02663b3d",
                                       plugin_id = "plugin-openstack-inven-collector",
                                       tasks = { { secret_id = "secret-1" }, { secret_id = "secret-2" } } })
      local got = rest(inv, "job", "get", { job_id = j.job_id, domain_id = "domain-58010aa2e451" })
      local keys = {}
      for k in pairs(got) do keys[#keys + 1] = k end
      table.sort(keys)
      -- JobInfo of the page minus the defaults (0 counters, null request ids, finished_at)
      assert.are.same({ "collector_id", "created_at", "domain_id", "job_id", "plugin_id", "remained_tasks",
                        "resource_group", "status", "total_tasks", "updated_at", "workspace_id" }, keys)
    end)
  end)

  describe("003: v1 JobTask get/list/delete with job_task- ids", function()
    local doc
    before_each(function()
      doc = cjson.decode(SEED003_LIST_RESPONSE)
      assert(inv:import("job", { cjson.decode(SEED000_LIST_RESPONSE).results[2] }))   -- job-587a3d3b4db3
      assert.are.equal(2, inv:import("job_task", { doc.results[2], doc.results[1] }))
    end)

    it("list {query: {}} renders the documented results", function()
      local got = rest(inv, "job_task", "list", { query = {}, domain_id = "domain-58010aa2e451" })
      same_fields(doc.results, got.results)
      -- the page's total_count (4839) is the count of the real deployment it
      -- was captured from; this store holds the two documented tasks
      assert.are.equal(4839, doc.total_count)
      assert.are.equal(2, got.total_count)
    end)

    it("get {job_task_id, domain_id} finds a legacy id", function()
      for _, want in ipairs(doc.results) do
        same_fields(want, (rest(inv, "job_task", "get", { job_task_id = want.job_task_id,
                                                         domain_id = "domain-58010aa2e451" })))
      end
    end)

    it("get with only (GetJobTaskRequest.only)", function()
      same_fields({ job_task_id = "job_task-69b301d0fbfc", updated_count = 55 },
                  (rest(inv, "job_task", "get", { job_task_id = "job_task-69b301d0fbfc",
                                                 domain_id = "domain-58010aa2e451",
                                                 only = { "job_task_id", "updated_count" } })))
    end)

    it("JobTaskQuery parameters narrow the list", function()
      local d = "domain-58010aa2e451"
      local function count(req)
        req.domain_id = d
        return rest(inv, "job_task", "list", req).total_count
      end
      assert.are.equal(2, count{ job_id = "job-587a3d3b4db3" })
      assert.are.equal(1, count{ job_task_id = "job_task-c5077338cf23" })
      assert.are.equal(1, count{ secret_id = "secret-957e407bfc15" })
      assert.are.equal(2, count{ provider = "aws" })
      assert.are.equal(1, count{ service_account_id = "sa-5e186fcc7c91" })
      assert.are.equal(1, count{ project_id = "project-77dffd3f7cd3" })
      assert.are.equal(2, count{ status = "SUCCESS" })
      assert.are.equal(0, count{ status = "PENDING" })
      assert.are.equal(1, count{ query = { keyword = "69B3" } })
    end)

    it("delete {job_task_id, domain_id} answers {}; the finished job's counters stay", function()
      local _, text = rest(inv, "job_task", "delete", { job_task_id = "job_task-69b301d0fbfc",
                                                        domain_id = "domain-58010aa2e451" })
      assert.are.equal("{}", text)
      fails("ERROR_NOT_FOUND", inv:call("job_task", "get", { job_task_id = "job_task-69b301d0fbfc",
                                                             domain_id = "domain-58010aa2e451" }, true))
      local j = rest(inv, "job", "get", { job_id = "job-587a3d3b4db3", domain_id = "domain-58010aa2e451" })
      assert.are.same({ "SUCCESS", 3 }, { j.status, j.total_tasks })
    end)

    it("a finished legacy task refuses another report", function()
      fails("ERROR_JOB_TASK_STATE_CHANGE", inv.job_task.finish{ job_task_id = "job_task-69b301d0fbfc",
                                                                domain_id = "domain-58010aa2e451",
                                                                status = "SUCCESS" })
    end)
  end)

  describe("004: spot-automation v1 Job", function()
    local rec
    before_each(function()
      rec = cjson.decode(SEED004_JOB)
      assert.are.equal(1, inv:import("spot_job", { rec }))
    end)

    it("list {query: {}} (GET /spot-automation/v1/jobs) renders the JobInfo", function()
      local got = rest(inv, "spot_job", "list", { query = {}, domain_id = "domain-58010aa2e451" })
      same_fields({ results = { rec }, total_count = 1 }, got)
    end)

    it("JobsQuery parameters: job_id, status, project_id", function()
      local d = "domain-58010aa2e451"
      assert.are.equal(1, rest(inv, "spot_job", "list", { domain_id = d, job_id = "job-5b07aa0c1d2e" }).total_count)
      assert.are.equal(1, rest(inv, "spot_job", "list", { domain_id = d, status = "ERROR" }).total_count)
      assert.are.equal(0, rest(inv, "spot_job", "list", { domain_id = d, status = "TIMEOUT" }).total_count)
      assert.are.equal(1, rest(inv, "spot_job", "list", { domain_id = d,
                                                           project_id = "project-77dffd3f7cd3" }).total_count)
      -- FAILURE is not a spot-automation status
      fails("ERROR_INVALID_PARAMETER", inv:call("spot_job", "list", { domain_id = d, status = "FAILURE" }, true))
      fails("ERROR_REQUIRED_PARAMETER", inv:call("spot_job", "list", { query = {} }, true))
    end)

    it("get and delete by job_id, as the other resources", function()
      same_fields(rec, (rest(inv, "spot_job", "get", { job_id = rec.job_id, domain_id = rec.domain_id })))
      local _, text = rest(inv, "spot_job", "delete", { job_id = rec.job_id, domain_id = rec.domain_id })
      assert.are.equal("{}", text)
      assert.are.equal(0, rest(inv, "spot_job", "list", { domain_id = rec.domain_id }).total_count)
    end)

    it("keeps spot jobs apart from inventory jobs", function()
      assert.are.equal(0, rest(inv, "job", "list", { domain_id = "domain-58010aa2e451" }).total_count)
      fails("ERROR_INVALID_PARAMETER", inv:import("spot_job", { { job_id = "job-5b07aa0c1d2f",
                                                                  domain_id = "d", status = "FAILURE" } }))
    end)
  end)
end)
