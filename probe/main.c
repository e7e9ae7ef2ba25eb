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

#include "control.h"
#include "export.h"
#include "hwts_port.h"
#include "interval.h"
#include "log.h"
#include "options.h"
#include "port.h"
#include "ptp_status.h"
#include "rx.h"
#include "telemetry.h"

/* The probe: init fills it, then the workers and the control side run
 * on it (probe-t.h says who writes what). */
static struct probe_app probe_app = {
	.exp_lock = PTHREAD_MUTEX_INITIALIZER,
};

/* The exporter's log lines, as the probe's (arg: the app). */
static void
export_log(enum export_log_level level, const char *msg, void *arg)
{
	const struct probe_app *app = arg;

	if (level <= EXPORT_LOG_ERR)
		PROBE_ERR("export: %s", msg);
	else if (level == EXPORT_LOG_WARNING)
		PROBE_WARN("export: %s", msg);
	else if (level <= EXPORT_LOG_INFO || app->conf.verbose)
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
	ec.log_arg = app;
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
		app->single_lcore = true;
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

/* The read-only context each worker's packet path runs on (probe-t.h). */
static void
workers_runtime_fill(struct probe_app *app)
{
	for (unsigned i = 0; i < app->n_workers; i++) {
		struct worker_rt *rt = &app->workers[i].rt;

		rt->tsc_hz = app->tsc_hz;
		rt->interval_ns = app->conf.interval_ns;
		rt->tai_offset_s = app->conf.tai_offset_s;
		rt->idle_sleep_us = app->conf.idle_sleep_us;
		rt->idle_polls = app->conf.idle_polls;
		rt->sessions = app->sessions;
		rt->sync = &app->sync;
		rt->quit = &app->quit;
		rt->inline_control = false;
		rt->app = app;
	}
}

/* The probe options are what follows "--" (EAL takes what is before);
 * argv[0] leads both. Returns the index of "--" (argc if none). */
static int
split_argv(int argc, char **argv, char **probe_argv, int *probe_argc)
{
	int dd;

	for (dd = 1; dd < argc && strcmp(argv[dd], "--") != 0; dd++)
		;
	*probe_argc = 0;
	probe_argv[(*probe_argc)++] = argv[0];
	for (int i = dd + 1; i < argc; i++)
		probe_argv[(*probe_argc)++] = argv[i];
	probe_argv[*probe_argc] = NULL;
	return dd;
}

/* --help without "--": only that makes sense without EAL options. */
static bool
wants_help_only(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* Options and config file, before EAL: -1 to go on, else the exit code
 * (--help, --check, or an error already said). */
static int
probe_configure(struct probe_app *app, int argc, char **argv)
{
	struct probe_options po;
	char err[512];
	int rc;

	probe_conf_defaults(&app->conf);
	rc = probe_parse_options(argc, argv, &app->conf, &po, err,
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
	return -1;
}

/* --records, --capture and the export spool, before EAL: a path that
 * cannot be written is said before any port is touched. */
static int
open_outputs(struct probe_app *app)
{
	if (app->conf.records[0] == '\0' ||
	    strcmp(app->conf.records, "-") == 0) {
		app->records = stdout;
	} else {
		app->records = fopen(app->conf.records, "a");
		if (app->records == NULL) {
			fprintf(stderr, "metroprobe: error: --records %.200s: "
				"%s\n", app->conf.records, strerror(errno));
			return -1;
		}
	}
	if (capture_open(&app->conf) < 0) {
		fprintf(stderr, "metroprobe: error: --capture %.200s: cannot "
			"open\n", app->conf.capture);
		return -1;
	}
	return export_start(app);
}

/* After EAL: the clock before anything that converts time, then ports,
 * lcores, capture rings, telemetry. Exits with a message on failure. */
static void
probe_start(struct probe_app *app)
{
	if (rte_pdump_init() < 0)
		PROBE_WARN("rte_pdump_init failed: dpdk-dumpcap unavailable");
	control_clock_start(app);
	if (build_runtime(app) < 0)
		rte_exit(EXIT_FAILURE, "out of memory\n");
	if (port_setup_all(app) < 0)
		rte_exit(EXIT_FAILURE, "port setup failed\n");
	if (interval_host_stats_setup(app) < 0)
		rte_exit(EXIT_FAILURE, "out of memory\n");
	if (assign_lcores(app) < 0 || setup_capture(app) < 0)
		rte_exit(EXIT_FAILURE, "lcore or capture setup failed\n");
	workers_runtime_fill(app);
	if (probe_telemetry_register(app) != 0)
		PROBE_WARN("telemetry commands not registered");
}

/* Until the control side says quit. One lcore: control (records, the
 * export's fdatasync, capture, clock) in a thread of its own, so none
 * of it stalls the packet loop; in the loop only if there is no thread.
 * Several: a worker per lcore, control on the main lcore. */
static void
probe_run(struct probe_app *app)
{
	pthread_t ctl;

	if (app->single_lcore) {
		if (rte_ctrl_thread_create(&ctl, "mp-control", NULL,
					   control_thread, app) == 0) {
			worker_main(&app->workers[0]);
			pthread_join(ctl, NULL);
			return;
		}
		PROBE_WARN("no control thread: control runs in the packet "
			   "loop");
		app->workers[0].rt.inline_control = true;
		worker_main(&app->workers[0]);
		return;
	}
	for (unsigned i = 0; i < app->n_workers; i++)
		if (app->workers[i].n_queues > 0)
			rte_eal_remote_launch(worker_main, &app->workers[i],
					      app->workers[i].lcore);
	control_run(app);
	rte_eal_mp_wait_lcore();
}

/* One line per port at exit: what its frames and queues did. */
static void
probe_log_ports(struct probe_app *app)
{
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
}

/* The last records, capture and export, then the ports and EAL. */
static void
probe_shutdown(struct probe_app *app)
{
	interval_emit_ready(app);
	interval_log_summaries(app);   /* a session done at the last step */
	capture_drain(app->capture_rings, app->n_capture);
	capture_close();
	export_stop(app);
	probe_log_ports(app);
	PROBE_INFO("exit: %" PRIu64 " records emitted", app->records_emitted);
	if (app->records != stdout)
		fclose(app->records);
	else
		fflush(stdout);
	rte_pdump_uninit();
	port_close_all(app);
	rte_eal_cleanup();
	probe_conf_free(&app->conf);
}

int
main(int argc, char **argv)
{
	struct probe_app *app = &probe_app;
	char *probe_argv[argc + 1];
	int dd, probe_argc, rc;

	dd = split_argv(argc, argv, probe_argv, &probe_argc);
	if (dd == argc && wants_help_only(argc, argv)) {
		probe_print_usage(stdout);
		return 0;
	}
	/* from the start: a stop during init is honoured once running */
	signal(SIGINT, control_on_signal);
	signal(SIGTERM, control_on_signal);
	rc = probe_configure(app, probe_argc, probe_argv);
	if (rc >= 0)
		return rc;
	if (open_outputs(app) < 0)
		return 2;
	if (rte_eal_init(dd, argv) < 0) {
		fprintf(stderr, "metroprobe: error: EAL init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	probe_start(app);
	probe_run(app);
	probe_shutdown(app);
	return 0;
}
