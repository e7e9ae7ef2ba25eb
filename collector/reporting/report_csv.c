/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CSV report (RFC 4180, CRLF line ends): one table with a header row, so
 * any CSV reader takes it whole. row_type "metric" rows give each link's
 * figure per metric over the period (start, end = the period); row_type
 * "violation" rows give each violating delta-t (start, end = the
 * delta-t) and each run of delta-t without data.
 */
#include <errno.h>
#include <stdio.h>

#include "report_render.h"

static const char report_csv_header[] =
	"row_type,probe,session,src,dst,peer,profile,metric,basis,percentile,"
	"start,end,value,unit,bound,comparison,status\r\n";

static void
report_csv_number(struct rbuf *b, enum sla_metric m, double v)
{
	if (m == SLA_M_DELAY || m == SLA_M_DV || m == SLA_M_NO_DATA)
		rbuf_printf(b, "%.0f", v);
	else
		rbuf_printf(b, "%.15g", v);
}

static void
report_csv_link_cols(struct rbuf *b, const char *row_type,
		     const struct sla_link_result *l)
{
	rbuf_puts(b, row_type);
	rbuf_puts(b, ",");
	rbuf_csv_text(b, l->probe);
	rbuf_puts(b, ",");
	rbuf_csv_text(b, l->session);
	rbuf_puts(b, ",");
	rbuf_csv_text(b, l->src);
	rbuf_puts(b, ",");
	rbuf_csv_text(b, l->dst);
	rbuf_puts(b, ",");
	rbuf_csv_text(b, l->peer);
	rbuf_puts(b, ",");
	rbuf_csv_text(b, l->profile->name);
	rbuf_puts(b, ",");
}

static void
report_csv_metric(struct rbuf *b, const struct sla_link_result *l,
		  enum sla_metric m, const char *from, const char *to)
{
	const struct sla_metric_result *r = &l->m[m];
	const struct sla_profile *p = l->profile;

	report_csv_link_cols(b, "metric", l);
	rbuf_printf(b, "%s,", sla_metric_name(m));
	if (m == SLA_M_DELAY)
		rbuf_printf(b, "%s,%g,", report_basis_name(l->owd),
			    p->delay_percentile);
	else if (m == SLA_M_DV)
		rbuf_printf(b, "%s,%g,", p->dv_kind == SLA_DV_IPDV ? "ipdv" :
			    "pdv", p->dv_percentile);
	else if (m == SLA_M_CAPACITY)
		rbuf_printf(b, "%s,,", l->capacity_from_session ?
			    "capacity session" : "link maximum");
	else
		rbuf_puts(b, ",,");
	rbuf_printf(b, "%s,%s,", from, to);
	if (r->status == SLA_PASS || r->status == SLA_FAIL)
		report_csv_number(b, m, r->value);
	rbuf_printf(b, ",%s,", report_metric_unit(m));
	if (r->status != SLA_NOT_SET)
		report_csv_number(b, m, r->bound);
	rbuf_printf(b, ",%s,%s\r\n", report_metric_cmp(m),
		    sla_status_name(r->status));
}

int
report_render_csv(const struct report_data *d, struct rbuf *b)
{
	char from[48], to[48], s[48], e[48];
	size_t i, j;

	report_time(d->from_ns, from, sizeof(from));
	report_time(d->to_ns, to, sizeof(to));
	rbuf_puts(b, report_csv_header);
	for (i = 0; i < d->n_links; i++) {
		const struct sla_link_result *l = &d->links[i];

		for (j = 0; j < SLA_M_COUNT; j++)
			report_csv_metric(b, l, (enum sla_metric)j, from, to);
		/* coverage: stated, not a bound */
		report_csv_link_cols(b, "metric", l);
		rbuf_printf(b, "coverage,,,%s,%s,%.15g,percent,,,info\r\n",
			    from, to, l->coverage_pct);
	}
	for (i = 0; i < d->n_links; i++) {
		const struct sla_link_result *l = &d->links[i];

		for (j = 0; j < l->n_violations; j++) {
			const struct sla_violation *v = &l->violations[j];

			report_csv_link_cols(b, "violation", l);
			rbuf_printf(b, "%s,", sla_metric_name(v->metric));
			if (v->metric == SLA_M_DELAY)
				rbuf_printf(b, "%s,%g,",
					    report_basis_name(l->owd),
					    l->profile->delay_percentile);
			else if (v->metric == SLA_M_DV)
				rbuf_printf(b, "%s,%g,",
					    l->profile->dv_kind == SLA_DV_IPDV ?
					    "ipdv" : "pdv",
					    l->profile->dv_percentile);
			else
				rbuf_puts(b, ",,");
			rbuf_printf(b, "%s,%s,",
				    report_time(v->start_ns, s, sizeof(s)),
				    report_time(v->end_ns, e, sizeof(e)));
			report_csv_number(b, v->metric, v->value);
			rbuf_printf(b, ",%s,", report_metric_unit(v->metric));
			if (v->metric != SLA_M_NO_DATA) {
				report_csv_number(b, v->metric, v->bound);
				rbuf_printf(b, ",%s,violation\r\n",
					    v->metric == SLA_M_UNAVAILABLE ?
					    "<=" : report_metric_cmp(v->metric));
			} else {
				rbuf_puts(b, ",,no data\r\n");
			}
		}
	}
	return b->oom ? -ENOMEM : 0;
}
