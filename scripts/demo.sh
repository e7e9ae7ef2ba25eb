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
#   management network 10.9.0.0/24 (kernel, HTTP), apart from the backbone:
#   centre-a mgmt0 .11 ---+
#   centre-b mgmt0 .12 ---+--- bridge in mgmt: collector on 10.9.0.1:8080
#   centre-c mgmt0 .13 ---+
#
# Each centre is a namespace with a probe (DPDK, net_af_packet on a veth)
# behind its edge router (a namespace that routes with the kernel). Each
# backbone link is a namespace with the link emulator (tests/linkem)
# between two veths. Every probe measures the two others and reflects
# their test packets (STAMP, RFC 8762): six sessions. The collector runs
# in its own namespace (mgmt), reached from each centre over a management
# link; each probe exports its records there itself as it measures
# (--collector, with its own probe token and a durable spool), so the
# collector's /metrics and /api/v1/report show the links while the demo
# runs. After --duration seconds of measurement the demo stops the probes
# (each drains its spool), prints a table per link and writes report.html,
# report.json and report.csv into the output folder (default
# ./demo-out/<UTC time>), with the log of every process (logs/) and the
# records each probe wrote (records/). The A-C link is set up to break its
# SLA (scripts/demo/sla.ini says which bounds apply). Namespaces,
# processes and hugepages are removed on exit, also on Ctrl-C.
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
# scripts/netns.sh (namespaces, veths, cleanup) and the collector's
# configuration with its probe tokens, shared with the tests
export SRC=$top
# shellcheck source=tests/lib/mpnet.sh
source tests/lib/mpnet.sh
fail() { die "$*"; }
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
  if [ "$keep_db" = 1 ] && [ -f "$run/collector.db" ]; then
    local f
    for f in "$run"/collector.db*; do
      mv "$f" "$out/metroprobe.db${f#"$run"/collector.db}" 2>/dev/null
    done
  fi
  [ -d "$run/records" ] && mv "$run/records" "$out/records" 2>/dev/null
  rm -rf "$run"
}
# stop_probes: SIGINT to the probes still running (Ctrl-C has already
# sent them one), then up to 10 s for them to stop: each writes its last
# records and delivers them to the collector, which Ctrl-C does not reach
# (it runs in a session of its own) and which netns_cleanup stops after.
declare -A pid
stop_probes() {
  local c i left
  for c in a b c; do
    [ -n "${pid[$c]:-}" ] && kill -INT "${pid[$c]}" 2>/dev/null
  done
  for i in $(seq 1 100); do
    left=0
    for c in a b c; do
      [ -n "${pid[$c]:-}" ] && kill -0 "${pid[$c]}" 2>/dev/null && left=1
    done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
}
# netns_cleanup runs the extra commands first, then stops the processes;
# the hugepages and the run folder go after the processes are gone
on_exit() {
  local rc=$?
  trap '' INT TERM
  stop_probes
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

# EAL options of every DPDK process: lcores that may run on any CPU (the
# kernel balances the processes over the machine's cores), no PCI (never
# touch the machine's own NICs), a unique file prefix, quiet EAL. A link
# emulator has one lcore. A probe has two, as on a real backbone: its
# control lcore makes each interval's records durable in the export spool
# (an fsync, milliseconds on a busy disk) and hands them to the uploader,
# while the other lcore sends, receives and reflects test packets without
# waiting on it. (On one lcore the probe runs control in a thread of its
# own for the same reason: an fsync in the packet loop delayed packets in
# flight, 1.7-42 ms control steps and IPDV p99 up to 4.6 ms on the 2 ms
# links, against 0.3 ms.)
cpus=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)
eal() {
  local name=$1 mb=$2 lcores=${3:-1} l list
  list="0@($cpus)"
  for ((l = 1; l < lcores; l++)); do list+=",$l@($cpus)"; done
  echo "--lcores $list --no-pci $(eal_mem "$mb") --file-prefix ${tag}-$name" \
       "--log-level=lib.eal:error --log-level=pmd.net.af_packet:error"
}

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
# The management network, apart from the measured backbone (as at a real
# centre, where the probe's DPDK port carries only test traffic): the
# namespace mgmt holds the collector on a bridge, 10.9.0.1/24; each
# centre reaches it from its kernel interface mgmt0, 10.9.0.1N/24.
ns[m]=$(netns_create mgmt) || die "cannot create namespace ${tag}-mgmt"
for c in a b c; do
  netns_veth "${ns[$c]}" mgmt0 "${ns[m]}" "to-$c" ||
    die "cannot create the management veth of centre $c"
  ip -n "${ns[$c]}" addr add "10.9.0.1${net[$c]}/24" dev mgmt0
done
netns_bridge "${ns[m]}" mgmt to-a to-b to-c ||
  die "cannot create the management bridge"
ip -n "${ns[m]}" addr add 10.9.0.1/24 dev mgmt
note "namespaces and veths made"
say "namespaces ${tag}-{a,b,c} (centres), -{ra,rb,rc} (edge routers)," \
    "-{lab,lbc,lac} (links), -mgmt (collector, management network)"

# --- the collector --------------------------------------------------------
# In namespace mgmt on 10.9.0.1:8080 (the namespace is the demo's own, so
# the port is free). One token per probe (role probe: it may write only
# its own records) and a reader token for the live reports; each token
# file is mode 600 in the run folder, the collector keeps only hashes.
collector_ip=10.9.0.1
collector_port=8080
token() {
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1"
  chmod 600 "$1"
}
for c in a b c reader; do token "$run/token-$c"; done
collector_config "$collector_bin" "$run" "$collector_ip" "$collector_port" \
  a b c || die "hash-token failed"
{
  cat "$demo_dir/sla.ini"
  echo
  cat "$run/collector.ini"
  printf '\n[token.demo-reader]\nsha256 = %s\nrole = reader\n' \
    "$("$collector_bin" hash-token <"$run/token-reader")"
} >"$run/collector.ini.new" && mv "$run/collector.ini.new" "$run/collector.ini"
grep -v '^sha256' "$run/collector.ini" >"$logs/collector.ini"
printf 'Authorization: Bearer %s\n' "$(cat "$run/token-reader")" \
  >"$run/reader.header"
chmod 600 "$run/reader.header"
# In a session of its own (setsid): Ctrl-C reaches the demo, the probes
# and the link emulators, not the collector, so the probes can deliver
# their last records before the demo stops it. (collector_start of
# tests/lib/mpnet.sh would start it in the terminal's process group.)
netns_bg "${ns[m]}" setsid "$collector_bin" serve \
  --config "$run/collector.ini" >"$logs/collector.log" 2>&1
collector_pid=$NETNS_LAST_PID
for _ in $(seq 1 100); do
  [ -s "$run/port" ] && break
  kill -0 "$collector_pid" 2>/dev/null || break
  sleep 0.1
done
[ -s "$run/port" ] || {
  tail -20 "$logs/collector.log" >&2; die "the collector did not start"; }
collector_url="http://$collector_ip:$collector_port"
say "collector listening on $collector_url in namespace ${tag}-mgmt" \
    "(SLA profiles: scripts/demo/sla.ini)"
say "live while it runs: ip netns exec ${tag}-mgmt curl -s $collector_url/metrics"
say "  and: ip netns exec ${tag}-mgmt curl -s -H @$run/reader.header" \
    "'$collector_url/api/v1/report?from=$(date -u +%Y-%m-%dT%H:%M:%SZ)&format=csv'"
# mcurl: curl from the management network
mcurl() { ip netns exec "${ns[m]}" curl "$@"; }

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
# Each probe writes its records to records/ and exports them itself: into
# its durable spool, then POSTed to the collector over the management
# network with its own token; a record leaves the spool once the collector
# has stored it.
mkdir -p "$run/records"
for c in a b c; do
  cp "$demo_dir/centre-$c.ini" "$logs/"
  # shellcheck disable=SC2046
  netns_bg "${ns[$c]}" "$probe_bin" $(eal "$c" 256 2) \
    --vdev=net_af_packet0,iface=wan0 -- \
    --config "$demo_dir/centre-$c.ini" \
    --records "$run/records/centre-$c.jsonl" \
    --collector "$collector_url" --token-file "$run/token-$c" \
    --spool-dir "$run/spool-$c" >"$logs/centre-$c.log" 2>&1
  pid[$c]=$NETNS_LAST_PID
done

alive() {
  local k
  for k in la{b,c} lbc a b c; do
    kill -0 "${pid[$k]}" 2>/dev/null || {
      echo "$k"; return 1; }
  done
  kill -0 "$collector_pid" 2>/dev/null || { echo collector; return 1; }
}
# A process that ended during the run: exit status 0 means it was told to
# stop (Ctrl-C reaches every process of the terminal's process group but
# the collector, and each stops cleanly on SIGINT): the demo was
# interrupted. Anything else
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
  mcurl -s --max-time 2 "$collector_url/metrics" |
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
# timeout, writes its last records, exports them and exits once its spool
# is drained (or after 5 s with records left in it). Then the collector
# stops.
sleep 1
for c in a b c; do kill -INT "${pid[$c]}" 2>/dev/null; done
for c in a b c; do
  wait "${pid[$c]}"; rc=$?
  note "probe centre-$c exited $rc"
  [ "$rc" -eq 0 ] || say "warning: probe centre-$c exited $rc (log: $logs/centre-$c.log)"
done
n=$(collector_records)
kill -TERM "$collector_pid"
wait "$collector_pid"
for l in "${links[@]}"; do kill -INT "${pid[l$l]}" 2>/dev/null; done
for l in "${links[@]}"; do wait "${pid[l$l]}" 2>/dev/null; done
say "probes stopped; the collector stored ${n:-?} records"

# What each probe exported against what the collector stored: the probe
# logs "export: N records spooled, M acknowledged, spool drained"
# as it exits.
exported=
for c in a b c; do
  line=$(grep -o 'export: [0-9]* records spooled.*' "$logs/centre-$c.log" |
    tail -1)
  spooled=$(sed -n 's/^export: \([0-9]*\) records spooled.*/\1/p' <<<"$line")
  stored=$("$collector_bin" export --config "$run/collector.ini" \
    --probe "centre-$c" --from 0 --to now+1h 2>>"$logs/report.log" |
    grep -c .)
  note "centre-$c: $line; the collector stored $stored records of centre-$c"
  exported+=" centre-$c ${spooled:-?}/${stored}"
  case $line in
    *"spool drained"*) [ "${spooled:-x}" = "$stored" ] ||
      say "warning: centre-$c spooled ${spooled:-?} records, the collector stored $stored" ;;
    *) say "warning: centre-$c did not drain its export spool (log: $logs/centre-$c.log)" ;;
  esac
done
say "exported by each probe / stored by the collector:$exported"

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
