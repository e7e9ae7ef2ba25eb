/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Report fixture: stores six hand-made links into a real SQLite store
 * and writes the JSON, CSV and HTML reports of 2026-11-25T00:00:00Z to
 * 00:10:00Z with report_generate. test_report.py checks every figure
 * against the hand computation below and renders the HTML in Chromium.
 *
 *   report_fixture DB CONFIG OUTDIR
 *
 * Three centres: north 10.0.0.1, south 10.0.0.2, east 10.0.0.3. Every
 * record lasts 30 s, two per minute (delta-t = 1 minute, ten of them),
 * and holds rx = tx - lost samples of one value per histogram; values are
 * bucket midpoints (mid() in test_report.py) so quantiles are exact.
 *
 *   A north -> south "north-south": synchronised; forward mid(400 us),
 *     backward mid(420 us), IPDV mid(20 us), 6000 sent per record, none
 *     lost; layer-1 throughput 100 Gb/s in the first record. Passes.
 *   B north -> east "north-east" (profile "east": delay <= 2 ms, no
 *     capacity bound, measurement error <= 50 us): synchronised; forward
 *     mid(500 us) but mid(2.5 ms) in minutes 3 and 4 (4 of 20 records:
 *     the period p99 too); backward mid(500 us). Its records state their
 *     error bounds: one-way 20 us, but 30 us and 80 us in minute 4's
 *     two records (minute 4 is measurement degraded, bound 80 us: its
 *     delay is not a violation); RTT 3 us, but 900 us in minute 7
 *     (no matter on a one-way basis); one clock step in record 2 with 2
 *     samples excluded. Fails on delay; one delay violation.
 *   C south -> north "south-north": clocks not synchronised, RTT
 *     mid(600 us), IPDV mid(15 us); no record in minutes 5, 6, 7; 120 Gb/s.
 *     Coverage and availability 70 %: fails on availability only.
 *   D east -> north "east-north": synchronised, one-way mid(300 us);
 *     minute 2 sends 2 x 500 and loses 1 (1e-3: unavailable), the other
 *     minutes 2 x 10000 and lose none: period loss 1/181000 passes,
 *     availability 90 % fails: fails on availability only. Its records
 *     state error bounds of 2 us (RTT) and 30 us (one-way); the one
 *     that loses a packet (record 4) says the host may have lost it
 *     (imissed 3, rx_nombuf 1), record 10 counts 2 ierrors, record 6
 *     has 3 negative backward samples (lowest -1.5 us) and one negative
 *     RTT. The default profile sets no error limit.
 *   A, C, E, F state no quality (older probes): every delta-t with data
 *     is one without a stated bound (10 + 7 + 10 + 1).
 *   E south -> east, session "=s-e <b>\"x\",&'" (profile "east"): not
 *     synchronised, RTT mid(700 us) (bound 2 ms). Passes. Its name has
 *     every character HTML and CSV must escape.
 *   F north -> south "north-south-cap" (profile "captest", no
 *     availability bound): a capacity session, minute 0 only, 110 Gb/s.
 *     The default profile names *-cap as capacity sessions, so A's
 *     capacity is F's 110 Gb/s, not A's own 100 Gb/s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/config.h"
#include "metroprobe/hist.h"
#include "metroprobe/record.h"
#include "report.h"
#include "store.h"
#include "store_sqlite.h"

#define S   1000000000ULL
#define T0  1795564800000000000ULL      /* 2026-11-25T00:00:00Z */

static uint64_t
mid(uint64_t v)
{
	unsigned e = 63u - (unsigned)__builtin_clzll(v);
	unsigned s = e - HIST_SUB_BITS;

	return ((v >> s) << s) + (1ULL << (s - 1));
}

static struct hist *
hist_of(uint64_t n, uint64_t v)
{
	struct hist *h;
	uint64_t i;

	if (v == 0 || n == 0)
		return NULL;
	h = malloc(sizeof(*h));
	if (h == NULL)
		abort();
	hist_init(h);
	for (i = 0; i < n; i++)
		hist_insert(h, v);
	return h;
}

struct link_spec {
	const char *probe, *session, *src, *dst;
	bool synced;
};

static void
rec_make(struct interval_record *r, const struct link_spec *l, unsigned k,
	 uint64_t tx, uint64_t lost, uint64_t rtt, uint64_t fwd,
	 uint64_t back, uint64_t ipdv, double l1_bps)
{
	uint64_t rx = tx - lost;

	record_init(r);
	snprintf(r->probe, sizeof(r->probe), "%s", l->probe);
	snprintf(r->session, sizeof(r->session), "%s", l->session);
	snprintf(r->src, sizeof(r->src), "%s", l->src);
	snprintf(r->dst, sizeof(r->dst), "%s", l->dst);
	r->start_ns = T0 + k * 30 * S;
	r->interval_ns = 30 * S;
	r->tx_pkts = tx;
	r->tx_bytes = tx * 128;
	r->rx_pkts = rx;
	r->rx_bytes = rx * 128;
	r->lost = lost;
	r->lost_fwd = lost;
	r->clock_synced = l->synced;
	r->hist[RECORD_HIST_RTT] = hist_of(rx, rtt);
	r->hist[RECORD_HIST_OWD_FWD] = hist_of(l->synced ? rx : 0, fwd);
	r->hist[RECORD_HIST_OWD_BACK] = hist_of(l->synced ? rx : 0, back);
	r->hist[RECORD_HIST_IPDV] = hist_of(rx, ipdv);
	r->hist_owned = (1u << RECORD_HIST_COUNT) - 1;
	if (r->hist[RECORD_HIST_RTT] != NULL)
		delay_summary_from_hist(&r->rtt, r->hist[RECORD_HIST_RTT]);
	if (r->hist[RECORD_HIST_OWD_FWD] != NULL)
		delay_summary_from_hist(&r->owd_fwd,
					r->hist[RECORD_HIST_OWD_FWD]);
	if (r->hist[RECORD_HIST_OWD_BACK] != NULL)
		delay_summary_from_hist(&r->owd_back,
					r->hist[RECORD_HIST_OWD_BACK]);
	if (r->hist[RECORD_HIST_IPDV] != NULL)
		delay_summary_from_hist(&r->ipdv, r->hist[RECORD_HIST_IPDV]);
	r->throughput_l1_bps = l1_bps;
	r->throughput_bps = l1_bps * 128.0 / 148.0;
}

static const struct link_spec link_a = { "north", "north-south",
	"10.0.0.1:862", "10.0.0.2:862", true };
static const struct link_spec link_b = { "north", "north-east",
	"10.0.0.1:862", "10.0.0.3:862", true };
static const struct link_spec link_c = { "south", "south-north",
	"10.0.0.2:862", "10.0.0.1:862", false };
static const struct link_spec link_d = { "east", "east-north",
	"10.0.0.3:862", "10.0.0.1:862", true };
static const struct link_spec link_e = { "south", "=s-e <b>\"x\",&'",
	"10.0.0.2:862", "10.0.0.3:862", false };
static const struct link_spec link_f = { "north", "north-south-cap",
	"10.0.0.1:862", "10.0.0.2:862", true };

/* B's and D's measurement quality (see the top). */
static void
quality_b(struct interval_record *r, unsigned k)
{
	r->q.present = true;
	r->q.rtt_error_ns = k / 2 == 7 ? 900000 : 3000;
	r->q.owd_error_ns = k == 9 ? 80000 : k == 8 ? 30000 : 20000;
	r->q.clock_steps = k == 2;
	r->q.step_excluded = k == 2 ? 2 : 0;
	r->q.peer_clock_synced = true;
}

static void
quality_d(struct interval_record *r, unsigned k)
{
	r->q.present = true;
	r->q.rtt_error_ns = 2000;
	r->q.owd_error_ns = 30000;
	r->q.host_loss_suspect = k == 4;
	r->q.host_imissed = k == 4 ? 3 : 0;
	r->q.host_rx_nombuf = k == 4 ? 1 : 0;
	r->q.host_ierrors = k == 10 ? 2 : 0;
	r->q.owd_back_negative = k == 6 ? 3 : 0;
	r->q.owd_back_negative_min_ns = k == 6 ? -1500 : 0;
	r->q.rtt_negative = k == 6 ? 1 : 0;
	r->q.peer_clock_synced = true;
}

/* Records of all six links; returns how many. */
static size_t
fixture(struct interval_record *r)
{
	size_t n = 0;
	unsigned k;

	for (k = 0; k < 20; k++) {
		uint64_t fwd_b = (k / 2 == 3 || k / 2 == 4) ? mid(2500000) :
							       mid(500000);

		rec_make(&r[n++], &link_a, k, 6000, 0, mid(820000),
			 mid(400000), mid(420000), mid(20000),
			 k == 0 ? 100e9 : 1e6);
		rec_make(&r[n], &link_b, k, 6000, 0, fwd_b + mid(500000),
			 fwd_b, mid(500000), mid(10000), 0.0);
		quality_b(&r[n++], k);
		if (k / 2 < 5 || k / 2 > 7)
			rec_make(&r[n++], &link_c, k, 6000, 0, mid(600000), 0,
				 0, mid(15000), k == 1 ? 120e9 : 1e6);
		rec_make(&r[n], &link_d, k, k / 2 == 2 ? 500 : 10000,
			 k == 4 ? 1 : 0, mid(600000), mid(300000),
			 mid(300000), mid(5000), 100e9);
		quality_d(&r[n++], k);
		rec_make(&r[n++], &link_e, k, 6000, 0, mid(700000), 0, 0,
			 mid(8000), 1e6);
		if (k < 2)
			rec_make(&r[n++], &link_f, k, 6000, 0, mid(820000),
				 mid(400000), mid(420000), mid(20000), 110e9);
	}
	return n;
}

static int
write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		enum report_format f;
		const char *name;
	} outputs[] = {
		{ REPORT_JSON, "report.json" },
		{ REPORT_CSV, "report.csv" },
		{ REPORT_HTML, "report.html" },
	};
	struct store_retention ret = { 0 };
	static struct interval_record recs[100];
	struct sla_profile_set *set = NULL;
	struct mp_config *cfg = NULL;
	struct store *st = NULL;
	size_t n, n_new = 0, n_dup = 0, i;
	char err[512];
	int rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: report_fixture DB CONFIG OUTDIR\n");
		return 2;
	}
	if (mp_config_load(argv[2], &cfg, err, sizeof(err)) < 0 ||
	    sla_profiles_load(cfg, &set, err, sizeof(err)) < 0 ||
	    store_sqlite_open(argv[1], &ret, &st, err, sizeof(err)) < 0)
		goto fail;
	n = fixture(recs);
	if (store_insert(st, recs, n, &n_new, &n_dup, err, sizeof(err)) < 0)
		goto fail;
	printf("records stored: %zu new, %zu already there\n", n_new, n_dup);
	for (i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		struct report_request req = {
			.from_ns = T0,
			.to_ns = T0 + 600 * S,
			.format = outputs[i].f,
		};
		char *out;
		size_t len;

		if (report_generate(st, set, &req, &out, &len, err,
				    sizeof(err)) < 0)
			goto fail;
		if (write_file(argv[3], outputs[i].name, out, len) < 0) {
			free(out);
			goto out;
		}
		free(out);
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "report_fixture: %s\n", err);
out:
	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		record_free(&recs[i]);
	store_close(st);
	sla_profiles_free(set);
	mp_config_free(cfg);
	return rc;
}
