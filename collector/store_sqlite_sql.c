/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every file of the SQLite back-end does with SQLite itself: run a
 * statement, keep the writer's statements prepared, turn a failure into
 * an errno and a message, and decode a stored record from a column. It
 * sits below the others (open, reads, inserts, rollups), which call it
 * and never each other for these.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "metroprobe/record.h"
#include "store_codec.h"
#include "store_sqlite_priv.h"

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
