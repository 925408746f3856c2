-- bench/rest_limit.lua: the REST limit, a hand-written OpenResty handler for
-- POST /inventory/v1/job-task/list on the hand-written schema
-- (bench/schema.sql), what a competent user writes without inventory:
--
--   cjson decodes the body; the bearer token gives the caller's domain; one
--   prepared SELECT of the page (times formatted as ISO strings by SQLite)
--   and, when the page may not hold every row, one prepared count, through
--   bench/limit.c built for LuaJIT; `errors` decoded from its JSON text;
--   cjson encodes {"results": [...], "total_count": n}.
--
-- bench/rest_bench.sh mounts it beside inventory's REST API in the same
-- nginx (one connection per worker, opened on the worker's first request):
--
--   location = /bench/limit/job-task/list {
--     content_by_lua_block {
--       local h = package.loaded.bench_rest_limit
--       if not h then
--         h = dofile(".../rest_limit.lua")
--         h.init(".../limit.so", ".../NAME-hand.db", ".../tokens.json")
--         package.loaded.bench_rest_limit = h
--       end
--       h.handle()
--     }
--   }
local cjson = require "cjson.safe"

local ngx = ngx
local type, tonumber = type, tonumber

local M = {}
local limit, db, tokens

local ROWS = "SELECT t.job_task_id, t.status, t.provider, t.created_count, t.updated_count, "
  .. "t.failure_count, t.deleted_count, t.disconnected_count, t.errors, t.job_id, t.secret_id, "
  .. "t.service_account_id, t.project_id, t.workspace_id, t.domain_id, "
  .. "strftime('%Y-%m-%dT%H:%M:%fZ', t.created_at / 1000.0, 'unixepoch') AS created_at, "
  .. "strftime('%Y-%m-%dT%H:%M:%fZ', t.started_at / 1000.0, 'unixepoch') AS started_at, "
  .. "strftime('%Y-%m-%dT%H:%M:%fZ', t.finished_at / 1000.0, 'unixepoch') AS finished_at "
  .. "FROM job_task AS t WHERE t.domain_id = ? AND t.job_id = ? "
  .. "ORDER BY t.created_at DESC, t.id LIMIT ? OFFSET ?"
local COUNT = "SELECT count(*) AS n FROM job_task WHERE domain_id = ? AND job_id = ?"

function M.init(so, path, token_file)
  limit = assert(package.loadlib(so, "luaopen_limit"))()
  db = assert(limit.open(path))
  local f = assert(io.open(token_file, "rb"))
  local doc = assert(cjson.decode(f:read("*a")))
  f:close()
  tokens = {}
  for tok, id in pairs(doc) do tokens[tok] = id.domain_id end
end

local function answer(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = #body
  ngx.print(body)
end

function M.handle()
  local auth = ngx.var.http_authorization
  local dom = auth and tokens[auth:match("^Bearer%s+(%S+)") or ""]
  if not dom then
    return answer(401, '{"error":{"code":"ERROR_AUTHENTICATE_FAILURE","message":"Authenticate failure."}}')
  end
  ngx.req.read_body()
  local req = cjson.decode(ngx.req.get_body_data() or "{}")
  if type(req) ~= "table" or type(req.job_id) ~= "string" then
    return answer(400, '{"error":{"code":"ERROR_INVALID_PARAMETER","message":"job_id is required."}}')
  end
  local page = type(req.query) == "table" and type(req.query.page) == "table" and req.query.page or {}
  local lim = tonumber(page.limit) or 1000
  if lim > 1000 or lim < 1 then lim = 1000 end
  local start = tonumber(page.start) or 1
  limit.exec(db, "BEGIN")
  local rows = limit.query(db, ROWS, dom, req.job_id, lim, start - 1)
  local total
  if start == 1 and #rows < lim then total = #rows
  else total = limit.query(db, COUNT, dom, req.job_id)[1].n end
  limit.exec(db, "COMMIT")
  for i = 1, #rows do
    local r = rows[i]
    if r.errors == "[]" then r.errors = nil else r.errors = cjson.decode(r.errors) end
  end
  return answer(200, cjson.encode({ results = rows, total_count = total }))
end

return M
