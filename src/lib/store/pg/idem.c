/*
 * lib/store/pg/idem.c — idempotency keys in PostgreSQL (migration 3), the
 * same as SQLite's (sqlite/idem.c): the answer to a write that carried an
 * Idempotency-Key, its body as hex text, dropped after max_age.  Two
 * servers on one database share the table, so a retry that reaches the
 * other server is answered the same.  hold_begin/hold_end: the one
 * transaction of a keyed write and its key (the ops' own transactions
 * inside it are savepoints, conn.c).  Thread-safety: the store's lock.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/store/pg/pg.h"
#include "util/sha.h"

int pg_idem_get(cairn_store *s, const char *key, double max_age, int *status, char **body,
                size_t *len)
{
	*body = NULL;
	*len = 0;
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, key);
	pg_param_double(&p, store_now(s) - max_age);
	PGresult *r =
	    pg_exec(s, "read an idempotency key",
	            "SELECT status, body FROM idempotency WHERE key = $1 AND created >= $2", &p);
	if (!r)
		return cairn_error_last_code();
	int rc = 0;
	if (pq.ntuples(r) != 1) {
		rc = err_set(CAIRN_ENOTFOUND, "no such idempotency key");
	} else {
		*status = (int)pg_get_int(r, 0, 0);
		const char *hex = pq.getvalue(r, 0, 1);
		char *b = hex_decode_dup(hex ? hex : "", len);
		if (!b)
			rc = err_set(CAIRN_ENOMEM, "out of memory (or a damaged idempotency row)");
		else
			*body = b;
	}
	pq.clear(r);
	return rc;
}

int pg_idem_put(cairn_store *s, const char *key, double max_age, int status, const void *body,
                size_t len)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_double(&p, store_now(s) - max_age);
	int rc = pg_run(s, "drop old idempotency keys",
	                "DELETE FROM idempotency WHERE created < $1", &p, NULL);
	if (rc)
		return rc;
	char *hex = malloc(len * 2 + 1);
	if (!hex)
		return err_set(CAIRN_ENOMEM, "out of memory");
	hex_encode(hex, body, len);
	pg_params q = PG_PARAMS_INIT;
	pg_param_text(&q, key);
	pg_param_int(&q, status);
	pg_param_text(&q, hex);
	pg_param_double(&q, store_now(s));
	rc = pg_run(s, "record an idempotency key",
	            "INSERT INTO idempotency(key, status, body, created) VALUES($1, $2, $3, $4)"
	            " ON CONFLICT(key) DO NOTHING",
	            &q, NULL);
	free(hex);
	return rc;
}

int pg_hold_begin(cairn_store *s)
{
	int rc = pg_begin(s);
	if (rc == 0) {
		s->hold = true;
		s->hold_depth = 0;
	}
	return rc;
}

int pg_hold_end(cairn_store *s, bool commit)
{
	s->hold = false;
	s->hold_depth = 0;
	if (!pg_in_txn(s))
		/* an op rolled the whole of it back (an error it answered) */
		return commit ? err_set(CAIRN_ESTORE, "the write's transaction was rolled back")
		              : 0;
	if (commit)
		return pg_commit(s);
	pg_rollback(s);
	return 0;
}
