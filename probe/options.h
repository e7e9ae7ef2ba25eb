/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PROBE_OPTIONS_H
#define PROBE_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"

#define RTE_DIM_PROBE(a) (sizeof(a) / sizeof((a)[0]))

struct probe_options {
	bool help;
	bool check_only;
};

void probe_print_usage(FILE *f);
/* argv[0] is the program name, then the probe options (after "--"). */
int probe_parse_options(int argc, char **argv, struct probe_conf *pc,
			struct probe_options *po, char *err, size_t errlen);

#endif
