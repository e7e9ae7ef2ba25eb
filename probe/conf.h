/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a probe is told to do: global settings, ports (each a probe
 * identity) and sender sessions. Filled from the INI file and from the
 * command line (probe/config.c, probe/options.c), validated before EAL
 * init so that a bad configuration never touches a port.
 */
#ifndef PROBE_CONF_H
#define PROBE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metroprobe/record.h"
#include "metroprobe/stamp.h"

#define PROBE_MAX_PORTS      8
#define PROBE_MAX_QUEUES     16       /* queue pairs per port */
#define PROBE_MAX_NEIGH      8
#define PROBE_PATH_MAX       256
#define PROBE_MIN_FRAME      64
#define PROBE_MAX_FRAME      9000
#define PROBE_FCS_LEN        4
/* idle back-off chosen at start: on for virtual devices, off on NICs */
#define PROBE_IDLE_AUTO      UINT32_MAX
#define PROBE_IDLE_VDEV_US   50

enum refl_mode {
	REFL_OFF = 0,
	REFL_STATEFUL,
	REFL_STATELESS,
};

enum clock_sync_mode {
	CLOCK_SYNC_AUTO = 0,   /* adjtimex(): kernel clock synchronised */
	CLOCK_SYNC_YES,
	CLOCK_SYNC_NO,
	CLOCK_SYNC_PTP4L,      /* ptp4l's management socket (ptp_status.c) */
};

/* An address as configured; v4 and v6 in network byte order. */
struct probe_addr {
	uint8_t family;        /* 0 (unset), 4 or 6 */
	union {
		uint32_t v4;
		uint8_t v6[16];
	};
};

struct probe_neigh_conf {
	struct probe_addr ip;
	uint8_t mac[6];
};

struct port_conf {
	char name[RECORD_NAME_MAX];     /* probe identity, record "probe" */
	char device[64];                /* DPDK device name or port id */
	struct probe_addr ip4;
	uint8_t prefix4;
	struct probe_addr ip6;
	uint8_t prefix6;
	uint16_t vlan;                  /* 0: untagged */
	struct probe_addr gateway4;
	struct probe_addr gateway6;
	struct probe_neigh_conf neigh[PROBE_MAX_NEIGH];
	unsigned n_neigh;
	uint16_t stamp_port;
	enum refl_mode reflector;
	bool reflector_auth;
	char reflector_key_file[PROBE_PATH_MAX];
	struct stamp_key reflector_key;
	bool reflector_ptp;             /* reflector timestamps in PTP format */
	bool strict_mbz;
	uint32_t max_frame;             /* largest frame the reflector answers */
	uint32_t reflector_sessions;    /* stateful table size */
	uint16_t rx_desc, tx_desc;
	uint16_t queues;                /* RX/TX queue pairs, one lcore each */
	uint64_t arp_refresh_ns;
};

/* type = capacity: stepped load (probe/capacity.h) */
#define PROBE_CAP_MAX_STEPS  32

enum session_type {
	SESSION_TYPE_LATENCY = 0,
	SESSION_TYPE_CAPACITY,
};

struct capacity_conf {
	uint64_t cir_bps;               /* L2 bits/s, frames with FCS */
	double steps_pct[PROBE_CAP_MAX_STEPS];   /* % of cir */
	unsigned n_steps;
	uint64_t step_ns;
	double loss_max;                /* loss ratio bound of the SLA */
};

struct session_conf {
	char name[RECORD_NAME_MAX];
	char port[RECORD_NAME_MAX];     /* name of the port (probe identity) */
	unsigned port_idx;
	struct probe_addr peer;
	uint16_t peer_port;
	uint16_t src_port;
	double rate_pps;                /* from rate_pps or rate_bps */
	uint64_t rate_bps;              /* as configured, 0 when pps given */
	uint32_t frame_size;            /* Ethernet frame with FCS, octets */
	uint8_t dscp;
	uint64_t duration_ns;           /* 0: until stopped */
	bool auth;
	char key_file[PROBE_PATH_MAX];
	struct stamp_key key;
	bool ptp_format;
	uint16_t ssid;
	uint32_t first_seq;             /* first sender sequence number */
	enum session_type type;
	struct capacity_conf cap;
};

struct probe_conf {
	uint64_t interval_ns;
	uint64_t loss_timeout_ns;
	uint64_t run_time_ns;           /* 0: until SIGINT/SIGTERM */
	char records[PROBE_PATH_MAX];   /* "" or "-": stdout */
	char capture[PROBE_PATH_MAX];
	uint64_t capture_count;
	uint64_t capture_size;
	uint32_t capture_snaplen;
	uint32_t idle_sleep_us;         /* 0: busy poll; PROBE_IDLE_AUTO */
	uint32_t idle_polls;
	bool single_lcore;
	enum clock_sync_mode clock_sync;
	uint64_t clock_error_ns;
	uint64_t clock_calibration_ns;  /* TSC against CLOCK_REALTIME */
	double tsc_nominal_ppm;         /* tests: nominal TSC rate made wrong */
	char ptp4l_socket[PROBE_PATH_MAX];  /* clock_synced = ptp4l */
	uint8_t ptp4l_domain;
	int32_t tai_offset_s;
	uint32_t mbufs;
	char ring_pair[2][64];          /* two back-to-back ring ports */
	/* [export]: records also go to the collector (probe/export/) */
	char collector[PROBE_PATH_MAX]; /* "": no export */
	char token_file[PROBE_PATH_MAX];
	char spool_dir[PROBE_PATH_MAX];
	uint64_t spool_max_bytes;       /* 0: the exporter's default */
	bool verbose;
	struct port_conf ports[PROBE_MAX_PORTS];
	unsigned n_ports;
	struct session_conf *sessions;
	unsigned n_sessions;
};

void probe_conf_defaults(struct probe_conf *pc);
void probe_conf_free(struct probe_conf *pc);

/* Reads an INI file into pc (adds its ports and sessions). 0 or -EINVAL
 * with one line in err naming file, line, section and key. */
int probe_conf_load_file(struct probe_conf *pc, const char *path,
			 char *err, size_t errlen);
/* "--port" / "--session" value "name=a,key=value,..." */
int probe_conf_add_kv(struct probe_conf *pc, const char *kind,
		      const char *kv, char *err, size_t errlen);
/* Global key from the command line (same keys as the [probe] section). */
int probe_conf_set_global(struct probe_conf *pc, const char *key,
			  const char *value, char *err, size_t errlen);
/* Key of the [export] section from the command line. */
int probe_conf_set_export(struct probe_conf *pc, const char *key,
			  const char *value, char *err, size_t errlen);
/* Cross-checks once everything is read (names, ports, frame sizes). */
int probe_conf_finish(struct probe_conf *pc, char *err, size_t errlen);

int probe_addr_parse(const char *s, struct probe_addr *a, uint8_t *prefix);
/* "ip:port" or "[ip6]:port" */
void probe_addr_format(const struct probe_addr *a, uint16_t port,
		       char *buf, size_t len);
int probe_parse_mac(const char *s, uint8_t mac[6]);
/* Key file: hex digits, 1..STAMP_MAX_KEY_LEN octets; msg on error. */
int probe_load_key(const char *path, struct stamp_key *key, char *msg,
		   size_t len);
bool probe_addr_on_link(const struct probe_addr *own, uint8_t prefix,
			const struct probe_addr *peer);
/* Minimum frame (with FCS) for a session's headers and STAMP base. */
uint32_t probe_conf_min_frame(const struct port_conf *p,
			      const struct session_conf *s);

#endif
