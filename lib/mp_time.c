/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Time formats: Unix nanoseconds, NTP 64-bit (RFC 5905 section 6),
 * truncated PTPv2 (RFC 8762 section 4.2.1), RFC 3339 text and durations.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "metroprobe/mp_time.h"

#define FRAC_ONE   (1ULL << 32)
/* One wrap of a 32-bit seconds field, in ns (about 136 years). */
#define WRAP_NS    (FRAC_ONE * MP_NS_PER_SEC)

/*
 * The 32-bit seconds field of both wire formats wraps every 2^32 s.
 * base_ns is the value in the first window [0, WRAP_NS + 1 s); return
 * base_ns + k * WRAP_NS (k >= 0, no uint64 overflow) nearest to ref_ns.
 */
static uint64_t
unwrap_nearest(uint64_t base_ns, uint64_t ref_ns)
{
	uint64_t k, lo, hi;

	if (ref_ns <= base_ns)
		return base_ns;
	k = (ref_ns - base_ns) / WRAP_NS;
	lo = base_ns + k * WRAP_NS;          /* <= ref_ns, cannot overflow */
	if (lo > UINT64_MAX - WRAP_NS)
		return lo;                   /* next window not representable */
	hi = lo + WRAP_NS;                   /* > ref_ns */
	return (ref_ns - lo <= hi - ref_ns) ? lo : hi;
}

uint64_t
mp_time_ns_to_ntp(uint64_t unix_ns)
{
	uint64_t sec = unix_ns / MP_NS_PER_SEC;
	uint64_t ns = unix_ns % MP_NS_PER_SEC;
	/*
	 * fraction = round(ns * 2^32 / 10^9). ns < 10^9 so the product
	 * fits in 64 bits, and the result is at most 2^32 - 4: no carry.
	 */
	uint64_t frac = (ns * FRAC_ONE + MP_NS_PER_SEC / 2) / MP_NS_PER_SEC;
	uint32_t ntp_sec = (uint32_t)(sec + MP_NTP_UNIX_OFFSET_S);

	return ((uint64_t)ntp_sec << 32) | frac;
}

uint64_t
mp_time_ntp_to_ns(uint64_t ntp, uint64_t ref_unix_ns)
{
	uint32_t ntp_sec = (uint32_t)(ntp >> 32);
	uint64_t frac = ntp & (FRAC_ONE - 1);
	/*
	 * ns = round(frac * 10^9 / 2^32). One fraction step is 0.23 ns,
	 * less than half a ns, so rounding both ways returns the original
	 * ns exactly. May give 10^9 for the largest fractions (carry).
	 */
	uint64_t ns = (frac * MP_NS_PER_SEC + FRAC_ONE / 2) >> 32;
	/* Unix seconds modulo 2^32: era 0 from 1970, era 1 after 2036. */
	uint32_t base_sec = ntp_sec - (uint32_t)MP_NTP_UNIX_OFFSET_S;

	return unwrap_nearest((uint64_t)base_sec * MP_NS_PER_SEC + ns,
			      ref_unix_ns);
}

uint64_t
mp_time_ns_to_ptp(uint64_t unix_ns, int32_t tai_offset_s)
{
	uint64_t sec = unix_ns / MP_NS_PER_SEC;
	uint32_t ns = (uint32_t)(unix_ns % MP_NS_PER_SEC);
	/* TAI = UTC + offset; the seconds field keeps the low 32 bits. */
	uint32_t tai_sec = (uint32_t)sec + (uint32_t)tai_offset_s;

	return ((uint64_t)tai_sec << 32) | ns;
}

uint64_t
mp_time_ptp_to_ns(uint64_t ptp, int32_t tai_offset_s, uint64_t ref_unix_ns)
{
	uint32_t tai_sec = (uint32_t)(ptp >> 32);
	/* A nanoseconds field >= 10^9 is malformed; it is added as is. */
	uint64_t ns = (uint32_t)ptp;
	uint32_t base_sec = tai_sec - (uint32_t)tai_offset_s;

	return unwrap_nearest((uint64_t)base_sec * MP_NS_PER_SEC + ns,
			      ref_unix_ns);
}

uint64_t
mp_time_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * MP_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t
mp_time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MP_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/*
 * Proleptic Gregorian calendar <-> days since 1970-01-01, using 400-year
 * eras that start on March 1st (so the leap day is the last of a year).
 */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool
is_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return (m == 2 && is_leap_year(y)) ? 29 : mdays[m - 1];
}

char *
mp_time_format_rfc3339(uint64_t unix_ns, char *buf, size_t len)
{
	uint64_t sec = unix_ns / MP_NS_PER_SEC;
	uint64_t days = sec / 86400;
	uint64_t sod = sec % 86400;
	int64_t y;
	unsigned m, d;

	if (buf == NULL || len == 0)
		return buf;
	civil_from_days((int64_t)days, &y, &m, &d);
	snprintf(buf, len, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%09uZ",
		 y, m, d, (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60),
		 (unsigned)(sod % 60), (unsigned)(unix_ns % MP_NS_PER_SEC));
	return buf;
}

/* Reads exactly n decimal digits. */
static bool
read_digits(const char **p, unsigned n, unsigned *out)
{
	unsigned v = 0;

	for (unsigned i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool
expect_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/*
 * RFC 3339 section 5.6 date-time. Second 60 (a leap second) is valid
 * RFC 3339 but has no Unix time, so it is rejected rather than folded
 * into the next second.
 */
static int
parse_rfc3339(const char *s, uint64_t *unix_ns)
{
	const char *p = s;
	unsigned year, mon, day, hour, min, sec, frac = 0, oh, om;
	int64_t days, total_s;
	int64_t offset_s = 0;

	if (!read_digits(&p, 4, &year) || !expect_char(&p, '-') ||
	    !read_digits(&p, 2, &mon) || !expect_char(&p, '-') ||
	    !read_digits(&p, 2, &day))
		return -EINVAL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -EINVAL;
	p++;
	if (!read_digits(&p, 2, &hour) || !expect_char(&p, ':') ||
	    !read_digits(&p, 2, &min) || !expect_char(&p, ':') ||
	    !read_digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		unsigned n = 0;

		p++;
		while (*p >= '0' && *p <= '9') {
			if (n == 9)
				return -EINVAL; /* finer than a ns */
			frac = frac * 10 + (unsigned)(*p - '0');
			n++;
			p++;
		}
		if (n == 0)
			return -EINVAL;
		for (; n < 9; n++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		p++;
		if (!read_digits(&p, 2, &oh) || !expect_char(&p, ':') ||
		    !read_digits(&p, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		offset_s = sign * (int64_t)(oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) ||
	    hour > 23 || min > 59 || sec > 59)
		return -EINVAL;

	days = days_from_civil(year, mon, day);
	/* local time = UTC + offset, so UTC = local - offset */
	total_s = days * 86400 + hour * 3600 + min * 60 + sec - offset_s;
	if (total_s < 0 ||
	    (uint64_t)total_s > (UINT64_MAX - frac) / MP_NS_PER_SEC)
		return -EINVAL;
	*unix_ns = (uint64_t)total_s * MP_NS_PER_SEC + frac;
	return 0;
}

/* Parses a run of decimal digits into a uint64; false on overflow. */
static bool
read_u64(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	const char *q = *p;

	if (*q < '0' || *q > '9')
		return false;
	while (*q >= '0' && *q <= '9') {
		unsigned dgt = (unsigned)(*q - '0');

		if (v > (UINT64_MAX - dgt) / 10)
			return false;
		v = v * 10 + dgt;
		q++;
	}
	*p = q;
	*out = v;
	return true;
}

int
mp_time_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		/* longest names first: "ms" before "m" */
		{ "ns", 1 },
		{ "us", 1000 },
		{ "ms", 1000000 },
		{ "s", MP_NS_PER_SEC },
		{ "m", 60 * MP_NS_PER_SEC },
		{ "h", 3600 * MP_NS_PER_SEC },
		{ "d", 86400 * MP_NS_PER_SEC },
	};
	const char *p = s;
	uint64_t total = 0;

	if (s == NULL || ns == NULL)
		return -EINVAL;
	/* A bare integer is seconds. */
	{
		uint64_t v;
		const char *q = s;

		if (read_u64(&q, &v) && *q == '\0') {
			if (v > UINT64_MAX / MP_NS_PER_SEC)
				return -EINVAL;
			*ns = v * MP_NS_PER_SEC;
			return 0;
		}
	}
	/* One or more <integer><unit> terms: "3s", "1h30m". */
	do {
		uint64_t v, mult = 0;
		size_t i;

		if (!read_u64(&p, &v))
			return -EINVAL;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].name);

			if (strncmp(p, units[i].name, n) == 0 &&
			    (p[n] == '\0' || (p[n] >= '0' && p[n] <= '9'))) {
				mult = units[i].ns;
				p += n;
				break;
			}
		}
		if (mult == 0)
			return -EINVAL;
		if (v > UINT64_MAX / mult || total > UINT64_MAX - v * mult)
			return -EINVAL;
		total += v * mult;
	} while (*p != '\0');
	*ns = total;
	return 0;
}

int
mp_time_parse_at(const char *s, uint64_t now_ns, uint64_t *unix_ns)
{
	if (s == NULL || unix_ns == NULL)
		return -EINVAL;
	if (strncmp(s, "now", 3) == 0) {
		uint64_t d;

		if (s[3] == '\0') {
			*unix_ns = now_ns;
			return 0;
		}
		if ((s[3] != '-' && s[3] != '+') ||
		    mp_time_parse_duration(s + 4, &d) != 0)
			return -EINVAL;
		if (s[3] == '-') {
			if (d > now_ns)
				return -EINVAL;
			*unix_ns = now_ns - d;
		} else {
			if (d > UINT64_MAX - now_ns)
				return -EINVAL;
			*unix_ns = now_ns + d;
		}
		return 0;
	}
	{
		/* A bare integer is Unix ns. */
		const char *q = s;
		uint64_t v;

		if (read_u64(&q, &v) && *q == '\0') {
			*unix_ns = v;
			return 0;
		}
	}
	return parse_rfc3339(s, unix_ns);
}

int
mp_time_parse(const char *s, uint64_t *unix_ns)
{
	return mp_time_parse_at(s, mp_time_now_ns(), unix_ns);
}
