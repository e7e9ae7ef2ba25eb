#!/usr/bin/env python3
"""Checks metroprobe interval records (schema metroprobe.interval.v1).

  check_records.py --records A.jsonl [--records B.jsonl] \
      --session NAME:PPS [--session ...] [--log probe.log ...] \
      [--no-loss] [--rtt-p50-max-ns N] [--min-full N]

Every line must be a JSON object with every required key of the schema;
(probe, session, start_ns) unique; per session the records must be
consecutive intervals whose counts add up, the full intervals must carry
the asked rate within 0.5 % (over all full intervals), and the totals must match the summary line
the probe logged at exit ("session NAME: sent N (seq 0..N-1), received M,
... reflector seq A..B").
"""
import argparse
import json
import re
import sys

REQUIRED = ["schema", "probe", "session", "src", "dst", "start_ns",
            "interval_ns", "tx_pkts", "tx_bytes", "rx_pkts", "rx_bytes",
            "lost", "lost_fwd", "lost_back", "reordered", "duplicates",
            "clock_synced", "rtt_ns", "owd_fwd_ns", "owd_back_ns", "ipdv_ns",
            "jitter_ns", "throughput_bps", "hist"]
COUNTS = ["start_ns", "interval_ns", "tx_pkts", "tx_bytes", "rx_pkts",
          "rx_bytes", "lost", "lost_fwd", "lost_back", "reordered",
          "duplicates", "jitter_ns"]
SUMMARY_KEYS = ["min", "mean", "p50", "p90", "p99", "p999", "max"]

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def check_record(r, where):
    for k in REQUIRED:
        if k not in r:
            fail("%s: missing key %r" % (where, k))
            return False
    if r["schema"] != "metroprobe.interval.v1":
        fail("%s: schema %r" % (where, r["schema"]))
    for k in COUNTS:
        if not isinstance(r[k], int) or r[k] < 0:
            fail("%s: %s = %r is not a non-negative integer" % (where, k, r[k]))
    if not isinstance(r["clock_synced"], bool):
        fail("%s: clock_synced not a boolean" % where)
    for k in ["rtt_ns", "owd_fwd_ns", "owd_back_ns", "ipdv_ns"]:
        v = r[k]
        if v is None:
            continue
        if not isinstance(v, dict) or sorted(v) != sorted(SUMMARY_KEYS):
            fail("%s: %s = %r is not a delay summary" % (where, k, v))
            continue
        if not v["min"] <= v["p50"] <= v["p90"] <= v["p99"] <= v["max"]:
            fail("%s: %s percentiles out of order: %r" % (where, k, v))
    if r["lost"] != r["lost_fwd"] + r["lost_back"]:
        fail("%s: lost %d != lost_fwd %d + lost_back %d" %
             (where, r["lost"], r["lost_fwd"], r["lost_back"]))
    if r["rx_pkts"] + r["lost"] != r["tx_pkts"]:
        fail("%s: rx_pkts %d + lost %d != tx_pkts %d" %
             (where, r["rx_pkts"], r["lost"], r["tx_pkts"]))
    if r["rx_pkts"] > 0 and r["rtt_ns"] is None:
        fail("%s: packets received but rtt_ns is null" % where)
    if not isinstance(r["hist"], dict):
        fail("%s: hist is not an object" % where)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", action="append", required=True)
    ap.add_argument("--session", action="append", default=[])
    ap.add_argument("--log", action="append", default=[])
    ap.add_argument("--no-loss", action="store_true")
    ap.add_argument("--rtt-p50-max-ns", type=int, default=0)
    ap.add_argument("--min-full", type=int, default=1)
    a = ap.parse_args()

    records = []
    for path in a.records:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                where = "%s:%d" % (path, n)
                try:
                    r = json.loads(line)
                except ValueError as e:
                    fail("%s: not JSON: %s" % (where, e))
                    continue
                if check_record(r, where):
                    records.append((where, r))

    keys = set()
    for where, r in records:
        k = (r["probe"], r["session"], r["start_ns"])
        if k in keys:
            fail("%s: duplicate record key %r" % (where, k))
        keys.add(k)

    summaries = {}
    for path in a.log:
        with open(path) as f:
            for line in f:
                m = re.search(r"session (\S+): sent (\d+) \(seq 0\.\.(\d+)\), "
                              r"received (\d+), lost (\d+), duplicates (\d+), "
                              r"late (\d+), reflector seq (\d+)\.\.(\d+)", line)
                if m:
                    summaries[m.group(1)] = [int(x) for x in m.groups()[1:]]

    totals = {}
    for spec in a.session:
        name, pps = spec.split(":")
        pps = float(pps)
        recs = sorted((r for _, r in records if r["session"] == name),
                      key=lambda r: r["start_ns"])
        if len(recs) < a.min_full + 2:
            fail("session %s: %d records, expected at least %d" %
                 (name, len(recs), a.min_full + 2))
            continue
        for prev, cur in zip(recs, recs[1:]):
            if cur["start_ns"] != prev["start_ns"] + prev["interval_ns"]:
                fail("session %s: records not consecutive at %d" %
                     (name, cur["start_ns"]))
        tx = sum(r["tx_pkts"] for r in recs)
        rx = sum(r["rx_pkts"] for r in recs)
        lost = sum(r["lost"] for r in recs)
        totals[name] = tx / pps   # seconds of sending
        # full intervals (not the first or the last): the asked rate, over
        # all of them (deadline pacing catches up after the scheduler held
        # the process; on a quiet machine each interval is exact)
        full = recs[1:-1]
        want = sum(pps * r["interval_ns"] / 1e9 for r in full)
        got = sum(r["tx_pkts"] for r in full)
        tol = max(2.0, 0.005 * want)
        # packets held back at the end of the last full interval go out at
        # the start of the next one
        if full and (got > want + tol or
                     got + recs[-1]["tx_pkts"] < want - tol):
            fail("session %s: %d packets in %d full intervals, asked %.1f "
                 "(per interval %s)" % (name, got, len(full), want,
                                        [r["tx_pkts"] for r in full]))
        if a.no_loss:
            for r in recs:
                if r["lost"] or r["duplicates"] or r["reordered"]:
                    fail("session %s: loss/dup/reorder in %r" %
                         (name, {k: r[k] for k in ("start_ns", "lost",
                          "duplicates", "reordered")}))
        if a.rtt_p50_max_ns:
            for r in recs:
                if r["rx_pkts"] and r["rtt_ns"]["p50"] >= a.rtt_p50_max_ns:
                    fail("session %s: RTT p50 %d ns >= %d ns" %
                         (name, r["rtt_ns"]["p50"], a.rtt_p50_max_ns))
        if a.log:
            s = summaries.get(name)
            if s is None:
                fail("session %s: no summary line in the log" % name)
            else:
                sent, last_seq, received, slost, dup, late, r0, r1 = s
                if sent != tx or last_seq != tx - 1:
                    fail("session %s: log says sent %d (seq 0..%d), records "
                         "say %d" % (name, sent, last_seq, tx))
                if received != rx or slost != lost:
                    fail("session %s: log says received %d lost %d, records "
                         "%d %d" % (name, received, slost, rx, lost))
                if a.no_loss and (r0 != 0 or r1 != received - 1):
                    fail("session %s: reflector seq %d..%d for %d received"
                         % (name, r0, r1, received))
        print("session %s: %d records, tx %d, rx %d, lost %d, RTT p50 %s ns"
              % (name, len(recs), tx, rx, lost,
                 sorted(r["rtt_ns"]["p50"] for r in recs if r["rtt_ns"])))
    if len(totals) >= 2:
        v = list(totals.values())
        if max(v) > 1.1 * min(v) + 0.1:
            fail("directions disagree: %r" % totals)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("records OK: %d records" % len(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
