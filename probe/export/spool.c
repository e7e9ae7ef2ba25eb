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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

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

static void
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

static void
spool_seg_path(const struct spool *sp, uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, SPOOL_SEG_FMT, sp->dir, seq);
}

static int
spool_fsync_dir(struct spool *sp)
{
	if (fsync(sp->dir_fd) < 0)
		return -errno;
	return 0;
}

static int
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
static void
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

static int
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

static int
spool_read_ack(struct spool *sp, struct spool_pos *ack)
{
	char path[SPOOL_PATH_MAX], buf[128], magic[32], ver[8];
	uint64_t seq, off;
	ssize_t n;
	int fd;

	ack->seq = 0;
	ack->off = 0;
	snprintf(path, sizeof(path), "%s/ack", sp->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (sscanf(buf, "%31s %7s %" SCNu64 " %" SCNu64, magic, ver, &seq,
		   &off) != 4 ||
	    strcmp(magic, "metroprobe-spool-ack") != 0 ||
	    strcmp(ver, "v1") != 0) {
		/* Only tampering gets here (the file is renamed into place
		 * whole). Sending everything again loses nothing. */
		spool_logf(sp, EXPORT_LOG_WARNING,
			   "spool %s: ack file unreadable, resending every "
			   "record in the spool", sp->dir);
		return 0;
	}
	ack->seq = seq;
	ack->off = off;
	return 0;
}

static int
spool_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted sequence numbers of the segments in the directory. */
static int
spool_list(struct spool *sp, uint64_t **seqs, size_t *n)
{
	DIR *d = opendir(sp->dir);
	struct dirent *de;
	uint64_t *v = NULL;
	size_t cnt = 0, cap = 0;

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		uint64_t seq;
		int used = 0;

		if (sscanf(de->d_name, "spool-%20" SCNu64 ".ndjson%n", &seq,
			   &used) != 1 || used == 0 ||
		    de->d_name[used] != '\0')
			continue;
		if (cnt == cap) {
			uint64_t *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = seq;
	}
	closedir(d);
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), spool_cmp_u64);
	*seqs = v;
	*n = cnt;
	return 0;
}

/*
 * Counts the complete lines of a segment, the lines before ack_off, and
 * cuts off a partial last line.
 */
static int
spool_scan_segment(struct spool *sp, uint64_t seq, uint64_t ack_off,
		   struct spool_segment *s, uint64_t *torn)
{
	char path[SPOOL_PATH_MAX], buf[65536];
	uint64_t pos = 0, last_nl_end = 0;
	ssize_t n;
	int fd;

	memset(s, 0, sizeof(*s));
	s->seq = seq;
	spool_seg_path(sp, seq, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n')
				continue;
			s->records++;
			last_nl_end = pos + i + 1;
			if (last_nl_end <= ack_off)
				s->acked_records++;
		}
		pos += n;
	}
	if (n < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	if (pos > last_nl_end) {
		if (ftruncate(fd, last_nl_end) < 0 || fsync(fd) < 0) {
			int rc = -errno;

			close(fd);
			return rc;
		}
		spool_logf(sp, EXPORT_LOG_WARNING,
			   "spool %s: dropped a partial last line of %" PRIu64
			   " bytes (cut short by a crash)", path,
			   pos - last_nl_end);
		(*torn)++;
	}
	close(fd);
	s->size = last_nl_end;
	s->durable = last_nl_end;
	return 0;
}

static int
spool_recover(struct spool *sp, struct spool_recovery *rec, char *err,
	      size_t errlen)
{
	struct spool_pos ack;
	uint64_t *seqs = NULL, next_seq;
	size_t n = 0;
	char path[SPOOL_PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/ack.tmp", sp->dir);
	if (unlink(path) < 0 && errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = spool_read_ack(sp, &ack);
	if (rc < 0) {
		snprintf(err, errlen, "%s/ack: %s", sp->dir, strerror(-rc));
		return rc;
	}
	rc = spool_list(sp, &seqs, &n);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", sp->dir, strerror(-rc));
		return rc;
	}
	next_seq = ack.seq + 1;
	for (size_t i = 0; i < n; i++) {
		struct spool_segment s;
		uint64_t ack_off = 0;

		if (seqs[i] + 1 > next_seq)
			next_seq = seqs[i] + 1;
		spool_seg_path(sp, seqs[i], path, sizeof(path));
		if (seqs[i] < ack.seq) {
			/* acknowledged before a crash, not yet unlinked */
			unlink(path);
			continue;
		}
		if (seqs[i] == ack.seq)
			ack_off = ack.off;
		rc = spool_scan_segment(sp, seqs[i], ack_off, &s, &rec->torn);
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
			goto out;
		}
		if (sp->n_segs == 0) {
			/* the ack is in this segment, or it was dropped */
			sp->ack.seq = s.seq;
			sp->ack.off = s.seq == ack.seq ? ack.off : 0;
			if (sp->ack.off > s.size)
				sp->ack.off = s.size;
		} else {
			s.acked_records = 0;
		}
		if (sp->n_segs == 0 && sp->ack.off == s.size) {
			/* fully acknowledged: nothing left to send */
			unlink(path);
			continue;
		}
		rc = spool_push_segment(sp, &s);
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", sp->dir, strerror(-rc));
			goto out;
		}
		sp->bytes += s.size;
		sp->pending += s.records - s.acked_records;
	}
	rec->segments = sp->n_segs;
	rc = spool_new_segment(sp, next_seq);
	if (rc < 0) {
		spool_seg_path(sp, next_seq, path, sizeof(path));
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto out;
	}
	if (sp->n_segs == 1) {
		sp->ack.seq = next_seq;
		sp->ack.off = 0;
	}
	/* A smaller bound than the last run's: keep the newest. */
	while (sp->bytes > sp->max_bytes && sp->n_segs > 1) {
		rec->dropped_full += sp->segs[0].records -
			sp->segs[0].acked_records;
		spool_seg_path(sp, sp->segs[0].seq, path, sizeof(path));
		spool_pop_oldest(sp);
		unlink(path);
	}
	rec->pending = sp->pending;
	rc = spool_fsync_dir(sp);
	if (rc < 0)
		snprintf(err, errlen, "%s: fsync: %s", sp->dir, strerror(-rc));
	sp->dir_dirty = false;
out:
	free(seqs);
	return rc;
}

int
spool_open(const char *dir, uint64_t max_bytes, uint64_t segment_max,
	   spool_log_fn log, void *log_arg, struct spool **out,
	   struct spool_recovery *rec, char *err, size_t errlen)
{
	char path[SPOOL_PATH_MAX];
	struct spool *sp;
	int rc;

	memset(rec, 0, sizeof(*rec));
	if (strlen(dir) >= SPOOL_DIR_MAX) {
		snprintf(err, errlen, "spool directory name too long");
		return -ENAMETOOLONG;
	}
	sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		return -ENOMEM;
	snprintf(sp->dir, sizeof(sp->dir), "%s", dir);
	sp->max_bytes = max_bytes;
	sp->segment_max = segment_max;
	sp->log = log;
	sp->log_arg = log_arg;
	sp->lock_fd = -1;
	sp->dir_fd = -1;
	sp->active_fd = -1;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "spool directory %s: %s", dir,
			 strerror(-rc));
		goto fail;
	}
	sp->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dir_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "spool directory %s: %s", dir,
			 strerror(-rc));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/lock", dir);
	sp->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sp->lock_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, errlen, "spool directory %s is in use by "
			 "another process", dir);
		goto fail;
	}
	rc = spool_recover(sp, rec, err, errlen);
	if (rc < 0)
		goto fail;
	*out = sp;
	return 0;
fail:
	spool_close(sp);
	return rc;
}

void
spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->active_fd >= 0)
		close(sp->active_fd);
	if (sp->dir_fd >= 0)
		close(sp->dir_fd);
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);   /* releases the flock */
	free(sp->segs);
	free(sp);
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
	if (sp->active_fd < 0)
		return -EIO;   /* an earlier rotation failed */
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

	snprintf(path, pathlen, "%s/rejected-%020" PRIu64 "-%" PRIu64
		 ".ndjson", sp->dir, pos.seq, pos.off);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
