/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the SLA evaluation reads from one record (or one merge of
 * records): whether it holds delay on either basis, its capacity figure,
 * the delay basis of a link, and the quantiles of the basis's
 * histograms; and the names of metrics and statuses.
 */
#include <stdbool.h>
#include <stdint.h>

#include "sla_eval_priv.h"

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
unsigned
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
bool
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
bool
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
