/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP checksums of the frames the probe builds, reflects and receives
 * (RFC 768, RFC 1071, RFC 1624; RFC 8200 section 8.1 for IPv6).
 */
#ifndef PROBE_PKT_H
#define PROBE_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "metroprobe/cksum.h"

/* Sum of the UDP pseudo-header (RFC 768; RFC 8200 section 8.1): the
 * addresses, the protocol and the UDP length; the lengths and protocol
 * are the same 16-bit big-endian words for IPv4 and IPv6. */
static inline uint64_t
pkt_udp_phdr_sum(const uint8_t *d, uint16_t l3_off, bool ipv6,
		 uint16_t ulen)
{
	uint64_t s = rte_cpu_to_be_16(IPPROTO_UDP) + rte_cpu_to_be_16(ulen);

	if (ipv6)
		return mp_cksum_add(s, ((const struct rte_ipv6_hdr *)
					(d + l3_off))->src_addr, 32);
	return mp_cksum_add(s, &((const struct rte_ipv4_hdr *)
				 (d + l3_off))->src_addr, 8);
}

/* A computed UDP checksum of 0 is sent as 0xffff (RFC 768; RFC 8200
 * section 8.1: 0 means "none" in IPv4 and is invalid in IPv6). */
static inline rte_be16_t
pkt_udp_nonzero(uint16_t ck)
{
	return ck == 0 ? 0xffff : ck;
}

/* A UDP checksum field from a folded sum. */
static inline rte_be16_t
pkt_udp_field(uint16_t folded)
{
	return pkt_udp_nonzero((uint16_t)~folded);
}

/* UDP checksum over the whole datagram. */
static inline void
pkt_udp_cksum(uint8_t *d, uint16_t l3_off, uint16_t l4_off, bool ipv6)
{
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(d + l4_off);
	uint16_t ulen = rte_be_to_cpu_16(u->dgram_len);

	u->dgram_cksum = 0;
	u->dgram_cksum = pkt_udp_field(mp_cksum_fold(mp_cksum_add(
		pkt_udp_phdr_sum(d, l3_off, ipv6, ulen), u, ulen)));
}

/* Whether a received datagram's checksum is right (the caller checked
 * that ulen octets are there). */
static inline bool
pkt_udp_cksum_ok(const uint8_t *d, uint16_t l3_off, uint16_t l4_off,
		 bool ipv6, uint16_t ulen)
{
	return mp_cksum_fold(mp_cksum_add(pkt_udp_phdr_sum(d, l3_off, ipv6,
							   ulen),
					  d + l4_off, ulen)) == 0xffff;
}

/* Whether a received datagram's checksum field holds the partial form a
 * kernel leaves for checksum offload: the folded pseudo-header sum, not
 * complemented (nothing of the datagram summed in). */
static inline bool
pkt_udp_cksum_partial(const uint8_t *d, uint16_t l3_off, uint16_t l4_off,
		      bool ipv6, uint16_t ulen)
{
	const struct rte_udp_hdr *u = (const struct rte_udp_hdr *)(d + l4_off);

	return u->dgram_cksum == mp_cksum_fold(pkt_udp_phdr_sum(d, l3_off,
								ipv6, ulen));
}

/* RFC 1624: the checksum of a datagram whose region summing to old_sum
 * (region at an even offset from the UDP header) now sums to new_sum. */
static inline void
pkt_udp_cksum_update(uint8_t *d, uint16_t l4_off, uint16_t old_sum,
		     uint16_t new_sum)
{
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(d + l4_off);

	u->dgram_cksum = pkt_udp_nonzero(mp_cksum_update(u->dgram_cksum,
							 old_sum, new_sum));
}

#endif
