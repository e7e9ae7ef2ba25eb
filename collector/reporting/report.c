/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Report requests, and the evaluation of every link of a period from the
 * store: the same code serves `metroprobe-collector report` and
 * GET /api/v1/report. A first scan finds the links (identity, delay
 * basis, capacity); the second evaluates them, link by link on every
 * core when the store offers readers, from the per-minute figures where
 * the profile allows (below), else record by record.
 */
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metroprobe/mp_time.h"
#include "report.h"
#include "report_render.h"
#include "sla.h"

#define REPORT_DEFAULT_PERIOD_NS  (86400ULL * MP_NS_PER_SEC)
#define REPORT_MAX_PERIOD_NS      (10ULL * 366 * 86400 * MP_NS_PER_SEC)
#define REPORT_MAX_LINKS          4096

/* The formats of a report, indexed by enum report_format: the one place
 * that knows a format's name, its MIME type and its renderer. */
static const struct report_renderer report_renderers[] = {
	[REPORT_JSON] = { "json", "application/json", report_render_json },
	[REPORT_CSV] = { "csv", "text/csv; charset=utf-8", report_render_csv },
	[REPORT_HTML] = { "html", "text/html; charset=utf-8",
			  report_render_html },
};
#define REPORT_N_FORMATS \
	(sizeof(report_renderers) / sizeof(report_renderers[0]))

/* The renderer of a format; JSON's for a value out of the table. */
static const struct report_renderer *
report_renderer_of(enum report_format f)
{
	return (size_t)f < REPORT_N_FORMATS ? &report_renderers[f] :
	       &report_renderers[REPORT_JSON];
}

const char *
report_content_type(enum report_format f)
{
	return report_renderer_of(f)->mime;
}

/* The format named name; -EINVAL with the names there are in err. */
static int
report_format_find(const char *name, enum report_format *out, char *err,
		   size_t errlen)
{
	char names[64] = "";
	size_t i, len = 0;

	for (i = 0; i < REPORT_N_FORMATS; i++) {
		if (strcmp(name, report_renderers[i].name) == 0) {
			*out = (enum report_format)i;
			return 0;
		}
	}
	for (i = 0; i < REPORT_N_FORMATS && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len,
					"%s%s", i == 0 ? "" :
					i + 1 < REPORT_N_FORMATS ? ", " :
					" or ", report_renderers[i].name);
	snprintf(err, errlen, "key 'format': '%s' is not %s", name, names);
	return -EINVAL;
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
	if (format != NULL &&
	    report_format_find(format, &req->format, err, errlen) < 0)
		return -EINVAL;
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
	uint64_t first_ns;          /* of its first record in the period */
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
	/* one snapshot for every read; NULL for the scan of all probes,
	 * which reads the store as it is */
	struct store_reader *rd;
	bool no_figs;               /* every record read (request) */
	unsigned threads;           /* (request) */
	uint64_t n_read_figs, n_read_hours, n_read_records;
};

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

/* ---- the per-minute figures path ----------------------------------
 *
 * With a 1-minute delta-t over 1-minute rollups, a window holds one
 * minute: its verdict comes from the minute's stored figures
 * (store_minute_figs) without decoding a histogram. Histograms are
 * merged only for the chart points and the period, from hour rollups
 * that are the exact merge of their minutes where an hour lies within
 * one chart point, and from the minutes elsewhere. Every figure is the
 * one the record-by-record evaluation gives (tests/report compare the
 * two).
 */

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

/* A range of one link read for its histograms: hour rollups or minutes,
 * for the chart points (added or taken out) or for the period. */
struct report_seg {
	uint64_t from_ns, to_ns;
	uint64_t resolution_ns;
	int sign;                   /* chart: +1 merged, -1 taken out */
	bool chart;                 /* else the period */
};

/* Evaluation of one link by its figures. */
struct report_fast {
	struct sla_link_eval *ev;
	uint64_t from_ns, to_ns;
	uint64_t unit;              /* chart point length, 0: no chart pass */
	uint64_t h0;                /* hour of slot 0 */
	size_t n_slots;             /* hours from h0 */
	uint64_t *mins;             /* bit per minute from h0: has figures */
	uint8_t *exact;             /* per hour: an exact hour rollup */
	int64_t *taken;             /* per hour: chart point reading it */
	struct report_seg *seg;
	size_t n_seg, cap_seg;
	const struct report_seg *cur;       /* the range being read */
	uint64_t n_figs, n_hours, n_records;
};

static int
report_fast_figs(const struct store_minute_figs *f, void *arg)
{
	struct report_fast *fa = arg;
	int rc = sla_eval_add_figs(fa->ev, f);
	uint64_t k;

	fa->n_figs++;
	if (rc == 0 && f->start_ns >= fa->h0) {
		k = (f->start_ns - fa->h0) / STORE_RES_MINUTE;
		if (k < fa->n_slots * 60)
			fa->mins[k / 64] |= 1ULL << (k % 64);
	}
	return rc;
}

static int
report_fast_hour(const char *probe, const char *session, uint64_t start_ns,
		 void *arg)
{
	struct report_fast *fa = arg;

	(void)probe;
	(void)session;
	if (start_ns >= fa->h0 &&
	    (start_ns - fa->h0) / STORE_RES_HOUR < fa->n_slots)
		fa->exact[(start_ns - fa->h0) / STORE_RES_HOUR] = 1;
	return 0;
}

/* Minutes with figures starting in [from, to). */
static unsigned
report_minutes_in(const struct report_fast *fa, uint64_t from, uint64_t to)
{
	uint64_t a, b, k;
	unsigned n = 0;

	if (to <= from || to <= fa->h0)
		return 0;
	from = from < fa->h0 ? fa->h0 : from;
	a = (from - fa->h0 + STORE_RES_MINUTE - 1) / STORE_RES_MINUTE;
	b = (to - fa->h0 + STORE_RES_MINUTE - 1) / STORE_RES_MINUTE;
	if (b > fa->n_slots * 60)
		b = fa->n_slots * 60;
	for (k = a; k < b; k++)
		n += (fa->mins[k / 64] >> (k % 64)) & 1;
	return n;
}

static int
report_fast_hists(const struct interval_record *r, void *arg)
{
	struct report_fast *fa = arg;
	const struct report_seg *sg = fa->cur;
	uint64_t c;

	if (sg->resolution_ns == STORE_RES_HOUR)
		fa->n_hours++;
	else
		fa->n_records++;
	if (!sg->chart)
		return sla_eval_period_add(fa->ev, r);
	/* an hour rollup, and the minutes taken out of it, go to the point
	 * that took the hour; an added minute to its own point */
	if (sg->resolution_ns == STORE_RES_HOUR || sg->sign < 0) {
		int64_t t = fa->taken[(r->start_ns - fa->h0) / STORE_RES_HOUR];

		if (t < 0)
			return -EDOM;
		c = (uint64_t)t;
	} else {
		c = (r->start_ns - fa->from_ns) / fa->unit;
	}
	return sla_eval_chart_add(fa->ev, c, r, sg->sign);
}

/* Appends a range with figures in it, joined to the previous one when
 * they touch. */
static int
report_seg_add(struct report_fast *fa, uint64_t from, uint64_t to,
	       uint64_t resolution, int sign, bool chart)
{
	struct report_seg *last = fa->n_seg ? &fa->seg[fa->n_seg - 1] : NULL;

	if (from >= to)
		return 0;
	if (resolution == STORE_RES_MINUTE &&
	    report_minutes_in(fa, from, to) == 0)
		return 0;
	if (last != NULL && last->resolution_ns == resolution &&
	    last->sign == sign && last->chart == chart &&
	    last->to_ns == from) {
		last->to_ns = to;
		return 0;
	}
	if (fa->n_seg == fa->cap_seg) {
		size_t cap = fa->cap_seg ? fa->cap_seg * 2 : 64;
		struct report_seg *n = realloc(fa->seg, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		fa->seg = n;
		fa->cap_seg = cap;
	}
	fa->seg[fa->n_seg++] = (struct report_seg){
		from, to, resolution, sign, chart,
	};
	return 0;
}

/*
 * The period's histograms: every hour whose minutes all fall in [from,
 * to) and whose hour rollup is exact, as that rollup; the rest as
 * minutes.
 */
static int
report_period_segments(struct report_fast *fa)
{
	uint64_t from = fa->from_ns, to = fa->to_ns, cur = from, h;
	int rc = 0;

	h = from % STORE_RES_HOUR ?
	    from - from % STORE_RES_HOUR + STORE_RES_HOUR : from;
	/* the hour's last minute starts within the period */
	for (; rc == 0 && h + STORE_RES_HOUR - STORE_RES_MINUTE < to;
	     h += STORE_RES_HOUR) {
		if (!fa->exact[(h - fa->h0) / STORE_RES_HOUR])
			continue;
		rc = report_seg_add(fa, cur, h, STORE_RES_MINUTE, 1, false);
		if (rc == 0)
			rc = report_seg_add(fa, h, h + STORE_RES_HOUR,
					    STORE_RES_HOUR, 1, false);
		cur = h + STORE_RES_HOUR;
	}
	if (rc == 0 && cur < to)
		rc = report_seg_add(fa, cur, to, STORE_RES_MINUTE, 1, false);
	return rc;
}

/*
 * Each chart point's histograms, point after point: an hour with an
 * exact rollup and most of its minutes in the point is read as that
 * rollup, its minutes outside the point taken out again; the point's
 * other minutes are read as minutes. A 30-day period on the hour reads
 * one hour rollup per point; "now-30d" one rollup and two minutes.
 */
static int
report_chart_segments(struct report_fast *fa)
{
	uint64_t cs, ce, h, a, b;
	int rc = 0;

	for (cs = fa->from_ns; rc == 0 && cs < fa->to_ns; cs = ce) {
		ce = fa->to_ns - cs <= fa->unit ? fa->to_ns : cs + fa->unit;
		for (h = cs - cs % STORE_RES_HOUR; rc == 0 && h < ce;
		     h += STORE_RES_HOUR) {
			size_t k = (h - fa->h0) / STORE_RES_HOUR;
			unsigned in, out;

			a = h > cs ? h : cs;
			b = h + STORE_RES_HOUR < ce ? h + STORE_RES_HOUR : ce;
			in = report_minutes_in(fa, a, b);
			out = report_minutes_in(fa, h, a) +
			      report_minutes_in(fa, b, h + STORE_RES_HOUR);
			if (in == 0)
				continue;
			/* the bitmap knows the minutes of the period only:
			 * an hour that crosses from or to is read as minutes */
			if (!fa->exact[k] || in <= out || fa->taken[k] >= 0 ||
			    h < fa->from_ns ||
			    h + STORE_RES_HOUR - STORE_RES_MINUTE >= fa->to_ns) {
				rc = report_seg_add(fa, a, b, STORE_RES_MINUTE,
						    1, true);
				continue;
			}
			fa->taken[k] = (int64_t)((cs - fa->from_ns) /
						 fa->unit);
			rc = report_seg_add(fa, h, h + STORE_RES_HOUR,
					    STORE_RES_HOUR, 1, true);
			if (rc == 0)
				rc = report_seg_add(fa, h, a, STORE_RES_MINUTE,
						    -1, true);
			if (rc == 0)
				rc = report_seg_add(fa, b, h + STORE_RES_HOUR,
						    STORE_RES_MINUTE, -1, true);
		}
	}
	return rc;
}

/* Evaluates one link from its figures; -EAGAIN: it needs the records. */
static int
report_eval_fast(struct store *st, struct store_reader *rd,
		 const struct report_scan *sc, struct report_link_info *li,
		 struct report_fast *fa)
{
	struct store_query q = {
		.from_ns = sc->from_ns, .to_ns = sc->to_ns,
		.probe = li->probe, .session = li->session,
		.resolution_ns = STORE_RES_MINUTE,
	};
	size_t i;
	int rc;

	fa->ev = li->ev;
	fa->n_seg = 0;
	memset(fa->mins, 0, (fa->n_slots * 60 + 63) / 64 * sizeof(*fa->mins));
	memset(fa->exact, 0, fa->n_slots);
	for (i = 0; i < fa->n_slots; i++)
		fa->taken[i] = -1;
	rc = sla_eval_use_figs(li->ev);
	if (rc == 0)
		rc = store_reader_figs(st, rd, &q, true, report_fast_figs,
				       fa);
	if (rc == 0)
		rc = store_reader_exact_hours(st, rd, &q, report_fast_hour,
					      fa);
	fa->unit = sla_eval_chart_unit_ns(fa->ev);
	if (rc == 0 && fa->unit != 0)
		rc = report_chart_segments(fa);
	if (rc == 0)
		rc = report_period_segments(fa);
	for (i = 0; rc == 0 && i < fa->n_seg; i++) {
		q.from_ns = fa->seg[i].from_ns;
		q.to_ns = fa->seg[i].to_ns;
		q.resolution_ns = fa->seg[i].resolution_ns;
		fa->cur = &fa->seg[i];
		rc = store_reader_scan(st, rd, &q, report_fast_hists, fa);
	}
	return rc;
}

struct report_slow {
	struct sla_link_eval *ev;
	uint64_t n_records;
};

static int
report_eval_add(const struct interval_record *r, void *arg)
{
	struct report_slow *sl = arg;

	sl->n_records++;
	return sla_eval_add(sl->ev, r);
}

/* Links are evaluated on up to REPORT_MAX_THREADS threads (one per
 * core, or as the request says), each with its own read connection. */
struct report_worker {
	struct store *st;
	struct report_scan *sc;
	unsigned index, count;      /* links index, index + count, ... */
	pthread_t tid;
	bool started;
	bool own_reader;            /* else the report's (this thread) */
	atomic_bool *stop;
	int rc;
	uint64_t n_figs, n_hours, n_records;
};

/* One link, with the figures where its profile allows, else record by
 * record. */
static int
report_eval_link(struct report_worker *w, struct store_reader *rd,
		 struct report_fast *fa, struct report_link_info *li)
{
	struct report_scan *sc = w->sc;
	struct store *st = w->st;
	struct store_query q = {
		.from_ns = sc->from_ns, .to_ns = sc->to_ns,
		.probe = li->probe, .session = li->session,
		.resolution_ns = STORE_RES_MINUTE,
	};
	struct report_slow sl = { NULL, 0 };
	int rc;

	rc = sla_eval_begin(&li->ev, li->profile, sc->from_ns, sc->to_ns,
			    li->owd, li->capacity_bps);
	if (rc < 0)
		return rc;
	if (!sc->no_figs && sla_profile_figs_ok(li->profile)) {
		rc = report_eval_fast(st, rd, sc, li, fa);
		/* figures that do not fit the records (two minutes in a
		 * window, a taken-out minute its hour lacks, an unreadable
		 * figures row) or that the store does not keep: this link
		 * record by record */
		if (rc != -EAGAIN && rc != -EDOM && rc != -EIO &&
		    rc != -ENOTSUP)
			goto done;
		sla_eval_abort(li->ev);
		li->ev = NULL;
		rc = sla_eval_begin(&li->ev, li->profile, sc->from_ns,
				    sc->to_ns, li->owd, li->capacity_bps);
		if (rc < 0)
			return rc;
	}
	sl.ev = li->ev;
	rc = store_reader_scan(st, rd, &q, report_eval_add, &sl);
	w->n_records += sl.n_records;
done:
	if (rc > 0)
		rc = -EIO;
	if (rc == 0)
		rc = report_link_finish(sc, li);
	return rc;
}

static void *
report_worker_run(void *arg)
{
	struct report_worker *w = arg;
	struct report_scan *sc = w->sc;
	struct store_reader *rd = NULL;
	struct report_fast fa;
	size_t i;

	memset(&fa, 0, sizeof(fa));
	fa.from_ns = sc->from_ns;
	fa.to_ns = sc->to_ns;
	fa.h0 = sc->from_ns - sc->from_ns % STORE_RES_HOUR;
	fa.n_slots = (size_t)((sc->to_ns - 1 - fa.h0) / STORE_RES_HOUR) + 1;
	fa.mins = malloc((fa.n_slots * 60 + 63) / 64 * sizeof(*fa.mins));
	fa.exact = malloc(fa.n_slots);
	fa.taken = malloc(fa.n_slots * sizeof(*fa.taken));
	w->rc = fa.mins == NULL || fa.exact == NULL || fa.taken == NULL ?
		-ENOMEM : 0;
	if (w->rc == 0) {
		if (w->own_reader)
			w->rc = store_reader_open(w->st, &rd);
		else
			rd = sc->rd;
	}
	for (i = w->index; w->rc == 0 && i < sc->n; i += w->count) {
		if (atomic_load(w->stop))
			break;
		w->rc = report_eval_link(w, rd, &fa, &sc->links[i]);
		if (w->rc < 0)
			atomic_store(w->stop, true);
	}
	if (rd != sc->rd)
		store_reader_close(w->st, rd);
	w->n_figs = fa.n_figs;
	w->n_hours = fa.n_hours;
	w->n_records += fa.n_records;
	free(fa.mins);
	free(fa.exact);
	free(fa.taken);
	free(fa.seg);
	return NULL;
}

/*
 * Second pass of a 1-minute report with a reader: link by link (each
 * evaluation is independent), spread over the cores. Links on other
 * threads are read through connections of their own, opened right
 * after the report's: a record stored in between may be seen there
 * (as a record stored between the two scans of a report always could).
 */
static int
report_eval_links(struct store *st, struct report_scan *sc)
{
	struct report_worker w[REPORT_MAX_THREADS];
	atomic_bool stop = false;
	long cpus = sc->threads > 0 ? (long)sc->threads :
		    sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = cpus < 1 ? 1 : cpus > REPORT_MAX_THREADS ?
		     REPORT_MAX_THREADS : (unsigned)cpus;
	unsigned i;
	int rc = 0;

	if (n > sc->n)
		n = sc->n > 0 ? (unsigned)sc->n : 1;
	memset(w, 0, sizeof(w));
	for (i = 0; i < n; i++) {
		w[i].st = st;
		w[i].sc = sc;
		w[i].index = i;
		w[i].count = n;
		w[i].stop = &stop;
	}
	/* worker 0 on this thread; a thread that cannot start leaves its
	 * links to a second round here */
	for (i = 1; i < n; i++) {
		w[i].own_reader = true;
		w[i].started = pthread_create(&w[i].tid, NULL,
					      report_worker_run, &w[i]) == 0;
	}
	report_worker_run(&w[0]);
	for (i = 1; i < n; i++) {
		if (w[i].started) {
			pthread_join(w[i].tid, NULL);
		} else {
			w[i].own_reader = false;
			report_worker_run(&w[i]);
		}
	}
	for (i = 0; i < n; i++) {
		if (rc == 0 && w[i].rc < 0)
			rc = w[i].rc;
		sc->n_read_figs += w[i].n_figs;
		sc->n_read_hours += w[i].n_hours;
		sc->n_read_records += w[i].n_records;
	}
	return rc;
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
	rc = report_renderer_of(req->format)->render(&d, &b);
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
