/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The STAMP session-reflector of a port, stateful or stateless
 * (RFC 8762 section 4.3), authenticated or not (reflector.c).
 */
#ifndef PROBE_REFLECTOR_H
#define PROBE_REFLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "probe-t.h"

/* Init: the reflector's state table and HMAC key. 0 or -errno. */
int reflector_setup(struct probe_app *app, struct probe_queue *p);
/* Worker, every 100 ms: the Error Estimate the replies carry. */
void reflector_errest_tick(struct probe_worker *w, struct probe_queue *p,
			   uint64_t now);
/* Worker: a STAMP test packet to the reflector's port (consumed). */
void reflector_input(struct probe_worker *w, struct probe_queue *p,
		     struct rte_mbuf *m, uint16_t l3_off, uint16_t l4_off,
		     bool ipv6, uint64_t rx_ns);
/* Worker, just before the burst leaves: T3, HMAC, checksum. */
void reflector_stamp_tx(struct probe_queue *p, struct rte_mbuf *m,
			struct tx_meta *meta, const struct wire_time *t);

#endif
