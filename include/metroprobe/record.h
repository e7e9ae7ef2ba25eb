/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interval record, schema "metroprobe.interval.v1" (DESIGN.md): one JSON
 * object per line, one per probe, session and interval.
 *
 * Required keys: schema, probe, session, src, dst, start_ns, interval_ns,
 * tx_pkts, tx_bytes, rx_pkts, rx_bytes, lost, lost_fwd, lost_back,
 * reordered, duplicates, clock_synced, rtt_ns, owd_fwd_ns, owd_back_ns,
 * ipdv_ns, jitter_ns, throughput_bps, hist.
 * Optional keys written by the probe: throughput_l1_bps, late, hw_timestamps,
 * drops (object of named counters), and the measurement-quality keys
 * below (struct record_quality); a record without them is a v1 record
 * from an older probe: every quality figure reads as 0 / false, which
 * means "not stated", never "exact".
 * The delay summaries are objects {min, mean, p50, p90, p99, p999, max}
 * or null; `hist` is {"rtt": b64|null, "owd_fwd": ..., "owd_back": ...,
 * "ipdv": ...} with hist_to_base64 strings.
 */
#ifndef METROPROBE_RECORD_H
#define METROPROBE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metroprobe/hist.h"

#define RECORD_SCHEMA     "metroprobe.interval.v1"
#define RECORD_NAME_MAX   64      /* probe and session names, incl. NUL */
#define RECORD_ADDR_MAX   64      /* src/dst "ip:port" or "[ip6]:port" */
#define RECORD_MAX_DROPS  16

struct delay_summary {
	bool present;             /* false: JSON null */
	uint64_t min, mean, p50, p90, p99, p999, max;
};

/* Fills a summary from a histogram (present = !empty). */
void delay_summary_from_hist(struct delay_summary *s, const struct hist *h);

enum record_hist {
	RECORD_HIST_RTT = 0,
	RECORD_HIST_OWD_FWD,
	RECORD_HIST_OWD_BACK,
	RECORD_HIST_IPDV,
	RECORD_HIST_COUNT
};
extern const char *const record_hist_names[RECORD_HIST_COUNT];

struct record_counter {
	char name[32];
	uint64_t value;
};

/*
 * How far the interval's figures can be off, and what the host (not the
 * network) did to them. All optional keys of the record, same names:
 *
 *   ts_rx_error_ns   longest a received frame can have waited between its
 *                    arrival and its receive timestamp (software
 *                    timestamps: the longest gap between two polls of the
 *                    receiving queue; hardware timestamps: the device
 *                    clock conversion's error)
 *   ts_tx_error_ns   longest between a transmit timestamp (T1) being
 *                    written and rte_eth_tx_burst returning with the frame
 *   clock_error_ns   this probe's clock error estimate (as sent in the
 *                    STAMP Error Estimate)
 *   peer_clock_synced, peer_clock_error_ns
 *                    the reflector's Error Estimate (RFC 8762 section
 *                    4.2.1, RFC 4656 section 4.1.2): S bit of every reply,
 *                    and the largest estimate seen
 *   rtt_error_ns     bound on every RTT figure: ts_rx + ts_tx
 *   owd_error_ns     bound on every one-way figure: rtt_error +
 *                    clock_error + peer_clock_error
 *   clock_steps      CLOCK_REALTIME steps detected during the interval
 *                    (samples in flight across one are excluded and
 *                    counted in step_excluded)
 *   step_excluded    samples left out of every histogram because a clock
 *                    step fell between their T1 and T4
 *   rtt_negative     samples left out because their RTT was negative
 *   owd_fwd_negative, owd_back_negative
 *                    one-way samples below zero (kept out of the one-way
 *                    histograms only, counted here)
 *   owd_fwd_negative_min_ns, owd_back_negative_min_ns
 *                    the lowest of them (signed, <= 0; 0 when none)
 *   owd_implausible  the one-way figures disagree with the stated error:
 *                    a sample below -owd_error_ns was seen
 *   host_imissed, host_rx_nombuf, host_ierrors
 *                    the port's rte_eth_stats deltas over the interval
 *                    (all sessions of the port; 0 where the driver does
 *                    not count)
 *   poll_gap_max_ns  longest gap between two polls of the receiving queue
 *   host_loss_suspect
 *                    the host may have lost packets itself: its drop
 *                    counters moved, or a poll gap was longer than the
 *                    receive ring holds at the interval's arrival rate
 *
 * Histogram counts: rtt = rx_pkts - rtt_negative - step_excluded;
 * owd_fwd and owd_back (when clock_synced) = that minus owd_*_negative.
 */
struct record_quality {
	uint64_t ts_rx_error_ns, ts_tx_error_ns;
	uint64_t clock_error_ns;
	bool peer_clock_synced;
	uint64_t peer_clock_error_ns;
	uint64_t rtt_error_ns, owd_error_ns;
	uint64_t clock_steps, step_excluded, rtt_negative;
	uint64_t owd_fwd_negative, owd_back_negative;
	int64_t owd_fwd_negative_min_ns, owd_back_negative_min_ns;
	bool owd_implausible;
	uint64_t host_imissed, host_rx_nombuf, host_ierrors;
	uint64_t poll_gap_max_ns;
	bool host_loss_suspect;
	bool present;    /* the record carried the quality keys */
};

/*
 * The quality keys in one list, in the order record_to_json writes them
 * (after "drops"): _(field, type, merge)
 *   type   U64: non-negative integer; BOOL: true or false; NONPOS: signed
 *          integer <= 0
 *   merge  how record_merge combines two records' values: MAX for
 *          bounds, ADD for counts, MIN for the lowest negative samples,
 *          OR for the flags that warn, AND for peer_clock_synced
 * The collector stores the figures in this order: append new keys at
 * the end, never reorder.
 */
#define foreach_record_quality_key                 \
	_(ts_rx_error_ns, U64, MAX)                \
	_(ts_tx_error_ns, U64, MAX)                \
	_(clock_error_ns, U64, MAX)                \
	_(peer_clock_synced, BOOL, AND)            \
	_(peer_clock_error_ns, U64, MAX)           \
	_(rtt_error_ns, U64, MAX)                  \
	_(owd_error_ns, U64, MAX)                  \
	_(clock_steps, U64, ADD)                   \
	_(step_excluded, U64, ADD)                 \
	_(rtt_negative, U64, ADD)                  \
	_(owd_fwd_negative, U64, ADD)              \
	_(owd_back_negative, U64, ADD)             \
	_(owd_fwd_negative_min_ns, NONPOS, MIN)    \
	_(owd_back_negative_min_ns, NONPOS, MIN)   \
	_(owd_implausible, BOOL, OR)               \
	_(host_imissed, U64, ADD)                  \
	_(host_rx_nombuf, U64, ADD)                \
	_(host_ierrors, U64, ADD)                  \
	_(poll_gap_max_ns, U64, MAX)               \
	_(host_loss_suspect, BOOL, OR)

enum record_quality_type {
	RECORD_Q_U64,
	RECORD_Q_BOOL,
	RECORD_Q_NONPOS,
};

enum record_quality_merge {
	RECORD_Q_MAX,
	RECORD_Q_ADD,
	RECORD_Q_MIN,
	RECORD_Q_OR,
	RECORD_Q_AND,
};

struct record_quality_key {
	const char *name;                  /* JSON key = field name */
	enum record_quality_type type;
	enum record_quality_merge merge;
	size_t off;                        /* in struct record_quality */
};

enum {
#define _(f, type, merge) RECORD_Q_KEY_##f,
	foreach_record_quality_key
#undef _
	RECORD_QUALITY_NKEYS
};

/* foreach_record_quality_key as a table, index RECORD_Q_KEY_<field>. */
extern const struct record_quality_key
	record_quality_keys[RECORD_QUALITY_NKEYS];

/* The field of key k: a uint64_t (U64), bool (BOOL) or int64_t (NONPOS). */
static inline void *
record_quality_field(struct record_quality *q, unsigned k)
{
	return (char *)q + record_quality_keys[k].off;
}

static inline const void *
record_quality_field_c(const struct record_quality *q, unsigned k)
{
	return (const char *)q + record_quality_keys[k].off;
}

/*
 * Merges r into acc by each key's rule (foreach_record_quality_key).
 * Only records that stated their quality take part: an r without it
 * changes nothing, an acc without it takes r's figures as they are; so
 * peer_clock_synced holds when it held for every record that said, and
 * acc->present when any record said.
 */
void record_quality_merge(struct record_quality *acc,
			  const struct record_quality *r);

struct interval_record {
	char probe[RECORD_NAME_MAX];
	char session[RECORD_NAME_MAX];
	char src[RECORD_ADDR_MAX];
	char dst[RECORD_ADDR_MAX];
	uint64_t start_ns;
	uint64_t interval_ns;
	uint64_t tx_pkts, tx_bytes;
	uint64_t rx_pkts, rx_bytes;
	uint64_t lost, lost_fwd, lost_back;
	uint64_t reordered, duplicates;
	uint64_t late;
	bool clock_synced;
	bool hw_timestamps;
	struct delay_summary rtt, owd_fwd, owd_back, ipdv;
	uint64_t jitter_ns;
	double throughput_bps;      /* bits/s of received frames (L2) */
	double throughput_l1_bps;   /* + 20 octets per frame (preamble, IFG) */
	/* Histograms; NULL means none (JSON null). Owned by the record when
	 * filled by record_from_json; freed by record_free. */
	struct hist *hist[RECORD_HIST_COUNT];
	/* Bit i set: hist[i] was allocated by record_from_json or
	 * record_merge and is freed by record_free. A producer may point
	 * hist[i] at its own histograms (bit clear) for record_to_json. */
	uint8_t hist_owned;
	/* Bit i set: hist[i] is a buffer of the record_parser that decoded
	 * the record in one pass (record_parse_json), which also kept the
	 * serialised form (record_hist_pairs). */
	uint8_t hist_parsed;
	unsigned n_drops;
	struct record_counter drops[RECORD_MAX_DROPS];
	struct record_quality q;
};

void record_init(struct interval_record *r);
/* Frees the histograms (if owned) and re-inits. */
void record_free(struct interval_record *r);

/*
 * Merges r into acc, for rollups and SLA windows: counters add up,
 * histograms merge exactly (acc allocates its own when needed), delay
 * summaries are recomputed from the merged histograms (never averaged),
 * jitter takes the maximum, throughput is recomputed over the merged
 * span. acc must be initialised (record_init); an empty acc takes r's
 * identity (probe, session, src, dst, start_ns). The caller sets
 * acc->start_ns and acc->interval_ns for the window. Returns 0 or -ENOMEM.
 * Details: "empty" means acc->probe[0] == '\0'; start_ns becomes the
 * earliest; interval_ns becomes the sum of the merged intervals (until
 * the caller overrides it) and the throughputs their time-weighted mean;
 * clock_synced and hw_timestamps hold only if they hold for all. A
 * summary without a histogram cannot be merged exactly: it is kept when
 * it is the only one for its metric, and becomes null otherwise. Drop
 * counters add up by name; past RECORD_MAX_DROPS names the last slot is
 * renamed "other" and takes the rest, so totals are kept. The quality
 * figures merge by record_quality_merge: bounds (ts_*_error, clock_error,
 * peer_clock_error, rtt_error, owd_error, poll_gap_max) take the
 * maximum, counts (clock_steps, step_excluded, rtt_negative,
 * owd_*_negative, host_*) add up, *_negative_min_ns take the minimum,
 * owd_implausible and host_loss_suspect hold if they hold for any,
 * peer_clock_synced if it holds for every record that stated quality;
 * q.present when any record stated it.
 */
int record_merge(struct interval_record *acc, const struct interval_record *r);

/*
 * record_merge without recomputing the delay summaries of the metrics
 * that have a histogram in acc (their summaries are stale until
 * record_finish_summaries): for accumulators that take many merges and
 * read their percentiles from the histograms, or read the summaries once
 * at the end. Any sequence of record_merge_hists_only followed by
 * record_finish_summaries leaves acc exactly as the same sequence of
 * record_merge would. Returns 0 or -ENOMEM (acc untouched).
 */
int record_merge_hists_only(struct interval_record *acc,
			    const struct interval_record *r);
/* Recomputes every summary that has a histogram in acc from it. */
void record_finish_summaries(struct interval_record *acc);

/*
 * Encodes one JSON object (no trailing newline). Returns a malloc'd
 * string or NULL on allocation failure (or a name that is not UTF-8).
 * The optional keys are always written, but the quality keys: all of
 * them when r->q.present, none otherwise. Counts above INT64_MAX (JSON
 * integers are signed) are written as INT64_MAX, a *_negative_min_ns
 * above 0 as 0.
 */
char *record_to_json(const struct interval_record *r);

/*
 * Decodes and validates one JSON line. On error returns -EINVAL and
 * writes a message naming the key ("missing key 'lost'", "key 'rx_pkts':
 * expected a non-negative integer", "unknown schema 'x'") to err.
 * Histograms are allocated (the caller calls record_free); on error r
 * is left empty. Also rejected, with the key named: strings empty, too
 * long or holding NUL, summaries whose values are not ordered, bad
 * histograms, duplicate keys, a quality key of the wrong type or sign.
 * The quality keys are each optional; any one of them sets r->q.present.
 * Keys the schema does not define are ignored (a later v1 producer may
 * add optional keys).
 */
int record_from_json(const char *json, size_t len, struct interval_record *r,
		     char *err, size_t errlen);

/*
 * record_from_json decodes a line in one pass (each value written
 * straight into the record) when the line is plain: printable ASCII
 * without escapes, no error, unknown keys holding scalars. Any other
 * line, and every line with an error, goes to this decoder, a jansson
 * DOM: the reference, which writes every error message. Same contract
 * as record_from_json, and the same result on every line (the one-pass
 * decoder only takes lines it decodes to the same record).
 */
int record_from_json_dom(const char *json, size_t len,
			 struct interval_record *r, char *err, size_t errlen);

/*
 * A decoder for many lines in a row (the collector's ingest).
 * record_parse_json is record_from_json (same checks, same errors, the
 * same record field for field) except that histograms decoded in one
 * pass live in the parser: r->hist[i] points there with its hist_owned
 * bit clear, read-only for the caller, valid until the next
 * record_parse_json on the same parser or record_parser_free. Buffers
 * are reused and only the buckets the previous record used are zeroed,
 * so a line costs what its text holds, with no allocation. The caller
 * still calls record_free(r) (lines the DOM decoder took may own their
 * histograms). One parser per thread: it is not locked.
 */
struct record_parser;
struct record_parser *record_parser_new(void);       /* NULL: no memory */
void record_parser_free(struct record_parser *p);
int record_parse_json(struct record_parser *p, const char *json, size_t len,
		      struct interval_record *r, char *err, size_t errlen);
/* Lines decoded in one pass, and lines left to the DOM decoder. */
void record_parser_counts(const struct record_parser *p,
			  uint64_t *n_onepass, uint64_t *n_dom);

/*
 * The bucket list of histogram i as its base64 string held it, for a
 * record record_parse_json decoded in one pass (bit i of hist_parsed),
 * valid as long as the histogram is: 0 with *pairs set, else -ENOENT.
 * Lets the collector store the list as it came instead of walking the
 * buckets (its stored form uses the same layout).
 */
int record_hist_pairs(const struct interval_record *r, unsigned i,
		      struct hist_pairs *pairs);

#endif
