#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Feeds the probes' interval records to the collector (demo stand-in for
the probe's own export while it is not wired into the probe).

Follows each probe's --records file (one JSON line per interval record)
and POSTs the complete lines it has not yet delivered, in batches, to
POST URL/api/v1/intervals with that probe's bearer token. A batch leaves
only when the collector has answered 2xx (it answers once the records are
durable); on any failure the same lines are sent again later, which the
collector's idempotent store makes harmless.

usage: feed.py --url http://127.0.0.1:PORT --status FILE
               --feed RECORDS_FILE:TOKEN_FILE [--feed ...]
On SIGTERM or SIGINT: one last pass over every file, then exit 0
(exit 1 if some records could not be delivered).
"""
import argparse
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request

BATCH_LINES = 500
POLL_S = 0.5


class Feed:
    def __init__(self, records, token_file):
        self.records = records
        with open(token_file) as f:
            self.token = f.read().strip()
        self.offset = 0          # first byte not yet acknowledged
        self.sent = 0            # records acknowledged
        self.errors = 0

    def pending_lines(self):
        """Complete lines after the acknowledged offset."""
        try:
            with open(self.records, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n")
        if end < 0:
            return []
        return data[:end + 1].splitlines(keepends=True)


def post(url, token, body):
    req = urllib.request.Request(
        url + "/api/v1/intervals", data=body, method="POST",
        headers={"Content-Type": "application/x-ndjson",
                 "Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def one_pass(url, feeds):
    ok = True
    for fd in feeds:
        lines = fd.pending_lines()
        while lines:
            batch = lines[:BATCH_LINES]
            body = b"".join(batch)
            try:
                post(url, fd.token, body)
            except (urllib.error.URLError, OSError) as e:
                fd.errors += 1
                detail = e.read().decode(errors="replace").strip() \
                    if isinstance(e, urllib.error.HTTPError) else str(e)
                print("feed: %s: POST failed: %s" % (fd.records, detail),
                      file=sys.stderr, flush=True)
                ok = False
                break
            fd.offset += len(body)
            fd.sent += len(batch)
            lines = lines[len(batch):]
    return ok


def write_status(path, feeds):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({os.path.basename(fd.records): {"sent": fd.sent,
                   "errors": fd.errors} for fd in feeds}, f)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--status", required=True)
    ap.add_argument("--feed", action="append", required=True,
                    metavar="RECORDS:TOKEN_FILE")
    args = ap.parse_args()
    feeds = []
    for spec in args.feed:
        records, sep, token_file = spec.rpartition(":")
        if not sep or not records:
            ap.error("--feed wants RECORDS_FILE:TOKEN_FILE, not " + spec)
        feeds.append(Feed(records, token_file))

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    while not stop:
        one_pass(args.url, feeds)
        write_status(args.status, feeds)
        time.sleep(POLL_S)
    # the last pass: a few tries, the collector may be busy
    for _ in range(5):
        if one_pass(args.url, feeds):
            break
        time.sleep(1)
    write_status(args.status, feeds)
    left = sum(len(fd.pending_lines()) for fd in feeds)
    if left:
        print("feed: %d records not delivered" % left, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
