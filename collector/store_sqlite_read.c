/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reads of the SQLite back-end (store.h): scans, the latest record of
 * each link, statistics, and readers (one read transaction, so one
 * snapshot, for the many queries of a long report).
 *
 * Each opens a read-only connection of its own, so reads never wait for
 * the writer (WAL). A query walks the `link` table (each link with its
 * first and last start_ns) and then one index range per link.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "metroprobe/record.h"
#include "store_codec.h"
#include "store_sqlite_priv.h"

static int
store_open_reader(struct store_sqlite *s, sqlite3 **out)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		fprintf(stderr, "metroprobe-collector: %s: %s\n", s->path,
			db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
	*out = db;
	return 0;
}

static const char *
store_table_of(uint64_t resolution_ns)
{
	switch (resolution_ns) {
	case STORE_RES_RAW:
		return "interval_raw";
	case STORE_RES_MINUTE:
		return "rollup_minute";
	case STORE_RES_HOUR:
		return "rollup_hour";
	default:
		return NULL;
	}
}

/* Decodes the record in column col of a row and hands it to fn. */
static int
store_emit_row(sqlite3_stmt *st, int col, struct store_hist_slots *slots,
	       store_record_fn fn, void *arg)
{
	struct interval_record r;
	char why[160];
	int rc;

	record_init(&r);
	rc = store_decode_column(st, col, &r, slots, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "metroprobe-collector: stored record is "
			"unreadable: %s\n", why);
		return rc;
	}
	rc = fn(&r, arg);
	record_free(&r);
	return rc;
}

struct link_key {
	char probe[RECORD_NAME_MAX];
	char session[RECORD_NAME_MAX];
};

/* One read connection in one read transaction: the SQLite back-end's
 * store_reader (store.h). */
struct sqlite_reader {
	struct store_sqlite *s;
	sqlite3 *db;
	sqlite3_stmt *links;
	sqlite3_stmt *sel[3];           /* raw, minute, hour records */
	sqlite3_stmt *figs;
	sqlite3_stmt *hours;
	int64_t minute_horizon;
	struct store_hist_slots *slots;
};

static void
sqlite_reader_free(struct sqlite_reader *rd)
{
	size_t i;

	if (rd == NULL)
		return;
	sqlite3_finalize(rd->links);
	for (i = 0; i < 3; i++)
		sqlite3_finalize(rd->sel[i]);
	sqlite3_finalize(rd->figs);
	sqlite3_finalize(rd->hours);
	if (rd->db != NULL)
		sqlite3_close(rd->db);
	free(rd->slots);
	free(rd);
}

void
store_sqlite_reader_close(struct store *st, struct store_reader *r)
{
	(void)st;
	sqlite_reader_free((struct sqlite_reader *)r);
}

int
store_sqlite_reader_open(struct store *st, struct store_reader **out)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	struct sqlite_reader *rd = calloc(1, sizeof(*rd));
	sqlite3_stmt *q;
	int rc;

	*out = NULL;
	if (rd == NULL)
		return -ENOMEM;
	rd->s = s;
	rd->minute_horizon = INT64_MIN;
	rd->slots = store_hist_slots_new();
	if (rd->slots == NULL) {
		free(rd);
		return -ENOMEM;
	}
	rc = store_open_reader(s, &rd->db);
	/* One read transaction: every query sees one snapshot. */
	if (rc == 0)
		rc = store_sql_exec(rd->db, "BEGIN", NULL, 0);
	if (rc == 0)
		rc = store_sql_prepare(rd->db, "SELECT horizon_ns FROM"
				       " retention_horizon WHERE table_name ="
				       " 'rollup_minute'", &q, NULL, 0);
	if (rc == 0) {
		if (sqlite3_step(q) == SQLITE_ROW)
			rd->minute_horizon = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	if (rc < 0) {
		sqlite_reader_free(rd);
		return rc;
	}
	*out = (struct store_reader *)rd;
	return 0;
}

/*
 * The links of a query into *keys (malloc'd; the caller frees it): the
 * one named when both probe and session are given, else those whose
 * records may fall in the period (width: resolution of the rows read).
 * Each call has its own array, so a callback may query the reader again.
 */
static int
reader_links(struct sqlite_reader *rd, const struct store_query *q,
	     int64_t width, struct link_key **keys, size_t *n_out)
{
	int64_t from = store_ns_to_sql(q->from_ns), to = store_ns_to_sql(q->to_ns);
	struct link_key *k = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, step;

	*n_out = 0;
	*keys = NULL;
	if (q->probe != NULL && q->session != NULL) {
		k = malloc(sizeof(*k));
		if (k == NULL)
			return -ENOMEM;
		snprintf(k->probe, sizeof(k->probe), "%s", q->probe);
		snprintf(k->session, sizeof(k->session), "%s", q->session);
		*keys = k;
		*n_out = 1;
		return 0;
	}
	if (rd->links == NULL)
		rc = store_sql_prepare(rd->db, "SELECT probe, session FROM link"
				       " WHERE (?1 IS NULL OR probe = ?1)"
				       " AND (?2 IS NULL OR session = ?2)"
				       " AND last_ns >= ?3 AND first_ns < ?4"
				       " ORDER BY probe, session", &rd->links,
				       NULL, 0);
	if (rc < 0)
		return rc;
	sqlite3_reset(rd->links);
	sqlite3_clear_bindings(rd->links);
	if (q->probe != NULL)
		sqlite3_bind_text(rd->links, 1, q->probe, -1, SQLITE_STATIC);
	if (q->session != NULL)
		sqlite3_bind_text(rd->links, 2, q->session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(rd->links, 3, from);
	/* A rollup starts up to one width before the link's first record. */
	sqlite3_bind_int64(rd->links, 4, to > INT64_MAX - width ? INT64_MAX :
			   to + width);
	while ((step = sqlite3_step(rd->links)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			struct link_key *nk = realloc(k, ncap * sizeof(*nk));

			if (nk == NULL) {
				rc = -ENOMEM;
				break;
			}
			k = nk;
			cap = ncap;
		}
		snprintf(k[n].probe, sizeof(k[n].probe), "%s",
			 (const char *)sqlite3_column_text(rd->links, 0));
		snprintf(k[n].session, sizeof(k[n].session), "%s",
			 (const char *)sqlite3_column_text(rd->links, 1));
		n++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_sql_fail(rd->db, "links", NULL, 0);
	sqlite3_reset(rd->links);
	if (rc < 0) {
		free(k);
		return rc;
	}
	*keys = k;
	*n_out = n;
	return 0;
}

/* What a per-link query of a reader does with its rows. */
enum reader_kind {
	READ_RECORDS,
	READ_FIGS,
	READ_HOURS,
};

struct reader_call {
	enum reader_kind kind;
	bool hists;
	store_record_fn rec_fn;
	store_figs_fn figs_fn;
	store_hour_fn hour_fn;
	void *arg;
};

static int
reader_row(struct sqlite_reader *rd, sqlite3_stmt *sel,
	   const struct link_key *key, const struct reader_call *c)
{
	struct store_minute_figs f;
	int rc;

	switch (c->kind) {
	case READ_RECORDS:
		return store_emit_row(sel, 0, rd->slots, c->rec_fn, c->arg);
	case READ_FIGS:
		if (store_figs_decode(sqlite3_column_blob(sel, 1),
				      (size_t)sqlite3_column_bytes(sel, 1),
				      c->hists, &f) < 0) {
			fprintf(stderr, "metroprobe-collector: stored minute "
				"figures of %s/%s are unreadable\n",
				key->probe, key->session);
			return -EIO;
		}
		f.probe = key->probe;
		f.session = key->session;
		f.start_ns = (uint64_t)sqlite3_column_int64(sel, 0);
		return c->figs_fn(&f, c->arg);
	default:
		rc = c->hour_fn(key->probe, key->session,
				(uint64_t)sqlite3_column_int64(sel, 0), c->arg);
		return rc;
	}
}

static int
reader_run(struct sqlite_reader *rd, const struct store_query *q,
	   sqlite3_stmt **sel, const char *sql, int64_t width,
	   const struct reader_call *c)
{
	int64_t from = store_ns_to_sql(q->from_ns), to = store_ns_to_sql(q->to_ns);
	struct link_key *keys;
	size_t n, i;
	int rc;

	if (from >= to)
		return 0;
	rc = reader_links(rd, q, width, &keys, &n);
	if (rc == 0 && *sel == NULL)
		rc = store_sql_prepare(rd->db, sql, sel, NULL, 0);
	for (i = 0; rc == 0 && i < n; i++) {
		sqlite3_reset(*sel);
		sqlite3_bind_text(*sel, 1, keys[i].probe, -1, SQLITE_STATIC);
		sqlite3_bind_text(*sel, 2, keys[i].session, -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(*sel, 3, from);
		sqlite3_bind_int64(*sel, 4, to);
		if (c->kind == READ_HOURS) {
			sqlite3_bind_int64(*sel, 5, rd->minute_horizon);
			sqlite3_bind_int64(*sel, 6, (int64_t)STORE_RES_HOUR);
		}
		while (rc == 0) {
			int step = sqlite3_step(*sel);

			if (step == SQLITE_DONE)
				break;
			if (step != SQLITE_ROW) {
				rc = store_sql_fail(rd->db, "scan", NULL, 0);
				break;
			}
			rc = reader_row(rd, *sel, &keys[i], c);
		}
	}
	if (*sel != NULL)
		sqlite3_reset(*sel);
	free(keys);
	if (rc < 0 && sqlite3_errcode(rd->db) != SQLITE_OK &&
	    sqlite3_errcode(rd->db) != SQLITE_ROW &&
	    sqlite3_errcode(rd->db) != SQLITE_DONE)
		fprintf(stderr, "metroprobe-collector: scan of %s: %s\n",
			rd->s->path, sqlite3_errmsg(rd->db));
	return rc;
}

int
store_sqlite_reader_scan(struct store *st, struct store_reader *r,
			 const struct store_query *q, store_record_fn fn,
			 void *arg)
{
	struct sqlite_reader *rd = (struct sqlite_reader *)r;
	const char *table = store_table_of(q->resolution_ns);
	struct reader_call c = { READ_RECORDS, false, fn, NULL, NULL, arg };
	unsigned k = q->resolution_ns == STORE_RES_RAW ? 0 :
		     q->resolution_ns == STORE_RES_MINUTE ? 1 : 2;
	char sql[256];

	(void)st;
	if (table == NULL)
		return -EINVAL;
	snprintf(sql, sizeof(sql), "SELECT record FROM %s WHERE probe = ?1"
		 " AND session = ?2 AND start_ns >= ?3 AND start_ns < ?4"
		 " ORDER BY start_ns", table);
	return reader_run(rd, q, &rd->sel[k], sql, (int64_t)q->resolution_ns,
			  &c);
}

int
store_sqlite_reader_figs(struct store *st, struct store_reader *r,
			 const struct store_query *q, bool hists,
			 store_figs_fn fn, void *arg)
{
	struct sqlite_reader *rd = (struct sqlite_reader *)r;
	struct reader_call c = { READ_FIGS, hists, NULL, fn, NULL, arg };

	(void)st;
	return reader_run(rd, q, &rd->figs, "SELECT start_ns, figs FROM"
			  " rollup_minute_figs WHERE probe = ?1 AND"
			  " session = ?2 AND start_ns >= ?3 AND start_ns < ?4"
			  " ORDER BY start_ns", (int64_t)STORE_RES_MINUTE, &c);
}

/* Built from the minutes (store_sqlite_rollup.c), an hour rollup is their
 * exact merge until one of them changes, which marks the hour pending, or
 * until retention drops minutes of it (below the minute horizon). */
int
store_sqlite_reader_exact_hours(struct store *st, struct store_reader *r,
				const struct store_query *q, store_hour_fn fn,
				void *arg)
{
	struct sqlite_reader *rd = (struct sqlite_reader *)r;
	struct reader_call c = { READ_HOURS, false, NULL, NULL, fn, arg };

	(void)st;
	return reader_run(rd, q, &rd->hours, "SELECT h.start_ns FROM"
			  " rollup_hour h WHERE h.probe = ?1 AND"
			  " h.session = ?2 AND h.start_ns >= ?3 AND"
			  " h.start_ns < ?4 AND h.start_ns >= ?5 AND NOT EXISTS"
			  " (SELECT 1 FROM rollup_pending p WHERE"
			  " p.resolution_ns = ?6 AND p.probe = h.probe AND"
			  " p.session = h.session AND p.start_ns = h.start_ns)"
			  " ORDER BY h.start_ns", (int64_t)STORE_RES_HOUR, &c);
}

int
store_sqlite_scan(struct store *st, const struct store_query *q,
		  store_record_fn fn, void *arg)
{
	struct store_reader *rd;
	int rc;

	if (store_table_of(q->resolution_ns) == NULL)
		return -EINVAL;
	if (q->from_ns >= q->to_ns)
		return 0;
	rc = store_sqlite_reader_open(st, &rd);
	if (rc < 0)
		return rc;
	rc = store_sqlite_reader_scan(st, rd, q, fn, arg);
	store_sqlite_reader_close(st, rd);
	return rc;
}

int
store_sqlite_latest(struct store *st, store_record_fn fn, void *arg)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *sel = NULL;
	struct store_hist_slots *slots = store_hist_slots_new();
	sqlite3 *db;
	int rc;

	if (slots == NULL)
		return -ENOMEM;
	rc = store_open_reader(s, &db);
	if (rc < 0) {
		free(slots);
		return rc;
	}
	rc = store_sql_prepare(db, "SELECT r.record FROM link l JOIN interval_raw r"
			 " ON r.probe = l.probe AND r.session = l.session"
			 " AND r.start_ns = l.last_ns"
			 " ORDER BY l.probe, l.session", &sel, NULL, 0);
	while (rc == 0) {
		int step = sqlite3_step(sel);

		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = store_sql_fail(db, "latest", NULL, 0);
			break;
		}
		rc = store_emit_row(sel, 0, slots, fn, arg);
	}
	sqlite3_finalize(sel);
	sqlite3_close(db);
	free(slots);
	return rc;
}

int
store_sqlite_stats(struct store *st, struct store_stats *out)
{
	static const char *const sql[] = {
		"SELECT count(*) FROM interval_raw",
		"SELECT count(*) FROM rollup_minute",
		"SELECT count(*) FROM rollup_hour",
		"SELECT page_count * page_size FROM pragma_page_count(),"
		" pragma_page_size()",
	};
	struct store_sqlite *s = (struct store_sqlite *)st;
	uint64_t v[4] = { 0, 0, 0, 0 };
	char wal[4096];
	struct stat sb;
	sqlite3 *db;
	size_t i;
	int rc;

	rc = store_open_reader(s, &db);
	if (rc < 0)
		return rc;
	store_sql_exec(db, "BEGIN", NULL, 0);
	for (i = 0; rc == 0 && i < 4; i++) {
		sqlite3_stmt *q;

		rc = store_sql_prepare(db, sql[i], &q, NULL, 0);
		if (rc < 0)
			break;
		if (sqlite3_step(q) == SQLITE_ROW)
			v[i] = (uint64_t)sqlite3_column_int64(q, 0);
		else
			rc = store_sql_fail(db, sql[i], NULL, 0);
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	if (rc < 0)
		return rc;
	snprintf(wal, sizeof(wal), "%s-wal", s->path);
	if (stat(wal, &sb) == 0)
		v[3] += (uint64_t)sb.st_size;
	out->raw_records = v[0];
	out->minute_records = v[1];
	out->hour_records = v[2];
	out->bytes = v[3];
	return 0;
}
