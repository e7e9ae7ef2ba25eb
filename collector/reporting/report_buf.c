/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Output buffer, escaping for HTML and CSV, and the human forms of times,
 * delays, rates and ratios shared by the renderers.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/mp_time.h"
#include "report_render.h"

static bool
rbuf_reserve(struct rbuf *b, size_t more)
{
	size_t cap;
	char *s;

	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	s = realloc(b->s, cap);
	if (s == NULL) {
		b->oom = true;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

void
rbuf_put(struct rbuf *b, const char *s, size_t n)
{
	if (!rbuf_reserve(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
rbuf_puts(struct rbuf *b, const char *s)
{
	rbuf_put(b, s, strlen(s));
}

void
rbuf_printf(struct rbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !rbuf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
rbuf_html(struct rbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': rbuf_puts(b, "&amp;"); break;
		case '<': rbuf_puts(b, "&lt;"); break;
		case '>': rbuf_puts(b, "&gt;"); break;
		case '"': rbuf_puts(b, "&quot;"); break;
		case '\'': rbuf_puts(b, "&#39;"); break;
		default:
			/* control characters have no business in a name */
			if ((unsigned char)*s < 0x20)
				rbuf_puts(b, "\xef\xbf\xbd");
			else
				rbuf_put(b, s, 1);
		}
	}
}

void
rbuf_csv_text(struct rbuf *b, const char *s)
{
	bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' ||
		       s[0] == '@' || s[0] == '\t' || s[0] == '\r';
	bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;

	if (!quote) {
		rbuf_puts(b, s);
		return;
	}
	rbuf_puts(b, formula ? "\"'" : "\"");
	for (; *s != '\0'; s++) {
		if (*s == '"')
			rbuf_puts(b, "\"\"");
		else
			rbuf_put(b, s, 1);
	}
	rbuf_puts(b, "\"");
}

char *
report_time(uint64_t ns, char *buf, size_t len)
{
	char *dot;

	mp_time_format_rfc3339(ns, buf, len);
	dot = strchr(buf, '.');
	if (ns % MP_NS_PER_SEC == 0 && dot != NULL) {
		dot[0] = 'Z';
		dot[1] = '\0';
	}
	return buf;
}

/* %.4g without an exponent for the ranges used here. */
static void
report_fmt_num(double v, const char *unit, char *buf, size_t len)
{
	if (v >= 1000.0 || v == floor(v))
		snprintf(buf, len, "%.0f %s", v, unit);
	else if (v >= 100.0)
		snprintf(buf, len, "%.1f %s", v, unit);
	else if (v >= 10.0)
		snprintf(buf, len, "%.2f %s", v, unit);
	else
		snprintf(buf, len, "%.3f %s", v, unit);
	/* trim trailing zeros of a fraction: "1.500 ms" -> "1.5 ms" */
	char *dot = strchr(buf, '.');
	char *sp = strchr(buf, ' ');

	if (dot != NULL && sp != NULL && dot < sp) {
		char *z = sp - 1;

		while (z > dot && *z == '0')
			z--;
		if (z == dot)
			z--;
		memmove(z + 1, sp, strlen(sp) + 1);
	}
}

char *
report_fmt_ns(double ns, char *buf, size_t len)
{
	if (ns < 1e3)
		report_fmt_num(ns, "ns", buf, len);
	else if (ns < 1e6)
		report_fmt_num(ns / 1e3, "\xc2\xb5s", buf, len);
	else if (ns < 1e9)
		report_fmt_num(ns / 1e6, "ms", buf, len);
	else
		report_fmt_num(ns / 1e9, "s", buf, len);
	return buf;
}

char *
report_fmt_duration(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / MP_NS_PER_SEC;

	if (ns % MP_NS_PER_SEC != 0 || s == 0)
		return report_fmt_ns((double)ns, buf, len);
	if (s % 86400 == 0)
		snprintf(buf, len, "%" PRIu64 " d", s / 86400);
	else if (s % 3600 == 0)
		snprintf(buf, len, "%" PRIu64 " h", s / 3600);
	else if (s % 60 == 0)
		snprintf(buf, len, "%" PRIu64 " min", s / 60);
	else
		snprintf(buf, len, "%" PRIu64 " s", s);
	return buf;
}

char *
report_fmt_bps(double bps, char *buf, size_t len)
{
	if (bps >= 1e12)
		report_fmt_num(bps / 1e12, "Tb/s", buf, len);
	else if (bps >= 1e9)
		report_fmt_num(bps / 1e9, "Gb/s", buf, len);
	else if (bps >= 1e6)
		report_fmt_num(bps / 1e6, "Mb/s", buf, len);
	else if (bps >= 1e3)
		report_fmt_num(bps / 1e3, "kb/s", buf, len);
	else
		report_fmt_num(bps, "b/s", buf, len);
	return buf;
}

char *
report_fmt_pct(double pct, char *buf, size_t len)
{
	char *z;

	snprintf(buf, len, "%.4f", pct);
	z = buf + strlen(buf) - 1;
	while (*z == '0')
		*z-- = '\0';
	if (*z == '.')
		*z = '\0';
	strncat(buf, " %", len - strlen(buf) - 1);
	return buf;
}

char *
report_fmt_ratio(double r, char *buf, size_t len)
{
	if (r == 0.0)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "%.3g", r);
	return buf;
}

const char *
report_metric_unit(enum sla_metric m)
{
	switch (m) {
	case SLA_M_DELAY:
	case SLA_M_DV:
		return "ns";
	case SLA_M_LOSS:
	case SLA_M_UNAVAILABLE:
		return "ratio";
	case SLA_M_AVAILABILITY:
		return "percent";
	case SLA_M_CAPACITY:
		return "bit/s";
	default:
		return "intervals";
	}
}

const char *
report_metric_cmp(enum sla_metric m)
{
	return m == SLA_M_AVAILABILITY || m == SLA_M_CAPACITY ? ">=" : "<=";
}

const char *
report_basis_name(bool owd)
{
	return owd ? "one-way" : "round-trip";
}

bool
report_profile_used(const struct report_data *d, const struct sla_profile *p)
{
	size_t i;

	for (i = 0; i < d->n_links; i++)
		if (d->links[i].profile == p)
			return true;
	return false;
}
