/*
** inv_schema.c: the resources, described as data.
**
** Each stored record is the union of every documented version's fields, so
** v1 records (filter, collector_info, errors, project_id; statuses CREATED,
** ERROR, TIMEOUT) import and render unchanged. Field order is render order.
*/
#include <stdio.h>
#include <string.h>
#include "inv_int.h"

const char *const inv_job_status[] = {
  "CANCELED", "IN_PROGRESS", "SUCCESS", "FAILURE",     /* current */
  "CREATED", "ERROR", "TIMEOUT",                       /* v1 */
  NULL
};
const char *const inv_task_status[] = {
  "PENDING", "CANCELED", "IN_PROGRESS", "SUCCESS", "FAILURE", NULL
};
static const char *const azResourceGroup[] = { "DOMAIN", "WORKSPACE", NULL };

#define N(z) z, sizeof(z) - 1    /* name and its length */
#define S   F_STR
#define I   F_INT
#define T   F_TIME
#define O   F_OBJ
#define E   F_ERRS

/* ---------------------------------------------------------------- Job */
static const inv_field aJobField[] = {
  { N("job_id"),               S, FF_ID|FF_NOTNULL|FF_MINIMAL|FF_SHORT, NULL },
  { N("status"),               S, FF_NOTNULL|FF_MINIMAL|FF_SHORT, inv_job_status },
  { N("filter"),               O, 0, NULL },
  { N("total_tasks"),          I, FF_NOTNULL, NULL },
  { N("remained_tasks"),       I, FF_NOTNULL, NULL },
  { N("success_tasks"),        I, FF_NOTNULL, NULL },
  { N("failure_tasks"),        I, FF_NOTNULL, NULL },
  { N("errors"),               E, 0, NULL },
  { N("collector_info"),       O, 0, NULL },
  { N("request_secret_id"),    S, FF_NULLABLE|FF_SHORT|FF_WRITABLE, NULL },
  { N("request_workspace_id"), S, FF_NULLABLE|FF_SHORT|FF_WRITABLE, NULL },
  { N("resource_group"),       S, FF_SHORT|FF_WRITABLE, azResourceGroup },
  { N("project_id"),           S, FF_SHORT, NULL },
  { N("domain_id"),            S, FF_SHORT|FF_WRITABLE, NULL },
  { N("workspace_id"),         S, FF_SHORT|FF_WRITABLE, NULL },
  { N("collector_id"),         S, FF_MINIMAL|FF_SHORT|FF_WRITABLE, NULL },
  { N("plugin_id"),            S, FF_MINIMAL|FF_SHORT|FF_WRITABLE, NULL },
  { N("created_at"),           T, FF_NOTNULL|FF_MINIMAL, NULL },
  { N("updated_at"),           T, 0, NULL },
  { N("finished_at"),          T, FF_NULLABLE|FF_MINIMAL, NULL },
};
static const char *const azJobListParam[] = {
  "job_id", "status", "collector_id", "plugin_id", "project_id", NULL
};
/* Indexes (schema 3; "IF NOT EXISTS": the migration from 2 runs them on
** a store that holds some). Every API read names the domain, so each index
** leads with domain_id; the rest serve a query the console runs all day:
** the list of a domain newest first, the jobs of a collector (by status),
** the status summaries (covering, in GROUP BY order: no sort), workspace
** scoping, and the sweep (status, age) and purge (age) over all domains.
** No partial index: one whose WHERE names a column a query binds
** (status = ?) makes SQLite prepare that query again for every new value. */
static const char *const azJobIndex[] = {
  "CREATE INDEX IF NOT EXISTS job_domain_created ON job(domain_id, created_at DESC)",
  "CREATE INDEX IF NOT EXISTS job_domain_collector_status ON job(domain_id, collector_id, status, created_at DESC)",
  "CREATE INDEX IF NOT EXISTS job_domain_collector_created ON job(domain_id, collector_id, created_at DESC)",
  "CREATE INDEX IF NOT EXISTS job_domain_workspace ON job(domain_id, workspace_id)",
  "CREATE INDEX IF NOT EXISTS job_domain_status ON job(domain_id, status, created_at DESC)",
  "CREATE INDEX IF NOT EXISTS job_status_created ON job(status, created_at)",
  "CREATE INDEX IF NOT EXISTS job_created ON job(created_at)",
  NULL
};
const inv_resource inv_res_job = {
  "job", 0, "job", "job-", aJobField, (int)(sizeof aJobField / sizeof aJobField[0]), 0,
  "job_id", "IN_PROGRESS", azJobListParam, azJobIndex, 0, 1, 1, 1, 1
};

/* ------------------------------------------------------------ JobTask */
static const inv_field aTaskField[] = {
  { N("job_task_id"),          S, FF_ID|FF_NOTNULL|FF_MINIMAL|FF_SHORT, NULL },
  { N("status"),               S, FF_NOTNULL|FF_MINIMAL|FF_SHORT, inv_task_status },
  { N("provider"),             S, FF_NULLABLE|FF_SHORT|FF_WRITABLE, NULL },
  { N("total_sub_tasks"),      I, FF_NOTNULL|FF_HIDDEN, NULL },
  { N("remained_sub_tasks"),   I, FF_NOTNULL|FF_HIDDEN, NULL },
  { N("created_count"),        I, FF_NOTNULL|FF_MINIMAL, NULL },
  { N("updated_count"),        I, FF_NOTNULL|FF_MINIMAL, NULL },
  { N("failure_count"),        I, FF_NOTNULL|FF_MINIMAL, NULL },
  { N("deleted_count"),        I, FF_NOTNULL|FF_MINIMAL, NULL },
  { N("disconnected_count"),   I, FF_NOTNULL|FF_MINIMAL, NULL },
  { N("total_count"),          I, FF_NOTNULL|FF_HIDDEN, NULL },
  { N("errors"),               E, FF_NOTNULL, NULL },
  { N("job_id"),               S, FF_MINIMAL|FF_SHORT, NULL },
  { N("secret_id"),            S, FF_SHORT|FF_WRITABLE, NULL },
  { N("collector_id"),         S, FF_HIDDEN|FF_SHORT, NULL },
  { N("service_account_id"),   S, FF_SHORT|FF_WRITABLE, NULL },
  { N("project_id"),           S, FF_SHORT|FF_WRITABLE, NULL },
  { N("workspace_id"),         S, FF_SHORT|FF_WRITABLE, NULL },
  { N("domain_id"),            S, FF_SHORT, NULL },
  { N("created_at"),           T, FF_NOTNULL|FF_MINIMAL, NULL },
  { N("started_at"),           T, FF_NULLABLE|FF_MINIMAL, NULL },
  { N("finished_at"),          T, FF_NULLABLE|FF_MINIMAL, NULL },
};
static const char *const azTaskListParam[] = {
  "job_task_id", "status", "provider", "job_id", "secret_id",
  "service_account_id", "project_id", NULL
};
/* A task is 6 B-trees (the table, its unique job_task_id and 4 indexes):
** every index is paid by every imported or created task. The job -> tasks
** paths (a job's delete, the sweep, purge) name the domain and use
** job_task_domain_job; purge by age over all domains reads
** job_task_domain_created domain by domain (SQLite's skip-scan). */
static const char *const azTaskIndex[] = {
  "CREATE INDEX IF NOT EXISTS job_task_domain_job ON job_task(domain_id, job_id, created_at DESC)",
  "CREATE INDEX IF NOT EXISTS job_task_domain_created ON job_task(domain_id, created_at DESC)",
  "CREATE INDEX IF NOT EXISTS job_task_domain_status ON job_task(domain_id, status)",
  "CREATE INDEX IF NOT EXISTS job_task_domain_workspace_project ON job_task(domain_id, workspace_id, project_id)",
  NULL
};
const inv_resource inv_res_task = {
  "job_task", 1, "job_task", "job-task-", aTaskField,
  (int)(sizeof aTaskField / sizeof aTaskField[0]), 0,
  "job_task_id", "PENDING", azTaskListParam, azTaskIndex, 1, 0, 0, 0, 1
};

/* ------------------------------------------- spot-automation Job (v1) */
static const char *const azSpotStatus[] = {
  "CREATED", "CANCELED", "IN_PROGRESS", "SUCCESS", "ERROR", "TIMEOUT", NULL
};
static const inv_field aSpotField[] = {
  { N("job_id"),               S, FF_ID|FF_NOTNULL|FF_MINIMAL|FF_SHORT, NULL },
  { N("status"),               S, FF_NOTNULL|FF_MINIMAL|FF_SHORT, azSpotStatus },
  { N("filter"),               O, 0, NULL },
  { N("total_tasks"),          I, FF_NOTNULL, NULL },
  { N("remained_tasks"),       I, FF_NOTNULL, NULL },
  { N("errors"),               E, FF_NOTNULL, NULL },
  { N("project_id"),           S, FF_SHORT, NULL },
  { N("domain_id"),            S, FF_SHORT, NULL },
  { N("created_at"),           T, FF_NOTNULL|FF_MINIMAL, NULL },
  { N("updated_at"),           T, 0, NULL },
  { N("finished_at"),          T, FF_NULLABLE|FF_MINIMAL, NULL },
};
static const char *const azSpotListParam[] = { "job_id", "status", "project_id", NULL };
static const char *const azSpotIndex[] = {
  "CREATE INDEX IF NOT EXISTS spot_job_domain_created ON spot_job(domain_id, created_at DESC)",
  NULL
};
const inv_resource inv_res_spot = {
  "spot_job", 2, "spot_job", "job-", aSpotField,
  (int)(sizeof aSpotField / sizeof aSpotField[0]), 0,
  "job_id", "CREATED", azSpotListParam, azSpotIndex, 0, 0, 1, 0, 0
};

#undef N
#undef S
#undef I
#undef T
#undef O
#undef E

const inv_resource *const inv_resources[INV_N_RES + 1] = {
  &inv_res_job, &inv_res_task, &inv_res_spot, NULL
};

const inv_resource *inv_resource_find(const char *zName) {
  int i;
  for (i = 0; i < INV_N_RES; i++) {
    if (strcmp(zName, inv_resources[i]->zName) == 0) return inv_resources[i];
  }
  return NULL;
}

int inv_field_index(const inv_resource *r, const char *zName, size_t n) {
  int i;
  for (i = 0; i < r->nField; i++) {
    /* exact: a key holding a NUL must not match a prefix of a field name */
    if (r->aField[i].nName == n && memcmp(r->aField[i].zName, zName, n) == 0) return i;
  }
  return -1;
}

int inv_enum_has(const char *const *az, const char *z) {
  for (; *az; az++) if (strcmp(*az, z) == 0) return 1;
  return 0;
}

/* Why a read-only open refuses a store whose schema is v (a read-only open
** creates and migrates nothing). */
void inv_schema_refusal(int v, char *zOut, size_t nOut) {
  if (v <= 0) {
    snprintf(zOut, nOut, "not an inventory store (it holds no inventory schema, and a read-only "
             "open creates none)");
  } else if (v < INV_SCHEMA_VERSION) {
    snprintf(zOut, nOut, "its schema %d is older than this program's %d; open it once for writing "
             "to migrate it", v, INV_SCHEMA_VERSION);
  } else {
    snprintf(zOut, nOut, "database schema version %d is newer than this library (%d)",
             v, INV_SCHEMA_VERSION);
  }
}
