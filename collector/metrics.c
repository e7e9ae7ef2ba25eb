/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "metroprobe/mp_time.h"

struct link_gauges {
	char probe[RECORD_NAME_MAX];
	char session[RECORD_NAME_MAX];
	char src[RECORD_ADDR_MAX];
	char dst[RECORD_ADDR_MAX];
	uint64_t start_ns;
	struct delay_summary rtt, owd_fwd, owd_back, ipdv;
	uint64_t tx_pkts, lost;
	uint64_t jitter_ns;
	double throughput_bps;
};

struct metrics {
	pthread_mutex_t lock;
	uint64_t requests[INGEST_OUTCOME_COUNT];
	uint64_t records_new, records_dup;
	uint64_t body_bytes;
	uint64_t start_ns;
	struct link_gauges *links;
	size_t n_links, cap_links;
};

static const char *const ingest_outcome_names[INGEST_OUTCOME_COUNT] = {
#define _(sym, str) [INGEST_##sym] = str,
	foreach_ingest_outcome
#undef _
};

struct metrics *
metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->start_ns = mp_time_now_ns();
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->links);
	free(m);
}

void
metrics_count_request(struct metrics *m, enum ingest_outcome o,
		      uint64_t body_bytes)
{
	pthread_mutex_lock(&m->lock);
	m->requests[o]++;
	m->body_bytes += body_bytes;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_count_records(struct metrics *m, uint64_t n_new, uint64_t n_dup)
{
	pthread_mutex_lock(&m->lock);
	m->records_new += n_new;
	m->records_dup += n_dup;
	pthread_mutex_unlock(&m->lock);
}

static struct link_gauges *
metrics_find_link(struct metrics *m, const char *probe, const char *session)
{
	size_t i;

	for (i = 0; i < m->n_links; i++)
		if (strcmp(m->links[i].probe, probe) == 0 &&
		    strcmp(m->links[i].session, session) == 0)
			return &m->links[i];
	return NULL;
}

int
metrics_link_update(struct metrics *m, const struct interval_record *r)
{
	struct link_gauges *g;
	int rc = 0;

	pthread_mutex_lock(&m->lock);
	g = metrics_find_link(m, r->probe, r->session);
	if (g == NULL) {
		if (m->n_links == m->cap_links) {
			size_t cap = m->cap_links == 0 ? 16 : 2 * m->cap_links;
			struct link_gauges *l = realloc(m->links,
							cap * sizeof(*l));

			if (l == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			m->links = l;
			m->cap_links = cap;
		}
		g = &m->links[m->n_links++];
		memset(g, 0, sizeof(*g));
		snprintf(g->probe, sizeof(g->probe), "%s", r->probe);
		snprintf(g->session, sizeof(g->session), "%s", r->session);
	} else if (r->start_ns < g->start_ns) {
		goto out;               /* a late record: not the latest */
	}
	snprintf(g->src, sizeof(g->src), "%s", r->src);
	snprintf(g->dst, sizeof(g->dst), "%s", r->dst);
	g->start_ns = r->start_ns;
	g->rtt = r->rtt;
	g->owd_fwd = r->owd_fwd;
	g->owd_back = r->owd_back;
	g->ipdv = r->ipdv;
	g->tx_pkts = r->tx_pkts;
	g->lost = r->lost;
	g->jitter_ns = r->jitter_ns;
	g->throughput_bps = r->throughput_bps;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* Label values escape backslash, double quote and newline (exposition
 * format 0.0.4). */
static void
put_label(FILE *f, const char *name, const char *value, bool first)
{
	const char *p;

	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (p = value; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
put_link_labels(FILE *f, const struct link_gauges *g)
{
	fputc('{', f);
	put_label(f, "probe", g->probe, true);
	put_label(f, "session", g->session, false);
	put_label(f, "src", g->src, false);
	put_label(f, "dst", g->dst, false);
	fputc('}', f);
}

enum gauge_kind {
	GAUGE_RTT_P50, GAUGE_RTT_P99, GAUGE_OWD_FWD_P99, GAUGE_OWD_BACK_P99,
	GAUGE_IPDV_P99, GAUGE_JITTER, GAUGE_LOSS_RATIO, GAUGE_THROUGHPUT,
	GAUGE_START,
};

static const struct {
	enum gauge_kind kind;
	const char *name;
	const char *help;
} link_gauge_defs[] = {
	{ GAUGE_RTT_P50, "metroprobe_link_rtt_p50_seconds",
	  "Round-trip delay median of the latest interval (RFC 2681)." },
	{ GAUGE_RTT_P99, "metroprobe_link_rtt_p99_seconds",
	  "Round-trip delay 99th percentile of the latest interval." },
	{ GAUGE_OWD_FWD_P99, "metroprobe_link_owd_fwd_p99_seconds",
	  "Forward one-way delay 99th percentile of the latest interval "
	  "(RFC 7679; only with synchronised clocks)." },
	{ GAUGE_OWD_BACK_P99, "metroprobe_link_owd_back_p99_seconds",
	  "Backward one-way delay 99th percentile of the latest interval "
	  "(only with synchronised clocks)." },
	{ GAUGE_IPDV_P99, "metroprobe_link_ipdv_p99_seconds",
	  "IP packet delay variation 99th percentile of the latest interval "
	  "(RFC 3393)." },
	{ GAUGE_JITTER, "metroprobe_link_jitter_seconds",
	  "RFC 3550 interarrival jitter estimate at the end of the latest "
	  "interval." },
	{ GAUGE_LOSS_RATIO, "metroprobe_link_loss_ratio",
	  "Lost packets over sent packets in the latest interval "
	  "(RFC 7680)." },
	{ GAUGE_THROUGHPUT, "metroprobe_link_throughput_bytes_per_second",
	  "Received test traffic in the latest interval, bytes per second "
	  "of Ethernet frames (Prometheus base unit: bytes)." },
	{ GAUGE_START, "metroprobe_link_last_interval_start_timestamp_seconds",
	  "Start of the latest interval received, Unix time." },
};

/* The gauge's value, or false when the interval did not measure it. */
static bool
link_gauge_value(const struct link_gauges *g, enum gauge_kind k, double *v)
{
	const double s = 1e-9;

	switch (k) {
	case GAUGE_RTT_P50:
		*v = (double)g->rtt.p50 * s;
		return g->rtt.present;
	case GAUGE_RTT_P99:
		*v = (double)g->rtt.p99 * s;
		return g->rtt.present;
	case GAUGE_OWD_FWD_P99:
		*v = (double)g->owd_fwd.p99 * s;
		return g->owd_fwd.present;
	case GAUGE_OWD_BACK_P99:
		*v = (double)g->owd_back.p99 * s;
		return g->owd_back.present;
	case GAUGE_IPDV_P99:
		*v = (double)g->ipdv.p99 * s;
		return g->ipdv.present;
	case GAUGE_JITTER:
		*v = (double)g->jitter_ns * s;
		return true;
	case GAUGE_LOSS_RATIO:
		*v = g->tx_pkts > 0 ? (double)g->lost / (double)g->tx_pkts : 0;
		return g->tx_pkts > 0;
	case GAUGE_THROUGHPUT:
		*v = g->throughput_bps / 8;
		return true;
	case GAUGE_START:
		*v = (double)g->start_ns * s;
		return true;
	}
	return false;
}

char *
metrics_render(struct metrics *m, size_t *len)
{
	char *buf = NULL;
	size_t i, j, n;
	FILE *f;

	f = open_memstream(&buf, len);
	if (f == NULL)
		return NULL;
	pthread_mutex_lock(&m->lock);
	n = sizeof(link_gauge_defs) / sizeof(link_gauge_defs[0]);
	for (j = 0; j < n; j++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n",
			link_gauge_defs[j].name, link_gauge_defs[j].help,
			link_gauge_defs[j].name);
		for (i = 0; i < m->n_links; i++) {
			double v;

			if (!link_gauge_value(&m->links[i],
					      link_gauge_defs[j].kind, &v))
				continue;
			fputs(link_gauge_defs[j].name, f);
			put_link_labels(f, &m->links[i]);
			/* A timestamp needs all its digits, to the ns. */
			if (link_gauge_defs[j].kind == GAUGE_START)
				fprintf(f, " %" PRIu64 ".%09" PRIu64 "\n",
					(uint64_t)(m->links[i].start_ns / MP_NS_PER_SEC),
					(uint64_t)(m->links[i].start_ns % MP_NS_PER_SEC));
			else
				fprintf(f, " %.9g\n", v);
		}
	}
	fputs("# HELP metroprobe_ingest_requests_total Interval upload "
	      "requests by outcome.\n"
	      "# TYPE metroprobe_ingest_requests_total counter\n", f);
	for (i = 0; i < INGEST_OUTCOME_COUNT; i++)
		fprintf(f, "metroprobe_ingest_requests_total{outcome=\"%s\"} "
			"%" PRIu64 "\n", ingest_outcome_names[i],
			m->requests[i]);
	fprintf(f, "# HELP metroprobe_ingest_records_total Interval records "
		"accepted, by whether they were new or already stored.\n"
		"# TYPE metroprobe_ingest_records_total counter\n"
		"metroprobe_ingest_records_total{result=\"new\"} %" PRIu64 "\n"
		"metroprobe_ingest_records_total{result=\"duplicate\"} %" PRIu64
		"\n", m->records_new, m->records_dup);
	fprintf(f, "# HELP metroprobe_ingest_received_bytes_total Bytes of "
		"upload bodies received.\n"
		"# TYPE metroprobe_ingest_received_bytes_total counter\n"
		"metroprobe_ingest_received_bytes_total %" PRIu64 "\n",
		m->body_bytes);
	fprintf(f, "# HELP metroprobe_collector_start_time_seconds Start of "
		"the collector process, Unix time.\n"
		"# TYPE metroprobe_collector_start_time_seconds gauge\n"
		"metroprobe_collector_start_time_seconds %.3f\n",
		(double)m->start_ns * 1e-9);
	fprintf(f, "# HELP metroprobe_links Links with a latest interval.\n"
		"# TYPE metroprobe_links gauge\n"
		"metroprobe_links %zu\n", m->n_links);
	pthread_mutex_unlock(&m->lock);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
