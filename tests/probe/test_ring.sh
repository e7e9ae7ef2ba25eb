#!/usr/bin/env bash
# The quick loopback: one process, two ring ports joined back to back
# (--ring-pair), --no-huge, no namespaces. Main lcore for control, one
# data-plane lcore. Full mesh: A -> B over IPv6 (neighbour discovery),
# B -> A authenticated (HMAC, A's reflector in authenticated mode) with
# 9000-octet frames, A -> B at 10 kpps with PTP timestamps both ways;
# all on VLAN 100. Stopped by SIGTERM: exit 0 and the last records
# written. No loss, valid records, RTT p50 < 1 ms.
source "$(dirname "$0")/../lib/mpnet.sh"
probe_tmp mpp-ring
echo 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f >"$TMP/key.hex"

"$METROPROBE" $(eal_args r 0,1) -- --ring-pair wa,wb \
  --port name=centre-a,device=wa,vlan=100,ipv4=10.78.0.1/24,ipv6=fd78::1/64,reflector_auth=true,reflector_key_file="$TMP/key.hex" \
  --port name=centre-b,device=wb,vlan=100,ipv4=10.78.0.2/24,ipv6=fd78::2/64,reflector_timestamp=ptp \
  --session name=a-to-b-ptp,port=centre-a,peer=10.78.0.2,rate_pps=10000,timestamp_format=ptp \
  --session name=a-to-b,port=centre-a,peer=fd78::2,rate_pps=1000 \
  --session name=b-to-a,port=centre-b,peer=10.78.0.1,rate_pps=1000,frame_size=9000,dscp=46,auth=true,key_file="$TMP/key.hex" \
  --interval 1s --loss-timeout 1s --idle-sleep-us 100 \
  --mbufs 2047 --records "$TMP/r.jsonl" 2>"$TMP/r.log" &
pid=$!
netns_track_pid "$pid"
wait_started "$TMP/r.log" || fail "probe did not start"
sleep 5
kill -TERM "$pid"
wait "$pid"
rc=$?
grep -v '^EAL\|^TELEMETRY' "$TMP/r.log" | sed 's/^/  /'
[ "$rc" -eq 0 ] || fail "probe exited $rc after SIGTERM"
grep -q "stopping (SIGTERM)" "$TMP/r.log" || fail "no SIGTERM log line"
$CHECK --records "$TMP/r.jsonl" --session a-to-b:1000 --session b-to-a:1000 \
  --session a-to-b-ptp:10000 \
  --log "$TMP/r.log" --no-loss --rtt-p50-max-ns 1000000 --min-full 2 ||
  fail "records"
grep -q '"src":"\[fd78::1\]:[0-9]*","dst":"\[fd78::2\]:862"' "$TMP/r.jsonl" ||
  fail "no IPv6 session record"
echo "PASS: ring pair full mesh (VLAN, IPv6, authenticated, jumbo, PTP, SIGTERM)"

# An EAL heap too small for the sessions: a clear error naming the
# session and what did not fit, not a bare "port setup failed".
{
  printf '[port.a]\ndevice = wa\nipv4 = 10.78.1.1/24\n[port.b]\ndevice = wb\nipv4 = 10.78.1.2/24\n'
  for i in $(seq 1 1000); do
    printf '[session.s%d]\nport = a\npeer = 10.78.1.2\nsrc_port = %d\n' "$i" $((20000 + i))
  done
} >"$TMP/many.ini"
"$METROPROBE" -l 0 --no-huge --no-pci -m 128 --file-prefix "${NETNS_TAG}-m" \
  --log-level=lib.eal:error -- --ring-pair wa,wb --config "$TMP/many.ini" \
  --run-time 1s --records "$TMP/many.jsonl" >"$TMP/many.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] || fail "1000 sessions in a 128 MB heap should not start"
grep -q "error: session s[0-9]*: no memory for its .* the EAL heap is full; give EAL more memory" "$TMP/many.log" ||
  { tail -3 "$TMP/many.log"; fail "no clear out-of-memory error"; }
echo "PASS: a heap too small for 1000 sessions is reported as such"
# a ring port hands our own mbuf to the reflector, which rewrites it:
# such a frame must be built from the template again every time
grep -q "port centre-a: test frames copied from their template [1-9][0-9]*, sent again as they were (only the STAMP fields written) 0$" "$TMP/r.log" ||
  fail "a test frame that went through the reflector was reused: $(grep 'test frames copied' "$TMP/r.log")"
echo "PASS: frames back from the reflector are rebuilt from the template"
