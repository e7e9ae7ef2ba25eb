/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What linkem reads of a frame: is it a STAMP test packet (RFC 8762),
 * which way (sender or reflector), and its sequence numbers; plus the
 * per-flow order tracker that tells whether a departing packet will be
 * seen as reordered (RFC 4737) by the receiver.
 */
#ifndef LINKEM_PKTINFO_H
#define LINKEM_PKTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lk_kind {
	LK_KIND_PASS = 0,   /* not impaired: ARP, NDP, other traffic */
	LK_KIND_SENDER,     /* STAMP Session-Sender packet: to the port */
	LK_KIND_REFLECTOR,  /* STAMP Session-Reflector packet: from it */
	LK_KIND_OTHER,      /* impaired but not a test packet (--impair all) */
};

struct lk_flow {
	uint8_t family;     /* 4, 6, or 0 for non-IP */
	uint8_t kind;       /* enum lk_kind */
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
};

struct lk_pkt_info {
	struct lk_flow flow;
	bool has_seq;
	bool has_sender_seq;
	uint16_t ssid;
	uint32_t seq;           /* offset 0 of the UDP payload */
	uint32_t sender_seq;    /* reflector packets: the sender's seq */
};

struct lk_classify_cfg {
	uint16_t stamp_port;    /* 862 */
	bool auth;              /* authenticated layouts (RFC 8762 4.2.2) */
	bool impair_all;        /* impair every frame, not only STAMP */
};

/* Never reads past frame + len. Returns the kind. */
enum lk_kind lk_classify(const uint8_t *frame, size_t len,
			 const struct lk_classify_cfg *cfg,
			 struct lk_pkt_info *info);

/* "10.0.0.1:40000>10.0.0.2:862" (or "[v6]:port>..."; "-" for non-IP). */
int lk_flow_format(const struct lk_flow *f, char *buf, size_t len);

/* ---- departure order per flow ---- */

#define LK_ORDER_SLOTS 1024

struct lk_order_slot {
	bool used;
	struct lk_flow flow;
	uint32_t max_seq;
};

struct lk_order {
	struct lk_order_slot slot[LK_ORDER_SLOTS];
	uint64_t overflow;      /* flows not tracked: table full */
};

/*
 * Records that a packet of `flow` with `seq` departs; returns 1 when its
 * seq is below the highest already departed + 1 (RFC 4737 section 3:
 * the receiver will count it reordered), 0 when in order, -1 when the
 * flow could not be tracked. An equal seq (a repeat) is not reordered.
 */
int lk_order_depart(struct lk_order *t, const struct lk_flow *flow,
		    uint32_t seq);

#endif
