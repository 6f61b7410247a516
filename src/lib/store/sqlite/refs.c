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
 * non-ASCII text compares as it was stored.  With keep, the run's reference
 * to a deleted row's object goes as well when no other record of the run
 * names the object (store.md, "Deleting an artifact"): checked here in SQL
 * for artifacts, dataset manifests and the code and environment records,
 * and by keep->oids for the files the code record names.  All in one write
 * transaction, under which no writer can add a reference. */
#define UNDER_PATH                                                                                 \
	"rid = ?1 AND (?2 = '' OR path = ?2 OR substr(path, 1, length(?2) + 1) = ?2 || '/')"

static int unref_deleted(cairn_store *s, int64_t rid, const store_art_keep *keep, const buf *oids,
                         buf *orphans)
{
	sqlite3_stmt *code = store_prep(s, "SELECT coalesce(code_oid, '') FROM runs WHERE rid = ?");
	sqlite3_stmt *un = store_prep(
	    s, "DELETE FROM object_refs WHERE rid = ?1 AND oid = ?2"
	       " AND NOT EXISTS (SELECT 1 FROM artifacts WHERE rid = ?1 AND oid = ?2)"
	       " AND NOT EXISTS (SELECT 1 FROM datasets WHERE rid = ?1 AND manifest_oid = ?2)"
	       " AND NOT EXISTS (SELECT 1 FROM runs WHERE rid = ?1 AND (code_oid = ?2 OR env_oid = "
	       "?2))");
	if (!code || !un)
		return cairn_error_last_code();
	sqlite3_bind_int64(code, 1, rid);
	int r = sqlite3_step(code);
	bool same = r == SQLITE_ROW &&
	            strcmp((const char *)sqlite3_column_text(code, 0), keep->code_oid) == 0;
	sqlite3_reset(code);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_sqlerr(s, "read the run's code record");
	if (!same)
		return err_set(CAIRN_ECONFLICT, "the run's code record changed during the delete");
	for (const char *line = oids->ptr; line && *line;) {
		const char *nl = strchr(line, '\n');
		char oid[CAIRN_OID_HEXSZ + 1];
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		if (n == CAIRN_OID_HEXSZ) {
			memcpy(oid, line, n);
			oid[n] = '\0';
			if (!store_oid_listed(keep->oids, oid)) {
				sqlite3_bind_int64(un, 1, rid);
				store_bind_text(un, 2, oid);
				int rc = store_step_done(s, un, "drop the artifact's reference");
				if (rc)
					return rc;
				if (sqlite3_changes64(store_sqlite_db(s)) > 0 && orphans)
					buf_printf(orphans, "%s\n", oid);
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

int sqlite_artifact_delete(cairn_store *s, int64_t rid, const char *path,
                           const store_art_keep *keep, int64_t *out_removed, buf *orphans)
{
	sqlite3_stmt *sel = store_prep(s, "SELECT DISTINCT oid FROM artifacts WHERE " UNDER_PATH);
	sqlite3_stmt *st = store_prep(s, "DELETE FROM artifacts WHERE " UNDER_PATH);
	if (!sel || !st)
		return cairn_error_last_code();
	buf oids = BUF_INIT;
	int rc = keep ? store_refs_begin(s) : store_begin(s);
	if (rc)
		return rc;
	sqlite3_bind_int64(sel, 1, rid);
	store_bind_text(sel, 2, path);
	int r;
	while (keep && (r = sqlite3_step(sel)) == SQLITE_ROW)
		buf_printf(&oids, "%s\n", (const char *)sqlite3_column_text(sel, 0));
	sqlite3_reset(sel);
	if (keep && r != SQLITE_DONE) {
		rc = store_sqlerr(s, "read the artifacts");
		goto fail;
	}
	sqlite3_bind_int64(st, 1, rid);
	store_bind_text(st, 2, path);
	if ((rc = store_step_done(s, st, "delete the artifact")) != 0)
		goto fail;
	int64_t n = sqlite3_changes64(store_sqlite_db(s));
	if (n == 0) {
		rc = err_set(CAIRN_ENOTFOUND, "the run has no artifact '%s'", path);
		goto fail;
	}
	if (!buf_ok(&oids)) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto fail;
	}
	if (keep && (rc = unref_deleted(s, rid, keep, &oids, orphans)) != 0)
		goto fail;
	if ((rc = store_commit(s)) == 0 && out_removed)
		*out_removed = n;
	buf_free(&oids);
	return rc;
fail:
	store_rollback(s);
	buf_free(&oids);
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
	       " code_map WHERE oid = ?1 AND substr(key, 1, 4) != 'tree') OR"
	       " EXISTS(SELECT 1 FROM artifacts WHERE oid = ?1)");
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
