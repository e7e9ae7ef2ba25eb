/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control side of the interval records: take each slot the data plane
 * closed (after the loss timeout, so the figures are final), turn it into
 * a metroprobe.interval.v1 record, write it as one JSON line, and hand
 * the slot back empty.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "metroprobe/mp_time.h"
#include "metroprobe/record.h"

#include "capacity.h"
#include "export.h"
#include "interval.h"
#include "log.h"

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

/* Ring of per-interval port counters, long enough to outlast the loss
 * timeout (records are emitted that much after their interval). */
int
interval_host_stats_setup(struct probe_app *app)
{
	const struct probe_conf *pc = &app->conf;
	unsigned n = (unsigned)((pc->loss_timeout_ns + pc->interval_ns - 1) /
				pc->interval_ns) + 8;

	for (unsigned i = 0; i < app->n_ports; i++) {
		struct host_stats *h = calloc(1, sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		h->e = calloc(n, sizeof(h->e[0]));
		if (h->e == NULL) {
			free(h);
			return -ENOMEM;
		}
		h->n = n;
		h->index = UINT64_MAX;
		app->ports[i].host = h;
	}
	return 0;
}

static void
host_stats_read(uint16_t port_id, struct host_stats_entry *out)
{
	struct rte_eth_stats st;

	memset(out, 0, sizeof(*out));
	if (rte_eth_stats_get(port_id, &st) != 0)
		return;
	out->imissed = st.imissed;
	out->rx_nombuf = st.rx_nombuf;
	out->ierrors = st.ierrors;
	out->ipackets = st.ipackets;
}

/* Control, every step: at each interval boundary, the counters' deltas
 * over the interval that ended go into the ring under its index. */
void
interval_host_stats_tick(struct probe_app *app, uint64_t now_ns)
{
	uint64_t index = now_ns / app->conf.interval_ns;

	for (unsigned i = 0; i < app->n_ports; i++) {
		struct host_stats *h = app->ports[i].host;
		struct host_stats_entry cur, *e;

		if (h == NULL || h->index == index)
			continue;
		host_stats_read(app->ports[i].port_id, &cur);
		if (h->have_prev && h->index != UINT64_MAX) {
			e = &h->e[h->index % h->n];
			e->index = h->index;
			e->imissed = cur.imissed - h->prev.imissed;
			e->rx_nombuf = cur.rx_nombuf - h->prev.rx_nombuf;
			e->ierrors = cur.ierrors - h->prev.ierrors;
			e->ipackets = cur.ipackets - h->prev.ipackets;
		}
		h->prev = cur;
		h->have_prev = true;
		h->index = index;
	}
}

/* The port's counters over a slot's intervals (0 where not measured:
 * the probe started or stopped within it). */
static void
host_stats_sum(const struct host_stats *h, const struct interval_slot *sl,
	       struct host_stats_entry *sum)
{
	memset(sum, 0, sizeof(*sum));
	if (h == NULL)
		return;
	for (uint64_t k = sl->index; k < sl->index + sl->n_intervals; k++) {
		const struct host_stats_entry *e = &h->e[k % h->n];

		if (e->index != k)
			continue;
		sum->imissed += e->imissed;
		sum->rx_nombuf += e->rx_nombuf;
		sum->ierrors += e->ierrors;
		sum->ipackets += e->ipackets;
	}
}

/*
 * How far the slot's figures can be off, and what the host did to them
 * (record.h, struct record_quality). The host may have lost packets
 * itself when its counters moved, when a poll gap was longer than the
 * receive ring lasts at the interval's arrival rate, or when the sender
 * was that late: the packets it owed then left in one burst, and their
 * replies came back as one (a ring overflows at either end).
 */
static void
record_fill_quality(const struct probe_app *app, const struct probe_queue *p,
		    const struct interval_slot *sl, struct interval_record *r)
{
	struct record_quality *q = &r->q;
	const struct delay_stats *ds = &sl->ds;
	struct host_stats_entry hs;
	double ring_ns;

	q->present = true;
	q->ts_rx_error_ns = clock_span_ns(sl->rx_err_max_tsc, app->tsc_hz);
	q->ts_tx_error_ns = clock_span_ns(sl->tx_lag_max_tsc, app->tsc_hz);
	q->clock_error_ns = app->sync.error_ns;
	q->peer_clock_synced = sl->rx_pkts > 0 && sl->peer_synced;
	q->peer_clock_error_ns = sl->peer_error_ns;
	/* A synchronised reflector's estimate bounds its T2 and T3 (a
	 * metroprobe reflector adds its software timestamps' error to it);
	 * an unsynchronised one's is about its clock's offset, which
	 * cancels in T3 - T2. */
	q->rtt_error_ns = q->ts_rx_error_ns + q->ts_tx_error_ns +
		(q->peer_clock_synced ? q->peer_clock_error_ns : 0);
	/* a peer follows a step of the clock both read at its own moment:
	 * until then their one-way figures differ by the step */
	q->owd_error_ns = q->ts_rx_error_ns + q->ts_tx_error_ns +
		q->clock_error_ns + q->peer_clock_error_ns +
		sl->step_abs_max_ns;
	q->clock_steps = sl->clock_steps;
	q->step_excluded = sl->step_excluded;
	q->rtt_negative = ds->negative;
	q->owd_fwd_negative = ds->owd_fwd_negative;
	q->owd_back_negative = ds->owd_back_negative;
	q->owd_fwd_negative_min_ns = ds->owd_fwd_negative_min;
	q->owd_back_negative_min_ns = ds->owd_back_negative_min;
	q->owd_implausible = r->clock_synced &&
		(-ds->owd_fwd_negative_min > (int64_t)q->owd_error_ns ||
		 -ds->owd_back_negative_min > (int64_t)q->owd_error_ns);
	host_stats_sum(p->first->host, sl, &hs);
	q->host_imissed = hs.imissed;
	q->host_rx_nombuf = hs.rx_nombuf;
	q->host_ierrors = hs.ierrors;
	q->poll_gap_max_ns = clock_span_ns(sl->rx_gap_max_tsc, app->tsc_hz);
	/* time the receive ring lasts at the port's arrival rate */
	ring_ns = hs.ipackets > 0 ? (double)p->first->rx_ring_frames *
		(double)r->interval_ns / (double)hs.ipackets : INFINITY;
	q->host_loss_suspect = hs.imissed + hs.rx_nombuf + hs.ierrors > 0 ||
		(double)q->poll_gap_max_ns > ring_ns ||
		(double)clock_span_ns(sl->tx_late_max_tsc, app->tsc_hz) > ring_ns;
}

static void
record_fill(const struct probe_app *app, const struct probe_session *s,
	    struct interval_slot *sl, struct interval_record *r)
{
	const struct session_conf *sc = s->conf;
	const struct probe_queue *p = s->port;
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
	r->clock_synced = app->sync.synced && sl->rx_pkts > 0 && sl->all_synced &&
		sl->ds.owd_valid;
	r->hw_timestamps = p->hw_ts;
	record_fill_quality(app, p, sl, r);
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
