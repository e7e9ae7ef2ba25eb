/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linkem's command line and config file. A config file holds the same
 * options as the command line, one per line, without the dashes:
 *     ab = delay=2ms,jitter=uniform:100us,seed=7
 *     log = /tmp/linkem.csv
 * ('#' starts a comment). Options are applied in order, so a command
 * line option after --config overrides the file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/stamp.h"
#include "linkem.h"

enum opt_id {
	OPT_PORT_A, OPT_PORT_B, OPT_AB, OPT_BA, OPT_LOG, OPT_STATS,
	OPT_STAMP_PORT, OPT_AUTH, OPT_IMPAIR, OPT_IDLE_SLEEP, OPT_MBUFS,
	OPT_MAX_PPS, OPT_CONFIG, OPT_HELP,
};

static const struct {
	const char *name;
	bool has_arg;
	enum opt_id id;
} opts[] = {
	{ "port-a", true, OPT_PORT_A },
	{ "port-b", true, OPT_PORT_B },
	{ "ab", true, OPT_AB },
	{ "ba", true, OPT_BA },
	{ "log", true, OPT_LOG },
	{ "stats", true, OPT_STATS },
	{ "stamp-port", true, OPT_STAMP_PORT },
	{ "auth", false, OPT_AUTH },
	{ "impair", true, OPT_IMPAIR },
	{ "idle-sleep", true, OPT_IDLE_SLEEP },
	{ "mbufs", true, OPT_MBUFS },
	{ "max-pps", true, OPT_MAX_PPS },
	{ "config", true, OPT_CONFIG },
	{ "help", false, OPT_HELP },
};

void
lk_usage(const char *prog)
{
	printf(
"usage: %s [EAL options] -- [options]\n"
"\n"
"Forwards frames between two DPDK ports and impairs each direction with\n"
"a seeded, logged emulation: delay, jitter, loss, duplication,\n"
"reordering and a rate limit. By default only STAMP test packets (UDP to\n"
"or from --stamp-port) are impaired; ARP, NDP and the rest pass at once.\n"
"\n"
"options:\n"
"  --port-a N          first port (default 0)\n"
"  --port-b N          second port (default 1)\n"
"  --ab SPEC           impairment from port A to port B (default none)\n"
"  --ba SPEC           impairment from port B to port A (default none)\n"
"  --log FILE          CSV line per impaired packet (columns in the README\n"
"                      of tests/linkem); written at departure or drop\n"
"  --stats FILE        totals per direction as JSON, at exit and on SIGUSR1\n"
"                      (always also printed on stdout)\n"
"  --stamp-port N      STAMP UDP port (default %u): to it = sender packet,\n"
"                      from it = reflector packet\n"
"  --auth              read the authenticated STAMP layouts (sequence\n"
"                      numbers at other offsets)\n"
"  --impair stamp|all  impair only STAMP packets (default) or every frame\n"
"  --idle-sleep US     when idle, sleep up to US microseconds (never past\n"
"                      the next departure); 0 = busy poll (default)\n"
"  --mbufs N           buffers to hold frames (default: sized from the\n"
"                      rate or --max-pps times the largest delay)\n"
"  --max-pps N         packet rate to size buffers for (default %u)\n"
"  --config FILE       read options from FILE: 'name = value' per line\n"
"  --help              this text\n"
"\n"
"SPEC is a comma-separated list of key=value:\n"
"  delay=DUR           fixed delay (DUR: 250ns, 100us, 2ms, 1.5s)\n"
"  jitter=uniform:DUR  add U[-DUR, +DUR] to the delay\n"
"  jitter=normal:DUR   add N(0, sigma=DUR); a total below 0 becomes 0\n"
"  jitter=replay:FILE  add the next value from FILE (one per line, ns or\n"
"                      with a unit, may be negative), cycling\n"
"  order=fifo|free     fifo (default): jitter never lets a packet leave\n"
"                      before the one before it; free: it may\n"
"  loss=P              Bernoulli loss probability\n"
"  ge=p:r[:lg[:lb]]    Gilbert-Elliott: P(good->bad)=p, P(bad->good)=r,\n"
"                      loss probability lg in good (default 0) and lb in\n"
"                      bad state (default 1); mean burst about 1/r\n"
"  dup=P               duplication probability (the copy follows)\n"
"  reorder=S:DUR       hold a share S of packets back by an extra DUR\n"
"  rate=RATE           token bucket rate: 10mbit, 1gbit, 64kbit, bits/s\n"
"  burst=BYTES         bucket size (default %u)\n"
"  limit=N             queue limit in packets (default %u with a rate)\n"
"  limit_bytes=BYTES   queue limit in bytes; tail drop past either limit\n"
"  overhead=BYTES      bytes added to each frame for the rate (e.g. 24)\n"
"  seed=N              seed of this direction's random streams (default 1)\n"
"\n"
"example:\n"
"  %s --no-huge --vdev net_af_packet0,iface=veth1 \\\n"
"     --vdev net_af_packet1,iface=veth2 -- --ab delay=2ms,loss=0.01 \\\n"
"     --ba delay=5ms,jitter=uniform:100us,seed=2 --log /tmp/linkem.csv\n",
	       prog, STAMP_DEFAULT_PORT, LK_DEFAULT_MAX_PPS,
	       LK_DEFAULT_BURST, LK_DEFAULT_LIMIT_PKTS, prog);
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out > max)
		return -EINVAL;
	return 0;
}

static int load_config(const char *path, struct lk_options *o, int depth,
		       char *err, size_t errlen);

static int
apply(struct lk_options *o, enum opt_id id, const char *name,
      const char *val, int depth, char *err, size_t errlen)
{
	char specerr[300];
	unsigned long u;
	int rc;

	switch (id) {
	case OPT_PORT_A:
	case OPT_PORT_B:
		if (parse_uint(val, 65535, &u) < 0)
			return fail(err, errlen, "--%s: '%s' is not a port id",
				    name, val);
		if (id == OPT_PORT_A)
			o->port_a = (uint16_t)u;
		else
			o->port_b = (uint16_t)u;
		return 0;
	case OPT_AB:
	case OPT_BA: {
		struct lk_spec *s = id == OPT_AB ? &o->ab : &o->ba;
		char *text = id == OPT_AB ? o->ab_text : o->ba_text;

		lk_spec_free(s);
		rc = lk_spec_parse(val, s, specerr, sizeof(specerr));
		if (rc < 0)
			return fail(err, errlen, "--%s '%s': %s", name, val,
				    specerr);
		snprintf(text, sizeof(o->ab_text), "%s", val);
		return 0;
	}
	case OPT_LOG:
	case OPT_STATS: {
		char *dst = id == OPT_LOG ? o->log_path : o->stats_path;

		if (strlen(val) >= sizeof(o->log_path) || *val == '\0')
			return fail(err, errlen, "--%s: bad file name '%s'",
				    name, val);
		strcpy(dst, val);
		return 0;
	}
	case OPT_STAMP_PORT:
		if (parse_uint(val, 65535, &u) < 0 || u == 0)
			return fail(err, errlen,
				    "--stamp-port: '%s' is not a UDP port", val);
		o->stamp_port = (uint16_t)u;
		return 0;
	case OPT_AUTH:
		o->auth = true;
		return 0;
	case OPT_IMPAIR:
		if (strcmp(val, "all") == 0)
			o->impair_all = true;
		else if (strcmp(val, "stamp") == 0)
			o->impair_all = false;
		else
			return fail(err, errlen,
				    "--impair: '%s': expected stamp or all",
				    val);
		return 0;
	case OPT_IDLE_SLEEP:
		if (parse_uint(val, 1000000, &u) < 0)
			return fail(err, errlen,
				    "--idle-sleep: '%s' is not a number of microseconds (0..1000000)",
				    val);
		o->idle_sleep_us = (uint32_t)u;
		return 0;
	case OPT_MBUFS:
		if (parse_uint(val, 1000000, &u) < 0 || u < 512)
			return fail(err, errlen,
				    "--mbufs: '%s': expected 512..1000000",
				    val);
		o->mbufs = (uint32_t)u;
		return 0;
	case OPT_MAX_PPS:
		if (parse_uint(val, 100000000, &u) < 0 || u == 0)
			return fail(err, errlen,
				    "--max-pps: '%s': expected 1..100000000",
				    val);
		o->max_pps = (uint32_t)u;
		return 0;
	case OPT_CONFIG:
		return load_config(val, o, depth + 1, err, errlen);
	case OPT_HELP:
		return 1;
	}
	return fail(err, errlen, "--%s: not handled", name);
}

static int
find_opt(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strcmp(opts[i].name, name) == 0)
			return (int)i;
	return -1;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
load_config(const char *path, struct lk_options *o, int depth, char *err,
	    size_t errlen)
{
	char line[1024], inner[400];
	unsigned lineno = 0;
	FILE *f;
	int rc = 0;

	if (depth > 4)
		return fail(err, errlen, "%s: config files nest too deep", path);
	f = fopen(path, "r");
	if (f == NULL)
		return fail(err, errlen, "--config %s: %s", path,
			    strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *name, *val, *sep;
		int k;

		lineno++;
		if (strchr(line, '#') != NULL)
			*strchr(line, '#') = '\0';
		s = trim(line);
		if (*s == '\0')
			continue;
		sep = s + strcspn(s, " \t=");
		val = sep;
		if (*sep != '\0') {
			*sep = '\0';
			val = sep + 1;
		}
		val = trim(val);
		if (*val == '=')
			val = trim(val + 1);
		name = s;
		k = find_opt(name);
		if (k < 0 || opts[k].id == OPT_HELP) {
			rc = fail(err, errlen, "%s:%u: unknown option '%s'",
				  path, lineno, name);
			break;
		}
		if (opts[k].has_arg && *val == '\0') {
			rc = fail(err, errlen, "%s:%u: %s needs a value",
				  path, lineno, name);
			break;
		}
		rc = apply(o, opts[k].id, name, val, depth, inner,
			   sizeof(inner));
		if (rc != 0) {
			fail(err, errlen, "%s:%u: %s", path, lineno, inner);
			rc = -EINVAL;
			break;
		}
	}
	fclose(f);
	return rc;
}

int
lk_options_parse(int argc, char **argv, struct lk_options *o, char *err,
		 size_t errlen)
{
	int i, k, rc;

	memset(o, 0, sizeof(*o));
	o->port_b = 1;
	o->stamp_port = STAMP_DEFAULT_PORT;
	o->max_pps = LK_DEFAULT_MAX_PPS;
	lk_spec_init(&o->ab);
	lk_spec_init(&o->ba);
	snprintf(o->ab_text, sizeof(o->ab_text), "none");
	snprintf(o->ba_text, sizeof(o->ba_text), "none");

	for (i = 0; i < argc; i++) {
		char name[64];
		const char *arg = argv[i], *val = NULL, *eq;

		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			if (strcmp(arg, "-h") == 0)
				return 1;
			return fail(err, errlen,
				    "unexpected argument '%s' (see --help)", arg);
		}
		arg += 2;
		eq = strchr(arg, '=');
		snprintf(name, sizeof(name), "%.*s",
			 (int)(eq ? (size_t)(eq - arg) : strlen(arg)), arg);
		k = find_opt(name);
		if (k < 0)
			return fail(err, errlen,
				    "unknown option '--%s' (see --help)", name);
		if (opts[k].has_arg) {
			if (eq != NULL)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return fail(err, errlen, "--%s needs a value",
					    name);
		} else if (eq != NULL) {
			return fail(err, errlen, "--%s takes no value", name);
		}
		rc = apply(o, opts[k].id, name, val, 0, err, errlen);
		if (rc != 0)
			return rc;
	}
	if (o->port_a == o->port_b)
		return fail(err, errlen,
			    "--port-a and --port-b are the same port (%u)",
			    o->port_a);
	return 0;
}

void
lk_options_free(struct lk_options *o)
{
	lk_spec_free(&o->ab);
	lk_spec_free(&o->ba);
}
