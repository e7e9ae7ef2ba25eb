/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for lib/config.c: INI loading, typed getters, error messages. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "metroprobe/config.h"

static struct mp_config *
load_ok(const char *text)
{
	struct mp_config *c = NULL;
	char err[256] = "";

	if (mp_config_load_string(text, "probe.ini", &c, err, sizeof(err))
	    != 0)
		fail_msg("load failed: %s", err);
	return c;
}

/* Loads text that must fail; checks the code and the exact message. */
static void
assert_load_error(const char *text, int want_rc, const char *want_msg)
{
	struct mp_config *c = NULL;
	char err[256] = "";

	assert_int_equal(mp_config_load_string(text, "probe.ini", &c, err,
					       sizeof(err)), want_rc);
	assert_null(c);
	assert_string_equal(err, want_msg);
}

static void
test_load_string_reads_sections_keys_values_and_lines(void **state)
{
	struct mp_config *c = load_ok(
		"; metro probe A\n"
		"# another comment style\n"
		"name = centre-a\n"
		"\n"
		"[session.a-to-b]\n"
		"  dst   =   10.0.0.2  \n"
		"rate_pps: 1000\n"
		"note = keep ; inline comment\n"
		"empty =\n"
		"[port]\n"
		"dev = net_ring0\n");

	(void)state;
	assert_string_equal(mp_config_path(c), "probe.ini");
	assert_string_equal(mp_config_get(c, "", "name"), "centre-a");
	assert_int_equal(mp_config_line(c, "", "name"), 3);
	assert_string_equal(mp_config_get(c, "session.a-to-b", "dst"),
			    "10.0.0.2");
	assert_int_equal(mp_config_line(c, "session.a-to-b", "dst"), 6);
	assert_string_equal(mp_config_get(c, "session.a-to-b", "rate_pps"),
			    "1000");
	assert_int_equal(mp_config_line(c, "session.a-to-b", "rate_pps"), 7);
	assert_string_equal(mp_config_get(c, "session.a-to-b", "note"),
			    "keep");
	assert_string_equal(mp_config_get(c, "session.a-to-b", "empty"), "");
	assert_string_equal(mp_config_get(c, "port", "dev"), "net_ring0");
	assert_int_equal(mp_config_line(c, "port", "dev"), 11);
	/* absent key, absent section, wrong section */
	assert_null(mp_config_get(c, "port", "rate_pps"));
	assert_null(mp_config_get(c, "nope", "dev"));
	assert_int_equal(mp_config_line(c, "port", "nope"), 0);
	mp_config_free(c);
}

static void
test_load_file_reads_the_file_and_names_it_in_errors(void **state)
{
	char path[] = "/tmp/mp-config-test-XXXXXX";
	const char text[] = "[a]\nx = 1\nx = 2\n";
	struct mp_config *c = NULL;
	char err[256], want[300];
	int fd, rc;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[a]\nx = 1\n", 10), 10);
	close(fd);
	assert_int_equal(mp_config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(mp_config_get(c, "a", "x"), "1");
	assert_string_equal(mp_config_path(c), path);
	mp_config_free(c);

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	c = NULL;
	rc = mp_config_load(path, &c, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, -EINVAL);
	assert_null(c);
	snprintf(want, sizeof(want),
		 "%s:3: [a] x: duplicate key (first set on line 2)", path);
	assert_string_equal(err, want);
}

static void
test_load_missing_file_is_enoent_with_path(void **state)
{
	struct mp_config *c = NULL;
	char err[256];

	(void)state;
	assert_int_equal(mp_config_load("/nonexistent/metroprobe.ini", &c, err,
					sizeof(err)), -ENOENT);
	assert_null(c);
	assert_string_equal(err, "/nonexistent/metroprobe.ini: cannot open: "
			    "No such file or directory");
}

static void
test_load_directory_is_an_error_not_a_crash(void **state)
{
	struct mp_config *c = NULL;
	char err[256] = "";

	(void)state;
	assert_true(mp_config_load("/tmp", &c, err, sizeof(err)) < 0);
	assert_null(c);
	assert_non_null(strstr(err, "/tmp: cannot read"));
}

static void
test_syntax_errors_name_their_line(void **state)
{
	(void)state;
	assert_load_error("[a]\nx = 1\nthis line has no equals sign\n",
			  -EINVAL, "probe.ini:3: syntax error: expected "
			  "'[section]' or 'key = value'");
	assert_load_error("[a]\n[unterminated\nx = 1\n", -EINVAL,
			  "probe.ini:2: syntax error: expected '[section]' "
			  "or 'key = value'");
}

static void
test_first_error_wins_when_there_are_several(void **state)
{
	(void)state;
	assert_load_error("[a]\nx = 1\nx = 2\nbroken\n", -EINVAL,
			  "probe.ini:3: [a] x: duplicate key (first set on "
			  "line 2)");
	assert_load_error("[a]\nbroken\nx = 1\nx = 2\n", -EINVAL,
			  "probe.ini:2: syntax error: expected '[section]' "
			  "or 'key = value'");
}

static void
test_duplicate_key_is_an_error_but_same_key_in_two_sections_is_not(
	void **state)
{
	struct mp_config *c;

	(void)state;
	assert_load_error("[session.ab]\nrate_pps = 10\n\nrate_pps = 20\n",
			  -EINVAL, "probe.ini:4: [session.ab] rate_pps: "
			  "duplicate key (first set on line 2)");
	/* a repeated section header continues the section */
	assert_load_error("[s]\nk = 1\n[t]\nk = 2\n[s]\nk = 3\n", -EINVAL,
			  "probe.ini:6: [s] k: duplicate key (first set on "
			  "line 2)");
	c = load_ok("[s]\nk = 1\n[t]\nk = 2\n");
	assert_string_equal(mp_config_get(c, "s", "k"), "1");
	assert_string_equal(mp_config_get(c, "t", "k"), "2");
	mp_config_free(c);
}

static void
test_indented_line_after_a_key_is_refused_not_merged(void **state)
{
	(void)state;
	/* inih would read "  rate = 5" as more of dst's value */
	assert_load_error("[s]\ndst = 10.0.0.2\n  rate = 5\n", -EINVAL,
			  "probe.ini:3: [s] dst: indented line continues the "
			  "value of the key on line 2; remove the "
			  "indentation");
}

static void
test_empty_key_name_is_refused(void **state)
{
	(void)state;
	assert_load_error("[s]\n= 5\n", -EINVAL,
			  "probe.ini:2: [s] key name is empty");
}

static void
test_names_and_lines_inih_would_truncate_are_refused(void **state)
{
	char text[600];

	(void)state;
	snprintf(text, sizeof(text), "[s]\nk = %0300d\n", 7);
	assert_load_error(text, -EINVAL,
			  "probe.ini:2: line longer than 197 characters");
	snprintf(text, sizeof(text), "[s]\n%s = 1\n",
		 "a_key_name_that_is_much_longer_than_forty_nine_chars");
	assert_load_error(text, -EINVAL,
			  "probe.ini:2: key 'a_key_name_that_is_much_longer_"
			  "than_forty_nine_ch...' longer than 49 characters");
	snprintf(text, sizeof(text), "[%s]\nk = 1\n",
		 "session.a_section_name_that_is_longer_than_49_chars");
	assert_load_error(text, -EINVAL,
			  "probe.ini:1: section name longer than 49 "
			  "characters");
	/* 49 is fine */
	snprintf(text, sizeof(text), "[%049d]\n%049d = 1\n", 1, 2);
	mp_config_free(load_ok(text));
}

static void
test_nul_byte_in_file_is_refused(void **state)
{
	char path[] = "/tmp/mp-config-test-XXXXXX";
	struct mp_config *c = NULL;
	char err[256], want[300];
	int fd, rc;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[a]\nx = 1\0\n", 11), 11);
	close(fd);
	rc = mp_config_load(path, &c, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, -EINVAL);
	snprintf(want, sizeof(want), "%s: contains a NUL byte (not a text "
		 "file?)", path);
	assert_string_equal(err, want);
}

static void
test_get_u64_reads_value_default_and_range(void **state)
{
	struct mp_config *c = load_ok("[session.ab]\nrate_pps = 1000\n"
				      "zero = 0\nbig = 18446744073709551615\n");
	uint64_t v = 0;
	char err[256];

	(void)state;
	assert_int_equal(mp_config_get_u64(c, "session.ab", "rate_pps", 5, 1,
					   1000, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(mp_config_get_u64(c, "session.ab", "zero", 5, 0, 10,
					   &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(mp_config_get_u64(c, "session.ab", "big", 5, 0,
					   UINT64_MAX, &v, err, sizeof(err)),
			 0);
	assert_int_equal(v, UINT64_MAX);
	/* absent: the default, whatever the range */
	assert_int_equal(mp_config_get_u64(c, "session.ab", "absent", 77, 1,
					   10, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 77);
	v = 3;
	assert_int_equal(mp_config_get_u64(c, "session.ab", "rate_pps", 5, 1,
					   999, &v, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(v, 3);
	assert_string_equal(err, "probe.ini:2: [session.ab] rate_pps: '1000' "
			    "is out of range 1..999");
	assert_int_equal(mp_config_get_u64(c, "session.ab", "zero", 5, 1, 10,
					   &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "probe.ini:3: [session.ab] zero: '0' is out "
			    "of range 1..10");
	mp_config_free(c);
}

static void
test_get_u64_rejects_text_signs_fractions_and_overflow(void **state)
{
	static const char *const bad[] = {
		"fast", "-5", "+5", "1.5", "10 pps", "0x10", "",
	};
	char text[128], err[256], want[256];
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mp_config *c;

		snprintf(text, sizeof(text), "[session.ab]\nrate_pps = %s\n",
			 bad[i]);
		c = load_ok(text);
		assert_int_equal(mp_config_get_u64(c, "session.ab",
						   "rate_pps", 1, 0,
						   UINT64_MAX, &v, err,
						   sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want), "probe.ini:2: [session.ab] "
			 "rate_pps: '%s' is not a non-negative integer",
			 bad[i]);
		assert_string_equal(err, want);
		mp_config_free(c);
	}
	{
		struct mp_config *c = load_ok(
			"[s]\nn = 18446744073709551616\n");

		assert_int_equal(mp_config_get_u64(c, "s", "n", 1, 0,
						   UINT64_MAX, &v, err,
						   sizeof(err)), -EINVAL);
		assert_string_equal(err, "probe.ini:2: [s] n: "
				    "'18446744073709551616' is out of range "
				    "0..18446744073709551615");
		mp_config_free(c);
	}
}

static void
test_get_double_reads_numbers_and_rejects_the_rest(void **state)
{
	struct mp_config *c = load_ok("[sla.default]\nloss = 0.001\n"
				      "p99 = 1e3\nneg = -2.5\nword = low\n"
				      "junk = 1.5x\nnan = nan\ninf = inf\n"
				      "huge = 1e999\n");
	double d = 0;
	char err[256];

	(void)state;
	assert_int_equal(mp_config_get_double(c, "sla.default", "loss", 9, &d,
					      err, sizeof(err)), 0);
	assert_true(d == 0.001);
	assert_int_equal(mp_config_get_double(c, "sla.default", "p99", 9, &d,
					      err, sizeof(err)), 0);
	assert_true(d == 1000.0);
	assert_int_equal(mp_config_get_double(c, "sla.default", "neg", 9, &d,
					      err, sizeof(err)), 0);
	assert_true(d == -2.5);
	assert_int_equal(mp_config_get_double(c, "sla.default", "absent", 9.5,
					      &d, err, sizeof(err)), 0);
	assert_true(d == 9.5);
	assert_int_equal(mp_config_get_double(c, "sla.default", "word", 9, &d,
					      err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "probe.ini:5: [sla.default] word: 'low' is "
			    "not a number");
	assert_int_equal(mp_config_get_double(c, "sla.default", "junk", 9, &d,
					      err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "probe.ini:6: [sla.default] junk: '1.5x' is "
			    "not a number");
	assert_int_equal(mp_config_get_double(c, "sla.default", "nan", 9, &d,
					      err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "probe.ini:7: [sla.default] nan: 'nan' is "
			    "not a finite number");
	assert_int_equal(mp_config_get_double(c, "sla.default", "inf", 9, &d,
					      err, sizeof(err)), -EINVAL);
	assert_int_equal(mp_config_get_double(c, "sla.default", "huge", 9, &d,
					      err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "probe.ini:9: [sla.default] huge: '1e999' "
			    "is out of range for a double");
	mp_config_free(c);
}

static void
test_get_bool_accepts_the_eight_spellings_in_any_case(void **state)
{
	struct mp_config *c = load_ok("[x]\na = true\nb = YES\nc = On\nd = 1\n"
				      "e = false\nf = no\ng = OFF\nh = 0\n"
				      "i = maybe\nj = 2\n");
	const char *t[] = { "a", "b", "c", "d" }, *f[] = { "e", "f", "g", "h" };
	bool v;
	char err[256];

	(void)state;
	for (int i = 0; i < 4; i++) {
		v = false;
		assert_int_equal(mp_config_get_bool(c, "x", t[i], false, &v,
						    err, sizeof(err)), 0);
		assert_true(v);
		v = true;
		assert_int_equal(mp_config_get_bool(c, "x", f[i], true, &v,
						    err, sizeof(err)), 0);
		assert_false(v);
	}
	assert_int_equal(mp_config_get_bool(c, "x", "absent", true, &v, err,
					    sizeof(err)), 0);
	assert_true(v);
	assert_int_equal(mp_config_get_bool(c, "x", "i", true, &v, err,
					    sizeof(err)), -EINVAL);
	assert_string_equal(err, "probe.ini:10: [x] i: 'maybe' is not a "
			    "boolean (true/false, yes/no, on/off, 1/0)");
	assert_int_equal(mp_config_get_bool(c, "x", "j", true, &v, err,
					    sizeof(err)), -EINVAL);
	mp_config_free(c);
}

static void
test_get_duration_reads_units_and_names_bad_values(void **state)
{
	struct mp_config *c = load_ok("[session.ab]\nloss_timeout = 3s\n"
				      "interval = 500ms\nbare = 2\n"
				      "bad = fast\n");
	uint64_t ns;
	char err[256];

	(void)state;
	assert_int_equal(mp_config_get_duration(c, "session.ab",
						"loss_timeout", 1, &ns, err,
						sizeof(err)), 0);
	assert_int_equal(ns, 3000000000ULL);
	assert_int_equal(mp_config_get_duration(c, "session.ab", "interval",
						1, &ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 500000000ULL);
	assert_int_equal(mp_config_get_duration(c, "session.ab", "bare", 1,
						&ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 2000000000ULL);
	assert_int_equal(mp_config_get_duration(c, "session.ab", "absent",
						42, &ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 42);
	assert_int_equal(mp_config_get_duration(c, "session.ab", "bad", 1,
						&ns, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "probe.ini:5: [session.ab] bad: 'fast' is "
			    "not a duration (an integer with a unit: ns, us, "
			    "ms, s, m, h, d; e.g. 500ms)");
	mp_config_free(c);
}

static void
test_get_string_returns_value_or_default(void **state)
{
	struct mp_config *c = load_ok("[token.ops]\nsecret = s3cr3t\n");
	const char *s;
	char err[64];

	(void)state;
	assert_int_equal(mp_config_get_string(c, "token.ops", "secret", "d",
					      &s, err, sizeof(err)), 0);
	assert_string_equal(s, "s3cr3t");
	assert_int_equal(mp_config_get_string(c, "token.ops", "absent", "d",
					      &s, err, sizeof(err)), 0);
	assert_string_equal(s, "d");
	mp_config_free(c);
}

struct seen {
	char names[8][64];
	char sections[8][64];
	int n;
	int stop_after;
};

static int
collect_section(const struct mp_config *c, const char *section,
		const char *name, void *arg)
{
	struct seen *s = arg;

	(void)c;
	snprintf(s->sections[s->n], sizeof(s->sections[0]), "%s", section);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
	s->n++;
	return s->n == s->stop_after ? 42 : 0;
}

static void
test_sections_iterates_prefix_matches_in_file_order(void **state)
{
	struct mp_config *c = load_ok(
		"[session.z-to-a]\nx = 1\n"
		"[port]\ndev = a\n"
		"[session]\nx = 2\n"
		"[sessionx]\nx = 3\n"
		"[session.empty]\n"
		"[session.a-to-b]\nx = 4\n");
	struct seen s = { .n = 0 };

	(void)state;
	assert_int_equal(mp_config_sections(c, "session", collect_section, &s),
			 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.sections[0], "session.z-to-a");
	assert_string_equal(s.names[0], "z-to-a");
	assert_string_equal(s.sections[1], "session");
	assert_string_equal(s.names[1], "");
	/* a section with no keys is still a section */
	assert_string_equal(s.names[2], "empty");
	assert_string_equal(s.names[3], "a-to-b");

	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(mp_config_sections(c, "session", collect_section, &s),
			 42);
	assert_int_equal(s.n, 2);

	memset(&s, 0, sizeof(s));
	assert_int_equal(mp_config_sections(c, "token", collect_section, &s),
			 0);
	assert_int_equal(s.n, 0);
	mp_config_free(c);
}

static void
test_check_keys_names_the_first_unknown_key(void **state)
{
	static const char *const known[] = { "dst", "rate_pps", NULL };
	struct mp_config *c = load_ok("[session.ab]\ndst = 10.0.0.2\n"
				      "rate_pps = 5\nrate_ppss = 6\n"
				      "colour = red\n[other]\nzzz = 1\n");
	char err[256];

	(void)state;
	assert_int_equal(mp_config_check_keys(c, "session.ab", known, err,
					      sizeof(err)), -EINVAL);
	assert_string_equal(err, "probe.ini:4: [session.ab] rate_ppss: "
			    "unknown key");
	assert_int_equal(mp_config_check_keys(c, "nothing", known, err,
					      sizeof(err)), 0);
	mp_config_free(c);
	c = load_ok("[session.ab]\ndst = 10.0.0.2\n");
	assert_int_equal(mp_config_check_keys(c, "session.ab", known, err,
					      sizeof(err)), 0);
	mp_config_free(c);
}

static void
test_messages_are_truncated_safely_into_small_buffers(void **state)
{
	struct mp_config *c = NULL;
	char err[8];

	(void)state;
	assert_int_equal(mp_config_load_string("[a]\nx=1\nx=2\n", "probe.ini",
					       &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "probe.i");
	/* and no buffer at all */
	assert_int_equal(mp_config_load_string("[a]\nx=1\nx=2\n", "probe.ini",
					       &c, NULL, 0), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_load_string_reads_sections_keys_values_and_lines),
		cmocka_unit_test(
		    test_load_file_reads_the_file_and_names_it_in_errors),
		cmocka_unit_test(test_load_missing_file_is_enoent_with_path),
		cmocka_unit_test(test_load_directory_is_an_error_not_a_crash),
		cmocka_unit_test(test_syntax_errors_name_their_line),
		cmocka_unit_test(test_first_error_wins_when_there_are_several),
		cmocka_unit_test(
		    test_duplicate_key_is_an_error_but_same_key_in_two_sections_is_not),
		cmocka_unit_test(
		    test_indented_line_after_a_key_is_refused_not_merged),
		cmocka_unit_test(test_empty_key_name_is_refused),
		cmocka_unit_test(
		    test_names_and_lines_inih_would_truncate_are_refused),
		cmocka_unit_test(test_nul_byte_in_file_is_refused),
		cmocka_unit_test(test_get_u64_reads_value_default_and_range),
		cmocka_unit_test(
		    test_get_u64_rejects_text_signs_fractions_and_overflow),
		cmocka_unit_test(
		    test_get_double_reads_numbers_and_rejects_the_rest),
		cmocka_unit_test(
		    test_get_bool_accepts_the_eight_spellings_in_any_case),
		cmocka_unit_test(
		    test_get_duration_reads_units_and_names_bad_values),
		cmocka_unit_test(test_get_string_returns_value_or_default),
		cmocka_unit_test(
		    test_sections_iterates_prefix_matches_in_file_order),
		cmocka_unit_test(test_check_keys_names_the_first_unknown_key),
		cmocka_unit_test(
		    test_messages_are_truncated_safely_into_small_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
