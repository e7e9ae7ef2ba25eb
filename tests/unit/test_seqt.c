/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sequence tracker tests: hand-built arrival sequences with hand-counted
 * verdicts (loss, late, RFC 4737 reordering, RFC 5560 duplicates,
 * ahead-of-window), 2^32 wrap-around, and a long generated stream whose
 * expected counts follow from how it was built.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "metroprobe/seqt.h"

static void
expect_counts(const struct seqt *t, uint64_t received, uint64_t reordered,
	      uint64_t duplicates, uint64_t late, uint64_t ahead,
	      uint64_t lost)
{
	assert_int_equal(t->counts.received, received);
	assert_int_equal(t->counts.reordered, reordered);
	assert_int_equal(t->counts.duplicates, duplicates);
	assert_int_equal(t->counts.late, late);
	assert_int_equal(t->counts.ahead, ahead);
	assert_int_equal(t->counts.lost, lost);
}

static void
test_init_rejects_bad_windows(void **state)
{
	(void)state;
	struct seqt t;

	assert_int_equal(seqt_init(&t, 0), -EINVAL);
	assert_int_equal(seqt_init(&t, 32), -EINVAL);      /* < one word */
	assert_int_equal(seqt_init(&t, 100), -EINVAL);     /* not 2^n */
	assert_int_equal(seqt_init(&t, 1u << 31), -EINVAL);
	assert_int_equal(seqt_init(&t, 64), 0);
	seqt_free(&t);
	seqt_free(&t);                                     /* idempotent */
}

static void
test_in_order_gap_reorder_and_loss(void **state)
{
	(void)state;
	struct seqt t;

	assert_int_equal(seqt_init(&t, 64), 0);
	seqt_start(&t, 100);
	/* 100 101 102 _ 104 105, then 103 late in the stream: it is below
	 * NextExp = 106, so reordered (RFC 4737 section 3.3). */
	assert_int_equal(seqt_rx(&t, 100), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 101), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 102), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 104), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 105), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 103), SEQT_REORDERED);
	expect_counts(&t, 6, 1, 0, 0, 0, 0);

	/* [100, 106) all received: nothing lost. */
	assert_int_equal(seqt_close(&t, 106), 0);
	/* 107 and 108 arrive; 106 and 109 never do. */
	assert_int_equal(seqt_rx(&t, 107), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 108), SEQT_IN_ORDER);
	assert_int_equal(seqt_close(&t, 110), 2);
	expect_counts(&t, 8, 1, 0, 0, 0, 2);
	/* Closing again, or backwards, changes nothing. */
	assert_int_equal(seqt_close(&t, 110), 0);
	assert_int_equal(seqt_close(&t, 105), 0);
	expect_counts(&t, 8, 1, 0, 0, 0, 2);
	seqt_free(&t);
}

static void
test_packet_after_close_is_late_not_unlost(void **state)
{
	(void)state;
	struct seqt t;

	assert_int_equal(seqt_init(&t, 64), 0);
	seqt_start(&t, 0);
	seqt_rx(&t, 0);
	seqt_rx(&t, 1);
	seqt_rx(&t, 3);
	/* 2 is missing when its loss timeout passes. */
	assert_int_equal(seqt_close(&t, 4), 1);
	/* It turns up after all: late, and still lost. */
	assert_int_equal(seqt_rx(&t, 2), SEQT_LATE);
	/* A second copy of a closed, received one is late too. */
	assert_int_equal(seqt_rx(&t, 1), SEQT_LATE);
	expect_counts(&t, 3, 0, 0, 2, 0, 1);
	/* The stream goes on in order after the close. */
	assert_int_equal(seqt_rx(&t, 4), SEQT_IN_ORDER);
	seqt_free(&t);
}

static void
test_reordered_packet_after_its_range_closed_is_late(void **state)
{
	(void)state;
	struct seqt t;

	assert_int_equal(seqt_init(&t, 64), 0);
	seqt_start(&t, 10);
	/* 10 11 13 14 ... 12 is overtaken, and overtaken so far that its
	 * range closes first: lost then, late when it comes. */
	seqt_rx(&t, 10);
	seqt_rx(&t, 11);
	seqt_rx(&t, 13);
	seqt_rx(&t, 14);
	assert_int_equal(seqt_close(&t, 13), 1);        /* 12 lost */
	assert_int_equal(seqt_rx(&t, 12), SEQT_LATE);   /* not reordered */
	expect_counts(&t, 4, 0, 0, 1, 0, 1);
	seqt_free(&t);
}

static void
test_duplicates_including_of_reordered_packets(void **state)
{
	(void)state;
	struct seqt t;

	assert_int_equal(seqt_init(&t, 64), 0);
	seqt_start(&t, 5);
	assert_int_equal(seqt_rx(&t, 5), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 5), SEQT_DUPLICATE);     /* RFC 5560 */
	assert_int_equal(seqt_rx(&t, 6), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 8), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 7), SEQT_REORDERED);
	/* Copies of the reordered packet and of the one that overtook it
	 * are duplicates, not more reordering. */
	assert_int_equal(seqt_rx(&t, 7), SEQT_DUPLICATE);
	assert_int_equal(seqt_rx(&t, 8), SEQT_DUPLICATE);
	assert_int_equal(seqt_rx(&t, 7), SEQT_DUPLICATE);
	/* received 5 6 7 8; reordered 7; duplicates 5 7 8 7. */
	expect_counts(&t, 4, 1, 4, 0, 0, 0);
	assert_int_equal(seqt_close(&t, 9), 0);
	seqt_free(&t);
}

static void
test_wrap_around_at_2_to_the_32(void **state)
{
	(void)state;
	struct seqt t;

	assert_int_equal(seqt_init(&t, 64), 0);
	seqt_start(&t, 0xfffffffcu);
	/* FFFFFFFC FFFFFFFD FFFFFFFF 0 1, then FFFFFFFE overtaken by three,
	 * then 0 again. Then 3 (2 missing), close [.., 5): 2 and 4 lost. */
	assert_int_equal(seqt_rx(&t, 0xfffffffcu), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 0xfffffffdu), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 0xffffffffu), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 0), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 1), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 0xfffffffeu), SEQT_REORDERED);
	assert_int_equal(seqt_rx(&t, 0), SEQT_DUPLICATE);
	assert_int_equal(t.next_expected, 2);
	assert_int_equal(seqt_close(&t, 2), 0);
	assert_int_equal(seqt_rx(&t, 3), SEQT_IN_ORDER);
	assert_int_equal(seqt_close(&t, 5), 2);
	/* A straggler from before the wrap is late. */
	assert_int_equal(seqt_rx(&t, 0xfffffff0u), SEQT_LATE);
	expect_counts(&t, 7, 1, 1, 1, 0, 2);
	seqt_free(&t);
}

static void
test_beyond_window_is_ahead(void **state)
{
	(void)state;
	struct seqt t;

	assert_int_equal(seqt_init(&t, 64), 0);
	seqt_start(&t, 0);
	/* The bitmap holds [0, 64): 64 would alias 0. */
	assert_int_equal(seqt_rx(&t, 64), SEQT_AHEAD);
	assert_int_equal(seqt_rx(&t, 63), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 0), SEQT_REORDERED);
	expect_counts(&t, 2, 1, 0, 0, 1, 0);
	/* Once the window moves, 64 is trackable. */
	assert_int_equal(seqt_close(&t, 1), 0);
	assert_int_equal(seqt_rx(&t, 64), SEQT_IN_ORDER);
	/* Closing [1, 65): 1..62 never came: 62 lost. */
	assert_int_equal(seqt_close(&t, 65), 62);
	seqt_free(&t);
}

static void
test_closing_more_than_a_window_counts_all_unseen_lost(void **state)
{
	(void)state;
	struct seqt t;

	assert_int_equal(seqt_init(&t, 64), 0);
	seqt_start(&t, 0);
	for (uint32_t s = 0; s < 10; s++)
		seqt_rx(&t, s);
	assert_int_equal(seqt_close(&t, 200), 190);
	assert_int_equal(t.base, 200);
	assert_int_equal(seqt_rx(&t, 200), SEQT_IN_ORDER);
	assert_int_equal(seqt_rx(&t, 150), SEQT_LATE);
	seqt_free(&t);
}

static void
test_unstarted_tracker_starts_at_first_packet(void **state)
{
	(void)state;
	struct seqt t;

	assert_int_equal(seqt_init(&t, 128), 0);
	/* A reflector does not know where the sender's stream starts. */
	assert_int_equal(seqt_rx(&t, 1000), SEQT_IN_ORDER);
	assert_int_equal(t.base, 1000);
	assert_int_equal(seqt_rx(&t, 999), SEQT_LATE);
	assert_int_equal(seqt_rx(&t, 1002), SEQT_IN_ORDER);
	assert_int_equal(seqt_close(&t, 1003), 1);      /* 1001 */
	seqt_free(&t);

	/* Closing before anything arrived starts the stream there. */
	assert_int_equal(seqt_init(&t, 128), 0);
	assert_int_equal(seqt_close(&t, 50), 0);
	assert_int_equal(seqt_rx(&t, 49), SEQT_LATE);
	assert_int_equal(seqt_rx(&t, 50), SEQT_IN_ORDER);
	seqt_free(&t);
}

/*
 * 200 000 packets from just below the wrap, window 1024, closed every
 * 256 arrivals 512 behind the newest: index i is dropped when
 * i % 97 == 0; the pair (i, i+1) is swapped when i % 50 == 10 and
 * neither is dropped; i is sent twice when i % 1000 == 500 (and kept).
 * Every count follows from those rules.
 */
static void
test_long_stream_counts_follow_construction(void **state)
{
	(void)state;
	const uint32_t first = 0xfffff000u;
	const uint32_t n = 200000;
	uint64_t dropped = 0, swapped = 0, dups = 0, arrivals = 0;
	struct seqt t;

	assert_int_equal(seqt_init(&t, 1024), 0);
	seqt_start(&t, first);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t order[2] = { i, 0 };
		unsigned k = 1;

		if (i % 50 == 10 && i % 97 != 0 && (i + 1) % 97 != 0 &&
		    i + 1 < n) {
			order[0] = i + 1;
			order[1] = i;
			k = 2;
			swapped++;
		}
		for (unsigned j = 0; j < k; j++) {
			uint32_t x = order[j];
			if (x % 97 == 0) {
				dropped++;
				continue;
			}
			enum seqt_verdict v = seqt_rx(&t, first + x);
			assert_true(v == (j == 1 ? SEQT_REORDERED :
					  SEQT_IN_ORDER));
			if (x % 1000 == 500) {
				assert_int_equal(seqt_rx(&t, first + x),
						 SEQT_DUPLICATE);
				dups++;
			}
			if (++arrivals % 256 == 0 && x > 512)
				seqt_close(&t, first + x - 512);
		}
		i += k - 1;
	}
	seqt_close(&t, first + n);
	expect_counts(&t, n - dropped, swapped, dups, 0, 0, dropped);
	/* ceil(200000 / 97) drops; 4000 swap candidates, less those next
	 * to a drop. */
	assert_int_equal(dropped, (n + 96) / 97);
	assert_true(swapped > 3800 && swapped < 4000);
	seqt_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_bad_windows),
		cmocka_unit_test(test_in_order_gap_reorder_and_loss),
		cmocka_unit_test(test_packet_after_close_is_late_not_unlost),
		cmocka_unit_test(
			test_reordered_packet_after_its_range_closed_is_late),
		cmocka_unit_test(
			test_duplicates_including_of_reordered_packets),
		cmocka_unit_test(test_wrap_around_at_2_to_the_32),
		cmocka_unit_test(test_beyond_window_is_ahead),
		cmocka_unit_test(
			test_closing_more_than_a_window_counts_all_unseen_lost),
		cmocka_unit_test(test_unstarted_tracker_starts_at_first_packet),
		cmocka_unit_test(test_long_stream_counts_follow_construction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
