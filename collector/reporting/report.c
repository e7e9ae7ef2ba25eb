/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Report requests, and the evaluation of every link of a period from the
 * store: the same code serves `metroprobe-collector report` and
 * GET /api/v1/report.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/mp_time.h"
#include "report.h"
#include "report_render.h"
#include "sla.h"

#define REPORT_DEFAULT_PERIOD_NS  (86400ULL * MP_NS_PER_SEC)
#define REPORT_MAX_PERIOD_NS      (10ULL * 366 * 86400 * MP_NS_PER_SEC)
#define REPORT_MAX_LINKS          4096

const char *
report_content_type(enum report_format f)
{
	switch (f) {
	case REPORT_CSV: return "text/csv; charset=utf-8";
	case REPORT_HTML: return "text/html; charset=utf-8";
	default: return "application/json";
	}
}

int
report_request_parse(struct report_request *req,
		     const char *(*lookup)(const char *key, void *arg),
		     void *arg, char *err, size_t errlen)
{
	const char *from = lookup("from", arg);
	const char *to = lookup("to", arg);
	const char *format = lookup("format", arg);
	const char *probe = lookup("probe", arg);

	memset(req, 0, sizeof(*req));
	req->format = REPORT_JSON;
	if (format != NULL) {
		if (strcmp(format, "json") == 0)
			req->format = REPORT_JSON;
		else if (strcmp(format, "csv") == 0)
			req->format = REPORT_CSV;
		else if (strcmp(format, "html") == 0)
			req->format = REPORT_HTML;
		else
			goto bad_format;
	}
	if (to != NULL) {
		if (mp_time_parse(to, &req->to_ns) < 0) {
			snprintf(err, errlen, "key 'to': '%s' is not a time "
				 "(RFC 3339, Unix ns, now or now-1h)", to);
			return -EINVAL;
		}
	} else {
		req->to_ns = mp_time_now_ns();
	}
	if (from != NULL) {
		if (mp_time_parse(from, &req->from_ns) < 0) {
			snprintf(err, errlen, "key 'from': '%s' is not a time "
				 "(RFC 3339, Unix ns, now or now-1h)", from);
			return -EINVAL;
		}
	} else {
		req->from_ns = req->to_ns > REPORT_DEFAULT_PERIOD_NS ?
			       req->to_ns - REPORT_DEFAULT_PERIOD_NS : 0;
	}
	if (req->from_ns >= req->to_ns) {
		snprintf(err, errlen, "key 'from': must be before 'to'");
		return -EINVAL;
	}
	if (req->to_ns - req->from_ns > REPORT_MAX_PERIOD_NS) {
		snprintf(err, errlen, "key 'from': period longer than 10 years");
		return -EINVAL;
	}
	if (probe != NULL) {
		if (probe[0] == '\0' || strlen(probe) >= RECORD_NAME_MAX) {
			snprintf(err, errlen, "key 'probe': not a probe name");
			return -EINVAL;
		}
		req->probe = probe;
	}
	return 0;
bad_format:
	snprintf(err, errlen, "key 'format': '%s' is not json, csv or html",
		 format);
	return -EINVAL;
}

/* What the first scan learns about one link. */
struct report_link_info {
	char probe[RECORD_NAME_MAX];
	char session[RECORD_NAME_MAX];
	char src[RECORD_ADDR_MAX];
	char dst[RECORD_ADDR_MAX];
	char src_host[RECORD_ADDR_MAX];
	char dst_host[RECORD_ADDR_MAX];
	char peer[RECORD_NAME_MAX];
	uint64_t n_delay, n_synced;
	double max_capacity_bps;
	/* decided between the scans */
	const struct sla_profile *profile;
	bool owd;
	double capacity_bps;
	char capacity_session[RECORD_NAME_MAX];
	/* second scan: evaluated one link at a time */
	struct sla_link_eval *ev;
	bool done;
};

struct report_scan {
	struct report_link_info *links;
	size_t n, cap;
	size_t last;                 /* link of the previous record */
	uint64_t records;
	uint64_t from_ns, to_ns;
	int error;
	struct sla_link_result *results;    /* one per link, same index */
	struct report_link_info *active;    /* link being evaluated */
};

static struct report_link_info *
report_find_link(struct report_scan *sc, const struct interval_record *r,
		 bool create)
{
	size_t i;

	if (sc->last < sc->n &&
	    strcmp(sc->links[sc->last].probe, r->probe) == 0 &&
	    strcmp(sc->links[sc->last].session, r->session) == 0)
		return &sc->links[sc->last];
	for (i = 0; i < sc->n; i++) {
		if (strcmp(sc->links[i].probe, r->probe) == 0 &&
		    strcmp(sc->links[i].session, r->session) == 0) {
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
	memcpy(li->probe, r->probe, sizeof(li->probe));
	memcpy(li->session, r->session, sizeof(li->session));
	memcpy(li->src, r->src, sizeof(li->src));
	memcpy(li->dst, r->dst, sizeof(li->dst));
	li->probe[RECORD_NAME_MAX - 1] = '\0';
	li->session[RECORD_NAME_MAX - 1] = '\0';
	li->src[RECORD_ADDR_MAX - 1] = '\0';
	li->dst[RECORD_ADDR_MAX - 1] = '\0';
	sla_addr_host(li->src, li->src_host, sizeof(li->src_host));
	sla_addr_host(li->dst, li->dst_host, sizeof(li->dst_host));
	sc->last = sc->n++;
	return li;
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

/* Ends a link's evaluation into its result slot. */
static int
report_link_finish(struct report_scan *sc, struct report_link_info *li)
{
	struct sla_link_result *res = &sc->results[li - sc->links];
	int rc;

	if (li->ev == NULL) {
		rc = sla_eval_begin(&li->ev, li->profile, sc->from_ns,
				    sc->to_ns, li->owd, li->capacity_bps);
		if (rc < 0)
			return rc;
	}
	rc = sla_eval_end(li->ev, res);
	li->ev = NULL;
	li->done = true;
	if (rc < 0)
		return rc;
	/* the identity as first seen, even if no record of the link fell
	 * inside the period on the second scan */
	memcpy(res->probe, li->probe, sizeof(res->probe));
	memcpy(res->session, li->session, sizeof(res->session));
	memcpy(res->src, li->src, sizeof(res->src));
	memcpy(res->dst, li->dst, sizeof(res->dst));
	memcpy(res->peer, li->peer, sizeof(res->peer));
	if (li->capacity_session[0] != '\0') {
		res->capacity_from_session = true;
		memcpy(res->capacity_session, li->capacity_session,
		       sizeof(res->capacity_session));
	}
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
report_scan_free(struct report_scan *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++)
		sla_eval_abort(sc->links[i].ev);
	free(sc->links);
}

int
report_data_build(struct store *st, const struct sla_profile_set *set,
		  const struct report_request *req, struct report_data *d,
		  char *err, size_t errlen)
{
	static const uint64_t resolutions[] = {
		STORE_RES_RAW, STORE_RES_MINUTE, STORE_RES_HOUR,
	};
	struct report_scan sc, all;
	size_t i, r;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	memset(&sc, 0, sizeof(sc));
	d->title = req->title != NULL ? req->title : REPORT_DEFAULT_TITLE;
	d->from_ns = req->from_ns;
	d->to_ns = req->to_ns;
	/* to the second: a person reads it */
	d->generated_ns = mp_time_now_ns() / MP_NS_PER_SEC * MP_NS_PER_SEC;
	d->probe_filter = req->probe;
	d->set = set;
	sc.from_ns = req->from_ns;
	sc.to_ns = req->to_ns;

	/* raw records while they are kept, then the rollups */
	for (r = 0; r < sizeof(resolutions) / sizeof(resolutions[0]); r++) {
		rc = report_scan_store(st, req, resolutions[r],
				       report_scan_identity, &sc);
		if (rc < 0)
			goto scan_failed;
		d->resolution_ns = resolutions[r];
		if (sc.records > 0)
			break;
	}
	if (sc.records == 0)
		d->resolution_ns = STORE_RES_RAW;
	if (req->probe != NULL) {
		memset(&all, 0, sizeof(all));
		rc = report_scan_all_probes(st, req, &all);
		if (rc < 0) {
			report_scan_free(&all);
			goto scan_failed;
		}
		report_peer_names(&sc, &all);
		report_scan_free(&all);
	} else {
		report_peer_names(&sc, &sc);
	}

	for (i = 0; i < sc.n; i++) {
		struct report_link_info *li = &sc.links[i];

		li->profile = sla_profile_for_link(set, li->probe, li->session,
						   li->dst, li->peer);
		li->owd = sla_delay_use_owd(li->profile, li->n_synced,
					    li->n_delay);
		li->capacity_bps = report_capacity(&sc, li,
						   li->capacity_session,
						   sizeof(li->capacity_session));
	}
	d->links = calloc(sc.n + 1, sizeof(*d->links));
	if (d->links == NULL) {
		rc = -ENOMEM;
		goto failed;
	}
	sc.results = d->links;
	rc = report_scan_store(st, req, d->resolution_ns, report_scan_eval,
			       &sc);
	if (rc < 0)
		goto scan_failed;
	for (i = 0; i < sc.n; i++) {
		if (!sc.links[i].done) {
			rc = report_link_finish(&sc, &sc.links[i]);
			if (rc < 0)
				goto failed;
		}
	}
	d->n_links = sc.n;
	qsort(d->links, d->n_links, sizeof(*d->links), report_link_cmp);
	for (i = 0; i < d->n_links; i++) {
		const struct sla_link_result *res = &d->links[i];
		size_t v;

		if (res->pass)
			d->n_pass++;
		else
			d->n_fail++;
		d->n_windows += res->n_windows;
		d->n_data += res->n_data;
		for (v = 0; v < res->n_violations; v++)
			if (res->violations[v].metric != SLA_M_NO_DATA)
				d->n_violations++;
	}
	d->coverage_pct = d->n_windows ?
		100.0 * (double)d->n_data / (double)d->n_windows : 0.0;
	report_scan_free(&sc);
	return 0;

scan_failed:
	if (rc == -E2BIG)
		snprintf(err, errlen, "more than %d links in the period",
			 REPORT_MAX_LINKS);
	else if (rc == -EDOM)
		snprintf(err, errlen, "storage returned records out of "
			 "start_ns order");
	else
		snprintf(err, errlen, "reading records from storage failed: %s",
			 strerror(-rc));
	report_scan_free(&sc);
	d->n_links = d->links != NULL ? sc.n : 0;
	report_data_free(d);
	return rc;
failed:
	snprintf(err, errlen, "evaluating the report failed: %s",
		 strerror(-rc));
	report_scan_free(&sc);
	d->n_links = d->links != NULL ? sc.n : 0;
	report_data_free(d);
	return rc;
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

int
report_generate(struct store *st, const struct sla_profile_set *set,
		const struct report_request *req, char **out, size_t *out_len,
		char *err, size_t errlen)
{
	struct report_data d;
	struct rbuf b = { 0 };
	int rc;

	*out = NULL;
	*out_len = 0;
	if (req->from_ns >= req->to_ns) {
		snprintf(err, errlen, "key 'from': must be before 'to'");
		return -EINVAL;
	}
	if (set == NULL) {
		/* no config: the built-in default profile for every link */
		struct sla_profile_set *def;

		rc = sla_profiles_load(NULL, &def, err, errlen);
		if (rc < 0)
			return rc;
		rc = report_generate(st, def, req, out, out_len, err, errlen);
		sla_profiles_free(def);
		return rc;
	}
	rc = report_data_build(st, set, req, &d, err, errlen);
	if (rc < 0)
		return rc;
	switch (req->format) {
	case REPORT_CSV:
		rc = report_render_csv(&d, &b);
		break;
	case REPORT_HTML:
		rc = report_render_html(&d, &b);
		break;
	default:
		rc = report_render_json(&d, &b);
		break;
	}
	report_data_free(&d);
	if (rc == 0 && b.oom)
		rc = -ENOMEM;
	if (rc < 0) {
		free(b.s);
		snprintf(err, errlen, "rendering the report failed: %s",
			 strerror(-rc));
		return rc;
	}
	if (b.s == NULL) {
		b.s = strdup("");
		if (b.s == NULL)
			return -ENOMEM;
	}
	*out = b.s;
	*out_len = b.len;
	return 0;
}
