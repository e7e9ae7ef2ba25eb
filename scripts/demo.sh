#!/usr/bin/env bash
# The metroprobe demo: three compute centres in network namespaces, joined
# by emulated backbone links, a probe in each, a collector, an SLA report.
#
#   scripts/demo.sh [--duration SECONDS] [--out DIR] [--huge] [--keep-db]
#                   [--no-build]
#
# On a fresh Debian 12 machine, as root. It installs what is missing
# (scripts/install-deps.sh), builds (meson + ninja, into build/ or
# $MP_BUILD_DIR), then:
#
#   centre-a --- edge-a ====[link A-B: 1 ms each way]==== edge-b --- centre-b
#                   ||                                      ||
#      [link A-C: 6 ms each way,              [link B-C: 2 ms each way]
#       0.1 % loss each way]                                ||
#                   ||                                      ||
#                   ======================== edge-c =========
#                                              |
#                                           centre-c
#
# Each centre is a namespace with a probe (DPDK, net_af_packet on a veth)
# behind its edge router (a namespace that routes with the kernel). Each
# backbone link is a namespace with the link emulator (tests/linkem)
# between two veths. Every probe measures the two others and reflects
# their test packets (STAMP, RFC 8762): six sessions. The records go to a
# collector on loopback; after --duration seconds of measurement the demo
# prints a table per link and writes report.html, report.json and
# report.csv into the output folder (default ./demo-out/<UTC time>), with
# the log of every process (logs/) and the probes' records (records/).
# The A-C link is set up to break its SLA (scripts/demo/sla.ini says which
# bounds apply). Namespaces, processes and hugepages are removed on exit,
# also on Ctrl-C.
# shellcheck disable=SC2317 # functions run from traps
set -uo pipefail
# The whole script is one block: bash reads it completely before it runs,
# so editing the file during a run cannot change the running demo.
{
caller_pwd=$(pwd)
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
demo_dir="$top/scripts/demo"

usage() {
  sed -n '2,/^# shellcheck/p' "$0" | sed '$d; s/^# \{0,1\}//'
  cat <<'EOF'

Options:
  --duration N   seconds of measurement (default 60; at least 10)
  --out DIR      output folder (default ./demo-out/<UTC time>)
  --huge         run the DPDK processes on 2 MB hugepages (reserved for the
                 run, released after) instead of --no-huge
  --keep-db      keep the collector's SQLite database in the output folder
  --no-build     use the binaries already built (tests); do not run ninja
  --help         this text
Environment: MP_BUILD_DIR (default build) is the meson build directory.
EOF
}

duration=60
out=
huge=0
keep_db=0
no_build=0
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --duration=*) duration=${1#*=}; shift ;;
    --out) out=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --out=*) out=${1#*=}; shift ;;
    --huge) huge=1; shift ;;
    --no-huge) huge=0; shift ;;
    --keep-db) keep_db=1; shift ;;
    --no-build) no_build=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
if ! [[ $duration =~ ^[0-9]+$ ]] || [ "$duration" -lt 10 ] ||
   [ "$duration" -gt 86400 ]; then
  echo "demo: --duration wants whole seconds, 10..86400, not '$duration'" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run as root (network namespaces, DPDK)" >&2
  exit 1
fi

# say: to the user, and with the time into the output folder's demo.log
demo_log=/dev/null
say() {
  printf 'demo: %s\n' "$*"
  note "$*"
}
# note: only into demo.log
note() {
  printf '%s %s\n' "$(date -u +%H:%M:%S.%N | cut -c1-12)" "$*" >>"$demo_log"
}
die() {
  printf 'demo: error: %s\n' "$*" >&2
  note "error: $*"
  exit 1
}

# --- output folder --------------------------------------------------------
# relative to where the demo was started from
out=${out:-demo-out/$(date -u +%Y%m%dT%H%M%SZ)}
case $out in /*) ;; *) out=$caller_pwd/$out ;; esac
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
logs=$out/logs
run=$out/run            # config, tokens, database: removed at the end;
                        # the probes' records are kept in $out/records
mkdir -p "$logs" "$run"
chmod 700 "$run"
demo_log=$logs/demo.log
say "output folder $out"

# --- install and build ----------------------------------------------------
bash scripts/install-deps.sh || die "installing Debian packages failed"
note "Debian packages present"
build=${MP_BUILD_DIR:-build}
if [ "$no_build" = 0 ]; then
  if [ ! -f "$build/build.ninja" ]; then
    say "configuring $build"
    meson setup "$build" >"$build.setup.log" 2>&1 || {
      cat "$build.setup.log"; die "meson setup $build failed"; }
  fi
  say "building in $build (ninja)"
  ninja -C "$build" >/dev/null || { ninja -C "$build"; die "build failed"; }
fi
build=$(cd "$build" 2>/dev/null && pwd) || die "no build directory $build"
probe_bin=$build/probe/metroprobe
linkem_bin=$build/tests/linkem/linkem
collector_bin=$build/collector/metroprobe-collector
for b in "$probe_bin" "$linkem_bin" "$collector_bin"; do
  [ -x "$b" ] || die "$b was not built (is DPDK installed?)"
done
note "binaries in $build"

# --- cleanup: processes, namespaces, DPDK files, hugepages ----------------
source scripts/netns.sh
netns_init mpdemo
tag=$NETNS_TAG
netns_on_cleanup "rm -rf /var/run/dpdk/${tag}-*"
demo_cleanup() {
  if [ "$huge" = 1 ] && [ -n "${huge_dir:-}" ]; then
    rm -f "$huge_dir"/* 2>/dev/null
    umount "$huge_dir" 2>/dev/null
    rmdir "$huge_dir" 2>/dev/null
    if [ "${huge_added:-0}" -gt 0 ]; then
      local now_pages
      now_pages=$(cat "$huge_sysfs")
      echo $(( now_pages > huge_added ? now_pages - huge_added : 0 )) \
        >"$huge_sysfs" 2>/dev/null
    fi
  fi
  [ "$keep_db" = 1 ] && [ -f "$run/metroprobe.db" ] &&
    mv "$run"/metroprobe.db* "$out/" 2>/dev/null
  [ -d "$run/records" ] && mv "$run/records" "$out/records" 2>/dev/null
  rm -rf "$run"
}
# netns_cleanup runs the extra commands first, then stops the processes;
# the hugepages and the run folder go after the processes are gone
on_exit() {
  local rc=$?
  netns_cleanup
  demo_cleanup
  if [ "${cleanup_said:-0}" = 0 ]; then
    cleanup_said=1
    say "cleaned up: namespaces ${tag}-*, processes, DPDK runtime files"
  fi
  return "$rc"
}
trap 'on_exit' EXIT
trap 'echo; say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

# --- hugepages ------------------------------------------------------------
# 3 probes (-m 256; about 340 MB each measured) + 3 link emulators
# (-m 128), in 2 MB pages, with a margin
eal_mem() {
  local mb=$1
  if [ "$huge" = 1 ]; then
    echo "-m $mb --huge-dir $huge_dir"
  else
    echo "-m $mb --no-huge"
  fi
}
if [ "$huge" = 1 ]; then
  huge_sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
  [ -w "$huge_sysfs" ] || die "no 2 MB hugepages on this kernel"
  huge_before=$(cat "$huge_sysfs")
  need=800
  echo $((huge_before + need)) >"$huge_sysfs"
  got=$(cat "$huge_sysfs")
  huge_added=$((got > huge_before ? got - huge_before : 0))
  if [ "$got" -lt $((huge_before + need)) ]; then
    die "could reserve only $((got - huge_before)) of $need hugepages (use --no-huge)"
  fi
  huge_dir=$(mktemp -d "/tmp/${tag}-huge.XXXX")
  mount -t hugetlbfs -o pagesize=2M nodev "$huge_dir" ||
    die "cannot mount hugetlbfs on $huge_dir"
  say "reserved $need hugepages of 2 MB (hugetlbfs on $huge_dir)"
fi

# EAL options of every DPDK process: one lcore that may run on any CPU
# (the kernel balances the six processes over the machine's cores), no
# PCI (never touch the machine's own NICs), a unique file prefix, quiet
# EAL.
cpus=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)
eal() {
  local name=$1 mb=$2
  echo "--lcores 0@($cpus) --no-pci $(eal_mem "$mb") --file-prefix ${tag}-$name" \
       "--log-level=lib.eal:error --log-level=pmd.net.af_packet:error"
}

# --- the collector --------------------------------------------------------
# One token per probe (role probe, may write only its own records).
{
  cat "$demo_dir/sla.ini"
  cat <<EOF

[collector]
listen = 127.0.0.1
port = 0                        ; any free port
port_file = $run/collector.port
database = $run/metroprobe.db
threads = 2
EOF
} >"$run/collector.ini"
for c in a b c; do
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run/token-$c"
  chmod 600 "$run/token-$c"
  hash=$("$collector_bin" hash-token <"$run/token-$c") ||
    die "hash-token failed"
  printf '\n[token.centre-%s]\nsha256 = %s\nrole = probe\nprobe = centre-%s\n' \
    "$c" "$hash" "$c" >>"$run/collector.ini"
done
grep -v '^sha256' "$run/collector.ini" >"$logs/collector.ini"
"$collector_bin" serve --config "$run/collector.ini" \
  >"$logs/collector.log" 2>&1 &
collector_pid=$!
netns_track_pid "$collector_pid"
for _ in $(seq 1 100); do
  [ -s "$run/collector.port" ] && break
  kill -0 "$collector_pid" 2>/dev/null || break
  sleep 0.1
done
[ -s "$run/collector.port" ] || {
  cat "$logs/collector.log" >&2; die "the collector did not start"; }
collector_url="http://127.0.0.1:$(cat "$run/collector.port")"
say "collector listening on $collector_url (SLA profiles: scripts/demo/sla.ini)"

# --- namespaces: three centres, three edge routers, three links ----------
# centre X: probe port 10.0.N.10/24, edge router 10.0.N.1 (N: a=1 b=2 c=3)
# link XY:  edge X 10.1.NM.1/30 ==linkem== edge Y 10.1.NM.2/30
declare -A ns net
net=([a]=1 [b]=2 [c]=3)
for c in a b c; do
  ns[$c]=$(netns_create "$c") || die "cannot create namespace ${tag}-$c"
  ns[r$c]=$(netns_create "r$c") || die "cannot create namespace ${tag}-r$c"
  netns_veth "${ns[$c]}" wan0 "${ns[r$c]}" centre ||
    die "cannot create veth pair for centre $c"
  ip -n "${ns[r$c]}" addr add "10.0.${net[$c]}.1/24" dev centre
  ip netns exec "${ns[r$c]}" sysctl -qw net.ipv4.ip_forward=1
done
links=(ab bc ac)
for l in "${links[@]}"; do
  x=${l:0:1} y=${l:1:1}
  sub="10.1.${net[$x]}${net[$y]}"
  ns[l$l]=$(netns_create "l$l") || die "cannot create namespace ${tag}-l$l"
  netns_veth "${ns[r$x]}" "to-$y" "${ns[l$l]}" lka ||
    die "cannot create veth pair for link $l"
  netns_veth "${ns[l$l]}" lkb "${ns[r$y]}" "to-$x" ||
    die "cannot create veth pair for link $l"
  ip -n "${ns[r$x]}" addr add "$sub.1/30" dev "to-$y"
  ip -n "${ns[r$y]}" addr add "$sub.2/30" dev "to-$x"
  ip -n "${ns[r$x]}" route add "10.0.${net[$y]}.0/24" via "$sub.2"
  ip -n "${ns[r$y]}" route add "10.0.${net[$x]}.0/24" via "$sub.1"
done
note "namespaces and veths made"
say "namespaces ${tag}-{a,b,c} (centres), -{ra,rb,rc} (edge routers)," \
    "-{lab,lbc,lac} (links)"

# wait_for FILE TEXT PID SECONDS: until FILE holds TEXT, or PID is gone
wait_for() {
  local file=$1 text=$2 pid=$3 i
  for i in $(seq 1 $(($4 * 10))); do
    grep -q "$text" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# Every DPDK process runs at real-time priority (chrt -f 1) once it has
# started: on a real backbone a probe owns its cores; here the priority
# keeps timestamps and departures on time when the machine is busy with
# other work. Each sleeps when idle (idle back-off), so together they use
# a fraction of a core. They start at normal priority: DPDK's EAL init
# waits in a loop for the threads it creates, and several processes doing
# that at the same real-time priority on two cores spin for tens of
# seconds (measured: 3 linkems, 0.9 s to start normally, 23-27 s under
# chrt -f 1).
rt_promote() {
  local p
  command -v chrt >/dev/null || return 0
  for p in "$@"; do
    chrt -f -a -p 1 "$p" >/dev/null 2>&1 ||
      note "could not give pid $p real-time priority"
  done
}

# --- the links: linkem between the two edge routers -----------------------
declare -A pid
for l in "${links[@]}"; do
  cp "$demo_dir/link-$l.conf" "$logs/"
  # shellcheck disable=SC2046
  netns_bg "${ns[l$l]}" "$linkem_bin" $(eal "l$l" 128) \
    --vdev net_af_packet0,iface=lka --vdev net_af_packet1,iface=lkb -- \
    --config "$demo_dir/link-$l.conf" --stats "$logs/link-$l.stats.json" \
    >"$logs/link-$l.log" 2>&1
  pid[l$l]=$NETNS_LAST_PID
done
for l in "${links[@]}"; do
  wait_for "$logs/link-$l.log" "forwarding on lcore" "${pid[l$l]}" 30 || {
    tail -20 "$logs/link-$l.log" >&2; die "link emulator $l did not start"; }
  rt_promote "${pid[l$l]}"
done
say "links up: A-B 1 ms, B-C 2 ms, A-C 6 ms + 0.1 % loss (each way)"

# --- the probes -----------------------------------------------------------
mkdir -p "$run/records"
for c in a b c; do
  cp "$demo_dir/centre-$c.ini" "$logs/"
  # shellcheck disable=SC2046
  netns_bg "${ns[$c]}" "$probe_bin" $(eal "$c" 256) \
    --vdev=net_af_packet0,iface=wan0 -- \
    --config "$demo_dir/centre-$c.ini" \
    --records "$run/records/centre-$c.jsonl" >"$logs/centre-$c.log" 2>&1
  pid[$c]=$NETNS_LAST_PID
done

# Records go to the collector through scripts/demo/feed.py: it follows
# each probe's --records file and POSTs new records in batches with the
# probe's token (the probe's own export is not wired into it yet).
feeds=()
for c in a b c; do
  feeds+=(--feed "$run/records/centre-$c.jsonl:$run/token-$c")
done
python3 "$demo_dir/feed.py" --url "$collector_url" \
  --status "$run/feed.json" "${feeds[@]}" >"$logs/feed.log" 2>&1 &
pid[feed]=$!
netns_track_pid "${pid[feed]}"

alive() {
  local k
  for k in la{b,c} lbc a b c; do
    kill -0 "${pid[$k]}" 2>/dev/null || {
      echo "$k"; return 1; }
  done
  kill -0 "$collector_pid" 2>/dev/null || { echo collector; return 1; }
  kill -0 "${pid[feed]}" 2>/dev/null || { echo feed; return 1; }
}
# A process that ended during the run: exit status 0 means it was told to
# stop (Ctrl-C reaches every process of the terminal's process group, and
# each stops cleanly on SIGINT): the demo was interrupted. Anything else
# is an error, with the end of that process's log.
dead_end() {
  local who=$1 log rc p
  case $who in
    l*) log=$logs/link-${who#l}.log ;;
    a|b|c) log=$logs/centre-$who.log ;;
    *) log=$logs/$who.log ;;
  esac
  p=${pid[$who]:-$collector_pid}
  wait "$p" 2>/dev/null; rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 130 ] || [ "$rc" -eq 143 ]; then
    echo
    say "interrupted ($who stopped)"
    exit 130
  fi
  tail -20 "$log" >&2
  die "$who stopped unexpectedly, exit status $rc (log: $log)"
}
collector_records() {
  curl -s --max-time 2 "$collector_url/metrics" |
    awk '/^metroprobe_ingest_records_total\{result="new"\}/ {print $2}'
}

# Warm-up: every session has a record with replies in the collector (the
# probes have resolved their gateways and reflect each other).
say "probes started; waiting for every session's first replies"
python_sessions_ok() {
  "$collector_bin" export --config "$run/collector.ini" --from now-1h \
      --to now+1h 2>/dev/null | python3 -c '
import json, sys
ok = set()
for line in sys.stdin:
    r = json.loads(line)
    if r.get("rx_pkts", 0) > 0:
        ok.add(r["session"])
sys.exit(0 if len(ok) >= 6 else 1)'
}
for i in $(seq 1 60); do
  who=$(alive) || dead_end "$who"
  python_sessions_ok && break
  [ "$i" -eq 60 ] && die "no replies on every session after 60 s (logs: $logs)"
  sleep 1
done

rt_promote "${pid[a]}" "${pid[b]}" "${pid[c]}"

# --- the measurement period [t0, t1) --------------------------------------
t0=$(( $(date +%s) + 1 ))
t1=$((t0 + duration))
sleep_until() { python3 -c "import time; time.sleep(max(0, $1 - time.time()))"; }
sleep_until "$t0"
say "measuring for $duration s, from $(date -u -d "@$t0" +%H:%M:%SZ)"
tty=0
[ -t 1 ] && tty=1
last_line=0
while :; do
  now=$(date +%s)
  left=$((t1 - now))
  [ "$left" -le 0 ] && break
  who=$(alive) || dead_end "$who"
  n=$(collector_records)
  if [ "$tty" = 1 ]; then
    printf '\r  %3d s left, the collector has %s records ' "$left" "${n:-?}"
  elif [ $((now - last_line)) -ge 10 ]; then
    printf '  %3d s left, the collector has %s records\n' "$left" "${n:-?}"
    last_line=$now
  fi
  sleep 1
done
[ "$tty" = 1 ] && printf '\n'

# Stop the probes: each stops sending, keeps reflecting through the loss
# timeout, writes its last records and exits. Then the last records go to
# the collector, and the collector stops.
sleep 1
for c in a b c; do kill -INT "${pid[$c]}" 2>/dev/null; done
for c in a b c; do
  wait "${pid[$c]}"; rc=$?
  note "probe centre-$c exited $rc"
  [ "$rc" -eq 0 ] || say "warning: probe centre-$c exited $rc (log: $logs/centre-$c.log)"
done
kill -TERM "${pid[feed]}"
wait "${pid[feed]}" || say "warning: some records did not reach the collector (log: $logs/feed.log)"
n=$(collector_records)
kill -TERM "$collector_pid"
wait "$collector_pid"
for l in "${links[@]}"; do kill -INT "${pid[l$l]}" 2>/dev/null; done
for l in "${links[@]}"; do wait "${pid[l$l]}" 2>/dev/null; done
say "probes stopped; the collector stored ${n:-?} records"

# --- the report -----------------------------------------------------------
from=$(date -u -d "@$t0" +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d "@$t1" +%Y-%m-%dT%H:%M:%SZ)
for f in json csv html; do
  "$collector_bin" report --config "$run/collector.ini" --from "$from" \
    --to "$to" --format "$f" -o "$out/report.$f" 2>>"$logs/report.log" ||
    die "report --format $f failed (log: $logs/report.log)"
done
# Round-trip figures: the same links under an RTT-basis profile.
sed 's/^delay_basis = owd .*/delay_basis = rtt/' "$run/collector.ini" \
  >"$run/collector-rtt.ini"
"$collector_bin" report --config "$run/collector-rtt.ini" --from "$from" \
  --to "$to" --format json -o "$run/report-rtt.json" 2>>"$logs/report.log" ||
  die "round-trip report failed (log: $logs/report.log)"

echo
python3 "$demo_dir/summary.py" "$out/report.json" "$run/report-rtt.json" ||
  die "cannot read $out/report.json"
echo
say "report: $out/report.html (also report.json, report.csv)"
say "logs:   $logs"
exit 0
}
