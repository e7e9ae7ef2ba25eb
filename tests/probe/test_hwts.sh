#!/usr/bin/env bash
# Hardware receive timestamps without a NIC: two ring ports, each given a
# simulated device clock (METROPROBE_TEST_HW_CLOCK, probe/hwts_sim.c): a
# 32-bit counter at 156.25 MHz (not nanoseconds) that first wraps 3.5 s
# after the port starts; the probe is told neither width nor rate. It
# must measure the rate (within 0.5 %: the simulation runs off the TSC's
# nominal rate, which can be off by more than 1000 ppm, the probe measures
# against the TSC rate calibrated on the kernel clock), learn the
# width at the wrap, convert the stamps of most frames, fall back to
# software timestamps only before the rate is confirmed and until the
# wrap is understood, see no jump and no rate change on a clock that has
# neither, and give records as clean as with software timestamps.
source "$(dirname "$0")/../lib/mpnet.sh"
probe_tmp mpp-hwts

METROPROBE_TEST_HW_CLOCK=32,156250000,3500 \
"$METROPROBE" $(eal_args h 0,1) -- --ring-pair ha,hb \
  --port name=a,device=ha,ipv4=10.79.0.1/24 \
  --port name=b,device=hb,ipv4=10.79.0.2/24 \
  --session name=a-to-b,port=a,peer=10.79.0.2,rate_pps=1000 \
  --session name=b-to-a,port=b,peer=10.79.0.1,rate_pps=1000 \
  $PROBE_COMMON --run-time 7s --records "$TMP/r.jsonl" 2>"$TMP/r.log"
rc=$?
grep -v '^EAL\|^TELEMETRY' "$TMP/r.log" | grep 'clock\|timestamps' |
  sed 's/^/  /'
[ "$rc" -eq 0 ] || fail "probe exited $rc"

for port in a b; do
  grep -q "port $port: SIMULATED device clock" "$TMP/r.log" ||
    fail "port $port: no simulated clock"
  mhz=$(sed -n "s/.*port $port: device clock \([0-9.]*\) MHz (measured.*/\1/p" "$TMP/r.log")
  [ -n "$mhz" ] || fail "port $port: device clock rate never confirmed"
  awk -v f="$mhz" 'BEGIN { d = f / 156.25 - 1; exit !(d < 0.005 && d > -0.005) }' ||
    fail "port $port: measured $mhz MHz, not 156.25"
  grep -q "port $port: device clock wrapped: it is 32 bits wide" "$TMP/r.log" ||
    fail "port $port: width not learned at the wrap"
  sum=$(grep "port $port: hardware receive timestamps [0-9]" "$TMP/r.log")
  [ -n "$sum" ] || fail "port $port: no exit summary"
  read -r hw early far unstamped jumps moves < <(echo "$sum" | sed -E \
    's/.*timestamps ([0-9]+); software instead: ([0-9]+) before .*, ([0-9]+) too far .*, ([0-9]+) not stamped; .*, ([0-9]+) jumps, ([0-9]+) rate changes.*/\1 \2 \3 \4 \5 \6/')
  [ "${hw:-0}" -ge 2000 ] || fail "port $port: only ${hw:-0} hardware timestamps"
  [ "$early" -gt 0 ] || fail "port $port: no software fallback before the rate was known"
  [ "$unstamped" -eq 0 ] || fail "port $port: $unstamped frames not stamped"
  [ "$jumps" -eq 0 ] || fail "port $port: $jumps clock jumps on a steady clock"
  [ "$moves" -eq 0 ] || fail "port $port: $moves rate changes on a steady clock"
  echo "  port $port: $hw hardware, $early before the rate, $far at the wrap"
done
grep -q '"hw_timestamps":true' "$TMP/r.jsonl" || fail "records do not say hw_timestamps"
$CHECK --records "$TMP/r.jsonl" --session a-to-b:1000 --session b-to-a:1000 \
  --log "$TMP/r.log" --no-loss --rtt-p50-max-ns 1000000 --min-full 2 ||
  fail "records"
echo "PASS: simulated device clock measured, width learned, stamps converted"
