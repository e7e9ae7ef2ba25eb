/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where a NIC's receive-side scaling puts a session's replies, so the
 * session is sent (and measured) by the lcore of the queue its replies
 * reach and none has to be handed over. The probe programs the port
 * with its own Toeplitz key and an indirection table entry i -> queue
 * i mod N, then hashes each session's reply 5-tuple the way the NIC
 * will (Microsoft RSS specification; DPDK's rte_softrss).
 */
#ifndef PROBE_RSS_H
#define PROBE_RSS_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

#define RSS_KEY_MAX 64

struct rss_plan {
	uint8_t key[RSS_KEY_MAX];
	uint8_t key_len;
	bool l4;                /* the hash covers UDP ports */
	uint16_t reta_size;     /* indirection table entries */
	uint16_t n_queues;      /* entry i -> queue i mod n_queues */
};

/* The plan for a port: key_len from the device (0: 40 octets). */
void rss_plan_init(struct rss_plan *pl, uint8_t key_len, bool l4,
		   uint16_t reta_size, uint16_t n_queues);

/* Toeplitz hash of a packet from src:sport to dst:dport (ports ignored
 * unless pl->l4), as the NIC computes it with pl->key. */
uint32_t rss_hash(const struct rss_plan *pl, const struct probe_addr *src,
		  uint16_t sport, const struct probe_addr *dst,
		  uint16_t dport);

/* The queue a session's replies reach: from peer:peer_port back to
 * local:local_port. */
uint16_t rss_reply_queue(const struct rss_plan *pl,
			 const struct probe_addr *local, uint16_t local_port,
			 const struct probe_addr *peer, uint16_t peer_port);

#endif
