/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A link's SLA evaluation from the per-minute figures and the exact hour
 * rollups of the store (report_fast.c), for the report's second pass
 * (report_build.c). Internal to collector/reporting.
 */
#ifndef METROPROBE_COLLECTOR_REPORT_FAST_H
#define METROPROBE_COLLECTOR_REPORT_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "sla.h"
#include "store.h"

struct report_seg;

/* What the figures path of one thread keeps, reused link after link. */
struct report_fast {
	struct sla_link_eval *ev;
	uint64_t from_ns, to_ns;
	uint64_t unit;              /* chart point length, 0: no chart pass */
	uint64_t h0;                /* hour of slot 0 */
	size_t n_slots;             /* hours from h0 */
	uint64_t *mins;             /* bit per minute from h0: has figures */
	uint8_t *exact;             /* per hour: an exact hour rollup */
	int64_t *taken;             /* per hour: chart point reading it */
	struct report_seg *seg;
	size_t n_seg, cap_seg;
	const struct report_seg *cur;       /* the range being read */
	uint64_t n_figs, n_hours, n_records;
};

/* For links evaluated over [from_ns, to_ns). Returns 0 or -ENOMEM;
 * report_fast_free releases it either way. */
int report_fast_init(struct report_fast *fa, uint64_t from_ns,
		     uint64_t to_ns);
void report_fast_free(struct report_fast *fa);

/*
 * Evaluates the link (probe, session) into ev, begun and given nothing
 * yet, from its figures. Returns 0; -EAGAIN, -EDOM, -EIO or -ENOTSUP
 * when the figures do not fit the records, cannot be read or are not
 * kept, and the link needs its records (ev is then to be aborted); or
 * another negative errno. fa counts what was read.
 */
int report_fast_eval(struct store *st, struct store_reader *rd,
		     const char *probe, const char *session,
		     struct sla_link_eval *ev, struct report_fast *fa);

#endif
