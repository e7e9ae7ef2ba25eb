/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The collector's HTTP API (libmicrohttpd, internal thread pool):
 *   POST /api/v1/intervals   NDJSON records, probe or admin token
 *   GET  /api/v1/report      ?from=&to=&format=[&probe=], reader or admin
 *   GET  /metrics            Prometheus text, no token
 *   GET  /healthz            "ok", no token
 */
#ifndef METROPROBE_COLLECTOR_HTTP_H
#define METROPROBE_COLLECTOR_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "collector_config.h"
#include "metrics.h"
#include "report.h"
#include "store.h"

struct http_server;

int http_start(const struct collector_config *cc, struct store *st,
	       struct metrics *m, const struct sla_profile_set *sla,
	       struct http_server **out, char *err, size_t errlen);
/* The bound port (the one the kernel chose when configured as 0). */
uint16_t http_port(const struct http_server *h);
/* Stops accepting, lets running requests finish, frees. */
void http_stop(struct http_server *h);

#endif
