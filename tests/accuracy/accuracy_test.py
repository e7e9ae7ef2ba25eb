#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Accuracy of the probe against ground truth: probe A in one
network namespace sends a STAMP session through linkem (the project's link
emulator, in a second namespace) to probe B (a stateful reflector, in a
third namespace):

  nsA: metroprobe on va -- la [nsL: linkem] lb -- vb :nsB metroprobe

linkem impairs each direction with a seed and logs what it did to every
test packet. The probe's interval records are compared with what that log
says really happened: counts exactly, per interval; delays and delay
variation over the run, within the issue's bounds.

  accuracy_test.py CASE          CASE: see CASES at the bottom

Every case runs with the probes told that DPDK's nominal TSC rate is
1 500 ppm off (tsc_nominal_ppm; ACCURACY_TSC_PPM to change), as on hosts
where it is: the start-up calibration must make that irrelevant. A case
named *_loaded runs the same with a CPU hog on each core (linkem keeps
its real-time priority, so the ground truth holds): every interval's
error against the truth must then stay within the error bound the
record states (owd_error_ns, rtt_error_ns) plus the case's tolerance.

Environment: METROPROBE and LINKEM (the binaries; meson sets both),
ACCURACY_FIGURES (optional: a file to append one JSON line of figures to),
ACCURACY_KEEP=1 (keep the scratch directory), ACCURACY_TSC_PPM.
Exit 0 pass, 1 fail, 77 skip (not root, or a gap in the probe that makes
a case impossible: the message says which).
"""
import csv
import ctypes
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import mpnet  # noqa: E402  (tests/lib/mpnet.py)
from mphist import Hist, exact_quantile, merged  # noqa: E402,F401
import mpclock  # noqa: E402

ADDR_A = "10.98.0.1"
ADDR_B = "10.98.0.2"
SPORT = 50000          # the session's source port (probe default)
STAMP = 862
SSID = 1               # the probe's default SSID of its first session
MOD = 1 << 32


# Fail: a case failed; Retry: most likely the machine, not the code under
# test (a program did not come up or go down in time, starved of CPU by
# real-time tasks): tried again, and a program that never does fails
# every attempt.
Fail, Retry = mpnet.Fail, mpnet.Retry


class Skip(Exception):
    pass


failures = []


def check(cond, msg, kind="exact"):
    """A failed check is recorded and the case goes on, so one run shows
    every figure that is wrong. kind: "exact" (a count: must hold whatever
    the machine does), "timing" (a delay figure: a machine busy with other
    work, e.g. a real-time task holding a probe's core for milliseconds,
    can spoil one run) or "env" (the virtual wire itself misbehaved)."""
    if cond:
        print("  ok: " + msg)
    else:
        print("  FAIL%s: %s" % ("" if kind == "exact" else " (" + kind + ")",
                                msg))
        failures.append((kind, msg))


# ---- three namespaces, linkem, two probes ----

class Topology(mpnet.Net):
    def __init__(self, metroprobe, linkem):
        super().__init__("acc", "ALB", "accuracy", keep_env="ACCURACY_KEEP")
        self.metroprobe = metroprobe
        self.linkem = linkem
        self.runs = 0

    def up(self):
        super().up()
        self.veth("A", "va", "L", "la")
        self.veth("B", "vb", "L", "lb")

    def run(self, ab, ba, pps, secs, loss_timeout="1s", frame=128):
        """One run: linkem with these specs, probe B reflecting, probe A
        sending pps for secs seconds. Returns (records of A, linkem log,
        linkem totals, names of the run's files)."""
        self.kill_left()
        self.runs += 1
        n = "run%d" % self.runs
        RUN["pps"] = pps
        lk = {k: self.path("%s-linkem.%s" % (n, k))
              for k in ("csv", "json", "txt")}
        # As in linkem's own tests: real-time priority on its own lcore,
        # so a loaded machine does not make departures late; it sleeps
        # when idle. SCHED_FIFO 2, one above linkem's own tests and the
        # demo: a SCHED_FIFO task of equal priority that polls without
        # sleeping would otherwise keep this one off the core for good.
        prio = os.environ.get("ACCURACY_RT_PRIO", "2")
        rt = prio if os.environ.get("LINKEM_TEST_RT", "1") == "1" else None
        lkp = self.spawn("L", self.linkem_cmd(
            self.linkem, "l%d" % self.runs, "la", "lb",
            ["--log", lk["csv"], "--stats", lk["json"],
             "--max-pps", str(max(2 * pps, 10000))] +
            (["--ab", ab] if ab else []) + (["--ba", ba] if ba else []),
            rt_prio=rt), lk["txt"])
        self.wait_text(lkp, lk["txt"], "forwarding on lcore", "linkem",
                       on_timeout=Retry)

        # Both probes on lcore 0 (linkem has lcore 1), one clock
        # (CLOCK_REALTIME of this machine): synchronised by construction,
        # so both set the S bit and one-way delays are reported.
        common = ["--interval", "1s", "--loss-timeout", loss_timeout,
                  "--idle-sleep-us", "20", "--clock-synced", "true",
                  "--mbufs", "8191", "--tsc-nominal-ppm",
                  os.environ.get("ACCURACY_TSC_PPM", "1500")]
        hogs = start_hogs() if RUN.get("loaded") else []
        b_out = self.path("%s-b.log" % n)
        bp = self.spawn("B", self.probe_cmd(
            self.metroprobe, n + "b", RUN.get("b_lcore", 0), "vb",
            ["--port", "name=centre-b,device=net_af_packet0,"
             "ipv4=%s/24" % ADDR_B,
             "--records", self.path("%s-b.jsonl" % n)] + common), b_out)
        self.wait_text(bp, b_out, "single lcore", "probe B",
                       on_timeout=Retry)
        a_out = self.path("%s-a.log" % n)
        a_rec = self.path("%s-a.jsonl" % n)
        ap = self.spawn("A", self.probe_cmd(
            self.metroprobe, n + "a", 0, "va",
            ["--port", "name=centre-a,device=net_af_packet0,"
             "ipv4=%s/24" % ADDR_A,
             "--session", "name=a-to-b,port=centre-a,peer=%s,"
             "rate_pps=%d,frame_size=%d%s" % (ADDR_B, pps, frame,
                                              SESSION_EXTRA),
             "--run-time", "%ds" % secs,
             "--records", a_rec] + common), a_out)
        during = RUN.get("during")
        if during is not None:
            during(ap)
        try:
            rc = ap.wait(timeout=secs + 60)
        except subprocess.TimeoutExpired:
            raise Retry("probe A did not stop after --run-time")
        finally:
            stop_hogs(hogs)
        rcb = mpnet.stop(bp, signal.SIGINT, "probe B", timeout=60,
                         on_timeout=Retry)
        rcl = mpnet.stop(lkp, signal.SIGTERM, "linkem", timeout=60,
                         on_timeout=Retry)
        for what, code, out in (("probe A", rc, a_out), ("probe B", rcb,
                                b_out), ("linkem", rcl, lk["txt"])):
            if code != 0:
                with open(out) as f:
                    raise Fail("%s exited %d:\n%s" % (what, code, f.read()))
        with open(a_out) as f:
            for line in f:
                if "session a-to-b" in line or "hardware rx" in line or \
                        "clock:" in line:
                    print("  probe A: " + line.strip().split(": ", 2)[-1])
        with open(a_rec) as f:
            recs = [json.loads(line) for line in f]
        if sum(r["tx_pkts"] for r in recs) == 0:
            raise Retry("probe A sent nothing: its neighbour never "
                        "resolved through linkem (linkem starved of CPU?)")
        recs = sorted((r for r in recs if r["session"] == "a-to-b"),
                      key=lambda r: r["start_ns"])
        with open(lk["csv"]) as f:
            log = list(csv.DictReader(f))
        with open(lk["json"]) as f:
            stats = json.load(f)
        return recs, log, stats


def start_hogs():
    """A busy loop on each core (plain priority, like the probes)."""
    return [subprocess.Popen(["taskset", "-c", str(c), "sh", "-c",
                              "while :; do :; done"])
            for c in range(os.cpu_count() or 2)]


def stop_hogs(hogs):
    for h in hogs:
        h.kill()
        h.wait()


# ---- ground truth: what the probe must have seen, from linkem's log ----

def spent(row):
    """The time a packet really spent in linkem: the delay it applied
    (delay_ns, on its TSC clock) plus how late it actually left
    (tx_ns - depart_ns: under a microsecond at p50, but a departure can be
    milliseconds late when another real-time task holds linkem's core)."""
    return int(row["delay_ns"]) + int(row["tx_ns"]) - int(row["depart_ns"])


class Truth:
    """Replays linkem's log through the probe's definitions.

    Sender packets cross `ab`; probe B reflects every one it gets (a
    duplicate too, with its own reflector seq); reflector packets cross
    `ba`, and probe A receives the forwarded ones in the order linkem sent
    them (the log is written at departure). On that arrival sequence:
    RFC 4737 reordering (below the next expected = highest + 1), RFC 5560
    duplicates, RFC 7680 loss split by where the packet was dropped, and
    the time the packets spent in linkem (see spent()): forward from the
    `ab` line, backward from the `ba` line of the first copy back, IPDV
    (RFC 3393) between packets arriving one after the other with
    consecutive sequence numbers, and the RFC 3550 jitter estimate, as
    delay.h defines them. Per interval by the sender's sequence number,
    as the probe does.
    """

    def __init__(self, log, records, first_seq=0):
        self.first = first_seq
        flow_s = "%s:%d>%s:%d" % (ADDR_A, SPORT, ADDR_B, STAMP)
        flow_r = "%s:%d>%s:%d" % (ADDR_B, STAMP, ADDR_A, SPORT)
        self.ab = [r for r in log if r["dir"] == "ab" and r["kind"] == "s"
                   and r["flow"] == flow_s]
        self.ba = [r for r in log if r["dir"] == "ba" and r["kind"] == "r"
                   and r["flow"] == flow_r]
        # sender seqs as offsets from the first (serial arithmetic)
        orig = [r for r in self.ab if r["copy"] == "0"]
        self.n_sent = len(orig)
        self.ab_row = {}
        for r in orig:
            self.ab_row[self.off(r["seq"])] = r
        self.contiguous = sorted(self.ab_row) == list(range(self.n_sent))
        self.fwd_dropped = {k for k, r in self.ab_row.items()
                            if r["fate"] == "drop"}
        # Forwarded by linkem but never reflected: lost on the way to
        # probe B all the same (a full af_packet ring when the machine
        # stalls probe B). The probe is right to call it forward loss;
        # check_path reports the wire's failure.
        reflected = {self.off(r["sender_seq"]) for r in self.ba}
        self.fwd_lost_after_linkem = {
            k for k, r in self.ab_row.items()
            if r["fate"] == "fwd" and k not in reflected}
        self.linkem_fwd_dropped = len(self.fwd_dropped)
        self.fwd_dropped |= self.fwd_lost_after_linkem
        self.ab_forwarded = sum(1 for r in self.ab if r["fate"] == "fwd")
        self.ab_dups = sum(1 for r in self.ab if r["copy"] == "1" and
                           r["fate"] == "fwd")
        self.ab_reordered = sum(1 for r in self.ab if r["reordered"] == "1")
        self.ba_reflections = len({r["seq"] for r in self.ba})
        self.ba_dropped = sum(1 for r in self.ba if r["fate"] == "drop")
        self.ba_dups = sum(1 for r in self.ba if r["copy"] == "1" and
                           r["fate"] == "fwd")
        self.ba_reordered = sum(1 for r in self.ba if r["reordered"] == "1")

        # interval slots: consecutive sender seqs, tx_pkts of each record
        self.slot_lo = []
        lo = 0
        for rec in records:
            self.slot_lo.append(lo)
            lo += rec["tx_pkts"]
        self.n_slots = len(records)
        def z():
            return [0] * self.n_slots
        self.tx, self.rx, self.rx_bytes = z(), z(), z()
        self.tx_bytes, self.late = z(), z()
        self.dups, self.reordered = z(), z()
        self.lost, self.lost_fwd, self.lost_back = z(), z(), z()
        self.jitter = z()
        for k, r in self.ab_row.items():
            self.tx[self.slot(k)] += 1
            self.tx_bytes[self.slot(k)] += int(r["len"]) + 4   # + FCS

        seen, nxt = set(), None
        self.fwd_delay, self.back_delay, self.rtt = [], [], []
        self.ipdv = []
        self.by_slot = [[] for _ in range(self.n_slots)]
        self.applied = []        # delay_ns alone, forward
        self.ipdv_applied = []
        prev_fwd, prev_seq, q4 = None, None, 0
        for r in self.ba:
            if r["fate"] != "fwd":
                continue
            k = self.off(r["sender_seq"])
            sl = self.slot(k)
            if k in seen:
                self.dups[sl] += 1
                continue
            seen.add(k)
            if nxt is not None and k < nxt:
                self.reordered[sl] += 1
            else:
                nxt = k + 1
            self.rx[sl] += 1
            self.rx_bytes[sl] += int(r["len"]) + 4      # + FCS
            fwd = spent(self.ab_row[k])
            back = spent(r)
            self.applied.append(int(self.ab_row[k]["delay_ns"]))
            self.by_slot[sl].append((fwd, back))
            self.fwd_delay.append(fwd)
            self.back_delay.append(back)
            self.rtt.append(fwd + back)
            if prev_fwd is not None:
                ad = abs(fwd - prev_fwd)
                if k == prev_seq + 1:
                    self.ipdv.append(ad)
                    self.ipdv_applied.append(abs(self.applied[-1] -
                                                 self.applied[-2]))
                q4 += ad - ((q4 + 8) >> 4)
            prev_fwd, prev_seq = fwd, k
            self.jitter[sl] = q4 >> 4
        self.seen = seen

        # loss: dropped on ab = forward; through ab but no reflection back
        # = backward. After the last sender seq that came back nothing
        # tells the two apart (DESIGN: that tail counts forward).
        last = max(seen) if seen else -1
        self.tail_back = 0
        for k in range(self.n_sent):
            if k in seen:
                continue
            sl = self.slot(k)
            self.lost[sl] += 1
            if k in self.fwd_dropped or k > last:
                self.lost_fwd[sl] += 1
                if k not in self.fwd_dropped:
                    self.tail_back += 1
            else:
                self.lost_back[sl] += 1
        self.true_fwd = len(self.fwd_dropped)
        self.true_back = sum(self.lost) - self.true_fwd

        # Which sequence numbers the split can place per interval: in a
        # gap between two sender seqs that came back, the reflector's seq
        # says how many were lost forward, not which. A gap that holds
        # both kinds and crosses an interval boundary makes the split of
        # those two intervals a convention: they are compared only summed.
        self.ambiguous = set()
        ret = sorted(seen)
        for a, b in zip(ret, ret[1:]):
            if b - a < 2:
                continue
            gap = range(a + 1, b)
            kinds = {k in self.fwd_dropped for k in gap}
            slots = {self.slot(k) for k in gap}
            if len(kinds) == 2 and len(slots) > 1:
                self.ambiguous |= slots

    def off(self, seq):
        return (int(seq) - self.first) % MOD

    def slot(self, k):
        lo, hi = 0, self.n_slots - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.slot_lo[mid] <= k:
                lo = mid
            else:
                hi = mid - 1
        return lo


def check_path(t, recs, stats):
    """What must hold before figures mean anything: linkem saw every
    packet the probe sent, probe B reflected every packet linkem let
    through, nothing left unsent."""
    tx = sum(r["tx_pkts"] for r in recs)
    check(t.n_sent == tx and t.contiguous,
          "linkem saw every sender packet once (%d, probe sent %d)" %
          (t.n_sent, tx), "env")
    check(t.ba_reflections == t.ab_forwarded,
          "probe B reflected every packet linkem forwarded (%d of %d)" %
          (t.ba_reflections, t.ab_forwarded), "env")
    # A stall of a probe by the machine (other work on its core) delays
    # packets outside linkem, where the truth cannot see them; one near
    # the loss timeout (1 s) turns received packets into lost and late
    # ones. Probe B's turnaround: its reflection's arrival at linkem minus
    # the departure of the sender packet towards it.
    tx_ab = {k: int(r["tx_ns"]) for k, r in t.ab_row.items()
             if r["fate"] == "fwd"}
    turn = [int(r["arrival_ns"]) - tx_ab[t.off(r["sender_seq"])]
            for r in t.ba if r["copy"] == "0" and
            t.off(r["sender_seq"]) in tx_ab]
    for d in ("ab", "ba"):
        check(stats[d]["unsent_at_exit"] == 0 and stats[d]["tx_fail"] == 0
              and stats[d]["drop_pool"] == 0,
              "%s: linkem sent everything it meant to" % d, "env")
    # How steadily sender packets reached linkem: arrival minus the
    # sender's schedule (seq / rate), less its minimum. Spread here is the
    # machine's (scheduling of probe A, af_packet, linkem's wake-ups), not
    # linkem's and not in the truth; it shows in the probe's figures.
    period = 1e9 / RUN["pps"]
    ex = [int(r["arrival_ns"]) - k * period for k, r in t.ab_row.items()]
    if ex:
        m = min(ex)
        ex = [x - m for x in ex]
        print("  path A -> linkem, arrival behind schedule: p50 %.1f us, "
              "p99 %.1f us, max %.1f us" % (exact_quantile(ex, 0.5) / 1e3,
                                            exact_quantile(ex, 0.99) / 1e3,
                                            max(ex) / 1e3))
    if turn:
        print("  probe B turnaround (linkem -> B -> linkem): p50 %.1f us, "
              "p99 %.1f us, max %.1f us" % (exact_quantile(turn, 0.5) / 1e3,
                                            exact_quantile(turn, 0.99) / 1e3,
                                            max(turn) / 1e3))
    stall = max(ex + turn + [0])
    check(stall < 200e6, "no stall of the probes longer than 200 ms "
          "(longest %.1f ms)" % (stall / 1e6), "env")
    late = [int(r["tx_ns"]) - int(r["depart_ns"]) for r in t.ab + t.ba
            if r["fate"] == "fwd"]
    if late:
        print("  linkem departure lateness p50 %.1f us, p99 %.1f us, "
              "max %.1f us" % (exact_quantile(late, 0.5) / 1e3,
                               exact_quantile(late, 0.99) / 1e3,
                               max(late) / 1e3))


def check_counts(t, recs, what=""):
    """Every count of every interval equals the truth (loss split: see
    Truth.ambiguous and the tail)."""
    names = ("tx_pkts", "tx_bytes", "rx_pkts", "rx_bytes", "lost",
             "duplicates", "reordered", "late")
    # late: nothing here is delayed past the loss timeout
    want = (t.tx, t.tx_bytes, t.rx, t.rx_bytes, t.lost, t.dups,
            t.reordered, t.late)
    bad = []
    for i, r in enumerate(recs):
        for name, w in zip(names, want):
            if r.get(name, w[i]) != w[i]:
                bad.append("interval %d %s: probe %d, truth %d" %
                           (i, name, r[name], w[i]))
        if i not in t.ambiguous:
            for name, w in (("lost_fwd", t.lost_fwd),
                            ("lost_back", t.lost_back)):
                if r[name] != w[i]:
                    bad.append("interval %d %s: probe %d, truth %d" %
                               (i, name, r[name], w[i]))
        # throughput: the received bytes over the interval (L2 with FCS,
        # and with 20 octets of preamble and gap per frame)
        secs = r["interval_ns"] / 1e9
        for key, bits in (("throughput_bps", w_bits(t, i, 0)),
                          ("throughput_l1_bps", w_bits(t, i, 20))):
            if key in r and abs(r[key] - bits / secs) > 1e-6 * bits / secs:
                bad.append("interval %d %s: probe %.1f, truth %.1f" %
                           (i, key, r[key], bits / secs))
    # this test's reading of the histograms agrees with the probe's own
    # summaries (so merged percentiles below are the probe's)
    for i, r in enumerate(recs):
        for key in ("rtt", "owd_fwd", "owd_back", "ipdv"):
            b64 = r["hist"].get(key)
            if not b64:
                continue
            h, summ = Hist.decode(b64), r[key + "_ns"]
            mine = {"min": h.min, "max": h.max, "p50": h.quantile(0.5),
                    "p90": h.quantile(0.9), "p99": h.quantile(0.99),
                    "p999": h.quantile(0.999), "mean": h.sum // h.count}
            if summ is None or any(summ[k] != v for k, v in mine.items()):
                bad.append("interval %d %s: summary %r, histogram %r" %
                           (i, key, summ, mine))
    # every histogram's count agrees with rx_pkts and the documented
    # exclusions (record.h, struct record_quality)
    for i, r in enumerate(recs):
        n = r["rx_pkts"] - r.get("rtt_negative", 0) - \
            r.get("step_excluded", 0)
        want = {"rtt": n}
        if r["clock_synced"]:
            want["owd_fwd"] = n - r.get("owd_fwd_negative", 0)
            want["owd_back"] = n - r.get("owd_back_negative", 0)
        for key, w in want.items():
            b64 = r["hist"].get(key)
            got = Hist.decode(b64).count if b64 else 0
            if got != w:
                bad.append("interval %d %s histogram holds %d samples, "
                           "rx_pkts and exclusions say %d" % (i, key, got, w))
    for b in bad:
        print("    " + b)
    check(not bad, "%severy interval's counts equal the truth (%d "
          "intervals%s)" % (what, len(recs), ", split of %s summed" %
                            sorted(t.ambiguous) if t.ambiguous else ""))
    amb = sorted(t.ambiguous)
    if amb:
        pf = sum(recs[i]["lost_fwd"] for i in amb)
        tf = sum(t.lost_fwd[i] for i in amb)
        check(pf == tf, "forward loss of intervals %s summed: probe %d, "
              "truth %d" % (amb, pf, tf))
    tot = {k: sum(r[k] for r in recs) for k in
           ("lost", "lost_fwd", "lost_back", "duplicates", "reordered")}
    print("  totals: probe lost %d (fwd %d, back %d), dup %d, reordered "
          "%d; truth lost %d (fwd %d + tail %d, back %d), dup %d, "
          "reordered %d" % (tot["lost"], tot["lost_fwd"], tot["lost_back"],
                            tot["duplicates"], tot["reordered"],
                            sum(t.lost), t.true_fwd, t.tail_back,
                            t.true_back - t.tail_back, sum(t.dups),
                            sum(t.reordered)))
    return tot


def w_bits(t, i, per_frame):
    return 8 * (t.rx_bytes[i] + per_frame * t.rx[i])


def figures(case, **kw):
    if RUN.get("loaded"):
        case += "_loaded"
    out = os.environ.get("ACCURACY_FIGURES")
    kw["case"] = case
    kw.update(FIGURE_TAGS)
    print("FIGURES " + json.dumps(kw, sort_keys=True))
    if out:
        with open(out, "a") as f:
            f.write(json.dumps(kw, sort_keys=True) + "\n")


# ---- the cases ----

def bound_of(r, key):
    """The error bound a record states for a delay figure."""
    return r.get("rtt_error_ns" if key == "rtt" else "owd_error_ns")


def bounds_figures(fig, key, recs):
    """Median and largest stated bound of a run, in us, into fig."""
    b = sorted(bound_of(r, key) or 0 for r in recs if r["rx_pkts"])
    if b:
        fig["%s_bound_median_us" % key] = round(b[len(b) // 2] / 1e3, 1)
        fig["%s_bound_max_us" % key] = round(b[-1] / 1e3, 1)


def case_delay(topo):
    """Fixed delay, 2 ms forward and 5 ms backward: the one-way delays
    and the RTT (p50 over the run) minus a baseline measured without
    impairment in the same test, against the applied delays; within
    50 us, over the run and in every interval (loaded: 50 us plus the
    bounds the interval and the baseline state)."""
    res = {}
    for name, ab, ba in (("base", "delay=0ns", "delay=0ns"),
                         ("delay", "delay=2ms", "delay=5ms")):
        print("run %s: ab %s, ba %s" % (name, ab, ba))
        recs, log, stats = topo.run(ab, ba, pps=2000, secs=3)
        t = Truth(log, recs)
        check_path(t, recs, stats)
        check_counts(t, recs)
        check(all(r["clock_synced"] for r in recs if r["rx_pkts"]),
              "records say clocks synchronised (one-way delays present)")
        check(all(bound_of(r, "rtt") is not None and
                  bound_of(r, "owd_fwd") is not None for r in recs),
              "every record states its error bounds")
        res[name] = (recs, t)
    fig = {}
    for key, truth_of in (("owd_fwd", lambda t: t.fwd_delay),
                          ("owd_back", lambda t: t.back_delay),
                          ("rtt", lambda t: t.rtt)):
        (rb, tb), (rd, td) = res["base"], res["delay"]
        hb, hd = merged(rb, key), merged(rd, key)
        for stat, qf in (("p50", lambda h: h.quantile(0.5)),
                         ("mean", lambda h: h.sum / h.count)):
            tq = (lambda xs: exact_quantile(xs, 0.5)) if stat == "p50" \
                else (lambda xs: sum(xs) / len(xs))
            probe = qf(hd) - qf(hb)
            truth = tq(truth_of(td)) - tq(truth_of(tb))
            err = probe - truth
            fig["%s_%s_err_us" % (key, stat)] = round(err / 1e3, 1)
            print("  %s %s: probe %.1f us - baseline %.1f us = %.1f us; "
                  "truth %.1f us; error %+.1f us" %
                  (key, stat, qf(hd) / 1e3, qf(hb) / 1e3, probe / 1e3,
                   truth / 1e3, err / 1e3))
            # loaded: a p50 is off by at most the largest bound of its
            # run, and the difference by the two runs' together
            base_bnd = max(bound_of(r, key) or 0 for r in rb)
            run_bnd = max(bound_of(r, key) or 0 for r in rd)
            tol = 50000 + (base_bnd + run_bnd if RUN.get("loaded") else 0)
            if stat == "p50":
                check(abs(err) <= tol, "%s p50 within %.1f us of the "
                      "truth (%+.1f us)" % (key, tol / 1e3, err / 1e3),
                      "timing")
        fig["%s_baseline_p50_us" % key] = round(hb.quantile(0.5) / 1e3, 1)
        bounds_figures(fig, key, rd)
        # the same, interval by interval (the baseline over its whole run)
        worst, outside = 0, []
        tbase = exact_quantile(truth_of(tb), 0.5)
        for i, r in enumerate(rd):
            if r["rx_pkts"] < 100:
                continue
            xs = [f if key == "owd_fwd" else b if key == "owd_back"
                  else f + b for f, b in td.by_slot[i]]
            err = (r[key + "_ns"]["p50"] - hb.quantile(0.5)) - \
                (exact_quantile(xs, 0.5) - tbase)
            worst = err if abs(err) > abs(worst) else worst
            tol = 50000 + (bound_of(r, key) + base_bnd
                           if RUN.get("loaded") else 0)
            if abs(err) > tol:
                outside.append("interval %d: %+.1f us, allowed %.1f us" %
                               (i, err / 1e3, tol / 1e3))
        fig["%s_p50_worst_interval_err_us" % key] = round(worst / 1e3, 1)
        check(not outside, "%s p50 of every interval within 50 us%s "
              "(worst %+.1f us)%s" % (
                  key, " plus its stated bound" if RUN.get("loaded")
                  else "", worst / 1e3, "; " + "; ".join(outside)
                  if outside else ""), "timing")
    figures("delay", **fig)


def loss_case(topo, name, ab, ba, pps=2000, secs=4):
    print("run: ab %s, ba %s" % (ab, ba))
    recs, log, stats = topo.run(ab, ba, pps=pps, secs=secs)
    t = Truth(log, recs)
    check_path(t, recs, stats)
    tot = check_counts(t, recs)
    check(t.true_fwd > 0 and t.true_back > 0,
          "linkem dropped in both directions (fwd %d, back %d)" %
          (t.true_fwd, t.true_back))
    check(tot["lost_fwd"] == t.true_fwd + t.tail_back and
          tot["lost_back"] == t.true_back - t.tail_back,
          "loss split: probe fwd %d back %d; linkem ab drops %d (+%d lost "
          "after linkem), ba drops %d (of which %d after the last packet "
          "back, counted forward)" %
          (tot["lost_fwd"], tot["lost_back"], t.linkem_fwd_dropped,
           len(t.fwd_lost_after_linkem), t.ba_dropped, t.tail_back))
    figures(name, lost_fwd_probe=tot["lost_fwd"], lost_fwd_truth=t.true_fwd,
            lost_back_probe=tot["lost_back"], lost_back_truth=t.true_back,
            tail=t.tail_back, intervals=len(recs),
            ambiguous_intervals=len(t.ambiguous), sent=t.n_sent)
    return t


def case_loss(topo):
    """Bernoulli loss, 3 % forward and 5 % backward."""
    loss_case(topo, "loss", "loss=0.03,seed=11", "loss=0.05,seed=12")


def case_loss_heavy(topo):
    """Heavy Bernoulli loss, 30 % each way: losses at the start (before
    the first packet back), gaps that hold both kinds across interval
    boundaries, and a lost tail."""
    seed = int(os.environ.get("ACCURACY_SEED", "0")) or 7
    t = loss_case(topo, "loss_heavy", "loss=0.3,seed=%d" % seed,
                  "loss=0.3,seed=%d" % (seed + 1), pps=1000, secs=4)
    first = min(t.seen) if t.seen else None
    n0 = len([k for k in t.fwd_dropped if k < (first or 0)])
    # linkem's decisions depend only on the seed and the packet's index:
    # with seed 7, sender seq 0 is lost forward
    check(n0 > 0, "covers forward loss before the first packet back "
          "(first back: seq %s, %d lost forward before it)" % (first, n0))


def burst_lengths(lost):
    runs, prev = [], None
    for k in sorted(lost):
        if prev is not None and k == prev + 1:
            runs[-1] += 1
        else:
            runs.append(1)
        prev = k
    return runs


def case_ge(topo):
    """Gilbert-Elliott burst loss both ways: mean bursts of 4 forward
    (r = 0.25) and 5 backward (r = 0.2)."""
    t = loss_case(topo, "ge", "ge=0.01:0.25,seed=21",
                  "ge=0.008:0.2,seed=22")
    runs = burst_lengths(t.fwd_dropped)
    print("  forward: %d bursts, mean length %.2f" %
          (len(runs), sum(runs) / max(1, len(runs))))
    check(max(runs or [0]) >= 3, "bursts of several packets in a row")


def dupreorder_case(topo, name, d, spec, secs=4, pps=2000):
    """Duplication and reordering in one direction only: the probe's
    counts (which do not say the direction) equal that direction's counts
    in linkem's log, and per interval the replayed arrivals."""
    ab, ba = (spec, None) if d == "ab" else (None, spec)
    print("run: %s %s" % (d, spec))
    recs, log, stats = topo.run(ab, ba, pps=pps, secs=secs)
    t = Truth(log, recs)
    check_path(t, recs, stats)
    tot = check_counts(t, recs)
    ldup = t.ab_dups if d == "ab" else t.ba_dups
    lre = t.ab_reordered if d == "ab" else t.ba_reordered
    odup = t.ba_dups if d == "ab" else t.ab_dups
    ore = t.ba_reordered if d == "ab" else t.ab_reordered
    check(ldup > 0 and lre > 0 and odup == 0 and ore == 0,
          "linkem duplicated %d and reordered %d on %s, none the other way"
          % (ldup, lre, d))
    check(tot["duplicates"] == ldup, "duplicates: probe %d, linkem %s %d" %
          (tot["duplicates"], d, ldup))
    check(tot["reordered"] == lre, "reordered: probe %d, linkem %s %d" %
          (tot["reordered"], d, lre))
    check(tot["lost"] == 0, "nothing lost")
    figures(name, dup_probe=tot["duplicates"], dup_truth=ldup,
            reordered_probe=tot["reordered"], reordered_truth=lre,
            sent=t.n_sent)


def case_dupreorder_fwd(topo):
    """Forward only: 3 % duplicated, 10 % held back 3 ms."""
    dupreorder_case(topo, "dupreorder_fwd", "ab",
                    "dup=0.03,reorder=0.1:3ms,seed=31")


def case_dupreorder_back(topo):
    """Backward only: 3 % duplicated, 10 % held back 3 ms."""
    dupreorder_case(topo, "dupreorder_back", "ba",
                    "dup=0.03,reorder=0.1:3ms,seed=32")


def case_reorder_heavy(topo):
    """Heavy reordering both ways (40 % held 10 ms forward, 30 % held
    4 ms backward, at 2000 packets/s: packets overtaken by up to 20).
    The probe cannot be told its first sequence number, so sequence
    numbers start at 0 and do not wrap here: see case wrap."""
    print("run: heavy reordering")
    recs, log, stats = topo.run("reorder=0.4:10ms,seed=41",
                                "reorder=0.3:4ms,seed=42", pps=2000, secs=4)
    t = Truth(log, recs)
    check_path(t, recs, stats)
    tot = check_counts(t, recs)
    check(sum(t.reordered) > 0.2 * t.n_sent,
          "heavy: %d of %d arrived reordered" % (sum(t.reordered), t.n_sent))
    check(tot["reordered"] == sum(t.reordered) and tot["lost"] == 0 and
          tot["duplicates"] == 0,
          "reordered: probe %d, truth %d (linkem: ab %d, ba %d)" %
          (tot["reordered"], sum(t.reordered), t.ab_reordered,
           t.ba_reordered))
    figures("reorder_heavy", reordered_probe=tot["reordered"],
            reordered_truth=sum(t.reordered), ab_reordered=t.ab_reordered,
            ba_reordered=t.ba_reordered, sent=t.n_sent)


def case_wrap(topo):
    """Sequence numbers wrapping around 2^32 under heavy reordering.
    Needs the sender to start near 2^32 (a session key first_seq); at
    5000 packets/s a wrap from 0 takes ten days."""
    def accepts(extra):
        return subprocess.run(
            [topo.metroprobe, "--", "--check", "--port",
             "name=p,device=net_null0,ipv4=10.98.0.1/24", "--session",
             "name=s,port=p,peer=10.98.0.2" + extra],
            capture_output=True, text=True)
    r = accepts(",first_seq=4294965296")
    if r.returncode != 0:
        if accepts("").returncode != 0:
            raise Fail("metroprobe --check refuses a plain session")
        raise Skip("GAP: the probe has no option for the first sequence "
                   "number (session key first_seq: %s), so a wrap cannot "
                   "be reached in a test" %
                   (r.stderr.strip().splitlines() or ["?"])[-1])
    print("run: heavy reordering across the wrap")
    first = 4294965296           # 2^32 - 2000: wraps after 1 s
    global SESSION_EXTRA
    SESSION_EXTRA = ",first_seq=%d" % first
    recs, log, stats = topo.run("reorder=0.4:10ms,seed=51",
                                "reorder=0.3:4ms,seed=52", pps=2000, secs=4)
    t = Truth(log, recs, first_seq=first)
    check_path(t, recs, stats)
    tot = check_counts(t, recs)
    check(tot["reordered"] == sum(t.reordered) and tot["lost"] == 0,
          "across the wrap: reordered probe %d, truth %d, nothing lost" %
          (tot["reordered"], sum(t.reordered)))


def rel(a, b):
    return (a - b) / b if b else float("inf")


def jitter_case(topo, name, order, pps, seed, secs):
    """Uniform jitter of +-5 ms both ways on 10 ms: IPDV percentiles
    (forward) and PDV percentiles (quantile minus minimum, both ways) over
    the run within 5 % of the truth, and the RFC 3550 jitter at the end
    of each interval (median interval within 5 %)."""
    # Wide jitter: what the machine adds to a probe's timestamps (tens of
    # us, more when busy) stays small beside it.
    spec = "delay=10ms,jitter=uniform:5ms,order=%s,seed=%%d" % order
    print("run: ab and ba %s" % (spec % seed))
    recs, log, stats = topo.run(spec % seed, spec % (seed + 1), pps=pps,
                                secs=secs)
    t = Truth(log, recs)
    check_path(t, recs, stats)
    tot = check_counts(t, recs)
    fig = {}
    if order == "free":
        check(tot["reordered"] > 0, "order=free: %d arrived reordered" %
              tot["reordered"])
        fig["reordered"] = tot["reordered"]
    h = merged(recs, "ipdv")
    # IPDV between packets that arrive one after the other with
    # consecutive sequence numbers (delay.h): the same pairs
    check(h.count == len(t.ipdv), "IPDV samples: probe %d, truth %d (of "
          "%d packets back)" % (h.count, len(t.ipdv), len(t.fwd_delay)))
    fig["ipdv_samples"] = h.count
    # A difference of two one-way delays of one direction: the clock
    # offset cancels, each delay is off by at most the record's RTT bound
    # (its two software timestamps and the reflector's estimate), so a
    # percentile by at most twice the run's largest. Loaded: allowed on
    # top of the 5 %.
    slack = 2 * max(r.get("rtt_error_ns", 0) for r in recs) \
        if RUN.get("loaded") else 0
    bounds_figures(fig, "rtt", recs)
    for q in (0.5, 0.9, 0.99):
        p, w = h.quantile(q), exact_quantile(t.ipdv, q)
        e = rel(p, w)
        m = "ipdv_p%d" % round(q * 100)
        fig[m + "_err_pct"] = round(100 * e, 2)
        check(abs(p - w) <= 0.05 * w + slack, "%s: probe %.1f us, truth "
              "%.1f us (%+.2f %%; allowed 5 %% + %.1f us; from delay_ns "
              "alone %.1f us)" % (m, p / 1e3, w / 1e3, 100 * e, slack / 1e3,
                                  exact_quantile(t.ipdv_applied, q) / 1e3),
              "timing")
    for key, xs in (("owd_fwd", t.fwd_delay), ("owd_back", t.back_delay)):
        h = merged(recs, key)
        for q in (0.5, 0.9, 0.99):
            p = h.quantile(q) - h.min
            w = exact_quantile(xs, q) - min(xs)
            e = rel(p, w)
            m = "pdv_%s_p%d" % (key[4:], round(q * 100))
            fig[m + "_err_pct"] = round(100 * e, 2)
            extra = ""
            if key == "owd_fwd":
                extra = "; from delay_ns alone %.1f us" % (
                    (exact_quantile(t.applied, q) - min(t.applied)) / 1e3)
            check(abs(p - w) <= 0.05 * w + slack, "%s: probe %.1f us, "
                  "truth %.1f us (%+.2f %%%s)" % (m, p / 1e3, w / 1e3,
                                                 100 * e, extra), "timing")
    errs = [rel(r["jitter_ns"], t.jitter[i]) for i, r in enumerate(recs)
            if r["rx_pkts"]]
    beyond = [(r["jitter_ns"] - t.jitter[i], 2 * r.get("rtt_error_ns", 0))
              for i, r in enumerate(recs) if r["rx_pkts"]]
    worst = max(errs, key=abs)
    med = sorted(errs, key=abs)[len(errs) // 2]
    fig["jitter_worst_err_pct"] = round(100 * worst, 2)
    fig["jitter_median_err_pct"] = round(100 * med, 2)
    print("  RFC 3550 jitter per interval: probe %s, truth %s" %
          ([r["jitter_ns"] for r in recs], t.jitter))
    # An exponential average over ~16 packets, read at the end of each
    # interval: one packet the machine delayed near the end moves it far
    # more than a percentile over the run. So the median interval is
    # held to 5 % (the issue bounds IPDV and PDV only), the worst shown.
    if RUN.get("loaded"):
        # an estimate from differences of delays: off by at most twice
        # the interval's RTT bound, on top of the 5 %
        out = [(d, b) for (d, b), e in zip(beyond, errs)
               if abs(e) > 0.05 and abs(d) > b]
        check(len(out) <= len(errs) // 2, "RFC 3550 jitter: the median "
              "interval within 5 %% or its stated bound (%d of %d "
              "outside)" % (len(out), len(errs)), "timing")
    else:
        check(abs(med) <= 0.05, "RFC 3550 jitter: median interval within "
              "5 %% (%+.2f %%; worst %+.2f %%)" % (100 * med, 100 * worst),
              "timing")
    figures(name, **fig)


def case_jitter(topo):
    """Uniform jitter +-5 ms on 10 ms both ways, order=fifo: at 100
    packets/s (10 ms apart) a packet never waits for the one before it,
    and every packet's IPDV is counted. IPDV and PDV percentiles within
    5 % of the truth; RFC 3550 jitter of the median interval within 5 %."""
    jitter_case(topo, "jitter", "fifo", 100, 61, 10)


def case_jitter_free(topo):
    """The same with order=free at 500 packets/s (2 ms apart): jitter
    reorders packets, and IPDV is taken only between packets that arrive
    one after the other with consecutive sequence numbers: the same pairs
    as the truth replayed from the log, percentiles within 5 %."""
    jitter_case(topo, "jitter_free", "free", 500, 71, 6)


SESSION_EXTRA = ""
RUN = {}
FIGURE_TAGS = {}

def step_realtime(ns):
    """Steps CLOCK_REALTIME by ns (tests/lib/mpclock.py)."""
    try:
        mpclock.step(ns)
    except OSError as e:
        raise Skip("cannot step CLOCK_REALTIME: %s" % e)


STEP_NS = 50 * 10**6


def case_clock_step(topo):
    """CLOCK_REALTIME stepped 50 ms forward, then back, while probe A
    measures through linkem (10 ms each way, 1000 packets/s: about 20
    packets in flight at each step). Both probes follow each step within
    a control step (the kernel tells them); A leaves the replies in
    flight across each out of its figures and counts them, flags the
    interval, and widens its one-way bound by the step. A reply measured
    across a step is 50 ms off: after the forward step its RTT reads
    70 ms, after the backward one below zero. So no RTT may read below
    the truth by more than its bound, none above it by more than its
    bound and 25 ms (a loaded host's path adds real delay, which is not
    error), and none may be negative; one-way and IPDV figures stay
    within their bounds, which include the step."""
    applied = []

    def steps(ap):
        for delay, ns in ((2.6, STEP_NS), (2.0, -STEP_NS)):
            time.sleep(delay)
            if ap.poll() is not None:
                return
            step_realtime(ns)
            applied.append(ns)
    RUN["during"] = steps
    try:
        recs, log, stats = topo.run("delay=10ms", "delay=10ms", pps=1000,
                                    secs=7)
    finally:
        RUN["during"] = None
        if sum(applied):
            step_realtime(-sum(applied))
    t = Truth(log, recs)
    check_path(t, recs, stats)
    check_counts(t, recs)
    check(len(applied) == 2, "two steps applied (%s ns)" % applied)
    with open(topo.path("run%d-a.log" % topo.runs)) as f:
        alog = f.read()
    with open(topo.path("run%d-b.log" % topo.runs)) as f:
        blog = f.read()
    for who, text in (("A", alog), ("B", blog)):
        n = text.count("CLOCK_REALTIME stepped by")
        check(n == 2, "probe %s logged %d steps" % (who, n))
    nsteps = sum(r.get("clock_steps", 0) for r in recs)
    excl = sum(r.get("step_excluded", 0) for r in recs)
    check(nsteps == 2, "records count %d clock steps" % nsteps)
    check(1 <= excl <= 60, "%d replies in flight across the steps left "
          "out (about 20 per step at 1000/s over 20 ms of RTT)" % excl)
    flagged = [r for r in recs if r.get("clock_steps")]
    check(all(r["owd_error_ns"] >= STEP_NS for r in flagged),
          "a flagged interval's one-way bound covers the step (%s)" %
          [r["owd_error_ns"] for r in flagged])
    rtt_truth = exact_quantile(t.rtt, 0.5)
    for i, r in enumerate(recs):
        if not r["rx_pkts"]:
            continue
        rtt = r["rtt_ns"]
        lim = r["rtt_error_ns"] + 1e6
        check(rtt_truth - lim < rtt["min"] and
              rtt["max"] < rtt_truth + lim + STEP_NS / 2 and
              r.get("rtt_negative", 0) == 0,
              "interval %d: RTT %.3f..%.3f ms, none negative (%d), bound "
              "%.3f ms, truth %.3f ms" % (i, rtt["min"] / 1e6,
                                          rtt["max"] / 1e6,
                                          r.get("rtt_negative", 0),
                                          r["rtt_error_ns"] / 1e6,
                                          rtt_truth / 1e6))
        lim = r["owd_error_ns"] + 1e6
        for key, truth in (("owd_fwd", 10e6), ("owd_back", 10e6)):
            d = r[key + "_ns"]
            if d is None:
                continue
            check(abs(d["max"] - truth) <= lim and
                  abs(d["min"] - truth) <= lim,
                  "interval %d: %s %.3f..%.3f ms within its bound %.3f ms "
                  "of 10 ms" % (i, key, d["min"] / 1e6, d["max"] / 1e6,
                                r["owd_error_ns"] / 1e6))
        if r["ipdv_ns"] is not None:
            check(r["ipdv_ns"]["max"] <= 1e6 + 2 * r["rtt_error_ns"] +
                  (r["owd_error_ns"] if r.get("clock_steps") else 0),
                  "interval %d: IPDV max %.3f ms (steps %d)" %
                  (i, r["ipdv_ns"]["max"] / 1e6, r.get("clock_steps", 0)))


def stall_cpu(cpu, secs):
    """A real-time busy loop on one CPU for secs: whatever else runs there
    (a probe's packet loop) is off the CPU meanwhile, as when a host
    deschedules a probe."""
    # timeout itself stays an ordinary task free to run on the other
    # CPU: pinned beside the loop at its priority it would never run
    return subprocess.Popen(["timeout", "-s", "KILL", str(secs), "chrt",
                             "-f", "50", "taskset", "-c", str(cpu), "sh",
                             "-c", "while :; do :; done"])


def case_host_stall(topo):
    """Loss the host caused is not the network's: probe A's packet loop is
    kept off its CPU for 0.3 s (a real-time busy loop) while 4000 replies
    a second are in flight through linkem (50 ms each way). A's receive
    ring overflows in the kernel. linkem's log says every reply reached
    A's wire; the interval that lost them must say its loss may be the
    host's (host_loss_suspect, a poll gap of the stall's length, the
    port's drop counters where af_packet counts them), the others not."""
    hog = []

    def stall(ap):
        time.sleep(3.3)
        hog.append(stall_cpu(0, 0.3))
    RUN["during"], RUN["b_lcore"] = stall, 1
    try:
        recs, log, stats = topo.run("delay=50ms", "delay=50ms", pps=4000,
                                    secs=6)
    finally:
        RUN["during"], RUN["b_lcore"] = None, 0
        for h in hog:
            try:
                h.wait(timeout=10)
            except subprocess.TimeoutExpired:
                h.kill()
    t = Truth(log, recs)
    check(t.linkem_fwd_dropped == 0 and t.ba_dropped == 0,
          "linkem dropped nothing either way: whatever is lost, a host "
          "lost (%d forwarded to B but not reflected)" %
          len(t.fwd_lost_after_linkem))
    lost = [i for i, r in enumerate(recs) if r["lost"]]
    check(len(lost) >= 1, "the stall lost replies (%d lost, in intervals "
          "%s)" % (sum(r["lost"] for r in recs), lost))
    flagged = []
    for i, r in enumerate(recs):
        gap = r.get("poll_gap_max_ns", 0)
        print("  interval %d: lost %d, poll gap max %.1f ms, host %s, "
              "imissed %d, rx_nombuf %d, ierrors %d" % (
                  i, r["lost"], gap / 1e6, r.get("host_loss_suspect"),
                  r.get("host_imissed", 0), r.get("host_rx_nombuf", 0),
                  r.get("host_ierrors", 0)))
        if r.get("host_loss_suspect"):
            flagged.append(i)
        if r["lost"]:
            check(r.get("host_loss_suspect") is True,
                  "interval %d: its %d lost are flagged as possibly the "
                  "host's" % (i, r["lost"]))
    # the stall touches the interval it falls in and the next (the
    # burst the sender owed): the first two and the last are quiet
    quiet = [0, 1, len(recs) - 1]
    check(not [i for i in quiet if i in flagged], "quiet intervals %s "
          "are not flagged (flagged: %s)" % (quiet, flagged))
    missed = sum(r.get("host_imissed", 0) for r in recs)
    print("  the port counted %d missed frames (af_packet: the kernel's "
          "PACKET_STATISTICS drops), %d lost in the records" %
          (missed, sum(r["lost"] for r in recs)))


def loaded(case):
    """The same case with a CPU hog on every core during each run."""
    def run(topo):
        RUN["loaded"] = True
        try:
            case(topo)
        finally:
            RUN["loaded"] = False
    run.__doc__ = (case.__doc__ or "") + " With a CPU hog on every core."
    return run


CASES = {
    "delay": case_delay,
    "delay_loaded": loaded(case_delay),
    "jitter_loaded": loaded(case_jitter),
    "jitter_free_loaded": loaded(case_jitter_free),
    "loss": case_loss,
    "ge": case_ge,
    "loss_heavy": case_loss_heavy,
    "dupreorder_fwd": case_dupreorder_fwd,
    "dupreorder_back": case_dupreorder_back,
    "reorder_heavy": case_reorder_heavy,
    "wrap": case_wrap,
    "clock_step": case_clock_step,
    "host_stall": case_host_stall,
    "jitter": case_jitter,
    "jitter_free": case_jitter_free,
}


def set_timer_slack():
    """The probes sleep when idle (--idle-sleep-us): with the kernel's
    default timer slack of 50 us for normal tasks, a 20 us sleep ends up
    to 70 us late, and that lateness lands in the receive timestamps as
    path cost that differs between runs. A slack of 1 ns (inherited by
    the processes this test starts: prctl PR_SET_TIMERSLACK) makes the
    sleeps end on time. linkem runs SCHED_FIFO, which has no slack."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(29, ctypes.c_ulong(1), 0, 0, 0) != 0:
            print("note: PR_SET_TIMERSLACK failed (errno %d)" %
                  ctypes.get_errno())
    except OSError as e:
        print("note: no prctl: %s" % e)


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print("usage: accuracy_test.py CASE (%s)" % ", ".join(CASES))
        return 2
    metroprobe = os.environ.get("METROPROBE")
    linkem = os.environ.get("LINKEM")
    if not metroprobe or not linkem:
        print("METROPROBE and LINKEM must name the binaries")
        return 2
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        return 77
    case = sys.argv[1]
    print("accuracy case %s: %s" % (case, " ".join(
        (CASES[case].__doc__ or "").split())))
    if os.environ.get("ACCURACY_TIMERSLACK", "1") == "1":
        set_timer_slack()
    topo = Topology(metroprobe, linkem)

    def on_signal(signum, frame):
        raise Fail("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    attempts = int(os.environ.get("ACCURACY_ATTEMPTS", "3"))
    try:
        topo.up()
        for attempt in range(1, attempts + 1):
            FIGURE_TAGS["attempt"] = attempt
            del failures[:]
            try:
                CASES[case](topo)
            except Retry as e:
                print("attempt %d: %s" % (attempt, e))
                failures.append(("env", str(e)))
            kinds = {k for k, _ in failures}
            if not failures:
                print("PASS%s" % (" (attempt %d)" % attempt
                                  if attempt > 1 else ""))
                return 0
            if "exact" in kinds and "env" not in kinds:
                break
            if attempt < attempts:
                print("attempt %d: %d %s check(s) failed; the machine may "
                      "be busy with other work: again" %
                      (attempt, len(failures), "/".join(sorted(kinds))))
    except Skip as e:
        print("SKIP: %s" % e)
        return 77
    except Fail as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        topo.down()
    print("FAIL: %d check(s) failed:" % len(failures))
    for kind, msg in failures:
        print("  (%s) %s" % (kind, msg))
    return 1


if __name__ == "__main__":
    sys.exit(main())
