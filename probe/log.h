/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The probe's log lines: "metroprobe: LEVEL: message" on stderr, one
 * line each, for people and for the tests that read them.
 */
#ifndef PROBE_LOG_H
#define PROBE_LOG_H

#include <stdio.h>

#define PROBE_LOG(level, fmt, ...) \
	fprintf(stderr, "metroprobe: " level ": " fmt "\n", ##__VA_ARGS__)
#define PROBE_INFO(fmt, ...)  PROBE_LOG("info", fmt, ##__VA_ARGS__)
#define PROBE_WARN(fmt, ...)  PROBE_LOG("warning", fmt, ##__VA_ARGS__)
#define PROBE_ERR(fmt, ...)   PROBE_LOG("error", fmt, ##__VA_ARGS__)

#endif
