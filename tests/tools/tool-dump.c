/*
 * tests/tools/tool-dump.c — everything a store holds about its runs, in one
 * deterministic text, for the tests of cairn migrate: two stores with the
 * same dump hold the same runs.
 *
 *   tool-dump STORE
 *
 * Per run, by id (deleted ones too): its record as JSON with artifacts
 * (cairn_run_record_json), then per metric its whole history (raw) and its
 * thinned history at 64 points (read from the tiles where they apply).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cairn.h"

static int fail(void)
{
	fprintf(stderr, "error: %s\n", cairn_error_last());
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tool-dump STORE\n");
		return 2;
	}
	cairn_store *s;
	if (cairn_store_open(&s, argv[1]) != 0)
		return fail();
	cairn_query_options qo = CAIRN_QUERY_OPTIONS_INIT;
	qo.sort = "id";
	qo.include_deleted = 1;
	cairn_run_iter *it = NULL;
	cairn_run_record *rec = NULL;
	int rc = 0, e;
	if (cairn_query_iter_new(&it, s, &qo) != 0)
		return fail();
	while (rc == 0 && (e = cairn_run_iter_next(&rec, it)) == 0) {
		cairn_run_record *full = NULL;
		char *js = NULL;
		const char *id = cairn_run_record_id(rec);
		if (cairn_run_record_get(&full, s, id,
		                         CAIRN_RECORD_ARTIFACTS | CAIRN_RECORD_DELETED) != 0 ||
		    cairn_run_record_json(&js, full, NULL, 0) != 0) {
			rc = fail();
		} else {
			printf("%s\n", js);
			for (size_t i = 0; i < cairn_run_record_metric_count(full) && rc == 0;
			     i++) {
				const char *key = cairn_run_record_metric(full, i)->key;
				char *raw = NULL, *thin = NULL;
				if (cairn_run_metric_raw_json(&raw, s, id, key) != 0 ||
				    cairn_run_metric_sample_json(&thin, s, id, key, 64) != 0)
					rc = fail();
				else
					printf("  %s raw %s\n  %s thin %s\n", key, raw, key, thin);
				cairn_free(raw);
				cairn_free(thin);
			}
		}
		cairn_free(js);
		cairn_run_record_free(full);
		cairn_run_record_free(rec);
	}
	if (rc == 0 && e != CAIRN_ITEROVER)
		rc = fail();
	cairn_run_iter_free(it);
	cairn_store_close(s);
	return rc;
}
