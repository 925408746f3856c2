/*
** inv_time.c: ISO 8601 parse/format, a $dateToString-like strftime and the
** timediff grammar. Everything is UTC; the calendar is proleptic Gregorian
** and computed here (days-from-civil / civil-from-days), so nothing depends
** on the process timezone or locale.
**
** Instants are int64 milliseconds since 1970-01-01T00:00:00Z. Parsers only
** produce instants in years 0001..9999; the formatters accept any int64.
*/
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "inv_val.h"

#define MS_PER_SEC  INT64_C(1000)
#define MS_PER_MIN  INT64_C(60000)
#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY  INT64_C(86400000)

/* 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z */
#define MIN_MS INT64_C(-62135596800000)
#define MAX_MS INT64_C(253402300799999)

/* ===================== calendar math ===================== */

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b) != 0 && ((a < 0) != (b < 0))) q--;
  return q;
}

static int64_t floor_mod(int64_t a, int64_t b) {
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

static int isLeap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int daysInMonth(int64_t y, int m) {
  static const unsigned char aDays[12] =
      {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && isLeap(y)) return 29;
  return aDays[m - 1];
}

/* Days since 1970-01-01 of y-m-d (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = floor_div(y, 400);
  yoe = y - era * 400;                                   /* [0, 399] */
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  /* [0, 365] */
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil. */
static void civilFromDays(int64_t z, int64_t *pY, int *pM, int *pD) {
  int64_t era, doe, yoe, y, doy, mp;
  z += 719468;
  era = floor_div(z, 146097);
  doe = z - era * 146097;                                       /* [0, 146096] */
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  /* [0, 399] */
  y = yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                /* [0, 365] */
  mp = (5 * doy + 2) / 153;                                     /* [0, 11] */
  *pD = (int)(doy - (153 * mp + 2) / 5 + 1);
  *pM = (int)(mp < 10 ? mp + 3 : mp - 9);
  *pY = y + (*pM <= 2);
}

/* ISO day of week of a day number: 1 = Monday .. 7 = Sunday. */
static int isoDow(int64_t days) {
  return (int)floor_mod(days + 3, 7) + 1;     /* 1970-01-01 was a Thursday */
}

/* Broken-down UTC time of an instant (any int64). */
typedef struct inv_tm inv_tm;
struct inv_tm {
  int64_t days;            /* since 1970-01-01 */
  int64_t year;
  int mon, mday;           /* 1-based */
  int hour, min, sec, ms;
};

static void splitMs(int64_t ms, inv_tm *t) {
  int64_t r = floor_mod(ms, MS_PER_DAY);
  t->days = floor_div(ms, MS_PER_DAY);
  civilFromDays(t->days, &t->year, &t->mon, &t->mday);
  t->hour = (int)(r / MS_PER_HOUR);
  t->min = (int)(r / MS_PER_MIN % 60);
  t->sec = (int)(r / MS_PER_SEC % 60);
  t->ms = (int)(r % MS_PER_SEC);
}

/* ===================== small text helpers ===================== */

static int isDigit(char c) { return c >= '0' && c <= '9'; }

static int isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
      || c == '\v';
}

/* Exactly nDigit decimal digits at z[i..]; -1 if not all digits/too short. */
static int readDigits(const char *z, size_t n, size_t i, int nDigit) {
  int v = 0;
  size_t k;
  if (i > n || n - i < (size_t)nDigit) return -1;
  for (k = 0; k < (size_t)nDigit; k++) {
    if (!isDigit(z[i + k])) return -1;
    v = v * 10 + (z[i + k] - '0');
  }
  return v;
}

/* Write v zero-padded to at least nWidth digits (with '-' if negative) at p;
** returns the number of chars written (at most 21). */
static int putNum(char *p, int64_t v, int nWidth) {
  char aTmp[24];
  int nTmp = 0, nOut = 0;
  uint64_t u;
  if (v < 0) {
    p[nOut++] = '-';
    u = (uint64_t)0 - (uint64_t)v;
  } else {
    u = (uint64_t)v;
  }
  do {
    aTmp[nTmp++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u != 0);
  while (nTmp < nWidth) aTmp[nTmp++] = '0';
  while (nTmp > 0) p[nOut++] = aTmp[--nTmp];
  return nOut;
}

/* ===================== parsing ===================== */

/* Range checks shared by the parsers. */
static int validYmd(int64_t y, int m, int d) {
  return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1
      && d <= daysInMonth(y, m);
}

/*
** Time of day after the date separator, as dateutil's _parse_isotime:
** hh, hh:mm, hhmm, hh:mm:ss, hhmmss, then an optional fraction ([.,]digits,
** only after seconds), then an optional offset (Z z +hh +hhmm +hh:mm).
** The colon style must be consistent. On success *pTod is the local time
** of day (24:00 gives 86400000) and *pOff the UTC offset, both in ms.
*/
static int parseTime(const char *z, size_t n, int64_t *pTod, int64_t *pOff) {
  size_t i = 0;
  int h, mi = 0, s = 0, us = 0, bColon = 0;
  int64_t off = 0;

  if (n < 2) return -1;
  h = readDigits(z, n, 0, 2);
  if (h < 0) return -1;
  i = 2;
  if (i < n && z[i] != 'Z' && z[i] != 'z' && z[i] != '+' && z[i] != '-') {
    if (z[i] == ':') { bColon = 1; i++; }
    mi = readDigits(z, n, i, 2);
    if (mi < 0) return -1;
    i += 2;
    if (i < n && z[i] != 'Z' && z[i] != 'z' && z[i] != '+' && z[i] != '-') {
      if (bColon) {
        if (z[i] != ':') return -1;
        i++;
      }
      s = readDigits(z, n, i, 2);
      if (s < 0) return -1;
      i += 2;
      if (i + 1 < n && (z[i] == '.' || z[i] == ',') && isDigit(z[i + 1])) {
        int nFrac = 0;
        i++;
        while (i < n && isDigit(z[i])) {
          if (nFrac < 6) { us = us * 10 + (z[i] - '0'); nFrac++; }
          i++;
        }
        while (nFrac < 6) { us *= 10; nFrac++; }
      }
    }
  }

  if (i < n) {                       /* what remains must be an offset */
    size_t nTz = n - i;
    const char *zTz = z + i;
    int oh, om = 0;
    if (nTz == 1 && (zTz[0] == 'Z' || zTz[0] == 'z')) {
      off = 0;
    } else {
      if (zTz[0] != '+' && zTz[0] != '-') return -1;
      if (nTz != 3 && nTz != 5 && nTz != 6) return -1;
      oh = readDigits(zTz, nTz, 1, 2);
      if (oh < 0) return -1;
      if (nTz == 5) {
        om = readDigits(zTz, nTz, 3, 2);
      } else if (nTz == 6) {
        if (zTz[3] != ':') return -1;
        om = readDigits(zTz, nTz, 4, 2);
      }
      if (om < 0 || oh > 23 || om > 59) return -1;
      off = oh * MS_PER_HOUR + om * MS_PER_MIN;
      if (zTz[0] == '-') off = -off;
    }
  }

  if (h == 24) {
    if (mi != 0 || s != 0 || us != 0) return -1;
  } else if (h > 23) {
    return -1;
  }
  if (mi > 59 || s > 59) return -1;
  *pTod = h * MS_PER_HOUR + mi * MS_PER_MIN + s * MS_PER_SEC + us / 1000;
  *pOff = off;
  return 0;
}

/* Instant of a local day number + time of day + offset. Like Python's
** datetime, the local date-time (24:00 already rolled over) must lie in
** years 0001..9999, and so must the UTC instant. */
static int combine(int64_t days, int64_t tod, int64_t off, int64_t *pMs) {
  int64_t ms = days * MS_PER_DAY + tod;
  if (ms < MIN_MS || ms > MAX_MS) return -1;
  ms -= off;
  if (ms < MIN_MS || ms > MAX_MS) return -1;
  *pMs = ms;
  return 0;
}

/* Combine a day number and the rest of the string (separator + time, or
** nothing) into an instant within the supported range. */
static int finish(const char *z, size_t n, size_t i, int64_t days,
                  int64_t *pMs) {
  int64_t tod = 0, off = 0;
  if (i < n) {
    /* one separator character of any kind, then the time */
    if (parseTime(z + i + 1, n - i - 1, &tod, &off)) return -1;
  }
  return combine(days, tod, off, pMs);
}

/* ISO week date to a day number: Monday of week 1 is the Monday of the week
** holding January 4th. Like dateutil, weeks 1..53 are accepted in any year. */
static int64_t week_date_days(int64_t y, int w, int d) {
  int64_t jan4 = days_from_civil(y, 1, 4);
  int64_t week1 = jan4 - (isoDow(jan4) - 1);
  return week1 + (int64_t)(w - 1) * 7 + (d - 1);
}

int inv_time_parse_strict(const char *z, size_t n, int64_t *pMs) {
  size_t i;
  int y, m, d, bSep;

  for (i = 0; i < n; i++) {
    if ((unsigned char)z[i] >= 0x80) return -1;   /* ASCII only */
  }
  y = readDigits(z, n, 0, 4);
  if (y < 1) return -1;                            /* also rejects year 0 */
  i = 4;
  if (i == n) return finish(z, n, i, days_from_civil(y, 1, 1), pMs);

  bSep = z[i] == '-';
  if (bSep) i++;

  if (i < n && z[i] == 'W') {                      /* week date */
    int w, wd = 1;
    w = readDigits(z, n, i + 1, 2);
    if (w < 0) return -1;
    i += 3;
    if (i < n) {
      if ((z[i] == '-') != bSep) return -1;      /* inconsistent dashes */
      if (bSep) i++;
      wd = readDigits(z, n, i, 1);
      if (wd < 0) return -1;
      i++;
    }
    if (w < 1 || w > 53 || wd < 1 || wd > 7) return -1;
    return finish(z, n, i, week_date_days(y, w, wd), pMs);
  }

  /* calendar date: YYYY-MM, YYYY-MM-DD, YYYYMMDD */
  m = readDigits(z, n, i, 2);
  if (m >= 0) {
    size_t j = i + 2;
    if (j == n) {
      if (bSep) {
        if (!validYmd(y, m, 1)) return -1;
        return finish(z, n, j, days_from_civil(y, m, 1), pMs);
      }
      return -1;                                   /* YYYYMM */
    }
    if (!bSep || z[j] == '-') {
      if (bSep) j++;
      d = readDigits(z, n, j, 2);
      if (d >= 0) {
        if (!validYmd(y, m, d)) return -1;
        return finish(z, n, j + 2, days_from_civil(y, m, d), pMs);
      }
      if (bSep) return -1;                         /* YYYY-MM-x */
    }
  }

  /* ordinal date: YYYY-DDD, YYYYDDD */
  d = readDigits(z, n, i, 3);
  if (d < 1 || d > 365 + isLeap(y)) return -1;
  return finish(z, n, i + 3, days_from_civil(y, 1, 1) + (d - 1), pMs);
}

/* 1 or 2 digits at z[*pi]; -1 if none. */
static int read1or2(const char *z, size_t n, size_t *pi) {
  size_t i = *pi;
  int v;
  if (i >= n || !isDigit(z[i])) return -1;
  v = z[i++] - '0';
  if (i < n && isDigit(z[i])) v = v * 10 + (z[i++] - '0');
  *pi = i;
  return v;
}

/* The form this library answers, "YYYY-MM-DDTHH:MM:SSZ" or with ".mmm"
** before the Z (what an import of exported records holds), read directly:
** the same instant as inv_time_parse_strict gives it. -1: not this form (or
** not plainly valid), for the general parser to decide. */
static int parseCanonical(const char *z, size_t n, int64_t *pMs) {
  static const unsigned char aDigit[24] = {   /* 1: a digit at this position */
    1,1,1,1,0,1,1,0,1,1,0,1,1,0,1,1,0,1,1,0,1,1,1,0
  };
  int y, mo, d, h, mi, sec, ms = 0;
  size_t i;
  if ((n != 20 && n != 24) || z[4] != '-' || z[7] != '-' || z[10] != 'T' || z[13] != ':'
      || z[16] != ':' || z[n - 1] != 'Z' || (n == 24 && z[19] != '.')) return -1;
  for (i = 0; i < n - 1; i++) {
    if (aDigit[i] && !isDigit(z[i])) return -1;
  }
  y = (z[0] - '0') * 1000 + (z[1] - '0') * 100 + (z[2] - '0') * 10 + (z[3] - '0');
  mo = (z[5] - '0') * 10 + (z[6] - '0');
  d = (z[8] - '0') * 10 + (z[9] - '0');
  h = (z[11] - '0') * 10 + (z[12] - '0');
  mi = (z[14] - '0') * 10 + (z[15] - '0');
  sec = (z[17] - '0') * 10 + (z[18] - '0');
  if (n == 24) ms = (z[20] - '0') * 100 + (z[21] - '0') * 10 + (z[22] - '0');
  if (!validYmd(y, mo, d) || h > 23 || mi > 59 || sec > 59) return -1;
  return combine(days_from_civil(y, mo, d), h * MS_PER_HOUR + mi * MS_PER_MIN + sec * MS_PER_SEC + ms,
                 0, pMs);
}

int inv_time_parse_lenient(const char *z, size_t n, int64_t *pMs) {
  size_t i;
  int y, m, d;
  char cSep;
  int64_t tod = 0, off = 0;

  if (parseCanonical(z, n, pMs) == 0) return 0;
  while (n > 0 && isSpace(z[0])) { z++; n--; }
  while (n > 0 && isSpace(z[n - 1])) n--;
  if (inv_time_parse_strict(z, n, pMs) == 0) return 0;

  /* YYYY/M/D, YYYY.M.D, YYYY-M-D (1 or 2 digits), then [ T]time */
  y = readDigits(z, n, 0, 4);
  if (y < 1 || n < 5) return -1;
  cSep = z[4];
  if (cSep != '-' && cSep != '/' && cSep != '.') return -1;
  i = 5;
  m = read1or2(z, n, &i);
  if (m < 0 || i >= n || z[i] != cSep) return -1;
  i++;
  d = read1or2(z, n, &i);
  if (d < 0 || !validYmd(y, m, d)) return -1;
  if (i < n) {
    if (z[i] != ' ' && z[i] != 'T') return -1;
    if (parseTime(z + i + 1, n - i - 1, &tod, &off)) return -1;
  }
  return combine(days_from_civil(y, m, d), tod, off, pMs);
}

/* ===================== formatting ===================== */

/* "YYYY-MM-DDTHH:MM:SS" into p; returns its length. Years outside
** 0..9999 get more digits / a sign (at most 30 chars with ".mmmZ"). */
static int putDatetime(char *p, const inv_tm *t) {
  int k = putNum(p, t->year, 4);
  p[k++] = '-';
  k += putNum(p + k, t->mon, 2);
  p[k++] = '-';
  k += putNum(p + k, t->mday, 2);
  p[k++] = 'T';
  k += putNum(p + k, t->hour, 2);
  p[k++] = ':';
  k += putNum(p + k, t->min, 2);
  p[k++] = ':';
  k += putNum(p + k, t->sec, 2);
  return k;
}

static void put2(char *p, int v) { p[0] = (char)('0' + v / 10); p[1] = (char)('0' + v % 10); }

void inv_time_format(int64_t ms, char zOut[32]) {
  inv_tm t;
  int k;
  splitMs(ms, &t);
  if (t.year >= 0 && t.year <= 9999) {      /* the hot path of every rendered row */
    int y = (int)t.year;
    put2(zOut, y / 100); put2(zOut + 2, y % 100);
    zOut[4] = '-'; put2(zOut + 5, t.mon);
    zOut[7] = '-'; put2(zOut + 8, t.mday);
    zOut[10] = 'T'; put2(zOut + 11, t.hour);
    zOut[13] = ':'; put2(zOut + 14, t.min);
    zOut[16] = ':'; put2(zOut + 17, t.sec);
    zOut[19] = '.'; zOut[20] = (char)('0' + t.ms / 100); put2(zOut + 21, t.ms % 100);
    zOut[23] = 'Z'; zOut[24] = 0;
    return;
  }
  k = putDatetime(zOut, &t);
  zOut[k++] = '.';
  k += putNum(zOut + k, t.ms, 3);
  zOut[k++] = 'Z';
  zOut[k] = 0;
}

void inv_time_format_sec(int64_t ms, char zOut[32]) {
  inv_tm t;
  int k;
  splitMs(ms, &t);
  k = putDatetime(zOut, &t);
  zOut[k++] = 'Z';
  zOut[k] = 0;
}

void inv_time_parts(int64_t ms, int *pYear, int *pMonth, int *pDay) {
  inv_tm t;
  splitMs(ms, &t);
  if (pYear) *pYear = (int)t.year;    /* |year| < 3e8 for any int64 ms */
  if (pMonth) *pMonth = t.mon;
  if (pDay) *pDay = t.mday;
}

static void bufNum(inv_buf *b, int64_t v, int nWidth) {
  char a[24];
  int k = putNum(a, v, nWidth);
  inv_buf_add(b, a, (size_t)k);
}

int inv_time_format_check(const char *zFmt, size_t n, char *zErr, size_t nErr) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (zFmt[i] != '%') continue;
    if (i + 1 == n) {
      snprintf(zErr, nErr, "it ends with a lone %%; write %%%% for a %% sign");
      return 1;
    }
    if (!strchr("YmdHMSLjwuUVGzZ%", zFmt[i + 1]) || zFmt[i + 1] == 0) {
      unsigned char c = (unsigned char)zFmt[i + 1];
      static const char zKnown[] = "use %Y, %m, %d, %H, %M, %S, %L, %j, %w, %u, %U, %V, %G, "
                                   "%z, %Z or %%";
      if (c >= 0x20 && c < 0x7f) {
        snprintf(zErr, nErr, "%%%c is not a format specifier; %s", c, zKnown);
      } else {
        snprintf(zErr, nErr, "%% followed by byte 0x%02x is not a format specifier; %s", c, zKnown);
      }
      return 1;
    }
    i++;
  }
  return 0;
}

void inv_time_strftime(inv_buf *b, const char *zFmt, int64_t ms) {
  inv_tm t;
  const char *zRun = zFmt;     /* start of pending literal text */
  const char *p = zFmt;
  int64_t jan1;
  int yday;                    /* 0-based day of year */

  splitMs(ms, &t);
  jan1 = days_from_civil(t.year, 1, 1);
  yday = (int)(t.days - jan1);

  while (*p) {
    char c;
    if (*p != '%') { p++; continue; }
    if (p[1] == 0) break;      /* trailing lone '%': copied with the rest */
    if (p > zRun) inv_buf_add(b, zRun, (size_t)(p - zRun));
    c = p[1];
    switch (c) {
      case 'Y': bufNum(b, t.year, 4); break;
      case 'm': bufNum(b, t.mon, 2); break;
      case 'd': bufNum(b, t.mday, 2); break;
      case 'H': bufNum(b, t.hour, 2); break;
      case 'M': bufNum(b, t.min, 2); break;
      case 'S': bufNum(b, t.sec, 2); break;
      case 'L': bufNum(b, t.ms, 3); break;
      case 'j': bufNum(b, yday + 1, 3); break;
      case 'w': bufNum(b, isoDow(t.days) % 7 + 1, 1); break;
      case 'u': bufNum(b, isoDow(t.days), 1); break;
      case 'U': {
        int wday = isoDow(t.days) % 7;          /* 0 = Sunday */
        bufNum(b, (yday + 7 - wday) / 7, 2);
        break;
      }
      case 'V':
      case 'G': {
        /* the ISO week belongs to the year holding its Thursday */
        int64_t thu = t.days - isoDow(t.days) + 4, gy;
        int gm, gd;
        civilFromDays(thu, &gy, &gm, &gd);
        if (c == 'G') {
          bufNum(b, gy, 4);
        } else {
          bufNum(b, (thu - days_from_civil(gy, 1, 1)) / 7 + 1, 2);
        }
        break;
      }
      case 'z': inv_buf_add(b, "+0000", 5); break;
      case 'Z': inv_buf_add(b, "+0", 2); break;   /* minutes east of UTC, signed (MongoDB) */
      case '%': inv_buf_addc(b, '%'); break;
      default: inv_buf_add(b, p, 2); break;       /* unknown: as is */
    }
    p += 2;
    zRun = p;
  }
  while (*p) p++;
  if (p > zRun) inv_buf_add(b, zRun, (size_t)(p - zRun));
}

/* ===================== timediff ===================== */

/* Base instant for "now", "now/d", "now/w", "now/m" at z[*pi]; -1 if none. */
static int timediffBase(const char *z, size_t n, size_t *pi, int64_t nowMs,
                         int64_t *pBase) {
  size_t i = *pi;
  int64_t days = floor_div(nowMs, MS_PER_DAY);
  if (n - i < 3 || z[i] != 'n' || z[i + 1] != 'o' || z[i + 2] != 'w') {
    return -1;
  }
  i += 3;
  if (i < n && z[i] == '/') {
    int64_t y;
    int m, d;
    if (i + 1 >= n) return -1;
    switch (z[i + 1]) {
      case 'd': *pBase = days * MS_PER_DAY; break;
      case 'w': *pBase = (days - (isoDow(days) - 1)) * MS_PER_DAY; break;
      case 'm':
        civilFromDays(days, &y, &m, &d);
        *pBase = days_from_civil(y, m, 1) * MS_PER_DAY;
        break;
      default: return -1;
    }
    i += 2;
  } else {
    *pBase = nowMs;
  }
  *pi = i;
  return 0;
}

int inv_timediff_eval(const char *z, size_t n, int64_t nowMs, int64_t *pMs) {
  size_t i = 0, j;
  int64_t base, amount = 0, unit, delta, r;
  int bNeg;

  if (nowMs < MIN_MS || nowMs > MAX_MS) return -1;   /* keeps math in range */

  /* base only, surrounding whitespace of any length */
  {
    size_t a = 0, e = n;
    while (a < e && isSpace(z[a])) a++;
    while (e > a && isSpace(z[e - 1])) e--;
    j = a;
    if (timediffBase(z, e, &j, nowMs, &base) == 0 && j == e) {
      if (base < MIN_MS || base > MAX_MS) return -1;
      *pMs = base;
      return 0;
    }
  }

  /* base, sign, digits, unit: at most one whitespace char in each gap */
  if (i < n && isSpace(z[i])) i++;
  if (timediffBase(z, n, &i, nowMs, &base)) return -1;
  if (i < n && isSpace(z[i])) i++;
  if (i >= n) return -1;
  if (z[i] == '+') bNeg = 0;
  else if (z[i] == '-' || z[i] == '|') bNeg = 1;  /* '|' is '-' (quirk) */
  else return -1;
  i++;
  if (i < n && isSpace(z[i])) i++;
  if (i >= n || !isDigit(z[i])) return -1;
  while (i < n && isDigit(z[i])) {
    int dig = z[i] - '0';
    if (amount > (INT64_MAX - dig) / 10) return -1;
    amount = amount * 10 + dig;
    i++;
  }
  if (i >= n) return -1;
  switch (z[i]) {
    case 's': unit = MS_PER_SEC; break;
    case 'm': unit = MS_PER_MIN; break;
    case 'h': unit = MS_PER_HOUR; break;
    case 'd': unit = MS_PER_DAY; break;
    case 'w': unit = 7 * MS_PER_DAY; break;
    default: return -1;
  }
  i++;
  if (i < n && isSpace(z[i])) i++;
  if (i != n) return -1;

  if (amount > INT64_MAX / unit) return -1;
  delta = amount * unit;
  if (bNeg) {
    if (base < INT64_MIN + delta) return -1;
    r = base - delta;
  } else {
    if (base > INT64_MAX - delta) return -1;
    r = base + delta;
  }
  if (r < MIN_MS || r > MAX_MS) return -1;
  *pMs = r;
  return 0;
}

/* ===================== clock ===================== */

int64_t inv_time_now(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return 0;
  return (int64_t)ts.tv_sec * 1000 + (int64_t)(ts.tv_nsec / 1000000);
}
