/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Types of a running probe (prototypes live in each module's header:
 * port.h, neigh.h, sender.h, reflector.h, rx.h, tx.h, interval.h,
 * control.h, telemetry.h). Init code fills them; after launch each queue
 * pair of a port (a struct probe_queue: a port with queues=N has N of them,
 * chained from the first), with the sessions it sends, belongs to exactly
 * one data-plane lcore (its worker), which is the only writer of
 * everything marked "worker". The control thread reads counters and takes
 * closed interval slots through the slot state (release/acquire), never
 * through a lock. The queues of one port share only the neighbour table
 * (rare writes, under its lock) and the read-only session map.
 */
#ifndef PROBE_PROBE_T_H
#define PROBE_PROBE_T_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_spinlock.h>
#include <rte_udp.h>

#include "metroprobe/delay.h"
#include "metroprobe/hwts.h"
#include "metroprobe/mp_time.h"
#include "metroprobe/seqt.h"
#include "metroprobe/stamp.h"

#include "capture.h"
#include "clock.h"
#include "conf.h"
#include "drops.h"

struct exporter;

#define PROBE_BURST       32
#define PROBE_TX_STAGE    128
#define PROBE_NEIGH_MAX   64

/* ---- the port's own losses, per interval (control thread) ---- */
struct host_stats_entry {
	uint64_t index;                  /* interval index (start / interval) */
	uint64_t imissed, rx_nombuf, ierrors, ipackets;
};

struct host_stats {
	struct host_stats_entry *e;      /* ring of n, by index % n */
	unsigned n;
	uint64_t index;                  /* the interval being counted */
	struct host_stats_entry prev;    /* counters at that interval's start */
	bool have_prev;
};

/* ---- neighbours (ARP / NDP) ---- */
struct neigh_entry {
	struct probe_addr ip;
	uint8_t mac[6];
	bool valid;
	bool is_static;
	uint64_t next_req_tsc;
	uint64_t last_reply_tsc;
};

/* One per port, shared by its queues: ARP/NDP answers arrive on any of
 * them. Writers hold the lock and bump gen; a sender copies the address
 * into its frame template when gen moves (housekeeping), so the packet
 * path never reads the table. */
struct neigh_table {
	struct neigh_entry e[PROBE_NEIGH_MAX];
	unsigned n;
	rte_spinlock_t lock;
	uint32_t gen;
};

/* ---- interval slots ---- */
enum slot_state {
	SLOT_FREE = 0,   /* control owns it, empty */
	SLOT_OPEN,       /* worker fills it */
	SLOT_READY,      /* closed after the loss timeout; control emits it */
};

struct interval_slot {
	uint32_t state;
	uint64_t index;            /* start_ns = index * interval_ns */
	uint32_t n_intervals;      /* > 1 only after a record overrun */
	bool ended;
	uint64_t end_tsc;
	uint32_t first_seq, end_seq;
	uint64_t tx_pkts, tx_bytes;
	uint64_t rx_pkts, rx_bytes;
	uint64_t reordered, duplicates, late;
	uint64_t lost, lost_fwd, lost_back;
	/* forward-loss marks: d = sender seq - reflector seq (see slot_close)
	 * at the lowest and the highest sender seq received */
	uint32_t seq_lo, seq_hi;
	int64_t d_lo, d_hi;
	bool have_refl;
	bool all_synced;
	/* how far this interval's timestamps can be off (record_quality) */
	uint64_t rx_gap_max_tsc;   /* longest poll gap before a reply's T4 */
	uint64_t rx_err_max_tsc;   /* largest bound of a reply's T4 */
	uint64_t tx_lag_max_tsc;   /* longest T1 to rte_eth_tx_burst return */
	uint64_t tx_late_max_tsc;  /* longest a departure waited past its
				    * time (the loop was off the CPU: the
				    * packets due go out in one burst) */
	bool peer_synced;          /* every reply had the S bit */
	uint64_t peer_error_ns;    /* largest reflector error estimate */
	uint32_t clock_steps;      /* CLOCK_REALTIME steps in the interval */
	uint64_t step_abs_max_ns;  /* the largest of them */
	uint64_t step_excluded;    /* replies in flight across a step */
	struct delay_stats ds;
};

enum session_state {
	SESSION_WAIT_NEIGH = 0,
	SESSION_RUNNING,
	SESSION_DRAINING,
	SESSION_DONE,
};

struct probe_queue;
struct capacity_run;

struct probe_session {
	const struct session_conf *conf;
	struct probe_queue *port;
	unsigned idx;
	enum stamp_mode mode;
	const struct stamp_key *key;
	struct stamp_hmac *hmac;   /* authenticated mode, this lcore only */
	/* pre-built frame: only seq, timestamps and checksum change */
	uint8_t *tmpl;
	uint16_t pkt_len;          /* frame without FCS */
	uint16_t l3_off, l4_off, payload_off;
	uint16_t ck_len;           /* octets of the STAMP fields that change */
	uint64_t ck_rest;          /* checksum sum of everything else */
	uint16_t neigh_idx;
	uint32_t neigh_gen;        /* table generation the template has */
	uint32_t tmpl_gen;         /* template version (struct tx_tag) */
	bool neigh_valid;          /* the template has the next hop's MAC */
	uint16_t errest;
	/* pacing (worker): the period in TSC ticks << 16; the next
	 * departure as whole ticks plus 1/65536ths (no overflow however
	 * long the TSC has run: see session_pace_next) */
	uint64_t period_q16;
	uint64_t next_tsc;
	uint32_t next_frac;
	uint64_t stop_tsc;
	uint32_t next_seq;
	uint32_t state;            /* enum session_state, read by control */
	uint32_t stop_req;         /* set by control */
	struct capacity_run *cap;  /* type = capacity, else NULL */
	/* measurement (worker) */
	struct seqt seqt;
	struct delay_stream stream;   /* IPDV and jitter, across intervals */
	struct interval_slot *slots;
	uint32_t n_slots;
	uint64_t cur;              /* slot counter of the open slot */
	struct interval_slot *cur_slot;   /* session_slot(s, cur) */
	uint64_t oldest;           /* oldest slot not yet closed */
	uint64_t emit;             /* control: next slot to emit */
	uint64_t next_boundary_tsc;
	uint64_t interval_tsc;
	uint64_t timeout_tsc;
	int64_t fwd_lost_base;     /* forward losses before the open slots */
	int64_t d_offset;          /* reflector numbering offset */
	bool have_d_offset;
	/* totals (worker), for telemetry and the end-of-session summary */
	uint64_t tx_total, rx_total, lost_total, dup_total, late_total;
	uint32_t refl_first, refl_last;
	bool any_refl;
	/* after a clock step: replies to packets sent before it (seq below
	 * step_seq) mix two clocks and are left out, until step_until_tsc */
	bool step_active;
	uint32_t step_seq;
	uint64_t step_until_tsc;
	uint16_t peer_errest_raw;  /* last reflector error estimate seen */
	uint64_t peer_errest_ns;   /* and its value */
	bool summary_logged;       /* control */
} __rte_cache_aligned;

/* The next departure: one period on, the fraction carried. */
static inline void
session_pace_next(struct probe_session *s)
{
	uint64_t f = s->next_frac + (s->period_q16 & 0xffff);

	s->next_tsc += (s->period_q16 >> 16) + (f >> 16);
	s->next_frac = (uint32_t)(f & 0xffff);
}

static inline void
session_pace_from(struct probe_session *s, uint64_t tsc)
{
	s->next_tsc = tsc;
	s->next_frac = 0;
}

static inline struct interval_slot *
session_slot(struct probe_session *s, uint64_t n)
{
	return &s->slots[n % s->n_slots];
}

/* ---- stateful reflector ---- */
struct refl_key {
	uint8_t addr[16];
	uint16_t sport;
	uint16_t ssid;
	uint8_t family;
	uint8_t pad[3];
};

struct refl_state {
	uint32_t seq;
	uint64_t pkts;
};

/* ---- timestamps on the wire ---- */
/* One instant in both STAMP formats (RFC 8762 section 4.2.1): a burst
 * is stamped with one reading, converted once, not once per packet. */
struct wire_time {
	uint64_t ns;               /* Unix ns */
	uint64_t ntp;
	uint64_t ptp;
};

static inline void
wire_time_set(struct wire_time *t, uint64_t ns, int32_t tai_offset_s)
{
	t->ns = ns;
	t->ntp = mp_time_ns_to_ntp(ns);
	t->ptp = mp_time_ns_to_ptp(ns, tai_offset_s);
}

/* ---- test packets built from the template ---- */
/* In the private area of each mbuf of a port's transmit pool: which
 * session's template (and which version of it) the data holds. An mbuf
 * that comes back to the pool unchanged (a NIC only reads it) is reused
 * with only the changing fields written; one that was received (a
 * loopback device hands our own mbuf to the reflector) is cleared. */
struct tx_tag {
	uint32_t session;          /* session index + 1; 0: none */
	uint32_t gen;              /* the session's template version */
};

static inline struct tx_tag *
tx_tag(struct rte_mbuf *m)
{
	return (struct tx_tag *)rte_mbuf_to_priv(m);
}

static inline void
tx_tag_clear(struct rte_mbuf *m)
{
	tx_tag(m)->session = 0;
}

/* ---- transmit staging ---- */
enum tx_kind {
	TX_RAW = 0,        /* ARP/NDP: sent as built */
	TX_SENDER,         /* T1 and HMAC written just before transmit */
	TX_REFLECT,        /* T3 (and HMAC) written just before transmit */
};

struct tx_meta {
	uint8_t kind;
	uint8_t ipv6;
	uint16_t l3_off, l4_off, payload_off;
	uint16_t payload_len;
	uint16_t ck_old;           /* TX_REFLECT: sum of the STAMP fields as
				    * received; 0 with ck_full */
	uint8_t ck_full;           /* TX_REFLECT: checksum from scratch */
	struct probe_session *session;
	uint32_t seq;
};

struct probe_queue {
	const struct port_conf *conf;
	unsigned idx;                    /* configured port */
	uint16_t queue;                  /* this RX/TX queue pair */
	struct probe_queue *first;        /* queue 0 of the port */
	struct probe_queue *next;         /* next queue of the port, or NULL */
	struct rte_ring *handoff;        /* replies to this queue's sessions
					  * received on another (queues > 1) */
	uint16_t port_id;
	int socket;
	struct rte_ether_addr mac;
	struct rte_mempool *pool;
	struct rte_mempool *tx_pool;     /* test packets (NULL: no session) */
	struct neigh_table *neigh;       /* first->neigh_store */
	struct neigh_table neigh_store;
	struct probe_session **sessions; /* the sessions this queue sends */
	unsigned n_sessions;
	uint16_t *session_by_port;       /* UDP port -> app session index + 1,
					  * one table per port, read-only */
	struct rte_hash *refl_hash;
	struct refl_state *refl_states;
	struct refl_key refl_last_key;   /* worker: last session found */
	int32_t refl_last_pos;
	uint16_t refl_errest;
	struct stamp_hmac *refl_hmac;
	bool hw_ts;                      /* receive timestamps from the NIC */
	uint32_t rx_ring_frames;         /* a receive queue's capacity */
	bool cksum_partial_ok;           /* a kernel peer's partial checksums
					  * can arrive (af_packet, tap) */
	int ts_offset;
	uint64_t ts_flag;
	/* worker: the port's device clock conversion and what became of
	 * each stamp (hwts_port.h) */
	struct hwts_conv hw_conv;
	uint64_t hw_gen;
	uint64_t hw_ts_count[HWTS_STATUS_N];
	uint64_t hw_ts_missing;          /* frames the NIC did not stamp */
	struct capture_ring *capture;  /* this lcore's capture ring, or NULL */
	struct host_stats *host;         /* queue 0: rte_eth_stats per
					  * interval (control) */
	/* worker */
	uint64_t rx_poll_tsc;            /* the last receive poll */
	/* the reflector's timestamp error, stated in its Error Estimate:
	 * longest poll gap and T3-to-burst-return, this window and the one
	 * before (reflector_errest_tick) */
	uint64_t ts_gap_win_tsc[2];
	uint64_t ts_lag_win_tsc[2];
	uint64_t errest_next_tsc;
	uint32_t errest_sync_gen;        /* sync generation it was made from */
	unsigned tx_first;               /* session that sends first */
	struct rte_mbuf *tx_pkts[PROBE_TX_STAGE];
	struct tx_meta tx_meta[PROBE_TX_STAGE];
	uint16_t tx_n;
	uint64_t rx_pkts, tx_pkts_total, reflected, arp_replies;
	uint64_t refl_sessions;
	uint64_t handed_off;             /* replies passed to their queue */
	uint64_t frames_copied;          /* test frames copied from a template */
	uint64_t frames_reused;          /* test frames that still held it */
	uint64_t cksum_completed;        /* partial checksums completed */
	uint64_t drops[PROBE_DROP_N];
} __rte_cache_aligned;

/* The probe's own clock as it stands: written by the control thread
 * (control.c), read by the data plane with relaxed loads. */
struct clock_sync_state {
	bool synced;                     /* our clock: S bit */
	uint64_t error_ns;               /* our clock's error estimate */
	uint32_t gen;                    /* bumped after every change */
};

/*
 * What the packet path needs of the probe, copied into each worker before
 * launch (as DPDK's l3fwd keeps a per-lcore configuration): read-only
 * after launch, on the worker's own cache lines. The packet path reads
 * this, never the app it was copied from.
 */
struct worker_rt {
	uint64_t tsc_hz;                 /* measured (clock.h) */
	uint64_t interval_ns;
	int32_t tai_offset_s;
	uint32_t idle_sleep_us;          /* 0: busy poll */
	uint32_t idle_polls;
	struct probe_session *sessions;  /* every session, by index */
	const struct clock_sync_state *sync;
	const uint32_t *quit;            /* control: leave the loop */
	bool inline_control;             /* no control thread: this lcore
					  * runs the control steps */
	struct probe_app *app;           /* for those only */
};

struct probe_worker {
	unsigned lcore;
	struct worker_rt rt;
	struct probe_queue *queues[PROBE_MAX_PORTS * PROBE_MAX_QUEUES];
	unsigned n_queues;               /* queue pairs this lcore polls */
	struct probe_clock clk;
	struct wire_time rx_wire;        /* last receive time, converted */
	uint64_t rx_gap_tsc;             /* the burst in hand: time since the
					  * poll before it (its frames waited
					  * at most this long for T2/T4) */
	uint64_t rx_err_tsc;             /* the frame in hand: its receive
					  * timestamp's bound (the poll gap, or
					  * the hardware conversion's) */
	uint64_t sleeps;
	uint64_t loops;
} __rte_cache_aligned;

struct probe_app {
	struct probe_conf conf;
	struct probe_queue ports[PROBE_MAX_PORTS];
	unsigned n_ports;
	struct probe_session *sessions;
	unsigned n_sessions;
	struct probe_worker workers[RTE_MAX_LCORE];
	unsigned n_workers;
	bool single_lcore;               /* one worker, on the main lcore */
	struct capture_ring *capture_rings[RTE_MAX_LCORE];
	unsigned n_capture;
	FILE *records;
	struct exporter *exp;            /* NULL: no --collector */
	pthread_mutex_t exp_lock;        /* exp vs. telemetry at exit */
	struct clock_sync_state sync;
	uint64_t tsc_hz;
	uint32_t quit;                   /* workers leave their loop */
	uint32_t stopping;               /* control: stop requested */
	uint64_t records_emitted;
	uint64_t export_errors;          /* records export_submit refused */
	uint64_t control_max_tsc;        /* longest control step */
	uint64_t start_ns;
};

/* Every queue pair of a port: for (q = port; q; q = q->next) */
#define PORT_FOREACH_QUEUE(q, port) \
	for (struct probe_queue *q = (port); q != NULL; q = q->next)

/* A counter of a port summed over its queues (read by control). */
#define PORT_SUM(port, field) ({ \
	uint64_t sum_ = 0; \
	PORT_FOREACH_QUEUE(q_, port) \
		sum_ += __atomic_load_n(&q_->field, __ATOMIC_RELAXED); \
	sum_; })

/* Receive time of a frame passed to another queue (mbuf dynamic field). */
extern int probe_rx_ns_offset;

static inline void
port_drop(struct probe_queue *p, enum probe_drop reason, struct rte_mbuf *m)
{
	p->drops[reason]++;
	if (m != NULL)
		rte_pktmbuf_free(m);
}


#endif
