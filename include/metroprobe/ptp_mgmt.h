/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PTP management messages (IEEE 1588-2008 clause 15) as ptp4l (linuxptp)
 * answers them on its Unix socket, and what they say about this host's
 * clock. Pure: bytes in, bytes out; the socket is probe/ptp_status.c.
 *
 * Message layout (octets, network byte order):
 *   common header 34: type 1 (low nibble 0xd: management), version 1
 *     (low nibble 2), messageLength 2, domainNumber 1, 1, flags 2,
 *     correction 8, 4, sourcePortIdentity 10, sequenceId 2,
 *     controlField 1 (4), logMessageInterval 1 (0x7f)
 *   management 14: targetPortIdentity 10, startingBoundaryHops 1,
 *     boundaryHops 1, actionField 1 (low nibble), 1
 *   TLV: type 2, lengthField 2 (octets after it), then
 *     MANAGEMENT (1): managementId 2, data
 *     MANAGEMENT_ERROR_STATUS (2): managementErrorId 2, managementId 2,
 *       4, displayData
 *
 * One query is a round of three GETs, in this order, each to every port
 * (target 0xff..ff/0xffff) with boundaryHops 0 (never forwarded), in the
 * caller's domain (ptp4l ignores messages of another domain), each with a
 * zero-filled data field of its ID's size (1588's reading; ptp4l 3.1 does
 * not answer TIME_STATUS_NP with an empty one, pmc -z):
 *   PORT_DATA_SET (0x2004), answered once per port: portState;
 *   TIME_PROPERTIES_DATA_SET (0x2003): timeTraceable;
 *   TIME_STATUS_NP (0xc000, linuxptp's own): master_offset, ingress_time,
 *     gmPresent.
 * ptp4l serves its socket one request at a time, in the order they came,
 * and answers a request completely (every port) before it reads the
 * next, so the answer to TIME_STATUS_NP closes the round.
 *
 * The decision (ptp_mgmt_decide), for the clock ptp4l timestamps with
 * (CLOCK_REALTIME under software timestamping, which the probe's TSC is
 * calibrated against):
 *   - synchronised when a port is SLAVE or UNCALIBRATED, a grandmaster
 *     other than this clock is present (gmPresent) and ptp4l has measured
 *     |master_offset| <= PTP_MGMT_MAX_OFFSET_NS (1 ms). UNCALIBRATED
 *     counts: ptp4l stays there for good when it measures but does not
 *     steer (free_running, or the ntpshm servo feeding chronyd), and its
 *     offset is then just as measured. But ptp4l keeps master_offset
 *     from its last measurement (0 at its start, an earlier master's
 *     after it lost one) until it has a new one, and in UNCALIBRATED
 *     nothing else says which it is: so an offset counts there only once
 *     it has changed while the port stayed SLAVE or UNCALIBRATED under
 *     the same grandmaster, watched round by round (ptp_mgmt_decide's
 *     <prev>; one sync interval of delay when the probe starts).
 *     In SLAVE the servo has locked on fresh offsets.
 *     1 ms: beyond it, one-way delays would be wrong by as much as the
 *     latencies the backbone is held to; below it, the error estimate
 *     carries the offset, so receivers can judge;
 *   - when ptp4l is the grandmaster itself (a port MASTER, no grandmaster
 *     present, offset 0 by definition) this clock is the domain's
 *     reference, but nothing in PTP says it is right: synchronised only
 *     when ptp4l's time properties say timeTraceable, which is the
 *     operator's (or the GNSS daemon's) statement, made to ptp4l itself
 *     (pmc 'SET GRANDMASTER_SETTINGS_NP ... timeTraceable 1'), so the
 *     probes and the PTP slaves hear the same claim;
 *   - error estimate when synchronised: |master_offset| + margin (the
 *     probe's clock_error), saturating. The offset is the last one ptp4l
 *     measured (at most a sync interval and a query old); the margin
 *     covers what the offset does not: timestamping error (software
 *     timestamps: microseconds), path asymmetry, drift between queries,
 *     and with hardware timestamping phc2sys's offset of the system
 *     clock from the PHC, which ptp4l does not see. As grandmaster:
 *     margin alone;
 *   - not synchronised: |master_offset| + margin when an offset was
 *     measured from a present grandmaster (too large), else
 *     PTP_MGMT_UNKNOWN_ERROR_NS.
 * A slave's synchronisation is to its grandmaster, traceable or not: one-
 * way delay between probes of one PTP domain needs exactly that.
 */
#ifndef METROPROBE_PTP_MGMT_H
#define METROPROBE_PTP_MGMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PTP_MGMT_HDR_LEN        48     /* common 34 + management 14 */
#define PTP_MGMT_MSG_MAX        1500   /* larger datagrams are refused */
#define PTP_MGMT_MAX_OFFSET_NS  1000000ULL
#define PTP_MGMT_UNKNOWN_ERROR_NS 1000000000ULL

enum ptp_mgmt_id {
	PTP_MID_TIME_PROPERTIES_DATA_SET = 0x2003,
	PTP_MID_PORT_DATA_SET            = 0x2004,
	PTP_MID_TIME_STATUS_NP           = 0xc000,
};

/* IEEE 1588-2008 table 8 */
enum ptp_port_state {
	PTP_PS_INITIALIZING = 1,
	PTP_PS_FAULTY,
	PTP_PS_DISABLED,
	PTP_PS_LISTENING,
	PTP_PS_PRE_MASTER,
	PTP_PS_MASTER,
	PTP_PS_PASSIVE,
	PTP_PS_UNCALIBRATED,
	PTP_PS_SLAVE,
};

/* timePropertiesDS flags (IEEE 1588-2008 table 20) */
#define PTP_TIME_TRACEABLE      0x10

struct ptp_port_identity {
	uint8_t clock[8];
	uint16_t port;
};

/* One answer from ptp4l. */
struct ptp_mgmt_reply {
	uint16_t seq;
	uint16_t id;             /* managementId answered */
	uint16_t error;          /* 0, or the managementErrorId refusing it */
	struct ptp_port_identity source;
	union {
		struct {                 /* PORT_DATA_SET */
			uint16_t number;
			uint8_t state;       /* enum ptp_port_state */
		} port;
		struct {                 /* TIME_PROPERTIES_DATA_SET */
			int16_t utc_offset;
			uint8_t flags;
		} props;
		struct {                 /* TIME_STATUS_NP */
			int64_t master_offset_ns;
			int64_t ingress_time_ns; /* ptp4l's clock */
			bool gm_present;
			uint8_t gm_identity[8];
		} time;
	};
};

/* Why the clock is, or is not, synchronised: enum and words from one
 * list. */
#define foreach_ptp_sync_reason                                              \
	_(TRACKING, "a port tracks the grandmaster within 1 ms")             \
	_(GRANDMASTER, "ptp4l is the grandmaster, its time traceable")       \
	_(NO_ANSWER, "no complete answer from ptp4l")                        \
	_(REFUSED, "ptp4l refused GET TIME_STATUS_NP")                       \
	_(NO_PORT, "no port SLAVE, UNCALIBRATED or MASTER")                  \
	_(NO_GRANDMASTER, "no grandmaster present")                          \
	_(NOT_MEASURED, "no offset measured yet")                            \
	_(OFFSET_TOO_LARGE, "offset from the grandmaster over 1 ms")         \
	_(NOT_TRACEABLE, "ptp4l is the grandmaster, its time not traceable")

enum ptp_sync_reason {
#define _(sym, str) PTP_SYNC_##sym,
	foreach_ptp_sync_reason
#undef _
	PTP_SYNC_N_REASONS,
};

/* What one round of GETs found, and the decision. */
struct ptp_status {
	uint16_t seq;            /* the round's first GET; the others follow */
	/* answers */
	unsigned n_ports;        /* PORT_DATA_SET answers */
	uint16_t port;           /* the port the decision is about */
	uint8_t port_state;      /* its state; 0 when no port answered */
	bool have_props;
	bool time_traceable;
	bool have_time;          /* TIME_STATUS_NP answered: round complete */
	uint16_t time_error;     /* managementErrorId if it was refused */
	int64_t offset_ns;       /* master_offset */
	int64_t ingress_time_ns;
	bool gm_present;
	uint8_t gm_identity[8];
	/* decision (ptp_mgmt_decide) */
	bool measured;           /* the offset is one measured while watched */
	int64_t stale_offset_ns; /* UNCALIBRATED: the offset first seen */
	bool synced;
	uint64_t error_ns;
	enum ptp_sync_reason reason;
};

/*
 * Builds a GET of <id> (one of enum ptp_mgmt_id) with sequence <seq>
 * from <src>, into <buf> of <len> octets. Returns the message length, or
 * -EINVAL for another id, -ENOSPC when <buf> is too small. Thread-safe.
 */
int ptp_mgmt_build_get(uint8_t *buf, size_t len, uint16_t id, uint16_t seq,
		       uint8_t domain, const struct ptp_port_identity *src);

/*
 * Reads the management response in <msg> (<len> octets received) into
 * <r>. Every length is checked against what was received; nothing beyond
 * <len> is read. Returns
 *   0           a RESPONSE of one of enum ptp_mgmt_id, or a management
 *               error status refusing any ID (r->error != 0);
 *   -ENOMSG     a well-formed PTP message that is not one of those
 *               (another message type, action or ID): skip it;
 *   -EBADMSG    malformed: <err> (if not NULL) says what and where.
 * Thread-safe.
 */
int ptp_mgmt_parse(const uint8_t *msg, size_t len, struct ptp_mgmt_reply *r,
		   char *err, size_t errlen);

/* An empty round whose GETs carry seq, seq + 1, seq + 2. */
void ptp_mgmt_status_init(struct ptp_status *st, uint16_t seq);
/*
 * Adds answer <r> to the round <st>. Returns 1 when the round is complete
 * (TIME_STATUS_NP answered or refused), 0 when more is to come, -ENOMSG
 * when <r> belongs to another round (sequence) or is a repeat of an
 * answer already counted (but a port answering again is not told apart
 * from another port: ptp4l sends one per port).
 */
int ptp_mgmt_status_add(struct ptp_status *st,
			const struct ptp_mgmt_reply *r);
/*
 * Decides synced, error_ns and reason from the answers in <st> (see the
 * comment at the top); <prev> is the previous round's decided status, or
 * NULL (the first round, or the previous one failed); margin_ns is the
 * configured clock error.
 */
void ptp_mgmt_decide(struct ptp_status *st, const struct ptp_status *prev,
		     uint64_t margin_ns);

const char *ptp_mgmt_reason_str(enum ptp_sync_reason r);
/* "SLAVE", "MASTER", ...; "none" for 0, "unknown" beyond SLAVE. */
const char *ptp_mgmt_port_state_str(uint8_t state);
/* "NOT_SUPPORTED", ... (IEEE 1588-2008 table 72), "unknown" otherwise. */
const char *ptp_mgmt_error_str(uint16_t error_id);

#endif
