/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

void
ingest_source_init(struct ingest_source *src, const char *body, size_t len,
		   const struct auth_token *token)
{
	memset(src, 0, sizeof(*src));
	src->body = body;
	src->len = len;
	src->token = token;
}

void
ingest_source_fini(struct ingest_source *src)
{
	free(src->latest);
	src->latest = NULL;
	record_parser_free(src->parser);
	src->parser = NULL;
	src->n_latest = 0;
	src->cap_latest = 0;
}

static bool
is_blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

bool
ingest_body_has_lines(const char *body, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' &&
		    body[i] != '\n')
			return true;
	return false;
}

static int
ingest_reject(struct ingest_source *src, unsigned status, int rc,
	      const char *fmt, const char *detail)
{
	src->status = status;
	snprintf(src->message, sizeof(src->message), "line %u: ", src->line);
	snprintf(src->message + strlen(src->message),
		 sizeof(src->message) - strlen(src->message), fmt, detail);
	return rc;
}

static int
ingest_note_latest(struct ingest_source *src, const struct interval_record *r)
{
	struct interval_record *l;
	size_t i;

	for (i = 0; i < src->n_latest; i++) {
		l = &src->latest[i];
		if (strcmp(l->probe, r->probe) == 0 &&
		    strcmp(l->session, r->session) == 0) {
			if (r->start_ns >= l->start_ns) {
				*l = *r;
				memset(l->hist, 0, sizeof(l->hist));
			}
			return 0;
		}
	}
	if (src->n_latest == src->cap_latest) {
		size_t cap = src->cap_latest == 0 ? 4 : 2 * src->cap_latest;

		l = realloc(src->latest, cap * sizeof(*l));
		if (l == NULL)
			return -ENOMEM;
		src->latest = l;
		src->cap_latest = cap;
	}
	l = &src->latest[src->n_latest++];
	*l = *r;
	memset(l->hist, 0, sizeof(l->hist));
	return 0;
}

int
ingest_next(struct interval_record *r, void *arg)
{
	struct ingest_source *src = arg;
	char why[256];
	const char *p, *nl;
	size_t n;
	int rc;

	for (;;) {
		if (src->pos >= src->len)
			return 0;
		p = src->body + src->pos;
		nl = memchr(p, '\n', src->len - src->pos);
		n = nl != NULL ? (size_t)(nl - p) : src->len - src->pos;
		src->pos += n + (nl != NULL ? 1 : 0);
		src->line++;
		if (!is_blank(p, n))
			break;
	}
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (memchr(p, '\0', n) != NULL)
		return ingest_reject(src, 400, -EINVAL, "%s",
				     "a NUL byte is not JSON");
	if (src->parser == NULL)
		src->parser = record_parser_new();
	rc = src->parser != NULL ?
		record_parse_json(src->parser, p, n, r, why, sizeof(why)) :
		record_from_json(p, n, r, why, sizeof(why));
	if (rc < 0)
		return ingest_reject(src, 400, -EINVAL, "%s", why);
	/* SQLite keys are signed 64-bit: 2^63 ns is in the year 2262. */
	if (r->start_ns > (uint64_t)INT64_MAX)
		return ingest_reject(src, 400, -EINVAL, "%s",
				     "key 'start_ns': out of range");
	if (r->interval_ns > (uint64_t)INT64_MAX)
		return ingest_reject(src, 400, -EINVAL, "%s",
				     "key 'interval_ns': out of range");
	if (!auth_may_write(src->token, r->probe))
		return ingest_reject(src, 403, -EPERM,
				     "key 'probe': this token may not write "
				     "records of probe '%s'", r->probe);
	if (ingest_note_latest(src, r) < 0)
		return ingest_reject(src, 500, -ENOMEM, "%s", "out of memory");
	src->n_records++;
	return 1;
}
