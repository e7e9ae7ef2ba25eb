/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SQLite back-end of the storage interface (store.h): what only a
 * program that picks this back-end needs, its open functions and its
 * knobs. Everything else goes through struct store.
 */
#ifndef METROPROBE_COLLECTOR_STORE_SQLITE_H
#define METROPROBE_COLLECTOR_STORE_SQLITE_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/*
 * The integrity check on open. The full one (PRAGMA quick_check) reads
 * the whole file, a minute or more for a store of several GB; the
 * bounded one checks that the file is not truncated and that the schema
 * and the small tables are sound, in milliseconds.
 */
enum store_check {
	/* full when the store is under 64 MiB or was not closed cleanly
	 * (its WAL file is there before opening), else bounded. The
	 * collector's [collector] store_check key picks this one, FULL or
	 * BOUNDED. */
	STORE_CHECK_AUTO = 0,
	STORE_CHECK_FULL,
	STORE_CHECK_BOUNDED,
	/* full when not closed cleanly, else bounded, whatever the size */
	STORE_CHECK_UNCLEAN,
};

/* Opens (or creates) the store at path: WAL, schema versioned and
 * migrated, the integrity check of <check> first. Returns 0 or a
 * negative errno with a message in err. */
int store_sqlite_open_check(const char *path,
			    const struct store_retention *ret,
			    enum store_check check, struct store **out,
			    char *err, size_t errlen);

/* store_sqlite_open_check with STORE_CHECK_AUTO. */
int store_sqlite_open(const char *path, const struct store_retention *ret,
		      struct store **out, char *err, size_t errlen);

/*
 * Bulk loading (benchmark fixtures, imports of history): with synced
 * false, commits are no longer synced to disk (PRAGMA synchronous = OFF)
 * until it is called again with true; what a crash or power cut
 * interrupts may be lost or damage the file. Returns 0 or -EIO.
 */
int store_sqlite_set_synced(struct store *s, bool synced);

#endif
