/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTML report's lists of intervals: the worst delta-t (furthest over
 * a delay bound) and every violating delta-t and no-data run, with their
 * RFC 3339 UTC dates.
 */
#include <stdlib.h>

#include "report_render.h"

#define HTML_MAX_VIOLATIONS  500
#define HTML_WORST           10

static void
html_violation_row(struct rbuf *b, const struct sla_link_result *l,
		   const struct sla_violation *v)
{
	char s[48], e[48], val[64], bound[64], label[96];

	rbuf_printf(b, "<tr class=\"violation\" data-metric=\"%s\"><td>",
		    sla_metric_name(v->metric));
	report_html_link_name(b, l);
	rbuf_puts(b, "<span class=\"sub\">");
	rbuf_html(b, l->session);
	rbuf_printf(b, "</span></td><td><time>%s</time></td><td><time>%s"
		    "</time></td><td>%s</td><td class=\"num\">%s</td>"
		    "<td class=\"num\">%s</td></tr>",
		    report_time(v->start_ns, s, sizeof(s)),
		    report_time(v->end_ns, e, sizeof(e)),
		    report_html_metric_label(l, v->metric, label, sizeof(label)),
		    report_html_value(v->metric, v->value, val, sizeof(val)),
		    v->metric == SLA_M_NO_DATA ? "\xe2\x80\x94" :
		    report_html_value(v->metric, v->bound, bound, sizeof(bound)));
}

struct html_worst {
	const struct sla_link_result *l;
	const struct sla_violation *v;
	double ratio;
};

static int
html_worst_cmp(const void *a, const void *b)
{
	const struct html_worst *x = a, *y = b;

	return x->ratio < y->ratio ? 1 : x->ratio > y->ratio ? -1 : 0;
}

void
report_html_violations(struct rbuf *b, const struct report_data *d)
{
	static const char head[] = "<thead><tr><th>Link</th><th>Start (UTC)"
		"</th><th>End (UTC)</th><th>Metric</th>"
		"<th class=\"num\">Value</th><th class=\"num\">Bound</th>"
		"</tr></thead><tbody>";
	struct html_worst worst[HTML_WORST];
	size_t i, j, shown = 0, total = 0, n_worst = 0;

	for (i = 0; i < d->n_links; i++)
		total += d->links[i].n_violations;

	/* the worst delta-t: delay and delay variation furthest over */
	for (i = 0; i < d->n_links; i++) {
		const struct sla_link_result *l = &d->links[i];

		for (j = 0; j < l->n_violations; j++) {
			const struct sla_violation *v = &l->violations[j];
			struct html_worst w = { l, v, 0.0 };

			if ((v->metric != SLA_M_DELAY &&
			     v->metric != SLA_M_DV) || !(v->bound > 0))
				continue;
			w.ratio = v->value / v->bound;
			if (n_worst < HTML_WORST) {
				worst[n_worst++] = w;
			} else if (w.ratio > worst[HTML_WORST - 1].ratio) {
				worst[HTML_WORST - 1] = w;
			} else {
				continue;
			}
			qsort(worst, n_worst, sizeof(worst[0]), html_worst_cmp);
		}
	}
	if (n_worst > 0) {
		rbuf_printf(b, "<h2>Worst intervals</h2><p class=\"note\">The "
			    "%zu \xce\x94t whose delay or delay variation was "
			    "furthest over its bound.</p><table id=\"worst\">%s",
			    n_worst, head);
		for (i = 0; i < n_worst; i++)
			html_violation_row(b, worst[i].l, worst[i].v);
		rbuf_puts(b, "</tbody></table>");
	}

	rbuf_puts(b, "<h2>Violations</h2>");
	if (total == 0) {
		rbuf_puts(b, "<p id=\"no-violations\">No \xce\x94t violated a "
			  "bound, and every \xce\x94t of the period has data."
			  "</p>");
		return;
	}
	rbuf_printf(b, "<p class=\"note\">Every \xce\x94t in which a bound "
		    "was not met, and every run of \xce\x94t without data "
		    "(never counted as compliant). %zu entries", total);
	if (total > HTML_MAX_VIOLATIONS)
		rbuf_printf(b, "; the first %d are listed here, the CSV and "
			    "JSON reports list all", HTML_MAX_VIOLATIONS);
	rbuf_printf(b, ".</p><table id=\"violations\">%s", head);
	for (i = 0; i < d->n_links && shown < HTML_MAX_VIOLATIONS; i++) {
		const struct sla_link_result *l = &d->links[i];

		for (j = 0; j < l->n_violations &&
			    shown < HTML_MAX_VIOLATIONS; j++, shown++)
			html_violation_row(b, l, &l->violations[j]);
	}
	rbuf_puts(b, "</tbody></table>");
}
