/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * STAMP Session-Reflector (RFC 8762 section 4.3): the received mbuf is
 * turned into the reply in place (headers swapped, reflector fields
 * written, T3 patched just before transmit). Stateful by default: one
 * sequence counter per (address, port, SSID) session, so the sender can
 * tell forward from backward loss; stateless copies the sender's
 * sequence number (RFC 8762 section 4.3, last paragraphs).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "metroprobe/mp_time.h"

#include "log.h"
#include "pkt.h"
#include "reflector.h"
#include "tx.h"

/* The window over which the reflector's timestamp error is taken. */
#define REFL_ERREST_WINDOW_MS 100

/*
 * The reflector's Error Estimate (RFC 8762 section 4.2.1, RFC 4656
 * section 4.1.2) states how far its T2 and T3 can be off: the clock's
 * own error plus the software timestamps' (the longest poll gap before
 * a T2, the longest T3-to-burst-return), over this window and the one
 * before. A loaded host says so in every reply, and a sender's figures
 * carry it (record_quality).
 */
void
reflector_errest_tick(struct probe_worker *w, struct probe_queue *p,
		      uint64_t now)
{
	const struct worker_rt *rt = &w->rt;
	struct stamp_error_estimate ee;
	uint32_t gen = __atomic_load_n(&rt->sync->gen, __ATOMIC_ACQUIRE);
	uint64_t ts = RTE_MAX(p->ts_gap_win_tsc[0], p->ts_gap_win_tsc[1]) +
		RTE_MAX(p->ts_lag_win_tsc[0], p->ts_lag_win_tsc[1]);
	uint64_t ns = clock_span_ns(ts, rt->tsc_hz);

	stamp_errest_from_ns(__atomic_load_n(&rt->sync->error_ns,
					     __ATOMIC_RELAXED) + ns,
			     __atomic_load_n(&rt->sync->synced, __ATOMIC_RELAXED),
			     p->conf->reflector_ptp, &ee);
	p->refl_errest = stamp_errest_pack(&ee);
	p->ts_gap_win_tsc[1] = p->ts_gap_win_tsc[0];
	p->ts_lag_win_tsc[1] = p->ts_lag_win_tsc[0];
	p->ts_gap_win_tsc[0] = p->ts_lag_win_tsc[0] = 0;
	p->errest_next_tsc = now + rt->tsc_hz / 1000 * REFL_ERREST_WINDOW_MS;
	p->errest_sync_gen = gen;
}

int
reflector_setup(struct probe_app *app, struct probe_queue *p)
{
	const struct port_conf *pcf = p->conf;
	struct stamp_error_estimate ee;
	char name[RTE_HASH_NAMESIZE];

	stamp_errest_from_ns(app->sync.error_ns, app->sync.synced,
			     pcf->reflector_ptp, &ee);
	p->refl_errest = stamp_errest_pack(&ee);
	if (pcf->reflector_auth) {
		p->refl_hmac = stamp_hmac_new(&pcf->reflector_key);
		if (p->refl_hmac == NULL) {
			PROBE_ERR("port %s: cannot set up the reflector HMAC "
				  "key", pcf->name);
			return -EINVAL;
		}
	}
	p->refl_last_pos = -1;
	if (pcf->reflector != REFL_STATEFUL)
		return 0;
	snprintf(name, sizeof(name), "refl_%u_%u", p->idx, p->queue);
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = pcf->reflector_sessions,
		.key_len = sizeof(struct refl_key),
		.hash_func = rte_hash_crc,
		.socket_id = p->socket,
	};
	p->refl_hash = rte_hash_create(&hp);
	if (p->refl_hash == NULL) {
		PROBE_ERR("port %s: cannot create the reflector table (%u "
			  "sessions): %s", pcf->name, pcf->reflector_sessions,
			  rte_strerror(rte_errno));
		return -ENOMEM;
	}
	p->refl_states = rte_zmalloc_socket("refl_states",
		(size_t)pcf->reflector_sessions * 2 * sizeof(p->refl_states[0]),
		64, p->socket);
	if (p->refl_states == NULL) {
		PROBE_ERR("port %s: no memory for %u reflector sessions: give "
			  "EAL more memory (-m, or more hugepages)", pcf->name,
			  pcf->reflector_sessions);
		return -ENOMEM;
	}
	return 0;
}

static inline void
swap_headers(struct probe_queue *p, uint8_t *d, uint16_t l3_off,
	     uint16_t l4_off, bool ipv6)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)d;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(d + l4_off);
	uint16_t port;

	eth->dst_addr = eth->src_addr;
	eth->src_addr = p->mac;
	if (ipv6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(d + l3_off);
		uint8_t a[16];

		memcpy(a, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, a, 16);
		ip->hop_limits = 255;
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + l3_off);
		uint32_t a = ip->src_addr;

		ip->src_addr = ip->dst_addr;
		ip->dst_addr = a;
		ip->time_to_live = 255;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = (uint16_t)~mp_cksum(ip,
						       rte_ipv4_hdr_len(ip));
	}
	port = udp->src_port;
	udp->src_port = udp->dst_port;
	udp->dst_port = port;
}

/* A TWAMP-Light packet shorter than the base is answered with a 44-octet
 * base packet (RFC 8762 section 4.3): grow the datagram with zeros. */
static inline int
extend_payload(struct rte_mbuf *m, uint16_t l3_off, uint16_t l4_off,
	       bool ipv6, uint16_t plen, uint16_t want)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *tail = (uint8_t *)rte_pktmbuf_append(m, want - plen);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(d + l4_off);
	uint16_t ulen = sizeof(*udp) + want;

	if (tail == NULL)
		return -1;
	memset(tail, 0, want - plen);
	udp->dgram_len = rte_cpu_to_be_16(ulen);
	if (ipv6) {
		((struct rte_ipv6_hdr *)(d + l3_off))->payload_len =
			rte_cpu_to_be_16(ulen);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + l3_off);

		ip->total_length = rte_cpu_to_be_16(l4_off - l3_off + ulen);
	}
	return 0;
}

static inline int
refl_next_seq(struct probe_queue *p, const uint8_t *d, uint16_t l3_off,
	      const struct rte_udp_hdr *udp, bool ipv6, uint16_t ssid,
	      uint32_t *seq)
{
	struct refl_key k;
	int32_t pos;

	memset(&k, 0, sizeof(k));
	if (ipv6) {
		memcpy(k.addr, ((const struct rte_ipv6_hdr *)(d + l3_off))->
		       src_addr, 16);
		k.family = 6;
	} else {
		memcpy(k.addr, &((const struct rte_ipv4_hdr *)(d + l3_off))->
		       src_addr, 4);
		k.family = 4;
	}
	k.sport = udp->src_port;
	k.ssid = ssid;
	/* Entries are never removed: the last one found stays valid, and a
	 * burst mostly holds packets of one session. */
	if (p->refl_last_pos >= 0 &&
	    memcmp(&k, &p->refl_last_key, sizeof(k)) == 0)
		pos = p->refl_last_pos;
	else
		pos = rte_hash_lookup(p->refl_hash, &k);
	if (pos < 0) {
		pos = rte_hash_add_key(p->refl_hash, &k);
		if (pos < 0)
			return -1;
		p->refl_states[pos].seq = 0;
		p->refl_states[pos].pkts = 0;
		p->refl_sessions++;
	}
	p->refl_last_key = k;
	p->refl_last_pos = pos;
	*seq = p->refl_states[pos].seq++;
	p->refl_states[pos].pkts++;
	return 0;
}

void
reflector_input(struct probe_worker *w, struct probe_queue *p,
		struct rte_mbuf *m, uint16_t l3_off, uint16_t l4_off,
		bool ipv6, uint64_t rx_ns)
{
	const struct port_conf *pcf = p->conf;
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(d + l4_off);
	uint16_t plen = rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp);
	uint16_t base = pcf->reflector_auth ? STAMP_AUTH_LEN : STAMP_UNAUTH_LEN;
	/* unauthenticated: up to the sender's error estimate is enough
	 * (TWAMP-Light senders), the rest is answered as zero */
	uint16_t min = pcf->reflector_auth ? STAMP_AUTH_LEN :
		STAMP_OFF_U_SSID;
	uint16_t payload_off = l4_off + sizeof(*udp);
	struct tx_meta meta;
	uint32_t seq, sender_seq;
	uint16_t ssid, errest;
	uint8_t ttl;
	uint64_t t2;
	bool ck_full = !ipv6 && udp->dgram_cksum == 0;
	int rc;

	if (rte_pktmbuf_pkt_len(m) + PROBE_FCS_LEN > pcf->max_frame) {
		port_drop(p, PROBE_DROP_STAMP_OVERSIZE, m);
		return;
	}
	if (plen < min) {
		port_drop(p, PROBE_DROP_STAMP_SHORT, m);
		return;
	}
	if (plen < base) {
		if (extend_payload(m, l3_off, l4_off, ipv6, plen, base) < 0) {
			port_drop(p, PROBE_DROP_MBUF_ALLOC, m);
			return;
		}
		plen = base;
		ck_full = true;
	}
	if (pcf->reflector_auth) {
		const uint8_t *pl = d + payload_off;

		rc = stamp_hmac_verify(p->refl_hmac, pl, plen);
		if (rc != 0) {
			port_drop(p, probe_drop_of_stamp(rc), m);
			return;
		}
		stamp_read_sender_auth(pl, &sender_seq, &ssid);
	} else {
		struct stamp_sender_pkt sp;

		rc = stamp_decode_sender(d + payload_off, plen,
					 STAMP_MODE_UNAUTH, pcf->strict_mbz,
					 NULL, &sp);
		if (rc != 0) {
			port_drop(p, probe_drop_of_stamp(rc), m);
			return;
		}
		sender_seq = sp.seq;
		ssid = sp.ssid;
	}
	if (pcf->reflector == REFL_STATEFUL) {
		if (refl_next_seq(p, d, l3_off, udp, ipv6, ssid, &seq) < 0) {
			port_drop(p, PROBE_DROP_REFLECTOR_FULL, m);
			return;
		}
	} else {
		seq = sender_seq;
	}
	ttl = ipv6 ? ((struct rte_ipv6_hdr *)(d + l3_off))->hop_limits
		   : ((struct rte_ipv4_hdr *)(d + l3_off))->time_to_live;
	/* T2: packets of one burst share their receive time */
	if (rx_ns != w->rx_wire.ns)
		wire_time_set(&w->rx_wire, rx_ns, w->rt.tai_offset_s);
	t2 = pcf->reflector_ptp ? w->rx_wire.ptp : w->rx_wire.ntp;
	/* The checksum was verified on receipt; swapping addresses and
	 * ports leaves its sum as it is, so only the STAMP fields are
	 * summed again (RFC 1624), not the whole datagram. */
	meta.ck_full = ck_full;
	meta.ck_old = ck_full ? 0 : mp_cksum(d + payload_off, base);
	swap_headers(p, d, l3_off, l4_off, ipv6);
	/* the control thread changes it when the clock's state changes */
	errest = __atomic_load_n(&p->refl_errest, __ATOMIC_RELAXED);
	if (pcf->reflector_auth)
		stamp_reflect_in_place_auth(d + payload_off, seq, t2, errest,
					    ttl);
	else
		stamp_reflect_in_place(d + payload_off, seq, t2, errest, ttl);
	meta.kind = TX_REFLECT;
	meta.ipv6 = ipv6;
	meta.l3_off = l3_off;
	meta.l4_off = l4_off;
	meta.payload_off = payload_off;
	meta.payload_len = plen;
	meta.session = NULL;
	meta.seq = seq;
	p->reflected++;
	port_stage(p, m, &meta);
}

void
reflector_stamp_tx(struct probe_queue *p, struct rte_mbuf *m,
		   struct tx_meta *meta, const struct wire_time *t)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *pl = d + meta->payload_off;
	bool auth = p->conf->reflector_auth;

	stamp_set_tx_timestamp(pl, auth ? STAMP_MODE_AUTH : STAMP_MODE_UNAUTH,
			       p->conf->reflector_ptp ? t->ptp : t->ntp);
	if (auth)   /* the HMAC covers T3: sign last */
		stamp_hmac_sign(p->refl_hmac, pl, meta->payload_len);
	if (meta->ck_full)
		pkt_udp_cksum(d, meta->l3_off, meta->l4_off, meta->ipv6);
	else
		pkt_udp_cksum_update(d, meta->l4_off, meta->ck_old,
				     mp_cksum(pl, auth ? STAMP_AUTH_LEN :
					      STAMP_UNAUTH_LEN));
}
