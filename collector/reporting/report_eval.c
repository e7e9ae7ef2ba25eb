/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A report's second pass over 1-minute rollups: each link evaluated on
 * its own (from the per-minute figures where its profile allows,
 * report_fast.c, else record by record), the links spread over threads,
 * each with a reader of its own; and the end of a link's evaluation into
 * its result, whichever pass ran it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "report_build.h"
#include "report_fast.h"
#include "sla.h"

/* Ends a link's evaluation into its result slot. */
int
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
		rc = report_fast_eval(st, rd, li->probe, li->session, li->ev,
				      fa);
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

	w->rc = report_fast_init(&fa, sc->from_ns, sc->to_ns);
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
	report_fast_free(&fa);
	return NULL;
}

/*
 * Second pass of a 1-minute report with a reader: link by link (each
 * evaluation is independent), spread over the cores. Links on other
 * threads are read through connections of their own, opened right
 * after the report's: a record stored in between may be seen there
 * (as a record stored between the two scans of a report always could).
 */
int
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
