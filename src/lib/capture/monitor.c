/*
 * lib/capture/monitor.c — a thread that keeps a run's heartbeat fresh and
 * samples the system while the run lives.
 *
 * Heartbeat: the store shows a running run whose heartbeat is older than
 * $CAIRN_HEARTBEAT_STALE seconds (60 by default, lib/open.c) as crashed, so
 * a wrapper killed with SIGKILL does not leave it "running" forever.  The
 * interval defaults to 10 s ($CAIRN_HEARTBEAT_INTERVAL).
 *
 * Samples (every 5 s by default, $CAIRN_SAMPLE_INTERVAL), as metric series:
 *   sys/cpu_percent     CPU time of the process tree per wall time, in % of
 *                       one core (200 = two cores busy)
 *   sys/rss_bytes       resident memory of the process tree
 *   sys/memory_percent  memory in use on the machine (1 - available/total)
 *   sys/gpuN/...        util_percent, memory_bytes, memory_percent,
 *                       temperature_c, power_w, when NVML is present
 * The tree is found by scanning /proc for descendants of the root pid; the
 * CPU time of a process includes its reaped children (cutime/cstime), so
 * short-lived workers are counted too.
 *
 * States: started -> stopping -> joined (by cairn_monitor_stop).
 * Thread-safety: the monitor's fields are touched by its thread and by stop
 * under `mu`; the run handle is thread-safe.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/capture/capture.h"
#include "util/clock.h"
#include "util/fs.h"

struct cairn_monitor {
	cairn_run *run;
	pid_t root;
	double hb_interval, sample_interval;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	nvml *gpu;
	double last_t, last_ticks;
	bool have_last;
};

static double env_seconds(const char *name, double def)
{
	const char *v = getenv(name);
	if (v && *v) {
		char *end;
		double d = strtod(v, &end);
		if (end != v && d > 0)
			return d;
	}
	return def;
}

/* --- the process tree ------------------------------------------------------------ */

typedef struct proc {
	int pid, ppid;
	double ticks;
	double rss_pages;
} proc;

static bool read_stat(int pid, proc *p)
{
	char path[64], data[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, data, sizeof data - 1);
	close(fd);
	if (n <= 0)
		return false;
	data[n] = '\0';
	/* "pid (comm) state ppid ..." where comm may hold spaces and parens */
	char *rp = strrchr(data, ')');
	if (!rp)
		return false;
	char *save = NULL;
	int field = 3; /* state is field 3 */
	p->pid = pid;
	p->ppid = 0;
	p->ticks = 0;
	p->rss_pages = 0;
	for (char *t = strtok_r(rp + 1, " ", &save); t; t = strtok_r(NULL, " ", &save), field++) {
		if (field == 4)
			p->ppid = atoi(t);
		else if (field >= 14 && field <= 17) /* utime stime cutime cstime */
			p->ticks += strtod(t, NULL);
		else if (field == 24) {
			p->rss_pages = strtod(t, NULL);
			break;
		}
	}
	return true;
}

/* Sum CPU ticks and RSS over root and its descendants. */
static bool tree_usage(pid_t root, double *ticks, double *rss_bytes)
{
	proc *v = NULL;
	size_t n = 0, cap = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return false;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			proc *nv = realloc(v, cap * sizeof *nv);
			if (!nv)
				break;
			v = nv;
		}
		if (read_stat(atoi(de->d_name), &v[n]))
			n++;
	}
	closedir(d);
	/* mark the tree: repeat until no new member (depth-first would need
	 * child lists; trees are small and few passes suffice) */
	char *in = calloc(n + 1, 1);
	bool found = false;
	*ticks = 0;
	*rss_bytes = 0;
	if (in) {
		for (size_t i = 0; i < n; i++)
			if (v[i].pid == root) {
				in[i] = 1;
				found = true;
			}
		for (bool grew = found; grew;) {
			grew = false;
			for (size_t i = 0; i < n; i++) {
				if (in[i])
					continue;
				for (size_t j = 0; j < n; j++)
					if (in[j] && v[j].pid == v[i].ppid) {
						in[i] = 1;
						grew = true;
						break;
					}
			}
		}
		long page = sysconf(_SC_PAGESIZE);
		for (size_t i = 0; i < n; i++)
			if (in[i]) {
				*ticks += v[i].ticks;
				*rss_bytes += v[i].rss_pages * (double)page;
			}
	}
	free(in);
	free(v);
	return found;
}

static bool memory_percent(double *out)
{
	buf b = BUF_INIT;
	double total = 0, avail = -1;
	if (read_file("/proc/meminfo", 1 << 16, &b) == 0) {
		char *p = strstr(b.ptr, "MemTotal:");
		if (p)
			total = strtod(p + 9, NULL);
		p = strstr(b.ptr, "MemAvailable:");
		if (p)
			avail = strtod(p + 13, NULL);
	}
	buf_free(&b);
	if (total <= 0 || avail < 0)
		return false;
	*out = 100.0 * (1.0 - avail / total);
	return true;
}

static void sample(cairn_monitor *m)
{
	double ticks, rss, now = clock_mono();
	if (tree_usage(m->root, &ticks, &rss)) {
		if (m->have_last && now > m->last_t) {
			double cpu = (ticks - m->last_ticks) / (double)sysconf(_SC_CLK_TCK) /
			             (now - m->last_t) * 100.0;
			cairn_run_log_metric(m->run, "sys/cpu_percent", cpu < 0 ? 0 : cpu,
			                     CAIRN_STEP_AUTO, 0);
		}
		cairn_run_log_metric(m->run, "sys/rss_bytes", rss, CAIRN_STEP_AUTO, 0);
		m->last_t = now;
		m->last_ticks = ticks;
		m->have_last = true;
	}
	double mp;
	if (memory_percent(&mp))
		cairn_run_log_metric(m->run, "sys/memory_percent", mp, CAIRN_STEP_AUTO, 0);
	for (unsigned i = 0; i < nvml_count(m->gpu); i++) {
		nvml_sample s;
		char key[64];
		nvml_read(m->gpu, i, &s);
		if (s.has_util) {
			snprintf(key, sizeof key, "sys/gpu%u/util_percent", i);
			cairn_run_log_metric(m->run, key, s.util_percent, CAIRN_STEP_AUTO, 0);
		}
		if (s.has_memory) {
			snprintf(key, sizeof key, "sys/gpu%u/memory_bytes", i);
			cairn_run_log_metric(m->run, key, s.memory_bytes, CAIRN_STEP_AUTO, 0);
			snprintf(key, sizeof key, "sys/gpu%u/memory_percent", i);
			cairn_run_log_metric(m->run, key, s.memory_percent, CAIRN_STEP_AUTO, 0);
		}
		if (s.has_temperature) {
			snprintf(key, sizeof key, "sys/gpu%u/temperature_c", i);
			cairn_run_log_metric(m->run, key, s.temperature_c, CAIRN_STEP_AUTO, 0);
		}
		if (s.has_power) {
			snprintf(key, sizeof key, "sys/gpu%u/power_w", i);
			cairn_run_log_metric(m->run, key, s.power_w, CAIRN_STEP_AUTO, 0);
		}
	}
	cairn_error_clear();
}

static void *monitor_main(void *arg)
{
	cairn_monitor *m = arg;
	double now = clock_mono();
	double next_hb = m->hb_interval > 0 ? now + m->hb_interval : -1;
	double next_sample = m->sample_interval > 0 ? now + m->sample_interval : -1;
	if (m->sample_interval > 0) {
		double t, r;
		if (tree_usage(m->root, &t, &r)) {
			m->last_t = now;
			m->last_ticks = t;
			m->have_last = true;
		}
	}
	pthread_mutex_lock(&m->mu);
	while (!m->stop) {
		double next = next_hb;
		if (next < 0 || (next_sample >= 0 && next_sample < next))
			next = next_sample;
		if (next < 0) {
			pthread_cond_wait(&m->cv, &m->mu);
			continue;
		}
		double wait = next - clock_mono();
		if (wait > 0) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			long long ns = (long long)ts.tv_nsec + (long long)(wait * 1e9);
			ts.tv_sec += (time_t)(ns / 1000000000LL);
			ts.tv_nsec = (long)(ns % 1000000000LL);
			pthread_cond_timedwait(&m->cv, &m->mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&m->mu);
		now = clock_mono();
		if (next_hb >= 0 && now >= next_hb) {
			cairn_run_heartbeat(m->run);
			cairn_error_clear();
			while (next_hb <= now)
				next_hb += m->hb_interval;
		}
		if (next_sample >= 0 && now >= next_sample) {
			sample(m);
			while (next_sample <= now)
				next_sample += m->sample_interval;
		}
		pthread_mutex_lock(&m->mu);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

int cairn_monitor_start(cairn_monitor **out, cairn_run *run, const cairn_monitor_options *o)
{
	cairn_monitor_options def = CAIRN_MONITOR_OPTIONS_INIT;
	*out = NULL;
	if (!run)
		return err_set(CAIRN_EINVALID, "no run");
	if (!o)
		o = &def;
	if (o->version != CAIRN_MONITOR_OPTIONS_VERSION)
		return err_set(CAIRN_EINVALID, "cairn_monitor_options version %u is not supported",
		               o->version);
	cairn_monitor *m = calloc(1, sizeof *m);
	if (!m)
		return err_set(CAIRN_ENOMEM, "out of memory");
	m->run = run;
	m->root = o->pid > 0 ? (pid_t)o->pid : getpid();
	m->hb_interval = o->heartbeat_interval != 0 ? o->heartbeat_interval
	                                            : env_seconds("CAIRN_HEARTBEAT_INTERVAL", 10);
	m->sample_interval =
	    o->sample_interval != 0 ? o->sample_interval : env_seconds("CAIRN_SAMPLE_INTERVAL", 5);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&m->mu, NULL);
	if (m->hb_interval > 0) {
		int rc = cairn_run_heartbeat(run);
		if (rc) {
			pthread_cond_destroy(&m->cv);
			pthread_mutex_destroy(&m->mu);
			free(m);
			return rc;
		}
	}
	if (m->sample_interval > 0)
		m->gpu = nvml_open();
	if (pthread_create(&m->th, NULL, monitor_main, m) != 0) {
		nvml_close(m->gpu);
		pthread_cond_destroy(&m->cv);
		pthread_mutex_destroy(&m->mu);
		free(m);
		return err_set(CAIRN_ERROR, "cannot start the monitor thread");
	}
	*out = m;
	return 0;
}

void cairn_monitor_stop(cairn_monitor *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = true;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->th, NULL);
	nvml_close(m->gpu);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}
