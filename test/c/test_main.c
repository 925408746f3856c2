/*
** test_main.c: runs every C test file. Exit status is the number of failures
** (capped at 255); the last line is "N passed, N failed".
*/
#include "tharness.h"

int th_passed = 0, th_failed = 0;

#define T(name) void name(void);
#include "tests.def"
#undef T

int main(void) {
#define T(name) name();
#include "tests.def"
#undef T
  printf("c: %d passed, %d failed\n", th_passed, th_failed);
  return th_failed > 255 ? 255 : th_failed;
}
