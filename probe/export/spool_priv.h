/* SPDX-License-Identifier: BSD-3-Clause */
/* The spool's state, shared by spool.c (running) and spool_recover.c
 * (opening). Internal to probe/export/. */
#ifndef METROPROBE_EXPORT_SPOOL_PRIV_H
#define METROPROBE_EXPORT_SPOOL_PRIV_H

#include <inttypes.h>

#include "spool.h"

#define SPOOL_ACK_MAGIC "metroprobe-spool-ack v1"
#define SPOOL_SEG_FMT   "%s/spool-%020" PRIu64 ".ndjson"

struct spool_segment {
	uint64_t seq;
	uint64_t size;            /* bytes written */
	uint64_t durable;         /* bytes fdatasync'ed: readable */
	uint64_t records;         /* complete lines */
	uint64_t acked_records;   /* lines before the ack (oldest only) */
};

struct spool {
	char dir[SPOOL_DIR_MAX];
	uint64_t max_bytes;
	uint64_t segment_max;
	spool_log_fn log;
	void *log_arg;
	int lock_fd;
	int dir_fd;
	int active_fd;            /* the last segment, open for append */
	bool dir_dirty;           /* a segment was created since last sync */
	struct spool_segment *segs;   /* oldest first; the last is active */
	size_t n_segs, cap_segs;
	struct spool_pos ack;     /* ack.seq == segs[0].seq */
	uint64_t bytes;           /* sum of segment sizes */
	uint64_t pending;         /* unacknowledged records */
};


void spool_logf(struct spool *sp, enum export_log_level level,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void spool_seg_path(const struct spool *sp, uint64_t seq, char *buf,
		    size_t len);
int spool_fsync_dir(struct spool *sp);
int spool_push_segment(struct spool *sp, const struct spool_segment *s);
/* Removes the oldest segment from the table (not from disk). */
void spool_pop_oldest(struct spool *sp);
/* Creates segment seq and makes it the active one. */
int spool_new_segment(struct spool *sp, uint64_t seq);

#endif
