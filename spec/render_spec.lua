-- spec/render_spec.lua: the REST rendering (inv:call(..., true)) writes rows
-- straight into its JSON buffer: strings checked and copied 8 bytes at a
-- time, integers and times formatted in place. Every length around the
-- 8-byte steps, with a byte that needs an escape at every position, must
-- decode to the stored text; integers and times to what the table API gives.
local H = require "spec.helper"
local cjson = require "cjson"

local D = "domain-render"
local JOB = "job-render000001"

describe("REST rendering of a row", function()
  local inv, want = nil, {}
  setup(function()
    inv = H.open()
    assert(inv:import("job", { { job_id = JOB, status = "IN_PROGRESS", domain_id = D,
                                 created_at = "2024-01-01T00:00:00.000Z" } }))
    local tasks, n = {}, 0
    local function add(provider, extra)
      n = n + 1
      local id = ("job-task-%06d"):format(n)
      local t = { job_task_id = id, job_id = JOB, status = "SUCCESS", domain_id = D,
                  provider = provider, created_at = "2024-01-01T00:00:01.000Z" }
      for k, v in pairs(extra or {}) do t[k] = v end
      tasks[n] = t
      want[id] = t
    end
    -- plain strings of every length 1..18 (within one page of 1,000), then one special byte at each position
    for len = 1, 18 do
      local plain = ("abcdefghijklmnopqrstuvwxyz"):sub(1, len)
      add(plain)
      for pos = 1, len do
        for _, c in ipairs{ '"', "\\", "\31", "\127", "é" } do
          add(plain:sub(1, pos - 1) .. c .. plain:sub(pos + 1))
        end
      end
    end
    -- integers: zero (omitted), small, large; times on one day and across days
    add("ints", { created_count = 0, updated_count = 7, deleted_count = 1234567890123,
                  disconnected_count = 10, started_at = "2024-01-01T23:59:59.999Z",
                  finished_at = "2024-01-02T00:00:00.001Z" })
    add("ints2", { created_count = 99, updated_count = 100, deleted_count = 9007199254740991,
                   started_at = "2023-12-31T00:00:00.000Z", finished_at = "2024-02-29T12:34:56.789Z" })
    assert(inv:import("job_task", tasks))
  end)
  teardown(function() inv:close() end)

  it("decodes to the stored strings, integers and times, as the table API has them", function()
    local req = { domain_id = D, job_id = JOB, query = { sort = { { key = "job_task_id" } },
                                                         page = { limit = 1000 } } }
    local text = assert(inv:call("job_task", "list", req, true))
    local doc = cjson.decode(text)
    local rows = assert(inv.job_task.list(req)).results
    assert.equal(#rows, #doc.results)
    assert.equal(#rows, doc.total_count)
    local seen = 0
    for i, r in ipairs(doc.results) do
      local t = assert(want[r.job_task_id])
      assert.equal(t.provider, r.provider)
      assert.equal(rows[i].job_task_id, r.job_task_id)
      for _, k in ipairs{ "created_at", "started_at", "finished_at" } do
        assert.equal(rows[i][k], r[k])
      end
      for _, k in ipairs{ "created_count", "updated_count", "deleted_count", "disconnected_count" } do
        local v = rows[i][k]
        if v == 0 then assert.is_nil(r[k]) else assert.equal(v, r[k]) end
      end
      if t.started_at then
        assert.equal(t.started_at, r.started_at)
        assert.equal(t.finished_at, r.finished_at)
      end
      seen = seen + 1
    end
    assert.equal(seen, #doc.results)
    -- the text of a plain string is copied as it is, an escaped one as JSON spells it
    assert.truthy(text:find('"provider":"abcdefghijklmnop"', 1, true))
    assert.truthy(text:find('"provider":"abcdefg\\"ijklmnop"', 1, true))
    assert.truthy(text:find('"provider":"abcdefgh\\\\jklmnop"', 1, true))
    assert.truthy(text:find('"provider":"a\\u001fcdefgh"', 1, true))
    assert.truthy(text:find('"deleted_count":1234567890123', 1, true))
    assert.falsy(text:find('"created_count":0', 1, true))
  end)

  it("renders a projection (only) the same way", function()
    local req = { domain_id = D, job_id = JOB, query = { sort = { { key = "job_task_id" } },
                                                         only = { "job_task_id", "provider", "started_at" },
                                                         page = { limit = 1000 } } }
    local doc = cjson.decode((assert(inv:call("job_task", "list", req, true))))
    for _, r in ipairs(doc.results) do
      local t = want[r.job_task_id]
      assert.equal(t.provider, r.provider)
      assert.equal(t.started_at, r.started_at)
      assert.is_nil(r.status)
      assert.is_nil(r.created_at)
    end
  end)
end)
