#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Prints the demo's table from the collector's JSON reports.

usage: summary.py REPORT_JSON [RTT_REPORT_JSON]

REPORT_JSON is the SLA report (schema metroprobe.report.v1). Its delay
figures are one-way (the worse direction of each link) when the clocks are
synchronised. RTT_REPORT_JSON is the same period under a profile whose
delay basis is the round trip: its delay figures fill the RTT columns.
Every percentile comes from the collector's merged histograms.
"""
import json
import sys


def ms(ns):
    return "%.3f" % (ns / 1e6) if ns is not None else "-"


def metric(link, name):
    for m in link["metrics"]:
        if m["metric"] == name:
            return m
    return None


def bound_text(p):
    parts = []
    if p.get("delay_max_ns") is not None:
        parts.append("%s delay p%g <= %s ms" % (
            p["delay_basis"], p["delay_percentile"], ms(p["delay_max_ns"])))
    if p.get("loss_ratio_max") is not None:
        parts.append("loss <= %g %%" % (100 * p["loss_ratio_max"]))
    if p.get("dv_max_ns") is not None:
        parts.append("%s p%g <= %s ms" % (
            p["delay_variation"].upper(), p["dv_percentile"],
            ms(p["dv_max_ns"])))
    if p.get("availability_min_percent") is not None:
        parts.append("availability >= %g %%" % p["availability_min_percent"])
    if p.get("capacity_min_bps") is not None:
        parts.append("capacity >= %g Gb/s" % (p["capacity_min_bps"] / 1e9))
    return ", ".join(parts)


def main():
    rep = json.load(open(sys.argv[1]))
    rtt = {}
    if len(sys.argv) > 2:
        for l in json.load(open(sys.argv[2]))["links"]:
            rtt[(l["probe"], l["session"])] = l.get("delay_ns") or {}

    per = rep["period"]
    print("SLA report %s .. %s (%d s), %d links: %d pass, %d fail" % (
        per["from"], per["to"], per["duration_ns"] // 10**9,
        rep["summary"]["links"], rep["summary"]["links_passing"],
        rep["summary"]["links_failing"]))
    head = ("link (sender -> reflector)", "RTT p50", "RTT p99",
            "1-way p50", "1-way p99", "lost/sent", "loss %", "SLA")
    rows = []
    for l in rep["links"]:
        r = rtt.get((l["probe"], l["session"]), {})
        d = l.get("delay_ns") or {}
        one_way = l.get("delay_basis") == "one-way"
        tx = l.get("tx_pkts") or 0
        lost = l.get("lost_pkts") or 0
        failing = [m["metric"] for m in l["metrics"] if m["status"] == "fail"]
        status = "pass" if l["status"] == "pass" else \
            "FAIL (%s)" % ", ".join(failing or ["no data"])
        rows.append(("%s -> %s" % (l["probe"], l["peer"]),
                     ms(r.get("p50")), ms(r.get("p99")),
                     ms(d.get("p50")) if one_way else "-",
                     ms(d.get("p99")) if one_way else "-",
                     "%d/%d" % (lost, tx),
                     "%.3f" % (100.0 * lost / tx) if tx else "-",
                     status))
    widths = [max(len(str(x[i])) for x in rows + [head])
              for i in range(len(head))]
    line = "  ".join("%-*s" if i in (0, 7) else "%*s"
                     for i in range(len(head)))
    print((line % tuple(v for p in zip(widths, head) for v in p)).rstrip())
    for row in rows:
        print((line % tuple(v for p in zip(widths, row) for v in p)).rstrip())
    print("delays in ms; one-way: the worse direction of the link "
          "(sender->reflector or back)")
    for p in rep["profiles"]:
        print("profile %s: %s" % (p["name"], bound_text(p)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
