/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log-linear delay histogram: mergeable, relative error <= 1 % over
 * 1 ns .. 100 s, O(1) insert without allocation or division.
 *
 * Values are unsigned nanoseconds. Bucketing: values below 2^HIST_SUB_BITS
 * are exact; above, each power-of-two range [2^e, 2^(e+1)) is split into
 * 2^HIST_SUB_BITS linear sub-buckets. A query returns the bucket midpoint,
 * so the relative error is at most 2^-(HIST_SUB_BITS+1) = 0.78 %.
 * Values above HIST_MAX_NS are clamped into the top bucket and counted in
 * `overflow`.
 */
#ifndef METROPROBE_HIST_H
#define METROPROBE_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS    6
#define HIST_SUB_COUNT   (1u << HIST_SUB_BITS)
#define HIST_MAX_NS      100000000000ULL            /* 100 s */
#define HIST_MAX_EXP     37                          /* 2^37 ns > 100 s */
#define HIST_NBUCKETS    ((HIST_MAX_EXP - HIST_SUB_BITS + 1) * HIST_SUB_COUNT)

struct hist {
	uint64_t count;
	uint64_t sum;       /* sum of inserted values, for the mean */
	uint64_t min;       /* UINT64_MAX when empty */
	uint64_t max;
	uint64_t overflow;  /* values clamped at HIST_MAX_NS */
	uint64_t buckets[HIST_NBUCKETS];
};

void hist_init(struct hist *h);          /* empty histogram */
static inline bool hist_empty(const struct hist *h) { return h->count == 0; }

/* Bucket index of a value (exposed for tests). */
static inline uint32_t
hist_bucket_index(uint64_t v)
{
	if (v >= HIST_MAX_NS)
		v = HIST_MAX_NS;
	if (v < HIST_SUB_COUNT)
		return (uint32_t)v;
	/* e = position of the top bit; keep HIST_SUB_BITS bits below it. */
	uint32_t e = 63u - (uint32_t)__builtin_clzll(v);
	uint32_t sub = (uint32_t)(v >> (e - HIST_SUB_BITS)) &
		       (HIST_SUB_COUNT - 1);
	return (e - HIST_SUB_BITS + 1) * HIST_SUB_COUNT + sub;
}

static inline void
hist_insert(struct hist *h, uint64_t v)
{
	if (v > HIST_MAX_NS) {
		h->overflow++;
		v = HIST_MAX_NS;
	}
	h->buckets[hist_bucket_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* Lowest value and width of bucket i. */
uint64_t hist_bucket_low(uint32_t i);
uint64_t hist_bucket_width(uint32_t i);

/* dst += src (exact). */
void hist_merge(struct hist *dst, const struct hist *src);

/*
 * Value at quantile q in [0, 1] (nearest-rank: the smallest value v such
 * that at least ceil(q * count) values are <= v), reported as the
 * bucket midpoint clamped to [min, max]. 0 when empty.
 */
uint64_t hist_quantile(const struct hist *h, double q);
uint64_t hist_mean(const struct hist *h);  /* sum / count, 0 when empty */

/*
 * out[k] = hist_quantile(h, q[k]) for k < n, bit-identical, in one walk
 * over the occupied buckets when q is ascending (any order is accepted;
 * a descending step costs a walk of its own).
 */
void hist_quantiles(const struct hist *h, const double *q, uint64_t *out,
		    unsigned n);

/*
 * Compact serialisation: sparse (index deltas and counts as varints),
 * plus count, sum, min, max, overflow; base64 for JSON. Round-trips
 * exactly. hist_to_base64 returns a malloc'd NUL-terminated string
 * (NULL on allocation failure); hist_from_base64 returns 0 or -EINVAL
 * (bad base64, truncated, index out of range, counts inconsistent;
 * -ENOMEM if it cannot allocate its scratch buffer) and leaves h empty
 * on failure. The form (layout in lib/hist.c) starts with a version
 * octet and HIST_SUB_BITS, and is canonical: strict base64 with
 * padding, minimal varints, so one histogram has exactly one spelling.
 */
char *hist_to_base64(const struct hist *h);
int hist_from_base64(struct hist *h, const char *b64, size_t len);

/*
 * The bucket list of a serialised histogram: n pairs of varints (index
 * gap, count), the first gap being the index itself and each next one
 * index - previous index - 1, as hist_to_base64 writes them; len
 * octets at data.
 */
struct hist_pairs {
	const uint8_t *data;
	size_t len;
	uint64_t n;
};

/*
 * hist_from_base64 into a histogram that is already empty with every
 * bucket zero (after hist_init or hist_clear): only the buckets the form
 * names are written, so the cost follows the length of the string, not
 * HIST_NBUCKETS. Same checks and, on success, the same histogram; on
 * failure h is left empty with every bucket zero. It decodes into *raw
 * (grown with realloc to the size it needs; the caller frees it) and
 * keeps the serialised form there: on success *pairs points at its
 * bucket list, valid while *raw is. Lets a caller that stores
 * histograms in the same sparse layout copy the list instead of walking
 * the buckets.
 */
int hist_from_base64_pairs(struct hist *h, const char *b64, size_t len,
			   uint8_t **raw, size_t *raw_cap,
			   struct hist_pairs *pairs);

/*
 * Empties h by zeroing only the buckets from the bucket of min to the
 * bucket of max: enough for every histogram made by hist_insert,
 * hist_merge or hist_from_base64 (the outermost non-empty buckets hold
 * min and max), not for one whose buckets were set by hand.
 */
void hist_clear(struct hist *h);

#endif
