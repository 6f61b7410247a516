/*
 * lib/error.c — the per-thread last error (the library's only mutable
 * global, and thread-local).  Messages are truncated to 1 KiB.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"

static _Thread_local char err_msg[1024];
static _Thread_local int err_code;

int err_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof err_msg, fmt, ap);
	va_end(ap);
	err_code = code;
	return code;
}

int err_wrap(int code, const char *fmt, ...)
{
	char prefix[512], old[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err_msg, sizeof old);
	snprintf(err_msg, sizeof err_msg, "%s: %s", prefix, old);
	err_code = code;
	return code;
}

const char *cairn_error_last(void)
{
	return err_msg;
}

int cairn_error_last_code(void)
{
	return err_code;
}

void cairn_error_clear(void)
{
	err_msg[0] = '\0';
	err_code = 0;
}

void cairn_free(void *p)
{
	free(p);
}

const char *cairn_version(void)
{
	return CAIRN_VERSION;
}
