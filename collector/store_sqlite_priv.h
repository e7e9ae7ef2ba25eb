/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals shared by the SQLite back-end's files: store_sqlite.c (open,
 * schema, the table of operations), store_sqlite_read.c (scans and
 * readers), store_sqlite_insert.c (inserts),
 * store_sqlite_rollup.c (maintain: rollups and retention), and below
 * them all store_sqlite_sql.c (statements, errors, decoding a column).
 */
#ifndef METROPROBE_COLLECTOR_STORE_SQLITE_PRIV_H
#define METROPROBE_COLLECTOR_STORE_SQLITE_PRIV_H

#include <pthread.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store_codec.h"
#include "store_sqlite.h"

#define STORE_STMT_CACHE 16
#define STORE_BUSY_TIMEOUT_MS 10000

struct store_sqlite {
	struct store base;
	pthread_mutex_t lock;       /* serialises the writer connection */
	sqlite3 *db;
	sqlite3_stmt *ins_raw;
	sqlite3_stmt *ins_pending;  /* (resolution_ns, probe, session, start) */
	sqlite3_stmt *upsert_link;
	/* Statements of maintenance, prepared once (store_sql_cached). */
	struct {
		char *sql;
		sqlite3_stmt *st;
	} cache[STORE_STMT_CACHE];
	struct store_hist_slots *slots;   /* maintenance's, under lock */
	struct store_retention ret;
	char *path;
};

/* SQLite keys are signed 64-bit; larger values clamp (year 2262). */
static inline int64_t
store_ns_to_sql(uint64_t ns)
{
	return ns > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)ns;
}

/* Statement helpers (store_sqlite_sql.c). Each returns 0 or a negative
 * errno, with "sqlite: what: why" in err (err may be NULL). */
int store_sql_fail(sqlite3 *db, const char *what, char *err, size_t errlen);
int store_sql_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);
int store_sql_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st,
		      char *err, size_t errlen);
void store_sql_rollback(sqlite3 *db);
/* A statement of the writer connection prepared on first use and kept
 * until close; it comes back reset, with its bindings cleared. */
int store_sql_cached(struct store_sqlite *s, const char *sql,
		     sqlite3_stmt **st, char *err, size_t errlen);

/* Decodes a stored record (binary form or, in older stores, the JSON
 * line) from column col into r (record_init'ed), its histograms in slots
 * when not NULL (store_codec.h). Returns 0, -ENOMEM or
 * -EIO with the reason in err (store_sqlite_sql.c). */
int store_decode_column(sqlite3_stmt *st, int col, struct interval_record *r,
			struct store_hist_slots *slots, char *err,
			size_t errlen);

/* store_ops.scan, latest, stats and the reader_* operations
 * (store_sqlite_read.c). */
int store_sqlite_scan(struct store *st, const struct store_query *q,
		      store_record_fn fn, void *arg);
int store_sqlite_latest(struct store *st, store_record_fn fn, void *arg);
int store_sqlite_stats(struct store *st, struct store_stats *out);
int store_sqlite_reader_open(struct store *st, struct store_reader **out);
void store_sqlite_reader_close(struct store *st, struct store_reader *rd);
int store_sqlite_reader_scan(struct store *st, struct store_reader *rd,
			     const struct store_query *q, store_record_fn fn,
			     void *arg);
int store_sqlite_reader_figs(struct store *st, struct store_reader *rd,
			     const struct store_query *q, bool hists,
			     store_figs_fn fn, void *arg);
int store_sqlite_reader_exact_hours(struct store *st, struct store_reader *rd,
				    const struct store_query *q,
				    store_hour_fn fn, void *arg);

/* store_ops.insert and insert_stream (store_sqlite_insert.c). */
int store_sqlite_insert(struct store *st, const struct interval_record *recs,
			size_t n, size_t *n_new, size_t *n_dup, char *err,
			size_t errlen);
int store_sqlite_insert_stream(struct store *st, store_next_fn next,
			       void *arg, size_t *n_new, size_t *n_dup,
			       char *err, size_t errlen);

/*
 * Per-minute figures of a 1-minute rollup (store.h, struct
 * store_minute_figs) in their stored form (store_figs.c): encode
 * appends to b (0 or -ENOMEM), decode fills f except probe and session
 * (0 or -EINVAL; without hists as store_ops.reader_figs says).
 */
int store_figs_encode(struct store_buf *b, const struct interval_record *r);
int store_figs_decode(const void *blob, size_t len, bool hists,
		      struct store_minute_figs *f);
/* Writes the figures of every 1-minute rollup that has none (schema
 * migration to version 2; store_sqlite_rollup.c). */
int store_figs_backfill(sqlite3 *db, char *err, size_t errlen);

/* store_ops.maintain of the SQLite back-end. */
int store_sqlite_maintain(struct store *st, uint64_t now_ns);

#endif
