/*
** tharness.h: a tiny test harness for the C suite (no Lua, core + SQLite only).
** CHECK(cond) records a failure and goes on; each test file exports one
** void test_<area>(void) that main() in test_main.c runs.
*/
#ifndef THARNESS_H
#define THARNESS_H
#include <stdio.h>
#include <string.h>

extern int th_passed, th_failed;

#define CHECK(c) do { if (c) th_passed++; else { th_failed++; \
  fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
  if (a_ && b_ && strcmp(a_, b_) == 0) th_passed++; else { th_failed++; \
  fprintf(stderr, "FAIL %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
          a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)
#define CHECK_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
  if (a_ == b_) th_passed++; else { th_failed++; \
  fprintf(stderr, "FAIL %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, \
          #a, a_, b_); } } while (0)

#endif
