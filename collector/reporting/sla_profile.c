/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SLA profiles from the collector config: [sla.NAME] sections with the
 * bounds, [group.NAME] sections with lists of links, and the built-in
 * default profile for this backbone.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metroprobe/config.h"
#include "metroprobe/mp_time.h"
#include "report.h"
#include "sla.h"

#define SLA_DEFAULT_INTERVAL_NS  (60ULL * MP_NS_PER_SEC)
#define SLA_MIN_INTERVAL_NS      MP_NS_PER_SEC
#define SLA_MAX_INTERVAL_NS      (86400ULL * MP_NS_PER_SEC)

static const char *const sla_keys[] = {
	"interval", "delay_basis", "delay_percentile", "delay_max", "rtt_max",
	"loss_ratio_max", "dv", "dv_percentile", "dv_max",
	"availability_min", "unavailable_loss_ratio", "capacity_min",
	"capacity_sessions", "max_error_ns", "probes", "peers", "sessions",
	"groups", NULL,
};

static const char *const group_keys[] = {
	"probes", "peers", "sessions", NULL,
};

void
sla_profile_builtin(struct sla_profile *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "default");
	p->interval_ns = SLA_DEFAULT_INTERVAL_NS;
	p->delay_basis = SLA_DELAY_AUTO;
	p->delay_percentile = 99.0;
	p->delay_set = true;
	p->delay_max_ns = 1000000;          /* 1 ms */
	p->rtt_max_ns = 1000000;            /* same bound when only RTT */
	p->loss_set = true;
	p->loss_ratio_max = 1e-5;
	p->dv_kind = SLA_DV_IPDV;
	p->dv_percentile = 99.0;
	p->dv_set = true;
	p->dv_max_ns = 100000;              /* 100 us */
	p->availability_set = true;
	p->availability_min_pct = 99.99;
	p->unavail_loss_set = true;
	p->unavail_loss_ratio = 1e-5;
	p->capacity_set = true;
	p->capacity_min_bps = 100e9;        /* 100 Gb/s */
}

/* Context of one parse, for messages naming file, line and key. */
struct sla_parse {
	const struct mp_config *cfg;
	struct sla_profile_set *set;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 5, 6)))
sla_bad(const struct sla_parse *ps, const char *section, const char *key,
	const char *value, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (mp_config_get(ps->cfg, section, key) == NULL) {
		/* about the section as a whole: the line of its first key */
		unsigned i, line = 0;

		for (i = 0; sla_keys[i] != NULL; i++) {
			unsigned l = mp_config_line(ps->cfg, section,
						    sla_keys[i]);

			if (l != 0 && (line == 0 || l < line))
				line = l;
		}
		snprintf(ps->err, ps->errlen, "%s:%u: [%s]: %s",
			 mp_config_path(ps->cfg), line, section, why);
		return -EINVAL;
	}
	if (value != NULL)
		snprintf(ps->err, ps->errlen, "%s:%u: [%s] %s: '%s' %s",
			 mp_config_path(ps->cfg),
			 mp_config_line(ps->cfg, section, key), section, key,
			 value, why);
	else
		snprintf(ps->err, ps->errlen, "%s:%u: [%s] %s: %s",
			 mp_config_path(ps->cfg),
			 mp_config_line(ps->cfg, section, key), section, key,
			 why);
	return -EINVAL;
}

static bool
sla_is_off(const char *v)
{
	return strcasecmp(v, "off") == 0 || strcasecmp(v, "none") == 0;
}

/* Strict number: the whole string (but trailing blanks) is consumed up to
 * *end_out, which gets the first unparsed character. */
static int
sla_strtod(const char *v, double *out, const char **end_out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (end == v || errno != 0 || !isfinite(*out))
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	*end_out = end;
	return 0;
}

static int
sla_get_percentile(const struct sla_parse *ps, const char *section,
		   const char *key, double *out)
{
	const char *v = mp_config_get(ps->cfg, section, key);
	const char *end;
	double p;

	if (v == NULL)
		return 0;
	if (v[0] == 'p' || v[0] == 'P')
		v++;
	if (sla_strtod(v, &p, &end) < 0 || *end != '\0' || !(p > 0.0) ||
	    p > 100.0)
		return sla_bad(ps, section, key, mp_config_get(ps->cfg,
			       section, key), "is not a percentile "
			       "(a number in (0, 100], e.g. 99 or p99.9)");
	*out = p;
	return 0;
}

/* Duration bound > 0, or "off" (*set = false). */
static int
sla_get_bound_ns(const struct sla_parse *ps, const char *section,
		 const char *key, bool *set, uint64_t *out)
{
	const char *v = mp_config_get(ps->cfg, section, key);
	uint64_t ns;

	if (v == NULL)
		return 0;
	if (sla_is_off(v)) {
		*set = false;
		return 0;
	}
	if (mp_time_parse_duration(v, &ns) < 0)
		return sla_bad(ps, section, key, v, "is not a duration "
			       "(e.g. 1ms, 100us, 250000ns) or 'off'");
	if (ns == 0)
		return sla_bad(ps, section, key, v, "must be greater than 0 "
			       "('off' disables the bound)");
	*set = true;
	*out = ns;
	return 0;
}

/* Number in [lo, hi] with an optional '%' (percent) or "off". */
static int
sla_get_number(const struct sla_parse *ps, const char *section,
	       const char *key, double lo, double hi, bool allow_pct,
	       bool *set, double *out)
{
	const char *v = mp_config_get(ps->cfg, section, key);
	const char *end;
	double x;

	if (v == NULL)
		return 0;
	if (sla_is_off(v)) {
		*set = false;
		return 0;
	}
	if (sla_strtod(v, &x, &end) < 0 ||
	    !(*end == '\0' || (allow_pct && strcmp(end, "%") == 0)))
		return sla_bad(ps, section, key, v, "is not a number%s or 'off'",
			       allow_pct ? " (percent)" : "");
	if (x < lo || x > hi)
		return sla_bad(ps, section, key, v, "is out of range "
			       "[%g, %g]", lo, hi);
	*set = true;
	*out = x;
	return 0;
}

/* Bits per second with an optional SI prefix: 100G, 40Gbps, 1e11. */
static int
sla_get_rate(const struct sla_parse *ps, const char *section,
	     const char *key, bool *set, double *out)
{
	const char *v = mp_config_get(ps->cfg, section, key);
	const char *end;
	double x, mult = 1.0;

	if (v == NULL)
		return 0;
	if (sla_is_off(v)) {
		*set = false;
		return 0;
	}
	if (sla_strtod(v, &x, &end) < 0)
		goto bad;
	switch (*end) {
	case 'k': case 'K': mult = 1e3; end++; break;
	case 'M': mult = 1e6; end++; break;
	case 'G': mult = 1e9; end++; break;
	case 'T': mult = 1e12; end++; break;
	default: break;
	}
	if (*end != '\0' && strcmp(end, "bps") != 0 && strcmp(end, "b/s") != 0 &&
	    strcmp(end, "bit/s") != 0)
		goto bad;
	x *= mult;
	if (!(x > 0.0) || !isfinite(x))
		return sla_bad(ps, section, key, v, "must be greater than 0 "
			       "('off' disables the bound)");
	*set = true;
	*out = x;
	return 0;
bad:
	return sla_bad(ps, section, key, v, "is not a rate in bits per second "
		       "(e.g. 100G, 40Gbps, 1e11) or 'off'");
}

/*
 * The measurement error limit: a number of ns (what the key's name
 * says), a duration with its unit (50us), or "off"; 0 and "off" are no
 * limit.
 */
static int
sla_get_error_limit(const struct sla_parse *ps, const char *section,
		    const char *key, uint64_t *out)
{
	const char *v = mp_config_get(ps->cfg, section, key);
	unsigned long long ns;
	char *end;

	if (v == NULL)
		return 0;
	if (sla_is_off(v)) {
		*out = 0;
		return 0;
	}
	if (v[0] >= '0' && v[0] <= '9' && v[strspn(v, "0123456789")] == '\0') {
		errno = 0;
		ns = strtoull(v, &end, 10);
		if (errno == 0 && ns <= INT64_MAX) {
			*out = ns;
			return 0;
		}
	} else if (mp_time_parse_duration(v, out) == 0) {
		return 0;
	}
	return sla_bad(ps, section, key, v, "is not a number of nanoseconds "
		       "(e.g. 50000), a duration (e.g. 50us) or 'off'");
}

static int
sla_get_list(const struct sla_parse *ps, const char *section,
	     const char *key, struct sla_name_list *l)
{
	const char *v = mp_config_get(ps->cfg, section, key);
	const char *p;

	if (v == NULL)
		return 0;
	l->n = 0;
	p = v;
	for (;;) {
		size_t len;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		if (len >= SLA_NAME_MAX)
			return sla_bad(ps, section, key, NULL, "entry '%.*s' "
				       "is longer than %d characters",
				       (int)len, p, SLA_NAME_MAX - 1);
		if (l->n == SLA_LIST_MAX)
			return sla_bad(ps, section, key, NULL, "more than %d "
				       "entries", SLA_LIST_MAX);
		memcpy(l->name[l->n], p, len);
		l->name[l->n][len] = '\0';
		l->n++;
		p += len;
	}
	if (l->n == 0)
		return sla_bad(ps, section, key, NULL, "empty list");
	return 0;
}

static int
sla_get_choice(const struct sla_parse *ps, const char *section,
	       const char *key, const char *const *names, int *out)
{
	const char *v = mp_config_get(ps->cfg, section, key);
	unsigned i;

	if (v == NULL)
		return 0;
	for (i = 0; names[i] != NULL; i++) {
		if (strcasecmp(v, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return sla_bad(ps, section, key, v, "is not one of %s%s%s%s%s",
		       names[0], names[1] ? ", " : "", names[1] ? names[1] : "",
		       names[1] && names[2] ? ", " : "",
		       names[1] && names[2] ? names[2] : "");
}

static int
sla_parse_match(const struct sla_parse *ps, const char *section,
		struct sla_match *m, bool with_groups)
{
	int rc;

	if ((rc = sla_get_list(ps, section, "probes", &m->probes)) < 0 ||
	    (rc = sla_get_list(ps, section, "peers", &m->peers)) < 0 ||
	    (rc = sla_get_list(ps, section, "sessions", &m->sessions)) < 0)
		return rc;
	if (with_groups &&
	    (rc = sla_get_list(ps, section, "groups", &m->groups)) < 0)
		return rc;
	return 0;
}

static bool
sla_match_empty(const struct sla_match *m)
{
	return m->probes.n == 0 && m->peers.n == 0 && m->sessions.n == 0 &&
	       m->groups.n == 0;
}

static int
sla_parse_profile(const struct sla_parse *ps, const char *section,
		  const char *name, struct sla_profile *p)
{
	static const char *const basis_names[] = { "auto", "owd", "rtt", NULL };
	static const char *const dv_names[] = { "ipdv", "pdv", NULL };
	const char *v;
	int rc, choice;
	bool rtt_given, unavail_given;

	rc = mp_config_check_keys(ps->cfg, section, sla_keys, ps->err,
				  ps->errlen);
	if (rc < 0)
		return rc;
	if (strlen(name) >= SLA_NAME_MAX)
		return sla_bad(ps, section, "name", NULL, "profile name is "
			       "longer than %d characters", SLA_NAME_MAX - 1);
	snprintf(p->name, sizeof(p->name), "%s", name);
	memset(&p->match, 0, sizeof(p->match));

	if (mp_config_get(ps->cfg, section, "interval") != NULL) {
		v = mp_config_get(ps->cfg, section, "interval");
		if (mp_time_parse_duration(v, &p->interval_ns) < 0)
			return sla_bad(ps, section, "interval", v, "is not a "
				       "duration (e.g. 1m, 10s)");
		if (p->interval_ns < SLA_MIN_INTERVAL_NS ||
		    p->interval_ns > SLA_MAX_INTERVAL_NS ||
		    p->interval_ns % MP_NS_PER_SEC != 0)
			return sla_bad(ps, section, "interval", v, "must be a "
				       "whole number of seconds from 1s to 1d");
	}

	choice = (int)p->delay_basis;
	if ((rc = sla_get_choice(ps, section, "delay_basis", basis_names,
				 &choice)) < 0)
		return rc;
	p->delay_basis = (enum sla_delay_basis)choice;
	if ((rc = sla_get_percentile(ps, section, "delay_percentile",
				     &p->delay_percentile)) < 0)
		return rc;
	if ((rc = sla_get_bound_ns(ps, section, "delay_max", &p->delay_set,
				   &p->delay_max_ns)) < 0)
		return rc;
	rtt_given = mp_config_get(ps->cfg, section, "rtt_max") != NULL;
	if (rtt_given) {
		bool rtt_set = true;

		if ((rc = sla_get_bound_ns(ps, section, "rtt_max", &rtt_set,
					   &p->rtt_max_ns)) < 0)
			return rc;
		if (!rtt_set)
			return sla_bad(ps, section, "rtt_max", "off", "cannot "
				       "be off; set delay_max = off");
	} else if (mp_config_get(ps->cfg, section, "delay_max") != NULL) {
		p->rtt_max_ns = p->delay_max_ns;
	}

	if ((rc = sla_get_number(ps, section, "loss_ratio_max", 0.0, 1.0,
				 false, &p->loss_set, &p->loss_ratio_max)) < 0)
		return rc;
	unavail_given = mp_config_get(ps->cfg, section,
				      "unavailable_loss_ratio") != NULL;
	if (unavail_given) {
		if ((rc = sla_get_number(ps, section, "unavailable_loss_ratio",
					 0.0, 1.0, false, &p->unavail_loss_set,
					 &p->unavail_loss_ratio)) < 0)
			return rc;
	} else if (mp_config_get(ps->cfg, section, "loss_ratio_max") != NULL) {
		p->unavail_loss_set = p->loss_set;
		p->unavail_loss_ratio = p->loss_ratio_max;
	}

	choice = (int)p->dv_kind;
	if ((rc = sla_get_choice(ps, section, "dv", dv_names, &choice)) < 0)
		return rc;
	p->dv_kind = (enum sla_dv_kind)choice;
	if ((rc = sla_get_percentile(ps, section, "dv_percentile",
				     &p->dv_percentile)) < 0)
		return rc;
	if ((rc = sla_get_bound_ns(ps, section, "dv_max", &p->dv_set,
				   &p->dv_max_ns)) < 0)
		return rc;

	if ((rc = sla_get_number(ps, section, "availability_min", 0.0, 100.0,
				 true, &p->availability_set,
				 &p->availability_min_pct)) < 0)
		return rc;
	if ((rc = sla_get_rate(ps, section, "capacity_min", &p->capacity_set,
			       &p->capacity_min_bps)) < 0)
		return rc;
	if ((rc = sla_get_list(ps, section, "capacity_sessions",
			       &p->capacity_sessions)) < 0)
		return rc;
	if ((rc = sla_get_error_limit(ps, section, "max_error_ns",
				      &p->max_error_ns)) < 0)
		return rc;
	return sla_parse_match(ps, section, &p->match, true);
}

static int
sla_count_section(const struct mp_config *c, const char *section,
		  const char *name, void *arg)
{
	unsigned *n = arg;

	(void)c;
	(void)section;
	(void)name;
	(*n)++;
	return 0;
}

static int
sla_group_section(const struct mp_config *c, const char *section,
		  const char *name, void *arg)
{
	struct sla_parse *ps = arg;
	struct sla_group *g;
	unsigned i;
	int rc;

	if (name[0] == '\0')
		return sla_bad(ps, section, "probes", NULL, "a group needs a "
			       "name: [group.NAME]");
	rc = mp_config_check_keys(c, section, group_keys, ps->err, ps->errlen);
	if (rc < 0)
		return rc;
	if (strlen(name) >= SLA_NAME_MAX)
		return sla_bad(ps, section, "probes", NULL, "group name is "
			       "longer than %d characters", SLA_NAME_MAX - 1);
	for (i = 0; i < ps->set->n_groups; i++)
		if (strcmp(ps->set->groups[i].name, name) == 0)
			return sla_bad(ps, section, "probes", NULL,
				       "group '%s' is defined twice", name);
	g = &ps->set->groups[ps->set->n_groups];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	rc = sla_parse_match(ps, section, &g->match, false);
	if (rc < 0)
		return rc;
	if (sla_match_empty(&g->match))
		return sla_bad(ps, section, "probes", NULL, "group '%s' lists "
			       "no probes, peers or sessions", name);
	ps->set->n_groups++;
	return 0;
}

static int
sla_default_section(const struct mp_config *c, const char *section,
		    const char *name, void *arg)
{
	struct sla_parse *ps = arg;
	int rc;

	(void)c;
	if (strcmp(name, "default") != 0)
		return 0;
	rc = sla_parse_profile(ps, section, name, &ps->set->def);
	if (rc < 0)
		return rc;
	if (!sla_match_empty(&ps->set->def.match)) {
		const char *key = ps->set->def.match.probes.n ? "probes" :
				  ps->set->def.match.peers.n ? "peers" :
				  ps->set->def.match.sessions.n ? "sessions" :
				  "groups";
		return sla_bad(ps, section, key, NULL, "the default profile "
			       "applies to every link no other profile "
			       "matches; it takes no %s", key);
	}
	ps->set->def_from_config = true;
	return 0;
}

static int
sla_profile_section(const struct mp_config *c, const char *section,
		    const char *name, void *arg)
{
	struct sla_parse *ps = arg;
	struct sla_profile *p;
	unsigned i, j;
	int rc;

	(void)c;
	if (name[0] == '\0')
		return sla_bad(ps, section, "interval", NULL, "a profile needs a "
			       "name: [sla.NAME]");
	if (strcmp(name, "default") == 0)
		return 0;
	for (i = 0; i < ps->set->n_profiles; i++)
		if (strcmp(ps->set->profiles[i].name, name) == 0)
			return sla_bad(ps, section, "interval", NULL,
				       "profile '%s' is defined twice", name);
	p = &ps->set->profiles[ps->set->n_profiles];
	*p = ps->set->def;              /* unset keys inherit the default */
	rc = sla_parse_profile(ps, section, name, p);
	if (rc < 0)
		return rc;
	if (sla_match_empty(&p->match))
		return sla_bad(ps, section, "probes", NULL, "profile '%s' "
			       "applies to no link: set probes, peers, "
			       "sessions or groups", name);
	for (i = 0; i < p->match.groups.n; i++) {
		for (j = 0; j < ps->set->n_groups; j++)
			if (strcmp(ps->set->groups[j].name,
				   p->match.groups.name[i]) == 0)
				break;
		if (j == ps->set->n_groups)
			return sla_bad(ps, section, "groups", NULL, "no "
				       "[group.%s] section",
				       p->match.groups.name[i]);
	}
	ps->set->n_profiles++;
	return 0;
}

int
sla_profiles_load(const struct mp_config *cfg, struct sla_profile_set **out,
		  char *err, size_t errlen)
{
	struct sla_profile_set *set;
	struct sla_parse ps;
	unsigned n_sla = 0, n_group = 0;
	int rc;

	*out = NULL;
	set = calloc(1, sizeof(*set));
	if (set == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	sla_profile_builtin(&set->def);
	if (cfg == NULL) {
		*out = set;
		return 0;
	}
	mp_config_sections(cfg, "sla", sla_count_section, &n_sla);
	mp_config_sections(cfg, "group", sla_count_section, &n_group);
	set->profiles = calloc(n_sla + 1, sizeof(*set->profiles));
	set->groups = calloc(n_group + 1, sizeof(*set->groups));
	if (set->profiles == NULL || set->groups == NULL) {
		sla_profiles_free(set);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ps.cfg = cfg;
	ps.set = set;
	ps.err = err;
	ps.errlen = errlen;
	rc = mp_config_sections(cfg, "group", sla_group_section, &ps);
	if (rc == 0)
		rc = mp_config_sections(cfg, "sla", sla_default_section, &ps);
	if (rc == 0)
		rc = mp_config_sections(cfg, "sla", sla_profile_section, &ps);
	if (rc != 0) {
		sla_profiles_free(set);
		return rc < 0 ? rc : -EINVAL;
	}
	*out = set;
	return 0;
}

void
sla_profiles_free(struct sla_profile_set *set)
{
	if (set == NULL)
		return;
	free(set->profiles);
	free(set->groups);
	free(set);
}

void
sla_addr_host(const char *addr, char *buf, size_t len)
{
	const char *colon;
	size_t n;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		n = close != NULL ? (size_t)(close - addr - 1) : strlen(addr + 1);
		snprintf(buf, len, "%.*s", (int)n, addr + 1);
		return;
	}
	colon = strchr(addr, ':');
	/* one colon: ipv4:port or name:port; several: a bare IPv6 address */
	if (colon != NULL && strchr(colon + 1, ':') == NULL)
		n = (size_t)(colon - addr);
	else
		n = strlen(addr);
	snprintf(buf, len, "%.*s", (int)n, addr);
}

static bool
sla_list_has(const struct sla_name_list *l, const char *s)
{
	unsigned i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->name[i], s) == 0)
			return true;
	return false;
}

static bool
sla_match_link(const struct sla_match *m, const char *probe,
	       const char *session, const char *dst, const char *dst_host,
	       const char *peer_name)
{
	return sla_list_has(&m->probes, probe) ||
	       sla_list_has(&m->sessions, session) ||
	       sla_list_has(&m->peers, dst) ||
	       sla_list_has(&m->peers, dst_host) ||
	       sla_list_has(&m->peers, peer_name);
}

const struct sla_profile *
sla_profile_for_link(const struct sla_profile_set *set, const char *probe,
		     const char *session, const char *dst,
		     const char *peer_name)
{
	char host[RECORD_ADDR_MAX];
	unsigned i, j, k;

	sla_addr_host(dst != NULL ? dst : "", host, sizeof(host));
	for (i = 0; i < set->n_profiles; i++) {
		const struct sla_profile *p = &set->profiles[i];

		if (sla_match_link(&p->match, probe, session, dst, host,
				   peer_name))
			return p;
		for (j = 0; j < p->match.groups.n; j++) {
			for (k = 0; k < set->n_groups; k++) {
				const struct sla_group *g = &set->groups[k];

				if (strcmp(g->name, p->match.groups.name[j]) == 0 &&
				    sla_match_link(&g->match, probe, session,
						   dst, host, peer_name))
					return p;
			}
		}
	}
	return &set->def;
}
