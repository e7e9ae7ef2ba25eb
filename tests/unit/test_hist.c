/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Histogram tests: bucket geometry, quantiles against an exact
 * sorted-array reference (nearest rank) on random and adversarial data,
 * merge, and the serialisation (exact round trip, strict rejection,
 * random-input fuzzing).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "metroprobe/hist.h"

/* xorshift64*: a seeded generator, so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static double
rng_unit(void)
{
	return (double)(rng() >> 11) / (double)(1ULL << 53);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static struct hist *
hist_new(void)
{
	struct hist *h = malloc(sizeof(*h));
	assert_non_null(h);
	hist_init(h);
	return h;
}

/*
 * Inserts v[0..n) into a histogram and checks every statistic against
 * the sorted values (clamped at HIST_MAX_NS, as the histogram records
 * them): count, min, max, mean exact; each quantile within 1 % of the
 * nearest-rank reference, exact below 64 ns.
 */
static void
check_against_reference(const uint64_t *v, size_t n)
{
	struct hist *h = hist_new();
	uint64_t *ref = malloc(n * sizeof(*ref));
	uint64_t sum = 0, overflow = 0;

	assert_non_null(ref);
	for (size_t i = 0; i < n; i++) {
		hist_insert(h, v[i]);
		ref[i] = v[i] > HIST_MAX_NS ? HIST_MAX_NS : v[i];
		overflow += v[i] > HIST_MAX_NS;
		sum += ref[i];
	}
	qsort(ref, n, sizeof(*ref), cmp_u64);

	assert_int_equal(h->count, n);
	assert_int_equal(h->overflow, overflow);
	assert_int_equal(h->min, ref[0]);
	assert_int_equal(h->max, ref[n - 1]);
	assert_int_equal(hist_mean(h), sum / n);

	for (unsigned k = 0; k <= 1000; k++) {
		double q = k / 1000.0;
		size_t rank = (size_t)ceil(q * (double)n);
		if (rank < 1)
			rank = 1;
		uint64_t want = ref[rank - 1];
		uint64_t got = hist_quantile(h, q);
		uint64_t err = got > want ? got - want : want - got;
		if (want < HIST_SUB_COUNT) {
			if (got != want)
				fail_msg("q=%.3f: got %lu, want exactly %lu", q,
					 (unsigned long)got,
					 (unsigned long)want);
		} else if ((double)err > (double)want * 0.01) {
			fail_msg("q=%.3f: got %lu, want %lu (error %.4f %%)",
				 q, (unsigned long)got, (unsigned long)want,
				 100.0 * (double)err / (double)want);
		}
	}
	free(ref);
	free(h);
}

static void
test_bucket_geometry_is_contiguous_and_fine(void **state)
{
	(void)state;
	uint32_t top = hist_bucket_index(HIST_MAX_NS);

	assert_true(top < HIST_NBUCKETS);
	for (uint32_t i = 0; i <= top; i++) {
		uint64_t lo = hist_bucket_low(i), w = hist_bucket_width(i);
		assert_int_equal(hist_bucket_index(lo), i);
		assert_int_equal(hist_bucket_index(lo + w - 1), i);
		if (i > 0)
			assert_int_equal(hist_bucket_index(lo - 1), i - 1);
		if (i + 1 < HIST_NBUCKETS)
			assert_int_equal(hist_bucket_low(i + 1), lo + w);
		/* Half a bucket is at most 1/128 of its lowest value. */
		if (lo >= HIST_SUB_COUNT)
			assert_true(w * 64 <= lo);
		else
			assert_int_equal(w, 1);
	}
	assert_int_equal(hist_bucket_index(UINT64_MAX), top);
	assert_int_equal(hist_bucket_index(0), 0);
}

static void
test_empty_histogram_reads_zero(void **state)
{
	(void)state;
	struct hist *h = hist_new();

	assert_true(hist_empty(h));
	assert_int_equal(hist_quantile(h, 0.5), 0);
	assert_int_equal(hist_mean(h), 0);
	assert_int_equal(h->min, UINT64_MAX);
	free(h);
}

static void
test_small_values_are_exact(void **state)
{
	(void)state;
	struct hist *h = hist_new();

	for (uint64_t v = 0; v < 64; v++)
		hist_insert(h, v);
	for (unsigned k = 1; k <= 64; k++)
		assert_int_equal(hist_quantile(h, k / 64.0), k - 1);
	assert_int_equal(hist_quantile(h, 0), 0);
	free(h);
}

static void
test_uniform_random_matches_reference(void **state)
{
	(void)state;
	size_t n = 100000;
	uint64_t *v = malloc(n * sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = rng() % 1000000;                 /* 0 .. 1 ms */
	check_against_reference(v, n);
	for (size_t i = 0; i < n; i++)
		v[i] = rng() % (HIST_MAX_NS + 1);       /* 0 .. 100 s */
	check_against_reference(v, n);
	for (size_t i = 0; i < 7; i++)
		v[i] = 500 + rng() % 1000;              /* tiny sample */
	check_against_reference(v, 7);
	free(v);
}

static void
test_lognormal_random_matches_reference(void **state)
{
	(void)state;
	size_t n = 100000;
	uint64_t *v = malloc(n * sizeof(*v));

	/* Sum of uniforms ~ normal; exp() of it ~ lognormal delays around
	 * 1 ms with a long tail, plus a spread over 1 ns .. 100 s. */
	for (size_t i = 0; i < n; i++) {
		double z = 0;
		for (int k = 0; k < 12; k++)
			z += rng_unit();
		v[i] = (uint64_t)exp(log(1e6) + (z - 6.0) * 1.5);
	}
	check_against_reference(v, n);
	for (size_t i = 0; i < n; i++)
		v[i] = (uint64_t)exp(rng_unit() * log(1e11));
	check_against_reference(v, n);
	free(v);
}

static void
test_adversarial_data_matches_reference(void **state)
{
	(void)state;
	uint64_t v[4 * HIST_NBUCKETS + 64];
	size_t n;

	/* All equal. */
	for (n = 0; n < 1000; n++)
		v[n] = 1234567;
	check_against_reference(v, n);

	/* Powers of two, and their neighbours, up to beyond the maximum. */
	n = 0;
	for (unsigned e = 0; e < 40; e++) {
		v[n++] = 1ULL << e;
		v[n++] = (1ULL << e) - 1;
		v[n++] = (1ULL << e) + 1;
	}
	check_against_reference(v, n);

	/* Both edges of every bucket up to the top one. */
	n = 0;
	for (uint32_t i = 0; i <= hist_bucket_index(HIST_MAX_NS); i++) {
		v[n++] = hist_bucket_low(i);
		v[n++] = hist_bucket_low(i) + hist_bucket_width(i) - 1;
	}
	check_against_reference(v, n);

	/* Zero, one, the maximum, beyond it. */
	n = 0;
	uint64_t special[] = { 0, 1, HIST_MAX_NS - 1, HIST_MAX_NS,
			       HIST_MAX_NS + 1, 1ULL << 40, UINT64_MAX };
	for (unsigned r = 0; r < 10; r++)
		for (unsigned k = 0; k < sizeof(special) / sizeof(*special);
		     k++)
			v[n++] = special[k];
	check_against_reference(v, n);

	/* A single zero; a single over-maximum value. */
	v[0] = 0;
	check_against_reference(v, 1);
	v[0] = UINT64_MAX;
	check_against_reference(v, 1);
}

static void
test_over_maximum_is_clamped_and_counted(void **state)
{
	(void)state;
	struct hist *h = hist_new();

	hist_insert(h, 5);
	hist_insert(h, HIST_MAX_NS + 7);
	hist_insert(h, UINT64_MAX);
	assert_int_equal(h->overflow, 2);
	assert_int_equal(h->max, HIST_MAX_NS);
	assert_int_equal(h->sum, 5 + 2 * HIST_MAX_NS);
	assert_int_equal(hist_quantile(h, 1.0), HIST_MAX_NS);
	free(h);
}

static void
test_merge_equals_histogram_of_union(void **state)
{
	(void)state;
	struct hist *a = hist_new(), *b = hist_new(), *u = hist_new();
	struct hist *e = hist_new();

	for (int i = 0; i < 50000; i++) {
		uint64_t x = rng() % 5000000, y = rng() % 300 + 1000000000;
		hist_insert(a, x);
		hist_insert(b, y);
		hist_insert(u, x);
		hist_insert(u, y);
	}
	hist_insert(b, UINT64_MAX);
	hist_insert(u, UINT64_MAX);

	hist_merge(a, b);
	assert_memory_equal(a, u, sizeof(*a));

	/* Merging an empty histogram changes nothing; into an empty one
	 * copies. */
	hist_merge(a, e);
	assert_memory_equal(a, u, sizeof(*a));
	hist_merge(e, u);
	assert_memory_equal(e, u, sizeof(*e));
	free(a);
	free(b);
	free(u);
	free(e);
}

/* Round trip through base64, compared field by field (whole struct). */
static void
check_round_trip(const struct hist *h)
{
	struct hist *back = hist_new();
	char *s = hist_to_base64(h);

	assert_non_null(s);
	assert_int_equal(hist_from_base64(back, s, strlen(s)), 0);
	assert_memory_equal(back, h, sizeof(*h));

	/* An independent base64 decoder (OpenSSL) reads the same octets:
	 * version 1, then HIST_SUB_BITS. */
	unsigned char raw[64 * 1024];
	size_t len = strlen(s);
	assert_true(len / 4 * 3 <= sizeof(raw));
	int n = EVP_DecodeBlock(raw, (const unsigned char *)s, (int)len);
	assert_true(n >= 3);
	assert_int_equal(raw[0], 1);
	assert_int_equal(raw[1], HIST_SUB_BITS);
	free(s);
	free(back);
}

static void
test_serialisation_round_trips_exactly(void **state)
{
	(void)state;
	struct hist *h = hist_new();

	check_round_trip(h);                 /* empty */
	hist_insert(h, 0);
	check_round_trip(h);                 /* one zero */
	hist_init(h);
	hist_insert(h, UINT64_MAX);
	check_round_trip(h);                 /* one overflow */
	for (int i = 0; i < 100000; i++)
		hist_insert(h, (uint64_t)exp(rng_unit() * log(2e11)));
	check_round_trip(h);                 /* spread, with overflows */

	/* Every bucket used, large counts. */
	hist_init(h);
	for (uint32_t i = 0; i <= hist_bucket_index(HIST_MAX_NS); i++) {
		uint64_t lo = hist_bucket_low(i);
		if (lo > HIST_MAX_NS)
			lo = HIST_MAX_NS;
		hist_insert(h, lo);
	}
	h->buckets[100] += 1ULL << 40;
	h->count += 1ULL << 40;
	h->sum += (1ULL << 40) * hist_bucket_low(100);
	check_round_trip(h);

	/* A typical interval stays compact: 1000 samples around 1 ms. */
	hist_init(h);
	for (int i = 0; i < 1000; i++)
		hist_insert(h, 1000000 + rng() % 50000);
	char *s = hist_to_base64(h);
	assert_true(strlen(s) < 200);
	free(s);
	free(h);
}

/* Base64 of raw octets, with OpenSSL's encoder (independent of ours). */
static char *
b64_of(const uint8_t *raw, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1);
	EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
	return out;
}

static int
decode_raw(const uint8_t *raw, size_t n)
{
	struct hist *h = hist_new();
	char *s = b64_of(raw, n);
	int rc = hist_from_base64(h, s, strlen(s));
	if (rc < 0)
		assert_true(hist_empty(h));   /* left empty, not half-read */
	free(s);
	free(h);
	return rc;
}

static void
test_malformed_serialisation_is_rejected(void **state)
{
	(void)state;
	struct hist *h = hist_new();

	/* Hand-built raw forms: version, sub bits, count, sum, min, max,
	 * overflow, n, (gap, count)... Values 10 and 20: buckets 10, 20. */
	static const uint8_t good[] = { 1, 6, 2, 30, 10, 20, 0, 2,
					10, 1, 9, 1 };
	assert_int_equal(decode_raw(good, sizeof(good)), 0);
	static const uint8_t empty[] = { 1, 6, 0 };
	assert_int_equal(decode_raw(empty, sizeof(empty)), 0);

	static const struct {
		const char *why;
		uint8_t raw[16];
		size_t n;
	} bad[] = {
		{ "wrong version", { 2, 6, 0 }, 3 },
		{ "other bucket layout", { 1, 5, 0 }, 3 },
		{ "empty with trailing data", { 1, 6, 0, 0 }, 4 },
		{ "trailing octet", { 1, 6, 2, 30, 10, 20, 0, 2, 10, 1, 9, 1,
				      0 }, 13 },
		{ "truncated", { 1, 6, 2, 30, 10, 20, 0, 2, 10, 1, 9 }, 11 },
		{ "counts do not add up", { 1, 6, 3, 30, 10, 20, 0, 2, 10, 1,
					    9, 1 }, 12 },
		{ "bucket count zero", { 1, 6, 2, 30, 10, 20, 0, 2, 10, 2, 9,
					 0 }, 12 },
		{ "min above max", { 1, 6, 2, 30, 20, 10, 0, 2, 10, 1, 9, 1 },
		  12 },
		{ "min not in first bucket", { 1, 6, 2, 30, 11, 20, 0, 2, 10,
					       1, 9, 1 }, 12 },
		{ "max not in last bucket", { 1, 6, 2, 30, 10, 21, 0, 2, 10,
					      1, 9, 1 }, 12 },
		{ "overflow without max", { 1, 6, 2, 30, 10, 20, 1, 2, 10, 1,
					    9, 1 }, 12 },
		{ "overlong varint", { 1, 6, 0x82, 0x00, 30, 10, 20, 0, 2, 10,
				       1, 9, 1 }, 13 },
		{ "index beyond the last bucket", { 1, 6, 1, 10, 10, 10, 0, 1,
						    0x80, 0x80, 0x01, 1 }, 12 },
		{ "varint over 64 bits", { 1, 6, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0x02 }, 12 },
		{ "no buckets", { 1, 6, 1, 10, 10, 10, 0, 0 }, 8 },
		{ "one sample, sum differs", { 1, 6, 1, 11, 10, 10, 0, 1, 10,
					       1 }, 10 },
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		if (decode_raw(bad[k].raw, bad[k].n) != -EINVAL)
			fail_msg("accepted: %s", bad[k].why);

	/* Base64 spelling. */
	static const char *const bad64[] = {
		"",            /* nothing */
		"AQY",         /* not a multiple of 4 */
		"AQYA ",       /* whitespace */
		"AQ=A",        /* data after padding */
		"AQYB",        /* count 1, then nothing */
		"AQZ=",        /* non-zero unused bits */
		"A===",        /* too much padding */
		"AQY*",        /* not in the alphabet */
		"AQYA\n",      /* newline */
	};
	for (size_t k = 0; k < sizeof(bad64) / sizeof(bad64[0]); k++)
		assert_int_equal(hist_from_base64(h, bad64[k],
						  strlen(bad64[k])), -EINVAL);
	/* The accepted spelling of the empty histogram. */
	assert_int_equal(hist_from_base64(h, "AQYA", 4), 0);
	assert_true(hist_empty(h));
	/* The length given is honoured, not the NUL. */
	assert_int_equal(hist_from_base64(h, "AQYAAQYA", 4), 0);
	assert_int_equal(hist_from_base64(h, NULL, 0), -EINVAL);

	/* Every strict prefix of a real encoding is rejected. */
	for (int i = 0; i < 1000; i++)
		hist_insert(h, rng() % 10000000);
	char *s = hist_to_base64(h);
	struct hist *g = hist_new();
	for (size_t len = 0; len < strlen(s); len++)
		assert_int_equal(hist_from_base64(g, s, len), -EINVAL);
	free(s);
	free(g);
	free(h);
}

/*
 * Random input: never a crash (run under ASan/UBSan in the sanitizer
 * build), and whatever is accepted is a consistent histogram whose
 * encoding is exactly the input (the form is canonical).
 */
static void
fuzz_one(struct hist *h, const char *s, size_t len)
{
	if (hist_from_base64(h, s, len) != 0) {
		assert_true(hist_empty(h));
		return;
	}
	uint64_t total = 0;
	for (uint32_t i = 0; i < HIST_NBUCKETS; i++)
		total += h->buckets[i];
	assert_int_equal(total, h->count);
	char *again = hist_to_base64(h);
	assert_int_equal(strlen(again), len);
	assert_memory_equal(again, s, len);
	free(again);
}

static void
test_random_input_never_crashes(void **state)
{
	(void)state;
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789+/=";
	struct hist *h = hist_new(), *src = hist_new();
	char buf[512];
	uint8_t raw[384];
	unsigned accepted = 0;

	for (int it = 0; it < 20000; it++) {
		/* Random text over the alphabet and '='. */
		size_t len = rng() % sizeof(buf);
		for (size_t i = 0; i < len; i++)
			buf[i] = alphabet[rng() % (sizeof(alphabet) - 1)];
		fuzz_one(h, buf, len);

		/* Random raw octets behind a valid header, so the parser
		 * gets past the first checks. */
		size_t n = 2 + rng() % (sizeof(raw) - 2);
		raw[0] = 1;
		raw[1] = HIST_SUB_BITS;
		for (size_t i = 2; i < n; i++)
			raw[i] = (uint8_t)rng();
		char *s = b64_of(raw, n);
		fuzz_one(h, s, strlen(s));
		free(s);

		/* A valid encoding with one octet changed. */
		hist_init(src);
		unsigned k = 1 + rng() % 20;
		for (unsigned i = 0; i < k; i++)
			hist_insert(src, rng() % 2000);
		s = hist_to_base64(src);
		size_t slen = strlen(s);
		n = (size_t)EVP_DecodeBlock(raw, (unsigned char *)s,
					    (int)slen);
		/* OpenSSL counts the padding as zero octets. */
		n -= (s[slen - 1] == '=') + (s[slen - 2] == '=');
		free(s);
		raw[rng() % n] ^= (uint8_t)(1 + rng() % 255);
		s = b64_of(raw, n);
		if (hist_from_base64(h, s, strlen(s)) == 0)
			accepted++;
		fuzz_one(h, s, strlen(s));
		free(s);
	}
	/* Not a test that cannot fail: most mutations must be caught. */
	assert_true(accepted < 20000 / 2);
	free(h);
	free(src);
}

/*
 * The walks over the occupied buckets only (hist_merge, hist_quantile,
 * hist_quantiles) against the full walks they replaced, written out
 * here: results must be bit-identical on empty, single-value, top-bucket
 * (clamped at HIST_MAX_NS) and random histograms.
 */
static uint64_t
full_walk_quantile(const struct hist *h, double q)
{
	if (h->count == 0)
		return 0;
	if (!(q > 0.0))
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
	uint64_t cum = 0;
	uint32_t i;
	for (i = 0; i < HIST_NBUCKETS - 1; i++) {
		cum += h->buckets[i];
		if (cum >= rank)
			break;
	}
	uint64_t v = hist_bucket_low(i) + hist_bucket_width(i) / 2;
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

static void
full_walk_merge(struct hist *dst, const struct hist *src)
{
	if (src->count == 0)
		return;
	for (uint32_t i = 0; i < HIST_NBUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	dst->overflow += src->overflow;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* Fills h with one of several shapes, by case number. */
static void
walk_case_fill(struct hist *h, unsigned c)
{
	unsigned n = 1 + (unsigned)(rng() % 2000);
	uint64_t base = rng() % HIST_MAX_NS;

	hist_init(h);
	switch (c % 7) {
	case 0:                                  /* empty */
		break;
	case 1:                                  /* one value, n times */
		for (unsigned k = 0; k < n % 5 + 1; k++)
			hist_insert(h, base);
		break;
	case 2:                                  /* top bucket only */
		for (unsigned k = 0; k < n % 7 + 1; k++)
			hist_insert(h, HIST_MAX_NS + rng() % 1000);
		break;
	case 3:                                  /* 0 and the maximum */
		hist_insert(h, 0);
		hist_insert(h, HIST_MAX_NS + 1);
		break;
	case 4:                                  /* exact small values */
		for (unsigned k = 0; k < n; k++)
			hist_insert(h, rng() % HIST_SUB_COUNT);
		break;
	case 5:                                  /* narrow band */
		for (unsigned k = 0; k < n; k++)
			hist_insert(h, base / 1000 + rng() % (base / 100 + 1));
		break;
	default:                                 /* any magnitude */
		for (unsigned k = 0; k < n; k++)
			hist_insert(h, rng() >> (rng() % 64));
		break;
	}
}

static void
test_occupied_range_walks_equal_full_walks(void **state)
{
	static const double qs[] = { 0.0, 1e-9, 0.001, 0.25, 0.5, 0.5,
				     0.9, 0.99, 0.999, 0.9999, 1.0 };
	const unsigned nq = sizeof(qs) / sizeof(qs[0]);
	struct hist *a = hist_new(), *b = hist_new();
	struct hist *m1 = hist_new(), *m2 = hist_new();
	uint64_t out[sizeof(qs) / sizeof(qs[0])];
	(void)state;

	for (unsigned c = 0; c < 700; c++) {
		walk_case_fill(a, c);
		walk_case_fill(b, c / 7 + c);
		/* single quantiles, plus q outside [0, 1] and NaN */
		for (unsigned k = 0; k < nq; k++)
			assert_int_equal(hist_quantile(a, qs[k]),
					 full_walk_quantile(a, qs[k]));
		assert_int_equal(hist_quantile(a, -1.0),
				 full_walk_quantile(a, -1.0));
		assert_int_equal(hist_quantile(a, 2.0),
				 full_walk_quantile(a, 2.0));
		assert_int_equal(hist_quantile(a, NAN),
				 full_walk_quantile(a, NAN));
		for (unsigned k = 0; k < 20; k++) {
			double q = rng_unit();
			assert_int_equal(hist_quantile(a, q),
					 full_walk_quantile(a, q));
		}
		/* several in one walk, ascending and not */
		hist_quantiles(a, qs, out, nq);
		for (unsigned k = 0; k < nq; k++)
			assert_int_equal(out[k], full_walk_quantile(a, qs[k]));
		double rq[5];
		for (unsigned k = 0; k < 5; k++)
			rq[k] = rng_unit();
		hist_quantiles(a, rq, out, 5);
		for (unsigned k = 0; k < 5; k++)
			assert_int_equal(out[k], full_walk_quantile(a, rq[k]));
		/* merge: every field and bucket equal */
		memcpy(m1, b, sizeof(*b));
		memcpy(m2, b, sizeof(*b));
		hist_merge(m1, a);
		full_walk_merge(m2, a);
		assert_memory_equal(m1, m2, sizeof(*m1));
		hist_merge(m1, b);
		full_walk_merge(m2, b);
		assert_memory_equal(m1, m2, sizeof(*m1));
		for (unsigned k = 0; k < nq; k++)
			assert_int_equal(hist_quantile(m1, qs[k]),
					 full_walk_quantile(m2, qs[k]));
	}
	free(a);
	free(b);
	free(m1);
	free(m2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_geometry_is_contiguous_and_fine),
		cmocka_unit_test(test_empty_histogram_reads_zero),
		cmocka_unit_test(test_small_values_are_exact),
		cmocka_unit_test(test_uniform_random_matches_reference),
		cmocka_unit_test(test_lognormal_random_matches_reference),
		cmocka_unit_test(test_adversarial_data_matches_reference),
		cmocka_unit_test(test_over_maximum_is_clamped_and_counted),
		cmocka_unit_test(test_merge_equals_histogram_of_union),
		cmocka_unit_test(test_serialisation_round_trips_exactly),
		cmocka_unit_test(test_malformed_serialisation_is_rejected),
		cmocka_unit_test(test_random_input_never_crashes),
		cmocka_unit_test(test_occupied_range_walks_equal_full_walks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
