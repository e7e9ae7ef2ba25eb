/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interval record tests: JSON round trip of a full record, one test per
 * validation error (each names its key), and merge of two records equal
 * to the record built from the union of their samples.
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
#include <jansson.h>

#include "metroprobe/record.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* Owned histogram, as record_from_json would make it. */
static void
record_give_hist(struct interval_record *r, unsigned i)
{
	r->hist[i] = malloc(sizeof(struct hist));
	assert_non_null(r->hist[i]);
	hist_init(r->hist[i]);
	r->hist_owned |= 1u << i;
}

static void
record_summarise(struct interval_record *r)
{
	delay_summary_from_hist(&r->rtt, r->hist[RECORD_HIST_RTT]);
	delay_summary_from_hist(&r->owd_fwd, r->hist[RECORD_HIST_OWD_FWD]);
	delay_summary_from_hist(&r->owd_back, r->hist[RECORD_HIST_OWD_BACK]);
	delay_summary_from_hist(&r->ipdv, r->hist[RECORD_HIST_IPDV]);
}

/* A record as a probe would emit it: n samples around base ns. */
static void
record_fill(struct interval_record *r, const char *session,
	    uint64_t start_ns, unsigned n, uint64_t base, bool synced)
{
	record_init(r);
	snprintf(r->probe, sizeof(r->probe), "centre-a");
	snprintf(r->session, sizeof(r->session), "%s", session);
	snprintf(r->src, sizeof(r->src), "192.0.2.1:862");
	snprintf(r->dst, sizeof(r->dst), "[2001:db8::2]:862");
	r->start_ns = start_ns;
	r->interval_ns = 1000000000;
	r->tx_pkts = n + 3;
	r->tx_bytes = (n + 3) * 84ULL;
	r->rx_pkts = n;
	r->rx_bytes = n * 84ULL;
	r->lost = 3;
	r->lost_fwd = 2;
	r->lost_back = 1;
	r->reordered = 1;
	r->duplicates = 2;
	r->late = 1;
	r->clock_synced = synced;
	r->hw_timestamps = true;
	r->jitter_ns = base / 100;
	r->throughput_bps = n * 84.0 * 8;
	r->throughput_l1_bps = n * 104.0 * 8;
	r->n_drops = 2;
	snprintf(r->drops[0].name, sizeof(r->drops[0].name), "bad_stamp");
	r->drops[0].value = 4;
	snprintf(r->drops[1].name, sizeof(r->drops[1].name), "no_session");
	r->drops[1].value = 1;
	record_give_hist(r, RECORD_HIST_RTT);
	record_give_hist(r, RECORD_HIST_IPDV);
	if (synced) {
		record_give_hist(r, RECORD_HIST_OWD_FWD);
		record_give_hist(r, RECORD_HIST_OWD_BACK);
	}
}

/* Adds one sample to r and, when u is not NULL, to the union u. */
static void
add_sample(struct interval_record *r, struct interval_record *u,
	   uint64_t base)
{
	uint64_t rtt = base + rng() % (base / 10);
	uint64_t fwd = rtt / 2 - rng() % 1000, ipdv = rng() % 5000;
	for (int k = 0; k < 2; k++) {
		struct interval_record *x = k == 0 ? r : u;
		if (x == NULL)
			continue;
		hist_insert(x->hist[RECORD_HIST_RTT], rtt);
		hist_insert(x->hist[RECORD_HIST_IPDV], ipdv);
		if (x->hist[RECORD_HIST_OWD_FWD] != NULL) {
			hist_insert(x->hist[RECORD_HIST_OWD_FWD], fwd);
			hist_insert(x->hist[RECORD_HIST_OWD_BACK], rtt - fwd);
		}
	}
}

static void
expect_records_equal(const struct interval_record *a,
		     const struct interval_record *b)
{
	assert_string_equal(a->probe, b->probe);
	assert_string_equal(a->session, b->session);
	assert_string_equal(a->src, b->src);
	assert_string_equal(a->dst, b->dst);
	assert_int_equal(a->start_ns, b->start_ns);
	assert_int_equal(a->interval_ns, b->interval_ns);
	assert_int_equal(a->tx_pkts, b->tx_pkts);
	assert_int_equal(a->tx_bytes, b->tx_bytes);
	assert_int_equal(a->rx_pkts, b->rx_pkts);
	assert_int_equal(a->rx_bytes, b->rx_bytes);
	assert_int_equal(a->lost, b->lost);
	assert_int_equal(a->lost_fwd, b->lost_fwd);
	assert_int_equal(a->lost_back, b->lost_back);
	assert_int_equal(a->reordered, b->reordered);
	assert_int_equal(a->duplicates, b->duplicates);
	assert_int_equal(a->late, b->late);
	assert_int_equal(a->clock_synced, b->clock_synced);
	assert_int_equal(a->hw_timestamps, b->hw_timestamps);
	assert_memory_equal(&a->rtt, &b->rtt, sizeof(a->rtt));
	assert_memory_equal(&a->owd_fwd, &b->owd_fwd, sizeof(a->owd_fwd));
	assert_memory_equal(&a->owd_back, &b->owd_back, sizeof(a->owd_back));
	assert_memory_equal(&a->ipdv, &b->ipdv, sizeof(a->ipdv));
	assert_int_equal(a->jitter_ns, b->jitter_ns);
	assert_true(a->throughput_bps == b->throughput_bps);
	assert_true(a->throughput_l1_bps == b->throughput_l1_bps);
	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++) {
		assert_int_equal(a->hist[i] == NULL, b->hist[i] == NULL);
		if (a->hist[i] != NULL)
			assert_memory_equal(a->hist[i], b->hist[i],
					    sizeof(struct hist));
	}
	assert_int_equal(a->n_drops, b->n_drops);
	for (unsigned k = 0; k < a->n_drops; k++) {
		assert_string_equal(a->drops[k].name, b->drops[k].name);
		assert_int_equal(a->drops[k].value, b->drops[k].value);
	}
}

static void
test_summary_from_hist_by_hand(void **state)
{
	(void)state;
	struct hist h;
	struct delay_summary s;

	hist_init(&h);
	delay_summary_from_hist(&s, &h);
	assert_false(s.present);
	delay_summary_from_hist(&s, NULL);
	assert_false(s.present);

	/* 1..10 ns (exact buckets): nearest rank p50 = 5th = 5, p90 = 9th
	 * = 9, p99 = p999 = 10th = 10; mean 55 / 10 = 5. */
	for (uint64_t v = 1; v <= 10; v++)
		hist_insert(&h, v);
	delay_summary_from_hist(&s, &h);
	assert_true(s.present);
	assert_int_equal(s.min, 1);
	assert_int_equal(s.mean, 5);
	assert_int_equal(s.p50, 5);
	assert_int_equal(s.p90, 9);
	assert_int_equal(s.p99, 10);
	assert_int_equal(s.p999, 10);
	assert_int_equal(s.max, 10);
}

static void
test_full_record_round_trips(void **state)
{
	(void)state;
	struct interval_record r, back;
	char err[256];

	record_fill(&r, "a-to-b", 1795000000000000000ULL, 1000, 1000000,
		    true);
	for (int i = 0; i < 1000; i++)
		add_sample(&r, NULL, 1000000);
	record_summarise(&r);

	char *json = record_to_json(&r);
	assert_non_null(json);
	assert_null(strchr(json, '\n'));                /* one line */
	assert_int_equal(record_from_json(json, strlen(json), &back, err,
					  sizeof(err)), 0);
	expect_records_equal(&r, &back);

	/* The text follows the schema: integers in ns, summary objects. */
	json_error_t je;
	json_t *o = json_loads(json, 0, &je);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "schema")),
			    "metroprobe.interval.v1");
	assert_true(json_is_integer(json_object_get(o, "start_ns")));
	assert_int_equal(json_integer_value(json_object_get(o, "start_ns")),
			 1795000000000000000LL);
	json_t *p99 = json_object_get(json_object_get(o, "rtt_ns"), "p99");
	assert_true(json_is_integer(p99));
	assert_int_equal(json_integer_value(p99), r.rtt.p99);
	assert_true(json_is_string(json_object_get(json_object_get(o, "hist"),
						   "ipdv")));
	json_decref(o);
	free(json);
	record_free(&back);
	record_free(&r);
}

static void
test_unsynced_record_has_null_one_way_delays(void **state)
{
	(void)state;
	struct interval_record r, back;
	char err[256];

	record_fill(&r, "a-to-b", 1, 10, 500000, false);
	for (int i = 0; i < 10; i++)
		add_sample(&r, NULL, 500000);
	record_summarise(&r);
	char *json = record_to_json(&r);
	assert_non_null(strstr(json, "\"owd_fwd_ns\":null"));
	assert_non_null(strstr(json, "\"owd_back_ns\":null"));
	assert_non_null(strstr(json, "\"owd_fwd\":null"));
	assert_int_equal(record_from_json(json, strlen(json), &back, err,
					  sizeof(err)), 0);
	expect_records_equal(&r, &back);
	assert_false(back.owd_fwd.present);
	assert_null(back.hist[RECORD_HIST_OWD_FWD]);
	free(json);
	record_free(&back);
	record_free(&r);
}

static void
test_producer_histograms_are_not_freed(void **state)
{
	(void)state;
	struct interval_record r;
	struct hist h;        /* on the stack: freeing it would crash */

	record_init(&r);
	hist_init(&h);
	hist_insert(&h, 1234);
	r.hist[RECORD_HIST_RTT] = &h;
	snprintf(r.probe, sizeof(r.probe), "p");
	char *json = record_to_json(&r);
	assert_non_null(json);
	free(json);
	record_free(&r);
	assert_null(r.hist[RECORD_HIST_RTT]);
	assert_int_equal(h.count, 1);
}

/* ---- validation ---- */

static char *
valid_json(void)
{
	struct interval_record r;

	record_fill(&r, "a-to-b", 1795000000000000000ULL, 20, 1000000, true);
	for (int i = 0; i < 20; i++)
		add_sample(&r, NULL, 1000000);
	record_summarise(&r);
	char *json = record_to_json(&r);
	record_free(&r);
	return json;
}

typedef void (*json_edit_fn)(json_t *o);

/* Applies edit to a valid record, expects -EINVAL with want in err. */
static void
expect_rejected(json_edit_fn edit, const char *want)
{
	char *json = valid_json();
	json_error_t je;
	json_t *o = json_loads(json, 0, &je);
	struct interval_record r;
	char err[256];

	free(json);
	edit(o);
	json = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_int_equal(record_from_json(json, strlen(json), &r, err,
					  sizeof(err)), -EINVAL);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not say '%s'", err, want);
	/* Nothing is left allocated or half-filled. */
	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++)
		assert_null(r.hist[i]);
	assert_int_equal(r.probe[0], '\0');
	free(json);
}

static void
edit_schema(json_t *o)
{
	json_object_set_new(o, "schema", json_string("metroprobe.interval.v2"));
}
static void
edit_schema_type(json_t *o)
{
	json_object_set_new(o, "schema", json_integer(1));
}
static void
edit_rx_string(json_t *o)
{
	json_object_set_new(o, "rx_pkts", json_string("12"));
}
static void
edit_rx_real(json_t *o)
{
	json_object_set_new(o, "rx_pkts", json_real(1.5));
}
static void
edit_lost_negative(json_t *o)
{
	json_object_set_new(o, "lost", json_integer(-1));
}
static void
edit_late_negative(json_t *o)
{
	json_object_set_new(o, "late", json_integer(-7));
}
static void
edit_synced_int(json_t *o)
{
	json_object_set_new(o, "clock_synced", json_integer(1));
}
static void
edit_rtt_number(json_t *o)
{
	json_object_set_new(o, "rtt_ns", json_integer(5));
}
static void
edit_rtt_no_p99(json_t *o)
{
	json_object_del(json_object_get(o, "rtt_ns"), "p99");
}
static void
edit_rtt_p50_negative(json_t *o)
{
	json_object_set_new(json_object_get(o, "ipdv_ns"), "p50",
			    json_integer(-3));
}
static void
edit_rtt_unordered(json_t *o)
{
	json_object_set_new(json_object_get(o, "owd_fwd_ns"), "min",
			    json_integer(999999999999LL));
}
static void
edit_hist_garbage(json_t *o)
{
	json_object_set_new(json_object_get(o, "hist"), "rtt",
			    json_string("not base64!"));
}
static void
edit_hist_truncated(json_t *o)
{
	json_t *h = json_object_get(o, "hist");
	const char *s = json_string_value(json_object_get(h, "owd_back"));
	char cut[16];
	snprintf(cut, sizeof(cut), "%.8s", s);
	json_object_set_new(h, "owd_back", json_string(cut));
}
static void
edit_hist_number(json_t *o)
{
	json_object_set_new(json_object_get(o, "hist"), "rtt",
			    json_integer(7));
}
static void
edit_hist_no_ipdv(json_t *o)
{
	json_object_del(json_object_get(o, "hist"), "ipdv");
}
static void
edit_hist_array(json_t *o)
{
	json_object_set_new(o, "hist", json_array());
}
static void
edit_probe_long(json_t *o)
{
	char s[65];
	memset(s, 'p', 64);
	s[64] = '\0';
	json_object_set_new(o, "probe", json_string(s));
}
static void
edit_src_long(json_t *o)
{
	char s[101];
	memset(s, '1', 100);
	s[100] = '\0';
	json_object_set_new(o, "src", json_string(s));
}
static void
edit_session_empty(json_t *o)
{
	json_object_set_new(o, "session", json_string(""));
}
static void
edit_probe_nul(json_t *o)
{
	json_object_set_new(o, "probe", json_stringn("a\0b", 3));
}
static void
edit_throughput_negative(json_t *o)
{
	json_object_set_new(o, "throughput_bps", json_real(-1.0));
}
static void
edit_throughput_string(json_t *o)
{
	json_object_set_new(o, "throughput_bps", json_string("fast"));
}
static void
edit_drops_negative(json_t *o)
{
	json_object_set_new(json_object_get(o, "drops"), "bad_stamp",
			    json_integer(-1));
}
static void
edit_hw_string(json_t *o)
{
	json_object_set_new(o, "hw_timestamps", json_string("yes"));
}

static void
test_each_bad_value_is_named(void **state)
{
	(void)state;
	expect_rejected(edit_schema,
			"unknown schema 'metroprobe.interval.v2'");
	expect_rejected(edit_schema_type, "key 'schema'");
	expect_rejected(edit_rx_string,
			"key 'rx_pkts': expected a non-negative integer");
	expect_rejected(edit_rx_real, "key 'rx_pkts'");
	expect_rejected(edit_lost_negative,
			"key 'lost': expected a non-negative integer, got -1");
	expect_rejected(edit_late_negative, "key 'late'");
	expect_rejected(edit_synced_int, "key 'clock_synced'");
	expect_rejected(edit_rtt_number,
			"key 'rtt_ns': expected an object or null");
	expect_rejected(edit_rtt_no_p99, "missing key 'rtt_ns.p99'");
	expect_rejected(edit_rtt_p50_negative, "key 'ipdv_ns.p50'");
	expect_rejected(edit_rtt_unordered, "key 'owd_fwd_ns': values not");
	expect_rejected(edit_hist_garbage, "key 'hist.rtt'");
	expect_rejected(edit_hist_truncated, "key 'hist.owd_back'");
	expect_rejected(edit_hist_number, "key 'hist.rtt'");
	expect_rejected(edit_hist_no_ipdv, "missing key 'hist.ipdv'");
	expect_rejected(edit_hist_array, "key 'hist': expected an object");
	expect_rejected(edit_probe_long,
			"key 'probe': string longer than 63 octets");
	expect_rejected(edit_src_long, "key 'src'");
	expect_rejected(edit_session_empty, "key 'session': empty");
	expect_rejected(edit_probe_nul, "key 'probe'");
	expect_rejected(edit_throughput_negative, "key 'throughput_bps'");
	expect_rejected(edit_throughput_string, "key 'throughput_bps'");
	expect_rejected(edit_drops_negative, "key 'drops.bad_stamp'");
	expect_rejected(edit_hw_string, "key 'hw_timestamps'");
}

static void
test_each_missing_required_key_is_named(void **state)
{
	(void)state;
	static const char *const required[] = {
		"schema", "probe", "session", "src", "dst", "start_ns",
		"interval_ns", "tx_pkts", "tx_bytes", "rx_pkts", "rx_bytes",
		"lost", "lost_fwd", "lost_back", "reordered", "duplicates",
		"clock_synced", "rtt_ns", "owd_fwd_ns", "owd_back_ns",
		"ipdv_ns", "jitter_ns", "throughput_bps", "hist",
	};
	char *json = valid_json();

	for (size_t k = 0; k < sizeof(required) / sizeof(*required); k++) {
		json_error_t je;
		json_t *o = json_loads(json, 0, &je);
		struct interval_record r;
		char err[256], want[64];

		assert_int_equal(json_object_del(o, required[k]), 0);
		char *s = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		assert_int_equal(record_from_json(s, strlen(s), &r, err,
						  sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want), "missing key '%s'", required[k]);
		assert_string_equal(err, want);
		free(s);
	}
	free(json);
}

static void
test_not_a_record_is_rejected(void **state)
{
	(void)state;
	struct interval_record r;
	char err[256];
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "{", "invalid JSON" },
		{ "", "invalid JSON" },
		{ "[1,2]", "not a JSON object" },
		{ "null", "not a JSON object" },
		{ "{\"schema\":\"metroprobe.interval.v1\","
		  "\"schema\":\"metroprobe.interval.v1\"}", "invalid JSON" },
		{ "{\"schema\":\"metroprobe.interval.v1\","
		  "\"start_ns\":18446744073709551616}", "invalid JSON" },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(*cases); k++) {
		assert_int_equal(record_from_json(cases[k].text,
						  strlen(cases[k].text), &r,
						  err, sizeof(err)), -EINVAL);
		if (strstr(err, cases[k].want) == NULL)
			fail_msg("'%s': error '%s'", cases[k].text, err);
	}
	/* The length is honoured: a valid record cut short is invalid. */
	char *json = valid_json();
	assert_int_equal(record_from_json(json, strlen(json) - 1, &r, err,
					  sizeof(err)), -EINVAL);
	/* No error buffer: still a clean -EINVAL. */
	assert_int_equal(record_from_json("{", 1, &r, NULL, 0), -EINVAL);
	free(json);
}

static void
test_unknown_keys_are_tolerated(void **state)
{
	(void)state;
	char *json = valid_json();
	json_error_t je;
	json_t *o = json_loads(json, 0, &je);
	struct interval_record r;
	char err[256];

	json_object_set_new(o, "future_key", json_string("v1.1"));
	json_object_del(o, "drops");            /* optional keys may go */
	json_object_del(o, "late");
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_int_equal(record_from_json(s, strlen(s), &r, err, sizeof(err)),
			 0);
	assert_int_equal(r.n_drops, 0);
	assert_int_equal(r.late, 0);
	record_free(&r);
	free(s);
	free(json);
}

/*
 * Random damage to a valid line (run under ASan/UBSan): never a crash;
 * a line that is accepted encodes and decodes again to the same record.
 */
static void
test_damaged_lines_never_crash(void **state)
{
	(void)state;
	char *json = valid_json();
	size_t len = strlen(json);
	char *buf = malloc(len + 1);
	static const char junk[] = "{}[]\",:-0123456789.eEnulltrfa \\xyz";
	unsigned accepted = 0;

	for (int it = 0; it < 3000; it++) {
		struct interval_record r, again;
		char err[256];

		memcpy(buf, json, len + 1);
		unsigned edits = 1 + (unsigned)(rng() % 4);
		for (unsigned e = 0; e < edits; e++)
			buf[rng() % len] = junk[rng() % (sizeof(junk) - 1)];
		size_t n = it % 7 == 0 ? rng() % len : len;   /* cut short */

		int rc = record_from_json(buf, n, &r, err, sizeof(err));
		if (rc != 0) {
			assert_int_equal(rc, -EINVAL);
			assert_true(err[0] != '\0');
			continue;
		}
		accepted++;
		char *s = record_to_json(&r);
		assert_non_null(s);
		assert_int_equal(record_from_json(s, strlen(s), &again, err,
						  sizeof(err)), 0);
		expect_records_equal(&r, &again);
		free(s);
		record_free(&again);
		record_free(&r);
	}
	/* Some damage is harmless (inside a name, a digit for a digit). */
	assert_true(accepted < 3000);
	free(buf);
	free(json);
}

/* ---- merge ---- */

static void
test_merge_equals_record_of_union(void **state)
{
	(void)state;
	struct interval_record a, b, u, acc;
	const uint64_t t0 = 1795000000000000000ULL;

	/* Two one-second intervals of one session, with the samples of
	 * both also put into the union record u (a 2 s interval). */
	record_fill(&a, "a-to-b", t0, 3000, 1000000, true);
	record_fill(&b, "a-to-b", t0 + 1000000000, 1000, 3000000, true);
	record_fill(&u, "a-to-b", t0, 4000, 1000000, true);
	for (int i = 0; i < 3000; i++)
		add_sample(&a, &u, 1000000);
	for (int i = 0; i < 1000; i++)
		add_sample(&b, &u, 3000000);
	b.jitter_ns = 77777;
	b.n_drops = 1;
	snprintf(b.drops[0].name, sizeof(b.drops[0].name), "no_session");
	b.drops[0].value = 10;
	record_summarise(&a);
	record_summarise(&b);
	record_summarise(&u);

	/* What the union must read: counters added, jitter the worst,
	 * throughput the mean over the 2 s, drops added by name. */
	u.interval_ns = 2000000000;
	u.tx_pkts = a.tx_pkts + b.tx_pkts;
	u.tx_bytes = a.tx_bytes + b.tx_bytes;
	u.rx_pkts = 4000;
	u.rx_bytes = a.rx_bytes + b.rx_bytes;
	u.lost = 6;
	u.lost_fwd = 4;
	u.lost_back = 2;
	u.reordered = 2;
	u.duplicates = 4;
	u.late = 2;
	u.jitter_ns = 77777;
	u.throughput_bps = (a.throughput_bps + b.throughput_bps) / 2;
	u.throughput_l1_bps = (a.throughput_l1_bps + b.throughput_l1_bps) / 2;
	u.drops[0].value = 4;
	u.drops[1].value = 11;

	record_init(&acc);
	assert_int_equal(record_merge(&acc, &a), 0);
	assert_int_equal(record_merge(&acc, &b), 0);
	expect_records_equal(&acc, &u);
	/* Percentiles come from the merged histogram: the p99 of the
	 * union lies among b's 3 ms samples, far from either average. */
	assert_true(acc.rtt.p99 > 3000000);
	record_free(&acc);

	/* The same through JSON, as the collector merges stored records. */
	char *ja = record_to_json(&a), *jb = record_to_json(&b);
	struct interval_record da, db;
	char err[256];
	assert_int_equal(record_from_json(ja, strlen(ja), &da, err,
					  sizeof(err)), 0);
	assert_int_equal(record_from_json(jb, strlen(jb), &db, err,
					  sizeof(err)), 0);
	record_init(&acc);
	assert_int_equal(record_merge(&acc, &db), 0);  /* order free */
	assert_int_equal(record_merge(&acc, &da), 0);
	acc.start_ns = t0;
	assert_memory_equal(acc.hist[RECORD_HIST_RTT], u.hist[RECORD_HIST_RTT],
			    sizeof(struct hist));
	assert_memory_equal(&acc.rtt, &u.rtt, sizeof(u.rtt));
	assert_memory_equal(&acc.owd_back, &u.owd_back, sizeof(u.owd_back));
	assert_int_equal(acc.lost, u.lost);
	assert_true(acc.throughput_bps == u.throughput_bps);
	free(ja);
	free(jb);
	record_free(&da);
	record_free(&db);
	record_free(&acc);
	record_free(&a);
	record_free(&b);
	record_free(&u);
}

static void
test_merge_with_unsynced_interval(void **state)
{
	(void)state;
	struct interval_record a, b, acc;

	/* One interval synced, one not: the merge is not synced, and its
	 * one-way figures are those of the synced interval alone. */
	record_fill(&a, "s", 1000, 100, 1000000, true);
	record_fill(&b, "s", 0, 100, 1000000, false);
	for (int i = 0; i < 100; i++) {
		add_sample(&a, NULL, 1000000);
		add_sample(&b, NULL, 1000000);
	}
	record_summarise(&a);
	record_summarise(&b);
	record_init(&acc);
	assert_int_equal(record_merge(&acc, &a), 0);
	assert_int_equal(record_merge(&acc, &b), 0);
	assert_false(acc.clock_synced);
	assert_int_equal(acc.start_ns, 0);                 /* earliest */
	assert_int_equal(acc.hist[RECORD_HIST_RTT]->count, 200);
	assert_int_equal(acc.hist[RECORD_HIST_OWD_FWD]->count, 100);
	assert_memory_equal(&acc.owd_fwd, &a.owd_fwd, sizeof(a.owd_fwd));
	record_free(&acc);
	record_free(&a);
	record_free(&b);
}

static void
test_merge_of_summaries_without_histograms(void **state)
{
	(void)state;
	struct interval_record a, acc;

	/* A summary alone cannot be merged exactly: kept when it is the
	 * only one, dropped (null) rather than averaged otherwise. */
	record_init(&a);
	snprintf(a.probe, sizeof(a.probe), "p");
	a.rtt.present = true;
	a.rtt.min = a.rtt.mean = a.rtt.p50 = a.rtt.p90 = 10;
	a.rtt.p99 = a.rtt.p999 = a.rtt.max = 10;
	record_init(&acc);
	assert_int_equal(record_merge(&acc, &a), 0);
	assert_memory_equal(&acc.rtt, &a.rtt, sizeof(a.rtt));
	assert_int_equal(record_merge(&acc, &a), 0);
	assert_false(acc.rtt.present);
	record_free(&acc);
}

static void
test_merge_keeps_drop_totals_when_names_overflow(void **state)
{
	(void)state;
	struct interval_record a, acc;
	uint64_t total = 0;

	record_init(&acc);
	for (unsigned k = 0; k < RECORD_MAX_DROPS + 4; k++) {
		record_init(&a);
		snprintf(a.probe, sizeof(a.probe), "p");
		a.n_drops = 1;
		snprintf(a.drops[0].name, sizeof(a.drops[0].name), "c%u", k);
		a.drops[0].value = k + 1;
		total += k + 1;
		assert_int_equal(record_merge(&acc, &a), 0);
	}
	assert_int_equal(acc.n_drops, RECORD_MAX_DROPS);
	uint64_t sum = 0;
	for (unsigned k = 0; k < acc.n_drops; k++)
		sum += acc.drops[k].value;
	assert_int_equal(sum, total);
	assert_string_equal(acc.drops[RECORD_MAX_DROPS - 1].name, "other");
	record_free(&acc);
}

/* Merges without summaries, then finished once, equal record_merge at
 * every step: summaries, histograms and every other field. */
static void
test_merge_hists_only_then_finish_equals_merge(void **state)
{
	(void)state;
	struct interval_record acc1, acc2, r;

	record_init(&acc1);
	record_init(&acc2);
	for (unsigned k = 0; k < 24; k++) {
		if (k % 6 == 5) {
			/* a summary without a histogram */
			record_init(&r);
			snprintf(r.probe, sizeof(r.probe), "centre-a");
			r.owd_fwd.present = true;
			r.owd_fwd.min = r.owd_fwd.mean = r.owd_fwd.p50 = 7;
			r.owd_fwd.p90 = r.owd_fwd.p99 = r.owd_fwd.p999 = 7;
			r.owd_fwd.max = 7;
		} else {
			record_fill(&r, "s", 1000 * k, 50, 100000 * (k + 1),
				    k % 3 != 0);
			for (unsigned n = 0; n < 50 + k * 7; n++)
				add_sample(&r, NULL, 100000 * (k % 4 + 1));
			record_summarise(&r);
		}
		assert_int_equal(record_merge(&acc1, &r), 0);
		assert_int_equal(record_merge_hists_only(&acc2, &r), 0);
		record_free(&r);

		struct interval_record fin = acc2;
		record_finish_summaries(&fin);
		struct interval_record x = acc1, y = fin;
		for (unsigned i = 0; i < RECORD_HIST_COUNT; i++) {
			assert_true((acc1.hist[i] == NULL) ==
				    (fin.hist[i] == NULL));
			if (acc1.hist[i] != NULL)
				assert_memory_equal(acc1.hist[i], fin.hist[i],
						    sizeof(struct hist));
			x.hist[i] = y.hist[i] = NULL;
		}
		assert_memory_equal(&x, &y, sizeof(x));
		acc2 = fin;
	}
	assert_true(acc1.rtt.present);
	record_free(&acc1);
	record_free(&acc2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_from_hist_by_hand),
		cmocka_unit_test(test_full_record_round_trips),
		cmocka_unit_test(test_unsynced_record_has_null_one_way_delays),
		cmocka_unit_test(test_producer_histograms_are_not_freed),
		cmocka_unit_test(test_each_bad_value_is_named),
		cmocka_unit_test(test_each_missing_required_key_is_named),
		cmocka_unit_test(test_not_a_record_is_rejected),
		cmocka_unit_test(test_unknown_keys_are_tolerated),
		cmocka_unit_test(test_damaged_lines_never_crash),
		cmocka_unit_test(test_merge_equals_record_of_union),
		cmocka_unit_test(test_merge_with_unsynced_interval),
		cmocka_unit_test(test_merge_of_summaries_without_histograms),
		cmocka_unit_test(test_merge_hists_only_then_finish_equals_merge),
		cmocka_unit_test(
			test_merge_keeps_drop_totals_when_names_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
