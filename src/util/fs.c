/*
 * util/fs.c — see fs.h.
 */
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	bool slash = la > 0 && a[la - 1] != '/';
	char *p = malloc(la + lb + 2);
	if (!p)
		return NULL;
	memcpy(p, a, la);
	if (slash)
		p[la++] = '/';
	memcpy(p + la, b, lb + 1);
	return p;
}

int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp)
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int read_file(const char *path, size_t cap, buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size > cap) {
		close(fd);
		return -EFBIG;
	}
	/* the file may grow after the fstat (or not be a regular file): the
	 * buffer's cap bounds it, while this call lasts */
	size_t max = out->max;
	if (!out->max || cap < out->max)
		out->max = cap;
	char tmp[65536];
	int rc = 0;
	for (;;) {
		ssize_t r = read(fd, tmp, sizeof tmp);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		buf_add(out, tmp, (size_t)r);
		if (!buf_ok(out)) {
			rc = buf_too_big(out) ? -EFBIG : -ENOMEM;
			break;
		}
	}
	close(fd);
	out->max = max;
	return rc;
}

int fd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + 16);
	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, n + 16, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return -e;
	}
	int we = fd_write_all(fd, data, len);
	if (we) {
		close(fd);
		unlink(tmp);
		free(tmp);
		return we;
	}
	fchmod(fd, 0644);
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		free(tmp);
		return -e;
	}
	free(tmp);
	return 0;
}

bool relpath_is_safe(const char *name)
{
	if (!name || !*name || name[0] == '/')
		return false;
	const char *p = name;
	while (*p) {
		const char *s = p;
		while (*p && *p != '/') {
			unsigned char c = (unsigned char)*p;
			if (c < 0x20 || c == 0x7f || c == '\\')
				return false;
			p++;
		}
		size_t l = (size_t)(p - s);
		if (l == 0 || (l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		if (*p == '/')
			p++;
		if (*p == '\0' && p[-1] == '/')
			return false;
	}
	return true;
}

const char *path_base(const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *s = path + n;
	while (s > path && s[-1] != '/')
		s--;
	return s;
}

char *path_abs(const char *path)
{
	return realpath(path, NULL);
}

bool path_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}
