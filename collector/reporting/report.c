/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reports as asked for: a request read from key/value pairs, the formats
 * and their renderers, and report_generate, which the
 * `metroprobe-collector report` command and GET /api/v1/report both
 * call. The evaluation of the links is in report_build.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metroprobe/mp_time.h"
#include "report.h"
#include "report_render.h"
#include "sla.h"

#define REPORT_DEFAULT_PERIOD_NS  (86400ULL * MP_NS_PER_SEC)
#define REPORT_MAX_PERIOD_NS      (10ULL * 366 * 86400 * MP_NS_PER_SEC)

/* The formats of a report, indexed by enum report_format: the one place
 * that knows a format's name, its MIME type and its renderer. */
static const struct report_renderer report_renderers[] = {
	[REPORT_JSON] = { "json", "application/json", report_render_json },
	[REPORT_CSV] = { "csv", "text/csv; charset=utf-8", report_render_csv },
	[REPORT_HTML] = { "html", "text/html; charset=utf-8",
			  report_render_html },
};
#define REPORT_N_FORMATS \
	(sizeof(report_renderers) / sizeof(report_renderers[0]))

/* The renderer of a format; JSON's for a value out of the table. */
static const struct report_renderer *
report_renderer_of(enum report_format f)
{
	return (size_t)f < REPORT_N_FORMATS ? &report_renderers[f] :
	       &report_renderers[REPORT_JSON];
}

const char *
report_content_type(enum report_format f)
{
	return report_renderer_of(f)->mime;
}

/* The format named name; -EINVAL with the names there are in err. */
static int
report_format_find(const char *name, enum report_format *out, char *err,
		   size_t errlen)
{
	char names[64] = "";
	size_t i, len = 0;

	for (i = 0; i < REPORT_N_FORMATS; i++) {
		if (strcmp(name, report_renderers[i].name) == 0) {
			*out = (enum report_format)i;
			return 0;
		}
	}
	for (i = 0; i < REPORT_N_FORMATS && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len,
					"%s%s", i == 0 ? "" :
					i + 1 < REPORT_N_FORMATS ? ", " :
					" or ", report_renderers[i].name);
	snprintf(err, errlen, "key 'format': '%s' is not %s", name, names);
	return -EINVAL;
}

int
report_request_parse(struct report_request *req,
		     const char *(*lookup)(const char *key, void *arg),
		     void *arg, char *err, size_t errlen)
{
	const char *from = lookup("from", arg);
	const char *to = lookup("to", arg);
	const char *format = lookup("format", arg);
	const char *probe = lookup("probe", arg);

	memset(req, 0, sizeof(*req));
	req->format = REPORT_JSON;
	if (format != NULL &&
	    report_format_find(format, &req->format, err, errlen) < 0)
		return -EINVAL;
	if (to != NULL) {
		if (mp_time_parse(to, &req->to_ns) < 0) {
			snprintf(err, errlen, "key 'to': '%s' is not a time "
				 "(RFC 3339, Unix ns, now or now-1h)", to);
			return -EINVAL;
		}
	} else {
		req->to_ns = mp_time_now_ns();
	}
	if (from != NULL) {
		if (mp_time_parse(from, &req->from_ns) < 0) {
			snprintf(err, errlen, "key 'from': '%s' is not a time "
				 "(RFC 3339, Unix ns, now or now-1h)", from);
			return -EINVAL;
		}
	} else {
		req->from_ns = req->to_ns > REPORT_DEFAULT_PERIOD_NS ?
			       req->to_ns - REPORT_DEFAULT_PERIOD_NS : 0;
	}
	if (req->from_ns >= req->to_ns) {
		snprintf(err, errlen, "key 'from': must be before 'to'");
		return -EINVAL;
	}
	if (req->to_ns - req->from_ns > REPORT_MAX_PERIOD_NS) {
		snprintf(err, errlen, "key 'from': period longer than 10 years");
		return -EINVAL;
	}
	if (probe != NULL) {
		if (probe[0] == '\0' || strlen(probe) >= RECORD_NAME_MAX) {
			snprintf(err, errlen, "key 'probe': not a probe name");
			return -EINVAL;
		}
		req->probe = probe;
	}
	return 0;
}

int
report_generate(struct store *st, const struct sla_profile_set *set,
		const struct report_request *req, char **out, size_t *out_len,
		char *err, size_t errlen)
{
	struct report_data d;
	struct rbuf b = { 0 };
	int rc;

	*out = NULL;
	*out_len = 0;
	if (req->from_ns >= req->to_ns) {
		snprintf(err, errlen, "key 'from': must be before 'to'");
		return -EINVAL;
	}
	if (set == NULL) {
		/* no config: the built-in default profile for every link */
		struct sla_profile_set *def;

		rc = sla_profiles_load(NULL, &def, err, errlen);
		if (rc < 0)
			return rc;
		rc = report_generate(st, def, req, out, out_len, err, errlen);
		sla_profiles_free(def);
		return rc;
	}
	rc = report_data_build(st, set, req, &d, err, errlen);
	if (rc < 0)
		return rc;
	rc = report_renderer_of(req->format)->render(&d, &b);
	report_data_free(&d);
	if (rc == 0 && b.oom)
		rc = -ENOMEM;
	if (rc < 0) {
		free(b.s);
		snprintf(err, errlen, "rendering the report failed: %s",
			 strerror(-rc));
		return rc;
	}
	if (b.s == NULL) {
		b.s = strdup("");
		if (b.s == NULL)
			return -ENOMEM;
	}
	*out = b.s;
	*out_len = b.len;
	return 0;
}
