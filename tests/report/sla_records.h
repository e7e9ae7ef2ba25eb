/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hand-made records of one link for the SLA tests: built in plain
 * sight, every delay either one value per histogram or a bucket
 * midpoint, so every expected figure can be worked out by hand.
 * Include it after <cmocka.h>.
 */
#ifndef METROPROBE_TESTS_SLA_RECORDS_H
#define METROPROBE_TESTS_SLA_RECORDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "metroprobe/hist.h"
#include "metroprobe/record.h"
#include "sla.h"

#define S   1000000000ULL
#define MIN (60 * S)
#define T0  1795564800000000000ULL      /* 2026-11-25T00:00:00Z */

/*
 * Midpoint of the histogram bucket holding v (hist.h: 2^6 linear
 * sub-buckets per power of two): the value a quantile reports for it.
 */
static inline uint64_t
mid(uint64_t v)
{
	unsigned e = 63u - (unsigned)__builtin_clzll(v);
	unsigned s = e - HIST_SUB_BITS;

	return ((v >> s) << s) + (1ULL << (s - 1));
}

static inline struct hist *
hist_of(uint64_t n, uint64_t v)
{
	struct hist *h;
	uint64_t i;

	if (v == 0 || n == 0)
		return NULL;
	h = malloc(sizeof(*h));
	assert_non_null(h);
	hist_init(h);
	for (i = 0; i < n; i++)
		hist_insert(h, v);
	return h;
}

struct rec_spec {
	uint64_t start_ns;
	uint64_t interval_ns;
	uint64_t tx, lost;
	bool synced;
	uint64_t rtt, fwd, back, ipdv;   /* one value each, 0: none */
	double l1_bps;
	const struct record_quality *q;  /* NULL: not stated */
};

/* A record of link north -> south with rx = tx - lost samples of each
 * delay. */
static inline void
rec_make(struct interval_record *r, const struct rec_spec *s)
{
	uint64_t rx = s->tx - s->lost;

	record_init(r);
	snprintf(r->probe, sizeof(r->probe), "north");
	snprintf(r->session, sizeof(r->session), "north-south");
	snprintf(r->src, sizeof(r->src), "10.0.0.1:862");
	snprintf(r->dst, sizeof(r->dst), "10.0.0.2:862");
	r->start_ns = s->start_ns;
	r->interval_ns = s->interval_ns ? s->interval_ns : MIN;
	r->tx_pkts = s->tx;
	r->rx_pkts = rx;
	r->lost = s->lost;
	r->clock_synced = s->synced;
	r->hist[RECORD_HIST_RTT] = hist_of(rx, s->rtt);
	r->hist[RECORD_HIST_OWD_FWD] = hist_of(s->synced ? rx : 0, s->fwd);
	r->hist[RECORD_HIST_OWD_BACK] = hist_of(s->synced ? rx : 0, s->back);
	r->hist[RECORD_HIST_IPDV] = hist_of(rx, s->ipdv);
	r->hist_owned = (1u << RECORD_HIST_COUNT) - 1;
	r->throughput_l1_bps = s->l1_bps;
	r->throughput_bps = s->l1_bps * 0.9;
	if (s->q != NULL)
		r->q = *s->q;
}

static inline void
recs_free(struct interval_record *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		record_free(&r[i]);
}

/* One record per minute of 10 minutes, all the same but for start. */
static inline void
recs_steady(struct interval_record *r, size_t n, struct rec_spec s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		s.start_ns = T0 + i * MIN;
		rec_make(&r[i], &s);
	}
}

static inline const struct sla_violation *
find_violation(const struct sla_link_result *res, enum sla_metric m,
	       size_t nth)
{
	size_t i;

	for (i = 0; i < res->n_violations; i++)
		if (res->violations[i].metric == m && nth-- == 0)
			return &res->violations[i];
	return NULL;
}

static inline size_t
count_violations(const struct sla_link_result *res, enum sla_metric m)
{
	size_t i, n = 0;

	for (i = 0; i < res->n_violations; i++)
		n += res->violations[i].metric == m;
	return n;
}

#endif
