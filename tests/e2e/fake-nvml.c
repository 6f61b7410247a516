/*
 * tests/e2e/fake-nvml.c — a stand-in for libnvidia-ml.so with one GPU, so
 * the GPU paths of cairn (environment record, sys/gpu0 samples) are tested
 * on machines without one.  Built by tests/e2e/run.t, loaded through
 * $CAIRN_NVML_LIB.  Same C ABI as NVML for the calls cairn makes.
 */
#include <stdio.h>
#include <string.h>

typedef struct {
	unsigned long long total, free, used;
} mem_t;
typedef struct {
	unsigned int gpu, memory;
} util_t;
static int dev;

int nvmlInit_v2(void)
{
	return 0;
}
int nvmlShutdown(void)
{
	return 0;
}
int nvmlDeviceGetCount_v2(unsigned int *n)
{
	*n = 1;
	return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **d)
{
	*d = &dev;
	return i == 0 ? 0 : 2;
}
int nvmlDeviceGetName(void *d, char *name, unsigned int len)
{
	snprintf(name, len, "Fake GPU 9000");
	return 0;
}
int nvmlDeviceGetMemoryInfo(void *d, mem_t *m)
{
	m->total = 80ull << 30;
	m->used = 20ull << 30;
	m->free = m->total - m->used;
	return 0;
}
int nvmlSystemGetDriverVersion(char *v, unsigned int len)
{
	snprintf(v, len, "999.1");
	return 0;
}
int nvmlDeviceGetUtilizationRates(void *d, util_t *u)
{
	u->gpu = 42;
	u->memory = 7;
	return 0;
}
int nvmlDeviceGetTemperature(void *d, int sensor, unsigned int *t)
{
	*t = 55;
	return 0;
}
int nvmlDeviceGetPowerUsage(void *d, unsigned int *mw)
{
	*mw = 123000;
	return 0;
}
