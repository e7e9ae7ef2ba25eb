/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SQLite back-end of the storage interface (store.h).
 *
 * One writer connection, guarded by a mutex, does inserts and
 * maintenance; every scan opens its own read-only connection, so reports
 * and ingest run side by side (WAL: readers never block the writer).
 * synchronous=FULL makes a committed insert durable before the HTTP
 * answer goes out.
 *
 * Records are kept in a compact binary form (store_codec.h; older stores
 * hold the JSON line, and both are read) keyed by UNIQUE(probe, session,
 * start_ns); a new raw record marks its minute pending for the rollups
 * (store_sqlite_rollup.c). A `link` table holds each (probe, session)
 * with its first and last start_ns, so a scan
 * walks links and then one index range per link.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
};
#define STORE_SCHEMA_VERSION \
	((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

int
store_sql_fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	int code = sqlite3_extended_errcode(db);

	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "sqlite: %.100s: %s", what, sqlite3_errmsg(db));
	if ((code & 0xff) == SQLITE_FULL)
		return -ENOSPC;
	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		return -EBUSY;
	if ((code & 0xff) == SQLITE_NOMEM)
		return -ENOMEM;
	return -EIO;
}

int
store_sql_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_sql_fail(db, sql, err, errlen);
	return 0;
}

int
store_sql_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err,
	    size_t errlen)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return store_sql_fail(db, sql, err, errlen);
	return 0;
}

int
store_sql_cached(struct store_sqlite *s, const char *sql, sqlite3_stmt **st,
		 char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < STORE_STMT_CACHE && s->cache[i].sql != NULL; i++) {
		if (strcmp(s->cache[i].sql, sql) == 0) {
			*st = s->cache[i].st;
			sqlite3_reset(*st);
			sqlite3_clear_bindings(*st);
			return 0;
		}
	}
	if (i == STORE_STMT_CACHE) {
		/* a bug: STORE_STMT_CACHE is below the statements in use */
		snprintf(err, errlen, "sqlite: statement cache is full");
		return -ENOSPC;
	}
	rc = store_sql_prepare(s->db, sql, st, err, errlen);
	if (rc < 0)
		return rc;
	s->cache[i].sql = strdup(sql);
	if (s->cache[i].sql == NULL) {
		sqlite3_finalize(*st);
		return -ENOMEM;
	}
	s->cache[i].st = *st;
	return 0;
}

void
store_sql_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

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

/* Refuses a damaged file on start rather than answering from it. */
static int
store_check_integrity(sqlite3 *db, const char *path, char *err,
		      size_t errlen)
{
	char result[256];
	char why[256];
	int rc;

	rc = sql_pragma_text(db, "PRAGMA quick_check", result, sizeof(result),
			     why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "%s: integrity check failed: %s "
			 "(restore a backup or move the file away)", path, why);
		return -EIO;
	}
	if (strcmp(result, "ok") != 0) {
		snprintf(err, errlen, "%s: integrity check failed: %s "
			 "(restore a backup or move the file away)", path,
			 result);
		return -EIO;
	}
	return 0;
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

int
store_decode_column(sqlite3_stmt *st, int col, struct interval_record *r,
		    struct store_hist_slots *slots, char *err, size_t errlen)
{
	int rc;

	if (sqlite3_column_type(st, col) == SQLITE_BLOB) {
		const void *blob = sqlite3_column_blob(st, col);
		int len = sqlite3_column_bytes(st, col);

		rc = store_codec_decode(blob, (size_t)len, r, slots);
		if (rc == -ENOMEM) {
			snprintf(err, errlen, "out of memory");
			return rc;
		}
		if (rc < 0) {
			snprintf(err, errlen, "malformed stored form");
			return -EIO;
		}
		return 0;
	} else {
		/* stores written before the binary form: the JSON line */
		const char *text = (const char *)sqlite3_column_text(st, col);
		int len = sqlite3_column_bytes(st, col);

		if (text == NULL) {
			snprintf(err, errlen, "null");
			return -EIO;
		}
		if (record_from_json(text, (size_t)len, r, err, errlen) < 0)
			return -EIO;
		return 0;
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

static int
sqlite_scan(struct store *st, const struct store_query *q,
	    store_record_fn fn, void *arg)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	const char *table = store_table_of(q->resolution_ns);
	sqlite3_stmt *links = NULL, *sel = NULL;
	struct link_key *keys = NULL;
	size_t n = 0, cap = 0, i;
	int64_t from = store_ns_to_sql(q->from_ns), to = store_ns_to_sql(q->to_ns);
	int64_t width = (int64_t)q->resolution_ns;
	struct store_hist_slots *slots;
	sqlite3 *db;
	char sql[256];
	int rc;

	if (table == NULL)
		return -EINVAL;
	if (from >= to)
		return 0;
	slots = store_hist_slots_new();
	if (slots == NULL)
		return -ENOMEM;
	rc = store_open_reader(s, &db);
	if (rc < 0) {
		free(slots);
		return rc;
	}
	/* One read transaction: the scan sees one snapshot. */
	rc = store_sql_exec(db, "BEGIN", NULL, 0);
	if (rc == 0)
		rc = store_sql_prepare(db, "SELECT probe, session FROM link"
				 " WHERE (?1 IS NULL OR probe = ?1)"
				 " AND (?2 IS NULL OR session = ?2)"
				 " AND last_ns >= ?3 AND first_ns < ?4"
				 " ORDER BY probe, session", &links, NULL, 0);
	if (rc < 0)
		goto out;
	if (q->probe != NULL)
		sqlite3_bind_text(links, 1, q->probe, -1, SQLITE_STATIC);
	if (q->session != NULL)
		sqlite3_bind_text(links, 2, q->session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(links, 3, from);
	/* A rollup starts up to one width before the link's first record. */
	sqlite3_bind_int64(links, 4, to > INT64_MAX - width ? INT64_MAX :
			   to + width);
	while (sqlite3_step(links) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			struct link_key *nk = realloc(keys, ncap * sizeof(*nk));

			if (nk == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			keys = nk;
			cap = ncap;
		}
		snprintf(keys[n].probe, sizeof(keys[n].probe), "%s",
			 (const char *)sqlite3_column_text(links, 0));
		snprintf(keys[n].session, sizeof(keys[n].session), "%s",
			 (const char *)sqlite3_column_text(links, 1));
		n++;
	}

	snprintf(sql, sizeof(sql), "SELECT record FROM %s WHERE probe = ?1"
		 " AND session = ?2 AND start_ns >= ?3 AND start_ns < ?4"
		 " ORDER BY start_ns", table);
	rc = store_sql_prepare(db, sql, &sel, NULL, 0);
	for (i = 0; rc == 0 && i < n; i++) {
		sqlite3_reset(sel);
		sqlite3_bind_text(sel, 1, keys[i].probe, -1, SQLITE_STATIC);
		sqlite3_bind_text(sel, 2, keys[i].session, -1, SQLITE_STATIC);
		sqlite3_bind_int64(sel, 3, from);
		sqlite3_bind_int64(sel, 4, to);
		while (rc == 0) {
			int step = sqlite3_step(sel);

			if (step == SQLITE_DONE)
				break;
			if (step != SQLITE_ROW) {
				rc = store_sql_fail(db, "scan", NULL, 0);
				break;
			}
			rc = store_emit_row(sel, 0, slots, fn, arg);
		}
	}
out:
	if (rc < 0 && sqlite3_errcode(db) != SQLITE_OK &&
	    sqlite3_errcode(db) != SQLITE_ROW &&
	    sqlite3_errcode(db) != SQLITE_DONE)
		fprintf(stderr, "metroprobe-collector: scan of %s: %s\n",
			s->path, sqlite3_errmsg(db));
	sqlite3_finalize(links);
	sqlite3_finalize(sel);
	sqlite3_close(db);
	free(keys);
	free(slots);
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

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.insert = store_sqlite_insert,
	.scan = sqlite_scan,
	.maintain = store_sqlite_maintain,
	.stats = sqlite_stats,
	.close = sqlite_close,
	.insert_stream = store_sqlite_insert_stream,
	.latest = sqlite_latest,
};

int
store_sqlite_open(const char *path, const struct store_retention *ret,
		  struct store **out, char *err, size_t errlen)
{
	struct store_sqlite *s;
	char mode[32];
	char why[256];
	int rc;

	*out = NULL;
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

	rc = store_check_integrity(s->db, path, err, errlen);
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
