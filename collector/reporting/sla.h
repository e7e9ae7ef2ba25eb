/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SLA profiles and SLA evaluation of one link over one period.
 *
 * A link is one probe's session (probe, session; src -> dst). Its records
 * are grouped into evaluation intervals (delta-t windows, aligned on the
 * period start) by record_merge(), so every percentile is read from a
 * merged histogram, never averaged. Availability follows the spirit of
 * MEF 10.3 section 8.8: a delta-t is unavailable when its loss ratio is
 * over the availability threshold; a delta-t without data is neither
 * available nor compliant (availability = available delta-t / all
 * delta-t of the period), and coverage (delta-t with data / all) is
 * stated beside it. A delta-t whose records state an error bound over
 * the profile's max_error_ns is measurement degraded: listed apart, its
 * delay and delay variation not judged (struct sla_degraded).
 */
#ifndef METROPROBE_COLLECTOR_SLA_H
#define METROPROBE_COLLECTOR_SLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metroprobe/record.h"
#include "store.h"

#define SLA_NAME_MAX     64
#define SLA_LIST_MAX     32      /* entries in one match list */

/* Which delay a profile bounds. */
enum sla_delay_basis {
	SLA_DELAY_AUTO = 0,   /* one-way when clocks are synchronised, else RTT */
	SLA_DELAY_OWD,        /* one-way only (not measured without sync) */
	SLA_DELAY_RTT,        /* round trip always */
};

/* Which delay variation a profile bounds. */
enum sla_dv_kind {
	SLA_DV_IPDV = 0,      /* |IPDV| percentile, RFC 3393 */
	SLA_DV_PDV,           /* delay quantile - minimum, RFC 5481 */
};

struct sla_name_list {
	unsigned n;
	char name[SLA_LIST_MAX][SLA_NAME_MAX];
};

/* Which links a profile (or a group) applies to. */
struct sla_match {
	struct sla_name_list probes;     /* probe (source centre) names */
	struct sla_name_list peers;      /* dst "ip:port", dst ip, or the
					  * peer centre's probe name */
	struct sla_name_list sessions;   /* session names */
	struct sla_name_list groups;     /* [group.NAME] names (profiles) */
};

/*
 * One SLA profile. A bound that is not set ("off" in config) is not
 * evaluated and shown as such.
 */
struct sla_profile {
	char name[SLA_NAME_MAX];
	uint64_t interval_ns;           /* delta-t, default 60 s */

	enum sla_delay_basis delay_basis;
	double delay_percentile;        /* 0 < p <= 100, e.g. 99 */
	bool delay_set;
	uint64_t delay_max_ns;          /* bound on one-way delay */
	uint64_t rtt_max_ns;            /* bound when RTT is used */

	bool loss_set;
	double loss_ratio_max;          /* 0 .. 1 */

	enum sla_dv_kind dv_kind;
	double dv_percentile;
	bool dv_set;
	uint64_t dv_max_ns;

	bool availability_set;
	double availability_min_pct;    /* percent, e.g. 99.99 */
	/* loss ratio over which a delta-t is unavailable (MEF 10.3 "C");
	 * defaults to loss_ratio_max; unset: every delta-t with data is
	 * available */
	bool unavail_loss_set;
	double unavail_loss_ratio;

	bool capacity_set;
	double capacity_min_bps;        /* layer-1 bits per second */
	struct sla_name_list capacity_sessions;  /* fnmatch patterns */

	/* largest error bound a delta-t may state and still be judged on
	 * delay and delay variation (max_error_ns: the records'
	 * rtt_error_ns or owd_error_ns, by the delay basis); 0: no limit */
	uint64_t max_error_ns;

	struct sla_match match;
};

struct sla_group {
	char name[SLA_NAME_MAX];
	struct sla_match match;         /* groups list unused */
};

struct sla_profile_set {
	unsigned n_profiles;
	struct sla_profile *profiles;   /* file order, matched first to last */
	struct sla_profile def;         /* [sla.default] or the built-in */
	bool def_from_config;
	unsigned n_groups;
	struct sla_group *groups;
};

/* The built-in default for this backbone: one-way delay p99 <= 1 ms,
 * loss ratio <= 1e-5, IPDV p99 <= 100 us, availability >= 99.99 %,
 * capacity >= 100 Gb/s, delta-t 1 minute. */
void sla_profile_builtin(struct sla_profile *p);

/*
 * Profile for a link: the first profile (file order) whose match lists
 * hold the probe, the session, the peer (dst, its host, or peer_name) or
 * a group holding one of those; else the default.
 */
const struct sla_profile *
sla_profile_for_link(const struct sla_profile_set *set, const char *probe,
		     const char *session, const char *dst,
		     const char *peer_name);

/* Host part of an "ip:port" or "[ip6]:port" address into buf. */
void sla_addr_host(const char *addr, char *buf, size_t len);

enum sla_metric {
	SLA_M_DELAY = 0,
	SLA_M_LOSS,
	SLA_M_DV,
	SLA_M_AVAILABILITY,
	SLA_M_CAPACITY,
	SLA_M_COUNT,
	/* violation-only kinds */
	SLA_M_UNAVAILABLE = SLA_M_COUNT,
	SLA_M_NO_DATA,
};

enum sla_status {
	SLA_PASS = 0,
	SLA_FAIL,
	SLA_NOT_MEASURED,     /* bound set, but nothing to measure it on */
	SLA_NOT_SET,          /* no bound in the profile */
};

const char *sla_metric_name(enum sla_metric m);   /* "delay", ... */
const char *sla_status_name(enum sla_status s);   /* "pass", ... */

struct sla_metric_result {
	enum sla_status status;
	double value;     /* ns (delay, dv), ratio (loss), percent
			   * (availability), bits/s (capacity) */
	double bound;     /* same unit */
};

/* One violating delta-t, or a run of delta-t without data. */
struct sla_violation {
	uint64_t start_ns;
	uint64_t end_ns;
	enum sla_metric metric;   /* DELAY, LOSS, DV, UNAVAILABLE, NO_DATA */
	double value;             /* unit as in sla_metric_result */
	double bound;
};

/*
 * One measurement-degraded delta-t: a record in it stated an error
 * bound (rtt_error_ns, or owd_error_ns on a one-way basis) over the
 * profile's max_error_ns, so its delay and delay variation are not
 * judged (neither a pass nor a violation); loss and availability are,
 * as they do not rest on timestamps.
 */
struct sla_degraded {
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t bound_ns;        /* the largest bound stated in it */
};

/* One point of the delay-over-time chart: delay percentiles over
 * [start_ns, end_ns) from the merged histogram (one delta-t, or several
 * when the period holds more delta-t than a chart can show). */
struct sla_chart_point {
	uint64_t start_ns;
	uint64_t end_ns;
	bool has_data;
	uint64_t p50_ns;
	uint64_t p99_ns;
};

struct sla_link_result {
	char probe[RECORD_NAME_MAX];
	char session[RECORD_NAME_MAX];
	char src[RECORD_ADDR_MAX];
	char dst[RECORD_ADDR_MAX];
	char peer[RECORD_NAME_MAX];     /* peer centre name, or dst host */
	const struct sla_profile *profile;

	uint64_t from_ns, to_ns, interval_ns;
	bool owd;                       /* delay basis used: one-way or RTT */
	uint64_t n_windows;             /* all delta-t of the period */
	uint64_t n_data;                /* delta-t with data */
	uint64_t n_available;           /* delta-t available */
	double coverage_pct;
	uint64_t records;
	uint64_t tx_pkts, rx_pkts, lost;

	/* period figures from the merged histograms (basis: owd or rtt);
	 * a one-way figure is the worse of the two directions */
	bool delay_present;
	uint64_t delay_min_ns, delay_p50_ns, delay_p99_ns, delay_max_ns;

	struct sla_metric_result m[SLA_M_COUNT];
	bool pass;                      /* no metric failed */
	bool capacity_from_session;     /* capacity from a capacity session */
	char capacity_session[RECORD_NAME_MAX];

	size_t n_violations;
	struct sla_violation *violations;
	bool violations_truncated;
	size_t n_chart;
	struct sla_chart_point *chart;

	/* Measurement quality. q: the figures of every record of the
	 * period merged (record.h; q.present when any stated them). Per
	 * delta-t with data: degraded (listed), or judged with its bound
	 * stated, or judged with none stated (n_unstated: no record of it
	 * stated quality, as from probes that do not; a delta-t where some
	 * did is judged by their largest bound, as its rollups cannot tell
	 * more). lost_host_suspect: packets lost in delta-t flagged
	 * host_loss_suspect, which the measuring host may have dropped
	 * itself (counted in lost too). */
	struct record_quality q;
	uint64_t n_unstated;
	uint64_t lost_host_suspect;
	size_t n_degraded;
	struct sla_degraded *degraded;
	bool degraded_truncated;
};

void sla_link_result_free(struct sla_link_result *res);

/*
 * Streaming evaluation of one link: begin, add its records in start_ns
 * order, end. owd: delay basis (decided from all records of the period,
 * see sla_delay_use_owd). capacity_bps: the link's capacity figure (< 0:
 * not measured). Records outside [from, to) are ignored.
 */
struct sla_link_eval;

int sla_eval_begin(struct sla_link_eval **out, const struct sla_profile *p,
		   uint64_t from_ns, uint64_t to_ns, bool owd,
		   double capacity_bps);
int sla_eval_add(struct sla_link_eval *ev, const struct interval_record *r);
/* Fills res (identity from the first record, or empty) and frees ev. */
int sla_eval_end(struct sla_link_eval *ev, struct sla_link_result *res);
void sla_eval_abort(struct sla_link_eval *ev);

/*
 * Per-minute figures mode, for a 1-minute delta-t over 1-minute rollups
 * (the same results as sla_eval_add of the rollups, without decoding a
 * histogram per minute). sla_profile_figs_ok: the profile's delta-t is
 * one minute and its percentiles are among store_fig_pct.
 * sla_eval_use_figs (right after sla_eval_begin; -ENOTSUP when the
 * profile does not qualify) switches ev to it; then:
 * - sla_eval_add_figs with every minute's figures in start_ns order
 *   (-EAGAIN when two fall in one window: use sla_eval_add instead);
 * - sla_eval_period_add with records whose histograms and counters
 *   cover every minute of [from, to) exactly once (1-minute rollups,
 *   hour rollups that are the exact merge of theirs), in any order;
 * - when sla_eval_chart_unit_ns(ev) is not 0 (chart points of several
 *   windows: point c covers [from + c * unit, from + (c + 1) * unit)),
 *   sla_eval_chart_add for each point in increasing c: records whose
 *   histograms merged (sign > 0) and taken out (sign < 0: minutes an
 *   added hour rollup holds but the point does not) give exactly the
 *   point's minutes. The point's minima and maxima come from the
 *   figures.
 */
bool sla_profile_figs_ok(const struct sla_profile *p);
int sla_eval_use_figs(struct sla_link_eval *ev);
int sla_eval_add_figs(struct sla_link_eval *ev,
		      const struct store_minute_figs *f);
uint64_t sla_eval_chart_unit_ns(const struct sla_link_eval *ev);
int sla_eval_chart_add(struct sla_link_eval *ev, uint64_t c,
		       const struct interval_record *r, int sign);
int sla_eval_period_add(struct sla_link_eval *ev,
			const struct interval_record *r);

/*
 * Delay basis for a profile: true (one-way) when the basis is OWD, or
 * AUTO and every record with delay data had synchronised clocks and
 * one-way histograms. n_synced / n_delay count those records.
 */
bool sla_delay_use_owd(const struct sla_profile *p, uint64_t n_synced,
		       uint64_t n_delay);
/* Whether a record has delay data, and synchronised one-way delay. */
bool sla_record_has_delay(const struct interval_record *r);
bool sla_record_has_owd(const struct interval_record *r);
/* Capacity figure of one record: layer-1 throughput when known,
 * else layer 2 (bits/s). */
double sla_record_capacity_bps(const struct interval_record *r);

/*
 * Evaluates one link from an array of its records (start_ns order) over
 * [from_ns, to_ns): basis and capacity (the maximum per-record figure)
 * from the records themselves. For tests and tools; report_generate
 * uses the streaming form. Returns 0 or a negative errno.
 */
int sla_evaluate(const struct sla_profile *p,
		 const struct interval_record *recs, size_t n,
		 uint64_t from_ns, uint64_t to_ns,
		 struct sla_link_result *res);

#endif
