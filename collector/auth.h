/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bearer tokens of the collector. The config holds only SHA-256 hashes
 * ([token.NAME] sha256 = hex); a presented token is hashed and compared
 * in constant time against every configured hash.
 */
#ifndef METROPROBE_COLLECTOR_AUTH_H
#define METROPROBE_COLLECTOR_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "metroprobe/config.h"
#include "metroprobe/record.h"

#define AUTH_SHA256_LEN 32
#define AUTH_NAME_MAX   64

enum auth_role {
	AUTH_ROLE_PROBE = 0,    /* writes records of its own probe only */
	AUTH_ROLE_READER,       /* reports and queries */
	AUTH_ROLE_ADMIN,        /* everything */
};

struct auth_token {
	char name[AUTH_NAME_MAX];                /* the NAME of [token.NAME] */
	unsigned char sha256[AUTH_SHA256_LEN];
	enum auth_role role;
	char probe[RECORD_NAME_MAX];             /* role probe: its probe */
};

struct auth_table {
	struct auth_token *tokens;
	size_t n;
};

/* Reads every [token.NAME] section. Returns 0 or -EINVAL with a message
 * naming file, line and key. */
int auth_load(const struct mp_config *cfg, struct auth_table *t, char *err,
	      size_t errlen);
void auth_free(struct auth_table *t);

/* The token for a presented secret, or NULL. */
const struct auth_token *auth_lookup(const struct auth_table *t,
				     const char *secret, size_t len);

/* Token from an "Authorization: Bearer X" header value; NULL when the
 * header is absent or not a Bearer credential. */
const char *auth_bearer(const char *header, size_t *len);

bool auth_may_write(const struct auth_token *tok, const char *probe);
bool auth_may_read(const struct auth_token *tok);

/* SHA-256 of data as 64 lower-case hex digits and a NUL. */
int auth_sha256_hex(const void *data, size_t len, char out[65]);

const char *auth_role_name(enum auth_role r);

#endif
