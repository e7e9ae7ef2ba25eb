/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data-plane loop: burst in, classify each frame (ARP, NDP, STAMP to
 * the reflector, reflected STAMP to a session, or a named drop), send
 * what is due, stamp T1/T3 just before the burst out.
 */
#include <time.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "control.h"
#include "hwts_port.h"
#include "neigh.h"
#include "pkt.h"
#include "reflector.h"
#include "rx.h"
#include "sender.h"
#include "tx.h"

static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static inline bool
eth_for_us(const struct probe_queue *p, const struct rte_ether_hdr *eth)
{
	const uint8_t *d = eth->dst_addr.addr_bytes;

	if (rte_is_same_ether_addr(&eth->dst_addr, &p->mac))
		return true;
	if (memcmp(d, mac_bcast, 6) == 0)
		return true;
	/* IPv6 solicited-node multicast for neighbour discovery */
	return d[0] == 0x33 && d[1] == 0x33;
}

static inline void
udp_input(struct probe_worker *w, struct probe_queue *p, struct rte_mbuf *m,
	  uint16_t l3_off, uint16_t l4_off, uint16_t l4_avail, bool ipv6,
	  uint64_t rx_ns)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(d + l4_off);
	uint16_t ulen, dport, sidx;

	if (l4_avail < sizeof(*udp)) {
		port_drop(p, PROBE_DROP_UDP_LENGTH, m);
		return;
	}
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	if (ulen < sizeof(*udp) || ulen > l4_avail) {
		port_drop(p, PROBE_DROP_UDP_LENGTH, m);
		return;
	}
	/* A checksum the port checked (offload) is taken as it says;
	 * IPv4 may send none (0), IPv6 must (RFC 8200 section 8.1). */
	switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
		break;
	case RTE_MBUF_F_RX_L4_CKSUM_BAD:
		port_drop(p, PROBE_DROP_UDP_CHECKSUM, m);
		return;
	case RTE_MBUF_F_RX_L4_CKSUM_NONE:
		/* data intact, field not filled in (a virtual port's
		 * partial checksum): fill it in, the reflector updates it */
		pkt_udp_cksum(d, l3_off, l4_off, ipv6);
		break;
	default:
		if ((udp->dgram_cksum != 0 || ipv6) &&
		    !pkt_udp_cksum_ok(d, l3_off, l4_off, ipv6, ulen)) {
			if (!p->cksum_partial_ok ||
			    !pkt_udp_cksum_partial(d, l3_off, l4_off, ipv6,
						   ulen)) {
				port_drop(p, PROBE_DROP_UDP_CHECKSUM, m);
				return;
			}
			/* a kernel peer's offloaded checksum (port.c) */
			pkt_udp_cksum(d, l3_off, l4_off, ipv6);
			p->cksum_completed++;
		}
	}
	/* Drop Ethernet padding beyond the UDP datagram. */
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - (l4_off + ulen));
	dport = rte_be_to_cpu_16(udp->dst_port);
	if (dport == p->conf->stamp_port && p->conf->reflector != REFL_OFF) {
		reflector_input(w, p, m, l3_off, l4_off, ipv6, rx_ns);
		return;
	}
	sidx = p->session_by_port[dport];
	if (sidx != 0) {
		struct probe_session *s = &w->rt.sessions[sidx - 1];

		if (likely(s->port == p)) {
			session_rx(w, p, s, m, l3_off, l4_off, ipv6, rx_ns);
			return;
		}
		/* RSS put it on another queue than its session's: pass it
		 * there (parsed again), so session state has one writer */
		*RTE_MBUF_DYNFIELD(m, probe_rx_ns_offset, uint64_t *) = rx_ns;
		if (rte_ring_enqueue(s->port->handoff, m) != 0) {
			port_drop(p, PROBE_DROP_HANDOFF_FULL, m);
			return;
		}
		p->handed_off++;
		return;
	}
	port_drop(p, PROBE_DROP_UDP_PORT, m);
}

static inline void
ipv4_input(struct probe_worker *w, struct probe_queue *p, struct rte_mbuf *m,
	   uint16_t l3_off, uint64_t rx_ns)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + l3_off);
	uint32_t avail = rte_pktmbuf_data_len(m) - l3_off;
	uint16_t hlen, tot;

	if (avail < sizeof(*ip)) {
		port_drop(p, PROBE_DROP_IP_TRUNCATED, m);
		return;
	}
	if ((ip->version_ihl >> 4) != 4) {
		port_drop(p, PROBE_DROP_IP_VERSION, m);
		return;
	}
	hlen = (uint16_t)((ip->version_ihl & 0xf) * 4);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (hlen < sizeof(*ip) || tot < hlen) {
		port_drop(p, PROBE_DROP_IP_HEADER, m);
		return;
	}
	if (hlen > avail || tot > avail) {
		port_drop(p, PROBE_DROP_IP_TRUNCATED, m);
		return;
	}
	if (mp_cksum(ip, hlen) != 0xffff) {
		port_drop(p, PROBE_DROP_IP_HEADER, m);
		return;
	}
	if (p->conf->ip4.family != 4 || ip->dst_addr != p->conf->ip4.v4) {
		port_drop(p, PROBE_DROP_IP_NOT_FOR_US, m);
		return;
	}
	if ((ip->fragment_offset &
	     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
		port_drop(p, PROBE_DROP_IP_FRAGMENT, m);
		return;
	}
	if (ip->next_proto_id != IPPROTO_UDP) {
		port_drop(p, PROBE_DROP_IP_PROTO, m);
		return;
	}
	udp_input(w, p, m, l3_off, l3_off + hlen, tot - hlen, false, rx_ns);
}

static inline void
ipv6_input(struct probe_worker *w, struct probe_queue *p, struct rte_mbuf *m,
	   uint16_t l3_off, uint64_t rx_ns, uint64_t now)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(d + l3_off);
	uint32_t avail = rte_pktmbuf_data_len(m) - l3_off;
	uint16_t plen;
	uint16_t l4_off = l3_off + sizeof(*ip);

	if (avail < sizeof(*ip)) {
		port_drop(p, PROBE_DROP_IP_TRUNCATED, m);
		return;
	}
	if ((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6) {
		port_drop(p, PROBE_DROP_IP_VERSION, m);
		return;
	}
	plen = rte_be_to_cpu_16(ip->payload_len);
	if (plen > avail - sizeof(*ip)) {
		port_drop(p, PROBE_DROP_IP_TRUNCATED, m);
		return;
	}
	if (ip->proto == IPPROTO_ICMPV6) {
		ndp_input(p, m, l3_off, l4_off, plen, now);
		return;
	}
	if (p->conf->ip6.family != 6 ||
	    memcmp(ip->dst_addr, p->conf->ip6.v6, 16) != 0) {
		port_drop(p, PROBE_DROP_IP_NOT_FOR_US, m);
		return;
	}
	if (ip->proto == IPPROTO_FRAGMENT) {
		port_drop(p, PROBE_DROP_IP_FRAGMENT, m);
		return;
	}
	if (ip->proto != IPPROTO_UDP) {
		port_drop(p, PROBE_DROP_IP_PROTO, m);
		return;
	}
	udp_input(w, p, m, l3_off, l4_off, plen, true, rx_ns);
}

static inline void
frame_input(struct probe_worker *w, struct probe_queue *p, struct rte_mbuf *m,
	    uint64_t rx_ns, uint64_t now)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint16_t len = rte_pktmbuf_data_len(m);
	uint16_t l3_off = sizeof(*eth), etype, vid = 0;

	if (m->nb_segs > 1) {
		port_drop(p, PROBE_DROP_MULTI_SEG, m);
		return;
	}
	if (len < sizeof(*eth)) {
		port_drop(p, PROBE_DROP_ETH_SHORT, m);
		return;
	}
	if (!eth_for_us(p, eth)) {
		port_drop(p, PROBE_DROP_ETH_NOT_FOR_US, m);
		return;
	}
	etype = rte_be_to_cpu_16(eth->ether_type);
	if (etype == RTE_ETHER_TYPE_VLAN) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eth + 1);

		if (len < sizeof(*eth) + sizeof(*vh)) {
			port_drop(p, PROBE_DROP_ETH_SHORT, m);
			return;
		}
		vid = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
		etype = rte_be_to_cpu_16(vh->eth_proto);
		l3_off += sizeof(*vh);
	}
	if (vid != p->conf->vlan) {
		port_drop(p, PROBE_DROP_VLAN_MISMATCH, m);
		return;
	}
	switch (etype) {
	case RTE_ETHER_TYPE_IPV4:
		ipv4_input(w, p, m, l3_off, rx_ns);
		break;
	case RTE_ETHER_TYPE_IPV6:
		ipv6_input(w, p, m, l3_off, rx_ns, now);
		break;
	case RTE_ETHER_TYPE_ARP:
		arp_input(p, m, l3_off, now);
		break;
	default:
		port_drop(p, PROBE_DROP_ETHERTYPE, m);
		break;
	}
}

static inline uint64_t
rx_timestamp_ns(const struct probe_worker *w, struct probe_queue *p,
		const struct rte_mbuf *m, uint64_t sw_ns)
{
	return p->hw_ts ? hwts_port_rx_ns(p, &w->clk, m, sw_ns) : sw_ns;
}

/* Packets ahead whose data is prefetched while one is parsed. */
#define RX_PREFETCH 4

static inline void
prefetch_frame(const struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);

	/* Ethernet to the STAMP fields: the first two lines */
	rte_prefetch0(d);
	rte_prefetch0(d + RTE_CACHE_LINE_SIZE);
}

/* One receive burst; returns the number of frames. */
static inline uint16_t
port_rx_burst(struct probe_worker *w, struct probe_queue *p, uint64_t now)
{
	struct rte_mbuf *pkts[PROBE_BURST];
	uint16_t n, i;
	uint64_t tsc, ns, rx_ns;

	n = rte_eth_rx_burst(p->port_id, p->queue, pkts, PROBE_BURST);
	if (n == 0) {
		p->rx_poll_tsc = now;
		return 0;
	}
	/* T2 / T4: one TSC read for the burst, right after it. A frame of
	 * it arrived after the poll before (which found the queue empty
	 * or took a full burst), so it waited at most the gap since. */
	tsc = rte_rdtsc();
	ns = clock_tsc_to_ns(&w->clk, tsc);
	w->rx_gap_tsc = p->rx_poll_tsc != 0 ? tsc - p->rx_poll_tsc : 0;
	p->rx_poll_tsc = tsc;
	if (w->rx_gap_tsc > p->ts_gap_win_tsc[0])
		p->ts_gap_win_tsc[0] = w->rx_gap_tsc;
	p->rx_pkts += n;
	for (i = 0; i < n && i < RX_PREFETCH; i++)
		prefetch_frame(pkts[i]);
	for (i = 0; i < n; i++) {
		if (i + RX_PREFETCH < n)
			prefetch_frame(pkts[i + RX_PREFETCH]);
		/* one of our own test packets back through a loopback device:
		 * its data will change, it no longer holds its template */
		if (unlikely(pkts[i]->pool != p->pool))
			tx_tag_clear(pkts[i]);
		if (!capture_packet(p->capture, pkts[i], tsc))
			p->drops[PROBE_DROP_CAPTURE_FULL]++;
		rx_ns = rx_timestamp_ns(w, p, pkts[i], ns);
		/* a hardware stamp is off by its conversion's bound, a
		 * software one by the poll gap */
		w->rx_err_tsc = rx_ns != ns ? p->hw_conv.err_max_tsc :
			w->rx_gap_tsc;
		frame_input(w, p, pkts[i], rx_ns, now);
	}
	return n;
}

/* Bursts per poll while the queue keeps giving full ones: receiving as
 * much as the sender stages keeps the queue (and the latency) short. */
#define RX_BURSTS_PER_POLL (PROBE_TX_STAGE / PROBE_BURST)

/* Replies other queues received for this queue's sessions. */
static inline unsigned
port_handoff_drain(struct probe_worker *w, struct probe_queue *p,
		   uint64_t now)
{
	struct rte_mbuf *pkts[PROBE_BURST];
	unsigned n;

	n = rte_ring_dequeue_burst(p->handoff, (void **)pkts, PROBE_BURST,
				   NULL);
	for (unsigned i = 0; i < n; i++)
		frame_input(w, p, pkts[i], *RTE_MBUF_DYNFIELD(pkts[i],
			    probe_rx_ns_offset, uint64_t *), now);
	return n;
}

static unsigned
port_poll(struct probe_worker *w, struct probe_queue *p, uint64_t now)
{
	unsigned work = 0;
	uint16_t n;

	if (p->handoff != NULL)
		work += port_handoff_drain(w, p, now);

	for (unsigned b = 0; b < RX_BURSTS_PER_POLL; b++) {
		n = port_rx_burst(w, p, now);
		work += n;
		if (n < PROBE_BURST)
			break;
	}
	/* sessions take turns at going first: when the lcore or the queue
	 * is saturated, none is starved by the ones before it */
	for (unsigned k = 0, i = p->tx_first; k < p->n_sessions; k++) {
		session_tx(w, p, p->sessions[i], now);
		if (++i == p->n_sessions)
			i = 0;
	}
	if (++p->tx_first >= p->n_sessions)
		p->tx_first = 0;
	/* frames that cannot leave (queue full, link down) are not work:
	 * they must not keep a virtual wire's lcore from backing off */
	work += port_flush(w, p);
	return work;
}

static void
worker_housekeeping(struct probe_worker *w, uint64_t now)
{
	for (unsigned i = 0; i < w->n_queues; i++) {
		struct probe_queue *p = w->queues[i];

		neigh_tick(p, now, w->rt.tsc_hz);
		if (now >= p->errest_next_tsc || p->errest_sync_gen !=
		    __atomic_load_n(&w->rt.sync->gen, __ATOMIC_ACQUIRE))
			reflector_errest_tick(w, p, now);
		for (unsigned j = 0; j < p->n_sessions; j++)
			session_housekeeping(w, p->sessions[j], now);
	}
}

/* Earliest sender deadline of this worker (for the idle back-off). */
static uint64_t
worker_next_deadline(const struct probe_worker *w)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < w->n_queues; i++) {
		const struct probe_queue *p = w->queues[i];

		for (unsigned j = 0; j < p->n_sessions; j++) {
			const struct probe_session *s = p->sessions[j];

			if (s->state == SESSION_RUNNING &&
			    s->next_tsc < next)
				next = s->next_tsc;
		}
	}
	return next;
}

/* New clock parameters; after a CLOCK_REALTIME step every session of
 * this worker leaves the samples in flight out (session_clock_stepped). */
static void
worker_clock_update(struct probe_worker *w, uint64_t now)
{
	uint64_t steps = w->clk.steps;

	clock_read(&w->clk);
	if (likely(w->clk.steps == steps))
		return;
	for (unsigned i = 0; i < w->n_queues; i++) {
		struct probe_queue *p = w->queues[i];

		for (unsigned j = 0; j < p->n_sessions; j++)
			session_clock_stepped(w, p->sessions[j], now);
	}
}

/* Virtual-wire back-off, after an empty poll: sleep, never past the next
 * send deadline nor the next housekeeping, unless that is under 10 us. */
static void
worker_idle(struct probe_worker *w, uint64_t next_house)
{
	const struct worker_rt *rt = &w->rt;
	uint64_t until = worker_next_deadline(w);
	uint64_t sleep_tsc = rt->tsc_hz / 1000000 * rt->idle_sleep_us;
	uint64_t now = rte_rdtsc();
	struct timespec ts;

	/* a deadline still past after this poll's send could not be staged
	 * (queue full): back off all the same */
	if (until > now && until - now < sleep_tsc)
		sleep_tsc = until - now;
	if (now + sleep_tsc > next_house)
		sleep_tsc = next_house > now ? next_house - now : 0;
	if (sleep_tsc < rt->tsc_hz / 100000)   /* < 10 us: spin */
		return;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(sleep_tsc * 1000000000ULL / rt->tsc_hz);
	nanosleep(&ts, NULL);
	w->sleeps++;
}

int
worker_main(void *arg)
{
	struct probe_worker *w = arg;
	const struct worker_rt *rt = &w->rt;
	uint64_t next_house = 0, next_control = 0;
	uint64_t house_period = rt->tsc_hz / 1000;       /* 1 ms */
	uint32_t empty = 0;

	clock_read(&w->clk);
	while (!__atomic_load_n(rt->quit, __ATOMIC_ACQUIRE)) {
		uint64_t now = rte_rdtsc();
		unsigned work = 0;

		if (__atomic_load_n(&clock_published_gen, __ATOMIC_ACQUIRE) !=
		    w->clk.gen)
			worker_clock_update(w, now);
		if (now >= next_house) {
			worker_housekeeping(w, now);
			next_house = now + house_period;
		}
		for (unsigned i = 0; i < w->n_queues; i++)
			work += port_poll(w, w->queues[i], now);
		w->loops++;
		if (rt->inline_control && now >= next_control) {
			control_poll(rt->app, now);
			next_control = now + house_period;
		}
		if (work != 0 || rt->idle_sleep_us == 0) {
			empty = 0;
			continue;
		}
		/* after idle_polls empty polls, stay backed off (sleep again
		 * at the next empty poll) until there is work */
		if (++empty < rt->idle_polls)
			continue;
		empty = rt->idle_polls - 1;
		worker_idle(w, next_house);
	}
	for (unsigned i = 0; i < w->n_queues; i++)
		port_flush(w, w->queues[i]);
	return 0;
}
