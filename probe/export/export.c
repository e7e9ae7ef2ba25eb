/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Record export, the control thread's side: configuration, bearer token,
 * the spool's append and flush, counters, and shutdown. The network side
 * is uploader.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export_priv.h"

#define EXPORT_INGEST_PATH "/api/v1/intervals"
#define EXPORT_TOKEN_MAX   4096

static void
export_spool_log(enum export_log_level level, const char *msg, void *arg)
{
	export_logf(arg, level, "%s", msg);
}

/* "http://h:p" -> "http://h:p/api/v1/intervals"; a URL with a path is
 * taken as it is. */
static char *
export_ingest_url(const char *base)
{
	const char *p = strstr(base, "://");
	size_t len = strlen(base);
	char *url;

	p = p ? strchr(p + 3, '/') : strchr(base, '/');
	if (p != NULL && p[1] != '\0')
		return strdup(base);
	if (len > 0 && base[len - 1] == '/')
		len--;
	url = malloc(len + sizeof(EXPORT_INGEST_PATH));
	if (url == NULL)
		return NULL;
	memcpy(url, base, len);
	memcpy(url + len, EXPORT_INGEST_PATH, sizeof(EXPORT_INGEST_PATH));
	return url;
}

/*
 * Reads the bearer token: the whole file less trailing whitespace; a
 * token of anything but printable ASCII (a header could be forged with
 * a newline) is refused.
 */
static int
export_read_token(struct exporter *exp, const char *path, char *err,
		  size_t errlen)
{
	char buf[EXPORT_TOKEN_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "token file %s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & S_IROTH))
		export_logf(exp, EXPORT_LOG_WARNING,
			    "token file %s is readable by every user "
			    "(mode %03o): chmod 600 it", path,
			    (unsigned)(st.st_mode & 0777));
	n = read(fd, buf, sizeof(buf));
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0) {
		snprintf(err, errlen, "token file %s: %s", path, strerror(-rc));
		return rc;
	}
	if ((size_t)n > EXPORT_TOKEN_MAX) {
		snprintf(err, errlen, "token file %s: longer than %d bytes",
			 path, EXPORT_TOKEN_MAX);
		return -EINVAL;
	}
	len = n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
			   buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	if (len == 0) {
		snprintf(err, errlen, "token file %s is empty", path);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (buf[i] < 0x21 || buf[i] > 0x7e) {
			snprintf(err, errlen, "token file %s: byte %zu is not "
				 "a printable character", path, i + 1);
			return -EINVAL;
		}
	}
	buf[len] = '\0';
	if (asprintf(&exp->auth_header, "Authorization: Bearer %s", buf) < 0) {
		exp->auth_header = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Fills in defaults and checks the bounds. */
static int
export_check_config(struct export_config *c, char *err, size_t errlen)
{
	if (c->collector_url == NULL || c->collector_url[0] == '\0') {
		snprintf(err, errlen, "no collector URL");
		return -EINVAL;
	}
	if (strncmp(c->collector_url, "http://", 7) != 0 &&
	    strncmp(c->collector_url, "https://", 8) != 0) {
		snprintf(err, errlen, "collector URL '%s': expected http:// or "
			 "https://", c->collector_url);
		return -EINVAL;
	}
	if (c->spool_dir == NULL || c->spool_dir[0] == '\0') {
		snprintf(err, errlen, "no spool directory");
		return -EINVAL;
	}
	if (c->spool_max_bytes == 0)
		c->spool_max_bytes = EXPORT_DEFAULT_SPOOL_MAX_BYTES;
	if (c->spool_max_bytes < EXPORT_MIN_SPOOL_MAX_BYTES) {
		snprintf(err, errlen, "spool max bytes %" PRIu64 ": at least "
			 "%u", c->spool_max_bytes, EXPORT_MIN_SPOOL_MAX_BYTES);
		return -EINVAL;
	}
	if (c->segment_max_bytes == 0) {
		c->segment_max_bytes = c->spool_max_bytes / 8;
		if (c->segment_max_bytes > (16ULL << 20))
			c->segment_max_bytes = 16ULL << 20;
	}
	if (c->segment_max_bytes > c->spool_max_bytes / 4 ||
	    c->segment_max_bytes < 1024) {
		snprintf(err, errlen, "segment max bytes %" PRIu64 ": between "
			 "1024 and a quarter of the spool (%" PRIu64 ")",
			 c->segment_max_bytes, c->spool_max_bytes / 4);
		return -EINVAL;
	}
	if (c->batch_max_records == 0)
		c->batch_max_records = EXPORT_DEFAULT_BATCH_MAX_RECORDS;
	if (c->batch_max_bytes == 0)
		c->batch_max_bytes = EXPORT_DEFAULT_BATCH_MAX_BYTES;
	if (c->batch_max_bytes < 256) {
		snprintf(err, errlen, "batch max bytes %zu: at least 256",
			 c->batch_max_bytes);
		return -EINVAL;
	}
	if (c->connect_timeout_ms == 0)
		c->connect_timeout_ms = EXPORT_DEFAULT_CONNECT_TIMEOUT_MS;
	if (c->request_timeout_ms == 0)
		c->request_timeout_ms = EXPORT_DEFAULT_REQUEST_TIMEOUT_MS;
	if (c->backoff_min_ms == 0)
		c->backoff_min_ms = EXPORT_DEFAULT_BACKOFF_MIN_MS;
	if (c->backoff_max_ms == 0)
		c->backoff_max_ms = EXPORT_DEFAULT_BACKOFF_MAX_MS;
	if (c->backoff_max_ms < c->backoff_min_ms) {
		snprintf(err, errlen, "backoff max %u ms is below backoff min "
			 "%u ms", c->backoff_max_ms, c->backoff_min_ms);
		return -EINVAL;
	}
	return 0;
}

static void
export_free(struct exporter *exp)
{
	spool_close(exp->spool);
	pthread_cond_destroy(&exp->wake);
	pthread_mutex_destroy(&exp->lock);
	free(exp->url);
	free(exp->spool_dir);
	free(exp->auth_header);
	free(exp);
}

int
export_open(const struct export_config *cfg, struct exporter **out,
	    char *err, size_t errlen)
{
	struct spool_recovery rec;
	struct exporter *exp;
	pthread_condattr_t ca;
	int rc;

	exp = calloc(1, sizeof(*exp));
	if (exp == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	exp->cfg = *cfg;
	pthread_mutex_init(&exp->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&exp->wake, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&exp->abort_at_ns, 0);

	rc = export_check_config(&exp->cfg, err, errlen);
	if (rc < 0)
		goto fail;
	exp->url = export_ingest_url(exp->cfg.collector_url);
	exp->spool_dir = strdup(exp->cfg.spool_dir);
	if (exp->url == NULL || exp->spool_dir == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	exp->cfg.collector_url = exp->url;
	exp->cfg.spool_dir = exp->spool_dir;
	if (exp->cfg.token_file != NULL) {
		rc = export_read_token(exp, exp->cfg.token_file, err, errlen);
		if (rc < 0)
			goto fail;
		exp->cfg.token_file = NULL;   /* not kept: the caller's */
	} else {
		export_logf(exp, EXPORT_LOG_WARNING, "no token file: records "
			    "are sent to %s without a bearer token", exp->url);
	}
	rc = export_uploader_global_init();
	if (rc < 0) {
		snprintf(err, errlen, "libcurl initialisation failed");
		goto fail;
	}
	rc = spool_open(exp->spool_dir, exp->cfg.spool_max_bytes,
			exp->cfg.segment_max_bytes, export_spool_log, exp,
			&exp->spool, &rec, err, errlen);
	if (rc < 0)
		goto fail;
	exp->st.recovered = rec.pending;
	exp->st.dropped_torn = rec.torn;
	exp->st.dropped_full = rec.dropped_full;
	exp->st.pending = spool_pending(exp->spool);
	exp->st.spool_bytes = spool_bytes(exp->spool);
	if (rec.pending > 0 || rec.torn > 0 || rec.dropped_full > 0)
		export_logf(exp, EXPORT_LOG_NOTICE, "spool %s: %" PRIu64
			    " records pending from an earlier run in %" PRIu64
			    " segments (%" PRIu64 " partial lines dropped, %"
			    PRIu64 " records dropped to fit the size bound)",
			    exp->spool_dir, rec.pending, rec.segments,
			    rec.torn, rec.dropped_full);
	rc = pthread_create(&exp->thread, NULL, export_uploader_main, exp);
	if (rc != 0) {
		rc = -rc;
		snprintf(err, errlen, "uploader thread: %s", strerror(-rc));
		goto fail;
	}
	exp->thread_started = true;
	*out = exp;
	return 0;
fail:
	export_free(exp);
	return rc;
}

int
export_submit(struct exporter *exp, const char *json_line, size_t len)
{
	uint64_t dropped = 0;
	int rc;

	if (len > 0 && json_line[len - 1] == '\n')
		len--;
	if (len == 0 || memchr(json_line, '\n', len) != NULL ||
	    memchr(json_line, '\0', len) != NULL)
		return -EINVAL;
	if (len + 1 > exp->cfg.batch_max_bytes ||
	    len + 1 > exp->cfg.segment_max_bytes)
		return -E2BIG;

	pthread_mutex_lock(&exp->lock);
	rc = spool_append(exp->spool, json_line, len, &dropped);
	if (rc == 0)
		exp->st.spooled++;
	exp->st.dropped_full += dropped;
	exp->st.pending = spool_pending(exp->spool);
	exp->st.spool_bytes = spool_bytes(exp->spool);
	pthread_mutex_unlock(&exp->lock);

	if (dropped > 0)
		export_logf(exp, EXPORT_LOG_WARNING, "spool %s full (%" PRIu64
			    " bytes): dropped the %" PRIu64 " oldest unsent "
			    "records", exp->spool_dir,
			    exp->cfg.spool_max_bytes, dropped);
	if (rc < 0) {
		export_logf(exp, EXPORT_LOG_ERR, "spool %s: append: %s",
			    exp->spool_dir, strerror(-rc));
		return rc == -ENOSPC ? rc : -EIO;
	}
	return 0;
}

int
export_flush_local(struct exporter *exp)
{
	uint64_t size;
	bool dir;
	int fd, rc;

	/* Only this (control) thread appends, rotates or closes the
	 * active segment, so its fd stays valid while unlocked. */
	pthread_mutex_lock(&exp->lock);
	rc = spool_sync_begin(exp->spool, &fd, &size, &dir);
	pthread_mutex_unlock(&exp->lock);
	if (rc == 0)
		rc = spool_sync_fd(exp->spool, fd, dir);
	if (rc < 0) {
		export_logf(exp, EXPORT_LOG_ERR, "spool %s: fdatasync: %s",
			    exp->spool_dir, strerror(-rc));
		return -EIO;
	}
	pthread_mutex_lock(&exp->lock);
	spool_sync_end(exp->spool, size);
	pthread_cond_signal(&exp->wake);
	pthread_mutex_unlock(&exp->lock);
	return 0;
}

void
export_stats(struct exporter *exp, struct export_stats *out)
{
	pthread_mutex_lock(&exp->lock);
	*out = exp->st;
	out->pending = spool_pending(exp->spool);
	out->spool_bytes = spool_bytes(exp->spool);
	pthread_mutex_unlock(&exp->lock);
}

int
export_close(struct exporter *exp, unsigned timeout_ms)
{
	return export_close_stats(exp, timeout_ms, NULL);
}

int
export_close_stats(struct exporter *exp, unsigned timeout_ms,
		   struct export_stats *final)
{
	uint64_t left;

	if (exp == NULL)
		return 0;
	export_flush_local(exp);
	pthread_mutex_lock(&exp->lock);
	exp->stopping = true;
	exp->drain_deadline_ns = export_now_ns() +
		(uint64_t)timeout_ms * 1000000ULL;
	atomic_store(&exp->abort_at_ns, exp->drain_deadline_ns);
	pthread_cond_signal(&exp->wake);
	pthread_mutex_unlock(&exp->lock);
	if (exp->thread_started)
		pthread_join(exp->thread, NULL);

	left = spool_pending(exp->spool);
	if (final != NULL)
		export_stats(exp, final);
	if (left > 0)
		export_logf(exp, EXPORT_LOG_NOTICE, "%" PRIu64 " records left "
			    "in spool %s for the next run", left,
			    exp->spool_dir);
	export_free(exp);
	return left > 0 ? -ETIMEDOUT : 0;
}
