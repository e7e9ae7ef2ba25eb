/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sender sessions: set-up, paced transmit, replies measured into
 * interval slots, slots closed after the loss timeout (sender.c).
 */
#ifndef PROBE_SENDER_H
#define PROBE_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "probe-t.h"

/* Init: the session's frame template, pacing, slots. 0 or -errno. */
int session_setup(struct probe_app *app, struct probe_session *s);
/* Worker: every packet of <s> whose departure time has come. */
void session_tx(struct probe_worker *w, struct probe_queue *p,
		struct probe_session *s, uint64_t now);
/* Worker: a frame to one of the session's source ports (consumed). */
void session_rx(struct probe_worker *w, struct probe_queue *p,
		struct probe_session *s, struct rte_mbuf *m,
		uint16_t l3_off, uint16_t l4_off, bool ipv6,
		uint64_t rx_ns);
/* Worker, about every millisecond: start, interval boundaries, stop,
 * slots whose loss timeout has passed. */
void session_housekeeping(struct probe_worker *w, struct probe_session *s,
			  uint64_t now);
/* Worker, just before the burst leaves: T1, HMAC, checksum. */
void session_stamp_tx(struct rte_mbuf *m, struct tx_meta *meta,
		      const struct wire_time *t);
/* Worker: its clock followed a CLOCK_REALTIME step (clock.h). */
void session_clock_stepped(struct probe_worker *w, struct probe_session *s,
			   uint64_t now);

#endif
