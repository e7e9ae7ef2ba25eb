/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ptp4l's management socket: a non-blocking datagram client (one round of
 * GETs at a time, answers matched by sequence number) and the control
 * thread's watch built on it. Messages and the decision are
 * lib/ptp_mgmt.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "metroprobe/mp_time.h"

#include "log.h"
#include "probe-t.h"
#include "ptp_status.h"

#define PTP_RECV_BURST  32     /* datagrams read per step at most */

struct ptp_client {
	int fd;
	struct sockaddr_un server;
	struct sockaddr_un local;
	uint8_t domain;
	struct ptp_port_identity self;
	uint16_t next_seq;
	bool waiting;                  /* a round was sent, not complete */
	struct ptp_status round;
	char rejected[160];            /* why the last answer was refused */
};

static uint64_t
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MP_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int
set_err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* Our own address: ptp4l answers to it. */
static int
local_path(struct sockaddr_un *sa)
{
	static unsigned clients;
	unsigned n = __atomic_fetch_add(&clients, 1, __ATOMIC_RELAXED);
	const char *dir = "/var/run";
	int len;

	if (access(dir, W_OK) != 0) {
		dir = getenv("TMPDIR");
		if (dir == NULL || dir[0] == '\0')
			dir = "/tmp";
	}
	len = snprintf(sa->sun_path, sizeof(sa->sun_path),
		       "%s/metroprobe-ptp.%d.%u", dir, (int)getpid(), n);
	return len > 0 && (size_t)len < sizeof(sa->sun_path) ? 0 :
		-ENAMETOOLONG;
}

static void
client_close(struct ptp_client *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		unlink(c->local.sun_path);
	}
	c->fd = -1;
}

static int
client_open(struct ptp_client *c, const char *sock, uint8_t domain,
	    char *err, size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->domain = domain;
	c->server.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(c->server.sun_path))
		return set_err(err, errlen, -ENAMETOOLONG, "%s: path too "
			       "long for a Unix socket", sock);
	strcpy(c->server.sun_path, sock);
	c->local.sun_family = AF_UNIX;
	if (local_path(&c->local) < 0)
		return set_err(err, errlen, -ENAMETOOLONG, "no room for a "
			       "socket path of our own ($TMPDIR too long)");
	/* 1588 wants some identity: clock 0, port our pid, as pmc does */
	c->self.port = (uint16_t)getpid();
	c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return set_err(err, errlen, -errno, "socket: %s",
			       strerror(errno));
	unlink(c->local.sun_path);     /* left by an earlier us, killed */
	if (bind(c->fd, (struct sockaddr *)&c->local, sizeof(c->local)) < 0) {
		rc = -errno;
		close(c->fd);
		c->fd = -1;
		return set_err(err, errlen, rc, "bind %s: %s",
			       c->local.sun_path, strerror(-rc));
	}
	return 0;
}

/*
 * Sends a round of GETs; never waits. connect() each time: it finds a
 * restarted ptp4l at the same path, and a connected datagram socket only
 * receives from that peer.
 */
static int
client_send(struct ptp_client *c, char *err, size_t errlen)
{
	static const uint16_t ids[] = { PTP_MID_PORT_DATA_SET,
					PTP_MID_TIME_PROPERTIES_DATA_SET,
					PTP_MID_TIME_STATUS_NP };
	uint8_t buf[PTP_MGMT_MSG_MAX];

	/* answers of a round given up on are of no use now */
	for (int i = 0; i < PTP_RECV_BURST &&
	     recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0; i++)
		;
	c->waiting = false;
	c->rejected[0] = '\0';
	if (connect(c->fd, (struct sockaddr *)&c->server,
		    sizeof(c->server)) < 0)
		return set_err(err, errlen, -errno, "connect %s: %s",
			       c->server.sun_path, strerror(errno));
	ptp_mgmt_status_init(&c->round, c->next_seq);
	for (unsigned i = 0; i < 3; i++) {
		int n = ptp_mgmt_build_get(buf, sizeof(buf), ids[i],
					   (uint16_t)(c->next_seq + i),
					   c->domain, &c->self);

		if (n < 0 || send(c->fd, buf, (size_t)n,
				  MSG_DONTWAIT | MSG_NOSIGNAL) != n)
			return set_err(err, errlen, n < 0 ? n : -errno,
				       "send to %s: %s", c->server.sun_path,
				       n < 0 ? strerror(-n) : strerror(errno));
	}
	c->next_seq = (uint16_t)(c->next_seq + 3);
	c->waiting = true;
	return 0;
}

/*
 * Reads the answers that are there, never waits. Returns 1 when the round
 * is complete (c->round, undecided), 0 when more is to come, a negative
 * errno when the socket fails.
 */
static int
client_recv(struct ptp_client *c, char *err, size_t errlen)
{
	uint8_t buf[PTP_MGMT_MSG_MAX];
	struct ptp_mgmt_reply r;

	for (int i = 0; i < PTP_RECV_BURST && c->waiting; i++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf),
				 MSG_DONTWAIT | MSG_TRUNC);
		int rc;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return 0;
			return set_err(err, errlen, -errno, "receive from "
				       "%s: %s", c->server.sun_path,
				       strerror(errno));
		}
		if ((size_t)n > sizeof(buf)) {
			snprintf(c->rejected, sizeof(c->rejected),
				 "%zd octets, more than %d", n,
				 PTP_MGMT_MSG_MAX);
			continue;
		}
		rc = ptp_mgmt_parse(buf, (size_t)n, &r, c->rejected,
				    sizeof(c->rejected));
		if (rc == 0 && ptp_mgmt_status_add(&c->round, &r) == 1) {
			c->waiting = false;
			return 1;
		}
	}
	return 0;
}

/* Why a round failed, with the last answer refused if there was one. */
static void
explain_timeout(const struct ptp_client *c, char *err, size_t errlen,
		unsigned ms)
{
	if (c->rejected[0] != '\0')
		snprintf(err, errlen, "no complete answer from %s within %u "
			 "ms; an answer was malformed: %s",
			 c->server.sun_path, ms, c->rejected);
	else
		snprintf(err, errlen, "no answer from %s within %u ms (does "
			 "ptp4l serve PTP domain %u there?)",
			 c->server.sun_path, ms, c->domain);
}

/* One round on an open client, waiting at most PTP_STATUS_WAIT_MS. */
static int
client_round(struct ptp_client *c, char *err, size_t errlen)
{
	uint64_t deadline = monotonic_ns() + PTP_STATUS_WAIT_MS * 1000000ULL;
	int rc = client_send(c, err, errlen);

	while (rc == 0) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		uint64_t now = monotonic_ns();

		if (now >= deadline) {
			explain_timeout(c, err, errlen, PTP_STATUS_WAIT_MS);
			rc = -ETIMEDOUT;
			break;
		}
		poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000));
		rc = client_recv(c, err, errlen);
		if (rc == 1)
			return 0;
	}
	c->waiting = false;
	return rc;
}

int
ptp_status_query(const char *sock, uint8_t domain, uint64_t margin_ns,
		 struct ptp_status *st, char *err, size_t errlen)
{
	struct ptp_client c;
	int rc;

	rc = client_open(&c, sock, domain, err, errlen);
	if (rc == 0)
		rc = client_round(&c, err, errlen);
	if (rc == 0)
		*st = c.round;
	else
		ptp_mgmt_status_init(st, 0);
	ptp_mgmt_decide(st, NULL, margin_ns);
	client_close(&c);
	return rc;
}

/* ---- the control thread's watch ---------------------------------- */

static struct {
	struct ptp_client cl;
	bool open;
	uint64_t margin_ns;
	uint64_t next_round_ns;
	uint64_t deadline_ns;
	struct ptp_status last;        /* decided */
	bool decided;                  /* last holds a decision */
	bool unreachable;              /* logged as such */
	bool verbose;          /* log every answer */
} ptp_watch = { .cl = { .fd = -1 } };

static void
gm_str(const uint8_t id[8], char *buf, size_t len)
{
	snprintf(buf, len, "%02x%02x%02x.%02x%02x.%02x%02x%02x", id[0], id[1],
		 id[2], id[3], id[4], id[5], id[6], id[7]);
}

/* Logs what a round changed; <why> is set when it failed. */
static void
watch_log(const struct ptp_status *old, const struct ptp_status *st,
	  bool first, const char *why)
{
	const char *sock = ptp_watch.cl.server.sun_path;
	char gm[32];

	if (why != NULL) {
		if (!ptp_watch.unreachable)
			PROBE_WARN("clock: ptp4l: %s; not synchronised (error "
				   "estimate %" PRIu64 " ns) until it answers",
				   why, st->error_ns);
		ptp_watch.unreachable = true;
		return;
	}
	if (ptp_watch.unreachable)
		PROBE_INFO("clock: ptp4l at %s answers", sock);
	ptp_watch.unreachable = false;
	gm_str(st->gm_identity, gm, sizeof(gm));
	if (ptp_watch.verbose)
		PROBE_INFO("clock: ptp4l: port %u %s, grandmaster %s %s, "
			   "offset %" PRId64 " ns (ingress %" PRId64 "), "
			   "time %straceable", st->port,
			   ptp_mgmt_port_state_str(st->port_state), gm,
			   st->gm_present ? "present" : "absent (this clock)",
			   st->offset_ns, st->ingress_time_ns,
			   st->time_traceable ? "" : "not ");
	if (first || st->synced != old->synced || st->reason != old->reason)
		PROBE_INFO("clock: ptp4l: %s (%s): port %u %s, offset %" PRId64
			   " ns, error estimate %" PRIu64 " ns",
			   st->synced ? "synchronised" : "not synchronised",
			   ptp_mgmt_reason_str(st->reason), st->port,
			   ptp_mgmt_port_state_str(st->port_state),
			   st->offset_ns, st->error_ns);
}

/* A round ended: <answer> complete, or NULL and <why> it failed. True
 * when the decision changed. */
static bool
watch_finish(const struct ptp_status *answer, const char *why)
{
	struct ptp_status st, old = ptp_watch.last;
	bool first = !ptp_watch.decided;

	if (answer != NULL)
		st = *answer;
	else
		ptp_mgmt_status_init(&st, 0);
	ptp_mgmt_decide(&st, first ? NULL : &old, ptp_watch.margin_ns);
	watch_log(&old, &st, first, why);
	ptp_watch.last = st;
	ptp_watch.decided = true;
	return first || st.synced != old.synced || st.error_ns != old.error_ns;
}

int
ptp_watch_start(const char *sock, uint8_t domain, uint64_t margin_ns,
		bool verbose)
{
	struct ptp_status st;
	char err[512];
	int rc;

	ptp_watch.margin_ns = margin_ns;
	ptp_watch.verbose = verbose;
	ptp_mgmt_status_init(&ptp_watch.last, 0);
	ptp_mgmt_decide(&ptp_watch.last, NULL, margin_ns);
	/* the socket the watch keeps, then a first answer before any
	 * packet is sent */
	rc = client_open(&ptp_watch.cl, sock, domain, err, sizeof(err));
	if (rc < 0) {
		PROBE_ERR("clock: ptp4l: %s: the clock counts as not "
			  "synchronised", err);
		return rc;
	}
	ptp_watch.open = true;
	atexit(ptp_watch_stop);
	rc = ptp_status_query(sock, domain, margin_ns, &st, err, sizeof(err));
	watch_finish(rc == 0 ? &st : NULL, err);
	ptp_watch.next_round_ns = monotonic_ns() + PTP_STATUS_PERIOD_NS;
	return 0;
}

bool
ptp_watch_step(void)
{
	struct ptp_client *c = &ptp_watch.cl;
	char err[512];
	uint64_t now;
	int rc;

	if (!ptp_watch.open)
		return false;
	now = monotonic_ns();
	if (c->waiting) {
		rc = client_recv(c, err, sizeof(err));
		if (rc == 1)
			return watch_finish(&c->round, NULL);
		if (rc == 0 && now < ptp_watch.deadline_ns)
			return false;
		if (rc == 0)
			explain_timeout(c, err, sizeof(err),
					(unsigned)(PTP_STATUS_TIMEOUT_NS /
						   1000000));
		c->waiting = false;
		return watch_finish(NULL, err);
	}
	if (now < ptp_watch.next_round_ns)
		return false;
	ptp_watch.next_round_ns += PTP_STATUS_PERIOD_NS;
	if (ptp_watch.next_round_ns <= now)   /* the loop was held up */
		ptp_watch.next_round_ns = now + PTP_STATUS_PERIOD_NS;
	if (client_send(c, err, sizeof(err)) < 0)
		return watch_finish(NULL, err);
	ptp_watch.deadline_ns = now + PTP_STATUS_TIMEOUT_NS;
	return false;
}

void
ptp_watch_get(bool *synced, uint64_t *error_ns)
{
	*synced = ptp_watch.last.synced;
	*error_ns = ptp_watch.last.error_ns;
}

void
ptp_watch_stop(void)
{
	if (!ptp_watch.open)
		return;
	client_close(&ptp_watch.cl);
	ptp_watch.open = false;
}
