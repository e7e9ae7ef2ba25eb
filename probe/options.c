/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command line: "metroprobe [EAL options] -- [probe options]".
 * The probe options are parsed before rte_eal_init(), so a bad option
 * or config file is reported without touching any port.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "drops.h"
#include "options.h"

enum {
	OPT_CONFIG = 256, OPT_PORT, OPT_SESSION, OPT_GLOBAL, OPT_EXPORT, OPT_CHECK,
	OPT_HELP,
};

/* Global options map 1:1 to [probe] keys ("--loss-timeout" -> loss_timeout). */
static const struct option probe_long_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "session", required_argument, NULL, OPT_SESSION },
	{ "interval", required_argument, NULL, OPT_GLOBAL },
	{ "loss-timeout", required_argument, NULL, OPT_GLOBAL },
	{ "run-time", required_argument, NULL, OPT_GLOBAL },
	{ "records", required_argument, NULL, OPT_GLOBAL },
	{ "capture", required_argument, NULL, OPT_GLOBAL },
	{ "capture-count", required_argument, NULL, OPT_GLOBAL },
	{ "capture-size", required_argument, NULL, OPT_GLOBAL },
	{ "capture-snaplen", required_argument, NULL, OPT_GLOBAL },
	{ "idle-sleep-us", required_argument, NULL, OPT_GLOBAL },
	{ "idle-polls", required_argument, NULL, OPT_GLOBAL },
	{ "single-lcore", no_argument, NULL, OPT_GLOBAL },
	{ "clock-synced", required_argument, NULL, OPT_GLOBAL },
	{ "clock-error", required_argument, NULL, OPT_GLOBAL },
	{ "ptp4l-socket", required_argument, NULL, OPT_GLOBAL },
	{ "ptp4l-domain", required_argument, NULL, OPT_GLOBAL },
	{ "tai-offset", required_argument, NULL, OPT_GLOBAL },
	{ "clock-calibration", required_argument, NULL, OPT_GLOBAL },
	{ "tsc-nominal-ppm", required_argument, NULL, OPT_GLOBAL },
	{ "mbufs", required_argument, NULL, OPT_GLOBAL },
	{ "ring-pair", required_argument, NULL, OPT_GLOBAL },
	{ "verbose", no_argument, NULL, OPT_GLOBAL },
	{ "collector", required_argument, NULL, OPT_EXPORT },
	{ "token-file", required_argument, NULL, OPT_EXPORT },
	{ "spool-dir", required_argument, NULL, OPT_EXPORT },
	{ "spool-max-bytes", required_argument, NULL, OPT_EXPORT },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static const char probe_usage[] =
"Usage: metroprobe [EAL options] -- [probe options]\n"
"\n"
"A STAMP (RFC 8762) sender and reflector on DPDK ports. Every port answers\n"
"ARP for its address and reflects STAMP test packets; sender sessions send\n"
"paced test packets and emit one metroprobe.interval.v1 JSON record per\n"
"session and interval once the loss timeout has passed.\n"
"\n"
"Probe options (each global one is also a key of the [probe] section of\n"
"the config file, with '-' written '_'; the command line wins):\n"
"  --config FILE          INI file with [probe], [export], [port.NAME],\n"
"                         [session.NAME]\n"
"  --port KEY=V,...       add a port: name=NAME,device=DEV,ipv4=A/P and any\n"
"                         [port.NAME] key (see below)\n"
"  --session KEY=V,...    add a sender session: name=NAME,port=PORT,peer=IP\n"
"                         and any [session.NAME] key (see below)\n"
"  --interval DUR         record interval (default 1s; 10ms..1h)\n"
"  --loss-timeout DUR     a packet not back after this is lost; records are\n"
"                         emitted only after it (default 3s)\n"
"  --run-time DUR         stop after DUR as on SIGTERM (default: run until\n"
"                         SIGINT/SIGTERM)\n"
"  --records FILE         append records to FILE (default: stdout)\n"
"  --capture FILE         write test packets sent and received to a\n"
"                         nanosecond pcap (DLT_EN10MB)\n"
"  --capture-count N      stop capturing after N packets (0: no limit)\n"
"  --capture-size BYTES   stop capturing when the file reaches BYTES\n"
"  --capture-snaplen N    octets kept per packet (64..2048, default 256)\n"
"  --idle-sleep-us N      virtual-wire setting: after --idle-polls empty\n"
"                         polls, sleep up to N us (never past a send\n"
"                         deadline). Default: 50 when every port is a\n"
"                         virtual device (af_packet, ring, pcap, null,\n"
"                         memif, tap...), 0 (busy poll) with a NIC port\n"
"  --idle-polls K         empty polls before an idle sleep (default 64)\n"
"  --single-lcore         run control, receive and transmit on the main\n"
"                         lcore (automatic when EAL gives one lcore)\n"
"  --clock-synced MODE    auto (adjtimex: kernel clock synchronised), true\n"
"                         (operator says so: PTP), false, or ptp4l (asked\n"
"                         once a second: a port SLAVE or UNCALIBRATED with\n"
"                         a grandmaster and |offset| <= 1ms, or ptp4l the\n"
"                         grandmaster with traceable time). Sets the S bit\n"
"                         of the STAMP error estimate (default auto)\n"
"  --clock-error DUR      error estimate when --clock-synced true; with\n"
"                         ptp4l, the margin added to |offset| (1us)\n"
"  --ptp4l-socket PATH    ptp4l's management socket (its uds_address;\n"
"                         default /var/run/ptp4l)\n"
"  --ptp4l-domain N       the PTP domain ptp4l serves (default 0)\n"
"  --tai-offset S         TAI-UTC seconds for PTP timestamps (default 37)\n"
"  --clock-calibration DUR  how long the TSC is measured against\n"
"                         CLOCK_REALTIME before the first packet (default\n"
"                         300ms; 50ms..10s)\n"
"  --tsc-nominal-ppm PPM  for tests: take DPDK's nominal TSC rate as PPM\n"
"                         parts per million off, as on hosts where it is\n"
"                         wrong (the calibration must not care; default 0)\n"
"  --mbufs N              mbufs per port pool (default 8191; a port that\n"
"                         sends has a second pool of as many for its test\n"
"                         packets)\n"
"  --ring-pair A,B        create two ring ports named A and B joined back\n"
"                         to back in this process (a loopback wire)\n"
"  --verbose              log per-session summaries and ARP events\n"
"  --collector URL        also send every record to the collector\n"
"                         (http://host:port): spooled on disk first, POSTed\n"
"                         in batches, removed once acknowledged\n"
"  --token-file FILE      the probe's bearer token (required with\n"
"                         --collector)\n"
"  --spool-dir DIR        durable spool (required with --collector); a\n"
"                         restarted probe sends what is pending there\n"
"  --spool-max-bytes N    spool bound; when full the oldest records are\n"
"                         dropped and counted (default 268435456)\n"
"                         These four are keys of an [export] section.\n"
"  --check                validate the configuration and exit\n"
"  --help                 this text\n"
"\n"
"[port.NAME] keys (NAME is the probe identity in records):\n"
"  device=DEV             DPDK device name (net_af_packet0, 0000:3b:00.0)\n"
"                         or port id (required)\n"
"  ipv4=A/P ipv6=A/P      addresses with prefix (at least one)\n"
"  vlan=ID                802.1Q tag (0: untagged)\n"
"  gateway=A gateway6=A   next hop for peers outside the prefix\n"
"  neighbours=\"IP@MAC ...\" static neighbours (no ARP/NDP for them)\n"
"  stamp_port=N           reflector UDP port (default 862)\n"
"  reflector=MODE         stateful (default), stateless or off\n"
"  reflector_auth=BOOL    authenticated mode (RFC 8762 section 4.4)\n"
"  reflector_key_file=F   HMAC key, hex digits\n"
"  reflector_timestamp=F  ntp (default) or ptp\n"
"  strict_mbz=BOOL        drop sender packets with non-zero MBZ octets\n"
"  max_frame=N            largest frame reflected (default 9000)\n"
"  reflector_sessions=N   stateful reflector table size (default 1024)\n"
"  rx_desc=N tx_desc=N    descriptor ring sizes (default 1024)\n"
"  queues=N               RX/TX queue pairs, each on its own lcore (default 1;\n"
"                         RSS spreads received packets over them)\n"
"  arp_refresh=DUR        neighbour refresh period (default 30s)\n"
"\n"
"[session.NAME] keys:\n"
"  port=NAME              sending port (required)\n"
"  peer=IP                reflector address (required)\n"
"  peer_port=N            reflector UDP port (default 862)\n"
"  src_port=N             local UDP port (default 50000 + session index)\n"
"  rate_pps=R | rate_bps=R  packets/s (default 10) or bits/s of frames\n"
"  frame_size=N           Ethernet frame with FCS, minimum..9000 (128)\n"
"  dscp=N                 DSCP 0..63\n"
"  duration=DUR           stop sending after DUR (default: never)\n"
"  auth=BOOL key_file=F   authenticated mode and its HMAC key (hex)\n"
"  timestamp_format=F     ntp (default) or ptp\n"
"  ssid=N                 STAMP session id (RFC 8972; default index + 1)\n"
"  first_seq=N            first sender sequence number, 0..4294967295\n"
"                         (default 0; near 2^32 to test the wrap-around)\n"
"  type=T                 latency (default) or capacity\n"
"  cir=R                  capacity: committed rate, L2 bits/s with FCS (20M)\n"
"  steps=P,P,...          capacity: load steps in % of cir, ',' or ':'\n"
"                         between them (default 25,50,75,100,110,125)\n"
"  step_duration=DUR      capacity: time per step (default 2s)\n"
"  loss_max=X             capacity: loss ratio a step may have (1e-5)\n"
"                         Per step a metroprobe.capacity.v1 line and a\n"
"                         summary go with the records, a table to stderr\n"
"\n"
"Durations take a unit: ns, us, ms, s, m, h (\"500ms\"). Telemetry:\n"
"dpdk-telemetry.py -f PREFIX, commands /metroprobe/ports,\n"
"/metroprobe/port,NAME, /metroprobe/sessions, /metroprobe/session,NAME,\n"
"/metroprobe/drops, /metroprobe/clock, /metroprobe/export.\n";

void
probe_print_usage(FILE *f)
{
	fputs(probe_usage, f);
	fputs("\nDrop counters (records \"drops\", telemetry):\n", f);
	for (unsigned i = 0; i < PROBE_DROP_N; i++)
		fprintf(f, "  %-18s %s\n", probe_drop_names[i],
			probe_drop_help[i]);
}

struct pending_global {
	bool export;
	char key[32];
	const char *value;
};

/* The command line as read. It is applied only once all of it is read:
 * the config file first, then the global options over its keys, then the
 * ports and sessions in the order given. */
struct pending_options {
	const char *config;
	struct pending_global globals[64];
	unsigned n_globals;
	const char *ports[PROBE_MAX_PORTS * 2];
	unsigned n_ports;
	const char *sessions[1024];
	unsigned n_sessions;
};

/* Global or [export] option <o> with its <value>, kept under its key's
 * name ("--loss-timeout" -> loss_timeout); a flag's value is "true". */
static int
pend_global(struct pending_options *pend, const struct option *o,
	    bool export, const char *value, char *err, size_t errlen)
{
	struct pending_global *g;

	if (pend->n_globals >= RTE_DIM_PROBE(pend->globals)) {
		snprintf(err, errlen, "too many options");
		return -EINVAL;
	}
	g = &pend->globals[pend->n_globals++];
	g->export = export;
	snprintf(g->key, sizeof(g->key), "%s", o->name);
	for (char *p = g->key; *p; p++)
		if (*p == '-')
			*p = '_';
	g->value = o->has_arg ? value : "true";
	return 0;
}

/* getopt_long over <argv>: the configuration the options give goes to
 * <pend>, --check and --help to <po>. --help ends the reading. */
static int
read_options(int argc, char **argv, struct pending_options *pend,
	     struct probe_options *po, char *err, size_t errlen)
{
	int opt, idx;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", probe_long_opts,
				  &idx)) != -1) {
		switch (opt) {
		case OPT_CONFIG:
			pend->config = optarg;
			break;
		case OPT_PORT:
			if (pend->n_ports >= RTE_DIM_PROBE(pend->ports)) {
				snprintf(err, errlen, "too many --port options");
				return -EINVAL;
			}
			pend->ports[pend->n_ports++] = optarg;
			break;
		case OPT_SESSION:
			if (pend->n_sessions >= RTE_DIM_PROBE(pend->sessions)) {
				snprintf(err, errlen,
					 "too many --session options");
				return -EINVAL;
			}
			pend->sessions[pend->n_sessions++] = optarg;
			break;
		case OPT_EXPORT:
		case OPT_GLOBAL:
			if (pend_global(pend, &probe_long_opts[idx],
					opt == OPT_EXPORT, optarg, err,
					errlen) < 0)
				return -EINVAL;
			break;
		case OPT_CHECK:
			po->check_only = true;
			break;
		case 'h':
		case OPT_HELP:
			po->help = true;
			return 0;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value",
				 argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, errlen, "unknown option '%s' (try "
				 "--help)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (try --help)",
			 argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* <pend> into <pc> in the order of precedence, then the checks across
 * sections (probe_conf_finish). */
static int
apply_options(const struct pending_options *pend, struct probe_conf *pc,
	      char *err, size_t errlen)
{
	int rc;

	if (pend->config != NULL) {
		rc = probe_conf_load_file(pc, pend->config, err, errlen);
		if (rc < 0)
			return rc;
	}
	for (unsigned i = 0; i < pend->n_globals; i++) {
		const struct pending_global *g = &pend->globals[i];

		if (g->export)
			rc = probe_conf_set_export(pc, g->key, g->value, err,
						   errlen);
		else
			rc = probe_conf_set_global(pc, g->key, g->value, err,
						   errlen);
		if (rc < 0)
			return rc;
	}
	for (unsigned i = 0; i < pend->n_ports; i++) {
		rc = probe_conf_add_kv(pc, "port", pend->ports[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	for (unsigned i = 0; i < pend->n_sessions; i++) {
		rc = probe_conf_add_kv(pc, "session", pend->sessions[i], err,
				       errlen);
		if (rc < 0)
			return rc;
	}
	return probe_conf_finish(pc, err, errlen);
}

int
probe_parse_options(int argc, char **argv, struct probe_conf *pc,
		    struct probe_options *po, char *err, size_t errlen)
{
	struct pending_options pend;
	int rc;

	memset(po, 0, sizeof(*po));
	memset(&pend, 0, sizeof(pend));
	rc = read_options(argc, argv, &pend, po, err, errlen);
	if (rc < 0 || po->help)
		return rc;
	return apply_options(&pend, pc, err, errlen);
}
