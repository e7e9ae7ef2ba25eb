/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Maintenance of the SQLite back-end: rollups and retention.
 *
 * A new raw record marks its minute pending (store_sqlite_insert.c).
 * Here each pending minute that has ended is rebuilt from all raw records
 * in it with record_merge() (histograms merged exactly, percentiles
 * recomputed from the merge, never averaged), which marks its hour
 * pending; pending hours are rebuilt from their minutes. A late record
 * therefore rebuilds its minute and hour, and rebuilding twice gives the
 * same rollup.
 * Retention then deletes what is older than each table's horizon.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/record.h"
#include "store_codec.h"
#include "store_sqlite_priv.h"

/* Writes (or with r NULL, removes) the figures of one 1-minute rollup. */
static int
store_put_figs(struct store_sqlite *s, const char *probe, const char *session,
	       int64_t start, const struct interval_record *r, char *err,
	       size_t errlen)
{
	struct store_buf out = { NULL, 0, 0 };
	sqlite3_stmt *put;
	int rc;

	if (r == NULL) {
		rc = store_sql_cached(s, "DELETE FROM rollup_minute_figs WHERE"
				      " probe = ?1 AND session = ?2 AND"
				      " start_ns = ?3", &put, err, errlen);
	} else {
		if (store_figs_encode(&out, r) < 0) {
			snprintf(err, errlen, "out of memory encoding figures");
			return -ENOMEM;
		}
		rc = store_sql_cached(s, "INSERT INTO rollup_minute_figs (probe,"
				      " session, start_ns, figs) VALUES (?1, ?2,"
				      " ?3, ?4) ON CONFLICT (probe, session,"
				      " start_ns) DO UPDATE SET figs ="
				      " excluded.figs", &put, err, errlen);
		if (rc == 0)
			sqlite3_bind_blob(put, 4, out.data, (int)out.len,
					  SQLITE_STATIC);
	}
	if (rc < 0)
		goto out;
	sqlite3_bind_text(put, 1, probe, -1, SQLITE_STATIC);
	sqlite3_bind_text(put, 2, session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(put, 3, start);
	if (sqlite3_step(put) != SQLITE_DONE)
		rc = store_sql_fail(s->db, "write minute figures", err, errlen);
	sqlite3_reset(put);
	sqlite3_clear_bindings(put);
out:
	store_buf_free(&out);
	return rc;
}

int
store_figs_backfill(sqlite3 *db, char *err, size_t errlen)
{
	struct store_hist_slots *slots = store_hist_slots_new();
	struct store_buf out = { NULL, 0, 0 };
	sqlite3_stmt *sel = NULL, *put = NULL;
	char why[160];
	int rc, step;

	if (slots == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = store_sql_prepare(db, "SELECT m.probe, m.session, m.start_ns,"
			       " m.record FROM rollup_minute m WHERE NOT EXISTS"
			       " (SELECT 1 FROM rollup_minute_figs f WHERE"
			       " f.probe = m.probe AND f.session = m.session"
			       " AND f.start_ns = m.start_ns)", &sel, err,
			       errlen);
	if (rc == 0)
		rc = store_sql_prepare(db, "INSERT INTO rollup_minute_figs"
				       " (probe, session, start_ns, figs)"
				       " VALUES (?1, ?2, ?3, ?4)", &put, err,
				       errlen);
	while (rc == 0 && (step = sqlite3_step(sel)) == SQLITE_ROW) {
		struct interval_record r;

		record_init(&r);
		rc = store_decode_column(sel, 3, &r, slots, why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "1-minute rollup %s/%s at %"
				 PRId64 " is unreadable: %s",
				 (const char *)sqlite3_column_text(sel, 0),
				 (const char *)sqlite3_column_text(sel, 1),
				 (int64_t)sqlite3_column_int64(sel, 2), why);
			break;
		}
		out.len = 0;
		rc = store_figs_encode(&out, &r);
		record_free(&r);
		if (rc < 0) {
			snprintf(err, errlen, "out of memory");
			break;
		}
		sqlite3_reset(put);
		sqlite3_bind_value(put, 1, sqlite3_column_value(sel, 0));
		sqlite3_bind_value(put, 2, sqlite3_column_value(sel, 1));
		sqlite3_bind_int64(put, 3, sqlite3_column_int64(sel, 2));
		sqlite3_bind_blob(put, 4, out.data, (int)out.len,
				  SQLITE_STATIC);
		if (sqlite3_step(put) != SQLITE_DONE)
			rc = store_sql_fail(db, "write minute figures", err,
					    errlen);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_sql_fail(db, "read 1-minute rollups", err, errlen);
	sqlite3_finalize(sel);
	sqlite3_finalize(put);
	store_buf_free(&out);
	free(slots);
	return rc;
}

/* Buckets per transaction: the writer lock is held for one batch, so
 * ingest waits at most that long (a minute of 1-s records: ~60 merges). */
#define STORE_MAINTAIN_BATCH 64

/* A rollup level: which table it reads and which it writes. */
struct rollup_level {
	uint64_t width_ns;
	const char *src_table;
	const char *src_count;      /* SQL expression: raw intervals per row */
	const char *dst_table;
};

static const struct rollup_level rollup_minute = {
	STORE_RES_MINUTE, "interval_raw", "1", "rollup_minute",
};
static const struct rollup_level rollup_hour = {
	STORE_RES_HOUR, "rollup_minute", "n_records", "rollup_hour",
};

/*
 * Rebuilds one bucket of a rollup level from all its source rows. With
 * no source rows left the rollup row is removed.
 */
static int
store_rebuild_bucket(struct store_sqlite *s, const struct rollup_level *lv,
		     const char *probe, const char *session, int64_t start,
		     char *err, size_t errlen)
{
	struct interval_record acc, r;
	struct store_buf out = { NULL, 0, 0 };
	sqlite3_stmt *sel = NULL, *put = NULL;
	int64_t n_records = 0;
	char sql[256];
	char why[160];
	int rc;

	snprintf(sql, sizeof(sql), "SELECT record, %s FROM %s WHERE probe = ?1"
		 " AND session = ?2 AND start_ns >= ?3 AND start_ns < ?4"
		 " ORDER BY start_ns", lv->src_count, lv->src_table);
	rc = store_sql_cached(s, sql, &sel, err, errlen);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(sel, 1, probe, -1, SQLITE_STATIC);
	sqlite3_bind_text(sel, 2, session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(sel, 3, start);
	sqlite3_bind_int64(sel, 4, start + (int64_t)lv->width_ns);

	record_init(&acc);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		record_init(&r);
		rc = store_decode_column(sel, 0, &r, s->slots, why,
					 sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "stored record %s/%s at %" PRId64
				 " in %s is unreadable: %s", probe, session,
				 start, lv->src_table, why);
			goto out;
		}
		rc = record_merge_hists_only(&acc, &r);
		record_free(&r);
		if (rc < 0) {
			snprintf(err, errlen, "out of memory merging records");
			goto out;
		}
		n_records += sqlite3_column_int64(sel, 1);
	}
	if (rc != SQLITE_DONE) {
		rc = store_sql_fail(s->db, "read rollup source", err, errlen);
		goto out;
	}
	sqlite3_reset(sel);

	if (n_records == 0) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE probe = ?1"
			 " AND session = ?2 AND start_ns = ?3", lv->dst_table);
		rc = store_sql_cached(s, sql, &put, err, errlen);
		if (rc < 0)
			goto out;
	} else {
		/* percentiles once, from the merged histograms */
		record_finish_summaries(&acc);
		acc.start_ns = (uint64_t)start;
		acc.interval_ns = lv->width_ns;
		if (store_codec_encode(&out, &acc) < 0) {
			snprintf(err, errlen, "out of memory encoding a rollup");
			rc = -ENOMEM;
			goto out;
		}
		snprintf(sql, sizeof(sql), "INSERT INTO %s (probe, session,"
			 " start_ns, n_records, record) VALUES (?1, ?2, ?3, ?4,"
			 " ?5) ON CONFLICT (probe, session, start_ns) DO UPDATE"
			 " SET n_records = excluded.n_records,"
			 " record = excluded.record", lv->dst_table);
		rc = store_sql_cached(s, sql, &put, err, errlen);
		if (rc < 0)
			goto out;
		sqlite3_bind_int64(put, 4, n_records);
		sqlite3_bind_blob(put, 5, out.data, (int)out.len,
				  SQLITE_STATIC);
	}
	sqlite3_bind_text(put, 1, probe, -1, SQLITE_STATIC);
	sqlite3_bind_text(put, 2, session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(put, 3, start);
	if (sqlite3_step(put) != SQLITE_DONE) {
		rc = store_sql_fail(s->db, "write rollup", err, errlen);
		goto out;
	}
	rc = 0;
	/* the minute's figures, in the same transaction as its rollup */
	if (lv->width_ns == STORE_RES_MINUTE)
		rc = store_put_figs(s, probe, session, start,
				    n_records == 0 ? NULL : &acc, err, errlen);
out:
	record_free(&acc);
	if (sel != NULL)
		sqlite3_reset(sel);
	if (put != NULL) {
		sqlite3_reset(put);
		sqlite3_clear_bindings(put);
	}
	store_buf_free(&out);
	return rc;
}

struct pending_bucket {
	char probe[RECORD_NAME_MAX];
	char session[RECORD_NAME_MAX];
	int64_t start;
};

/*
 * Rebuilds up to STORE_MAINTAIN_BATCH pending buckets of one level in
 * one transaction; *done tells when none are left. A bucket that starts
 * before the horizon retention has already applied to its source, and
 * that has a rollup, is not rebuilt: part of its source is gone, and the
 * rollup already holds what it had. Without a rollup (history loaded
 * late) it is built from what is there.
 */
static bool
store_bucket_exists(struct store_sqlite *s, const struct rollup_level *lv,
		    const struct pending_bucket *b)
{
	sqlite3_stmt *q;
	char sql[160];
	bool found;

	snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE probe = ?1 AND"
		 " session = ?2 AND start_ns = ?3", lv->dst_table);
	if (store_sql_cached(s, sql, &q, NULL, 0) < 0)
		return true;            /* when in doubt, keep the rollup */
	sqlite3_bind_text(q, 1, b->probe, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, b->session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, b->start);
	found = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_reset(q);
	return found;
}

static int
store_roll_batch(struct store_sqlite *s, const struct rollup_level *lv,
		 const struct rollup_level *next, int64_t now, bool *done,
		 char *err, size_t errlen)
{
	int64_t source_horizon = INT64_MIN;
	struct pending_bucket *b;
	sqlite3_stmt *sel = NULL, *del = NULL;
	size_t n = 0, i;
	int rc;

	b = calloc(STORE_MAINTAIN_BATCH, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	rc = store_sql_exec(s->db, "BEGIN IMMEDIATE", err, errlen);
	if (rc < 0)
		goto out;
	rc = store_sql_prepare(s->db, "SELECT horizon_ns FROM retention_horizon"
			 " WHERE table_name = ?1", &sel, err, errlen);
	if (rc < 0)
		goto out;
	sqlite3_bind_text(sel, 1, lv->src_table, -1, SQLITE_STATIC);
	if (sqlite3_step(sel) == SQLITE_ROW)
		source_horizon = sqlite3_column_int64(sel, 0);
	sqlite3_finalize(sel);
	sel = NULL;
	rc = store_sql_prepare(s->db, "SELECT probe, session, start_ns FROM"
			 " rollup_pending WHERE resolution_ns = ?1 AND"
			 " start_ns < ?2 ORDER BY probe, session, start_ns"
			 " LIMIT ?3", &sel,
			 err, errlen);
	if (rc < 0)
		goto out;
	sqlite3_bind_int64(sel, 1, (int64_t)lv->width_ns);
	/* complete buckets only: one still filling would be rebuilt at
	 * every pass (a late record marks its bucket again) */
	sqlite3_bind_int64(sel, 2, now - (int64_t)lv->width_ns + 1);
	sqlite3_bind_int(sel, 3, STORE_MAINTAIN_BATCH);
	while (n < STORE_MAINTAIN_BATCH && sqlite3_step(sel) == SQLITE_ROW) {
		snprintf(b[n].probe, sizeof(b[n].probe), "%s",
			 (const char *)sqlite3_column_text(sel, 0));
		snprintf(b[n].session, sizeof(b[n].session), "%s",
			 (const char *)sqlite3_column_text(sel, 1));
		b[n].start = sqlite3_column_int64(sel, 2);
		n++;
	}
	sqlite3_finalize(sel);
	sel = NULL;
	*done = n < STORE_MAINTAIN_BATCH;

	rc = store_sql_prepare(s->db, "DELETE FROM rollup_pending WHERE"
			 " resolution_ns = ?1 AND probe = ?2 AND session = ?3"
			 " AND start_ns = ?4", &del, err, errlen);
	for (i = 0; rc == 0 && i < n; i++) {
		if (b[i].start >= source_horizon ||
		    !store_bucket_exists(s, lv, &b[i])) {
			rc = store_rebuild_bucket(s, lv, b[i].probe,
						  b[i].session, b[i].start,
						  err, errlen);
			if (rc == 0 && next != NULL) {
				int64_t up = b[i].start -
					b[i].start % (int64_t)next->width_ns;

				sqlite3_reset(s->ins_pending);
				sqlite3_bind_int64(s->ins_pending, 1,
						   (int64_t)next->width_ns);
				sqlite3_bind_text(s->ins_pending, 2,
						  b[i].probe, -1,
						  SQLITE_STATIC);
				sqlite3_bind_text(s->ins_pending, 3,
						  b[i].session, -1,
						  SQLITE_STATIC);
				sqlite3_bind_int64(s->ins_pending, 4, up);
				if (sqlite3_step(s->ins_pending) != SQLITE_DONE)
					rc = store_sql_fail(s->db, "mark rollup "
						      "pending", err, errlen);
			}
		}
		if (rc == 0) {
			sqlite3_reset(del);
			sqlite3_bind_int64(del, 1, (int64_t)lv->width_ns);
			sqlite3_bind_text(del, 2, b[i].probe, -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(del, 3, b[i].session, -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(del, 4, b[i].start);
			if (sqlite3_step(del) != SQLITE_DONE)
				rc = store_sql_fail(s->db, "clear rollup pending",
					      err, errlen);
		}
	}
	sqlite3_finalize(del);
	if (rc == 0)
		rc = store_sql_exec(s->db, "COMMIT", err, errlen);
out:
	if (rc < 0)
		store_sql_rollback(s->db);
	free(b);
	return rc;
}

static int64_t
horizon(int64_t now, uint64_t keep_ns)
{
	if (keep_ns == 0 || (uint64_t)now <= keep_ns)
		return INT64_MIN;       /* keep everything */
	return now - (int64_t)keep_ns;
}

static int
store_apply_retention(struct store_sqlite *s, int64_t now, char *err,
		      size_t errlen)
{
	static const char *const tables[] = {
		"interval_raw", "rollup_minute", "rollup_hour",
	};
	const uint64_t keep[] = {
		s->ret.raw_ns, s->ret.minute_ns, s->ret.hour_ns,
	};
	char sql[128];
	int rc = 0;
	size_t i;

	for (i = 0; rc == 0 && i < 3; i++) {
		int64_t h = horizon(now, keep[i]);
		sqlite3_stmt *del;

		if (h == INT64_MIN)
			continue;
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE start_ns < ?1",
			 tables[i]);
		rc = store_sql_prepare(s->db, sql, &del, err, errlen);
		if (rc < 0)
			break;
		sqlite3_bind_int64(del, 1, h);
		if (sqlite3_step(del) != SQLITE_DONE)
			rc = store_sql_fail(s->db, sql, err, errlen);
		sqlite3_finalize(del);
		if (rc == 0 && i == 1) {
			/* the minutes' figures go with their rollups */
			rc = store_sql_prepare(s->db, "DELETE FROM"
					       " rollup_minute_figs WHERE"
					       " start_ns < ?1", &del, err,
					       errlen);
			if (rc < 0)
				break;
			sqlite3_bind_int64(del, 1, h);
			if (sqlite3_step(del) != SQLITE_DONE)
				rc = store_sql_fail(s->db, "retention of"
						    " figures", err, errlen);
			sqlite3_finalize(del);
		}
		if (rc < 0)
			break;
		rc = store_sql_prepare(s->db, "INSERT INTO retention_horizon"
				 " (table_name, horizon_ns) VALUES (?1, ?2)"
				 " ON CONFLICT (table_name) DO UPDATE SET"
				 " horizon_ns = max(horizon_ns,"
				 " excluded.horizon_ns)", &del, err, errlen);
		if (rc < 0)
			break;
		sqlite3_bind_text(del, 1, tables[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(del, 2, h);
		if (sqlite3_step(del) != SQLITE_DONE)
			rc = store_sql_fail(s->db, "retention horizon", err, errlen);
		sqlite3_finalize(del);
	}
	return rc;
}

int
store_sqlite_maintain(struct store *st, uint64_t now_ns)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	int64_t now = store_ns_to_sql(now_ns);
	char err[256];
	bool done = false;
	int rc = 0;

	/* Minutes first (their hours become pending), then hours. The lock
	 * is dropped between batches so ingest is never held for long. */
	while (rc == 0 && !done) {
		pthread_mutex_lock(&s->lock);
		rc = store_roll_batch(s, &rollup_minute, &rollup_hour, now,
				      &done, err, sizeof(err));
		pthread_mutex_unlock(&s->lock);
	}
	done = false;
	while (rc == 0 && !done) {
		pthread_mutex_lock(&s->lock);
		rc = store_roll_batch(s, &rollup_hour, NULL, now, &done,
				      err, sizeof(err));
		pthread_mutex_unlock(&s->lock);
	}
	if (rc == 0) {
		pthread_mutex_lock(&s->lock);
		rc = store_sql_exec(s->db, "BEGIN IMMEDIATE", err, sizeof(err));
		if (rc == 0)
			rc = store_apply_retention(s, now, err, sizeof(err));
		if (rc == 0)
			rc = store_sql_exec(s->db, "COMMIT", err, sizeof(err));
		if (rc < 0)
			store_sql_rollback(s->db);
		pthread_mutex_unlock(&s->lock);
	}
	if (rc < 0)
		fprintf(stderr, "metroprobe-collector: maintenance of %s "
			"failed: %s\n", s->path, err);
	return rc;
}

