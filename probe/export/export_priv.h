/* SPDX-License-Identifier: BSD-3-Clause */
/* The exporter's state, shared by export.c and uploader.c. */
#ifndef METROPROBE_EXPORT_PRIV_H
#define METROPROBE_EXPORT_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "export.h"
#include "spool.h"

struct exporter {
	struct export_config cfg;       /* strings below are owned copies */
	char *url;                      /* full ingest URL */
	char *spool_dir;
	char *auth_header;              /* "Authorization: Bearer ..." */

	pthread_mutex_t lock;           /* spool, stats, flags below */
	pthread_cond_t wake;            /* CLOCK_MONOTONIC */
	struct spool *spool;
	struct export_stats st;
	bool stopping;
	uint64_t drain_deadline_ns;     /* monotonic, valid when stopping */
	/* Drain deadline for curl's progress callback (0: none). */
	atomic_uint_fast64_t abort_at_ns;

	bool thread_started;
	pthread_t thread;
};

uint64_t export_now_ns(void);
void export_logf(struct exporter *exp, enum export_log_level level,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The uploader thread's body (uploader.c). */
void *export_uploader_main(void *arg);
/* Once per process, before the first thread starts. */
int export_uploader_global_init(void);

#endif
