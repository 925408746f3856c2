-- inventory.rest: the REST gateway in front of a store, with no dependency on
-- nginx. It routes (method, path) to (resource, method), decodes the JSON
-- body, fixes the caller's scope from its identity, calls the store and
-- returns the JSON text the core rendered.
--
--   local rest = require "inventory.rest"
--   local h = rest.new{ store = inv, resolver = rest.token_file_resolver("tokens.json") }
--   local status, body, headers = h:handle("POST", "/inventory/v1/job/list", '{"query":{}}',
--                                          { authorization = "Bearer ..." })
--
-- path is the decoded path, optionally followed by "?" and a raw query string
-- (used by the GET routes only). headers is a table of request headers; the
-- resolver reads what it needs from it. The returned headers table holds only
-- the extra headers of a response (Allow, WWW-Authenticate); every body is
-- JSON (Content-Type: application/json).
--
-- Order of checks: route (unknown path 404; known path, other method 405 with
-- Allow) -> identity (none: 401 with WWW-Authenticate) -> permission (403) ->
-- body (400) -> the store, whose error code rest.status_of maps to a status.
-- Every error body is {"error":{"code":...,"message":...}}; delete answers {}.
--
-- Bodies (POST): empty -> {}; otherwise a JSON object, else 400. GET routes
-- take no body; the list and get ones read query-string parameters
-- (rest.decode_args). The id of /job/{job_id} and /job-task/{job_task_id}
-- wins over any other value.
--
-- Identity: resolver(headers) -> { domain_id =, role =, workspace_id =,
-- user_projects = } or nil. The values the identity fixes override the
-- request (reference/lifecycle.md 3.1): domain_id always; workspace_id for the
-- workspace roles; user_projects (possibly empty: no project task is visible)
-- for WORKSPACE_MEMBER. user_projects is never taken from a request, so no
-- caller can widen its scope. Permissions: WORKSPACE_MEMBER cannot delete
-- (403); spot-automation (a v1 service whose records have no workspace) is for
-- DOMAIN_ADMIN only (403 for workspace roles).
--
-- Statuses (rest.status_of) come from the failure's class and code, never
-- from its message. The store says whose fault a failure is: "client" (the
-- request: 400, or by code NOT_FOUND 404, JOB_STATE_CHANGE,
-- JOB_TASK_STATE_CHANGE, SAVE_UNIQUE_VALUES 409, PERMISSION_DENIED 403,
-- AUTHENTICATE_FAILURE 401), "unavailable" (transient: the database is busy
-- or locked, the backend is down: 503 with Retry-After) or "server" (a fault
-- of the store: 500 "Internal error.", the detail goes to the log only). A
-- failure without a class (another store) is a client fault when its code is
-- one of the request codes above (REQUIRED_PARAMETER, INVALID_PARAMETER(_TYPE),
-- OPERATOR_*_TYPE, ...), else a server fault. Every failure is logged through
-- opts.log(message, level): "error" for server faults, "warn" for
-- unavailable, "info" for client faults.

-- a private cjson instance: strict numbers, bounded nesting (the core takes 64
-- levels), without touching the settings other code in the VM relies on
local cjson = require("cjson.safe").new()
cjson.decode_invalid_numbers(false)
cjson.decode_max_depth(100)

local type, pairs, ipairs, tostring, pcall = type, pairs, ipairs, tostring, pcall
local getmetatable, setmetatable = getmetatable, setmetatable
local byte, find, sub, gsub, format, lower = string.byte, string.find, string.sub,
  string.gsub, string.format, string.lower
local concat, tonumber = table.concat, tonumber

local _M = { _VERSION = "0.1.0" }

local ROLES = { DOMAIN_ADMIN = true, WORKSPACE_OWNER = true, WORKSPACE_MEMBER = true }

---------------------------------------------------------------------------
-- routes

local function r(resource, method, extra)
  local t = { resource = resource, method = method }
  if extra then for k, v in pairs(extra) do t[k] = v end end
  return t
end

-- exact paths: path -> { HTTP method -> route }
local EXACT = {}
for _, verb in ipairs{ "get", "list", "stat", "analyze", "delete" } do
  EXACT["/inventory/v1/job/" .. verb] = { POST = r("job", verb) }
end
for _, verb in ipairs{ "get", "list", "stat", "delete" } do
  EXACT["/inventory/v1/job-task/" .. verb] = { POST = r("job_task", verb) }
end
-- legacy paths (reference/lifecycle.md 3.10)
EXACT["/inventory/v1/jobs"] = { GET = r("job", "list", { args = true }) }
EXACT["/inventory/v1/jobs/search"] = { POST = r("job", "list") }
EXACT["/inventory/v1/jobs/stat"] = { POST = r("job", "stat") }
EXACT["/inventory/v1/job-tasks"] = { GET = r("job_task", "list", { args = true }) }
EXACT["/inventory/v1/job-tasks/search"] = { POST = r("job_task", "list") }
EXACT["/inventory/v1/job-tasks/stat"] = { POST = r("job_task", "stat") }
EXACT["/spot-automation/v1/jobs"] = { GET = r("spot_job", "list", { args = true }) }
EXACT["/spot-automation/v1/jobs/search"] = { POST = r("spot_job", "list") }
EXACT["/spot-automation/v1/jobs/stat"] = { POST = r("spot_job", "stat") }

-- one-segment id paths, tried after the exact ones (so /inventory/v1/job/list
-- is the POST verb, never a job called "list")
local PATTERNS = {
  { prefix = "/inventory/v1/job/", key = "job_id",
    methods = { GET = r("job", "get", { args = true }), DELETE = r("job", "delete") } },
  { prefix = "/inventory/v1/job-task/", key = "job_task_id",
    methods = { GET = r("job_task", "get", { args = true }), DELETE = r("job_task", "delete") } },
}

local function allow_of(methods)
  local a = {}
  for m in pairs(methods) do a[#a + 1] = m end
  table.sort(a)
  return concat(a, ", ")
end
for _, m in pairs(EXACT) do m._allow = allow_of(m) end
for _, p in ipairs(PATTERNS) do p.methods._allow = allow_of(p.methods) end

-- route(path) -> methods table, id key, id value | nil
local function route(path)
  local m = EXACT[path]
  if m then return m end
  for _, p in ipairs(PATTERNS) do
    local n = #p.prefix
    if sub(path, 1, n) == p.prefix then
      local id = sub(path, n + 1)
      if id ~= "" and not find(id, "/", 1, true) then return p.methods, p.key, id end
    end
  end
  return nil
end

--- rest.routes() -> list of { method =, path =, resource =, call = } (docs, tests)
function _M.routes()
  local out = {}
  for path, ms in pairs(EXACT) do
    for m, rt in pairs(ms) do
      if m ~= "_allow" then
        out[#out + 1] = { method = m, path = path, resource = rt.resource, call = rt.method }
      end
    end
  end
  for _, p in ipairs(PATTERNS) do
    for m, rt in pairs(p.methods) do
      if m ~= "_allow" then
        out[#out + 1] = { method = m, path = p.prefix .. "{" .. p.key .. "}",
                          resource = rt.resource, call = rt.method }
      end
    end
  end
  table.sort(out, function(a, b)
    if a.path ~= b.path then return a.path < b.path end
    return a.method < b.method
  end)
  return out
end

---------------------------------------------------------------------------
-- JSON bits (the core renders results; only error bodies are written here,
-- without cjson's "\/")

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
              ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function json_string(s)
  s = gsub(tostring(s), '[%c"\\]', function(c)
    return ESC[c] or format("\\u%04x", byte(c))
  end)
  return '"' .. s .. '"'
end

local function error_body(code, message)
  return '{"error":{"code":' .. json_string(code) .. ',"message":' .. json_string(message) .. "}}"
end
_M.error_body = error_body

---------------------------------------------------------------------------
-- status mapping

-- the status of a client fault, by code (any other code: 400)
local STATUS = {
  ERROR_AUTHENTICATE_FAILURE = 401,
  ERROR_PERMISSION_DENIED = 403,
  ERROR_NOT_FOUND = 404,
  ERROR_METHOD_NOT_ALLOWED = 405,
  ERROR_JOB_STATE_CHANGE = 409,
  ERROR_JOB_TASK_STATE_CHANGE = 409,
  ERROR_SAVE_UNIQUE_VALUES = 409,
}
-- codes that are the request's fault whoever reports them (a failure without
-- a class is judged by these)
local CLIENT_CODES = {
  ERROR_REQUIRED_PARAMETER = true,
  ERROR_INVALID_PARAMETER = true,
  ERROR_INVALID_PARAMETER_TYPE = true,
  ERROR_INVALID_ARGUMENT = true,
}
for code in pairs(STATUS) do CLIENT_CODES[code] = true end

local CLASSES = { client = true, unavailable = true, server = true }

--- rest.class_of(code, class) -> "client" | "unavailable" | "server"
-- The class given by the store, else the one its code implies.
function _M.class_of(code, class)
  if CLASSES[class] then return class end
  if type(code) == "string" and (CLIENT_CODES[code] or find(code, "^ERROR_OPERATOR_[%u_]*_TYPE$")) then
    return "client"
  end
  return "server"
end

--- rest.status_of(code, class) -> HTTP status
function _M.status_of(code, class)
  class = _M.class_of(code, class)
  if class == "server" then return 500 end
  if class == "unavailable" then return 503 end
  return STATUS[code] or 400
end

-- a failure of the gateway itself (path, method, identity, body): client faults
local function fail(code, message, headers)
  return _M.status_of(code, "client"), error_body(code, message), headers or {}
end

-- seconds a client is asked to wait after a 503
_M.RETRY_AFTER = "1"

---------------------------------------------------------------------------
-- query strings of the GET routes (grpc-gateway style):
--   "status=SUCCESS&query.page.limit=10&query.only=job_id&query.only=status"
--   -> { status = "SUCCESS", query = { page = { limit = 10 }, only = { "job_id", "status" } } }
-- Dotted keys make nested objects; a repeated key, or a key named "only",
-- makes a list; "start"/"limit" take integers and "minimal"/"count_only"
-- booleans; every other value stays a string. On the list routes a plain
-- "only" or "keyword" goes into "query".

local LIST_ARGS = { only = true }
local INT_ARGS = { start = true, limit = true }
local BOOL_ARGS = { minimal = true, count_only = true }
local BOOLS = { ["true"] = true, ["1"] = true, ["false"] = false, ["0"] = false }

local function unescape(s)
  s = gsub(s, "+", " ")
  return (gsub(s, "%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function typed(name, v)
  if INT_ARGS[name] and find(v, "^%-?%d+$") then return tonumber(v) end
  if BOOL_ARGS[name] and BOOLS[v] ~= nil then return BOOLS[v] end
  return v
end

local function decode_args(qs, in_query)
  local out = {}
  for pair in string.gmatch(qs, "[^&;]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if not k then k, v = pair, "" end
    k, v = unescape(k), unescape(v)
    if in_query and in_query[k] then k = "query." .. k end
    local parts = {}
    for seg in string.gmatch(k, "[^.]+") do parts[#parts + 1] = seg end
    if #parts > 0 and #parts <= 8 then
      local t = out
      for i = 1, #parts - 1 do
        local nxt = t[parts[i]]
        if type(nxt) ~= "table" or nxt[1] ~= nil then nxt = {}; t[parts[i]] = nxt end
        t = nxt
      end
      local name = parts[#parts]
      local cur = t[name]
      v = typed(name, v)
      if LIST_ARGS[name] then
        if type(cur) ~= "table" then cur = {}; t[name] = cur end
        cur[#cur + 1] = v
      elseif cur == nil then
        t[name] = v
      elseif type(cur) == "table" and cur[1] ~= nil then
        cur[#cur + 1] = v
      else
        t[name] = { cur, v }
      end
    end
  end
  return out
end
_M.decode_args = decode_args
local QUERY_ARGS = { only = true, keyword = true }

---------------------------------------------------------------------------
-- identity

-- A header's value by its lowercase name, in a table whose keys are any
-- case. A table with an __index metamethod (ngx.req.get_headers(): keys in
-- lowercase, other spellings found by __index) is not searched key by key.
local function header(headers, name)
  if type(headers) ~= "table" then return nil end
  local v = headers[name]
  if v == nil then
    local mt = getmetatable(headers)
    if not (type(mt) == "table" and mt.__index ~= nil) then
      for k, x in pairs(headers) do
        if type(k) == "string" and lower(k) == name then v = x; break end
      end
    end
  end
  if type(v) == "table" then v = v[1] end
  return v
end

local function bearer_of(v)
  local scheme, token = v:match("^%s*(%a+)%s+(%S+)%s*$")
  if not scheme or lower(scheme) ~= "bearer" then return nil end
  return token
end

--- rest.bearer(headers) -> the token of "Authorization: Bearer <token>" | nil
function _M.bearer(headers)
  local v = header(headers, "authorization")
  if type(v) ~= "string" then return nil end
  return bearer_of(v)
end

-- Identities a resolver of this module made from its token map: checked
-- when the map was loaded, so the handler takes them as they are.
local CHECKED = setmetatable({}, { __mode = "k" })

-- The resolver of a token map: an Authorization header's identity, kept
-- per header text (at most 1,024 texts, then it starts over).
local function map_resolver(map)
  local seen, n = {}, 0
  for _, id in pairs(map) do CHECKED[id] = true end
  return function(headers)
    local v = header(headers, "authorization")
    if type(v) ~= "string" then return nil end
    local id = seen[v]
    if id == nil then
      local token = bearer_of(v)
      id = token and map[token] or false
      if n >= 1024 then seen, n = {}, 0 end
      seen[v] = id
      n = n + 1
    end
    return id or nil
  end
end

-- check and copy one identity; returns identity | nil, reason
local function check_identity(id)
  if type(id) ~= "table" then return nil, "an identity must be an object" end
  if type(id.domain_id) ~= "string" or id.domain_id == "" then
    return nil, "domain_id must be a non-empty string"
  end
  if not ROLES[id.role] then
    return nil, "role must be DOMAIN_ADMIN, WORKSPACE_OWNER or WORKSPACE_MEMBER"
  end
  local out = { domain_id = id.domain_id, role = id.role }
  if id.role ~= "DOMAIN_ADMIN" then
    if type(id.workspace_id) ~= "string" or id.workspace_id == "" then
      return nil, "workspace_id must be a non-empty string for " .. id.role
    end
    out.workspace_id = id.workspace_id
  end
  if id.role == "WORKSPACE_MEMBER" then
    local up = id.user_projects
    if up == nil or up == cjson.null then up = {} end
    if type(up) ~= "table" then return nil, "user_projects must be a list of strings" end
    local list = {}
    for i = 1, #up do
      if type(up[i]) ~= "string" then return nil, "user_projects must be a list of strings" end
      list[i] = up[i]
    end
    for k in pairs(up) do
      if type(k) ~= "number" then return nil, "user_projects must be a list of strings" end
    end
    out.user_projects = list
  end
  return out
end
_M.check_identity = check_identity

--- rest.token_file_resolver(path) -> resolver
-- The token file is one JSON object mapping a bearer token to an identity:
--   { "tok-admin": { "domain_id": "domain-1", "role": "DOMAIN_ADMIN" },
--     "tok-member": { "domain_id": "domain-1", "role": "WORKSPACE_MEMBER",
--                     "workspace_id": "ws-1", "user_projects": ["project-1"] } }
-- Keys starting with "_" are comments and ignored. The file is read once;
-- a missing file or a bad entry raises (fail at start-up, not per request).
function _M.token_file_resolver(path)
  local f, err = io.open(path, "rb")
  if not f then error("inventory.rest: cannot read the token file: " .. tostring(err), 2) end
  local text = f:read("*a")
  f:close()
  local doc, derr = cjson.decode(text)
  if type(doc) ~= "table" or not find(text, "^%s*{") then
    error("inventory.rest: " .. path .. " is not a JSON object: " .. tostring(derr or "wrong type"), 2)
  end
  local map = {}
  for token, id in pairs(doc) do
    if type(token) ~= "string" then error("inventory.rest: " .. path .. ": tokens are strings", 2) end
    if sub(token, 1, 1) ~= "_" then
      local ident, why = check_identity(id)
      if not ident then error("inventory.rest: " .. path .. ": token " .. token .. ": " .. why, 2) end
      map[token] = ident
    end
  end
  return map_resolver(map)
end

--- rest.static_resolver(map) -> resolver, from a Lua table token -> identity (tests)
function _M.static_resolver(map)
  local m = {}
  for token, id in pairs(map) do m[token] = assert(check_identity(id)) end
  return map_resolver(m)
end

---------------------------------------------------------------------------
-- the handler

local Handler = {}
Handler.__index = Handler

--- rest.new{ store = inv, resolver = fn, offload = fn?, log = fn? } -> handler
-- offload(resource, method, request) -> json | nil, msg, code, class: when
-- given, stat and analyze go through it (nginx: ngx.run_worker_thread)
-- instead of the store. log(message, level): where failures are told, level
-- "error" (server faults: a client gets "Internal error." only), "warn"
-- (unavailable) or "info" (client faults); by default they are dropped.
function _M.new(opts)
  if type(opts) ~= "table" then error("bad argument #1 to 'new' (table expected)", 2) end
  if opts.store == nil then error("inventory.rest.new: store is required", 2) end
  if type(opts.resolver) ~= "function" then
    error("inventory.rest.new: resolver must be a function", 2)
  end
  local n = opts.cache_entries
  if n == nil then n = 256 end
  n = tonumber(n)
  if not n then error("inventory.rest.new: cache_entries must be a number", 2) end
  return setmetatable({ store = opts.store, resolver = opts.resolver, offload = opts.offload,
                        log = opts.log or function() end,
                        cache_max = n, cache = {}, cache_n = 0 }, Handler)
end

-- Read results are cached per handler, keyed by the caller's identity, the
-- route and the request text, and tagged with the store's version: a commit
-- by any connection or a write by this one invalidates them, so a hit
-- returns exactly what the store would. A store with cached_call(seen_dv,
-- seen_own, resource, method, req) -> dv, own, json | false (inventory's
-- Store: the version read in the call's own snapshot; a thread-pool store,
-- inventory.ngx_thread.remote: in the same trip as the call) compares the
-- version itself; with version() only, the version is taken before the
-- call. Not kept: responses over 64 KiB, requests over 4 KiB, and requests
-- whose answer moves with the clock (a timediff condition). A full cache
-- starts over.
local CACHED = { get = true, list = true, stat = true, analyze = true }
local CACHE_MAX_BYTES = 65536
local CACHE_MAX_REQUEST = 4096

-- The cache key: every part length-prefixed, so that no text inside one
-- part (a path id, a body) can stand for another part.
local function cache_key(parts)
  local out = {}
  for i = 1, #parts do
    local s = parts[i]
    out[i] = #s .. ":" .. s
  end
  return concat(out)
end

-- The identity's part of a key (role, domain, workspace, user projects),
-- kept for the identities of a token map (they do not change).
local IDKEY = setmetatable({}, { __mode = "k" })
local function identity_key(id)
  local k = IDKEY[id]
  if k then return k end
  local up = id.user_projects
  local parts = { id.role, id.domain_id, id.workspace_id or "", up and tostring(#up) or "-" }
  for i = 1, up and #up or 0 do parts[#parts + 1] = up[i] end
  k = cache_key(parts)
  if CHECKED[id] then IDKEY[id] = k end
  return k
end

-- Does the request hold a timediff condition ("now-1d" moves with the clock)?
local function uses_clock(v, depth)
  if type(v) == "string" then return sub(v, 1, 8) == "timediff" end
  if type(v) ~= "table" or depth > 100 then return type(v) == "table" end
  for k, x in pairs(v) do
    if uses_clock(x, depth + 1) or (type(k) == "string" and uses_clock(k, depth + 1)) then return true end
  end
  return false
end

-- Can the text that became the request spell "timediff"? Not without the
-- word itself or an escape that could write a letter of it (JSON's \u, a
-- query string's %): without them, no string of the request starts so.
local function may_spell_clock(text)
  return type(text) == "string" and (find(text, "timediff", 1, true) ~= nil or find(text, "\\u", 1, true) ~= nil
                                     or find(text, "%", 1, true) ~= nil)
end
local function starts_clock(s)
  return type(s) == "string" and find(s, "timediff", 1, true) == 1
end
-- uses_clock(req, 0), deciding from the texts it was made of when they
-- cannot spell it: the body, the query string, the path's id, the identity
local function request_uses_clock(req, body, qs, idval, id)
  if may_spell_clock(body) or may_spell_clock(qs) or starts_clock(idval) or starts_clock(id.domain_id)
     or starts_clock(id.workspace_id) then
    return uses_clock(req, 0)
  end
  local up = id.user_projects
  for i = 1, up and #up or 0 do
    if starts_clock(up[i]) then return uses_clock(req, 0) end
  end
  return false
end

-- A path echoed in a message: bytes outside printable ASCII %-encoded, so the
-- error body stays valid UTF-8 JSON whatever the client sent.
local function printable(s)
  return (gsub(s, "[^\32-\126]", function(c) return format("%%%02X", byte(c)) end))
end

local OFFLOADED = { stat = true, analyze = true }

-- decode a POST body: "" -> {}; a JSON object -> table; else nil, status...
local function decode_body(body)
  if body == nil then return {} end
  local i = find(body, "%S")
  if not i then return {} end
  if type(body) ~= "string" then
    return nil, "ERROR_INVALID_PARAMETER", "Request body must be JSON text."
  end
  local v, err = cjson.decode(body)
  if v == nil then
    return nil, "ERROR_INVALID_PARAMETER",
      "Parameter is invalid. (key = body, reason = not valid JSON: " .. tostring(err) .. ")"
  end
  -- cjson stops at a NUL byte; JSON text has none outside strings (and a
  -- string spells it \u0000), so whatever follows one is refused like "{} x"
  local nul = find(body, "\0", 1, true)
  if nul then
    return nil, "ERROR_INVALID_PARAMETER",
      "Parameter is invalid. (key = body, reason = not valid JSON: a NUL byte at character " .. nul .. ")"
  end
  if type(v) ~= "table" or byte(body, i) ~= 123 then          -- "{"
    local shown = gsub(sub(body, i, i + 99), "%s+$", "")   -- printable() escapes the bytes
    if find(body, "%S", i + 100) then shown = shown .. "..." end
    return nil, "ERROR_INVALID_PARAMETER_TYPE",
      "Parameter type is invalid. (key = body, type = object, value = " .. printable(shown) .. ")"
  end
  return v
end

-- A failed store call: the status from its class and code; a server fault
-- tells the client "Internal error." and the log the detail.
function Handler:failed(rt, code, message, class)
  class = _M.class_of(code, class)
  local status = _M.status_of(code, class)
  local what = rt.resource .. "." .. rt.method .. ": " .. tostring(code) .. " " .. tostring(message)
  if class == "server" then
    self.log(what, "error")
    return status, error_body(code, "Internal error."), {}
  elseif class == "unavailable" then
    self.log(what, "warn")
    return status, error_body(code, message), { ["Retry-After"] = _M.RETRY_AFTER }
  end
  self.log(what, "info")
  return status, error_body(code, message), {}
end

-- Does the request ask for the store itself ("Cache-Control: no-cache" or
-- max-age=0, or "Pragma: no-cache", in any case)?
local function no_cache(headers)
  local cc, pragma = header(headers, "cache-control"), header(headers, "pragma")
  if cc == nil and pragma == nil then return false end
  local t = lower(tostring(cc or "")) .. " " .. lower(tostring(pragma or ""))
  return find(t, "no-cache", 1, true) ~= nil or find(t, "max-age=0", 1, true) ~= nil
end

local function store_call(store, resource, method, req)
  return store:call(resource, method, req, true)
end

--- h:handle(method, path, body_text, headers, query_string?) -> status, json_text, extra_headers
-- path is the decoded path; without query_string, a "?" in path starts it
-- (nginx passes it apart: a decoded "%3F" is part of the path).
function Handler:handle(method, path, body, headers, qs)
  path = path or ""
  if qs == nil then
    local q = find(path, "?", 1, true)
    if q then qs = sub(path, q + 1); path = sub(path, 1, q - 1) end
  end

  local methods, idkey, idval = route(path)
  if not methods then
    return fail("ERROR_NOT_FOUND", "No such path. (path = " .. printable(path) .. ")")
  end
  local rt = methods[method]
  if not rt or method == "_allow" then
    return 405, error_body("ERROR_METHOD_NOT_ALLOWED",
      "Method is not allowed. (method = " .. tostring(method) .. ", allow = " .. methods._allow .. ")"),
      { Allow = methods._allow }
  end

  -- who is calling
  local ok, ident = pcall(self.resolver, headers or {})
  if not ok then
    self.log("the identity resolver failed: " .. tostring(ident), "error")
    return 500, error_body("ERROR_UNKNOWN", "Internal error."), {}
  end
  if ident == nil or ident == false then
    return 401, error_body("ERROR_AUTHENTICATE_FAILURE",
      "Authenticate failure. (message = a valid bearer token is required)"),
      { ["WWW-Authenticate"] = 'Bearer realm="inventory"' }
  end
  local id, why = ident, nil
  if not CHECKED[ident] then id, why = check_identity(ident) end
  if not id then
    return fail("ERROR_PERMISSION_DENIED", "Permission denied. (reason = " .. why .. ")")
  end
  if rt.method == "delete" and id.role == "WORKSPACE_MEMBER" then
    return fail("ERROR_PERMISSION_DENIED",
      "Permission denied. (role = WORKSPACE_MEMBER, action = delete)")
  end
  if rt.resource == "spot_job" and id.role ~= "DOMAIN_ADMIN" then
    -- a v1 service: its records have no workspace, so no workspace scope exists
    return fail("ERROR_PERMISSION_DENIED",
      "Permission denied. (role = " .. id.role .. ", service = spot-automation)")
  end

  -- the request
  local req, code, msg
  if method == "POST" then
    req, code, msg = decode_body(body)
    if not req then return fail(code, msg) end
  elseif rt.args and qs and qs ~= "" then
    req = decode_args(qs, rt.method == "list" and QUERY_ARGS or nil)
  else
    req = {}
  end
  if rt.method == "list" and method == "GET" and req.query == nil then req.query = {} end
  if idkey then req[idkey] = idval end

  -- scope fixed by the identity
  req.domain_id = id.domain_id
  if id.workspace_id then req.workspace_id = id.workspace_id end
  if id.role == "WORKSPACE_MEMBER" then
    local up = {}
    for i = 1, #id.user_projects do up[i] = id.user_projects[i] end
    req.user_projects = up
  else
    req.user_projects = nil
  end

  local store = self.store
  local offloaded = self.offload and OFFLOADED[rt.method]
  -- a store that compares versions itself (not for a call this handler
  -- sends to its thread pool: inventory's own store runs those inline)
  local cached_call = store.cached_call
  if cached_call and offloaded and not store.remote and store.version then cached_call = nil end
  local ckey, dv, own, hit
  if self.cache_max > 0 and CACHED[rt.method] and (store.version or cached_call)
     and #(body or "") + #(qs or "") <= CACHE_MAX_REQUEST
     and not request_uses_clock(req, body, qs, idval, id) then
    local iv, q, b = idval or "", qs or "", body or ""
    local rk = rt.ckey
    if not rk then rk = #rt.resource .. ":" .. rt.resource .. #rt.method .. ":" .. rt.method; rt.ckey = rk end
    ckey = identity_key(id) .. rk .. #iv .. ":" .. iv .. #method .. ":" .. method .. #q .. ":" .. q
           .. #b .. ":" .. b
    -- "Cache-Control: no-cache" (or max-age=0, or "Pragma: no-cache") asks
    -- for the store itself, and refreshes the entry
    if not no_cache(headers) then hit = self.cache[ckey] end
    if not cached_call then
      dv, own = store:version()
      if not dv then
        ckey = nil
      elseif hit and hit[1] == dv and hit[2] == own then
        return 200, hit[3], {}
      end
    end
  end

  local call_ok, res, err, ecode, eclass
  if ckey and cached_call then
    -- one trip takes the version and, unless it is the cached entry's,
    -- runs the call (a store behind a thread pool: PostgreSQL in nginx)
    call_ok, dv, own, res, err, ecode, eclass = pcall(cached_call, store, hit and hit[1], hit and hit[2],
                                                      rt.resource, rt.method, req)
    if not call_ok then res = dv end
  elseif offloaded then
    call_ok, res, err, ecode, eclass = pcall(self.offload, rt.resource, rt.method, req)
  else
    call_ok, res, err, ecode, eclass = pcall(store_call, store, rt.resource, rt.method, req)
  end
  if not call_ok then
    self.log(rt.resource .. "." .. rt.method .. " raised: " .. tostring(res), "error")
    return 500, error_body("ERROR_UNKNOWN", "Internal error."), {}
  end
  if res == false and hit and dv then return 200, hit[3], {} end      -- unchanged since cached
  if res == nil or res == false then
    return self:failed(rt, ecode or "ERROR_UNKNOWN", err or "unknown error", eclass)
  end
  if ckey and dv and #res <= CACHE_MAX_BYTES then
    local e = self.cache[ckey]
    if e then
      e[1], e[2], e[3] = dv, own, res
    else
      if self.cache_n >= self.cache_max then self.cache, self.cache_n = {}, 0 end
      self.cache[ckey] = { dv, own, res }
      self.cache_n = self.cache_n + 1
    end
  end
  return 200, res, {}
end

_M.Handler = Handler
return _M
