/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hardware receive timestamps: device clock ticks to TSC to wall clock.
 *
 * A NIC stamps received frames with a counter of its own: `width` bits
 * wide (it wraps at 2^width), counting at a rate that is measured here,
 * never assumed. About once a second the control thread reads the counter
 * between two TSC reads (a bracket: the device latched its value somewhere
 * in [tsc_before, tsc_after]) and gives the pair to an estimator, which
 *   - unwraps the counter from pair to pair;
 *   - measures the device rate from the two pairs furthest apart in a
 *     window of up to HWTS_WINDOW pairs: the error is the two brackets
 *     over the baseline, so the longest baseline gives the least;
 *   - checks every new pair against the prediction of the model so far:
 *     within the error bound it joins the window; beyond it, but by less
 *     than HWTS_STEP_PPM of the distance, the rate has changed (the window
 *     restarts from the last two pairs); further still the clock stepped
 *     (the window restarts from the new pair and conversion stops until a
 *     rate is measured and confirmed again). A counter taken as 64 bits
 *     wide that goes back by about a power of two has wrapped: its width
 *     is learned there;
 *   - is ready only once a rate measured on two pairs has predicted a
 *     third within the bound, so a step between the first two pairs can
 *     never turn into nonsense timestamps.
 * Its output, struct hwts_conv, anchors the conversion at the newest pair.
 * The data plane converts with hwts_to_tsc(): one 64x64->128 multiply, no
 * division; the TSC reading then goes through the caller's own TSC to
 * wall-clock conversion (hwts_tsc_to_ns takes one of the probe's shape).
 *
 * Error bound of a conversion landing d TSC ticks from the anchor:
 *
 *     err(d) = h_a + q + 1 + d * (h_o + h_n + q) / B
 *
 * h_a: half the anchor pair's bracket; h_o, h_n: half the brackets of the
 * oldest and newest pairs of the window, B TSC ticks apart (the rate's
 * error is their sum over B); q: one device tick in TSC ticks (the counter
 * reads whole ticks); 1: the rounding of the conversion. All in TSC ticks,
 * rounded up. It holds while the ratio of the device and TSC rates stays
 * what it was over the window, which every new pair checks. Not in it: the
 * TSC to wall-clock error (the probe's clock error estimate) and where in
 * the frame the device takes its stamp.
 *
 * An estimator belongs to one thread (the control thread); a struct
 * hwts_conv is plain data, copied to the data plane as a whole.
 */
#ifndef METROPROBE_HWTS_H
#define METROPROBE_HWTS_H

#include <stdbool.h>
#include <stdint.h>

#define HWTS_WINDOW     64      /* pairs in the rate window */
#define HWTS_MIN_WIDTH  8       /* narrowest counter taken seriously */
#define HWTS_STEP_PPM   1000    /* a miss beyond this is a step, not a drift */

/* What became of one timestamp: enum, counter names and help in one list. */
#define foreach_hwts_status						\
_(OK,        "converted", "converted from the device clock")		\
_(NOT_READY, "not_ready", "device clock rate not measured and confirmed yet") \
_(FAR,       "far",       "too far from the device clock's newest reading to unwrap safely")

enum hwts_status {
#define _(sym, name, help) HWTS_##sym,
	foreach_hwts_status
#undef _
	HWTS_STATUS_N
};

extern const char *const hwts_status_names[HWTS_STATUS_N];
extern const char *const hwts_status_help[HWTS_STATUS_N];

/* One reading of the device counter between two TSC reads. */
struct hwts_pair {
	uint64_t dev;
	uint64_t tsc_before;
	uint64_t tsc_after;
};

/* TSC to wall-clock ns: the shape of the probe's own conversion. */
struct hwts_tsc_clock {
	uint64_t base_tsc;
	uint64_t base_ns;
	uint64_t mult;          /* ns per TSC tick, 32.32 fixed point */
};

/* Conversion parameters: plain data, read-only for the data plane. */
struct hwts_conv {
	uint64_t anchor_dev;    /* newest pair's reading (below 2^width) */
	uint64_t anchor_tsc;    /* the middle of its bracket */
	uint64_t mask;          /* 2^width - 1 */
	uint64_t tsc_per_tick;  /* measured rate, 32.32 fixed point */
	uint64_t max_ahead;     /* device ticks after the anchor accepted */
	uint64_t max_behind;    /* device ticks before it accepted */
	uint64_t err_base_tsc;  /* h_a + q + 1 */
	uint64_t err_rate_q32;  /* (h_o + h_n + q) / B, 0.32 fixed point */
	uint64_t err_max_tsc;   /* err() at the farthest accepted distance */
	bool ready;
};

struct hwts_est_conf {
	unsigned width;             /* counter bits, HWTS_MIN_WIDTH..64 */
	bool width_known;           /* false: 64 is a guess, learn at a wrap */
	uint64_t max_ahead_tsc;     /* stamps accepted this long after the
				     * newest pair ... */
	uint64_t max_behind_tsc;    /* ... and this long before it */
	uint64_t min_baseline_tsc;  /* pairs at least this far apart before
				     * a rate is measured from them */
};

enum hwts_event {
	HWTS_EV_BAD_PAIR = 0,   /* not used: bracket inverted or not after
				 * the previous pair */
	HWTS_EV_FIRST,          /* first pair of a window */
	HWTS_EV_ADDED,          /* joined the window */
	HWTS_EV_READY,          /* joined it and confirmed the rate */
	HWTS_EV_RATE_CHANGED,   /* missed by more than the bound: the window
				 * restarts from the last two pairs */
	HWTS_EV_WIDTH_LEARNED,  /* the counter wrapped: width learned */
	HWTS_EV_STEPPED,        /* missed by far: restarted, not ready */
};

struct hwts_sample {
	uint64_t dev;           /* unwrapped reading (modulo 2^64) */
	uint64_t tsc;           /* middle of the bracket */
	uint64_t half;          /* half the bracket, rounded up */
};

struct hwts_est {
	struct hwts_est_conf conf;
	unsigned width;
	uint64_t mask;
	struct hwts_sample win[HWTS_WINDOW];
	unsigned n;             /* pairs in the window */
	unsigned head;          /* the newest */
	uint64_t last_raw;      /* newest reading, as read */
	uint64_t max_raw;       /* largest reading since init */
	bool have_rate;
	bool confirmed;
	struct hwts_conv conv;
	/* for the log and telemetry */
	uint64_t pairs, bad_pairs, steps, rate_changes;
	int64_t last_miss_tsc;  /* newest pair minus its prediction */
	uint64_t last_bound_tsc;  /* what that miss was allowed */
};

/* Returns 0, or -EINVAL for a width outside HWTS_MIN_WIDTH..64. */
int hwts_est_init(struct hwts_est *e, const struct hwts_est_conf *conf);
enum hwts_event hwts_est_add(struct hwts_est *e, const struct hwts_pair *p);
/* TSC ticks between the oldest and the newest pair of the window. */
uint64_t hwts_est_baseline_tsc(const struct hwts_est *e);

static inline uint64_t
hwts_mul_q32(uint64_t a, uint64_t q32)
{
	return (uint64_t)(((unsigned __int128)a * q32) >> 32);
}

/* Error bound (TSC ticks) of a conversion landing d TSC ticks from the
 * anchor, either side. */
static inline uint64_t
hwts_error_tsc(const struct hwts_conv *c, uint64_t d)
{
	return c->err_base_tsc + (uint64_t)(((unsigned __int128)d *
		c->err_rate_q32 + 0xffffffffu) >> 32);
}

/*
 * Device timestamp <stamp> (raw, any bits above the width ignored) to the
 * TSC reading of the same instant, unwrapped relative to the anchor: a
 * stamp up to max_behind ticks before it or max_ahead after it. Anything
 * else is HWTS_FAR and *tsc is left alone.
 */
static inline enum hwts_status
hwts_to_tsc(const struct hwts_conv *c, uint64_t stamp, uint64_t *tsc)
{
	uint64_t fwd = (stamp - c->anchor_dev) & c->mask, back;

	if (!c->ready)
		return HWTS_NOT_READY;
	if (fwd <= c->max_ahead) {
		*tsc = c->anchor_tsc + hwts_mul_q32(fwd, c->tsc_per_tick);
		return HWTS_OK;
	}
	back = (c->anchor_dev - stamp) & c->mask;
	if (back <= c->max_behind) {
		*tsc = c->anchor_tsc - hwts_mul_q32(back, c->tsc_per_tick);
		return HWTS_OK;
	}
	return HWTS_FAR;
}

/* Error bound (TSC ticks) of the conversion that gave <tsc>. */
static inline uint64_t
hwts_error_at(const struct hwts_conv *c, uint64_t tsc)
{
	return hwts_error_tsc(c, tsc >= c->anchor_tsc ?
			      tsc - c->anchor_tsc : c->anchor_tsc - tsc);
}

static inline uint64_t
hwts_tsc_to_ns(const struct hwts_tsc_clock *k, uint64_t tsc)
{
	if (tsc >= k->base_tsc)
		return k->base_ns + hwts_mul_q32(tsc - k->base_tsc, k->mult);
	return k->base_ns - hwts_mul_q32(k->base_tsc - tsc, k->mult);
}

/* Device timestamp to wall-clock ns through <k>. */
static inline enum hwts_status
hwts_to_ns(const struct hwts_conv *c, const struct hwts_tsc_clock *k,
	   uint64_t stamp, uint64_t *ns)
{
	uint64_t tsc;
	enum hwts_status st = hwts_to_tsc(c, stamp, &tsc);

	if (st == HWTS_OK)
		*ns = hwts_tsc_to_ns(k, tsc);
	return st;
}

#endif
