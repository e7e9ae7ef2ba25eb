/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The collector's INI config: [collector] (listener, database, limits,
 * retention) and [token.NAME] sections. [sla.*] sections are read by
 * sla_profiles_load (reporting/report.h) from the same mp_config.
 */
#ifndef METROPROBE_COLLECTOR_CONFIG_H
#define METROPROBE_COLLECTOR_CONFIG_H

#include <stdint.h>

#include "auth.h"
#include "metroprobe/config.h"
#include "report.h"
#include "store.h"
#include "store_sqlite.h"

struct collector_config {
	struct mp_config *cfg;         /* owned; strings below point into it */
	const char *listen;            /* numeric IPv4 or IPv6 address */
	uint16_t port;                 /* 0: any free port */
	const char *port_file;         /* NULL or a file to write the port to */
	const char *database;          /* SQLite file */
	enum store_check store_check;  /* its integrity check on start */
	uint64_t max_body_bytes;
	uint64_t connection_timeout_ns;
	uint64_t max_connections;
	uint64_t max_connections_per_ip;
	uint64_t threads;
	uint64_t maintain_interval_ns;
	unsigned report_threads;       /* report_request.threads */
	struct store_retention retention;
	struct auth_table auth;
};

int collector_config_load(const char *path, struct collector_config *cc,
			  char *err, size_t errlen);
void collector_config_free(struct collector_config *cc);

#endif
