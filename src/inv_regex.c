/*
** inv_regex.c: compiling and checking the PCRE patterns of requests
** (inv_regex.h).
*/
#include <stdio.h>
#include "inv_regex.h"
#include "inv_val.h"

pcre2_code *inv_regex_compile(const char *z, size_t n, int bCase, char *zErr, size_t nErr) {
  int err;
  PCRE2_SIZE off;
  uint32_t opt = PCRE2_UTF | PCRE2_NO_UTF_CHECK | (bCase ? 0 : PCRE2_CASELESS);
  pcre2_code *p = pcre2_compile((PCRE2_SPTR)z, n, opt, &err, &off, NULL);
  if (!p && zErr) {
    PCRE2_UCHAR zMsg[200];
    pcre2_get_error_message(err, zMsg, sizeof zMsg);
    snprintf(zErr, nErr, "Regular expression is invalid: %s at offset %d.",
             (const char*)zMsg, (int)off);
  }
  return p;
}

int inv_regex_check(const char *z, size_t n, char *zErr, size_t nErr) {
  pcre2_code *p;
  if (!inv_utf8_valid(z, n)) {
    snprintf(zErr, nErr, "Regular expression is invalid: not UTF-8.");
    return 1;
  }
  p = inv_regex_compile(z, n, 0, zErr, nErr);
  if (!p) return 1;
  pcre2_code_free(p);
  return 0;
}
