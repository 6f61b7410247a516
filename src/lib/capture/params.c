/*
 * lib/capture/params.c — params from outside the program: the wrapped
 * command line, and flat JSON objects logged in one transaction (YAML/JSON
 * config files are flattened to dotted keys in flatten.c).  Also the secret rules every
 * captured text goes through: names that look secret are never recorded,
 * credentials inside URLs are masked (one masker, mask_credentials_buf, for
 * command lines, config params and keys, and config copies in
 * capture-config.c).
 *
 * Input bounds: config files at most CONFIG_MAX bytes, nesting depth 64, at
 * most PARAMS_MAX params and NODES_MAX visited YAML nodes (aliases can make
 * a small file describe a huge tree); list values at most TEXT_VALUE_MAX
 * bytes of JSON text.  Stateless and thread-safe.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "lib/capture/capture.h"
#include "lib/capture/param-list.h"
#include "lib/store/capture.h"
#include "util/fs.h"
#include "util/json.h"

#define PARAMS_MAX 10000
#define NODES_MAX  1000000
#define DEPTH_MAX  CONFIG_DEPTH_MAX

/* --- secrets ------------------------------------------------------------------ */

int cairn_name_is_secret(const char *name)
{
	static const char *const words[] = {"TOKEN",      "SECRET", "PASSWORD", "PASSWD", "KEY",
	                                    "CREDENTIAL", "AUTH",   "PRIVATE",  "COOKIE"};
	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasestr(name, words[i]))
			return 1;
	return 0;
}

static bool scheme_char(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

static bool url_end(char c)
{
	return c == '\0' || isspace((unsigned char)c) || c == '"' || c == '\'' || c == '>' ||
	       c == '<' || c == '`';
}

/* Secret-looking query parameter names, beyond cairn_name_is_secret:
 * signatures of pre-signed URLs. */
static bool secret_query_name(const char *s, size_t n)
{
	char name[128];
	if (n >= sizeof name)
		n = sizeof name - 1;
	memcpy(name, s, n);
	name[n] = '\0';
	return cairn_name_is_secret(name) || strcasecmp(name, "sig") == 0 ||
	       strcasestr(name, "signature") != NULL || strcasecmp(name, "pwd") == 0 ||
	       strcasecmp(name, "pass") == 0;
}

/* q is at the end of a URL: the end of the text, or a character no URL holds
 * unquoted. */
static bool url_stop(const char *q, const char *e)
{
	return q >= e || url_end(*q);
}

void mask_credentials_buf(buf *b, const char *text, size_t n)
{
	const char *p = text, *e = text + n;
	for (;;) {
		const char *sep = memmem(p, (size_t)(e - p), "://", 3);
		if (!sep) {
			buf_add(b, p, (size_t)(e - p));
			return;
		}
		const char *s = sep;
		while (s > p && scheme_char(s[-1]))
			s--;
		buf_add(b, p, (size_t)(sep + 3 - p));
		p = sep + 3;
		if (s == sep || !isalpha((unsigned char)*s)) /* no scheme: not a URL */
			continue;
		const char *auth = p, *end = p;
		while (!url_stop(end, e) && *end != '/' && *end != '?' && *end != '#')
			end++;
		const char *at = NULL;
		for (const char *q = auth; q < end; q++)
			if (*q == '@')
				at = q;
		if (at) {
			buf_puts(b, "***");
			auth = at;
		}
		buf_add(b, auth, (size_t)(end - auth));
		/* path, then query parameters with secret names masked */
		const char *q = end;
		while (!url_stop(q, e) && *q != '?' && *q != '#')
			q++;
		buf_add(b, end, (size_t)(q - end));
		if (q < e && *q == '?') {
			buf_putc(b, '?');
			q++;
			while (!url_stop(q, e) && *q != '#') {
				const char *pe = q;
				while (!url_stop(pe, e) && *pe != '&' && *pe != '#')
					pe++;
				const char *eq = memchr(q, '=', (size_t)(pe - q));
				if (eq && secret_query_name(q, (size_t)(eq - q))) {
					buf_add(b, q, (size_t)(eq + 1 - q));
					buf_puts(b, "***");
				} else {
					buf_add(b, q, (size_t)(pe - q));
				}
				q = pe;
				if (q < e && *q == '&') {
					buf_putc(b, '&');
					q++;
				}
			}
		}
		p = q;
	}
}

bool mask_would_change(const char *s, size_t n)
{
	if (!memmem(s, n, "://", 3))
		return false;
	buf m = BUF_INIT;
	mask_credentials_buf(&m, s, n);
	bool changed = !buf_ok(&m) || m.len != n || memcmp(m.ptr, s, n) != 0;
	buf_free(&m);
	return changed;
}

int cairn_mask_credentials(char **out, const char *text)
{
	*out = NULL;
	if (!text)
		return err_set(CAIRN_EINVALID, "no text");
	buf b = BUF_INIT;
	mask_credentials_buf(&b, text, strlen(text));
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

/* --- typed values as JSON ------------------------------------------------------------ */

void json_typed_value(buf *b, const cairn_value *v)
{
	switch (v->type) {
	case CAIRN_TYPE_INT: json_int(b, v->i); break;
	case CAIRN_TYPE_BOOL: json_bool(b, v->i != 0); break;
	case CAIRN_TYPE_FLOAT: {
		size_t before = b->len;
		json_num(b, v->f);
		/* keep it a float when read back: "1" -> "1.0" */
		bool plain = true;
		for (size_t i = before; i < b->len; i++)
			if (b->ptr[i] == '.' || b->ptr[i] == 'e' || b->ptr[i] == '"' ||
			    b->ptr[i] == 'E')
				plain = false;
		if (plain)
			buf_puts(b, ".0");
		break;
	}
	default: json_str(b, v->s ? v->s : ""); break;
	}
}

/* --- the wrapped command line ----------------------------------------------------- */

static bool looks_numeric(const char *s)
{
	if (!*s)
		return false;
	char *end;
	errno = 0;
	strtod(s, &end);
	return *end == '\0' && !strpbrk(s, "xXnN");
}

/* An option word: "-x", "--name", not "-" and not a negative number. */
static bool option_like(const char *s)
{
	return s[0] == '-' && s[1] != '\0' && !looks_numeric(s);
}

static bool python_prog(const char *base)
{
	const char *rest = NULL;
	if (strncmp(base, "python", 6) == 0)
		rest = base + 6;
	else if (strncmp(base, "pypy", 4) == 0)
		rest = base + 4;
	else
		return false;
	while (*rest && (isdigit((unsigned char)*rest) || *rest == '.' || *rest == 'w'))
		rest++;
	return *rest == '\0' || strcmp(rest, "-dbg") == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcasecmp(s + n - m, suffix) == 0;
}

/* Interpreters whose first non-option argument is a script (or whose -c /
 * -m / -e option takes the code): the params are the script's arguments. */
static bool interpreter(const char *base)
{
	static const char *const names[] = {"sh",   "bash", "dash",    "zsh",  "ksh",   "fish",
	                                    "perl", "ruby", "node",    "deno", "julia", "Rscript",
	                                    "lua",  "php",  "ipython", "R"};
	if (python_prog(base))
		return true;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(base, names[i]) == 0)
			return true;
	return false;
}

/* Where the program's own arguments start. */
static int args_start(int argc, const char *const *argv)
{
	if (interpreter(path_base(argv[0]))) {
		int i = 1;
		while (i < argc) {
			const char *a = argv[i];
			if (strcmp(a, "-m") == 0 || strcmp(a, "-c") == 0 || strcmp(a, "-e") == 0)
				return i + 2; /* the arguments after the code / module */
			if ((strncmp(a, "-m", 2) == 0 || strncmp(a, "-c", 2) == 0) && a[2] &&
			    python_prog(path_base(argv[0])))
				return i + 1;
			if (strcmp(a, "-") == 0)
				return i + 1;
			if (strcmp(a, "--") == 0)
				return i + 2;
			if (a[0] == '-') {
				i += (strcmp(a, "-W") == 0 || strcmp(a, "-X") == 0) ? 2 : 1;
				continue;
			}
			return i + 1; /* the script */
		}
		return argc;
	}
	/* A launcher (torchrun, accelerate launch, uv run ...) running a script:
	 * the script's arguments. */
	for (int i = 1; i < argc; i++)
		if (ends_with(argv[i], ".py"))
			return i + 1;
	return 1;
}

static bool config_file(const char *s)
{
	if (!(ends_with(s, ".yaml") || ends_with(s, ".yml") || ends_with(s, ".json")))
		return false;
	struct stat st;
	return stat(s, &st) == 0 && S_ISREG(st.st_mode);
}

/* "key=value" as a positional (Hydra's +key=v and ++key=v too). */
static bool key_value_arg(const char *a)
{
	const char *eq = strchr(a, '=');
	const char *k = a;
	while (*k == '+' || *k == '~')
		k++;
	if (!eq || eq <= k || !(isalpha((unsigned char)*k) || *k == '_'))
		return false;
	for (const char *p = k; p < eq; p++)
		if (!(isalnum((unsigned char)*p) || strchr("_.-/[]", *p)))
			return false;
	return true;
}

typedef struct pkey {
	char *key;
	char **vals; /* NULL entry: a bare flag (true) */
	size_t n;
} pkey;

typedef struct plist {
	pkey *v;
	size_t n;
} plist;

static void plist_free(plist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		for (size_t j = 0; j < l->v[i].n; j++)
			free(l->v[i].vals[j]);
		free(l->v[i].vals);
		free(l->v[i].key);
	}
	free(l->v);
}

static int plist_add(plist *l, const char *key, size_t keylen, const char *val)
{
	pkey *k = NULL;
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->v[i].key) == keylen && strncmp(l->v[i].key, key, keylen) == 0)
			k = &l->v[i];
	if (!k) {
		pkey *nv = realloc(l->v, (l->n + 1) * sizeof *nv);
		if (!nv)
			return -1;
		l->v = nv;
		k = &l->v[l->n++];
		memset(k, 0, sizeof *k);
		if (!(k->key = strndup(key, keylen)))
			return -1;
	}
	char **nv = realloc(k->vals, (k->n + 1) * sizeof *nv);
	if (!nv)
		return -1;
	k->vals = nv;
	k->vals[k->n] = NULL;
	if (val && cairn_mask_credentials(&k->vals[k->n], val) != 0)
		return -1;
	k->n++;
	return 0;
}

/* A value from the command line: a bare flag is true, text is typed. */
static void typed_text(cairn_value *v, const char *text)
{
	if (!text) {
		memset(v, 0, sizeof *v);
		v->type = CAIRN_TYPE_BOOL;
		v->i = 1;
		return;
	}
	cairn_value_parse(v, text);
}

struct cairn_argv {
	int args_start;
	cairn_params *params;
	char **configs, **secrets;
	size_t nconfigs, nsecrets;
};

/* Append a copy of text to a list unless it is there already. */
static int add_unique(char ***list, size_t *n, const char *text)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*list)[i], text) == 0)
			return 0;
	char **nl = realloc(*list, (*n + 1) * sizeof *nl);
	if (!nl)
		return -1;
	*list = nl;
	if (!(nl[*n] = strdup(text)))
		return -1;
	(*n)++;
	return 0;
}

/* Normalise an option name into a param key: hyphens become underscores. */
static char *option_key(const char *name, size_t n)
{
	char *k = strndup(name, n);
	if (k)
		for (char *p = k; *p; p++)
			if (*p == '-')
				*p = '_';
	return k;
}

/* The params of plist l, typed, in order: one value as typed text, several
 * (a repeated option) as one string, the JSON list of their typed values. */
static int plist_params(cairn_params *out, const plist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const pkey *k = &l->v[i];
		cairn_value v;
		buf list = BUF_INIT;
		if (k->n == 1) {
			typed_text(&v, k->vals[0]);
		} else {
			buf_putc(&list, '[');
			for (size_t j = 0; j < k->n; j++) {
				cairn_value e;
				if (j)
					buf_puts(&list, ", ");
				typed_text(&e, k->vals[j]);
				json_typed_value(&list, &e);
			}
			buf_putc(&list, ']');
			if (!buf_ok(&list)) {
				buf_free(&list);
				return err_set(CAIRN_ENOMEM, "out of memory");
			}
			v = (cairn_value){CAIRN_TYPE_STRING, 0, 0, list.ptr};
		}
		int rc = params_add(out, k->key, &v);
		buf_free(&list);
		if (rc)
			return rc;
	}
	return 0;
}

int cairn_argv_parse(cairn_argv **out, int argc, const char *const *argv)
{
	plist pl = {0};
	cairn_argv *a = NULL;
	int rc = 0;
	if (out)
		*out = NULL;
	if (!out || argc < 1 || !argv || !argv[0])
		return err_set(CAIRN_EINVALID, "no command line");
	if (!(a = calloc(1, sizeof *a)) || !(a->params = params_new())) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	bool opts_done = false;
	for (int i = 1; i < argc; i++)
		if (config_file(argv[i]) && add_unique(&a->configs, &a->nconfigs, argv[i])) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto done;
		}
	a->args_start = args_start(argc, argv);
	if (a->args_start > argc)
		a->args_start = argc;
	for (int i = a->args_start; i < argc; i++) {
		const char *arg = argv[i];
		char *key = NULL;
		const char *val = NULL;
		if (!opts_done && strcmp(arg, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (!opts_done && option_like(arg)) {
			const char *name = arg + (arg[1] == '-' ? 2 : 1);
			const char *eq = strchr(name, '=');
			if (eq) {
				key = option_key(name, (size_t)(eq - name));
				val = eq + 1;
				if (config_file(val) &&
				    add_unique(&a->configs, &a->nconfigs, val)) {
					free(key);
					rc = err_set(CAIRN_ENOMEM, "out of memory");
					goto done;
				}
			} else {
				key = option_key(name, strlen(name));
				if (i + 1 < argc && !option_like(argv[i + 1]) &&
				    strcmp(argv[i + 1], "--") != 0 && !key_value_arg(argv[i + 1]))
					val = argv[++i];
			}
		} else {
			if (!key_value_arg(arg))
				continue;
			const char *eq = strchr(arg, '=');
			const char *k = arg;
			while (*k == '+' || *k == '~')
				k++;
			key = strndup(k, (size_t)(eq - k));
			val = eq + 1;
		}
		if (!key) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto done;
		}
		if (!*key || cairn_key_validate(key, "param key") != 0) {
			cairn_error_clear();
			free(key);
			continue;
		}
		int e = cairn_name_is_secret(key) ? add_unique(&a->secrets, &a->nsecrets, key)
		                                  : plist_add(&pl, key, strlen(key), val);
		free(key);
		if (e) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto done;
		}
	}
	rc = plist_params(a->params, &pl);
done:
	plist_free(&pl);
	if (rc) {
		cairn_argv_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

const cairn_params *cairn_argv_params(const cairn_argv *a)
{
	return a ? a->params : NULL;
}

size_t cairn_argv_config_count(const cairn_argv *a)
{
	return a ? a->nconfigs : 0;
}

const char *cairn_argv_config(const cairn_argv *a, size_t i)
{
	return a && i < a->nconfigs ? a->configs[i] : NULL;
}

size_t cairn_argv_secret_count(const cairn_argv *a)
{
	return a ? a->nsecrets : 0;
}

const char *cairn_argv_secret(const cairn_argv *a, size_t i)
{
	return a && i < a->nsecrets ? a->secrets[i] : NULL;
}

int cairn_argv_args_start(const cairn_argv *a)
{
	return a ? a->args_start : 0;
}

void cairn_argv_free(cairn_argv *a)
{
	if (!a)
		return;
	cairn_params_free(a->params);
	for (size_t i = 0; i < a->nconfigs; i++)
		free(a->configs[i]);
	for (size_t i = 0; i < a->nsecrets; i++)
		free(a->secrets[i]);
	free(a->configs);
	free(a->secrets);
	free(a);
}

/* A params list as a JSON object, each value by json_typed_value. */
void params_json(buf *b, const cairn_params *p)
{
	buf_putc(b, '{');
	for (size_t i = 0; i < cairn_params_count(p); i++) {
		cairn_value v;
		const char *key = cairn_params_get(&v, p, i);
		if (i)
			buf_putc(b, ',');
		json_str(b, key);
		buf_putc(b, ':');
		json_typed_value(b, &v);
	}
	buf_putc(b, '}');
}

static void json_list(buf *b, char *const *v, size_t n)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		json_str(b, v[i]);
	}
	buf_putc(b, ']');
}

int cairn_argv_params_json(char **out, int argc, const char *const *argv)
{
	cairn_argv *a = NULL;
	*out = NULL;
	int rc = cairn_argv_parse(&a, argc, argv);
	if (rc)
		return rc;
	buf b = BUF_INIT;
	buf_puts(&b, "{\"params\":");
	params_json(&b, a->params);
	buf_puts(&b, ",\"configs\":");
	json_list(&b, a->configs, a->nconfigs);
	buf_puts(&b, ",\"secrets\":");
	json_list(&b, a->secrets, a->nsecrets);
	buf_putc(&b, '}');
	cairn_argv_free(a);
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

static void shell_quote(buf *b, const char *s)
{
	bool plain = *s != '\0';
	for (const char *p = s; *p && plain; p++)
		plain = isalnum((unsigned char)*p) || strchr("_@%+=:,./-", *p);
	if (plain) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			buf_puts(b, "'\\''");
		else
			buf_putc(b, *p);
	}
	buf_putc(b, '\'');
}

int cairn_command_line_masked(char **out, int argc, const char *const *argv)
{
	buf b = BUF_INIT;
	bool mask_next = false;
	*out = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		char *masked = NULL;
		if (i)
			buf_putc(&b, ' ');
		if (mask_next) {
			mask_next = false;
			buf_puts(&b, "***");
			continue;
		}
		const char *eq = strchr(a, '=');
		if (i > 0 && option_like(a)) {
			const char *name = a + (a[1] == '-' ? 2 : 1);
			char *key = option_key(name, eq ? (size_t)(eq - name) : strlen(name));
			bool secret = key && cairn_name_is_secret(key);
			free(key);
			if (secret && eq) {
				buf list = BUF_INIT;
				buf_add(&list, a, (size_t)(eq + 1 - a));
				buf_puts(&list, "***");
				shell_quote(&b, list.ptr);
				buf_free(&list);
				continue;
			}
			if (secret && i + 1 < argc && !option_like(argv[i + 1]))
				mask_next = true;
		} else if (i > 0 && eq && eq > a) {
			char *key = strndup(a, (size_t)(eq - a));
			bool secret = key && cairn_name_is_secret(key);
			free(key);
			if (secret) {
				buf kv = BUF_INIT;
				buf_add(&kv, a, (size_t)(eq + 1 - a));
				buf_puts(&kv, "***");
				shell_quote(&b, kv.ptr);
				buf_free(&kv);
				continue;
			}
		}
		if (cairn_mask_credentials(&masked, a) != 0) {
			buf_free(&b);
			return err_set(CAIRN_ENOMEM, "out of memory");
		}
		shell_quote(&b, masked);
		cairn_free(masked);
	}
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

/* --- logging params ------------------------------------------------------------------ */

int cairn_run_log_params_json(cairn_run *run, const char *text, int overwrite)
{
	if (!run || !text)
		return err_set(CAIRN_EINVALID, "no run or no params");
	cairn_params *p = NULL;
	int rc = params_from_json(&p, text, "params");
	if (rc)
		return rc;
	rc = params_record(run, p, overwrite != 0);
	cairn_params_free(p);
	return rc;
}

int params_record(cairn_run *run, const cairn_params *p, bool overwrite)
{
	size_t n = cairn_params_count(p);
	const char **keys = calloc(n + 1, sizeof *keys);
	cairn_value *vals = calloc(n + 1, sizeof *vals);
	int rc = 0;
	if (!keys || !vals) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		keys[i] = cairn_params_get(&vals[i], p, i);
	rc = overwrite ? cairn_run_set_params(run, keys, vals, n)
	               : cairn_run_log_params(run, keys, vals, n);
done:
	free(keys);
	free(vals);
	return rc;
}

int cairn_run_log_config(cairn_run *run, const char *path)
{
	char *flat_json = NULL;
	char fmsg[1024] = "", smsg[1024] = "";
	if (!run || !path)
		return err_set(CAIRN_EINVALID, "no run or no config path");
	int frc = cairn_config_flatten_json(&flat_json, path);
	if (frc)
		snprintf(fmsg, sizeof fmsg, "%s", cairn_error_last());
	if (frc == CAIRN_ENOTFOUND || (frc == CAIRN_EINVALID && !path_exists(path)))
		return frc;
	/* The file itself first, masked (capture-config.c), so a malformed
	 * config is still stored; a copy refused for a credential it cannot
	 * mask does not keep the params (masked too) out. */
	int src = cairn_run_log_config_snapshot(run, path);
	if (src)
		snprintf(smsg, sizeof smsg, "%s", cairn_error_last());
	int rc = 0;
	if ((src == 0 || src == CAIRN_EINVALID || src == CAIRN_ETOOBIG) && flat_json)
		rc = cairn_run_log_params_json(run, flat_json, 1);
	cairn_free(flat_json);
	if (rc)
		return rc;
	if (src)
		return err_set(src, "%s", smsg);
	if (frc)
		return err_set(frc, "%s", fmsg);
	return 0;
}
