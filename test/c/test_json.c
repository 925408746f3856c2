/*
** test_json.c: arena, buffer, inv_val helpers, UTF-8 validation, the JSON
** parser, writers and sinks, and allocation-failure injection.
*/
#include "tharness.h"
#include "inv_val.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void test_json(void);

/* ---------- helpers ---------- */

/* Parse z (length n) and write it back; returns a malloc'd string or NULL
** on a parse error (message in zErr). */
static char *rt_n(const char *z, size_t n, char *zErr, size_t nErr) {
  inv_arena a;
  inv_val v;
  inv_buf b;
  char *zOut = NULL;
  inv_arena_init(&a);
  if (inv_json_parse(&a, z, n, &v, zErr, nErr) == 0) {
    inv_buf_init(&b);
    inv_json_write(&b, &v);
    if (!b.bOom && b.z) {
      zOut = (char *)malloc(b.n + 1);
      if (zOut) memcpy(zOut, b.z, b.n + 1);
    }
    inv_buf_free(&b);
  }
  inv_arena_free(&a);
  return zOut;
}

static void check_rt(const char *zIn, const char *zExpect, int line) {
  char zErr[128];
  char *zOut = rt_n(zIn, strlen(zIn), zErr, sizeof(zErr));
  if (zOut && strcmp(zOut, zExpect) == 0) {
    th_passed++;
  } else {
    th_failed++;
    fprintf(stderr, "FAIL %s:%d: round trip of %s gave %s (%s), expected %s\n",
            __FILE__, line, zIn, zOut ? zOut : "(error)", zOut ? "" : zErr,
            zExpect);
  }
  free(zOut);
}
#define RT(in, out) check_rt(in, out, __LINE__)

/* Expect a parse failure whose message contains zMsg. */
static void check_bad_n(const char *zIn, size_t n, const char *zMsg, int line) {
  inv_arena a;
  inv_val v;
  char zErr[128];
  int rc;
  inv_arena_init(&a);
  zErr[0] = 0;
  rc = inv_json_parse(&a, zIn, n, &v, zErr, sizeof(zErr));
  if (rc == -1 && strstr(zErr, zMsg) != NULL) {
    th_passed++;
  } else {
    th_failed++;
    fprintf(stderr, "FAIL %s:%d: parse of %.*s: rc=%d err=\"%s\", expected \"%s\"\n",
            __FILE__, line, (int)(n > 60 ? 60 : n), zIn, rc, zErr, zMsg);
  }
  inv_arena_free(&a);
}
#define BAD(in, msg) check_bad_n(in, strlen(in), msg, __LINE__)
#define BADN(in, n, msg) check_bad_n(in, n, msg, __LINE__)
#define SYNTAX "invalid JSON at offset"

/* Replay JSON text through inv_sink_json into a JSON sink (events, not
** splicing). Returns the rc; the text lands in *pB. */
static int replay(inv_buf *pB, const char *z, size_t n) {
  inv_json_sink s;
  inv_json_sink_init(&s, pB);
  s.base.xJson = NULL;
  return inv_sink_json(&s.base, z, n);
}

static void check_replay(const char *zIn, const char *zExpect, int line) {
  inv_buf b;
  int rc;
  inv_buf_init(&b);
  rc = replay(&b, zIn, strlen(zIn));
  if (rc == 0 && b.z && strcmp(b.z, zExpect) == 0) {
    th_passed++;
  } else {
    th_failed++;
    fprintf(stderr, "FAIL %s:%d: replay of %s gave rc=%d %s, expected %s\n",
            __FILE__, line, zIn, rc, b.z ? b.z : "(null)", zExpect);
  }
  inv_buf_free(&b);
}
#define REPLAY(in, out) check_replay(in, out, __LINE__)

/* Nested "[[[...]]]" (bClose) or just the openers. Caller frees. */
static char *nested(size_t depth, int bClose, const char *zOpen,
                    const char *zClose) {
  size_t no = strlen(zOpen), nc = strlen(zClose);
  char *z = (char *)malloc(depth * (no + nc) + 1);
  size_t i, k = 0;
  for (i = 0; i < depth; i++) { memcpy(z + k, zOpen, no); k += no; }
  if (bClose) {
    for (i = 0; i < depth; i++) { memcpy(z + k, zClose, nc); k += nc; }
  }
  z[k] = 0;
  return z;
}

/* ---------- arena and memory ---------- */

static void test_arena(void) {
  inv_arena a;
  size_t i;
  int bAligned = 1, bOk = 1;
  char *p, *q, *big;
  inv_arena_init(&a);
  for (i = 1; i < 3000; i++) {
    unsigned char *m = (unsigned char *)inv_arena_alloc(&a, i % 37 + 1);
    if (m == NULL) { bOk = 0; break; }
    if (((uintptr_t)m & 7) != 0) bAligned = 0;
    memset(m, 0xAB, i % 37 + 1);
  }
  CHECK(bOk);
  CHECK(bAligned);
  /* a request bigger than the chunk size gets its own chunk */
  big = (char *)inv_arena_alloc(&a, 200000);
  CHECK(big != NULL);
  CHECK(((uintptr_t)big & 7) == 0);
  if (big) { memset(big, 'x', 200000); CHECK(big[199999] == 'x'); }
  p = (char *)inv_arena_alloc(&a, 10);
  CHECK(p != NULL && ((uintptr_t)p & 7) == 0);
  q = inv_arena_strdup(&a, "hello world", 5);
  CHECK_STR(q, "hello");
  q = inv_arena_strdup(&a, "a\0b", 3);
  CHECK(q && q[0] == 'a' && q[1] == 0 && q[2] == 'b' && q[3] == 0);
  q = inv_arena_strdup(&a, NULL, 0);
  CHECK_STR(q, "");
  CHECK(inv_arena_alloc(&a, 0) != NULL);
  CHECK(a.nTotal >= 200000);
  inv_arena_free(&a);
  CHECK(a.pHead == NULL && a.nTotal == 0);
  /* reusable after free */
  p = (char *)inv_arena_alloc(&a, 100);
  CHECK(p != NULL);
  inv_arena_free(&a);

  /* out of memory: NULL, then the arena still works and frees cleanly */
  inv_arena_init(&a);
  inv_mem_fail_after(1);
  CHECK(inv_arena_alloc(&a, 16) == NULL);
  p = (char *)inv_arena_alloc(&a, 16);
  CHECK(p != NULL);
  inv_mem_fail_after(1);
  CHECK(inv_arena_alloc(&a, 100000) == NULL);     /* oversized chunk fails */
  CHECK(inv_arena_alloc(&a, 8) != NULL);          /* current chunk still ok */
  inv_mem_fail_after(1);
  CHECK(inv_arena_strdup(&a, "x", 1) != NULL);    /* fits: no allocation */
  inv_mem_fail_after(0);
  inv_arena_free(&a);

  /* the hook: the n-th call fails, then it disarms */
  inv_mem_fail_after(3);
  {
    void *m1 = inv_malloc(8), *m2 = inv_malloc(8), *m3 = inv_malloc(8);
    void *m4 = inv_malloc(8);
    CHECK(m1 != NULL && m2 != NULL && m3 == NULL && m4 != NULL);
    inv_free(m1); inv_free(m2); inv_free(m4);
  }
  inv_mem_fail_after(1);
  {
    void *m = inv_malloc(8), *r;
    CHECK(m == NULL);
    m = inv_malloc(8);
    inv_mem_fail_after(1);
    r = inv_realloc(m, 64);
    CHECK(r == NULL);                  /* m untouched */
    r = inv_realloc(m, 64);
    CHECK(r != NULL);
    inv_free(r);
  }
}

/* ---------- buffer ---------- */

static void test_buf(void) {
  inv_buf b;
  int i, bOk = 1;
  inv_buf_init(&b);
  for (i = 0; i < 10000; i++) inv_buf_addc(&b, (char)('a' + i % 26));
  CHECK_INT(b.n, 10000);
  CHECK(b.z && b.z[10000] == 0 && b.nAlloc > 10000);
  for (i = 0; i < 10000 && b.z; i++) if (b.z[i] != 'a' + i % 26) bOk = 0;
  CHECK(bOk);
  inv_buf_reset(&b);
  CHECK_INT(b.n, 0);
  CHECK_STR(b.z, "");
  inv_buf_addi(&b, INT64_MIN);
  CHECK_STR(b.z, "-9223372036854775808");
  inv_buf_reset(&b);
  inv_buf_addi(&b, INT64_MAX);
  inv_buf_addc(&b, ' ');
  inv_buf_addi(&b, 0);
  inv_buf_addc(&b, ' ');
  inv_buf_addi(&b, -1);
  inv_buf_addc(&b, ' ');
  inv_buf_addi(&b, 1234567890);
  CHECK_STR(b.z, "9223372036854775807 0 -1 1234567890");
  inv_buf_reset(&b);
  inv_buf_adds(&b, "x=");
  inv_buf_printf(&b, "%d/%s", 42, "abc");
  CHECK_STR(b.z, "x=42/abc");
  {
    /* longer than the free space: the two-pass path */
    char big[1000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    inv_buf_printf(&b, "[%s]", big);
    CHECK_INT(b.n, 8 + 1001);
    CHECK(b.z && b.z[8] == '[' && b.z[9] == 'q' && b.z[1008] == ']' && b.z[1009] == 0);
  }
  /* the formats the SQL builders use (%s, %d, %%) are appended without
  ** vsnprintf: the same text as vsnprintf, for any int, a NULL string, an
  ** argument inside the buffer itself and a growth in the middle */
  {
    static const int aInt[] = { 0, 7, -1, 10, -10, 2147483647, -2147483647 - 1 };
    char zWant[64];
    size_t k;
    for (k = 0; k < sizeof aInt / sizeof aInt[0]; k++) {
      inv_buf_reset(&b);
      inv_buf_printf(&b, "s%d AS (%s.c%d)%%", aInt[k], "p", aInt[k]);
      snprintf(zWant, sizeof zWant, "s%d AS (%s.c%d)%%", aInt[k], "p", aInt[k]);
      CHECK_STR(b.z, zWant);
    }
    inv_buf_reset(&b);
    inv_buf_printf(&b, "[%s]", (const char *)NULL);
    CHECK_STR(b.z, "[(null)]");
    inv_buf_reset(&b);
    inv_buf_printf(&b, "%s", "");
    CHECK(b.z != NULL && b.n == 0 && b.z[0] == 0);
    inv_buf_free(&b);
    inv_buf_printf(&b, "");
    CHECK(b.z != NULL && b.n == 0 && b.z[0] == 0);
    inv_buf_free(&b);
    inv_buf_adds(&b, "t.job_id");
    for (i = 0; i < 6; i++) inv_buf_printf(&b, ", %s", b.z);   /* grows while reading itself */
    CHECK_INT(b.n, 8 * 64 + 2 * 63);
    CHECK(b.z && strncmp(b.z, "t.job_id, t.job_id, t.job_id", 28) == 0 && b.z[b.n] == 0);
    /* other conversions still go through vsnprintf */
    inv_buf_reset(&b);
    inv_buf_printf(&b, "%zu %lld %.2f %c %5s|%-3d|", (size_t)12, -5LL, 1.5, 'x', "ab", 4);
    CHECK_STR(b.z, "12 -5 1.50 x    ab|4  |");
    inv_buf_reset(&b);
    inv_buf_printf(&b, "100%");                  /* a lone % at the end: vsnprintf's business */
    CHECK(b.z != NULL && b.z[b.n] == 0);
  }
  /* self-append */
  inv_buf_reset(&b);
  inv_buf_adds(&b, "abc");
  inv_buf_add(&b, b.z, b.n);
  CHECK_STR(b.z, "abcabc");
  inv_buf_free(&b);
  CHECK(b.z == NULL && b.n == 0);

  /* empty append still yields a NUL-terminated string */
  inv_buf_add(&b, "", 0);
  CHECK_STR(b.z, "");
  inv_buf_free(&b);

  /* out of memory: sticky, content kept */
  inv_buf_init(&b);
  inv_mem_fail_after(1);
  inv_buf_adds(&b, "abc");
  CHECK(b.bOom == 1);
  CHECK(b.z == NULL && b.n == 0);
  inv_buf_adds(&b, "def");
  CHECK(b.z == NULL);
  inv_buf_free(&b);
  CHECK(b.bOom == 0);
  inv_buf_adds(&b, "hello");
  CHECK_STR(b.z, "hello");
  inv_mem_fail_after(1);
  for (i = 0; i < 200; i++) inv_buf_addc(&b, 'z');   /* growth fails */
  CHECK(b.bOom == 1);
  CHECK(b.z != NULL && strncmp(b.z, "hello", 5) == 0 && b.z[b.n] == 0);
  CHECK(b.n < b.nAlloc);
  inv_buf_printf(&b, "%d", 5);
  CHECK(b.z[b.n] == 0);
  CHECK(inv_buf_reserve(&b, 1) == -1);
  inv_buf_reset(&b);
  CHECK(b.bOom == 0 && b.n == 0);
  inv_buf_adds(&b, "again");
  CHECK_STR(b.z, "again");
  inv_buf_free(&b);
  inv_mem_fail_after(0);
}

/* ---------- values ---------- */

static void test_values(void) {
  inv_arena a;
  inv_val v, e;
  const inv_val *p;
  double r = 0;
  int64_t i = 0;
  char zErr[100];
  const char *zDoc =
      "{\"n\":null,\"b\":true,\"i\":7,\"r\":2.5,\"s\":\"x\",\"a\":[],\"o\":{}}";
  inv_arena_init(&a);
  CHECK_INT(inv_json_parse(&a, zDoc, strlen(zDoc), &v, zErr, sizeof(zErr)), 0);
  CHECK_INT(v.t, INV_OBJ);
  CHECK_INT(v.u.obj.n, 7);
  CHECK(inv_val_get(&v, "missing") == NULL);
  CHECK(inv_val_get(NULL, "n") == NULL);
  p = inv_val_get(&v, "n");
  CHECK(p && p->t == INV_NULL);
  p = inv_val_get(&v, "b");
  CHECK(p && p->t == INV_BOOL && p->u.b == 1);
  CHECK(!inv_val_number(p, &r));
  p = inv_val_get(&v, "i");
  CHECK(inv_val_number(p, &r) && r == 7.0);
  CHECK(inv_val_integer(p, &i) && i == 7);
  p = inv_val_get(&v, "r");
  CHECK(inv_val_number(p, &r) && r == 2.5);
  CHECK(!inv_val_integer(p, &i));
  p = inv_val_get(&v, "s");
  CHECK(p && p->u.s.n == 1 && strcmp(p->u.s.z, "x") == 0);
  CHECK(!inv_val_is_arr(p) && !inv_val_is_obj(p));
  p = inv_val_get(&v, "a");
  CHECK(inv_val_is_arr(p) && !inv_val_is_obj(p));
  CHECK(p && p->u.arr.n == 0);
  p = inv_val_get(&v, "o");
  CHECK(inv_val_is_obj(p) && !inv_val_is_arr(p));
  CHECK(inv_val_is_obj(&v));
  CHECK(inv_val_get(p, "x") == NULL);
  inv_arena_free(&a);

  /* REAL -> integer only when integral and in range */
  memset(&e, 0, sizeof(e));
  e.t = INV_REAL;
  e.u.r = 3.0;
  CHECK(inv_val_integer(&e, &i) && i == 3);
  e.u.r = -0.0;
  CHECK(inv_val_integer(&e, &i) && i == 0);
  e.u.r = 3.5;
  CHECK(!inv_val_integer(&e, &i));
  e.u.r = -9223372036854775808.0;
  CHECK(inv_val_integer(&e, &i) && i == INT64_MIN);
  e.u.r = 9223372036854775808.0;
  CHECK(!inv_val_integer(&e, &i));
  e.u.r = 9223372036854774784.0;     /* largest double below 2^63 */
  CHECK(inv_val_integer(&e, &i) && i == INT64_C(9223372036854774784));
  e.u.r = 1e300;
  CHECK(!inv_val_integer(&e, &i));
  e.t = INV_STR; e.u.s.z = "1"; e.u.s.n = 1;
  CHECK(!inv_val_integer(&e, &i) && !inv_val_number(&e, &r));

  /* the empty table */
  memset(&e, 0, sizeof(e));
  e.t = INV_OBJ;
  e.bEmpty = 1;
  CHECK(inv_val_is_arr(&e) && inv_val_is_obj(&e));
  {
    inv_buf b;
    inv_buf_init(&b);
    inv_json_write(&b, &e);
    CHECK_STR(b.z, "{}");
    inv_buf_reset(&b);
    e.t = INV_ARR;
    inv_json_write(&b, &e);
    CHECK_STR(b.z, "{}");
    inv_buf_free(&b);
  }
}

/* ---------- UTF-8 ---------- */

static void test_utf8(void) {
#define U8(s, ok) CHECK_INT(inv_utf8_valid(s, sizeof(s) - 1), ok)
  U8("", 1);
  U8("abc", 1);
  U8("a\0b", 1);                         /* NUL is valid UTF-8 */
  U8("\xC3\xA9", 1);                     /* e acute */
  U8("\xE4\xB8\xAD", 1);                 /* U+4E2D */
  U8("\xF0\x9F\x98\x80", 1);             /* U+1F600 */
  U8("\xF4\x8F\xBF\xBF", 1);             /* U+10FFFF */
  U8("\xED\x9F\xBF", 1);                 /* U+D7FF */
  U8("\xEE\x80\x80", 1);                 /* U+E000 */
  U8("\xC2\x80", 1);                     /* U+0080 */
  U8("\xE0\xA0\x80", 1);                 /* U+0800 */
  U8("\xF0\x90\x80\x80", 1);             /* U+10000 */
  U8("\xC0\x80", 0);                     /* overlong NUL */
  U8("\xC1\xBF", 0);                     /* overlong */
  U8("\xE0\x80\x80", 0);                 /* overlong */
  U8("\xE0\x9F\xBF", 0);                 /* overlong */
  U8("\xF0\x8F\xBF\xBF", 0);             /* overlong */
  U8("\xED\xA0\x80", 0);                 /* surrogate D800 */
  U8("\xED\xBF\xBF", 0);                 /* surrogate DFFF */
  U8("\xF4\x90\x80\x80", 0);             /* > U+10FFFF */
  U8("\xF5\x80\x80\x80", 0);
  U8("\xF8\x88\x80\x80\x80", 0);
  U8("\xFF", 0);
  U8("\xFE", 0);
  U8("\x80", 0);                         /* stray continuation */
  U8("a\xBF", 0);
  U8("\xE4\xB8", 0);                     /* truncated */
  U8("\xF0\x9F\x98", 0);
  U8("\xC3", 0);
  U8("\xC3" "A", 0);
  U8("\xE4" "A" "\xAD", 0);
#undef U8
}

/* ---------- parse / write ---------- */

static void test_roundtrip(void) {
  RT("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\",\"f\":[]},\"g\":{}}",
     "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\",\"f\":[]},\"g\":{}}");
  RT(" { \"a\" : [ 1 , 2 ] ,\n\t\"b\" : { } }\r\n ", "{\"a\":[1,2],\"b\":{}}");
  RT("[[[[]]],[[{}]],{\"x\":[{\"y\":[1]}]}]", "[[[[]]],[[{}]],{\"x\":[{\"y\":[1]}]}]");
  RT("{\"z\":1,\"a\":2,\"m\":3}", "{\"z\":1,\"a\":2,\"m\":3}");   /* input order */
  RT("[]", "[]");
  RT("{}", "{}");
  RT("null", "null");
  RT("true", "true");
  RT("\"\"", "\"\"");
  RT("0", "0");
  RT("-1", "-1");
  RT("[1,-2,3.5,\"x\"]", "[1,-2,3.5,\"x\"]");
  RT("9223372036854775807", "9223372036854775807");
  RT("-9223372036854775808", "-9223372036854775808");
  RT("9223372036854775808", "9.223372036854776e+18");
  RT("-0", "0");
  RT("-0.0", "-0.0");
  RT("1e2", "100.0");
  RT("10.0", "10.0");
  RT("0.1", "0.1");
  RT("1.5E+3", "1500.0");
  RT("2.5e-3", "0.0025");
  RT("1e300", "1e+300");
  RT("1e-999", "0.0");               /* underflow is not an error */
  RT("123456789012345678901234567890", "1.2345678901234568e+29");
  RT("0.30000000000000004", "0.30000000000000004");
  RT("[1E2,1e-2]", "[100.0,0.01]");
  /* strings */
  RT("\"\\u00e9\\u4E2D\"", "\"\xC3\xA9\xE4\xB8\xAD\"");
  RT("\"\\ud83d\\ude00\"", "\"\xF0\x9F\x98\x80\"");
  RT("\"\\uDBFF\\uDFFF\"", "\"\xF4\x8F\xBF\xBF\"");
  RT("\"\xF0\x9F\x98\x80 raw\"", "\"\xF0\x9F\x98\x80 raw\"");
  RT("\"a\\u0000b\"", "\"a\\u0000b\"");
  RT("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\\"\\\\/\\b\\f\\n\\r\\t\"");
  RT("\"\\u001f\\u0001\\u007f\"", "\"\\u001f\\u0001\x7f\"");
  RT("\"a/b\"", "\"a/b\"");
  RT("{\"k\\u0000ey\":1}", "{\"k\\u0000ey\":1}");

  /* details of the parsed values */
  {
    inv_arena a;
    inv_val v;
    char zErr[100];
    const char *z;
    inv_arena_init(&a);
    z = "\"a\\u0000b\"";
    CHECK_INT(inv_json_parse(&a, z, strlen(z), &v, zErr, sizeof(zErr)), 0);
    CHECK(v.t == INV_STR && v.u.s.n == 3 && v.u.s.z[0] == 'a'
          && v.u.s.z[1] == 0 && v.u.s.z[2] == 'b' && v.u.s.z[3] == 0);
    z = "\"\\ud83d\\ude00\"";
    CHECK_INT(inv_json_parse(&a, z, strlen(z), &v, zErr, sizeof(zErr)), 0);
    CHECK(v.t == INV_STR && v.u.s.n == 4
          && memcmp(v.u.s.z, "\xF0\x9F\x98\x80", 5) == 0);
    z = "9223372036854775807";
    CHECK_INT(inv_json_parse(&a, z, strlen(z), &v, zErr, sizeof(zErr)), 0);
    CHECK(v.t == INV_INT && v.u.i == INT64_MAX);
    z = "-9223372036854775808";
    CHECK_INT(inv_json_parse(&a, z, strlen(z), &v, zErr, sizeof(zErr)), 0);
    CHECK(v.t == INV_INT && v.u.i == INT64_MIN);
    z = "9223372036854775808";
    CHECK_INT(inv_json_parse(&a, z, strlen(z), &v, zErr, sizeof(zErr)), 0);
    CHECK(v.t == INV_REAL && v.u.r == 9223372036854775808.0);
    z = "-9223372036854775809";
    CHECK_INT(inv_json_parse(&a, z, strlen(z), &v, zErr, sizeof(zErr)), 0);
    CHECK(v.t == INV_REAL);
    z = "-0";
    CHECK_INT(inv_json_parse(&a, z, strlen(z), &v, zErr, sizeof(zErr)), 0);
    CHECK(v.t == INV_INT && v.u.i == 0);
    z = "1e2";
    CHECK_INT(inv_json_parse(&a, z, strlen(z), &v, zErr, sizeof(zErr)), 0);
    CHECK(v.t == INV_REAL && v.u.r == 100.0);
    z = "[1,[2,3],{\"a\":{\"b\":[]}}]";
    CHECK_INT(inv_json_parse(&a, z, strlen(z), &v, zErr, sizeof(zErr)), 0);
    CHECK(v.t == INV_ARR && v.u.arr.n == 3);
    CHECK(v.u.arr.a[1].t == INV_ARR && v.u.arr.a[1].u.arr.n == 2
          && v.u.arr.a[1].u.arr.a[1].u.i == 3);
    CHECK(v.u.arr.a[2].t == INV_OBJ && v.u.arr.a[2].u.obj.n == 1);
    CHECK_STR(v.u.arr.a[2].u.obj.a[0].zKey, "a");
    CHECK(inv_val_get(inv_val_get(&v.u.arr.a[2], "a"), "b") != NULL);
    z = "[1] x";        /* explicit length excludes the garbage */
    CHECK_INT(inv_json_parse(&a, z, 3, &v, zErr, sizeof(zErr)), 0);
    CHECK_INT(inv_json_parse(&a, NULL, 0, &v, zErr, sizeof(zErr)), -1);
    CHECK(v.t == INV_NULL);
    /* zErr may be NULL */
    CHECK_INT(inv_json_parse(&a, "[", 1, &v, NULL, 0), -1);
    inv_arena_free(&a);
  }

  /* writers directly */
  {
    inv_buf b;
    inv_buf_init(&b);
    inv_json_write_str(&b, "a\"b\\c/d\x01\x1f\n\xC3\xA9", 12);
    CHECK_STR(b.z, "\"a\\\"b\\\\c/d\\u0001\\u001f\\n\xC3\xA9\"");
    inv_buf_reset(&b);
    inv_json_write_str(&b, "x\0y", 3);
    CHECK_STR(b.z, "\"x\\u0000y\"");
    inv_buf_reset(&b);
    inv_json_write_real(&b, 10.0);
    inv_buf_addc(&b, ' ');
    inv_json_write_real(&b, 0.1 + 0.2);
    inv_buf_addc(&b, ' ');
    inv_json_write_real(&b, 1.0 / 3.0);
    inv_buf_addc(&b, ' ');
    inv_json_write_real(&b, -0.0);
    inv_buf_addc(&b, ' ');
    inv_json_write_real(&b, 1e21);
    inv_buf_addc(&b, ' ');
    inv_json_write_real(&b, 5e-324);
    inv_buf_addc(&b, ' ');
    inv_json_write_real(&b, 123456789.125);
    CHECK_STR(b.z, "10.0 0.30000000000000004 0.3333333333333333 -0.0 1e+21 "
                   "4.94065645841247e-324 123456789.125");
    inv_buf_free(&b);
  }
}

static void test_reject(void) {
  char *z;
  size_t i;
  /* trailing garbage */
  BAD("[1] x", "invalid JSON at offset 4");
  BAD("1 2", "invalid JSON at offset 2");
  BAD("{}}", "invalid JSON at offset 2");
  BAD("nullx", "invalid JSON at offset 4");
  BAD("\"a\"\"b\"", "invalid JSON at offset 3");
  /* structure */
  BAD("", "invalid JSON at offset 0");
  BAD("   ", "invalid JSON at offset 3");
  BAD("[1,]", "invalid JSON at offset 3");
  BAD("[,1]", "invalid JSON at offset 1");
  BAD("[1 2]", "invalid JSON at offset 3");
  BAD("[", "invalid JSON at offset 1");
  BAD("[1", "invalid JSON at offset 2");
  BAD("]", "invalid JSON at offset 0");
  BAD("{\"a\"}", "invalid JSON at offset 4");
  BAD("{\"a\":}", "invalid JSON at offset 5");
  BAD("{,}", "invalid JSON at offset 1");
  BAD("{\"a\":1,}", "invalid JSON at offset 7");
  BAD("{\"a\":1 \"b\":2}", "invalid JSON at offset 7");
  BAD("{1:2}", "invalid JSON at offset 1");
  BAD("{'a':1}", "invalid JSON at offset 1");
  BAD("tru", SYNTAX);
  BAD("nul", SYNTAX);
  BAD("True", SYNTAX);
  BAD("NaN", SYNTAX);
  BAD("Infinity", SYNTAX);
  BAD("-Infinity", SYNTAX);
  BAD("\"abc", "invalid JSON at offset 4");
  BAD("\xEF\xBB\xBF[]", SYNTAX);           /* no BOM */
  /* numbers */
  BAD("01", "invalid JSON at offset 1");
  BAD("-01", "invalid JSON at offset 2");
  BAD("[00]", SYNTAX);
  BAD("-", SYNTAX);
  BAD("+1", SYNTAX);
  BAD("1.", SYNTAX);
  BAD(".5", SYNTAX);
  BAD("1.e5", SYNTAX);
  BAD("1e", SYNTAX);
  BAD("1e+", SYNTAX);
  BAD("0x10", SYNTAX);
  BAD("1e999", "number out of range");
  BAD("-1e999", "number out of range");
  BAD("[1,1e400]", "number out of range");
  /* escapes */
  BAD("\"\\x\"", "invalid JSON at offset 1");
  BAD("\"\\'\"", SYNTAX);
  BAD("\"\\u12\"", SYNTAX);
  BAD("\"\\u12G4\"", SYNTAX);
  BAD("\"\\U0041\"", SYNTAX);
  BAD("\"\\", SYNTAX);
  /* lone surrogates */
  BAD("\"\\ud800\"", "invalid JSON at offset 1");
  BAD("\"\\udc00\"", SYNTAX);
  BAD("\"\\ud800\\u0041\"", SYNTAX);
  BAD("\"\\ud800x\"", SYNTAX);
  BAD("\"\\ud800\\ud800\"", SYNTAX);
  BAD("\"\\ude00\\ud83d\"", SYNTAX);
  BAD("\"x\\ud83d\"", SYNTAX);
  /* unescaped control characters */
  BAD("\"a\tb\"", "invalid JSON at offset 2");
  BAD("\"a\nb\"", SYNTAX);
  BAD("\"\x01\"", SYNTAX);
  BAD("\"\x1f\"", SYNTAX);
  BADN("\"a\0b\"", 5, "invalid JSON at offset 2");
  BAD("{\"a\tb\":1}", SYNTAX);
  /* invalid UTF-8 */
  BAD("\"\xC0\x80\"", "invalid UTF-8 in string");
  BAD("\"\xED\xA0\x80\"", "invalid UTF-8 in string");
  BAD("\"\xF5\x80\x80\x80\"", "invalid UTF-8 in string");
  BAD("\"\xF4\x90\x80\x80\"", "invalid UTF-8 in string");
  BAD("\"\xE4\xB8\"", "invalid UTF-8 in string");
  BAD("\"\xFF\"", "invalid UTF-8 in string");
  BAD("\"\\n\xC0\x80\"", "invalid UTF-8 in string");    /* escaped path */
  BAD("{\"\xE0\x80\x80\":1}", "invalid UTF-8 in string");
  BAD("[\xC3\xA9]", SYNTAX);                /* UTF-8 outside strings */
  /* duplicate keys */
  BAD("{\"a\":1,\"a\":2}", "duplicate key \"a\"");
  BAD("{\"a\":1,\"\\u0061\":2}", "duplicate key \"a\"");
  BAD("[{\"x\":{\"k\":1,\"j\":2,\"k\":3}}]", "duplicate key \"k\"");
  {
    /* a big object (hash path) with the duplicate at the end */
    inv_buf b;
    inv_buf_init(&b);
    inv_buf_addc(&b, '{');
    for (i = 0; i < 200; i++) inv_buf_printf(&b, "\"key%d\":%d,", (int)i, (int)i);
    inv_buf_adds(&b, "\"key137\":0}");
    BAD(b.z, "duplicate key \"key137\"");
    /* and one without duplicates parses */
    b.z[b.n - 12] = '}';             /* replace the last ',' */
    b.z[b.n - 11] = 0;
    {
      char zErr[100];
      char *zOut = rt_n(b.z, strlen(b.z), zErr, sizeof(zErr));
      CHECK(zOut != NULL && strcmp(zOut, b.z) == 0);
      free(zOut);
    }
    inv_buf_free(&b);
  }
  BAD("{\"a\":1,\"b\":{\"a\":1},\"a\":{}}", "duplicate key \"a\"");
  RT("{\"a\":1,\"b\":{\"a\":1}}", "{\"a\":1,\"b\":{\"a\":1}}");  /* other level */
  RT("{\"a\":1,\"A\":2,\"a \":3}", "{\"a\":1,\"A\":2,\"a \":3}");

  /* nesting: 64 levels ok, 65 not (arrays and objects both count) */
  z = nested(64, 1, "[", "]");
  {
    char zErr[100];
    char *zOut = rt_n(z, strlen(z), zErr, sizeof(zErr));
    CHECK(zOut != NULL && strcmp(zOut, z) == 0);
    free(zOut);
  }
  free(z);
  z = nested(65, 1, "[", "]");
  BAD(z, "nesting deeper than 64 levels");
  free(z);
  z = nested(32, 1, "{\"a\":[", "]}");
  RT(z, z);
  free(z);
  z = nested(33, 0, "{\"a\":[", "]}");
  BAD(z, "nesting deeper than 64 levels");
  free(z);
  z = nested(65, 1, "{\"a\":", "}");
  BAD(z, "nesting deeper than 64 levels");
  free(z);
  /* very deep input fails fast without deep recursion */
  z = nested(100000, 0, "[", "]");
  BAD(z, "nesting deeper than 64 levels");
  free(z);
  z = nested(1000000, 1, "[", "]");
  BAD(z, "nesting deeper than 64 levels");
  free(z);

  /* a long key in the duplicate message is cut at a UTF-8 boundary */
  {
    inv_arena a;
    inv_val v;
    char zErr[40];
    inv_buf b;
    inv_buf_init(&b);
    inv_buf_adds(&b, "{\"");
    for (i = 0; i < 40; i++) inv_buf_adds(&b, "\xC3\xA9");
    inv_buf_adds(&b, "\":1,\"");
    for (i = 0; i < 40; i++) inv_buf_adds(&b, "\xC3\xA9");
    inv_buf_adds(&b, "\":2}");
    inv_arena_init(&a);
    CHECK_INT(inv_json_parse(&a, b.z, b.n, &v, zErr, sizeof(zErr)), -1);
    CHECK(strncmp(zErr, "duplicate key \"", 15) == 0);
    CHECK(inv_utf8_valid(zErr, strlen(zErr)));
    inv_arena_free(&a);
    inv_buf_free(&b);
  }
}

/* ---------- sinks ---------- */

static void test_sink(void) {
  inv_buf b;
  inv_json_sink s;
  inv_sink *p;
  int rc;
  inv_buf_init(&b);
  inv_json_sink_init(&s, &b);
  p = &s.base;
  p->xBeginObj(p, 2);
  p->xKey(p, "a", 1);
  p->xBeginArr(p, 3);
  p->xInt(p, 1);
  p->xInt(p, 2);
  p->xBeginObj(p, 1);
  p->xKey(p, "b", 1);
  p->xNull(p);
  p->xEndObj(p);
  p->xEndArr(p);
  p->xKey(p, "c", 1);
  p->xStr(p, "x/y", 3);
  p->xEndObj(p);
  CHECK_STR(b.z, "{\"a\":[1,2,{\"b\":null}],\"c\":\"x/y\"}");

  /* every scalar, empty containers */
  inv_buf_reset(&b);
  inv_json_sink_init(&s, &b);
  p->xBeginArr(p, -1);
  p->xBool(p, 1);
  p->xBool(p, 0);
  p->xReal(p, 2.0);
  p->xReal(p, -1.25);
  p->xInt(p, INT64_MIN);
  p->xBeginArr(p, 0);
  p->xEndArr(p);
  p->xBeginObj(p, 0);
  p->xEndObj(p);
  p->xStr(p, "q\"\n", 3);
  p->xEndArr(p);
  CHECK_STR(b.z, "[true,false,2.0,-1.25,-9223372036854775808,[],{},\"q\\\"\\n\"]");

  /* xJson splicing */
  inv_buf_reset(&b);
  inv_json_sink_init(&s, &b);
  p->xBeginArr(p, 3);
  p->xInt(p, 1);
  p->xJson(p, "{\"x\":[1,2]}", 11);
  p->xStr(p, "s", 1);
  p->xJson(p, "7", 1);
  p->xEndArr(p);
  CHECK_STR(b.z, "[1,{\"x\":[1,2]},\"s\",7]");
  inv_buf_reset(&b);
  inv_json_sink_init(&s, &b);
  p->xBeginObj(p, 2);
  p->xKey(p, "k", 1);
  p->xJson(p, "[]", 2);
  p->xKey(p, "m", 1);
  p->xJson(p, "3", 1);
  p->xEndObj(p);
  CHECK_STR(b.z, "{\"k\":[],\"m\":3}");

  /* inv_sink_json with an xJson sink splices the (validated, trimmed) text */
  inv_buf_reset(&b);
  inv_json_sink_init(&s, &b);
  p->xBeginObj(p, 2);
  p->xKey(p, "a", 1);
  rc = inv_sink_json(p, " [1, {\"b\": 2}] \n", 16);
  CHECK_INT(rc, 0);
  p->xKey(p, "c", 1);
  rc = inv_sink_json(p, "[1,", 3);             /* invalid: nothing emitted */
  CHECK_INT(rc, -1);
  p->xNull(p);
  p->xEndObj(p);
  CHECK_STR(b.z, "{\"a\":[1, {\"b\": 2}],\"c\":null}");

  /* inv_sink_val == inv_json_write */
  {
    inv_arena a;
    inv_val v;
    char zErr[100];
    const char *zDoc = "{\"a\":[1,2.5,\"x\",null,true,{}],\"b\":{\"c\":[]}}";
    inv_arena_init(&a);
    CHECK_INT(inv_json_parse(&a, zDoc, strlen(zDoc), &v, zErr, sizeof(zErr)), 0);
    inv_buf_reset(&b);
    inv_json_sink_init(&s, &b);
    p->xBeginArr(p, 2);
    inv_sink_val(p, &v);
    inv_sink_val(p, &v.u.obj.a[0].v);
    p->xEndArr(p);
    CHECK_STR(b.z, "[{\"a\":[1,2.5,\"x\",null,true,{}],\"b\":{\"c\":[]}},"
                   "[1,2.5,\"x\",null,true,{}]]");
    inv_arena_free(&a);
  }
  inv_buf_free(&b);

  /* inv_sink_json replaying events into a JSON sink */
  REPLAY("{\"a\":[1,2,{\"b\":null}],\"c\":\"x/y\"}",
         "{\"a\":[1,2,{\"b\":null}],\"c\":\"x/y\"}");
  REPLAY(" { \"a\" : [ 1 , -2.5e0 , true , false , null ] , \"b\" : { } , \"c\" : [ ] } ",
         "{\"a\":[1,-2.5,true,false,null],\"b\":{},\"c\":[]}");
  REPLAY("\"a\\/b\\u00e9\\ud83d\\ude00\\u0000\\t\"",
         "\"a/b\xC3\xA9\xF0\x9F\x98\x80\\u0000\\t\"");
  REPLAY("{\"k\\\"ey\":\"v\"}", "{\"k\\\"ey\":\"v\"}");
  REPLAY("9223372036854775808", "9.223372036854776e+18");
  REPLAY("-9223372036854775808", "-9223372036854775808");
  REPLAY("10.0", "10.0");
  REPLAY("0.1000000000000000000000000000000000000000000000000000000000000000000001",
         "0.1");
  REPLAY("[[],[[]],{\"a\":{\"b\":{}}}]", "[[],[[]],{\"a\":{\"b\":{}}}]");
  {
    /* round-trip equality with the tree parser on a medium document */
    static const char zDoc[] =
        "{\"id\":12345,\"name\":\"job \\u2603 \\\"quoted\\\"\",\"tags\":[\"a\",\"b\",\"c\"],"
        "\"nested\":{\"x\":[1,2,3,[4,5,{\"y\":null}]],\"z\":{\"deep\":{\"er\":true}}},"
        "\"nums\":[0,-0.5,1e10,1.7976931348623157e308,-9223372036854775808,5e-324],"
        "\"ctl\":\"\\u0001\\u001f\\b\\f\",\"empty\":{},\"list\":[]}";
    inv_arena a;
    inv_val v;
    inv_buf b1, b2;
    char zErr[100];
    inv_arena_init(&a);
    inv_buf_init(&b1);
    inv_buf_init(&b2);
    CHECK_INT(inv_json_parse(&a, zDoc, sizeof(zDoc) - 1, &v, zErr, sizeof(zErr)), 0);
    inv_json_write(&b1, &v);
    CHECK_INT(replay(&b2, zDoc, sizeof(zDoc) - 1), 0);
    CHECK(b1.z && b2.z && strcmp(b1.z, b2.z) == 0);
    /* and replaying the compact output reproduces it */
    inv_buf_reset(&b2);
    CHECK_INT(replay(&b2, b1.z, b1.n), 0);
    CHECK(b1.z && b2.z && strcmp(b1.z, b2.z) == 0);
    inv_arena_free(&a);
    inv_buf_free(&b1);
    inv_buf_free(&b2);
  }

  /* invalid input: -1 and nothing emitted */
  {
    static const char *azBad[] = {
      "", "[1,]", "{\"a\":1,}", "[1] x", "01", "\"\\ud800\"", "\"\xC0\x80\"",
      "\"a\tb\"", "1e999", "{\"a\" 1}", "[\"x\":1]", "nul", "\"\\q\"", "{1:1}",
    };
    size_t k;
    for (k = 0; k < sizeof(azBad) / sizeof(azBad[0]); k++) {
      inv_buf_init(&b);
      CHECK_INT(replay(&b, azBad[k], strlen(azBad[k])), -1);
      CHECK(b.n == 0);
      inv_buf_free(&b);
    }
  }
  /* depth limit of the replayer: 256 */
  {
    char *z = nested(256, 1, "[", "]");
    inv_buf_init(&b);
    CHECK_INT(replay(&b, z, strlen(z)), 0);
    CHECK_STR(b.z, z);
    inv_buf_free(&b);
    free(z);
    z = nested(257, 1, "[", "]");
    inv_buf_init(&b);
    CHECK_INT(replay(&b, z, strlen(z)), -1);
    CHECK(b.n == 0);
    inv_buf_free(&b);
    free(z);
    z = nested(1000000, 0, "{\"a\":", "}");
    inv_buf_init(&b);
    CHECK_INT(replay(&b, z, strlen(z)), -1);
    inv_buf_free(&b);
    free(z);
  }
}

/* ---------- allocation-failure injection ---------- */

/* A medium document: nested objects, a big object (hash-based duplicate
** check), long strings with and without escapes, a long number. */
static void medium_doc(inv_buf *b) {
  int i;
  inv_buf_adds(b, "{\"meta\":{\"v\":1,\"s\":\"\\u00e9t\\u00e9 \\ud83d\\ude00\"},\"items\":[");
  for (i = 0; i < 60; i++) {
    if (i) inv_buf_addc(b, ',');
    inv_buf_printf(b, "{\"id\":%d,\"name\":\"item-%d\",\"score\":%d.5,"
                      "\"tags\":[\"a\",\"b\\n\",%d],\"ok\":%s}",
                   i, i, i, i * 7, i % 2 ? "true" : "null");
  }
  inv_buf_adds(b, "],\"big\":{");
  for (i = 0; i < 40; i++) {
    if (i) inv_buf_addc(b, ',');
    inv_buf_printf(b, "\"k%d\":[%d,{\"x\":\"%0200d\"}]", i, i, i);
  }
  inv_buf_adds(b, "},\"long\":0.");
  for (i = 0; i < 100; i++) inv_buf_addc(b, (char)('0' + i % 10));
  inv_buf_adds(b, ",\"esc\":\"");
  for (i = 0; i < 300; i++) inv_buf_adds(b, "\\\"q\\u0041");
  inv_buf_adds(b, "\"}");
}

static void test_oom(void) {
  inv_buf doc, ref, out;
  inv_arena a;
  inv_val v;
  char zErr[100];
  long k;
  int nFail = 0, nOk = 0, bBad = 0, bLastOk = 0;
  inv_buf_init(&doc);
  inv_buf_init(&ref);
  medium_doc(&doc);
  CHECK(!doc.bOom);

  inv_arena_init(&a);
  CHECK_INT(inv_json_parse(&a, doc.z, doc.n, &v, zErr, sizeof(zErr)), 0);
  inv_json_write(&ref, &v);
  inv_arena_free(&a);
  CHECK(ref.z != NULL && !ref.bOom);

  for (k = 1; k <= 400; k++) {
    int rc;
    inv_arena_init(&a);
    inv_mem_fail_after(k);
    rc = inv_json_parse(&a, doc.z, doc.n, &v, zErr, sizeof(zErr));
    inv_mem_fail_after(0);
    if (rc == 0) {
      inv_buf_init(&out);
      inv_json_write(&out, &v);
      if (!out.z || strcmp(out.z, ref.z) != 0) bBad = 1;
      inv_buf_free(&out);
      nOk++;
      bLastOk = 1;
    } else {
      if (rc != -1 || strcmp(zErr, "out of memory") != 0) bBad = 1;
      nFail++;
      bLastOk = 0;
    }
    inv_arena_free(&a);
  }
  CHECK(!bBad);
  CHECK(nFail > 10);
  CHECK(nOk > 0 && bLastOk);

  /* inv_sink_json: -1 or a complete result, nothing in between */
  nFail = nOk = bBad = 0;
  for (k = 1; k <= 50; k++) {
    int rc;
    inv_buf_init(&out);
    inv_mem_fail_after(k);
    rc = replay(&out, doc.z, doc.n);
    inv_mem_fail_after(0);
    if (rc == 0) {
      if (out.bOom) nFail++;            /* the output buffer itself failed */
      else if (!out.z || strcmp(out.z, ref.z) != 0) bBad = 1;
      else nOk++;
    } else {
      if (out.n != 0) bBad = 1;
      nFail++;
    }
    inv_buf_free(&out);
  }
  CHECK(!bBad);
  CHECK(nFail > 0 && nOk > 0);

  /* the writer: bOom and a valid NUL-terminated prefix */
  inv_arena_init(&a);
  CHECK_INT(inv_json_parse(&a, doc.z, doc.n, &v, zErr, sizeof(zErr)), 0);
  bBad = 0;
  for (k = 1; k <= 20; k++) {
    inv_buf_init(&out);
    inv_mem_fail_after(k);
    inv_json_write(&out, &v);
    inv_mem_fail_after(0);
    if (out.bOom) {
      if (out.z && (out.z[out.n] != 0 || strncmp(out.z, ref.z, out.n) != 0)) bBad = 1;
    } else if (!out.z || strcmp(out.z, ref.z) != 0) {
      bBad = 1;
    }
    inv_buf_free(&out);
  }
  CHECK(!bBad);
  inv_arena_free(&a);

  inv_buf_free(&doc);
  inv_buf_free(&ref);
}

/* ---------- one-pass replay of stored text: a sink stays balanced ---------- */

static void check_trusted(const char *zIn, int rcWant, const char *zExpect, int line) {
  inv_buf b, scratch;
  inv_json_sink s;
  inv_arena a;
  inv_val v;
  char zErr[64];
  int rc;
  inv_buf_init(&b);
  inv_buf_init(&scratch);
  inv_arena_init(&a);
  inv_json_sink_init(&s, &b);
  s.base.xJson = NULL;                  /* events, not splicing */
  s.base.xBeginArr(&s.base, -1);        /* inside a list, as a field's value is in a record */
  rc = inv_sink_json_replay(&s.base, zIn, strlen(zIn), &scratch);
  if (rc == -1) s.base.xNull(&s.base);
  s.base.xEndArr(&s.base);
  if (rc == rcWant && b.z && strcmp(b.z, zExpect) == 0
      && inv_json_parse(&a, b.z, b.n, &v, zErr, sizeof zErr) == 0) {
    th_passed++;
  } else {
    th_failed++;
    fprintf(stderr, "FAIL %s:%d: trusted replay of %s gave rc=%d %s, expected rc=%d %s\n",
            __FILE__, line, zIn, rc, b.z ? b.z : "(null)", rcWant, zExpect);
  }
  inv_arena_free(&a);
  inv_buf_free(&scratch);
  inv_buf_free(&b);
}
#define TRUSTED(in, rc, out) check_trusted(in, rc, out, __LINE__)

static void test_replay_trusted(void) {
  TRUSTED("[{\"error_code\":\"E\",\"message\":\"a\\\"b\\u00e9\",\"additional\":{\"x\":[1,-2.5,true,null]}}]", 0,
          "[[{\"error_code\":\"E\",\"message\":\"a\\\"b\u00e9\",\"additional\":{\"x\":[1,-2.5,true,null]}}]]");
  TRUSTED(" {\"a\" : 1 } ", 0, "[{\"a\":1}]");
  /* not JSON after all: nothing emitted (-1), or what was read, closed (-2) */
  TRUSTED("", -1, "[null]");
  TRUSTED("tru", -1, "[null]");
  TRUSTED("\"open", -1, "[null]");
  TRUSTED("[1,2,", -2, "[[1,2]]");
  TRUSTED("[1,[2,{\"k\":[3", -2, "[[1,[2,{\"k\":[3]}]]]");
  TRUSTED("{\"a\":", -2, "[{\"a\":null}]");
  TRUSTED("{\"a\" 1}", -2, "[{\"a\":null}]");
  TRUSTED("{\"a\":1,}", -2, "[{\"a\":1}]");
  TRUSTED("{\"a\":{\"b\":x}}", -2, "[{\"a\":{\"b\":null}}]");
  TRUSTED("{\"a\":[1 2]}", -2, "[{\"a\":[1]}]");
  TRUSTED("[1] x", -2, "[[1]]");
  TRUSTED("{\"a\":\"bad \\q escape\"}", -2, "[{\"a\":null}]");
}

void test_json(void) {
  test_arena();
  test_buf();
  test_values();
  test_utf8();
  test_roundtrip();
  test_reject();
  test_sink();
  test_replay_trusted();
  test_oom();
}
