/*
** inv_regex.h: the request's regular expressions are PCRE (the reference's
** MongoDB runs PCRE). PCRE2 compiles them here for every backend: to check
** a pattern with PCRE's own messages (inv_filter.c, inv_stage.c through the
** dialect), and to run them where the engine has no PCRE (sqlite_regex.c).
*/
#ifndef INV_REGEX_H
#define INV_REGEX_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>

/* Compile z[0..n) (UTF-8; caseless unless bCase). NULL and a message in
** zErr ("Regular expression is invalid: ... at offset N.") when it is not a
** valid pattern. */
pcre2_code *inv_regex_compile(const char *z, size_t n, int bCase, char *zErr, size_t nErr);

/* Validate a pattern; 0 ok, else 1 and the message in zErr. */
int inv_regex_check(const char *z, size_t n, char *zErr, size_t nErr);

#endif /* INV_REGEX_H */
