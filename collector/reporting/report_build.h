/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a report's two passes over the store share (report_build.c, the
 * scans and the build; report_eval.c, the per-link evaluation over
 * threads): the links found by the first scan and the scan's state.
 * Internal to collector/reporting.
 */
#ifndef METROPROBE_COLLECTOR_REPORT_BUILD_H
#define METROPROBE_COLLECTOR_REPORT_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metroprobe/record.h"
#include "sla.h"
#include "store.h"

/* What the first scan learns about one link. */
struct report_link_info {
	char probe[RECORD_NAME_MAX];
	char session[RECORD_NAME_MAX];
	char src[RECORD_ADDR_MAX];
	char dst[RECORD_ADDR_MAX];
	char src_host[RECORD_ADDR_MAX];
	char dst_host[RECORD_ADDR_MAX];
	char peer[RECORD_NAME_MAX];
	uint64_t n_delay, n_synced;
	double max_capacity_bps;
	uint64_t first_ns;          /* of its first record in the period */
	/* decided between the scans */
	const struct sla_profile *profile;
	bool owd;
	double capacity_bps;
	char capacity_session[RECORD_NAME_MAX];
	/* second scan: evaluated one link at a time */
	struct sla_link_eval *ev;
	bool done;
};

struct report_scan {
	struct report_link_info *links;
	size_t n, cap;
	size_t last;                 /* link of the previous record */
	uint64_t records;
	uint64_t from_ns, to_ns;
	int error;
	struct sla_link_result *results;    /* one per link, same index */
	struct report_link_info *active;    /* link being evaluated */
	/* one snapshot for every read; NULL for the scan of all probes,
	 * which reads the store as it is */
	struct store_reader *rd;
	bool no_figs;               /* every record read (request) */
	unsigned threads;           /* (request) */
	uint64_t n_read_figs, n_read_hours, n_read_records;
};

/* Ends a link's evaluation (beginning it first when no record came)
 * into its result slot, sc->results[li - sc->links]. Returns 0 or a
 * negative errno. */
int report_link_finish(struct report_scan *sc, struct report_link_info *li);

/* Second pass of a report over 1-minute rollups, with the report's reader
 * sc->rd: link by link on up to REPORT_MAX_THREADS threads. Returns 0 or
 * a negative errno. */
int report_eval_links(struct store *st, struct report_scan *sc);

#endif
