/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delay and delay-variation statistics from the four STAMP timestamps.
 *
 *   T1 sender tx, T2 reflector rx, T3 reflector tx, T4 sender rx
 *   RTT      = (T4 - T1) - (T3 - T2)     RFC 2681, minus reflector residence
 *   forward  = T2 - T1                   RFC 7679, needs synchronised clocks
 *   backward = T4 - T3                   RFC 7679, needs synchronised clocks
 *   IPDV     = D(i) - D(i-1) for consecutive sequence numbers (RFC 3393),
 *              on the forward one-way delay: the clock offset cancels, so
 *              it is valid without synchronised clocks. Recorded in the
 *              histogram as |IPDV|.
 *   PDV      = D(i) - min D over the interval (RFC 5481): derived from the
 *              delay histogram (quantile minus minimum), so not stored.
 *   jitter   = RFC 3550 section 6.4.1 estimate J += (|IPDV| - J) / 16 on
 *              the forward delay of consecutive arrivals, kept in 1/16 ns
 *              fixed point so the update is a shift.
 * All times are ns since the Unix epoch; all delays ns.
 */
#ifndef METROPROBE_DELAY_H
#define METROPROBE_DELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "metroprobe/hist.h"

struct stamp_times {
	uint64_t t1, t2, t3, t4;
};

/* Signed results: a negative value means the timestamps are inconsistent
 * (clock step, unsynchronised clocks) and the caller counts it. The
 * arithmetic is unsigned (modulo 2^64) so garbage timestamps cannot
 * overflow a signed type. */
static inline int64_t
delay_rtt(const struct stamp_times *t)
{
	return (int64_t)((t->t4 - t->t1) - (t->t3 - t->t2));
}
static inline int64_t
delay_fwd(const struct stamp_times *t)
{
	return (int64_t)(t->t2 - t->t1);
}
static inline int64_t
delay_back(const struct stamp_times *t)
{
	return (int64_t)(t->t4 - t->t3);
}

/*
 * The stream of replies a session receives, which runs across intervals:
 * the previous reply's forward delay and sequence number (for IPDV
 * between consecutive ones) and the RFC 3550 jitter estimate. It belongs
 * to the session; each interval's statistics only read it.
 */
struct delay_stream {
	int64_t prev_fwd;        /* forward delay of the previous sample */
	uint32_t prev_seq;
	bool have_prev;
	uint64_t jitter_q4;      /* RFC 3550 jitter in 1/16 ns */
};

/* The next sample starts the stream again (no IPDV to the one before,
 * jitter kept): after a clock step, for one. */
static inline void
delay_stream_restart(struct delay_stream *st)
{
	st->have_prev = false;
}

struct delay_stats {
	struct hist rtt;
	struct hist owd_fwd;
	struct hist owd_back;
	struct hist ipdv;        /* |IPDV| of the forward delay */
	uint64_t jitter_q4;      /* the stream's jitter after this interval's
				  * last sample, 1/16 ns */
	uint64_t negative;       /* samples with a negative RTT, not recorded */
	bool owd_valid;          /* both clocks synchronised for all samples */
	/* Synced samples whose one-way delay came out below zero (the
	 * clocks are not as close as they say): that direction's sample is
	 * counted here with the lowest value, not put in its histogram
	 * (which holds 1 ns..100 s); the other direction, RTT, IPDV and
	 * jitter are recorded as usual. */
	uint64_t owd_fwd_negative, owd_back_negative;
	int64_t owd_fwd_negative_min, owd_back_negative_min;
};

void delay_stats_init(struct delay_stats *s);
/* Resets the histograms for a new interval (the stream, apart, goes on). */
void delay_stats_reset_interval(struct delay_stats *s);

/*
 * Records one reflected packet with sender sequence number seq in the
 * interval's statistics s, and moves the session's stream st on.
 * synced: both ends' error estimates have the S bit (one-way delays are
 * recorded only then; RTT, IPDV and jitter always). A sample with a
 * negative RTT is counted in `negative` and otherwise ignored (it is not
 * the previous sample for IPDV either). A one-way delay below zero is
 * counted per direction (owd_*_negative), never dropped silently. Call it for first copies only
 * (seqt_rx verdict SEQT_IN_ORDER or SEQT_REORDERED).
 */
void delay_stats_add(struct delay_stats *s, struct delay_stream *st,
		     uint32_t seq, const struct stamp_times *t, bool synced);

static inline uint64_t
delay_jitter_ns(const struct delay_stats *s)
{
	return s->jitter_q4 >> 4;
}

#endif
