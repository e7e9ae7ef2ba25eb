/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Builds the data set of the collector's report benchmark in a SQLite
 * store, the way the daemon would have built it:
 *
 *   bench_collector_dataset DB [--links 90] [--days 30] [--pkts 600]
 *                           [--end NS] [--seed 1]
 *
 * Every link sends one interval record per minute (interval_ns = 60 s,
 * --pkts packets with RTT, forward, backward and IPDV histograms of
 * seeded random delays, one link in ten with some loss), over --days days
 * ending at --end (default: today 00:00 UTC minus 8 days). Day by day, all
 * links' records of the day go in through store_insert_stream (one
 * transaction per link and day, as one upload of 1440 records) and store_maintain runs as the daemon's maintenance
 * would at the end of that day: the real rollup code builds the 1-minute
 * rollups (exact merges) and the hour rollups, and retention (raw 7 days,
 * minutes 90 days, hours 3 years) drops raw records older than 7 days. A
 * last maintain at the real time leaves the minute and hour rollups of
 * the whole period and no raw records (the period ended more than 7 days
 * ago), as in a store a month after the fact. The same arguments give the
 * same data. Commits are not synced while it loads (a fixture: the rows
 * are what the daemon would store, only not crash-safe meanwhile).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metroprobe/hist.h"
#include "metroprobe/mp_time.h"
#include "metroprobe/record.h"
#include "store.h"
#include "store_sqlite.h"
#include "synth_record.h"

#define NS        1000000000ULL
#define MINUTE_NS (60 * NS)
#define DAY_NS    (86400 * NS)

/* One minute record of link i; its histograms are h[]. */
static void
make_minute(struct interval_record *r, struct hist *h, unsigned link,
	    uint64_t start_ns, uint64_t pkts, uint64_t *seed)
{
	uint64_t base = 150000 + 5000 * (uint64_t)link, lost;
	unsigned k;

	record_init(r);
	snprintf(r->probe, sizeof(r->probe), "centre-%02u", link / 3);
	snprintf(r->session, sizeof(r->session), "link-%02u", link);
	snprintf(r->src, sizeof(r->src), "10.0.%u.1:862", link / 3);
	snprintf(r->dst, sizeof(r->dst), "10.1.%u.2:862", link);
	r->start_ns = start_ns;
	r->clock_synced = true;
	lost = link % 10 == 0 ? synth_rnd(seed) % 3 : 0;
	synth_fill(r, h, pkts, lost, MINUTE_NS, base, seed);
	for (k = 0; k < RECORD_HIST_COUNT; k++)
		r->hist[k] = &h[k];         /* not owned: lives in h[] */
	delay_summary_from_hist(&r->rtt, &h[RECORD_HIST_RTT]);
	delay_summary_from_hist(&r->owd_fwd, &h[RECORD_HIST_OWD_FWD]);
	delay_summary_from_hist(&r->owd_back, &h[RECORD_HIST_OWD_BACK]);
	delay_summary_from_hist(&r->ipdv, &h[RECORD_HIST_IPDV]);
}

/* store_next_fn: the 1440 minutes of one link and day, one at a time
 * (the histograms are reused: record_free leaves them alone). */
struct day_source {
	struct hist h[RECORD_HIST_COUNT];
	unsigned link, minute;
	uint64_t day_ns, pkts, seed;
};

static int
next_minute(struct interval_record *r, void *arg)
{
	struct day_source *ds = arg;

	if (ds->minute == 1440)
		return 0;
	make_minute(r, ds->h, ds->link, ds->day_ns + ds->minute * MINUTE_NS,
		    ds->pkts, &ds->seed);
	ds->minute++;
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "links", required_argument, NULL, 'l' },
		{ "days", required_argument, NULL, 'd' },
		{ "pkts", required_argument, NULL, 'k' },
		{ "end", required_argument, NULL, 'e' },
		{ "seed", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const struct store_retention ret = {
		.raw_ns = 7 * DAY_NS, .minute_ns = 90 * DAY_NS,
		.hour_ns = 3 * 365 * DAY_NS,
	};
	unsigned links = 90, days = 30, l, d;
	uint64_t pkts = 600, seed0 = 1, end_ns = 0, start_ns;
	struct day_source *ds;
	struct store_stats stats;
	struct store *st;
	char err[512];
	time_t t0 = time(NULL);
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': links = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': days = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'k': pkts = strtoull(optarg, NULL, 10); break;
		case 'e': end_ns = strtoull(optarg, NULL, 10); break;
		case 'r': seed0 = strtoull(optarg, NULL, 10); break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc || links == 0 || days == 0 || pkts < 3)
		goto usage;
	if (end_ns == 0)
		end_ns = (mp_time_now_ns() / DAY_NS - 8) * DAY_NS;
	start_ns = end_ns - (uint64_t)days * DAY_NS;

	if (store_sqlite_open(argv[optind], &ret, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_collector_dataset: %s\n", err);
		return 1;
	}
	/* a fixture: commits need not be synced (the rows are the same) */
	if (store_sqlite_set_synced(st, false) < 0) {
		fprintf(stderr, "bench_collector_dataset: cannot turn off "
			"synchronous commits\n");
		return 1;
	}
	ds = malloc(sizeof(*ds));
	if (ds == NULL) {
		fprintf(stderr, "bench_collector_dataset: out of memory\n");
		return 1;
	}
	for (d = 0; d < days; d++) {
		uint64_t day = start_ns + (uint64_t)d * DAY_NS;

		for (l = 0; l < links; l++) {
			size_t n_new, n_dup;

			ds->link = l;
			ds->minute = 0;
			ds->day_ns = day;
			ds->pkts = pkts;
			ds->seed = (seed0 * 1000003 + l) *
				   0x9E3779B97F4A7C15ULL + d + 1;
			if (store_insert_stream(st, next_minute, ds, &n_new,
						&n_dup, err, sizeof(err)) < 0) {
				fprintf(stderr, "bench_collector_dataset: "
					"%s\n", err);
				return 1;
			}
		}
		/* the daemon's maintenance, just after the day ended */
		if (store_maintain(st, day + DAY_NS + MINUTE_NS) < 0)
			return 1;
		fprintf(stderr, "day %u of %u done (%ld s)\n", d + 1, days,
			(long)(time(NULL) - t0));
	}
	if (store_maintain(st, mp_time_now_ns()) < 0 ||
	    store_sqlite_set_synced(st, true) < 0 ||
	    store_stats(st, &stats) < 0)
		return 1;
	printf("from_ns %" PRIu64 " to_ns %" PRIu64 " links %u raw %" PRIu64
	       " minute %" PRIu64 " hour %" PRIu64 " bytes %" PRIu64
	       " seconds %ld\n", start_ns, end_ns, links, stats.raw_records,
	       stats.minute_records, stats.hour_records, stats.bytes,
	       (long)(time(NULL) - t0));
	store_close(st);
	free(ds);
	return 0;
usage:
	fprintf(stderr, "usage: bench_collector_dataset DB [--links N] "
		"[--days N] [--pkts N] [--end NS] [--seed N]\n");
	return 2;
}
