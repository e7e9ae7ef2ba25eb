#!/usr/bin/env python3
"""Bad command lines and config files: each gets one clear error line on
stderr and exit status 2, before EAL starts (so no port is touched: no
"EAL" output at all). Table-driven; also checks that --check accepts the
example config given in the README and that --help documents every
option the parser knows."""
import os
import re
import subprocess
import sys
import tempfile

PROBE = os.environ["METROPROBE"]
SRC = os.environ["SRC"]
TAG = "mpp-badconf-%d" % os.getpid()

PORT = "name=a,device=net_ring0,ipv4=10.0.0.1/24"
SESS = "name=s,port=a,peer=10.0.0.2"

CONFIGS = {
    "unknown_key.ini": "[port.a]\ndevice = 0\nipv4 = 10.0.0.1/24\ncolour = red\n",
    "syntax.ini": "[probe]\ninterval = 1s\nthis line has no equals sign\n",
    "bad_duration.ini": "[probe]\nloss_timeout = soon\n[port.a]\ndevice = 0\nipv4 = 10.0.0.1/24\n",
    "bad_addr.ini": "[port.a]\ndevice = 0\nipv4 = 10.0.0.1/24\n[session.x]\nport = a\npeer = 10.0.0.999\n",
    "dup_key.ini": "[port.a]\ndevice = 0\ndevice = 1\nipv4 = 10.0.0.1/24\n",
    "bad_key.hex": "not hex at all\n",
    "export_key.ini": "[export]\ncollector = http://127.0.0.1:1\nspool = /tmp\n[port.a]\ndevice = 0\nipv4 = 10.0.0.1/24\n",
    "export_nospool.ini": "[export]\ncollector = http://127.0.0.1:1\ntoken_file = /tmp/t\n[port.a]\ndevice = 0\nipv4 = 10.0.0.1/24\n",
    "token": "tok-test\n",
    "many_neigh.ini": "[port.a]\ndevice = 0\nipv4 = 1.0.0.1/24\nneighbours = " + " ".join("1.0.0.%d@2:0:0:0:0:%x" % (i, i) for i in range(2, 11)) + "\n",
    # several bad keys in one section: the first one checked is reported
    "port_order.ini": "[port.a]\ndevice = 0\nipv4 = 10.0.0.1/24\nvlan = 9999\nqueues = 0\nreflector = x\n",
    "session_order.ini": "[port.a]\ndevice = 0\nipv4 = 10.0.0.1/24\n[session.s]\nport = a\npeer = 10.0.0.2\npeer_port = 0\ndscp = 99\nauth = x\n",
    "global_order.ini": "[probe]\nmbufs = 1\nclock_synced = x\ncapture_snaplen = 1\n",
}
EXP = ["--collector", "http://127.0.0.1:1"]

# (name, probe args, regex the error line must match)
CASES = [
    ("unknown option", ["--bogus"], r"unknown option '--bogus'"),
    ("missing value", ["--port"], r"option '--port' needs a value"),
    ("stray argument", ["--port", PORT, "extra"], r"unexpected argument 'extra'"),
    ("no port", [], r"no port configured"),
    ("port without device", ["--port", "name=a,ipv4=10.0.0.1/24"], r"\[port\.a\] device: required"),
    ("port without address", ["--port", "name=a,device=0"], r"\[port\.a\] ipv4: required"),
    ("port without name", ["--port", "device=0,ipv4=10.0.0.1/24"], r"--port .*missing name="),
    ("bad ipv4", ["--port", "name=a,device=0,ipv4=10.0.0.300/24"], r"ipv4: '10\.0\.0\.300/24' is not an IPv4 address"),
    ("bad prefix", ["--port", "name=a,device=0,ipv4=10.0.0.1/33"], r"ipv4: '10\.0\.0\.1/33' is not an IPv4"),
    ("bad vlan", ["--port", PORT + ",vlan=5000"], r"vlan"),
    ("no queue", ["--port", PORT + ",queues=0"], r"\[port\.a\] queues: '0' is out of range 1\.\.16"),
    ("too many queues", ["--port", PORT + ",queues=17"], r"\[port\.a\] queues: '17' is out of range 1\.\.16"),
    ("bad reflector mode", ["--port", PORT + ",reflector=sometimes"], r"reflector: 'sometimes' is not one of"),
    ("bad neighbour", ["--port", PORT + ",neighbours=10.0.0.2"], r"neighbours: '10\.0\.0\.2' is not IP@MAC"),
    ("bad neighbour mac", ["--port", PORT + ",neighbours=10.0.0.2@zz:00:00:00:00:01"], r"is not IP@MAC"),
    ("auth without key", ["--port", PORT + ",reflector_auth=true"], r"reflector_key_file: required"),
    ("duplicate port", ["--port", PORT, "--port", PORT], r"port 'a' is defined twice"),
    ("session unknown port", ["--port", PORT, "--session", "name=s,port=b,peer=10.0.0.2"], r"session 's': port 'b' is not configured"),
    ("session without peer", ["--port", PORT, "--session", "name=s,port=a"], r"\[session\.s\] peer: required"),
    ("session bad rate", ["--port", PORT, "--session", SESS + ",rate_pps=fast"], r"rate_pps"),
    ("session zero rate", ["--port", PORT, "--session", SESS + ",rate_pps=0"], r"rate_pps: must be between"),
    ("session two rates", ["--port", PORT, "--session", SESS + ",rate_pps=10,rate_bps=100000"], r"rate_pps or rate_bps, not both"),
    ("frame too small", ["--port", PORT, "--session", SESS + ",frame_size=80"], r"frame_size 80 is below the minimum 90"),
    ("frame too big", ["--port", PORT, "--session", SESS + ",frame_size=9001"], r"frame_size"),
    ("bad dscp", ["--port", PORT, "--session", SESS + ",dscp=64"], r"dscp"),
    ("ipv6 peer on ipv4 port", ["--port", PORT, "--session", "name=s,port=a,peer=2001:db8::2"], r"peer is IPv6 but port 'a' has no IPv6"),
    ("peer off-link, no gateway", ["--port", PORT, "--session", "name=s,port=a,peer=192.0.2.7"], r"session 's': peer is outside port 'a''s prefix and the port has no gateway"),
    ("rate_bps beyond frame rate", ["--port", PORT, "--session", SESS + ",rate_bps=400000000000,frame_size=90"], r"rate_bps 400000000000 is 5.56e\+08 frames/s, outside"),
    ("duplicate session", ["--port", PORT, "--session", SESS, "--session", SESS], r"session 's' is defined twice"),
    ("src port clash", ["--port", PORT, "--session", SESS + ",src_port=50010", "--session", "name=t,port=a,peer=10.0.0.3,src_port=50010"], r"src_port 50010 already used by session 's'"),
    ("auth session without key", ["--port", PORT, "--session", SESS + ",auth=true"], r"key_file: required when auth = true"),
    ("missing key file", ["--port", PORT, "--session", SESS + ",auth=true,key_file=/nonexistent/k"], r"cannot read key file '/nonexistent/k'"),
    ("bad key file", ["--port", PORT, "--session", SESS + ",auth=true,key_file={tmp}/bad_key.hex"], r"key file .*hex digits"),
    ("bad interval", ["--port", PORT, "--interval", "fast"], r"--interval.*interval"),
    ("interval too short", ["--port", PORT, "--interval", "1ms"], r"interval: must be between 10ms and 1h"),
    ("bad clock mode", ["--port", PORT, "--clock-synced", "maybe"], r"clock_synced: 'maybe' is not one of the allowed values \(auto, true, false, ptp4l\)"),
    ("ptp4l socket path too long", ["--port", PORT, "--clock-synced", "ptp4l", "--ptp4l-socket", "/" + "p" * 107], r"ptp4l_socket: '/p+' is not a Unix socket path of 1\.\.107 characters"),
    ("ptp4l domain out of range", ["--port", PORT, "--ptp4l-domain", "256"], r"ptp4l_domain: '256' is out of range 0\.\.255"),
    ("bad ring pair", ["--port", PORT, "--ring-pair", "onlyone"], r"ring_pair: 'onlyone' is not two device names"),
    ("bad snaplen", ["--port", PORT, "--capture-snaplen", "9"], r"capture_snaplen"),
    ("missing config", ["--config", "/nonexistent/probe.ini"], r"/nonexistent/probe\.ini"),
    ("config unknown key", ["--config", "{tmp}/unknown_key.ini"], r"unknown_key\.ini:4: \[port\.a\] colour: unknown key"),
    ("config syntax", ["--config", "{tmp}/syntax.ini"], r"syntax\.ini:3"),
    ("config duplicate key", ["--config", "{tmp}/dup_key.ini"], r"dup_key\.ini:3"),
    ("config bad duration", ["--config", "{tmp}/bad_duration.ini"], r"bad_duration\.ini:2: \[probe\] loss_timeout"),
    ("config bad address", ["--config", "{tmp}/bad_addr.ini"], r"bad_addr\.ini:6: \[session\.x\] peer: '10\.0\.0\.999' is not"),
    ("first_seq beyond 2^32-1", ["--port", PORT, "--session", SESS + ",first_seq=4294967296"], r"\[session\.s\] first_seq: '4294967296' is out of range 0\.\.4294967295"),
    ("collector without token", ["--port", PORT] + EXP + ["--spool-dir", "{tmp}/spool"], r"--collector needs --token-file"),
    ("collector without spool", ["--port", PORT] + EXP + ["--token-file", "{tmp}/token"], r"--collector needs --spool-dir"),
    ("collector not http", ["--port", PORT, "--collector", "ftp://x"], r"\[export\] collector: 'ftp://x' is not an http:// or https:// URL"),
    ("spool bound too small", ["--port", PORT, "--spool-max-bytes", "100"], r"spool_max_bytes: '100' is out of range 16384\.\."),
    ("config export unknown key", ["--config", "{tmp}/export_key.ini"], r"export_key\.ini:3: \[export\] spool: unknown key"),
    ("config export no spool", ["--config", "{tmp}/export_nospool.ini"], r"\[export\] spool_dir"),
    ("token file missing", ["--port", PORT] + EXP + ["--token-file", "/nonexistent/tok", "--spool-dir", "{tmp}/spool"], r"export: .*/nonexistent/tok"),
    ("spool dir unusable", ["--port", PORT] + EXP + ["--token-file", "{tmp}/token", "--spool-dir", "/nonexistent/a/b"], r"export: .*/nonexistent/a/b"),
    ("reflector key unreadable", ["--port", PORT + ",reflector_key_file=/nonexistent/k"], r"\[port\.a\] reflector_key_file: cannot read key file '/nonexistent/k'"),
    ("bad reflector timestamp", ["--port", PORT + ",reflector_timestamp=gps"], r"\[port\.a\] reflector_timestamp: 'gps' is not one of the allowed values \(ntp, ptp\)$"),
    ("arp refresh too short", ["--port", PORT + ",arp_refresh=99ms"], r"\[port\.a\] arp_refresh: must be at least 100ms$"),
    ("too many neighbours", ["--config", "{tmp}/many_neigh.ini"], r"many_neigh\.ini:4: \[port\.a\] neighbours: more than 8 entries$"),
    ("ipv4 peer on ipv6 port", ["--port", "name=a,device=0,ipv6=2001:db8::1/64", "--session", "name=s,port=a,peer=10.0.0.2"], r"session 's': peer is IPv4 but port 'a' has no IPv4 address$"),
    ("peer off-link, no gateway6", ["--port", "name=a,device=0,ipv6=2001:db8::1/64", "--session", "name=s,port=a,peer=2001:db9::2"], r"session 's': peer is outside port 'a''s prefix and the port has no gateway6$"),
    ("src port is the reflector's", ["--port", PORT + ",stamp_port=50000", "--session", SESS], r"session 's': src_port 50000 is the port's reflector port$"),
    ("bad timestamp format", ["--port", PORT, "--session", SESS + ",timestamp_format=gps"], r"\[session\.s\] timestamp_format: 'gps' is not one of the allowed values \(ntp, ptp\)$"),
    ("ssid beyond 65535", ["--port", PORT, "--session", SESS + ",ssid=65536"], r"\[session\.s\] ssid: '65536' is out of range 0\.\.65535$"),
    ("calibration too short", ["--port", PORT, "--clock-calibration", "49ms"], r"\[probe\] clock_calibration: must be 50ms\.\.10s$"),
    ("nominal TSC rate too far off", ["--port", PORT, "--tsc-nominal-ppm", "50001"], r"\[probe\] tsc_nominal_ppm: must be -50000\.\.50000$"),
    ("tai offset out of range", ["--port", PORT, "--tai-offset", "101"], r"\[probe\] tai_offset: '101' is out of range 0\.\.100$"),
    ("too few mbufs", ["--port", PORT, "--mbufs", "510"], r"\[probe\] mbufs: '510' is out of range 511\.\.4194304$"),
    ("idle sleep too long", ["--port", PORT, "--idle-sleep-us", "100001"], r"\[probe\] idle_sleep_us: '100001' is out of range 0\.\.100000$"),
    ("option value with a newline", ["--port", PORT, "--interval", "1s\nx"], r"--interval: value has a newline$"),
    ("too many options", ["--port", PORT] + ["--verbose"] * 65, r"too many options$"),
    ("first bad port key wins", ["--config", "{tmp}/port_order.ini"], r"port_order\.ini:4: \[port\.a\] vlan: '9999' is out of range"),
    ("first bad session key wins", ["--config", "{tmp}/session_order.ini"], r"session_order\.ini:7: \[session\.s\] peer_port: '0' is out of range"),
    ("first bad global key wins", ["--config", "{tmp}/global_order.ini"], r"global_order\.ini:4: \[probe\] capture_snaplen: '1' is out of range"),
    ("records unwritable", ["--port", PORT, "--records", "/nonexistent/dir/r.jsonl"], r"--records /nonexistent/dir/r\.jsonl: No such file"),
]


def run(args):
    cmd = [PROBE, "-l", "0", "--no-huge", "--no-pci", "--file-prefix", TAG,
           "--"] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def main():
    failed = 0
    with tempfile.TemporaryDirectory(prefix=TAG) as tmp:
        for name, text in CONFIGS.items():
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
            os.chmod(os.path.join(tmp, name), 0o600)
        for name, args, regex in CASES:
            args = [a.replace("{tmp}", tmp) for a in args]
            rc, out, err = run(args)
            lines = [l for l in err.splitlines() if l.strip()]
            ok = (rc == 2 and len(lines) == 1 and
                  lines[0].startswith("metroprobe: error: ") and
                  re.search(regex, lines[0]) is not None and
                  "EAL" not in err)
            print("%s %-26s rc=%d %s" % ("ok  " if ok else "FAIL", name, rc,
                                          lines[0] if lines else "(no error)"))
            if not ok:
                failed += 1
                print("     expected /%s/, stderr was: %r" % (regex, err))
        # the README's example config is valid
        rc, out, err = run(["--config",
                            os.path.join(SRC, "tests/probe/example.ini"),
                            "--check"])
        ok = rc == 0 and "configuration OK: 1 port(s), 2 session(s)" in out
        print("%s example.ini --check rc=%d %s" % ("ok  " if ok else "FAIL",
                                                rc, out.strip() or err))
        failed += not ok
        # --help documents every long option the parser accepts
        rc, out, err = run(["--help"])
        src = open(os.path.join(SRC, "probe/options.c")).read()
        opts = re.findall(r'\{ "([a-z-]+)", (?:required|no)_argument', src)
        missing = [o for o in opts if "--" + o not in out]
        ok = rc == 0 and len(opts) > 15 and not missing
        print("%s --help documents %d options%s" % (
            "ok  " if ok else "FAIL", len(opts),
            (", missing: " + " ".join(missing)) if missing else ""))
        failed += not ok
    subprocess.run(["rm", "-rf", "/var/run/dpdk/" + TAG])
    print("%d case(s) failed" % failed if failed else "all cases passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
