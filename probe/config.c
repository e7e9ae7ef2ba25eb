/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Probe configuration: the INI file and the command line share one set of
 * keys. A command-line "--port name=a,ipv4=10.0.0.1/24" becomes the INI
 * text "[port.a] ipv4 = 10.0.0.1/24" and goes through the same parser, so
 * the two cannot drift apart.
 *
 *   [probe]          global settings (see probe_global_keys)
 *   [port.NAME]      one DPDK port, NAME is the probe identity
 *   [session.NAME]   one sender session
 *   [export]         records also sent to a collector (see probe_export_keys)
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/config.h"
#include "metroprobe/mp_time.h"

#include "capacity.h"
#include "conf.h"
#include "export.h"

static const char *const probe_global_keys[] = {
	"interval", "loss_timeout", "run_time", "records", "capture",
	"capture_count", "capture_size", "capture_snaplen", "idle_sleep_us",
	"idle_polls", "single_lcore", "clock_synced", "clock_error",
	"ptp4l_socket", "ptp4l_domain", "tai_offset", "mbufs", "ring_pair",
	"verbose", "clock_calibration", "tsc_nominal_ppm", NULL
};

static const char *const probe_export_keys[] = {
	"collector", "token_file", "spool_dir", "spool_max_bytes", NULL
};

static const char *const probe_port_keys[] = {
	"device", "ipv4", "ipv6", "vlan", "gateway", "gateway6", "neighbours",
	"stamp_port", "reflector", "reflector_auth", "reflector_key_file",
	"reflector_timestamp", "strict_mbz", "max_frame",
	"reflector_sessions", "rx_desc", "tx_desc", "arp_refresh", "queues",
	NULL
};

static const char *const probe_session_keys[] = {
	"port", "peer", "peer_port", "src_port", "rate_pps", "rate_bps",
	"frame_size", "dscp", "duration", "auth", "key_file",
	"timestamp_format", "ssid", "first_seq", "type", "cir", "steps",
	"step_duration", "loss_max", NULL
};

void
probe_conf_defaults(struct probe_conf *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->interval_ns = MP_NS_PER_SEC;
	pc->loss_timeout_ns = 3 * MP_NS_PER_SEC;
	pc->capture_count = 0;
	pc->capture_size = 0;
	pc->capture_snaplen = 256;
	pc->idle_polls = 64;
	pc->idle_sleep_us = PROBE_IDLE_AUTO;
	pc->clock_sync = CLOCK_SYNC_AUTO;
	pc->clock_error_ns = 1000;
	pc->clock_calibration_ns = 300000000ULL;
	snprintf(pc->ptp4l_socket, sizeof(pc->ptp4l_socket), "%s",
		 "/var/run/ptp4l");
	pc->tai_offset_s = 37;
	pc->mbufs = 8191;
}

void
probe_conf_free(struct probe_conf *pc)
{
	free(pc->sessions);
	pc->sessions = NULL;
	pc->n_sessions = 0;
}

static int
conf_err(const struct mp_config *c, const char *sec, const char *key,
	 char *err, size_t errlen, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	unsigned line = mp_config_line(c, sec, key);

	if (line == 0)
		snprintf(err, errlen, "%s: [%s] %s: %s", mp_config_path(c),
			 sec, key, msg);
	else
		snprintf(err, errlen, "%s:%u: [%s] %s: %s", mp_config_path(c),
			 line, sec, key, msg);
	return -EINVAL;
}

static int
get_u64(const struct mp_config *c, const char *sec, const char *key,
	uint64_t def, uint64_t min, uint64_t max, uint64_t *out, char *err,
	size_t errlen)
{
	return mp_config_get_u64(c, sec, key, def, min, max, out, err, errlen);
}

static int
get_choice(const struct mp_config *c, const char *sec, const char *key,
	   const char *const *choices, int def, int *out, char *err,
	   size_t errlen)
{
	const char *v = mp_config_get(c, sec, key);
	char allowed[128] = "";
	size_t n = 0;

	*out = def;
	if (v == NULL)
		return 0;
	for (int i = 0; choices[i] != NULL; i++) {
		if (strcmp(v, choices[i]) == 0) {
			*out = i;
			return 0;
		}
		if (n < sizeof(allowed))
			n += (size_t)snprintf(allowed + n, sizeof(allowed) - n,
					      "%s%s", i > 0 ? ", " : "",
					      choices[i]);
	}
	return conf_err(c, sec, key, err, errlen, "'%s' is not one of the "
			"allowed values (%s)", v, allowed);
}

static int
get_addr(const struct mp_config *c, const char *sec, const char *key,
	 int family, bool with_prefix, struct probe_addr *a, uint8_t *prefix,
	 char *err, size_t errlen)
{
	const char *v = mp_config_get(c, sec, key);

	if (v == NULL)
		return 0;
	if (probe_addr_parse(v, a, with_prefix ? prefix : NULL) < 0 ||
	    (family != 0 && a->family != family))
		return conf_err(c, sec, key, err, errlen,
				"'%s' is not an IPv%s address%s", v,
				family == 6 ? "6" : family == 4 ? "4" : "4/6",
				with_prefix ? " (with optional /prefix)" : "");
	return 0;
}

/* [probe] clock_calibration and tsc_nominal_ppm (clock.h). */
static int
get_tsc_calibration(const struct mp_config *c, const char *sec,
		    struct probe_conf *pc, char *err, size_t errlen)
{
	int rc;

	if ((rc = mp_config_get_duration(c, sec, "clock_calibration",
					 pc->clock_calibration_ns,
					 &pc->clock_calibration_ns, err,
					 errlen)) < 0)
		return rc;
	if (pc->clock_calibration_ns < 50000000ULL ||
	    pc->clock_calibration_ns > 10 * MP_NS_PER_SEC)
		return conf_err(c, sec, "clock_calibration", err, errlen,
				"must be 50ms..10s");
	if ((rc = mp_config_get_double(c, sec, "tsc_nominal_ppm",
				       pc->tsc_nominal_ppm,
				       &pc->tsc_nominal_ppm, err, errlen)) < 0)
		return rc;
	if (fabs(pc->tsc_nominal_ppm) > 50000)
		return conf_err(c, sec, "tsc_nominal_ppm", err, errlen,
				"must be -50000..50000");
	return 0;
}

/* ptp4l's management socket: a Unix socket path (sun_path holds 107
 * characters) and the PTP domain ptp4l serves (it ignores others). */
static int
get_ptp4l(const struct mp_config *c, const char *sec, struct probe_conf *pc,
	  char *err, size_t errlen)
{
	const char *s = mp_config_get(c, sec, "ptp4l_socket");
	uint64_t v;
	int rc;

	if (s != NULL) {
		if (s[0] == '\0' || strlen(s) > 107)
			return conf_err(c, sec, "ptp4l_socket", err, errlen,
					"'%.40s' is not a Unix socket path of "
					"1..107 characters", s);
		snprintf(pc->ptp4l_socket, sizeof(pc->ptp4l_socket), "%s", s);
	}
	if ((rc = get_u64(c, sec, "ptp4l_domain", pc->ptp4l_domain, 0, 255,
			  &v, err, errlen)) < 0)
		return rc;
	pc->ptp4l_domain = (uint8_t)v;
	return 0;
}

/* [probe] interval, loss_timeout, run_time: how often records come, how
 * long a packet has to come back, how long the probe runs. */
static int
parse_timing(const struct mp_config *c, const char *sec,
	     struct probe_conf *pc, char *err, size_t errlen)
{
	int rc;

	rc = mp_config_get_duration(c, sec, "interval", pc->interval_ns,
				    &pc->interval_ns, err, errlen);
	if (rc < 0)
		return rc;
	if (pc->interval_ns < 10000000ULL || pc->interval_ns > 3600 * MP_NS_PER_SEC)
		return conf_err(c, sec, "interval", err, errlen,
				"must be between 10ms and 1h");
	rc = mp_config_get_duration(c, sec, "loss_timeout", pc->loss_timeout_ns,
				    &pc->loss_timeout_ns, err, errlen);
	if (rc < 0)
		return rc;
	if (pc->loss_timeout_ns < 10000000ULL ||
	    pc->loss_timeout_ns > 600 * MP_NS_PER_SEC)
		return conf_err(c, sec, "loss_timeout", err, errlen,
				"must be between 10ms and 10m");
	rc = mp_config_get_duration(c, sec, "run_time", pc->run_time_ns,
				    &pc->run_time_ns, err, errlen);
	if (rc < 0)
		return rc;
	return 0;
}

/* [probe] records, capture and the capture's bounds: the files the probe
 * writes. */
static int
parse_outputs(const struct mp_config *c, const char *sec,
	      struct probe_conf *pc, char *err, size_t errlen)
{
	const char *s;
	uint64_t v;
	int rc;

	rc = mp_config_get_string(c, sec, "records", pc->records, &s, err,
				  errlen);
	if (rc < 0)
		return rc;
	if (s != pc->records)
		snprintf(pc->records, sizeof(pc->records), "%s", s);
	rc = mp_config_get_string(c, sec, "capture", pc->capture, &s, err,
				  errlen);
	if (rc < 0)
		return rc;
	if (s != pc->capture)
		snprintf(pc->capture, sizeof(pc->capture), "%s", s);
	if ((rc = get_u64(c, sec, "capture_count", pc->capture_count, 0,
			  UINT64_MAX, &pc->capture_count, err, errlen)) < 0 ||
	    (rc = get_u64(c, sec, "capture_size", pc->capture_size, 0,
			  UINT64_MAX, &pc->capture_size, err, errlen)) < 0)
		return rc;
	if ((rc = get_u64(c, sec, "capture_snaplen", pc->capture_snaplen, 64,
			  2048, &v, err, errlen)) < 0)
		return rc;
	pc->capture_snaplen = (uint32_t)v;
	return 0;
}

/* [probe] idle_sleep_us, idle_polls, single_lcore: how the lcores poll
 * and how many there are. idle_sleep_us left out stays PROBE_IDLE_AUTO:
 * chosen at start from the ports' devices. */
static int
parse_lcores(const struct mp_config *c, const char *sec,
	     struct probe_conf *pc, char *err, size_t errlen)
{
	uint64_t v;
	bool b;
	int rc;

	if (mp_config_get(c, sec, "idle_sleep_us") != NULL) {
		if ((rc = get_u64(c, sec, "idle_sleep_us", 0, 0, 100000, &v,
				  err, errlen)) < 0)
			return rc;
		pc->idle_sleep_us = (uint32_t)v;
	}
	if ((rc = get_u64(c, sec, "idle_polls", pc->idle_polls, 1, 1000000,
			  &v, err, errlen)) < 0)
		return rc;
	pc->idle_polls = (uint32_t)v;
	if ((rc = mp_config_get_bool(c, sec, "single_lcore", pc->single_lcore,
				     &b, err, errlen)) < 0)
		return rc;
	pc->single_lcore = b;
	return 0;
}

/* [probe] clock_synced, clock_error, the TSC's calibration, ptp4l and
 * tai_offset: where the S bit and error estimate of every timestamp come
 * from, and how the timestamps are made. */
static int
parse_clock(const struct mp_config *c, const char *sec,
	    struct probe_conf *pc, char *err, size_t errlen)
{
	static const char *const sync[] = { "auto", "true", "false", "ptp4l",
					    NULL };
	uint64_t v;
	int rc, choice;

	if ((rc = get_choice(c, sec, "clock_synced", sync, pc->clock_sync,
			     &choice, err, errlen)) < 0)
		return rc;
	pc->clock_sync = (enum clock_sync_mode)choice;
	if ((rc = mp_config_get_duration(c, sec, "clock_error",
					 pc->clock_error_ns,
					 &pc->clock_error_ns, err, errlen)) < 0)
		return rc;
	if ((rc = get_tsc_calibration(c, sec, pc, err, errlen)) < 0 ||
	    (rc = get_ptp4l(c, sec, pc, err, errlen)) < 0)
		return rc;
	if ((rc = get_u64(c, sec, "tai_offset", (uint64_t)pc->tai_offset_s, 0,
			  100, &v, err, errlen)) < 0)
		return rc;
	pc->tai_offset_s = (int32_t)v;
	return 0;
}

/* [probe] ring_pair = NAME_A,NAME_B: two ring ports joined back to back. */
static int
get_ring_pair(const struct mp_config *c, const char *sec,
	      struct probe_conf *pc, char *err, size_t errlen)
{
	const char *s = mp_config_get(c, sec, "ring_pair");
	const char *comma;

	if (s == NULL)
		return 0;
	comma = strchr(s, ',');
	if (comma == NULL || comma == s || comma[1] == '\0' ||
	    strchr(comma + 1, ',') != NULL ||
	    (size_t)(comma - s) >= sizeof(pc->ring_pair[0]) ||
	    strlen(comma + 1) >= sizeof(pc->ring_pair[1]))
		return conf_err(c, sec, "ring_pair", err, errlen,
				"'%s' is not two device names "
				"'NAME_A,NAME_B'", s);
	snprintf(pc->ring_pair[0], sizeof(pc->ring_pair[0]), "%.*s",
		 (int)(comma - s), s);
	snprintf(pc->ring_pair[1], sizeof(pc->ring_pair[1]), "%s", comma + 1);
	return 0;
}

/* The [probe] section, in the order its keys are checked: the first bad
 * key is the one reported. */
static int
parse_global(const struct mp_config *c, struct probe_conf *pc, char *err,
	     size_t errlen)
{
	const char *sec = "probe";
	uint64_t v;
	bool b;
	int rc;

	if ((rc = mp_config_check_keys(c, sec, probe_global_keys, err,
				       errlen)) < 0 ||
	    (rc = parse_timing(c, sec, pc, err, errlen)) < 0 ||
	    (rc = parse_outputs(c, sec, pc, err, errlen)) < 0 ||
	    (rc = parse_lcores(c, sec, pc, err, errlen)) < 0)
		return rc;
	if ((rc = mp_config_get_bool(c, sec, "verbose", pc->verbose, &b, err,
				     errlen)) < 0)
		return rc;
	pc->verbose = b;
	if ((rc = parse_clock(c, sec, pc, err, errlen)) < 0)
		return rc;
	if ((rc = get_u64(c, sec, "mbufs", pc->mbufs, 511, 1u << 22, &v, err,
			  errlen)) < 0)
		return rc;
	pc->mbufs = (uint32_t)v;
	return get_ring_pair(c, sec, pc, err, errlen);
}

static int
get_path(const struct mp_config *c, const char *sec, const char *key,
	 char *dst, size_t len, char *err, size_t errlen)
{
	const char *v = mp_config_get(c, sec, key);

	if (v == NULL)
		return 0;
	if (v[0] == '\0' || strlen(v) >= len)
		return conf_err(c, sec, key, err, errlen, "must be 1..%zu "
				"characters", len - 1);
	snprintf(dst, len, "%s", v);
	return 0;
}

static int
parse_export(const struct mp_config *c, struct probe_conf *pc, char *err,
	     size_t errlen)
{
	const char *sec = "export";
	int rc;

	if ((rc = mp_config_check_keys(c, sec, probe_export_keys, err,
				       errlen)) < 0 ||
	    (rc = get_path(c, sec, "collector", pc->collector,
			   sizeof(pc->collector), err, errlen)) < 0 ||
	    (rc = get_path(c, sec, "token_file", pc->token_file,
			   sizeof(pc->token_file), err, errlen)) < 0 ||
	    (rc = get_path(c, sec, "spool_dir", pc->spool_dir,
			   sizeof(pc->spool_dir), err, errlen)) < 0)
		return rc;
	if (pc->collector[0] != '\0' &&
	    strncmp(pc->collector, "http://", 7) != 0 &&
	    strncmp(pc->collector, "https://", 8) != 0)
		return conf_err(c, sec, "collector", err, errlen, "'%s' is not "
				"an http:// or https:// URL", pc->collector);
	if ((rc = get_u64(c, sec, "spool_max_bytes", pc->spool_max_bytes,
			  EXPORT_MIN_SPOOL_MAX_BYTES, UINT64_MAX,
			  &pc->spool_max_bytes, err, errlen)) < 0)
		return rc;
	return 0;
}

static int
parse_neighbours(const struct mp_config *c, const char *sec,
		 struct port_conf *p, char *err, size_t errlen)
{
	const char *v = mp_config_get(c, sec, "neighbours");
	char buf[1024], *save = NULL, *tok;

	if (v == NULL)
		return 0;
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, " \t", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t", &save)) {
		char *at = strchr(tok, '@');
		struct probe_neigh_conf *n;

		if (p->n_neigh >= PROBE_MAX_NEIGH)
			return conf_err(c, sec, "neighbours", err, errlen,
					"more than %d entries",
					PROBE_MAX_NEIGH);
		n = &p->neigh[p->n_neigh];
		if (at == NULL)
			return conf_err(c, sec, "neighbours", err, errlen,
					"'%s' is not IP@MAC", tok);
		*at = '\0';
		if (probe_addr_parse(tok, &n->ip, NULL) < 0 ||
		    probe_parse_mac(at + 1, n->mac) < 0)
			return conf_err(c, sec, "neighbours", err, errlen,
					"'%s@%s' is not IP@MAC", tok, at + 1);
		p->n_neigh++;
	}
	return 0;
}

/* <key> names a key file (probe_load_key), required when the boolean
 * <auth_key> is true; the file's path goes to <path>, its key to <k>. */
static int
get_key_file(const struct mp_config *c, const char *sec, const char *key,
	     bool auth, const char *auth_key, char *path, size_t pathlen,
	     struct stamp_key *k, char *err, size_t errlen)
{
	const char *v = mp_config_get(c, sec, key);
	char msg[200];

	if (auth && v == NULL)
		return conf_err(c, sec, key, err, errlen,
				"required when %s = true", auth_key);
	if (v == NULL)
		return 0;
	snprintf(path, pathlen, "%s", v);
	if (probe_load_key(v, k, msg, sizeof(msg)) < 0)
		return conf_err(c, sec, key, err, errlen, "%s", msg);
	return 0;
}

/* What mp_config_sections() hands each [port.NAME] and [session.NAME]. */
struct section_parse {
	struct probe_conf *pc;
	char *err;
	size_t errlen;
};

/* A port is a name, unique among at most PROBE_MAX_PORTS, and a DPDK
 * device. <*out> is its slot in <pc>, counted once the whole section is
 * read. */
static int
new_port(const struct mp_config *c, const char *sec, const char *name,
	 struct probe_conf *pc, struct port_conf **out, char *err,
	 size_t errlen)
{
	struct port_conf *p;
	const char *s;

	if (name[0] == '\0' || strlen(name) >= RECORD_NAME_MAX)
		return conf_err(c, sec, "name", err, errlen, "a port section "
				"needs a name of 1..%d characters: [port.NAME]",
				RECORD_NAME_MAX - 1);
	for (unsigned i = 0; i < pc->n_ports; i++)
		if (strcmp(pc->ports[i].name, name) == 0)
			return conf_err(c, sec, "name", err, errlen,
					"port '%s' is defined twice", name);
	if (pc->n_ports >= PROBE_MAX_PORTS)
		return conf_err(c, sec, "name", err, errlen,
				"more than %d ports", PROBE_MAX_PORTS);
	p = &pc->ports[pc->n_ports];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	s = mp_config_get(c, sec, "device");
	if (s == NULL || s[0] == '\0' || strlen(s) >= sizeof(p->device))
		return conf_err(c, sec, "device", err, errlen, "required: a "
				"DPDK device name (net_af_packet0, 0000:3b:00.0)"
				" or port id");
	snprintf(p->device, sizeof(p->device), "%s", s);
	*out = p;
	return 0;
}

/* [port.NAME] ipv4 and ipv6 with their prefixes (one of the two is
 * required), gateway and gateway6. */
static int
get_port_addresses(const struct mp_config *c, const char *sec,
		   struct port_conf *p, char *err, size_t errlen)
{
	int rc;

	if (mp_config_get(c, sec, "ipv4") == NULL &&
	    mp_config_get(c, sec, "ipv6") == NULL)
		return conf_err(c, sec, "ipv4", err, errlen,
				"required (or ipv6): the port's address/prefix");
	if ((rc = get_addr(c, sec, "ipv4", 4, true, &p->ip4, &p->prefix4, err,
			   errlen)) < 0 ||
	    (rc = get_addr(c, sec, "ipv6", 6, true, &p->ip6, &p->prefix6, err,
			   errlen)) < 0 ||
	    (rc = get_addr(c, sec, "gateway", 4, false, &p->gateway4, NULL,
			   err, errlen)) < 0 ||
	    (rc = get_addr(c, sec, "gateway6", 6, false, &p->gateway6, NULL,
			   err, errlen)) < 0)
		return rc;
	return 0;
}

/* [port.NAME] keys of the port's STAMP reflector: its UDP port, mode,
 * timestamp format, authentication and key, MBZ check, the largest frame
 * it answers and its session table. */
static int
get_port_reflector(const struct mp_config *c, const char *sec,
		   struct port_conf *p, char *err, size_t errlen)
{
	static const char *const refl[] = { "off", "stateful", "stateless",
					    NULL };
	static const char *const tsfmt[] = { "ntp", "ptp", NULL };
	uint64_t v;
	bool b;
	int rc, choice;

	if ((rc = get_u64(c, sec, "stamp_port", STAMP_DEFAULT_PORT, 1, 65535,
			  &v, err, errlen)) < 0)
		return rc;
	p->stamp_port = (uint16_t)v;
	if ((rc = get_choice(c, sec, "reflector", refl, REFL_STATEFUL, &choice,
			     err, errlen)) < 0)
		return rc;
	p->reflector = (enum refl_mode)choice;
	if ((rc = get_choice(c, sec, "reflector_timestamp", tsfmt, 0, &choice,
			     err, errlen)) < 0)
		return rc;
	p->reflector_ptp = choice == 1;
	if ((rc = mp_config_get_bool(c, sec, "reflector_auth", false, &b, err,
				     errlen)) < 0)
		return rc;
	p->reflector_auth = b;
	if ((rc = mp_config_get_bool(c, sec, "strict_mbz", false, &b, err,
				     errlen)) < 0)
		return rc;
	p->strict_mbz = b;
	if ((rc = get_key_file(c, sec, "reflector_key_file", p->reflector_auth,
			       "reflector_auth", p->reflector_key_file,
			       sizeof(p->reflector_key_file), &p->reflector_key,
			       err, errlen)) < 0)
		return rc;
	if ((rc = get_u64(c, sec, "max_frame", PROBE_MAX_FRAME, PROBE_MIN_FRAME,
			  PROBE_MAX_FRAME, &v, err, errlen)) < 0)
		return rc;
	p->max_frame = (uint32_t)v;
	if ((rc = get_u64(c, sec, "reflector_sessions", 1024, 16, 1u << 20, &v,
			  err, errlen)) < 0)
		return rc;
	p->reflector_sessions = (uint32_t)v;
	return 0;
}

/* [port.NAME] rx_desc, tx_desc, queues: the port's descriptor rings and
 * its RX/TX queue pairs, one lcore each. */
static int
get_port_queues(const struct mp_config *c, const char *sec,
		struct port_conf *p, char *err, size_t errlen)
{
	uint64_t v;
	int rc;

	if ((rc = get_u64(c, sec, "rx_desc", 1024, 64, 16384, &v, err,
			  errlen)) < 0)
		return rc;
	p->rx_desc = (uint16_t)v;
	if ((rc = get_u64(c, sec, "tx_desc", 1024, 64, 16384, &v, err,
			  errlen)) < 0)
		return rc;
	p->tx_desc = (uint16_t)v;
	if ((rc = get_u64(c, sec, "queues", 1, 1, PROBE_MAX_QUEUES, &v, err,
			  errlen)) < 0)
		return rc;
	p->queues = (uint16_t)v;
	return 0;
}

/* One [port.NAME] section, in the order its keys are checked: the first
 * bad key is the one reported. */
static int
parse_port(const struct mp_config *c, const char *sec, const char *name,
	   void *arg)
{
	struct section_parse *sp = arg;
	char *err = sp->err;
	size_t errlen = sp->errlen;
	struct port_conf *p = NULL;
	uint64_t v;
	int rc;

	if ((rc = mp_config_check_keys(c, sec, probe_port_keys, err,
				       errlen)) < 0 ||
	    (rc = new_port(c, sec, name, sp->pc, &p, err, errlen)) < 0 ||
	    (rc = get_port_addresses(c, sec, p, err, errlen)) < 0 ||
	    (rc = parse_neighbours(c, sec, p, err, errlen)) < 0)
		return rc;
	if ((rc = get_u64(c, sec, "vlan", 0, 0, 4094, &v, err, errlen)) < 0)
		return rc;
	p->vlan = (uint16_t)v;
	if ((rc = get_port_reflector(c, sec, p, err, errlen)) < 0 ||
	    (rc = get_port_queues(c, sec, p, err, errlen)) < 0)
		return rc;
	if ((rc = mp_config_get_duration(c, sec, "arp_refresh",
					 30 * MP_NS_PER_SEC, &p->arp_refresh_ns,
					 err, errlen)) < 0)
		return rc;
	if (p->arp_refresh_ns < 100000000ULL)
		return conf_err(c, sec, "arp_refresh", err, errlen,
				"must be at least 100ms");
	sp->pc->n_ports++;
	return 0;
}

/* A session is a name, unique among the sessions. <*out> is its slot in
 * <pc>'s grown array, counted once the whole section is read. */
static int
new_session(const struct mp_config *c, const char *sec, const char *name,
	    struct probe_conf *pc, struct session_conf **out, char *err,
	    size_t errlen)
{
	struct session_conf *s, *grown;

	if (name[0] == '\0' || strlen(name) >= RECORD_NAME_MAX)
		return conf_err(c, sec, "name", err, errlen, "a session "
				"section needs a name of 1..%d characters: "
				"[session.NAME]", RECORD_NAME_MAX - 1);
	for (unsigned i = 0; i < pc->n_sessions; i++)
		if (strcmp(pc->sessions[i].name, name) == 0)
			return conf_err(c, sec, "name", err, errlen,
					"session '%s' is defined twice", name);
	grown = realloc(pc->sessions, (pc->n_sessions + 1) * sizeof(*s));
	if (grown == NULL)
		return conf_err(c, sec, "name", err, errlen, "out of memory");
	pc->sessions = grown;
	s = &pc->sessions[pc->n_sessions];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	*out = s;
	return 0;
}

/* [session.NAME] port, peer, peer_port, src_port: the port that sends,
 * the reflector it sends to, and the UDP ports. <index> is the session's
 * place among the sessions (src_port's default). */
static int
get_session_endpoints(const struct mp_config *c, const char *sec,
		      struct session_conf *s, unsigned index, char *err,
		      size_t errlen)
{
	const char *v = mp_config_get(c, sec, "port");
	uint64_t u;
	int rc;

	if (v == NULL || strlen(v) >= sizeof(s->port))
		return conf_err(c, sec, "port", err, errlen, "required: the "
				"name of the [port.NAME] that sends");
	snprintf(s->port, sizeof(s->port), "%s", v);
	if (mp_config_get(c, sec, "peer") == NULL)
		return conf_err(c, sec, "peer", err, errlen,
				"required: the reflector's IPv4 or IPv6 address");
	if ((rc = get_addr(c, sec, "peer", 0, false, &s->peer, NULL, err,
			   errlen)) < 0)
		return rc;
	if ((rc = get_u64(c, sec, "peer_port", STAMP_DEFAULT_PORT, 1, 65535,
			  &u, err, errlen)) < 0)
		return rc;
	s->peer_port = (uint16_t)u;
	if ((rc = get_u64(c, sec, "src_port", 50000 + index, 1024,
			  65535, &u, err, errlen)) < 0)
		return rc;
	s->src_port = (uint16_t)u;
	return 0;
}

/* [session.NAME] frame_size, rate_pps or rate_bps, dscp, duration: the
 * test packets' size, rate and marking, and how long they are sent. */
static int
get_session_traffic(const struct mp_config *c, const char *sec,
		    struct session_conf *s, char *err, size_t errlen)
{
	uint64_t u;
	double pps;
	int rc;

	/* 0: the default, 128 or the minimum for the headers if larger
	 * (probe_conf_finish) */
	if ((rc = get_u64(c, sec, "frame_size", 0, PROBE_MIN_FRAME,
			  PROBE_MAX_FRAME, &u, err, errlen)) < 0)
		return rc;
	s->frame_size = (uint32_t)u;
	if (mp_config_get(c, sec, "rate_pps") != NULL &&
	    mp_config_get(c, sec, "rate_bps") != NULL)
		return conf_err(c, sec, "rate_bps", err, errlen,
				"give rate_pps or rate_bps, not both");
	if (mp_config_get(c, sec, "rate_bps") != NULL) {
		if ((rc = get_u64(c, sec, "rate_bps", 0, 1000, 400000000000ULL,
				  &s->rate_bps, err, errlen)) < 0)
			return rc;
		s->rate_pps = 0;   /* from the frame size, when it is known */
	} else {
		if ((rc = mp_config_get_double(c, sec, "rate_pps", 10.0, &pps,
					       err, errlen)) < 0)
			return rc;
		if (!(pps >= 0.01 && pps <= 150e6))
			return conf_err(c, sec, "rate_pps", err, errlen,
					"must be between 0.01 and 150000000");
		s->rate_pps = pps;
	}
	if ((rc = get_u64(c, sec, "dscp", 0, 0, 63, &u, err, errlen)) < 0)
		return rc;
	s->dscp = (uint8_t)u;
	if ((rc = mp_config_get_duration(c, sec, "duration", 0,
					 &s->duration_ns, err, errlen)) < 0)
		return rc;
	return 0;
}

/* [session.NAME] auth, key_file, timestamp_format, ssid, first_seq: the
 * STAMP test packet's mode and fields. <index> is the session's place
 * among the sessions (ssid's default is index + 1). */
static int
get_session_stamp(const struct mp_config *c, const char *sec,
		  struct session_conf *s, unsigned index, char *err,
		  size_t errlen)
{
	static const char *const tsfmt[] = { "ntp", "ptp", NULL };
	uint64_t u;
	bool b;
	int rc, choice;

	if ((rc = mp_config_get_bool(c, sec, "auth", false, &b, err,
				     errlen)) < 0)
		return rc;
	s->auth = b;
	if ((rc = get_key_file(c, sec, "key_file", s->auth, "auth",
			       s->key_file, sizeof(s->key_file), &s->key, err,
			       errlen)) < 0)
		return rc;
	if ((rc = get_choice(c, sec, "timestamp_format", tsfmt, 0, &choice,
			     err, errlen)) < 0)
		return rc;
	s->ptp_format = choice == 1;
	if ((rc = get_u64(c, sec, "ssid", index + 1, 0, 65535, &u,
			  err, errlen)) < 0)
		return rc;
	s->ssid = (uint16_t)u;
	/* RFC 8762 section 4.2.1 does not fix the first sequence number:
	 * starting near 2^32 exercises the wrap-around */
	if ((rc = get_u64(c, sec, "first_seq", 0, 0, UINT32_MAX, &u, err,
			  errlen)) < 0)
		return rc;
	s->first_seq = (uint32_t)u;
	return 0;
}

/* One [session.NAME] section, in the order its keys are checked: the
 * first bad key is the one reported. */
static int
parse_session(const struct mp_config *c, const char *sec, const char *name,
	      void *arg)
{
	struct section_parse *sp = arg;
	struct probe_conf *pc = sp->pc;
	char *err = sp->err;
	size_t errlen = sp->errlen;
	struct session_conf *s = NULL;
	int rc;

	if ((rc = mp_config_check_keys(c, sec, probe_session_keys, err,
				       errlen)) < 0 ||
	    (rc = new_session(c, sec, name, pc, &s, err, errlen)) < 0 ||
	    (rc = get_session_endpoints(c, sec, s, pc->n_sessions, err,
					errlen)) < 0 ||
	    (rc = get_session_traffic(c, sec, s, err, errlen)) < 0 ||
	    (rc = get_session_stamp(c, sec, s, pc->n_sessions, err,
				    errlen)) < 0)
		return rc;
	/* type = capacity: stepped load (capacity.h) */
	if ((rc = capacity_conf_parse(c, sec, s, err, errlen)) < 0)
		return rc;
	pc->n_sessions++;
	return 0;
}

static int
parse_all(const struct mp_config *c, struct probe_conf *pc, char *err,
	  size_t errlen)
{
	struct section_parse sp = { pc, err, errlen };
	int rc;

	rc = parse_global(c, pc, err, errlen);
	if (rc < 0)
		return rc;
	rc = parse_export(c, pc, err, errlen);
	if (rc < 0)
		return rc;
	rc = mp_config_sections(c, "port", parse_port, &sp);
	if (rc != 0)
		return rc;
	return mp_config_sections(c, "session", parse_session, &sp);
}

int
probe_conf_load_file(struct probe_conf *pc, const char *path, char *err,
		     size_t errlen)
{
	struct mp_config *c;
	int rc;

	rc = mp_config_load(path, &c, err, errlen);
	if (rc < 0)
		return rc;
	rc = parse_all(c, pc, err, errlen);
	mp_config_free(c);
	return rc < 0 ? rc : 0;
}

int
probe_conf_add_kv(struct probe_conf *pc, const char *kind, const char *kv,
		  char *err, size_t errlen)
{
	struct section_parse sp = { pc, err, errlen };
	char text[4096], item[1024], name[RECORD_NAME_MAX] = "";
	char *save = NULL, *tok;
	struct mp_config *c;
	size_t off;
	int rc;

	if (strlen(kv) >= sizeof(item)) {
		snprintf(err, errlen, "--%s: value too long", kind);
		return -EINVAL;
	}
	/* find name= first: it becomes the section name */
	snprintf(item, sizeof(item), "%s", kv);
	for (tok = strtok_r(item, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strncmp(tok, "name=", 5) == 0)
			snprintf(name, sizeof(name), "%s", tok + 5);
	}
	if (name[0] == '\0') {
		snprintf(err, errlen, "--%s '%s': missing name=NAME", kind, kv);
		return -EINVAL;
	}
	off = (size_t)snprintf(text, sizeof(text), "[%s.%s]\n", kind, name);
	snprintf(item, sizeof(item), "%s", kv);
	for (tok = strtok_r(item, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (strncmp(tok, "name=", 5) == 0)
			continue;
		if (eq == NULL || eq == tok) {
			snprintf(err, errlen, "--%s '%s': '%s' is not "
				 "key=value", kind, kv, tok);
			return -EINVAL;
		}
		*eq = '\0';
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"%s = %s\n", tok, eq + 1);
		if (off >= sizeof(text)) {
			snprintf(err, errlen, "--%s: value too long", kind);
			return -EINVAL;
		}
	}
	char label[32];

	snprintf(label, sizeof(label), "--%s", kind);
	rc = mp_config_load_string(text, label, &c, err, errlen);
	if (rc < 0)
		return rc;
	if (strcmp(kind, "port") == 0)
		rc = mp_config_sections(c, "port", parse_port, &sp);
	else
		rc = mp_config_sections(c, "session", parse_session, &sp);
	mp_config_free(c);
	return rc < 0 ? rc : 0;
}

/*
 * A command-line option is parsed as a one-key INI section, so options
 * and config files share one parser and one set of error messages.
 */
static int
set_option(struct probe_conf *pc, const char *section,
	   int (*parse)(const struct mp_config *, struct probe_conf *,
			char *, size_t),
	   const char *key, const char *value, char *err, size_t errlen)
{
	char text[1024], label[64];
	struct mp_config *c;
	int rc;

	if (strchr(value, '\n') != NULL) {
		snprintf(err, errlen, "--%s: value has a newline", key);
		return -EINVAL;
	}
	snprintf(text, sizeof(text), "[%s]\n%s = %s\n", section, key, value);
	snprintf(label, sizeof(label), "--%s", key);
	for (char *p = label; *p; p++)
		if (*p == '_')
			*p = '-';
	rc = mp_config_load_string(text, label, &c, err, errlen);
	if (rc < 0)
		return rc;
	rc = parse(c, pc, err, errlen);
	mp_config_free(c);
	return rc;
}

int
probe_conf_set_global(struct probe_conf *pc, const char *key,
		      const char *value, char *err, size_t errlen)
{
	return set_option(pc, "probe", parse_global, key, value, err, errlen);
}

int
probe_conf_set_export(struct probe_conf *pc, const char *key,
		      const char *value, char *err, size_t errlen)
{
	return set_option(pc, "export", parse_export, key, value, err, errlen);
}
