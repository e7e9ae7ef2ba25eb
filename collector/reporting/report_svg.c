/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delay-over-time chart of one link as inline SVG (no script, no external
 * reference): p50 and p99 per delta-t from the merged histograms, the
 * bound as a dashed line, delta-t without data shaded.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "metroprobe/mp_time.h"
#include "report_render.h"

#define SVG_W     700.0
#define SVG_H     240.0
#define SVG_L     64.0     /* plot area margins */
#define SVG_R     14.0
#define SVG_T     26.0
#define SVG_B     44.0

struct svg_scale {
	double x0_ns, x1_ns;   /* period */
	double y_max_ns;
	double step_ns;        /* between y grid lines */
	double div;            /* ns per unit of the y labels */
	const char *unit;
};

static double
svg_x(const struct svg_scale *s, double ns)
{
	double w = SVG_W - SVG_L - SVG_R;

	return SVG_L + (ns - s->x0_ns) / (s->x1_ns - s->x0_ns) * w;
}

static double
svg_y(const struct svg_scale *s, double ns)
{
	double h = SVG_H - SVG_T - SVG_B;
	double v = ns > s->y_max_ns ? s->y_max_ns : ns;

	return SVG_T + h - v / s->y_max_ns * h;
}

/* A round step (1, 2 or 5 times a power of ten) for about n ticks. */
static double
svg_nice_step(double range, int n)
{
	double raw = range / n;
	double mag = pow(10.0, floor(log10(raw)));
	double f = raw / mag;

	if (f <= 1.0)
		return mag;
	if (f <= 2.0)
		return 2.0 * mag;
	if (f <= 5.0)
		return 5.0 * mag;
	return 10.0 * mag;
}

static void
svg_time_label(uint64_t ns, uint64_t span_ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / MP_NS_PER_SEC);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (span_ns <= 600ULL * MP_NS_PER_SEC)
		strftime(buf, len, "%H:%M:%S", &tm);
	else if (span_ns <= 2ULL * 86400 * MP_NS_PER_SEC)
		strftime(buf, len, "%H:%M", &tm);
	else
		strftime(buf, len, "%m-%d", &tm);
}

/* One polyline per run of consecutive points with data; a lone point is
 * drawn as a dot. */
static void
svg_series(struct rbuf *b, const struct sla_link_result *l,
	   const struct svg_scale *s, bool p99, const char *cls)
{
	size_t i = 0;

	while (i < l->n_chart) {
		size_t j;

		if (!l->chart[i].has_data) {
			i++;
			continue;
		}
		for (j = i; j < l->n_chart && l->chart[j].has_data; j++)
			;
		if (j - i == 1) {
			const struct sla_chart_point *pt = &l->chart[i];
			double mid = ((double)pt->start_ns +
				      (double)pt->end_ns) / 2.0;

			rbuf_printf(b, "<circle class=\"%s\" cx=\"%.1f\" "
				    "cy=\"%.1f\" r=\"2.2\"/>", cls,
				    svg_x(s, mid), svg_y(s, (double)(p99 ?
				    pt->p99_ns : pt->p50_ns)));
		} else {
			rbuf_printf(b, "<polyline class=\"%s\" points=\"", cls);
			for (; i < j; i++) {
				const struct sla_chart_point *pt = &l->chart[i];
				double mid = ((double)pt->start_ns +
					      (double)pt->end_ns) / 2.0;

				rbuf_printf(b, "%.1f,%.1f ", svg_x(s, mid),
					    svg_y(s, (double)(p99 ? pt->p99_ns :
							      pt->p50_ns)));
			}
			rbuf_puts(b, "\"/>");
		}
		i = j;
	}
}

/* The y axis from 0 to a round figure over the highest p99 and a quarter
 * over the bound, at least 1 us; labels in us, or ms from 1 ms up. */
static void
svg_scale_of(const struct sla_link_result *l, double bound,
	     struct svg_scale *s)
{
	double top = 0.0;
	size_t i;

	s->x0_ns = (double)l->from_ns;
	s->x1_ns = (double)l->to_ns;
	for (i = 0; i < l->n_chart; i++)
		if (l->chart[i].has_data && (double)l->chart[i].p99_ns > top)
			top = (double)l->chart[i].p99_ns;
	if (bound * 1.25 > top)
		top = bound * 1.25;
	if (top < 1000.0)
		top = 1000.0;
	s->step_ns = svg_nice_step(top, 5);
	s->y_max_ns = ceil(top / s->step_ns) * s->step_ns;
	if (s->y_max_ns >= 1e6) {
		s->div = 1e6;
		s->unit = "ms";
	} else {
		s->div = 1e3;
		s->unit = "\xc2\xb5s";
	}
}

/* Each run of delta-t without data, shaded. */
static void
svg_nodata(struct rbuf *b, const struct sla_link_result *l,
	   const struct svg_scale *s)
{
	size_t i, j;

	for (i = 0; i < l->n_chart; i++) {
		const struct sla_chart_point *pt = &l->chart[i];

		if (pt->has_data)
			continue;
		for (j = i; j + 1 < l->n_chart && !l->chart[j + 1].has_data; j++)
			;
		rbuf_printf(b, "<rect class=\"nodata\" x=\"%.1f\" y=\"%.1f\" "
			    "width=\"%.1f\" height=\"%.1f\"/>",
			    svg_x(s, (double)pt->start_ns), SVG_T,
			    svg_x(s, (double)l->chart[j].end_ns) -
			    svg_x(s, (double)pt->start_ns),
			    SVG_H - SVG_T - SVG_B);
		i = j;
	}
}

/* The y grid, its labels, and the axis title. */
static void
svg_y_axis(struct rbuf *b, const struct sla_link_result *l,
	   const struct svg_scale *s)
{
	double v;

	for (v = 0.0; v <= s->y_max_ns + s->step_ns / 2; v += s->step_ns) {
		double y = svg_y(s, v);

		rbuf_printf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" "
			    "x2=\"%.1f\" y2=\"%.1f\"/>", SVG_L, y,
			    SVG_W - SVG_R, y);
		rbuf_printf(b, "<text class=\"ylab\" x=\"%.1f\" y=\"%.1f\">"
			    "%g</text>", SVG_L - 6, y + 3.5, v / s->div);
	}
	rbuf_printf(b, "<text class=\"yunit\" x=\"12\" y=\"%.1f\" "
		    "transform=\"rotate(-90 12 %.1f)\">%s delay (%s)</text>",
		    SVG_T + (SVG_H - SVG_T - SVG_B) / 2,
		    SVG_T + (SVG_H - SVG_T - SVG_B) / 2,
		    report_basis_name(l->owd), s->unit);
}

/* Six evenly spaced times, UTC, and the axis title. */
static void
svg_x_axis(struct rbuf *b, const struct sla_link_result *l,
	   const struct svg_scale *s)
{
	char label[64];
	int k;

	for (k = 0; k <= 5; k++) {
		uint64_t t = l->from_ns + (uint64_t)((double)(l->to_ns -
				l->from_ns) * k / 5.0);
		double x = svg_x(s, (double)t);

		svg_time_label(t, l->to_ns - l->from_ns, label, sizeof(label));
		rbuf_printf(b, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" "
			    "x2=\"%.1f\" y2=\"%.1f\"/>", x, SVG_H - SVG_B, x,
			    SVG_H - SVG_B + 4);
		rbuf_printf(b, "<text class=\"xlab%s\" x=\"%.1f\" y=\"%.1f\">"
			    "%s</text>", k == 5 ? " end" : "", x,
			    SVG_H - SVG_B + 16, label);
	}
	rbuf_printf(b, "<text class=\"xunit\" x=\"%.1f\" y=\"%.1f\">time "
		    "(UTC)</text>", SVG_L + (SVG_W - SVG_L - SVG_R) / 2,
		    SVG_H - 6);
}

/* The bound as a dashed line, with its percentile and value. */
static void
svg_bound(struct rbuf *b, const struct sla_profile *p,
	  const struct svg_scale *s, double bound)
{
	double y = svg_y(s, bound);
	char label[64];

	rbuf_printf(b, "<line class=\"bound\" x1=\"%.1f\" y1=\"%.1f\" "
		    "x2=\"%.1f\" y2=\"%.1f\"/>", SVG_L, y,
		    SVG_W - SVG_R, y);
	rbuf_printf(b, "<text class=\"boundlab\" x=\"%.1f\" "
		    "y=\"%.1f\">bound p%g \xe2\x89\xa4 %s</text>",
		    SVG_W - SVG_R - 4, y - 4, p->delay_percentile,
		    report_fmt_ns(bound, label, sizeof(label)));
}

static void
svg_legend(struct rbuf *b)
{
	rbuf_printf(b, "<g class=\"legend\" transform=\"translate(%.1f %.1f)\">"
		    "<line class=\"p99\" x1=\"0\" y1=\"0\" x2=\"18\" y2=\"0\"/>"
		    "<text x=\"22\" y=\"3.5\">p99</text>"
		    "<line class=\"p50\" x1=\"52\" y1=\"0\" x2=\"70\" y2=\"0\"/>"
		    "<text x=\"74\" y=\"3.5\">p50</text>"
		    "<rect class=\"nodata\" x=\"104\" y=\"-5\" width=\"14\" "
		    "height=\"10\"/><text x=\"122\" y=\"3.5\">no data</text>"
		    "</g>", SVG_L, 10.0);
}

void
report_svg_delay_chart(struct rbuf *b, const struct sla_link_result *l)
{
	const struct sla_profile *p = l->profile;
	double bound = p->delay_set ? (double)(l->owd ? p->delay_max_ns :
						       p->rtt_max_ns) : 0.0;
	struct svg_scale s;

	svg_scale_of(l, bound, &s);
	rbuf_printf(b, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" "
		    "role=\"img\" aria-label=\"%s delay over time\">",
		    SVG_W, SVG_H, report_basis_name(l->owd));
	/* plot frame */
	rbuf_printf(b, "<rect class=\"plot\" x=\"%.1f\" y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%.1f\"/>", SVG_L, SVG_T,
		    SVG_W - SVG_L - SVG_R, SVG_H - SVG_T - SVG_B);
	svg_nodata(b, l, &s);
	svg_y_axis(b, l, &s);
	svg_x_axis(b, l, &s);
	if (p->delay_set)
		svg_bound(b, p, &s, bound);
	svg_series(b, l, &s, false, "p50");
	svg_series(b, l, &s, true, "p99");
	svg_legend(b);
	rbuf_puts(b, "</svg>");
}
