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
** collation), where PostgreSQL takes a letter's lower and upper case and
** PCRE2 its caseless set: a letter of a set of three or more (s S U+017F,
** k K U+212A, the titlecase letters, Greek and Cyrillic variants, ...) or
** with a case only one way (U+00DF and U+1E9E) is written as the whole set;
** U+0130 and U+0131, which PostgreSQL pairs with i and I and PCRE2 with
** nothing, are refused in a caseless pattern. Every pattern is first
** checked by PCRE2 itself, so an invalid pattern gets PCRE's message on
** both backends.
*/
#include <string.h>
#include <stdio.h>
#include "pg_int.h"
#include "inv_regex.h"

/* PCRE2's caseless sets that PostgreSQL's lower/upper pairs do not make:
** the sets of three or more, and a pair with a case mapping one way only
** (Unicode 14, as PCRE2 10.42; spec/backends_spec.lua compares). */
static const unsigned aCaseSet[][5] = {
  { 0x0053, 0x0073, 0x017f }, { 0x01c4, 0x01c5, 0x01c6 }, { 0x01c7, 0x01c8, 0x01c9 },
  { 0x01ca, 0x01cb, 0x01cc }, { 0x01f1, 0x01f2, 0x01f3 }, { 0x0345, 0x0399, 0x03b9, 0x1fbe },
  { 0x00b5, 0x039c, 0x03bc }, { 0x03a3, 0x03c2, 0x03c3 }, { 0x0392, 0x03b2, 0x03d0 },
  { 0x0398, 0x03b8, 0x03d1, 0x03f4 }, { 0x03a6, 0x03c6, 0x03d5 }, { 0x03a0, 0x03c0, 0x03d6 },
  { 0x039a, 0x03ba, 0x03f0 }, { 0x03a1, 0x03c1, 0x03f1 }, { 0x0395, 0x03b5, 0x03f5 },
  { 0x0412, 0x0432, 0x1c80 }, { 0x0414, 0x0434, 0x1c81 }, { 0x041e, 0x043e, 0x1c82 },
  { 0x0421, 0x0441, 0x1c83 }, { 0x0422, 0x0442, 0x1c84, 0x1c85 }, { 0x042a, 0x044a, 0x1c86 },
  { 0x0462, 0x0463, 0x1c87 }, { 0x1e60, 0x1e61, 0x1e9b }, { 0x03a9, 0x03c9, 0x2126 },
  { 0x004b, 0x006b, 0x212a }, { 0x00c5, 0x00e5, 0x212b }, { 0x1c88, 0xa64a, 0xa64b },
  { 0x00df, 0x1e9e },
};
#define N_CASE_SET (sizeof aCaseSet / sizeof aCaseSet[0])

static const unsigned *caseSet(unsigned c) {
  size_t i, k;
  for (i = 0; i < N_CASE_SET; i++) {
    for (k = 0; k < 5 && aCaseSet[i][k]; k++) if (aCaseSet[i][k] == c) return aCaseSet[i];
  }
  return NULL;
}

static void addCodePoint(inv_buf *pOut, unsigned c) {
  char z[16];
  if (c < 0x80 && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
    inv_buf_addc(pOut, (char)c);
  } else {
    snprintf(z, sizeof z, "\\U%08x", c);
    inv_buf_adds(pOut, z);
  }
}

/* The members of c's set, inside a bracket expression. */
static void addSetMembers(inv_buf *pOut, const unsigned *aSet) {
  int k;
  for (k = 0; k < 5 && aSet[k]; k++) addCodePoint(pOut, aSet[k]);
}

/* The code point of the UTF-8 character at z[i] (checked by PCRE2) and its
** length. */
static unsigned decodeUtf8(const char *z, size_t n, size_t i, size_t *pLen) {
  unsigned char c = (unsigned char)z[i];
  unsigned cp;
  size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4, k;
  if (i + len > n) len = n - i;
  cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
  for (k = 1; k < len; k++) cp = (cp << 6) | ((unsigned char)z[i + k] & 0x3Fu);
  *pLen = len;
  return cp;
}

static int refuse(char *zErr, size_t nErr, const char *zWhat, size_t off) {
  snprintf(zErr, nErr, "%s at offset %d is not supported on PostgreSQL", zWhat, (int)off);
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

#define NO_CP 0xFFFFFFFFu

/* The escape at z[i] (z[i] == '\\'), inside brackets or not: its
** translation into pOut and the bytes it took, or 0 with the error set;
** *pCp: the one character it stands for (NO_CP for a class or anchor). */
static size_t escape(const char *z, size_t n, size_t i, int bInBracket, inv_buf *pOut,
                     char *zErr, size_t nErr, unsigned *pCp) {
  char c;
  *pCp = NO_CP;
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
      if (bInBracket) { inv_buf_adds(pOut, "\\b"); *pCp = 0x08; return 2; }   /* backspace, in both */
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
      *pCp = c == 'n' ? 0x0a : c == 't' ? 0x09 : c == 'r' ? 0x0d : c == 'f' ? 0x0c : c == 'e' ? 0x1b : 0x07;
      return 2;
    case 'x': {
      size_t j = i + 2, k;
      unsigned long cp = 0;
      char zHex[24];
      if (j < n && z[j] == '{') {
        for (k = j + 1; k < n && isHex(z[k]) && k - j <= 8; k++) {}
        if (k >= n || z[k] != '}' || k == j + 1) { refuse(zErr, nErr, "this \\x{...} escape", i); return 0; }
        sscanf(z + j + 1, "%lx", &cp);
        if (cp == 0) cp = 0xffff;          /* U+0000 is U+FFFF on PostgreSQL (pg_schema.c) */
        snprintf(zHex, sizeof zHex, "\\U%08lx", cp);
        inv_buf_adds(pOut, zHex);
        *pCp = (unsigned)cp;
        return k + 1 - i;
      }
      for (k = j; k < n && k < j + 2 && isHex(z[k]); k++) cp = cp * 16 + (unsigned long)
        (isDigit(z[k]) ? z[k] - '0' : (z[k] | 0x20) - 'a' + 10);
      if (cp == 0) cp = 0xffff;
      snprintf(zHex, sizeof zHex, "\\u%04lx", cp);
      inv_buf_adds(pOut, zHex);
      *pCp = (unsigned)cp;
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
      {
        size_t len;
        *pCp = decodeUtf8(z, n, i + 1, &len);
        inv_buf_addc(pOut, '\\');
        inv_buf_add(pOut, z + i + 1, len);
        return 1 + len;
      }
  }
}

/* A caseless character c (just written to pOut from offset n0): its
** PCRE2 caseless set where PostgreSQL would make another one. Outside
** brackets the character becomes a bracket of its set; inside, the set's
** members go to pExtra (appended before the bracket closes). */
static int caseless(unsigned c, inv_buf *pOut, size_t n0, inv_buf *pExtra, char *zErr, size_t nErr,
                    size_t off) {
  const unsigned *aSet;
  if (c == 0x130 || c == 0x131) {
    return refuse(zErr, nErr, "a caseless U+0130 or U+0131 (PostgreSQL pairs it with i or I)", off);
  }
  aSet = c == NO_CP ? NULL : caseSet(c);
  if (!aSet) return 0;
  if (pExtra) { addSetMembers(pExtra, aSet); return 0; }
  pOut->n = n0;
  inv_buf_addc(pOut, '[');
  addSetMembers(pOut, aSet);
  inv_buf_addc(pOut, ']');
  return 0;
}

/* The sets with a member in the range lo-hi: all their members to pExtra. */
static void caselessRange(unsigned lo, unsigned hi, inv_buf *pExtra) {
  size_t i, k;
  for (i = 0; i < N_CASE_SET; i++) {
    for (k = 0; k < 5 && aCaseSet[i][k]; k++) {
      if (aCaseSet[i][k] >= lo && aCaseSet[i][k] <= hi) { addSetMembers(pExtra, aCaseSet[i]); break; }
    }
  }
}

/* One character of a bracket expression at z[i] (an escape or a literal):
** written to pOut, its code point in *pCp (NO_CP for a class); the bytes it
** took, 0 on error. */
static size_t bracketItem(const char *z, size_t n, size_t i, inv_buf *pOut, char *zErr, size_t nErr,
                          unsigned *pCp) {
  size_t len;
  if (z[i] == '\\') return escape(z, n, i, 1, pOut, zErr, nErr, pCp);
  if (z[i] == '[' && i + 1 < n && (z[i + 1] == ':' || z[i + 1] == '.' || z[i + 1] == '=')) {
    refuse(zErr, nErr, "a POSIX class", i);
    return 0;
  }
  *pCp = decodeUtf8(z, n, i, &len);
  inv_buf_add(pOut, z + i, len);
  return len;
}

int inv_pg_regex(const char *z, size_t n, int bCaseless, inv_buf *pOut, char *zErr, size_t nErr) {
  size_t i = 0, k, n0;
  unsigned cp;
  if (inv_regex_check(z, n, zErr, nErr)) return 1;        /* PCRE's own verdict first */
  while (i < n) {
    char c = z[i];
    n0 = pOut->n;
    if (c == '\\') {
      if (i + 1 < n && z[i + 1] == 'Z') return refuse(zErr, nErr, "\\Z", i);
      k = escape(z, n, i, 0, pOut, zErr, nErr, &cp);
      if (!k) return 1;
      if (bCaseless && caseless(cp, pOut, n0, NULL, zErr, nErr, i)) return 1;
      i += k;
    } else if (c == '[') {
      /* a bracket expression: ] first is literal; [: :] refused */
      inv_buf extra;
      unsigned prev = NO_CP;
      inv_buf_init(&extra);
      inv_buf_addc(pOut, '[');
      i++;
      if (i < n && z[i] == '^') { inv_buf_addc(pOut, '^'); i++; }
      if (i < n && z[i] == ']') { inv_buf_adds(pOut, "\\]"); i++; prev = ']'; }
      while (i < n && z[i] != ']') {
        if (z[i] == '-' && prev != NO_CP && i + 1 < n && z[i + 1] != ']') {
          /* a range prev-next */
          inv_buf_addc(pOut, '-');
          k = bracketItem(z, n, i + 1, pOut, zErr, nErr, &cp);
          if (!k) { inv_buf_free(&extra); return 1; }
          if (bCaseless && cp != NO_CP) caselessRange(prev, cp, &extra);
          i += 1 + k;
          prev = NO_CP;
          continue;
        }
        k = bracketItem(z, n, i, pOut, zErr, nErr, &cp);
        if (!k || (bCaseless && caseless(cp, pOut, 0, &extra, zErr, nErr, i))) {
          inv_buf_free(&extra);
          return 1;
        }
        i += k;
        prev = cp;
      }
      if (extra.n) inv_buf_add(pOut, extra.z, extra.n);
      if (extra.bOom) pOut->bOom = 1;
      inv_buf_free(&extra);
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
      size_t len;
      cp = decodeUtf8(z, n, i, &len);
      inv_buf_add(pOut, z + i, len);
      if (bCaseless && caseless(cp, pOut, n0, NULL, zErr, nErr, i)) return 1;
      i += len;
    }
  }
  return pOut->bOom ? refuse(zErr, nErr, "out of memory", 0) : 0;
}

int inv_pg_regex_check(const char *z, size_t n, char *zErr, size_t nErr) {
  inv_buf b;
  int rc;
  inv_buf_init(&b);
  rc = inv_pg_regex(z, n, 0, &b, zErr, nErr);
  inv_buf_free(&b);
  return rc;
}
