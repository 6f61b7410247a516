/*
 * lib/store/sqlite/settings.c — the store's own settings: the `settings`
 * table (migration 8), one text value per key.  The only key so far is
 * `objects`, where the store's objects live when they are not in
 * objects/ (docs/internals/store.md, "Where the objects are").  What is
 * stored here is never a credential: the objects location is checked for
 * user:password@ before it is saved (lib/store/objects.c).
 * Thread-safety: called with the store's lock held.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/store/sqlite/sqlite.h"

int sqlite_setting_get(cairn_store *s, const char *key, char **out)
{
	*out = NULL;
	sqlite3_stmt *st = store_prep(s, "SELECT value FROM settings WHERE key = ?");
	if (!st)
		return cairn_error_last_code();
	store_bind_text(st, 1, key);
	int rc = 0, r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		*out = strdup(v ? v : "");
		if (!*out)
			rc = err_set(CAIRN_ENOMEM, "out of memory");
	} else if (r == SQLITE_DONE) {
		rc = err_set(CAIRN_ENOTFOUND, "the store has no setting '%.100s'", key);
	} else {
		rc = store_sqlerr(s, "read the store's settings");
	}
	sqlite3_reset(st);
	return rc;
}

int sqlite_setting_put(cairn_store *s, const char *key, const char *value)
{
	sqlite3_stmt *st =
	    store_prep(s, "INSERT OR REPLACE INTO settings(key, value) VALUES(?, ?)");
	if (st) {
		store_bind_text(st, 1, key);
		store_bind_text(st, 2, value);
	}
	return store_write1(s, st, "save the store's settings");
}
