/*
** tbackend.h: the backend under test of the C suite. PostgreSQL when
** INVENTORY_TEST_URL names a server (scripts/test.sh runs the suite once per
** backend), SQLite otherwise. On PostgreSQL the SQL-touching tests run (each
** store a fresh schema of that database); what looks at one engine alone
** (SQLite's vocabulary, its files, its trace) runs on SQLite only.
*/
#ifndef TBACKEND_H
#define TBACKEND_H
#include "inv_int.h"

/* The PostgreSQL URL under test, or NULL (SQLite). */
const char *th_pg_url(void);
#define TH_PG (th_pg_url() != NULL)

/* Open a fresh store on the backend under test: o's path (":memory:", or
** NULL) is SQLite's; on PostgreSQL a new schema instead. */
int th_open(inv_options *o, inv_store **ppOut, char *zErr, size_t nErr);
inv_store *th_open_memory(const char *zWho);

/* Another connection to s's store (PostgreSQL: its schema); NULL on SQLite
** (a file is the caller's). */
inv_store *th_reopen(inv_store *s);

/* Run SQL of a test on s's connection (no rows): 0, or -1. */
int th_exec(inv_store *s, const char *zSql);

/* 1 when the store's connection is inside a transaction. */
int th_in_tx(inv_store *s);

/* The parameters the engine counts in a prepared statement of s. */
int th_param_count(inv_store *s, inv_stmt *p);

/* The first column of the first row of zSql as text (or "error: <msg>",
** "NULL") in b, through the store's own driver. */
const char *th_sql_one(inv_store *s, const char *zSql, inv_buf *b);

/* Statements the store ran since th_trace_mark(s) (PostgreSQL: from the
** driver's statement cache): their texts, one per line, into pSql; with
** the bound values after each into pExpanded; the count of them that start
** with zPrefix. */
void th_trace_mark(inv_store *s);
int th_trace_collect(inv_store *s, inv_buf *pSql, inv_buf *pExpanded, const char *zPrefix);

#endif
