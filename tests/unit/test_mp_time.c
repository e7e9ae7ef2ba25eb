/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for lib/mp_time.c: NTP and PTP wire times, RFC 3339, durations. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "metroprobe/mp_time.h"

#define NS MP_NS_PER_SEC
/* 2036-02-07T06:28:16Z: the NTP seconds field wraps to 0 here. */
#define NTP_ERA1_UNIX_S 2085978496ULL
/* 2017-01-01T00:00:00Z, the instant after the leap second 23:59:60. */
#define LEAP_2017_UNIX_S 1483228800ULL

static uint64_t
splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* |frac * 10^9 - ns * 2^32| <= 10^9 / 2: frac is the nearest fraction. */
static void
assert_ntp_fraction_nearest(uint64_t ns_in_sec, uint64_t frac)
{
	__int128 a = (__int128)frac * NS;
	__int128 b = (__int128)ns_in_sec << 32;
	__int128 diff = a > b ? a - b : b - a;

	assert_true(2 * diff <= (__int128)NS);
}

static void
test_ntp_epoch_is_1970_in_ntp_seconds(void **state)
{
	(void)state;
	assert_int_equal(mp_time_ns_to_ntp(0), MP_NTP_UNIX_OFFSET_S << 32);
	assert_int_equal(mp_time_ntp_to_ns(MP_NTP_UNIX_OFFSET_S << 32, 0), 0);
	assert_int_equal(mp_time_ntp_to_ns(MP_NTP_UNIX_OFFSET_S << 32,
					   1700000000 * NS), 0);
}

static void
test_ntp_fraction_is_rounded_to_nearest(void **state)
{
	uint64_t base = 1700000000 * NS;

	(void)state;
	/* 1 ns = 4.294967296 steps of 2^-32 s -> 4 */
	assert_int_equal(mp_time_ns_to_ntp(base + 1) & 0xffffffffULL, 4);
	/* 3 ns = 12.88 -> 13 (rounded up, not truncated to 12) */
	assert_int_equal(mp_time_ns_to_ntp(base + 3) & 0xffffffffULL, 13);
	/* half a second is exactly 2^31 */
	assert_int_equal(mp_time_ns_to_ntp(base + NS / 2) & 0xffffffffULL,
			 1ULL << 31);
	/* the last ns of a second stays in the same second: no carry */
	assert_int_equal(mp_time_ns_to_ntp(base + NS - 1),
			 ((1700000000 + MP_NTP_UNIX_OFFSET_S) << 32) |
			 0xfffffffcULL);
	for (uint64_t ns = 0; ns < 100000; ns++) {
		assert_ntp_fraction_nearest(ns,
			mp_time_ns_to_ntp(base + ns) & 0xffffffffULL);
		assert_ntp_fraction_nearest(NS - 1 - ns,
			mp_time_ns_to_ntp(base + NS - 1 - ns) & 0xffffffffULL);
	}
}

static void
test_ntp_fraction_near_one_second_carries_into_next_second(void **state)
{
	uint64_t sec = 1700000000 + MP_NTP_UNIX_OFFSET_S;

	(void)state;
	/* 0xffffffff * 10^9 / 2^32 = 999999999.77 ns -> next second */
	assert_int_equal(mp_time_ntp_to_ns((sec << 32) | 0xffffffffULL, 0),
			 1700000001 * NS);
	/* 0xfffffffd = 999999999.30 ns -> stays */
	assert_int_equal(mp_time_ntp_to_ns((sec << 32) | 0xfffffffdULL, 0),
			 1700000000 * NS + NS - 1);
}

static void
test_ntp_to_ns_is_nearest_ns_for_any_fraction(void **state)
{
	uint64_t rng = 1;
	uint64_t sec = 1700000000 + MP_NTP_UNIX_OFFSET_S;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t frac = splitmix64(&rng) & 0xffffffffULL;
		uint64_t ns = mp_time_ntp_to_ns((sec << 32) | frac, 0) -
			      1700000000 * NS;
		__int128 a = (__int128)ns << 32;
		__int128 b = (__int128)frac * NS;
		__int128 diff = a > b ? a - b : b - a;

		assert_true(2 * diff <= ((__int128)1 << 32));
	}
}

static void
test_ntp_round_trip_is_exact_for_random_ns(void **state)
{
	uint64_t rng = 0x5eed;

	(void)state;
	for (int i = 0; i < 1000000; i++) {
		uint64_t ns = splitmix64(&rng);
		/* a reference up to 60 years away picks the same era */
		uint64_t skew = splitmix64(&rng) % (60ULL * 365 * 86400 * NS);
		uint64_t ref = (i & 1) ? (ns > skew ? ns - skew : 0)
				       : (ns < UINT64_MAX - skew ? ns + skew
								 : UINT64_MAX);
		uint64_t ntp = mp_time_ns_to_ntp(ns);

		assert_ntp_fraction_nearest(ns % NS, ntp & 0xffffffffULL);
		assert_int_equal(mp_time_ntp_to_ns(ntp, ns), ns);
		assert_int_equal(mp_time_ntp_to_ns(ntp, ref), ns);
	}
}

static void
test_ntp_round_trip_is_exact_for_every_ns_of_edge_seconds(void **state)
{
	static const uint64_t secs[] = {
		0, 1, LEAP_2017_UNIX_S - 1, LEAP_2017_UNIX_S,
		NTP_ERA1_UNIX_S - 1, NTP_ERA1_UNIX_S,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		for (uint64_t ns = 0; ns < NS; ns += 997) {
			uint64_t t = secs[i] * NS + ns;

			assert_int_equal(mp_time_ntp_to_ns(
					 mp_time_ns_to_ntp(t), t), t);
			assert_int_equal(mp_time_ntp_to_ns(
					 mp_time_ns_to_ntp(t), 0), t);
		}
		for (uint64_t ns = NS - 5000; ns < NS; ns++) {
			uint64_t t = secs[i] * NS + ns;

			assert_int_equal(mp_time_ntp_to_ns(
					 mp_time_ns_to_ntp(t), 0), t);
		}
	}
}

static void
test_ntp_seconds_wrap_to_zero_at_2036_rollover(void **state)
{
	uint64_t last = NTP_ERA1_UNIX_S * NS - 1;
	uint64_t first = NTP_ERA1_UNIX_S * NS;
	uint64_t now_2026 = 1795000000 * NS;

	(void)state;
	/* era 0 ends with seconds 0xffffffff, era 1 starts at 0 */
	assert_int_equal(mp_time_ns_to_ntp(last),
			 0xffffffff00000000ULL | 0xfffffffcULL);
	assert_int_equal(mp_time_ns_to_ntp(first), 0);
	/* read back near the rollover, from either side */
	assert_int_equal(mp_time_ntp_to_ns(0xfffffffffffffffcULL, first), last);
	assert_int_equal(mp_time_ntp_to_ns(0, last), first);
	assert_int_equal(mp_time_ntp_to_ns(0xfffffffffffffffcULL, 0), last);
	assert_int_equal(mp_time_ntp_to_ns(0, 0), first);
	/* a reference in 2026 still reads small seconds as 2036+ */
	assert_int_equal(mp_time_ntp_to_ns(0, now_2026), first);
	/* era 1 value read with a reference in era 1, and in 2100 */
	assert_int_equal(mp_time_ntp_to_ns(mp_time_ns_to_ntp(first + 3 * NS),
					   first + 86400 * NS),
			 first + 3 * NS);
	assert_int_equal(mp_time_ntp_to_ns(mp_time_ns_to_ntp(4102444800 * NS),
					   4102444800 * NS),
			 4102444800 * NS);
}

static void
test_ntp_era_follows_reference_time(void **state)
{
	/* 2030 in era 0; with a reference in 2170 the nearest match is
	 * the same seconds one era (136 years) later, 2166 */
	uint64_t t2030 = 1893456000 * NS;
	uint64_t wrap = (1ULL << 32) * NS;
	uint64_t ntp = mp_time_ns_to_ntp(t2030);

	(void)state;
	assert_int_equal(mp_time_ntp_to_ns(ntp, t2030 + wrap - NS), t2030 + wrap);
	assert_int_equal(mp_time_ntp_to_ns(ntp, t2030 + wrap / 2 - NS), t2030);
	assert_int_equal(mp_time_ntp_to_ns(ntp, 0), t2030);
}

static void
test_ntp_near_uint64_limit_does_not_overflow(void **state)
{
	uint64_t top = UINT64_MAX - (UINT64_MAX % NS) - 1;

	(void)state;
	assert_int_equal(mp_time_ntp_to_ns(mp_time_ns_to_ntp(top), UINT64_MAX),
			 top);
	assert_int_equal(mp_time_ntp_to_ns(mp_time_ns_to_ntp(UINT64_MAX),
					   UINT64_MAX), UINT64_MAX);
}

static void
test_ntp_leap_second_neighbours_are_consecutive_ntp_seconds(void **state)
{
	(void)state;
	/* NTP, like Unix time, does not count the leap second */
	assert_int_equal(mp_time_ns_to_ntp(LEAP_2017_UNIX_S * NS),
			 3692217600ULL << 32);
	assert_int_equal(mp_time_ns_to_ntp((LEAP_2017_UNIX_S - 1) * NS),
			 3692217599ULL << 32);
}

static void
test_ptp_applies_tai_offset_as_given_around_leap_second(void **state)
{
	uint64_t before = (LEAP_2017_UNIX_S - 1) * NS;  /* 23:59:59 UTC */
	uint64_t after = LEAP_2017_UNIX_S * NS;         /* 00:00:00 UTC */

	(void)state;
	/* TAI - UTC was 36 s before the leap, 37 s after */
	assert_int_equal(mp_time_ns_to_ptp(before, 36),
			 (LEAP_2017_UNIX_S - 1 + 36) << 32);
	assert_int_equal(mp_time_ns_to_ptp(after, 37),
			 (LEAP_2017_UNIX_S + 37) << 32);
	/* TAI 1483228836 is the leap second itself: which UTC second it
	 * maps to depends only on the offset the caller gives */
	assert_int_equal(mp_time_ptp_to_ns((LEAP_2017_UNIX_S + 36) << 32, 36,
					   0), after);
	assert_int_equal(mp_time_ptp_to_ns((LEAP_2017_UNIX_S + 36) << 32, 37,
					   0), before);
	assert_int_equal(mp_time_ptp_to_ns(mp_time_ns_to_ptp(before, 36), 36,
					   before), before);
	assert_int_equal(mp_time_ptp_to_ns(mp_time_ns_to_ptp(after, 37), 37,
					   after), after);
}

static void
test_ptp_keeps_nanoseconds_exactly(void **state)
{
	uint64_t t = 1700000000 * NS + 123456789;

	(void)state;
	assert_int_equal(mp_time_ns_to_ptp(t, 37),
			 ((1700000000ULL + 37) << 32) | 123456789);
	assert_int_equal(mp_time_ns_to_ptp(0, 0), 0);
	assert_int_equal(mp_time_ptp_to_ns(37ULL << 32, 37, 0), 0);
	/* a negative offset at the epoch wraps the seconds field, and back */
	assert_int_equal(mp_time_ns_to_ptp(0, -5), 0xfffffffbULL << 32);
	assert_int_equal(mp_time_ptp_to_ns(0xfffffffbULL << 32, -5, 0), 0);
}

static void
test_ptp_round_trip_is_exact_for_random_ns(void **state)
{
	uint64_t rng = 0xb7;

	(void)state;
	for (int i = 0; i < 500000; i++) {
		uint64_t ns = splitmix64(&rng);
		int32_t off = (int32_t)(splitmix64(&rng) % 200) - 100;
		uint64_t ptp = mp_time_ns_to_ptp(ns, off);

		assert_true((ptp & 0xffffffffULL) < NS);
		assert_int_equal(mp_time_ptp_to_ns(ptp, off, ns), ns);
	}
	/* the PTP seconds field wraps in 2106 */
	assert_int_equal(mp_time_ptp_to_ns(mp_time_ns_to_ptp(
		(1ULL << 32) * NS + 5, 37), 37, (1ULL << 32) * NS),
		(1ULL << 32) * NS + 5);
}

static void
test_rfc3339_formats_epoch_rollover_and_nanoseconds(void **state)
{
	char buf[40];

	(void)state;
	assert_string_equal(mp_time_format_rfc3339(0, buf, sizeof(buf)),
			    "1970-01-01T00:00:00.000000000Z");
	assert_string_equal(mp_time_format_rfc3339(NTP_ERA1_UNIX_S * NS, buf,
						   sizeof(buf)),
			    "2036-02-07T06:28:16.000000000Z");
	assert_string_equal(mp_time_format_rfc3339(LEAP_2017_UNIX_S * NS - 1,
						   buf, sizeof(buf)),
			    "2016-12-31T23:59:59.999999999Z");
	assert_string_equal(mp_time_format_rfc3339(951782400ULL * NS + 7, buf,
						   sizeof(buf)),
			    "2000-02-29T00:00:00.000000007Z");
}

static void
test_rfc3339_format_agrees_with_gmtime(void **state)
{
	uint64_t rng = 42;
	char buf[40], want[40];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		/* up to year 2500 */
		time_t sec = (time_t)(splitmix64(&rng) % 16725225600ULL);
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S.000000000Z",
			 &tm);
		mp_time_format_rfc3339((uint64_t)sec * NS, buf, sizeof(buf));
		assert_string_equal(buf, want);
	}
}

static void
test_rfc3339_parse_reads_back_what_format_writes(void **state)
{
	uint64_t rng = 7;
	char buf[40];
	uint64_t back;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint64_t ns = splitmix64(&rng) % (16725225600ULL * NS);

		mp_time_format_rfc3339(ns, buf, sizeof(buf));
		assert_int_equal(mp_time_parse_at(buf, 0, &back), 0);
		assert_int_equal(back, ns);
	}
}

static void
test_rfc3339_parse_accepts_offsets_fractions_and_lower_case(void **state)
{
	static const struct {
		const char *text;
		uint64_t ns;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2017-01-01T00:00:00Z", LEAP_2017_UNIX_S * NS },
		{ "2016-12-31T23:59:59Z", (LEAP_2017_UNIX_S - 1) * NS },
		{ "2017-01-01T02:00:00+02:00", LEAP_2017_UNIX_S * NS },
		{ "2016-12-31T19:30:00-04:30", LEAP_2017_UNIX_S * NS },
		{ "2017-01-01t00:00:00.5z", LEAP_2017_UNIX_S * NS + NS / 2 },
		{ "2017-01-01 00:00:00.000000001Z", LEAP_2017_UNIX_S * NS + 1 },
		{ "2036-02-07T06:28:16Z", NTP_ERA1_UNIX_S * NS },
		{ "2024-02-29T00:00:00Z", 1709164800ULL * NS },
		{ "1970-01-01T01:00:00+01:00", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ns = 1;

		print_message("%s\n", cases[i].text);
		assert_int_equal(mp_time_parse_at(cases[i].text, 0, &ns), 0);
		assert_int_equal(ns, cases[i].ns);
	}
}

static void
test_rfc3339_parse_rejects_invalid_and_unrepresentable_times(void **state)
{
	static const char *const bad[] = {
		"", "2017-01-01", "2017-01-01T00:00:00",
		"2016-12-31T23:59:60Z",       /* leap second: no Unix time */
		"2023-02-29T00:00:00Z",       /* not a leap year */
		"2017-13-01T00:00:00Z", "2017-00-01T00:00:00Z",
		"2017-04-31T00:00:00Z", "2017-01-01T24:00:00Z",
		"2017-01-01T00:60:00Z", "2017-01-01T00:00:00.Z",
		"2017-01-01T00:00:00.0000000001Z", /* finer than 1 ns */
		"2017-01-01T00:00:00+2:00", "2017-01-01T00:00:00+24:00",
		"2017-01-01T00:00:00Zjunk", "1969-12-31T23:59:59Z",
		"1970-01-01T00:00:00+00:01",  /* 1969 in UTC */
		"2600-01-01T00:00:00Z",       /* beyond uint64 ns */
		"17-01-01T00:00:00Z", "2017-1-01T00:00:00Z",
		"now-", "now-1x", "now-1h junk", "nowish", "-5",
		"18446744073709551616",       /* 2^64 ns */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t ns = 12345;

		print_message("'%s'\n", bad[i]);
		assert_int_equal(mp_time_parse_at(bad[i], 1000 * NS, &ns),
				 -EINVAL);
		assert_int_equal(ns, 12345);
	}
}

static void
test_parse_reads_bare_integers_as_unix_ns(void **state)
{
	uint64_t ns;

	(void)state;
	assert_int_equal(mp_time_parse_at("0", 99, &ns), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(mp_time_parse_at("1700000000123456789", 99, &ns), 0);
	assert_int_equal(ns, 1700000000123456789ULL);
	assert_int_equal(mp_time_parse_at("18446744073709551615", 99, &ns), 0);
	assert_int_equal(ns, UINT64_MAX);
}

static void
test_parse_relative_now_forms(void **state)
{
	uint64_t now = 1800000000 * NS, ns;

	(void)state;
	assert_int_equal(mp_time_parse_at("now", now, &ns), 0);
	assert_int_equal(ns, now);
	assert_int_equal(mp_time_parse_at("now-1h", now, &ns), 0);
	assert_int_equal(ns, now - 3600 * NS);
	assert_int_equal(mp_time_parse_at("now-30d", now, &ns), 0);
	assert_int_equal(ns, now - 30 * 86400 * NS);
	assert_int_equal(mp_time_parse_at("now+500ms", now, &ns), 0);
	assert_int_equal(ns, now + 500000000);
	/* before the epoch */
	assert_int_equal(mp_time_parse_at("now-100000d", now, &ns), -EINVAL);
}

static void
test_parse_now_uses_the_realtime_clock(void **state)
{
	uint64_t before, after, ns;

	(void)state;
	before = mp_time_now_ns();
	assert_int_equal(mp_time_parse("now-1h", &ns), 0);
	after = mp_time_now_ns();
	assert_true(ns >= before - 3600 * NS);
	assert_true(ns <= after - 3600 * NS);
	/* sanity: the clock is after 2020 */
	assert_true(before > 1577836800ULL * NS);
}

static void
test_duration_units(void **state)
{
	static const struct {
		const char *text;
		uint64_t ns;
	} cases[] = {
		{ "0", 0 },
		{ "3", 3 * NS },
		{ "3s", 3 * NS },
		{ "500ms", 500000000 },
		{ "250us", 250000 },
		{ "17ns", 17 },
		{ "1m", 60 * NS },
		{ "1h", 3600 * NS },
		{ "30d", 30 * 86400 * NS },
		{ "1h30m", 5400 * NS },
		{ "1s500ms", 1500000000 },
		{ "18446744073709551615ns", UINT64_MAX },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ns = 1;

		print_message("%s\n", cases[i].text);
		assert_int_equal(mp_time_parse_duration(cases[i].text, &ns), 0);
		assert_int_equal(ns, cases[i].ns);
	}
}

static void
test_duration_rejects_bad_text_and_overflow(void **state)
{
	static const char *const bad[] = {
		"", "s", "-1s", "1.5s", "3 s", "3sec", "1min", "1w", "ms500",
		"1h30", " 3s", "3s ", "18446744073709551616ns",
		"18446744074s", "213504d", "18446744073709551615ns1ns",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t ns = 77;

		print_message("'%s'\n", bad[i]);
		assert_int_equal(mp_time_parse_duration(bad[i], &ns), -EINVAL);
		assert_int_equal(ns, 77);
	}
}

static void
test_monotonic_clock_does_not_go_back(void **state)
{
	uint64_t a, b;

	(void)state;
	a = mp_time_mono_ns();
	b = mp_time_mono_ns();
	assert_true(b >= a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ntp_epoch_is_1970_in_ntp_seconds),
		cmocka_unit_test(test_ntp_fraction_is_rounded_to_nearest),
		cmocka_unit_test(
		    test_ntp_fraction_near_one_second_carries_into_next_second),
		cmocka_unit_test(test_ntp_to_ns_is_nearest_ns_for_any_fraction),
		cmocka_unit_test(test_ntp_round_trip_is_exact_for_random_ns),
		cmocka_unit_test(
		    test_ntp_round_trip_is_exact_for_every_ns_of_edge_seconds),
		cmocka_unit_test(test_ntp_seconds_wrap_to_zero_at_2036_rollover),
		cmocka_unit_test(test_ntp_era_follows_reference_time),
		cmocka_unit_test(test_ntp_near_uint64_limit_does_not_overflow),
		cmocka_unit_test(
		    test_ntp_leap_second_neighbours_are_consecutive_ntp_seconds),
		cmocka_unit_test(
		    test_ptp_applies_tai_offset_as_given_around_leap_second),
		cmocka_unit_test(test_ptp_keeps_nanoseconds_exactly),
		cmocka_unit_test(test_ptp_round_trip_is_exact_for_random_ns),
		cmocka_unit_test(
		    test_rfc3339_formats_epoch_rollover_and_nanoseconds),
		cmocka_unit_test(test_rfc3339_format_agrees_with_gmtime),
		cmocka_unit_test(
		    test_rfc3339_parse_reads_back_what_format_writes),
		cmocka_unit_test(
		    test_rfc3339_parse_accepts_offsets_fractions_and_lower_case),
		cmocka_unit_test(
		  test_rfc3339_parse_rejects_invalid_and_unrepresentable_times),
		cmocka_unit_test(test_parse_reads_bare_integers_as_unix_ns),
		cmocka_unit_test(test_parse_relative_now_forms),
		cmocka_unit_test(test_parse_now_uses_the_realtime_clock),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_rejects_bad_text_and_overflow),
		cmocka_unit_test(test_monotonic_clock_does_not_go_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
