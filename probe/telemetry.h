/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands under /metroprobe (telemetry.c).
 */
#ifndef PROBE_TELEMETRY_H
#define PROBE_TELEMETRY_H


#include "probe-t.h"

/* 0, or a negative errno when a command could not be registered. */
int probe_telemetry_register(struct probe_app *app);

#endif
