/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SQLite back-end of the storage interface (store.h).
 *
 * One writer connection, guarded by a mutex, does inserts and
 * maintenance; every scan, and every reader (one snapshot for many
 * queries: long reports), opens its own read-only connection, so reports
 * and ingest run side by side (WAL: readers never block the writer).
 * synchronous=FULL makes a committed insert durable before the HTTP
 * answer goes out.
 *
 * Records are kept in a compact binary form (store_codec.h; older stores
 * hold the JSON line, and both are read) keyed by UNIQUE(probe, session,
 * start_ns); a new raw record marks its minute pending for the rollups
 * (store_sqlite_rollup.c). A `link` table holds each (probe, session)
 * with its first and last start_ns, so a scan
 * walks links and then one index range per link. Beside each 1-minute
 * rollup, `rollup_minute_figs` keeps its per-minute figures (store.h,
 * schema version 2). Since schema version 3 a record may hold its
 * measurement-quality figures (record.h, struct record_quality).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "metroprobe/mp_time.h"
#include "metroprobe/record.h"
#include "store_codec.h"
#include "store_sqlite_priv.h"

#define STORE_BUSY_TIMEOUT_MS 10000

/* Schema migrations: entry i brings the schema from version i to i + 1.
 * Never edit a released entry; append a new one. */
static const char *const store_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE link ("
	"  probe TEXT NOT NULL, session TEXT NOT NULL,"
	"  src TEXT NOT NULL, dst TEXT NOT NULL,"
	"  first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,"
	"  PRIMARY KEY (probe, session));"
	"CREATE TABLE interval_raw ("
	"  id INTEGER PRIMARY KEY,"
	"  probe TEXT NOT NULL, session TEXT NOT NULL,"
	"  start_ns INTEGER NOT NULL, interval_ns INTEGER NOT NULL,"
	"  received_ns INTEGER NOT NULL, record TEXT NOT NULL,"
	"  UNIQUE (probe, session, start_ns));"
	"CREATE INDEX interval_raw_by_start ON interval_raw (start_ns);"
	"CREATE TABLE rollup_minute ("
	"  id INTEGER PRIMARY KEY,"
	"  probe TEXT NOT NULL, session TEXT NOT NULL,"
	"  start_ns INTEGER NOT NULL, n_records INTEGER NOT NULL,"
	"  record TEXT NOT NULL,"
	"  UNIQUE (probe, session, start_ns));"
	"CREATE INDEX rollup_minute_by_start ON rollup_minute (start_ns);"
	"CREATE TABLE rollup_hour ("
	"  id INTEGER PRIMARY KEY,"
	"  probe TEXT NOT NULL, session TEXT NOT NULL,"
	"  start_ns INTEGER NOT NULL, n_records INTEGER NOT NULL,"
	"  record TEXT NOT NULL,"
	"  UNIQUE (probe, session, start_ns));"
	"CREATE INDEX rollup_hour_by_start ON rollup_hour (start_ns);"
	/* Buckets whose rollup must be (re)built by maintain(). */
	"CREATE TABLE rollup_pending ("
	"  resolution_ns INTEGER NOT NULL,"
	"  probe TEXT NOT NULL, session TEXT NOT NULL,"
	"  start_ns INTEGER NOT NULL,"
	"  PRIMARY KEY (resolution_ns, probe, session, start_ns))"
	"  WITHOUT ROWID;"
	/* Oldest start_ns retention has kept in each table: below it a
	 * bucket's sources may be incomplete. */
	"CREATE TABLE retention_horizon ("
	"  table_name TEXT PRIMARY KEY, horizon_ns INTEGER NOT NULL);",
	/* 1 -> 2: per-minute figures beside the 1-minute rollups (filled
	 * for existing rollups by store_figs_backfill) */
	"CREATE TABLE rollup_minute_figs ("
	"  probe TEXT NOT NULL, session TEXT NOT NULL,"
	"  start_ns INTEGER NOT NULL, figs BLOB NOT NULL,"
	"  PRIMARY KEY (probe, session, start_ns)) WITHOUT ROWID;",
	/* 2 -> 3: records and rollups may hold measurement-quality
	 * figures (stored form flag bit 10, store_codec.h), which a
	 * program of schema 2 reads as malformed rows: it refuses the
	 * store instead. Older rows hold none and read as "not stated" as
	 * they are, so nothing is converted. */
	"SELECT 1;",
};
#define STORE_SCHEMA_VERSION \
	((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

/* Runs a pragma that answers one text row and copies that row. */
static int
sql_pragma_text(sqlite3 *db, const char *sql, char *out, size_t outlen,
		char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = store_sql_prepare(db, sql, &st, err, errlen);

	if (rc < 0)
		return rc;
	out[0] = '\0';
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(out, outlen, "%s", t != NULL ? (const char *)t : "");
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE) {
		rc = store_sql_fail(db, sql, err, errlen);
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	return 0;
}

static int
store_check_failed(const char *path, const char *why, char *err,
		   size_t errlen)
{
	snprintf(err, errlen, "%s: integrity check failed: %s (restore a "
		 "backup or move the file away)", path, why);
	return -EIO;
}

/* One check pragma: "ok" or the first problem it names. */
static int
store_check_pragma(sqlite3 *db, const char *path, const char *sql,
		   char *err, size_t errlen)
{
	char result[256];
	char why[256];

	if (sql_pragma_text(db, sql, result, sizeof(result), why,
			    sizeof(why)) < 0)
		return store_check_failed(path, why, err, errlen);
	if (strcmp(result, "ok") != 0)
		return store_check_failed(path, result, err, errlen);
	return 0;
}

/*
 * The bounded check of a store that was closed cleanly: the file holds
 * every page its header counts (not truncated), and the schema and the
 * small tables (links, pending rollups, horizons, schema version) with
 * their indexes are sound. It reads a few pages, not the whole file.
 */
static int
store_check_bounded(sqlite3 *db, const char *path, off_t size, char *err,
		    size_t errlen)
{
	static const char *const small[] = {
		"schema_version", "link", "rollup_pending", "retention_horizon",
	};
	char sql[128], why[256];
	long long pages, page_size;
	unsigned char hdr[100];
	sqlite3_stmt *st;
	size_t i;
	int rc, fd;

	/* the database header (https://www.sqlite.org/fileformat2.html,
	 * 1.3): page size at offset 16, size in pages at 28, valid when the
	 * "version-valid-for" number at 92 equals the change counter at 24 */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
		snprintf(why, sizeof(why), "cannot read its header: %s",
			 fd < 0 ? strerror(errno) : "short file");
		if (fd >= 0)
			close(fd);
		return store_check_failed(path, why, err, errlen);
	}
	close(fd);
	page_size = (long long)hdr[16] << 8 | hdr[17];
	if (page_size == 1)
		page_size = 65536;
	pages = (long long)hdr[28] << 24 | hdr[29] << 16 | hdr[30] << 8 |
		hdr[31];
	if (memcmp(hdr, "SQLite format 3", 16) == 0 &&
	    memcmp(hdr + 24, hdr + 92, 4) == 0 &&
	    pages * page_size > (long long)size) {
		snprintf(why, sizeof(why), "the file is %lld octets, its "
			 "header counts %lld pages of %lld (truncated)",
			 (long long)size, pages, page_size);
		return store_check_failed(path, why, err, errlen);
	}
	rc = store_check_pragma(db, path, "PRAGMA quick_check(sqlite_schema)",
				err, errlen);
	if (rc < 0)
		return rc;
	for (i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE"
				       " type = 'table' AND name = ?1", -1, &st,
				       NULL) != SQLITE_OK)
			return store_check_failed(path, sqlite3_errmsg(db),
						  err, errlen);
		sqlite3_bind_text(st, 1, small[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW)
			continue;
		snprintf(sql, sizeof(sql), "PRAGMA quick_check(%s)", small[i]);
		rc = store_check_pragma(db, path, sql, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Refuses a damaged file on start rather than answering from it. The
 * full check (PRAGMA quick_check) reads the whole file: a minute or more
 * for a store of several GB. It runs when asked, when the store is small
 * (STORE_CHECK_FULL_BYTES), and when it was not closed cleanly: SQLite
 * removes the WAL file when the last connection closes, so a WAL file
 * found before opening means a crash, a power cut or another process
 * holding the store. Otherwise the bounded check runs.
 */
#define STORE_CHECK_FULL_BYTES (64LL << 20)

static int
store_check_integrity(sqlite3 *db, const char *path, enum store_check mode,
		      bool wal_left, off_t size, char *err, size_t errlen)
{
	const char *env = getenv("METROPROBE_STORE_CHECK");

	if (mode == STORE_CHECK_AUTO && env != NULL) {
		if (strcmp(env, "full") == 0)
			mode = STORE_CHECK_FULL;
		else if (strcmp(env, "bounded") == 0)
			mode = STORE_CHECK_BOUNDED;
	}
	if (mode == STORE_CHECK_AUTO && size < STORE_CHECK_FULL_BYTES)
		mode = STORE_CHECK_FULL;
	if (mode == STORE_CHECK_AUTO || mode == STORE_CHECK_UNCLEAN)
		mode = wal_left ? STORE_CHECK_FULL : STORE_CHECK_BOUNDED;
	if (mode == STORE_CHECK_BOUNDED)
		return store_check_bounded(db, path, size, err, errlen);
	return store_check_pragma(db, path, "PRAGMA quick_check", err, errlen);
}

static int
store_schema_version(sqlite3 *db, int *version, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	rc = store_sql_prepare(db, "SELECT max(version) FROM schema_version", &st,
			 err, errlen);
	if (rc < 0)
		return rc;
	*version = 0;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int
store_migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	int version = 0, rc, v;
	char sql[128];

	rc = store_sql_exec(db, "BEGIN IMMEDIATE", err, errlen);
	if (rc < 0)
		return rc;
	rc = store_sql_exec(db, "CREATE TABLE IF NOT EXISTS schema_version ("
		      " version INTEGER NOT NULL)", err, errlen);
	if (rc == 0)
		rc = store_schema_version(db, &version, err, errlen);
	if (rc < 0)
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: schema version %d is newer than this "
			 "program knows (%d)", path, version,
			 STORE_SCHEMA_VERSION);
		rc = -EPROTO;
		goto fail;
	}
	for (v = version; v < STORE_SCHEMA_VERSION; v++) {
		rc = store_sql_exec(db, store_migrations[v], err, errlen);
		if (rc == 0 && v == 1)
			rc = store_figs_backfill(db, err, errlen);
		if (rc < 0)
			goto fail;
	}
	if (version != STORE_SCHEMA_VERSION) {
		snprintf(sql, sizeof(sql), "DELETE FROM schema_version;"
			 "INSERT INTO schema_version VALUES (%d)",
			 STORE_SCHEMA_VERSION);
		rc = store_sql_exec(db, sql, err, errlen);
		if (rc < 0)
			goto fail;
	}
	return store_sql_exec(db, "COMMIT", err, errlen);
fail:
	store_sql_rollback(db);
	return rc;
}

/* ---- reads ------------------------------------------------------- */

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

/* One read connection in one read transaction (store.h, store_reader). */
struct store_reader {
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
sqlite_reader_close(struct store_reader *rd)
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

static int
sqlite_reader_open(struct store *st, struct store_reader **out)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	struct store_reader *rd = calloc(1, sizeof(*rd));
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
		sqlite_reader_close(rd);
		return rc;
	}
	*out = rd;
	return 0;
}

/*
 * The links of a query into *keys (malloc'd; the caller frees it): the
 * one named when both probe and session are given, else those whose
 * records may fall in the period (width: resolution of the rows read).
 * Each call has its own array, so a callback may query the reader again.
 */
static int
reader_links(struct store_reader *rd, const struct store_query *q,
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
reader_row(struct store_reader *rd, sqlite3_stmt *sel,
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
reader_run(struct store_reader *rd, const struct store_query *q,
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

static int
sqlite_reader_scan(struct store_reader *rd, const struct store_query *q,
		   store_record_fn fn, void *arg)
{
	const char *table = store_table_of(q->resolution_ns);
	struct reader_call c = { READ_RECORDS, false, fn, NULL, NULL, arg };
	unsigned k = q->resolution_ns == STORE_RES_RAW ? 0 :
		     q->resolution_ns == STORE_RES_MINUTE ? 1 : 2;
	char sql[256];

	if (table == NULL)
		return -EINVAL;
	snprintf(sql, sizeof(sql), "SELECT record FROM %s WHERE probe = ?1"
		 " AND session = ?2 AND start_ns >= ?3 AND start_ns < ?4"
		 " ORDER BY start_ns", table);
	return reader_run(rd, q, &rd->sel[k], sql, (int64_t)q->resolution_ns,
			  &c);
}

static int
sqlite_reader_figs(struct store_reader *rd, const struct store_query *q,
		   bool hists, store_figs_fn fn, void *arg)
{
	struct reader_call c = { READ_FIGS, hists, NULL, fn, NULL, arg };

	return reader_run(rd, q, &rd->figs, "SELECT start_ns, figs FROM"
			  " rollup_minute_figs WHERE probe = ?1 AND"
			  " session = ?2 AND start_ns >= ?3 AND start_ns < ?4"
			  " ORDER BY start_ns", (int64_t)STORE_RES_MINUTE, &c);
}

/* Built from the minutes (store_sqlite_rollup.c), an hour rollup is their
 * exact merge until one of them changes, which marks the hour pending, or
 * until retention drops minutes of it (below the minute horizon). */
static int
sqlite_reader_exact_hours(struct store_reader *rd,
			  const struct store_query *q, store_hour_fn fn,
			  void *arg)
{
	struct reader_call c = { READ_HOURS, false, NULL, NULL, fn, arg };

	return reader_run(rd, q, &rd->hours, "SELECT h.start_ns FROM"
			  " rollup_hour h WHERE h.probe = ?1 AND"
			  " h.session = ?2 AND h.start_ns >= ?3 AND"
			  " h.start_ns < ?4 AND h.start_ns >= ?5 AND NOT EXISTS"
			  " (SELECT 1 FROM rollup_pending p WHERE"
			  " p.resolution_ns = ?6 AND p.probe = h.probe AND"
			  " p.session = h.session AND p.start_ns = h.start_ns)"
			  " ORDER BY h.start_ns", (int64_t)STORE_RES_HOUR, &c);
}

static int
sqlite_scan(struct store *st, const struct store_query *q,
	    store_record_fn fn, void *arg)
{
	struct store_reader *rd;
	int rc;

	if (store_table_of(q->resolution_ns) == NULL)
		return -EINVAL;
	if (q->from_ns >= q->to_ns)
		return 0;
	rc = sqlite_reader_open(st, &rd);
	if (rc < 0)
		return rc;
	rc = sqlite_reader_scan(rd, q, fn, arg);
	sqlite_reader_close(rd);
	return rc;
}

static int
sqlite_latest(struct store *st, store_record_fn fn, void *arg)
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

static int
sqlite_stats(struct store *st, struct store_stats *out)
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

static void
sqlite_close(struct store *st)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	size_t i;

	sqlite3_finalize(s->ins_raw);
	sqlite3_finalize(s->ins_pending);
	sqlite3_finalize(s->upsert_link);
	for (i = 0; i < STORE_STMT_CACHE; i++) {
		sqlite3_finalize(s->cache[i].st);
		free(s->cache[i].sql);
	}
	if (s->db != NULL)
		sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s->slots);
	free(s->path);
	free(s);
}

int
store_sqlite_set_synced(struct store *st, bool synced)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = store_sql_exec(s->db, synced ? "PRAGMA synchronous = FULL" :
			    "PRAGMA synchronous = OFF", NULL, 0);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.insert = store_sqlite_insert,
	.scan = sqlite_scan,
	.maintain = store_sqlite_maintain,
	.stats = sqlite_stats,
	.close = sqlite_close,
	.insert_stream = store_sqlite_insert_stream,
	.latest = sqlite_latest,
	.reader_open = sqlite_reader_open,
	.reader_close = sqlite_reader_close,
	.reader_scan = sqlite_reader_scan,
	.reader_figs = sqlite_reader_figs,
	.reader_exact_hours = sqlite_reader_exact_hours,
};

int
store_sqlite_open(const char *path, const struct store_retention *ret,
		  struct store **out, char *err, size_t errlen)
{
	return store_sqlite_open_check(path, ret, STORE_CHECK_AUTO, out, err,
				       errlen);
}

int
store_sqlite_open_check(const char *path, const struct store_retention *ret,
			enum store_check check, struct store **out,
			char *err, size_t errlen)
{
	struct store_sqlite *s;
	struct stat sb;
	char mode[32];
	char why[256];
	bool wal_left;
	off_t size;
	int rc;

	*out = NULL;
	/* before opening: reading a WAL-mode store creates the WAL file */
	snprintf(why, sizeof(why), "%s-wal", path);
	wal_left = stat(why, &sb) == 0;
	size = stat(path, &sb) == 0 ? sb.st_size : 0;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->base.ops = &sqlite_ops;
	pthread_mutex_init(&s->lock, NULL);
	s->slots = store_hist_slots_new();
	if (s->slots == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	if (ret != NULL)
		s->ret = *ret;

	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 s->db != NULL ? sqlite3_errmsg(s->db) :
			 "out of memory");
		rc = -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);

	rc = store_check_integrity(s->db, path, check, wal_left, size, err,
				   errlen);
	if (rc < 0)
		goto fail;
	rc = sql_pragma_text(s->db, "PRAGMA journal_mode = WAL", mode,
			     sizeof(mode), why, sizeof(why));
	if (rc == 0 && strcmp(mode, "wal") != 0) {
		snprintf(why, sizeof(why), "journal mode is '%s', not wal",
			 mode);
		rc = -EIO;
	}
	/* FULL: the WAL is synced at every commit, so an answered insert
	 * survives a power cut. */
	if (rc == 0)
		rc = store_sql_exec(s->db, "PRAGMA synchronous = FULL", why,
			      sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	rc = store_migrate(s->db, path, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	rc = store_sql_prepare(s->db, "INSERT INTO interval_raw (probe, session,"
			 " start_ns, interval_ns, received_ns, record)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
			 " ON CONFLICT (probe, session, start_ns) DO NOTHING",
			 &s->ins_raw, why, sizeof(why));
	if (rc == 0)
		rc = store_sql_prepare(s->db, "INSERT INTO rollup_pending"
				 " (resolution_ns, probe, session, start_ns)"
				 " VALUES (?1, ?2, ?3, ?4) ON CONFLICT"
				 " DO NOTHING", &s->ins_pending, why,
				 sizeof(why));
	if (rc == 0)
		rc = store_sql_prepare(s->db, "INSERT INTO link (probe, session,"
				 " src, dst, first_ns, last_ns)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
				 " ON CONFLICT (probe, session) DO UPDATE SET"
				 " src = CASE WHEN excluded.last_ns >= last_ns"
				 "  THEN excluded.src ELSE src END,"
				 " dst = CASE WHEN excluded.last_ns >= last_ns"
				 "  THEN excluded.dst ELSE dst END,"
				 " first_ns = min(first_ns, excluded.first_ns),"
				 " last_ns = max(last_ns, excluded.last_ns)",
				 &s->upsert_link, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	*out = &s->base;
	return 0;
fail:
	sqlite_close(&s->base);
	return rc;
}
