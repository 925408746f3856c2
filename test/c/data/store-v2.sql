-- A store of schema 2, made by the library before schema 3 (commit 7dba307)
-- with test/c/data/mkstore-v2.lua, then dumped (sqlite3 FILE .dump):
-- jobs and tasks in every state, errors, v1 records, a spot job, the change
-- journal. test_store.c (migrateV2) builds a file from it and opens it with
-- this library, which migrates it to schema 3.
PRAGMA user_version = 2;
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE job (id INTEGER PRIMARY KEY, job_id TEXT NOT NULL UNIQUE, status TEXT NOT NULL, filter TEXT, total_tasks INTEGER NOT NULL DEFAULT 0, remained_tasks INTEGER NOT NULL DEFAULT 0, success_tasks INTEGER NOT NULL DEFAULT 0, failure_tasks INTEGER NOT NULL DEFAULT 0, errors TEXT, collector_info TEXT, request_secret_id TEXT, request_workspace_id TEXT, resource_group TEXT, project_id TEXT, domain_id TEXT, workspace_id TEXT, collector_id TEXT, plugin_id TEXT, created_at INTEGER NOT NULL, updated_at INTEGER, finished_at INTEGER);
INSERT INTO job VALUES(1,'job-a77f8f60c954','FAILURE',NULL,2,0,1,1,NULL,NULL,NULL,NULL,'WORKSPACE',NULL,'domain-a','ws-1','collector-1','plugin-x',1704067200000,1704067260000,1704067260000);
INSERT INTO job VALUES(2,'job-646e86d7b09f','IN_PROGRESS',NULL,3,3,0,0,NULL,NULL,NULL,NULL,'DOMAIN',NULL,'domain-a','*','collector-2',NULL,1704153600000,1704153600000,NULL);
INSERT INTO job VALUES(3,'job-a7210c2642e2','CANCELED',NULL,1,1,0,0,NULL,NULL,NULL,NULL,'DOMAIN',NULL,'domain-b','*','collector-3',NULL,1704153700000,1704153700000,1704153700000);
INSERT INTO job VALUES(4,'job-v1old','ERROR','{"region":"us"}',0,0,0,0,'[{"error_code":"E1","message":"m"}]',NULL,NULL,NULL,NULL,'project-1','domain-a',NULL,NULL,NULL,1588327200000,1588327200000,1588327500000);
CREATE TABLE job_task (id INTEGER PRIMARY KEY, job_task_id TEXT NOT NULL UNIQUE, status TEXT NOT NULL, provider TEXT, total_sub_tasks INTEGER NOT NULL DEFAULT 0, remained_sub_tasks INTEGER NOT NULL DEFAULT 0, created_count INTEGER NOT NULL DEFAULT 0, updated_count INTEGER NOT NULL DEFAULT 0, failure_count INTEGER NOT NULL DEFAULT 0, deleted_count INTEGER NOT NULL DEFAULT 0, disconnected_count INTEGER NOT NULL DEFAULT 0, total_count INTEGER NOT NULL DEFAULT 0, errors TEXT NOT NULL DEFAULT '[]', job_id TEXT, secret_id TEXT, collector_id TEXT, service_account_id TEXT, project_id TEXT, workspace_id TEXT, domain_id TEXT, created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER);
INSERT INTO job_task VALUES(1,'job-task-20afdae55eeb','SUCCESS','aws',1,0,5,2,0,0,0,0,'[]','job-a77f8f60c954','secret-1','collector-1',NULL,'project-1','ws-1','domain-a',1704067200000,1704067260000,1704067260000);
INSERT INTO job_task VALUES(2,'job-task-16382fefd451','FAILURE','aws',1,0,0,0,1,0,0,0,'[{"error_code":"ERROR_AUTH","message":"denied","additional":{"resource_type":"inventory.CloudService"}}]','job-a77f8f60c954','secret-2','collector-1',NULL,'project-2','ws-1','domain-a',1704067200000,1704067260000,1704067260000);
INSERT INTO job_task VALUES(3,'job-task-226cf166a163','PENDING',NULL,1,1,0,0,0,0,0,0,'[]','job-646e86d7b09f','secret-3','collector-2',NULL,NULL,'*','domain-a',1704153600000,NULL,NULL);
INSERT INTO job_task VALUES(4,'job-task-a46fb829ea05','PENDING',NULL,1,1,0,0,0,0,0,0,'[]','job-646e86d7b09f','secret-4','collector-2',NULL,NULL,'*','domain-a',1704153600000,NULL,NULL);
INSERT INTO job_task VALUES(5,'job-task-07d4aaf55654','PENDING',NULL,1,1,0,0,0,0,0,0,'[]','job-646e86d7b09f','secret-5','collector-2',NULL,NULL,'*','domain-a',1704153600000,NULL,NULL);
INSERT INTO job_task VALUES(6,'job-task-2685938a1db3','PENDING',NULL,1,1,0,0,0,0,0,0,'[]','job-a7210c2642e2','secret-6','collector-3',NULL,NULL,'*','domain-b',1704153700000,NULL,NULL);
CREATE TABLE spot_job (id INTEGER PRIMARY KEY, job_id TEXT NOT NULL UNIQUE, status TEXT NOT NULL, filter TEXT, total_tasks INTEGER NOT NULL DEFAULT 0, remained_tasks INTEGER NOT NULL DEFAULT 0, errors TEXT NOT NULL DEFAULT '[]', project_id TEXT, domain_id TEXT, created_at INTEGER NOT NULL, updated_at INTEGER, finished_at INTEGER);
INSERT INTO spot_job VALUES(1,'job-spot1','SUCCESS',NULL,0,0,'[]',NULL,'domain-a',1609459200000,1609459200000,NULL);
CREATE TABLE change (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, resource TEXT NOT NULL, op TEXT NOT NULL, id TEXT NOT NULL, domain_id TEXT, workspace_id TEXT, project_id TEXT, job_id TEXT, collector_id TEXT);
INSERT INTO change VALUES(1,1704067200000,'job','upsert','job-a77f8f60c954','domain-a',NULL,NULL,'job-a77f8f60c954',NULL);
INSERT INTO change VALUES(2,1704067200000,'job_task','upsert','job-task-20afdae55eeb','domain-a',NULL,NULL,'job-a77f8f60c954',NULL);
INSERT INTO change VALUES(3,1704067200000,'job_task','upsert','job-task-16382fefd451','domain-a',NULL,NULL,'job-a77f8f60c954',NULL);
INSERT INTO change VALUES(4,1704067260000,'job_task','upsert','job-task-20afdae55eeb','domain-a',NULL,NULL,'job-a77f8f60c954',NULL);
INSERT INTO change VALUES(5,1704067260000,'job_task','upsert','job-task-20afdae55eeb','domain-a',NULL,NULL,'job-a77f8f60c954',NULL);
INSERT INTO change VALUES(6,1704067260000,'job','upsert','job-a77f8f60c954','domain-a',NULL,NULL,'job-a77f8f60c954',NULL);
INSERT INTO change VALUES(7,1704067260000,'job_task','upsert','job-task-16382fefd451','domain-a',NULL,NULL,'job-a77f8f60c954',NULL);
INSERT INTO change VALUES(8,1704067260000,'job_task','upsert','job-task-16382fefd451','domain-a',NULL,NULL,'job-a77f8f60c954',NULL);
INSERT INTO change VALUES(9,1704067260000,'job','upsert','job-a77f8f60c954','domain-a',NULL,NULL,'job-a77f8f60c954',NULL);
INSERT INTO change VALUES(10,1704153600000,'job','upsert','job-646e86d7b09f','domain-a',NULL,NULL,'job-646e86d7b09f',NULL);
INSERT INTO change VALUES(11,1704153600000,'job_task','upsert','job-task-226cf166a163','domain-a',NULL,NULL,'job-646e86d7b09f',NULL);
INSERT INTO change VALUES(12,1704153600000,'job_task','upsert','job-task-a46fb829ea05','domain-a',NULL,NULL,'job-646e86d7b09f',NULL);
INSERT INTO change VALUES(13,1704153600000,'job_task','upsert','job-task-07d4aaf55654','domain-a',NULL,NULL,'job-646e86d7b09f',NULL);
INSERT INTO change VALUES(14,1704153700000,'job','upsert','job-a7210c2642e2','domain-b',NULL,NULL,'job-a7210c2642e2',NULL);
INSERT INTO change VALUES(15,1704153700000,'job_task','upsert','job-task-2685938a1db3','domain-b',NULL,NULL,'job-a7210c2642e2',NULL);
INSERT INTO change VALUES(16,1704153700000,'job','upsert','job-a7210c2642e2','domain-b',NULL,NULL,'job-a7210c2642e2',NULL);
INSERT INTO change VALUES(17,1704153700000,'job','reset','',NULL,NULL,NULL,NULL,NULL);
INSERT INTO change VALUES(18,1704153700000,'spot_job','reset','',NULL,NULL,NULL,NULL,NULL);
CREATE INDEX job_domain_created ON job(domain_id, created_at DESC);
CREATE INDEX job_domain_collector_status ON job(domain_id, collector_id, status, created_at DESC);
CREATE INDEX job_domain_collector_created ON job(domain_id, collector_id, created_at DESC);
CREATE INDEX job_domain_workspace ON job(domain_id, workspace_id);
CREATE INDEX job_in_progress ON job(created_at) WHERE status = 'IN_PROGRESS';
CREATE INDEX job_created ON job(created_at);
CREATE INDEX job_task_domain_job ON job_task(domain_id, job_id, created_at DESC);
CREATE INDEX job_task_domain_created ON job_task(domain_id, created_at DESC);
CREATE INDEX job_task_domain_collector_status ON job_task(domain_id, collector_id, status);
CREATE INDEX job_task_domain_workspace_project ON job_task(domain_id, workspace_id, project_id);
CREATE INDEX job_task_job ON job_task(job_id);
CREATE INDEX job_task_created ON job_task(created_at);
CREATE INDEX spot_job_domain_created ON spot_job(domain_id, created_at DESC);
COMMIT;
