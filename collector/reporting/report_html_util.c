/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Formatters every part of the HTML report shares (the main page in
 * report_html.c, the lists of intervals in report_html_viol.c, the
 * measurement-quality tables in report_html_quality.c): a metric's value
 * and label for a person, a link's name. Below them all, so none of them
 * calls another for these.
 */
#include <stdio.h>

#include "report_render.h"

/* The figure of a metric for a person, in its unit. */
char *
report_html_value(enum sla_metric m, double v, char *buf, size_t len)
{
	switch (m) {
	case SLA_M_DELAY:
	case SLA_M_DV:
		return report_fmt_ns(v, buf, len);
	case SLA_M_LOSS:
	case SLA_M_UNAVAILABLE:
		return report_fmt_ratio(v, buf, len);
	case SLA_M_AVAILABILITY:
		return report_fmt_pct(v, buf, len);
	case SLA_M_CAPACITY:
		return report_fmt_bps(v, buf, len);
	default:
		snprintf(buf, len, "%.0f \xce\x94t", v);
		return buf;
	}
}

/* "Delay p99 (one-way)", "IPDV p99", ... */
char *
report_html_metric_label(const struct sla_link_result *l, enum sla_metric m,
			 char *buf, size_t len)
{
	const struct sla_profile *p = l->profile;

	switch (m) {
	case SLA_M_DELAY:
		snprintf(buf, len, "Delay p%g (%s)", p->delay_percentile,
			 report_basis_name(l->owd));
		break;
	case SLA_M_LOSS:
		snprintf(buf, len, "Loss ratio");
		break;
	case SLA_M_DV:
		snprintf(buf, len, "%s p%g", p->dv_kind == SLA_DV_IPDV ?
			 "IPDV" : "PDV", p->dv_percentile);
		break;
	case SLA_M_AVAILABILITY:
		snprintf(buf, len, "Availability");
		break;
	case SLA_M_CAPACITY:
		snprintf(buf, len, "Capacity");
		break;
	case SLA_M_UNAVAILABLE:
		snprintf(buf, len, "Unavailable \xce\x94t (loss ratio)");
		break;
	default:
		snprintf(buf, len, "No data");
		break;
	}
	return buf;
}

/* "probe → peer", escaped. */
void
report_html_link_name(struct rbuf *b, const struct sla_link_result *l)
{
	rbuf_html(b, l->probe);
	rbuf_puts(b, " \xe2\x86\x92 ");
	rbuf_html(b, l->peer);
}
