-- test/nginx/testdb.lua: the store the nginx suite serves, opened from the
-- test's side. DB is a SQLite file, or a PostgreSQL URL (the schema
-- "inventory", as examples/nginx/mkprefix.sh configures nginx for a URL).
local M = {}

function M.is_pg(db)
  return db:find("^postgres") ~= nil
end

--- open(db, extra options) -> inventory.open's results
function M.open(db, extra)
  local o = {}
  for k, v in pairs(extra or {}) do o[k] = v end
  if M.is_pg(db) then o.url = db else o.path = db end
  return require("inventory").open(o)
end

return M
