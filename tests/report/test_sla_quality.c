/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SLA evaluation with the records' measurement quality (sla_eval.c):
 * delta-t whose stated error bound is over the profile's max_error_ns
 * are measurement degraded (listed apart, delay and delay variation not
 * judged), delta-t without a stated bound are counted, loss in delta-t
 * the host may have caused is counted apart, and the period's quality
 * figures are the merge of every record's. Records are built here and
 * every expected figure is worked out beside it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metroprobe/hist.h"
#include "metroprobe/record.h"
#include "sla.h"

#include "sla_records.h"

/* Bounds of the delay basis: one-way (owd_error_ns) and RTT. */
static const struct record_quality q_good = {
	.rtt_error_ns = 3000, .owd_error_ns = 40000, .present = true,
};
static const struct record_quality q_owd_over = {
	.rtt_error_ns = 3000, .owd_error_ns = 80000, .present = true,
};
static const struct record_quality q_at_limit = {
	.rtt_error_ns = 3000, .owd_error_ns = 50000, .present = true,
};
static const struct record_quality q_rtt_over = {
	.rtt_error_ns = 900000, .owd_error_ns = 10000, .present = true,
};
static const struct record_quality q_host = {
	.rtt_error_ns = 3000, .owd_error_ns = 40000, .host_imissed = 12,
	.host_rx_nombuf = 2, .host_ierrors = 1, .host_loss_suspect = true,
	.clock_steps = 1, .step_excluded = 4, .owd_fwd_negative = 2,
	.owd_fwd_negative_min_ns = -800, .present = true,
};
static const struct record_quality q_half_a = {
	.rtt_error_ns = 3000, .owd_error_ns = 10000, .present = true,
};
static const struct record_quality q_half_b = {
	.rtt_error_ns = 3000, .owd_error_ns = 70000, .present = true,
};

/*
 * Ten minutes of link north -> south, synchronised, one record a minute
 * of 1000 packets (forward 400 us, backward 420 us, RTT 820 us, IPDV
 * 20 us) unless said:
 *   0 q_good
 *   1 q_owd_over, 30 packets, forward 2 ms, RTT 2.42 ms, IPDV 300 us
 *   2 no quality (an older probe), 30 packets, forward 1.5 ms, RTT
 *     1.92 ms
 *   3 q_at_limit (exactly 50 us one-way)
 *   4 q_rtt_over
 *   5 q_host, 3 of the 1000 lost
 *   6 nothing
 *   7 q_good
 *   8 two records of 30 s and 500 packets: q_half_a then q_half_b
 *   9 q_good
 * The over-bound samples of minutes 1 and 2 (60 of 7057) stay under the
 * period's p99.
 */
static size_t
recs_make(struct interval_record *r)
{
	struct rec_spec base = {
		.tx = 1000, .synced = true, .rtt = 820000, .fwd = 400000,
		.back = 420000, .ipdv = 20000, .l1_bps = 100e9,
	};
	const struct record_quality *qs[10] = {
		&q_good, &q_owd_over, NULL, &q_at_limit, &q_rtt_over,
		&q_host, NULL, &q_good, NULL, &q_good,
	};
	size_t n = 0;
	unsigned m;

	for (m = 0; m < 10; m++) {
		struct rec_spec s = base;

		s.start_ns = T0 + m * MIN;
		s.q = qs[m];
		if (m == 1) {
			s.tx = 30;
			s.fwd = 2000000;
			s.rtt = 2420000;
			s.ipdv = 300000;
		} else if (m == 2) {
			s.tx = 30;
			s.fwd = 1500000;
			s.rtt = 1920000;
		} else if (m == 5) {
			s.lost = 3;
		} else if (m == 6) {
			continue;
		} else if (m == 8) {
			s.tx = 500;
			s.interval_ns = 30 * S;
			s.q = &q_half_a;
			rec_make(&r[n++], &s);
			s.start_ns += 30 * S;
			s.q = &q_half_b;
		}
		rec_make(&r[n++], &s);
	}
	return n;
}

static struct sla_profile
profile_with_limit(uint64_t max_error_ns, enum sla_delay_basis basis)
{
	struct sla_profile p;

	sla_profile_builtin(&p);
	p.max_error_ns = max_error_ns;
	p.delay_basis = basis;
	return p;
}

static void
expect_degraded(const struct sla_link_result *res, size_t i, unsigned minute,
		uint64_t bound)
{
	assert_true(i < res->n_degraded);
	assert_int_equal(res->degraded[i].start_ns, T0 + minute * MIN);
	assert_int_equal(res->degraded[i].end_ns, T0 + (minute + 1) * MIN);
	assert_int_equal(res->degraded[i].bound_ns, bound);
}

static void
expect_violation(const struct sla_link_result *res, enum sla_metric m,
		 size_t nth, unsigned minute, double value)
{
	const struct sla_violation *v = find_violation(res, m, nth);

	assert_non_null(v);
	assert_int_equal(v->start_ns, T0 + minute * MIN);
	assert_true(v->value == value);
}

/*
 * One-way basis, limit 50 us: minutes 1 (80 us) and 8 (70 us, the
 * larger of its two records) are degraded, so minute 1's delay of 2 ms
 * and IPDV of 300 us are not violations; minute 3 at exactly 50 us and
 * minute 4 (over only on RTT) are judged; minute 2 states no bound, is
 * judged and counted; minute 5's 3 lost packets may be the host's.
 */
static void
test_degraded_windows_on_one_way_basis(void **state)
{
	struct sla_profile p = profile_with_limit(50000, SLA_DELAY_AUTO);
	struct interval_record r[11];
	struct sla_link_result res;
	size_t n = recs_make(r);

	(void)state;
	assert_int_equal(sla_evaluate(&p, r, n, T0, T0 + 10 * MIN, &res), 0);
	assert_true(res.owd);
	assert_int_equal(res.n_data, 9);
	assert_int_equal(res.n_degraded, 2);
	expect_degraded(&res, 0, 1, 80000);
	expect_degraded(&res, 1, 8, 70000);
	assert_false(res.degraded_truncated);
	assert_int_equal(res.n_unstated, 1);
	/* violations: minute 2's delay, minute 5's loss, minute 6 */
	assert_int_equal(count_violations(&res, SLA_M_DELAY), 1);
	expect_violation(&res, SLA_M_DELAY, 0, 2, 1500000.0);
	assert_int_equal(count_violations(&res, SLA_M_DV), 0);
	assert_int_equal(count_violations(&res, SLA_M_LOSS), 1);
	expect_violation(&res, SLA_M_LOSS, 0, 5, 3.0 / 1000.0);
	assert_int_equal(count_violations(&res, SLA_M_NO_DATA), 1);
	assert_int_equal(res.n_violations, 3);
	/* loss: all of it, and the part the host may have caused */
	assert_int_equal(res.lost, 3);
	assert_int_equal(res.lost_host_suspect, 3);
	/* the period's figures: merged over every record that stated them */
	assert_true(res.q.present);
	assert_int_equal(res.q.rtt_error_ns, 900000);
	assert_int_equal(res.q.owd_error_ns, 80000);
	assert_int_equal(res.q.host_imissed, 12);
	assert_int_equal(res.q.host_rx_nombuf, 2);
	assert_int_equal(res.q.host_ierrors, 1);
	assert_int_equal(res.q.clock_steps, 1);
	assert_int_equal(res.q.step_excluded, 4);
	assert_int_equal(res.q.owd_fwd_negative, 2);
	assert_int_equal(res.q.owd_fwd_negative_min_ns, -800);
	assert_true(res.q.host_loss_suspect);
	/* the period's delay is over all samples, as before */
	assert_int_equal(res.m[SLA_M_DELAY].status, SLA_PASS);
	assert_true(res.m[SLA_M_DELAY].value == 420000.0);
	sla_link_result_free(&res);
	recs_free(r, n);
}

/* RTT basis, the same records: the RTT bound decides, so minute 4 (900
 * us) is the degraded one and minute 1 is judged: its delay and IPDV
 * are violations. */
static void
test_degraded_windows_on_rtt_basis(void **state)
{
	struct sla_profile p = profile_with_limit(50000, SLA_DELAY_RTT);
	struct interval_record r[11];
	struct sla_link_result res;
	size_t n = recs_make(r);

	(void)state;
	assert_int_equal(sla_evaluate(&p, r, n, T0, T0 + 10 * MIN, &res), 0);
	assert_false(res.owd);
	assert_int_equal(res.n_degraded, 1);
	expect_degraded(&res, 0, 4, 900000);
	assert_int_equal(res.n_unstated, 1);
	assert_int_equal(count_violations(&res, SLA_M_DELAY), 2);
	expect_violation(&res, SLA_M_DELAY, 0, 1, 2420000.0);
	expect_violation(&res, SLA_M_DELAY, 1, 2, 1920000.0);
	assert_int_equal(count_violations(&res, SLA_M_DV), 1);
	expect_violation(&res, SLA_M_DV, 0, 1, 300000.0);
	assert_int_equal(res.lost_host_suspect, 3);
	sla_link_result_free(&res);
	recs_free(r, n);
}

/* Without a limit nothing is degraded: every delta-t is judged as
 * before; what was not stated is still counted. */
static void
test_no_limit_judges_every_window(void **state)
{
	struct sla_profile p = profile_with_limit(0, SLA_DELAY_AUTO);
	struct interval_record r[11];
	struct sla_link_result res;
	size_t n = recs_make(r);

	(void)state;
	assert_int_equal(sla_evaluate(&p, r, n, T0, T0 + 10 * MIN, &res), 0);
	assert_int_equal(res.n_degraded, 0);
	assert_null(res.degraded);
	assert_int_equal(res.n_unstated, 1);
	assert_int_equal(count_violations(&res, SLA_M_DELAY), 2);
	expect_violation(&res, SLA_M_DELAY, 0, 1, 2000000.0);
	assert_int_equal(count_violations(&res, SLA_M_DV), 1);
	assert_int_equal(res.lost_host_suspect, 3);
	sla_link_result_free(&res);
	recs_free(r, n);
}

/* Records of an older probe: nothing stated anywhere. Every delta-t
 * with data is counted as such, none is degraded, nothing is host
 * loss. */
static void
test_records_without_quality_are_counted_not_trusted_silently(void **state)
{
	struct sla_profile p = profile_with_limit(50000, SLA_DELAY_AUTO);
	struct interval_record r[10];
	struct sla_link_result res;

	(void)state;
	recs_steady(r, 10, (struct rec_spec){ .tx = 6000, .lost = 0,
		.synced = true, .rtt = 820000, .fwd = 400000, .back = 420000,
		.ipdv = 20000, .l1_bps = 100e9 });
	r[3].q.host_loss_suspect = true;     /* without q.present: ignored */
	r[3].lost = 5;
	assert_int_equal(sla_evaluate(&p, r, 10, T0, T0 + 10 * MIN, &res), 0);
	assert_int_equal(res.n_data, 10);
	assert_int_equal(res.n_unstated, 10);
	assert_int_equal(res.n_degraded, 0);
	assert_int_equal(res.lost_host_suspect, 0);
	assert_false(res.q.present);
	sla_link_result_free(&res);
	recs_free(r, 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_degraded_windows_on_one_way_basis),
		cmocka_unit_test(test_degraded_windows_on_rtt_basis),
		cmocka_unit_test(test_no_limit_judges_every_window),
		cmocka_unit_test(
		 test_records_without_quality_are_counted_not_trusted_silently),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
