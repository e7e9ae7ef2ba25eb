/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transmit staging of a queue: frames wait in a small stage and leave
 * in one burst, stamped (T1, T3) just before it (tx.c). Worker only.
 */
#ifndef PROBE_TX_H
#define PROBE_TX_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "probe-t.h"

/* Stages <m> with what is to be written just before it leaves; 0, or
 * -1 when the stage is full (m freed, counted). */
static inline int
port_stage(struct probe_queue *p, struct rte_mbuf *m,
	   const struct tx_meta *meta)
{
	if (p->tx_n >= PROBE_TX_STAGE) {
		port_drop(p, PROBE_DROP_TX_FULL, m);
		return -1;
	}
	p->tx_pkts[p->tx_n] = m;
	p->tx_meta[p->tx_n] = *meta;
	p->tx_n++;
	return 0;
}
/* Stamps and sends what is staged; returns the frames the port took. */
uint16_t port_flush(struct probe_worker *w, struct probe_queue *p);

#endif
