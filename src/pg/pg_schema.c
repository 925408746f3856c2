/*
** pg_schema.c: the PostgreSQL schema and its migrations. Everything lives in
** one schema (default "inventory"), created and migrated on open, by
** version, under an advisory lock, so that many processes starting at once
** do not race. Every table is keyed by domain_id first (primary keys and
** unique keys include it, nothing joins across domains): the schema can be
** distributed by domain (Citus: create_distributed_table(..., 'domain_id')).
**
** Documents are JSON text in text columns (the text our writer made: key
** order kept, read back byte for byte). Text columns sort and compare as
** bytes (COLLATE "C"), as SQLite's do. What SQLite does with C functions is
** plain SQL and PL/pgSQL here (no C extension: managed services allow none):
** the value order of stat comparisons, date formatting, and the stat
** aggregates and their errors.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pg_int.h"

/* Version 1: the resources' tables and indexes, the functions stat needs. */
static const char *const azV1Functions[] = {
  /* a JSON value's rank in SQLite's order of a value json_extract gives:
  ** null/missing, numbers (booleans as 1/0), text (strings, and the JSON
  ** text of objects and arrays); then its number or its text */
  "CREATE FUNCTION inv_rank(j json) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT CASE json_typeof(j) WHEN 'number' THEN 1 WHEN 'boolean' THEN 1 WHEN 'string' THEN 2 "
  "WHEN 'object' THEN 2 WHEN 'array' THEN 2 ELSE 0 END $$",
  "CREATE FUNCTION inv_num(j json) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT CASE json_typeof(j) WHEN 'number' THEN (j #>> '{}')::numeric "
  "WHEN 'boolean' THEN CASE WHEN j::text = 'true' THEN 1 ELSE 0 END END $$",
  "CREATE FUNCTION inv_txt(j json) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT CASE json_typeof(j) WHEN 'string' THEN j #>> '{}' WHEN 'object' THEN j::text "
  "WHEN 'array' THEN j::text END $$",
  /* a value of a stat stage as JSON text: JSON text as it is; a plain value
  ** (text, a number) as JSON */
  "CREATE FUNCTION inv_as_json(x anyelement) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT to_json(x)::text $$",
  /* MongoDB's $dateToString specifiers of ms since the epoch, UTC (as
  ** inv_time_strftime) */
  "CREATE FUNCTION inv_date_format(ms bigint, fmt text) RETURNS text LANGUAGE plpgsql "
  "IMMUTABLE PARALLEL SAFE AS $$ "
  "DECLARE t timestamp; o text := ''; i int := 1; n int := length(fmt); c text; "
  "  yday int; wday int; thu date; "
  "BEGIN "
  "  IF ms IS NULL OR fmt IS NULL THEN RETURN NULL; END IF; "
  "  t := timestamp '1970-01-01' + ms * interval '1 millisecond'; "
  "  yday := extract(doy FROM t)::int - 1; wday := extract(dow FROM t)::int; "
  "  WHILE i <= n LOOP "
  "    c := substr(fmt, i, 1); "
  "    IF c <> '%' OR i = n THEN o := o || c; i := i + 1; CONTINUE; END IF; "
  "    c := substr(fmt, i + 1, 1); "
  "    o := o || CASE c "
  "      WHEN 'Y' THEN lpad(extract(year FROM t)::int::text, 4, '0') "
  "      WHEN 'm' THEN to_char(t, 'MM') WHEN 'd' THEN to_char(t, 'DD') "
  "      WHEN 'H' THEN to_char(t, 'HH24') WHEN 'M' THEN to_char(t, 'MI') "
  "      WHEN 'S' THEN to_char(t, 'SS') WHEN 'L' THEN to_char(t, 'MS') "
  "      WHEN 'j' THEN lpad((yday + 1)::text, 3, '0') "
  "      WHEN 'w' THEN (wday + 1)::text "
  "      WHEN 'u' THEN extract(isodow FROM t)::int::text "
  "      WHEN 'U' THEN lpad(((yday + 7 - wday) / 7)::text, 2, '0') "
  "      WHEN 'V' THEN lpad(extract(week FROM t)::int::text, 2, '0') "
  "      WHEN 'G' THEN lpad(extract(isoyear FROM t)::int::text, 4, '0') "
  "      WHEN 'z' THEN '+0000' WHEN 'Z' THEN '+0' WHEN '%' THEN '%' "
  "      ELSE '%' || c END; "
  "    i := i + 2; "
  "  END LOOP; "
  "  RETURN o; "
  "END $$",
  /* the 16 MB cap of a value a stage builds (MongoDB's document limit) */
  "CREATE FUNCTION inv_cap(v text, what text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ "
  "BEGIN IF octet_length(v) > 16777216 THEN RAISE EXCEPTION USING ERRCODE = 'P0001', "
  "MESSAGE = what || ': the value is larger than 16 MB (MongoDB''s document limit)'; END IF; "
  "RETURN v; END $$",
  /* an arithmetic operand: a number, or null; anything else an error */
  "CREATE FUNCTION inv_operand(j json, op text) RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$ "
  "BEGIN "
  "  IF j IS NULL OR json_typeof(j) = 'null' THEN RETURN NULL; END IF; "
  "  IF json_typeof(j) = 'number' THEN RETURN (j #>> '{}')::numeric; END IF; "
  "  IF json_typeof(j) = 'boolean' THEN RETURN CASE WHEN j::text = 'true' THEN 1 ELSE 0 END; END IF; "
  "  RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = '$' || op || ' only supports numeric types, not ' "
  "    || CASE json_typeof(j) WHEN 'string' THEN 'string' WHEN 'array' THEN 'array' ELSE 'object' END; "
  "END $$",
  "CREATE FUNCTION inv_divide(a numeric, b numeric) RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS $$ "
  "BEGIN IF a IS NULL OR b IS NULL THEN RETURN NULL; END IF; "
  "IF b = 0 THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'can''t $divide by zero'; END IF; "
  "RETURN a::float8 / b::float8; END $$",
  "CREATE FUNCTION inv_array_size(j json) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$ "
  "BEGIN IF j IS NULL THEN RETURN NULL; END IF; "
  "IF json_typeof(j) <> 'array' THEN RAISE EXCEPTION USING ERRCODE = 'P0001', "
  "MESSAGE = 'The argument to $size must be an array'; END IF; "
  "RETURN json_array_length(j); END $$",
  /* MongoDB's $arrayToObject: [[k, v], ...] or [{k, v}, ...]; a later key
  ** wins in place */
  "CREATE FUNCTION inv_array_to_object(j json) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ "
  "DECLARE e json; ks text[] := '{}'; vs text[] := '{}'; k text; v text; pos int; form text; "
  "  o text := ''; i int; "
  "BEGIN "
  "  IF j IS NULL OR json_typeof(j) <> 'array' THEN RETURN NULL; END IF; "
  "  FOR e IN SELECT value FROM json_array_elements(j) LOOP "
  "    IF json_typeof(e) = 'array' THEN "
  "      IF form = 'object' THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = "
  "        '$arrayToObject requires a consistent input format. Elements must all be arrays or all be objects'; END IF; "
  "      form := 'array'; "
  "      IF json_array_length(e) <> 2 THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = "
  "        '$arrayToObject requires an array of size 2 arrays,found array of size: ' || json_array_length(e); END IF; "
  "      IF json_typeof(e -> 0) <> 'string' THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = "
  "        '$arrayToObject requires an array of key-value pairs, where the key must be of type string. Found key type: ' "
  "        || json_typeof(e -> 0); END IF; "
  "      k := e ->> 0; v := (e -> 1)::text; "
  "    ELSIF json_typeof(e) = 'object' THEN "
  "      IF form = 'array' THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = "
  "        '$arrayToObject requires a consistent input format. Elements must all be arrays or all be objects'; END IF; "
  "      form := 'object'; "
  "      IF (SELECT count(*) FROM json_object_keys(e)) <> 2 OR (e -> 'k') IS NULL OR (e -> 'v') IS NULL THEN "
  "        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = "
  "        '$arrayToObject requires an object keys of ''k'' and ''v''. Found incorrect number of keys:' "
  "        || (SELECT count(*) FROM json_object_keys(e)); END IF; "
  "      IF json_typeof(e -> 'k') <> 'string' THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = "
  "        '$arrayToObject requires an object with keys ''k'' and ''v'', where the value of ''k'' must be of type string. Found type: ' "
  "        || json_typeof(e -> 'k'); END IF; "
  "      k := e ->> 'k'; v := (e -> 'v')::text; "
  "    ELSE RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = "
  "      '$arrayToObject requires an array of key-value pairs, where the key must be of type string. Found key type: ' "
  "      || json_typeof(e); "
  "    END IF; "
  "    pos := array_position(ks, k); "
  "    IF pos IS NULL THEN ks := ks || k; vs := vs || v; ELSE vs[pos] := v; END IF; "
  "  END LOOP; "
  "  FOR i IN 1 .. coalesce(array_length(ks, 1), 0) LOOP "
  "    o := o || CASE WHEN i > 1 THEN ',' ELSE '' END || to_json(ks[i])::text || ':' || vs[i]; "
  "  END LOOP; "
  "  RETURN inv_cap('{' || o || '}', 'array_to_object'); "
  "END $$",
  /* $mergeObjects: objects merged in stream order, a later key replacing an
  ** earlier one in its place; nulls and missing values ignored */
  "CREATE FUNCTION inv_merge_step(st text[], v text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE AS $$ "
  "DECLARE e record; pos int; n int; "
  "BEGIN "
  "  IF v IS NULL OR json_typeof(v::json) = 'null' THEN RETURN st; END IF; "
  "  IF json_typeof(v::json) <> 'object' THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = "
  "    '$mergeObjects requires object inputs, but input ' || v || ' is of type ' || json_typeof(v::json); END IF; "
  "  n := coalesce(array_length(st, 1), 0) / 2; "
  "  FOR e IN SELECT key, value::text AS val FROM json_each(v::json) LOOP "
  "    pos := NULL; "
  "    FOR i IN 1 .. n LOOP IF st[2 * i - 1] = e.key THEN pos := i; EXIT; END IF; END LOOP; "
  "    IF pos IS NULL THEN st := st || e.key || e.val; n := n + 1; ELSE st[2 * pos] := e.val; END IF; "
  "  END LOOP; "
  "  RETURN st; "
  "END $$",
  "CREATE FUNCTION inv_merge_final(st text[]) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ "
  "DECLARE o text := ''; "
  "BEGIN "
  "  FOR i IN 1 .. coalesce(array_length(st, 1), 0) / 2 LOOP "
  "    o := o || CASE WHEN i > 1 THEN ',' ELSE '' END || to_json(st[2 * i - 1])::text || ':' || st[2 * i]; "
  "  END LOOP; "
  "  RETURN inv_cap('{' || o || '}', 'merge_objects'); "
  "END $$",
  "CREATE AGGREGATE inv_merge_objects(text) (SFUNC = inv_merge_step, STYPE = text[], "
  "FINALFUNC = inv_merge_final, INITCOND = '{}')",
  NULL
};

/* Version 2: the change journal. A row's seq is stamped when its transaction
** commits (a deferred trigger, holding the counter row until the commit
** ends), so seq increases in commit order on any number of connections and
** machines; change_seq.seq is also the store's version (readers cache on
** it). */
static const char *const azV2[] = {
  "CREATE TABLE change_seq (one boolean PRIMARY KEY DEFAULT true CHECK (one), seq bigint NOT NULL)",
  "INSERT INTO change_seq VALUES (true, 0)",
  "CREATE TABLE change (seq bigint, pending bigint GENERATED ALWAYS AS IDENTITY, "
  "xid xid8 NOT NULL DEFAULT pg_current_xact_id(), at bigint NOT NULL, resource text COLLATE \"C\" NOT NULL, "
  "op text COLLATE \"C\" NOT NULL, id text COLLATE \"C\" NOT NULL, domain_id text COLLATE \"C\", "
  "workspace_id text COLLATE \"C\", project_id text COLLATE \"C\", job_id text COLLATE \"C\", "
  "collector_id text COLLATE \"C\")",
  "CREATE UNIQUE INDEX change_seq_idx ON change (seq)",
  "CREATE INDEX change_pending_idx ON change (xid) WHERE seq IS NULL",
  "CREATE FUNCTION change_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ "
  "DECLARE n bigint; base bigint; "
  "BEGIN "
  "  SELECT count(*) INTO n FROM change WHERE seq IS NULL AND xid = pg_current_xact_id(); "
  "  IF n = 0 THEN RETURN NULL; END IF; "
  "  UPDATE change_seq SET seq = seq + n RETURNING seq - n INTO base; "
  "  UPDATE change c SET seq = base + r.rn FROM (SELECT pending, row_number() OVER (ORDER BY pending) AS rn "
  "    FROM change WHERE seq IS NULL AND xid = pg_current_xact_id()) r WHERE c.pending = r.pending; "
  "  RETURN NULL; "
  "END $$",
  "CREATE CONSTRAINT TRIGGER change_stamp AFTER INSERT ON change DEFERRABLE INITIALLY DEFERRED "
  "FOR EACH ROW EXECUTE FUNCTION change_stamp()",
  NULL
};

static int run(inv_store *s, PGconn *pg, const char *zSql, char *zErr, size_t nErr) {
  PGresult *r = PQexec(pg, zSql);
  int bOk = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
  (void)s;
  if (!bOk) {
    const char *zMsg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(zErr, nErr, "%.200s (in: %.120s)", zMsg ? zMsg : PQerrorMessage(pg), zSql);
  }
  PQclear(r);
  return bOk ? INV_OK : INV_ERROR;
}

static int runAll(inv_store *s, PGconn *pg, const char *const *az, char *zErr, size_t nErr) {
  for (; *az; az++) if (run(s, pg, *az, zErr, nErr)) return INV_ERROR;
  return INV_OK;
}

static int currentVersion(PGconn *pg) {
  PGresult *r = PQexec(pg, "SELECT version FROM schema_version");
  int v = 0;
  if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) v = atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

int inv_pg_migrate(inv_store *s, char *zErr, size_t nErr) {
  PgConn *c = PG_CONN(s);
  PGconn *pg = c->pg;
  char zSql[256];
  int v, rc = INV_ERROR, i;
  /* one migrator at a time, per schema: a transaction-level advisory lock */
  snprintf(zSql, sizeof zSql, "BEGIN; SELECT pg_advisory_xact_lock(7140117, hashtext('%s'))",
           c->zSchema);
  if (run(s, pg, zSql, zErr, nErr)) return INV_ERROR;
  snprintf(zSql, sizeof zSql, "CREATE SCHEMA IF NOT EXISTS \"%s\"", c->zSchema);
  if (run(s, pg, zSql, zErr, nErr)
      || run(s, pg, "CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)", zErr, nErr)) {
    goto done;
  }
  v = currentVersion(pg);
  if (v > INV_SCHEMA_VERSION) {
    snprintf(zErr, nErr, "database schema version %d is newer than this library (%d)",
             v, INV_SCHEMA_VERSION);
    goto done;
  }
  if (v == 0) {
    if (run(s, pg, "INSERT INTO schema_version VALUES (0)", zErr, nErr)) goto done;
    for (i = 0; inv_resources[i]; i++) {
      const inv_resource *r = inv_resources[i];
      const char *const *pz;
      inv_buf_reset(&s->tmp);
      inv_pg_dialect.xCreateTable(&s->tmp, r);
      if (s->tmp.bOom) { snprintf(zErr, nErr, "out of memory"); goto done; }
      if (run(s, pg, s->tmp.z, zErr, nErr)) goto done;
      for (pz = r->azIndex; *pz; pz++) if (run(s, pg, *pz, zErr, nErr)) goto done;
    }
    if (runAll(s, pg, azV1Functions, zErr, nErr)) goto done;
    v = 1;
  }
  if (v == 1) {
    if (runAll(s, pg, azV2, zErr, nErr)) goto done;
    v = 2;
  }
  /* future: if (v == 2) { ...; v = 3; } */
  snprintf(zSql, sizeof zSql, "UPDATE schema_version SET version = %d", v);
  if (run(s, pg, zSql, zErr, nErr)) goto done;
  rc = run(s, pg, "COMMIT", zErr, nErr);
done:
  if (rc) { PGresult *r = PQexec(pg, "ROLLBACK"); PQclear(r); }
  return rc;
}
