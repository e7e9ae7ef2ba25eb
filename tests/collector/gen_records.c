/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prints interval records (metroprobe.interval.v1, one JSON line each)
 * with seeded random delays, for the collector's tests and benchmarks.
 * The same seed gives the same records.
 *
 *   gen_records --probe P --session S --start NS --interval NS --count N
 *               [--seed X] [--pkts N] [--delay NS] [--synced]
 *               [--src ADDR] [--dst ADDR] [--lost N]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/hist.h"
#include "metroprobe/record.h"
#include "synth_record.h"

struct gen {
	const char *probe, *session, *src, *dst;
	uint64_t start_ns, interval_ns, count, seed, pkts, delay_ns, lost;
	int synced;
};

static int
gen_one(const struct gen *g, uint64_t idx, uint64_t *seed)
{
	struct hist h[RECORD_HIST_COUNT];
	struct interval_record r;
	uint64_t i;
	char *json;

	record_init(&r);
	snprintf(r.probe, sizeof(r.probe), "%s", g->probe);
	snprintf(r.session, sizeof(r.session), "%s", g->session);
	snprintf(r.src, sizeof(r.src), "%s", g->src);
	snprintf(r.dst, sizeof(r.dst), "%s", g->dst);
	r.start_ns = g->start_ns + idx * g->interval_ns;
	r.interval_ns = g->interval_ns;
	r.clock_synced = g->synced != 0;
	synth_fill(&r, h, g->pkts, g->lost < g->pkts ? g->lost : g->pkts,
		   g->interval_ns, g->delay_ns, seed);
	r.hist[RECORD_HIST_RTT] = &h[RECORD_HIST_RTT];
	r.hist[RECORD_HIST_IPDV] = &h[RECORD_HIST_IPDV];
	if (g->synced) {
		r.hist[RECORD_HIST_OWD_FWD] = &h[RECORD_HIST_OWD_FWD];
		r.hist[RECORD_HIST_OWD_BACK] = &h[RECORD_HIST_OWD_BACK];
	}
	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		struct delay_summary *s = i == RECORD_HIST_RTT ? &r.rtt :
			i == RECORD_HIST_OWD_FWD ? &r.owd_fwd :
			i == RECORD_HIST_OWD_BACK ? &r.owd_back : &r.ipdv;

		if (r.hist[i] != NULL && !hist_empty(r.hist[i]))
			delay_summary_from_hist(s, r.hist[i]);
		else
			r.hist[i] = NULL;
	}
	json = record_to_json(&r);
	/* The histograms live on this stack frame: not record_free'd. */
	if (json == NULL)
		return -1;
	puts(json);
	free(json);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "probe", required_argument, NULL, 'p' },
		{ "session", required_argument, NULL, 's' },
		{ "src", required_argument, NULL, 'S' },
		{ "dst", required_argument, NULL, 'D' },
		{ "start", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'r' },
		{ "pkts", required_argument, NULL, 'k' },
		{ "delay", required_argument, NULL, 'd' },
		{ "lost", required_argument, NULL, 'l' },
		{ "synced", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	struct gen g = {
		.probe = "probe-a", .session = "a-to-b",
		.src = "192.0.2.1:862", .dst = "192.0.2.2:862",
		.start_ns = 1764000000000000000ULL,
		.interval_ns = 1000000000ULL, .count = 10, .seed = 1,
		.pkts = 100, .delay_ns = 250000, .lost = 0, .synced = 0,
	};
	uint64_t seed, i;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': g.probe = optarg; break;
		case 's': g.session = optarg; break;
		case 'S': g.src = optarg; break;
		case 'D': g.dst = optarg; break;
		case 't': g.start_ns = strtoull(optarg, NULL, 10); break;
		case 'i': g.interval_ns = strtoull(optarg, NULL, 10); break;
		case 'n': g.count = strtoull(optarg, NULL, 10); break;
		case 'r': g.seed = strtoull(optarg, NULL, 10); break;
		case 'k': g.pkts = strtoull(optarg, NULL, 10); break;
		case 'd': g.delay_ns = strtoull(optarg, NULL, 10); break;
		case 'l': g.lost = strtoull(optarg, NULL, 10); break;
		case 'y': g.synced = 1; break;
		default:
			fprintf(stderr, "usage: gen_records [--probe P] "
				"[--session S] [--src A] [--dst A] "
				"[--start NS] [--interval NS] [--count N] "
				"[--seed X] [--pkts N] [--delay NS] "
				"[--lost N] [--synced]\n");
			return 2;
		}
	}
	if (g.interval_ns == 0 || g.delay_ns == 0) {
		fprintf(stderr, "gen_records: --interval and --delay must be "
			"positive\n");
		return 2;
	}
	seed = g.seed * 0x9E3779B97F4A7C15ULL + 1;
	for (i = 0; i < g.count; i++)
		if (gen_one(&g, i, &seed) < 0) {
			fprintf(stderr, "gen_records: out of memory\n");
			return 1;
		}
	return fflush(stdout) == 0 ? 0 : 1;
}
