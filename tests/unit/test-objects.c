/*
 * tests/unit/test-objects.c — objects, references and purge when they race
 * (docs/internals/store.md, "Objects, references and purge").
 *
 * Writing an object and recording a reference to it are two steps, and so
 * are a purge's commit and its removal of the files.  For every kind of
 * object a run references — artifact files, directories and buffers, images,
 * streamed logs, dataset manifests, the environment record and its files,
 * code snapshots (directory and git, with the code map) — a purge of another
 * run holding the same bytes is made to fall exactly into each window: the
 * store's test hook stops one side between its two steps while a second
 * store handle (a second connection, as another process would have) does
 * the other side's work.  Then no reference may name a missing file.  After
 * that, threads race for real (bounded), and child processes die between
 * the steps: a crash leaves unreferenced files, never a dangling reference.
 * Deleting an artifact drops its record and keeps the run's references, so
 * the files stay until the run is purged.
 */
#include "unit.h"

#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lib/store/store.h"

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

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

#define GIT                                                                                        \
	"git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main -c "            \
	"advice.detachedHead=false"

static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3};

/* --- the invariant ---------------------------------------------------------------- */

/* Object files under the objects directory (not its tmp/). */
static int count_objects(const unit_store *u)
{
	const char *p = u->objects;
	DIR *d = opendir(p);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strlen(e->d_name) != 2)
			continue;
		char sub[4300];
		snprintf(sub, sizeof sub, "%s/%s", p, e->d_name);
		DIR *d2 = opendir(sub);
		struct dirent *f;
		while (d2 && (f = readdir(d2)))
			n += f->d_name[0] != '.';
		if (d2)
			closedir(d2);
	}
	if (d)
		closedir(d);
	return n;
}

static bool object_file_exists(const unit_store *u, const char *oid)
{
	char p[4300];
	struct stat st;
	snprintf(p, sizeof p, "%s/%.2s/%s", u->objects, oid, oid + 2);
	return stat(p, &st) == 0;
}

/* Every object a record names is there; returns how many were checked. */
static int assert_no_dangling(const unit_store *u)
{
	static const char *const sql[] = {
	    "SELECT oid FROM object_refs",
	    "SELECT oid FROM artifacts",
	    "SELECT manifest_oid FROM datasets WHERE manifest_oid IS NOT NULL",
	    "SELECT code_oid FROM runs WHERE code_oid IS NOT NULL",
	    "SELECT env_oid FROM runs WHERE env_oid IS NOT NULL",
	    "SELECT oid FROM code_map WHERE substr(key, 1, 4) != 'tree'",
	};
	int n = 0;
	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		char *rows = unit_store_sql(u, sql[i]);
		for (char *oid = strtok(rows, "\n"); oid; oid = strtok(NULL, "\n")) {
			if (!object_file_exists(u, oid))
				fail_msg("%s names %s, whose file is gone", sql[i], oid);
			n++;
		}
		free(rows);
	}
	return n;
}

/* --- the writers: the same bytes into any run ------------------------------------- */

typedef struct fixture {
	unit_store u;
	cairn_store *other; /* a second handle on the same store */
	char proj[4200];    /* files to log: a plain directory */
	char repo[4200];    /* a git work tree with a change */
} fixture;

static void log_artifact_buf(fixture *f, cairn_run *r)
{
	(void)f;
	assert_ok(cairn_run_log_artifact_buf(r, "same bytes", 10, "notes/a.txt", NULL));
}

static void log_artifact_file(fixture *f, cairn_run *r)
{
	char p[4300];
	snprintf(p, sizeof p, "%s/model.bin", f->proj);
	assert_ok(cairn_run_log_artifact(r, p, NULL));
}

static void log_artifact_dir(fixture *f, cairn_run *r)
{
	char p[4300];
	snprintf(p, sizeof p, "%s/outdir", f->proj);
	assert_ok(cairn_run_log_artifact(r, p, NULL));
}

static void log_image_buf(fixture *f, cairn_run *r)
{
	(void)f;
	assert_ok(cairn_run_log_image_buf(r, "confusion", png, sizeof png, 3));
}

static void log_image_file(fixture *f, cairn_run *r)
{
	char p[4300];
	snprintf(p, sizeof p, "%s/cm.png", f->proj);
	assert_ok(cairn_run_log_image(r, "cm", p, CAIRN_STEP_AUTO));
}

static void log_stream(fixture *f, cairn_run *r)
{
	(void)f;
	cairn_artifact_stream *s;
	assert_ok(cairn_artifact_stream_open(&s, r, "stdout.log", "log"));
	for (int i = 0; i < 100; i++)
		assert_ok(cairn_artifact_stream_write(s, "a line of output\n", 17));
	assert_ok(cairn_artifact_stream_close(s));
}

static void log_dataset(fixture *f, cairn_run *r)
{
	char p[4300];
	snprintf(p, sizeof p, "%s/data", f->proj);
	assert_ok(cairn_run_log_dataset(r, "train", p, "input"));
}

static void capture(cairn_run *r, const char *cwd, int code, int env)
{
	cairn_capture_options o = CAIRN_CAPTURE_OPTIONS_INIT;
	o.cwd = cwd;
	o.code = code;
	o.env = env;
	char *report = NULL;
	assert_ok(cairn_run_capture_report(&report, r, &o));
	if (strstr(report, "not captured"))
		fail_msg("capture: %s", report);
	cairn_free(report);
}

static void log_env(fixture *f, cairn_run *r)
{
	capture(r, f->proj, 0, 1);
}

static void log_code_dir(fixture *f, cairn_run *r)
{
	capture(r, f->proj, 1, 0);
}

static void log_code_git(fixture *f, cairn_run *r)
{
	capture(r, f->repo, 1, 0);
}

typedef struct writer_kind {
	const char *name;
	void (*log)(fixture *f, cairn_run *r);
} writer_kind;

static const writer_kind kinds[] = {
    {"artifact buffer", log_artifact_buf},
    {"artifact file", log_artifact_file},
    {"artifact directory", log_artifact_dir},
    {"image buffer", log_image_buf},
    {"image file", log_image_file},
    {"streamed log", log_stream},
    {"dataset manifest", log_dataset},
    {"environment", log_env},
    {"code snapshot (directory)", log_code_dir},
    {"code snapshot (git)", log_code_git},
};

static void fixture_open(fixture *f)
{
	memset(f, 0, sizeof *f);
	unit_store_open(&f->u);
	assert_ok(cairn_store_open(&f->other, f->u.store_dir));
	snprintf(f->proj, sizeof f->proj, "%s/proj", f->u.dir);
	sh("mkdir -p '%s/outdir/sub' '%s/data/x'", f->proj, f->proj);
	write_file(f->proj, "model.bin", "weights", 7);
	write_file(f->proj, "cm.png", png, sizeof png);
	write_file(f->proj, "outdir/a.txt", "a", 1);
	write_file(f->proj, "outdir/sub/b.txt", "b", 1);
	write_file(f->proj, "data/one.csv", "1,2\n", 4);
	write_file(f->proj, "data/x/two.csv", "3,4\n", 4);
	write_file(f->proj, "train.py", "print('hi')\n", 12);
	write_file(f->proj, "requirements.txt", "numpy==1.26\n", 12);
	snprintf(f->repo, sizeof f->repo, "%s/repo", f->u.dir);
	sh("mkdir -p '%s' && cd '%s' && " GIT " init -q . && printf 'x = 1\\n' > model.py && "
	   "printf 'print(1)\\n' > train.py && " GIT " add -A && " GIT " commit -qm one && "
	   "printf 'print(2)\\n' > train.py && printf 'new\\n' > new.py",
	   f->repo, f->repo);
}

static void fixture_close(fixture *f)
{
	cairn_store_close(f->other);
	unit_store_close(&f->u);
}

static int setup(void **state)
{
	(void)state;
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	unsetenv("CAIRN_SNAPSHOT_MAX");
	unsetenv("CAIRN_ENV_ALLOW");
	return 0;
}

/* --- window 1: the purge falls between a writer's object and its reference ----------- */

typedef struct race {
	fixture *f;
	const writer_kind *k;
	const char *victim; /* the run to purge (window 1) */
	cairn_run *target;  /* the run to log into (window 2) */
	int fired;
	int removed; /* object files the purge removed inside the window */
} race;

static void purge_at_refs(cairn_store *s, const char *point, void *arg)
{
	race *r = arg;
	(void)s;
	if (strcmp(point, "refs") != 0 || r->fired++)
		return;
	int before = count_objects(&r->f->u);
	assert_ok(cairn_run_delete(r->f->other, r->victim, 1));
	r->removed = before - count_objects(&r->f->u);
}

static void test_purge_between_write_and_reference(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		fixture f;
		fixture_open(&f);
		cairn_run *a, *b;
		assert_ok(cairn_run_create(&a, f.u.s, NULL));
		kinds[i].log(&f, a);
		char ida[33];
		strcpy(ida, cairn_run_id(a));
		cairn_run_free(a);
		assert_ok(cairn_run_create(&b, f.u.s, NULL));
		/* b finds a's objects on disk and skips writing them; then, before
		 * its references commit, a is purged through the other handle */
		race r = {.f = &f, .k = &kinds[i], .victim = ida};
		store_test_hook(f.u.s, purge_at_refs, &r);
		kinds[i].log(&f, b);
		store_test_hook(f.u.s, NULL, NULL);
		if (!r.fired || r.removed <= 0)
			fail_msg(
			    "%s: the purge did not fall into the window (fired %d, removed %d)",
			    kinds[i].name, r.fired, r.removed);
		char id[33];
		assert_int_equal(cairn_run_resolve(id, f.u.s, ida), CAIRN_ENOTFOUND);
		if (assert_no_dangling(&f.u) == 0)
			fail_msg("%s: b references nothing", kinds[i].name);
		if (kinds[i].log == log_code_git || kinds[i].log == log_code_dir) {
			char out[4300];
			snprintf(out, sizeof out, "%s/checkout", f.u.dir);
			assert_ok(cairn_code_checkout(f.u.s, cairn_run_id(b), out));
		}
		cairn_run_free(b);
		fixture_close(&f);
	}
}

/* --- window 2: a writer references the bytes between a purge's commit and its sweep -- */

static void write_at_sweep(cairn_store *s, const char *point, void *arg)
{
	race *r = arg;
	(void)s;
	if (strcmp(point, "sweep") != 0 || r->fired++)
		return;
	r->k->log(r->f, r->target); /* through the first handle */
}

static void test_reference_between_purge_and_sweep(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		fixture f;
		fixture_open(&f);
		cairn_run *a, *b;
		assert_ok(cairn_run_create(&a, f.u.s, NULL));
		kinds[i].log(&f, a);
		char ida[33];
		strcpy(ida, cairn_run_id(a));
		cairn_run_free(a);
		assert_ok(cairn_run_create(&b, f.u.s, NULL));
		int before = count_objects(&f.u);
		/* a's rows are gone and its objects chosen for removal; b then
		 * records references to the same objects; then the sweep runs */
		race r = {.f = &f, .k = &kinds[i], .target = b};
		store_test_hook(f.other, write_at_sweep, &r);
		assert_ok(cairn_run_delete(f.other, ida, 1));
		store_test_hook(f.other, NULL, NULL);
		assert_int_equal(r.fired, 1);
		assert_no_dangling(&f.u);
		if (count_objects(&f.u) < before)
			fail_msg("%s: the sweep removed objects b references", kinds[i].name);
		cairn_run_free(b);
		fixture_close(&f);
	}
}

/* --- a base blob is the code map's, whoever else references it ----------------------- */

static void test_code_map_keeps_base_blobs(void **state)
{
	(void)state;
	fixture f;
	fixture_open(&f);
	cairn_run *a, *b;
	/* a: the committed tree only; b: an untracked copy of a committed file,
	 * so b references (as a change) the very object a's base manifest names */
	sh("cd '%s' && " GIT " stash -q -u", f.repo);
	assert_ok(cairn_run_create(&a, f.u.s, NULL));
	log_code_git(&f, a);
	sh("cd '%s' && cp model.py copy.py", f.repo);
	assert_ok(cairn_run_create(&b, f.u.s, NULL));
	log_code_git(&f, b);
	assert_ok(cairn_run_delete(f.u.s, cairn_run_id(b), 1));
	assert_no_dangling(&f.u);
	char out[4300];
	snprintf(out, sizeof out, "%s/checkout", f.u.dir);
	assert_ok(cairn_code_checkout(f.u.s, cairn_run_id(a), out));
	cairn_run_free(a);
	cairn_run_free(b);
	fixture_close(&f);
}

/* --- threads racing for real ------------------------------------------------------------ */

#define ROUNDS 40

typedef struct duel {
	fixture *f;
	pthread_barrier_t go;
	char victims[ROUNDS][33];
	cairn_run *targets[ROUNDS];
	char content[ROUNDS][32];
	unsigned seed;
} duel;

/* Widen both windows by a random pause (0-2 ms). */
static void jitter(cairn_store *s, const char *point, void *arg)
{
	(void)s;
	(void)point;
	unsigned *seed = arg;
	usleep((useconds_t)(rand_r(seed) % 2000));
}

static void *purger(void *arg)
{
	duel *d = arg;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(&d->go);
		if (cairn_run_delete(d->f->other, d->victims[i], 1) != 0)
			return (void *)1;
		pthread_barrier_wait(&d->go);
	}
	return NULL;
}

static void test_threads_race(void **state)
{
	(void)state;
	fixture f;
	fixture_open(&f);
	duel d = {.f = &f, .seed = 12345};
	unsigned seed2 = 777;
	pthread_barrier_init(&d.go, NULL, 2);
	for (int i = 0; i < ROUNDS; i++) {
		cairn_run *a;
		snprintf(d.content[i], sizeof d.content[i], "content %d\n", i);
		assert_ok(cairn_run_create(&a, f.u.s, NULL));
		assert_ok(cairn_run_log_artifact_buf(a, d.content[i], strlen(d.content[i]), "g.txt",
		                                     NULL));
		strcpy(d.victims[i], cairn_run_id(a));
		cairn_run_free(a);
		assert_ok(cairn_run_create(&d.targets[i], f.u.s, NULL));
	}
	store_test_hook(f.u.s, jitter, &d.seed);
	store_test_hook(f.other, jitter, &seed2);
	pthread_t th;
	pthread_create(&th, NULL, purger, &d);
	for (int i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(&d.go);
		assert_ok(cairn_run_log_artifact_buf(d.targets[i], d.content[i],
		                                     strlen(d.content[i]), "g.txt", NULL));
		pthread_barrier_wait(&d.go);
	}
	void *ret;
	pthread_join(th, &ret);
	assert_null(ret);
	store_test_hook(f.u.s, NULL, NULL);
	store_test_hook(f.other, NULL, NULL);
	assert_int_equal(assert_no_dangling(&f.u), 2 * ROUNDS); /* ref + artifact row */
	for (int i = 0; i < ROUNDS; i++) {
		char *json = NULL;
		assert_ok(cairn_run_get_json(&json, f.u.s, cairn_run_id(d.targets[i])));
		assert_non_null(strstr(json, "\"path\":\"g.txt\""));
		cairn_free(json);
		cairn_run_free(d.targets[i]);
	}
	pthread_barrier_destroy(&d.go);
	fixture_close(&f);
}

/* --- crashes between the steps ---------------------------------------------------------- */

static void die(cairn_store *s, const char *point, void *arg)
{
	(void)s;
	if (strcmp(point, (const char *)arg) == 0)
		_exit(0);
}

/* Run fn in a child process with its own store handle, killed (_exit) at
 * the hook point. */
static void in_child_dying_at(fixture *f, const char *point, void (*fn)(cairn_store *, void *),
                              void *arg)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		cairn_store *s;
		if (cairn_store_open(&s, f->u.store_dir) != 0)
			_exit(2);
		store_test_hook(s, die, (void *)point);
		fn(s, arg);
		_exit(3); /* the hook did not fire */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void child_log(cairn_store *s, void *arg)
{
	cairn_run *r;
	if (cairn_run_open(&r, s, arg) != 0)
		_exit(4);
	cairn_run_log_artifact_buf(r, "crash bytes", 11, "c.txt", NULL);
}

static void child_purge(cairn_store *s, void *arg)
{
	cairn_run_delete(s, arg, 1);
}

static void test_crash_leaves_garbage_not_dangling(void **state)
{
	(void)state;
	fixture f;
	fixture_open(&f);
	cairn_run *a;
	/* a writer dies after writing the object, before the reference */
	assert_ok(cairn_run_create(&a, f.u.s, NULL));
	char ida[33];
	strcpy(ida, cairn_run_id(a));
	int n0 = count_objects(&f.u);
	in_child_dying_at(&f, "refs", child_log, ida);
	assert_int_equal(count_objects(&f.u), n0 + 1); /* the object, unreferenced */
	char *json = NULL;
	assert_ok(cairn_run_get_json(&json, f.u.s, ida));
	assert_null(strstr(json, "c.txt")); /* nothing recorded: the file is garbage */
	cairn_free(json);
	assert_no_dangling(&f.u);
	/* a purge dies after its commit, before removing the files */
	assert_ok(cairn_run_log_artifact_buf(a, "crash bytes", 11, "c.txt", NULL));
	cairn_run_free(a);
	in_child_dying_at(&f, "sweep", child_purge, ida);
	char id[33];
	assert_int_equal(cairn_run_resolve(id, f.u.s, ida), CAIRN_ENOTFOUND);
	assert_int_equal(count_objects(&f.u), n0 + 1); /* garbage, harmless */
	assert_no_dangling(&f.u);
	fixture_close(&f);
}

/* --- deleting an artifact ------------------------------------------------------------------
 * The records go, the objects stay referenced by the run (so the same bytes
 * under another name, or in another run, keep theirs), and the purge of the
 * run later removes the files only it held. */

static void oid_of(const unit_store *u, const char *run, const char *path, char oid[65])
{
	char *media;
	int64_t size;
	assert_ok(cairn_artifact_lookup(oid, &size, &media, u->s, run, path));
	cairn_free(media);
}

static void assert_gone(const unit_store *u, const char *run, const char *path)
{
	char oid[65], *media;
	int64_t size;
	assert_int_equal(cairn_artifact_lookup(oid, &size, &media, u->s, run, path),
	                 CAIRN_ENOTFOUND);
}

static void test_artifact_delete(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_run *a, *b;
	assert_ok(cairn_run_create(&a, u.s, NULL));
	assert_ok(cairn_run_create(&b, u.s, NULL));
	char ida[33];
	strcpy(ida, cairn_run_id(a));
	assert_ok(cairn_run_log_artifact_buf(a, "weights", 7, "model/w.bin", NULL));
	assert_ok(cairn_run_log_artifact_buf(a, "config", 6, "model/sub/cfg.json", NULL));
	assert_ok(cairn_run_log_artifact_buf(a, "weights", 7, "README.md", NULL)); /* same bytes */
	assert_ok(cairn_run_log_artifact_buf(a, "plural", 6, "models.txt", NULL));
	assert_ok(cairn_run_log_artifact_buf(a, "accent", 6,
	                                     "\xc3\xa9t\xc3\xa9/r\xc3\xa9sum\xc3\xa9.txt", NULL));
	assert_ok(cairn_run_log_artifact_buf(b, "config", 6, "shared.json", NULL));
	char w[65], cfg[65], plural[65], accent[65];
	oid_of(&u, ida, "model/w.bin", w);
	oid_of(&u, ida, "model/sub/cfg.json", cfg);
	oid_of(&u, ida, "models.txt", plural);
	oid_of(&u, ida, "\xc3\xa9t\xc3\xa9/r\xc3\xa9sum\xc3\xa9.txt", accent);

	/* a directory takes what is under it, never a sibling sharing its prefix */
	int64_t n = -1;
	assert_ok(cairn_run_delete_artifact(a, "model", &n));
	assert_int_equal(n, 2);
	assert_gone(&u, ida, "model/w.bin");
	assert_gone(&u, ida, "model/sub/cfg.json");
	char o[65];
	oid_of(&u, ida, "models.txt", o);
	oid_of(&u, ida, "README.md", o);
	assert_string_equal(o, w);
	/* the files stay: README.md names w, run b names cfg */
	assert_true(object_file_exists(&u, w));
	assert_true(object_file_exists(&u, cfg));
	assert_no_dangling(&u);
	/* nothing there (again, a file under a file, a prefix that is no
	 * component): not found, nothing changed */
	char *before = unit_store_sql(&u, "SELECT count(*) FROM artifacts");
	assert_int_equal(cairn_run_delete_artifact(a, "model", &n), CAIRN_ENOTFOUND);
	assert_int_equal(n, 0);
	assert_int_equal(cairn_run_delete_artifact(a, "models.txt/x", NULL), CAIRN_ENOTFOUND);
	assert_int_equal(cairn_run_delete_artifact(a, "mod", NULL), CAIRN_ENOTFOUND);
	/* not a clean relative path: refused before the store */
	assert_int_equal(cairn_run_delete_artifact(a, "../x", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_run_delete_artifact(a, "/etc/passwd", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_run_delete_artifact(a, "model/", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_run_delete_artifact(a, NULL, NULL), CAIRN_EINVALID);
	char *after = unit_store_sql(&u, "SELECT count(*) FROM artifacts");
	assert_string_equal(before, after);
	assert_string_equal(after, "4\n");
	free(before);
	free(after);
	/* a non-ASCII directory: its characters counted as stored */
	assert_ok(cairn_run_delete_artifact(a, "\xc3\xa9t\xc3\xa9", &n));
	assert_int_equal(n, 1);
	/* a file; then "" takes the rest */
	assert_ok(cairn_run_delete_artifact(a, "models.txt", &n));
	assert_int_equal(n, 1);
	assert_ok(cairn_run_delete_artifact(a, "", &n));
	assert_int_equal(n, 1); /* README.md */
	assert_int_equal(cairn_run_delete_artifact(a, "", &n), CAIRN_ENOTFOUND);
	oid_of(&u, cairn_run_id(b), "shared.json", o); /* the other run's is untouched */
	/* the bytes no record needs any more are freed with their last name
	 * (issue 18); cfg stays: run b holds the same bytes */
	assert_false(object_file_exists(&u, plural));
	assert_false(object_file_exists(&u, accent));
	assert_false(object_file_exists(&u, w));
	assert_true(object_file_exists(&u, cfg));
	assert_no_dangling(&u);

	/* the purge of a removes what only a held, and keeps what b holds */
	cairn_run_free(a);
	assert_ok(cairn_run_delete(u.s, ida, 1));
	assert_false(object_file_exists(&u, w));
	assert_false(object_file_exists(&u, plural));
	assert_false(object_file_exists(&u, accent));
	assert_true(object_file_exists(&u, cfg));
	assert_no_dangling(&u);
	cairn_run_free(b);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_purge_between_write_and_reference),
	    cmocka_unit_test(test_reference_between_purge_and_sweep),
	    cmocka_unit_test(test_code_map_keeps_base_blobs),
	    cmocka_unit_test(test_threads_race),
	    cmocka_unit_test(test_crash_leaves_garbage_not_dangling),
	    cmocka_unit_test(test_artifact_delete),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
