#!/usr/bin/env bash
# Two probes in two fresh network namespaces joined by a veth pair, each
# on net_af_packet; full mesh (each sends to the other and reflects the
# other): no loss, every record valid, RTT p50 < 1 ms, both directions
# consistent, totals equal to what each probe logged; SIGINT stops both
# cleanly. A has a static neighbour (no ARP), B reaches A through a
# gateway (a /32 address) and reflects statelessly.
source "$(dirname "$0")/../lib/mpnet.sh"
probe_tmp mpp-veth
netns_pair || fail "cannot create the namespaces and their veth pair"
mac_b=$(mac_of "$b" vb)

# B first: it reaches A through its gateway (ARP), so it sends only once
# A listens; A (static neighbour, no ARP) starts once B listens.
probe_start b "$b" 1 vb \
  --port name=centre-b,device=net_af_packet0,ipv4=10.77.0.2/32,gateway=10.77.0.1,reflector=stateless \
  --session name=b-to-a,port=centre-b,peer=10.77.0.1,rate_pps=200,frame_size=512
probe_wait_started b
probe_start a "$a" 0 va \
  --port name=centre-a,device=net_af_packet0,ipv4=10.77.0.1/24,neighbours=10.77.0.2@$mac_b \
  --session name=a-to-b,port=centre-a,peer=10.77.0.2,rate_pps=200
probe_wait_started a
# stopped by SIGINT: each stops sending, keeps reflecting through the loss
# timeout, writes its last records and exits 0
sleep 5
probe_stop INT a b
cat "$TMP/a.log" "$TMP/b.log" | grep -v '^EAL\|^TELEMETRY' | sed 's/^/  /'
grep -q "stopping (SIGINT)" "$TMP/a.log" || fail "no SIGINT log line"
$CHECK --records "$TMP/a.jsonl" --records "$TMP/b.jsonl" \
  --session a-to-b:200 --session b-to-a:200 \
  --log "$TMP/a.log" --log "$TMP/b.log" \
  --no-loss --rtt-p50-max-ns 1000000 --min-full 2 || fail "records"
echo "PASS: veth full mesh"
# af_packet copies a frame into the kernel and frees the mbuf untouched:
# the next test packet in that mbuf is written only where it changes
reused=$(sed -n 's/.*port centre-a: test frames copied from their template \([0-9]*\), sent again as they were (only the STAMP fields written) \([0-9]*\)/\1 \2/p' "$TMP/a.log")
set -- $reused
[ "${2:-0}" -gt "${1:-0}" ] || fail "test frames not reused (copied ${1:-?}, reused ${2:-?})"
echo "PASS: $2 test frames sent again from their mbuf, $1 copied from the template"
