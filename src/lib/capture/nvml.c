/*
 * lib/capture/nvml.c — NVIDIA's management library (NVML), loaded with
 * dlopen when present, for the GPUs of the environment record and the GPU
 * series of the system sampler.  No GPU, no driver or no library is not an
 * error: nvml_open returns NULL and nothing GPU-related is recorded.
 *
 * Only a handful of entry points are used, declared here with the types of
 * NVML's stable C ABI (nvmlReturn_t is an int, 0 = success; devices are
 * opaque pointers).  $CAIRN_NVML_LIB names another library file (tests use
 * a fake one).  Thread-safety: an nvml handle belongs to one thread; NVML
 * itself is thread-safe and reference-counts nvmlInit/nvmlShutdown.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/capture/capture.h"
#include "util/json.h"

#define NVML_MAX_GPUS 64

typedef struct nvml_memory {
	unsigned long long total, free, used;
} nvml_memory;
typedef struct nvml_utilization {
	unsigned int gpu, memory;
} nvml_utilization;
typedef void *nvml_device;

struct nvml {
	void *lib;
	int (*init)(void);
	int (*shutdown)(void);
	int (*count)(unsigned int *);
	int (*handle)(unsigned int, nvml_device *);
	int (*name)(nvml_device, char *, unsigned int);
	int (*memory)(nvml_device, nvml_memory *);
	int (*utilization)(nvml_device, nvml_utilization *);
	int (*temperature)(nvml_device, int, unsigned int *);
	int (*power)(nvml_device, unsigned int *);
	int (*driver)(char *, unsigned int);
	unsigned n;
	nvml_device dev[NVML_MAX_GPUS];
};

static void *sym(void *lib, const char *a, const char *b)
{
	void *p = dlsym(lib, a);
	return p || !b ? p : dlsym(lib, b);
}

nvml *nvml_open(void)
{
	const char *path = getenv("CAIRN_NVML_LIB");
	void *lib = NULL;
	if (path && *path)
		lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	else {
		lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
		if (!lib)
			lib = dlopen("libnvidia-ml.so", RTLD_NOW | RTLD_LOCAL);
	}
	if (!lib)
		return NULL;
	nvml *n = calloc(1, sizeof *n);
	if (!n) {
		dlclose(lib);
		return NULL;
	}
	n->lib = lib;
	*(void **)&n->init = sym(lib, "nvmlInit_v2", "nvmlInit");
	*(void **)&n->shutdown = sym(lib, "nvmlShutdown", NULL);
	*(void **)&n->count = sym(lib, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
	*(void **)&n->handle =
	    sym(lib, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
	*(void **)&n->name = sym(lib, "nvmlDeviceGetName", NULL);
	*(void **)&n->memory = sym(lib, "nvmlDeviceGetMemoryInfo", NULL);
	*(void **)&n->utilization = sym(lib, "nvmlDeviceGetUtilizationRates", NULL);
	*(void **)&n->temperature = sym(lib, "nvmlDeviceGetTemperature", NULL);
	*(void **)&n->power = sym(lib, "nvmlDeviceGetPowerUsage", NULL);
	*(void **)&n->driver = sym(lib, "nvmlSystemGetDriverVersion", NULL);
	unsigned int count = 0;
	if (!n->init || !n->shutdown || !n->count || !n->handle || n->init() != 0) {
		dlclose(lib);
		free(n);
		return NULL;
	}
	if (n->count(&count) != 0 || count == 0) {
		n->shutdown();
		dlclose(lib);
		free(n);
		return NULL;
	}
	for (unsigned i = 0; i < count && n->n < NVML_MAX_GPUS; i++)
		if (n->handle(i, &n->dev[n->n]) == 0)
			n->n++;
	return n;
}

void nvml_close(nvml *n)
{
	if (!n)
		return;
	n->shutdown();
	dlclose(n->lib);
	free(n);
}

unsigned nvml_count(const nvml *n)
{
	return n ? n->n : 0;
}

void nvml_gpus_json(nvml *n, buf *b)
{
	char driver[96] = "";
	buf_putc(b, '[');
	if (n && n->driver && n->driver(driver, sizeof driver) != 0)
		driver[0] = '\0';
	driver[sizeof driver - 1] = '\0';
	for (unsigned i = 0; n && i < n->n; i++) {
		char name[128] = "";
		nvml_memory mem = {0, 0, 0};
		bool f = true;
		if (i)
			buf_putc(b, ',');
		buf_putc(b, '{');
		json_key(b, &f, "name");
		if (n->name && n->name(n->dev[i], name, sizeof name) == 0) {
			name[sizeof name - 1] = '\0';
			json_str(b, name);
		} else {
			buf_puts(b, "null");
		}
		json_key(b, &f, "memory_bytes");
		if (n->memory && n->memory(n->dev[i], &mem) == 0)
			json_int(b, (int64_t)mem.total);
		else
			buf_puts(b, "null");
		json_key(b, &f, "driver");
		json_str(b, driver[0] ? driver : NULL);
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
}

void nvml_read(nvml *n, unsigned i, nvml_sample *s)
{
	memset(s, 0, sizeof *s);
	if (!n || i >= n->n)
		return;
	nvml_utilization u;
	nvml_memory m;
	unsigned int t, p;
	if (n->utilization && n->utilization(n->dev[i], &u) == 0) {
		s->util_percent = u.gpu;
		s->has_util = true;
	}
	if (n->memory && n->memory(n->dev[i], &m) == 0) {
		s->memory_bytes = (double)m.used;
		s->memory_percent = m.total ? 100.0 * (double)m.used / (double)m.total : 0;
		s->has_memory = true;
	}
	if (n->temperature && n->temperature(n->dev[i], 0 /* NVML_TEMPERATURE_GPU */, &t) == 0) {
		s->temperature_c = t;
		s->has_temperature = true;
	}
	if (n->power && n->power(n->dev[i], &p) == 0) {
		s->power_w = p / 1000.0; /* milliwatts */
		s->has_power = true;
	}
}
