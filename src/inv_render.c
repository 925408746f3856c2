/*
** inv_render.c: rows -> sink.
**
** The same code renders for the Lua API (complete records: counters as 0,
** errors as an empty array) and for the REST gateway (R_JSON: fields holding
** a default, i.e. 0, "", null or an empty list, are omitted; an object field
** that is set is rendered even when empty). R_ALL (export) adds the hidden
** fields. Datetimes render as
** "YYYY-MM-DDTHH:MM:SS.mmmZ".
*/
#include <string.h>
#include "inv_int.h"

/* `only`: the requested fields, each whole or as sub-paths. */
typedef struct OnlyItem OnlyItem;
struct OnlyItem {
  int iField;
  const char *zSub;        /* NULL: the whole field; else "a.b" below it */
  size_t nSub;
};
struct inv_only {
  int n;
  OnlyItem *a;
};

#define ONLY_MAX_KEYS 256     /* keys of an `only` list */
#define ONLY_MAX_SUB  16      /* of them inside one field ("filter.a") */

int inv_only_compile(inv_store *s, const inv_resource *r, const inv_val *pOnly,
                     inv_only **ppOut) {
  inv_only *o;
  size_t i;
  *ppOut = NULL;
  if (!pOnly || pOnly->t == INV_NULL) return INV_OK;
  if (!inv_val_is_arr(pOnly)) return inv_err_type(s, "only", "list of str");
  if (pOnly->u.arr.n == 0) return INV_OK;
  /* each rendered field scans the list: rows x fields x keys stays small */
  if (pOnly->u.arr.n > ONLY_MAX_KEYS) return inv_err_invalid(s, "only", "At most 256 keys.");
  o = inv_arena_alloc(&s->arena, sizeof *o);
  if (!o) return inv_err_nomem(s);
  o->a = inv_arena_alloc(&s->arena, sizeof(OnlyItem) * pOnly->u.arr.n);
  if (!o->a) return inv_err_nomem(s);
  o->n = 0;
  for (i = 0; i < pOnly->u.arr.n; i++) {
    const inv_val *v = &pOnly->u.arr.a[i];
    const char *zDot;
    int iField;
    if (v->t != INV_STR) return inv_err_type(s, "only", "list of str");
    if (inv_key_check(s, r, v->u.s.z, v->u.s.n, &iField)) return INV_ERROR;
    o->a[o->n].iField = iField;
    zDot = memchr(v->u.s.z, '.', v->u.s.n);
    o->a[o->n].zSub = zDot ? zDot + 1 : NULL;
    o->a[o->n].nSub = zDot ? v->u.s.n - (size_t)(zDot + 1 - v->u.s.z) : 0;
    if (zDot) {
      int j, nSub = 1;
      for (j = 0; j < o->n; j++) nSub += o->a[j].iField == iField && o->a[j].zSub;
      if (nSub > ONLY_MAX_SUB) {
        return inv_err_invalid(s, "only", "At most 16 keys inside one field (e.g. filter.a, filter.b).");
      }
    }
    o->n++;
  }
  *ppOut = o;
  return INV_OK;
}

/* ---- projection of a JSON value by dotted sub-paths ---- */

typedef struct SubPath SubPath;
struct SubPath { const char *z; size_t n; };

/* Emit v keeping only the given paths (n > 0). Objects keep the keys named
** by a path's first segment; arrays project each element; scalars under a
** path that goes on are dropped (returns 0 = nothing emitted). */
static int emitProjected(inv_store *s, inv_sink *k, const inv_val *v,
                         const SubPath *aP, int nP, int bInArray) {
  size_t i;
  int j;
  if (v->t == INV_ARR) {
    k->xBeginArr(k, (int)v->u.arr.n);
    for (i = 0; i < v->u.arr.n; i++) emitProjected(s, k, &v->u.arr.a[i], aP, nP, 1);
    k->xEndArr(k);
    return 1;
  }
  if (v->t != INV_OBJ) {
    (void)bInArray;
    return 0;
  }
  k->xBeginObj(k, -1);
  for (i = 0; i < v->u.obj.n; i++) {
    const inv_kv *kv = &v->u.obj.a[i];
    SubPath aSub[ONLY_MAX_SUB];
    int nSub = 0, bWhole = 0;
    for (j = 0; j < nP; j++) {
      const char *zDot = memchr(aP[j].z, '.', aP[j].n);
      size_t nHead = zDot ? (size_t)(zDot - aP[j].z) : aP[j].n;
      if (nHead != kv->nKey || memcmp(aP[j].z, kv->zKey, nHead) != 0) continue;
      if (!zDot) bWhole = 1;
      else if (nSub < ONLY_MAX_SUB) {         /* nP <= ONLY_MAX_SUB: never cut */
        aSub[nSub].z = zDot + 1;
        aSub[nSub].n = aP[j].n - nHead - 1;
        nSub++;
      }
    }
    if (bWhole) {
      k->xKey(k, kv->zKey, kv->nKey);
      inv_sink_val(k, &kv->v);
    } else if (nSub && (kv->v.t == INV_OBJ || kv->v.t == INV_ARR)) {
      k->xKey(k, kv->zKey, kv->nKey);
      emitProjected(s, k, &kv->v, aSub, nSub, 0);
    }
  }
  k->xEndObj(k);
  return 1;
}

void inv_emit_json(inv_store *s, inv_sink *k, const char *z, size_t n) {
  if (k->xJson) { k->xJson(k, z, n); return; }
  /* the common values of errors / filter: no parser needed */
  if (n == 2 && z[0] == '[' && z[1] == ']') { k->xBeginArr(k, 0); k->xEndArr(k); return; }
  if (n == 2 && z[0] == '{' && z[1] == '}') { k->xBeginObj(k, 0); k->xEndObj(k); return; }
  if (inv_sink_json_ex(k, z, n, &s->jscratch)) k->xNull(k);  /* ours: cannot fail */
}

/* ---- a row ---- */

int inv_render_row(inv_store *s, const inv_resource *r, inv_stmt *p,
                   int iCol0, inv_sink *k, int flags, const inv_only *pOnly) {
  int i, j, bJson = flags & R_JSON;
  int idBase = 1 + r->iRes * 64;                /* key ids 1..192 */
  k->xBeginObj(k, r->nField);
  for (i = 0; i < r->nField; i++) {
    const inv_field *f = &r->aField[i];
    int iCol = iCol0 + i;
    SubPath aSub[ONLY_MAX_SUB];
    int nSub = 0, bWhole = 0;
    /* hidden fields (JobTask total_sub_tasks, ...) are not part of the API's
    ** records: never rendered, not even when `only` names them; an export
    ** (R_ALL) has them, so that an import reproduces the record */
    if ((f->flags & FF_HIDDEN) && !(flags & R_ALL)) continue;
    if (pOnly) {
      for (j = 0; j < pOnly->n; j++) {
        if (pOnly->a[j].iField != i) continue;
        if (!pOnly->a[j].zSub) bWhole = 1;
        else if (nSub < ONLY_MAX_SUB) { aSub[nSub].z = pOnly->a[j].zSub; aSub[nSub].n = pOnly->a[j].nSub; nSub++; }
      }
      if (!bWhole && !nSub) continue;
    } else if (flags & R_MINIMAL) {
      if (!(f->flags & FF_MINIMAL)) continue;
    }
    if (inv_col_type(s, p, iCol) == INV_T_NULL) continue;
    switch (f->eType) {
      case F_STR: {
        size_t n;
        const char *z = inv_col_text(s, p, iCol, &n);
        if (bJson && n == 0) break;
        if (k->xKeyId) k->xKeyId(k, idBase + i, f->zName, f->nName); else k->xKey(k, f->zName, f->nName);
        k->xStr(k, z, n);
        break;
      }
      case F_INT: {
        int64_t v = inv_col_int(s, p, iCol);
        if (bJson && v == 0) break;
        if (k->xKeyId) k->xKeyId(k, idBase + i, f->zName, f->nName); else k->xKey(k, f->zName, f->nName);
        k->xInt(k, v);
        break;
      }
      case F_TIME: {
        char zT[32];
        inv_time_format(inv_col_int(s, p, iCol), zT);
        if (k->xKeyId) k->xKeyId(k, idBase + i, f->zName, f->nName); else k->xKey(k, f->zName, f->nName);
        k->xStr(k, zT, 24);
        break;
      }
      default: {                            /* F_OBJ, F_ERRS: JSON text */
        size_t n;
        const char *z = inv_col_text(s, p, iCol, &n);
        if (bJson && f->eType == F_ERRS && n == 2) break;   /* "[]" */
        if (k->xKeyId) k->xKeyId(k, idBase + i, f->zName, f->nName); else k->xKey(k, f->zName, f->nName);
        if (bWhole || !nSub) {
          inv_emit_json(s, k, z, n);
        } else {
          inv_val v;
          char zErr[64];
          if (inv_json_parse(&s->arena, z, n, &v, zErr, sizeof zErr)) {
            k->xNull(k);
          } else if (!emitProjected(s, k, &v, aSub, nSub, 0)) {
            k->xNull(k);
          }
        }
        break;
      }
    }
  }
  k->xEndObj(k);
  return INV_OK;
}

/* Render one record by id (the result of a write). */
int inv_render_by_id(inv_store *s, const inv_resource *r, const char *zId, const char *zDomain,
                     inv_sink *k, int flags) {
  inv_stmt *p = inv_prepare_static(s, s->azById[r->iRes]);
  int rc;
  if (!p) return INV_ERROR;
  inv_bind_text(s, p, 1, zId);
  inv_bind_text(s, p, 2, zDomain);
  rc = inv_step(s, p);
  if (rc < 0) return INV_ERROR;
  if (rc != INV_ROW) {
    inv_reset(s, p);
    return inv_err(s, "ERROR_NOT_FOUND",
                   "Resource cannot be found or access is denied. (%s = %s)",
                   r->aField[r->iId].zName, zId);
  }
  rc = inv_render_row(s, r, p, 1, k, flags, NULL);
  inv_reset(s, p);
  return rc;
}
