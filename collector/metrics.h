/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The collector's live figures for GET /metrics (Prometheus text format
 * 0.0.4): gauges from the latest interval of every link, counters of
 * ingest. Thread-safe: HTTP threads update and render concurrently.
 */
#ifndef METROPROBE_COLLECTOR_METRICS_H
#define METROPROBE_COLLECTOR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "metroprobe/record.h"

/* Outcomes of POST /api/v1/intervals: one list, so the enum and the
 * label strings cannot drift apart. */
#define foreach_ingest_outcome                     \
	_(ACCEPTED, "accepted")                    \
	_(BAD_REQUEST, "bad_request")              \
	_(UNAUTHORIZED, "unauthorized")            \
	_(FORBIDDEN, "forbidden")                  \
	_(TOO_LARGE, "too_large")                  \
	_(UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type") \
	_(STORE_ERROR, "store_error")

enum ingest_outcome {
#define _(sym, str) INGEST_##sym,
	foreach_ingest_outcome
#undef _
	INGEST_OUTCOME_COUNT
};

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

void metrics_count_request(struct metrics *m, enum ingest_outcome o,
			   uint64_t body_bytes);
void metrics_count_records(struct metrics *m, uint64_t n_new, uint64_t n_dup);
/* Keeps the record's figures if it is the link's latest interval. */
int metrics_link_update(struct metrics *m, const struct interval_record *r);

/* The whole page, malloc'd; NULL on allocation failure. */
char *metrics_render(struct metrics *m, size_t *len);

#endif
