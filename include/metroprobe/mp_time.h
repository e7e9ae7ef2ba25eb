/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Time formats used on the wire and in records.
 *
 * Internal time is always uint64_t nanoseconds since the Unix epoch (UTC).
 * STAMP carries either the NTP 64-bit format (RFC 5905 section 6: 32-bit
 * seconds since 1900-01-01, 32-bit binary fraction) or the truncated PTPv2
 * format (RFC 8762 section 4.2.1 / IEEE 1588: 32-bit seconds and 32-bit
 * nanoseconds since 1970-01-01 TAI).
 *
 * The wire forms here are host-order uint64_t with the seconds in the upper
 * 32 bits; the STAMP codec does the byte order.
 */
#ifndef METROPROBE_MP_TIME_H
#define METROPROBE_MP_TIME_H

#include <stddef.h>
#include <stdint.h>

#define MP_NS_PER_SEC        1000000000ULL
/* Seconds from 1900-01-01 (NTP prime epoch) to 1970-01-01. */
#define MP_NTP_UNIX_OFFSET_S 2208988800ULL

/* Unix ns -> NTP 64-bit (fraction rounded to nearest). Era is implied. */
uint64_t mp_time_ns_to_ntp(uint64_t unix_ns);

/*
 * NTP 64-bit -> Unix ns. The 32-bit seconds field wraps in 2036 (era 1);
 * the era is chosen so the result is the one nearest to ref_unix_ns
 * (pass the current time, or 0 to mean era 0 for times >= 1970).
 * With ref 0 the result lies in [1970, 2106): NTP seconds below
 * 2208988800 (before 1970 in era 0) are read as era 1 (after 2036).
 * Exact: ns -> ntp -> ns returns the same ns.
 */
uint64_t mp_time_ntp_to_ns(uint64_t ntp, uint64_t ref_unix_ns);

/* Unix ns (UTC) -> truncated PTP (TAI = UTC + tai_offset_s seconds). */
uint64_t mp_time_ns_to_ptp(uint64_t unix_ns, int32_t tai_offset_s);
uint64_t mp_time_ptp_to_ns(uint64_t ptp, int32_t tai_offset_s,
			   uint64_t ref_unix_ns);

/* Current CLOCK_REALTIME in Unix ns (not for the hot path). */
uint64_t mp_time_now_ns(void);
/* CLOCK_MONOTONIC in ns. */
uint64_t mp_time_mono_ns(void);

/*
 * Formats unix_ns as RFC 3339 UTC with nanoseconds
 * ("2026-11-25T09:38:10.123456789Z") into buf (>= 32 bytes).
 * Returns buf.
 */
char *mp_time_format_rfc3339(uint64_t unix_ns, char *buf, size_t len);
/*
 * Parses RFC 3339 ("2026-11-25T09:38:10Z", optional fraction, "Z" or
 * +hh:mm), a bare integer of Unix ns, or "now", "now-1h", "now-30d"
 * relative forms. Returns 0 or -EINVAL.
 */
int mp_time_parse(const char *s, uint64_t *unix_ns);
/* Same with "now" given (deterministic; mp_time_parse passes the clock).
 * Also accepts "now+<duration>". Second 60 (a leap second) has no Unix
 * time and is rejected; so are fractions finer than 1 ns and times
 * before 1970. */
int mp_time_parse_at(const char *s, uint64_t now_ns, uint64_t *unix_ns);

/*
 * Parses a duration: an integer with unit ns, us, ms, s, m, h, d
 * ("3s", "500ms", "1m"); a bare integer is seconds. Terms may be
 * chained ("1h30m"). Returns 0 or -EINVAL (also on overflow).
 */
int mp_time_parse_duration(const char *s, uint64_t *ns);

#endif
