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
source "$SRC/tests/probe/lib.sh"
probe_tmp mpx-exp
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing"

a=$(netns_create a) || fail "cannot create namespace"
b=$(netns_create b) || fail "cannot create namespace"
# the measured wire (DPDK) and the management wire (kernel, HTTP)
netns_veth "$a" va "$b" vb || fail "cannot create veth pair"
netns_veth "$a" ca "$b" cb || fail "cannot create veth pair"
ip -n "$a" addr add 10.78.0.1/24 dev ca || fail "address"
ip -n "$b" addr add 10.78.0.2/24 dev cb || fail "address"
mac() { ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
mac_a=$(mac "$a" va)
mac_b=$(mac "$b" vb)

dump_logs() {
  for f in "$TMP"/*.log; do
    echo "--- $f"; grep -v '^EAL\|^TELEMETRY' "$f" | tail -15
  done
}
fail() { echo "FAIL: $*"; dump_logs; exit 1; }

# ---- collector (namespace a, 10.78.0.1) --------------------------------
for p in a b; do
  printf 'tok-centre-%s-%s\n' "$p" "$RANDOM$RANDOM" >"$TMP/token-$p"
  chmod 600 "$TMP/token-$p"
done
write_config() {
  cat >"$TMP/collector.ini" <<EOF
[collector]
listen = 10.78.0.1
port = $1
port_file = $TMP/port
database = $TMP/collector.db
connection_timeout = 5s
threads = 2
maintain_interval = 60s

[token.centre-a]
sha256 = $("$COLLECTOR" hash-token <"$TMP/token-a")
role = probe
probe = centre-a

[token.centre-b]
sha256 = $("$COLLECTOR" hash-token <"$TMP/token-b")
role = probe
probe = centre-b
EOF
}
coll_pid=
start_collector() {
  rm -f "$TMP/port"
  netns_bg "$a" "$COLLECTOR" serve --config "$TMP/collector.ini" \
    >>"$TMP/collector.log" 2>&1
  coll_pid=$NETNS_LAST_PID
  for _ in $(seq 100); do
    [ -s "$TMP/port" ] && return 0
    kill -0 "$coll_pid" 2>/dev/null || fail "collector exited"
    sleep 0.1
  done
  fail "collector did not write its port file"
}
write_config 0
start_collector
port=$(cat "$TMP/port")
write_config "$port"          # the restart comes back on the same port
url="http://10.78.0.1:$port"

# ---- probes --------------------------------------------------------
common="--interval 1s --loss-timeout 1s --idle-sleep-us 100 --mbufs 2047 --collector $url"
# start_a RUN: probe centre-a, records to a-RUN.jsonl, spool kept across runs
start_a() {
  netns_bg "$a" "$METROPROBE" $(eal_args "a$1" 0) --vdev=net_af_packet0,iface=va -- \
    --port name=centre-a,device=net_af_packet0,ipv4=10.77.0.1/24,neighbours=10.77.0.2@$mac_b \
    --session name=a-to-b,port=centre-a,peer=10.77.0.2,rate_pps=100 \
    $common --token-file "$TMP/token-a" --spool-dir "$TMP/spool-a" \
    --records "$TMP/a-$1.jsonl" 2>"$TMP/a-$1.log"
  pa=$NETNS_LAST_PID
  wait_started "$TMP/a-$1.log" || fail "probe a ($1) did not start"
}
netns_bg "$b" "$METROPROBE" $(eal_args b 1) --vdev=net_af_packet0,iface=vb -- \
  --port name=centre-b,device=net_af_packet0,ipv4=10.77.0.2/24,neighbours=10.77.0.1@$mac_a \
  --session name=b-to-a,port=centre-b,peer=10.77.0.1,rate_pps=100 \
  $common --token-file "$TMP/token-b" --spool-dir "$TMP/spool-b" \
  --records "$TMP/b-1.jsonl" 2>"$TMP/b-1.log"
pb=$NETNS_LAST_PID
wait_started "$TMP/b-1.log" || fail "probe b did not start"
start_a 1

nrec() { cat "$@" 2>/dev/null | wc -l; }
sleep 4
echo "collector killed (SIGKILL) after $(nrec "$TMP"/a-1.jsonl "$TMP"/b-1.jsonl) records"
kill -9 "$coll_pid"; wait "$coll_pid" 2>/dev/null
sleep 3
start_collector
echo "collector back ($(nrec "$TMP"/a-1.jsonl "$TMP"/b-1.jsonl) records written)"
sleep 2
kill -9 "$pa"; wait "$pa" 2>/dev/null
echo "probe centre-a killed (SIGKILL) after $(nrec "$TMP/a-1.jsonl") records"
start_a 2
sleep 4
# export counters through DPDK telemetry (retried: a loaded machine can
# refuse the odd connection)
for try in 1 2 3 4 5; do
  echo /metroprobe/export | dpdk-telemetry.py -f "${NETNS_TAG}-b" >"$TMP/tel.txt" 2>&1
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
