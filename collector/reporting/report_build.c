/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The evaluation of every link of a report's period from the store
 * (report_data_build). A first scan finds the links (identity, delay
 * basis, capacity); the second evaluates them: in record order, or from
 * the 1-minute rollups link by link on every core (report_eval.c).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/mp_time.h"
#include "report.h"
#include "report_build.h"
#include "report_render.h"
#include "sla.h"

#define REPORT_MAX_LINKS          4096

static struct report_link_info *
report_find_link_by(struct report_scan *sc, const char *probe,
		    const char *session, const char *src, const char *dst,
		    uint64_t start_ns, bool create)
{
	size_t i;

	if (sc->last < sc->n &&
	    strcmp(sc->links[sc->last].probe, probe) == 0 &&
	    strcmp(sc->links[sc->last].session, session) == 0)
		return &sc->links[sc->last];
	for (i = 0; i < sc->n; i++) {
		if (strcmp(sc->links[i].probe, probe) == 0 &&
		    strcmp(sc->links[i].session, session) == 0) {
			sc->last = i;
			return &sc->links[i];
		}
	}
	if (!create)
		return NULL;
	if (sc->n == REPORT_MAX_LINKS) {
		sc->error = -E2BIG;
		return NULL;
	}
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 16;
		struct report_link_info *l = realloc(sc->links,
						     cap * sizeof(*l));

		if (l == NULL) {
			sc->error = -ENOMEM;
			return NULL;
		}
		sc->links = l;
		sc->cap = cap;
	}
	struct report_link_info *li = &sc->links[sc->n];

	memset(li, 0, sizeof(*li));
	snprintf(li->probe, sizeof(li->probe), "%s", probe);
	snprintf(li->session, sizeof(li->session), "%s", session);
	snprintf(li->src, sizeof(li->src), "%s", src);
	snprintf(li->dst, sizeof(li->dst), "%s", dst);
	sla_addr_host(li->src, li->src_host, sizeof(li->src_host));
	sla_addr_host(li->dst, li->dst_host, sizeof(li->dst_host));
	li->first_ns = start_ns;
	sc->last = sc->n++;
	return li;
}

static struct report_link_info *
report_find_link(struct report_scan *sc, const struct interval_record *r,
		 bool create)
{
	return report_find_link_by(sc, r->probe, r->session, r->src, r->dst,
				   r->start_ns, create);
}

/* First scan: identities, delay basis, capacity figures. */
static int
report_scan_identity(const struct interval_record *r, void *arg)
{
	struct report_scan *sc = arg;
	struct report_link_info *li;

	if (r->start_ns < sc->from_ns || r->start_ns >= sc->to_ns)
		return 0;
	li = report_find_link(sc, r, true);
	if (li == NULL)
		return sc->error;
	sc->records++;
	if (sla_record_has_delay(r) || sla_record_has_owd(r)) {
		li->n_delay++;
		li->n_synced += sla_record_has_owd(r);
	}
	if (sla_record_capacity_bps(r) > li->max_capacity_bps)
		li->max_capacity_bps = sla_record_capacity_bps(r);
	return 0;
}

/*
 * Second scan: every record into its link's evaluation. Records come
 * ordered by (probe, session, start_ns), so a link is finished as soon
 * as the next one starts: one link's merged histograms in memory at a
 * time.
 */
static int
report_scan_eval(const struct interval_record *r, void *arg)
{
	struct report_scan *sc = arg;
	struct report_link_info *li;
	int rc;

	if (r->start_ns < sc->from_ns || r->start_ns >= sc->to_ns)
		return 0;
	li = report_find_link(sc, r, false);
	if (li == NULL)
		return 0;       /* stored after the first scan: next report */
	sc->n_read_records++;
	if (li->done) {
		sc->error = -EDOM;
		return -EDOM;
	}
	if (sc->active != li) {
		if (sc->active != NULL) {
			rc = report_link_finish(sc, sc->active);
			if (rc < 0) {
				sc->error = rc;
				return rc;
			}
		}
		sc->active = li;
		rc = sla_eval_begin(&li->ev, li->profile, sc->from_ns,
				    sc->to_ns, li->owd, li->capacity_bps);
		if (rc < 0) {
			sc->error = rc;
			return rc;
		}
	}
	rc = sla_eval_add(li->ev, r);
	if (rc < 0)
		sc->error = rc;
	return rc;
}

static int
report_scan_store(struct store *st, const struct report_request *req,
		  uint64_t resolution, store_record_fn fn,
		  struct report_scan *sc)
{
	struct store_query q = {
		.from_ns = req->from_ns,
		.to_ns = req->to_ns,
		.probe = req->probe,
		.session = NULL,
		.resolution_ns = resolution,
	};
	int rc;

	sc->last = 0;
	if (sc->rd != NULL)
		rc = store_reader_scan(st, sc->rd, &q, fn, sc);
	else
		rc = store_scan(st, &q, fn, sc);
	if (sc->error != 0)
		return sc->error;
	return rc < 0 ? rc : (rc > 0 ? -EIO : 0);
}

/* The peer centre: the probe whose own records come from the link's
 * destination address (among the links of `all`); else the destination
 * host. */
static void
report_peer_names(struct report_scan *sc, const struct report_scan *all)
{
	size_t i, j;

	for (i = 0; i < sc->n; i++) {
		struct report_link_info *li = &sc->links[i];

		snprintf(li->peer, sizeof(li->peer), "%s", li->dst_host);
		for (j = 0; j < all->n; j++) {
			if (strcmp(all->links[j].src_host, li->dst_host) == 0 &&
			    strcmp(all->links[j].probe, li->probe) != 0) {
				snprintf(li->peer, sizeof(li->peer), "%s",
					 all->links[j].probe);
				break;
			}
		}
	}
}

/*
 * With a probe filter, the other probes' addresses still name the peers
 * (so a link gets the same profile whatever the filter): one scan of all
 * probes at the coarsest resolution that has records.
 */
static int
report_scan_all_probes(struct store *st, const struct report_request *req,
		       struct report_scan *all)
{
	static const uint64_t resolutions[] = {
		STORE_RES_HOUR, STORE_RES_MINUTE, STORE_RES_RAW,
	};
	struct report_request everyone = *req;
	size_t r;
	int rc;

	everyone.probe = NULL;
	everyone.from_ns = req->from_ns > STORE_RES_HOUR ?
			   req->from_ns - STORE_RES_HOUR : 0;
	all->from_ns = everyone.from_ns;
	all->to_ns = everyone.to_ns;
	for (r = 0; r < sizeof(resolutions) / sizeof(resolutions[0]); r++) {
		rc = report_scan_store(st, &everyone, resolutions[r],
				       report_scan_identity, all);
		if (rc < 0 || all->records > 0)
			return rc;
	}
	return 0;
}

static bool
report_is_capacity_session(const struct sla_profile *p, const char *session)
{
	unsigned i;

	for (i = 0; i < p->capacity_sessions.n; i++)
		if (fnmatch(p->capacity_sessions.name[i], session, 0) == 0)
			return true;
	return false;
}

/*
 * Capacity of a link: the highest one-record throughput (layer 1 when
 * known) of the profile's capacity sessions on the same path (same probe,
 * same destination host); without one, the link's own highest figure.
 */
static double
report_capacity(const struct report_scan *sc,
		const struct report_link_info *li, char *from_session,
		size_t len)
{
	double best = -1.0;
	size_t j;

	from_session[0] = '\0';
	for (j = 0; j < sc->n; j++) {
		const struct report_link_info *o = &sc->links[j];

		if (strcmp(o->probe, li->probe) != 0 ||
		    strcmp(o->dst_host, li->dst_host) != 0 ||
		    !report_is_capacity_session(li->profile, o->session) ||
		    !(o->max_capacity_bps > 0.0))
			continue;
		if (o->max_capacity_bps > best) {
			best = o->max_capacity_bps;
			snprintf(from_session, len, "%s", o->session);
		}
	}
	if (best > 0.0)
		return best;
	return li->max_capacity_bps > 0.0 ? li->max_capacity_bps : -1.0;
}

static int
report_link_cmp(const void *a, const void *b)
{
	const struct sla_link_result *x = a, *y = b;
	int c = strcmp(x->probe, y->probe);

	if (c == 0)
		c = strcmp(x->peer, y->peer);
	if (c == 0)
		c = strcmp(x->session, y->session);
	return c;
}

static void
report_scan_free(struct store *st, struct report_scan *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++)
		sla_eval_abort(sc->links[i].ev);
	free(sc->links);
	store_reader_close(st, sc->rd);
	sc->rd = NULL;
}

/* ---- the first scan from the per-minute figures ------------------
 * (the second pass reads them in report_fast.c) */

/* First scan from the figures: what report_scan_identity reads. */
static int
report_identity_figs(const struct store_minute_figs *f, void *arg)
{
	struct report_scan *sc = arg;
	struct report_link_info *li;
	bool has_owd;
	double cap;

	if (f->start_ns < sc->from_ns || f->start_ns >= sc->to_ns)
		return 0;
	li = report_find_link_by(sc, f->probe, f->session, "", "",
				 f->start_ns, true);
	if (li == NULL)
		return sc->error;
	sc->records++;
	/* sla_record_has_delay, sla_record_has_owd */
	has_owd = f->clock_synced &&
		  (f->h[RECORD_HIST_OWD_FWD].count > 0 ||
		   f->h[RECORD_HIST_OWD_BACK].count > 0);
	if (f->h[RECORD_HIST_RTT].count > 0 || has_owd) {
		li->n_delay++;
		li->n_synced += has_owd;
	}
	/* sla_record_capacity_bps */
	cap = f->throughput_l1_bps > 0.0 ? f->throughput_l1_bps :
					   f->throughput_bps;
	if (cap > li->max_capacity_bps)
		li->max_capacity_bps = cap;
	return 0;
}

/* The addresses of a link: those of its first record in the period. */
static int
report_first_addrs(const struct interval_record *r, void *arg)
{
	struct report_link_info *li = arg;

	snprintf(li->src, sizeof(li->src), "%s", r->src);
	snprintf(li->dst, sizeof(li->dst), "%s", r->dst);
	sla_addr_host(li->src, li->src_host, sizeof(li->src_host));
	sla_addr_host(li->dst, li->dst_host, sizeof(li->dst_host));
	return 1;
}

static int
report_fill_addrs(struct store *st, struct report_scan *sc)
{
	size_t i;
	int rc;

	for (i = 0; i < sc->n; i++) {
		struct report_link_info *li = &sc->links[i];
		struct store_query q = {
			.from_ns = li->first_ns, .to_ns = li->first_ns + 1,
			.probe = li->probe, .session = li->session,
			.resolution_ns = STORE_RES_MINUTE,
		};

		rc = store_reader_scan(st, sc->rd, &q, report_first_addrs, li);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return -EIO;    /* figures without their rollup */
	}
	return 0;
}

/* What the report states before a record is read. */
static void
report_data_begin(struct report_data *d, const struct sla_profile_set *set,
		  const struct report_request *req)
{
	memset(d, 0, sizeof(*d));
	d->title = req->title != NULL ? req->title : REPORT_DEFAULT_TITLE;
	d->from_ns = req->from_ns;
	d->to_ns = req->to_ns;
	/* to the second: a person reads it */
	d->generated_ns = req->generated_ns != 0 ? req->generated_ns :
			  mp_time_now_ns() / MP_NS_PER_SEC * MP_NS_PER_SEC;
	d->probe_filter = req->probe;
	d->set = set;
}

/* Forgets the links a first scan found, to scan again. */
static void
report_scan_restart(struct report_scan *sc)
{
	free(sc->links);
	sc->links = NULL;
	sc->n = 0;
	sc->cap = 0;
	sc->records = 0;
	sc->error = 0;
}

/*
 * First scan of the 1-minute rollups from their per-minute figures,
 * then each link's addresses from its first rollup. Figures that cannot
 * be read, do not fit the rollups, or that the store does not keep:
 * the rollups themselves.
 */
static int
report_scan_identity_figs(struct store *st, const struct report_request *req,
			  struct report_scan *sc)
{
	struct store_query q = {
		.from_ns = req->from_ns, .to_ns = req->to_ns,
		.probe = req->probe, .session = NULL,
		.resolution_ns = STORE_RES_MINUTE,
	};
	int rc;

	sc->last = 0;
	rc = store_reader_figs(st, sc->rd, &q, false, report_identity_figs,
			       sc);
	if (sc->error != 0)
		rc = sc->error;
	if (rc == 0)
		rc = report_fill_addrs(st, sc);
	else if (rc > 0)
		rc = -EIO;
	if (rc == -EIO || rc == -ENOTSUP) {
		report_scan_restart(sc);
		rc = report_scan_store(st, req, STORE_RES_MINUTE,
				       report_scan_identity, sc);
	}
	return rc;
}

/* First scan, at the finest resolution with records in the period (raw
 * records while they are kept, then the rollups) into *resolution. */
static int
report_scan_identities(struct store *st, const struct report_request *req,
		       struct report_scan *sc, uint64_t *resolution)
{
	static const uint64_t resolutions[] = {
		STORE_RES_RAW, STORE_RES_MINUTE, STORE_RES_HOUR,
	};
	size_t r;
	int rc;

	for (r = 0; r < sizeof(resolutions) / sizeof(resolutions[0]); r++) {
		if (!sc->no_figs && resolutions[r] == STORE_RES_MINUTE)
			rc = report_scan_identity_figs(st, req, sc);
		else
			rc = report_scan_store(st, req, resolutions[r],
					       report_scan_identity, sc);
		if (rc < 0)
			return rc;
		*resolution = resolutions[r];
		if (sc->records > 0)
			return 0;
	}
	*resolution = STORE_RES_RAW;
	return 0;
}

/* Each link's peer, from the links of every probe when the request
 * names one (report_scan_all_probes). */
static int
report_name_peers(struct store *st, const struct report_request *req,
		  struct report_scan *sc)
{
	struct report_scan all;
	int rc;

	if (req->probe == NULL) {
		report_peer_names(sc, sc);
		return 0;
	}
	memset(&all, 0, sizeof(all));
	rc = report_scan_all_probes(st, req, &all);
	if (rc == 0)
		report_peer_names(sc, &all);
	report_scan_free(st, &all);
	return rc;
}

/* Between the scans: each link's profile, delay basis and capacity. */
static void
report_links_decide(const struct sla_profile_set *set, struct report_scan *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++) {
		struct report_link_info *li = &sc->links[i];

		li->profile = sla_profile_for_link(set, li->probe, li->session,
						   li->dst, li->peer);
		li->owd = sla_delay_use_owd(li->profile, li->n_synced,
					    li->n_delay);
		li->capacity_bps = report_capacity(sc, li,
						   li->capacity_session,
						   sizeof(li->capacity_session));
	}
}

/* The report's figures over all its links (sorted on the way). */
static void
report_data_summarise(struct report_data *d, const struct report_scan *sc)
{
	size_t i, v;

	d->n_links = sc->n;
	d->n_read_figs = sc->n_read_figs;
	d->n_read_hours = sc->n_read_hours;
	d->n_read_records = sc->n_read_records;
	qsort(d->links, d->n_links, sizeof(*d->links), report_link_cmp);
	for (i = 0; i < d->n_links; i++) {
		const struct sla_link_result *res = &d->links[i];

		if (res->pass)
			d->n_pass++;
		else
			d->n_fail++;
		d->n_windows += res->n_windows;
		d->n_data += res->n_data;
		for (v = 0; v < res->n_violations; v++)
			if (res->violations[v].metric != SLA_M_NO_DATA)
				d->n_violations++;
		d->n_degraded += res->n_degraded;
		d->n_unstated += res->n_unstated;
		d->lost_host_suspect += res->lost_host_suspect;
	}
	d->coverage_pct = d->n_windows ?
		100.0 * (double)d->n_data / (double)d->n_windows : 0.0;
}

void
report_data_free(struct report_data *d)
{
	size_t i;

	for (i = 0; i < d->n_links; i++)
		sla_link_result_free(&d->links[i]);
	free(d->links);
	d->links = NULL;
	d->n_links = 0;
}

/* The message of a failed build (reading the store, or evaluating), and
 * what the build held released. */
static int
report_build_failed(struct store *st, struct report_scan *sc,
		    struct report_data *d, int rc, bool reading, char *err,
		    size_t errlen)
{
	if (!reading)
		snprintf(err, errlen, "evaluating the report failed: %s",
			 strerror(-rc));
	else if (rc == -E2BIG)
		snprintf(err, errlen, "more than %d links in the period",
			 REPORT_MAX_LINKS);
	else if (rc == -EDOM)
		snprintf(err, errlen, "storage returned records out of "
			 "start_ns order");
	else
		snprintf(err, errlen, "reading records from storage failed: %s",
			 strerror(-rc));
	report_scan_free(st, sc);
	d->n_links = d->links != NULL ? sc->n : 0;
	report_data_free(d);
	return rc;
}

int
report_data_build(struct store *st, const struct sla_profile_set *set,
		  const struct report_request *req, struct report_data *d,
		  char *err, size_t errlen)
{
	struct report_scan sc;
	size_t i;
	int rc;

	report_data_begin(d, set, req);
	memset(&sc, 0, sizeof(sc));
	sc.from_ns = req->from_ns;
	sc.to_ns = req->to_ns;
	sc.no_figs = req->no_figs;
	sc.threads = req->threads;
	rc = store_reader_open(st, &sc.rd);
	if (rc == 0)
		rc = report_scan_identities(st, req, &sc, &d->resolution_ns);
	if (rc == 0)
		rc = report_name_peers(st, req, &sc);
	if (rc < 0)
		return report_build_failed(st, &sc, d, rc, true, err, errlen);
	report_links_decide(set, &sc);
	d->links = calloc(sc.n + 1, sizeof(*d->links));
	if (d->links == NULL)
		return report_build_failed(st, &sc, d, -ENOMEM, false, err,
					   errlen);
	sc.results = d->links;
	/* second scan: link by link from the 1-minute rollups, else every
	 * record in order */
	if (d->resolution_ns == STORE_RES_MINUTE)
		rc = report_eval_links(st, &sc);
	else
		rc = report_scan_store(st, req, d->resolution_ns,
				       report_scan_eval, &sc);
	if (rc < 0)
		return report_build_failed(st, &sc, d, rc, true, err, errlen);
	/* links without a record in the period on the second scan */
	for (i = 0; i < sc.n; i++) {
		rc = sc.links[i].done ? 0 : report_link_finish(&sc,
							       &sc.links[i]);
		if (rc < 0)
			return report_build_failed(st, &sc, d, rc, false, err,
						   errlen);
	}
	report_data_summarise(d, &sc);
	report_scan_free(st, &sc);
	return 0;
}
