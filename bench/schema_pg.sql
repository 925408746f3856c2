-- bench/schema_pg.sql: the hand-written PostgreSQL schema of the benchmark's
-- limit (the PostgreSQL twin of bench/schema.sql).
--
-- What a competent user writes for the Job / JobTask API and the console's
-- queries on PostgreSQL, without looking at inventory: plain columns, times
-- as timestamptz (UTC), `errors` as jsonb (containment tests, no parsing per
-- row), a bigint identity primary key so that ties in a sort break by
-- insertion order, UNIQUE on job_id and job_task_id, and one index per query
-- shape the console runs all day. Every index that serves an ordered page
-- ends with `id`: PostgreSQL's B-tree has no implicit rowid, and without it
-- `ORDER BY created_at DESC, id` would need an (incremental) sort on ties.
-- bench/README.md ("The hand-written PostgreSQL schema") gives the
-- reasoning for each index. bench/gen.c (built as gen_pg) runs the tables
-- part in the schema "hand", loads the rows with COPY, then runs the indexes
-- part (everything after the "-- @indexes" line).

CREATE TABLE job (
  id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id               text        NOT NULL UNIQUE,
  status               text        NOT NULL DEFAULT 'IN_PROGRESS',
  filter               jsonb,                          -- v1 jobs
  total_tasks          integer     NOT NULL DEFAULT 0,
  remained_tasks       integer     NOT NULL DEFAULT 0,
  success_tasks        integer     NOT NULL DEFAULT 0,
  failure_tasks        integer     NOT NULL DEFAULT 0,
  errors               jsonb,                          -- v1 jobs
  collector_info       jsonb,                          -- v1 jobs
  request_secret_id    text,
  request_workspace_id text,
  resource_group       text,
  project_id           text,
  domain_id            text        NOT NULL,
  workspace_id         text,
  collector_id         text,
  plugin_id            text,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz,
  finished_at          timestamptz
);

CREATE TABLE job_task (
  id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_task_id          text        NOT NULL UNIQUE,
  status               text        NOT NULL DEFAULT 'PENDING',
  provider             text,
  created_count        integer     NOT NULL DEFAULT 0,
  updated_count        integer     NOT NULL DEFAULT 0,
  failure_count        integer     NOT NULL DEFAULT 0,
  deleted_count        integer     NOT NULL DEFAULT 0,
  disconnected_count   integer     NOT NULL DEFAULT 0,
  errors               jsonb       NOT NULL DEFAULT '[]',  -- [{error_code, message, additional}]
  job_id               text        NOT NULL,
  secret_id            text,
  service_account_id   text,
  project_id           text,
  workspace_id         text,
  domain_id            text        NOT NULL,
  created_at           timestamptz NOT NULL,
  started_at           timestamptz,
  finished_at          timestamptz
);

-- @indexes
-- job_id / job_task_id: UNIQUE above (get, finish, and the job a task updates).

-- the console's job list of a domain, newest first; daily outcomes of a domain
CREATE INDEX job_by_domain ON job (domain_id, created_at DESC, id);
-- jobs of one collector by status, newest first; analyze grouped by collector;
-- the IN_PROGRESS job of a collector that a new run cancels
CREATE INDEX job_by_collector ON job (domain_id, collector_id, status, created_at DESC, id);

-- the tasks of one job, newest first, ties by id; their count; the job's
-- progress by status
CREATE INDEX task_by_job ON job_task (domain_id, job_id, created_at DESC, id);
-- a domain's tasks, newest first: the default list page, and the keyword and
-- errors filters, which walk it in order and stop when the page is full
CREATE INDEX task_by_domain ON job_task (domain_id, created_at DESC, id);
-- count by status over a domain: an index-only scan, the groups in order
CREATE INDEX task_by_status ON job_task (domain_id, status);
-- a workspace's tasks: a workspace member sees workspace_id IN (ws, '*'); the
-- page's count is an index-only scan, and a domain admin's workspace_id = ws
-- filter gets its page in order from it
CREATE INDEX task_by_workspace ON job_task (domain_id, workspace_id, created_at DESC, id);

-- statistics for the planner and the visibility map for index-only scans
-- (what autovacuum does after a bulk load, done at once so that every run
-- starts from the same state; inventory's schema gets the same)
VACUUM (ANALYZE) job;
VACUUM (ANALYZE) job_task;
