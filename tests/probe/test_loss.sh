#!/usr/bin/env bash
# Loss, told apart by direction. A and B are joined through a Linux
# bridge in a third namespace; a token-bucket filter (tc tbf) on the
# bridge port towards B drops frames going from A to B only: for A's
# session that is forward loss, for B's session backward loss (A's
# reflections lost). The records must say exactly that, interval by
# interval (but for the tail after the last packet back, which cannot be
# told apart and counts forward), and the losses must add up to what tbf
# dropped.
source "$(dirname "$0")/../lib/mpnet.sh"
probe_tmp mpp-loss
a=$(netns_create a) || fail "cannot create namespace"
b=$(netns_create b) || fail "cannot create namespace"
m=$(netns_create m) || fail "cannot create namespace"
netns_veth "$a" va "$m" ma || fail "cannot create veth pair"
netns_veth "$m" mb "$b" vb || fail "cannot create veth pair"
mac_b=$(mac_of "$b" vb)
netns_bridge "$m" br0 ma mb || fail "cannot set up bridge"
# 200 + 170 frames/s of 128 octets go from A to B (~380 kbit/s): keep ~65 %.
# Different rates, so neither stream is phase-locked to the token bucket.
tc -n "$m" qdisc add dev mb root tbf rate 250kbit burst 3000 limit 3000 ||
  fail "cannot add tbf"

# B starts first and resolves A by ARP, so it sends only once A listens.
# A has B as a static neighbour and starts once B listens. A's own 200
# frames/s stay under the tbf rate, so the ARP reply it sends B is never
# dropped: tbf drops nothing but test packets.
probe_start b "$b" 1 vb \
  --port name=centre-b,device=net_af_packet0,ipv4=10.81.0.2/24 \
  --session name=b-to-a,port=centre-b,peer=10.81.0.1,rate_pps=170
probe_wait_started b
probe_start a "$a" 0 va \
  --port name=centre-a,device=net_af_packet0,ipv4=10.81.0.1/24,neighbours=10.81.0.2@$mac_b \
  --session name=a-to-b,port=centre-a,peer=10.81.0.2,rate_pps=200
probe_wait_started a
sleep 5
probe_stop INT a b
grep 'session' "$TMP/a.log" "$TMP/b.log" | sed 's/^.*info: /  /'
dropped=$(tc -n "$m" -s qdisc show dev mb | sed -n 's/.*(dropped \([0-9]*\),.*/\1/p')
echo "  tbf dropped $dropped frames"
$CHECK --records "$TMP/a.jsonl" --records "$TMP/b.jsonl" \
  --session a-to-b:200 --session b-to-a:170 --log "$TMP/a.log" \
  --log "$TMP/b.log" --min-full 2 || fail "records"
/usr/bin/python3 - "$TMP/a.jsonl" "$TMP/b.jsonl" "$dropped" <<'PY' || fail "loss split"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
dropped = int(sys.argv[3])
bad = 0
la = sum(r["lost"] for r in a); lb = sum(r["lost"] for r in b)
print("a-to-b lost %d (fwd %d back %d) per interval %s" % (la,
      sum(r["lost_fwd"] for r in a), sum(r["lost_back"] for r in a),
      [(r["lost_fwd"], r["lost_back"]) for r in a]))
print("b-to-a lost %d (fwd %d back %d) per interval %s" % (lb,
      sum(r["lost_fwd"] for r in b), sum(r["lost_back"] for r in b),
      [(r["lost_fwd"], r["lost_back"]) for r in b]))
if la == 0 or lb == 0:
    print("FAIL: tbf dropped nothing"); bad += 1
# Exact up to the interval of the last packet that came back; after it
# nothing tells the directions apart and that tail counts as forward.
def known(recs):
    last = max(i for i, r in enumerate(recs) if r["rx_pkts"] > 0)
    return recs[:last], recs[last:]
ka, ta = known(a)
kb, tb = known(b)
if any(r["lost_back"] for r in a) or any(r["lost_fwd"] for r in kb):
    print("FAIL: loss put in the wrong direction"); bad += 1
if la + lb != dropped:
    print("FAIL: lost %d + %d != tbf dropped %d" % (la, lb, dropped)); bad += 1
sys.exit(1 if bad else 0)
PY
echo "PASS: loss split forward/backward, equal to tbf's drops"
