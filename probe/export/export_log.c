/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the exporter's parts share below them: its log lines (through the
 * configured callback) and its monotonic clock. export.c and uploader.c
 * both call these; neither calls the other for them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "export_priv.h"

uint64_t
export_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void
export_vlog(const struct export_config *cfg, enum export_log_level level,
	    const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (cfg->log != NULL)
		cfg->log(level, msg, cfg->log_arg);
	else
		fprintf(stderr, "export: %s\n", msg);
}

void
export_logf(struct exporter *exp, enum export_log_level level,
	    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	export_vlog(&exp->cfg, level, fmt, ap);
	va_end(ap);
}
