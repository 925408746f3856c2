/*
** test_time.c: ISO 8601 parsing (strict/lenient), formatting, strftime and
** the timediff grammar.
*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "inv_val.h"
#include "tharness.h"

void test_time(void);

/* Results come back in a small ring of buffers so that a few can be alive
** inside one CHECK_STR. "ERR" when the parser rejects. */
static char *ring(void) {
  static char a[8][64];
  static int k = 0;
  k = (k + 1) % 8;
  return a[k];
}

static const char *fmt(int64_t ms) {
  char *z = ring();
  inv_time_format(ms, z);
  return z;
}

static const char *fmt_sec(int64_t ms) {
  char *z = ring();
  inv_time_format_sec(ms, z);
  return z;
}

static const char *ps(const char *z) {          /* strict */
  int64_t ms = 0;
  char *zOut;
  if (inv_time_parse_strict(z, strlen(z), &ms)) return "ERR";
  zOut = ring();
  inv_time_format(ms, zOut);
  return zOut;
}

static const char *pl(const char *z) {          /* lenient */
  int64_t ms = 0;
  char *zOut;
  if (inv_time_parse_lenient(z, strlen(z), &ms)) return "ERR";
  zOut = ring();
  inv_time_format(ms, zOut);
  return zOut;
}

static int64_t parse_ms(const char *z) {       /* strict, -1 on error */
  int64_t ms = 0;
  if (inv_time_parse_strict(z, strlen(z), &ms)) return -1;
  return ms;
}

static int ok_strict(const char *z) {
  int64_t ms;
  return inv_time_parse_strict(z, strlen(z), &ms) == 0;
}

static int ok_lenient(const char *z) {
  int64_t ms;
  return inv_time_parse_lenient(z, strlen(z), &ms) == 0;
}

static const char *sf(const char *zFmt, const char *zIso) {
  inv_buf b;
  char *zOut = ring();
  int64_t ms = parse_ms(zIso);
  inv_buf_init(&b);
  inv_time_strftime(&b, zFmt, ms);
  if (b.bOom || b.z == NULL) {
    strcpy(zOut, b.bOom ? "OOM" : "");
  } else {
    strncpy(zOut, b.z, 63);
    zOut[63] = 0;
  }
  inv_buf_free(&b);
  return zOut;
}

#define NOW_MS INT64_C(1704369600000)   /* 2024-01-04T12:00:00Z, Thursday */

static const char *td(const char *z) {
  int64_t ms = 0;
  char *zOut;
  if (inv_timediff_eval(z, strlen(z), NOW_MS, &ms)) return "ERR";
  zOut = ring();
  inv_time_format(ms, zOut);
  return zOut;
}

static void test_strict_dates(void) {
  CHECK_STR(ps("2024"), "2024-01-01T00:00:00.000Z");
  CHECK_STR(ps("2024-02"), "2024-02-01T00:00:00.000Z");
  CHECK_STR(ps("2024-02-01"), "2024-02-01T00:00:00.000Z");
  CHECK_STR(ps("20240201"), "2024-02-01T00:00:00.000Z");
  CHECK_STR(ps("1970-01-01"), "1970-01-01T00:00:00.000Z");
  CHECK_STR(ps("0001-01-01"), "0001-01-01T00:00:00.000Z");
  CHECK_STR(ps("9999-12-31T23:59:59.999"), "9999-12-31T23:59:59.999Z");

  /* week dates */
  CHECK_STR(ps("2024-W05"), "2024-01-29T00:00:00.000Z");
  CHECK_STR(ps("2024-W05-3"), "2024-01-31T00:00:00.000Z");
  CHECK_STR(ps("2024W053"), "2024-01-31T00:00:00.000Z");
  CHECK_STR(ps("2024-W01-1"), "2024-01-01T00:00:00.000Z");
  CHECK_STR(ps("2020-W53-5"), "2021-01-01T00:00:00.000Z");
  CHECK_STR(ps("2021-W01-1"), "2021-01-04T00:00:00.000Z");
  CHECK_STR(ps("2019-W01-1"), "2018-12-31T00:00:00.000Z");
  CHECK_STR(ps("2024-W05-3T10:00"), "2024-01-31T10:00:00.000Z");
  CHECK_STR(ps("2024-W00"), "ERR");
  CHECK_STR(ps("2024-W54"), "ERR");
  CHECK_STR(ps("2024-W05-0"), "ERR");
  CHECK_STR(ps("2024-W05-8"), "ERR");
  CHECK_STR(ps("2024-W053"), "ERR");     /* mixed dash use */
  CHECK_STR(ps("2024W05-3"), "ERR");
  CHECK_STR(ps("2024-W5"), "ERR");
  CHECK_STR(ps("2024-W05T10"), "ERR");   /* as dateutil: no time w/o day */

  /* ordinal dates */
  CHECK_STR(ps("2024-032"), "2024-02-01T00:00:00.000Z");
  CHECK_STR(ps("2024032"), "2024-02-01T00:00:00.000Z");
  CHECK_STR(ps("2024-366"), "2024-12-31T00:00:00.000Z");
  CHECK_STR(ps("2023-365"), "2023-12-31T00:00:00.000Z");
  CHECK_STR(ps("2023-366"), "ERR");
  CHECK_STR(ps("2024-000"), "ERR");
  CHECK_STR(ps("2024-032T10:30"), "2024-02-01T10:30:00.000Z");

  /* rejected dates */
  CHECK_STR(ps("202402"), "ERR");
  CHECK_STR(ps("2024/01/03"), "ERR");
  CHECK_STR(ps("2024-2-1"), "ERR");
  CHECK_STR(ps("2024-02-30"), "ERR");
  CHECK_STR(ps(""), "ERR");
  CHECK_STR(ps("2024-13-01"), "ERR");
  CHECK_STR(ps("2024-00-01"), "ERR");
  CHECK_STR(ps("2024-01-00"), "ERR");
  CHECK_STR(ps("2024-13"), "ERR");
  CHECK_STR(ps("2024-0201"), "ERR");
  CHECK_STR(ps("202402-01"), "ERR");
  CHECK_STR(ps("2024-02-1"), "ERR");
  CHECK_STR(ps("2024-02-"), "ERR");
  CHECK_STR(ps("2024-"), "ERR");
  CHECK_STR(ps("202"), "ERR");
  CHECK_STR(ps("0000-01-01"), "ERR");
  CHECK_STR(ps("abcd"), "ERR");
  CHECK_STR(ps("2024-01-03x"), "ERR");
  CHECK_STR(ps("2024-01-03T"), "ERR");
  CHECK_STR(ps(" 2024-01-03"), "ERR");
  CHECK_STR(ps("2024-01-03 "), "ERR");
  CHECK_STR(ps("2024-02T10"), "ERR");
  CHECK_STR(ps("2024T10"), "ERR");
  CHECK_STR(ps("2024-01-03T10:00\xc3\xa9"), "ERR");
  CHECK(!ok_strict("2024-01-0\xc3\xa9"));

  /* leap years */
  CHECK_STR(ps("2024-02-29"), "2024-02-29T00:00:00.000Z");
  CHECK_STR(ps("2023-02-29"), "ERR");
  CHECK_STR(ps("2000-02-29"), "2000-02-29T00:00:00.000Z");
  CHECK_STR(ps("1900-02-29"), "ERR");
  CHECK_STR(ps("2100-02-29"), "ERR");
  CHECK_STR(ps("1600-02-29"), "1600-02-29T00:00:00.000Z");
  CHECK_STR(ps("2024-04-31"), "ERR");
  CHECK_STR(ps("2024-04-30"), "2024-04-30T00:00:00.000Z");
}

static void test_strict_times(void) {
  CHECK_STR(ps("2024-01-03T10"), "2024-01-03T10:00:00.000Z");
  CHECK_STR(ps("2024-01-03T10:30"), "2024-01-03T10:30:00.000Z");
  CHECK_STR(ps("2024-01-03T1030"), "2024-01-03T10:30:00.000Z");
  CHECK_STR(ps("2024-01-03T10:30:15"), "2024-01-03T10:30:15.000Z");
  CHECK_STR(ps("2024-01-03T103015"), "2024-01-03T10:30:15.000Z");
  CHECK_STR(ps("20240103T103015"), "2024-01-03T10:30:15.000Z");
  CHECK_STR(ps("2024-01-03 10:30:15"), "2024-01-03T10:30:15.000Z");
  CHECK_STR(ps("2024-01-03x10:30:15"), "2024-01-03T10:30:15.000Z"); /* any sep */
  CHECK_STR(ps("2024-01-03T10:30:15Z"), "2024-01-03T10:30:15.000Z");
  CHECK_STR(ps("2024-01-03T10:30:15z"), "2024-01-03T10:30:15.000Z");

  /* fractions: truncated past milliseconds */
  CHECK_STR(ps("2024-01-03T10:30:15.5"), "2024-01-03T10:30:15.500Z");
  CHECK_STR(ps("2024-01-03T10:30:15,123"), "2024-01-03T10:30:15.123Z");
  CHECK_STR(ps("2024-01-03T10:30:15.1239"), "2024-01-03T10:30:15.123Z");
  CHECK_STR(ps("2024-01-03T10:30:15.9999999999"), "2024-01-03T10:30:15.999Z");
  CHECK_STR(ps("2024-01-03T103015.25Z"), "2024-01-03T10:30:15.250Z");
  CHECK_STR(ps("2024-01-03T10:30:15.5+01:00"), "2024-01-03T09:30:15.500Z");
  CHECK_STR(ps("2024-01-03T10:30:15."), "ERR");
  CHECK_STR(ps("2024-01-03T10.5"), "ERR");
  CHECK_STR(ps("2024-01-03T10:30.5"), "ERR");

  /* 24:00 */
  CHECK_STR(ps("2024-01-03T24:00:00"), "2024-01-04T00:00:00.000Z");
  CHECK_STR(ps("2024-01-03T24:00"), "2024-01-04T00:00:00.000Z");
  CHECK_STR(ps("2024-01-03T24"), "2024-01-04T00:00:00.000Z");
  CHECK_STR(ps("2024-12-31T24:00:00Z"), "2025-01-01T00:00:00.000Z");
  CHECK_STR(ps("2024-02-28T24:00:00.000"), "2024-02-29T00:00:00.000Z");
  CHECK_STR(ps("2024-01-03T24:00:01"), "ERR");
  CHECK_STR(ps("2024-01-03T24:01"), "ERR");
  CHECK_STR(ps("2024-01-03T24:00:00.001"), "ERR");
  CHECK_STR(ps("9999-12-31T24:00"), "ERR");
  CHECK_STR(ps("9999-12-31T24:00+09:00"), "ERR");  /* local date overflows */
  CHECK_STR(ps("9999-12-31T23:00+09:00"), "9999-12-31T14:00:00.000Z");
  CHECK_STR(ps("9999-12-31T23:00-01:00"), "ERR");

  /* offsets: converted to UTC */
  CHECK_INT(parse_ms("2024-01-03T09:00:00+09:00"),
            parse_ms("2024-01-03T00:00:00Z"));
  CHECK_STR(ps("2024-01-03T09:00:00+09:00"), "2024-01-03T00:00:00.000Z");
  CHECK_STR(ps("2024-01-03T09:00:00+09"), "2024-01-03T00:00:00.000Z");
  CHECK_STR(ps("2024-01-03T09:00:00+0900"), "2024-01-03T00:00:00.000Z");
  CHECK_STR(ps("2024-01-03T00:00:00-05:30"), "2024-01-03T05:30:00.000Z");
  CHECK_STR(ps("2024-01-03T01:00+02:00"), "2024-01-02T23:00:00.000Z");
  CHECK_STR(ps("2024-01-03T10+01"), "2024-01-03T09:00:00.000Z");
  CHECK_STR(ps("2024-01-03T1030-0100"), "2024-01-03T11:30:00.000Z");
  CHECK_STR(ps("2024-01-03T10:30:15-00:00"), "2024-01-03T10:30:15.000Z");
  CHECK_STR(ps("2024-01-03T10:30:15 +09:00"), "ERR");
  CHECK_STR(ps("2024-01-03T10:30:15+9"), "ERR");
  CHECK_STR(ps("2024-01-03T10:30:15+09:0"), "ERR");
  CHECK_STR(ps("2024-01-03T10:30:15+24:00"), "ERR");
  CHECK_STR(ps("2024-01-03T10:30:15+09:60"), "ERR");
  CHECK_STR(ps("2024-01-03T10:30:15+09:00:00"), "ERR");
  CHECK_STR(ps("2024-01-03T10:30:15Zx"), "ERR");
  CHECK_STR(ps("2024-01-03T10:30:15ZZ"), "ERR");
  CHECK_STR(ps("0001-01-01T00:00+01:00"), "ERR");   /* before year 1 in UTC */
  CHECK_STR(ps("0001-01-01T00:00-01:00"), "0001-01-01T01:00:00.000Z");

  /* rejected times */
  CHECK_STR(ps("2024-01-03T25:00"), "ERR");
  CHECK_STR(ps("2024-01-03T10:60"), "ERR");
  CHECK_STR(ps("2024-01-03T10:30:60"), "ERR");
  CHECK_STR(ps("2024-01-03T10:30:61"), "ERR");
  CHECK_STR(ps("2024-01-03T1"), "ERR");
  CHECK_STR(ps("2024-01-03T10:3"), "ERR");
  CHECK_STR(ps("2024-01-03T10:3015"), "ERR");   /* mixed colon use */
  CHECK_STR(ps("2024-01-03T1030:15"), "ERR");
  CHECK_STR(ps("2024-01-03T10:30:15abc"), "ERR");
  CHECK_STR(ps("2024-01-03T10:30:15.5 "), "ERR");
  CHECK_STR(ps("2024-01-03TT10"), "ERR");
}

static void test_lenient(void) {
  CHECK_STR(pl("2024-01-03T10:30:15+09:00"), "2024-01-03T01:30:15.000Z");
  CHECK_STR(pl("  2024-01-03  "), "2024-01-03T00:00:00.000Z");
  CHECK_STR(pl("\t2024-01-03T10:00Z\n"), "2024-01-03T10:00:00.000Z");
  CHECK_STR(pl("2024/01/03"), "2024-01-03T00:00:00.000Z");
  CHECK_STR(pl("2024.01.03"), "2024-01-03T00:00:00.000Z");
  CHECK_STR(pl("2024/1/5"), "2024-01-05T00:00:00.000Z");
  CHECK_STR(pl("2024.1.05"), "2024-01-05T00:00:00.000Z");
  CHECK_STR(pl("2024-1-5"), "2024-01-05T00:00:00.000Z");
  CHECK_STR(pl("2024-12-5"), "2024-12-05T00:00:00.000Z");
  CHECK_STR(pl("2024/01/03 10:30"), "2024-01-03T10:30:00.000Z");
  CHECK_STR(pl("2024/01/03T10:30:15.5Z"), "2024-01-03T10:30:15.500Z");
  CHECK_STR(pl("2024/1/3 10:30:15+09:00"), "2024-01-03T01:30:15.000Z");
  CHECK_STR(pl("2024.01.03 24:00"), "2024-01-04T00:00:00.000Z");
  CHECK_STR(pl(" 2024-1-5 1030 "), "2024-01-05T10:30:00.000Z");
  CHECK_STR(pl("2024/2/29"), "2024-02-29T00:00:00.000Z");
  CHECK_STR(pl("2023/2/29"), "ERR");
  CHECK_STR(pl("2024/13/01"), "ERR");
  CHECK_STR(pl("2024/01-03"), "ERR");
  CHECK_STR(pl("2024/001/03"), "ERR");
  CHECK_STR(pl("2024/01/03x10:30"), "ERR");
  CHECK_STR(pl("2024/01/03 10:30 +09:00"), "ERR");
  CHECK_STR(pl("2024/01/03 "), "2024-01-03T00:00:00.000Z");
  CHECK_STR(pl("2024/01/03 25:00"), "ERR");
  CHECK_STR(pl("2024/01"), "ERR");
  CHECK_STR(pl("garbage"), "ERR");
  CHECK_STR(pl("Jan 5"), "ERR");
  CHECK_STR(pl(""), "ERR");
  CHECK_STR(pl("   "), "ERR");
  CHECK_STR(pl("0000/01/01"), "ERR");
  CHECK(ok_lenient("2024-W05-3"));
  CHECK(ok_lenient("2024-032"));
  CHECK(!ok_lenient("202402"));
}

static void test_format(void) {
  CHECK_STR(fmt(0), "1970-01-01T00:00:00.000Z");
  CHECK_STR(fmt_sec(0), "1970-01-01T00:00:00Z");
  CHECK_STR(fmt(1), "1970-01-01T00:00:00.001Z");
  CHECK_STR(fmt(-1), "1969-12-31T23:59:59.999Z");
  CHECK_STR(fmt_sec(-1), "1969-12-31T23:59:59Z");
  CHECK_STR(fmt(-1000), "1969-12-31T23:59:59.000Z");
  CHECK_STR(fmt(-1001), "1969-12-31T23:59:58.999Z");
  CHECK_STR(fmt_sec(-999), "1969-12-31T23:59:59Z");
  CHECK_STR(fmt(-86400000), "1969-12-31T00:00:00.000Z");
  CHECK_STR(fmt(-86400001), "1969-12-30T23:59:59.999Z");
  CHECK_STR(fmt(NOW_MS), "2024-01-04T12:00:00.000Z");
  CHECK_STR(fmt_sec(NOW_MS + 999), "2024-01-04T12:00:00Z");
  CHECK_STR(fmt(INT64_C(-62135596800000)), "0001-01-01T00:00:00.000Z");
  CHECK_STR(fmt(INT64_C(253402300799999)), "9999-12-31T23:59:59.999Z");
  CHECK_STR(fmt(INT64_C(951782400000)), "2000-02-29T00:00:00.000Z");
  CHECK(strlen(fmt(INT64_MIN)) < 32);
  CHECK(strlen(fmt(INT64_MAX)) < 32);

  CHECK_STR(ps("1969-12-31T23:59:59.999Z"), "1969-12-31T23:59:59.999Z");
  CHECK_INT(parse_ms("1969-12-31T23:59:59.998Z"), -2);
  CHECK_INT(parse_ms("1900-01-01"), INT64_C(-2208988800000));
  CHECK_INT(parse_ms("2024-01-04T12:00:00Z"), NOW_MS);

  {
    int y = 0, m = 0, d = 0;
    inv_time_parts(NOW_MS, &y, &m, &d);
    CHECK_INT(y, 2024);
    CHECK_INT(m, 1);
    CHECK_INT(d, 4);
    inv_time_parts(-1, &y, &m, &d);
    CHECK_INT(y, 1969);
    CHECK_INT(m, 12);
    CHECK_INT(d, 31);
    inv_time_parts(parse_ms("0001-01-01"), &y, &m, &d);
    CHECK_INT(y, 1);
    CHECK_INT(m, 1);
    CHECK_INT(d, 1);
    inv_time_parts(parse_ms("9999-12-31T23:59:59.999"), &y, &m, &d);
    CHECK_INT(y, 9999);
    CHECK_INT(m, 12);
    CHECK_INT(d, 31);
  }

  /* round trip of a day every ~97 days across the whole range */
  {
    int64_t ms, bad = 0;
    char z[32];
    for (ms = INT64_C(-62135596800000); ms <= INT64_C(253402300799999);
         ms += INT64_C(8380800123)) {
      int64_t back = 0;
      inv_time_format(ms, z);
      if (inv_time_parse_strict(z, strlen(z), &back) || back != ms) bad++;
    }
    CHECK_INT(bad, 0);
  }
}

static void test_strftime(void) {
  const char *zThu = "2024-01-04T12:34:56.789Z";
  CHECK_STR(sf("%Y-%m-%d %H:%M:%S.%L", zThu), "2024-01-04 12:34:56.789");
  CHECK_STR(sf("%w", zThu), "5");
  CHECK_STR(sf("%u", zThu), "4");
  CHECK_STR(sf("%V", zThu), "01");
  CHECK_STR(sf("%j", zThu), "004");
  CHECK_STR(sf("%G", zThu), "2024");
  CHECK_STR(sf("%U", zThu), "00");      /* first Sunday is Jan 7 */
  CHECK_STR(sf("%z", zThu), "+0000");
  CHECK_STR(sf("%Z", zThu), "+0");
  CHECK_STR(sf("%%", zThu), "%");
  CHECK_STR(sf("100%% at %H", zThu), "100% at 12");
  CHECK_STR(sf("%q%Y", zThu), "%q2024");
  CHECK_STR(sf("x%", zThu), "x%");
  CHECK_STR(sf("%", zThu), "%");
  CHECK_STR(sf("", zThu), "");
  CHECK_STR(sf("plain", zThu), "plain");
  CHECK_STR(sf("%Y%", zThu), "2024%");

  /* the check the stat compiler runs first: MongoDB refuses these when parsing */
  {
    char zErr[160];
    CHECK(inv_time_format_check("%Y-%m-%d %H:%M:%S.%L %j %w %u %U %V %G %z %Z %%", 47, zErr, sizeof zErr) == 0);
    CHECK(inv_time_format_check("", 0, zErr, sizeof zErr) == 0);
    CHECK(inv_time_format_check("100%% plain", 11, zErr, sizeof zErr) == 0);
    CHECK(inv_time_format_check("%q%Y", 4, zErr, sizeof zErr) == 1);
    CHECK_STR(zErr, "%q is not a format specifier; use %Y, %m, %d, %H, %M, %S, %L, %j, %w, %u, "
                    "%U, %V, %G, %z, %Z or %%");
    CHECK(inv_time_format_check("%Y%", 3, zErr, sizeof zErr) == 1);
    CHECK_STR(zErr, "it ends with a lone %; write %% for a % sign");
    CHECK(inv_time_format_check("%%%", 3, zErr, sizeof zErr) == 1);   /* %% then a lone % */
    CHECK(inv_time_format_check("%b", 2, zErr, sizeof zErr) == 1);    /* server-version dependent */
    CHECK(inv_time_format_check("%\0Y", 3, zErr, sizeof zErr) == 1); /* a NUL is no specifier */
    CHECK(strncmp(zErr, "% followed by byte 0x00 is not a format specifier; use %Y", 57) == 0);
    CHECK(inv_time_format_check("%Y", 1, zErr, sizeof zErr) == 1);    /* n bounds the string */
  }

  /* Sunday / Monday boundaries */
  CHECK_STR(sf("%w %u %U %V %G", "2024-01-07"), "1 7 01 01 2024");
  CHECK_STR(sf("%w %u %U %V %G", "2024-01-08"), "2 1 01 02 2024");
  CHECK_STR(sf("%w %u %U %V %G", "2024-01-06"), "7 6 00 01 2024");
  /* ISO year differs from the calendar year */
  CHECK_STR(sf("%G-W%V-%u %j", "2021-01-01"), "2020-W53-5 001");
  CHECK_STR(sf("%G-W%V-%u", "2024-12-30"), "2025-W01-1");
  CHECK_STR(sf("%G-W%V-%u", "2023-01-01"), "2022-W52-7");
  CHECK_STR(sf("%G-W%V-%u", "2020-12-31"), "2020-W53-4");
  CHECK_STR(sf("%j %U", "2024-12-31"), "366 52");
  CHECK_STR(sf("%j %U", "2023-12-31"), "365 53");   /* Sunday */
  CHECK_STR(sf("%j", "2023-03-01"), "060");
  CHECK_STR(sf("%j", "2024-03-01"), "061");
  CHECK_STR(sf("%Y-%m-%dT%H:%M:%S.%L", "0001-01-01"), "0001-01-01T00:00:00.000");
  CHECK_STR(sf("%w %u", "0001-01-01"), "2 1");       /* a Monday */
  CHECK_STR(sf("%w %u", "1970-01-01"), "5 4");       /* a Thursday */
  CHECK_STR(sf("%Y %H:%M:%S.%L", "1969-12-31T23:59:59.999"),
            "1969 23:59:59.999");
}

static void test_timediff(void) {
  CHECK_STR(td("now"), "2024-01-04T12:00:00.000Z");
  CHECK_STR(td("now-2d"), "2024-01-02T12:00:00.000Z");
  CHECK_STR(td("now-5d"), "2023-12-30T12:00:00.000Z");
  CHECK_STR(td("now/d"), "2024-01-04T00:00:00.000Z");
  CHECK_STR(td("now/w"), "2024-01-01T00:00:00.000Z");
  CHECK_STR(td("now/m"), "2024-01-01T00:00:00.000Z");
  CHECK_STR(td("now/m-1d"), "2023-12-31T00:00:00.000Z");
  CHECK_STR(td("now/d+1d"), "2024-01-05T00:00:00.000Z");
  CHECK_STR(td("now-10m"), "2024-01-04T11:50:00.000Z");
  CHECK_STR(td("now - 2h"), "2024-01-04T10:00:00.000Z");
  CHECK_STR(td(" now/m "), "2024-01-01T00:00:00.000Z");
  CHECK_STR(td("   now/d\t\t"), "2024-01-04T00:00:00.000Z");
  CHECK_STR(td("now+0s"), "2024-01-04T12:00:00.000Z");
  CHECK_STR(td("now+30s"), "2024-01-04T12:00:30.000Z");
  CHECK_STR(td("now+1w"), "2024-01-11T12:00:00.000Z");
  CHECK_STR(td("now|1h"), "2024-01-04T11:00:00.000Z");  /* '|' acts as '-' */
  CHECK_STR(td(" now -1d "), "2024-01-03T12:00:00.000Z");
  CHECK_STR(td("now-\t1d"), "2024-01-03T12:00:00.000Z");
  CHECK_STR(td("now/w-1w"), "2023-12-25T00:00:00.000Z");
  CHECK_STR(td("now-0000002d"), "2024-01-02T12:00:00.000Z");

  CHECK_STR(td("now-5y"), "ERR");
  CHECK_STR(td("now-1M"), "ERR");
  CHECK_STR(td("NOW-1d"), "ERR");
  CHECK_STR(td("Now"), "ERR");
  CHECK_STR(td("now-2H"), "ERR");
  CHECK_STR(td("now  -2h"), "ERR");
  CHECK_STR(td("now-  2h"), "ERR");
  CHECK_STR(td("  now-2h"), "ERR");
  CHECK_STR(td("now-2h  "), "ERR");
  CHECK_STR(td("now-1.5d"), "ERR");
  CHECK_STR(td("now-1|"), "ERR");
  CHECK_STR(td("now/y"), "ERR");
  CHECK_STR(td("now/"), "ERR");
  CHECK_STR(td("now/D"), "ERR");
  CHECK_STR(td(""), "ERR");
  CHECK_STR(td("   "), "ERR");
  CHECK_STR(td("now-"), "ERR");
  CHECK_STR(td("now-d"), "ERR");
  CHECK_STR(td("now-1"), "ERR");
  CHECK_STR(td("now1d"), "ERR");
  CHECK_STR(td("now+-1d"), "ERR");
  CHECK_STR(td("now-1dd"), "ERR");
  CHECK_STR(td("now-1d now"), "ERR");
  CHECK_STR(td("-1d"), "ERR");
  CHECK_STR(td("nowx"), "ERR");
  CHECK_STR(td("now-99999999999999999999d"), "ERR");   /* overflows int64 */
  CHECK_STR(td("now+9223372036854775807s"), "ERR");
  CHECK_STR(td("now-9223372036854775807w"), "ERR");
  CHECK_STR(td("now+100000000d"), "ERR");              /* past year 9999 */

  /* the base follows the given clock, not the real one; and a real clock */
  {
    int64_t ms = 0, now = inv_time_now();
    CHECK(now > INT64_C(1704067200000));   /* after 2024-01-01 */
    CHECK(inv_timediff_eval("now/w", 5, INT64_C(1704585600000), &ms) == 0);
    CHECK_STR(fmt(ms), "2024-01-01T00:00:00.000Z");   /* from a Sunday */
    CHECK(inv_timediff_eval("now/w", 5, INT64_C(1704672000000), &ms) == 0);
    CHECK_STR(fmt(ms), "2024-01-08T00:00:00.000Z");   /* from a Monday */
    CHECK(inv_timediff_eval("now/d", 5, INT64_C(-1), &ms) == 0);
    CHECK_STR(fmt(ms), "1969-12-31T00:00:00.000Z");   /* negative now */
    CHECK(inv_timediff_eval("now/m", 5, INT64_C(-1), &ms) == 0);
    CHECK_STR(fmt(ms), "1969-12-01T00:00:00.000Z");
    CHECK(inv_timediff_eval("now-1d", 4, NOW_MS, &ms) != 0);  /* n honoured */
    CHECK(inv_timediff_eval("now/w", 5, INT64_MIN, &ms) != 0);
    CHECK(inv_timediff_eval("now/d", 5, INT64_MAX, &ms) != 0);
  }
}

/* The canonical form ("YYYY-MM-DDTHH:MM:SS[.mmm]Z", what imports of exported
** records hold) is read by a fast path; the same text behind a space goes
** through the general parser: both must agree, and near-misses must fall
** through to it (or be refused by both). */
static void test_canonical_fast_path(void) {
  static const char *const azOdd[] = {
    "2024-02-29T23:59:59.999Z", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z",
    "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z", "2024-01-01T23:59:60Z",
    "0000-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z",
    "2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00.12Z", "2024-01-01t00:00:00Z",
    "2024-01-01T00:00:00z", "2024-01-01T0a:00:00Z", "2024-01-01T00:00:00.00aZ",
    "2024-01-01 00:00:00Z", "2024-01-01T00:00:00+00:00", "2024/01/01T00:00:00.000Z", NULL
  };
  int64_t ms;
  int i, nSame = 0, nTried = 0;
  for (ms = INT64_C(-62135596800000); ms < INT64_C(253402300799999); ms += INT64_C(7777777777) + ms % 997) {
    char z[40], zSp[48];
    int64_t a = 0, b = 0;
    int ra, rb;
    inv_time_format(ms, z);
    snprintf(zSp, sizeof zSp, " %s", z);
    ra = inv_time_parse_lenient(z, strlen(z), &a);
    rb = inv_time_parse_lenient(zSp, strlen(zSp), &b);
    nTried++;
    if (ra == 0 && rb == 0 && a == b && a == ms) nSame++;
  }
  CHECK(nTried > 30000);
  CHECK(nSame == nTried);
  for (i = 0; azOdd[i]; i++) {
    char zSp[48];
    int64_t a = 0, b = 0;
    int ra, rb;
    snprintf(zSp, sizeof zSp, " %s", azOdd[i]);
    ra = inv_time_parse_lenient(azOdd[i], strlen(azOdd[i]), &a);
    rb = inv_time_parse_lenient(zSp, strlen(zSp), &b);
    CHECK(ra == rb && (ra != 0 || a == b));
  }
}

void test_time(void) {
  test_canonical_fast_path();
  test_strict_dates();
  test_strict_times();
  test_lenient();
  test_format();
  test_strftime();
  test_timediff();
}
