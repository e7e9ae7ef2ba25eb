/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every reason a probe drops a packet, in one list (the VPP
 * foreach_..._error shape): the enum, the counter names in records and
 * telemetry, and the help strings come from here and cannot drift apart.
 */
#ifndef PROBE_DROPS_H
#define PROBE_DROPS_H

#include "metroprobe/stamp.h"

#define foreach_probe_drop						\
_(ETH_SHORT,        "eth_short",        "frame shorter than its Ethernet/VLAN header") \
_(ETH_NOT_FOR_US,   "eth_not_for_us",   "destination MAC neither ours, broadcast nor NDP multicast") \
_(MULTI_SEG,        "multi_seg",        "frame larger than one mbuf") \
_(VLAN_MISMATCH,    "vlan_mismatch",    "VLAN tag differs from the port's") \
_(ETHERTYPE,        "ethertype",        "neither ARP, IPv4 nor IPv6") \
_(ARP_BAD,          "arp_bad",          "ARP not Ethernet/IPv4 or truncated") \
_(ARP_NOT_FOR_US,   "arp_not_for_us",   "ARP for another address") \
_(IP_VERSION,       "ip_version",       "IP version field does not match the ethertype") \
_(IP_HEADER,        "ip_header",        "bad IPv4 header length or checksum") \
_(IP_TRUNCATED,     "ip_truncated",     "IP length beyond the end of the frame") \
_(IP_FRAGMENT,      "ip_fragment",      "IP fragment (test packets are never fragmented)") \
_(IP_NOT_FOR_US,    "ip_not_for_us",    "destination address is not the port's") \
_(IP_PROTO,         "ip_proto",         "neither UDP nor neighbour discovery") \
_(NDP_BAD,          "ndp_bad",          "malformed or unexpected ICMPv6") \
_(UDP_LENGTH,       "udp_length",       "UDP length inconsistent with the IP length") \
_(UDP_CHECKSUM,     "udp_checksum",     "UDP checksum wrong") \
_(UDP_PORT,         "udp_port",         "no reflector or session on this UDP port") \
_(STAMP_SHORT,      "stamp_short",      "STAMP packet shorter than its base length") \
_(STAMP_OVERSIZE,   "stamp_oversize",   "frame longer than the reflector's max_frame") \
_(STAMP_MALFORMED,  "stamp_malformed",  "error estimate invalid or MBZ not zero") \
_(STAMP_HMAC,       "stamp_hmac",       "authenticated packet with a wrong HMAC") \
_(REFLECTOR_FULL,   "reflector_full",   "stateful reflector table full") \
_(SESSION_MISMATCH, "session_mismatch", "reflected packet from an unexpected address, port or SSID") \
_(SEQ_AHEAD,        "seq_ahead",        "sequence number beyond the tracking window") \
_(TX_FULL,          "tx_full",          "transmit staging full") \
_(MBUF_ALLOC,       "mbuf_alloc",       "no mbuf for a packet to send") \
_(RECORD_OVERRUN,   "record_overrun",   "interval slots full: control thread late") \
_(CAPTURE_FULL,     "capture_full",     "capture ring full: packet not captured") \
_(HANDOFF_FULL,     "handoff_full",     "reply received on another queue than its session's, and that queue's hand-off ring was full")

enum probe_drop {
#define _(sym, name, help) PROBE_DROP_##sym,
	foreach_probe_drop
#undef _
	PROBE_DROP_N
};

/* The drop a STAMP codec error (lib/stamp.h) is counted as. */
static inline enum probe_drop
probe_drop_of_stamp(int stamp_err)
{
	switch (stamp_err) {
	case STAMP_ETRUNC:
		return PROBE_DROP_STAMP_SHORT;
	case STAMP_EHMAC:
	case STAMP_EKEY:
		return PROBE_DROP_STAMP_HMAC;
	default:
		return PROBE_DROP_STAMP_MALFORMED;
	}
}

extern const char *const probe_drop_names[PROBE_DROP_N];
extern const char *const probe_drop_help[PROBE_DROP_N];

#endif
