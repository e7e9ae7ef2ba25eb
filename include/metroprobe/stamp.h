/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * STAMP test packets (RFC 8762), with the SSID of RFC 8972 section 3.
 *
 * Layouts (octets), all fields network byte order:
 *   unauthenticated sender     44: seq 4, ts 8, err 2, ssid 2, MBZ 28
 *   unauthenticated reflector  44: seq 4, ts 8, err 2, ssid 2, rx ts 8,
 *        sender seq 4, sender ts 8, sender err 2, MBZ 2, sender TTL 1, MBZ 3
 *   authenticated sender      112: seq 4, MBZ 12, ts 8, err 2, ssid 2,
 *        MBZ 68, HMAC 16
 *   authenticated reflector   112: seq 4, MBZ 12, ts 8, err 2, ssid 2,
 *        MBZ 4, rx ts 8, MBZ 8, sender seq 4, MBZ 12, sender ts 8,
 *        sender err 2, MBZ 6, sender TTL 1, MBZ 15, HMAC 16
 * HMAC-SHA-256 truncated to 16 octets over the first 96 octets
 * (RFC 8762 section 4.4).
 *
 * A sender packet may be padded beyond the base length (packet size
 * test); the codec reads and writes only the base fields.
 */
#ifndef METROPROBE_STAMP_H
#define METROPROBE_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STAMP_DEFAULT_PORT    862
#define STAMP_UNAUTH_LEN      44
#define STAMP_AUTH_LEN        112
#define STAMP_HMAC_LEN        16
#define STAMP_HMAC_COVERED    96
#define STAMP_MAX_KEY_LEN     64

/*
 * Field offsets, for code that patches a packet in place (the probe writes
 * T1 and T3 just before transmit). Each layout has one owner: here. Unauthenticated: RFC 8762 figures 2 and 4 (with the
 * SSID of RFC 8972 figures 1 and 3). Authenticated: RFC 8762 figures
 * 3 and 5 (RFC 8972 figures 2 and 4).
 */
enum stamp_offset {
	/* both modes, both directions */
	STAMP_OFF_SEQ           = 0,
	/* unauthenticated */
	STAMP_OFF_U_TS              = 4,
	STAMP_OFF_U_ERR             = 12,
	STAMP_OFF_U_SSID            = 14,
	STAMP_OFF_U_S_MBZ           = 16,   /* sender: 28 octets MBZ */
	STAMP_OFF_U_R_RX_TS         = 16,
	STAMP_OFF_U_R_S_SEQ         = 24,
	STAMP_OFF_U_R_S_TS          = 28,
	STAMP_OFF_U_R_S_ERR         = 36,
	STAMP_OFF_U_R_MBZ1          = 38,   /* 2 octets */
	STAMP_OFF_U_R_S_TTL         = 40,
	STAMP_OFF_U_R_MBZ2          = 41,   /* 3 octets */
	/* authenticated */
	STAMP_OFF_A_MBZ0            = 4,    /* 12 octets */
	STAMP_OFF_A_TS              = 16,
	STAMP_OFF_A_ERR             = 24,
	STAMP_OFF_A_SSID            = 26,
	STAMP_OFF_A_S_MBZ           = 28,   /* sender: 68 octets MBZ */
	STAMP_OFF_A_R_MBZ1          = 28,   /* 4 octets */
	STAMP_OFF_A_R_RX_TS         = 32,
	STAMP_OFF_A_R_MBZ2          = 40,   /* 8 octets */
	STAMP_OFF_A_R_S_SEQ         = 48,
	STAMP_OFF_A_R_MBZ3          = 52,   /* 12 octets */
	STAMP_OFF_A_R_S_TS          = 64,
	STAMP_OFF_A_R_S_ERR         = 72,
	STAMP_OFF_A_R_MBZ4          = 74,   /* 6 octets */
	STAMP_OFF_A_R_S_TTL         = 80,
	STAMP_OFF_A_R_MBZ5          = 81,   /* 15 octets */
	STAMP_OFF_A_HMAC            = STAMP_HMAC_COVERED,
};

enum stamp_mode {
	STAMP_MODE_UNAUTH = 0,
	STAMP_MODE_AUTH   = 1,
};

/* Decode/encode results: 0 on success, or one of these (negative). */
enum stamp_err {
	STAMP_OK          = 0,
	STAMP_ETRUNC      = -1,  /* buffer shorter than the base packet */
	STAMP_EMBZ        = -2,  /* a must-be-zero field is not zero */
	STAMP_EHMAC       = -3,  /* authenticated packet, HMAC mismatch */
	STAMP_EERREST     = -4,  /* error estimate invalid (multiplier 0) */
	STAMP_ESPACE      = -5,  /* encode: output buffer too small */
	STAMP_EKEY        = -6,  /* auth mode without a key */
};
const char *stamp_strerror(int err);

/*
 * Error Estimate (RFC 4656 section 4.1.2, RFC 8762 section 4.2.1):
 * S (synchronised), Z (0 = NTP, 1 = PTP format), 6-bit scale,
 * 8-bit multiplier. Error = multiplier * 2^-32 * 2^scale seconds.
 */
struct stamp_error_estimate {
	bool synced;      /* S bit */
	bool ptp_format;  /* Z bit */
	uint8_t scale;    /* 0..63 */
	uint8_t multiplier;
};
uint16_t stamp_errest_pack(const struct stamp_error_estimate *e);
void stamp_errest_unpack(uint16_t raw, struct stamp_error_estimate *e);
/* Smallest (scale, multiplier) with error >= err_ns; multiplier >= 1. */
void stamp_errest_from_ns(uint64_t err_ns, bool synced, bool ptp_format,
			  struct stamp_error_estimate *e);
/* Rounded up to the next ns; saturates at UINT64_MAX; multiplier 0 -> 0. */
uint64_t stamp_errest_to_ns(const struct stamp_error_estimate *e);

/* Session-Sender test packet. Timestamps raw wire form (see mp_time.h). */
struct stamp_sender_pkt {
	uint32_t seq;
	uint64_t timestamp;
	uint16_t error_estimate;   /* packed, see stamp_errest_pack */
	uint16_t ssid;
};

/* Session-Reflector test packet. */
struct stamp_reflector_pkt {
	uint32_t seq;              /* reflector's own seq (stateful) */
	uint64_t timestamp;        /* T3 */
	uint16_t error_estimate;
	uint16_t ssid;
	uint64_t rx_timestamp;     /* T2 */
	uint32_t sender_seq;
	uint64_t sender_timestamp; /* T1 */
	uint16_t sender_error_estimate;
	uint8_t sender_ttl;
};

/* HMAC key for authenticated mode (NULL key for unauthenticated). */
struct stamp_key {
	uint8_t key[STAMP_MAX_KEY_LEN];
	size_t len;
};

/*
 * Encode into buf (len bytes available; the packet occupies
 * STAMP_UNAUTH_LEN or STAMP_AUTH_LEN; MBZ octets are zeroed).
 * Returns the number of octets written, or a negative stamp_err.
 */
int stamp_encode_sender(uint8_t *buf, size_t len, enum stamp_mode mode,
			const struct stamp_sender_pkt *p,
			const struct stamp_key *key);
int stamp_encode_reflector(uint8_t *buf, size_t len, enum stamp_mode mode,
			   const struct stamp_reflector_pkt *p,
			   const struct stamp_key *key);

/*
 * Decode from buf of len octets. Never reads past buf + len.
 * In authenticated mode the HMAC is checked (key required).
 * Sender MBZ: RFC 8762 section 4.2.1 lets a reflector ignore the
 * sender's MBZ padding; strict_mbz = true rejects non-zero MBZ.
 * Checks in order: length (STAMP_ETRUNC), key (STAMP_EKEY), HMAC
 * (STAMP_EHMAC), MBZ (STAMP_EMBZ, strict only), error estimate.
 * Multiplier 0 (RFC 4656 section 4.1.2 says MUST NOT) in the packet's
 * own error estimate is STAMP_EERREST in strict mode only: TWAMP-Light
 * senders send all-zero estimates, and lenient decoding keeps them
 * (stamp_errest_to_ns then gives 0: "unknown"). The copied sender error
 * estimate of a reflector packet is never checked.
 * Returns 0 or a negative stamp_err; *out is written only on success.
 */
int stamp_decode_sender(const uint8_t *buf, size_t len, enum stamp_mode mode,
			bool strict_mbz, const struct stamp_key *key,
			struct stamp_sender_pkt *out);
int stamp_decode_reflector(const uint8_t *buf, size_t len,
			   enum stamp_mode mode, bool strict_mbz,
			   const struct stamp_key *key,
			   struct stamp_reflector_pkt *out);

/*
 * Hot-path helpers for the reflector: turn a received unauthenticated
 * sender packet into the reflector packet in place (the buffer must hold
 * at least STAMP_UNAUTH_LEN octets; a shorter TWAMP-Light packet is
 * answered with a 44-octet base packet, so the caller extends it first).
 * Writes seq, T3 placeholder (= T2), error estimate, T2, copies sender
 * fields, keeps the SSID, zeroes MBZ; octets past 44 are untouched.
 * stamp_set_tx_timestamp() patches T3 just before transmit.
 */
void stamp_reflect_in_place(uint8_t *buf, uint32_t refl_seq, uint64_t t2_wire,
			    uint16_t errest, uint8_t sender_ttl);
void stamp_set_tx_timestamp(uint8_t *buf, enum stamp_mode mode,
			    uint64_t t_wire);

/*
 * Authenticated reflection (RFC 8762 section 4.3.2), buffer of at least
 * STAMP_AUTH_LEN octets: stamp_auth_verify() the sender packet, then
 * stamp_reflect_in_place_auth(), stamp_set_tx_timestamp(buf,
 * STAMP_MODE_AUTH, t3), and stamp_auth_sign() last (the HMAC covers T3).
 * The HMAC octets are stale until stamp_auth_sign().
 */
void stamp_reflect_in_place_auth(uint8_t *buf, uint32_t refl_seq,
				 uint64_t t2_wire, uint16_t errest,
				 uint8_t sender_ttl);
/* Writes the HMAC of the first 96 octets at octet 96. Returns 0,
 * STAMP_EKEY or STAMP_ESPACE (len < STAMP_AUTH_LEN). */
int stamp_auth_sign(uint8_t *buf, size_t len, const struct stamp_key *key);
/* Checks it. Returns 0, STAMP_ETRUNC, STAMP_EKEY or STAMP_EHMAC
 * (constant-time comparison). */
int stamp_auth_verify(const uint8_t *buf, size_t len,
		      const struct stamp_key *key);

/*
 * Keyed HMAC state for the hot path: set up once per key, reused per
 * packet (about 210 ns instead of 1.1 us per HMAC here). Not
 * thread-safe: one per lcore. stamp_hmac_new() returns NULL for an
 * unusable key or when libcrypto fails. Same results and error codes
 * as stamp_auth_sign() / stamp_auth_verify().
 */
struct stamp_hmac;
struct stamp_hmac *stamp_hmac_new(const struct stamp_key *key);
void stamp_hmac_free(struct stamp_hmac *h);
int stamp_hmac_sign(struct stamp_hmac *h, uint8_t *buf, size_t len);
int stamp_hmac_verify(struct stamp_hmac *h, const uint8_t *buf, size_t len);

/*
 * The sender's fields of an authenticated packet, written in place
 * before it is signed (the rest of the packet, MBZ and padding, is the
 * session's template): RFC 8762 figure 3.
 */
static inline void
stamp_write_sender_auth(uint8_t *buf, uint32_t seq, uint64_t t_wire,
			uint16_t errest, uint16_t ssid)
{
	buf[STAMP_OFF_SEQ] = (uint8_t)(seq >> 24);
	buf[STAMP_OFF_SEQ + 1] = (uint8_t)(seq >> 16);
	buf[STAMP_OFF_SEQ + 2] = (uint8_t)(seq >> 8);
	buf[STAMP_OFF_SEQ + 3] = (uint8_t)seq;
	for (int i = 0; i < 8; i++)
		buf[STAMP_OFF_A_TS + i] = (uint8_t)(t_wire >> (56 - 8 * i));
	buf[STAMP_OFF_A_ERR] = (uint8_t)(errest >> 8);
	buf[STAMP_OFF_A_ERR + 1] = (uint8_t)errest;
	buf[STAMP_OFF_A_SSID] = (uint8_t)(ssid >> 8);
	buf[STAMP_OFF_A_SSID + 1] = (uint8_t)ssid;
}

/* Sequence number and SSID of a sender packet whose length and HMAC were
 * checked (the reflector's authenticated path reads nothing else). */
static inline void
stamp_read_sender_auth(const uint8_t *buf, uint32_t *seq, uint16_t *ssid)
{
	*seq = (uint32_t)buf[STAMP_OFF_SEQ] << 24 |
		(uint32_t)buf[STAMP_OFF_SEQ + 1] << 16 |
		(uint32_t)buf[STAMP_OFF_SEQ + 2] << 8 | buf[STAMP_OFF_SEQ + 3];
	*ssid = (uint16_t)(buf[STAMP_OFF_A_SSID] << 8 |
			   buf[STAMP_OFF_A_SSID + 1]);
}

#endif
