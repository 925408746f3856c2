/*
** pg_dialect.c: how the core's SQL is spelt for PostgreSQL. Documents are
** JSON text in text columns, read as json with #> / #>> / json_typeof and
** iterated with json_array_elements (guarded: it refuses a non-array, and
** PostgreSQL does not promise the order in which AND evaluates its sides);
** paths are bound as text[] literals; text compares as bytes (COLLATE "C");
** regular expressions are PCRE translated to PostgreSQL's (pg_regex.c), run
** caselessly with Unicode case folding (COLLATE "und-x-icu"); the stat
** functions SQLite has in C are pg_schema.c's SQL and PL/pgSQL.
**
** Stat values: plain values keep their SQL type; JSON is text; comparisons
** and orders of values of mixed kinds go through inv_rank / inv_num /
** inv_txt, SQLite's order of json_extract's values.
*/
#include <string.h>
#include <stdio.h>
#include "pg_int.h"

/* A real is stat's numeric of a real (pg_schema.c, inv_real): compared
** with documents' numbers exactly, a real in arithmetic. */
static void xParam(inv_buf *b, int i, int eType) {
  if (eType == INV_REAL) inv_buf_adds(b, "inv_real(");
  inv_buf_addc(b, '$');
  inv_buf_addi(b, i);
  if (eType == INV_INT) inv_buf_adds(b, "::int8");
  else if (eType == INV_REAL) inv_buf_adds(b, "::float8)");
}

/* ===================== accessors ===================== */

/* Bind the text[] literal of a's path: {"a","0","b"}. */
static int bindPath(inv_q *q, const inv_acc *a) {
  inv_buf t;
  char *z;
  int i;
  size_t k;
  inv_buf_init(&t);
  inv_buf_addc(&t, '{');
  for (i = 0; i < a->nSeg; i++) {
    if (i) inv_buf_addc(&t, ',');
    inv_buf_addc(&t, '"');
    for (k = 0; k < a->anSeg[i]; k++) {
      char ch = a->azSeg[i][k];
      if (ch == '"' || ch == '\\') inv_buf_addc(&t, '\\');
      inv_buf_addc(&t, ch);
    }
    inv_buf_addc(&t, '"');
  }
  inv_buf_addc(&t, '}');
  z = t.bOom ? NULL : inv_arena_strdup(&q->s->arena, t.z, t.n);
  inv_buf_free(&t);
  if (!z) { q->b->bOom = 1; return inv_err_nomem(q->s); }
  if (inv_q_bind_text(q, z, strlen(z))) return INV_ERROR;
  inv_buf_adds(q->b, "::text[]");
  return INV_OK;
}

/* The JSON document an accessor reads from, as json. */
static void addDoc(inv_q *q, const inv_acc *a) {
  if (a->eKind == INV_ACC_COL) inv_buf_printf(q->b, "inv_doc(t.%s)", a->pField->zName);
  else if (a->eKind == INV_ACC_ELEM) inv_buf_printf(q->b, "%s.value", a->zBase);
  else inv_buf_printf(q->b, "inv_doc(%s)", a->zBase);
}

/* The value as json (NULL when the path names nothing). */
static int addJ(inv_q *q, const inv_acc *a) {
  if (a->nSeg == 0) { addDoc(q, a); return INV_OK; }
  inv_buf_addc(q->b, '(');
  addDoc(q, a);
  inv_buf_adds(q->b, " #> ");
  if (bindPath(q, a)) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

/* The text of a JSON string value (or of a typed text column): inv_str,
** which reads U+0000 (no text of PostgreSQL holds it) as U+FFFF, as the
** driver binds it (pg_schema.c). */
static int addText(inv_q *q, const inv_acc *a) {
  if (a->eKind == INV_ACC_COL) { inv_buf_printf(q->b, "t.%s", a->pField->zName); return INV_OK; }
  if (a->eKind == INV_ACC_EXPR && a->eValKind != INV_K_JSON) {
    inv_buf_printf(q->b, "(%s)::text", a->zBase);
    return INV_OK;
  }
  inv_buf_adds(q->b, "inv_str(");
  if (addJ(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, ")");
  return INV_OK;
}

static int xValueText(inv_q *q, const inv_acc *a) {
  inv_buf_addc(q->b, '(');
  if (addText(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, " COLLATE \"C\")");
  return INV_OK;
}

static int xValueNumber(inv_q *q, const inv_acc *a) {
  inv_buf_adds(q->b, "inv_num(");
  if (addJ(q, a)) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int xIsNull(inv_q *q, const inv_acc *a) {
  inv_buf_adds(q->b, "coalesce(json_typeof(");
  if (addJ(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, "), 'null') = 'null'");
  return INV_OK;
}

static int xExists(inv_q *q, const inv_acc *a) {
  inv_buf_addc(q->b, '(');
  if (addJ(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, " IS NOT NULL)");
  return INV_OK;
}

static int xJsonTypeIs(inv_q *q, const inv_acc *a, int eJt) {
  static const char *const az[] = {
    "", " = 'string'", " = 'number'", " = 'boolean'", " = 'boolean'", " = 'array'",
    " = 'object'", " = 'null'", " IN ('object','array')"
  };
  if (eJt == INV_JT_TRUE || eJt == INV_JT_FALSE) {
    inv_buf_adds(q->b, "(");
    if (addJ(q, a)) return INV_ERROR;
    inv_buf_adds(q->b, eJt == INV_JT_TRUE ? ")::text = 'true'" : ")::text = 'false'");
    return INV_OK;
  }
  inv_buf_adds(q->b, "json_typeof(");
  if (addJ(q, a)) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  inv_buf_adds(q->b, az[eJt]);
  return INV_OK;
}

static int xJsonEquals(inv_q *q, const inv_acc *a, const char *z, size_t n) {
  inv_buf_addc(q->b, '(');
  if (a->eKind == INV_ACC_COL) inv_buf_printf(q->b, "t.%s", a->pField->zName);
  else {
    inv_buf_addc(q->b, '(');
    if (addJ(q, a)) return INV_ERROR;
    inv_buf_adds(q->b, ")::text");
  }
  /* a path's value is read through inv_doc: the bound text is too */
  inv_buf_adds(q->b, a->eKind == INV_ACC_COL ? " = " : " = inv_doc(");
  if (inv_q_bind_text(q, z, n)) return INV_ERROR;
  inv_buf_adds(q->b, a->eKind == INV_ACC_COL ? ")" : ")::text)");
  return INV_OK;
}

static int xJsonEmpty(inv_q *q, const inv_acc *a) {
  inv_buf_adds(q->b, "((");
  if (addJ(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, ")::text IN ('{}','[]'))");
  return INV_OK;
}

/* LIKE folds ASCII letters only in SQLite: ILIKE under the C collation */
static int xLike(inv_q *q, const inv_acc *a, const char *z, size_t n, int bPre, int bPost) {
  (void)bPre; (void)bPost;
  inv_buf_addc(q->b, '(');
  if (addText(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, " COLLATE \"C\" ILIKE ");
  if (inv_q_bind_text(q, z, n)) return INV_ERROR;
  inv_buf_adds(q->b, " ESCAPE '\\')");
  return INV_OK;
}

/* Unicode's titlecase letters (category Lt) and their lower case */
#define TITLECASE "\u01c5\u01c8\u01cb\u01f2\u1f88\u1f89\u1f8a\u1f8b\u1f8c\u1f8d\u1f8e\u1f8f" \
  "\u1f98\u1f99\u1f9a\u1f9b\u1f9c\u1f9d\u1f9e\u1f9f\u1fa8\u1fa9\u1faa\u1fab\u1fac\u1fad" \
  "\u1fae\u1faf\u1fbc\u1fcc\u1ffc"
#define TITLECASE_LOWER "\u01c6\u01c9\u01cc\u01f3\u1f80\u1f81\u1f82\u1f83\u1f84\u1f85\u1f86" \
  "\u1f87\u1f90\u1f91\u1f92\u1f93\u1f94\u1f95\u1f96\u1f97\u1fa0\u1fa1\u1fa2\u1fa3\u1fa4" \
  "\u1fa5\u1fa6\u1fa7\u1fb3\u1fc3\u1ff3"

static int xRegex(inv_q *q, const inv_acc *a, const char *z, size_t n, int bCase) {
  inv_buf t;
  char zErr[256], *zPat;
  int rc;
  inv_buf_init(&t);
  rc = inv_pg_regex(z, n, !bCase, &t, zErr, sizeof zErr);
  zPat = rc || t.bOom ? NULL : inv_arena_strdup(&q->s->arena, t.z ? t.z : "", t.n);
  inv_buf_free(&t);
  if (rc) return inv_err_db(q->s, "A regular expression cannot run: %s.", zErr);
  if (!zPat) return inv_err_nomem(q->s);
  inv_buf_addc(q->b, '(');
  if (bCase) {
    if (addText(q, a)) return INV_ERROR;
    inv_buf_adds(q->b, " COLLATE \"C\" ~ ");
  } else {
    /* Unicode case folding, as PCRE2's caseless UTF mode. PostgreSQL's
    ** caseless match takes a character's lower and upper case, never a
    ** titlecase letter (U+01C5 ...): the subject's become lower case (its
    ** caseless set is the same in PCRE2); the pattern's sets pg_regex.c
    ** writes out. */
    inv_buf_adds(q->b, "translate(");
    if (addText(q, a)) return INV_ERROR;
    inv_buf_adds(q->b, ", '" TITLECASE "', '" TITLECASE_LOWER "') COLLATE \"und-x-icu\" ~* ");
  }
  if (inv_q_bind_text(q, zPat, strlen(zPat))) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int xContains(inv_q *q, const inv_acc *a, const char *z, size_t n) {
  inv_buf_adds(q->b, "(strpos(");
  if (addText(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, ", ");
  if (inv_q_bind_text(q, z, n)) return INV_ERROR;
  inv_buf_adds(q->b, ") > 0)");
  return INV_OK;
}

static int xStartsWith(inv_q *q, const inv_acc *a, const char *z, size_t n, int bEnd) {
  size_t i, c = 0;
  for (i = 0; i < n; i++) if (((unsigned char)z[i] & 0xC0) != 0x80) c++;
  inv_buf_adds(q->b, bEnd ? "(right(" : "(left(");
  if (addText(q, a)) return INV_ERROR;
  inv_buf_printf(q->b, ", %d) = ", (int)c);          /* a count of ours */
  if (inv_q_bind_text(q, z, n)) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int xEachOpen(inv_q *q, const inv_acc *a, const char *zAlias) {
  inv_buf_adds(q->b, "EXISTS (SELECT 1 FROM json_array_elements(CASE WHEN json_typeof(");
  if (addJ(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, ") = 'array' THEN ");
  if (addJ(q, a)) return INV_ERROR;
  inv_buf_printf(q->b, " END) AS %s(value) WHERE ", zAlias);
  return INV_OK;
}

/* strpos on the stored text: a document of errors is parsed only when it
** holds the value (an errors.error_code filter over a domain: 2.4 against
** 0.7 ms on 2,000 tasks, where the hand-written jsonb containment took 1.6) */
static int xDocHas(inv_q *q, const inv_acc *a, const char *z, size_t n) {
  inv_buf_printf(q->b, "coalesce(strpos(t.%s, ", a->pField->zName);
  if (inv_q_bind_text(q, z, n)) return INV_ERROR;
  inv_buf_adds(q->b, ") > 0, false)");
  return INV_OK;
}

static int xArrayEmpty(inv_q *q, const inv_acc *a) {
  inv_buf_adds(q->b, "coalesce(json_array_length(CASE WHEN json_typeof(");
  addDoc(q, a);
  inv_buf_adds(q->b, ") = 'array' THEN ");
  addDoc(q, a);
  inv_buf_adds(q->b, " END), 0) = 0");
  return INV_OK;
}

/* col = ANY (ARRAY(...)), not col IN (SELECT ...): the same answer (nulls
** and an empty list alike), but the list is decoded once, as an InitPlan,
** and the column's index can take it as a condition (a workspace caller's
** workspace_id IN (ws, '*') was a semi join that decoded the list again
** for every row of the domain it walked). */
static int xColumnIn(inv_q *q, const inv_field *f, const char *z, size_t n) {
  int bText = f->eType == F_STR;
  inv_buf_printf(q->b, "t.%s = ANY (ARRAY(SELECT inv_str(x)%s FROM json_array_elements(inv_doc(", f->zName,
                 bText ? "" : "::numeric");
  if (inv_q_bind_text(q, z, n)) return INV_ERROR;
  inv_buf_adds(q->b, ")) AS j(x)))");
  return INV_OK;
}

/* ORDER BY of a JSON value in SQLite's order of json_extract's values:
** null first (ascending), numbers, then text. */
static void orderJson(inv_q *q, const char *zJ, int bDesc) {
  const char *zDir = bDesc ? " DESC" : "";
  inv_buf_printf(q->b, "inv_rank(%s)%s, inv_num(%s)%s, inv_txt(%s) COLLATE \"C\"%s", zJ, zDir, zJ,
                 zDir, zJ, zDir);
}

/* The column is NOT NULL in our tables (xCreateTable). */
static int colNotNull(const inv_field *f) {
  return (f->flags & FF_NOTNULL) || f->eType == F_INT || strcmp(f->zName, "domain_id") == 0;
}

/* ORDER BY of a plain value: NULL first ascending, last descending, as
** SQLite (a NOT NULL column says nothing, so that its index serves). */
static void orderPlain(inv_q *q, const char *z, int bDesc, int bNotNull) {
  inv_buf_adds(q->b, z);
  if (bNotNull) inv_buf_adds(q->b, bDesc ? " DESC" : "");
  else inv_buf_adds(q->b, bDesc ? " DESC NULLS LAST" : " NULLS FIRST");
}

static int xSortPath(inv_q *q, const inv_acc *a, int bDesc, int bArrayMinMax) {
  size_t n0 = q->b->n;
  const char *zJ;
  if (a->eKind == INV_ACC_COL) {
    char zCol[80];
    snprintf(zCol, sizeof zCol, "t.%s", a->pField->zName);
    orderPlain(q, zCol, bDesc, colNotNull(a->pField));
    return INV_OK;
  }
  if (!bArrayMinMax) {
    if (addJ(q, a)) return INV_ERROR;
  } else {
    /* the minimum (ascending) or maximum (descending) element value */
    const char *zAlias = inv_q_alias(q);
    inv_acc e = *a;
    if (!zAlias) return inv_err_nomem(q->s);
    e.eKind = INV_ACC_ELEM;
    e.zBase = zAlias;
    inv_buf_adds(q->b, "(SELECT ");
    if (addJ(q, &e)) return INV_ERROR;
    inv_buf_adds(q->b, " FROM json_array_elements(CASE WHEN json_typeof(");
    addDoc(q, a);
    inv_buf_adds(q->b, ") = 'array' THEN ");
    addDoc(q, a);
    inv_buf_printf(q->b, " END) AS %s(value) WHERE ", zAlias);
    if (addJ(q, &e)) return INV_ERROR;
    inv_buf_adds(q->b, " IS NOT NULL ORDER BY ");
    {
      size_t n1 = q->b->n;
      const char *zE;
      if (addJ(q, &e)) return INV_ERROR;
      zE = inv_q_take(q, n1);
      if (!zE) return inv_err_nomem(q->s);
      orderJson(q, zE, bDesc);
    }
    inv_buf_adds(q->b, " LIMIT 1)");
  }
  zJ = inv_q_take(q, n0);
  if (!zJ) return inv_err_nomem(q->s);
  orderJson(q, zJ, bDesc);
  return INV_OK;
}

/* ===================== iteration ===================== */

static int xEachFrom(inv_q *q, const char *zArr, const char *zAlias) {
  inv_buf_printf(q->b, "json_array_elements(CASE WHEN json_typeof(inv_doc(%s)) = 'array' "
                 "THEN inv_doc(%s) END) WITH ORDINALITY AS %s(value, key)", zArr, zArr, zAlias);
  return INV_OK;
}
static int xEachElem(inv_q *q, const char *zArr, const char *zAlias) {
  (void)zArr;
  inv_buf_printf(q->b, "%s.value::text", zAlias);
  return INV_OK;
}
static int xEachKey(inv_q *q, const char *zAlias) {
  inv_buf_printf(q->b, "%s.key", zAlias);
  return INV_OK;
}
static int xEachElemArray(inv_q *q, const char *zAlias) {
  inv_buf_printf(q->b, "('[' || %s.value::text || ']')", zAlias);
  return INV_OK;
}

/* ===================== stat ===================== */

/* The core writes a missing value as the literal NULL: typed here, so that
** PostgreSQL can resolve the function it is passed to. */
static const char *typed(const char *z) {
  return strcmp(z, "NULL") == 0 ? "NULL::text" : z;
}

/* A value of kind eKind as json. */
static void asJson(inv_q *q, const char *z, int eKind) {
  z = typed(z);
  if (eKind == INV_K_JSON) inv_buf_printf(q->b, "inv_doc(%s)", z);
  else inv_buf_printf(q->b, "to_json(%s)", z);
}

static int xLimit(inv_q *q, int64_t n) {
  if (n < 0) { inv_buf_adds(q->b, "ALL"); return INV_OK; }
  return inv_q_bind_int(q, n);
}

static int xJsonGet(inv_q *q, const inv_acc *a) {
  if (a->nSeg == 0) { inv_buf_adds(q->b, a->zBase); return INV_OK; }
  inv_buf_printf(q->b, "(inv_doc(%s) #> ", a->zBase);
  if (bindPath(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, ")::text");
  return INV_OK;
}

/* Arrays this dialect builds are compact JSON text (as the core's writer and
** SQLite's json functions make them; json_agg would put a space after each
** comma): '[' || string_agg(element text, ',') || ']'. */
static int xJsonPluck(inv_q *q, const inv_acc *a) {
  inv_buf_printf(q->b, "(SELECT CASE WHEN %s IS NOT NULL THEN '[' || coalesce(string_agg((ea.value #> ",
                 a->zBase);
  if (bindPath(q, a)) return INV_ERROR;
  inv_buf_printf(q->b, ")::text, ',' ORDER BY ea.key), '') || ']' END FROM json_array_elements(CASE WHEN "
                 "json_typeof(inv_doc(%s)) = 'array' THEN inv_doc(%s) END) WITH ORDINALITY AS "
                 "ea(value, key) WHERE (ea.value #> ", a->zBase, a->zBase);
  if (bindPath(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, ") IS NOT NULL)");
  return INV_OK;
}

/* JSON text stays JSON text: its consumers know its kind */
static int xJsonToValue(inv_q *q, const char *z) {
  inv_buf_adds(q->b, z);
  return INV_OK;
}

static int xValueToJson(inv_q *q, const char *z, int eKind, int bNullMissing, const char *zFmt) {
  inv_buf_adds(q->b, "CASE WHEN ");
  inv_buf_printf(q->b, "(%s) IS NULL THEN %s ELSE ", z, bNullMissing ? "NULL" : "'null'");
  if (eKind == INV_K_TIME) inv_buf_printf(q->b, "to_json(inv_date_format(%s, '%s'))::text", z, zFmt);
  else inv_buf_printf(q->b, "to_json(%s)::text", typed(z));
  inv_buf_adds(q->b, " END");
  return INV_OK;
}

static int xNumber(inv_q *q, const char *z, int eKind) {
  inv_buf_adds(q->b, "inv_num(");
  asJson(q, z, eKind);
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

/* rank, number and text of a bound value, as inv_rank/inv_num/inv_txt
** would give for it */
static int bindRanked(inv_q *q, const inv_val *v, int *pRank) {
  switch (v->t) {
    case INV_INT: case INV_REAL: *pRank = 1; return inv_q_bind_val(q, v);
    case INV_BOOL: *pRank = 1; return inv_q_bind_int(q, v->u.b);
    case INV_STR: *pRank = 2; return inv_q_bind_text(q, v->u.s.z, v->u.s.n);
    default: {
      const char *z = inv_json_text(q->s, v);
      if (!z) return inv_err_nomem(q->s);
      *pRank = 2;
      return inv_q_bind_text(q, z, strlen(z));
    }
  }
}

/* The comparison of a value as json (zJ) with a bound value of rank rank
** (zV: its number or text): eq is null-safe; gt/gte/lt/lte order a
** different rank by rank (NULL below everything), the same rank by number
** or text. */
static void compareRanked(inv_q *q, const char *zJ, int rank, const char *zV, const char *zOp) {
  const char *zF = rank == 1 ? "inv_num" : "inv_txt";
  const char *zColl = rank == 1 ? "" : " COLLATE \"C\"";
  if (!strcmp(zOp, "eq") || !strcmp(zOp, "not")) {
    inv_buf_printf(q->b, "%scoalesce(inv_rank(%s) = %d AND %s(%s)%s = %s, false)",
                   zOp[0] == 'n' ? "NOT " : "", zJ, rank, zF, zJ, zColl, zV);
  } else {
    const char *zCmp = !strcmp(zOp, "gt") ? ">" : !strcmp(zOp, "gte") ? ">=" : !strcmp(zOp, "lt") ? "<" : "<=";
    inv_buf_printf(q->b, "(CASE WHEN inv_rank(%s) <> %d THEN inv_rank(%s) %s %d ELSE %s(%s)%s %s %s END)",
                   zJ, rank, zJ, zCmp, rank, zF, zJ, zColl, zCmp, zV);
  }
}

/* zExpr (kind eKind) as json, and v bound: both as arena text */
static int ranked(inv_q *q, const char *z, int eKind, const inv_val *v, const char **pzJ,
                  const char **pzV, int *pRank) {
  size_t n0 = q->b->n;
  asJson(q, z, eKind);
  *pzJ = inv_q_take(q, n0);
  if (!*pzJ) return inv_err_nomem(q->s);
  n0 = q->b->n;
  if (bindRanked(q, v, pRank)) return INV_ERROR;
  *pzV = inv_q_take(q, n0);
  return *pzV ? INV_OK : inv_err_nomem(q->s);
}

static int xCompare(inv_q *q, const char *z, int eKind, const char *zOp, const inv_val *v) {
  const char *zJ, *zV;
  int rank;
  if (ranked(q, z, eKind, v, &zJ, &zV, &rank)) return INV_ERROR;
  compareRanked(q, zJ, rank, zV, zOp);
  return INV_OK;
}

static int xRawEquals(inv_q *q, const char *z, int eKind, const inv_val *v) {
  const char *zJ, *zV;
  int rank;
  if (v->t == INV_NULL) {
    inv_buf_adds(q->b, "(inv_rank(");
    asJson(q, z, eKind);
    inv_buf_adds(q->b, ") = 0)");
    return INV_OK;
  }
  if (ranked(q, z, eKind, v, &zJ, &zV, &rank)) return INV_ERROR;
  compareRanked(q, zJ, rank, zV, "eq");
  return INV_OK;
}

/* MongoDB's $dateToString specifiers as to_char's patterns: one per row in
** C (inv_date_format, pg_schema.c, is PL/pgSQL: 4 us a row, 10x a whole
** stat). Literal text goes in double quotes, which also keep two patterns
** apart (DD then D is not DDD). 0 and the pattern in pOut, or 1 for a
** specifier to_char has no equal of (%U: inv_date_format does it). */
static int toCharFormat(const char *z, size_t n, inv_buf *pOut) {
  size_t i = 0;
  int bQuote = 0;
  while (i < n) {
    const char *zPat = NULL;
    char ch = z[i];
    if (ch == '%' && i + 1 < n) {
      switch (z[i + 1]) {
        case 'Y': zPat = "YYYY"; break;
        case 'm': zPat = "MM"; break;
        case 'd': zPat = "DD"; break;
        case 'H': zPat = "HH24"; break;
        case 'M': zPat = "MI"; break;
        case 'S': zPat = "SS"; break;
        case 'L': zPat = "MS"; break;
        case 'j': zPat = "DDD"; break;
        case 'w': zPat = "D"; break;
        case 'u': zPat = "ID"; break;
        case 'V': zPat = "IW"; break;
        case 'G': zPat = "IYYY"; break;
        case 'U': return 1;
        default: break;
      }
      if (!zPat) {
        /* %z, %Z, %% and unknown ones: literal text, as inv_time_strftime */
        const char *zLit = z[i + 1] == 'z' ? "+0000" : z[i + 1] == 'Z' ? "+0" : z[i + 1] == '%' ? "%" : NULL;
        if (!bQuote) { inv_buf_addc(pOut, '"'); bQuote = 1; }
        if (zLit) inv_buf_adds(pOut, zLit);
        else {
          inv_buf_addc(pOut, '%');
          if (z[i + 1] == '"' || z[i + 1] == '\\') inv_buf_addc(pOut, '\\');
          inv_buf_addc(pOut, z[i + 1]);
        }
        i += 2;
        continue;
      }
      /* a pattern: close the literal, or separate it from the last pattern */
      if (bQuote || pOut->n) inv_buf_adds(pOut, bQuote ? "\"" : "\"\"");
      bQuote = 0;
      inv_buf_adds(pOut, zPat);
      i += 2;
      continue;
    }
    if (!bQuote) { inv_buf_addc(pOut, '"'); bQuote = 1; }
    if (ch == '"' || ch == '\\') inv_buf_addc(pOut, '\\');
    inv_buf_addc(pOut, ch);
    i++;
  }
  if (bQuote) inv_buf_addc(pOut, '"');
  return 0;
}

/* The instant of ms x is the timestamp of inv_date_format (timestamp
** '1970-01-01' + x * interval '1 millisecond'); the instants to_char writes as inv_date_format does: years 1 to 9999
** (inv_date_format pads a year to 4 digits and cuts a longer one) */
#define PG_TS_RANGE "BETWEEN -62135596800000 AND 253402300799999"

static int xDateFormat(inv_q *q, const char *z, const char *zFmt, size_t nFmt, int bPart) {
  inv_buf t;
  char *zPat;
  int rc;
  if (bPart) {
    const char *zField = zFmt[1] == 'Y' ? "year" : zFmt[1] == 'm' ? "month" : "day";
    inv_buf_printf(q->b, "(CASE WHEN (%s) " PG_TS_RANGE " THEN extract(%s FROM (timestamp '1970-01-01' + "
                   "(%s) * interval '1 millisecond'))::int8 ELSE inv_date_format(%s, '%s')::int8 END)",
                   z, zField, z, z, zFmt);                              /* ours */
    return INV_OK;
  }
  inv_buf_init(&t);
  rc = toCharFormat(zFmt, nFmt, &t);
  zPat = rc || t.bOom ? NULL : inv_arena_strdup(&q->s->arena, t.z ? t.z : "", t.n);
  inv_buf_free(&t);
  if (!rc && !zPat) return inv_err_nomem(q->s);
  if (zPat) {
    inv_buf_printf(q->b, "(CASE WHEN (%s) " PG_TS_RANGE " THEN to_char((timestamp '1970-01-01' + (%s) * "
                   "interval '1 millisecond'), ", z, z);
    if (inv_q_bind_text(q, zPat, strlen(zPat))) return INV_ERROR;
    inv_buf_printf(q->b, ") ELSE inv_date_format(%s, ", z);
  } else {
    inv_buf_printf(q->b, "(inv_date_format(%s, ", z);
  }
  if (inv_q_bind_text(q, zFmt, nFmt)) return INV_ERROR;
  inv_buf_adds(q->b, zPat ? ") END)" : "))");
  return INV_OK;
}

/* The group of a date format that names every unit from the year down to
** its finest (%Y with %m %d or %j; then %H, %M, %S in turn; no %L): the
** instant cut to that unit (floor: before 1970 too), an int8 the engine
** hashes, where to_char of every row cost twice the GROUP BY (13.3 against
** 6.8 ms over 23,000 tasks). Formatting the cut instant gives the text of
** any instant of its unit, and no two units give the same text. */
static int xDateGroup(inv_q *q, const char *z, const char *zFmt, size_t nFmt, const char **pzGroup) {
  int bY = 0, bm = 0, bd = 0, bj = 0, bH = 0, bM = 0, bS = 0, bL = 0;
  long long unit;
  size_t i;
  char *zG;
  *pzGroup = NULL;
  for (i = 0; i + 1 < nFmt; i++) {
    if (zFmt[i] != '%') continue;
    switch (zFmt[++i]) {
      case 'Y': bY = 1; break;
      case 'm': bm = 1; break;
      case 'd': bd = 1; break;
      case 'j': bj = 1; break;
      case 'H': bH = 1; break;
      case 'M': bM = 1; break;
      case 'S': bS = 1; break;
      case 'L': bL = 1; break;
      case 'U': return INV_OK;               /* (no to_char pattern: inv_date_format) */
      default: break;
    }
  }
  if (bL || !bY || !((bm && bd) || bj)) return INV_OK;
  if (bS) { if (!bH || !bM) return INV_OK; unit = 1000; }
  else if (bM) { if (!bH) return INV_OK; unit = 60000; }
  else unit = bH ? 3600000 : 86400000;
  {
    size_t n = 2 * strlen(z) + 80;
    zG = inv_arena_alloc(&q->s->arena, n);
    if (!zG) return inv_err_nomem(q->s);
    snprintf(zG, n, "((%s) - (((%s) %% %lld) + %lld) %% %lld)", z, z, unit, unit, unit);
  }
  if (xDateFormat(q, zG, zFmt, nFmt, 0)) return INV_ERROR;
  *pzGroup = zG;
  return INV_OK;
}

static int xAggFirstLast(inv_q *q, int bLast, const char *zSeq, const char *z) {
  inv_buf_printf(q->b, "(array_agg(%s ORDER BY %s%s))[1]", typed(z), zSeq, bLast ? " DESC" : "");
  return INV_OK;
}
static int xAggPush(inv_q *q, const char *zSeq, const char *z) {
  inv_buf_printf(q->b, "inv_cap('[' || coalesce(string_agg(%s, ',' ORDER BY %s), '') || ']', 'push')",
                 z, zSeq);
  return INV_OK;
}
static int xAggAddToSet(inv_q *q, const char *z) {
  inv_buf_printf(q->b, "inv_cap('[' || coalesce(array_to_string(array_agg(DISTINCT (%s) COLLATE \"C\" "
                 "ORDER BY (%s) COLLATE \"C\") FILTER (WHERE (%s) IS NOT NULL), ','), '') || ']', "
                 "'add_to_set')", z, z, z);
  return INV_OK;
}
static int xAggMergeObjects(inv_q *q, const char *zSeq, const char *z) {
  inv_buf_printf(q->b, "inv_merge_objects(%s ORDER BY %s)", z, zSeq);
  return INV_OK;
}
static int xAggMinMax(inv_q *q, int bMax, const char *z, int eKind) {
  if (eKind != INV_K_JSON) {
    inv_buf_printf(q->b, "%s(%s)", bMax ? "max" : "min", typed(z));
    return INV_OK;
  }
  /* the JSON value first in the order (null and missing left out), as the
  ** plain value SQLite's json_extract gives (json: any type in a column) */
  inv_buf_printf(q->b, "inv_value(inv_doc((array_agg(%s ORDER BY ", z);
  {
    size_t n = strlen(z) + 16;
    char *zE = inv_arena_alloc(&q->s->arena, n);
    if (!zE) return inv_err_nomem(q->s);
    snprintf(zE, n, "inv_doc(%s)", z);
    orderJson(q, zE, bMax);
  }
  inv_buf_printf(q->b, ") FILTER (WHERE inv_rank(inv_doc(%s)) > 0))[1]))", z);
  return INV_OK;
}

static int xObject(inv_q *q, const inv_val *const *apName, const char *const *azJson, int n) {
  int i;
  inv_buf_adds(q->b, "inv_cap('{' || concat_ws(','");
  for (i = 0; i < n; i++) {
    inv_buf_adds(q->b, ", CASE WHEN ");
    inv_buf_printf(q->b, "(%s) IS NOT NULL THEN to_json(", azJson[i]);
    if (inv_q_bind_text(q, apName[i]->u.s.z, apName[i]->u.s.n)) return INV_ERROR;
    inv_buf_printf(q->b, "::text)::text || ':' || (%s) END", azJson[i]);
  }
  inv_buf_adds(q->b, ") || '}', 'push')");
  return INV_OK;
}

static int xOperand(inv_q *q, const char *z, int eKind, const char *zOp) {
  inv_buf_adds(q->b, "inv_operand(");
  asJson(q, z, eKind);
  inv_buf_printf(q->b, ", '%s')", zOp);          /* zOp: one of ours */
  return INV_OK;
}
static int xDivide(inv_q *q, const char *zA, const char *zB) {
  inv_buf_printf(q->b, "inv_div(%s, %s)", zA, zB);
  return INV_OK;
}

/* SQLite's arithmetic (pg_schema.c, inv_arith), left to right */
static int xArith(inv_q *q, char cOp, const char *const *az, int n) {
  int i;
  for (i = 1; i < n; i++) inv_buf_adds(q->b, "inv_arith(");
  inv_buf_adds(q->b, az[0]);
  for (i = 1; i < n; i++) inv_buf_printf(q->b, ", '%c', %s)", cOp, az[i]);
  return INV_OK;
}

static int xAggSum(inv_q *q, const char *zSeq, const char *z, int bAvg) {
  (void)zSeq;                       /* inv_sum: the same in any order */
  inv_buf_printf(q->b, bAvg ? "inv_avg(%s)" : "coalesce(inv_sum(%s), 0)", z);
  return INV_OK;
}

static int xProjectUnary(inv_q *q, const char *zOp, int eKind) {
  if (!strcmp(zOp, "size")) {
    inv_buf_adds(q->b, "inv_array_size(inv_doc(x))");
  } else if (!strcmp(zOp, "sum")) {
    inv_buf_adds(q->b, eKind == INV_K_JSON
      ? "CASE WHEN json_typeof(inv_doc(x)) = 'array' THEN (SELECT coalesce(inv_sum(inv_num(e)), 0) "
        "FROM json_array_elements(inv_doc(x)) AS e) ELSE coalesce(inv_num(inv_doc(x)), 0) END"
      : eKind == INV_K_TIME ? "0" : "coalesce(inv_num(to_json(x)), 0)");
  } else if (!strcmp(zOp, "object_to_array")) {
    inv_buf_adds(q->b, "CASE WHEN json_typeof(inv_doc(x)) = 'object' THEN (SELECT '[' || "
                       "coalesce(string_agg('{\"k\":' || to_json(key)::text || ',\"v\":' || value::text "
                       "|| '}', ','), '') || ']' FROM json_each(inv_doc(x))) END");
  } else {
    inv_buf_adds(q->b, "CASE WHEN json_typeof(inv_doc(x)) = 'array' THEN inv_array_to_object(inv_doc(x)) END");
  }
  return INV_OK;
}

static int xQuote(inv_q *q, const char *z) {
  inv_buf_printf(q->b, "coalesce(to_json(%s)::text, 'null')", typed(z));
  return INV_OK;
}

static int xOrderTerm(inv_q *q, const char *z, int eKind, int bDesc) {
  if (eKind == INV_K_JSON) {
    size_t n = strlen(z) + 16;
    char *zJ = inv_arena_alloc(&q->s->arena, n);
    if (!zJ) return inv_err_nomem(q->s);
    snprintf(zJ, n, "inv_doc(%s)", z);
    orderJson(q, zJ, bDesc);
    return INV_OK;
  }
  orderPlain(q, z, bDesc, 0);
  return INV_OK;
}

/* SQLite's GROUP BY order: NULL first; a plain value in SQLite's order of
** values (null, numbers, text); JSON text by its bytes; datetimes by time. */
static int xGroupOrder(inv_q *q, const char *const *azExpr, const int *aeKind, int n) {
  int i;
  for (i = 0; i < n; i++) {
    if (i) inv_buf_adds(q->b, ", ");
    if (i == 0) inv_buf_adds(q->b, "ORDER BY ");
    int eKind = aeKind[i] & 0xff;
    if (eKind == INV_K_JSON) {
      inv_buf_printf(q->b, "(%s)::text COLLATE \"C\" NULLS FIRST", azExpr[i]);
    } else if (eKind == INV_K_VAL && (aeKind[i] & INV_K_IS_TEXT)) {
      /* text (a text column, a formatted date): strings, or null first */
      inv_buf_printf(q->b, "(%s) COLLATE \"C\" NULLS FIRST", azExpr[i]);
    } else if (eKind == INV_K_VAL && (aeKind[i] & INV_K_IS_INT)) {
      inv_buf_printf(q->b, "(%s) NULLS FIRST", azExpr[i]);
    } else if (eKind == INV_K_TIME) {
      inv_buf_printf(q->b, "(%s) NULLS FIRST", azExpr[i]);
    } else {
      /* orderJson's order (inv_rank, inv_num, inv_txt) of to_json(x),
      ** spelt with built-in functions only: x is a plain value, of one SQL
      ** type, never a JSON string holding U+0000; the three SQL functions
      ** inlined cost 0.2-0.3 ms of planning on every execution of a stat
      ** whose plan is made per call (a small domain) */
      const char *zJ = typed(azExpr[i]);
      inv_buf_printf(q->b, "CASE json_typeof(to_json(%s)) WHEN 'number' THEN 1 WHEN 'boolean' THEN 1 "
                     "WHEN 'string' THEN 2 WHEN 'object' THEN 2 WHEN 'array' THEN 2 ELSE 0 END, ", zJ);
      inv_buf_printf(q->b, "CASE json_typeof(to_json(%s)) WHEN 'number' THEN to_json(%s)::text::numeric "
                     "WHEN 'boolean' THEN CASE WHEN to_json(%s)::text = 'true' THEN 1 ELSE 0 END END, ", zJ, zJ, zJ);
      inv_buf_printf(q->b, "CASE json_typeof(to_json(%s)) WHEN 'string' THEN to_json(%s) #>> '{}' "
                     "WHEN 'object' THEN to_json(%s)::text WHEN 'array' THEN to_json(%s)::text END COLLATE \"C\"",
                     zJ, zJ, zJ, zJ);
    }
  }
  return INV_OK;
}

/* ===================== schema ===================== */

static void xCreateTable(inv_buf *b, const inv_resource *r) {
  int i;
  inv_buf_printf(b, "CREATE TABLE %s (id bigint GENERATED ALWAYS AS IDENTITY", r->zTable);
  for (i = 0; i < r->nField; i++) {
    const inv_field *f = &r->aField[i];
    int bNotNull = colNotNull(f);
    inv_buf_printf(b, ", %s ", f->zName);
    switch (f->eType) {
      case F_STR:  inv_buf_adds(b, "text COLLATE \"C\""); break;
      case F_INT:  inv_buf_adds(b, "bigint DEFAULT 0"); break;
      case F_TIME: inv_buf_adds(b, "bigint"); break;
      case F_OBJ:  inv_buf_adds(b, "text COLLATE \"C\""); break;
      case F_ERRS:
        inv_buf_adds(b, "text COLLATE \"C\"");
        if (f->flags & FF_NOTNULL) inv_buf_adds(b, " DEFAULT '[]'");
        break;
    }
    if (bNotNull) inv_buf_adds(b, " NOT NULL");
  }
  /* keyed by domain first: the table can be distributed by domain */
  inv_buf_printf(b, ", PRIMARY KEY (domain_id, id), UNIQUE (domain_id, %s))",
                 r->aField[r->iId].zName);
}

/* ===================== the write side's statements ===================== */

/* job_task.finish's UPDATE of the task (without its RETURNING) */
#define TASK_FINISH_UPDATE \
  "UPDATE job_task SET created_count = created_count + $1::int8, updated_count = updated_count + $2::int8, " \
  "deleted_count = deleted_count + $3::int8, disconnected_count = disconnected_count + $4::int8, " \
  "failure_count = failure_count + $5::int8, total_count = total_count + $6::int8, " \
  "remained_sub_tasks = remained_sub_tasks - 1, " \
  "started_at = coalesce(started_at, $7::int8), " \
  "status = CASE WHEN $8::int8 <> 0 THEN 'FAILURE' " \
  "  WHEN remained_sub_tasks = 1 AND status <> 'FAILURE' THEN 'SUCCESS' ELSE status END, " \
  "finished_at = CASE WHEN $8::int8 <> 0 OR (remained_sub_tasks = 1 AND status <> 'FAILURE') " \
  "  THEN $7::int8 ELSE finished_at END " \
  "WHERE job_task_id = $9 AND domain_id = $10 AND remained_sub_tasks > 0 "
#define JOURNAL_COLS "INSERT INTO change (at, op, resource, id, domain_id, job_id) "
/* A journal INSERT that takes its rows' seqs itself (schema 4): the rows
** r(n, at, op, resource, id, domain_id, job_id), n numbering them from 1,
** go in with seq = the counter + n, the counter moved on by their number in
** the same statement. The UPDATE of change_seq holds its row until COMMIT,
** so transactions that take seqs commit in seq order (PostgreSQL lets a
** waiter go only once the commit is visible): a reader that has seen seq X
** never later sees a row below X appear, as with the commit stamp
** (pg_schema.c), whose trigger now fires only for rows inserted without a
** seq. The rows of this transaction still without one (journalled before a
** delete or a sweep, whose later statements take row locks: taking
** change_seq there could deadlock with a finish) are numbered first, in
** their order, so the transaction's rows keep the order they were written
** in. Only statements after which the write takes no other row lock use
** this; those after which it runs nothing (INV_PG_THEN_COMMIT, pg_int.h)
** go with their COMMIT in one exchange: change_seq is then held for the
** server's time only (held across a round trip to the client, 8 writers
** finished 35-40 % fewer tasks a second than with the commit stamp). */
#define JOURNAL_TAKE(ROWS) \
  "WITH r (n, at, op, resource, id, domain_id, job_id) AS (" ROWS "), " \
  "p AS (SELECT ctid AS t, row_number() OVER (ORDER BY pending) AS n FROM change " \
  "WHERE seq IS NULL AND xid = pg_current_xact_id()), " \
  "k AS (SELECT (SELECT count(*) FROM p) AS np, (SELECT count(*) FROM r) AS nr), " \
  "s AS (UPDATE change_seq SET seq = seq + k.np + k.nr FROM k WHERE k.np + k.nr > 0 " \
  "RETURNING change_seq.seq - k.np - k.nr AS base, k.np), " \
  "u AS (UPDATE change AS c SET seq = s.base + p.n FROM s, p WHERE c.ctid = p.t) " \
  "INSERT INTO change (seq, at, op, resource, id, domain_id, job_id) " \
  "SELECT s.base + s.np + r.n, r.at, r.op, r.resource, r.id, r.domain_id, r.job_id FROM r, s"
#define JOURNAL_SCOPE_COLS \
  "INSERT INTO change (at, op, resource, id, domain_id, workspace_id, project_id, job_id, " \
  "collector_id) "

static const char *const azSql[INV_SQL_N] = {
  /* INV_SQL_JOB_FINALIZE */
  "UPDATE job SET status = CASE WHEN failure_tasks > 0 THEN 'FAILURE' ELSE 'SUCCESS' END, "
  "finished_at = $1::int8, updated_at = $1::int8 "
  "WHERE job_id = $2 AND domain_id = $3 AND status = 'IN_PROGRESS' AND remained_tasks = 0",
  /* INV_SQL_JOB_TASK_DONE: no indexed column set (a HOT update) */
  "UPDATE job SET success_tasks = success_tasks + 1 - $4::int8, failure_tasks = failure_tasks + $4::int8, "
  "remained_tasks = greatest(remained_tasks - 1, 0), updated_at = $1::int8 "
  "WHERE job_id = $2 AND domain_id = $3 RETURNING remained_tasks, status",
  /* INV_SQL_JOB_TASK_LEFT */
  "UPDATE job SET total_tasks = greatest(total_tasks - 1, 0), "
  "remained_tasks = greatest(remained_tasks - 1, 0), updated_at = $1::int8 "
  "WHERE job_id = $2 AND domain_id = $3",
  /* INV_SQL_TASK_LOAD: the row is locked for the write that follows */
  "SELECT status, remained_sub_tasks, job_id, (started_at IS NOT NULL)::int "
  "FROM job_task WHERE job_task_id = $1 AND domain_id = $2 FOR UPDATE",
  /* INV_SQL_TASK_APPEND_ERROR: the array text gains one element */
  "UPDATE job_task SET errors = CASE WHEN errors = '[]' THEN '[' || $1 || ']' "
  "ELSE left(errors, -1) || ',' || $1 || ']' END "
  "WHERE job_task_id = $2 AND domain_id = $3",
  /* INV_SQL_JOB_CANCEL_DUPLICATES */
  "UPDATE job SET status = 'CANCELED', finished_at = $1::int8, updated_at = $1::int8 "
  "WHERE domain_id = $2 AND collector_id = $3 AND status = 'IN_PROGRESS' "
  "AND request_workspace_id IS NOT DISTINCT FROM $4::text "
  "AND request_secret_id IS NOT DISTINCT FROM $5::text",
  /* INV_SQL_JOB_INSERT */
  "INSERT INTO job (job_id, status, total_tasks, remained_tasks, "
  "request_secret_id, request_workspace_id, resource_group, domain_id, "
  "workspace_id, collector_id, plugin_id, created_at, updated_at, finished_at) "
  "VALUES ($1, $2, $3::int8, $3::int8, $4, $5, $6, $7, $8, $9, $10, $11::int8, $11::int8, $12::int8) "
  "ON CONFLICT DO NOTHING",
  /* INV_SQL_TASK_INSERT */
  "INSERT INTO job_task (job_task_id, status, provider, total_sub_tasks, "
  "remained_sub_tasks, job_id, secret_id, collector_id, service_account_id, "
  "project_id, workspace_id, domain_id, created_at) "
  "VALUES ($1, 'PENDING', $2, $3::int8, $3::int8, $4, $5, $6, $7, $8, $9, $10, $11::int8) "
  "ON CONFLICT DO NOTHING",
  /* INV_SQL_JOB_IS_CANCELED */
  "SELECT (status = 'CANCELED')::int FROM job WHERE job_id = $1 AND domain_id = $2",
  /* INV_SQL_TASK_FAIL_CANCELED */
  "UPDATE job_task SET status = 'FAILURE', finished_at = $1::int8, "
  "remained_sub_tasks = 0 WHERE job_task_id = $2 AND domain_id = $3",
  /* INV_SQL_TASK_START */
  "UPDATE job_task SET status = 'IN_PROGRESS', started_at = $1::int8 "
  "WHERE job_task_id = $2 AND domain_id = $3",
  /* INV_SQL_TASK_FINISH */
  TASK_FINISH_UPDATE
  "RETURNING remained_sub_tasks, status, job_id",
  /* INV_SQL_JOB_STATUS: the row is locked for the write that follows */
  "SELECT status FROM job WHERE job_id = $1 AND domain_id = $2 FOR UPDATE",
  /* INV_SQL_JOB_CANCEL */
  "UPDATE job SET status = 'CANCELED', finished_at = $1::int8, updated_at = $1::int8 "
  "WHERE job_id = $2 AND domain_id = $3 AND status = 'IN_PROGRESS'",
  /* INV_SQL_SWEEP_TASKS */
  "UPDATE job_task t SET status = 'FAILURE', finished_at = $1::int8, remained_sub_tasks = 0, "
  "errors = CASE WHEN t.errors = '[]' THEN '[' || $4 || ']' ELSE left(t.errors, -1) || ',' || $4 || ']' END "
  "FROM job j WHERE t.remained_sub_tasks > 0 AND j.job_id = t.job_id AND j.domain_id = t.domain_id "
  "AND j.status = 'IN_PROGRESS' AND j.created_at < $2::int8 "
  "AND ($3::text IS NULL OR j.domain_id = $3::text)",
  /* INV_SQL_SWEEP_JOBS */
  "UPDATE job SET status = 'FAILURE', finished_at = $1::int8, updated_at = $1::int8, "
  "failure_tasks = failure_tasks + remained_tasks, remained_tasks = 0 "
  "WHERE status = 'IN_PROGRESS' AND created_at < $2::int8 AND ($3::text IS NULL OR domain_id = $3::text)",
  /* INV_SQL_PURGE_JOB_TASKS */
  "DELETE FROM job_task t USING job j WHERE j.job_id = t.job_id AND j.domain_id = t.domain_id "
  "AND j.created_at < $1::int8 AND ($2::text IS NULL OR j.domain_id = $2::text)",
  /* INV_SQL_PURGE_TASKS: domain by domain on job_task_domain_created (the
  ** domains found on the index one step each: PostgreSQL has no skip-scan,
  ** and no index on created_at alone) */
  "DELETE FROM job_task WHERE created_at < $1::int8 AND domain_id IN ("
  "WITH RECURSIVE d(x) AS (SELECT min(domain_id) FROM job_task WHERE $2::text IS NULL "
  "UNION ALL SELECT (SELECT min(domain_id) FROM job_task WHERE domain_id > d.x) FROM d WHERE d.x IS NOT NULL) "
  "SELECT x FROM d WHERE x IS NOT NULL UNION ALL SELECT $2::text WHERE $2::text IS NOT NULL)",
  /* INV_SQL_PURGE_JOBS */
  "DELETE FROM job WHERE created_at < $1::int8 AND ($2::text IS NULL OR domain_id = $2::text)",
  /* INV_SQL_PURGE_SPOT_JOBS */
  "DELETE FROM spot_job WHERE created_at < $1::int8 AND ($2::text IS NULL OR domain_id = $2::text)",
  /* INV_SQL_JOB_DELETE_TASKS */
  "DELETE FROM job_task WHERE job_id = $1 AND domain_id = $2",
  /* INV_SQL_JOURNAL_TASK (start, add_error: the write's last statement,
  ** COMMIT sent with it) */
  INV_PG_THEN_COMMIT JOURNAL_TAKE("SELECT 1::int8, $1::int8, $2::text, 'job_task'::text, $3::text, $4::text, $5::text"),
  /* INV_SQL_JOURNAL_JOB (create without tasks, cancel, a task's delete: the last
  ** statements) */
  JOURNAL_TAKE("SELECT 1::int8, $1::int8, $2::text, 'job'::text, $3::text, $4::text, $3::text"),
  /* INV_SQL_JOURNAL_TASK_JOB (start of a task of a canceled job: the last) */
  INV_PG_THEN_COMMIT JOURNAL_TAKE("VALUES (1::int8, $1::int8, $2::text, 'job_task'::text, $3::text, $4::text, $5::text), "
               "(2, $1::int8, $2::text, 'job', $5::text, $4::text, $5::text)"),
  /* INV_SQL_JOURNAL_JOB_TASKS (create's last statement, without
  ** INV_SQL_JOURNAL_JOB_AND_TASKS) */
  INV_PG_THEN_COMMIT JOURNAL_TAKE("SELECT row_number() OVER (ORDER BY id), $1::int8, $2::text, 'job_task'::text, job_task_id, "
               "domain_id, job_id FROM job_task WHERE job_id = $3 AND domain_id = $4"),
  /* INV_SQL_JOURNAL_TASK_DELETED */
  JOURNAL_SCOPE_COLS "SELECT $1::int8, $2, 'job_task', job_task_id, domain_id, workspace_id, "
  "project_id, job_id, collector_id FROM job_task WHERE job_task_id = $3 AND domain_id = $4",
  /* INV_SQL_JOURNAL_JOB_DELETED_TASKS */
  JOURNAL_SCOPE_COLS "SELECT $1::int8, $2, 'job_task', job_task_id, domain_id, workspace_id, "
  "project_id, job_id, collector_id FROM job_task WHERE job_id = $3 AND domain_id = $4 ORDER BY id",
  /* INV_SQL_JOURNAL_JOB_DELETED */
  JOURNAL_SCOPE_COLS "SELECT $1::int8, $2, 'job', job_id, domain_id, workspace_id, NULL, job_id, "
  "collector_id FROM job WHERE job_id = $3 AND domain_id = $4",
  /* INV_SQL_JOURNAL_SWEEP_TASKS */
  JOURNAL_COLS "SELECT $1::int8, $2, 'job_task', t.job_task_id, t.domain_id, t.job_id FROM job AS j "
  "JOIN job_task AS t ON t.job_id = j.job_id AND t.domain_id = j.domain_id "
  "WHERE j.status = 'IN_PROGRESS' AND j.created_at < $4::int8 "
  "AND ($3::text IS NULL OR j.domain_id = $3::text) AND t.remained_sub_tasks > 0 ORDER BY t.id",
  /* INV_SQL_JOURNAL_SWEEP_JOBS */
  JOURNAL_COLS "SELECT $1::int8, $2, 'job', job_id, domain_id, job_id FROM job "
  "WHERE status = 'IN_PROGRESS' AND created_at < $4::int8 AND ($3::text IS NULL OR domain_id = $3::text) "
  "ORDER BY id",
  /* INV_SQL_JOURNAL_DUPLICATES: the first statement of job.create (the
  ** journal is always on here): a function that takes the collector's
  ** lock before it reads, so that two creates of one collector run one
  ** after the other and the second cancels the first (pg_schema.c) */
  "SELECT inv_journal_duplicates($1::int8, $2, $3, $4, $5::text, $6::text)",
  /* INV_SQL_JOURNAL_RESET (import, purge: their last statements) */
  JOURNAL_TAKE("SELECT 1::int8, $1::int8, $2::text, $3::text, ''::text, NULL::text, NULL::text"),
  /* INV_SQL_JOURNAL_TRIM: rows another trim is deleting are left to it (a
  ** trim runs after a journal statement, which may hold change_seq: waiting
  ** there for a transaction that waits for change_seq at its commit would
  ** deadlock) */
  "DELETE FROM change WHERE seq IN (SELECT seq FROM change WHERE at <= $1::int8 "
  "AND seq < (SELECT max(seq) FROM change) FOR UPDATE SKIP LOCKED)",
  /* INV_SQL_JOURNAL_BOUNDS: the newest is the counter (rows may be gone) */
  "SELECT (SELECT min(seq) FROM change), (SELECT seq FROM change_seq)",
  /* INV_SQL_JOURNAL_READ */
  "SELECT c.seq, c.at, c.resource, c.op, c.id, c.domain_id, "
  "coalesce(c.workspace_id, t.workspace_id, j.workspace_id), coalesce(c.project_id, t.project_id), "
  "c.job_id, coalesce(c.collector_id, t.collector_id, j.collector_id) FROM change AS c "
  "LEFT JOIN job_task AS t ON c.op = 'upsert' AND c.resource = 'job_task' "
  "AND t.job_task_id = c.id AND t.domain_id = c.domain_id "
  "LEFT JOIN job AS j ON c.op = 'upsert' AND c.resource = 'job' "
  "AND j.job_id = c.id AND j.domain_id = c.domain_id "
  "WHERE c.seq > $1::int8 ORDER BY c.seq LIMIT $2::int8",
  /* INV_SQL_JOB_LOCK_COLLECTOR: at READ COMMITTED a statement sees what was
  ** committed when it started; without the lock two creates of one collector
  ** each miss the other's new job and both stay IN_PROGRESS */
  "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/' || $1::text), hashtext($2::text))",
  /* INV_SQL_TASK_INSERT_JSON: a job's tasks in one round trip (one
  ** INSERT a task made job.create 100 round trips) */
  "INSERT INTO job_task (job_task_id, status, provider, total_sub_tasks, "
  "remained_sub_tasks, job_id, secret_id, collector_id, service_account_id, "
  "project_id, workspace_id, domain_id, created_at) "
  "SELECT x.i, 'PENDING', x.p, x.n, x.n, $1, x.s, $2, x.a, x.r, x.w, $3, $4::int8 "
  "FROM json_to_recordset($5::json) AS x(i text, p text, n int8, s text, a text, r text, w text) "
  "ON CONFLICT DO NOTHING",
  /* INV_SQL_TASK_IDS_OF_JOB */
  "SELECT job_task_id FROM job_task WHERE job_id = $1 AND domain_id = $2",
  /* INV_SQL_TASK_FINISH_ALL: a finish in one round trip, where the task's
  ** UPDATE, the job's and the journal's INSERT took three; the row is
  ** rendered from the result (the by-id SELECT was a fourth). A journal
  ** row's job_id is '' for a task without a job, as the core binds it. The
  ** journal rows take their seqs as JOURNAL_TAKE's do (the first journal
  ** rows of the transaction: none to number before them), change_seq after
  ** the task's and the job's rows (k reads j: a cancel holds the job and
  ** waits for change_seq; the other order would deadlock with it). The
  ** job is finalised here too (INV_SQL_JOB_FINALIZE's change, when its last
  ** task is done: status is an indexed column, but an UPDATE that leaves
  ** its value as it was stays HOT), so that nothing follows: COMMIT goes
  ** with the statement (INV_PG_THEN_COMMIT). */
  INV_PG_THEN_COMMIT "WITH t AS (" TASK_FINISH_UPDATE "RETURNING job_task.*), "
  "j AS (UPDATE job SET success_tasks = success_tasks + CASE WHEN t.status = 'FAILURE' THEN 0 ELSE 1 END, "
  "failure_tasks = failure_tasks + CASE WHEN t.status = 'FAILURE' THEN 1 ELSE 0 END, "
  "remained_tasks = greatest(remained_tasks - 1, 0), updated_at = $7::int8, "
  "status = CASE WHEN job.status = 'IN_PROGRESS' AND job.remained_tasks <= 1 THEN "
  "  CASE WHEN job.failure_tasks > 0 OR t.status = 'FAILURE' THEN 'FAILURE' ELSE 'SUCCESS' END "
  "  ELSE job.status END, "
  "finished_at = CASE WHEN job.status = 'IN_PROGRESS' AND job.remained_tasks <= 1 THEN $7::int8 "
  "  ELSE job.finished_at END "
  "FROM t WHERE t.remained_sub_tasks = 0 AND t.job_id <> '' AND job.job_id = t.job_id "
  "AND job.domain_id = t.domain_id RETURNING job.remained_tasks, job.status), "
  "r (n, resource, id, domain_id, job_id) AS (SELECT 1::int8, 'job_task'::text, t.job_task_id, t.domain_id, "
  "coalesce(t.job_id, '') FROM t UNION ALL SELECT 2, 'job', t.job_id, t.domain_id, t.job_id "
  "FROM t WHERE t.remained_sub_tasks = 0 AND t.job_id <> ''), "
  "k AS (SELECT (SELECT count(*) FROM r) AS nr, (SELECT count(*) FROM j) AS nj), "
  "s AS (UPDATE change_seq SET seq = seq + k.nr FROM k WHERE k.nr > 0 AND k.nj >= 0 "
  "RETURNING change_seq.seq - k.nr AS base), "
  "c AS (INSERT INTO change (seq, at, op, resource, id, domain_id, job_id) "
  "SELECT s.base + r.n, $7::int8, 'upsert', r.resource, r.id, r.domain_id, r.job_id FROM r, s) "
  "SELECT t.*, j.remained_tasks, j.status FROM t LEFT JOIN j ON true",
  /* INV_SQL_TASK_FINISH_PLAIN, INV_SQL_JOB_TASK_DONE_PLAIN: none (RETURNING
  ** costs PostgreSQL nothing more) */
  NULL, NULL,
  /* INV_SQL_JOURNAL_JOB_AND_TASKS: job.create's last statement (the job's
  ** row and its tasks' took two, each taking change_seq) */
  INV_PG_THEN_COMMIT JOURNAL_TAKE("SELECT 1::int8, $1::int8, $2::text, 'job'::text, $3::text, $4::text, $3::text "
               "UNION ALL SELECT 1 + row_number() OVER (ORDER BY id), $1::int8, $2::text, 'job_task'::text, "
               "job_task_id, domain_id, job_id FROM job_task WHERE job_id = $3 AND domain_id = $4"),
};

const inv_dialect inv_pg_dialect = {
  3, "true", "false", xParam, azSql, xCreateTable,
  xValueText, xValueNumber, xIsNull, xExists, xJsonTypeIs, xJsonEquals, xJsonEmpty,
  xLike, xRegex, xContains, xStartsWith, xEachOpen, xArrayEmpty, xColumnIn, xSortPath,
  inv_pg_regex_check,
  xEachFrom, xEachElem, xEachKey, xEachElemArray,
  "MATERIALIZED ", xLimit, xJsonGet, xJsonPluck, xJsonToValue, xValueToJson, xNumber, xCompare,
  xRawEquals, xDateFormat, xAggFirstLast, xAggPush, xAggAddToSet, xAggMergeObjects, xAggMinMax,
  xObject, xOperand, xDivide, xProjectUnary, xQuote, xOrderTerm, xGroupOrder, xArith, xAggSum,
  xDateGroup, xDocHas
};
