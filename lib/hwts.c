/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device clock estimation from (device reading, TSC bracket) pairs; see
 * include/metroprobe/hwts.h for the model and the error bound. Divisions
 * happen here, once per pair, never per packet.
 */
#include <errno.h>
#include <string.h>

#include "metroprobe/hwts.h"

typedef unsigned __int128 u128;

const char *const hwts_status_names[HWTS_STATUS_N] = {
#define _(sym, name, help) name,
	foreach_hwts_status
#undef _
};

const char *const hwts_status_help[HWTS_STATUS_N] = {
#define _(sym, name, help) help,
	foreach_hwts_status
#undef _
};

static uint64_t
width_mask(unsigned width)
{
	return width >= 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;
}

static uint64_t
sat64(u128 v)
{
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static uint64_t
abs64(int64_t v)
{
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

static const struct hwts_sample *
est_newest(const struct hwts_est *e)
{
	return &e->win[e->head];
}

static const struct hwts_sample *
est_oldest(const struct hwts_est *e)
{
	return &e->win[(e->head + HWTS_WINDOW + 1 - e->n) % HWTS_WINDOW];
}

uint64_t
hwts_est_baseline_tsc(const struct hwts_est *e)
{
	return e->n < 2 ? 0 : est_newest(e)->tsc - est_oldest(e)->tsc;
}

/* Device ticks in <tsc> TSC ticks at <rate> (32.32 TSC per tick). */
static uint64_t
ticks_in(uint64_t tsc, uint64_t rate)
{
	return sat64(((u128)tsc << 32) / rate);
}

/*
 * The conversion from the window: rate from its oldest and newest pairs,
 * anchor at the newest. Without a usable rate (one pair, a baseline too
 * short, a counter that did not move) the conversion is not ready.
 */
static void
est_update_conv(struct hwts_est *e)
{
	struct hwts_conv *c = &e->conv;
	const struct hwts_sample *o = est_oldest(e), *n = est_newest(e);
	uint64_t dtsc = n->tsc - o->tsc, dticks = n->dev - o->dev;
	uint64_t q, rate, ahead_tsc, behind_tsc;
	u128 r;

	c->anchor_dev = e->last_raw;
	c->anchor_tsc = n->tsc;
	c->mask = e->mask;
	e->have_rate = false;
	c->ready = false;
	if (e->n < 2 || dtsc < e->conf.min_baseline_tsc || dtsc == 0 ||
	    dticks == 0)
		return;
	r = ((u128)dtsc << 32) / dticks;
	if (r == 0 || r > UINT64_MAX)
		return;
	rate = (uint64_t)r;
	q = (rate >> 32) + ((rate & 0xffffffffu) != 0);
	c->tsc_per_tick = rate;
	c->err_base_tsc = n->half + q + 1;
	c->err_rate_q32 = sat64((((u128)(o->half + n->half + q) << 32) +
				 dtsc - 1) / dtsc);
	/* both sides below half the counter's range: fwd and back (see
	 * hwts_to_tsc) can never both fit, so a stamp unwraps one way */
	c->max_ahead = ticks_in(e->conf.max_ahead_tsc, rate);
	c->max_behind = ticks_in(e->conf.max_behind_tsc, rate);
	if (c->max_ahead > e->mask >> 1)
		c->max_ahead = e->mask >> 1;
	if (c->max_behind > e->mask >> 1)
		c->max_behind = e->mask >> 1;
	ahead_tsc = sat64((u128)c->max_ahead * rate >> 32);
	behind_tsc = sat64((u128)c->max_behind * rate >> 32);
	c->err_max_tsc = hwts_error_tsc(c, ahead_tsc > behind_tsc ?
					ahead_tsc : behind_tsc);
	e->have_rate = true;
	c->ready = e->confirmed;
}

/* A window of one pair: the start, or the restart after a step. */
static void
est_restart(struct hwts_est *e, uint64_t raw, const struct hwts_sample *s)
{
	e->n = 1;
	e->head = 0;
	e->win[0] = *s;
	e->win[0].dev = raw;
	e->last_raw = raw;
	e->confirmed = false;
	est_update_conv(e);
}

static void
est_append(struct hwts_est *e, uint64_t raw, uint64_t delta,
	   const struct hwts_sample *s)
{
	uint64_t dev = est_newest(e)->dev + delta;

	e->head = (e->head + 1) % HWTS_WINDOW;
	if (e->n < HWTS_WINDOW)
		e->n++;
	e->win[e->head] = *s;
	e->win[e->head].dev = dev;
	e->last_raw = raw;
	est_update_conv(e);
}

/* The window becomes its newest pair and <s>: the rate of the last
 * stretch only. */
static void
est_shrink_append(struct hwts_est *e, uint64_t raw, uint64_t delta,
		  const struct hwts_sample *s)
{
	struct hwts_sample keep = *est_newest(e);

	e->n = 1;
	e->head = 0;
	e->win[0] = keep;
	est_append(e, raw, delta, s);
}

/*
 * The whole number of wraps that brings <delta> (the counter's advance
 * modulo 2^width) closest to <expected> ticks.
 */
static uint64_t
unwrap_near(uint64_t delta, uint64_t expected, unsigned width)
{
	uint64_t k;

	if (width >= 64 || expected <= delta)
		return delta;
	k = (expected - delta + (UINT64_C(1) << (width - 1))) >> width;
	return delta + (k << width);
}

/*
 * A counter taken as 64 bits wide read <raw> after <last>, lower, where
 * <expected> ticks should have passed, give or take <tol>: if the counter
 * wrapped at 2^w for a w that every reading so far fits in, that w.
 */
static unsigned
width_from_wrap(const struct hwts_est *e, uint64_t raw, uint64_t expected,
		uint64_t tol)
{
	uint64_t span = (e->last_raw - raw) + expected;

	for (unsigned w = HWTS_MIN_WIDTH; w < 64; w++) {
		uint64_t range = UINT64_C(1) << w;

		if (range <= e->max_raw)
			continue;
		if ((span > range ? span - range : range - span) <= tol)
			return w;
	}
	return 0;
}

enum miss_kind { MISS_WITHIN, MISS_RATE, MISS_STEP };

static enum miss_kind
miss_classify(uint64_t miss, uint64_t bound, uint64_t dt)
{
	if (miss <= bound)
		return MISS_WITHIN;
	if (miss - bound <= sat64((u128)dt * HWTS_STEP_PPM / 1000000))
		return MISS_RATE;
	return MISS_STEP;
}

/* Signed miss of a pair at <s> whose counter advanced <delta> ticks since
 * the newest pair, against the current rate. */
static int64_t
est_miss(struct hwts_est *e, uint64_t delta, const struct hwts_sample *s)
{
	const struct hwts_sample *prev = est_newest(e);
	uint64_t predicted = prev->tsc + hwts_mul_q32(delta,
						      e->conv.tsc_per_tick);

	return (int64_t)(s->tsc - predicted);
}

static enum hwts_event
est_step(struct hwts_est *e, uint64_t raw, const struct hwts_sample *s)
{
	e->steps++;
	est_restart(e, raw, s);
	return HWTS_EV_STEPPED;
}

/* The next pair when the window has a rate: predict, compare, decide. */
static enum hwts_event
est_add_predicted(struct hwts_est *e, uint64_t raw,
		  const struct hwts_sample *s)
{
	const struct hwts_sample *prev = est_newest(e);
	uint64_t dt = s->tsc - prev->tsc;
	uint64_t expected = ticks_in(dt, e->conv.tsc_per_tick);
	uint64_t delta = unwrap_near((raw - e->last_raw) & e->mask, expected,
				     e->width);
	uint64_t bound = hwts_error_tsc(&e->conv, dt) + s->half;
	bool was_ready = e->conv.ready;
	enum miss_kind kind;
	unsigned w;

	e->last_miss_tsc = est_miss(e, delta, s);
	e->last_bound_tsc = bound;
	kind = miss_classify(abs64(e->last_miss_tsc), bound, dt);
	if (kind == MISS_STEP && !e->conf.width_known && e->width == 64 &&
	    raw < e->last_raw) {
		uint64_t tol = ticks_in(bound, e->conv.tsc_per_tick) +
			sat64((u128)expected * HWTS_STEP_PPM / 1000000) + 1;

		w = width_from_wrap(e, raw, expected, tol);
		if (w != 0) {
			e->width = w;
			e->mask = width_mask(w);
			delta = unwrap_near((raw - e->last_raw) & e->mask,
					    expected, w);
			e->last_miss_tsc = est_miss(e, delta, s);
			kind = miss_classify(abs64(e->last_miss_tsc), bound,
					     dt);
			if (kind == MISS_WITHIN) {
				e->confirmed = true;
				est_append(e, raw, delta, s);
				return HWTS_EV_WIDTH_LEARNED;
			}
			e->width = 64;
			e->mask = UINT64_MAX;
		}
	}
	switch (kind) {
	case MISS_WITHIN:
		e->confirmed = true;
		est_append(e, raw, delta, s);
		return was_ready || !e->conv.ready ? HWTS_EV_ADDED :
			HWTS_EV_READY;
	case MISS_RATE:
		e->rate_changes++;
		est_shrink_append(e, raw, delta, s);
		return HWTS_EV_RATE_CHANGED;
	default:
		return est_step(e, raw, s);
	}
}

int
hwts_est_init(struct hwts_est *e, const struct hwts_est_conf *conf)
{
	if (conf->width < HWTS_MIN_WIDTH || conf->width > 64)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	e->conf = *conf;
	e->width = conf->width;
	e->mask = width_mask(conf->width);
	e->conv.mask = e->mask;
	return 0;
}

enum hwts_event
hwts_est_add(struct hwts_est *e, const struct hwts_pair *p)
{
	struct hwts_sample s;
	uint64_t raw = p->dev;
	bool wider;

	s.dev = 0;
	s.tsc = p->tsc_before + (p->tsc_after - p->tsc_before) / 2;
	s.half = (p->tsc_after - p->tsc_before + 1) / 2;
	if (p->tsc_after < p->tsc_before ||
	    (e->n > 0 && s.tsc <= est_newest(e)->tsc)) {
		e->bad_pairs++;
		return HWTS_EV_BAD_PAIR;
	}
	e->pairs++;
	wider = !e->conf.width_known && (raw & ~e->mask) != 0;
	if (wider) {
		/* wider than the width learned at a wrap: not a wrap then */
		e->width = e->conf.width;
		e->mask = width_mask(e->width);
	}
	raw &= e->mask;
	if (raw > e->max_raw)
		e->max_raw = raw;
	if (e->n == 0) {
		est_restart(e, raw, &s);
		return HWTS_EV_FIRST;
	}
	if (wider)
		return est_step(e, raw, &s);
	if (e->have_rate)
		return est_add_predicted(e, raw, &s);
	/* No rate yet: the counter is taken to have wrapped at most once
	 * since the previous pair; one guessed 64 bits wide cannot have
	 * wrapped at all, so going back is a step. */
	if (!e->conf.width_known && e->width == 64 && raw < e->last_raw)
		return est_step(e, raw, &s);
	est_append(e, raw, (raw - e->last_raw) & e->mask, &s);
	return HWTS_EV_ADDED;
}
