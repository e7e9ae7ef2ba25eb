/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Durable spool: append-only segments and an atomically replaced ack
 * file. A record is appended with one write(2) of "line\n"; it becomes
 * readable by the uploader once fdatasync'ed (spool_sync_*), and leaves
 * the spool when the ack passes it.
 *
 * Crash safety:
 * - a crash in the middle of an append leaves a partial last line: at
 *   open it is cut off (ftruncate) and counted as torn;
 * - the ack file is replaced with rename(2) after the new content is
 *   fsync'ed, so it is always either the old or the new position; a
 *   stale ack.tmp is removed at open;
 * - a segment is unlinked only after an ack past its end is durable;
 *   segments older than the ack found at open are unlinked then;
 * - an ack naming a segment that no longer exists (dropped when full)
 *   means "from the oldest segment that exists".
 * A crash between the collector's answer and the ack file's rename sends
 * the last batch again: the collector stores a record once per key.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "spool_priv.h"

void
spool_logf(struct spool *sp, enum export_log_level level, const char *fmt,
	   ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sp->log != NULL)
		sp->log(level, msg, sp->log_arg);
}

void
spool_seg_path(const struct spool *sp, uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, SPOOL_SEG_FMT, sp->dir, seq);
}

int
spool_fsync_dir(struct spool *sp)
{
	if (fsync(sp->dir_fd) < 0)
		return -errno;
	return 0;
}

int
spool_push_segment(struct spool *sp, const struct spool_segment *s)
{
	if (sp->n_segs == sp->cap_segs) {
		size_t cap = sp->cap_segs ? sp->cap_segs * 2 : 16;
		struct spool_segment *n = realloc(sp->segs, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		sp->segs = n;
		sp->cap_segs = cap;
	}
	sp->segs[sp->n_segs++] = *s;
	return 0;
}

/* Removes the oldest segment from the table (not from disk). */
void
spool_pop_oldest(struct spool *sp)
{
	const struct spool_segment *s = &sp->segs[0];

	sp->bytes -= s->size;
	sp->pending -= s->records - s->acked_records;
	memmove(&sp->segs[0], &sp->segs[1],
		(sp->n_segs - 1) * sizeof(sp->segs[0]));
	sp->n_segs--;
	sp->ack.seq = sp->n_segs ? sp->segs[0].seq : sp->ack.seq + 1;
	sp->ack.off = 0;
}

int
spool_new_segment(struct spool *sp, uint64_t seq)
{
	char path[SPOOL_PATH_MAX];
	struct spool_segment s = { .seq = seq };
	int fd, rc;

	spool_seg_path(sp, seq, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return -errno;
	rc = spool_push_segment(sp, &s);
	if (rc < 0) {
		close(fd);
		unlink(path);
		return rc;
	}
	sp->active_fd = fd;
	sp->dir_dirty = true;
	return 0;
}

static struct spool_segment *
spool_active(struct spool *sp)
{
	return &sp->segs[sp->n_segs - 1];
}

/* Closes the active segment (durably) and starts the next one. */
static int
spool_rotate(struct spool *sp)
{
	struct spool_segment *a = spool_active(sp);

	uint64_t seq = a->seq;
	int rc;

	if (fdatasync(sp->active_fd) < 0)
		return -errno;
	a->durable = a->size;
	close(sp->active_fd);
	sp->active_fd = -1;
	rc = spool_new_segment(sp, seq + 1);
	if (rc < 0)
		return rc;
	/* Everything in the closed segment already acknowledged: no ack
	 * will ever move past it, so it goes now. A crash before the ack
	 * file names the new segment is harmless: an ack naming a missing
	 * segment means "from the oldest one". */
	if (sp->n_segs == 2 && sp->ack.seq == seq &&
	    sp->ack.off == sp->segs[0].size) {
		char path[SPOOL_PATH_MAX];

		spool_seg_path(sp, seq, path, sizeof(path));
		spool_pop_oldest(sp);
		unlink(path);
	}
	return 0;
}

int
spool_append(struct spool *sp, const char *line, size_t len,
	     uint64_t *dropped)
{
	struct spool_segment *a = spool_active(sp);
	char nl = '\n';
	struct iovec iov[2] = {
		{ .iov_base = (void *)(uintptr_t)line, .iov_len = len },
		{ .iov_base = &nl, .iov_len = 1 },
	};
	uint64_t need = len + 1;
	ssize_t n;
	int rc;

	*dropped = 0;
	if (sp->active_fd < 0) {
		/* An earlier rotation could not create the next segment
		 * (disk full, no fd): try again. */
		rc = spool_new_segment(sp, a->seq + 1);
		if (rc < 0)
			return rc;
		a = spool_active(sp);
	}
	if (a->size > 0 && a->size + need > sp->segment_max) {
		rc = spool_rotate(sp);
		if (rc < 0)
			return rc;
		a = spool_active(sp);
	}
	/* Full: drop the oldest segments, never the active one. */
	while (sp->bytes + need > sp->max_bytes && sp->n_segs > 1) {
		char path[SPOOL_PATH_MAX];

		*dropped += sp->segs[0].records - sp->segs[0].acked_records;
		spool_seg_path(sp, sp->segs[0].seq, path, sizeof(path));
		spool_pop_oldest(sp);
		unlink(path);
		a = spool_active(sp);
	}
	n = writev(sp->active_fd, iov, 2);
	if (n < 0)
		return -errno;
	if ((uint64_t)n != need) {
		/* Disk full: cut the partial line so the file stays whole. */
		if (ftruncate(sp->active_fd, a->size) < 0)
			return -errno;
		return -ENOSPC;
	}
	a->size += need;
	a->records++;
	sp->bytes += need;
	sp->pending++;
	return 0;
}

int
spool_sync_begin(struct spool *sp, int *fd, uint64_t *size, bool *dir)
{
	if (sp->active_fd < 0)
		return -EIO;
	*fd = sp->active_fd;
	*size = spool_active(sp)->size;
	*dir = sp->dir_dirty;
	sp->dir_dirty = false;
	return 0;
}

int
spool_sync_fd(struct spool *sp, int fd, bool dir)
{
	if (fdatasync(fd) < 0)
		return -errno;
	if (dir)
		return spool_fsync_dir(sp);
	return 0;
}

void
spool_sync_end(struct spool *sp, uint64_t size)
{
	struct spool_segment *a = spool_active(sp);

	if (size > a->durable)
		a->durable = size;
}

bool
spool_has_ready(const struct spool *sp)
{
	if (sp->n_segs == 0)
		return false;
	return sp->ack.off < sp->segs[0].durable;
}

bool
spool_next_span(struct spool *sp, uint64_t max_len, struct spool_span *span)
{
	const struct spool_segment *s;

	if (!spool_has_ready(sp))
		return false;
	s = &sp->segs[0];
	span->pos = sp->ack;
	span->len = s->durable - sp->ack.off;
	if (span->len > max_len)
		span->len = max_len;
	spool_seg_path(sp, s->seq, span->path, sizeof(span->path));
	return true;
}

int
spool_read_span(const struct spool_span *span, char *buf,
		unsigned max_records, size_t *len, unsigned *records)
{
	size_t got = 0, keep = 0;
	unsigned n = 0;
	int fd;

	fd = open(span->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got < span->len) {
		ssize_t r = pread(fd, buf + got, span->len - got,
				  span->pos.off + got);

		if (r < 0) {
			int rc = -errno;

			close(fd);
			return rc;
		}
		if (r == 0)
			break;
		got += r;
	}
	close(fd);
	for (size_t i = 0; i < got && n < max_records; i++) {
		if (buf[i] == '\n') {
			n++;
			keep = i + 1;
		}
	}
	*len = keep;
	*records = n;
	return 0;
}

bool
spool_ack(struct spool *sp, struct spool_pos pos, uint64_t len,
	  unsigned records, struct spool_pos *ack,
	  struct spool_unlink_list *gone)
{
	struct spool_pos end = { pos.seq, pos.off + len };

	gone->n = 0;
	/* Dropped while in flight, or acknowledged twice: nothing moves. */
	if (sp->n_segs == 0 || spool_pos_cmp(pos, sp->ack) != 0)
		return false;
	sp->ack = end;
	sp->segs[0].acked_records += records;
	sp->pending -= records;
	/* Segments wholly acknowledged and closed leave the spool. */
	while (sp->n_segs > 1 && sp->ack.off == sp->segs[0].size &&
	       gone->n < sizeof(gone->seq) / sizeof(gone->seq[0])) {
		gone->seq[gone->n++] = sp->segs[0].seq;
		spool_pop_oldest(sp);
	}
	*ack = sp->ack;
	return true;
}

int
spool_persist_ack(struct spool *sp, struct spool_pos ack,
		  const struct spool_unlink_list *gone)
{
	char tmp[SPOOL_PATH_MAX], path[SPOOL_PATH_MAX], buf[128];
	int fd, len, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s/ack.tmp", sp->dir);
	snprintf(path, sizeof(path), "%s/ack", sp->dir);
	len = snprintf(buf, sizeof(buf), SPOOL_ACK_MAGIC " %" PRIu64 " %"
		       PRIu64 "\n", ack.seq, ack.off);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != len || fsync(fd) < 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	if (rc < 0)
		return rc;
	if (rename(tmp, path) < 0)
		return -errno;
	rc = spool_fsync_dir(sp);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < gone->n; i++) {
		spool_seg_path(sp, gone->seq[i], path, sizeof(path));
		unlink(path);
	}
	return 0;
}

int
spool_quarantine(struct spool *sp, struct spool_pos pos, const char *buf,
		 size_t len, char *path, size_t pathlen)
{
	int fd, rc = 0;

	/* One file per segment: a collector that refuses everything (a
	 * schema it does not know) does not make a file per record. */
	snprintf(path, pathlen, "%s/rejected-%020" PRIu64 ".ndjson", sp->dir,
		 pos.seq);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (write(fd, buf, len) != (ssize_t)len || fsync(fd) < 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	if (rc == 0)
		rc = spool_fsync_dir(sp);
	return rc;
}

struct spool_pos
spool_ack_pos(const struct spool *sp)
{
	return sp->ack;
}

uint64_t
spool_pending(const struct spool *sp)
{
	return sp->pending;
}

uint64_t
spool_bytes(const struct spool *sp)
{
	return sp->bytes;
}
