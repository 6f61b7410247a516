/*
 * lib/store/sqlite/refs.c — the SQLite backend's artifacts, object
 * references, run deletion and purge, and the sweep that removes objects
 * nothing references any more.
 *
 * An object is live while object_refs or the code map names it; a code
 * map key starting with "tree" (a cached base manifest) is only a hint and
 * keeps nothing.  Files are removed only inside a write transaction, after
 * checking that the object is not live; references are recorded only
 * inside a write transaction, after checking that the file is there
 * (docs/internals/store.md, "Objects, references and purge").
 * Thread-safety: called with the store's lock held (sqlite.h).
 */
#include "lib/store/sqlite/sqlite.h"

#include <string.h>

int sqlite_artifact_put(cairn_store *s, int64_t rid, const char *path, const char *oid,
                        int64_t size, const char *media_type, const char *kind, const char *key,
                        int64_t step)
{
	sqlite3_stmt *st = store_prep(
	    s, "INSERT OR REPLACE INTO artifacts(rid, path, oid, size, media_type, kind, key, step,"
	       " created) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (st) {
		sqlite3_bind_int64(st, 1, rid);
		store_bind_text(st, 2, path);
		store_bind_text(st, 3, oid);
		sqlite3_bind_int64(st, 4, size);
		store_bind_text(st, 5, media_type);
		store_bind_text(st, 6, kind);
		store_bind_text(st, 7, key);
		if (step != CAIRN_STEP_AUTO)
			sqlite3_bind_int64(st, 8, step);
		sqlite3_bind_double(st, 9, store_now(s));
	}
	/* the row and its object reference commit together */
	int rc = store_refs_begin(s);
	if (rc == 0) {
		if ((rc = store_write1(s, st, "record the artifact")) != 0 ||
		    (rc = sqlite_object_ref(s, rid, oid)) != 0)
			store_rollback(s);
		else
			rc = store_commit(s);
	}
	return rc;
}

/* The row of path, or the rows under the directory path names ("" all of
 * them): substr and length count characters on both sides, so a name with
 * non-ASCII text compares as it was stored.  The references stay: the run
 * may name the same object through another artifact, its code or its
 * environment, which object_refs does not tell apart (store.md, "Deleting
 * an artifact"). */
int sqlite_artifact_delete(cairn_store *s, int64_t rid, const char *path, int64_t *out_removed)
{
	sqlite3_stmt *st =
	    store_prep(s, "DELETE FROM artifacts WHERE rid = ?1 AND (?2 = '' OR path = ?2 OR"
	                  " substr(path, 1, length(?2) + 1) = ?2 || '/')");
	if (!st)
		return cairn_error_last_code();
	int rc = store_begin(s);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, rid);
	store_bind_text(st, 2, path);
	if ((rc = store_step_done(s, st, "delete the artifact")) != 0) {
		store_rollback(s);
		return rc;
	}
	int64_t n = sqlite3_changes64(store_sqlite_db(s));
	if (n == 0) {
		store_rollback(s);
		return err_set(CAIRN_ENOTFOUND, "the run has no artifact '%s'", path);
	}
	if ((rc = store_commit(s)) == 0 && out_removed)
		*out_removed = n;
	return rc;
}

/* --- objects and their references ------------------------------------------
 * (docs/internals/store.md, "Objects, references and purge").  An object is
 * live while object_refs or the code map names it; a code map key starting
 * with "tree" (a cached base manifest) is only a hint and keeps nothing.
 * Files are removed only inside a write transaction, after checking that
 * the object is not live; references are recorded only inside a write
 * transaction, after checking that the file is there. */

int store_refs_begin(cairn_store *s)
{
	store_hook(s, "refs");
	return store_begin(s);
}

int store_object_check(cairn_store *s, const char *oid)
{
	if (!store_in_txn(s))
		return err_set(CAIRN_ERROR, "internal: object %.64s checked outside a transaction",
		               oid ? oid : "");
	if (!object_present(s, oid))
		return err_set(OBJECT_VANISHED,
		               "object %.64s was removed (by a purge of another run) before the "
		               "reference to it was recorded",
		               oid ? oid : "");
	return 0;
}

int sqlite_object_ref(cairn_store *s, int64_t rid, const char *oid)
{
	bool own = !store_in_txn(s);
	int rc = own ? store_refs_begin(s) : 0;
	if (rc == 0)
		rc = store_object_check(s, oid);
	if (rc == 0) {
		sqlite3_stmt *st =
		    store_prep(s, "INSERT OR IGNORE INTO object_refs(rid, oid) VALUES(?, ?)");
		if (!st) {
			rc = cairn_error_last_code();
		} else {
			sqlite3_bind_int64(st, 1, rid);
			store_bind_text(st, 2, oid);
			rc = store_step_done(s, st, "record the object reference");
		}
	}
	if (own) {
		if (rc)
			store_rollback(s);
		else
			rc = store_commit(s);
	}
	return rc;
}

int sqlite_objects_sweep(cairn_store *s, const buf *candidates, size_t *out_removed)
{
	int rc;
	size_t removed = 0;
	if (out_removed)
		*out_removed = 0;
	if (!candidates || !candidates->len)
		return 0;
	store_hook(s, "sweep");
	/* The write lock keeps every writer from recording a reference between
	 * the check and the unlink (writers check the file under the same lock). */
	if ((rc = store_begin(s)) != 0)
		goto done;
	sqlite3_stmt *live = store_prep(
	    s, "SELECT EXISTS(SELECT 1 FROM object_refs WHERE oid = ?1) OR EXISTS(SELECT 1 FROM"
	       " code_map WHERE oid = ?1 AND substr(key, 1, 4) != 'tree')");
	sqlite3_stmt *hint = store_prep(s, "DELETE FROM code_map WHERE oid = ?");
	if (!live || !hint) {
		rc = cairn_error_last_code();
		goto fail;
	}
	const char *line = candidates->ptr;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char oid[CAIRN_OID_HEXSZ + 1];
		if (n == CAIRN_OID_HEXSZ) {
			memcpy(oid, line, n);
			oid[n] = '\0';
			store_bind_text(live, 1, oid);
			int r = sqlite3_step(live);
			bool is_live = r != SQLITE_ROW || sqlite3_column_int(live, 0) != 0;
			sqlite3_reset(live);
			if (r != SQLITE_ROW) {
				rc = store_sqlerr(s, "check an object before removing it");
				goto fail;
			}
			if (!is_live) {
				store_bind_text(hint, 1, oid);
				if ((rc = store_step_done(s, hint, "forget a cached object")) != 0)
					goto fail;
				object_remove(s, oid);
				removed++;
			}
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	rc = store_commit(s);
	if (rc == 0 && out_removed)
		*out_removed = removed;
	goto done;
fail:
	store_rollback(s);
done:
	return rc;
}

int sqlite_run_delete(cairn_store *s, int64_t rid, bool purge, buf *orphans)
{
	int rc;
	if ((rc = store_begin(s)) != 0)
		goto done;
	if (!purge) {
		sqlite3_stmt *st = store_prep(s, "UPDATE runs SET deleted = 1 WHERE rid = ?");
		if (!st) {
			rc = cairn_error_last_code();
			goto fail;
		}
		sqlite3_bind_int64(st, 1, rid);
		if ((rc = store_step_done(s, st, "delete the run")) != 0)
			goto fail;
	} else {
		/* Objects that no other run references are candidates: the caller
		 * sweeps them after the commit (store_objects_sweep checks again). */
		sqlite3_stmt *q = store_prep(
		    s, "SELECT oid FROM object_refs r WHERE rid = ?1 AND NOT EXISTS"
		       " (SELECT 1 FROM object_refs o WHERE o.oid = r.oid AND o.rid != ?1)");
		if (!q) {
			rc = cairn_error_last_code();
			goto fail;
		}
		sqlite3_bind_int64(q, 1, rid);
		while (sqlite3_step(q) == SQLITE_ROW) {
			const char *oid = (const char *)sqlite3_column_text(q, 0);
			if (orphans && strlen(oid) == 64)
				buf_printf(orphans, "%s\n", oid);
		}
		sqlite3_reset(q);
		static const char *const dels[] = {
		    "DELETE FROM object_refs WHERE rid = ?",
		    "DELETE FROM metric_points WHERE rid = ?",
		    "DELETE FROM metric_summary WHERE rid = ?",
		    "DELETE FROM params WHERE rid = ?",
		    "DELETE FROM tags WHERE rid = ?",
		    "DELETE FROM properties WHERE rid = ?",
		    "DELETE FROM artifacts WHERE rid = ?",
		    "DELETE FROM datasets WHERE rid = ?",
		    "DELETE FROM runs WHERE rid = ?",
		};
		for (size_t i = 0; i < sizeof dels / sizeof dels[0]; i++) {
			sqlite3_stmt *st = store_prep(s, dels[i]);
			if (!st) {
				rc = cairn_error_last_code();
				goto fail;
			}
			sqlite3_bind_int64(st, 1, rid);
			if ((rc = store_step_done(s, st, "purge the run")) != 0)
				goto fail;
		}
	}
	rc = store_commit(s);
	goto done;
fail:
	store_rollback(s);
done:
	return rc;
}
