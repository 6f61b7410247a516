/*
 * tests/unit/test-capture-stream.c — streamed artifacts (the logs of cairn
 * run) and the monitor (heartbeat, system samples).
 */
#include "unit.h"

#include <time.h>

#include "util/json.h"
#include "util/sha.h"

static json_doc *run_doc(unit_store *u, cairn_run *r)
{
	char *js = NULL, err[128];
	assert_ok(cairn_run_get_json(&js, u->s, cairn_run_id(r)));
	json_doc *d = json_parse(js, strlen(js), NULL, err, sizeof err);
	assert_non_null(d);
	cairn_free(js);
	return d;
}

static const json *artifact(json_doc *d, const char *path)
{
	for (const json *a = json_get(json_root(d), "artifacts")->child; a; a = a->next)
		if (strcmp(json_get_str(a, "path"), path) == 0)
			return a;
	return NULL;
}

static void test_stream(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_run *r = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	cairn_artifact_stream *s = NULL;
	assert_ok(cairn_artifact_stream_open(&s, r, "logs/out.log", CAIRN_ARTIFACT_LOG));
	/* 3 MiB in uneven pieces */
	size_t total = 3 << 20;
	char *all = malloc(total);
	for (size_t i = 0; i < total; i++)
		all[i] = (char)('a' + (i * 7) % 26);
	for (size_t off = 0; off < total;) {
		size_t n = 1 + (off * 31) % 100000;
		if (off + n > total)
			n = total - off;
		if (off % 2) { /* half through the zero-copy path */
			void *slot;
			size_t cap;
			assert_ok(cairn_artifact_stream_reserve(s, &slot, &cap));
			assert_int_equal(cairn_artifact_stream_reserve(s, &slot, &cap),
			                 CAIRN_EINVALID);
			if (n > cap)
				n = cap;
			memcpy(slot, all + off, n);
			assert_ok(cairn_artifact_stream_commit(s, n));
			assert_ok(cairn_artifact_stream_reserve(s, &slot, &cap));
			assert_ok(cairn_artifact_stream_commit(s, 0)); /* given back unused */
		} else {
			assert_ok(cairn_artifact_stream_write(s, all + off, n));
		}
		off += n;
	}
	assert_int_equal(cairn_artifact_stream_commit(s, 1), CAIRN_EINVALID); /* nothing reserved */
	assert_ok(cairn_artifact_stream_close(s));
	char want[65];
	sha_buf_hex(all, total, want);
	free(all);
	json_doc *d = run_doc(&u, r);
	const json *a = artifact(d, "logs/out.log");
	assert_non_null(a);
	assert_string_equal(json_get_str(a, "digest"), want);
	assert_int_equal(json_get(a, "size")->i, (int64_t)total);
	assert_string_equal(json_get_str(a, "kind"), "log");
	json_doc_free(d);
	/* aborted: no artifact, no temp file left */
	assert_ok(cairn_artifact_stream_open(&s, r, "logs/gone.log", CAIRN_ARTIFACT_LOG));
	assert_ok(cairn_artifact_stream_write(s, "x", 1));
	cairn_artifact_stream_abort(s);
	d = run_doc(&u, r);
	assert_null(artifact(d, "logs/gone.log"));
	json_doc_free(d);
	char cmd[4300];
	snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s/objects/tmp)\"", u.store_dir);
	assert_int_equal(system(cmd), 0);
	/* bad names are refused */
	assert_int_equal(cairn_artifact_stream_open(&s, r, "../x", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_artifact_stream_open(&s, r, "/abs", NULL), CAIRN_EINVALID);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void test_monitor(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_run *r = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	cairn_monitor *m = NULL;
	cairn_monitor_options o = CAIRN_MONITOR_OPTIONS_INIT;
	o.heartbeat_interval = 0.02;
	o.sample_interval = 0.02;
	assert_ok(cairn_monitor_start(&m, r, &o));
	/* the first heartbeat is written before start returns */
	json_doc *d = run_doc(&u, r);
	assert_int_equal(json_get(json_root(d), "heartbeat")->type, JSON_NUM);
	json_doc_free(d);
	/* samples arrive (waiting as long as a loaded machine needs) */
	bool seen = false;
	for (int i = 0; i < 500 && !seen; i++) {
		sleep_ms(20);
		assert_ok(cairn_run_flush(r));
		d = run_doc(&u, r);
		const json *metrics = json_get(json_root(d), "metrics");
		seen = json_get(metrics, "sys/rss_bytes") && json_get(metrics, "sys/cpu_percent") &&
		       json_get(metrics, "sys/memory_percent");
		json_doc_free(d);
	}
	assert_true(seen);
	cairn_monitor_stop(m);
	cairn_monitor_stop(NULL);
	o.version = 99;
	assert_int_equal(cairn_monitor_start(&m, r, &o), CAIRN_EINVALID);
	cairn_run_free(r);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_monitor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
