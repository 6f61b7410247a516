/*
 * lib/capture/flatten.c — YAML and JSON config files flattened to params
 * with dotted keys (model.optimizer.lr), as cairn run --config and
 * cairn_run_log_config record them.  Scalars keep their YAML/JSON type;
 * lists become one param holding their JSON text; names that look secret
 * are left out and credentials in values masked (params.c's rules).
 *
 * Input bounds: a file at most CONFIG_MAX bytes, nesting depth 64, at most
 * PARAMS_MAX params and NODES_MAX visited YAML nodes (aliases can make a
 * small file describe a huge tree); list values at most TEXT_VALUE_MAX
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

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcasecmp(s + n - m, suffix) == 0;
}

/* A string as JSON, with credentials inside URLs masked (params and lists
 * from config files: the same rule as the command line's values). */
static void json_str_masked(buf *b, const char *s, size_t n)
{
	if (!memmem(s, n, "://", 3)) {
		json_strn(b, s, n);
		return;
	}
	buf m = BUF_INIT;
	mask_credentials_buf(&m, s, n);
	if (buf_ok(&m))
		json_strn(b, m.ptr, m.len);
	else
		b->oom = true;
	buf_free(&m);
}

/* --- config files ------------------------------------------------------------------ */

typedef struct flat {
	buf *out;
	int nparams;
	long visits;
	const char *name;
	int rc;
	yaml_document_t *doc;
} flat;

static void emit_key(flat *f, const char *key)
{
	if (f->nparams++)
		buf_putc(f->out, ',');
	json_str(f->out, key);
	buf_putc(f->out, ':');
}

static bool key_ok(flat *f, const char *key)
{
	if (f->nparams >= PARAMS_MAX) {
		if (!f->rc)
			f->rc = err_set(CAIRN_ETOOBIG, "config '%s' has more than %d params",
			                f->name, PARAMS_MAX);
		return false;
	}
	if (cairn_key_validate(key, "param key") != 0) {
		cairn_error_clear();
		return false;
	}
	return !cairn_name_is_secret(key);
}

/* prefix.k, with credentials in k masked (a key can be a URL too). */
static char *join_key(const char *prefix, const char *k)
{
	buf b = BUF_INIT;
	if (prefix && *prefix) {
		buf_puts(&b, prefix);
		buf_putc(&b, '.');
	}
	mask_credentials_buf(&b, k, strlen(k));
	return buf_detach(&b);
}

/* YAML 1.1 plain scalars as PyYAML reads them, mostly. */
static void yaml_scalar_value(buf *b, const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		json_str_masked(b, s, strlen(s));
		return;
	}
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	static const char *const trues[] = {"true", "True", "TRUE", "yes", "Yes",
	                                    "YES",  "on",   "On",   "ON"};
	static const char *const falses[] = {"false", "False", "FALSE", "no", "No",
	                                     "NO",    "off",   "Off",   "OFF"};
	for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
		if (strcmp(s, nulls[i]) == 0) {
			buf_puts(b, "null");
			return;
		}
	for (size_t i = 0; i < sizeof trues / sizeof trues[0]; i++) {
		if (strcmp(s, trues[i]) == 0) {
			buf_puts(b, "true");
			return;
		}
		if (strcmp(s, falses[i]) == 0) {
			buf_puts(b, "false");
			return;
		}
	}
	if (strcasecmp(s, ".inf") == 0 || strcasecmp(s, "+.inf") == 0) {
		buf_puts(b, "\"Infinity\"");
		return;
	}
	if (strcasecmp(s, "-.inf") == 0) {
		buf_puts(b, "\"-Infinity\"");
		return;
	}
	if (strcasecmp(s, ".nan") == 0) {
		buf_puts(b, "\"NaN\"");
		return;
	}
	/* 1_000 -> 1000 */
	char tmp[64];
	size_t k = 0;
	bool digits = true;
	for (const char *p = s; *p && k < sizeof tmp - 1; p++) {
		if (*p == '_')
			continue;
		if (!(isdigit((unsigned char)*p) || *p == '.' || *p == '-' || *p == '+' ||
		      *p == 'e' || *p == 'E'))
			digits = false;
		tmp[k++] = *p;
	}
	tmp[k] = '\0';
	cairn_value v;
	cairn_value_parse(&v, digits && strlen(s) < sizeof tmp ? tmp : s);
	if (v.type == CAIRN_TYPE_BOOL) /* "True" handled above; keep case as text */
		v.type = CAIRN_TYPE_STRING;
	if (v.type == CAIRN_TYPE_STRING)
		json_str_masked(b, s, strlen(s));
	else
		json_typed_value(b, &v);
}

/* A YAML node as JSON text (for lists), bounded. */
static void yaml_json(flat *f, buf *b, yaml_node_t *n, int depth)
{
	if (!n || depth > DEPTH_MAX || ++f->visits > NODES_MAX || b->len > TEXT_VALUE_MAX) {
		if (!f->rc && f->visits > NODES_MAX)
			f->rc =
			    err_set(CAIRN_ETOOBIG,
			            "config '%s' is too large once aliases are expanded", f->name);
		return;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE: yaml_scalar_value(b, n); break;
	case YAML_SEQUENCE_NODE:
		buf_putc(b, '[');
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			if (it != n->data.sequence.items.start)
				buf_puts(b, ", ");
			yaml_json(f, b, yaml_document_get_node(f->doc, *it), depth + 1);
		}
		buf_putc(b, ']');
		break;
	case YAML_MAPPING_NODE:
		buf_putc(b, '{');
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(f->doc, p->key);
			if (p != n->data.mapping.pairs.start)
				buf_puts(b, ", ");
			const char *ks = k && k->type == YAML_SCALAR_NODE
			                     ? (const char *)k->data.scalar.value
			                     : "?";
			json_str_masked(b, ks, strlen(ks));
			buf_puts(b, ": ");
			yaml_json(f, b, yaml_document_get_node(f->doc, p->value), depth + 1);
		}
		buf_putc(b, '}');
		break;
	default: buf_puts(b, "null");
	}
}

static void yaml_flatten(flat *f, yaml_node_t *n, const char *prefix, int depth)
{
	if (f->rc || !n)
		return;
	if (depth > DEPTH_MAX || ++f->visits > NODES_MAX) {
		f->rc = err_set(CAIRN_ETOOBIG, "config '%s' is nested too deeply or too large",
		                f->name);
		return;
	}
	if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top && !f->rc; p++) {
			yaml_node_t *k = yaml_document_get_node(f->doc, p->key);
			if (!k || k->type != YAML_SCALAR_NODE)
				continue;
			char *full = join_key(prefix, (const char *)k->data.scalar.value);
			if (!full) {
				f->rc = err_set(CAIRN_ENOMEM, "out of memory");
				return;
			}
			yaml_node_t *v = yaml_document_get_node(f->doc, p->value);
			if (v && v->type == YAML_MAPPING_NODE &&
			    v->data.mapping.pairs.top > v->data.mapping.pairs.start)
				yaml_flatten(f, v, full, depth + 1);
			else if (v && key_ok(f, full)) {
				if (v->type == YAML_SCALAR_NODE) {
					buf one = BUF_INIT;
					yaml_scalar_value(&one, v);
					emit_key(f, full);
					/* a param has no null: the string "null" */
					if (strcmp(one.ptr, "null") == 0)
						buf_puts(f->out, "\"null\"");
					else
						buf_add(f->out, one.ptr, one.len);
					buf_free(&one);
				} else {
					buf list = BUF_INIT;
					yaml_json(f, &list, v, depth + 1);
					if (list.len <= TEXT_VALUE_MAX && !f->rc) {
						emit_key(f, full);
						json_str(f->out, list.ptr);
					}
					buf_free(&list);
				}
			}
			free(full);
		}
	}
}

static size_t line_of(const char *data, size_t len, size_t off)
{
	size_t line = 1;
	for (size_t i = 0; i < off && i < len; i++)
		if (data[i] == '\n')
			line++;
	return line;
}

/* A JSON value as JSON text; with mask, credentials inside URLs in its
 * strings and keys are masked (values from config files, not the ones a
 * caller logs explicitly). */
void json_node_text(buf *b, const json *n, int depth, bool mask)
{
	if (depth > DEPTH_MAX)
		return;
	switch (n->type) {
	case JSON_NULL: buf_puts(b, "null"); break;
	case JSON_BOOL: json_bool(b, n->b); break;
	case JSON_NUM:
		if (n->is_int)
			json_int(b, n->i);
		else
			json_num(b, n->num);
		break;
	case JSON_STR:
		if (mask)
			json_str_masked(b, n->str, n->len);
		else
			json_strn(b, n->str, n->len);
		break;
	case JSON_ARR:
	case JSON_OBJ: {
		buf_putc(b, n->type == JSON_ARR ? '[' : '{');
		for (const json *c = n->child; c; c = c->next) {
			if (c != n->child)
				buf_puts(b, ", ");
			if (n->type == JSON_OBJ) {
				if (mask)
					json_str_masked(b, c->key, strlen(c->key));
				else
					json_str(b, c->key);
				buf_puts(b, ": ");
			}
			json_node_text(b, c, depth + 1, mask);
		}
		buf_putc(b, n->type == JSON_ARR ? ']' : '}');
		break;
	}
	}
}

static void json_flatten(flat *f, const json *n, const char *prefix, int depth)
{
	if (f->rc || depth > DEPTH_MAX)
		return;
	for (const json *c = n->child; c && !f->rc; c = c->next) {
		char *full = join_key(prefix, c->key);
		if (!full) {
			f->rc = err_set(CAIRN_ENOMEM, "out of memory");
			return;
		}
		if (c->type == JSON_OBJ && c->len > 0) {
			json_flatten(f, c, full, depth + 1);
		} else if (key_ok(f, full)) {
			buf v = BUF_INIT;
			if (c->type == JSON_ARR || c->type == JSON_OBJ) {
				json_node_text(&v, c, 0, true);
				if (v.len <= TEXT_VALUE_MAX) {
					emit_key(f, full);
					json_str(f->out, v.ptr);
				}
			} else if (c->type == JSON_NULL) {
				emit_key(f, full);
				buf_puts(f->out, "\"null\"");
			} else if (c->type == JSON_NUM && !c->is_int) {
				cairn_value fv = {CAIRN_TYPE_FLOAT, 0, c->num, NULL};
				emit_key(f, full);
				json_typed_value(f->out, &fv);
			} else {
				emit_key(f, full);
				json_node_text(f->out, c, 0, true);
			}
			buf_free(&v);
		}
		free(full);
	}
}

int config_flatten_buf(buf *out, const char *data, size_t len, bool yaml, const char *name)
{
	flat f = {out, 0, 0, name ? name : "config", 0, NULL};
	if (len > CONFIG_MAX)
		return err_set(CAIRN_ETOOBIG, "config '%s' is larger than %zu bytes", f.name,
		               CONFIG_MAX);
	buf_putc(out, '{');
	if (!yaml) {
		char err[160];
		json_limits lim = {DEPTH_MAX, CONFIG_MAX};
		json_doc *d = json_parse(data, len, &lim, err, sizeof err);
		if (!d) {
			const char *at = strstr(err, " at offset ");
			size_t off = at ? (size_t)strtoull(at + 11, NULL, 10) : 0;
			if (at)
				err[at - err] = '\0';
			return err_set(CAIRN_EINVALID, "cannot parse config '%s': line %zu: %s",
			               f.name, line_of(data, len, off), err);
		}
		const json *r = json_root(d);
		if (r->type != JSON_OBJ) {
			json_doc_free(d);
			return err_set(CAIRN_EINVALID,
			               "config '%s' is not an object of keys (line 1)", f.name);
		}
		json_flatten(&f, r, "", 0);
		json_doc_free(d);
	} else {
		yaml_parser_t p;
		yaml_document_t doc;
		if (!yaml_parser_initialize(&p))
			return err_set(CAIRN_ENOMEM, "out of memory");
		yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
		if (!yaml_parser_load(&p, &doc)) {
			int rc = err_set(CAIRN_EINVALID,
			                 "cannot parse config '%s': line %zu, column %zu: %s",
			                 f.name, (size_t)p.problem_mark.line + 1,
			                 (size_t)p.problem_mark.column + 1,
			                 p.problem ? p.problem : "invalid YAML");
			yaml_parser_delete(&p);
			return rc;
		}
		f.doc = &doc;
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		if (root && root->type != YAML_MAPPING_NODE) {
			f.rc = err_set(CAIRN_EINVALID,
			               "config '%s' is not a mapping of keys (line %zu)", f.name,
			               (size_t)root->start_mark.line + 1);
		} else {
			yaml_flatten(&f, root, "", 0);
		}
		yaml_document_delete(&doc);
		yaml_parser_delete(&p);
	}
	buf_putc(out, '}');
	if (!f.rc && !buf_ok(out))
		f.rc = err_set(CAIRN_ENOMEM, "out of memory");
	return f.rc;
}

int config_kind(const char *path, bool *yaml)
{
	if (ends_with(path, ".yaml") || ends_with(path, ".yml"))
		*yaml = true;
	else if (ends_with(path, ".json"))
		*yaml = false;
	else
		return err_set(CAIRN_EINVALID, "config '%s' is not a .yaml, .yml or .json file",
		               path);
	return 0;
}

int cairn_config_flatten_json(char **out, const char *path)
{
	buf data = BUF_INIT, b = BUF_INIT;
	bool yaml;
	*out = NULL;
	if (!path)
		return err_set(CAIRN_EINVALID, "no config path");
	int rc = config_kind(path, &yaml);
	if (rc)
		return rc;
	int e = read_file(path, CONFIG_MAX, &data);
	if (e) {
		buf_free(&data);
		if (e == -EFBIG)
			return err_set(CAIRN_ETOOBIG, "config '%s' is larger than %zu bytes", path,
			               CONFIG_MAX);
		return err_set(e == -ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
		               "cannot read config '%s': %s", path, strerror(-e));
	}
	rc = config_flatten_buf(&b, data.ptr, data.len, yaml, path);
	buf_free(&data);
	if (rc) {
		buf_free(&b);
		return rc;
	}
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

int cairn_config_flatten(cairn_params **out, const char *path)
{
	char *js = NULL;
	if (out)
		*out = NULL;
	if (!out)
		return err_set(CAIRN_EINVALID, "no output for the config's params");
	int rc = cairn_config_flatten_json(&js, path);
	/* the flattener writes JSON (its lists are JSON text anyway); typing
	 * its members is the rule every params object follows */
	if (rc == 0)
		rc = params_from_json(out, js, "config params");
	cairn_free(js);
	return rc;
}
