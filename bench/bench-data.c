/*
 * bench/bench-data.c — data-version hashing against its floors, measured in
 * the same run (issue 4):
 *
 *   data_big_file      one 1 GiB file in the page cache, default digest,
 *                      GB/s against `cat FILE > /dev/null`        (>= 0.8x)
 *   data_small_first   100,000 files of 4 KiB, first hash (empty cache,
 *                      cache written), files/s against
 *                      `find … -print0 | xargs -0 md5sum`         (>= 3x)
 *   data_small_md5     the same with --digest md5                 (>= 1x)
 *   data_small_second  the same files unchanged, second hash, ms against a
 *                      single-threaded readdir + fstatat walk     (<= 2x)
 *
 * Every figure is the median of several repetitions.  Generated data lives
 * in a fresh directory under $TMPDIR (default /tmp) and is removed at exit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "cairn.h"

#define BIG_BYTES (1ll << 30)
#define NDIRS     100
#define PER_DIR   1000
#define SMALL     4096

static char root[512];

static void die(const char *what)
{
	fprintf(stderr, "bench-data: %s: %s (%s)\n", what, strerror(errno), cairn_error_last());
	exit(1);
}

static void cleanup(void)
{
	if (!root[0])
		return;
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "bench-data: could not remove %s\n", root);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill(void *p, size_t n)
{
	uint64_t *q = p;
	for (size_t i = 0; i < n / 8; i++)
		q[i] = next_rand();
}

static void write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	const char *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			die(path);
		p += w;
		n -= (size_t)w;
	}
	close(fd);
}

static double time_cmd(const char *cmd)
{
	double t = bench_now();
	if (system(cmd) != 0) {
		fprintf(stderr, "bench-data: '%s' failed\n", cmd);
		exit(1);
	}
	return bench_now() - t;
}

/* The floor of the second hash: list and stat every entry, one thread. */
static long stat_walk(int dirfd)
{
	long n = 0;
	DIR *d = fdopendir(dirfd);
	if (!d)
		die("fdopendir");
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			die("fstatat");
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (sub < 0)
				die("openat");
			n += stat_walk(sub);
		} else {
			n++;
		}
	}
	closedir(d);
	return n;
}

static cairn_store *fresh_store(int i)
{
	char dir[600];
	snprintf(dir, sizeof dir, "%s/store%d", root, i);
	if (mkdir(dir, 0755) != 0)
		die(dir);
	char *sd = NULL;
	cairn_store *s = NULL;
	if (cairn_store_init(&sd, dir) != 0 || cairn_store_open(&s, sd) != 0)
		die("store");
	cairn_free(sd);
	return s;
}

static double hash_once(cairn_store *s, const char *path, const char *algo, cairn_hash_stats *st)
{
	cairn_hash_options o = CAIRN_HASH_OPTIONS_INIT;
	o.algo = algo;
	double t = bench_now();
	if (cairn_hash_path(NULL, st, s, path, &o) != 0)
		die(path);
	return bench_now() - t;
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(root, sizeof root, "%s/cairn-bench-data.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		die("mkdtemp");
	atexit(cleanup);
	char path[800], cmd[1800];

	/* --- one big file ------------------------------------------------------- */
	snprintf(path, sizeof path, "%s/big.bin", root);
	{
		size_t chunk = 8 << 20;
		char *b = malloc(chunk);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (!b || fd < 0)
			die(path);
		for (long long done = 0; done < BIG_BYTES; done += (long long)chunk) {
			fill(b, chunk);
			if (write(fd, b, chunk) != (ssize_t)chunk)
				die(path);
		}
		close(fd);
		free(b);
	}
	snprintf(cmd, sizeof cmd, "cat '%s' > /dev/null", path);
	time_cmd(cmd); /* into the page cache */
	double tc[5], th[5];
	for (int i = 0; i < 5; i++) {
		tc[i] = time_cmd(cmd);
		th[i] = hash_once(NULL, path, NULL, NULL);
	}
	double gb = (double)BIG_BYTES / 1e9;
	bench_report("data_big_file (1 GiB, xxh128)", gb / bench_median(th, 5), "GB/s",
	             gb / bench_median(tc, 5), "GB/s (cat)", ">=", 0.8);
	unlink(path);

	/* --- 100,000 small files ------------------------------------------------------ */
	char small[700];
	snprintf(small, sizeof small, "%s/small", root);
	if (mkdir(small, 0755) != 0)
		die(small);
	{
		char data[SMALL];
		for (int d = 0; d < NDIRS; d++) {
			snprintf(path, sizeof path, "%s/d%03d", small, d);
			if (mkdir(path, 0755) != 0)
				die(path);
			for (int f = 0; f < PER_DIR; f++) {
				fill(data, sizeof data);
				snprintf(path, sizeof path, "%s/d%03d/f%04d.bin", small, d, f);
				write_file(path, data, sizeof data);
			}
		}
	}
	usleep(200 * 1000); /* past the cache's racy window */
	const double nfiles = NDIRS * PER_DIR;
	snprintf(cmd, sizeof cmd, "find '%s' -type f -print0 | xargs -0 md5sum > /dev/null", small);
	time_cmd(cmd); /* warm */
	double tp[3], tf[3], tm[3];
	cairn_hash_stats st;
	for (int i = 0; i < 3; i++) {
		tp[i] = time_cmd(cmd);
		cairn_store *s = fresh_store(i);
		tf[i] = hash_once(s, small, NULL, &st);
		cairn_store_close(s);
		if (st.files_read != (int64_t)nfiles) {
			fprintf(stderr, "bench-data: first hash read %lld files\n",
			        (long long)st.files_read);
			return 1;
		}
		s = fresh_store(10 + i);
		tm[i] = hash_once(s, small, "md5", NULL);
		cairn_store_close(s);
	}
	double pipe = nfiles / bench_median(tp, 3);
	bench_report("data_small_first (100k x 4 KiB, xxh128)", nfiles / bench_median(tf, 3),
	             "files/s", pipe, "files/s (find|xargs md5sum)", ">=", 3);
	bench_report("data_small_md5 (100k x 4 KiB, md5)", nfiles / bench_median(tm, 3), "files/s",
	             pipe, "files/s (find|xargs md5sum)", ">=", 1);

	/* --- second hash, unchanged: against a stat-only walk ---------------------------- */
	cairn_store *s = fresh_store(20);
	hash_once(s, small, NULL, NULL); /* fills the cache */
	double tw[7], t2[7];
	for (int i = 0; i < 7; i++) {
		double t = bench_now();
		int fd = open(small, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			die(small);
		long n = stat_walk(fd);
		tw[i] = bench_now() - t;
		if (n != (long)nfiles) {
			fprintf(stderr, "bench-data: the walk found %ld files\n", n);
			return 1;
		}
		t2[i] = hash_once(s, small, NULL, &st);
		if (st.files_read != 0) {
			fprintf(stderr, "bench-data: the second hash read %lld files\n",
			        (long long)st.files_read);
			return 1;
		}
	}
	cairn_store_close(s);
	bench_report("data_small_second (100k unchanged)", bench_median(t2, 7) * 1e3, "ms",
	             bench_median(tw, 7) * 1e3, "ms (stat-only walk)", "<=", 2);
	return 0;
}
