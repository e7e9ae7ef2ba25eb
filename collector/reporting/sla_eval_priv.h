/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the SLA evaluation, shared by its files: sla_eval.c (a
 * link's evaluation: begin, add records or figures, end, the period's
 * metrics), sla_window.c (the delta-t windows under it: accumulators,
 * verdicts, violations, chart points) and, below both, sla_record.c
 * (what a record says: delay basis, quantiles of the basis).
 */
#ifndef METROPROBE_COLLECTOR_SLA_EVAL_PRIV_H
#define METROPROBE_COLLECTOR_SLA_EVAL_PRIV_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sla.h"

#define SLA_CHART_MAX_POINTS  720
#define SLA_MAX_VIOLATIONS    1000000
#define SLA_SPARES            2

/* One link's evaluation in progress (sla.h, sla_eval_begin). */
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
 * A value exactly at its bound complies. Ratios and rates are doubles
 * computed from integers, so allow one part in 1e12 of rounding.
 */
static inline bool
sla_le(double value, double bound)
{
	return value <= bound + fabs(bound) * 1e-12;
}

static inline bool
sla_ge(double value, double bound)
{
	return value >= bound - fabs(bound) * 1e-12;
}

static inline bool
sla_hist_filled(const struct hist *h)
{
	return h != NULL && !hist_empty(h);
}

/* Delay histograms of the basis into out, their number (sla_record.c). */
unsigned sla_delay_hists(const struct interval_record *r, bool owd,
			 const struct hist *out[2]);
/* Delay quantile q (worse direction); false when nothing was measured. */
bool sla_delay_quantile(const struct interval_record *r, bool owd, double q,
			uint64_t *out);
/* Delay variation at the profile's percentile; false when not measured. */
bool sla_dv_quantile(const struct interval_record *r,
		     const struct sla_profile *p, bool owd, uint64_t *out);

/* The windows (sla_window.c). Each int function returns 0 or a negative
 * errno. */
uint64_t sla_window_start(const struct sla_link_eval *ev, uint64_t w);
uint64_t sla_window_end(const struct sla_link_eval *ev, uint64_t w);
/* record_merge_hists_only into an accumulator, with kept histograms. */
int sla_acc_merge(struct sla_link_eval *ev, struct interval_record *acc,
		  const struct interval_record *r);
/* Windows [first, last) had no data. */
int sla_no_data(struct sla_link_eval *ev, uint64_t first, uint64_t last);
/* The current chart point's figures, its accumulator emptied. */
void sla_close_chart(struct sla_link_eval *ev);
/* The current window judged and closed. */
int sla_close_window(struct sla_link_eval *ev);
/* Window w opens: the open one closes, those between had no data. */
int sla_open_window(struct sla_link_eval *ev, uint64_t w);

#endif
