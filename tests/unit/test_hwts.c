/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device clock to TSC to wall clock: hand-computed cases. Each test feeds
 * (device reading, TSC bracket) pairs as the control thread would, then
 * converts device timestamps and checks the TSC reading, the error bound
 * and the refusals against figures worked out in the comments.
 * Brackets are mid +- half, so a pair's half bracket is exactly `half`.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "metroprobe/hwts.h"

#define P32 (UINT64_C(1) << 32)
#define P48 (UINT64_C(1) << 48)

/* What the probe uses: stamps up to 3 s after the newest pair and 100 ms
 * before it, a rate from pairs at least half a second apart. */
static struct hwts_est_conf
conf_for(uint64_t tsc_hz, unsigned width, bool width_known)
{
	struct hwts_est_conf c = {
		.width = width,
		.width_known = width_known,
		.max_ahead_tsc = 3 * tsc_hz,
		.max_behind_tsc = tsc_hz / 10,
		.min_baseline_tsc = tsc_hz / 2,
	};

	return c;
}

static enum hwts_event
add(struct hwts_est *e, uint64_t dev, uint64_t tsc_mid, uint64_t half)
{
	struct hwts_pair p = { dev, tsc_mid - half, tsc_mid + half };

	return hwts_est_add(e, &p);
}

static uint64_t
to_tsc(const struct hwts_est *e, uint64_t stamp)
{
	uint64_t tsc = 0;

	assert_int_equal(hwts_to_tsc(&e->conv, stamp, &tsc), HWTS_OK);
	return tsc;
}

static void
test_init_rejects_bad_widths(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(1000000000, 7, true);

	assert_int_equal(hwts_est_init(&e, &c), -EINVAL);
	c.width = 65;
	assert_int_equal(hwts_est_init(&e, &c), -EINVAL);
	c.width = 8;
	assert_int_equal(hwts_est_init(&e, &c), 0);
	c.width = 64;
	assert_int_equal(hwts_est_init(&e, &c), 0);
}

static void
test_one_pair_is_not_ready(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(1000000000, 64, false);
	uint64_t tsc = 42;

	assert_int_equal(hwts_est_init(&e, &c), 0);
	/* nothing at all yet */
	assert_int_equal(hwts_to_tsc(&e.conv, 1000, &tsc), HWTS_NOT_READY);
	assert_int_equal(add(&e, 1000, 5000000000, 10), HWTS_EV_FIRST);
	assert_false(e.conv.ready);
	assert_int_equal(hwts_to_tsc(&e.conv, 1000, &tsc), HWTS_NOT_READY);
	assert_int_equal(tsc, 42);
	/* a second pair gives a rate, but nothing has confirmed it yet */
	assert_int_equal(add(&e, 1000001000, 6000000000, 10), HWTS_EV_ADDED);
	assert_true(e.have_rate);
	assert_false(e.conv.ready);
	assert_int_equal(hwts_to_tsc(&e.conv, 1000001000, &tsc),
			 HWTS_NOT_READY);
	/* the third lands where the first two said: ready */
	assert_int_equal(add(&e, 2000001000, 7000000000, 10), HWTS_EV_READY);
	assert_true(e.conv.ready);
}

static void
test_bad_pairs_are_refused(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(1000000000, 64, false);
	struct hwts_pair inverted = { 5, 2000, 1000 };

	assert_int_equal(hwts_est_init(&e, &c), 0);
	assert_int_equal(hwts_est_add(&e, &inverted), HWTS_EV_BAD_PAIR);
	assert_int_equal(add(&e, 1000, 5000000000, 10), HWTS_EV_FIRST);
	/* not after the previous pair: the TSC does not go back */
	assert_int_equal(add(&e, 2000, 5000000000, 10), HWTS_EV_BAD_PAIR);
	assert_int_equal(e.bad_pairs, 2);
	assert_int_equal(e.pairs, 1);
	assert_int_equal(e.n, 1);
}

/*
 * 1 GHz counter, 64 bits, TSC at 1 GHz too: one tick is one TSC tick.
 * Pairs 1 s apart with 20-tick brackets (half 10).
 *   rate    = 2e9 TSC / 2e9 ticks = 1.0 (2^32 in 32.32)
 *   q       = 1 (a device tick in TSC ticks)
 *   base    = h_a + q + 1 = 10 + 1 + 1 = 12
 *   rate error = (h_o + h_n + q) / B = 21 / 2e9; in 0.32:
 *                ceil(21 * 2^32 / 2e9) = ceil(45.097) = 46
 */
static void
test_1ghz_64bit_counter_is_identity(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(1000000000, 64, true);
	struct hwts_tsc_clock k = {
		.base_tsc = 7000000000,
		.base_ns = UINT64_C(1700000000000000000),
		.mult = P32,                    /* 1 ns per TSC tick */
	};
	uint64_t dev0 = 5000000000, tsc0 = 7000000000, ns = 0;

	assert_int_equal(hwts_est_init(&e, &c), 0);
	assert_int_equal(add(&e, dev0, tsc0, 10), HWTS_EV_FIRST);
	assert_int_equal(add(&e, dev0 + 1000000000, tsc0 + 1000000000, 10),
			 HWTS_EV_ADDED);
	assert_int_equal(add(&e, dev0 + 2000000000, tsc0 + 2000000000, 10),
			 HWTS_EV_READY);
	assert_int_equal(e.conv.tsc_per_tick, P32);
	assert_int_equal(e.conv.err_base_tsc, 12);
	assert_int_equal(e.conv.err_rate_q32, 46);
	assert_int_equal(e.last_miss_tsc, 0);

	/* 250 ms after the newest pair */
	assert_int_equal(to_tsc(&e, dev0 + 2250000000), 9250000000);
	/* error: 12 + ceil(250e6 * 46 / 2^32) = 12 + ceil(2.68) = 15;
	 * by hand 12 + 250e6 * 21 / 2e9 = 14.6 */
	assert_int_equal(hwts_error_at(&e.conv, 9250000000), 15);
	/* farthest accepted: 3 s ahead, 12 + ceil(32.13) = 45 */
	assert_int_equal(e.conv.max_ahead, 3000000000);
	assert_int_equal(e.conv.max_behind, 100000000);
	assert_int_equal(e.conv.err_max_tsc, 45);
	/* and on to the wall clock: 2.25 s after base_tsc */
	assert_int_equal(hwts_to_ns(&e.conv, &k, dev0 + 2250000000, &ns),
			 HWTS_OK);
	assert_int_equal(ns, UINT64_C(1700000002250000000));
}

/*
 * 156.25 MHz counter, 48 bits, TSC at 2.5 GHz: 16 TSC ticks a tick.
 * The first pair is 200e6 ticks below 2^48, so the counter wraps between
 * the second and the third (1 s = 156.25e6 ticks apart).
 *   rate = 5e9 / 312.5e6 = 16 (16 << 32), q = 16, half = 50
 *   base = 50 + 16 + 1 = 67
 *   rate error = ceil((50 + 50 + 16) * 2^32 / 5e9) = ceil(99.64) = 100
 */
static void
test_156mhz_48bit_counter(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(2500000000, 48, true);
	uint64_t dev1 = P48 - 200000000, t1 = 10000000000;
	uint64_t dev3 = (dev1 + 312500000) & (P48 - 1);

	assert_int_equal(dev3, 112500000);
	assert_int_equal(hwts_est_init(&e, &c), 0);
	assert_int_equal(add(&e, dev1, t1, 50), HWTS_EV_FIRST);
	assert_int_equal(add(&e, dev1 + 156250000, t1 + 2500000000, 50),
			 HWTS_EV_ADDED);
	assert_int_equal(add(&e, dev3, t1 + 5000000000, 50), HWTS_EV_READY);
	assert_int_equal(e.conv.tsc_per_tick, 16 * P32);
	assert_int_equal(e.conv.err_base_tsc, 67);
	assert_int_equal(e.conv.err_rate_q32, 100);
	assert_int_equal(e.conv.anchor_dev, dev3);

	/* 1 ms later: 156 250 ticks, 2.5e6 TSC ticks */
	assert_int_equal(to_tsc(&e, dev3 + 156250), 15002500000);
	/* 67 + ceil(2.5e6 * 100 / 2^32) = 67 + 1 */
	assert_int_equal(hwts_error_at(&e.conv, 15002500000), 68);
	/* bits above the width are not the counter's */
	assert_int_equal(to_tsc(&e, (UINT64_C(0xabcd) << 48) | (dev3 + 156250)),
			 15002500000);
	/* 3 s ahead is 7.5e9 / 16 = 468 750 000 ticks, and no further */
	assert_int_equal(e.conv.max_ahead, 468750000);
	assert_int_equal(to_tsc(&e, dev3 + 468750000), 22500000000);
}

/*
 * 32-bit counter at 1 GHz (wraps every 4.29 s), TSC at 3 GHz: 3 TSC
 * ticks a tick. Third pair 100 ticks below 2^32: a packet 5000 ticks
 * later has wrapped relative to it; the fourth pair wraps too.
 */
static void
test_32bit_counter_wraps_between_pairs_and_packets(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(3000000000, 32, true);
	uint64_t dev3 = P32 - 100, dev1 = dev3 - 2000000000;
	uint64_t t1 = 30000000000, t3 = t1 + 6000000000;

	assert_int_equal(hwts_est_init(&e, &c), 0);
	assert_int_equal(add(&e, dev1, t1, 15), HWTS_EV_FIRST);
	assert_int_equal(add(&e, dev1 + 1000000000, t1 + 3000000000, 15),
			 HWTS_EV_ADDED);
	assert_int_equal(add(&e, dev3, t3, 15), HWTS_EV_READY);
	assert_int_equal(e.conv.tsc_per_tick, 3 * P32);
	/* packet 5000 ticks after the pair reads 4900 */
	assert_int_equal(to_tsc(&e, 4900), t3 + 15000);
	/* half the counter's range is the most either side can cover */
	assert_int_equal(e.conv.max_ahead, P32 / 2 - 1);

	/* fourth pair after the wrap: 999 999 900 */
	assert_int_equal(add(&e, (dev3 + 1000000000) & (P32 - 1),
			     t3 + 3000000000, 15), HWTS_EV_ADDED);
	assert_int_equal(e.conv.anchor_dev, 999999900);
	assert_int_equal(e.conv.tsc_per_tick, 3 * P32);
	assert_int_equal(e.win[e.head].dev - e.win[(e.head + HWTS_WINDOW - 3) %
			 HWTS_WINDOW].dev, 3000000000);
	assert_int_equal(to_tsc(&e, 1000000900), t3 + 3000000000 + 3000);
}

/*
 * Stamps a little before the newest pair (the frame waited in the ring
 * while the pair was taken), also across a wrap.
 */
static void
test_stamp_before_the_pair(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(1000000000, 64, true);
	struct hwts_est_conf c32 = conf_for(3000000000, 32, true);
	uint64_t dev0 = 5000000000, tsc0 = 7000000000, tsc = 1;

	assert_int_equal(hwts_est_init(&e, &c), 0);
	add(&e, dev0, tsc0, 10);
	add(&e, dev0 + 1000000000, tsc0 + 1000000000, 10);
	assert_int_equal(add(&e, dev0 + 2000000000, tsc0 + 2000000000, 10),
			 HWTS_EV_READY);
	/* 2 ms before: 9e9 - 2e6; error 12 + ceil(2e6 * 46 / 2^32) = 13 */
	assert_int_equal(to_tsc(&e, dev0 + 1998000000), 8998000000);
	assert_int_equal(hwts_error_at(&e.conv, 8998000000), 13);
	/* 100 ms before is the limit, a tick more is too far */
	assert_int_equal(to_tsc(&e, dev0 + 1900000000), 8900000000);
	assert_int_equal(hwts_to_tsc(&e.conv, dev0 + 1899999999, &tsc),
			 HWTS_FAR);
	assert_int_equal(tsc, 1);

	/* 32 bits, 3 TSC ticks a tick; the newest pair reads 100 and the
	 * stamp 2^32 - 900: 1000 ticks before it, 3000 TSC ticks */
	assert_int_equal(hwts_est_init(&e, &c32), 0);
	add(&e, P32 - 1999999900, 30000000000, 15);
	add(&e, P32 - 999999900, 33000000000, 15);
	assert_int_equal(add(&e, 100, 36000000000, 15), HWTS_EV_READY);
	assert_int_equal(to_tsc(&e, P32 - 900), 36000000000 - 3000);
}

/*
 * A 156.25 MHz counter 100 ppm fast: 156 265 625 ticks a second, TSC at
 * 2.5 GHz. Measured, a true second later is 2.5e9 TSC ticks later (less
 * than a tick off); the nominal rate (16) would put it 250 000 TSC ticks,
 * 100 us, too late.
 */
static void
test_rate_100ppm_off_nominal(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(2500000000, 48, true);
	uint64_t f = 156265625, t1 = 5000000000, dev1 = 1000000, tsc;

	assert_int_equal(hwts_est_init(&e, &c), 0);
	add(&e, dev1, t1, 50);
	add(&e, dev1 + f, t1 + 2500000000, 50);
	assert_int_equal(add(&e, dev1 + 2 * f, t1 + 5000000000, 50),
			 HWTS_EV_READY);
	/* 5e9 * 2^32 / 312 531 250 = 68 712 605 475.45 */
	assert_int_equal(e.conv.tsc_per_tick, UINT64_C(68712605475));
	tsc = to_tsc(&e, dev1 + 3 * f);
	assert_true(tsc <= t1 + 7500000000 && t1 + 7500000000 - tsc <= 1);
	assert_int_equal(t1 + 5000000000 + f * 16 - (t1 + 7500000000),
			 250000);
}

/* Stamps nowhere near the newest pair are refused, not converted. */
static void
test_far_stamps_are_flagged(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(1000000000, 64, true);
	struct hwts_est_conf c32 = conf_for(1000000000, 32, true);
	uint64_t dev0 = 5000000000, tsc0 = 7000000000, tsc = 77;

	assert_int_equal(hwts_est_init(&e, &c), 0);
	add(&e, dev0, tsc0, 10);
	add(&e, dev0 + 1000000000, tsc0 + 1000000000, 10);
	add(&e, dev0 + 2000000000, tsc0 + 2000000000, 10);
	assert_true(e.conv.ready);
	/* an hour ahead, a second behind, zero, all ones */
	assert_int_equal(hwts_to_tsc(&e.conv, dev0 + 2000000000 +
				     UINT64_C(3600000000000), &tsc), HWTS_FAR);
	assert_int_equal(hwts_to_tsc(&e.conv, dev0 + 1000000000, &tsc),
			 HWTS_FAR);
	assert_int_equal(hwts_to_tsc(&e.conv, 0, &tsc), HWTS_FAR);
	assert_int_equal(hwts_to_tsc(&e.conv, UINT64_MAX, &tsc), HWTS_FAR);
	/* 3 s ahead is the limit */
	assert_int_equal(hwts_to_tsc(&e.conv, dev0 + 5000000001, &tsc),
			 HWTS_FAR);
	assert_int_equal(tsc, 77);

	/* 32 bits: half a wrap away is ambiguous, so refused */
	assert_int_equal(hwts_est_init(&e, &c32), 0);
	add(&e, 1000, 1000000000, 10);
	add(&e, 1000001000, 2000000000, 10);
	add(&e, 2000001000, 3000000000, 10);
	assert_true(e.conv.ready);
	assert_int_equal(hwts_to_tsc(&e.conv, 2000001000 + P32 / 2, &tsc),
			 HWTS_FAR);
	assert_int_equal(tsc, 77);
}

/* The control thread missed ten seconds: a 32-bit 1 GHz counter wrapped
 * twice, the measured rate says how many times. */
static void
test_pairs_far_apart_unwrap_several_times(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(1000000000, 32, true);

	assert_int_equal(hwts_est_init(&e, &c), 0);
	add(&e, 1000, 1000000000, 10);
	add(&e, 1000001000, 2000000000, 10);
	assert_int_equal(add(&e, 2000001000, 3000000000, 10), HWTS_EV_READY);
	/* 10e9 ticks later: (2 000 001 000 + 10e9) mod 2^32 */
	assert_int_equal(add(&e, (2000001000 + UINT64_C(10000000000)) %
			     P32, 13000000000, 10), HWTS_EV_ADDED);
	assert_int_equal(e.win[e.head].dev - e.win[(e.head + HWTS_WINDOW - 1) %
			 HWTS_WINDOW].dev, 10000000000);
	assert_int_equal(e.conv.tsc_per_tick, P32);
}

/*
 * A counter whose rate moves by 5 ppm: the next pair misses its
 * prediction by 5000 TSC ticks, more than the 33 allowed
 * (12 + ceil(1e9 * 46 / 2^32) + 10) but far less than a step (1000 ppm of
 * 1 s): the window restarts from the last two pairs, still converting.
 * Then a 100 ms jump: a step, not ready until confirmed again.
 */
static void
test_rate_change_and_step(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(1000000000, 64, true);
	uint64_t tsc;

	assert_int_equal(hwts_est_init(&e, &c), 0);
	add(&e, 1000, 1000000000, 10);
	add(&e, 1000001000, 2000000000, 10);
	assert_int_equal(add(&e, 2000001000, 3000000000, 10), HWTS_EV_READY);
	assert_int_equal(add(&e, 3000006000, 4000000000, 10),
			 HWTS_EV_RATE_CHANGED);
	assert_int_equal(e.last_miss_tsc, -5000);
	assert_int_equal(e.last_bound_tsc, 33);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.rate_changes, 1);
	assert_true(e.conv.ready);
	/* 1e9 TSC over 1 000 005 000 ticks */
	assert_int_equal(e.conv.tsc_per_tick,
			 (uint64_t)(((unsigned __int128)1000000000 << 32) /
				    1000005000));

	assert_int_equal(add(&e, 4100006000, 5000000000, 10),
			 HWTS_EV_STEPPED);
	assert_int_equal(e.steps, 1);
	assert_false(e.conv.ready);
	assert_int_equal(hwts_to_tsc(&e.conv, 4100006000, &tsc),
			 HWTS_NOT_READY);
	add(&e, 5100006000, 6000000000, 10);
	assert_int_equal(add(&e, 6100006000, 7000000000, 10), HWTS_EV_READY);
}

/*
 * Width not reported, taken as 64 bits: a 32-bit counter going back by
 * 2^32 - 1e9 where 1e9 ticks should have passed has wrapped at 2^32; the
 * width is learned and conversion goes on across the wrap. A counter that
 * merely goes back is a step.
 */
static void
test_width_learned_at_the_first_wrap(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(1000000000, 64, false);
	uint64_t dev3 = 3794967296, tsc;

	assert_int_equal(hwts_est_init(&e, &c), 0);
	add(&e, dev3 - 2000000000, 1000000000, 10);
	add(&e, dev3 - 1000000000, 2000000000, 10);
	assert_int_equal(add(&e, dev3, 3000000000, 10), HWTS_EV_READY);
	assert_int_equal(add(&e, 500000000, 4000000000, 10),
			 HWTS_EV_WIDTH_LEARNED);
	assert_int_equal(e.width, 32);
	assert_int_equal(e.conv.mask, P32 - 1);
	assert_true(e.conv.ready);
	assert_int_equal(to_tsc(&e, 500001000), 4000001000);
	assert_int_equal(to_tsc(&e, 499999000), 3999999000);
	/* a reading above 2^32 later: it was not a wrap after all */
	assert_int_equal(add(&e, P32 + 5, 5000000000, 10), HWTS_EV_STEPPED);
	assert_int_equal(e.width, 64);
	assert_false(e.conv.ready);

	/* going back by 12 345 is no wrap of any width */
	assert_int_equal(hwts_est_init(&e, &c), 0);
	add(&e, dev3 - 2000000000, 1000000000, 10);
	add(&e, dev3 - 1000000000, 2000000000, 10);
	add(&e, dev3, 3000000000, 10);
	assert_int_equal(add(&e, dev3 - 12345, 4000000000, 10),
			 HWTS_EV_STEPPED);
	assert_int_equal(e.width, 64);
	assert_int_equal(hwts_to_tsc(&e.conv, dev3, &tsc), HWTS_NOT_READY);

	/* a wrap as the third pair: the rate of the first two predicted it,
	 * which confirms the rate as well */
	assert_int_equal(hwts_est_init(&e, &c), 0);
	add(&e, dev3 - 1000000000, 1000000000, 10);
	add(&e, dev3, 2000000000, 10);
	assert_false(e.conv.ready);
	assert_int_equal(add(&e, 500000000, 3000000000, 10),
			 HWTS_EV_WIDTH_LEARNED);
	assert_true(e.conv.ready);
	assert_int_equal(to_tsc(&e, 500000007), 3000000007);

	/* before any rate is known, going back cannot be told from a step */
	assert_int_equal(hwts_est_init(&e, &c), 0);
	add(&e, dev3, 1000000000, 10);
	assert_int_equal(add(&e, 5, 2000000000, 10), HWTS_EV_STEPPED);
}

/* More pairs than the window holds: the rate comes from the oldest kept
 * (HWTS_WINDOW - 1 s back) and the error shrinks with the baseline. */
static void
test_window_slides_and_error_shrinks(void **state)
{
	(void)state;
	struct hwts_est e;
	struct hwts_est_conf c = conf_for(1000000000, 64, true);
	uint64_t first_err = 0;

	assert_int_equal(hwts_est_init(&e, &c), 0);
	for (uint64_t i = 0; i < 100; i++) {
		add(&e, 1000 + i * 1000000000, 1000000000 + i * 1000000000, 10);
		if (i == 2)
			first_err = e.conv.err_max_tsc;
	}
	assert_int_equal(e.n, HWTS_WINDOW);
	assert_int_equal(hwts_est_baseline_tsc(&e),
			 (HWTS_WINDOW - 1) * UINT64_C(1000000000));
	/* 12 + ceil(3e9 * ceil(21 * 2^32 / 63e9) / 2^32):
	 * ceil(1.4317) = 2, 3e9 * 2 / 2^32 = 1.397 -> 2: 14 */
	assert_int_equal(e.conv.err_rate_q32, 2);
	assert_int_equal(e.conv.err_max_tsc, 14);
	assert_int_equal(first_err, 45);
}

static void
test_status_names(void **state)
{
	(void)state;
	assert_string_equal(hwts_status_names[HWTS_OK], "converted");
	assert_string_equal(hwts_status_names[HWTS_NOT_READY], "not_ready");
	assert_string_equal(hwts_status_names[HWTS_FAR], "far");
	assert_non_null(hwts_status_help[HWTS_FAR]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_bad_widths),
		cmocka_unit_test(test_one_pair_is_not_ready),
		cmocka_unit_test(test_bad_pairs_are_refused),
		cmocka_unit_test(test_1ghz_64bit_counter_is_identity),
		cmocka_unit_test(test_156mhz_48bit_counter),
		cmocka_unit_test(
			test_32bit_counter_wraps_between_pairs_and_packets),
		cmocka_unit_test(test_stamp_before_the_pair),
		cmocka_unit_test(test_rate_100ppm_off_nominal),
		cmocka_unit_test(test_far_stamps_are_flagged),
		cmocka_unit_test(test_pairs_far_apart_unwrap_several_times),
		cmocka_unit_test(test_rate_change_and_step),
		cmocka_unit_test(test_width_learned_at_the_first_wrap),
		cmocka_unit_test(test_window_slides_and_error_shrinks),
		cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
