/*
 * tests/unit/test-capture-code.c — code capture through the library: git
 * snapshots (staged, unstaged, untracked, deleted, notebooks, links, modes),
 * checkout byte for byte, self-containment once the repository is gone, the
 * size cap, --require-clean, directory snapshots outside git, diffs, damaged
 * manifests, and the environment record's secret rules.
 */
#include "unit.h"

#include <stdarg.h>
#include <sys/stat.h>

#include "util/json.h"

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
}

static int sh_rc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh_rc(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	return system(cmd);
}

#define GIT                                                                                        \
	"git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main -c "            \
	"advice.detachedHead=false"

static int setup(void **state)
{
	(void)state;
	/* no global or system git configuration */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	unsetenv("CAIRN_SNAPSHOT_MAX");
	return 0;
}

/* Capture code (and env when asked) of a fresh run in dir; returns the run. */
static cairn_run *capture(unit_store *u, const char *dir, int64_t cap, int env, char **report)
{
	cairn_run *r = NULL;
	cairn_capture_options o = CAIRN_CAPTURE_OPTIONS_INIT;
	o.cwd = dir;
	o.env = env;
	o.snapshot_max_bytes = cap;
	assert_ok(cairn_run_create(&r, u->s, NULL));
	assert_ok(cairn_run_capture_report(report, r, &o));
	return r;
}

static json_doc *parse(const char *text)
{
	char err[128];
	json_doc *d = json_parse(text, strlen(text), NULL, err, sizeof err);
	if (!d)
		fail_msg("bad JSON: %s", err);
	return d;
}

static const char nb_v1[] = "{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"code\", \"source\": "
                            "[\"x = 1\\n\"], \"outputs\": [{\"text\": \"run one\"}]}]}";
static const char nb_v1_rerun[] = "{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"code\", "
                                  "\"source\": [\"x = 1\\n\"], \"outputs\": [{\"text\": \"run "
                                  "two\"}]}]}";
static const char nb_v2[] = "{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"code\", \"source\": "
                            "[\"x = 2\\n\"], \"outputs\": []}]}";

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A repository with every kind of change. */
static void make_repo(const char *repo)
{
	sh("mkdir -p %s && cd %s && " GIT " init -q . && mkdir -p src sub/deep && "
	   "printf 'print(1)\\n' > train.py && printf 'x = 1\\n' > src/model.py && "
	   "printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod +x run.sh && "
	   "ln -s src/model.py link.py && printf 'gone\\n' > old.txt && printf 'keep\\n' > "
	   "sub/deep/k.txt && printf '*.log\\n' > .gitignore && "
	   "printf 'a: 1\\n' > cfg.yaml && " GIT " add -A && " GIT " commit -qm one",
	   repo, repo);
	write_file(repo, "nb.ipynb", nb_v1);
	sh("cd %s && " GIT " add nb.ipynb && " GIT " commit -qm two && "
	   "printf 'x = 2\\n' > src/model.py && "                        /* unstaged */
	   "printf 'print(2)\\n' > train.py && " GIT " add train.py && " /* staged */
	   "printf 'print(3)\\n' >> train.py && "                        /* and then unstaged */
	   "printf 'new\\n' > src/new.py && " GIT " add src/new.py && "  /* added */
	   "mkdir -p fresh/dir && printf 'u\\n' > fresh/dir/u.py && "    /* untracked */
	   "rm old.txt && "                                              /* deleted */
	   "printf 'ignored\\n' > debug.log && "                         /* ignored */
	   "printf 'SECRET=s3cr3t-env-file\\n' > .env && "               /* secret */
	   "ln -s ../train.py sub/up.py",                                /* untracked link */
	   repo);
}

static void test_git_snapshot_checkout(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char repo[4200], out[4200], sub[4200];
	snprintf(repo, sizeof repo, "%s/repo", u.dir);
	snprintf(out, sizeof out, "%s/out", u.dir);
	snprintf(sub, sizeof sub, "%s/sub", repo);
	make_repo(repo);
	char *report = NULL;
	cairn_run *r = capture(&u, sub, 0, 0, &report);
	json_doc *d = parse(report);
	const json *code = json_get(json_root(d), "code");
	assert_string_equal(json_get_str(code, "vcs"), "git");
	assert_string_equal(json_get_str(code, "branch"), "main");
	assert_int_equal(strlen(json_get_str(code, "commit")), 40);
	assert_true(json_get(code, "dirty")->b);
	assert_int_equal(json_get(code, "deleted")->i, 1);
	assert_non_null(strstr(report, ".env")); /* warned about */
	json_doc_free(d);
	cairn_free(report);

	char *rep = NULL;
	assert_ok(cairn_code_checkout_ext(&rep, u.s, cairn_run_id(r), out, NULL));
	d = parse(rep);
	assert_string_equal(json_get_str(json_root(d), "subdir"), "sub");
	assert_int_equal(json_get(json_root(d), "secret")->len, 1);
	json_doc_free(d);
	cairn_free(rep);
	/* byte for byte, modes and links included; ignored and secret files are not there */
	sh("diff -r -x .git -x debug.log -x .env %s %s", repo, out);
	sh("test -x %s/run.sh && test -L %s/link.py && test \"$(readlink %s/link.py)\" = "
	   "src/model.py"
	   " && test \"$(readlink %s/sub/up.py)\" = ../train.py",
	   out, out, out, out);
	sh("test ! -e %s/old.txt && test ! -e %s/debug.log && test ! -e %s/.env", out, out, out);
	/* the secret file's content is nowhere in the store */
	assert_false(unit_store_holds(&u, "s3cr3t-env-file"));
	/* the target must be empty */
	assert_int_equal(cairn_code_checkout(u.s, cairn_run_id(r), out), CAIRN_EEXISTS);
	cairn_run_free(r);
	unit_store_close(&u);
}

/* cairn_run_code_copy: a second run gets the first's code version, and a
 * purge of the first leaves the second's snapshot whole. */
static void test_code_copy(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char repo[4200], out[4200];
	snprintf(repo, sizeof repo, "%s/repo", u.dir);
	snprintf(out, sizeof out, "%s/out", u.dir);
	make_repo(repo);
	cairn_run *a = capture(&u, repo, 0, 0, NULL), *b = NULL;
	char ida[33];
	snprintf(ida, sizeof ida, "%s", cairn_run_id(a));
	assert_ok(cairn_run_create(&b, u.s, NULL));
	assert_ok(cairn_run_code_copy(b, ida));
	cairn_run_record *ra = NULL, *rb = NULL;
	assert_ok(cairn_run_record_get(&ra, u.s, ida, 0));
	assert_ok(cairn_run_record_get(&rb, u.s, cairn_run_id(b), 0));
	const cairn_run_code *ca = cairn_run_record_code(ra), *cb = cairn_run_record_code(rb);
	assert_string_equal(ca->commit, cb->commit);
	assert_string_equal(ca->branch, cb->branch);
	assert_string_equal(ca->snapshot, cb->snapshot);
	assert_int_equal(ca->dirty, cb->dirty);
	cairn_run_record_free(ra);
	cairn_run_record_free(rb);
	cairn_run_free(a);
	assert_ok(cairn_run_delete(u.s, ida, 1));
	assert_ok(cairn_code_checkout(u.s, cairn_run_id(b), out));
	sh("diff -r -x .git -x debug.log -x .env %s %s", repo, out);
	/* a run without a snapshot has nothing to copy */
	cairn_run *c = NULL;
	assert_ok(cairn_run_create(&c, u.s, NULL));
	assert_int_equal(cairn_run_code_copy(b, cairn_run_id(c)), CAIRN_ENOTFOUND);
	assert_int_equal(cairn_run_code_copy(b, "nosuchrun"), CAIRN_ENOTFOUND);
	cairn_run_free(c);
	cairn_run_free(b);
	unit_store_close(&u);
}

/* cairn_env_capture_json and cairn_env_diff_new: the document a run would
 * record, compared with itself and with a changed copy. */
static void test_env_json_diff(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_capture_options o = CAIRN_CAPTURE_OPTIONS_INIT;
	o.packages_json = "{\"numpy\": \"1.26\"}";
	char *now = NULL;
	assert_ok(cairn_env_capture_json(&now, u.s, &o));
	json_doc *d = parse(now);
	assert_non_null(json_get_str(json_root(d), "os"));
	json_doc_free(d);
	cairn_run_diff *df = NULL;
	assert_ok(cairn_env_diff_new(&df, now, now));
	assert_true(cairn_run_diff_env_same(df));
	assert_true(cairn_run_diff_env_recorded(df, 0));
	cairn_run_diff_free(df);
	char *other = strdup(now);
	char *v = strstr(other, "\"1.26\"");
	assert_non_null(v);
	memcpy(v + 1, "2.00", 4);
	assert_ok(cairn_env_diff_new(&df, now, other));
	assert_false(cairn_run_diff_env_same(df));
	assert_int_equal(cairn_run_diff_count(df, CAIRN_DIFF_ENV_PACKAGES), 1);
	const cairn_diff_entry *e = cairn_run_diff_entry(df, CAIRN_DIFF_ENV_PACKAGES, 0);
	assert_string_equal(e->key, "numpy");
	assert_string_equal(e->a.s, "1.26");
	assert_string_equal(e->b.s, "2.00");
	cairn_run_diff_free(df);
	assert_ok(cairn_env_diff_new(&df, NULL, now));
	assert_false(cairn_run_diff_env_recorded(df, 0));
	cairn_run_diff_free(df);
	/* nothing was stored */
	assert_int_not_equal(sh_rc("grep -rq numpy %s", u.objects), 0);
	free(other);
	cairn_free(now);
	unit_store_close(&u);
}

static void test_self_contained(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char repo[4200], copy[4200], out[4200];
	snprintf(repo, sizeof repo, "%s/repo", u.dir);
	snprintf(copy, sizeof copy, "%s/copy", u.dir);
	snprintf(out, sizeof out, "%s/out", u.dir);
	make_repo(repo);
	cairn_run *r = capture(&u, repo, 0, 0, NULL);
	/* the commit was never pushed; now the repository is gone altogether */
	sh("cp -a %s %s && rm -rf %s", repo, copy, repo);
	assert_ok(cairn_code_checkout(u.s, cairn_run_id(r), out));
	sh("diff -r -x .git -x debug.log -x .env %s %s", copy, out);
	cairn_run_free(r);
	unit_store_close(&u);
}

static int count_objects(const char *objects)
{
	char cmd[4300];
	snprintf(cmd, sizeof cmd, "find %s -type f ! -path '%s/tmp/*' | wc -l", objects, objects);
	FILE *f = popen(cmd, "r");
	int n = -1;
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

static void test_base_reused(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char repo[4200];
	snprintf(repo, sizeof repo, "%s/repo", u.dir);
	sh("mkdir -p %s && cd %s && " GIT
	   " init -q . && for i in 1 2 3 4 5 6 7 8; do echo $i > f$i.py;"
	   " done && " GIT " add -A && " GIT " commit -qm c",
	   repo, repo);
	cairn_run *r1 = capture(&u, repo, 0, 0, NULL);
	int n1 = count_objects(u.objects);
	cairn_run *r2 = capture(&u, repo, 0, 0, NULL);
	/* same tree, same record: nothing new at all */
	assert_int_equal(count_objects(u.objects), n1);
	/* one file changed and committed: its blob, a new manifest, a new record */
	sh("cd %s && echo changed > f1.py && " GIT " commit -qam c2", repo);
	cairn_run *r3 = capture(&u, repo, 0, 0, NULL);
	assert_int_equal(count_objects(u.objects), n1 + 3);
	char *diff = NULL;
	assert_ok(cairn_code_diff(&diff, u.s, cairn_run_id(r1), cairn_run_id(r2)));
	assert_string_equal(diff, "");
	cairn_free(diff);
	assert_ok(cairn_code_diff(&diff, u.s, cairn_run_id(r1), cairn_run_id(r3)));
	assert_non_null(strstr(diff, "--- a/f1.py"));
	assert_non_null(strstr(diff, "-1\n+changed\n"));
	cairn_free(diff);
	cairn_run_free(r1);
	cairn_run_free(r2);
	cairn_run_free(r3);
	unit_store_close(&u);
}

static void test_require_clean(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char repo[4200], plain[4200];
	snprintf(repo, sizeof repo, "%s/repo", u.dir);
	snprintf(plain, sizeof plain, "%s/plain", u.dir);
	sh("mkdir -p %s %s && cd %s && " GIT " init -q . && echo a > a.py && " GIT " add -A && " GIT
	   " commit -qm c",
	   repo, plain, repo);
	cairn_capture_options o = CAIRN_CAPTURE_OPTIONS_INIT;
	o.cwd = repo;
	o.env = 0;
	o.require_clean = 1;
	cairn_run *r = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_run_capture(r, &o)); /* clean: fine */
	cairn_run_free(r);
	sh("echo b > %s/untracked.py", repo);
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_int_equal(cairn_run_capture(r, &o), CAIRN_EDIRTY);
	assert_non_null(strstr(cairn_error_last(), "untracked.py"));
	char *js = NULL;
	assert_ok(cairn_run_get_json(&js, u.s, cairn_run_id(r)));
	assert_non_null(strstr(js, "\"code\":null")); /* nothing recorded */
	cairn_free(js);
	cairn_run_free(r);
	/* outside git there is no clean state to require */
	o.cwd = plain;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_int_equal(cairn_run_capture(r, &o), CAIRN_EDIRTY);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_size_cap(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char repo[4200], out[4200], out2[4200];
	snprintf(repo, sizeof repo, "%s/repo", u.dir);
	snprintf(out, sizeof out, "%s/out", u.dir);
	snprintf(out2, sizeof out2, "%s/out2", u.dir);
	sh("mkdir -p %s && cd %s && " GIT
	   " init -q . && echo small > s.py && head -c 5000 /dev/zero"
	   " | tr '\\0' c > committed.bin && " GIT " add -A && " GIT " commit -qm c && "
	   "head -c 3000 /dev/zero | tr '\\0' u > big.dat && echo tiny > t.py",
	   repo, repo);
	char *report = NULL;
	cairn_run *r = capture(&u, repo, 1000, 0, &report);
	/* the run is kept; what did not fit is named */
	assert_non_null(strstr(report, "big.dat"));
	assert_non_null(strstr(report, "committed file"));
	cairn_free(report);
	/* the big file's digest is remembered by its stat, not re-read each run */
	char *n = unit_store_sql(&u, "SELECT count(*) FROM hash_cache WHERE algo = "
	                             "'capture-xxh128' AND digest LIKE 'xxh128:%'");
	assert_string_equal(n, "1\n");
	free(n);
	cairn_run *again = capture(&u, repo, 1000, 0, NULL);
	cairn_run_free(again);
	/* committed.bin comes back from the repository, big.dat cannot */
	char *rep = NULL;
	assert_int_equal(cairn_code_checkout_ext(&rep, u.s, cairn_run_id(r), out, NULL),
	                 CAIRN_ENOTFOUND);
	assert_non_null(strstr(cairn_error_last(), "big.dat"));
	json_doc *d = parse(rep);
	assert_int_equal(json_get(json_root(d), "missing")->len, 1);
	json_doc_free(d);
	cairn_free(rep);
	sh("cmp %s/committed.bin %s/committed.bin && cmp %s/t.py %s/t.py && test ! -e %s/big.dat",
	   repo, out, repo, out, out);
	/* without the repository, the committed file is missing too */
	cairn_checkout_options co = CAIRN_CHECKOUT_OPTIONS_INIT;
	co.repo = "/nonexistent";
	assert_int_equal(cairn_code_checkout_ext(NULL, u.s, cairn_run_id(r), out2, &co),
	                 CAIRN_ENOTFOUND);
	assert_non_null(strstr(cairn_error_last(), "2 files"));
	/* the typed report says the same, and is there when files are missing */
	char out3[4300];
	snprintf(out3, sizeof out3, "%s3", out2);
	cairn_checkout_report *cr = NULL;
	assert_int_equal(cairn_code_checkout_report(&cr, u.s, cairn_run_id(r), out3, &co),
	                 CAIRN_ENOTFOUND);
	assert_non_null(cr);
	assert_int_equal(cairn_checkout_report_missing_count(cr), 2);
	assert_non_null(cairn_checkout_report_missing(cr, 0));
	assert_null(cairn_checkout_report_missing(cr, 2));
	assert_string_equal(cairn_checkout_report_vcs(cr), "git");
	assert_int_equal(strlen(cairn_checkout_report_commit(cr)), 40);
	assert_true(cairn_checkout_report_files(cr) > 0);
	assert_int_equal(cairn_checkout_report_secret_count(cr), 0);
	cairn_checkout_report_free(cr);
	/* a target that is not empty: an error and no report */
	cr = (cairn_checkout_report *)1;
	assert_int_equal(cairn_code_checkout_report(&cr, u.s, cairn_run_id(r), out3, NULL),
	                 CAIRN_EEXISTS);
	assert_null(cr);
	assert_int_equal(cairn_code_checkout_report(&cr, u.s, "nosuchrun", out3, NULL),
	                 CAIRN_ENOTFOUND);
	assert_null(cr);
	cairn_checkout_report_free(NULL);
	assert_int_equal(cairn_checkout_report_files(NULL), 0);
	assert_null(cairn_checkout_report_subdir(NULL));
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_not_git(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char dir[4200], out[4200];
	snprintf(dir, sizeof dir, "%s/proj", u.dir);
	snprintf(out, sizeof out, "%s/out", u.dir);
	sh("mkdir -p %s/pkg %s/__pycache__ %s/.hidden %s/venv && cd %s && echo a > train.py && "
	   "echo b > pkg/m.py && echo c > notes.md && head -c 100 /dev/zero > data.bin && "
	   "echo d > __pycache__/x.py && echo e > .hidden/y.py && touch venv/pyvenv.cfg && "
	   "echo f > venv/z.py && head -c 5000000 /dev/zero > big.txt",
	   dir, dir, dir, dir, dir);
	char *report = NULL;
	cairn_run *r = capture(&u, dir, 0, 0, &report);
	json_doc *d = parse(report);
	const json *code = json_get(json_root(d), "code");
	assert_string_equal(json_get_str(code, "vcs"), "none");
	assert_int_equal(json_get(code, "files")->i, 3);
	assert_non_null(strstr(report, "taken for data")); /* big.txt */
	json_doc_free(d);
	cairn_free(report);
	char *js = NULL;
	assert_ok(cairn_run_get_json(&js, u.s, cairn_run_id(r)));
	d = parse(js);
	code = json_get(json_root(d), "code");
	assert_int_equal(json_get(code, "commit")->type, JSON_NULL);
	assert_int_equal(strlen(json_get_str(code, "snapshot")), 64);
	json_doc_free(d);
	cairn_free(js);
	assert_ok(cairn_code_checkout(u.s, cairn_run_id(r), out));
	sh("cmp %s/train.py %s/train.py && cmp %s/pkg/m.py %s/pkg/m.py && test -f %s/notes.md && "
	   "test ! -e %s/data.bin && test ! -e %s/__pycache__ && test ! -e %s/.hidden && "
	   "test ! -e %s/venv",
	   dir, out, dir, out, out, out, out, out, out);
	cairn_run_free(r);
	/* source_globs choose the files instead of the extensions */
	cairn_capture_options o = CAIRN_CAPTURE_OPTIONS_INIT;
	const char *globs[] = {"*.bin", "pkg/*.py"};
	o.cwd = dir;
	o.env = 0;
	o.source_globs = globs;
	o.nsource_globs = 2;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_run_capture_report(&report, r, &o));
	d = parse(report);
	assert_int_equal(json_get(json_get(json_root(d), "code"), "files")->i, 2);
	json_doc_free(d);
	cairn_free(report);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_code_diff_notebooks(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char repo[4200];
	snprintf(repo, sizeof repo, "%s/repo", u.dir);
	sh("mkdir -p %s && cd %s && " GIT " init -q . && printf 'a = 1\\n' > a.py", repo, repo);
	write_file(repo, "nb.ipynb", nb_v1);
	sh("cd %s && " GIT " add -A && " GIT " commit -qm c", repo);
	cairn_run *r1 = capture(&u, repo, 0, 0, NULL);
	/* outputs changed, code did not; a.py changed; c.py new */
	write_file(repo, "nb.ipynb", nb_v1_rerun);
	sh("cd %s && printf 'a = 2\\n' > a.py && printf 'c\\n' > c.py", repo);
	cairn_run *r2 = capture(&u, repo, 0, 0, NULL);
	char *diff = NULL;
	assert_ok(cairn_code_diff(&diff, u.s, cairn_run_id(r1), cairn_run_id(r2)));
	assert_non_null(strstr(diff, "diff --git a/a.py b/a.py"));
	assert_non_null(strstr(diff, "-a = 1\n+a = 2\n"));
	assert_non_null(strstr(diff, "+++ b/c.py"));
	assert_null(strstr(diff, "nb.ipynb"));
	cairn_free(diff);
	/* now the code changes: the diff shows code, not JSON */
	write_file(repo, "nb.ipynb", nb_v2);
	cairn_run *r3 = capture(&u, repo, 0, 0, NULL);
	assert_ok(cairn_code_diff(&diff, u.s, cairn_run_id(r2), cairn_run_id(r3)));
	assert_non_null(strstr(diff, "diff --git a/nb.ipynb b/nb.ipynb"));
	assert_non_null(strstr(diff, "-x = 1\n+x = 2\n"));
	assert_null(strstr(diff, "outputs"));
	cairn_free(diff);
	/* a mode change alone */
	sh("cd %s && chmod +x c.py", repo);
	cairn_run *r4 = capture(&u, repo, 0, 0, NULL);
	assert_ok(cairn_code_diff(&diff, u.s, cairn_run_id(r3), cairn_run_id(r4)));
	assert_string_equal(diff, "diff --git a/c.py b/c.py\nold mode 100644\nnew mode 100755\n");
	cairn_free(diff);
	/* a run without code */
	cairn_run *bare = NULL;
	assert_ok(cairn_run_create(&bare, u.s, NULL));
	assert_int_equal(cairn_code_diff(&diff, u.s, cairn_run_id(r1), cairn_run_id(bare)),
	                 CAIRN_ENOTFOUND);
	cairn_run_free(r1);
	cairn_run_free(r2);
	cairn_run_free(r3);
	cairn_run_free(r4);
	cairn_run_free(bare);
	unit_store_close(&u);
}

static void test_store_inside_repo(void **state)
{
	(void)state;
	char *dir = unit_tmpdir();
	char *sd = NULL;
	cairn_store *s = NULL;
	sh("cd %s && " GIT " init -q . && echo a > a.py && " GIT " add -A && " GIT " commit -qm c",
	   dir);
	assert_ok(cairn_store_init(&sd, dir));
	assert_ok(cairn_store_open(&s, sd));
	cairn_run *r = NULL;
	cairn_capture_options o = CAIRN_CAPTURE_OPTIONS_INIT;
	o.cwd = dir;
	o.env = 0;
	char *report = NULL;
	assert_ok(cairn_run_create(&r, s, NULL));
	assert_ok(cairn_run_capture_report(&report, r, &o));
	/* the store itself is not a change of the tree */
	json_doc *d = parse(report);
	assert_false(json_get(json_get(json_root(d), "code"), "dirty")->b);
	json_doc_free(d);
	cairn_free(report);
	cairn_run_free(r);
	cairn_store_close(s);
	cairn_free(sd);
	unit_rmrf(dir);
	free(dir);
}

static void test_remote_detached_unborn(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char repo[4200], out[4200];
	snprintf(repo, sizeof repo, "%s/repo", u.dir);
	snprintf(out, sizeof out, "%s/out", u.dir);
	/* unborn: no commit yet, everything untracked */
	sh("mkdir -p %s && cd %s && " GIT " init -q . && echo a > a.py", repo, repo);
	char *report = NULL;
	cairn_run *r = capture(&u, repo, 0, 0, &report);
	json_doc *d = parse(report);
	const json *code = json_get(json_root(d), "code");
	assert_int_equal(json_get(code, "commit")->type, JSON_NULL);
	assert_string_equal(json_get_str(code, "branch"), "main");
	json_doc_free(d);
	cairn_free(report);
	assert_ok(cairn_code_checkout(u.s, cairn_run_id(r), out));
	sh("cmp %s/a.py %s/a.py", repo, out);
	cairn_run_free(r);
	/* a remote with credentials in its URL; a detached HEAD */
	sh("cd %s && " GIT " add -A && " GIT " commit -qm c && " GIT " remote add origin "
	   "https://bob:hunter2@example.com/x.git && " GIT " checkout -q --detach",
	   repo);
	r = capture(&u, repo, 0, 0, &report);
	assert_null(strstr(report, "hunter2"));
	d = parse(report);
	code = json_get(json_root(d), "code");
	assert_string_equal(json_get_str(code, "remote"), "https://example.com/x.git");
	assert_string_equal(json_get_str(code, "branch"), "(detached)");
	json_doc_free(d);
	cairn_free(report);
	char *js = NULL;
	assert_ok(cairn_run_get_json(&js, u.s, cairn_run_id(r)));
	assert_non_null(strstr(js, "\"remote\":\"https://example.com/x.git\""));
	cairn_free(js);
	assert_true(unit_store_holds(&u, "example.com/x.git")); /* the search finds what is there */
	assert_false(unit_store_holds(&u, "hunter2"));
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_damaged_manifest(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char oid[65], out[4200];
	snprintf(out, sizeof out, "%s/out", u.dir);
	const char *rec = "{\"format\":1,\"vcs\":\"none\",\"base\":null,\"changes\":["
	                  "{\"path\":\"../evil\",\"mode\":\"100644\",\"status\":\"file\"}]}";
	assert_ok(cairn_object_put_buf(oid, u.s, rec, strlen(rec)));
	cairn_run *r = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	char sql[256];
	snprintf(sql, sizeof sql, "UPDATE runs SET code_oid = '%s' WHERE id = '%s'", oid,
	         cairn_run_id(r));
	free(unit_store_sql(&u, sql));
	assert_int_equal(cairn_code_checkout(u.s, cairn_run_id(r), out), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "../evil"));
	sh("test ! -e %s/evil", u.dir);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_environment(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/proj", u.dir);
	sh("mkdir -p %s && cd %s && echo 'numpy==1.0' > requirements.txt && echo 'all:' > Makefile"
	   " && echo x > other.txt",
	   dir, dir);
	setenv("CUDA_VISIBLE_DEVICES", "0,1", 1);
	setenv("CUDA_AUTH_TOKEN", "s3cr3t-allowlisted-but-secret", 1);
	setenv("MY_API_TOKEN", "s3cr3t-not-allowlisted", 1);
	setenv("MYAPP_MODE", "fast", 1);
	setenv("PYTHONPATH", "https://user:s3cr3t-in-url@host/lib", 1);
	setenv("CAIRN_ENV_ALLOW", "MYAPP_*", 1);
	cairn_capture_options o = CAIRN_CAPTURE_OPTIONS_INIT;
	o.cwd = dir;
	o.code = 0;
	o.packages_json = "{\"torch\": \"2.1.0\", \"numpy\": \"1.26.0\"}";
	cairn_run *r = NULL;
	char *report = NULL, *js = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_run_capture_report(&report, r, &o));
	cairn_free(report);
	assert_ok(cairn_run_get_json(&js, u.s, cairn_run_id(r)));
	json_doc *d = parse(js);
	const json *env = json_get(json_root(d), "environment");
	assert_non_null(env);
	static const char *const keys[] = {
	    "os",   "kernel", "arch",   "cpu",      "cpu_count", "memory_bytes", "hostname",
	    "user", "gpus",   "python", "packages", "files",     "env_vars"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!json_get(env, keys[i]))
			fail_msg("environment has no '%s'", keys[i]);
	assert_int_equal(json_get(env, "gpus")->type, JSON_ARR);
	assert_string_equal(json_get_str(json_get(env, "packages"), "torch"), "2.1.0");
	const json *vars = json_get(env, "env_vars");
	assert_string_equal(json_get_str(vars, "CUDA_VISIBLE_DEVICES"), "0,1");
	assert_string_equal(json_get_str(vars, "MYAPP_MODE"), "fast");
	assert_null(json_get(vars, "CUDA_AUTH_TOKEN"));
	assert_null(json_get(vars, "MY_API_TOKEN"));
	assert_string_equal(json_get_str(vars, "PYTHONPATH"), "https://***@host/lib");
	const json *files = json_get(env, "files");
	assert_int_equal(files->len, 2); /* Makefile, requirements.txt */
	assert_string_equal(json_get_str(files->child, "path"), "Makefile");
	assert_int_equal(strncmp(json_get_str(files->child, "digest"), "sha256:", 7), 0);
	bool art = false;
	for (const json *a = json_get(json_root(d), "artifacts")->child; a; a = a->next)
		art = art || (strcmp(json_get_str(a, "path"), "env/requirements.txt") == 0 &&
		              strcmp(json_get_str(a, "kind"), "env") == 0);
	assert_true(art);
	json_doc_free(d);
	cairn_free(js);
	/* no secret value anywhere in the store */
	assert_false(unit_store_holds(&u, "s3cr3t"));
	unsetenv("CUDA_AUTH_TOKEN");
	unsetenv("MY_API_TOKEN");
	unsetenv("MYAPP_MODE");
	unsetenv("CAIRN_ENV_ALLOW");
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_python_detection(void **state)
{
	(void)state;
	char *dir = unit_tmpdir(), *py = NULL;
	assert_ok(cairn_command_python(&py, "/usr/bin/python3.11"));
	assert_string_equal(py, "/usr/bin/python3.11");
	cairn_free(py);
	assert_ok(cairn_command_python(&py, "/bin/sh"));
	assert_null(py);
	write_file(dir, "tool", "#!/opt/venv/bin/python3 -u\nprint(1)\n");
	char p[4200];
	snprintf(p, sizeof p, "%s/tool", dir);
	assert_ok(cairn_command_python(&py, p));
	assert_string_equal(py, "/opt/venv/bin/python3");
	cairn_free(py);
	write_file(dir, "script.sh", "#!/bin/bash\necho\n");
	snprintf(p, sizeof p, "%s/script.sh", dir);
	assert_ok(cairn_command_python(&py, p));
	assert_null(py);
	unit_rmrf(dir);
	free(dir);
}

/* The typed report says what the JSON one says: the same warnings, in order,
 * and the environment's object id. */
static void test_capture_ext(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/proj", u.dir);
	sh("mkdir -p %s && cd %s && echo a > train.py && head -c 5000000 /dev/zero > big.txt", dir,
	   dir);
	cairn_capture_options o = CAIRN_CAPTURE_OPTIONS_INIT;
	o.cwd = dir;
	o.env = 0;
	cairn_run *r = NULL;
	cairn_capture_report *rep = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_run_capture_ext(&rep, r, &o));
	assert_true(cairn_capture_report_warning_count(rep) >= 1);
	assert_non_null(strstr(cairn_capture_report_warning(rep, 0), "taken for data"));
	assert_null(cairn_capture_report_warning(rep, cairn_capture_report_warning_count(rep)));
	assert_null(cairn_capture_report_environment(rep)); /* env = 0 */
	char *js = NULL;
	cairn_run *r2 = NULL;
	assert_ok(cairn_run_create(&r2, u.s, NULL));
	assert_ok(cairn_run_capture_report(&js, r2, &o));
	json_doc *d = parse(js);
	const json *w = json_get(json_root(d), "warnings");
	assert_int_equal(w->len, cairn_capture_report_warning_count(rep));
	size_t i = 0;
	for (const json *x = w->child; x; x = x->next, i++)
		assert_string_equal(x->str, cairn_capture_report_warning(rep, i));
	json_doc_free(d);
	cairn_free(js);
	cairn_capture_report_free(rep);
	/* no report wanted; a NULL run; NULL-safe accessors and free */
	assert_ok(cairn_run_capture_ext(NULL, r2, &o));
	rep = (cairn_capture_report *)1;
	assert_int_equal(cairn_run_capture_ext(&rep, NULL, &o), CAIRN_EINVALID);
	assert_null(rep);
	assert_int_equal(cairn_capture_report_warning_count(NULL), 0);
	assert_null(cairn_capture_report_warning(NULL, 0));
	assert_null(cairn_capture_report_environment(NULL));
	cairn_capture_report_free(NULL);
	/* the environment's id, when captured */
	o.code = 0;
	o.env = 1;
	assert_ok(cairn_run_capture_ext(&rep, r, &o));
	assert_int_equal(strlen(cairn_capture_report_environment(rep)), 64);
	cairn_capture_report_free(rep);
	cairn_run_free(r2);
	cairn_run_free(r);
	unit_store_close(&u);
}

/* cairn_code_tracked: the index's files are tracked, untracked, ignored and
 * outside files are not; the root is the work tree's, from a subfolder too;
 * outside git there is no root and nothing is tracked. */
static void test_tracked(void **state)
{
	(void)state;
	char *base = unit_tmpdir();
	char dir[4200], sub[4200];
	snprintf(dir, sizeof dir, "%s/proj", base);
	snprintf(sub, sizeof sub, "%s/proj/src", base);
	sh("mkdir -p %s/src %s/data %s/out && cd %s && " GIT " init -q . && echo a > src/t.py && "
	   "echo b > data/tracked.csv && echo c > data/new.csv && echo out/ > .gitignore && "
	   "echo d > out/x && " GIT " add src/t.py data/tracked.csv .gitignore && " GIT
	   " commit -qm one && echo e > staged.txt && " GIT " add staged.txt",
	   dir, dir, dir, dir);
	char p[6][4300];
	snprintf(p[0], sizeof p[0], "%s/src/t.py", dir);
	snprintf(p[1], sizeof p[1], "%s/data/tracked.csv", dir);
	snprintf(p[2], sizeof p[2], "%s/data/new.csv", dir);
	snprintf(p[3], sizeof p[3], "%s/out/x", dir);
	snprintf(p[4], sizeof p[4], "%s/staged.txt", dir);
	snprintf(p[5], sizeof p[5], "%s/elsewhere", base);
	const char *paths[6] = {p[0], p[1], p[2], p[3], p[4], p[5]};
	int tr[6];
	char *root = NULL;
	assert_ok(cairn_code_tracked(&root, tr, paths, 6, sub));
	assert_non_null(root);
	assert_string_equal(root, dir);
	int want[6] = {1, 1, 0, 0, 1, 0};
	for (int i = 0; i < 6; i++)
		assert_int_equal(tr[i], want[i]);
	cairn_free(root);
	/* no paths: only the root */
	assert_ok(cairn_code_tracked(&root, NULL, NULL, 0, dir));
	assert_string_equal(root, dir);
	cairn_free(root);
	/* outside git */
	char plain[4200];
	snprintf(plain, sizeof plain, "%s/plain", base);
	sh("mkdir -p %s && echo x > %s/f", plain, plain);
	snprintf(p[0], sizeof p[0], "%s/f", plain);
	tr[0] = 7;
	root = (char *)"unchanged";
	assert_ok(cairn_code_tracked(&root, tr, paths, 1, plain));
	assert_null(root);
	assert_int_equal(tr[0], 0);
	/* bad arguments */
	assert_int_equal(cairn_code_tracked(NULL, NULL, paths, 1, plain), CAIRN_EINVALID);
	snprintf(plain, sizeof plain, "%s/missing", base);
	assert_int_equal(cairn_code_tracked(NULL, tr, paths, 1, plain), CAIRN_EIO);
	unit_rmrf(base);
	free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_git_snapshot_checkout),
	    cmocka_unit_test(test_self_contained),
	    cmocka_unit_test(test_code_copy),
	    cmocka_unit_test(test_env_json_diff),
	    cmocka_unit_test(test_base_reused),
	    cmocka_unit_test(test_require_clean),
	    cmocka_unit_test(test_size_cap),
	    cmocka_unit_test(test_not_git),
	    cmocka_unit_test(test_code_diff_notebooks),
	    cmocka_unit_test(test_store_inside_repo),
	    cmocka_unit_test(test_remote_detached_unborn),
	    cmocka_unit_test(test_damaged_manifest),
	    cmocka_unit_test(test_environment),
	    cmocka_unit_test(test_python_detection),
	    cmocka_unit_test(test_capture_ext),
	    cmocka_unit_test(test_tracked),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
