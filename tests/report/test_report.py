#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""SLA reports end to end: a real SQLite store filled by report_fixture
(six hand-made links, see report_fixture.c), the JSON, CSV and HTML reports
checked against the hand computation below, the HTML rendered in headless
Chromium (DOM, screenshot, and proof that it fetches nothing), and the
`metroprobe-collector report` command compared with report_generate.

usage: test_report.py REPORT_FIXTURE METROPROBE_COLLECTOR
"""
import csv
import html.parser
import io
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import zlib

FIXTURE, COLLECTOR = sys.argv[1], sys.argv[2]
CHROMIUM = "/usr/bin/chromium"

T0 = "2026-11-25T00:00:00Z"
T_END = "2026-11-25T00:10:00Z"
MIN = 60 * 10**9
T0_NS = 1795564800 * 10**9

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def mid(v):
    """Midpoint of the histogram bucket of v (hist.h: 64 linear sub-buckets
    per power of two): what a quantile reports for a single value."""
    e = v.bit_length() - 1
    s = e - 6
    return ((v >> s) << s) + (1 << (s - 1))


def close(a, b, rel=1e-12):
    return a is not None and abs(a - b) <= rel * max(abs(b), 1e-300)


# The hand computation (report_fixture.c explains each link).
SESSION_E = "=s-e <b>\"x\",&'"
EXPECTED = {
    # (probe, session): status, basis, peer, profile, metric values
    # capacity from the capacity session north-south-cap
    ("north", "north-south"): dict(
        status="pass", basis="one-way", peer="south", profile="default",
        delay=mid(420000), delay_bound=1000000, loss=0.0, dv=mid(20000),
        availability=100.0, coverage=100.0, capacity=110e9,
        capacity_status="pass", failing=[]),
    ("north", "north-south-cap"): dict(
        status="pass", basis="one-way", peer="south", profile="captest",
        delay=mid(420000), delay_bound=1000000, loss=0.0, dv=mid(20000),
        availability=None, coverage=10.0, capacity=110e9,
        capacity_status="pass", failing=[]),
    ("north", "north-east"): dict(
        status="fail", basis="one-way", peer="east", profile="east",
        delay=mid(2500000), delay_bound=2000000, loss=0.0, dv=mid(10000),
        availability=100.0, coverage=100.0, capacity=None,
        capacity_status="no bound", failing=["delay"]),
    ("south", "south-north"): dict(
        status="fail", basis="round-trip", peer="north", profile="default",
        delay=mid(600000), delay_bound=1000000, loss=0.0, dv=mid(15000),
        availability=70.0, coverage=70.0, capacity=120e9,
        capacity_status="pass", failing=["availability"]),
    ("east", "east-north"): dict(
        status="fail", basis="one-way", peer="north", profile="default",
        delay=mid(300000), delay_bound=1000000, loss=1 / 181000,
        dv=mid(5000), availability=90.0, coverage=100.0, capacity=100e9,
        capacity_status="pass", failing=["availability"]),
    ("south", SESSION_E): dict(
        status="pass", basis="round-trip", peer="east", profile="east",
        delay=mid(700000), delay_bound=2000000, loss=0.0, dv=mid(8000),
        availability=100.0, coverage=100.0, capacity=None,
        capacity_status="no bound", failing=[]),
}
ORDER = [("east", "east-north"), ("north", "north-east"),
         ("north", "north-south"), ("north", "north-south-cap"),
         ("south", SESSION_E), ("south", "south-north")]
# (probe, session, metric, start minute, end minute, value, bound);
# north-east's minute 4 is measurement degraded, not a violation
VIOLATIONS = [
    ("east", "east-north", "loss_ratio", 2, 3, 1 / 1000, 1e-5),
    ("north", "north-east", "delay", 3, 4, mid(2500000), 2000000),
    ("north", "north-south-cap", "no_data", 1, 10, 9, None),
    ("south", "south-north", "no_data", 5, 8, 3, None),
]
# measurement quality per link (report_fixture.c): largest error bounds
# (None: not stated), degraded and not-stated delta-t, clock steps,
# samples excluded (clock step, negative RTT), negative one-way samples
# (forward, backward), loss (network, possibly the host's), host drops
# (imissed, rx_nombuf, ierrors)
NOT_STATED = dict(rtt=None, owd=None, degraded=0, clock_steps=0,
                  excluded=(0, 0), negative=(0, 0), loss=(0, 0),
                  host=(0, 0, 0))
QUALITY = {
    ("east", "east-north"): dict(
        rtt=2000, owd=30000, degraded=0, unstated=0, clock_steps=0,
        excluded=(0, 1), negative=(0, 3), loss=(0, 1), host=(3, 1, 2)),
    ("north", "north-east"): dict(
        rtt=900000, owd=80000, degraded=1, unstated=0, clock_steps=1,
        excluded=(2, 0), negative=(0, 0), loss=(0, 0), host=(0, 0, 0)),
    ("north", "north-south"): dict(NOT_STATED, unstated=10),
    ("north", "north-south-cap"): dict(NOT_STATED, unstated=1),
    ("south", SESSION_E): dict(NOT_STATED, unstated=10),
    ("south", "south-north"): dict(NOT_STATED, unstated=7),
}
# (probe, session, start minute, end minute, bound, limit)
DEGRADED = [("north", "north-east", 4, 5, 80000, 50000)]


def minute(m):
    return "2026-11-25T00:%02d:00Z" % m


def check_json(doc):
    check(doc["schema"] == "metroprobe.report.v1", "json schema")
    check(doc["period"]["from"] == T0 and doc["period"]["to"] == T_END,
          "json period")
    check(doc["period"]["duration_ns"] == 10 * MIN, "json duration")
    s = doc["summary"]
    check((s["links"], s["links_passing"], s["links_failing"]) == (6, 3, 3),
          "json summary counts %r" % s)
    check(close(s["coverage_percent"], 80.0), "json coverage 48/60")
    check(s["violating_intervals"] == 2, "json violating intervals")
    check((s["degraded_intervals"], s["bound_not_stated_intervals"],
           s["lost_host_suspect_pkts"]) == (1, 28, 1),
          "json summary of measurement quality %r" % s)
    names = [p["name"] for p in doc["profiles"]]
    check(names == ["default", "east", "captest"],
          "json profiles %r" % names)
    east = doc["profiles"][1]
    check(east["delay_max_ns"] == 2000000 and east["capacity_min_bps"] is None
          and east["source"] == "config", "json profile east")
    check(east["max_error_ns"] == 50000 and
          doc["profiles"][0]["max_error_ns"] is None,
          "json profile error limits %r" % [p["max_error_ns"]
                                            for p in doc["profiles"]])
    d = doc["profiles"][0]
    check(d["delay_max_ns"] == 1000000 and close(d["loss_ratio_max"], 1e-5)
          and d["dv_max_ns"] == 100000
          and close(d["availability_min_percent"], 99.99)
          and close(d["capacity_min_bps"], 100e9)
          and d["interval_ns"] == MIN and d["source"] == "config"
          and d["capacity_sessions"] == ["*-cap"],
          "json default profile thresholds")
    check(doc["profiles"][2]["availability_min_percent"] is None,
          "json profile captest without availability bound")
    keys = [(l["probe"], l["session"]) for l in doc["links"]]
    check(keys == ORDER, "json link order %r" % keys)
    for link in doc["links"]:
        k = (link["probe"], link["session"])
        e = EXPECTED[k]
        check(link["status"] == e["status"], "%r status" % (k,))
        check(link["delay_basis"] == e["basis"], "%r basis" % (k,))
        check(link["peer"] == e["peer"], "%r peer %s" % (k, link["peer"]))
        check(link["profile"] == e["profile"], "%r profile" % (k,))
        check(link["intervals"] == 10, "%r intervals" % (k,))
        check(close(link["coverage_percent"], e["coverage"]),
              "%r coverage" % (k,))
        m = {x["metric"]: x for x in link["metrics"]}
        for x in link["metrics"]:
            check("unit" in x and "status" in x and "comparison" in x,
                  "%r metric %s named with unit" % (k, x["metric"]))
        check(m["delay"]["value"] == e["delay"] and
              m["delay"]["bound"] == e["delay_bound"] and
              m["delay"]["unit"] == "ns" and m["delay"]["percentile"] == 99,
              "%r delay %r" % (k, m["delay"]))
        check(close(m["loss_ratio"]["value"], e["loss"]) or
              (e["loss"] == 0 and m["loss_ratio"]["value"] == 0),
              "%r loss %r" % (k, m["loss_ratio"]))
        check(m["delay_variation"]["value"] == e["dv"] and
              m["delay_variation"]["kind"] == "ipdv",
              "%r ipdv %r" % (k, m["delay_variation"]))
        if e["availability"] is None:
            check(m["availability"]["status"] == "no bound" and
                  m["availability"]["value"] is None,
                  "%r availability without bound" % (k,))
        else:
            check(close(m["availability"]["value"], e["availability"]) and
                  m["availability"]["unit"] == "percent",
                  "%r availability %r" % (k, m["availability"]))
        check(m["capacity"]["status"] == e["capacity_status"],
              "%r capacity status %r" % (k, m["capacity"]))
        if e["capacity"] is not None:
            check(close(m["capacity"]["value"], e["capacity"]) and
                  m["capacity"]["unit"] == "bit/s", "%r capacity" % (k,))
        if k[0] == "north" and k[1].startswith("north-south"):
            check(m["capacity"]["source"] == "capacity session" and
                  m["capacity"]["capacity_session"] == "north-south-cap",
                  "%r capacity from the capacity session" % (k,))
        failing = [x["metric"] for x in link["metrics"]
                   if x["status"] == "fail"]
        check(failing == e["failing"], "%r failing %r" % (k, failing))
        check(len(link["delay_over_time"]) == 10, "%r chart points" % (k,))
    for link in doc["links"]:
        check_json_quality(link)
    got = []
    for link in doc["links"]:
        for v in link["violations"]:
            got.append((link["probe"], link["session"], v["metric"],
                        v["start"], v["end"], v["value"], v["bound"]))
    want = [(p, s, m, minute(a), minute(b), val, bound)
            for p, s, m, a, b, val, bound in VIOLATIONS]
    check(len(got) == len(want), "json violations %r" % got)
    for g, w in zip(got, want):
        check(g[:5] == w[:5] and close(g[5], w[5]) and
              (g[6] == w[6] or close(g[6], w[6])),
              "json violation %r != %r" % (g, w))
    # chart of north-east: p99 per minute, the spike in minutes 3 and 4
    ne = doc["links"][1]["delay_over_time"]
    check([p["p99_ns"] for p in ne] ==
          [mid(500000)] * 3 + [mid(2500000)] * 2 + [mid(500000)] * 5,
          "json north-east chart p99")
    sn = doc["links"][5]["delay_over_time"]
    check([p["p99_ns"] is None for p in sn] ==
          [False] * 5 + [True] * 3 + [False] * 2, "json south-north gaps")


def check_json_quality(link):
    k = (link["probe"], link["session"])
    e = QUALITY[k]
    q = link["measurement_quality"]
    got = dict(rtt=q["rtt_error_max_ns"], owd=q["owd_error_max_ns"],
               degraded=q["intervals_degraded"],
               unstated=q["intervals_bound_not_stated"],
               clock_steps=q["clock_steps"],
               excluded=(q["samples_excluded_clock_step"],
                         q["samples_excluded_negative_rtt"]),
               negative=(q["owd_fwd_negative_samples"],
                         q["owd_back_negative_samples"]),
               loss=(q["lost_network_pkts"], q["lost_host_suspect_pkts"]),
               host=(q["host_imissed"], q["host_rx_nombuf"],
                     q["host_ierrors"]))
    check(got == e, "json quality of %r: %r" % (k, got))
    check(q["stated"] == (e["rtt"] is not None), "json stated of %r" % (k,))
    check(q["host_drops_total"] == sum(e["host"]),
          "json host drops of %r" % (k,))
    check(q["max_error_ns"] == (50000 if EXPECTED[k]["profile"] == "east"
                                else None), "json limit of %r" % (k,))
    if k == ("east", "east-north"):
        check(q["owd_back_negative_min_ns"] == -1500 and
              q["owd_fwd_negative_min_ns"] == 0, "json negative minima")
    got = [(link["probe"], link["session"], minute_of(g["start_ns"]),
            minute_of(g["end_ns"]), g["error_bound_ns"], g["max_error_ns"])
           for g in link["degraded_intervals"]]
    want = [g for g in DEGRADED if g[:2] == k]
    check(got == want, "json degraded of %r: %r" % (k, got))
    check(all(g["basis"] == "one-way" and g["start"] == minute(4)
              for g in link["degraded_intervals"]), "json degraded dates")
    check(link["degraded_truncated"] is False, "json degraded truncated")


def minute_of(ns):
    return (ns - T0_NS) // MIN


def check_csv(text):
    check(text.endswith("\r\n"), "csv CRLF line ends")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    metric_rows = [r for r in rows if r["row_type"] == "metric"]
    check(len(metric_rows) == 6 * 6, "csv 6 metric rows per link")
    for k, e in EXPECTED.items():
        session = k[1]
        if session.startswith("="):
            session = "'" + session  # spreadsheet formula guard
        mine = {r["metric"]: r for r in metric_rows
                if r["probe"] == k[0] and r["session"] == session}
        check(set(mine) == {"delay", "loss_ratio", "delay_variation",
                            "availability", "capacity", "coverage"},
              "csv metrics of %r: %r" % (k, sorted(mine)))
        if not mine:
            continue
        d = mine["delay"]
        check(int(d["value"]) == e["delay"] and
              int(d["bound"]) == e["delay_bound"] and d["unit"] == "ns" and
              d["basis"] == e["basis"] and d["percentile"] == "99" and
              d["start"] == T0 and d["end"] == T_END and
              d["comparison"] == "<=", "csv delay of %r: %r" % (k, d))
        check(close(float(mine["loss_ratio"]["value"]), e["loss"]) or
              float(mine["loss_ratio"]["value"]) == e["loss"],
              "csv loss of %r" % (k,))
        check(int(mine["delay_variation"]["value"]) == e["dv"],
              "csv ipdv of %r" % (k,))
        a = mine["availability"]
        if e["availability"] is None:
            check(a["value"] == "" and a["bound"] == "" and
                  a["status"] == "no bound", "csv availability %r" % a)
        else:
            check(close(float(a["value"]), e["availability"]) and
                  a["unit"] == "percent" and a["comparison"] == ">=" and
                  close(float(a["bound"]), 99.99),
                  "csv availability %r" % a)
        check(close(float(mine["coverage"]["value"]), e["coverage"]),
              "csv coverage of %r" % (k,))
        c = mine["capacity"]
        check(c["status"] == e["capacity_status"], "csv capacity %r" % c)
        if e["capacity"] is not None:
            check(close(float(c["value"]), e["capacity"]),
                  "csv capacity value %r" % c)
        else:
            check(c["value"] == "" and c["bound"] == "",
                  "csv capacity without bound %r" % c)
        check(d["peer"] == e["peer"] and d["profile"] == e["profile"],
              "csv peer/profile of %r" % (k,))
    check_csv_quality(rows)
    viol = [r for r in rows if r["row_type"] == "violation"]
    got = [(r["probe"], r["session"], r["metric"], r["start"], r["end"],
            float(r["value"]), float(r["bound"]) if r["bound"] else None)
           for r in viol]
    want = [(p, s, m, minute(a), minute(b), val, bound)
            for p, s, m, a, b, val, bound in VIOLATIONS]
    check(len(got) == len(want), "csv violations %r" % got)
    for g, w in zip(got, want):
        check(g[:5] == w[:5] and close(g[5], w[5]) and
              (g[6] == w[6] or close(g[6], w[6])),
              "csv violation %r != %r" % (g, w))


def check_csv_quality(rows):
    """The quality rows (15 per link) and the degraded delta-t, after all
    the rows that were there before them."""
    types = [r["row_type"] for r in rows]
    first = types.index("quality") if "quality" in types else len(types)
    check(all(t in ("quality", "degraded") for t in types[first:]),
          "csv quality rows after metric and violation rows")
    quality = [r for r in rows if r["row_type"] == "quality"]
    check(len(quality) == 6 * 15, "csv 15 quality rows per link")
    for k, e in QUALITY.items():
        session = "'" + k[1] if k[1].startswith("=") else k[1]
        mine = {(r["metric"], r["basis"]): r for r in quality
                if r["probe"] == k[0] and r["session"] == session}

        def val(metric, basis=""):
            r = mine.get((metric, basis))
            if r is None:
                return "missing"
            return int(r["value"]) if r["value"] else None

        got = dict(rtt=val("error_bound_max", "round-trip"),
                   owd=val("error_bound_max", "one-way"),
                   degraded=val("degraded"),
                   unstated=val("bound_not_stated"),
                   clock_steps=val("clock_steps"),
                   excluded=(val("excluded_clock_step"),
                             val("excluded_negative_rtt")),
                   negative=(val("negative_one_way", "forward"),
                             val("negative_one_way", "backward")),
                   loss=(val("lost_network"), val("lost_host_suspect")),
                   host=(val("host_imissed"), val("host_rx_nombuf"),
                         val("host_ierrors")))
        check(got == e, "csv quality of %r: %r" % (k, got))
        check(val("host_drops") == sum(e["host"]), "csv host drops")
        b = mine.get(("error_bound_max", "one-way"), {})
        check(b.get("status") == ("info" if e["owd"] is not None else
                                  "not stated") and b.get("unit") == "ns"
              and b.get("start") == T0 and b.get("end") == T_END,
              "csv bound row of %r: %r" % (k, b))
    got = [(r["probe"], r["session"], r["start"], r["end"], int(r["value"]),
            int(r["bound"]), r["basis"], r["unit"], r["status"])
           for r in rows if r["row_type"] == "degraded"]
    want = [(p, s, minute(a), minute(b), bound, limit, "one-way", "ns",
             "degraded") for p, s, a, b, bound, limit in DEGRADED]
    check(got == want, "csv degraded rows %r" % got)


def check_html_static(text):
    low = text.lower()
    for needle in ("http://", "https://", "src=", "@import", "url(",
                   "<script", "<link", "<img", "<iframe", "<object"):
        check(needle not in low, "html holds %r" % needle)
    check("@page{size:A4" in text.replace(" ", ""), "html A4 page CSS")
    check("break-inside:avoid" in text, "html charts not split")
    # names from records are escaped
    check("<b>" not in text, "html: raw <b> from a record")
    check("=s-e &lt;b&gt;&quot;x&quot;,&amp;&#39;" in text,
          "html: escaped session name")
    check(text.count("<svg") == 6, "html: one chart per link")
    # every profile states its measurement error limit
    rows = re.findall(r'<tr data-key="max_error_ns"><th scope="row">'
                      r'Measurement error bound</th><td>([^<]*)</td>', text)
    check(rows == ["no limit", "\u2264 50 \u00b5s (50000 ns); a \u0394t "
                   "whose records state a larger one is measurement "
                   "degraded", "no limit"], "html: error limits %r" % rows)


class Dom(html.parser.HTMLParser):
    """Collects the link rows, matrix cells, violation rows and text."""

    def __init__(self):
        super().__init__()
        self.rows = []          # attrs of tr.link-row
        self.cells = []         # attrs of matrix td.cell
        self.violations = []    # [cells text] of #violations rows
        self.metric_cells = []  # (row index, attrs)
        self.svg_lines = []     # attrs of svg line.bound
        self.polylines = 0
        self.quality = []       # {data-figure: data-value} per quality row
        self.degraded = []      # [cells text] of #degraded rows
        self.stack = []
        self.table = None
        self.cur = None
        self.text = []
        self.ids = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class", "").split()
        if "id" in a:
            self.ids[a["id"]] = ""
            self.stack.append(a["id"])
        else:
            self.stack.append(None)
        if tag == "table":
            self.table = a.get("id")
        if tag == "tr" and "link-row" in cls:
            self.rows.append(a)
        if tag == "tr" and "quality-row" in cls:
            self.quality.append({"key": (a["data-probe"],
                                         a["data-session"])})
        if tag == "td" and "data-figure" in a and self.quality:
            self.quality[-1][a["data-figure"]] = a.get("data-value")
        if tag == "tr" and self.table == "degraded" and "degraded" in cls:
            self.cur = []
            self.degraded.append(self.cur)
        if tag == "td" and "cell" in cls:
            self.cells.append(a)
        if tag == "td" and "m" in cls and self.rows:
            self.metric_cells.append((len(self.rows) - 1, a))
        if tag == "tr" and self.table == "violations" and \
                "violation" in cls:
            self.cur = []
            self.violations.append(self.cur)
        if tag == "td" and self.cur is not None:
            self.cur.append("")
        if tag == "line" and "bound" in cls:
            self.svg_lines.append(a)
        if tag == "polyline":
            self.polylines += 1

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()
        if tag == "table":
            self.table = None
            self.cur = None

    def handle_data(self, data):
        self.text.append(data)
        for i in self.stack:
            if i is not None:
                self.ids[i] += data
        if self.cur is not None and self.cur:
            self.cur[-1] += data


def check_dom(dom_text):
    d = Dom()
    d.feed(dom_text)
    check(d.ids.get("n-links") == "6", "dom: 6 links")
    check(d.ids.get("n-pass") == "3", "dom: 3 passing")
    check(d.ids.get("n-fail") == "3", "dom: 3 failing")
    check(d.ids.get("coverage") == "80 %", "dom: coverage 80 %%: %r" %
          d.ids.get("coverage"))
    check(d.ids.get("period", "").startswith(T0) and T_END in
          d.ids.get("period", ""), "dom: period %r" % d.ids.get("period"))
    check(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$",
                   d.ids.get("generated", "")) is not None,
          "dom: generation time RFC 3339")
    rows = [(r["data-probe"], r["data-session"], r["data-status"])
            for r in d.rows]
    check(rows == [(k[0], k[1], EXPECTED[k]["status"]) for k in ORDER],
          "dom: link rows %r" % rows)
    # metric cells: data-value holds the exact figure
    for i, a in d.metric_cells:
        k = ORDER[i]
        e = EXPECTED[k]
        if a["data-metric"] == "delay":
            check(float(a.get("data-value", "nan")) == e["delay"],
                  "dom: delay cell of %r" % (k,))
            want = "fail" if "delay" in e["failing"] else "pass"
            check(want in a["class"].split(), "dom: delay class %r" % (k,))
        if a["data-metric"] == "availability" and e["availability"]:
            check(close(float(a["data-value"]), e["availability"]),
                  "dom: availability cell of %r" % (k,))
    # matrix: source rows x destination columns
    cells = {(c["data-from"], c["data-to"]): c for c in d.cells
             if "data-from" in c}
    check(len(cells) == 5, "dom: 5 measured matrix cells (6 links)")
    for k in ORDER:
        e = EXPECTED[k]
        c = cells.get((k[0], e["peer"]))
        check(c is not None and c["data-status"] == e["status"] and
              float(c["data-delay-ns"]) == e["delay"],
              "dom: matrix cell %s -> %s: %r" % (k[0], e["peer"], c))
    check("c-bad" in cells[("north", "east")]["class"],
          "dom: north->east cell coloured over the bound")
    check("c-good" in cells[("east", "north")]["class"],
          "dom: east->north cell coloured well under the bound")
    # violation list with RFC 3339 dates
    got = [(v[1], v[2]) for v in d.violations]
    want = [(minute(a), minute(b)) for _, _, _, a, b, _, _ in VIOLATIONS]
    check(got == want, "dom: violation rows %r" % got)
    check_dom_quality(d)
    check(len(d.svg_lines) == 6, "dom: a bound line in every chart")
    check(d.polylines >= 10, "dom: p50 and p99 lines drawn")
    text = " ".join(d.text)
    for s in ("One-way delay", "p99 \u2264 1 ms", "\u2264 1e-05",
              "\u2265 99.99 %", "\u2265 100 Gb/s", "IPDV",
              "p99 \u2264 100 \u00b5s", SESSION_E):
        check(s in text, "dom: text %r" % s)


def check_dom_quality(d):
    check(d.ids.get("n-degraded") == "1", "dom: 1 degraded delta-t")
    check(d.ids.get("n-unstated") == "28", "dom: 28 without a bound")
    check([q["key"] for q in d.quality] == ORDER, "dom: quality rows")
    for q in d.quality:
        e = QUALITY[q["key"]]

        def num(name):
            v = q.get(name)
            return int(v) if v is not None else None

        got = dict(rtt=num("rtt_error_max"), owd=num("owd_error_max"),
                   degraded=num("degraded"), unstated=num("bound_not_stated"),
                   clock_steps=num("clock_steps"),
                   negative=num("negative_one_way"), excluded=num("excluded"),
                   loss=(num("lost_network"), num("lost_host_suspect")),
                   host=num("host_drops"))
        want = dict(e, negative=sum(e["negative"]), excluded=sum(e["excluded"]),
                    host=sum(e["host"]))
        check(got == want, "dom: quality of %r: %r" % (q["key"], got))
    got = [[c.strip() for c in row] for row in d.degraded]
    check(len(got) == 1 and got[0][1:] == [
        minute(4), minute(5), "one-way", "80 \u00b5s", "50 \u00b5s"],
        "dom: degraded rows %r" % got)
    text = " ".join(d.text)
    for s in ("Loss possibly caused by the measuring host",
              "not stated", "Measurement-degraded intervals"):
        check(s in text, "dom: text %r" % s)


def png_non_white(path):
    """Decodes an 8-bit RGB(A) PNG with zlib; returns (pixels, non-white,
    red badge pixels)."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "screenshot is a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    check(depth == 8 and ctype in (2, 6), "PNG 8-bit RGB(A)")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    non_white = red = 0
    i = 0
    for _ in range(h):
        ft = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        for x in range(0, stride, bpp):
            r, g, bl = line[x], line[x + 1], line[x + 2]
            if r < 245 or g < 245 or bl < 245:
                non_white += 1
            if abs(r - 0xb4) < 12 and abs(g - 0x23) < 12 and \
                    abs(bl - 0x18) < 12:
                red += 1
        prev = line
    return w * h, non_white, red


class ProxyTrap:
    """A TCP listener posing as Chromium's proxy: every http(s) fetch
    connects here first (CONNECT host:443 or GET http://...), and gets
    nothing back. Keeps the first line of each request."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                c.settimeout(1.0)
                line = c.recv(4096).split(b"\r\n")[0]
                self.requests.append(line.decode("latin-1"))
            except OSError:
                self.requests.append("(no request line)")
            c.close()

    def take(self):
        r, self.requests = self.requests, []
        return r

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()


# Chromium's own service requests (clock, component update, accounts),
# made whatever the page: not the page's.
BROWSER_HOSTS = ("clients2.google.com", "update.googleapis.com",
                 "accounts.google.com")


def page_requests(trap_lines, log):
    """Fetches the page caused: request lines seen by the proxy trap and
    URLs Chromium's verbose log says it was about to request, less the
    browser's own service requests."""
    found = []
    for line in trap_lines:
        if not any(h in line for h in BROWSER_HOSTS):
            found.append("proxy: " + line)
    for url in re.findall(r"NotifyBeforeURLRequest: (\S+)", log):
        host = re.sub(r"^[a-z]+://([^/:]+).*$", r"\1", url)
        if url.startswith(("file:", "data:")) or host in BROWSER_HOSTS:
            continue
        found.append("log: " + url)
    return found


def chromium(args, tmp, proxy_port):
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--user-data-dir=" + profile,
           # the optimization guide fetches its models in the background
           # even with --disable-background-networking (seen as a stray
           # CONNECT to optimizationguide-pa.googleapis.com)
           "--disable-features=OptimizationGuideModelDownloading,"
           "OptimizationHints,OptimizationHintsFetching,"
           "OptimizationTargetPrediction",
           "--proxy-server=127.0.0.1:%d" % proxy_port,
           "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
           "--enable-logging=stderr", "--v=1"] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "chromium exit %d: %s" % (p.returncode,
                                                       p.stderr[-2000:]))
    return p


def main():
    tmp = tempfile.mkdtemp(prefix="mp-report-%d-" % os.getpid())
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all report checks passed")


def run(tmp):
    db = os.path.join(tmp, "fixture.db")
    ini = os.path.join(tmp, "collector.ini")
    with open(ini, "w") as f:
        f.write("[collector]\ndatabase = %s\n\n"
                "[sla.default]\ncapacity_sessions = *-cap\n\n"
                "[sla.east]\npeers = east\ndelay_max = 2ms\n"
                "capacity_min = off\nmax_error_ns = 50000\n\n"
                "[sla.captest]\nsessions = north-south-cap\n"
                "availability_min = off\n" % db)
    p = subprocess.run([FIXTURE, db, ini, tmp], capture_output=True,
                       text=True, timeout=120)
    print(p.stdout, p.stderr)
    if p.returncode != 0:
        failures.append("report_fixture failed")
        return
    with open(os.path.join(tmp, "report.json")) as f:
        doc = json.load(f)
    check_json(doc)
    with open(os.path.join(tmp, "report.csv"), newline="") as f:
        check_csv(f.read())
    html_path = os.path.join(tmp, "report.html")
    with open(html_path, encoding="utf-8") as f:
        check_html_static(f.read())

    trap = ProxyTrap()
    try:
        # the detector works: a page with an external style sheet and
        # image is caught
        bad = os.path.join(tmp, "fetching.html")
        with open(bad, "w") as f:
            f.write('<html><head><link rel="stylesheet" href="https://'
                    'fonts.example.net/a.css"></head><body><img src="http://'
                    '192.0.2.7/x.png">x</body></html>')
        p = chromium(["--dump-dom", "file://" + bad], tmp, trap.port)
        caught = page_requests(trap.take(), p.stderr)
        print("negative control, fetches caught:", caught)
        check(any("fonts.example.net" in c for c in caught) and
              any("192.0.2.7" in c for c in caught),
              "negative control: fetches not detected")

        url = "file://" + html_path
        dom = chromium(["--dump-dom", url], tmp, trap.port)
        check_dom(dom.stdout)
        shot = os.path.join(tmp, "report.png")
        s = chromium(["--screenshot=" + shot, "--window-size=1000,2400",
                      "--hide-scrollbars", url], tmp, trap.port)
        total, non_white, red = png_non_white(shot)
        print("screenshot: %d pixels, %d not white, %d FAIL-red" %
              (total, non_white, red))
        check(non_white > total * 0.05, "screenshot is not blank")
        check(red > 200, "screenshot shows the red FAIL marks")
        keep = os.environ.get("REPORT_SCREENSHOT")
        if keep:
            shutil.copy(shot, keep)
            shutil.copy(html_path, os.path.splitext(keep)[0] + ".html")
        # printed: every page A4 (595 x 842 pt)
        pdf = os.path.join(tmp, "report.pdf")
        pr = chromium(["--print-to-pdf=" + pdf, "--no-pdf-header-footer",
                       url], tmp, trap.port)
        with open(pdf, "rb") as f:
            boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+"
                               rb"([\d.]+)\s*\]", f.read())
        print("printed: %d pages" % len(boxes))
        check(len(boxes) >= 2 and all(
            abs(float(w) - 595.3) < 1.5 and abs(float(h) - 841.9) < 1.5
            for w, h in boxes), "printed pages are A4: %r" % boxes[:3])
        fetched = page_requests(trap.take(),
                                dom.stderr + s.stderr + pr.stderr)
        check(not fetched, "the report page fetched %r" % fetched[:5])
    finally:
        trap.close()

    # the command line tool gives the same content (but the generation
    # time) as report_generate
    out = os.path.join(tmp, "cli.json")
    p = subprocess.run([COLLECTOR, "report", "--config", ini, "--from", T0,
                        "--to", T_END, "--format", "json", "-o", out],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "collector report: %s" % p.stderr)
    if p.returncode == 0:
        with open(out) as f:
            cli = json.load(f)
        for d in (cli, doc):
            d.pop("generated")
            d.pop("generated_ns")
        check(cli == doc, "CLI report differs from report_generate")

    # a probe filter keeps every link's peer and profile (north -> east
    # is still matched by "peers = east" although east's records are not
    # in the report)
    out = os.path.join(tmp, "north.json")
    p = subprocess.run([COLLECTOR, "report", "--config", ini, "--from", T0,
                        "--to", T_END, "--format", "json", "--probe", "north",
                        "-o", out], capture_output=True, text=True,
                       timeout=120)
    check(p.returncode == 0, "collector report --probe: %s" % p.stderr)
    if p.returncode == 0:
        with open(out) as f:
            north = json.load(f)
        got = [(l["session"], l["peer"], l["profile"], l["status"])
               for l in north["links"]]
        want = [(k[1], EXPECTED[k]["peer"], EXPECTED[k]["profile"],
                 EXPECTED[k]["status"]) for k in ORDER if k[0] == "north"]
        check(got == want, "probe filter: %r" % got)
        check(north["probe_filter"] == "north", "probe filter named")

    # a period without any record: said plainly, nothing credited
    out = os.path.join(tmp, "empty.html")
    p = subprocess.run([COLLECTOR, "report", "--config", ini, "--from",
                        "2026-11-26T00:00:00Z", "--to", "2026-11-26T01:00:00Z",
                        "--format", "html", "-o", out],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "collector report (empty): %s" % p.stderr)
    if p.returncode == 0:
        with open(out, encoding="utf-8") as f:
            text = f.read()
        check('id="n-links">0<' in text and "No measurement was stored"
              in text, "empty period report")


main()
