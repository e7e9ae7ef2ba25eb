/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SLA evaluation of one link over one period, streaming: records arrive in
 * start_ns order and only the current delta-t window, the current chart
 * point and the whole period are held as merged records, so a year of
 * one-second records costs the same memory as a minute of them. The
 * windows are judged in sla_window.c; here the evaluation begins, takes
 * records or per-minute figures, and ends with the period's metrics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sla_eval_priv.h"

int
sla_eval_begin(struct sla_link_eval **out, const struct sla_profile *p,
	       uint64_t from_ns, uint64_t to_ns, bool owd, double capacity_bps)
{
	struct sla_link_eval *ev;
	uint64_t n, c;

	*out = NULL;
	if (p->interval_ns == 0 || to_ns < from_ns)
		return -EINVAL;
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return -ENOMEM;
	ev->p = p;
	ev->from_ns = from_ns;
	ev->to_ns = to_ns;
	ev->dt_ns = p->interval_ns;
	ev->owd = owd;
	ev->capacity_bps = capacity_bps;
	record_init(&ev->win);
	record_init(&ev->chart_acc);
	record_init(&ev->period);

	n = (to_ns - from_ns + ev->dt_ns - 1) / ev->dt_ns;
	ev->res.profile = p;
	ev->res.from_ns = from_ns;
	ev->res.to_ns = to_ns;
	ev->res.interval_ns = ev->dt_ns;
	ev->res.n_windows = n;
	ev->res.owd = owd;
	ev->chart_k = n > SLA_CHART_MAX_POINTS ?
		      (n + SLA_CHART_MAX_POINTS - 1) / SLA_CHART_MAX_POINTS : 1;
	ev->res.n_chart = n == 0 ? 0 : (n + ev->chart_k - 1) / ev->chart_k;
	if (ev->res.n_chart > 0) {
		ev->res.chart = calloc(ev->res.n_chart, sizeof(*ev->res.chart));
		if (ev->res.chart == NULL) {
			free(ev);
			return -ENOMEM;
		}
	}
	for (c = 0; c < ev->res.n_chart; c++) {
		uint64_t last = (c + 1) * ev->chart_k;

		ev->res.chart[c].start_ns = sla_window_start(ev, c * ev->chart_k);
		ev->res.chart[c].end_ns = sla_window_end(ev,
			(last < n ? last : n) - 1);
	}
	*out = ev;
	return 0;
}

int
sla_eval_add(struct sla_link_eval *ev, const struct interval_record *r)
{
	uint64_t w;
	int rc;

	if (r->start_ns < ev->from_ns || r->start_ns >= ev->to_ns)
		return 0;
	if (!ev->have_identity) {
		ev->have_identity = true;
		memcpy(ev->res.probe, r->probe, sizeof(ev->res.probe));
		memcpy(ev->res.session, r->session, sizeof(ev->res.session));
		memcpy(ev->res.src, r->src, sizeof(ev->res.src));
		memcpy(ev->res.dst, r->dst, sizeof(ev->res.dst));
	}
	w = (r->start_ns - ev->from_ns) / ev->dt_ns;
	if (ev->have_window && w < ev->cur_w)
		return -EDOM;           /* not in start_ns order */
	if (!ev->have_window || w != ev->cur_w) {
		rc = sla_open_window(ev, w);
		if (rc < 0)
			return rc;
	}
	if (sla_acc_merge(ev, &ev->win, r) < 0)
		return -ENOMEM;
	ev->res.records++;
	return 0;
}

bool
sla_profile_figs_ok(const struct sla_profile *p)
{
	return p->interval_ns == STORE_RES_MINUTE &&
	       (!p->delay_set ||
		store_fig_index(p->delay_percentile / 100.0) >= 0) &&
	       (!p->dv_set || store_fig_index(p->dv_percentile / 100.0) >= 0) &&
	       store_fig_index(0.50) >= 0 && store_fig_index(0.99) >= 0;
}

int
sla_eval_use_figs(struct sla_link_eval *ev)
{
	const struct sla_profile *p = ev->p;

	if (!sla_profile_figs_ok(p) || ev->have_window || ev->res.records)
		return -ENOTSUP;
	ev->figs = true;
	ev->k_delay = p->delay_set ?
		      store_fig_index(p->delay_percentile / 100.0) : 0;
	ev->k_dv = p->dv_set ? store_fig_index(p->dv_percentile / 100.0) : 0;
	ev->k_p50 = store_fig_index(0.50);
	ev->k_p99 = store_fig_index(0.99);
	if (ev->chart_k > 1) {
		size_t c, i;

		ev->cmin = malloc(ev->res.n_chart * sizeof(*ev->cmin));
		ev->cmax = malloc(ev->res.n_chart * sizeof(*ev->cmax));
		if (ev->cmin == NULL || ev->cmax == NULL)
			return -ENOMEM;
		for (c = 0; c < ev->res.n_chart; c++) {
			for (i = 0; i < RECORD_HIST_COUNT; i++) {
				ev->cmin[c][i] = UINT64_MAX;
				ev->cmax[c][i] = 0;
			}
		}
	}
	return 0;
}

int
sla_eval_add_figs(struct sla_link_eval *ev, const struct store_minute_figs *f)
{
	uint64_t w;
	int rc;

	if (!ev->figs)
		return -EINVAL;
	if (f->start_ns < ev->from_ns || f->start_ns >= ev->to_ns)
		return 0;
	if (!ev->have_identity) {
		ev->have_identity = true;
		snprintf(ev->res.probe, sizeof(ev->res.probe), "%s", f->probe);
		snprintf(ev->res.session, sizeof(ev->res.session), "%s",
			 f->session);
	}
	w = (f->start_ns - ev->from_ns) / ev->dt_ns;
	if (ev->have_window && w < ev->cur_w)
		return -EDOM;           /* not in start_ns order */
	if (ev->have_window && w == ev->cur_w)
		return -EAGAIN;         /* two minutes in one window */
	rc = sla_open_window(ev, w);
	if (rc < 0)
		return rc;
	ev->wf = *f;
	ev->wf.probe = NULL;
	ev->wf.session = NULL;
	ev->res.records++;
	if (ev->cmin != NULL) {
		uint64_t c = w / ev->chart_k;
		unsigned i;

		for (i = 0; i < RECORD_HIST_COUNT; i++) {
			if (f->h[i].count == 0)
				continue;
			if (f->h[i].min < ev->cmin[c][i])
				ev->cmin[c][i] = f->h[i].min;
			if (f->h[i].max > ev->cmax[c][i])
				ev->cmax[c][i] = f->h[i].max;
		}
	}
	return 0;
}

uint64_t
sla_eval_chart_unit_ns(const struct sla_link_eval *ev)
{
	return ev->chart_k > 1 ? ev->chart_k * ev->dt_ns : 0;
}

/* dst -= src, histograms only: the exact inverse of hist_merge but for
 * min and max (set when the chart point closes). */
static void
sla_hist_subtract(struct hist *dst, const struct hist *src)
{
	uint32_t lo, hi, i;

	if (src->count == 0)
		return;
	lo = hist_bucket_index(src->min);
	hi = hist_bucket_index(src->max);
	for (i = lo; i <= hi && i < HIST_NBUCKETS; i++)
		dst->buckets[i] -= src->buckets[i];
	dst->count -= src->count;
	dst->sum -= src->sum;
	dst->overflow -= src->overflow;
}

int
sla_eval_chart_add(struct sla_link_eval *ev, uint64_t c,
		   const struct interval_record *r, int sign)
{
	unsigned i;

	if (!ev->figs || ev->chart_k == 1 || c >= ev->res.n_chart)
		return -EINVAL;
	if (ev->have_chart && c < ev->cur_c)
		return -EDOM;
	if (!ev->have_chart || c != ev->cur_c) {
		sla_close_chart(ev);
		ev->cur_c = c;
		ev->have_chart = true;
	}
	if (sign > 0)
		return sla_acc_merge(ev, &ev->chart_acc, r) < 0 ? -ENOMEM : 0;
	/* taking out a minute this point's hour rollup holds */
	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		if (r->hist[i] == NULL || r->hist[i]->count == 0)
			continue;
		if (ev->chart_acc.hist[i] == NULL ||
		    ev->chart_acc.hist[i]->count < r->hist[i]->count)
			return -EDOM;
		sla_hist_subtract(ev->chart_acc.hist[i], r->hist[i]);
	}
	return 0;
}

int
sla_eval_period_add(struct sla_link_eval *ev, const struct interval_record *r)
{
	if (!ev->figs)
		return -EINVAL;
	if (r->start_ns < ev->from_ns || r->start_ns >= ev->to_ns)
		return 0;
	return record_merge_hists_only(&ev->period, r) < 0 ? -ENOMEM : 0;
}

static void
sla_eval_release(struct sla_link_eval *ev)
{
	unsigned i;

	for (i = 0; i < RECORD_HIST_COUNT; i++)
		while (ev->n_spare[i] > 0)
			free(ev->spare[i][--ev->n_spare[i]]);
	free(ev->cmin);
	free(ev->cmax);
	record_free(&ev->win);
	record_free(&ev->chart_acc);
	record_free(&ev->period);
	free(ev);
}

void
sla_eval_abort(struct sla_link_eval *ev)
{
	if (ev == NULL)
		return;
	sla_link_result_free(&ev->res);
	sla_eval_release(ev);
}

/* Period figures: each metric's value over [from, to), its bound, and
 * pass or fail. */
static void
sla_period_metrics(struct sla_link_eval *ev)
{
	const struct sla_profile *p = ev->p;
	const struct interval_record *pr = &ev->period;
	struct sla_link_result *res = &ev->res;
	struct sla_metric_result *m;
	const struct hist *h[2];
	unsigned i, n;
	uint64_t v;

	res->tx_pkts = pr->tx_pkts;
	res->rx_pkts = pr->rx_pkts;
	res->lost = pr->lost;
	res->q = pr->q;
	res->coverage_pct = res->n_windows ?
		100.0 * (double)res->n_data / (double)res->n_windows : 0.0;

	n = sla_delay_hists(pr, ev->owd, h);
	res->delay_present = n > 0;
	if (n > 0) {
		res->delay_min_ns = UINT64_MAX;
		for (i = 0; i < n; i++) {
			/* one-way: each figure the worse direction */
			if (h[i]->min < res->delay_min_ns)
				res->delay_min_ns = h[i]->min;
			if (h[i]->max > res->delay_max_ns)
				res->delay_max_ns = h[i]->max;
		}
		sla_delay_quantile(pr, ev->owd, 0.50, &res->delay_p50_ns);
		sla_delay_quantile(pr, ev->owd, 0.99, &res->delay_p99_ns);
	}

	m = &res->m[SLA_M_DELAY];
	m->bound = (double)(ev->owd ? p->delay_max_ns : p->rtt_max_ns);
	if (!p->delay_set) {
		m->status = SLA_NOT_SET;
	} else if (!sla_delay_quantile(pr, ev->owd,
				       p->delay_percentile / 100.0, &v)) {
		m->status = SLA_NOT_MEASURED;
	} else {
		m->value = (double)v;
		m->status = sla_le(m->value, m->bound) ? SLA_PASS : SLA_FAIL;
	}

	m = &res->m[SLA_M_LOSS];
	m->bound = p->loss_ratio_max;
	if (!p->loss_set) {
		m->status = SLA_NOT_SET;
	} else if (pr->tx_pkts == 0) {
		m->status = SLA_NOT_MEASURED;
	} else {
		m->value = (double)pr->lost / (double)pr->tx_pkts;
		m->status = sla_le(m->value, m->bound) ? SLA_PASS : SLA_FAIL;
	}

	m = &res->m[SLA_M_DV];
	m->bound = (double)p->dv_max_ns;
	if (!p->dv_set) {
		m->status = SLA_NOT_SET;
	} else if (!sla_dv_quantile(pr, p, ev->owd, &v)) {
		m->status = SLA_NOT_MEASURED;
	} else {
		m->value = (double)v;
		m->status = sla_le(m->value, m->bound) ? SLA_PASS : SLA_FAIL;
	}

	/* MEF 10.3 spirit: available delta-t over all delta-t; time
	 * without data is not credited */
	m = &res->m[SLA_M_AVAILABILITY];
	m->bound = p->availability_min_pct;
	if (!p->availability_set) {
		m->status = SLA_NOT_SET;
	} else if (res->n_windows == 0) {
		m->status = SLA_NOT_MEASURED;
	} else {
		m->value = 100.0 * (double)res->n_available /
			   (double)res->n_windows;
		m->status = sla_ge(m->value, m->bound) ? SLA_PASS : SLA_FAIL;
	}

	m = &res->m[SLA_M_CAPACITY];
	m->bound = p->capacity_min_bps;
	if (!p->capacity_set) {
		m->status = SLA_NOT_SET;
	} else if (!(ev->capacity_bps > 0.0)) {
		m->status = SLA_NOT_MEASURED;
	} else {
		m->value = ev->capacity_bps;
		m->status = sla_ge(m->value, m->bound) ? SLA_PASS : SLA_FAIL;
	}

	res->pass = true;
	for (i = 0; i < SLA_M_COUNT; i++)
		if (res->m[i].status == SLA_FAIL)
			res->pass = false;
}

int
sla_eval_end(struct sla_link_eval *ev, struct sla_link_result *res)
{
	int rc;

	rc = sla_close_window(ev);
	if (rc == 0)
		rc = sla_no_data(ev, ev->next_w, ev->res.n_windows);
	sla_close_chart(ev);
	if (rc < 0) {
		sla_eval_abort(ev);
		return rc;
	}
	sla_period_metrics(ev);
	if (ev->res.peer[0] == '\0')
		sla_addr_host(ev->res.dst, ev->res.peer, sizeof(ev->res.peer));
	*res = ev->res;
	sla_eval_release(ev);
	return 0;
}

void
sla_link_result_free(struct sla_link_result *res)
{
	free(res->violations);
	free(res->chart);
	free(res->degraded);
	res->violations = NULL;
	res->chart = NULL;
	res->degraded = NULL;
	res->n_violations = 0;
	res->n_chart = 0;
	res->n_degraded = 0;
}

int
sla_evaluate(const struct sla_profile *p, const struct interval_record *recs,
	     size_t n, uint64_t from_ns, uint64_t to_ns,
	     struct sla_link_result *res)
{
	struct sla_link_eval *ev;
	uint64_t n_delay = 0, n_synced = 0;
	double capacity = -1.0;
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < n; i++) {
		const struct interval_record *r = &recs[i];

		if (r->start_ns < from_ns || r->start_ns >= to_ns)
			continue;
		if (sla_record_has_delay(r) || sla_record_has_owd(r)) {
			n_delay++;
			n_synced += sla_record_has_owd(r);
		}
		if (sla_record_capacity_bps(r) > capacity)
			capacity = sla_record_capacity_bps(r);
	}
	rc = sla_eval_begin(&ev, p, from_ns, to_ns,
			    sla_delay_use_owd(p, n_synced, n_delay), capacity);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++) {
		rc = sla_eval_add(ev, &recs[i]);
		if (rc < 0) {
			sla_eval_abort(ev);
			return rc;
		}
	}
	return sla_eval_end(ev, res);
}
