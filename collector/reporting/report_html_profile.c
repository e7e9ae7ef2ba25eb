/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTML report's SLA profiles: every threshold of each profile a link
 * of the report was held to (or the default when there is none), and
 * what a bound that is not set means.
 */
#include <inttypes.h>
#include <stdio.h>

#include "report_render.h"

static void
html_profile_row(struct rbuf *b, const char *label, bool set,
		 const char *value)
{
	rbuf_printf(b, "<tr><th scope=\"row\">%s</th><td>%s</td></tr>", label,
		    set ? value : "not evaluated");
}

static void
html_profile(struct rbuf *b, const struct sla_profile *p, bool config)
{
	char v[96], w[64];
	unsigned i;

	rbuf_puts(b, "<table class=\"profile\" data-profile=\"");
	rbuf_html(b, p->name);
	rbuf_puts(b, "\"><thead><tr><th colspan=\"2\">Profile ");
	rbuf_html(b, p->name);
	rbuf_printf(b, " (%s)</th></tr></thead><tbody>",
		    config ? "from the collector configuration" :
		    "built-in default for this backbone");
	report_fmt_duration(p->interval_ns, v, sizeof(v));
	html_profile_row(b, "Evaluation interval \xce\x94t", true, v);
	snprintf(v, sizeof(v), "p%g \xe2\x89\xa4 %s", p->delay_percentile,
		 report_fmt_ns((double)p->delay_max_ns, w, sizeof(w)));
	html_profile_row(b, p->delay_basis == SLA_DELAY_RTT ?
			 "Round-trip delay" : "One-way delay",
			 p->delay_set && p->delay_basis != SLA_DELAY_RTT, v);
	if (p->delay_basis != SLA_DELAY_OWD) {
		snprintf(v, sizeof(v), "p%g \xe2\x89\xa4 %s",
			 p->delay_percentile,
			 report_fmt_ns((double)p->rtt_max_ns, w, sizeof(w)));
		html_profile_row(b, p->delay_basis == SLA_DELAY_RTT ?
				 "Round-trip delay" : "Round-trip delay (when "
				 "clocks are not synchronised)",
				 p->delay_set, v);
	}
	snprintf(v, sizeof(v), "\xe2\x89\xa4 %s",
		 report_fmt_ratio(p->loss_ratio_max, w, sizeof(w)));
	html_profile_row(b, "Loss ratio", p->loss_set, v);
	snprintf(v, sizeof(v), "p%g \xe2\x89\xa4 %s", p->dv_percentile,
		 report_fmt_ns((double)p->dv_max_ns, w, sizeof(w)));
	html_profile_row(b, p->dv_kind == SLA_DV_IPDV ?
			 "Delay variation (IPDV, RFC 3393)" :
			 "Delay variation (PDV, RFC 5481)", p->dv_set, v);
	snprintf(v, sizeof(v), "\xe2\x89\xa5 %s",
		 report_fmt_pct(p->availability_min_pct, w, sizeof(w)));
	html_profile_row(b, "Availability", p->availability_set, v);
	snprintf(v, sizeof(v), "loss ratio > %s",
		 report_fmt_ratio(p->unavail_loss_ratio, w, sizeof(w)));
	html_profile_row(b, "\xce\x94t unavailable when", p->unavail_loss_set,
			 v);
	snprintf(v, sizeof(v), "\xe2\x89\xa5 %s",
		 report_fmt_bps(p->capacity_min_bps, w, sizeof(w)));
	html_profile_row(b, "Capacity (layer 1)", p->capacity_set, v);
	if (p->capacity_sessions.n > 0) {
		rbuf_puts(b, "<tr><th scope=\"row\">Capacity sessions</th><td>");
		for (i = 0; i < p->capacity_sessions.n; i++) {
			if (i > 0)
				rbuf_puts(b, ", ");
			rbuf_html(b, p->capacity_sessions.name[i]);
		}
		rbuf_puts(b, "</td></tr>");
	}
	if (p->max_error_ns > 0)
		rbuf_printf(b, "<tr data-key=\"max_error_ns\">"
			    "<th scope=\"row\">Measurement error bound</th>"
			    "<td>\xe2\x89\xa4 %s "
			    "(%" PRIu64 " ns); a \xce\x94t whose records state "
			    "a larger one is measurement degraded</td></tr>",
			    report_fmt_ns((double)p->max_error_ns, v,
					  sizeof(v)), p->max_error_ns);
	else
		rbuf_puts(b, "<tr data-key=\"max_error_ns\">"
			  "<th scope=\"row\">Measurement error bound</th>"
			  "<td>no limit</td></tr>");
	rbuf_puts(b, "</tbody></table>");
}

void
report_html_profiles(struct rbuf *b, const struct report_data *d)
{
	size_t i;

	rbuf_puts(b, "<h2>SLA profiles applied</h2><div id=\"profiles\">");
	if (report_profile_used(d, &d->set->def) || d->n_links == 0)
		html_profile(b, &d->set->def, d->set->def_from_config);
	for (i = 0; i < d->set->n_profiles; i++) {
		if (!report_profile_used(d, &d->set->profiles[i]))
			continue;
		rbuf_puts(b, "<div style=\"height:8px\"></div>");
		html_profile(b, &d->set->profiles[i], true);
	}
	rbuf_puts(b, "</div>");
}
