/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internet checksum (RFC 1071) for the per-packet path: a full sum that
 * reads eight octets per step, and the incremental update of RFC 1624
 * equation 3 for a region that changed.
 *
 * Sums are in the host's byte order, as RFC 1071 section 2(B) allows:
 * the folded 16-bit result is stored into the packet as it is, without
 * a byte swap (the same convention as DPDK's rte_raw_cksum, whose plain
 * two-octet loop in DPDK 22.11 costs ~4x more per octet, and which is
 * not in the core library's dependencies).
 */
#ifndef METROPROBE_CKSUM_H
#define METROPROBE_CKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Adds len octets at buf (any alignment, any length; an odd last octet
 * counts as the first octet of a zero-padded 16-bit word) to the partial
 * sum. The result is a partial sum: fold it before use. It stays exact
 * while the octets added along a chain of calls total under 2^30.
 *
 * RFC 1071 section 4.1 sums 16-bit words; a 64-bit accumulator of 32-bit
 * words gives the same folded sum (RFC 1071 section 2(C), "parallel
 * summation") with no carry to handle. Two accumulators keep the adds
 * independent. Inline: on the packet path it sums 8 to 1500 octets, many
 * of them of a length known where it is called. */
static inline uint64_t
mp_cksum_add(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)buf;
	uint64_t b = 0;
	uint32_t w0, w1;
	uint16_t h;

	/* Long runs (a datagram checked on receipt): 64-bit words, each
	 * carry out counted and added back at the end, since 2^64 is 1 in
	 * one's complement arithmetic (RFC 1071 section 2(C) at 64 bits);
	 * two independent sums. */
	if (len >= 64) {
		uint64_t s0 = 0, s1 = 0, c0 = 0, c1 = 0, w[4];

		while (len >= 32) {
			memcpy(w, p, 32);
			s0 += w[0];
			c0 += s0 < w[0];
			s1 += w[1];
			c1 += s1 < w[1];
			s0 += w[2];
			c0 += s0 < w[2];
			s1 += w[3];
			c1 += s1 < w[3];
			p += 32;
			len -= 32;
		}
		b = (s0 & 0xffffffffu) + (s0 >> 32) + (s1 & 0xffffffffu) +
		    (s1 >> 32) + c0 + c1;
	}
	while (len >= 8) {
		memcpy(&w0, p, 4);
		memcpy(&w1, p + 4, 4);
		sum += w0;
		b += w1;
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&w0, p, 4);
		sum += w0;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		b += h;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		h = 0;
		memcpy(&h, p, 1);
		b += h;
	}
	return sum + b;
}

/* Folds a partial sum to 16 bits with end-around carries (not
 * complemented; 0xffff means "sum is negative zero"). */
static inline uint16_t
mp_cksum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The folded sum of len octets at buf. */
static inline uint16_t
mp_cksum(const void *buf, size_t len)
{
	return mp_cksum_fold(mp_cksum_add(0, buf, len));
}

/* RFC 1624 equation 3: the checksum field hc of a datagram in which a
 * region whose folded sum was old_sum now sums to new_sum:
 * HC' = ~(~HC + ~m + m'). The region must start at an even offset from
 * the start of the checksummed data. Returns the new field value, in
 * the sums' byte order. */
static inline uint16_t
mp_cksum_update(uint16_t hc, uint16_t old_sum, uint16_t new_sum)
{
	uint64_t s = (uint16_t)~hc;

	s += (uint16_t)~old_sum;
	s += new_sum;
	return (uint16_t)~mp_cksum_fold(s);
}

#endif
