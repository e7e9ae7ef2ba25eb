/* SPDX-License-Identifier: BSD-3-Clause */
/* linkem's impairment models: random streams, Gilbert-Elliott, token
 * bucket, and the per-packet decision that combines them. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "impair.h"

#define NS_PER_SEC 1000000000ULL

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
lk_rng_seed(struct lk_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

double
lk_rng_normal(struct lk_rng *r)
{
	/* Box-Muller; 1 - u keeps the logarithm finite. */
	double u1 = 1.0 - lk_rng_unit(r);
	double u2 = lk_rng_unit(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* ---- token bucket ---- */

int
lk_shaper_init(struct lk_shaper *sh, uint64_t rate_bps, uint64_t burst_bytes,
	       uint32_t limit_pkts, uint64_t limit_bytes, uint32_t overhead)
{
	memset(sh, 0, sizeof(*sh));
	sh->rate_bps = rate_bps;
	if (rate_bps == 0)
		return 0;
	if (burst_bytes == 0 || burst_bytes > (1ULL << 30))
		return -EINVAL;
	sh->cap = burst_bytes * 8 * NS_PER_SEC;
	sh->tokens = sh->cap;
	sh->limit_pkts = limit_pkts;
	sh->limit_bytes = limit_bytes;
	sh->overhead = overhead;
	/* The ring never holds more than the limit; with a byte limit only,
	 * at most one frame per 60 bytes fits. */
	if (limit_pkts > 0)
		sh->q_cap = limit_pkts;
	else if (limit_bytes > 0)
		sh->q_cap = (uint32_t)(limit_bytes / 60 + 1);
	else
		return -EINVAL;
	sh->q_depart = calloc(sh->q_cap, sizeof(*sh->q_depart));
	sh->q_len = calloc(sh->q_cap, sizeof(*sh->q_len));
	if (sh->q_depart == NULL || sh->q_len == NULL) {
		lk_shaper_free(sh);
		return -ENOMEM;
	}
	return 0;
}

void
lk_shaper_free(struct lk_shaper *sh)
{
	free(sh->q_depart);
	free(sh->q_len);
	sh->q_depart = NULL;
	sh->q_len = NULL;
}

int
lk_shaper_admit(struct lk_shaper *sh, uint64_t now_ns, uint32_t len,
		uint64_t *depart_ns)
{
	uint64_t bytes = (uint64_t)len + sh->overhead;
	uint64_t cost = bytes * 8 * NS_PER_SEC;
	uint64_t t0, tokens, dt, wait;

	if (sh->rate_bps == 0) {
		*depart_ns = now_ns;
		return 0;
	}
	/* Frames that have left the bucket by now leave the queue. */
	while (sh->q_count > 0 && sh->q_depart[sh->q_head] <= now_ns) {
		sh->q_bytes -= sh->q_len[sh->q_head];
		sh->q_head = (sh->q_head + 1) % sh->q_cap;
		sh->q_count--;
	}
	if (sh->q_count >= sh->q_cap ||
	    (sh->limit_pkts > 0 && sh->q_count >= sh->limit_pkts) ||
	    (sh->limit_bytes > 0 && sh->q_bytes + len > sh->limit_bytes))
		return -ENOBUFS;

	t0 = now_ns > sh->t_last ? now_ns : sh->t_last;
	dt = t0 - sh->t_last;
	/* Refill, without overflow: past the fill time the bucket is full. */
	if (dt >= (sh->cap - sh->tokens) / sh->rate_bps + 1)
		tokens = sh->cap;
	else
		tokens = sh->tokens + dt * sh->rate_bps;
	if (tokens > sh->cap)
		tokens = sh->cap;
	if (tokens >= cost) {
		wait = 0;
		tokens -= cost;
	} else {
		wait = (cost - tokens + sh->rate_bps - 1) / sh->rate_bps;
		tokens = tokens + wait * sh->rate_bps - cost;
	}
	sh->t_last = t0 + wait;
	sh->tokens = tokens;
	*depart_ns = sh->t_last;
	if (sh->t_last > now_ns) {
		uint32_t tail = (sh->q_head + sh->q_count) % sh->q_cap;

		sh->q_depart[tail] = sh->t_last;
		sh->q_len[tail] = len;
		sh->q_count++;
		sh->q_bytes += len;
	}
	return 0;
}

/* ---- Gilbert-Elliott ---- */

bool
lk_ge_step(struct lk_ge *g, const struct lk_spec *s, double u_move,
	   double u_loss)
{
	if (g->bad) {
		if (u_move < s->ge_r)
			g->bad = false;
	} else {
		if (u_move < s->ge_p)
			g->bad = true;
	}
	return u_loss < (g->bad ? s->ge_loss_bad : s->ge_loss_good);
}

/* ---- the decision ---- */

const char *
lk_fate_reason(enum lk_fate f)
{
	switch (f) {
	case LK_FATE_FWD:
		return "";
	case LK_FATE_DROP_LOSS:
		return "loss";
	case LK_FATE_DROP_GE:
		return "ge";
	case LK_FATE_DROP_QUEUE:
		return "queue";
	case LK_FATE_DROP_POOL:
		return "pool";
	}
	return "?";
}

int
lk_impair_init(struct lk_impair *im, const struct lk_spec *spec)
{
	int i, rc;

	memset(im, 0, sizeof(*im));
	im->spec = spec;
	for (i = 0; i < LK_STREAM_COUNT; i++)
		lk_rng_seed(&im->rng[i], spec->seed, (uint64_t)i + 1);
	rc = lk_shaper_init(&im->shaper, spec->rate_bps, spec->burst_bytes,
			    spec->limit_pkts, spec->limit_bytes,
			    spec->overhead);
	return rc;
}

void
lk_impair_free(struct lk_impair *im)
{
	lk_shaper_free(&im->shaper);
}

static int64_t
draw_jitter(struct lk_impair *im)
{
	const struct lk_spec *s = im->spec;
	struct lk_rng *r = &im->rng[LK_STREAM_JITTER];
	double w;
	int64_t v;

	switch (s->jitter) {
	case LK_JITTER_UNIFORM:
		w = (double)s->jitter_ns;
		return (int64_t)llround(-w + 2.0 * w * lk_rng_unit(r));
	case LK_JITTER_NORMAL:
		return (int64_t)llround((double)s->jitter_ns *
					lk_rng_normal(r));
	case LK_JITTER_REPLAY:
		if (s->replay_len == 0)
			return 0;
		v = s->replay_ns[im->replay_next];
		im->replay_next = (im->replay_next + 1) % s->replay_len;
		return v;
	case LK_JITTER_NONE:
		break;
	}
	return 0;
}

void
lk_impair_decide(struct lk_impair *im, uint64_t now_ns, uint32_t len,
		 struct lk_verdict *v)
{
	const struct lk_spec *s = im->spec;
	/* Every stream draws once per packet, whatever is switched on. */
	double u_loss = lk_rng_unit(&im->rng[LK_STREAM_LOSS]);
	double u_move = lk_rng_unit(&im->rng[LK_STREAM_GE_MOVE]);
	double u_ge = lk_rng_unit(&im->rng[LK_STREAM_GE_LOSS]);
	double u_dup = lk_rng_unit(&im->rng[LK_STREAM_DUP]);
	double u_hold = lk_rng_unit(&im->rng[LK_STREAM_HOLD]);
	int64_t jitter = draw_jitter(im);
	bool ge_lost = false;
	uint64_t shaped, depart;
	int64_t base;

	memset(v, 0, sizeof(*v));
	if (s->ge)
		ge_lost = lk_ge_step(&im->ge, s, u_move, u_ge);
	if (u_loss < s->loss) {
		v->fate = LK_FATE_DROP_LOSS;
		return;
	}
	if (ge_lost) {
		v->fate = LK_FATE_DROP_GE;
		return;
	}
	if (lk_shaper_admit(&im->shaper, now_ns, len, &shaped) < 0) {
		v->fate = LK_FATE_DROP_QUEUE;
		return;
	}
	v->fate = LK_FATE_FWD;
	v->queue_ns = shaped - now_ns;
	v->jitter_ns = jitter;
	base = (int64_t)s->delay_ns + jitter;
	if (base < 0)
		base = 0;
	depart = shaped + (uint64_t)base;
	if (u_hold < s->hold_share) {
		/* Held back on purpose: later packets overtake it. */
		v->held = true;
		v->hold_ns = s->hold_ns;
		depart += s->hold_ns;
	} else {
		if (s->fifo && depart < im->last_depart_ns)
			depart = im->last_depart_ns;
		im->last_depart_ns = depart;
	}
	v->depart_ns = depart;
	v->dup = u_dup < s->dup;
}
