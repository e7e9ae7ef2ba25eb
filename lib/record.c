/* SPDX-License-Identifier: BSD-3-Clause */
/* placeholder: implemented by the core-library work */
#include "metroprobe/record.h"
