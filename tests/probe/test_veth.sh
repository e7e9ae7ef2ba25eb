#!/usr/bin/env bash
# Two probes in two fresh network namespaces joined by a veth pair, each
# on net_af_packet; full mesh (each sends to the other and reflects the
# other): no loss, every record valid, RTT p50 < 1 ms, both directions
# consistent, totals equal to what each probe logged; SIGINT stops both
# cleanly. A has a static neighbour (no ARP), B reaches A through a
# gateway (a /32 address) and reflects statelessly.
source "$(dirname "$0")/lib.sh"
probe_tmp mpp-veth
a=$(netns_create a) || fail "cannot create namespace"
b=$(netns_create b) || fail "cannot create namespace"
netns_veth "$a" va "$b" vb || fail "cannot create veth pair"
mac_b=$(ip -n "$b" -o link show vb | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

common="--interval 1s --loss-timeout 1s --idle-sleep-us 100 --mbufs 2047"
# B first: it reaches A through its gateway (ARP), so it sends only once
# A listens; A (static neighbour, no ARP) starts once B listens.
netns_bg "$b" "$METROPROBE" $(eal_args b 1) --vdev=net_af_packet0,iface=vb -- \
  --port name=centre-b,device=net_af_packet0,ipv4=10.77.0.2/32,gateway=10.77.0.1,reflector=stateless \
  --session name=b-to-a,port=centre-b,peer=10.77.0.1,rate_pps=200,frame_size=512 \
  $common --records "$TMP/b.jsonl" 2>"$TMP/b.log"
pb=$NETNS_LAST_PID
wait_started "$TMP/b.log" || fail "probe b did not start"
netns_bg "$a" "$METROPROBE" $(eal_args a 0) --vdev=net_af_packet0,iface=va -- \
  --port name=centre-a,device=net_af_packet0,ipv4=10.77.0.1/24,neighbours=10.77.0.2@$mac_b \
  --session name=a-to-b,port=centre-a,peer=10.77.0.2,rate_pps=200 \
  $common --records "$TMP/a.jsonl" 2>"$TMP/a.log"
pa=$NETNS_LAST_PID
wait_started "$TMP/a.log" || fail "probe a did not start"
# stopped by SIGINT: each stops sending, keeps reflecting through the loss
# timeout, writes its last records and exits 0
sleep 5
kill -INT "$pa" "$pb"
wait "$pa"; ra=$?
wait "$pb"; rb=$?
cat "$TMP/a.log" "$TMP/b.log" | grep -v '^EAL\|^TELEMETRY' | sed 's/^/  /'
[ "$ra" -eq 0 ] || fail "probe a exited $ra"
[ "$rb" -eq 0 ] || fail "probe b exited $rb"
grep -q "stopping (SIGINT)" "$TMP/a.log" || fail "no SIGINT log line"
$CHECK --records "$TMP/a.jsonl" --records "$TMP/b.jsonl" \
  --session a-to-b:200 --session b-to-a:200 \
  --log "$TMP/a.log" --log "$TMP/b.log" \
  --no-loss --rtt-p50-max-ns 1000000 --min-full 2 || fail "records"
echo "PASS: veth full mesh"
