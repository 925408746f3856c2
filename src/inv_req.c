/*
** inv_req.c: checks shared by every method's request: unknown keys, and
** the required string parameters (ids, domain_id).
*/
#include <string.h>
#include <stdio.h>
#include "inv_int.h"

int inv_check_keys(inv_store *s, const inv_val *obj, const char *const *azAllowed,
                   const char *zPrefix) {
  size_t i;
  if (!inv_val_is_obj(obj)) return inv_err_type(s, zPrefix[0] ? zPrefix : "request", "dict");
  for (i = 0; i < obj->u.obj.n; i++) {
    const char *const *pz;
    const char *zKey = obj->u.obj.a[i].zKey;
    for (pz = azAllowed; *pz; pz++) if (strcmp(*pz, zKey) == 0) break;
    if (!*pz) {
      char zK[160];
      snprintf(zK, sizeof zK, "%s%s%.100s", zPrefix, zPrefix[0] ? "." : "", zKey);
      return inv_err_invalid(s, zK, "Unknown parameter.");
    }
  }
  return INV_OK;
}

int inv_req_string(inv_store *s, const inv_val *req, const char *zKey, int bRequired,
                   const char **pz) {
  const inv_val *v = inv_val_get(req, zKey);
  *pz = NULL;
  if (!v || v->t == INV_NULL || (v->t == INV_STR && v->u.s.n == 0)) {
    return bRequired ? inv_err_required(s, zKey) : INV_OK;
  }
  if (v->t != INV_STR) return inv_err_type(s, zKey, "str");
  if (strlen(v->u.s.z) != v->u.s.n) return inv_err_invalid(s, zKey, "NUL byte in string.");
  *pz = v->u.s.z;
  return INV_OK;
}
