/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth.h"

static int
auth_sha256(const void *data, size_t len, unsigned char out[AUTH_SHA256_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 ||
	    n != AUTH_SHA256_LEN)
		return -EIO;
	return 0;
}

int
auth_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char d[AUTH_SHA256_LEN];
	int i;

	if (auth_sha256(data, len, d) < 0)
		return -EIO;
	for (i = 0; i < AUTH_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return 0;
}

static int
hex_nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
parse_sha256_hex(const char *s, unsigned char out[AUTH_SHA256_LEN])
{
	int i;

	if (strlen(s) != 2 * AUTH_SHA256_LEN)
		return -EINVAL;
	for (i = 0; i < AUTH_SHA256_LEN; i++) {
		int hi = hex_nibble((unsigned char)s[2 * i]);
		int lo = hex_nibble((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

const char *
auth_role_name(enum auth_role r)
{
	switch (r) {
	case AUTH_ROLE_PROBE:
		return "probe";
	case AUTH_ROLE_READER:
		return "reader";
	case AUTH_ROLE_ADMIN:
		return "admin";
	}
	return "?";
}

struct auth_load_ctx {
	struct auth_table *t;
	char *err;
	size_t errlen;
};

static int
auth_load_section(const struct mp_config *c, const char *section,
		  const char *name, void *arg)
{
	static const char *const known[] = { "sha256", "role", "probe", NULL };
	struct auth_load_ctx *ctx = arg;
	struct auth_token *tok, *grown;
	const char *hash, *role, *probe;
	const char *path = mp_config_path(c);
	int rc;

	rc = mp_config_check_keys(c, section, known, ctx->err, ctx->errlen);
	if (rc < 0)
		return rc;
	if (name[0] == '\0' || strlen(name) >= AUTH_NAME_MAX) {
		snprintf(ctx->err, ctx->errlen, "%s: [%s]: a token section is "
			 "named [token.NAME] (NAME of 1 to %d characters)",
			 path, section, AUTH_NAME_MAX - 1);
		return -EINVAL;
	}
	grown = realloc(ctx->t->tokens, (ctx->t->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		snprintf(ctx->err, ctx->errlen, "out of memory");
		return -ENOMEM;
	}
	ctx->t->tokens = grown;
	tok = &grown[ctx->t->n];
	memset(tok, 0, sizeof(*tok));
	snprintf(tok->name, sizeof(tok->name), "%s", name);

	hash = mp_config_get(c, section, "sha256");
	if (hash == NULL) {
		snprintf(ctx->err, ctx->errlen, "%s: [%s] sha256: missing "
			 "(the SHA-256 of the token, from "
			 "'metroprobe-collector hash-token')", path, section);
		return -EINVAL;
	}
	if (parse_sha256_hex(hash, tok->sha256) < 0) {
		snprintf(ctx->err, ctx->errlen, "%s:%u: [%s] sha256: '%s' is "
			 "not 64 hex digits", path,
			 mp_config_line(c, section, "sha256"), section, hash);
		return -EINVAL;
	}
	role = mp_config_get(c, section, "role");
	if (role == NULL) {
		snprintf(ctx->err, ctx->errlen, "%s: [%s] role: missing "
			 "(probe, reader or admin)", path, section);
		return -EINVAL;
	}
	if (strcmp(role, "probe") == 0)
		tok->role = AUTH_ROLE_PROBE;
	else if (strcmp(role, "reader") == 0)
		tok->role = AUTH_ROLE_READER;
	else if (strcmp(role, "admin") == 0)
		tok->role = AUTH_ROLE_ADMIN;
	else {
		snprintf(ctx->err, ctx->errlen, "%s:%u: [%s] role: '%s' is not "
			 "probe, reader or admin", path,
			 mp_config_line(c, section, "role"), section, role);
		return -EINVAL;
	}
	probe = mp_config_get(c, section, "probe");
	if (tok->role == AUTH_ROLE_PROBE) {
		if (probe == NULL || probe[0] == '\0' ||
		    strlen(probe) >= RECORD_NAME_MAX) {
			snprintf(ctx->err, ctx->errlen, "%s: [%s] probe: a "
				 "token with role probe names its probe "
				 "(1 to %d characters)", path, section,
				 RECORD_NAME_MAX - 1);
			return -EINVAL;
		}
		snprintf(tok->probe, sizeof(tok->probe), "%s", probe);
	} else if (probe != NULL) {
		snprintf(ctx->err, ctx->errlen, "%s:%u: [%s] probe: only a "
			 "token with role probe is bound to a probe", path,
			 mp_config_line(c, section, "probe"), section);
		return -EINVAL;
	}
	ctx->t->n++;
	return 0;
}

int
auth_load(const struct mp_config *cfg, struct auth_table *t, char *err,
	  size_t errlen)
{
	struct auth_load_ctx ctx = { t, err, errlen };
	size_t i, j;
	int rc;

	t->tokens = NULL;
	t->n = 0;
	rc = mp_config_sections(cfg, "token", auth_load_section, &ctx);
	if (rc < 0) {
		auth_free(t);
		return rc;
	}
	for (i = 0; i < t->n; i++)
		for (j = i + 1; j < t->n; j++)
			if (memcmp(t->tokens[i].sha256, t->tokens[j].sha256,
				   AUTH_SHA256_LEN) == 0) {
				snprintf(err, errlen, "%s: [token.%s] and "
					 "[token.%s] have the same sha256",
					 mp_config_path(cfg),
					 t->tokens[i].name, t->tokens[j].name);
				auth_free(t);
				return -EINVAL;
			}
	return 0;
}

void
auth_free(struct auth_table *t)
{
	free(t->tokens);
	t->tokens = NULL;
	t->n = 0;
}

const struct auth_token *
auth_lookup(const struct auth_table *t, const char *secret, size_t len)
{
	unsigned char d[AUTH_SHA256_LEN];
	const struct auth_token *found = NULL;
	size_t i;

	if (secret == NULL || len == 0 || auth_sha256(secret, len, d) < 0)
		return NULL;
	/* Every hash is compared, in constant time, whatever matched. */
	for (i = 0; i < t->n; i++)
		if (CRYPTO_memcmp(d, t->tokens[i].sha256, AUTH_SHA256_LEN) == 0)
			found = &t->tokens[i];
	return found;
}

const char *
auth_bearer(const char *header, size_t *len)
{
	const char *p;
	size_t n;

	if (header == NULL || strncasecmp(header, "Bearer", 6) != 0 ||
	    (header[6] != ' ' && header[6] != '\t'))
		return NULL;
	p = header + 6;
	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return NULL;
	*len = n;
	return p;
}

bool
auth_may_write(const struct auth_token *tok, const char *probe)
{
	if (tok == NULL)
		return false;
	if (tok->role == AUTH_ROLE_ADMIN)
		return true;
	return tok->role == AUTH_ROLE_PROBE && strcmp(tok->probe, probe) == 0;
}

bool
auth_may_read(const struct auth_token *tok)
{
	return tok != NULL && (tok->role == AUTH_ROLE_READER ||
			       tok->role == AUTH_ROLE_ADMIN);
}
