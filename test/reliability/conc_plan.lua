-- test/reliability/conc_plan.lua: the deterministic plan shared by
-- concurrency.lua and its workers (which tasks fail, start, get errors; which
-- jobs are canceled or old enough to be swept).
local P = {}

P.DOMAIN = "domain-rel"
P.JOBS = 100
P.TASKS = 100
P.WORKERS = 4

-- jobs canceled by worker 1 when it reaches them (before finishing any of its tasks there)
P.CANCEL = { [30] = true, [70] = true }
-- jobs created 3 hours in the past: the sweep (timeout 2 h) fails what is left of them.
-- 5 is long finished when the sweep runs, 95 not started, 48..52 in flight.
P.OLD = { [5] = true, [48] = true, [49] = true, [50] = true, [51] = true, [52] = true, [95] = true }
-- worker 2 sweeps when it reaches this job
P.SWEEP_AT = 50
-- tasks (by index in their job) to which every worker appends one error
P.SHARED = { 1, 50 }

function P.fails(j, i)
  return (j % 3 == 0 and i == 7) or (j % 10 == 4 and i % 20 == 3) or (j % 17 == 0 and i > 90)
end
function P.starts(_, i) return i % 5 == 0 end   -- spread over all workers
function P.own_error(_, i) return i % 10 == 1 end

return P
