#!/usr/bin/env python3
"""Capacity sessions against a known bottleneck.

  nsA: metroprobe on va -- [bottleneck] -- vb :nsB metroprobe (reflector)

Mode `tbf`: the middle namespace bridges ma and mb, with the kernel's
token-bucket filter on mb (A to B only). tbf counts frame bytes from the
Ethernet header on, without FCS (skb->len on a veth).

Mode `linkem`: linkem forwards la <-> lb with `rate=` on the A-to-B
direction and overhead=24 (FCS + preamble + inter-frame gap), so it
counts layer-1 bytes: compared with the probe's layer-1 figures.

Probe A steps its load around the bottleneck rate (ITU-T Y.1564 step
load); the highest rate held within the loss bound and the received rate
under overload must both be within 3 % of the configured rate, compared
like with like, and the probe's total loss must equal what the
bottleneck dropped (tbf's counter, linkem's queue drops).
"""
import json
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import mpnet  # noqa: E402  (tests/lib/mpnet.py)

RATE = 20_000_000      # bottleneck, bits/s as the bottleneck counts them
FRAME = 1000           # probe frame with FCS, octets
STEPS = [94, 97, 98, 99, 100, 101, 103, 106, 110]   # % of the cir below
STEP_DURATION = "1500ms"
TOLERANCE = 0.03
ADDR_A, ADDR_B = "10.84.0.1", "10.84.0.2"


Fail = mpnet.Fail


class Net(mpnet.Net):
    def __init__(self, mode):
        super().__init__("cap", "AMB", "capacity", keep_env="CAPACITY_KEEP")
        self.mode = mode

    def up(self):
        super().up()
        self.veth("A", "va", "M", "ma")
        self.veth("B", "vb", "M", "mb")
        if self.mode == "tbf":
            self.bridge("M", "br0", ("ma", "mb"))
            # queue of 60 frames: absorbs a loaded machine's send jitter
            # below the rate, overflows within a step above it
            self.x("M", "tc", "qdisc", "add", "dev", "mb", "root", "tbf",
                   "rate", str(RATE), "burst", "3000", "limit", "60000")


def stop(p, sig, what, timeout=30):
    rc = mpnet.stop(p, sig, what, timeout)
    if rc != 0:
        raise Fail("%s exited %d" % (what, rc))


def run(mode):
    metroprobe = os.environ["METROPROBE"]
    net = Net(mode)
    try:
        net.up()
        lk = None
        if mode == "linkem":
            # overhead 24: linkem counts FCS, preamble and gap (layer 1)
            stats = net.path("linkem.json")
            # as the accuracy tests: real-time priority on its own lcore,
            # so a loaded machine does not hold its queue back
            lk = net.spawn("M", net.linkem_cmd(
                os.environ["LINKEM"], "l", "ma", "mb",
                ["--stats", stats, "--max-pps", "10000",
                 "--ab", "rate=%d,overhead=24,burst=3000,limit=60" % RATE],
                rt_prio=2), net.path("linkem.log"))
            net.wait_text(lk, net.path("linkem.log"), "forwarding on lcore",
                          "linkem")
            # cir in the probe's terms (layer 2 with FCS)
            cir = RATE * FRAME / (FRAME + 20)
        else:
            # tbf counts frames without FCS
            cir = RATE * FRAME / (FRAME - 4)
        common = ["--interval", "1s", "--loss-timeout", "1s",
                  "--idle-sleep-us", "50", "--mbufs", "8191"]
        bp = net.spawn("B", net.probe_cmd(metroprobe, "b", 0, "vb", [
            "--port", "name=centre-b,device=net_af_packet0,ipv4=%s/24" %
            ADDR_B, "--records", net.path("b.jsonl")] + common),
            net.path("b.log"))
        net.wait_text(bp, net.path("b.log"), "single lcore", "b")
        rec = net.path("a.jsonl")
        ap = net.spawn("A", net.probe_cmd(metroprobe, "a", 0, "va", [
            "--port", "name=centre-a,device=net_af_packet0,ipv4=%s/24" %
            ADDR_A,
            "--session", "name=cap,port=centre-a,peer=%s,type=capacity,"
            "cir=%d,steps=%s,step_duration=%s,frame_size=%d,loss_max=1e-5" %
            (ADDR_B, round(cir), ":".join(str(s) for s in STEPS),
             STEP_DURATION, FRAME),
            "--records", rec] + common), net.path("a.log"))
        total = len(STEPS) * 1.5 + 30
        net.wait_text(ap, rec, '"kind":"summary"', "a", timeout=total,
                      log=net.path("a.log"))
        stop(ap, signal.SIGINT, "probe A")
        stop(bp, signal.SIGINT, "probe B")
        if lk is not None:
            stop(lk, signal.SIGTERM, "linkem")
            with open(stats) as f:
                dropped = json.load(f)["ab"]["drop_queue"]
        else:
            out = net.x("M", "tc", "-s", "qdisc", "show", "dev", "mb").stdout
            dropped = int(out.split("dropped ")[1].split(",")[0])
        with open(net.path("a.log")) as f:
            log = f.read()
        print("\n".join(l for l in log.splitlines()
                        if not l.startswith("metroprobe: info")))
        lines = [json.loads(l) for l in open(rec)]
        steps = [r for r in lines
                 if r.get("schema") == "metroprobe.capacity.v1"
                 and r["kind"] == "step"]
        summ = [r for r in lines
                if r.get("schema") == "metroprobe.capacity.v1"
                and r["kind"] == "summary"][0]
        intervals = [r for r in lines if "interval_ns" in r]
        return check(mode, cir, steps, summ, intervals, dropped)
    finally:
        net.down()


def check(mode, cir, steps, summ, intervals, dropped):
    # like with like: tbf counts L2 without FCS, linkem (overhead 24) L1
    if mode == "tbf":
        conv = (FRAME - 4) / FRAME
        held, rx_key = summ["max_held_bps"], "rx_bps"
        off_key = "offered_bps"
    else:
        conv = 1.0
        held, rx_key = summ["max_held_l1_bps"], "rx_l1_bps"
        off_key = "offered_l1_bps"
    bad = []
    if len(steps) != len(STEPS) or not all(s["complete"] for s in steps):
        bad.append("expected %d complete steps, got %d" % (len(STEPS),
                                                         len(steps)))
    if held is None:
        bad.append("no step held within the loss bound")
        found = 0
    else:
        found = held * conv
    err_held = found / RATE - 1
    over = [s for s in steps if s["loss_ratio"] > 0.005]
    rx_over = (sum(s[rx_key] for s in over) / len(over) * conv
               if over else 0)
    err_rx = rx_over / RATE - 1 if over else float("nan")
    lost = sum(s["lost"] for s in steps)
    print("%s: bottleneck %.3f Mbit/s; held %.3f Mbit/s (%+.2f %%, step "
          "%s = %s %% of cir); received under overload %.3f Mbit/s "
          "(%+.2f %%); lost %d, bottleneck dropped %d" %
          (mode, RATE / 1e6, found / 1e6, 100 * err_held, summ["held_step"],
           summ["held_pct"], rx_over / 1e6, 100 * err_rx, lost, dropped))
    for s in steps:
        print("  step %d %5.1f %%: offered %.3f rx %.3f Mbit/s loss %.4g "
              "rtt p50 %s p99 %s ns" % (s["step"], s["pct"],
                                        s[off_key] * conv / 1e6,
                                        s[rx_key] * conv / 1e6,
                                        s["loss_ratio"], s["rtt_p50_ns"],
                                        s["rtt_p99_ns"]))
    if abs(err_held) > TOLERANCE:
        bad.append("highest rate held %.3f Mbit/s is %.2f %% off" %
                   (found / 1e6, 100 * err_held))
    if not over:
        bad.append("no step overloaded the bottleneck")
    elif abs(err_rx) > TOLERANCE:
        bad.append("received rate under overload %.3f Mbit/s is %.2f %% off"
                   % (rx_over / 1e6, 100 * err_rx))
    if lost != dropped:
        bad.append("probe lost %d != bottleneck dropped %d" % (lost, dropped))
    if not intervals:
        bad.append("no interval records alongside the capacity lines")
    # offered rates follow the steps (pacing changed at each boundary)
    for s in steps:
        want = cir * s["pct"] / 100
        if abs(s["offered_bps"] / want - 1) > 0.01:
            bad.append("step %d offered %.0f, configured %.0f" %
                       (s["step"], s["offered_bps"], want))
    if bad:
        raise Fail("; ".join(bad))
    print("PASS")


def conf():
    """Capacity keys: good ones accepted (INI list with commas), bad ones
    refused before EAL init with the key named."""
    mp = os.environ["METROPROBE"]
    port = "name=p,device=x,ipv4=10.0.0.1/24"
    sess = "name=s,port=p,peer=10.0.0.2,"
    bad = []
    with tempfile.NamedTemporaryFile("w", suffix=".ini") as f:
        f.write("[port.p]\ndevice = x\nipv4 = 10.0.0.1/24\n"
                "[session.s]\nport = p\npeer = 10.0.0.2\n"
                "type = capacity\ncir = 100M\nsteps = 25,50,75,100,110\n"
                "step_duration = 2s\nloss_max = 1e-5\n")
        f.flush()
        r = subprocess.run([mp, "--", "--check", "--config", f.name],
                           capture_output=True, text=True)
        if r.returncode != 0:
            bad.append("INI capacity session refused: " + r.stderr)
    cases = [
        ("type=capacity", "cir"), ("type=capacity,cir=abc", "cir"),
        ("type=capacity,cir=20M,steps=0:50", "steps"),
        ("type=capacity,cir=20M,steps=50:x", "steps"),
        ("type=capacity,cir=20M,rate_pps=5", "rate_pps"),
        ("type=capacity,cir=20M,duration=5s", "duration"),
        ("cir=20M", "cir"), ("type=bogus", "type"),
        ("type=capacity,cir=20M,loss_max=2", "loss_max"),
        ("type=capacity,cir=20M,step_duration=1ms", "step_duration"),
        ("type=capacity,cir=1T", "cir"),
    ]
    for kv, key in cases:
        r = subprocess.run([mp, "--", "--check", "--port", port,
                            "--session", sess + kv],
                           capture_output=True, text=True)
        line = r.stderr.strip()
        print("  %-45s -> %s" % (kv, line))
        if r.returncode != 2 or "] %s:" % key not in line:
            bad.append("%s: exit %d, %r" % (kv, r.returncode, line))
    r = subprocess.run([mp, "--", "--check", "--port", port, "--session",
                        sess + "type=capacity,cir=20M,steps=50:100"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        bad.append("good command-line session refused: " + r.stderr)
    if bad:
        print("FAIL: " + "; ".join(bad))
        return 1
    print("PASS")
    return 0


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "conf":
        return conf()
    if len(sys.argv) != 2 or sys.argv[1] not in ("tbf", "linkem"):
        print("usage: capacity_test.py conf|tbf|linkem")
        return 2
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        return 77
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        run(sys.argv[1])
    except Fail as e:
        print("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
