#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The collector daemon over real HTTP on loopback, with a real SQLite file.

    test_http.py COLLECTOR GEN_RECORDS

Starts `metroprobe-collector serve` on port 0 (the bound port comes back
through --port-file), feeds it records made by gen_records, and checks
ingest, idempotency, every auth and bad-input case, stalled clients,
/metrics under promtool, reports, SIGTERM and a restart with data kept.
"""
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

COLLECTOR = GEN = None
NS = 1000000000
# Three hours ago, on an hour boundary: recent enough that retention keeps
# raw records and minute rollups.
T0 = (time.time_ns() // (3600 * NS) - 3) * 3600 * NS

TOKENS = {
    # name: (secret, role, probe)
    "pa": ("secret-probe-a", "probe", "probe-a"),
    "pb": ("secret-probe-b", "probe", "probe-b"),
    "rd": ("secret-reader", "reader", None),
    "ad": ("secret-admin", "admin", None),
}
MAX_BODY = 262144


def gen(probe="probe-a", session="s", start=T0, count=3, interval=NS,
        seed=1, pkts=50, extra=()):
    out = subprocess.run(
        [GEN, "--probe", probe, "--session", session, "--start", str(start),
         "--count", str(count), "--interval", str(interval), "--seed",
         str(seed), "--pkts", str(pkts), *extra],
        check=True, capture_output=True)
    return out.stdout


class Collector:
    """One daemon process on a temporary config and database."""

    def __init__(self, workdir, maintain="60s"):
        self.dir = workdir
        self.db = os.path.join(workdir, "collector.db")
        self.conf = os.path.join(workdir, "collector.ini")
        self.port_file = os.path.join(workdir, "port")
        self.log_path = os.path.join(workdir, "serve.log")
        lines = ["[collector]", "listen = 127.0.0.1", "port = 0",
                 "database = " + self.db,
                 "max_body_bytes = %d" % MAX_BODY,
                 "connection_timeout = 2s", "threads = 2",
                 "max_connections = 64", "max_connections_per_ip = 32",
                 "maintain_interval = " + maintain, ""]
        for name, (secret, role, probe) in TOKENS.items():
            lines += ["[token.%s]" % name,
                      "sha256 = " + hashlib.sha256(secret.encode()).hexdigest(),
                      "role = " + role]
            if probe:
                lines.append("probe = " + probe)
            lines.append("")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines))
        self.proc = None
        self.port = None

    def start(self):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [COLLECTOR, "serve", "--config", self.conf, "--port-file",
             self.port_file], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("collector exited: " + self.read_log())
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    self.port = int(f.read())
                return
            time.sleep(0.05)
        raise AssertionError("no port file after 10 s: " + self.read_log())

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.proc = None
        self.log.close()
        return rc

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def request(self, method, path, body=None, token=None, headers=None,
                timeout=10):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if body is not None and "Content-Type" not in h:
            h["Content-Type"] = "application/x-ndjson"
        c = http.client.HTTPConnection("127.0.0.1", self.port,
                                       timeout=timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def post(self, body, token="secret-probe-a", **kw):
        return self.request("POST", "/api/v1/intervals", body, token, **kw)

    def cli(self, *args):
        return subprocess.run([COLLECTOR, args[0], "--config", self.conf,
                               *args[1:]], capture_output=True, text=True,
                              timeout=60)

    def export(self, *args):
        out = self.cli("export", *args)
        if out.returncode != 0:
            raise AssertionError("export failed: " + out.stderr)
        return [json.loads(l) for l in out.stdout.splitlines() if l]


class CollectorHttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mpcoll-http-")
        cls.c = Collector(cls.dir)
        cls.c.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.c.stop()
        log = cls.c.read_log()
        shutil.rmtree(cls.dir, ignore_errors=True)
        # A clean exit (also no sanitizer report) after all of the above.
        if rc != 0:
            raise AssertionError("collector exit status %s:\n%s"
                                 % (rc, log[-4000:]))

    def stored(self, session, probe=None):
        args = ["--session", session]
        if probe:
            args += ["--probe", probe]
        return self.c.export(*args)

    def assert_error(self, status, body, want_status, *words):
        self.assertEqual(status, want_status, body)
        msg = json.loads(body)["error"]
        for w in words:
            self.assertIn(w, msg)
        return msg

    # ---- ingest ---------------------------------------------------

    def test_ingest_then_same_body_again_is_duplicate(self):
        body = gen(session="idem", count=5)
        status, hdr, resp = self.c.post(body)
        self.assertEqual(status, 200, resp)
        self.assertEqual(hdr["Content-Type"], "application/json")
        self.assertEqual(json.loads(resp),
                         {"accepted": 5, "new": 5, "duplicate": 0})
        status, _, resp = self.c.post(body)
        self.assertEqual(status, 200, resp)
        self.assertEqual(json.loads(resp),
                         {"accepted": 5, "new": 0, "duplicate": 5})
        recs = self.stored("idem")
        self.assertEqual([r["start_ns"] for r in recs],
                         [T0 + i * NS for i in range(5)])
        sent = [json.loads(l) for l in body.splitlines()]
        self.assertEqual(recs, sent)      # stored exactly as sent

    def test_quality_keys_are_stored_as_sent(self):
        lines = [json.loads(l) for l in gen(session="quality",
                                            count=3).splitlines()]
        quality = {
            "ts_rx_error_ns": 2000, "ts_tx_error_ns": 800,
            "clock_error_ns": 50000, "peer_clock_synced": True,
            "peer_clock_error_ns": 40000, "rtt_error_ns": 2800,
            "owd_error_ns": 92800, "clock_steps": 1, "step_excluded": 3,
            "rtt_negative": 2, "owd_fwd_negative": 5,
            "owd_back_negative": 0, "owd_fwd_negative_min_ns": -1200,
            "owd_back_negative_min_ns": 0, "owd_implausible": False,
            "host_imissed": 17, "host_rx_nombuf": 0, "host_ierrors": 1,
            "poll_gap_max_ns": 2000, "host_loss_suspect": True,
        }
        lines[0].update(quality)
        lines[2].update(quality, host_loss_suspect=False)
        # line 1 as an older probe writes it: no quality keys
        status, _, resp = self.c.post(self.encode(lines))
        self.assertEqual(status, 200, resp)
        self.assertEqual(json.loads(resp)["new"], 3)
        self.assertEqual(self.stored("quality"), lines)
        bad = [json.loads(l) for l in gen(session="quality-bad",
                                          count=2).splitlines()]
        bad[1].update(quality, owd_back_negative_min_ns=5)
        status, _, resp = self.c.post(self.encode(bad))
        self.assert_error(status, resp, 400, "line 2",
                          "owd_back_negative_min_ns")
        self.assertEqual(self.stored("quality-bad"), [])

    def test_blank_lines_and_crlf_are_accepted(self):
        lines = gen(session="crlf", count=2).splitlines()
        body = b"\r\n".join([lines[0], b"", lines[1]]) + b"\r\n\r\n"
        status, _, resp = self.c.post(body)
        self.assertEqual(status, 200, resp)
        self.assertEqual(json.loads(resp)["new"], 2)

    def test_admin_may_write_any_probe(self):
        body = gen(probe="probe-z", session="adm", count=2)
        status, _, resp = self.c.post(body, token="secret-admin")
        self.assertEqual(status, 200, resp)
        self.assertEqual(len(self.stored("adm", "probe-z")), 2)

    # ---- auth -----------------------------------------------------

    def test_missing_token_is_401(self):
        status, hdr, resp = self.c.post(gen(session="auth1"), token=None)
        self.assert_error(status, resp, 401, "token")
        self.assertTrue(hdr["WWW-Authenticate"].startswith("Bearer"))
        self.assertEqual(self.stored("auth1"), [])

    def test_wrong_token_is_401(self):
        for hdr in ({"Authorization": "Bearer secret-probe-x"},
                    {"Authorization": "Basic c2VjcmV0LXByb2JlLWE="},
                    {"Authorization": "Bearer"},
                    {"Authorization": "Bearer secret-probe-a-"}):
            status, _, resp = self.c.post(gen(session="auth2"), token=None,
                                          headers=hdr)
            self.assert_error(status, resp, 401)
        self.assertEqual(self.stored("auth2"), [])

    def test_reader_token_may_not_write(self):
        status, _, resp = self.c.post(gen(session="auth3"),
                                      token="secret-reader")
        self.assert_error(status, resp, 403, "rd", "reader")
        self.assertEqual(self.stored("auth3"), [])

    def test_probe_token_may_not_write_another_probes_record(self):
        own = gen(probe="probe-a", session="auth4", count=2)
        other = gen(probe="probe-b", session="auth4", count=1, seed=9)
        status, _, resp = self.c.post(own + other)
        self.assert_error(status, resp, 403, "line 3", "probe-b")
        self.assertEqual(self.stored("auth4"), [])   # nothing, not even line 1
        # probe-b's own token may.
        status, _, resp = self.c.post(other, token="secret-probe-b")
        self.assertEqual(status, 200, resp)

    # ---- bad input ------------------------------------------------

    def body_lines(self, session, n=3):
        return [json.loads(l) for l in gen(session=session,
                                            count=n).splitlines()]

    @staticmethod
    def encode(lines):
        return b"".join((l if isinstance(l, bytes) else
                         json.dumps(l).encode()) + b"\n" for l in lines)

    def test_bad_json_names_the_line(self):
        lines = self.body_lines("bad1")
        lines[1] = b'{"schema": "metroprobe.interval.v1", "probe": '
        status, _, resp = self.c.post(self.encode(lines))
        self.assert_error(status, resp, 400, "line 2")
        self.assertEqual(self.stored("bad1"), [])

    def test_missing_key_names_line_and_key(self):
        lines = self.body_lines("bad2")
        del lines[2]["lost"]
        status, _, resp = self.c.post(self.encode(lines))
        self.assert_error(status, resp, 400, "line 3", "'lost'")
        self.assertEqual(self.stored("bad2"), [])

    def test_wrong_type_names_line_and_key(self):
        lines = self.body_lines("bad3")
        lines[0]["rx_pkts"] = "many"
        status, _, resp = self.c.post(self.encode(lines))
        self.assert_error(status, resp, 400, "line 1", "rx_pkts")
        lines = self.body_lines("bad3")
        lines[1]["tx_pkts"] = -1
        status, _, resp = self.c.post(self.encode(lines))
        self.assert_error(status, resp, 400, "line 2", "tx_pkts")
        lines = self.body_lines("bad3")
        lines[1]["schema"] = "metroprobe.interval.v9"
        status, _, resp = self.c.post(self.encode(lines))
        self.assert_error(status, resp, 400, "line 2", "schema")
        lines = self.body_lines("bad3")
        lines[2]["start_ns"] = 2 ** 63
        status, _, resp = self.c.post(self.encode(lines))
        self.assert_error(status, resp, 400, "line 3")
        self.assertEqual(self.stored("bad3"), [])

    def test_empty_body_is_400(self):
        for body in (b"", b"\n\n", b"  \r\n\t\n"):
            status, _, resp = self.c.post(body)
            self.assert_error(status, resp, 400, "empty")

    def test_binary_garbage_is_400(self):
        body = bytes(range(256)) * 4
        status, _, resp = self.c.post(body)
        self.assert_error(status, resp, 400, "line 1")
        status, _, resp = self.c.post(b"[1, 2, 3]\n")
        self.assert_error(status, resp, 400, "line 1")

    def test_wrong_content_type_is_415(self):
        body = gen(session="ct")
        for ct in ("text/html", "application/x-www-form-urlencoded",
                   "multipart/form-data; boundary=x"):
            status, _, resp = self.c.post(body, headers={"Content-Type": ct})
            self.assert_error(status, resp, 415)
        self.assertEqual(self.stored("ct"), [])
        status, _, resp = self.c.post(body, headers={
            "Content-Type": "application/x-ndjson; charset=utf-8"})
        self.assertEqual(status, 200, resp)

    def test_body_over_the_limit_is_413(self):
        one = gen(session="big", count=1)
        body = one * (MAX_BODY // len(one) + 2)
        self.assertGreater(len(body), MAX_BODY)
        status, _, resp = self.c.post(body)
        self.assert_error(status, resp, 413)
        # The same without Content-Length (chunked): refused while read.
        def chunks():
            for i in range(0, len(body), 8192):
                yield body[i:i + 8192]
        c = http.client.HTTPConnection("127.0.0.1", self.c.port, timeout=10)
        c.request("POST", "/api/v1/intervals", body=chunks(),
                  headers={"Authorization": "Bearer secret-probe-a",
                           "Content-Type": "application/x-ndjson"},
                  encode_chunked=True)
        r = c.getresponse()
        self.assertEqual(r.status, 413)
        r.read()
        c.close()
        self.assertEqual(self.stored("big"), [])
        # Just under the limit is fine.
        body = one * (MAX_BODY // len(one))
        status, _, resp = self.c.post(body)
        self.assertEqual(status, 200, resp)

    def test_wrong_method_is_405(self):
        for method, path, allow in (("GET", "/api/v1/intervals", "POST"),
                                    ("PUT", "/api/v1/intervals", "POST"),
                                    ("DELETE", "/api/v1/intervals", "POST"),
                                    ("POST", "/metrics", "GET"),
                                    ("POST", "/healthz", "GET"),
                                    ("POST", "/api/v1/report", "GET")):
            status, hdr, resp = self.c.request(method, path,
                                               token="secret-admin")
            self.assertEqual(status, 405, (method, path, resp))
            self.assertIn(allow, hdr["Allow"])

    def test_unknown_path_is_404(self):
        for path in ("/", "/api/v1/interval", "/api/v2/intervals",
                     "/metrics/x"):
            status, _, resp = self.c.request("GET", path)
            self.assert_error(status, resp, 404)

    def test_healthz(self):
        status, _, resp = self.c.request("GET", "/healthz")
        self.assertEqual((status, resp), (200, b"ok\n"))

    # ---- slow clients ---------------------------------------------

    def test_stalled_clients_do_not_block_others(self):
        stalled = []
        for _ in range(6):
            s = socket.create_connection(("127.0.0.1", self.c.port))
            s.sendall(b"POST /api/v1/intervals HTTP/1.1\r\nHost: x\r\n"
                      b"Authorization: Bearer secret-probe-a\r\n"
                      b"Content-Length: 5000\r\n\r\n{\"schema\":")
            stalled.append(s)
        s = socket.create_connection(("127.0.0.1", self.c.port))
        s.sendall(b"GET /heal")           # half a request line
        stalled.append(s)
        time.sleep(0.3)
        t = time.monotonic()
        status, _, _ = self.c.request("GET", "/healthz", timeout=5)
        self.assertEqual(status, 200)
        status, _, resp = self.c.post(gen(session="stall", count=2),
                                      timeout=5)
        self.assertEqual(status, 200, resp)
        self.assertLess(time.monotonic() - t, 4.0)
        # The stalled connections are closed after connection_timeout (2s).
        for s in stalled:
            s.settimeout(15)
            t = time.monotonic()
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            self.assertNotIn(b"200 OK", data)
            self.assertLess(time.monotonic() - t, 15)
            s.close()
        # Nothing of the half body was stored.
        self.assertEqual(len(self.stored("stall")), 2)

    # ---- /metrics -------------------------------------------------

    def test_metrics_pass_promtool_and_show_the_latest_interval(self):
        body = gen(probe="probe-b", session="met", count=4, seed=3,
                   extra=["--synced", "--lost", "5"])
        status, _, resp = self.c.post(body, token="secret-probe-b")
        self.assertEqual(status, 200, resp)
        status, hdr, page = self.c.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(hdr["Content-Type"].startswith("text/plain"))
        check = subprocess.run(["promtool", "check", "metrics"], input=page,
                               capture_output=True)
        self.assertEqual(check.returncode, 0,
                         check.stdout + check.stderr)
        last = json.loads(body.splitlines()[-1])
        labels = ('{probe="probe-b",session="met",src="%s",dst="%s"}'
                  % (last["src"], last["dst"]))
        values = {}
        for line in page.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        def g(name):
            return values["metroprobe_link_" + name + labels]
        self.assertAlmostEqual(g("rtt_p50_seconds"),
                               last["rtt_ns"]["p50"] / 1e9, places=12)
        self.assertAlmostEqual(g("rtt_p99_seconds"),
                               last["rtt_ns"]["p99"] / 1e9, places=12)
        self.assertAlmostEqual(g("owd_fwd_p99_seconds"),
                               last["owd_fwd_ns"]["p99"] / 1e9, places=12)
        self.assertAlmostEqual(g("ipdv_p99_seconds"),
                               last["ipdv_ns"]["p99"] / 1e9, places=12)
        self.assertAlmostEqual(g("loss_ratio"), 5 / 50)
        self.assertAlmostEqual(g("throughput_bytes_per_second"),
                               last["throughput_bps"] / 8, places=3)
        self.assertEqual(g("last_interval_start_timestamp_seconds"),
                         (T0 + 3 * NS) / 1e9)
        self.assertGreaterEqual(
            values['metroprobe_ingest_requests_total{outcome="accepted"}'], 1)
        self.assertGreaterEqual(
            values['metroprobe_ingest_records_total{result="new"}'], 4)
        self.assertGreater(values["metroprobe_ingest_received_bytes_total"],
                           len(body) - 1)

    def test_rejections_are_counted(self):
        def counter(outcome):
            _, _, page = self.c.request("GET", "/metrics")
            for line in page.decode().splitlines():
                if line.startswith('metroprobe_ingest_requests_total'
                                   '{outcome="%s"}' % outcome):
                    return float(line.split()[-1])
        before = counter("unauthorized"), counter("bad_request")
        self.c.post(gen(session="cnt"), token="nope")
        self.c.post(b"{}\n")
        self.assertEqual(counter("unauthorized"), before[0] + 1)
        self.assertEqual(counter("bad_request"), before[1] + 1)

    # ---- reports --------------------------------------------------

    def test_report_needs_a_reader_token(self):
        q = "/api/v1/report?from=%d&to=%d&format=json" % (T0, T0 + 3600 * NS)
        status, _, resp = self.c.request("GET", q)
        self.assert_error(status, resp, 401)
        status, _, resp = self.c.request("GET", q, token="secret-probe-a")
        self.assert_error(status, resp, 403)
        status, _, resp = self.c.request(
            "GET", "/api/v1/report?from=x&to=y&format=json",
            token="secret-reader")
        self.assert_error(status, resp, 400)

    def test_report_over_http_is_the_report_of_the_command(self):
        self.c.post(gen(session="rep", count=30, seed=5))
        frm, to = T0, T0 + 3600 * NS
        for fmt, ctype in (("json", "application/json"),
                           ("csv", "text/csv"), ("html", "text/html")):
            q = "/api/v1/report?from=%d&to=%d&format=%s" % (frm, to, fmt)
            status, hdr, resp = self.c.request("GET", q,
                                               token="secret-reader")
            self.assertEqual(status, 200, resp)
            self.assertTrue(hdr["Content-Type"].startswith(ctype))
            path = os.path.join(self.dir, "report." + fmt)
            out = self.c.cli("report", "--from", str(frm), "--to", str(to),
                             "--format", fmt, "-o", path)
            self.assertEqual(out.returncode, 0, out.stderr)
            with open(path, "rb") as f:
                cli = f.read()
            if fmt == "json":
                web, cli = json.loads(resp), json.loads(cli)
                for doc in (web, cli):
                    doc.pop("generated", None)
                    doc.pop("generated_ns", None)
                self.assertEqual(web, cli)
                self.assertIn('"rep"', json.dumps(web))
            else:
                self.assertIn(b"rep", resp)
                self.assertIn(b"rep", cli)
                # The same lines, but for the time it was generated.
                self.assertEqual(len(resp.splitlines()),
                                 len(cli.splitlines()))
        out = self.c.cli("report", "--from", "yesterday", "--to", "now")
        self.assertEqual(out.returncode, 2)
        self.assertIn("from", out.stderr)


class CollectorLifecycleTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mpcoll-life-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_sigterm_then_restart_keeps_data(self):
        c = Collector(self.dir)
        c.start()
        body = gen(session="keep", count=20, seed=11)
        status, _, resp = c.post(body)
        self.assertEqual((status, json.loads(resp)["new"]), (200, 20), resp)
        self.assertEqual(c.stop(signal.SIGTERM), 0)
        log = c.read_log()
        self.assertIn("shutting down", log)
        self.assertIn("stopped", log)
        c.start()
        try:
            self.assertEqual(len(c.export("--session", "keep")), 20)
            status, _, resp = c.post(body)
            self.assertEqual(json.loads(resp),
                             {"accepted": 20, "new": 0, "duplicate": 20})
            # /metrics knows the links again after the restart.
            _, _, page = c.request("GET", "/metrics")
            self.assertIn(b'session="keep"', page)
        finally:
            self.assertEqual(c.stop(signal.SIGINT), 0)

    def test_bad_config_is_one_clear_error(self):
        conf = os.path.join(self.dir, "bad.ini")
        with open(conf, "w") as f:
            f.write("[collector]\nport = 70000\n")
        out = subprocess.run([COLLECTOR, "serve", "--config", conf],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 2)
        self.assertIn("port", out.stderr)
        with open(conf, "w") as f:
            f.write("[collector]\nstore_check = sometimes\n")
        out = subprocess.run([COLLECTOR, "serve", "--config", conf],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 2)
        self.assertIn("store_check", out.stderr)
        with open(conf, "w") as f:
            f.write("[collector]\nreport_threads = 9\n")
        out = subprocess.run([COLLECTOR, "serve", "--config", conf],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 2)
        self.assertIn("report_threads", out.stderr)
        with open(conf, "w") as f:
            f.write("[token.x]\nsha256 = 1234\nrole = probe\nprobe = a\n")
        out = subprocess.run([COLLECTOR, "serve", "--config", conf],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 2)
        self.assertIn("sha256", out.stderr)

    def test_damaged_database_is_refused_on_start(self):
        c = Collector(self.dir)
        with open(c.db, "wb") as f:
            f.write(b"\x5a" * 8192)
        c.log = open(c.log_path, "a")
        out = subprocess.run([COLLECTOR, "serve", "--config", c.conf],
                             capture_output=True, text=True, timeout=10)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("integrity check failed", out.stderr)
        c.log.close()

    def test_help_and_bad_usage(self):
        out = subprocess.run([COLLECTOR, "--help"], capture_output=True,
                             text=True, timeout=10)
        self.assertEqual(out.returncode, 0)
        for word in ("serve", "report", "hash-token", "[token.NAME]",
                     "max_body_bytes", "retention_raw"):
            self.assertIn(word, out.stdout)
        for args in (["frobnicate"], ["serve"], ["report", "--bogus"]):
            out = subprocess.run([COLLECTOR, *args], capture_output=True,
                                 text=True, timeout=10)
            self.assertEqual(out.returncode, 2, args)
            self.assertIn("metroprobe-collector", out.stderr)

    def test_hash_token(self):
        out = subprocess.run([COLLECTOR, "hash-token"], input="s3cret\n",
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.stdout.strip(),
                         hashlib.sha256(b"s3cret").hexdigest())

    def test_daemon_builds_rollups_that_add_up(self):
        c = Collector(self.dir, maintain="1s")
        c.start()
        try:
            # 3 minutes of 1-second records, in two uploads, the second
            # one late for the first minute.
            body = gen(session="roll", count=180, seed=21, pkts=40)
            lines = body.splitlines(keepends=True)
            late = lines[10:20]
            first = b"".join(lines[:10] + lines[20:])
            self.assertEqual(c.post(first)[0], 200)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if len(c.export("--session", "roll", "--resolution",
                                "minute")) == 3:
                    break
                time.sleep(0.3)
            self.assertEqual(c.post(b"".join(late))[0], 200)
            raw = [json.loads(l) for l in lines]
            deadline = time.monotonic() + 15
            while True:
                mins = c.export("--session", "roll", "--resolution",
                                "minute")
                if (len(mins) == 3 and mins[0]["tx_pkts"] == 60 * 40) or \
                        time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            self.assertEqual([m["start_ns"] for m in mins],
                             [T0, T0 + 60 * NS, T0 + 120 * NS])
            for i, m in enumerate(mins):
                part = raw[60 * i:60 * (i + 1)]
                self.assertEqual(m["interval_ns"], 60 * NS)
                self.assertEqual(m["tx_pkts"], sum(r["tx_pkts"] for r in part))
                self.assertEqual(m["rtt_ns"]["min"],
                                 min(r["rtt_ns"]["min"] for r in part))
                self.assertEqual(m["rtt_ns"]["max"],
                                 max(r["rtt_ns"]["max"] for r in part))
            deadline = time.monotonic() + 15
            while True:
                hours = c.export("--session", "roll", "--resolution", "hour")
                if (hours and hours[0]["tx_pkts"] == 180 * 40) or \
                        time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            self.assertEqual(len(hours), 1)
            self.assertEqual(hours[0]["tx_pkts"], 180 * 40)
            self.assertEqual(hours[0]["interval_ns"], 3600 * NS)
        finally:
            self.assertEqual(c.stop(), 0)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: test_http.py COLLECTOR GEN_RECORDS [unittest args]")
    COLLECTOR, GEN = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
