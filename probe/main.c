/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metroprobe: a STAMP (RFC 8762) sender and reflector on DPDK ports.
 *
 * Init parses and validates everything before rte_eal_init(), brings the
 * ports up, places data-plane lcores, then the main lcore runs the
 * control loop: clock calibration, interval records, capture, stop.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pdump.h>

#include "metroprobe/mp_time.h"

#include "export.h"
#include "hwts_port.h"
#include "options.h"
#include "probe.h"
#include "ptp_status.h"

struct probe_app probe_app = {
	.exp_lock = PTHREAD_MUTEX_INITIALIZER,
};

static volatile sig_atomic_t probe_signal;

static void
on_signal(int sig)
{
	probe_signal = sig;
}

static void
probe_stop_sessions(struct probe_app *app, const char *why)
{
	app->stopping = 1;
	PROBE_INFO("stopping (%s): sending stops, records follow after the "
		   "loss timeout", why);
	for (unsigned i = 0; i < app->n_sessions; i++)
		__atomic_store_n(&app->sessions[i].stop_req, 1,
				 __ATOMIC_RELEASE);
}

static void
export_log(enum export_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level <= EXPORT_LOG_ERR)
		PROBE_ERR("export: %s", msg);
	else if (level == EXPORT_LOG_WARNING)
		PROBE_WARN("export: %s", msg);
	else if (level <= EXPORT_LOG_INFO || probe_app.conf.verbose)
		PROBE_INFO("export: %s", msg);
}

/* Spool and uploader thread, before EAL: a bad spool or token file is
 * reported before any port is touched. */
static int
export_start(struct probe_app *app)
{
	struct export_config ec;
	char err[EXPORT_ERROR_MAX + 64];
	int rc;

	if (app->conf.collector[0] == '\0')
		return 0;
	memset(&ec, 0, sizeof(ec));
	ec.collector_url = app->conf.collector;
	ec.token_file = app->conf.token_file;
	ec.spool_dir = app->conf.spool_dir;
	ec.spool_max_bytes = app->conf.spool_max_bytes;
	ec.log = export_log;
	rc = export_open(&ec, &app->exp, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "metroprobe: error: export: %s\n", err);
		return rc;
	}
	return 0;
}

static void
export_stop(struct probe_app *app)
{
	struct exporter *exp = app->exp;
	struct export_stats st;
	int rc;

	if (exp == NULL)
		return;
	/* telemetry reads app->exp under the lock */
	pthread_mutex_lock(&app->exp_lock);
	app->exp = NULL;
	pthread_mutex_unlock(&app->exp_lock);
	rc = export_close_stats(exp, 5000, &st);
	PROBE_INFO("export: %" PRIu64 " records spooled, %" PRIu64
		   " acknowledged, %s", st.spooled, st.acknowledged,
		   rc == 0 ? "spool drained" :
		   "records left in the spool for the next start");
}

/* Before any port or session: every TSC reading is converted with the
 * rate measured here, never with DPDK's nominal one. */
static void
clock_start(struct probe_app *app)
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
				app->conf.clock_error_ns);
	clock_detect_sync(app->conf.clock_sync, app->conf.clock_error_ns,
			  &app->synced, &app->clock_error_ns);
	PROBE_INFO("clock: TSC measured at %" PRIu64 " Hz against "
		   "CLOCK_REALTIME over %" PRIu64 " ms (+-%.2f ppm); nominal "
		   "%" PRIu64 " Hz%s: measured %+.1f ppm from it", st->tsc_hz,
		   st->calibration_ns / 1000000, st->calibration_ppm_error,
		   st->nominal_hz, app->conf.tsc_nominal_ppm != 0 ?
		   " (forced by tsc_nominal_ppm)" : "", st->ppm_vs_nominal);
	PROBE_INFO("clock: %s, error estimate %" PRIu64 " ns",
		   app->synced ? "synchronised (S bit set)" :
		   "not synchronised", app->clock_error_ns);
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
	__atomic_store_n(&app->synced, synced, __ATOMIC_RELAXED);
	__atomic_store_n(&app->clock_error_ns, error_ns, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < app->n_sessions; i++) {
		struct probe_session *s = &app->sessions[i];

		stamp_errest_from_ns(error_ns, synced, s->conf->ptp_format,
				     &ee);
		__atomic_store_n(&s->errest, stamp_errest_pack(&ee),
				 __ATOMIC_RELAXED);
	}
	/* each reflecting queue takes them up in its own estimate, with
	 * its timestamps' error, within 100 ms (reflector_errest_tick) */
}

void
control_poll(uint64_t now)
{
	static uint64_t next_clock;
	struct probe_app *app = &probe_app;
	uint64_t t0 = rte_rdtsc(), spent;

	if (clock_was_set()) {
		clock_tick(app, true);
		next_clock = now + app->tsc_hz;
	}
	if (now >= next_clock) {
		if (next_clock != 0) {
			clock_tick(app, false);
			hwts_port_refresh(app);
			/* adjtimex() may say otherwise now */
			if (app->conf.clock_sync == CLOCK_SYNC_AUTO)
				clock_sync_publish(app);
		}
		next_clock = now + app->tsc_hz;
	}
	if (app->conf.clock_sync == CLOCK_SYNC_PTP4L && ptp_watch_step())
		clock_sync_publish(app);
	if (!app->stopping) {
		if (probe_signal != 0)
			probe_stop_sessions(app, probe_signal == SIGINT ?
					    "SIGINT" : "SIGTERM");
		else if (app->conf.run_time_ns != 0 &&
			 mp_time_now_ns() - app->start_ns >=
			 app->conf.run_time_ns)
			probe_stop_sessions(app, "--run-time reached");
	}
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

static void *
control_thread(void *arg)
{
	struct probe_app *app = arg;

	while (!__atomic_load_n(&app->quit, __ATOMIC_ACQUIRE)) {
		control_poll(rte_rdtsc());
		usleep(1000);
	}
	return NULL;
}

static int
build_runtime(struct probe_app *app)
{
	struct probe_conf *pc = &app->conf;

	app->n_ports = pc->n_ports;
	for (unsigned i = 0; i < pc->n_ports; i++) {
		app->ports[i].conf = &pc->ports[i];
		app->ports[i].idx = i;
	}
	app->n_sessions = pc->n_sessions;
	if (pc->n_sessions == 0)
		return 0;
	app->sessions = rte_zmalloc("sessions",
				    pc->n_sessions * sizeof(app->sessions[0]),
				    RTE_CACHE_LINE_SIZE);
	if (app->sessions == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < pc->n_sessions; i++) {
		struct probe_session *s = &app->sessions[i];
		struct probe_queue *p = &app->ports[pc->sessions[i].port_idx];

		s->conf = &pc->sessions[i];
		s->idx = i;
		s->port = p;
		p->n_sessions++;
	}
	for (unsigned i = 0; i < app->n_ports; i++) {
		struct probe_queue *p = &app->ports[i];
		unsigned n = 0;

		if (p->n_sessions == 0)
			continue;
		p->sessions = calloc(p->n_sessions, sizeof(p->sessions[0]));
		if (p->sessions == NULL)
			return -ENOMEM;
		for (unsigned j = 0; j < app->n_sessions; j++)
			if (app->sessions[j].port == p)
				p->sessions[n++] = &app->sessions[j];
	}
	return 0;
}

/* Ports to lcores: each port on a free lcore of its NUMA node if any. */
static int
assign_lcores(struct probe_app *app)
{
	bool single = app->conf.single_lcore || rte_lcore_count() == 1;
	unsigned lcore;

	if (single) {
		struct probe_worker *w = &app->workers[0];

		w->lcore = rte_get_main_lcore();
		w->is_main = true;
		for (unsigned i = 0; i < app->n_ports; i++) {
			PORT_FOREACH_QUEUE(q, &app->ports[i])
				w->queues[w->n_queues++] = q;
			if ((int)rte_lcore_to_socket_id(w->lcore) !=
			    app->ports[i].socket)
				PROBE_WARN("port %s is on socket %d, the only "
					   "lcore %u on socket %u",
					   app->ports[i].conf->name,
					   app->ports[i].socket, w->lcore,
					   rte_lcore_to_socket_id(w->lcore));
		}
		app->n_workers = 1;
		PROBE_INFO("single lcore %u: receive and transmit (control in "
			   "a thread of its own)", w->lcore);
		return 0;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct probe_worker *w = &app->workers[app->n_workers++];

		w->lcore = lcore;
	}
	/* queue pairs in port order, each to the least loaded lcore of its
	 * port's socket: queue q of every port lands on the same lcores */
	for (unsigned i = 0; i < app->n_ports; i++)
	PORT_FOREACH_QUEUE(p, &app->ports[i]) {
		struct probe_worker *best = NULL;

		for (unsigned pass = 0; pass < 2 && best == NULL; pass++) {
			for (unsigned j = 0; j < app->n_workers; j++) {
				struct probe_worker *w = &app->workers[j];

				if (pass == 0 && (int)rte_lcore_to_socket_id(
				    w->lcore) != p->socket)
					continue;
				if (best == NULL || w->n_queues < best->n_queues)
					best = w;
			}
		}
		if ((int)rte_lcore_to_socket_id(best->lcore) != p->socket)
			PROBE_WARN("port %s is on socket %d but no lcore there: "
				   "using lcore %u on socket %u", p->conf->name,
				   p->socket, best->lcore,
				   rte_lcore_to_socket_id(best->lcore));
		best->queues[best->n_queues++] = p;
		PROBE_INFO("port %s queue %u: lcore %u (socket %u), %u "
			   "session(s)", p->conf->name, p->queue, best->lcore,
			   rte_lcore_to_socket_id(best->lcore), p->n_sessions);
	}
	for (unsigned j = 0; j < app->n_workers; j++)
		if (app->workers[j].n_queues > 1)
			PROBE_INFO("lcore %u polls %u queue pairs (one "
				   "lcore each needs more EAL lcores)",
				   app->workers[j].lcore,
				   app->workers[j].n_queues);
	return 0;
}

static int
setup_capture(struct probe_app *app)
{
	for (unsigned i = 0; i < app->n_workers; i++) {
		struct probe_worker *w = &app->workers[i];
		struct capture_ring *r;

		if (app->conf.capture[0] == '\0' || w->n_queues == 0)
			continue;
		r = capture_ring_create((int)rte_lcore_to_socket_id(w->lcore));
		if (r == NULL)
			return -ENOMEM;
		app->capture_rings[app->n_capture++] = r;
		for (unsigned j = 0; j < w->n_queues; j++)
			w->queues[j]->capture = r;
	}
	return 0;
}

static void
fatal(const char *msg)
{
	fprintf(stderr, "metroprobe: error: %s\n", msg);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct probe_app *app = &probe_app;
	struct probe_options po;
	char err[512];
	char *probe_argv[argc + 1];
	int dd, probe_argc = 0, rc;

	for (dd = 1; dd < argc && strcmp(argv[dd], "--") != 0; dd++)
		;
	probe_argv[probe_argc++] = argv[0];
	if (dd == argc) {
		/* no "--": only --help makes sense without EAL options */
		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--help") == 0 ||
			    strcmp(argv[i], "-h") == 0) {
				probe_print_usage(stdout);
				return 0;
			}
	}
	for (int i = dd + 1; i < argc; i++)
		probe_argv[probe_argc++] = argv[i];
	probe_argv[probe_argc] = NULL;

	/* from the start: a stop during init is honoured once running */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	probe_conf_defaults(&app->conf);
	rc = probe_parse_options(probe_argc, probe_argv, &app->conf, &po, err,
				 sizeof(err));
	if (po.help) {
		probe_print_usage(stdout);
		return 0;
	}
	if (rc < 0)
		fatal(err);
	if (po.check_only) {
		printf("metroprobe: configuration OK: %u port(s), %u "
		       "session(s)\n", app->conf.n_ports,
		       app->conf.n_sessions);
		return 0;
	}
	if (app->conf.records[0] == '\0' ||
	    strcmp(app->conf.records, "-") == 0) {
		app->records = stdout;
	} else {
		app->records = fopen(app->conf.records, "a");
		if (app->records == NULL) {
			fprintf(stderr, "metroprobe: error: --records %.200s: "
				"%s\n", app->conf.records, strerror(errno));
			return 2;
		}
	}
	if (capture_open(&app->conf) < 0) {
		fprintf(stderr, "metroprobe: error: --capture %.200s: cannot "
			"open\n", app->conf.capture);
		return 2;
	}

	if (export_start(app) < 0)
		return 2;

	rc = rte_eal_init(dd, argv);
	if (rc < 0) {
		fprintf(stderr, "metroprobe: error: EAL init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	if (rte_pdump_init() < 0)
		PROBE_WARN("rte_pdump_init failed: dpdk-dumpcap unavailable");
	clock_start(app);
	if (build_runtime(app) < 0)
		rte_exit(EXIT_FAILURE, "out of memory\n");
	if (port_setup_all(app) < 0)
		rte_exit(EXIT_FAILURE, "port setup failed\n");
	if (interval_host_stats_setup(app) < 0)
		rte_exit(EXIT_FAILURE, "out of memory\n");
	if (assign_lcores(app) < 0 || setup_capture(app) < 0)
		rte_exit(EXIT_FAILURE, "lcore or capture setup failed\n");
	if (probe_telemetry_register() != 0)
		PROBE_WARN("telemetry commands not registered");
	if (app->workers[0].is_main) {
		/* One lcore: control (records, export with its fdatasync,
		 * capture, clock) in a thread of its own, so none of it
		 * stalls the packet loop; inline only if that fails. */
		pthread_t ctl;

		if (rte_ctrl_thread_create(&ctl, "mp-control", NULL,
					   control_thread, app) == 0) {
			app->workers[0].is_main = false;
			worker_main(&app->workers[0]);
			pthread_join(ctl, NULL);
		} else {
			PROBE_WARN("no control thread: control runs in the "
				   "packet loop");
			worker_main(&app->workers[0]);
		}
	} else {
		for (unsigned i = 0; i < app->n_workers; i++)
			if (app->workers[i].n_queues > 0)
				rte_eal_remote_launch(worker_main,
						      &app->workers[i],
						      app->workers[i].lcore);
		while (!__atomic_load_n(&app->quit, __ATOMIC_ACQUIRE)) {
			control_poll(rte_rdtsc());
			usleep(1000);
		}
		rte_eal_mp_wait_lcore();
	}
	interval_emit_ready(app);
	interval_log_summaries(app);   /* a session done at the last step */
	capture_drain(app->capture_rings, app->n_capture);
	capture_close();
	export_stop(app);
	for (unsigned i = 0; i < app->n_ports; i++) {
		struct probe_queue *p = &app->ports[i];

		if (p->tx_pool != NULL)
			PROBE_INFO("port %s: test frames copied from their "
				   "template %" PRIu64 ", sent again as they "
				   "were (only the STAMP fields written) %"
				   PRIu64, p->conf->name,
				   PORT_SUM(p, frames_copied),
				   PORT_SUM(p, frames_reused));
		if (PORT_SUM(p, cksum_completed) != 0)
			PROBE_INFO("port %s: %" PRIu64 " UDP checksums left "
				   "partial by a kernel peer's offload completed",
				   p->conf->name, PORT_SUM(p, cksum_completed));
		if (p->conf->queues < 2)
			continue;
		PROBE_INFO("port %s: %u queue pairs; received %" PRIu64
			   ", reflected %" PRIu64 ", replies handed to their "
			   "session's queue %" PRIu64, p->conf->name,
			   p->conf->queues, PORT_SUM(p, rx_pkts),
			   PORT_SUM(p, reflected), PORT_SUM(p, handed_off));
		PORT_FOREACH_QUEUE(q, p)
			PROBE_INFO("port %s queue %u: received %" PRIu64
				   ", sent %" PRIu64, p->conf->name, q->queue,
				   q->rx_pkts, q->tx_pkts_total);
	}
	PROBE_INFO("exit: %" PRIu64 " records emitted", app->records_emitted);
	if (app->records != stdout)
		fclose(app->records);
	else
		fflush(stdout);
	rte_pdump_uninit();
	port_close_all(app);
	rte_eal_cleanup();
	probe_conf_free(&app->conf);
	return 0;
}
