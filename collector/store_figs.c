/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stored form of the per-minute figures (store.h, struct
 * store_minute_figs) that the SQLite back-end keeps beside each 1-minute
 * rollup (table rollup_minute_figs), unsigned LEB128 varints:
 *   octet STORE_FIGS_VERSION
 *   tx_pkts, rx_pkts, lost
 *   flags: bit 0 clock_synced, bit 1 + i histogram i non-empty, bit 5
 *          quality stated, bit 6 host_loss_suspect
 *   throughput_bps, throughput_l1_bps: 8 octets each, IEEE 754 binary64,
 *          little-endian (as in store_codec.h)
 *   when the quality is stated: rtt_error_ns, owd_error_ns
 *   each non-empty histogram: count, min, max, q[0 .. STORE_FIG_NPCT)
 * Figures written before schema version 3 have neither bit: not stated,
 * as their rollups.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/hist.h"
#include "metroprobe/record.h"
#include "store_codec.h"
#include "store_sqlite_priv.h"

#define STORE_FIGS_VERSION 1
#define FIGS_QUALITY     (1u << (1 + RECORD_HIST_COUNT))
#define FIGS_HOST_LOSS   (1u << (2 + RECORD_HIST_COUNT))
#define FIGS_FLAGS_KNOWN ((1u << (3 + RECORD_HIST_COUNT)) - 1)

/* As store_codec.c stores counts: JSON integers are signed. */
static inline void
figs_put_count(struct store_buf *b, uint64_t v)
{
	store_buf_put_varint(b, v > INT64_MAX ? INT64_MAX : v);
}

int
store_figs_encode(struct store_buf *b, const struct interval_record *r)
{
	/* the worst case: every varint 10 octets */
	size_t need = 1 + 6 * 10 + 16 +
		      RECORD_HIST_COUNT * (3 + STORE_FIG_NPCT) * 10;
	double q[STORE_FIG_NPCT];
	uint64_t flags = r->clock_synced ? 1 : 0;
	unsigned i, k;

	if (b->cap - b->len < need) {
		uint8_t *d = realloc(b->data, b->len + need);

		if (d == NULL)
			return -ENOMEM;
		b->data = d;
		b->cap = b->len + need;
	}
	for (k = 0; k < STORE_FIG_NPCT; k++)
		q[k] = store_fig_pct[k] / 100.0;
	for (i = 0; i < RECORD_HIST_COUNT; i++)
		if (r->hist[i] != NULL && !hist_empty(r->hist[i]))
			flags |= 1u << (1 + i);
	if (r->q.present)
		flags |= FIGS_QUALITY |
			 (r->q.host_loss_suspect ? FIGS_HOST_LOSS : 0);
	b->data[b->len++] = STORE_FIGS_VERSION;
	figs_put_count(b, r->tx_pkts);
	figs_put_count(b, r->rx_pkts);
	figs_put_count(b, r->lost);
	store_buf_put_varint(b, flags);
	store_buf_put_rate(b, r->throughput_bps);
	store_buf_put_rate(b, r->throughput_l1_bps);
	if (r->q.present) {
		figs_put_count(b, r->q.rtt_error_ns);
		figs_put_count(b, r->q.owd_error_ns);
	}
	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		const struct hist *h = r->hist[i];
		uint64_t v[STORE_FIG_NPCT];

		if (!(flags & (1u << (1 + i))))
			continue;
		hist_quantiles(h, q, v, STORE_FIG_NPCT);
		store_buf_put_varint(b, h->count);
		store_buf_put_varint(b, h->min);
		store_buf_put_varint(b, h->max);
		for (k = 0; k < STORE_FIG_NPCT; k++)
			store_buf_put_varint(b, v[k]);
	}
	return 0;
}

int
store_figs_decode(const void *blob, size_t len, bool hists,
		  struct store_minute_figs *f)
{
	struct codec_reader rd = { blob, (const uint8_t *)blob + len, 0 };
	uint64_t flags;
	unsigned i, k;

	if (len < 1 || rd.p[0] != STORE_FIGS_VERSION)
		return -EINVAL;
	rd.p++;
	f->tx_pkts = codec_get_varint(&rd);
	f->rx_pkts = codec_get_varint(&rd);
	f->lost = codec_get_varint(&rd);
	flags = codec_get_varint(&rd);
	f->clock_synced = (flags & 1) != 0;
	f->throughput_bps = codec_get_rate(&rd);
	f->throughput_l1_bps = codec_get_rate(&rd);
	f->q_stated = (flags & FIGS_QUALITY) != 0;
	f->host_loss_suspect = (flags & FIGS_HOST_LOSS) != 0;
	f->rtt_error_ns = f->q_stated ? codec_get_varint(&rd) : 0;
	f->owd_error_ns = f->q_stated ? codec_get_varint(&rd) : 0;
	if (!hists) {
		for (i = 0; i < RECORD_HIST_COUNT; i++) {
			memset(&f->h[i], 0, sizeof(f->h[i]));
			f->h[i].count = (flags >> (1 + i)) & 1;
		}
		return rd.bad ? -EINVAL : 0;
	}
	for (i = 0; i < RECORD_HIST_COUNT; i++) {
		struct store_hist_figs *h = &f->h[i];

		if (!(flags & (1u << (1 + i)))) {
			memset(h, 0, sizeof(*h));
			continue;
		}
		h->count = codec_get_varint(&rd);
		h->min = codec_get_varint(&rd);
		h->max = codec_get_varint(&rd);
		for (k = 0; k < STORE_FIG_NPCT; k++)
			h->q[k] = codec_get_varint(&rd);
		if (h->count == 0)
			rd.bad = 1;
	}
	if (rd.bad || rd.p != rd.end || (flags & ~(uint64_t)FIGS_FLAGS_KNOWN) ||
	    (f->host_loss_suspect && !f->q_stated))
		return -EINVAL;
	return 0;
}
