/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log-linear delay histogram: everything but the insert (which is inline
 * in the header), plus the sparse varint + base64 serialisation.
 *
 * Serialised form, before base64 (all integers unsigned LEB128 varints,
 * canonical: no superfluous 0x80 continuation octets):
 *   octet  version (HIST_WIRE_VERSION)
 *   octet  HIST_SUB_BITS of the writer (a reader with other buckets
 *          refuses rather than misreading)
 *   count
 *   if count > 0: sum, min, max, overflow, n (non-empty buckets),
 *          then n pairs (index gap, bucket count): the first gap is the
 *          index itself, each next one is index - previous index - 1.
 * Every bucket count is >= 1 and they add up to count.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/hist.h"

#define HIST_WIRE_VERSION 1
#define VARINT_MAX        10   /* octets of a 64-bit LEB128 */
/* Largest raw encoding: header, five scalars, every bucket present. */
#define HIST_WIRE_MAX     (2 + 6 * VARINT_MAX + \
			   HIST_NBUCKETS * (2 + VARINT_MAX))

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

/* ---- varints ---- */

static size_t
varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Reads one canonical varint from [*p, end); advances *p. */
static inline int
varint_get(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	const uint8_t *s = *p;
	uint64_t v = 0;

	/* most are one octet (bucket gaps and counts): always canonical */
	if (s < end && s[0] < 0x80) {
		*out = s[0];
		*p = s + 1;
		return 0;
	}
	for (unsigned n = 0; n < VARINT_MAX; n++) {
		if (s + n >= end)
			return -EINVAL;           /* truncated */
		uint8_t b = s[n];
		if (n == VARINT_MAX - 1 && b > 1)
			return -EINVAL;           /* more than 64 bits */
		v |= (uint64_t)(b & 0x7f) << (7 * n);
		if (!(b & 0x80)) {
			if (b == 0 && n > 0)
				return -EINVAL;   /* overlong */
			*p = s + n + 1;
			*out = v;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- base64 (RFC 4648 section 4, with padding) ---- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
b64_encode(const uint8_t *in, size_t len)
{
	size_t olen = (len + 2) / 3 * 4;
	char *out = malloc(olen + 1);
	if (out == NULL)
		return NULL;

	char *o = out;
	size_t i;
	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];
		*o++ = b64_alphabet[w >> 18];
		*o++ = b64_alphabet[(w >> 12) & 63];
		*o++ = b64_alphabet[(w >> 6) & 63];
		*o++ = b64_alphabet[w & 63];
	}
	if (len - i == 1) {
		uint32_t w = (uint32_t)in[i] << 16;
		*o++ = b64_alphabet[w >> 18];
		*o++ = b64_alphabet[(w >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (len - i == 2) {
		uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*o++ = b64_alphabet[w >> 18];
		*o++ = b64_alphabet[(w >> 12) & 63];
		*o++ = b64_alphabet[(w >> 6) & 63];
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/*
 * Value of each base64 character plus one; 0 for a character outside the
 * alphabet (including '=', which only the last quantum may hold).
 */
static const uint8_t b64_values[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17,
	['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
	['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26,
	['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31,
	['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41,
	['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46,
	['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51,
	['z'] = 52,
	['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
	['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62,
	['+'] = 63, ['/'] = 64,
};

static int
b64_value(char c)
{
	return (int)b64_values[(uint8_t)c] - 1;
}

/*
 * Strict decoding: length a multiple of 4, padding only in the last
 * quantum, no whitespace, unused bits zero (so every byte string has
 * exactly one accepted spelling). out holds len / 4 * 3 octets.
 */
static int
b64_decode(const char *in, size_t len, uint8_t *out, size_t *olen)
{
	const uint8_t *u = (const uint8_t *)in;

	if (len == 0 || len % 4 != 0)
		return -EINVAL;

	/* Every quantum but the last: four alphabet characters (a value
	 * of -1, outside it, sets the sign bit of the OR). */
	size_t n = 0, i;
	for (i = 0; i + 4 < len; i += 4) {
		int32_t a = (int32_t)b64_values[u[i]] - 1,
			b = (int32_t)b64_values[u[i + 1]] - 1,
			c = (int32_t)b64_values[u[i + 2]] - 1,
			d = (int32_t)b64_values[u[i + 3]] - 1;
		if ((a | b | c | d) < 0)
			return -EINVAL;
		uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 |
			     (uint32_t)c << 6 | (uint32_t)d;
		out[n] = (uint8_t)(w >> 16);
		out[n + 1] = (uint8_t)(w >> 8);
		out[n + 2] = (uint8_t)w;
		n += 3;
	}

	/* The last quantum, which may end in one or two '='. */
	int v[4];
	unsigned pad = 0;
	for (unsigned k = 0; k < 4; k++) {
		char c = in[i + k];
		if (c == '=' && k >= 2) {
			pad++;
			v[k] = 0;
			continue;
		}
		if (pad > 0)
			return -EINVAL;   /* data after '=' */
		v[k] = b64_value(c);
		if (v[k] < 0)
			return -EINVAL;
	}
	uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		     (uint32_t)v[2] << 6 | (uint32_t)v[3];
	if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
		return -EINVAL;           /* non-zero unused bits */
	out[n++] = (uint8_t)(w >> 16);
	if (pad < 2)
		out[n++] = (uint8_t)(w >> 8);
	if (pad < 1)
		out[n++] = (uint8_t)w;
	*olen = n;
	return 0;
}

/* ---- serialisation ---- */

char *
hist_to_base64(const struct hist *h)
{
	uint8_t *raw = malloc(HIST_WIRE_MAX);
	if (raw == NULL)
		return NULL;

	size_t n = 0;
	raw[n++] = HIST_WIRE_VERSION;
	raw[n++] = HIST_SUB_BITS;
	n += varint_put(raw + n, h->count);
	if (h->count > 0) {
		uint64_t nnz = 0;
		for (uint32_t i = 0; i < HIST_NBUCKETS; i++)
			nnz += h->buckets[i] != 0;
		n += varint_put(raw + n, h->sum);
		n += varint_put(raw + n, h->min);
		n += varint_put(raw + n, h->max);
		n += varint_put(raw + n, h->overflow);
		n += varint_put(raw + n, nnz);
		uint32_t next = 0;   /* previous index + 1 */
		for (uint32_t i = 0; i < HIST_NBUCKETS; i++) {
			if (h->buckets[i] == 0)
				continue;
			n += varint_put(raw + n, i - next);
			n += varint_put(raw + n, h->buckets[i]);
			next = i + 1;
		}
	}
	char *s = b64_encode(raw, n);
	free(raw);
	return s;
}

/*
 * Decodes the raw form into h, whose buckets must all be zero; h's other
 * fields are written only on success. On failure the buckets written so
 * far (a range, as indexes only grow) are zeroed again.
 */
static int
hist_decode_raw_checked(struct hist *h, const uint8_t *p, const uint8_t *end,
			uint64_t *written_lo, uint64_t *written_hi,
			struct hist_pairs *pairs);

static int
hist_decode_raw(struct hist *h, const uint8_t *p, const uint8_t *end,
		struct hist_pairs *pairs)
{
	uint64_t lo = HIST_NBUCKETS, hi = 0;
	struct hist_pairs unused;
	int rc = hist_decode_raw_checked(h, p, end, &lo, &hi,
					 pairs != NULL ? pairs : &unused);

	if (rc < 0 && lo <= hi)
		memset(&h->buckets[lo], 0,
		       (size_t)(hi - lo + 1) * sizeof(h->buckets[0]));
	return rc;
}

static int
hist_decode_raw_checked(struct hist *h, const uint8_t *p, const uint8_t *end,
			uint64_t *written_lo, uint64_t *written_hi,
			struct hist_pairs *pairs)
{
	uint64_t count, sum, min, max, overflow, nnz;

	if (end - p < 2 || p[0] != HIST_WIRE_VERSION || p[1] != HIST_SUB_BITS)
		return -EINVAL;
	p += 2;
	if (varint_get(&p, end, &count) < 0)
		return -EINVAL;
	if (count == 0) {
		pairs->data = p;
		pairs->len = 0;
		pairs->n = 0;
		return p == end ? 0 : -EINVAL;
	}

	if (varint_get(&p, end, &sum) < 0 ||
	    varint_get(&p, end, &min) < 0 ||
	    varint_get(&p, end, &max) < 0 ||
	    varint_get(&p, end, &overflow) < 0 ||
	    varint_get(&p, end, &nnz) < 0)
		return -EINVAL;
	if (min > max || max > HIST_MAX_NS || overflow > count ||
	    (overflow > 0 && max != HIST_MAX_NS) ||
	    nnz == 0 || nnz > HIST_NBUCKETS || nnz > count)
		return -EINVAL;
	pairs->data = p;
	pairs->len = (size_t)(end - p);
	pairs->n = nnz;

	uint64_t next = 0, total = 0, first = 0, last = 0;
	int rc = 0;
	for (uint64_t k = 0; k < nnz; k++) {
		uint64_t gap, c;
		if (end - p >= 2 && (p[0] | p[1]) < 0x80) {
			/* both one octet, the usual case */
			gap = p[0];
			c = p[1];
			p += 2;
		} else if (varint_get(&p, end, &gap) < 0 ||
			   varint_get(&p, end, &c) < 0) {
			rc = -EINVAL;
			break;
		}
		if (gap >= HIST_NBUCKETS - next || c == 0 ||
		    c > count - total) {
			rc = -EINVAL;
			break;
		}
		uint64_t i = next + gap;
		if (k == 0)
			first = i;
		h->buckets[i] = c;
		total += c;
		next = i + 1;
	}
	/* buckets [first, next - 1] were written (indexes only grow) */
	if (next > 0) {
		*written_lo = first;
		*written_hi = last = next - 1;
	}
	if (rc < 0 || p != end || total != count)
		return -EINVAL;
	/* min and max must lie in the outermost non-empty buckets. */
	if (hist_bucket_index(min) != first || hist_bucket_index(max) != last)
		return -EINVAL;
	/* The sum lies between count * min and count * max (unless it
	 * wrapped, which needs > 1.8e8 samples of 100 s: not checked). */
	if (sum < min || (count == 1 && sum != min))
		return -EINVAL;

	h->count = count;
	h->sum = sum;
	h->min = min;
	h->max = max;
	h->overflow = overflow;
	return 0;
}

/* Raw forms up to this size are decoded on the stack (a histogram of a
 * few hundred buckets takes well under 2 KiB). */
#define HIST_RAW_STACK 4096

/* hist_from_base64 into an empty histogram whose buckets are all zero
 * (see hist_from_base64_pairs). */
static int
hist_from_base64_clean(struct hist *h, const char *b64, size_t len)
{
	uint8_t stack_raw[HIST_RAW_STACK];
	uint8_t *raw = stack_raw;

	if (b64 == NULL || len == 0 || len > (HIST_WIRE_MAX + 2) / 3 * 4)
		return -EINVAL;
	if (len / 4 * 3 > sizeof(stack_raw)) {
		raw = malloc(len / 4 * 3);
		if (raw == NULL)
			return -ENOMEM;
	}
	size_t n;
	int rc = b64_decode(b64, len, raw, &n);
	if (rc == 0)
		rc = hist_decode_raw(h, raw, raw + n, NULL);
	if (raw != stack_raw)
		free(raw);
	return rc;
}

int
hist_from_base64(struct hist *h, const char *b64, size_t len)
{
	hist_init(h);
	return hist_from_base64_clean(h, b64, len);
}

int
hist_from_base64_pairs(struct hist *h, const char *b64, size_t len,
		       uint8_t **raw, size_t *raw_cap, struct hist_pairs *pairs)
{
	size_t n;
	int rc;

	if (b64 == NULL || len == 0 || len > (HIST_WIRE_MAX + 2) / 3 * 4)
		return -EINVAL;
	if (len / 4 * 3 > *raw_cap) {
		uint8_t *r = realloc(*raw, len / 4 * 3);

		if (r == NULL)
			return -ENOMEM;
		*raw = r;
		*raw_cap = len / 4 * 3;
	}
	rc = b64_decode(b64, len, *raw, &n);
	if (rc == 0)
		rc = hist_decode_raw(h, *raw, *raw + n, pairs);
	return rc;
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
