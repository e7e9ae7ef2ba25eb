/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PTP management messages (IEEE 1588-2008 clause 15): GETs built, answers
 * read field by field with every length checked against what arrived,
 * and the synchronisation decision (see ptp_mgmt.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "metroprobe/ptp_mgmt.h"

/* Octet offsets: IEEE 1588-2008 table 18 (header), 15.4.1 (management
 * message), 5.3.8 (TLV), 15.5.2 (management TLVs). */
enum {
	OFF_TYPE          = 0,    /* transportSpecific 4 | messageType 4 */
	OFF_VERSION       = 1,    /* reserved 4 | versionPTP 4 */
	OFF_LENGTH        = 2,
	OFF_DOMAIN        = 4,
	OFF_SOURCE        = 20,   /* sourcePortIdentity, 10 octets */
	OFF_SEQ           = 30,
	OFF_CONTROL       = 32,
	OFF_LOG_INTERVAL  = 33,
	OFF_TARGET        = 34,   /* targetPortIdentity, 10 octets */
	OFF_START_HOPS    = 44,
	OFF_HOPS          = 45,
	OFF_ACTION        = 46,   /* reserved 4 | actionField 4 */
	OFF_TLV           = PTP_MGMT_HDR_LEN,
	HEADER_LEN        = 34,
	TLV_HEAD          = 4,    /* tlvType, lengthField */
};

#define MSG_MANAGEMENT          0x0d
#define PTP_VERSION             2
#define CONTROL_MANAGEMENT      0x04
#define LOG_INTERVAL_NONE       0x7f
#define ACTION_GET              0
#define ACTION_RESPONSE         2
#define TLV_MANAGEMENT          0x0001
#define TLV_MANAGEMENT_ERROR    0x0002
#define ERROR_STATUS_MIN        8       /* errorId, managementId, 4 */

/* Data field sizes (IEEE 1588-2008 15.5.3.3.5, 15.5.3.4.1; linuxptp's
 * TIME_STATUS_NP: offset 8, ingress 8, cumulativeScaledRateOffset 4,
 * scaledLastGmPhaseChange 4, gmTimeBaseIndicator 2, lastGmPhaseChange
 * 12, gmPresent 4, gmIdentity 8). */
#define PORT_DATA_SET_LEN       26
#define TIME_PROPERTIES_LEN     4
#define TIME_STATUS_NP_LEN      50

/* Offsets inside those data fields */
#define PDS_PORT_NUMBER         8
#define PDS_PORT_STATE          10
#define TPS_UTC_OFFSET          0
#define TPS_FLAGS               2
#define TSN_MASTER_OFFSET       0
#define TSN_INGRESS_TIME        8
#define TSN_GM_PRESENT          38
#define TSN_GM_IDENTITY         42

static int
data_len(uint16_t id)
{
	switch (id) {
	case PTP_MID_PORT_DATA_SET:
		return PORT_DATA_SET_LEN;
	case PTP_MID_TIME_PROPERTIES_DATA_SET:
		return TIME_PROPERTIES_LEN;
	case PTP_MID_TIME_STATUS_NP:
		return TIME_STATUS_NP_LEN;
	default:
		return -EINVAL;
	}
}

static const char *
id_str(uint16_t id)
{
	switch (id) {
	case PTP_MID_PORT_DATA_SET:
		return "PORT_DATA_SET";
	case PTP_MID_TIME_PROPERTIES_DATA_SET:
		return "TIME_PROPERTIES_DATA_SET";
	case PTP_MID_TIME_STATUS_NP:
		return "TIME_STATUS_NP";
	default:
		return "another ID";
	}
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

int
ptp_mgmt_build_get(uint8_t *buf, size_t len, uint16_t id, uint16_t seq,
		   uint8_t domain, const struct ptp_port_identity *src)
{
	int dlen = data_len(id);
	size_t total;

	if (dlen < 0)
		return dlen;
	total = OFF_TLV + TLV_HEAD + 2 + (size_t)dlen;
	if (len < total)
		return -ENOSPC;
	memset(buf, 0, total);
	buf[OFF_TYPE] = MSG_MANAGEMENT;
	buf[OFF_VERSION] = PTP_VERSION;
	put16(buf + OFF_LENGTH, (uint16_t)total);
	buf[OFF_DOMAIN] = domain;
	memcpy(buf + OFF_SOURCE, src->clock, 8);
	put16(buf + OFF_SOURCE + 8, src->port);
	put16(buf + OFF_SEQ, seq);
	buf[OFF_CONTROL] = CONTROL_MANAGEMENT;
	buf[OFF_LOG_INTERVAL] = LOG_INTERVAL_NONE;
	/* every clock, every port (15.3.1) */
	memset(buf + OFF_TARGET, 0xff, 10);
	buf[OFF_START_HOPS] = 0;
	buf[OFF_HOPS] = 0;
	buf[OFF_ACTION] = ACTION_GET;
	put16(buf + OFF_TLV, TLV_MANAGEMENT);
	put16(buf + OFF_TLV + 2, (uint16_t)(2 + dlen));
	put16(buf + OFF_TLV + 4, id);
	return (int)total;
}

static int
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* The data field of a MANAGEMENT TLV, <dlen> octets at <d>. */
static int
parse_data(const uint8_t *d, size_t dlen, struct ptp_mgmt_reply *r,
	   char *err, size_t errlen)
{
	int need = data_len(r->id);

	if (need < 0)
		return -ENOMSG;
	if (dlen < (size_t)need)
		return bad(err, errlen, "%s: data field of %zu octets, %d "
			   "expected", id_str(r->id), dlen, need);
	switch (r->id) {
	case PTP_MID_PORT_DATA_SET:
		r->port.number = get16(d + PDS_PORT_NUMBER);
		r->port.state = d[PDS_PORT_STATE];
		break;
	case PTP_MID_TIME_PROPERTIES_DATA_SET:
		r->props.utc_offset = (int16_t)get16(d + TPS_UTC_OFFSET);
		r->props.flags = d[TPS_FLAGS];
		break;
	case PTP_MID_TIME_STATUS_NP:
		r->time.master_offset_ns = (int64_t)get64(d + TSN_MASTER_OFFSET);
		r->time.ingress_time_ns = (int64_t)get64(d + TSN_INGRESS_TIME);
		r->time.gm_present = get32(d + TSN_GM_PRESENT) != 0;
		memcpy(r->time.gm_identity, d + TSN_GM_IDENTITY, 8);
		break;
	}
	return 0;
}

int
ptp_mgmt_parse(const uint8_t *msg, size_t len, struct ptp_mgmt_reply *r,
	       char *err, size_t errlen)
{
	const uint8_t *tlv;
	size_t msglen, tlen;
	uint16_t type;

	memset(r, 0, sizeof(*r));
	if (len < HEADER_LEN)
		return bad(err, errlen, "%zu octets, shorter than a PTP "
			   "header (%d)", len, HEADER_LEN);
	if ((msg[OFF_TYPE] & 0x0f) != MSG_MANAGEMENT)
		return -ENOMSG;
	if ((msg[OFF_VERSION] & 0x0f) != PTP_VERSION)
		return bad(err, errlen, "versionPTP %u, not %d",
			   msg[OFF_VERSION] & 0x0f, PTP_VERSION);
	msglen = get16(msg + OFF_LENGTH);
	if (msglen > len)
		return bad(err, errlen, "messageLength %zu beyond the %zu "
			   "octets received", msglen, len);
	if (msglen < PTP_MGMT_HDR_LEN + TLV_HEAD)
		return bad(err, errlen, "messageLength %zu, too short for a "
			   "management message with a TLV (%d)", msglen,
			   PTP_MGMT_HDR_LEN + TLV_HEAD);
	r->seq = get16(msg + OFF_SEQ);
	memcpy(r->source.clock, msg + OFF_SOURCE, 8);
	r->source.port = get16(msg + OFF_SOURCE + 8);
	if ((msg[OFF_ACTION] & 0x0f) != ACTION_RESPONSE)
		return -ENOMSG;

	/* only the first TLV: ptp4l answers with one (another, such as
	 * authentication, may follow it and is not read) */
	tlv = msg + OFF_TLV;
	type = get16(tlv);
	tlen = get16(tlv + 2);
	if (tlen > msglen - OFF_TLV - TLV_HEAD)
		return bad(err, errlen, "TLV lengthField %zu beyond the "
			   "message (%zu octets after the TLV header)", tlen,
			   msglen - OFF_TLV - TLV_HEAD);
	switch (type) {
	case TLV_MANAGEMENT:
		if (tlen < 2)
			return bad(err, errlen, "MANAGEMENT TLV of %zu octets, "
				   "no managementId", tlen);
		r->id = get16(tlv + TLV_HEAD);
		return parse_data(tlv + TLV_HEAD + 2, tlen - 2, r, err,
				  errlen);
	case TLV_MANAGEMENT_ERROR:
		if (tlen < ERROR_STATUS_MIN)
			return bad(err, errlen, "MANAGEMENT_ERROR_STATUS TLV "
				   "of %zu octets, %d expected", tlen,
				   ERROR_STATUS_MIN);
		r->error = get16(tlv + TLV_HEAD);
		r->id = get16(tlv + TLV_HEAD + 2);
		if (r->error == 0)
			return bad(err, errlen, "MANAGEMENT_ERROR_STATUS with "
				   "managementErrorId 0");
		return 0;
	default:
		return bad(err, errlen, "response with TLV type 0x%04x, not "
			   "MANAGEMENT or MANAGEMENT_ERROR_STATUS", type);
	}
}

void
ptp_mgmt_status_init(struct ptp_status *st, uint16_t seq)
{
	memset(st, 0, sizeof(*st));
	st->seq = seq;
	st->reason = PTP_SYNC_NO_ANSWER;
	st->error_ns = PTP_MGMT_UNKNOWN_ERROR_NS;
}

/* Which port the decision is about: one tracking a master first. */
static int
port_rank(uint8_t state)
{
	switch (state) {
	case PTP_PS_SLAVE:
		return 4;
	case PTP_PS_UNCALIBRATED:
		return 3;
	case PTP_PS_MASTER:
		return 2;
	default:
		return 1;
	}
}

int
ptp_mgmt_status_add(struct ptp_status *st, const struct ptp_mgmt_reply *r)
{
	switch (r->id) {
	case PTP_MID_PORT_DATA_SET:
		if (r->seq != st->seq || st->have_time)
			return -ENOMSG;
		if (r->error != 0)
			return 0;       /* no such port: nothing to count */
		if (st->n_ports == 0 ||
		    port_rank(r->port.state) > port_rank(st->port_state)) {
			st->port = r->port.number;
			st->port_state = r->port.state;
		}
		st->n_ports++;
		return 0;
	case PTP_MID_TIME_PROPERTIES_DATA_SET:
		if (r->seq != (uint16_t)(st->seq + 1) || st->have_props ||
		    st->have_time)
			return -ENOMSG;
		if (r->error == 0) {
			st->have_props = true;
			st->time_traceable =
				(r->props.flags & PTP_TIME_TRACEABLE) != 0;
		}
		return 0;
	case PTP_MID_TIME_STATUS_NP:
		if (r->seq != (uint16_t)(st->seq + 2) || st->have_time)
			return -ENOMSG;
		st->have_time = true;
		st->time_error = r->error;
		if (r->error == 0) {
			st->offset_ns = r->time.master_offset_ns;
			st->ingress_time_ns = r->time.ingress_time_ns;
			st->gm_present = r->time.gm_present;
			memcpy(st->gm_identity, r->time.gm_identity, 8);
		}
		return 1;
	default:
		return -ENOMSG;
	}
}

static uint64_t
abs_ns(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A port tracking a present grandmaster: SLAVE or UNCALIBRATED. */
static bool
tracking(const struct ptp_status *st)
{
	return st->have_time && st->time_error == 0 && st->gm_present &&
		st->n_ports > 0 &&
		port_rank(st->port_state) >= port_rank(PTP_PS_UNCALIBRATED);
}

/* Whether st->offset_ns was measured, not left from before: see the
 * comment at the top of ptp_mgmt.h. */
static void
decide_measured(struct ptp_status *st, const struct ptp_status *prev)
{
	bool same = prev != NULL && tracking(prev) && tracking(st) &&
		prev->port == st->port &&
		memcmp(prev->gm_identity, st->gm_identity, 8) == 0;

	if (same) {
		st->stale_offset_ns = prev->stale_offset_ns;
		st->measured = prev->measured ||
			st->offset_ns != prev->stale_offset_ns;
	} else {
		st->stale_offset_ns = st->offset_ns;
		st->measured = false;
	}
	if (st->port_state == PTP_PS_SLAVE)
		st->measured = true;
}

void
ptp_mgmt_decide(struct ptp_status *st, const struct ptp_status *prev,
		uint64_t margin_ns)
{
	uint64_t off = abs_ns(st->offset_ns);
	int rank = st->n_ports > 0 ? port_rank(st->port_state) : 0;

	decide_measured(st, prev);
	st->synced = false;
	st->error_ns = PTP_MGMT_UNKNOWN_ERROR_NS;
	if (!st->have_time) {
		st->reason = PTP_SYNC_NO_ANSWER;
	} else if (st->time_error != 0) {
		st->reason = PTP_SYNC_REFUSED;
	} else if (rank >= port_rank(PTP_PS_UNCALIBRATED)) {
		if (!st->gm_present) {
			st->reason = PTP_SYNC_NO_GRANDMASTER;
		} else if (!st->measured) {
			st->reason = PTP_SYNC_NOT_MEASURED;
		} else {
			st->error_ns = add_sat(off, margin_ns);
			st->synced = off <= PTP_MGMT_MAX_OFFSET_NS;
			st->reason = st->synced ? PTP_SYNC_TRACKING :
				PTP_SYNC_OFFSET_TOO_LARGE;
		}
	} else if (rank == port_rank(PTP_PS_MASTER) && !st->gm_present) {
		st->synced = st->have_props && st->time_traceable;
		if (st->synced)
			st->error_ns = margin_ns;
		st->reason = st->synced ? PTP_SYNC_GRANDMASTER :
			PTP_SYNC_NOT_TRACEABLE;
	} else {
		st->reason = PTP_SYNC_NO_PORT;
	}
}

const char *
ptp_mgmt_reason_str(enum ptp_sync_reason r)
{
	static const char *const str[] = {
#define _(sym, s) [PTP_SYNC_##sym] = s,
		foreach_ptp_sync_reason
#undef _
	};

	return (unsigned)r < PTP_SYNC_N_REASONS ? str[r] : "unknown";
}

const char *
ptp_mgmt_port_state_str(uint8_t state)
{
	static const char *const str[] = {
		"none", "INITIALIZING", "FAULTY", "DISABLED", "LISTENING",
		"PRE_MASTER", "MASTER", "PASSIVE", "UNCALIBRATED", "SLAVE",
	};

	return state < sizeof(str) / sizeof(str[0]) ? str[state] : "unknown";
}

const char *
ptp_mgmt_error_str(uint16_t error_id)
{
	switch (error_id) {
	case 0x0001:
		return "RESPONSE_TOO_BIG";
	case 0x0002:
		return "NO_SUCH_ID";
	case 0x0003:
		return "WRONG_LENGTH";
	case 0x0004:
		return "WRONG_VALUE";
	case 0x0005:
		return "NOT_SETABLE";
	case 0x0006:
		return "NOT_SUPPORTED";
	case 0xfffe:
		return "GENERAL_ERROR";
	default:
		return "unknown";
	}
}
