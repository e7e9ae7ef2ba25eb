/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TSC calibration against CLOCK_REALTIME. Each sample is the best of a
 * few (TSC, realtime, TSC) brackets; the rate comes from the oldest and
 * newest samples of a sliding window of up to a minute (a long baseline
 * keeps the rate error in the parts per billion), and the offset the
 * conversion has gathered since the last refresh is slewed away over the
 * next second (clock.h).
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_seqlock.h>

#include "metroprobe/mp_time.h"

#include "clock.h"
#include "conf.h"
#include "ptp_status.h"

#define CLOCK_WINDOW 64
#define CLOCK_SLEW_PERIOD_NS MP_NS_PER_SEC   /* one refresh */

struct clock_sample {
	uint64_t tsc;
	uint64_t ns;
	uint64_t gap_ns;   /* bracket width: the sample's uncertainty */
};

static struct {
	rte_seqlock_t lock;
	struct probe_clock clk;
	uint64_t rate_mult;    /* measured rate, 32.32, without the slew */
	struct clock_sample win[CLOCK_WINDOW];
	unsigned n, head;
	int set_fd;            /* timerfd: the kernel says when realtime is
				* set (-1: not available) */
	struct clock_stats stats;
} clock_state = { .set_fd = -1 };

uint64_t clock_published_gen;

static struct clock_sample
clock_sample_take(void)
{
	struct clock_sample best = { 0, 0, UINT64_MAX };
	uint64_t best_gap = UINT64_MAX, hz = rte_get_tsc_hz();

	for (int i = 0; i < 7; i++) {
		struct timespec ts;
		uint64_t t0, t1;

		t0 = rte_rdtsc_precise();
		clock_gettime(CLOCK_REALTIME, &ts);
		t1 = rte_rdtsc_precise();
		if (t1 - t0 < best_gap) {
			best_gap = t1 - t0;
			best.tsc = t0 + (t1 - t0) / 2;
			best.ns = (uint64_t)ts.tv_sec * MP_NS_PER_SEC +
				(uint64_t)ts.tv_nsec;
		}
	}
	best.gap_ns = clock_span_ns(best_gap, hz);
	return best;
}

/* A sample whose bracket was not interrupted, if one comes within a few
 * tries (a loaded host preempts some); else the best one seen. */
static struct clock_sample
clock_sample_good(void)
{
	struct clock_sample best = clock_sample_take();

	for (int i = 0; i < 50 && best.gap_ns > CLOCK_BRACKET_MAX_NS; i++) {
		struct clock_sample s = clock_sample_take();

		if (s.gap_ns < best.gap_ns)
			best = s;
	}
	return best;
}

static void
clock_publish(const struct probe_clock *c)
{
	rte_seqlock_write_lock(&clock_state.lock);
	clock_state.clk = *c;
	rte_seqlock_write_unlock(&clock_state.lock);
	__atomic_store_n(&clock_published_gen, c->gen, __ATOMIC_RELEASE);
}

static void
clock_set_rate(uint64_t dt, uint64_t dn)
{
	struct clock_stats *st = &clock_state.stats;

	clock_state.rate_mult = (uint64_t)(((unsigned __int128)dn << 32) / dt);
	st->tsc_hz = (uint64_t)((unsigned __int128)dt * MP_NS_PER_SEC / dn);
	st->ppm_vs_nominal = ((double)dt / (double)dn * 1e9 /
			      (double)st->nominal_hz - 1.0) * 1e6;
}

static void
clock_window_reset(struct clock_sample s)
{
	clock_state.win[0] = s;
	clock_state.n = 1;
	clock_state.head = 1;
}

static int
clock_calibrate(uint64_t calib_ns, struct clock_sample *end)
{
	struct timespec nap = {
		.tv_sec = (time_t)(calib_ns / MP_NS_PER_SEC),
		.tv_nsec = (long)(calib_ns % MP_NS_PER_SEC),
	};
	struct clock_sample s0, s1;
	uint64_t dt, dn;

	s0 = clock_sample_good();
	clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL);
	s1 = clock_sample_good();
	if (s1.tsc <= s0.tsc || s1.ns <= s0.ns)
		return -EAGAIN;          /* realtime stepped back meanwhile */
	dt = s1.tsc - s0.tsc;
	dn = s1.ns - s0.ns;
	/* a step during the measurement shows as an absurd rate */
	if (fabs((double)dt / (double)dn * 1e9 /
		 (double)clock_state.stats.nominal_hz - 1.0) > 0.1)
		return -EAGAIN;
	clock_set_rate(dt, dn);
	clock_state.stats.calibration_ns = dn;
	clock_state.stats.calibration_ppm_error =
		(double)(s0.gap_ns + s1.gap_ns) / (double)dn * 1e6;
	clock_window_reset(s0);
	clock_state.win[1] = s1;
	clock_state.n = 2;
	clock_state.head = 2;
	*end = s1;
	return 0;
}

/* A timer on CLOCK_REALTIME, far in the future, that the kernel cancels
 * whenever the clock is set (TFD_TIMER_CANCEL_ON_SET): a step is known
 * within a control step instead of at the next refresh. */
static int
clock_set_watch_arm(void)
{
	struct itimerspec its = { .it_value = { .tv_sec = INT32_MAX } };

	return timerfd_settime(clock_state.set_fd, TFD_TIMER_ABSTIME |
			       TFD_TIMER_CANCEL_ON_SET, &its, NULL);
}

static void
clock_set_watch_open(void)
{
	clock_state.set_fd = timerfd_create(CLOCK_REALTIME,
					    TFD_NONBLOCK | TFD_CLOEXEC);
	if (clock_state.set_fd >= 0 && clock_set_watch_arm() < 0) {
		close(clock_state.set_fd);
		clock_state.set_fd = -1;
	}
}

bool
clock_was_set(void)
{
	uint64_t n;

	if (clock_state.set_fd < 0 ||
	    read(clock_state.set_fd, &n, sizeof(n)) >= 0 || errno != ECANCELED)
		return false;
	clock_set_watch_arm();
	return true;
}

int
clock_init(double nominal_skew_ppm, uint64_t calib_ns)
{
	struct clock_sample s;
	struct probe_clock c;
	uint64_t hz = rte_get_tsc_hz();
	int rc = -EAGAIN;

	if (hz == 0 || calib_ns == 0)
		return -EINVAL;
	rte_seqlock_init(&clock_state.lock);
	memset(&clock_state.stats, 0, sizeof(clock_state.stats));
	clock_state.stats.nominal_hz = (uint64_t)llround((double)hz *
		(1.0 + nominal_skew_ppm / 1e6));
	for (int tries = 0; tries < 3 && rc == -EAGAIN; tries++)
		rc = clock_calibrate(calib_ns, &s);
	if (rc < 0)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	c.base_tsc = s.tsc;
	c.base_ns = s.ns;
	c.mult = clock_state.rate_mult;
	c.inv_mult = (uint64_t)(((unsigned __int128)1 << 64) / c.mult);
	c.gen = 1;
	clock_publish(&c);
	if (clock_state.set_fd < 0)
		clock_set_watch_open();
	return 0;
}

/* CLOCK_REALTIME moved by more than drift can explain: follow it at once
 * (records are stamped in wall-clock time) and start the rate window
 * again, since samples across the step say nothing about the rate. */
static void
clock_follow_step(struct probe_clock *c, struct clock_sample s, int64_t corr)
{
	uint64_t a = corr < 0 ? (uint64_t)-corr : (uint64_t)corr;

	clock_state.stats.steps++;
	clock_state.stats.last_step_ns = corr;
	c->last_step_abs_ns = a;
	clock_window_reset(s);
	c->base_tsc = s.tsc;
	c->base_ns = s.ns;
	c->mult = clock_state.rate_mult;
	c->inv_mult = (uint64_t)(((unsigned __int128)1 << 64) / c->mult);
	c->steps++;
}

/* Drift: re-measure the rate over the window, and set the published
 * rate so that the offset <corr> is gone by the next refresh; the
 * conversion goes on from where it is (base_ns = its own prediction). */
static void
clock_slew(struct probe_clock *c, struct clock_sample s, uint64_t predicted,
	   int64_t corr)
{
	unsigned oldest = clock_state.n < CLOCK_WINDOW ? 0 : clock_state.head;
	struct clock_sample old = clock_state.win[oldest % CLOCK_WINDOW];
	int64_t lim = CLOCK_SLEW_PERIOD_NS / 1000000 * CLOCK_SLEW_MAX_PPM;
	int64_t slew = corr > lim ? lim : corr < -lim ? -lim : corr;

	clock_state.win[clock_state.head % CLOCK_WINDOW] = s;
	clock_state.head = (clock_state.head + 1) % CLOCK_WINDOW;
	if (clock_state.n < CLOCK_WINDOW)
		clock_state.n++;
	if (s.tsc > old.tsc && s.ns > old.ns &&
	    s.tsc - old.tsc > clock_state.stats.tsc_hz / 2)
		clock_set_rate(s.tsc - old.tsc, s.ns - old.ns);
	c->mult = (uint64_t)((int64_t)clock_state.rate_mult +
		(int64_t)((__int128)clock_state.rate_mult * slew /
			  CLOCK_SLEW_PERIOD_NS));
	c->inv_mult = (uint64_t)(((unsigned __int128)1 << 64) / c->mult);
	c->base_tsc = s.tsc;
	c->base_ns = predicted;
}

int
clock_refresh(bool was_set)
{
	struct clock_sample s = clock_sample_take();
	struct probe_clock c = clock_state.clk;
	struct clock_stats *st = &clock_state.stats;
	uint64_t predicted, a;
	int64_t corr;
	bool step;

	/* a step is followed with the best sample there is */
	if (was_set)
		s = clock_sample_good();
	if (s.gap_ns > CLOCK_BRACKET_MAX_NS) {
		st->bad_samples++;
		return 0;
	}
	predicted = clock_tsc_to_ns(&c, s.tsc);
	corr = (int64_t)(s.ns - predicted);
	a = corr < 0 ? (uint64_t)-corr : (uint64_t)corr;
	/* the kernel may say so twice for one set (once more from deferred
	 * work): a set that moved nothing measurable is not a step */
	step = a > CLOCK_STEP_NS || (was_set && a > CLOCK_SET_MIN_NS);
	st->refreshes++;
	st->last_correction_ns = corr;
	if (st->refreshes > 3 && !step && a > st->max_abs_correction_ns)
		st->max_abs_correction_ns = a;
	if (step)
		clock_follow_step(&c, s, corr);
	else
		clock_slew(&c, s, predicted, corr);
	c.gen++;
	clock_publish(&c);
	return step ? 1 : 0;
}

void
clock_read(struct probe_clock *local)
{
	uint32_t sn;

	do {
		sn = rte_seqlock_read_begin(&clock_state.lock);
		*local = clock_state.clk;
	} while (rte_seqlock_read_retry(&clock_state.lock, sn));
}

const struct clock_stats *
clock_get_stats(void)
{
	return &clock_state.stats;
}

void
clock_detect_sync(int mode, uint64_t conf_error_ns, bool *synced,
		  uint64_t *error_ns)
{
	struct timex tx;
	int state;

	memset(&tx, 0, sizeof(tx));
	state = adjtimex(&tx);
	switch (mode) {
	case CLOCK_SYNC_YES:
		*synced = true;
		*error_ns = conf_error_ns;
		break;
	case CLOCK_SYNC_PTP4L:
		ptp_watch_get(synced, error_ns);
		break;
	case CLOCK_SYNC_NO:
		*synced = false;
		/* the kernel's maximum error, or a second when unknown */
		*error_ns = state >= 0 && tx.maxerror > 0 ?
			(uint64_t)tx.maxerror * 1000 : MP_NS_PER_SEC;
		break;
	default:
		*synced = state >= 0 && state != TIME_ERROR &&
			!(tx.status & STA_UNSYNC);
		*error_ns = state >= 0 && tx.maxerror > 0 ?
			(uint64_t)tx.maxerror * 1000 : MP_NS_PER_SEC;
		if (*synced && state >= 0 && tx.esterror > 0)
			*error_ns = (uint64_t)tx.esterror * 1000;
		break;
	}
	clock_state.stats.synced = *synced;
	clock_state.stats.error_ns = *error_ns;
}
