/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SLA profiles, SLA evaluation and reports. Reads records only through
 * the storage interface (store.h); the same function serves the
 * `metroprobe-collector report` command and GET /api/v1/report.
 */
#ifndef METROPROBE_COLLECTOR_REPORT_H
#define METROPROBE_COLLECTOR_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metroprobe/config.h"
#include "store.h"

struct sla_profile_set;

/*
 * Reads [sla.NAME] sections (and link/group assignments) from the
 * collector config; with none, the built-in default profile for this
 * backbone applies to every link. Returns 0 or -EINVAL with a message
 * naming file, line and key.
 */
int sla_profiles_load(const struct mp_config *cfg,
		      struct sla_profile_set **out, char *err, size_t errlen);
void sla_profiles_free(struct sla_profile_set *set);

enum report_format {
	REPORT_JSON = 0,
	REPORT_CSV,
	REPORT_HTML,
};

/* A report evaluates its links on up to this many threads. */
#define REPORT_MAX_THREADS 4

struct report_request {
	uint64_t from_ns;
	uint64_t to_ns;
	enum report_format format;
	const char *probe;     /* optional filter, NULL: all */
	const char *title;     /* optional, NULL: default */
	/* Read every record, not the per-minute figures and exact hour
	 * rollups (the same report, slower; for tests and comparisons). */
	bool no_figs;
	uint64_t generated_ns; /* time the report states; 0: now */
	/* threads evaluating the links, 1 to REPORT_MAX_THREADS; 0: one
	 * per core, up to REPORT_MAX_THREADS ([collector] report_threads) */
	unsigned threads;
};

/*
 * Parses a request from key/value pairs (the HTTP query string or the
 * command line's --from/--to/--format/--probe): keys "from", "to",
 * "format", "probe". lookup(key, arg) returns the value or NULL.
 * Returns 0 or -EINVAL with a message naming the key.
 */
int report_request_parse(struct report_request *req,
			 const char *(*lookup)(const char *key, void *arg),
			 void *arg, char *err, size_t errlen);

/*
 * Builds the report. *out is malloc'd (the caller frees), *out_len its
 * length. Returns 0 or a negative errno with a message in err.
 */
int report_generate(struct store *st, const struct sla_profile_set *set,
		    const struct report_request *req, char **out,
		    size_t *out_len, char *err, size_t errlen);

/* MIME type of a format ("application/json", "text/csv; charset=utf-8",
 * "text/html; charset=utf-8"). */
const char *report_content_type(enum report_format f);

#endif
