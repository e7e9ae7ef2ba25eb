/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log-linear delay histogram: everything but the insert (which is inline
 * in the header) and the serialisation (hist_codec.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/hist.h"

void
hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

uint64_t
hist_bucket_low(uint32_t i)
{
	if (i < HIST_SUB_COUNT)
		return i;
	uint32_t e = (i >> HIST_SUB_BITS) + HIST_SUB_BITS - 1;
	uint64_t sub = i & (HIST_SUB_COUNT - 1);
	return (1ULL << e) + (sub << (e - HIST_SUB_BITS));
}

uint64_t
hist_bucket_width(uint32_t i)
{
	if (i < HIST_SUB_COUNT)
		return 1;
	uint32_t e = (i >> HIST_SUB_BITS) + HIST_SUB_BITS - 1;
	return 1ULL << (e - HIST_SUB_BITS);
}

/*
 * Index range [*lo, *hi] that holds every non-empty bucket of a
 * non-empty histogram: min and max lie in the outermost non-empty
 * buckets (hist_insert, hist_merge and hist_from_base64 keep that
 * invariant). A histogram whose min/max do not make a range (filled by
 * hand) gets the full range, so the walks below never read outside
 * buckets[] and stay correct.
 */
static inline void
hist_span(const struct hist *h, uint32_t *lo, uint32_t *hi)
{
	*lo = hist_bucket_index(h->min);
	*hi = hist_bucket_index(h->max);
	if (*lo > *hi) {
		*lo = 0;
		*hi = HIST_NBUCKETS - 1;
	}
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	uint32_t lo, hi;

	if (src->count == 0)
		return;
	/* Only src's occupied range: the rest of src is zero. */
	hist_span(src, &lo, &hi);
	for (uint32_t i = lo; i <= hi; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	dst->overflow += src->overflow;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* Nearest rank of q: ceil(q * count), clamped to [1, count]. */
static uint64_t
hist_rank(const struct hist *h, double q)
{
	if (!(q > 0.0))          /* also NaN */
		q = 0.0;
	if (q > 1.0)
		q = 1.0;

	double r = q * (double)h->count;
	uint64_t rank = (uint64_t)r;
	if ((double)rank < r)
		rank++;
	if (rank == 0)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	return rank;
}

/* Midpoint of bucket i clamped to [min, max]. */
static uint64_t
hist_bucket_value(const struct hist *h, uint32_t i)
{
	uint64_t v = hist_bucket_low(i) + hist_bucket_width(i) / 2;
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

/*
 * Walks cumulative counts from bucket `from` (with `cum` counted below
 * it) to the first bucket whose cumulative count reaches rank; the last
 * bucket when none does. Buckets below the occupied range are zero, so
 * starting at its low end gives the same bucket as starting at 0; the
 * walk goes on past the high end only for a histogram whose buckets do
 * not add up to count (same answer as the full walk).
 */
static uint32_t
hist_walk(const struct hist *h, uint32_t from, uint64_t *cum, uint64_t rank)
{
	uint32_t i;

	for (i = from; i < HIST_NBUCKETS - 1; i++) {
		*cum += h->buckets[i];
		if (*cum >= rank)
			return i;
	}
	return i;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint32_t lo, hi;
	uint64_t cum = 0;

	if (h->count == 0)
		return 0;
	hist_span(h, &lo, &hi);
	(void)hi;
	return hist_bucket_value(h, hist_walk(h, lo, &cum,
					      hist_rank(h, q)));
}

void
hist_quantiles(const struct hist *h, const double *q, uint64_t *out,
	       unsigned n)
{
	uint32_t lo, hi, i;
	uint64_t cum = 0, prev = 0, last = 0;
	bool walked = false;

	if (h->count == 0) {
		for (unsigned k = 0; k < n; k++)
			out[k] = 0;
		return;
	}
	hist_span(h, &lo, &hi);
	(void)hi;
	i = lo;
	for (unsigned k = 0; k < n; k++) {
		uint64_t rank = hist_rank(h, q[k]);

		if (walked && rank < prev) {
			/* q not ascending: a walk of its own */
			out[k] = hist_quantile(h, q[k]);
			continue;
		}
		if (walked && (cum >= rank || i == HIST_NBUCKETS - 1)) {
			/* the bucket where the previous walk stopped */
			out[k] = last;
			prev = rank;
			continue;
		}
		if (walked)
			i++;
		i = hist_walk(h, i, &cum, rank);
		last = hist_bucket_value(h, i);
		out[k] = last;
		prev = rank;
		walked = true;
	}
}

uint64_t
hist_mean(const struct hist *h)
{
	if (h->count == 0)
		return 0;
	return h->sum / h->count;
}

void
hist_clear(struct hist *h)
{
	if (h->count > 0 && h->min <= h->max) {
		uint32_t lo = hist_bucket_index(h->min);
		uint32_t hi = hist_bucket_index(h->max);

		memset(&h->buckets[lo], 0,
		       (size_t)(hi - lo + 1) * sizeof(h->buckets[0]));
	}
	h->count = 0;
	h->sum = 0;
	h->min = UINT64_MAX;
	h->max = 0;
	h->overflow = 0;
}
