/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sequence tracker: loss (RFC 7680, with a loss timeout), reordering
 * (RFC 4737 section 3: a packet whose sequence number is below the next
 * expected one, next expected = highest received + 1), duplicates
 * (RFC 5560), over 32-bit sequence wrap-around (serial arithmetic,
 * RFC 1982), with bounded memory (a bitmap of `window` sequence numbers).
 *
 * One tracker belongs to one thread (the receiving lcore). Sequence
 * numbers at or above `base` are open; seqt_close(t, up_to) is called
 * once their loss timeout has passed and makes everything below up_to
 * final: what was not received there is lost, and anything arriving for
 * it later is counted late (never un-lost), copies included: below base a
 * late first copy and a late duplicate cannot be told apart.
 * A tracker never started takes the first sequence number it receives
 * (or the first up_to it is closed at) as the start of the stream.
 */
#ifndef METROPROBE_SEQT_H
#define METROPROBE_SEQT_H

#include <stdbool.h>
#include <stdint.h>

enum seqt_verdict {
	SEQT_IN_ORDER = 0,  /* first copy, at or above next expected */
	SEQT_REORDERED,     /* first copy, below next expected */
	SEQT_DUPLICATE,     /* already received */
	SEQT_LATE,          /* below base: its fate was already decided */
	SEQT_AHEAD,         /* beyond base + window: cannot be tracked */
};

struct seqt_counts {
	uint64_t received;    /* first copies (in order + reordered) */
	uint64_t reordered;
	uint64_t duplicates;
	uint64_t late;
	uint64_t ahead;
	uint64_t lost;        /* decided by seqt_close */
};

struct seqt {
	uint64_t *bits;        /* window bits, bit (seq & mask) */
	uint32_t window;       /* power of two */
	uint32_t mask;
	uint32_t base;         /* lowest open sequence number */
	uint32_t next_expected;
	bool started;          /* a first packet or seqt_start was seen */
	struct seqt_counts counts;   /* cumulative since init */
};

/*
 * window: a power of two >= the number of packets that can be open at
 * once (rate * (interval + loss timeout)). Allocates; returns 0 or
 * -EINVAL / -ENOMEM.
 */
int seqt_init(struct seqt *t, uint32_t window);
void seqt_free(struct seqt *t);
/* Declares the first sequence number of the stream (sender side). */
void seqt_start(struct seqt *t, uint32_t first_seq);

/* Hot path: classify and record one received sequence number. */
enum seqt_verdict seqt_rx(struct seqt *t, uint32_t seq);

/*
 * Closes [base, up_to): counts the unreceived ones as lost, clears their
 * bits, base = up_to. Returns the number lost in that range.
 * up_to must not be more than `window` ahead of base; if it is, the
 * sequence numbers beyond the window (which could not be recorded) are
 * counted lost too.
 */
uint64_t seqt_close(struct seqt *t, uint32_t up_to);

/* Serial-number comparison: a - b as a signed 32-bit distance. */
static inline int32_t
seqt_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

#endif
