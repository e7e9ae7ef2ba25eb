/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The measurement-quality keys of an interval record (record.h, struct
 * record_quality): the table made from foreach_record_quality_key, their
 * JSON for the encoder and the DOM decoder of record.c, and their merge.
 * The one-pass decoder (record_scan.c) builds its own keys from the same
 * list, so none of them can drift apart.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "metroprobe/record.h"
#include "record_priv.h"

const struct record_quality_key record_quality_keys[RECORD_QUALITY_NKEYS] = {
#define _(f, type, merge) \
	{ #f, RECORD_Q_##type, RECORD_Q_##merge, \
	  offsetof(struct record_quality, f) },
	foreach_record_quality_key
#undef _
};

/*
 * Not stated: no key written, so a record from an older producer that
 * is decoded and encoded again reads as it was. As elsewhere in the
 * record, counts above INT64_MAX are written as INT64_MAX; a lowest
 * negative sample above 0 (which a decoder would refuse, losing the
 * whole record) is written as 0, "none".
 */
int
record_quality_to_json(struct json_t *o, const struct record_quality *q)
{
	int rc = 0;

	if (!q->present)
		return 0;
	for (unsigned k = 0; k < RECORD_QUALITY_NKEYS; k++) {
		const struct record_quality_key *key = &record_quality_keys[k];
		const void *f = record_quality_field_c(q, k);
		json_t *v;

		switch (key->type) {
		case RECORD_Q_U64: {
			uint64_t u = *(const uint64_t *)f;

			v = json_integer(u > INT64_MAX ? INT64_MAX :
					 (json_int_t)u);
			break;
		}
		case RECORD_Q_BOOL:
			v = json_boolean(*(const bool *)f);
			break;
		default: {
			int64_t i = *(const int64_t *)f;

			v = json_integer(i > 0 ? 0 : (json_int_t)i);
			break;
		}
		}
		rc |= json_object_set_new(o, key->name, v);
	}
	return rc;
}

static int __attribute__((format(printf, 3, 4)))
quality_fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* One key's value into its field, with the message the other keys of
 * the record give for the same mistake. */
static int
quality_decode_value(const struct record_quality_key *key, json_t *v,
		     void *f, char *err, size_t errlen)
{
	json_int_t i;

	if (key->type == RECORD_Q_BOOL) {
		if (!json_is_boolean(v))
			return quality_fail(err, errlen, "key '%s': expected "
					    "true or false", key->name);
		*(bool *)f = json_is_true(v);
		return 0;
	}
	if (key->type == RECORD_Q_U64) {
		if (!json_is_integer(v))
			return quality_fail(err, errlen, "key '%s': expected "
					    "a non-negative integer",
					    key->name);
		i = json_integer_value(v);
		if (i < 0)
			return quality_fail(err, errlen, "key '%s': expected "
					    "a non-negative integer, got %lld",
					    key->name, (long long)i);
		*(uint64_t *)f = (uint64_t)i;
		return 0;
	}
	if (!json_is_integer(v))
		return quality_fail(err, errlen, "key '%s': expected an "
				    "integer <= 0", key->name);
	i = json_integer_value(v);
	if (i > 0)
		return quality_fail(err, errlen, "key '%s': expected an "
				    "integer <= 0, got %lld", key->name,
				    (long long)i);
	*(int64_t *)f = (int64_t)i;
	return 0;
}

int
record_quality_from_json(struct json_t *root, struct record_quality *q,
			 char *err, size_t errlen)
{
	for (unsigned k = 0; k < RECORD_QUALITY_NKEYS; k++) {
		const struct record_quality_key *key = &record_quality_keys[k];
		json_t *v = json_object_get(root, key->name);
		int rc;

		if (v == NULL)
			continue;
		rc = quality_decode_value(key, v, record_quality_field(q, k),
					  err, errlen);
		if (rc < 0)
			return rc;
		q->present = true;
	}
	return 0;
}

/* One key of r into acc, both stated. */
static void
quality_merge_key(const struct record_quality_key *key, void *acc,
		  const void *r)
{
	switch (key->merge) {
	case RECORD_Q_MAX:
		if (*(const uint64_t *)r > *(uint64_t *)acc)
			*(uint64_t *)acc = *(const uint64_t *)r;
		break;
	case RECORD_Q_ADD:
		*(uint64_t *)acc += *(const uint64_t *)r;
		break;
	case RECORD_Q_MIN:
		if (*(const int64_t *)r < *(int64_t *)acc)
			*(int64_t *)acc = *(const int64_t *)r;
		break;
	case RECORD_Q_OR:
		*(bool *)acc = *(bool *)acc || *(const bool *)r;
		break;
	default:                                         /* AND */
		*(bool *)acc = *(bool *)acc && *(const bool *)r;
		break;
	}
}

void
record_quality_merge(struct record_quality *acc,
		     const struct record_quality *r)
{
	if (!r->present)
		return;                 /* nothing stated: nothing to add */
	if (!acc->present) {
		*acc = *r;
		return;
	}
	for (unsigned k = 0; k < RECORD_QUALITY_NKEYS; k++)
		quality_merge_key(&record_quality_keys[k],
				  record_quality_field(acc, k),
				  record_quality_field_c(r, k));
}
