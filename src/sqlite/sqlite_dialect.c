/*
** sqlite_dialect.c: how the core's SQL is spelt for SQLite. Documents are
** JSON text in TEXT columns, read with json_extract / json_type and iterated
** with json_each; paths are bound as '$."key"[N]' strings (labels written as
** the stored JSON writes keys, escaped, since SQLite compares labels with the
** raw key text); regular expressions run in inv_regexp (sqlite_regex.c,
** PCRE2); the stat aggregates SQLite lacks are C functions (sqlite_func.c).
*/
#include <string.h>
#include <stdio.h>
#include "sqlite_int.h"
#include "inv_regex.h"

/* Numbered, so that a compiler may move an expression (with its
** parameters) inside another one it emits later. */
static void xParam(inv_buf *b, int i, int eType) {
  (void)eType;
  inv_buf_addc(b, '?');
  inv_buf_addi(b, i);
}

/* ===================== accessors ===================== */

/* Bind the '$...' path of a's segments. */
static int bindPath(inv_q *q, const inv_acc *a) {
  inv_buf t;
  char *z;
  int i;
  inv_buf_init(&t);
  inv_buf_addc(&t, '$');
  for (i = 0; i < a->nSeg; i++) {
    if (i == 0 && a->bIndex0) {
      inv_buf_addc(&t, '[');
      inv_buf_add(&t, a->azSeg[i], a->anSeg[i]);
      inv_buf_addc(&t, ']');
    } else {
      inv_buf_addc(&t, '.');
      inv_json_write_str(&t, a->azSeg[i], a->anSeg[i]);
    }
  }
  z = t.bOom ? NULL : inv_arena_strdup(&q->s->arena, t.z, t.n);
  inv_buf_free(&t);
  if (!z) { q->b->bOom = 1; return inv_err_nomem(q->s); }
  return inv_q_bind_text(q, z, strlen(z));
}

/* The JSON document an accessor reads from. */
static void addDoc(inv_q *q, const inv_acc *a) {
  if (a->eKind == INV_ACC_COL) inv_buf_printf(q->b, "t.%s", a->pField->zName);
  else if (a->eKind == INV_ACC_ELEM) inv_buf_printf(q->b, "%s.value", a->zBase);
  else inv_buf_adds(q->b, a->zBase);          /* PATH, EXPR */
}

/* The value: an SQL value for scalars, JSON text for containers. */
static int addX(inv_q *q, const inv_acc *a) {
  if (a->eKind == INV_ACC_COL || a->nSeg == 0) { addDoc(q, a); return INV_OK; }
  inv_buf_adds(q->b, "json_extract(");
  addDoc(q, a);
  inv_buf_adds(q->b, ", ");
  if (bindPath(q, a)) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

/* Its JSON type ('text', 'integer', 'real', 'true', 'false', 'null',
** 'object', 'array'; NULL when missing). */
static int addTX(inv_q *q, const inv_acc *a) {
  if (a->eKind == INV_ACC_ELEM && a->nSeg == 0) {
    inv_buf_printf(q->b, "%s.type", a->zBase);
    return INV_OK;
  }
  inv_buf_adds(q->b, "json_type(");
  addDoc(q, a);
  if (a->nSeg) {
    inv_buf_adds(q->b, ", ");
    if (bindPath(q, a)) return INV_ERROR;
  }
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int xValue(inv_q *q, const inv_acc *a) { return addX(q, a); }

static int xIsNull(inv_q *q, const inv_acc *a) {
  if (addX(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, " IS NULL");
  return INV_OK;
}

static int xExists(inv_q *q, const inv_acc *a) {
  if (addTX(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, " IS NOT NULL");
  return INV_OK;
}

static int xJsonTypeIs(inv_q *q, const inv_acc *a, int eJt) {
  static const char *const az[] = {
    "", " = 'text'", " IN ('integer','real')", " = 'true'", " = 'false'", " = 'array'",
    " = 'object'", " = 'null'", " IN ('object','array')"
  };
  if (addTX(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, az[eJt]);
  return INV_OK;
}

static int xJsonEquals(inv_q *q, const inv_acc *a, const char *z, size_t n) {
  if (addX(q, a)) return INV_ERROR;
  if (a->eKind == INV_ACC_COL && n == 2) {        /* the field's empty value, as stored */
    inv_buf_adds(q->b, " = ");
    return inv_q_bind_text(q, z, n);
  }
  inv_buf_adds(q->b, " = json(");
  if (inv_q_bind_text(q, z, n)) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int xJsonEmpty(inv_q *q, const inv_acc *a) {
  inv_buf_addc(q->b, '(');
  if (xJsonTypeIs(q, a, INV_JT_CONTAINER)) return INV_ERROR;
  inv_buf_adds(q->b, " AND ");
  if (addX(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, " IN ('{}','[]'))");
  return INV_OK;
}

static int xLike(inv_q *q, const inv_acc *a, const char *z, size_t n, int bPre, int bPost) {
  (void)bPre; (void)bPost;
  if (addX(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, " LIKE ");
  if (inv_q_bind_text(q, z, n)) return INV_ERROR;
  inv_buf_adds(q->b, " ESCAPE '\\'");
  return INV_OK;
}

static int xRegex(inv_q *q, const inv_acc *a, const char *z, size_t n, int bCase) {
  inv_buf_adds(q->b, "inv_regexp(");
  if (inv_q_bind_text(q, z, n)) return INV_ERROR;
  inv_buf_adds(q->b, ", ");
  if (addX(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, bCase ? ", 1)" : ")");
  return INV_OK;
}

static int xContains(inv_q *q, const inv_acc *a, const char *z, size_t n) {
  inv_buf_adds(q->b, "instr(");
  if (addX(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, ", ");
  if (inv_q_bind_text(q, z, n)) return INV_ERROR;
  inv_buf_adds(q->b, ") > 0");
  return INV_OK;
}

static size_t utf8Chars(const char *z, size_t n) {
  size_t i, c = 0;
  for (i = 0; i < n; i++) if (((unsigned char)z[i] & 0xC0) != 0x80) c++;
  return c;
}

static int xStartsWith(inv_q *q, const inv_acc *a, const char *z, size_t n, int bEnd) {
  inv_buf_adds(q->b, "substr(");
  if (addX(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, bEnd ? ", -" : ", 1, ");
  if (inv_q_bind_int(q, (int64_t)utf8Chars(z, n))) return INV_ERROR;
  inv_buf_adds(q->b, ") = ");
  return inv_q_bind_text(q, z, n);
}

static int xEachOpen(inv_q *q, const inv_acc *a, const char *zAlias) {
  inv_buf_adds(q->b, "EXISTS (SELECT 1 FROM json_each(");
  addDoc(q, a);
  if (a->eKind != INV_ACC_COL && a->nSeg) {
    inv_buf_adds(q->b, ", ");
    if (bindPath(q, a)) return INV_ERROR;
  }
  inv_buf_printf(q->b, ") AS %s WHERE ", zAlias);
  return INV_OK;
}

static int xArrayEmpty(inv_q *q, const inv_acc *a) {
  inv_buf_adds(q->b, "NOT EXISTS (SELECT 1 FROM json_each(");
  addDoc(q, a);
  inv_buf_adds(q->b, "))");
  return INV_OK;
}

static int xColumnIn(inv_q *q, const inv_field *f, const char *z, size_t n) {
  inv_buf_printf(q->b, "t.%s IN (SELECT value FROM json_each(", f->zName);
  if (inv_q_bind_text(q, z, n)) return INV_ERROR;
  inv_buf_adds(q->b, "))");
  return INV_OK;
}

static int xSortPath(inv_q *q, const inv_acc *a, int bDesc, int bArrayMinMax) {
  if (!bArrayMinMax) {
    if (addX(q, a)) return INV_ERROR;
    if (bDesc) inv_buf_adds(q->b, " DESC");
    return INV_OK;
  }
  {
    const char *zAlias = inv_q_alias(q);
    inv_acc e = *a;
    if (!zAlias) return inv_err_nomem(q->s);
    e.eKind = INV_ACC_ELEM;
    e.zBase = zAlias;
    inv_buf_printf(q->b, "(SELECT %s(", bDesc ? "max" : "min");
    if (addX(q, &e)) return INV_ERROR;
    inv_buf_adds(q->b, ") FROM json_each(");
    addDoc(q, a);
    inv_buf_printf(q->b, ") AS %s)", zAlias);
    if (bDesc) inv_buf_adds(q->b, " DESC");
    return INV_OK;
  }
}

/* ===================== iteration ===================== */

static int xEachFrom(inv_q *q, const char *zArr, const char *zAlias) {
  inv_buf_printf(q->b, "json_each(%s) AS %s", zArr, zAlias);
  return INV_OK;
}
static int xEachElem(inv_q *q, const char *zArr, const char *zAlias) {
  inv_buf_printf(q->b, "%s -> %s.fullkey", zArr, zAlias);
  return INV_OK;
}
static int xEachKey(inv_q *q, const char *zAlias) {
  inv_buf_printf(q->b, "%s.key", zAlias);
  return INV_OK;
}
static int xEachElemArray(inv_q *q, const char *zAlias) {
  inv_buf_printf(q->b, "json_array(json(%s.value))", zAlias);
  return INV_OK;
}

/* ===================== stat ===================== */

static int xLimit(inv_q *q, int64_t n) { return inv_q_bind_int(q, n < 0 ? -1 : n); }

static int xJsonGet(inv_q *q, const inv_acc *a) {
  if (a->nSeg == 0) { inv_buf_adds(q->b, a->zBase); return INV_OK; }
  inv_buf_printf(q->b, "(%s -> ", a->zBase);
  if (bindPath(q, a)) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int xJsonPluck(inv_q *q, const inv_acc *a) {
  inv_buf_printf(q->b, "(SELECT CASE WHEN %s IS NOT NULL THEN json_group_array(json(ea.value -> ",
                 a->zBase);
  if (bindPath(q, a)) return INV_ERROR;
  inv_buf_printf(q->b, ")) END FROM json_each(%s) AS ea WHERE json_type(ea.value, ", a->zBase);
  if (bindPath(q, a)) return INV_ERROR;
  inv_buf_adds(q->b, ") IS NOT NULL)");
  return INV_OK;
}

static int xJsonToValue(inv_q *q, const char *z) {
  inv_buf_printf(q->b, "json_extract(%s, '$')", z);
  return INV_OK;
}

static int xValueToJson(inv_q *q, const char *z, int eKind, int bNullMissing, const char *zFmt) {
  inv_buf_printf(q->b, "inv_json_value(%s, %d", z, bNullMissing);
  if (eKind == INV_K_TIME) inv_buf_printf(q->b, ", '%s'", zFmt);    /* ours: no quote in it */
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int xNumber(inv_q *q, const char *z, int eKind) {
  (void)eKind;
  inv_buf_printf(q->b, "inv_number(%s)", z);
  return INV_OK;
}

/* "+x" has no affinity: "5" is not turned into 5 for an INTEGER column;
** SQLite's order (NULL, numbers, text) is BSON's for these values. */
static int xCompare(inv_q *q, const char *z, int eKind, const char *zOp, const inv_val *v) {
  int bEq = !strcmp(zOp, "eq"), bNot = !strcmp(zOp, "not"), bLt = zOp[0] == 'l';
  (void)eKind;
  inv_buf_printf(q->b, "%s+%s", bEq || bNot ? "(" : "coalesce(", z);
  inv_buf_adds(q->b, bEq ? " IS " : bNot ? " IS NOT " : !strcmp(zOp, "gt") ? " > " :
                     !strcmp(zOp, "gte") ? " >= " : bLt && zOp[2] == 0 ? " < " : " <= ");
  if (v->t == INV_ARR || v->t == INV_OBJ) {
    const char *zJson = inv_json_text(q->s, v);
    if (!zJson) return inv_err_nomem(q->s);
    inv_buf_adds(q->b, "json(");
    if (inv_q_bind_text(q, zJson, strlen(zJson))) return INV_ERROR;
    inv_buf_addc(q->b, ')');
  } else if (inv_q_bind_val(q, v)) {
    return INV_ERROR;
  }
  /* NULL only comes from the key: below any value */
  inv_buf_adds(q->b, bEq || bNot ? ")" : bLt ? ", 1)" : ", 0)");
  return INV_OK;
}

static int xRawEquals(inv_q *q, const char *z, int eKind, const inv_val *v) {
  (void)eKind;
  inv_buf_printf(q->b, "(+%s", z);
  if (v->t == INV_NULL) { inv_buf_adds(q->b, " IS NULL)"); return INV_OK; }
  inv_buf_adds(q->b, " = ");
  if (inv_q_bind_val(q, v)) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int xDateFormat(inv_q *q, const char *z, const char *zFmt, size_t nFmt, int bPart) {
  if (bPart) {
    inv_buf_printf(q->b, "CAST(inv_date_format(%s, '%s') AS INTEGER)", z, zFmt);   /* ours */
    return INV_OK;
  }
  inv_buf_printf(q->b, "inv_date_format(%s, ", z);
  if (inv_q_bind_text(q, zFmt, nFmt)) return INV_ERROR;
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int xAggFirstLast(inv_q *q, int bLast, const char *zSeq, const char *z) {
  inv_buf_printf(q->b, "inv_%s(%s, %s)", bLast ? "last" : "first", zSeq, z);
  return INV_OK;
}
static int xAggPush(inv_q *q, const char *zSeq, const char *z) {
  inv_buf_printf(q->b, "inv_push(%s, %s)", zSeq, z);
  return INV_OK;
}
static int xAggAddToSet(inv_q *q, const char *z) {
  inv_buf_printf(q->b, "inv_add_to_set(%s)", z);
  return INV_OK;
}
static int xAggMergeObjects(inv_q *q, const char *zSeq, const char *z) {
  inv_buf_printf(q->b, "inv_merge_objects(%s, %s)", zSeq, z);
  return INV_OK;
}
static int xAggMinMax(inv_q *q, int bMax, const char *z, int eKind) {
  (void)eKind;
  inv_buf_printf(q->b, "%s(%s)", bMax ? "max" : "min", z);
  return INV_OK;
}

static int xObject(inv_q *q, const inv_val *const *apName, const char *const *azJson, int n) {
  int i;
  inv_buf_adds(q->b, "inv_object(");
  for (i = 0; i < n; i++) {
    if (i) inv_buf_adds(q->b, ", ");
    if (inv_q_bind_text(q, apName[i]->u.s.z, apName[i]->u.s.n)) return INV_ERROR;
    inv_buf_printf(q->b, ", %s", azJson[i]);
  }
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int xOperand(inv_q *q, const char *z, int eKind, const char *zOp) {
  (void)eKind;
  inv_buf_printf(q->b, "inv_operand(%s, '%s')", z, zOp);      /* zOp: one of ours */
  return INV_OK;
}
static int xDivide(inv_q *q, const char *zA, const char *zB) {
  inv_buf_printf(q->b, "inv_divide(%s, %s)", zA, zB);
  return INV_OK;
}

static int xProjectUnary(inv_q *q, const char *zOp, int eKind) {
  if (!strcmp(zOp, "size")) {
    inv_buf_adds(q->b, "inv_array_size(x)");
  } else if (!strcmp(zOp, "sum")) {
    /* $sum: the numbers of an array or the value itself; non-numeric
    ** values (and dates) are ignored, nothing numeric gives 0 */
    inv_buf_adds(q->b, eKind == INV_K_JSON
      ? "CASE WHEN json_type(x) = 'array' THEN (SELECT coalesce(inv_sum(inv_number(value)), 0) "
        "FROM json_each(x)) ELSE coalesce(inv_number(json_extract(x, '$')), 0) END"
      : eKind == INV_K_TIME ? "0" : "coalesce(inv_number(x), 0)");
  } else if (!strcmp(zOp, "object_to_array")) {
    /* each member's value as its JSON text (x -> fullkey): a boolean stays a
    ** boolean, a real keeps its digits (json_object would print 1 and 15
    ** digits) */
    inv_buf_adds(q->b, "CASE WHEN json_type(x) = 'object' THEN (SELECT json_group_array("
                       "json_object('k', key, 'v', json(x -> fullkey))) FROM json_each(x)) END");
  } else {
    inv_buf_adds(q->b, "CASE WHEN json_type(x) = 'array' THEN inv_array_to_object(x) END");
  }
  return INV_OK;
}

static int xQuote(inv_q *q, const char *z) {
  inv_buf_printf(q->b, "json_quote(%s)", z);
  return INV_OK;
}

static int xOrderTerm(inv_q *q, const char *z, int eKind, int bDesc) {
  if (eKind == INV_K_JSON) inv_buf_printf(q->b, "json_extract(%s, '$')", z);
  else inv_buf_adds(q->b, z);
  if (bDesc) inv_buf_adds(q->b, " DESC");
  return INV_OK;
}

/* ===================== schema ===================== */

static void xCreateTable(inv_buf *b, const inv_resource *r) {
  int i;
  inv_buf_printf(b, "CREATE TABLE %s (id INTEGER PRIMARY KEY", r->zTable);
  for (i = 0; i < r->nField; i++) {
    const inv_field *f = &r->aField[i];
    inv_buf_printf(b, ", %s ", f->zName);
    switch (f->eType) {
      case F_STR:
        inv_buf_adds(b, (f->flags & FF_NOTNULL) ? "TEXT NOT NULL" : "TEXT");
        break;
      case F_INT:  inv_buf_adds(b, "INTEGER NOT NULL DEFAULT 0"); break;
      case F_TIME:
        inv_buf_adds(b, (f->flags & FF_NOTNULL) ? "INTEGER NOT NULL" : "INTEGER");
        break;
      case F_OBJ:  inv_buf_adds(b, "TEXT"); break;
      case F_ERRS:
        inv_buf_adds(b, (f->flags & FF_NOTNULL) ? "TEXT NOT NULL DEFAULT '[]'" : "TEXT");
        break;
    }
    if (f->flags & FF_ID) inv_buf_adds(b, " UNIQUE");
  }
  inv_buf_adds(b, ")");
}

/* ===================== the write side's statements ===================== */

#define JOURNAL_COLS "INSERT INTO change (at, op, resource, id, domain_id, job_id) "
#define JOURNAL_SCOPE_COLS \
  "INSERT INTO change (at, op, resource, id, domain_id, workspace_id, project_id, job_id, " \
  "collector_id) "

/* A task's finish (INV_SQL_TASK_FINISH and _PLAIN), up to its RETURNING */
#define TASK_FINISH_SET \
  "UPDATE job_task SET created_count = created_count + ?1, updated_count = updated_count + ?2, " \
  "deleted_count = deleted_count + ?3, disconnected_count = disconnected_count + ?4, " \
  "failure_count = failure_count + ?5, total_count = total_count + ?6, " \
  "remained_sub_tasks = remained_sub_tasks - 1, " \
  "started_at = coalesce(started_at, ?7), " \
  "status = CASE WHEN ?8 THEN 'FAILURE' " \
  "  WHEN remained_sub_tasks = 1 AND status <> 'FAILURE' THEN 'SUCCESS' ELSE status END, " \
  "finished_at = CASE WHEN ?8 OR (remained_sub_tasks = 1 AND status <> 'FAILURE') " \
  "  THEN ?7 ELSE finished_at END " \
  "WHERE job_task_id = ?9 AND domain_id = ?10 AND remained_sub_tasks > 0 "

/* A task's counters moved to its job (INV_SQL_JOB_TASK_DONE and _PLAIN) */
#define JOB_TASK_DONE_SET \
  "UPDATE job SET success_tasks = success_tasks + 1 - ?4, failure_tasks = failure_tasks + ?4, " \
  "remained_tasks = max(remained_tasks - 1, 0), updated_at = ?1 " \
  "WHERE job_id = ?2 AND domain_id = ?3 "

static const char *const azSql[INV_SQL_N] = {
  /* INV_SQL_JOB_FINALIZE */
  "UPDATE job SET status = CASE WHEN failure_tasks > 0 THEN 'FAILURE' ELSE 'SUCCESS' END, "
  "finished_at = ?1, updated_at = ?1 "
  "WHERE job_id = ?2 AND domain_id = ?3 AND status = 'IN_PROGRESS' AND remained_tasks = 0",
  /* INV_SQL_JOB_TASK_DONE: no indexed column set (no index entry moves) */
  JOB_TASK_DONE_SET "RETURNING remained_tasks, status",
  /* INV_SQL_JOB_TASK_LEFT */
  "UPDATE job SET total_tasks = max(total_tasks - 1, 0), "
  "remained_tasks = max(remained_tasks - 1, 0), updated_at = ?1 "
  "WHERE job_id = ?2 AND domain_id = ?3",
  /* INV_SQL_TASK_LOAD */
  "SELECT status, remained_sub_tasks, job_id, started_at IS NOT NULL "
  "FROM job_task WHERE job_task_id = ?1 AND domain_id = ?2",
  /* INV_SQL_TASK_APPEND_ERROR */
  "UPDATE job_task SET errors = json_insert(errors, '$[#]', json(?1)) "
  "WHERE job_task_id = ?2 AND domain_id = ?3",
  /* INV_SQL_JOB_CANCEL_DUPLICATES */
  "UPDATE job SET status = 'CANCELED', finished_at = ?1, updated_at = ?1 "
  "WHERE domain_id = ?2 AND collector_id = ?3 AND status = 'IN_PROGRESS' "
  "AND request_workspace_id IS ?4 AND request_secret_id IS ?5",
  /* INV_SQL_JOB_INSERT */
  "INSERT INTO job (job_id, status, total_tasks, remained_tasks, "
  "request_secret_id, request_workspace_id, resource_group, domain_id, "
  "workspace_id, collector_id, plugin_id, created_at, updated_at, finished_at) "
  "VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)",
  /* INV_SQL_TASK_INSERT */
  "INSERT INTO job_task (job_task_id, status, provider, total_sub_tasks, "
  "remained_sub_tasks, job_id, secret_id, collector_id, service_account_id, "
  "project_id, workspace_id, domain_id, created_at) "
  "VALUES (?1, 'PENDING', ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
  /* INV_SQL_JOB_IS_CANCELED */
  "SELECT status = 'CANCELED' FROM job WHERE job_id = ?1 AND domain_id = ?2",
  /* INV_SQL_TASK_FAIL_CANCELED */
  "UPDATE job_task SET status = 'FAILURE', finished_at = ?1, "
  "remained_sub_tasks = 0 WHERE job_task_id = ?2 AND domain_id = ?3",
  /* INV_SQL_TASK_START */
  "UPDATE job_task SET status = 'IN_PROGRESS', started_at = ?1 "
  "WHERE job_task_id = ?2 AND domain_id = ?3",
  /* INV_SQL_TASK_FINISH */
  TASK_FINISH_SET "RETURNING remained_sub_tasks, status, job_id",
  /* INV_SQL_JOB_STATUS */
  "SELECT status FROM job WHERE job_id = ?1 AND domain_id = ?2",
  /* INV_SQL_JOB_CANCEL */
  "UPDATE job SET status = 'CANCELED', finished_at = ?1, updated_at = ?1 "
  "WHERE job_id = ?2 AND domain_id = ?3 AND status = 'IN_PROGRESS'",
  /* INV_SQL_SWEEP_TASKS */
  "UPDATE job_task SET status = 'FAILURE', finished_at = ?1, remained_sub_tasks = 0, "
  "errors = json_insert(errors, '$[#]', json(?4)) "
  "WHERE remained_sub_tasks > 0 AND (domain_id, job_id) IN (SELECT domain_id, job_id FROM job "
  "WHERE status = 'IN_PROGRESS' AND created_at < ?2 AND (?3 IS NULL OR domain_id = ?3))",
  /* INV_SQL_SWEEP_JOBS */
  "UPDATE job SET status = 'FAILURE', finished_at = ?1, updated_at = ?1, "
  "failure_tasks = failure_tasks + remained_tasks, remained_tasks = 0 "
  "WHERE status = 'IN_PROGRESS' AND created_at < ?2 AND (?3 IS NULL OR domain_id = ?3)",
  /* INV_SQL_PURGE_JOB_TASKS: tasks of purged jobs (cascade by job, in its
  ** domain: job_task_domain_job) */
  "DELETE FROM job_task WHERE (domain_id, job_id) IN (SELECT domain_id, job_id FROM job "
  "WHERE created_at < ?1 AND (?2 IS NULL OR domain_id = ?2))",
  /* INV_SQL_PURGE_TASKS */
  "DELETE FROM job_task WHERE created_at < ?1 AND (?2 IS NULL OR domain_id = ?2)",
  /* INV_SQL_PURGE_JOBS */
  "DELETE FROM job WHERE created_at < ?1 AND (?2 IS NULL OR domain_id = ?2)",
  /* INV_SQL_PURGE_SPOT_JOBS */
  "DELETE FROM spot_job WHERE created_at < ?1 AND (?2 IS NULL OR domain_id = ?2)",
  /* INV_SQL_JOB_DELETE_TASKS */
  "DELETE FROM job_task WHERE job_id = ?1 AND domain_id = ?2",
  /* INV_SQL_JOURNAL_TASK */
  JOURNAL_COLS "VALUES (?1, ?2, 'job_task', ?3, ?4, ?5)",
  /* INV_SQL_JOURNAL_JOB */
  JOURNAL_COLS "VALUES (?1, ?2, 'job', ?3, ?4, ?3)",
  /* INV_SQL_JOURNAL_TASK_JOB */
  JOURNAL_COLS "VALUES (?1, ?2, 'job_task', ?3, ?4, ?5), (?1, ?2, 'job', ?5, ?4, ?5)",
  /* INV_SQL_JOURNAL_JOB_TASKS */
  JOURNAL_COLS "SELECT ?1, ?2, 'job_task', job_task_id, domain_id, job_id FROM job_task "
  "WHERE job_id = ?3 AND domain_id = ?4 ORDER BY id",
  /* INV_SQL_JOURNAL_TASK_DELETED */
  JOURNAL_SCOPE_COLS "SELECT ?1, ?2, 'job_task', job_task_id, domain_id, workspace_id, "
  "project_id, job_id, collector_id FROM job_task WHERE job_task_id = ?3 AND domain_id = ?4",
  /* INV_SQL_JOURNAL_JOB_DELETED_TASKS */
  JOURNAL_SCOPE_COLS "SELECT ?1, ?2, 'job_task', job_task_id, domain_id, workspace_id, "
  "project_id, job_id, collector_id FROM job_task WHERE job_id = ?3 AND domain_id = ?4 ORDER BY id",
  /* INV_SQL_JOURNAL_JOB_DELETED */
  JOURNAL_SCOPE_COLS "SELECT ?1, ?2, 'job', job_id, domain_id, workspace_id, NULL, job_id, "
  "collector_id FROM job WHERE job_id = ?3 AND domain_id = ?4",
  /* INV_SQL_JOURNAL_SWEEP_TASKS */
  JOURNAL_COLS "SELECT ?1, ?2, 'job_task', t.job_task_id, t.domain_id, t.job_id FROM job AS j "
  "JOIN job_task AS t ON t.job_id = j.job_id AND t.domain_id = j.domain_id "
  "WHERE j.status = 'IN_PROGRESS' AND j.created_at < ?4 "
  "AND (?3 IS NULL OR j.domain_id = ?3) AND t.remained_sub_tasks > 0 ORDER BY t.id",
  /* INV_SQL_JOURNAL_SWEEP_JOBS */
  JOURNAL_COLS "SELECT ?1, ?2, 'job', job_id, domain_id, job_id FROM job "
  "WHERE status = 'IN_PROGRESS' AND created_at < ?4 AND (?3 IS NULL OR domain_id = ?3) ORDER BY id",
  /* INV_SQL_JOURNAL_DUPLICATES */
  JOURNAL_COLS "SELECT ?1, ?2, 'job', job_id, domain_id, job_id FROM job WHERE domain_id = ?3 "
  "AND collector_id = ?4 AND status = 'IN_PROGRESS' "
  "AND request_workspace_id IS ?5 AND request_secret_id IS ?6 ORDER BY id",
  /* INV_SQL_JOURNAL_RESET */
  "INSERT INTO change (at, op, resource, id) VALUES (?1, ?2, ?3, '')",
  /* INV_SQL_JOURNAL_TRIM: the rows before the first one newer than the
  ** cut-off (rows come in seq order, their times with them), never the
  ** newest. It reads the rows it deletes and one more, where "at <= ?1"
  ** read the whole table (an hour of journal) on every trim */
  "DELETE FROM change WHERE seq < coalesce((SELECT seq FROM change WHERE at > ?1 ORDER BY seq "
  "LIMIT 1), (SELECT max(seq) FROM change))",
  /* INV_SQL_JOURNAL_BOUNDS */
  "SELECT min(seq), coalesce(max(seq), 0) FROM change",
  /* INV_SQL_JOURNAL_READ: an upsert's scope comes from its record (NULL when
  ** it is gone since) */
  "SELECT c.seq, c.at, c.resource, c.op, c.id, c.domain_id, "
  "coalesce(c.workspace_id, t.workspace_id, j.workspace_id), coalesce(c.project_id, t.project_id), "
  "c.job_id, coalesce(c.collector_id, t.collector_id, j.collector_id) FROM change AS c "
  "LEFT JOIN job_task AS t ON c.op = 'upsert' AND c.resource = 'job_task' "
  "AND t.job_task_id = c.id AND t.domain_id = c.domain_id "
  "LEFT JOIN job AS j ON c.op = 'upsert' AND c.resource = 'job' "
  "AND j.job_id = c.id AND j.domain_id = c.domain_id "
  "WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2",
  /* INV_SQL_JOB_LOCK_COLLECTOR: BEGIN IMMEDIATE serialises the writers already */
  "SELECT ?1, ?2",
  NULL,                            /* INV_SQL_TASK_INSERT_JSON */
  NULL,                            /* INV_SQL_TASK_IDS_OF_JOB */
  NULL,                            /* INV_SQL_TASK_FINISH_ALL (no DML in a CTE) */
  /* INV_SQL_TASK_FINISH_PLAIN, INV_SQL_JOB_TASK_DONE_PLAIN: a finish's two
  ** UPDATEs without RETURNING. SQLite (3.40) builds an ephemeral table for
  ** the rows of a RETURNING on each execution: about 35,000 instructions,
  ** twice what a second statement (a SELECT by id, or the finalising UPDATE
  ** that finds nothing) costs */
  TASK_FINISH_SET,
  JOB_TASK_DONE_SET,
};

static int xArith(inv_q *q, char cOp, const char *const *az, int n) {
  int i;
  inv_buf_addc(q->b, '(');
  for (i = 0; i < n; i++) {
    if (i) inv_buf_printf(q->b, " %c ", cOp);
    inv_buf_adds(q->b, az[i]);
  }
  inv_buf_addc(q->b, ')');
  return INV_OK;
}

static int xAggSum(inv_q *q, const char *zSeq, const char *z, int bAvg) {
  (void)zSeq;                      /* inv_sum: the same in any order */
  inv_buf_printf(q->b, bAvg ? "inv_avg(%s)" : "coalesce(inv_sum(%s), 0)", z);
  return INV_OK;
}

/* GROUP BY delivers the groups in its sorter's order: nothing to add. */
static int xGroupOrder(inv_q *q, const char *const *azExpr, const int *aeKind, int n) {
  (void)q; (void)azExpr; (void)aeKind; (void)n;
  return INV_OK;
}

const inv_dialect inv_sqlite_dialect = {
  2, "1", "0", xParam, azSql, xCreateTable,
  xValue, xValue, xIsNull, xExists, xJsonTypeIs, xJsonEquals, xJsonEmpty,
  xLike, xRegex, xContains, xStartsWith, xEachOpen, xArrayEmpty, xColumnIn, xSortPath,
  inv_regex_check,
  xEachFrom, xEachElem, xEachKey, xEachElemArray,
  "MATERIALIZED ", xLimit, xJsonGet, xJsonPluck, xJsonToValue, xValueToJson, xNumber, xCompare,
  xRawEquals, xDateFormat, xAggFirstLast, xAggPush, xAggAddToSet, xAggMergeObjects, xAggMinMax,
  xObject, xOperand, xDivide, xProjectUnary, xQuote, xOrderTerm, xGroupOrder, xArith, xAggSum,
  NULL, NULL                       /* iVersion 3's xDateGroup, xDocHas: not used */
};
