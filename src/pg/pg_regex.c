/*
** pg_regex.c: the request's PCRE patterns, run by PostgreSQL's regex engine
** (ARE). A filter only asks whether a pattern matches somewhere, so
** greediness never changes an answer; what does is translated, and what
** cannot be translated exactly is refused with ERROR_DB_QUERY, never run
** with another meaning:
**
**   PCRE (UTF, no UCP)        ARE
**   .  (not a newline)        [^\n]
**   $  (end, or before a final newline)   (?=\n?$)
**   \d \w \s, \D \W \S        [0-9] [A-Za-z0-9_] [ \t\n\r\f\v], their negations
**                             (ASCII, as PCRE without UCP; inside [...] the
**                             positive ones only)
**   \b \B                     \y \Y
**   \A \z                     \A \Z
**   \xhh \x{h...}             \u00hh \Uhhhhhhhh
**   a literal { that starts no bound   \{
**
** Refused: possessive quantifiers, atomic groups, named groups, inline
** options, comments, conditionals, \Q..\E, Unicode properties, \h \v \R \X
** \K \G \g \k \N \C \Z, octal escapes, back-references above \9, POSIX
** classes, and \D \W \S inside brackets. Case-insensitive matching folds
** Unicode letters on both (PCRE2's caseless UTF mode; PostgreSQL under an ICU
** collation). Every pattern is first checked by PCRE2 itself, so an invalid
** pattern gets PCRE's message on both backends.
*/
#include <string.h>
#include <stdio.h>
#include "pg_int.h"
#include "inv_regex.h"

static int refuse(char *zErr, size_t nErr, const char *zWhat, size_t off) {
  snprintf(zErr, nErr, "Regular expression is not supported on PostgreSQL: %s at offset %d.",
           zWhat, (int)off);
  return 1;
}

static int isHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int isDigit(char c) { return c >= '0' && c <= '9'; }

/* A bound {n}, {n,}, {n,m} at z[i] (z[i] == '{'): its length, else 0. */
static size_t boundLen(const char *z, size_t n, size_t i) {
  size_t j = i + 1;
  if (j >= n || !isDigit(z[j])) return 0;
  while (j < n && isDigit(z[j])) j++;
  if (j < n && z[j] == ',') { j++; while (j < n && isDigit(z[j])) j++; }
  if (j >= n || z[j] != '}') return 0;
  return j + 1 - i;
}

/* The escape at z[i] (z[i] == '\\'), inside brackets or not: its
** translation into pOut and the bytes it took, or 0 with the error set. */
static size_t escape(const char *z, size_t n, size_t i, int bInBracket, inv_buf *pOut,
                     char *zErr, size_t nErr) {
  char c;
  if (i + 1 >= n) { refuse(zErr, nErr, "a trailing backslash", i); return 0; }
  c = z[i + 1];
  switch (c) {
    case 'd': inv_buf_adds(pOut, bInBracket ? "0-9" : "[0-9]"); return 2;
    case 'w': inv_buf_adds(pOut, bInBracket ? "A-Za-z0-9_" : "[A-Za-z0-9_]"); return 2;
    case 's': inv_buf_adds(pOut, bInBracket ? " \\t\\n\\r\\f\\v" : "[ \\t\\n\\r\\f\\v]"); return 2;
    case 'D': case 'W': case 'S':
      if (bInBracket) { refuse(zErr, nErr, "a negated class (\\D, \\W, \\S) inside brackets", i); return 0; }
      inv_buf_adds(pOut, c == 'D' ? "[^0-9]" : c == 'W' ? "[^A-Za-z0-9_]" : "[^ \\t\\n\\r\\f\\v]");
      return 2;
    case 'b':
      if (bInBracket) { inv_buf_adds(pOut, "\\b"); return 2; }   /* backspace, in both */
      inv_buf_adds(pOut, "\\y");
      return 2;
    case 'B':
      if (bInBracket) { refuse(zErr, nErr, "\\B inside brackets", i); return 0; }
      inv_buf_adds(pOut, "\\Y");
      return 2;
    case 'A': case 'z':
      if (bInBracket) { refuse(zErr, nErr, "an anchor inside brackets", i); return 0; }
      inv_buf_adds(pOut, c == 'A' ? "\\A" : "\\Z");
      return 2;
    case 'n': case 't': case 'r': case 'f': case 'e': case 'a':
      inv_buf_addc(pOut, '\\');
      inv_buf_addc(pOut, c);
      return 2;
    case 'x': {
      size_t j = i + 2, k;
      unsigned long cp = 0;
      char zHex[16];
      if (j < n && z[j] == '{') {
        for (k = j + 1; k < n && isHex(z[k]) && k - j <= 8; k++) {}
        if (k >= n || z[k] != '}' || k == j + 1) { refuse(zErr, nErr, "this \\x{...} escape", i); return 0; }
        sscanf(z + j + 1, "%lx", &cp);
        snprintf(zHex, sizeof zHex, "\\U%08lx", cp);
        inv_buf_adds(pOut, zHex);
        return k + 1 - i;
      }
      for (k = j; k < n && k < j + 2 && isHex(z[k]); k++) cp = cp * 16 + (unsigned long)
        (isDigit(z[k]) ? z[k] - '0' : (z[k] | 0x20) - 'a' + 10);
      snprintf(zHex, sizeof zHex, "\\u%04lx", cp);
      inv_buf_adds(pOut, zHex);
      return k - i;
    }
    default:
      if (c >= '1' && c <= '9' && !bInBracket) {
        if (i + 2 < n && isDigit(z[i + 2])) { refuse(zErr, nErr, "a back-reference above \\9", i); return 0; }
        inv_buf_addc(pOut, '\\');
        inv_buf_addc(pOut, c);
        return 2;
      }
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c)) {
        char zWhat[32];
        snprintf(zWhat, sizeof zWhat, "the escape \\%c", c);
        refuse(zErr, nErr, zWhat, i);
        return 0;
      }
      /* an escaped punctuation or non-ASCII character is itself, in both */
      inv_buf_addc(pOut, '\\');
      inv_buf_addc(pOut, c);
      return 2;
  }
}

int inv_pg_regex(const char *z, size_t n, inv_buf *pOut, char *zErr, size_t nErr) {
  size_t i = 0, k;
  if (inv_regex_check(z, n, zErr, nErr)) return 1;        /* PCRE's own verdict first */
  while (i < n) {
    char c = z[i];
    if (c == '\\') {
      if (i + 1 < n && z[i + 1] == 'Z') return refuse(zErr, nErr, "\\Z", i);
      k = escape(z, n, i, 0, pOut, zErr, nErr);
      if (!k) return 1;
      i += k;
    } else if (c == '[') {
      /* a bracket expression: ] first is literal; [: :] refused */
      inv_buf_addc(pOut, '[');
      i++;
      if (i < n && z[i] == '^') { inv_buf_addc(pOut, '^'); i++; }
      if (i < n && z[i] == ']') { inv_buf_adds(pOut, "\\]"); i++; }
      while (i < n && z[i] != ']') {
        if (z[i] == '\\') {
          k = escape(z, n, i, 1, pOut, zErr, nErr);
          if (!k) return 1;
          i += k;
        } else if (z[i] == '[' && i + 1 < n && (z[i + 1] == ':' || z[i + 1] == '.' || z[i + 1] == '=')) {
          return refuse(zErr, nErr, "a POSIX class", i);
        } else {
          inv_buf_addc(pOut, z[i]);
          i++;
        }
      }
      inv_buf_addc(pOut, ']');
      i++;
    } else if (c == '(') {
      if (i + 1 < n && z[i + 1] == '?') {
        if (i + 2 < n && (z[i + 2] == ':' || z[i + 2] == '=' || z[i + 2] == '!')) {
          inv_buf_add(pOut, z + i, 3);
          i += 3;
        } else if (i + 3 < n && z[i + 2] == '<' && (z[i + 3] == '=' || z[i + 3] == '!')) {
          inv_buf_add(pOut, z + i, 4);
          i += 4;
        } else {
          return refuse(zErr, nErr, "this (? group (named, atomic, options, comment)", i);
        }
      } else if (i + 1 < n && z[i + 1] == '*') {
        return refuse(zErr, nErr, "a verb (*...)", i);
      } else {
        inv_buf_addc(pOut, '(');
        i++;
      }
    } else if (c == '.') {
      inv_buf_adds(pOut, "[^\\n]");
      i++;
    } else if (c == '$') {
      inv_buf_adds(pOut, "(?=\\n?$)");
      i++;
    } else if (c == '{') {
      k = boundLen(z, n, i);
      if (k) { inv_buf_add(pOut, z + i, k); i += k; }
      else { inv_buf_adds(pOut, "\\{"); i++; }
      if (k && i < n && z[i] == '+') return refuse(zErr, nErr, "a possessive quantifier", i);
    } else if (c == '}') {
      inv_buf_adds(pOut, "\\}");
      i++;
    } else if ((c == '*' || c == '+' || c == '?') && i + 1 < n && z[i + 1] == '+') {
      return refuse(zErr, nErr, "a possessive quantifier", i + 1);
    } else {
      inv_buf_addc(pOut, c);
      i++;
    }
  }
  return pOut->bOom ? refuse(zErr, nErr, "out of memory", 0) : 0;
}

int inv_pg_regex_check(const char *z, size_t n, char *zErr, size_t nErr) {
  inv_buf b;
  int rc;
  inv_buf_init(&b);
  rc = inv_pg_regex(z, n, &b, zErr, nErr);
  inv_buf_free(&b);
  return rc;
}
