/* SPDX-License-Identifier: BSD-3-Clause */
/* Test harness of the export tests (see harness.h). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "metroprobe/hist.h"
#include "metroprobe/record.h"

uint64_t
harness_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void
harness_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void
harness_tmpdir(char *buf, size_t len, const char *what)
{
	const char *t = getenv("TMPDIR");

	snprintf(buf, len, "%s/mp-export-%s-%d-XXXXXX", t ? t : "/tmp", what,
		 (int)getpid());
	if (mkdtemp(buf) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

static int
harness_rm_cb(const char *path, const struct stat *sb, int flag,
	      struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
harness_rmrf(const char *path)
{
	nftw(path, harness_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int
harness_write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != len) {
		close(fd);
		return -EIO;
	}
	fchmod(fd, mode);
	close(fd);
	return 0;
}

/* ---- the collector double ---- */

static int
double_spawn(struct test_double *d, int port)
{
	const char *py = getenv("EXPORT_PYTHON");
	const char *script = getenv("EXPORT_DOUBLE");
	char port_file[300], port_arg[16];
	uint64_t until;
	pid_t pid;

	if (py == NULL)
		py = "python3";
	if (script == NULL) {
		fprintf(stderr, "EXPORT_DOUBLE is not set\n");
		return -EINVAL;
	}
	snprintf(port_file, sizeof(port_file), "%s/port", d->dir);
	unlink(port_file);
	snprintf(port_arg, sizeof(port_arg), "%d", port);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (d->token[0])
			execlp(py, py, script, "--port", port_arg,
			       "--port-file", port_file, "--store", d->store,
			       "--token", d->token, (char *)NULL);
		else
			execlp(py, py, script, "--port", port_arg,
			       "--port-file", port_file, "--store", d->store,
			       (char *)NULL);
		_exit(127);
	}
	d->pid = pid;
	until = harness_now_ns() + 15000000000ULL;
	while (harness_now_ns() < until) {
		FILE *f = fopen(port_file, "r");
		int status;

		if (f != NULL) {
			int p = 0;

			if (fscanf(f, "%d", &p) == 1 && p > 0) {
				fclose(f);
				d->port = p;
				return 0;
			}
			fclose(f);
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->pid = 0;
			fprintf(stderr, "collector double exited early\n");
			return -ECHILD;
		}
		harness_sleep_ms(20);
	}
	double_kill(d);
	return -ETIMEDOUT;
}

int
double_start(struct test_double *d, int port, const char *token)
{
	memset(d, 0, sizeof(*d));
	harness_tmpdir(d->dir, sizeof(d->dir), "double");
	snprintf(d->store, sizeof(d->store), "%s/store.ndjson", d->dir);
	if (token != NULL)
		snprintf(d->token, sizeof(d->token), "%s", token);
	return double_spawn(d, port);
}

void
double_kill(struct test_double *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGCONT);
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = 0;
	}
}

void
double_restart(struct test_double *d)
{
	uint64_t until = harness_now_ns() + 10000000000ULL;

	double_kill(d);
	/* The port may linger a moment; SO_REUSEADDR covers TIME_WAIT. */
	while (double_spawn(d, d->port) < 0 && harness_now_ns() < until)
		harness_sleep_ms(100);
}

void
double_pause(struct test_double *d)
{
	if (d->pid > 0)
		kill(d->pid, SIGSTOP);
}

void
double_resume(struct test_double *d)
{
	if (d->pid > 0)
		kill(d->pid, SIGCONT);
}

void
double_cleanup(struct test_double *d)
{
	double_kill(d);
	if (d->dir[0])
		harness_rmrf(d->dir);
	d->dir[0] = '\0';
}

void
double_url(const struct test_double *d, char *buf, size_t len)
{
	snprintf(buf, len, "http://127.0.0.1:%d", d->port);
}

struct http_buf {
	char *data;
	size_t len;
};

static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_buf *b = arg;
	size_t n = size * nmemb;
	char *p = realloc(b->data, b->len + n + 1);

	if (p == NULL)
		return 0;
	memcpy(p + b->len, ptr, n);
	b->data = p;
	b->len += n;
	p[b->len] = '\0';
	return n;
}

static int
double_http(struct test_double *d, const char *path, const char *post,
	    struct http_buf *out)
{
	char url[128];
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode rc;

	if (c == NULL)
		return -ENOMEM;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", d->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (post != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK || status != 200)
		return -EIO;
	return 0;
}

int
double_control(struct test_double *d, const char *json)
{
	struct http_buf b = { 0 };
	int rc = double_http(d, "/control", json, &b);

	free(b.data);
	return rc;
}

static long
json_long(json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

int
double_stats(struct test_double *d, struct double_stats *s)
{
	struct http_buf b = { 0 };
	json_error_t jerr;
	json_t *o, *keys;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = double_http(d, "/stats", NULL, &b);
	if (rc < 0) {
		free(b.data);
		return rc;
	}
	o = json_loads(b.data, 0, &jerr);
	free(b.data);
	if (o == NULL)
		return -EINVAL;
	s->requests = json_long(o, "requests");
	s->ok_requests = json_long(o, "ok_requests");
	s->lines = json_long(o, "lines");
	s->unique = json_long(o, "unique");
	s->duplicates = json_long(o, "duplicates");
	s->max_batch = json_long(o, "max_batch");
	s->auth_failures = json_long(o, "auth_failures");
	s->rejected = json_long(o, "rejected");
	s->failed = json_long(o, "failed");
	s->connections = json_long(o, "connections");
	s->bad_content_type = json_long(o, "bad_content_type");
	keys = json_object_get(o, "keys");
	s->n_keys = json_array_size(keys);
	s->keys = calloc(s->n_keys + 1, sizeof(char *));
	for (size_t i = 0; i < s->n_keys; i++)
		s->keys[i] = strdup(json_string_value(json_array_get(keys, i)));
	json_decref(o);
	return 0;
}

void
double_stats_free(struct double_stats *s)
{
	for (size_t i = 0; i < s->n_keys; i++)
		free(s->keys[i]);
	free(s->keys);
	s->keys = NULL;
	s->n_keys = 0;
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool
double_has_key(const struct double_stats *s, const char *probe,
	       const char *session, uint64_t start_ns)
{
	char key[200];
	const char *k = key;

	snprintf(key, sizeof(key), "%s|%s|%" PRIu64, probe, session,
		 start_ns);
	return bsearch(&k, s->keys, s->n_keys, sizeof(char *),
		       key_cmp) != NULL;
}

/* ---- records ---- */

/*
 * A real interval record, made with the core library's record_to_json:
 * RTT summary and histogram from a deterministic set of delays, so every
 * record differs and each is valid for the real collector too.
 */
int
harness_record(char *buf, size_t len, const char *probe, const char *session,
	       uint64_t idx)
{
	return harness_record_at(buf, len, probe, session, idx,
				 RECORD_BASE_NS);
}

int
harness_record_at(char *buf, size_t len, const char *probe,
		  const char *session, uint64_t idx, uint64_t base_ns)
{
	static struct hist rtt;
	struct interval_record r;
	uint64_t lost = idx % 3;
	char *json;
	int n;

	record_init(&r);
	snprintf(r.probe, sizeof(r.probe), "%s", probe);
	snprintf(r.session, sizeof(r.session), "%s", session);
	snprintf(r.src, sizeof(r.src), "10.0.1.1:862");
	snprintf(r.dst, sizeof(r.dst), "10.0.2.1:862");
	r.start_ns = base_ns + idx * 1000000000ULL;
	r.interval_ns = 1000000000ULL;
	r.tx_pkts = 100;
	r.tx_bytes = 100 * 128;
	r.rx_pkts = r.tx_pkts - lost;
	r.rx_bytes = r.rx_pkts * 128;
	r.lost = lost;
	r.lost_fwd = lost;
	hist_init(&rtt);
	for (uint64_t k = 0; k < r.rx_pkts; k++)
		hist_insert(&rtt, 180000 + (idx * 7919 + k * 104729) % 40000);
	r.hist[RECORD_HIST_RTT] = &rtt;   /* not owned: not freed */
	delay_summary_from_hist(&r.rtt, &rtt);
	r.jitter_ns = 1500 + idx % 100;
	r.throughput_bps = (double)r.rx_bytes * 8;
	r.throughput_l1_bps = (double)(r.rx_bytes + 20 * r.rx_pkts) * 8;
	json = record_to_json(&r);
	if (json == NULL)
		return -ENOMEM;
	n = snprintf(buf, len, "%s", json);
	free(json);
	return n > 0 && (size_t)n < len ? n : -ENOSPC;
}

/* ---- log capture ---- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[1 << 16];
static size_t log_len;

void
harness_log(enum export_log_level level, const char *msg, void *arg)
{
	size_t n = strlen(msg);

	(void)arg;
	if (getenv("EXPORT_TEST_VERBOSE"))
		fprintf(stderr, "[export %d] %s\n", (int)level, msg);
	pthread_mutex_lock(&log_lock);
	if (log_len + n + 2 < sizeof(log_text)) {
		memcpy(log_text + log_len, msg, n);
		log_len += n;
		log_text[log_len++] = '\n';
		log_text[log_len] = '\0';
	}
	pthread_mutex_unlock(&log_lock);
}

bool
harness_log_has(const char *needle)
{
	bool found;

	pthread_mutex_lock(&log_lock);
	found = strstr(log_text, needle) != NULL;
	pthread_mutex_unlock(&log_lock);
	return found;
}

void
harness_log_clear(void)
{
	pthread_mutex_lock(&log_lock);
	log_len = 0;
	log_text[0] = '\0';
	pthread_mutex_unlock(&log_lock);
}

/* ---- waiting ---- */

bool
harness_wait(struct exporter *exp, harness_pred pred, uint64_t arg,
	     unsigned timeout_ms, struct export_stats *last)
{
	uint64_t until = harness_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	struct export_stats st;

	for (;;) {
		export_stats(exp, &st);
		if (last != NULL)
			*last = st;
		if (pred(&st, arg))
			return true;
		if (harness_now_ns() >= until)
			return false;
		harness_sleep_ms(20);
	}
}

bool
pred_acked_at_least(const struct export_stats *st, uint64_t n)
{
	return st->acknowledged >= n;
}

bool
pred_pending_zero(const struct export_stats *st, uint64_t unused)
{
	(void)unused;
	return st->pending == 0;
}

bool
pred_retries_at_least(const struct export_stats *st, uint64_t n)
{
	return st->retries >= n;
}
