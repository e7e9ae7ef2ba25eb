/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-packet cost of the receive path a sender's rx lcore runs on each
 * reflected STAMP packet:
 *
 *   decode the unauthenticated reflector packet   stamp_decode_reflector
 *   convert T1, T2, T3 from NTP to Unix ns        mp_time_ntp_to_ns
 *   classify the sender sequence number           seqt_rx
 *   RTT, one-way delays, IPDV, jitter, 3-4 hist   delay_stats_add
 *     inserts (RTT, forward, backward, |IPDV|)
 *
 * over a pre-built ring of packets that look like a real session: 1 ms
 * RTT with jitter, synchronised clocks, 0.1 % loss, 0.2 % reordering.
 * Packets sit 64 octets apart and are L1/L2-resident, as after an rx
 * burst with prefetch. Between passes over the ring (untimed) the
 * sequence numbers are advanced, so the tracker sees one long stream;
 * the tracker's window is closed once per pass (timed: its cost is part
 * of the per-packet budget).
 *
 * Prints ns/packet (CLOCK_MONOTONIC) and TSC ticks/packet (rdtsc, the
 * constant-rate reference clock) per run, then the medians. Exit status
 * is non-zero if the counts the path produced are not the expected
 * ones (so the work cannot silently be skipped).
 *
 *   bench_rx_path [runs [passes_per_run]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_RDTSC 1
#endif

#include "metroprobe/delay.h"
#include "metroprobe/mp_time.h"
#include "metroprobe/seqt.h"
#include "metroprobe/stamp.h"

#define RING_PKTS   4096          /* packets per pass */
#define SLOT        64            /* octets between packets */
#define SEQ_WINDOW  16384         /* > 2 passes: closed one pass behind */

struct bench_ring {
	uint8_t *pkts;                /* RING_PKTS slots of SLOT octets */
	uint64_t *t4;                 /* rx timestamps (Unix ns), as the
				       * NIC or the rx loop would give */
	uint32_t *seq0;               /* sender seq of each slot, pass 0 */
	uint32_t span;                /* sequence numbers per pass */
	uint64_t lost_per_pass;
	uint64_t reordered_per_pass;
};

static uint64_t rng_state = 0x853c49e6748fea9bULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t
ticks(void)
{
#ifdef HAVE_RDTSC
	return __rdtsc();
#else
	return 0;
#endif
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * One pass of a session at 1 packet per 100 ns: sequence numbers
 * 0 .. span-1 with every 1000th lost, every 500th pair swapped.
 */
static int
ring_build(struct bench_ring *r, uint64_t now_ns)
{
	struct stamp_error_estimate ee;
	uint16_t errest;
	uint32_t n = 0, seq = 0;

	r->pkts = aligned_alloc(64, (size_t)RING_PKTS * SLOT);
	r->t4 = calloc(RING_PKTS, sizeof(*r->t4));
	r->seq0 = calloc(RING_PKTS, sizeof(*r->seq0));
	if (r->pkts == NULL || r->t4 == NULL || r->seq0 == NULL)
		return -1;
	memset(r->pkts, 0, (size_t)RING_PKTS * SLOT);
	stamp_errest_from_ns(100, true, false, &ee);   /* S bit: synced */
	errest = stamp_errest_pack(&ee);
	r->lost_per_pass = 0;
	r->reordered_per_pass = 0;

	while (n < RING_PKTS) {
		if (seq % 1000 == 999) {           /* lost on the way */
			seq++;
			r->lost_per_pass++;
			continue;
		}
		uint32_t s = seq;
		if (seq % 500 == 250 && n + 1 < RING_PKTS) {
			s = seq + 1;               /* overtakes seq */
		} else if (seq % 500 == 251 && n > 0 &&
			   r->seq0[n - 1] == seq) {
			s = seq - 1;               /* arrives after seq+1 */
			r->reordered_per_pass++;
		}
		uint64_t t1 = now_ns + (uint64_t)s * 100;
		uint64_t fwd = 500000 + rng() % 20000;   /* 0.5 ms +- jitter */
		uint64_t res = 2000 + rng() % 500;       /* reflector */
		uint64_t back = 500000 + rng() % 20000;
		struct stamp_reflector_pkt p = {
			.seq = s,
			.timestamp = mp_time_ns_to_ntp(t1 + fwd + res),
			.error_estimate = errest,
			.ssid = 1,
			.rx_timestamp = mp_time_ns_to_ntp(t1 + fwd),
			.sender_seq = s,
			.sender_timestamp = mp_time_ns_to_ntp(t1),
			.sender_error_estimate = errest,
			.sender_ttl = 255,
		};
		if (stamp_encode_reflector(r->pkts + (size_t)n * SLOT, SLOT,
					   STAMP_MODE_UNAUTH, &p, NULL) !=
		    STAMP_UNAUTH_LEN)
			return -1;
		r->t4[n] = t1 + fwd + res + back;
		r->seq0[n] = s;
		n++;
		seq++;
	}
	/* The pass ends with the highest sequence number sent. */
	r->span = seq;
	return 0;
}

/* Untimed: move the ring to pass k (sender and reflector seq). */
static void
ring_renumber(struct bench_ring *r, uint32_t k)
{
	for (uint32_t i = 0; i < RING_PKTS; i++) {
		uint8_t *b = r->pkts + (size_t)i * SLOT;
		uint32_t s = r->seq0[i] + k * r->span;
		put_be32(b + 0, s);       /* reflector seq (stateful) */
		put_be32(b + 24, s);      /* sender seq, RFC 8762 4.3.1 */
	}
}

struct rx_state {
	struct seqt seq;
	struct delay_stats delay;
	struct delay_stream stream;
	uint64_t bad;                 /* decode errors */
};

/* The measured path, for one pass over the ring (kept out of line so
 * profilers can attribute it: valgrind --toggle-collect=rx_pass). */
static __attribute__((noinline)) void
rx_pass(struct rx_state *st, const struct bench_ring *r)
{
	for (uint32_t i = 0; i < RING_PKTS; i++) {
		const uint8_t *buf = r->pkts + (size_t)i * SLOT;
		struct stamp_reflector_pkt p;
		struct stamp_times t;

		if (stamp_decode_reflector(buf, STAMP_UNAUTH_LEN,
					   STAMP_MODE_UNAUTH, false, NULL,
					   &p) != STAMP_OK) {
			st->bad++;
			continue;
		}
		enum seqt_verdict v = seqt_rx(&st->seq, p.sender_seq);
		if (v != SEQT_IN_ORDER && v != SEQT_REORDERED)
			continue;
		/* The 32-bit NTP seconds wrap in 2036: each timestamp is
		 * read in the era nearest to the local receive time T4. */
		t.t4 = r->t4[i];
		t.t1 = mp_time_ntp_to_ns(p.sender_timestamp, t.t4);
		t.t2 = mp_time_ntp_to_ns(p.rx_timestamp, t.t4);
		t.t3 = mp_time_ntp_to_ns(p.timestamp, t.t4);
		/* S bit (RFC 8762 4.2.1) of both ends' error estimates. */
		bool synced = (p.error_estimate & p.sender_error_estimate &
			       0x8000) != 0;
		delay_stats_add(&st->delay, &st->stream, p.sender_seq, &t, synced);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	unsigned runs = argc > 1 ? (unsigned)atoi(argv[1]) : 11;
	unsigned passes = argc > 2 ? (unsigned)atoi(argv[2]) : 50;
	struct bench_ring ring;
	struct rx_state *st = aligned_alloc(64, sizeof(*st) + 64 -
					    sizeof(*st) % 64);
	uint64_t now = mp_time_now_ns();

	if (runs == 0 || passes == 0 || st == NULL) {
		fprintf(stderr, "usage: %s [runs [passes_per_run]]\n",
			argv[0]);
		return 2;
	}
	if (ring_build(&ring, now) < 0) {
		fprintf(stderr, "bench_rx_path: cannot build packets\n");
		return 1;
	}
	if (seqt_init(&st->seq, SEQ_WINDOW) < 0)
		return 1;
	seqt_start(&st->seq, 0);
	delay_stats_init(&st->delay);
	st->bad = 0;

	double *ns = calloc(runs, sizeof(double));
	double *tk = calloc(runs, sizeof(double));
	uint64_t pkts_total = 0;
	uint32_t pass = 0;

	printf("bench_rx_path: %u runs x %u passes x %u packets "
	       "(decode + 3 NTP conversions + seqt_rx + delay_stats_add)\n",
	       runs, passes, RING_PKTS);
	for (unsigned run = 0; run < runs; run++) {
		uint64_t el_ns = 0, el_tk = 0;

		/* One interval per run, as the control thread would do. */
		delay_stats_reset_interval(&st->delay);
		for (unsigned k = 0; k < passes; k++, pass++) {
			ring_renumber(&ring, pass);
			uint64_t t0 = mono_ns(), c0 = ticks();
			rx_pass(st, &ring);
			/* Loss timeout of one pass: close the one before. */
			if (pass > 0)
				seqt_close(&st->seq, pass * ring.span);
			uint64_t c1 = ticks(), t1 = mono_ns();
			el_ns += t1 - t0;
			el_tk += c1 - c0;
		}
		uint64_t n = (uint64_t)passes * RING_PKTS;
		pkts_total += n;
		ns[run] = (double)el_ns / (double)n;
		tk[run] = (double)el_tk / (double)n;
		printf("run %2u: %6.2f ns/packet  %6.1f ticks/packet  "
		       "(%.1f Mpps)\n", run, ns[run], tk[run], 1e3 / ns[run]);
	}
	seqt_close(&st->seq, pass * ring.span);

	/* The path did the work: every count is the one built in. */
	uint64_t want_rx = pkts_total, want_lost = (uint64_t)pass *
		ring.lost_per_pass;
	uint64_t want_reo = (uint64_t)pass * ring.reordered_per_pass;
	int ok = st->bad == 0 && st->seq.counts.received == want_rx &&
		 st->seq.counts.lost == want_lost &&
		 st->seq.counts.reordered == want_reo &&
		 st->seq.counts.duplicates == 0 &&
		 st->seq.counts.late == 0 && st->seq.counts.ahead == 0 &&
		 st->delay.rtt.count == (uint64_t)passes * RING_PKTS &&
		 st->delay.owd_fwd.count == st->delay.rtt.count &&
		 st->delay.negative == 0;
	uint64_t p50 = hist_quantile(&st->delay.rtt, 0.5);

	qsort(ns, runs, sizeof(*ns), cmp_double);
	qsort(tk, runs, sizeof(*tk), cmp_double);
	printf("last interval: rtt p50 %lu ns, fwd p99 %lu ns, jitter %lu ns,"
	       " ipdv samples %lu\n", (unsigned long)p50,
	       (unsigned long)hist_quantile(&st->delay.owd_fwd, 0.99),
	       (unsigned long)delay_jitter_ns(&st->delay),
	       (unsigned long)st->delay.ipdv.count);
	printf("counts: received %lu lost %lu reordered %lu: %s\n",
	       (unsigned long)st->seq.counts.received,
	       (unsigned long)st->seq.counts.lost,
	       (unsigned long)st->seq.counts.reordered,
	       ok ? "as built" : "WRONG");
	printf("median: %.2f ns/packet, %.1f ticks/packet (min %.2f, "
	       "max %.2f ns)\n", ns[runs / 2], tk[runs / 2], ns[0],
	       ns[runs - 1]);

	seqt_free(&st->seq);
	free(ns);
	free(tk);
	free(st);
	free(ring.pkts);
	free(ring.t4);
	free(ring.seq0);
	return ok ? 0 : 1;
}
