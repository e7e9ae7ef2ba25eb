/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every storage back-end shares: store_init completes a back-end's
 * table of operations (store.h) with the defaults of those it leaves out,
 * as libpcap's initialize_ops does, so that no caller tests for one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "store.h"

static int
store_stats_not_supported(struct store *s, struct store_stats *out)
{
	(void)s;
	(void)out;
	return -ENOTSUP;
}

static int
store_latest_not_supported(struct store *s, store_record_fn fn, void *arg)
{
	(void)s;
	(void)fn;
	(void)arg;
	return -ENOTSUP;
}

/*
 * The reader of a back-end without snapshots: it holds nothing but its
 * store, and each of its scans is a scan of the store on its own, so two
 * queries through it may see different data.
 */
struct store_reader {
	struct store *s;
};

static int
store_reader_open_plain(struct store *s, struct store_reader **out)
{
	struct store_reader *rd = malloc(sizeof(*rd));

	*out = NULL;
	if (rd == NULL)
		return -ENOMEM;
	rd->s = s;
	*out = rd;
	return 0;
}

static void
store_reader_close_plain(struct store *s, struct store_reader *rd)
{
	(void)s;
	free(rd);
}

static int
store_reader_scan_plain(struct store *s, struct store_reader *rd,
			const struct store_query *q, store_record_fn fn,
			void *arg)
{
	(void)rd;
	return s->ops.scan(s, q, fn, arg);
}

static int
store_reader_figs_not_supported(struct store *s, struct store_reader *rd,
				const struct store_query *q, bool hists,
				store_figs_fn fn, void *arg)
{
	(void)s;
	(void)rd;
	(void)q;
	(void)hists;
	(void)fn;
	(void)arg;
	return -ENOTSUP;
}

static int
store_reader_exact_hours_not_supported(struct store *s,
				       struct store_reader *rd,
				       const struct store_query *q,
				       store_hour_fn fn, void *arg)
{
	(void)s;
	(void)rd;
	(void)q;
	(void)fn;
	(void)arg;
	return -ENOTSUP;
}

/* What makes a table of operations unusable, or NULL when it is whole. */
static const char *
store_ops_unusable(const struct store_ops *ops)
{
	unsigned readers = (ops->reader_open != NULL) +
			   (ops->reader_close != NULL) +
			   (ops->reader_scan != NULL);

	if (ops->insert == NULL)
		return "no insert operation";
	if (ops->insert_stream == NULL)
		return "no insert_stream operation";
	if (ops->scan == NULL)
		return "no scan operation";
	if (ops->maintain == NULL)
		return "no maintain operation";
	if (ops->close == NULL)
		return "no close operation";
	if (readers == 1 || readers == 2)
		return "reader_open, reader_close and reader_scan come together";
	if (readers == 0 && (ops->reader_figs != NULL ||
			     ops->reader_exact_hours != NULL))
		return "reader_figs and reader_exact_hours need its own readers";
	return NULL;
}

int
store_init(struct store *s, const struct store_ops *ops, char *err,
	   size_t errlen)
{
	const char *why = store_ops_unusable(ops);

	if (why != NULL) {
		snprintf(err, errlen, "storage back-end %s: %s",
			 ops->name != NULL ? ops->name : "(unnamed)", why);
		return -EINVAL;
	}
	s->ops = *ops;
	if (s->ops.stats == NULL)
		s->ops.stats = store_stats_not_supported;
	if (s->ops.latest == NULL)
		s->ops.latest = store_latest_not_supported;
	if (s->ops.reader_open == NULL) {
		s->ops.reader_open = store_reader_open_plain;
		s->ops.reader_close = store_reader_close_plain;
		s->ops.reader_scan = store_reader_scan_plain;
	}
	if (s->ops.reader_figs == NULL)
		s->ops.reader_figs = store_reader_figs_not_supported;
	if (s->ops.reader_exact_hours == NULL)
		s->ops.reader_exact_hours =
			store_reader_exact_hours_not_supported;
	return 0;
}
