/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration values that are more than a number: addresses, MACs, key
 * files, and the checks across sections made once everything is read
 * (probe_conf_finish), all before EAL init.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int
probe_addr_parse(const char *s, struct probe_addr *a, uint8_t *prefix)
{
	char buf[80];
	char *slash;
	long pl = -1;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		char *end;

		if (prefix == NULL)
			return -EINVAL;
		*slash = '\0';
		errno = 0;
		pl = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end != '\0')
			return -EINVAL;
	}
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, &a->v4) == 1) {
		a->family = 4;
		if (pl > 32)
			return -EINVAL;
		if (prefix != NULL)
			*prefix = pl < 0 ? 32 : (uint8_t)pl;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, a->v6) == 1) {
		a->family = 6;
		if (pl > 128)
			return -EINVAL;
		if (prefix != NULL)
			*prefix = pl < 0 ? 64 : (uint8_t)pl;
		return 0;
	}
	return -EINVAL;
}

void
probe_addr_format(const struct probe_addr *a, uint16_t port, char *buf,
		  size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->family == 4) {
		inet_ntop(AF_INET, &a->v4, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, port);
	} else if (a->family == 6) {
		inet_ntop(AF_INET6, a->v6, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, port);
	} else {
		snprintf(buf, len, "?:%u", port);
	}
}

bool
probe_addr_on_link(const struct probe_addr *own, uint8_t prefix,
	     const struct probe_addr *peer)
{
	const uint8_t *a = own->family == 4 ? (const uint8_t *)&own->v4
					    : own->v6;
	const uint8_t *b = peer->family == 4 ? (const uint8_t *)&peer->v4
					     : peer->v6;

	for (unsigned bit = 0; bit < prefix; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit & 7));

		if ((a[bit >> 3] & m) != (b[bit >> 3] & m))
			return false;
	}
	return true;
}

int
probe_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

/* Key file: the key as hex digits (whitespace ignored), 1..64 octets. */
int
probe_load_key(const char *path, struct stamp_key *key, char *msg, size_t len)
{
	FILE *f = fopen(path, "r");
	int ch, nib = -1;

	if (f == NULL) {
		snprintf(msg, len, "cannot read key file '%s': %s", path,
			 strerror(errno));
		return -EINVAL;
	}
	key->len = 0;
	while ((ch = fgetc(f)) != EOF) {
		int v;

		if (isspace(ch))
			continue;
		if (!isxdigit(ch) || key->len >= STAMP_MAX_KEY_LEN) {
			fclose(f);
			snprintf(msg, len, "key file '%s': expected at most %d "
				 "octets as hex digits", path,
				 STAMP_MAX_KEY_LEN);
			return -EINVAL;
		}
		v = isdigit(ch) ? ch - '0' : tolower(ch) - 'a' + 10;
		if (nib < 0) {
			nib = v;
		} else {
			key->key[key->len++] = (uint8_t)(nib << 4 | v);
			nib = -1;
		}
	}
	fclose(f);
	if (nib >= 0 || key->len == 0) {
		snprintf(msg, len, "key file '%s': expected an even, non-zero "
			 "number of hex digits", path);
		return -EINVAL;
	}
	return 0;
}

uint32_t
probe_conf_min_frame(const struct port_conf *p, const struct session_conf *s)
{
	uint32_t len = 14 + (p->vlan ? 4 : 0) +
		(s->peer.family == 6 ? 40 : 20) + 8 +
		(s->auth ? STAMP_AUTH_LEN : STAMP_UNAUTH_LEN) + PROBE_FCS_LEN;

	return len < PROBE_MIN_FRAME ? PROBE_MIN_FRAME : len;
}

/* [export]: a collector needs the probe's token and a spool. */
static int
check_export(const struct probe_conf *pc, char *err, size_t errlen)
{
	if (pc->collector[0] != '\0' && pc->token_file[0] == '\0') {
		snprintf(err, errlen, "--collector needs --token-file (the "
			 "probe's bearer token) or [export] token_file");
		return -EINVAL;
	}
	if (pc->collector[0] != '\0' && pc->spool_dir[0] == '\0') {
		snprintf(err, errlen, "--collector needs --spool-dir (records "
			 "wait there until the collector has them) or "
			 "[export] spool_dir");
		return -EINVAL;
	}
	return 0;
}

/* The port session <s> sends from, found by name: <*out>, and its index
 * in s->port_idx. */
static int
find_session_port(const struct probe_conf *pc, struct session_conf *s,
		  const struct port_conf **out, char *err, size_t errlen)
{
	const struct port_conf *p = NULL;

	for (unsigned j = 0; j < pc->n_ports; j++) {
		if (strcmp(pc->ports[j].name, s->port) == 0) {
			p = &pc->ports[j];
			s->port_idx = j;
		}
	}
	if (p == NULL) {
		snprintf(err, errlen, "session '%s': port '%s' is not "
			 "configured", s->name, s->port);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

/* Session <s>'s frames from port <p>: frame_size's default, the packet
 * rate its rate_bps gives, and a frame_size too small for the headers. */
static int
size_session_frames(struct session_conf *s, const struct port_conf *p,
		    char *err, size_t errlen)
{
	uint32_t min = probe_conf_min_frame(p, s);

	if (s->frame_size == 0)
		s->frame_size = min > 128 ? min : 128;
	if (s->rate_bps != 0) {
		/* bit rate counts whole frames with FCS */
		s->rate_pps = (double)s->rate_bps / (8.0 * s->frame_size);
		if (s->rate_pps < 0.01 || s->rate_pps > 150e6) {
			snprintf(err, errlen, "session '%s': rate_bps "
				 "%" PRIu64 " is %.3g frames/s, outside "
				 "0.01..150000000", s->name, s->rate_bps,
				 s->rate_pps);
			return -EINVAL;
		}
	}
	if (s->frame_size < min) {
		snprintf(err, errlen, "session '%s': frame_size %u is "
			 "below the minimum %u for its headers",
			 s->name, s->frame_size, min);
		return -EINVAL;
	}
	return 0;
}

/* Port <p> reaches session <s>'s peer: on the link of its address of the
 * peer's family, or through its gateway of that family. */
static bool
peer_reachable(const struct port_conf *p, const struct session_conf *s)
{
	bool v4 = s->peer.family == 4;

	return probe_addr_on_link(v4 ? &p->ip4 : &p->ip6,
				  v4 ? p->prefix4 : p->prefix6, &s->peer) ||
	       (v4 ? p->gateway4.family : p->gateway6.family) != 0;
}

/* Session <i> against its port and against the sessions before it. */
static int
check_session(struct probe_conf *pc, unsigned i, char *err, size_t errlen)
{
	struct session_conf *s = &pc->sessions[i];
	const struct port_conf *p = NULL;
	int rc;

	if ((rc = find_session_port(pc, s, &p, err, errlen)) < 0)
		return rc;
	if ((s->peer.family == 4 && p->ip4.family != 4) ||
	    (s->peer.family == 6 && p->ip6.family != 6)) {
		snprintf(err, errlen, "session '%s': peer is IPv%u but "
			 "port '%s' has no IPv%u address", s->name,
			 s->peer.family, p->name, s->peer.family);
		return -EINVAL;
	}
	if ((rc = size_session_frames(s, p, err, errlen)) < 0)
		return rc;
	if (!peer_reachable(p, s)) {
		snprintf(err, errlen, "session '%s': peer is outside "
			 "port '%s''s prefix and the port has no "
			 "gateway%s", s->name, p->name,
			 s->peer.family == 6 ? "6" : "");
		return -EINVAL;
	}
	if (s->src_port == p->stamp_port) {
		snprintf(err, errlen, "session '%s': src_port %u is the"
			 " port's reflector port", s->name, s->src_port);
		return -EINVAL;
	}
	for (unsigned j = 0; j < i; j++) {
		if (pc->sessions[j].port_idx == s->port_idx &&
		    pc->sessions[j].src_port == s->src_port) {
			snprintf(err, errlen, "session '%s': src_port "
				 "%u already used by session '%s'",
				 s->name, s->src_port, pc->sessions[j].name);
			return -EINVAL;
		}
	}
	return 0;
}

int
probe_conf_finish(struct probe_conf *pc, char *err, size_t errlen)
{
	int rc;

	if ((rc = check_export(pc, err, errlen)) < 0)
		return rc;
	if (pc->n_ports == 0) {
		snprintf(err, errlen, "no port configured: give --port "
			 "name=NAME,device=DEV,ipv4=ADDR/PREFIX or a [port.NAME]"
			 " section in --config");
		return -EINVAL;
	}
	for (unsigned i = 0; i < pc->n_sessions; i++)
		if ((rc = check_session(pc, i, err, errlen)) < 0)
			return rc;
	return 0;
}
