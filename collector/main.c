/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metroprobe-collector: the daemon that receives interval records from
 * probes (serve), and the tools that read what it stored (report,
 * export), maintain it (maintain) and make token hashes (hash-token).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clog.h"
#include "collector_config.h"
#include "http.h"
#include "metrics.h"
#include "metroprobe/mp_time.h"
#include "report.h"
#include "store.h"
#include "store_sqlite.h"

#define EXIT_USAGE 2

static const char usage_text[] =
"Usage:\n"
"  metroprobe-collector serve --config FILE [--port-file FILE]\n"
"      Run the collector: HTTP ingest, reports and /metrics.\n"
"      Stops cleanly on SIGTERM or SIGINT.\n"
"  metroprobe-collector report --config FILE --from T --to T\n"
"                       [--format json|csv|html] [--probe NAME] [-o FILE]\n"
"      Write the SLA report for [from, to) (the same as GET /api/v1/report).\n"
"      T: RFC 3339 (2026-11-25T00:00:00Z), Unix ns, or now, now-1h, now-30d.\n"
"  metroprobe-collector export --config FILE [--from T] [--to T]\n"
"                       [--resolution raw|minute|hour] [--probe NAME]\n"
"                       [--session NAME]\n"
"      Print stored records (or rollups) as newline-delimited JSON.\n"
"  metroprobe-collector maintain --config FILE [--now T]\n"
"      Build pending rollups and apply retention once (the daemon does\n"
"      this every maintain_interval).\n"
"  metroprobe-collector hash-token\n"
"      Read a token on stdin, print its SHA-256 for a [token.NAME] section.\n"
"  metroprobe-collector --help\n"
"\n"
"Config (INI):\n"
"  [collector]\n"
"  listen = 127.0.0.1            numeric IPv4 or IPv6 address\n"
"  port = 8080                   0: any free port (see port_file)\n"
"  port_file = FILE              write the bound port here once listening\n"
"  database = metroprobe.db      SQLite file (WAL)\n"
"  store_check = auto            integrity check on start: full, bounded,\n"
"                                or auto (full when small or not closed\n"
"                                cleanly)\n"
"  max_body_bytes = 16777216     larger uploads get 413\n"
"  connection_timeout = 10s      idle connections are closed\n"
"  max_connections = 256\n"
"  max_connections_per_ip = 32\n"
"  threads = 4                   HTTP worker threads\n"
"  maintain_interval = 60s       rollups and retention\n"
"  retention_raw = 7d            raw interval records\n"
"  retention_minute = 90d        1-minute rollups\n"
"  retention_hour = 1095d        1-hour rollups\n"
"  report_threads = 0            threads a report evaluates links on,\n"
"                                1 to 4; 0: one per core, up to 4\n"
"  [token.NAME]\n"
"  sha256 = HEX                  from 'metroprobe-collector hash-token'\n"
"  role = probe|reader|admin\n"
"  probe = NAME                  role probe only: the probe it may write\n"
"  [sla.NAME]                    SLA profiles (see the README)\n";

static void
usage(FILE *f)
{
	fputs(usage_text, f);
}

static int
die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "metroprobe-collector: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'metroprobe-collector --help'.\n");
	return EXIT_USAGE;
}

/* Options shared by the subcommands; each uses what it needs. */
struct cli {
	const char *config;
	const char *port_file;
	const char *from, *to, *format, *probe, *session, *output, *now;
	const char *resolution;
};

static int
parse_cli(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'F' },
		{ "probe", required_argument, NULL, 'p' },
		{ "session", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "now", required_argument, NULL, 'n' },
		{ "resolution", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(cli, 0, sizeof(*cli));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cli->config = optarg; break;
		case 'P': cli->port_file = optarg; break;
		case 'f': cli->from = optarg; break;
		case 't': cli->to = optarg; break;
		case 'F': cli->format = optarg; break;
		case 'p': cli->probe = optarg; break;
		case 's': cli->session = optarg; break;
		case 'o': cli->output = optarg; break;
		case 'n': cli->now = optarg; break;
		case 'r': cli->resolution = optarg; break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "metroprobe-collector: unexpected argument "
			"'%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (cli->config == NULL) {
		fprintf(stderr, "metroprobe-collector: --config FILE is "
			"required\n");
		return -EINVAL;
	}
	return 0;
}

static int
load_config(const struct cli *cli, struct collector_config *cc)
{
	char err[512];

	if (collector_config_load(cli->config, cc, err, sizeof(err)) < 0) {
		fprintf(stderr, "metroprobe-collector: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

static int
open_store(const struct collector_config *cc, struct store **st)
{
	char err[512];

	if (store_sqlite_open_check(cc->database, &cc->retention,
				    cc->store_check, st, err,
				    sizeof(err)) < 0) {
		fprintf(stderr, "metroprobe-collector: %s\n", err);
		return -EIO;
	}
	return 0;
}

/* ---- serve ------------------------------------------------------- */

static int
seed_gauges(const struct interval_record *r, void *arg)
{
	return metrics_link_update(arg, r);
}

static int
write_port_file(const char *path, uint16_t port)
{
	char tmp[4096];
	FILE *f;

	/* Written whole then renamed: a reader never sees half a number. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -errno;
	return 0;
}

static int
cmd_serve(const struct cli *cli)
{
	struct collector_config cc;
	struct sla_profile_set *sla = NULL;
	struct http_server *http = NULL;
	struct metrics *metrics = NULL;
	struct store *st = NULL;
	const char *port_file;
	struct timespec wait;
	sigset_t stop_set;
	char err[512];
	int sig, rc = 1;

	if (load_config(cli, &cc) < 0)
		return EXIT_USAGE;
	if (sla_profiles_load(cc.cfg, &sla, err, sizeof(err)) < 0) {
		fprintf(stderr, "metroprobe-collector: %s\n", err);
		collector_config_free(&cc);
		return EXIT_USAGE;
	}
	if (cc.auth.n == 0)
		collector_log("warning: no [token.*] section: every upload and report "
		     "request will be refused (401)");

	/* Signals are taken synchronously by this thread only; the HTTP
	 * threads started below inherit the mask. */
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (open_store(&cc, &st) < 0)
		goto out;
	metrics = metrics_new();
	if (metrics == NULL)
		goto out;
	if (store_latest(st, seed_gauges, metrics) < 0)
		collector_log("warning: could not read the latest intervals for "
		     "/metrics");
	if (http_start(&cc, st, metrics, sla, &http, err, sizeof(err)) < 0) {
		collector_log("%s", err);
		goto out;
	}
	collector_log("listening on %s port %u, database %s", cc.listen,
	     http_port(http), cc.database);
	port_file = cli->port_file != NULL ? cli->port_file : cc.port_file;
	if (port_file != NULL && write_port_file(port_file,
						 http_port(http)) < 0) {
		collector_log("cannot write the port file %s: %s", port_file,
		     strerror(errno));
		goto out;
	}

	wait.tv_sec = (time_t)(cc.maintain_interval_ns / MP_NS_PER_SEC);
	wait.tv_nsec = (long)(cc.maintain_interval_ns % MP_NS_PER_SEC);
	for (;;) {
		sig = sigtimedwait(&stop_set, NULL, &wait);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig < 0 && errno == EAGAIN)
			store_maintain(st, mp_time_now_ns());
	}
	collector_log("%s: shutting down", strsignal(sig));
	rc = 0;
out:
	http_stop(http);       /* in-flight requests finish first */
	store_close(st);
	metrics_free(metrics);
	sla_profiles_free(sla);
	collector_config_free(&cc);
	if (rc == 0)
		collector_log("stopped");
	return rc;
}

/* ---- report ------------------------------------------------------ */

static const char *
cli_lookup(const char *key, void *arg)
{
	const struct cli *cli = arg;

	if (strcmp(key, "from") == 0)
		return cli->from;
	if (strcmp(key, "to") == 0)
		return cli->to;
	if (strcmp(key, "format") == 0)
		return cli->format;
	if (strcmp(key, "probe") == 0)
		return cli->probe;
	return NULL;
}

static int
write_all(const char *path, const char *buf, size_t len)
{
	FILE *f = path != NULL ? fopen(path, "w") : stdout;

	if (f == NULL) {
		fprintf(stderr, "metroprobe-collector: %s: %s\n", path,
			strerror(errno));
		return -errno;
	}
	if (fwrite(buf, 1, len, f) != len || (path != NULL ? fclose(f) :
					      fflush(f)) != 0) {
		fprintf(stderr, "metroprobe-collector: %s: write failed: %s\n",
			path != NULL ? path : "stdout", strerror(errno));
		return -EIO;
	}
	return 0;
}

static int
cmd_report(const struct cli *cli)
{
	struct collector_config cc;
	struct sla_profile_set *sla = NULL;
	struct report_request req;
	struct store *st = NULL;
	char *out = NULL;
	size_t out_len = 0;
	char err[512];
	int rc = 1;

	if (load_config(cli, &cc) < 0)
		return EXIT_USAGE;
	memset(&req, 0, sizeof(req));
	if (sla_profiles_load(cc.cfg, &sla, err, sizeof(err)) < 0 ||
	    report_request_parse(&req, cli_lookup, (void *)cli, err,
				 sizeof(err)) < 0) {
		fprintf(stderr, "metroprobe-collector: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	req.threads = cc.report_threads;
	if (open_store(&cc, &st) < 0)
		goto out;
	if (report_generate(st, sla, &req, &out, &out_len, err,
			    sizeof(err)) < 0) {
		fprintf(stderr, "metroprobe-collector: report: %s\n", err);
		goto out;
	}
	if (write_all(cli->output, out, out_len) == 0)
		rc = 0;
out:
	free(out);
	store_close(st);
	sla_profiles_free(sla);
	collector_config_free(&cc);
	return rc;
}

/* ---- export and maintain ----------------------------------------- */

static int
print_record(const struct interval_record *r, void *arg)
{
	char *json = record_to_json(r);

	(void)arg;
	if (json == NULL)
		return -ENOMEM;
	puts(json);
	free(json);
	return 0;
}

static int
parse_time_arg(const char *opt, const char *s, uint64_t def, uint64_t *out)
{
	if (s == NULL) {
		*out = def;
		return 0;
	}
	if (mp_time_parse(s, out) < 0) {
		fprintf(stderr, "metroprobe-collector: --%s: '%s' is not a "
			"time (RFC 3339, Unix ns, or now-1h)\n", opt, s);
		return -EINVAL;
	}
	return 0;
}

static int
cmd_export(const struct cli *cli)
{
	struct collector_config cc;
	struct store_query q;
	struct store *st = NULL;
	int rc = EXIT_USAGE;

	if (load_config(cli, &cc) < 0)
		return EXIT_USAGE;
	memset(&q, 0, sizeof(q));
	q.probe = cli->probe;
	q.session = cli->session;
	if (cli->resolution == NULL || strcmp(cli->resolution, "raw") == 0)
		q.resolution_ns = STORE_RES_RAW;
	else if (strcmp(cli->resolution, "minute") == 0)
		q.resolution_ns = STORE_RES_MINUTE;
	else if (strcmp(cli->resolution, "hour") == 0)
		q.resolution_ns = STORE_RES_HOUR;
	else {
		fprintf(stderr, "metroprobe-collector: --resolution: '%s' is "
			"not raw, minute or hour\n", cli->resolution);
		goto out;
	}
	if (parse_time_arg("from", cli->from, 0, &q.from_ns) < 0 ||
	    parse_time_arg("to", cli->to, (uint64_t)INT64_MAX, &q.to_ns) < 0)
		goto out;
	rc = 1;
	if (open_store(&cc, &st) < 0)
		goto out;
	if (store_scan(st, &q, print_record, NULL) == 0 && fflush(stdout) == 0)
		rc = 0;
out:
	store_close(st);
	collector_config_free(&cc);
	return rc;
}

static int
cmd_maintain(const struct cli *cli)
{
	struct collector_config cc;
	struct store_stats stats;
	struct store *st = NULL;
	uint64_t now;
	int rc = EXIT_USAGE;

	if (load_config(cli, &cc) < 0)
		return EXIT_USAGE;
	if (parse_time_arg("now", cli->now, mp_time_now_ns(), &now) < 0)
		goto out;
	rc = 1;
	if (open_store(&cc, &st) < 0 || store_maintain(st, now) < 0 ||
	    store_stats(st, &stats) < 0)
		goto out;
	printf("raw %" PRIu64 " minute %" PRIu64 " hour %" PRIu64
	       " bytes %" PRIu64 "\n", stats.raw_records, stats.minute_records,
	       stats.hour_records, stats.bytes);
	rc = 0;
out:
	store_close(st);
	collector_config_free(&cc);
	return rc;
}

/* ---- hash-token -------------------------------------------------- */

static int
cmd_hash_token(void)
{
	char buf[4096];
	char hex[65];
	size_t n;

	n = fread(buf, 1, sizeof(buf), stdin);
	if (n == sizeof(buf)) {
		fprintf(stderr, "metroprobe-collector: token too long\n");
		return EXIT_USAGE;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == 0) {
		fprintf(stderr, "metroprobe-collector: no token on stdin\n");
		return EXIT_USAGE;
	}
	if (auth_sha256_hex(buf, n, hex) < 0)
		return 1;
	printf("%s\n", hex);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli cli;
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "hash-token") == 0)
		return cmd_hash_token();
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "report") != 0 &&
	    strcmp(cmd, "export") != 0 && strcmp(cmd, "maintain") != 0)
		return die_usage("unknown command '%s'", cmd);
	if (parse_cli(argc - 1, argv + 1, &cli) < 0)
		return die_usage("bad arguments for '%s'", cmd);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(&cli);
	if (strcmp(cmd, "report") == 0)
		return cmd_report(&cli);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(&cli);
	return cmd_maintain(&cli);
}
