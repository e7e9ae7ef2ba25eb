/* SPDX-License-Identifier: BSD-3-Clause */
/* Frame classification and per-flow departure order for linkem. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "pktinfo.h"

#define ETH_HLEN        14
#define ETHTYPE_IPV4    0x0800
#define ETHTYPE_IPV6    0x86dd
#define ETHTYPE_VLAN    0x8100
#define ETHTYPE_QINQ    0x88a8
#define IPPROTO_UDP_NUM 17
#define UDP_HLEN        8

/*
 * Offsets in the UDP payload (include/metroprobe/stamp.h layouts):
 * unauthenticated: SSID at 14, reflector's receive timestamp at 16,
 * sender seq at 24; authenticated: SSID at 26, receive timestamp at 32,
 * sender seq at 48.
 */
#define UNAUTH_SSID       14
#define UNAUTH_RX_TS      16
#define UNAUTH_SENDER_SEQ 24
#define AUTH_SSID         26
#define AUTH_RX_TS        32
#define AUTH_SENDER_SEQ   48

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

enum lk_kind
lk_classify(const uint8_t *frame, size_t len,
	    const struct lk_classify_cfg *cfg, struct lk_pkt_info *info)
{
	enum lk_kind other = cfg->impair_all ? LK_KIND_OTHER : LK_KIND_PASS;
	const uint8_t *udp, *pl;
	size_t off = 12, pl_len, ssid_off, rxts_off, sseq_off;
	uint16_t ethtype;
	int tags;

	memset(info, 0, sizeof(*info));
	info->flow.kind = (uint8_t)other;
	if (len < ETH_HLEN)
		return other;
	ethtype = rd16(frame + off);
	off += 2;
	for (tags = 0; tags < 2 && (ethtype == ETHTYPE_VLAN ||
				     ethtype == ETHTYPE_QINQ); tags++) {
		if (len < off + 4)
			return other;
		ethtype = rd16(frame + off + 2);
		off += 4;
	}
	if (ethtype == ETHTYPE_IPV4) {
		const uint8_t *ip = frame + off;
		size_t ihl;

		if (len < off + 20 || (ip[0] >> 4) != 4)
			return other;
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		if (ihl < 20 || len < off + ihl + UDP_HLEN)
			return other;
		info->flow.family = 4;
		memcpy(info->flow.src, ip + 12, 4);
		memcpy(info->flow.dst, ip + 16, 4);
		/* Fragments other than a whole datagram carry no header we
		 * can trust: not test packets. */
		if (ip[9] != IPPROTO_UDP_NUM || (rd16(ip + 6) & 0x3fff) != 0)
			return other;
		off += ihl;
	} else if (ethtype == ETHTYPE_IPV6) {
		const uint8_t *ip = frame + off;

		if (len < off + 40 + UDP_HLEN || (ip[0] >> 4) != 6)
			return other;
		info->flow.family = 6;
		memcpy(info->flow.src, ip + 8, 16);
		memcpy(info->flow.dst, ip + 24, 16);
		if (ip[6] != IPPROTO_UDP_NUM)
			return other;
		off += 40;
	} else {
		return other;
	}
	udp = frame + off;
	info->flow.sport = rd16(udp);
	info->flow.dport = rd16(udp + 2);
	pl = udp + UDP_HLEN;
	pl_len = len - off - UDP_HLEN;
	/* The UDP length, when smaller, bounds the payload (padding). */
	if (rd16(udp + 4) >= UDP_HLEN &&
	    (size_t)rd16(udp + 4) - UDP_HLEN < pl_len)
		pl_len = (size_t)rd16(udp + 4) - UDP_HLEN;

	ssid_off = cfg->auth ? AUTH_SSID : UNAUTH_SSID;
	rxts_off = cfg->auth ? AUTH_RX_TS : UNAUTH_RX_TS;
	sseq_off = cfg->auth ? AUTH_SENDER_SEQ : UNAUTH_SENDER_SEQ;
	if (info->flow.dport == cfg->stamp_port &&
	    info->flow.sport != cfg->stamp_port)
		info->flow.kind = LK_KIND_SENDER;
	else if (info->flow.sport == cfg->stamp_port &&
		 info->flow.dport != cfg->stamp_port)
		info->flow.kind = LK_KIND_REFLECTOR;
	else if (info->flow.sport == cfg->stamp_port)
		/* Both ends on the STAMP port: a reflector has written its
		 * receive timestamp where a sender has MBZ zeros. */
		info->flow.kind = pl_len >= rxts_off + 8 &&
			!all_zero(pl + rxts_off, 8) ?
			LK_KIND_REFLECTOR : LK_KIND_SENDER;
	else
		return other;

	if (pl_len >= 4) {
		info->has_seq = true;
		info->seq = rd32(pl);
	}
	if (pl_len >= ssid_off + 2)
		info->ssid = rd16(pl + ssid_off);
	if (info->flow.kind == LK_KIND_REFLECTOR && pl_len >= sseq_off + 4) {
		info->has_sender_seq = true;
		info->sender_seq = rd32(pl + sseq_off);
	}
	return (enum lk_kind)info->flow.kind;
}

int
lk_flow_format(const struct lk_flow *f, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	if (f->family == 4) {
		inet_ntop(AF_INET, f->src, s, sizeof(s));
		inet_ntop(AF_INET, f->dst, d, sizeof(d));
		return snprintf(buf, len, "%s:%u>%s:%u", s, f->sport, d,
				f->dport);
	}
	if (f->family == 6) {
		inet_ntop(AF_INET6, f->src, s, sizeof(s));
		inet_ntop(AF_INET6, f->dst, d, sizeof(d));
		return snprintf(buf, len, "[%s]:%u>[%s]:%u", s, f->sport, d,
				f->dport);
	}
	return snprintf(buf, len, "-");
}

static uint32_t
flow_hash(const struct lk_flow *f)
{
	const uint8_t *p = (const uint8_t *)f;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(*f); i++)
		h = (h ^ p[i]) * 16777619u; /* FNV-1a */
	return h;
}

int
lk_order_depart(struct lk_order *t, const struct lk_flow *flow, uint32_t seq)
{
	uint32_t h = flow_hash(flow), i;

	for (i = 0; i < LK_ORDER_SLOTS; i++) {
		struct lk_order_slot *s = &t->slot[(h + i) % LK_ORDER_SLOTS];

		if (!s->used) {
			s->used = true;
			s->flow = *flow;
			s->max_seq = seq;
			return 0;
		}
		if (memcmp(&s->flow, flow, sizeof(*flow)) != 0)
			continue;
		/* Serial number arithmetic: survives wrap-around. */
		if ((int32_t)(seq - s->max_seq) > 0) {
			s->max_seq = seq;
			return 0;
		}
		return seq == s->max_seq ? 0 : 1;
	}
	t->overflow++;
	return -1;
}
