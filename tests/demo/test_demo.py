#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The demo end to end: scripts/demo.sh as a user runs it, but short and
on the binaries of this build (--no-build).

  test_demo.py run        a 20 s run (--keep-db): exit 0; while it
                          measures, the collector (in the demo's
                          management namespace) already shows every link
                          in /metrics and in /api/v1/report (reader
                          token), and its record count grows; at the end
                          report.html/json/csv and the logs in the output
                          folder; the records came through the probes'
                          own export (each probe's log: N spooled, spool
                          drained; the kept database holds exactly the N
                          records of its --records file, once each; no
                          feed step); the JSON report fails exactly the
                          A-C link (both sessions) and every link has data
                          in every delta-t; the figures match the emulated
                          links; the printed table agrees; nothing is left
                          behind
  test_demo.py interrupt  a bad option is refused (exit 2); Ctrl-C (SIGINT
                          to the whole process group) while it measures:
                          exit 130, no report, each probe drained its
                          export spool first, nothing left behind

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
COLLECTOR = os.path.join(os.environ["MP_BUILD_DIR"], "collector",
                         "metroprobe-collector")

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


def start_demo(out, duration, *extra):
    return subprocess.Popen(
        ["bash", DEMO, "--no-build", "--duration", str(duration),
         "--out", out] + list(extra),
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


def read_until(p, text, seconds):
    """The demo's output up to and including the line holding text."""
    out = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and p.poll() is None:
        r, _, _ = select.select([p.stdout], [], [], 1.0)
        if r:
            line = p.stdout.readline()
            out += line
            if text in line:
                break
    return out


def mgmt_get(ns, url, header_file=None):
    """HTTP GET from inside the demo's management namespace: (status,
    body)."""
    cmd = ["ip", "netns", "exec", ns, "curl", "-s", "--max-time", "10",
           "-w", "\n%{http_code}", url]
    if header_file:
        cmd[5:5] = ["-H", "@" + header_file]
    r = subprocess.run(cmd, capture_output=True, text=True)
    body, _, code = r.stdout.rpartition("\n")
    return (int(code) if code.isdigit() else 0), body


def check_live(text, out):
    """While the demo measures: the collector already has every link,
    from the probes' export (nothing else sends it records)."""
    m = re.search(r"collector listening on (http://[\d.]+:\d+) in "
                  r"namespace (mpdemo-\d+-\d+-mgmt)", text)
    if not check(m is not None, "the demo said where the collector is"):
        return
    url, ns = m.group(1), m.group(2)
    code, page = mgmt_get(ns, url + "/metrics")
    check(code == 200, "live /metrics: HTTP %s" % code)
    now = time.time()
    seen = {}
    for line in page.splitlines():
        g = re.match(r"metroprobe_link_last_interval_start_timestamp_seconds"
                     r"\{(.*)\} (\S+)$", line)
        if g:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', g.group(1)))
            seen[labels.get("session")] = float(g.group(2))
    check(set(seen) == set(EMULATED_OWD),
          "live /metrics has the six links, got %s" % sorted(seen))
    # records are emitted a loss timeout (1 s) after their interval ends
    for session, ts in seen.items():
        check(now - 15 <= ts <= now,
              "live /metrics: %s's latest interval started %.1f s ago" %
              (session, now - ts))
    new = re.search(r'^metroprobe_ingest_records_total\{result="new"\} '
                    r'(\d+)', page, re.M)
    check(new is not None and int(new.group(1)) >= 6,
          "live /metrics: records ingested %s" %
          (new.group(1) if new else None))
    print("live /metrics: latest interval of each link %s s ago, %s "
          "records ingested" % (sorted(round(now - t, 1) for t in
                                       seen.values()),
                                new.group(1) if new else None), flush=True)
    hdr = os.path.join(out, "run", "reader.header")
    code, body = mgmt_get(ns, url + "/api/v1/report?from=now-5m", hdr)
    check(code == 200, "live /api/v1/report with the reader token: HTTP %s"
          % code)
    if code == 200:
        rep = json.loads(body)
        got = {l["session"]: l["records"] for l in rep["links"]}
        print("live /api/v1/report: records per link %s" % got, flush=True)
        check(set(got) == set(EMULATED_OWD) and min(got.values()) >= 1,
              "live report: records per link %s" % got)
    code, _ = mgmt_get(ns, url + "/api/v1/report?from=now-5m")
    check(code == 401, "live /api/v1/report without a token: HTTP %s" % code)


def check_progress(text):
    """The progress lines (every 10 s without a terminal) count the
    collector's records as they arrive: more at each line."""
    counts = [int(n) for n in re.findall(
        r"s left, the collector has (\d+) records", text)]
    check(len(counts) >= 2 and counts[0] > 0 and
          all(a < b for a, b in zip(counts, counts[1:])),
          "the collector's record count grows during the run: %s" % counts)


def check_export(text, out):
    """Every record came through the probes' own export: what each probe
    logged as spooled (with its spool drained) is what its --records
    file holds and what the kept database holds, once each."""
    logs = os.path.join(out, "logs")
    check(not os.path.exists(os.path.join(logs, "feed.log")) and
          "feed" not in open(os.path.join(logs, "demo.log")).read() and
          "feed" not in text, "no feed step")
    db = os.path.join(out, "metroprobe.db")
    if not check(os.path.exists(db), "--keep-db kept metroprobe.db"):
        return
    work = tempfile.mkdtemp(prefix="mpdemo-db.")
    try:
        ini = os.path.join(work, "read.ini")
        with open(ini, "w") as f:
            f.write("[collector]\ndatabase = %s\n" % db)
        for c in "abc":
            probe = "centre-" + c
            log = open(os.path.join(logs, probe + ".log")).read()
            m = re.findall(r"export: (\d+) records spooled, (\d+) "
                           r"acknowledged, (spool drained|records "
                           r"left)", log)
            if not check(len(m) == 1, probe + ": one export summary in "
                         "its log, got %s" % m):
                continue
            spooled = int(m[0][0])
            check(m[0][2] == "spool drained", probe + ": spool drained")
            check(int(m[0][1]) == spooled, probe + ": acknowledged %s of "
                  "%d spooled" % (m[0][1], spooled))
            with open(os.path.join(out, "records", probe + ".jsonl")) as f:
                written = [json.loads(line) for line in f]
            key = lambda r: (r["probe"], r["session"], r["start_ns"])
            exp = subprocess.run(
                [COLLECTOR, "export", "--config", ini, "--probe", probe,
                 "--from", "0", "--to", "now+1h"],
                capture_output=True, text=True)
            check(exp.returncode == 0, probe + ": collector export: " +
                  exp.stderr.strip())
            stored = [key(json.loads(line))
                      for line in exp.stdout.splitlines() if line.strip()]
            print("%s: %d records written, %d spooled, %d stored" %
                  (probe, len(written), spooled, len(stored)), flush=True)
            # 20 s of measurement plus the warm-up, two sessions
            check(spooled >= 40, probe + ": %d records spooled" % spooled)
            check(len(written) == spooled, probe + ": %d records written, "
                  "%d spooled" % (len(written), spooled))
            check(len(stored) == spooled and
                  len(set(stored)) == len(stored),
                  probe + ": %d stored (%d distinct), %d spooled" %
                  (len(stored), len(set(stored)), spooled))
            check(set(stored) == set(map(key, written)),
                  probe + ": the stored keys are the written ones")
            check(re.search(r"%s %d/%d\b" % (probe, spooled, spooled), text)
                  is not None, probe + ": the demo printed %d/%d" %
                  (spooled, spooled))
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
        p = start_demo(out, 20, "--keep-db")
        text = read_until(p, "measuring for", 300)
        if check("measuring for" in text, "the demo reached its measurement"):
            time.sleep(5)
            check_live(text, out)
        try:
            rest, _ = p.communicate(timeout=220)
            text += rest
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGINT)
            rest, _ = p.communicate(timeout=30)
            text += rest
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
                  "collector.log", "collector.ini"):
            check(os.path.exists(os.path.join(out, "logs", f)),
                  "logs/" + f)
        if os.path.exists(os.path.join(out, "report.json")):
            links = check_report_json(os.path.join(out, "report.json"))
            check_csv(os.path.join(out, "report.csv"), links)
            check_table(text, links)
            html = open(os.path.join(out, "report.html")).read()
            check("<html" in html and "centre-c" in html and
                  "demo-metro" in html, "report.html names links, profile")
        check_progress(text)
        check_export(text, out)
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
        # Ctrl-C does not reach the collector: the probes deliver their
        # last records before the demo stops it
        for c in "abc":
            try:
                log = open(os.path.join(out, "logs", "centre-%s.log" % c)
                           ).read()
            except OSError:
                log = ""
            check(re.search(r"export: \d+ records spooled, .*spool drained",
                            log) is not None,
                  "centre-%s drained its export spool on Ctrl-C" % c)
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
