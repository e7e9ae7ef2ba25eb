/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The uploader thread: reads batches from the spool at its ack and POSTs
 * them to the collector with one libcurl easy handle (the connection is
 * kept alive between batches).
 *
 * What an answer does:
 * - 2xx: the collector has the records durably; the ack moves past them.
 * - 400 or 413: the collector refuses the body. With several records in
 *   the batch, the batch is halved and sent again (no wait) until the
 *   refused record is alone; that one record is then moved to
 *   rejected-<seq>.ndjson in the spool directory and skipped, so a
 *   bad record costs about log2(batch) extra requests and never wedges
 *   the spool, and the good records around it are still delivered.
 * - 401, 403: the token is wrong or lacks the right; logged as an error,
 *   retried with back-off, nothing is dropped (the operator fixes the
 *   token at the collector, or restarts the probe with a new token file).
 * - anything else (no connection, timeout, 5xx, 429, other 4xx): retried
 *   with exponential back-off and jitter; Retry-After is honoured within
 *   backoff_max_ms.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export_priv.h"

#define UPLOADER_ANSWER_MAX 2048

struct uploader {
	struct exporter *exp;
	CURL *curl;
	struct curl_slist *headers;
	char *body;                 /* batch_max_bytes */
	char answer[UPLOADER_ANSWER_MAX];
	size_t answer_len;
	char curl_err[CURL_ERROR_SIZE];
	unsigned rand_state;

	uint64_t backoff_ms;        /* next wait after a failure */
	uint64_t failures;          /* consecutive failed attempts */
	char logged_error[EXPORT_ERROR_MAX];

	/* Halving after a 400/413: the batch limit stays at split_records
	 * until the ack has passed split_end. */
	unsigned split_records;
	struct spool_pos split_end;
};

static pthread_once_t uploader_once = PTHREAD_ONCE_INIT;
static CURLcode uploader_init_rc;

static void
uploader_do_global_init(void)
{
	uploader_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
export_uploader_global_init(void)
{
	pthread_once(&uploader_once, uploader_do_global_init);
	return uploader_init_rc == CURLE_OK ? 0 : -EIO;
}

static size_t
uploader_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct uploader *u = arg;
	size_t n = size * nmemb, room = sizeof(u->answer) - 1 - u->answer_len;

	if (n > room)
		n = room;
	memcpy(u->answer + u->answer_len, ptr, n);
	u->answer_len += n;
	u->answer[u->answer_len] = '\0';
	return size * nmemb;
}

/* Lets export_close cut a transfer short at its deadline. */
static int
uploader_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		     curl_off_t ultotal, curl_off_t ulnow)
{
	struct uploader *u = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	uint64_t at = atomic_load(&u->exp->abort_at_ns);

	return (at != 0 && export_now_ns() >= at) ? 1 : 0;
}

static int
uploader_init(struct uploader *u, struct exporter *exp)
{
	const struct export_config *c = &exp->cfg;

	memset(u, 0, sizeof(*u));
	u->exp = exp;
	u->rand_state = (unsigned)(export_now_ns() ^ (uint64_t)getpid());
	u->backoff_ms = c->backoff_min_ms;
	u->body = malloc(c->batch_max_bytes);
	u->curl = curl_easy_init();
	if (u->body == NULL || u->curl == NULL)
		return -ENOMEM;
	u->headers = curl_slist_append(NULL,
				       "Content-Type: application/x-ndjson");
	/* No "Expect: 100-continue" round trip before each body. */
	u->headers = curl_slist_append(u->headers, "Expect:");
	if (exp->auth_header != NULL)
		u->headers = curl_slist_append(u->headers, exp->auth_header);
	if (u->headers == NULL)
		return -ENOMEM;

	curl_easy_setopt(u->curl, CURLOPT_URL, exp->url);
	curl_easy_setopt(u->curl, CURLOPT_HTTPHEADER, u->headers);
	curl_easy_setopt(u->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(u->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(u->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)c->connect_timeout_ms);
	curl_easy_setopt(u->curl, CURLOPT_TIMEOUT_MS,
			 (long)c->request_timeout_ms);
	curl_easy_setopt(u->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(u->curl, CURLOPT_WRITEFUNCTION, uploader_write_cb);
	curl_easy_setopt(u->curl, CURLOPT_WRITEDATA, u);
	curl_easy_setopt(u->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(u->curl, CURLOPT_XFERINFOFUNCTION,
			 uploader_progress_cb);
	curl_easy_setopt(u->curl, CURLOPT_XFERINFODATA, u);
	curl_easy_setopt(u->curl, CURLOPT_ERRORBUFFER, u->curl_err);
	curl_easy_setopt(u->curl, CURLOPT_USERAGENT, "metroprobe-export/1");
	return 0;
}

static void
uploader_fini(struct uploader *u)
{
	if (u->curl != NULL)
		curl_easy_cleanup(u->curl);
	curl_slist_free_all(u->headers);
	free(u->body);
}

/* The value of "key":N in the collector's JSON answer, or -1. */
static long long
uploader_answer_count(const char *answer, const char *key)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(answer, pat);
	if (p == NULL)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	return strtoll(p, NULL, 10);
}

/* The answer as one printable line, for logs. */
static void
uploader_answer_text(const struct uploader *u, char *buf, size_t len)
{
	size_t j = 0;

	for (size_t i = 0; i < u->answer_len && j + 1 < len; i++) {
		char c = u->answer[i];

		buf[j++] = (c >= 0x20 && c < 0x7f) ? c : ' ';
	}
	while (j > 0 && buf[j - 1] == ' ')
		j--;
	buf[j] = '\0';
}

/* POSTs body; returns the HTTP status, or 0 with curl_err filled. */
static long
uploader_post(struct uploader *u, const char *body, size_t len,
	      long *retry_after_s)
{
	CURLcode rc;
	long status = 0;
	curl_off_t ra = -1;

	u->answer_len = 0;
	u->answer[0] = '\0';
	u->curl_err[0] = '\0';
	curl_easy_setopt(u->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(u->curl, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)len);
	rc = curl_easy_perform(u->curl);
	*retry_after_s = 0;
	if (rc != CURLE_OK) {
		if (u->curl_err[0] == '\0')
			snprintf(u->curl_err, sizeof(u->curl_err), "%s",
				 curl_easy_strerror(rc));
		return 0;
	}
	curl_easy_getinfo(u->curl, CURLINFO_RESPONSE_CODE, &status);
	if (curl_easy_getinfo(u->curl, CURLINFO_RETRY_AFTER, &ra) ==
	    CURLE_OK && ra > 0)
		*retry_after_s = (long)ra;
	return status;
}

/* Waits until the deadline or until stop; returns false when stopping
 * and the drain deadline has passed. Called with the lock held. */
static bool
uploader_wait_locked(struct exporter *exp, uint64_t wait_ms)
{
	uint64_t until = export_now_ns() + wait_ms * 1000000ULL;
	struct timespec ts;

	for (;;) {
		uint64_t now = export_now_ns();

		if (exp->stopping && now >= exp->drain_deadline_ns)
			return false;
		if (now >= until)
			return true;
		if (exp->stopping && exp->drain_deadline_ns < until)
			until = exp->drain_deadline_ns;
		ts.tv_sec = until / 1000000000ULL;
		ts.tv_nsec = until % 1000000000ULL;
		pthread_cond_timedwait(&exp->wake, &exp->lock, &ts);
	}
}

/* A failed attempt: count it, log it when it says something new, and
 * wait out the back-off. Returns false when it is time to stop. */
static bool
uploader_failed(struct uploader *u, long status, const char *what,
		long retry_after_s, unsigned records)
{
	struct exporter *exp = u->exp;
	enum export_log_level level = EXPORT_LOG_WARNING;
	uint64_t wait_ms, lo;
	bool go_on;

	u->failures++;
	if (status == 401 || status == 403)
		level = EXPORT_LOG_ERR;
	/* Log a new kind of failure at once, a repeated one at the 1st,
	 * 2nd, 4th, 8th ... attempt, so a long outage stays readable. */
	if (strcmp(what, u->logged_error) != 0 ||
	    (u->failures & (u->failures - 1)) == 0) {
		if (status == 401 || status == 403)
			export_logf(exp, level, "collector %s refused the "
				    "token (HTTP %ld): check the token file "
				    "and the collector's token list; %u "
				    "records kept, retrying (attempt %" PRIu64
				    ")", exp->url, status, records,
				    u->failures);
		else
			export_logf(exp, level, "collector %s: %s; %u records "
				    "kept, retrying (attempt %" PRIu64 ")",
				    exp->url, what, records, u->failures);
		snprintf(u->logged_error, sizeof(u->logged_error), "%s",
			 what);
	}

	/* Exponential back-off with jitter drawn in [d/2, d]. */
	wait_ms = u->backoff_ms;
	if ((uint64_t)retry_after_s * 1000 > wait_ms)
		wait_ms = (uint64_t)retry_after_s * 1000;
	if (wait_ms > exp->cfg.backoff_max_ms)
		wait_ms = exp->cfg.backoff_max_ms;
	lo = wait_ms / 2;
	wait_ms = lo + (uint64_t)rand_r(&u->rand_state) % (wait_ms - lo + 1);
	u->backoff_ms *= 2;
	if (u->backoff_ms > exp->cfg.backoff_max_ms)
		u->backoff_ms = exp->cfg.backoff_max_ms;

	pthread_mutex_lock(&exp->lock);
	exp->st.retries++;
	exp->st.last_http_status = status;
	snprintf(exp->st.last_error, sizeof(exp->st.last_error), "%s", what);
	go_on = uploader_wait_locked(exp, wait_ms);
	pthread_mutex_unlock(&exp->lock);
	return go_on;
}

static void
uploader_acked(struct uploader *u, const struct spool_span *span,
	       size_t len, unsigned records, long status, bool rejected)
{
	struct exporter *exp = u->exp;
	struct spool_unlink_list gone;
	struct spool_pos ack;
	long long n_new = -1, n_dup = -1;
	bool moved;
	int rc;

	if (!rejected) {
		n_new = uploader_answer_count(u->answer, "new");
		n_dup = uploader_answer_count(u->answer, "duplicate");
	}
	pthread_mutex_lock(&exp->lock);
	moved = spool_ack(exp->spool, span->pos, len, records, &ack, &gone);
	if (moved && rejected)
		exp->st.rejected += records;
	else if (moved)
		exp->st.acknowledged += records;
	if (n_new > 0)
		exp->st.acked_new += n_new;
	if (n_dup > 0)
		exp->st.acked_duplicate += n_dup;
	exp->st.last_http_status = status;
	if (!rejected)
		exp->st.last_error[0] = '\0';
	pthread_mutex_unlock(&exp->lock);

	if (!rejected && u->failures > 0) {
		export_logf(exp, EXPORT_LOG_NOTICE, "collector %s reachable "
			    "again after %" PRIu64 " failed attempts",
			    exp->url, u->failures);
	}
	if (!rejected) {
		u->failures = 0;
		u->logged_error[0] = '\0';
		u->backoff_ms = exp->cfg.backoff_min_ms;
	}
	if (!moved)
		return;
	if (u->split_records > 0 && spool_pos_cmp(ack, u->split_end) >= 0)
		u->split_records = 0;
	rc = spool_persist_ack(exp->spool, ack, &gone);
	if (rc < 0)
		/* The records are at the collector; the next run may send
		 * them again, which it stores once. */
		export_logf(exp, EXPORT_LOG_ERR, "spool %s: writing the ack "
			    "file: %s", exp->spool_dir, strerror(-rc));
}

/* 400 or 413 for this batch: halve it, or quarantine a lone record. */
static void
uploader_refused(struct uploader *u, const struct spool_span *span,
		 size_t len, unsigned records, long status)
{
	struct exporter *exp = u->exp;
	char msg[512], path[SPOOL_PATH_MAX];
	int rc;

	uploader_answer_text(u, msg, sizeof(msg));
	if (records > 1) {
		struct spool_pos end = { span->pos.seq, span->pos.off + len };

		u->split_records = records / 2;
		u->split_end = end;
		export_logf(exp, EXPORT_LOG_WARNING, "collector %s refused a "
			    "batch of %u records (HTTP %ld: %s); resending it "
			    "in halves to find the refused record",
			    exp->url, records, status, msg);
		return;
	}
	rc = spool_quarantine(exp->spool, span->pos, u->body, len, path,
			      sizeof(path));
	if (rc < 0) {
		/* Nowhere to keep it: keep it in the spool and retry. */
		export_logf(exp, EXPORT_LOG_ERR, "collector refused a record "
			    "(HTTP %ld: %s) and %s cannot be written: %s",
			    status, msg, path, strerror(-rc));
		uploader_failed(u, status, "refused record not quarantined",
				0, records);
		return;
	}
	export_logf(exp, EXPORT_LOG_ERR, "collector %s refused a record "
		    "(HTTP %ld: %s); moved it to %s", exp->url, status, msg,
		    path);
	pthread_mutex_lock(&exp->lock);
	if (snprintf(exp->st.last_error, sizeof(exp->st.last_error),
		     "HTTP %ld: %s", status, msg) >= EXPORT_ERROR_MAX)
		exp->st.last_error[EXPORT_ERROR_MAX - 1] = '\0';
	pthread_mutex_unlock(&exp->lock);
	uploader_acked(u, span, len, records, status, true);
}

/* One batch: read, POST, act on the answer. Returns false to stop. */
static bool
uploader_step(struct uploader *u, const struct spool_span *span)
{
	struct exporter *exp = u->exp;
	unsigned max_records = exp->cfg.batch_max_records, records;
	long status, retry_after_s;
	char what[EXPORT_ERROR_MAX];
	size_t len;
	int rc;

	if (u->split_records > 0 && u->split_records < max_records)
		max_records = u->split_records;
	rc = spool_read_span(span, u->body, max_records, &len, &records);
	if (rc == -ENOENT) {
		bool moved;

		pthread_mutex_lock(&exp->lock);
		moved = spool_pos_cmp(spool_ack_pos(exp->spool),
				      span->pos) != 0;
		pthread_mutex_unlock(&exp->lock);
		if (moved)
			return true;   /* dropped (spool full) meanwhile */
		/* removed behind our back: say so, without spinning */
	}
	if (rc < 0 || records == 0) {
		if (snprintf(what, sizeof(what), "reading %s: %s",
			     span->path, rc < 0 ? strerror(-rc) :
			     "no complete line") >= (int)sizeof(what))
			what[sizeof(what) - 1] = '\0';
		return uploader_failed(u, 0, what, 0, 0);
	}

	pthread_mutex_lock(&exp->lock);
	exp->st.requests++;
	exp->st.sent += records;
	pthread_mutex_unlock(&exp->lock);

	status = uploader_post(u, u->body, len, &retry_after_s);
	if (status >= 200 && status < 300) {
		long long acc = uploader_answer_count(u->answer, "accepted");

		if (acc >= 0 && acc != records)
			export_logf(exp, EXPORT_LOG_WARNING, "collector "
				    "accepted %lld of %u records sent",
				    acc, records);
		uploader_acked(u, span, len, records, status, false);
		return true;
	}
	if (status == 400 || status == 413) {
		uploader_refused(u, span, len, records, status);
		return true;
	}
	if (status == 0) {
		snprintf(what, sizeof(what), "%s", u->curl_err);
	} else {
		char msg[120];

		uploader_answer_text(u, msg, sizeof(msg));
		snprintf(what, sizeof(what), "HTTP %ld%s%s", status,
			 msg[0] ? ": " : "", msg);
	}
	return uploader_failed(u, status, what, retry_after_s, records);
}

void *
export_uploader_main(void *arg)
{
	struct exporter *exp = arg;
	struct uploader u;

	if (uploader_init(&u, exp) < 0) {
		export_logf(exp, EXPORT_LOG_ERR, "uploader: out of memory; "
			    "records stay in the spool");
		uploader_fini(&u);
		return NULL;
	}
	for (;;) {
		struct spool_span span;
		bool ready;

		pthread_mutex_lock(&exp->lock);
		while (!exp->stopping && !spool_has_ready(exp->spool))
			pthread_cond_wait(&exp->wake, &exp->lock);
		ready = spool_next_span(exp->spool, exp->cfg.batch_max_bytes,
					&span);
		if (exp->stopping &&
		    (!ready || export_now_ns() >= exp->drain_deadline_ns)) {
			pthread_mutex_unlock(&exp->lock);
			break;
		}
		pthread_mutex_unlock(&exp->lock);
		if (!uploader_step(&u, &span))
			break;
	}
	uploader_fini(&u);
	return NULL;
}
