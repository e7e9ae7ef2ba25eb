/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTML report: one self-contained page a regulator can open offline and
 * print on A4. Inline CSS and SVG only: no script, no font, image or
 * style sheet from anywhere, no link out. Every string that comes from a
 * record (probe, session, addresses) is escaped.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/mp_time.h"
#include "report_render.h"

static const char *
html_status_class(enum sla_status s)
{
	return s == SLA_PASS ? "pass" : s == SLA_FAIL ? "fail" : "nm";
}

/* One metric cell: the value, the bound below it, the raw figure in
 * data-value for machines. */
static void
html_metric_cell(struct rbuf *b, const struct sla_link_result *l,
		 enum sla_metric m)
{
	const struct sla_metric_result *r = &l->m[m];
	char v[64], bound[64];

	rbuf_printf(b, "<td class=\"num m %s\" data-metric=\"%s\"",
		    html_status_class(r->status), sla_metric_name(m));
	if (r->status == SLA_PASS || r->status == SLA_FAIL)
		rbuf_printf(b, " data-value=\"%.15g\">%s", r->value,
			    report_html_value(m, r->value, v, sizeof(v)));
	else
		rbuf_printf(b, ">%s", sla_status_name(r->status));
	if (r->status != SLA_NOT_SET)
		rbuf_printf(b, "<span class=\"sub\">%s %s</span>",
			    m == SLA_M_AVAILABILITY || m == SLA_M_CAPACITY ?
			    "\xe2\x89\xa5" : "\xe2\x89\xa4",
			    report_html_value(m, r->bound, bound, sizeof(bound)));
	rbuf_puts(b, "</td>");
}

static void
html_header(struct rbuf *b, const struct report_data *d)
{
	char from[48], to[48], gen[48];
	const char *res;

	rbuf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
		  "<meta charset=\"utf-8\">"
		  "<meta name=\"viewport\" content=\"width=device-width\">"
		  "<meta name=\"generator\" content=\"metroprobe-collector\">"
		  "<title>");
	rbuf_html(b, d->title);
	rbuf_printf(b, "</title><style>%s</style></head><body>\n", report_css);
	switch (d->resolution_ns) {
	case STORE_RES_MINUTE:
		res = "1-minute rollups (raw records no longer kept)";
		break;
	case STORE_RES_HOUR:
		res = "1-hour rollups (raw records no longer kept)";
		break;
	default:
		res = "raw interval records";
		break;
	}
	rbuf_puts(b, "<header class=\"top\"><div class=\"inner\">"
		  "<div class=\"kicker\">Service level agreement \xc2\xb7 "
		  "compliance report</div><h1>");
	rbuf_html(b, d->title);
	rbuf_printf(b, "</h1><dl><dt>Period (UTC)</dt><dd id=\"period\">"
		    "<time>%s</time> \xe2\x80\x93 <time>%s</time></dd>"
		    "<dt>Generated</dt><dd id=\"generated\"><time>%s</time>"
		    "</dd><dt>Data</dt><dd>%s</dd>",
		    report_time(d->from_ns, from, sizeof(from)),
		    report_time(d->to_ns, to, sizeof(to)),
		    report_time(d->generated_ns, gen, sizeof(gen)), res);
	if (d->probe_filter != NULL) {
		rbuf_puts(b, "<dt>Probe</dt><dd>");
		rbuf_html(b, d->probe_filter);
		rbuf_puts(b, "</dd>");
	}
	rbuf_puts(b, "</dl></div></header><main>\n");
}

static void
html_summary(struct rbuf *b, const struct report_data *d)
{
	char cov[32];

	rbuf_printf(b, "<h2>Summary</h2><div class=\"cards\" id=\"summary\">"
		    "<div class=\"card\"><div class=\"n\" id=\"n-links\">%zu"
		    "</div><div class=\"l\">links evaluated</div></div>"
		    "<div class=\"card ok\"><div class=\"n\" id=\"n-pass\">%zu"
		    "</div><div class=\"l\">links passing</div></div>"
		    "<div class=\"card%s\"><div class=\"n\" id=\"n-fail\">%zu"
		    "</div><div class=\"l\">links failing</div></div>"
		    "<div class=\"card\"><div class=\"n\" id=\"coverage\">%s"
		    "</div><div class=\"l\">coverage (\xce\x94t with data)"
		    "</div></div>"
		    "<div class=\"card\"><div class=\"n\" id=\"n-viol\">%zu"
		    "</div><div class=\"l\">violating \xce\x94t</div></div>"
		    "<div class=\"card\"><div class=\"n\" id=\"n-degraded\">%"
		    PRIu64 "</div><div class=\"l\">measurement-degraded "
		    "\xce\x94t (not judged on delay)</div></div>"
		    "<div class=\"card\"><div class=\"n\" id=\"n-unstated\">%"
		    PRIu64 "</div><div class=\"l\">\xce\x94t without a stated "
		    "error bound</div></div>"
		    "</div>",
		    d->n_links, d->n_pass, d->n_fail ? " bad" : "", d->n_fail,
		    report_fmt_pct(d->coverage_pct, cov, sizeof(cov)),
		    d->n_violations, d->n_degraded, d->n_unstated);
	if (d->n_links == 0)
		rbuf_puts(b, "<p class=\"verdict bad\" id=\"verdict\">No "
			  "measurement was stored for this period: nothing "
			  "can be shown to comply.</p>");
	else if (d->n_fail == 0)
		rbuf_printf(b, "<p class=\"verdict\" id=\"verdict\">All %zu "
			    "links met every bound of their SLA profile over "
			    "the period.</p>", d->n_links);
	else
		rbuf_printf(b, "<p class=\"verdict bad\" id=\"verdict\">%zu of "
			    "%zu links did not meet at least one bound of their "
			    "SLA profile over the period.</p>", d->n_fail,
			    d->n_links);
}

/* Sorted unique names of sources (probes) or destinations (peers). */
static size_t
html_names(const struct report_data *d, bool dst, const char **out)
{
	size_t i, j, n = 0;

	for (i = 0; i < d->n_links; i++) {
		const char *s = dst ? d->links[i].peer : d->links[i].probe;

		for (j = 0; j < n && strcmp(out[j], s) != 0; j++)
			;
		if (j < n)
			continue;
		for (j = n; j > 0 && strcmp(out[j - 1], s) > 0; j--)
			out[j] = out[j - 1];
		out[j] = s;
		n++;
	}
	return n;
}

/* The note and the head row (the destinations) of the matrix. */
static void
html_matrix_head(struct rbuf *b, const char *const *dst, size_t nd)
{
	size_t j;

	rbuf_puts(b, "<p class=\"note\">Rows: source centre (probe). Columns: "
		  "destination. Each cell shows the delay at the profile's "
		  "percentile over the whole period; its colour is that delay "
		  "against the bound, a red frame marks a link that failed "
		  "any bound of its profile.</p>"
		  "<table class=\"matrix\" id=\"matrix\"><thead><tr>"
		  "<th class=\"src\">from \\ to</th>");
	for (j = 0; j < nd; j++) {
		rbuf_puts(b, "<th scope=\"col\">");
		rbuf_html(b, dst[j]);
		rbuf_puts(b, "</th>");
	}
	rbuf_puts(b, "</tr></thead><tbody>");
}

/* One cell: of the links from src to dst, the one whose delay is
 * furthest toward (or over) its bound, and whether any failed. */
static void
html_matrix_cell(struct rbuf *b, const struct report_data *d,
		 const char *src, const char *dst)
{
	const struct sla_link_result *worst = NULL;
	bool any = false, fail = false;
	double ratio = -1.0;
	char v[64];
	size_t k;

	for (k = 0; k < d->n_links; k++) {
		const struct sla_link_result *l = &d->links[k];
		const struct sla_metric_result *m = &l->m[SLA_M_DELAY];

		if (strcmp(l->probe, src) != 0 || strcmp(l->peer, dst) != 0)
			continue;
		any = true;
		fail |= !l->pass;
		if ((m->status == SLA_PASS || m->status == SLA_FAIL) &&
		    m->value / m->bound > ratio) {
			ratio = m->value / m->bound;
			worst = l;
		}
	}
	if (!any) {
		rbuf_printf(b, "<td class=\"cell %s\">%s</td>",
			    strcmp(src, dst) == 0 ? "c-self" : "c-none",
			    strcmp(src, dst) == 0 ? "\xe2\x80\x94" :
			    "not measured");
		return;
	}
	rbuf_printf(b, "<td class=\"cell %s %s\" data-from=\"",
		    ratio < 0 ? "c-none" : ratio <= 0.5 ? "c-good" :
		    ratio <= 0.8 ? "c-ok" : ratio <= 1.0 ? "c-warn" : "c-bad",
		    fail ? "sla-fail" : "sla-pass");
	rbuf_html(b, src);
	rbuf_puts(b, "\" data-to=\"");
	rbuf_html(b, dst);
	rbuf_printf(b, "\" data-status=\"%s\"", fail ? "fail" : "pass");
	if (worst != NULL)
		rbuf_printf(b, " data-delay-ns=\"%.0f\">p%g %s",
			    worst->m[SLA_M_DELAY].value,
			    worst->profile->delay_percentile,
			    report_fmt_ns(worst->m[SLA_M_DELAY].value, v,
					  sizeof(v)));
	else
		rbuf_puts(b, ">no delay data");
	rbuf_printf(b, "<span class=\"sub\">%s</span></td>",
		    fail ? "\xe2\x9c\x97 FAIL" : "\xe2\x9c\x93 PASS");
}

static void
html_matrix_legend(struct rbuf *b)
{
	rbuf_puts(b, "</tbody></table><div class=\"legend-row\">"
		  "<span><span class=\"sw\" style=\"background:#cfe8d4\">"
		  "</span>\xe2\x89\xa4 50 % of bound</span>"
		  "<span><span class=\"sw\" style=\"background:#e8f2c8\">"
		  "</span>\xe2\x89\xa4 80 %</span>"
		  "<span><span class=\"sw\" style=\"background:#fbe7b0\">"
		  "</span>\xe2\x89\xa4 100 %</span>"
		  "<span><span class=\"sw\" style=\"background:#f4b8b2\">"
		  "</span>over the bound</span>"
		  "<span><span class=\"sw\" style=\"background:#eceff3\">"
		  "</span>no data</span>"
		  "<span><span class=\"sw\" style=\"outline:2px solid #b42318;"
		  "outline-offset:-3px\"></span>link failed its SLA</span>"
		  "</div>");
}

/* Sources by destinations, a cell per pair. */
static void
html_matrix(struct rbuf *b, const struct report_data *d)
{
	const char **src = calloc(d->n_links + 1, sizeof(*src));
	const char **dst = calloc(d->n_links + 1, sizeof(*dst));
	size_t ns, nd, i, j;

	rbuf_puts(b, "<h2>Centre-to-centre matrix</h2>");
	if (src == NULL || dst == NULL) {
		b->oom = true;
		goto out;
	}
	ns = html_names(d, false, src);
	nd = html_names(d, true, dst);
	html_matrix_head(b, dst, nd);
	for (i = 0; i < ns; i++) {
		rbuf_puts(b, "<tr><th scope=\"row\" class=\"src\">");
		rbuf_html(b, src[i]);
		rbuf_puts(b, "</th>");
		for (j = 0; j < nd; j++)
			html_matrix_cell(b, d, src[i], dst[j]);
		rbuf_puts(b, "</tr>");
	}
	html_matrix_legend(b);
out:
	free(src);
	free(dst);
}

static void
html_links_table(struct rbuf *b, const struct report_data *d)
{
	char cov[32];
	size_t i;

	rbuf_puts(b, "<h2>Links</h2><table id=\"links\"><thead><tr>"
		  "<th>Link</th><th>Profile</th><th class=\"num\">Delay</th>"
		  "<th class=\"num\">Loss</th>"
		  "<th class=\"num\">Delay var.</th>"
		  "<th class=\"num\">Availability</th>"
		  "<th class=\"num\">Coverage</th>"
		  "<th class=\"num\">Capacity</th><th>SLA</th>"
		  "</tr></thead><tbody>");
	for (i = 0; i < d->n_links; i++) {
		const struct sla_link_result *l = &d->links[i];
		unsigned m;

		rbuf_puts(b, "<tr class=\"link-row\" data-probe=\"");
		rbuf_html(b, l->probe);
		rbuf_puts(b, "\" data-session=\"");
		rbuf_html(b, l->session);
		rbuf_printf(b, "\" data-status=\"%s\"><td>",
			    l->pass ? "pass" : "fail");
		report_html_link_name(b, l);
		rbuf_puts(b, "<span class=\"sub\">session ");
		rbuf_html(b, l->session);
		rbuf_printf(b, " \xc2\xb7 %s delay</span></td><td>",
			    report_basis_name(l->owd));
		rbuf_html(b, l->profile->name);
		rbuf_puts(b, "</td>");
		for (m = 0; m < SLA_M_COUNT; m++) {
			if (m == SLA_M_CAPACITY)
				rbuf_printf(b, "<td class=\"num\" data-metric="
					    "\"coverage\" data-value=\"%.15g\">"
					    "%s<span class=\"sub\">%" PRIu64
					    " of %" PRIu64 " \xce\x94t</span>"
					    "</td>", l->coverage_pct,
					    report_fmt_pct(l->coverage_pct, cov,
							   sizeof(cov)),
					    l->n_data, l->n_windows);
			html_metric_cell(b, l, (enum sla_metric)m);
		}
		rbuf_printf(b, "<td><span class=\"badge %s\">%s</span></td>"
			    "</tr>", l->pass ? "pass" : "fail",
			    l->pass ? "PASS" : "FAIL");
	}
	rbuf_puts(b, "</tbody></table>");
}

static void
html_link_details(struct rbuf *b, const struct report_data *d)
{
	char label[96], v[64], w[64];
	size_t i;
	unsigned m;

	rbuf_puts(b, "<h2>Delay over time, per link</h2>");
	for (i = 0; i < d->n_links; i++) {
		const struct sla_link_result *l = &d->links[i];
		uint64_t per_point = l->n_chart ? (l->chart[0].end_ns -
					l->chart[0].start_ns) : l->interval_ns;

		rbuf_printf(b, "<section class=\"link\" id=\"link-%zu\">"
			    "<span class=\"status badge %s\">%s</span><h3>",
			    i, l->pass ? "pass" : "fail",
			    l->pass ? "PASS" : "FAIL");
		report_html_link_name(b, l);
		rbuf_puts(b, " <small>(session ");
		rbuf_html(b, l->session);
		rbuf_puts(b, ", ");
		rbuf_html(b, l->src);
		rbuf_puts(b, " \xe2\x86\x92 ");
		rbuf_html(b, l->dst);
		rbuf_puts(b, ")</small></h3><table class=\"detail\"><thead><tr>"
			  "<th>Metric</th><th class=\"num\">Measured</th>"
			  "<th class=\"num\">Bound</th><th>Result</th></tr>"
			  "</thead><tbody>");
		for (m = 0; m < SLA_M_COUNT; m++) {
			const struct sla_metric_result *r = &l->m[m];
			bool measured = r->status == SLA_PASS ||
					r->status == SLA_FAIL;

			rbuf_printf(b, "<tr><td>%s", report_html_metric_label(l, m,
				    label, sizeof(label)));
			if (m == SLA_M_CAPACITY && l->capacity_from_session) {
				rbuf_puts(b, "<span class=\"sub\">from capacity "
					  "session ");
				rbuf_html(b, l->capacity_session);
				rbuf_puts(b, "</span>");
			}
			rbuf_printf(b, "</td><td class=\"num\">%s</td>"
				    "<td class=\"num\">%s%s</td>"
				    "<td class=\"%s\">%s</td></tr>",
				    measured ? report_html_value(m, r->value, v,
							  sizeof(v)) : "\xe2\x80\x94",
				    r->status == SLA_NOT_SET ? "" :
				    m == SLA_M_AVAILABILITY ||
				    m == SLA_M_CAPACITY ? "\xe2\x89\xa5 " :
				    "\xe2\x89\xa4 ",
				    r->status == SLA_NOT_SET ? "none" :
				    report_html_value(m, r->bound, w, sizeof(w)),
				    html_status_class(r->status),
				    sla_status_name(r->status));
		}
		rbuf_printf(b, "<tr><td>Coverage</td><td class=\"num\">%s</td>"
			    "<td class=\"num\">\xe2\x80\x94</td><td>%" PRIu64
			    " of %" PRIu64 " \xce\x94t with data</td></tr>"
			    "</tbody></table>",
			    report_fmt_pct(l->coverage_pct, v, sizeof(v)),
			    l->n_data, l->n_windows);
		report_svg_delay_chart(b, l);
		rbuf_printf(b, "<p class=\"note\">%s delay, p50 and p99 per %s "
			    "from merged histograms", report_basis_name(l->owd),
			    report_fmt_duration(per_point, v, sizeof(v)));
		if (per_point != l->interval_ns)
			rbuf_printf(b, " (%" PRIu64 " \xce\x94t of %s per point)",
				    per_point / l->interval_ns,
				    report_fmt_duration(l->interval_ns, w,
							sizeof(w)));
		if (l->owd)
			rbuf_puts(b, "; one-way figures are the worse of the "
				  "two directions");
		rbuf_puts(b, ".</p></section>");
	}
}

static void
html_method(struct rbuf *b)
{
	rbuf_puts(b, "<h2>Method</h2><dl class=\"method\">"
		"<dt>Measurements</dt><dd>STAMP test packets (RFC 8762) "
		"between probes; one interval record per session per second, "
		"each delay in a mergeable histogram. Every percentile in this "
		"report is read from histograms merged over the window shown, "
		"never averaged.</dd>"
		"<dt>Delay</dt><dd>One-way delay (RFC 7679) where both clocks "
		"were synchronised for every record of the link, the worse of "
		"the two directions; otherwise round-trip delay (RFC 2681, "
		"less the reflector's residence time). The basis used is "
		"stated per link.</dd>"
		"<dt>Loss ratio</dt><dd>Packets not returned within the loss "
		"timeout over packets sent (RFC 7680).</dd>"
		"<dt>Delay variation</dt><dd>IPDV: difference of the one-way "
		"delay of consecutive packets (RFC 3393, absolute value); "
		"PDV: delay quantile less the minimum delay (RFC 5481).</dd>"
		"<dt>Availability</dt><dd>In the spirit of MEF 10.3: the "
		"period is cut into evaluation intervals \xce\x94t; a "
		"\xce\x94t is unavailable when its loss ratio is over the "
		"threshold. Availability is available \xce\x94t over all "
		"\xce\x94t of the period: a \xce\x94t without data is never "
		"credited. Coverage is the share of \xce\x94t with data.</dd>"
		"<dt>Capacity</dt><dd>The highest one-record throughput "
		"including Ethernet layer-1 overhead, from the profile's "
		"capacity sessions on the same path when there are any, else "
		"from the link itself; \xe2\x80\x9cnot measured\xe2\x80\x9d "
		"when there is no throughput figure.</dd>"
		"<dt>Measurement error</dt><dd>Each record states how far "
		"its delays could be off (timestamping, and for one-way delay "
		"both clocks' error estimates). A \xce\x94t in which a "
		"record stated a bound for the link's delay basis over the "
		"profile's limit is measurement degraded: listed apart, its "
		"delay and delay variation neither pass nor violate; loss and "
		"availability are judged as always. A \xce\x94t whose "
		"records state no bound is judged as before and counted. "
		"Figures over the whole period cover every sample.</dd>"
		"<dt>Bounds</dt><dd>A value exactly at its bound complies.</dd>"
		"</dl>");
}

int
report_render_html(const struct report_data *d, struct rbuf *b)
{
	char gen[48];

	html_header(b, d);
	html_summary(b, d);
	if (d->n_links > 0) {
		html_matrix(b, d);
		html_links_table(b, d);
	}
	report_html_profiles(b, d);
	if (d->n_links > 0) {
		report_html_violations(b, d);
		report_html_quality(b, d);
		html_link_details(b, d);
	}
	html_method(b);
	rbuf_printf(b, "<footer>Generated by metroprobe-collector at %s. "
		    "This page is self-contained: it loads nothing from any "
		    "network.</footer></main></body></html>\n",
		    report_time(d->generated_ns, gen, sizeof(gen)));
	return b->oom ? -ENOMEM : 0;
}
