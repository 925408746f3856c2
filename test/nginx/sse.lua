-- test/nginx/sse.lua: a small Server-Sent Events client over LuaSocket (HTTP/1.1,
-- chunked transfer), for the nginx suite and bench/events_bench.lua.
--
--   local sse = require "sse"
--   local s = assert(sse.open("127.0.0.1", port, "/inventory/v1/events", { Authorization = "Bearer x" }))
--   s.status, s.headers, s.body (a non-200 answer's body)
--   local ev, err = s:next(1.0)   -- { id =, event =, data =, t = arrival time } | nil, "timeout" | "closed"
--   s.ended       -- the response ended cleanly (the last chunk came)
--   s.comments    -- comment lines seen, in order
--   s:close()
local socket = require "socket"

local _M = {}
local S = {}
S.__index = S

_M.now = socket.gettime

-- read what is there (waiting at most `timeout`); false when the peer closed
function S:fill(timeout)
  local r = socket.select({ self.c }, nil, timeout)
  if not r or #r == 0 then return true end
  self.c:settimeout(0)
  local data, err, partial = self.c:receive(65536)
  local got = data or partial
  if got and #got > 0 then self.raw = self.raw .. got end
  if err == "closed" then self.closed = true; return false end
  return true
end

-- move complete chunks from raw to text
function S:dechunk()
  while not self.ended do
    local eol = self.raw:find("\r\n", 1, true)
    if not eol then return end
    local size = tonumber(self.raw:sub(1, eol - 1):match("^%x+"), 16)
    if not size then error("bad chunk header: " .. self.raw:sub(1, 40)) end
    if size == 0 then
      if #self.raw >= eol + 3 then self.ended = true; self.raw = self.raw:sub(eol + 4) end
      return
    end
    if #self.raw < eol + 1 + size + 2 then return end
    self.text = self.text .. self.raw:sub(eol + 2, eol + 1 + size)
    self.raw = self.raw:sub(eol + 1 + size + 3)
  end
end

-- the next event (comments are kept in self.comments; id-only blocks move self.last_id)
function S:next(timeout)
  local deadline = socket.gettime() + (timeout or 5)
  while true do
    local b = self.text:find("\n\n", 1, true)
    while b do
      local block = self.text:sub(1, b - 1)
      self.text = self.text:sub(b + 2)
      local ev = { data = {} }
      for line in (block .. "\n"):gmatch("([^\n]*)\n") do
        if line:sub(1, 1) == ":" then
          self.comments[#self.comments + 1] = { text = line:sub(2):gsub("^ ", ""), t = socket.gettime() }
        else
          local k, v = line:match("^([^:]+):? ?(.*)$")
          if k == "data" then ev.data[#ev.data + 1] = v
          elseif k == "event" then ev.event = v
          elseif k == "id" then ev.id = v; self.last_id = v
          elseif k == "retry" then self.retry = tonumber(v) end
        end
      end
      if #ev.data > 0 then
        ev.data = table.concat(ev.data, "\n")
        ev.event = ev.event or "message"
        ev.t = socket.gettime()
        return ev
      end
      b = self.text:find("\n\n", 1, true)
    end
    if self.ended then return nil, "ended" end
    if self.closed then return nil, "closed" end
    local left = deadline - socket.gettime()
    if left <= 0 then return nil, "timeout" end
    self:fill(left)
    self:dechunk()
  end
end

-- every event until `timeout` passes with none (or the stream ends)
function S:drain(timeout)
  local out = {}
  while true do
    local ev = self:next(timeout)
    if not ev then return out end
    out[#out + 1] = ev
  end
end

function S:close()
  if self.c then self.c:close(); self.c = nil end
end

--- sse.open(host, port, path, headers, timeout) -> stream (status 200 or not) | nil, err
function _M.open(host, port, path, headers, timeout)
  local c = socket.tcp()
  c:settimeout(timeout or 5)
  local ok, err = c:connect(host, port)
  if not ok then return nil, err end
  local req = { "GET " .. path .. " HTTP/1.1", "Host: " .. host .. ":" .. port, "Accept: text/event-stream" }
  for k, v in pairs(headers or {}) do req[#req + 1] = k .. ": " .. v end
  c:send(table.concat(req, "\r\n") .. "\r\n\r\n")
  local self = setmetatable({ c = c, raw = "", text = "", comments = {}, headers = {} }, S)
  local deadline = socket.gettime() + (timeout or 5)
  while not self.raw:find("\r\n\r\n", 1, true) do
    if self.closed or socket.gettime() > deadline then c:close(); return nil, "no response head" end
    self:fill(0.2)
  end
  local e = self.raw:find("\r\n\r\n", 1, true)
  local head = self.raw:sub(1, e - 1)
  self.raw = self.raw:sub(e + 4)
  self.status = tonumber(head:match("^HTTP/1%.%d (%d%d%d)"))
  for line in head:gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then self.headers[k:lower()] = v end
  end
  if self.status ~= 200 then
    local n = tonumber(self.headers["content-length"] or "")
    while n and #self.raw < n and not self.closed and socket.gettime() < deadline do self:fill(0.2) end
    self.body = n and self.raw:sub(1, n) or self.raw
  elseif (self.headers["transfer-encoding"] or ""):lower() ~= "chunked" then
    c:close()
    return nil, "expected a chunked response"
  end
  return self
end

return _M
