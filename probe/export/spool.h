/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Durable spool of the record export (internal to probe/export/).
 *
 * Segments spool-<seq>.ndjson are appended to by the control thread and
 * read by the uploader; "ack" names the first byte not yet acknowledged
 * by the collector. Positions (seq, offset) are ordered by seq, then by
 * offset. The spool is not thread-safe: the exporter holds its lock
 * around every call except spool_read_span and spool_persist_ack, which
 * touch only files and are called by the uploader alone.
 */
#ifndef METROPROBE_EXPORT_SPOOL_H
#define METROPROBE_EXPORT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export.h"

#define SPOOL_PATH_MAX 4096
/* leaves room for "/spool-<20 digits>.ndjson" in a path */
#define SPOOL_DIR_MAX  (SPOOL_PATH_MAX - 128)

struct spool_pos {
	uint64_t seq;
	uint64_t off;
};

static inline int
spool_pos_cmp(struct spool_pos a, struct spool_pos b)
{
	if (a.seq != b.seq)
		return a.seq < b.seq ? -1 : 1;
	if (a.off != b.off)
		return a.off < b.off ? -1 : 1;
	return 0;
}

/* What recovery found at open. */
struct spool_recovery {
	uint64_t segments;
	uint64_t pending;        /* unacknowledged records */
	uint64_t torn;           /* partial last lines dropped */
	uint64_t dropped_full;   /* oldest dropped to fit spool_max_bytes */
};

/* A stretch of durable, unacknowledged bytes, ready to read. */
struct spool_span {
	struct spool_pos pos;
	uint64_t len;
	char path[SPOOL_PATH_MAX];
};

/* Segments removed from the spool, to unlink after the ack is durable. */
struct spool_unlink_list {
	size_t n;
	uint64_t seq[8];
};

struct spool;

typedef void (*spool_log_fn)(enum export_log_level level, const char *msg,
			     void *arg);

int spool_open(const char *dir, uint64_t max_bytes, uint64_t segment_max,
	       spool_log_fn log, void *log_arg, struct spool **out,
	       struct spool_recovery *rec, char *err, size_t errlen);
void spool_close(struct spool *sp);

/* Appends line + '\n'. When the spool is full it first drops its oldest
 * segments; *dropped is the number of unacknowledged records lost. */
int spool_append(struct spool *sp, const char *line, size_t len,
		 uint64_t *dropped);

/* Flush in two halves so the fdatasync runs without the lock:
 * spool_sync_begin (locked) returns the fd and the size to make durable,
 * the caller syncs it (unlocked), spool_sync_end (locked) publishes. */
int spool_sync_begin(struct spool *sp, int *fd, uint64_t *size, bool *dir);
int spool_sync_fd(struct spool *sp, int fd, bool dir);
void spool_sync_end(struct spool *sp, uint64_t size);

/* Durable bytes not yet acknowledged, up to max_len, from the ack. */
bool spool_next_span(struct spool *sp, uint64_t max_len,
		     struct spool_span *span);

/* Reads span into buf (capacity span->len) and keeps whole lines only, at
 * most max_records: *len and *records say what is kept. -ENOENT when the
 * segment was dropped meanwhile. Called unlocked. */
int spool_read_span(const struct spool_span *span, char *buf,
		    unsigned max_records, size_t *len, unsigned *records);

/* Records the collector's acknowledgement of [pos, pos + len). Returns
 * true when the ack moved: *ack is then the position to persist and
 * *gone the fully acknowledged segments to unlink after that. */
bool spool_ack(struct spool *sp, struct spool_pos pos, uint64_t len,
	       unsigned records, struct spool_pos *ack,
	       struct spool_unlink_list *gone);

/* Writes the ack file atomically (temp, fsync, rename, fsync dir), then
 * unlinks the segments in gone. Called unlocked, by the uploader only. */
int spool_persist_ack(struct spool *sp, struct spool_pos ack,
		      const struct spool_unlink_list *gone);

/* Appends a refused record to rejected-<seq>.ndjson (durably). */
int spool_quarantine(struct spool *sp, struct spool_pos pos, const char *buf,
		     size_t len, char *path, size_t pathlen);

struct spool_pos spool_ack_pos(const struct spool *sp);
uint64_t spool_pending(const struct spool *sp);
uint64_t spool_bytes(const struct spool *sp);
bool spool_has_ready(const struct spool *sp);

#endif
