/*
 * cli/cmd-sync.c — `cairn sync`: send the writes kept in the offline spool
 * (cairn/remote.h) to their servers, with a progress bar on a terminal and
 * a summary line; `cairn sync --status` shows what is waiting and sends
 * nothing.  Journals go oldest first; a journal whose writes name a run
 * the server does not know yet (another journal starts it) is tried again
 * after the others, for as long as a pass sends something.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/json.h"

static const char usage[] =
    "usage: cairn sync [URL] [--status] [--json] [--progress] [-q]\n\n"
    "Send the writes that runs kept in the offline spool while their server could\n"
    "not be reached ($XDG_DATA_HOME/cairn/spool/), in the order they were made, each\n"
    "applied once.  A running process sends its own spool as soon as the server\n"
    "answers again; this sends what processes that ended left behind.\n\n"
    "URL (default: the store when --store, CAIRN_DIR or CAIRN_URI names a server)\n"
    "limits it to one server's journals; without one, every server's.\n\n"
    "options:\n"
    "      --status     show what is waiting, send nothing\n"
    "      --json       with --status: the journals as JSON\n"
    "      --progress   show the progress bar even when stderr is not a terminal\n"
    "  -q, --quiet      print nothing but errors\n";

typedef struct bar {
	bool on, shown;
	struct timespec last;
	const char *name;
} bar;

static void progress_cb(int64_t done, int64_t total, void *payload)
{
	bar *b = payload;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double dt = (double)(now.tv_sec - b->last.tv_sec) + (now.tv_nsec - b->last.tv_nsec) / 1e9;
	if (!b->on || (dt < 0.2 && done < total))
		return;
	b->last = now;
	int w = 30, fill = total > 0 ? (int)(w * done / total) : w;
	fprintf(stderr, "\r\033[K  %.20s [%.*s%*s] %lld/%lld", b->name, fill,
	        "##############################", w - fill, "", (long long)done, (long long)total);
	fflush(stderr);
	b->shown = true;
}

static void problem_cb(const char *journal, uint64_t seq, const char *op, const char *msg,
                       void *payload)
{
	bar *b = payload;
	if (b->shown) {
		fputs("\r\033[K", stderr);
		b->shown = false;
	}
	if (seq)
		fprintf(stderr,
		        "warning: %s: write %llu (%s) refused by the server and dropped: %s\n",
		        journal, (unsigned long long)seq, op, msg);
	else
		fprintf(stderr, "warning: %s: %s\n", journal, msg);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static int show_status(const cairn_spool_entry *v, size_t n, bool as_json)
{
	if (as_json) {
		buf b = BUF_INIT;
		bool f0 = true;
		buf_putc(&b, '[');
		for (size_t i = 0; i < n; i++) {
			bool f = true;
			if (!f0)
				buf_putc(&b, ',');
			f0 = false;
			buf_putc(&b, '{');
			json_key(&b, &f, "journal");
			json_str(&b, v[i].path);
			json_key(&b, &f, "server");
			json_str(&b, v[i].url);
			json_key(&b, &f, "records");
			json_int(&b, v[i].records);
			json_key(&b, &f, "points");
			json_int(&b, v[i].points);
			json_key(&b, &f, "bytes");
			json_int(&b, v[i].bytes);
			json_key(&b, &f, "in_use");
			json_bool(&b, v[i].in_use);
			json_key(&b, &f, "torn_bytes");
			json_int(&b, v[i].torn);
			json_key(&b, &f, "problem");
			json_str(&b, v[i].problem);
			buf_putc(&b, '}');
		}
		buf_puts(&b, "]\n");
		fputs(b.ptr, stdout);
		buf_free(&b);
		return 0;
	}
	int64_t recs = 0, pts = 0;
	if (n)
		printf("%-32s %-38s %8s %10s  %s\n", "SERVER", "JOURNAL", "WRITES", "POINTS",
		       "STATE");
	for (size_t i = 0; i < n; i++) {
		char state[600];
		if (v[i].problem)
			snprintf(state, sizeof state, "damaged: %s", v[i].problem);
		else if (v[i].in_use)
			snprintf(state, sizeof state, "in use (its process sends it)");
		else if (v[i].torn)
			snprintf(state, sizeof state, "pending, torn tail of %lld bytes",
			         (long long)v[i].torn);
		else
			snprintf(state, sizeof state, "pending");
		printf("%-32s %-38s %8lld %10lld  %s\n", v[i].url, base_name(v[i].path),
		       (long long)v[i].records, (long long)v[i].points, state);
		recs += v[i].records;
		pts += v[i].points;
	}
	if (n)
		printf("%lld writes (%lld metric points) in %zu journals waiting\n",
		       (long long)recs, (long long)pts, n);
	else
		printf("nothing waiting in the spool\n");
	return 0;
}

int cmd_sync(int argc, char **argv)
{
	enum { O_HELP = 1, O_STATUS, O_JSON, O_PROGRESS, O_QUIET };
	static const cli_opt opts[] = {
	    {"help", 'h', false, O_HELP},   {"status", 0, false, O_STATUS},
	    {"json", 0, false, O_JSON},     {"progress", 0, false, O_PROGRESS},
	    {"quiet", 'q', false, O_QUIET}, {0}};
	cli_args a;
	bool status = false, as_json = false, quiet = false;
	bar b = {cli_isatty(stderr), false, {0, 0}, ""};
	cairn_spool_entry *v = NULL;
	size_t n = 0;
	int o, rc = 0;
	cli_args_init(&a, "sync", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_STATUS: status = true; break;
		case O_JSON: as_json = true; break;
		case O_PROGRESS: b.on = true; break;
		case O_QUIET: quiet = true; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos > 1) {
		rc = cli_usage_error("sync", "name at most one server");
		goto done;
	}
	if (as_json && !status) {
		rc = cli_usage_error("sync", "--json goes with --status");
		goto done;
	}
	const char *url = a.npos ? a.pos[0] : NULL;
	if (!url) {
		const char *d =
		    cli_store_dir && *cli_store_dir ? cli_store_dir : getenv("CAIRN_DIR");
		if (!d || !*d)
			d = getenv("CAIRN_URI");
		if (d && (strncmp(d, "http://", 7) == 0 || strncmp(d, "https://", 8) == 0))
			url = d;
	} else if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		rc = cli_usage_error("sync", "'%s' is not an http:// or https:// URL", url);
		goto done;
	}
	if (cairn_spool_list(&v, &n, url) != 0) {
		rc = cli_fail_lib("cannot read the spool");
		goto done;
	}
	if (status) {
		rc = show_status(v, n, as_json);
		goto done;
	}
	cairn_sync_options so = CAIRN_SYNC_OPTIONS_INIT;
	so.progress = progress_cb;
	so.problem = problem_cb;
	so.payload = &b;
	if (quiet)
		b.on = false;
	cairn_sync_stats total = {0};
	bool *left = calloc(n ? n : 1, sizeof *left);
	int64_t *wait = calloc(n ? n : 1, sizeof *wait);
	if (!left || !wait) {
		free(left);
		free(wait);
		rc = cli_fail("out of memory");
		goto done;
	}
	size_t journals = 0, failed = 0, busy = 0;
	for (size_t i = 0; i < n; i++)
		left[i] = !v[i].problem;
	for (size_t i = 0; i < n; i++)
		if (v[i].problem) {
			fprintf(stderr, "error: %s\n", v[i].problem);
			failed++;
		}
	/* passes while one sends something: a journal waiting for a run that
	 * another journal makes goes again after it */
	for (int pass = 0; pass < 16; pass++) {
		int64_t sent_before = total.records;
		bool any_waiting = false;
		for (size_t i = 0; i < n; i++) {
			if (!left[i])
				continue;
			cairn_sync_stats st = {0};
			b.name = base_name(v[i].path);
			int r = cairn_spool_sync(v[i].path, &so, &st);
			if (b.shown) {
				fputs("\r\033[K", stderr);
				b.shown = false;
			}
			total.records += st.records;
			total.points += st.points;
			total.refused += st.refused;
			total.torn_bytes += st.torn_bytes;
			if (r == CAIRN_EBUSY) {
				if (!quiet)
					fprintf(stderr, "note: %s\n", cairn_error_last());
				busy++;
				left[i] = false;
			} else if (r) {
				fprintf(stderr, "error: %s\n", cairn_error_last());
				failed++;
				left[i] = false;
			} else if (st.waiting) {
				any_waiting = true;
				wait[i] = st.waiting;
			} else {
				journals++;
				left[i] = false;
			}
		}
		if (!any_waiting || total.records == sent_before)
			break;
	}
	int64_t waiting = 0;
	for (size_t i = 0; i < n; i++)
		if (left[i])
			waiting += wait[i];
	free(left);
	free(wait);
	if (!quiet) {
		if (n == 0)
			printf("nothing waiting in the spool\n");
		else
			printf("sent %lld writes (%lld metric points) from %zu journals%s%s; %lld "
			       "refused, "
			       "%lld waiting for a run the server does not know yet%s\n",
			       (long long)total.records, (long long)total.points, journals,
			       url ? " to " : "", url ? url : "", (long long)total.refused,
			       (long long)waiting, busy ? "; some journals are in use" : "");
	}
	if (failed || waiting)
		rc = EXIT_FAIL;
done:
	cairn_spool_list_free(v, n);
	cli_args_free(&a);
	return rc;
}
