/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sender sessions (RFC 8762 section 4.2): paced test packets from a
 * pre-built frame, reflected packets measured into interval slots, slots
 * closed after the loss timeout (RFC 7680) with the loss split forward /
 * backward by the reflector's own sequence numbers.
 */
#include <math.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>
#include <rte_udp.h>

#include "metroprobe/mp_time.h"

#include "capacity.h"
#include "log.h"
#include "neigh.h"
#include "pkt.h"
#include "sender.h"
#include "tx.h"

static uint32_t
pow2_at_least(uint64_t v)
{
	uint32_t w = 1024;

	while (w < v && w < (1u << 26))
		w <<= 1;
	return w;
}

static void
build_template(struct probe_app *app, struct probe_session *s)
{
	const struct session_conf *sc = s->conf;
	const struct port_conf *pcf = s->port->conf;
	uint8_t *d = s->tmpl;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)d;
	uint16_t off = sizeof(*eth);
	struct rte_udp_hdr *udp;

	(void)app;
	eth->src_addr = s->port->mac;
	if (pcf->vlan != 0) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eth + 1);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(pcf->vlan);
		vh->eth_proto = rte_cpu_to_be_16(sc->peer.family == 6 ?
			RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
		off += sizeof(*vh);
	} else {
		eth->ether_type = rte_cpu_to_be_16(sc->peer.family == 6 ?
			RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	}
	s->l3_off = off;
	if (sc->peer.family == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + off);

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->type_of_service = (uint8_t)(sc->dscp << 2);
		ip->total_length = rte_cpu_to_be_16(s->pkt_len - off);
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = 255;   /* RFC 8762 section 4.2 */
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = pcf->ip4.v4;
		ip->dst_addr = sc->peer.v4;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		off += sizeof(*ip);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(d + off);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28 |
						(uint32_t)sc->dscp << 22);
		ip->payload_len = rte_cpu_to_be_16(s->pkt_len - off -
						   sizeof(*ip));
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 255;
		memcpy(ip->src_addr, pcf->ip6.v6, 16);
		memcpy(ip->dst_addr, sc->peer.v6, 16);
		off += sizeof(*ip);
	}
	s->l4_off = off;
	udp = (struct rte_udp_hdr *)(d + off);
	udp->src_port = rte_cpu_to_be_16(sc->src_port);
	udp->dst_port = rte_cpu_to_be_16(sc->peer_port);
	udp->dgram_len = rte_cpu_to_be_16(s->pkt_len - off);
	s->payload_off = off + sizeof(*udp);
}

/* Session state lives in the EAL heap (the port's NUMA node). */
static int
session_nomem(const struct probe_session *s, const char *what, size_t bytes)
{
	PROBE_ERR("session %s: no memory for its %s (%zu bytes on socket "
		  "%d): the EAL heap is full; give EAL more memory (-m, or "
		  "more hugepages), or run fewer sessions", s->conf->name,
		  what, bytes, s->port->socket);
	return -ENOMEM;
}

int
session_setup(struct probe_app *app, struct probe_session *s)
{
	const struct session_conf *sc = s->conf;
	struct probe_queue *p = s->port;
	const struct port_conf *pcf = p->conf;
	const struct probe_addr *nh = &sc->peer;
	struct stamp_error_estimate ee;
	uint64_t open_pkts;
	int idx;

	s->mode = sc->auth ? STAMP_MODE_AUTH : STAMP_MODE_UNAUTH;
	s->key = sc->auth ? &sc->key : NULL;
	if (sc->auth) {
		s->hmac = stamp_hmac_new(&sc->key);
		if (s->hmac == NULL) {
			PROBE_ERR("session %s: cannot set up HMAC key",
				  sc->name);
			return -EINVAL;
		}
	}
	s->pkt_len = (uint16_t)(sc->frame_size - PROBE_FCS_LEN);
	s->tmpl = rte_zmalloc_socket("session_tmpl", s->pkt_len, 64,
				     p->socket);
	if (s->tmpl == NULL)
		return session_nomem(s, "frame template", s->pkt_len);
	build_template(app, s);
	/* Per packet only the STAMP fields change (RFC 8762 figure 3 or 4):
	 * the checksum is the sum of the rest, taken once here while the
	 * template's payload is still zero, plus theirs at transmit. */
	s->ck_len = RTE_MIN((uint16_t)(s->pkt_len - s->payload_off),
			    (uint16_t)(sc->auth ? STAMP_AUTH_LEN :
				       STAMP_UNAUTH_LEN));
	s->ck_rest = mp_cksum_add(pkt_udp_phdr_sum(s->tmpl, s->l3_off,
						   sc->peer.family == 6,
						   s->pkt_len - s->l4_off),
				  s->tmpl + s->l4_off, s->pkt_len - s->l4_off);

	/* Next hop: the peer when on-link, else the gateway. */
	if (sc->peer.family == 4 &&
	    !probe_addr_on_link(&pcf->ip4, pcf->prefix4, &sc->peer)) {
		nh = &pcf->gateway4;
	} else if (sc->peer.family == 6 &&
		   !probe_addr_on_link(&pcf->ip6, pcf->prefix6, &sc->peer)) {
		nh = &pcf->gateway6;
	}
	if (nh->family == 0) {
		PROBE_ERR("session %s: peer is outside port %s's prefix and "
			  "the port has no gateway", sc->name, pcf->name);
		return -EINVAL;
	}
	rte_spinlock_lock(&p->neigh->lock);
	idx = neigh_add(p->neigh, nh, NULL);
	rte_spinlock_unlock(&p->neigh->lock);
	if (idx < 0) {
		PROBE_ERR("port %s: neighbour table full", pcf->name);
		return -ENOSPC;
	}
	s->neigh_idx = (uint16_t)idx;

	stamp_errest_from_ns(app->sync.error_ns, app->sync.synced, sc->ptp_format,
			     &ee);
	s->errest = stamp_errest_pack(&ee);
	s->period_q16 = (uint64_t)llround((double)app->tsc_hz * 65536.0 /
					  sc->rate_pps);
	s->interval_tsc = (uint64_t)((double)app->conf.interval_ns *
				     (double)app->tsc_hz / 1e9);
	s->timeout_tsc = (uint64_t)((double)app->conf.loss_timeout_ns *
				    (double)app->tsc_hz / 1e9);
	s->stop_tsc = UINT64_MAX;
	open_pkts = (uint64_t)(sc->rate_pps * (double)(app->conf.interval_ns +
		app->conf.loss_timeout_ns) / 1e9) * 2 + 64;
	if (seqt_init(&s->seqt, pow2_at_least(open_pkts)) < 0)
		return -ENOMEM;
	s->n_slots = (uint32_t)((app->conf.loss_timeout_ns +
				 app->conf.interval_ns - 1) /
				app->conf.interval_ns) + 3;
	s->slots = rte_zmalloc_socket("session_slots",
				      s->n_slots * sizeof(s->slots[0]), 64,
				      p->socket);
	if (s->slots == NULL)
		return session_nomem(s, "interval slots",
				     s->n_slots * sizeof(s->slots[0]));
	for (uint32_t i = 0; i < s->n_slots; i++)
		delay_stats_init(&s->slots[i].ds);
	if (sc->type == SESSION_TYPE_CAPACITY && capacity_setup(app, s) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- data plane ---- */

static int
slot_open(struct probe_session *s, uint64_t counter, uint64_t index)
{
	struct interval_slot *sl = session_slot(s, counter);

	if (__atomic_load_n(&sl->state, __ATOMIC_ACQUIRE) != SLOT_FREE)
		return -1;
	sl->index = index;
	sl->n_intervals = 1;
	sl->ended = false;
	sl->end_tsc = 0;
	sl->first_seq = s->next_seq;
	sl->end_seq = s->next_seq;
	sl->tx_pkts = sl->tx_bytes = sl->rx_pkts = sl->rx_bytes = 0;
	sl->reordered = sl->duplicates = sl->late = 0;
	sl->lost = sl->lost_fwd = sl->lost_back = 0;
	sl->have_refl = false;
	sl->all_synced = true;
	sl->rx_gap_max_tsc = sl->rx_err_max_tsc = sl->tx_lag_max_tsc = 0;
	sl->tx_late_max_tsc = 0;
	sl->peer_synced = true;
	sl->peer_error_ns = 0;
	sl->clock_steps = 0;
	sl->step_abs_max_ns = 0;
	sl->step_excluded = 0;
	__atomic_store_n(&sl->state, SLOT_OPEN, __ATOMIC_RELAXED);
	return 0;
}

static void
session_start(struct probe_worker *w, struct probe_session *s, uint64_t now)
{
	uint64_t interval = w->rt.interval_ns;
	uint64_t ns = clock_tsc_to_ns(&w->clk, now);
	uint64_t index = ns / interval;

	s->next_seq = s->conf->first_seq;
	seqt_start(&s->seqt, s->conf->first_seq);
	s->cur = s->oldest = 0;
	s->cur_slot = &s->slots[0];
	if (slot_open(s, 0, index) < 0)
		return;   /* cannot happen: all slots free at start */
	s->next_boundary_tsc = clock_ns_to_tsc(&w->clk, (index + 1) * interval);
	session_pace_from(s, now);
	if (s->conf->duration_ns != 0)
		s->stop_tsc = now + (uint64_t)((double)s->conf->duration_ns *
			(double)w->rt.tsc_hz / 1e9);
	if (s->cap != NULL)
		capacity_start(s, now);
	__atomic_store_n(&s->state, SESSION_RUNNING, __ATOMIC_RELEASE);
}

/* Interval boundary: the open slot ends, the next one opens. */
static void
session_roll(struct probe_worker *w, struct probe_session *s)
{
	struct interval_slot *sl = s->cur_slot;
	uint64_t next_index = sl->index + sl->n_intervals;

	sl->ended = true;
	sl->end_tsc = s->next_boundary_tsc;
	sl->end_seq = s->next_seq;
	if (slot_open(s, s->cur + 1, next_index) < 0) {
		/* control thread behind: this slot covers one more interval */
		sl->ended = false;
		sl->n_intervals++;
		s->port->drops[PROBE_DROP_RECORD_OVERRUN]++;
	} else {
		s->cur++;
		s->cur_slot = session_slot(s, s->cur);
	}
	s->next_boundary_tsc = clock_ns_to_tsc(&w->clk, (next_index + 1) *
					       w->rt.interval_ns);
}

/*
 * Forward / backward loss. A stateful reflector numbers the packets of a
 * session it reflected (RFC 8762 section 4.3.1), so for a received packet
 * d = sender seq - reflector seq counts the packets lost on the way out
 * before it. Forward losses between the last packet p received in this
 * interval and the first q received in the next, d(q) - d(p), are given
 * to this interval up to its own unreceived tail; the rest of the loss is
 * backward. Exact whenever the packets at an interval boundary come back;
 * a stateless reflector copies the sender seq, so all loss reads backward.
 */
static void
slot_close(struct probe_session *s, uint64_t counter)
{
	struct interval_slot *sl = session_slot(s, counter);
	struct interval_slot *next = NULL;
	uint32_t sent = sl->end_seq - sl->first_seq;
	uint64_t lost = seqt_close(&s->seqt, sl->end_seq);
	int64_t base = s->fwd_lost_base, fl, fwd;

	if (counter + 1 <= s->cur && session_slot(s, counter + 1)->have_refl)
		next = session_slot(s, counter + 1);
	if (sl->have_refl) {
		int64_t tail = (int64_t)(uint32_t)(sl->end_seq - 1 - sl->seq_hi);
		int64_t dp = sl->d_hi - s->d_offset;

		fl = dp + tail;
		if (next != NULL && next->d_lo - s->d_offset - dp < tail)
			fl = next->d_lo - s->d_offset;
	} else {
		fl = base + sent;
		if (next != NULL && next->d_lo - s->d_offset < fl)
			fl = next->d_lo - s->d_offset;
	}
	fwd = fl - base;
	if (fwd < 0)
		fwd = 0;
	if ((uint64_t)fwd > lost)
		fwd = (int64_t)lost;
	s->fwd_lost_base = base + fwd;
	sl->lost = lost;
	sl->lost_fwd = (uint64_t)fwd;
	sl->lost_back = lost - (uint64_t)fwd;
	s->lost_total += lost;
	__atomic_store_n(&sl->state, SLOT_READY, __ATOMIC_RELEASE);
}

/* The next hop's MAC into the frame template when the neighbour table
 * changed (any queue of the port may have learnt it). */
static void
session_neigh_refresh(struct probe_session *s)
{
	struct neigh_table *t = s->port->neigh;
	const struct neigh_entry *e = &t->e[s->neigh_idx];

	if (__atomic_load_n(&t->gen, __ATOMIC_ACQUIRE) == s->neigh_gen &&
	    s->neigh_valid == __atomic_load_n(&e->valid, __ATOMIC_RELAXED))
		return;
	rte_spinlock_lock(&t->lock);
	s->neigh_gen = t->gen;
	s->neigh_valid = e->valid;
	memcpy(s->tmpl, e->mac, RTE_ETHER_ADDR_LEN);
	s->tmpl_gen++;             /* frames built before are stale */
	rte_spinlock_unlock(&t->lock);
}

void
session_housekeeping(struct probe_worker *w, struct probe_session *s,
		     uint64_t now)
{
	bool stop = __atomic_load_n(&s->stop_req, __ATOMIC_ACQUIRE) != 0;
	struct interval_slot *sl;

	session_neigh_refresh(s);
	switch (s->state) {
	case SESSION_WAIT_NEIGH:
		if (stop)
			__atomic_store_n(&s->state, SESSION_DONE,
					 __ATOMIC_RELEASE);
		else if (s->neigh_valid)
			session_start(w, s, now);
		return;
	case SESSION_RUNNING:
		if (s->cap != NULL)
			capacity_tick(s, now);
		if (unlikely(s->step_active) && now >= s->step_until_tsc)
			s->step_active = false;
		while (now >= s->next_boundary_tsc && now < s->stop_tsc && !stop)
			session_roll(w, s);
		if (stop || now >= s->stop_tsc) {
			sl = s->cur_slot;
			sl->ended = true;
			sl->end_tsc = now;
			sl->end_seq = s->next_seq;
			__atomic_store_n(&s->state, SESSION_DRAINING,
					 __ATOMIC_RELEASE);
		}
		break;
	case SESSION_DRAINING:
		break;
	default:
		return;
	}
	while (s->oldest <= s->cur) {
		sl = session_slot(s, s->oldest);
		if (!sl->ended || now < sl->end_tsc + s->timeout_tsc)
			break;
		slot_close(s, s->oldest);
		s->oldest++;
	}
	if (s->state == SESSION_DRAINING && s->oldest > s->cur)
		__atomic_store_n(&s->state, SESSION_DONE, __ATOMIC_RELEASE);
}

/*
 * The worker's clock followed a CLOCK_REALTIME step: T1 of the packets in
 * flight is on the old clock, their T4 on the new one, so their RTT and
 * one-way delays are off by the step. They are left out (counted) until
 * the loss timeout has passed; the IPDV/jitter stream starts again (its
 * next difference would hold the step); the open interval is flagged,
 * and its end moves to where the new clock puts it.
 */
void
session_clock_stepped(struct probe_worker *w, struct probe_session *s,
		      uint64_t now)
{
	struct interval_slot *sl = s->cur_slot;

	if (s->state != SESSION_RUNNING && s->state != SESSION_DRAINING)
		return;
	s->step_active = true;
	s->step_seq = s->next_seq;
	s->step_until_tsc = now + s->timeout_tsc;
	delay_stream_restart(&s->stream);
	sl->clock_steps++;
	if (w->clk.last_step_abs_ns > sl->step_abs_max_ns)
		sl->step_abs_max_ns = w->clk.last_step_abs_ns;
	if (s->state == SESSION_RUNNING && !sl->ended)
		s->next_boundary_tsc = clock_ns_to_tsc(&w->clk,
			(sl->index + sl->n_intervals) *
			w->rt.interval_ns);
}

void
session_tx(struct probe_worker *w, struct probe_queue *p,
	   struct probe_session *s, uint64_t now)
{
	struct rte_mbuf *mb[PROBE_TX_STAGE];
	struct interval_slot *sl;
	struct tx_meta meta;
	struct tx_tag *tag;
	unsigned due, n_mb, used = 0;
	uint64_t late;

	(void)w;
	if (s->state != SESSION_RUNNING || now >= s->stop_tsc ||
	    s->next_tsc > now)
		return;
	/* mbufs for the packets due, in one pool operation */
	late = now - s->next_tsc;
	due = late >= (s->period_q16 >> 16) * PROBE_TX_STAGE ? PROBE_TX_STAGE :
		(unsigned)((late << 16) / s->period_q16) + 1;
	n_mb = RTE_MIN(due, (unsigned)(PROBE_TX_STAGE - p->tx_n));
	if (n_mb == 0 || rte_pktmbuf_alloc_bulk(p->tx_pool, mb, n_mb) != 0)
		n_mb = 0;
	sl = s->cur_slot;
	if (late > sl->tx_late_max_tsc)
		sl->tx_late_max_tsc = late;
	meta.kind = TX_SENDER;
	meta.ipv6 = s->conf->peer.family == 6;
	meta.l3_off = s->l3_off;
	meta.l4_off = s->l4_off;
	meta.payload_off = s->payload_off;
	meta.payload_len = s->pkt_len - s->payload_off;
	meta.session = s;
	/* Deadline pacing: every packet whose time has come, no sleeping. */
	while (s->next_tsc <= now && p->tx_n < PROBE_TX_STAGE) {
		struct rte_mbuf *m = used < n_mb ? mb[used++] :
				     rte_pktmbuf_alloc(p->tx_pool);
		uint8_t *d;

		if (s->cap != NULL &&
		    s->next_tsc >= s->cap->next_step_tsc)
			capacity_next_step(s);
		session_pace_next(s);
		if (m == NULL) {
			p->drops[PROBE_DROP_MBUF_ALLOC]++;
			continue;
		}
		d = rte_pktmbuf_mtod(m, uint8_t *);
		tag = tx_tag(m);
		if (tag->session != s->idx + 1 || tag->gen != s->tmpl_gen) {
			rte_memcpy(d, s->tmpl, s->pkt_len);
			tag->session = s->idx + 1;
			tag->gen = s->tmpl_gen;
			p->frames_copied++;
		} else {
			/* still this template but for the STAMP fields and
			 * the checksum, written at transmit (session_stamp_tx) */
			p->frames_reused++;
		}
		m->data_len = m->pkt_len = s->pkt_len;
		meta.seq = s->next_seq++;
		sl->tx_pkts++;
		sl->tx_bytes += s->conf->frame_size;
		s->tx_total++;
		port_stage(p, m, &meta);
	}
	/* a capacity step changed the period: fewer were due */
	if (used < n_mb)
		rte_pktmbuf_free_bulk(mb + used, n_mb - used);
}

void
session_stamp_tx(struct rte_mbuf *m, struct tx_meta *meta,
		 const struct wire_time *t)
{
	struct probe_session *s = meta->session;
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *pl = d + meta->payload_off;
	uint64_t t1 = s->conf->ptp_format ? t->ptp : t->ntp;

	if (s->mode == STAMP_MODE_UNAUTH) {
		struct stamp_sender_pkt sp = {
			.seq = meta->seq, .timestamp = t1,
			.error_estimate = __atomic_load_n(&s->errest,
							  __ATOMIC_RELAXED),
			.ssid = s->conf->ssid,
		};

		stamp_encode_sender(pl, meta->payload_len, STAMP_MODE_UNAUTH,
				    &sp, NULL);
	} else {
		stamp_write_sender_auth(pl, meta->seq, t1, __atomic_load_n(&s->errest, __ATOMIC_RELAXED),
					s->conf->ssid);
		stamp_hmac_sign(s->hmac, pl, meta->payload_len);
	}
	((struct rte_udp_hdr *)(d + meta->l4_off))->dgram_cksum =
		pkt_udp_field(mp_cksum_fold(mp_cksum_add(s->ck_rest, pl,
							 s->ck_len)));
}

/* The slot a sequence number was sent in: walks back from the open slot
 * (almost always the open one or the one before), no division. */
static inline struct interval_slot *
slot_for_seq(struct probe_session *s, uint32_t seq)
{
	struct interval_slot *sl = s->cur_slot;
	uint64_t n = s->cur;

	for (;;) {
		if (n == s->oldest || seqt_diff(seq, sl->first_seq) >= 0)
			return sl;
		n--;
		sl = sl == s->slots ? sl + s->n_slots - 1 : sl - 1;
	}
}

static inline uint64_t
wire_to_ns(uint64_t wire, bool ptp, int32_t tai_offset_s, uint64_t ref_ns)
{
	return ptp ? mp_time_ptp_to_ns(wire, tai_offset_s, ref_ns)
		   : mp_time_ntp_to_ns(wire, ref_ns);
}

/* Whether a frame to one of our source ports is a reply of this
 * session: from its peer, a valid STAMP reflector packet (decoded into
 * *rp), its SSID. A frame that is not is dropped and counted. */
static inline bool
reply_accept(struct probe_queue *p, struct probe_session *s,
	     struct rte_mbuf *m, uint16_t l3_off, uint16_t l4_off, bool ipv6,
	     struct stamp_reflector_pkt *rp)
{
	const struct session_conf *sc = s->conf;
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(d + l4_off);
	uint16_t plen = rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp);
	int rc;

	if (udp->src_port != rte_cpu_to_be_16(sc->peer_port) ||
	    (ipv6 ? memcmp(((struct rte_ipv6_hdr *)(d + l3_off))->src_addr,
			   sc->peer.v6, 16) != 0
		  : ((struct rte_ipv4_hdr *)(d + l3_off))->src_addr !=
			sc->peer.v4)) {
		port_drop(p, PROBE_DROP_SESSION_MISMATCH, m);
		return false;
	}
	rc = stamp_decode_reflector(d + l4_off + sizeof(*udp), plen, s->mode,
				    false, s->key, rp);
	if (rc != 0) {
		port_drop(p, probe_drop_of_stamp(rc), m);
		return false;
	}
	if ((rp->ssid != sc->ssid && rp->ssid != 0) ||
	    s->state == SESSION_WAIT_NEIGH) {
		port_drop(p, PROBE_DROP_SESSION_MISMATCH, m);
		return false;
	}
	return true;
}

/* T1..T4 of a reply in Unix ns; the reflector's error estimate in *ee
 * (its value in ns kept while it does not change). */
static inline void
reply_times(const struct probe_worker *w, struct probe_session *s,
	    const struct stamp_reflector_pkt *rp, uint64_t rx_ns,
	    struct stamp_error_estimate *ee, struct stamp_times *t)
{
	bool ptp = s->conf->ptp_format;
	int32_t tai = w->rt.tai_offset_s;

	stamp_errest_unpack(rp->error_estimate, ee);
	if (unlikely(rp->error_estimate != s->peer_errest_raw)) {
		s->peer_errest_raw = rp->error_estimate;
		s->peer_errest_ns = stamp_errest_to_ns(ee);
	}
	t->t1 = wire_to_ns(rp->sender_timestamp, ptp, tai, rx_ns);
	t->t2 = wire_to_ns(rp->rx_timestamp, ee->ptp_format, tai, rx_ns);
	t->t3 = wire_to_ns(rp->timestamp, ee->ptp_format, tai, rx_ns);
	t->t4 = rx_ns;
}

/* The forward-loss marks of the reply's interval (see slot_close): the
 * reflector counts from 0 (RFC 8762 section 4.3.1), the sender from
 * first_seq, so d = sender seq - first_seq - reflector seq. */
static inline void
slot_loss_mark(struct probe_session *s, struct interval_slot *sl,
	       const struct stamp_reflector_pkt *rp)
{
	uint32_t first = s->conf->first_seq;
	int64_t d = (int64_t)(int32_t)(rp->sender_seq - first - rp->seq);

	if (!s->have_d_offset) {
		/* forward losses before the first packet back are at most
		 * its distance from the first seq */
		int64_t at_most = (int64_t)(uint32_t)(rp->sender_seq - first);

		s->d_offset = d < 0 ? d : d > at_most ? d - at_most : 0;
		s->have_d_offset = true;
	}
	if (!sl->have_refl) {
		sl->seq_lo = sl->seq_hi = rp->sender_seq;
		sl->d_lo = sl->d_hi = d;
		sl->have_refl = true;
	} else if (seqt_diff(rp->sender_seq, sl->seq_lo) < 0) {
		sl->seq_lo = rp->sender_seq;
		sl->d_lo = d;
	} else if (seqt_diff(rp->sender_seq, sl->seq_hi) > 0) {
		sl->seq_hi = rp->sender_seq;
		sl->d_hi = d;
	}
	if (!s->any_refl) {
		s->refl_first = rp->seq;
		s->any_refl = true;
	}
	s->refl_last = rp->seq;
}

/* How far the reply's timestamps can be off, into its interval's bounds
 * (record_quality). */
static inline void
slot_quality_note(const struct probe_worker *w, const struct probe_session *s,
		  struct interval_slot *sl,
		  const struct stamp_error_estimate *ee)
{
	if (!ee->synced)
		sl->peer_synced = false;
	if (s->peer_errest_ns > sl->peer_error_ns)
		sl->peer_error_ns = s->peer_errest_ns;
	if (w->rx_gap_tsc > sl->rx_gap_max_tsc)
		sl->rx_gap_max_tsc = w->rx_gap_tsc;
	if (w->rx_err_tsc > sl->rx_err_max_tsc)
		sl->rx_err_max_tsc = w->rx_err_tsc;
}

/* The delays of a first copy, into its interval's statistics; a reply
 * sent before a clock step the worker followed since mixes two clocks
 * and is left out (counted). */
static inline void
reply_measure(struct probe_session *s, struct interval_slot *sl, uint32_t seq,
	      const struct stamp_times *t, bool synced)
{
	if (unlikely(s->step_active) && seqt_diff(seq, s->step_seq) < 0) {
		sl->step_excluded++;
		return;
	}
	delay_stats_add(&sl->ds, &s->stream, seq, t, synced);
	if (s->cap != NULL)
		capacity_rx(s, seq, t, synced);
	if (!synced)
		sl->all_synced = false;
}

void
session_rx(struct probe_worker *w, struct probe_queue *p,
	   struct probe_session *s, struct rte_mbuf *m, uint16_t l3_off,
	   uint16_t l4_off, bool ipv6, uint64_t rx_ns)
{
	struct stamp_reflector_pkt rp;
	struct stamp_error_estimate ee;
	struct interval_slot *sl;
	struct stamp_times t;
	enum seqt_verdict v;

	if (!reply_accept(p, s, m, l3_off, l4_off, ipv6, &rp))
		return;
	if (s->state == SESSION_DONE) {
		s->late_total++;
		rte_pktmbuf_free(m);
		return;
	}
	reply_times(w, s, &rp, rx_ns, &ee, &t);
	v = seqt_rx(&s->seqt, rp.sender_seq);
	switch (v) {
	case SEQT_LATE:
		s->cur_slot->late++;
		s->late_total++;
		break;
	case SEQT_AHEAD:
		p->drops[PROBE_DROP_SEQ_AHEAD]++;
		break;
	case SEQT_DUPLICATE:
		slot_for_seq(s, rp.sender_seq)->duplicates++;
		s->dup_total++;
		break;
	case SEQT_REORDERED:
	case SEQT_IN_ORDER:
		sl = slot_for_seq(s, rp.sender_seq);
		if (v == SEQT_REORDERED)
			sl->reordered++;
		sl->rx_pkts++;
		sl->rx_bytes += rte_pktmbuf_pkt_len(m) + PROBE_FCS_LEN;
		s->rx_total++;
		slot_loss_mark(s, sl, &rp);
		slot_quality_note(w, s, sl, &ee);
		reply_measure(s, sl, rp.sender_seq, &t,
			      __atomic_load_n(&w->rt.sync->synced,
					      __ATOMIC_RELAXED) && ee.synced);
		break;
	}
	rte_pktmbuf_free(m);
}
