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

/* The functions the dialect calls. They are no part of a store's schema:
** they live in a schema of their own, named for the hash of this set
** ("inventory_fn_<hash>", inv_pg_fn_schema), created once per database by
** the first store that needs it and never changed afterwards; every store's
** search_path ends with it. A library whose functions differ (a fix) brings
** its own set beside the old one: processes of both versions run at once
** during an upgrade, each on its own functions, and a new store costs its
** tables only. */
static const char *const azFunctions[] = {
  /* PostgreSQL's json functions refuse the JSON escape of U+0000 (no text
  ** holds it): a document is read through inv_doc, where it is the escape
  ** of U+FFFF (the driver turns that escape back in what it reads, binds a
  ** request's U+0000 as U+FFFF); inv_str is a JSON value as text (j #>>
  ** '{}') so too. A document holding one compares as data. */
  "CREATE OR REPLACE FUNCTION inv_doc(x text) RETURNS json LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT CASE WHEN strpos(x, '\\u0000') = 0 THEN x::json ELSE "
  "(regexp_replace(x, '(?<!\\\\)((\\\\\\\\)*)\\\\u0000', '\\1\\\\uffff', 'g'))::json END $$",
  "CREATE OR REPLACE FUNCTION inv_str(j json) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT CASE WHEN strpos(j::text, '\\u0000') = 0 THEN j #>> '{}' ELSE "
  "(regexp_replace(j::text, '(?<!\\\\)((\\\\\\\\)*)\\\\u0000', '\\1\\\\uffff', 'g'))::json "
  "#>> '{}' END $$",
  /* a JSON value's rank in SQLite's order of a value json_extract gives:
  ** null/missing, numbers (booleans as 1/0), text (strings, and the JSON
  ** text of objects and arrays); then its number or its text */
  "CREATE OR REPLACE FUNCTION inv_rank(j json) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT CASE json_typeof(j) WHEN 'number' THEN 1 WHEN 'boolean' THEN 1 WHEN 'string' THEN 2 "
  "WHEN 'object' THEN 2 WHEN 'array' THEN 2 ELSE 0 END $$",
  /* Numbers in stat: numeric, where an integer (of int64) has scale 0 and
  ** a real is the shortest text of its double with a fraction (2.0, not 2):
  ** SQLite's integers and reals, told apart (the driver reads them so), and
  ** computed as SQLite computes them (inv_arith, inv_sum). inv_real: a
  ** double so; inv_jnum: a JSON number (integers beyond int64 are reals, as
  ** json_extract has them). */
  "CREATE OR REPLACE FUNCTION inv_real(f float8) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT CASE WHEN f IS NULL THEN NULL WHEN f = 'NaN' OR f = 'Infinity' OR f = '-Infinity' THEN f::numeric "
  "ELSE round(f::text::numeric, greatest(scale(f::text::numeric), 1)) END $$",
  "CREATE OR REPLACE FUNCTION inv_jnum(t text) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT CASE WHEN t ~ '^-?[0-9]{1,18}$' THEN t::numeric "
  "WHEN t ~ '^-?[0-9]{19}$' AND t::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 "
  "THEN t::numeric ELSE inv_real(t::float8) END $$",
  "CREATE OR REPLACE FUNCTION inv_num(j json) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT CASE json_typeof(j) WHEN 'number' THEN inv_jnum(j::text) "
  "WHEN 'boolean' THEN CASE WHEN j::text = 'true' THEN 1 ELSE 0 END END $$",
  /* a double operation as C does it: an overflow is an infinity, an
  ** underflow zero (PostgreSQL's float8 operators raise errors there) */
  "CREATE OR REPLACE FUNCTION inv_fop(op text, a float8, b float8) RETURNS float8 LANGUAGE sql IMMUTABLE "
  "PARALLEL SAFE AS $$ "
  "SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL "
  "WHEN a = 'NaN' OR b = 'NaN' OR a IN ('Infinity', '-Infinity') OR b IN ('Infinity', '-Infinity') THEN "
  "  CASE op WHEN '+' THEN a + b WHEN '-' THEN a - b WHEN '*' THEN a * b ELSE a / b END "
  "ELSE (SELECT CASE WHEN abs(x) > 1.7976931348623157e308 THEN "
  "    CASE WHEN x > 0 THEN 'Infinity'::float8 ELSE '-Infinity'::float8 END "
  "  WHEN x <> 0 AND abs(x) < 2.4703282292062328e-324 THEN 0::float8 "
  "  ELSE CASE op WHEN '+' THEN a + b WHEN '-' THEN a - b WHEN '*' THEN a * b ELSE a / b END END "
  "  FROM (SELECT CASE op WHEN '+' THEN a::numeric + b::numeric WHEN '-' THEN a::numeric - b::numeric "
  "    WHEN '*' THEN a::numeric * b::numeric ELSE a::numeric / b::numeric END AS x) AS e) END $$",
  /* + - * as SQLite: integers exactly (beyond int64: doubles), else doubles */
  "CREATE OR REPLACE FUNCTION inv_arith(a numeric, op text, b numeric) RETURNS numeric LANGUAGE sql "
  "IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL "
  "WHEN scale(a) = 0 AND scale(b) = 0 AND (CASE op WHEN '+' THEN a + b WHEN '-' THEN a - b ELSE a * b END) "
  "  BETWEEN -9223372036854775808 AND 9223372036854775807 "
  "  THEN CASE op WHEN '+' THEN a + b WHEN '-' THEN a - b ELSE a * b END "
  "ELSE inv_real(inv_fop(op, a::float8, b::float8)) END $$",
  /* a group's sum and average, as sqlite_func.c's inv_sum and inv_avg
  ** (the same algorithm): integers add exactly (beyond int64 an error);
  ** once a real comes, the correctly rounded sum of every value as a double
  ** (Shewchuk's partials, as Python's math.fsum: the same in any order);
  ** the average is that sum over the count */
  "CREATE TYPE inv_fsum AS (isum numeric, parts float8[], inf float8, approx boolean, "
  "overflow boolean, cnt bigint)",
  "CREATE OR REPLACE FUNCTION inv_fsum_step(st inv_fsum, v numeric) RETURNS inv_fsum LANGUAGE plpgsql "
  "IMMUTABLE AS $$ "
  "DECLARE x float8; y float8; hi float8; lo float8; t float8; q float8[] := '{}'; "
  "BEGIN "
  "  IF v IS NULL THEN RETURN st; END IF; "
  "  IF st IS NULL THEN st := ROW(0, '{}', NULL, false, false, 0)::inv_fsum; END IF; "
  "  st.cnt := st.cnt + 1; "
  "  IF scale(v) IS DISTINCT FROM 0 THEN st.approx := true; "
  "  ELSIF NOT (st.approx OR st.overflow) THEN "
  "    st.isum := st.isum + v; "
  "    IF st.isum NOT BETWEEN -9223372036854775808 AND 9223372036854775807 THEN "
  "      st.approx := true; st.overflow := true; END IF; "
  "  END IF; "
  "  x := v::float8; "
  "  IF x = 'NaN' OR x IN ('Infinity', '-Infinity') THEN "
  "    st.inf := coalesce(st.inf + x, x); RETURN st; "
  "  END IF; "
  "  FOREACH y IN ARRAY st.parts LOOP "
  "    IF abs(x) < abs(y) THEN t := x; x := y; y := t; END IF; "
  "    hi := CASE WHEN abs(x) > 8e307 OR abs(y) > 8e307 THEN inv_fop('+', x, y) ELSE x + y END; "
  "    IF hi IN ('Infinity', '-Infinity') THEN st.inf := coalesce(st.inf + hi, hi); st.parts := '{}'; "
  "      RETURN st; END IF; "
  "    lo := y - (hi - x); "
  "    IF lo <> 0 THEN q := q || lo; END IF; "
  "    x := hi; "
  "  END LOOP; "
  "  st.parts := q || x; "
  "  RETURN st; "
  "END $$",
  "CREATE OR REPLACE FUNCTION inv_fsum_result(st inv_fsum) RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS $$ "
  "DECLARE n int := coalesce(array_length(st.parts, 1), 0); hi float8 := 0; lo float8 := 0; x float8; "
  "  y float8; yr float8; "
  "BEGIN "
  "  IF st.inf IS NOT NULL THEN RETURN st.inf; END IF; "
  "  IF n > 0 THEN "
  "    hi := st.parts[n]; n := n - 1; "
  "    WHILE n > 0 LOOP "
  "      x := hi; y := st.parts[n]; n := n - 1; "
  "      hi := x + y; yr := hi - x; lo := y - yr; "
  "      IF lo <> 0 THEN EXIT; END IF; "
  "    END LOOP; "
  "    IF n > 0 AND ((lo < 0 AND st.parts[n] < 0) OR (lo > 0 AND st.parts[n] > 0)) THEN "
  "      y := lo * 2; x := hi + y; yr := x - hi; "
  "      IF y = yr THEN hi := x; END IF; "
  "    END IF; "
  "  END IF; "
  "  RETURN hi; "
  "END $$",
  "CREATE OR REPLACE FUNCTION inv_sum_final(st inv_fsum) RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$ "
  "BEGIN "
  "  IF st IS NULL OR st.cnt = 0 THEN RETURN NULL; END IF; "
  "  IF st.overflow THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'integer overflow'; END IF; "
  "  IF st.approx THEN RETURN inv_real(inv_fsum_result(st)); END IF; "
  "  RETURN st.isum; "
  "END $$",
  "CREATE OR REPLACE FUNCTION inv_avg_final(st inv_fsum) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ "
  "SELECT CASE WHEN st IS NULL OR st.cnt = 0 THEN NULL "
  "ELSE inv_real(inv_fop('/', inv_fsum_result(st), st.cnt::float8)) END $$",
  "CREATE OR REPLACE AGGREGATE inv_sum(numeric) (SFUNC = inv_fsum_step, STYPE = inv_fsum, "
  "FINALFUNC = inv_sum_final)",
  "CREATE OR REPLACE AGGREGATE inv_avg(numeric) (SFUNC = inv_fsum_step, STYPE = inv_fsum, "
  "FINALFUNC = inv_avg_final)",
  /* the sum of a bigint (a typed integer field, which the core sums without
  ** a numeric guard): int8pl, PostgreSQL's own addition in C, which stops at
  ** an int64 overflow as the sum above does (the driver says its "bigint
  ** out of range" as SQLite's "integer overflow"); inv_fsum_step's PL/pgSQL
  ** cost 2.4 us a row (analyze of 10,000 jobs: 50 ms against 2 ms) */
  "CREATE OR REPLACE AGGREGATE inv_sum(bigint) (SFUNC = int8pl, STYPE = bigint)",
  /* the value SQLite's json_extract gives, as json: booleans as 1 and 0,
  ** objects and arrays as the string of their text, null as NULL */
  "CREATE OR REPLACE FUNCTION inv_value(j json) RETURNS json LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT CASE json_typeof(j) WHEN 'boolean' THEN (CASE WHEN j::text = 'true' THEN '1' ELSE '0' END)::json "
  "WHEN 'object' THEN to_json(j::text) WHEN 'array' THEN to_json(j::text) WHEN 'null' THEN NULL "
  "ELSE j END $$",
  "CREATE OR REPLACE FUNCTION inv_txt(j json) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT CASE json_typeof(j) WHEN 'string' THEN inv_str(j) WHEN 'object' THEN j::text "
  "WHEN 'array' THEN j::text END $$",
  /* a value of a stat stage as JSON text: JSON text as it is; a plain value
  ** (text, a number) as JSON */
  "CREATE OR REPLACE FUNCTION inv_as_json(x anyelement) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
  "SELECT to_json(x)::text $$",
  /* MongoDB's $dateToString specifiers of ms since the epoch, UTC (as
  ** inv_time_strftime) */
  "CREATE OR REPLACE FUNCTION inv_date_format(ms bigint, fmt text) RETURNS text LANGUAGE plpgsql "
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
  /* a value in a message: its JSON text, cut at 60 characters with "..." */
  "CREATE OR REPLACE FUNCTION inv_shown(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$ "
  "DECLARE k int := 60; BEGIN IF octet_length(t) <= 60 THEN RETURN t; END IF; "
  "WHILE octet_length(left(t, k)) > 60 LOOP k := k - 1; END LOOP; RETURN left(t, k) || '...'; END $$",
  /* the 16 MB cap of a value a stage builds (MongoDB's document limit) */
  "CREATE OR REPLACE FUNCTION inv_cap(v text, what text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ "
  "BEGIN IF octet_length(v) > 16777216 THEN RAISE EXCEPTION USING ERRCODE = 'P0001', "
  "MESSAGE = what || ' builds a value larger than 16 MB, the most one value may hold'; END IF; "
  "RETURN v; END $$",
  /* an arithmetic operand: a number (booleans are 1 and 0), or null;
  ** anything else (text in SQLite: a string, an object, an array) an error */
  "CREATE OR REPLACE FUNCTION inv_operand(j json, op text) RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$ "
  "BEGIN "
  "  IF j IS NULL OR json_typeof(j) = 'null' THEN RETURN NULL; END IF; "
  "  IF json_typeof(j) = 'number' THEN RETURN inv_jnum(j::text); END IF; "
  "  IF json_typeof(j) = 'boolean' THEN RETURN CASE WHEN j::text = 'true' THEN 1 ELSE 0 END; END IF; "
  "  RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = op || ' takes numbers, not ' || inv_shown(j::text); "
  "END $$",
  "CREATE OR REPLACE FUNCTION inv_div(a numeric, b numeric) RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$ "
  "BEGIN IF a IS NULL OR b IS NULL THEN RETURN NULL; END IF; "
  "IF b = 0 THEN RAISE EXCEPTION USING ERRCODE = 'P0001', "
  "MESSAGE = 'cannot divide by zero: the second value of a divide is 0'; END IF; "
  "RETURN inv_real(inv_fop('/', a::float8, b::float8)); END $$",
  "CREATE OR REPLACE FUNCTION inv_array_size(j json) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$ "
  "BEGIN IF j IS NULL THEN RETURN NULL; END IF; "
  "IF json_typeof(j) <> 'array' THEN RAISE EXCEPTION USING ERRCODE = 'P0001', "
  "MESSAGE = 'size takes a list, not ' || inv_shown(j::text); END IF; "
  "RETURN json_array_length(j); END $$",
  /* job.create's first statement (pg_dialect.c, INV_SQL_JOURNAL_DUPLICATES):
  ** the creates of one collector in a domain are serialised by a
  ** transaction lock, taken before the IN_PROGRESS jobs it will cancel are
  ** read (each statement of a volatile function reads after it: READ
  ** COMMITTED), so a create committed meanwhile is seen and canceled: one
  ** job of a collector runs, whatever the number of writers */
  "CREATE OR REPLACE FUNCTION inv_journal_duplicates(at bigint, op text, dom text, col text, rws text, "
  "rsec text) RETURNS void LANGUAGE plpgsql VOLATILE AS $$ "
  "BEGIN "
  "  PERFORM pg_advisory_xact_lock(hashtextextended(dom || '/' || col, 7140117)); "
  "  INSERT INTO change (at, op, resource, id, domain_id, job_id) "
  "  SELECT at, op, 'job', job_id, domain_id, job_id FROM job WHERE domain_id = dom "
  "  AND collector_id = col AND status = 'IN_PROGRESS' "
  "  AND request_workspace_id IS NOT DISTINCT FROM rws AND request_secret_id IS NOT DISTINCT FROM rsec "
  "  ORDER BY id; "
  "END $$",
  /* MongoDB's $arrayToObject (sqlite_func.c's fnArrayToObject, message for
  ** message): [[k, v], ...] or [{k, v}, ...], all of the first element's
  ** form; a later key wins in place */
  "CREATE OR REPLACE FUNCTION inv_array_to_object(j json) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ "
  "DECLARE e json; k json; v json; ks text[] := '{}'; vs text[] := '{}'; "
  "  pairs boolean; first boolean := true; n int; o text; "
  "BEGIN "
  "  IF j IS NULL OR json_typeof(j) <> 'array' THEN RETURN NULL; END IF; "
  "  FOR e IN SELECT value FROM json_array_elements(j) LOOP "
  "    IF first THEN pairs := json_typeof(e) = 'array'; END IF; "
  "    IF json_typeof(e) IS DISTINCT FROM (CASE WHEN pairs THEN 'array' ELSE 'object' END) THEN "
  "      RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = CASE WHEN first "
  "        THEN 'array_to_object takes a list of [key, value] pairs or {\"k\": key, \"v\": value} objects' "
  "        WHEN pairs THEN 'array_to_object takes a list whose elements are all [key, value] pairs' "
  "        ELSE 'array_to_object takes a list whose elements are all {\"k\": key, \"v\": value} objects' END "
  "        || ', not ' || inv_shown(e::text); END IF; "
  "    first := false; "
  "    IF pairs THEN "
  "      IF json_array_length(e) <> 2 THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = "
  "        'array_to_object takes [key, value] pairs of two elements, not ' || inv_shown(e::text); END IF; "
  "      k := e -> 0; v := e -> 1; "
  "    ELSE "
  "      SELECT count(*) INTO n FROM json_object_keys(e); "
  "      k := e -> 'k'; v := e -> 'v'; "
  "      IF n <> 2 OR k IS NULL OR v IS NULL THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = "
  "        'array_to_object takes objects with exactly the keys k and v, not ' || inv_shown(e::text); "
  "      END IF; "
  "    END IF; "
  "    IF json_typeof(k) <> 'string' THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = "
  "      'array_to_object takes string keys, not ' || inv_shown(k::text); END IF; "
  "    IF k::text ~ '(^|[^\\\\])(\\\\\\\\)*\\\\u(0000|ffff)' THEN RAISE EXCEPTION USING ERRCODE = 'P0001', "
  "MESSAGE = 'array_to_object takes keys without a NUL byte'; END IF; "
  "    ks := ks || (k #>> '{}'); vs := vs || v::text; "
  "  END LOOP; "
  /* each key at its first place with its last value: one sort, not a
  ** search per element (20,000 pairs took 2.8 s that way) */
  "  SELECT string_agg(to_json(t.k)::text || ':' || t.v, ',' ORDER BY t.f) INTO o FROM ( "
  "    SELECT u.k, min(u.i) AS f, (array_agg(u.v ORDER BY u.i DESC))[1] AS v "
  "    FROM unnest(ks, vs) WITH ORDINALITY AS u(k, v, i) GROUP BY u.k) AS t; "
  "  RETURN inv_cap('{' || coalesce(o, '') || '}', 'array_to_object'); "
  "END $$",
  /* $mergeObjects: objects merged in stream order, a later key replacing an
  ** earlier one in its place; nulls and missing values ignored. The inputs
  ** are collected, then merged by one grouped sort (a search of the merged
  ** keys per input key took 14 s over 20,000 inputs). */
  "CREATE OR REPLACE FUNCTION inv_merge_final(st text[]) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ "
  "DECLARE v text; o text; "
  "BEGIN "
  "  FOREACH v IN ARRAY st LOOP "
  "    IF json_typeof(v::json) NOT IN ('object', 'null') THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = "
  "      'merge_objects takes objects, not ' || inv_shown(v); END IF; "
  "  END LOOP; "
  "  SELECT string_agg(to_json(t.k)::text || ':' || t.v, ',' ORDER BY t.f, t.fk) INTO o FROM ( "
  "    SELECT e.key AS k, min(u.i) AS f, (array_agg(e.value::text ORDER BY u.i DESC, e.ki DESC))[1] AS v, "
  "      (array_agg(e.ki ORDER BY u.i))[1] AS fk "
  "    FROM unnest(st) WITH ORDINALITY AS u(x, i), "
  "      json_each(CASE json_typeof(u.x::json) WHEN 'object' THEN u.x::json END) WITH ORDINALITY AS e(key, value, ki) "
  "    GROUP BY e.key) AS t; "
  "  RETURN inv_cap('{' || coalesce(o, '') || '}', 'merge_objects'); "
  "END $$",
  "CREATE OR REPLACE AGGREGATE inv_merge_objects(text) (SFUNC = array_append, STYPE = text[], "
  "FINALFUNC = inv_merge_final, INITCOND = '{}')",
  NULL
};

/* Version 2: the change journal. A row's seq is stamped when its transaction
** commits (a deferred trigger, holding the counter row until the commit
** ends), so seq increases in commit order on any number of connections and
** machines; change_seq.seq is also the store's version (readers cache on
** it). Since version 4 most journal statements take their seqs themselves
** (pg_dialect.c, JOURNAL_TAKE; the same lock, held from that statement to
** COMMIT) and the trigger fires only for rows inserted without one. */
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
  /* (the trigger fires once per journal row: the first stamps them all,
  ** and says so for the rest of its transaction, which return at once; a
  ** delete of a job with 5,000 tasks counted the pending rows 5,000 times) */
  "CREATE FUNCTION change_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ "
  "DECLARE n bigint; base bigint; x text := pg_current_xact_id()::text; "
  "BEGIN "
  "  IF current_setting('inventory.stamped', true) = x THEN RETURN NULL; END IF; "
  "  PERFORM set_config('inventory.stamped', x, true); "
  "  SELECT count(*) INTO n FROM change WHERE seq IS NULL AND xid = pg_current_xact_id(); "
  "  IF n = 0 THEN RETURN NULL; END IF; "
  "  UPDATE change_seq SET seq = seq + n RETURNING seq - n INTO base; "
  /* (the rows found by their ctid: a join on pending scanned the whole
  ** journal for every commit while it held change_seq, 8 writers made 10x
  ** fewer commits a second; and, the planner expecting one pending row, a
  ** commit of n rows took n^2 steps: 6 s for a job of 4,000 tasks) */
  "  UPDATE change c SET seq = base + r.rn FROM (SELECT ctid AS t, row_number() OVER (ORDER BY pending) AS rn "
  "    FROM change WHERE seq IS NULL AND xid = pg_current_xact_id()) r WHERE c.ctid = r.t; "
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

/* An index of the resource (inv_schema.c's SQL): one whose columns start
** with domain_id and end with the list order (created_at DESC) ends with id
** too, the tie-break of every list's order (in SQLite every index ends with
** the rowid): a page in the default order is read from the index, never
** sorted. The others (a status summary's (domain_id, status)) stay as they
** are: their keys repeat, and PostgreSQL stores a repeated key once (B-tree
** deduplication), which a unique id at the end prevents: the status index
** of 23,000 tasks is 184 kB without it, 2.1 MB with it, and a count by
** status over a domain scans it twice as fast. */
static int runIndex(inv_store *s, PGconn *pg, const char *zSql, char *zErr, size_t nErr) {
  const char *zOpen = strchr(zSql, '('), *zClose = zOpen ? strchr(zOpen, ')') : NULL;
  inv_buf *b = &s->tmp;
  if (!zOpen || !zClose || strncmp(zOpen, "(domain_id,", 11) != 0
      || zClose - zOpen < 16 || strncmp(zClose - 15, "created_at DESC", 15) != 0) {
    return run(s, pg, zSql, zErr, nErr);
  }
  inv_buf_reset(b);
  inv_buf_add(b, zSql, (size_t)(zClose - zSql));
  inv_buf_adds(b, ", id");
  inv_buf_adds(b, zClose);
  if (b->bOom) { snprintf(zErr, nErr, "out of memory"); return INV_ERROR; }
  return run(s, pg, b->z, zErr, nErr);
}

static int runAll(inv_store *s, PGconn *pg, const char *const *az, char *zErr, size_t nErr) {
  for (; *az; az++) if (run(s, pg, *az, zErr, nErr)) return INV_ERROR;
  return INV_OK;
}

/* FNV-1a of the function set, as hex. */
static void functionsHash(char *zOut, size_t nOut) {
  unsigned long long h = 14695981039346656037ULL;
  const char *const *pz;
  const char *z;
  for (pz = azFunctions; *pz; pz++) {
    for (z = *pz; *z; z++) h = (h ^ (unsigned char)*z) * 1099511628211ULL;
    h = (h ^ 0xffu) * 1099511628211ULL;
  }
  snprintf(zOut, nOut, "%016llx", h);
}

void inv_pg_fn_schema(char *zOut, size_t nOut) {
  char zHash[20];
  functionsHash(zHash, sizeof zHash);
  snprintf(zOut, nOut, "inventory_fn_%.12s", zHash);
}

/* The store's schema version (0: none yet) and whether the function schema
** exists (*pbFn); -1 when the query fails (no schema, no table: the locked
** path decides). */
static int storedState(PGconn *pg, const char *zFn, int *pbFn) {
  char zSql[200];
  PGresult *r;
  int v = -1;
  snprintf(zSql, sizeof zSql, "SELECT (SELECT version FROM schema_version), "
           "to_regnamespace('\"%s\"') IS NOT NULL", zFn);
  r = PQexec(pg, zSql);
  *pbFn = 0;
  if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
    v = PQgetisnull(r, 0, 0) ? 0 : atoi(PQgetvalue(r, 0, 0));
    *pbFn = PQgetvalue(r, 0, 1)[0] == 't';
  }
  PQclear(r);
  return v;
}

/* The function schema, created under its own lock unless it exists. */
static int createFunctions(inv_store *s, PGconn *pg, const char *zFn, char *zErr, size_t nErr) {
  char zSql[320];
  PGresult *r;
  int bHas, rc = INV_ERROR;
  snprintf(zSql, sizeof zSql, "BEGIN; SELECT pg_advisory_xact_lock(7140117, hashtext('%s'))", zFn);
  if (run(s, pg, zSql, zErr, nErr)) goto done;
  snprintf(zSql, sizeof zSql, "SELECT to_regnamespace('\"%s\"') IS NOT NULL", zFn);
  r = PQexec(pg, zSql);
  bHas = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  if (!bHas) {
    snprintf(zSql, sizeof zSql, "CREATE SCHEMA \"%s\"; SET LOCAL search_path = \"%s\"", zFn, zFn);
    if (run(s, pg, zSql, zErr, nErr) || runAll(s, pg, azFunctions, zErr, nErr)) goto done;
  }
  rc = run(s, pg, "COMMIT", zErr, nErr);
done:
  if (rc) { r = PQexec(pg, "ROLLBACK"); PQclear(r); }
  return rc;
}

int inv_pg_migrate(inv_store *s, char *zErr, size_t nErr) {
  PgConn *c = PG_CONN(s);
  PGconn *pg = c->pg;
  char zSql[320], zFn[40];
  int v, rc = INV_ERROR, i, bFn;
  inv_pg_fn_schema(zFn, sizeof zFn);
  /* up to date: one query, no lock (every open of a store in use) */
  v = storedState(pg, zFn, &bFn);
  if (v == INV_SCHEMA_VERSION && bFn) return INV_OK;
  if (v > INV_SCHEMA_VERSION) goto newer;
  if (!bFn && createFunctions(s, pg, zFn, zErr, nErr)) return INV_ERROR;
  /* one migrator at a time, per schema: a transaction-level advisory lock,
  ** then the version again (another may have migrated meanwhile) */
  snprintf(zSql, sizeof zSql, "BEGIN; SELECT pg_advisory_xact_lock(7140117, hashtext('%s')); "
           "CREATE SCHEMA IF NOT EXISTS \"%s\"; "
           "CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)", c->zSchema, c->zSchema);
  if (run(s, pg, zSql, zErr, nErr)) goto done;
  v = storedState(pg, zFn, &bFn);
  if (v < 0) { snprintf(zErr, nErr, "%s", PQerrorMessage(pg)); goto done; }
  if (v > INV_SCHEMA_VERSION) goto newer;
  if (v == 0) {
    if (run(s, pg, "INSERT INTO schema_version VALUES (0)", zErr, nErr)) goto done;
    for (i = 0; inv_resources[i]; i++) {
      const inv_resource *r = inv_resources[i];
      const char *const *pz;
      inv_buf_reset(&s->tmp);
      inv_pg_dialect.xCreateTable(&s->tmp, r);
      if (s->tmp.bOom) { snprintf(zErr, nErr, "out of memory"); goto done; }
      if (run(s, pg, s->tmp.z, zErr, nErr)) goto done;
      for (pz = r->azIndex; *pz; pz++) if (runIndex(s, pg, *pz, zErr, nErr)) goto done;
    }
    v = 1;
  }
  if (v == 1) {
    if (runAll(s, pg, azV2, zErr, nErr)) goto done;
    v = 2;
  }
  if (v == 2) {
    /* version 3: the indexes of inv_schema.c (status summaries covered, no
    ** partial index, the job -> tasks paths by domain: two B-trees less per
    ** task) */
    static const char *const azDrop[] = {
      "DROP INDEX IF EXISTS job_in_progress", "DROP INDEX IF EXISTS job_task_job",
      "DROP INDEX IF EXISTS job_task_domain_collector_status", "DROP INDEX IF EXISTS job_task_created",
      NULL
    };
    if (runAll(s, pg, azDrop, zErr, nErr)) goto done;
    for (i = 0; inv_resources[i]; i++) {
      const char *const *pz;
      for (pz = inv_resources[i]->azIndex; *pz; pz++) if (runIndex(s, pg, *pz, zErr, nErr)) goto done;
    }
    v = 3;
  }
  if (v == 3) {
    /* version 4: the hot journal statements take their seqs themselves
    ** (pg_dialect.c, JOURNAL_TAKE): the commit stamp fires only for rows
    ** inserted without one (stamping at COMMIT updated every journal row
    ** again, about 5 us a row, held change_seq meanwhile) */
    static const char *const azV4[] = {
      "DROP TRIGGER change_stamp ON change",
      "CREATE CONSTRAINT TRIGGER change_stamp AFTER INSERT ON change DEFERRABLE INITIALLY DEFERRED "
      "FOR EACH ROW WHEN (NEW.seq IS NULL) EXECUTE FUNCTION change_stamp()",
      NULL
    };
    if (runAll(s, pg, azV4, zErr, nErr)) goto done;
    v = 4;
  }
  /* future: if (v == 4) { ...; v = 5; } */
  snprintf(zSql, sizeof zSql, "UPDATE schema_version SET version = %d; COMMIT", v);
  rc = run(s, pg, zSql, zErr, nErr);
done:
  if (rc) { PGresult *r = PQexec(pg, "ROLLBACK"); PQclear(r); }
  return rc;
newer:
  snprintf(zErr, nErr, "database schema version %d is newer than this library (%d)",
           v, INV_SCHEMA_VERSION);
  if (PQtransactionStatus(pg) != PQTRANS_IDLE) { PGresult *r = PQexec(pg, "ROLLBACK"); PQclear(r); }
  return INV_ERROR;
}
