/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SLA profiles and SLA evaluation (collector/reporting/sla_*.c) against
 * hand-computed fixtures: records are built here, in plain sight, and
 * every expected figure is worked out in the comment beside it.
 *
 * Delays are either single-valued per histogram (a quantile is clamped to
 * [min, max], so it is the value itself) or bucket midpoints (hist.h: a
 * quantile is the midpoint of its bucket), so expected values are exact.
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

#include "metroprobe/config.h"
#include "metroprobe/hist.h"
#include "metroprobe/record.h"
#include "report.h"
#include "sla.h"

#include "sla_records.h"

/* ---- profiles ---- */

static void
test_builtin_default_profile(void **state)
{
	struct sla_profile_set *set;
	char err[256];

	(void)state;
	assert_int_equal(sla_profiles_load(NULL, &set, err, sizeof(err)), 0);
	assert_int_equal(set->n_profiles, 0);
	assert_string_equal(set->def.name, "default");
	assert_int_equal(set->def.interval_ns, 60 * S);
	assert_int_equal(set->def.delay_basis, SLA_DELAY_AUTO);
	assert_true(set->def.delay_percentile == 99.0);
	assert_int_equal(set->def.delay_max_ns, 1000000);
	assert_true(set->def.loss_ratio_max == 1e-5);
	assert_int_equal(set->def.dv_kind, SLA_DV_IPDV);
	assert_int_equal(set->def.dv_max_ns, 100000);
	assert_true(set->def.availability_min_pct == 99.99);
	assert_true(set->def.capacity_min_bps == 100e9);
	assert_int_equal(set->def.max_error_ns, 0);        /* no limit */
	assert_ptr_equal(sla_profile_for_link(set, "x", "y", "10.9.9.9:862",
					      NULL), &set->def);
	sla_profiles_free(set);
}

static const char profiles_ini[] =
	"[group.core]\n"                                  /* 1 */
	"probes = north, south\n"                         /* 2 */
	"\n"
	"[sla.default]\n"                                 /* 4 */
	"delay_max = 2ms\n"                               /* 5 */
	"interval = 5m\n"                                 /* 6 */
	"\n"
	"[sla.gold]\n"                                    /* 8 */
	"sessions = n-s-gold\n"
	"delay_percentile = p99.9\n"
	"delay_max = 500us\n"
	"rtt_max = 900us\n"
	"dv = pdv\n"
	"dv_percentile = 95\n"
	"dv_max = 50us\n"
	"availability_min = 99.9%\n"
	"unavailable_loss_ratio = 0.001\n"
	"capacity_min = 40Gbps\n"
	"capacity_sessions = *-cap, probe-x\n"
	"max_error_ns = 50000\n"
	"\n"
	"[sla.east]\n"
	"peers = east, 10.0.9.9\n"
	"loss_ratio_max = off\n"
	"capacity_min = off\n"
	"max_error_ns = 20us\n"
	"\n"
	"[sla.metro]\n"
	"groups = core\n"
	"delay_basis = rtt\n";

static void
test_profiles_from_config(void **state)
{
	struct sla_profile_set *set;
	struct mp_config *cfg;
	const struct sla_profile *p;
	char err[256];

	(void)state;
	assert_int_equal(mp_config_load_string(profiles_ini, "c.ini", &cfg,
					       err, sizeof(err)), 0);
	assert_int_equal(sla_profiles_load(cfg, &set, err, sizeof(err)), 0);
	assert_int_equal(set->n_profiles, 3);
	assert_true(set->def_from_config);
	/* [sla.default] overrides the built-in where it says so */
	assert_int_equal(set->def.delay_max_ns, 2000000);
	assert_int_equal(set->def.rtt_max_ns, 2000000);
	assert_int_equal(set->def.interval_ns, 300 * S);
	assert_true(set->def.loss_ratio_max == 1e-5);

	p = &set->profiles[0];
	assert_string_equal(p->name, "gold");
	assert_true(p->delay_percentile == 99.9);
	assert_int_equal(p->delay_max_ns, 500000);
	assert_int_equal(p->rtt_max_ns, 900000);
	assert_int_equal(p->dv_kind, SLA_DV_PDV);
	assert_true(p->dv_percentile == 95.0);
	assert_int_equal(p->dv_max_ns, 50000);
	assert_true(p->availability_min_pct == 99.9);
	assert_true(p->unavail_loss_ratio == 0.001);
	assert_true(p->capacity_min_bps == 40e9);
	assert_int_equal(p->capacity_sessions.n, 2);
	assert_string_equal(p->capacity_sessions.name[0], "*-cap");
	/* inherited from [sla.default] */
	assert_int_equal(p->interval_ns, 300 * S);
	/* in ns, or as a duration; none: no limit */
	assert_int_equal(p->max_error_ns, 50000);
	assert_int_equal(set->profiles[1].max_error_ns, 20000);
	assert_int_equal(set->profiles[2].max_error_ns, 0);
	assert_int_equal(set->def.max_error_ns, 0);

	p = &set->profiles[1];
	assert_false(p->loss_set);
	assert_false(p->capacity_set);
	/* unavailability follows the loss bound unless set apart */
	assert_false(p->unavail_loss_set);
	assert_int_equal(p->delay_max_ns, 2000000);

	/* first match wins: session before group */
	assert_string_equal(sla_profile_for_link(set, "north", "n-s-gold",
		"10.0.0.2:862", "south")->name, "gold");
	/* peer by centre name, by host, by group member */
	assert_string_equal(sla_profile_for_link(set, "west", "w-e",
		"10.0.0.3:862", "east")->name, "east");
	assert_string_equal(sla_profile_for_link(set, "west", "w-x",
		"10.0.9.9:862", "10.0.9.9")->name, "east");
	assert_string_equal(sla_profile_for_link(set, "north", "n-e",
		"10.0.0.3:862", "east")->name, "east");
	p = sla_profile_for_link(set, "south", "s-w", "10.0.0.4:862", "west");
	assert_string_equal(p->name, "metro");
	assert_int_equal(p->delay_basis, SLA_DELAY_RTT);
	/* nothing matches: the default */
	assert_ptr_equal(sla_profile_for_link(set, "west", "w-n",
		"10.0.0.1:862", "north"), &set->def);
	sla_profiles_free(set);
	mp_config_free(cfg);
}

/* Loads text and expects -EINVAL with `want` in the message. */
static void
expect_config_error(const char *text, const char *want)
{
	struct sla_profile_set *set = NULL;
	struct mp_config *cfg;
	char err[512] = "";

	assert_int_equal(mp_config_load_string(text, "bad.ini", &cfg, err,
					       sizeof(err)), 0);
	assert_int_equal(sla_profiles_load(cfg, &set, err, sizeof(err)),
			 -EINVAL);
	assert_null(set);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not hold '%s'", err, want);
	mp_config_free(cfg);
}

static void
test_profile_errors_name_file_line_key(void **state)
{
	(void)state;
	expect_config_error("[sla.a]\nprobes = x\ndelay_max = fast\n",
			    "bad.ini:3: [sla.a] delay_max: 'fast' is not a "
			    "duration");
	expect_config_error("[sla.a]\nprobes = x\ndelay_percentile = 101\n",
			    "bad.ini:3: [sla.a] delay_percentile: '101' is not "
			    "a percentile");
	expect_config_error("[sla.a]\nprobes = x\nloss_ratio_max = 2\n",
			    "bad.ini:3: [sla.a] loss_ratio_max: '2' is out of "
			    "range");
	expect_config_error("[sla.a]\nprobes = x\n\navailability_min = lots\n",
			    "bad.ini:4: [sla.a] availability_min: 'lots' is "
			    "not a number");
	expect_config_error("[sla.a]\nprobes = x\ncapacity_min = 100Q\n",
			    "bad.ini:3: [sla.a] capacity_min: '100Q' is not a "
			    "rate");
	expect_config_error("[sla.a]\nprobes = x\ninterval = 1500ms\n",
			    "bad.ini:3: [sla.a] interval: '1500ms' must be a "
			    "whole number of seconds");
	expect_config_error("[sla.a]\nprobes = x\ndv = mdev\n",
			    "bad.ini:3: [sla.a] dv: 'mdev' is not one of ipdv, "
			    "pdv");
	expect_config_error("[sla.a]\nprobes = x\ndelay_max = 0ms\n",
			    "bad.ini:3: [sla.a] delay_max: '0ms' must be "
			    "greater than 0");
	expect_config_error("[sla.a]\nprobes = x\ndelay_maxx = 1ms\n",
			    "bad.ini:3: [sla.a] delay_maxx: unknown key");
	expect_config_error("[sla.a]\ngroups = nope\n",
			    "bad.ini:2: [sla.a] groups: no [group.nope] "
			    "section");
	expect_config_error("[sla.a]\ndelay_max = 1ms\n",
			    "bad.ini:2: [sla.a]: profile 'a' applies to no "
			    "link: set probes, peers, sessions or groups");
	expect_config_error("[sla.default]\nprobes = x\n",
			    "bad.ini:2: [sla.default] probes: the default "
			    "profile applies to every link");
	expect_config_error("[group.g]\nprobes = a\nmembers = b\n",
			    "bad.ini:3: [group.g] members: unknown key");
	expect_config_error("[sla.a]\nprobes = x\nmax_error_ns = -5\n",
			    "bad.ini:3: [sla.a] max_error_ns: '-5' is not a "
			    "number of nanoseconds");
	expect_config_error("[sla.a]\nprobes = x\nmax_error_ns = 1e5\n",
			    "bad.ini:3: [sla.a] max_error_ns: '1e5' is not a "
			    "number of nanoseconds");
	expect_config_error("[sla.a]\nprobes = x\nmax_error_ns = "
			    "99999999999999999999\n", "max_error_ns: "
			    "'99999999999999999999' is not a number");
}

/* ---- evaluation ---- */

static struct sla_profile
profile_default(void)
{
	struct sla_profile p;

	sla_profile_builtin(&p);
	return p;
}

/*
 * Ten minutes, one record a minute, synchronised clocks, all within the
 * bounds: forward 400 us, backward 420 us (the worse direction counts),
 * IPDV 20 us, no loss, capacity 100 Gb/s (exactly the bound).
 */
static void
test_steady_link_passes_every_bound(void **state)
{
	struct sla_profile p = profile_default();
	struct interval_record r[10];
	struct sla_link_result res;

	(void)state;
	recs_steady(r, 10, (struct rec_spec){ .tx = 6000, .synced = true,
		.rtt = 820000, .fwd = 400000, .back = 420000, .ipdv = 20000,
		.l1_bps = 100e9 });
	assert_int_equal(sla_evaluate(&p, r, 10, T0, T0 + 10 * MIN, &res), 0);
	assert_string_equal(res.probe, "north");
	assert_string_equal(res.peer, "10.0.0.2");
	assert_true(res.owd);
	assert_int_equal(res.n_windows, 10);
	assert_int_equal(res.n_data, 10);
	assert_int_equal(res.n_available, 10);
	assert_true(res.coverage_pct == 100.0);
	assert_int_equal(res.m[SLA_M_DELAY].status, SLA_PASS);
	assert_true(res.m[SLA_M_DELAY].value == 420000.0);
	assert_true(res.m[SLA_M_DELAY].bound == 1000000.0);
	assert_int_equal(res.m[SLA_M_LOSS].status, SLA_PASS);
	assert_true(res.m[SLA_M_LOSS].value == 0.0);
	assert_int_equal(res.m[SLA_M_DV].status, SLA_PASS);
	assert_true(res.m[SLA_M_DV].value == 20000.0);
	assert_int_equal(res.m[SLA_M_AVAILABILITY].status, SLA_PASS);
	assert_true(res.m[SLA_M_AVAILABILITY].value == 100.0);
	assert_int_equal(res.m[SLA_M_CAPACITY].status, SLA_PASS);
	assert_true(res.m[SLA_M_CAPACITY].value == 100e9);
	assert_true(res.pass);
	assert_int_equal(res.n_violations, 0);
	assert_int_equal(res.records, 10);
	assert_int_equal(res.tx_pkts, 60000);
	assert_int_equal(res.delay_min_ns, 400000);
	assert_int_equal(res.delay_max_ns, 420000);
	/* one chart point per delta-t */
	assert_int_equal(res.n_chart, 10);
	assert_true(res.chart[3].has_data);
	assert_int_equal(res.chart[3].start_ns, T0 + 3 * MIN);
	assert_int_equal(res.chart[3].end_ns, T0 + 4 * MIN);
	assert_int_equal(res.chart[3].p99_ns, 420000);
	sla_link_result_free(&res);
	recs_free(r, 10);
}

/*
 * Two records per delta-t are merged, percentiles come from the merged
 * histogram: in minute 0, 100 samples at mid(300 us) and 100 at
 * mid(1.2 ms): p99 of the minute is mid(1.2 ms) (rank 198 of 200),
 * p50 is mid(300 us) (rank 100). Over the period (10 minutes, 9 of them
 * 200 samples at mid(300 us)) 100 of 2000 samples are slow: 5 %, so the
 * period p99 is mid(1.2 ms) too and the period p50 mid(300 us).
 */
static void
test_percentiles_from_merged_histograms(void **state)
{
	struct sla_profile p = profile_default();
	struct interval_record r[11];
	struct sla_link_result res;
	const struct sla_violation *v;
	uint64_t fast = mid(300000), slow = mid(1200000);
	size_t i;

	(void)state;
	p.delay_basis = SLA_DELAY_RTT;
	rec_make(&r[0], &(struct rec_spec){ .start_ns = T0, .tx = 100,
		 .rtt = fast, .interval_ns = 30 * S });
	rec_make(&r[1], &(struct rec_spec){ .start_ns = T0 + 30 * S,
		 .tx = 100, .rtt = slow, .interval_ns = 30 * S });
	for (i = 1; i < 10; i++)
		rec_make(&r[i + 1], &(struct rec_spec){
			 .start_ns = T0 + i * MIN, .tx = 200, .rtt = fast });
	assert_int_equal(sla_evaluate(&p, r, 11, T0, T0 + 10 * MIN, &res), 0);
	assert_false(res.owd);
	assert_int_equal(res.n_data, 10);
	assert_int_equal(res.chart[0].p99_ns, slow);
	assert_int_equal(res.chart[0].p50_ns, fast);
	assert_int_equal(res.chart[1].p99_ns, fast);
	assert_int_equal(res.delay_p50_ns, fast);
	assert_int_equal(res.delay_p99_ns, slow);
	assert_int_equal(res.m[SLA_M_DELAY].status, SLA_FAIL);
	assert_true(res.m[SLA_M_DELAY].value == (double)slow);
	/* only minute 0 violates */
	assert_int_equal(count_violations(&res, SLA_M_DELAY), 1);
	v = find_violation(&res, SLA_M_DELAY, 0);
	assert_int_equal(v->start_ns, T0);
	assert_int_equal(v->end_ns, T0 + MIN);
	assert_true(v->value == (double)slow);
	assert_true(v->bound == 1000000.0);
	/* no IPDV histogram, no throughput: stated, not failed */
	assert_int_equal(res.m[SLA_M_DV].status, SLA_NOT_MEASURED);
	assert_int_equal(res.m[SLA_M_CAPACITY].status, SLA_NOT_MEASURED);
	assert_false(res.pass);
	sla_link_result_free(&res);
	recs_free(r, 11);
}

/*
 * Every bound exactly met passes; one step over fails.
 *   delay 1 000 000 ns (single-valued: the quantile is the value)
 *   loss 1 in 100 000 = 1e-5
 *   IPDV 100 000 ns
 *   capacity 100e9 b/s
 *   availability: profile 90 %, 10 delta-t, 1 unavailable = 90 %
 */
static void
test_values_exactly_at_the_bound_pass(void **state)
{
	struct sla_profile p = profile_default();
	struct interval_record r[10];
	struct sla_link_result res;
	size_t i;

	(void)state;
	p.availability_min_pct = 90.0;
	p.unavail_loss_ratio = 1e-3;     /* loss of delta-t 0 is 0.01 */
	for (i = 0; i < 10; i++)
		rec_make(&r[i], &(struct rec_spec){ .start_ns = T0 + i * MIN,
			 .tx = i == 0 ? 100 : 11100, .lost = i == 0 ? 1 : 0,
			 .synced = true, .rtt = 2000000, .fwd = 1000000,
			 .back = 1000000, .ipdv = 100000, .l1_bps = 100e9 });
	/* sent: 100 + 9 * 11100 = 100 000; lost 1: loss ratio 1e-5 */
	assert_int_equal(sla_evaluate(&p, r, 10, T0, T0 + 10 * MIN, &res), 0);
	assert_int_equal(res.tx_pkts, 100000);
	assert_int_equal(res.m[SLA_M_DELAY].status, SLA_PASS);
	assert_true(res.m[SLA_M_DELAY].value == 1000000.0);
	assert_int_equal(res.m[SLA_M_LOSS].status, SLA_PASS);
	assert_true(res.m[SLA_M_LOSS].value == 1e-5);
	assert_int_equal(res.m[SLA_M_DV].status, SLA_PASS);
	assert_true(res.m[SLA_M_DV].value == 100000.0);
	assert_int_equal(res.m[SLA_M_CAPACITY].status, SLA_PASS);
	assert_int_equal(res.n_available, 9);
	assert_int_equal(res.m[SLA_M_AVAILABILITY].status, SLA_PASS);
	assert_true(res.m[SLA_M_AVAILABILITY].value == 90.0);
	assert_true(res.pass);
	/* delta-t 0: loss 0.01 over both thresholds: one loss entry and
	 * one unavailable entry (thresholds differ) */
	assert_int_equal(count_violations(&res, SLA_M_LOSS), 1);
	assert_int_equal(count_violations(&res, SLA_M_UNAVAILABLE), 1);
	assert_true(find_violation(&res, SLA_M_LOSS, 0)->value == 0.01);
	assert_int_equal(count_violations(&res, SLA_M_DELAY), 0);
	sla_link_result_free(&res);

	/* one step over each bound */
	p.delay_max_ns = 999999;
	p.rtt_max_ns = 999999;
	p.loss_ratio_max = 0.99999e-5;
	p.dv_max_ns = 99999;
	p.capacity_min_bps = 100.001e9;
	p.availability_min_pct = 90.001;
	assert_int_equal(sla_evaluate(&p, r, 10, T0, T0 + 10 * MIN, &res), 0);
	assert_int_equal(res.m[SLA_M_DELAY].status, SLA_FAIL);
	assert_int_equal(res.m[SLA_M_LOSS].status, SLA_FAIL);
	assert_int_equal(res.m[SLA_M_DV].status, SLA_FAIL);
	assert_int_equal(res.m[SLA_M_CAPACITY].status, SLA_FAIL);
	assert_int_equal(res.m[SLA_M_AVAILABILITY].status, SLA_FAIL);
	assert_false(res.pass);
	/* every delta-t now violates delay and IPDV */
	assert_int_equal(count_violations(&res, SLA_M_DELAY), 10);
	assert_int_equal(count_violations(&res, SLA_M_DV), 10);
	sla_link_result_free(&res);
	recs_free(r, 10);
}

/*
 * Data in minutes 2, 3, 4 and 8 of ten: minutes 0-1 and 5-7 have no
 * record, minute 9 a record without a test packet sent. Coverage
 * 4/10 = 40 %, availability 40 % (no-data time is not credited),
 * everything measured passes: the link fails on availability alone. The no-data runs are listed with their length in delta-t.
 */
static void
test_no_data_gaps_are_not_credited(void **state)
{
	struct sla_profile p = profile_default();
	static const unsigned minutes[] = { 2, 3, 4, 8 };
	struct interval_record r[5];
	struct sla_link_result res;
	const struct sla_violation *v;
	unsigned i;

	(void)state;
	for (i = 0; i < 4; i++)
		rec_make(&r[i], &(struct rec_spec){
			 .start_ns = T0 + minutes[i] * MIN, .tx = 6000,
			 .synced = true, .rtt = 500000, .fwd = 250000,
			 .back = 250000, .ipdv = 1000, .l1_bps = 100e9 });
	/* minute 9: a record, but no test packet sent: no data either */
	rec_make(&r[4], &(struct rec_spec){ .start_ns = T0 + 9 * MIN });
	assert_int_equal(sla_evaluate(&p, r, 5, T0, T0 + 10 * MIN, &res), 0);
	assert_int_equal(res.records, 5);
	assert_int_equal(res.n_windows, 10);
	assert_int_equal(res.n_data, 4);
	assert_int_equal(res.n_available, 4);
	assert_true(res.coverage_pct == 40.0);
	assert_true(res.m[SLA_M_AVAILABILITY].value == 40.0);
	assert_int_equal(res.m[SLA_M_AVAILABILITY].status, SLA_FAIL);
	assert_int_equal(res.m[SLA_M_DELAY].status, SLA_PASS);
	assert_int_equal(res.m[SLA_M_LOSS].status, SLA_PASS);
	assert_int_equal(res.m[SLA_M_DV].status, SLA_PASS);
	assert_int_equal(res.m[SLA_M_CAPACITY].status, SLA_PASS);
	assert_false(res.pass);

	assert_int_equal(res.n_violations, 3);
	v = find_violation(&res, SLA_M_NO_DATA, 0);
	assert_int_equal(v->start_ns, T0);
	assert_int_equal(v->end_ns, T0 + 2 * MIN);
	assert_true(v->value == 2.0);
	v = find_violation(&res, SLA_M_NO_DATA, 1);
	assert_int_equal(v->start_ns, T0 + 5 * MIN);
	assert_int_equal(v->end_ns, T0 + 8 * MIN);
	assert_true(v->value == 3.0);
	v = find_violation(&res, SLA_M_NO_DATA, 2);
	assert_int_equal(v->start_ns, T0 + 9 * MIN);
	assert_int_equal(v->end_ns, T0 + 10 * MIN);
	assert_true(v->value == 1.0);
	assert_false(res.chart[0].has_data);
	assert_true(res.chart[2].has_data);
	sla_link_result_free(&res);

	/* no record at all: nothing measured, nothing credited */
	assert_int_equal(sla_evaluate(&p, r, 0, T0, T0 + 10 * MIN, &res), 0);
	assert_true(res.coverage_pct == 0.0);
	assert_true(res.m[SLA_M_AVAILABILITY].value == 0.0);
	assert_int_equal(res.m[SLA_M_AVAILABILITY].status, SLA_FAIL);
	assert_int_equal(res.m[SLA_M_DELAY].status, SLA_NOT_MEASURED);
	assert_int_equal(res.m[SLA_M_LOSS].status, SLA_NOT_MEASURED);
	assert_int_equal(res.m[SLA_M_CAPACITY].status, SLA_NOT_MEASURED);
	assert_int_equal(res.n_violations, 1);
	assert_true(res.violations[0].value == 10.0);
	sla_link_result_free(&res);
	recs_free(r, 5);
}

/*
 * Losses bunched into one minute: minute 2 sends 1000 and loses 1
 * (1e-3 > 1e-5: unavailable), the nine other minutes send 20 000 and
 * lose none. Period loss ratio 1 / 181 000 = 5.52e-6 <= 1e-5 passes;
 * availability 9/10 = 90 % < 99.99 % fails: the only failure.
 */
static void
test_link_failing_only_on_availability(void **state)
{
	struct sla_profile p = profile_default();
	struct interval_record r[10];
	struct sla_link_result res;
	const struct sla_violation *v;
	size_t i;

	(void)state;
	for (i = 0; i < 10; i++)
		rec_make(&r[i], &(struct rec_spec){ .start_ns = T0 + i * MIN,
			 .tx = i == 2 ? 1000 : 20000, .lost = i == 2 ? 1 : 0,
			 .synced = true, .rtt = 600000, .fwd = 300000,
			 .back = 300000, .ipdv = 5000, .l1_bps = 100e9 });
	assert_int_equal(sla_evaluate(&p, r, 10, T0, T0 + 10 * MIN, &res), 0);
	assert_int_equal(res.tx_pkts, 181000);
	assert_int_equal(res.lost, 1);
	assert_int_equal(res.m[SLA_M_LOSS].status, SLA_PASS);
	assert_true(res.m[SLA_M_LOSS].value == 1.0 / 181000.0);
	assert_int_equal(res.n_data, 10);
	assert_int_equal(res.n_available, 9);
	assert_true(res.coverage_pct == 100.0);
	assert_true(res.m[SLA_M_AVAILABILITY].value == 90.0);
	assert_int_equal(res.m[SLA_M_AVAILABILITY].status, SLA_FAIL);
	assert_int_equal(res.m[SLA_M_DELAY].status, SLA_PASS);
	assert_int_equal(res.m[SLA_M_DV].status, SLA_PASS);
	assert_int_equal(res.m[SLA_M_CAPACITY].status, SLA_PASS);
	assert_false(res.pass);
	/* the minute is listed once: the loss bound is the availability
	 * threshold, so "loss" says it is unavailable */
	assert_int_equal(res.n_violations, 1);
	v = find_violation(&res, SLA_M_LOSS, 0);
	assert_non_null(v);
	assert_int_equal(v->start_ns, T0 + 2 * MIN);
	assert_int_equal(v->end_ns, T0 + 3 * MIN);
	assert_true(v->value == 1e-3);
	assert_true(v->bound == 1e-5);
	sla_link_result_free(&res);
	recs_free(r, 10);
}

/*
 * Delay basis: AUTO uses one-way delay only when every record with delay
 * had synchronised clocks; one unsynchronised minute makes the whole
 * period round-trip (so the figures compare like with like). OWD forced
 * without synchronised clocks is "not measured".
 */
static void
test_delay_basis_one_way_or_rtt(void **state)
{
	struct sla_profile p = profile_default();
	struct interval_record r[3];
	struct sla_link_result res;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++)
		rec_make(&r[i], &(struct rec_spec){ .start_ns = T0 + i * MIN,
			 .tx = 1000, .synced = i != 1, .rtt = 1500000,
			 .fwd = 700000, .back = 800000 });
	assert_int_equal(sla_evaluate(&p, r, 3, T0, T0 + 3 * MIN, &res), 0);
	assert_false(res.owd);
	assert_true(res.m[SLA_M_DELAY].value == 1500000.0);
	assert_int_equal(res.m[SLA_M_DELAY].status, SLA_FAIL);
	sla_link_result_free(&res);

	/* all synchronised: one-way, the worse direction (800 us) */
	assert_int_equal(sla_evaluate(&p, r, 1, T0, T0 + 3 * MIN, &res), 0);
	assert_true(res.owd);
	assert_true(res.m[SLA_M_DELAY].value == 800000.0);
	assert_int_equal(res.m[SLA_M_DELAY].status, SLA_PASS);
	sla_link_result_free(&res);

	/* one-way required, minute 1 not synchronised: only minutes 0 and
	 * 2 carry one-way histograms */
	p.delay_basis = SLA_DELAY_OWD;
	assert_int_equal(sla_evaluate(&p, &r[1], 1, T0, T0 + 3 * MIN, &res),
			 0);
	assert_true(res.owd);
	assert_int_equal(res.m[SLA_M_DELAY].status, SLA_NOT_MEASURED);
	assert_true(res.pass || res.m[SLA_M_AVAILABILITY].status == SLA_FAIL);
	sla_link_result_free(&res);
	recs_free(r, 3);
}

/*
 * PDV (RFC 5481) = delay quantile - minimum delay of the merged
 * histogram. 90 samples at mid(400 us), 10 at mid(900 us): p95 (rank
 * 95) is mid(900 us), the minimum is mid(400 us).
 */
static void
test_pdv_is_quantile_minus_minimum(void **state)
{
	struct sla_profile p = profile_default();
	struct interval_record r[2];
	struct sla_link_result res;
	uint64_t lo = mid(400000), hi = mid(900000);

	(void)state;
	p.delay_basis = SLA_DELAY_RTT;
	p.dv_kind = SLA_DV_PDV;
	p.dv_percentile = 95.0;
	p.dv_max_ns = hi - lo;
	rec_make(&r[0], &(struct rec_spec){ .start_ns = T0, .tx = 90,
		 .rtt = lo, .interval_ns = 30 * S });
	rec_make(&r[1], &(struct rec_spec){ .start_ns = T0 + 30 * S,
		 .tx = 10, .rtt = hi, .interval_ns = 30 * S });
	assert_int_equal(sla_evaluate(&p, r, 2, T0, T0 + MIN, &res), 0);
	assert_true(res.m[SLA_M_DV].value == (double)(hi - lo));
	assert_int_equal(res.m[SLA_M_DV].status, SLA_PASS);
	sla_link_result_free(&res);
	p.dv_max_ns = hi - lo - 1;
	assert_int_equal(sla_evaluate(&p, r, 2, T0, T0 + MIN, &res), 0);
	assert_int_equal(res.m[SLA_M_DV].status, SLA_FAIL);
	assert_int_equal(count_violations(&res, SLA_M_DV), 1);
	sla_link_result_free(&res);
	recs_free(r, 2);
}

/*
 * Windows start at the period start; the last one is cut at `to`.
 * Records outside [from, to) are ignored. Out-of-order input is refused.
 */
static void
test_windows_and_period_edges(void **state)
{
	struct sla_profile p = profile_default();
	struct interval_record r[4];
	struct sla_link_result res;
	struct sla_link_eval *ev;
	const struct sla_violation *v;

	(void)state;
	p.delay_basis = SLA_DELAY_RTT;
	rec_make(&r[0], &(struct rec_spec){ .start_ns = T0 - MIN, .tx = 10,
		 .rtt = 5000000 });
	rec_make(&r[1], &(struct rec_spec){ .start_ns = T0, .tx = 10,
		 .rtt = 100000 });
	rec_make(&r[2], &(struct rec_spec){ .start_ns = T0 + 150 * S,
		 .tx = 10, .rtt = 100000 });
	rec_make(&r[3], &(struct rec_spec){ .start_ns = T0 + 3 * MIN,
		 .tx = 10, .rtt = 5000000 });
	/* period 2.5 minutes: windows [0,1) [1,2) [2,2.5) minutes */
	assert_int_equal(sla_evaluate(&p, r, 4, T0, T0 + 150 * S, &res), 0);
	assert_int_equal(res.n_windows, 3);
	assert_int_equal(res.records, 1);
	assert_int_equal(res.n_data, 1);
	assert_int_equal(res.m[SLA_M_DELAY].status, SLA_PASS);
	v = find_violation(&res, SLA_M_NO_DATA, 0);
	assert_int_equal(v->start_ns, T0 + MIN);
	assert_int_equal(v->end_ns, T0 + 150 * S);
	assert_true(v->value == 2.0);
	sla_link_result_free(&res);

	assert_int_equal(sla_eval_begin(&ev, &p, T0, T0 + 10 * MIN, false,
					-1.0), 0);
	assert_int_equal(sla_eval_add(ev, &r[2]), 0);
	assert_int_equal(sla_eval_add(ev, &r[1]), -EDOM);
	sla_eval_abort(ev);
	recs_free(r, 4);
}

/* A long period at 1-minute delta-t: chart points merge several delta-t
 * (at most 720 points), the evaluation still counts every delta-t. */
static void
test_long_period_chart_is_bounded(void **state)
{
	struct sla_profile p = profile_default();
	struct interval_record r[2];
	struct sla_link_result res;

	(void)state;
	p.delay_basis = SLA_DELAY_RTT;
	rec_make(&r[0], &(struct rec_spec){ .start_ns = T0, .tx = 10,
		 .rtt = 100000 });
	rec_make(&r[1], &(struct rec_spec){ .start_ns = T0 + 86399 * S,
		 .tx = 10, .rtt = 200000 });
	assert_int_equal(sla_evaluate(&p, r, 2, T0, T0 + 86400 * S, &res), 0);
	assert_int_equal(res.n_windows, 1440);
	assert_int_equal(res.n_chart, 720);
	assert_int_equal(res.chart[0].end_ns - res.chart[0].start_ns, 2 * MIN);
	assert_true(res.chart[719].has_data);
	assert_int_equal(res.chart[719].p99_ns, 200000);
	assert_false(res.chart[1].has_data);
	assert_int_equal(res.n_data, 2);
	assert_int_equal(res.n_violations, 1);     /* one no-data run */
	assert_true(res.violations[0].value == 1438.0);
	sla_link_result_free(&res);
	recs_free(r, 2);
}

/* ---- report requests ---- */

static const char *
kv_lookup(const char *key, void *arg)
{
	const char *const *kv = arg;

	for (; kv[0] != NULL; kv += 2)
		if (strcmp(kv[0], key) == 0)
			return kv[1];
	return NULL;
}

static void
expect_request_error(const char *const *kv, const char *want)
{
	struct report_request req;
	char err[256] = "";

	assert_int_equal(report_request_parse(&req, kv_lookup, (void *)kv,
					      err, sizeof(err)), -EINVAL);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not hold '%s'", err, want);
}

static void
test_report_request_parse(void **state)
{
	static const char *const ok[] = {
		"from", "2026-11-25T00:00:00Z", "to", "1795565400000000000",
		"format", "html", "probe", "north", NULL,
	};
	static const char *const none[] = { NULL };
	struct report_request req;
	char err[256];

	(void)state;
	assert_int_equal(report_request_parse(&req, kv_lookup, (void *)ok,
					      err, sizeof(err)), 0);
	assert_int_equal(req.from_ns, T0);
	assert_int_equal(req.to_ns, T0 + 10 * MIN);
	assert_int_equal(req.format, REPORT_HTML);
	assert_string_equal(req.probe, "north");
	assert_string_equal(report_content_type(REPORT_HTML),
			    "text/html; charset=utf-8");
	assert_string_equal(report_content_type(REPORT_CSV),
			    "text/csv; charset=utf-8");
	assert_string_equal(report_content_type(REPORT_JSON),
			    "application/json");
	/* defaults: the last 24 hours, JSON, every probe */
	assert_int_equal(report_request_parse(&req, kv_lookup, (void *)none,
					      err, sizeof(err)), 0);
	assert_int_equal(req.to_ns - req.from_ns, 86400 * S);
	assert_int_equal(req.format, REPORT_JSON);
	assert_null(req.probe);

	expect_request_error((const char *const[]){ "format", "pdf", NULL },
			     "key 'format': 'pdf' is not json, csv or html");
	expect_request_error((const char *const[]){ "from", "yesterday",
			     NULL }, "key 'from': 'yesterday' is not a time");
	expect_request_error((const char *const[]){ "to", "2026-13-01", NULL },
			     "key 'to'");
	expect_request_error((const char *const[]){ "from",
			     "2026-11-25T00:10:00Z", "to",
			     "2026-11-25T00:00:00Z", NULL },
			     "key 'from': must be before 'to'");
	expect_request_error((const char *const[]){ "probe", "", NULL },
			     "key 'probe'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_default_profile),
		cmocka_unit_test(test_profiles_from_config),
		cmocka_unit_test(test_profile_errors_name_file_line_key),
		cmocka_unit_test(test_steady_link_passes_every_bound),
		cmocka_unit_test(test_percentiles_from_merged_histograms),
		cmocka_unit_test(test_values_exactly_at_the_bound_pass),
		cmocka_unit_test(test_no_data_gaps_are_not_credited),
		cmocka_unit_test(test_link_failing_only_on_availability),
		cmocka_unit_test(test_delay_basis_one_way_or_rtt),
		cmocka_unit_test(test_pdv_is_quantile_minus_minimum),
		cmocka_unit_test(test_windows_and_period_edges),
		cmocka_unit_test(test_long_period_chart_is_bounded),
		cmocka_unit_test(test_report_request_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
