/*
 * lib/capture/cmdline.c — cairn_command_line_split: a recorded command line
 * (cairn_command_line_masked's form, params.c) back into its arguments, for
 * `cairn reproduce`.  A line with a masked secret is refused: the secret was
 * never stored, so running "***" in its place would be a different command.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"
#include "util/buf.h"

void cairn_command_line_free(char **argv)
{
	for (char **p = argv; p && *p; p++)
		free(*p);
	free(argv);
}

/* A masked value: "***" as a whole word, after '=' (to the end or a query's
 * next '&'), or as a URL's credentials (after "scheme:" + two slashes, or
 * after "user:", up to the '@'). */
static bool masked_word(const char *w)
{
	const char *m = strstr(w, "***");
	if (!m)
		return false;
	bool start = m == w || m[-1] == '=' || m[-1] == ':' || m[-1] == '/';
	bool end = m[3] == '\0' || m[3] == '@' || m[3] == '&';
	return start && end;
}

int cairn_command_line_split(char ***out_argv, int *out_argc, const char *line)
{
	char **v = NULL;
	int n = 0, rc = 0;
	buf w = BUF_INIT;
	*out_argv = NULL;
	*out_argc = 0;
	if (!line)
		return err_set(CAIRN_EINVALID, "no command line");
	for (const char *p = line;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		buf_clear(&w);
		while (*p && *p != ' ') {
			if (*p == '\'') {
				const char *q = strchr(p + 1, '\'');
				if (!q) {
					rc = err_set(
					    CAIRN_EINVALID,
					    "cannot read the recorded command line at byte %zu: "
					    "a quote is not closed",
					    (size_t)(p - line));
					goto done;
				}
				buf_add(&w, p + 1, (size_t)(q - p - 1));
				p = q + 1;
			} else if (*p == '\\' && p[1] == '\'') {
				buf_putc(&w, '\'');
				p += 2;
			} else {
				buf_putc(&w, *p++);
			}
		}
		buf_putc(&w, '\0');
		if (!buf_ok(&w)) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto done;
		}
		if (masked_word(w.ptr)) {
			rc = err_set(
			    CAIRN_EINVALID,
			    "the recorded command has a masked secret in argument %d ('%s'): "
			    "it was never stored, so the command cannot be run again as it was",
			    n + 1, w.ptr);
			goto done;
		}
		char **nv = realloc(v, (size_t)(n + 2) * sizeof *v);
		if (!nv || !(nv[n] = strdup(w.ptr))) {
			v = nv ? nv : v;
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto done;
		}
		v = nv;
		v[++n] = NULL;
	}
	if (n == 0) {
		rc = err_set(CAIRN_EINVALID, "the recorded command line is empty");
		goto done;
	}
	*out_argv = v;
	*out_argc = n;
	v = NULL;
done:
	if (v)
		v[n] = NULL;
	cairn_command_line_free(v);
	buf_free(&w);
	return rc;
}
