/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TSC to wall clock. The control thread calibrates (TSC, CLOCK_REALTIME)
 * pairs once a second and publishes new parameters under a seqlock; each
 * data-plane lcore copies them when the generation changes, so a
 * conversion is one multiply and shift, no division, no system call.
 */
#ifndef PROBE_CLOCK_H
#define PROBE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_seqlock.h>

struct probe_clock {
	uint64_t base_tsc;
	uint64_t base_ns;
	uint64_t mult;      /* ns per TSC tick, 32.32 fixed point */
	uint64_t inv_mult;  /* TSC ticks per ns, 32.32 fixed point */
	uint64_t gen;
};

static inline uint64_t
clock_tsc_to_ns(const struct probe_clock *c, uint64_t tsc)
{
	if (tsc >= c->base_tsc)
		return c->base_ns + (uint64_t)(((unsigned __int128)
			(tsc - c->base_tsc) * c->mult) >> 32);
	return c->base_ns - (uint64_t)(((unsigned __int128)
		(c->base_tsc - tsc) * c->mult) >> 32);
}

static inline uint64_t
clock_ns_to_tsc(const struct probe_clock *c, uint64_t ns)
{
	if (ns >= c->base_ns)
		return c->base_tsc + (uint64_t)(((unsigned __int128)
			(ns - c->base_ns) * c->inv_mult) >> 32);
	return c->base_tsc - (uint64_t)(((unsigned __int128)
		(c->base_ns - ns) * c->inv_mult) >> 32);
}

/* Calibration state, owned by the control thread. */
struct clock_stats {
	uint64_t refreshes;
	int64_t last_correction_ns;   /* realtime minus prediction */
	uint64_t max_abs_correction_ns; /* after the first minute */
	double ppm_vs_nominal;        /* measured TSC rate vs rte_get_tsc_hz */
	uint64_t tsc_hz;
	bool synced;
	uint64_t error_ns;
};

int clock_init(void);
/* Control thread, about once a second. */
void clock_refresh(void);
/* Data plane: copies the published parameters when they changed. */
void clock_read(struct probe_clock *local);
const struct clock_stats *clock_get_stats(void);
/* Synchronisation status: adjtimex() for "auto", ptp4l's latest answer
 * (ptp_status.c) for "ptp4l". */
void clock_detect_sync(int mode, uint64_t conf_error_ns, bool *synced,
		       uint64_t *error_ns);

/* The published generation (cheap check per loop). */
extern uint64_t clock_published_gen;

#endif
