/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * STAMP test packets: RFC 8762 sections 4.2 (Session-Sender) and 4.3
 * (Session-Reflector), unauthenticated and authenticated layouts, with
 * the SSID of RFC 8972 section 3 in the octets RFC 8762 left as MBZ.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "metroprobe/stamp.h"

/* Error estimate bits, RFC 4656 section 4.1.2. */
#define ERREST_S      0x8000u
#define ERREST_Z      0x4000u
#define ERREST_SCALE_SHIFT 8
#define ERREST_SCALE_MASK  0x3fu
#define ERREST_MULT_MASK   0xffu

/* Unaligned big-endian access; memcpy compiles to one load or store. */
static inline void
put_be16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void
put_be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void
put_be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint16_t
get_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static inline uint32_t
get_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

const char *
stamp_strerror(int err)
{
	switch (err) {
	case STAMP_OK:
		return "ok";
	case STAMP_ETRUNC:
		return "packet shorter than the STAMP base packet";
	case STAMP_EMBZ:
		return "must-be-zero field is not zero";
	case STAMP_EHMAC:
		return "HMAC does not match";
	case STAMP_EERREST:
		return "error estimate multiplier is zero";
	case STAMP_ESPACE:
		return "output buffer too small";
	case STAMP_EKEY:
		return "authenticated mode needs an HMAC key";
	default:
		return "unknown STAMP error";
	}
}

uint16_t
stamp_errest_pack(const struct stamp_error_estimate *e)
{
	return (uint16_t)((e->synced ? ERREST_S : 0) |
			  (e->ptp_format ? ERREST_Z : 0) |
			  ((e->scale & ERREST_SCALE_MASK) <<
			   ERREST_SCALE_SHIFT) |
			  e->multiplier);
}

void
stamp_errest_unpack(uint16_t raw, struct stamp_error_estimate *e)
{
	e->synced = (raw & ERREST_S) != 0;
	e->ptp_format = (raw & ERREST_Z) != 0;
	e->scale = (raw >> ERREST_SCALE_SHIFT) & ERREST_SCALE_MASK;
	e->multiplier = raw & ERREST_MULT_MASK;
}

/*
 * Error = multiplier * 2^(scale - 32) s (RFC 4656 section 4.1.2). In
 * units of 2^-32 s the target is u = ceil(err_ns * 2^32 / 10^9); the
 * smallest scale with ceil(u / 2^scale) <= 255 gives the smallest
 * representable error >= err_ns, since ceil(u / 2^s) * 2^s grows with s.
 */
void
stamp_errest_from_ns(uint64_t err_ns, bool synced, bool ptp_format,
		     struct stamp_error_estimate *e)
{
	unsigned __int128 u = (((unsigned __int128)err_ns << 32) +
			       1000000000u - 1) / 1000000000u;
	unsigned scale = 0;
	unsigned __int128 mult = u;

	while (mult > ERREST_MULT_MASK && scale < ERREST_SCALE_MASK) {
		scale++;
		mult = (u + ((unsigned __int128)1 << scale) - 1) >> scale;
	}
	if (mult == 0)
		mult = 1;       /* RFC 4656: multiplier MUST NOT be zero */
	e->synced = synced;
	e->ptp_format = ptp_format;
	e->scale = (uint8_t)scale;
	e->multiplier = (uint8_t)mult;
}

/* Rounded up to the next ns, saturating at UINT64_MAX. */
uint64_t
stamp_errest_to_ns(const struct stamp_error_estimate *e)
{
	unsigned __int128 units = (unsigned __int128)e->multiplier <<
				  (e->scale & ERREST_SCALE_MASK);
	unsigned __int128 ns = (units * 1000000000u + 0xffffffffu) >> 32;

	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

static bool
key_usable(const struct stamp_key *key)
{
	return key != NULL && key->len > 0 && key->len <= STAMP_MAX_KEY_LEN;
}

/* RFC 8762 section 4.4: HMAC-SHA-256 over the first 96 octets, truncated
 * to 16 octets. */
static int
hmac_compute(const uint8_t *buf, const struct stamp_key *key,
	     uint8_t out[STAMP_HMAC_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (HMAC(EVP_sha256(), key->key, (int)key->len, buf,
		 STAMP_HMAC_COVERED, md, &md_len) == NULL ||
	    md_len < STAMP_HMAC_LEN)
		return STAMP_EKEY;
	memcpy(out, md, STAMP_HMAC_LEN);
	return STAMP_OK;
}

int
stamp_auth_sign(uint8_t *buf, size_t len, const struct stamp_key *key)
{
	if (!key_usable(key))
		return STAMP_EKEY;
	if (buf == NULL || len < STAMP_AUTH_LEN)
		return STAMP_ESPACE;
	return hmac_compute(buf, key, buf + STAMP_OFF_A_HMAC);
}

int
stamp_auth_verify(const uint8_t *buf, size_t len, const struct stamp_key *key)
{
	uint8_t want[STAMP_HMAC_LEN];
	int rc;

	if (buf == NULL || len < STAMP_AUTH_LEN)
		return STAMP_ETRUNC;
	if (!key_usable(key))
		return STAMP_EKEY;
	rc = hmac_compute(buf, key, want);
	if (rc != STAMP_OK)
		return rc;
	/* constant time: the comparison must not leak how much matched */
	if (CRYPTO_memcmp(want, buf + STAMP_OFF_A_HMAC, STAMP_HMAC_LEN) != 0)
		return STAMP_EHMAC;
	return STAMP_OK;
}

/*
 * Keyed HMAC state: EVP_MAC_init() with a NULL key restarts HMAC with
 * the key already set, which skips the digest fetch and key schedule
 * that the one-shot HMAC() repeats for every packet.
 */
struct stamp_hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

void
stamp_hmac_free(struct stamp_hmac *h)
{
	if (h == NULL)
		return;
	EVP_MAC_CTX_free(h->ctx);
	EVP_MAC_free(h->mac);
	free(h);
}

struct stamp_hmac *
stamp_hmac_new(const struct stamp_key *key)
{
	struct stamp_hmac *h;
	OSSL_PARAM params[2];

	if (!key_usable(key))
		return NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (h->mac == NULL)
		goto fail;
	h->ctx = EVP_MAC_CTX_new(h->mac);
	if (h->ctx == NULL ||
	    !EVP_MAC_init(h->ctx, key->key, key->len, params))
		goto fail;
	return h;
fail:
	stamp_hmac_free(h);
	return NULL;
}

static int
hmac_ctx_compute(struct stamp_hmac *h, const uint8_t *buf,
		 uint8_t out[STAMP_HMAC_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	size_t md_len = 0;

	if (!EVP_MAC_init(h->ctx, NULL, 0, NULL) ||
	    !EVP_MAC_update(h->ctx, buf, STAMP_HMAC_COVERED) ||
	    !EVP_MAC_final(h->ctx, md, &md_len, sizeof(md)) ||
	    md_len < STAMP_HMAC_LEN)
		return STAMP_EKEY;
	memcpy(out, md, STAMP_HMAC_LEN);
	return STAMP_OK;
}

int
stamp_hmac_sign(struct stamp_hmac *h, uint8_t *buf, size_t len)
{
	if (h == NULL)
		return STAMP_EKEY;
	if (buf == NULL || len < STAMP_AUTH_LEN)
		return STAMP_ESPACE;
	return hmac_ctx_compute(h, buf, buf + STAMP_OFF_A_HMAC);
}

int
stamp_hmac_verify(struct stamp_hmac *h, const uint8_t *buf, size_t len)
{
	uint8_t want[STAMP_HMAC_LEN];
	int rc;

	if (buf == NULL || len < STAMP_AUTH_LEN)
		return STAMP_ETRUNC;
	if (h == NULL)
		return STAMP_EKEY;
	rc = hmac_ctx_compute(h, buf, want);
	if (rc != STAMP_OK)
		return rc;
	if (CRYPTO_memcmp(want, buf + STAMP_OFF_A_HMAC, STAMP_HMAC_LEN) != 0)
		return STAMP_EHMAC;
	return STAMP_OK;
}

int
stamp_encode_sender(uint8_t *buf, size_t len, enum stamp_mode mode,
		    const struct stamp_sender_pkt *p,
		    const struct stamp_key *key)
{
	if (mode == STAMP_MODE_AUTH) {
		if (!key_usable(key))
			return STAMP_EKEY;
		if (buf == NULL || len < STAMP_AUTH_LEN)
			return STAMP_ESPACE;
		memset(buf, 0, STAMP_AUTH_LEN);
		put_be32(buf + STAMP_OFF_SEQ, p->seq);
		put_be64(buf + STAMP_OFF_A_TS, p->timestamp);
		put_be16(buf + STAMP_OFF_A_ERR, p->error_estimate);
		put_be16(buf + STAMP_OFF_A_SSID, p->ssid);
		if (hmac_compute(buf, key, buf + STAMP_OFF_A_HMAC) != STAMP_OK)
			return STAMP_EKEY;
		return STAMP_AUTH_LEN;
	}
	if (buf == NULL || len < STAMP_UNAUTH_LEN)
		return STAMP_ESPACE;
	memset(buf, 0, STAMP_UNAUTH_LEN);
	put_be32(buf + STAMP_OFF_SEQ, p->seq);
	put_be64(buf + STAMP_OFF_U_TS, p->timestamp);
	put_be16(buf + STAMP_OFF_U_ERR, p->error_estimate);
	put_be16(buf + STAMP_OFF_U_SSID, p->ssid);
	return STAMP_UNAUTH_LEN;
}

int
stamp_encode_reflector(uint8_t *buf, size_t len, enum stamp_mode mode,
		       const struct stamp_reflector_pkt *p,
		       const struct stamp_key *key)
{
	if (mode == STAMP_MODE_AUTH) {
		if (!key_usable(key))
			return STAMP_EKEY;
		if (buf == NULL || len < STAMP_AUTH_LEN)
			return STAMP_ESPACE;
		memset(buf, 0, STAMP_AUTH_LEN);
		put_be32(buf + STAMP_OFF_SEQ, p->seq);
		put_be64(buf + STAMP_OFF_A_TS, p->timestamp);
		put_be16(buf + STAMP_OFF_A_ERR, p->error_estimate);
		put_be16(buf + STAMP_OFF_A_SSID, p->ssid);
		put_be64(buf + STAMP_OFF_A_R_RX_TS, p->rx_timestamp);
		put_be32(buf + STAMP_OFF_A_R_S_SEQ, p->sender_seq);
		put_be64(buf + STAMP_OFF_A_R_S_TS, p->sender_timestamp);
		put_be16(buf + STAMP_OFF_A_R_S_ERR, p->sender_error_estimate);
		buf[STAMP_OFF_A_R_S_TTL] = p->sender_ttl;
		if (hmac_compute(buf, key, buf + STAMP_OFF_A_HMAC) != STAMP_OK)
			return STAMP_EKEY;
		return STAMP_AUTH_LEN;
	}
	if (buf == NULL || len < STAMP_UNAUTH_LEN)
		return STAMP_ESPACE;
	memset(buf, 0, STAMP_UNAUTH_LEN);
	put_be32(buf + STAMP_OFF_SEQ, p->seq);
	put_be64(buf + STAMP_OFF_U_TS, p->timestamp);
	put_be16(buf + STAMP_OFF_U_ERR, p->error_estimate);
	put_be16(buf + STAMP_OFF_U_SSID, p->ssid);
	put_be64(buf + STAMP_OFF_U_R_RX_TS, p->rx_timestamp);
	put_be32(buf + STAMP_OFF_U_R_S_SEQ, p->sender_seq);
	put_be64(buf + STAMP_OFF_U_R_S_TS, p->sender_timestamp);
	put_be16(buf + STAMP_OFF_U_R_S_ERR, p->sender_error_estimate);
	buf[STAMP_OFF_U_R_S_TTL] = p->sender_ttl;
	return STAMP_UNAUTH_LEN;
}

/*
 * Checks shared by both decoders, in order: length, key and HMAC
 * (authenticated), then the caller checks MBZ and the error estimate.
 */
static int
decode_prologue(const uint8_t *buf, size_t len, enum stamp_mode mode,
		const struct stamp_key *key)
{
	if (mode == STAMP_MODE_AUTH) {
		if (buf == NULL || len < STAMP_AUTH_LEN)
			return STAMP_ETRUNC;
		return stamp_auth_verify(buf, len, key);
	}
	if (buf == NULL || len < STAMP_UNAUTH_LEN)
		return STAMP_ETRUNC;
	return STAMP_OK;
}

/*
 * RFC 4656 section 4.1.2: the multiplier MUST NOT be zero. Only strict
 * decoding rejects it: TWAMP-Light senders in the field send all-zero
 * error estimates, and a reflector that dropped them would not
 * interoperate (RFC 8762 section 4.6); the lenient reader keeps the
 * packet and the caller may treat the estimate as unknown.
 */
static int
check_errest(uint16_t raw, bool strict)
{
	if (strict && (raw & ERREST_MULT_MASK) == 0)
		return STAMP_EERREST;
	return STAMP_OK;
}

int
stamp_decode_sender(const uint8_t *buf, size_t len, enum stamp_mode mode,
		    bool strict_mbz, const struct stamp_key *key,
		    struct stamp_sender_pkt *out)
{
	int rc = decode_prologue(buf, len, mode, key);

	if (rc != STAMP_OK)
		return rc;
	if (mode == STAMP_MODE_AUTH) {
		if (strict_mbz && (!all_zero(buf + STAMP_OFF_A_MBZ0, 12) ||
				   !all_zero(buf + STAMP_OFF_A_S_MBZ, 68)))
			return STAMP_EMBZ;
		rc = check_errest(get_be16(buf + STAMP_OFF_A_ERR), strict_mbz);
		if (rc != STAMP_OK)
			return rc;
		out->seq = get_be32(buf + STAMP_OFF_SEQ);
		out->timestamp = get_be64(buf + STAMP_OFF_A_TS);
		out->error_estimate = get_be16(buf + STAMP_OFF_A_ERR);
		out->ssid = get_be16(buf + STAMP_OFF_A_SSID);
		return STAMP_OK;
	}
	if (strict_mbz && !all_zero(buf + STAMP_OFF_U_S_MBZ, 28))
		return STAMP_EMBZ;
	rc = check_errest(get_be16(buf + STAMP_OFF_U_ERR), strict_mbz);
	if (rc != STAMP_OK)
		return rc;
	out->seq = get_be32(buf + STAMP_OFF_SEQ);
	out->timestamp = get_be64(buf + STAMP_OFF_U_TS);
	out->error_estimate = get_be16(buf + STAMP_OFF_U_ERR);
	out->ssid = get_be16(buf + STAMP_OFF_U_SSID);
	return STAMP_OK;
}

int
stamp_decode_reflector(const uint8_t *buf, size_t len, enum stamp_mode mode,
		       bool strict_mbz, const struct stamp_key *key,
		       struct stamp_reflector_pkt *out)
{
	int rc = decode_prologue(buf, len, mode, key);

	if (rc != STAMP_OK)
		return rc;
	if (mode == STAMP_MODE_AUTH) {
		if (strict_mbz && (!all_zero(buf + STAMP_OFF_A_MBZ0, 12) ||
				   !all_zero(buf + STAMP_OFF_A_R_MBZ1, 4) ||
				   !all_zero(buf + STAMP_OFF_A_R_MBZ2, 8) ||
				   !all_zero(buf + STAMP_OFF_A_R_MBZ3, 12) ||
				   !all_zero(buf + STAMP_OFF_A_R_MBZ4, 6) ||
				   !all_zero(buf + STAMP_OFF_A_R_MBZ5, 15)))
			return STAMP_EMBZ;
		rc = check_errest(get_be16(buf + STAMP_OFF_A_ERR), strict_mbz);
		if (rc != STAMP_OK)
			return rc;
		out->seq = get_be32(buf + STAMP_OFF_SEQ);
		out->timestamp = get_be64(buf + STAMP_OFF_A_TS);
		out->error_estimate = get_be16(buf + STAMP_OFF_A_ERR);
		out->ssid = get_be16(buf + STAMP_OFF_A_SSID);
		out->rx_timestamp = get_be64(buf + STAMP_OFF_A_R_RX_TS);
		out->sender_seq = get_be32(buf + STAMP_OFF_A_R_S_SEQ);
		out->sender_timestamp = get_be64(buf + STAMP_OFF_A_R_S_TS);
		out->sender_error_estimate = get_be16(buf + STAMP_OFF_A_R_S_ERR);
		out->sender_ttl = buf[STAMP_OFF_A_R_S_TTL];
		return STAMP_OK;
	}
	if (strict_mbz && (!all_zero(buf + STAMP_OFF_U_R_MBZ1, 2) ||
			   !all_zero(buf + STAMP_OFF_U_R_MBZ2, 3)))
		return STAMP_EMBZ;
	rc = check_errest(get_be16(buf + STAMP_OFF_U_ERR), strict_mbz);
	if (rc != STAMP_OK)
		return rc;
	out->seq = get_be32(buf + STAMP_OFF_SEQ);
	out->timestamp = get_be64(buf + STAMP_OFF_U_TS);
	out->error_estimate = get_be16(buf + STAMP_OFF_U_ERR);
	out->ssid = get_be16(buf + STAMP_OFF_U_SSID);
	out->rx_timestamp = get_be64(buf + STAMP_OFF_U_R_RX_TS);
	out->sender_seq = get_be32(buf + STAMP_OFF_U_R_S_SEQ);
	out->sender_timestamp = get_be64(buf + STAMP_OFF_U_R_S_TS);
	out->sender_error_estimate = get_be16(buf + STAMP_OFF_U_R_S_ERR);
	out->sender_ttl = buf[STAMP_OFF_U_R_S_TTL];
	return STAMP_OK;
}

/*
 * RFC 8762 section 4.3.1: the reflector copies the sender's sequence
 * number, timestamp and error estimate, keeps the SSID (RFC 8972
 * section 3), and adds its own sequence number, error estimate, the
 * receive timestamp and the received TTL. All sender fields are read
 * before any is overwritten: they overlap the reflector layout. T3 is
 * set to T2 until stamp_set_tx_timestamp() patches it, so a packet
 * sent without the patch shows zero residence time, not garbage.
 */
void
stamp_reflect_in_place(uint8_t *buf, uint32_t refl_seq, uint64_t t2_wire,
		       uint16_t errest, uint8_t sender_ttl)
{
	uint32_t s_seq = get_be32(buf + STAMP_OFF_SEQ);
	uint64_t s_ts = get_be64(buf + STAMP_OFF_U_TS);
	uint16_t s_err = get_be16(buf + STAMP_OFF_U_ERR);

	put_be32(buf + STAMP_OFF_SEQ, refl_seq);
	put_be64(buf + STAMP_OFF_U_TS, t2_wire);
	put_be16(buf + STAMP_OFF_U_ERR, errest);
	put_be64(buf + STAMP_OFF_U_R_RX_TS, t2_wire);
	put_be32(buf + STAMP_OFF_U_R_S_SEQ, s_seq);
	put_be64(buf + STAMP_OFF_U_R_S_TS, s_ts);
	put_be16(buf + STAMP_OFF_U_R_S_ERR, s_err);
	memset(buf + STAMP_OFF_U_R_MBZ1, 0, 2);
	buf[STAMP_OFF_U_R_S_TTL] = sender_ttl;
	memset(buf + STAMP_OFF_U_R_MBZ2, 0, 3);
}

/*
 * Authenticated layout of the same (RFC 8762 section 4.3.2). The
 * caller verified the sender's HMAC first (stamp_auth_verify) and signs
 * after patching T3 (stamp_set_tx_timestamp, then stamp_auth_sign).
 */
void
stamp_reflect_in_place_auth(uint8_t *buf, uint32_t refl_seq,
			    uint64_t t2_wire, uint16_t errest,
			    uint8_t sender_ttl)
{
	uint32_t s_seq = get_be32(buf + STAMP_OFF_SEQ);
	uint64_t s_ts = get_be64(buf + STAMP_OFF_A_TS);
	uint16_t s_err = get_be16(buf + STAMP_OFF_A_ERR);

	put_be32(buf + STAMP_OFF_SEQ, refl_seq);
	memset(buf + STAMP_OFF_A_MBZ0, 0, 12);
	put_be64(buf + STAMP_OFF_A_TS, t2_wire);
	put_be16(buf + STAMP_OFF_A_ERR, errest);
	memset(buf + STAMP_OFF_A_R_MBZ1, 0, 4);
	put_be64(buf + STAMP_OFF_A_R_RX_TS, t2_wire);
	memset(buf + STAMP_OFF_A_R_MBZ2, 0, 8);
	put_be32(buf + STAMP_OFF_A_R_S_SEQ, s_seq);
	memset(buf + STAMP_OFF_A_R_MBZ3, 0, 12);
	put_be64(buf + STAMP_OFF_A_R_S_TS, s_ts);
	put_be16(buf + STAMP_OFF_A_R_S_ERR, s_err);
	memset(buf + STAMP_OFF_A_R_MBZ4, 0, 6);
	buf[STAMP_OFF_A_R_S_TTL] = sender_ttl;
	memset(buf + STAMP_OFF_A_R_MBZ5, 0, 15);
}

void
stamp_set_tx_timestamp(uint8_t *buf, enum stamp_mode mode, uint64_t t_wire)
{
	put_be64(buf + (mode == STAMP_MODE_AUTH ? STAMP_OFF_A_TS : STAMP_OFF_U_TS), t_wire);
}
