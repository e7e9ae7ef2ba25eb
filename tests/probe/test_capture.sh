#!/usr/bin/env bash
# A third-party decoder agrees with the wire format: tshark decodes the
# --capture pcap as TWAMP-Test and finds exactly the sender and reflector
# sequence numbers the probe logged, T1 copied unchanged into the
# reflected packet, and the S bit as configured (--clock-synced true).
# Then --capture-count stops the capture at exactly N packets.
source "$(dirname "$0")/../lib/mpnet.sh"
probe_tmp mpp-cap
command -v tshark >/dev/null || fail "tshark not installed"

run_probe() {   # run_probe NAME extra-args...
  local name=$1; shift
  "$METROPROBE" $(eal_args "$name" 0) -- --ring-pair ca,cb \
    --port name=centre-a,device=ca,ipv4=10.79.0.1/24 \
    --port name=centre-b,device=cb,ipv4=10.79.0.2/24 \
    --session name=a-to-b,port=centre-a,peer=10.79.0.2,rate_pps=50,src_port=40001 \
    --session name=b-to-a,port=centre-b,peer=10.79.0.1,rate_pps=50,src_port=40002 \
    --interval 1s --loss-timeout 500ms --idle-sleep-us 100 --mbufs 2047 \
    --clock-synced true --records "$TMP/$name.jsonl" "$@" 2>"$TMP/$name.log"
}

run_probe full --run-time 3s --capture "$TMP/full.pcap" ||
  fail "probe exited $?"
grep 'session\|capture' "$TMP/full.log" | sed 's/^/  /'
$CHECK --records "$TMP/full.jsonl" --session a-to-b:50 --session b-to-a:50 \
  --log "$TMP/full.log" --no-loss --min-full 1 || fail "records"

tshark -n -r "$TMP/full.pcap" -d udp.port==862,twamp.test -Y twamp.test \
  -T fields -E separator='|' -e udp.srcport -e udp.dstport \
  -e twamp.test.seq_number -e twamp.test.sender_seq_number \
  -e twamp.test.timestamp -e twamp.test.sender_timestamp \
  -e twamp.test.error_estimate.s >"$TMP/decoded.txt" 2>"$TMP/tshark.err" ||
  fail "tshark: $(cat "$TMP/tshark.err")"

/usr/bin/python3 - "$TMP/decoded.txt" "$TMP/full.log" "$TMP/full.jsonl" <<'PY' || fail "decoded packets disagree with the probe"
import json, re, sys
decoded, log, recs = sys.argv[1:]
ports = {"a-to-b": "40001", "b-to-a": "40002"}
summ = {}
for line in open(log):
    m = re.search(r"session (\S+): sent (\d+) \(seq 0\.\.(\d+)\), received (\d+).*"
                  r"reflector seq (\d+)\.\.(\d+)", line)
    if m:
        summ[m.group(1)] = [int(x) for x in m.groups()[1:]]
rows = [l.rstrip("\n").split("|") for l in open(decoded) if l.strip()]
bad = 0
for name, port in ports.items():
    sent, last, received, r0, r1 = summ[name]
    tx = [r for r in rows if r[0] == port and r[1] == "862"]
    back = [r for r in rows if r[0] == "862" and r[1] == port]
    # each packet is captured twice in one process: leaving one port and
    # arriving at the other
    tx_seqs = sorted(int(r[2]) for r in tx)
    want = sorted(list(range(sent)) * 2)
    refl = sorted(int(r[2]) for r in back)
    sender_in_back = sorted(int(r[3]) for r in back)
    wantr = sorted(list(range(r0, r1 + 1)) * 2)
    t1 = {int(r[2]): r[4] for r in tx}
    t1_back = {int(r[3]): r[5] for r in back}
    # the packet's own error estimate comes first
    s_bits = {r[6].split(",")[0] for r in tx + back}
    s_copied = {r[6].split(",")[-1] for r in back}
    print("%s: tshark sender seqs %d..%d (%d), reflector seqs %d..%d (%d); "
          "log sent %d, reflector seq %d..%d; S bits %s" % (
          name, tx_seqs[0], tx_seqs[-1], len(tx_seqs), refl[0], refl[-1],
          len(refl), sent, r0, r1, sorted(s_bits)))
    if tx_seqs != want:
        print("FAIL %s: sender seqs differ from the log" % name); bad += 1
    if refl != wantr:
        print("FAIL %s: reflector seqs differ from the log" % name); bad += 1
    if sender_in_back != want:
        print("FAIL %s: sender seqs in reflected packets differ" % name); bad += 1
    if any(t1_back[s] != t1[s] for s in t1):
        print("FAIL %s: T1 changed on the way back" % name); bad += 1
    if s_copied != {"1"}:
        print("FAIL %s: copied sender S bit %r" % (name, s_copied)); bad += 1
    if s_bits != {"1"}:
        print("FAIL %s: S bit %r, configured synchronised" % (name, s_bits)); bad += 1
for line in open(recs):
    r = json.loads(line)
    if r["rx_pkts"] and (not r["clock_synced"] or r["owd_fwd_ns"] is None):
        print("FAIL: synchronised clocks but no one-way delay in %s" % line); bad += 1
sys.exit(1 if bad else 0)
PY

run_probe limited --run-time 2s --capture "$TMP/lim.pcap" --capture-count 37 ||
  fail "probe exited $?"
n=$(tshark -n -r "$TMP/lim.pcap" 2>/dev/null | wc -l)
echo "  --capture-count 37: $n packets in the file"
[ "$n" -eq 37 ] || fail "--capture-count 37 wrote $n packets"
grep -q "capture: stopped after 37 packets" "$TMP/limited.log" ||
  fail "no log line for the capture limit"
echo "PASS: capture decoded by tshark"
