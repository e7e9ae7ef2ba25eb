/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export_feed: a stand-in for the probe's control thread in end-to-end
 * tests. It emits one interval record per session every --interval-ms
 * (records numbered from --from), submits them to the record export and
 * flushes once per interval, as the probe does, then drains on exit.
 *
 * stdout, one line each, flushed as it happens:
 *   flushed N      records [from, N) are in the durable spool
 *   latency max_submit_us=A max_flush_us=B
 *   stats spooled=.. acknowledged=.. pending=.. dropped_full=.. ...
 * The test kills it with SIGKILL at any point, or it stops by itself
 * after --count records (and --close-timeout-ms of draining).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "harness.h"

static void
feed_log(enum export_log_level level, const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "export_feed[%d]: %s\n", (int)level, msg);
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: export_feed --collector URL --spool-dir DIR "
		"[--token-file FILE]\n"
		"         --probe NAME [--session NAME] [--from N] "
		"[--count N (0: forever)]\n"
		"         [--per-flush N] [--interval-ms MS] "
		"[--close-timeout-ms MS]\n"
		"         [--spool-max-bytes N] [--batch-max-records N]\n"
		"         [--base-ns NS (start_ns of record 0)]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "collector", required_argument, NULL, 'c' },
		{ "token-file", required_argument, NULL, 't' },
		{ "spool-dir", required_argument, NULL, 'd' },
		{ "probe", required_argument, NULL, 'p' },
		{ "session", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'n' },
		{ "per-flush", required_argument, NULL, 'k' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "close-timeout-ms", required_argument, NULL, 'w' },
		{ "spool-max-bytes", required_argument, NULL, 'm' },
		{ "batch-max-records", required_argument, NULL, 'b' },
		{ "base-ns", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	struct export_config cfg = {
		.connect_timeout_ms = 1000,
		.request_timeout_ms = 3000,
		.backoff_min_ms = 50,
		.backoff_max_ms = 500,
		.log = feed_log,
	};
	const char *probe = NULL, *session = "a-to-b";
	uint64_t base_ns = RECORD_BASE_NS, from = 0, count = 0;
	uint64_t per_flush = 10, interval_ms = 20;
	uint64_t close_ms = 10000, worst_submit = 0, worst_flush = 0;
	struct export_stats st;
	struct exporter *exp;
	char err[256], line[4096];
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg.collector_url = optarg; break;
		case 't': cfg.token_file = optarg; break;
		case 'd': cfg.spool_dir = optarg; break;
		case 'p': probe = optarg; break;
		case 's': session = optarg; break;
		case 'f': from = strtoull(optarg, NULL, 10); break;
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'k': per_flush = strtoull(optarg, NULL, 10); break;
		case 'i': interval_ms = strtoull(optarg, NULL, 10); break;
		case 'w': close_ms = strtoull(optarg, NULL, 10); break;
		case 'm': cfg.spool_max_bytes = strtoull(optarg, NULL, 10);
			break;
		case 'B': base_ns = strtoull(optarg, NULL, 10); break;
		case 'b': cfg.batch_max_records = strtoul(optarg, NULL, 10);
			break;
		default: usage();
		}
	}
	if (probe == NULL || per_flush == 0)
		usage();
	rc = export_open(&cfg, &exp, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "export_feed: %s\n", err);
		return 1;
	}
	for (uint64_t i = from; count == 0 || i < from + count;) {
		uint64_t t0;

		for (uint64_t k = 0; k < per_flush &&
		     (count == 0 || i < from + count); k++, i++) {
			int n = harness_record_at(line, sizeof(line), probe,
						  session, i, base_ns);

			t0 = harness_now_ns();
			if (n < 0 || export_submit(exp, line, n) != 0) {
				fprintf(stderr, "export_feed: submit failed\n");
				return 1;
			}
			t0 = harness_now_ns() - t0;
			if (t0 > worst_submit)
				worst_submit = t0;
		}
		t0 = harness_now_ns();
		if (export_flush_local(exp) != 0) {
			fprintf(stderr, "export_feed: flush failed\n");
			return 1;
		}
		t0 = harness_now_ns() - t0;
		if (t0 > worst_flush)
			worst_flush = t0;
		printf("flushed %" PRIu64 "\n", i);
		fflush(stdout);
		harness_sleep_ms(interval_ms);
	}
	printf("latency max_submit_us=%" PRIu64 " max_flush_us=%" PRIu64 "\n",
	       worst_submit / 1000, worst_flush / 1000);
	/* Drain first, so the stats below say what was delivered. */
	for (uint64_t t0 = harness_now_ns();;) {
		export_stats(exp, &st);
		if (st.pending == 0 ||
		    harness_now_ns() - t0 >= close_ms * 1000000ULL)
			break;
		harness_sleep_ms(20);
	}
	rc = export_close(exp, st.pending == 0 ? 1000 : 0);
	printf("stats spooled=%" PRIu64 " recovered=%" PRIu64
	       " acknowledged=%" PRIu64 " new=%" PRIu64 " duplicate=%" PRIu64
	       " dropped_full=%" PRIu64 " dropped_torn=%" PRIu64
	       " rejected=%" PRIu64 " retries=%" PRIu64 " drained=%s\n",
	       st.spooled, st.recovered, st.acknowledged, st.acked_new,
	       st.acked_duplicate, st.dropped_full, st.dropped_torn,
	       st.rejected, st.retries, rc == 0 ? "yes" : "no");
	return rc == 0 ? 0 : 3;
}
