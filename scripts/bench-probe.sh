#!/usr/bin/env bash
# Probe benchmarks (a script, not a timed test):
#   1. dpdk-testpmd io-forward vs metroprobe send+reflect+measure on two
#      ring ports back to back, same lcores
#   2. per-packet CPU cost of send+receive-and-measure and of the
#      reflector, by frame size (thread CPU time / packets)
#   3. cores needed for 100 Gb/s, computed from 2
#   4. pacing accuracy at 1 kpps, 100 kpps, 1 Mpps (+ gap error p50/p99)
#   5. resident memory with 1, 100, 1000 sessions
#   6. multi-queue scaling: 1 worker lcore vs 2 (queues=2)
#
#   scripts/bench-probe.sh [BUILDDIR]      (default build-pbench)
#   RUNS=3 ITEMS="1 2 3 4 5" scripts/bench-probe.sh build
#
# Every figure is printed with the 1-minute load average at that time:
# the machine is shared, so read the figures with it.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build-pbench}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
MP=$BUILD/probe/metroprobe
RX_BENCH=$BUILD/tests/bench/bench_rx_path
RUNS=${RUNS:-3}
ITEMS=${ITEMS:-1 2 3 4 5 6}
TOOLS="python3 $SRC/tests/bench/bench_probe_tools.py"
[ -x "$MP" ] || { echo "no $MP (ninja -C $BUILD)"; exit 1; }
TAG="mpb-$$-$RANDOM"
TMP=$(mktemp -d "/tmp/$TAG.XXXX")
PIDS=""
cleanup() {
  local p
  for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$TMP" /var/run/dpdk/${TAG}-* /dev/hugepages/${TAG}-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM
TSC_HZ=""
load() { cut -d' ' -f1 /proc/loadavg; }
N=0
eal() { echo "--no-huge --no-pci -m ${MEM:-256} --file-prefix $TAG-$RANDOM --log-level=lib.eal:error"; }
PORTS="--ring-pair wa,wb --port name=a,device=wa,ipv4=10.9.0.1/24 --port name=b,device=wb,ipv4=10.9.0.2/24"
MAC_A=02:6d:70:00:00:01

# run_probe LCORES SECONDS PROBE-ARGS...: one ring-pair probe; records in
# $TMP/r.jsonl, log $TMP/r.log; sets PROBE_PID while it runs (wait_probe).
run_probe() {
  local lc=$1 secs=$2; shift 2
  rm -f "$TMP/r.jsonl" "$TMP/c.pcap"
  "$MP" $lc $(eal) -- $PORTS --interval 1s --loss-timeout 1s \
    --run-time "${secs}s" --records "$TMP/r.jsonl" "$@" 2>"$TMP/r.log" &
  PROBE_PID=$!
  PIDS="$PIDS $PROBE_PID"
}
wait_probe() {
  wait "$PROBE_PID"
  local rc=$?
  [ -z "$TSC_HZ" ] && TSC_HZ=$(sed -n 's/.*clock: TSC \(measured at \)\?\([0-9]*\) Hz.*/\2/p' "$TMP/r.log" | head -1)
  [ $rc -eq 0 ] || { echo "  probe exited $rc:"; grep -v '^EAL\|^TELEM' "$TMP/r.log" | tail -5; }
  return $rc
}
# thread_cpu PID NAME-REGEX: utime+stime (clock ticks) of the threads whose
# comm matches (DPDK names lcore threads "dpdk-worker<N>" / "lcore-worker-N").
thread_cpu() {
  local pid=$1 re=$2 t sum=0 c
  for t in /proc/"$pid"/task/*; do
    grep -Eq "$re" "$t/comm" 2>/dev/null || continue
    c=$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null) || continue
    sum=$((sum + c))
  done
  echo $sum
}
# worker_tids PID: comm of each thread (debug aid)
HZ=$(getconf CLK_TCK)

###########################################################################
item1() {
  echo "== 1. DPDK floor (dpdk-testpmd) vs metroprobe, net_ring x2, lcores 0,1"
  command -v dpdk-testpmd >/dev/null || { echo "  no dpdk-testpmd (apt-get install dpdk)"; return; }
  local r tp=() sw=() mp=() rate best
  for r in $(seq 1 "$RUNS"); do
    # testpmd: two self-looped ring ports, lcore 1 forwards, 32 packets
    # per port injected once (--tx-first) and forwarded forever. io: the
    # floor the issue names (a pointer moved, the packet never read);
    # 5tswap: swaps MAC, IP addresses and UDP ports in every packet, the
    # header work of a reflector, as a second reference.
    timeout -s INT 8 dpdk-testpmd -l 0,1 $(eal) --vdev net_ring0 --vdev net_ring1 -- \
      --forward-mode=io --tx-first --txpkts=124 --nb-cores=1 \
      --total-num-mbufs=8192 --stats-period 1 </dev/null >"$TMP/t.log" 2>&1
    tp+=("$($TOOLS testpmd "$TMP/t.log")")
    timeout -s INT 8 dpdk-testpmd -l 0,1 $(eal) --vdev net_ring0 --vdev net_ring1 -- \
      --forward-mode=5tswap --tx-first --txpkts=124 --nb-cores=1 \
      --total-num-mbufs=8192 --stats-period 1 </dev/null >"$TMP/t5.log" 2>&1
    sw+=("$($TOOLS testpmd "$TMP/t5.log")")
    # metroprobe: one session a -> b, b reflects, a measures, both ports
    # on lcore 1, busy poll. Step rate_pps up; the highest rate whose
    # full intervals carry the asked rate within 0.5 % with no loss.
    best=0
    for rate in 1000000 2000000 3000000 4000000 5000000 6000000 7000000 8000000 9000000 10000000 12000000; do
      run_probe "-l 0,1" 4 --idle-sleep-us 0 --mbufs 16383 \
        --session name=s,port=a,peer=10.9.0.2,rate_pps=$rate,frame_size=128
      wait_probe || break
      set -- $($TOOLS rate "$TMP/r.jsonl" s $rate)
      echo "   run $r: rate_pps=$rate achieved $1 pps (err $2 %), lost $3   load $(load)"
      if [ "$3" = 0 ] && awk -v e="$2" 'BEGIN { exit !(e > -0.5) }'; then
        best=$1
      else
        break
      fi
    done
    mp+=("$best")
    echo "  run $r: testpmd io ${tp[-1]}, 5tswap ${sw[-1]} pps (sum of both ports' rx), metroprobe ${best} test pkts/s   load $(load)"
  done
  local tpm swm mpm
  tpm=$($TOOLS median "${tp[@]}")
  swm=$($TOOLS median "${sw[@]}")
  mpm=$($TOOLS median "${mp[@]}")
  MP_MAX=$mpm
  echo "  MEDIAN testpmd io-forward: $tpm port-rx pkts/s (2 ring ports, 128-byte frames, packets never touched)"
  echo "  MEDIAN testpmd 5tswap: $swm port-rx pkts/s (every packet's L2-L4 addresses swapped)"
  echo "  MEDIAN metroprobe: $mpm test pkts/s sent+reflected+measured without loss = $(awk -v m="$mpm" 'BEGIN{printf "%.0f", 2*m}') port-rx pkts/s (each test packet is received twice: at the reflector and back at the sender)"
  echo "  RATIO metroprobe/testpmd io (port-rx pkts/s): $(awk -v m="$mpm" -v t="$tpm" 'BEGIN{printf "%.2f %%", 200*m/t}')   target >= 70 %"
  echo "  RATIO metroprobe/testpmd 5tswap (port-rx pkts/s): $(awk -v m="$mpm" -v t="$swm" 'BEGIN{printf "%.2f %%", 200*m/t}')"
}

###########################################################################
# item 6: multi-queue scaling on the ring pair: the same work on one
# worker lcore (queues=1) and on two (queues=2, queue q of both ports on
# worker q); two sessions, one per queue. The highest lossless total.
item6() {
  echo "== 6. multi-queue: 1 worker (queues=1) vs 2 workers (queues=2), 2 sessions, 128-byte frames, busy poll"
  local r rate best nq lc v1=() v2=() a b
  for nq in 1 2; do
    if [ $nq = 1 ]; then lc="-l 0,1"; else lc="--lcores 0@0,1@0,2@1"; fi
    for r in $(seq 1 "$RUNS"); do
      best=0
      for rate in 1000000 2000000 3000000 4000000 5000000 6000000 7000000 8000000 9000000 10000000; do
        rm -f "$TMP/r.jsonl"
        "$MP" $lc $(eal) -- --ring-pair wa,wb \
          --port name=a,device=wa,ipv4=10.9.0.1/24,queues=$nq \
          --port name=b,device=wb,ipv4=10.9.0.2/24,queues=$nq \
          --interval 1s --loss-timeout 1s --run-time 4s --records "$TMP/r.jsonl" \
          --idle-sleep-us 0 --mbufs 16383 \
          --session name=s1,port=a,peer=10.9.0.2,rate_pps=$rate,frame_size=128,src_port=40000 \
          --session name=s2,port=a,peer=10.9.0.2,rate_pps=$rate,frame_size=128,src_port=40001 \
          2>"$TMP/r.log" || break
        set -- $($TOOLS rate "$TMP/r.jsonl" s1 $rate); a="$1 $2 $3"
        set -- $($TOOLS rate "$TMP/r.jsonl" s2 $rate); b="$1 $2 $3"
        echo "   queues=$nq run $r: 2 x $rate pps asked: s1 $a, s2 $b (achieved err% lost)   load $(load)"
        if awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y); exit !(x[3] == 0 && y[3] == 0 && x[2] > -0.5 && y[2] > -0.5) }'; then
          best=$(awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y); printf "%.0f", x[1] + y[1] }')
        else
          break
        fi
      done
      if [ $nq = 1 ]; then v1+=("$best"); else v2+=("$best"); fi
    done
  done
  local m1 m2
  m1=$($TOOLS median "${v1[@]}"); m2=$($TOOLS median "${v2[@]}")
  echo "  MEDIAN 1 worker: $m1 test pkts/s; 2 workers: $m2 test pkts/s; scaling x$(awk -v a="$m1" -v b="$m2" 'BEGIN{printf "%.2f", b/a}') (2 vCPUs: the second worker shares its core with the control lcore)"
}

###########################################################################
# item 2: port a (sender + receive-and-measure) on lcore 1, port b
# (reflector) on lcore 2, at a fixed rate with the idle back-off (so CPU
# time is work, not empty polls). CPU time of each lcore thread over the
# steady part of the run / packets.
COST_RATE=${COST_RATE:-200000}
OVER=${OVER:-20000000}
declare -A COST_S COST_R
declare -A COST_ALL
item2() {
  # (a) saturation: one busy-polling lcore does everything (send, both
  # ports' rx, reflect, measure); asked far above what it can do, the
  # achieved lossless rate is its capacity and 1/rate the cost of one
  # test packet all in (two ring enqueues, two dequeues included).
  echo "== 2a. per test packet cost, all in, at saturation (one busy lcore, rate_pps=$OVER asked; cost = 1 / achieved)"
  local fs r v=()
  for fs in 90 512 1518; do
    v=()
    for r in $(seq 1 "$RUNS"); do
      run_probe "-l 0,1" 4 --idle-sleep-us 0 --mbufs 16383 \
        --session name=s,port=a,peer=10.9.0.2,rate_pps=$OVER,frame_size=$fs
      wait_probe || continue
      set -- $($TOOLS rate "$TMP/r.jsonl" s $OVER)
      echo "   frame $fs run $r: achieved $1 pps, lost $3 -> $(awk -v a="$1" 'BEGIN{printf "%.0f", 1e9/a}') ns/pkt   load $(load)"
      [ "$3" = 0 ] && v+=("$(awk -v a="$1" 'BEGIN{printf "%.1f", 1e9/a}')")
    done
    COST_ALL[$fs]=$($TOOLS median "${v[@]}")
    echo "  MEDIAN frame $fs: ${COST_ALL[$fs]} ns = $(cyc ${COST_ALL[$fs]}) TSC cycles per test packet (send + reflect + receive-and-measure)"
  done
  item2b
}
item2b() {
  echo "== 2b. per-packet CPU time by role at $COST_RATE pps (sender lcore 1, reflector lcore 2, idle back-off 20 us; thread CPU time / packets: includes polling and wake-ups, an upper bound)"
  local fs r a0 b0 a1 b1 tx s_ns r_ns ss=() rr=()
  for fs in 90 512 1518; do
    ss=(); rr=()
    for r in $(seq 1 "$RUNS"); do
      run_probe "--lcores 0@0,1@1,2@0" 8 --idle-sleep-us 20 --mbufs 16383 \
        --session name=s,port=a,peer=10.9.0.2,rate_pps=$COST_RATE,frame_size=$fs
      sleep 3
      local w1 w2
      w1=$(thread_cpu $PROBE_PID 'worker.*1$|-1$'); w2=$(thread_cpu $PROBE_PID 'worker.*2$|-2$')
      sleep 4
      a1=$(thread_cpu $PROBE_PID 'worker.*1$|-1$'); b1=$(thread_cpu $PROBE_PID 'worker.*2$|-2$')
      wait_probe || continue
      tx=$((COST_RATE * 4))
      s_ns=$(awk -v d=$((a1 - w1)) -v hz=$HZ -v n=$tx 'BEGIN{printf "%.1f", d/hz*1e9/n}')
      r_ns=$(awk -v d=$((b1 - w2)) -v hz=$HZ -v n=$tx 'BEGIN{printf "%.1f", d/hz*1e9/n}')
      set -- $($TOOLS rate "$TMP/r.jsonl" s $COST_RATE)
      echo "   frame $fs run $r: sender+rx-measure lcore $s_ns ns/pkt, reflector lcore $r_ns ns/pkt (achieved $1 pps, lost $3)   load $(load)"
      ss+=("$s_ns"); rr+=("$r_ns")
    done
    COST_S[$fs]=$($TOOLS median "${ss[@]}")
    COST_R[$fs]=$($TOOLS median "${rr[@]}")
    echo "  MEDIAN frame $fs: sender (send + receive-and-measure) ${COST_S[$fs]} ns = $(cyc ${COST_S[$fs]}) cycles/pkt; reflector ${COST_R[$fs]} ns = $(cyc ${COST_R[$fs]}) cycles/pkt"
  done
  if [ -x "$RX_BENCH" ]; then
    echo "  library receive-and-measure path alone (bench_rx_path, no DPDK):"
    "$RX_BENCH" 5 2>&1 | tail -2 | sed 's/^/    /'
    echo "    load $(load)"
  fi
}
cyc() { awk -v n="$1" -v hz="${TSC_HZ:-0}" 'BEGIN{printf "%.0f", n*hz/1e9}'; }

###########################################################################
MP_MAX=""
item3() {
  echo "== 3. cores for 100 Gb/s (from item 2, linear scaling over cores assumed; item 6 measures the scaling)"
  local fs mpps
  for fs in 90 512 1518; do
    case $fs in 90) mpps=148.8 ;; 512) mpps=23.5 ;; 1518) mpps=8.13 ;; esac
    [ -n "${COST_ALL[$fs]:-}" ] && awk -v fs=$fs -v m=$mpps -v c="${COST_ALL[$fs]}" 'BEGIN{
      printf "  %s-byte frames at %s Mpps, from 2a (%s ns per test packet, send+reflect+measure): %.0f cores\n", (fs==90?"64 (measured at 90)":fs), m, c, m*1e6*c/1e9 }'
  done
  for fs in 90 512 1518; do
    case $fs in 90) mpps=148.8 ;; 512) mpps=23.5 ;; 1518) mpps=8.13 ;; esac
    [ -n "${COST_S[$fs]:-}" ] || { echo "  (run item 2 first)"; return; }
    awk -v fs=$fs -v m=$mpps -v s="${COST_S[$fs]}" -v r="${COST_R[$fs]}" 'BEGIN{
      cs = m*1e6*s/1e9; cr = m*1e6*r/1e9;
      printf "  upper bound from 2b, %s-byte frames at %s Mpps: sender (send+measure) %.1f cores, reflector %.1f cores (at %s / %s ns per packet)\n", (fs==90?"64 (measured at 90)":fs), m, cs, cr, s, r }'
  done
}

###########################################################################
item4() {
  echo "== 4. pacing accuracy (full intervals: tx_pkts / interval_ns vs asked; sender gaps from the capture)"
  local rate r e=() g50=() g99=() secs
  for rate in 1000 100000 1000000; do
    e=(); g50=(); g99=()
    for r in $(seq 1 "$RUNS"); do
      secs=5
      # busy poll, the setting for a NIC port (pacing is then against the
      # TSC only; the idle back-off of virtual wires adds its wake-up
      # latency to the gaps)
      run_probe "-l 0,1" $secs --idle-sleep-us ${PACE_IDLE_US:-0} --mbufs 16383 \
        --capture "$TMP/c.pcap" --capture-count 40000 \
        --session name=s,port=a,peer=10.9.0.2,rate_pps=$rate,frame_size=128
      wait_probe || continue
      set -- $($TOOLS rate "$TMP/r.jsonl" s $rate)
      local ach=$1 err=$2 lost=$3
      set -- $($TOOLS gaps "$TMP/c.pcap" $MAC_A $rate)
      echo "   $rate pps run $r: achieved $ach pps (err $err %, lost $lost); $1 gaps, |gap error| p50 $2 ns p99 $3 ns (mean gap $4 ns)   load $(load)"
      e+=("$err"); g50+=("$2"); g99+=("$3")
    done
    echo "  MEDIAN $rate pps: rate error $($TOOLS median "${e[@]}") %, gap error p50 $($TOOLS median "${g50[@]}") ns, p99 $($TOOLS median "${g99[@]}") ns"
  done
}

###########################################################################
item5() {
  echo "== 5. resident memory (VmRSS / VmHWM) with 1, 100, 1000 sessions at 10 pps each"
  local n i cfg rss hwm
  for n in 1 100 1000; do
    cfg=$TMP/s$n.ini
    {
      echo "[probe]"; echo "interval = 1s"; echo "loss_timeout = 1s"
      echo "[port.a]"; echo "device = wa"; echo "ipv4 = 10.9.0.1/24"
      echo "[port.b]"; echo "device = wb"; echo "ipv4 = 10.9.0.2/24"
      echo "reflector_sessions = 2048"
      for i in $(seq 1 $n); do
        echo "[session.s$i]"; echo "port = a"; echo "peer = 10.9.0.2"
        echo "rate_pps = 10"; echo "src_port = $((20000 + i))"
      done
    } >"$cfg"
    # -m 1024: with -m 256 the 1000-session probe runs out of EAL heap
    # (it says so); the same EAL memory for all three, so they compare.
    "$MP" -l 0,1 $(MEM=1024 eal) -- --ring-pair wa,wb --config "$cfg" \
      --run-time 6s --records "$TMP/m.jsonl" 2>"$TMP/m.log" &
    local pid=$!
    PIDS="$PIDS $pid"
    sleep 5
    rss=$(awk '/^VmRSS/{print $2}' /proc/$pid/status 2>/dev/null)
    hwm=$(awk '/^VmHWM/{print $2}' /proc/$pid/status 2>/dev/null)
    wait $pid || { echo "  probe with $n sessions exited $?"; tail -3 "$TMP/m.log"; }
    echo "  $n sessions: VmRSS ${rss} kB, VmHWM ${hwm} kB (EAL --no-huge -m 1024, default --mbufs 8191 per port)   load $(load)"
    rm -f "$TMP/m.jsonl"
  done
}

echo "metroprobe probe benchmarks, $(date -u +%FT%TZ), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), RUNS=$RUNS"
for it in $ITEMS; do "item$it"; done
