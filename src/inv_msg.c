/*
** inv_msg.c: the pieces error messages are built from, so that every
** message reads the same way: what the user wrote (a value as compact JSON,
** cut on a character boundary), what is allowed (a plain list "a, b, c"),
** and the two frames most query errors use:
**
**   Parameter type is invalid. (key = query.sort, type = list, value = "x")
**   Database query failed. (key = query.filter, reason = ...)
**
** No message shows Python syntax (dict_keys, tuples, quoted lists, None),
** SQL, or the name of a C function or of an internal stage.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "inv_int.h"

/* The largest n' <= n that does not cut a UTF-8 sequence of z. */
static size_t charBoundary(const char *z, size_t n) {
  while (n > 0 && ((unsigned char)z[n] & 0xC0) == 0x80) n--;
  return n;
}

const char *inv_msg_text(inv_store *s, const char *z, size_t n, size_t nMax) {
  char *zOut;
  if (n <= nMax) return (zOut = inv_arena_strdup(&s->arena, z, n)) ? zOut : "...";
  n = charBoundary(z, nMax);
  zOut = inv_arena_alloc(&s->arena, n + 4);
  if (!zOut) return "...";
  memcpy(zOut, z, n);
  memcpy(zOut + n, "...", 4);
  return zOut;
}

const char *inv_msg_value(inv_store *s, const inv_val *v, size_t nMax) {
  inv_buf tmp;
  const char *z;
  if (!v) return "null";
  inv_buf_init(&tmp);
  inv_json_write(&tmp, v);                 /* an empty Lua table: {} */
  z = tmp.bOom || !tmp.z ? "..." : inv_msg_text(s, tmp.z, tmp.n, nMax);
  inv_buf_free(&tmp);
  return z;
}

const char *inv_msg_list(inv_store *s, const char *const *az) {
  inv_buf tmp;
  const char *z;
  int i;
  inv_buf_init(&tmp);
  for (i = 0; az[i]; i++) {
    if (i) inv_buf_adds(&tmp, ", ");
    inv_buf_adds(&tmp, az[i]);
  }
  z = tmp.bOom || !tmp.z ? "" : inv_arena_strdup(&s->arena, tmp.z, tmp.n);
  inv_buf_free(&tmp);
  return z ? z : "";
}

int inv_err_type_of(inv_store *s, const char *zKey, const char *zType, const inv_val *v) {
  if (!v) return inv_err_type(s, zKey, zType);
  return inv_err(s, "ERROR_INVALID_PARAMETER_TYPE",
                 "Parameter type is invalid. (key = %s, type = %s, value = %s)",
                 zKey, zType, inv_msg_value(s, v, INV_MSG_VALUE));
}

int inv_err_query(inv_store *s, const char *zKey, const char *zFmt, ...) {
  char zReason[900];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zReason, sizeof zReason, zFmt, ap);
  va_end(ap);
  if (!zKey || !zKey[0]) return inv_err_db(s, "%s", zReason);
  return inv_err(s, "ERROR_DB_QUERY", "Database query failed. (key = %s, reason = %s)",
                 zKey, zReason);
}

int inv_err_unknown_key(inv_store *s, const char *zKey, const char *const *azAllowed) {
  return inv_err(s, "ERROR_INVALID_PARAMETER",
                 "Parameter is invalid. (key = %s, reason = unknown parameter; use one of %s.)",
                 zKey, inv_msg_list(s, azAllowed));
}

int inv_err_unknown_resource(inv_store *s, const char *zResource) {
  const char *az[INV_N_RES + 1];
  int i;
  for (i = 0; i < INV_N_RES; i++) az[i] = inv_resources[i]->zName;
  az[i] = NULL;
  return inv_err(s, "ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = resource, reason = "
                 "\"%s\" is not a resource; use one of %s.)",
                 inv_msg_text(s, zResource, strlen(zResource), 60), inv_msg_list(s, az));
}

int inv_err_range(inv_store *s, const char *zKey, const char *zRule, const inv_val *v) {
  return inv_err(s, "ERROR_INVALID_PARAMETER", "Parameter is invalid. (key = %s, reason = %s, not %s.)",
                 zKey, zRule, inv_msg_value(s, v, INV_MSG_VALUE));
}

int inv_err_enum(inv_store *s, const char *zKey, const inv_val *v, const char *const *azEnum) {
  return inv_err(s, "ERROR_INVALID_PARAMETER",
                 "Parameter is invalid. (key = %s, reason = %s is not one of %s.)",
                 zKey, inv_msg_value(s, v, INV_MSG_VALUE), inv_msg_list(s, azEnum));
}

const char *inv_msg_list_fields(inv_store *s, const inv_resource *r) {
  const char *az[8];
  int i, n = 0;
  for (i = 0; i < r->nField && n < 7; i++) if (r->aField[i].eType == F_ERRS) az[n++] = r->aField[i].zName;
  az[n] = NULL;
  return n ? inv_msg_list(s, az) : "no field of this resource";
}
