/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands (dpdk-telemetry.py -f PREFIX):
 *   /metroprobe/ports            port names
 *   /metroprobe/port,NAME        a port's counters and drops
 *   /metroprobe/drops            drops of all ports, by reason
 *   /metroprobe/sessions         session names
 *   /metroprobe/session,NAME     a session's state and totals
 *   /metroprobe/clock            TSC calibration and synchronisation
 *   /metroprobe/export           record export to the collector
 * Counters are read while the data plane writes them (64-bit loads,
 * never torn on the supported targets).
 */
#include <string.h>

#include <rte_telemetry.h>

#include "export.h"
#include "hwts_port.h"
#include "log.h"
#include "telemetry.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static const char *const session_state_names[] = {
	"waiting_for_neighbour", "running", "draining", "done",
};

/* The probe the commands describe: DPDK's telemetry callbacks take no
 * argument of ours, so it is kept here, set once before they can run. */
static struct probe_app *tel_app;

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (unsigned i = 0; i < tel_app->n_ports; i++)
		rte_tel_data_add_array_string(d, tel_app->ports[i].conf->name);
	return 0;
}

static void
add_drops(struct rte_tel_data *d, struct probe_queue *p, bool all)
{
	for (unsigned i = 0; i < PROBE_DROP_N; i++) {
		uint64_t v = 0;

		if (p != NULL) {
			v = PORT_SUM(p, drops[i]);
		} else {
			for (unsigned j = 0; j < tel_app->n_ports; j++)
				v += PORT_SUM(&tel_app->ports[j], drops[i]);
		}
		if (v != 0 || all)
			rte_tel_data_add_dict_u64(d, probe_drop_names[i], v);
	}
}

static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct probe_queue *p = NULL;

	(void)cmd;
	for (unsigned i = 0; params != NULL && i < tel_app->n_ports; i++)
		if (strcmp(tel_app->ports[i].conf->name, params) == 0)
			p = &tel_app->ports[i];
	if (p == NULL)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "port_id", p->port_id);
	rte_tel_data_add_dict_u64(d, "queues", p->conf->queues);
	rte_tel_data_add_dict_u64(d, "rx_pkts", PORT_SUM(p, rx_pkts));
	rte_tel_data_add_dict_u64(d, "tx_pkts", PORT_SUM(p, tx_pkts_total));
	rte_tel_data_add_dict_u64(d, "reflected", PORT_SUM(p, reflected));
	rte_tel_data_add_dict_u64(d, "reflector_sessions",
				  PORT_SUM(p, refl_sessions));
	rte_tel_data_add_dict_u64(d, "arp_replies", PORT_SUM(p, arp_replies));
	rte_tel_data_add_dict_u64(d, "handed_off", PORT_SUM(p, handed_off));
	rte_tel_data_add_dict_u64(d, "frames_copied",
				  PORT_SUM(p, frames_copied));
	rte_tel_data_add_dict_u64(d, "frames_reused",
				  PORT_SUM(p, frames_reused));
	rte_tel_data_add_dict_u64(d, "cksum_completed",
				  PORT_SUM(p, cksum_completed));
	rte_tel_data_add_dict_u64(d, "hw_timestamps", p->hw_ts);
	hwts_port_telemetry(d, p);
	add_drops(d, p, true);
	return 0;
}

static int
tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	add_drops(d, NULL, true);
	return 0;
}

static int
tel_sessions(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (unsigned i = 0; i < tel_app->n_sessions; i++)
		rte_tel_data_add_array_string(d,
			tel_app->sessions[i].conf->name);
	return 0;
}

static int
tel_session(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct probe_session *s = NULL;
	char peer[RECORD_ADDR_MAX];
	uint32_t st;

	(void)cmd;
	for (unsigned i = 0; params != NULL && i < tel_app->n_sessions; i++)
		if (strcmp(tel_app->sessions[i].conf->name, params) == 0)
			s = &tel_app->sessions[i];
	if (s == NULL)
		return -EINVAL;
	st = LOAD(s->state);
	probe_addr_format(&s->conf->peer, s->conf->peer_port, peer,
			  sizeof(peer));
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "port", s->port->conf->name);
	rte_tel_data_add_dict_string(d, "peer", peer);
	rte_tel_data_add_dict_string(d, "state", st < RTE_DIM(
		session_state_names) ? session_state_names[st] : "?");
	rte_tel_data_add_dict_u64(d, "rate_millipps",
				  (uint64_t)(s->conf->rate_pps * 1000.0));
	rte_tel_data_add_dict_u64(d, "frame_size", s->conf->frame_size);
	rte_tel_data_add_dict_u64(d, "tx_pkts", LOAD(s->tx_total));
	rte_tel_data_add_dict_u64(d, "rx_pkts", LOAD(s->rx_total));
	rte_tel_data_add_dict_u64(d, "lost", LOAD(s->lost_total));
	rte_tel_data_add_dict_u64(d, "duplicates", LOAD(s->dup_total));
	rte_tel_data_add_dict_u64(d, "late", LOAD(s->late_total));
	rte_tel_data_add_dict_u64(d, "records_emitted", LOAD(s->emit));
	return 0;
}

static int
tel_clock(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct clock_stats *c = clock_get_stats();
	int64_t corr = c->last_correction_ns;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "tsc_hz", c->tsc_hz);
	rte_tel_data_add_dict_u64(d, "refreshes", c->refreshes);
	rte_tel_data_add_dict_int(d, "last_correction_ns",
				  (int)(corr > INT32_MAX ? INT32_MAX :
					corr < INT32_MIN ? INT32_MIN : corr));
	rte_tel_data_add_dict_u64(d, "max_abs_correction_ns",
				  c->max_abs_correction_ns);
	rte_tel_data_add_dict_int(d, "tsc_ppb_vs_nominal",
				  (int)(c->ppm_vs_nominal * 1000.0));
	rte_tel_data_add_dict_u64(d, "nominal_hz", c->nominal_hz);
	rte_tel_data_add_dict_u64(d, "calibration_ns", c->calibration_ns);
	rte_tel_data_add_dict_u64(d, "steps", c->steps);
	rte_tel_data_add_dict_u64(d, "bad_samples", c->bad_samples);
	rte_tel_data_add_dict_u64(d, "synced", c->synced);
	rte_tel_data_add_dict_u64(d, "error_estimate_ns", c->error_ns);
	rte_tel_data_add_dict_u64(d, "control_step_max_ns",
		tel_app->tsc_hz ? tel_app->control_max_tsc * 1000000000ULL /
		tel_app->tsc_hz : 0);
	return 0;
}

static int
tel_export(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct export_stats st;
	bool on;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&tel_app->exp_lock);
	on = tel_app->exp != NULL;
	if (on)
		export_stats(tel_app->exp, &st);
	pthread_mutex_unlock(&tel_app->exp_lock);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "enabled", on);
	rte_tel_data_add_dict_u64(d, "submit_errors",
				  LOAD(tel_app->export_errors));
	if (!on)
		return 0;
	rte_tel_data_add_dict_u64(d, "recovered", st.recovered);
	rte_tel_data_add_dict_u64(d, "spooled", st.spooled);
	rte_tel_data_add_dict_u64(d, "sent", st.sent);
	rte_tel_data_add_dict_u64(d, "acknowledged", st.acknowledged);
	rte_tel_data_add_dict_u64(d, "acked_new", st.acked_new);
	rte_tel_data_add_dict_u64(d, "acked_duplicate", st.acked_duplicate);
	rte_tel_data_add_dict_u64(d, "dropped_full", st.dropped_full);
	rte_tel_data_add_dict_u64(d, "dropped_torn", st.dropped_torn);
	rte_tel_data_add_dict_u64(d, "rejected", st.rejected);
	rte_tel_data_add_dict_u64(d, "requests", st.requests);
	rte_tel_data_add_dict_u64(d, "retries", st.retries);
	rte_tel_data_add_dict_u64(d, "pending", st.pending);
	rte_tel_data_add_dict_u64(d, "spool_bytes", st.spool_bytes);
	rte_tel_data_add_dict_int(d, "last_http_status",
				  (int)st.last_http_status);
	rte_tel_data_add_dict_string(d, "last_error", st.last_error);
	return 0;
}

int
probe_telemetry_register(struct probe_app *app)
{
	int rc = 0;

	tel_app = app;

	rc |= rte_telemetry_register_cmd("/metroprobe/ports", tel_ports,
		"Lists the probe's ports (probe identities)");
	rc |= rte_telemetry_register_cmd("/metroprobe/port", tel_port,
		"Counters and drops of a port. Parameter: port name");
	rc |= rte_telemetry_register_cmd("/metroprobe/drops", tel_drops,
		"Drops of all ports by reason");
	rc |= rte_telemetry_register_cmd("/metroprobe/sessions", tel_sessions,
		"Lists the sender sessions");
	rc |= rte_telemetry_register_cmd("/metroprobe/session", tel_session,
		"State and totals of a session. Parameter: session name");
	rc |= rte_telemetry_register_cmd("/metroprobe/clock", tel_clock,
		"TSC calibration against CLOCK_REALTIME");
	rc |= rte_telemetry_register_cmd("/metroprobe/export", tel_export,
		"Record export to the collector: spool and upload counters");
	return rc;
}
