/*
** test_main.c: runs every C test file. Exit status is the number of failures
** (capped at 255); the last line is "N passed, N failed". With
** INVENTORY_TEST_URL set (PostgreSQL, tbackend.h), only the tests that touch
** SQL run, on PostgreSQL.
*/
#include <stdlib.h>
#include "tharness.h"

int th_passed = 0, th_failed = 0;

#define T(name, bSql) void name(void);
#include "tests.def"
#undef T

int main(void) {
  const char *zUrl = getenv("INVENTORY_TEST_URL");
  int bPg = zUrl && zUrl[0];
#define T(name, bSql) if (bSql || !bPg) name();
#include "tests.def"
#undef T
  printf("c: %d passed, %d failed\n", th_passed, th_failed);
  return th_failed > 255 ? 255 : th_failed;
}
