/*
 * lib/capture/git.c — the code version of a run in a git work tree, with
 * libgit2: commit, branch (or "(detached)"), the remote's URL without
 * credentials, the dirty flag, and a snapshot from which the exact work tree
 * can be rebuilt without the repository or its remote.
 *
 * The snapshot (docs/internals/capture.md) is
 *   - the base manifest: every file of HEAD's tree, its bytes stored once in
 *     the object store.  A blob's stored object is remembered in the code map
 *     ("blob:<sha1>"), and the manifest itself under "tree:<sha1>:<cap>", so
 *     a run on a tree seen before reads the map and stores nothing; a new
 *     commit costs only its new blobs.  This is what makes unpushed (or later
 *     rewritten) commits restorable.
 *   - the run's changes, from `git status`: modified (staged or not), added,
 *     untracked-not-ignored and deleted paths, with the work tree's bytes.
 * Files stored through a filter are exact too: builtin filters (eol, ident)
 * are applied to the blob as checkout would; files with an external filter
 * driver (e.g. Git LFS) have work-tree bytes git cannot reproduce, so they
 * are taken from the work tree on every run (status "filtered").
 * Never stored: ignored files, the store itself when it sits in the tree,
 * and files named like secrets (secret_file_name), which are listed only.
 *
 * Thread-safety: libgit2 objects are owned by the call.
 */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/capture/capture.h"
#include "lib/capture/lg2.h"
#include "lib/store/capture.h"
#include "util/fs.h"
#include "util/json.h"

static int git_fail(const char *what)
{
	const git_error *ge = lg2.error_last();
	return err_set(CAIRN_ERROR, "%s: %s", what,
	               ge && ge->message ? ge->message : "libgit2 error");
}

/* The URL without user name or password for http(s) and the like; ssh keeps
 * the user name (it is not a secret) but drops a password. */
static char *url_strip_credentials(const char *url)
{
	if (!url)
		return NULL;
	const char *sep = strstr(url, "://");
	if (!sep)
		return strdup(url); /* scp-like git@host:path: no secret */
	const char *auth = sep + 3;
	size_t alen = strcspn(auth, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < alen; i++)
		if (auth[i] == '@')
			at = auth + i;
	if (!at)
		return strdup(url);
	bool ssh = (size_t)(sep - url) >= 3 && strncmp(sep - 3, "ssh", 3) == 0;
	buf b = BUF_INIT;
	buf_add(&b, url, (size_t)(auth - url));
	if (ssh) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		buf_add(&b, auth, (size_t)((colon ? colon : at) - auth));
		buf_putc(&b, '@');
	}
	buf_puts(&b, at + 1);
	return buf_detach(&b);
}

/* The URL of the branch's upstream remote, else origin, else the first
 * remote configured.  Read from the config directly: in libgit2 1.5,
 * git_remote_lookup and git_remote_list leak when a regex does not match. */
static char *remote_url(git_repository *repo, git_reference *head)
{
	git_config *cfg = NULL;
	char key[512], name[256] = "";
	const char *v = NULL;
	char *url = NULL;
	if (lg2.repository_config_snapshot(&cfg, repo) != 0) {
		lg2.error_clear();
		return NULL;
	}
	if (head && lg2.reference_is_branch(head)) {
		snprintf(key, sizeof key, "branch.%s.remote", lg2.reference_shorthand(head));
		if (lg2.config_get_string(&v, cfg, key) == 0 && v && *v && strcmp(v, ".") != 0)
			snprintf(name, sizeof name, "%s", v);
	}
	if (!name[0] && lg2.config_get_string(&v, cfg, "remote.origin.url") == 0)
		snprintf(name, sizeof name, "origin");
	if (!name[0]) {
		git_config_iterator *it = NULL;
		git_config_entry *ce = NULL;
		if (lg2.config_iterator_new(&it, cfg) == 0) {
			while (!name[0] && lg2.config_next(&ce, it) == 0) {
				size_t n = strlen(ce->name);
				if (strncmp(ce->name, "remote.", 7) == 0 && n > 11 &&
				    strcmp(ce->name + n - 4, ".url") == 0 && n - 11 < sizeof name)
					snprintf(name, sizeof name, "%.*s", (int)(n - 11),
					         ce->name + 7);
			}
		}
		lg2.config_iterator_free(it);
	}
	snprintf(key, sizeof key, "remote.%s.url", name);
	if (name[0] && lg2.config_get_string(&v, cfg, key) == 0 && v)
		url = url_strip_credentials(v);
	lg2.config_free(cfg);
	lg2.error_clear();
	return url;
}

/* --- the base manifest of a committed tree ----------------------------------- */

typedef struct walk_state {
	code_list *l;
	int rc;
} walk_state;

static int walk_cb(const char *root, const git_tree_entry *te, void *payload)
{
	walk_state *w = payload;
	git_object_t type = lg2.tree_entry_type(te);
	git_filemode_t mode = lg2.tree_entry_filemode(te);
	if (type == GIT_OBJECT_TREE)
		return 0;
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s%s", root, lg2.tree_entry_name(te)) >=
	    sizeof path)
		return 0;
	if (!relpath_is_safe(path))
		return 0; /* git refuses such paths too; never write them */
	code_entry *e = code_list_add(w->l, path);
	if (!e) {
		w->rc = err_set(CAIRN_ENOMEM, "out of memory");
		return -1;
	}
	lg2.oid_tostr(e->git, sizeof e->git, lg2.tree_entry_id(te));
	if (type == GIT_OBJECT_COMMIT)
		e->mode = MODE_GITLINK;
	else if (mode == GIT_FILEMODE_LINK)
		e->mode = MODE_LINK;
	else if (mode == GIT_FILEMODE_BLOB_EXECUTABLE)
		e->mode = MODE_EXEC;
	else
		e->mode = MODE_FILE;
	return 0;
}

/* Could any file of the tree go through a filter on checkout? */
static bool may_filter(git_repository *repo, const code_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(path_base(l->v[i].path), ".gitattributes") == 0)
			return true;
	char *info = path_join(lg2.repository_path(repo), "info/attributes");
	bool found = info && path_exists(info);
	free(info);
	if (found)
		return true;
	git_config *cfg = NULL;
	if (lg2.repository_config_snapshot(&cfg, repo) == 0) {
		int v = 0;
		const char *s = NULL;
		if (lg2.config_get_bool(&v, cfg, "core.autocrlf") == 0 && v)
			found = true;
		if (lg2.config_get_string(&s, cfg, "core.attributesfile") == 0 && s && *s)
			found = true;
		lg2.config_free(cfg);
	}
	lg2.error_clear();
	if (found)
		return true;
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char p[PATH_MAX];
	if (xdg && *xdg)
		snprintf(p, sizeof p, "%s/git/attributes", xdg);
	else
		snprintf(p, sizeof p, "%s/.config/git/attributes", home ? home : "");
	return path_exists(p);
}

enum { FILTER_NONE, FILTER_BUILTIN, FILTER_EXTERNAL };

static int filter_kind(git_repository *repo, const char *path)
{
	const char *v = NULL;
	if (lg2.attr_get(&v, repo, 0, path, "filter") == 0 &&
	    lg2.attr_value(v) == GIT_ATTR_VALUE_STRING) /* GIT_ATTR_HAS_VALUE, through the table */
		return FILTER_EXTERNAL;
	git_filter_list *fl = NULL;
	int kind = FILTER_NONE;
	if (lg2.filter_list_load(&fl, repo, NULL, path, GIT_FILTER_TO_WORKTREE,
	                         GIT_FILTER_DEFAULT) == 0 &&
	    fl)
		kind = FILTER_BUILTIN;
	lg2.filter_list_free(fl);
	lg2.error_clear();
	return kind;
}

typedef struct bcand {
	code_entry *e;
	int64_t size;
	int filter;
} bcand;

static int by_size(const void *a, const void *b)
{
	const bcand *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return strcmp(x->e->path, y->e->path);
}

/* A blob's bytes as they appear in the work tree. */
static int blob_content(git_repository *repo, const code_entry *e, int filter, git_blob **blob,
                        git_buf *fbuf, const void **data, size_t *len)
{
	git_oid id;
	if (lg2.oid_fromstr(&id, e->git) != 0 || lg2.blob_lookup(blob, repo, &id) != 0)
		return git_fail("cannot read a committed file");
	if (filter == FILTER_BUILTIN) {
		git_blob_filter_options fo;
		lg2.blob_filter_options_init(&fo, GIT_BLOB_FILTER_OPTIONS_VERSION);
		if (lg2.blob_filter(fbuf, *blob, e->path, &fo) != 0)
			return git_fail("cannot filter a committed file");
		*data = fbuf->ptr;
		*len = fbuf->size;
	} else {
		*data = lg2.blob_rawcontent(*blob);
		*len = (size_t)lg2.blob_rawsize(*blob);
	}
	return 0;
}

typedef struct base_info {
	char oid[65];
	int64_t files, bytes, omitted;
	code_list filtered; /* paths with an external filter driver */
} base_info;

/* Read the "filtered" list of a cached manifest. */
static int load_filtered(capture_ctx *c, base_info *bi)
{
	void *data = NULL;
	size_t len = 0;
	char err[128];
	int rc = cairn_object_read(&data, &len, c->store, bi->oid, MANIFEST_MAX);
	if (rc)
		return rc;
	json_limits lim = {64, MANIFEST_MAX};
	json_doc *d = json_parse(data, len, &lim, err, sizeof err);
	free(data);
	if (!d)
		return err_set(CAIRN_EINVALID, "damaged base manifest %s: %s", bi->oid, err);
	const json *f = json_get(json_root(d), "filtered");
	for (const json *x = f && f->type == JSON_ARR ? f->child : NULL; x; x = x->next) {
		if (x->type != JSON_STR || !relpath_is_safe(x->str))
			continue;
		if (!code_list_add(&bi->filtered, x->str)) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
	}
	json_doc_free(d);
	return rc;
}

#define MAPKEY_SZ 72 /* "blob:<40 hex>", "nb:<40 hex>", "pin:<64 hex>" */

static int ensure_base(capture_ctx *c, git_repository *repo, git_tree *tree, base_info *bi)
{
	char tsha[GIT_OID_HEXSZ + 1];
	char keybuf[4][128];
	const char *keys[4];
	char oids[4][65];
	int64_t sizes[4];
	code_list l = {0};
	bcand *cs = NULL;
	char(*map_oids)[65] = NULL;
	int64_t *map_sizes = NULL;
	const char **map_keys = NULL;
	char *map_keybuf = NULL;
	buf m = BUF_INIT;
	int rc = 0;

	lg2.oid_tostr(tsha, sizeof tsha, lg2.tree_id(tree));
	static const char *const kinds[4] = {"tree", "treefiles", "treefiltered", "treeomitted"};
	for (int i = 0; i < 4; i++) {
		snprintf(keybuf[i], sizeof keybuf[i], "%s:%s:%lld", kinds[i], tsha,
		         (long long)c->cap);
		keys[i] = keybuf[i];
	}
	if ((rc = store_code_map_get(c->store, keys, 4, oids, sizes)) != 0)
		return rc;
	char *p = NULL;
	if (oids[0][0] && oids[1][0] && oids[2][0] && oids[3][0] &&
	    cairn_object_path(&p, c->store, oids[0]) == 0) {
		free(p);
		memcpy(bi->oid, oids[0], 65);
		bi->bytes = sizes[0];
		bi->files = sizes[1];
		bi->omitted = sizes[3];
		return sizes[2] > 0 ? load_filtered(c, bi) : 0;
	}
	cairn_error_clear();

	/* Build it: walk the tree, find what the map already knows, store the rest. */
	walk_state w = {&l, 0};
	if (lg2.tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, &w) != 0) {
		rc = w.rc ? w.rc : git_fail("cannot read the committed tree");
		goto done;
	}
	bool filters = may_filter(repo, &l);
	cs = calloc(l.n + 1, sizeof *cs);
	map_oids = calloc(l.n * 2 + 1, sizeof *map_oids);
	map_sizes = calloc(l.n * 2 + 1, sizeof *map_sizes);
	map_keys = calloc(l.n * 2 + 1, sizeof *map_keys);
	map_keybuf = malloc((l.n * 2 + 1) * MAPKEY_SZ);
	if (!cs || !map_oids || !map_sizes || !map_keys || !map_keybuf) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	/* Look up "blob:<sha1>" for every file, "nb:<sha1>" for notebooks. */
	size_t nk = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].mode == MODE_GITLINK)
			continue;
		char *k = map_keybuf + nk * MAPKEY_SZ;
		snprintf(k, MAPKEY_SZ, "blob:%s", l.v[i].git);
		map_keys[nk++] = k;
		if (is_notebook(l.v[i].path)) {
			k = map_keybuf + nk * MAPKEY_SZ;
			snprintf(k, MAPKEY_SZ, "nb:%s", l.v[i].git);
			map_keys[nk++] = k;
		}
	}
	if ((rc = store_code_map_get(c->store, map_keys, nk, map_oids, map_sizes)) != 0)
		goto done;
	git_odb *odb = NULL;
	if (lg2.repository_odb(&odb, repo) != 0) {
		rc = git_fail("cannot open the object database");
		goto done;
	}
	size_t ncs = 0, k = 0;
	for (size_t i = 0; i < l.n; i++) {
		code_entry *e = &l.v[i];
		if (e->mode == MODE_GITLINK)
			continue;
		int filter = filters ? filter_kind(repo, e->path) : FILTER_NONE;
		size_t kb = k++;
		size_t knb = is_notebook(e->path) ? k++ : (size_t)-1;
		if (filter == FILTER_EXTERNAL) {
			e->status = ST_FILTERED; /* taken from the work tree per run */
			continue;
		}
		int64_t size = -1;
		if (filter == FILTER_NONE && map_oids[kb][0]) {
			memcpy(e->oid, map_oids[kb], 65);
			size = map_sizes[kb];
			if (knb != (size_t)-1 && map_oids[knb][0])
				memcpy(e->script, map_oids[knb], 65);
		}
		if (size < 0) {
			size_t len = 0;
			git_object_t type;
			git_oid id;
			if (lg2.oid_fromstr(&id, e->git) == 0 &&
			    lg2.odb_read_header(&len, &type, odb, &id) == 0)
				size = (int64_t)len;
			else
				size = 0;
			lg2.error_clear();
		}
		e->size = size;
		cs[ncs].e = e;
		cs[ncs].size = size;
		cs[ncs].filter = filter;
		ncs++;
	}
	lg2.odb_free(odb);
	qsort(cs, ncs, sizeof *cs, by_size);

	/* Smallest first within the cap; store what is not stored yet. */
	size_t nput = 0;
	int64_t total = 0;
	for (size_t i = 0; i < ncs; i++) {
		code_entry *e = cs[i].e;
		if (total + cs[i].size > c->cap) {
			e->oid[0] = e->script[0] = '\0';
			e->omitted = "size cap";
			snprintf(e->digest, sizeof e->digest, "git:%s", e->git);
			bi->omitted++;
			continue;
		}
		total += cs[i].size;
		bool need_nb = is_notebook(e->path) && !e->script[0];
		if (e->oid[0] && !need_nb)
			continue;
		git_blob *blob = NULL;
		git_buf fbuf = {0};
		const void *data = NULL;
		size_t len = 0;
		rc = blob_content(repo, e, cs[i].filter, &blob, &fbuf, &data, &len);
		if (rc == 0 && !e->oid[0])
			rc = cairn_object_put_buf(e->oid, c->store, data, len);
		if (rc == 0 && need_nb && len <= NOTEBOOK_MAX)
			code_store_script(c->store, data, len, e->script);
		e->size = (int64_t)len;
		lg2.blob_free(blob);
		lg2.buf_dispose(&fbuf);
		if (rc)
			goto done;
		/* The map keeps every object the base manifest names from purge
		 * (store.md): "blob:"/"nb:" are also found again by the next
		 * capture; filtered bytes depend on the path's attributes, so they
		 * are only pinned ("pin:<oid>"). */
		bool plain = cs[i].filter == FILTER_NONE;
		snprintf(map_keybuf + nput * MAPKEY_SZ, MAPKEY_SZ, plain ? "blob:%s" : "pin:%s",
		         plain ? e->git : e->oid);
		map_keys[nput] = map_keybuf + nput * MAPKEY_SZ;
		memcpy(map_oids[nput], e->oid, 65);
		map_sizes[nput] = e->size;
		nput++;
		if (e->script[0]) {
			snprintf(map_keybuf + nput * MAPKEY_SZ, MAPKEY_SZ,
			         plain ? "nb:%s" : "pin:%s", plain ? e->git : e->script);
			map_keys[nput] = map_keybuf + nput * MAPKEY_SZ;
			memcpy(map_oids[nput], e->script, 65);
			map_sizes[nput] = 0;
			nput++;
		}
	}
	/* The manifest: every file but the externally filtered ones, which are
	 * listed apart. */
	bool f = true;
	int64_t nfiltered = 0;
	buf_putc(&m, '{');
	json_key(&m, &f, "format");
	json_int(&m, 1);
	json_key(&m, &f, "tree");
	json_str(&m, tsha);
	json_key(&m, &f, "files");
	buf_putc(&m, '[');
	bool first = true;
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].status == ST_FILTERED) {
			nfiltered++;
			continue;
		}
		if (!first)
			buf_putc(&m, ',');
		first = false;
		code_entry_json(&m, &l.v[i]);
		bi->files++;
		if (l.v[i].size > 0)
			bi->bytes += l.v[i].size;
	}
	buf_puts(&m, "],");
	json_str(&m, "filtered");
	buf_puts(&m, ":[");
	first = true;
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].status != ST_FILTERED)
			continue;
		if (!first)
			buf_putc(&m, ',');
		first = false;
		json_str(&m, l.v[i].path);
		if (!code_list_add(&bi->filtered, l.v[i].path)) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto done;
		}
	}
	buf_puts(&m, "]}");
	if (!buf_ok(&m)) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = cairn_object_put_buf(bi->oid, c->store, m.ptr, m.len)) != 0)
		goto done;
	/* Remember the blobs, then the tree (so a tree entry implies its blobs). */
	if ((rc = store_code_map_put(c->store, map_keys, (const char(*)[65])map_oids, map_sizes,
	                             nput)) != 0)
		goto done;
	int64_t tsizes[4] = {bi->bytes, bi->files, nfiltered, bi->omitted};
	char toids[4][65];
	for (int i = 0; i < 4; i++)
		memcpy(toids[i], bi->oid, 65);
	rc = store_code_map_put(c->store, keys, (const char(*)[65])toids, tsizes, 4);
done:
	code_list_free(&l);
	free(cs);
	free(map_oids);
	free(map_sizes);
	free(map_keys);
	free(map_keybuf);
	buf_free(&m);
	return rc;
}

/* --- the work tree's changes ------------------------------------------------ */

static bool in_tree(git_tree *tree, const char *path)
{
	git_tree_entry *te = NULL;
	if (!tree || lg2.tree_entry_bypath(&te, tree, path) != 0) {
		lg2.error_clear();
		return false;
	}
	bool blob = lg2.tree_entry_type(te) == GIT_OBJECT_BLOB;
	lg2.tree_entry_free(te);
	return blob;
}

#define STAGED_FLAGS                                                                               \
	(GIT_STATUS_INDEX_NEW | GIT_STATUS_INDEX_MODIFIED | GIT_STATUS_INDEX_DELETED |             \
	 GIT_STATUS_INDEX_RENAMED | GIT_STATUS_INDEX_TYPECHANGE)
#define UNSTAGED_FLAGS                                                                             \
	(GIT_STATUS_WT_MODIFIED | GIT_STATUS_WT_DELETED | GIT_STATUS_WT_TYPECHANGE |               \
	 GIT_STATUS_WT_RENAMED | GIT_STATUS_WT_UNREADABLE)

static int collect_changes(capture_ctx *c, git_repository *repo, git_tree *tree, code_list *out)
{
	git_status_list *sl = NULL;
	git_status_options so;
	lg2.status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
	           GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH;
	if (lg2.status_list_new(&sl, repo, &so) != 0)
		return git_fail("cannot read the status of the work tree");
	int rc = 0;
	size_t n = lg2.status_list_entrycount(sl);
	for (size_t i = 0; i < n; i++) {
		const git_status_entry *se = lg2.status_byindex(sl, i);
		unsigned s = se->status;
		if (s == GIT_STATUS_CURRENT || (s & GIT_STATUS_IGNORED))
			continue;
		const char *path = se->index_to_workdir ? se->index_to_workdir->old_file.path
		                   : se->head_to_index  ? se->head_to_index->old_file.path
		                                        : NULL;
		if (!path || !relpath_is_safe(path))
			continue;
		size_t pl = strlen(path);
		char *clean = strndup(path, pl && path[pl - 1] == '/' ? pl - 1 : pl);
		if (!clean) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
		code_entry *e = code_list_add(out, clean);
		free(clean);
		if (!e) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
		e->staged = (s & STAGED_FLAGS) != 0;
		e->unstaged = (s & UNSTAGED_FLAGS) != 0;
		/* Decided by what the work tree holds now. */
		bool head = in_tree(tree, e->path);
		char *full = path_join(c->root, e->path);
		struct stat st;
		bool exists = full && lstat(full, &st) == 0;
		free(full);
		if (exists && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))) {
			e->status = head                         ? ST_MODIFIED
			            : (s & GIT_STATUS_INDEX_NEW) ? ST_ADDED
			                                         : ST_UNTRACKED;
		} else if (head) {
			e->status = ST_DELETED;
		} else {
			if (exists && S_ISDIR(st.st_mode))
				capture_warn(c, "'%s' is a nested repository: not snapshotted",
				             e->path);
			free(e->path);
			out->n--;
			continue;
		}
		if (e->status != ST_DELETED && secret_file_name(e->path)) {
			e->omitted = "secret";
			capture_warn(c, "'%s' looks like a secret file: not stored in the snapshot",
			             e->path);
		}
	}
	lg2.status_list_free(sl);
	return rc;
}

static void dirty_message(buf *b, const code_list *l)
{
	for (size_t i = 0; i < l->n && i < 5; i++)
		buf_printf(b, "%s%s", i ? ", " : "", l->v[i].path);
	if (l->n > 5)
		buf_printf(b, " and %zu more", l->n - 5);
}

/* source_globs: files the caller wants that git would not give us. */
static int add_extras(capture_ctx *c, git_tree *tree, code_list *changes)
{
	code_list_sort(changes);
	size_t nsorted = changes->n;
	size_t rootlen = strlen(c->root);
	for (size_t g = 0; g < c->o->nsource_globs; g++) {
		const char *pat = c->o->source_globs[g];
		if (!pat || !*pat)
			continue;
		char *full = pat[0] == '/' ? strdup(pat) : path_join(c->cwd, pat);
		glob_t gl;
		memset(&gl, 0, sizeof gl);
		if (!full)
			return err_set(CAIRN_ENOMEM, "out of memory");
		int gr = glob(full, GLOB_NOSORT, NULL, &gl);
		free(full);
		if (gr != 0) {
			globfree(&gl);
			continue;
		}
		for (size_t i = 0; i < gl.gl_pathc; i++) {
			char *abs = path_abs(gl.gl_pathv[i]);
			struct stat st;
			if (!abs || stat(abs, &st) != 0 || !S_ISREG(st.st_mode) ||
			    strncmp(abs, c->root, rootlen) != 0 || abs[rootlen] != '/') {
				if (abs && S_ISREG(st.st_mode) && abs[rootlen] != '/')
					capture_warn(c,
					             "'%s' is outside the project: not snapshotted",
					             gl.gl_pathv[i]);
				free(abs);
				continue;
			}
			const char *rel = abs + rootlen + 1;
			code_list view = {changes->v, nsorted, nsorted};
			bool known = code_list_find(&view, rel) || in_tree(tree, rel);
			for (size_t j = nsorted; j < changes->n && !known; j++)
				known = strcmp(changes->v[j].path, rel) == 0;
			if (!known && relpath_is_safe(rel)) {
				code_entry *e = code_list_add(changes, rel);
				if (!e) {
					free(abs);
					globfree(&gl);
					return err_set(CAIRN_ENOMEM, "out of memory");
				}
				e->status = ST_EXTRA;
				if (secret_file_name(rel))
					e->omitted = "secret";
			}
			free(abs);
		}
		globfree(&gl);
	}
	return 0;
}

int code_capture_git(capture_ctx *c, bool *is_git)
{
	git_repository *repo = NULL;
	git_reference *head = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	code_list changes = {0};
	base_info bi;
	char commit_hex[GIT_OID_HEXSZ + 1] = "";
	char *branch = NULL, *remote = NULL, *store_abs = NULL;
	int rc = 0;
	memset(&bi, 0, sizeof bi);
	*is_git = false;

	if ((rc = lg2_load()) != 0)
		return rc;
	int e = lg2.repository_open_ext(&repo, c->cwd, 0, getenv("GIT_CEILING_DIRECTORIES"));
	if (e == GIT_ENOTFOUND) {
		lg2.error_clear();
		goto done;
	}
	if (e < 0) {
		rc = git_fail("cannot open the git repository");
		goto done;
	}
	if (lg2.repository_is_bare(repo) || !lg2.repository_workdir(repo))
		goto done;
	*is_git = true;
	char *root = path_abs(lg2.repository_workdir(repo));
	if (!root) {
		rc = err_set(CAIRN_EIO, "cannot resolve the work tree: %s", strerror(errno));
		goto done;
	}
	free(c->root);
	c->root = root;
	size_t rootlen = strlen(root);
	const char *subdir = "";
	if (strncmp(c->cwd, root, rootlen) == 0 && c->cwd[rootlen] == '/')
		subdir = c->cwd + rootlen + 1;

	/* HEAD: a branch, detached, or unborn (no commit yet). */
	e = lg2.repository_head(&head, repo);
	if (e == GIT_EUNBORNBRANCH || e == GIT_ENOTFOUND) {
		git_reference *sym = NULL;
		if (lg2.reference_lookup(&sym, repo, "HEAD") == 0 &&
		    lg2.reference_type(sym) == GIT_REFERENCE_SYMBOLIC) {
			const char *t = lg2.reference_symbolic_target(sym);
			if (t && strncmp(t, "refs/heads/", 11) == 0)
				branch = strdup(t + 11);
		}
		lg2.reference_free(sym);
		lg2.error_clear();
	} else if (e < 0) {
		rc = git_fail("cannot read HEAD");
		goto done;
	} else {
		if (lg2.reference_peel((git_object **)&commit, head, GIT_OBJECT_COMMIT) != 0 ||
		    lg2.commit_tree(&tree, commit) != 0) {
			rc = git_fail("cannot read the HEAD commit");
			goto done;
		}
		lg2.oid_tostr(commit_hex, sizeof commit_hex, lg2.commit_id(commit));
		checkout_origin_commit(lg2.repository_path(repo), commit_hex); /* a checkout */
		branch =
		    strdup(lg2.repository_head_detached(repo) == 1 ? "(detached)"
		                                                   : lg2.reference_shorthand(head));
	}
	remote = remote_url(repo, head);

	/* Never snapshot the store, wherever it sits in the tree. */
	lg2.ignore_add_rule(repo, ".cairn/\n");
	store_abs = path_abs(cairn_store_path(c->store));
	if (store_abs && strncmp(store_abs, root, rootlen) == 0 && store_abs[rootlen] == '/') {
		buf rule = BUF_INIT;
		buf_printf(&rule, "/%s/\n", store_abs + rootlen + 1);
		if (buf_ok(&rule))
			lg2.ignore_add_rule(repo, rule.ptr);
		buf_free(&rule);
	}

	if ((rc = collect_changes(c, repo, tree, &changes)) != 0)
		goto done;
	int dirty = changes.n > 0;
	if (dirty && c->o->require_clean) {
		buf m = BUF_INIT;
		code_list_sort(&changes);
		dirty_message(&m, &changes);
		rc = err_set(
		    CAIRN_EDIRTY,
		    "the work tree '%s' has uncommitted changes (%zu path%s: %s); commit or "
		    "stash them, or run without --require-clean",
		    root, changes.n, changes.n == 1 ? "" : "s", m.ptr);
		buf_free(&m);
		goto done;
	}
	if (c->check_only)
		goto done;
	if (tree) {
		if ((rc = ensure_base(c, repo, tree, &bi)) != 0)
			goto done;
		if (bi.omitted)
			capture_warn(
			    c,
			    "%lld committed file%s over the snapshot size cap of %lld bytes %s not "
			    "stored (restorable from the git repository only)",
			    (long long)bi.omitted, bi.omitted == 1 ? "" : "s", (long long)c->cap,
			    bi.omitted == 1 ? "is" : "are");
		/* Externally filtered files: the work tree's bytes, unless changed. */
		code_list_sort(&changes);
		size_t nsorted = changes.n;
		for (size_t i = 0; i < bi.filtered.n; i++) {
			code_list view = {changes.v, nsorted, nsorted};
			if (code_list_find(&view, bi.filtered.v[i].path))
				continue;
			code_entry *fe = code_list_add(&changes, bi.filtered.v[i].path);
			if (!fe) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				goto done;
			}
			fe->status = ST_FILTERED;
		}
	}
	if ((rc = add_extras(c, tree, &changes)) != 0)
		goto done;
	if ((rc = code_store_files(c, &changes, c->cap)) != 0)
		goto done;
	rc = code_record_finish(c, "git", commit_hex[0] ? commit_hex : NULL, branch, remote, dirty,
	                        subdir, bi.oid[0] ? bi.oid : NULL, &changes, bi.files, bi.bytes);
done:
	code_list_free(&changes);
	code_list_free(&bi.filtered);
	lg2.tree_free(tree);
	lg2.commit_free(commit);
	lg2.reference_free(head);
	lg2.repository_free(repo);
	lg2.libgit2_shutdown();
	free(branch);
	free(remote);
	free(store_abs);
	return rc;
}
