-- inventory.metrics: /healthz and /metrics for nginx (ngx_lua), in the
-- Prometheus text exposition format 0.0.4.
--
-- Wired by inventory.ngx (init_worker, healthz, metrics, log) and the shipped
-- nginx.conf:
--   lua_shared_dict inventory_metrics 4m;           # per-route counters, all workers
--   log_by_lua_block { require("inventory.ngx").log() }
--   location = /healthz { content_by_lua_block { require("inventory.ngx").healthz() } }
--   location = /metrics { content_by_lua_block { require("inventory.ngx").metrics() } }
--
-- Options (init_worker's table): metrics_allow = { "127.0.0.1", "10.0.0.0/8", ... }
-- (client addresses or IPv4 CIDRs that may read /metrics; default 127.0.0.1
-- only, since the labels name tenants), metrics_interval = 15 (seconds: the
-- store's gauges are computed at most this often, by whichever worker is
-- scraped), metrics_dict = "inventory_metrics".
--
-- Series:
--   inventory_http_requests_total{route,code}          counter, summed over workers
--   inventory_http_request_duration_seconds{route}     histogram
--   inventory_read_cache_hits_total / _misses_total    the REST read-result cache
--   inventory_jobs{domain_id,status}, inventory_job_tasks{domain_id,status}   gauges
--   inventory_job_duration_seconds{domain_id}          histogram of the jobs finished
--                                                      in the last hour (recomputed)
--   inventory_oldest_in_progress_job_age_seconds{domain_id}
--   inventory_store_size_bytes, inventory_store_stats_age_seconds,
--   inventory_store_stats_duration_seconds
local rest = require "inventory.rest"

local ngx = ngx
local type, ipairs, tostring, tonumber = type, ipairs, tostring, tonumber
local format, concat, sort, find, sub, gsub = string.format, table.concat, table.sort,
  string.find, string.sub, string.gsub

local _M = {}

local DICT = "inventory_metrics"
local INTERVAL = 15
local ALLOW = { "127.0.0.1" }
local allow_v4                       -- { { net, mask } } compiled from ALLOW
local allow_exact                    -- { [addr] = true }

local REQUEST_BUCKETS = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 }
local JOB_BUCKETS = { 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400 }

---------------------------------------------------------------------------
-- routes: the REST routes' templates (bounded label values)

local exact, prefixes
local function route_label(uri)
  if not exact then
    exact, prefixes = {}, {}
    for _, r in ipairs(rest.routes()) do
      local brace = find(r.path, "{", 1, true)
      if brace then
        prefixes[#prefixes + 1] = { sub(r.path, 1, brace - 1), r.path }
      else
        exact[r.path] = true
      end
    end
    exact["/healthz"] = true
    exact["/metrics"] = true
  end
  if exact[uri] then return uri end
  for _, p in ipairs(prefixes) do
    local n = #p[1]
    if sub(uri, 1, n) == p[1] and #uri > n and not find(uri, "/", n + 1, true) then return p[2] end
  end
  return "unmatched"
end
_M.route_label = route_label

---------------------------------------------------------------------------
-- the allow-list

local function ipv4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  if not (a and a < 256 and b < 256 and c < 256 and d < 256) then return nil end
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local function compile_allow(list)
  allow_v4, allow_exact = {}, {}
  for _, e in ipairs(list) do
    if type(e) ~= "string" then error("inventory.metrics: metrics_allow holds addresses (strings)", 3) end
    local addr, bits = e:match("^([%d%.]+)/(%d+)$")
    if addr then
      local n, b = ipv4(addr), tonumber(bits)
      if not n or b > 32 then error("inventory.metrics: bad CIDR " .. e, 3) end
      local size = 2 ^ (32 - b)
      allow_v4[#allow_v4 + 1] = { n - n % size, size }
    else
      allow_exact[e] = true
    end
  end
end

local function allowed(addr)
  if not addr then return false end
  if allow_exact[addr] then return true end
  local n = ipv4(addr)
  if n then
    for _, net in ipairs(allow_v4) do
      if n - n % net[2] == net[1] then return true end
    end
  end
  return false
end
_M.allowed = function(addr) return allowed(addr) end

--- init_worker(cfg): read the options (see the top of this file).
function _M.init_worker(cfg)
  cfg = cfg or {}
  DICT = cfg.metrics_dict or DICT
  INTERVAL = tonumber(cfg.metrics_interval) or INTERVAL
  local list = cfg.metrics_allow or ALLOW
  if type(list) == "string" then list = { list } end
  if type(list) ~= "table" then error("inventory.metrics: metrics_allow is a list of addresses", 2) end
  compile_allow(list)
end
compile_allow(ALLOW)

local function dict()
  return ngx.shared[DICT]
end

---------------------------------------------------------------------------
-- counting requests (log phase)

local function bucket_index(buckets, v)
  for i = 1, #buckets do if v <= buckets[i] then return i end end
  return #buckets + 1                  -- +Inf
end

--- log(): in log_by_lua*, counts the request by route and status.
function _M.log()
  local d = dict()
  if not d then return end
  local route = route_label(ngx.var.uri or "")
  local code = tostring(ngx.status or 0)
  local t = tonumber(ngx.var.request_time) or 0
  d:incr("c\1" .. route .. "\1" .. code, 1, 0)
  d:incr("h\1" .. route .. "\1" .. bucket_index(REQUEST_BUCKETS, t), 1, 0)
  d:incr("s\1" .. route, t, 0)
  local cache = ngx.ctx.inventory_cache
  if cache == "lookup" and ngx.status == 200 then d:incr("cache\1hit", 1, 0)
  elseif cache == "miss" then d:incr("cache\1miss", 1, 0) end
end

--- instrument(store), instrument_offload(fn): what the REST handler sees of
-- the store, telling log() whether a read was a cache hit: the handler asks
-- the store's version exactly when it looks in its cache, and calls the
-- store (or the thread pool) only on a miss.
function _M.instrument(store)
  local proxy = {}
  function proxy.version()
    ngx.ctx.inventory_cache = "lookup"
    return store:version()
  end
  function proxy.call(_, ...)
    if ngx.ctx.inventory_cache == "lookup" then ngx.ctx.inventory_cache = "miss" end
    return store:call(...)
  end
  return proxy
end

function _M.instrument_offload(fn)
  if not fn then return nil end
  return function(...)
    if ngx.ctx.inventory_cache == "lookup" then ngx.ctx.inventory_cache = "miss" end
    return fn(...)
  end
end

---------------------------------------------------------------------------
-- exposition

local function esc(v)
  return (gsub(tostring(v), '[\\"\n]', { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

local function num(v)
  if v ~= v then return "NaN" end
  if v == math.huge then return "+Inf" end
  if v == -math.huge then return "-Inf" end
  if v == math.floor(v) and v > -1e15 and v < 1e15 then return format("%d", v) end
  local short = format("%.15g", v)            -- 0.0025, not 0.0025000000000000001
  if tonumber(short) == v then return short end
  return format("%.17g", v)
end

local function labels(names, values)
  if #names == 0 then return "" end
  local parts = {}
  for i, n in ipairs(names) do parts[i] = n .. '="' .. esc(values[i]) .. '"' end
  return "{" .. concat(parts, ",") .. "}"
end

local function header(out, name, typ, help)
  out[#out + 1] = "# HELP " .. name .. " " .. help
  out[#out + 1] = "# TYPE " .. name .. " " .. typ
end

-- histogram lines from per-bucket counts (not cumulative) and a sum
local function histogram(out, name, lnames, lvalues, buckets, counts, sum)
  local acc = 0
  local ln = {}
  for i, n in ipairs(lnames) do ln[i] = n end
  ln[#ln + 1] = "le"
  for i = 1, #buckets + 1 do
    acc = acc + (counts[i] or 0)
    local lv = {}
    for j, v in ipairs(lvalues) do lv[j] = v end
    lv[#lv + 1] = i <= #buckets and num(buckets[i]) or "+Inf"
    out[#out + 1] = name .. "_bucket" .. labels(ln, lv) .. " " .. num(acc)
  end
  out[#out + 1] = name .. "_sum" .. labels(lnames, lvalues) .. " " .. num(sum)
  out[#out + 1] = name .. "_count" .. labels(lnames, lvalues) .. " " .. num(acc)
end

local function split(key)
  local parts = {}
  for p in (key .. "\1"):gmatch("([^\1]*)\1") do parts[#parts + 1] = p end
  return parts
end

local function request_series(out, d)
  local counts, hist, sums = {}, {}, {}
  local routes, seen = {}, {}
  for _, key in ipairs(d:get_keys(0)) do
    local p = split(key)
    local v = d:get(key)
    if p[1] == "c" and v then
      counts[#counts + 1] = { p[2], p[3], v }
    elseif p[1] == "h" and v then
      hist[p[2]] = hist[p[2]] or {}
      hist[p[2]][tonumber(p[3])] = v
      if not seen[p[2]] then seen[p[2]] = true; routes[#routes + 1] = p[2] end
    elseif p[1] == "s" and v then
      sums[p[2]] = v
    end
  end
  sort(counts, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  sort(routes)
  header(out, "inventory_http_requests_total", "counter", "HTTP requests answered, by route and status code.")
  for _, c in ipairs(counts) do
    out[#out + 1] = "inventory_http_requests_total" .. labels({ "route", "code" }, { c[1], c[2] }) .. " " .. num(c[3])
  end
  header(out, "inventory_http_request_duration_seconds", "histogram",
         "Time to answer an HTTP request (nginx's request_time), by route.")
  for _, r in ipairs(routes) do
    histogram(out, "inventory_http_request_duration_seconds", { "route" }, { r }, REQUEST_BUCKETS,
              hist[r], sums[r] or 0)
  end
  header(out, "inventory_read_cache_hits_total", "counter",
         "Reads answered from a worker's read-result cache.")
  out[#out + 1] = "inventory_read_cache_hits_total " .. num(d:get("cache\1hit") or 0)
  header(out, "inventory_read_cache_misses_total", "counter",
         "Cacheable reads that asked the store.")
  out[#out + 1] = "inventory_read_cache_misses_total " .. num(d:get("cache\1miss") or 0)
end

-- The store's series, as text, computed at most every INTERVAL seconds and
-- kept in the shared dict for every worker.
local function store_series(d, get_store, offload)
  local now = ngx.now()
  local text, at = d:get("store\1text"), d:get("store\1at")
  if text and at and now - at < INTERVAL then return text, now - at end
  -- one worker computes; the others serve the previous text meanwhile
  if text and not d:add("store\1lock", true, 30) then return text, now - (at or now) end
  local t0 = ngx.now()
  local json, msg, code
  if offload then
    json, msg, code = offload("store", "metrics", {})
  else
    local store = get_store()
    if store then json, msg, code = store:call("store", "metrics", {}, true)
    else msg = "the store is unavailable" end
  end
  ngx.update_time()
  local took = ngx.now() - t0
  d:delete("store\1lock")
  if not json then
    ngx.log(ngx.ERR, "inventory: metrics: ", tostring(code), " ", tostring(msg))
    return text, at and now - at or nil
  end
  local m = require("cjson.safe").decode(json)
  if type(m) ~= "table" then return text, at and now - at or nil end
  local out = {}
  local function counts(name, help, rows)
    header(out, name, "gauge", help)
    for _, r in ipairs(rows or {}) do
      out[#out + 1] = name .. labels({ "domain_id", "status" }, { r.domain_id, r.status }) .. " " .. num(r.count)
    end
  end
  counts("inventory_jobs", "Jobs in the store, by domain and status.", m.jobs)
  counts("inventory_job_tasks", "Job tasks in the store, by domain and status.", m.job_tasks)
  -- jobs finished in the last hour, by domain
  local per, domains = {}, {}
  for _, f in ipairs(m.finished or {}) do
    local h = per[f.domain_id]
    if not h then
      h = { counts = {}, sum = 0 }
      per[f.domain_id] = h
      domains[#domains + 1] = f.domain_id
    end
    local i = bucket_index(JOB_BUCKETS, f.seconds)
    h.counts[i] = (h.counts[i] or 0) + 1
    h.sum = h.sum + f.seconds
  end
  sort(domains)
  header(out, "inventory_job_duration_seconds", "histogram",
         "Run time (finished_at - created_at) of the jobs that finished in the last hour, by domain.")
  for _, dom in ipairs(domains) do
    histogram(out, "inventory_job_duration_seconds", { "domain_id" }, { dom }, JOB_BUCKETS,
              per[dom].counts, per[dom].sum)
  end
  header(out, "inventory_oldest_in_progress_job_age_seconds", "gauge",
         "Age of the oldest IN_PROGRESS job, by domain (absent when none).")
  for _, o in ipairs(m.oldest_in_progress or {}) do
    out[#out + 1] = "inventory_oldest_in_progress_job_age_seconds" .. labels({ "domain_id" }, { o.domain_id })
                    .. " " .. num(o.age_seconds)
  end
  header(out, "inventory_store_size_bytes", "gauge", "Size of the store (the database's pages).")
  out[#out + 1] = "inventory_store_size_bytes " .. num(m.size_bytes or 0)
  header(out, "inventory_store_stats_duration_seconds", "gauge", "Time the store's gauges took to compute.")
  out[#out + 1] = "inventory_store_stats_duration_seconds " .. num(took)
  text = concat(out, "\n")
  d:set("store\1text", text)
  d:set("store\1at", now)
  return text, 0
end

local function json(status, body, no_store)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = #body
  if no_store then ngx.header["Cache-Control"] = "no-store" end
  ngx.print(body)
end

local function json_error(status, code, message)
  json(status, rest.error_body(code, message))
end

--- metrics(get_store, offload?): the /metrics content handler.
-- get_store() -> this worker's store or nil; offload(resource, method, req)
-- runs the store's summary in the thread pool (json | nil, msg, code).
function _M.metrics(get_store, offload)
  if not allowed(ngx.var.remote_addr) then
    return json_error(403, "ERROR_PERMISSION_DENIED",
                      "Permission denied. (reason = this address may not read /metrics)")
  end
  local d = dict()
  if not d then
    ngx.log(ngx.ERR, "inventory: metrics: no lua_shared_dict ", DICT)
    return json_error(500, "ERROR_UNKNOWN", "Internal error.")
  end
  local out = {}
  request_series(out, d)
  local text, age = store_series(d, get_store, offload)
  if text then out[#out + 1] = text end
  header(out, "inventory_store_stats_age_seconds", "gauge",
         "Seconds since the store's gauges were computed (they are kept for metrics_interval).")
  if age then out[#out + 1] = "inventory_store_stats_age_seconds " .. num(age) end
  local body = concat(out, "\n") .. "\n"
  ngx.status = 200
  ngx.header["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
  ngx.header["Content-Length"] = #body
  ngx.print(body)
end

--- healthz(get_store): 200 {"status":"ok"} when the store answers a
-- trivial query, else 503 with a JSON error.
function _M.healthz(get_store)
  local store, why = get_store()
  local info, msg, code = nil, why or "The inventory store is unavailable.", "ERROR_UNKNOWN"
  if store then
    local ok
    ok, info, msg, code = pcall(store.info, store)
    if not ok then info, msg, code = nil, tostring(info), "ERROR_UNKNOWN" end
  end
  if not info then
    ngx.log(ngx.ERR, "inventory: healthz: ", tostring(code), " ", tostring(msg))
    return json(503, rest.error_body(code or "ERROR_UNKNOWN", "The inventory store does not answer."), true)
  end
  json(200, '{"status":"ok"}', true)
end

return _M
