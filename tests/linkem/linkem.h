/* SPDX-License-Identifier: BSD-3-Clause */
/* linkem: options shared by the command line parser and the DPDK side. */
#ifndef LINKEM_H
#define LINKEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "impair.h"

struct lk_options {
	uint16_t port_a;
	uint16_t port_b;
	struct lk_spec ab;          /* port A -> port B */
	struct lk_spec ba;          /* port B -> port A */
	char ab_text[512];
	char ba_text[512];
	char log_path[256];         /* per test packet CSV, "" = none */
	char stats_path[256];       /* totals as JSON, "" = stdout only */
	uint16_t stamp_port;
	bool auth;
	bool impair_all;
	uint32_t idle_sleep_us;     /* 0 = busy poll */
	uint32_t mbufs;             /* 0 = sized from rate x max delay */
	uint32_t max_pps;           /* for sizing when no rate is set */
};

#define LK_DEFAULT_MAX_PPS 100000

/*
 * Parses linkem's own options (those after "--"). Returns 0, 1 when
 * --help was printed, or -EINVAL with a one-line message in err.
 */
int lk_options_parse(int argc, char **argv, struct lk_options *o,
		     char *err, size_t errlen);
void lk_options_free(struct lk_options *o);
void lk_usage(const char *prog);

#endif
