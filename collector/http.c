/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#include "clog.h"
#include "http.h"
#include "ingest.h"

#define PATH_INTERVALS "/api/v1/intervals"
#define PATH_REPORT    "/api/v1/report"
#define PATH_METRICS   "/metrics"
#define PATH_HEALTHZ   "/healthz"

struct http_server {
	struct MHD_Daemon *daemon;
	const struct collector_config *cc;
	struct store *store;
	struct metrics *metrics;
	const struct sla_profile_set *sla;
	uint16_t port;
};

/* State of one POST /api/v1/intervals while its body arrives. */
struct upload {
	const struct auth_token *token;
	char *body;
	size_t len, cap;
	uint64_t received;        /* bytes seen, kept or not */
	bool too_large;
};

static const char *const ndjson_types[] = {
	"application/x-ndjson", "application/jsonl", "application/json-seq",
	"application/json", "text/plain", NULL,
};

static void
client_address(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(buf, len, "?");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			  (socklen_t)len);
}

static enum MHD_Result
respond(struct MHD_Connection *c, unsigned status, const char *type,
	char *body, size_t len, bool must_free)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, must_free ?
					       MHD_RESPMEM_MUST_FREE :
					       MHD_RESPMEM_MUST_COPY);
	if (resp == NULL) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"metroprobe\"");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
respond_json(struct MHD_Connection *c, unsigned status, json_t *obj)
{
	char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	size_t len;

	json_decref(obj);
	if (text == NULL)
		return MHD_NO;
	len = strlen(text);
	/* json_dumps allocates with malloc (no custom allocator set). */
	text = realloc(text, len + 2);
	if (text == NULL)
		return MHD_NO;
	text[len++] = '\n';
	text[len] = '\0';
	return respond(c, status, "application/json", text, len, true);
}

static enum MHD_Result
respond_error(struct MHD_Connection *c, const char *method, const char *url,
	      unsigned status, const char *message)
{
	char addr[INET6_ADDRSTRLEN];

	client_address(c, addr, sizeof(addr));
	collector_log("%s %s from %s: %u %s", method, url, addr, status, message);
	return respond_json(c, status, json_pack("{s:s}", "error", message));
}

static enum MHD_Result
respond_method_not_allowed(struct MHD_Connection *c, const char *method,
			   const char *url, const char *allow)
{
	struct MHD_Response *resp;
	char msg[128];
	enum MHD_Result ret;
	json_t *obj;
	char *text;

	snprintf(msg, sizeof(msg), "method %s not allowed on %s (allowed: %s)",
		 method, url, allow);
	obj = json_pack("{s:s}", "error", msg);
	text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	resp = MHD_create_response_from_buffer(text != NULL ? strlen(text) : 0,
					       text != NULL ? text : (char *)"",
					       text != NULL ?
					       MHD_RESPMEM_MUST_FREE :
					       MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The caller's token, or NULL for none or an unknown one. */
static const struct auth_token *
http_token(const struct http_server *h, struct MHD_Connection *c)
{
	const char *hdr, *secret;
	size_t len = 0;

	hdr = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					  MHD_HTTP_HEADER_AUTHORIZATION);
	secret = auth_bearer(hdr, &len);
	if (secret == NULL)
		return NULL;
	return auth_lookup(&h->cc->auth, secret, len);
}

static bool
ndjson_content_type(const char *type)
{
	size_t n, i;

	if (type == NULL)
		return true;
	n = strcspn(type, ";");
	while (n > 0 && (type[n - 1] == ' ' || type[n - 1] == '\t'))
		n--;
	for (i = 0; ndjson_types[i] != NULL; i++)
		if (strlen(ndjson_types[i]) == n &&
		    strncasecmp(type, ndjson_types[i], n) == 0)
			return true;
	return false;
}

static bool
is_read_method(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

/* ---- POST /api/v1/intervals --------------------------------------- */

/* Headers only: everything that can be refused before the body is. */
static enum MHD_Result
intervals_begin(struct http_server *h, struct MHD_Connection *c,
		const char *url, const char *method, void **con_cls)
{
	const struct auth_token *tok;
	struct upload *up;
	const char *clen, *type;
	char msg[160];

	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return respond_method_not_allowed(c, method, url, "POST");
	tok = http_token(h, c);
	if (tok == NULL) {
		metrics_count_request(h->metrics, INGEST_UNAUTHORIZED, 0);
		return respond_error(c, method, url, MHD_HTTP_UNAUTHORIZED,
				     "missing or unknown bearer token");
	}
	if (tok->role != AUTH_ROLE_PROBE && tok->role != AUTH_ROLE_ADMIN) {
		metrics_count_request(h->metrics, INGEST_FORBIDDEN, 0);
		snprintf(msg, sizeof(msg), "token '%s' (role %s) may not write "
			 "records", tok->name, auth_role_name(tok->role));
		return respond_error(c, method, url, MHD_HTTP_FORBIDDEN, msg);
	}
	type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!ndjson_content_type(type)) {
		metrics_count_request(h->metrics, INGEST_UNSUPPORTED_MEDIA_TYPE,
				      0);
		snprintf(msg, sizeof(msg), "content type '%.60s' is not "
			 "application/x-ndjson", type);
		return respond_error(c, method, url,
				     MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, msg);
	}
	clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (clen != NULL && strtoull(clen, NULL, 10) > h->cc->max_body_bytes) {
		metrics_count_request(h->metrics, INGEST_TOO_LARGE, 0);
		snprintf(msg, sizeof(msg), "body of %s bytes is over the limit "
			 "of %" PRIu64, clen, h->cc->max_body_bytes);
		return respond_error(c, method, url,
				     MHD_HTTP_CONTENT_TOO_LARGE, msg);
	}
	up = calloc(1, sizeof(*up));
	if (up == NULL)
		return MHD_NO;
	up->token = tok;
	/* The body in one allocation when its length is announced: no
	 * copies from growing the buffer (a body is megabytes). */
	if (clen != NULL) {
		unsigned long long n = strtoull(clen, NULL, 10);

		if (n > 0 && n <= h->cc->max_body_bytes) {
			up->body = malloc((size_t)n + 1);
			if (up->body != NULL)
				up->cap = (size_t)n + 1;
		}
	}
	*con_cls = up;
	return MHD_YES;
}

static void
upload_append(struct upload *up, uint64_t limit, const char *data, size_t n)
{
	up->received += n;
	if (up->too_large)
		return;
	if (up->len + n > limit) {
		/* Keep reading (and dropping) so the 413 can be sent. */
		up->too_large = true;
		free(up->body);
		up->body = NULL;
		up->len = up->cap = 0;
		return;
	}
	if (up->len + n + 1 > up->cap) {
		size_t cap = up->cap == 0 ? 65536 : up->cap;
		char *b;

		while (cap < up->len + n + 1)
			cap *= 2;
		if (cap > limit + 1)
			cap = limit + 1;
		b = realloc(up->body, cap);
		if (b == NULL) {
			up->too_large = true;
			return;
		}
		up->body = b;
		up->cap = cap;
	}
	memcpy(up->body + up->len, data, n);
	up->len += n;
	up->body[up->len] = '\0';
}

static enum MHD_Result
intervals_finish(struct http_server *h, struct MHD_Connection *c,
		 const char *url, const char *method, struct upload *up)
{
	struct ingest_source src;
	size_t n_new = 0, n_dup = 0, i;
	char err[320];
	enum ingest_outcome outcome;
	unsigned status;
	int rc;

	if (up->too_large) {
		metrics_count_request(h->metrics, INGEST_TOO_LARGE,
				      up->received);
		snprintf(err, sizeof(err), "body is over the limit of %" PRIu64
			 " bytes", h->cc->max_body_bytes);
		return respond_error(c, method, url,
				     MHD_HTTP_CONTENT_TOO_LARGE, err);
	}
	if (!ingest_body_has_lines(up->body, up->len)) {
		metrics_count_request(h->metrics, INGEST_BAD_REQUEST,
				      up->received);
		return respond_error(c, method, url, MHD_HTTP_BAD_REQUEST,
				     "empty body: expected newline-delimited "
				     "interval records");
	}

	ingest_source_init(&src, up->body, up->len, up->token);
	err[0] = '\0';
	rc = store_insert_stream(h->store, ingest_next, &src, &n_new, &n_dup,
				 err, sizeof(err));
	if (src.status != 0) {
		status = src.status;
		outcome = status == MHD_HTTP_FORBIDDEN ? INGEST_FORBIDDEN :
			status == MHD_HTTP_BAD_REQUEST ? INGEST_BAD_REQUEST :
			INGEST_STORE_ERROR;
		metrics_count_request(h->metrics, outcome, up->received);
		ingest_source_fini(&src);
		return respond_error(c, method, url, status, src.message);
	}
	if (rc < 0) {
		metrics_count_request(h->metrics, INGEST_STORE_ERROR,
				      up->received);
		ingest_source_fini(&src);
		collector_log("store: %s", err);
		return respond_error(c, method, url, rc == -EBUSY ?
				     MHD_HTTP_SERVICE_UNAVAILABLE :
				     MHD_HTTP_INTERNAL_SERVER_ERROR,
				     "records not stored: storage error");
	}
	/* Committed: only now do the counters and gauges move. */
	metrics_count_request(h->metrics, INGEST_ACCEPTED, up->received);
	metrics_count_records(h->metrics, n_new, n_dup);
	for (i = 0; i < src.n_latest; i++)
		metrics_link_update(h->metrics, &src.latest[i]);
	ingest_source_fini(&src);
	return respond_json(c, MHD_HTTP_OK,
			    json_pack("{s:I,s:I,s:I}",
				      "accepted", (json_int_t)(n_new + n_dup),
				      "new", (json_int_t)n_new,
				      "duplicate", (json_int_t)n_dup));
}

/* ---- GET routes ------------------------------------------------- */

static const char *
query_lookup(const char *key, void *arg)
{
	return MHD_lookup_connection_value(arg, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result
report_get(struct http_server *h, struct MHD_Connection *c, const char *url,
	   const char *method)
{
	const struct auth_token *tok;
	struct report_request req;
	char *out = NULL;
	size_t out_len = 0;
	char err[512];
	char msg[160];
	int rc;

	if (!is_read_method(method))
		return respond_method_not_allowed(c, method, url, "GET, HEAD");
	tok = http_token(h, c);
	if (tok == NULL)
		return respond_error(c, method, url, MHD_HTTP_UNAUTHORIZED,
				     "missing or unknown bearer token");
	if (!auth_may_read(tok)) {
		snprintf(msg, sizeof(msg), "token '%s' (role %s) may not read "
			 "reports", tok->name, auth_role_name(tok->role));
		return respond_error(c, method, url, MHD_HTTP_FORBIDDEN, msg);
	}
	memset(&req, 0, sizeof(req));
	err[0] = '\0';
	rc = report_request_parse(&req, query_lookup, c, err, sizeof(err));
	if (rc < 0)
		return respond_error(c, method, url, MHD_HTTP_BAD_REQUEST, err);
	req.threads = h->cc->report_threads;
	rc = report_generate(h->store, h->sla, &req, &out, &out_len, err,
			     sizeof(err));
	if (rc < 0) {
		free(out);
		return respond_error(c, method, url, rc == -EINVAL ?
				     MHD_HTTP_BAD_REQUEST :
				     MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	}
	return respond(c, MHD_HTTP_OK, report_content_type(req.format), out,
		       out_len, true);
}

static enum MHD_Result
metrics_get(struct http_server *h, struct MHD_Connection *c, const char *url,
	    const char *method)
{
	size_t len = 0;
	char *page;

	if (!is_read_method(method))
		return respond_method_not_allowed(c, method, url, "GET, HEAD");
	page = metrics_render(h->metrics, &len);
	if (page == NULL)
		return MHD_NO;
	return respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4; "
		       "charset=utf-8", page, len, true);
}

static enum MHD_Result
http_handle(void *cls, struct MHD_Connection *c, const char *url,
	    const char *method, const char *version, const char *upload_data,
	    size_t *upload_data_size, void **con_cls)
{
	struct http_server *h = cls;
	struct upload *up = *con_cls;

	(void)version;
	if (up == NULL) {
		if (strcmp(url, PATH_INTERVALS) == 0)
			return intervals_begin(h, c, url, method, con_cls);
		if (strcmp(url, PATH_REPORT) == 0)
			return report_get(h, c, url, method);
		if (strcmp(url, PATH_METRICS) == 0)
			return metrics_get(h, c, url, method);
		if (strcmp(url, PATH_HEALTHZ) == 0) {
			if (!is_read_method(method))
				return respond_method_not_allowed(c, method,
								  url,
								  "GET, HEAD");
			return respond(c, MHD_HTTP_OK,
				       "text/plain; charset=utf-8",
				       (char *)"ok\n", 3, false);
		}
		return respond_error(c, method, url, MHD_HTTP_NOT_FOUND,
				     "no such resource");
	}
	if (*upload_data_size > 0) {
		upload_append(up, h->cc->max_body_bytes, upload_data,
			      *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return intervals_finish(h, c, url, method, up);
}

static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	       enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (up != NULL) {
		free(up->body);
		free(up);
		*con_cls = NULL;
	}
}

static void
http_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	collector_log("http: %s", line);
}

int
http_start(const struct collector_config *cc, struct store *st,
	   struct metrics *m, const struct sla_profile_set *sla,
	   struct http_server **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_ERROR_LOG;
	unsigned int timeout_s;
	struct http_server *h;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cc->listen, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(cc->port);
	} else if (inet_pton(AF_INET6, cc->listen, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(cc->port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "%s: [collector] listen: '%s' is not a "
			 "numeric IPv4 or IPv6 address", mp_config_path(cc->cfg),
			 cc->listen);
		return -EINVAL;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		flags |= MHD_USE_EPOLL;
	else
		flags |= MHD_USE_POLL;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->cc = cc;
	h->store = st;
	h->metrics = m;
	h->sla = sla;
	timeout_s = (unsigned int)(cc->connection_timeout_ns / MP_NS_PER_SEC);
	h->daemon = MHD_start_daemon(flags, cc->port, NULL, NULL,
				     http_handle, h,
				     MHD_OPTION_EXTERNAL_LOGGER, http_log, h,
				     MHD_OPTION_SOCK_ADDR, &ss,
				     MHD_OPTION_THREAD_POOL_SIZE,
				     (unsigned int)cc->threads,
				     MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned int)cc->max_connections,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				     (unsigned int)cc->max_connections_per_ip,
				     MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
				     MHD_OPTION_NOTIFY_COMPLETED,
				     http_completed, h,
				     MHD_OPTION_END);
	if (h->daemon == NULL) {
		snprintf(err, errlen, "cannot listen on %s port %u (address in "
			 "use, or not an address of this host?)", cc->listen,
			 cc->port);
		free(h);
		return -EADDRINUSE;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? info->port : cc->port;
	*out = h;
	return 0;
}

uint16_t
http_port(const struct http_server *h)
{
	return h->port;
}

void
http_stop(struct http_server *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->daemon);
	free(h);
}
