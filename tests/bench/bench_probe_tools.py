#!/usr/bin/env python3
"""Helpers of scripts/bench-probe.sh.

  bench_probe_tools.py rate RECORDS SESSION PPS
      full intervals (not the first nor the last): achieved pps, error %
      vs asked, lost; prints "achieved_pps err_pct lost tx rx"
  bench_probe_tools.py gaps PCAP SRCMAC PPS
      inter-departure gaps of the sender's test packets in a nanosecond
      pcap (earliest capture of each sender sequence number from SRCMAC to
      UDP 862): prints "n p50_abs_err_ns p99_abs_err_ns mean_gap_ns"
  bench_probe_tools.py testpmd LOG
      median over the periodic stats of the sum of both ports' Rx-pps
      (the first two periods, warm-up, skipped): prints pps
  bench_probe_tools.py median V...
"""
import json
import statistics
import struct
import sys


def pct(v, q):
    v = sorted(v)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, int(q * len(v)))]


def rate(path, session, pps):
    recs = [json.loads(l) for l in open(path) if l.strip()]
    recs = [r for r in recs if r["session"] == session]
    recs.sort(key=lambda r: r["start_ns"])
    full = recs[1:-1]
    if not full:
        print("nan nan nan 0 0")
        return
    tx = sum(r["tx_pkts"] for r in full)
    rx = sum(r["rx_pkts"] for r in full)
    ns = sum(r["interval_ns"] for r in full)
    lost = sum(r["lost"] for r in recs)
    ach = tx * 1e9 / ns
    print("%.0f %.3f %d %d %d" % (ach, (ach - pps) / pps * 100, lost, tx, rx))


def gaps(path, mac, pps):
    d = open(path, "rb").read()
    magic = struct.unpack("<I", d[:4])[0]
    if magic != 0xA1B23C4D:
        sys.exit("not a nanosecond pcap")
    mac = bytes.fromhex(mac.replace(":", ""))
    o, first = 24, {}
    while o + 16 <= len(d):
        s, f, cl, _ = struct.unpack("<IIII", d[o:o + 16])
        p = d[o + 16:o + 16 + cl]
        o += 16 + cl
        if len(p) < 46 or p[6:12] != mac or p[12:14] != b"\x08\x00":
            continue
        ihl = (p[14] & 15) * 4
        u = 14 + ihl
        if struct.unpack(">H", p[u + 2:u + 4])[0] != 862:
            continue
        seq = struct.unpack(">I", p[u + 8:u + 12])[0]
        t = s * 1000000000 + f
        # the same packet is also captured on receive at the reflector
        # (same bytes): the earliest capture is the departure
        if seq not in first or t < first[seq]:
            first[seq] = t
    ts = sorted(first.items())
    want = 1e9 / pps
    g = [b[1] - a[1] for a, b in zip(ts, ts[1:]) if b[0] == a[0] + 1]
    err = [abs(x - want) for x in g]
    print("%d %.0f %.0f %.0f" % (len(g), pct(err, 0.5), pct(err, 0.99),
                                 statistics.mean(g) if g else float("nan")))


def testpmd(path):
    vals, cur = [], []
    for line in open(path):
        if "Rx-pps:" in line:
            cur.append(int(line.split()[1]))
            if len(cur) == 2:
                vals.append(sum(cur))
                cur = []
    vals = vals[2:]
    print("%.0f" % statistics.median(vals) if vals else "nan")


def main():
    a = sys.argv[1:]
    if a[0] == "rate":
        rate(a[1], a[2], float(a[3]))
    elif a[0] == "gaps":
        gaps(a[1], a[2], float(a[3]))
    elif a[0] == "testpmd":
        testpmd(a[1])
    elif a[0] == "median":
        v = [float(x) for x in a[1:] if x != "nan"]
        print("%.6g" % statistics.median(v) if v else "nan")


if __name__ == "__main__":
    main()
