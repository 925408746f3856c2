-- luacheck configuration (make lint). Lua 5.4 and LuaJIT 2.1 both run this
-- code, so the base standard is "max" (the globals of 5.1 to 5.4 and
-- LuaJIT); each tree adds its own.
std = "max"
self = false                         -- an unused implicit self (t:note(s)) is fine
max_line_length = 120
exclude_files = { "build/**", "lib/**", "node_modules/**", "fuzz/corpus*/**", "examples/nginx/run/**",
                  "bench/out/**" }

-- the modules: ngx_lua's ngx global (inventory.ngx, inventory.ngx_thread)
files["lua/"] = { std = "max+ngx_lua" }
-- busted specs (describe, it, assert, pending, ...); their data lines may be long
files["spec/"] = { std = "max+busted", max_line_length = false }
-- the nginx suite's driver and fixture, the reliability and packaging suites'
-- Lua processes: plain Lua 5.4 scripts (arg, os.exit); long data lines
files["test/"] = { std = "max", max_line_length = false }
-- the test runner's own fixture spec (spec/runner_spec.lua runs it)
files["test/runner/"] = { std = "max+busted" }
-- benchmarks (bench/README.md) and examples: plain scripts; the REST limit
-- (bench/rest_limit.lua) runs in nginx
files["bench/"] = { std = "max", max_line_length = false }
files["bench/rest_limit.lua"] = { std = "max+ngx_lua", max_line_length = false }
files["examples/"] = { std = "max" }
