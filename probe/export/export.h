/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Record export: interval records (one JSON line each) go first to a
 * durable spool on disk, and an uploader thread POSTs them in batches to
 * the collector (POST <url>/api/v1/intervals, NDJSON, Bearer token).
 * A record leaves the spool only when the collector has acknowledged it
 * with a 2xx answer, which the collector sends only once the records are
 * durable: delivery is at least once, and the collector stores a record
 * once per key (probe, session, start_ns), so every record ends up stored
 * exactly once.
 *
 * Threads: export_open, export_submit, export_flush_local, export_stats
 * and export_close are for the probe's control thread (never a data-plane
 * lcore). export_submit only appends to a local file: a slow, failing or
 * dead collector never blocks it. The uploader thread does all network
 * I/O.
 *
 * Spool directory layout:
 *   spool-<seq>.ndjson   append-only segments, one record per line
 *   ack                  "metroprobe-spool-ack v1 <seq> <offset>": the
 *                        first byte not yet acknowledged, replaced
 *                        atomically (temp file, fsync, rename, fsync dir)
 *   rejected-*.ndjson    records the collector refused (400 or 413 for
 *                        that record alone), kept for the operator
 *   lock                 flock()ed while an exporter has the spool open
 *
 * What happens to each record is counted: after open,
 *   recovered + spooled == acknowledged + dropped_full + rejected + pending
 */
#ifndef METROPROBE_EXPORT_H
#define METROPROBE_EXPORT_H

#include <stddef.h>
#include <stdint.h>

/* Syslog severities, so a caller can map them onto RTE_LOG levels. */
enum export_log_level {
	EXPORT_LOG_ERR = 3,
	EXPORT_LOG_WARNING = 4,
	EXPORT_LOG_NOTICE = 5,
	EXPORT_LOG_INFO = 6,
	EXPORT_LOG_DEBUG = 7,
};

/* Called from the control thread and from the uploader thread. */
typedef void (*export_log_fn)(enum export_log_level level, const char *msg,
			      void *arg);

#define EXPORT_DEFAULT_SPOOL_MAX_BYTES   (256ULL << 20)
#define EXPORT_DEFAULT_BATCH_MAX_RECORDS 1000
#define EXPORT_DEFAULT_BATCH_MAX_BYTES   (1U << 20)
#define EXPORT_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define EXPORT_DEFAULT_REQUEST_TIMEOUT_MS 30000
#define EXPORT_DEFAULT_BACKOFF_MIN_MS    200
#define EXPORT_DEFAULT_BACKOFF_MAX_MS    30000
#define EXPORT_MIN_SPOOL_MAX_BYTES       (16U << 10)

/* Zero or NULL in any field means its default. */
struct export_config {
	/* "http://host:port" (the path /api/v1/intervals is appended) or a
	 * full URL that already has a path. Required. */
	const char *collector_url;
	/* File holding the bearer token, read once at open; a trailing
	 * newline is stripped. A world-readable file is logged as a
	 * warning. NULL: requests carry no Authorization header. */
	const char *token_file;
	/* Spool directory, created (0700) if missing. Required. */
	const char *spool_dir;
	/* Bound on the spool's size on disk; when a new record would pass
	 * it, the oldest segments are dropped, counted and logged. */
	uint64_t spool_max_bytes;
	/* Segment size (default spool_max_bytes / 8, at most 16 MiB): the
	 * unit in which the spool drops its oldest records when full. */
	uint64_t segment_max_bytes;
	unsigned batch_max_records;     /* records per POST */
	size_t batch_max_bytes;         /* body bytes per POST; also the
					 * largest record accepted */
	unsigned connect_timeout_ms;
	unsigned request_timeout_ms;    /* whole request, answer included */
	/* Retry delay after a failure: doubles from min to max, with
	 * jitter (each wait is drawn uniformly in [d/2, d]). */
	unsigned backoff_min_ms;
	unsigned backoff_max_ms;
	export_log_fn log;              /* NULL: messages go to stderr */
	void *log_arg;
};

#define EXPORT_ERROR_MAX 160

struct export_stats {
	uint64_t recovered;      /* unacknowledged records found at open */
	uint64_t spooled;        /* records appended by export_submit */
	uint64_t sent;           /* records POSTed, each attempt counted */
	uint64_t acknowledged;   /* records acknowledged by a 2xx answer */
	uint64_t acked_new;      /* of which the collector said "new" */
	uint64_t acked_duplicate;/* ... and "duplicate" (a resend) */
	uint64_t dropped_full;   /* dropped, oldest first, spool full */
	uint64_t dropped_torn;   /* partial lines found at open (a crash
				  * in the middle of an append) */
	uint64_t rejected;       /* refused by the collector, quarantined
				  * in rejected-*.ndjson */
	uint64_t requests;       /* POSTs attempted */
	uint64_t retries;        /* failed POSTs that will be retried */
	uint64_t pending;        /* records in the spool, not yet acked */
	uint64_t spool_bytes;    /* size of the spool segments on disk */
	long last_http_status;   /* 0: no answer (connection error) */
	/* Last failure, "" after a success. */
	char last_error[EXPORT_ERROR_MAX];
};

struct exporter;

/*
 * Opens (or recovers) the spool and starts the uploader thread. Pending
 * records from an earlier run are sent first; a partial last line left by
 * a crash is dropped and counted. Returns 0, or a negative errno with a
 * message in err (bad option, unreadable token file, spool directory not
 * usable or in use by another process).
 */
int export_open(const struct export_config *cfg, struct exporter **out,
		char *err, size_t errlen);

/*
 * Appends one record (a JSON object; one trailing newline is allowed) to
 * the spool with write(2); it is not yet durable and not yet visible to
 * the uploader until export_flush_local. Returns 0; -EINVAL for an empty
 * line or one holding a newline or NUL; -E2BIG for a record larger than
 * a batch or a segment; -EIO (errno logged) when the disk write fails.
 * Never waits on the network.
 */
int export_submit(struct exporter *exp, const char *json_line, size_t len);

/*
 * Makes the records submitted so far durable (one fdatasync per call:
 * call it once per interval batch) and hands them to the uploader.
 * Returns 0 or -EIO.
 */
int export_flush_local(struct exporter *exp);

/* Snapshot of the counters; may be called at any time. */
void export_stats(struct exporter *exp, struct export_stats *out);

/*
 * Flushes, then lets the uploader try for up to timeout_ms to send what
 * is pending, stops it and frees everything. Records not acknowledged
 * stay in the spool for the next export_open. Returns 0 when the spool
 * was drained, -ETIMEDOUT when records are left in it.
 */
int export_close(struct exporter *exp, unsigned timeout_ms);

/* export_close, and the counters as they were at the end (final may be
 * NULL). */
int export_close_stats(struct exporter *exp, unsigned timeout_ms,
		       struct export_stats *final);

#endif
