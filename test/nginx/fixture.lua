-- test/nginx/fixture.lua: the database and token file behind the nginx suite.
--
--   lua5.4 test/nginx/fixture.lua init   DB TOKENS SEEDS_DIR
--   lua5.4 test/nginx/fixture.lua phase2 DB SEEDS_DIR
--
-- init: spec/rest_fixture.lua's two domains, and the records of the seed
-- pages' v1 examples (000: job get and list; 003: the task list, with 4,837
-- older tasks so that its total_count of 4,839 holds); writes the tokens.
-- phase2 (while nginx runs, after the suite deleted the v1 jobs through the
-- API): the records of the SpaceONE 2.0 page's examples (002).
local cjson = require "cjson"
local F = require "spec.rest_fixture"
local seeds = require "seeds"

local mode, db = arg[1], arg[2]

-- identities of the seed pages' domains
local SEED_TOKENS = {
  ["seed-domain-1234"] = { domain_id = "domain-123456789012", role = "DOMAIN_ADMIN" },
  ["seed-domain-5801"] = { domain_id = "domain-58010aa2e451", role = "DOMAIN_ADMIN" },
}

local inv = assert(require("testdb").open(db))

if mode == "init" then
  local tokens_path, dir = arg[3], arg[4]
  local S = seeds.load(dir)
  F.load(inv)
  assert(inv:import("job", { S.job_v1.get.response }))
  assert(inv:import("job", S.job_v1.list.response.results))
  local tasks = {}
  for i, t in ipairs(S.task_v1.list.response.results) do tasks[i] = t end
  local want = S.task_v1.list.response.total_count
  for i = 1, want - #tasks do
    local s = 1655337600 + i * 13                   -- from 2022-06-16, older than the examples
    tasks[#tasks + 1] = {
      job_task_id = string.format("job_task-%012x", i), status = "SUCCESS", provider = "aws",
      updated_count = i % 97, job_id = "job-587a3d3b4db3", domain_id = "domain-58010aa2e451",
      secret_id = "secret-filler", service_account_id = "sa-filler", project_id = "project-filler",
      created_at = os.date("!%Y-%m-%dT%H:%M:%S.000Z", s),
    }
  end
  assert(inv:import("job_task", tasks))
  local all = {}
  for k, v in pairs(F.TOKENS) do all[k] = v end
  for k, v in pairs(SEED_TOKENS) do all[k] = v end
  local f = assert(io.open(tokens_path, "wb"))
  f:write(cjson.encode(all))
  f:close()
elseif mode == "phase2" then
  local S = seeds.load(arg[3])
  assert(inv:import("job", { S.job_v2.get.response }))
  assert(inv:import("job", S.job_v2.list.response.results))
else
  error("usage: fixture.lua init DB TOKENS SEEDS_DIR | phase2 DB SEEDS_DIR")
end
inv:close()
