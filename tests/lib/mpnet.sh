#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Set-up shared by the shell tests (tests/probe, tests/export): a scratch
# directory, namespaces and veths (scripts/netns.sh), metroprobe started
# in a namespace on a veth, stopped and checked, the collector with its
# tokens, hugepages for the tests that need a secondary process. Its
# python twin is tests/lib/mpnet.py. Source it, do not run it:
#
#   source "$SRC/tests/lib/mpnet.sh"
#   probe_tmp mpp-x                     # tag, traps, $TMP
#   netns_pair                          # $a, $b, veth va (a) <-> vb (b)
#   probe_start b "$b" 1 vb --port ... --session ...   # pid in PROBE_PID[b]
#   probe_wait_started b
#   probe_stop INT a b                  # exit 0 each, or fail
#
# probe_start needs METROPROBE (the binary) in the environment; SRC (the
# source root) is found from this file when it is not set.
set -uo pipefail
SRC=${SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
source "$SRC/scripts/netns.sh"
CHECK="/usr/bin/python3 $SRC/tests/probe/check_records.py"
# what every test probe on a veth runs with besides its own options
PROBE_COMMON="--interval 1s --loss-timeout 1s --idle-sleep-us 100 --mbufs 2047"
declare -A PROBE_PID=()

fail() {
  echo "FAIL: $*"
  exit 1
}

# probe_tmp PREFIX: tag, namespace cleanup, a scratch dir ($TMP) and DPDK
# runtime dirs removed at exit (KEEP_TMP=1 keeps the scratch dir).
probe_tmp() {
  netns_init "$1"
  TMP=$(mktemp -d "/tmp/${NETNS_TAG}.XXXX")
  netns_on_cleanup "rm -rf /var/run/dpdk/${NETNS_TAG}-* /dev/hugepages/${NETNS_TAG}-*"
  if [ -z "${KEEP_TMP:-}" ]; then
    netns_on_cleanup "rm -rf '$TMP'"
  fi
}

# EAL options every test probe gets: no hugepages, no PCI (never touch the
# machine's own NIC), a unique file prefix, quiet EAL.
eal_args() {
  local name=$1 lcore=$2
  echo "-l $lcore --no-huge --no-pci -m 256 --file-prefix ${NETNS_TAG}-$name --log-level=lib.eal:error --log-level=pmd.net.af_packet:error"
}

# wait_started LOG: until the probe has placed its lcores (ports are up),
# at most 30 s, so a loaded machine's slow start does not shorten a run.
wait_started() {
  local i
  for i in $(seq 1 300); do
    grep -q "^metroprobe: info: .*lcore" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# netns_pair: namespaces $a and $b (named <tag>-a, <tag>-b) joined by a
# veth pair va (in a) <-> vb (in b); returns non-zero if one step fails.
netns_pair() {
  a=$(netns_create a) && b=$(netns_create b) && netns_veth "$a" va "$b" vb
}

# mac_of NS IFACE: the interface's MAC address.
mac_of() {
  ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# probe_start NAME NS LCORE IFACE [PROBE OPTIONS...]: metroprobe in
# namespace NS on net_af_packet0 over IFACE, in the background, with
# $PROBE_COMMON, records to $TMP/NAME.jsonl and its log in $TMP/NAME.log;
# pid in PROBE_PID[NAME] (killed at cleanup).
probe_start() {
  local name=$1 ns=$2 lcore=$3 iface=$4
  shift 4
  : "${METROPROBE:?}"
  netns_bg "$ns" "$METROPROBE" $(eal_args "$name" "$lcore") \
    --vdev=net_af_packet0,iface="$iface" -- "$@" $PROBE_COMMON \
    --records "$TMP/$name.jsonl" 2>"$TMP/$name.log"
  PROBE_PID[$name]=$NETNS_LAST_PID
}

# probe_wait_started NAME...: each has come up, or fail.
probe_wait_started() {
  local name
  for name in "$@"; do
    wait_started "$TMP/$name.log" || fail "probe $name did not start"
  done
}

# probe_stop SIG NAME...: signal them all, wait for each; fail (with the
# end of its log) if one exits other than 0.
probe_stop() {
  local sig=$1 name rc bad=
  shift
  for name in "$@"; do
    kill "-$sig" "${PROBE_PID[$name]}"
  done
  for name in "$@"; do
    wait "${PROBE_PID[$name]}"
    rc=$?
    if [ "$rc" -ne 0 ]; then
      grep -v '^EAL\|^TELEMETRY' "$TMP/$name.log" | tail -15 | sed "s/^/  $name: /"
      bad="$bad probe $name exited $rc;"
    fi
  done
  [ -z "$bad" ] || fail "$bad"
}

# ---- the collector ------------------------------------------------------

# collector_tokens DIR PROBE...: a random token per probe in
# DIR/token-PROBE (mode 600), for the probe named centre-PROBE.
collector_tokens() {
  local dir=$1 p
  shift
  for p in "$@"; do
    printf 'tok-centre-%s-%s\n' "$p" "$RANDOM$RANDOM" >"$dir/token-$p"
    chmod 600 "$dir/token-$p"
  done
}

# collector_config COLLECTOR DIR LISTEN PORT PROBE...: DIR/collector.ini
# listening on LISTEN:PORT (0: any; it writes the port to DIR/port), the
# database DIR/collector.db, a probe token for each PROBE.
collector_config() {
  local bin=$1 dir=$2 listen=$3 port=$4 p
  shift 4
  {
    cat <<EOF
[collector]
listen = $listen
port = $port
port_file = $dir/port
database = $dir/collector.db
connection_timeout = 5s
threads = 2
maintain_interval = 60s
EOF
    for p in "$@"; do
      printf '\n[token.centre-%s]\nsha256 = %s\nrole = probe\nprobe = centre-%s\n' \
        "$p" "$("$bin" hash-token <"$dir/token-$p")" "$p"
    done
  } >"$dir/collector.ini"
}

# collector_start COLLECTOR DIR [NS]: serve DIR/collector.ini (in
# namespace NS if given), log appended to DIR/collector.log; returns once
# it wrote its port file (or fails). Pid in COLLECTOR_PID.
COLLECTOR_PID=
collector_start() {
  local bin=$1 dir=$2 ns=${3:-}
  rm -f "$dir/port"
  if [ -n "$ns" ]; then
    netns_bg "$ns" "$bin" serve --config "$dir/collector.ini" \
      >>"$dir/collector.log" 2>&1
    COLLECTOR_PID=$NETNS_LAST_PID
  else
    "$bin" serve --config "$dir/collector.ini" >>"$dir/collector.log" 2>&1 &
    COLLECTOR_PID=$!
  fi
  for _ in $(seq 100); do
    [ -s "$dir/port" ] && return 0
    kill -0 "$COLLECTOR_PID" 2>/dev/null ||
      fail "collector exited: $(tail -3 "$dir/collector.log")"
    sleep 0.1
  done
  fail "collector did not write its port file"
}

# ---- hugepages ----------------------------------------------------------
# For a test that needs a DPDK secondary process (dpdk-dumpcap), which
# cannot attach to a --no-huge primary. Pages are added to what the
# machine already has and the same number taken off again at cleanup, so
# other users of the pool (the demo's --huge) keep theirs; a hugetlbfs
# of the test's own holds the files, unmounted at cleanup.

# huge_reserve PAGES: PAGES more 2 MiB pages and a hugetlbfs mount in
# $HUGE_DIR. Returns 2 when this machine has no 2 MiB hugepages at all,
# 1 when it cannot reserve them.
HUGE_SYSFS=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
HUGE_ADDED=0
HUGE_DIR=
huge_reserve() {
  local need=$1 before got
  [ -w "$HUGE_SYSFS" ] || return 2
  before=$(cat "$HUGE_SYSFS")
  netns_on_cleanup_late huge_release
  echo $((before + need)) >"$HUGE_SYSFS" 2>/dev/null
  got=$(cat "$HUGE_SYSFS")
  HUGE_ADDED=$((got > before ? got - before : 0))
  [ "$got" -ge $((before + need)) ] || return 1
  HUGE_DIR=$(mktemp -d "/tmp/${NETNS_TAG:?}-huge.XXXX")
  mount -t hugetlbfs -o pagesize=2M nodev "$HUGE_DIR" || return 1
}

# HugePages_Free of the 2 MiB pool.
huge_free() {
  awk '/^HugePages_Free:/ {print $2}' /proc/meminfo
}

huge_release() {
  local now
  if [ -n "$HUGE_DIR" ]; then
    rm -f "$HUGE_DIR"/* 2>/dev/null
    umount "$HUGE_DIR" 2>/dev/null
    rmdir "$HUGE_DIR" 2>/dev/null
    HUGE_DIR=
  fi
  if [ "$HUGE_ADDED" -gt 0 ]; then
    now=$(cat "$HUGE_SYSFS")
    echo $((now > HUGE_ADDED ? now - HUGE_ADDED : 0)) >"$HUGE_SYSFS"
    HUGE_ADDED=0
  fi
}
