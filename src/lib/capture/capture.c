/*
 * lib/capture/capture.c — cairn_run_capture: records a run's code version and
 * environment, and says what it could not record as warnings in a report.
 *
 * Order: the code first (so --require-clean refuses before anything is
 * stored), then the environment.  A failure to capture one dimension is a
 * warning, not an error, except a dirty tree under require_clean
 * (CAIRN_EDIRTY): losing a run because a probe failed would be worse than a
 * missing detail.  Settings come from the options, then $CAIRN_SNAPSHOT_MAX
 * and $CAIRN_ENV_ALLOW, then the store's config.json ({"capture": {...}}).
 * Thread-safety: each call owns its context; the run handle is thread-safe.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/capture/capture.h"
#include "lib/store/store.h"
#include "util/fs.h"
#include "util/json.h"

void capture_warn(capture_ctx *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->nwarnings >= 200)
		return; /* bounded: the first ones say enough */
	c->nwarnings++;
	buf_add(&c->warnings, msg, strlen(msg) + 1);
}

int capture_run_rid(cairn_run *r, int64_t *out)
{
	char id[33];
	return store_run_lookup(cairn_run_store(r), cairn_run_id(r), true, out, id);
}

/* "123", "64M", "1.5G" -> bytes; -1 when malformed. */
static int64_t parse_size(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || v < 0)
		return -1;
	double mult = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		mult = 1024.0;
		end++;
		break;
	case 'M':
		mult = 1024.0 * 1024;
		end++;
		break;
	case 'G':
		mult = 1024.0 * 1024 * 1024;
		end++;
		break;
	case 'T':
		mult = 1024.0 * 1024 * 1024 * 1024;
		end++;
		break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	return (int64_t)(v * mult);
}

static int add_allow(capture_ctx *c, const char *glob)
{
	if (!*glob || c->nenv_allow >= 256)
		return 0;
	char **n = realloc(c->env_allow, (c->nenv_allow + 1) * sizeof *n);
	if (!n)
		return err_set(CAIRN_ENOMEM, "out of memory");
	c->env_allow = n;
	if (!(n[c->nenv_allow] = strdup(glob)))
		return err_set(CAIRN_ENOMEM, "out of memory");
	c->nenv_allow++;
	return 0;
}

/* The store's config.json, {"capture": {"env_allow": [...], "snapshot_max_bytes": N}}.
 * A malformed file is a warning. */
static void load_store_config(capture_ctx *c, int64_t *cap_from_config)
{
	char *path = path_join(cairn_store_path(c->store), "config.json");
	buf b = BUF_INIT;
	if (!path)
		return;
	int e = read_file(path, 1 << 20, &b);
	if (e == 0) {
		char err[160];
		json_doc *d = json_parse(b.ptr, b.len, NULL, err, sizeof err);
		const json *cap = d ? json_get(json_root(d), "capture") : NULL;
		if (!d) {
			capture_warn(c, "ignoring %s: %s", path, err);
		} else if (cap && cap->type == JSON_OBJ) {
			const json *al = json_get(cap, "env_allow");
			if (al && al->type == JSON_ARR)
				for (const json *x = al->child; x; x = x->next)
					if (x->type == JSON_STR)
						add_allow(c, x->str);
			double v;
			if (json_get_num(cap, "snapshot_max_bytes", &v) && v > 0)
				*cap_from_config = (int64_t)v;
		}
		json_doc_free(d);
	} else if (e != -ENOENT) {
		capture_warn(c, "cannot read %s: %s", path, strerror(-e));
	}
	buf_free(&b);
	free(path);
}

/* The store's config.json, then $CAIRN_ENV_ALLOW's extra globs. */
static void load_config(capture_ctx *c, int64_t *cap_from_config)
{
	load_store_config(c, cap_from_config);
	const char *allow = getenv("CAIRN_ENV_ALLOW");
	if (allow && *allow) {
		char *copy = strdup(allow), *save = NULL;
		for (char *t = copy ? strtok_r(copy, ", ", &save) : NULL; t;
		     t = strtok_r(NULL, ", ", &save))
			add_allow(c, t);
		free(copy);
	}
}

/* The project root without libgit2 (environment-only captures): the
 * nearest directory above cwd holding .git (a directory, or a file for
 * worktrees and submodules), else cwd. */
static char *project_root(const char *cwd)
{
	char *d = strdup(cwd);
	if (!d)
		return NULL;
	for (;;) {
		char *g = path_join(d, ".git");
		bool found = g && path_exists(g);
		free(g);
		if (found)
			return d;
		char *slash = strrchr(d, '/');
		if (!slash || slash == d)
			break;
		*slash = '\0';
	}
	free(d);
	return strdup(cwd);
}

static void ctx_free(capture_ctx *c)
{
	free(c->cwd);
	free(c->root);
	buf_free(&c->warnings);
	buf_free(&c->code_report);
	for (size_t i = 0; i < c->nenv_allow; i++)
		free(c->env_allow[i]);
	free(c->env_allow);
}

struct cairn_capture_report {
	char **warnings;
	size_t nwarnings;
	char env_oid[65];
	char *code_json; /* the code part of the JSON report, or NULL */
};

/* What the capture in c found, as a report. */
static int report_new(cairn_capture_report **out, const capture_ctx *c)
{
	cairn_capture_report *r = calloc(1, sizeof *r);
	if (!r)
		return err_set(CAIRN_ENOMEM, "out of memory");
	*out = r;
	r->warnings = calloc((size_t)c->nwarnings + 1, sizeof *r->warnings);
	if (!r->warnings)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (size_t off = 0; off < c->warnings.len; off += strlen(c->warnings.ptr + off) + 1)
		if (!(r->warnings[r->nwarnings++] = strdup(c->warnings.ptr + off)))
			return err_set(CAIRN_ENOMEM, "out of memory");
	snprintf(r->env_oid, sizeof r->env_oid, "%s", c->env_oid);
	if (c->code_report.len && !(r->code_json = strndup(c->code_report.ptr, c->code_report.len)))
		return err_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

int cairn_run_capture_ext(cairn_capture_report **out, cairn_run *run,
                          const cairn_capture_options *o)
{
	cairn_capture_options def = CAIRN_CAPTURE_OPTIONS_INIT;
	capture_ctx c;
	int rc = 0;
	memset(&c, 0, sizeof c);
	buf_init(&c.warnings);
	buf_init(&c.code_report);
	if (out)
		*out = NULL;
	if (!run)
		return err_set(CAIRN_EINVALID, "no run");
	if (!o)
		o = &def;
	if (o->version != CAIRN_CAPTURE_OPTIONS_VERSION)
		return err_set(CAIRN_EINVALID, "cairn_capture_options version %u is not supported",
		               o->version);
	c.run = run;
	c.store = cairn_run_store(run);
	c.o = o;
	if ((rc = capture_run_rid(run, &c.rid)) != 0)
		goto done;
	c.cwd = path_abs(o->cwd && *o->cwd ? o->cwd : ".");
	if (!c.cwd) {
		rc = err_set(CAIRN_ENOTFOUND, "cannot capture: directory '%s': %s",
		             o->cwd ? o->cwd : ".", strerror(errno));
		goto done;
	}
	int64_t cap_cfg = 0;
	load_config(&c, &cap_cfg);
	c.cap = CAIRN_SNAPSHOT_MAX_DEFAULT;
	const char *capenv = getenv("CAIRN_SNAPSHOT_MAX");
	if (o->snapshot_max_bytes > 0) {
		c.cap = o->snapshot_max_bytes;
	} else if (capenv && *capenv) {
		int64_t v = parse_size(capenv);
		if (v >= 0)
			c.cap = v;
		else
			capture_warn(&c, "ignoring CAIRN_SNAPSHOT_MAX='%s' (not a size)", capenv);
	} else if (cap_cfg > 0) {
		c.cap = cap_cfg;
	}

	if (o->code) {
		bool is_git = false;
		size_t nwlen = c.warnings.len;
		int nw = c.nwarnings;
		for (int attempt = 0;; attempt++) {
			rc = code_capture_git(&c, &is_git);
			if (rc == 0 && !is_git) {
				if (o->require_clean)
					rc = err_set(CAIRN_EDIRTY,
					             "'%s' is not in a git repository: "
					             "--require-clean needs committed code",
					             c.cwd);
				else
					rc = code_capture_dir(&c);
			}
			/* A purge removed an object of the snapshot before the run's
			 * reference to it committed: capture again (nothing of the
			 * failed try was recorded), with its warnings forgotten. */
			if (!object_retry(&rc, attempt))
				break;
			buf_truncate(&c.warnings, nwlen);
			c.nwarnings = nw;
		}
		if (rc == CAIRN_EDIRTY || rc == CAIRN_ENOMEM)
			goto done;
		if (rc) {
			capture_warn(&c, "code not captured: %s", cairn_error_last());
			rc = 0;
		}
	}
	if (!c.root)
		c.root = project_root(c.cwd);
	if (o->env) {
		if (!c.root) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto done;
		}
		int e = env_capture(&c);
		if (e == CAIRN_ENOMEM) {
			rc = e;
			goto done;
		}
		if (e)
			capture_warn(&c, "environment not captured: %s", cairn_error_last());
	}
	if (out && (rc = report_new(out, &c)) != 0) {
		cairn_capture_report_free(*out);
		*out = NULL;
	}
done:
	ctx_free(&c);
	return rc;
}

int cairn_run_capture(cairn_run *run, const cairn_capture_options *opts)
{
	return cairn_run_capture_ext(NULL, run, opts);
}

int cairn_run_capture_report(char **out_report, cairn_run *run, const cairn_capture_options *opts)
{
	cairn_capture_report *r = NULL;
	if (out_report)
		*out_report = NULL;
	int rc = cairn_run_capture_ext(out_report ? &r : NULL, run, opts);
	if (rc || !out_report)
		return rc;
	buf b = BUF_INIT;
	bool first = true;
	buf_putc(&b, '{');
	json_key(&b, &first, "code");
	buf_puts(&b, r->code_json ? r->code_json : "null");
	json_key(&b, &first, "environment");
	json_str(&b, r->env_oid[0] ? r->env_oid : NULL);
	json_key(&b, &first, "warnings");
	buf_putc(&b, '[');
	for (size_t i = 0; i < r->nwarnings; i++) {
		if (i)
			buf_putc(&b, ',');
		json_str(&b, r->warnings[i]);
	}
	buf_puts(&b, "]}");
	cairn_capture_report_free(r);
	*out_report = buf_detach(&b);
	return *out_report ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

size_t cairn_capture_report_warning_count(const cairn_capture_report *r)
{
	return r ? r->nwarnings : 0;
}

const char *cairn_capture_report_warning(const cairn_capture_report *r, size_t i)
{
	return r && i < r->nwarnings ? r->warnings[i] : NULL;
}

const char *cairn_capture_report_environment(const cairn_capture_report *r)
{
	return r && r->env_oid[0] ? r->env_oid : NULL;
}

void cairn_capture_report_free(cairn_capture_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r->code_json);
	free(r);
}

int cairn_env_capture_json(char **out, cairn_store *store, const cairn_capture_options *o)
{
	cairn_capture_options def = CAIRN_CAPTURE_OPTIONS_INIT;
	capture_ctx c;
	buf doc = BUF_INIT;
	int rc = 0;
	memset(&c, 0, sizeof c);
	buf_init(&c.warnings);
	buf_init(&c.code_report);
	*out = NULL;
	if (!store)
		return err_set(CAIRN_EINVALID, "no store");
	if (!o)
		o = &def;
	if (o->version != CAIRN_CAPTURE_OPTIONS_VERSION)
		return err_set(CAIRN_EINVALID, "cairn_capture_options version %u is not supported",
		               o->version);
	c.store = store;
	c.o = o;
	c.env_doc = &doc;
	c.cwd = path_abs(o->cwd && *o->cwd ? o->cwd : ".");
	if (!c.cwd) {
		rc = err_set(CAIRN_ENOTFOUND, "cannot capture: directory '%s': %s",
		             o->cwd ? o->cwd : ".", strerror(errno));
		goto done;
	}
	int64_t cap_cfg = 0;
	load_config(&c, &cap_cfg);
	if (!(c.root = project_root(c.cwd))) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = env_capture(&c)) == 0 && !(*out = buf_detach(&doc)))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
done:
	buf_free(&doc);
	ctx_free(&c);
	return rc;
}

int cairn_code_require_clean(cairn_store *store, const char *cwd)
{
	cairn_capture_options o = CAIRN_CAPTURE_OPTIONS_INIT;
	capture_ctx c;
	memset(&c, 0, sizeof c);
	buf_init(&c.warnings);
	buf_init(&c.code_report);
	if (!store)
		return err_set(CAIRN_EINVALID, "no store");
	o.require_clean = 1;
	o.cwd = cwd;
	c.store = store;
	c.o = &o;
	c.check_only = true;
	c.cap = CAIRN_SNAPSHOT_MAX_DEFAULT;
	c.cwd = path_abs(cwd && *cwd ? cwd : ".");
	int rc = 0;
	bool is_git = false;
	if (!c.cwd)
		rc = err_set(CAIRN_ENOTFOUND, "cannot check '%s': %s", cwd ? cwd : ".",
		             strerror(errno));
	else if ((rc = code_capture_git(&c, &is_git)) == 0 && !is_git)
		rc = err_set(
		    CAIRN_EDIRTY,
		    "'%s' is not in a git repository: --require-clean needs committed code", c.cwd);
	ctx_free(&c);
	return rc;
}

/* --- is the command Python? -------------------------------------------------- */

static bool python_name(const char *base)
{
	/* python, python3, python3.12, pythonw, python3.12-dbg, pypy3 */
	const char *rest = NULL;
	if (strncmp(base, "python", 6) == 0)
		rest = base + 6;
	else if (strncmp(base, "pypy", 4) == 0)
		rest = base + 4;
	else
		return false;
	if (*rest == 'w')
		rest++;
	while (*rest && (isdigit((unsigned char)*rest) || *rest == '.'))
		rest++;
	return *rest == '\0' || strcmp(rest, "-dbg") == 0;
}

static char *which(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? path_abs(name) : NULL;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	char *copy = strdup(path), *save = NULL, *found = NULL;
	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		char *p = path_join(*d ? d : ".", name);
		if (p && access(p, X_OK) == 0 && !path_is_dir(p))
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

int cairn_command_python(char **out, const char *path)
{
	*out = NULL;
	if (!path || !*path)
		return err_set(CAIRN_EINVALID, "no command");
	if (python_name(path_base(path))) {
		*out = strdup(path);
		return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	}
	/* A script: look at its #! line. */
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	char line[512];
	size_t n = fread(line, 1, sizeof line - 1, f);
	fclose(f);
	line[n] = '\0';
	if (n < 3 || line[0] != '#' || line[1] != '!')
		return 0;
	char *nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	char *save = NULL;
	char *interp = strtok_r(line + 2, " \t\r", &save);
	if (!interp)
		return 0;
	if (strcmp(path_base(interp), "env") == 0) {
		interp = strtok_r(NULL, " \t\r", &save);
		while (interp && interp[0] == '-') /* env -S, env -i */
			interp = strtok_r(NULL, " \t\r", &save);
		if (!interp || !python_name(path_base(interp)))
			return 0;
		*out = which(interp);
		return 0;
	}
	if (!python_name(path_base(interp)))
		return 0;
	*out = strdup(interp);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}
