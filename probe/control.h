/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control side of a running probe (control.c).
 */
#ifndef PROBE_CONTROL_H
#define PROBE_CONTROL_H

#include <stdint.h>

#include "probe-t.h"

/* Before any port or session: measures the TSC (clock.h), logs it, and
 * takes the synchronisation state. Exits with a message on failure. */
void control_clock_start(struct probe_app *app);
/* SIGINT/SIGTERM handler: the next control step stops the sessions. */
void control_on_signal(int sig);
/* One control step; <now> is the TSC. Control thread only (or the one
 * lcore's loop when no thread could be made). */
void control_poll(struct probe_app *app, uint64_t now);
/* Control steps about every millisecond until the probe quits. */
void control_run(struct probe_app *app);
/* control_run as a thread body (arg: the app). */
void *control_thread(void *arg);

#endif
