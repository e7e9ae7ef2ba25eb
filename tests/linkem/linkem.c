/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linkem: a link emulator between two DPDK ports. Each direction has its
 * own impairment (impair.h); impaired frames wait in a time-ordered hold
 * queue until their departure TSC, which the main loop checks at the
 * head each turn (no sleep per frame). What happened to every impaired
 * frame goes to a CSV log (log.c), the ground truth of accuracy tests.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "holdq.h"
#include "linkem.h"
#include "lklog.h"
#include "pktinfo.h"

#define RTE_LOGTYPE_LINKEM RTE_LOGTYPE_USER1
#define LK_LOG(level, ...) RTE_LOG(level, LINKEM, "linkem: " __VA_ARGS__)

#define BURST          32
#define RX_DESC        1024
#define TX_DESC        1024
#define MBUF_CACHE     256
#define MBUFS_MIN      4096
#define MBUFS_MAX      (1u << 20)
#define IDLE_TURNS     16      /* empty turns before sleeping */
/* Buffers never held, so that receiving goes on when the hold queues
 * are full: frames beyond are dropped by linkem and logged, instead of
 * backing up in the port's ring where their loss would go unseen. */
#define MBUFS_RESERVE  (4 * BURST + MBUF_CACHE)
#define DRAIN_MAX_NS   (5ULL * 1000000000ULL)
#define WAKE_MARGIN_NS 30000   /* stop sleeping this long before a departure */

static volatile sig_atomic_t force_quit;
static volatile sig_atomic_t dump_stats;

/* One direction of the link. */
struct lk_dir {
	const char *name;
	uint16_t in_port;
	uint16_t out_port;
	struct lk_impair impair;
	struct lk_holdq holdq;
	struct lk_order order;
	struct lk_counters cnt;
} __rte_cache_aligned;

struct linkem {
	struct lk_options opt;
	struct lk_classify_cfg classify;
	struct rte_mempool *pool;
	uint32_t hold_cap;          /* frames both hold queues may keep */
	struct lk_dir dir[2];
	FILE *log;
	uint64_t tsc0;
	double ns_per_cycle;
	double cycles_per_ns;
};

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_stats = 1;
	else
		force_quit = 1;
}

static inline uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t
tsc_to_ns(const struct linkem *lk, uint64_t tsc)
{
	return (uint64_t)((double)(tsc - lk->tsc0) * lk->ns_per_cycle);
}

static inline uint64_t
ns_to_tsc(const struct linkem *lk, uint64_t ns)
{
	return lk->tsc0 + (uint64_t)((double)ns * lk->cycles_per_ns);
}

static inline struct lk_meta *
meta_of(struct rte_mbuf *m)
{
	return rte_mbuf_to_priv(m);
}

/* ---- per packet ---- */

static inline bool
hold_full(const struct linkem *lk)
{
	return lk->dir[0].holdq.count + lk->dir[1].holdq.count >=
	       lk->hold_cap;
}

/* Holds a duplicate of m to leave right after it. */
static inline int
hold_copy(struct linkem *lk, struct lk_dir *d, struct rte_mbuf *m,
	  uint64_t depart_ns)
{
	struct rte_mbuf *copy;

	if (hold_full(lk))
		return -ENOBUFS;
	copy = rte_pktmbuf_copy(m, lk->pool, 0, UINT32_MAX);
	if (copy == NULL)
		return -ENOBUFS;
	*meta_of(copy) = *meta_of(m);
	meta_of(copy)->copy = true;
	if (lk_holdq_push(&d->holdq, ns_to_tsc(lk, depart_ns), copy) < 0) {
		rte_pktmbuf_free(copy);
		return -ENOBUFS;
	}
	return 0;
}

/* Impairs one frame: logs and frees it when dropped, holds it (and its
 * copy) until departure otherwise. */
static inline void
impair_frame(struct linkem *lk, struct lk_dir *d, struct rte_mbuf *m,
	     const struct lk_pkt_info *info, uint64_t now_ns,
	     uint64_t now_real)
{
	struct lk_meta *meta = meta_of(m);
	struct lk_verdict v;

	d->cnt.v[LK_CNT_IMPAIRED]++;
	lk_impair_decide(&d->impair, now_ns, m->pkt_len, &v);
	meta->info = *info;
	meta->len = m->pkt_len;
	meta->arrival_ns = now_ns;
	meta->arrival_real = now_real;
	meta->verdict = v;
	meta->copy = false;
	if (v.fate != LK_FATE_FWD) {
		d->cnt.v[LK_CNT_DROP_LOSS + v.fate - LK_FATE_DROP_LOSS]++;
		lk_log_packet(lk->log, d->name, meta, 0, -1);
		rte_pktmbuf_free(m);
		return;
	}
	if (v.held)
		d->cnt.v[LK_CNT_HELD]++;
	if (hold_full(lk) ||
	    lk_holdq_push(&d->holdq, ns_to_tsc(lk, v.depart_ns), m) < 0) {
		meta->verdict.fate = LK_FATE_DROP_POOL;
		d->cnt.v[LK_CNT_DROP_POOL]++;
		lk_log_packet(lk->log, d->name, meta, 0, -1);
		rte_pktmbuf_free(m);
		return;
	}
	if (v.dup && hold_copy(lk, d, m, v.depart_ns) < 0) {
		struct lk_meta lost = *meta;

		lost.copy = true;
		lost.verdict.fate = LK_FATE_DROP_POOL;
		d->cnt.v[LK_CNT_DROP_POOL]++;
		lk_log_packet(lk->log, d->name, &lost, 0, -1);
	}
}

/* Receives a burst on the direction's input and sorts it. */
static inline unsigned
rx_dir(struct linkem *lk, struct lk_dir *d)
{
	struct rte_mbuf *pkts[BURST], *pass[BURST];
	struct lk_pkt_info info;
	uint64_t now_ns, now_real;
	unsigned i, nb, npass = 0, sent;

	nb = rte_eth_rx_burst(d->in_port, 0, pkts, BURST);
	if (nb == 0)
		return 0;
	now_ns = tsc_to_ns(lk, rte_rdtsc());
	now_real = realtime_ns();
	d->cnt.v[LK_CNT_RX] += nb;
	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = pkts[i];
		enum lk_kind kind;

		if (i + 1 < nb)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		kind = lk_classify(rte_pktmbuf_mtod(m, const uint8_t *),
				   rte_pktmbuf_data_len(m), &lk->classify,
				   &info);
		if (kind == LK_KIND_PASS)
			pass[npass++] = m;
		else
			impair_frame(lk, d, m, &info, now_ns, now_real);
	}
	if (npass > 0) {
		sent = rte_eth_tx_burst(d->out_port, 0, pass, npass);
		d->cnt.v[LK_CNT_PASS] += sent;
		if (sent < npass) {
			d->cnt.v[LK_CNT_TX_FAIL] += npass - sent;
			rte_pktmbuf_free_bulk(pass + sent, npass - sent);
		}
	}
	return nb;
}

/* Sends what is due at the head of the hold queue. */
static inline unsigned
tx_dir(struct linkem *lk, struct lk_dir *d)
{
	struct rte_mbuf *out[BURST];
	uint64_t now_tsc = rte_rdtsc(), now_ns, tx_real;
	unsigned n = 0, i, sent;

	while (n < BURST && d->holdq.count > 0 &&
	       lk_holdq_head(&d->holdq) <= now_tsc)
		out[n++] = lk_holdq_pop(&d->holdq);
	if (n == 0)
		return 0;
	now_ns = tsc_to_ns(lk, now_tsc);
	tx_real = realtime_ns();
	for (i = 0; i < n; i++) {
		struct lk_meta *meta = meta_of(out[i]);
		uint64_t due = meta->verdict.depart_ns;
		uint64_t late = now_ns > due ? now_ns - due : 0;
		int reordered = 0;

		if (late > d->cnt.v[LK_CNT_LATE_MAX_NS])
			d->cnt.v[LK_CNT_LATE_MAX_NS] = late;
		d->cnt.v[LK_CNT_LATE_SUM_NS] += late;
		if (meta->copy) {
			d->cnt.v[LK_CNT_DUP]++;
		} else {
			d->cnt.v[LK_CNT_FWD]++;
			if (meta->info.has_seq) {
				reordered = lk_order_depart(&d->order,
							    &meta->info.flow,
							    meta->info.seq);
				if (reordered > 0)
					d->cnt.v[LK_CNT_REORDERED]++;
			} else {
				reordered = -1;
			}
		}
		lk_log_packet(lk->log, d->name, meta, tx_real, reordered);
	}
	sent = rte_eth_tx_burst(d->out_port, 0, out, n);
	d->cnt.v[LK_CNT_TX] += sent;
	if (sent < n) {
		d->cnt.v[LK_CNT_TX_FAIL] += n - sent;
		rte_pktmbuf_free_bulk(out + sent, n - sent);
	}
	return n;
}

/* Back-off when idle: sleep, but never past the next departure. */
static void
idle_sleep(struct linkem *lk)
{
	uint64_t sleep_ns = (uint64_t)lk->opt.idle_sleep_us * 1000;
	uint64_t now = rte_rdtsc();
	struct timespec ts;
	int i;

	for (i = 0; i < 2; i++) {
		struct lk_dir *d = &lk->dir[i];
		uint64_t head, until;

		if (d->holdq.count == 0)
			continue;
		head = lk_holdq_head(&d->holdq);
		if (head <= now)
			return;
		until = (uint64_t)((double)(head - now) * lk->ns_per_cycle);
		/* waking up takes tens of microseconds: spin the rest */
		until = until > WAKE_MARGIN_NS ? until - WAKE_MARGIN_NS : 0;
		if (until < sleep_ns)
			sleep_ns = until;
	}
	if (sleep_ns < 1000)
		return;
	ts.tv_sec = (time_t)(sleep_ns / 1000000000ULL);
	ts.tv_nsec = (long)(sleep_ns % 1000000000ULL);
	nanosleep(&ts, NULL);
}

static void
write_stats(struct linkem *lk)
{
	struct lk_port_stats ps[2];
	uint16_t port[2] = { lk->opt.port_a, lk->opt.port_b };
	int i;

	for (i = 0; i < 2; i++) {
		struct rte_eth_stats st;

		memset(&ps[i], 0, sizeof(ps[i]));
		if (rte_eth_stats_get(port[i], &st) == 0) {
			ps[i].ipackets = st.ipackets;
			ps[i].imissed = st.imissed;
			ps[i].ierrors = st.ierrors;
			ps[i].rx_nombuf = st.rx_nombuf;
			ps[i].opackets = st.opackets;
			ps[i].oerrors = st.oerrors;
		}
	}
	lk_stats_write(stdout, &lk->dir[0].cnt, &lk->dir[1].cnt, ps);
	fflush(stdout);
	if (lk->opt.stats_path[0] != '\0') {
		FILE *f = fopen(lk->opt.stats_path, "w");

		if (f == NULL) {
			LK_LOG(ERR, "cannot write %s: %s\n",
			       lk->opt.stats_path, strerror(errno));
			return;
		}
		lk_stats_write(f, &lk->dir[0].cnt, &lk->dir[1].cnt, ps);
		fclose(f);
	}
	if (lk->log != NULL)
		fflush(lk->log);
}

static void
main_loop(struct linkem *lk)
{
	unsigned idle = 0, work;
	uint64_t drain_end;
	int i;

	LK_LOG(INFO, "forwarding on lcore %u\n", rte_lcore_id());
	while (!force_quit) {
		work = 0;
		for (i = 0; i < 2; i++)
			work += rx_dir(lk, &lk->dir[i]);
		for (i = 0; i < 2; i++)
			work += tx_dir(lk, &lk->dir[i]);
		if (work > 0) {
			idle = 0;
		} else if (++idle >= IDLE_TURNS && lk->opt.idle_sleep_us) {
			idle_sleep(lk);
		}
		if (dump_stats) {
			dump_stats = 0;
			write_stats(lk);
		}
	}
	/* Stop receiving; what is held still leaves at its time. */
	drain_end = rte_rdtsc() + (uint64_t)((double)DRAIN_MAX_NS *
					     lk->cycles_per_ns);
	while ((lk->dir[0].holdq.count > 0 || lk->dir[1].holdq.count > 0) &&
	       rte_rdtsc() < drain_end) {
		work = 0;
		for (i = 0; i < 2; i++)
			work += tx_dir(lk, &lk->dir[i]);
		if (work == 0 && lk->opt.idle_sleep_us)
			idle_sleep(lk);
	}
	for (i = 0; i < 2; i++) {
		struct lk_dir *d = &lk->dir[i];

		while (d->holdq.count > 0) {
			d->cnt.v[LK_CNT_UNSENT_AT_EXIT]++;
			rte_pktmbuf_free(lk_holdq_pop(&d->holdq));
		}
	}
}

/* ---- init ---- */

static uint32_t
pool_size(const struct lk_options *o)
{
	const struct lk_spec *sp[2] = { &o->ab, &o->ba };
	double total = 0;
	int i;

	if (o->mbufs > 0)
		return o->mbufs;
	for (i = 0; i < 2; i++) {
		const struct lk_spec *s = sp[i];
		/* Frames held at once: arrival rate x longest delay, plus the
		 * rate limiter's queue, plus copies. */
		double pps = s->rate_bps ? (double)s->rate_bps / (64 * 8) :
					   o->max_pps;
		double held;

		if (!s->rate_bps && pps > o->max_pps)
			pps = o->max_pps;
		if (s->rate_bps && pps > o->max_pps)
			pps = o->max_pps;
		held = pps * (double)lk_spec_max_delay_ns(s) / 1e9;
		held += s->limit_pkts;
		if (s->limit_bytes)
			held += (double)s->limit_bytes / 60;
		total += held * (1.0 + s->dup);
	}
	total += 2 * (RX_DESC + TX_DESC) + 2 * BURST + MBUF_CACHE * 2;
	if (total < MBUFS_MIN)
		total = MBUFS_MIN;
	if (total > MBUFS_MAX) {
		LK_LOG(WARNING, "hold queue wants %.0f buffers; capped at %u "
		       "(frames beyond are dropped as rx_nombuf)\n", total,
		       MBUFS_MAX);
		total = MBUFS_MAX;
	}
	return (uint32_t)total;
}

static void
port_init(struct linkem *lk, uint16_t port)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = RX_DESC, nb_txd = TX_DESC;
	int rc;

	if (!rte_eth_dev_is_valid_port(port))
		rte_exit(EXIT_FAILURE,
			 "linkem: port %u does not exist (%u ports; give "
			 "--vdev or bind a NIC)\n", port,
			 rte_eth_dev_count_avail());
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		rte_exit(EXIT_FAILURE, "linkem: port %u: info: %s\n", port,
			 strerror(-rc));
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, nb_rxd,
					    rte_eth_dev_socket_id(port), NULL,
					    lk->pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, nb_txd,
					    rte_eth_dev_socket_id(port), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc != 0)
		rte_exit(EXIT_FAILURE, "linkem: port %u (%s): setup: %s\n",
			 port, info.driver_name, strerror(-rc));
	/* A wire in the middle sees frames for other MACs. */
	rc = rte_eth_promiscuous_enable(port);
	if (rc != 0)
		LK_LOG(WARNING, "port %u: promiscuous mode: %s\n", port,
		       strerror(-rc));
}

static void
dir_init(struct linkem *lk, int i, const char *name, uint16_t in,
	 uint16_t out, const struct lk_spec *spec, uint32_t nb_mbufs)
{
	struct lk_dir *d = &lk->dir[i];
	char text[1024];
	int rc;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->in_port = in;
	d->out_port = out;
	rc = lk_impair_init(&d->impair, spec);
	if (rc == 0)
		rc = lk_holdq_init(&d->holdq, nb_mbufs);
	if (rc != 0)
		rte_exit(EXIT_FAILURE, "linkem: %s: %s\n", name,
			 strerror(-rc));
	lk_spec_format(spec, text, sizeof(text));
	LK_LOG(INFO, "%s (port %u -> %u): %s\n", name, in, out, text);
}

/* The options after "--" are parsed before EAL, so that a bad spec is
 * reported before anything is touched. */
static int
split_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return argc;
}

int
main(int argc, char **argv)
{
	static struct linkem lk;
	char err[512];
	uint32_t nb_mbufs;
	int sep, rc, i;

	/* drops are counted at LK_CNT_DROP_LOSS + (fate - LK_FATE_DROP_LOSS) */
	RTE_BUILD_BUG_ON(LK_CNT_DROP_POOL - LK_CNT_DROP_LOSS !=
			 LK_FATE_DROP_POOL - LK_FATE_DROP_LOSS);
	sep = split_args(argc, argv);
	for (i = 1; i < sep; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			lk_usage(argv[0]);
			return 0;
		}
	rc = lk_options_parse(sep < argc ? argc - sep - 1 : 0, argv + sep + 1,
			      &lk.opt, err, sizeof(err));
	if (rc == 1) {
		lk_usage(argv[0]);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "linkem: %s\n", err);
		return 2;
	}
	lk.classify.stamp_port = lk.opt.stamp_port;
	lk.classify.auth = lk.opt.auth;
	lk.classify.impair_all = lk.opt.impair_all;

	rc = rte_eal_init(sep, argv);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "linkem: EAL init failed: %s\n",
			 rte_strerror(rte_errno));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	if (lk.opt.idle_sleep_us > 0)
		prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	if (lk.opt.log_path[0] != '\0') {
		lk.log = fopen(lk.opt.log_path, "w");
		if (lk.log == NULL)
			rte_exit(EXIT_FAILURE, "linkem: --log %s: %s\n",
				 lk.opt.log_path, strerror(errno));
		setvbuf(lk.log, NULL, _IOFBF, 1 << 20);
		lk_log_header(lk.log);
	}

	nb_mbufs = pool_size(&lk.opt);
	lk.pool = rte_pktmbuf_pool_create("linkem_pool", nb_mbufs, MBUF_CACHE,
					  RTE_ALIGN(sizeof(struct lk_meta),
						    RTE_MBUF_PRIV_ALIGN),
					  RTE_MBUF_DEFAULT_BUF_SIZE,
					  rte_socket_id());
	if (lk.pool == NULL)
		rte_exit(EXIT_FAILURE,
			 "linkem: cannot allocate %u buffers (%s); lower "
			 "--mbufs or give EAL more memory (-m)\n", nb_mbufs,
			 rte_strerror(rte_errno));
	lk.hold_cap = nb_mbufs - MBUFS_RESERVE;
	LK_LOG(INFO, "%u buffers, %u for held frames\n", nb_mbufs,
	       lk.hold_cap);

	lk.tsc0 = rte_rdtsc();
	lk.cycles_per_ns = (double)rte_get_tsc_hz() / 1e9;
	lk.ns_per_cycle = 1.0 / lk.cycles_per_ns;
	dir_init(&lk, 0, "ab", lk.opt.port_a, lk.opt.port_b, &lk.opt.ab,
		 nb_mbufs);
	dir_init(&lk, 1, "ba", lk.opt.port_b, lk.opt.port_a, &lk.opt.ba,
		 nb_mbufs);
	port_init(&lk, lk.opt.port_a);
	port_init(&lk, lk.opt.port_b);

	main_loop(&lk);

	write_stats(&lk);
	if (lk.log != NULL && fclose(lk.log) != 0)
		LK_LOG(ERR, "--log %s: %s\n", lk.opt.log_path,
		       strerror(errno));
	lk.log = NULL;
	for (i = 0; i < 2; i++) {
		uint16_t port = i == 0 ? lk.opt.port_a : lk.opt.port_b;

		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
		lk_holdq_free(&lk.dir[i].holdq);
		lk_impair_free(&lk.dir[i].impair);
	}
	lk_options_free(&lk.opt);
	rte_eal_cleanup();
	return 0;
}
