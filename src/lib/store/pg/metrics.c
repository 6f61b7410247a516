/*
 * lib/store/pg/metrics.c — the PostgreSQL backend's metric points: a batch
 * from the writer goes in as one transaction with its summaries and tiles,
 * through PostgreSQL's fast paths; and the full history of a series.
 *
 * Bulk ingest.  The points of a batch (64k from the writer) go in with one
 * COPY ... FROM STDIN (FORMAT binary) straight into metric_points, inside a
 * savepoint.  A
 * point that is already stored (the same run, key, step and millisecond:
 * SQLite's INSERT OR REPLACE replaces it) makes that COPY fail with a unique
 * violation; then the savepoint is rolled back and the batch takes the slow
 * path: COPY into a temporary staging table, then one INSERT ... SELECT
 * DISTINCT ON ... ON CONFLICT DO UPDATE (the last of equal points wins, as in
 * SQLite).  The batch is folded in C into one summary per series and one
 * accumulator per 256-step tile first (as sqlite/metrics.c and tiles.c do),
 * and those go in as one multi-row upsert each (INSERT ... SELECT FROM
 * unnest(array parameters) ON CONFLICT DO UPDATE): a handful of round trips
 * per batch, never one per point.
 *
 * Invariants: metric_summary and metric_tiles change in the same
 * transaction as the points, so reads never scan points; a summary's
 * `last` is the value with the greatest (step, ts); NaN is NULL and min/max
 * ignore it.
 * Thread-safety: called with the store's lock held (pg.h).
 */
#include "lib/store/pg/pg.h"
#include "lib/store/fold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pg_metric_last_step(cairn_store *s, int64_t rid, int64_t kid, int64_t *out_step)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_int(&p, kid);
	bool found = false;
	int rc = pg_query_int(s, "read the metric summary",
	                      "SELECT last_step FROM metric_summary WHERE rid = $1 AND kid = $2",
	                      &p, out_step, &found);
	if (rc == 0 && !found)
		*out_step = -1;
	return rc;
}

static int put_summaries(cairn_store *s, const fold_summary *tab, size_t n)
{
	buf a[8];
	bool f[8];
	for (int k = 0; k < 8; k++) {
		buf_init(&a[k]);
		buf_putc(&a[k], '{');
		f[k] = true;
	}
	for (size_t i = 0; i < n; i++) {
		const fold_summary *e = &tab[i];
		pg_array_int_add(&a[0], &f[0], e->rid);
		pg_array_int_add(&a[1], &f[1], e->kid);
		pg_array_double_add(&a[2], &f[2], e->last);
		pg_array_int_add(&a[3], &f[3], e->last_step);
		pg_array_int_add(&a[4], &f[4], e->last_ts);
		pg_array_double_add(&a[5], &f[5], e->has_minmax ? e->min : NAN);
		pg_array_double_add(&a[6], &f[6], e->has_minmax ? e->max : NAN);
		pg_array_int_add(&a[7], &f[7], e->count);
	}
	pg_params p = PG_PARAMS_INIT;
	bool ok = true;
	for (int k = 0; k < 8; k++) {
		buf_putc(&a[k], '}');
		ok &= buf_ok(&a[k]);
		pg_param_text(&p, a[k].ptr);
	}
	int rc =
	    ok ? pg_run(s, "update metric summaries",
	                "INSERT INTO metric_summary AS m(rid, kid, last, last_step, last_ts, min,"
	                " max, count) SELECT * FROM unnest($1::bigint[], $2::bigint[],"
	                " $3::float8[], $4::bigint[], $5::bigint[], $6::float8[], $7::float8[],"
	                " $8::bigint[]) ON CONFLICT(rid, kid) DO UPDATE SET"
	                " last = CASE WHEN excluded.last_step > m.last_step OR"
	                "   (excluded.last_step = m.last_step AND excluded.last_ts >= m.last_ts)"
	                "   THEN excluded.last ELSE m.last END,"
	                " last_ts = CASE WHEN excluded.last_step > m.last_step OR"
	                "   (excluded.last_step = m.last_step AND excluded.last_ts >= m.last_ts)"
	                "   THEN excluded.last_ts ELSE m.last_ts END,"
	                " last_step = greatest(m.last_step, excluded.last_step),"
	                " min = CASE WHEN m.min IS NULL OR excluded.min < m.min"
	                "   THEN coalesce(excluded.min, m.min) ELSE m.min END,"
	                " max = CASE WHEN m.max IS NULL OR excluded.max > m.max"
	                "   THEN coalesce(excluded.max, m.max) ELSE m.max END,"
	                " count = m.count + excluded.count",
	                &p, NULL)
	       : err_set(CAIRN_ENOMEM, "out of memory");
	for (int k = 0; k < 8; k++)
		buf_free(&a[k]);
	return rc;
}

/* A big-endian integer of n bytes at p. */
static void put_be(char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (char)(v & 0xff);
}

/* The points in COPY's binary format: the signature, the flags and header
 * extension (both 0), one tuple of five fields per point (int8 rid, kid,
 * step, ts; float8 value, length -1 for NaN: NULL), the trailer.  Binary,
 * not text: the server parses no numbers and the client prints none, so a
 * batch goes in at about 1.6x the rate of the text format (bench-ingest-pg
 * measures both floors).  float8 is the IEEE bits (±Inf as they are). */
#define COPY_TUPLE 62 /* 2 + 5 * (4 + 8) */
static int copy_rows(const mpoint *pts, size_t n, buf *b)
{
	buf_grow(b, 19 + n * COPY_TUPLE + 2);
	if (!buf_ok(b))
		return err_set(CAIRN_ENOMEM, "out of memory");
	char *p = b->ptr + b->len;
	memcpy(p, "PGCOPY\n\377\r\n\0", 11);
	memset(p + 11, 0, 8);
	p += 19;
	for (size_t i = 0; i < n; i++) {
		const mpoint *m = &pts[i];
		uint64_t bits;
		memcpy(&bits, &m->value, sizeof bits);
		const uint64_t f[4] = {(uint64_t)m->rid, (uint64_t)m->kid, (uint64_t)m->step,
		                       (uint64_t)m->ts_ms};
		put_be(p, 5, 2);
		p += 2;
		for (int k = 0; k < 4; k++, p += 12) {
			put_be(p, 8, 4);
			put_be(p + 4, f[k], 8);
		}
		if (isnan(m->value)) {
			put_be(p, 0xffffffffu, 4); /* NULL */
			p += 4;
		} else {
			put_be(p, 8, 4);
			put_be(p + 4, bits, 8);
			p += 12;
		}
	}
	put_be(p, 0xffff, 2);
	p += 2;
	b->len = (size_t)(p - b->ptr);
	b->ptr[b->len] = '\0';
	return 0;
}

static int put_points(cairn_store *s, const mpoint *pts, size_t n)
{
	buf b = BUF_INIT;
	char state[6];
	int rc = copy_rows(pts, n, &b);
	if (rc == 0)
		rc = pg_script(s, "SAVEPOINT cairn_points", "store metric points");
	if (rc == 0) {
		rc = pg_copy_in(s, "store metric points",
		                "COPY metric_points(rid, kid, step, ts, value) FROM STDIN"
		                " (FORMAT binary)",
		                &b, state);
		if (rc == CAIRN_ECONFLICT && strcmp(state, "23505") == 0) {
			/* a point already stored, or twice in the batch: replace it */
			rc = pg_script(
			    s,
			    "ROLLBACK TO SAVEPOINT cairn_points;"
			    "CREATE TEMP TABLE IF NOT EXISTS cairn_stage(rid BIGINT, kid BIGINT,"
			    " step BIGINT, ts BIGINT, value DOUBLE PRECISION,"
			    " ord BIGSERIAL) ON COMMIT DELETE ROWS",
			    "store metric points");
			if (rc == 0)
				rc = pg_copy_in(
				    s, "store metric points",
				    "COPY cairn_stage(rid, kid, step, ts, value) FROM STDIN"
				    " (FORMAT binary)",
				    &b, state);
			if (rc == 0)
				rc = pg_script(
				    s,
				    "INSERT INTO metric_points(rid, kid, step, ts, value)"
				    " SELECT DISTINCT ON (rid, kid, step, ts) rid, kid, step, ts,"
				    " value FROM cairn_stage ORDER BY rid, kid, step, ts, ord DESC"
				    " ON CONFLICT(rid, kid, step, ts) DO UPDATE SET"
				    " value = excluded.value;"
				    "TRUNCATE cairn_stage",
				    "store metric points");
		}
	}
	buf_free(&b);
	return rc;
}

/* Default steps (fold.h): every series of the batch locked, in (rid, kid)
 * order so that two writers never wait on each other in a circle, by one
 * upsert of its summary row that changes nothing (a new series gets a
 * placeholder row, last_step -1 and count 0, which put_summaries fills in
 * this same transaction); RETURNING gives each last step as committed by
 * whoever held the row before.  Then *out is the batch with its steps.  The
 * rows stay locked until the commit: a second server's batch of the series
 * reads the last step this one wrote. */
static int assign_steps(cairn_store *s, const mpoint *pts, size_t n, mpoint **out)
{
	fold_series *ser = NULL;
	size_t nser = 0;
	buf a[2];
	bool f[2] = {true, true};
	PGresult *r = NULL;
	int rc = fold_series_sorted(pts, n, &ser, &nser);
	if (rc)
		return rc;
	for (int k = 0; k < 2; k++) {
		buf_init(&a[k]);
		buf_putc(&a[k], '{');
	}
	for (size_t i = 0; i < nser; i++) {
		pg_array_int_add(&a[0], &f[0], ser[i].rid);
		pg_array_int_add(&a[1], &f[1], ser[i].kid);
	}
	buf_putc(&a[0], '}');
	buf_putc(&a[1], '}');
	if (!buf_ok(&a[0]) || !buf_ok(&a[1])) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, a[0].ptr);
	pg_param_text(&p, a[1].ptr);
	r = pg_exec(s, "assign metric steps",
	            "INSERT INTO metric_summary AS m(rid, kid, last, last_step, last_ts, min, max,"
	            " count) SELECT u.r, u.k, NULL, -1, -1, NULL, NULL, 0"
	            " FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS u(r, k, o)"
	            " ORDER BY u.o ON CONFLICT(rid, kid) DO UPDATE SET last_step = m.last_step"
	            " RETURNING m.rid, m.kid, m.last_step",
	            &p);
	if (!r) {
		rc = cairn_error_last_code();
		goto done;
	}
	for (int i = 0; i < pq.ntuples(r); i++) {
		fold_series key = {pg_get_int(r, i, 0), pg_get_int(r, i, 1), 0};
		for (size_t j = 0; j < nser; j++) /* few series: a scan is fine */
			if (ser[j].rid == key.rid && ser[j].kid == key.kid) {
				ser[j].last = pg_get_int(r, i, 2);
				break;
			}
	}
	rc = fold_assign_steps(pts, n, ser, nser, out);
done:
	if (r)
		pq.clear(r);
	buf_free(&a[0]);
	buf_free(&a[1]);
	free(ser);
	return rc;
}

int pg_metrics_insert(cairn_store *s, const mpoint *pts, size_t n)
{
	if (n == 0)
		return 0;
	fold_summary *tab = NULL;
	mpoint *own = NULL;
	size_t ns = 0;
	bool deflt = fold_has_auto(pts, n);
	int rc = pg_begin(s);
	if (rc)
		return rc;
	if (deflt && (rc = assign_steps(s, pts, n, &own)) != 0)
		goto fail;
	if (own)
		pts = own;
	if ((rc = fold_summaries(pts, n, &tab, &ns)) != 0 || (rc = put_points(s, pts, n)) != 0 ||
	    (rc = put_summaries(s, tab, ns)) != 0 || (rc = pg_tiles_fold(s, pts, n)) != 0)
		goto fail;
	rc = pg_commit(s);
	goto done;
fail:
	pg_rollback(s);
done:
	free(own);
	free(tab);
	return rc;
}

int pg_metric_points(cairn_store *s, int64_t rid, const char *key, store_points *out)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_text(&p, key);
	PGresult *r = pg_exec(s, "read the metric history",
	                      "SELECT m.step, m.ts, m.value FROM metric_points m"
	                      " WHERE m.rid = $1 AND m.kid = (SELECT id FROM keys WHERE name = $2)"
	                      " ORDER BY m.step, m.ts",
	                      &p);
	if (!r)
		return cairn_error_last_code();
	size_t n = (size_t)pq.ntuples(r);
	if (n) {
		out->step = malloc(n * sizeof *out->step);
		out->ts_ms = malloc(n * sizeof *out->ts_ms);
		out->value = malloc(n * sizeof *out->value);
		if (!out->step || !out->ts_ms || !out->value) {
			pq.clear(r);
			return err_set(CAIRN_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < n; i++) {
			out->step[i] = pg_get_int(r, (int)i, 0);
			out->ts_ms[i] = pg_get_int(r, (int)i, 1);
			out->value[i] = pg_get_double(r, (int)i, 2);
		}
		out->n = n;
		out->known = true;
		pq.clear(r);
		return 0;
	}
	pq.clear(r);
	/* an empty series, or no such metric? */
	int64_t one = 0;
	bool found = false;
	int rc = pg_query_int(s, "read the metric history",
	                      "SELECT 1 FROM metric_summary m JOIN keys k ON k.id = m.kid"
	                      " WHERE m.rid = $1 AND k.name = $2",
	                      &p, &one, &found);
	out->known = found;
	return rc;
}
