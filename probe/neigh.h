/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbours: ARP (RFC 826) and NDP (RFC 4861) answered and resolved
 * on each port (arp.c). Worker context but for neigh_add.
 */
#ifndef PROBE_NEIGH_H
#define PROBE_NEIGH_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "probe-t.h"

/* Adds (or finds) <ip> in <t>, with <mac> when known (static entry);
 * the entry's index, or -ENOSPC. Caller holds t->lock. */
int neigh_add(struct neigh_table *t, const struct probe_addr *ip,
	      const uint8_t *mac);
void arp_input(struct probe_queue *p, struct rte_mbuf *m, uint16_t l3_off,
	       uint64_t now);
void ndp_input(struct probe_queue *p, struct rte_mbuf *m, uint16_t l3_off,
	       uint16_t l4_off, uint16_t l4_len, uint64_t now);
/* Requests and refreshes due on <p>'s port, about every millisecond. */
void neigh_tick(struct probe_queue *p, uint64_t now, uint64_t tsc_hz);

#endif
