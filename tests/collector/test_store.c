/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SQLite back-end of store.h against a real database file:
 * idempotent inserts, all-or-nothing transactions, rollups that equal an
 * exact merge of the raw histograms (also after a late record), retention,
 * reopening, refusing a damaged or newer database, the compact stored
 * form (every field kept) and reading the JSON rows of older stores,
 * measurement-quality figures kept and merged into the rollups, a
 * store of schema version 2 migrated, an overlong varint in a stored
 * row refused as damage; and the defaults store_init gives a back-end
 * without the optional operations.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "collector_config.h"
#include "metroprobe/hist.h"
#include "metroprobe/leb128.h"
#include "metroprobe/record.h"
#include "store.h"
#include "store_codec.h"
#include "store_sqlite.h"

#define NS  1000000000ULL
#define T0  1764000000000000000ULL     /* 2025-11-24T16:00:00Z: on the hour */
#define MIN STORE_RES_MINUTE
#define HOUR STORE_RES_HOUR

static char dir[64];
static char db_path[128];

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* A record with RTT and IPDV histograms of n random delays. */
static void
make_record(struct interval_record *r, const char *probe,
	    const char *session, uint64_t start_ns, uint64_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 7;
	unsigned i, n = 20 + (unsigned)(rnd(&s) % 50);

	record_init(r);
	snprintf(r->probe, sizeof(r->probe), "%s", probe);
	snprintf(r->session, sizeof(r->session), "%s", session);
	snprintf(r->src, sizeof(r->src), "192.0.2.1:862");
	snprintf(r->dst, sizeof(r->dst), "192.0.2.2:862");
	r->start_ns = start_ns;
	r->interval_ns = 10 * NS;
	r->tx_pkts = n + 1;
	r->rx_pkts = n;
	r->lost = 1;
	r->tx_bytes = r->tx_pkts * 100;
	r->rx_bytes = n * 100;
	r->throughput_bps = (double)r->rx_bytes * 8 / 10;
	r->hist[RECORD_HIST_RTT] = malloc(sizeof(struct hist));
	r->hist[RECORD_HIST_IPDV] = malloc(sizeof(struct hist));
	assert_non_null(r->hist[RECORD_HIST_RTT]);
	assert_non_null(r->hist[RECORD_HIST_IPDV]);
	r->hist_owned = 1u << RECORD_HIST_RTT | 1u << RECORD_HIST_IPDV;
	hist_init(r->hist[RECORD_HIST_RTT]);
	hist_init(r->hist[RECORD_HIST_IPDV]);
	for (i = 0; i < n; i++) {
		/* Wide spread, so percentiles of different minutes differ. */
		uint64_t d = 100000 + rnd(&s) % (1000000 + seed % 7 * 300000);

		hist_insert(r->hist[RECORD_HIST_RTT], d);
		hist_insert(r->hist[RECORD_HIST_IPDV], d / 10);
	}
	delay_summary_from_hist(&r->rtt, r->hist[RECORD_HIST_RTT]);
	delay_summary_from_hist(&r->ipdv, r->hist[RECORD_HIST_IPDV]);
}

static struct store *
open_store(const struct store_retention *ret)
{
	struct store *st = NULL;
	char err[512];
	int rc;

	rc = store_sqlite_open(db_path, ret, &st, err, sizeof(err));
	if (rc < 0)
		fail_msg("store_sqlite_open: %s", err);
	return st;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mpcoll-store-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(db_path, sizeof(db_path), "%s/test.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- scan helpers ------------------------------------------------ */

struct collected {
	size_t n;
	uint64_t start[4096];
	char session[4096][RECORD_NAME_MAX];
	uint64_t rtt_count[4096];
	char *json[4096];
	struct record_quality q[4096];
};

static int
collect(const struct interval_record *r, void *arg)
{
	struct collected *c = arg;

	if (c->n == 4096)
		return -ENOSPC;
	c->start[c->n] = r->start_ns;
	snprintf(c->session[c->n], sizeof(c->session[c->n]), "%s", r->session);
	c->rtt_count[c->n] = r->hist[RECORD_HIST_RTT] != NULL ?
		r->hist[RECORD_HIST_RTT]->count : 0;
	c->json[c->n] = record_to_json(r);
	c->q[c->n] = r->q;
	c->n++;
	return 0;
}

static void
collected_free(struct collected *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->json[i]);
	c->n = 0;
}

static void
scan_all(struct store *st, uint64_t res, struct collected *c)
{
	struct store_query q = {
		.from_ns = 0, .to_ns = UINT64_MAX, .resolution_ns = res,
	};

	c->n = 0;
	assert_int_equal(store_scan(st, &q, collect, c), 0);
}

static size_t
insert(struct store *st, struct interval_record *recs, size_t n,
       size_t *n_dup)
{
	size_t n_new = 0;
	char err[256];

	if (store_insert(st, recs, n, &n_new, n_dup, err, sizeof(err)) < 0)
		fail_msg("store_insert: %s", err);
	return n_new;
}

/* ---- tests ------------------------------------------------------- */

static void
same_record_twice_is_stored_once(void **state)
{
	struct interval_record recs[15];
	struct collected *c = calloc(1, sizeof(*c));
	struct store *st = open_store(NULL);
	size_t dup = 99, i;

	(void)state;
	for (i = 0; i < 15; i++)
		make_record(&recs[i], "p1", i % 2 ? "s-b" : "s-a",
			    T0 + i * 10 * NS, i);
	assert_int_equal(insert(st, recs, 10, &dup), 10);
	assert_int_equal(dup, 0);
	/* The first 10 again plus 5 new: 5 new, 10 duplicates. */
	assert_int_equal(insert(st, recs, 15, &dup), 5);
	assert_int_equal(dup, 10);
	/* A duplicate inside one request counts as a duplicate. */
	assert_int_equal(insert(st, &recs[14], 1, &dup), 0);
	assert_int_equal(dup, 1);

	scan_all(st, STORE_RES_RAW, c);
	assert_int_equal(c->n, 15);
	/* Ordered by (probe, session, start_ns). */
	for (i = 1; i < c->n; i++) {
		int cmp = strcmp(c->session[i - 1], c->session[i]);

		assert_true(cmp < 0 || (cmp == 0 && c->start[i - 1] <
					c->start[i]));
	}
	assert_string_equal(c->session[0], "s-a");
	collected_free(c);

	/* Filters: one session, a time window. */
	{
		struct store_query q = {
			.from_ns = T0 + 20 * NS, .to_ns = T0 + 80 * NS,
			.session = "s-b", .resolution_ns = STORE_RES_RAW,
		};

		assert_int_equal(store_scan(st, &q, collect, c), 0);
		/* s-b holds odd i: starts 30, 50, 70 s in [20, 80). */
		assert_int_equal(c->n, 3);
		assert_int_equal(c->start[0], T0 + 30 * NS);
		collected_free(c);
	}
	for (i = 0; i < 15; i++)
		record_free(&recs[i]);
	store_close(st);
	free(c);
}

struct failing_source {
	int calls;
	int fail_at;
};

static int
failing_next(struct interval_record *r, void *arg)
{
	struct failing_source *f = arg;

	if (++f->calls == f->fail_at)
		return -EINVAL;
	make_record(r, "p1", "s", T0 + (uint64_t)f->calls * 10 * NS,
		    (uint64_t)f->calls);
	return 1;
}

static void
a_failing_stream_stores_nothing(void **state)
{
	struct failing_source f = { 0, 4 };
	struct collected *c = calloc(1, sizeof(*c));
	struct store *st = open_store(NULL);
	size_t n_new = 7, n_dup = 7;
	char err[256];

	(void)state;
	assert_int_equal(store_insert_stream(st, failing_next, &f, &n_new,
					     &n_dup, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(f.calls, 4);
	assert_int_equal(n_new, 0);
	scan_all(st, STORE_RES_RAW, c);
	assert_int_equal(c->n, 0);
	/* Nothing pending either: maintain builds no rollup. */
	assert_int_equal(store_maintain(st, T0 + 10 * HOUR), 0);
	scan_all(st, STORE_RES_MINUTE, c);
	assert_int_equal(c->n, 0);
	store_close(st);
	free(c);
}

/* Raw records: 2 links, every 10 s over 2 hours (720 per link). */
#define N_PER_LINK 720

struct raw_set {
	struct interval_record recs[2 * N_PER_LINK];
	size_t n;
};

static void
raw_set_make(struct raw_set *s)
{
	size_t i;

	s->n = 2 * N_PER_LINK;
	for (i = 0; i < N_PER_LINK; i++) {
		make_record(&s->recs[i], "p1", "s-a", T0 + i * 10 * NS, i);
		make_record(&s->recs[N_PER_LINK + i], "p1", "s-b",
			    T0 + i * 10 * NS, 100000 + i);
		/* s-a states its quality in most minutes, s-b never */
		if (i % 13 < 9) {
			struct record_quality *q = &s->recs[i].q;

			q->present = true;
			q->rtt_error_ns = 1000 + i % 17 * 100;
			q->owd_error_ns = 50000 + i % 5 * 1000;
			q->host_loss_suspect = i % 29 == 0;
			q->host_imissed = i % 29 == 0 ? 3 : 0;
		}
	}
}

static void
raw_set_free(struct raw_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		record_free(&s->recs[i]);
}

/* Exact merge of the raw RTT histograms of one link in [from, to). */
static void
merge_raw(const struct raw_set *s, const char *session, uint64_t from,
	  uint64_t to, struct hist *out)
{
	size_t i;

	hist_init(out);
	for (i = 0; i < s->n; i++)
		if (strcmp(s->recs[i].session, session) == 0 &&
		    s->recs[i].start_ns >= from && s->recs[i].start_ns < to)
			hist_merge(out, s->recs[i].hist[RECORD_HIST_RTT]);
}

struct rollup_check {
	const struct raw_set *raw;
	uint64_t width;
	size_t checked;
};

static int
check_rollup(const struct interval_record *r, void *arg)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999, 0.0, 1.0 };
	struct rollup_check *rc = arg;
	const struct hist *got = r->hist[RECORD_HIST_RTT];
	struct hist *want = malloc(sizeof(*want));
	size_t i;

	assert_non_null(want);
	assert_non_null(got);
	assert_int_equal(r->start_ns % rc->width, 0);
	assert_int_equal(r->interval_ns, rc->width);
	merge_raw(rc->raw, r->session, r->start_ns, r->start_ns + rc->width,
		  want);
	assert_true(want->count > 0);
	assert_int_equal(got->count, want->count);
	assert_int_equal(got->sum, want->sum);
	assert_int_equal(got->min, want->min);
	assert_int_equal(got->max, want->max);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		assert_int_equal(hist_quantile(got, qs[i]),
				 hist_quantile(want, qs[i]));
	/* The summary carried in the record is the merged one too. */
	assert_int_equal(r->rtt.p99, hist_quantile(want, 0.99));
	assert_int_equal(r->rtt.p50, hist_quantile(want, 0.5));
	assert_memory_equal(got->buckets, want->buckets, sizeof(got->buckets));
	free(want);
	rc->checked++;
	return 0;
}

static void
check_level(struct store *st, const struct raw_set *raw, uint64_t width,
	    size_t expect)
{
	struct store_query q = {
		.from_ns = 0, .to_ns = UINT64_MAX, .resolution_ns = width,
	};
	struct rollup_check rc = { raw, width, 0 };

	assert_int_equal(store_scan(st, &q, check_rollup, &rc), 0);
	assert_int_equal(rc.checked, expect);
}

static void
rollups_equal_an_exact_merge_of_raw_records(void **state)
{
	struct raw_set *raw = calloc(1, sizeof(*raw));
	struct collected *c = calloc(1, sizeof(*c));
	struct collected *again = calloc(1, sizeof(*again));
	struct store *st = open_store(NULL);
	struct interval_record late;
	size_t dup, i;

	(void)state;
	raw_set_make(raw);
	/* Leave out one record: it arrives late, after the rollups. */
	{
		struct interval_record hold = raw->recs[5];

		memmove(&raw->recs[5], &raw->recs[6],
			(raw->n - 6) * sizeof(raw->recs[0]));
		raw->recs[raw->n - 1] = hold;
	}
	assert_int_equal(insert(st, raw->recs, raw->n - 1, &dup),
			 raw->n - 1);
	raw->n--;                       /* the held record is not stored */
	assert_int_equal(store_maintain(st, T0 + 3 * HOUR), 0);
	check_level(st, raw, MIN, 2 * 120);
	check_level(st, raw, HOUR, 2 * 2);

	/* Maintaining again changes nothing (idempotent). */
	scan_all(st, MIN, c);
	assert_int_equal(store_maintain(st, T0 + 3 * HOUR), 0);
	scan_all(st, MIN, again);
	assert_int_equal(c->n, again->n);
	for (i = 0; i < c->n; i++)
		assert_string_equal(c->json[i], again->json[i]);
	collected_free(c);
	collected_free(again);

	/* The late record (in minute 0 of hour 0 of s-a) rebuilds its
	 * minute and hour. */
	raw->n++;
	late = raw->recs[raw->n - 1];
	assert_int_equal(late.start_ns, T0 + 50 * NS);
	assert_int_equal(insert(st, &late, 1, &dup), 1);
	assert_int_equal(store_maintain(st, T0 + 3 * HOUR), 0);
	check_level(st, raw, MIN, 2 * 120);
	check_level(st, raw, HOUR, 2 * 2);
	{
		struct store_query q = {
			.from_ns = T0, .to_ns = T0 + MIN, .session = "s-a",
			.resolution_ns = MIN,
		};

		assert_int_equal(store_scan(st, &q, collect, c), 0);
		assert_int_equal(c->n, 1);
		assert_int_equal(c->start[0], T0);
		collected_free(c);
	}
	raw_set_free(raw);
	store_close(st);
	free(raw);
	free(c);
	free(again);
}

static void
retention_drops_raw_records_and_keeps_rollups(void **state)
{
	struct store_retention ret = {
		.raw_ns = HOUR, .minute_ns = 30 * 24 * HOUR,
		.hour_ns = 365 * 24 * HOUR,
	};
	struct raw_set *raw = calloc(1, sizeof(*raw));
	struct collected *c = calloc(1, sizeof(*c));
	struct store *st = open_store(&ret);
	struct store_stats stats;
	size_t dup;

	(void)state;
	raw_set_make(raw);
	assert_int_equal(insert(st, raw->recs, raw->n, &dup), raw->n);
	/* now = T0 + 2.5 h: raw records before T0 + 1.5 h go. */
	assert_int_equal(store_maintain(st, T0 + 2 * HOUR + HOUR / 2), 0);
	scan_all(st, STORE_RES_RAW, c);
	assert_int_equal(c->n, 2 * 180);   /* [1.5 h, 2 h) every 10 s */
	assert_true(c->start[0] >= T0 + HOUR + HOUR / 2);
	collected_free(c);
	/* Every rollup is still there and still exact. */
	check_level(st, raw, MIN, 2 * 120);
	check_level(st, raw, HOUR, 2 * 2);
	assert_int_equal(store_stats(st, &stats), 0);
	assert_int_equal(stats.raw_records, 2 * 180);
	assert_int_equal(stats.minute_records, 240);
	assert_int_equal(stats.hour_records, 4);
	assert_true(stats.bytes > 0);

	/* A record older than the raw horizon does not rewrite the rollup
	 * that already holds its minute. */
	{
		struct interval_record old;

		make_record(&old, "p1", "s-a", T0 + 5 * NS, 424242);
		assert_int_equal(insert(st, &old, 1, &dup), 1);
		assert_int_equal(store_maintain(st, T0 + 2 * HOUR + HOUR / 2),
				 0);
		check_level(st, raw, MIN, 2 * 120);
		record_free(&old);
	}
	/* History loaded after retention ran (a link never seen before):
	 * its minutes have no rollup yet, so they are built, then its raw
	 * records go. */
	{
		struct interval_record hist[6];
		struct store_query q = {
			.from_ns = 0, .to_ns = UINT64_MAX, .session = "s-old",
			.resolution_ns = MIN,
		};

		for (size_t i = 0; i < 6; i++)
			make_record(&hist[i], "p1", "s-old", T0 + i * 20 * NS,
				    777 + i);
		assert_int_equal(insert(st, hist, 6, &dup), 6);
		assert_int_equal(store_maintain(st, T0 + 2 * HOUR + HOUR / 2),
				 0);
		assert_int_equal(store_scan(st, &q, collect, c), 0);
		assert_int_equal(c->n, 2);      /* minutes 0 and 1 */
		assert_int_equal(c->rtt_count[0],
				 hist[0].hist[RECORD_HIST_RTT]->count +
				 hist[1].hist[RECORD_HIST_RTT]->count +
				 hist[2].hist[RECORD_HIST_RTT]->count);
		collected_free(c);
		q.resolution_ns = STORE_RES_RAW;
		assert_int_equal(store_scan(st, &q, collect, c), 0);
		assert_int_equal(c->n, 0);
		for (size_t i = 0; i < 6; i++)
			record_free(&hist[i]);
	}
	raw_set_free(raw);
	store_close(st);
	free(raw);
	free(c);
}

static void
data_survives_reopening(void **state)
{
	struct interval_record recs[3];
	struct collected *c = calloc(1, sizeof(*c));
	struct store *st = open_store(NULL);
	sqlite3 *db;
	sqlite3_stmt *q;
	size_t dup, i;

	(void)state;
	for (i = 0; i < 3; i++)
		make_record(&recs[i], "p9", "s", T0 + i * NS, i);
	assert_int_equal(insert(st, recs, 3, &dup), 3);
	store_close(st);

	st = open_store(NULL);
	scan_all(st, STORE_RES_RAW, c);
	assert_int_equal(c->n, 3);
	/* The stored record is the record: encode(decode(x)) == x. */
	{
		char *want = record_to_json(&recs[1]);

		assert_string_equal(c->json[1], want);
		free(want);
	}
	collected_free(c);
	assert_int_equal(insert(st, recs, 3, &dup), 0);
	assert_int_equal(dup, 3);
	store_close(st);

	/* WAL mode and the schema version are on disk. */
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM "
					    "schema_version", -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 3);
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(db);
	for (i = 0; i < 3; i++)
		record_free(&recs[i]);
	free(c);
}

static void
a_newer_schema_is_refused(void **state)
{
	struct store *st = open_store(NULL);
	char err[512] = "";
	sqlite3 *db;

	(void)state;
	store_close(st);
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE schema_version SET "
				      "version = 99", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	st = NULL;
	assert_true(store_sqlite_open(db_path, NULL, &st, err,
				      sizeof(err)) < 0);
	assert_null(st);
	assert_non_null(strstr(err, "schema version 99"));
}

static void
a_damaged_file_is_refused_with_a_clear_error(void **state)
{
	struct interval_record recs[200];
	struct store *st = open_store(NULL);
	char err[512] = "";
	char junk[4096];
	size_t dup, i;
	off_t size;
	int fd;

	(void)state;
	for (i = 0; i < 200; i++)
		make_record(&recs[i], "p1", "s", T0 + i * NS, i);
	assert_int_equal(insert(st, recs, 200, &dup), 200);
	store_close(st);               /* checkpoints the WAL into the file */
	for (i = 0; i < 200; i++)
		record_free(&recs[i]);

	/* Overwrite pages in the middle of the file. */
	fd = open(db_path, O_RDWR);
	assert_true(fd >= 0);
	size = lseek(fd, 0, SEEK_END);
	assert_true(size > 8 * 4096);
	memset(junk, 0x5a, sizeof(junk));
	for (i = 2; i < 6; i++)
		assert_int_equal(pwrite(fd, junk, sizeof(junk),
					(off_t)(i * 4096)), sizeof(junk));
	close(fd);
	st = NULL;
	assert_true(store_sqlite_open(db_path, NULL, &st, err,
				      sizeof(err)) < 0);
	assert_null(st);
	assert_non_null(strstr(err, db_path));
	assert_non_null(strstr(err, "integrity check failed"));

	/* Not a database at all. */
	unlink(db_path);
	fd = open(db_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	assert_true(store_sqlite_open(db_path, NULL, &st, err,
				      sizeof(err)) < 0);
	assert_non_null(strstr(err, "not a database"));
}

/* A record that uses every field of the schema, with the edge values
 * record_to_json clamps. */
static void
make_full_record(struct interval_record *r)
{
	unsigned i;

	make_record(r, "probe-ü", "session/1", T0 + 7, 42);
	r->owd_fwd.present = true;         /* a summary without histogram */
	r->owd_fwd.min = 5;
	r->owd_fwd.mean = r->owd_fwd.p50 = r->owd_fwd.p90 = 6;
	r->owd_fwd.p99 = r->owd_fwd.p999 = r->owd_fwd.max = 7;
	r->hist[RECORD_HIST_OWD_BACK] = malloc(sizeof(struct hist));
	assert_non_null(r->hist[RECORD_HIST_OWD_BACK]);
	r->hist_owned |= 1u << RECORD_HIST_OWD_BACK;
	hist_init(r->hist[RECORD_HIST_OWD_BACK]);   /* present but empty */
	hist_insert(r->hist[RECORD_HIST_RTT], 0);
	hist_insert(r->hist[RECORD_HIST_RTT], HIST_MAX_NS + 5); /* overflow */
	delay_summary_from_hist(&r->rtt, r->hist[RECORD_HIST_RTT]);
	r->late = 3;
	r->reordered = 2;
	r->duplicates = 1;
	r->lost_fwd = 1;
	r->jitter_ns = 1234;
	r->clock_synced = true;
	r->hw_timestamps = true;
	r->duplicates = UINT64_MAX;        /* written as INT64_MAX */
	r->throughput_bps = 1e9 / 3;
	r->throughput_l1_bps = -1.0;       /* written as 0 */
	r->n_drops = RECORD_MAX_DROPS;
	for (i = 0; i < RECORD_MAX_DROPS; i++) {
		snprintf(r->drops[i].name, sizeof(r->drops[i].name),
			 "drop_%u", i);
		r->drops[i].value = i * 1000003ULL;
	}
}

static void
the_stored_form_keeps_every_field(void **state)
{
	struct store_buf b = { NULL, 0, 0 };
	struct interval_record r, back, via_json;
	char *want, *got, why[256];
	size_t n;

	(void)state;
	make_full_record(&r);
	assert_int_equal(store_codec_encode(&b, &r), 0);
	record_init(&back);
	assert_int_equal(store_codec_decode(b.data, b.len, &back, NULL), 0);
	/* what the JSON line would have given */
	want = record_to_json(&r);
	assert_non_null(want);
	record_init(&via_json);
	assert_int_equal(record_from_json(want, strlen(want), &via_json, why,
					  sizeof(why)), 0);
	got = record_to_json(&back);
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(back.hist_owned, via_json.hist_owned);
	assert_int_equal(back.duplicates, INT64_MAX);
	assert_int_equal(back.hist[RECORD_HIST_RTT]->overflow, 1);
	assert_int_equal(back.hist[RECORD_HIST_OWD_BACK]->count, 0);
	assert_int_equal(back.hist[RECORD_HIST_OWD_BACK]->min, UINT64_MAX);
	assert_memory_equal(back.hist[RECORD_HIST_RTT],
			    via_json.hist[RECORD_HIST_RTT], sizeof(struct hist));
	assert_true(back.throughput_bps == r.throughput_bps);
	free(got);
	free(want);
	record_free(&back);
	record_free(&via_json);

	/* Every truncation is refused, never read past the end. */
	for (n = 0; n < b.len; n++) {
		record_init(&back);
		assert_int_equal(store_codec_decode(b.data, n, &back, NULL), -EINVAL);
		assert_null(back.hist[RECORD_HIST_RTT]);
	}
	/* A histogram whose min is off still keeps every bucket. */
	r.hist[RECORD_HIST_IPDV]->min = r.hist[RECORD_HIST_IPDV]->max;
	b.len = 0;
	assert_int_equal(store_codec_encode(&b, &r), 0);
	record_init(&back);
	assert_int_equal(store_codec_decode(b.data, b.len, &back, NULL), 0);
	assert_memory_equal(back.hist[RECORD_HIST_IPDV]->buckets,
			    r.hist[RECORD_HIST_IPDV]->buckets,
			    sizeof(r.hist[RECORD_HIST_IPDV]->buckets));
	record_free(&back);

	/* Decoding into reused slots leaves nothing of the record before:
	 * the full record, then one with other delays, gives the second. */
	{
		struct store_hist_slots *sl = store_hist_slots_new();
		struct interval_record other;
		struct store_buf b2 = { NULL, 0, 0 };

		assert_non_null(sl);
		make_record(&other, "p2", "s2", T0, 99);
		assert_int_equal(store_codec_encode(&b2, &other), 0);
		record_init(&back);
		assert_int_equal(store_codec_decode(b.data, b.len, &back, sl),
				 0);
		assert_int_equal(back.hist_owned, 0);
		record_free(&back);
		assert_int_equal(store_codec_decode(b2.data, b2.len, &back,
						    sl), 0);
		for (n = 0; n < RECORD_HIST_COUNT; n++) {
			if (other.hist[n] == NULL) {
				assert_null(back.hist[n]);
				continue;
			}
			assert_memory_equal(back.hist[n], other.hist[n],
					    sizeof(struct hist));
		}
		record_free(&back);
		record_free(&other);
		store_buf_free(&b2);
		free(sl);
	}

	/* Another version octet is refused. */
	b.data[0] ^= 0x40;
	assert_int_equal(store_codec_decode(b.data, b.len, &back, NULL), -EINVAL);
	store_buf_free(&b);
	record_free(&r);
}

static void
json_rows_of_older_stores_are_read(void **state)
{
	struct interval_record recs[2];
	struct collected *c = calloc(1, sizeof(*c));
	struct store *st = open_store(NULL);
	char *json, *sql;
	sqlite3 *db;
	size_t dup;

	(void)state;
	assert_non_null(c);
	make_record(&recs[0], "p1", "s", T0, 1);
	make_record(&recs[1], "p1", "s", T0 + NS, 2);
	assert_int_equal(insert(st, recs, 1, &dup), 1);
	store_close(st);
	/* a row as the first schema-1 collector wrote it: the JSON line */
	json = record_to_json(&recs[1]);
	assert_non_null(json);
	sql = sqlite3_mprintf("INSERT INTO interval_raw (probe, session,"
			      " start_ns, interval_ns, received_ns, record)"
			      " VALUES ('p1', 's', %lld, %lld, 0, %Q)",
			      (long long)recs[1].start_ns,
			      (long long)recs[1].interval_ns, json);
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	sqlite3_free(sql);

	st = open_store(NULL);
	scan_all(st, STORE_RES_RAW, c);
	assert_int_equal(c->n, 2);
	assert_string_equal(c->json[1], json);
	free(json);
	json = record_to_json(&recs[0]);
	assert_string_equal(c->json[0], json);
	free(json);
	collected_free(c);
	/* and the minute rollup merges both forms */
	assert_int_equal(store_maintain(st, T0 + HOUR), 0);
	scan_all(st, STORE_RES_MINUTE, c);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->rtt_count[0],
			 recs[0].hist[RECORD_HIST_RTT]->count +
			 recs[1].hist[RECORD_HIST_RTT]->count);
	collected_free(c);
	store_close(st);

	/* A damaged stored record is a clear error, not a crash. */
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE interval_raw SET record ="
				      " x'0102' WHERE start_ns = (SELECT"
				      " min(start_ns) FROM interval_raw)",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	st = open_store(NULL);
	{
		struct store_query q = {
			.from_ns = 0, .to_ns = UINT64_MAX,
			.resolution_ns = STORE_RES_RAW,
		};

		assert_int_equal(store_scan(st, &q, collect, c), -EIO);
	}
	collected_free(c);
	store_close(st);
	record_free(&recs[0]);
	record_free(&recs[1]);
	free(c);
}

static void
a_minute_is_rolled_up_once_it_has_ended(void **state)
{
	struct interval_record recs[4];
	struct collected *c = calloc(1, sizeof(*c));
	struct store *st = open_store(NULL);
	size_t dup, i;

	(void)state;
	assert_non_null(c);
	for (i = 0; i < 4; i++)
		make_record(&recs[i], "p1", "s", T0 + i * 10 * NS, i);
	assert_int_equal(insert(st, recs, 3, &dup), 3);
	/* 40 s into the minute: still filling, no rollup yet */
	assert_int_equal(store_maintain(st, T0 + 40 * NS), 0);
	scan_all(st, STORE_RES_MINUTE, c);
	assert_int_equal(c->n, 0);
	assert_int_equal(insert(st, &recs[3], 1, &dup), 1);
	/* ended: one rollup of all four */
	assert_int_equal(store_maintain(st, T0 + MIN), 0);
	scan_all(st, STORE_RES_MINUTE, c);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->rtt_count[0],
			 recs[0].hist[RECORD_HIST_RTT]->count +
			 recs[1].hist[RECORD_HIST_RTT]->count +
			 recs[2].hist[RECORD_HIST_RTT]->count +
			 recs[3].hist[RECORD_HIST_RTT]->count);
	collected_free(c);
	/* the hour only once the hour has ended */
	scan_all(st, STORE_RES_HOUR, c);
	assert_int_equal(c->n, 0);
	assert_int_equal(store_maintain(st, T0 + HOUR), 0);
	scan_all(st, STORE_RES_HOUR, c);
	assert_int_equal(c->n, 1);
	collected_free(c);
	store_close(st);
	for (i = 0; i < 4; i++)
		record_free(&recs[i]);
	free(c);
}

/* The leaf pages of the raw records (not the small tables). */
struct pages {
	int n;
	off_t no[256];
	size_t size;
};

static void
raw_leaf_pages(struct pages *p)
{
	sqlite3_stmt *q;
	sqlite3 *db;

	p->n = 0;
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT pageno, pgsize FROM"
					    " dbstat WHERE name = 'interval_raw'"
					    " AND pagetype = 'leaf'", -1, &q,
					    NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW && p->n < 256) {
		p->no[p->n++] = sqlite3_column_int64(q, 0);
		p->size = (size_t)sqlite3_column_int(q, 1);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	assert_true(p->n > 0);
}

/* Overwrites them in the file, without opening the store. */
static void
damage(const struct pages *p)
{
	char junk[65536];
	int fd, i;

	assert_true(p->size <= sizeof(junk));
	memset(junk, 0x5a, sizeof(junk));
	fd = open(db_path, O_RDWR);
	assert_true(fd >= 0);
	for (i = 0; i < p->n; i++)
		assert_int_equal(pwrite(fd, junk, p->size,
					(p->no[i] - 1) * (off_t)p->size),
				 (ssize_t)p->size);
	close(fd);
}

static void
fill_store(struct store *st)
{
	struct interval_record recs[200];
	size_t dup, i;

	for (i = 0; i < 200; i++)
		make_record(&recs[i], "p1", "s", T0 + i * NS, i);
	assert_int_equal(insert(st, recs, 200, &dup), 200);
	for (i = 0; i < 200; i++)
		record_free(&recs[i]);
}

/* The check a [collector] section with the line key asks for, or the
 * negative errno of reading it. */
static int
config_store_check(const char *line)
{
	struct collector_config cc;
	char ini[300], err[512];
	FILE *f;
	int rc;

	snprintf(ini, sizeof(ini), "%s/collector.ini", dir);
	f = fopen(ini, "w");
	assert_non_null(f);
	fprintf(f, "[collector]\ndatabase = %s\n%s", db_path, line);
	assert_int_equal(fclose(f), 0);
	rc = collector_config_load(ini, &cc, err, sizeof(err));
	unlink(ini);
	if (rc < 0) {
		assert_non_null(strstr(err, "store_check"));
		return rc;
	}
	rc = (int)cc.store_check;
	collector_config_free(&cc);
	return rc;
}

static void
start_up_reads_the_whole_file_only_after_an_unclean_close(void **state)
{
	struct store *st = open_store(NULL);
	char err[512] = "", wal[300];
	struct pages pages;
	struct stat sb;
	pid_t pid;
	int status;

	(void)state;
	fill_store(st);
	store_close(st);
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	assert_int_equal(stat(wal, &sb), -1);   /* a clean close */

	/* Closed cleanly: the bounded check does not read the data pages
	 * (the price of a fast start on a store of GB), the full one does. */
	raw_leaf_pages(&pages);
	damage(&pages);
	assert_int_equal(store_sqlite_open_check(db_path, NULL,
						 STORE_CHECK_UNCLEAN, &st, err,
						 sizeof(err)), 0);
	store_close(st);
	assert_true(store_sqlite_open_check(db_path, NULL, STORE_CHECK_FULL,
					    &st, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "integrity check failed"));
	/* the collector's config asks for it */
	assert_int_equal(config_store_check("store_check = full\n"),
			 STORE_CHECK_FULL);
	assert_true(store_sqlite_open_check(db_path, NULL, STORE_CHECK_FULL,
					    &st, err, sizeof(err)) < 0);

	/* A process that dies with the store open leaves its WAL: the next
	 * start reads the whole file and finds the damage. */
	unlink(db_path);
	st = open_store(NULL);
	fill_store(st);
	store_close(st);
	raw_leaf_pages(&pages);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *c = NULL;
		char e[256];

		struct interval_record r;
		size_t n_new, n_dup;

		/* no cmocka assertion in the child */
		if (store_sqlite_open(db_path, NULL, &c, e, sizeof(e)) < 0)
			_exit(2);
		make_record(&r, "p1", "s", T0 + 1000 * NS, 1000);
		if (store_insert(c, &r, 1, &n_new, &n_dup, e, sizeof(e)) < 0)
			_exit(3);
		_exit(0);               /* no close: a crash */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(stat(wal, &sb), 0);
	damage(&pages);
	st = NULL;
	assert_true(store_sqlite_open_check(db_path, NULL, STORE_CHECK_UNCLEAN,
					    &st, err, sizeof(err)) < 0);
	assert_null(st);
	assert_non_null(strstr(err, "integrity check failed"));

	/* The bounded check finds a truncated file. */
	unlink(wal);
	unlink(db_path);
	st = open_store(NULL);
	fill_store(st);
	store_close(st);
	assert_int_equal(stat(db_path, &sb), 0);
	assert_int_equal(truncate(db_path, sb.st_size / 2), 0);
	assert_true(store_sqlite_open_check(db_path, NULL, STORE_CHECK_BOUNDED,
					    &st, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "integrity check failed"));
	assert_non_null(strstr(err, "truncated"));
}

static void
the_start_up_check_is_a_key_of_the_collector_config(void **state)
{
	(void)state;
	assert_int_equal(config_store_check(""), STORE_CHECK_AUTO);
	assert_int_equal(config_store_check("store_check = auto\n"),
			 STORE_CHECK_AUTO);
	assert_int_equal(config_store_check("store_check = full\n"),
			 STORE_CHECK_FULL);
	assert_int_equal(config_store_check("store_check = bounded\n"),
			 STORE_CHECK_BOUNDED);
	assert_int_equal(config_store_check("store_check = sometimes\n"),
			 -EINVAL);
}

/* Per-minute figures against the figures of the rollup read back. */
struct figs_check {
	struct store *st;
	struct store_reader *rd;
	size_t n;
};

static int
figs_of_rollup(const struct interval_record *r, void *arg)
{
	const struct store_minute_figs *f = arg;
	unsigned i, k;

	assert_int_equal(f->tx_pkts, r->tx_pkts);
	assert_int_equal(f->rx_pkts, r->rx_pkts);
	assert_int_equal(f->lost, r->lost);
	assert_int_equal(f->clock_synced, r->clock_synced);
	assert_int_equal(f->q_stated, r->q.present);
	assert_int_equal(f->host_loss_suspect, r->q.host_loss_suspect);
	assert_int_equal(f->rtt_error_ns, r->q.rtt_error_ns);
	assert_int_equal(f->owd_error_ns, r->q.owd_error_ns);
	assert_true(f->throughput_bps == r->throughput_bps);
	assert_true(f->throughput_l1_bps == r->throughput_l1_bps);
	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		const struct hist *h = r->hist[i];

		if (h == NULL || hist_empty(h)) {
			assert_int_equal(f->h[i].count, 0);
			continue;
		}
		assert_int_equal(f->h[i].count, h->count);
		assert_int_equal(f->h[i].min, h->min);
		assert_int_equal(f->h[i].max, h->max);
		for (k = 0; k < STORE_FIG_NPCT; k++)
			assert_int_equal(f->h[i].q[k],
					 hist_quantile(h, store_fig_pct[k] /
						       100.0));
	}
	return 0;
}

static int
check_figs(const struct store_minute_figs *f, void *arg)
{
	struct figs_check *fc = arg;
	struct store_query q = {
		.from_ns = f->start_ns, .to_ns = f->start_ns + 1,
		.probe = f->probe, .session = f->session,
		.resolution_ns = MIN,
	};

	assert_int_equal(f->start_ns % MIN, 0);
	fc->n++;
	/* the rollup of the same minute, through the same snapshot */
	assert_int_equal(store_reader_scan(fc->st, fc->rd, &q, figs_of_rollup,
					   (void *)f), 0);
	return 0;
}

static size_t
figs_checked(struct store *st)
{
	struct store_query q = {
		.from_ns = 0, .to_ns = INT64_MAX, .resolution_ns = MIN,
	};
	struct figs_check fc = { st, NULL, 0 };

	assert_int_equal(store_reader_open(st, &fc.rd), 0);
	assert_int_equal(store_reader_figs(st, fc.rd, &q, true, check_figs,
					   &fc), 0);
	store_reader_close(st, fc.rd);
	return fc.n;
}

static void
minute_figures_follow_their_rollups(void **state)
{
	struct store_retention ret = {
		.raw_ns = 0, .minute_ns = 0, .hour_ns = 0,
	};
	struct raw_set *raw = calloc(1, sizeof(*raw));
	struct store *st = open_store(&ret);
	struct interval_record late;
	size_t dup;

	(void)state;
	raw_set_make(raw);
	assert_int_equal(insert(st, raw->recs, raw->n, &dup), raw->n);
	assert_int_equal(store_maintain(st, T0 + 3 * HOUR), 0);
	assert_int_equal(figs_checked(st), 2 * 120);
	/* a late record rebuilds its minute, and the minute's figures */
	make_record(&late, "p1", "s-a", T0 + 65 * NS + 1, 31337);
	assert_int_equal(insert(st, &late, 1, &dup), 1);
	assert_int_equal(store_maintain(st, T0 + 3 * HOUR), 0);
	assert_int_equal(figs_checked(st), 2 * 120);
	record_free(&late);
	store_close(st);
	/* retention drops the figures with their minutes (before T0 +
	 * 30 min) */
	ret.minute_ns = 2 * HOUR + HOUR / 2;
	st = open_store(&ret);
	assert_int_equal(store_maintain(st, T0 + 3 * HOUR), 0);
	assert_int_equal(figs_checked(st), 2 * 90);
	store_close(st);
	raw_set_free(raw);
	free(raw);
}

/* ---- measurement quality ----------------------------------------- */

/* Three records' quality figures; the minute and hour merges below are
 * worked out by hand (record.h: bounds max, counts add, minima min,
 * warnings or, peer_clock_synced and). */
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
static const struct record_quality quality_c = {
	.ts_rx_error_ns = 100, .ts_tx_error_ns = 100,
	.clock_error_ns = 60000, .peer_clock_synced = true,
	.peer_clock_error_ns = 1000, .rtt_error_ns = 200,
	.owd_error_ns = 61200, .clock_steps = 2, .owd_back_negative = 1,
	.owd_back_negative_min_ns = -7000, .host_imissed = 1,
	.host_rx_nombuf = 1, .host_ierrors = 1, .poll_gap_max_ns = 100,
	.present = true,
};
/* minute 0: a, a record without quality, b */
static const struct record_quality quality_ab = {
	.ts_rx_error_ns = 2000, .ts_tx_error_ns = 9000,
	.clock_error_ns = 50000, .peer_clock_synced = false,
	.peer_clock_error_ns = 70000, .rtt_error_ns = 9500,
	.owd_error_ns = 92800, .clock_steps = 1, .step_excluded = 3,
	.rtt_negative = 3, .owd_fwd_negative = 6, .owd_back_negative = 4,
	.owd_fwd_negative_min_ns = -1200, .owd_back_negative_min_ns = -2500,
	.owd_implausible = true, .host_imissed = 17, .host_rx_nombuf = 6,
	.host_ierrors = 1, .poll_gap_max_ns = 9000, .host_loss_suspect = true,
	.present = true,
};
/* the hour: minute 0 and minute 1 (c) */
static const struct record_quality quality_abc = {
	.ts_rx_error_ns = 2000, .ts_tx_error_ns = 9000,
	.clock_error_ns = 60000, .peer_clock_synced = false,
	.peer_clock_error_ns = 70000, .rtt_error_ns = 9500,
	.owd_error_ns = 92800, .clock_steps = 3, .step_excluded = 3,
	.rtt_negative = 3, .owd_fwd_negative = 6, .owd_back_negative = 5,
	.owd_fwd_negative_min_ns = -1200, .owd_back_negative_min_ns = -7000,
	.owd_implausible = true, .host_imissed = 18, .host_rx_nombuf = 7,
	.host_ierrors = 2, .poll_gap_max_ns = 9000, .host_loss_suspect = true,
	.present = true,
};

static void
expect_quality(const struct record_quality *got,
	       const struct record_quality *want)
{
	unsigned k;

	assert_int_equal(got->present, want->present);
	for (k = 0; k < RECORD_QUALITY_NKEYS; k++) {
		const void *g = record_quality_field_c(got, k);
		const void *w = record_quality_field_c(want, k);
		bool same = record_quality_keys[k].type == RECORD_Q_BOOL ?
			    *(const bool *)g == *(const bool *)w :
			    memcmp(g, w, sizeof(uint64_t)) == 0;

		if (!same)
			fail_msg("quality key %s differs",
				 record_quality_keys[k].name);
	}
}

static void
quality_is_kept_and_merged_into_the_rollups(void **state)
{
	const struct record_quality *qs[4] = {
		&quality_a, NULL, &quality_b, &quality_c,
	};
	const uint64_t at[4] = { 0, 10 * NS, 20 * NS, MIN };
	struct interval_record recs[4], again;
	struct collected *c = calloc(1, sizeof(*c));
	struct store *st = open_store(NULL);
	struct record_quality none;
	size_t dup, i;

	(void)state;
	assert_non_null(c);
	memset(&none, 0, sizeof(none));
	for (i = 0; i < 4; i++) {
		make_record(&recs[i], "p1", "s-q", T0 + at[i], i);
		if (qs[i] != NULL)
			recs[i].q = *qs[i];
	}
	assert_int_equal(insert(st, recs, 4, &dup), 4);
	/* the same records again, one with other figures: stored once,
	 * as first stored */
	make_record(&again, "p1", "s-q", T0, 0);
	again.q = quality_c;
	assert_int_equal(insert(st, &again, 1, &dup), 0);
	assert_int_equal(dup, 1);
	assert_int_equal(insert(st, recs, 4, &dup), 0);
	assert_int_equal(dup, 4);
	record_free(&again);

	scan_all(st, STORE_RES_RAW, c);
	assert_int_equal(c->n, 4);
	for (i = 0; i < 4; i++)
		expect_quality(&c->q[i], qs[i] != NULL ? qs[i] : &none);
	collected_free(c);

	assert_int_equal(store_maintain(st, T0 + HOUR), 0);
	scan_all(st, STORE_RES_MINUTE, c);
	assert_int_equal(c->n, 2);
	expect_quality(&c->q[0], &quality_ab);
	expect_quality(&c->q[1], &quality_c);
	collected_free(c);
	scan_all(st, STORE_RES_HOUR, c);
	assert_int_equal(c->n, 1);
	expect_quality(&c->q[0], &quality_abc);
	collected_free(c);
	store_close(st);

	/* and after reopening */
	st = open_store(NULL);
	scan_all(st, STORE_RES_HOUR, c);
	assert_int_equal(c->n, 1);
	expect_quality(&c->q[0], &quality_abc);
	collected_free(c);
	store_close(st);
	for (i = 0; i < 4; i++)
		record_free(&recs[i]);
	free(c);
}

/* The stored form of the quality figures: every value kept, clamped as
 * record_to_json clamps, a record without them stored as before, and
 * the figures of a writer with more keys, or fewer, read. */
static void
the_stored_form_keeps_the_quality_figures(void **state)
{
	struct store_buf b = { NULL, 0, 0 };
	struct interval_record r, back;
	size_t plain, n;

	(void)state;
	make_record(&r, "p1", "s", T0, 5);
	assert_int_equal(store_codec_encode(&b, &r), 0);
	plain = b.len;
	r.q = quality_b;
	r.q.owd_fwd_negative_min_ns = INT64_MIN;
	b.len = 0;
	assert_int_equal(store_codec_encode(&b, &r), 0);
	/* one octet of count, one or more per value */
	assert_true(b.len >= plain + 1 + RECORD_QUALITY_NKEYS);
	record_init(&back);
	assert_int_equal(store_codec_decode(b.data, b.len, &back, NULL), 0);
	expect_quality(&back.q, &r.q);
	record_free(&back);
	/* what a decoder of the JSON line would refuse: clamped */
	r.q.host_imissed = UINT64_MAX;              /* kept as INT64_MAX */
	r.q.owd_back_negative_min_ns = 9;           /* kept as 0, "none" */
	b.len = 0;
	assert_int_equal(store_codec_encode(&b, &r), 0);
	record_init(&back);
	assert_int_equal(store_codec_decode(b.data, b.len, &back, NULL), 0);
	r.q.host_imissed = INT64_MAX;
	r.q.owd_back_negative_min_ns = 0;
	expect_quality(&back.q, &r.q);
	record_free(&back);
	for (n = plain; n < b.len; n++) {
		record_init(&back);
		assert_int_equal(store_codec_decode(b.data, n, &back, NULL),
				 -EINVAL);
	}
	store_buf_free(&b);
	record_free(&r);

	/* Without histograms the quality figures end the stored form:
	 * rewritten as a writer with two more keys, and with five keys
	 * only, would have written them. */
	{
		uint8_t more[512], fewer[512];
		size_t start, len, k, skip = 0;

		record_init(&r);
		snprintf(r.probe, sizeof(r.probe), "p1");
		snprintf(r.session, sizeof(r.session), "s");
		snprintf(r.src, sizeof(r.src), "192.0.2.1:862");
		snprintf(r.dst, sizeof(r.dst), "192.0.2.2:862");
		assert_int_equal(store_codec_encode(&b, &r), 0);
		start = b.len + 1;        /* the flags grow by one octet */
		b.len = 0;
		r.q = quality_a;
		assert_int_equal(store_codec_encode(&b, &r), 0);
		assert_int_equal(b.data[start], RECORD_QUALITY_NKEYS);
		len = b.len;
		memcpy(more, b.data, len);
		more[start] = RECORD_QUALITY_NKEYS + 2;
		more[len] = 0x05;
		more[len + 1] = 0x81;
		more[len + 2] = 0x01;
		record_init(&back);
		assert_int_equal(store_codec_decode(more, len + 3, &back,
						    NULL), 0);
		expect_quality(&back.q, &quality_a);
		memcpy(fewer, b.data, start);
		fewer[start] = 5;
		for (k = 0; k < 5; k++)
			while (b.data[start + 1 + skip++] & 0x80)
				;
		memcpy(fewer + start + 1, b.data + start + 1, skip);
		record_init(&back);
		assert_int_equal(store_codec_decode(fewer, start + 1 + skip,
						    &back, NULL), 0);
		assert_int_equal(back.q.ts_rx_error_ns, 2000);
		assert_int_equal(back.q.peer_clock_error_ns, 40000);
		assert_int_equal(back.q.rtt_error_ns, 0);
		assert_true(back.q.present);
		store_buf_free(&b);
	}
}

/* A record in the stored form of schema version 2, built by hand from
 * the layout: names, counters, no flags, rates 0, no drops. */
static size_t
old_blob(uint8_t *o, uint64_t start_ns)
{
	static const char *const names[] = {
		"p1", "old", "192.0.2.1:862", "192.0.2.2:862",
	};
	const uint64_t counters[13] = {
		start_ns, 10 * NS, 5, 500, 4, 400, 1, 1, 0, 0, 0, 0, 0,
	};
	size_t n = 0, i;

	o[n++] = 1;                             /* version */
	for (i = 0; i < 4; i++) {
		n += mp_leb128_put(o + n, strlen(names[i]));
		memcpy(o + n, names[i], strlen(names[i]));
		n += strlen(names[i]);
	}
	for (i = 0; i < 13; i++)
		n += mp_leb128_put(o + n, counters[i]);
	o[n++] = 0;                             /* flags */
	memset(o + n, 0, 16);                   /* two rates: 0.0 */
	n += 16;
	o[n++] = 0;                             /* no drops */
	return n;
}

static void
a_store_of_schema_2_migrates_and_keeps_every_record(void **state)
{
	struct interval_record recs[2], fresh;
	struct collected *c = calloc(1, sizeof(*c));
	struct store *st = open_store(NULL);
	struct record_quality none;
	uint8_t blob[256];
	size_t dup, len, i;
	sqlite3_stmt *q;
	sqlite3 *db;
	char *json;

	(void)state;
	assert_non_null(c);
	memset(&none, 0, sizeof(none));
	make_record(&recs[0], "p1", "old", T0, 1);
	make_record(&recs[1], "p1", "old", T0 + 30 * NS, 2);
	assert_int_equal(insert(st, recs, 1, &dup), 1);
	store_close(st);
	/* as schema 2 left it: a binary row, a JSON row of schema 1, a row
	 * built from the layout by hand, and the version */
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	json = record_to_json(&recs[1]);
	assert_non_null(json);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO interval_raw"
		" (probe, session, start_ns, interval_ns, received_ns, record)"
		" VALUES ('p1', 'old', ?1, ?2, 0, ?3)", -1, &q, NULL),
		SQLITE_OK);
	sqlite3_bind_int64(q, 1, (sqlite3_int64)recs[1].start_ns);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)recs[1].interval_ns);
	sqlite3_bind_text(q, 3, json, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	sqlite3_reset(q);
	len = old_blob(blob, T0 + 40 * NS);
	sqlite3_bind_int64(q, 1, (sqlite3_int64)(T0 + 40 * NS));
	sqlite3_bind_int64(q, 2, (sqlite3_int64)(10 * NS));
	sqlite3_bind_blob(q, 3, blob, (int)len, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_exec(db,
		"UPDATE link SET last_ns = (SELECT max(start_ns) FROM"
		" interval_raw);"
		"INSERT OR IGNORE INTO rollup_pending VALUES (60000000000,"
		" 'p1', 'old', 1764000000000000000);"
		"UPDATE schema_version SET version = 2", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	free(json);

	st = open_store(NULL);
	scan_all(st, STORE_RES_RAW, c);
	assert_int_equal(c->n, 3);
	for (i = 0; i < 3; i++)
		expect_quality(&c->q[i], &none);   /* not stated */
	json = record_to_json(&recs[1]);
	assert_string_equal(c->json[1], json);
	free(json);
	assert_int_equal(c->start[2], T0 + 40 * NS);
	collected_free(c);
	/* a new record with quality in the same minute: the rollup holds
	 * its figures, and the counts of all four */
	make_record(&fresh, "p1", "old", T0 + 50 * NS, 3);
	fresh.q = quality_a;
	assert_int_equal(insert(st, &fresh, 1, &dup), 1);
	assert_int_equal(store_maintain(st, T0 + HOUR), 0);
	scan_all(st, STORE_RES_MINUTE, c);
	assert_int_equal(c->n, 1);
	expect_quality(&c->q[0], &quality_a);
	assert_int_equal(c->rtt_count[0],
			 recs[0].hist[RECORD_HIST_RTT]->count +
			 recs[1].hist[RECORD_HIST_RTT]->count +
			 fresh.hist[RECORD_HIST_RTT]->count);
	collected_free(c);
	store_close(st);

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM "
					    "schema_version", -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 3);
	sqlite3_finalize(q);
	sqlite3_close(db);
	record_free(&fresh);
	record_free(&recs[0]);
	record_free(&recs[1]);
	free(c);
}

/* The blob of the one row sql selects (malloc'd), or its length 0. */
static uint8_t *
row_blob(const char *sql, size_t *len)
{
	uint8_t *blob = NULL;
	sqlite3_stmt *q;
	sqlite3 *db;

	*len = 0;
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	*len = (size_t)sqlite3_column_bytes(q, 0);
	blob = malloc(*len + 1);
	assert_non_null(blob);
	memcpy(blob, sqlite3_column_blob(q, 0), *len);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return blob;
}

static void
set_row_blob(const char *sql, const uint8_t *blob, size_t len)
{
	sqlite3_stmt *q;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_blob(q, 1, blob, (int)len, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* The varint at off of blob (len octets) written one octet longer, with
 * the same value: its last octet continued by a 0x00. Returns the new
 * length; out has room for len + 1. */
static size_t
overlong_at(const uint8_t *blob, size_t len, size_t off, uint8_t *out)
{
	size_t last = off;

	while (blob[last] & 0x80)
		last++;
	memcpy(out, blob, last + 1);
	out[last] |= 0x80;
	out[last + 1] = 0x00;
	memcpy(out + last + 2, blob + last + 1, len - last - 1);
	return len + 1;
}

static int
no_figs(const struct store_minute_figs *f, void *arg)
{
	(void)f;
	(void)arg;
	return 0;
}

static void
an_overlong_varint_in_a_stored_row_is_damage(void **state)
{
	struct store_query q = {
		.from_ns = 0, .to_ns = INT64_MAX, .resolution_ns = STORE_RES_RAW,
	};
	struct collected *c = calloc(1, sizeof(*c));
	struct interval_record rec, back;
	struct store_minute_figs f;
	struct store_reader *rd;
	struct store *st;
	uint8_t *blob, *bad;
	size_t len, bad_len, dup;

	(void)state;
	assert_non_null(c);
	st = open_store(NULL);
	make_record(&rec, "p1", "s", T0, 1);
	assert_int_equal(insert(st, &rec, 1, &dup), 1);
	assert_int_equal(store_maintain(st, T0 + HOUR), 0);
	store_close(st);

	/* the row as stored reads back; with octet 1 (the length of the
	 * probe's name) written overlong, the same value is refused */
	blob = row_blob("SELECT record FROM interval_raw", &len);
	record_init(&back);
	assert_int_equal(store_codec_decode(blob, len, &back, NULL), 0);
	record_free(&back);
	bad = malloc(len + 1);
	assert_non_null(bad);
	bad_len = overlong_at(blob, len, 1, bad);
	record_init(&back);
	assert_int_equal(store_codec_decode(bad, bad_len, &back, NULL),
			 -EINVAL);
	record_free(&back);
	/* and a scan reports it as it reports any other damaged row */
	set_row_blob("UPDATE interval_raw SET record = ?1", bad, bad_len);
	st = open_store(NULL);
	assert_int_equal(store_scan(st, &q, collect, c), -EIO);
	collected_free(c);
	store_close(st);
	free(blob);
	free(bad);

	/* the same in a minute's figures (octet 1: tx_pkts) */
	blob = row_blob("SELECT figs FROM rollup_minute_figs", &len);
	bad = malloc(len + 1);
	assert_non_null(bad);
	bad_len = overlong_at(blob, len, 1, bad);
	set_row_blob("UPDATE rollup_minute_figs SET figs = ?1", bad, bad_len);
	st = open_store(NULL);
	q.resolution_ns = MIN;
	assert_int_equal(store_reader_open(st, &rd), 0);
	assert_int_equal(store_reader_figs(st, rd, &q, true, no_figs, &f),
			 -EIO);
	store_reader_close(st, rd);
	store_close(st);
	free(blob);
	free(bad);
	record_free(&rec);
	free(c);
}

/* ---- a back-end with only the mandatory operations ---------------- */

/* It holds one record and reads it back on every scan. */
struct mem_store {
	struct store base;
	struct interval_record r;
	unsigned scans;
};

static int
mem_insert(struct store *s, const struct interval_record *recs, size_t n,
	   size_t *n_new, size_t *n_dup, char *err, size_t errlen)
{
	(void)s;
	(void)recs;
	(void)err;
	(void)errlen;
	*n_new = n;
	*n_dup = 0;
	return 0;
}

static int
mem_insert_stream(struct store *s, store_next_fn next, void *arg,
		  size_t *n_new, size_t *n_dup, char *err, size_t errlen)
{
	(void)s;
	(void)next;
	(void)arg;
	(void)err;
	(void)errlen;
	*n_new = 0;
	*n_dup = 0;
	return 0;
}

static int
mem_scan(struct store *s, const struct store_query *q, store_record_fn fn,
	 void *arg)
{
	struct mem_store *m = (struct mem_store *)s;

	(void)q;
	m->scans++;
	return fn(&m->r, arg);
}

static int
mem_maintain(struct store *s, uint64_t now_ns)
{
	(void)s;
	(void)now_ns;
	return 0;
}

static void
mem_close(struct store *s)
{
	(void)s;
}

static int
count_hour(const char *probe, const char *session, uint64_t start_ns,
	   void *arg)
{
	(void)probe;
	(void)session;
	(void)start_ns;
	(void)arg;
	return 0;
}

static void
mem_close_reader(struct store *s, struct store_reader *rd)
{
	(void)s;
	(void)rd;
}

static int
mem_exact_hours(struct store *s, struct store_reader *rd,
		const struct store_query *q, store_hour_fn fn, void *arg)
{
	(void)s;
	(void)rd;
	(void)q;
	(void)fn;
	(void)arg;
	return 0;
}

static void
a_back_end_without_optional_operations_gets_their_defaults(void **state)
{
	static const struct store_ops mem_ops = {
		.name = "memory",
		.insert = mem_insert,
		.insert_stream = mem_insert_stream,
		.scan = mem_scan,
		.maintain = mem_maintain,
		.close = mem_close,
	};
	struct store_query q = {
		.from_ns = 0, .to_ns = INT64_MAX, .resolution_ns = MIN,
	};
	struct collected *c = calloc(1, sizeof(*c));
	struct store_ops partial;
	struct store_reader *rd = NULL;
	struct store_stats stats;
	struct mem_store m;
	char err[160];

	(void)state;
	assert_non_null(c);
	memset(&m, 0, sizeof(m));
	make_record(&m.r, "p1", "s", T0, 1);
	assert_int_equal(store_init(&m.base, &mem_ops, err, sizeof(err)), 0);
	assert_int_equal(store_stats(&m.base, &stats), -ENOTSUP);
	assert_int_equal(store_latest(&m.base, collect, c), -ENOTSUP);
	/* a reader without a snapshot: each of its scans is a scan */
	assert_int_equal(store_reader_open(&m.base, &rd), 0);
	assert_non_null(rd);
	assert_int_equal(store_reader_scan(&m.base, rd, &q, collect, c), 0);
	assert_int_equal(store_reader_scan(&m.base, rd, &q, collect, c), 0);
	assert_int_equal(m.scans, 2);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->start[1], T0);
	assert_int_equal(store_reader_figs(&m.base, rd, &q, true, no_figs,
					   NULL), -ENOTSUP);
	assert_int_equal(store_reader_exact_hours(&m.base, rd, &q, count_hour,
						  NULL), -ENOTSUP);
	store_reader_close(&m.base, rd);
	store_close(&m.base);

	/* a mandatory operation missing is refused, by name */
	partial = mem_ops;
	partial.maintain = NULL;
	assert_int_equal(store_init(&m.base, &partial, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "memory"));
	assert_non_null(strstr(err, "maintain"));
	/* and so is half a reader, or figures without readers to read */
	partial = mem_ops;
	partial.reader_close = mem_close_reader;
	assert_int_equal(store_init(&m.base, &partial, err, sizeof(err)),
			 -EINVAL);
	partial = mem_ops;
	partial.reader_exact_hours = mem_exact_hours;
	assert_int_equal(store_init(&m.base, &partial, err, sizeof(err)),
			 -EINVAL);
	collected_free(c);
	record_free(&m.r);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			same_record_twice_is_stored_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_failing_stream_stores_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
			rollups_equal_an_exact_merge_of_raw_records, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			retention_drops_raw_records_and_keeps_rollups, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			data_survives_reopening, setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_newer_schema_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_damaged_file_is_refused_with_a_clear_error, setup,
			teardown),
		cmocka_unit_test(the_stored_form_keeps_every_field),
		cmocka_unit_test_setup_teardown(
			a_minute_is_rolled_up_once_it_has_ended, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			json_rows_of_older_stores_are_read, setup, teardown),
		cmocka_unit_test_setup_teardown(
			minute_figures_follow_their_rollups, setup, teardown),
		cmocka_unit_test_setup_teardown(
			start_up_reads_the_whole_file_only_after_an_unclean_close,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			the_start_up_check_is_a_key_of_the_collector_config,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			quality_is_kept_and_merged_into_the_rollups, setup,
			teardown),
		cmocka_unit_test(the_stored_form_keeps_the_quality_figures),
		cmocka_unit_test_setup_teardown(
			a_store_of_schema_2_migrates_and_keeps_every_record,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			an_overlong_varint_in_a_stored_row_is_damage, setup,
			teardown),
		cmocka_unit_test(
			a_back_end_without_optional_operations_gets_their_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
