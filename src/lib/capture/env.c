/*
 * lib/capture/env.c — the environment record of a run: OS, kernel, CPU,
 * memory, GPUs (NVML), host and user, the Python interpreter and its
 * packages, the project's environment files (snapshotted as artifacts of
 * kind "env" under env/<path>), and environment variables.
 *
 * Environment variables pass an allow-list (built in, plus globs from
 * $CAIRN_ENV_ALLOW and the store's config.json); a name that looks secret is
 * never recorded even when allowed, and credentials inside URLs in the values
 * are masked.  The interpreter is asked for its packages by running it with a
 * small script (bounded by a timeout and an output cap); its failure is a
 * warning.  Thread-safety: per call; spawning uses posix_spawn, safe with
 * other threads running.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/capture/capture.h"
#include "lib/store/capture.h"
#include "lib/store/store.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"

extern char **environ;

#define PROBE_OUT_MAX ((size_t)16 << 20)
#define ENV_FILE_MAX  ((int64_t)16 << 20)
#define ENV_VALUE_MAX 8192

/* --- machine facts ------------------------------------------------------------- */

/* The value of KEY=... in an os-release style file, unquoted. */
static bool os_release(char *out, size_t n)
{
	buf b = BUF_INIT;
	bool found = false;
	if (read_file("/etc/os-release", 1 << 16, &b) != 0 &&
	    read_file("/usr/lib/os-release", 1 << 16, &b) != 0) {
		buf_free(&b);
		return false;
	}
	for (char *line = b.ptr; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
			char *v = line + 12;
			size_t l = strlen(v);
			if (l >= 2 && (v[0] == '"' || v[0] == '\'') && v[l - 1] == v[0]) {
				v[l - 1] = '\0';
				v++;
			}
			snprintf(out, n, "%s", v);
			found = true;
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	buf_free(&b);
	return found;
}

static void cpu_model(char *out, size_t n)
{
	buf b = BUF_INIT;
	out[0] = '\0';
	if (read_file("/proc/cpuinfo", 4 << 20, &b) == 0) {
		static const char *const keys[] = {"model name", "Model", "Hardware", "cpu model"};
		for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !out[0]; k++) {
			for (char *line = b.ptr; line && *line;) {
				char *nl = strchr(line, '\n');
				size_t kl = strlen(keys[k]);
				if (strncmp(line, keys[k], kl) == 0 &&
				    (line[kl] == '\t' || line[kl] == ' ' || line[kl] == ':')) {
					char *colon = strchr(line, ':');
					if (colon && (!nl || colon < nl)) {
						colon++;
						while (*colon == ' ' || *colon == '\t')
							colon++;
						size_t l =
						    nl ? (size_t)(nl - colon) : strlen(colon);
						snprintf(out, n, "%.*s", (int)l, colon);
						break;
					}
				}
				line = nl ? nl + 1 : NULL;
			}
		}
	}
	buf_free(&b);
}

/* --- environment variables ------------------------------------------------------ */

static const char *const allow_exact[] = {
    "PATH",
    "PYTHONPATH",
    "PYTHONHASHSEED",
    "PYTHONOPTIMIZE",
    "PYTHONUNBUFFERED",
    "PYTHONWARNINGS",
    "PYTHONNOUSERSITE",
    "VIRTUAL_ENV",
    "CONDA_DEFAULT_ENV",
    "CONDA_PREFIX",
    "CONDA_SHLVL",
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_NUMERIC",
    "TZ",
    "CAIRN_PROJECT",
    "WORLD_SIZE",
    "RANK",
    "LOCAL_RANK",
    "LOCAL_WORLD_SIZE",
    "NODE_RANK",
    "MASTER_ADDR",
    "MASTER_PORT",
    "CC",
    "CXX",
    "MALLOC_ARENA_MAX",
};
static const char *const allow_prefix[] = {
    "CUDA_",          "CUDNN_",     "NCCL_",     "NVIDIA_", "CUBLAS_",       "CUBLASLT_",
    "OMP_",           "MKL_",       "OPENBLAS_", "KMP_",    "GOMP_",         "BLIS_",
    "VECLIB_",        "NUMEXPR_",   "NUMBA_",    "TF_",     "TORCH_",        "PYTORCH_",
    "TORCHINDUCTOR_", "XLA_",       "JAX_",      "HF_",     "TRANSFORMERS_", "TOKENIZERS_",
    "ACCELERATE_",    "DEEPSPEED_", "SLURM_",    "PBS_",    "OMPI_",         "I_MPI_",
    "ROCM_",          "HIP_",       "HSA_",      "ROCR_",
};

bool env_name_allowed(const char *name, char *const *extra, size_t nextra)
{
	for (size_t i = 0; i < sizeof allow_exact / sizeof allow_exact[0]; i++)
		if (strcmp(name, allow_exact[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof allow_prefix / sizeof allow_prefix[0]; i++)
		if (strncmp(name, allow_prefix[i], strlen(allow_prefix[i])) == 0)
			return true;
	for (size_t i = 0; i < nextra; i++)
		if (fnmatch(extra[i], name, 0) == 0)
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void env_vars_json(capture_ctx *c, buf *b)
{
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	char **v = calloc(n + 1, sizeof *v);
	size_t k = 0;
	for (size_t i = 0; v && i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		if (!eq || eq == environ[i])
			continue;
		char name[256];
		size_t nl = (size_t)(eq - environ[i]);
		if (nl >= sizeof name)
			continue;
		memcpy(name, environ[i], nl);
		name[nl] = '\0';
		if (!env_name_allowed(name, c->env_allow, c->nenv_allow) ||
		    cairn_name_is_secret(name))
			continue;
		v[k++] = environ[i];
	}
	if (v)
		qsort(v, k, sizeof *v, cmp_str);
	bool f = true;
	buf_putc(b, '{');
	for (size_t i = 0; i < k; i++) {
		const char *eq = strchr(v[i], '=');
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(eq - v[i]), v[i]);
		char *masked = NULL;
		if (cairn_mask_credentials(&masked, eq + 1) != 0)
			continue;
		json_key(b, &f, name);
		if (strlen(masked) > ENV_VALUE_MAX)
			masked[ENV_VALUE_MAX] = '\0';
		json_str(b, masked);
		cairn_free(masked);
	}
	buf_putc(b, '}');
	free(v);
}

/* --- the interpreter ------------------------------------------------------------------- */

static const char probe_script[] =
    "import sys,json\n"
    "r={'executable':sys.executable,'version':'%d.%d.%d'%tuple(sys.version_info[:3]),"
    "'implementation':sys.implementation.name}\n"
    "if sys.argv[1:]==['1']:\n"
    " p={}\n"
    " try:\n"
    "  from importlib import metadata as m\n"
    "  for d in m.distributions():\n"
    "   try:\n"
    "    n=d.metadata['Name']\n"
    "    if n and n not in p:p[n]=d.version\n"
    "   except Exception:pass\n"
    " except Exception:\n"
    "  try:\n"
    "   import pkg_resources\n"
    "   for d in pkg_resources.working_set:p[d.project_name]=d.version\n"
    "  except Exception:pass\n"
    " r['packages']=p\n"
    "sys.stdout.write('\\n'+json.dumps(r)+'\\n')\n";

/* Run `python -c probe_script [1]` and return the JSON line it prints. */
static int python_probe(capture_ctx *c, const char *python, bool packages, json_doc **out)
{
	int pfd[2] = {-1, -1};
	pid_t pid = -1;
	buf b;
	buf_init_cap(&b, PROBE_OUT_MAX); /* the interpreter's answer */
	int rc = 0;
	*out = NULL;
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return err_set(CAIRN_EIO, "cannot ask %s: %s", python, strerror(errno));
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	char *argv[] = {(char *)python, "-c", (char *)probe_script, packages ? "1" : "0", NULL};
	int e = posix_spawn(&pid, python, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(pfd[1]);
	if (e != 0) {
		close(pfd[0]);
		return err_set(CAIRN_EIO, "cannot run %s: %s", python, strerror(e));
	}
	double timeout = 60;
	const char *t = getenv("CAIRN_PYTHON_TIMEOUT");
	if (t && atof(t) > 0)
		timeout = atof(t);
	double deadline = clock_mono() + timeout;
	bool timed_out = false;
	char chunk[65536];
	for (;;) {
		double left = deadline - clock_mono();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd p = {pfd[0], POLLIN, 0};
		int pr = poll(&p, 1, (int)(left * 1000) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		ssize_t n = read(pfd[0], chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(&b, chunk, (size_t)n);
		if (buf_too_big(&b)) {
			timed_out = true; /* runaway output: treat like a hang */
			break;
		}
	}
	close(pfd[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		rc = err_set(CAIRN_ERROR, "%s did not answer within %.0f s", python, timeout);
		goto done;
	}
	/* the last line that looks like our object (sitecustomize may print) */
	char *start = NULL;
	for (char *p = b.ptr; (p = strstr(p, "\n{\"executable\"")) != NULL; p++)
		start = p + 1;
	if (!start) {
		rc = err_set(CAIRN_ERROR, "%s gave no answer (exit status %d)", python,
		             WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		goto done;
	}
	char err[128];
	size_t len = strcspn(start, "\n");
	*out = json_parse(start, len, NULL, err, sizeof err);
	if (!*out)
		rc = err_set(CAIRN_ERROR, "%s answered with invalid JSON: %s", python, err);
done:
	buf_free(&b);
	return rc;
}

/* A distribution name as PEP 503 normalises it: lower case, each run of
 * '-', '_' and '.' one '-'.  `cairn run` (which asks the interpreter) and
 * the Python binding (which walks sys.path) report names as they find them
 * (`Jinja2`, `PyYAML`, `jinja2`); this is the one place they are made
 * comparable.  False when the name does not fit. */
static bool pep503_name(char *out, size_t cap, const char *name)
{
	size_t n = 0;
	for (const char *p = name; *p; p++) {
		char c = *p;
		if (c == '-' || c == '_' || c == '.') {
			while (p[1] == '-' || p[1] == '_' || p[1] == '.')
				p++;
			c = '-';
		} else {
			c = (char)tolower((unsigned char)c);
		}
		if (n + 1 >= cap)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return n > 0;
}

typedef struct pkg {
	char name[KEY_MAX + 1];
	const char *version;
	size_t order; /* its place in the source's list */
} pkg;

static int cmp_pkg(const void *a, const void *b)
{
	const pkg *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* A JSON object of normalised name -> version, sorted by name.  When two
 * entries normalise to the same name, the first in `obj` wins: both sources
 * list distributions in sys.path order, and the first on sys.path is the one
 * that imports. */
static void packages_json(buf *b, const json *obj)
{
	size_t n = 0;
	for (const json *x = obj ? obj->child : NULL; x; x = x->next)
		n++;
	pkg *v = calloc(n + 1, sizeof *v);
	size_t k = 0;
	for (const json *x = obj ? obj->child : NULL; v && x; x = x->next) {
		if (x->type != JSON_STR || x->len > 256 ||
		    !pep503_name(v[k].name, sizeof v[k].name, x->key))
			continue;
		v[k].version = x->str;
		v[k].order = k;
		k++;
	}
	if (v)
		qsort(v, k, sizeof *v, cmp_pkg);
	bool f = true;
	buf_putc(b, '{');
	for (size_t i = 0; i < k; i++) {
		if (i && strcmp(v[i].name, v[i - 1].name) == 0)
			continue; /* a later entry of the same name */
		json_key(b, &f, v[i].name);
		json_str(b, v[i].version);
	}
	buf_putc(b, '}');
	free(v);
}

/* --- environment files ----------------------------------------------------------------- */

static bool env_file_name(const char *name)
{
	static const char *const globs[] = {
	    "requirements*.txt",
	    "requirements*.in",
	    "environment.yml",
	    "environment.yaml",
	    "conda.yaml",
	    "conda.yml",
	    "Dockerfile",
	    "Dockerfile.*",
	    "*.dockerfile",
	    "Makefile",
	    "pyproject.toml",
	    "setup.cfg",
	    "setup.py",
	    "Pipfile",
	    "Pipfile.lock",
	    "poetry.lock",
	    "uv.lock",
	    "constraints*.txt",
	    ".python-version",
	    "runtime.txt",
	    "docker-compose.yml",
	    "docker-compose.yaml",
	    "compose.yaml",
	    "MLproject",
	};
	for (size_t i = 0; i < sizeof globs / sizeof globs[0]; i++)
		if (fnmatch(globs[i], name, 0) == 0)
			return true;
	return false;
}

static int env_files(capture_ctx *c, buf *b, int *nfiles, const char *dir)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);
	size_t rootlen = strlen(c->root);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *full = NULL, *art = NULL;
		struct stat st;
		if (rc || !env_file_name(name))
			goto next;
		full = path_join(dir, name);
		if (!full || stat(full, &st) != 0 || !S_ISREG(st.st_mode))
			goto next;
		const char *rel = name;
		if (strncmp(full, c->root, rootlen) == 0 && full[rootlen] == '/')
			rel = full + rootlen + 1;
		if (!relpath_is_safe(rel))
			goto next;
		if (st.st_size > ENV_FILE_MAX) {
			capture_warn(c,
			             "environment file '%s' is larger than %lld bytes: not stored",
			             rel, (long long)ENV_FILE_MAX);
			goto next;
		}
		char oid[65];
		art = path_join("env", rel);
		if (!art) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto next;
		}
		/* the same file found from root and from cwd: once */
		buf q = BUF_INIT;
		json_str(&q, rel);
		bool dup = strstr(b->ptr, q.ptr) != NULL;
		buf_free(&q);
		if (dup)
			goto next;
		int e;
		for (int attempt = 0;; attempt++) {
			e = cairn_object_put_file(oid, c->store, full);
			if (e == 0)
				e = store_artifact_put(c->store, c->rid, art, oid,
				                       (int64_t)st.st_size, "text/plain",
				                       CAIRN_ARTIFACT_ENV, NULL, CAIRN_STEP_AUTO);
			if (!object_retry(&e, attempt))
				break;
		}
		if (e) {
			if (e == CAIRN_ENOMEM)
				rc = e;
			capture_warn(c, "cannot store environment file '%s': %s", rel,
			             cairn_error_last());
			goto next;
		}
		bool f = true;
		if ((*nfiles)++)
			buf_putc(b, ',');
		buf_putc(b, '{');
		json_key(b, &f, "path");
		json_str(b, rel);
		json_key(b, &f, "digest");
		buf_printf(b, "\"sha256:%s\"", oid);
		json_key(b, &f, "size");
		json_int(b, (int64_t)st.st_size);
		buf_putc(b, '}');
	next:
		free(full);
		free(art);
		free(ents[i]);
	}
	free(ents);
	return rc;
}

/* --- the record --------------------------------------------------------------------------- */

int env_capture(capture_ctx *c)
{
	buf b = BUF_INIT, files = BUF_INIT;
	json_doc *probe = NULL, *given = NULL;
	bool f = true;
	char tmp[512];
	struct utsname un;
	int rc = 0;
	memset(&un, 0, sizeof un);
	uname(&un);

	buf_putc(&b, '{');
	json_key(&b, &f, "os");
	if (!os_release(tmp, sizeof tmp))
		snprintf(tmp, sizeof tmp, "%s", un.sysname);
	json_str(&b, tmp);
	json_key(&b, &f, "kernel");
	json_str(&b, un.release);
	json_key(&b, &f, "arch");
	json_str(&b, un.machine);
	json_key(&b, &f, "cpu");
	cpu_model(tmp, sizeof tmp);
	json_str(&b, tmp[0] ? tmp : NULL);
	json_key(&b, &f, "cpu_count");
	json_int(&b, sysconf(_SC_NPROCESSORS_ONLN));
	json_key(&b, &f, "memory_bytes");
	json_int(&b, (int64_t)sysconf(_SC_PHYS_PAGES) * (int64_t)sysconf(_SC_PAGESIZE));
	json_key(&b, &f, "hostname");
	if (gethostname(tmp, sizeof tmp - 1) != 0)
		tmp[0] = '\0';
	tmp[sizeof tmp - 1] = '\0';
	json_str(&b, tmp);
	json_key(&b, &f, "user");
	struct passwd *pw = getpwuid(getuid());
	json_str(&b, pw && pw->pw_name ? pw->pw_name : getenv("USER"));

	json_key(&b, &f, "gpus");
	nvml *gpu = nvml_open();
	nvml_gpus_json(gpu, &b);
	nvml_close(gpu);

	/* The interpreter: asked for its version (and packages unless given). */
	const char *py = c->o->python;
	if (py && *py) {
		if (python_probe(c, py, c->o->packages_json == NULL, &probe) != 0) {
			capture_warn(c, "cannot ask the interpreter for its packages: %s",
			             cairn_error_last());
			cairn_error_clear();
		}
	}
	json_key(&b, &f, "python");
	const json *pr = probe ? json_root(probe) : NULL;
	if (pr && pr->type == JSON_OBJ) {
		bool f2 = true;
		buf_putc(&b, '{');
		json_key(&b, &f2, "executable");
		json_str(&b, json_get_str(pr, "executable"));
		json_key(&b, &f2, "version");
		json_str(&b, json_get_str(pr, "version"));
		json_key(&b, &f2, "implementation");
		json_str(&b, json_get_str(pr, "implementation"));
		buf_putc(&b, '}');
	} else if (py && *py) {
		bool f2 = true;
		buf_putc(&b, '{');
		json_key(&b, &f2, "executable");
		json_str(&b, py);
		json_key(&b, &f2, "version");
		buf_puts(&b, "null}");
	} else {
		buf_puts(&b, "null");
	}
	json_key(&b, &f, "packages");
	if (c->o->packages_json) {
		char err[128];
		given = json_parse(c->o->packages_json, strlen(c->o->packages_json), NULL, err,
		                   sizeof err);
		if (!given || json_root(given)->type != JSON_OBJ) {
			capture_warn(c, "ignoring packages_json: %s",
			             given ? "not an object" : err);
			buf_puts(&b, "{}");
		} else {
			packages_json(&b, json_root(given));
		}
	} else {
		packages_json(&b, pr ? json_get(pr, "packages") : NULL);
	}

	json_key(&b, &f, "files");
	int nfiles = 0;
	buf_putc(&files, '[');
	if ((rc = env_files(c, &files, &nfiles, c->root)) != 0)
		goto done;
	if (strcmp(c->root, c->cwd) != 0 && (rc = env_files(c, &files, &nfiles, c->cwd)) != 0)
		goto done;
	buf_putc(&files, ']');
	buf_add(&b, files.ptr, files.len);

	json_key(&b, &f, "env_vars");
	env_vars_json(c, &b);
	json_key(&b, &f, "cairn_version");
	json_str(&b, CAIRN_VERSION);
	buf_putc(&b, '}');
	if (!buf_ok(&b) || !buf_ok(&files)) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	if (c->env_doc) { /* cairn_env_capture_json: the caller keeps it */
		buf_free(c->env_doc);
		*c->env_doc = b;
		buf_init(&b);
		goto done;
	}
	for (int attempt = 0;; attempt++) {
		rc = cairn_object_put_buf(c->env_oid, c->store, b.ptr, b.len);
		if (rc == 0)
			rc = store_run_env_set(c->store, c->rid, c->env_oid);
		if (!object_retry(&rc, attempt))
			break;
	}
	if (rc)
		c->env_oid[0] = '\0';
done:
	json_doc_free(probe);
	json_doc_free(given);
	buf_free(&b);
	buf_free(&files);
	return rc;
}
