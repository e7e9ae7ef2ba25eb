/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transmit staging of a queue: ARP/NDP answers, test packets and
 * reflected packets wait in a stage of PROBE_TX_STAGE frames and leave in
 * one burst. T1 and T3 are written just before it, from one TSC reading,
 * so what the stamps say is as close to the wire as software gets; how
 * long the burst then took is the transmit side of the timestamps' error.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "reflector.h"
#include "sender.h"
#include "tx.h"


/* How long the T1 (T3) of each test (reflected) packet sent was written
 * before the burst left: the transmit side of the timestamp error. */
static inline void
tx_lag_note(struct probe_queue *p, uint16_t sent, uint64_t lag)
{
	for (uint16_t i = 0; i < sent; i++) {
		struct interval_slot *sl;

		if (p->tx_meta[i].kind == TX_REFLECT) {
			if (lag > p->ts_lag_win_tsc[0])
				p->ts_lag_win_tsc[0] = lag;
			continue;
		}
		if (p->tx_meta[i].kind != TX_SENDER)
			continue;
		sl = p->tx_meta[i].session->cur_slot;
		if (lag > sl->tx_lag_max_tsc)
			sl->tx_lag_max_tsc = lag;
	}
}

/* Returns the number of frames the port took. */
uint16_t
port_flush(struct probe_worker *w, struct probe_queue *p)
{
	struct wire_time t;
	uint64_t tsc;
	uint16_t sent;

	if (p->tx_n == 0)
		return 0;
	/* T1 / T3: taken just before the burst leaves. */
	tsc = rte_rdtsc();
	wire_time_set(&t, clock_tsc_to_ns(&w->clk, tsc), w->rt.tai_offset_s);
	for (uint16_t i = 0; i < p->tx_n; i++) {
		struct tx_meta *meta = &p->tx_meta[i];

		if (meta->kind == TX_SENDER)
			session_stamp_tx(p->tx_pkts[i], meta, &t);
		else if (meta->kind == TX_REFLECT)
			reflector_stamp_tx(p, p->tx_pkts[i], meta, &t);
		if (meta->kind != TX_RAW &&
		    !capture_packet(p->capture, p->tx_pkts[i], tsc))
			p->drops[PROBE_DROP_CAPTURE_FULL]++;
	}
	sent = rte_eth_tx_burst(p->port_id, p->queue, p->tx_pkts, p->tx_n);
	p->tx_pkts_total += sent;
	tx_lag_note(p, sent, rte_rdtsc() - tsc);
	if (sent < p->tx_n) {
		/* keep the rest; they are stamped again on the next try */
		memmove(p->tx_pkts, p->tx_pkts + sent,
			(p->tx_n - sent) * sizeof(p->tx_pkts[0]));
		memmove(p->tx_meta, p->tx_meta + sent,
			(p->tx_n - sent) * sizeof(p->tx_meta[0]));
	}
	p->tx_n -= sent;
	return sent;
}

