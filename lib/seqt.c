/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sequence tracker. The open range is [base, base + window); one bit per
 * sequence number, at bit (seq & mask) of the bitmap, says "received".
 * All comparisons are serial (RFC 1982) so the 2^32 wrap is invisible.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/seqt.h"

#define SEQT_WINDOW_MIN 64u           /* one bitmap word */
#define SEQT_WINDOW_MAX (1u << 30)    /* well inside serial range */

int
seqt_init(struct seqt *t, uint32_t window)
{
	memset(t, 0, sizeof(*t));
	if (window < SEQT_WINDOW_MIN || window > SEQT_WINDOW_MAX ||
	    (window & (window - 1)) != 0)
		return -EINVAL;
	t->bits = calloc(window / 64, sizeof(uint64_t));
	if (t->bits == NULL)
		return -ENOMEM;
	t->window = window;
	t->mask = window - 1;
	return 0;
}

void
seqt_free(struct seqt *t)
{
	free(t->bits);
	t->bits = NULL;
	t->window = 0;
	t->mask = 0;
}

void
seqt_start(struct seqt *t, uint32_t first_seq)
{
	memset(t->bits, 0, t->window / 64 * sizeof(uint64_t));
	t->base = first_seq;
	t->next_expected = first_seq;
	t->started = true;
}

enum seqt_verdict
seqt_rx(struct seqt *t, uint32_t seq)
{
	if (!t->started) {
		/* A receiver that was not told the first sequence number
		 * starts its stream at the first one it sees. */
		t->base = seq;
		t->next_expected = seq;
		t->started = true;
	}

	int32_t off = seqt_diff(seq, t->base);
	if (off < 0) {
		t->counts.late++;
		return SEQT_LATE;
	}
	if ((uint32_t)off >= t->window) {
		t->counts.ahead++;
		return SEQT_AHEAD;
	}

	uint32_t idx = seq & t->mask;
	uint64_t bit = 1ULL << (idx & 63);
	uint64_t *word = &t->bits[idx >> 6];
	if (*word & bit) {
		t->counts.duplicates++;    /* RFC 5560 */
		return SEQT_DUPLICATE;
	}
	*word |= bit;
	t->counts.received++;

	/* RFC 4737 section 3.3: reordered when s < NextExp. */
	if (seqt_diff(seq, t->next_expected) < 0) {
		t->counts.reordered++;
		return SEQT_REORDERED;
	}
	t->next_expected = seq + 1;
	return SEQT_IN_ORDER;
}

uint64_t
seqt_close(struct seqt *t, uint32_t up_to)
{
	if (!t->started) {
		/* Nothing seen: the range before up_to is not ours to judge,
		 * the stream starts at up_to. */
		seqt_start(t, up_to);
		return 0;
	}

	int32_t d = seqt_diff(up_to, t->base);
	if (d <= 0)
		return 0;

	uint64_t lost = 0;
	uint32_t remaining = (uint32_t)d;
	if (remaining > t->window) {
		/* Contract violation (closing more than a window at once):
		 * nothing beyond the window could have been recorded, so
		 * those sequence numbers are lost. */
		lost += remaining - t->window;
		remaining = t->window;
	}

	uint32_t seq = t->base;
	while (remaining > 0) {
		uint32_t idx = seq & t->mask;
		uint32_t bit = idx & 63;
		uint32_t n = 64 - bit;
		if (n > remaining)
			n = remaining;
		uint64_t m = (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << bit;
		uint64_t *word = &t->bits[idx >> 6];
		lost += n - (uint32_t)__builtin_popcountll(*word & m);
		*word &= ~m;
		seq += n;
		remaining -= n;
	}

	t->base = up_to;
	/* Keep next_expected within serial range of base: anything below
	 * base is late anyway. */
	if (seqt_diff(t->next_expected, up_to) < 0)
		t->next_expected = up_to;
	t->counts.lost += lost;
	return lost;
}
