/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Decoding of an upload body: newline-delimited metroprobe.interval.v1
 * records, fed one at a time to store_insert_stream so a large body never
 * holds all its decoded histograms at once. The first bad line stops the
 * stream (the store rolls the whole body back) and leaves an HTTP status
 * and a message naming the line and the key.
 */
#ifndef METROPROBE_COLLECTOR_INGEST_H
#define METROPROBE_COLLECTOR_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "metroprobe/record.h"

struct ingest_source {
	const char *body;
	size_t len;
	size_t pos;
	unsigned line;                 /* line of the record last decoded */
	const struct auth_token *token;
	size_t n_records;
	/* Set when a line is rejected: 400 (bad record) or 403 (a probe
	 * token writing another probe's record). */
	unsigned status;
	char message[320];
	/* Latest record of each link in the body (histograms not kept),
	 * for the /metrics gauges once the body is committed. */
	struct interval_record *latest;
	size_t n_latest, cap_latest;
	/* Decoder reused for every line of the body (made at the first
	 * line): the histograms of the record ingest_next returns live in
	 * it until the next call, time enough for the store to encode it. */
	struct record_parser *parser;
};

void ingest_source_init(struct ingest_source *src, const char *body,
			size_t len, const struct auth_token *token);
void ingest_source_fini(struct ingest_source *src);

/* True when the body holds at least one non-blank line. */
bool ingest_body_has_lines(const char *body, size_t len);

/* store_next_fn: 1 with *r filled, 0 at the end, -EINVAL or -EPERM.
 * r's histograms stay valid until the next call (see parser above). */
int ingest_next(struct interval_record *r, void *arg);

#endif
