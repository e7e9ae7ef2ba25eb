/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test harness of the export tests: starts, stops, pauses and steers the
 * collector test double (collector_double.py, real HTTP on loopback),
 * makes interval records, and waits on the exporter's counters.
 */
#ifndef METROPROBE_TESTS_EXPORT_HARNESS_H
#define METROPROBE_TESTS_EXPORT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "export.h"

struct test_double {
	pid_t pid;
	int port;
	char dir[256];           /* scratch: port file, store */
	char store[300];
	char token[64];          /* "" : no token required */
};

struct double_stats {
	long requests, ok_requests, lines, unique, duplicates, max_batch;
	long auth_failures, rejected, failed, connections, bad_content_type;
	/* stored keys "probe|session|start_ns", sorted; free with
	 * double_stats_free */
	char **keys;
	size_t n_keys;
};

/* A fresh scratch directory under $TMPDIR (or /tmp). */
void harness_tmpdir(char *buf, size_t len, const char *what);
void harness_rmrf(const char *path);

/* port 0: any free port. token NULL: none required. */
int double_start(struct test_double *d, int port, const char *token);
void double_kill(struct test_double *d);   /* SIGKILL, wait */
void double_restart(struct test_double *d);   /* same port and store */
void double_pause(struct test_double *d);     /* SIGSTOP */
void double_resume(struct test_double *d);    /* SIGCONT */
void double_cleanup(struct test_double *d);   /* kill + remove dir */
int double_control(struct test_double *d, const char *json);
int double_stats(struct test_double *d, struct double_stats *s);
void double_stats_free(struct double_stats *s);
bool double_has_key(const struct double_stats *s, const char *probe,
		    const char *session, uint64_t start_ns);
void double_url(const struct test_double *d, char *buf, size_t len);

/* One interval record of the schema, as one JSON line (no newline). */
#define RECORD_BASE_NS 1800000000000000000ULL
int harness_record(char *buf, size_t len, const char *probe,
		   const char *session, uint64_t idx);
/* The same with record idx starting at base_ns + idx seconds. */
int harness_record_at(char *buf, size_t len, const char *probe,
		      const char *session, uint64_t idx, uint64_t base_ns);
static inline uint64_t
harness_start_ns(uint64_t idx)
{
	return RECORD_BASE_NS + idx * 1000000000ULL;
}

/* Collects the exporter's log lines for the tests to look at. */
void harness_log(enum export_log_level level, const char *msg, void *arg);
bool harness_log_has(const char *needle);
void harness_log_clear(void);

/* Polls export_stats until pred holds or timeout_ms passes. */
typedef bool (*harness_pred)(const struct export_stats *st, uint64_t arg);
bool harness_wait(struct exporter *exp, harness_pred pred, uint64_t arg,
		  unsigned timeout_ms, struct export_stats *last);
bool pred_acked_at_least(const struct export_stats *st, uint64_t n);
bool pred_pending_zero(const struct export_stats *st, uint64_t unused);
bool pred_retries_at_least(const struct export_stats *st, uint64_t n);

uint64_t harness_now_ns(void);
void harness_sleep_ms(unsigned ms);
int harness_write_file(const char *path, const char *text, mode_t mode);

#endif
