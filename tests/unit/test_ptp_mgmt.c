/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PTP management messages: the GETs we build against the octets pmc
 * sends, answers as ptp4l 3.1.1 sent them (software timestamping over a
 * veth: a free-running slave and its grandmaster), malformed answers
 * built from those by hand (every truncation, lengths that lie, bit
 * flips), and the synchronisation decision case by case.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metroprobe/ptp_mgmt.h"

/* pmc's source port identity: clock 0, port = its pid (0x6342 here) */
static const struct ptp_port_identity pmc_src = { { 0 }, 0x6342 };

/* GET PORT_DATA_SET, seq 0, as pmc 3.1.1 sent it: 26 zero data octets */
static const uint8_t get_port_data_set[80] = {
	0x0d, 0x02, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, /* type, len 80 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,             /* correction, 4 */
	0, 0, 0, 0, 0, 0, 0, 0, 0x63, 0x42,             /* source */
	0x00, 0x00, 0x04, 0x7f,                         /* seq 0, control */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* all */
	0x00, 0x00, 0x00, 0x00,                         /* hops 0, GET */
	0x00, 0x01, 0x00, 0x1c, 0x20, 0x04,             /* TLV 28: 0x2004 */
};

/* GET TIME_STATUS_NP, seq 2: 50 zero data octets */
static const uint8_t get_time_status[104] = {
	0x0d, 0x02, 0x00, 0x68, 0x00, 0x00, 0x00, 0x00,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0x63, 0x42,
	0x00, 0x02, 0x04, 0x7f,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x34, 0xc0, 0x00,             /* TLV 52: 0xc000 */
};

/* The slave's answers (seq 0, 1, 2): port 1 UNCALIBRATED; UTC offset
 * 37, no flags, timeSource 0xa0; offset +1648 ns, gmPresent 1. */
static const uint8_t slave_port_data_set[80] = {
	0x0d, 0x02, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x62, 0x96, 0xa2, 0xff, 0xfe, 0xdd, 0xff, 0xde, 0x00, 0x01,
	0x00, 0x00, 0x04, 0x7f,
	0, 0, 0, 0, 0, 0, 0, 0, 0x63, 0x42,             /* target: pmc */
	0x00, 0x00, 0x02, 0x00,                         /* RESPONSE */
	0x00, 0x01, 0x00, 0x1c, 0x20, 0x04,
	0x62, 0x96, 0xa2, 0xff, 0xfe, 0xdd, 0xff, 0xde, 0x00, 0x01, /* port */
	0x08,                                           /* UNCALIBRATED */
	0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0x02, 0xfe, 0x01, 0x00, 0x02,
};

static const uint8_t slave_time_props[58] = {
	0x0d, 0x02, 0x00, 0x3a, 0x00, 0x00, 0x00, 0x00,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x62, 0x96, 0xa2, 0xff, 0xfe, 0xdd, 0xff, 0xde, 0x00, 0x00,
	0x00, 0x01, 0x04, 0x7f,
	0, 0, 0, 0, 0, 0, 0, 0, 0x63, 0x42,
	0x00, 0x00, 0x02, 0x00,
	0x00, 0x01, 0x00, 0x06, 0x20, 0x03,
	0x00, 0x25, 0x00, 0xa0,
};

static const uint8_t slave_time_status[104] = {
	0x0d, 0x02, 0x00, 0x68, 0x00, 0x00, 0x00, 0x00,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x62, 0x96, 0xa2, 0xff, 0xfe, 0xdd, 0xff, 0xde, 0x00, 0x00,
	0x00, 0x02, 0x04, 0x7f,
	0, 0, 0, 0, 0, 0, 0, 0, 0x63, 0x42,
	0x00, 0x00, 0x02, 0x00,
	0x00, 0x01, 0x00, 0x34, 0xc0, 0x00,
	0, 0, 0, 0, 0, 0, 0x06, 0x70,                   /* offset 1648 */
	0x18, 0xee, 0x1a, 0x7e, 0x86, 0xea, 0x0e, 0x42, /* ingress time */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                   /* rate, phase, tb */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,             /* lastGmPhaseChange */
	0x00, 0x00, 0x00, 0x01,                         /* gmPresent */
	0x52, 0x78, 0x18, 0xff, 0xfe, 0x2f, 0x36, 0xba, /* gmIdentity */
};

/* The grandmaster's PARENT_DATA_SET (an ID we do not read) */
static const uint8_t master_parent_data_set[86] = {
	0x0d, 0x02, 0x00, 0x56, 0x00, 0x00, 0x00, 0x00,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x52, 0x78, 0x18, 0xff, 0xfe, 0x2f, 0x36, 0xba, 0x00, 0x00,
	0x00, 0x00, 0x04, 0x7f,
	0, 0, 0, 0, 0, 0, 0, 0, 0x63, 0x5b,
	0x00, 0x00, 0x02, 0x00,
	0x00, 0x01, 0x00, 0x22, 0x20, 0x02,
	0x52, 0x78, 0x18, 0xff, 0xfe, 0x2f, 0x36, 0xba, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x80, 0xf8, 0xfe, 0xff, 0xff, 0x80,
	0x52, 0x78, 0x18, 0xff, 0xfe, 0x2f, 0x36, 0xba,
};

/* A MANAGEMENT_ERROR_STATUS refusing TIME_STATUS_NP with NOT_SUPPORTED,
 * seq 2, displayData empty (a PTPText of length 0, padded to even). */
static const uint8_t error_time_status[62] = {
	0x0d, 0x02, 0x00, 0x3e, 0x00, 0x00, 0x00, 0x00,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x52, 0x78, 0x18, 0xff, 0xfe, 0x2f, 0x36, 0xba, 0x00, 0x00,
	0x00, 0x02, 0x04, 0x7f,
	0, 0, 0, 0, 0, 0, 0, 0, 0x63, 0x42,
	0x00, 0x00, 0x02, 0x00,
	0x00, 0x02, 0x00, 0x0a,                         /* TLV 2, 10 */
	0x00, 0x06, 0xc0, 0x00, 0, 0, 0, 0, 0x00, 0x00, /* NOT_SUPPORTED */
};

static void
test_get_octets_are_those_pmc_sends(void **state)
{
	(void)state;
	uint8_t buf[PTP_MGMT_MSG_MAX];

	assert_int_equal(ptp_mgmt_build_get(buf, sizeof(buf),
					    PTP_MID_PORT_DATA_SET, 0, 0,
					    &pmc_src), 80);
	assert_memory_equal(buf, get_port_data_set, 80);
	assert_int_equal(ptp_mgmt_build_get(buf, sizeof(buf),
					    PTP_MID_TIME_STATUS_NP, 2, 0,
					    &pmc_src), 104);
	assert_memory_equal(buf, get_time_status, 104);
	/* TIME_PROPERTIES_DATA_SET: 4 data octets, 58 in all */
	assert_int_equal(ptp_mgmt_build_get(buf, sizeof(buf),
			 PTP_MID_TIME_PROPERTIES_DATA_SET, 1, 24, &pmc_src),
			 58);
	assert_int_equal(buf[4], 24);                 /* domain */
	assert_int_equal(buf[31], 1);                 /* seq */
	assert_int_equal(buf[51], 6);                 /* TLV length */
	assert_int_equal(buf[52] << 8 | buf[53], 0x2003);
}

static void
test_get_refuses_unknown_ids_and_small_buffers(void **state)
{
	(void)state;
	uint8_t buf[104];

	assert_int_equal(ptp_mgmt_build_get(buf, sizeof(buf), 0x2002, 0, 0,
					    &pmc_src), -EINVAL);
	assert_int_equal(ptp_mgmt_build_get(buf, 103, PTP_MID_TIME_STATUS_NP,
					    0, 0, &pmc_src), -ENOSPC);
	assert_int_equal(ptp_mgmt_build_get(buf, 0, PTP_MID_PORT_DATA_SET,
					    0, 0, &pmc_src), -ENOSPC);
}

static void
test_slave_answers_read_field_by_field(void **state)
{
	(void)state;
	static const uint8_t gm[8] = { 0x52, 0x78, 0x18, 0xff, 0xfe, 0x2f,
				       0x36, 0xba };
	struct ptp_mgmt_reply r;
	char err[128] = "";

	assert_int_equal(ptp_mgmt_parse(slave_port_data_set,
					 sizeof(slave_port_data_set), &r, err,
					 sizeof(err)), 0);
	assert_int_equal(r.id, PTP_MID_PORT_DATA_SET);
	assert_int_equal(r.seq, 0);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.source.port, 1);
	assert_int_equal(r.port.number, 1);
	assert_int_equal(r.port.state, PTP_PS_UNCALIBRATED);

	assert_int_equal(ptp_mgmt_parse(slave_time_props,
					 sizeof(slave_time_props), &r, err,
					 sizeof(err)), 0);
	assert_int_equal(r.id, PTP_MID_TIME_PROPERTIES_DATA_SET);
	assert_int_equal(r.seq, 1);
	assert_int_equal(r.props.utc_offset, 37);
	assert_int_equal(r.props.flags, 0);

	assert_int_equal(ptp_mgmt_parse(slave_time_status,
					 sizeof(slave_time_status), &r, err,
					 sizeof(err)), 0);
	assert_int_equal(r.id, PTP_MID_TIME_STATUS_NP);
	assert_int_equal(r.seq, 2);
	assert_true(r.time.master_offset_ns == 1648);
	assert_true(r.time.ingress_time_ns == 1796402432099094082LL);
	assert_true(r.time.gm_present);
	assert_memory_equal(r.time.gm_identity, gm, 8);
	assert_string_equal(err, "");
}

static void
test_negative_offset_and_absent_grandmaster(void **state)
{
	(void)state;
	uint8_t m[sizeof(slave_time_status)];
	struct ptp_mgmt_reply r;

	memcpy(m, slave_time_status, sizeof(m));
	/* master_offset -865 ns (0xfffffffffffffc9f), gmPresent 0 */
	memset(m + 54, 0xff, 8);
	m[60] = 0xfc;
	m[61] = 0x9f;
	m[95] = 0;
	assert_int_equal(ptp_mgmt_parse(m, sizeof(m), &r, NULL, 0), 0);
	assert_true(r.time.master_offset_ns == -865);
	assert_false(r.time.gm_present);
}

static void
test_error_status_names_the_refused_id(void **state)
{
	(void)state;
	struct ptp_mgmt_reply r;

	assert_int_equal(ptp_mgmt_parse(error_time_status,
					 sizeof(error_time_status), &r, NULL,
					 0), 0);
	assert_int_equal(r.id, PTP_MID_TIME_STATUS_NP);
	assert_int_equal(r.error, 6);
	assert_string_equal(ptp_mgmt_error_str(r.error), "NOT_SUPPORTED");
}

static void
test_other_messages_are_skipped_not_errors(void **state)
{
	(void)state;
	uint8_t m[sizeof(slave_time_status)];
	struct ptp_mgmt_reply r;

	/* an ID we did not ask for */
	assert_int_equal(ptp_mgmt_parse(master_parent_data_set,
					 sizeof(master_parent_data_set), &r,
					 NULL, 0), -ENOMSG);
	/* our own GET (action 0), and a Sync message (type 0) */
	assert_int_equal(ptp_mgmt_parse(get_time_status,
					 sizeof(get_time_status), &r, NULL,
					 0), -ENOMSG);
	memcpy(m, slave_time_status, sizeof(m));
	m[0] = 0x00;
	assert_int_equal(ptp_mgmt_parse(m, sizeof(m), &r, NULL, 0), -ENOMSG);
	/* transportSpecific does not matter */
	m[0] = 0x1d;
	assert_int_equal(ptp_mgmt_parse(m, sizeof(m), &r, NULL, 0), 0);
}

static void
expect_bad(const uint8_t *m, size_t len, const char *words)
{
	struct ptp_mgmt_reply r;
	char err[160] = "";

	assert_int_equal(ptp_mgmt_parse(m, len, &r, err, sizeof(err)),
			 -EBADMSG);
	if (strstr(err, words) == NULL)
		fail_msg("error '%s' does not say '%s'", err, words);
}

static void
test_every_truncation_is_a_clear_error(void **state)
{
	(void)state;
	const struct { const uint8_t *m; size_t len; } msgs[] = {
		{ slave_port_data_set, sizeof(slave_port_data_set) },
		{ slave_time_props, sizeof(slave_time_props) },
		{ slave_time_status, sizeof(slave_time_status) },
		{ error_time_status, sizeof(error_time_status) },
	};

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		for (size_t len = 0; len < msgs[i].len; len++) {
			/* a copy of exactly len octets: ASan sees any read
			 * beyond it */
			uint8_t *m = malloc(len + 1);

			assert_non_null(m);
			memcpy(m, msgs[i].m, len);
			expect_bad(m, len, len < 34 ? "shorter than a PTP "
				   "header" : "beyond the");
			free(m);
		}
	}
}

static void
test_lengths_that_lie_are_clear_errors(void **state)
{
	(void)state;
	uint8_t m[sizeof(slave_time_status)];

	/* messageLength shorter than the message with a TLV header */
	memcpy(m, slave_time_status, sizeof(m));
	m[3] = 51;
	expect_bad(m, sizeof(m), "too short for a management message");
	/* messageLength 52 (TLV header only): its lengthField 52 is beyond */
	m[3] = 52;
	expect_bad(m, sizeof(m), "TLV lengthField 52 beyond the message");
	/* lengthField one more than the message holds */
	memcpy(m, slave_time_status, sizeof(m));
	m[51] = 53;
	expect_bad(m, sizeof(m), "TLV lengthField 53 beyond");
	/* lengthField 0xffff */
	m[50] = 0xff;
	m[51] = 0xff;
	expect_bad(m, sizeof(m), "TLV lengthField 65535 beyond");
	/* a MANAGEMENT TLV too short for its managementId */
	memcpy(m, slave_time_status, sizeof(m));
	m[51] = 1;
	expect_bad(m, sizeof(m), "no managementId");
	/* TIME_STATUS_NP with 48 data octets, not 50; the message itself
	 * is consistent (messageLength and TLV shortened together) */
	m[3] = 102;
	m[51] = 50;
	expect_bad(m, 102, "TIME_STATUS_NP: data field of 48 octets, 50 "
		   "expected");
	/* PORT_DATA_SET whose data stops before portState */
	uint8_t p[sizeof(slave_port_data_set)];

	memcpy(p, slave_port_data_set, sizeof(p));
	p[3] = 64;
	p[51] = 12;
	expect_bad(p, 64, "PORT_DATA_SET: data field of 10 octets, 26");
}

static void
test_bad_headers_and_tlvs_are_clear_errors(void **state)
{
	(void)state;
	uint8_t m[sizeof(error_time_status)];

	memcpy(m, error_time_status, sizeof(m));
	m[1] = 0x01;
	expect_bad(m, sizeof(m), "versionPTP 1, not 2");
	/* error status with a managementErrorId of 0 */
	memcpy(m, error_time_status, sizeof(m));
	m[53] = 0;
	expect_bad(m, sizeof(m), "managementErrorId 0");
	/* error status TLV too short for its fields */
	memcpy(m, error_time_status, sizeof(m));
	m[51] = 6;
	expect_bad(m, sizeof(m), "MANAGEMENT_ERROR_STATUS TLV of 6 octets");
	/* a response with some other TLV */
	memcpy(m, error_time_status, sizeof(m));
	m[49] = 0x03;
	expect_bad(m, sizeof(m), "TLV type 0x0003");
}

static void
test_trailing_octets_beyond_message_length_are_ignored(void **state)
{
	(void)state;
	uint8_t m[sizeof(slave_time_props) + 10];
	struct ptp_mgmt_reply r;

	memset(m, 0xee, sizeof(m));
	memcpy(m, slave_time_props, sizeof(slave_time_props));
	assert_int_equal(ptp_mgmt_parse(m, sizeof(m), &r, NULL, 0), 0);
	assert_int_equal(r.props.utc_offset, 37);
}

/* xorshift: reproducible noise */
static uint64_t
rng(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

static void
test_flipped_and_random_octets_never_crash(void **state)
{
	(void)state;
	const uint8_t *src[] = { slave_port_data_set, slave_time_props,
				 slave_time_status, error_time_status };
	const size_t len[] = { sizeof(slave_port_data_set),
			       sizeof(slave_time_props),
			       sizeof(slave_time_status),
			       sizeof(error_time_status) };
	struct ptp_mgmt_reply r;
	char err[160];

	for (int i = 0; i < 200000; i++) {
		unsigned k = (unsigned)(rng() % 4);
		size_t n = (size_t)(rng() % (len[k] + 8));
		uint8_t *m = malloc(n + 1);
		int rc;

		assert_non_null(m);
		for (size_t j = 0; j < n; j++)
			m[j] = j < len[k] ? src[k][j] : (uint8_t)rng();
		for (int f = (int)(rng() % 4); f > 0 && n > 0; f--)
			m[rng() % n] ^= (uint8_t)(1u << (rng() % 8));
		err[0] = '\0';
		rc = ptp_mgmt_parse(m, n, &r, err, sizeof(err));
		assert_true(rc == 0 || rc == -ENOMSG || rc == -EBADMSG);
		if (rc == -EBADMSG)
			assert_true(err[0] != '\0');
		free(m);
	}
}

static struct ptp_mgmt_reply
port_reply(uint16_t seq, uint16_t number, uint8_t st)
{
	struct ptp_mgmt_reply r = { .seq = seq, .id = PTP_MID_PORT_DATA_SET };

	r.port.number = number;
	r.port.state = st;
	return r;
}

static struct ptp_mgmt_reply
props_reply(uint16_t seq, uint8_t flags)
{
	struct ptp_mgmt_reply r = { .seq = seq,
				    .id = PTP_MID_TIME_PROPERTIES_DATA_SET };

	r.props.flags = flags;
	return r;
}

static struct ptp_mgmt_reply
time_reply(uint16_t seq, int64_t offset, bool gm)
{
	struct ptp_mgmt_reply r = { .seq = seq, .id = PTP_MID_TIME_STATUS_NP };

	r.time.master_offset_ns = offset;
	r.time.gm_present = gm;
	return r;
}

static void
test_round_matches_sequences_and_ends_with_time_status(void **state)
{
	(void)state;
	struct ptp_status st;
	struct ptp_mgmt_reply r;

	/* sequence numbers wrap: GETs 0xfffe, 0xffff, 0 */
	ptp_mgmt_status_init(&st, 0xfffe);
	r = port_reply(0xfffb, 1, PTP_PS_SLAVE);        /* a round before */
	assert_int_equal(ptp_mgmt_status_add(&st, &r), -ENOMSG);
	r = port_reply(0xfffe, 1, PTP_PS_MASTER);
	assert_int_equal(ptp_mgmt_status_add(&st, &r), 0);
	r = port_reply(0xfffe, 2, PTP_PS_UNCALIBRATED);
	assert_int_equal(ptp_mgmt_status_add(&st, &r), 0);
	r = port_reply(0xfffe, 3, PTP_PS_PASSIVE);
	assert_int_equal(ptp_mgmt_status_add(&st, &r), 0);
	r = props_reply(0xfffe, PTP_TIME_TRACEABLE);    /* wrong seq */
	assert_int_equal(ptp_mgmt_status_add(&st, &r), -ENOMSG);
	r = props_reply(0xffff, PTP_TIME_TRACEABLE);
	assert_int_equal(ptp_mgmt_status_add(&st, &r), 0);
	assert_int_equal(ptp_mgmt_status_add(&st, &r), -ENOMSG); /* again */
	r = time_reply(0, -500, true);
	assert_int_equal(ptp_mgmt_status_add(&st, &r), 1);
	assert_int_equal(ptp_mgmt_status_add(&st, &r), -ENOMSG);
	r = port_reply(0xfffe, 4, PTP_PS_SLAVE);        /* after the end */
	assert_int_equal(ptp_mgmt_status_add(&st, &r), -ENOMSG);
	/* the decision is about the port that tracks a master */
	assert_int_equal(st.n_ports, 3);
	assert_int_equal(st.port, 2);
	assert_int_equal(st.port_state, PTP_PS_UNCALIBRATED);
	assert_true(st.have_props && st.time_traceable);
	assert_true(st.offset_ns == -500);
	/* a first round cannot tell a fresh offset from one left over */
	ptp_mgmt_decide(&st, NULL, 1000);
	assert_false(st.synced);
	assert_int_equal(st.reason, PTP_SYNC_NOT_MEASURED);

	/* the next round: ptp4l measured again */
	struct ptp_status next;

	ptp_mgmt_status_init(&next, 1);
	r = port_reply(1, 2, PTP_PS_UNCALIBRATED);
	assert_int_equal(ptp_mgmt_status_add(&next, &r), 0);
	r = time_reply(3, -480, true);
	assert_int_equal(ptp_mgmt_status_add(&next, &r), 1);
	ptp_mgmt_decide(&next, &st, 1000);
	assert_true(next.synced);
	assert_int_equal(next.error_ns, 1480);
}

static void
test_refused_time_status_ends_the_round_unsynchronised(void **state)
{
	(void)state;
	struct ptp_status st;
	struct ptp_mgmt_reply r;

	ptp_mgmt_status_init(&st, 10);
	r = port_reply(10, 1, PTP_PS_SLAVE);
	assert_int_equal(ptp_mgmt_status_add(&st, &r), 0);
	assert_int_equal(ptp_mgmt_parse(error_time_status,
					 sizeof(error_time_status), &r, NULL,
					 0), 0);
	r.seq = 12;
	assert_int_equal(ptp_mgmt_status_add(&st, &r), 1);
	ptp_mgmt_decide(&st, NULL, 1000);
	assert_false(st.synced);
	assert_int_equal(st.reason, PTP_SYNC_REFUSED);
	assert_true(st.error_ns == PTP_MGMT_UNKNOWN_ERROR_NS);
}

/* One decision from hand-set answers. */
struct decide_case {
	const char *what;
	unsigned n_ports;
	uint8_t state;
	bool have_time;
	int64_t offset;
	bool gm;
	bool have_props;
	bool traceable;
	uint64_t margin;
	/* expected */
	bool synced;
	uint64_t error_ns;
	enum ptp_sync_reason reason;
};

#define UNKNOWN PTP_MGMT_UNKNOWN_ERROR_NS

static const struct decide_case decide_cases[] = {
	{ "slave, small offset", 1, PTP_PS_SLAVE, true, 1648, true, true,
	  false, 1000, true, 2648, PTP_SYNC_TRACKING },
	{ "slave, negative offset", 1, PTP_PS_SLAVE, true, -865, true, true,
	  false, 1000, true, 1865, PTP_SYNC_TRACKING },
	{ "slave, offset 0 (nullf servo locks on 0)", 1, PTP_PS_SLAVE, true,
	  0, true, true, false, 1000, true, 1000, PTP_SYNC_TRACKING },
	{ "uncalibrated, first round: the offset may be left over", 1,
	  PTP_PS_UNCALIBRATED, true, -31, true, true, false, 5000, false,
	  UNKNOWN, PTP_SYNC_NOT_MEASURED },
	{ "uncalibrated, nothing measured yet", 1, PTP_PS_UNCALIBRATED, true,
	  0, true, true, false, 1000, false, UNKNOWN,
	  PTP_SYNC_NOT_MEASURED },
	{ "slave, offset exactly 1 ms", 1, PTP_PS_SLAVE, true, -1000000,
	  true, true, false, 1000, true, 1001000, PTP_SYNC_TRACKING },
	{ "slave, offset 1 ms + 1 ns", 1, PTP_PS_SLAVE, true, 1000001, true,
	  true, false, 1000, false, 1001001, PTP_SYNC_OFFSET_TOO_LARGE },
	{ "slave, offset INT64_MIN", 1, PTP_PS_SLAVE, true, INT64_MIN, true,
	  true, false, 1000, false, 9223372036854776808ULL,
	  PTP_SYNC_OFFSET_TOO_LARGE },
	{ "slave, margin saturates", 1, PTP_PS_SLAVE, true, 10, true, true,
	  false, UINT64_MAX, true, UINT64_MAX, PTP_SYNC_TRACKING },
	{ "slave, no grandmaster present", 1, PTP_PS_SLAVE, true, 10, false,
	  true, false, 1000, false, UNKNOWN, PTP_SYNC_NO_GRANDMASTER },
	{ "grandmaster, not traceable", 1, PTP_PS_MASTER, true, 0, false,
	  true, false, 1000, false, UNKNOWN, PTP_SYNC_NOT_TRACEABLE },
	{ "grandmaster, traceable", 1, PTP_PS_MASTER, true, 0, false, true,
	  true, 1000, true, 1000, PTP_SYNC_GRANDMASTER },
	{ "grandmaster, time properties unanswered", 1, PTP_PS_MASTER, true,
	  0, false, false, true, 1000, false, UNKNOWN,
	  PTP_SYNC_NOT_TRACEABLE },
	{ "master port of a clock with another grandmaster", 1,
	  PTP_PS_MASTER, true, 0, true, true, true, 1000, false, UNKNOWN,
	  PTP_SYNC_NO_PORT },
	{ "listening", 1, PTP_PS_LISTENING, true, 0, false, true, false,
	  1000, false, UNKNOWN, PTP_SYNC_NO_PORT },
	{ "faulty", 1, PTP_PS_FAULTY, true, 0, false, true, false, 1000,
	  false, UNKNOWN, PTP_SYNC_NO_PORT },
	{ "a state beyond SLAVE", 1, 42, true, 10, true, true, false, 1000,
	  false, UNKNOWN, PTP_SYNC_NO_PORT },
	{ "no port answered", 0, 0, true, 10, true, true, false, 1000, false,
	  UNKNOWN, PTP_SYNC_NO_PORT },
	{ "no time status", 1, PTP_PS_SLAVE, false, 10, true, true, false,
	  1000, false, UNKNOWN, PTP_SYNC_NO_ANSWER },
};

static void
test_decisions_case_by_case(void **state)
{
	(void)state;

	for (size_t i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]);
	     i++) {
		const struct decide_case *c = &decide_cases[i];
		struct ptp_status st;

		ptp_mgmt_status_init(&st, 0);
		st.n_ports = c->n_ports;
		st.port = c->n_ports > 0 ? 1 : 0;
		st.port_state = c->state;
		st.have_time = c->have_time;
		st.offset_ns = c->offset;
		st.gm_present = c->gm;
		st.have_props = c->have_props;
		st.time_traceable = c->traceable;
		ptp_mgmt_decide(&st, NULL, c->margin);
		if (st.synced != c->synced || st.error_ns != c->error_ns ||
		    st.reason != c->reason)
			fail_msg("%s: synced %d error %llu reason '%s', "
				 "expected %d %llu '%s'", c->what, st.synced,
				 (unsigned long long)st.error_ns,
				 ptp_mgmt_reason_str(st.reason), c->synced,
				 (unsigned long long)c->error_ns,
				 ptp_mgmt_reason_str(c->reason));
	}
}

/* One round of a free-running slave as the watch sees it. */
struct watched_round {
	uint8_t state;        /* 0: the round failed */
	uint8_t gm;           /* last octet of the grandmaster's identity */
	int64_t offset;
	bool synced;
	enum ptp_sync_reason reason;
};

static void
test_uncalibrated_offset_counts_once_it_changed_under_watch(void **state)
{
	(void)state;
	const struct watched_round rounds[] = {
		/* ptp4l starts: 0 until it has measured */
		{ PTP_PS_UNCALIBRATED, 1, 0, false, PTP_SYNC_NOT_MEASURED },
		{ PTP_PS_UNCALIBRATED, 1, 0, false, PTP_SYNC_NOT_MEASURED },
		{ PTP_PS_UNCALIBRATED, 1, -31, true, PTP_SYNC_TRACKING },
		/* no new Sync since the last round: still the same one */
		{ PTP_PS_UNCALIBRATED, 1, -31, true, PTP_SYNC_TRACKING },
		/* the master is lost; found again, its old offset kept */
		{ PTP_PS_LISTENING, 1, -31, false, PTP_SYNC_NO_PORT },
		{ PTP_PS_UNCALIBRATED, 1, -31, false, PTP_SYNC_NOT_MEASURED },
		{ PTP_PS_UNCALIBRATED, 1, 151, true, PTP_SYNC_TRACKING },
		/* another grandmaster: the previous one's offset is no use */
		{ PTP_PS_UNCALIBRATED, 2, 151, false, PTP_SYNC_NOT_MEASURED },
		{ PTP_PS_UNCALIBRATED, 2, 90, true, PTP_SYNC_TRACKING },
		/* a failed round forgets what was watched */
		{ 0, 2, 0, false, PTP_SYNC_NO_ANSWER },
		{ PTP_PS_UNCALIBRATED, 2, 90, false, PTP_SYNC_NOT_MEASURED },
		{ PTP_PS_UNCALIBRATED, 2, -12, true, PTP_SYNC_TRACKING },
		/* a servo that locks: SLAVE, then back (a step) with the
		 * offset it had */
		{ PTP_PS_SLAVE, 2, -12, true, PTP_SYNC_TRACKING },
		{ PTP_PS_UNCALIBRATED, 2, -12, true, PTP_SYNC_TRACKING },
	};
	struct ptp_status prev, st;
	bool have_prev = false;

	for (size_t i = 0; i < sizeof(rounds) / sizeof(rounds[0]); i++) {
		const struct watched_round *w = &rounds[i];

		ptp_mgmt_status_init(&st, 0);
		if (w->state != 0) {
			st.n_ports = 1;
			st.port = 1;
			st.port_state = w->state;
			st.have_time = true;
			st.offset_ns = w->offset;
			st.gm_present = true;
			st.gm_identity[7] = w->gm;
		}
		ptp_mgmt_decide(&st, have_prev ? &prev : NULL, 1000);
		if (st.synced != w->synced || st.reason != w->reason)
			fail_msg("round %zu: synced %d '%s', expected %d '%s'",
				 i, st.synced, ptp_mgmt_reason_str(st.reason),
				 w->synced, ptp_mgmt_reason_str(w->reason));
		prev = st;
		have_prev = true;
	}
}

static void
test_names(void **state)
{
	(void)state;

	for (int r = 0; r < PTP_SYNC_N_REASONS; r++)
		assert_non_null(ptp_mgmt_reason_str(r));
	assert_string_equal(ptp_mgmt_reason_str(PTP_SYNC_N_REASONS),
			    "unknown");
	assert_string_equal(ptp_mgmt_reason_str(PTP_SYNC_NOT_TRACEABLE),
			    "ptp4l is the grandmaster, its time not "
			    "traceable");
	assert_string_equal(ptp_mgmt_port_state_str(0), "none");
	assert_string_equal(ptp_mgmt_port_state_str(PTP_PS_SLAVE), "SLAVE");
	assert_string_equal(ptp_mgmt_port_state_str(PTP_PS_UNCALIBRATED),
			    "UNCALIBRATED");
	assert_string_equal(ptp_mgmt_port_state_str(10), "unknown");
	assert_string_equal(ptp_mgmt_error_str(2), "NO_SUCH_ID");
	assert_string_equal(ptp_mgmt_error_str(7), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_octets_are_those_pmc_sends),
		cmocka_unit_test(
			test_get_refuses_unknown_ids_and_small_buffers),
		cmocka_unit_test(test_slave_answers_read_field_by_field),
		cmocka_unit_test(test_negative_offset_and_absent_grandmaster),
		cmocka_unit_test(test_error_status_names_the_refused_id),
		cmocka_unit_test(test_other_messages_are_skipped_not_errors),
		cmocka_unit_test(test_every_truncation_is_a_clear_error),
		cmocka_unit_test(test_lengths_that_lie_are_clear_errors),
		cmocka_unit_test(test_bad_headers_and_tlvs_are_clear_errors),
		cmocka_unit_test(
			test_trailing_octets_beyond_message_length_are_ignored),
		cmocka_unit_test(test_flipped_and_random_octets_never_crash),
		cmocka_unit_test(
			test_round_matches_sequences_and_ends_with_time_status),
		cmocka_unit_test(
			test_refused_time_status_ends_the_round_unsynchronised),
		cmocka_unit_test(test_decisions_case_by_case),
		cmocka_unit_test(
		 test_uncalibrated_offset_counts_once_it_changed_under_watch),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
