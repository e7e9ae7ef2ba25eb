#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""linkem's tests with real frames: nsA --veth-- [linkem in nsL, two
net_af_packet ports] --veth-- nsB, UDP datagrams with a STAMP-like
payload from one end to the other, and the receiver's view compared with
linkem's log.

  linkem_test.py LINKEM_BINARY CASE      CASE: see CASES at the bottom

Exit 0 pass, 1 fail, 77 skip (not root, or no network namespaces).
Namespaces, processes and DPDK runtime files carry this PID and are
removed on exit, also on failure or a signal.
"""
import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "lk_peer.py")
PY = sys.executable or "python3"
ADDR_A = "198.18.0.1"
ADDR_B = "198.18.0.2"
STAMP = 862
PORT_A = 40862      # the other end's UDP port


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)
    print("  ok: " + msg)


def sh(*args, check_rc=True, **kw):
    r = subprocess.run(list(args), capture_output=True, text=True, **kw)
    if check_rc and r.returncode != 0:
        raise Fail("command failed (%d): %s\n%s%s" %
                   (r.returncode, " ".join(args), r.stdout, r.stderr))
    return r


class Topology:
    """Three namespaces and two veth pairs, named after this PID."""

    def __init__(self, linkem, tag, with_ip=True):
        pid = os.getpid()
        self.linkem = linkem
        self.ns_a = "lkA%d%s" % (pid, tag)
        self.ns_l = "lkL%d%s" % (pid, tag)
        self.ns_b = "lkB%d%s" % (pid, tag)
        base = "lk%d" % pid
        self.if_a0, self.if_a1 = base + "a0", base + "a1"
        self.if_b0, self.if_b1 = base + "b0", base + "b1"
        self.prefix = "linkem%d%s" % (pid, tag)
        self.tmp = tempfile.mkdtemp(prefix="linkem-test-")
        self.procs = []
        self.runs = 0
        # with_ip=False leaves the end veths without addresses, for
        # DPDK programs (probes) on net_af_packet at both ends.
        self.with_ip = with_ip

    def ns(self, ns, *args, **kw):
        return sh("ip", "netns", "exec", ns, *args, **kw)

    def up(self):
        for ns in (self.ns_a, self.ns_l, self.ns_b):
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", self.if_a0, "netns", self.ns_a, "type",
           "veth", "peer", "name", self.if_a1, "netns", self.ns_l)
        sh("ip", "link", "add", self.if_b0, "netns", self.ns_b, "type",
           "veth", "peer", "name", self.if_b1, "netns", self.ns_l)
        # linkem's interfaces carry no stack of their own: no IPv6
        # chatter that linkem would see as outgoing frames.
        for key in ("all", "default", self.if_a1, self.if_b1):
            self.ns(self.ns_l, "sysctl", "-q", "-w",
                    "net.ipv6.conf.%s.disable_ipv6=1" % key)
        for ns, ifc, addr in ((self.ns_a, self.if_a0, ADDR_A),
                              (self.ns_b, self.if_b0, ADDR_B)):
            self.ns(ns, "ip", "link", "set", "lo", "up")
            if self.with_ip:
                self.ns(ns, "ip", "addr", "add", addr + "/24", "dev", ifc)
            self.ns(ns, "ip", "link", "set", ifc, "up")
        for ifc in (self.if_a1, self.if_b1):
            self.ns(self.ns_l, "ip", "link", "set", ifc, "up")

    def start_linkem(self, args, name=None):
        """Starts linkem with these options (after --); returns the paths
        of its log, stats and console files."""
        self.runs += 1
        name = name or "run%d" % self.runs
        files = {k: os.path.join(self.tmp, "%s.%s" % (name, ext))
                 for k, ext in (("log", "csv"), ("stats", "json"),
                                ("console", "txt"))}
        # Real-time priority, as netem's work runs in the kernel ahead of
        # any process: on a loaded machine a departure is not late by a
        # scheduler time slice. It sleeps when idle (--idle-sleep), and
        # the kernel's RT throttling bounds it anyway.
        rt = ["chrt", "-f", "1"] if shutil.which("chrt") and \
            os.environ.get("LINKEM_TEST_RT", "1") == "1" else []
        cmd = ["ip", "netns", "exec", self.ns_l] + rt + [self.linkem,
               "-l", "1", "--no-huge", "-m", "128", "--no-pci",
               "--file-prefix", self.prefix, "--log-level", "lib.eal:error",
               "--vdev", "net_af_packet0,iface=" + self.if_a1,
               "--vdev", "net_af_packet1,iface=" + self.if_b1,
               "--", "--idle-sleep", "20", "--log", files["log"],
               "--stats", files["stats"]] + list(args)
        con = open(files["console"], "w")
        p = subprocess.Popen(cmd, stdout=con, stderr=subprocess.STDOUT)
        con.close()
        self.procs.append(p)
        files["proc"] = p
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise Fail("linkem exited (%d) at start:\n%s" %
                           (p.returncode, open(files["console"]).read()))
            if "forwarding on lcore" in open(files["console"]).read():
                break
            time.sleep(0.05)
        else:
            raise Fail("linkem did not start:\n" +
                       open(files["console"]).read())
        # ARP crosses linkem untouched: both ends can resolve each other.
        for ns, dst in ((self.ns_a, ADDR_B), (self.ns_b, ADDR_A))[
                :2 if self.with_ip else 0]:
            r = self.ns(ns, PY, PEER, "ping", "--dst", dst, "--timeout",
                        "15", check_rc=False)
            if r.returncode != 0:
                raise Fail("no ping %s -> %s through linkem" % (ns, dst))
        return files

    def stop_linkem(self, files):
        p = files["proc"]
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            raise Fail("linkem did not exit on SIGTERM")
        if rc != 0:
            raise Fail("linkem exited %d:\n%s" %
                       (rc, open(files["console"]).read()))
        with open(files["stats"]) as f:
            stats = json.load(f)
        with open(files["log"]) as f:
            log = list(csv.DictReader(f))
        return log, stats

    def traffic(self, src_ns, dst_ns, dst_addr, dport, sport, count, pps,
                size=44, kind="s", first_seq=0, idle=1.5):
        """Sends count datagrams and returns what the receiver saw:
        a list of [seq, rx_ns, tx_ns, len, sport]."""
        out = os.path.join(self.tmp, "recv%d.json" % time.monotonic_ns())
        ready = out + ".ready"
        rport = dport
        recv = subprocess.Popen(
            ["ip", "netns", "exec", dst_ns, PY, PEER, "recv", "--port",
             str(rport), "--out", out, "--ready", ready, "--idle",
             str(idle), "--max", str(count / pps + 20)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(recv)
        for _ in range(200):
            if os.path.exists(ready):
                break
            time.sleep(0.025)
        self.ns(src_ns, PY, PEER, "send", "--dst", dst_addr, "--dport",
                str(dport), "--sport", str(sport), "--count", str(count),
                "--pps", str(pps), "--size", str(size), "--kind", kind,
                "--first-seq", str(first_seq))
        _, err = recv.communicate(timeout=count / pps + 40)
        if recv.returncode != 0:
            raise Fail("receiver failed: " + err)
        with open(out) as f:
            return json.load(f)["pkts"]

    def a_to_b(self, count, pps, **kw):
        """Sender packets (to port 862) from A to B: direction ab."""
        return self.traffic(self.ns_a, self.ns_b, ADDR_B, STAMP, PORT_A,
                            count, pps, **kw)

    def b_to_a_reflected(self, count, pps, **kw):
        """Reflector packets (from port 862) from B to A: direction ba."""
        return self.traffic(self.ns_b, self.ns_a, ADDR_A, PORT_A, STAMP,
                            count, pps, kind="r", **kw)

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for ns in (self.ns_a, self.ns_l, self.ns_b):
            sh("ip", "netns", "del", ns, check_rc=False)
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)
        if os.environ.get("LINKEM_TEST_KEEP"):
            print("kept " + self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


# ---- helpers on the log and the receiver's view ----

def rows(log, d, copy=None, fate=None):
    out = [r for r in log if r["dir"] == d]
    if copy is not None:
        out = [r for r in out if r["copy"] == str(copy)]
    if fate is not None:
        out = [r for r in out if r["fate"] == fate]
    return out


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def rfc4737_counts(seqs):
    """Receiver-side counts: duplicates (RFC 5560) and reordered
    (RFC 4737: below the next expected, first copy only)."""
    seen, dups, reord, nxt = set(), 0, 0, None
    for s in seqs:
        if s in seen:
            dups += 1
            continue
        seen.add(s)
        if nxt is not None and s < nxt:
            reord += 1
        else:
            nxt = s + 1
    return dups, reord


def check_totals(log, stats, d):
    t = stats[d]
    fwd = rows(log, d, copy=0, fate="fwd")
    check(t["fwd"] == len(fwd),
          "%s totals fwd %d = log %d" % (d, t["fwd"], len(fwd)))
    check(t["dup"] == len(rows(log, d, copy=1, fate="fwd")),
          "%s totals dup %d = log" % (d, t["dup"]))
    for reason in ("loss", "ge", "queue", "pool"):
        n = len([r for r in rows(log, d) if r["reason"] == reason])
        check(t["drop_" + reason] == n,
              "%s totals drop_%s %d = log" % (d, reason, n))
    n = len([r for r in fwd if r["reordered"] == "1"])
    check(t["reordered"] == n, "%s totals reordered %d = log" % (d, n))
    check(t["unsent_at_exit"] == 0 and t["tx_fail"] == 0,
          "%s nothing left unsent or refused" % d)


# ---- the cases ----

def case_delay(t):
    """Fixed delay: 2 ms one way, 5 ms the other; measured one-way delay
    and the log's applied delay."""
    f = t.start_linkem(["--ab", "delay=2ms", "--ba", "delay=5ms"])
    fwd = t.a_to_b(300, 500)
    back = t.b_to_a_reflected(300, 500)
    log, stats = t.stop_linkem(f)
    for d, got, want in (("ab", fwd, 2000000), ("ba", back, 5000000)):
        check(len(got) == 300, "%s: receiver got all 300" % d)
        owd = [rx - tx for _, rx, tx, _, _ in got]
        p50 = statistics.median(owd)
        lr = rows(log, d, copy=0, fate="fwd")
        rx_by_seq = {s: rx for s, rx, _, _, _ in got}
        tx_by_seq = {s: tx for s, _, tx, _, _ in got}
        # where the time goes: sender to linkem, late departure, linkem
        # to receiver
        into = [int(r["arrival_ns"]) - tx_by_seq[int(r["seq"])] for r in lr]
        late = [int(r["tx_ns"]) - int(r["depart_ns"]) for r in lr]
        out = [rx_by_seq[int(r["seq"])] - int(r["tx_ns"]) for r in lr]
        print("  %s: one-way delay p50 %.1f us (min %.1f, p90 %.1f); "
              "p50/p90 in: to linkem %.1f/%.1f, late departure %.1f/%.1f,"
              " to receiver %.1f/%.1f us" %
              (d, p50 / 1e3, min(owd) / 1e3, pct(owd, 0.9) / 1e3,
               statistics.median(into) / 1e3, pct(into, 0.9) / 1e3,
               statistics.median(late) / 1e3, pct(late, 0.9) / 1e3,
               statistics.median(out) / 1e3, pct(out, 0.9) / 1e3))
        check(abs(p50 - want) <= 300000,
              "%s: measured p50 %d ns within 300 us of %d" % (d, p50, want))
        check(min(owd) >= want, "%s: no packet faster than the delay" % d)
        check(len(lr) == 300, "%s: 300 forwarded in the log" % d)
        check(all(int(r["delay_ns"]) == want for r in lr),
              "%s: every applied delay is %d ns" % (d, want))
        check(statistics.median(late) < 100000,
              "%s: departures on time (p50 lateness < 100 us)" % d)
        # the log's times bracket the receiver's: same clock everywhere
        check(all(tx_by_seq[int(r["seq"])] <= int(r["arrival_ns"]) <=
                  int(r["tx_ns"]) <= rx_by_seq[int(r["seq"])] for r in lr),
              "%s: send <= linkem arrival <= linkem tx <= receive" % d)
        check_totals(log, stats, d)
    check(all(r["kind"] == "s" for r in rows(log, "ab")),
          "ab: all read as STAMP sender packets")
    ba = rows(log, "ba")
    check(all(r["kind"] == "r" and int(r["sender_seq"]) ==
              int(r["seq"]) + 1000000 and r["ssid"] == "7" for r in ba),
          "ba: reflector packets with their sender seq and SSID")


def case_loss(t):
    """Bernoulli loss with a seed, options from a config file: the
    receiver's set equals the log's forwarded set."""
    cfg = os.path.join(t.tmp, "loss.conf")
    with open(cfg, "w") as f:
        f.write("# linkem config\nab = loss=0.1,seed=11\n"
                "ba delay=1ms   # unused here\n")
    f = t.start_linkem(["--config", cfg])
    got = t.a_to_b(2000, 2000)
    log, stats = t.stop_linkem(f)
    seen = {g[0] for g in got}
    fwd = {int(r["seq"]) for r in rows(log, "ab", fate="fwd")}
    drop = [r for r in rows(log, "ab", fate="drop")]
    check(len(got) == len(seen), "no duplicates without dup=")
    check(seen == fwd, "receiver's %d seqs == log's forwarded set" %
          len(seen))
    check(len(fwd) + len(drop) == 2000, "every packet has one fate")
    check(all(r["reason"] == "loss" for r in drop), "drops are 'loss'")
    ratio = len(drop) / 2000
    print("  loss ratio %.4f (p = 0.1)" % ratio)
    check(abs(ratio - 0.1) < 0.025, "loss ratio %.4f near 0.1" % ratio)
    check_totals(log, stats, "ab")


def bursts(missing):
    runs, prev, n = [], None, 0
    for s in sorted(missing):
        if prev is not None and s == prev + 1:
            n += 1
        else:
            if n:
                runs.append(n)
            n = 1
        prev = s
    if n:
        runs.append(n)
    return runs


def case_ge(t):
    """Gilbert-Elliott: losses come in bursts of mean length about 1/r."""
    f = t.start_linkem(["--ab", "ge=0.05:0.25,seed=5"])
    got = t.a_to_b(3000, 3000)
    log, stats = t.stop_linkem(f)
    seen = {g[0] for g in got}
    missing = set(range(3000)) - seen
    logged = {int(r["seq"]) for r in rows(log, "ab", fate="drop")}
    check(missing == logged, "receiver's %d missing == log's drops" %
          len(missing))
    check(all(r["reason"] == "ge" for r in rows(log, "ab", fate="drop")),
          "drops are 'ge'")
    runs = bursts(missing)
    mean = sum(runs) / len(runs)
    ratio = len(missing) / 3000
    print("  %d bursts, mean length %.2f (1/r = 4), loss %.3f "
          "(p/(p+r) = 0.167)" % (len(runs), mean, ratio))
    check(3.0 <= mean <= 5.2, "mean burst length %.2f near 1/r = 4" % mean)
    check(0.10 <= ratio <= 0.24, "loss ratio %.3f near 0.167" % ratio)
    check_totals(log, stats, "ab")


def case_dupreorder(t):
    """Duplication and reordering: the receiver's counts equal the log's."""
    f = t.start_linkem(["--ab", "dup=0.05,reorder=0.1:2ms,seed=3",
                        "--ba", "reorder=0.2:3ms,seed=4"])
    got = t.a_to_b(2000, 2000)
    back = t.b_to_a_reflected(1000, 2000, first_seq=0xFFFFFE00)
    log, stats = t.stop_linkem(f)
    for d, pkts, n in (("ab", got, 2000), ("ba", back, 1000)):
        # serial numbers: unwrap so that 0xFFFFFFFF < 0 after wrap
        base = pkts[0][0]
        seqs = [(s - base) & 0xFFFFFFFF for s, _, _, _, _ in pkts]
        seqs = [s - (1 << 32) if s > (1 << 31) else s for s in seqs]
        dups, reord = rfc4737_counts(seqs)
        log_dups = len(rows(log, d, copy=1, fate="fwd"))
        log_reord = len([r for r in rows(log, d, copy=0, fate="fwd")
                         if r["reordered"] == "1"])
        held = len([r for r in rows(log, d, copy=0) if r["held"] == "1"])
        print("  %s: receiver dups %d reordered %d; log dups %d "
              "reordered %d held %d" % (d, dups, reord, log_dups,
                                         log_reord, held))
        check(len(set(seqs)) == n, "%s: every seq arrived" % d)
        check(dups == log_dups, "%s: duplicates equal (%d)" % (d, dups))
        check(reord == log_reord, "%s: reordered equal (%d)" % (d, reord))
        check(reord > 0.5 * held, "%s: held packets were overtaken" % d)
        check_totals(log, stats, d)
    check(40 <= len(rows(log, "ab", copy=1)) <= 170,
          "ab: about 5 % duplicated")


def case_rate(t):
    """Rate limit: sent at twice the rate, received at the rate."""
    rate = 2000000
    f = t.start_linkem(["--ab", "rate=2mbit,burst=1514,limit=40"])
    got = t.a_to_b(1000, 500, size=1000)
    log, stats = t.stop_linkem(f)
    frame_bits = (1000 + 42) * 8
    rx = sorted(g[1] for g in got)
    measured = (len(rx) - 1) * frame_bits / ((rx[-1] - rx[0]) / 1e9)
    err = measured / rate - 1
    print("  received %d of 1000, rate %.0f bit/s (error %+.2f %%)" %
          (len(rx), measured, 100 * err))
    check(abs(err) < 0.03, "received rate within 3 %% of %d" % rate)
    seen = {g[0] for g in got}
    fwd = {int(r["seq"]) for r in rows(log, "ab", fate="fwd")}
    check(seen == fwd, "receiver's set == log's forwarded set")
    q = [r for r in rows(log, "ab", fate="drop")]
    check(len(q) > 300 and all(r["reason"] == "queue" for r in q),
          "%d tail drops, reason 'queue'" % len(q))
    qmax = max(int(r["queue_ns"]) for r in rows(log, "ab", fate="fwd"))
    want = 40 * frame_bits / rate * 1e9
    check(abs(qmax - want) < 0.1 * want,
          "longest queueing %.1f ms = 40 frames at the rate" % (qmax / 1e6))
    check_totals(log, stats, "ab")


def decisions(log):
    return {(r["seq"], r["copy"]): (r["fate"], r["reason"], r["jitter_ns"],
                                    r["held"])
            for r in rows(log, "ab")}


def case_seed(t):
    """Same seed, same decisions; another seed, others. Normal jitter
    has the stated sigma; replayed jitter follows its file."""
    replay = os.path.join(t.tmp, "replay.txt")
    values = [0, 100000, -50000, 250000, 0, 30000]
    with open(replay, "w") as f:
        f.write("# delays added to delay=\n0\n100us\n-50us\n250000\n"
                "0ns\n0.03ms\n")
    spec = "delay=1ms,jitter=normal:200us,loss=0.05,dup=0.05," \
           "reorder=0.05:1ms,seed=%d"
    runs = []
    for seed in (42, 42, 43):
        f = t.start_linkem(["--ab", spec % seed,
                            "--ba", "delay=1ms,jitter=replay:" + replay])
        t.a_to_b(1000, 2000)
        t.b_to_a_reflected(60, 1000)
        runs.append(t.stop_linkem(f))
    a, b, c = (decisions(log) for log, _ in runs)
    check(len(a) >= 1000 and a == b,
          "seed 42 twice: the same %d decisions" % len(a))
    check(a != c, "seed 43: other decisions")
    log = runs[0][0]
    jit = [int(r["jitter_ns"]) for r in rows(log, "ab", copy=0, fate="fwd")]
    sd = statistics.pstdev(jit)
    print("  normal jitter: mean %.1f us, sd %.1f us (sigma 200 us)" %
          (statistics.mean(jit) / 1e3, sd / 1e3))
    check(abs(sd - 200000) < 20000, "sd of normal jitter near 200 us")
    check(abs(statistics.mean(jit)) < 20000, "mean of normal jitter near 0")
    ba = rows(log, "ba", copy=0, fate="fwd")
    ba.sort(key=lambda r: int(r["seq"]))
    check([int(r["jitter_ns"]) for r in ba] ==
          [values[i % len(values)] for i in range(60)],
          "replayed jitter follows the file, cycling")
    check(all(int(r["delay_ns"]) >= 1000000 + int(r["jitter_ns"])
              for r in ba), "applied delay = delay + replayed value")
    for log, stats in runs:
        check_totals(log, stats, "ab")


def case_jitter(t):
    """Uniform jitter, reordering allowed: per packet, the measured delay
    follows the delay the log says it applied."""
    f = t.start_linkem(["--ab", "delay=3ms,jitter=uniform:1ms,order=free"])
    p = f["proc"]
    got = t.a_to_b(1000, 1000)
    p.send_signal(signal.SIGUSR1)
    time.sleep(0.5)
    with open(f["stats"]) as fh:
        mid = json.load(fh)
    check(mid["ab"]["fwd"] == 1000, "SIGUSR1 wrote the totals so far")
    log, stats = t.stop_linkem(f)
    by_seq = {int(r["seq"]): r for r in rows(log, "ab", copy=0)}
    jit = [int(r["jitter_ns"]) for r in by_seq.values()]
    check(min(jit) >= -1000000 and max(jit) <= 1000000,
          "jitter within +-1 ms")
    check(min(jit) < -900000 and max(jit) > 900000, "jitter fills the range")
    diff = [(rx - tx) - int(by_seq[s]["delay_ns"]) for s, rx, tx, _, _ in got]
    p50 = statistics.median(diff)
    print("  measured - logged delay: p50 %.1f us, p90 %.1f us" %
          (p50 / 1e3, pct(diff, 0.9) / 1e3))
    check(0 <= p50 < 300000, "measured delay = logged delay + < 300 us")
    _, reord = rfc4737_counts([g[0] for g in got])
    log_reord = len([r for r in by_seq.values() if r["reordered"] == "1"])
    check(reord == log_reord and reord > 100,
          "jitter reorders (%d), as the log says" % reord)
    check_totals(log, stats, "ab")


def case_fifo(t):
    """Uniform jitter with order=fifo: nothing leaves before the packet
    before it."""
    f = t.start_linkem(["--ab", "delay=3ms,jitter=uniform:1ms"])
    got = t.a_to_b(1000, 1000)
    log, stats = t.stop_linkem(f)
    seqs = [g[0] for g in got]
    check(seqs == sorted(seqs) and len(seqs) == 1000,
          "receiver saw all 1000 in order")
    lr = rows(log, "ab", fate="fwd")
    dep = [int(r["depart_ns"]) for r in sorted(lr, key=lambda r:
                                                int(r["seq"]))]
    # depart_ns is arrival_ns (CLOCK_REALTIME read per burst) plus the
    # delay in linkem's TSC clock: the two clocks' reads differ by up
    # to a microsecond or two from burst to burst.
    back = max([x - y for x, y in zip(dep, dep[1:])] + [0])
    check(back < 5000, "departure times never decrease (read noise %d ns)"
          % back)
    held = sum(1 for r in lr if int(r["delay_ns"]) >
               3000000 + int(r["jitter_ns"]))
    check(held > 100, "%d packets waited for the one before them" % held)
    check_totals(log, stats, "ab")


def case_pool(t):
    """Too few buffers for what the delay holds: linkem drops what it
    cannot hold, logs it as 'pool', and keeps receiving; the receiver
    gets exactly what the log says was forwarded."""
    f = t.start_linkem(["--ab", "delay=1s", "--mbufs", "512"])
    got = t.a_to_b(2000, 2000, idle=2.5)
    log, stats = t.stop_linkem(f)
    seen = {g[0] for g in got}
    fwd = {int(r["seq"]) for r in rows(log, "ab", fate="fwd")}
    pool = [r for r in rows(log, "ab", fate="drop") if r["reason"] == "pool"]
    print("  received %d of 2000; log: forwarded %d, dropped (pool) %d" %
          (len(seen), len(fwd), len(pool)))
    check(seen == fwd, "receiver's set == log's forwarded set")
    check(len(fwd) + len(pool) == 2000, "every frame has its fate")
    check(len(fwd) == 512 - 4 * 32 - 256,
          "held as many as the buffers allow (512 - reserve)")
    check_totals(log, stats, "ab")


CASES = {
    "delay": case_delay,
    "loss": case_loss,
    "ge": case_ge,
    "dupreorder": case_dupreorder,
    "rate": case_rate,
    "seed": case_seed,
    "jitter": case_jitter,
    "fifo": case_fifo,
    "pool": case_pool,
}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print("usage: linkem_test.py LINKEM CASE (%s)" % ", ".join(CASES))
        return 2
    linkem, case = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        print("SKIP: needs root for network namespaces")
        return 77
    t = Topology(linkem, case[:2])

    def on_signal(sig, _):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        t.up()
        CASES[case](t)
        print("PASS " + case)
        return 0
    except Fail as e:
        print("FAIL %s: %s" % (case, e))
        for p in sorted(os.listdir(t.tmp)):
            if p.endswith(".txt"):
                print("--- " + p)
                print(open(os.path.join(t.tmp, p)).read()[-3000:])
        return 1
    finally:
        t.down()


if __name__ == "__main__":
    sys.exit(main())
