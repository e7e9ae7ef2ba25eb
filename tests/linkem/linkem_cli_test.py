#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""linkem's command line: --help, and one clear error line (exit 2) for
every kind of bad option, spec or config file, before EAL starts."""
import os
import shutil
import subprocess
import sys
import tempfile

LINKEM = sys.argv[1]
failures = 0


def run(*args):
    return subprocess.run([LINKEM, *args], capture_output=True, text=True,
                          timeout=60)


def expect_error(args, *needles):
    global failures
    r = run("--", *args)
    out = r.stdout + r.stderr
    ok = r.returncode == 2 and all(n in out for n in needles) and \
        len(out.strip().splitlines()) == 1 and out.startswith("linkem: ")
    print("%s: %s -> %s" % ("ok" if ok else "FAIL", " ".join(args),
                            out.strip()))
    if not ok:
        failures += 1


def main():
    global failures
    tmp = tempfile.mkdtemp(prefix="linkem-cli-")
    try:
        r = run("--help")
        ok = r.returncode == 0 and "--ab SPEC" in r.stdout and \
            "ge=p:r" in r.stdout and "--idle-sleep" in r.stdout
        print("%s: --help" % ("ok" if ok else "FAIL"))
        failures += not ok
        r = run("--", "--help")
        failures += r.returncode != 0 or "usage:" not in r.stdout

        expect_error(["--ab", "delay=2"], "delay", "'2'", "duration")
        expect_error(["--ab", "delay=-1ms"], "delay", "duration")
        expect_error(["--ab", "loss=1.5"], "loss", "probability")
        expect_error(["--ab", "loss=abc"], "loss", "'abc'")
        expect_error(["--ba", "jitter=gauss:1ms"], "--ba", "gauss")
        expect_error(["--ab", "jitter=uniform"], "jitter", "uniform:DUR")
        expect_error(["--ab", "ge=0.1"], "ge", "p:r")
        expect_error(["--ab", "ge=0.1:2"], "ge r", "'2'")
        expect_error(["--ab", "reorder=0.1"], "reorder", "SHARE:DUR")
        expect_error(["--ab", "rate=fast"], "rate", "'fast'")
        expect_error(["--ab", "rate=10mbit,burst=0"], "burst")
        expect_error(["--ab", "limit=-3"], "limit")
        expect_error(["--ab", "seed=x"], "seed")
        expect_error(["--ab", "order=random"], "order", "fifo or free")
        expect_error(["--ab", "colour=red"], "unknown key 'colour'")
        expect_error(["--ab", "delay"], "key=value")
        expect_error(["--ab", "jitter=replay:/nonexistent/x"],
                     "/nonexistent/x", "No such file")
        bad = os.path.join(tmp, "bad-replay.txt")
        with open(bad, "w") as f:
            f.write("100us\n# comment\nsoon\n")
        expect_error(["--ab", "jitter=replay:" + bad], bad + ":3", "'soon'")
        expect_error(["--port-a", "1", "--port-b", "1"], "same port")
        expect_error(["--port-a", "x"], "--port-a", "'x'")
        expect_error(["--frobnicate"], "unknown option '--frobnicate'")
        expect_error(["--log"], "--log needs a value")
        expect_error(["--impair", "some"], "stamp or all")
        expect_error(["--idle-sleep", "-1"], "--idle-sleep")
        expect_error(["--config", "/nonexistent.conf"], "/nonexistent.conf")
        conf = os.path.join(tmp, "bad.conf")
        with open(conf, "w") as f:
            f.write("# ok so far\nab = delay=2ms\n\nba = loss=2\n")
        expect_error(["--config", conf], conf + ":4", "loss", "'2'")
        with open(conf, "w") as f:
            f.write("speed 10\n")
        expect_error(["--config", conf], conf + ":1", "unknown option")

        # Valid options, but no such port: a clear error, no crash.
        prefix = "linkemcli%d" % os.getpid()
        r = run("--no-huge", "-m", "64", "--no-pci", "--file-prefix",
                prefix, "--", "--ab", "delay=1ms")
        shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
        out = r.stdout + r.stderr
        ok = r.returncode != 0 and "port 0 does not exist" in out and \
            r.returncode > 0
        print("%s: no ports -> exit %d, %s" % (
            "ok" if ok else "FAIL", r.returncode,
            [l for l in out.splitlines() if "port" in l][-1:]))
        failures += not ok
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
