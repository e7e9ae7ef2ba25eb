/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The record export (probe/export/) driven for real: a spool directory on
 * disk, a libcurl uploader thread, and a collector double speaking HTTP on
 * loopback that can fail, stall, vanish and come back, and that says what
 * it stored.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "export.h"
#include "harness.h"

#define PROBE "centre-a"

struct fixture {
	struct test_double dbl;
	char spool[256];
	char scratch[200];
	char token_file[300];
	struct export_config cfg;
	char url[64];
	struct exporter *exp;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	harness_log_clear();
	harness_tmpdir(f->scratch, sizeof(f->scratch), "t");
	snprintf(f->spool, sizeof(f->spool), "%s/spool", f->scratch);
	snprintf(f->token_file, sizeof(f->token_file), "%s/token",
		 f->scratch);
	assert_int_equal(harness_write_file(f->token_file, "tok-a1b2c3\n",
					    0600), 0);
	assert_int_equal(double_start(&f->dbl, 0, "tok-a1b2c3"), 0);
	double_url(&f->dbl, f->url, sizeof(f->url));
	f->cfg = (struct export_config){
		.collector_url = f->url,
		.token_file = f->token_file,
		.spool_dir = f->spool,
		.batch_max_records = 100,
		.connect_timeout_ms = 1000,
		.request_timeout_ms = 2000,
		.backoff_min_ms = 20,
		.backoff_max_ms = 200,
		.log = harness_log,
	};
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->exp != NULL)
		export_close(f->exp, 0);
	double_cleanup(&f->dbl);
	harness_rmrf(f->scratch);
	free(f);
	return 0;
}

static void
open_exp(struct fixture *f)
{
	char err[256] = "";
	int rc = export_open(&f->cfg, &f->exp, err, sizeof(err));

	if (rc != 0)
		fail_msg("export_open: %s", err);
}

static void
close_exp(struct fixture *f, unsigned timeout_ms, int expect)
{
	assert_int_equal(export_close(f->exp, timeout_ms), expect);
	f->exp = NULL;
}

/* Submits records [from, to) of a session, flushing every `per_flush`. */
static void
submit_range(struct exporter *exp, const char *session, uint64_t from,
	     uint64_t to, unsigned per_flush)
{
	char line[2048];

	for (uint64_t i = from; i < to; i++) {
		int n = harness_record(line, sizeof(line), PROBE, session, i);

		assert_true(n > 0);
		assert_int_equal(export_submit(exp, line, n), 0);
		if ((i + 1 - from) % per_flush == 0)
			assert_int_equal(export_flush_local(exp), 0);
	}
	assert_int_equal(export_flush_local(exp), 0);
}

/* Every record [from, to) of session is stored at the double, and the
 * double holds `total` distinct records in all. */
static void
assert_stored(struct test_double *d, const char *session, uint64_t from,
	      uint64_t to, long total)
{
	struct double_stats s;
	uint64_t missing = 0;

	assert_int_equal(double_stats(d, &s), 0);
	for (uint64_t i = from; i < to; i++)
		if (!double_has_key(&s, PROBE, session, harness_start_ns(i)))
			missing++;
	if (missing != 0 || s.unique != total)
		fail_msg("session %s: %" PRIu64 " of [%" PRIu64 ",%" PRIu64
			 ") missing, %ld stored, %ld expected", session,
			 missing, from, to, s.unique, total);
	double_stats_free(&s);
}

static void
assert_accounting(const struct export_stats *st)
{
	/* every record is acknowledged, dropped, refused or pending */
	assert_int_equal(st->recovered + st->spooled,
			 st->acknowledged + st->dropped_full + st->rejected +
			 st->pending);
}

static size_t
count_glob(const char *dir, const char *pattern)
{
	char pat[400];
	glob_t g;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "%s/%s", dir, pattern);
	if (glob(pat, 0, NULL, &g) == 0)
		n = g.gl_pathc;
	globfree(&g);
	return n;
}

/* ---- delivery ---- */

static void
test_delivers_every_record_once_in_batches(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;
	struct double_stats ds;

	open_exp(f);
	submit_range(f->exp, "a-to-b", 0, 500, 50);
	assert_true(harness_wait(f->exp, pred_acked_at_least, 500, 20000,
				 &st));
	assert_int_equal(st.acknowledged, 500);
	assert_int_equal(st.acked_new, 500);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.retries, 0);
	assert_int_equal(st.last_http_status, 200);
	assert_accounting(&st);
	assert_stored(&f->dbl, "a-to-b", 0, 500, 500);

	assert_int_equal(double_stats(&f->dbl, &ds), 0);
	assert_int_equal(ds.duplicates, 0);
	assert_int_equal(ds.auth_failures, 0);    /* token, newline cut */
	assert_int_equal(ds.bad_content_type, 0); /* application/x-ndjson */
	assert_true(ds.max_batch <= 100);         /* batch_max_records */
	assert_true(ds.ok_requests >= 5 && ds.ok_requests < 500);
	assert_int_equal(ds.connections, 1);      /* kept alive */
	double_stats_free(&ds);

	/* acknowledged segments leave the disk */
	close_exp(f, 1000, 0);
	assert_int_equal(count_glob(f->spool, "spool-*.ndjson"), 1);
}

static void
test_batches_respect_byte_bound(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;
	struct double_stats ds;
	char line[2048];
	int longest = 0;

	for (uint64_t i = 0; i < 30; i++) {
		int n = harness_record(line, sizeof(line), PROBE, "a-to-b", i);

		if (n > longest)
			longest = n;
	}
	/* room for three records per POST, not four */
	f->cfg.batch_max_bytes = 3 * (longest + 1);
	open_exp(f);
	submit_range(f->exp, "a-to-b", 0, 30, 30);
	assert_true(harness_wait(f->exp, pred_acked_at_least, 30, 20000,
				 &st));
	assert_int_equal(double_stats(&f->dbl, &ds), 0);
	assert_int_equal(ds.max_batch, 3);
	assert_int_equal(ds.ok_requests, 10);
	double_stats_free(&ds);
	assert_stored(&f->dbl, "a-to-b", 0, 30, 30);
}

/* Segments fill and rotate while the collector keeps up: each one
 * leaves the disk once acknowledged, and delivery never stops. */
static void
test_segments_rotate_while_delivering(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;

	f->cfg.spool_max_bytes = 64 << 10;
	f->cfg.segment_max_bytes = 4 << 10;    /* ~5 records each */
	open_exp(f);
	for (uint64_t round = 0; round < 10; round++) {
		submit_range(f->exp, "a-to-b", round * 23, round * 23 + 23, 7);
		assert_true(harness_wait(f->exp, pred_acked_at_least,
					 round * 23 + 23, 20000, &st));
	}
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.dropped_full, 0);
	assert_true(st.spool_bytes <= f->cfg.segment_max_bytes);
	assert_true(count_glob(f->spool, "spool-*.ndjson") <= 2);
	assert_stored(&f->dbl, "a-to-b", 0, 230, 230);
}

/* ---- faults at the collector ---- */

static void
test_5xx_is_retried_with_backoff(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;
	uint64_t t0;

	assert_int_equal(double_control(&f->dbl,
					"{\"fail_next\":4,\"status\":503}"), 0);
	open_exp(f);
	t0 = harness_now_ns();
	submit_range(f->exp, "a-to-b", 0, 20, 20);
	assert_true(harness_wait(f->exp, pred_acked_at_least, 20, 20000,
				 &st));
	/* 4 waits of at least half of 20, 40, 80, 160 ms */
	assert_true(harness_now_ns() - t0 >= 150ULL * 1000000);
	assert_int_equal(st.retries, 4);
	assert_int_equal(st.pending, 0);
	assert_string_equal(st.last_error, "");
	assert_true(harness_log_has("HTTP 503"));
	assert_true(harness_log_has("reachable again after 4 failed"));
	assert_stored(&f->dbl, "a-to-b", 0, 20, 20);
}

static void
test_429_is_retried(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;

	assert_int_equal(double_control(&f->dbl,
					"{\"fail_next\":2,\"status\":429}"), 0);
	open_exp(f);
	submit_range(f->exp, "a-to-b", 0, 10, 10);
	assert_true(harness_wait(f->exp, pred_acked_at_least, 10, 20000,
				 &st));
	assert_int_equal(st.retries, 2);
	assert_stored(&f->dbl, "a-to-b", 0, 10, 10);
}

static void
test_collector_down_then_back(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;

	double_kill(&f->dbl);
	open_exp(f);
	submit_range(f->exp, "a-to-b", 0, 100, 10);
	assert_true(harness_wait(f->exp, pred_retries_at_least, 3, 10000,
				 &st));
	assert_int_equal(st.acknowledged, 0);
	assert_int_equal(st.pending, 100);
	assert_int_equal(st.last_http_status, 0);
	assert_true(st.last_error[0] != '\0');

	double_restart(&f->dbl);
	submit_range(f->exp, "a-to-b", 100, 120, 10);
	assert_true(harness_wait(f->exp, pred_acked_at_least, 120, 20000,
				 &st));
	assert_int_equal(st.pending, 0);
	assert_accounting(&st);
	assert_stored(&f->dbl, "a-to-b", 0, 120, 120);
}

/* The measurement must not stall: submit and flush stay local, whether
 * the collector fails every request or hangs on it. */
static void
test_submit_does_not_wait_for_a_failing_or_stalled_collector(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;
	char line[2048];
	uint64_t worst_submit = 0, worst_flush = 0, t0, idx = 0;

	f->cfg.request_timeout_ms = 1500;
	open_exp(f);
	for (int phase = 0; phase < 2; phase++) {
		if (phase == 0)
			assert_int_equal(double_control(&f->dbl,
				"{\"fail_next\":100000,\"status\":500}"), 0);
		else
			double_pause(&f->dbl);   /* accepts, never answers */
		for (int batch = 0; batch < 10; batch++) {
			for (int r = 0; r < 100; r++, idx++) {
				int n = harness_record(line, sizeof(line),
						       PROBE, "a-to-b", idx);

				t0 = harness_now_ns();
				assert_int_equal(export_submit(f->exp, line,
							       n), 0);
				t0 = harness_now_ns() - t0;
				if (t0 > worst_submit)
					worst_submit = t0;
			}
			t0 = harness_now_ns();
			assert_int_equal(export_flush_local(f->exp), 0);
			t0 = harness_now_ns() - t0;
			if (t0 > worst_flush)
				worst_flush = t0;
			harness_sleep_ms(30);
		}
	}
	export_stats(f->exp, &st);
	print_message("2000 submits against a failing then stalled "
		      "collector: worst submit %" PRIu64 " us, worst flush %"
		      PRIu64 " us, %" PRIu64 " retries\n",
		      worst_submit / 1000, worst_flush / 1000, st.retries);
	assert_true(st.retries >= 2);
	/* generous for a loaded 2-core machine; a blocked submit would
	 * take a request timeout (1.5 s) */
	assert_true(worst_submit < 100ULL * 1000000);
	assert_true(worst_flush < 500ULL * 1000000);

	assert_int_equal(double_control(&f->dbl, "{}"), -EIO); /* stalled */
	double_resume(&f->dbl);
	assert_int_equal(double_control(&f->dbl, "{\"fail_next\":0}"), 0);
	assert_true(harness_wait(f->exp, pred_acked_at_least, 2000, 30000,
				 &st));
	assert_accounting(&st);
	assert_stored(&f->dbl, "a-to-b", 0, 2000, 2000);
}

/* export_close gives up at its timeout even when the collector holds
 * the request open, and what was not acknowledged stays in the spool. */
static void
test_close_is_bounded_by_its_timeout(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;
	uint64_t t0;

	f->cfg.request_timeout_ms = 30000;
	open_exp(f);
	double_pause(&f->dbl);
	submit_range(f->exp, "a-to-b", 0, 50, 10);
	harness_sleep_ms(200);                 /* a POST is now hanging */
	t0 = harness_now_ns();
	close_exp(f, 300, -ETIMEDOUT);
	t0 = harness_now_ns() - t0;
	print_message("close(300 ms) against a stalled collector took %"
		      PRIu64 " ms\n", t0 / 1000000);
	assert_true(t0 < 2500ULL * 1000000);   /* not the 30 s timeout */

	double_resume(&f->dbl);
	open_exp(f);
	export_stats(f->exp, &st);
	assert_int_equal(st.recovered, 50);
	assert_true(harness_wait(f->exp, pred_pending_zero, 0, 20000, &st));
	assert_stored(&f->dbl, "a-to-b", 0, 50, 50);
}

static void
test_refused_record_is_quarantined_and_the_rest_delivered(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;
	struct double_stats ds;
	char line[2048], path[400], got[2048];
	FILE *q;
	glob_t g;
	int n;

	assert_int_equal(double_control(&f->dbl,
		"{\"reject_substring\":\"\\\"session\\\":\\\"bad\\\"\"}"), 0);
	open_exp(f);
	submit_range(f->exp, "a-to-b", 0, 17, 100);
	n = harness_record(line, sizeof(line), PROBE, "bad", 17);
	assert_int_equal(export_submit(f->exp, line, n), 0);
	submit_range(f->exp, "a-to-b", 18, 40, 100);
	assert_true(harness_wait(f->exp, pred_pending_zero, 0, 20000, &st));
	assert_int_equal(st.acknowledged, 39);
	assert_int_equal(st.rejected, 1);
	assert_accounting(&st);
	assert_true(harness_log_has("refused a record (HTTP 400: "));
	assert_true(harness_log_has("line 1: key 'session'"));

	/* the refused record, and only it, is kept for the operator */
	snprintf(path, sizeof(path), "%s/rejected-*.ndjson", f->spool);
	assert_int_equal(glob(path, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	q = fopen(g.gl_pathv[0], "r");
	globfree(&g);
	assert_non_null(q);
	assert_non_null(fgets(got, sizeof(got), q));
	assert_null(fgets(got + strlen(got), 10, q) ? "" : NULL);
	fclose(q);
	line[n] = '\n';
	line[n + 1] = '\0';
	assert_string_equal(got, line);

	/* the spool is not wedged: later records flow */
	submit_range(f->exp, "a-to-b", 40, 60, 100);
	assert_true(harness_wait(f->exp, pred_acked_at_least, 59, 20000,
				 &st));
	assert_int_equal(double_stats(&f->dbl, &ds), 0);
	assert_false(double_has_key(&ds, PROBE, "bad", harness_start_ns(17)));
	assert_int_equal(ds.duplicates, 0);
	double_stats_free(&ds);
	assert_stored(&f->dbl, "a-to-b", 0, 17, 59);
	assert_stored(&f->dbl, "a-to-b", 18, 60, 59);
}

static void
test_too_large_body_is_split(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;
	struct double_stats ds;
	char line[2048], ctl[64];
	int n = harness_record(line, sizeof(line), PROBE, "x", 0);

	/* the collector takes at most 4 records per body */
	snprintf(ctl, sizeof(ctl), "{\"max_body\":%d}", 4 * (n + 1) + 20);
	assert_int_equal(double_control(&f->dbl, ctl), 0);
	open_exp(f);
	submit_range(f->exp, "a-to-b", 0, 40, 40);
	assert_true(harness_wait(f->exp, pred_pending_zero, 0, 20000, &st));
	assert_int_equal(st.acknowledged, 40);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(double_stats(&f->dbl, &ds), 0);
	assert_true(ds.max_batch <= 4);
	assert_true(ds.rejected > 0);
	double_stats_free(&ds);
	assert_stored(&f->dbl, "a-to-b", 0, 40, 40);
}

static void
test_refused_token_keeps_records_until_fixed(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;

	assert_int_equal(harness_write_file(f->token_file, "tok-wrong\n",
					    0600), 0);
	open_exp(f);
	submit_range(f->exp, "a-to-b", 0, 10, 10);
	assert_true(harness_wait(f->exp, pred_retries_at_least, 3, 10000,
				 &st));
	assert_int_equal(st.last_http_status, 401);
	assert_int_equal(st.acknowledged, 0);
	assert_int_equal(st.pending, 10);
	assert_true(harness_log_has("refused the token (HTTP 401)"));

	/* the operator adds the probe's token at the collector */
	assert_int_equal(double_control(&f->dbl,
					"{\"token\":\"tok-wrong\"}"), 0);
	assert_true(harness_wait(f->exp, pred_acked_at_least, 10, 20000,
				 &st));
	assert_stored(&f->dbl, "a-to-b", 0, 10, 10);
}

static void
test_token_file_checks(void **state)
{
	struct fixture *f = *state;
	char err[256] = "", path[320];

	/* world-readable: works, with a warning */
	assert_int_equal(harness_write_file(f->token_file, "tok-a1b2c3\r\n",
					    0644), 0);
	open_exp(f);
	assert_true(harness_log_has("readable by every user"));
	close_exp(f, 0, 0);

	assert_int_equal(harness_write_file(f->token_file, "\n", 0600), 0);
	assert_int_equal(export_open(&f->cfg, &f->exp, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "is empty"));

	assert_int_equal(harness_write_file(f->token_file, "tok en\n", 0600),
			 0);
	assert_int_equal(export_open(&f->cfg, &f->exp, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a printable character"));

	snprintf(path, sizeof(path), "%s/absent", f->scratch);
	f->cfg.token_file = path;
	assert_int_equal(export_open(&f->cfg, &f->exp, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, path));
	f->exp = NULL;
}

/* ---- the spool ---- */

static void
test_bad_submissions_are_refused_and_not_counted(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;
	char big[4096];

	f->cfg.batch_max_bytes = 1024;
	open_exp(f);
	assert_int_equal(export_submit(f->exp, "", 0), -EINVAL);
	assert_int_equal(export_submit(f->exp, "\n", 1), -EINVAL);
	assert_int_equal(export_submit(f->exp, "{\"a\":1}\n{\"b\":2}", 15),
			 -EINVAL);
	assert_int_equal(export_submit(f->exp, "{\"a\"\0}", 6), -EINVAL);
	memset(big, 'x', sizeof(big));
	assert_int_equal(export_submit(f->exp, big, sizeof(big)), -E2BIG);
	export_stats(f->exp, &st);
	assert_int_equal(st.spooled, 0);
	assert_int_equal(st.spool_bytes, 0);
}

static void
test_bad_config_is_refused(void **state)
{
	struct fixture *f = *state;
	struct export_config c = f->cfg;
	char err[256];

	c.collector_url = "ftp://x";
	assert_int_equal(export_open(&c, &f->exp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "http://"));
	c = f->cfg;
	c.spool_max_bytes = 1000;
	assert_int_equal(export_open(&c, &f->exp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "spool max bytes"));
	c = f->cfg;
	c.spool_dir = NULL;
	assert_int_equal(export_open(&c, &f->exp, err, sizeof(err)), -EINVAL);
	c = f->cfg;
	c.backoff_min_ms = 500;
	c.backoff_max_ms = 100;
	assert_int_equal(export_open(&c, &f->exp, err, sizeof(err)), -EINVAL);
	f->exp = NULL;
}

static void
test_spool_in_use_is_refused(void **state)
{
	struct fixture *f = *state;
	struct exporter *other = NULL;
	char err[256] = "";

	open_exp(f);
	assert_int_equal(export_open(&f->cfg, &other, err, sizeof(err)),
			 -EBUSY);
	assert_non_null(strstr(err, "in use by another process"));
}

static uint64_t
spool_files_bytes(const char *dir)
{
	char pat[400];
	uint64_t sum = 0;
	glob_t g;

	snprintf(pat, sizeof(pat), "%s/spool-*.ndjson", dir);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			struct stat sb;

			if (stat(g.gl_pathv[i], &sb) == 0)
				sum += sb.st_size;
		}
	}
	globfree(&g);
	return sum;
}

static void
test_full_spool_drops_the_oldest_and_counts(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;
	uint64_t first_kept;

	double_kill(&f->dbl);
	f->cfg.spool_max_bytes = 32 << 10;
	f->cfg.segment_max_bytes = 4 << 10;
	open_exp(f);
	submit_range(f->exp, "a-to-b", 0, 300, 10);
	export_stats(f->exp, &st);
	print_message("300 records into a 32 KiB spool: %" PRIu64
		      " dropped, %" PRIu64 " kept (%" PRIu64 " bytes)\n",
		      st.dropped_full, st.pending, st.spool_bytes);
	assert_true(st.dropped_full > 0);
	assert_true(st.pending > 0);
	assert_int_equal(st.acknowledged, 0);
	assert_accounting(&st);
	assert_true(st.spool_bytes <= f->cfg.spool_max_bytes);
	assert_int_equal(spool_files_bytes(f->spool), st.spool_bytes);
	assert_true(harness_log_has("oldest unsent records"));

	/* what is left is the newest, and all of it arrives */
	first_kept = 300 - st.pending;
	double_restart(&f->dbl);
	assert_true(harness_wait(f->exp, pred_pending_zero, 0, 20000, &st));
	assert_int_equal(st.acknowledged, 300 - first_kept);
	assert_stored(&f->dbl, "a-to-b", first_kept, 300, 300 - first_kept);
}

static void
test_pending_records_survive_a_restart(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;

	double_kill(&f->dbl);
	open_exp(f);
	submit_range(f->exp, "a-to-b", 0, 50, 10);
	close_exp(f, 100, -ETIMEDOUT);

	double_restart(&f->dbl);
	open_exp(f);
	export_stats(f->exp, &st);
	assert_int_equal(st.recovered, 50);
	assert_true(harness_wait(f->exp, pred_acked_at_least, 50, 20000,
				 &st));
	assert_int_equal(st.pending, 0);
	assert_stored(&f->dbl, "a-to-b", 0, 50, 50);
	close_exp(f, 1000, 0);

	/* nothing is sent twice by a further restart */
	open_exp(f);
	export_stats(f->exp, &st);
	assert_int_equal(st.recovered, 0);
	assert_int_equal(st.pending, 0);
}

/* Last spool segment with data, by name order. */
static void
last_segment(const char *dir, char *out, size_t len)
{
	char pat[400];
	glob_t g;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "%s/spool-*.ndjson", dir);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = g.gl_pathc; i-- > 0;) {
			struct stat sb;

			if (stat(g.gl_pathv[i], &sb) == 0 && sb.st_size > 0) {
				snprintf(out, len, "%s", g.gl_pathv[i]);
				break;
			}
		}
	}
	globfree(&g);
}

static void
test_torn_last_line_is_dropped_and_counted(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;
	struct double_stats ds;
	char seg[400];
	int fd;

	double_kill(&f->dbl);
	open_exp(f);
	submit_range(f->exp, "a-to-b", 0, 30, 10);
	close_exp(f, 0, -ETIMEDOUT);

	/* a crash in the middle of an append */
	last_segment(f->spool, seg, sizeof(seg));
	assert_true(seg[0] != '\0');
	fd = open(seg, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"schema\":\"metropr", 18), 18);
	close(fd);

	double_restart(&f->dbl);
	open_exp(f);
	export_stats(f->exp, &st);
	assert_int_equal(st.recovered, 30);
	assert_int_equal(st.dropped_torn, 1);
	assert_true(harness_log_has("partial last line of 18 bytes"));
	assert_true(harness_wait(f->exp, pred_acked_at_least, 30, 20000,
				 &st));
	assert_int_equal(st.rejected, 0);
	assert_int_equal(double_stats(&f->dbl, &ds), 0);
	assert_int_equal(ds.rejected, 0);   /* the torn line never left */
	double_stats_free(&ds);
	assert_stored(&f->dbl, "a-to-b", 0, 30, 30);
}

static void
test_ack_file_replacement_is_crash_safe(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;
	struct double_stats ds;
	char path[400];

	/* 40 delivered, then 25 pending when the probe stops */
	open_exp(f);
	submit_range(f->exp, "a-to-b", 0, 40, 10);
	assert_true(harness_wait(f->exp, pred_acked_at_least, 40, 20000,
				 &st));
	double_kill(&f->dbl);
	submit_range(f->exp, "a-to-b", 40, 65, 5);
	close_exp(f, 0, -ETIMEDOUT);

	/* a crash while the next ack was being written leaves ack.tmp,
	 * half written; the ack itself is whole (renamed into place) */
	snprintf(path, sizeof(path), "%s/ack.tmp", f->spool);
	assert_int_equal(harness_write_file(path, "metroprobe-spool-ack v1 9",
					    0600), 0);
	double_restart(&f->dbl);
	open_exp(f);
	export_stats(f->exp, &st);
	assert_int_equal(st.recovered, 25);
	assert_int_equal(access(path, F_OK), -1);
	assert_true(harness_wait(f->exp, pred_acked_at_least, 25, 20000,
				 &st));
	assert_int_equal(double_stats(&f->dbl, &ds), 0);
	assert_int_equal(ds.duplicates, 0);
	double_stats_free(&ds);
	assert_stored(&f->dbl, "a-to-b", 0, 65, 65);
	close_exp(f, 1000, 0);

	/* a damaged ack file loses nothing: everything left is resent */
	double_kill(&f->dbl);
	open_exp(f);
	submit_range(f->exp, "a-to-b", 65, 70, 5);
	close_exp(f, 0, -ETIMEDOUT);
	snprintf(path, sizeof(path), "%s/ack", f->spool);
	assert_int_equal(harness_write_file(path, "garbage", 0600), 0);
	double_restart(&f->dbl);
	open_exp(f);
	assert_true(harness_log_has("ack file unreadable"));
	assert_true(harness_wait(f->exp, pred_pending_zero, 0, 20000, &st));
	assert_stored(&f->dbl, "a-to-b", 0, 70, 70);
}

/*
 * kill -9 of the exporting process, several times, while it submits and
 * uploads: after a restart on the same spool every record it flushed is
 * stored, none twice beyond the one batch in flight at the kill, none
 * missing.
 */
static void
child_exporter(struct fixture *f, uint64_t from, int out_fd)
{
	char err[256], line[2048];
	struct exporter *exp;

	/* a crash here must end this process, not run cmocka's handler
	 * (and the remaining tests) in it */
	signal(SIGABRT, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	f->cfg.log = NULL;
	if (export_open(&f->cfg, &exp, err, sizeof(err)) != 0)
		_exit(2);
	for (uint64_t i = from;; i++) {
		int n = harness_record(line, sizeof(line), PROBE, "a-to-b", i);

		if (export_submit(exp, line, n) != 0)
			_exit(3);
		if (i % 7 == 6) {
			if (export_flush_local(exp) != 0)
				_exit(4);
			/* i and everything before it is in the spool */
			if (write(out_fd, &i, sizeof(i)) != sizeof(i))
				_exit(5);
			harness_sleep_ms(2);
		}
	}
}

static void
test_kill_9_mid_upload_loses_nothing(void **state)
{
	struct fixture *f = *state;
	struct export_stats st;
	struct double_stats ds;
	uint64_t start[3], flushed[3], next = 0, v, required = 0;

	f->cfg.batch_max_records = 20;
	/* slow answers, so kills land while requests are in flight */
	assert_int_equal(double_control(&f->dbl, "{\"delay_ms\":15}"), 0);
	for (int round = 0; round < 3; round++) {
		int pfd[2];
		pid_t pid;

		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			child_exporter(f, next, pfd[1]);
		}
		close(pfd[1]);
		start[round] = next;
		flushed[round] = next;
		harness_sleep_ms(400 + 150 * round);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		while (read(pfd[0], &v, sizeof(v)) == sizeof(v))
			flushed[round] = v + 1;
		close(pfd[0]);
		assert_true(flushed[round] > start[round]);
		required += flushed[round] - start[round];
		/* The child may have appended up to one more flush group
		 * (7 records) that it did not report: the next child starts
		 * past it, so keys stay unique. */
		next = flushed[round] + 7;
	}
	assert_int_equal(double_control(&f->dbl, "{\"delay_ms\":0}"), 0);
	f->cfg.batch_max_records = 500;
	open_exp(f);
	export_stats(f->exp, &st);
	print_message("3 kills: %" PRIu64 " records reported flushed, %"
		      PRIu64 " recovered, %" PRIu64 " torn\n", required,
		      st.recovered, st.dropped_torn);
	assert_true(harness_wait(f->exp, pred_pending_zero, 0, 30000, &st));
	assert_int_equal(st.rejected, 0);
	assert_int_equal(double_stats(&f->dbl, &ds), 0);
	/* every record reported flushed is stored */
	for (int round = 0; round < 3; round++)
		for (uint64_t i = start[round]; i < flushed[round]; i++)
			if (!double_has_key(&ds, PROBE, "a-to-b",
					    harness_start_ns(i)))
				fail_msg("record %" PRIu64 " (flushed before "
					 "kill %d) is missing", i, round + 1);
	/* and nothing else than what a child submitted */
	for (size_t k = 0; k < ds.n_keys; k++) {
		const char *p = strrchr(ds.keys[k], '|');
		uint64_t ns = strtoull(p + 1, NULL, 10);
		uint64_t i = (ns - RECORD_BASE_NS) / 1000000000ULL;
		bool known = false;

		for (int round = 0; round < 3; round++)
			if (i >= start[round] && i < flushed[round] + 7)
				known = true;
		if (!known)
			fail_msg("unexpected record %s", ds.keys[k]);
	}
	print_message("stored %ld distinct (%" PRIu64 " required), %ld "
		      "received twice\n", ds.unique, required,
		      ds.duplicates);
	assert_true((uint64_t)ds.unique >= required);
	assert_true((uint64_t)ds.unique <= required + 3 * 7);
	/* resends: at most the batch in flight at each kill */
	assert_true(ds.duplicates <= 3 * 20);
	double_stats_free(&ds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_delivers_every_record_once_in_batches),
		T(test_batches_respect_byte_bound),
		T(test_segments_rotate_while_delivering),
		T(test_5xx_is_retried_with_backoff),
		T(test_429_is_retried),
		T(test_collector_down_then_back),
		T(test_submit_does_not_wait_for_a_failing_or_stalled_collector),
		T(test_close_is_bounded_by_its_timeout),
		T(test_refused_record_is_quarantined_and_the_rest_delivered),
		T(test_too_large_body_is_split),
		T(test_refused_token_keeps_records_until_fixed),
		T(test_token_file_checks),
		T(test_bad_submissions_are_refused_and_not_counted),
		T(test_bad_config_is_refused),
		T(test_spool_in_use_is_refused),
		T(test_full_spool_drops_the_oldest_and_counts),
		T(test_pending_records_survive_a_restart),
		T(test_torn_last_line_is_dropped_and_counted),
		T(test_ack_file_replacement_is_crash_safe),
		T(test_kill_9_mid_upload_loses_nothing),
#undef T
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
