/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internet checksum tests: the RFC 1071 section 3 example, every length
 * 0..2100 at every alignment 0..7 against the plain RFC 1071 section 4.1
 * loop (in network byte order), and the RFC 1624 incremental update
 * against a full recomputation, including the 0x0000 / 0xffff cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metroprobe/cksum.h"

/* RFC 1071 section 4.1, octets taken big-endian: the reference. */
static uint16_t
ref_sum_be(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len > 0)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The host-order value whose bytes in memory are the big-endian sum. */
static uint16_t
as_host(uint16_t be)
{
	uint8_t b[2] = { (uint8_t)(be >> 8), (uint8_t)be };
	uint16_t h;

	memcpy(&h, b, 2);
	return h;
}

static void
fill(uint8_t *b, size_t n, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rand();
}

static void
test_rfc1071_example(void **state)
{
	/* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03,
				     0xf4, 0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(ref_sum_be(b, sizeof(b)), 0xddf2);
	assert_int_equal(mp_cksum(b, sizeof(b)), as_host(0xddf2));
	assert_int_equal(mp_cksum(b, 0), 0);
}

static void
test_all_lengths_and_alignments(void **state)
{
	static uint8_t buf[2100 + 8];

	(void)state;
	fill(buf, sizeof(buf), 1);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 2100; len++)
			assert_int_equal(mp_cksum(buf + off, len),
					 as_host(ref_sum_be(buf + off, len)));
}

static void
test_all_ones_no_overflow(void **state)
{
	static uint8_t buf[65536];

	(void)state;
	memset(buf, 0xff, sizeof(buf));
	/* 32768 words of 0xffff: negative zero */
	assert_int_equal(mp_cksum(buf, sizeof(buf)), 0xffff);
	assert_int_equal(mp_cksum(buf, 65535), as_host(ref_sum_be(buf, 65535)));
}

static void
test_partial_sums_chain(void **state)
{
	uint8_t b[300];
	uint64_t s;

	(void)state;
	fill(b, sizeof(b), 2);
	/* pieces of even length chain into the sum of the whole */
	s = mp_cksum_add(0, b, 10);
	s = mp_cksum_add(s, b + 10, 100);
	s = mp_cksum_add(s, b + 110, 190);
	assert_int_equal(mp_cksum_fold(s), mp_cksum(b, sizeof(b)));
}

/* checksum field value for data whose field (at ck_off) is zero */
static uint16_t
full_field(const uint8_t *b, size_t n)
{
	return (uint16_t)~mp_cksum(b, n);
}

static void
test_incremental_update(void **state)
{
	uint8_t b[1500];

	(void)state;
	for (unsigned round = 0; round < 2000; round++) {
		size_t n = 100 + (size_t)(rand() % 1400);
		size_t ck = 6;                       /* a UDP-like field */
		size_t off = 8 + 2 * (size_t)(rand() % 20), rl = 44;
		uint16_t hc, old, upd, full;

		fill(b, n, round + 10);
		if (round % 7 == 0)                  /* long runs of zeros */
			memset(b + 8, 0, sizeof(b) - 8);
		b[ck] = b[ck + 1] = 0;
		hc = full_field(b, n);
		old = mp_cksum(b + off, rl);
		for (size_t i = 0; i < rl; i++)
			b[off + i] = (uint8_t)rand();
		upd = mp_cksum_update(hc, old, mp_cksum(b + off, rl));
		full = full_field(b, n);
		/* 0x0000 and 0xffff are the same number in one's complement */
		if (!((upd == full) ||
		      ((upd == 0 || upd == 0xffff) &&
		       (full == 0 || full == 0xffff))))
			fail_msg("round %u: update %04x, full %04x", round, upd,
				 full);
		/* and the datagram verifies: all words sum to 0xffff */
		memcpy(b + ck, &upd, 2);
		assert_int_equal(mp_cksum(b, n), 0xffff);
	}
}

static void
test_update_through_negative_zero(void **state)
{
	/* word 0 is a constant (as UDP's pseudo-header: never all zero),
	 * word 1 the checksum field, words 2-3 the region; the region is
	 * set so that the data sums to negative zero, and back */
	uint8_t b[8] = { 0x12, 0x34, 0, 0, 0, 0, 0, 0 };
	uint16_t w0, neg, hc, old, upd;

	(void)state;
	memcpy(&w0, b, 2);
	neg = (uint16_t)~w0;               /* w0 + neg = 0xffff */
	hc = (uint16_t)~mp_cksum(b, 8);
	old = mp_cksum(b + 4, 4);
	memcpy(b + 4, &neg, 2);
	upd = mp_cksum_update(hc, old, mp_cksum(b + 4, 4));
	assert_true(upd == 0 || upd == 0xffff);
	memcpy(b + 2, &upd, 2);
	assert_int_equal(mp_cksum(b, 8), 0xffff);
	old = mp_cksum(b + 4, 4);
	memset(b + 4, 0, 2);
	upd = mp_cksum_update(upd, old, mp_cksum(b + 4, 4));
	assert_int_equal(upd, (uint16_t)~w0);
	memcpy(b + 2, &upd, 2);
	assert_int_equal(mp_cksum(b, 8), 0xffff);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_all_lengths_and_alignments),
		cmocka_unit_test(test_all_ones_no_overflow),
		cmocka_unit_test(test_partial_sums_chain),
		cmocka_unit_test(test_incremental_update),
		cmocka_unit_test(test_update_through_negative_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
