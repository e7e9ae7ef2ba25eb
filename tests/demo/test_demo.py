#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The demo end to end: scripts/demo.sh as a user runs it, but short and
on the binaries of this build (--no-build).

  test_demo.py run        a 20 s run: exit 0; report.html/json/csv and
                          the logs in the output folder; the JSON report
                          fails exactly the A-C link (both sessions) and
                          every link has data in every delta-t; the
                          figures match the emulated links; the printed
                          table agrees; nothing is left behind
  test_demo.py interrupt  a bad option is refused (exit 2); Ctrl-C (SIGINT
                          to the whole process group) while it measures:
                          exit 130, no report, nothing left behind

Needs SRC (source root) and MP_BUILD_DIR (this build) in the environment.
Root only (namespaces, DPDK); skips (77) otherwise.
"""
import csv
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRC = os.environ["SRC"]
DEMO = os.path.join(SRC, "scripts", "demo.sh")

# The links as scripts/demo/link-*.conf set them up: one-way delay (ns)
# per session, and which sessions must fail their SLA.
EMULATED_OWD = {
    "a-to-b": 1000000, "b-to-a": 1000000,
    "b-to-c": 2000000, "c-to-b": 2000000,
    "a-to-c": 6000000, "c-to-a": 6000000,
}
MUST_FAIL = {("centre-a", "a-to-c"), ("centre-c", "c-to-a")}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def start_demo(out, duration):
    return subprocess.Popen(
        ["bash", DEMO, "--no-build", "--duration", str(duration),
         "--out", out],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)


def leftovers(tag, out):
    """Namespaces, DPDK runtime files and processes of this demo run."""
    left = []
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True,
                        text=True).stdout.split()
    left += ["namespace " + n for n in ns if n.startswith(tag + "-")]
    if os.path.isdir("/var/run/dpdk"):
        left += ["/var/run/dpdk/" + d for d in os.listdir("/var/run/dpdk")
                 if d.startswith(tag + "-")]
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if (tag + "-") in cmd or out in cmd:
            left.append("process %s: %s" % (pid, cmd[:120]))
    if os.path.exists(os.path.join(out, "run")):
        left.append(os.path.join(out, "run") + " (tokens, records)")
    return left


def print_demo_log(out):
    """The demo's own timestamped log: where the time went."""
    try:
        with open(os.path.join(out, "logs", "demo.log")) as f:
            print("logs/demo.log:\n" + f.read(), flush=True)
    except OSError:
        pass


def demo_tag(text):
    m = re.search(r"cleaned up: namespaces (mpdemo-\d+-\d+)-\*", text)
    return m.group(1) if m else None


def check_cleaned_up(text, out):
    """The demo said what it cleaned up, and none of it is left."""
    tag = demo_tag(text)
    if check(tag is not None, "the demo named what it cleaned up"):
        left = leftovers(tag, out)
        check(not left, "nothing left behind: %s" % left)


def check_report_json(path):
    rep = json.load(open(path))
    check(rep.get("schema") == "metroprobe.report.v1", "report schema")
    links = {(l["probe"], l["session"]): l for l in rep["links"]}
    check(set(s for _, s in links) == set(EMULATED_OWD),
          "the six sessions, got %s" % sorted(links))
    failing = {k for k, l in links.items() if l["status"] != "pass"}
    check(failing == MUST_FAIL, "exactly the A-C link fails, got %s" %
          sorted(failing))
    check(rep["summary"]["links_failing"] == 2 and
          rep["summary"]["links_passing"] == 4, "summary counts")
    for (probe, session), l in links.items():
        name = "%s/%s" % (probe, session)
        check(l["profile"] == "demo-metro", name + ": profile demo-metro")
        check(l["intervals"] >= 2, name + ": at least two delta-t")
        check(l["intervals_with_data"] == l["intervals"] and
              l["coverage_percent"] == 100.0,
              name + ": data in every delta-t (%s of %s)" %
              (l["intervals_with_data"], l["intervals"]))
        # 20 s at 100 packets/s, one record a second
        check(l["records"] >= 18, name + ": records %s" % l["records"])
        check(l["tx_pkts"] >= 1800, name + ": tx_pkts %s" % l["tx_pkts"])
        check(l["delay_basis"] == "one-way", name + ": one-way delay")
        d = l.get("delay_ns") or {}
        owd = EMULATED_OWD[session]
        # the emulated delay plus what the virtual wires cost (idle
        # back-off, veths, kernel routing): tolerant of a loaded machine
        check(d.get("p50") is not None and
              owd <= d["p50"] <= owd + 1500000,
              name + ": one-way p50 %s ns for an emulated %s ns" %
              (d.get("p50"), owd))
        failing_metrics = {m["metric"] for m in l["metrics"]
                           if m["status"] == "fail"}
        if (probe, session) in MUST_FAIL:
            check("delay" in failing_metrics,
                  name + ": fails on delay, got %s" % failing_metrics)
            check(len(l["violations"]) >= 1, name + ": violations listed")
        else:
            check(l["lost_pkts"] == 0 or "loss_ratio" not in
                  failing_metrics, name + ": no loss violation")
    return links


def check_csv(path, links):
    rows = list(csv.DictReader(open(path)))
    statuses = {}
    for r in rows:
        if r["row_type"] == "metric" and r["metric"] == "delay":
            statuses[(r["probe"], r["session"])] = r["status"]
    check(set(statuses) == set(links), "CSV has a delay row per link")
    for k, st in statuses.items():
        want = "fail" if k in MUST_FAIL else "pass"
        check(st == want, "CSV delay status of %s: %s" % (k, st))


def check_table(text, links):
    """The table the demo printed: a row per link, RTT ~ 2 x one-way."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"(centre-\w) -> (centre-\w)\s+([\d.]+)\s+([\d.]+)\s+"
                     r"([\d.]+)\s+([\d.]+)\s+(\d+)/(\d+)\s+([\d.]+)\s+(.*)$",
                     line)
        if m:
            rows[(m.group(1), m.group(2))] = m.groups()
    check(len(rows) == 6, "the table has six link rows, got %d" % len(rows))
    for (src, dst), g in rows.items():
        rtt_p50, owd_p50 = float(g[2]), float(g[4])
        check(owd_p50 * 1.8 <= rtt_p50 <= owd_p50 * 2 + 2.0,
              "table %s->%s: RTT p50 %s vs one-way p50 %s" %
              (src, dst, rtt_p50, owd_p50))
        fails = g[9].startswith("FAIL")
        check(fails == ({src, dst} == {"centre-a", "centre-c"}),
              "table %s->%s: %s" % (src, dst, g[9]))


def run_case():
    work = tempfile.mkdtemp(prefix="mpdemo-test.")
    out = os.path.join(work, "out")
    try:
        p = start_demo(out, 20)
        try:
            text, _ = p.communicate(timeout=560)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGINT)
            text, _ = p.communicate(timeout=30)
            check(False, "the demo did not finish in 560 s")
        print(text, flush=True)
        print_demo_log(out)
        check(p.returncode == 0, "demo exit status %s" % p.returncode)
        for f in ("report.html", "report.json", "report.csv"):
            check(os.path.getsize(os.path.join(out, f)) > 0
                  if os.path.exists(os.path.join(out, f)) else False,
                  f + " written")
        for f in ("centre-a.log", "centre-b.log", "centre-c.log",
                  "link-ab.log", "link-bc.log", "link-ac.log",
                  "collector.log", "feed.log", "collector.ini"):
            check(os.path.exists(os.path.join(out, "logs", f)),
                  "logs/" + f)
        if os.path.exists(os.path.join(out, "report.json")):
            links = check_report_json(os.path.join(out, "report.json"))
            check_csv(os.path.join(out, "report.csv"), links)
            check_table(text, links)
            html = open(os.path.join(out, "report.html")).read()
            check("<html" in html and "centre-c" in html and
                  "demo-metro" in html, "report.html names links, profile")
        check_cleaned_up(text, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def interrupt_case():
    work = tempfile.mkdtemp(prefix="mpdemo-test.")
    out = os.path.join(work, "out")
    try:
        # a bad option: one clear line, exit 2, nothing started
        bad = subprocess.run(["bash", DEMO, "--no-build", "--duration", "5"],
                             capture_output=True, text=True)
        check(bad.returncode == 2 and "--duration" in bad.stderr,
              "--duration 5 refused: %d %r" % (bad.returncode, bad.stderr))
        p = start_demo(out, 120)
        text = ""
        deadline = time.monotonic() + 330
        while time.monotonic() < deadline and p.poll() is None:
            r, _, _ = select.select([p.stdout], [], [], 1.0)
            if r:
                line = p.stdout.readline()
                text += line
                if "measuring for" in line:
                    break
        check("measuring for" in text, "the demo reached its measurement")
        time.sleep(3)
        t = time.monotonic()
        os.killpg(p.pid, signal.SIGINT)      # what Ctrl-C does
        try:
            rest, _ = p.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            rest, _ = p.communicate()
            check(False, "the demo did not stop within 40 s of SIGINT")
        text += rest
        print(text, flush=True)
        print_demo_log(out)
        print("stopped %.1f s after SIGINT" % (time.monotonic() - t))
        check(p.returncode == 130, "exit status %s, want 130" % p.returncode)
        check("interrupted" in text, "says it was interrupted")
        check(not os.path.exists(os.path.join(out, "report.json")),
              "no report from an interrupted run")
        check_cleaned_up(text, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, DPDK)")
        return 77
    case = sys.argv[1] if len(sys.argv) > 1 else "run"
    {"run": run_case, "interrupt": interrupt_case}[case]()
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("PASS: demo " + case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
