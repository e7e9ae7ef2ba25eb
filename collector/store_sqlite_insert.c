/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inserts of the SQLite back-end (store_ops.insert and insert_stream).
 *
 * An insert runs in two phases. Outside the writer lock, every record is
 * checked and encoded (store_codec.h) into one buffer: that is most of
 * the CPU work, and several HTTP threads do it side by side. Under the
 * lock, one transaction inserts the encoded rows and commits (the WAL is
 * synced: synchronous=FULL).
 *
 * A new raw record marks its minute pending for the rollups; consecutive
 * records of one link and minute mark it once, and the link row is
 * updated once per run of records of that link.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "metroprobe/mp_time.h"
#include "metroprobe/record.h"
#include "store_codec.h"
#include "store_sqlite_priv.h"

struct store_row {
	size_t off, len;            /* the encoded record in the buffer */
	int64_t start_ns, interval_ns;
	char probe[RECORD_NAME_MAX];
	char session[RECORD_NAME_MAX];
	char src[RECORD_ADDR_MAX];
	char dst[RECORD_ADDR_MAX];
};

struct store_batch {
	struct store_buf buf;
	struct store_row *rows;
	size_t n, cap;
};

static void
store_batch_free(struct store_batch *b)
{
	store_buf_free(&b->buf);
	free(b->rows);
	memset(b, 0, sizeof(*b));
}

static int
store_batch_add(struct store_batch *b, const struct interval_record *r,
		char *err, size_t errlen)
{
	struct store_row *row;
	size_t off = b->buf.len;

	if (r->start_ns > (uint64_t)INT64_MAX ||
	    r->interval_ns > (uint64_t)INT64_MAX) {
		snprintf(err, errlen, "record %s/%s: start_ns or interval_ns "
			 "out of range", r->probe, r->session);
		return -EINVAL;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap == 0 ? 64 : 2 * b->cap;

		row = realloc(b->rows, cap * sizeof(*row));
		if (row == NULL)
			goto nomem;
		b->rows = row;
		b->cap = cap;
	}
	if (store_codec_encode(&b->buf, r) < 0)
		goto nomem;
	row = &b->rows[b->n++];
	row->off = off;
	row->len = b->buf.len - off;
	row->start_ns = (int64_t)r->start_ns;
	row->interval_ns = (int64_t)r->interval_ns;
	memcpy(row->probe, r->probe, sizeof(row->probe));
	memcpy(row->session, r->session, sizeof(row->session));
	memcpy(row->src, r->src, sizeof(row->src));
	memcpy(row->dst, r->dst, sizeof(row->dst));
	return 0;
nomem:
	snprintf(err, errlen, "out of memory encoding a record");
	return -ENOMEM;
}

/* What a transaction has marked already: consecutive records of one link
 * and minute mark their rollup pending once, and update the link row
 * once with their earliest and latest start. */
struct store_link_acc {
	const struct store_row *first, *last;  /* NULL: nothing pending */
	int64_t marked_minute;
};

static bool
same_link(const struct store_row *a, const struct store_row *b)
{
	return strcmp(a->probe, b->probe) == 0 &&
	       strcmp(a->session, b->session) == 0;
}

static int
store_link_flush(struct store_sqlite *s, struct store_link_acc *acc,
		 char *err, size_t errlen)
{
	const struct store_row *lo = acc->first, *hi = acc->last;

	if (lo == NULL)
		return 0;
	acc->first = NULL;
	acc->last = NULL;
	sqlite3_reset(s->upsert_link);
	sqlite3_bind_text(s->upsert_link, 1, hi->probe, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->upsert_link, 2, hi->session, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->upsert_link, 3, hi->src, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->upsert_link, 4, hi->dst, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->upsert_link, 5, lo->start_ns);
	sqlite3_bind_int64(s->upsert_link, 6, hi->start_ns);
	if (sqlite3_step(s->upsert_link) != SQLITE_DONE)
		return store_sql_fail(s->db, "update link", err, errlen);
	return 0;
}

static int
store_insert_row(struct store_sqlite *s, const struct store_batch *b,
		 const struct store_row *row, int64_t received_ns,
		 struct store_link_acc *acc, bool *fresh, char *err,
		 size_t errlen)
{
	int64_t minute = row->start_ns - row->start_ns %
			 (int64_t)STORE_RES_MINUTE;
	int rc;

	sqlite3_reset(s->ins_raw);
	sqlite3_bind_text(s->ins_raw, 1, row->probe, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->ins_raw, 2, row->session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->ins_raw, 3, row->start_ns);
	sqlite3_bind_int64(s->ins_raw, 4, row->interval_ns);
	sqlite3_bind_int64(s->ins_raw, 5, received_ns);
	sqlite3_bind_blob(s->ins_raw, 6, b->buf.data + row->off,
			  (int)row->len, SQLITE_STATIC);
	rc = sqlite3_step(s->ins_raw);
	if (rc != SQLITE_DONE)
		return store_sql_fail(s->db, "insert interval", err, errlen);
	*fresh = sqlite3_changes(s->db) == 1;
	if (!*fresh)
		return 0;

	if (acc->first != NULL && !same_link(acc->first, row)) {
		rc = store_link_flush(s, acc, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (acc->first == NULL || minute != acc->marked_minute) {
		sqlite3_reset(s->ins_pending);
		sqlite3_bind_int64(s->ins_pending, 1,
				   (int64_t)STORE_RES_MINUTE);
		sqlite3_bind_text(s->ins_pending, 2, row->probe, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s->ins_pending, 3, row->session, -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(s->ins_pending, 4, minute);
		if (sqlite3_step(s->ins_pending) != SQLITE_DONE)
			return store_sql_fail(s->db, "mark rollup pending",
					      err, errlen);
		acc->marked_minute = minute;
	}
	if (acc->first == NULL) {
		acc->first = row;
		acc->last = row;
	} else {
		if (row->start_ns < acc->first->start_ns)
			acc->first = row;
		if (row->start_ns >= acc->last->start_ns)
			acc->last = row;
	}
	return 0;
}

/* Inserts an encoded batch in one transaction, under the writer lock. */
static int
store_commit_batch(struct store_sqlite *s, const struct store_batch *b,
		   size_t *n_new, size_t *n_dup, char *err, size_t errlen)
{
	int64_t received_ns = store_ns_to_sql(mp_time_now_ns());
	struct store_link_acc acc = { NULL, NULL, 0 };
	size_t fresh_n = 0, i;
	bool fresh = false;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = store_sql_exec(s->db, "BEGIN IMMEDIATE", err, errlen);
	for (i = 0; rc == 0 && i < b->n; i++) {
		rc = store_insert_row(s, b, &b->rows[i], received_ns, &acc,
				      &fresh, err, errlen);
		if (rc == 0 && fresh)
			fresh_n++;
	}
	if (rc == 0)
		rc = store_link_flush(s, &acc, err, errlen);
	if (rc == 0)
		rc = store_sql_exec(s->db, "COMMIT", err, errlen);
	if (rc < 0)
		store_sql_rollback(s->db);
	sqlite3_clear_bindings(s->ins_raw);
	pthread_mutex_unlock(&s->lock);
	if (rc == 0) {
		*n_new = fresh_n;
		*n_dup = b->n - fresh_n;
	}
	return rc;
}

int
store_sqlite_insert_stream(struct store *st, store_next_fn next, void *arg,
		     size_t *n_new, size_t *n_dup, char *err, size_t errlen)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	struct store_batch b;
	struct interval_record r;
	int rc;

	*n_new = 0;
	*n_dup = 0;
	memset(&b, 0, sizeof(b));
	for (;;) {
		record_init(&r);
		rc = next(&r, arg);
		if (rc <= 0) {
			record_free(&r);
			if (rc < 0)
				snprintf(err, errlen, "insert aborted by its "
					 "source");
			break;
		}
		rc = store_batch_add(&b, &r, err, errlen);
		record_free(&r);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		rc = store_commit_batch(s, &b, n_new, n_dup, err, errlen);
	store_batch_free(&b);
	return rc;
}

int
store_sqlite_insert(struct store *st, const struct interval_record *recs, size_t n,
	      size_t *n_new, size_t *n_dup, char *err, size_t errlen)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	struct store_batch b;
	size_t i;
	int rc = 0;

	*n_new = 0;
	*n_dup = 0;
	memset(&b, 0, sizeof(b));
	for (i = 0; rc == 0 && i < n; i++)
		rc = store_batch_add(&b, &recs[i], err, errlen);
	if (rc == 0)
		rc = store_commit_batch(s, &b, n_new, n_dup, err, errlen);
	store_batch_free(&b);
	return rc;
}
