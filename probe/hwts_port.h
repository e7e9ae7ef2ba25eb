/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hardware receive timestamps of a port (lib/hwts.c does the arithmetic).
 * The control thread reads each port's device clock between two TSC reads
 * once a second, feeds the pair to the port's estimator and publishes the
 * conversion under a seqlock with a generation number, as clock.c does
 * for the TSC. Each queue's worker copies it when the generation moves,
 * so the packet path takes no lock and makes no call to the driver: a
 * device stamp becomes a TSC reading (one multiply), then wall-clock ns
 * through the worker's own copy of the TSC clock. A frame whose stamp
 * cannot be converted (rate not measured yet, stamp too far from the
 * newest pair, no stamp) keeps its software timestamp, and is counted.
 */
#ifndef PROBE_HWTS_PORT_H
#define PROBE_HWTS_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf_dyn.h>

#include "metroprobe/hwts.h"

#include "probe-t.h"

struct rte_tel_data;

/* Published generation of each port's conversion (cheap check). */
extern uint64_t hwts_published_gen[PROBE_MAX_PORTS];

/* Port bring-up, after rte_eth_dev_start: for a port with receive
 * timestamps (or a simulated clock), the estimator and its first pair.
 * Turns hardware timestamps off (and says why) for a device whose clock
 * cannot be read. */
void hwts_port_start(struct probe_app *app, struct probe_queue *p);
/* Control thread, about once a second: a pair per port, published. */
void hwts_port_refresh(struct probe_app *app);
/* Worker: copies the published conversion of <q>'s port into <q>. */
void hwts_port_read(struct probe_queue *q);
/* Any thread: whether <p> converts now, and the bound it states (ns) on
 * every timestamp it converts. */
bool hwts_port_rx_error_ns(const struct probe_queue *p, uint64_t *err_ns);
/* Telemetry (/metroprobe/port,NAME) and the exit summary. */
void hwts_port_telemetry(struct rte_tel_data *d, struct probe_queue *p);
void hwts_port_log_summary(struct probe_queue *p);

/* hwts_sim.c, tests only: a simulated device clock for a port without
 * one (METROPROBE_TEST_HW_CLOCK), and its reading in place of the
 * device's; false when there is none. */
bool hwts_sim_attach(struct probe_app *app, struct probe_queue *p);
bool hwts_sim_read(uint16_t port_id, uint64_t *dev);

/*
 * Receive time of <m> on queue <q>: its hardware stamp through the port's
 * device clock and the worker's TSC clock <clk>, else <sw_ns>. Worker only.
 */
static inline uint64_t
hwts_port_rx_ns(struct probe_queue *q, const struct probe_clock *clk,
		const struct rte_mbuf *m, uint64_t sw_ns)
{
	enum hwts_status st;
	uint64_t tsc;

	if (unlikely(__atomic_load_n(&hwts_published_gen[q->idx],
				     __ATOMIC_ACQUIRE) != q->hw_gen))
		hwts_port_read(q);
	if (unlikely(!(m->ol_flags & q->ts_flag))) {
		q->hw_ts_missing++;
		return sw_ns;
	}
	st = hwts_to_tsc(&q->hw_conv, *RTE_MBUF_DYNFIELD(m, q->ts_offset,
			 const rte_mbuf_timestamp_t *), &tsc);
	q->hw_ts_count[st]++;
	return likely(st == HWTS_OK) ? clock_tsc_to_ns(clk, tsc) : sw_ns;
}

#endif
