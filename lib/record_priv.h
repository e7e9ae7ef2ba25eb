/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the two interval record decoders share (lib/record.c, the jansson
 * DOM decoder; lib/record_scan.c, the one-pass decoder), and the JSON of
 * the quality keys (lib/record_quality.c). Private to lib/.
 */
#ifndef METROPROBE_RECORD_PRIV_H
#define METROPROBE_RECORD_PRIV_H

#include <stdint.h>

#include "metroprobe/record.h"

/* A uint64_t field of a record, by offset. */
#define RECORD_U64(r, off) ((uint64_t *)((char *)(r) + (off)))

/* The keys of a delay summary object, in schema order. */
#define N_SUMMARY_FIELDS 7
static const char *const summary_fields[N_SUMMARY_FIELDS] = {
	"min", "mean", "p50", "p90", "p99", "p999", "max",
};

static inline uint64_t *
summary_field(struct delay_summary *s, unsigned k)
{
	uint64_t *f[N_SUMMARY_FIELDS] = {
		&s->min, &s->mean, &s->p50, &s->p90, &s->p99, &s->p999, &s->max,
	};
	return f[k];
}

struct json_t;

/* Adds the quality keys to a record's object when q->present; 0 or a
 * negative number when one could not be added. */
int record_quality_to_json(struct json_t *o, const struct record_quality *q);
/* Decodes the quality keys of a record's object into q (zeroed by the
 * caller): each is optional, any one sets q->present. 0, or -EINVAL
 * with the key named in err. */
int record_quality_from_json(struct json_t *root, struct record_quality *q,
			     char *err, size_t errlen);

#endif
