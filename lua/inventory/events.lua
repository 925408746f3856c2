-- inventory.events: Server-Sent Events of the store's change journal, for nginx.
--
--   GET /inventory/v1/events[?job_id=job-…][&collector_id=collector-…]
--   Authorization: Bearer <token>          Last-Event-ID: <seq> (optional)
--
-- One timer per worker reads the journal (inv:changes, written by every
-- writer in the same transaction as its write) and fans each change out to
-- every open stream of that worker whose scope holds it: never one query per
-- stream per tick. The scope is the one list applies: the caller's domain;
-- for workspace roles its workspace and the domain-level records
-- (workspace_id "*"); for members, tasks of its user_projects only (jobs are
-- not project-scoped). A changed record is fetched once per tick
-- (inv:call(resource, "get", …, true): the REST rendering) whatever the
-- number of streams that receive it.
--
-- Events (id: is the journal's seq, increasing in commit order):
--   event: hello     data: {"role":…,"domain_id":…,"workspace_id":…}   (first)
--   event: job       data: the job as the REST API renders it
--   event: job_task  data: the task as the REST API renders it
--   event: delete    data: {"resource":"job","job_id":…} | {"resource":"job_task","job_task_id":…,"job_id":…}
--   event: reset     data: {"reason":…}   reload: a bulk change (import), or the
--                                          client is older than the journal
--   ": keepalive" comments every 15 s (with the stream's position as id:)
-- A client that reconnects with Last-Event-ID (or ?last_event_id=) gets every
-- change it missed, each once, read back from the journal before it rejoins
-- the live fan-out. The stream ends cleanly (a last comment, then the end of
-- the response) when the worker exits (nginx reload or stop).
--
-- Bounded: max_streams per worker (a JSON 503 with Retry-After beyond it);
-- a stream whose client does not keep up (max_pending bytes queued) is
-- ended, and its client resumes from the journal.
--
-- Plain Lua over ngx_lua (timers, ngx.semaphore): runs in LuaJIT 2.1.
local rest = require "inventory.rest"
local semaphore = require "ngx.semaphore"

local ngx = ngx
local type, pairs, ipairs, tostring, tonumber, pcall = type, pairs, ipairs, tostring, tonumber, pcall
local concat, find, gsub, format, byte = table.concat, string.find, string.gsub, string.format,
  string.byte

local _M = {}

local DEFAULTS = {
  interval = 0.25,        -- seconds between two looks at the journal
  max_streams = 1000,     -- open streams per worker
  keepalive = 15,         -- seconds between two comments on a quiet stream
  keep_seconds = 3600,    -- how long the journal keeps a change (trimmed by worker 0)
  trim_interval = 60,     -- seconds between two trims; 0 = never trim here
  page = 1000,            -- changes read per query
  max_pages = 20,         -- queries per tick at most (the rest waits for the next tick)
  max_pending = 1048576,  -- bytes queued for one stream before it is ended
  retry = 2000,           -- the "retry:" (ms) advised to EventSource clients
}

local opt = {}            -- DEFAULTS overridden by init_worker's options
local get_store           -- function() -> this worker's store | nil
local streams = {}        -- open streams: stream -> true
local nstreams = 0
local cursor              -- newest seq fanned out by this worker (nil: not read yet)
local last_dv, last_own   -- the store's version when the journal was last read
local exiting = false
local counters = { events = 0, fetches = 0, reads = 0, ticks = 0, refused = 0, dropped = 0 }

local function log(level, ...)
  ngx.log(level, "inventory events: ", ...)
end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function jstr(s)
  return '"' .. gsub(tostring(s), '[%c"\\]', function(c)
    return ESC[c] or format("\\u%04x", byte(c))
  end) .. '"'
end

-- one SSE event; data is one line of JSON (the core renders no raw newline;
-- should one appear, it becomes a data: line of its own, which SSE rejoins)
local function event(id, name, data)
  if find(data, "[\r\n]") then data = gsub(data, "\r?\n", "\ndata: ") end
  return "id: " .. tostring(id) .. "\nevent: " .. name .. "\ndata: " .. data .. "\n\n"
end

---------------------------------------------------------------------------
-- scope

-- does change c belong to stream s? (list scoping, then the stream's filters)
local function matches(s, c)
  if c.op == "reset" then
    return c.domain_id == nil or c.domain_id == s.domain_id
  end
  if c.domain_id ~= s.domain_id then return false end
  if s.workspace_id and c.workspace_id ~= s.workspace_id and c.workspace_id ~= "*" then
    return false
  end
  if s.projects and c.resource == "job_task" and not s.projects[c.project_id or false] then
    return false
  end
  if s.job_id and (c.job_id or (c.resource == "job" and c.id)) ~= s.job_id then return false end
  if s.collector_id and c.collector_id ~= s.collector_id then return false end
  return true
end
_M.matches = matches

local ID_KEY = { job = "job_id", job_task = "job_task_id" }

-- the text of change c's event; memo holds this round's fetched records.
-- nil: nothing to send (the record is gone since: its delete follows)
local function render(inv, c, memo)
  if c.op == "reset" then
    return event(c.seq, "reset", '{"reason":"bulk change"}')
  end
  local key = ID_KEY[c.resource]
  if not key then return nil end
  if c.op == "delete" then
    local d = '{"resource":' .. jstr(c.resource) .. ',' .. jstr(key) .. ':' .. jstr(c.id)
    if c.resource == "job_task" and c.job_id then d = d .. ',"job_id":' .. jstr(c.job_id) end
    return event(c.seq, "delete", d .. "}")
  end
  local mk = c.resource .. "\0" .. tostring(c.id)
  local json = memo[mk]
  if json == nil then
    counters.fetches = counters.fetches + 1
    local ok, res, err, code = pcall(inv.call, inv, c.resource, "get",
                                     { [key] = c.id, domain_id = c.domain_id }, true)
    if not ok or (res == nil and code ~= "ERROR_NOT_FOUND") then
      log(ngx.ERR, "cannot read ", c.resource, " ", tostring(c.id), ": ",
          tostring(ok and err or res))
    end
    json = ok and res or false
    memo[mk] = json
  end
  if not json then return nil end
  return event(c.seq, c.resource, json)
end

---------------------------------------------------------------------------
-- streams

local function wake(s)
  if s.waiting then s.waiting = false; s.sema:post(1) end
end

local function push(s, text)
  if s.closed then return end
  local n = s.n + 1
  s.buf[n] = text
  s.n = n
  s.bytes = s.bytes + #text
  if s.bytes > opt.max_pending then
    -- the client does not keep up: end the stream; it resumes from the journal
    s.closed = true
    counters.dropped = counters.dropped + 1
  end
end

-- the journal after `after`: result | nil, err
local function read_journal(inv, after, limit)
  counters.reads = counters.reads + 1
  local ok, r, err = pcall(inv.changes, inv, { after = after, limit = limit })
  if not ok then return nil, r end
  if type(r) ~= "table" then return nil, err end
  return r
end

local function reset_all(seq, why)
  for s in pairs(streams) do
    if not s.catching then
      push(s, event(seq, "reset", '{"reason":' .. jstr(why) .. '}'))
      s.seen = seq
      wake(s)
    end
  end
end

-- fan one page of changes out to the live streams
local function fanout(inv, changes)
  local memo = {}
  for i = 1, #changes do
    local c = changes[i]
    local text          -- rendered on first need; false: nothing to send
    for s in pairs(streams) do
      if not s.catching and not s.closed and c.seq > s.seen then
        if matches(s, c) then
          if text == nil then text = render(inv, c, memo) or false end
          if text then push(s, text); counters.events = counters.events + 1 end
        end
        s.seen = c.seq
      end
    end
  end
end

-- make sure this worker knows where the journal ends; true | nil, err
local function ensure_cursor(inv)
  if cursor then return true end
  local r, err = read_journal(inv, 0, 1)
  if not r then return nil, err end
  cursor = tonumber(r.last) or 0
  return true
end

local function tick(premature)
  if premature then
    -- the worker is exiting (reload, stop): end every stream
    exiting = true
    for s in pairs(streams) do s.closed = true; wake(s) end
    return
  end
  local inv = get_store and get_store()
  if not inv or type(inv.changes) ~= "function" then return end   -- no journal: no stream either
  counters.ticks = counters.ticks + 1
  -- nothing committed anywhere since the last read: nothing to read
  local dv, own
  if inv.version then
    local ok, a, b = pcall(inv.version, inv)
    if ok and a then
      dv, own = a, b
      if cursor and dv == last_dv and own == last_own then return end
    end
  end
  if not cursor then
    local ok, err = ensure_cursor(inv)
    if not ok then log(ngx.ERR, "cannot read the change journal: ", tostring(err)); return end
    last_dv, last_own = dv, own
    return
  end
  for _ = 1, opt.max_pages do
    local r, err = read_journal(inv, cursor, opt.page)
    if not r then
      log(ngx.ERR, "cannot read the change journal: ", tostring(err))
      return
    end
    local changes = r.changes or {}
    local last = tonumber(r.last)
    if #changes == 0 then
      if last and last < cursor and r.first ~= nil then
        -- the journal went backwards (the store was replaced): everyone reloads
        -- (an emptied journal, trimmed to nothing, has no first: not a restart)
        cursor = last
        reset_all(last, "the change journal restarted")
      end
      break
    end
    if nstreams > 0 then fanout(inv, changes) end
    cursor = changes[#changes].seq
    if #changes < opt.page then break end
  end
  last_dv, last_own = dv, own
  for s in pairs(streams) do
    if not s.catching then
      if s.seen < cursor then s.seen = cursor end
      if s.n > 0 or s.closed then wake(s) end
    end
  end
end

-- send what is queued; false when the client is gone
local function flush(s)
  if s.n == 0 then return true end
  local text = concat(s.buf, "", 1, s.n)
  s.buf, s.n, s.bytes = {}, 0, 0
  local ok = ngx.print(text)
  if not ok then return false end
  local fok = ngx.flush(true)
  return fok and true or false
end

-- bring a stream that resumed at an older id up to the worker's cursor,
-- page by page from the journal; then it joins the live fan-out. No yield
-- happens between seeing it caught up and clearing `catching`, so no change
-- falls between the two.
local function catch_up(inv, s)
  while s.catching and not s.closed do
    if not cursor then
      local ok, err = ensure_cursor(inv)
      if not ok then return nil, err end
    end
    if s.seen >= cursor then s.catching = false; return true end
    local target = cursor
    local r, err = read_journal(inv, s.seen, opt.page)
    if not r then return nil, err end
    local oldest = tonumber(r.first)
    local changes = r.changes or {}
    if (oldest and s.seen + 1 < oldest) or (oldest == nil and #changes == 0 and s.seen < target) then
      -- what this client missed is no longer kept: it reloads
      push(s, event(target, "reset", '{"reason":"the change journal no longer holds event '
                                      .. tostring(s.seen + 1) .. '"}'))
      s.seen = target
    else
      local memo = {}
      local done = #changes < opt.page
      for i = 1, #changes do
        local c = changes[i]
        if c.seq > target then done = true; break end
        if matches(s, c) then
          local text = render(inv, c, memo)
          if text then push(s, text); counters.events = counters.events + 1 end
        end
        s.seen = c.seq
      end
      if done and s.seen < target then s.seen = target end
    end
    if not flush(s) then s.closed = true end
  end
  return true
end

---------------------------------------------------------------------------
-- the content handler

local function refuse(status, code, message, headers)
  local body = rest.error_body(code, message)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = #body
  for k, v in pairs(headers or {}) do ngx.header[k] = v end
  ngx.print(body)
end

local function one_arg(args, name)
  local v = args[name]
  if v == nil then return nil end
  if type(v) ~= "string" or v == "" or #v > 128 then
    return nil, "Parameter is invalid. (key = " .. name .. ", reason = one non-empty id)"
  end
  return v
end

--- events.handle(store, resolver): the content handler of GET /inventory/v1/events.
function _M.handle(inv, resolver)
  local method = ngx.req.get_method()
  if method ~= "GET" then
    return refuse(405, "ERROR_METHOD_NOT_ALLOWED",
      "Method is not allowed. (method = " .. method .. ", allow = GET)", { Allow = "GET" })
  end
  local headers = ngx.req.get_headers()
  local rok, ident = pcall(resolver, headers)
  if not rok then
    log(ngx.ERR, "the identity resolver failed: ", tostring(ident))
    return refuse(500, "ERROR_UNKNOWN", "Internal error.")
  end
  if not ident then
    return refuse(401, "ERROR_AUTHENTICATE_FAILURE",
      "Authenticate failure. (message = a valid bearer token is required)",
      { ["WWW-Authenticate"] = 'Bearer realm="inventory"' })
  end
  local id, why = rest.check_identity(ident)
  if not id then
    return refuse(403, "ERROR_PERMISSION_DENIED", "Permission denied. (reason = " .. why .. ")")
  end
  if type(inv.changes) ~= "function" then
    return refuse(503, "ERROR_UNAVAILABLE", "This store keeps no change journal.")
  end

  local args = ngx.req.get_uri_args(20)
  local job_id, e1 = one_arg(args, "job_id")
  local collector_id, e2 = one_arg(args, "collector_id")
  if e1 or e2 then return refuse(400, "ERROR_INVALID_PARAMETER", e1 or e2) end
  local last = headers["last-event-id"]
  if type(last) == "table" then last = last[1] end
  if last == nil or last == "" then last = args.last_event_id end
  if type(last) ~= "string" or not find(last, "^%d+$") or #last > 15 then last = nil end
  last = last and tonumber(last)

  if exiting or ngx.worker.exiting() then
    return refuse(503, "ERROR_UNAVAILABLE", "The server is restarting. Retry later.",
                  { ["Retry-After"] = "1" })
  end
  if nstreams >= opt.max_streams then
    counters.refused = counters.refused + 1
    return refuse(503, "ERROR_UNAVAILABLE",
      "Too many open event streams on this server process. (limit = "
      .. opt.max_streams .. ") Retry later.", { ["Retry-After"] = "5" })
  end
  local ok, err = ensure_cursor(inv)
  if not ok then
    log(ngx.ERR, "cannot read the change journal: ", tostring(err))
    return refuse(503, "ERROR_UNAVAILABLE", "The change journal is unavailable.")
  end

  local projects
  if id.role == "WORKSPACE_MEMBER" then
    projects = {}
    for _, p in ipairs(id.user_projects) do projects[p] = true end
  end
  local s = {
    sema = semaphore.new(0), buf = {}, n = 0, bytes = 0, waiting = false, closed = false,
    domain_id = id.domain_id, workspace_id = id.workspace_id, projects = projects,
    job_id = job_id, collector_id = collector_id,
    seen = cursor, catching = false,
  }
  if last and last < cursor then s.seen, s.catching = last, true end

  local hello = '{"role":' .. jstr(id.role) .. ',"domain_id":' .. jstr(id.domain_id)
  if id.workspace_id then hello = hello .. ',"workspace_id":' .. jstr(id.workspace_id) end
  if id.user_projects then
    local p = {}
    for i, x in ipairs(id.user_projects) do p[i] = jstr(x) end
    hello = hello .. ',"user_projects":[' .. concat(p, ",") .. "]"
  end
  -- a fresh stream starts at the cursor: its id: makes a reconnect resume there
  push(s, (s.catching and "" or "id: " .. tostring(s.seen) .. "\n") .. "retry: " .. opt.retry
          .. "\nevent: hello\ndata: " .. hello .. "}\n\n")
  if last and last > cursor then
    -- an id this journal never gave (the store was replaced): reload
    push(s, event(cursor, "reset", '{"reason":"unknown event id ' .. tostring(last) .. '"}'))
  end
  streams[s] = true
  nstreams = nstreams + 1
  local function close()
    if streams[s] then streams[s] = nil; nstreams = nstreams - 1 end
  end

  -- the client closing is noticed at once (lua_check_client_abort on)
  pcall(ngx.on_abort, function() s.closed = true; wake(s) end)

  ngx.status = 200
  ngx.header["Content-Type"] = "text/event-stream; charset=utf-8"
  ngx.header["Cache-Control"] = "no-cache"
  ngx.header["X-Accel-Buffering"] = "no"
  if not flush(s) then close(); return end

  local pok, perr = pcall(function()
    while not s.closed do
      if s.catching then
        local cok, cerr = catch_up(inv, s)
        if not cok then
          log(ngx.ERR, "cannot read the change journal: ", tostring(cerr))
          break
        end
      end
      if not flush(s) then s.closed = true; break end
      if s.closed or exiting then break end
      s.waiting = true
      local wok, werr = s.sema:wait(opt.keepalive)
      s.waiting = false
      if not wok then
        if werr ~= "timeout" then break end
        push(s, "id: " .. tostring(s.seen) .. "\n: keepalive\n\n")
      end
      if exiting or ngx.worker.exiting() then break end
    end
  end)
  close()
  if not pok then log(ngx.ERR, "stream failed: ", tostring(perr)) end
  if exiting or ngx.worker.exiting() then
    -- a clean end: what is queued, a last comment, then the end of the response;
    -- EventSource reconnects (to a new worker) with its Last-Event-ID
    s.closed = false
    push(s, ": the server is restarting\n\n")
    flush(s)
  end
  ngx.eof()
end

---------------------------------------------------------------------------
-- set-up

--- events.init_worker{ store = function() -> inv | nil, interval =, max_streams =,
--- keepalive =, keep_seconds =, trim_interval =, … }: from init_worker_by_lua*.
function _M.init_worker(o)
  o = o or {}
  for k, v in pairs(DEFAULTS) do
    local x = o[k]
    opt[k] = (x ~= nil and tonumber(x)) or v
  end
  get_store = o.store
  local ok, err = ngx.timer.every(opt.interval, tick)
  if not ok then log(ngx.ERR, "cannot start the journal timer: ", err) end
  if ngx.worker.id() == 0 and opt.trim_interval > 0 and opt.keep_seconds > 0 then
    ok, err = ngx.timer.every(opt.trim_interval, function(premature)
      if premature then return end
      local inv = get_store and get_store()
      if not inv or type(inv.trim_changes) ~= "function" then return end
      local tok, n, terr = pcall(inv.trim_changes, inv, { keep_seconds = opt.keep_seconds })
      if not tok or n == nil then
        log(ngx.ERR, "trimming the change journal failed: ", tostring(tok and terr or n))
      end
    end)
    if not ok then log(ngx.ERR, "cannot start the journal trim timer: ", err) end
  end
end

--- events.stats() -> { streams =, cursor =, events =, fetches =, reads =, ticks =,
--- refused =, dropped = } for this worker (metrics).
function _M.stats()
  local t = { streams = nstreams, cursor = cursor }
  for k, v in pairs(counters) do t[k] = v end
  return t
end

return _M
