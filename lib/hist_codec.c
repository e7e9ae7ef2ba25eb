/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Serialisation of the log-linear histogram, for records and storage.
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
#include "metroprobe/leb128.h"

#define HIST_WIRE_VERSION 1
/* Largest raw encoding: header, five scalars, every bucket present. */
#define HIST_WIRE_MAX     (2 + 6 * MP_LEB128_MAX + \
			   HIST_NBUCKETS * (2 + MP_LEB128_MAX))

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
	n += mp_leb128_put(raw + n, h->count);
	if (h->count > 0) {
		uint64_t nnz = 0;
		for (uint32_t i = 0; i < HIST_NBUCKETS; i++)
			nnz += h->buckets[i] != 0;
		n += mp_leb128_put(raw + n, h->sum);
		n += mp_leb128_put(raw + n, h->min);
		n += mp_leb128_put(raw + n, h->max);
		n += mp_leb128_put(raw + n, h->overflow);
		n += mp_leb128_put(raw + n, nnz);
		uint32_t next = 0;   /* previous index + 1 */
		for (uint32_t i = 0; i < HIST_NBUCKETS; i++) {
			if (h->buckets[i] == 0)
				continue;
			n += mp_leb128_put(raw + n, i - next);
			n += mp_leb128_put(raw + n, h->buckets[i]);
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
	if (mp_leb128_get(&p, end, &count) < 0)
		return -EINVAL;
	if (count == 0) {
		pairs->data = p;
		pairs->len = 0;
		pairs->n = 0;
		return p == end ? 0 : -EINVAL;
	}

	if (mp_leb128_get(&p, end, &sum) < 0 ||
	    mp_leb128_get(&p, end, &min) < 0 ||
	    mp_leb128_get(&p, end, &max) < 0 ||
	    mp_leb128_get(&p, end, &overflow) < 0 ||
	    mp_leb128_get(&p, end, &nnz) < 0)
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
		} else if (mp_leb128_get(&p, end, &gap) < 0 ||
			   mp_leb128_get(&p, end, &c) < 0) {
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
