/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RSS placement (probe/rss.c): the Toeplitz hash against the worked
 * examples of the Microsoft RSS specification ("Verifying the RSS hash
 * calculation", IPv4 with and without ports), the reply tuple's
 * direction, and that the predicted queue follows the indirection
 * table i -> i mod N.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>

#include "rss.h"

static struct probe_addr
v4(const char *s)
{
	struct probe_addr a = { .family = 4 };

	assert_int_equal(inet_pton(AF_INET, s, &a.v4), 1);
	return a;
}

static struct probe_addr
v6(const char *s)
{
	struct probe_addr a = { .family = 6 };

	assert_int_equal(inet_pton(AF_INET6, s, a.v6), 1);
	return a;
}

struct ms_example {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t l3, l4;
};

/* Microsoft RSS specification, IPv4 examples (source -> destination). */
static const struct ms_example ms_v4[] = {
	{ "66.9.149.187", "161.142.100.80", 2794, 1766,
	  0x323e8fc2, 0x51ccc178 },
	{ "199.92.111.2", "65.69.140.83", 14230, 4739,
	  0xd718262a, 0xc626b0ea },
	{ "24.19.198.95", "12.22.207.184", 12898, 38024,
	  0xd2d0a5de, 0x5c2b394a },
	{ "38.27.205.30", "209.142.163.6", 48228, 2217,
	  0x82989176, 0xafc7327f },
	{ "153.39.163.191", "202.188.127.2", 44251, 1303,
	  0x5d1809c5, 0x10e828a2 },
};

static void
test_microsoft_examples_ipv4(void **state)
{
	struct rss_plan l3, l4;

	(void)state;
	rss_plan_init(&l3, 40, false, 128, 4);
	rss_plan_init(&l4, 40, true, 128, 4);
	for (unsigned i = 0; i < sizeof(ms_v4) / sizeof(ms_v4[0]); i++) {
		const struct ms_example *e = &ms_v4[i];
		struct probe_addr s = v4(e->src), d = v4(e->dst);

		assert_int_equal(rss_hash(&l3, &s, e->sport, &d, e->dport),
				 e->l3);
		assert_int_equal(rss_hash(&l4, &s, e->sport, &d, e->dport),
				 e->l4);
	}
}

static void
test_microsoft_example_ipv6(void **state)
{
	/* Microsoft RSS specification, IPv6, first example */
	struct rss_plan l3, l4;
	struct probe_addr s = v6("3ffe:2501:200:1fff::7"),
			  d = v6("3ffe:2501:200:3::1");

	(void)state;
	rss_plan_init(&l3, 40, false, 128, 4);
	rss_plan_init(&l4, 40, true, 128, 4);
	assert_int_equal(rss_hash(&l3, &s, 2794, &d, 1766), 0x2cc18cd5);
	assert_int_equal(rss_hash(&l4, &s, 2794, &d, 1766), 0x40207d3d);
}

static void
test_reply_queue_follows_table(void **state)
{
	struct rss_plan pl;
	struct probe_addr local = v4("10.1.0.1"), peer = v4("10.2.0.1");
	unsigned seen[4] = { 0 };

	(void)state;
	rss_plan_init(&pl, 52, true, 512, 4);
	assert_int_equal(pl.key_len, 52);
	for (uint16_t port = 50000; port < 50400; port++) {
		/* the reply goes peer:862 -> local:port */
		uint32_t h = rss_hash(&pl, &peer, 862, &local, port);
		uint16_t q = rss_reply_queue(&pl, &local, port, &peer, 862);

		assert_int_equal(q, (h % 512) % 4);
		assert_true(q < 4);
		seen[q]++;
	}
	/* 400 source ports spread over all four queues */
	for (unsigned q = 0; q < 4; q++)
		assert_true(seen[q] > 50);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_microsoft_examples_ipv4),
		cmocka_unit_test(test_microsoft_example_ipv6),
		cmocka_unit_test(test_reply_queue_follows_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
