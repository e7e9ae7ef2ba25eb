#!/usr/bin/env bash
# The quick loopback: one process, two ring ports joined back to back
# (--ring-pair), --no-huge, no namespaces (no root needed). Full mesh
# with a 9000-octet frame one way: no loss, valid records, RTT p50 < 1 ms.
source "$(dirname "$0")/lib.sh"
TMP=$(mktemp -d /tmp/mpp-ring.XXXX)
NETNS_TAG="mpp-ring-$$-$RANDOM"
trap 'rm -rf "$TMP" /var/run/dpdk/${NETNS_TAG}-*' EXIT

"$METROPROBE" $(eal_args r 0) -- --ring-pair wa,wb \
  --port name=centre-a,device=wa,ipv4=10.78.0.1/24 \
  --port name=centre-b,device=wb,ipv4=10.78.0.2/24 \
  --session name=a-to-b,port=centre-a,peer=10.78.0.2,rate_pps=1000 \
  --session name=b-to-a,port=centre-b,peer=10.78.0.1,rate_pps=1000,frame_size=9000,dscp=46 \
  --interval 1s --loss-timeout 1s --run-time 5s --idle-sleep-us 100 \
  --mbufs 2047 --records "$TMP/r.jsonl" 2>"$TMP/r.log"
rc=$?
grep -v '^EAL\|^TELEMETRY' "$TMP/r.log" | sed 's/^/  /'
[ "$rc" -eq 0 ] || fail "probe exited $rc"
$CHECK --records "$TMP/r.jsonl" --session a-to-b:1000 --session b-to-a:1000 \
  --log "$TMP/r.log" --no-loss --rtt-p50-max-ns 1000000 --min-full 2 ||
  fail "records"
echo "PASS: ring pair full mesh"
