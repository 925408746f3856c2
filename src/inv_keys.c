/*
** inv_keys.c: the one key resolver. Every key a request names (a filter's,
** a sort's, `only`, stat keys, analyze fields, unwind paths, distinct) is
** resolved here against the resource's field table: a field, then dotted
** segments into a stored document (free-form objects) or into the errors
** array (a position, then error_code, message or additional.*). The renames
** (a task's user_projects is its project_id) happen here, and so does the
** single "Cannot resolve field" error.
*/
#include <string.h>
#include "inv_int.h"

int inv_err_resolve(inv_store *s, const char *z, size_t n) {
  return inv_err_db(s, "Cannot resolve field \"%.*s\"", (int)(n > 200 ? 200 : n), z);
}

int inv_key_is_index(const char *z, size_t n) {
  size_t i;
  if (n == 0 || n > 9) return 0;
  for (i = 0; i < n; i++) if (z[i] < '0' || z[i] > '9') return 0;
  return 1;
}

/* The members of an ErrorInfo, and whether one may have segments below it. */
int inv_key_error_member(const char *z, size_t n, int bMore) {
  if (n == 10 && memcmp(z, "additional", 10) == 0) return 1;
  if (bMore) return 0;
  return (n == 10 && memcmp(z, "error_code", 10) == 0) || (n == 7 && memcmp(z, "message", 7) == 0);
}

/* Split "a.b.c" into segments. -1 if a segment is empty or holds a double
** quote or a NUL (no JSON path here can address it), -2 out of memory. */
static int splitPath(inv_store *s, const char *z, size_t n, inv_key *k) {
  size_t i, i0 = 0;
  int nSeg = 1, j = 0;
  for (i = 0; i < n; i++) if (z[i] == '.') nSeg++;
  if (n > INV_MAX_KEY || nSeg > INV_MAX_KEY_SEGS) return -1;    /* no field is that deep */
  k->azSeg = inv_arena_alloc(&s->arena, sizeof(char*) * (size_t)nSeg);
  k->anSeg = inv_arena_alloc(&s->arena, sizeof(size_t) * (size_t)nSeg);
  if (!k->azSeg || !k->anSeg) return -2;
  for (i = 0; i <= n; i++) {
    if (i == n || z[i] == '.') {
      size_t m;
      if (i == i0) return -1;
      for (m = i0; m < i; m++) if (z[m] == '"' || z[m] == 0) return -1;
      k->azSeg[j] = z + i0;
      k->anSeg[j] = i - i0;
      j++;
      i0 = i + 1;
    }
  }
  k->nSeg = nSeg;
  return 0;
}

int inv_key_resolve(inv_store *s, const inv_resource *r, const char *zKey, size_t nKey,
                    int bLenient, inv_key *k) {
  int rc;
  memset(k, 0, sizeof *k);
  k->iField = -1;
  if (r->bTasks && nKey == 13 && memcmp(zKey, "user_projects", 13) == 0) {
    zKey = "project_id"; nKey = 10;
  }
  rc = splitPath(s, zKey, nKey, k);
  if (rc == -2) return inv_err_nomem(s);
  if (rc == -1) {
    if (bLenient) { k->nSeg = 0; return INV_OK; }
    return inv_err_resolve(s, zKey, nKey);
  }
  k->iField = inv_field_index(r, k->azSeg[0], k->anSeg[0]);
  if (k->iField < 0) {
    if (bLenient) return INV_OK;
    return inv_err_resolve(s, k->azSeg[0], k->anSeg[0]);
  }
  k->pField = &r->aField[k->iField];
  if (k->nSeg > 1) {
    int e = k->pField->eType;
    if (e != F_OBJ && e != F_ERRS) {
      k->iField = -1;
      if (bLenient) return INV_OK;
      return inv_err_resolve(s, zKey, nKey);
    }
    if (e == F_ERRS) {
      /* elements are {error_code, message, additional{...}} */
      int i = inv_key_is_index(k->azSeg[1], k->anSeg[1]) ? 2 : 1;
      if (i < k->nSeg && !inv_key_error_member(k->azSeg[i], k->anSeg[i], i + 1 < k->nSeg)) {
        k->iField = -1;
        if (bLenient) return INV_OK;
        return inv_err_resolve(s, k->azSeg[i], k->anSeg[i]);
      }
    }
  }
  return INV_OK;
}

int inv_key_check(inv_store *s, const inv_resource *r, const char *z, size_t n, int *piField) {
  inv_key k;
  if (inv_key_resolve(s, r, z, n, 0, &k)) return INV_ERROR;
  *piField = k.iField;
  return INV_OK;
}
