/*
 * util/fs.h — filesystem helpers: joining paths, mkdir -p, whole-file reads
 * with a cap, and the check that a run-relative name cannot escape its root.
 * Stateless and thread-safe.
 */
#ifndef CAIRN_UTIL_FS_H
#define CAIRN_UTIL_FS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* a + "/" + b into a fresh string (NULL on OOM). */
char *path_join(const char *a, const char *b);
/* Create a directory and its parents (mode 0777 & ~umask). 0 or -errno. */
int mkdir_p(const char *path);
/* Read a whole file, refusing files over cap bytes. 0, -errno or -EFBIG. */
int read_file(const char *path, size_t cap, buf *out);
/* Write all len bytes to fd, retrying on EINTR and short writes. 0 or -errno. */
int fd_write_all(int fd, const void *data, size_t len);
/* Write a whole file via a temp file + rename. 0 or -errno. */
int write_file_atomic(const char *path, const void *data, size_t len);
/* True when `name` is a clean relative path: not empty, not absolute, no
 * `..` or `.` components, no empty components, no backslashes or control
 * characters.  Used wherever a user names a file inside a run. */
bool relpath_is_safe(const char *name);
/* The last component of a path (pointer into path). */
const char *path_base(const char *path);
/* Absolute, normalised (realpath) or NULL. */
char *path_abs(const char *path);
bool path_is_dir(const char *path);
bool path_exists(const char *path);

#endif
