#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A controllable stand-in for the collector's ingest API, for the export
tests: real HTTP/1.1 on loopback (keep-alive), the same answers as
metroprobe-collector (JSON {"accepted","new","duplicate"}, 400 naming the
line, 401 for a wrong token, 413 for a body over the limit), plus faults
on demand:

  POST /control   {"fail_next": N, "status": 500, "delay_ms": D,
                   "reject_substring": S, "token": T, "max_body": B}
  GET  /stats     counters and the stored keys

Accepted lines are appended to --store FILE before the answer, and loaded
again at start, so a restarted double still knows what it stored (as the
real collector does with its database).
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, store, token):
        self.lock = threading.Lock()
        self.store_path = store
        self.keys = {}          # key -> times received
        self.token = token
        self.fail_next = 0
        self.fail_status = 500
        self.delay_ms = 0
        self.reject_substring = None
        self.max_body = 8 << 20
        self.requests = 0
        self.ok_requests = 0
        self.lines = 0
        self.max_batch = 0
        self.auth_failures = 0
        self.rejected = 0
        self.failed = 0
        self.connections = set()
        self.bad_content_type = 0
        if store and os.path.exists(store):
            with open(store) as f:
                for line in f:
                    if line.strip():
                        k = self.key(json.loads(line))
                        self.keys[k] = self.keys.get(k, 0) + 1

    @staticmethod
    def key(rec):
        return "%s|%s|%d" % (rec["probe"], rec["session"], rec["start_ns"])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, obj):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n > 0 else b""

    def do_GET(self):
        st = self.server.state
        if self.path != "/stats":
            return self.answer(404, {"error": "not found"})
        with st.lock:
            dup = sum(v - 1 for v in st.keys.values())
            obj = {
                "requests": st.requests, "ok_requests": st.ok_requests,
                "lines": st.lines, "unique": len(st.keys),
                "duplicates": dup, "max_batch": st.max_batch,
                "auth_failures": st.auth_failures,
                "rejected": st.rejected, "failed": st.failed,
                "connections": len(st.connections),
                "bad_content_type": st.bad_content_type,
                "keys": sorted(st.keys.keys()),
            }
        self.answer(200, obj)

    def do_POST(self):
        st = self.server.state
        body = self.read_body()
        if self.path == "/control":
            ctl = json.loads(body or b"{}")
            with st.lock:
                st.fail_next = ctl.get("fail_next", st.fail_next)
                st.fail_status = ctl.get("status", st.fail_status)
                st.delay_ms = ctl.get("delay_ms", st.delay_ms)
                st.reject_substring = ctl.get("reject_substring",
                                              st.reject_substring)
                st.token = ctl.get("token", st.token)
                st.max_body = ctl.get("max_body", st.max_body)
            return self.answer(200, {"ok": True})
        if self.path != "/api/v1/intervals":
            return self.answer(404, {"error": "not found"})

        with st.lock:
            st.requests += 1
            st.connections.add(self.client_address)
            delay = st.delay_ms
        if delay:
            time.sleep(delay / 1000.0)
        with st.lock:
            if st.token is not None and \
               self.headers.get("Authorization") != "Bearer " + st.token:
                st.auth_failures += 1
                return self.answer(401, {"error": "bad or missing token"})
            if self.headers.get("Content-Type") != "application/x-ndjson":
                st.bad_content_type += 1
                return self.answer(415, {"error": "expected NDJSON"})
            if st.fail_next > 0:
                st.fail_next -= 1
                st.failed += 1
                return self.answer(st.fail_status,
                                   {"error": "injected failure"})
            if len(body) > st.max_body:
                st.rejected += 1
                return self.answer(413, {"error": "body too large"})
            lines = body.decode().split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            recs = []
            for i, line in enumerate(lines, 1):
                if st.reject_substring and st.reject_substring in line:
                    st.rejected += 1
                    return self.answer(400, {
                        "error": "line %d: key 'session': refused by "
                                 "the test" % i})
                try:
                    recs.append(json.loads(line))
                except ValueError:
                    st.rejected += 1
                    return self.answer(400, {
                        "error": "line %d: not JSON" % i})
            new = dup = 0
            if st.store_path:
                with open(st.store_path, "a") as f:
                    for line in lines:
                        f.write(line + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            for rec in recs:
                k = State.key(rec)
                if k in st.keys:
                    dup += 1
                else:
                    new += 1
                st.keys[k] = st.keys.get(k, 0) + 1
            st.lines += len(recs)
            st.ok_requests += 1
            st.max_batch = max(st.max_batch, len(recs))
        self.answer(200, {"accepted": len(recs), "new": new,
                          "duplicate": dup})


class Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def handle_error(self, request, client_address):
        # the exporter hangs up on a stalled or slow answer: expected
        if isinstance(sys.exc_info()[1], (BrokenPipeError,
                                          ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--store")
    ap.add_argument("--token")
    args = ap.parse_args()

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = State(args.store, args.token)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
