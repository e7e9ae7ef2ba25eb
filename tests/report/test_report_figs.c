/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The report read from per-minute figures and exact hour rollups is the
 * report read record by record, byte for byte (JSON, CSV, HTML), over a
 * real SQLite store made by the real ingest and rollup code:
 *
 * - periods: 30 days aligned on the hour (chart points of one hour: hour
 *   rollups), 31 days (chart points of 62 minutes: hours and minutes),
 *   30 days starting 17 s or 29 min after the hour (hour rollups with
 *   minutes taken out), starting or ending inside the data, 3 days,
 *   6 hours (one window per chart point), a probe filter;
 * - profiles: default-like bounds that some minutes break, RTT basis and
 *   PDV, a percentile the figures do not hold (97: record by record), a
 *   5-minute delta-t (record by record); measurement error limits on
 *   both bases over records that state their bounds or not, and loss
 *   the host may have caused (degraded delta-t, counts and the merged
 *   quality figures compared apart as well);
 * - store states: an hour rollup missing, an hour rollup replaced by
 *   another hour's and marked pending (must not be read), minutes dropped
 *   by retention below an hour (its rollup must not be read), a figures
 *   row that does not decode (the records are read), a store of schema
 *   version 1 migrated (figures back-filled on open), and a back-end
 *   with the mandatory operations only (store.h defaults: the records
 *   are read).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "metroprobe/config.h"
#include "metroprobe/hist.h"
#include "metroprobe/record.h"
#include "report.h"
#include "report_render.h"
#include "sla.h"
#include "store.h"
#include "store_sqlite.h"
#include "../collector/synth_record.h"

#define S      1000000000ULL
#define MIN    (60 * S)
#define HOUR   (3600 * S)
#define DAY    (86400 * S)
/* data: two days starting D0 (a midnight in the past) */
#define D0     (1795564800000000000ULL - 20 * DAY)
#define GEN    1795564800000000000ULL

static char db_path[256];
/* measurement-quality results seen (both ways agreed on them) */
static uint64_t t_degraded, t_unstated, t_host;

static const char *const configs[] = {
	/* bounds the data mostly meets: a few delay / dv / loss windows */
	"[sla.default]\ninterval = 60s\ndelay_max = 200us\ndv_max = 150us\n"
	"loss_ratio_max = 0.002\nunavailable_loss_ratio = 0.004\n"
	"availability_min = 99.9\ncapacity_min = 1Gbps\n"
	"capacity_sessions = *-cap\nmax_error_ns = 60us\n\n"
	"[sla.rtt]\nsessions = s-rtt\ndelay_basis = rtt\nrtt_max = 330us\n"
	"dv = pdv\ndv_percentile = 95\ndv_max = 40us\n"
	"delay_percentile = 99.9\nmax_error_ns = 4000\n",
	/* a percentile the figures do not hold, and a 5-minute delta-t */
	"[sla.default]\ninterval = 60s\ndelay_max = 200us\n"
	"delay_percentile = 97\n\n"
	"[sla.five]\nsessions = s-late\ninterval = 5m\ndelay_max = 200us\n",
};

/* One link's records: `per_min` records per minute over [from, to). */
struct link_spec {
	const char *probe, *session, *src, *dst;
	bool synced;
	unsigned per_min;
	uint64_t from, to;
	uint64_t base;
	uint64_t pkts;              /* per record */
};

static const struct link_spec links[] = {
	{ "c0", "s-sync", "10.0.0.1:862", "10.0.0.2:862", true, 1,
	  D0, D0 + 2 * DAY, 150000, 300 },
	{ "c0", "s-rtt", "10.0.0.1:862", "10.0.0.3:862", false, 2,
	  D0 + 3 * HOUR + 7 * MIN, D0 + DAY + 5 * HOUR, 140000, 300 },
	{ "c1", "x-cap", "10.0.0.2:862", "10.0.0.1:862", true, 1,
	  D0 + 10 * HOUR, D0 + 30 * HOUR, 160000, 300 },
	{ "c1", "s-late", "10.0.0.2:862", "10.0.0.3:862", true, 1,
	  D0 + DAY + 30 * MIN, D0 + 2 * DAY - 13 * MIN, 170000, 300 },
	/* two packets a minute: a chart point's p50 is its minimum and its
	 * p99 its maximum, so extremes taken from the wrong minutes show */
	{ "c2", "s-few", "10.0.0.3:862", "10.0.0.1:862", true, 1,
	  D0 + 2 * HOUR, D0 + 2 * DAY, 180000, 2 },
};

struct source {
	const struct link_spec *l;
	uint64_t t, step, seed;
	struct hist h[RECORD_HIST_COUNT];
};

/*
 * Quality figures of a record: c2 is an older probe (none), the other
 * links state them in 9 records of 10, with bounds around the profiles'
 * limits (60 us one-way, 4 us RTT) and, now and then, loss the host may
 * have caused.
 */
static void
quality_of(struct interval_record *r, struct source *src)
{
	struct record_quality *q = &r->q;
	uint64_t k = synth_rnd(&src->seed) % 10;

	if (strcmp(src->l->probe, "c2") == 0 || k == 0)
		return;
	q->present = true;
	q->ts_rx_error_ns = 1000 + synth_rnd(&src->seed) % 2000;
	q->ts_tx_error_ns = 500 + synth_rnd(&src->seed) % 1000;
	q->rtt_error_ns = q->ts_rx_error_ns + q->ts_tx_error_ns;
	q->clock_error_ns = 20000 + synth_rnd(&src->seed) % 20000;
	q->peer_clock_error_ns = 10000 + synth_rnd(&src->seed) % 20000;
	q->owd_error_ns = q->rtt_error_ns + q->clock_error_ns +
			  q->peer_clock_error_ns;
	q->peer_clock_synced = src->l->synced;
	q->host_loss_suspect = r->lost > 0 && k < 4;
	q->host_imissed = q->host_loss_suspect ? r->lost : 0;
	q->clock_steps = k == 9;
	q->step_excluded = k == 9 ? 2 : 0;
	q->owd_fwd_negative = k == 8;
	q->owd_fwd_negative_min_ns = k == 8 ? -(int64_t)(k * 100) : 0;
}

static int
next_record(struct interval_record *r, void *arg)
{
	struct source *src = arg;
	uint64_t pkts = src->l->pkts, lost = 0, k;
	unsigned i;

	/* a 20-minute gap in every link */
	if (src->t >= src->l->from + 5 * HOUR &&
	    src->t < src->l->from + 5 * HOUR + 20 * MIN)
		src->t = src->l->from + 5 * HOUR + 20 * MIN;
	if (src->t >= src->l->to)
		return 0;
	k = synth_rnd(&src->seed) % 100;
	if (k == 0)
		pkts = 0;               /* nothing sent: no data */
	else if (k < 4 && pkts > 2)
		lost = 1 + k % 2;       /* loss over the bounds */
	snprintf(r->probe, sizeof(r->probe), "%s", src->l->probe);
	snprintf(r->session, sizeof(r->session), "%s", src->l->session);
	snprintf(r->src, sizeof(r->src), "%s", src->l->src);
	snprintf(r->dst, sizeof(r->dst), "%s", src->l->dst);
	r->start_ns = src->t;
	r->clock_synced = src->l->synced;
	synth_fill(r, src->h, pkts, lost, src->step, src->l->base, &src->seed);
	for (i = 0; i < RECORD_HIST_COUNT; i++)
		r->hist[i] = pkts ? &src->h[i] : NULL;
	delay_summary_from_hist(&r->rtt, &src->h[RECORD_HIST_RTT]);
	delay_summary_from_hist(&r->owd_fwd, &src->h[RECORD_HIST_OWD_FWD]);
	delay_summary_from_hist(&r->owd_back, &src->h[RECORD_HIST_OWD_BACK]);
	delay_summary_from_hist(&r->ipdv, &src->h[RECORD_HIST_IPDV]);
	quality_of(r, src);
	src->t += src->step;
	return 1;
}

static struct store *
open_store(uint64_t minute_keep)
{
	const struct store_retention ret = {
		.raw_ns = HOUR, .minute_ns = minute_keep, .hour_ns = 1000 * DAY,
	};
	struct store *st;
	char err[256];

	if (store_sqlite_open(db_path, &ret, &st, err, sizeof(err)) < 0)
		fail_msg("open %s: %s", db_path, err);
	return st;
}

/* The data set: every link's records, maintain as the daemon would
 * (rollups, raw records dropped after an hour). */
static int
setup(void **state)
{
	struct store *st;
	size_t i, n_new, n_dup;
	char err[256];

	(void)state;
	snprintf(db_path, sizeof(db_path), "/tmp/mp-rep-figs-%d.db",
		 (int)getpid());
	unlink(db_path);
	st = open_store(90 * DAY);
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		struct source *src = calloc(1, sizeof(*src));

		assert_non_null(src);
		src->l = &links[i];
		src->t = links[i].from;
		src->step = MIN / links[i].per_min;
		src->seed = 0x9E3779B97F4A7C15ULL * (i + 1);
		if (store_insert_stream(st, next_record, src, &n_new, &n_dup,
					err, sizeof(err)) < 0)
			fail_msg("insert: %s", err);
		free(src);
	}
	assert_int_equal(store_maintain(st, D0 + 2 * DAY + 2 * HOUR), 0);
	store_close(st);
	return 0;
}

static int
teardown(void **state)
{
	char p[300];

	(void)state;
	unlink(db_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
	return 0;
}

struct period {
	uint64_t from, to;
	const char *probe;
};

static const struct period periods[] = {
	{ D0 - 10 * DAY, D0 + 20 * DAY, NULL },         /* 1-hour points */
	{ D0 - 10 * DAY, D0 + 21 * DAY, NULL },         /* 62 minutes */
	{ D0 - 10 * DAY + 17 * S, D0 + 20 * DAY + 17 * S, NULL },
	{ D0 - DAY, D0 + 2 * DAY, NULL },               /* 6 minutes */
	{ D0 + DAY + 2 * HOUR + 30 * S, D0 + DAY + 8 * HOUR, NULL },
	{ D0 - 10 * DAY, D0 + 20 * DAY, "c1" },
	/* "now-30d": 60-minute points across the hours, the ends of the
	 * period inside the data */
	{ D0 + 5 * HOUR + 17 * S, D0 + 30 * DAY + 5 * HOUR + 17 * S, NULL },
	{ D0 + DAY + 3 * HOUR + 17 * S - 30 * DAY, D0 + DAY + 3 * HOUR + 17 * S,
	  NULL },
	{ D0 + 10 * HOUR + 29 * MIN, D0 + 30 * DAY + 10 * HOUR + 29 * MIN,
	  NULL },
};

struct totals {
	uint64_t figs, hours, records;
};

/* The measurement-quality results of a link, both ways. */
static void
expect_same_quality(const struct sla_link_result *a,
		    const struct sla_link_result *b)
{
	size_t i;

	assert_int_equal(a->n_unstated, b->n_unstated);
	assert_int_equal(a->lost_host_suspect, b->lost_host_suspect);
	assert_int_equal(a->n_degraded, b->n_degraded);
	for (i = 0; i < a->n_degraded; i++)
		assert_memory_equal(&a->degraded[i], &b->degraded[i],
				    sizeof(a->degraded[i]));
	assert_int_equal(a->q.present, b->q.present);
	for (i = 0; i < RECORD_QUALITY_NKEYS; i++)
		assert_memory_equal(record_quality_field_c(&a->q, (unsigned)i),
				    record_quality_field_c(&b->q, (unsigned)i),
				    record_quality_keys[i].type ==
				    RECORD_Q_BOOL ? sizeof(bool) :
				    sizeof(uint64_t));
	t_degraded += a->n_degraded;
	t_unstated += a->n_unstated;
	t_host += a->lost_host_suspect;
}

/* Both ways of one report: record by record from st, and from the
 * figures where it can from fast (st itself, or st behind fewer
 * operations); fails on the first differing octet. */
static void
compare_one(struct store *st, struct store *fast,
	    const struct sla_profile_set *set, const struct period *p,
	    struct totals *t)
{
	struct report_request req = {
		.from_ns = p->from, .to_ns = p->to, .probe = p->probe,
		.generated_ns = GEN,
	};
	struct report_data d[2];
	struct rbuf b[2][3];
	char err[256];
	int k, f;

	memset(b, 0, sizeof(b));
	for (k = 0; k < 2; k++) {
		req.no_figs = k == 0;
		if (report_data_build(k == 0 ? st : fast, set, &req, &d[k],
				      err, sizeof(err)) < 0)
			fail_msg("report: %s", err);
		assert_int_equal(report_render_json(&d[k], &b[k][0]), 0);
		assert_int_equal(report_render_csv(&d[k], &b[k][1]), 0);
		assert_int_equal(report_render_html(&d[k], &b[k][2]), 0);
	}
	assert_int_equal(d[0].resolution_ns, STORE_RES_MINUTE);
	assert_true(d[0].n_links > 0);
	assert_int_equal(d[0].n_links, d[1].n_links);
	for (size_t i = 0; i < d[0].n_links; i++)
		expect_same_quality(&d[0].links[i], &d[1].links[i]);
	assert_int_equal(d[0].n_read_figs, 0);
	assert_int_equal(d[0].n_read_hours, 0);
	t->figs += d[1].n_read_figs;
	t->hours += d[1].n_read_hours;
	t->records += d[1].n_read_records;
	for (f = 0; f < 3; f++) {
		size_t i, n = b[0][f].len < b[1][f].len ? b[0][f].len :
							   b[1][f].len;

		assert_false(b[0][f].oom || b[1][f].oom);
		for (i = 0; i < n && b[0][f].s[i] == b[1][f].s[i]; i++)
			;
		if (i < n || b[0][f].len != b[1][f].len)
			fail_msg("period %" PRIu64 "..%" PRIu64 " format %d: "
				 "differs at octet %zu: '%.60s' vs '%.60s'",
				 p->from, p->to, f, i, b[0][f].s + i,
				 b[1][f].s + i);
		free(b[0][f].s);
		free(b[1][f].s);
	}
	report_data_free(&d[0]);
	report_data_free(&d[1]);
}

static void
compare_all_with(struct store *st, struct store *fast, unsigned cfg,
		 struct totals *t)
{
	struct sla_profile_set *set;
	struct mp_config *c;
	char err[256];
	size_t i;

	if (mp_config_load_string(configs[cfg], "test", &c, err,
				  sizeof(err)) < 0 ||
	    sla_profiles_load(c, &set, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	for (i = 0; i < sizeof(periods) / sizeof(periods[0]); i++)
		compare_one(st, fast, set, &periods[i], t);
	sla_profiles_free(set);
	mp_config_free(c);
}

static void
compare_all(struct store *st, unsigned cfg, struct totals *t)
{
	compare_all_with(st, st, cfg, t);
}

static void
sql(const char *q)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_exec(db, q, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", q, msg);
	sqlite3_close(db);
}

static void
test_same_report(void **state)
{
	struct totals t = { 0, 0, 0 }, t2 = { 0, 0, 0 };
	struct store *st = open_store(90 * DAY);

	(void)state;
	compare_all(st, 0, &t);
	/* the figures path ran, and read hour rollups for whole hours */
	assert_true(t.figs > 0);
	assert_true(t.hours > 0);
	assert_true(t.records > 0);
	/* and the quality results compared were not all empty */
	assert_true(t_degraded > 0);
	assert_true(t_unstated > 0);
	assert_true(t_host > 0);
	/* profiles the figures cannot serve: record by record, same report */
	compare_all(st, 1, &t2);
	store_close(st);
}

static void
test_hours_not_exact(void **state)
{
	char q[1024];
	struct totals t = { 0, 0, 0 };
	struct store *st;

	(void)state;
	/* hour 3 of s-sync gone; hour 4's rollup holds hour 6's data and is
	 * marked pending: reading it would change the report */
	snprintf(q, sizeof(q),
		 "DELETE FROM rollup_hour WHERE session = 's-sync' AND"
		 " start_ns = %" PRIu64 ";"
		 "UPDATE rollup_hour SET record = (SELECT record FROM"
		 " rollup_hour WHERE session = 's-sync' AND start_ns = %"
		 PRIu64 ") WHERE session = 's-sync' AND start_ns = %" PRIu64 ";"
		 "INSERT INTO rollup_pending VALUES (%" PRIu64 ", 'c0',"
		 " 's-sync', %" PRIu64 ");",
		 (uint64_t)(D0 + 3 * HOUR), (uint64_t)(D0 + 6 * HOUR),
		 (uint64_t)(D0 + 4 * HOUR), (uint64_t)HOUR,
		 (uint64_t)(D0 + 4 * HOUR));
	sql(q);
	st = open_store(90 * DAY);
	compare_all(st, 0, &t);
	store_close(st);

	/* retention drops the minutes before D0 + 7 h 30: the hours before
	 * it hold more than the minutes left */
	st = open_store(D0 + 2 * DAY + 3 * HOUR - (D0 + 7 * HOUR + 30 * MIN));
	assert_int_equal(store_maintain(st, D0 + 2 * DAY + 3 * HOUR), 0);
	compare_all(st, 0, &t);
	store_close(st);
}

static void
test_bad_figures_row(void **state)
{
	struct totals t = { 0, 0, 0 };
	struct store *st;

	(void)state;
	/* a figures row that does not decode: the link (and the identity
	 * scan) read the records instead, the report is the same */
	sql("UPDATE rollup_minute_figs SET figs = x'07' WHERE"
	    " session = 's-rtt' AND start_ns = (SELECT min(start_ns) + 600"
	    " * 1000000000 FROM rollup_minute_figs WHERE session = 's-rtt');");
	st = open_store(90 * DAY);
	compare_all(st, 0, &t);
	store_close(st);
	assert_true(t.figs > 0);
}

static void
test_migrated_store(void **state)
{
	struct totals t = { 0, 0, 0 };
	struct store *st;

	(void)state;
	/* as a store of schema version 1 was: no figures */
	sql("DROP TABLE rollup_minute_figs;"
	    "UPDATE schema_version SET version = 1;");
	st = open_store(90 * DAY);
	compare_all(st, 0, &t);
	store_close(st);
	assert_true(t.figs > 0);
}

/* The SQLite store behind a table of the mandatory operations only: a
 * back-end without snapshots, minute figures or exact hour rollups. */
struct bare_store {
	struct store base;
	struct store *real;
};

static struct store *
bare_real(struct store *s)
{
	return ((struct bare_store *)s)->real;
}

static int
bare_insert(struct store *s, const struct interval_record *recs, size_t n,
	    size_t *n_new, size_t *n_dup, char *err, size_t errlen)
{
	return store_insert(bare_real(s), recs, n, n_new, n_dup, err, errlen);
}

static int
bare_insert_stream(struct store *s, store_next_fn next, void *arg,
		   size_t *n_new, size_t *n_dup, char *err, size_t errlen)
{
	return store_insert_stream(bare_real(s), next, arg, n_new, n_dup, err,
				   errlen);
}

static int
bare_scan(struct store *s, const struct store_query *q, store_record_fn fn,
	  void *arg)
{
	return store_scan(bare_real(s), q, fn, arg);
}

static int
bare_maintain(struct store *s, uint64_t now_ns)
{
	return store_maintain(bare_real(s), now_ns);
}

static void
bare_close(struct store *s)
{
	(void)s;
}

static void
test_store_without_optional_operations(void **state)
{
	static const struct store_ops bare_ops = {
		.name = "bare",
		.insert = bare_insert,
		.insert_stream = bare_insert_stream,
		.scan = bare_scan,
		.maintain = bare_maintain,
		.close = bare_close,
	};
	struct totals t = { 0, 0, 0 };
	struct bare_store bare;
	char err[160];

	(void)state;
	/* the defaults store_init gives it (a reader that scans, no
	 * figures, no exact hours) make the same report, from records */
	bare.real = open_store(90 * DAY);
	assert_int_equal(store_init(&bare.base, &bare_ops, err, sizeof(err)),
			 0);
	compare_all_with(bare.real, &bare.base, 0, &t);
	assert_int_equal(t.figs, 0);
	assert_int_equal(t.hours, 0);
	assert_true(t.records > 0);
	store_close(&bare.base);
	store_close(bare.real);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_report),
		cmocka_unit_test(test_store_without_optional_operations),
		cmocka_unit_test(test_hours_not_exact),
		cmocka_unit_test(test_bad_figures_row),
		cmocka_unit_test(test_migrated_store),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
