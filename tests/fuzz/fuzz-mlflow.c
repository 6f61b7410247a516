/*
 * tests/fuzz/fuzz-mlflow.c — the MLflow file-store reader of `cairn import
 * mlflow` (src/cli/mlflow-read.c) on arbitrary bytes.  The first byte
 * picks what the rest is:
 *   0: metric lines, each parsed alone (mlr_metric_line) and checked: a
 *      line that parses reads the same fields back from its own text;
 *   1: the content of a run's metrics/loss file, read as the importer
 *      reads it (the line cap, cairn's bounds on a point);
 *   2: a run's meta.yaml, the run read whole (libyaml through the
 *      library's flattener, then the field checks);
 *   3: a param file's content.
 * Must never crash, hang or leak; an error is always a message.
 *
 * The reader is part of the command-line tool, not the library, so it is
 * compiled into this target from its source.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/mlflow-files.c"
#include "cli/mlflow-read.c"

#define RUN "0123456789abcdef0123456789abcdef"

static char root[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A scratch mlruns/1/RUN tree, made once, removed at exit. */
static void setup(void)
{
	if (root[0])
		return;
	snprintf(root, sizeof root, "/tmp/fuzz-mlflow.XXXXXX");
	if (!mkdtemp(root))
		abort();
	atexit(cleanup);
	char p[256];
	snprintf(p, sizeof p, "%s/1", root);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/1/meta.yaml", root);
	FILE *f = fopen(p, "w");
	fputs("experiment_id: '1'\nname: fuzz\nlifecycle_stage: active\n", f);
	fclose(f);
	static const char *const dirs[] = {"", "/metrics", "/params", "/tags"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s/1/%s%s", root, RUN, dirs[i]);
		mkdir(p, 0700);
	}
}

static void put(const char *rel, const void *data, size_t n)
{
	char p[256];
	snprintf(p, sizeof p, "%s/1/%s/%s", root, RUN, rel);
	FILE *f = fopen(p, "wb");
	if (!f)
		abort();
	fwrite(data, 1, n, f);
	fclose(f);
}

static const char good_meta[] = "run_id: " RUN "\nexperiment_id: '1'\nstatus: 3\n"
                                "start_time: 1700000000000\nend_time: 1700000001000\n"
                                "lifecycle_stage: active\nuser_id: fuzz\n";

static void read_run(void)
{
	mlr_store s;
	char err[MLR_ERR];
	if (mlr_store_open(&s, root, err, sizeof err) != 0) {
		if (!err[0])
			abort();
		mlr_store_free(&s);
		return;
	}
	for (size_t i = 0; i < s.nexps; i++)
		for (size_t k = 0; k < s.exps[i].nruns; k++) {
			mlr_run r;
			err[0] = '\0';
			if (mlr_run_read(&r, &s.exps[i], s.exps[i].runs[k], MLR_POINTS, err,
			                 sizeof err) != 0 &&
			    !err[0])
				abort();
			mlr_run_free(&r);
		}
	mlr_store_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 100000)
		return 0;
	setup();
	const char *text = (const char *)data + 1;
	size_t n = size - 1;
	switch (data[0] % 4) {
	case 0: {
		const char *p = text, *end = text + n;
		while (p <= end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = (size_t)((nl ? nl : end) - p);
			mlr_point pt;
			char err[200] = "";
			if (mlr_metric_line(p, len, &pt, err, sizeof err) != 0) {
				if (!err[0])
					abort();
			} else {
				/* the same fields, read back from the same text */
				char line[MLR_LINE_MAX * 2];
				if (len < sizeof line) {
					mlr_point again;
					memcpy(line, p, len);
					if (mlr_metric_line(line, len, &again, err, sizeof err) !=
					        0 ||
					    again.ts != pt.ts || again.step != pt.step)
						abort();
				}
			}
			if (!nl)
				break;
			p = nl + 1;
		}
		int st;
		char s[16];
		snprintf(s, sizeof s, "%.*s", (int)(n < 15 ? n : 15), text);
		if (mlr_status_parse(s, &st) == 0 && (st < 1 || st > 5))
			abort();
		break;
	}
	default: {
		/* every file written each time, so an input reads the same alone */
		int k = data[0] % 4;
		if (k == 2)
			put("meta.yaml", text, n);
		else
			put("meta.yaml", good_meta, sizeof good_meta - 1);
		if (k == 1)
			put("metrics/loss", text, n);
		else
			put("metrics/loss", "1700000000001 1 0\n", 18);
		if (k == 3)
			put("params/p", text, n);
		else
			put("params/p", "0.5", 3);
		read_run();
		break;
	}
	}
	cairn_error_clear();
	return 0;
}
