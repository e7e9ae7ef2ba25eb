/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON report: one document, every figure named with its unit (a key
 * suffix such as _ns, _percent, _bps, or a "unit" beside "value").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report_render.h"

/* A figure in its metric's unit: delays as integer ns, the rest real. */
static json_t *
report_json_value(enum sla_metric m, double v)
{
	if (m == SLA_M_DELAY || m == SLA_M_DV || m == SLA_M_NO_DATA)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static json_t *
report_json_time(uint64_t ns)
{
	char buf[48];

	return json_string(report_time(ns, buf, sizeof(buf)));
}

static json_t *
report_json_profile(const struct sla_profile *p, bool from_config)
{
	json_t *o = json_object();
	json_t *sessions = json_array();
	unsigned i;

	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "source", json_string(from_config ?
			    "config" : "built-in"));
	json_object_set_new(o, "interval_ns", json_integer(
			    (json_int_t)p->interval_ns));
	json_object_set_new(o, "delay_basis", json_string(
		p->delay_basis == SLA_DELAY_OWD ? "one-way" :
		p->delay_basis == SLA_DELAY_RTT ? "round-trip" :
		"one-way when clocks are synchronised, else round-trip"));
	json_object_set_new(o, "delay_percentile",
			    json_real(p->delay_percentile));
	json_object_set_new(o, "delay_max_ns", p->delay_set ?
			    json_integer((json_int_t)p->delay_max_ns) :
			    json_null());
	json_object_set_new(o, "rtt_max_ns", p->delay_set ?
			    json_integer((json_int_t)p->rtt_max_ns) :
			    json_null());
	json_object_set_new(o, "loss_ratio_max", p->loss_set ?
			    json_real(p->loss_ratio_max) : json_null());
	json_object_set_new(o, "delay_variation", json_string(
			    p->dv_kind == SLA_DV_IPDV ? "ipdv" : "pdv"));
	json_object_set_new(o, "dv_percentile", json_real(p->dv_percentile));
	json_object_set_new(o, "dv_max_ns", p->dv_set ?
			    json_integer((json_int_t)p->dv_max_ns) :
			    json_null());
	json_object_set_new(o, "availability_min_percent",
			    p->availability_set ?
			    json_real(p->availability_min_pct) : json_null());
	json_object_set_new(o, "unavailable_loss_ratio",
			    p->unavail_loss_set ?
			    json_real(p->unavail_loss_ratio) : json_null());
	json_object_set_new(o, "capacity_min_bps", p->capacity_set ?
			    json_real(p->capacity_min_bps) : json_null());
	for (i = 0; i < p->capacity_sessions.n; i++)
		json_array_append_new(sessions,
				      json_string(p->capacity_sessions.name[i]));
	json_object_set_new(o, "capacity_sessions", sessions);
	json_object_set_new(o, "max_error_ns", p->max_error_ns ?
			    json_integer((json_int_t)p->max_error_ns) :
			    json_null());
	return o;
}

static json_t *
report_json_metric(const struct sla_link_result *l, enum sla_metric m)
{
	const struct sla_metric_result *r = &l->m[m];
	const struct sla_profile *p = l->profile;
	json_t *o = json_object();

	json_object_set_new(o, "metric", json_string(sla_metric_name(m)));
	if (m == SLA_M_DELAY) {
		json_object_set_new(o, "basis", json_string(
				    report_basis_name(l->owd)));
		json_object_set_new(o, "percentile",
				    json_real(p->delay_percentile));
	} else if (m == SLA_M_DV) {
		json_object_set_new(o, "kind", json_string(
			p->dv_kind == SLA_DV_IPDV ? "ipdv" : "pdv"));
		json_object_set_new(o, "percentile",
				    json_real(p->dv_percentile));
	} else if (m == SLA_M_CAPACITY) {
		json_object_set_new(o, "source", json_string(
			l->capacity_from_session ? "capacity session" :
			"link maximum"));
		if (l->capacity_from_session)
			json_object_set_new(o, "capacity_session",
					    json_string(l->capacity_session));
	}
	json_object_set_new(o, "value", r->status == SLA_PASS ||
			    r->status == SLA_FAIL ?
			    report_json_value(m, r->value) : json_null());
	json_object_set_new(o, "bound", r->status == SLA_NOT_SET ?
			    json_null() : report_json_value(m, r->bound));
	json_object_set_new(o, "unit", json_string(report_metric_unit(m)));
	json_object_set_new(o, "comparison", json_string(
			    report_metric_cmp(m)));
	json_object_set_new(o, "status", json_string(
			    sla_status_name(r->status)));
	return o;
}

/* A count of the period's merged quality figures. */
static json_t *
report_json_count(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/*
 * The link's measurement quality over the period: the records' figures
 * merged (bounds the largest, counts summed; null where no record
 * stated them), the delta-t degraded and without a stated bound, and
 * the loss split by whether the measuring host may have caused it.
 */
static json_t *
report_json_quality(const struct sla_link_result *l)
{
	const struct record_quality *q = &l->q;
	const struct {
		const char *key;
		uint64_t v;
	} counts[] = {
		{ "intervals_degraded", l->n_degraded },
		{ "intervals_bound_not_stated", l->n_unstated },
		{ "clock_steps", q->clock_steps },
		{ "samples_excluded_clock_step", q->step_excluded },
		{ "samples_excluded_negative_rtt", q->rtt_negative },
		{ "owd_fwd_negative_samples", q->owd_fwd_negative },
		{ "owd_back_negative_samples", q->owd_back_negative },
		{ "lost_network_pkts", l->lost - l->lost_host_suspect },
		{ "lost_host_suspect_pkts", l->lost_host_suspect },
		{ "host_imissed", q->host_imissed },
		{ "host_rx_nombuf", q->host_rx_nombuf },
		{ "host_ierrors", q->host_ierrors },
		{ "host_drops_total", q->host_imissed + q->host_rx_nombuf +
		  q->host_ierrors },
	};
	json_t *o = json_object();
	size_t k;

	json_object_set_new(o, "stated", json_boolean(q->present));
	json_object_set_new(o, "rtt_error_max_ns", q->present ?
			    report_json_count(q->rtt_error_ns) : json_null());
	json_object_set_new(o, "owd_error_max_ns", q->present ?
			    report_json_count(q->owd_error_ns) : json_null());
	json_object_set_new(o, "max_error_ns", l->profile->max_error_ns ?
			    report_json_count(l->profile->max_error_ns) :
			    json_null());
	for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++)
		json_object_set_new(o, counts[k].key,
				    report_json_count(counts[k].v));
	json_object_set_new(o, "owd_fwd_negative_min_ns",
			    json_integer(q->owd_fwd_negative_min_ns));
	json_object_set_new(o, "owd_back_negative_min_ns",
			    json_integer(q->owd_back_negative_min_ns));
	json_object_set_new(o, "owd_implausible",
			    json_boolean(q->owd_implausible));
	return o;
}

/* The link's measurement-degraded delta-t. */
static json_t *
report_json_degraded(const struct sla_link_result *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < l->n_degraded; i++) {
		const struct sla_degraded *g = &l->degraded[i];
		json_t *e = json_object();

		json_object_set_new(e, "start", report_json_time(g->start_ns));
		json_object_set_new(e, "end", report_json_time(g->end_ns));
		json_object_set_new(e, "start_ns",
				    report_json_count(g->start_ns));
		json_object_set_new(e, "end_ns",
				    report_json_count(g->end_ns));
		json_object_set_new(e, "basis", json_string(
				    report_basis_name(l->owd)));
		json_object_set_new(e, "error_bound_ns",
				    report_json_count(g->bound_ns));
		json_object_set_new(e, "max_error_ns",
			report_json_count(l->profile->max_error_ns));
		json_array_append_new(a, e);
	}
	return a;
}

static json_t *
report_json_link(const struct sla_link_result *l)
{
	json_t *o = json_object();
	json_t *metrics = json_array();
	json_t *viol = json_array();
	json_t *chart = json_array();
	json_t *delay;
	size_t i;

	json_object_set_new(o, "probe", json_string(l->probe));
	json_object_set_new(o, "session", json_string(l->session));
	json_object_set_new(o, "src", json_string(l->src));
	json_object_set_new(o, "dst", json_string(l->dst));
	json_object_set_new(o, "peer", json_string(l->peer));
	json_object_set_new(o, "profile", json_string(l->profile->name));
	json_object_set_new(o, "status", json_string(l->pass ? "pass" :
						     "fail"));
	json_object_set_new(o, "delay_basis", json_string(
			    report_basis_name(l->owd)));
	json_object_set_new(o, "interval_ns", json_integer(
			    (json_int_t)l->interval_ns));
	json_object_set_new(o, "intervals", json_integer(
			    (json_int_t)l->n_windows));
	json_object_set_new(o, "intervals_with_data", json_integer(
			    (json_int_t)l->n_data));
	json_object_set_new(o, "intervals_available", json_integer(
			    (json_int_t)l->n_available));
	json_object_set_new(o, "coverage_percent", json_real(l->coverage_pct));
	json_object_set_new(o, "records", json_integer((json_int_t)l->records));
	json_object_set_new(o, "tx_pkts", json_integer((json_int_t)l->tx_pkts));
	json_object_set_new(o, "rx_pkts", json_integer((json_int_t)l->rx_pkts));
	json_object_set_new(o, "lost_pkts", json_integer((json_int_t)l->lost));
	if (l->delay_present) {
		delay = json_object();
		json_object_set_new(delay, "min", json_integer(
				    (json_int_t)l->delay_min_ns));
		json_object_set_new(delay, "p50", json_integer(
				    (json_int_t)l->delay_p50_ns));
		json_object_set_new(delay, "p99", json_integer(
				    (json_int_t)l->delay_p99_ns));
		json_object_set_new(delay, "max", json_integer(
				    (json_int_t)l->delay_max_ns));
	} else {
		delay = json_null();
	}
	json_object_set_new(o, "delay_ns", delay);

	for (i = 0; i < SLA_M_COUNT; i++)
		json_array_append_new(metrics, report_json_metric(l, i));
	json_object_set_new(o, "metrics", metrics);

	for (i = 0; i < l->n_violations; i++) {
		const struct sla_violation *v = &l->violations[i];
		json_t *e = json_object();

		json_object_set_new(e, "start", report_json_time(v->start_ns));
		json_object_set_new(e, "end", report_json_time(v->end_ns));
		json_object_set_new(e, "start_ns", json_integer(
				    (json_int_t)v->start_ns));
		json_object_set_new(e, "end_ns", json_integer(
				    (json_int_t)v->end_ns));
		json_object_set_new(e, "metric", json_string(
				    sla_metric_name(v->metric)));
		json_object_set_new(e, "value", report_json_value(v->metric,
								  v->value));
		json_object_set_new(e, "bound", v->metric == SLA_M_NO_DATA ?
				    json_null() :
				    report_json_value(v->metric, v->bound));
		json_object_set_new(e, "unit", json_string(
				    report_metric_unit(v->metric)));
		json_array_append_new(viol, e);
	}
	json_object_set_new(o, "violations", viol);
	json_object_set_new(o, "violations_truncated",
			    json_boolean(l->violations_truncated));

	for (i = 0; i < l->n_chart; i++) {
		const struct sla_chart_point *pt = &l->chart[i];
		json_t *e = json_object();

		json_object_set_new(e, "start_ns", json_integer(
				    (json_int_t)pt->start_ns));
		json_object_set_new(e, "end_ns", json_integer(
				    (json_int_t)pt->end_ns));
		json_object_set_new(e, "p50_ns", pt->has_data ?
				    json_integer((json_int_t)pt->p50_ns) :
				    json_null());
		json_object_set_new(e, "p99_ns", pt->has_data ?
				    json_integer((json_int_t)pt->p99_ns) :
				    json_null());
		json_array_append_new(chart, e);
	}
	json_object_set_new(o, "delay_over_time", chart);
	json_object_set_new(o, "measurement_quality", report_json_quality(l));
	json_object_set_new(o, "degraded_intervals", report_json_degraded(l));
	json_object_set_new(o, "degraded_truncated",
			    json_boolean(l->degraded_truncated));
	return o;
}

int
report_render_json(const struct report_data *d, struct rbuf *b)
{
	json_t *doc = json_object();
	json_t *period = json_object();
	json_t *summary = json_object();
	json_t *profiles = json_array();
	json_t *links = json_array();
	char *text;
	size_t i;

	if (doc == NULL || period == NULL || summary == NULL ||
	    profiles == NULL || links == NULL) {
		json_decref(doc);
		json_decref(period);
		json_decref(summary);
		json_decref(profiles);
		json_decref(links);
		return -ENOMEM;
	}
	json_object_set_new(doc, "schema", json_string(REPORT_SCHEMA));
	json_object_set_new(doc, "title", json_string(d->title));
	json_object_set_new(doc, "generated", report_json_time(d->generated_ns));
	json_object_set_new(doc, "generated_ns", json_integer(
			    (json_int_t)d->generated_ns));

	json_object_set_new(period, "from", report_json_time(d->from_ns));
	json_object_set_new(period, "to", report_json_time(d->to_ns));
	json_object_set_new(period, "from_ns", json_integer(
			    (json_int_t)d->from_ns));
	json_object_set_new(period, "to_ns", json_integer((json_int_t)d->to_ns));
	json_object_set_new(period, "duration_ns", json_integer(
			    (json_int_t)(d->to_ns - d->from_ns)));
	json_object_set_new(doc, "period", period);
	json_object_set_new(doc, "data_resolution_ns", json_integer(
			    (json_int_t)d->resolution_ns));
	json_object_set_new(doc, "probe_filter", d->probe_filter ?
			    json_string(d->probe_filter) : json_null());

	json_object_set_new(summary, "links", json_integer(
			    (json_int_t)d->n_links));
	json_object_set_new(summary, "links_passing", json_integer(
			    (json_int_t)d->n_pass));
	json_object_set_new(summary, "links_failing", json_integer(
			    (json_int_t)d->n_fail));
	json_object_set_new(summary, "coverage_percent",
			    json_real(d->coverage_pct));
	json_object_set_new(summary, "violating_intervals", json_integer(
			    (json_int_t)d->n_violations));
	json_object_set_new(summary, "degraded_intervals",
			    report_json_count(d->n_degraded));
	json_object_set_new(summary, "bound_not_stated_intervals",
			    report_json_count(d->n_unstated));
	json_object_set_new(summary, "lost_host_suspect_pkts",
			    report_json_count(d->lost_host_suspect));
	json_object_set_new(doc, "summary", summary);

	if (report_profile_used(d, &d->set->def) || d->n_links == 0)
		json_array_append_new(profiles, report_json_profile(
				      &d->set->def, d->set->def_from_config));
	for (i = 0; i < d->set->n_profiles; i++)
		if (report_profile_used(d, &d->set->profiles[i]))
			json_array_append_new(profiles, report_json_profile(
					      &d->set->profiles[i], true));
	json_object_set_new(doc, "profiles", profiles);

	for (i = 0; i < d->n_links; i++)
		json_array_append_new(links, report_json_link(&d->links[i]));
	json_object_set_new(doc, "links", links);

	text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
			  JSON_REAL_PRECISION(15) | JSON_ENSURE_ASCII);
	json_decref(doc);
	if (text == NULL)
		return -ENOMEM;
	rbuf_puts(b, text);
	rbuf_puts(b, "\n");
	free(text);
	return b->oom ? -ENOMEM : 0;
}
