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
expect_quality_equal(const struct record_quality *a,
		     const struct record_quality *b)
{
	assert_int_equal(a->present, b->present);
	for (unsigned k = 0; k < RECORD_QUALITY_NKEYS; k++) {
		const void *fa = record_quality_field_c(a, k);
		const void *fb = record_quality_field_c(b, k);

		bool same = record_quality_keys[k].type == RECORD_Q_BOOL ?
			    *(const bool *)fa == *(const bool *)fb :
			    /* uint64_t or int64_t: the same 8 octets */
			    memcmp(fa, fb, sizeof(uint64_t)) == 0;

		if (!same)
			fail_msg("%s differs", record_quality_keys[k].name);
	}
}

/* Every quality figure stated, each a different value: bounds in the
 * microseconds, a few counts, the flags set. */
static void
quality_fill(struct record_quality *q, uint64_t seed)
{
	q->ts_rx_error_ns = 2000 + seed;
	q->ts_tx_error_ns = 800 + seed;
	q->clock_error_ns = 50000 + seed;
	q->peer_clock_synced = true;
	q->peer_clock_error_ns = 40000 + seed;
	q->rtt_error_ns = q->ts_rx_error_ns + q->ts_tx_error_ns;
	q->owd_error_ns = q->rtt_error_ns + q->clock_error_ns +
			  q->peer_clock_error_ns;
	q->clock_steps = 1;
	q->step_excluded = 3 + seed;
	q->rtt_negative = 2;
	q->owd_fwd_negative = 5;
	q->owd_back_negative = 0;
	q->owd_fwd_negative_min_ns = -1200 - (int64_t)seed;
	q->owd_back_negative_min_ns = 0;
	q->owd_implausible = false;
	q->host_imissed = 17;
	q->host_rx_nombuf = 0;
	q->host_ierrors = 1;
	q->poll_gap_max_ns = 2000 + seed;
	q->host_loss_suspect = true;
	q->present = true;
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
	expect_quality_equal(&a->q, &b->q);
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

/* The quality keys: all of them, after "drops", when stated; none when
 * not, so a line of an older probe encodes again to the same line. */
static void
test_quality_keys_are_written_after_drops_when_stated(void **state)
{
	(void)state;
	struct interval_record r, back;
	char err[256];

	record_fill(&r, "a-to-b", 1795000000000000000ULL, 10, 1000000, true);
	for (int i = 0; i < 10; i++)
		add_sample(&r, NULL, 1000000);
	record_summarise(&r);
	char *plain = record_to_json(&r);
	for (unsigned k = 0; k < RECORD_QUALITY_NKEYS; k++)
		assert_null(strstr(plain, record_quality_keys[k].name));
	assert_int_equal(record_from_json(plain, strlen(plain), &back, err,
					  sizeof(err)), 0);
	assert_false(back.q.present);
	char *again = record_to_json(&back);
	assert_string_equal(again, plain);
	free(again);
	record_free(&back);

	quality_fill(&r.q, 0);
	char *json = record_to_json(&r);
	const char *drops = strstr(json, "\"drops\":");
	const char *prev = drops;
	assert_non_null(drops);
	for (unsigned k = 0; k < RECORD_QUALITY_NKEYS; k++) {
		char key[64];
		snprintf(key, sizeof(key), "\"%s\":",
			 record_quality_keys[k].name);
		const char *at = strstr(json, key);
		if (at == NULL || at < prev)
			fail_msg("%s missing or out of order", key);
		prev = at;
	}
	assert_non_null(strstr(json, "\"owd_fwd_negative_min_ns\":-1200,"));
	assert_non_null(strstr(json, "\"owd_back_negative_min_ns\":0,"));
	assert_non_null(strstr(json, "\"host_loss_suspect\":true}"));
	assert_int_equal(record_from_json(json, strlen(json), &back, err,
					  sizeof(err)), 0);
	expect_records_equal(&r, &back);
	assert_true(back.q.present);
	assert_int_equal(back.q.owd_error_ns, 2000 + 800 + 50000 + 40000);
	free(json);
	free(plain);
	record_free(&back);
	record_free(&r);
}

/* One quality key is enough to state the quality; the others read 0.
 * What a decoder would refuse is written as the nearest value it takes. */
static void
test_quality_of_one_key_and_clamped_values(void **state)
{
	(void)state;
	struct interval_record r, back;
	char err[256], line[8192];
	char *json = NULL;

	record_fill(&r, "a-to-b", 1, 0, 1000, false);
	json = record_to_json(&r);
	size_t len = strlen(json);
	snprintf(line, sizeof(line), "%.*s,\"clock_steps\":0}",
		 (int)(len - 1), json);
	assert_int_equal(record_from_json(line, strlen(line), &back, err,
					  sizeof(err)), 0);
	assert_true(back.q.present);
	assert_int_equal(back.q.clock_steps, 0);
	assert_false(back.q.peer_clock_synced);
	record_free(&back);
	free(json);

	r.q.present = true;
	r.q.owd_back_negative_min_ns = 5;        /* not a negative sample */
	r.q.host_imissed = UINT64_MAX;
	json = record_to_json(&r);
	assert_non_null(strstr(json, "\"owd_back_negative_min_ns\":0,"));
	assert_non_null(strstr(json, "\"host_imissed\":9223372036854775807,"));
	assert_int_equal(record_from_json(json, strlen(json), &back, err,
					  sizeof(err)), 0);
	assert_int_equal(back.q.owd_back_negative_min_ns, 0);
	assert_int_equal(back.q.host_imissed, INT64_MAX);
	record_free(&back);
	free(json);
	record_free(&r);
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
edit_q_u64_negative(json_t *o)
{
	json_object_set_new(o, "host_imissed", json_integer(-1));
}
static void
edit_q_u64_string(json_t *o)
{
	json_object_set_new(o, "rtt_error_ns", json_string("5"));
}
static void
edit_q_u64_null(json_t *o)
{
	json_object_set_new(o, "clock_steps", json_null());
}
static void
edit_q_bool_int(json_t *o)
{
	json_object_set_new(o, "host_loss_suspect", json_integer(1));
}
static void
edit_q_min_positive(json_t *o)
{
	json_object_set_new(o, "owd_fwd_negative_min_ns", json_integer(3));
}
static void
edit_q_min_real(json_t *o)
{
	json_object_set_new(o, "owd_back_negative_min_ns", json_real(-1.5));
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
	expect_rejected(edit_q_u64_negative, "key 'host_imissed': expected a "
			"non-negative integer, got -1");
	expect_rejected(edit_q_u64_string, "key 'rtt_error_ns': expected a "
			"non-negative integer");
	expect_rejected(edit_q_u64_null, "key 'clock_steps'");
	expect_rejected(edit_q_bool_int, "key 'host_loss_suspect': expected "
			"true or false");
	expect_rejected(edit_q_min_positive, "key 'owd_fwd_negative_min_ns': "
			"expected an integer <= 0, got 3");
	expect_rejected(edit_q_min_real, "key 'owd_back_negative_min_ns': "
			"expected an integer <= 0");
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

/* Two sets of quality figures, and their merge worked out by hand. */
static const struct record_quality quality_a = {
	.ts_rx_error_ns = 2000, .ts_tx_error_ns = 800,
	.clock_error_ns = 50000, .peer_clock_synced = true,
	.peer_clock_error_ns = 40000, .rtt_error_ns = 2800,
	.owd_error_ns = 92800, .clock_steps = 1, .step_excluded = 3,
	.rtt_negative = 2, .owd_fwd_negative = 5, .owd_back_negative = 0,
	.owd_fwd_negative_min_ns = -1200, .owd_back_negative_min_ns = 0,
	.owd_implausible = false, .host_imissed = 17, .host_rx_nombuf = 0,
	.host_ierrors = 1, .poll_gap_max_ns = 2000, .host_loss_suspect = false,
	.present = true,
};
static const struct record_quality quality_b = {
	.ts_rx_error_ns = 500, .ts_tx_error_ns = 9000,
	.clock_error_ns = 10000, .peer_clock_synced = false,
	.peer_clock_error_ns = 70000, .rtt_error_ns = 9500,
	.owd_error_ns = 89500, .clock_steps = 0, .step_excluded = 0,
	.rtt_negative = 1, .owd_fwd_negative = 1, .owd_back_negative = 4,
	.owd_fwd_negative_min_ns = -300, .owd_back_negative_min_ns = -2500,
	.owd_implausible = true, .host_imissed = 0, .host_rx_nombuf = 6,
	.host_ierrors = 0, .poll_gap_max_ns = 9000, .host_loss_suspect = true,
	.present = true,
};
static const struct record_quality quality_a_b = {
	.ts_rx_error_ns = 2000, .ts_tx_error_ns = 9000,       /* max */
	.clock_error_ns = 50000, .peer_clock_synced = false,  /* and */
	.peer_clock_error_ns = 70000, .rtt_error_ns = 9500,
	.owd_error_ns = 92800, .clock_steps = 1, .step_excluded = 3, /* add */
	.rtt_negative = 3, .owd_fwd_negative = 6, .owd_back_negative = 4,
	.owd_fwd_negative_min_ns = -1200,                     /* min */
	.owd_back_negative_min_ns = -2500,
	.owd_implausible = true, .host_imissed = 17,          /* or, add */
	.host_rx_nombuf = 6, .host_ierrors = 1, .poll_gap_max_ns = 9000,
	.host_loss_suspect = true, .present = true,
};

/* A record of one interval with the given quality figures. */
static void
record_with_quality(struct interval_record *r, uint64_t start_ns,
		    const struct record_quality *q)
{
	record_fill(r, "s", start_ns, 10, 100000, true);
	for (int i = 0; i < 10; i++)
		add_sample(r, NULL, 100000);
	record_summarise(r);
	if (q != NULL)
		r->q = *q;
}

static void
test_merge_of_quality_by_hand(void **state)
{
	(void)state;
	struct interval_record a, b, none, acc, acc2;

	record_with_quality(&a, 0, &quality_a);
	record_with_quality(&b, 1000000000, &quality_b);
	record_with_quality(&none, 2000000000, NULL);   /* an older probe */
	record_init(&acc);
	assert_int_equal(record_merge(&acc, &a), 0);
	assert_int_equal(record_merge(&acc, &none), 0);
	assert_int_equal(record_merge(&acc, &b), 0);
	expect_quality_equal(&acc.q, &quality_a_b);
	/* the other way round, and without summaries: the same */
	record_init(&acc2);
	assert_int_equal(record_merge_hists_only(&acc2, &b), 0);
	assert_int_equal(record_merge_hists_only(&acc2, &a), 0);
	assert_int_equal(record_merge_hists_only(&acc2, &none), 0);
	expect_quality_equal(&acc2.q, &quality_a_b);
	record_free(&acc);
	record_free(&acc2);

	/* through JSON, as the collector merges stored records */
	char *ja = record_to_json(&a), *jb = record_to_json(&b);
	struct interval_record da, db;
	char err[256];
	assert_int_equal(record_from_json(ja, strlen(ja), &da, err,
					  sizeof(err)), 0);
	assert_int_equal(record_from_json(jb, strlen(jb), &db, err,
					  sizeof(err)), 0);
	record_init(&acc);
	assert_int_equal(record_merge(&acc, &db), 0);
	assert_int_equal(record_merge(&acc, &da), 0);
	expect_quality_equal(&acc.q, &quality_a_b);
	free(ja);
	free(jb);
	record_free(&da);
	record_free(&db);
	record_free(&acc);
	record_free(&a);
	record_free(&b);
	record_free(&none);
}

/* Records that state no quality take no part: peer_clock_synced is not
 * cleared by them, and a merge of none of them states nothing. */
static void
test_merge_of_quality_only_over_records_that_state_it(void **state)
{
	(void)state;
	struct interval_record a, none, acc;

	record_with_quality(&a, 0, &quality_a);
	record_with_quality(&none, 1000000000, NULL);
	record_init(&acc);
	assert_int_equal(record_merge(&acc, &none), 0);
	assert_false(acc.q.present);
	assert_int_equal(record_merge(&acc, &none), 0);
	struct record_quality zero;
	memset(&zero, 0, sizeof(zero));
	expect_quality_equal(&acc.q, &zero);
	assert_int_equal(record_merge(&acc, &a), 0);
	assert_int_equal(record_merge(&acc, &none), 0);
	expect_quality_equal(&acc.q, &quality_a);
	assert_true(acc.q.peer_clock_synced);
	/* a second stated record: counts add, bounds stay the largest */
	assert_int_equal(record_merge(&acc, &a), 0);
	assert_int_equal(acc.q.clock_steps, 2);
	assert_int_equal(acc.q.host_imissed, 34);
	assert_int_equal(acc.q.owd_error_ns, 92800);
	assert_int_equal(acc.q.owd_fwd_negative_min_ns, -1200);
	assert_true(acc.q.peer_clock_synced);
	record_free(&acc);
	record_free(&a);
	record_free(&none);
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
			if (k % 4 == 1)
				quality_fill(&r.q, k);
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

/* ---- one-pass decoder against the DOM decoder ---- */

/* Bit-identical: every field, the histograms' contents, and (when
 * `owned`) which histograms the record owns. */
static void
expect_identical(const struct interval_record *a,
		 const struct interval_record *b, bool owned)
{
	struct interval_record x = *a, y = *b;

	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++) {
		if ((a->hist[i] == NULL) != (b->hist[i] == NULL))
			fail_msg("hist %u: present in one record only", i);
		if (a->hist[i] != NULL)
			assert_memory_equal(a->hist[i], b->hist[i],
					    sizeof(struct hist));
		x.hist[i] = y.hist[i] = NULL;
	}
	if (!owned) {
		x.hist_owned = y.hist_owned = 0;
		x.hist_parsed = y.hist_parsed = 0;
	}
	assert_memory_equal(&x, &y, sizeof(x));
}

/*
 * Decodes one line with the DOM decoder, with record_from_json and with
 * the parser: same verdict, same message, the same record. Returns the
 * verdict.
 */
static int
expect_decoders_agree(struct record_parser *p, const char *line, size_t len)
{
	struct interval_record dom, one, par;
	char e_dom[256], e_one[256], e_par[256];

	int rc_dom = record_from_json_dom(line, len, &dom, e_dom,
					  sizeof(e_dom));
	int rc_one = record_from_json(line, len, &one, e_one, sizeof(e_one));
	int rc_par = record_parse_json(p, line, len, &par, e_par,
				       sizeof(e_par));
	if (rc_one != rc_dom || rc_par != rc_dom)
		fail_msg("verdicts %d (DOM) %d %d (one pass) on '%.*s': %s",
			 rc_dom, rc_one, rc_par, (int)len, line, e_dom);
	assert_string_equal(e_one, e_dom);
	assert_string_equal(e_par, e_dom);
	if (rc_dom == 0) {
		expect_identical(&dom, &one, true);
		expect_identical(&dom, &par, false);
	} else {
		/* an error leaves the record empty */
		struct interval_record empty;
		record_init(&empty);
		expect_identical(&empty, &one, true);
		expect_identical(&empty, &par, true);
	}
	record_free(&dom);
	record_free(&one);
	record_free(&par);
	return rc_dom;
}

/* A random histogram: empty, one value, or n values over a span. */
static void
random_hist(struct interval_record *r, unsigned i)
{
	unsigned shape = (unsigned)(rng() % 8);
	unsigned n = shape == 0 ? 0 : shape == 1 ? 1 :
		     (unsigned)(rng() % 3000);
	uint64_t base = 1 + rng() % 2000000, spread = 1 + rng() % 500000;

	record_give_hist(r, i);
	for (unsigned k = 0; k < n; k++) {
		uint64_t v = base + rng() % spread;
		if (rng() % 500 == 0)
			v = rng() % 200000000000ULL;   /* tail, overflow */
		if (rng() % 300 == 0)
			v = rng() % 64;                 /* exact buckets */
		hist_insert(r->hist[i], v);
	}
}

/* Values near the edges of what the schema takes. */
static uint64_t
random_count(void)
{
	switch (rng() % 6) {
	case 0: return 0;
	case 1: return rng() % 10;
	case 2: return (uint64_t)INT64_MAX - rng() % 3;
	case 3: return rng() >> 1;
	default: return rng() % 100000000;
	}
}

static double
random_rate(void)
{
	static const double pick[] = { 0.0, 1.0, 0.5, 1e-300, 4.9e-324,
		1.7976931348623157e308, 1024000.0, 123456789.123, 1e21,
		9007199254740993.0, 0.1 };
	if (rng() % 2)
		return pick[rng() % (sizeof(pick) / sizeof(pick[0]))];
	double x = (double)(rng() >> 11) / (double)(1ULL << (rng() % 53));
	return x;
}

/* A lowest negative one-way sample: none, small, large, or above 0
 * (which the encoder writes as 0). */
static int64_t
random_nonpos(void)
{
	switch (rng() % 5) {
	case 0: return 0;
	case 1: return -(int64_t)(rng() % 10);
	case 2: return -(int64_t)(rng() >> 1);     /* down to -INT64_MAX */
	case 3: return (int64_t)(rng() % 100) + 1;
	default: return -(int64_t)(rng() % 100000000);
	}
}

/* Random quality figures, every key stated (some all zero). */
static void
random_quality(struct record_quality *q)
{
	bool zero = rng() % 10 == 0;

	q->present = true;
	for (unsigned k = 0; k < RECORD_QUALITY_NKEYS && !zero; k++) {
		void *f = record_quality_field(q, k);

		switch (record_quality_keys[k].type) {
		case RECORD_Q_U64:
			*(uint64_t *)f = random_count();
			break;
		case RECORD_Q_BOOL:
			*(bool *)f = rng() % 2;
			break;
		default:
			*(int64_t *)f = random_nonpos();
			break;
		}
	}
}

/* A valid record as a probe could write it, every field random. */
static char *
random_record_json(void)
{
	struct interval_record r;
	char *json;

	record_init(&r);
	snprintf(r.probe, sizeof(r.probe), "probe-%llu",
		 (unsigned long long)(rng() % 1000));
	if (rng() % 10 == 0)
		memset(r.probe, 'p', RECORD_NAME_MAX - 1);    /* longest */
	snprintf(r.session, sizeof(r.session), "s%llu",
		 (unsigned long long)(rng() % 100));
	snprintf(r.src, sizeof(r.src), "192.0.2.%u:862",
		 (unsigned)(rng() % 255));
	snprintf(r.dst, sizeof(r.dst), "[2001:db8::%x]:862",
		 (unsigned)(rng() % 65535));
	uint64_t *counters[] = {
		&r.start_ns, &r.interval_ns, &r.tx_pkts, &r.tx_bytes,
		&r.rx_pkts, &r.rx_bytes, &r.lost, &r.lost_fwd, &r.lost_back,
		&r.reordered, &r.duplicates, &r.late, &r.jitter_ns,
	};
	for (unsigned k = 0; k < sizeof(counters) / sizeof(*counters); k++)
		*counters[k] = random_count();
	r.clock_synced = rng() % 2;
	r.hw_timestamps = rng() % 2;
	r.throughput_bps = random_rate();
	r.throughput_l1_bps = random_rate();
	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++)
		if (rng() % 5 != 0)
			random_hist(&r, i);
	record_summarise(&r);
	/* a summary without its histogram */
	if (r.hist[RECORD_HIST_IPDV] == NULL && rng() % 2) {
		r.ipdv.present = true;
		r.ipdv.min = 1;
		r.ipdv.mean = r.ipdv.p50 = r.ipdv.p90 = 5;
		r.ipdv.p99 = r.ipdv.p999 = r.ipdv.max = (uint64_t)INT64_MAX;
	}
	r.n_drops = (unsigned)(rng() % (RECORD_MAX_DROPS + 1));
	for (unsigned k = 0; k < r.n_drops; k++) {
		snprintf(r.drops[k].name, sizeof(r.drops[k].name), "drop_%u",
			 k);
		if (k == 3)
			memset(r.drops[k].name, 'd',
			       sizeof(r.drops[k].name) - 1);
		r.drops[k].value = random_count();
	}
	if (rng() % 3 != 0)
		random_quality(&r.q);
	json = record_to_json(&r);
	assert_non_null(json);
	record_free(&r);
	return json;
}

static void
test_one_pass_equals_dom_on_valid_records(void **state)
{
	(void)state;
	struct record_parser *p = record_parser_new();
	uint64_t n_onepass, n_dom;

	assert_non_null(p);
	for (int it = 0; it < 1500; it++) {
		char *json = random_record_json();
		assert_int_equal(expect_decoders_agree(p, json, strlen(json)),
				 0);
		free(json);
	}
	/* Every one of them took the one-pass path. */
	record_parser_counts(p, &n_onepass, &n_dom);
	assert_int_equal(n_onepass, 1500);
	assert_int_equal(n_dom, 0);
	record_parser_free(p);
}

/* Replaces [at, at + n) of s (NUL-terminated, malloc'd) with text. */
static char *
splice(char *s, size_t at, size_t n, const char *text)
{
	size_t len = strlen(s), tl = strlen(text);
	char *o = malloc(len - n + tl + 1);

	assert_non_null(o);
	memcpy(o, s, at);
	memcpy(o + at, text, tl);
	memcpy(o + at + tl, s + at + n, len - at - n + 1);
	free(s);
	return o;
}

/* Offset of a random occurrence of c in s, or -1. */
static long
random_at(const char *s, char c)
{
	size_t len = strlen(s), start = (size_t)(rng() % (len + 1));

	for (size_t k = 0; k < len && len > 0; k++) {
		size_t i = (start + k) % len;
		if (s[i] == c)
			return (long)i;
	}
	return -1;
}

/* One random edit of a line: what a broken, hostile or future producer
 * might send. */
static char *
damage(char *s)
{
	static const char *const values[] = {
		"0", "-0", "-1", "01", "1.0", "1e3", "1E+3", "0.5e-2", "-0.0",
		"1e400", "-1e400", "1e-400", "9223372036854775807",
		"9223372036854775808", "18446744073709551616",
		"12345678901234567890123", "true", "false", "null", "\"x\"",
		"\"\"", "{}", "[]", "[1]", "{\"a\":1}", "{\"a\":{\"b\":[]}}",
		"{\"min\":1,\"mean\":1,\"p50\":1,\"p90\":1,\"p99\":1,"
		"\"p999\":1,\"max\":1}",
		"{\"min\":2,\"mean\":1,\"p50\":1,\"p90\":1,\"p99\":1,"
		"\"p999\":1,\"max\":1}",
		"\"AQYA\"", "\"AQYB\"", "\"AQY=\"", "\"QUJD\"", "\"\\u0041QYA\"",
		"\"caf\\u00e9\"", "\"caf\xc3\xa9\"", "\"caf\xe9\"",
		"\"a\\u0000b\"", "\"\\ud800\"", "\"\\/\"", "1.5", "2e2",
		"0.0000000000000000000000001", "123456789012345678",
		"-5", "-01", "-9223372036854775807", "-9223372036854775808",
		"-9223372036854775809",
	};
	static const char *const keys[] = {
		"schema", "probe", "lost", "rtt_ns", "min", "p99", "hist",
		"rtt", "ipdv", "drops", "late", "future", "a", "drop_0",
		"hw_timestamps", "throughput_bps", "x\\u0041",
		"owd_fwd_negative_min_ns", "host_loss_suspect", "rtt_error_ns",
		"clock_steps",
	};
	static const char junk[] =
		"{}[]\",:-+.0123456789eEnulltrfa \\xyz\t\v\f\n\r\x7f\x80\xc3";
	size_t len = strlen(s);
	char text[256];
	long at;

	if (len == 0)
		return s;
	switch (rng() % 9) {
	case 0:                                  /* a byte replaced */
		s[rng() % len] = junk[rng() % (sizeof(junk) - 1)];
		return s;
	case 1: {                                /* bytes cut out */
		size_t i = (size_t)(rng() % len);
		size_t n = 1 + (size_t)(rng() % 8);
		if (i + n > len)
			n = len - i;
		return splice(s, i, n, "");
	}
	case 2:                                  /* a byte put in */
		text[0] = junk[rng() % (sizeof(junk) - 1)];
		text[1] = '\0';
		return splice(s, (size_t)(rng() % (len + 1)), 0, text);
	case 3:                                  /* a value replaced */
	case 4: {
		at = random_at(s, ':');
		if (at < 0)
			return s;
		size_t i = (size_t)at + 1, j = i;
		if (s[j] == '"') {
			j++;
			while (j < len && s[j] != '"')
				j++;
			if (j < len)
				j++;
		} else if (s[j] == '{') {
			while (j < len && s[j] != '}')
				j++;
			if (j < len)
				j++;
		} else {
			while (j < len && s[j] != ',' && s[j] != '}')
				j++;
		}
		return splice(s, i, j - i,
			      values[rng() % (sizeof(values) /
					      sizeof(values[0]))]);
	}
	case 5:                                  /* a key added */
		at = random_at(s, rng() % 2 ? '{' : ',');
		if (at < 0)
			return s;
		snprintf(text, sizeof(text), "\"%s\":%s,",
			 keys[rng() % (sizeof(keys) / sizeof(keys[0]))],
			 values[rng() % (sizeof(values) / sizeof(values[0]))]);
		if (s[at] == ',')
			snprintf(text, sizeof(text), ",\"%s\":%s",
				 keys[rng() % (sizeof(keys) / sizeof(keys[0]))],
				 values[rng() % (sizeof(values) /
						 sizeof(values[0]))]);
		return splice(s, (size_t)at + 1 - (s[at] == ','), 0, text);
	case 6: {                                /* a character escaped */
		size_t i = (size_t)(rng() % len);
		if (s[i] < 'a' || s[i] > 'z')
			return s;
		snprintf(text, sizeof(text), "\\u%04x", (unsigned)s[i]);
		return splice(s, i, 1, text);
	}
	case 7:                                  /* whitespace */
		snprintf(text, sizeof(text), "%s",
			 (const char *[]){ " ", "  ", "\t", "\n", "\r\n",
					   "\v", "\f" }[rng() % 7]);
		at = random_at(s, rng() % 2 ? ':' : ',');
		return splice(s, at < 0 ? len : (size_t)at + 1, 0, text);
	default:                                 /* cut short */
		s[rng() % len] = '\0';
		return s;
	}
}

/*
 * Damaged lines through both decoders and a parser that is reused all
 * along (its buffers must come back clean after every failure): the
 * same verdict and message, the same record when accepted. Run under
 * ASan/UBSan too.
 */
static void
test_one_pass_equals_dom_on_damaged_records(void **state)
{
	(void)state;
	struct record_parser *p = record_parser_new();
	unsigned accepted = 0, rejected = 0;
	uint64_t n_onepass, n_dom;

	assert_non_null(p);
	for (int it = 0; it < 6000; it++) {
		char *json = random_record_json();
		unsigned edits = 1 + (unsigned)(rng() % 3);
		for (unsigned e = 0; e < edits; e++)
			json = damage(json);
		/* lengths are honoured: sometimes a line is given short */
		size_t len = strlen(json);
		if (it % 13 == 0 && len > 0)
			len = (size_t)(rng() % len);
		if (expect_decoders_agree(p, json, len) == 0)
			accepted++;
		else
			rejected++;
		free(json);
	}
	record_parser_counts(p, &n_onepass, &n_dom);
	/* Both sides were exercised: damage that is harmless (a key the
	 * schema ignores, a digit for a digit) and damage that is not;
	 * lines the one-pass decoder took and lines it left. */
	assert_true(accepted > 300);
	assert_true(rejected > 3000);
	assert_true(n_onepass > 300);
	assert_true(n_dom >= rejected);
	record_parser_free(p);
}

/* Hand-picked lines on the border of what the one-pass decoder takes. */
static void
test_one_pass_equals_dom_on_edge_cases(void **state)
{
	(void)state;
	struct record_parser *p = record_parser_new();
	char *json = valid_json();
	size_t len = strlen(json);
	static const struct {
		const char *find, *replace;
	} edits[] = {
		{ "\"lost\":3", "\"lost\":-0" },
		{ "\"lost\":3", "\"lost\":9223372036854775807" },
		{ "\"lost\":3", "\"lost\":9223372036854775808" },
		{ "\"lost\":3", "\"lost\":3.0" },
		{ "\"lost\":3", "\"lost\":03" },
		{ "\"lost\":3", "\"lost\":3 " },
		{ "\"lost\":3", "\"lost\" : 3" },
		{ "\"lost\":3", "\"lost\":\t3" },
		{ "\"lost\":3", "\"lost\":\v3" },
		{ "\"lost\":3", "\"lost\":3,\"lost\":3" },
		{ "\"lost\":3", "\"lost\":3,\"x\":1,\"x\":2" },
		{ "\"lost\":3", "\"lost\":3,\"x\":1,\"y\":2" },
		{ "\"lost\":3", "\"lost\":3,\"x\":{\"y\":1}" },
		{ "\"lost\":3", "\"lost\":3,\"x\":[1,2]" },
		{ "\"lost\":3", "\"lost\":3,\"x\":-1e400" },
		{ "\"lost\":3", "\"lost\":3,\"x\":1e-400" },
		{ "\"lost\":3", "\"lost\":3,\"x\":-5" },
		{ "\"lost\":3", "\"lost\":3,\"a\":1,\"b\":1,\"c\":1,\"d\":1,"
		  "\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"i\":1" },
		{ "\"late\":1", "\"late\":null" },
		{ "\"drops\":{", "\"drops\":null,\"d\":{" },
		{ "\"drops\":{", "\"drops\":{\"\":1," },
		{ "\"drops\":{", "\"drops\":{\"bad_stamp\":1," },
		{ "\"drops\":{", "\"drops\":{\"a\":1,\"b\":1,\"c\":1,\"d\":1,"
		  "\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"i\":1,\"j\":1,\"k\":1,"
		  "\"l\":1,\"m\":1,\"n\":1," },
		{ "\"drops\":{", "\"drops\":{\"a\":1,\"b\":1,\"c\":1,\"d\":1,"
		  "\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"i\":1,\"j\":1,\"k\":1,"
		  "\"l\":1,\"m\":1,\"n\":1,\"o\":1," },
		{ "\"drops\":{", "\"drops\":{\"0123456789012345678901234567890\""
		  ":1," },
		{ "\"drops\":{", "\"drops\":{\"01234567890123456789012345678901\""
		  ":1," },
		{ "\"rtt_ns\":{", "\"rtt_ns\":{\"extra\":1," },
		{ "\"rtt_ns\":{", "\"rtt_ns\":{\"min\":1," },
		{ "\"hist\":{", "\"hist\":{\"extra\":\"x\"," },
		{ "\"hist\":{", "\"hist\":{\"rtt\":null," },
		{ "\"throughput_bps\":", "\"throughput_bps\":1e308,\"y\":" },
		{ "\"throughput_bps\":", "\"throughput_bps\":-0.0,\"y\":" },
		{ "\"throughput_bps\":", "\"throughput_bps\":7,\"y\":" },
		{ "\"throughput_bps\":", "\"throughput_bps\":1e-320,\"y\":" },
		{ "\"probe\":\"centre-a\"", "\"probe\":\"centre\\u002da\"" },
		{ "\"probe\":\"centre-a\"", "\"probe\":\"centr\xc3\xa9-a\"" },
		{ "\"probe\":\"centre-a\"", "\"probe\":\"centre\x7f\"" },
		{ "\"schema\":\"metroprobe.interval.v1\"",
		  "\"schema\":\"metroprobe.interval.v2\"" },
		{ "{\"schema\"", " {\"schema\"" },
	};

	assert_non_null(p);
	for (size_t k = 0; k < sizeof(edits) / sizeof(edits[0]); k++) {
		const char *at = strstr(json, edits[k].find);
		char line[8192];

		assert_non_null(at);
		size_t pre = (size_t)(at - json), fl = strlen(edits[k].find);
		int n = snprintf(line, sizeof(line), "%.*s%s%s", (int)pre, json,
				 edits[k].replace, json + pre + fl);
		assert_true(n > 0 && (size_t)n < sizeof(line));
		expect_decoders_agree(p, line, (size_t)n);
	}
	/* Tokens on the border of the JSON grammar, as the value of a key
	 * the record ignores, in an otherwise valid line: only the value
	 * decides. */
	static const char *const tokens[] = {
		"1", "1.", ".5", "-", "1e", "1e+", "+1", "01", "-01", "01.5",
		"-01.5", "00", "0.5", "-0.5", "1.5e3",
		"1.5E-3", "-0", "0.0", "tru", "nul", "falsey", "true", "null",
		"\"open", "\"\"", "{", "}", "{}", "[", "1 2", "1,", "\"a\" \"b\"",
		"123456789012345678", "1234567890123456789",
		"12345678901234567890",
	};
	char line[8192];
	for (size_t k = 0; k < sizeof(tokens) / sizeof(tokens[0]); k++) {
		int n = snprintf(line, sizeof(line), "{\"x\" : %s ,%s",
				 tokens[k], json + 1);
		assert_true(n > 0 && (size_t)n < sizeof(line));
		expect_decoders_agree(p, line, (size_t)n);
	}
	static const char *const lines[] = {
		"", " ", "{", "}", "{}", "{ }", "[]", "{,}", "{\"a\":1,}",
		"{\"a\" 1}", "{\"a\":}", "{a:1}", "{\"a\":1}}", "{\"a\":\"x}",
		"\"x\"", "1", "true", "null",
	};
	for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++)
		assert_int_equal(expect_decoders_agree(p, lines[k],
						       strlen(lines[k])),
				 -EINVAL);
	/* trailing white space, and a line followed by junk */
	snprintf(line, sizeof(line), "%s  ", json);
	assert_int_equal(expect_decoders_agree(p, line, len + 2), 0);
	snprintf(line, sizeof(line), "%s x", json);
	assert_int_equal(expect_decoders_agree(p, line, len + 2), -EINVAL);
	snprintf(line, sizeof(line), "%s%s", json, json);
	assert_int_equal(expect_decoders_agree(p, line, 2 * len), -EINVAL);
	free(json);
	record_parser_free(p);
}

/* A valid line with every quality key (quality_fill). */
static char *
valid_quality_json(void)
{
	struct interval_record r;

	record_fill(&r, "a-to-b", 1795000000000000000ULL, 20, 1000000, true);
	for (int i = 0; i < 20; i++)
		add_sample(&r, NULL, 1000000);
	record_summarise(&r);
	quality_fill(&r.q, 0);
	char *json = record_to_json(&r);
	record_free(&r);
	return json;
}

/* The quality keys on the border of what the one-pass decoder takes:
 * signs, forms of zero, the int64 ends, wrong types, duplicates. */
static void
test_one_pass_equals_dom_on_quality_edge_cases(void **state)
{
	(void)state;
	struct record_parser *p = record_parser_new();
	char *json = valid_quality_json();
	uint64_t n_onepass, n_dom;
	static const struct {
		const char *find, *replace;
		int rc;
	} edits[] = {
		{ "\"owd_fwd_negative_min_ns\":-1200",
		  "\"owd_fwd_negative_min_ns\":-0", 0 },
		{ "\"owd_fwd_negative_min_ns\":-1200",
		  "\"owd_fwd_negative_min_ns\":0", 0 },
		{ "\"owd_fwd_negative_min_ns\":-1200",
		  "\"owd_fwd_negative_min_ns\":5", -EINVAL },
		{ "\"owd_fwd_negative_min_ns\":-1200",
		  "\"owd_fwd_negative_min_ns\":-01200", -EINVAL },
		{ "\"owd_fwd_negative_min_ns\":-1200",
		  "\"owd_fwd_negative_min_ns\":-1200.0", -EINVAL },
		{ "\"owd_fwd_negative_min_ns\":-1200",
		  "\"owd_fwd_negative_min_ns\":-1.2e3", -EINVAL },
		{ "\"owd_fwd_negative_min_ns\":-1200",
		  "\"owd_fwd_negative_min_ns\":-9223372036854775807", 0 },
		{ "\"owd_fwd_negative_min_ns\":-1200",
		  "\"owd_fwd_negative_min_ns\":-9223372036854775808", 0 },
		{ "\"owd_fwd_negative_min_ns\":-1200",
		  "\"owd_fwd_negative_min_ns\":-9223372036854775809", -EINVAL },
		{ "\"owd_fwd_negative_min_ns\":-1200",
		  "\"owd_fwd_negative_min_ns\":null", -EINVAL },
		{ "\"owd_fwd_negative_min_ns\":-1200",
		  "\"owd_fwd_negative_min_ns\":\"-1200\"", -EINVAL },
		{ "\"owd_fwd_negative_min_ns\":-1200",
		  "\"owd_fwd_negative_min_ns\":- 1200", -EINVAL },
		{ "\"host_loss_suspect\":true", "\"host_loss_suspect\":1",
		  -EINVAL },
		{ "\"host_loss_suspect\":true", "\"host_loss_suspect\":null",
		  -EINVAL },
		{ "\"host_loss_suspect\":true",
		  "\"host_loss_suspect\":\"true\"", -EINVAL },
		{ "\"host_loss_suspect\":true",
		  "\"host_loss_suspect\": false", 0 },
		{ "\"clock_steps\":1", "\"clock_steps\":-1", -EINVAL },
		{ "\"clock_steps\":1", "\"clock_steps\":1.0", -EINVAL },
		{ "\"clock_steps\":1", "\"clock_steps\":-0", 0 },
		{ "\"clock_steps\":1", "\"clock_steps\":1,\"clock_steps\":1",
		  -EINVAL },
		{ "\"host_imissed\":17",
		  "\"host_imissed\":9223372036854775808", -EINVAL },
		{ "\"host_imissed\":17", "\"host_imissed\":{}", -EINVAL },
		{ "\"host_imissed\":17", "\"host_imissed\":[17]", -EINVAL },
		/* out of the writer's order: still one pass */
		{ "\"ts_rx_error_ns\":2000,", "", 0 },
		{ "\"drops\":{", "\"ts_rx_error_ns\":1,\"drops\":{", -EINVAL },
	};

	assert_non_null(p);
	/* the line as the probe writes it takes the one-pass path */
	assert_int_equal(expect_decoders_agree(p, json, strlen(json)), 0);
	record_parser_counts(p, &n_onepass, &n_dom);
	assert_int_equal(n_onepass, 1);
	for (size_t k = 0; k < sizeof(edits) / sizeof(edits[0]); k++) {
		const char *at = strstr(json, edits[k].find);
		char line[8192];

		assert_non_null(at);
		size_t pre = (size_t)(at - json), fl = strlen(edits[k].find);
		int n = snprintf(line, sizeof(line), "%.*s%s%s", (int)pre, json,
				 edits[k].replace, json + pre + fl);
		assert_true(n > 0 && (size_t)n < sizeof(line));
		if (expect_decoders_agree(p, line, (size_t)n) != edits[k].rc)
			fail_msg("'%s': not %d", edits[k].replace,
				 edits[k].rc);
	}
	free(json);
	record_parser_free(p);
}

/* The bucket list of a histogram, walked from its buckets: what the
 * serialised form and the collector's stored form hold. */
static size_t
walk_pairs(const struct hist *h, uint8_t *out, uint64_t *n)
{
	size_t len = 0;
	uint32_t next = 0;

	*n = 0;
	for (uint32_t i = 0; i < HIST_NBUCKETS; i++) {
		uint64_t v[2] = { i - next, h->buckets[i] };
		if (h->buckets[i] == 0)
			continue;
		for (int k = 0; k < 2; k++) {
			while (v[k] >= 0x80) {
				out[len++] = (uint8_t)(v[k] | 0x80);
				v[k] >>= 7;
			}
			out[len++] = (uint8_t)v[k];
		}
		next = i + 1;
		(*n)++;
	}
	return len;
}

static void
test_parser_keeps_bucket_lists(void **state)
{
	(void)state;
	struct record_parser *p = record_parser_new();
	static uint8_t want[HIST_NBUCKETS * 20];

	assert_non_null(p);
	for (int it = 0; it < 300; it++) {
		char *json = random_record_json();
		struct interval_record r, own;
		struct hist_pairs pairs;
		char err[256];
		uint64_t n;

		assert_int_equal(record_parse_json(p, json, strlen(json), &r, err,
						   sizeof(err)), 0);
		assert_int_equal(record_from_json(json, strlen(json), &own, err,
						  sizeof(err)), 0);
		for (unsigned i = 0; i < RECORD_HIST_COUNT; i++) {
			/* allocated histograms keep no list */
			assert_int_equal(record_hist_pairs(&own, i, &pairs),
					 -ENOENT);
			if (r.hist[i] == NULL) {
				assert_int_equal(record_hist_pairs(&r, i,
								   &pairs),
						 -ENOENT);
				continue;
			}
			assert_int_equal(record_hist_pairs(&r, i, &pairs), 0);
			size_t len = walk_pairs(r.hist[i], want, &n);
			assert_int_equal(pairs.n, n);
			assert_int_equal(pairs.len, len);
			if (len > 0)
				assert_memory_equal(pairs.data, want, len);
		}
		record_free(&own);
		record_free(&r);
		free(json);
	}
	/* a line the DOM decoder took: no lists either */
	char *json = valid_json();
	char *esc = strstr(json, "centre-a");
	assert_non_null(esc);
	size_t pre = (size_t)(esc - json);
	char line[8192];
	snprintf(line, sizeof(line), "%.*s\\u0063entre-a%s", (int)pre, json,
		 esc + strlen("centre-a"));
	struct interval_record r;
	struct hist_pairs pairs;
	char err[256];
	assert_int_equal(record_parse_json(p, line, strlen(line), &r, err,
					   sizeof(err)), 0);
	assert_string_equal(r.probe, "centre-a");
	assert_int_equal(record_hist_pairs(&r, RECORD_HIST_RTT, &pairs),
			 -ENOENT);
	record_free(&r);
	free(json);
	record_parser_free(p);
}

/* The parser's buffers: a wide histogram then a narrow one leave no
 * bucket of the first behind (only the used range is zeroed). */
static void
test_parser_reuses_histograms_cleanly(void **state)
{
	(void)state;
	struct record_parser *p = record_parser_new();
	struct interval_record r, wide, narrow;
	char err[256];

	record_fill(&wide, "w", 1, 1000, 1000000, true);
	for (int i = 0; i < 1000; i++)
		hist_insert(wide.hist[RECORD_HIST_RTT], 1 + rng() % 90000000000ULL);
	record_summarise(&wide);
	record_fill(&narrow, "n", 2, 10, 1000, true);
	for (int i = 0; i < 10; i++)
		add_sample(&narrow, NULL, 1000);
	record_summarise(&narrow);
	char *jw = record_to_json(&wide), *jn = record_to_json(&narrow);

	assert_int_equal(record_parse_json(p, jw, strlen(jw), &r, err,
					   sizeof(err)), 0);
	assert_int_equal(r.hist_owned, 0);
	assert_memory_equal(r.hist[RECORD_HIST_RTT], wide.hist[RECORD_HIST_RTT],
			    sizeof(struct hist));
	record_free(&r);
	/* a bad line in between, failing inside a histogram */
	char *bad = strdup(jw);
	char *h = strstr(bad, "\"ipdv\":\"");
	assert_non_null(h);
	h[strlen("\"ipdv\":\"") + 3] = '!';
	assert_int_equal(record_parse_json(p, bad, strlen(bad), &r, err,
					   sizeof(err)), -EINVAL);
	assert_string_equal(err, "key 'hist.ipdv': not a valid serialised "
			    "histogram");
	assert_int_equal(record_parse_json(p, jn, strlen(jn), &r, err,
					   sizeof(err)), 0);
	expect_records_equal(&narrow, &r);
	record_free(&r);
	free(bad);
	free(jw);
	free(jn);
	record_free(&wide);
	record_free(&narrow);
	record_parser_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_from_hist_by_hand),
		cmocka_unit_test(test_full_record_round_trips),
		cmocka_unit_test(test_unsynced_record_has_null_one_way_delays),
		cmocka_unit_test(test_producer_histograms_are_not_freed),
		cmocka_unit_test(
			test_quality_keys_are_written_after_drops_when_stated),
		cmocka_unit_test(test_quality_of_one_key_and_clamped_values),
		cmocka_unit_test(test_each_bad_value_is_named),
		cmocka_unit_test(test_each_missing_required_key_is_named),
		cmocka_unit_test(test_not_a_record_is_rejected),
		cmocka_unit_test(test_unknown_keys_are_tolerated),
		cmocka_unit_test(test_damaged_lines_never_crash),
		cmocka_unit_test(test_merge_equals_record_of_union),
		cmocka_unit_test(test_merge_with_unsynced_interval),
		cmocka_unit_test(test_merge_of_summaries_without_histograms),
		cmocka_unit_test(test_merge_hists_only_then_finish_equals_merge),
		cmocka_unit_test(test_merge_of_quality_by_hand),
		cmocka_unit_test(
			test_merge_of_quality_only_over_records_that_state_it),
		cmocka_unit_test(
			test_merge_keeps_drop_totals_when_names_overflow),
		cmocka_unit_test(test_one_pass_equals_dom_on_valid_records),
		cmocka_unit_test(test_one_pass_equals_dom_on_damaged_records),
		cmocka_unit_test(test_one_pass_equals_dom_on_edge_cases),
		cmocka_unit_test(
			test_one_pass_equals_dom_on_quality_edge_cases),
		cmocka_unit_test(test_parser_reuses_histograms_cleanly),
		cmocka_unit_test(test_parser_keeps_bucket_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
