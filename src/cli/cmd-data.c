/*
 * cli/cmd-data.c — `cairn data hash|diff|show`: data versions from the
 * command line (docs/cli/data.md).
 *
 * hash prints one line per PATH (or JSON), with a progress bar on stderr when
 * stderr is a terminal and the work takes more than half a second.  Per-file
 * problems inside a directory make the command fail: one `error:` line, then
 * the problems indented below it, and no digest for that path.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/clock.h"

static const char usage[] =
    "usage: cairn data hash PATH... [--digest xxh128|sha256|md5] [--json] [--no-cache]\n"
    "       cairn data diff A B [--json]\n"
    "       cairn data show RUN [NAME] [--limit N] [--json]\n"
    "       cairn data log PATH [--name NAME] [--role input|output] [--digest D] [--run RUN]\n\n"
    "Data versions.  'hash' prints the digest, file count and bytes of each PATH\n"
    "(a directory's digest is the digest of its sorted manifest).  'diff' lists the\n"
    "files added, removed and changed between two versions; A and B are paths,\n"
    "stored manifest ids, runs (each dataset, paired by name) or RUN:NAME.  'show'\n"
    "lists the manifest of a run's datasets.  'log' records PATH as a dataset of the\n"
    "run named by --run or $CAIRN_RUN_ID (what 'cairn run --data' does).\n\n"
    "options:\n"
    "  --digest D     xxh128 (default), sha256 or md5\n"
    "  --json         print JSON (hash: one object per PATH, an array for several)\n"
    "  --no-cache     hash without reading or updating the store's hash cache\n"
    "  --progress     show progress even when stderr is not a terminal\n"
    "  --no-progress  never show progress\n"
    "  --limit N      show: at most N manifest entries per dataset (default 50, 0: all)\n"
    "  --name NAME    log: the dataset's name (default: the base name of PATH)\n"
    "  --role R       log: input (default) or output\n"
    "  --run RUN      log: the run (default: $CAIRN_RUN_ID)\n";

/* --- human-readable numbers ------------------------------------------------------ */

static void fmt_bytes(char *out, size_t n, double b)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	int u = 0;
	while (b >= 1000 && u < 5) {
		b /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(out, n, "%.0f B", b);
	else
		snprintf(out, n, "%.*f %s", b < 10 ? 2 : b < 100 ? 1 : 0, b, units[u]);
}

static void fmt_count(char *out, size_t n, long long v)
{
	char tmp[32];
	snprintf(tmp, sizeof tmp, "%lld", v < 0 ? -v : v);
	size_t len = strlen(tmp), k = 0;
	if (v < 0 && k + 1 < n)
		out[k++] = '-';
	for (size_t i = 0; i < len && k + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			out[k++] = ',';
		out[k++] = tmp[i];
	}
	out[k] = '\0';
}

/* --- progress bar ------------------------------------------------------------------ */

typedef struct bar {
	bool force; /* --progress: from the start, also without a terminal */
	bool shown;
} bar;

static int progress_cb(const cairn_hash_progress *p, void *payload)
{
	bar *b = payload;
	if (!b->force && p->elapsed < 0.5)
		return 0;
	char files[32], total[32], done[32], rate[32];
	fmt_count(files, sizeof files, p->files_done);
	fmt_count(total, sizeof total, p->files_total);
	if (p->walking) {
		fprintf(stderr, "\r\033[K  listing: %s files", total);
	} else {
		/* Sizes are learnt as files are opened, so the ETA goes by files. */
		fmt_bytes(done, sizeof done, (double)p->bytes_done);
		double r = p->elapsed > 0 ? (double)p->bytes_done / p->elapsed : 0;
		fmt_bytes(rate, sizeof rate, r);
		char eta[32] = "-";
		double left = -1;
		if (p->files_done > 0 && p->files_total >= p->files_done)
			left = (double)(p->files_total - p->files_done) * p->elapsed /
			       (double)p->files_done;
		if (left >= 0) {
			long sec = (long)(left + 0.5);
			snprintf(eta, sizeof eta, "%ld:%02ld", sec / 60, sec % 60);
		}
		fprintf(stderr, "\r\033[K  %s/%s files  %s  %s/s  ETA %s", files, total, done, rate,
		        eta);
	}
	fflush(stderr);
	b->shown = true;
	return 0;
}

static void bar_clear(bar *b)
{
	if (!b->shown)
		return;
	if (b->force && !cli_isatty(stderr))
		fputc('\n', stderr);
	else
		fputs("\r\033[K", stderr);
	fflush(stderr);
	b->shown = false;
}

/* --- hash ------------------------------------------------------------------------- */

/* At most as many problems as the JSON report lists (the rest are counted
 * there as *_omitted), so the text and JSON forms name the same files. */
#define PROBLEMS_SHOWN 1000

static void print_problems(const cairn_hash_result *r, bool errors, const char *prefix)
{
	size_t n = errors ? cairn_hash_result_error_count(r) : cairn_hash_result_skipped_count(r);
	for (size_t i = 0; i < n && i < PROBLEMS_SHOWN; i++) {
		const cairn_data_problem *p =
		    errors ? cairn_hash_result_error(r, i) : cairn_hash_result_skipped(r, i);
		fprintf(stderr, "%s%s: %s\n", prefix, p->path, p->message);
	}
}

static int do_hash(cli_args *a, const char *digest, bool as_json, bool no_cache, int progress)
{
	cairn_store *s = NULL;
	int rc = 0;
	if (a->npos < 2)
		return cli_usage_error("data", "'data hash' needs at least one PATH");
	if (!no_cache)
		s = cli_store_try(); /* without a usable store the hash still works, uncached */
	bar b = {.force = progress > 0};
	cairn_hash_options o = CAIRN_HASH_OPTIONS_INIT;
	o.algo = digest;
	o.use_cache = !no_cache;
	if (progress > 0 || (progress == 0 && cli_isatty(stderr))) {
		o.progress = progress_cb;
		o.payload = &b;
	}
	int npaths = a->npos - 1, printed = 0;
	if (as_json && npaths > 1)
		putchar('[');
	/* Like md5sum: every PATH is tried; any failure makes the exit status 1. */
	for (int i = 1; i <= npaths; i++) {
		const char *path = a->pos[i];
		if (as_json) {
			/* the object, also with the problems when files failed (digest null) */
			char *out = NULL;
			int r = cairn_hash_path(&out, NULL, s, path, &o);
			bar_clear(&b);
			if (r != 0)
				rc = cli_fail_lib(NULL);
			if (out) {
				if (printed++)
					putchar(',');
				fputs(out, stdout);
			}
			cairn_free(out);
			continue;
		}
		cairn_hash_result *res = NULL;
		int r = cairn_hash_path_result(&res, s, path, &o);
		bar_clear(&b);
		if (r != 0) {
			rc = cli_fail_lib(NULL);
			print_problems(res, true, "  ");
		} else {
			print_problems(res, false, "note: ");
			int64_t n = cairn_hash_result_files(res);
			char bytes[32], files[32];
			fmt_bytes(bytes, sizeof bytes, (double)cairn_hash_result_bytes(res));
			fmt_count(files, sizeof files, (long long)n);
			printf("%s  %s  (%s %s, %s)\n", cairn_hash_result_digest(res), path, files,
			       n == 1 ? "file" : "files", bytes);
		}
		cairn_hash_result_free(res);
	}
	if (as_json && npaths > 1)
		putchar(']');
	if (as_json && (printed || npaths > 1))
		putchar('\n');
	return rc;
}

/* --- diff ------------------------------------------------------------------------- */

static void side_text(char *out, size_t n, const cairn_data_side *v)
{
	char bytes[32], files[32];
	if (!v)
		return;
	fmt_bytes(bytes, sizeof bytes, (double)v->bytes);
	fmt_count(files, sizeof files, (long long)v->files);
	snprintf(out, n, "%s, %s %s, %s", v->digest, files, v->files == 1 ? "file" : "files",
	         bytes);
}

static void print_paths(const char *const *list, size_t n, const char *mark)
{
	for (size_t i = 0; i < n; i++)
		printf("  %s %s\n", mark, list[i]);
}

static int do_diff(cli_args *a, bool as_json)
{
	if (a->npos != 3)
		return cli_usage_error("data", "'data diff' takes two versions: A B");
	/* Two paths need no store; anything else does. */
	cairn_store *s = cli_store_try();
	if (as_json) {
		char *out = NULL;
		if (cairn_data_diff_json(&out, s, a->pos[1], a->pos[2]) != 0)
			return cli_fail_lib("cannot compare");
		puts(out);
		cairn_free(out);
		return 0;
	}
	cairn_data_diff *d = NULL;
	if (cairn_data_diff_new(&d, s, a->pos[1], a->pos[2]) != 0)
		return cli_fail_lib("cannot compare");
	for (size_t i = 0; i < cairn_data_diff_count(d); i++) {
		const cairn_data_pair *p = cairn_data_diff_get(d, i);
		char ta[256] = "", tb[256] = "";
		side_text(ta, sizeof ta, p->a);
		side_text(tb, sizeof tb, p->b);
		const char *title = p->name ? p->name : "data";
		if (p->same) {
			printf("%s: same (%s)\n", title, ta);
			continue;
		}
		if (!p->a)
			printf("%s: only in B (%s)\n", title, tb);
		else if (!p->b)
			printf("%s: only in A (%s)\n", title, ta);
		else
			printf("%s: differs\n  A: %s\n  B: %s\n", title, ta, tb);
		print_paths(p->added, p->nadded, "+");
		print_paths(p->removed, p->nremoved, "-");
		print_paths(p->changed, p->nchanged, "~");
		char n1[32], n2[32], n3[32];
		fmt_count(n1, sizeof n1, (long long)p->nadded);
		fmt_count(n2, sizeof n2, (long long)p->nremoved);
		fmt_count(n3, sizeof n3, (long long)p->nchanged);
		printf("  %s added, %s removed, %s changed\n", n1, n2, n3);
	}
	cairn_data_diff_free(d);
	return 0;
}

/* --- show ------------------------------------------------------------------------- */

static int do_show(cli_args *a, bool as_json, const char *limit_s)
{
	if (a->npos < 2 || a->npos > 3)
		return cli_usage_error("data", "'data show' takes RUN [NAME]");
	int64_t limit = 50;
	if (limit_s) {
		char *end;
		long long v = strtoll(limit_s, &end, 10);
		if (end == limit_s || *end || v < 0)
			return cli_usage_error(
			    "data", "--limit needs a non-negative integer, got '%s'", limit_s);
		limit = v;
	}
	cairn_store *s = NULL;
	int rc = cli_store(&s);
	if (rc)
		return rc;
	const char *run = a->pos[1], *name = a->npos == 3 ? a->pos[2] : NULL;
	if (as_json) {
		char *out = NULL;
		if (cairn_data_show_json(&out, s, run, name, limit) != 0)
			return cli_fail_lib(NULL);
		puts(out);
		cairn_free(out);
		return 0;
	}
	cairn_data_listing *l = NULL;
	if (cairn_data_show(&l, s, run, name, limit) != 0)
		return cli_fail_lib(NULL);
	size_t n = cairn_data_listing_count(l);
	if (!n)
		printf("run %.8s has no datasets\n", cairn_data_listing_run(l));
	for (size_t i = 0; i < n; i++) {
		const cairn_data_dataset *d = cairn_data_listing_get(l, i);
		char bytes[32], files[32];
		fmt_bytes(bytes, sizeof bytes, (double)d->bytes);
		fmt_count(files, sizeof files, (long long)d->files);
		printf("%s (%s)  %s\n  %s:%s  %s %s, %s\n  manifest %s\n", d->name, d->role,
		       d->path, d->algo, d->digest, files, d->files == 1 ? "file" : "files", bytes,
		       d->manifest ? d->manifest : "(null)");
		if (d->error)
			printf("  (manifest unreadable: %s)\n", d->error);
		for (size_t k = 0; k < d->nentries; k++) {
			const cairn_manifest_entry *e = &d->entries[k];
			char sz[32];
			fmt_count(sz, sizeof sz, (long long)e->size);
			printf("  %14s  %.16s  %s%s%s\n", sz, e->digest, e->path,
			       e->target ? " -> " : "", e->target ? e->target : "");
		}
		long long more = (long long)d->files - (long long)d->nentries;
		if (d->truncated && more > 0) {
			char m[32];
			fmt_count(m, sizeof m, more);
			printf("  … %s more (--limit 0 lists all)\n", m);
		}
	}
	cairn_data_listing_free(l);
	return 0;
}

/* --- log --------------------------------------------------------------------------- */

static int do_log(cli_args *a, const char *digest, const char *name, const char *role,
                  const char *run_opt, int progress)
{
	if (a->npos != 2)
		return cli_usage_error("data", "'data log' takes one PATH");
	if (role && strcmp(role, "input") != 0 && strcmp(role, "output") != 0)
		return cli_usage_error("data", "--role is input or output, not '%s'", role);
	cairn_store *s = NULL;
	cairn_run *r = NULL;
	int rc = cli_store(&s);
	if (rc)
		return rc;
	if ((rc = cli_open_run(&r, s, run_opt)) != 0)
		goto done;
	bar b = {.force = progress > 0};
	cairn_hash_options o = CAIRN_HASH_OPTIONS_INIT;
	o.algo = digest;
	if (progress > 0 || (progress == 0 && cli_isatty(stderr))) {
		o.progress = progress_cb;
		o.payload = &b;
	}
	int e = cairn_run_log_dataset_opts(r, name, a->pos[1], role, &o);
	bar_clear(&b);
	if (e != 0)
		rc = cli_fail_lib(NULL);
done:
	cairn_run_free(r);
	return rc;
}

/* A few manifest paths of a run's directory dataset, for `cairn show`. */
void data_print_sample(cairn_store *s, const char *run, const char *name, int n)
{
	cairn_data_listing *l = NULL;
	if (cairn_data_show(&l, s, run, name, n) != 0) {
		cairn_error_clear();
		return;
	}
	const cairn_data_dataset *d = cairn_data_listing_get(l, 0);
	if (d && d->files > 1) {
		for (size_t k = 0; k < d->nentries; k++) { /* file names: any bytes */
			printf("      ");
			cli_fputs_safe(stdout, d->entries[k].path, 0);
			putchar('\n');
		}
		long long more = (long long)d->files - (long long)d->nentries;
		if (more > 0) {
			printf("      … %lld more ('cairn data show %.8s ", more, run);
			cli_fputs_safe(stdout, name, 0);
			printf("')\n");
		}
	}
	cairn_data_listing_free(l);
}

int cmd_data(int argc, char **argv)
{
	enum {
		O_HELP = 1,
		O_DIGEST,
		O_JSON,
		O_NOCACHE,
		O_PROGRESS,
		O_NOPROGRESS,
		O_LIMIT,
		O_NAME,
		O_ROLE,
		O_RUN
	};
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"digest", 'd', true, O_DIGEST},
	                               {"json", 0, false, O_JSON},
	                               {"no-cache", 0, false, O_NOCACHE},
	                               {"progress", 0, false, O_PROGRESS},
	                               {"no-progress", 0, false, O_NOPROGRESS},
	                               {"limit", 'n', true, O_LIMIT},
	                               {"name", 0, true, O_NAME},
	                               {"role", 0, true, O_ROLE},
	                               {"run", 'r', true, O_RUN},
	                               {0}};
	cli_args a;
	const char *digest = NULL, *limit = NULL, *name = NULL, *role = NULL, *run = NULL;
	bool as_json = false, no_cache = false;
	int progress = 0, o, rc = 0;
	cli_args_init(&a, "data", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_DIGEST: digest = a.val; break;
		case O_JSON: as_json = true; break;
		case O_NOCACHE: no_cache = true; break;
		case O_PROGRESS: progress = 1; break;
		case O_NOPROGRESS: progress = -1; break;
		case O_LIMIT: limit = a.val; break;
		case O_NAME: name = a.val; break;
		case O_ROLE: role = a.val; break;
		case O_RUN: run = a.val; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos < 1) {
		rc = cli_usage_error("data", "say what to do: hash, diff, show or log");
		goto done;
	}
	const char *what = a.pos[0];
	if (digest && strcmp(what, "hash") != 0 && strcmp(what, "log") != 0) {
		rc = cli_usage_error("data", "--digest applies to 'data hash' and 'data log' only");
		goto done;
	}
	if (digest && strcmp(digest, "xxh128") != 0 && strcmp(digest, "sha256") != 0 &&
	    strcmp(digest, "md5") != 0) {
		rc = cli_usage_error("data", "unknown digest '%s' (expected xxh128, sha256 or md5)",
		                     digest);
		goto done;
	}
	if (limit && strcmp(what, "show") != 0) {
		rc = cli_usage_error("data", "--limit applies to 'data show' only");
		goto done;
	}
	if (strcmp(what, "hash") == 0)
		rc = do_hash(&a, digest, as_json, no_cache, progress);
	else if (strcmp(what, "diff") == 0)
		rc = do_diff(&a, as_json);
	else if (strcmp(what, "show") == 0)
		rc = do_show(&a, as_json, limit);
	else if (strcmp(what, "log") == 0)
		rc = do_log(&a, digest, name, role, run, progress);
	else
		rc = cli_usage_error("data", "unknown data command '%s' (hash, diff, show or log)",
		                     what);
done:
	cli_args_free(&a);
	return rc;
}
