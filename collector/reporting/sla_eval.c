/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SLA evaluation of one link over one period, streaming: records arrive in
 * start_ns order and only the current delta-t window, the current chart
 * point and the whole period are held as merged records, so a year of
 * one-second records costs the same memory as a minute of them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sla.h"

#define SLA_CHART_MAX_POINTS  720
#define SLA_MAX_VIOLATIONS    1000000
#define SLA_SPARES            2

struct sla_link_eval {
	const struct sla_profile *p;
	uint64_t from_ns, to_ns, dt_ns;
	bool owd;
	double capacity_bps;

	struct sla_link_result res;
	bool have_identity;
	size_t viol_cap, degraded_cap;

	bool have_window;
	uint64_t cur_w;                 /* window being merged */
	uint64_t next_w;                /* first window not yet accounted */
	struct interval_record win;

	uint64_t chart_k;               /* windows per chart point */
	bool have_chart;
	uint64_t cur_c;
	struct interval_record chart_acc;

	struct interval_record period;

	/* Per-minute figures mode (sla_eval_use_figs): windows are judged
	 * from store_minute_figs, chart points (when a point spans several
	 * windows) from sla_eval_chart_add, the period from
	 * sla_eval_period_add. */
	bool figs;
	int k_delay, k_dv, k_p50, k_p99;      /* store_fig_pct indexes */
	struct store_minute_figs wf;          /* the window's minute */
	/* per chart point and histogram: min and max of its minutes (a
	 * chart point built with subtractions takes them from here) */
	uint64_t (*cmin)[RECORD_HIST_COUNT], (*cmax)[RECORD_HIST_COUNT];

	/* histograms of emptied accumulators, cleared, for the next ones
	 * (no allocation and no 16 KiB zeroing per window) */
	struct hist *spare[RECORD_HIST_COUNT][SLA_SPARES];
	unsigned n_spare[RECORD_HIST_COUNT];
};

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
static int
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

const char *
sla_metric_name(enum sla_metric m)
{
	switch (m) {
	case SLA_M_DELAY: return "delay";
	case SLA_M_LOSS: return "loss_ratio";
	case SLA_M_DV: return "delay_variation";
	case SLA_M_AVAILABILITY: return "availability";
	case SLA_M_CAPACITY: return "capacity";
	case SLA_M_NO_DATA: return "no_data";
	default: return "unavailable";   /* SLA_M_UNAVAILABLE */
	}
}

const char *
sla_status_name(enum sla_status s)
{
	switch (s) {
	case SLA_PASS: return "pass";
	case SLA_FAIL: return "fail";
	case SLA_NOT_MEASURED: return "not measured";
	default: return "no bound";
	}
}

/*
 * A value exactly at its bound complies. Ratios and rates are doubles
 * computed from integers, so allow one part in 1e12 of rounding.
 */
static bool
sla_le(double value, double bound)
{
	return value <= bound + fabs(bound) * 1e-12;
}

static bool
sla_ge(double value, double bound)
{
	return value >= bound - fabs(bound) * 1e-12;
}

static bool
sla_hist_filled(const struct hist *h)
{
	return h != NULL && !hist_empty(h);
}

bool
sla_record_has_delay(const struct interval_record *r)
{
	return sla_hist_filled(r->hist[RECORD_HIST_RTT]);
}

bool
sla_record_has_owd(const struct interval_record *r)
{
	return r->clock_synced &&
	       (sla_hist_filled(r->hist[RECORD_HIST_OWD_FWD]) ||
		sla_hist_filled(r->hist[RECORD_HIST_OWD_BACK]));
}

double
sla_record_capacity_bps(const struct interval_record *r)
{
	return r->throughput_l1_bps > 0.0 ? r->throughput_l1_bps :
					    r->throughput_bps;
}

bool
sla_delay_use_owd(const struct sla_profile *p, uint64_t n_synced,
		  uint64_t n_delay)
{
	switch (p->delay_basis) {
	case SLA_DELAY_OWD:
		return true;
	case SLA_DELAY_RTT:
		return false;
	default:
		return n_delay > 0 && n_synced == n_delay;
	}
}

/*
 * Delay histograms of the basis: RTT, or both one-way directions (a
 * one-way figure is the worse of the two, so each direction is held to
 * the bound).
 */
static unsigned
sla_delay_hists(const struct interval_record *r, bool owd,
		const struct hist *out[2])
{
	unsigned n = 0;

	if (!owd) {
		if (sla_hist_filled(r->hist[RECORD_HIST_RTT]))
			out[n++] = r->hist[RECORD_HIST_RTT];
		return n;
	}
	if (sla_hist_filled(r->hist[RECORD_HIST_OWD_FWD]))
		out[n++] = r->hist[RECORD_HIST_OWD_FWD];
	if (sla_hist_filled(r->hist[RECORD_HIST_OWD_BACK]))
		out[n++] = r->hist[RECORD_HIST_OWD_BACK];
	return n;
}

/* Delay quantile (worse direction); false when nothing was measured. */
static bool
sla_delay_quantile(const struct interval_record *r, bool owd, double q,
		   uint64_t *out)
{
	const struct hist *h[2];
	unsigned i, n = sla_delay_hists(r, owd, h);

	*out = 0;
	for (i = 0; i < n; i++) {
		uint64_t v = hist_quantile(h[i], q);

		if (v > *out)
			*out = v;
	}
	return n > 0;
}

/* Delay variation at percentile pct: |IPDV| quantile (RFC 3393), or PDV
 * = delay quantile - minimum delay (RFC 5481 section 4.2). */
static bool
sla_dv_quantile(const struct interval_record *r, const struct sla_profile *p,
		bool owd, uint64_t *out)
{
	double q = p->dv_percentile / 100.0;
	const struct hist *h[2];
	unsigned i, n;

	*out = 0;
	if (p->dv_kind == SLA_DV_IPDV) {
		if (!sla_hist_filled(r->hist[RECORD_HIST_IPDV]))
			return false;
		*out = hist_quantile(r->hist[RECORD_HIST_IPDV], q);
		return true;
	}
	n = sla_delay_hists(r, owd, h);
	for (i = 0; i < n; i++) {
		uint64_t v = hist_quantile(h[i], q) - h[i]->min;

		if (v > *out)
			*out = v;
	}
	return n > 0;
}

static uint64_t
sla_window_start(const struct sla_link_eval *ev, uint64_t w)
{
	return ev->from_ns + w * ev->dt_ns;
}

static uint64_t
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
static int
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

static void
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
static int
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
static int
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
