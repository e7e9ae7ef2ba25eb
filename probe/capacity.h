/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capacity sessions: a sender session whose rate steps through a list of
 * percentages of a committed information rate (CIR), each step for a set
 * time, in the manner of the step load of the ITU-T Y.1564 service
 * configuration test. Per step the probe reports offered and
 * received rates, loss ratio and delay under load, and at the end the
 * highest rate held within the SLA's loss bound.
 *
 * Rates are bits per second of Ethernet frames counted from the
 * destination MAC address to the FCS included (layer 2, as rate_bps),
 * the same frame bytes as the interval records' throughput_bps; the
 * layer-1 figures add 20 octets per frame (preamble, SFD, inter-frame
 * gap).
 *
 * Steps are computed from per-step counters, not from interval records:
 * the worker notes the first sender sequence number of each step, and a
 * reflected packet is counted in the step that sent it, whenever it comes
 * back. So a step's loss is exact (packets of the step not back within
 * the loss timeout) and steps need not align with record intervals.
 */
#ifndef PROBE_CAPACITY_H
#define PROBE_CAPACITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metroprobe/config.h"
#include "metroprobe/delay.h"
#include "metroprobe/hist.h"

#include "conf.h"

struct probe_app;
struct probe_session;
struct probe_worker;

/* Worker-side state of one step; read by control once the session is
 * SESSION_DONE. */
struct capacity_step {
	uint32_t first_seq;        /* sender seq of the step's first packet */
	uint64_t start_tsc;
	uint64_t tx_pkts;
	uint64_t rx_pkts;
	uint64_t dup_pkts;
	struct hist rtt;
	struct hist owd_fwd;
	bool all_synced;
};

struct capacity_run {
	unsigned cur;              /* step being sent */
	unsigned n_started;        /* steps that began */
	uint64_t step_tsc;         /* step duration in TSC cycles */
	uint64_t start_tsc;
	uint64_t next_step_tsc;    /* end of the current step */
	uint64_t period_q16[PROBE_CAP_MAX_STEPS];
	uint64_t last_tsc;         /* last housekeeping while running */
	bool reported;             /* control */
	struct capacity_step steps[PROBE_CAP_MAX_STEPS];
};

/* config.c: the capacity keys of a [session.NAME] section (type, cir,
 * steps, step_duration, loss_max). Fills sc->cap and, for a capacity
 * session, rate_bps (the highest step) and duration_ns. */
int capacity_conf_parse(const struct mp_config *c, const char *sec,
			struct session_conf *sc, char *err, size_t errlen);

/* sender.c hooks */
int capacity_setup(struct probe_app *app, struct probe_session *s);
void capacity_start(struct probe_session *s, uint64_t now);
/* housekeeping while running: notes the time (an early stop cuts the
 * last step short) */
void capacity_tick(struct probe_session *s, uint64_t now);
/* session_tx, when the next deadline reaches the end of the step: the
 * next step's rate, deadlines restarted on the step boundary, so packets
 * belong to the step their deadline falls in */
void capacity_next_step(struct probe_session *s);
void capacity_rx(struct probe_session *s, uint32_t seq,
		 const struct stamp_times *t, bool synced);

/* interval.c: per-step lines, the summary line and the table, once the
 * session is done. */
void capacity_report(struct probe_app *app, struct probe_session *s);

#endif
