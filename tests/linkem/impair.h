/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linkem's impairment models, pure (no DPDK, no I/O but the replay file):
 * what one direction of the emulated link does to each packet.
 *
 * Time here is nanoseconds on a monotonic clock chosen by the caller
 * (linkem derives it from the TSC). Every random decision has its own
 * seeded stream and draws exactly once per impaired packet, so the
 * decisions are a pure function of (seed, packet index): the same seed
 * gives the same log whatever the timing, except for drops by the rate
 * limiter's queue, which depend on arrival times by nature.
 */
#ifndef LINKEM_IMPAIR_H
#define LINKEM_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- random numbers: xoshiro256** seeded through splitmix64 ---- */

struct lk_rng {
	uint64_t s[4];
};

/* Seeds one stream; different `stream` values give independent streams. */
void lk_rng_seed(struct lk_rng *r, uint64_t seed, uint64_t stream);

static inline uint64_t
lk_rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
lk_rng_next(struct lk_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = lk_rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = lk_rng_rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double
lk_rng_unit(struct lk_rng *r)
{
	return (double)(lk_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal by Box-Muller; always consumes two draws. */
double lk_rng_normal(struct lk_rng *r);

/* ---- what the user asks for one direction ---- */

enum lk_jitter_kind {
	LK_JITTER_NONE = 0,
	LK_JITTER_UNIFORM,   /* delay + U[-w, +w] */
	LK_JITTER_NORMAL,    /* delay + N(0, sigma) */
	LK_JITTER_REPLAY,    /* delay + next value of a list, cycled */
};

struct lk_spec {
	uint64_t delay_ns;
	enum lk_jitter_kind jitter;
	uint64_t jitter_ns;         /* uniform half-width or normal sigma */
	char replay_path[256];
	int64_t *replay_ns;         /* owned; jitter values from the file */
	size_t replay_len;
	bool fifo;                  /* jitter never reorders (default) */
	double loss;                /* Bernoulli loss probability */
	bool ge;                    /* Gilbert-Elliott model on */
	double ge_p;                /* P(good -> bad) per packet */
	double ge_r;                /* P(bad -> good) per packet */
	double ge_loss_good;        /* loss probability in the good state */
	double ge_loss_bad;         /* loss probability in the bad state */
	double dup;                 /* duplication probability */
	double hold_share;          /* share of packets held back ... */
	uint64_t hold_ns;           /* ... by this extra delay */
	uint64_t rate_bps;          /* token bucket rate, 0 = no limit */
	uint64_t burst_bytes;       /* bucket size */
	uint32_t limit_pkts;        /* queue limit in packets (0 = none) */
	uint64_t limit_bytes;       /* queue limit in bytes (0 = none) */
	uint32_t overhead;          /* bytes added per frame for the rate */
	uint64_t seed;
};

#define LK_DEFAULT_SEED        1
#define LK_DEFAULT_BURST       1514
#define LK_DEFAULT_LIMIT_PKTS  1000

/* Defaults: no impairment, fifo order, seed 1. */
void lk_spec_init(struct lk_spec *s);
/*
 * Parses "delay=2ms,jitter=uniform:100us,loss=0.01,seed=1" (keys in
 * linkem --help). Returns 0, or -EINVAL / -errno with a message naming
 * the key and the value in err. Loads a replay file if one is named.
 */
int lk_spec_parse(const char *text, struct lk_spec *s, char *err,
		  size_t errlen);
void lk_spec_free(struct lk_spec *s);
/* The spec in the same syntax, every key stated (for the startup log). */
int lk_spec_format(const struct lk_spec *s, char *buf, size_t len);
/* Largest delay a packet can get, queueing in the rate limiter aside. */
uint64_t lk_spec_max_delay_ns(const struct lk_spec *s);

/* "2ms", "100us", "1.5s", "250ns": 0 or -EINVAL (a unit is required). */
int lk_parse_duration(const char *s, uint64_t *ns);
/* "-20us" too, for replay files; a bare integer there means ns. */
int lk_parse_signed_duration(const char *s, bool bare_ns, int64_t *ns);
/* Reads one delay per line ('#' comments); 0 or -errno / -EINVAL. */
int lk_replay_load(const char *path, int64_t **out, size_t *len,
		   char *err, size_t errlen);

/* ---- the models ---- */

/*
 * Token bucket in front of a FIFO queue with a tail-drop limit. A frame
 * leaves the bucket at the earliest time >= its arrival, and >= the
 * previous frame's departure, at which the bucket holds its size in
 * tokens; the queue holds the frames admitted but not yet departed.
 * Integer arithmetic: tokens are bits scaled by 1e9 so that a rate in
 * bit/s refills exactly `rate` units per nanosecond.
 */
struct lk_shaper {
	uint64_t rate_bps;
	uint64_t cap;               /* bucket size, scaled bits */
	uint64_t tokens;            /* at t_last */
	uint64_t t_last;
	uint32_t limit_pkts;
	uint64_t limit_bytes;
	uint32_t overhead;
	/* the queue: departure times and sizes of admitted frames */
	uint64_t *q_depart;
	uint32_t *q_len;
	uint32_t q_cap, q_head, q_count;
	uint64_t q_bytes;
};

int lk_shaper_init(struct lk_shaper *sh, uint64_t rate_bps,
		   uint64_t burst_bytes, uint32_t limit_pkts,
		   uint64_t limit_bytes, uint32_t overhead);
void lk_shaper_free(struct lk_shaper *sh);
/* 0 and the departure time, or -ENOBUFS when the queue is full. */
int lk_shaper_admit(struct lk_shaper *sh, uint64_t now_ns, uint32_t len,
		    uint64_t *depart_ns);

/* Gilbert-Elliott two-state loss model. */
struct lk_ge {
	bool bad;
};
/* Moves the chain one packet (u_move) then decides loss (u_loss). */
bool lk_ge_step(struct lk_ge *g, const struct lk_spec *s, double u_move,
		double u_loss);

enum lk_fate {
	LK_FATE_FWD = 0,
	LK_FATE_DROP_LOSS,          /* Bernoulli */
	LK_FATE_DROP_GE,            /* Gilbert-Elliott */
	LK_FATE_DROP_QUEUE,         /* rate limiter queue full */
	LK_FATE_DROP_POOL,          /* no buffer left to hold it */
};
const char *lk_fate_reason(enum lk_fate f);

struct lk_verdict {
	enum lk_fate fate;
	uint64_t depart_ns;         /* when forwarded */
	uint64_t queue_ns;          /* time waiting in the rate limiter */
	int64_t jitter_ns;          /* the drawn jitter */
	uint64_t hold_ns;           /* extra delay when held back */
	bool held;
	bool dup;                   /* send a second copy */
};

/* The random streams, one per decision. */
enum lk_stream {
	LK_STREAM_LOSS = 0,
	LK_STREAM_GE_MOVE,
	LK_STREAM_GE_LOSS,
	LK_STREAM_DUP,
	LK_STREAM_HOLD,
	LK_STREAM_JITTER,
	LK_STREAM_COUNT,
};

struct lk_impair {
	const struct lk_spec *spec;
	struct lk_rng rng[LK_STREAM_COUNT];
	struct lk_ge ge;
	struct lk_shaper shaper;
	size_t replay_next;
	uint64_t last_depart_ns;    /* of the last packet not held back */
};

int lk_impair_init(struct lk_impair *im, const struct lk_spec *spec);
void lk_impair_free(struct lk_impair *im);
/* Decides the fate of one packet of `len` bytes arriving at now_ns. */
void lk_impair_decide(struct lk_impair *im, uint64_t now_ns, uint32_t len,
		      struct lk_verdict *v);

#endif
