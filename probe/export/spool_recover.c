/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening the spool: lock the directory, read the ack, list and scan the
 * segments, cut a partial last line left by a crash, unlink what was
 * acknowledged, and bound the size (see spool.c for the crash-safety
 * rules this relies on).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool_priv.h"

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
