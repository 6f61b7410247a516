/*
 * lib/store/sqlite/sqlite.h — what the SQLite backend's files share and no
 * other part of the library may include: the database handle, cached
 * statements, transactions and column helpers.  Only files under
 * src/lib/store/sqlite/ include sqlite3.h (scripts/check-floor checks it).
 */
#ifndef CAIRN_LIB_STORE_SQLITE_H
#define CAIRN_LIB_STORE_SQLITE_H

#include <sqlite3.h>

#include "lib/store/store.h"

/* The store's database connection. */
sqlite3 *store_sqlite_db(cairn_store *s);
/* A cached prepared statement (sql must be a string literal: cached by address). */
sqlite3_stmt *store_prep(cairn_store *s, const char *sql);
int store_sqlerr(cairn_store *s, const char *what);
int store_begin(cairn_store *s); /* BEGIN IMMEDIATE */
int store_commit(cairn_store *s);
void store_rollback(cairn_store *s);
/* A read transaction, unless one is open already (*own tells which, for
 * store_read_end): everything read inside sees one snapshot. */
int store_read_begin(cairn_store *s, bool *own);
void store_read_end(cairn_store *s, bool own);
/* Bind text, or NULL for a NULL pointer (copied: SQLITE_TRANSIENT). */
void store_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Bind a double; NaN is stored as NULL (SQLite cannot store NaN). */
void store_bind_double_nan(sqlite3_stmt *st, int i, double v);
/* A nullable double column, NULL read as NaN. */
double store_column_double_nan(sqlite3_stmt *st, int i);

#endif
