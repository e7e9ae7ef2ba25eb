/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture without blocking the data plane: each data-plane lcore
 * copies the first snaplen octets of a test packet into its own
 * single-producer single-consumer ring; the control thread drains the
 * rings into a nanosecond pcap (libpcap pcap_dump).
 */
#ifndef PROBE_CAPTURE_H
#define PROBE_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_mbuf.h>

struct capture_entry {
	uint64_t tsc;
	uint32_t wire_len;
	uint16_t cap_len;
	uint16_t pad;
	uint8_t data[];
};

struct capture_ring {
	uint32_t head __rte_cache_aligned;  /* producer */
	uint64_t full;
	uint32_t tail __rte_cache_aligned;  /* consumer */
	uint32_t size, mask, stride, snaplen;
	bool enabled;
	uint8_t *entries;
};

/* Returns false when the ring was full (the caller counts the drop). */
static inline bool
capture_packet(struct capture_ring *r, const struct rte_mbuf *m,
	       uint64_t tsc)
{
	struct capture_entry *e;
	uint32_t head, tail, len;

	if (r == NULL || !__atomic_load_n(&r->enabled, __ATOMIC_RELAXED))
		return true;
	head = r->head;
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	if (head - tail >= r->size) {
		r->full++;
		return false;
	}
	e = (struct capture_entry *)(r->entries +
				     (size_t)(head & r->mask) * r->stride);
	len = rte_pktmbuf_data_len(m);
	e->tsc = tsc;
	e->wire_len = rte_pktmbuf_pkt_len(m);
	e->cap_len = (uint16_t)(len < r->snaplen ? len : r->snaplen);
	memcpy(e->data, rte_pktmbuf_mtod(m, const uint8_t *), e->cap_len);
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return true;
}

struct probe_conf;
int capture_open(const struct probe_conf *pc);
struct capture_ring *capture_ring_create(int socket);
/* Control thread: write what the rings hold. */
void capture_drain(struct capture_ring **rings, unsigned n);
void capture_close(void);
uint64_t capture_written(void);

#endif
