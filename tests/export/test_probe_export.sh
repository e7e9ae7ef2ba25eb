#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two real probes export their interval records to a real collector:
#   test_probe_export.sh METROPROBE METROPROBE_COLLECTOR
#
# Probes centre-a and centre-b run in two network namespaces joined by a
# veth pair (net_af_packet, full mesh). A second veth pair with kernel
# addresses carries HTTP: the collector runs in namespace a on 10.78.0.1.
# While they measure:
#   - the collector is killed (SIGKILL) for ~3 s and started again on the
#     same SQLite file and port;
#   - probe centre-a is killed (SIGKILL) and restarted with the same spool
#     directory and a fresh --records file;
# then everything gets SIGTERM. Every record each probe wrote to its
# --records files must be in the collector's database exactly once (keys
# (probe, session, start_ns) compared with the sqlite3 CLI), none missing.
METROPROBE=$1
COLLECTOR=$2
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
export METROPROBE SRC
source "$SRC/tests/lib/mpnet.sh"
probe_tmp mpx-exp
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing"

# the measured wire (DPDK) and the management wire (kernel, HTTP)
netns_pair || fail "cannot create the namespaces and their veth pair"
netns_veth "$a" ca "$b" cb || fail "cannot create veth pair"
ip -n "$a" addr add 10.78.0.1/24 dev ca || fail "address"
ip -n "$b" addr add 10.78.0.2/24 dev cb || fail "address"
mac_a=$(mac_of "$a" va)
mac_b=$(mac_of "$b" vb)

dump_logs() {
  for f in "$TMP"/*.log; do
    echo "--- $f"; grep -v '^EAL\|^TELEMETRY' "$f" | tail -15
  done
}
fail() { echo "FAIL: $*"; dump_logs; exit 1; }

# ---- collector (namespace a, 10.78.0.1) --------------------------------
collector_tokens "$TMP" a b
collector_config "$COLLECTOR" "$TMP" 10.78.0.1 0 a b
collector_start "$COLLECTOR" "$TMP" "$a"
coll_pid=$COLLECTOR_PID
port=$(cat "$TMP/port")
# the restart comes back on the same port
collector_config "$COLLECTOR" "$TMP" 10.78.0.1 "$port" a b
url="http://10.78.0.1:$port"

# ---- probes --------------------------------------------------------
PROBE_COMMON="$PROBE_COMMON --collector $url"
# start_a RUN: probe centre-a, records to a-RUN.jsonl, spool kept across runs
start_a() {
  probe_start "a-$1" "$a" 0 va \
    --port name=centre-a,device=net_af_packet0,ipv4=10.77.0.1/24,neighbours=10.77.0.2@$mac_b \
    --session name=a-to-b,port=centre-a,peer=10.77.0.2,rate_pps=100 \
    --token-file "$TMP/token-a" --spool-dir "$TMP/spool-a"
  pa=${PROBE_PID[a-$1]}
  probe_wait_started "a-$1"
}
probe_start b-1 "$b" 1 vb \
  --port name=centre-b,device=net_af_packet0,ipv4=10.77.0.2/24,neighbours=10.77.0.1@$mac_a \
  --session name=b-to-a,port=centre-b,peer=10.77.0.1,rate_pps=100 \
  --token-file "$TMP/token-b" --spool-dir "$TMP/spool-b"
pb=${PROBE_PID[b-1]}
probe_wait_started b-1
start_a 1

nrec() { cat "$@" 2>/dev/null | wc -l; }
sleep 4
echo "collector killed (SIGKILL) after $(nrec "$TMP"/a-1.jsonl "$TMP"/b-1.jsonl) records"
kill -9 "$coll_pid"; wait "$coll_pid" 2>/dev/null
sleep 3
collector_start "$COLLECTOR" "$TMP" "$a"
coll_pid=$COLLECTOR_PID
echo "collector back ($(nrec "$TMP"/a-1.jsonl "$TMP"/b-1.jsonl) records written)"
sleep 2
kill -9 "$pa"; wait "$pa" 2>/dev/null
echo "probe centre-a killed (SIGKILL) after $(nrec "$TMP/a-1.jsonl") records"
start_a 2
sleep 4
# export counters through DPDK telemetry (retried: a loaded machine can
# refuse the odd connection)
for try in 1 2 3 4 5; do
  echo /metroprobe/export | dpdk-telemetry.py -f "${NETNS_TAG}-b-1" >"$TMP/tel.txt" 2>&1
  grep -q '"acknowledged"' "$TMP/tel.txt" && break
  sleep 0.2
done
/usr/bin/python3 - "$TMP/tel.txt" <<'PY' || fail "telemetry /metroprobe/export: $(cat "$TMP/tel.txt")"
import json, sys
text = open(sys.argv[1]).read()
d = json.loads(text[text.index('{"/metroprobe/export"'):].splitlines()[0])["/metroprobe/export"]
print("  telemetry /metroprobe/export (centre-b): %s" % json.dumps(d))
assert d["enabled"] == 1 and d["acknowledged"] > 0 and d["retries"] > 0
assert d["acknowledged"] + d["pending"] == d["spooled"] + d["recovered"]
PY
kill -TERM "$pa" "$pb"
wait "$pa"; ra=$?
wait "$pb"; rb=$?
[ "$ra" -eq 0 ] || fail "probe a exited $ra"
[ "$rb" -eq 0 ] || fail "probe b exited $rb"
kill -TERM "$coll_pid"; wait "$coll_pid" 2>/dev/null
grep -h "export:" "$TMP"/a-*.log "$TMP"/b-1.log | sed 's/^/  /'
grep -q "spool drained" "$TMP/a-2.log" || fail "probe a did not drain its spool"
grep -q "spool drained" "$TMP/b-1.log" || fail "probe b did not drain its spool"

# ---- what the collector stored ---------------------------------------
keys_py='import json, sys
for f in sys.argv[1:]:
    for line in open(f):
        r = json.loads(line)
        print("%s|%s|%d" % (r["probe"], r["session"], r["start_ns"]))'
/usr/bin/python3 -c "$keys_py" "$TMP"/a-1.jsonl "$TMP"/a-2.jsonl "$TMP"/b-1.jsonl |
  sort >"$TMP/written"
sqlite3 "$TMP/collector.db" \
  "SELECT probe || '|' || session || '|' || start_ns FROM interval_raw" |
  sort >"$TMP/stored"
n_written=$(wc -l <"$TMP/written")
n_a1=$(nrec "$TMP/a-1.jsonl")
n_a2=$(nrec "$TMP/a-2.jsonl")
n_b=$(nrec "$TMP/b-1.jsonl")
[ "$n_a1" -ge 3 ] && [ "$n_a2" -ge 2 ] && [ "$n_b" -ge 8 ] ||
  fail "too few records written: a $n_a1 + $n_a2, b $n_b"
[ "$(uniq -d "$TMP/written" | wc -l)" = 0 ] || fail "a key written twice"
dups=$(uniq -d "$TMP/stored" | wc -l)
[ "$dups" = 0 ] || fail "$dups keys stored more than once"
missing=$(comm -23 "$TMP/written" "$TMP/stored")
[ -z "$missing" ] || fail "written but not stored: $missing"
# The probe killed between spooling a record and flushing --records may
# have exported one that its file lacks: at most one per session.
extra=$(comm -13 "$TMP/written" "$TMP/stored")
n_extra=$(printf '%s' "$extra" | grep -c . || true)
[ "$n_extra" -le 1 ] || fail "stored but never written: $extra"
if [ -n "$extra" ]; then
  echo "$extra" | grep -q '^centre-a|' || fail "stored but never written: $extra"
fi
echo "PASS: $n_written records (centre-a $n_a1 + $n_a2 across a SIGKILL, centre-b $n_b) stored exactly once across a collector SIGKILL; $n_extra extra"
