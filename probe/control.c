/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control side of a running probe, in a thread of its own or on the
 * main lcore: the TSC clock and the synchronisation state, stop requests
 * (signals, --run-time), interval records, capture. The data plane only
 * reads what it publishes (clock parameters, the S bit, stop requests).
 */
#include <inttypes.h>
#include <signal.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "metroprobe/mp_time.h"
#include "metroprobe/stamp.h"

#include "control.h"
#include "hwts_port.h"
#include "interval.h"
#include "log.h"
#include "ptp_status.h"

/* The control step's own state. */
static struct {
	uint64_t next_clock;           /* TSC of the next clock refresh */
} control;

static volatile sig_atomic_t control_signal;

void
control_on_signal(int sig)
{
	control_signal = sig;
}

static void
control_stop_sessions(struct probe_app *app, const char *why)
{
	app->stopping = 1;
	PROBE_INFO("stopping (%s): sending stops, records follow after the "
		   "loss timeout", why);
	for (unsigned i = 0; i < app->n_sessions; i++)
		__atomic_store_n(&app->sessions[i].stop_req, 1,
				 __ATOMIC_RELEASE);
}

/* SIGINT/SIGTERM, or --run-time reached: every session stops sending. */
static void
control_check_stop(struct probe_app *app)
{
	if (app->stopping)
		return;
	if (control_signal != 0)
		control_stop_sessions(app, control_signal == SIGINT ?
				      "SIGINT" : "SIGTERM");
	else if (app->conf.run_time_ns != 0 &&
		 mp_time_now_ns() - app->start_ns >= app->conf.run_time_ns)
		control_stop_sessions(app, "--run-time reached");
}

/* Before any port or session: every TSC reading is converted with the
 * rate measured here, never with DPDK's nominal one. */
void
control_clock_start(struct probe_app *app)
{
	const struct clock_stats *st;

	if (clock_init(app->conf.tsc_nominal_ppm,
		       app->conf.clock_calibration_ns) < 0)
		rte_exit(EXIT_FAILURE, "cannot calibrate the TSC against "
			 "CLOCK_REALTIME (was the clock stepped during the "
			 "calibration?)\n");
	st = clock_get_stats();
	app->tsc_hz = st->tsc_hz;
	app->start_ns = mp_time_now_ns();
	if (app->conf.clock_sync == CLOCK_SYNC_PTP4L)
		ptp_watch_start(app->conf.ptp4l_socket, app->conf.ptp4l_domain,
				app->conf.clock_error_ns, app->conf.verbose);
	clock_detect_sync(app->conf.clock_sync, app->conf.clock_error_ns,
			  &app->sync.synced, &app->sync.error_ns);
	PROBE_INFO("clock: TSC measured at %" PRIu64 " Hz against "
		   "CLOCK_REALTIME over %" PRIu64 " ms (+-%.2f ppm); nominal "
		   "%" PRIu64 " Hz%s: measured %+.1f ppm from it", st->tsc_hz,
		   st->calibration_ns / 1000000, st->calibration_ppm_error,
		   st->nominal_hz, app->conf.tsc_nominal_ppm != 0 ?
		   " (forced by tsc_nominal_ppm)" : "", st->ppm_vs_nominal);
	PROBE_INFO("clock: %s, error estimate %" PRIu64 " ns",
		   app->sync.synced ? "synchronised (S bit set)" :
		   "not synchronised", app->sync.error_ns);
}

/* Once a second: slew the TSC conversion; a step is followed and said. */
static void
clock_tick(struct probe_app *app, bool was_set)
{
	const struct clock_stats *st;

	if (clock_refresh(was_set) == 0)
		return;
	st = clock_get_stats();
	PROBE_WARN("clock: CLOCK_REALTIME stepped by %+.3f ms (step %" PRIu64
		   "): followed; samples in flight across it are left out of "
		   "the figures and the interval is flagged",
		   (double)st->last_step_ns / 1e6, st->steps);
	(void)app;
}

/* The S bit and error estimate as they are now (ptp4l's latest answer)
 * for every test packet sent from here on. */
static void
clock_sync_publish(struct probe_app *app)
{
	struct stamp_error_estimate ee;
	uint64_t error_ns;
	bool synced;

	clock_detect_sync(app->conf.clock_sync, app->conf.clock_error_ns,
			  &synced, &error_ns);
	__atomic_store_n(&app->sync.synced, synced, __ATOMIC_RELAXED);
	__atomic_store_n(&app->sync.error_ns, error_ns, __ATOMIC_RELAXED);
	/* after both: a reflector that sees the new generation reads them */
	__atomic_fetch_add(&app->sync.gen, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < app->n_sessions; i++) {
		struct probe_session *s = &app->sessions[i];

		stamp_errest_from_ns(error_ns, synced, s->conf->ptp_format,
				     &ee);
		__atomic_store_n(&s->errest, stamp_errest_pack(&ee),
				 __ATOMIC_RELAXED);
	}
	/* each reflecting queue takes them up in its own estimate, with
	 * its timestamps' error, within a housekeeping step (about a
	 * millisecond: reflector_errest_tick, on the new generation) */
}

/*
 * One control step: the clock (once a second, at once after a set), the
 * synchronisation state, the stop conditions, records whose loss timeout
 * has passed, the capture rings. Never blocks on the network (the
 * export's spool is local; its uploader has a thread of its own).
 */
void
control_poll(struct probe_app *app, uint64_t now)
{
	uint64_t t0 = rte_rdtsc(), spent;

	if (clock_was_set()) {
		clock_tick(app, true);
		control.next_clock = now + app->tsc_hz;
	}
	if (now >= control.next_clock) {
		if (control.next_clock != 0) {
			clock_tick(app, false);
			hwts_port_refresh(app);
			/* adjtimex() may say otherwise now */
			if (app->conf.clock_sync == CLOCK_SYNC_AUTO)
				clock_sync_publish(app);
		}
		control.next_clock = now + app->tsc_hz;
	}
	if (app->conf.clock_sync == CLOCK_SYNC_PTP4L && ptp_watch_step())
		clock_sync_publish(app);
	control_check_stop(app);
	interval_host_stats_tick(app, mp_time_now_ns());
	interval_emit_ready(app);
	capture_drain(app->capture_rings, app->n_capture);
	interval_log_summaries(app);
	if (app->stopping && interval_all_done(app))
		__atomic_store_n(&app->quit, 1, __ATOMIC_RELEASE);
	/* the longest control step (telemetry /metroprobe/clock) */
	spent = rte_rdtsc() - t0;
	if (spent > app->control_max_tsc)
		app->control_max_tsc = spent;
}

void
control_run(struct probe_app *app)
{
	while (!__atomic_load_n(&app->quit, __ATOMIC_ACQUIRE)) {
		control_poll(app, rte_rdtsc());
		usleep(1000);
	}
}

void *
control_thread(void *arg)
{
	control_run(arg);
	return NULL;
}
