/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A stand-in for a NIC's clock, for tests on ports that have none
 * (net_ring, net_af_packet, net_null): never used unless asked for.
 *
 * METROPROBE_TEST_HW_CLOCK=BITS,HZ,WRAP_MS gives each port without
 * receive timestamps a BITS-wide counter running at HZ (against the
 * nominal TSC rate) that first wraps WRAP_MS after the port starts, read
 * in place of rte_eth_read_clock(), and a receive callback that stamps
 * every frame of a burst with it, as a device with
 * RTE_ETH_RX_OFFLOAD_TIMESTAMP fills the mbuf's timestamp field. The
 * probe measures it like any device clock (its width and rate are not
 * told), so the whole hardware timestamp path runs without a NIC.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>

#include "hwts_port.h"
#include "log.h"

struct hwts_sim {
	bool on;
	uint64_t mask;
	uint64_t ticks_q32;      /* device ticks per TSC tick, 32.32 */
	uint64_t tsc0;
	uint64_t offset;         /* reading at tsc0 */
	int ts_offset;
	uint64_t ts_flag;
};

static struct hwts_sim hwts_sims[RTE_MAX_ETHPORTS];

static inline uint64_t
hwts_sim_now(const struct hwts_sim *s)
{
	return (s->offset + hwts_mul_q32(rte_rdtsc() - s->tsc0,
					 s->ticks_q32)) & s->mask;
}

static uint16_t
hwts_sim_stamp(uint16_t port_id, uint16_t queue, struct rte_mbuf *pkts[],
	       uint16_t n, uint16_t max, void *arg)
{
	const struct hwts_sim *s = arg;
	uint64_t now;

	(void)port_id;
	(void)queue;
	(void)max;
	if (n == 0)
		return 0;
	now = hwts_sim_now(s);
	for (uint16_t i = 0; i < n; i++) {
		*RTE_MBUF_DYNFIELD(pkts[i], s->ts_offset,
				   rte_mbuf_timestamp_t *) = now;
		pkts[i]->ol_flags |= s->ts_flag;
	}
	return n;
}

bool
hwts_sim_read(uint16_t port_id, uint64_t *dev)
{
	const struct hwts_sim *s = &hwts_sims[port_id];

	if (!s->on)
		return false;
	*dev = hwts_sim_now(s);
	return true;
}

bool
hwts_sim_attach(struct probe_app *app, struct probe_queue *p)
{
	const char *env = getenv("METROPROBE_TEST_HW_CLOCK");
	struct hwts_sim *s = &hwts_sims[p->port_id];
	unsigned bits;
	uint64_t hz, wrap_ms;

	if (env == NULL)
		return false;
	if (sscanf(env, "%u,%" SCNu64 ",%" SCNu64, &bits, &hz, &wrap_ms) != 3
	    || bits < HWTS_MIN_WIDTH || bits > 64 || hz == 0) {
		PROBE_WARN("METROPROBE_TEST_HW_CLOCK=%s: not BITS,HZ,WRAP_MS: "
			   "ignored", env);
		return false;
	}
	if (rte_mbuf_dyn_rx_timestamp_register(&s->ts_offset,
					       &s->ts_flag) != 0)
		return false;
	s->mask = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
	s->ticks_q32 = (uint64_t)(((unsigned __int128)hz << 32) /
				  app->tsc_hz);
	s->offset = (s->mask - hz / 1000 * wrap_ms + 1) & s->mask;
	s->tsc0 = rte_rdtsc();
	PORT_FOREACH_QUEUE(q, p) {
		if (rte_eth_add_rx_callback(p->port_id, q->queue,
					    hwts_sim_stamp, s) == NULL) {
			PROBE_ERR("port %s: cannot add the simulated clock's "
				  "receive callback", p->conf->name);
			return false;
		}
	}
	s->on = true;
	PORT_FOREACH_QUEUE(q, p) {
		q->ts_offset = s->ts_offset;
		q->ts_flag = s->ts_flag;
		q->hw_ts = true;
	}
	PROBE_WARN("port %s: SIMULATED device clock (METROPROBE_TEST_HW_CLOCK:"
		   " %u bits, %" PRIu64 " Hz, first wrap after %" PRIu64
		   " ms): for tests only", p->conf->name, bits, hz, wrap_ms);
	return true;
}
