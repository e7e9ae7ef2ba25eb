/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SQLite back-end of the storage interface (store.h): opening a store
 * (integrity check, schema migrations, the writer's statements), closing
 * it, and its table of operations. Reads are in store_sqlite_read.c,
 * inserts in store_sqlite_insert.c, rollups and retention in
 * store_sqlite_rollup.c.
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
	.insert_stream = store_sqlite_insert_stream,
	.scan = store_sqlite_scan,
	.maintain = store_sqlite_maintain,
	.close = sqlite_close,
	.stats = store_sqlite_stats,
	.latest = store_sqlite_latest,
	.reader_open = store_sqlite_reader_open,
	.reader_close = store_sqlite_reader_close,
	.reader_scan = store_sqlite_reader_scan,
	.reader_figs = store_sqlite_reader_figs,
	.reader_exact_hours = store_sqlite_reader_exact_hours,
};

int
store_sqlite_open(const char *path, const struct store_retention *ret,
		  struct store **out, char *err, size_t errlen)
{
	return store_sqlite_open_check(path, ret, STORE_CHECK_AUTO, out, err,
				       errlen);
}

/* A store_sqlite for path, not open yet; NULL when out of memory. */
static struct store_sqlite *
store_sqlite_new(const char *path, const struct store_retention *ret)
{
	struct store_sqlite *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	if (ret != NULL)
		s->ret = *ret;
	s->slots = store_hist_slots_new();
	if (s->slots == NULL) {
		sqlite_close(&s->base);
		return NULL;
	}
	return s;
}

/* The writer connection, read-write, the file created when missing. */
static int
store_open_writer(struct store_sqlite *s, char *err, size_t errlen)
{
	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open: %s", s->path,
			 s->db != NULL ? sqlite3_errmsg(s->db) :
			 "out of memory");
		return -EIO;
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	return 0;
}

/* WAL, and commits synced: FULL syncs the WAL at every commit, so an
 * answered insert survives a power cut. */
static int
store_set_journal(sqlite3 *db, char *why, size_t whylen)
{
	char mode[32];
	int rc;

	rc = sql_pragma_text(db, "PRAGMA journal_mode = WAL", mode,
			     sizeof(mode), why, whylen);
	if (rc == 0 && strcmp(mode, "wal") != 0) {
		snprintf(why, whylen, "journal mode is '%s', not wal", mode);
		rc = -EIO;
	}
	if (rc == 0)
		rc = store_sql_exec(db, "PRAGMA synchronous = FULL", why,
				    whylen);
	return rc;
}

/* The statements every insert runs, prepared once. */
static int
store_prepare_inserts(struct store_sqlite *s, char *why, size_t whylen)
{
	int rc;

	rc = store_sql_prepare(s->db, "INSERT INTO interval_raw (probe,"
			       " session, start_ns, interval_ns, received_ns,"
			       " record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
			       " ON CONFLICT (probe, session, start_ns)"
			       " DO NOTHING", &s->ins_raw, why, whylen);
	if (rc == 0)
		rc = store_sql_prepare(s->db, "INSERT INTO rollup_pending"
				       " (resolution_ns, probe, session,"
				       " start_ns) VALUES (?1, ?2, ?3, ?4)"
				       " ON CONFLICT DO NOTHING",
				       &s->ins_pending, why, whylen);
	if (rc == 0)
		rc = store_sql_prepare(s->db, "INSERT INTO link (probe,"
				       " session, src, dst, first_ns, last_ns)"
				       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
				       " ON CONFLICT (probe, session) DO UPDATE"
				       " SET src = CASE WHEN excluded.last_ns"
				       " >= last_ns  THEN excluded.src ELSE src"
				       " END, dst = CASE WHEN excluded.last_ns"
				       " >= last_ns  THEN excluded.dst ELSE dst"
				       " END, first_ns = min(first_ns,"
				       " excluded.first_ns), last_ns ="
				       " max(last_ns, excluded.last_ns)",
				       &s->upsert_link, why, whylen);
	return rc;
}

int
store_sqlite_open_check(const char *path, const struct store_retention *ret,
			enum store_check check, struct store **out,
			char *err, size_t errlen)
{
	struct store_sqlite *s;
	struct stat sb;
	char why[256];
	bool wal_left;
	off_t size;
	int rc;

	*out = NULL;
	/* before opening: reading a WAL-mode store creates the WAL file */
	snprintf(why, sizeof(why), "%s-wal", path);
	wal_left = stat(why, &sb) == 0;
	size = stat(path, &sb) == 0 ? sb.st_size : 0;
	s = store_sqlite_new(path, ret);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = store_init(&s->base, &sqlite_ops, err, errlen);
	if (rc == 0)
		rc = store_open_writer(s, err, errlen);
	if (rc == 0)
		rc = store_check_integrity(s->db, path, check, wal_left, size,
					   err, errlen);
	if (rc < 0)
		goto fail;
	rc = store_set_journal(s->db, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	rc = store_migrate(s->db, path, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	rc = store_prepare_inserts(s, why, sizeof(why));
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
