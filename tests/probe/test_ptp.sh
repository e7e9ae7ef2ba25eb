#!/usr/bin/env bash
# clock_synced = ptp4l against a real ptp4l (linuxptp). Two namespaces
# joined by a veth, ptp4l with software timestamping over L2 in each: a
# grandmaster in m, a slave-only clock in s. Both share this machine's
# CLOCK_REALTIME, which other tests rely on, so neither may touch it:
# free_running 1 (ptp4l measures and reports, never steers; the slave's
# port then stays UNCALIBRATED for good, which the probe accepts once the
# offset has changed under its watch) and no CAP_SYS_TIME (setpriv), so
# the kernel would refuse anyway; adjtimex() is compared before and
# after. Hence a port in SLAVE state is not seen here: ptp4l gets there
# only by steering a clock (a PHC, with hardware timestamping).
#
# Probe p (a ring pair, no namespace) asks the slave, probe g the
# grandmaster. Checked:
#   - no ptp4l yet: not synchronised, S bit clear, the missing socket
#     logged once, not every second;
#   - the slave measuring: synchronised, error estimate |offset| + the
#     5 us margin in the log, the S bit and that error in the STAMP
#     packets (capture), records clock_synced; the offsets the probe read
#     are those pmc reads (same ingress time, same offset);
#   - the grandmaster: not synchronised until pmc declares its time
#     traceable, then synchronised with the margin as error;
#   - grandmaster killed: the slave's port leaves UNCALIBRATED, not
#     synchronised; slave killed: unreachable, logged once more.
source "$(dirname "$0")/../lib/mpnet.sh"
probe_tmp mpp-ptp
for t in ptp4l pmc setpriv; do
  command -v "$t" >/dev/null ||
    fail "$t not found (linuxptp, util-linux: scripts/install-deps.sh)"
done
MARGIN_NS=5000

now_ns() { date +%s%N; }

# adjtimex() read only (modes 0): what a steering ptp4l changes, the
# frequency, tick, PLL offset and STA_UNSYNC (it clears it once locked)
clock_state() {
  /usr/bin/python3 "$(dirname "$0")/../lib/mpclock.py"
}

# wait_log FILE REGEX SECONDS [LINE]: until a line of FILE after its
# first LINE lines matches
wait_log() {
  local i
  for i in $(seq 1 $(($3 * 10))); do
    tail -n +$((${4:-0} + 1)) "$1" 2>/dev/null | grep -qE "$2" && return 0
    sleep 0.1
  done
  return 1
}
lines() { wc -l <"$1"; }

# ptp4l NAME NS IFACE [OPTIONS]: config $TMP/NAME.cfg, socket
# $TMP/NAME.sock, log $TMP/NAME.log; pid in PTP_PID[NAME]
declare -A PTP_PID=()
start_ptp4l() {
  local name=$1 ns=$2 ifc=$3
  shift 3
  cat >"$TMP/$name.cfg" <<EOF
[global]
free_running            1
network_transport       L2
logAnnounceInterval     -1
announceReceiptTimeout  3
logSyncInterval         1
logMinDelayReqInterval  -2
uds_address             $TMP/$name.sock
EOF
  netns_bg "$ns" setpriv --inh-caps=-sys_time --bounding-set=-sys_time \
    ptp4l -S -i "$ifc" -f "$TMP/$name.cfg" -m "$@" >"$TMP/$name.log" 2>&1
  PTP_PID[$name]=$NETNS_LAST_PID
}

# probe NAME SOCKET: a ring pair, one session, clock from ptp4l at SOCKET
probe_on_ring() {
  local name=$1 sock=$2
  "$METROPROBE" $(eal_args "$name" 0,1) -- --ring-pair "${name}a,${name}b" \
    --port name=centre-a,device="${name}a",ipv4=10.79.1.1/24 \
    --port name=centre-b,device="${name}b",ipv4=10.79.1.2/24 \
    --session name=a-to-b,port=centre-a,peer=10.79.1.2,rate_pps=50 \
    --clock-synced ptp4l --ptp4l-socket "$sock" --clock-error 5us \
    --verbose --capture "$TMP/$name.pcap" --capture-snaplen 96 \
    $PROBE_COMMON --records "$TMP/$name.jsonl" 2>"$TMP/$name.log" &
  PROBE_PID[$name]=$!
  netns_track_pid "$!"
}

m=$(netns_create m) && s=$(netns_create s) && netns_veth "$m" vm "$s" vs ||
  fail "namespaces"
clock_before=$(clock_state)

probe_on_ring p "$TMP/ptp-s.sock"
probe_on_ring g "$TMP/ptp-m.sock"
probe_wait_started p g
sleep 2
t_ptp_start=$(now_ns)
start_ptp4l ptp-m "$m" vm
start_ptp4l ptp-s "$s" vs -s
# once ip netns exec and setpriv have become ptp4l: no CAP_SYS_TIME
for name in ptp-m ptp-s; do
  for i in $(seq 1 50); do
    [ "$(cat "/proc/${PTP_PID[$name]}/comm" 2>/dev/null)" = ptp4l ] && break
    sleep 0.1
  done
  cap=$(awk '/^CapEff:/ {print $2}' "/proc/${PTP_PID[$name]}/status")
  [ $(( 0x$cap >> 25 & 1 )) -eq 0 ] ||
    fail "$name runs with CAP_SYS_TIME (CapEff $cap)"
done
wait_log "$TMP/p.log" 'clock: ptp4l: synchronised' 25 ||
  { tail -5 "$TMP/p.log" "$TMP/ptp-s.log"; fail "probe p never synchronised"; }
t_sync_seen=$(now_ns)
echo "  synchronised $(( (t_sync_seen - t_ptp_start) / 1000000 )) ms after ptp4l started"

# pmc's reading of the slave, four times over two sync intervals
for i in 1 2 3 4; do
  pmc -u -b 0 -s "$TMP/ptp-s.sock" 'GET TIME_STATUS_NP' 'GET PORT_DATA_SET' \
    >>"$TMP/pmc.txt" 2>&1
  sleep 1
done

# the grandmaster: its operator says its time is traceable
wait_log "$TMP/g.log" 'not synchronised \(ptp4l is the grandmaster, its time not traceable\)' 5 ||
  fail "probe g: no 'grandmaster, not traceable' line"
pmc -u -b 0 -s "$TMP/ptp-m.sock" 'SET GRANDMASTER_SETTINGS_NP clockClass 248 clockAccuracy 0xfe offsetScaledLogVariance 0xffff currentUtcOffset 37 leap61 0 leap59 0 currentUtcOffsetValid 0 ptpTimescale 0 timeTraceable 1 frequencyTraceable 0 timeSource 0xa0' >/dev/null
wait_log "$TMP/g.log" 'clock: ptp4l: synchronised \(ptp4l is the grandmaster, its time traceable\): port 1 MASTER, offset 0 ns, error estimate 5000 ns' 5 ||
  { grep 'clock:' "$TMP/g.log" | tail -3; fail "probe g: not synchronised as a traceable grandmaster"; }
echo "PASS: grandmaster: synchronised only once its time is declared traceable, error = margin"

t_kill_master=$(now_ns)
mark=$(lines "$TMP/p.log")
kill "${PTP_PID[ptp-m]}"
wait_log "$TMP/p.log" 'clock: ptp4l: not synchronised \(no port SLAVE, UNCALIBRATED or MASTER\)' 10 "$mark" ||
  fail "probe p still synchronised after the grandmaster left"
t_unsync_seen=$(now_ns)
sleep 2.5
kill "${PTP_PID[ptp-s]}"
wait "${PTP_PID[ptp-s]}" 2>/dev/null
# ptp4l gone: one more warning, then silence
for i in $(seq 1 30); do
  [ "$(grep -c 'warning: clock: ptp4l: ' "$TMP/p.log")" -ge 2 ] && break
  sleep 0.1
done
sleep 3
probe_stop TERM p g
clock_after=$(clock_state)

grep 'clock' "$TMP/p.log" | grep -v 'clock: ptp4l: port' | sed 's/^/  p: /'
grep 'clock' "$TMP/g.log" | grep -v 'clock: ptp4l: port' | sed 's/^/  g: /'
echo "  adjtimex before: $clock_before"
echo "  adjtimex after:  $clock_after"
[ "$clock_before" = "$clock_after" ] ||
  fail "this machine's clock was adjusted while ptp4l ran"
echo "PASS: CLOCK_REALTIME untouched (free_running, no CAP_SYS_TIME)"

n=$(grep -c 'warning: clock: ptp4l: .*; not synchronised' "$TMP/p.log")
[ "$n" -eq 2 ] ||
  fail "ptp4l unreachable logged $n times, expected once per outage (2)"
head -n 20 "$TMP/p.log" | grep -q 'info: clock: not synchronised, error estimate 1000000000 ns' ||
  fail "start-up without ptp4l not reported as not synchronised"
echo "PASS: no ptp4l: not synchronised, logged once per outage"

/usr/bin/python3 - "$TMP" "$MARGIN_NS" "$t_ptp_start" "$t_sync_seen" \
  "$t_kill_master" "$t_unsync_seen" <<'EOF' || fail "records, packets or offsets"
import json, re, struct, sys

tmp, margin = sys.argv[1], int(sys.argv[2])
t_ptp, t_sync, t_kill, t_unsync = (int(a) for a in sys.argv[3:7])
ok, shown = True, {}

def bad(msg):
    """Says what is wrong; the first few of each kind, then a count."""
    global ok
    ok = False
    kind = msg.split(":")[0]
    shown[kind] = shown.get(kind, 0) + 1
    if shown[kind] <= 5:
        print("  " + msg)

log = open(tmp + "/p.log").read()
# every decision logged: error estimate = |offset| + margin
dec = re.findall(r"clock: ptp4l: synchronised \(a port tracks the grandmaster within 1 ms\): "
                 r"port 1 UNCALIBRATED, offset (-?\d+) ns, error estimate (\d+) ns", log)
if not dec:
    bad("no 'synchronised' decision logged")
for off, err in dec:
    if int(err) != abs(int(off)) + margin:
        bad("error estimate %s for offset %s, expected |offset| + %d" % (err, off, margin))
# each round's reading (verbose), against pmc's
seen = {}
for off, ing in re.findall(r"clock: ptp4l: port 1 UNCALIBRATED, grandmaster \S+ present, "
                           r"offset (-?\d+) ns \(ingress (\d+)\)", log):
    seen.setdefault(int(ing), set()).add(int(off))
measured = [o for ing, offs in seen.items() if ing for o in offs if o]
pmc = re.findall(r"master_offset\s+(-?\d+)\s+ingress_time\s+(\d+)",
                 open(tmp + "/pmc.txt").read())
matched = 0
for off, ing in pmc:
    if int(ing) in seen and int(ing) != 0:
        if int(off) not in seen[int(ing)]:
            bad("pmc read offset %s at ingress %s, the probe %s" % (off, ing, seen[int(ing)]))
        matched += 1
print("  offsets the probe read (ns): %s" % sorted(measured))
print("  pmc readings: %s; %d at an ingress time the probe also read, offsets compared"
      % ([int(o) for o, _ in pmc], matched))
if matched == 0:
    bad("no pmc reading matches one of the probe's (ingress time and offset)")
if not measured or max(abs(o) for o in measured) > 1000000:
    bad("offsets measured over a veth on one clock should be well under 1 ms")
maxoff = max((abs(o) for o in measured), default=0)

# records: clock_synced follows ptp4l
recs = [json.loads(l) for l in open(tmp + "/p.jsonl")]
phase = {"before": [], "synced": [], "after": []}
for r in recs:
    a, b = r["start_ns"], r["start_ns"] + r["interval_ns"]
    if r["rx_pkts"] == 0:
        continue
    if b <= t_ptp:
        phase["before"].append(r)
    elif a >= t_sync and b <= t_kill:
        phase["synced"].append(r)
    elif a >= t_unsync:
        phase["after"].append(r)
for name, want, least in (("before", False, 1), ("synced", True, 3), ("after", False, 2)):
    got = phase[name]
    print("  records %-6s ptp4l: %d, clock_synced %s" % (name, len(got), [r["clock_synced"] for r in got]))
    if len(got) < least:
        bad("%d records %s, expected at least %d" % (len(got), name, least))
    for r in got:
        if r["clock_synced"] != want:
            bad("record at %d (%s): clock_synced %s" % (r["start_ns"], name, r["clock_synced"]))
        elif want and r["owd_fwd_ns"]["p50"] is None:
            bad("synchronised record without one-way delay")
        q = r.get("quality", r)
        if want and "clock_error_ns" in q and not margin <= q["clock_error_ns"] <= margin + maxoff + 1000:
            bad("record clock_error_ns %d, expected margin + |offset|" % q["clock_error_ns"])

# the STAMP Error Estimate of every test packet captured (sent and
# reflected): S bit and error (RFC 4656 4.1.2: multiplier * 2^(scale-32) s)
raw = open(tmp + "/p.pcap", "rb").read()
off, n = 24, {"before": 0, "synced": 0, "after": 0}
while off + 16 <= len(raw):
    sec, nsec, incl, _ = struct.unpack_from("<IIII", raw, off)
    frame, off = raw[off + 16:off + 16 + incl], off + 16 + incl
    t = sec * 10**9 + nsec
    if len(frame) < 56 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        continue
    ee = struct.unpack_from(">H", frame, 42 + 12)[0]
    s_bit, scale, mult = ee >> 15, (ee >> 8) & 0x3f, ee & 0xff
    err = mult * 2**scale * 10**9 / 2**32
    if t <= t_ptp:
        n["before"] += 1
        if s_bit or err < 1e9:
            bad("packet before ptp4l: S %d, error %.0f ns" % (s_bit, err))
    elif t_sync + 50000000 <= t <= t_kill:
        n["synced"] += 1
        # a reflected packet's estimate adds the reflector's own
        # software-timestamp error (poll gaps) to the clock's
        reflected = struct.unpack_from(">H", frame, 34)[0] == 862
        hi = 100e6 if reflected else (margin + maxoff) * 1.01 + 1
        if not s_bit or not margin <= err <= hi:
            bad("%s packet while synchronised: S %d, error %.0f ns" %
                ("reflected" if reflected else "sender", s_bit, err))
    elif t >= t_unsync + 100000000:
        n["after"] += 1
        if s_bit:
            bad("packet after the grandmaster left: S bit set")
print("  packets checked (before, synchronised, after): %d %d %d" % (n["before"], n["synced"], n["after"]))
if min(n.values()) < 50:
    bad("too few packets captured in a phase")
for kind, n in shown.items():
    if n > 5:
        print("  ... %d in all: %s" % (n, kind))
sys.exit(0 if ok else 1)
EOF
echo "PASS: S bit, error estimate and records follow ptp4l; offsets as pmc reads them"
