/*
** fuzz_json.c: libFuzzer target for the JSON parser and writers
** (src/inv_json.c: inv_json_parse, inv_json_write, the inv_json_sink and the
** streaming inv_sink_json).
**
** Each input is raw bytes (not NUL-terminated: ASan sees any over-read).
** Checks, besides crashes, leaks and UB (ASan/UBSan); any failure aborts:
**   1. parse: inv_json_parse into a fresh arena. On success, write the value
**      with inv_json_write (W1), parse W1 again (must succeed) and write
**      that (W2): W1 == W2 byte for byte (the writer is stable, so numbers,
**      escapes and key order round-trip).
**   2. replay: W1 through inv_sink_json into an inv_json_sink gives W1
**      (the sink splices valid text through xJson), and so does W1 through
**      inv_sink_json into an inv_json_sink without xJson (parsed and
**      replayed as events: the streaming parser agrees with the tree one).
**   3. validity: inv_sink_json on the raw input agrees with inv_json_parse:
**      both accept or both reject, except that inv_sink_json does not look
**      for duplicate keys and allows deeper nesting (INV_JSON_MAX_DEPTH * 4):
**      a text inv_json_parse rejects for either may still stream. When both
**      accept, the event replay of the raw input is W1, and the spliced
**      copy is the input without its surrounding whitespace. A rejected text
**      emits nothing.
**   4. the error message of a rejected text is NUL-terminated, non-empty and
**      valid UTF-8.
**
** Build and run: make fuzz [FUZZ_SECONDS=60]
** Reproduce:     ./build/fuzz_json <file>
*/
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inv_val.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *zWhat, const inv_buf *a, const inv_buf *b) {
  fprintf(stderr, "fuzz_json: %s\n", zWhat);
  if (a) fprintf(stderr, "  first:  %.*s\n", (int)(a->n > 4000 ? 4000 : a->n), a->z ? a->z : "");
  if (b) fprintf(stderr, "  second: %.*s\n", (int)(b->n > 4000 ? 4000 : b->n), b->z ? b->z : "");
  abort();
}

static int sameBuf(const inv_buf *a, const inv_buf *b) {
  return a->n == b->n && (a->n == 0 || memcmp(a->z, b->z, a->n) == 0);
}

static int sameText(const inv_buf *a, const char *z, size_t n) {
  return a->n == n && (n == 0 || memcmp(a->z, z, n) == 0);
}

static int isWs(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* inv_sink_json into a JSON sink, with or without the xJson shortcut. */
static int stream(const char *z, size_t n, int bSplice, inv_buf *pOut) {
  inv_json_sink js;
  inv_json_sink_init(&js, pOut);
  if (!bSplice) js.base.xJson = NULL;
  return inv_sink_json(&js.base, z, n);
}

/* A parse error that inv_sink_json does not report (see 3. above). */
static int streamMayAccept(const char *zErr) {
  return strncmp(zErr, "duplicate key", 13) == 0 || strncmp(zErr, "nesting deeper than", 19) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *z = (const char *)data;
  inv_arena a;
  inv_val v, v2;
  inv_buf w1, w2, ev, sp;
  char zErr[256];
  int rcParse, rcSplice, rcEvents;

  inv_arena_init(&a);
  inv_buf_init(&w1);
  inv_buf_init(&w2);
  inv_buf_init(&ev);
  inv_buf_init(&sp);

  /* 1. parse, write, parse the text, write again */
  memset(zErr, 'x', sizeof zErr);
  rcParse = inv_json_parse(&a, z, size, &v, zErr, sizeof zErr);
  if (rcParse != 0 && rcParse != -1) die("inv_json_parse: bad return code", NULL, NULL);
  if (rcParse == 0) {
    inv_json_write(&w1, &v);
    if (w1.bOom || !w1.z) die("write: out of memory", NULL, NULL);
    if (inv_json_parse(&a, w1.z, w1.n, &v2, zErr, sizeof zErr)) {
      fprintf(stderr, "fuzz_json: %s\n", zErr);
      die("the written text does not parse", &w1, NULL);
    }
    if (v2.t != v.t) die("the written text parses to another type", &w1, NULL);
    inv_json_write(&w2, &v2);
    if (w2.bOom) die("write: out of memory", NULL, NULL);
    if (!sameBuf(&w1, &w2)) die("writer not stable: write(parse(W1)) != W1", &w1, &w2);

    /* 2. replay W1 as spliced text and as events */
    inv_buf_reset(&w2);
    if (stream(w1.z, w1.n, 1, &w2)) die("inv_sink_json rejects W1 (splice)", &w1, NULL);
    if (w2.bOom || !sameText(&w2, w1.z, w1.n)) die("spliced W1 differs", &w1, &w2);
    inv_buf_reset(&w2);
    if (stream(w1.z, w1.n, 0, &w2)) die("inv_sink_json rejects W1 (events)", &w1, NULL);
    if (w2.bOom || !sameBuf(&w1, &w2)) die("event replay of W1 differs", &w1, &w2);
  } else {
    /* 4. a usable message */
    if (memchr(zErr, 0, sizeof zErr) == NULL) die("error message not terminated", NULL, NULL);
    if (zErr[0] == 0) die("error without a message", NULL, NULL);
    if (!inv_utf8_valid(zErr, strlen(zErr))) die("error message is not UTF-8", NULL, NULL);
  }

  /* 3. the streaming parser on the raw input */
  rcSplice = stream(z, size, 1, &sp);
  rcEvents = stream(z, size, 0, &ev);
  if (rcSplice != rcEvents) die("inv_sink_json: splice and events disagree on validity", NULL, NULL);
  if (rcSplice != 0 && rcSplice != -1) die("inv_sink_json: bad return code", NULL, NULL);
  if (rcSplice != 0) {
    if (sp.n || ev.n) die("a rejected text emitted something", &sp, &ev);
    if (rcParse == 0) die("inv_json_parse accepts what inv_sink_json rejects", &w1, NULL);
  } else {
    size_t i0 = 0, i1 = size;
    while (i0 < i1 && isWs(data[i0])) i0++;
    while (i1 > i0 && isWs(data[i1 - 1])) i1--;
    if (sp.bOom || !sameText(&sp, z + i0, i1 - i0)) die("spliced input differs from the input", &sp, NULL);
    if (rcParse == 0) {
      if (ev.bOom || !sameBuf(&ev, &w1)) die("event replay of the input differs from W1", &w1, &ev);
    } else if (!streamMayAccept(zErr)) {
      fprintf(stderr, "fuzz_json: inv_json_parse: %s\n", zErr);
      die("inv_sink_json accepts what inv_json_parse rejects", &ev, NULL);
    }
  }

  inv_buf_free(&w1);
  inv_buf_free(&w2);
  inv_buf_free(&ev);
  inv_buf_free(&sp);
  inv_arena_free(&a);
  return 0;
}
