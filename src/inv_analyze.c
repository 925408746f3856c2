/*
** inv_analyze.c: analyze (Job only). An AnalyzeQuery is validated with its
** own error codes, then turned into a stat pipeline: [unwind] -> group
** (group_by + fields) -> project (select) -> group (field_group pivot) ->
** sort -> page with "more" (inv_stage.c compiles it, inv_pipeline.c runs it).
*/
#include <string.h>
#include <stdio.h>
#include "inv_stat.h"

/* ===================== analyze ===================== */
/*
** AnalyzeQuery (Job only) is validated with its own error codes, then turned
** into a stat pipeline: [unwind] -> group (group_by + fields) -> project
** (select) -> group (field_group pivot) -> sort -> page with "more".
*/

/* "query.<zIn>.<name>.<zKey>": where in a dict of named entries (fields,
** select) a message points (the name cut at 60 bytes). */
static const char *entryKey(inv_store *s, const char *zIn, const inv_kv *kv, const char *zKey) {
  char z[200];
  snprintf(z, sizeof z, "query.%s.%s%s%s", zIn,
           kv->nKey ? inv_msg_text(s, kv->zKey, kv->nKey, 60) : "\"\"", zKey[0] ? "." : "", zKey);
  return inv_arena_strdup(&s->arena, z, strlen(z));
}

static inv_val *mkVal(inv_store *s, int t, size_t n) {
  inv_val *v = inv_arena_alloc(&s->arena, sizeof *v);
  if (!v) return NULL;
  memset(v, 0, sizeof *v);
  v->t = (unsigned char)t;
  if (t == INV_OBJ && n) {
    v->u.obj.a = inv_arena_alloc(&s->arena, sizeof(inv_kv) * n);
    if (!v->u.obj.a) return NULL;
  } else if (t == INV_ARR && n) {
    v->u.arr.a = inv_arena_alloc(&s->arena, sizeof(inv_val) * n);
    if (!v->u.arr.a) return NULL;
  }
  return v;
}
static void objPut(inv_val *o, const char *zKey, const inv_val *v) {
  inv_kv *kv = &o->u.obj.a[o->u.obj.n++];
  kv->zKey = zKey; kv->nKey = strlen(zKey);
  kv->v = *v;
}
static inv_val strVal(const char *z, size_t n) {
  inv_val v;
  memset(&v, 0, sizeof v);
  v.t = INV_STR; v.u.s.z = z; v.u.s.n = n;
  return v;
}
/* {"key": k, "name": n} */
static inv_val *keyName(inv_store *s, inv_val k, inv_val n) {
  inv_val *o = mkVal(s, INV_OBJ, 2);
  if (!o) return NULL;
  objPut(o, "key", &k);
  objPut(o, "name", &n);
  return o;
}

/* Append the stage {zName: v} to a pipeline (room was made for it). */
static int addStage(inv_store *s, inv_val *pipe, const char *zName, const inv_val *v) {
  inv_val *stage = mkVal(s, INV_OBJ, 1);
  if (!stage) return inv_err_nomem(s);
  objPut(stage, zName, v);
  pipe->u.arr.a[pipe->u.arr.n++] = *stage;
  return INV_OK;
}

static const char *const azSelectOps[] = { "add", "subtract", "multiply", "divide", "size", "sum", NULL };

int inv_m_analyze(inv_store *s, const inv_resource *r, const inv_val *req, inv_sink *k, int f) {
  static const char *const azQuery[] = {
    "group_by", "field_group", "fields", "select", "sort", "page", "filter", "filter_or",
    "keyword", "unwind", NULL
  };
  SC c;
  inv_q q;
  const inv_val *pQ, *gb, *fg, *fields, *sel, *sort, *unw;
  /* a name the pipeline cannot use (an empty group_by or field_group entry):
  ** ERROR_DB_QUERY, raised where the pipeline would have raised it, after
  ** the scope and the filter, in analyze's words */
  const char *zLateKey = NULL, *zLateValue = NULL;
  inv_val *pipe, *group, *keys, *gfields;
  size_t i, j, nFg = 0;
  int64_t start, limit;
  if (!r->bAnalyze) return inv_err_invalid(s, "method", "analyze is a method of job.");
  pQ = inv_val_get(req, "query");
  if (!pQ || pQ->t == INV_NULL) return inv_err_required(s, "query");
  if (!inv_val_is_obj(pQ)) return inv_err_type_of(s, "query", "object", pQ);
  fields = inv_val_get(pQ, "fields");
  if (!fields || fields->t == INV_NULL) return inv_err_required(s, "query.fields");
  if (!inv_val_is_obj(fields)) return inv_err_type_of(s, "query.fields", "object", fields);
  {
    /* domain_id is required before the model checks the query */
    const char *zDomain;
    if (inv_req_string(s, req, "domain_id", 1, &zDomain)) return INV_ERROR;
  }
  if (inv_check_keys(s, pQ, azQuery, "query")) return INV_ERROR;
  gb = inv_val_get(pQ, "group_by");
  fg = inv_val_get(pQ, "field_group");
  sel = inv_val_get(pQ, "select");
  sort = inv_val_get(pQ, "sort");
  unw = inv_val_get(pQ, "unwind");

  /* 1. field_group */
  if (fg && fg->t != INV_NULL) {
    if (!inv_val_is_arr(fg)) return inv_err_type_of(s, "query.field_group", "list of strings", fg);
    for (i = 0; i < fg->u.arr.n; i++) {
      const inv_val *x = &fg->u.arr.a[i];
      if (x->t != INV_STR) return inv_err_type_of(s, "query.field_group", "list of strings", fg);
      if (strncmp(x->u.s.z, "_total_", 7) == 0) {
        char zR[200];
        snprintf(zR, sizeof zR, "%s starts with _total_, which names the totals of a field group.",
                 inv_msg_value(s, x, INV_MSG_VALUE));
        return inv_err_invalid(s, "query.field_group", zR);
      }
    }
    nFg = fg->u.arr.n;
    for (i = 0; i < nFg && !zLateKey; i++) {
      if (fg->u.arr.a[i].u.s.n == 0) {
        zLateKey = "query.field_group";
        zLateValue = inv_msg_value(s, &fg->u.arr.a[i], INV_MSG_VALUE);
      }
    }
  }
  /* 2. group_by -> keys */
  if (gb && gb->t != INV_NULL && !inv_val_is_arr(gb)) return inv_err_type_of(s, "query.group_by", "list", gb);
  keys = mkVal(s, INV_ARR, gb && gb->t != INV_NULL ? gb->u.arr.n : 0);
  if (!keys) return inv_err_nomem(s);
  for (i = 0; gb && gb->t != INV_NULL && i < gb->u.arr.n; i++) {
    const inv_val *x = &gb->u.arr.a[i];
    inv_val *kn;
    if (x->t == INV_STR) {
      const char *zLast = x->u.s.z, *z;
      for (z = x->u.s.z; *z; z++) if (*z == '.') zLast = z + 1;
      if (!*zLast && !zLateKey) {         /* "" or "a.": no field, no name */
        zLateKey = "query.group_by";
        zLateValue = inv_msg_value(s, x, INV_MSG_VALUE);
      }
      kn = keyName(s, *x, strVal(zLast, strlen(zLast)));
    } else if (x->t == INV_OBJ) {
      const inv_val *kk = inv_val_get(x, "key"), *nn = inv_val_get(x, "name");
      if (!inv_stat_is_str(kk) || !inv_stat_is_str(nn)) {
        char zR[300];
        snprintf(zR, sizeof zR, "%s needs a key and a name, both strings.", inv_msg_value(s, x, 200));
        return inv_err_invalid(s, "query.group_by", zR);
      }
      kn = keyName(s, *kk, *nn);
    } else {
      char zR[200];
      snprintf(zR, sizeof zR, "each item is a field name or a {key, name} object, not %s.",
               inv_msg_value(s, x, INV_MSG_VALUE));
      return inv_err_invalid(s, "query.group_by", zR);
    }
    if (!kn) return inv_err_nomem(s);
    keys->u.arr.a[keys->u.arr.n++] = *kn;
  }
  /* 3. fields -> group fields */
  gfields = mkVal(s, INV_ARR, fields->u.obj.n);
  if (!gfields) return inv_err_nomem(s);
  for (i = 0; i < fields->u.obj.n; i++) {
    const inv_kv *kv = &fields->u.obj.a[i];
    const inv_val *op, *kk, *sub;
    inv_val *gf;
    /* conditions: accepted and ignored, as the reference does for analyze */
    static const char *const azField[] = { "operator", "key", "fields", "data_type", "conditions", NULL };
    if (!inv_val_is_obj(&kv->v)) return inv_err_type_of(s, entryKey(s, "fields", kv, ""), "object", &kv->v);
    if (inv_check_keys(s, &kv->v, azField, entryKey(s, "fields", kv, ""))) return INV_ERROR;
    op = inv_val_get(&kv->v, "operator");
    kk = inv_val_get(&kv->v, "key");
    sub = inv_val_get(&kv->v, "fields");
    if (!inv_stat_is_str(op)) return inv_err_required(s, entryKey(s, "fields", kv, "operator"));
    if (!inv_stat_group_op(op->u.s.z)) {
      inv_val nm = strVal(kv->zKey, kv->nKey);
      return inv_err_query(s, "query.fields", "the operator %s of field %s is not supported; use one of %s.",
                           inv_msg_value(s, op, INV_MSG_VALUE), inv_msg_value(s, &nm, INV_MSG_VALUE),
                           inv_stat_group_ops);
    }
    if (strcmp(op->u.s.z, "count") && strcmp(op->u.s.z, "push") && !inv_stat_is_str(kk)) {
      return inv_err_required(s, entryKey(s, "fields", kv, "key"));
    }
    if (!strcmp(op->u.s.z, "push") && !inv_stat_is_str(kk)
        && (!sub || sub->t == INV_NULL || (inv_val_is_obj(sub) && sub->u.obj.n == 0))) {
      return inv_err_required(s, entryKey(s, "fields", kv, "fields"));
    }
    gf = mkVal(s, INV_OBJ, 4);
    if (!gf) return inv_err_nomem(s);
    {
      inv_val nm = strVal(kv->zKey, kv->nKey);
      objPut(gf, "name", &nm);
      objPut(gf, "operator", op);
      if (inv_stat_is_str(kk)) objPut(gf, "key", kk);
    }
    if (sub && sub->t != INV_NULL && !inv_stat_is_str(kk)) {
      /* push fields: a map {outname: path} -> [{key, name}] */
      inv_val *l;
      if (!inv_val_is_obj(sub)) return inv_err_type_of(s, entryKey(s, "fields", kv, "fields"), "object", sub);
      l = mkVal(s, INV_ARR, sub->u.obj.n);
      if (!l) return inv_err_nomem(s);
      for (j = 0; j < sub->u.obj.n; j++) {
        const inv_kv *skv = &sub->u.obj.a[j];
        inv_val *kn;
        if (skv->v.t != INV_STR) {
          return inv_err_type_of(s, entryKey(s, "fields", kv, "fields"), "object of strings", sub);
        }
        kn = keyName(s, skv->v, strVal(skv->zKey, skv->nKey));
        if (!kn) return inv_err_nomem(s);
        l->u.arr.a[l->u.arr.n++] = *kn;
      }
      objPut(gf, "fields", l);
    }
    gfields->u.arr.a[gfields->u.arr.n++] = *gf;
  }
  pipe = mkVal(s, INV_ARR, 6);
  if (!pipe) return inv_err_nomem(s);
  if (unw && unw->t != INV_NULL) {
    if (addStage(s, pipe, "unwind", unw)) return INV_ERROR;
  }
  group = mkVal(s, INV_OBJ, 2);
  if (!group) return inv_err_nomem(s);
  if (keys->u.arr.n) objPut(group, "keys", keys);
  if (gfields->u.arr.n) objPut(group, "fields", gfields);
  if (addStage(s, pipe, "group", group)) return INV_ERROR;
  /* 4. select -> project with exclude_keys */
  if (sel && sel->t != INV_NULL) {
    inv_val *pf, *proj, *tv;
    if (!inv_val_is_obj(sel)) return inv_err_type_of(s, "query.select", "object", sel);
    pf = mkVal(s, INV_ARR, sel->u.obj.n);
    if (!pf) return inv_err_nomem(s);
    for (i = 0; i < sel->u.obj.n; i++) {
      const inv_kv *kv = &sel->u.obj.a[i];
      inv_val *x;
      inv_val nm = strVal(kv->zKey, kv->nKey);
      if (kv->v.t == INV_STR) {
        x = keyName(s, kv->v, nm);
      } else if (kv->v.t == INV_OBJ) {
        const inv_val *op = inv_val_get(&kv->v, "operator");
        const inv_val *kk = inv_val_get(&kv->v, "key"), *ff = inv_val_get(&kv->v, "fields");
        int bNoOp = !op || op->t == INV_NULL;
        const char *zOp = inv_stat_is_str(op) ? op->u.s.z : "";
        if (strcmp(zOp, "add") && strcmp(zOp, "subtract") && strcmp(zOp, "multiply")
            && strcmp(zOp, "divide") && strcmp(zOp, "size") && strcmp(zOp, "sum")) {
          char zR[300];
          if (bNoOp) {
            snprintf(zR, sizeof zR, "is missing; use one of %s.", inv_msg_list(s, azSelectOps));
          } else {
            snprintf(zR, sizeof zR, "%s is not supported; use one of %s.",
                     inv_msg_value(s, op, 60), inv_msg_list(s, azSelectOps));
          }
          return inv_err_invalid(s, entryKey(s, "select", kv, "operator"), zR);
        }
        /* key wins over fields; an empty fields list is no fields (the
        ** reference tests their truth) */
        if (!inv_stat_is_str(kk) && !(ff && ff->t != INV_NULL && !(inv_val_is_arr(ff) && ff->u.arr.n == 0))) {
          return inv_err_required(s, entryKey(s, "select", kv, "fields"));
        }
        x = mkVal(s, INV_OBJ, 4);
        if (!x) return inv_err_nomem(s);
        objPut(x, "name", &nm);
        objPut(x, "operator", op);
        if (inv_stat_is_str(kk)) objPut(x, "key", kk);
        else objPut(x, "fields", ff);
      } else {
        continue;                                /* silently skipped (reference) */
      }
      if (!x) return inv_err_nomem(s);
      pf->u.arr.a[pf->u.arr.n++] = *x;
    }
    proj = mkVal(s, INV_OBJ, 2);
    tv = mkVal(s, INV_BOOL, 0);
    if (!proj || !tv) return inv_err_nomem(s);
    tv->u.b = 1;
    objPut(proj, "fields", pf);
    objPut(proj, "exclude_keys", tv);
    if (addStage(s, pipe, "project", proj)) return INV_ERROR;
  }
  /* 5. field_group: a second group, pivoting the field_group keys */
  if (nFg) {
    inv_val *k2 = mkVal(s, INV_ARR, keys->u.arr.n);
    inv_val *f2 = mkVal(s, INV_ARR, gfields->u.arr.n * 2);
    inv_val *g2 = mkVal(s, INV_OBJ, 2);
    if (!k2 || !f2 || !g2) return inv_err_nomem(s);
    for (i = 0; i < keys->u.arr.n; i++) {
      const inv_val *nm = inv_val_get(&keys->u.arr.a[i], "name");
      int bPivot = 0;
      for (j = 0; j < nFg; j++) {
        if (fg->u.arr.a[j].u.s.n == nm->u.s.n && !memcmp(fg->u.arr.a[j].u.s.z, nm->u.s.z, nm->u.s.n)) bPivot = 1;
      }
      if (!bPivot) {
        inv_val *kn = keyName(s, *nm, *nm);
        if (!kn) return inv_err_nomem(s);
        k2->u.arr.a[k2->u.arr.n++] = *kn;
      }
    }
    for (i = 0; i < gfields->u.arr.n; i++) {
      const inv_val *nm = inv_val_get(&gfields->u.arr.a[i], "name");
      const char *zOp = inv_val_get(&gfields->u.arr.a[i], "operator")->u.s.z;
      inv_val *push = mkVal(s, INV_OBJ, 3), *sub = mkVal(s, INV_ARR, nFg + 1), *kn;
      inv_val opPush = strVal("push", 4), vValue = strVal("value", 5);
      if (!push || !sub) return inv_err_nomem(s);
      kn = keyName(s, *nm, vValue);
      if (!kn) return inv_err_nomem(s);
      sub->u.arr.a[sub->u.arr.n++] = *kn;
      for (j = 0; j < nFg; j++) {
        kn = keyName(s, fg->u.arr.a[j], fg->u.arr.a[j]);
        if (!kn) return inv_err_nomem(s);
        sub->u.arr.a[sub->u.arr.n++] = *kn;
      }
      objPut(push, "name", nm);
      objPut(push, "operator", &opPush);
      objPut(push, "fields", sub);
      if (!strcmp(zOp, "sum") || !strcmp(zOp, "count") || !strcmp(zOp, "average")
          || !strcmp(zOp, "max") || !strcmp(zOp, "min")) {
        /* _total_F: sum of counts/sums, unweighted mean of averages, max, min */
        inv_val *tot = mkVal(s, INV_OBJ, 3);
        char *zName = inv_arena_alloc(&s->arena, nm->u.s.n + 8);
        inv_val op = strVal(!strcmp(zOp, "average") ? "average" : !strcmp(zOp, "max") ? "max"
                            : !strcmp(zOp, "min") ? "min" : "sum", 0);
        inv_val vn;
        if (!tot || !zName) return inv_err_nomem(s);
        op.u.s.n = strlen(op.u.s.z);
        memcpy(zName, "_total_", 7);
        memcpy(zName + 7, nm->u.s.z, nm->u.s.n + 1);
        vn = strVal(zName, nm->u.s.n + 7);
        objPut(tot, "name", &vn);
        objPut(tot, "operator", &op);
        objPut(tot, "key", nm);
        f2->u.arr.a[f2->u.arr.n++] = *tot;
      }
      f2->u.arr.a[f2->u.arr.n++] = *push;     /* after _total_F, as the reference */
    }
    if (k2->u.arr.n) objPut(g2, "keys", k2);
    objPut(g2, "fields", f2);
    if (addStage(s, pipe, "group", g2)) return INV_ERROR;
  }
  /* 6. sort (field names become _total_<name> after a pivot) */
  if (sort && sort->t != INV_NULL) {
    inv_val *sl;
    if (!inv_val_is_arr(sort)) return inv_err_type_of(s, "query.sort", "list", sort);
    sl = mkVal(s, INV_ARR, sort->u.arr.n);
    if (!sl) return inv_err_nomem(s);
    for (i = 0; i < sort->u.arr.n; i++) {
      const inv_val *it = &sort->u.arr.a[i];
      inv_val *o2;
      const inv_val *kk, *dd;
      if (!inv_val_is_obj(it)) return inv_err_type_of(s, "query.sort", "list of objects", it);
      kk = inv_val_get(it, "key");
      dd = inv_val_get(it, "desc");
      o2 = mkVal(s, INV_OBJ, 2);
      if (!o2) return inv_err_nomem(s);
      if (inv_stat_is_str(kk)) {
        inv_val kv2 = *kk;
        if (nFg && inv_val_get(fields, kk->u.s.z)) {
          char *z = inv_arena_alloc(&s->arena, kk->u.s.n + 8);
          if (!z) return inv_err_nomem(s);
          memcpy(z, "_total_", 7);
          memcpy(z + 7, kk->u.s.z, kk->u.s.n + 1);
          kv2 = strVal(z, kk->u.s.n + 7);
        }
        objPut(o2, "key", &kv2);
      }
      if (dd) objPut(o2, "desc", dd);
      sl->u.arr.a[sl->u.arr.n++] = *o2;
    }
    if (addStage(s, pipe, "sort", sl)) return INV_ERROR;
  }
  /* scope, filter, and the pipeline */
  {
    inv_val req2 = *req;
    if (inv_stat_begin(s, r, &req2, "analyze", &c, &q, &pQ, &start, &limit, 1)) return INV_ERROR;
  }
  if (zLateKey) {
    return inv_err_query(s, zLateKey, zLateKey[6] == 'f' ? "%s names no group_by key."
                         : "%s is not a field name: give the key to group by.", zLateValue);
  }
  c.bAnalyze = 1;                  /* stage errors name analyze's keys */
  if (inv_stat_stages(&c, pipe)) return INV_ERROR;
  return inv_stat_run(&c, start, limit, k, f, limit > 0);
}
