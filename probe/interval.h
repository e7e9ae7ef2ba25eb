/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interval records: the control side takes each slot the data plane
 * closed, writes it as one metroprobe.interval.v1 line and hands it
 * back (interval.c). Control thread only.
 */
#ifndef PROBE_INTERVAL_H
#define PROBE_INTERVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "probe-t.h"

/* The per-interval port counters (host loss), for every port. */
int interval_host_stats_setup(struct probe_app *app);
void interval_host_stats_tick(struct probe_app *app, uint64_t now_ns);
/* Every slot that is ready, as records (--records and the export). */
void interval_emit_ready(struct probe_app *app);
/* Every session done and every record written. */
bool interval_all_done(struct probe_app *app);
/* One line per finished session. */
void interval_log_summaries(struct probe_app *app);

#endif
