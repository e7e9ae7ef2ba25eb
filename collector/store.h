/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Storage interface of the collector. A back-end fills a table of
 * operations in its open function, store_init completes it with the
 * defaults of the optional ones; ingest and reports only ever call
 * through the store_xxx() wrappers (libpcap-style), so a second back-end
 * (ClickHouse over HTTP) can be added without touching them.
 *
 * Rollups are interval records too: a 1-minute rollup of a link is the
 * record_merge() of its raw records in that minute, with start_ns on the
 * minute and interval_ns = 60 s, so reports read raw data and rollups
 * the same way.
 */
#ifndef METROPROBE_COLLECTOR_STORE_H
#define METROPROBE_COLLECTOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metroprobe/record.h"

#define STORE_RES_RAW    0ULL
#define STORE_RES_MINUTE 60000000000ULL
#define STORE_RES_HOUR   3600000000000ULL

struct store;

struct store_retention {
	uint64_t raw_ns;       /* raw interval records (default 7 days) */
	uint64_t minute_ns;    /* 1-minute rollups (default 90 days) */
	uint64_t hour_ns;      /* 1-hour rollups (default 3 years) */
};

struct store_query {
	uint64_t from_ns;      /* records with from_ns <= start_ns < to_ns */
	uint64_t to_ns;
	const char *probe;     /* NULL: any */
	const char *session;   /* NULL: any */
	uint64_t resolution_ns;   /* STORE_RES_RAW, _MINUTE or _HOUR */
};

/* Called for each record, ordered by (probe, session, start_ns). A non-zero
 * return stops the scan and is returned by store_scan. The record (and
 * its histograms) is only valid during the call. */
typedef int (*store_record_fn)(const struct interval_record *r, void *arg);

/* Source of records for insert_stream: fills *r (record_init'ed by the
 * caller before each call, record_free'd by the store after use) and
 * returns 1, returns 0 at the end, or a negative errno to abort (the
 * whole transaction is rolled back and that value returned). */
typedef int (*store_next_fn)(struct interval_record *r, void *arg);

/*
 * Per-minute figures, kept beside every 1-minute rollup (written when
 * the rollup is built, from its histograms), so that an SLA evaluation at
 * a delta-t of one minute reads each minute's verdict inputs without
 * decoding four histograms. q[k] of a histogram is hist_quantile(h,
 * store_fig_pct[k] / 100.0) of the rollup's merged histogram, exactly.
 * A histogram absent from the rollup has count 0.
 */
#define STORE_FIG_NPCT 5
static const double store_fig_pct[STORE_FIG_NPCT] = {
	50.0, 90.0, 95.0, 99.0, 99.9,
};

/* Index k of quantile q (a fraction) in store_fig_pct, or -1. */
static inline int
store_fig_index(double q)
{
	int k;

	for (k = 0; k < STORE_FIG_NPCT; k++)
		if (store_fig_pct[k] / 100.0 == q)
			return k;
	return -1;
}

struct store_hist_figs {
	uint64_t count;            /* 0: empty or absent */
	uint64_t min, max;
	uint64_t q[STORE_FIG_NPCT];
};

struct store_minute_figs {
	const char *probe;         /* valid during the callback */
	const char *session;
	uint64_t start_ns;
	uint64_t tx_pkts, rx_pkts, lost;
	bool clock_synced;
	double throughput_bps, throughput_l1_bps;
	struct store_hist_figs h[RECORD_HIST_COUNT];
	/* the rollup's measurement quality (record.h): q_stated when a
	 * record of the minute stated it, then its largest bounds and
	 * whether the host may have lost packets itself */
	bool q_stated;
	bool host_loss_suspect;
	uint64_t rtt_error_ns, owd_error_ns;
};

/* Called per minute, ordered by (probe, session, start_ns) like
 * store_record_fn; a non-zero return stops the scan. */
typedef int (*store_figs_fn)(const struct store_minute_figs *f, void *arg);

/* Called per hour rollup that is exactly the merge of the 1-minute
 * rollups stored for its hour (see store_ops.reader_exact_hours). */
typedef int (*store_hour_fn)(const char *probe, const char *session,
			     uint64_t start_ns, void *arg);

/* A reader: one read snapshot for many queries (every call through it
 * sees the same data) where the back-end has snapshots; see
 * store_ops.reader_open. */
struct store_reader;

struct store_stats {
	uint64_t raw_records;
	uint64_t minute_records;
	uint64_t hour_records;
	uint64_t bytes;          /* size on disk, where known */
};

/*
 * The operations of a back-end. Its open function fills in the mandatory
 * ones and those it has, and hands the table to store_init, which gives
 * the others their default (the "Default:" of each below). Each gets the
 * store as its first argument.
 */
struct store_ops {
	const char *name;
	/* Mandatory. Stores n records in one durable transaction: all or
	 * nothing. Records already stored (same probe, session, start_ns)
	 * are left as they are and counted in *n_dup. */
	int (*insert)(struct store *s, const struct interval_record *recs,
		      size_t n, size_t *n_new, size_t *n_dup,
		      char *err, size_t errlen);
	/* Mandatory. Like insert, but pulls the records one at a time, so
	 * a large request holds one decoded record in memory, not all. */
	int (*insert_stream)(struct store *s, store_next_fn next, void *arg,
			     size_t *n_new, size_t *n_dup,
			     char *err, size_t errlen);
	/* Mandatory. */
	int (*scan)(struct store *s, const struct store_query *q,
		    store_record_fn fn, void *arg);
	/* Mandatory. Builds the rollups due up to now_ns and applies
	 * retention. */
	int (*maintain)(struct store *s, uint64_t now_ns);
	/* Mandatory. */
	void (*close)(struct store *s);

	/* Default: -ENOTSUP. */
	int (*stats)(struct store *s, struct store_stats *out);
	/* Calls fn with the latest raw record of every link (for /metrics
	 * after a restart). Default: -ENOTSUP. */
	int (*latest)(struct store *s, store_record_fn fn, void *arg);

	/* One read snapshot for many queries, which long reports use. A
	 * reader is used by one thread at a time; a callback may call
	 * another of the reader_* operations (or reader_scan at another
	 * resolution) on the same reader, not the one that is calling it.
	 * Default: a reader without a snapshot, each reader_scan a scan of
	 * its own. */
	int (*reader_open)(struct store *s, struct store_reader **out);
	void (*reader_close)(struct store *s, struct store_reader *rd);
	/* scan within the snapshot. */
	int (*reader_scan)(struct store *s, struct store_reader *rd,
			   const struct store_query *q, store_record_fn fn,
			   void *arg);
	/* The per-minute figures of the 1-minute rollups of q (its
	 * resolution_ns is ignored). Without hists, only the counters,
	 * flags and throughputs are read, and h[i].count is 1 for a
	 * non-empty histogram (its other figures 0). Default: -ENOTSUP
	 * (a report then reads the rollups). */
	int (*reader_figs)(struct store *s, struct store_reader *rd,
			   const struct store_query *q, bool hists,
			   store_figs_fn fn, void *arg);
	/* Hour rollups of q whose histograms and counters are exactly the
	 * merge of the 1-minute rollups stored for that hour: built from
	 * them, not marked for a rebuild since, and no minute of the hour
	 * dropped by retention. Default: -ENOTSUP. */
	int (*reader_exact_hours)(struct store *s, struct store_reader *rd,
				  const struct store_query *q,
				  store_hour_fn fn, void *arg);
};

struct store {
	struct store_ops ops;      /* complete: see store_init */
};

/*
 * Called by a back-end's open function with its table of operations:
 * copies it into s->ops and gives every optional operation left NULL its
 * default (libpcap's initialize_ops), so that each store_xxx() below is
 * one line and no caller ever tests for an operation. Returns 0, or
 * -EINVAL with a message in err for a table without a mandatory
 * operation, or with some of reader_open, reader_close and reader_scan
 * but not all three (a reader is the back-end's or the default one,
 * never half of each), or with reader_figs or reader_exact_hours but not
 * the back-end's own readers.
 */
int store_init(struct store *s, const struct store_ops *ops, char *err,
	       size_t errlen);

static inline int
store_insert(struct store *s, const struct interval_record *recs, size_t n,
	     size_t *n_new, size_t *n_dup, char *err, size_t errlen)
{
	return s->ops.insert(s, recs, n, n_new, n_dup, err, errlen);
}

static inline int
store_insert_stream(struct store *s, store_next_fn next, void *arg,
		    size_t *n_new, size_t *n_dup, char *err, size_t errlen)
{
	return s->ops.insert_stream(s, next, arg, n_new, n_dup, err, errlen);
}

static inline int
store_scan(struct store *s, const struct store_query *q, store_record_fn fn,
	   void *arg)
{
	return s->ops.scan(s, q, fn, arg);
}

static inline int
store_maintain(struct store *s, uint64_t now_ns)
{
	return s->ops.maintain(s, now_ns);
}

static inline void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops.close(s);
}

static inline int
store_stats(struct store *s, struct store_stats *out)
{
	return s->ops.stats(s, out);
}

static inline int
store_latest(struct store *s, store_record_fn fn, void *arg)
{
	return s->ops.latest(s, fn, arg);
}

static inline int
store_reader_open(struct store *s, struct store_reader **out)
{
	return s->ops.reader_open(s, out);
}

static inline void
store_reader_close(struct store *s, struct store_reader *rd)
{
	if (rd != NULL)
		s->ops.reader_close(s, rd);
}

static inline int
store_reader_scan(struct store *s, struct store_reader *rd,
		  const struct store_query *q, store_record_fn fn, void *arg)
{
	return s->ops.reader_scan(s, rd, q, fn, arg);
}

static inline int
store_reader_figs(struct store *s, struct store_reader *rd,
		  const struct store_query *q, bool hists, store_figs_fn fn,
		  void *arg)
{
	return s->ops.reader_figs(s, rd, q, hists, fn, arg);
}

static inline int
store_reader_exact_hours(struct store *s, struct store_reader *rd,
			 const struct store_query *q, store_hour_fn fn,
			 void *arg)
{
	return s->ops.reader_exact_hours(s, rd, q, fn, arg);
}

#endif
