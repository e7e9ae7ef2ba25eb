/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports and their queues: set-up from the configuration, and close
 * (port.c).
 */
#ifndef PROBE_PORT_H
#define PROBE_PORT_H

#include <stdint.h>

#include "probe-t.h"

/* Brings every configured port up with its queues, pools, sessions and
 * reflector; logs what it did. Returns 0 or a negative errno (logged). */
int port_setup_all(struct probe_app *app);
void port_close_all(struct probe_app *app);

#endif
