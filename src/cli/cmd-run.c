/*
 * cli/cmd-run.c — `cairn run [options] [--] COMMAND [ARG]...`: run any
 * command and record it, with no change to the command.
 *
 * Order of events:
 *   1. find the command (PATH); one that cannot be started is an error
 *      before any run exists;
 *   2. with --require-clean, refuse a dirty tree (nothing stored);
 *   3. create the run; start the environment capture on its own thread
 *      (asking Python for its packages takes a while: it runs beside the code
 *      capture and the child instead of before them); capture the code;
 *      record params (run-params.c: configs < command line < argparse
 *      namespace < --param; for a Python command the command line's wait
 *      for the namespace) and snapshot the config files;
 *   4. spawn the child with CAIRN_RUN_ID and CAIRN_DIR, the capture channel
 *      (CAIRN_CAPTURE_FD) and, for Python, the argparse hook on PYTHONPATH
 *      (run-ctl.c), the file-event socket and the shim on LD_PRELOAD
 *      (run-files.c; a static or setuid command is said untraced), its
 *      stdout/stderr on pipes; start the monitor (heartbeat, system samples);
 *   5. pump (run-pump.c): each chunk goes to our stdout/stderr unchanged, to
 *      the log stream (logs/stdout.log, logs/stderr.log) and to the metric
 *      parser, whose metrics pass the gate that leaves out keys the command
 *      logs through the API (run-ctl.c); the channel's messages (the API's
 *      keys, the hook's namespace) are read as they come;
 *   6. the child ends: read on until the pipes' last writers close them
 *      (EOF), for at most CAIRN_DRAIN_TIMEOUT seconds (2) — a background job
 *      of the command may still be writing; hand the pipes still open to
 *      detached drainers (drain.c), so such a job never meets a closed pipe
 *      because cairn exited; store the logs, record the files the command
 *      read and wrote (run-files-record.c), finish the run with the child's
 *      status, and exit with its exit code (128+N for signal N).
 *
 * Signals: INT, TERM, HUP and QUIT are taken through a signalfd (blocked in
 * every thread) and forwarded to the child; the run then ends "killed".
 * A signal the terminal already sent to the whole foreground group
 * (si_code SI_KERNEL) is not sent a second time.  USR1/USR2 are forwarded
 * without changing the status.  SIGPIPE is ignored here and restored to the
 * default for the child.  A cairn problem while the child runs (store full,
 * log write error) is a warning: the child's output is never held up by it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/drain.h"
#include "cli/run-ctl.h"
#include "cli/run-files.h"
#include "cli/run-params.h"
#include "cli/run-pump.h"
#include "util/clock.h"
#include "util/fs.h"

static const char usage[] =
    "usage: cairn run [options] [--] COMMAND [ARG]...\n\n"
    "Run COMMAND and record it: the code version (git commit, branch, remote and\n"
    "a snapshot of every uncommitted change), params from its command line and\n"
    "config files (for Python, every argparse option, defaults included), the\n"
    "environment, its output (passed through unchanged and stored as logs),\n"
    "metrics printed in that output (a key it also logs through the Python API\n"
    "is recorded once), and system usage.  The command sees CAIRN_RUN_ID and\n"
    "CAIRN_DIR, so 'cairn log' and the Python binding log into the same run.\n"
    "Exits with the command's exit code.\n\n"
    "options:\n"
    "  -p, --project PROJECT    project (default: $CAIRN_PROJECT or 'default')\n"
    "  -n, --name NAME          run name (default: generated)\n"
    "  -t, --tag TAG            add a tag (repeatable)\n"
    "      --param K=V          record a param, over the command line's (repeatable)\n"
    "  -d, --data [NAME=]PATH   record a dataset's version: digest, counts and manifest\n"
    "                           (repeatable; NAME defaults to the path's base name)\n"
    "      --config FILE        flatten a YAML/JSON config into params (repeatable;\n"
    "                           config files named in the command are found anyway)\n"
    "      --note TEXT          a free-text note\n"
    "      --require-clean      refuse to run when the work tree has changes\n"
    "      --snapshot-max SIZE  cap on the code snapshot (bytes, or 64K/64M/1G;\n"
    "                           default 64M)\n"
    "      --metric-pattern RE  find metrics with this POSIX extended regex, whose\n"
    "                           groups 1 and 2 are key and value\n"
    "      --no-metrics         do not look for metrics in the output\n"
    "      --no-code            do not capture the code\n"
    "      --no-env             do not capture the environment\n"
    "      --no-sys             do not sample CPU, memory and GPU\n"
    "      --data-root DIR      files read under DIR are inputs too (repeatable)\n"
    "      --artifacts GLOB     store the files under the working directory that\n"
    "                           match GLOB at the end, traced or not (repeatable)\n"
    "      --capture-ignore GLOB  leave matching files out of the automatic capture;\n"
    "                           !GLOB keeps them (repeatable, last match wins)\n"
    "      --auto-artifact-max SIZE  outputs larger than SIZE are recorded by digest,\n"
    "                           not stored (default 100M)\n"
    "      --no-auto-capture    do not record the files the command reads and writes\n"
    "      --reproduces RUN     this run reproduces RUN in a tree restored from its\n"
    "                           snapshot: record RUN's code version instead of\n"
    "                           capturing (what 'cairn reproduce' passes)\n"
    "  -v, --verbose            say which run this is and how it ended (on stderr)\n\n"
    "Files the command reads (untracked, in the project) are recorded as datasets,\n"
    "those it writes (in the working directory) as artifacts.\n\n"
    "After the command exits, what it left running may still write: that is\n"
    "stored for up to $CAIRN_DRAIN_TIMEOUT seconds (2), then passed on unstored.\n\n"
    "See docs/cli/run.md for what is recorded and how.\n";

/* --- the environment, captured beside the child ------------------------------------------ */

typedef struct env_job {
	cairn_run *run;
	cairn_capture_options o;
	cairn_capture_report *report;
	int rc;
	char msg[512];
} env_job;

static void *env_main(void *arg)
{
	env_job *j = arg;
	j->rc = cairn_run_capture_ext(&j->report, j->run, &j->o);
	if (j->rc)
		snprintf(j->msg, sizeof j->msg, "%s", cairn_error_last());
	return NULL;
}

static void print_warnings(const cairn_capture_report *report)
{
	for (size_t i = 0; i < cairn_capture_report_warning_count(report); i++)
		run_warn("%s", cairn_capture_report_warning(report, i));
}

/* --data [NAME=]PATH: NAME is the part before '=' when it names no path. */
static const char *data_path(const char *spec)
{
	const char *eq = strchr(spec, '=');
	if (eq && eq != spec && !memchr(spec, '/', (size_t)(eq - spec)))
		return eq + 1;
	return spec;
}

static char *data_name(const char *spec)
{
	const char *p = data_path(spec);
	if (p == spec)
		return NULL; /* the library names it after the path's base name */
	return strndup(spec, (size_t)(p - 1 - spec));
}

/* --- the command ------------------------------------------------------------------------------ */

int cmd_run(int argc, char **argv)
{
	enum {
		O_HELP = 1,
		O_PROJECT,
		O_NAME,
		O_TAG,
		O_PARAM,
		O_CONFIG,
		O_NOTE,
		O_REQUIRE_CLEAN,
		O_SNAPSHOT_MAX,
		O_METRIC_PATTERN,
		O_NO_METRICS,
		O_NO_CODE,
		O_NO_ENV,
		O_NO_SYS,
		O_VERBOSE,
		O_DATA,
		O_REPRODUCES,
		O_DATA_ROOT,
		O_ARTIFACTS,
		O_CAPTURE_IGNORE,
		O_AUTO_ARTIFACT_MAX,
		O_NO_AUTO_CAPTURE,
	};
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"project", 'p', true, O_PROJECT},
	                               {"name", 'n', true, O_NAME},
	                               {"tag", 't', true, O_TAG},
	                               {"param", 0, true, O_PARAM},
	                               {"config", 0, true, O_CONFIG},
	                               {"note", 0, true, O_NOTE},
	                               {"require-clean", 0, false, O_REQUIRE_CLEAN},
	                               {"snapshot-max", 0, true, O_SNAPSHOT_MAX},
	                               {"metric-pattern", 0, true, O_METRIC_PATTERN},
	                               {"no-metrics", 0, false, O_NO_METRICS},
	                               {"no-code", 0, false, O_NO_CODE},
	                               {"no-env", 0, false, O_NO_ENV},
	                               {"no-sys", 0, false, O_NO_SYS},
	                               {"verbose", 'v', false, O_VERBOSE},
	                               {"data", 'd', true, O_DATA},
	                               {"reproduces", 0, true, O_REPRODUCES},
	                               {"data-root", 0, true, O_DATA_ROOT},
	                               {"artifacts", 0, true, O_ARTIFACTS},
	                               {"capture-ignore", 0, true, O_CAPTURE_IGNORE},
	                               {"auto-artifact-max", 0, true, O_AUTO_ARTIFACT_MAX},
	                               {"no-auto-capture", 0, false, O_NO_AUTO_CAPTURE},
	                               {0}};
	cli_args a;
	cairn_store *s = NULL;
	cairn_run *run = NULL;
	cairn_run_options ro = CAIRN_RUN_OPTIONS_INIT;
	cairn_capture_options co = CAIRN_CAPTURE_OPTIONS_INIT;
	const char **tags = calloc((size_t)argc + 1, sizeof *tags);
	const char **params = calloc((size_t)argc + 1, sizeof *params);
	const char **configs = calloc((size_t)argc + 1, sizeof *configs);
	const char **datas = calloc((size_t)argc + 1, sizeof *datas);
	size_t ntags = 0, nparams = 0, nconfigs = 0, ndatas = 0;
	/* automatic capture (run-files.h) */
	char **roots = calloc((size_t)argc + 1, sizeof *roots);
	const char **globs = calloc((size_t)argc + 1, sizeof *globs), **ignores = NULL;
	char **data_abs = calloc((size_t)argc + 1, sizeof *data_abs);
	char *ignore_env =
	    getenv("CAIRN_CAPTURE_IGNORE") ? strdup(getenv("CAIRN_CAPTURE_IGNORE")) : NULL;
	run_files_opts fo = {0};
	fo.artifact_max = (int64_t)100 << 20;
	bool auto_capture = true;
	run_files *rf = NULL;
	const char *note = NULL, *reproduces = NULL, *pattern = getenv("CAIRN_METRIC_PATTERN");
	bool no_metrics = false, no_sys = false, verbose = false, run_live = false;
	char *path = NULL, *cmdline = NULL, *store_abs = NULL;
	char *python = NULL, *pyhook = NULL;
	run_env env = {0};
	cairn_argv *cargv = NULL;
	cairn_capture_report *report = NULL;
	run_params *ps = run_params_new();
	run_ctl *ctl = NULL;
	stream out = {"stdout", -1, 1, true, NULL, NULL, NULL};
	stream err = {"stderr", -1, 2, true, NULL, NULL, NULL};
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, sfd = -1;
	char *iobuf = NULL;
	cairn_monitor *mon = NULL;
	pthread_t env_th;
	bool env_started = false;
	env_job ej;
	pid_t pid = -1;
	int o, rc = 0;
	memset(&ej, 0, sizeof ej);
	size_t nroots = 0, nglobs = 0, nignores = 0;
	if ((ignores = run_files_env_ignores(ignore_env, (size_t)argc, &nignores)) == NULL)
		goto oom;
	if (!ps || !tags || !params || !configs || !datas || !roots || !globs || !data_abs) {
	oom:
		rc = cli_fail("out of memory");
		goto done;
	}

	cli_args_init(&a, "run", argc, argv);
	a.stop_at_first_pos = true; /* everything from COMMAND on is the command's */
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_PROJECT: ro.project = a.val; break;
		case O_NAME: ro.name = a.val; break;
		case O_TAG: tags[ntags++] = a.val; break;
		case O_PARAM:
			if (!strchr(a.val, '=') || a.val[0] == '=') {
				rc = cli_usage_error("run", "--param needs KEY=VALUE, got '%s'",
				                     a.val);
				goto done;
			}
			params[nparams++] = a.val;
			break;
		case O_CONFIG: configs[nconfigs++] = a.val; break;
		case O_DATA: datas[ndatas++] = a.val; break;
		case O_NOTE: note = a.val; break;
		case O_REPRODUCES: reproduces = a.val; break;
		case O_DATA_ROOT:
			if (!(roots[nroots++] = realpath(a.val, NULL)) ||
			    !path_is_dir(roots[nroots - 1])) {
				rc = cli_usage_error(
				    "run", "--data-root needs a directory, got '%s'", a.val);
				goto done;
			}
			break;
		case O_ARTIFACTS:
		case O_CAPTURE_IGNORE:
			if (!*a.val || strcmp(a.val, "!") == 0) {
				rc = cli_usage_error("run", "--%s needs a glob",
				                     o == O_ARTIFACTS ? "artifacts"
				                                      : "capture-ignore");
				goto done;
			}
			if (o == O_ARTIFACTS)
				globs[nglobs++] = a.val;
			else
				ignores[nignores++] = a.val;
			break;
		case O_AUTO_ARTIFACT_MAX:
			if ((fo.artifact_max = cli_parse_size(a.val)) < 0) {
				rc = cli_usage_error(
				    "run",
				    "--auto-artifact-max needs a size such as 100M, got '%s'",
				    a.val);
				goto done;
			}
			break;
		case O_NO_AUTO_CAPTURE: auto_capture = false; break;
		case O_REQUIRE_CLEAN: co.require_clean = 1; break;
		case O_SNAPSHOT_MAX: {
			int64_t v = cli_parse_size(a.val);
			if (v <= 0) {
				rc = cli_usage_error(
				    "run", "--snapshot-max needs a size such as 64M, got '%s'",
				    a.val);
				goto done;
			}
			co.snapshot_max_bytes = v;
			break;
		}
		case O_METRIC_PATTERN: pattern = a.val; break;
		case O_NO_METRICS: no_metrics = true; break;
		case O_NO_CODE: co.code = 0; break;
		case O_NO_ENV: co.env = 0; break;
		case O_NO_SYS: no_sys = true; break;
		case O_VERBOSE: verbose = true; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos == 0) {
		rc = cli_usage_error("run",
		                     "name the command to run (cairn run -- COMMAND [ARG]...)");
		goto done;
	}
	char **cmd = a.pos;
	fo.data_roots = (const char *const *)roots, fo.ndata_roots = nroots;
	fo.ignores = ignores, fo.nignores = nignores;
	fo.globs = globs, fo.nglobs = nglobs;
	fo.data_paths = (const char *const *)data_abs;
	int ncmd = a.npos;
	cmd[ncmd] = NULL;
	if (!no_metrics) {
		/* a bad pattern is a usage error, found before anything runs */
		cairn_metric_parser *probe = NULL;
		if (cairn_metric_parser_new(&probe, pattern) != 0) {
			rc = cli_usage_error("run", "%s", cairn_error_last());
			goto done;
		}
		cairn_metric_parser_free(probe);
	}

	/* Signals first, before any thread exists, so every thread has them
	 * blocked and only the signalfd sees them. */
	sigset_t mask, old_mask;
	sigemptyset(&mask);
	int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD};
	for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
		sigaddset(&mask, fwd[i]);
	pthread_sigmask(SIG_BLOCK, &mask, &old_mask);
	signal(SIGPIPE, SIG_IGN);

	if ((rc = cli_resolve_command(cmd[0], &path)) != 0)
		goto done;
	for (size_t i = 0; i < ndatas; i++) {
		const char *dp = data_path(datas[i]);
		struct stat st;
		if (!*dp || stat(dp, &st) != 0) {
			rc = cli_fail("cannot record dataset '%s': %s", dp,
			              *dp ? strerror(errno) : "empty path");
			goto done;
		}
		data_abs[i] = realpath(dp, NULL);
		fo.ndata_paths = i + 1;
	}
	for (size_t i = 0; i < nconfigs; i++) {
		struct stat st;
		if (stat(configs[i], &st) != 0 || !S_ISREG(st.st_mode)) {
			rc = cli_fail("cannot read config '%s': %s", configs[i],
			              errno ? strerror(errno) : "not a file");
			goto done;
		}
	}
	if ((rc = cli_store(&s)) != 0)
		goto done;
	store_abs = cli_store_location(s);
	if (!store_abs) {
		rc = cli_fail("cannot resolve the store '%s': %s", cairn_store_path(s),
		              strerror(errno));
		goto done;
	}

	char orig[CAIRN_RUN_ID_HEXSZ + 1];
	if (reproduces && cairn_run_resolve(orig, s, reproduces) != 0) {
		rc = cli_fail_lib("--reproduces");
		goto done;
	}
	if (co.require_clean && co.code && cairn_code_require_clean(s, NULL) != 0) {
		rc = cli_fail_lib("refusing to run (--require-clean)");
		goto done;
	}

	/* Params: configs (named in the command, then --config), the command
	 * line, then --param; later ones win. */
	if (cairn_argv_parse(&cargv, ncmd, (const char *const *)cmd) != 0 ||
	    cairn_command_line_masked(&cmdline, ncmd, (const char *const *)cmd) != 0) {
		rc = cli_fail_lib("cannot read the command line");
		goto done;
	}
	for (size_t k = 0; k < cairn_argv_config_count(cargv); k++) {
		const char *cf = cairn_argv_config(cargv, k);
		bool dup = false;
		for (size_t i = 0; i < nconfigs; i++)
			dup = dup || strcmp(configs[i], cf) == 0;
		if (!dup) { /* named in the command: before the --config ones */
			memmove(configs + 1, configs, nconfigs * sizeof *configs);
			configs[0] = cf;
			nconfigs++;
		}
	}
	bool pok = true;
	for (size_t i = 0; i < nconfigs; i++) {
		cairn_params *flat = NULL;
		if (cairn_config_flatten(&flat, configs[i]) != 0)
			run_warn("%s (the run goes on)", cairn_error_last());
		else
			pok = pok && run_params_add_config(ps, flat) == 0;
	}
	run_params_set_command(ps, cargv, ncmd, cmd);
	for (size_t i = 0; i < nparams && pok; i++)
		pok = run_params_add_override(ps, params[i]) == 0;
	if (!pok) {
		rc = cli_fail("out of memory");
		goto done;
	}

	ro.tags = tags;
	ro.ntags = ntags;
	ro.command = cmdline;
	/* Started from inside another run (a sweep script under cairn run):
	 * that run is the parent. */
	char parent[CAIRN_RUN_ID_HEXSZ + 1];
	const char *outer = getenv("CAIRN_RUN_ID");
	if (outer && *outer && cairn_run_resolve(parent, s, outer) == 0)
		ro.parent = parent;
	cairn_error_clear();
	if (cairn_run_create(&run, s, &ro) != 0) {
		rc = cli_fail_lib("cannot create the run");
		goto done;
	}
	run_live = true;
	cairn_run_heartbeat(run); /* from now on a dead wrapper shows as crashed */

	/* The environment on its own thread: it does not depend on the code or
	 * the child, and asking Python for its packages takes a while. */
	if (cairn_command_python(&python, path) != 0)
		cairn_error_clear();
	if (co.env) {
		ej.run = run;
		ej.o = co;
		ej.o.code = 0;
		ej.o.require_clean = 0;
		ej.o.python = python;
		env_started = pthread_create(&env_th, NULL, env_main, &ej) == 0;
		if (!env_started)
			run_warn("the environment will not be recorded: cannot start a thread");
	}

	/* The code, before the child can touch the tree. */
	cairn_capture_options cc = co;
	cc.env = 0;
	if (reproduces) {
		cc.code = 0;
		if (cairn_run_set_property(run, "reproduces", orig) != 0 ||
		    (co.code && cairn_run_code_copy(run, orig) != 0 &&
		     cairn_error_last_code() != CAIRN_ENOTFOUND)) {
			rc = cli_fail_lib("cannot record the run it reproduces");
			goto fail_purge;
		}
		cairn_error_clear();
	}
	if (cairn_run_capture_ext(&report, run, &cc) != 0) {
		rc = cli_fail_lib(co.require_clean && cairn_error_last_code() == CAIRN_EDIRTY
		                      ? "refusing to run (--require-clean)"
		                      : "cannot capture the run");
		goto fail_purge;
	}
	print_warnings(report);
	if (verbose)
		fprintf(stderr, "cairn: run %s (%s) in project %s\n", cairn_run_name(run),
		        cairn_run_id(run), cairn_run_project(run));
	/* The channel the command talks back on (the Python binding, the argparse
	 * hook); for a Python command the hook, which reports the parsed
	 * namespace, so the command line's params wait for it (run-params.c). */
	if (!(ctl = run_ctl_new(run, ps)))
		run_warn("the command cannot talk back (%s): metrics it logs through the API "
		         "and prints are recorded twice",
		         strerror(errno));
	if (python && ctl)
		pyhook = run_ctl_pyhook_dir();
	run_params_write(ps, run, pyhook != NULL);
	/* The config files' copies, with credentials in URLs masked (their
	 * params above are masked by the same rule). */
	for (size_t i = 0; i < nconfigs; i++)
		if (cairn_run_log_config_snapshot(run, configs[i]) != 0)
			run_warn("%s", cairn_error_last());
	if (note && cairn_run_set_note(run, note) != 0)
		run_warn("note not recorded: %s", cairn_error_last());
	/* Datasets, hashed before the child can change them.  One that cannot be
	 * hashed whole is an error: the run is removed and nothing starts. */
	for (size_t i = 0; i < ndatas; i++) {
		char *name = data_name(datas[i]);
		int e = cairn_run_log_dataset(run, name, data_path(datas[i]), "input");
		free(name);
		if (e != 0) {
			rc = cli_fail_lib("cannot record the dataset");
			goto fail_purge;
		}
	}

	/* The child. */
	iobuf = malloc(1 << 20);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (!iobuf || sfd < 0 || pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		rc = cli_fail("cannot set up the command's output: %s", strerror(errno));
		goto fail_purge;
	}
	/* Bigger pipes: fewer wake-ups when the child writes a lot. */
	fcntl(outp[0], F_SETPIPE_SZ, 1 << 20);
	fcntl(errp[0], F_SETPIPE_SZ, 1 << 20);
	bool tty = isatty(1) || isatty(2);
	if (run_ctl_child_env(&env, ctl, cairn_run_id(run), store_abs,
	                      tty && !getenv("PYTHONUNBUFFERED"), pyhook) != 0) {
		rc = cli_fail("out of memory");
		goto fail_purge;
	}
	/* Files read and written (run-files.h): the shim and, for Python, the
	 * audit hook report on rf's socket. */
	if (auto_capture &&
	    run_files_start(&rf, &env, run, path, cmd[0], pyhook != NULL, &fo) != 0) {
		rc = cli_fail("out of memory");
		goto fail_purge;
	}
	if (!no_metrics) {
		cairn_metric_parser_new(&out.mp, pattern);
		cairn_metric_parser_new(&err.mp, pattern);
	}
	out.ctl = err.ctl = ctl;
	if (cairn_artifact_stream_open(&out.log, run, "logs/stdout.log", CAIRN_ARTIFACT_LOG) != 0 ||
	    cairn_artifact_stream_open(&err.log, run, "logs/stderr.log", CAIRN_ARTIFACT_LOG) != 0)
		run_warn("the output will not be stored: %s", cairn_error_last());
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	int csrc, cdst;
	if (run_ctl_child_fd(ctl, &csrc, &cdst))
		posix_spawn_file_actions_adddup2(&fa, csrc, cdst);
	sigset_t def;
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigmask(&at, &old_mask);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	int e = posix_spawn(&pid, path, &fa, &at, cmd, env.envp);
	if (e == ENOEXEC) {
		/* a script without #!: the shell runs it, as execvp would */
		char **sh = calloc((size_t)ncmd + 2, sizeof *sh);
		if (sh) {
			sh[0] = "/bin/sh";
			sh[1] = path;
			for (int i = 1; i < ncmd; i++)
				sh[i + 1] = cmd[i];
			e = posix_spawn(&pid, "/bin/sh", &fa, &at, sh, env.envp);
			free(sh);
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	run_ctl_spawned(ctl);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	if (e != 0) {
		rc = cli_fail("cannot run '%s': %s", cmd[0], strerror(e));
		goto fail_purge;
	}
	out.fd = outp[0];
	err.fd = errp[0];
	outp[0] = errp[0] = -1;
	double t0 = clock_mono();
	run_params_started(ps, t0);

	cairn_monitor_options mo = CAIRN_MONITOR_OPTIONS_INIT;
	mo.pid = pid;
	if (no_sys)
		mo.sample_interval = -1;
	if (cairn_monitor_start(&mon, run, &mo) != 0)
		run_warn("no heartbeat or system samples: %s", cairn_error_last());

	/* Pump until the child is gone. */
	int wstatus = 0;
	bool child_done = false, killed = false;
	while (!child_done) {
		struct pollfd pf[5];
		int np = 0, io = -1, ie = -1, ic = -1, ifl = -1;
		if (out.fd >= 0) {
			pf[np] = (struct pollfd){out.fd, POLLIN, 0};
			io = np++;
		}
		if (err.fd >= 0) {
			pf[np] = (struct pollfd){err.fd, POLLIN, 0};
			ie = np++;
		}
		if (run_ctl_fd(ctl) >= 0) {
			pf[np] = (struct pollfd){run_ctl_fd(ctl), POLLIN, 0};
			ic = np++;
		}
		if (run_files_fd(rf) >= 0) {
			pf[np] = (struct pollfd){run_files_fd(rf), POLLIN, 0};
			ifl = np++;
		}
		pf[np] = (struct pollfd){sfd, POLLIN, 0};
		int is = np++;
		/* wake up for what is due: held metric points, held params */
		double due = fmin(run_ctl_due(ctl), run_params_due(ps)), now = clock_mono();
		int wait = isinf(due) ? -1 : due <= now ? 0 : (int)((due - now) * 1000) + 1;
		if (poll(pf, (nfds_t)np, wait) < 0) {
			if (errno == EINTR)
				continue;
			run_warn("poll: %s", strerror(errno));
			break;
		}
		if (ifl >= 0 && pf[ifl].revents)
			run_files_read(rf);
		if (ic >= 0 && pf[ic].revents)
			run_ctl_read(ctl); /* at EOF (every writer gone) it closes the channel */
		if (io >= 0 && pf[io].revents)
			drain_once(&out, run, iobuf, 1 << 20);
		if (ie >= 0 && pf[ie].revents)
			drain_once(&err, run, iobuf, 1 << 20);
		if (pf[is].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				int sig = (int)si.ssi_signo;
				if (sig == SIGCHLD) {
					if (waitpid(pid, &wstatus, WNOHANG) == pid)
						child_done = true;
					continue;
				}
				if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP ||
				    sig == SIGQUIT)
					killed = true;
				/* The terminal sends ^C to the whole foreground group, the
				 * child included: do not send it twice. */
				bool from_tty =
				    si.ssi_code == SI_KERNEL && getpgid(pid) == getpgrp();
				if (!from_tty)
					kill(pid, sig);
			}
		}
		now = clock_mono();
		run_ctl_tick(ctl, now);
		if (run_params_due(ps) <= now)
			run_params_release(ps, run);
	}
	double elapsed = clock_mono() - t0;
	run_files_read(rf); /* the command's last events, before the drain */
	/* What the child wrote is still in the pipes, and what it started may
	 * write on: read until the last writer closes them, within the bound,
	 * then let drainers pass the rest on. */
	drain_after_exit(&out, &err, run, iobuf, sfd, drain_timeout());
	if (hand_off(&out, &err, run, iobuf, &old_mask) && verbose)
		fprintf(stderr,
		        "cairn: processes the command left running still write; their output "
		        "goes on, not stored\n");

	cairn_status st;
	int code;
	if (WIFEXITED(wstatus)) {
		code = WEXITSTATUS(wstatus);
		st = code == 0 ? CAIRN_STATUS_FINISHED : CAIRN_STATUS_FAILED;
	} else if (WIFSIGNALED(wstatus)) {
		int sig = WTERMSIG(wstatus);
		code = 128 + sig;
		st = (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGKILL ||
		      sig == SIGQUIT || sig == SIGPIPE)
		         ? CAIRN_STATUS_KILLED
		         : CAIRN_STATUS_FAILED;
	} else {
		code = 1;
		st = CAIRN_STATUS_FAILED;
	}
	if (killed)
		st = CAIRN_STATUS_KILLED;

	/* Store what we have, then end the run. */
	stream *ss[2] = {&out, &err};
	run_ctl_read(ctl); /* the last claims and namespaces */
	for (int i = 0; i < 2; i++) {
		if (ss[i]->mp && ctl)
			cairn_metric_parser_finish_cb(ss[i]->mp, run_ctl_metric, ctl);
		else if (ss[i]->mp)
			cairn_metric_parser_finish(ss[i]->mp, run);
		if (ss[i]->log && cairn_artifact_stream_close(ss[i]->log) != 0)
			run_warn("the %s log was not stored: %s", ss[i]->name, cairn_error_last());
		ss[i]->log = NULL;
	}
	run_ctl_tick(ctl, INFINITY);
	run_params_release(ps, run);
	if (verbose && run_ctl_dropped(ctl))
		fprintf(stderr,
		        "cairn: %llu metric points printed by the command were not recorded: "
		        "it logs those keys through the API\n",
		        (unsigned long long)run_ctl_dropped(ctl));
	cairn_monitor_stop(mon);
	mon = NULL;
	fo.traced = auto_capture && rf;
	if (fo.traced || fo.nglobs) /* --artifacts is asked for: not automatic */
		run_files_finish(rf, run, path, python != NULL, ncmd, cmd, store_abs, &fo);
	if (env_started) {
		pthread_join(env_th, NULL);
		env_started = false;
		if (ej.rc)
			run_warn("the environment was not recorded: %s", ej.msg);
		print_warnings(ej.report);
	}
	if (cairn_run_finish(run, st, code) != 0)
		run_warn("cannot record the end of the run: %s", cairn_error_last());
	if (verbose)
		fprintf(stderr, "cairn: run %s %s (exit code %d) after %.1fs\n",
		        cairn_run_name(run), cairn_status_name(st), code, elapsed);
	rc = code;
	goto done;

fail_purge:
	/* Nothing ran: leave no trace of the run (once nothing writes to it). */
	if (env_started) {
		pthread_join(env_th, NULL);
		env_started = false;
	}
	if (run_live) {
		char id[CAIRN_RUN_ID_HEXSZ + 1];
		snprintf(id, sizeof id, "%s", cairn_run_id(run));
		cairn_run_free(run);
		run = NULL;
		cairn_run_delete(s, id, 1);
	}
done:
	if (env_started)
		pthread_join(env_th, NULL);
	cairn_monitor_stop(mon);
	for (int i = 0; i < 2; i++) {
		stream *x = i ? &err : &out;
		cairn_artifact_stream_abort(x->log);
		cairn_metric_parser_free(x->mp);
		if (x->fd >= 0)
			close(x->fd);
	}
	int fds[] = {outp[0], outp[1], errp[0], errp[1], sfd};
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	run_env_free(&env);
	run_files_free(rf);
	for (size_t i = 0; i < nroots; i++)
		free(roots[i]);
	for (size_t i = 0; i < ndatas && data_abs; i++)
		free(data_abs[i]);
	free(roots);
	free(data_abs);
	free(globs);
	free(ignores);
	free(ignore_env);
	cairn_capture_report_free(ej.report);
	run_ctl_free(ctl);
	run_params_free(ps);
	free(pyhook);
	cairn_argv_free(cargv);
	cairn_free(cmdline);
	cairn_capture_report_free(report);
	cairn_free(python);
	free(store_abs);
	free(path);
	free(iobuf);
	cairn_run_free(run);
	cli_args_free(&a);
	free(tags);
	free(params);
	free(configs);
	free(datas);
	return rc;
}
