/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Storage interface of the collector. A back-end fills a table of
 * operations in its open function; ingest and reports only ever call
 * through it (libpcap-style), so a second back-end (ClickHouse over HTTP)
 * can be added without touching them.
 *
 * Rollups are interval records too: a 1-minute rollup of a link is the
 * record_merge() of its raw records in that minute, with start_ns on the
 * minute and interval_ns = 60 s, so reports read raw data and rollups
 * the same way.
 */
#ifndef METROPROBE_COLLECTOR_STORE_H
#define METROPROBE_COLLECTOR_STORE_H

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

struct store_stats {
	uint64_t raw_records;
	uint64_t minute_records;
	uint64_t hour_records;
	uint64_t bytes;          /* size on disk, where known */
};

struct store_ops {
	const char *name;
	/* Stores n records in one durable transaction: all or nothing.
	 * Records already stored (same probe, session, start_ns) are left
	 * as they are and counted in *n_dup. */
	int (*insert)(struct store *s, const struct interval_record *recs,
		      size_t n, size_t *n_new, size_t *n_dup,
		      char *err, size_t errlen);
	int (*scan)(struct store *s, const struct store_query *q,
		    store_record_fn fn, void *arg);
	/* Builds the rollups due up to now_ns and applies retention. */
	int (*maintain)(struct store *s, uint64_t now_ns);
	int (*stats)(struct store *s, struct store_stats *out);
	void (*close)(struct store *s);
	/* Like insert, but pulls the records one at a time, so a large
	 * request holds one decoded record in memory, not all of them. */
	int (*insert_stream)(struct store *s, store_next_fn next, void *arg,
			     size_t *n_new, size_t *n_dup,
			     char *err, size_t errlen);
	/* Calls fn with the latest raw record of every link (for /metrics
	 * after a restart). */
	int (*latest)(struct store *s, store_record_fn fn, void *arg);
};

struct store {
	const struct store_ops *ops;
};

/* SQLite back-end (WAL, schema versioned and migrated, integrity check
 * on open). Returns 0 or a negative errno with a message in err. */
int store_sqlite_open(const char *path, const struct store_retention *ret,
		      struct store **out, char *err, size_t errlen);

static inline int
store_insert(struct store *s, const struct interval_record *recs, size_t n,
	     size_t *n_new, size_t *n_dup, char *err, size_t errlen)
{
	return s->ops->insert(s, recs, n, n_new, n_dup, err, errlen);
}

static inline int
store_scan(struct store *s, const struct store_query *q, store_record_fn fn,
	   void *arg)
{
	return s->ops->scan(s, q, fn, arg);
}

static inline int
store_maintain(struct store *s, uint64_t now_ns)
{
	return s->ops->maintain(s, now_ns);
}

static inline int
store_stats(struct store *s, struct store_stats *out)
{
	return s->ops->stats(s, out);
}

static inline int
store_insert_stream(struct store *s, store_next_fn next, void *arg,
		    size_t *n_new, size_t *n_dup, char *err, size_t errlen)
{
	return s->ops->insert_stream(s, next, arg, n_new, n_dup, err, errlen);
}

static inline int
store_latest(struct store *s, store_record_fn fn, void *arg)
{
	return s->ops->latest(s, fn, arg);
}

static inline void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

#endif
