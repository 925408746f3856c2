-- inventory.cli: the `inventory` command line (bin/inventory), over the
-- public Lua API. main(argv) runs one command and returns the exit status:
-- 0 success, 1 an API error (its code and message on stderr, nothing on
-- stdout), a failed check or output that could not be written, 2 a usage
-- error (a short usage line on stderr, before the command does anything).
-- No Lua traceback reaches the user.
--
--   local status = require("inventory.cli").main(arg)
--
-- Output formats (-o): table (default on a terminal or with -c), json
-- (default otherwise; for API calls, exactly the text the REST API answers
-- for the same request; -c is refused with it), yaml, csv, ids. Each
-- command declares the formats it prints.

local inventory = require "inventory"

local type, pairs, ipairs, tostring, tonumber, select = type, pairs, ipairs, tostring, tonumber, select
local format, rep, concat, sort = string.format, string.rep, table.concat, table.sort
local getenv = os.getenv

local M = { _VERSION = inventory._VERSION }

local err = io.stderr

---------------------------------------------------------------------------
-- errors: usage (exit 2), API (exit 1) and a failed write of the output
-- (exit 1) are thrown as tables

local Usage = {}
local ApiError = {}
local WriteError = {}

-- stdout, every write and flush checked: a full disk, a closed pipe or
-- /dev/full is "inventory: cannot write output: <reason>" and exit 1
local stdout = io.stdout
local function write_failed(e)
  error(setmetatable({ msg = tostring(e or "write error") }, WriteError), 0)
end
local out = {}
function out.write(_, ...)
  local ok, e = stdout:write(...)
  if not ok then write_failed(e) end
  return out
end
function out.flush()
  local ok, e = stdout:flush()
  if not ok then write_failed(e) end
  return out
end

local function usage(msg, cmd)
  error(setmetatable({ msg = msg, cmd = cmd }, Usage), 0)
end

local function api_fail(msg, code)
  error(setmetatable({ msg = msg, code = code }, ApiError), 0)
end

-- check an API result: value | nil, msg, code
local function checked(v, msg, code)
  if v == nil then api_fail(msg, code) end
  return v, msg
end

---------------------------------------------------------------------------
-- JSON: inventory.decode reads requests (the core's parser: null kept, an
-- empty list marked as one); writing is ours (integers stay integers,
-- empty lists are [], no "\/", keys in the API's field order)

local function json_decode(text, what)
  local v, e = inventory.decode(text)
  if v == nil then usage(what .. ": not valid JSON (" .. tostring(e) .. ")") end
  return v
end

local FIELD_ORDER = {
  "results", "records",
  -- Job
  "job_id", "status", "filter", "total_tasks", "remained_tasks", "success_tasks", "failure_tasks",
  "errors", "collector_info", "request_secret_id", "request_workspace_id", "resource_group",
  -- JobTask
  "job_task_id", "provider", "total_sub_tasks", "remained_sub_tasks", "created_count",
  "updated_count", "failure_count", "deleted_count", "disconnected_count", "total_count",
  "secret_id", "collector_id", "service_account_id", "project_id", "plugin_id", "domain_id",
  "workspace_id", "created_at", "updated_at", "started_at", "finished_at",
  -- results and the rest
  "results", "more", "records", "next", "ok", "problems", "error_code", "message", "additional",
  "jobs", "tasks", "imported", "program", "lua", "backend", "engine_version", "schema_version",
  "schema_supported", "size_bytes", "path",
}
local RANK = {}
for i, k in ipairs(FIELD_ORDER) do if not RANK[k] then RANK[k] = i end end
-- the job fields' order wins for names both have (status, errors, ...);
-- a task's job_id renders after its counters
local TASK_RANK = {}
for i, k in ipairs{ "job_task_id", "status", "provider", "total_sub_tasks", "remained_sub_tasks",
  "created_count", "updated_count", "failure_count", "deleted_count", "disconnected_count",
  "total_count", "errors", "job_id", "secret_id", "collector_id", "service_account_id",
  "project_id", "workspace_id", "domain_id", "created_at", "started_at", "finished_at" } do
  TASK_RANK[k] = i
end

local ORDERED = {}                      -- metatable field: a projected record's key order

local function sorted_keys(t)
  local mt = getmetatable(t)
  if mt and mt[ORDERED] then return mt[ORDERED] end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  local rank = t.job_task_id ~= nil and TASK_RANK or RANK
  sort(keys, function(a, b)
    local ra, rb = rank[a] or RANK[a] or 1000, rank[b] or RANK[b] or 1000
    if ra ~= rb then return ra < rb end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local function is_list(t)
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" then return false end
    n = n + 1
  end
  return n == #t
end

-- fields whose empty value is an object, not a list
local OBJECT_FIELDS = { filter = true, collector_info = true, additional = true }

local math_type = math.type
local function number_text(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if math_type then
    if math_type(n) == "integer" then return format("%d", n) end
    if n == math.floor(n) and n > -2^53 and n < 2^53 then return format("%.1f", n) end
    return format("%.17g", n)
  end
  -- LuaJIT: every number is a double; the store's integers come as such
  if n == math.floor(n) and n > -2^63 and n < 2^63 then return format("%d", n) end
  return format("%.17g", n)
end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
              ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return ESC[c] or format("\\u%04x", c:byte()) end) .. '"'
end

-- an empty table as JSON: as the store marked it (inventory.array_mt,
-- object_mt), else by its field
local function empty_text(v, key)
  local mt = getmetatable(v)
  if mt == inventory.array_mt then return "[]" end
  if mt == inventory.object_mt or OBJECT_FIELDS[key] then return "{}" end
  return "[]"
end

local function json_encode(v, key)
  local t = type(v)
  if t == "string" then return json_string(v) end
  if t == "number" then return number_text(v) end
  if t == "boolean" then return tostring(v) end
  if v == nil or v == inventory.null then return "null" end
  if t ~= "table" then return json_string(tostring(v)) end
  if next(v) == nil then return empty_text(v, key) end
  local parts = {}
  if is_list(v) then
    for i = 1, #v do parts[i] = json_encode(v[i], key) end
    return "[" .. concat(parts, ",") .. "]"
  end
  for _, k in ipairs(sorted_keys(v)) do
    parts[#parts + 1] = json_string(tostring(k)) .. ":" .. json_encode(v[k], k)
  end
  return "{" .. concat(parts, ",") .. "}"
end
M.json_encode = json_encode

---------------------------------------------------------------------------
-- terminal

local tty_cache = {}
local function isatty(fd)
  if tty_cache[fd] == nil then
    local a = os.execute("test -t " .. fd)
    tty_cache[fd] = a == true or a == 0
  end
  return tty_cache[fd]
end

local function term_width()
  local c = tonumber(getenv("COLUMNS") or "")
  if c and c >= 20 then return math.floor(c) end
  if not isatty(1) then return nil end
  local p = io.popen("stty size < /dev/tty 2>/dev/null")
  local s = p and p:read("*a") or ""
  if p then p:close() end
  local w = tonumber(s:match("%d+%s+(%d+)"))
  return w and w >= 20 and w or 80
end

local function use_color()
  return isatty(1) and getenv("NO_COLOR") == nil and getenv("TERM") ~= "dumb"
end

-- display width of one UTF-8 character: 2 for East Asian wide and
-- fullwidth forms (CJK, Hangul, kana, fullwidth ASCII, emoji), 0 for
-- combining marks and zero-width characters, else 1
local WIDE = { 0x1100, 0x115F, 0x2E80, 0x303E, 0x3041, 0x33FF, 0x3400, 0x4DBF, 0x4E00, 0x9FFF,
               0xA000, 0xA4CF, 0xAC00, 0xD7A3, 0xF900, 0xFAFF, 0xFE30, 0xFE4F, 0xFF00, 0xFF60,
               0xFFE0, 0xFFE6, 0x1F300, 0x1F64F, 0x1F900, 0x1F9FF, 0x20000, 0x3FFFD }
local ZERO = { 0x0300, 0x036F, 0x200B, 0x200F, 0xFE00, 0xFE0F }
local function in_ranges(r, c)
  for i = 1, #r, 2 do
    if c < r[i] then return false end
    if c <= r[i + 1] then return true end
  end
  return false
end
local function char_width(ch)
  local b = ch:byte(1)
  if b < 0xC0 then return 1 end
  local c
  if b < 0xE0 then c = (b - 0xC0) * 64 + (ch:byte(2) or 128) - 128
  elseif b < 0xF0 then c = ((b - 0xE0) * 64 + (ch:byte(2) or 128) - 128) * 64 + (ch:byte(3) or 128) - 128
  else c = (((b - 0xF0) * 64 + (ch:byte(2) or 128) - 128) * 64 + (ch:byte(3) or 128) - 128) * 64
           + (ch:byte(4) or 128) - 128 end
  if in_ranges(ZERO, c) then return 0 end
  return in_ranges(WIDE, c) and 2 or 1
end
local UTF8_CHAR = "[%z\1-\127\194-\244][\128-\191]*"

-- display width of a string, in terminal columns
local function width(s)
  if not s:find("[\128-\255]") then return #s end
  local n = 0
  for ch in s:gmatch(UTF8_CHAR) do n = n + char_width(ch) end
  return n
end

local function cut(s, w)
  if width(s) <= w then return s end
  if w <= 1 then return w == 1 and "~" or "" end
  local n, outp = 0, {}
  for ch in s:gmatch(UTF8_CHAR) do
    local cw = char_width(ch)
    if n + cw > w - 1 then break end
    outp[#outp + 1] = ch
    n = n + cw
  end
  return concat(outp) .. "~"
end

local COLORS = { SUCCESS = "32", FAILURE = "31", ERROR = "31", TIMEOUT = "31", IN_PROGRESS = "33",
                 PENDING = "36", CANCELED = "2", CREATED = "36" }

---------------------------------------------------------------------------
-- resources and their columns

local RESOURCES = {
  job = { name = "job", id = "job_id",
          columns = { "job_id", "status", "collector_id", "plugin_id", "total_tasks", "remained_tasks",
                      "failure_tasks", "created_at", "finished_at" },
          -- on a narrow terminal these go first, in this order
          drop = { "plugin_id", "remained_tasks", "failure_tasks", "total_tasks", "finished_at",
                   "collector_id", "created_at" } },
  job_task = { name = "job_task", id = "job_task_id",
               columns = { "job_task_id", "status", "job_id", "project_id", "created_count",
                           "updated_count", "failure_count", "started_at", "finished_at" },
               drop = { "updated_count", "project_id", "started_at", "failure_count", "created_count",
                        "finished_at", "job_id" } },
  spot_job = { name = "spot_job", id = "job_id",
               columns = { "job_id", "status", "total_tasks", "remained_tasks", "project_id",
                           "created_at", "finished_at" },
               drop = { "project_id", "remained_tasks", "total_tasks", "finished_at", "created_at" } },
}
local MINIMAL = {
  job = { "job_id", "status", "collector_id", "plugin_id", "created_at", "finished_at" },
  job_task = { "job_task_id", "status", "job_id", "created_count", "updated_count", "failure_count",
               "deleted_count", "disconnected_count", "created_at", "started_at", "finished_at" },
  spot_job = { "job_id", "status", "created_at", "finished_at" },
}
local ALIASES = {
  job = "job", jobs = "job", Job = "job", ["inventory.Job"] = "job",
  job_task = "job_task", ["job-task"] = "job_task", job_tasks = "job_task", JobTask = "job_task",
  ["inventory.JobTask"] = "job_task", task = "job_task",
  spot_job = "spot_job", ["spot-job"] = "spot_job", ["spot_automation.Job"] = "spot_job",
  ["spot-automation.Job"] = "spot_job",
}

local function resource_of(name, cmd, g)
  if name == nil then usage("RESOURCE is missing (job, job_task or spot_job)", cmd) end
  local r = ALIASES[name]
  if not r then usage("unknown resource '" .. name .. "' (job, job_task or spot_job)", cmd) end
  if r == "spot_job" and g and g.workspace then
    usage("--workspace: spot_job records have no workspace", cmd)
  end
  return RESOURCES[r]
end

---------------------------------------------------------------------------
-- output

local function cell(v, key)
  if v == nil or v == inventory.null then return "" end
  local t = type(v)
  if t == "string" then
    -- datetimes in a table: to the second, UTC
    local d, tm = v:match("^(%d%d%d%d%-%d%d%-%d%d)T(%d%d:%d%d:%d%d)[%.%d]*Z$")
    if d then return d .. " " .. tm end
    return (v:gsub("[%c]", " "))
  end
  if t == "number" then return number_text(v) end
  if t == "boolean" then return tostring(v) end
  if t == "table" then return json_encode(v, key) end
  return tostring(v)
end

-- value of a dotted path in a record; through a list, the list of its
-- elements' values (errors.error_code), or one element by its index from 0
-- (errors.0.message)
local function walk(v, segs, i)
  if i > #segs or v == nil then return v end
  if type(v) ~= "table" then return nil end
  if v[1] ~= nil and segs[i]:match("^%d+$") then return walk(v[tonumber(segs[i]) + 1], segs, i + 1) end
  if v[1] ~= nil and v[segs[i]] == nil then
    local outv = {}
    for _, e in ipairs(v) do
      local x = walk(e, segs, i)
      if x ~= nil then outv[#outv + 1] = x end
    end
    return outv
  end
  return walk(v[segs[i]], segs, i + 1)
end

local function pick(rec, path)
  local v = rec[path]
  if v ~= nil or not path:find(".", 1, true) then return v end
  local segs = {}
  for seg in path:gmatch("[^.]+") do segs[#segs + 1] = seg end
  return walk(rec, segs, 1)
end

local function table_columns(rows, res, opts)
  if opts.columns then return opts.columns end
  if opts.only then return opts.only end
  if res and opts.minimal then return MINIMAL[res.name] end
  if res and opts.records then return res.columns end
  -- stat / analyze rows: every key seen, in the usual order
  local seen, cols = {}, {}
  for _, r in ipairs(rows) do
    if type(r) == "table" then for k in pairs(r) do
      if not seen[k] then seen[k] = true; cols[#cols + 1] = k end
    end end
  end
  local fake = {}
  for _, k in ipairs(cols) do fake[k] = true end
  return sorted_keys(fake)
end

-- an id is never cut (it could not be copied): *_id columns shrink last,
-- that is never; the line is wider than the terminal when ids alone are
local function is_id_column(c) return c:find("_id$") ~= nil end

local function print_table(rows, cols, drop)
  local w = {}
  local cells = {}
  for i, c in ipairs(cols) do w[i] = width(c) end
  for r, row in ipairs(rows) do
    cells[r] = {}
    for i, c in ipairs(cols) do
      local s = cell(type(row) == "table" and pick(row, c) or nil, c)
      cells[r][i] = s
      if width(s) > w[i] then w[i] = width(s) end
    end
  end
  -- fit the terminal: shrink the widest columns, then drop columns at the right
  local tw = term_width()
  local ncol = #cols
  if tw then
    local function total()
      local n = 0
      for i = 1, ncol do n = n + w[i] end
      return n + 2 * (ncol - 1)
    end
    -- the default columns: the less useful ones go first, whole
    for _, name in ipairs(drop or {}) do
      if total() <= tw then break end
      for i = 1, ncol do
        if cols[i] == name and ncol > 2 then
          table.remove(cols, i); table.remove(w, i)
          for r = 1, #rows do table.remove(cells[r], i) end
          ncol = ncol - 1
          break
        end
      end
    end
    while total() > tw do
      local wi, wmax = nil, 0
      for i = 1, ncol do
        local floor = is_id_column(cols[i]) and w[i] or math.min(width(cols[i]), 8)
        if w[i] > floor and w[i] > wmax then wi, wmax = i, w[i] end
      end
      if wi then
        w[wi] = w[wi] - 1
      elseif ncol > 1 then
        ncol = ncol - 1
      else
        if not is_id_column(cols[1]) then w[1] = tw end
        break
      end
    end
  end
  local color = use_color()
  local function line(vals, is_header)
    local parts = {}
    for i = 1, ncol do
      local s = cut(vals[i], w[i])
      local pad = i < ncol and rep(" ", w[i] - width(s)) or ""
      if color and not is_header and cols[i] == "status" and COLORS[s] then
        s = "\27[" .. COLORS[s] .. "m" .. s .. "\27[0m"
      elseif color and is_header then
        s = "\27[1m" .. s .. "\27[0m"
      end
      parts[i] = s .. pad
    end
    out:write((concat(parts, "  "):gsub("%s+$", "")), "\n")
  end
  line(cols, true)
  for r = 1, #rows do line(cells[r]) end
end

-- words YAML 1.1 or 1.2 reads as a boolean or null (any case: True, TRUE, ...)
local YAML_WORDS = { ["true"] = 1, ["false"] = 1, ["null"] = 1, ["~"] = 1, yes = 1, no = 1, on = 1,
                     off = 1, y = 1, n = 1 }

local function yaml_scalar(v, key)
  if v == nil or v == inventory.null then return "null" end
  local t = type(v)
  if t == "number" then return number_text(v) end
  if t == "boolean" then return tostring(v) end
  if t == "table" then return empty_text(v, key) end
  local s = tostring(v)
  if s == "" or s:find("^[%s%-%?:,%[%]{}#&%*!|>'\"%%@`<=]") or s:find("[:#]%s") or s:find(":$")
     or s:find("%s$") or s:find("[%c]") or tonumber(s) ~= nil
     -- what a YAML 1.1 or 1.2 reader would take for a number, a date or a
     -- time (2022-01-02T03:04:05Z, 1_000, 0x1f, 0o17, 1:30, .5, +1, .inf)
     or s:find("^%d") or s:find("^[+.]")
     or YAML_WORDS[s:lower()] then
    return json_string(s)
  end
  return s
end

local function yaml_lines(v, indent, lines, key)
  local pad = rep("  ", indent)
  if type(v) ~= "table" or next(v) == nil then
    lines[#lines + 1] = pad .. yaml_scalar(v, key)
    return
  end
  if is_list(v) then
    for i = 1, #v do
      local e = v[i]
      if type(e) == "table" and next(e) ~= nil then
        local sub = {}
        yaml_lines(e, indent + 1, sub, key)
        sub[1] = pad .. "- " .. sub[1]:sub(#pad + 3)
        for _, l in ipairs(sub) do lines[#lines + 1] = l end
      else
        lines[#lines + 1] = pad .. "- " .. yaml_scalar(e, key)
      end
    end
    return
  end
  for _, k in ipairs(sorted_keys(v)) do
    local e = v[k]
    local ks = yaml_scalar(tostring(k))
    if type(e) == "table" and next(e) ~= nil then
      lines[#lines + 1] = pad .. ks .. ":"
      yaml_lines(e, is_list(e) and indent or indent + 1, lines, k)
    else
      lines[#lines + 1] = pad .. ks .. ": " .. yaml_scalar(e, k)
    end
  end
end

local function print_yaml(v)
  local lines = {}
  yaml_lines(v, 0, lines)
  out:write(concat(lines, "\n"), "\n")
end

local function csv_field(s)
  if s:find('[,"\r\n]') or s:find("^%s") or s:find("%s$") then
    return '"' .. s:gsub('"', '""') .. '"'
  end
  return s
end

local function print_csv(rows, cols)
  local h = {}
  for i, c in ipairs(cols) do h[i] = csv_field(c) end
  out:write(concat(h, ","), "\r\n")
  for _, row in ipairs(rows) do
    local f = {}
    for i, c in ipairs(cols) do
      local v = type(row) == "table" and pick(row, c) or nil
      f[i] = csv_field(type(v) == "string" and v or cell(v, c))
    end
    out:write(concat(f, ","), "\r\n")
  end
end

-- a record cut to the -c columns, in their order (yaml); a missing value is null
local function project(rec, cols)
  if type(rec) ~= "table" then return rec end
  local p = {}
  for _, c in ipairs(cols) do
    local v = pick(rec, c)
    if v == nil then v = inventory.null end
    p[c] = v
  end
  return setmetatable(p, { [ORDERED] = cols })
end

-- Print a result in a format. kind: "records" (rows are records of res),
-- "one" (a single record), "rows" (stat/analyze rows), "doc" (a document).
-- opts: { columns (-c), minimal, only (the request's only), distinct (the
-- stat query's distinct key) }. Which formats a command may print is
-- settled before it runs (check_format): here every pair works.
local function emit(fmt, result, kind, res, opts)
  opts = opts or {}
  if fmt == "json" then
    out:write(json_encode(result), "\n")
    return
  end
  local rows
  if kind == "one" then rows = { result }
  elseif kind == "records" or kind == "rows" then rows = result.results or {}
  else rows = nil end
  if fmt == "yaml" then
    if opts.columns and rows then
      if kind == "one" then
        result = project(result, opts.columns)
      else
        local copy, pr = {}, {}
        for k, v in pairs(result) do copy[k] = v end
        for i, r in ipairs(rows) do pr[i] = project(r, opts.columns) end
        copy.results = pr
        result = copy
      end
    end
    print_yaml(result)
    return
  end
  if fmt == "ids" then
    for _, r in ipairs(rows) do
      if type(r) ~= "table" or r[res.id] == nil then
        api_fail("-o ids: a result has no " .. res.id .. " (the request's only leaves it out)",
                 "ERROR_INVALID_PARAMETER")
      end
      out:write(tostring(r[res.id]), "\n")
    end
    return
  end
  if not rows then                      -- a document: key, value lines
    if fmt == "csv" then
      rows = { result }
    else
      for _, k in ipairs(sorted_keys(result)) do
        local v = result[k]
        out:write(k, ": ", cell(v, k), "\n")
      end
      return
    end
  end
  -- distinct: a list of values, one column named after the key
  local scalar = false
  for _, r in ipairs(rows) do if type(r) ~= "table" then scalar = true; break end end
  if scalar then
    local name = type(opts.distinct) == "string" and opts.distinct or "value"
    local wrapped = {}
    for i, r in ipairs(rows) do wrapped[i] = type(r) == "table" and r or { [name] = r } end
    rows = wrapped
  end
  local cols = table_columns(rows, res, { columns = opts.columns, minimal = opts.minimal,
                                          only = not scalar and opts.only or nil,
                                          records = not scalar and (kind == "records" or kind == "one") })
  if fmt == "csv" then print_csv(rows, cols); return end
  local drop = not opts.columns and not opts.only and not scalar and res and res.drop or nil
  do                                    -- a copy: print_table drops from it
    local c = {}
    for i, x in ipairs(cols) do c[i] = x end
    cols = c
  end
  print_table(rows, cols, drop)
  if kind == "records" or kind == "rows" then
    if result.total_count ~= nil then
      out:write(format("Count: %d / %s\n", #rows, number_text(result.total_count)))
    elseif kind == "rows" then
      out:write(format("Count: %d%s\n", #rows, result.more and " (more)" or ""))
    end
  end
end

---------------------------------------------------------------------------
-- option parsing

local FORMATS = { table = true, json = true, yaml = true, csv = true, ids = true }

-- option specs: name -> { key, kind = "flag" | "value" | "list", short }
local GLOBAL = {
  ["--db"] = { "db", "value" }, ["--url"] = { "url", "value" }, ["--schema"] = { "schema", "value" },
  ["--domain"] = { "domain", "value" }, ["--workspace"] = { "workspace", "value" },
  ["-h"] = { "help", "flag" }, ["--help"] = { "help", "flag" },
}
local REQ_OPTS = {
  ["-p"] = { "params", "list" }, ["--param"] = { "params", "list" },
  ["-j"] = { "json", "value" }, ["--json"] = { "json", "value" },
  ["-f"] = { "file", "value" }, ["--file"] = { "file", "value" },
  ["-o"] = { "output", "value" }, ["--output"] = { "output", "value" },
}
local LIST_OPTS = {
  ["--filter"] = { "filters", "list" }, ["-s"] = { "sort", "list" }, ["--sort"] = { "sort", "list" },
  ["-l"] = { "limit", "value" }, ["--limit"] = { "limit", "value" }, ["--start"] = { "start", "value" },
  ["-c"] = { "columns", "value" }, ["--columns"] = { "columns", "value" },
  ["--minimal"] = { "minimal", "flag" },
}
local function merge(...)
  local t = {}
  for i = 1, select("#", ...) do for k, v in pairs((select(i, ...))) do t[k] = v end end
  return t
end
-- every option of every command (the general help lists them all)
local LIST_OPTS_ALL = merge(REQ_OPTS, LIST_OPTS, { ["--status"] = 1, ["--yes"] = 1, ["--overwrite"] = 1,
                                                  ["--timeout-hours"] = 1, ["--older-than-days"] = 1,
                                                  ["--interval"] = 1 })

local function parse_opts(argv, i, spec, cmd)
  local o, pos = {}, {}
  while i <= #argv do
    local a = argv[i]
    local name, val = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    local s = spec[name] or GLOBAL[name]
    if s then
      if s[2] == "flag" then
        if val then usage(name .. " takes no value", cmd) end
        o[s[1]] = true
      else
        if not val then
          i = i + 1
          val = argv[i]
          if val == nil then usage(name .. " needs a value", cmd) end
        end
        if s[2] == "list" then
          o[s[1]] = o[s[1]] or {}
          o[s[1]][#o[s[1]] + 1] = val
        else
          o[s[1]] = val
        end
      end
    elseif a == "--" then
      for j = i + 1, #argv do pos[#pos + 1] = argv[j] end
      break
    elseif a:sub(1, 1) == "-" and a ~= "-" and not a:match("^%-%d") then
      usage("unknown option " .. name, cmd)
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return o, pos
end

---------------------------------------------------------------------------
-- building requests

local function read_file(path, what)
  local f, e
  if path == "-" then f = io.stdin else f, e = io.open(path, "rb") end
  if not f then usage((what or "file") .. ": cannot read " .. tostring(e)) end
  local s = f:read("*a")
  if f ~= io.stdin then f:close() end
  return s
end

-- a JSON-ish value of -p and --filter: numbers and booleans typed, JSON
-- arrays, objects and quoted strings decoded, @file read as JSON
local function typed(v, what, ids)
  if v:sub(1, 1) == "@" and #v > 1 then
    return json_decode(read_file(v:sub(2), what), what .. " (" .. v:sub(2) .. ")")
  end
  if v == "true" then return true end
  if v == "false" then return false end
  if v == "null" then return inventory.null end
  -- JSON numbers (no leading zeros); ids stay text when asked
  if not ids and (v:match("^%-?[1-9]%d*$") or v:match("^%-?0$")
                  or v:match("^%-?[0-9]%d*%.%d+$") or v:match("^%-?[0-9]%d*%.?%d*[eE][-+]?%d+$")) then
    if not v:match("^%-?0%d") then return tonumber(v) end
  end
  local c = v:sub(1, 1)
  if c == "[" or c == "{" or c == '"' then return json_decode(v, what) end
  return v
end

local LIST_KEYS = { only = true }

-- keys whose values are text in every request (ids, and the free-text and
-- enum parameters): -p and --filter keep a number-looking value as text
local TEXT_KEYS = { status = true, provider = true, keyword = true, error_code = true, message = true }
local function text_key(key)
  local last = key:match("([^.]+)$") or key
  return last:match("_id$") ~= nil or TEXT_KEYS[last] == true
end

local function set_path(req, key, v, cmd)
  local parts = {}
  for seg in key:gmatch("[^.]+") do parts[#parts + 1] = seg end
  if #parts == 0 or key:find("%.%.") or key:find("^%.") or key:find("%.$") then
    usage("-p " .. key .. ": a key is NAME or NAME.NAME...", cmd)
  end
  local t = req
  for i = 1, #parts - 1 do
    local nxt = t[parts[i]]
    if type(nxt) ~= "table" then nxt = {}; t[parts[i]] = nxt end
    t = nxt
  end
  local name = parts[#parts]
  local cur = t[name]
  if LIST_KEYS[name] then
    if type(cur) ~= "table" then cur = {}; t[name] = cur end
    if type(v) == "table" then for _, x in ipairs(v) do cur[#cur + 1] = x end else cur[#cur + 1] = v end
  elseif cur == nil then
    t[name] = v
  elseif type(cur) == "table" and is_list(cur) and next(cur) ~= nil then
    cur[#cur + 1] = v                   -- a repeated key makes a list
  else
    t[name] = { cur, v }
  end
end

local QUERY_KEYS = { filter = true, filter_or = true, sort = true, page = true, aggregate = true,
                     distinct = true, group_by = true, fields = true, select = true,
                     field_group = true, keyword = true, count_only = true, minimal = true,
                     unwind = true }

-- --filter EXPR: KEY OP VALUE
local FILTER_OPS = {
  { ">=", "gte" }, { "<=", "lte" }, { "!=", "not" }, { "!:", "not_contain" }, { "!~", "not_regex" },
  { "=", "eq" }, { ">", "gt" }, { "<", "lt" }, { ":", "contain" }, { "~", "regex" },
}
local function parse_filter(expr, cmd)
  local key, rest = expr:match("^%s*([%w_%.]+)%s*(.*)$")
  if not key or rest == "" then
    usage("--filter '" .. expr .. "': expected KEY OP VALUE (OP: = != > >= < <= : !: ~)", cmd)
  end
  for _, op in ipairs(FILTER_OPS) do
    if rest:sub(1, #op[1]) == op[1] then
      if op[2] == "not_regex" then
        usage("--filter '" .. expr .. "': no such operator (= != > >= < <= : !: ~)", cmd)
      end
      local raw = rest:sub(#op[1] + 1):match("^%s*(.-)%s*$")
      local ids = text_key(key)
      local what = "--filter " .. key
      if (op[2] == "eq" or op[2] == "not") and raw:find(",", 1, true) and raw:sub(1, 1) ~= "[" then
        local list = {}
        for x in (raw .. ","):gmatch("([^,]*),") do
          list[#list + 1] = typed(x:match("^%s*(.-)%s*$"), what, ids)
        end
        return { k = key, v = list, o = op[2] == "eq" and "in" or "not_in" }
      end
      return { k = key, v = typed(raw, what, ids), o = op[2] }
    end
  end
  usage("--filter '" .. expr .. "': expected KEY OP VALUE (OP: = != > >= < <= : !: ~)", cmd)
end

-- The request of an API command: -j / -f, then -p, then the list options,
-- then the scope (--domain, --workspace) where the request has none.
local function build_request(o, cmd, method)
  local req = {}
  if o.json and o.file then usage("-j and -f are exclusive", cmd) end
  if o.json or o.file then
    local text = o.json or read_file(o.file, "-f")
    local doc = json_decode(text, o.json and "-j" or "-f " .. o.file)
    if type(doc) ~= "table" or (next(doc) ~= nil and is_list(doc)) then
      usage((o.json and "-j" or "-f") .. ": a JSON object is expected", cmd)
    end
    -- a bare query (its keys are a query's) stands for { query = ... }
    local bare = false
    if doc.query == nil and (method == "list" or method == "stat" or method == "analyze") then
      for k in pairs(doc) do if QUERY_KEYS[k] then bare = true end end
    end
    req = bare and { query = doc } or doc
  end
  for _, p in ipairs(o.params or {}) do
    local k, v = p:match("^([^=]+)=(.*)$")
    if not k then usage("-p " .. p .. ": expected KEY=VALUE", cmd) end
    set_path(req, k, typed(v, "-p " .. k, text_key(k)), cmd)
  end
  local function query()
    if type(req.query) ~= "table" then req.query = {} end
    return req.query
  end
  for _, f in ipairs(o.filters or {}) do
    local q = query()
    if type(q.filter) ~= "table" then q.filter = {} end
    q.filter[#q.filter + 1] = parse_filter(f, cmd)
  end
  for _, s in ipairs(o.sort or {}) do
    local q = query()
    if type(q.sort) ~= "table" then q.sort = {} end
    local desc, key = s:match("^(%-?)(.+)$")
    q.sort[#q.sort + 1] = { key = key, desc = desc == "-" }
  end
  for _, pg in ipairs{ { "limit", "-l" }, { "start", "--start" } } do
    local v = o[pg[1]]
    if v then
      if not v:match("^%d+$") then usage(pg[2] .. " " .. v .. ": a whole number of 0 or more is expected", cmd) end
      local q = query()
      if type(q.page) ~= "table" then q.page = {} end
      q.page[pg[1]] = tonumber(v)
    end
  end
  if o.minimal then query().minimal = true end
  return req
end

local function scope(req, g, with_workspace)
  if req.domain_id == nil and g.domain then req.domain_id = g.domain end
  if with_workspace and req.workspace_id == nil and g.workspace then req.workspace_id = g.workspace end
  return req
end

local FORMAT_ORDER = { "table", "json", "yaml", "csv", "ids" }

local function format_list(set)
  local t = {}
  for _, f in ipairs(FORMAT_ORDER) do if set[f] then t[#t + 1] = f end end
  if #t == 1 then return t[1] end
  return concat(t, ", ", 1, #t - 1) .. " or " .. t[#t]
end

local function columns_of(o)
  if not o.columns then return nil end
  local cols = {}
  for c in o.columns:gmatch("[^,%s]+") do cols[#cols + 1] = c end
  return #cols > 0 and cols or nil
end

-- The output format of a command, settled before it does anything: -o, or
-- table with -c or on a terminal (or the command's default), else json.
-- A format the command cannot print, and -c with json, are usage errors.
local function check_format(def, o, cmd)
  if not def.formats then return nil end
  local f = o.output
  if f == nil then
    f = def.default_format or ((o.columns or isatty(1)) and "table" or "json")
  elseif not FORMATS[f] then
    usage("-o " .. f .. ": " .. cmd .. " prints " .. format_list(def.formats), cmd)
  end
  if not def.formats[f] then usage("-o " .. f .. ": " .. cmd .. " prints " .. format_list(def.formats), cmd) end
  if o.columns and not columns_of(o) then usage("-c: no column named", cmd) end
  if f == "json" and o.columns then
    usage("-c does not apply to -o json (the REST API's answer, as it is): choose its fields with "
          .. "-p only=F (get) or -p query.only=F (list), or print -c columns with -o table, yaml or csv", cmd)
  end
  if f == "ids" and o.columns then usage("-c does not apply to -o ids (one id a line)", cmd) end
  return f
end

local function output_format(o) return o.fmt end

---------------------------------------------------------------------------
-- the store

-- mode: "read" (an existing store, opened read-only: a read creates and
-- migrates nothing), "change" (an existing store), "write" (created when
-- missing: create, import)
local function open_store(g, mode)
  if g.db and g.url then usage("--db and --url are exclusive") end
  local url = g.url or (not g.db and getenv("INVENTORY_URL")) or nil
  local schema = g.schema or getenv("INVENTORY_SCHEMA")
  if schema == "" then schema = nil end
  if url and url ~= "" then
    return checked(inventory.open{ url = url, schema = schema, readonly = mode == "read" or nil })
  end
  if g.schema then usage("--schema names a PostgreSQL schema: give --url too") end
  local path = g.db or getenv("INVENTORY_DB") or "inventory.db"
  if mode ~= "write" and path ~= ":memory:" and not path:find("^file:") then
    local f = io.open(path, "rb")
    if not f then
      api_fail("cannot open " .. path .. ": no such file (--db PATH or INVENTORY_DB names the store)",
               "ERROR_NOT_FOUND")
    end
    f:close()
  end
  return checked(inventory.open{ path = path, readonly = mode == "read" or nil })
end

-- run one API method and print its answer
local function call_and_print(inv, res, method, req, fmt, kind, o)
  local q = type(req.query) == "table" and req.query or {}
  local only = req.only or q.only
  if type(only) == "string" then only = { only } end
  if type(only) ~= "table" or next(only) == nil then only = nil end
  if fmt == "ids" and only then
    local has = false
    for _, k in ipairs(only) do if k == res.id then has = true end end
    if not has then usage("-o ids: only leaves out " .. res.id .. " (add it to only)") end
  end
  if fmt == "json" then
    local text = checked(inv:call(res.name, method, req, true))
    out:write(text, "\n")
    return
  end
  local result = checked(inv:call(res.name, method, req))
  if result == true then result = {} end
  emit(fmt, result, kind, res, { columns = columns_of(o), minimal = o.minimal or q.minimal, only = only,
                                 distinct = q.distinct })
end

local function confirm(question, o, cmd)
  if o.yes then return end
  if not isatty(0) then usage("refusing without --yes (standard input is not a terminal)", cmd) end
  err:write(question, " [y/N] ")
  err:flush()
  local a = io.read("*l") or ""
  if not a:match("^%s*[yY]") then api_fail("not confirmed: nothing was changed", "ERROR_CANCELED") end
end

---------------------------------------------------------------------------
-- commands

local COMMANDS = {}
local ORDER = {}
-- def: usage, help, opts (the options it takes), formats (what -o may be;
-- none: no -o), workspace (true: --workspace applies), run(g, o, pos, cmd)
local function set_of(words)
  local t = {}
  for w in words:gmatch("%S+") do t[w] = true end
  return t
end
local ALL_FORMATS = set_of("table json yaml csv ids")
local DOC_FORMATS = set_of("table json yaml csv")
local function command(name, def)
  def.name = name
  if type(def.formats) == "string" then def.formats = set_of(def.formats) end
  COMMANDS[name] = def
  ORDER[#ORDER + 1] = name
end

local function id_arg(pos, i, cmd, what)
  local id = pos[i]
  if id == nil then usage(what .. " is missing", cmd) end
  return id
end

-- an optional leading resource word for the write commands: start job_task ID
local function implied(pos, want, cmd)
  if pos[1] and ALIASES[pos[1]] then
    if ALIASES[pos[1]] ~= want then usage(cmd .. " is a method of " .. want, cmd) end
    table.remove(pos, 1)
  end
  return RESOURCES[want]
end

command("get", {
  usage = "get RESOURCE ID [-p KEY=VALUE]... [-j JSON | -f FILE] [-c COLS] [-o FORMAT]",
  help = "One record by id (the API's get). -p query.only is not a get parameter; use -p only=FIELD.",
  opts = merge(REQ_OPTS, { ["-c"] = LIST_OPTS["-c"], ["--columns"] = LIST_OPTS["-c"] }),
  formats = ALL_FORMATS, workspace = true,
  run = function(g, o, pos, cmd)
    local res = resource_of(pos[1], cmd, g)
    local id = id_arg(pos, 2, cmd, "ID")
    if pos[3] then usage("unexpected argument " .. pos[3], cmd) end
    local fmt = output_format(o, cmd)
    local req = scope(build_request(o, cmd, "get"), g, true)
    req[res.id] = id
    call_and_print(open_store(g, "read"), res, "get", req, fmt, "one", o)
  end,
})

command("list", {
  usage = "list RESOURCE [-p KEY=VALUE]... [-j JSON | -f FILE] [--filter EXPR]... [-s [-]KEY]... "
       .. "[-l N] [--start N] [-c COLS] [--minimal] [-o FORMAT]",
  help = "Records matching a query (the API's list), newest first unless -s says otherwise.",
  opts = merge(REQ_OPTS, LIST_OPTS),
  formats = ALL_FORMATS, workspace = true,
  run = function(g, o, pos, cmd)
    local res = resource_of(pos[1], cmd, g)
    if pos[2] then usage("unexpected argument " .. pos[2], cmd) end
    local fmt = output_format(o, cmd)
    local req = scope(build_request(o, cmd, "list"), g, true)
    call_and_print(open_store(g, "read"), res, "list", req, fmt, "records", o)
  end,
})

local function stat_like(method)
  return function(g, o, pos, cmd)
    local res = resource_of(pos[1], cmd, g)
    if pos[2] then usage("unexpected argument " .. pos[2], cmd) end
    if not (o.json or o.file or o.params) then usage(method .. " needs a query: -j JSON or -f FILE", cmd) end
    local fmt = output_format(o, cmd)
    local req = scope(build_request(o, cmd, method), g, true)
    call_and_print(open_store(g, "read"), res, method, req, fmt, "rows", o)
  end
end

command("stat", {
  usage = "stat RESOURCE -j JSON | -f FILE [-p KEY=VALUE]... [-c COLS] [-o FORMAT]",
  help = "A StatisticsQuery (aggregate or distinct). The JSON is the request, or just its query.",
  opts = merge(REQ_OPTS, { ["-c"] = LIST_OPTS["-c"], ["--columns"] = LIST_OPTS["-c"] }),
  formats = DOC_FORMATS, workspace = true,
  run = stat_like("stat"),
})

command("analyze", {
  usage = "analyze RESOURCE -j JSON | -f FILE [-p KEY=VALUE]... [-c COLS] [-o FORMAT]",
  help = "An AnalyzeQuery (job only). The JSON is the request, or just its query.",
  opts = merge(REQ_OPTS, { ["-c"] = LIST_OPTS["-c"], ["--columns"] = LIST_OPTS["-c"] }),
  formats = DOC_FORMATS, workspace = true,
  run = stat_like("analyze"),
})

command("delete", {
  usage = "delete RESOURCE ID [--yes] [-o FORMAT]",
  help = "Delete a record (a job takes its tasks with it). Asks first unless --yes.",
  opts = merge(REQ_OPTS, { ["--yes"] = { "yes", "flag" }, ["-y"] = { "yes", "flag" } }),
  formats = "table json ids", workspace = true,
  run = function(g, o, pos, cmd)
    local res = resource_of(pos[1], cmd, g)
    local id = id_arg(pos, 2, cmd, "ID")
    if pos[3] then usage("unexpected argument " .. pos[3], cmd) end
    local fmt = output_format(o, cmd)
    local req = scope(build_request(o, cmd, "delete"), g, true)
    req[res.id] = id
    local inv = open_store(g, "change")
    confirm("Delete " .. res.name .. " " .. id .. (req.domain_id and (" of " .. tostring(req.domain_id)) or "")
            .. "?", o, cmd)
    if fmt == "json" then
      out:write(checked(inv:call(res.name, "delete", req, true)), "\n")
    else
      checked(inv:call(res.name, "delete", req))
      if fmt == "table" then out:write("deleted ", res.name, " ", id, "\n") else out:write(id, "\n") end
    end
  end,
})

local function write_cmd(want, method, idkey, extra)
  return function(g, o, pos, cmd)
    local res = implied(pos, want, cmd)
    local fmt = output_format(o, cmd)
    local req = scope(build_request(o, cmd, method), g, method == "create")
    if idkey then
      req[idkey] = id_arg(pos, 1, cmd, idkey:upper())
      if pos[2] then usage("unexpected argument " .. pos[2], cmd) end
    elseif pos[1] then
      usage("unexpected argument " .. pos[1], cmd)
    end
    if extra then extra(req, o) end
    call_and_print(open_store(g, method == "create" and "write" or "change"), res, method, req, fmt, "one", o)
  end
end

command("create", {
  usage = "create [job] -p collector_id=ID [-p KEY=VALUE]... [-j JSON | -f FILE] [-o FORMAT]",
  help = "Create a job and its tasks (job.create): -p 'tasks=[{\"secret_id\":\"s1\"}]' or -j.",
  opts = merge(REQ_OPTS, { ["-c"] = LIST_OPTS["-c"], ["--columns"] = LIST_OPTS["-c"] }),
  formats = ALL_FORMATS, workspace = true,
  run = write_cmd("job", "create"),
})
command("start", {
  usage = "start [job_task] JOB_TASK_ID [-o FORMAT]",
  help = "Start a task (job_task.start).",
  opts = merge(REQ_OPTS, { ["-c"] = LIST_OPTS["-c"], ["--columns"] = LIST_OPTS["-c"] }),
  formats = ALL_FORMATS,
  run = write_cmd("job_task", "start", "job_task_id"),
})
command("finish", {
  usage = "finish [job_task] JOB_TASK_ID --status SUCCESS|FAILURE [-p created_count=N]... [-o FORMAT]",
  help = "Finish a task or one of its sub-tasks (job_task.finish), with its counts.",
  opts = merge(REQ_OPTS, { ["-c"] = LIST_OPTS["-c"], ["--columns"] = LIST_OPTS["-c"],
                           ["--status"] = { "status", "value" } }),
  formats = ALL_FORMATS,
  run = write_cmd("job_task", "finish", "job_task_id", function(req, o)
    if o.status then req.status = o.status end
  end),
})
command("add-error", {
  usage = "add-error [job_task] JOB_TASK_ID -p error_code=CODE -p message=TEXT [-p additional.KEY=V]... [-o FORMAT]",
  help = "Add an error to a task (job_task.add_error).",
  opts = merge(REQ_OPTS, { ["-c"] = LIST_OPTS["-c"], ["--columns"] = LIST_OPTS["-c"] }),
  formats = ALL_FORMATS,
  run = write_cmd("job_task", "add_error", "job_task_id"),
})
command("cancel", {
  usage = "cancel [job] JOB_ID [-o FORMAT]",
  help = "Cancel an IN_PROGRESS job (job.cancel).",
  opts = merge(REQ_OPTS, { ["-c"] = LIST_OPTS["-c"], ["--columns"] = LIST_OPTS["-c"] }),
  formats = ALL_FORMATS,
  run = write_cmd("job", "cancel", "job_id"),
})

command("import", {
  usage = "import RESOURCE FILE|- [-o FORMAT]",
  help = "Import documented records (a JSON array or JSON lines, as export writes them) in one "
      .. "transaction: ids, timestamps and counters are kept.",
  opts = { ["-o"] = REQ_OPTS["-o"], ["--output"] = REQ_OPTS["-o"] },
  formats = DOC_FORMATS,
  run = function(g, o, pos, cmd)
    local res = resource_of(pos[1], cmd)
    local file = id_arg(pos, 2, cmd, "FILE")
    if pos[3] then usage("unexpected argument " .. pos[3], cmd) end
    local fmt = output_format(o, cmd)
    local text = read_file(file, "import")
    local inv = open_store(g, "write")
    local n = checked(inv:import(res.name, text))
    if fmt == "table" then
      out:write(format("imported %d %s records\n", n, res.name))
    else
      emit(fmt, { imported = n }, "doc")
    end
  end,
})

command("export", {
  usage = "export RESOURCE [-j QUERY | -f FILE] [--filter EXPR]...",
  help = "Every record as JSON lines, in insertion order, with the fields the API hides "
      .. "(import reads them back exactly). Every domain unless --domain; -j takes a query's "
      .. "filter, filter_or and keyword.",
  opts = { ["-j"] = REQ_OPTS["-j"], ["--json"] = REQ_OPTS["-j"], ["-f"] = REQ_OPTS["-f"],
           ["--file"] = REQ_OPTS["-f"], ["--filter"] = LIST_OPTS["--filter"] },
  workspace = true,
  run = function(g, o, pos, cmd)
    local res = resource_of(pos[1], cmd, g)
    if pos[2] then usage("unexpected argument " .. pos[2], cmd) end
    local req = build_request(o, cmd, "list")
    local q = req.query or {}
    for k in pairs(req) do
      if k ~= "query" then usage("export takes a query (filter, filter_or, keyword), not " .. k, cmd) end
    end
    if g.workspace then                 -- the workspace's records and the domain-level ones
      if type(q.filter) ~= "table" then q.filter = {} end
      q.filter[#q.filter + 1] = { k = "workspace_id", v = { g.workspace, "*" }, o = "in" }
    end
    local inv = open_store(g, "read")
    local after
    repeat
      local text, nxt = checked(inv:export(res.name, { domain_id = g.domain, after = after, limit = 1000,
                                                       query = next(q) and q or nil }, true))
      out:write(text)
      after = nxt
    until not after
  end,
})

command("sweep", {
  usage = "sweep [--timeout-hours N] [-o FORMAT]",
  help = "IN_PROGRESS jobs older than N hours (default 2) become FAILURE, with their unfinished "
      .. "tasks. --domain narrows it to one domain.",
  opts = { ["--timeout-hours"] = { "hours", "value" }, ["-o"] = REQ_OPTS["-o"], ["--output"] = REQ_OPTS["-o"] },
  formats = DOC_FORMATS,
  run = function(g, o, pos, cmd)
    if pos[1] then usage("unexpected argument " .. pos[1], cmd) end
    local fmt = output_format(o, cmd)
    local h = o.hours and tonumber(o.hours)
    if o.hours and not (h and h >= 0) then
      usage("--timeout-hours " .. o.hours .. ": a number of 0 or more is expected", cmd)
    end
    call_and_print(open_store(g, "change"), { name = "store" }, "sweep",
                   { timeout_hours = h, domain_id = g.domain }, fmt, "doc", o)
  end,
})

command("purge", {
  usage = "purge [--older-than-days N] [--yes] [-o FORMAT]",
  help = "Delete jobs and tasks created more than N days ago (default 60). --domain narrows it.",
  opts = { ["--older-than-days"] = { "days", "value" }, ["--yes"] = { "yes", "flag" },
           ["-y"] = { "yes", "flag" }, ["-o"] = REQ_OPTS["-o"], ["--output"] = REQ_OPTS["-o"] },
  formats = DOC_FORMATS,
  run = function(g, o, pos, cmd)
    if pos[1] then usage("unexpected argument " .. pos[1], cmd) end
    local fmt = output_format(o, cmd)
    local d = o.days and tonumber(o.days)
    if o.days and not (d and d >= 0) then
      usage("--older-than-days " .. o.days .. ": a number of 0 or more is expected", cmd)
    end
    local inv = open_store(g, "change")
    confirm(format("Delete every record created more than %s days ago%s?", number_text(d or 60),
                   g.domain and (" in " .. g.domain) or ""), o, cmd)
    call_and_print(inv, { name = "store" }, "purge", { older_than_days = d, domain_id = g.domain },
                   fmt, "doc", o)
  end,
})

command("watch", {
  usage = "watch RESOURCE [list options] [--interval S]",
  help = "The list as a table, redrawn when the store changes (another process commits); "
      .. "the store is looked at every S seconds (default 1). Ctrl-C stops it.",
  opts = merge(REQ_OPTS, LIST_OPTS, { ["--interval"] = { "interval", "value" } }),
  formats = ALL_FORMATS, default_format = "table", workspace = true,
  run = function(g, o, pos, cmd)
    local res = resource_of(pos[1], cmd, g)
    if pos[2] then usage("unexpected argument " .. pos[2], cmd) end
    local interval = tonumber(o.interval or "1")
    if not interval or interval < 0.05 or interval > 3600 then
      usage("--interval: seconds from 0.05 to 3600", cmd)
    end
    local fmt = output_format(o)
    local req = scope(build_request(o, cmd, "list"), g, true)
    local inv = open_store(g, "read")
    local tty = isatty(1)
    local function draw()
      if tty and fmt == "table" then out:write("\27[H\27[2J") end
      if fmt == "table" then
        out:write(format("Every %gs: inventory list %s  %s\n\n", interval,
                         res.name, os.date("!%Y-%m-%d %H:%M:%SZ")))
      end
      call_and_print(inv, res, "list", req, fmt, "records", o)
      if not tty then out:write("\n") end
      out:flush()
    end
    local dv = checked(inv:version())
    draw()
    while true do
      if checked(inv:wait_change(dv, interval, interval)) then
        dv = checked(inv:version())
        draw()
      end
    end
  end,
})

command("check", {
  usage = "check [-o FORMAT]",
  help = "The engine's integrity check and an audit of every job's counters against its tasks. "
      .. "Exit status 1 when it finds a problem.",
  opts = { ["-o"] = REQ_OPTS["-o"], ["--output"] = REQ_OPTS["-o"] },
  formats = DOC_FORMATS,
  run = function(g, o, pos, cmd)
    if pos[1] then usage("unexpected argument " .. pos[1], cmd) end
    local fmt = output_format(o, cmd)
    local r = checked(open_store(g, "read"):check())
    if fmt == "table" then
      if r.ok then out:write("ok\n") end
      for _, p in ipairs(r.problems) do out:write(p, "\n") end
    else
      emit(fmt, r, "doc")
    end
    return r.ok and 0 or 1
  end,
})

command("backup", {
  usage = "backup FILE [--overwrite] [-o FORMAT]",
  help = "A consistent copy of the store into FILE while it is in use (SQLite's online backup "
      .. "API). An existing FILE is refused unless --overwrite. The copy is mode 0600.",
  opts = { ["--overwrite"] = { "overwrite", "flag" }, ["-o"] = REQ_OPTS["-o"], ["--output"] = REQ_OPTS["-o"] },
  formats = DOC_FORMATS,
  run = function(g, o, pos, cmd)
    local file = id_arg(pos, 1, cmd, "FILE")
    if pos[2] then usage("unexpected argument " .. pos[2], cmd) end
    local fmt = output_format(o, cmd)
    local inv = open_store(g, "read")
    checked(inv:backup(file, { overwrite = o.overwrite }))
    local copy = checked(inventory.open{ path = file, readonly = true })
    local info = checked(copy:info())
    copy:close()
    local r = { path = file, size_bytes = info.size_bytes }
    if fmt == "table" then
      out:write(format("backup: %s (%d bytes)\n", file, info.size_bytes))
    else
      emit(fmt, r, "doc")
    end
  end,
})

command("version", {
  usage = "version [-o FORMAT]",
  help = "The program's version, the schema it reads, and the store's backend and schema "
      .. "(when the store exists).",
  opts = { ["-o"] = REQ_OPTS["-o"], ["--output"] = REQ_OPTS["-o"] },
  formats = DOC_FORMATS,
  run = function(g, o, pos, cmd)
    if pos[1] then usage("unexpected argument " .. pos[1], cmd) end
    local fmt = output_format(o, cmd)
    local r = { program = "inventory " .. inventory._VERSION, lua = jit and jit.version or _VERSION,
                schema_supported = inventory.schema_version }
    local ok, inv = pcall(open_store, g, "read")
    if ok then
      local info = checked(inv:info())
      for k, v in pairs(info) do r[k] = v end
    else
      r.store = "none (" .. tostring(type(inv) == "table" and inv.msg or inv) .. ")"
    end
    if fmt == "table" then
      out:write(r.program, " (", r.lua, ")\n")
      if r.backend then
        out:write(format("store: %s, %s %s, schema %d (this program: %d), %d bytes\n", r.path, r.backend,
                         r.engine_version, r.schema_version, r.schema_supported, r.size_bytes))
      else
        out:write("store: ", r.store, "; schema ", r.schema_supported, "\n")
      end
    else
      emit(fmt, r, "doc")
    end
  end,
})

---------------------------------------------------------------------------
-- help

local function usage_line(def) return "usage: inventory [global options] " .. def.usage end

local GLOBAL_HELP = [[
Global options (also accepted after the command):
  --db PATH         the SQLite store (default: $INVENTORY_DB, else ./inventory.db)
  --url URL         a PostgreSQL store (default: $INVENTORY_URL)
  --schema NAME     its schema (default: $INVENTORY_SCHEMA, else inventory)
  --domain ID       the domain (default: $INVENTORY_DOMAIN)
  --workspace ID    narrow to a workspace (and its domain-level records); create puts the
                    job in it; refused by the commands it does not apply to, and for spot_job
  -h, --help        help (inventory COMMAND --help for a command)
]]

-- the options' help lines, in this order; a command shows those it takes
local OPTION_HELP = {
  { "-p", [[
  -p KEY=VALUE      a request parameter; a.b=c nests, repeating a key makes a list;
                    numbers, true/false, null, [..], {..} and "..." are JSON (an *_id,
                    status, provider, keyword, error_code or message stays text); @FILE reads JSON]] },
  { "-j", "  -j JSON, -f FILE  the request as JSON (for list, stat, analyze: or just its query)" },
  { "--filter", "  --filter EXPR     KEY=V (a,b: in), KEY!=V, KEY>V, >=, <, <=, KEY:V (contain), KEY!:V, KEY~RE" },
  { "-s", "  -s [-]KEY         sort (a leading - for descending); repeatable" },
  { "-l", "  -l N, --start N   page limit and start (whole numbers, start from 1)" },
  { "--minimal", "  --minimal         the API's minimal fields" },
  { "-c", [[
  -c COLS           the columns of table, yaml and csv output, comma separated (a.b for
                    nested, a.0.b for a list's first element); without -o, prints a table]] },
  { "--status", "  --status S        SUCCESS or FAILURE" },
  { "--yes", "  -y, --yes         do not ask" },
  { "--overwrite", "  --overwrite       replace an existing FILE" },
  { "--timeout-hours", "  --timeout-hours N default 2" },
  { "--older-than-days", "  --older-than-days N  default 60" },
  { "--interval", "  --interval S      how often the store is looked at (0.05 to 3600, default 1)" },
}

local function options_help(def)
  local t = { "Options:" }
  for _, h in ipairs(OPTION_HELP) do
    if def.opts[h[1]] then t[#t + 1] = h[2] end
  end
  if def.formats then
    t[#t + 1] = "  -o FORMAT         " .. format_list(def.formats)
    if def.default_format then
      t[#t + 1] = "                    (default: " .. def.default_format .. ")"
    elseif def.formats.json then
      t[#t + 1] = "                    (default: table on a terminal" .. (def.opts["-c"] and " or with -c" or "")
                  .. ", else json"
      t[#t + 1] = "                    " .. (def.opts["-p"] and "as the REST API answers)" or "as a document)")
    end
  end
  if #t == 1 then return "" end
  return concat(t, "\n") .. "\n"
end

local COMMON_HELP = [[
Resources: job, job_task, spot_job (also inventory.Job, inventory.JobTask).
Exit status: 0 success, 1 an API error (on stderr), a failed check or output that could not
be written, 2 a usage error (before anything is done).
]]

local function print_help(cmdname)
  local def = cmdname and COMMANDS[cmdname]
  if def then
    local oh = options_help(def)
    out:write(usage_line(def), "\n\n", def.help, "\n\n", oh, oh ~= "" and "\n" or "", GLOBAL_HELP, "\n",
              COMMON_HELP)
    return
  end
  out:write("usage: inventory [global options] COMMAND [arguments]\n\nCommands:\n")
  for _, n in ipairs(ORDER) do out:write("  ", COMMANDS[n].usage, "\n") end
  out:write("\n", GLOBAL_HELP, "\n", options_help({ opts = LIST_OPTS_ALL, formats = ALL_FORMATS }), "\n",
            COMMON_HELP)
end

---------------------------------------------------------------------------
-- main

local function run(argv)
  -- global options before the command
  local g, i = {}, 1
  while argv[i] and argv[i]:sub(1, 1) == "-" do
    local a = argv[i]
    local name, val = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    local s = GLOBAL[name]
    if not s then usage("unknown option " .. name) end
    if s[2] == "flag" then
      g[s[1]] = true
    else
      if not val then i = i + 1; val = argv[i] end
      if val == nil then usage(name .. " needs a value") end
      g[s[1]] = val
    end
    i = i + 1
  end
  local name = argv[i]
  if name == nil then
    if g.help then print_help(); return 0 end
    usage("a COMMAND is missing")
  end
  if name == "help" then print_help(argv[i + 1]); return 0 end
  local def = COMMANDS[name]
  if not def then usage("unknown command '" .. name .. "'") end
  local o, pos = parse_opts(argv, i + 1, def.opts or {}, name)
  -- global options given after the command
  for _, k in ipairs{ "db", "url", "domain", "workspace" } do
    if o[k] ~= nil then g[k] = o[k] end
  end
  if g.help or o.help then print_help(name); return 0 end
  -- what the command cannot do is refused before it does anything
  o.fmt = check_format(def, o, name)
  if g.workspace and not def.workspace then usage("--workspace does not apply to " .. name, name) end
  g.domain = g.domain or getenv("INVENTORY_DOMAIN")
  if g.domain == "" then g.domain = nil end
  return def.run(g, o, pos, name) or 0
end

--- main(argv) -> exit status. Errors become messages on stderr.
function M.main(argv)
  argv = argv or {}
  local cmd
  for _, a in ipairs(argv) do if COMMANDS[a] then cmd = a; break end end
  local ok, res = pcall(run, argv)
  if ok or (type(res) == "table" and getmetatable(res) ~= WriteError) then
    -- what is still buffered: its failure is the command's failure
    local fok, fe = pcall(out.flush)
    if not fok then ok, res = false, fe end
  end
  if ok then return res end
  local mt = type(res) == "table" and getmetatable(res)
  if mt == WriteError then
    err:write("inventory: cannot write output: ", res.msg, "\n")
    return 1
  end
  if mt == Usage then
    local def = COMMANDS[res.cmd or cmd or ""]
    err:write(def and usage_line(def) or "usage: inventory [global options] COMMAND [arguments]", "\n")
    err:write("inventory: ", res.msg, "\n")
    err:write("Try 'inventory ", def and (def.name .. " ") or "", "--help'.\n")
    return 2
  elseif mt == ApiError then
    local msg = res.msg
    if res.code == "ERROR_REQUIRED_PARAMETER" and tostring(msg):find("key = domain_id", 1, true) then
      msg = msg .. " (--domain or INVENTORY_DOMAIN)"
    end
    err:write("inventory: ", res.code and (res.code .. ": ") or "", tostring(msg), "\n")
    return 1
  end
  local s = tostring(res)
  if s:find("interrupted!$") then return 130 end
  err:write("inventory: internal error: ", (s:gsub("^[^:]*:%d+: ", "")), "\n")
  return 1
end

return M
