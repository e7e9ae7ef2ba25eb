/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbours: ARP (RFC 826) for IPv4 and Neighbor Discovery (RFC 4861
 * sections 4.3, 4.4, 7.2) for IPv6. The port answers requests for its own
 * addresses and resolves the next hops of its sessions, refreshing them
 * every arp_refresh. Runs on the port's data-plane lcore.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "log.h"
#include "neigh.h"
#include "pkt.h"
#include "tx.h"

#define ICMP6_NS 135
#define ICMP6_NA 136
#define ND_OPT_SRC_LLADDR 1
#define ND_OPT_TGT_LLADDR 2

struct nd_msg {
	uint8_t type, code;
	rte_be16_t cksum;
	rte_be32_t flags;
	uint8_t target[16];
	uint8_t opt_type, opt_len;
	uint8_t opt_mac[6];
} __rte_packed;

int
neigh_add(struct neigh_table *t, const struct probe_addr *ip,
	  const uint8_t *mac)
{
	for (unsigned i = 0; i < t->n; i++) {
		struct neigh_entry *e = &t->e[i];

		if (e->ip.family == ip->family &&
		    memcmp(e->ip.v6, ip->v6, ip->family == 4 ? 4 : 16) == 0) {
			if (mac != NULL && !e->is_static) {
				memcpy(e->mac, mac, 6);
				e->valid = e->is_static = true;
			}
			return (int)i;
		}
	}
	if (t->n >= PROBE_NEIGH_MAX)
		return -1;
	memset(&t->e[t->n], 0, sizeof(t->e[0]));
	t->e[t->n].ip = *ip;
	if (mac != NULL) {
		memcpy(t->e[t->n].mac, mac, 6);
		t->e[t->n].valid = true;
		t->e[t->n].is_static = true;
	}
	return (int)t->n++;
}

static void
neigh_learn(struct probe_queue *p, const struct probe_addr *ip,
	    const uint8_t *mac, uint64_t now)
{
	struct neigh_table *t = p->neigh;

	rte_spinlock_lock(&t->lock);
	for (unsigned i = 0; i < t->n; i++) {
		struct neigh_entry *e = &t->e[i];

		if (e->is_static || e->ip.family != ip->family ||
		    memcmp(e->ip.v6, ip->v6, ip->family == 4 ? 4 : 16) != 0)
			continue;
		if (!e->valid || memcmp(e->mac, mac, 6) != 0) {
			memcpy(e->mac, mac, 6);
			e->valid = true;
			__atomic_store_n(&t->gen, t->gen + 1,
					 __ATOMIC_RELEASE);
		}
		e->last_reply_tsc = now;
	}
	rte_spinlock_unlock(&t->lock);
}

/* Ethernet (+ VLAN) header; returns the L3 offset. */
static uint16_t
put_eth(const struct probe_queue *p, uint8_t *d, const uint8_t *dst,
	uint16_t ethertype)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)d;

	memcpy(&eth->dst_addr, dst, 6);
	eth->src_addr = p->mac;
	if (p->conf->vlan == 0) {
		eth->ether_type = rte_cpu_to_be_16(ethertype);
		return sizeof(*eth);
	}
	struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eth + 1);

	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
	vh->vlan_tci = rte_cpu_to_be_16(p->conf->vlan);
	vh->eth_proto = rte_cpu_to_be_16(ethertype);
	return sizeof(*eth) + sizeof(*vh);
}

static void
arp_send_request(struct probe_queue *p, const struct neigh_entry *e)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct tx_meta meta = { .kind = TX_RAW };
	struct rte_mbuf *m = rte_pktmbuf_alloc(p->pool);
	struct rte_arp_hdr *arp;
	uint8_t *d;
	uint16_t off;

	if (m == NULL) {
		p->drops[PROBE_DROP_MBUF_ALLOC]++;
		return;
	}
	d = rte_pktmbuf_mtod(m, uint8_t *);
	off = put_eth(p, d, bcast, RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(d + off);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = p->mac;
	arp->arp_data.arp_sip = p->conf->ip4.v4;
	memset(&arp->arp_data.arp_tha, 0, 6);
	arp->arp_data.arp_tip = e->ip.v4;
	m->data_len = m->pkt_len = RTE_MAX(off + sizeof(*arp), 60u);
	memset(d + off + sizeof(*arp), 0, m->data_len - off - sizeof(*arp));
	port_stage(p, m, &meta);
}

void
arp_input(struct probe_queue *p, struct rte_mbuf *m, uint16_t l3_off,
	  uint64_t now)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(d + l3_off);
	struct probe_addr sender = { .family = 4 };
	struct tx_meta meta = { .kind = TX_RAW };

	if (rte_pktmbuf_data_len(m) < l3_off + sizeof(*arp) ||
	    arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != 6 || arp->arp_plen != 4) {
		port_drop(p, PROBE_DROP_ARP_BAD, m);
		return;
	}
	if (p->conf->ip4.family != 4 ||
	    arp->arp_data.arp_tip != p->conf->ip4.v4) {
		port_drop(p, PROBE_DROP_ARP_NOT_FOR_US, m);
		return;
	}
	sender.v4 = arp->arp_data.arp_sip;
	neigh_learn(p, &sender, arp->arp_data.arp_sha.addr_bytes, now);
	if (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST)) {
		rte_pktmbuf_free(m);   /* a reply: learnt above */
		return;
	}
	/* Turn the request into the reply in place (RFC 826). */
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)d;

	eth->dst_addr = arp->arp_data.arp_sha;
	eth->src_addr = p->mac;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sha = p->mac;
	arp->arp_data.arp_sip = p->conf->ip4.v4;
	p->arp_replies++;
	port_stage(p, m, &meta);
}

/* ---- IPv6 neighbour discovery ---- */

static void
ndp_send(struct probe_queue *p, uint8_t type, const uint8_t *dst_mac,
	 const uint8_t *dst_ip, const uint8_t *target, bool solicited)
{
	struct tx_meta meta = { .kind = TX_RAW };
	struct rte_mbuf *m = rte_pktmbuf_alloc(p->pool);
	struct rte_ipv6_hdr *ip;
	struct nd_msg *nd;
	uint8_t *d;
	uint16_t off;

	if (m == NULL) {
		p->drops[PROBE_DROP_MBUF_ALLOC]++;
		return;
	}
	d = rte_pktmbuf_mtod(m, uint8_t *);
	off = put_eth(p, d, dst_mac, RTE_ETHER_TYPE_IPV6);
	ip = (struct rte_ipv6_hdr *)(d + off);
	nd = (struct nd_msg *)(ip + 1);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(sizeof(*nd));
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 255;           /* RFC 4861 section 7.1.1 */
	memcpy(ip->src_addr, p->conf->ip6.v6, 16);
	memcpy(ip->dst_addr, dst_ip, 16);
	memset(nd, 0, sizeof(*nd));
	nd->type = type;
	memcpy(nd->target, target, 16);
	nd->opt_type = type == ICMP6_NS ? ND_OPT_SRC_LLADDR : ND_OPT_TGT_LLADDR;
	nd->opt_len = 1;
	memcpy(nd->opt_mac, p->mac.addr_bytes, 6);
	if (type == ICMP6_NA)   /* Solicited and Override flags */
		nd->flags = rte_cpu_to_be_32((solicited ? 0x40000000u : 0) |
					     0x20000000u);
	nd->cksum = rte_ipv6_udptcp_cksum(ip, nd);
	m->data_len = m->pkt_len = off + sizeof(*ip) + sizeof(*nd);
	port_stage(p, m, &meta);
}

static void
ndp_send_ns(struct probe_queue *p, const struct neigh_entry *e)
{
	uint8_t mac[6] = { 0x33, 0x33, 0xff, e->ip.v6[13], e->ip.v6[14],
			   e->ip.v6[15] };
	uint8_t sn[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff,
			   e->ip.v6[13], e->ip.v6[14], e->ip.v6[15] };

	ndp_send(p, ICMP6_NS, mac, sn, e->ip.v6, false);
}

void
ndp_input(struct probe_queue *p, struct rte_mbuf *m, uint16_t l3_off,
	  uint16_t l4_off, uint16_t l4_len, uint64_t now)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(d + l3_off);
	struct nd_msg *nd = (struct nd_msg *)(d + l4_off);
	struct probe_addr who = { .family = 6 };

	if (l4_len < 24 || ip->hop_limits != 255 ||
	    (nd->type != ICMP6_NS && nd->type != ICMP6_NA) ||
	    p->conf->ip6.family != 6) {
		port_drop(p, PROBE_DROP_NDP_BAD, m);
		return;
	}
	if (memcmp(nd->target, p->conf->ip6.v6, 16) != 0 &&
	    nd->type == ICMP6_NS) {
		port_drop(p, PROBE_DROP_IP_NOT_FOR_US, m);
		return;
	}
	if (nd->type == ICMP6_NA) {
		if (l4_len >= sizeof(*nd) && nd->opt_type == ND_OPT_TGT_LLADDR) {
			memcpy(who.v6, nd->target, 16);
			neigh_learn(p, &who, nd->opt_mac, now);
		}
		rte_pktmbuf_free(m);
		return;
	}
	/* Neighbor Solicitation for our address: answer to its source. */
	uint8_t src_mac[6], src_ip[16];
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)d;

	memcpy(src_mac, eth->src_addr.addr_bytes, 6);
	memcpy(src_ip, ip->src_addr, 16);
	if (l4_len >= sizeof(*nd) && nd->opt_type == ND_OPT_SRC_LLADDR) {
		memcpy(who.v6, src_ip, 16);
		neigh_learn(p, &who, nd->opt_mac, now);
	}
	rte_pktmbuf_free(m);
	ndp_send(p, ICMP6_NA, src_mac, src_ip, p->conf->ip6.v6, true);
}

void
neigh_tick(struct probe_queue *p, uint64_t now, uint64_t tsc_hz)
{
	uint64_t refresh = (uint64_t)((double)p->conf->arp_refresh_ns *
				      (double)tsc_hz / 1e9);

	struct neigh_table *t = p->neigh;

	/* queue 0 asks; answers are learnt on whichever queue they reach */
	if (p->queue != 0)
		return;
	for (unsigned i = 0; i < t->n; i++) {
		struct neigh_entry *e = &t->e[i];

		if (e->is_static || now < e->next_req_tsc)
			continue;
		if (e->ip.family == 4)
			arp_send_request(p, e);
		else
			ndp_send_ns(p, e);
		/* unresolved: retry every 200 ms; resolved: refresh */
		e->next_req_tsc = now + (e->valid ? refresh : tsc_hz / 5);
	}
}
