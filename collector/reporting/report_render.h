/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The evaluated report (every link of the period with its SLA result)
 * and the three renderers that turn it into JSON, CSV and HTML. Internal
 * to collector/reporting.
 */
#ifndef METROPROBE_COLLECTOR_REPORT_RENDER_H
#define METROPROBE_COLLECTOR_REPORT_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"
#include "sla.h"

#define REPORT_SCHEMA        "metroprobe.report.v1"
#define REPORT_DEFAULT_TITLE "Metro backbone SLA compliance report"

struct report_data {
	const char *title;
	uint64_t from_ns, to_ns;
	uint64_t generated_ns;
	uint64_t resolution_ns;          /* STORE_RES_* the records came at */
	const char *probe_filter;        /* NULL: all probes */
	const struct sla_profile_set *set;

	size_t n_links;
	struct sla_link_result *links;   /* sorted by probe, peer, session */

	/* summary */
	size_t n_pass, n_fail;
	uint64_t n_windows, n_data;      /* over all links */
	double coverage_pct;
	size_t n_violations;             /* violating delta-t, all links */
	/* measurement quality, all links: delta-t degraded, delta-t with
	 * data but no stated bound, packets lost in host-suspect delta-t */
	uint64_t n_degraded, n_unstated, lost_host_suspect;

	/* what the evaluation read (tests, benchmarks): per-minute
	 * figures, hour rollups, records read and decoded one by one */
	uint64_t n_read_figs, n_read_hours, n_read_records;
};

/* Growable output buffer; an allocation failure sticks in `oom`. */
struct rbuf {
	char *s;
	size_t len;
	size_t cap;
	bool oom;
};

void rbuf_put(struct rbuf *b, const char *s, size_t n);
void rbuf_puts(struct rbuf *b, const char *s);
void rbuf_printf(struct rbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Text escaped for HTML element content and attribute values. */
void rbuf_html(struct rbuf *b, const char *s);
/* One CSV field (RFC 4180 quoting); text that a spreadsheet would run as
 * a formula (leading = + - @, tab, CR) is prefixed with a quote. */
void rbuf_csv_text(struct rbuf *b, const char *s);

/* RFC 3339 UTC, the fraction only when it is not zero. */
char *report_time(uint64_t ns, char *buf, size_t len);
/* "1.234 ms", "87 us", "1.2 s" for a person. */
char *report_fmt_ns(double ns, char *buf, size_t len);
/* "1 min", "2 h", "90 s" for a person. */
char *report_fmt_duration(uint64_t ns, char *buf, size_t len);
/* "100 Gb/s". */
char *report_fmt_bps(double bps, char *buf, size_t len);
/* "99.99 %", without trailing zeros. */
char *report_fmt_pct(double pct, char *buf, size_t len);
/* "1e-05", shortest exact-looking form of a ratio. */
char *report_fmt_ratio(double r, char *buf, size_t len);

/* Unit of a metric's value in machine output: "ns", "ratio", "percent",
 * "bit/s", "intervals" (no-data runs). */
const char *report_metric_unit(enum sla_metric m);
/* "<=" or ">=". */
const char *report_metric_cmp(enum sla_metric m);
/* Delay label for a link: "one-way" or "round-trip". */
const char *report_basis_name(bool owd);
/* Whether a profile is used by at least one link of the report. */
bool report_profile_used(const struct report_data *d,
			 const struct sla_profile *p);

extern const char report_css[];
/* HTML formatters the parts of the page share (report_html_util.c). */
char *report_html_value(enum sla_metric m, double v, char *buf, size_t len);
char *report_html_metric_label(const struct sla_link_result *l,
			       enum sla_metric m, char *buf, size_t len);
void report_html_link_name(struct rbuf *b, const struct sla_link_result *l);
/* The worst and the violating delta-t (report_html_viol.c). */
void report_html_violations(struct rbuf *b, const struct report_data *d);
/* The thresholds of the SLA profiles applied (report_html_profile.c). */
void report_html_profiles(struct rbuf *b, const struct report_data *d);
/* The measurement-quality table of every link and the list of degraded
 * delta-t (report_html_quality.c). */
void report_html_quality(struct rbuf *b, const struct report_data *d);

/* Inline SVG delay-over-time chart of one link. */
void report_svg_delay_chart(struct rbuf *b, const struct sla_link_result *l);

int report_render_json(const struct report_data *d, struct rbuf *b);
int report_render_csv(const struct report_data *d, struct rbuf *b);
int report_render_html(const struct report_data *d, struct rbuf *b);

/* A format of the report: its name in requests, its MIME type, and the
 * renderer that writes it (report.c holds the one table of them). */
struct report_renderer {
	const char *name;
	const char *mime;
	int (*render)(const struct report_data *d, struct rbuf *b);
};

/*
 * Evaluates every link of the request from the store (two scans: link
 * identities, delay basis and capacity first, then the evaluation).
 * report_data_free releases it.
 */
int report_data_build(struct store *st, const struct sla_profile_set *set,
		      const struct report_request *req, struct report_data *d,
		      char *err, size_t errlen);
void report_data_free(struct report_data *d);

#endif
