#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A metroprobe sender against a STAMP reflector on the kernel's UDP stack
(kernel_stamp_peer.py) in another namespace of the same machine, so both
ends read one clock, CLOCK_REALTIME:

  nsA: metroprobe on va (net_af_packet) -- vb :nsB kernel UDP socket

The veth keeps its default offloads (the kernel sends partial UDP
checksums, as it does for users), and the probe is told that DPDK's
nominal TSC rate is 1 500 ppm off (tsc_nominal_ppm), as on hosts where it
is. Checked, for every reply the probe captured, the first second
included: T2 - T1 and T4 - T3 are never below -50 us (two readings of one
clock; before the start-up calibration, the first second drifted by
milliseconds). Also: nothing lost, the partial checksums completed and
counted, every record's one-way histograms agree with its counts, and no
record reports a negative one-way sample.
"""
import json
import os
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import mpnet  # noqa: E402
from mphist import Hist  # noqa: E402

ADDR_A, ADDR_B = "10.97.0.1", "10.97.0.2"
NTP_UNIX = 2208988800
PPS, SECS = 1000, 4
FLOOR_NS = -50000

failures = []


def check(cond, msg):
    print(("  ok: " if cond else "  FAIL: ") + msg)
    if not cond:
        failures.append(msg)


def ntp_ns(v):
    return ((v >> 32) - NTP_UNIX) * 10**9 + ((v & 0xffffffff) * 10**9 >> 32)


def pcap_replies(path):
    """(T1, T2, T3, T4) of every reflected STAMP packet (UDP source port
    862) in a nanosecond pcap of Ethernet frames; T4 is the capture
    time, which the probe takes from the same reading as its T4."""
    out = []
    with open(path, "rb") as f:
        magic = struct.unpack("<I", f.read(24)[:4])[0]
        if magic != 0xa1b23c4d:
            raise mpnet.Fail("capture is not a nanosecond pcap")
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            sec, nsec, incl, _ = struct.unpack("<IIII", h)
            frame = f.read(incl)
            if struct.unpack("!H", frame[12:14])[0] != 0x0800:
                continue
            ihl = (frame[14] & 0xf) * 4
            udp = 14 + ihl
            if frame[23] != 17 or struct.unpack(
                    "!H", frame[udp:udp + 2])[0] != 862:
                continue
            p = frame[udp + 8:]
            t3 = ntp_ns(struct.unpack("!Q", p[4:12])[0])
            t2 = ntp_ns(struct.unpack("!Q", p[16:24])[0])
            t1 = ntp_ns(struct.unpack("!Q", p[28:36])[0])
            out.append((t1, t2, t3, sec * 10**9 + nsec))
    return out


def run(net, metroprobe):
    net.veth("A", "va", "B", "vb")
    net.x("B", "ip", "addr", "add", ADDR_B + "/24", "dev", "vb")
    offl = net.x("B", "ethtool", "-k", "vb", check=False).stdout
    print("  peer veth: " + " ".join(
        line.strip() for line in offl.splitlines()
        if line.startswith("tx-checksumming")))
    ready = net.path("peer.ready")
    peer_log = net.path("peer.log")
    peer = net.spawn("B", [sys.executable, os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "kernel_stamp_peer.py"),
        ADDR_B, "862", "--ready", ready], peer_log)
    deadline = time.monotonic() + 20
    while not os.path.exists(ready):
        if peer.poll() is not None or time.monotonic() > deadline:
            raise mpnet.Fail("kernel peer did not start")
        time.sleep(0.05)
    rec, cap, log = net.path("a.jsonl"), net.path("a.pcap"), \
        net.path("a.log")
    ap = net.spawn("A", net.probe_cmd(metroprobe, "a", 0, "va", [
        "--port", "name=centre-a,device=net_af_packet0,ipv4=%s/24" % ADDR_A,
        "--session", "name=a-to-k,port=centre-a,peer=%s,rate_pps=%d" %
        (ADDR_B, PPS),
        "--interval", "1s", "--loss-timeout", "1s", "--idle-sleep-us", "20",
        "--clock-synced", "true", "--clock-error", "10us",
        "--tsc-nominal-ppm", "1500", "--run-time", "%ds" % SECS,
        "--capture", cap, "--records", rec]), log)
    try:
        rc = ap.wait(timeout=SECS + 60)
    except Exception:
        raise mpnet.Fail("probe did not stop after --run-time")
    mpnet.stop(peer, signal.SIGTERM, "kernel peer")
    with open(log) as f:
        text = f.read()
    print("\n".join("  " + x for x in text.splitlines()
                    if "metroprobe:" in x))
    if rc != 0:
        raise mpnet.Fail("probe exited %d" % rc)
    check("forced by tsc_nominal_ppm" in text,
          "the calibration compared against the forced nominal rate")
    check("checksums left partial" in text,
          "partial checksums from the kernel peer completed and counted")
    with open(rec) as f:
        recs = [json.loads(x) for x in f]
    tx = sum(r["tx_pkts"] for r in recs)
    rx = sum(r["rx_pkts"] for r in recs)
    check(tx >= PPS * (SECS - 1) and rx == tx and
          sum(r["lost"] for r in recs) == 0,
          "nothing lost: sent %d, received %d" % (tx, rx))
    for r in recs:
        n = r["rx_pkts"] - r.get("rtt_negative", 0) - \
            r.get("step_excluded", 0)
        check("owd_error_ns" in r, "interval %d states its error bound "
              "(one-way %s ns)" % (r["start_ns"] // 10**9 % 1000,
                                   r.get("owd_error_ns")))
        check(r.get("owd_fwd_negative", 0) == 0 and
              r.get("owd_back_negative", 0) == 0,
              "no negative one-way sample in a record (fwd %s, back %s)" %
              (r.get("owd_fwd_negative"), r.get("owd_back_negative")))
        if r["rx_pkts"]:
            cnt = {k: hist_count(r["hist"][k]) for k in
                   ("rtt", "owd_fwd", "owd_back")}
            check(cnt["rtt"] == n and cnt["owd_fwd"] == n -
                  r.get("owd_fwd_negative", 0) and cnt["owd_back"] == n -
                  r.get("owd_back_negative", 0),
                  "histogram counts %s agree with rx_pkts %d" %
                  (cnt, r["rx_pkts"]))
    reps = pcap_replies(cap)
    check(len(reps) == rx, "every reply captured (%d of %d)" %
          (len(reps), rx))
    fwd = [t2 - t1 for t1, t2, _, _ in reps]
    back = [t4 - t3 for _, _, t3, t4 in reps]
    first = [t2 - t1 for t1, t2, _, _ in reps
             if t1 - reps[0][0] < 10**9]
    print("  forward T2-T1: min %.1f us, max %.1f us; first second min "
          "%.1f us; backward T4-T3: min %.1f us, max %.1f us" %
          (min(fwd) / 1e3, max(fwd) / 1e3, min(first) / 1e3,
           min(back) / 1e3, max(back) / 1e3))
    check(min(fwd) >= FLOOR_NS and min(back) >= FLOOR_NS,
          "no one-way difference of any packet below -50 us")


def hist_count(b64):
    return Hist.decode(b64).count if b64 else 0


def main():
    metroprobe = os.environ.get("METROPROBE")
    if not metroprobe:
        print("METROPROBE must name the binary")
        return 2
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        return 77
    net = mpnet.Net("kp", "AB", "kernelpeer", keep_env="KERNELPEER_KEEP")
    try:
        net.up()
        run(net, metroprobe)
    except mpnet.Fail as e:
        failures.append(str(e))
        print("FAIL: %s" % e)
    finally:
        net.down()
    if failures:
        print("FAIL: %d check(s) failed" % len(failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
