/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Synthetic interval records for the collector's tests and benchmarks
 * (gen_records, bench_collector_dataset): seeded, the same on every
 * machine, so the same arguments always give the same data.
 */
#ifndef METROPROBE_TESTS_SYNTH_RECORD_H
#define METROPROBE_TESTS_SYNTH_RECORD_H

#include <stdint.h>

#include "metroprobe/hist.h"
#include "metroprobe/record.h"

/* xorshift64*: small, seeded, the same on every machine. */
static inline uint64_t
synth_rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* A delay around base: base + up to 20 % uniform + a rare long tail. */
static inline uint64_t
synth_delay(uint64_t *s, uint64_t base)
{
	uint64_t d = base + synth_rnd(s) % (base / 5 + 1);

	if (synth_rnd(s) % 100 == 0)
		d += synth_rnd(s) % (base * 2 + 1);
	return d;
}

/*
 * Fills r's counters and throughput for pkts sent of 128 octets with
 * `lost` lost (split forward/backward), over interval_ns, and h[] with
 * one seeded delay sample per received packet around base_ns; jitter is
 * the mean |IPDV|. The caller names the record, attaches h[] and
 * computes the summaries it wants.
 */
static inline void
synth_fill(struct interval_record *r, struct hist h[RECORD_HIST_COUNT],
	   uint64_t pkts, uint64_t lost, uint64_t interval_ns,
	   uint64_t base_ns, uint64_t *seed)
{
	uint64_t rx = pkts - lost, prev = 0, i;
	double secs = (double)interval_ns / 1e9;

	r->interval_ns = interval_ns;
	r->tx_pkts = pkts;
	r->tx_bytes = pkts * 128;
	r->rx_pkts = rx;
	r->rx_bytes = rx * 128;
	r->lost = lost;
	r->lost_fwd = lost - lost / 2;
	r->lost_back = lost / 2;
	r->throughput_bps = (double)r->rx_bytes * 8 / secs;
	r->throughput_l1_bps = (double)(r->rx_bytes + 20 * rx) * 8 / secs;

	for (i = 0; i < RECORD_HIST_COUNT; i++)
		hist_init(&h[i]);
	for (i = 0; i < rx; i++) {
		uint64_t fwd = synth_delay(seed, base_ns);
		uint64_t back = synth_delay(seed, base_ns);
		uint64_t rtt = fwd + back;

		hist_insert(&h[RECORD_HIST_RTT], rtt);
		hist_insert(&h[RECORD_HIST_OWD_FWD], fwd);
		hist_insert(&h[RECORD_HIST_OWD_BACK], back);
		if (i > 0)
			hist_insert(&h[RECORD_HIST_IPDV],
				    rtt > prev ? rtt - prev : prev - rtt);
		prev = rtt;
	}
	r->jitter_ns = hist_mean(&h[RECORD_HIST_IPDV]);
}

#endif
