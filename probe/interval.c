/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control side of the interval records: take each slot the data plane
 * closed (after the loss timeout, so the figures are final), turn it into
 * a metroprobe.interval.v1 record, write it as one JSON line, and hand
 * the slot back empty.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/record.h"

#include "export.h"
#include "capacity.h"
#include "probe.h"

const char *const probe_drop_names[PROBE_DROP_N] = {
#define _(sym, name, help) name,
	foreach_probe_drop
#undef _
};

const char *const probe_drop_help[PROBE_DROP_N] = {
#define _(sym, name, help) help,
	foreach_probe_drop
#undef _
};

static void
record_fill(const struct probe_app *app, const struct probe_session *s,
	    struct interval_slot *sl, struct interval_record *r)
{
	const struct session_conf *sc = s->conf;
	const struct probe_port *p = s->port;
	const struct port_conf *pcf = p->conf;
	struct probe_addr src = sc->peer.family == 6 ? pcf->ip6 : pcf->ip4;
	double secs;

	record_init(r);
	snprintf(r->probe, sizeof(r->probe), "%s", pcf->name);
	snprintf(r->session, sizeof(r->session), "%s", sc->name);
	probe_addr_format(&src, sc->src_port, r->src, sizeof(r->src));
	probe_addr_format(&sc->peer, sc->peer_port, r->dst, sizeof(r->dst));
	r->interval_ns = app->conf.interval_ns * sl->n_intervals;
	r->start_ns = sl->index * app->conf.interval_ns;
	r->tx_pkts = sl->tx_pkts;
	r->tx_bytes = sl->tx_bytes;
	r->rx_pkts = sl->rx_pkts;
	r->rx_bytes = sl->rx_bytes;
	r->lost = sl->lost;
	r->lost_fwd = sl->lost_fwd;
	r->lost_back = sl->lost_back;
	r->reordered = sl->reordered;
	r->duplicates = sl->duplicates;
	r->late = sl->late;
	/* one-way delays need both clocks synchronised for every sample */
	r->clock_synced = app->synced && sl->rx_pkts > 0 && sl->all_synced &&
		sl->ds.owd_valid;
	r->hw_timestamps = p->hw_ts;
	delay_summary_from_hist(&r->rtt, &sl->ds.rtt);
	delay_summary_from_hist(&r->ipdv, &sl->ds.ipdv);
	if (r->clock_synced) {
		delay_summary_from_hist(&r->owd_fwd, &sl->ds.owd_fwd);
		delay_summary_from_hist(&r->owd_back, &sl->ds.owd_back);
		if (!hist_empty(&sl->ds.owd_fwd))
			r->hist[RECORD_HIST_OWD_FWD] = &sl->ds.owd_fwd;
		if (!hist_empty(&sl->ds.owd_back))
			r->hist[RECORD_HIST_OWD_BACK] = &sl->ds.owd_back;
	}
	if (!hist_empty(&sl->ds.rtt))
		r->hist[RECORD_HIST_RTT] = &sl->ds.rtt;
	if (!hist_empty(&sl->ds.ipdv))
		r->hist[RECORD_HIST_IPDV] = &sl->ds.ipdv;
	r->hist_owned = 0;
	r->jitter_ns = sl->rx_pkts > 0 ? delay_jitter_ns(&sl->ds) : 0;
	secs = (double)r->interval_ns / 1e9;
	r->throughput_bps = (double)sl->rx_bytes * 8.0 / secs;
	r->throughput_l1_bps = (double)(sl->rx_bytes + 20 * sl->rx_pkts) *
		8.0 / secs;
	/* the port's drop counters so far (cumulative, non-zero ones) */
	for (unsigned i = 0; i < PROBE_DROP_N &&
	     r->n_drops < RECORD_MAX_DROPS; i++) {
		uint64_t v = PORT_SUM(p->first, drops[i]);

		if (v == 0)
			continue;
		snprintf(r->drops[r->n_drops].name,
			 sizeof(r->drops[0].name), "%s", probe_drop_names[i]);
		r->drops[r->n_drops].value = v;
		r->n_drops++;
	}
}

/* The same line as --records, into the export spool (never blocks on
 * the network: export.h). */
static void
interval_export(struct probe_app *app, const char *json)
{
	int rc;

	if (app->exp == NULL)
		return;
	rc = export_submit(app->exp, json, strlen(json));
	if (rc < 0) {
		app->export_errors++;
		PROBE_ERR("export: record not spooled: %s", strerror(-rc));
	}
}

void
interval_emit_ready(struct probe_app *app)
{
	bool wrote = false;

	for (unsigned i = 0; i < app->n_sessions; i++) {
		struct probe_session *s = &app->sessions[i];

		if (s->slots == NULL)
			continue;
		for (;;) {
			struct interval_slot *sl = session_slot(s, s->emit);
			struct interval_record r;
			char *json;

			if (__atomic_load_n(&sl->state, __ATOMIC_ACQUIRE) !=
			    SLOT_READY)
				break;
			record_fill(app, s, sl, &r);
			json = record_to_json(&r);
			if (json == NULL) {
				PROBE_ERR("session %s: out of memory encoding "
					  "a record", s->conf->name);
			} else {
				fputs(json, app->records);
				fputc('\n', app->records);
				interval_export(app, json);
				free(json);
				app->records_emitted++;
				wrote = true;
			}
			delay_stats_reset_interval(&sl->ds);
			__atomic_store_n(&sl->state, SLOT_FREE,
					 __ATOMIC_RELEASE);
			s->emit++;
		}
	}
	if (wrote) {
		fflush(app->records);
		/* one fdatasync per interval batch, then the uploader has it */
		if (app->exp != NULL && export_flush_local(app->exp) < 0)
			PROBE_ERR("export: spool flush failed: records stay "
				  "in the --records output only");
	}
}

bool
interval_all_done(struct probe_app *app)
{
	for (unsigned i = 0; i < app->n_sessions; i++) {
		struct probe_session *s = &app->sessions[i];

		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) !=
		    SESSION_DONE)
			return false;
		if (s->slots != NULL && __atomic_load_n(&session_slot(s,
		    s->emit)->state, __ATOMIC_ACQUIRE) == SLOT_READY)
			return false;
	}
	return true;
}

/* One line per finished session, for people and for the capture test. */
void
interval_log_summaries(struct probe_app *app)
{
	for (unsigned i = 0; i < app->n_sessions; i++) {
		struct probe_session *s = &app->sessions[i];

		if (s->summary_logged ||
		    __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) !=
		    SESSION_DONE)
			continue;
		s->summary_logged = true;
		if (s->cap != NULL)
			capacity_report(app, s);
		if (s->any_refl)
			PROBE_INFO("session %s: sent %" PRIu64 " (seq %u..%u"
				   "), received %" PRIu64 ", lost %"
				   PRIu64 ", duplicates %" PRIu64 ", late %"
				   PRIu64 ", reflector seq %u..%u",
				   s->conf->name, s->tx_total, s->conf->first_seq,
				   (uint32_t)(s->conf->first_seq + (s->tx_total ?
				   s->tx_total - 1 : 0)),
				   s->rx_total, s->lost_total, s->dup_total,
				   s->late_total, s->refl_first, s->refl_last);
		else
			PROBE_INFO("session %s: sent %" PRIu64 ", received 0",
				   s->conf->name, s->tx_total);
	}
}
