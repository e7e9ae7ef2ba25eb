/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of linkem's pure parts: random streams, distributions,
 * Gilbert-Elliott, token bucket, hold queue, spec parsing, frame
 * classification, departure order, and the log line format. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "holdq.h"
#include "impair.h"
#include "linkem.h"
#include "lklog.h"
#include "pktinfo.h"

#define MS 1000000ULL
#define US 1000ULL

static struct lk_spec
spec_of(const char *text)
{
	struct lk_spec s;
	char err[256];
	int rc = lk_spec_parse(text, &s, err, sizeof(err));

	if (rc != 0)
		fail_msg("spec '%s': %s", text, err);
	return s;
}

/* ---- random streams and distributions ---- */

static void
test_rng_same_seed_same_stream(void **state)
{
	struct lk_rng a, b, c;
	int i, same_c = 0;

	(void)state;
	lk_rng_seed(&a, 7, 1);
	lk_rng_seed(&b, 7, 1);
	lk_rng_seed(&c, 7, 2);
	for (i = 0; i < 1000; i++) {
		uint64_t x = lk_rng_next(&a);

		assert_int_equal(x, lk_rng_next(&b));
		same_c += x == lk_rng_next(&c);
	}
	assert_int_equal(same_c, 0);
}

static void
test_rng_unit_is_uniform(void **state)
{
	struct lk_rng r;
	int i, n = 200000, bins[10] = { 0 };
	double sum = 0;

	(void)state;
	lk_rng_seed(&r, 1, 1);
	for (i = 0; i < n; i++) {
		double u = lk_rng_unit(&r);

		assert_true(u >= 0.0 && u < 1.0);
		sum += u;
		bins[(int)(u * 10)]++;
	}
	assert_true(fabs(sum / n - 0.5) < 0.005);
	for (i = 0; i < 10; i++)
		assert_true(abs(bins[i] - n / 10) < n / 100); /* 5 sigma */
}

static void
test_normal_has_mean_0_sd_1(void **state)
{
	struct lk_rng r;
	int i, n = 200000;
	double s = 0, s2 = 0;

	(void)state;
	lk_rng_seed(&r, 3, 1);
	for (i = 0; i < n; i++) {
		double x = lk_rng_normal(&r);

		s += x;
		s2 += x * x;
	}
	assert_true(fabs(s / n) < 0.01);
	assert_true(fabs(sqrt(s2 / n - (s / n) * (s / n)) - 1.0) < 0.01);
}

/* ---- loss models ---- */

static void
test_bernoulli_loss_ratio(void **state)
{
	struct lk_spec s = spec_of("loss=0.1,seed=9");
	struct lk_impair im;
	struct lk_verdict v;
	int i, n = 100000, lost = 0;

	(void)state;
	assert_int_equal(lk_impair_init(&im, &s), 0);
	for (i = 0; i < n; i++) {
		lk_impair_decide(&im, (uint64_t)i * US, 100, &v);
		lost += v.fate == LK_FATE_DROP_LOSS;
	}
	/* sd = sqrt(n p (1-p)) = 95 */
	assert_true(abs(lost - n / 10) < 500);
	lk_impair_free(&im);
}

static void
test_loss_0_and_1(void **state)
{
	struct lk_spec s0 = spec_of("loss=0"), s1 = spec_of("loss=1");
	struct lk_impair a, b;
	struct lk_verdict v;
	int i;

	(void)state;
	lk_impair_init(&a, &s0);
	lk_impair_init(&b, &s1);
	for (i = 0; i < 10000; i++) {
		lk_impair_decide(&a, 0, 100, &v);
		assert_int_equal(v.fate, LK_FATE_FWD);
		lk_impair_decide(&b, 0, 100, &v);
		assert_int_equal(v.fate, LK_FATE_DROP_LOSS);
	}
	lk_impair_free(&a);
	lk_impair_free(&b);
}

static void
test_ge_bursts_have_mean_length_1_over_r(void **state)
{
	struct lk_spec s = spec_of("ge=0.05:0.25,seed=4");
	struct lk_impair im;
	struct lk_verdict v;
	int i, n = 400000, lost = 0, bursts = 0;
	bool prev = false;

	(void)state;
	lk_impair_init(&im, &s);
	for (i = 0; i < n; i++) {
		bool l;

		lk_impair_decide(&im, 0, 100, &v);
		l = v.fate == LK_FATE_DROP_GE;
		lost += l;
		bursts += l && !prev;
		prev = l;
	}
	/* stationary loss p / (p + r) = 1/6; mean burst 1 / r = 4 */
	assert_true(fabs((double)lost / n - 1.0 / 6) < 0.01);
	assert_true(fabs((double)lost / bursts - 4.0) < 0.15);
	lk_impair_free(&im);
}

static void
test_ge_state_loss_probabilities(void **state)
{
	struct lk_spec s = spec_of("ge=0.1:0.4:0.02:0.5");
	struct lk_ge g = { false };
	struct lk_rng r;
	int i, n = 400000, lost = 0;
	double want = 0.8 * 0.02 + 0.2 * 0.5; /* pi_bad = p / (p + r) */

	(void)state;
	assert_true(s.ge);
	assert_true(s.ge_loss_good == 0.02 && s.ge_loss_bad == 0.5);
	lk_rng_seed(&r, 5, 1);
	for (i = 0; i < n; i++)
		lost += lk_ge_step(&g, &s, lk_rng_unit(&r), lk_rng_unit(&r));
	assert_true(fabs((double)lost / n - want) < 0.005);
}

/* ---- token bucket ---- */

static void
test_shaper_spaces_frames_at_the_rate(void **state)
{
	struct lk_shaper sh;
	uint64_t d;
	int i;

	(void)state;
	/* 8000 bit/s = 1000 B/s: a 100-byte frame every 100 ms */
	assert_int_equal(lk_shaper_init(&sh, 8000, 100, 3, 0, 0), 0);
	assert_int_equal(lk_shaper_admit(&sh, 0, 100, &d), 0);
	assert_int_equal(d, 0);                 /* the bucket was full */
	for (i = 1; i <= 3; i++) {
		assert_int_equal(lk_shaper_admit(&sh, 0, 100, &d), 0);
		assert_int_equal(d, (uint64_t)i * 100 * MS);
	}
	/* three waiting: the queue limit is reached, tail drop */
	assert_int_equal(lk_shaper_admit(&sh, 0, 100, &d), -ENOBUFS);
	/* at 150 ms the frame of 100 ms has left: room for one */
	assert_int_equal(lk_shaper_admit(&sh, 150 * MS, 100, &d), 0);
	assert_int_equal(d, 400 * MS);
	assert_int_equal(lk_shaper_admit(&sh, 150 * MS, 100, &d), -ENOBUFS);
	/* long idle: the bucket refills to its size, not beyond */
	assert_int_equal(lk_shaper_admit(&sh, 10000 * MS, 100, &d), 0);
	assert_int_equal(d, 10000 * MS);
	assert_int_equal(lk_shaper_admit(&sh, 10000 * MS, 100, &d), 0);
	assert_int_equal(d, 10100 * MS);
	lk_shaper_free(&sh);
}

static void
test_shaper_rate_is_exact_when_backlogged(void **state)
{
	struct lk_shaper sh;
	uint64_t d = 0, first = 0;
	int i;

	(void)state;
	/* 1042-byte frames at 2 Mbit/s: 4.168 ms apart */
	lk_shaper_init(&sh, 2000000, 1514, 100000, 0, 0);
	for (i = 0; i < 10000; i++) {
		assert_int_equal(lk_shaper_admit(&sh, (uint64_t)i * MS, 1042,
						 &d), 0);
		if (i == 1000)
			first = d;
	}
	/* backlogged from the second frame on: exactly the rate, give or
	 * take a rounded-up nanosecond per frame */
	assert_true(d - first >= 8999ULL * 4168 * US);
	assert_true(d - first <= 8999ULL * 4168 * US + 8999);
	lk_shaper_free(&sh);
}

static void
test_shaper_byte_limit_and_overhead(void **state)
{
	struct lk_shaper sh;
	uint64_t d;

	(void)state;
	/* 80 kbit/s with 24 bytes overhead: a 976-byte frame costs 1000 */
	lk_shaper_init(&sh, 80000, 1000, 0, 2000, 24);
	assert_int_equal(lk_shaper_admit(&sh, 0, 976, &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(lk_shaper_admit(&sh, 0, 976, &d), 0);
	assert_int_equal(d, 100 * MS);
	assert_int_equal(lk_shaper_admit(&sh, 0, 976, &d), 0);
	assert_int_equal(d, 200 * MS);
	/* 1952 bytes queued: one more would pass 2000 */
	assert_int_equal(lk_shaper_admit(&sh, 0, 976, &d), -ENOBUFS);
	assert_int_equal(lk_shaper_admit(&sh, 0, 48, &d), 0);
	lk_shaper_free(&sh);
}

/* ---- the decision ---- */

static void
test_same_seed_same_decisions_whatever_the_timing(void **state)
{
	const char *t = "delay=1ms,jitter=normal:200us,loss=0.1,"
			"ge=0.02:0.3,dup=0.1,reorder=0.1:1ms,seed=42";
	struct lk_spec s1 = spec_of(t), s2 = spec_of(t);
	struct lk_spec s3 = spec_of("delay=1ms,jitter=normal:200us,loss=0.1,"
				    "ge=0.02:0.3,dup=0.1,reorder=0.1:1ms,"
				    "seed=43");
	struct lk_impair a, b, c;
	struct lk_verdict va, vb, vc;
	int i, differ = 0;

	(void)state;
	lk_impair_init(&a, &s1);
	lk_impair_init(&b, &s2);
	lk_impair_init(&c, &s3);
	for (i = 0; i < 10000; i++) {
		lk_impair_decide(&a, (uint64_t)i * 100 * US, 100, &va);
		lk_impair_decide(&b, (uint64_t)i * 37 * US, 100, &vb);
		lk_impair_decide(&c, (uint64_t)i * 100 * US, 100, &vc);
		assert_int_equal(va.fate, vb.fate);
		assert_int_equal(va.jitter_ns, vb.jitter_ns);
		assert_int_equal(va.held, vb.held);
		assert_int_equal(va.dup, vb.dup);
		differ += va.fate != vc.fate || va.jitter_ns != vc.jitter_ns;
	}
	assert_true(differ > 1000);
	lk_impair_free(&a);
	lk_impair_free(&b);
	lk_impair_free(&c);
}

static void
test_streams_are_independent(void **state)
{
	/* switching duplication on does not move the loss decisions */
	struct lk_spec s1 = spec_of("loss=0.2,seed=8");
	struct lk_spec s2 = spec_of("loss=0.2,dup=0.5,jitter=uniform:1ms,"
				    "seed=8");
	struct lk_impair a, b;
	struct lk_verdict va, vb;
	int i;

	(void)state;
	lk_impair_init(&a, &s1);
	lk_impair_init(&b, &s2);
	for (i = 0; i < 10000; i++) {
		lk_impair_decide(&a, 0, 100, &va);
		lk_impair_decide(&b, 0, 100, &vb);
		assert_int_equal(va.fate, vb.fate);
	}
	lk_impair_free(&a);
	lk_impair_free(&b);
}

static void
test_uniform_jitter_fifo_and_free(void **state)
{
	struct lk_spec fifo = spec_of("delay=3ms,jitter=uniform:1ms");
	struct lk_spec freeo = spec_of("delay=3ms,jitter=uniform:1ms,"
				       "order=free");
	struct lk_impair a, b;
	struct lk_verdict va, vb;
	uint64_t last_a = 0, last_b = 0;
	int64_t lo = 0, hi = 0;
	int i, backwards = 0;

	(void)state;
	lk_impair_init(&a, &fifo);
	lk_impair_init(&b, &freeo);
	for (i = 0; i < 10000; i++) {
		uint64_t now = (uint64_t)i * 100 * US;

		lk_impair_decide(&a, now, 100, &va);
		lk_impair_decide(&b, now, 100, &vb);
		assert_true(va.depart_ns >= last_a);
		assert_true(va.depart_ns >= now + 2 * MS);
		assert_int_equal(vb.depart_ns, now + 3 * MS + vb.jitter_ns);
		backwards += vb.depart_ns < last_b;
		last_a = va.depart_ns;
		last_b = vb.depart_ns;
		if (vb.jitter_ns < lo)
			lo = vb.jitter_ns;
		if (vb.jitter_ns > hi)
			hi = vb.jitter_ns;
	}
	assert_true(backwards > 1000);
	assert_true(lo >= -1000000 && lo < -990000);
	assert_true(hi <= 1000000 && hi > 990000);
	lk_impair_free(&a);
	lk_impair_free(&b);
}

static void
test_held_packets_leave_late_others_do_not_wait(void **state)
{
	struct lk_spec s = spec_of("delay=1ms,reorder=0.3:5ms,seed=2");
	struct lk_impair im;
	struct lk_verdict v;
	int i, held = 0;

	(void)state;
	lk_impair_init(&im, &s);
	for (i = 0; i < 10000; i++) {
		uint64_t now = (uint64_t)i * 100 * US;

		lk_impair_decide(&im, now, 100, &v);
		if (v.held) {
			held++;
			assert_int_equal(v.depart_ns, now + 6 * MS);
			assert_int_equal(v.hold_ns, 5 * MS);
		} else {
			assert_int_equal(v.depart_ns, now + 1 * MS);
		}
	}
	assert_true(abs(held - 3000) < 250);
	lk_impair_free(&im);
}

static void
test_replay_cycles_through_the_file(void **state)
{
	char path[] = "/tmp/linkem-replay-XXXXXX", text[64];
	struct lk_spec s;
	struct lk_impair im;
	struct lk_verdict v;
	int64_t want[] = { 0, 100000, -50000, 7 };
	char err[256];
	int fd = mkstemp(path), i;
	FILE *f = fdopen(fd, "w");

	(void)state;
	fputs("# jitter\n0\n100us\n\n-50us  \n7\n", f);
	fclose(f);
	snprintf(text, sizeof(text), "delay=1ms,order=free,jitter=replay:%s",
		 path);
	assert_int_equal(lk_spec_parse(text, &s, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(s.replay_len, 4);
	assert_int_equal(lk_spec_max_delay_ns(&s), 1100000);
	lk_impair_init(&im, &s);
	for (i = 0; i < 10; i++) {
		lk_impair_decide(&im, 0, 100, &v);
		assert_int_equal(v.jitter_ns, want[i % 4]);
		assert_int_equal(v.depart_ns, 1000000 + want[i % 4]);
	}
	lk_impair_free(&im);
	lk_spec_free(&s);
}

/* ---- hold queue ---- */

static void
test_holdq_pops_in_deadline_order_ties_fifo(void **state)
{
	struct lk_holdq q;
	struct lk_rng r;
	uintptr_t i, n = 5000;
	uint64_t last_d = 0;
	uintptr_t last_tag = 0;

	(void)state;
	assert_int_equal(lk_holdq_init(&q, (uint32_t)n), 0);
	lk_rng_seed(&r, 11, 1);
	for (i = 0; i < n; i++)
		assert_int_equal(lk_holdq_push(&q, lk_rng_next(&r) % 50,
					       (void *)(i + 1)), 0);
	assert_int_equal(lk_holdq_push(&q, 1, (void *)1), -ENOSPC);
	for (i = 0; i < n; i++) {
		uint64_t d = lk_holdq_head(&q);
		uintptr_t tag = (uintptr_t)lk_holdq_pop(&q);

		assert_true(d >= last_d);
		if (d == last_d && i > 0)
			assert_true(tag > last_tag); /* pushed earlier first */
		last_d = d;
		last_tag = tag;
	}
	assert_int_equal(q.count, 0);
	lk_holdq_free(&q);
}

/* ---- specs ---- */

static void
test_spec_parses_every_key(void **state)
{
	struct lk_spec s = spec_of("delay=1.5ms,jitter=uniform:100us,"
				   "order=free,loss=0.01,ge=0.01:0.3,"
				   "dup=0.02,reorder=0.05:2ms,rate=10mbit,"
				   "burst=3kB,limit=50,limit_bytes=64KiB,"
				   "overhead=24,seed=99");
	char buf[512];

	(void)state;
	assert_int_equal(s.delay_ns, 1500000);
	assert_int_equal(s.jitter, LK_JITTER_UNIFORM);
	assert_int_equal(s.jitter_ns, 100000);
	assert_false(s.fifo);
	assert_true(s.loss == 0.01 && s.ge && s.ge_p == 0.01 &&
		    s.ge_r == 0.3 && s.ge_loss_good == 0 &&
		    s.ge_loss_bad == 1 && s.dup == 0.02);
	assert_true(s.hold_share == 0.05 && s.hold_ns == 2000000);
	assert_int_equal(s.rate_bps, 10000000);
	assert_int_equal(s.burst_bytes, 3000);
	assert_int_equal(s.limit_pkts, 50);
	assert_int_equal(s.limit_bytes, 65536);
	assert_int_equal(s.overhead, 24);
	assert_int_equal(s.seed, 99);
	assert_int_equal(lk_spec_max_delay_ns(&s), 1500000 + 100000 + 2000000);
	lk_spec_format(&s, buf, sizeof(buf));
	assert_non_null(strstr(buf, "delay=1500000ns,jitter=uniform:100000ns,"
				    "order=free,loss=0.01"));
	s = spec_of("rate=1gbit");
	assert_int_equal(s.limit_pkts, LK_DEFAULT_LIMIT_PKTS);
	s = spec_of("none");
	assert_int_equal(s.delay_ns, 0);
	assert_true(s.fifo);
	assert_int_equal(s.seed, LK_DEFAULT_SEED);
}

static void
test_spec_errors_name_the_key(void **state)
{
	static const struct {
		const char *text, *needle;
	} bad[] = {
		{ "delay=2", "delay" }, { "loss=2", "loss" },
		{ "jitter=normal:x", "jitter" }, { "ge=1", "ge" },
		{ "dup=-0.1", "dup" }, { "reorder=0.5:x", "reorder" },
		{ "rate=0", "rate" }, { "burst=1.5", "burst" },
		{ "overhead=1000", "overhead" }, { "seed=-1", "seed" },
		{ "x=1", "unknown key 'x'" }, { "=1", "key=value" },
	};
	struct lk_spec s;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(lk_spec_parse(bad[i].text, &s, err,
					       sizeof(err)), -EINVAL);
		if (strstr(err, bad[i].needle) == NULL)
			fail_msg("'%s' -> '%s'", bad[i].text, err);
	}
}

static void
test_durations(void **state)
{
	uint64_t ns;
	int64_t sns;

	(void)state;
	assert_int_equal(lk_parse_duration("250ns", &ns), 0);
	assert_int_equal(ns, 250);
	assert_int_equal(lk_parse_duration("1.5ms", &ns), 0);
	assert_int_equal(ns, 1500000);
	assert_int_equal(lk_parse_duration("2s", &ns), 0);
	assert_int_equal(ns, 2000000000);
	assert_int_equal(lk_parse_duration("2", &ns), -EINVAL);
	assert_int_equal(lk_parse_duration("2 ms", &ns), -EINVAL);
	assert_int_equal(lk_parse_duration("ms", &ns), -EINVAL);
	assert_int_equal(lk_parse_signed_duration("-20us", false, &sns), 0);
	assert_int_equal(sns, -20000);
	assert_int_equal(lk_parse_signed_duration("1234", true, &sns), 0);
	assert_int_equal(sns, 1234);
}

static void
test_options_and_config_file(void **state)
{
	char path[] = "/tmp/linkem-conf-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	char cfg_arg[64], err[256];
	char *argv[] = { "--config", cfg_arg, "--ba=delay=7ms",
			 "--idle-sleep", "20" };
	struct lk_options o;

	(void)state;
	fputs("# a link\nport-a 2\nport-b = 3\nab = delay=2ms,loss=0.5 "
	      "# half\nba delay=1ms\nlog /tmp/x.csv\nauth\n", f);
	fclose(f);
	snprintf(cfg_arg, sizeof(cfg_arg), "%s", path);
	assert_int_equal(lk_options_parse(5, argv, &o, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(o.port_a, 2);
	assert_int_equal(o.port_b, 3);
	assert_int_equal(o.ab.delay_ns, 2 * MS);
	assert_true(o.ab.loss == 0.5);
	assert_int_equal(o.ba.delay_ns, 7 * MS); /* the later one wins */
	assert_string_equal(o.log_path, "/tmp/x.csv");
	assert_true(o.auth);
	assert_int_equal(o.idle_sleep_us, 20);
	assert_int_equal(o.stamp_port, 862);
	lk_options_free(&o);
}

/* ---- frames ---- */

/* Ethernet + IPv4 + UDP with the given payload, in a buffer of exactly
 * the frame's size (so ASan catches any read past it). */
static uint8_t *
udp4_frame(uint16_t sport, uint16_t dport, const uint8_t *pl, size_t pl_len,
	   size_t *len, bool vlan)
{
	size_t l2 = vlan ? 18 : 14, n = l2 + 20 + 8 + pl_len;
	uint8_t *f = calloc(1, n), *ip, *udp;

	if (vlan) {
		f[12] = 0x81;
		f[13] = 0x00;
		f[16] = 0x08;
	} else {
		f[12] = 0x08;
	}
	ip = f + l2;
	ip[0] = 0x45;
	ip[9] = 17;
	memcpy(ip + 12, "\xc6\x12\x00\x01", 4);
	memcpy(ip + 16, "\xc6\x12\x00\x02", 4);
	udp = ip + 20;
	udp[0] = (uint8_t)(sport >> 8);
	udp[1] = (uint8_t)sport;
	udp[2] = (uint8_t)(dport >> 8);
	udp[3] = (uint8_t)dport;
	udp[4] = (uint8_t)((8 + pl_len) >> 8);
	udp[5] = (uint8_t)(8 + pl_len);
	memcpy(udp + 8, pl, pl_len);
	*len = n;
	return f;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
test_classify_stamp_packets(void **state)
{
	struct lk_classify_cfg cfg = { 862, false, false };
	struct lk_pkt_info info;
	uint8_t pl[112] = { 0 };
	uint8_t *f;
	size_t len;
	char flow[128];

	(void)state;
	/* sender: to 862, seq at 0, SSID at 14 */
	put32(pl, 77);
	pl[15] = 9;
	f = udp4_frame(40000, 862, pl, 44, &len, false);
	assert_int_equal(lk_classify(f, len, &cfg, &info), LK_KIND_SENDER);
	assert_true(info.has_seq && !info.has_sender_seq);
	assert_int_equal(info.seq, 77);
	assert_int_equal(info.ssid, 9);
	lk_flow_format(&info.flow, flow, sizeof(flow));
	assert_string_equal(flow, "198.18.0.1:40000>198.18.0.2:862");
	free(f);
	/* reflector: from 862, sender seq at 24 */
	put32(pl + 24, 0xfffffffe);
	f = udp4_frame(862, 40000, pl, 44, &len, true);
	assert_int_equal(lk_classify(f, len, &cfg, &info),
			 LK_KIND_REFLECTOR);
	assert_true(info.has_sender_seq);
	assert_int_equal(info.sender_seq, 0xfffffffe);
	free(f);
	/* both on 862: the receive timestamp tells a reflector */
	f = udp4_frame(862, 862, pl, 44, &len, false);
	assert_int_equal(lk_classify(f, len, &cfg, &info), LK_KIND_SENDER);
	free(f);
	pl[20] = 1;
	f = udp4_frame(862, 862, pl, 44, &len, false);
	assert_int_equal(lk_classify(f, len, &cfg, &info),
			 LK_KIND_REFLECTOR);
	free(f);
	/* authenticated: sender seq at 48 */
	cfg.auth = true;
	put32(pl + 48, 1234);
	f = udp4_frame(862, 5000, pl, 112, &len, false);
	assert_int_equal(lk_classify(f, len, &cfg, &info),
			 LK_KIND_REFLECTOR);
	assert_int_equal(info.sender_seq, 1234);
	free(f);
	/* a 2-byte payload: a test packet without a readable seq */
	f = udp4_frame(5000, 862, pl, 2, &len, false);
	assert_int_equal(lk_classify(f, len, &cfg, &info), LK_KIND_SENDER);
	assert_false(info.has_seq);
	free(f);
}

static void
test_classify_passes_the_rest(void **state)
{
	struct lk_classify_cfg cfg = { 862, false, false };
	struct lk_pkt_info info;
	uint8_t pl[44] = { 0 }, arp[42] = { 0 };
	uint8_t *f;
	size_t len, cut;

	(void)state;
	arp[12] = 0x08;
	arp[13] = 0x06;
	assert_int_equal(lk_classify(arp, sizeof(arp), &cfg, &info),
			 LK_KIND_PASS);
	cfg.impair_all = true;
	assert_int_equal(lk_classify(arp, sizeof(arp), &cfg, &info),
			 LK_KIND_OTHER);
	cfg.impair_all = false;
	f = udp4_frame(53, 53, pl, 44, &len, false);
	assert_int_equal(lk_classify(f, len, &cfg, &info), LK_KIND_PASS);
	free(f);
	/* a fragment is not read as a test packet */
	f = udp4_frame(4000, 862, pl, 44, &len, false);
	f[14 + 6] = 0x20;
	assert_int_equal(lk_classify(f, len, &cfg, &info), LK_KIND_PASS);
	free(f);
	/* every truncation of a valid frame is safe (ASan watches) */
	f = udp4_frame(4000, 862, pl, 44, &len, true);
	for (cut = 0; cut <= len; cut++) {
		uint8_t *g = malloc(cut ? cut : 1);

		memcpy(g, f, cut);
		lk_classify(g, cut, &cfg, &info);
		free(g);
	}
	free(f);
}

static void
test_classify_ipv6(void **state)
{
	struct lk_classify_cfg cfg = { 862, false, false };
	struct lk_pkt_info info;
	uint8_t f[14 + 40 + 8 + 44] = { 0 };
	char flow[128];

	(void)state;
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;
	f[14 + 6] = 17;
	f[14 + 8 + 15] = 1;
	f[14 + 24 + 15] = 2;
	f[54 + 2] = 862 >> 8;
	f[54 + 3] = 862 & 0xff;
	f[54 + 1] = 7;
	f[54 + 5] = 52;
	put32(f + 62, 5);
	assert_int_equal(lk_classify(f, sizeof(f), &cfg, &info),
			 LK_KIND_SENDER);
	assert_int_equal(info.seq, 5);
	lk_flow_format(&info.flow, flow, sizeof(flow));
	assert_string_equal(flow, "[::1]:7>[::2]:862");
}

static void
test_order_counts_rfc4737_reordering_across_wrap(void **state)
{
	static struct lk_order t;
	struct lk_flow a = { 4, LK_KIND_SENDER, 1, 862, { 1 }, { 2 } };
	struct lk_flow b = a;

	(void)state;
	b.kind = LK_KIND_REFLECTOR;
	assert_int_equal(lk_order_depart(&t, &a, 0xfffffffe), 0);
	assert_int_equal(lk_order_depart(&t, &a, 0xffffffff), 0);
	assert_int_equal(lk_order_depart(&t, &a, 1), 0);
	assert_int_equal(lk_order_depart(&t, &a, 0), 1);   /* late */
	assert_int_equal(lk_order_depart(&t, &a, 0xffffffff), 1);
	assert_int_equal(lk_order_depart(&t, &a, 1), 0);   /* a repeat */
	assert_int_equal(lk_order_depart(&t, &a, 2), 0);
	/* another flow has its own numbering */
	assert_int_equal(lk_order_depart(&t, &b, 0), 0);
	assert_int_equal(lk_order_depart(&t, &b, 1), 0);
}

/* ---- the log ---- */

static void
test_log_line_format(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct lk_meta m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.info.flow = (struct lk_flow){ 4, LK_KIND_REFLECTOR, 862, 40000,
					{ 10, 0, 0, 2 }, { 10, 0, 0, 1 } };
	m.info.has_seq = m.info.has_sender_seq = true;
	m.info.seq = 5;
	m.info.sender_seq = 9;
	m.info.ssid = 3;
	m.len = 86;
	m.arrival_ns = 1000;
	m.arrival_real = 1700000000000000000ULL;
	m.verdict.fate = LK_FATE_FWD;
	m.verdict.depart_ns = 1000 + 2 * MS + 150;
	m.verdict.queue_ns = 150;
	m.verdict.jitter_ns = -20;
	m.verdict.held = true;
	m.verdict.hold_ns = 20;
	lk_log_header(f);
	lk_log_packet(f, "ba", &m, 1700000000002000200ULL, 1);
	m.verdict.fate = LK_FATE_DROP_GE;
	m.info.flow.kind = LK_KIND_SENDER;
	m.info.has_sender_seq = false;
	m.verdict.held = false;
	lk_log_packet(f, "ab", &m, 0, -1);
	fclose(f);
	assert_string_equal(buf,
		"dir,kind,flow,ssid,seq,sender_seq,len,arrival_ns,fate,reason,"
		"delay_ns,queue_ns,jitter_ns,hold_ns,depart_ns,tx_ns,copy,held,"
		"reordered\n"
		"ba,r,10.0.0.2:862>10.0.0.1:40000,3,5,9,86,1700000000000000000,"
		"fwd,,2000150,150,-20,20,1700000000002000150,"
		"1700000000002000200,0,1,1\n"
		"ab,s,10.0.0.2:862>10.0.0.1:40000,3,5,,86,1700000000000000000,"
		"drop,ge,,,,,,,0,0,\n");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng_same_seed_same_stream),
		cmocka_unit_test(test_rng_unit_is_uniform),
		cmocka_unit_test(test_normal_has_mean_0_sd_1),
		cmocka_unit_test(test_bernoulli_loss_ratio),
		cmocka_unit_test(test_loss_0_and_1),
		cmocka_unit_test(test_ge_bursts_have_mean_length_1_over_r),
		cmocka_unit_test(test_ge_state_loss_probabilities),
		cmocka_unit_test(test_shaper_spaces_frames_at_the_rate),
		cmocka_unit_test(test_shaper_rate_is_exact_when_backlogged),
		cmocka_unit_test(test_shaper_byte_limit_and_overhead),
		cmocka_unit_test(test_same_seed_same_decisions_whatever_the_timing),
		cmocka_unit_test(test_streams_are_independent),
		cmocka_unit_test(test_uniform_jitter_fifo_and_free),
		cmocka_unit_test(test_held_packets_leave_late_others_do_not_wait),
		cmocka_unit_test(test_replay_cycles_through_the_file),
		cmocka_unit_test(test_holdq_pops_in_deadline_order_ties_fifo),
		cmocka_unit_test(test_spec_parses_every_key),
		cmocka_unit_test(test_spec_errors_name_the_key),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_options_and_config_file),
		cmocka_unit_test(test_classify_stamp_packets),
		cmocka_unit_test(test_classify_passes_the_rest),
		cmocka_unit_test(test_classify_ipv6),
		cmocka_unit_test(test_order_counts_rfc4737_reordering_across_wrap),
		cmocka_unit_test(test_log_line_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
