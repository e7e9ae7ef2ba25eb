/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stored form of an interval record in the SQLite back-end: a compact
 * binary blob instead of the JSON line. Decoding it costs a fraction of
 * record_from_json (no JSON parse, no base64), which is what long reports
 * spend their time on, and encoding it replaces record_to_json on ingest.
 *
 * It holds exactly what record_to_json would write (the same clamping of
 * counts to INT64_MAX and of rates to finite non-negative values), so a
 * record read back is the one record_from_json would give from the JSON
 * line. Layout, all integers unsigned LEB128 varints, canonical
 * (metroprobe/leb128.h: a reader refuses an overlong one, or one past 64
 * bits, as damage) but for a histogram's n below:
 *   octet  STORE_CODEC_VERSION
 *   probe, session, src, dst: length, octets (no NUL)
 *   start_ns, interval_ns, tx_pkts, tx_bytes, rx_pkts, rx_bytes, lost,
 *   lost_fwd, lost_back, reordered, duplicates, late, jitter_ns
 *   flags: bit 0 clock_synced, bit 1 hw_timestamps, bits 2-5 summary i
 *          present, bits 6-9 histogram i present, bit 10 quality stated
 *   throughput_bps, throughput_l1_bps: 8 octets each, IEEE 754 binary64,
 *          little-endian
 *   each present summary: min, mean, p50, p90, p99, p999, max
 *   n_drops, then per drop: name length, name, value
 *   when the quality is stated (flag bit 10): n, then n values in
 *          foreach_record_quality_key order (record.h): U64 as a count,
 *          BOOL as 0 or 1, NONPOS as its magnitude (0 - value). n is
 *          the number of keys of the writer: a reader fills the keys it
 *          knows, leaves the ones the writer did not have at 0 and
 *          skips those it does not know. A record without quality
 *          (older probes, older stores) is stored as before: bit 10
 *          clear, nothing written.
 *   each present histogram: count, sum, min, max, overflow, n (non-empty
 *          buckets, always two octets: 0x80 | low 7 bits, high bits, so
 *          a varint that is overlong when n < 128: read as the
 *          fixed-width field it is), n pairs (index gap, count) as in
 *          hist_codec.c's wire form
 */
#ifndef METROPROBE_COLLECTOR_STORE_CODEC_H
#define METROPROBE_COLLECTOR_STORE_CODEC_H

#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "metroprobe/leb128.h"
#include "metroprobe/record.h"

#define STORE_CODEC_VERSION 1

/* A growable output buffer. */
struct store_buf {
	uint8_t *data;
	size_t len, cap;
};

void store_buf_free(struct store_buf *b);

/* Appenders of the stored forms; the caller has reserved the room. */
static inline void
store_buf_put_varint(struct store_buf *b, uint64_t v)
{
	b->len += mp_leb128_put(b->data + b->len, v);
}

/* A rate: 8 octets, IEEE 754 binary64, little-endian; anything but a
 * finite positive number is stored as 0.0 (what record_to_json writes). */
static inline void
store_buf_put_rate(struct store_buf *b, double v)
{
	uint64_t bits;

	if (!(isfinite(v) && v > 0))
		v = 0.0;
	memcpy(&bits, &v, sizeof(bits));
	for (unsigned i = 0; i < 8; i++)
		b->data[b->len++] = (uint8_t)(bits >> (8 * i));
}

/* A reader of the stored forms: bad is set (and 0 returned) when the
 * input ends early, or a varint is overlong or runs past 64 bits. */
struct codec_reader {
	const uint8_t *p, *end;
	int bad;
};

static inline uint64_t
codec_get_varint(struct codec_reader *rd)
{
	uint64_t v;

	if (mp_leb128_get(&rd->p, rd->end, &v) < 0) {
		rd->bad = 1;
		return 0;
	}
	return v;
}

/* The rate written by store_buf_put_rate. */
static inline double
codec_get_rate(struct codec_reader *rd)
{
	uint64_t bits = 0;
	double v;

	if (rd->end - rd->p < 8) {
		rd->bad = 1;
		return 0.0;
	}
	for (unsigned i = 0; i < 8; i++)
		bits |= (uint64_t)rd->p[i] << (8 * i);
	rd->p += 8;
	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* Appends the encoded record to b. Returns 0 or -ENOMEM. */
int store_codec_encode(struct store_buf *b, const struct interval_record *r);

/*
 * Histograms a decoder fills again and again (a scan hands out one record
 * at a time): only the buckets the previous record set are cleared, in
 * place of allocating and zeroing 4 x 16 KiB per record.
 */
struct store_hist_slots {
	struct hist h[RECORD_HIST_COUNT];
	uint32_t lo[RECORD_HIST_COUNT], hi[RECORD_HIST_COUNT];  /* dirty */
};

/* Returns NULL when out of memory; free() it after use. */
struct store_hist_slots *store_hist_slots_new(void);

/*
 * Decodes one blob into r (record_init'ed by the caller; histograms are
 * allocated and owned by r; with slots, r's histograms are slots->h,
 * not owned, valid until the next decode into the same slots). Returns 0,
 * -ENOMEM, or -EINVAL for a blob that is not a well-formed record (r is
 * then left empty).
 */
int store_codec_decode(const void *blob, size_t len,
		       struct interval_record *r,
		       struct store_hist_slots *slots);

#endif
