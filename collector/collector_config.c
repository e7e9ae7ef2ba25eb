/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collector_config.h"
#include "metroprobe/mp_time.h"

#define NS_PER_DAY (86400ULL * MP_NS_PER_SEC)

static const char *const collector_keys[] = {
	"listen", "port", "port_file", "database", "max_body_bytes",
	"connection_timeout", "max_connections", "max_connections_per_ip",
	"threads", "maintain_interval", "retention_raw", "retention_minute",
	"retention_hour", "store_check", "report_threads", NULL,
};

/* The values of store_check, and the check each asks for. */
static const struct {
	const char *name;
	enum store_check check;
} store_checks[] = {
	{ "auto", STORE_CHECK_AUTO },
	{ "full", STORE_CHECK_FULL },
	{ "bounded", STORE_CHECK_BOUNDED },
};

/* The listener: address, port, connections and HTTP threads. */
static int
collector_config_listener(const struct mp_config *c,
			  struct collector_config *cc, char *err,
			  size_t errlen)
{
	uint64_t port = 0;
	int rc;

	rc = mp_config_get_string(c, "collector", "listen", "127.0.0.1",
				  &cc->listen, err, errlen);
	if (rc == 0)
		rc = mp_config_get_u64(c, "collector", "port", 8080, 0, 65535,
				       &port, err, errlen);
	if (rc == 0)
		rc = mp_config_get_string(c, "collector", "port_file", NULL,
					  &cc->port_file, err, errlen);
	if (rc == 0)
		rc = mp_config_get_u64(c, "collector", "max_body_bytes",
				       16ULL << 20, 1024, 1ULL << 30,
				       &cc->max_body_bytes, err, errlen);
	if (rc == 0)
		rc = mp_config_get_duration(c, "collector",
					    "connection_timeout",
					    10 * MP_NS_PER_SEC,
					    &cc->connection_timeout_ns, err,
					    errlen);
	if (rc == 0)
		rc = mp_config_get_u64(c, "collector", "max_connections", 256,
				       1, 65536, &cc->max_connections, err,
				       errlen);
	if (rc == 0)
		rc = mp_config_get_u64(c, "collector", "max_connections_per_ip",
				       32, 1, 65536,
				       &cc->max_connections_per_ip, err,
				       errlen);
	if (rc == 0)
		rc = mp_config_get_u64(c, "collector", "threads", 4, 1, 64,
				       &cc->threads, err, errlen);
	cc->port = (uint16_t)port;
	return rc;
}

/* [collector] store_check: the integrity check when the store opens. */
static int
collector_config_store_check(const struct mp_config *c,
			     enum store_check *out, char *err, size_t errlen)
{
	const char *v = mp_config_get(c, "collector", "store_check");
	size_t i;

	*out = STORE_CHECK_AUTO;
	if (v == NULL)
		return 0;
	for (i = 0; i < sizeof(store_checks) / sizeof(store_checks[0]); i++) {
		if (strcmp(v, store_checks[i].name) == 0) {
			*out = store_checks[i].check;
			return 0;
		}
	}
	snprintf(err, errlen, "%s:%u: [collector] store_check: '%s' is not "
		 "auto, full or bounded", mp_config_path(c),
		 mp_config_line(c, "collector", "store_check"), v);
	return -EINVAL;
}

/* The store: its file, its check on start, maintenance and retention. */
static int
collector_config_storage(const struct mp_config *c,
			 struct collector_config *cc, char *err,
			 size_t errlen)
{
	int rc;

	rc = mp_config_get_string(c, "collector", "database", "metroprobe.db",
				  &cc->database, err, errlen);
	if (rc == 0)
		rc = collector_config_store_check(c, &cc->store_check, err,
						  errlen);
	if (rc == 0)
		rc = mp_config_get_duration(c, "collector", "maintain_interval",
					    60 * MP_NS_PER_SEC,
					    &cc->maintain_interval_ns, err,
					    errlen);
	if (rc == 0)
		rc = mp_config_get_duration(c, "collector", "retention_raw",
					    7 * NS_PER_DAY,
					    &cc->retention.raw_ns, err, errlen);
	if (rc == 0)
		rc = mp_config_get_duration(c, "collector", "retention_minute",
					    90 * NS_PER_DAY,
					    &cc->retention.minute_ns, err,
					    errlen);
	if (rc == 0)
		rc = mp_config_get_duration(c, "collector", "retention_hour",
					    3 * 365 * NS_PER_DAY,
					    &cc->retention.hour_ns, err,
					    errlen);
	return rc;
}

/* Reports: the threads that evaluate their links. */
static int
collector_config_reports(const struct mp_config *c,
			 struct collector_config *cc, char *err,
			 size_t errlen)
{
	uint64_t threads = 0;
	int rc;

	rc = mp_config_get_u64(c, "collector", "report_threads", 0, 0,
			       REPORT_MAX_THREADS, &threads, err, errlen);
	cc->report_threads = (unsigned)threads;
	return rc;
}

int
collector_config_load(const char *path, struct collector_config *cc,
		      char *err, size_t errlen)
{
	const struct mp_config *c;
	int rc;

	memset(cc, 0, sizeof(*cc));
	rc = mp_config_load(path, &cc->cfg, err, errlen);
	if (rc < 0)
		return rc;
	c = cc->cfg;
	rc = mp_config_check_keys(c, "collector", collector_keys, err, errlen);
	if (rc == 0)
		rc = collector_config_listener(c, cc, err, errlen);
	if (rc == 0)
		rc = collector_config_storage(c, cc, err, errlen);
	if (rc == 0)
		rc = collector_config_reports(c, cc, err, errlen);
	if (rc == 0 && (cc->connection_timeout_ns < MP_NS_PER_SEC ||
			cc->maintain_interval_ns < MP_NS_PER_SEC)) {
		snprintf(err, errlen, "%s: [collector] connection_timeout and "
			 "maintain_interval are at least 1s", path);
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = auth_load(c, &cc->auth, err, errlen);
	if (rc < 0) {
		collector_config_free(cc);
		return rc;
	}
	return 0;
}

void
collector_config_free(struct collector_config *cc)
{
	auth_free(&cc->auth);
	mp_config_free(cc->cfg);
	cc->cfg = NULL;
}
