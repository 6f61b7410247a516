/*
 * server/mlflow-in.c — decoding MLflow requests (mlflow.h): a GET's query
 * string or a POST's JSON body as one JSON object, and typed reads of its
 * members that answer with MLflow's messages ("Missing value for required
 * parameter 'key'", "Invalid value 31 for parameter 'run_id' supplied.
 * Hint: Value was of type 'int'…"), which clients and tests match on.
 * Protobuf's JSON rules apply: int64 may come as a string, doubles as
 * "NaN"/"Infinity"/"-Infinity", unknown members are ignored, and a body
 * that is a JSON string holding JSON is decoded twice (old clients).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/mhd.h"
#include "server/mlflow.h"

/* --- decoding requests -------------------------------------------------------------------- */

typedef struct args_ctx {
	buf b;
	int n;
	/* names seen (for repeated keys: run_ids=a&run_ids=b) */
	char names[64][64];
	int count[64];
	int nnames;
} args_ctx;

static enum MHD_Result count_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
	args_ctx *c = cls;
	char name[64];
	snprintf(name, sizeof name, "%s", key);
	char *br = strchr(name, '[');
	if (br)
		*br = '\0'; /* key[] and key[0]: the client libraries' list forms */
	for (int i = 0; i < c->nnames; i++)
		if (strcmp(c->names[i], name) == 0) {
			c->count[i]++;
			return MHD_YES;
		}
	if (c->nnames < 64) {
		snprintf(c->names[c->nnames], sizeof c->names[0], "%s", name);
		c->count[c->nnames++] = 1;
	}
	return MHD_YES;
}

typedef struct arg_pick {
	const char *name;
	buf *b;
	bool first;
} arg_pick;

static enum MHD_Result pick_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
	arg_pick *p = cls;
	size_t n = strcspn(key, "[");
	if (strlen(p->name) != n || strncmp(key, p->name, n) != 0)
		return MHD_YES;
	if (!p->first)
		buf_putc(p->b, ',');
	p->first = false;
	json_str(p->b, value ? value : "");
	return MHD_YES;
}

/* The query string as a JSON object (values strings; a key given more than
 * once, or as key[], an array). */
static bool args_json(request *rq, buf *out)
{
	args_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return false;
	mhd.get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, count_arg, c);
	buf_putc(out, '{');
	for (int i = 0; i < c->nnames; i++) {
		if (i)
			buf_putc(out, ',');
		json_str(out, c->names[i]);
		buf_putc(out, ':');
		arg_pick p = {c->names[i], out, true};
		bool list = c->count[i] > 1 || strcmp(c->names[i], "run_ids") == 0 ||
		            strcmp(c->names[i], "experiment_ids") == 0 ||
		            strcmp(c->names[i], "order_by") == 0;
		if (list)
			buf_putc(out, '[');
		mhd.get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, pick_arg, &p);
		if (list)
			buf_putc(out, ']');
	}
	buf_putc(out, '}');
	free(c);
	return buf_ok(out);
}

bool mlf_in_read(request *rq, response *rs, mlf_in *in)
{
	char err[256];
	in->doc = NULL;
	in->root = NULL;
	if (strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0) {
		buf b = BUF_INIT;
		if (!args_json(rq, &b)) {
			buf_free(&b);
			mlf_error(rs, "INTERNAL_ERROR", "out of memory");
			return false;
		}
		in->doc = json_parse(b.ptr, b.len, NULL, err, sizeof err);
		buf_free(&b);
	} else {
		const char *p = rq->body.ptr;
		size_t n = rq->body.len;
		while (n && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
			p++, n--;
		if (n == 0) {
			p = "{}";
			n = 2;
		}
		in->doc = json_parse(p, n, NULL, err, sizeof err);
		/* old clients send the JSON text as a JSON string: decode twice */
		const json *r = in->doc ? json_root(in->doc) : NULL;
		if (r && r->type == JSON_STR) {
			json_doc *d2 = json_parse(r->str, r->len, NULL, err, sizeof err);
			json_doc_free(in->doc);
			in->doc = d2;
		}
	}
	if (!in->doc) {
		mlf_error(rs, "MALFORMED_REQUEST", "Malformed request: %s", err);
		return false;
	}
	in->root = json_root(in->doc);
	if (in->root->type != JSON_OBJ) {
		mlf_in_free(in);
		mlf_error(rs, "MALFORMED_REQUEST",
		          "Malformed request: the body is not a JSON object");
		return false;
	}
	return true;
}

void mlf_in_free(mlf_in *in)
{
	json_doc_free(in->doc);
	in->doc = NULL;
	in->root = NULL;
}

static const char *type_name(const json *v)
{
	switch (v->type) {
	case JSON_NULL: return "NoneType";
	case JSON_BOOL: return "bool";
	case JSON_NUM: return v->is_int ? "int" : "float";
	case JSON_STR: return "str";
	case JSON_ARR: return "list";
	case JSON_OBJ: return "dict";
	}
	return "?";
}

static int bad_value(response *rs, const json *v, const char *name)
{
	buf t = BUF_INIT;
	json_write_node(&t, v);
	int rc = mlf_error(rs, "INVALID_PARAMETER_VALUE",
	                   "Invalid value %.200s for parameter '%s' supplied. Hint: Value was of "
	                   "type '%s'. See the API docs for more information about request "
	                   "parameters.",
	                   t.ptr, name, type_name(v));
	buf_free(&t);
	return rc;
}

int mlf_missing(response *rs, const char *name)
{
	return mlf_error(rs, "INVALID_PARAMETER_VALUE",
	                 "Missing value for required parameter '%s'. See the API docs for more "
	                 "information about request parameters.",
	                 name);
}

bool mlf_str(response *rs, const mlf_in *in, const char *name, bool required, const char **out)
{
	const json *v = json_get(in->root, name);
	*out = NULL;
	if (!v || v->type == JSON_NULL || (v->type == JSON_STR && !*v->str && required)) {
		if (required)
			mlf_missing(rs, name);
		return !required;
	}
	if (v->type != JSON_STR) {
		bad_value(rs, v, name);
		return false;
	}
	if (strlen(v->str) != v->len) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE", "parameter '%s' contains a NUL byte",
		          name);
		return false;
	}
	*out = v->str;
	return true;
}

bool mlf_run_id(response *rs, const mlf_in *in, const char **out)
{
	const json *v = json_get(in->root, "run_id");
	if (v && !(v->type == JSON_STR && !*v->str))
		return mlf_str(rs, in, "run_id", true, out);
	if (json_get(in->root, "run_uuid"))
		return mlf_str(rs, in, "run_uuid", true, out);
	mlf_missing(rs, "run_id");
	return false;
}

bool mlf_int(response *rs, const json *v, const char *name, bool required, int64_t *out, bool *has)
{
	if (has)
		*has = false;
	if (!v || v->type == JSON_NULL) {
		if (required)
			mlf_missing(rs, name);
		return !required;
	}
	if (v->type == JSON_NUM && v->is_int) {
		*out = v->i;
	} else if (v->type == JSON_NUM && v->num == (double)(int64_t)v->num) {
		*out = (int64_t)v->num;
	} else if (v->type == JSON_STR && *v->str) {
		char *end;
		errno = 0;
		long long x = strtoll(v->str, &end, 10);
		if (*end || errno) {
			bad_value(rs, v, name);
			return false;
		}
		*out = x;
	} else {
		bad_value(rs, v, name);
		return false;
	}
	if (has)
		*has = true;
	return true;
}

bool mlf_double(response *rs, const json *v, const char *name, double *out)
{
	if (v && v->type == JSON_NUM) {
		*out = v->num;
		return true;
	}
	if (v && v->type == JSON_STR && *v->str && cairn_metric_value_parse(v->str, out) == 0)
		return true;
	if (!v || v->type == JSON_NULL)
		mlf_missing(rs, name);
	else
		bad_value(rs, v, name);
	return false;
}

bool mlf_array(response *rs, const mlf_in *in, const char *name, const json **out)
{
	const json *v = json_get(in->root, name);
	*out = NULL;
	if (!v || v->type == JSON_NULL)
		return true;
	if (v->type != JSON_ARR) {
		buf t = BUF_INIT;
		json_write_node(&t, v);
		mlf_error(
		    rs, "INVALID_PARAMETER_VALUE",
		    "Invalid value %.200s for parameter '%s' supplied. Hint: Value was of type "
		    "'%s'. See the API docs for more information about request parameters.",
		    t.ptr, name, type_name(v));
		buf_free(&t);
		return false;
	}
	*out = v;
	return true;
}

bool mlf_key_ok(response *rs, const char *what, const char *key)
{
	size_t n = strlen(key);
	if (n > MLF_KEY_MAX) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "'%.100s...' exceeds the maximum length of %d characters for a %s name",
		          key, MLF_KEY_MAX, what);
		return false;
	}
	for (const char *p = key; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (!(c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || strchr("_/.- :", c))) {
			mlf_error(
			    rs, "INVALID_PARAMETER_VALUE",
			    "Invalid %s name: '%.250s'. Names may only contain alphanumerics, "
			    "underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and "
			    "slashes (/).",
			    what, key);
			return false;
		}
	}
	if (cairn_key_validate(key, what) != 0) {
		mlf_error(
		    rs, "INVALID_PARAMETER_VALUE",
		    "Invalid %s name: '%.250s'. Names may be treated as files in certain cases, "
		    "and must not resolve to other names when treated as such. (%s)",
		    what, key, cairn_error_last());
		return false;
	}
	return true;
}
