#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The record export against the real collector, end to end:
#   e2e_collector.sh METROPROBE_COLLECTOR EXPORT_FEED
#
# Two exporting processes (export_feed: the probe's control-thread loop,
# one record per session per interval, flushed per interval) send to one
# metroprobe-collector with a real SQLite file. While they run:
#   - the collector is killed (SIGKILL) for a while and started again;
#   - it is stalled (SIGSTOP) for a while and resumed;
#   - the second exporter is killed (SIGKILL) and restarted on the same
#     spool directory.
# Then every record each exporter flushed is in the database exactly once
# and none is missing; and submit never waited on the collector.
set -euo pipefail
source "$(dirname "$0")/../lib/mpnet.sh"   # the collector's set-up

collector=$1
feed=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/mp-export-e2e-$$-XXXXXX")
coll_pid=
feed_pids=()

cleanup() {
  local rc=$?
  for p in "${feed_pids[@]}" $coll_pid; do
    kill -CONT "$p" 2>/dev/null || true
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ $rc -ne 0 ]; then
    echo "--- collector log"; tail -20 "$work/collector.log" || true
    for f in "$work"/feed-*.err; do
      echo "--- $f"; tail -10 "$f" || true
    done
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
ms() { date +%s%3N; }

# ---- collector -------------------------------------------------------
collector_tokens "$work" a b
start_collector() {
  collector_start "$collector" "$work"
  coll_pid=$COLLECTOR_PID
}

kill_collector() {
  kill -CONT "$coll_pid" 2>/dev/null || true
  kill -9 "$coll_pid"
  wait "$coll_pid" 2>/dev/null || true
  coll_pid=
}

collector_config "$collector" "$work" 127.0.0.1 0 a b
start_collector
port=$(cat "$work/port")
# restarts come back on the same port
collector_config "$collector" "$work" 127.0.0.1 "$port" a b
url="http://127.0.0.1:$port"

# Records start two hours ago on an hour boundary, one second apart.
base_ns=$(( ( $(date +%s) / 3600 - 2 ) * 3600 * 1000000000 ))
per_flush=4

# ---- exporters -------------------------------------------------------
# start_feed NAME PROBE FROM COUNT
start_feed() {
  "$feed" --collector "$url" --token-file "$work/token-$2" \
    --spool-dir "$work/spool-$2" --probe "centre-$2" --session "$2-to-x" \
    --base-ns "$base_ns" --from "$3" --count "$4" --per-flush $per_flush \
    --interval-ms 40 --close-timeout-ms 20000 --batch-max-records 50 \
    >"$work/feed-$1.out" 2>"$work/feed-$1.err" &
  feed_pids+=($!)
}
last_flushed() { awk '$1 == "flushed" { n = $2 } END { print n + 0 }' "$1"; }

count_a=400
start_feed a1 a 0 $count_a          # ~4 s of intervals
pid_a=${feed_pids[0]}
start_feed b1 b 0 0                 # until killed
pid_b1=${feed_pids[1]}

sleep 1
echo "collector killed (SIGKILL) at $(last_flushed "$work/feed-a1.out") records of centre-a"
kill_collector
sleep 2
start_collector
echo "collector back"
sleep 0.7
echo "collector stalled (SIGSTOP)"
kill -STOP "$coll_pid"
sleep 0.5
kill -9 "$pid_b1"; wait "$pid_b1" 2>/dev/null || true
flushed_b1=$(last_flushed "$work/feed-b1.out")
echo "centre-b exporter killed (SIGKILL) after flushing $flushed_b1 records"
[ "$flushed_b1" -gt 0 ] || fail "centre-b flushed nothing"
# It may have appended part of one more interval that it did not report.
from_b2=$((flushed_b1 + per_flush))
count_b2=100
start_feed b2 b $from_b2 $count_b2
pid_b2=${feed_pids[2]}
sleep 1.5
kill -CONT "$coll_pid"
echo "collector resumed"

wait "$pid_a" || fail "centre-a exporter did not drain (exit $?)"
wait "$pid_b2" || fail "centre-b exporter did not drain after its restart (exit $?)"
cat "$work/feed-a1.out" "$work/feed-b2.out" | grep -E '^(latency|stats)' | sed 's/^/  /'
grep -q 'recovered=0 ' "$work/feed-b2.out" && fail "centre-b recovered nothing from its spool"

# ---- what the collector stored ----------------------------------------
q() { sqlite3 "$work/collector.db" "$1"; }
idx() { echo "$base_ns + $1 * 1000000000"; }

# centre-a: records 0..399, each exactly once
got=$(q "SELECT count(*), count(DISTINCT start_ns), min(start_ns) = $base_ns,
         max(start_ns) = $(idx $((count_a - 1))) FROM interval_raw
         WHERE probe = 'centre-a' AND session = 'a-to-x'")
[ "$got" = "$count_a|$count_a|1|1" ] || fail "centre-a stored: $got (want $count_a|$count_a|1|1)"

# centre-b, first run: every flushed record [0, flushed_b1)
got=$(q "SELECT count(*) FROM interval_raw WHERE probe = 'centre-b'
         AND start_ns < $(idx "$flushed_b1")")
[ "$got" = "$flushed_b1" ] || fail "centre-b first run: $got of $flushed_b1 flushed records stored"
# the unreported tail [flushed_b1, from_b2): whatever reached the spool
tail_b=$(q "SELECT count(*) FROM interval_raw WHERE probe = 'centre-b'
         AND start_ns >= $(idx "$flushed_b1") AND start_ns < $(idx "$from_b2")")
[ "$tail_b" -le $per_flush ] || fail "centre-b: $tail_b records past the last flush"
# second run: [from_b2, from_b2 + count_b2), and nothing beyond
got=$(q "SELECT count(*) FROM interval_raw WHERE probe = 'centre-b'
         AND start_ns >= $(idx "$from_b2")")
[ "$got" = "$count_b2" ] || fail "centre-b second run: $got of $count_b2 stored"
got=$(q "SELECT count(*) FROM interval_raw WHERE probe = 'centre-b'
         AND start_ns >= $(idx $((from_b2 + count_b2)))")
[ "$got" = 0 ] || fail "centre-b: $got records never submitted"
total=$(q "SELECT count(*) FROM interval_raw")
[ "$total" = $((count_a + flushed_b1 + tail_b + count_b2)) ] ||
  fail "$total records in all, expected $((count_a + flushed_b1 + tail_b + count_b2))"

# Submit never waited on the dead or stalled collector.
for f in a1 b2; do
  us=$(sed -n 's/^latency max_submit_us=\([0-9]*\).*/\1/p' "$work/feed-$f.out")
  [ -n "$us" ] && [ "$us" -lt 100000 ] || fail "feed $f: worst submit ${us:-?} us"
done
grep -q 'drained=yes' "$work/feed-a1.out" || fail "centre-a spool not drained"

echo "e2e: centre-a $count_a/$count_a stored once; centre-b $flushed_b1 + $tail_b + $count_b2 stored once across a SIGKILL; $total rows"
