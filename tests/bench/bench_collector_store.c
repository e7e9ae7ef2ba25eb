/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where the collector's ingest time goes, per record, without HTTP (a
 * benchmark, not a test):
 *
 *   bench_collector_store FILE.ndjson [runs]
 *   bench_collector_store --scan DB FROM_NS TO_NS [minute|hour|raw] [runs]
 *
 * FILE holds interval records, one JSON line each (gen_records). For
 * each of `runs` runs (default 5) it times, per record: the decode and
 * validation every upload pays (record_from_json_dom, the jansson
 * reference; record_from_json, one pass with allocated histograms;
 * record_parse_json, one pass into a reused parser, what the daemon
 * runs), store_codec_encode and
 * store_codec_decode (the stored form), and store_insert_stream of the
 * whole file in bodies of 1000 records into a fresh SQLite store (decode
 * + encode + insert + a durable commit per body: what the daemon does
 * for one POST, minus HTTP). Times are CPU time of the thread, and for
 * the insert also the wall clock (which includes the fsyncs). Prints
 * every run and the median.
 *
 * With --scan it times store_scan of a store (the reads a report makes,
 * without the SLA evaluation): every record of [FROM_NS, TO_NS) at the
 * given resolution, decoded and handed to a callback that only counts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "metroprobe/record.h"
#include "store.h"
#include "store_codec.h"
#include "store_sqlite.h"

#define BODY_RECORDS 1000

/* CPU time of this thread: other processes (the machine is shared, some
 * with real-time priority) do not count; waits for fsync do not either,
 * so the insert is also timed on the wall clock. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		exit(1);
	}
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static int
count_record(const struct interval_record *r, void *arg)
{
	(void)r;
	(*(size_t *)arg)++;
	return 0;
}

static int
bench_scan(int argc, char **argv)
{
	struct store_query q = { .resolution_ns = STORE_RES_MINUTE };
	int runs = argc > 6 ? atoi(argv[6]) : 5, run;
	double *w = calloc((size_t)(runs > 0 ? runs : 1), sizeof(double));
	double *c = calloc((size_t)(runs > 0 ? runs : 1), sizeof(double));
	struct store *st;
	char err[256];
	size_t n = 0;

	if (argc < 5 || runs < 1 || w == NULL || c == NULL) {
		fprintf(stderr, "usage: bench_collector_store --scan DB FROM_NS "
			"TO_NS [minute|hour|raw] [runs]\n");
		return 2;
	}
	q.from_ns = strtoull(argv[3], NULL, 10);
	q.to_ns = strtoull(argv[4], NULL, 10);
	if (argc > 5 && strcmp(argv[5], "hour") == 0)
		q.resolution_ns = STORE_RES_HOUR;
	else if (argc > 5 && strcmp(argv[5], "raw") == 0)
		q.resolution_ns = STORE_RES_RAW;
	if (store_sqlite_open(argv[2], NULL, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (run = 0; run < runs; run++) {
		double t0 = wall_s(), c0 = now_s();

		n = 0;
		if (store_scan(st, &q, count_record, &n) != 0)
			return 1;
		w[run] = wall_s() - t0;
		c[run] = now_s() - c0;
		printf("run %d: %zu records in %.2f s (CPU %.2f s), %.2f us "
		       "per record\n", run + 1, n, w[run], c[run],
		       n > 0 ? c[run] / (double)n * 1e6 : 0.0);
	}
	qsort(w, (size_t)runs, sizeof(double), cmp_double);
	qsort(c, (size_t)runs, sizeof(double), cmp_double);
	printf("median: %.2f s wall, %.2f s CPU for %zu records\n",
	       w[runs / 2], c[runs / 2], n);
	store_close(st);
	free(w);
	free(c);
	return 0;
}

int
main(int argc, char **argv)
{
	enum { T_DOM, T_DECODE, T_PARSE, T_ENCODE, T_BDECODE, T_INSERT,
	       T_INSERT_WALL, T_N };
	static const char *const names[T_N] = {
		"record_from_json_dom (jansson, reference)",
		"record_from_json (one pass)",
		"record_parse_json (one pass, reused)", "store_codec_encode",
		"store_codec_decode (as a scan)", "insert_stream, CPU",
		"insert_stream, wall clock",
	};
	struct auth_token admin;
	size_t len, n_lines = 0, i, stored = 0;
	double *t[T_N];
	char *body, *p;
	int runs = argc > 2 ? atoi(argv[2]) : 5, run, k;

	if (argc > 1 && strcmp(argv[1], "--scan") == 0)
		return bench_scan(argc, argv);
	if (argc < 2 || runs < 1) {
		fprintf(stderr, "usage: bench_collector_store FILE.ndjson "
			"[runs]\n");
		return 2;
	}
	body = read_file(argv[1], &len);
	for (p = body; p < body + len; p++)
		n_lines += *p == '\n';
	memset(&admin, 0, sizeof(admin));
	admin.role = AUTH_ROLE_ADMIN;
	for (k = 0; k < T_N; k++)
		t[k] = calloc((size_t)runs, sizeof(double));

	for (run = 0; run < runs; run++) {
		struct interval_record r;
		struct store_buf enc = { NULL, 0, 0 };
		struct store_hist_slots *slots = store_hist_slots_new();
		struct record_parser *parser = record_parser_new();
		size_t *off = calloc(n_lines + 1, sizeof(size_t));
		char why[256], dir[] = "/tmp/mp-bench-store-XXXXXX", db[64];
		const char *line = body;
		struct store *st;
		double t0, t1;
		size_t n = 0;

		/* decode (JSON) and encode (binary) */
		for (i = 0; i < n_lines; i++) {
			const char *nl = strchr(line, '\n');
			size_t ll = (size_t)(nl - line);
			double a, b, c, d;

			a = now_s();
			if (record_from_json_dom(line, ll, &r, why,
						 sizeof(why)) < 0) {
				fprintf(stderr, "line %zu: %s\n", i + 1, why);
				return 1;
			}
			record_free(&r);
			b = now_s();
			if (record_from_json(line, ll, &r, why, sizeof(why)) < 0)
				return 1;
			record_free(&r);
			c = now_s();
			if (record_parse_json(parser, line, ll, &r, why,
					      sizeof(why)) < 0)
				return 1;
			d = now_s();
			off[n] = enc.len;
			if (store_codec_encode(&enc, &r) < 0)
				return 1;
			t[T_ENCODE][run] += now_s() - d;
			/* The stored form from the bucket lists the parser
			 * kept is the one walking the buckets gives. */
			if (run == 0) {
				struct interval_record w = r;
				size_t at = enc.len;

				w.hist_parsed = 0;
				if (store_codec_encode(&enc, &w) < 0 ||
				    enc.len - at != at - off[n] ||
				    memcmp(enc.data + at, enc.data + off[n],
					   at - off[n]) != 0) {
					fprintf(stderr, "line %zu: stored forms "
						"differ\n", i + 1);
					return 1;
				}
				enc.len = at;
			}
			t[T_DOM][run] += b - a;
			t[T_DECODE][run] += c - b;
			t[T_PARSE][run] += d - c;
			n++;
			record_free(&r);
			line = nl + 1;
		}
		off[n] = enc.len;
		t0 = now_s();
		for (i = 0; i < n; i++) {
			record_init(&r);
			if (store_codec_decode(enc.data + off[i],
					       off[i + 1] - off[i], &r,
					       slots) < 0)
				return 1;
			record_free(&r);
		}
		t[T_BDECODE][run] = now_s() - t0;

		/* the store, body by body */
		if (mkdtemp(dir) == NULL)
			return 1;
		snprintf(db, sizeof(db), "%s/bench.db", dir);
		if (store_sqlite_open(db, NULL, &st, why, sizeof(why)) < 0) {
			fprintf(stderr, "%s\n", why);
			return 1;
		}
		line = body;
		t0 = now_s();
		t1 = wall_s();
		stored = 0;
		while (line < body + len) {
			const char *end = line;
			struct ingest_source src;
			size_t n_new, n_dup;
			unsigned c = 0;

			while (end < body + len && c < BODY_RECORDS) {
				end = strchr(end, '\n') + 1;
				c++;
			}
			ingest_source_init(&src, line, (size_t)(end - line),
					   &admin);
			if (store_insert_stream(st, ingest_next, &src, &n_new,
						&n_dup, why, sizeof(why)) < 0) {
				fprintf(stderr, "insert: %s %s\n", why,
					src.message);
				return 1;
			}
			ingest_source_fini(&src);
			stored += n_new;
			line = end;
		}
		t[T_INSERT][run] = now_s() - t0;
		t[T_INSERT_WALL][run] = wall_s() - t1;
		store_close(st);
		snprintf(why, sizeof(why), "rm -rf '%s'", dir);
		if (system(why) != 0 || stored != n)
			return 1;
		printf("run %d:", run + 1);
		for (k = 0; k < T_N; k++)
			printf(" %s %.2f us%s", names[k],
			       t[k][run] / (double)n * 1e6,
			       k + 1 < T_N ? "," : "\n");
		if (run == 0)
			printf("  (%zu records, %.0f bytes of JSON and %.0f "
			       "bytes stored per record)\n", n,
			       (double)len / (double)n,
			       (double)enc.len / (double)n);
		store_buf_free(&enc);
		free(off);
		free(slots);
		record_parser_free(parser);
	}
	printf("median per record:\n");
	for (k = 0; k < T_N; k++) {
		qsort(t[k], (size_t)runs, sizeof(double), cmp_double);
		printf("  %-40s %8.2f us  (%.0f records/s on one core)\n",
		       names[k], t[k][runs / 2] / (double)n_lines * 1e6,
		       (double)n_lines / t[k][runs / 2]);
		free(t[k]);
	}
	free(body);
	return 0;
}
