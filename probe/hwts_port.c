/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control side of hardware receive timestamps: each port's device
 * clock read against the TSC, its estimator fed, its conversion published
 * (see hwts_port.h for the data-plane side, lib/hwts.c for the model).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_seqlock.h>
#include <rte_telemetry.h>

#include "hwts_port.h"
#include "log.h"

/* Stamps accepted this far from the newest pair: a worker's copy is up
 * to a second old (pairs come once a second; three allow a late control
 * step), and a frame can wait in the ring while a pair is taken. */
#define HWTS_AHEAD_S      3
#define HWTS_BEHIND_MS    100
/* Device clock reads per pair: the narrowest bracket is kept. */
#define HWTS_BRACKETS     7

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

struct hwts_port_pub {
	struct hwts_conv conv;
	uint64_t gen;
};

static struct hwts_port_state {
	rte_seqlock_t lock;
	struct hwts_port_pub pub;        /* under the lock */
	struct hwts_est est;             /* control thread */
	uint64_t read_errors;
	uint64_t rate_logged;            /* rate changes already logged */
	bool ready_logged;
} hwts_state[PROBE_MAX_PORTS];

uint64_t hwts_published_gen[PROBE_MAX_PORTS] __rte_cache_aligned;

/* The narrowest of a few (TSC, device clock, TSC) brackets. */
static int
hwts_pair_take(uint16_t port_id, struct hwts_pair *best)
{
	uint64_t best_gap = UINT64_MAX;

	for (int i = 0; i < HWTS_BRACKETS; i++) {
		uint64_t t0, t1, dev;
		int rc;

		t0 = rte_rdtsc_precise();
		rc = hwts_sim_read(port_id, &dev) ? 0 :
			rte_eth_read_clock(port_id, &dev);
		t1 = rte_rdtsc_precise();
		if (rc != 0)
			return rc;
		if (t1 - t0 < best_gap) {
			best_gap = t1 - t0;
			best->dev = dev;
			best->tsc_before = t0;
			best->tsc_after = t1;
		}
	}
	return 0;
}

static void
hwts_publish(const struct probe_queue *p)
{
	struct hwts_port_state *st = &hwts_state[p->idx];
	uint64_t gen = st->pub.gen + 1;

	rte_seqlock_write_lock(&st->lock);
	st->pub.conv = st->est.conv;
	st->pub.gen = gen;
	rte_seqlock_write_unlock(&st->lock);
	__atomic_store_n(&hwts_published_gen[p->idx], gen, __ATOMIC_RELEASE);
}

static struct hwts_conv
hwts_published(const struct probe_queue *p)
{
	const struct hwts_port_state *st = &hwts_state[p->idx];
	struct hwts_conv c;
	uint32_t sn;

	do {
		sn = rte_seqlock_read_begin(&st->lock);
		c = st->pub.conv;
	} while (rte_seqlock_read_retry(&st->lock, sn));
	return c;
}

void
hwts_port_read(struct probe_queue *q)
{
	const struct hwts_port_state *st = &hwts_state[q->idx];
	uint32_t sn;

	do {
		sn = rte_seqlock_read_begin(&st->lock);
		q->hw_conv = st->pub.conv;
		q->hw_gen = st->pub.gen;
	} while (rte_seqlock_read_retry(&st->lock, sn));
}

/* TSC ticks to ns at the calibrated TSC rate (control thread). */
static uint64_t
tsc_span_ns(uint64_t ticks)
{
	struct probe_clock clk;

	clock_read(&clk);
	return hwts_mul_q32(ticks, clk.mult) + 1;
}

/* The device clock's rate in Hz: TSC Hz over TSC ticks per device tick. */
static double
hwts_device_hz(const struct hwts_conv *c)
{
	struct probe_clock clk;

	clock_read(&clk);
	if (c->tsc_per_tick == 0 || clk.mult == 0)
		return 0;
	return 1e9 * 18446744073709551616.0 /
		((double)clk.mult * (double)c->tsc_per_tick);
}

static unsigned
hwts_width(const struct hwts_conv *c)
{
	return (unsigned)__builtin_popcountll(c->mask);
}

void
hwts_port_start(struct probe_app *app, struct probe_queue *p)
{
	struct hwts_port_state *st = &hwts_state[p->idx];
	const struct hwts_est_conf ec = {
		/* DPDK has no query for the width of a device's clock */
		.width = 64,
		.width_known = false,
		.max_ahead_tsc = HWTS_AHEAD_S * app->tsc_hz,
		.max_behind_tsc = app->tsc_hz / 1000 * HWTS_BEHIND_MS,
		.min_baseline_tsc = app->tsc_hz / 2,
	};
	struct hwts_pair pair;
	int rc;

	if (!p->hw_ts && !hwts_sim_attach(app, p))
		return;
	rte_seqlock_init(&st->lock);
	hwts_est_init(&st->est, &ec);
	rc = hwts_pair_take(p->port_id, &pair);
	if (rc != 0) {
		PROBE_WARN("port %s: the device stamps received frames but "
			   "its clock cannot be read (rte_eth_read_clock: %s):"
			   " software receive timestamps", p->conf->name,
			   rte_strerror(-rc));
		PORT_FOREACH_QUEUE(q, p)
			q->hw_ts = false;
		return;
	}
	hwts_est_add(&st->est, &pair);
	hwts_publish(p);
	PROBE_INFO("port %s: hardware receive timestamps: the device clock's "
		   "width is not reported by DPDK, taken as 64 bits (a "
		   "narrower counter is learned at its first wrap); its rate "
		   "is measured against the TSC, software timestamps until "
		   "it is (about 2 s)", p->conf->name);
}

static void
hwts_event_log(const struct probe_app *app, const struct probe_queue *p,
	       struct hwts_port_state *st, enum hwts_event ev)
{
	const struct hwts_est *e = &st->est;
	const char *name = p->conf->name;
	uint64_t miss = e->last_miss_tsc < 0 ? -(uint64_t)e->last_miss_tsc :
		(uint64_t)e->last_miss_tsc;

	switch (ev) {
	case HWTS_EV_RATE_CHANGED:
		/* a free-running oscillator drifts with temperature: the
		 * first change is news, the rest are counted (telemetry) */
		if (st->rate_logged++ == 0 || app->conf.verbose)
			PROBE_INFO("port %s: device clock rate moved (%" PRIu64
				   " ns from its prediction, %" PRIu64 " ns "
				   "allowed): rate measured again from the last"
				   " second", name, tsc_span_ns(miss),
				   tsc_span_ns(e->last_bound_tsc));
		break;
	case HWTS_EV_WIDTH_LEARNED:
		PROBE_INFO("port %s: device clock wrapped: it is %u bits wide",
			   name, e->width);
		break;
	case HWTS_EV_STEPPED:
		PROBE_WARN("port %s: device clock jumped (%" PRIu64 " ns from "
			   "its prediction): software receive timestamps until"
			   " its rate is measured again", name,
			   tsc_span_ns(miss));
		break;
	case HWTS_EV_BAD_PAIR:
		PROBE_WARN("port %s: device clock reading not after the "
			   "previous one: ignored", name);
		break;
	default:
		break;
	}
	if (e->conv.ready && !st->ready_logged)
		PROBE_INFO("port %s: device clock %.6f MHz (measured over %.1f"
			   " s against the TSC): receive timestamps from the "
			   "NIC, error <= %" PRIu64 " ns", name,
			   hwts_device_hz(&e->conv) / 1e6,
			   (double)tsc_span_ns(hwts_est_baseline_tsc(e)) / 1e9,
			   tsc_span_ns(e->conv.err_max_tsc));
	st->ready_logged = e->conv.ready;
}

void
hwts_port_refresh(struct probe_app *app)
{
	for (unsigned i = 0; i < app->n_ports; i++) {
		struct probe_queue *p = &app->ports[i];
		struct hwts_port_state *st = &hwts_state[p->idx];
		struct hwts_pair pair;

		if (!p->hw_ts)
			continue;
		if (hwts_pair_take(p->port_id, &pair) != 0) {
			st->read_errors++;
			continue;
		}
		hwts_event_log(app, p, st, hwts_est_add(&st->est, &pair));
		hwts_publish(p);
	}
}

bool
hwts_port_rx_error_ns(const struct probe_queue *p, uint64_t *err_ns)
{
	struct hwts_conv c;

	if (!p->hw_ts)
		return false;
	c = hwts_published(p);
	if (!c.ready)
		return false;
	*err_ns = tsc_span_ns(c.err_max_tsc);
	return true;
}

void
hwts_port_telemetry(struct rte_tel_data *d, struct probe_queue *p)
{
	const struct hwts_port_state *st = &hwts_state[p->idx];
	struct hwts_conv c;
	uint64_t err = 0;
	char name[64];

	if (!p->hw_ts)
		return;
	c = hwts_published(p);
	rte_tel_data_add_dict_u64(d, "hw_ts_ready",
				  hwts_port_rx_error_ns(p, &err));
	rte_tel_data_add_dict_u64(d, "hw_ts_error_ns", err);
	rte_tel_data_add_dict_u64(d, "hw_clock_bits", hwts_width(&c));
	rte_tel_data_add_dict_u64(d, "hw_clock_hz",
				  (uint64_t)(hwts_device_hz(&c) + 0.5));
	rte_tel_data_add_dict_u64(d, "hw_clock_pairs", LOAD(st->est.pairs));
	rte_tel_data_add_dict_u64(d, "hw_clock_steps", LOAD(st->est.steps));
	rte_tel_data_add_dict_u64(d, "hw_clock_rate_changes",
				  LOAD(st->est.rate_changes));
	rte_tel_data_add_dict_u64(d, "hw_clock_read_errors",
				  LOAD(st->read_errors));
	for (unsigned i = 0; i < HWTS_STATUS_N; i++) {
		snprintf(name, sizeof(name), "hw_ts_%s", hwts_status_names[i]);
		rte_tel_data_add_dict_u64(d, name, PORT_SUM(p, hw_ts_count[i]));
	}
	rte_tel_data_add_dict_u64(d, "hw_ts_missing",
				  PORT_SUM(p, hw_ts_missing));
}

void
hwts_port_log_summary(struct probe_queue *p)
{
	const struct hwts_est *e = &hwts_state[p->idx].est;

	if (!p->hw_ts)
		return;
	PROBE_INFO("port %s: hardware receive timestamps %" PRIu64 "; "
		   "software instead: %" PRIu64 " before the device clock's "
		   "rate was known, %" PRIu64 " too far from its newest "
		   "reading, %" PRIu64 " not stamped; device clock %u bits, "
		   "%" PRIu64 " readings, %" PRIu64 " jumps, %" PRIu64
		   " rate changes", p->conf->name,
		   PORT_SUM(p, hw_ts_count[HWTS_OK]),
		   PORT_SUM(p, hw_ts_count[HWTS_NOT_READY]),
		   PORT_SUM(p, hw_ts_count[HWTS_FAR]),
		   PORT_SUM(p, hw_ts_missing), e->width, e->pairs, e->steps,
		   e->rate_changes);
}
