/*
 * tests/tools/tool-logger.c — logs metric points through the C API, for the
 * reliability tests (kill -9 mid-logging; many processes into one store).
 *
 *   tool-logger STORE_DIR RUN_ID KEY N [SLEEP_US]
 *
 * Logs N points (step 0..N-1) under KEY into RUN_ID; after each 100 points
 * prints "logged <count>" (line-buffered) so a test can compare what was
 * handed to the library with what reached the store.  Exits 0 after a flush.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cairn.h"

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: tool-logger STORE RUN KEY N [SLEEP_US]\n");
		return 2;
	}
	long n = atol(argv[4]);
	long sleep_us = argc > 5 ? atol(argv[5]) : 0;
	cairn_store *s;
	cairn_run *r;
	if (cairn_store_open(&s, argv[1]) != 0 || cairn_run_open(&r, s, argv[2]) != 0) {
		fprintf(stderr, "error: %s\n", cairn_error_last());
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (long i = 0; i < n; i++) {
		if (cairn_run_log_metric(r, argv[3], (double)i, i, 0) != 0) {
			fprintf(stderr, "error: %s\n", cairn_error_last());
			return 1;
		}
		if ((i + 1) % 100 == 0)
			printf("logged %ld\n", i + 1);
		if (sleep_us)
			usleep((useconds_t)sleep_us);
	}
	int rc = cairn_run_flush(r);
	if (rc)
		fprintf(stderr, "error: %s\n", cairn_error_last());
	cairn_run_free(r);
	cairn_store_close(s);
	return rc ? 1 : 0;
}
