/*
 * lib/store/open.c — finding, creating, opening and closing a store.
 *
 * Discovery order (DESIGN.md §3): explicit directory, $CAIRN_DIR, the nearest
 * `.cairn/` walking up from the working directory, the per-user store.  A
 * `.cairn` on the way up that is not a directory (a file, a dangling or
 * broken symbolic link) stops the walk with an error: passing it by would
 * put the runs silently into some other store.  A symbolic link to a store
 * directory is that store.
 *
 * A URI (postgresql://…) names a store outright: no discovery, no
 * directory checks, nothing joined to it or made absolute.  The handle
 * keeps the URI as given for the backend (s->uri) and shows it without its
 * password (s->dir, cairn_store_path, messages).
 *
 * The handle is generic (internal.h); its backend, chosen by
 * store_backend_for from the location, connects in ops->open and lets go
 * in ops->close (lib/store/backend.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/store/backend.h"
#include "lib/store/objects.h"
#include "util/fs.h"

bool store_is_uri(const char *location)
{
	if (!location)
		return false;
	const char *p = location;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	return p > location && strncmp(p, "://", 3) == 0;
}

char *store_uri_redact(const char *uri)
{
	buf b = BUF_INIT;
	const char *p = strstr(uri, "://");
	size_t auth = p ? (size_t)(p - uri) + 3 : 0, e = auth;
	while (uri[e] && uri[e] != '/' && uri[e] != '?')
		e++;
	/* user:password@ — the last '@' of the authority ends the user info */
	size_t at = e, colon = e;
	for (size_t i = auth; i < e; i++)
		if (uri[i] == '@')
			at = i;
	for (size_t i = auth; i < at; i++)
		if (uri[i] == ':') {
			colon = i;
			break;
		}
	if (at < e && colon < at) {
		buf_add(&b, uri, colon + 1);
		buf_puts(&b, "***");
		buf_add(&b, uri + at, e - at);
	} else {
		buf_add(&b, uri, e);
	}
	/* the path, then the query with any password=... hidden */
	const char *q = uri + e;
	while (*q) {
		size_t n = strcspn(q + 1, "?&") + 1;
		if (n >= 10 && strncmp(q + 1, "password=", 9) == 0) {
			buf_putc(&b, *q);
			buf_puts(&b, "password=***");
		} else {
			buf_add(&b, q, n);
		}
		q += n;
	}
	return buf_detach(&b);
}

static const char *file_kind(mode_t m)
{
	if (S_ISREG(m))
		return "a regular file";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a directory";
}

/* Is something other than a directory (or a link to one) at path?  Then
 * `what` says what: "a regular file", "a symbolic link to 'x', which does
 * not exist", ...  false when path is a directory or nothing is there. */
static bool not_a_dir(const char *path, char *what, size_t n)
{
	struct stat st;
	if (lstat(path, &st) != 0 || S_ISDIR(st.st_mode))
		return false;
	if (!S_ISLNK(st.st_mode)) {
		snprintf(what, n, "%s", file_kind(st.st_mode));
		return true;
	}
	char target[PATH_MAX];
	ssize_t k = readlink(path, target, sizeof target - 1);
	target[k > 0 ? k : 0] = '\0';
	struct stat ts;
	if (stat(path, &ts) != 0) {
		int e = errno;
		if (e == ENOENT)
			snprintf(what, n, "a symbolic link to '%s', which does not exist", target);
		else
			snprintf(what, n, "a symbolic link to '%s', which cannot be followed (%s)",
			         target, strerror(e));
		return true;
	}
	if (S_ISDIR(ts.st_mode))
		return false;
	snprintf(what, n, "a symbolic link to '%s', which is %s", target, file_kind(ts.st_mode));
	return true;
}

/* The nearest dir/.cairn walking up from the working directory: 1 with
 * *out set, 0 when there is none, or an error when a `.cairn` on the way is
 * not a directory (silently passing it by would put runs in another store). */
static int find_walking_up(char **out)
{
	char cwd[PATH_MAX], what[PATH_MAX + 128];
	if (!getcwd(cwd, sizeof cwd))
		return 0;
	for (;;) {
		bool root = strcmp(cwd, "/") == 0;
		char *cand = path_join(cwd, ".cairn");
		if (!cand)
			return err_set(CAIRN_ENOMEM, "out of memory");
		if (path_is_dir(cand)) {
			*out = cand;
			return 1;
		}
		if (not_a_dir(cand, what, sizeof what)) {
			int rc =
			    err_set(CAIRN_ESTORE,
			            "'%s' is not a store directory: it is %s (remove it, or name "
			            "the store explicitly)",
			            cand, what);
			free(cand);
			return rc;
		}
		free(cand);
		if (root)
			return 0;
		char *slash = strrchr(cwd, '/');
		if (!slash)
			return 0;
		slash[slash == cwd ? 1 : 0] = '\0';
	}
}

int cairn_store_find(char **out_dir, const char *explicit_dir)
{
	*out_dir = NULL;
	const char *d = explicit_dir;
	if (!d || !*d)
		d = getenv("CAIRN_DIR");
	if (!d || !*d)
		d = getenv("CAIRN_URI"); /* a server's URL (DESIGN.md §3) */
	if (d && *d) {
		*out_dir = strdup(d);
		return *out_dir ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	}
	int found = find_walking_up(out_dir);
	if (found != 0)
		return found > 0 ? 0 : found;
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	char *base = NULL;
	if (xdg && *xdg)
		base = strdup(xdg);
	else if (home && *home)
		base = path_join(home, ".local/share");
	else
		return err_set(CAIRN_ENOTFOUND,
		               "no store found: no .cairn/ above the working directory and neither "
		               "XDG_DATA_HOME nor HOME is set");
	if (!base)
		return err_set(CAIRN_ENOMEM, "out of memory");
	*out_dir = path_join(base, "cairn");
	free(base);
	return *out_dir ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

static void store_free(cairn_store *s)
{
	if (!s)
		return;
	if (s->ops)
		s->ops->close(s);
	if (s->obj_ops)
		s->obj_ops->close(s);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->wlock);
	free(s->dir);
	free(s->uri);
	free(s->objects_dir);
	free(s->objects_loc);
	free(s);
}

static int store_alloc(cairn_store **out, const char *dir)
{
	cairn_store *s = calloc(1, sizeof *s);
	if (!s)
		return err_set(CAIRN_ENOMEM, "out of memory");
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->lock, &a);
	pthread_mutexattr_destroy(&a);
	pthread_mutex_init(&s->wlock, NULL);
	s->ops = store_backend_for(dir);
	s->obj_ops = &objects_dir_ops; /* until objects_attach says otherwise */
	if (store_is_uri(dir) && s->ops == store_backend_for(NULL)) {
		char *shown = store_uri_redact(dir);
		s->ops = NULL;
		store_free(s);
		int rc =
		    err_set(CAIRN_EINVALID,
		            "cannot open store '%s': not a directory, and no store backend "
		            "knows this URI scheme (postgresql:// and postgres:// are PostgreSQL, "
		            "http:// and https:// a cairn server)",
		            shown ? shown : dir);
		free(shown);
		return rc;
	}
	if (store_is_uri(dir)) {
		/* the backend says where the objects are (ops->open) */
		s->uri = strdup(dir);
		s->dir = store_uri_redact(dir);
		s->objects_dir = strdup("");
	} else {
		s->dir = strdup(dir);
		s->objects_dir = path_join(dir, "objects");
	}
	s->stale_after = 60.0;
	const char *st = getenv("CAIRN_HEARTBEAT_STALE");
	if (st && atof(st) > 0)
		s->stale_after = atof(st);
	if (!s->dir || !s->objects_dir || (store_is_uri(dir) && !s->uri)) {
		store_free(s);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = s;
	return 0;
}

/* cairn init of a URI store: connect, create the schema unless it is there
 * (CAIRN_EEXISTS then); *out_dir is the URI without its password. */
static int init_uri(char **out_dir, const char *uri, const char *objects)
{
	cairn_store *s = NULL;
	int rc = 0;
	if (objects && (rc = objects_location_check(objects)) != 0)
		return err_wrap(rc, "cannot create store");
	if (objects && strncmp(objects, "s3://", 5) == 0 && (rc = objects_s3_check(objects)) != 0)
		return err_wrap(rc, "cannot create store");
	if ((rc = store_alloc(&s, uri)) != 0)
		return rc;
	if (s->ops == &store_remote_ops) {
		rc = err_set(CAIRN_EINVALID,
		             "cannot create store '%s': a store behind a server is made where the "
		             "server runs ('cairn init' there, then 'cairn server')",
		             s->dir);
		store_free(s);
		return rc;
	}
	if ((rc = s->ops->open(s, true)) == 0 && !s->created)
		rc = err_set(CAIRN_EEXISTS, "store '%s' already exists", s->dir);
	if (rc == 0 && objects)
		rc = store_setting_put(s, "objects", objects);
	if (out_dir && (rc == 0 || rc == CAIRN_EEXISTS)) {
		*out_dir = strdup(s->dir);
		if (!*out_dir)
			rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
	store_free(s);
	return rc;
}

int cairn_store_init(char **out_dir, const char *dir)
{
	return cairn_store_init_objects(out_dir, dir, NULL);
}

int cairn_store_init_objects(char **out_dir, const char *dir, const char *objects)
{
	char *base = NULL, *sd = NULL;
	cairn_store *s = NULL;
	int rc = 0;
	if (out_dir)
		*out_dir = NULL;
	if (!dir || !*dir)
		dir = ".";
	if (store_is_uri(dir))
		return init_uri(out_dir, dir, objects);
	if (!path_is_dir(dir))
		return err_set(CAIRN_ENOTFOUND, "cannot create store: '%s' is not a directory",
		               dir);
	/* The objects' place is checked before anything is made: a bad URI, no
	 * credentials, an unreachable endpoint or a missing bucket leave no
	 * store behind. */
	if (objects && (rc = objects_location_check(objects)) != 0)
		return err_wrap(rc, "cannot create store");
	if (objects && strncmp(objects, "s3://", 5) == 0 && (rc = objects_s3_check(objects)) != 0)
		return err_wrap(rc, "cannot create store");
	base = path_abs(dir);
	if (!base)
		return err_set(CAIRN_EIO, "cannot resolve '%s': %s", dir, strerror(errno));
	sd = path_join(base, ".cairn");
	if (!sd) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	char what[PATH_MAX + 128];
	if (not_a_dir(sd, what, sizeof what)) {
		/* not "already exists": nothing usable is there (out_dir stays NULL) */
		rc = err_set(CAIRN_EEXISTS, "cannot create store: '%s' exists and is %s", sd, what);
		free(sd);
		sd = NULL;
		goto done;
	}
	bool existed = path_exists(sd);
	char *objs = path_join(sd, "objects");
	int e = objs ? mkdir_p(objs) : -ENOMEM;
	free(objs);
	if (e) {
		rc = err_set(CAIRN_EIO, "cannot create store '%s': %s", sd, strerror(-e));
		goto done;
	}
	if ((rc = store_alloc(&s, sd)) != 0)
		goto done;
	if ((rc = s->ops->open(s, true)) != 0)
		goto done;
	if (existed)
		rc = err_set(CAIRN_EEXISTS, "store '%s' already exists", sd);
	else if (objects)
		rc = store_setting_put(s, "objects", objects);
done:
	store_free(s);
	free(base);
	if (out_dir && (rc == 0 || rc == CAIRN_EEXISTS))
		*out_dir = sd;
	else
		free(sd);
	return rc;
}

int cairn_store_open(cairn_store **out, const char *store_dir)
{
	char *dir = NULL;
	cairn_store *s = NULL;
	int rc;
	*out = NULL;
	bool explicit_dir = (store_dir && *store_dir) ||
	                    (getenv("CAIRN_DIR") && *getenv("CAIRN_DIR")) ||
	                    (getenv("CAIRN_URI") && *getenv("CAIRN_URI"));
	if ((rc = cairn_store_find(&dir, store_dir)) != 0)
		return rc;
	if (store_is_uri(dir))
		goto connect; /* a URI names its store outright */
	bool walked =
	    !explicit_dir && strlen(dir) >= 7 && strcmp(dir + strlen(dir) - 7, "/.cairn") == 0;
	if (!path_is_dir(dir)) {
		char what[PATH_MAX + 128];
		if (not_a_dir(dir, what, sizeof what)) {
			rc = err_set(CAIRN_ESTORE,
			             "cannot open store '%s': not a directory (it is %s)", dir,
			             what);
			goto done;
		}
		if (explicit_dir || walked) {
			rc = err_set(CAIRN_ENOTFOUND, "cannot open store '%s': no such directory",
			             dir);
			goto done;
		}
		/* the per-user default is created on first use */
		char *objs = path_join(dir, "objects");
		int e = objs ? mkdir_p(objs) : -ENOMEM;
		free(objs);
		if (e) {
			rc = err_set(CAIRN_EIO, "cannot create store '%s': %s", dir, strerror(-e));
			goto done;
		}
	}
connect:
	if ((rc = store_alloc(&s, dir)) != 0)
		goto done;
	if ((rc = s->ops->open(s, true)) != 0 || (rc = objects_attach(s)) != 0)
		goto done;
	/* The logs of a writer that died are attached now, and old stray temp
	 * files go (objects-tmp.c); best effort: cairn gc reports failures. */
	objects_tmp_collect(s, OBJECTS_TMP_STALE, &s->at_open);
	*out = s;
	s = NULL;
done:
	store_free(s);
	free(dir);
	return rc;
}

int store_open_peer(cairn_store **out, const cairn_store *src, bool mapped)
{
	*out = NULL;
	if (!src)
		return err_set(CAIRN_EINVALID, "cannot open a peer of no store");
	cairn_store *s = NULL;
	int rc = store_alloc(&s, src->uri ? src->uri : src->dir);
	if (rc)
		return rc;
	s->stale_after = src->stale_after;
	s->pinned_now = src->pinned_now;
	s->peer = true;
	s->peer_mapped = mapped;
	if ((rc = s->ops->open(s, false)) != 0 || (rc = objects_attach(s)) != 0 ||
	    (src->cache_kib && (rc = cairn_store_set_cache(s, src->cache_kib)) != 0)) {
		store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int cairn_store_open_peer(cairn_store **out, const cairn_store *src)
{
	return store_open_peer(out, src, true);
}

int cairn_store_set_cache(cairn_store *s, int64_t kib)
{
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	if (kib < 64 || kib > (INT64_C(1) << 30))
		return err_set(CAIRN_EINVALID, "a page cache of %lld KiB: give 64 KiB to 1 TiB",
		               (long long)kib);
	s->cache_kib = kib;
	if (!s->ops->cache_size)
		return 0;
	store_lock(s);
	int rc = s->ops->cache_size(s, kib);
	store_unlock(s);
	return rc;
}

int cairn_store_flush(cairn_store *s)
{
	return s ? writer_flush(s) : 0;
}

uint64_t cairn_store_write_mark(cairn_store *s)
{
	return s ? writer_mark(s) : 0;
}

void cairn_store_flush_to(cairn_store *s, uint64_t mark)
{
	if (s)
		writer_wait(s, mark);
}

void cairn_store_close(cairn_store *s)
{
	if (!s)
		return;
	writer_stop(s);
	store_free(s);
}

const char *cairn_store_path(const cairn_store *s)
{
	return s ? s->dir : NULL;
}

int cairn_store_check(cairn_store *s)
{
	store_lock(s);
	int rc = s->ops->check(s);
	store_unlock(s);
	return rc;
}
