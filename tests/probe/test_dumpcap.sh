#!/usr/bin/env bash
# dpdk-dumpcap against a running probe, as a network engineer uses it
# when something looks wrong: dumpcap is a DPDK secondary process, so the
# probe (primary, rte_pdump initialised) runs on 2 MiB hugepages with a
# file prefix of its own, on a ring pair with one session and the
# reflector. dumpcap lists the probe's two ports, then captures N
# packets (-c N) on centre-a's port to a pcapng file. tshark must decode them
# all as the session's TWAMP-Test (STAMP) packets: its UDP ports both
# ways, its frame size, consecutive sender and reflector sequence
# numbers. The probe must keep running through the attach and detach and
# go on measuring: no loss, packets received after dumpcap left, exit 0
# on SIGTERM. Hugepages are added for the test and taken off again.
source "$(dirname "$0")/../lib/mpnet.sh"
: "${METROPROBE:?}"
probe_tmp mpp-dcap
command -v dpdk-dumpcap >/dev/null || fail "dpdk-dumpcap not installed (Debian package dpdk-dev)"
command -v tshark >/dev/null || fail "tshark not installed"
huge_reserve 32
case $? in
  0) ;;
  2) echo "SKIP: no 2 MiB hugepages on this kernel"; exit 77 ;;
  *) fail "cannot reserve 32 hugepages of 2 MiB (free: $(huge_free))" ;;
esac
N=60
FRAME=200               # frame size with FCS: 196 octets captured
prefix="${NETNS_TAG}-d"

"$METROPROBE" -l 0,1 --no-pci --huge-dir "$HUGE_DIR" --file-prefix "$prefix" \
  --log-level=lib.eal:error -- --ring-pair da,db \
  --port name=centre-a,device=da,ipv4=10.76.0.1/24 \
  --port name=centre-b,device=db,ipv4=10.76.0.2/24 \
  --session name=a-to-b,port=centre-a,peer=10.76.0.2,rate_pps=200,frame_size=$FRAME,src_port=40011 \
  $PROBE_COMMON --records "$TMP/d.jsonl" 2>"$TMP/d.log" &
pid=$!
netns_track_pid "$pid"
wait_started "$TMP/d.log" || { cat "$TMP/d.log"; fail "probe did not start"; }
grep -q "rte_pdump_init failed" "$TMP/d.log" && fail "probe: rte_pdump_init failed"
sleep 1

# dumpcap: a secondary process of the probe's prefix (its EAL runs on
# the hugepage files the primary made; it finds them through the prefix)
timeout 60 dpdk-dumpcap --file-prefix "$prefix" -D >"$TMP/list.txt" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/list.txt"; fail "dpdk-dumpcap -D exited $rc"; }
sed 's/^/  dumpcap -D: /' "$TMP/list.txt" | grep -v 'PCI\|0000:'
grep -q '^[0-9]*\. net_ring_da$' "$TMP/list.txt" &&
  grep -q '^[0-9]*\. net_ring_db$' "$TMP/list.txt" ||
  fail "dumpcap does not list the probe's two ring ports"
timeout 60 dpdk-dumpcap --file-prefix "$prefix" -i net_ring_da \
  -w "$TMP/cap.pcapng" -c $N >"$TMP/dumpcap.txt" 2>&1
rc=$?
echo "  HugePages_Free after the capture: $(huge_free) (32 added for the test)"
grep -v 'PCI\|0000:' "$TMP/dumpcap.txt" | sed 's/^/  dumpcap: /'
[ "$rc" -eq 0 ] || fail "dpdk-dumpcap exited $rc"
kill -0 "$pid" 2>/dev/null || fail "the probe died while dumpcap was attached"
detached_ns=$(date +%s%N)
# measuring goes on after dumpcap has left
sleep 3
kill -0 "$pid" 2>/dev/null || fail "the probe died after dumpcap detached"
kill -TERM "$pid"
wait "$pid"
rc=$?
grep 'session\|pdump\|error' "$TMP/d.log" | sed 's/^/  /'
[ "$rc" -eq 0 ] || fail "probe exited $rc after SIGTERM"

tshark -n -r "$TMP/cap.pcapng" -d udp.port==862,twamp.test \
  -T fields -E separator='|' -e frame.len -e ip.src -e udp.srcport \
  -e ip.dst -e udp.dstport -e twamp.test.seq_number \
  -e twamp.test.sender_seq_number >"$TMP/decoded.txt" 2>"$TMP/tshark.err" ||
  fail "tshark: $(cat "$TMP/tshark.err")"
/usr/bin/python3 - "$TMP/decoded.txt" "$TMP/d.log" $N $((FRAME - 4)) \
  "$TMP/dumpcap.txt" <<'PY' ||
import re, sys
decoded, log, n, flen, dc = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    sys.argv[4], sys.argv[5]
rows = [l.rstrip("\n").split("|") for l in open(decoded) if l.strip()]
# its running count, each number rubbed out with backspaces
said = re.search(r"Packets captured:([\d \b]*)\n", open(dc).read())
said = said and said.group(1).replace("\b", " ").split()[-1]
m = re.search(r"session a-to-b: sent (\d+) .*reflector seq (\d+)\.\.(\d+)",
              open(log).read())
sent, r_last = int(m.group(1)), int(m.group(3))
fwd = [r for r in rows if r[1:5] == ["10.76.0.1", "40011", "10.76.0.2", "862"]]
back = [r for r in rows if r[1:5] == ["10.76.0.2", "862", "10.76.0.1", "40011"]]
bad = []
# -c N: dumpcap stops after the burst (at most 32 packets) that reaches N
if not n <= len(rows) < n + 32:
    bad.append("%d packets in the file, asked for %d" % (len(rows), n))
if said != str(len(rows)):
    bad.append("%d packets in the file, dumpcap said %s" % (len(rows), said))
if len(fwd) + len(back) != len(rows):
    bad.append("%d packets not of the session" % (len(rows) - len(fwd) - len(back)))
if not fwd or not back:
    bad.append("not both directions: %d sent, %d reflected" % (len(fwd), len(back)))
if any(r[0] != flen for r in rows):
    bad.append("frame lengths %s, want %s" % (sorted({r[0] for r in rows}), flen))
if any(not r[5] for r in rows):
    bad.append("packets tshark does not decode as TWAMP-Test")
else:
    s = [int(r[5]) for r in fwd]
    rs = [int(r[5]) for r in back]
    rss = [int(r[6]) for r in back]
    print("  captured: %d sent (seq %d..%d), %d reflected (reflector seq "
          "%d..%d, sender seq %d..%d); the probe sent %d" % (len(s), s[0],
          s[-1], len(rs), rs[0], rs[-1], rss[0], rss[-1], sent))
    for what, seqs in (("sender", s), ("reflector", rs), ("copied sender", rss)):
        if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            bad.append("%s seqs not consecutive: %s" % (what, seqs))
    if s[-1] >= sent or rs[-1] > r_last:
        bad.append("seqs beyond what the probe logged")
    if rs != rss:
        # stateful reflector on a lossless ring: reflector seq = sender seq
        bad.append("reflector seqs differ from the sender seqs they carry")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY
  fail "the capture is not the session's packets"
$CHECK --records "$TMP/d.jsonl" --session a-to-b:200 --log "$TMP/d.log" \
  --no-loss --min-full 2 || fail "records"
/usr/bin/python3 - "$TMP/d.jsonl" "$detached_ns" <<'PY' ||
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
after = [r for r in recs if r["start_ns"] >= int(sys.argv[2])]
rx = sum(r["rx_pkts"] for r in after)
print("  intervals begun after dumpcap left: %d, %d packets received" %
      (len(after), rx))
# 3 s at 200 packets/s from the detach to SIGTERM
sys.exit(0 if rx >= 150 else 1)
PY
  fail "the probe stopped measuring after dumpcap left"
echo "PASS: dpdk-dumpcap attached to a running probe on hugepages, $N STAMP packets decoded"
