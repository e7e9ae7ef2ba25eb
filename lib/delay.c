/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delay and delay-variation statistics (see delay.h for the formulas).
 */
#include <string.h>

#include "metroprobe/delay.h"

void
delay_stats_init(struct delay_stats *s)
{
	memset(s, 0, sizeof(*s));
	delay_stats_reset_interval(s);
}

void
delay_stats_reset_interval(struct delay_stats *s)
{
	hist_init(&s->rtt);
	hist_init(&s->owd_fwd);
	hist_init(&s->owd_back);
	hist_init(&s->ipdv);
	s->negative = 0;
	s->owd_fwd_negative = s->owd_back_negative = 0;
	s->owd_fwd_negative_min = s->owd_back_negative_min = 0;
	s->owd_valid = true;
}

static inline void
owd_add(struct hist *h, int64_t d, uint64_t *n_negative, int64_t *min)
{
	if (d >= 0) {
		hist_insert(h, (uint64_t)d);
		return;
	}
	(*n_negative)++;
	if (d < *min)
		*min = d;
}

void
delay_stats_add(struct delay_stats *s, struct delay_stream *st,
		uint32_t seq, const struct stamp_times *t, bool synced)
{
	int64_t rtt = delay_rtt(t);
	if (rtt < 0) {
		/* Reflector residence longer than the round trip: a clock
		 * stepped. Nothing from this sample can be trusted. */
		s->negative++;
		return;
	}
	hist_insert(&s->rtt, (uint64_t)rtt);

	int64_t fwd = delay_fwd(t);
	if (synced) {
		int64_t back = delay_back(t);

		owd_add(&s->owd_fwd, fwd, &s->owd_fwd_negative,
			&s->owd_fwd_negative_min);
		owd_add(&s->owd_back, back, &s->owd_back_negative,
			&s->owd_back_negative_min);
	} else {
		s->owd_valid = false;
	}

	if (st->have_prev) {
		/* D(i-1, i) on the forward delay: the clock offset between
		 * the two ends cancels (RFC 3393 section 3.1, RFC 3550
		 * section 6.4.1). Unsigned difference: no signed overflow
		 * on garbage timestamps. */
		int64_t d = (int64_t)((uint64_t)fwd - (uint64_t)st->prev_fwd);
		uint64_t ad = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
		/* IPDV only between consecutive sequence numbers. */
		if (seq == st->prev_seq + 1)
			hist_insert(&s->ipdv, ad);
		/* RFC 3550 appendix A.8: J += |D| - J/16, J in 1/16 ns,
		 * rounded. |D| capped at 100 s so J cannot overflow. */
		if (ad > HIST_MAX_NS)
			ad = HIST_MAX_NS;
		st->jitter_q4 += ad - ((st->jitter_q4 + 8) >> 4);
	}
	st->prev_fwd = fwd;
	st->prev_seq = seq;
	st->have_prev = true;
	s->jitter_q4 = st->jitter_q4;
}
