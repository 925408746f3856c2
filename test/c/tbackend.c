/*
** tbackend.c: the backend under test of the C suite (tbackend.h).
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tbackend.h"
#include "sqlite/sqlite_int.h"
#include "pg/pg_int.h"

const char *th_pg_url(void) {
  const char *z = getenv("INVENTORY_TEST_URL");
  return z && z[0] ? z : NULL;
}

int th_open(inv_options *o, inv_store **ppOut, char *zErr, size_t nErr) {
  static int nSchema = 0;
  char zSchema[64];
  if (TH_PG && (!o->zPath || strcmp(o->zPath, ":memory:") == 0)) {
    snprintf(zSchema, sizeof zSchema, "c%ld_%d", (long)getpid(), ++nSchema);
    o->zPath = NULL;
    o->zUrl = th_pg_url();
    o->zSchema = zSchema;
    o->pDriver = &inv_pg_driver;
    if (o->nJournalSec <= 0) o->nJournalSec = 3600;     /* PostgreSQL's journal is on */
  }
  return inv_store_open(o, ppOut, zErr, nErr);
}

inv_store *th_open_memory(const char *zWho) {
  inv_options o = INV_OPTIONS_INIT;
  inv_store *s = NULL;
  char zErr[512];
  o.zPath = ":memory:";
  if (th_open(&o, &s, zErr, sizeof zErr)) {
    fprintf(stderr, "%s: open failed: %s\n", zWho, zErr);
    return NULL;
  }
  return s;
}

static int isPg(inv_store *s) { return s->pDrv == &inv_pg_driver; }

inv_store *th_reopen(inv_store *s) {
  inv_options o = INV_OPTIONS_INIT;
  inv_store *t = NULL;
  char zErr[512];
  if (!isPg(s)) return NULL;
  o.zUrl = PG_CONN(s)->zConnInfo;
  o.zSchema = PG_CONN(s)->zSchema;
  o.pDriver = &inv_pg_driver;
  o.nJournalSec = 3600;
  if (inv_store_open(&o, &t, zErr, sizeof zErr)) {
    fprintf(stderr, "th_reopen: %s\n", zErr);
    return NULL;
  }
  return t;
}

int th_exec(inv_store *s, const char *zSql) {
  if (isPg(s)) {
    PGresult *r = PQexec(PG_CONN(s)->pg, zSql);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) fprintf(stderr, "th_exec: %s", PQerrorMessage(PG_CONN(s)->pg));
    PQclear(r);
    return ok ? 0 : -1;
  }
  return sqlite3_exec(SQLITE_DB(s), zSql, 0, 0, 0) == SQLITE_OK ? 0 : -1;
}

int th_in_tx(inv_store *s) {
  /* (a read's ROLLBACK sent, its answer not read yet: no transaction left) */
  if (isPg(s)) return !PG_CONN(s)->bEndSent && PQtransactionStatus(PG_CONN(s)->pg) != PQTRANS_IDLE;
  return !sqlite3_get_autocommit(SQLITE_DB(s));
}

int th_param_count(inv_store *s, inv_stmt *p) {
  if (isPg(s)) return ((PgStmt*)p)->nParam;
  return sqlite3_bind_parameter_count((sqlite3_stmt*)p);
}

const char *th_sql_one(inv_store *s, const char *zSql, inv_buf *b) {
  inv_stmt *p;
  int rc;
  inv_buf_reset(b);
  inv_store_begin(s);
  p = s->pDrv->xPrepare(s, zSql, 0);
  if (!p) {
    inv_buf_printf(b, "error: %s", inv_store_errmsg(s));
  } else if ((rc = s->pDrv->xStep(s, p)) == INV_ROW) {
    size_t n;
    const char *z = s->pDrv->xColumnType(p, 0) == INV_T_NULL ? "NULL" : s->pDrv->xColumnText(p, 0, &n);
    inv_buf_adds(b, z);
    s->pDrv->xReset(s, p);
  } else {
    inv_buf_printf(b, "error: %s", rc < 0 ? inv_store_errmsg(s) : "no row");
    s->pDrv->xReset(s, p);
  }
  inv_buf_addc(b, 0);
  return b->z;
}

/* ---- tracing on PostgreSQL: the statements used since the mark ---- */

static unsigned long traceMark;

void th_trace_mark(inv_store *s) {
  if (isPg(s)) traceMark = PG_CONN(s)->useClock;
}

int th_trace_collect(inv_store *s, inv_buf *pSql, inv_buf *pExp, const char *zPrefix) {
  PgConn *c;
  int i, j, n = 0;
  unsigned long next = traceMark;
  if (!isPg(s)) return 0;
  c = PG_CONN(s);
  for (;;) {                                   /* in the order they were used */
    PgStmt *p = NULL;
    for (i = 0; i < c->nStmt; i++) {
      PgStmt *e = &c->aStmt[i];
      if (e->zSql && e->lastUse > next && (!p || e->lastUse < p->lastUse)) p = e;
    }
    if (!p) break;
    next = p->lastUse;
    if (zPrefix && strncmp(p->zSql, zPrefix, strlen(zPrefix)) == 0) n++;
    inv_buf_adds(pSql, p->zSql);
    inv_buf_addc(pSql, '\n');
    inv_buf_adds(pExp, p->zSql);
    for (j = 0; j < p->nParam; j++) {
      inv_buf_printf(pExp, " [$%d=%s]", j + 1, p->azParam[j] ? p->azParam[j] : "NULL");
    }
    inv_buf_addc(pExp, '\n');
  }
  return n;
}
