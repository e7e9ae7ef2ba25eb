/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interval record decoding in one pass (schema metroprobe.interval.v1,
 * DOM decoder and the schema's checks in record.c), and the reusable
 * parser the collector decodes uploads with.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/hist.h"
#include "metroprobe/record.h"
#include "record_priv.h"

/*
 * The one-pass decoder reads the line once and writes each value
 * straight into the record; a histogram is decoded from its base64
 * string when it is met. It takes only lines that it decodes with
 * certainty to the same record as the DOM decoder (record.c): printable
 * ASCII without escapes (so strings are their raw text and no UTF-8,
 * escape or white space rule of the two parsers can differ), every
 * value of the type and range the schema wants, no duplicate key,
 * unknown keys holding only scalars. On anything else (a line with an
 * error above all) it gives up, and record_from_json_dom decides and
 * writes the message. So both give the same answer on every line the
 * one-pass decoder gives up on; tests/unit/test_record.c checks that
 * they give the same record on the lines it takes, and the same answer
 * on thousands of damaged lines.
 *
 * Why not a library: jansson builds a DOM (~90 % of the collector's
 * ingest time); yajl's event parser was tried and spent ~42 000
 * instructions a record in its lexer, where this one spends ~8 000
 * (BENCHMARKS.md, "Collector", "Ingest").
 */

enum scan_kind {
	SCAN_SCHEMA, SCAN_STRING, SCAN_U64, SCAN_BOOL, SCAN_SUMMARY,
	SCAN_RATE, SCAN_HIST, SCAN_DROPS,
	SCAN_NONPOS,             /* int64_t <= 0 */
};

/* size: of a string field, with its NUL */
#define SCAN_KEY(name, kind, required, field, size) \
	{ name, sizeof(name) - 1, kind, required, \
	  offsetof(struct interval_record, field), size }

/* Keys of the record, in record_to_json's order. */
static const struct scan_key {
	const char *name;
	uint8_t len;
	uint8_t kind;
	bool required;
	size_t off, size;
} scan_keys[] = {
	SCAN_KEY("schema", SCAN_SCHEMA, true, probe, 0),    /* no field */
	SCAN_KEY("probe", SCAN_STRING, true, probe, RECORD_NAME_MAX),
	SCAN_KEY("session", SCAN_STRING, true, session, RECORD_NAME_MAX),
	SCAN_KEY("src", SCAN_STRING, true, src, RECORD_ADDR_MAX),
	SCAN_KEY("dst", SCAN_STRING, true, dst, RECORD_ADDR_MAX),
	SCAN_KEY("start_ns", SCAN_U64, true, start_ns, 0),
	SCAN_KEY("interval_ns", SCAN_U64, true, interval_ns, 0),
	SCAN_KEY("tx_pkts", SCAN_U64, true, tx_pkts, 0),
	SCAN_KEY("tx_bytes", SCAN_U64, true, tx_bytes, 0),
	SCAN_KEY("rx_pkts", SCAN_U64, true, rx_pkts, 0),
	SCAN_KEY("rx_bytes", SCAN_U64, true, rx_bytes, 0),
	SCAN_KEY("lost", SCAN_U64, true, lost, 0),
	SCAN_KEY("lost_fwd", SCAN_U64, true, lost_fwd, 0),
	SCAN_KEY("lost_back", SCAN_U64, true, lost_back, 0),
	SCAN_KEY("reordered", SCAN_U64, true, reordered, 0),
	SCAN_KEY("duplicates", SCAN_U64, true, duplicates, 0),
	SCAN_KEY("clock_synced", SCAN_BOOL, true, clock_synced, 0),
	SCAN_KEY("rtt_ns", SCAN_SUMMARY, true, rtt, 0),
	SCAN_KEY("owd_fwd_ns", SCAN_SUMMARY, true, owd_fwd, 0),
	SCAN_KEY("owd_back_ns", SCAN_SUMMARY, true, owd_back, 0),
	SCAN_KEY("ipdv_ns", SCAN_SUMMARY, true, ipdv, 0),
	SCAN_KEY("jitter_ns", SCAN_U64, true, jitter_ns, 0),
	SCAN_KEY("throughput_bps", SCAN_RATE, true, throughput_bps, 0),
	SCAN_KEY("hist", SCAN_HIST, true, hist, 0),
	SCAN_KEY("throughput_l1_bps", SCAN_RATE, false, throughput_l1_bps, 0),
	SCAN_KEY("late", SCAN_U64, false, late, 0),
	SCAN_KEY("hw_timestamps", SCAN_BOOL, false, hw_timestamps, 0),
	SCAN_KEY("drops", SCAN_DROPS, false, drops, 0),
	/* the quality keys, optional and last (SCAN_FIRST_QUALITY): any
	 * one sets q.present */
#define _(f, type, merge) SCAN_KEY(#f, SCAN_##type, false, q.f, 0),
	foreach_record_quality_key
#undef _
};
#define N_SCAN_KEYS (sizeof(scan_keys) / sizeof(scan_keys[0]))
#define SCAN_FIRST_QUALITY (N_SCAN_KEYS - RECORD_QUALITY_NKEYS)
_Static_assert(N_SCAN_KEYS <= 64, "seen keys are bits of a uint64_t");
#define SCAN_BIT(i) (UINT64_C(1) << (i))

#define SCAN_UNKNOWN_MAX 8   /* unknown keys per object it takes */
#define SCAN_NONE        (-1)

struct scan_span {
	const char *s;
	size_t len;
};

/* State of one line being decoded, for the handlers the lexer calls. */
struct record_scan {
	struct interval_record *r;
	struct record_parser *parser;  /* NULL: histograms are allocated */
	unsigned depth;        /* 0 before the record, 1 in it, 2 inside
				* one of its objects */
	bool done;             /* the record's closing brace was read */
	uint64_t seen;         /* keys of the record, bits of scan_keys */
	int key;               /* scan_keys index of the value to come, or
				* SCAN_NONE for an unknown key */
	unsigned next;         /* the index expected next (the producer
				* writes keys in order) */
	int obj;               /* scan_keys index of the open object */
	uint32_t sub_seen;     /* its keys seen: summary fields, histograms */
	int sub;               /* its key of the value to come */
	struct scan_span unknown[SCAN_UNKNOWN_MAX];
	unsigned n_unknown;
	struct scan_span sub_unknown[SCAN_UNKNOWN_MAX];
	unsigned n_sub_unknown;
};

struct record_parser {
	struct hist hist[RECORD_HIST_COUNT];   /* all buckets zero between
						* records */
	/* the serialised forms of the histograms, and their bucket lists */
	uint8_t *raw[RECORD_HIST_COUNT];
	size_t raw_cap[RECORD_HIST_COUNT];
	struct hist_pairs pairs[RECORD_HIST_COUNT];
	uint64_t n_onepass, n_dom;
};

/*
 * True when every octet is printable ASCII (0x20-0x7e) and none is a
 * backslash: eight octets at a time (has-less / has-more / has-zero
 * bit tricks; each is exact as a yes/no for the word).
 */
static bool
scan_plain_ascii(const char *s, size_t len)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w, bs;

		memcpy(&w, s + i, sizeof(w));
		bs = w ^ (ones * '\\');
		if (((w - ones * 0x20) & ~w & highs) != 0 ||     /* < 0x20 */
		    (((w + ones * (127 - 0x7e)) | w) & highs) != 0 || /* > 0x7e */
		    ((bs - ones) & ~bs & highs) != 0)            /* '\\' */
			return false;
	}
	for (; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ||
		    s[i] == '\\')
			return false;
	return true;
}

/*
 * A JSON integer that jansson reads as an integer in [0, INT64_MAX]
 * (what dec_u64 takes): digits only, no leading zero.
 */
static bool
scan_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 19 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');   /* < 10^19 < 2^64 */
	}
	if (v > (uint64_t)INT64_MAX)
		return false;
	*out = v;
	return true;
}

/*
 * A JSON integer that jansson reads as an integer <= 0 (what the quality
 * keys *_negative_min_ns take): "0", or '-' and digits without a leading
 * zero, down to -INT64_MAX (INT64_MIN is left to the DOM decoder).
 */
static bool
scan_nonpos(const char *s, size_t len, int64_t *out)
{
	uint64_t v;

	if (len == 1 && s[0] == '0') {
		*out = 0;
		return true;
	}
	if (len < 2 || s[0] != '-' || !scan_u64(s + 1, len - 1, &v))
		return false;
	*out = -(int64_t)v;             /* "-0": 0, as jansson reads it */
	return true;
}

/*
 * A JSON number that dec_rate takes, with the value jansson gives it: an
 * integer as scan_u64 converted to double, else a real read by strtod
 * (as jansson does) that is finite and not negative. jansson refuses an
 * overflow (infinite here) and takes an underflow as strtod rounds it.
 */
static bool
scan_rate(const char *s, size_t len, double *out)
{
	char buf[64], *end;
	uint64_t u;
	double x;

	if (memchr(s, '.', len) == NULL && memchr(s, 'e', len) == NULL &&
	    memchr(s, 'E', len) == NULL) {
		if (!scan_u64(s, len, &u))
			return false;
		*out = (double)(int64_t)u;
		return true;
	}
	if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	x = strtod(buf, &end);
	if (end != buf + len || !isfinite(x) || !(x >= 0))
		return false;
	*out = x;
	return true;
}

static bool
span_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* Notes an unknown key of an object; false for a duplicate or too many. */
static bool
scan_note_unknown(struct scan_span *list, unsigned *n, const char *s,
		  size_t len)
{
	for (unsigned k = 0; k < *n; k++)
		if (span_eq(list[k].s, list[k].len, s, len))
			return false;
	if (*n == SCAN_UNKNOWN_MAX)
		return false;
	list[*n].s = s;
	list[*n].len = len;
	(*n)++;
	return true;
}

/* Index of a name in a table of names, or SCAN_NONE. */
static int
scan_find(const char *const *names, unsigned n, const char *s, size_t len)
{
	for (unsigned k = 0; k < n; k++)
		if (strlen(names[k]) == len && memcmp(names[k], s, len) == 0)
			return (int)k;
	return SCAN_NONE;
}

static int
scan_map_key(struct record_scan *sc, const char *k, size_t len)
{
	struct interval_record *r = sc->r;

	if (sc->depth == 1) {
		int idx = SCAN_NONE;

		if (sc->next < N_SCAN_KEYS &&
		    span_eq(scan_keys[sc->next].name, scan_keys[sc->next].len,
			    k, len)) {
			idx = (int)sc->next;
		} else {
			for (unsigned i = 0; i < N_SCAN_KEYS; i++) {
				if (span_eq(scan_keys[i].name,
					    scan_keys[i].len, k, len)) {
					idx = (int)i;
					break;
				}
			}
		}
		sc->key = idx;
		if (idx == SCAN_NONE)
			return scan_note_unknown(sc->unknown, &sc->n_unknown,
						 k, len);
		if (sc->seen & SCAN_BIT(idx))
			return 0;                     /* duplicate */
		sc->seen |= SCAN_BIT(idx);
		sc->next = (unsigned)idx + 1;
		return 1;
	}
	if (sc->depth != 2)
		return 0;

	switch (scan_keys[sc->obj].kind) {
	case SCAN_SUMMARY:
		sc->sub = scan_find(summary_fields, N_SUMMARY_FIELDS, k, len);
		break;
	case SCAN_HIST:
		sc->sub = scan_find(record_hist_names, RECORD_HIST_COUNT, k,
				    len);
		break;
	default: {                                   /* drops */
		struct record_counter *c;

		if (len == 0 || len >= sizeof(c->name) ||
		    r->n_drops == RECORD_MAX_DROPS)
			return 0;
		for (unsigned i = 0; i < r->n_drops; i++)
			if (span_eq(r->drops[i].name,
				    strlen(r->drops[i].name), k, len))
				return 0;             /* duplicate */
		c = &r->drops[r->n_drops];
		memcpy(c->name, k, len);
		c->name[len] = '\0';
		sc->sub = (int)r->n_drops;
		return 1;
	}
	}
	if (sc->sub == SCAN_NONE)
		return scan_note_unknown(sc->sub_unknown, &sc->n_sub_unknown,
					 k, len);
	if (sc->sub_seen & (1u << sc->sub))
		return 0;                             /* duplicate */
	sc->sub_seen |= 1u << sc->sub;
	return 1;
}

/* The summary whose object is open. */
static struct delay_summary *
scan_summary(const struct record_scan *sc)
{
	return (struct delay_summary *)((char *)sc->r +
					scan_keys[sc->obj].off);
}

/* The value of an unknown key, which the record ignores: a scalar. */
static bool
scan_unknown_value(const struct record_scan *sc)
{
	if (sc->depth == 1)
		return sc->key == SCAN_NONE;
	return sc->depth == 2 && sc->sub == SCAN_NONE &&
	       scan_keys[sc->obj].kind != SCAN_DROPS;
}

static int
scan_null(struct record_scan *sc)
{
	if (scan_unknown_value(sc))
		return 1;
	if (sc->depth == 1)       /* a summary, or no drops: already zero */
		return scan_keys[sc->key].kind == SCAN_SUMMARY ||
		       scan_keys[sc->key].kind == SCAN_DROPS;
	/* a histogram that is absent */
	return sc->depth == 2 && scan_keys[sc->obj].kind == SCAN_HIST;
}

static int
scan_boolean(struct record_scan *sc, bool b)
{
	if (scan_unknown_value(sc))
		return 1;
	if (sc->depth != 1 || scan_keys[sc->key].kind != SCAN_BOOL)
		return 0;
	*(bool *)((char *)sc->r + scan_keys[sc->key].off) = b;
	return 1;
}

static int
scan_number(struct record_scan *sc, const char *s, size_t len)
{
	struct interval_record *r = sc->r;
	double x;

	if (scan_unknown_value(sc))
		return scan_rate(s, len, &x);   /* a number jansson reads */
	if (sc->depth == 1) {
		const struct scan_key *k = &scan_keys[sc->key];

		if (k->kind == SCAN_U64)
			return scan_u64(s, len, RECORD_U64(r, k->off));
		if (k->kind == SCAN_RATE)
			return scan_rate(s, len,
					 (double *)((char *)r + k->off));
		if (k->kind == SCAN_NONPOS)
			return scan_nonpos(s, len,
					   (int64_t *)((char *)r + k->off));
		return 0;
	}
	if (sc->depth != 2)
		return 0;
	switch (scan_keys[sc->obj].kind) {
	case SCAN_SUMMARY:
		return scan_u64(s, len, summary_field(scan_summary(sc),
						      (unsigned)sc->sub));
	case SCAN_DROPS:
		if (!scan_u64(s, len, &r->drops[sc->sub].value))
			return 0;
		r->n_drops++;
		return 1;
	default:
		return 0;
	}
}

/* A histogram's base64 string: decoded into the parser's buffer, or into
 * one allocated for the record. */
static int
scan_hist(struct record_scan *sc, unsigned i, const char *s, size_t len)
{
	struct interval_record *r = sc->r;
	struct hist *h;

	if (sc->parser != NULL) {
		struct record_parser *p = sc->parser;

		h = &p->hist[i];
		r->hist[i] = h;
		if (hist_from_base64_pairs(h, s, len, &p->raw[i],
					   &p->raw_cap[i], &p->pairs[i]) < 0)
			return 0;
		r->hist_parsed |= 1u << i;
		return 1;
	}
	h = malloc(sizeof(*h));
	if (h == NULL)
		return 0;
	r->hist[i] = h;
	r->hist_owned |= 1u << i;
	return hist_from_base64(h, s, len) == 0;
}

static int
scan_string(struct record_scan *sc, const char *s, size_t len)
{
	if (scan_unknown_value(sc))
		return 1;
	if (sc->depth == 2)
		return scan_keys[sc->obj].kind == SCAN_HIST &&
		       scan_hist(sc, (unsigned)sc->sub, s, len);
	if (sc->depth != 1)
		return 0;

	const struct scan_key *k = &scan_keys[sc->key];
	if (k->kind == SCAN_SCHEMA)
		return span_eq(s, len, RECORD_SCHEMA,
			       sizeof(RECORD_SCHEMA) - 1);
	if (k->kind != SCAN_STRING || len == 0 || len >= k->size)
		return 0;
	memcpy((char *)sc->r + k->off, s, len);  /* NUL: record_init */
	return 1;
}

static int
scan_start_map(struct record_scan *sc)
{
	if (sc->depth == 0 && !sc->done) {
		sc->depth = 1;
		return 1;
	}
	if (sc->depth != 1 || sc->key == SCAN_NONE)
		return 0;          /* unknown keys: scalars only */
	switch (scan_keys[sc->key].kind) {
	case SCAN_SUMMARY:
	case SCAN_HIST:
	case SCAN_DROPS:
		sc->depth = 2;
		sc->obj = sc->key;
		sc->sub_seen = 0;
		sc->n_sub_unknown = 0;
		return 1;
	default:
		return 0;
	}
}

static int
scan_end_map(struct record_scan *sc)
{
	if (sc->depth == 1) {
		sc->depth = 0;
		sc->done = true;
		return 1;
	}
	if (sc->depth != 2)
		return 0;
	sc->depth = 1;
	switch (scan_keys[sc->obj].kind) {
	case SCAN_SUMMARY: {
		struct delay_summary *s = scan_summary(sc);

		if (sc->sub_seen != (1u << N_SUMMARY_FIELDS) - 1 ||
		    !(s->min <= s->p50 && s->p50 <= s->p90 &&
		      s->p90 <= s->p99 && s->p99 <= s->p999 &&
		      s->p999 <= s->max && s->min <= s->mean &&
		      s->mean <= s->max))
			return 0;
		s->present = true;
		return 1;
	}
	case SCAN_HIST:
		return sc->sub_seen == (1u << RECORD_HIST_COUNT) - 1;
	default:
		return 1;
	}
}

/*
 * The lexer. It runs only on plain ASCII without backslash or control
 * octet (scan_plain_ascii), where a string is the text between two
 * quotes and white space is a space; it follows RFC 8259's grammar
 * (section 2 values and white space, 4 objects, 6 numbers, 7 strings)
 * and hands each token to the handlers above, which stop it (0) at
 * whatever the record does not take. No key of the record holds an
 * array, so '[' stops it too.
 */
struct scan_lexer {
	const char *p, *end;
};

static inline void
lex_space(struct scan_lexer *lx)
{
	while (lx->p < lx->end && *lx->p == ' ')
		lx->p++;
}

static inline bool
lex_digits(struct scan_lexer *lx)
{
	const char *start = lx->p;

	while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9')
		lx->p++;
	return lx->p > start;
}

/* A number token (RFC 8259 section 6): -? int frac? exp? */
static int
lex_number(struct scan_lexer *lx, struct record_scan *sc)
{
	const char *start = lx->p;

	if (lx->p < lx->end && *lx->p == '-')
		lx->p++;
	if (lx->p < lx->end && *lx->p == '0')
		lx->p++;                  /* a leading 0 stands alone */
	else if (!lex_digits(lx))
		return 0;
	if (lx->p < lx->end && *lx->p == '.') {
		lx->p++;
		if (!lex_digits(lx))
			return 0;
	}
	if (lx->p < lx->end && (*lx->p == 'e' || *lx->p == 'E')) {
		lx->p++;
		if (lx->p < lx->end && (*lx->p == '+' || *lx->p == '-'))
			lx->p++;
		if (!lex_digits(lx))
			return 0;
	}
	return scan_number(sc, start, (size_t)(lx->p - start));
}

/* A string token: its text, between the quotes. */
static inline bool
lex_string(struct scan_lexer *lx, const char **s, size_t *len)
{
	const char *q;

	if (lx->p >= lx->end || *lx->p != '"')
		return false;
	q = memchr(lx->p + 1, '"', (size_t)(lx->end - lx->p - 1));
	if (q == NULL)
		return false;
	*s = lx->p + 1;
	*len = (size_t)(q - lx->p - 1);
	lx->p = q + 1;
	return true;
}

static inline bool
lex_word(struct scan_lexer *lx, const char *word, size_t n)
{
	if ((size_t)(lx->end - lx->p) < n || memcmp(lx->p, word, n) != 0)
		return false;
	lx->p += n;
	return true;
}

static int lex_value(struct scan_lexer *lx, struct record_scan *sc);

/* An object (RFC 8259 section 4), from its '{'. */
static int
lex_object(struct scan_lexer *lx, struct record_scan *sc)
{
	const char *s;
	size_t len;

	lx->p++;
	if (!scan_start_map(sc))
		return 0;
	lex_space(lx);
	if (lx->p < lx->end && *lx->p == '}') {
		lx->p++;
		return scan_end_map(sc);
	}
	for (;;) {
		if (!lex_string(lx, &s, &len) || !scan_map_key(sc, s, len))
			return 0;
		lex_space(lx);
		if (lx->p >= lx->end || *lx->p != ':')
			return 0;
		lx->p++;
		lex_space(lx);
		if (!lex_value(lx, sc))
			return 0;
		lex_space(lx);
		if (lx->p >= lx->end)
			return 0;
		if (*lx->p == '}') {
			lx->p++;
			return scan_end_map(sc);
		}
		if (*lx->p != ',')
			return 0;
		lx->p++;
		lex_space(lx);
	}
}

static int
lex_value(struct scan_lexer *lx, struct record_scan *sc)
{
	const char *s;
	size_t len;

	if (lx->p >= lx->end)
		return 0;
	switch (*lx->p) {
	case '{':
		return lex_object(lx, sc);
	case '"':
		return lex_string(lx, &s, &len) && scan_string(sc, s, len);
	case 't':
		return lex_word(lx, "true", 4) && scan_boolean(sc, true);
	case 'f':
		return lex_word(lx, "false", 5) && scan_boolean(sc, false);
	case 'n':
		return lex_word(lx, "null", 4) && scan_null(sc);
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return lex_number(lx, sc);
	default:
		return 0;         /* '[' (no key takes an array), or junk */
	}
}

/* The one-pass decoder: 0, or -EAGAIN (r emptied) for "ask the DOM
 * decoder". */
static int
record_scan_json(struct record_parser *p, const char *json, size_t len,
		 struct interval_record *r)
{
	uint64_t required = 0;
	bool ok;

	record_init(r);
	if (!scan_plain_ascii(json, len))
		return -EAGAIN;

	struct record_scan sc = {
		.r = r, .parser = p, .key = SCAN_NONE, .obj = SCAN_NONE,
		.sub = SCAN_NONE,
	};
	struct scan_lexer lx = { json, json + len };
	lex_space(&lx);
	ok = lex_value(&lx, &sc);
	lex_space(&lx);
	ok = ok && lx.p == lx.end;

	for (unsigned i = 0; i < N_SCAN_KEYS; i++)
		if (scan_keys[i].required)
			required |= SCAN_BIT(i);
	if (ok && sc.done && (sc.seen & required) == required) {
		r->q.present = (sc.seen >> SCAN_FIRST_QUALITY) != 0;
		return 0;
	}
	record_free(r);
	if (p != NULL)
		for (unsigned i = 0; i < RECORD_HIST_COUNT; i++)
			hist_clear(&p->hist[i]);
	return -EAGAIN;
}

int
record_from_json(const char *json, size_t len, struct interval_record *r,
		 char *err, size_t errlen)
{
	if (record_scan_json(NULL, json, len, r) == 0) {
		if (err != NULL && errlen > 0)
			err[0] = '\0';
		return 0;
	}
	return record_from_json_dom(json, len, r, err, errlen);
}

struct record_parser *
record_parser_new(void)
{
	struct record_parser *p = malloc(sizeof(*p));

	if (p == NULL)
		return NULL;
	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++) {
		hist_init(&p->hist[i]);
		p->raw[i] = NULL;
		p->raw_cap[i] = 0;
	}
	p->n_onepass = 0;
	p->n_dom = 0;
	return p;
}

void
record_parser_free(struct record_parser *p)
{
	if (p == NULL)
		return;
	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++)
		free(p->raw[i]);
	free(p);
}

int
record_parse_json(struct record_parser *p, const char *json, size_t len,
		  struct interval_record *r, char *err, size_t errlen)
{
	/* The previous record's histograms: zero only what they used. */
	for (unsigned i = 0; i < RECORD_HIST_COUNT; i++)
		hist_clear(&p->hist[i]);
	if (record_scan_json(p, json, len, r) == 0) {
		p->n_onepass++;
		if (err != NULL && errlen > 0)
			err[0] = '\0';
		return 0;
	}
	p->n_dom++;
	return record_from_json_dom(json, len, r, err, errlen);
}

void
record_parser_counts(const struct record_parser *p, uint64_t *n_onepass,
		     uint64_t *n_dom)
{
	*n_onepass = p->n_onepass;
	*n_dom = p->n_dom;
}

int
record_hist_pairs(const struct interval_record *r, unsigned i,
		  struct hist_pairs *pairs)
{
	const struct record_parser *p;

	if (i >= RECORD_HIST_COUNT || r->hist[i] == NULL ||
	    !(r->hist_parsed & (1u << i)))
		return -ENOENT;
	/* hist[i] is p->hist[i]: back to p */
	p = (const struct record_parser *)(const void *)
		((const char *)r->hist[i] - offsetof(struct record_parser, hist) -
		 i * sizeof(struct hist));
	*pairs = p->pairs[i];
	return 0;
}
