/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interval record (schema metroprobe.interval.v1, DESIGN.md): JSON
 * encoding with jansson, validating decoding, and exact merging.
 *
 * Decoding is strict about the keys the schema defines (type, sign,
 * length, presence) and tolerant of keys it does not know, so a later
 * v1 producer may add optional keys without breaking older collectors.
 * It has two decoders: this file's jansson DOM decoder (the reference,
 * which takes every line the other one leaves and writes every error
 * message) and the one-pass decoder of record_scan.c for the plain
 * lines producers write (the fast path, what the collector runs per
 * uploaded line).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "metroprobe/record.h"
#include "record_priv.h"

const char *const record_hist_names[RECORD_HIST_COUNT] = {
	[RECORD_HIST_RTT] = "rtt",
	[RECORD_HIST_OWD_FWD] = "owd_fwd",
	[RECORD_HIST_OWD_BACK] = "owd_back",
	[RECORD_HIST_IPDV] = "ipdv",
};

/* Summary key of each histogram, and where the summary lives. */
static const struct {
	const char *key;
	size_t off;
} summary_keys[RECORD_HIST_COUNT] = {
	[RECORD_HIST_RTT] = { "rtt_ns",
		offsetof(struct interval_record, rtt) },
	[RECORD_HIST_OWD_FWD] = { "owd_fwd_ns",
		offsetof(struct interval_record, owd_fwd) },
	[RECORD_HIST_OWD_BACK] = { "owd_back_ns",
		offsetof(struct interval_record, owd_back) },
	[RECORD_HIST_IPDV] = { "ipdv_ns",
		offsetof(struct interval_record, ipdv) },
};

/* Required unsigned counters, in schema order. */
static const struct {
	const char *key;
	size_t off;
} counter_keys[] = {
	{ "start_ns", offsetof(struct interval_record, start_ns) },
	{ "interval_ns", offsetof(struct interval_record, interval_ns) },
	{ "tx_pkts", offsetof(struct interval_record, tx_pkts) },
	{ "tx_bytes", offsetof(struct interval_record, tx_bytes) },
	{ "rx_pkts", offsetof(struct interval_record, rx_pkts) },
	{ "rx_bytes", offsetof(struct interval_record, rx_bytes) },
	{ "lost", offsetof(struct interval_record, lost) },
	{ "lost_fwd", offsetof(struct interval_record, lost_fwd) },
	{ "lost_back", offsetof(struct interval_record, lost_back) },
	{ "reordered", offsetof(struct interval_record, reordered) },
	{ "duplicates", offsetof(struct interval_record, duplicates) },
};
#define N_COUNTERS (sizeof(counter_keys) / sizeof(counter_keys[0]))

static struct delay_summary *
record_summary(struct interval_record *r, unsigned i)
{
	return (struct delay_summary *)((char *)r + summary_keys[i].off);
}

static const struct delay_summary *
record_summary_c(const struct interval_record *r, unsigned i)
{
	return (const struct delay_summary *)((const char *)r +
					      summary_keys[i].off);
}

void
delay_summary_from_hist(struct delay_summary *s, const struct hist *h)
{
	memset(s, 0, sizeof(*s));
	if (h == NULL || hist_empty(h))
		return;
	s->present = true;
	s->min = h->min;
	s->mean = hist_mean(h);
	/* all four in one walk of the occupied buckets */
	static const double q[4] = { 0.50, 0.90, 0.99, 0.999 };
	uint64_t v[4];
	hist_quantiles(h, q, v, 4);
	s->p50 = v[0];
	s->p90 = v[1];
	s->p99 = v[2];
	s->p999 = v[3];
	s->max = h->max;
}

void
record_init(struct interval_record *r)
{
	memset(r, 0, sizeof(*r));
}

void
record_free(struct interval_record *r)
{
	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++)
		if (r->hist_owned & (1u << i))
			free(r->hist[i]);
	record_init(r);
}

/* ---- encoding ---- */

/* JSON integers are signed 64-bit: larger counts (never reached in
 * practice: 292 years of nanoseconds) are clamped. */
static json_t *
json_u64(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *
json_rate(double v)
{
	return json_real(isfinite(v) && v > 0 ? v : 0.0);
}

static json_t *
summary_to_json(const struct delay_summary *s)
{
	if (!s->present)
		return json_null();
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	const uint64_t vals[N_SUMMARY_FIELDS] = {
		s->min, s->mean, s->p50, s->p90, s->p99, s->p999, s->max,
	};
	for (unsigned k = 0; k < N_SUMMARY_FIELDS; k++) {
		if (json_object_set_new(o, summary_fields[k],
					json_u64(vals[k])) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *
hist_to_json(const struct hist *h)
{
	if (h == NULL)
		return json_null();
	char *b64 = hist_to_base64(h);
	if (b64 == NULL)
		return NULL;
	json_t *s = json_string(b64);
	free(b64);
	return s;
}

char *
record_to_json(const struct interval_record *r)
{
	json_t *o = json_object();
	json_t *hist = json_object();
	json_t *drops = json_object();
	int rc = 0;

	if (o == NULL || hist == NULL || drops == NULL) {
		json_decref(o);
		json_decref(hist);
		json_decref(drops);
		return NULL;
	}

	/* json_object_set_new() takes the value even when it fails, and
	 * fails on a NULL value: errors accumulate in rc. */
	rc |= json_object_set_new(o, "schema", json_string(RECORD_SCHEMA));
	rc |= json_object_set_new(o, "probe", json_string(r->probe));
	rc |= json_object_set_new(o, "session", json_string(r->session));
	rc |= json_object_set_new(o, "src", json_string(r->src));
	rc |= json_object_set_new(o, "dst", json_string(r->dst));
	for (unsigned k = 0; k < N_COUNTERS; k++)
		rc |= json_object_set_new(o, counter_keys[k].key,
			json_u64(*RECORD_U64(r, counter_keys[k].off)));
	rc |= json_object_set_new(o, "clock_synced",
				  json_boolean(r->clock_synced));
	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++)
		rc |= json_object_set_new(o, summary_keys[i].key,
			summary_to_json(record_summary_c(r, i)));
	rc |= json_object_set_new(o, "jitter_ns", json_u64(r->jitter_ns));
	rc |= json_object_set_new(o, "throughput_bps",
				  json_rate(r->throughput_bps));
	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++)
		rc |= json_object_set_new(hist, record_hist_names[i],
					  hist_to_json(r->hist[i]));
	rc |= json_object_set_new(o, "hist", hist);
	/* Optional keys. */
	rc |= json_object_set_new(o, "throughput_l1_bps",
				  json_rate(r->throughput_l1_bps));
	rc |= json_object_set_new(o, "late", json_u64(r->late));
	rc |= json_object_set_new(o, "hw_timestamps",
				  json_boolean(r->hw_timestamps));
	for (unsigned k = 0; k < r->n_drops && k < RECORD_MAX_DROPS; k++)
		rc |= json_object_set_new(drops, r->drops[k].name,
					  json_u64(r->drops[k].value));
	rc |= json_object_set_new(o, "drops", drops);
	if (record_quality_to_json(o, &r->q) != 0)
		rc = -1;

	char *out = NULL;
	if (rc == 0)
		out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
}

/* ---- decoding ---- */

struct record_decoder {
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 2, 3)))
dec_fail(struct record_decoder *d, const char *fmt, ...)
{
	if (d->err != NULL && d->errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(d->err, d->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int
dec_u64(struct record_decoder *d, const json_t *v, const char *name,
	uint64_t *out)
{
	if (!json_is_integer(v))
		return dec_fail(d, "key '%s': expected a non-negative integer",
				name);
	json_int_t i = json_integer_value(v);
	if (i < 0)
		return dec_fail(d, "key '%s': expected a non-negative integer, "
				"got %lld", name, (long long)i);
	*out = (uint64_t)i;
	return 0;
}

static int
dec_rate(struct record_decoder *d, const json_t *v, const char *name,
	 double *out)
{
	if (!json_is_number(v))
		return dec_fail(d, "key '%s': expected a non-negative number",
				name);
	double x = json_number_value(v);
	if (!(x >= 0) || !isfinite(x))
		return dec_fail(d, "key '%s': expected a non-negative number",
				name);
	*out = x;
	return 0;
}

static int
dec_string(struct record_decoder *d, const json_t *v, const char *name,
	   char *out, size_t size)
{
	if (!json_is_string(v))
		return dec_fail(d, "key '%s': expected a string", name);
	size_t len = json_string_length(v);
	const char *s = json_string_value(v);
	if (len == 0)
		return dec_fail(d, "key '%s': empty string", name);
	if (len >= size)
		return dec_fail(d, "key '%s': string longer than %zu octets",
				name, size - 1);
	if (memchr(s, '\0', len) != NULL)
		return dec_fail(d, "key '%s': string contains NUL", name);
	memcpy(out, s, len + 1);
	return 0;
}

static json_t *
dec_required(struct record_decoder *d, json_t *o, const char *key,
	     const char *prefix, int *rc)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL) {
		if (prefix != NULL)
			*rc = dec_fail(d, "missing key '%s.%s'", prefix, key);
		else
			*rc = dec_fail(d, "missing key '%s'", key);
	}
	return v;
}

static int
dec_summary(struct record_decoder *d, json_t *root, const char *key,
	    struct delay_summary *s)
{
	int rc = 0;
	json_t *v = dec_required(d, root, key, NULL, &rc);
	if (v == NULL)
		return rc;

	memset(s, 0, sizeof(*s));
	if (json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return dec_fail(d, "key '%s': expected an object or null", key);
	for (unsigned k = 0; k < N_SUMMARY_FIELDS; k++) {
		char name[64];
		json_t *f = dec_required(d, v, summary_fields[k], key, &rc);
		if (f == NULL)
			return rc;
		snprintf(name, sizeof(name), "%s.%s", key, summary_fields[k]);
		rc = dec_u64(d, f, name, summary_field(s, k));
		if (rc < 0)
			return rc;
	}
	if (!(s->min <= s->p50 && s->p50 <= s->p90 && s->p90 <= s->p99 &&
	      s->p99 <= s->p999 && s->p999 <= s->max &&
	      s->min <= s->mean && s->mean <= s->max))
		return dec_fail(d, "key '%s': values not ordered "
				"(min <= mean, quantiles <= max)", key);
	s->present = true;
	return 0;
}

static int
dec_hists(struct record_decoder *d, json_t *root, struct interval_record *r)
{
	int rc = 0;
	json_t *h = dec_required(d, root, "hist", NULL, &rc);
	if (h == NULL)
		return rc;
	if (!json_is_object(h))
		return dec_fail(d, "key 'hist': expected an object");

	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++) {
		const char *name = record_hist_names[i];
		json_t *v = dec_required(d, h, name, "hist", &rc);
		if (v == NULL)
			return rc;
		if (json_is_null(v))
			continue;
		if (!json_is_string(v))
			return dec_fail(d, "key 'hist.%s': expected a base64 "
					"string or null", name);
		struct hist *hh = malloc(sizeof(*hh));
		if (hh == NULL)
			return dec_fail(d, "key 'hist.%s': out of memory",
					name);
		r->hist[i] = hh;
		r->hist_owned |= 1u << i;
		if (hist_from_base64(hh, json_string_value(v),
				     json_string_length(v)) < 0)
			return dec_fail(d, "key 'hist.%s': not a valid "
					"serialised histogram", name);
	}
	return 0;
}

static int
dec_drops(struct record_decoder *d, json_t *root, struct interval_record *r)
{
	json_t *o = json_object_get(root, "drops");
	if (o == NULL || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return dec_fail(d, "key 'drops': expected an object");
	if (json_object_size(o) > RECORD_MAX_DROPS)
		return dec_fail(d, "key 'drops': more than %d counters",
				RECORD_MAX_DROPS);

	const char *name;
	json_t *v;
	json_object_foreach(o, name, v) {
		char path[64];
		size_t len = strlen(name);
		if (len == 0 || len >= sizeof(r->drops[0].name))
			return dec_fail(d, "key 'drops': counter name '%.40s' "
					"empty or longer than %zu octets", name,
					sizeof(r->drops[0].name) - 1);
		snprintf(path, sizeof(path), "drops.%s", name);
		struct record_counter *c = &r->drops[r->n_drops];
		int rc = dec_u64(d, v, path, &c->value);
		if (rc < 0)
			return rc;
		memcpy(c->name, name, len + 1);
		r->n_drops++;
	}
	return 0;
}

static int
dec_record(struct record_decoder *d, json_t *root, struct interval_record *r)
{
	int rc = 0;
	json_t *v;

	if (!json_is_object(root))
		return dec_fail(d, "record is not a JSON object");

	if ((v = dec_required(d, root, "schema", NULL, &rc)) == NULL)
		return rc;
	if (!json_is_string(v))
		return dec_fail(d, "key 'schema': expected a string");
	if (strcmp(json_string_value(v), RECORD_SCHEMA) != 0)
		return dec_fail(d, "unknown schema '%.80s'",
				json_string_value(v));

	static const struct {
		const char *key;
		size_t off, size;
	} strings[] = {
		{ "probe", offsetof(struct interval_record, probe),
		  RECORD_NAME_MAX },
		{ "session", offsetof(struct interval_record, session),
		  RECORD_NAME_MAX },
		{ "src", offsetof(struct interval_record, src),
		  RECORD_ADDR_MAX },
		{ "dst", offsetof(struct interval_record, dst),
		  RECORD_ADDR_MAX },
	};
	for (unsigned k = 0; k < sizeof(strings) / sizeof(strings[0]); k++) {
		if ((v = dec_required(d, root, strings[k].key, NULL, &rc)) ==
		    NULL)
			return rc;
		rc = dec_string(d, v, strings[k].key,
				(char *)r + strings[k].off, strings[k].size);
		if (rc < 0)
			return rc;
	}

	for (unsigned k = 0; k < N_COUNTERS; k++) {
		if ((v = dec_required(d, root, counter_keys[k].key, NULL,
				      &rc)) == NULL)
			return rc;
		rc = dec_u64(d, v, counter_keys[k].key,
			     RECORD_U64(r, counter_keys[k].off));
		if (rc < 0)
			return rc;
	}

	if ((v = dec_required(d, root, "clock_synced", NULL, &rc)) == NULL)
		return rc;
	if (!json_is_boolean(v))
		return dec_fail(d, "key 'clock_synced': expected true or "
				"false");
	r->clock_synced = json_is_true(v);

	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++) {
		rc = dec_summary(d, root, summary_keys[i].key,
				 record_summary(r, i));
		if (rc < 0)
			return rc;
	}

	if ((v = dec_required(d, root, "jitter_ns", NULL, &rc)) == NULL)
		return rc;
	if ((rc = dec_u64(d, v, "jitter_ns", &r->jitter_ns)) < 0)
		return rc;
	if ((v = dec_required(d, root, "throughput_bps", NULL, &rc)) == NULL)
		return rc;
	if ((rc = dec_rate(d, v, "throughput_bps", &r->throughput_bps)) < 0)
		return rc;

	if ((rc = dec_hists(d, root, r)) < 0)
		return rc;

	/* Optional keys. */
	if ((v = json_object_get(root, "throughput_l1_bps")) != NULL &&
	    (rc = dec_rate(d, v, "throughput_l1_bps",
			   &r->throughput_l1_bps)) < 0)
		return rc;
	if ((v = json_object_get(root, "late")) != NULL &&
	    (rc = dec_u64(d, v, "late", &r->late)) < 0)
		return rc;
	if ((v = json_object_get(root, "hw_timestamps")) != NULL) {
		if (!json_is_boolean(v))
			return dec_fail(d, "key 'hw_timestamps': expected "
					"true or false");
		r->hw_timestamps = json_is_true(v);
	}
	if ((rc = dec_drops(d, root, r)) < 0)
		return rc;
	return record_quality_from_json(root, &r->q, d->err, d->errlen);
}

int
record_from_json_dom(const char *json, size_t len, struct interval_record *r,
		     char *err, size_t errlen)
{
	struct record_decoder d = { .err = err, .errlen = errlen };
	json_error_t je;

	record_init(r);
	if (err != NULL && errlen > 0)
		err[0] = '\0';

	json_t *root = json_loadb(json, len,
				  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL |
				  JSON_DECODE_ANY, &je);
	if (root == NULL)
		return dec_fail(&d, "invalid JSON at line %d column %d: %s",
				je.line, je.column, je.text);
	int rc = dec_record(&d, root, r);
	json_decref(root);
	if (rc < 0)
		record_free(r);
	return rc;
}

/* ---- merging ---- */

static void
drops_add(struct interval_record *acc, const char *name, uint64_t value)
{
	for (unsigned k = 0; k < acc->n_drops; k++) {
		if (strcmp(acc->drops[k].name, name) == 0) {
			acc->drops[k].value += value;
			return;
		}
	}
	if (acc->n_drops < RECORD_MAX_DROPS) {
		struct record_counter *c = &acc->drops[acc->n_drops++];
		snprintf(c->name, sizeof(c->name), "%s", name);
		c->value = value;
		return;
	}
	/* Table full: totals are kept, the last name becomes "other". */
	struct record_counter *c = &acc->drops[RECORD_MAX_DROPS - 1];
	snprintf(c->name, sizeof(c->name), "other");
	c->value += value;
}

/* Time-weighted mean of two rates over their intervals. */
static double
rate_merge(double a, uint64_t a_ns, double b, uint64_t b_ns)
{
	double span = (double)a_ns + (double)b_ns;
	if (span <= 0)
		return a > b ? a : b;
	return (a * (double)a_ns + b * (double)b_ns) / span;
}

/* record_merge; `summaries`: recompute the histogram-backed summaries. */
static int
record_merge_common(struct interval_record *acc,
		    const struct interval_record *r, bool summaries)
{
	bool empty = acc->probe[0] == '\0';
	struct hist *fresh[RECORD_HIST_COUNT] = { NULL };

	/* Allocate first, so a failure leaves acc untouched. */
	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++) {
		if (r->hist[i] == NULL || acc->hist[i] != NULL)
			continue;
		fresh[i] = malloc(sizeof(struct hist));
		if (fresh[i] == NULL) {
			for (unsigned k = 0; k < i; k++)
				free(fresh[k]);
			return -ENOMEM;
		}
		hist_init(fresh[i]);
	}

	if (empty) {
		memcpy(acc->probe, r->probe, sizeof(acc->probe));
		memcpy(acc->session, r->session, sizeof(acc->session));
		memcpy(acc->src, r->src, sizeof(acc->src));
		memcpy(acc->dst, r->dst, sizeof(acc->dst));
		acc->start_ns = r->start_ns;
		acc->clock_synced = r->clock_synced;
		acc->hw_timestamps = r->hw_timestamps;
		acc->throughput_bps = r->throughput_bps;
		acc->throughput_l1_bps = r->throughput_l1_bps;
		acc->interval_ns = r->interval_ns;
	} else {
		if (r->start_ns < acc->start_ns)
			acc->start_ns = r->start_ns;
		acc->clock_synced = acc->clock_synced && r->clock_synced;
		acc->hw_timestamps = acc->hw_timestamps && r->hw_timestamps;
		acc->throughput_bps = rate_merge(acc->throughput_bps,
			acc->interval_ns, r->throughput_bps, r->interval_ns);
		acc->throughput_l1_bps = rate_merge(acc->throughput_l1_bps,
			acc->interval_ns, r->throughput_l1_bps, r->interval_ns);
		acc->interval_ns += r->interval_ns;
	}

	acc->tx_pkts += r->tx_pkts;
	acc->tx_bytes += r->tx_bytes;
	acc->rx_pkts += r->rx_pkts;
	acc->rx_bytes += r->rx_bytes;
	acc->lost += r->lost;
	acc->lost_fwd += r->lost_fwd;
	acc->lost_back += r->lost_back;
	acc->reordered += r->reordered;
	acc->duplicates += r->duplicates;
	acc->late += r->late;
	if (r->jitter_ns > acc->jitter_ns)
		acc->jitter_ns = r->jitter_ns;
	for (unsigned k = 0; k < r->n_drops && k < RECORD_MAX_DROPS; k++)
		drops_add(acc, r->drops[k].name, r->drops[k].value);
	record_quality_merge(&acc->q, &r->q);

	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++) {
		struct delay_summary *s = record_summary(acc, i);
		const struct delay_summary *rs = record_summary_c(r, i);

		if (fresh[i] != NULL) {
			acc->hist[i] = fresh[i];
			acc->hist_owned |= 1u << i;
		}
		if (r->hist[i] != NULL)
			hist_merge(acc->hist[i], r->hist[i]);
		if (acc->hist[i] != NULL) {
			/* Percentiles of the union, never averaged. */
			if (summaries)
				delay_summary_from_hist(s, acc->hist[i]);
		} else if (rs->present) {
			/* Neither side has a histogram: a summary merges
			 * only with nothing. */
			if (empty || !s->present)
				*s = *rs;
			else
				memset(s, 0, sizeof(*s));
		}
	}
	return 0;
}

int
record_merge(struct interval_record *acc, const struct interval_record *r)
{
	return record_merge_common(acc, r, true);
}

int
record_merge_hists_only(struct interval_record *acc,
			const struct interval_record *r)
{
	return record_merge_common(acc, r, false);
}

void
record_finish_summaries(struct interval_record *acc)
{
	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++)
		if (acc->hist[i] != NULL)
			delay_summary_from_hist(record_summary(acc, i),
						acc->hist[i]);
}
