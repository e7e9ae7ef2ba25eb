/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delay statistics tests against values computed by hand.
 *
 * The reference stream: five reflected packets, sequence numbers
 * 1 2 3 5 6 (4 lost), T1 one millisecond apart. Per packet (ns):
 *
 *  seq  T1         fwd      residence  back     T4 - T1   RTT
 *   1   1 000 000  100 000  5 000      110 000  215 000   210 000
 *   2   2 000 000  100 800  4 000      109 000  213 800   209 800
 *   3   3 000 000   99 600  6 000      111 000  216 600   210 600
 *   5   5 000 000  101 000  5 000      110 500  216 500   211 500
 *   6   6 000 000  100 200  5 000      110 000  215 200   210 200
 *
 *  T2 = T1 + fwd, T3 = T2 + residence, T4 = T3 + back;
 *  RTT = (T4 - T1) - (T3 - T2)                         RFC 2681
 *  RTT sorted: 209 800, 210 000, 210 200, 210 600, 211 500;
 *  mean 1 052 100 / 5 = 210 420.
 *
 *  D between consecutive arrivals (forward delays):
 *   1->2 +800   2->3 -1 200   3->5 +1 400   5->6 -800
 *  IPDV (consecutive sequence numbers only, RFC 3393): 1->2, 2->3, 5->6:
 *   |IPDV| = 800, 1 200, 800 (3->5 skips the lost 4).
 *
 *  RFC 3550 A.8 jitter in 1/16 ns, j += |D| - ((j + 8) >> 4), from 0:
 *   800:   0    + 800   - 0   = 800
 *   1200:  800  + 1200  - 50  = 1950
 *   1400:  1950 + 1400  - 122 = 3228
 *   800:   3228 + 800   - 202 = 3826     -> jitter 3826 >> 4 = 239 ns
 *  (in real numbers: 50, 121.9, 201.8, 239.2 ns)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metroprobe/delay.h"

struct ref_pkt {
	uint32_t seq;
	uint64_t t1, fwd, residence, back;
};

static const struct ref_pkt ref[] = {
	{ 1, 1000000, 100000, 5000, 110000 },
	{ 2, 2000000, 100800, 4000, 109000 },
	{ 3, 3000000, 99600, 6000, 111000 },
	{ 5, 5000000, 101000, 5000, 110500 },
	{ 6, 6000000, 100200, 5000, 110000 },
};
#define NREF (sizeof(ref) / sizeof(ref[0]))

/* Wall-clock base so the numbers look like real timestamps. */
#define EPOCH_2026 1795000000000000000ULL

static struct stamp_times
times_of(const struct ref_pkt *p, int64_t reflector_offset)
{
	struct stamp_times t;
	t.t1 = EPOCH_2026 + p->t1;
	t.t2 = t.t1 + p->fwd + (uint64_t)reflector_offset;
	t.t3 = t.t2 + p->residence;
	t.t4 = t.t1 + p->fwd + p->residence + p->back;
	return t;
}

/* The session's stream (one per test: stats_new starts it). */
static struct delay_stream stream;

static struct delay_stats *
stats_new(void)
{
	memset(&stream, 0, sizeof(stream));
	struct delay_stats *s = malloc(sizeof(*s));
	assert_non_null(s);
	delay_stats_init(s);
	return s;
}

static void
feed_reference(struct delay_stats *s, bool synced, int64_t offset)
{
	for (size_t i = 0; i < NREF; i++) {
		struct stamp_times t = times_of(&ref[i], offset);
		delay_stats_add(s, &stream, ref[i].seq, &t, synced);
	}
}

static void
expect_rtt_ipdv_jitter(const struct delay_stats *s)
{
	assert_int_equal(s->rtt.count, 5);
	assert_int_equal(s->rtt.min, 209800);
	assert_int_equal(s->rtt.max, 211500);
	assert_int_equal(hist_mean(&s->rtt), 210420);
	/* Median by nearest rank is 210 200; the histogram's answer is
	 * within its 1 % (bucket width at 2^17..2^18 is 4096 ns). */
	uint64_t p50 = hist_quantile(&s->rtt, 0.5);
	assert_true(p50 >= 210200 - 2102 && p50 <= 210200 + 2102);

	assert_int_equal(s->ipdv.count, 3);
	assert_int_equal(s->ipdv.min, 800);
	assert_int_equal(s->ipdv.max, 1200);
	assert_int_equal(s->ipdv.sum, 2800);

	assert_int_equal(s->jitter_q4, 3826);
	assert_int_equal(delay_jitter_ns(s), 239);
}

static void
test_formulas_on_one_packet(void **state)
{
	(void)state;
	struct stamp_times t = times_of(&ref[0], 0);

	assert_int_equal(delay_rtt(&t), 210000);
	assert_int_equal(delay_fwd(&t), 100000);
	assert_int_equal(delay_back(&t), 110000);
	/* Reflector clock 1 s behind: one-way delays are off by the
	 * offset, the RTT is not. */
	t = times_of(&ref[0], -1000000000LL);
	assert_int_equal(delay_rtt(&t), 210000);
	assert_int_equal(delay_fwd(&t), 100000 - 1000000000LL);
	assert_int_equal(delay_back(&t), 110000 + 1000000000LL);
}

static void
test_reference_stream_synced(void **state)
{
	(void)state;
	struct delay_stats *s = stats_new();

	feed_reference(s, true, 0);
	expect_rtt_ipdv_jitter(s);
	assert_int_equal(s->negative, 0);
	assert_true(s->owd_valid);
	assert_int_equal(s->owd_fwd.count, 5);
	assert_int_equal(s->owd_fwd.min, 99600);
	assert_int_equal(s->owd_fwd.max, 101000);
	assert_int_equal(s->owd_fwd.sum, 501600);
	assert_int_equal(s->owd_back.count, 5);
	assert_int_equal(s->owd_back.min, 109000);
	assert_int_equal(s->owd_back.max, 111000);
	assert_int_equal(s->owd_back.sum, 550500);
	/* PDV against the minimum (RFC 5481) from the histogram: the
	 * largest forward PDV is 101 000 - 99 600 = 1 400 ns. */
	assert_int_equal(s->owd_fwd.max - s->owd_fwd.min, 1400);
	free(s);
}

static void
test_unsynced_clocks_record_no_one_way_delay(void **state)
{
	(void)state;
	struct delay_stats *s = stats_new();

	/* Reflector clock 1 s behind and not synchronised: RTT, IPDV and
	 * jitter are unchanged (the offset cancels), one-way delays are
	 * not recorded. */
	feed_reference(s, false, -1000000000LL);
	expect_rtt_ipdv_jitter(s);
	assert_false(s->owd_valid);
	assert_true(hist_empty(&s->owd_fwd));
	assert_true(hist_empty(&s->owd_back));
	assert_int_equal(s->owd_fwd_negative, 0);
	assert_int_equal(s->owd_back_negative, 0);
	free(s);
}

static void
test_negative_rtt_is_counted_not_recorded(void **state)
{
	(void)state;
	struct delay_stats *s = stats_new();
	struct stamp_times bad;

	/* Between packets 2 and 3, one whose reflector residence is
	 * longer than its round trip (a clock stepped): counted, and it
	 * does not disturb IPDV or jitter of its neighbours. */
	for (size_t i = 0; i < NREF; i++) {
		struct stamp_times t = times_of(&ref[i], 0);
		if (i == 2) {
			bad = times_of(&ref[i], 0);
			bad.t3 = bad.t2 + 500000;
			delay_stats_add(s, &stream, 99, &bad, true);
		}
		delay_stats_add(s, &stream, ref[i].seq, &t, true);
	}
	assert_int_equal(delay_rtt(&bad), 216600 - 500000);
	expect_rtt_ipdv_jitter(s);
	assert_int_equal(s->negative, 1);
	free(s);
}

static void
test_negative_one_way_delay_when_synced_is_counted(void **state)
{
	(void)state;
	struct delay_stats *s = stats_new();

	/* Both ends claim sync but the reflector is 200 us behind: the
	 * forward delay of packet 1 comes out negative. */
	struct stamp_times t = times_of(&ref[0], -200000);
	delay_stats_add(s, &stream, 1, &t, true);
	assert_int_equal(s->owd_fwd_negative, 1);
	assert_int_equal(s->owd_fwd_negative_min, delay_fwd(&t));
	assert_true(delay_fwd(&t) < 0);
	assert_true(hist_empty(&s->owd_fwd));
	assert_int_equal(s->rtt.count, 1);
	assert_int_equal(s->rtt.min, 210000);
	/* the backward direction is 200 us longer, and kept */
	assert_int_equal(s->owd_back_negative, 0);
	assert_int_equal(s->owd_back.count, 1);
	assert_int_equal(s->owd_back.min, (uint64_t)delay_back(&t));
	/* a second, lower one moves the minimum; reset clears both */
	t = times_of(&ref[1], -300000);
	delay_stats_add(s, &stream, 2, &t, true);
	assert_int_equal(s->owd_fwd_negative, 2);
	assert_int_equal(s->owd_fwd_negative_min, delay_fwd(&t));
	assert_int_equal(s->owd_fwd.count + s->owd_fwd_negative,
			 s->rtt.count);
	delay_stats_reset_interval(s);
	assert_int_equal(s->owd_fwd_negative, 0);
	assert_int_equal(s->owd_fwd_negative_min, 0);
	free(s);
}

static void
test_interval_reset_keeps_the_stream_state(void **state)
{
	(void)state;
	struct delay_stats *s = stats_new();

	/* Interval 1 holds packets 1, 2, 3; interval 2 holds 5, 6. */
	for (size_t i = 0; i < 3; i++) {
		struct stamp_times t = times_of(&ref[i], 0);
		delay_stats_add(s, &stream, ref[i].seq, &t, i != 1);
	}
	assert_false(s->owd_valid);
	assert_int_equal(s->owd_fwd.count, 2);
	assert_int_equal(s->jitter_q4, 1950);

	delay_stats_reset_interval(s);
	assert_true(hist_empty(&s->rtt));
	assert_true(hist_empty(&s->ipdv));
	assert_true(hist_empty(&s->owd_fwd));
	assert_true(s->owd_valid);
	assert_int_equal(s->jitter_q4, 1950);

	for (size_t i = 3; i < NREF; i++) {
		struct stamp_times t = times_of(&ref[i], 0);
		delay_stats_add(s, &stream, ref[i].seq, &t, true);
	}
	/* 3->5 feeds the jitter across the boundary, 5->6 the IPDV. */
	assert_int_equal(s->jitter_q4, 3826);
	assert_int_equal(s->ipdv.count, 1);
	assert_int_equal(s->ipdv.min, 800);
	assert_int_equal(s->rtt.count, 2);
	free(s);
}

static void
test_ipdv_across_sequence_wrap(void **state)
{
	(void)state;
	struct delay_stats *s = stats_new();
	struct stamp_times a = times_of(&ref[0], 0), b = times_of(&ref[1], 0);

	delay_stats_add(s, &stream, 0xffffffffu, &a, false);
	delay_stats_add(s, &stream, 0, &b, false);
	assert_int_equal(s->ipdv.count, 1);
	assert_int_equal(s->ipdv.min, 800);
	free(s);
}

static void
test_garbage_timestamps_do_not_overflow(void **state)
{
	(void)state;
	struct delay_stats *s = stats_new();
	struct stamp_times t = { 0, UINT64_MAX, 0, UINT64_MAX };
	struct stamp_times u = { UINT64_MAX, 0, UINT64_MAX, 0 };

	/* Run under UBSan: no signed overflow whatever the wire says. */
	for (int i = 0; i < 4; i++) {
		delay_stats_add(s, &stream, (uint32_t)i, i % 2 ? &t : &u, false);
		delay_stats_add(s, &stream, (uint32_t)i, i % 2 ? &u : &t, true);
	}
	assert_int_equal(s->rtt.count + s->negative, 8);
	/* |D| is capped at 100 s in the jitter, so it stays bounded. */
	assert_true(delay_jitter_ns(s) <= HIST_MAX_NS);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formulas_on_one_packet),
		cmocka_unit_test(test_reference_stream_synced),
		cmocka_unit_test(test_unsynced_clocks_record_no_one_way_delay),
		cmocka_unit_test(test_negative_rtt_is_counted_not_recorded),
		cmocka_unit_test(
			test_negative_one_way_delay_when_synced_is_counted),
		cmocka_unit_test(test_interval_reset_keeps_the_stream_state),
		cmocka_unit_test(test_ipdv_across_sequence_wrap),
		cmocka_unit_test(test_garbage_timestamps_do_not_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
