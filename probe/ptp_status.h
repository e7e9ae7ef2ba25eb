/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clock_synced = ptp4l: ptp4l's view of this host's clock, asked over its
 * management socket (what pmc -u speaks: PTP management GETs, see
 * lib/ptp_mgmt.c for the messages and the decision).
 *
 * The probe binds a datagram socket of its own, since ptp4l answers to
 * the sender's address: /var/run/metroprobe-ptp.PID.N when /var/run is
 * writable, else the same name in $TMPDIR or /tmp; the file is removed
 * on close and at exit. Nothing here waits longer than
 * PTP_STATUS_WAIT_MS: the watch the control thread runs never waits at
 * all (a round of GETs is sent, its answers are picked up by later
 * control steps).
 */
#ifndef PROBE_PTP_STATUS_H
#define PROBE_PTP_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metroprobe/ptp_mgmt.h"

#define PTP_STATUS_WAIT_MS      5            /* ptp_status_query */
#define PTP_STATUS_PERIOD_NS    1000000000ULL  /* a round per second */
#define PTP_STATUS_TIMEOUT_NS   500000000ULL   /* a round unanswered by
						* then has failed */

/*
 * One round of GETs to ptp4l at <sock> in <domain>, waiting at most
 * PTP_STATUS_WAIT_MS for the answers; <st> decided with <margin_ns> (the
 * configured clock_error). Returns 0, or a negative errno with <err>
 * saying why (no ptp4l there, no answer in time, an answer malformed)
 * and <st> decided as PTP_SYNC_NO_ANSWER. Thread-safe (a socket of its
 * own per call).
 */
int ptp_status_query(const char *sock, uint8_t domain, uint64_t margin_ns,
		     struct ptp_status *st, char *err, size_t errlen);

/*
 * The control thread's watch of ptp4l. ptp_watch_start opens the socket
 * and asks once (ptp_status_query's bound), logging what it found.
 * ptp_watch_step, called at every control step, starts a round about
 * once a second and reads the answers without waiting; it logs a change
 * of synchronisation (with the offset), ptp4l becoming unreachable (once,
 * not every second) and answering again, and every round's answer when
 * <verbose>. It returns true when the decision (synced or error) changed.
 * ptp_watch_get gives the latest decision: not synchronised with
 * PTP_MGMT_UNKNOWN_ERROR_NS until ptp4l has answered. Control thread
 * only.
 */
int ptp_watch_start(const char *sock, uint8_t domain, uint64_t margin_ns,
		    bool verbose);
bool ptp_watch_step(void);
void ptp_watch_get(bool *synced, uint64_t *error_ns);
void ptp_watch_stop(void);

#endif
