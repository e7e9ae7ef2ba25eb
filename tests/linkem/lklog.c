/* SPDX-License-Identifier: BSD-3-Clause */
/* linkem's per-packet CSV log and totals. */
#include <inttypes.h>
#include <stdio.h>

#include "lklog.h"

static const char *const counter_names[LK_CNT_COUNT] = {
#define _(sym, str) str,
	foreach_lk_counter(_)
#undef _
};

void
lk_log_header(FILE *f)
{
	if (f == NULL)
		return;
	fputs("dir,kind,flow,ssid,seq,sender_seq,len,arrival_ns,fate,reason,"
	      "delay_ns,queue_ns,jitter_ns,hold_ns,depart_ns,tx_ns,copy,held,"
	      "reordered\n", f);
}

static char
kind_letter(uint8_t kind)
{
	switch (kind) {
	case LK_KIND_SENDER:
		return 's';
	case LK_KIND_REFLECTOR:
		return 'r';
	default:
		return 'o';
	}
}

void
lk_log_packet(FILE *f, const char *dir, const struct lk_meta *m,
	      uint64_t tx_real, int reordered)
{
	const struct lk_verdict *v = &m->verdict;
	char flow[128], seq[16] = "", sseq[16] = "";

	if (f == NULL)
		return;
	lk_flow_format(&m->info.flow, flow, sizeof(flow));
	if (m->info.has_seq)
		snprintf(seq, sizeof(seq), "%" PRIu32, m->info.seq);
	if (m->info.has_sender_seq)
		snprintf(sseq, sizeof(sseq), "%" PRIu32, m->info.sender_seq);
	fprintf(f, "%s,%c,%s,%u,%s,%s,%u,%" PRIu64 ",", dir,
		kind_letter(m->info.flow.kind), flow, m->info.ssid, seq, sseq,
		m->len, m->arrival_real);
	if (v->fate != LK_FATE_FWD) {
		fprintf(f, "drop,%s,,,,,,,%d,%d,\n", lk_fate_reason(v->fate),
			m->copy, v->held);
		return;
	}
	fprintf(f, "fwd,,%" PRIu64 ",%" PRIu64 ",%" PRId64 ",%" PRIu64
		",%" PRIu64 ",%" PRIu64 ",%d,%d,",
		v->depart_ns - m->arrival_ns, v->queue_ns, v->jitter_ns,
		v->hold_ns, m->arrival_real + (v->depart_ns - m->arrival_ns),
		tx_real, m->copy, v->held);
	if (reordered >= 0)
		fprintf(f, "%d", reordered);
	fputc('\n', f);
}

static void
write_counters(FILE *f, const char *name, const struct lk_counters *c)
{
	int i;

	fprintf(f, "\"%s\":{", name);
	for (i = 0; i < LK_CNT_COUNT; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "",
			counter_names[i], c->v[i]);
	fputc('}', f);
}

static void
write_port(FILE *f, const char *name, const struct lk_port_stats *p)
{
	fprintf(f, "\"%s\":{\"ipackets\":%" PRIu64 ",\"imissed\":%" PRIu64
		",\"ierrors\":%" PRIu64 ",\"rx_nombuf\":%" PRIu64
		",\"opackets\":%" PRIu64 ",\"oerrors\":%" PRIu64 "}",
		name, p->ipackets, p->imissed, p->ierrors, p->rx_nombuf,
		p->opackets, p->oerrors);
}

void
lk_stats_write(FILE *f, const struct lk_counters *ab,
	       const struct lk_counters *ba,
	       const struct lk_port_stats ports[2])
{
	fputs("{\"linkem\":\"totals\",", f);
	write_counters(f, "ab", ab);
	fputc(',', f);
	write_counters(f, "ba", ba);
	fputc(',', f);
	write_port(f, "port_a", &ports[0]);
	fputc(',', f);
	write_port(f, "port_b", &ports[1]);
	fputs("}\n", f);
}
