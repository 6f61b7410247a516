/*
 * tests/unit/test-capture-params.c — params from command lines and config
 * files, secret names and credential masking, notebooks' code.
 */
#include "unit.h"

#include <math.h>

#include "lib/capture/capture.h"
#include "util/fs.h"
#include "util/json.h"

/* Parse argv and return the doc (caller frees). */
static json_doc *argv_doc(int argc, const char *const *argv)
{
	char *out = NULL, err[128];
	assert_ok(cairn_argv_params_json(&out, argc, argv));
	json_doc *d = json_parse(out, strlen(out), NULL, err, sizeof err);
	assert_non_null(d);
	cairn_free(out);
	return d;
}

static const json *param(json_doc *d, const char *key)
{
	return json_get(json_get(json_root(d), "params"), key);
}

static void test_argv_forms(void **state)
{
	(void)state;
	const char *argv[] = {"python3",
	                      "-u",
	                      "train.py",
	                      "--lr",
	                      "0.1",
	                      "--epochs=10",
	                      "-b",
	                      "32",
	                      "--debug",
	                      "model.depth=4",
	                      "--name",
	                      "resnet",
	                      "--no-cuda",
	                      "--momentum",
	                      "-0.5",
	                      "+extra.flag=yes",
	                      "--learning-rate",
	                      "1e-3"};
	json_doc *d = argv_doc(18, argv);
	const json *p;
	assert_non_null(p = param(d, "lr"));
	assert_int_equal(p->type, JSON_NUM);
	assert_false(p->is_int);
	assert_true(p->num == 0.1);
	assert_non_null(p = param(d, "epochs"));
	assert_true(p->is_int && p->i == 10);
	assert_non_null(p = param(d, "b"));
	assert_true(p->is_int && p->i == 32);
	assert_non_null(p = param(d, "debug"));
	assert_int_equal(p->type, JSON_BOOL);
	assert_true(p->b);
	assert_non_null(p = param(d, "model.depth"));
	assert_true(p->is_int && p->i == 4);
	assert_string_equal(json_get_str(json_get(json_root(d), "params"), "name"), "resnet");
	assert_non_null(p = param(d, "no_cuda"));
	assert_int_equal(p->type, JSON_BOOL);
	assert_non_null(p = param(d, "momentum"));
	assert_true(p->num == -0.5);
	assert_string_equal(json_get_str(json_get(json_root(d), "params"), "extra.flag"), "yes");
	assert_non_null(p = param(d, "learning_rate")); /* hyphens -> underscores */
	assert_true(p->num == 1e-3);
	/* the interpreter's own options are not params */
	assert_null(param(d, "u"));
	json_doc_free(d);
}

static void test_argv_floats_stay_floats(void **state)
{
	(void)state;
	const char *argv[] = {"prog", "--a", "1.0", "--b", "2", "--c", "true", "--d", "nan"};
	json_doc *d = argv_doc(9, argv);
	const json *a = param(d, "a"), *b = param(d, "b"), *c = param(d, "c"), *dd = param(d, "d");
	assert_true(a->type == JSON_NUM && !a->is_int && a->num == 1.0);
	assert_true(b->type == JSON_NUM && b->is_int);
	assert_int_equal(c->type, JSON_BOOL);
	assert_int_equal(dd->type, JSON_STR); /* words stay strings */
	json_doc_free(d);
}

static void test_argv_repeated_and_bare(void **state)
{
	(void)state;
	const char *argv[] = {"prog", "--layer", "64", "--layer", "128", "-v", "-v", "--x"};
	json_doc *d = argv_doc(8, argv);
	assert_string_equal(json_get_str(json_get(json_root(d), "params"), "layer"), "[64, 128]");
	assert_string_equal(json_get_str(json_get(json_root(d), "params"), "v"), "[true, true]");
	assert_int_equal(param(d, "x")->type, JSON_BOOL);
	json_doc_free(d);
}

static void test_argv_interpreters(void **state)
{
	(void)state;
	const char *m[] = {"python", "-m", "pkg.train", "--lr", "3"};
	json_doc *d = argv_doc(5, m);
	assert_null(param(d, "m"));
	assert_int_equal(param(d, "lr")->i, 3);
	json_doc_free(d);
	const char *sh[] = {"sh", "-c", "echo hi --no", "--x", "1"};
	d = argv_doc(5, sh);
	assert_null(param(d, "c"));
	assert_null(param(d, "no"));
	assert_int_equal(param(d, "x")->i, 1);
	json_doc_free(d);
	const char *launcher[] = {"torchrun", "--nproc_per_node=4", "train.py", "--bs", "8"};
	d = argv_doc(5, launcher);
	assert_null(param(d, "nproc_per_node"));
	assert_int_equal(param(d, "bs")->i, 8);
	json_doc_free(d);
	const char *dashdash[] = {"prog", "--a", "1", "--", "--b", "2", "k=v"};
	d = argv_doc(7, dashdash);
	assert_non_null(param(d, "a"));
	assert_null(param(d, "b"));
	assert_non_null(param(d, "k")); /* key=value still counts after -- */
	json_doc_free(d);
}

static void test_argv_secrets(void **state)
{
	(void)state;
	const char *argv[] = {"prog",
	                      "--api-key",
	                      "s3cr3t-A",
	                      "--lr",
	                      "0.1",
	                      "token=s3cr3t-B",
	                      "--db",
	                      "postgres://u:s3cr3t-C@h/db",
	                      "--password=s3cr3t-D"};
	char *out = NULL, *cmd = NULL;
	assert_ok(cairn_argv_params_json(&out, 9, argv));
	assert_null(strstr(out, "s3cr3t"));
	assert_non_null(strstr(out, "\"api_key\"")); /* listed as a secret */
	assert_non_null(strstr(out, "postgres://***@h/db"));
	assert_ok(cairn_command_line_masked(&cmd, 9, argv));
	assert_null(strstr(cmd, "s3cr3t"));
	assert_string_equal(cmd,
	                    "prog --api-key *** --lr 0.1 'token=***' --db 'postgres://***@h/db' "
	                    "'--password=***'");
	cairn_free(out);
	cairn_free(cmd);
}

static void test_command_line_quoting(void **state)
{
	(void)state;
	const char *argv[] = {"echo", "a b", "it's", "", "plain-1.0"};
	char *cmd = NULL;
	assert_ok(cairn_command_line_masked(&cmd, 5, argv));
	assert_string_equal(cmd, "echo 'a b' 'it'\\''s' '' plain-1.0");
	cairn_free(cmd);
}

static void test_command_line_split(void **state)
{
	(void)state;
	const char *argv[] = {"python3", "a b", "it's", "", "--lr=0.1", "x'y'z"};
	char *cmd = NULL, **v = NULL;
	int n = 0;
	assert_ok(cairn_command_line_masked(&cmd, 6, argv));
	assert_ok(cairn_command_line_split(&v, &n, cmd));
	assert_int_equal(n, 6);
	for (int i = 0; i < 6; i++)
		assert_string_equal(v[i], argv[i]);
	assert_null(v[6]);
	cairn_command_line_free(v);
	cairn_free(cmd);
	/* masked values cannot be run again: each form the masker writes */
	static const char *const masked[] = {"prog --api-key ***", "prog 'token=***'",
	                                     "prog --db 'postgres://***@h/db'",
	                                     "prog 'http://h/p?token=***&b=2'"};
	for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++) {
		assert_int_equal(cairn_command_line_split(&v, &n, masked[i]), CAIRN_EINVALID);
		assert_non_null(strstr(cairn_error_last(), "masked secret in argument"));
		assert_null(v);
	}
	assert_ok(cairn_command_line_split(&v, &n, "echo a***b"));
	cairn_command_line_free(v);
	assert_int_equal(cairn_command_line_split(&v, &n, "echo 'open"), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "not closed"));
	assert_int_equal(cairn_command_line_split(&v, &n, "  "), CAIRN_EINVALID);
	assert_int_equal(cairn_command_line_split(&v, &n, NULL), CAIRN_EINVALID);
}

static void test_secret_names_and_masking(void **state)
{
	(void)state;
	assert_true(cairn_name_is_secret("GITHUB_TOKEN"));
	assert_true(cairn_name_is_secret("aws_secret_access_key"));
	assert_true(cairn_name_is_secret("DB_PASSWORD"));
	assert_true(cairn_name_is_secret("GOOGLE_APPLICATION_CREDENTIALS"));
	assert_true(cairn_name_is_secret("api-key"));
	assert_false(cairn_name_is_secret("CUDA_VISIBLE_DEVICES"));
	assert_false(cairn_name_is_secret("lr"));
	static const char *const cases[][2] = {
	    {"https://user:pw@github.com/x.git", "https://***@github.com/x.git"},
	    {"see http://tok@host:8080/p?a=1&token=abc&b=2 ok",
	     "see http://***@host:8080/p?a=1&token=***&b=2 ok"},
	    {"s3://bucket/key?X-Amz-Signature=dead&x=1", "s3://bucket/key?X-Amz-Signature=***&x=1"},
	    {"no url here", "no url here"},
	    {"a:b@c", "a:b@c"},
	    {"://weird", "://weird"},
	    {"postgres://u:p@h/db and redis://:p@r:6379",
	     "postgres://***@h/db and redis://***@r:6379"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *m = NULL;
		assert_ok(cairn_mask_credentials(&m, cases[i][0]));
		assert_string_equal(m, cases[i][1]);
		cairn_free(m);
	}
}

/* --- configs ------------------------------------------------------------------ */

static char *write_tmp(const char *dir, const char *name, const char *text)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);
	sprintf(p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static json_doc *flatten(const char *path)
{
	char *out = NULL, err[128];
	assert_ok(cairn_config_flatten_json(&out, path));
	json_doc *d = json_parse(out, strlen(out), NULL, err, sizeof err);
	assert_non_null(d);
	cairn_free(out);
	return d;
}

static void test_yaml_flatten(void **state)
{
	(void)state;
	char *dir = unit_tmpdir();
	char *p = write_tmp(dir, "cfg.yaml",
	                    "# a config\n"
	                    "lr: 0.001\n"
	                    "epochs: 10\n"
	                    "big: 1_000\n"
	                    "use_amp: yes\n"
	                    "name: 'resnet'\n"
	                    "version: \"12\"\n"
	                    "dropout: ~\n"
	                    "model:\n"
	                    "  depth: 50\n"
	                    "  act: relu\n"
	                    "  head:\n"
	                    "    sizes: [512, 256]\n"
	                    "    dict_list: [{a: 1}, b]\n"
	                    "empty: {}\n"
	                    "api_token: nope\n"
	                    "scale: .inf\n");
	json_doc *d = flatten(p);
	const json *r = json_root(d);
	assert_true(json_get(r, "lr")->num == 0.001);
	assert_true(json_get(r, "epochs")->is_int && json_get(r, "epochs")->i == 10);
	assert_int_equal(json_get(r, "big")->i, 1000);
	assert_int_equal(json_get(r, "use_amp")->type, JSON_BOOL);
	assert_string_equal(json_get_str(r, "name"), "resnet");
	assert_string_equal(json_get_str(r, "version"), "12"); /* quoted: a string */
	assert_string_equal(json_get_str(r, "dropout"), "null");
	assert_int_equal(json_get(r, "model.depth")->i, 50);
	assert_string_equal(json_get_str(r, "model.act"), "relu");
	assert_string_equal(json_get_str(r, "model.head.sizes"), "[512, 256]");
	assert_string_equal(json_get_str(r, "model.head.dict_list"), "[{\"a\": 1}, \"b\"]");
	assert_null(json_get(r, "api_token")); /* secret-looking: left out */
	assert_string_equal(json_get_str(r, "scale"), "Infinity");
	json_doc_free(d);
	free(p);
	unit_rmrf(dir);
	free(dir);
}

static void test_yaml_malformed(void **state)
{
	(void)state;
	char *dir = unit_tmpdir();
	char *p = write_tmp(dir, "bad.yml", "a: 1\nb: [1, 2\nc: 3\n");
	char *out = NULL;
	assert_int_equal(cairn_config_flatten_json(&out, p), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "bad.yml"));
	assert_non_null(strstr(cairn_error_last(), "line "));
	free(p);
	p = write_tmp(dir, "list.yaml", "- 1\n- 2\n");
	assert_int_equal(cairn_config_flatten_json(&out, p), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "not a mapping"));
	free(p);
	p = write_tmp(dir, "cfg.txt", "a: 1\n");
	assert_int_equal(cairn_config_flatten_json(&out, p), CAIRN_EINVALID);
	free(p);
	/* a billion laughs: bounded, not a hang or an explosion */
	p = write_tmp(dir, "bomb.yaml",
	              "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	              "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	              "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	              "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	              "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	              "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	              "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n");
	int rc = cairn_config_flatten_json(&out, p);
	assert_true(rc == 0 || rc == CAIRN_ETOOBIG);
	cairn_free(out);
	free(p);
	unit_rmrf(dir);
	free(dir);
}

static void test_json_flatten(void **state)
{
	(void)state;
	char *dir = unit_tmpdir();
	char *p =
	    write_tmp(dir, "cfg.json",
	              "{\"optim\": {\"lr\": 0.1, \"betas\": [0.9, 0.999], \"name\": \"adam\"},"
	              " \"seed\": 42, \"amp\": false, \"note\": null, \"w\": 1.0}");
	json_doc *d = flatten(p);
	const json *r = json_root(d);
	assert_true(json_get(r, "optim.lr")->num == 0.1);
	assert_string_equal(json_get_str(r, "optim.betas"), "[0.9, 0.999]");
	assert_string_equal(json_get_str(r, "optim.name"), "adam");
	assert_int_equal(json_get(r, "seed")->i, 42);
	assert_int_equal(json_get(r, "amp")->type, JSON_BOOL);
	assert_string_equal(json_get_str(r, "note"), "null");
	assert_false(json_get(r, "w")->is_int); /* 1.0 stays a float */
	json_doc_free(d);
	free(p);
	p = write_tmp(dir, "bad.json", "{\n  \"a\": 1,\n  \"b\": }\n");
	char *out = NULL;
	assert_int_equal(cairn_config_flatten_json(&out, p), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "line 3"));
	free(p);
	unit_rmrf(dir);
	free(dir);
}

static void test_argv_finds_configs(void **state)
{
	(void)state;
	char *dir = unit_tmpdir();
	char *p = write_tmp(dir, "c.yaml", "a: 1\n");
	char *q = write_tmp(dir, "d.json", "{}");
	char eqarg[4200];
	snprintf(eqarg, sizeof eqarg, "--other=%s", q);
	const char *argv[] = {"python", "t.py", "--config", p, eqarg, "missing.yaml"};
	json_doc *d = argv_doc(6, argv);
	const json *c = json_get(json_root(d), "configs");
	assert_int_equal(c->len, 2);
	assert_string_equal(c->child->str, p);
	assert_string_equal(c->child->next->str, q);
	json_doc_free(d);
	free(p);
	free(q);
	unit_rmrf(dir);
	free(dir);
}

/* --- logging params and configs into a run ---------------------------------------- */

static void test_log_params_and_config(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_run *r = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_run_log_params_json(r,
	                                    "{\"a\": 1, \"b\": 2.5, \"c\": \"x\", \"d\": true,"
	                                    " \"e\": [1, 2], \"f\": null}",
	                                    0));
	/* write-once: the same value is fine, another is a conflict */
	assert_ok(cairn_run_log_params_json(r, "{\"a\": 1}", 0));
	assert_int_equal(cairn_run_log_params_json(r, "{\"a\": 2}", 0), CAIRN_ECONFLICT);
	assert_ok(cairn_run_log_params_json(r, "{\"a\": 3}", 1));
	assert_int_equal(cairn_run_log_params_json(r, "[1]", 0), CAIRN_EINVALID);
	assert_int_equal(cairn_run_log_params_json(r, "{\"\": 1}", 0), CAIRN_EINVALID);

	char *p = write_tmp(u.dir, "cfg.yaml", "opt:\n  lr: 0.5\n");
	assert_ok(cairn_run_log_config(r, p));
	char *bad = write_tmp(u.dir, "bad.yaml", "x: [\n");
	assert_int_equal(cairn_run_log_config(r, bad), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "line"));

	char *js = NULL, err[128];
	assert_ok(cairn_run_get_json(&js, u.s, cairn_run_id(r)));
	json_doc *d = json_parse(js, strlen(js), NULL, err, sizeof err);
	const json *params = json_get(json_root(d), "params");
	assert_int_equal(json_get(params, "a")->i, 3);
	assert_true(json_get(params, "b")->num == 2.5);
	assert_string_equal(json_get_str(params, "e"), "[1, 2]");
	assert_string_equal(json_get_str(params, "f"), "null");
	assert_true(json_get(params, "opt.lr")->num == 0.5);
	/* both configs snapshotted, the malformed one too */
	int nconfig = 0;
	for (const json *a = json_get(json_root(d), "artifacts")->child; a; a = a->next)
		if (strcmp(json_get_str(a, "kind"), "config") == 0)
			nconfig++;
	assert_int_equal(nconfig, 2);
	json_doc_free(d);
	cairn_free(js);
	free(p);
	free(bad);
	cairn_run_free(r);
	unit_store_close(&u);
}

/* --- credentials inside URLs in configs ------------------------------------------- */

static void test_mask_bounded_text(void **state)
{
	(void)state;
	/* a NUL byte ends a URL, and the text goes on after it */
	static const char t[] = "a x://u:p@h\0y://v:q@k/z tail";
	buf b = BUF_INIT;
	mask_credentials_buf(&b, t, sizeof t - 1);
	assert_int_equal(b.len, sizeof "a x://***@h\0y://***@k/z tail" - 1);
	assert_memory_equal(b.ptr, "a x://***@h\0y://***@k/z tail", b.len);
	buf_free(&b);
	/* only n bytes are read: the URL is cut where the text ends */
	buf_init(&b);
	mask_credentials_buf(&b, "x://u:p@h", 6);
	assert_string_equal(b.ptr, "x://u:");
	buf_free(&b);
	assert_true(mask_would_change("x://u:p@h", 9));
	assert_false(mask_would_change("x://***@h", 9));
	assert_false(mask_would_change("plain", 5));
}

static void test_config_params_masked(void **state)
{
	(void)state;
	char *dir = unit_tmpdir();
	char *p = write_tmp(dir, "c.yaml",
	                    "db: {url: 'postgres://bob:pw1@db/x'}\n"
	                    "plain: https://u:pw2@h/p?token=pw3&x=1\n"
	                    "list: [x://a:pw4@h, {k: \"y:\\/\\/b:pw5@h\"}]\n"
	                    "\"z://c:pw6@h\": 1\n");
	json_doc *d = flatten(p);
	const json *r = json_root(d);
	assert_string_equal(json_get_str(r, "db.url"), "postgres://***@db/x");
	assert_string_equal(json_get_str(r, "plain"), "https://***@h/p?token=***&x=1");
	assert_string_equal(json_get_str(r, "list"), "[\"x://***@h\", {\"k\": \"y://***@h\"}]");
	/* a key is masked too (and then left out: "//" makes no param key) */
	assert_null(json_get(r, "z://c:pw6@h"));
	json_doc_free(d);
	char *flat = NULL;
	assert_ok(cairn_config_flatten_json(&flat, p));
	assert_null(strstr(flat, "pw"));
	cairn_free(flat);
	free(p);
	p = write_tmp(dir, "c.json",
	              "{\"a\": {\"u\": \"https://u:pw1@h\"}, \"l\": [[\"x:\\/\\/v:pw2@h\"], 1],"
	              " \"o\": [{\"w://k:pw3@h\": \"v\"}]}");
	d = flatten(p);
	r = json_root(d);
	assert_string_equal(json_get_str(r, "a.u"), "https://***@h");
	assert_string_equal(json_get_str(r, "l"), "[[\"x://***@h\"], 1]");
	assert_string_equal(json_get_str(r, "o"), "[{\"w://***@h\": \"v\"}]");
	json_doc_free(d);
	free(p);
	unit_rmrf(dir);
	free(dir);
}

/* The stored copy of config text, as a NUL-terminated string (or NULL with
 * *rc when refused). */
static char *snapshot(const char *text, size_t len, config_syntax syntax, int *rc)
{
	buf b = BUF_INIT;
	*rc = config_snapshot_text(&b, text, len, syntax, "t");
	if (*rc) {
		assert_int_equal(b.len, 0);
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static void snapshot_is(const char *text, config_syntax syntax, const char *want)
{
	int rc;
	char *got = snapshot(text, strlen(text), syntax, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(got, want);
	free(got);
}

static void test_config_snapshot_masked(void **state)
{
	(void)state;
	/* nothing that can be a URL: byte for byte */
	snapshot_is("# no urls\na: 1\nb: 'x@y'\n", CONFIG_YAML, "# no urls\na: 1\nb: 'x@y'\n");
	/* plain strings and comments, masked where they stand */
	snapshot_is("# was: redis://:pw@r\nurl: postgres://bob:pw@db/x # db\nn: 2\n", CONFIG_YAML,
	            "# was: redis://***@r\nurl: postgres://***@db/x # db\nn: 2\n");
	/* escapes: rewritten as one quoted string; the rest untouched */
	snapshot_is("é: ü\na: \"x:\\/\\/u:pw@h\\x2Fdb\"  # c\nb: \"keep\\tme\"\n", CONFIG_YAML,
	            "é: ü\na: \"x://***@h/db\"  # c\nb: \"keep\\tme\"\n");
	snapshot_is("\xEF\xBB\xBF"
	            "a: \"y\\u003a//u:pw@h\"\n",
	            CONFIG_YAML,
	            "\xEF\xBB\xBF"
	            "a: \"y://***@h\"\n");
	/* an escaped line break inside the URL */
	snapshot_is("a:\n  b: \"x\\\n    ://u:pw@h\"\n  c: 1\n", CONFIG_YAML,
	            "a:\n  b: \"x://***@h\"\n  c: 1\n");
	/* every document of a stream */
	snapshot_is("a: 1\n---\nb: \"x:\\/\\/u:pw@h\"\n", CONFIG_YAML,
	            "a: 1\n---\nb: \"x://***@h\"\n");
	/* JSON: escaped slashes (PHP), \u escapes, a list */
	snapshot_is(
	    "{\"a\": \"x:\\/\\/u:pw@h\\/p\", \"b\": [\"y://v:pw@k\", \"z://w\\u0040pw@m\"]}",
	    CONFIG_JSON, "{\"a\": \"x://***@h/p\", \"b\": [\"y://***@k\", \"z://***@m\"]}");
	/* a file that does not parse is masked as text (JSON escapes too) */
	snapshot_is("a: [x://u:pw@h\n", CONFIG_YAML, "a: [x://***@h\n");
	snapshot_is("{\"a\": \"x:\\/\\/u:pw@h\",}", CONFIG_JSON, "{\"a\": \"x://***@h\",}");
	/* any other file: as text */
	snapshot_is("DB=postgres://bob:pw@db\n", CONFIG_OTHER, "DB=postgres://***@db\n");
	/* UTF-16: no bytes to mask in place, the check finds the URL: refused */
	static const char u16[] = "\xFF\xFE"
	                          "a\0:\0 \0x\0:\0/\0/\0u\0:\0p\0w\0@\0h\0\n\0";
	int rc;
	assert_null(snapshot(u16, sizeof u16 - 1, CONFIG_YAML, &rc));
	assert_int_equal(rc, CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "not stored"));
	/* the same without a credential is stored as it is */
	static const char u16ok[] = "\xFF\xFE"
	                            "a\0:\0 \0x\0:\0/\0/\0h\0\n\0";
	char *got = snapshot(u16ok, sizeof u16ok - 1, CONFIG_YAML, &rc);
	assert_int_equal(rc, 0);
	assert_memory_equal(got, u16ok, sizeof u16ok - 1);
	free(got);
}

/* The artifact's bytes, by name. */
static char *artifact_text(unit_store *u, cairn_run *r, const char *name)
{
	char *js = NULL, err[128];
	assert_ok(cairn_run_get_json(&js, u->s, cairn_run_id(r)));
	json_doc *d = json_parse(js, strlen(js), NULL, err, sizeof err);
	char *text = NULL;
	for (const json *a = json_get(json_root(d), "artifacts")->child; a; a = a->next)
		if (strcmp(json_get_str(a, "path"), name) == 0) {
			const char *oid = json_get_str(a, "digest");
			char *path = NULL;
			assert_ok(cairn_object_path(&path, u->s, oid));
			buf b = BUF_INIT;
			assert_int_equal(read_file(path, 1 << 20, &b), 0);
			cairn_free(path);
			text = buf_detach(&b);
		}
	json_doc_free(d);
	cairn_free(js);
	return text;
}

static void test_log_config_masked(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_run *r = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	char *p = write_tmp(u.dir, "db.yaml", "url: postgres://bob:pw@db/x\n");
	assert_ok(cairn_run_log_config(r, p));
	char *name = NULL;
	assert_non_null(name = malloc(strlen(p) + 8));
	sprintf(name, "config/%s", strrchr(p, '/') + 1); /* absolute: the base name */
	char *text = artifact_text(&u, r, name);
	assert_non_null(text);
	assert_string_equal(text, "url: postgres://***@db/x\n");
	free(text);
	/* refused copy: the params are still recorded (masked), the error says why */
	static const char u16[] = "\xFF\xFE"
	                          "b\0:\0 \0x\0:\0/\0/\0u\0:\0p\0w\0@\0h\0\n\0";
	char *q = malloc(strlen(u.dir) + 16);
	sprintf(q, "%s/u16.yaml", u.dir);
	FILE *f = fopen(q, "wb");
	fwrite(u16, 1, sizeof u16 - 1, f);
	fclose(f);
	assert_int_equal(cairn_run_log_config(r, q), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "not stored"));
	assert_null(artifact_text(&u, r, "config/u16.yaml"));
	char *js = NULL, err[128];
	assert_ok(cairn_run_get_json(&js, u.s, cairn_run_id(r)));
	json_doc *d = json_parse(js, strlen(js), NULL, err, sizeof err);
	const json *params = json_get(json_root(d), "params");
	assert_string_equal(json_get_str(params, "url"), "postgres://***@db/x");
	assert_string_equal(json_get_str(params, "b"), "x://***@h");
	json_doc_free(d);
	cairn_free(js);
	free(q);
	free(name);
	free(p);
	cairn_run_free(r);
	unit_store_close(&u);
}

/* --- notebooks ------------------------------------------------------------------ */

static void test_notebook_code(void **state)
{
	(void)state;
	const char *nb4 = "{\"nbformat\": 4, \"cells\": ["
	                  "{\"cell_type\": \"markdown\", \"source\": [\"# Title\"]},"
	                  "{\"cell_type\": \"code\", \"source\": [\"import os\\n\", \"x = 1\"],"
	                  " \"outputs\": [{\"text\": \"noise\"}], \"execution_count\": 7},"
	                  "{\"cell_type\": \"code\", \"source\": \"print(x)\\n\"}]}";
	char *code = NULL;
	assert_ok(cairn_notebook_code(&code, nb4, strlen(nb4)));
	assert_string_equal(code, "# %%\nimport os\nx = 1\n# %%\nprint(x)\n");
	cairn_free(code);
	const char *nb3 = "{\"nbformat\": 3, \"worksheets\": [{\"cells\": ["
	                  "{\"cell_type\": \"code\", \"input\": [\"a = 2\\n\"]}]}]}";
	assert_ok(cairn_notebook_code(&code, nb3, strlen(nb3)));
	assert_string_equal(code, "# %%\na = 2\n");
	cairn_free(code);
	assert_int_equal(cairn_notebook_code(&code, "{\"x\": 1}", 8), CAIRN_EINVALID);
	assert_int_equal(cairn_notebook_code(&code, "not json", 8), CAIRN_EINVALID);
}

/* The typed command line is the JSON one, value for value, type for type. */
static void test_argv_parse_typed(void **state)
{
	(void)state;
	char dir[] = "/tmp/cairn-argv.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cfg[4200];
	snprintf(cfg, sizeof cfg, "%s/c.yaml", dir);
	FILE *f = fopen(cfg, "w");
	assert_non_null(f);
	fputs("a: 1\n", f);
	fclose(f);
	const char *argv[] = {"train",    "--lr", "0.1",          "--n", "3",  "--x",       "nan",
	                      "--v",      "a",    "--v",          "2",   "-q", "--api-key", "s3",
	                      "--config", cfg,    "name=Infinity"};
	int argc = (int)(sizeof argv / sizeof argv[0]);
	cairn_argv *a = NULL;
	assert_ok(cairn_argv_parse(&a, argc, argv));
	const cairn_params *p = cairn_argv_params(a);
	cairn_value v;
	assert_ok(cairn_params_lookup(&v, p, "lr"));
	assert_int_equal(v.type, CAIRN_TYPE_FLOAT);
	assert_true(v.f == 0.1);
	assert_ok(cairn_params_lookup(&v, p, "n"));
	assert_int_equal(v.type, CAIRN_TYPE_INT);
	assert_int_equal(v.i, 3);
	/* text that reads as nan or Infinity is a string, as it always was */
	assert_ok(cairn_params_lookup(&v, p, "x"));
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
	assert_string_equal(v.s, "nan");
	assert_ok(cairn_params_lookup(&v, p, "name"));
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
	assert_string_equal(v.s, "Infinity");
	assert_ok(cairn_params_lookup(&v, p, "v"));
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
	assert_string_equal(v.s, "[\"a\", 2]");
	assert_ok(cairn_params_lookup(&v, p, "q"));
	assert_int_equal(v.type, CAIRN_TYPE_BOOL);
	assert_int_equal(v.i, 1);
	assert_int_equal(cairn_params_lookup(&v, p, "api_key"), CAIRN_ENOTFOUND);
	assert_int_equal(v.type, CAIRN_TYPE_NONE);
	assert_int_equal(cairn_argv_secret_count(a), 1);
	assert_string_equal(cairn_argv_secret(a, 0), "api_key");
	assert_null(cairn_argv_secret(a, 1));
	assert_int_equal(cairn_argv_config_count(a), 1);
	assert_string_equal(cairn_argv_config(a, 0), cfg);
	assert_null(cairn_argv_config(a, 1));
	/* in order, and the JSON wrapper writes the same list */
	assert_string_equal(cairn_params_get(&v, p, 0), "lr");
	assert_null(cairn_params_get(&v, p, cairn_params_count(p)));
	json_doc *d = argv_doc(argc, argv);
	const json *jp = json_get(json_root(d), "params");
	assert_int_equal(jp->len, cairn_params_count(p));
	size_t i = 0;
	for (const json *x = jp->child; x; x = x->next, i++)
		assert_string_equal(x->key, cairn_params_get(NULL, p, i));
	json_doc_free(d);
	cairn_argv_free(a);
	/* failures: no command line; NULL-safe readers */
	a = (cairn_argv *)1;
	assert_int_equal(cairn_argv_parse(&a, 0, argv), CAIRN_EINVALID);
	assert_null(a);
	assert_int_equal(cairn_argv_parse(NULL, argc, argv), CAIRN_EINVALID);
	assert_null(cairn_argv_params(NULL));
	assert_int_equal(cairn_argv_config_count(NULL), 0);
	assert_int_equal(cairn_argv_secret_count(NULL), 0);
	assert_int_equal(cairn_params_count(NULL), 0);
	assert_null(cairn_params_get(&v, NULL, 0));
	assert_int_equal(cairn_params_lookup(&v, NULL, "x"), CAIRN_ENOTFOUND);
	cairn_argv_free(NULL);
	cairn_params_free(NULL);
	unlink(cfg);
	rmdir(dir);
}

/* Where the program's own arguments start: what `cairn run` compares the
 * argparse hook's report with. */
static void test_argv_args_start(void **state)
{
	(void)state;
	static const struct {
		const char *argv[8];
		int start;
	} cases[] = {
	    {{"python3", "train.py", "--lr", "1"}, 2},
	    {{"/usr/bin/python3.11", "-u", "-W", "ignore", "train.py", "-k", "3"}, 5},
	    {{"python3", "-m", "pkg.train", "--lr", "1"}, 3},
	    {{"python3", "-c", "code", "a"}, 3},
	    {{"./train.py", "--lr", "1"}, 1},
	    {{"torchrun", "--nproc_per_node", "4", "train.py", "--lr", "1"}, 4},
	    {{"python3"}, 1},
	    {{"python3", "-u"}, 2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int argc = 0;
		while (argc < 8 && cases[i].argv[argc])
			argc++;
		cairn_argv *a = NULL;
		assert_ok(cairn_argv_parse(&a, argc, cases[i].argv));
		assert_int_equal(cairn_argv_args_start(a), cases[i].start);
		cairn_argv_free(a);
	}
	assert_int_equal(cairn_argv_args_start(NULL), 0);
}

/* A config's params typed: YAML's .nan stays the string "NaN" it always
 * recorded, a quoted "NaN" too, 1.0 a float, lists their JSON text. */
static void test_config_flatten_typed(void **state)
{
	(void)state;
	char dir[] = "/tmp/cairn-flat.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cfg[4200];
	snprintf(cfg, sizeof cfg, "%s/c.yaml", dir);
	FILE *f = fopen(cfg, "w");
	assert_non_null(f);
	fputs("m:\n  lr: 1.0\n  n: 2\na: .nan\nb: \"NaN\"\nc: [1, 2]\nd: ~\ne: yes\n", f);
	fclose(f);
	cairn_params *p = NULL;
	cairn_value v;
	assert_ok(cairn_config_flatten(&p, cfg));
	assert_int_equal(cairn_params_count(p), 7);
	assert_ok(cairn_params_lookup(&v, p, "m.lr"));
	assert_int_equal(v.type, CAIRN_TYPE_FLOAT);
	assert_true(v.f == 1.0);
	assert_ok(cairn_params_lookup(&v, p, "m.n"));
	assert_int_equal(v.type, CAIRN_TYPE_INT);
	assert_ok(cairn_params_lookup(&v, p, "a"));
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
	assert_string_equal(v.s, "NaN");
	assert_ok(cairn_params_lookup(&v, p, "b"));
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
	assert_ok(cairn_params_lookup(&v, p, "c"));
	assert_string_equal(v.s, "[1, 2]");
	assert_ok(cairn_params_lookup(&v, p, "d"));
	assert_string_equal(v.s, "null");
	assert_ok(cairn_params_lookup(&v, p, "e"));
	assert_int_equal(v.type, CAIRN_TYPE_BOOL);
	cairn_params_free(p);
	/* failures: missing file, not a config, malformed, no output */
	char bad[4200];
	snprintf(bad, sizeof bad, "%s/missing.yaml", dir);
	p = (cairn_params *)1;
	assert_int_equal(cairn_config_flatten(&p, bad), CAIRN_ENOTFOUND);
	assert_null(p);
	assert_int_equal(cairn_config_flatten(&p, "x.txt"), CAIRN_EINVALID);
	assert_int_equal(cairn_config_flatten(NULL, cfg), CAIRN_EINVALID);
	f = fopen(cfg, "w");
	fputs("a: [1\n", f);
	fclose(f);
	assert_int_equal(cairn_config_flatten(&p, cfg), CAIRN_EINVALID);
	assert_null(p);
	unlink(cfg);
	rmdir(dir);
}

/* cairn_run_set_params: all or nothing, later values win, also within
 * one call; cairn_run_log_params keeps write-once. */
static void test_set_params(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_run *r = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	const char *keys[] = {"a", "b", "a"};
	cairn_value vals[3] = {{CAIRN_TYPE_INT, 1, 0, NULL},
	                       {CAIRN_TYPE_FLOAT, 0, NAN, NULL},
	                       {CAIRN_TYPE_STRING, 0, 0, "NaN"}};
	assert_ok(cairn_run_set_params(r, keys, vals, 3));
	char *js = NULL;
	assert_ok(cairn_run_get_json(&js, u.s, cairn_run_id(r)));
	assert_non_null(strstr(js, "\"a\":\"NaN\""));
	cairn_free(js);
	/* over the old values: fine */
	cairn_value one = {CAIRN_TYPE_INT, 2, 0, NULL};
	assert_ok(cairn_run_set_params(r, keys, &one, 1));
	assert_int_equal(cairn_run_log_params(r, keys, vals, 1), CAIRN_ECONFLICT);
	/* a bad key writes none of them */
	const char *badk[] = {"c", ""};
	assert_int_equal(cairn_run_set_params(r, badk, vals, 2), CAIRN_EINVALID);
	assert_int_equal(cairn_run_set_params(NULL, keys, vals, 1), CAIRN_EINVALID);
	assert_int_equal(cairn_run_set_params(r, NULL, vals, 1), CAIRN_EINVALID);
	assert_ok(cairn_run_set_params(r, NULL, NULL, 0));
	assert_ok(cairn_run_get_json(&js, u.s, cairn_run_id(r)));
	assert_null(strstr(js, "\"c\""));
	assert_non_null(strstr(js, "\"a\":2"));
	cairn_free(js);
	cairn_run_free(r);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_argv_forms),
	    cmocka_unit_test(test_argv_floats_stay_floats),
	    cmocka_unit_test(test_argv_repeated_and_bare),
	    cmocka_unit_test(test_argv_interpreters),
	    cmocka_unit_test(test_argv_secrets),
	    cmocka_unit_test(test_command_line_quoting),
	    cmocka_unit_test(test_secret_names_and_masking),
	    cmocka_unit_test(test_yaml_flatten),
	    cmocka_unit_test(test_yaml_malformed),
	    cmocka_unit_test(test_json_flatten),
	    cmocka_unit_test(test_argv_finds_configs),
	    cmocka_unit_test(test_log_params_and_config),
	    cmocka_unit_test(test_mask_bounded_text),
	    cmocka_unit_test(test_config_params_masked),
	    cmocka_unit_test(test_config_snapshot_masked),
	    cmocka_unit_test(test_log_config_masked),
	    cmocka_unit_test(test_notebook_code),
	    cmocka_unit_test(test_argv_parse_typed),
	    cmocka_unit_test(test_command_line_split),
	    cmocka_unit_test(test_config_flatten_typed),
	    cmocka_unit_test(test_argv_args_start),
	    cmocka_unit_test(test_set_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
