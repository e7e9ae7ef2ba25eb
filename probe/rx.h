/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data-plane loop of a worker: receive, classify, send what is due
 * (rx.c).
 */
#ifndef PROBE_RX_H
#define PROBE_RX_H


#include "probe-t.h"

/* The loop of one worker (arg: its struct probe_worker) until the
 * control side sets quit; flushes what is staged on the way out. */
int worker_main(void *arg);

#endif
