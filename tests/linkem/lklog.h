/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What linkem writes down: the per-packet CSV log (the ground truth that
 * accuracy tests compare the probe against) and the totals per direction.
 * No DPDK here: the main program hands in plain structs.
 */
#ifndef LINKEM_LKLOG_H
#define LINKEM_LKLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "impair.h"
#include "pktinfo.h"

/* Kept with each held frame (in the mbuf's private area). */
struct lk_meta {
	struct lk_pkt_info info;
	struct lk_verdict verdict;
	uint64_t arrival_ns;        /* linkem's monotonic clock */
	uint64_t arrival_real;      /* CLOCK_REALTIME, ns */
	uint32_t len;               /* frame bytes, no FCS */
	bool copy;                  /* the duplicate, not the original */
};

/*
 * Counters per direction, one list so names and slots cannot drift.
 * The four drops follow the order of enum lk_fate.
 */
#define foreach_lk_counter(_)                                               \
	_(RX, "rx")                 /* frames received on the input */     \
	_(PASS, "pass")             /* not impaired, forwarded at once */  \
	_(IMPAIRED, "impaired")     /* went through the impairment */      \
	_(FWD, "fwd")               /* impaired originals sent */          \
	_(DUP, "dup")               /* duplicate copies sent */            \
	_(HELD, "held")             /* held back to be reordered */        \
	_(REORDERED, "reordered")   /* left after a higher seq */          \
	_(DROP_LOSS, "drop_loss")   /* Bernoulli */                        \
	_(DROP_GE, "drop_ge")       /* Gilbert-Elliott */                  \
	_(DROP_QUEUE, "drop_queue") /* rate limiter queue full */          \
	_(DROP_POOL, "drop_pool")   /* no buffer to hold a copy */         \
	_(TX, "tx")                 /* impaired frames handed to output */ \
	_(TX_FAIL, "tx_fail")       /* the output port refused them */     \
	_(UNSENT_AT_EXIT, "unsent_at_exit")                                \
	_(LATE_MAX_NS, "late_max_ns") /* worst departure after deadline */ \
	_(LATE_SUM_NS, "late_sum_ns")

enum lk_counter {
#define _(sym, str) LK_CNT_##sym,
	foreach_lk_counter(_)
#undef _
	LK_CNT_COUNT,
};

struct lk_counters {
	uint64_t v[LK_CNT_COUNT];
};

struct lk_port_stats {
	uint64_t ipackets, imissed, ierrors, rx_nombuf, opackets, oerrors;
};

/* The CSV header line (column names, see tests/linkem/README.md). */
void lk_log_header(FILE *f);
/*
 * One line: a drop (verdict.fate != FWD, tx_real ignored) or a
 * departure at tx_real. reordered: 1, 0, or -1 for unknown/not
 * applicable (empty column). Nothing when f is NULL.
 */
void lk_log_packet(FILE *f, const char *dir, const struct lk_meta *m,
		   uint64_t tx_real, int reordered);
/* {"ab":{...},"ba":{...},"port_a":{...},"port_b":{...}} on one line. */
void lk_stats_write(FILE *f, const struct lk_counters *ab,
		    const struct lk_counters *ba,
		    const struct lk_port_stats ports[2]);

#endif
