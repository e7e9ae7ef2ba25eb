/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TSC to wall clock. Before the first packet, clock_init measures the TSC
 * rate against CLOCK_REALTIME (DPDK's nominal rte_get_tsc_hz() can be
 * more than 1 000 ppm off: VMs, AMD hosts). Then the control thread
 * compares the conversion with CLOCK_REALTIME about once a second and
 * corrects it by slewing: the rate is adjusted so that the offset is
 * absorbed over the next second, the conversion stays continuous and
 * monotonic, and no timestamp ever jumps. A difference too large to be
 * drift (CLOCK_REALTIME was stepped: NTP or PTP stepping the clock, an
 * operator's `date`) is a step: the kernel tells at once (a timerfd
 * cancelled on every set), or the next refresh sees a difference larger
 * than drift. It is logged, counted, and followed at once,
 * and the data plane keeps samples in flight across it out of every
 * figure (sender.c). Parameters are published under a seqlock; each
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
	uint64_t steps;     /* CLOCK_REALTIME steps followed so far */
	uint64_t last_step_abs_ns;  /* size of the last one */
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

/* A span of <ticks> TSC ticks in ns at <hz> ticks a second (a bound or a
 * gap for a person or a record; the packet path converts instants with
 * clock_tsc_to_ns). */
static inline uint64_t
clock_span_ns(uint64_t ticks, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)ticks * 1000000000u / hz);
}

/* A difference from CLOCK_REALTIME larger than this is a step, not
 * drift: slewing at the largest rate (CLOCK_SLEW_MAX_PPM) would take
 * seconds to absorb it. */
#define CLOCK_STEP_NS        1000000
#define CLOCK_SLEW_MAX_PPM   500
/* When the kernel says the clock was set, a difference above this is a
 * step however small (below it: noise of the measurement, slewed). */
#define CLOCK_SET_MIN_NS     20000
/* A (TSC, realtime, TSC) bracket wider than this was interrupted: the
 * sample is not used (counted in bad_samples). */
#define CLOCK_BRACKET_MAX_NS 20000

/* Calibration state, owned by the control thread. */
struct clock_stats {
	uint64_t refreshes;
	int64_t last_correction_ns;   /* realtime minus prediction */
	uint64_t max_abs_correction_ns; /* after the first refreshes */
	double ppm_vs_nominal;        /* measured TSC rate vs nominal */
	uint64_t tsc_hz;              /* measured */
	uint64_t nominal_hz;          /* rte_get_tsc_hz(), or as forced */
	uint64_t calibration_ns;      /* span of the start-up measurement */
	double calibration_ppm_error; /* its uncertainty (bracket widths) */
	uint64_t steps;               /* CLOCK_REALTIME steps followed */
	int64_t last_step_ns;         /* size of the last one */
	uint64_t bad_samples;         /* brackets too wide, not used */
	bool synced;
	uint64_t error_ns;
};

/*
 * Measures the TSC against CLOCK_REALTIME over <calib_ns> (a few hundred
 * ms) and publishes the first conversion. <nominal_skew_ppm> shifts the
 * nominal rate the measurement is compared with (0 in production; tests
 * set it to make every host behave like one whose nominal rate is
 * wrong). Control thread, before any packet. Returns 0 or -EINVAL.
 */
int clock_init(double nominal_skew_ppm, uint64_t calib_ns);
/* Control thread, about once a second, and at once when clock_was_set():
 * slew, or follow a step (<was_set>: the kernel said the clock was set,
 * so a difference above CLOCK_SET_MIN_NS is a step). Returns 1 after a step, for the
 * caller to log; 0 otherwise. */
int clock_refresh(bool was_set);
/* Control thread, every step: whether CLOCK_REALTIME was set since the
 * last call (a timerfd the kernel cancels on every set). */
bool clock_was_set(void);
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
