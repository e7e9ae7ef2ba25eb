/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capacity sessions (see capacity.h): stepped load after ITU-T Y.1564's
 * service configuration test, per-step counters kept by the worker, and
 * the report the control thread writes once the session is done (after
 * the loss timeout, so every step's loss is final).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "metroprobe/delay.h"
#include "metroprobe/seqt.h"

#include "capacity.h"
#include "log.h"
#include "probe-t.h"

/* preamble + SFD (8) and the minimum inter-frame gap (12) */
#define CAP_L1_OVERHEAD 20

static const char *const cap_default_steps = "25,50,75,100,110,125";

static int
cap_err(const struct mp_config *c, const char *sec, const char *key,
	char *err, size_t errlen, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	unsigned line = mp_config_line(c, sec, key);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line != 0)
		snprintf(err, errlen, "%s:%u: [%s] %s: %s", mp_config_path(c),
			 line, sec, key, msg);
	else
		snprintf(err, errlen, "%s: [%s] %s: %s", mp_config_path(c),
			 sec, key, msg);
	return -EINVAL;
}

/* "100M", "2.5G", "64k" or plain bits/s (SI multipliers). */
static int
cap_parse_rate(const char *v, uint64_t *out)
{
	char *end;
	double r = strtod(v, &end);

	if (end == v)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K':
		r *= 1e3; end++;
		break;
	case 'm': case 'M':
		r *= 1e6; end++;
		break;
	case 'g': case 'G':
		r *= 1e9; end++;
		break;
	default:
		break;
	}
	if (strcmp(end, "") != 0 && strcmp(end, "bit") != 0 &&
	    strcmp(end, "bps") != 0)
		return -EINVAL;
	if (!(r >= 1000.0 && r <= 400e9))
		return -ERANGE;
	*out = (uint64_t)llround(r);
	return 0;
}

/* "25,50,75" (also ':' or ' ' between values: the command line's
 * --session uses ',' between keys). */
static int
cap_parse_steps(const char *v, struct capacity_conf *cc)
{
	const char *p = v;

	cc->n_steps = 0;
	while (*p != '\0') {
		char *end;
		double pct;

		while (*p == ' ' || *p == ',' || *p == ':')
			p++;
		if (*p == '\0')
			break;
		pct = strtod(p, &end);
		if (end == p || !(pct > 0.0 && pct <= 1000.0))
			return -EINVAL;
		if (cc->n_steps == PROBE_CAP_MAX_STEPS)
			return -E2BIG;
		cc->steps_pct[cc->n_steps++] = pct;
		p = end;
		if (*p == '%')
			p++;
		if (*p != '\0' && *p != ' ' && *p != ',' && *p != ':')
			return -EINVAL;
	}
	return cc->n_steps == 0 ? -EINVAL : 0;
}

int
capacity_conf_parse(const struct mp_config *c, const char *sec,
		    struct session_conf *sc, char *err, size_t errlen)
{
	static const char *const cap_keys[] = {
		"cir", "steps", "step_duration", "loss_max",
	};
	struct capacity_conf *cc = &sc->cap;
	const char *v = mp_config_get(c, sec, "type");
	double max_pct = 0;
	int rc;

	memset(cc, 0, sizeof(*cc));
	sc->type = SESSION_TYPE_LATENCY;
	if (v != NULL && strcmp(v, "capacity") == 0) {
		sc->type = SESSION_TYPE_CAPACITY;
	} else if (v != NULL && strcmp(v, "latency") != 0) {
		return cap_err(c, sec, "type", err, errlen, "'%s': expected "
			       "latency or capacity", v);
	}
	if (sc->type == SESSION_TYPE_LATENCY) {
		for (size_t i = 0; i < RTE_DIM(cap_keys); i++)
			if (mp_config_get(c, sec, cap_keys[i]) != NULL)
				return cap_err(c, sec, cap_keys[i], err,
					       errlen, "only for type = "
					       "capacity");
		return 0;
	}
	if (mp_config_get(c, sec, "rate_pps") != NULL ||
	    mp_config_get(c, sec, "rate_bps") != NULL)
		return cap_err(c, sec, mp_config_get(c, sec, "rate_pps") ?
			       "rate_pps" : "rate_bps", err, errlen,
			       "a capacity session's rate comes from cir and "
			       "steps");
	if (mp_config_get(c, sec, "duration") != NULL)
		return cap_err(c, sec, "duration", err, errlen, "a capacity "
			       "session lasts steps x step_duration");
	v = mp_config_get(c, sec, "cir");
	if (v == NULL)
		return cap_err(c, sec, "cir", err, errlen, "required for type "
			       "= capacity: committed rate in bits/s of frames "
			       "with FCS (e.g. 100M)");
	rc = cap_parse_rate(v, &cc->cir_bps);
	if (rc < 0)
		return cap_err(c, sec, "cir", err, errlen, "'%s': expected a "
			       "rate of 1k..400G bits/s (e.g. 20M, 1.5G)", v);
	v = mp_config_get(c, sec, "steps");
	if (cap_parse_steps(v != NULL ? v : cap_default_steps, cc) < 0)
		return cap_err(c, sec, "steps", err, errlen, "'%s': expected "
			       "1..%d percentages of cir in (0, 1000], "
			       "separated by ',' or ':'", v,
			       PROBE_CAP_MAX_STEPS);
	rc = mp_config_get_duration(c, sec, "step_duration", 2000000000ULL,
				    &cc->step_ns, err, errlen);
	if (rc < 0)
		return rc;
	if (cc->step_ns < 100000000ULL || cc->step_ns > 3600000000000ULL)
		return cap_err(c, sec, "step_duration", err, errlen,
			       "must be between 100ms and 1h");
	rc = mp_config_get_double(c, sec, "loss_max", 1e-5, &cc->loss_max,
				  err, errlen);
	if (rc < 0)
		return rc;
	if (!(cc->loss_max >= 0.0 && cc->loss_max < 1.0))
		return cap_err(c, sec, "loss_max", err, errlen,
			       "a loss ratio in [0, 1)");
	for (unsigned i = 0; i < cc->n_steps; i++)
		if (cc->steps_pct[i] > max_pct)
			max_pct = cc->steps_pct[i];
	/* the highest step sizes buffers and the sequence window */
	sc->rate_bps = (uint64_t)ceil((double)cc->cir_bps * max_pct / 100.0);
	if (sc->rate_bps < 1000)
		sc->rate_bps = 1000;
	sc->rate_pps = 0;
	sc->duration_ns = cc->step_ns * cc->n_steps;
	return 0;
}

/* ---- worker ---- */

int
capacity_setup(struct probe_app *app, struct probe_session *s)
{
	const struct session_conf *sc = s->conf;
	const struct capacity_conf *cc = &sc->cap;
	struct capacity_run *run;

	run = rte_zmalloc_socket("capacity", sizeof(*run), 64, s->port->socket);
	if (run == NULL)
		return -ENOMEM;
	run->step_tsc = (uint64_t)((double)cc->step_ns *
				   (double)app->tsc_hz / 1e9);
	for (unsigned i = 0; i < cc->n_steps; i++) {
		double pps = (double)cc->cir_bps * cc->steps_pct[i] / 100.0 /
			(8.0 * sc->frame_size);

		run->period_q16[i] = (uint64_t)llround((double)app->tsc_hz *
						       65536.0 / pps);
		hist_init(&run->steps[i].rtt);
		hist_init(&run->steps[i].owd_fwd);
		run->steps[i].all_synced = true;
	}
	s->cap = run;
	return 0;
}

void
capacity_start(struct probe_session *s, uint64_t now)
{
	struct capacity_run *run = s->cap;

	run->cur = 0;
	run->n_started = 1;
	run->start_tsc = now;
	run->last_tsc = now;
	run->steps[0].first_seq = s->next_seq;
	run->steps[0].start_tsc = now;
	run->next_step_tsc = s->conf->cap.n_steps > 1 ?
		now + run->step_tsc : UINT64_MAX;
	s->period_q16 = run->period_q16[0];
	session_pace_from(s, now);
	s->stop_tsc = now + run->step_tsc * s->conf->cap.n_steps;
}

void
capacity_tick(struct probe_session *s, uint64_t now)
{
	s->cap->last_tsc = now;
}

void
capacity_next_step(struct probe_session *s)
{
	struct capacity_run *run = s->cap;
	struct capacity_step *st;

	if (run->cur + 1 >= s->conf->cap.n_steps) {
		run->next_step_tsc = UINT64_MAX;
		return;
	}
	run->cur++;
	st = &run->steps[run->cur];
	st->first_seq = s->next_seq;
	st->start_tsc = run->next_step_tsc;
	s->period_q16 = run->period_q16[run->cur];
	session_pace_from(s, run->next_step_tsc);
	run->next_step_tsc = run->cur + 1 < s->conf->cap.n_steps ?
		run->next_step_tsc + run->step_tsc : UINT64_MAX;
	/* control reads n_started only once the session is done */
	run->n_started = run->cur + 1;
}

void
capacity_rx(struct probe_session *s, uint32_t seq,
	    const struct stamp_times *t, bool synced)
{
	struct capacity_run *run = s->cap;
	struct capacity_step *st = NULL;
	int64_t rtt, fwd;

	for (unsigned k = run->n_started; k-- > 0;) {
		if (seqt_diff(seq, run->steps[k].first_seq) >= 0) {
			st = &run->steps[k];
			break;
		}
	}
	if (st == NULL)
		return;
	st->rx_pkts++;
	rtt = delay_rtt(t);
	if (rtt >= 0)
		hist_insert(&st->rtt, (uint64_t)rtt);
	fwd = delay_fwd(t);
	if (synced && fwd >= 0)
		hist_insert(&st->owd_fwd, (uint64_t)fwd);
	else
		st->all_synced = false;
}

/* ---- control: the report ---- */

struct cap_result {
	double pct;
	uint64_t tx, rx;
	double secs;
	double offered_bps, offered_l1_bps, rx_bps, rx_l1_bps;
	double loss_ratio;
	bool pass;
	bool complete;
	uint64_t rtt_p50, rtt_p99, owd_p50, owd_p99;
	bool have_rtt, have_owd;
};

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void
json_head(FILE *f, const struct probe_session *s, const char *kind)
{
	fputs("{\"schema\":\"metroprobe.capacity.v1\",\"kind\":", f);
	json_str(f, kind);
	fputs(",\"probe\":", f);
	json_str(f, s->port->conf->name);
	fputs(",\"session\":", f);
	json_str(f, s->conf->name);
}

static void
json_ns(FILE *f, const char *key, bool have, uint64_t v)
{
	if (have)
		fprintf(f, ",\"%s\":%" PRIu64, key, v);
	else
		fprintf(f, ",\"%s\":null", key);
}

static void
cap_compute(const struct probe_app *app, const struct probe_session *s,
	    unsigned k, struct cap_result *r)
{
	const struct capacity_run *run = s->cap;
	const struct capacity_step *st = &run->steps[k];
	const struct capacity_conf *cc = &s->conf->cap;
	uint32_t end_seq = k + 1 < run->n_started ?
		run->steps[k + 1].first_seq : s->next_seq;
	uint64_t end_tsc = st->start_tsc + run->step_tsc;
	double frame = s->conf->frame_size;

	memset(r, 0, sizeof(*r));
	r->pct = cc->steps_pct[k];
	r->tx = (uint32_t)(end_seq - st->first_seq);
	r->rx = st->rx_pkts;
	/* an early stop (signal, --run-time) cuts the last step short */
	r->complete = true;
	if (k + 1 == run->n_started && run->last_tsc < end_tsc) {
		end_tsc = run->last_tsc;
		r->complete = false;
	}
	r->secs = (double)(end_tsc - st->start_tsc) / (double)app->tsc_hz;
	if (r->secs <= 0)
		r->secs = 1e-9;
	r->offered_bps = (double)r->tx * frame * 8.0 / r->secs;
	r->offered_l1_bps = (double)r->tx * (frame + CAP_L1_OVERHEAD) * 8.0 /
		r->secs;
	r->rx_bps = (double)r->rx * frame * 8.0 / r->secs;
	r->rx_l1_bps = (double)r->rx * (frame + CAP_L1_OVERHEAD) * 8.0 /
		r->secs;
	r->loss_ratio = r->tx > 0 && r->rx < r->tx ?
		(double)(r->tx - r->rx) / (double)r->tx : 0.0;
	r->pass = r->tx > 0 && r->loss_ratio <= cc->loss_max && r->complete;
	r->have_rtt = !hist_empty(&st->rtt);
	if (r->have_rtt) {
		r->rtt_p50 = hist_quantile(&st->rtt, 0.5);
		r->rtt_p99 = hist_quantile(&st->rtt, 0.99);
	}
	r->have_owd = st->all_synced && !hist_empty(&st->owd_fwd);
	if (r->have_owd) {
		r->owd_p50 = hist_quantile(&st->owd_fwd, 0.5);
		r->owd_p99 = hist_quantile(&st->owd_fwd, 0.99);
	}
}

void
capacity_report(struct probe_app *app, struct probe_session *s)
{
	const struct capacity_conf *cc = &s->conf->cap;
	struct capacity_run *run = s->cap;
	struct cap_result res[PROBE_CAP_MAX_STEPS];
	FILE *f = app->records;
	double fail_pct = INFINITY, max_rx = 0;
	int held = -1, first_fail = -1;
	unsigned n;

	if (run == NULL || run->reported)
		return;
	run->reported = true;
	n = run->n_started;
	for (unsigned k = 0; k < n; k++) {
		cap_compute(app, s, k, &res[k]);
		if (!res[k].pass && res[k].complete && res[k].pct < fail_pct) {
			fail_pct = res[k].pct;
			first_fail = (int)k;
		}
		if (res[k].rx_bps > max_rx)
			max_rx = res[k].rx_bps;
	}
	/* held: a passing step below every failing one (Y.1564 stops at
	 * the first failed step of a ramp) */
	for (unsigned k = 0; k < n; k++)
		if (res[k].pass && res[k].pct < fail_pct &&
		    (held < 0 || res[k].offered_bps > res[held].offered_bps))
			held = (int)k;

	for (unsigned k = 0; k < n; k++) {
		const struct cap_result *r = &res[k];

		json_head(f, s, "step");
		fprintf(f, ",\"step\":%u,\"pct\":%.6g,\"duration_ns\":%" PRIu64
			",\"complete\":%s,\"frame_size\":%u,\"tx_pkts\":%" PRIu64
			",\"rx_pkts\":%" PRIu64 ",\"lost\":%" PRIu64
			",\"loss_ratio\":%.6g,\"offered_bps\":%.1f,"
			"\"offered_l1_bps\":%.1f,\"rx_bps\":%.1f,"
			"\"rx_l1_bps\":%.1f,\"pass\":%s", k, r->pct,
			(uint64_t)llround(r->secs * 1e9),
			r->complete ? "true" : "false", s->conf->frame_size,
			r->tx, r->rx, r->tx > r->rx ? r->tx - r->rx : 0,
			r->loss_ratio, r->offered_bps, r->offered_l1_bps,
			r->rx_bps, r->rx_l1_bps, r->pass ? "true" : "false");
		json_ns(f, "rtt_p50_ns", r->have_rtt, r->rtt_p50);
		json_ns(f, "rtt_p99_ns", r->have_rtt, r->rtt_p99);
		json_ns(f, "owd_fwd_p50_ns", r->have_owd, r->owd_p50);
		json_ns(f, "owd_fwd_p99_ns", r->have_owd, r->owd_p99);
		fputs("}\n", f);
	}
	json_head(f, s, "summary");
	fprintf(f, ",\"cir_bps\":%" PRIu64 ",\"rate_basis\":\"l2_with_fcs\","
		"\"loss_max\":%.6g,\"step_duration_ns\":%" PRIu64
		",\"frame_size\":%u,\"steps\":%u,\"steps_run\":%u,"
		"\"first_failed_step\":", cc->cir_bps, cc->loss_max,
		cc->step_ns, s->conf->frame_size, cc->n_steps, n);
	if (first_fail >= 0)
		fprintf(f, "%d", first_fail);
	else
		fputs("null", f);
	if (held >= 0)
		fprintf(f, ",\"held_step\":%d,\"held_pct\":%.6g,"
			"\"max_held_bps\":%.1f,\"max_held_l1_bps\":%.1f",
			held, res[held].pct, res[held].offered_bps,
			res[held].offered_l1_bps);
	else
		fputs(",\"held_step\":null,\"held_pct\":null,"
		      "\"max_held_bps\":null,\"max_held_l1_bps\":null", f);
	fprintf(f, ",\"max_rx_bps\":%.1f,\"max_rx_l1_bps\":%.1f}\n", max_rx,
		max_rx * (s->conf->frame_size + CAP_L1_OVERHEAD) /
		s->conf->frame_size);
	fflush(f);

	/* the table, for people */
	fprintf(stderr, "metroprobe: capacity session %s: cir %.3f Mbit/s "
		"(L2 with FCS), frames %u octets, loss bound %.3g\n",
		s->conf->name, (double)cc->cir_bps / 1e6, s->conf->frame_size,
		cc->loss_max);
	fprintf(stderr, "  step   %%cir  offered Mb/s  rx L2 Mb/s  rx L1 Mb/s"
		"    loss ratio  rtt p50 us  rtt p99 us  result\n");
	for (unsigned k = 0; k < n; k++) {
		const struct cap_result *r = &res[k];

		fprintf(stderr, "  %4u %6.1f %13.3f %11.3f %11.3f %13.3g "
			"%11.1f %11.1f  %s\n", k, r->pct, r->offered_bps / 1e6,
			r->rx_bps / 1e6, r->rx_l1_bps / 1e6, r->loss_ratio,
			(double)r->rtt_p50 / 1e3, (double)r->rtt_p99 / 1e3,
			!r->complete ? "partial" : r->pass ? "pass" : "FAIL");
	}
	if (held >= 0)
		fprintf(stderr, "  highest rate held within loss %.3g: %.3f "
			"Mbit/s L2 (%.3f L1), step %d (%.6g %% of cir)\n",
			cc->loss_max, res[held].offered_bps / 1e6,
			res[held].offered_l1_bps / 1e6, held, res[held].pct);
	else
		fprintf(stderr, "  no step held within loss %.3g\n",
			cc->loss_max);
}
