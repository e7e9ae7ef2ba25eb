/* SPDX-License-Identifier: BSD-3-Clause */
/* One log line to stderr: "<RFC 3339 time> metroprobe-collector: ...". */
#ifndef METROPROBE_COLLECTOR_CLOG_H
#define METROPROBE_COLLECTOR_CLOG_H

#include <stdarg.h>
#include <stdio.h>

#include "metroprobe/mp_time.h"

static inline void __attribute__((format(printf, 1, 2)))
collector_log(const char *fmt, ...)
{
	char ts[40];
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	mp_time_format_rfc3339(mp_time_now_ns(), ts, sizeof(ts));
	/* One fprintf per line, so lines of threads do not interleave. */
	fprintf(stderr, "%s metroprobe-collector: %s\n", ts, line);
}

#endif
