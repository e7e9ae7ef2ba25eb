#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Collector ingest rate over real HTTP on loopback (a benchmark, not a test).

    bench_collector_ingest.py COLLECTOR GEN_RECORDS [options]

Pre-generates NDJSON bodies with gen_records (--links links, each body
--batch records of one link, records of --pkts packets with four
histograms), then, for each of --runs runs, starts `metroprobe-collector
serve` on a fresh SQLite file, POSTs every body to /api/v1/intervals over
--conns parallel keep-alive connections (one python thread each), and
measures the wall time from the first request to the last answer (each
answer comes after a durable commit). Prints records/s of every run, the
median, the daemon's CPU time per record (user + system, which a loaded
machine changes far less than the wall time; the kernel's share, system
time, is printed apart) and its peak RSS (VmHWM). --maintain sets the
daemon's maintain_interval (rollups running during ingest). Exits non-zero
if any request fails or the store does not hold every record.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

NS = 1000000000
SECRET = "bench-admin-secret"


def gen_bodies(gen, links, per_link, batch, pkts, start):
    """Bodies of `batch` records; link i gets per_link records 1 s apart."""
    bodies = []
    for i in range(links):
        out = subprocess.run(
            [gen, "--probe", "probe-%02d" % (i % 30), "--session",
             "s-%02d" % i, "--src", "10.0.%d.1:862" % (i % 30),
             "--dst", "10.1.%d.2:862" % i, "--start", str(start),
             "--interval", str(NS), "--count", str(per_link),
             "--seed", str(i + 1), "--pkts", str(pkts), "--delay",
             str(200000 + 1000 * i), "--synced"],
            check=True, capture_output=True).stdout
        lines = out.splitlines(keepends=True)
        for j in range(0, len(lines), batch):
            bodies.append(b"".join(lines[j:j + batch]))
    # interleave the links, as many probes uploading at once would
    random.Random(1).shuffle(bodies)
    return bodies


class Daemon:
    def __init__(self, collector, workdir, maintain, threads):
        self.collector = collector
        self.dir = workdir
        self.db = os.path.join(workdir, "collector.db")
        conf = os.path.join(workdir, "collector.ini")
        self.port_file = os.path.join(workdir, "port")
        with open(conf, "w") as f:
            f.write("\n".join([
                "[collector]", "listen = 127.0.0.1", "port = 0",
                "database = " + self.db,
                "max_body_bytes = 67108864", "threads = %d" % threads,
                "max_connections = 256", "max_connections_per_ip = 256",
                "maintain_interval = " + maintain, "",
                "[token.bench]",
                "sha256 = " + hashlib.sha256(SECRET.encode()).hexdigest(),
                "role = admin", ""]))
        self.log = open(os.path.join(workdir, "serve.log"), "w")
        self.proc = subprocess.Popen(
            [collector, "serve", "--config", conf, "--port-file",
             self.port_file], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("collector did not start, see " +
                                 self.log.name)
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read())

    def peak_rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        """(user, system) CPU time the daemon has used so far, and its
        minor page faults."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tck = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tck, int(fields[12]) / tck, int(fields[7])

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        self.log.close()


def post_all(port, bodies, conns):
    """POSTs bodies over conns connections; returns (seconds, errors)."""
    lock = threading.Lock()
    queue = list(reversed(bodies))
    errors = []

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            try:
                c.request("POST", "/api/v1/intervals", body=body, headers={
                    "Authorization": "Bearer " + SECRET,
                    "Content-Type": "application/x-ndjson"})
                r = c.getresponse()
                data = r.read()
                if r.status != 200:
                    errors.append("%d %s" % (r.status, data[:200]))
            except (OSError, http.client.HTTPException) as e:
                errors.append(repr(e))
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port,
                                               timeout=120)
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0, errors


def count_records(collector, db):
    out = subprocess.run(["sqlite3", db, "SELECT count(*) FROM interval_raw"],
                         capture_output=True, text=True)
    return int(out.stdout.strip() or -1) if out.returncode == 0 else -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("collector")
    ap.add_argument("gen_records")
    ap.add_argument("--links", type=int, default=90)
    ap.add_argument("--records", type=int, default=90000,
                    help="records per run (rounded to links)")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--pkts", type=int, default=1000)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4,
                    help="the daemon's HTTP thread pool")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--maintain", default="1h",
                    help="maintain_interval of the daemon, e.g. 1s")
    ap.add_argument("--keep", help="keep the work directory here")
    a = ap.parse_args()

    per_link = max(1, a.records // a.links)
    start = (time.time_ns() // (3600 * NS) - 2) * 3600 * NS
    t0 = time.monotonic()
    bodies = gen_bodies(a.gen_records, a.links, per_link, a.batch, a.pkts,
                        start)
    total = sum(b.count(b"\n") for b in bodies)
    size = sum(len(b) for b in bodies)
    print("bodies: %d records in %d bodies of <= %d, %.0f bytes/record "
          "(generated in %.1f s)" % (total, len(bodies), a.batch,
                                      size / total, time.monotonic() - t0))
    print("conns %d, daemon threads %d, maintain_interval %s" %
          (a.conns, a.threads, a.maintain))
    rates, rss, cpu, cpu_sys = [], [], [], []
    for run in range(a.runs):
        work = tempfile.mkdtemp(prefix="mp-bench-coll-")
        d = Daemon(a.collector, work, a.maintain, a.threads)
        try:
            user0, sys0, flt0 = d.cpu_seconds()
            secs, errors = post_all(d.port, bodies, a.conns)
            user1, sys1, flt1 = d.cpu_seconds()
            cpu.append(user1 - user0 + sys1 - sys0)
            cpu_sys.append(sys1 - sys0)
            rss.append(d.peak_rss_kib())
        except BaseException:
            d.stop()
            shutil.rmtree(work)
            raise
        d.stop()
        stored = count_records(a.collector, d.db)
        if errors or stored not in (total, -1):
            print("run %d FAILED: %d errors (%s), %d of %d stored" %
                  (run + 1, len(errors), errors[:3], stored, total))
            shutil.rmtree(work)
            return 1
        rates.append(total / secs)
        print("run %d: %d records in %.2f s = %.0f records/s, daemon CPU "
              "%.1f us/record (%.1f of it in the kernel, %.2f page faults), "
              "peak RSS %.1f MiB"
              % (run + 1, total, secs, total / secs, cpu[-1] / total * 1e6,
                 cpu_sys[-1] / total * 1e6, (flt1 - flt0) / total,
                 rss[-1] / 1024))
        if a.keep and run == a.runs - 1:
            shutil.copytree(work, a.keep, dirs_exist_ok=True)
        shutil.rmtree(work)
    print("median: %.0f records/s (min %.0f, max %.0f); daemon CPU median "
          "%.1f us/record (%.0f records per CPU-second); peak RSS max "
          "%.1f MiB" % (statistics.median(rates), min(rates), max(rates),
                        statistics.median(cpu) / total * 1e6,
                        total / statistics.median(cpu), max(rss) / 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
