-- test/c/data/mkstore-v2.lua FILE: run with a build of schema 2 (commit 7dba307, from
-- its tree) to make the store dumped into store-v2.sql
package.path="./lua/?.lua;./lua/?/init.lua;"..package.path; package.cpath="./lib/lua/5.4/?.so;"..package.cpath
local inventory=require "inventory"
os.remove(arg[1]); os.remove(arg[1].."-wal"); os.remove(arg[1].."-shm")
local inv=assert(inventory.open{path=arg[1]})
assert(inv:schema_version()==2)
inv:set_now(1704067200000)  -- 2024-01-01T00:00:00Z
-- a finished job: one success, one failure with an error
local j1=assert(inv.job.create{domain_id="domain-a",collector_id="collector-1",plugin_id="plugin-x",
  workspace_id="ws-1",tasks={{secret_id="secret-1",project_id="project-1",provider="aws"},
  {secret_id="secret-2",project_id="project-2",provider="aws"}}})
local t=assert(inv.job_task.list{domain_id="domain-a",job_id=j1.job_id}).results
table.sort(t,function(a,b) return a.secret_id<b.secret_id end)
inv:set_now(1704067260000)
assert(inv.job_task.start{job_task_id=t[1].job_task_id,domain_id="domain-a"})
assert(inv.job_task.finish{job_task_id=t[1].job_task_id,domain_id="domain-a",status="SUCCESS",created_count=5,updated_count=2})
assert(inv.job_task.add_error{job_task_id=t[2].job_task_id,domain_id="domain-a",error_code="ERROR_AUTH",message="denied",additional={resource_type="inventory.CloudService"}})
assert(inv.job_task.finish{job_task_id=t[2].job_task_id,domain_id="domain-a",status="FAILURE",failure_count=1})
-- a running job with 3 pending tasks (another collector), and a canceled one
inv:set_now(1704153600000)
local j2=assert(inv.job.create{domain_id="domain-a",collector_id="collector-2",tasks={{secret_id="secret-3"},{secret_id="secret-4"},{secret_id="secret-5"}}})
inv:set_now(1704153700000)
local j3=assert(inv.job.create{domain_id="domain-b",collector_id="collector-3",tasks={{secret_id="secret-6"}}})
assert(inv.job.cancel{job_id=j3.job_id,domain_id="domain-b"})
-- imported v1 records and a spot job
assert(inv:import("job",{{job_id="job-v1old",domain_id="domain-a",status="ERROR",project_id="project-1",
  filter={region="us"},errors={{error_code="E1",message="m"}},created_at="2020-05-01T10:00:00Z",finished_at="2020-05-01T10:05:00Z"}}))
assert(inv:import("spot_job",{{job_id="job-spot1",domain_id="domain-a",status="SUCCESS",created_at="2021-01-01T00:00:00Z"}}))
print(j1.job_id, j2.job_id, j3.job_id)
inv:close()
