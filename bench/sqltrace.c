/*
** bench/sqltrace.c: an LD_PRELOAD shim that prints every SQL text the
** process prepares (sqlite3_prepare_v2/v3) to stderr. Used to copy the store's exact SQL into the benchmark's limit and
** peer, and to look at plans:
**
**   LD_PRELOAD=build/bench/sqltrace.so lua5.4 bench/run.lua --trace ...
*/
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

typedef int (*prep3_fn)(sqlite3*, const char*, int, unsigned int, sqlite3_stmt**, const char**);
typedef int (*prep2_fn)(sqlite3*, const char*, int, sqlite3_stmt**, const char**);

static void show(const char *z, int n) {
  if (n < 0) n = (int)strlen(z);
  fprintf(stderr, "SQL: %.*s\n", n, z);
}

int sqlite3_prepare_v3(sqlite3 *db, const char *z, int n, unsigned int f,
                       sqlite3_stmt **pp, const char **pzTail) {
  static prep3_fn real;
  if (!real) real = (prep3_fn)dlsym(RTLD_NEXT, "sqlite3_prepare_v3");
  show(z, n);
  return real(db, z, n, f, pp, pzTail);
}

int sqlite3_prepare_v2(sqlite3 *db, const char *z, int n, sqlite3_stmt **pp, const char **pzTail) {
  static prep2_fn real;
  if (!real) real = (prep2_fn)dlsym(RTLD_NEXT, "sqlite3_prepare_v2");
  show(z, n);
  return real(db, z, n, pp, pzTail);
}
