/*
 * lib/store/records.c — the JSON entry points on run records, for every
 * backend: one run, the run list and the page of a query, each loaded as
 * records (store_records_load) and written by the one run-object writer
 * (record_json, store/record-json.c), inside one read transaction.
 */
#include <stdlib.h>

#include "lib/store/query.h"
#include "lib/store/record.h"
#include "lib/store/store.h"
#include "lib/store/sweep.h"
#include "util/json.h"

/* --- the JSON entry points ----------------------------------------------------------- */

/* The run objects of rids (in that order, comma-separated) appended to b. */
static int runs_json(cairn_store *s, const int64_t *rids, size_t n, bool with_artifacts, buf *b,
                     bool *first)
{
	for (size_t from = 0; from < n; from += STORE_RECORD_BATCH) {
		size_t cnt = n - from < STORE_RECORD_BATCH ? n - from : STORE_RECORD_BATCH;
		rec_batch *bt;
		int rc = store_records_load(s, rids + from, cnt, with_artifacts, &bt);
		if (rc)
			return rc;
		if (bt->n < cnt) {
			rec_batch_unref(bt);
			return err_set(CAIRN_ENOTFOUND,
			               cnt == 1 ? "run not found" : "run vanished from the store");
		}
		for (size_t i = 0; i < bt->n; i++) {
			if (!*first)
				buf_putc(b, ',');
			*first = false;
			record_json(b, &bt->recs[i], NULL, 0);
		}
		rec_batch_unref(bt);
	}
	return buf_ok(b) ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

int store_run_json(cairn_store *s, int64_t rid, bool with_artifacts, buf *b)
{
	bool first = true;
	return runs_json(s, &rid, 1, with_artifacts, b, &first);
}

int store_run_list_json(cairn_store *s, const cairn_list_options *o, buf *b)
{
	int64_t *rids = NULL;
	size_t n = 0;
	bool own = false, first = true;
	int rc;
	store_lock(s);
	if ((rc = store_read_begin(s, &own)) != 0)
		goto done_unlocked;
	if ((rc = store_run_list_ids(s, o, &rids, &n)) != 0)
		goto done;
	buf_putc(b, '[');
	if ((rc = runs_json(s, rids, n, false, b, &first)) != 0)
		goto done;
	buf_putc(b, ']');
done:
	store_read_end(s, own);
done_unlocked:
	store_unlock(s);
	free(rids);
	return rc;
}

int store_query_runs_json(cairn_store *s, const store_query *sq, buf *b)
{
	int64_t *ids = NULL, total = 0;
	size_t n = 0;
	bool own = false, first = true;
	int rc;
	store_lock(s);
	if ((rc = store_read_begin(s, &own)) != 0)
		goto done_unlocked;
	if ((rc = store_query_page(s, sq, &ids, &n, &total)) != 0)
		goto done;
	buf_puts(b, "{\"total\":");
	json_int(b, total);
	buf_puts(b, ",\"runs\":[");
	if ((rc = runs_json(s, ids, n, false, b, &first)) != 0)
		goto done;
	buf_puts(b, "]}");
	if (!buf_ok(b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
done:
	free(ids);
	store_read_end(s, own);
done_unlocked:
	store_unlock(s);
	return rc;
}

/* --- metric histories ------------------------------------------------------- */

static void put_points(buf *b, const store_points *p)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < p->n; i++) {
		if (i)
			buf_putc(b, ',');
		buf_putc(b, '[');
		json_int(b, p->step[i]);
		buf_putc(b, ',');
		json_num(b, (double)p->ts_ms[i] / 1000.0);
		buf_putc(b, ',');
		json_num(b, p->value[i]);
		buf_putc(b, ']');
	}
	buf_putc(b, ']');
}

int store_metric_history_json(cairn_store *s, int64_t rid, const char *key, buf *b)
{
	store_points p;
	int rc = store_metric_points(s, rid, key, &p);
	if (rc == 0)
		put_points(b, &p);
	store_points_free(&p);
	return rc;
}

int store_metric_raw_json(cairn_store *s, int64_t rid, const char *key, buf *b)
{
	store_points p;
	int rc = store_metric_points(s, rid, key, &p);
	if (rc == 0 && !p.known)
		rc = err_set(CAIRN_ENOTFOUND, "the run has no metric '%.200s'", key);
	if (rc == 0) {
		buf_puts(b, "{\"key\":");
		json_str(b, key);
		buf_puts(b, ",\"count\":");
		json_int(b, (int64_t)p.n);
		buf_puts(b, ",\"sampled\":false,\"points\":");
		put_points(b, &p);
		buf_putc(b, '}');
		if (!buf_ok(b))
			rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
	store_points_free(&p);
	return rc;
}

int store_sweep_run_curve(cairn_store *s, int64_t rid, const char *key, int64_t **out_steps,
                          double **out_values, size_t *out_n)
{
	store_points p;
	*out_steps = NULL;
	*out_values = NULL;
	*out_n = 0;
	int rc = store_metric_points(s, rid, key, &p);
	if (rc == 0) {
		*out_steps = p.step;
		*out_values = p.value;
		*out_n = p.n;
		p.step = NULL;
		p.value = NULL;
	}
	store_points_free(&p);
	return rc;
}
