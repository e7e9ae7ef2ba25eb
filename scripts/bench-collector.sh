#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Collector benchmarks (benchmarks, not tests; figures
# go in BENCHMARKS.md, "Collector: ingest and reports"):
#
#   scripts/bench-collector.sh [BUILDDIR] [WORKDIR]
#
#   1. per-record ingest costs without HTTP (bench_collector_store);
#   2. records ingested per second over HTTP on loopback, batched, with
#      several parallel connections, 5 runs, median, peak RSS
#      (tests/bench/bench_collector_ingest.py), without and with
#      maintenance running every second;
#   3. the time to build a 30-day report for 90 links from 1-minute
#      rollups (data set made by bench_collector_dataset in WORKDIR, kept
#      there and reused: building it takes minutes), 5 runs, median, with
#      the daemon's CPU time per report and its start-up time; then the
#      same report from a copy of the store holding only the hour rollups,
#      with the 60 s SLA delta-t and with a 1 h delta-t.
#
# Environment: RUNS (default 5), RECORDS (per ingest run, default 90000),
# CONNS (default 4), SKIP_INGEST=1, SKIP_REPORT=1, REPORTS (which report
# runs, default "minute hour hour-1h").
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
work=${2:-/tmp/mp-bench-collector}
runs=${RUNS:-5}
records=${RECORDS:-90000}
conns=${CONNS:-4}
collector=$build/collector/metroprobe-collector
gen=$build/tests/collector/gen_records
pids=()

cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT

ninja -C "$build" collector/metroprobe-collector tests/collector/gen_records \
	tests/bench/bench_collector_store tests/bench/bench_collector_dataset \
	>/dev/null
mkdir -p "$work"
echo "# $(date -u +%FT%TZ) $(uname -n), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${SKIP_INGEST:-0}" != 1 ]; then
	echo "## per-record costs, no HTTP (10000 records of 1000 packets)"
	"$gen" --count 10000 --pkts 1000 --synced >"$work/10k.ndjson"
	"$build/tests/bench/bench_collector_store" "$work/10k.ndjson" "$runs"

	echo "## ingest over HTTP, maintenance every hour (not during the runs)"
	python3 "$here/tests/bench/bench_collector_ingest.py" "$collector" "$gen" \
		--records "$records" --conns "$conns" --threads "$conns" \
		--runs "$runs"
	echo "## ingest over HTTP, maintenance every second"
	python3 "$here/tests/bench/bench_collector_ingest.py" "$collector" "$gen" \
		--records "$records" --conns "$conns" --threads "$conns" \
		--runs "$runs" --maintain 1s
fi

[ "${SKIP_REPORT:-0}" = 1 ] && exit 0

db=$work/month.db
if [ ! -s "$work/dataset.out" ]; then
	echo "## building the 30-day data set in $db (minutes)"
	rm -f "$db" "$db-wal" "$db-shm"
	"$build/tests/bench/bench_collector_dataset" "$db" >"$work/dataset.out"
fi
cat "$work/dataset.out"
read -r _ from _ to _ links _ < "$work/dataset.out"

# The same store with only the hour rollups (and the links).
hdb=$work/hours.db
if [ ! -s "$hdb" ]; then
	sqlite3 "$db" .schema | grep -v '^CREATE TABLE sqlite_' | sqlite3 "$hdb"
	sqlite3 "$hdb" "ATTACH '$db' AS m;
		INSERT INTO main.schema_version SELECT * FROM m.schema_version;
		INSERT INTO main.link SELECT * FROM m.link;
		INSERT INTO main.rollup_hour SELECT * FROM m.rollup_hour;
		INSERT INTO main.retention_horizon SELECT * FROM m.retention_horizon;"
fi

secret=bench-reader-secret
sha=$(printf %s "$secret" | sha256sum | cut -d' ' -f1)

# report_bench DB INTERVAL LABEL: starts the daemon on DB with the SLA
# delta-t INTERVAL, times `runs` reports.
report_bench() {
	local dbf=$1 interval=$2 label=$3 conf=$work/report.ini port times=() t i
	cat >"$conf" <<EOF
[collector]
listen = 127.0.0.1
port = 0
database = $dbf
retention_raw = 7d
retention_minute = 90d
retention_hour = 1095d
maintain_interval = 24h
[token.reader]
sha256 = $sha
role = reader
# bounds this data set's links meet (the built-in default would flag
# most minutes and make the report a 1 GB list of violations)
[sla.default]
interval = $interval
delay_max = 2ms
dv_max = 2ms
loss_ratio_max = 0.005
unavailable_loss_ratio = 0.01
availability_min = 99.9
capacity_min = off
EOF
	rm -f "$work/port"
	t0=$(date +%s.%N)
	"$collector" serve --config "$conf" --port-file "$work/port" \
		>>"$work/serve.log" 2>&1 &
	pids+=($!)
	# start-up: the full PRAGMA quick_check (a minute or more for the
	# 7 GB store) only after an unclean close, and the per-minute figures
	# back-filled once when the store predates them
	for i in $(seq 60000); do
		[ -s "$work/port" ] && break
		sleep 0.01
	done
	port=$(cat "$work/port")
	echo "## report over the $(( (to - from) / 86400000000000 )) days of the data set, $links links, $label ($runs runs)"
	echo "start-up: $(echo "$(date +%s.%N) - $t0" | bc) s"
	for i in $(seq "$runs"); do
		# the daemon's CPU time (utime + stime) around the request
		c0=$(awk '{ print $14 + $15 }' /proc/"${pids[-1]}"/stat)
		t=$(curl -s -o "$work/report.json" -w '%{time_total}' \
			-H "Authorization: Bearer $secret" \
			"http://127.0.0.1:$port/api/v1/report?from=$from&to=$to&format=json")
		c1=$(awk '{ print $14 + $15 }' /proc/"${pids[-1]}"/stat)
		times+=("$t")
		echo "run $i: $t s, daemon CPU $(echo "scale=2; ($c1 - $c0) / $(getconf CLK_TCK)" | bc) s, load $(cut -d' ' -f1 /proc/loadavg), $(stat -c %s "$work/report.json") bytes, $(jq -r '"\(.summary.links) links, \(.summary.links_passing) passing, \(.summary.violating_intervals) violating intervals, data_resolution_ns \(.data_resolution_ns)"' "$work/report.json")"
	done
	printf '%s\n' "${times[@]}" | sort -n | awk -v n="$runs" \
		'{ a[NR] = $1 } END { printf "median: %s s\n", a[int((n + 1) / 2)] }'
	echo "collector peak RSS: $(awk '/VmHWM/ { print $2, $3 }' /proc/"${pids[-1]}"/status)"
	kill "${pids[-1]}"
	wait "${pids[-1]}" || true
	unset 'pids[-1]'
}

case " ${REPORTS:-minute hour hour-1h} " in *" minute "*)
	report_bench "$db" 60s "from 1-minute rollups (per-minute figures and exact hour rollups), delta-t 60 s";;
esac
case " ${REPORTS:-minute hour hour-1h} " in *" hour "*)
	report_bench "$hdb" 60s "from the hour rollups only, delta-t 60 s";;
esac
case " ${REPORTS:-minute hour hour-1h} " in *" hour-1h "*)
	report_bench "$hdb" 1h "from the hour rollups only, delta-t 1 h";;
esac
