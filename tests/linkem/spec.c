/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsing linkem's per-direction impairment specs:
 *   "delay=2ms,jitter=uniform:100us,loss=0.01,seed=1" */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impair.h"

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void
lk_spec_init(struct lk_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->fifo = true;
	s->ge_loss_bad = 1.0;
	s->burst_bytes = LK_DEFAULT_BURST;
	s->seed = LK_DEFAULT_SEED;
}

void
lk_spec_free(struct lk_spec *s)
{
	free(s->replay_ns);
	s->replay_ns = NULL;
	s->replay_len = 0;
}

/* A finite decimal number, whole string consumed up to `end`. */
static int
parse_number(const char *s, double *out, const char **end)
{
	char *e;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtod(s, &e);
	if (e == s || errno != 0 || !isfinite(*out))
		return -EINVAL;
	*end = e;
	return 0;
}

int
lk_parse_signed_duration(const char *s, bool bare_ns, int64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
	};
	const char *end;
	double v, mult = 0;
	size_t i;

	if (parse_number(s, &v, &end) < 0)
		return -EINVAL;
	if (*end == '\0' && bare_ns)
		mult = 1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0)
			mult = units[i].ns;
	if (mult == 0)
		return -EINVAL;
	v *= mult;
	if (fabs(v) > 1e12) /* 1000 s is more than any link holds */
		return -ERANGE;
	*ns = (int64_t)llround(v);
	return 0;
}

int
lk_parse_duration(const char *s, uint64_t *ns)
{
	int64_t v;
	int rc = lk_parse_signed_duration(s, false, &v);

	if (rc < 0)
		return rc;
	if (v < 0)
		return -EINVAL;
	*ns = (uint64_t)v;
	return 0;
}

static int
parse_prob(const char *key, const char *val, double *out, char *err,
	   size_t errlen)
{
	const char *end;

	if (parse_number(val, out, &end) < 0 || *end != '\0' ||
	    *out < 0.0 || *out > 1.0)
		return fail(err, errlen,
			    "%s: '%s' is not a probability in [0, 1]",
			    key, val);
	return 0;
}

static int
parse_dur(const char *key, const char *val, uint64_t *out, char *err,
	  size_t errlen)
{
	if (lk_parse_duration(val, out) < 0)
		return fail(err, errlen,
			    "%s: '%s' is not a duration (e.g. 2ms, 100us, 1.5s)",
			    key, val);
	return 0;
}

/* Bits per second: "10mbit", "1.5gbit", "64kbit", "1000000bit" or bare. */
static int
parse_rate(const char *val, uint64_t *bps)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {
		{ "", 1 }, { "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 },
		{ "gbit", 1e9 },
	};
	const char *end;
	double v;
	size_t i;

	if (parse_number(val, &v, &end) < 0 || v <= 0)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].unit) == 0) {
			v *= units[i].mult;
			if (v < 1 || v > 1e13)
				return -ERANGE;
			*bps = (uint64_t)llround(v);
			return 0;
		}
	}
	return -EINVAL;
}

/* Bytes: bare integer, or with B, kB (1000), KiB (1024), MB, MiB. */
static int
parse_bytes(const char *val, uint64_t *out)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {
		{ "", 1 }, { "B", 1 }, { "kB", 1e3 }, { "KiB", 1024 },
		{ "MB", 1e6 }, { "MiB", 1048576 },
	};
	const char *end;
	double v;
	size_t i;

	if (parse_number(val, &v, &end) < 0 || v < 0)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			v *= units[i].mult;
			if (v > (double)(1ULL << 30) || v != floor(v))
				return -ERANGE;
			*out = (uint64_t)v;
			return 0;
		}
	}
	return -EINVAL;
}

static int
parse_u64(const char *val, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*val))
		return -EINVAL;
	errno = 0;
	v = strtoull(val, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "a:b[:c[:d]]" into up to n probabilities; returns how many. */
static int
split_colon(char *val, char **parts, int n)
{
	int k = 0;
	char *save = NULL, *p;

	for (p = strtok_r(val, ":", &save); p != NULL;
	     p = strtok_r(NULL, ":", &save)) {
		if (k == n)
			return -1;
		parts[k++] = p;
	}
	return k;
}

int
lk_replay_load(const char *path, int64_t **out, size_t *len, char *err,
	       size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned lineno = 0;
	int64_t *v = NULL, *nv;
	size_t n = 0, cap = 0;
	int rc;

	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "jitter: replay file %s: %s", path,
			 strerror(-rc));
		return rc;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = line, *e;
		int64_t ns;

		lineno++;
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*s == '\0' || *s == '#')
			continue;
		if (lk_parse_signed_duration(s, true, &ns) < 0) {
			fclose(f);
			free(v);
			return fail(err, errlen,
				    "%s:%u: '%s' is not a delay (ns, or with unit ns/us/ms/s)",
				    path, lineno, s);
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				fclose(f);
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = ns;
	}
	fclose(f);
	if (n == 0) {
		free(v);
		return fail(err, errlen, "%s: no delays in the replay file",
			    path);
	}
	*out = v;
	*len = n;
	return 0;
}

static int
parse_jitter(struct lk_spec *s, char *val, char *err, size_t errlen)
{
	char *colon = strchr(val, ':');
	const char *arg;

	if (strcmp(val, "none") == 0) {
		s->jitter = LK_JITTER_NONE;
		return 0;
	}
	if (colon == NULL)
		return fail(err, errlen,
			    "jitter: '%s': expected uniform:DUR, normal:DUR or replay:FILE",
			    val);
	*colon = '\0';
	arg = colon + 1;
	if (strcmp(val, "uniform") == 0 || strcmp(val, "normal") == 0) {
		s->jitter = val[0] == 'u' ? LK_JITTER_UNIFORM :
					    LK_JITTER_NORMAL;
		return parse_dur("jitter", arg, &s->jitter_ns, err, errlen);
	}
	if (strcmp(val, "replay") == 0) {
		if (*arg == '\0' || strlen(arg) >= sizeof(s->replay_path))
			return fail(err, errlen,
				    "jitter: replay needs a file name");
		strcpy(s->replay_path, arg);
		s->jitter = LK_JITTER_REPLAY;
		lk_spec_free(s);
		return lk_replay_load(arg, &s->replay_ns, &s->replay_len,
				      err, errlen);
	}
	return fail(err, errlen,
		    "jitter: unknown distribution '%s' (uniform, normal, replay)",
		    val);
}

static int
parse_ge(struct lk_spec *s, char *val, char *err, size_t errlen)
{
	char copy[128];
	char *parts[4];
	double *dst[4] = { &s->ge_p, &s->ge_r, &s->ge_loss_good,
			   &s->ge_loss_bad };
	static const char *const names[4] = { "ge p", "ge r",
					      "ge loss_good", "ge loss_bad" };
	int n, i, rc;

	snprintf(copy, sizeof(copy), "%s", val);
	n = split_colon(val, parts, 4);
	if (n < 2)
		return fail(err, errlen,
			    "ge: '%s': expected p:r[:loss_good[:loss_bad]]",
			    copy);
	s->ge_loss_good = 0.0;
	s->ge_loss_bad = 1.0;
	for (i = 0; i < n; i++) {
		rc = parse_prob(names[i], parts[i], dst[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	s->ge = s->ge_p > 0.0;
	return 0;
}

static int
parse_reorder(struct lk_spec *s, char *val, char *err, size_t errlen)
{
	char *colon = strchr(val, ':');
	int rc;

	if (colon == NULL)
		return fail(err, errlen,
			    "reorder: '%s': expected SHARE:DUR (e.g. 0.05:1ms)",
			    val);
	*colon = '\0';
	rc = parse_prob("reorder share", val, &s->hold_share, err, errlen);
	if (rc < 0)
		return rc;
	return parse_dur("reorder", colon + 1, &s->hold_ns, err, errlen);
}

static int
parse_pair(struct lk_spec *s, const char *key, char *val, char *err,
	   size_t errlen)
{
	uint64_t u;

	if (strcmp(key, "delay") == 0)
		return parse_dur(key, val, &s->delay_ns, err, errlen);
	if (strcmp(key, "jitter") == 0)
		return parse_jitter(s, val, err, errlen);
	if (strcmp(key, "order") == 0) {
		if (strcmp(val, "fifo") == 0)
			s->fifo = true;
		else if (strcmp(val, "free") == 0)
			s->fifo = false;
		else
			return fail(err, errlen,
				    "order: '%s': expected fifo or free", val);
		return 0;
	}
	if (strcmp(key, "loss") == 0)
		return parse_prob(key, val, &s->loss, err, errlen);
	if (strcmp(key, "ge") == 0)
		return parse_ge(s, val, err, errlen);
	if (strcmp(key, "dup") == 0)
		return parse_prob(key, val, &s->dup, err, errlen);
	if (strcmp(key, "reorder") == 0)
		return parse_reorder(s, val, err, errlen);
	if (strcmp(key, "rate") == 0) {
		if (parse_rate(val, &s->rate_bps) < 0)
			return fail(err, errlen,
				    "rate: '%s' is not a rate (e.g. 10mbit, 1gbit, 64kbit, 500000bit)",
				    val);
		return 0;
	}
	if (strcmp(key, "burst") == 0 || strcmp(key, "limit_bytes") == 0 ||
	    strcmp(key, "overhead") == 0) {
		if (parse_bytes(val, &u) < 0 ||
		    (key[0] == 'b' && u == 0) || (key[0] == 'o' && u > 256))
			return fail(err, errlen,
				    "%s: '%s' is not a size in bytes (e.g. 1514, 64kB, 1MiB)%s",
				    key, val, key[0] == 'o' ? ", at most 256" : "");
		if (key[0] == 'b')
			s->burst_bytes = u;
		else if (key[0] == 'l')
			s->limit_bytes = u;
		else
			s->overhead = (uint32_t)u;
		return 0;
	}
	if (strcmp(key, "limit") == 0) {
		if (parse_u64(val, 10000000, &u) < 0)
			return fail(err, errlen,
				    "limit: '%s' is not a packet count (0..10000000)",
				    val);
		s->limit_pkts = (uint32_t)u;
		return 0;
	}
	if (strcmp(key, "seed") == 0) {
		if (parse_u64(val, UINT64_MAX, &s->seed) < 0)
			return fail(err, errlen,
				    "seed: '%s' is not an unsigned integer",
				    val);
		return 0;
	}
	return fail(err, errlen,
		    "unknown key '%s' (delay, jitter, order, loss, ge, dup, reorder, rate, burst, limit, limit_bytes, overhead, seed)",
		    key);
}

int
lk_spec_parse(const char *text, struct lk_spec *s, char *err, size_t errlen)
{
	char *buf, *item, *save = NULL;
	int rc = 0;

	lk_spec_init(s);
	if (strcmp(text, "") == 0 || strcmp(text, "none") == 0)
		return 0;
	buf = strdup(text);
	if (buf == NULL)
		return -ENOMEM;
	for (item = strtok_r(buf, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (eq == NULL || eq == item || eq[1] == '\0') {
			rc = fail(err, errlen, "'%s': expected key=value",
				  item);
			break;
		}
		*eq = '\0';
		rc = parse_pair(s, item, eq + 1, err, errlen);
		if (rc < 0)
			break;
	}
	free(buf);
	if (rc == 0 && s->rate_bps > 0 && s->limit_pkts == 0 &&
	    s->limit_bytes == 0)
		s->limit_pkts = LK_DEFAULT_LIMIT_PKTS;
	if (rc < 0)
		lk_spec_free(s);
	return rc;
}

static const char *
jitter_name(enum lk_jitter_kind k)
{
	switch (k) {
	case LK_JITTER_UNIFORM:
		return "uniform";
	case LK_JITTER_NORMAL:
		return "normal";
	case LK_JITTER_REPLAY:
		return "replay";
	case LK_JITTER_NONE:
		break;
	}
	return "none";
}

int
lk_spec_format(const struct lk_spec *s, char *buf, size_t len)
{
	char jit[300];

	if (s->jitter == LK_JITTER_REPLAY)
		snprintf(jit, sizeof(jit), "replay:%s(%zu values)",
			 s->replay_path, s->replay_len);
	else if (s->jitter == LK_JITTER_NONE)
		snprintf(jit, sizeof(jit), "none");
	else
		snprintf(jit, sizeof(jit), "%s:%" PRIu64 "ns",
			 jitter_name(s->jitter), s->jitter_ns);
	return snprintf(buf, len,
			"delay=%" PRIu64 "ns,jitter=%s,order=%s,loss=%g,"
			"ge=%g:%g:%g:%g,dup=%g,reorder=%g:%" PRIu64 "ns,"
			"rate=%" PRIu64 "bit,burst=%" PRIu64 ",limit=%u,"
			"limit_bytes=%" PRIu64 ",overhead=%u,seed=%" PRIu64,
			s->delay_ns, jit, s->fifo ? "fifo" : "free", s->loss,
			s->ge ? s->ge_p : 0.0, s->ge_r, s->ge_loss_good,
			s->ge_loss_bad, s->dup, s->hold_share, s->hold_ns,
			s->rate_bps, s->burst_bytes, s->limit_pkts,
			s->limit_bytes, s->overhead, s->seed);
}

uint64_t
lk_spec_max_delay_ns(const struct lk_spec *s)
{
	uint64_t jit = 0;
	size_t i;

	switch (s->jitter) {
	case LK_JITTER_UNIFORM:
		jit = s->jitter_ns;
		break;
	case LK_JITTER_NORMAL:
		jit = s->jitter_ns * 6; /* beyond 6 sigma: 1e-9 of packets */
		break;
	case LK_JITTER_REPLAY:
		for (i = 0; i < s->replay_len; i++)
			if (s->replay_ns[i] > 0 && (uint64_t)s->replay_ns[i] > jit)
				jit = (uint64_t)s->replay_ns[i];
		break;
	case LK_JITTER_NONE:
		break;
	}
	return s->delay_ns + jit + (s->hold_share > 0 ? s->hold_ns : 0);
}
