/*
** sqlite_admin.c: the SQLite side of operating a store (inv_admin.c): its
** size and file, SQLite's integrity check, and a consistent copy with the
** online backup API.
*/
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sqlite_int.h"

#define BACKUP_PAGES 256             /* pages copied per step (1 MB at 4 KiB pages) */

static int64_t pragmaInt(sqlite3 *db, const char *zSql) {
  sqlite3_stmt *p = NULL;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, zSql, -1, &p, NULL) == SQLITE_OK && sqlite3_step(p) == SQLITE_ROW) {
    v = sqlite3_column_int64(p, 0);
  }
  sqlite3_finalize(p);
  return v;
}

int inv_sqlite_info(inv_store *s, int64_t *pnBytes, const char **pzWhere) {
  sqlite3 *db = SQLITE_DB(s);
  int64_t nPage = pragmaInt(db, "PRAGMA page_count"), nSize = pragmaInt(db, "PRAGMA page_size");
  const char *z = sqlite3_db_filename(db, "main");
  if (nPage < 0 || nSize < 0) return inv_sqlite_err(s);
  *pnBytes = nPage * nSize;
  *pzWhere = z && z[0] ? z : ":memory:";
  return INV_OK;
}

int inv_sqlite_integrity(inv_store *s, void *pCtx, void (*xProblem)(void*, const char*)) {
  sqlite3 *db = SQLITE_DB(s);
  sqlite3_stmt *p = NULL;
  int rc;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(100)", -1, &p, NULL) != SQLITE_OK) {
    sqlite3_finalize(p);
    return inv_sqlite_err(s);
  }
  while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
    const char *z = (const char*)sqlite3_column_text(p, 0);
    if (z && strcmp(z, "ok") != 0) xProblem(pCtx, z);
  }
  sqlite3_finalize(p);
  return rc == SQLITE_DONE ? INV_OK : inv_sqlite_err(s);
}

/* Is zPath the file this store has open? */
static int sameFile(sqlite3 *db, const char *zPath) {
  const char *zMain = sqlite3_db_filename(db, "main");
  struct stat a, b;
  if (!zMain || !zMain[0]) return 0;
  if (stat(zMain, &a) || stat(zPath, &b)) return 0;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int inv_sqlite_backup(inv_store *s, const char *zPath, int bOverwrite) {
  sqlite3 *db = SQLITE_DB(s), *pDst = NULL;
  sqlite3_backup *pB;
  int rc, bCreated = 0, nStep = 0, nStepMax, nBusy = 0;
  int64_t nPage;
  if (sameFile(db, zPath)) {
    return inv_err_invalid(s, "path", "the store's own file; a backup needs another file.");
  }
  if (!bOverwrite) {
    /* refuse an existing file: create it here, exclusively (0600: a backup
    ** holds every tenant's records) */
    int fd = open(zPath, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
      if (errno == EEXIST) {
        return inv_err(s, "ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = path, "
                       "reason = %.300s exists; pass overwrite to replace it.)", zPath);
      }
      return inv_err(s, "ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = path, "
                     "reason = cannot create %.300s: %s)", zPath, strerror(errno));
    }
    close(fd);
    bCreated = 1;
  }
  nPage = pragmaInt(db, "PRAGMA page_count");
  if (nPage < 0) { inv_sqlite_err(s); goto fail; }
  if (sqlite3_open_v2(zPath, &pDst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
    inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY", "Database query failed. (reason = cannot open "
                  "%.300s: %s)", zPath, pDst ? sqlite3_errmsg(pDst) : "out of memory");
    goto fail;
  }
  sqlite3_busy_timeout(pDst, 5000);
  pB = sqlite3_backup_init(pDst, "main", db, "main");
  if (!pB) {
    inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY", "Database query failed. (reason = %s)",
                  sqlite3_errmsg(pDst));
    goto fail;
  }
  /* Copy in steps: between steps the source is not read-locked, so writers
  ** (and, in WAL mode, checkpoints) go on. A commit by another connection
  ** restarts the copy; when that keeps happening, the rest is copied in one
  ** step (one read transaction: in WAL mode it blocks no writer either). */
  nStepMax = (int)(nPage / BACKUP_PAGES) * 4 + 64;
  do {
    rc = sqlite3_backup_step(pB, ++nStep > nStepMax ? -1 : BACKUP_PAGES);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      if (++nBusy > 1000) break;       /* 10 s of a locked source */
      sqlite3_sleep(10);
      rc = SQLITE_OK;
    }
  } while (rc == SQLITE_OK);
  if (sqlite3_backup_finish(pB) != SQLITE_OK && rc == SQLITE_DONE) rc = sqlite3_errcode(pDst);
  if (rc != SQLITE_DONE) {
    inv_err_class(s, rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? INV_UNAVAILABLE : INV_SERVER,
                  "ERROR_DB_QUERY", "Database query failed. (reason = backup to %.300s: %s)", zPath,
                  rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? "the store stayed locked"
                                                         : sqlite3_errmsg(pDst));
    goto fail;
  }
  if (sqlite3_close(pDst) != SQLITE_OK) {
    inv_err_class(s, INV_SERVER, "ERROR_DB_QUERY", "Database query failed. (reason = backup to "
                  "%.300s: %s)", zPath, sqlite3_errmsg(pDst));
    pDst = NULL;
    goto fail;
  }
  return INV_OK;
fail:
  sqlite3_close(pDst);
  if (bCreated) unlink(zPath);          /* ours: an empty or partial copy */
  return INV_ERROR;
}
