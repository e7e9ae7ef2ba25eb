/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A link's evaluation from the per-minute figures (report_fast.h).
 *
 * With a 1-minute delta-t over 1-minute rollups, a window holds one
 * minute: its verdict comes from the minute's stored figures
 * (store_minute_figs) without decoding a histogram. Histograms are
 * merged only for the chart points and the period, from hour rollups
 * that are the exact merge of their minutes where an hour lies within
 * one chart point, and from the minutes elsewhere. Every figure is the
 * one the record-by-record evaluation gives (tests/report compare the
 * two).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report_fast.h"
#include "sla.h"

/* A range of one link read for its histograms: hour rollups or minutes,
 * for the chart points (added or taken out) or for the period. */
struct report_seg {
	uint64_t from_ns, to_ns;
	uint64_t resolution_ns;
	int sign;                   /* chart: +1 merged, -1 taken out */
	bool chart;                 /* else the period */
};


static int
report_fast_figs(const struct store_minute_figs *f, void *arg)
{
	struct report_fast *fa = arg;
	int rc = sla_eval_add_figs(fa->ev, f);
	uint64_t k;

	fa->n_figs++;
	if (rc == 0 && f->start_ns >= fa->h0) {
		k = (f->start_ns - fa->h0) / STORE_RES_MINUTE;
		if (k < fa->n_slots * 60)
			fa->mins[k / 64] |= 1ULL << (k % 64);
	}
	return rc;
}

static int
report_fast_hour(const char *probe, const char *session, uint64_t start_ns,
		 void *arg)
{
	struct report_fast *fa = arg;

	(void)probe;
	(void)session;
	if (start_ns >= fa->h0 &&
	    (start_ns - fa->h0) / STORE_RES_HOUR < fa->n_slots)
		fa->exact[(start_ns - fa->h0) / STORE_RES_HOUR] = 1;
	return 0;
}

/* Minutes with figures starting in [from, to). */
static unsigned
report_minutes_in(const struct report_fast *fa, uint64_t from, uint64_t to)
{
	uint64_t a, b, k;
	unsigned n = 0;

	if (to <= from || to <= fa->h0)
		return 0;
	from = from < fa->h0 ? fa->h0 : from;
	a = (from - fa->h0 + STORE_RES_MINUTE - 1) / STORE_RES_MINUTE;
	b = (to - fa->h0 + STORE_RES_MINUTE - 1) / STORE_RES_MINUTE;
	if (b > fa->n_slots * 60)
		b = fa->n_slots * 60;
	for (k = a; k < b; k++)
		n += (fa->mins[k / 64] >> (k % 64)) & 1;
	return n;
}

static int
report_fast_hists(const struct interval_record *r, void *arg)
{
	struct report_fast *fa = arg;
	const struct report_seg *sg = fa->cur;
	uint64_t c;

	if (sg->resolution_ns == STORE_RES_HOUR)
		fa->n_hours++;
	else
		fa->n_records++;
	if (!sg->chart)
		return sla_eval_period_add(fa->ev, r);
	/* an hour rollup, and the minutes taken out of it, go to the point
	 * that took the hour; an added minute to its own point */
	if (sg->resolution_ns == STORE_RES_HOUR || sg->sign < 0) {
		int64_t t = fa->taken[(r->start_ns - fa->h0) / STORE_RES_HOUR];

		if (t < 0)
			return -EDOM;
		c = (uint64_t)t;
	} else {
		c = (r->start_ns - fa->from_ns) / fa->unit;
	}
	return sla_eval_chart_add(fa->ev, c, r, sg->sign);
}

/* Appends a range with figures in it, joined to the previous one when
 * they touch. */
static int
report_seg_add(struct report_fast *fa, uint64_t from, uint64_t to,
	       uint64_t resolution, int sign, bool chart)
{
	struct report_seg *last = fa->n_seg ? &fa->seg[fa->n_seg - 1] : NULL;

	if (from >= to)
		return 0;
	if (resolution == STORE_RES_MINUTE &&
	    report_minutes_in(fa, from, to) == 0)
		return 0;
	if (last != NULL && last->resolution_ns == resolution &&
	    last->sign == sign && last->chart == chart &&
	    last->to_ns == from) {
		last->to_ns = to;
		return 0;
	}
	if (fa->n_seg == fa->cap_seg) {
		size_t cap = fa->cap_seg ? fa->cap_seg * 2 : 64;
		struct report_seg *n = realloc(fa->seg, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		fa->seg = n;
		fa->cap_seg = cap;
	}
	fa->seg[fa->n_seg++] = (struct report_seg){
		from, to, resolution, sign, chart,
	};
	return 0;
}

/*
 * The period's histograms: every hour whose minutes all fall in [from,
 * to) and whose hour rollup is exact, as that rollup; the rest as
 * minutes.
 */
static int
report_period_segments(struct report_fast *fa)
{
	uint64_t from = fa->from_ns, to = fa->to_ns, cur = from, h;
	int rc = 0;

	h = from % STORE_RES_HOUR ?
	    from - from % STORE_RES_HOUR + STORE_RES_HOUR : from;
	/* the hour's last minute starts within the period */
	for (; rc == 0 && h + STORE_RES_HOUR - STORE_RES_MINUTE < to;
	     h += STORE_RES_HOUR) {
		if (!fa->exact[(h - fa->h0) / STORE_RES_HOUR])
			continue;
		rc = report_seg_add(fa, cur, h, STORE_RES_MINUTE, 1, false);
		if (rc == 0)
			rc = report_seg_add(fa, h, h + STORE_RES_HOUR,
					    STORE_RES_HOUR, 1, false);
		cur = h + STORE_RES_HOUR;
	}
	if (rc == 0 && cur < to)
		rc = report_seg_add(fa, cur, to, STORE_RES_MINUTE, 1, false);
	return rc;
}

/*
 * Each chart point's histograms, point after point: an hour with an
 * exact rollup and most of its minutes in the point is read as that
 * rollup, its minutes outside the point taken out again; the point's
 * other minutes are read as minutes. A 30-day period on the hour reads
 * one hour rollup per point; "now-30d" one rollup and two minutes.
 */
static int
report_chart_segments(struct report_fast *fa)
{
	uint64_t cs, ce, h, a, b;
	int rc = 0;

	for (cs = fa->from_ns; rc == 0 && cs < fa->to_ns; cs = ce) {
		ce = fa->to_ns - cs <= fa->unit ? fa->to_ns : cs + fa->unit;
		for (h = cs - cs % STORE_RES_HOUR; rc == 0 && h < ce;
		     h += STORE_RES_HOUR) {
			size_t k = (h - fa->h0) / STORE_RES_HOUR;
			unsigned in, out;

			a = h > cs ? h : cs;
			b = h + STORE_RES_HOUR < ce ? h + STORE_RES_HOUR : ce;
			in = report_minutes_in(fa, a, b);
			out = report_minutes_in(fa, h, a) +
			      report_minutes_in(fa, b, h + STORE_RES_HOUR);
			if (in == 0)
				continue;
			/* the bitmap knows the minutes of the period only:
			 * an hour that crosses from or to is read as minutes */
			if (!fa->exact[k] || in <= out || fa->taken[k] >= 0 ||
			    h < fa->from_ns ||
			    h + STORE_RES_HOUR - STORE_RES_MINUTE >= fa->to_ns) {
				rc = report_seg_add(fa, a, b, STORE_RES_MINUTE,
						    1, true);
				continue;
			}
			fa->taken[k] = (int64_t)((cs - fa->from_ns) /
						 fa->unit);
			rc = report_seg_add(fa, h, h + STORE_RES_HOUR,
					    STORE_RES_HOUR, 1, true);
			if (rc == 0)
				rc = report_seg_add(fa, h, a, STORE_RES_MINUTE,
						    -1, true);
			if (rc == 0)
				rc = report_seg_add(fa, b, h + STORE_RES_HOUR,
						    STORE_RES_MINUTE, -1, true);
		}
	}
	return rc;
}

int
report_fast_init(struct report_fast *fa, uint64_t from_ns, uint64_t to_ns)
{
	memset(fa, 0, sizeof(*fa));
	fa->from_ns = from_ns;
	fa->to_ns = to_ns;
	fa->h0 = from_ns - from_ns % STORE_RES_HOUR;
	fa->n_slots = (size_t)((to_ns - 1 - fa->h0) / STORE_RES_HOUR) + 1;
	fa->mins = malloc((fa->n_slots * 60 + 63) / 64 * sizeof(*fa->mins));
	fa->exact = malloc(fa->n_slots);
	fa->taken = malloc(fa->n_slots * sizeof(*fa->taken));
	return fa->mins == NULL || fa->exact == NULL || fa->taken == NULL ?
	       -ENOMEM : 0;
}

void
report_fast_free(struct report_fast *fa)
{
	free(fa->mins);
	free(fa->exact);
	free(fa->taken);
	free(fa->seg);
}

int
report_fast_eval(struct store *st, struct store_reader *rd,
		 const char *probe, const char *session,
		 struct sla_link_eval *ev, struct report_fast *fa)
{
	struct store_query q = {
		.from_ns = fa->from_ns, .to_ns = fa->to_ns,
		.probe = probe, .session = session,
		.resolution_ns = STORE_RES_MINUTE,
	};
	size_t i;
	int rc;

	fa->ev = ev;
	fa->n_seg = 0;
	memset(fa->mins, 0, (fa->n_slots * 60 + 63) / 64 * sizeof(*fa->mins));
	memset(fa->exact, 0, fa->n_slots);
	for (i = 0; i < fa->n_slots; i++)
		fa->taken[i] = -1;
	rc = sla_eval_use_figs(ev);
	if (rc == 0)
		rc = store_reader_figs(st, rd, &q, true, report_fast_figs,
				       fa);
	if (rc == 0)
		rc = store_reader_exact_hours(st, rd, &q, report_fast_hour,
					      fa);
	fa->unit = sla_eval_chart_unit_ns(fa->ev);
	if (rc == 0 && fa->unit != 0)
		rc = report_chart_segments(fa);
	if (rc == 0)
		rc = report_period_segments(fa);
	for (i = 0; rc == 0 && i < fa->n_seg; i++) {
		q.from_ns = fa->seg[i].from_ns;
		q.to_ns = fa->seg[i].to_ns;
		q.resolution_ns = fa->seg[i].resolution_ns;
		fa->cur = &fa->seg[i];
		rc = store_reader_scan(st, rd, &q, report_fast_hists, fa);
	}
	return rc;
}
