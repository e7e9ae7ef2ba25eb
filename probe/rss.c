/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ip.h>
#include <rte_thash.h>

#include "rss.h"

/* The key of the Microsoft RSS specification's examples, repeated to
 * the device's key length: known to spread addresses and ports well. */
static const uint8_t rss_key_ms[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

void
rss_plan_init(struct rss_plan *pl, uint8_t key_len, bool l4,
	      uint16_t reta_size, uint16_t n_queues)
{
	memset(pl, 0, sizeof(*pl));
	pl->key_len = key_len == 0 ? 40 : RTE_MIN(key_len, RSS_KEY_MAX);
	for (unsigned i = 0; i < pl->key_len; i++)
		pl->key[i] = rss_key_ms[i % sizeof(rss_key_ms)];
	pl->l4 = l4;
	pl->reta_size = reta_size == 0 ? 1 : reta_size;
	pl->n_queues = n_queues == 0 ? 1 : n_queues;
}

uint32_t
rss_hash(const struct rss_plan *pl, const struct probe_addr *src,
	 uint16_t sport, const struct probe_addr *dst, uint16_t dport)
{
	union rte_thash_tuple t;
	uint32_t len;

	memset(&t, 0, sizeof(t));
	if (src->family == 4) {
		t.v4.src_addr = rte_be_to_cpu_32(src->v4);
		t.v4.dst_addr = rte_be_to_cpu_32(dst->v4);
		t.v4.sport = sport;
		t.v4.dport = dport;
		len = pl->l4 ? RTE_THASH_V4_L4_LEN : RTE_THASH_V4_L3_LEN;
	} else {
		struct rte_ipv6_hdr h;

		memcpy(h.src_addr, src->v6, 16);
		memcpy(h.dst_addr, dst->v6, 16);
		rte_thash_load_v6_addrs(&h, &t);
		t.v6.sport = sport;
		t.v6.dport = dport;
		len = pl->l4 ? RTE_THASH_V6_L4_LEN : RTE_THASH_V6_L3_LEN;
	}
	return rte_softrss((uint32_t *)&t, len, pl->key);
}

uint16_t
rss_reply_queue(const struct rss_plan *pl, const struct probe_addr *local,
		uint16_t local_port, const struct probe_addr *peer,
		uint16_t peer_port)
{
	uint32_t h = rss_hash(pl, peer, peer_port, local, local_port);

	/* NICs index the table with the hash's low bits */
	return (uint16_t)((h % pl->reta_size) % pl->n_queues);
}
