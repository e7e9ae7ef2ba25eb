/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --capture FILE: test packets sent and received, written by the control
 * thread from the data-plane rings to a nanosecond pcap, up to a packet
 * count or file size limit.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>

#include <rte_malloc.h>

#include "capture.h"
#include "clock.h"
#include "log.h"
#include "probe-t.h"

#define CAPTURE_RING_SIZE 4096

static struct {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	uint64_t written, bytes;
	uint64_t max_count, max_bytes;
	uint32_t snaplen;
	bool stopped;
} cap;

int
capture_open(const struct probe_conf *pc)
{
	if (pc->capture[0] == '\0')
		return 0;
	cap.snaplen = pc->capture_snaplen;
	cap.max_count = pc->capture_count;
	cap.max_bytes = pc->capture_size;
	cap.dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB,
		(int)cap.snaplen, PCAP_TSTAMP_PRECISION_NANO);
	if (cap.dead == NULL)
		return -ENOMEM;
	cap.dumper = pcap_dump_open(cap.dead, pc->capture);
	if (cap.dumper == NULL) {
		PROBE_ERR("--capture %s: %s", pc->capture,
			  pcap_geterr(cap.dead));
		pcap_close(cap.dead);
		cap.dead = NULL;
		return -EIO;
	}
	cap.bytes = 24;   /* pcap file header */
	return 0;
}

struct capture_ring *
capture_ring_create(int socket)
{
	struct capture_ring *r;

	if (cap.dumper == NULL)
		return NULL;
	r = rte_zmalloc_socket("capture_ring", sizeof(*r), 64, socket);
	if (r == NULL)
		return NULL;
	r->size = CAPTURE_RING_SIZE;
	r->mask = CAPTURE_RING_SIZE - 1;
	r->snaplen = cap.snaplen;
	r->stride = (uint32_t)RTE_ALIGN_CEIL(sizeof(struct capture_entry) +
					     cap.snaplen, 8);
	r->entries = rte_zmalloc_socket("capture_entries",
					(size_t)r->stride * r->size, 64,
					socket);
	if (r->entries == NULL) {
		rte_free(r);
		return NULL;
	}
	r->enabled = true;
	return r;
}

static void
capture_stop(struct capture_ring **rings, unsigned n, const char *why)
{
	for (unsigned i = 0; i < n; i++)
		__atomic_store_n(&rings[i]->enabled, false, __ATOMIC_RELAXED);
	if (!cap.stopped)
		PROBE_INFO("capture: stopped after %" PRIu64 " packets (%s)",
			   cap.written, why);
	cap.stopped = true;
}

void
capture_drain(struct capture_ring **rings, unsigned n)
{
	struct probe_clock clk;

	if (cap.dumper == NULL)
		return;
	clock_read(&clk);
	for (unsigned i = 0; i < n; i++) {
		struct capture_ring *r = rings[i];
		uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		uint32_t tail = r->tail;

		while (tail != head) {
			const struct capture_entry *e =
				(const struct capture_entry *)(r->entries +
				(size_t)(tail & r->mask) * r->stride);
			struct pcap_pkthdr h;
			uint64_t ns = clock_tsc_to_ns(&clk, e->tsc);

			tail++;
			if (cap.stopped)
				continue;
			if ((cap.max_count && cap.written >= cap.max_count) ||
			    (cap.max_bytes && cap.bytes + 16 + e->cap_len >
			     cap.max_bytes)) {
				capture_stop(rings, n, cap.max_count &&
					     cap.written >= cap.max_count ?
					     "--capture-count reached" :
					     "--capture-size reached");
				continue;
			}
			/* nanosecond precision: tv_usec holds nanoseconds */
			h.ts.tv_sec = (time_t)(ns / 1000000000ULL);
			h.ts.tv_usec = (suseconds_t)(ns % 1000000000ULL);
			h.caplen = e->cap_len;
			h.len = e->wire_len;
			pcap_dump((u_char *)cap.dumper, &h, e->data);
			cap.written++;
			cap.bytes += 16 + e->cap_len;
		}
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	}
	pcap_dump_flush(cap.dumper);
}

void
capture_close(void)
{
	if (cap.dumper != NULL) {
		pcap_dump_close(cap.dumper);
		cap.dumper = NULL;
	}
	if (cap.dead != NULL) {
		pcap_close(cap.dead);
		cap.dead = NULL;
	}
}

uint64_t
capture_written(void)
{
	return cap.written;
}
