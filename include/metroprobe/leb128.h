/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unsigned LEB128 varints, the integers of every serialised form of the
 * project (histograms, the collector's stored records). One spelling per
 * value: the reader refuses overlong encodings (a superfluous 0x80
 * continuation octet) and values past 64 bits, so a form has exactly one
 * encoding and a damaged one cannot pass for another.
 */
#ifndef METROPROBE_LEB128_H
#define METROPROBE_LEB128_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define MP_LEB128_MAX 10   /* octets of a 64-bit value */

/* Writes v at p (room for MP_LEB128_MAX octets); returns the length. */
static inline size_t
mp_leb128_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Reads one canonical varint from [*p, end) into *out and advances *p;
 * -EINVAL when truncated, overlong or past 64 bits (*p unchanged). */
static inline int
mp_leb128_get(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	const uint8_t *s = *p;
	uint64_t v = 0;

	/* most are one octet (bucket gaps and counts): always canonical */
	if (s < end && s[0] < 0x80) {
		*out = s[0];
		*p = s + 1;
		return 0;
	}
	for (unsigned n = 0; n < MP_LEB128_MAX; n++) {
		uint8_t b;

		if (s + n >= end)
			return -EINVAL;           /* truncated */
		b = s[n];
		if (n == MP_LEB128_MAX - 1 && b > 1)
			return -EINVAL;           /* more than 64 bits */
		v |= (uint64_t)(b & 0x7f) << (7 * n);
		if (!(b & 0x80)) {
			if (b == 0 && n > 0)
				return -EINVAL;   /* overlong */
			*p = s + n + 1;
			*out = v;
			return 0;
		}
	}
	return -EINVAL;
}

#endif
