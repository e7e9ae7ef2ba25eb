/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hold queue: frames waiting for their departure time, ordered by
 * deadline (a binary min-heap). Equal deadlines leave in the order they
 * were pushed, so a duplicate follows its original and fixed delay keeps
 * the arrival order. The main loop only looks at the head each turn.
 */
#ifndef LINKEM_HOLDQ_H
#define LINKEM_HOLDQ_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct lk_holdq_entry {
	uint64_t deadline;          /* TSC (or any monotonic unit) */
	uint64_t order;             /* push counter: ties leave FIFO */
	void *pkt;
};

struct lk_holdq {
	struct lk_holdq_entry *e;
	uint32_t cap;
	uint32_t count;
	uint64_t pushed;
};

static inline int
lk_holdq_init(struct lk_holdq *q, uint32_t cap)
{
	q->e = calloc(cap ? cap : 1, sizeof(*q->e));
	q->cap = cap;
	q->count = 0;
	q->pushed = 0;
	return q->e == NULL ? -ENOMEM : 0;
}

static inline void
lk_holdq_free(struct lk_holdq *q)
{
	free(q->e);
	q->e = NULL;
	q->cap = q->count = 0;
}

static inline bool
lk_holdq_before(const struct lk_holdq_entry *a,
		const struct lk_holdq_entry *b)
{
	return a->deadline < b->deadline ||
	       (a->deadline == b->deadline && a->order < b->order);
}

/* 0, or -ENOSPC when full (the caller counts the drop). */
static inline int
lk_holdq_push(struct lk_holdq *q, uint64_t deadline, void *pkt)
{
	struct lk_holdq_entry x = { deadline, q->pushed, pkt };
	uint32_t i, parent;

	if (q->count == q->cap)
		return -ENOSPC;
	q->pushed++;
	i = q->count++;
	while (i > 0) {
		parent = (i - 1) / 2;
		if (!lk_holdq_before(&x, &q->e[parent]))
			break;
		q->e[i] = q->e[parent];
		i = parent;
	}
	q->e[i] = x;
	return 0;
}

/* The earliest deadline; only when count > 0. */
static inline uint64_t
lk_holdq_head(const struct lk_holdq *q)
{
	return q->e[0].deadline;
}

/* Removes and returns the head's packet; only when count > 0. */
static inline void *
lk_holdq_pop(struct lk_holdq *q)
{
	void *pkt = q->e[0].pkt;
	struct lk_holdq_entry last = q->e[--q->count];
	uint32_t i = 0, child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= q->count)
			break;
		if (child + 1 < q->count &&
		    lk_holdq_before(&q->e[child + 1], &q->e[child]))
			child++;
		if (!lk_holdq_before(&q->e[child], &last))
			break;
		q->e[i] = q->e[child];
		i = child;
	}
	if (q->count > 0)
		q->e[i] = last;
	return pkt;
}

#endif
