/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTML report's measurement quality: per link, how far its figures
 * could be off (the largest error bounds its records stated), what the
 * clocks and the measuring host did to them, and the loss the host may
 * have caused apart from the network's; then every measurement-degraded
 * delta-t with its dates, the bound stated and the profile's limit.
 */
#include <inttypes.h>
#include <stdio.h>

#include "report_render.h"

#define HTML_MAX_DEGRADED 500

/* A bound for a person, or "not stated" when no record stated one. */
static void
html_bound_cell(struct rbuf *b, const char *name, bool stated, uint64_t ns)
{
	char v[64];

	if (!stated) {
		rbuf_printf(b, "<td class=\"num nm\" data-figure=\"%s\">not "
			    "stated</td>", name);
		return;
	}
	rbuf_printf(b, "<td class=\"num\" data-figure=\"%s\" data-value=\"%"
		    PRIu64 "\">%s</td>", name, ns,
		    report_fmt_ns((double)ns, v, sizeof(v)));
}

static void
html_count_cell(struct rbuf *b, const char *name, uint64_t n,
		const char *sub)
{
	rbuf_printf(b, "<td class=\"num\" data-figure=\"%s\" data-value=\"%"
		    PRIu64 "\">%" PRIu64, name, n, n);
	if (sub != NULL)
		rbuf_printf(b, "<span class=\"sub\">%s</span>", sub);
	rbuf_puts(b, "</td>");
}

static void
html_quality_row(struct rbuf *b, const struct sla_link_result *l)
{
	const struct record_quality *q = &l->q;
	char sub[128];

	rbuf_puts(b, "<tr class=\"quality-row\" data-probe=\"");
	rbuf_html(b, l->probe);
	rbuf_puts(b, "\" data-session=\"");
	rbuf_html(b, l->session);
	rbuf_puts(b, "\"><td>");
	report_html_link_name(b, l);
	rbuf_puts(b, "<span class=\"sub\">session ");
	rbuf_html(b, l->session);
	rbuf_puts(b, "</span></td>");
	html_bound_cell(b, "rtt_error_max", q->present, q->rtt_error_ns);
	html_bound_cell(b, "owd_error_max", q->present, q->owd_error_ns);
	html_count_cell(b, "clock_steps", q->clock_steps, NULL);
	snprintf(sub, sizeof(sub), "forward %" PRIu64 ", backward %" PRIu64,
		 q->owd_fwd_negative, q->owd_back_negative);
	html_count_cell(b, "negative_one_way", q->owd_fwd_negative +
			q->owd_back_negative, sub);
	snprintf(sub, sizeof(sub), "clock step %" PRIu64 ", negative RTT %"
		 PRIu64, q->step_excluded, q->rtt_negative);
	html_count_cell(b, "excluded", q->step_excluded + q->rtt_negative,
			sub);
	html_count_cell(b, "lost_network", l->lost - l->lost_host_suspect,
			NULL);
	html_count_cell(b, "lost_host_suspect", l->lost_host_suspect, NULL);
	snprintf(sub, sizeof(sub), "imissed %" PRIu64 ", rx_nombuf %" PRIu64
		 ", ierrors %" PRIu64, q->host_imissed, q->host_rx_nombuf,
		 q->host_ierrors);
	html_count_cell(b, "host_drops", q->host_imissed + q->host_rx_nombuf +
			q->host_ierrors, sub);
	html_count_cell(b, "degraded", l->n_degraded, NULL);
	html_count_cell(b, "bound_not_stated", l->n_unstated, NULL);
	rbuf_puts(b, "</tr>");
}

static void
html_quality_table(struct rbuf *b, const struct report_data *d)
{
	size_t i;

	rbuf_puts(b, "<h2>Measurement quality</h2><p class=\"note\">How far "
		  "each link's figures could be off, and what the measuring "
		  "hosts did to them, over the period. Error bounds are the "
		  "largest the probes stated (round trip: receive and "
		  "transmit timestamping; one way: that and both clocks' "
		  "error estimates); \xe2\x80\x9cnot stated\xe2\x80\x9d for "
		  "probes that state none. Loss possibly caused by the "
		  "measuring host is the loss of the \xce\x94t in which the "
		  "host's own drop counters moved or its receive queue went "
		  "unpolled longer than the ring holds; it is shown apart "
		  "from the network's but still counts in the loss ratio. "
		  "Host drops are the ports' own counters (all sessions of "
		  "the port).</p><table id=\"quality\">"
		  "<thead><tr><th>Link</th>"
		  "<th class=\"num\">Error bound, round trip</th>"
		  "<th class=\"num\">Error bound, one way</th>"
		  "<th class=\"num\">Clock steps</th>"
		  "<th class=\"num\">Negative one-way samples</th>"
		  "<th class=\"num\">Samples excluded</th>"
		  "<th class=\"num\">Loss, network</th>"
		  "<th class=\"num\">Loss possibly caused by the measuring "
		  "host</th>"
		  "<th class=\"num\">Host drops</th>"
		  "<th class=\"num\">Degraded \xce\x94t</th>"
		  "<th class=\"num\">\xce\x94t without stated bound</th>"
		  "</tr></thead><tbody>");
	for (i = 0; i < d->n_links; i++)
		html_quality_row(b, &d->links[i]);
	rbuf_puts(b, "</tbody></table>");
}

static void
html_degraded_row(struct rbuf *b, const struct sla_link_result *l,
		  const struct sla_degraded *g)
{
	char s[48], e[48], v[64], w[64];

	rbuf_puts(b, "<tr class=\"degraded\"><td>");
	report_html_link_name(b, l);
	rbuf_puts(b, "<span class=\"sub\">");
	rbuf_html(b, l->session);
	rbuf_printf(b, "</span></td><td><time>%s</time></td><td><time>%s"
		    "</time></td><td>%s</td><td class=\"num\" data-value=\"%"
		    PRIu64 "\">%s</td><td class=\"num\" data-value=\"%" PRIu64
		    "\">%s</td></tr>", report_time(g->start_ns, s, sizeof(s)),
		    report_time(g->end_ns, e, sizeof(e)),
		    report_basis_name(l->owd), g->bound_ns,
		    report_fmt_ns((double)g->bound_ns, v, sizeof(v)),
		    l->profile->max_error_ns,
		    report_fmt_ns((double)l->profile->max_error_ns, w,
				  sizeof(w)));
}

static void
html_degraded_list(struct rbuf *b, const struct report_data *d)
{
	size_t i, j, shown = 0, total = 0;

	for (i = 0; i < d->n_links; i++)
		total += d->links[i].n_degraded;
	rbuf_puts(b, "<h2>Measurement-degraded intervals</h2>");
	if (total == 0) {
		rbuf_puts(b, "<p id=\"no-degraded\">No \xce\x94t stated an "
			  "error bound over its profile's limit.</p>");
		return;
	}
	rbuf_printf(b, "<p class=\"note\">Every \xce\x94t in which a record "
		    "stated an error bound over the profile's limit (of the "
		    "link's delay basis): its delay and delay variation were "
		    "not judged, neither a pass nor a violation; loss and "
		    "availability were. %zu entries", total);
	if (total > HTML_MAX_DEGRADED)
		rbuf_printf(b, "; the first %d are listed here, the CSV and "
			    "JSON reports list all", HTML_MAX_DEGRADED);
	rbuf_puts(b, ".</p><table id=\"degraded\"><thead><tr><th>Link</th>"
		  "<th>Start (UTC)</th><th>End (UTC)</th><th>Delay basis</th>"
		  "<th class=\"num\">Error bound stated</th>"
		  "<th class=\"num\">Limit</th></tr></thead><tbody>");
	for (i = 0; i < d->n_links && shown < HTML_MAX_DEGRADED; i++) {
		const struct sla_link_result *l = &d->links[i];

		for (j = 0; j < l->n_degraded && shown < HTML_MAX_DEGRADED;
		     j++, shown++)
			html_degraded_row(b, l, &l->degraded[j]);
	}
	rbuf_puts(b, "</tbody></table>");
}

void
report_html_quality(struct rbuf *b, const struct report_data *d)
{
	html_quality_table(b, d);
	html_degraded_list(b, d);
}
