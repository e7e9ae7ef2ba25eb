/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compact binary stored form of interval records (layout in
 * store_codec.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/hist.h"
#include "store_codec.h"

#define CODEC_VARINT_MAX MP_LEB128_MAX
#define CODEC_N_COUNTERS 13
#define CODEC_N_SUMMARY  7
#define CODEC_FLAG_QUALITY (1u << 10)
#define CODEC_FLAGS_KNOWN  ((1u << 11) - 1)

_Static_assert(HIST_NBUCKETS % 4 == 0 && HIST_NBUCKETS < (1u << 14),
	       "put_hist rounds ranges to 4 buckets, writes n in two octets");

void
store_buf_free(struct store_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

static int
buf_reserve(struct store_buf *b, size_t more)
{
	size_t cap;
	uint8_t *d;

	if (b->cap - b->len >= more)
		return 0;
	cap = b->cap == 0 ? 4096 : b->cap;
	while (cap - b->len < more)
		cap *= 2;
	d = realloc(b->data, cap);
	if (d == NULL)
		return -ENOMEM;
	b->data = d;
	b->cap = cap;
	return 0;
}

/* As record_to_json: JSON integers are signed 64-bit. */
static inline void
put_count(struct store_buf *b, uint64_t v)
{
	store_buf_put_varint(b, v > INT64_MAX ? INT64_MAX : v);
}

static void
put_string(struct store_buf *b, const char *s, size_t max)
{
	size_t n = strnlen(s, max - 1);

	store_buf_put_varint(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

static const struct delay_summary *
summary_of(const struct interval_record *r, unsigned i)
{
	switch (i) {
	case RECORD_HIST_RTT:
		return &r->rtt;
	case RECORD_HIST_OWD_FWD:
		return &r->owd_fwd;
	case RECORD_HIST_OWD_BACK:
		return &r->owd_back;
	default:
		return &r->ipdv;
	}
}

/* put_varint through a local cursor: stores through a uint8_t pointer
 * may alias b->len, so the hot loop keeps its position in a register. */
static inline uint8_t *
cursor_varint(uint8_t *o, uint64_t v)
{
	return o + mp_leb128_put(o, v);
}

/* A histogram's summary, ahead of its buckets in both stored forms. */
static inline uint8_t *
hist_head(uint8_t *o, const struct hist *h)
{
	o = cursor_varint(o, h->count);
	o = cursor_varint(o, h->sum);
	o = cursor_varint(o, h->min);
	o = cursor_varint(o, h->max);
	return cursor_varint(o, h->overflow);
}

/* One pass over the buckets: n is written as a two-octet varint (n <=
 * HIST_NBUCKETS < 2^14) in a slot filled in once the pairs are out. */
static int
put_hist(struct store_buf *b, const struct hist *h)
{
	const uint64_t *bk = h->buckets;
	uint32_t i, j, lo, hi, next = 0, nnz = 0;
	uint64_t total = 0;
	uint8_t *o, *slot;
	int pass;
	int rc;

	rc = buf_reserve(b, 5 * CODEC_VARINT_MAX + 2 +
			 2 * CODEC_VARINT_MAX * (size_t)HIST_NBUCKETS);
	if (rc < 0)
		return rc;
	o = hist_head(b->data + b->len, h);
	slot = o;
	o += 2;
	/* Only the buckets of min and max and those between can be
	 * non-empty; if the counts there do not add up to count (a
	 * histogram whose min or max is off), walk them all. The walk
	 * first lists the non-empty buckets without a branch (which bucket
	 * is empty is random: a branch on it mispredicts half the time),
	 * then writes their pairs. (The range is rounded out to groups of
	 * four buckets, as the stored form has always been written.) */
	lo = h->count > 0 ? hist_bucket_index(h->min) & ~3u : 0;
	hi = h->count > 0 ? (hist_bucket_index(h->max) + 4) & ~3u : 0;
	for (pass = 0; pass < 2; pass++) {
		uint16_t occupied[HIST_NBUCKETS];
		uint32_t n = 0;

		for (i = lo; i < hi; i++) {
			occupied[n] = (uint16_t)i;
			n += bk[i] != 0;
		}
		for (j = 0; j < n; j++) {
			i = occupied[j];
			o = cursor_varint(o, i - next);
			o = cursor_varint(o, bk[i]);
			total += bk[i];
			next = i + 1;
		}
		nnz = n;
		if (total == h->count && lo <= hi)
			break;
		o = slot + 2;
		lo = 0;
		hi = HIST_NBUCKETS;
		next = nnz = 0;
		total = 0;
	}
	slot[0] = (uint8_t)(0x80 | (nnz & 0x7f));
	slot[1] = (uint8_t)(nnz >> 7);
	b->len = (size_t)(o - b->data);
	return 0;
}

/*
 * put_hist for a histogram decoded in one pass: its base64 form held the
 * bucket list in the layout put_hist writes (same gaps, canonical
 * varints), so the list is copied as it came, with the same octets.
 */
static int
put_hist_pairs(struct store_buf *b, const struct hist *h,
	       const struct hist_pairs *pairs)
{
	uint8_t *o;
	int rc;

	if (pairs->n > HIST_NBUCKETS)
		return put_hist(b, h);
	rc = buf_reserve(b, 5 * CODEC_VARINT_MAX + 2 + pairs->len);
	if (rc < 0)
		return rc;
	o = hist_head(b->data + b->len, h);
	o[0] = (uint8_t)(0x80 | (pairs->n & 0x7f));
	o[1] = (uint8_t)(pairs->n >> 7);
	o += 2;
	if (pairs->len > 0)
		memcpy(o, pairs->data, pairs->len);
	b->len = (size_t)(o + pairs->len - b->data);
	return 0;
}

/* The quality figures (flag bit 10), as record_to_json writes them:
 * counts clamped to INT64_MAX, a lowest negative sample above 0 as 0. */
static void
put_quality(struct store_buf *b, const struct record_quality *q)
{
	unsigned k;

	store_buf_put_varint(b, RECORD_QUALITY_NKEYS);
	for (k = 0; k < RECORD_QUALITY_NKEYS; k++) {
		const void *f = record_quality_field_c(q, k);
		int64_t v;

		switch (record_quality_keys[k].type) {
		case RECORD_Q_U64:
			put_count(b, *(const uint64_t *)f);
			break;
		case RECORD_Q_BOOL:
			store_buf_put_varint(b, *(const bool *)f ? 1 : 0);
			break;
		default:
			v = *(const int64_t *)f;
			store_buf_put_varint(b, v > 0 ? 0 : 0 - (uint64_t)v);
			break;
		}
	}
}

int
store_codec_encode(struct store_buf *b, const struct interval_record *r)
{
	const uint64_t counters[CODEC_N_COUNTERS] = {
		r->start_ns, r->interval_ns, r->tx_pkts, r->tx_bytes,
		r->rx_pkts, r->rx_bytes, r->lost, r->lost_fwd, r->lost_back,
		r->reordered, r->duplicates, r->late, r->jitter_ns,
	};
	unsigned i, k, n_drops = r->n_drops < RECORD_MAX_DROPS ?
		r->n_drops : RECORD_MAX_DROPS;
	uint64_t flags = 0;
	int rc;

	/* everything but the histograms */
	rc = buf_reserve(b, 1 + 2 * RECORD_NAME_MAX + 2 * RECORD_ADDR_MAX +
			 4 * CODEC_VARINT_MAX +
			 (CODEC_N_COUNTERS + 1) * CODEC_VARINT_MAX + 16 +
			 RECORD_HIST_COUNT * CODEC_N_SUMMARY * CODEC_VARINT_MAX +
			 CODEC_VARINT_MAX + RECORD_MAX_DROPS *
			 (sizeof(r->drops[0].name) + 2 * CODEC_VARINT_MAX) +
			 (RECORD_QUALITY_NKEYS + 1) * CODEC_VARINT_MAX);
	if (rc < 0)
		return rc;
	b->data[b->len++] = STORE_CODEC_VERSION;
	put_string(b, r->probe, sizeof(r->probe));
	put_string(b, r->session, sizeof(r->session));
	put_string(b, r->src, sizeof(r->src));
	put_string(b, r->dst, sizeof(r->dst));
	for (k = 0; k < CODEC_N_COUNTERS; k++)
		put_count(b, counters[k]);
	if (r->clock_synced)
		flags |= 1u << 0;
	if (r->hw_timestamps)
		flags |= 1u << 1;
	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		if (summary_of(r, i)->present)
			flags |= 1u << (2 + i);
		if (r->hist[i] != NULL)
			flags |= 1u << (6 + i);
	}
	if (r->q.present)
		flags |= CODEC_FLAG_QUALITY;
	store_buf_put_varint(b, flags);
	store_buf_put_rate(b, r->throughput_bps);
	store_buf_put_rate(b, r->throughput_l1_bps);
	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		const struct delay_summary *s = summary_of(r, i);

		if (!s->present)
			continue;
		put_count(b, s->min);
		put_count(b, s->mean);
		put_count(b, s->p50);
		put_count(b, s->p90);
		put_count(b, s->p99);
		put_count(b, s->p999);
		put_count(b, s->max);
	}
	store_buf_put_varint(b, n_drops);
	for (k = 0; k < n_drops; k++) {
		put_string(b, r->drops[k].name, sizeof(r->drops[k].name));
		put_count(b, r->drops[k].value);
	}
	if (r->q.present)
		put_quality(b, &r->q);
	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		struct hist_pairs pairs;

		if (r->hist[i] == NULL)
			continue;
		if (record_hist_pairs(r, i, &pairs) == 0)
			rc = put_hist_pairs(b, r->hist[i], &pairs);
		else
			rc = put_hist(b, r->hist[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- decoding ---------------------------------------------------- */

static void
get_string(struct codec_reader *rd, char *out, size_t max)
{
	uint64_t n = codec_get_varint(rd);

	if (rd->bad || n >= max || n > (uint64_t)(rd->end - rd->p) ||
	    memchr(rd->p, '\0', n) != NULL) {
		rd->bad = 1;
		out[0] = '\0';
		return;
	}
	memcpy(out, rd->p, n);
	out[n] = '\0';
	rd->p += n;
}

/* A histogram's n as put_hist writes it: two octets, 0x80 | low 7 bits
 * then the high bits, whatever n is (below 128 not the canonical varint,
 * so not read as one). */
static uint64_t
get_bucket_count(struct codec_reader *rd)
{
	uint64_t n;

	if (rd->end - rd->p < 2 || !(rd->p[0] & 0x80) || (rd->p[1] & 0x80)) {
		rd->bad = 1;
		return 0;
	}
	n = (uint64_t)(rd->p[0] & 0x7f) | (uint64_t)rd->p[1] << 7;
	rd->p += 2;
	return n;
}

struct store_hist_slots *
store_hist_slots_new(void)
{
	struct store_hist_slots *sl = malloc(sizeof(*sl));
	unsigned i;

	if (sl == NULL)
		return NULL;
	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		hist_init(&sl->h[i]);
		sl->lo[i] = 0;
		sl->hi[i] = 0;
	}
	return sl;
}

/* Decodes histogram i of a record into *out: a fresh allocation, or slot
 * i of sl (cleared of the previous record's buckets). */
static int
get_hist(struct codec_reader *rd, struct store_hist_slots *sl, unsigned i,
	 struct hist **out)
{
	uint64_t count, nnz, next = 0, total = 0, k;
	uint32_t *lo = NULL, *hi = NULL;
	struct hist *h;

	if (sl != NULL) {
		h = &sl->h[i];
		lo = &sl->lo[i];
		hi = &sl->hi[i];
		if (*hi > *lo)
			memset(&h->buckets[*lo], 0,
			       (*hi - *lo) * sizeof(h->buckets[0]));
		*lo = HIST_NBUCKETS;
		*hi = 0;
		h->count = 0;
		h->sum = 0;
		h->min = UINT64_MAX;
		h->max = 0;
		h->overflow = 0;
	} else {
		h = malloc(sizeof(*h));
		if (h == NULL)
			return -ENOMEM;
		hist_init(h);
	}
	*out = h;
	count = codec_get_varint(rd);
	h->sum = codec_get_varint(rd);
	h->min = codec_get_varint(rd);
	h->max = codec_get_varint(rd);
	h->overflow = codec_get_varint(rd);
	nnz = get_bucket_count(rd);
	if (rd->bad || nnz > HIST_NBUCKETS)
		return -EINVAL;
	for (k = 0; k < nnz; k++) {
		uint64_t gap = codec_get_varint(rd), c = codec_get_varint(rd);

		if (rd->bad || gap >= HIST_NBUCKETS - next || c == 0 ||
		    c > count - total)
			return -EINVAL;
		next += gap;
		h->buckets[next] = c;
		if (lo != NULL) {
			if (next < *lo)
				*lo = (uint32_t)next;
			*hi = (uint32_t)next + 1;
		}
		total += c;
		next++;
	}
	if (total != count)
		return -EINVAL;
	h->count = count;
	if (count == 0)
		h->min = UINT64_MAX;
	return 0;
}

/* The quality figures put_quality wrote (of a writer that may know
 * more keys, or fewer). */
static void
get_quality(struct codec_reader *rd, struct record_quality *q)
{
	uint64_t n = codec_get_varint(rd), k, v;

	for (k = 0; k < n && !rd->bad; k++) {
		void *f;

		v = codec_get_varint(rd);
		if (k >= RECORD_QUALITY_NKEYS)
			continue;       /* a key of a later writer */
		f = record_quality_field(q, (unsigned)k);
		switch (record_quality_keys[k].type) {
		case RECORD_Q_U64:
			*(uint64_t *)f = v;
			break;
		case RECORD_Q_BOOL:
			if (v > 1)
				rd->bad = 1;
			*(bool *)f = v == 1;
			break;
		default:
			if (v > (uint64_t)INT64_MAX + 1)
				rd->bad = 1;
			*(int64_t *)f = v > (uint64_t)INT64_MAX ? INT64_MIN :
					-(int64_t)v;
			break;
		}
	}
	q->present = true;
}

int
store_codec_decode(const void *blob, size_t len, struct interval_record *r,
		   struct store_hist_slots *slots)
{
	struct codec_reader rd = { blob, (const uint8_t *)blob + len, 0 };
	uint64_t *counters[CODEC_N_COUNTERS] = {
		&r->start_ns, &r->interval_ns, &r->tx_pkts, &r->tx_bytes,
		&r->rx_pkts, &r->rx_bytes, &r->lost, &r->lost_fwd,
		&r->lost_back, &r->reordered, &r->duplicates, &r->late,
		&r->jitter_ns,
	};
	uint64_t flags, n_drops;
	unsigned i, k;
	int rc = -EINVAL;

	if (len < 1 || rd.p[0] != STORE_CODEC_VERSION)
		return -EINVAL;
	rd.p++;
	get_string(&rd, r->probe, sizeof(r->probe));
	get_string(&rd, r->session, sizeof(r->session));
	get_string(&rd, r->src, sizeof(r->src));
	get_string(&rd, r->dst, sizeof(r->dst));
	for (k = 0; k < CODEC_N_COUNTERS; k++)
		*counters[k] = codec_get_varint(&rd);
	flags = codec_get_varint(&rd);
	r->clock_synced = (flags & (1u << 0)) != 0;
	r->hw_timestamps = (flags & (1u << 1)) != 0;
	r->throughput_bps = codec_get_rate(&rd);
	r->throughput_l1_bps = codec_get_rate(&rd);
	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		struct delay_summary *s =
			(struct delay_summary *)summary_of(r, i);

		if (!(flags & (1u << (2 + i))))
			continue;
		s->present = true;
		s->min = codec_get_varint(&rd);
		s->mean = codec_get_varint(&rd);
		s->p50 = codec_get_varint(&rd);
		s->p90 = codec_get_varint(&rd);
		s->p99 = codec_get_varint(&rd);
		s->p999 = codec_get_varint(&rd);
		s->max = codec_get_varint(&rd);
	}
	n_drops = codec_get_varint(&rd);
	if (rd.bad || n_drops > RECORD_MAX_DROPS)
		goto fail;
	r->n_drops = (unsigned)n_drops;
	for (k = 0; k < n_drops; k++) {
		get_string(&rd, r->drops[k].name, sizeof(r->drops[k].name));
		r->drops[k].value = codec_get_varint(&rd);
	}
	if (flags & CODEC_FLAG_QUALITY)
		get_quality(&rd, &r->q);
	if (rd.bad)
		goto fail;
	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		if (!(flags & (1u << (6 + i))))
			continue;
		if (slots == NULL)
			r->hist_owned |= (uint8_t)(1u << i);
		rc = get_hist(&rd, slots, i, &r->hist[i]);
		if (rc < 0)
			goto fail;
	}
	if (rd.p != rd.end || (flags & ~(uint64_t)CODEC_FLAGS_KNOWN) != 0) {
		rc = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	record_free(r);
	return rc < 0 ? rc : -EINVAL;
}
