/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TSC calibration against CLOCK_REALTIME. Each refresh takes the best of
 * a few (TSC, realtime, TSC) brackets, measures the TSC rate over a
 * sliding window of up to a minute of samples (a long baseline keeps the
 * rate error, hence the drift between refreshes, in the parts per
 * billion) and re-anchors the conversion at the newest sample.
 */
#include <errno.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_seqlock.h>

#include "metroprobe/mp_time.h"

#include "clock.h"
#include "conf.h"
#include "ptp_status.h"

#define CLOCK_WINDOW 64

struct clock_sample {
	uint64_t tsc;
	uint64_t ns;
};

static struct {
	rte_seqlock_t lock;
	struct probe_clock clk;
	struct clock_sample win[CLOCK_WINDOW];
	unsigned n, head;
	struct clock_stats stats;
} clock_state;

uint64_t clock_published_gen;

static struct clock_sample
clock_sample_take(void)
{
	struct clock_sample best = { 0, 0 };
	uint64_t best_gap = UINT64_MAX;

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
	return best;
}

static void
clock_publish(const struct probe_clock *c)
{
	rte_seqlock_write_lock(&clock_state.lock);
	clock_state.clk = *c;
	clock_state.clk.gen = c->gen;
	rte_seqlock_write_unlock(&clock_state.lock);
	__atomic_store_n(&clock_published_gen, c->gen, __ATOMIC_RELEASE);
}

int
clock_init(void)
{
	struct clock_sample s;
	struct probe_clock c;
	uint64_t hz = rte_get_tsc_hz();

	if (hz == 0)
		return -EINVAL;
	rte_seqlock_init(&clock_state.lock);
	s = clock_sample_take();
	memset(&c, 0, sizeof(c));
	c.base_tsc = s.tsc;
	c.base_ns = s.ns;
	c.mult = (uint64_t)(((unsigned __int128)MP_NS_PER_SEC << 32) / hz);
	c.inv_mult = (uint64_t)(((unsigned __int128)hz << 32) / MP_NS_PER_SEC);
	c.gen = 1;
	clock_state.win[0] = s;
	clock_state.n = 1;
	clock_state.head = 1;
	clock_state.stats.tsc_hz = hz;
	clock_publish(&c);
	return 0;
}

void
clock_refresh(void)
{
	struct clock_sample s = clock_sample_take(), old;
	struct probe_clock c = clock_state.clk;
	uint64_t predicted = clock_tsc_to_ns(&c, s.tsc);
	int64_t corr = (int64_t)(s.ns - predicted);
	unsigned oldest;

	oldest = clock_state.n < CLOCK_WINDOW ? 0 : clock_state.head;
	old = clock_state.win[oldest % CLOCK_WINDOW];
	clock_state.win[clock_state.head % CLOCK_WINDOW] = s;
	clock_state.head = (clock_state.head + 1) % CLOCK_WINDOW;
	if (clock_state.n < CLOCK_WINDOW)
		clock_state.n++;

	clock_state.stats.refreshes++;
	clock_state.stats.last_correction_ns = corr;
	if (clock_state.stats.refreshes > 3) {
		uint64_t a = corr < 0 ? (uint64_t)-corr : (uint64_t)corr;

		if (a > clock_state.stats.max_abs_correction_ns)
			clock_state.stats.max_abs_correction_ns = a;
	}
	/* Rate from the oldest sample in the window (>= 1 s baseline). */
	if (s.tsc > old.tsc && s.ns > old.ns &&
	    s.tsc - old.tsc > clock_state.stats.tsc_hz / 2) {
		uint64_t dt = s.tsc - old.tsc, dn = s.ns - old.ns;

		c.mult = (uint64_t)(((unsigned __int128)dn << 32) / dt);
		c.inv_mult = (uint64_t)(((unsigned __int128)dt << 32) / dn);
		clock_state.stats.ppm_vs_nominal =
			((double)dt / (double)dn * 1e9 /
			 (double)clock_state.stats.tsc_hz - 1.0) * 1e6;
	}
	c.base_tsc = s.tsc;
	c.base_ns = s.ns;
	c.gen++;
	clock_publish(&c);
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
