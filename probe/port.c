/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port bring-up: find the DPDK port, place its mbuf pool and tables on
 * the port's NUMA node, enable hardware receive timestamps and checksum
 * checks when offered, queues=N RX/TX queue pairs (RSS over IP addresses
 * and UDP ports when N > 1), the port's sessions spread over the queues,
 * start. Also the --ring-pair loopback wire.
 */
#include <ctype.h>
#include <errno.h>
#include <numa.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "hwts_port.h"
#include "log.h"
#include "neigh.h"
#include "port.h"
#include "reflector.h"
#include "rss.h"
#include "sender.h"

/* Two ring ports A and B, A's TX feeding B's RX and back, one ring each
 * way per queue pair: queue q of A talks to queue q of B. */
static int
ring_pair_create(const struct probe_conf *pc)
{
	struct rte_ring *ab[PROBE_MAX_QUEUES], *ba[PROBE_MAX_QUEUES];
	unsigned nq = 1;
	int a, b;

	for (unsigned i = 0; i < pc->n_ports; i++)
		if (pc->ports[i].queues > nq)
			nq = pc->ports[i].queues;
	for (unsigned q = 0; q < nq; q++) {
		char n1[RTE_RING_NAMESIZE], n2[RTE_RING_NAMESIZE];

		snprintf(n1, sizeof(n1), "mp_ring_ab%u", q);
		snprintf(n2, sizeof(n2), "mp_ring_ba%u", q);
		ab[q] = rte_ring_create(n1, 4096, (int)rte_socket_id(),
					RING_F_SP_ENQ | RING_F_SC_DEQ);
		ba[q] = rte_ring_create(n2, 4096, (int)rte_socket_id(),
					RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (ab[q] == NULL || ba[q] == NULL) {
			PROBE_ERR("--ring-pair: cannot create rings: %s",
				  rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	a = rte_eth_from_rings(pc->ring_pair[0], ba, nq, ab, nq,
			       rte_socket_id());
	b = rte_eth_from_rings(pc->ring_pair[1], ab, nq, ba, nq,
			       rte_socket_id());
	if (a < 0 || b < 0) {
		PROBE_ERR("--ring-pair %s,%s: cannot create ring ports",
			  pc->ring_pair[0], pc->ring_pair[1]);
		return -EINVAL;
	}
	{
		char na[RTE_ETH_NAME_MAX_LEN] = "", nb[RTE_ETH_NAME_MAX_LEN] = "";

		rte_eth_dev_get_name_by_port((uint16_t)a, na);
		rte_eth_dev_get_name_by_port((uint16_t)b, nb);
		PROBE_INFO("ring pair: %s (port %d, '%s') <-> %s (port %d, "
			   "'%s'), %u queue pair(s)", pc->ring_pair[0], a, na,
			   pc->ring_pair[1], b, nb, nq);
	}
	return 0;
}

static int
port_find(const char *device, uint16_t *port_id)
{
	bool digits = device[0] != '\0';

	for (const char *c = device; *c; c++)
		if (!isdigit((unsigned char)*c))
			digits = false;
	if (digits) {
		unsigned long id = strtoul(device, NULL, 10);

		if (id >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(id))
			return -ENODEV;
		*port_id = (uint16_t)id;
		return 0;
	}
	if (rte_eth_dev_get_port_by_name(device, port_id) == 0)
		return 0;
	/* --ring-pair A,B creates "net_ring_A" and "net_ring_B" */
	char ring[RTE_ETH_NAME_MAX_LEN + 16];

	snprintf(ring, sizeof(ring), "net_ring_%s", device);
	return rte_eth_dev_get_port_by_name(ring, port_id) == 0 ? 0 : -ENODEV;
}

static uint32_t
port_largest_frame(const struct probe_app *app, const struct probe_queue *p)
{
	uint32_t max = 1518;

	for (unsigned i = 0; i < p->n_sessions; i++)
		if (p->sessions[i]->conf->frame_size > max)
			max = p->sessions[i]->conf->frame_size;
	(void)app;
	return max;
}

int probe_rx_ns_offset = -1;

static void
tx_tag_clear_obj(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	(void)mp;
	(void)arg;
	(void)idx;
	tx_tag_clear(obj);
}

/* An mbuf pool on the port's NUMA node, else anywhere (with a warning). */
static struct rte_mempool *
port_pool_create(const struct probe_app *app, const struct probe_queue *p,
		 const char *name, uint32_t frame)
{
	uint16_t room = (uint16_t)(RTE_PKTMBUF_HEADROOM + RTE_MAX(2048u, frame));
	uint16_t priv = RTE_ALIGN(sizeof(struct tx_tag), RTE_MBUF_PRIV_ALIGN);
	struct rte_mempool *mp;

	mp = rte_pktmbuf_pool_create(name, app->conf.mbufs, 256, priv, room,
				     p->socket);
	if (mp == NULL) {
		PROBE_WARN("port %s: no memory on socket %d for the mbuf pool"
			   " %s, trying any socket", p->conf->name, p->socket,
			   name);
		mp = rte_pktmbuf_pool_create(name, app->conf.mbufs, 256, priv,
					     room, SOCKET_ID_ANY);
	}
	if (mp == NULL)
		PROBE_ERR("port %s: cannot create %u mbufs (%s): %s (more "
			  "memory: EAL -m, or fewer --mbufs)", p->conf->name,
			  app->conf.mbufs, name, rte_strerror(rte_errno));
	else
		rte_mempool_obj_iter(mp, tx_tag_clear_obj, NULL);
	return mp;
}

/*
 * A kernel peer on the same machine sends UDP with checksum offload on by
 * default: over a veth or tap the frame keeps the partial checksum (the
 * pseudo-header sum only, for a NIC to finish) and the devices that read
 * the kernel's frames (af_packet, tap) do not say so in the mbuf. Only
 * there is that form accepted (and completed, and counted); from a NIC's
 * wire it is an error like any other.
 */
static bool
port_passes_partial_cksum(const struct rte_eth_dev_info *info)
{
	return info->driver_name != NULL &&
		(strcmp(info->driver_name, "net_af_packet") == 0 ||
		 strcmp(info->driver_name, "net_tap") == 0);
}

/* Queues 1..N-1 of a port: copies of queue 0's object (pool, MAC,
 * timestamp and neighbour settings, session map), chained after it. */
static int
port_queues_create(struct probe_queue *p)
{
	struct probe_queue *prev = p;

	for (uint16_t q = 1; q < p->conf->queues; q++) {
		struct probe_queue *x = rte_malloc_socket("port_queue",
			sizeof(*x), RTE_CACHE_LINE_SIZE, p->socket);

		if (x == NULL)
			return -ENOMEM;
		*x = *p;
		x->queue = q;
		x->next = NULL;
		x->sessions = NULL;
		x->n_sessions = 0;
		prev->next = x;
		prev = x;
	}
	return 0;
}

/* Each session is sent (and measured) by the queue RSS will deliver its
 * replies to (rss != NULL), else session j by queue j mod N. */
static int
port_sessions_spread(struct probe_queue *p, const struct rss_plan *rss)
{
	unsigned nq = p->conf->queues, n = p->n_sessions;
	struct probe_session **all = p->sessions;

	if (nq == 1 || n == 0)
		return 0;
	PORT_FOREACH_QUEUE(q, p) {
		q->n_sessions = 0;
		q->sessions = calloc(n, sizeof(q->sessions[0]));
		if (q->sessions == NULL)
			return -ENOMEM;
	}
	for (unsigned j = 0; j < n; j++) {
		const struct session_conf *sc = all[j]->conf;
		const struct probe_addr *local = sc->peer.family == 4 ?
			&p->conf->ip4 : &p->conf->ip6;
		unsigned to = rss == NULL ? j % nq :
			rss_reply_queue(rss, local, sc->src_port, &sc->peer,
					sc->peer_port);
		struct probe_queue *q = p;

		for (unsigned k = 0; k < to; k++)
			q = q->next;
		q->sessions[q->n_sessions++] = all[j];
		all[j]->port = q;
	}
	free(all);
	return 0;
}

/* RSS indirection table entry i -> queue i mod N, the plan's. */
static int
port_reta_set(struct probe_queue *p, const struct rss_plan *plan)
{
	struct rte_eth_rss_reta_entry64 *reta;
	unsigned groups = (plan->reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) /
			  RTE_ETH_RETA_GROUP_SIZE;
	int rc;

	reta = calloc(groups, sizeof(*reta));
	if (reta == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < plan->reta_size; i++) {
		struct rte_eth_rss_reta_entry64 *g =
			&reta[i / RTE_ETH_RETA_GROUP_SIZE];

		g->mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
		g->reta[i % RTE_ETH_RETA_GROUP_SIZE] =
			(uint16_t)(i % plan->n_queues);
	}
	rc = rte_eth_dev_rss_reta_update(p->port_id, reta, plan->reta_size);
	free(reta);
	return rc;
}

/* Per queue: its RX/TX queues, reflector table, hand-off ring. */
static int
port_queue_setup(struct probe_app *app, struct probe_queue *p,
		 uint16_t nb_rx, uint16_t nb_tx)
{
	const struct port_conf *pcf = p->conf;
	char name[RTE_RING_NAMESIZE];
	int rc;

	rc = rte_eth_rx_queue_setup(p->port_id, p->queue, nb_rx,
				    (unsigned)p->socket, NULL, p->pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(p->port_id, p->queue, nb_tx,
					    (unsigned)p->socket, NULL);
	if (rc < 0) {
		PROBE_ERR("port %s: queue %u setup failed: %s", pcf->name,
			  p->queue, rte_strerror(-rc));
		return rc;
	}
	if (pcf->queues > 1) {
		snprintf(name, sizeof(name), "mp_ho_%u_%u", p->idx, p->queue);
		p->handoff = rte_ring_create(name, 2048, p->socket,
					     RING_F_SC_DEQ);
		if (p->handoff == NULL) {
			PROBE_ERR("port %s: cannot create the hand-off ring "
				  "of queue %u: %s", pcf->name, p->queue,
				  rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	for (unsigned i = 0; i < p->n_sessions; i++) {
		rc = session_setup(app, p->sessions[i]);
		if (rc < 0)
			return rc;
	}
	return reflector_setup(app, p);
}

/* The device behind a port, and the queue-0 object's own fields. */
static int
port_open(struct probe_queue *p, struct rte_eth_dev_info *info)
{
	const struct port_conf *pcf = p->conf;
	int rc;

	if (port_find(pcf->device, &p->port_id) < 0) {
		PROBE_ERR("port %s: no DPDK device '%s' (give --vdev or an "
			  "allowed PCI device to EAL)", pcf->name, pcf->device);
		return -ENODEV;
	}
	p->first = p;
	p->queue = 0;
	p->neigh = &p->neigh_store;
	rte_spinlock_init(&p->neigh_store.lock);
	p->socket = rte_eth_dev_socket_id(p->port_id);
	if (p->socket < 0)
		p->socket = (int)rte_socket_id();
	rc = rte_eth_dev_info_get(p->port_id, info);
	if (rc < 0)
		return rc;
	if (pcf->queues > info->max_rx_queues ||
	    pcf->queues > info->max_tx_queues) {
		PROBE_ERR("port %s: queues=%u but device %s has at most %u RX "
			  "and %u TX queues", pcf->name, pcf->queues,
			  pcf->device, info->max_rx_queues,
			  info->max_tx_queues);
		return -EINVAL;
	}
	return 0;
}

/* The receive pool, and the transmit pool of test packets when the
 * port sends. Both carry a struct tx_tag, so a receive path can clear
 * the tag of whatever mbuf it gets (rx.c). */
static int
port_pools_create(struct probe_app *app, struct probe_queue *p,
		  uint32_t frame)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	snprintf(name, sizeof(name), "mp_pool_%u", p->idx);
	p->pool = port_pool_create(app, p, name, frame);
	if (p->pool == NULL)
		return -ENOMEM;
	if (p->n_sessions == 0)
		return 0;
	snprintf(name, sizeof(name), "mp_txpool_%u", p->idx);
	p->tx_pool = port_pool_create(app, p, name, frame);
	return p->tx_pool == NULL ? -ENOMEM : 0;
}

/* Receive offloads the probe uses where the device has them: hardware
 * timestamps, UDP checksum checks (the software check reads the whole
 * datagram). */
static void
port_offloads(struct probe_queue *p, const struct rte_eth_dev_info *info,
	      struct rte_eth_conf *ec)
{
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) {
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
		if (rte_mbuf_dyn_rx_timestamp_register(&p->ts_offset,
						       &p->ts_flag) == 0)
			p->hw_ts = true;
	}
	p->cksum_partial_ok = port_passes_partial_cksum(info);
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
}

/*
 * Several queues: RSS on addresses and UDP ports keeps each session's
 * packets on one queue (RFC 4737 order is per queue). Without RSS the
 * device spreads them its own way (a ring pair: queue to queue;
 * af_packet: the kernel's fanout hash); either way a reply reaching
 * another queue than its session's is handed over. Returns what to say
 * in the port's log line; *planned when the table is ours to set.
 */
static const char *
port_rss_conf(const struct rte_eth_dev_info *info, uint16_t nq,
	      struct rte_eth_conf *ec, struct rss_plan *plan, bool *planned)
{
	uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) &
		info->flow_type_rss_offloads;

	*planned = false;
	if (nq < 2)
		return "";
	if (hf == 0)
		return ", no RSS in the device";
	rss_plan_init(plan, info->hash_key_size, (hf &
		(RTE_ETH_RSS_NONFRAG_IPV4_UDP |
		 RTE_ETH_RSS_NONFRAG_IPV6_UDP)) != 0, info->reta_size, nq);
	*planned = info->reta_size > 0;
	ec->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	ec->rx_adv_conf.rss_conf.rss_hf = hf;
	ec->rx_adv_conf.rss_conf.rss_key = plan->key;
	ec->rx_adv_conf.rss_conf.rss_key_len = plan->key_len;
	return ", RSS";
}

/* Configures the device: queues, MTU for jumbo test frames, ring sizes,
 * the port's MAC (a locally administered one for ring ports). */
static int
port_configure(struct probe_queue *p, const struct rte_eth_conf *ec,
	       uint32_t frame, uint16_t *nb_rx, uint16_t *nb_tx)
{
	const struct port_conf *pcf = p->conf;
	int rc;

	rc = rte_eth_dev_configure(p->port_id, pcf->queues, pcf->queues, ec);
	if (rc < 0) {
		PROBE_ERR("port %s: configure failed: %s", pcf->name,
			  rte_strerror(-rc));
		return rc;
	}
	if (frame > 1518 && rte_eth_dev_set_mtu(p->port_id,
						(uint16_t)(frame - 18)) < 0)
		PROBE_WARN("port %s: cannot set MTU %u for %u-octet frames",
			   pcf->name, frame - 18, frame);
	rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, nb_rx, nb_tx);
	rte_eth_macaddr_get(p->port_id, &p->mac);
	if (rte_is_zero_ether_addr(&p->mac)) {
		struct rte_ether_addr la = {{ 0x02, 0x6d, 0x70, 0, 0,
					      (uint8_t)(p->idx + 1) }};

		p->mac = la;
	}
	return 0;
}

/*
 * How many frames a receive queue holds before the device or the kernel
 * drops: what the driver reports, else af_packet's frame count (its
 * framecnt devarg, 512 by default: it ignores the descriptor count),
 * else the descriptors asked for. The host may have lost packets itself
 * when a poll gap outlasts this at the arrival rate (interval.c).
 */
static uint32_t
port_rx_ring_frames(const struct probe_queue *p,
		    const struct rte_eth_dev_info *info, uint16_t nb_rx)
{
	struct rte_eth_rxq_info qi;
	const struct rte_devargs *da;
	const char *fc;

	if (rte_eth_rx_queue_info_get(p->port_id, 0, &qi) == 0 &&
	    qi.nb_desc > 0)
		return qi.nb_desc;
	if (info->driver_name == NULL ||
	    strcmp(info->driver_name, "net_af_packet") != 0)
		return nb_rx;
	da = info->device != NULL ? rte_dev_devargs(info->device) : NULL;
	fc = da != NULL && da->args != NULL ? strstr(da->args, "framecnt=") :
		NULL;
	return fc != NULL && atoi(fc + 9) > 0 ? (uint32_t)atoi(fc + 9) : 512;
}

/* Static neighbours, and the map from a UDP port to its session. */
static int
port_tables(struct probe_queue *p)
{
	const struct port_conf *pcf = p->conf;

	p->session_by_port = rte_zmalloc_socket("session_by_port",
		65536 * sizeof(uint16_t), 64, p->socket);
	if (p->session_by_port == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < pcf->n_neigh; i++)
		neigh_add(p->neigh, &pcf->neigh[i].ip, pcf->neigh[i].mac);
	for (unsigned i = 0; i < p->n_sessions; i++)
		p->session_by_port[p->sessions[i]->conf->src_port] =
			(uint16_t)(p->sessions[i]->idx + 1);
	return 0;
}

/* Queues 1..N-1, sessions spread over them, every queue set up, the
 * device started, its clock read, the RSS table set. */
static int
port_start(struct probe_app *app, struct probe_queue *p, uint16_t nb_rx,
	   uint16_t nb_tx, const struct rss_plan *plan, const char **rss)
{
	int rc = port_queues_create(p);

	if (rc == 0)
		rc = port_sessions_spread(p, plan);
	if (rc < 0)
		return rc;
	PORT_FOREACH_QUEUE(q, p) {
		rc = port_queue_setup(app, q, nb_rx, nb_tx);
		if (rc < 0)
			return rc;
	}
	rc = rte_eth_dev_start(p->port_id);
	if (rc < 0) {
		PROBE_ERR("port %s: start failed: %s", p->conf->name,
			  rte_strerror(-rc));
		return rc;
	}
	hwts_port_start(app, p);
	if (plan != NULL && port_reta_set(p, plan) < 0) {
		PROBE_WARN("port %s: cannot set the RSS table: replies may "
			   "reach another queue than their session's and are "
			   "then handed over in software", p->conf->name);
		*rss = ", RSS (device's own table)";
	}
	return 0;
}

static int
port_setup(struct probe_app *app, struct probe_queue *p)
{
	const struct port_conf *pcf = p->conf;
	struct rte_eth_dev_info info;
	struct rte_eth_conf ec;
	uint16_t nb_rx = pcf->rx_desc, nb_tx = pcf->tx_desc;
	uint32_t frame = port_largest_frame(app, p);
	unsigned n_sessions = p->n_sessions;   /* before the spread */
	struct rss_plan plan;
	const char *rss;
	bool planned;
	int rc;

	if ((rc = port_open(p, &info)) < 0 ||
	    (rc = port_pools_create(app, p, frame)) < 0)
		return rc;
	memset(&ec, 0, sizeof(ec));
	port_offloads(p, &info, &ec);
	rss = port_rss_conf(&info, pcf->queues, &ec, &plan, &planned);
	if ((rc = port_configure(p, &ec, frame, &nb_rx, &nb_tx)) < 0)
		return rc;
	p->rx_ring_frames = port_rx_ring_frames(p, &info, nb_rx);
	if ((rc = port_tables(p)) < 0 ||
	    (rc = port_start(app, p, nb_rx, nb_tx, planned ? &plan : NULL,
			     &rss)) < 0)
		return rc;
	PROBE_INFO("port %s: DPDK port %u (%s), socket %d, MAC "
		   RTE_ETHER_ADDR_PRT_FMT ", %u queue pair(s)%s, %u sessions, "
		   "reflector %s on UDP %u%s", pcf->name, p->port_id,
		   pcf->device, p->socket, RTE_ETHER_ADDR_BYTES(&p->mac),
		   pcf->queues, rss, n_sessions, pcf->reflector ==
		   REFL_OFF ? "off" : pcf->reflector == REFL_STATEFUL ?
		   "stateful" : "stateless", pcf->stamp_port,
		   p->hw_ts ? ", hardware rx timestamps" : "");
	return 0;
}

/* Software devices that share the machine's cores with everything else. */
static bool
port_is_virtual(uint16_t port_id)
{
	static const char *const vdevs[] = {
		"net_af_packet", "net_ring", "net_pcap", "net_null",
		"net_memif", "net_tap", "net_vhost", "net_virtio_user",
		"net_af_xdp", NULL
	};
	struct rte_eth_dev_info info;

	if (rte_eth_dev_info_get(port_id, &info) != 0 ||
	    info.driver_name == NULL)
		return false;
	for (unsigned i = 0; vdevs[i] != NULL; i++)
		if (strncmp(info.driver_name, vdevs[i], strlen(vdevs[i])) == 0)
			return true;
	return false;
}

/* --idle-sleep-us not given: back off on virtual wires, busy-poll NICs. */
static void
idle_auto(struct probe_app *app)
{
	bool all_virtual = true;

	if (app->conf.idle_sleep_us != PROBE_IDLE_AUTO)
		return;
	for (unsigned i = 0; i < app->n_ports; i++)
		if (!port_is_virtual(app->ports[i].port_id))
			all_virtual = false;
	app->conf.idle_sleep_us = all_virtual ? PROBE_IDLE_VDEV_US : 0;
	PROBE_INFO("idle back-off: %s", all_virtual ?
		   "sleep up to 50 us when idle (virtual devices only; "
		   "--idle-sleep-us 0 to busy-poll)" :
		   "busy poll (a NIC port)");
}

int
port_setup_all(struct probe_app *app)
{
	const struct probe_conf *pc = &app->conf;
	int rc;

	if (pc->ring_pair[0][0] != '\0') {
		rc = ring_pair_create(pc);
		if (rc < 0)
			return rc;
	}
	if (numa_available() >= 0)
		PROBE_INFO("NUMA: %d node(s) configured",
			   numa_num_configured_nodes());
	{
		static const struct rte_mbuf_dynfield rx_ns = {
			.name = "metroprobe_dynfield_rx_ns",
			.size = sizeof(uint64_t),
			.align = __alignof__(uint64_t),
		};

		probe_rx_ns_offset = rte_mbuf_dynfield_register(&rx_ns);
		if (probe_rx_ns_offset < 0) {
			PROBE_ERR("cannot register an mbuf field: %s",
				  rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	for (unsigned i = 0; i < app->n_ports; i++) {
		rc = port_setup(app, &app->ports[i]);
		if (rc < 0)
			return rc;
	}
	idle_auto(app);
	return 0;
}

void
port_close_all(struct probe_app *app)
{
	for (unsigned i = 0; i < app->n_ports; i++) {
		struct probe_queue *p = &app->ports[i];

		if (p->pool == NULL)
			continue;
		hwts_port_log_summary(p);
		rte_eth_dev_stop(p->port_id);
		rte_eth_dev_close(p->port_id);
	}
}
