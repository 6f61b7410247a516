/*
 * util/clock.h — wall-clock and monotonic time, and timestamp formatting.
 * Stateless and thread-safe.
 */
#ifndef CAIRN_UTIL_CLOCK_H
#define CAIRN_UTIL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

double clock_now(void);     /* seconds since the epoch, wall clock */
int64_t clock_now_ms(void); /* milliseconds since the epoch (coarse clock) */
double clock_mono(void);    /* seconds, monotonic */
/* "2026-11-28T04:18:01Z" (UTC, to the second), or "" for t <= 0. */
void clock_format_iso(char out[32], double t);
/* "2026-11-28 04:18" local time, for tables. */
void clock_format_short(char out[32], double t);

#endif
