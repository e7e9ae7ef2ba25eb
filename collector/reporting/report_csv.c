/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CSV report (RFC 4180, CRLF line ends): one table with a header row, so
 * any CSV reader takes it whole. row_type "metric" rows give each link's
 * figure per metric over the period (start, end = the period); row_type
 * "violation" rows give each violating delta-t (start, end = the
 * delta-t) and each run of delta-t without data. After them, row_type
 * "quality" rows give each link's measurement-quality figures over the
 * period (status "info", or "not stated" for a bound no record stated)
 * and "degraded" rows each measurement-degraded delta-t (value: the
 * largest error bound stated, bound: the profile's max_error_ns).
 */
#include <errno.h>
#include <inttypes.h>
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

/* One figure of a link's measurement quality over the period. */
static void
report_csv_quality_row(struct rbuf *b, const struct sla_link_result *l,
		       const char *figure, const char *basis, bool stated,
		       uint64_t value, const char *unit, const char *from,
		       const char *to)
{
	report_csv_link_cols(b, "quality", l);
	rbuf_printf(b, "%s,%s,,%s,%s,", figure, basis, from, to);
	if (stated)
		rbuf_printf(b, "%" PRIu64, value);
	rbuf_printf(b, ",%s,,,%s\r\n", unit, stated ? "info" : "not stated");
}

static void
report_csv_quality(struct rbuf *b, const struct sla_link_result *l,
		   const char *from, const char *to)
{
	const struct record_quality *q = &l->q;
	const struct {
		const char *figure, *basis, *unit;
		bool stated;
		uint64_t value;
	} rows[] = {
		{ "error_bound_max", "round-trip", "ns", q->present,
		  q->rtt_error_ns },
		{ "error_bound_max", "one-way", "ns", q->present,
		  q->owd_error_ns },
		{ "degraded", "", "intervals", true, l->n_degraded },
		{ "bound_not_stated", "", "intervals", true, l->n_unstated },
		{ "clock_steps", "", "count", true, q->clock_steps },
		{ "excluded_clock_step", "", "samples", true,
		  q->step_excluded },
		{ "excluded_negative_rtt", "", "samples", true,
		  q->rtt_negative },
		{ "negative_one_way", "forward", "samples", true,
		  q->owd_fwd_negative },
		{ "negative_one_way", "backward", "samples", true,
		  q->owd_back_negative },
		{ "lost_network", "", "packets", true,
		  l->lost - l->lost_host_suspect },
		{ "lost_host_suspect", "", "packets", true,
		  l->lost_host_suspect },
		{ "host_imissed", "", "packets", true, q->host_imissed },
		{ "host_rx_nombuf", "", "packets", true, q->host_rx_nombuf },
		{ "host_ierrors", "", "packets", true, q->host_ierrors },
		{ "host_drops", "", "packets", true, q->host_imissed +
		  q->host_rx_nombuf + q->host_ierrors },
	};
	size_t k;

	for (k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		report_csv_quality_row(b, l, rows[k].figure, rows[k].basis,
				       rows[k].stated, rows[k].value,
				       rows[k].unit, from, to);
}

static void
report_csv_degraded(struct rbuf *b, const struct sla_link_result *l)
{
	char s[48], e[48];
	size_t j;

	for (j = 0; j < l->n_degraded; j++) {
		const struct sla_degraded *g = &l->degraded[j];

		report_csv_link_cols(b, "degraded", l);
		rbuf_printf(b, "error_bound,%s,,%s,%s,%" PRIu64 ",ns,%" PRIu64
			    ",<=,degraded\r\n", report_basis_name(l->owd),
			    report_time(g->start_ns, s, sizeof(s)),
			    report_time(g->end_ns, e, sizeof(e)),
			    g->bound_ns, l->profile->max_error_ns);
	}
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
	for (i = 0; i < d->n_links; i++)
		report_csv_quality(b, &d->links[i], from, to);
	for (i = 0; i < d->n_links; i++)
		report_csv_degraded(b, &d->links[i]);
	return b->oom ? -ENOMEM : 0;
}
