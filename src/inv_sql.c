/*
** inv_sql.c: the SQL text builder and its bound values (inv_q). A compiler
** appends SQL text to q->b and every user value through inv_q_bind_*, which
** records the value and appends the dialect's placeholder; inv_q_prepare
** hands both to the driver. Also the caps one request may ask for in all.
*/
#include <string.h>
#include <stdio.h>
#include "inv_int.h"

void inv_q_init(inv_q *q, inv_store *s, const inv_resource *r) {
  memset(q, 0, sizeof *q);
  q->s = s;
  q->d = s->pDia;
  q->r = r;
  q->b = &s->sql;
  q->now = inv_now(s);
}

static inv_bind *newBind(inv_q *q) {
  if (q->nBind >= q->nBindAlloc) {
    int nNew = q->nBindAlloc ? q->nBindAlloc * 2 : 16;
    inv_bind *a = inv_arena_alloc(&q->s->arena, sizeof(inv_bind) * (size_t)nNew);
    if (!a) return NULL;
    if (q->nBind) memcpy(a, q->aBind, sizeof(inv_bind) * (size_t)q->nBind);
    q->aBind = a;
    q->nBindAlloc = nNew;
  }
  memset(&q->aBind[q->nBind], 0, sizeof(inv_bind));
  return &q->aBind[q->nBind++];
}

static int bindOne(inv_q *q, const inv_bind *v) {
  inv_bind *p = newBind(q);
  if (!p) { q->b->bOom = 1; return inv_err_nomem(q->s); }
  *p = *v;
  q->d->xParam(q->b, q->nBind, v->t);
  return INV_OK;
}

int inv_q_bind_int(inv_q *q, int64_t i) {
  inv_bind v;
  memset(&v, 0, sizeof v);
  v.t = INV_INT; v.i = i;
  return bindOne(q, &v);
}
int inv_q_bind_real(inv_q *q, double r) {
  inv_bind v;
  memset(&v, 0, sizeof v);
  v.t = INV_REAL; v.r = r;
  return bindOne(q, &v);
}
int inv_q_bind_text(inv_q *q, const char *z, size_t n) {
  inv_bind v;
  memset(&v, 0, sizeof v);
  v.t = INV_STR; v.z = z; v.n = n;
  return bindOne(q, &v);
}
int inv_q_bind_slot(inv_q *q, const char *z, size_t n) {
  if (inv_q_bind_text(q, z, n)) return INV_ERROR;
  q->aBind[q->nBind - 1].bSlot = (unsigned char)(q->bSlots != 0);
  return INV_OK;
}
int inv_q_bind_null(inv_q *q) {
  inv_bind v;
  memset(&v, 0, sizeof v);
  v.t = INV_NULL;
  return bindOne(q, &v);
}
int inv_q_bind_val(inv_q *q, const inv_val *v) {
  switch (v->t) {
    case INV_INT:  return inv_q_bind_int(q, v->u.i);
    case INV_REAL: return inv_q_bind_real(q, v->u.r);
    case INV_BOOL: return inv_q_bind_int(q, v->u.b);
    case INV_STR:  return inv_q_bind_text(q, v->u.s.z, v->u.s.n);
    case INV_NULL: return inv_q_bind_null(q);
    default: {
      const char *z = inv_json_text(q->s, v);
      if (!z) { q->b->bOom = 1; return inv_err_nomem(q->s); }
      return inv_q_bind_text(q, z, strlen(z));
    }
  }
}

int inv_q_apply(inv_q *q, inv_stmt *p) {
  int i;
  for (i = 0; i < q->nBind; i++) {
    if (q->s->pDrv->xBind(q->s, p, i + 1, &q->aBind[i])) return INV_ERROR;
  }
  return INV_OK;
}

inv_stmt *inv_q_prepare(inv_q *q) {
  inv_stmt *p;
  if (q->b->bOom) { inv_err_nomem(q->s); return NULL; }
  p = inv_prepare(q->s, q->b->z);
  if (p && inv_q_apply(q, p)) return NULL;
  return p;
}

char *inv_q_take(inv_q *q, size_t n0) {
  char *z;
  if (q->b->bOom) return NULL;
  z = inv_arena_strdup(&q->s->arena, q->b->z + n0, q->b->n - n0);
  q->b->n = n0;
  q->b->z[n0] = 0;
  return z;
}

const char *inv_q_alias(inv_q *q) {
  char z[16];
  snprintf(z, sizeof z, "e%d", ++q->nAlias);
  return inv_arena_strdup(&q->s->arena, z, strlen(z));
}

/* ===================== what one request may ask for ===================== */

int inv_q_count_regex(inv_q *q) {
  if (++q->nRegex > INV_MAX_REGEX) {
    return inv_err_invalid(q->s, "query", "a request may use at most 1000 regular expressions; "
                           "each element of a regex_in list counts, and each contain value "
                           "with non-ASCII letters.");
  }
  return INV_OK;
}

int inv_q_count_list(inv_q *q, size_t n, int bPattern) {
  size_t nCap = bPattern ? INV_MAX_PATTERN_TOTAL : INV_MAX_LIST_TOTAL;
  int *pn = bPattern ? &q->nPatternVal : &q->nListVal;
  *pn += (int)(n > nCap ? nCap + 1 : n);
  if ((size_t)*pn > nCap) {
    return inv_err_invalid(q->s, "query", bPattern
      ? "the contain_in, not_contain_in and regex_in lists of a request may hold at most "
        "10000 values in all; each is tested on every row."
      : "the in and not_in lists of a request may hold at most 100000 values in all.");
  }
  return INV_OK;
}
