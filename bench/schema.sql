-- bench/schema.sql: the hand-written schema of the benchmark's limit.
--
-- What a competent user writes for the Job / JobTask API and the console's
-- queries, without looking at inventory: plain columns, times as integer
-- milliseconds since the epoch (UTC), `errors` as JSON text, an INTEGER
-- PRIMARY KEY so that ties in a sort break by insertion order (a rowid that
-- VACUUM cannot renumber), and one index per query shape the console runs
-- all day. bench/README.md ("The hand-written schema") gives the reasoning
-- for each index. bench/gen.c runs the tables part, loads the rows, then the
-- indexes part (everything after the "-- @indexes" line).

CREATE TABLE job (
  id                   INTEGER PRIMARY KEY,
  job_id               TEXT    NOT NULL UNIQUE,
  status               TEXT    NOT NULL DEFAULT 'IN_PROGRESS',
  filter               TEXT,                          -- JSON object (v1 jobs)
  total_tasks          INTEGER NOT NULL DEFAULT 0,
  remained_tasks       INTEGER NOT NULL DEFAULT 0,
  success_tasks        INTEGER NOT NULL DEFAULT 0,
  failure_tasks        INTEGER NOT NULL DEFAULT 0,
  errors               TEXT,                          -- JSON array (v1 jobs)
  collector_info       TEXT,                          -- JSON object (v1 jobs)
  request_secret_id    TEXT,
  request_workspace_id TEXT,
  resource_group       TEXT,
  project_id           TEXT,
  domain_id            TEXT    NOT NULL,
  workspace_id         TEXT,
  collector_id         TEXT,
  plugin_id            TEXT,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER,
  finished_at          INTEGER
);

CREATE TABLE job_task (
  id                   INTEGER PRIMARY KEY,
  job_task_id          TEXT    NOT NULL UNIQUE,
  status               TEXT    NOT NULL DEFAULT 'PENDING',
  provider             TEXT,
  created_count        INTEGER NOT NULL DEFAULT 0,
  updated_count        INTEGER NOT NULL DEFAULT 0,
  failure_count        INTEGER NOT NULL DEFAULT 0,
  deleted_count        INTEGER NOT NULL DEFAULT 0,
  disconnected_count   INTEGER NOT NULL DEFAULT 0,
  errors               TEXT    NOT NULL DEFAULT '[]',  -- JSON array of {error_code, message, additional}
  job_id               TEXT    NOT NULL,
  secret_id            TEXT,
  service_account_id   TEXT,
  project_id           TEXT,
  workspace_id         TEXT,
  domain_id            TEXT    NOT NULL,
  created_at           INTEGER NOT NULL,
  started_at           INTEGER,
  finished_at          INTEGER
);

-- @indexes
-- job_id / job_task_id: UNIQUE above (get, finish, and the job a task updates).

-- the console's job list of a domain, newest first; daily outcomes of a domain
CREATE INDEX job_by_domain ON job (domain_id, created_at DESC);
-- jobs of one collector by status, newest first; analyze grouped by collector;
-- the IN_PROGRESS job of a collector that a new run cancels
CREATE INDEX job_by_collector ON job (domain_id, collector_id, status, created_at DESC);

-- the tasks of one job, newest first (ties: the implicit trailing id ascends);
-- their count; the job's progress by status
CREATE INDEX task_by_job ON job_task (domain_id, job_id, created_at DESC);
-- a domain's tasks, newest first: the default list page, and the keyword and
-- errors filters, which walk it in order and stop when the page is full
CREATE INDEX task_by_domain ON job_task (domain_id, created_at DESC);
-- count by status over a domain: covering, the groups come out in order
CREATE INDEX task_by_status ON job_task (domain_id, status);
-- a workspace's tasks: a workspace member sees workspace_id IN (ws, '*'); the
-- page's count is a covering search of two ranges, and a domain admin's
-- workspace_id = ws filter gets its page in order from it
CREATE INDEX task_by_workspace ON job_task (domain_id, workspace_id, created_at DESC);

-- statistics for the planner (SQLite's advice: ANALYZE, or PRAGMA optimize,
-- once the tables hold data). Without them the progress stat of one job
-- (domain_id = ? AND job_id = ? GROUP BY status) walks task_by_status over
-- the whole domain, for its GROUP BY order, instead of the job's 100 rows.
ANALYZE;
