/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The delta-t windows of a link's SLA evaluation: records (or a minute's
 * figures) merged per window, each window judged when it closes (data,
 * availability, the per-delta-t bounds, measurement quality), the runs
 * without data, and the chart points the windows merge into.
 * Accumulators keep their histograms from window to window.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sla_eval_priv.h"

/*
 * Empties an accumulator as record_free() + record_init() would, keeping
 * its histograms for sla_acc_prepare: only the buckets between those of
 * min and max can be set (hist_merge writes no others), so only those
 * are cleared.
 */
static void
sla_acc_empty(struct sla_link_eval *ev, struct interval_record *acc)
{
	unsigned i;

	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		struct hist *h = acc->hist[i];

		if (h == NULL || !(acc->hist_owned & (1u << i)))
			continue;
		if (ev->n_spare[i] == SLA_SPARES) {
			free(h);
			continue;
		}
		if (h->count > 0) {
			uint32_t lo = hist_bucket_index(h->min);
			uint32_t hi = hist_bucket_index(h->max);

			if (hi >= lo)
				memset(&h->buckets[lo], 0,
				       (hi - lo + 1) * sizeof(h->buckets[0]));
		}
		h->count = 0;
		h->sum = 0;
		h->min = UINT64_MAX;
		h->max = 0;
		h->overflow = 0;
		ev->spare[i][ev->n_spare[i]++] = h;
	}
	record_init(acc);
}

/* Before merging r into acc: a kept histogram wherever the merge would
 * allocate an empty one. */
static void
sla_acc_prepare(struct sla_link_eval *ev, struct interval_record *acc,
		const struct interval_record *r)
{
	unsigned i;

	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		if (r->hist[i] == NULL || acc->hist[i] != NULL ||
		    ev->n_spare[i] == 0)
			continue;
		acc->hist[i] = ev->spare[i][--ev->n_spare[i]];
		acc->hist_owned |= (uint8_t)(1u << i);
	}
}

/* record_merge_hists_only into an accumulator, with kept histograms. */
int
sla_acc_merge(struct sla_link_eval *ev, struct interval_record *acc,
	      const struct interval_record *r)
{
	sla_acc_prepare(ev, acc, r);
	return record_merge_hists_only(acc, r);
}

/* What a window's verdict reads: from a merged window or a minute's
 * figures. bound: the largest error bound stated for the delay basis,
 * when q_stated. */
struct sla_win {
	uint64_t tx_pkts, lost;
	bool has_delay, has_dv;
	uint64_t delay, dv;
	bool q_stated, host_suspect;
	uint64_t bound;
};

uint64_t
sla_window_start(const struct sla_link_eval *ev, uint64_t w)
{
	return ev->from_ns + w * ev->dt_ns;
}

uint64_t
sla_window_end(const struct sla_link_eval *ev, uint64_t w)
{
	uint64_t end = ev->from_ns + (w + 1) * ev->dt_ns;

	return end < ev->to_ns ? end : ev->to_ns;
}

static int
sla_add_violation(struct sla_link_eval *ev, uint64_t start, uint64_t end,
		  enum sla_metric m, double value, double bound)
{
	struct sla_link_result *res = &ev->res;

	if (res->n_violations == SLA_MAX_VIOLATIONS) {
		res->violations_truncated = true;
		return 0;
	}
	if (res->n_violations == ev->viol_cap) {
		size_t cap = ev->viol_cap ? ev->viol_cap * 2 : 64;
		struct sla_violation *v = realloc(res->violations,
						  cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		res->violations = v;
		ev->viol_cap = cap;
	}
	res->violations[res->n_violations++] = (struct sla_violation){
		.start_ns = start, .end_ns = end, .metric = m,
		.value = value, .bound = bound,
	};
	return 0;
}

/* Windows [first, last) had no data: consecutive ones form one run,
 * whose value is the number of delta-t in it. */
int
sla_no_data(struct sla_link_eval *ev, uint64_t first, uint64_t last)
{
	if (first >= last)
		return 0;
	if (ev->res.n_violations > 0) {
		struct sla_violation *v =
			&ev->res.violations[ev->res.n_violations - 1];

		if (v->metric == SLA_M_NO_DATA &&
		    v->end_ns == sla_window_start(ev, first)) {
			v->end_ns = sla_window_end(ev, last - 1);
			v->value += (double)(last - first);
			return 0;
		}
	}
	if (sla_add_violation(ev, sla_window_start(ev, first),
			      sla_window_end(ev, last - 1), SLA_M_NO_DATA,
			      0.0, 0.0) < 0)
		return -ENOMEM;
	ev->res.violations[ev->res.n_violations - 1].value =
		(double)(last - first);
	return 0;
}

void
sla_close_chart(struct sla_link_eval *ev)
{
	struct sla_chart_point *pt;

	if (!ev->have_chart)
		return;
	ev->have_chart = false;
	pt = &ev->res.chart[ev->cur_c];
	if (ev->cmin != NULL) {
		unsigned i;

		/* the exact extremes of the point's minutes: after a
		 * subtraction the histogram's own are those of a superset */
		for (i = 0; i < RECORD_HIST_COUNT; i++) {
			struct hist *h = ev->chart_acc.hist[i];

			if (h == NULL)
				continue;
			h->min = h->count ? ev->cmin[ev->cur_c][i] : UINT64_MAX;
			h->max = h->count ? ev->cmax[ev->cur_c][i] : 0;
		}
	}
	pt->has_data = sla_delay_quantile(&ev->chart_acc, ev->owd, 0.50,
					  &pt->p50_ns);
	sla_delay_quantile(&ev->chart_acc, ev->owd, 0.99, &pt->p99_ns);
	sla_acc_empty(ev, &ev->chart_acc);
}

/* The worse direction's figure k of the basis histograms. */
static bool
sla_figs_delay(const struct store_minute_figs *f, bool owd, int k,
	       bool minus_min, uint64_t *out)
{
	static const unsigned owd_h[2] = {
		RECORD_HIST_OWD_FWD, RECORD_HIST_OWD_BACK,
	};
	unsigned i, n = 0;

	*out = 0;
	for (i = 0; i < (owd ? 2u : 1u); i++) {
		const struct store_hist_figs *h =
			&f->h[owd ? owd_h[i] : RECORD_HIST_RTT];
		uint64_t v;

		if (h->count == 0)
			continue;
		n++;
		v = h->q[k] - (minus_min ? h->min : 0);
		if (v > *out)
			*out = v;
	}
	return n > 0;
}

static int
sla_add_degraded(struct sla_link_eval *ev, uint64_t start, uint64_t end,
		 uint64_t bound)
{
	struct sla_link_result *res = &ev->res;

	if (res->n_degraded == SLA_MAX_VIOLATIONS) {
		res->degraded_truncated = true;
		return 0;
	}
	if (res->n_degraded == ev->degraded_cap) {
		size_t cap = ev->degraded_cap ? ev->degraded_cap * 2 : 16;
		struct sla_degraded *d = realloc(res->degraded,
						 cap * sizeof(*d));

		if (d == NULL)
			return -ENOMEM;
		res->degraded = d;
		ev->degraded_cap = cap;
	}
	res->degraded[res->n_degraded++] = (struct sla_degraded){
		.start_ns = start, .end_ns = end, .bound_ns = bound,
	};
	return 0;
}

/* A window's measurement quality: its loss the host may have caused,
 * whether it stated a bound, and whether that bound is over the
 * profile's limit (1: degraded, delay and delay variation not judged). */
static int
sla_window_quality(struct sla_link_eval *ev, const struct sla_win *w,
		   uint64_t start, uint64_t end)
{
	const struct sla_profile *p = ev->p;

	if (w->host_suspect)
		ev->res.lost_host_suspect += w->lost;
	if (!w->q_stated) {
		ev->res.n_unstated++;
		return 0;
	}
	if (p->max_error_ns == 0 || w->bound <= p->max_error_ns)
		return 0;
	return sla_add_degraded(ev, start, end, w->bound) < 0 ? -ENOMEM : 1;
}

/* A window's verdict: data, availability, per-delta-t bounds. */
static int
sla_judge_window(struct sla_link_eval *ev, const struct sla_win *w)
{
	const struct sla_profile *p = ev->p;
	uint64_t start = sla_window_start(ev, ev->cur_w);
	uint64_t end = sla_window_end(ev, ev->cur_w);
	int rc = 0, degraded;
	double loss;

	if (w->tx_pkts == 0) {
		/* records, but no test packet sent: no data */
		return sla_no_data(ev, ev->cur_w, ev->cur_w + 1);
	}
	ev->res.n_data++;
	loss = (double)w->lost / (double)w->tx_pkts;
	if (!p->unavail_loss_set || sla_le(loss, p->unavail_loss_ratio))
		ev->res.n_available++;
	degraded = sla_window_quality(ev, w, start, end);
	if (degraded < 0)
		return degraded;

	if (p->delay_set && w->has_delay && !degraded) {
		double bound = (double)(ev->owd ? p->delay_max_ns :
						  p->rtt_max_ns);

		if (!sla_le((double)w->delay, bound))
			rc |= sla_add_violation(ev, start, end, SLA_M_DELAY,
						(double)w->delay, bound);
	}
	if (p->loss_set && !sla_le(loss, p->loss_ratio_max))
		rc |= sla_add_violation(ev, start, end, SLA_M_LOSS, loss,
					p->loss_ratio_max);
	if (p->dv_set && w->has_dv && !degraded &&
	    !sla_le((double)w->dv, (double)p->dv_max_ns))
		rc |= sla_add_violation(ev, start, end, SLA_M_DV,
					(double)w->dv, (double)p->dv_max_ns);
	/* a loss violation at the same threshold already says the delta-t
	 * is unavailable */
	if (p->unavail_loss_set && !sla_le(loss, p->unavail_loss_ratio) &&
	    !(p->loss_set && p->loss_ratio_max == p->unavail_loss_ratio))
		rc |= sla_add_violation(ev, start, end, SLA_M_UNAVAILABLE, loss,
					p->unavail_loss_ratio);
	return rc < 0 ? -ENOMEM : 0;
}

/* Closes the current window of a figures-mode evaluation. */
static int
sla_close_window_figs(struct sla_link_eval *ev)
{
	const struct sla_profile *p = ev->p;
	const struct store_minute_figs *f = &ev->wf;
	struct sla_win w = {
		.tx_pkts = f->tx_pkts, .lost = f->lost,
		.q_stated = f->q_stated, .host_suspect = f->host_loss_suspect,
		.bound = ev->owd ? f->owd_error_ns : f->rtt_error_ns,
	};

	if (!ev->have_window)
		return 0;
	ev->have_window = false;
	ev->next_w = ev->cur_w + 1;
	if (ev->chart_k == 1) {
		/* one window per chart point: its figures */
		struct sla_chart_point *pt = &ev->res.chart[ev->cur_w];

		pt->has_data = sla_figs_delay(f, ev->owd, ev->k_p50, false,
					      &pt->p50_ns);
		sla_figs_delay(f, ev->owd, ev->k_p99, false, &pt->p99_ns);
	}
	if (f->tx_pkts == 0)
		return sla_judge_window(ev, &w);
	if (p->delay_set)
		w.has_delay = sla_figs_delay(f, ev->owd, ev->k_delay, false,
					     &w.delay);
	if (p->dv_set) {
		if (p->dv_kind == SLA_DV_IPDV) {
			const struct store_hist_figs *h =
				&f->h[RECORD_HIST_IPDV];

			w.has_dv = h->count > 0;
			w.dv = w.has_dv ? h->q[ev->k_dv] : 0;
		} else {
			w.has_dv = sla_figs_delay(f, ev->owd, ev->k_dv, true,
						  &w.dv);
		}
	}
	return sla_judge_window(ev, &w);
}

/* Closes the current window: data, availability, per-delta-t bounds. */
int
sla_close_window(struct sla_link_eval *ev)
{
	const struct sla_profile *p = ev->p;
	const struct interval_record *win = &ev->win;
	struct sla_win w = {
		.tx_pkts = win->tx_pkts, .lost = win->lost,
		.q_stated = win->q.present,
		.host_suspect = win->q.host_loss_suspect,
		.bound = ev->owd ? win->q.owd_error_ns : win->q.rtt_error_ns,
	};
	int rc;

	if (ev->figs)
		return sla_close_window_figs(ev);
	if (!ev->have_window)
		return 0;
	ev->have_window = false;
	ev->next_w = ev->cur_w + 1;
	/* the window into its chart point and the period: one merge per
	 * delta-t, not per record */
	if (!ev->have_chart || ev->cur_w / ev->chart_k != ev->cur_c) {
		sla_close_chart(ev);
		ev->cur_c = ev->cur_w / ev->chart_k;
		ev->have_chart = true;
	}
	/* percentiles are read from the histograms (sla_delay_hists), never
	 * from the summaries: no summary recomputed per merge */
	if (sla_acc_merge(ev, &ev->chart_acc, win) < 0 ||
	    record_merge_hists_only(&ev->period, win) < 0)
		return -ENOMEM;
	if (win->tx_pkts != 0) {
		if (p->delay_set)
			w.has_delay = sla_delay_quantile(win, ev->owd,
				p->delay_percentile / 100.0, &w.delay);
		if (p->dv_set)
			w.has_dv = sla_dv_quantile(win, p, ev->owd, &w.dv);
	}
	rc = sla_judge_window(ev, &w);
	sla_acc_empty(ev, &ev->win);
	return rc;
}

/* Window w opens: the open one closes, those between had no data. */
int
sla_open_window(struct sla_link_eval *ev, uint64_t w)
{
	int rc = sla_close_window(ev);

	if (rc == 0)
		rc = sla_no_data(ev, ev->next_w, w);
	if (rc < 0)
		return rc;
	ev->cur_w = w;
	ev->have_window = true;
	return 0;
}
