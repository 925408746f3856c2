-- test/nginx/seeds.lua: the request/response examples of the seed pages
-- (../shared/seeds), extracted from their three page formats.
--
--   local S = require("seeds").load(dir)
--   S.job_v1.get.request / .response     000: POST /inventory/v1/job/{verb}, v1 records
--   S.job_v2.list.request / .response    002: the same verbs, SpaceONE 2.0 page
--   S.task_v1.list.request / .response   003: GET /inventory/v1/job-tasks, POST .../search
-- 001 and 004 (the oldest Job page, spot-automation) carry no examples.
local cjson = require "cjson"

local M = {}

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function find_file(dir, prefix)
  local p = io.popen('ls "' .. dir .. '"')
  local name
  for line in p:lines() do
    if line:sub(1, #prefix) == prefix then name = line end
  end
  p:close()
  assert(name, "no seed " .. prefix .. "* in " .. dir)
  return dir .. "/" .. name
end

-- the pages' JSON is hand-written: drop trailing commas ("{ "a": 1, }")
local function decode(text, what)
  local fixed = text:gsub(",%s*([}%]])", "%1")
  local ok, v = pcall(cjson.decode, fixed)
  assert(ok and type(v) == "table", "cannot decode the " .. what .. " example: " .. tostring(v))
  return v, fixed
end

-- the lines after "key: >-" up to a blank line or the next "key:"
local function block(sec, key)
  local rest = sec:match(key .. ": >%-\n(.*)$")
  if not rest then return nil end
  local lines = {}
  for line in (rest .. "\n"):gmatch("(.-)\n") do
    if line:match("^%s*$") or line:match("^[%a_]+:") then break end
    lines[#lines + 1] = line
  end
  return table.concat(lines, "\n")
end

-- 000: "### verb" sections with "request_example: >-" / "response_example: >-" blocks
local function hugo_yaml(text)
  local out = {}
  for _, verb in ipairs{ "delete", "get", "list" } do
    local sec = text:match("\n### " .. verb .. "\n(.-)\n> %*%*POST%*%*")
    assert(sec, "000: no section " .. verb)
    local e = { path = "/inventory/v1/job/" .. verb }
    local req, resp = block(sec, "request_example"), block(sec, "response_example")
    if req then e.request, e.request_text = decode(req, "000 " .. verb .. " request") end
    if resp then e.response = decode(resp, "000 " .. verb .. " response") end
    out[verb] = e
  end
  return out
end

-- 002: {{< tabs " verb " >}} ... {{< highlight json >}} ... {{< /highlight >}}
local function hugo_tabs(text)
  local out = {}
  for _, verb in ipairs{ "delete", "get", "list" } do
    local sec = text:match('{{< tabs " ' .. verb .. ' " >}}(.-){{< /tabs >}}')
    assert(sec, "002: no tabs " .. verb)
    local e = { path = "/inventory/v1/job/" .. verb }
    local req = sec:match('{{< tab "Request Example" >}}.-{{< highlight json >}}(.-){{< /highlight >}}')
    local resp = sec:match('{{< tab "Response Example" >}}.-{{< highlight json >}}(.-){{< /highlight >}}')
    if req then e.request, e.request_text = decode(req, "002 " .. verb .. " request") end
    if resp then e.response = decode(resp, "002 " .. verb .. " response") end
    out[verb] = e
  end
  return out
end

-- 003: GitBook {% tab title="Request Example" %} ```text ... ```
local function gitbook(text)
  local sec = text:match("\n### list\n(.-)\n### ")
  assert(sec, "003: no section list")
  local req = sec:match('{%% tab title="Request Example" %%}%s*```text\n(.-)```')
  local resp = sec:match('{%% tab title="Response Example" %%}%s*```text\n(.-)```')
  assert(req and resp, "003: no list examples")
  local e = { paths = { { "GET", "/inventory/v1/job-tasks" }, { "POST", "/inventory/v1/job-tasks/search" } } }
  e.request, e.request_text = decode(req, "003 list request")
  e.response = decode(resp, "003 list response")
  return { list = e }
end

function M.load(dir)
  return {
    job_v1 = hugo_yaml(read(find_file(dir, "000_"))),
    job_v2 = hugo_tabs(read(find_file(dir, "002_"))),
    task_v1 = gitbook(read(find_file(dir, "003_"))),
  }
end

return M
