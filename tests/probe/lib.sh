#!/usr/bin/env bash
# Shared helpers of the probe tests (sourced). Needs METROPROBE (the
# binary) and SRC (the source root) in the environment; meson sets both.
set -uo pipefail
: "${METROPROBE:?}" "${SRC:?}"
source "$SRC/scripts/netns.sh"
CHECK="/usr/bin/python3 $SRC/tests/probe/check_records.py"

# probe_tmp PREFIX: tag, namespace cleanup, a scratch dir and DPDK runtime
# dirs removed at exit.
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

fail() {
  echo "FAIL: $*"
  exit 1
}
