/*
 * cli/cli.c — shared CLI helpers; see cli.h.
 */
#include "cli/cli.h"

#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"

const char *cli_store_dir;

char *cli_store_location(cairn_store *s)
{
	const char *shown = cairn_store_path(s);
	if (!strstr(shown, "://"))
		return realpath(shown, NULL);
	const char *given = cli_store_dir && *cli_store_dir ? cli_store_dir : getenv("CAIRN_DIR");
	return strdup(given && strstr(given, "://") ? given : shown);
}

/* --- option parsing -------------------------------------------------------- */

void cli_args_init(cli_args *a, const char *cmd, int argc, char **argv)
{
	memset(a, 0, sizeof *a);
	a->cmd = cmd;
	a->argc = argc;
	a->argv = argv;
	a->i = 1;
	a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
}

void cli_args_free(cli_args *a)
{
	free(a->pos);
	a->pos = NULL;
}

static bool looks_numeric(const char *s)
{
	if (s[0] != '-' || !s[1])
		return false;
	char *end;
	strtod(s, &end);
	return *end == '\0';
}

int cli_next(cli_args *a, const cli_opt *opts)
{
	while (a->i < a->argc) {
		char *arg = a->argv[a->i++];
		if (a->rest) {
			a->pos[a->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			a->rest = true;
			continue;
		}
		if (arg[0] != '-' || arg[1] == '\0' || looks_numeric(arg)) {
			a->pos[a->npos++] = arg;
			if (a->stop_at_first_pos)
				a->rest = true;
			continue;
		}
		const cli_opt *o = NULL;
		const char *val = NULL;
		if (arg[1] == '-') {
			const char *name = arg + 2;
			const char *eq = strchr(name, '=');
			size_t n = eq ? (size_t)(eq - name) : strlen(name);
			for (const cli_opt *p = opts; p && p->name; p++)
				if (strlen(p->name) == n && strncmp(p->name, name, n) == 0)
					o = p;
			if (!o) {
				cli_usage_error(a->cmd, "unknown option '--%.*s'", (int)n, name);
				return -1;
			}
			if (eq) {
				if (!o->has_arg) {
					cli_usage_error(a->cmd, "option '--%s' takes no value",
					                o->name);
					return -1;
				}
				val = eq + 1;
			}
		} else {
			for (const cli_opt *p = opts; p && p->name; p++)
				if (p->short_name && p->short_name == arg[1])
					o = p;
			if (!o) {
				cli_usage_error(a->cmd, "unknown option '%s'", arg);
				return -1;
			}
			if (arg[2]) {
				if (!o->has_arg) {
					cli_usage_error(a->cmd, "option '-%c' takes no value",
					                o->short_name);
					return -1;
				}
				val = arg + 2;
			}
		}
		if (o->has_arg && !val) {
			if (a->i >= a->argc) {
				cli_usage_error(a->cmd, "option '--%s' needs a value", o->name);
				return -1;
			}
			val = a->argv[a->i++];
		}
		a->id = o->id;
		a->val = val;
		return o->id;
	}
	return 0;
}

/* --- errors ---------------------------------------------------------------- */

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int cli_fail_lib(const char *context)
{
	const char *m = cairn_error_last();
	if (context)
		fprintf(stderr, "error: %s: %s\n", context, m && *m ? m : "unknown error");
	else
		fprintf(stderr, "error: %s\n", m && *m ? m : "unknown error");
	return EXIT_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'cairn %s -h')\n", cmd ? cmd : "");
	return EXIT_USAGE;
}

void cli_help(const char *usage)
{
	fputs(usage, stdout);
}

/* --- store and runs ----------------------------------------------------------- */

/* The running command: its name and needs, and the store once opened.  The
 * tool runs one command per process, on one thread. */
static struct {
	const char *name;
	unsigned needs;
	cairn_store *store;
} command;

void cli_command_begin(const char *name, unsigned needs)
{
	command.name = name;
	command.needs = needs;
	command.store = NULL;
}

void cli_command_end(void)
{
	cairn_store_close(command.store);
	command.store = NULL;
}

/* A command that asks for what its table entry does not declare is a bug
 * in the tool, caught by the first test that runs it. */
static int undeclared(const char *what)
{
	return cli_fail("internal error: 'cairn %s' uses %s, which main.c's command table does "
	                "not declare",
	                command.name ? command.name : "?", what);
}

/* When no store was named (--store, $CAIRN_DIR, $CAIRN_URI) and none was found walking
 * up, the per-user store is used; say so once per process on stderr, since a
 * run that lands there silently is easy to lose.  A store found walking up
 * is always named .cairn; the per-user one never is. */
static void note_store_fallback(void)
{
	static bool said;
	const char *env = getenv("CAIRN_DIR"), *uri = getenv("CAIRN_URI");
	if (said || (cli_store_dir && *cli_store_dir) || (env && *env) || (uri && *uri))
		return;
	said = true;
	char *dir = NULL, cwd[4096];
	if (cairn_store_find(&dir, NULL) != 0) {
		cairn_error_clear();
		return;
	}
	size_t n = strlen(dir);
	if (n < 7 || strcmp(dir + n - 7, "/.cairn") != 0) {
		const char *home = getenv("HOME");
		size_t hl = home ? strlen(home) : 0;
		bool tilde = hl > 1 && strncmp(dir, home, hl) == 0 && dir[hl] == '/';
		char *safe_cwd = cli_safe_dup(getcwd(cwd, sizeof cwd) ? cwd : ".", 0);
		char *safe_dir = cli_safe_dup(tilde ? dir + hl : dir, 0);
		fprintf(stderr,
		        "cairn: no .cairn found above %s; using the per-user store %s%s "
		        "(cairn init makes a project store)\n",
		        safe_cwd ? safe_cwd : ".", tilde ? "~" : "", safe_dir ? safe_dir : "");
		free(safe_cwd);
		free(safe_dir);
	}
	cairn_free(dir);
}

int cli_store(cairn_store **out)
{
	*out = NULL;
	if (!(command.needs & CLI_STORE))
		return undeclared("the store");
	if (!command.store)
		note_store_fallback();
	if (!command.store && cairn_store_open(&command.store, cli_store_dir) != 0) {
		command.store = NULL;
		return cli_fail_lib(NULL);
	}
	*out = command.store;
	return 0;
}

cairn_store *cli_store_try(void)
{
	if (!(command.needs & CLI_STORE)) {
		undeclared("the store");
		return NULL;
	}
	if (!command.store)
		note_store_fallback();
	if (!command.store && cairn_store_open(&command.store, cli_store_dir) != 0) {
		cairn_error_clear();
		command.store = NULL;
	}
	return command.store;
}

int cli_open_run(cairn_run **out, cairn_store *s, const char *run_opt)
{
	if (!(command.needs & CLI_RUN))
		return undeclared("a run");
	const char *id = run_opt;
	if (!id || !*id)
		id = getenv("CAIRN_RUN_ID");
	if (!id || !*id)
		return cli_fail(
		    "no run given: use --run RUN or set CAIRN_RUN_ID (as 'cairn run' does)");
	if (cairn_run_open(out, s, id) != 0)
		return cli_fail_lib(NULL);
	return 0;
}

/* --- output ------------------------------------------------------------------ */

bool cli_isatty(FILE *f)
{
	return isatty(fileno(f));
}

bool cli_color(void)
{
	const char *nc = getenv("NO_COLOR");
	return cli_isatty(stdout) && !(nc && *nc);
}

int cli_term_width(void)
{
	const char *c = getenv("COLUMNS");
	if (c && atoi(c) > 0)
		return atoi(c);
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0; /* not a terminal: never truncate */
}

void cli_fmt_num(char *out, size_t n, double v)
{
	if (isnan(v))
		snprintf(out, n, "nan");
	else if (isinf(v))
		snprintf(out, n, v > 0 ? "inf" : "-inf");
	/* the range test first: casting a double past long long's range is UB */
	else if (fabs(v) < 1e12 && v == (double)(long long)v)
		snprintf(out, n, "%lld", (long long)v);
	else
		snprintf(out, n, "%.6g", v);
}

/* Bytes of the valid UTF-8 sequence at s (lead byte 0xC2..0xF4), else 0. */
static size_t utf8_seq(const unsigned char *s)
{
	size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
	if (s[0] < 0xC2 || s[0] > 0xF4)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

void cli_safe_text(buf *b, const char *text, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)(text ? text : "");
	while (*s) {
		unsigned char c = *s;
		if (c < 0x20 || c == 0x7F) {
			bool keep = (flags & CLI_TEXT_LINES) && (c == '\n' || c == '\t');
			buf_putc(b, keep ? (char)c : ' ');
			s++;
			continue;
		}
		if (c < 0x80) {
			buf_putc(b, (char)c);
			s++;
			continue;
		}
		size_t n = utf8_seq(s);
		if (n == 2 && c == 0xC2 && s[1] <= 0x9F) { /* U+0080..U+009F: C1 controls */
			buf_putc(b, ' ');
		} else if (n) {
			buf_add(b, s, n);
		} else {
			/* not UTF-8: a lone 0x80..0x9F is a C1 control to an 8-bit
			 * terminal; other stray bytes cannot drive one */
			buf_putc(b, c <= 0x9F ? ' ' : (char)c);
			n = 1;
		}
		s += n;
	}
}

char *cli_safe_dup(const char *text, unsigned flags)
{
	buf b = BUF_INIT;
	cli_safe_text(&b, text, flags);
	return buf_detach(&b);
}

void cli_fputs_safe(FILE *f, const char *text, unsigned flags)
{
	buf b = BUF_INIT;
	cli_safe_text(&b, text, flags);
	fwrite(b.ptr, 1, b.len, f);
	buf_free(&b);
}

/* --- finding the command ------------------------------------------------------------ */

int cli_resolve_command(const char *name, char **out)
{
	struct stat st;
	*out = NULL;
	if (!*name)
		return cli_fail("cannot run '': no command");
	if (strchr(name, '/')) {
		if (stat(name, &st) != 0)
			return cli_fail("cannot run '%s': %s", name, strerror(errno));
		if (S_ISDIR(st.st_mode))
			return cli_fail("cannot run '%s': is a directory", name);
		if (access(name, X_OK) != 0)
			return cli_fail("cannot run '%s': permission denied (not executable)",
			                name);
		*out = strdup(name);
		return *out ? 0 : cli_fail("out of memory");
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	char *copy = strdup(path);
	bool denied = false;
	char *save = NULL;
	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d;
	     d = strtok_r(NULL, ":", &save)) {
		char *p = path_join(*d ? d : ".", name);
		if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(p, X_OK) == 0) {
				*out = p;
				break;
			}
			denied = true;
		}
		free(p);
	}
	free(copy);
	if (*out)
		return 0;
	if (denied)
		return cli_fail("cannot run '%s': permission denied (not executable)", name);
	return cli_fail("cannot run '%s': command not found", name);
}

/* SIZE: bytes, or with K/M/G; -1 when bad. */
int64_t cli_parse_size(const char *v)
{
	char *end;
	double x = strtod(v, &end);
	double m = 1;
	if (*end == 'K' || *end == 'k')
		m = 1024.0, end++;
	else if (*end == 'M' || *end == 'm')
		m = 1024.0 * 1024, end++;
	else if (*end == 'G' || *end == 'g')
		m = 1024.0 * 1024 * 1024, end++;
	if (end == v || *end || !(x >= 0) || x * m > 9e18)
		return -1;
	return (int64_t)(x * m);
}
