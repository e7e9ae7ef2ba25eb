#!/usr/bin/env bash
# Network namespaces and veth pairs for tests and the demo, with cleanup.
# Source it, do not run it:
#
#   source scripts/netns.sh
#   netns_init mpp                 # tag "mpp-<pid>-<random>", cleanup trap
#   a=$(netns_create a)            # namespace "<tag>-a", IPv6 off, lo up
#   b=$(netns_create b)
#   netns_veth "$a" va "$b" vb     # veth pair va (in a) <-> vb (in b)
#   netns_bridge "$m" br0 ma mb    # a bridge in m over ma and mb
#   netns_bg "$a" cmd args...      # run in a namespace, in the background;
#                                  # its pid is in $NETNS_LAST_PID and it is
#                                  # killed (TERM, then KILL) at cleanup
#   netns_cleanup                  # also runs on EXIT, INT and TERM
#
# netns_on_cleanup CMD runs CMD at cleanup before the processes are
# stopped, netns_on_cleanup_late CMD after they are gone (to release what
# they held: hugepages, a mount).
#
# Every name carries the tag, so tests running at the same time never
# collide, and cleanup removes every namespace with the tag (netns_create
# is usually called in a $(...) subshell, which cannot add to a list). IPv6 is disabled in each namespace so the kernel sends nothing
# on the wires by itself (no router solicitations, no MLD): every frame a
# test sees was sent by the test.

NETNS_TAG=${NETNS_TAG:-}
NETNS_LIST=()
NETNS_PIDS=()
NETNS_LAST_PID=
NETNS_EXTRA_CLEANUP=()
NETNS_LATE_CLEANUP=()

netns_init() {
  local prefix=${1:-mp}
  NETNS_TAG="${prefix}-$$-${RANDOM}"
  trap 'netns_cleanup' EXIT
  trap 'netns_cleanup; exit 130' INT
  trap 'netns_cleanup; exit 143' TERM
}

# Extra command (a string for eval) to run at cleanup, before namespaces go.
netns_on_cleanup() {
  NETNS_EXTRA_CLEANUP+=("$1")
}

netns_create() {
  local ns="${NETNS_TAG:?netns_init first}-$1"
  ip netns add "$ns" || return 1
  NETNS_LIST+=("$ns")
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
  ip -n "$ns" link set dev lo up
  echo "$ns"
}

# Extra command to run at cleanup once the processes are gone.
netns_on_cleanup_late() {
  NETNS_LATE_CLEANUP+=("$1")
}

# netns_veth NS1 IF1 NS2 IF2 [MTU]: created directly inside the two
# namespaces, so interface names need only be unique there.
netns_veth() {
  local ns1=$1 if1=$2 ns2=$3 if2=$4 mtu=${5:-1500}
  ip link add "$if1" netns "$ns1" mtu "$mtu" type veth \
    peer name "$if2" netns "$ns2" mtu "$mtu" || return 1
  ip netns exec "$ns1" sysctl -qw "net.ipv6.conf.$if1.disable_ipv6=1" \
    >/dev/null 2>&1 || true
  ip netns exec "$ns2" sysctl -qw "net.ipv6.conf.$if2.disable_ipv6=1" \
    >/dev/null 2>&1 || true
  ip -n "$ns1" link set dev "$if1" up
  ip -n "$ns2" link set dev "$if2" up
}

# netns_bridge NS BRIDGE IF...: a Linux bridge in NS over the interfaces.
netns_bridge() {
  local ns=$1 br=$2 ifc
  shift 2
  ip -n "$ns" link add "$br" type bridge || return 1
  for ifc in "$@"; do
    ip -n "$ns" link set dev "$ifc" master "$br" || return 1
  done
  ip -n "$ns" link set dev "$br" up
}

# netns_register_ns NAME: clean up a namespace made elsewhere.
netns_register_ns() {
  NETNS_LIST+=("$1")
}

netns_bg() {
  local ns=$1; shift
  ip netns exec "$ns" "$@" &
  NETNS_LAST_PID=$!
  NETNS_PIDS+=("$NETNS_LAST_PID")
}

# Track a process started some other way.
netns_track_pid() {
  NETNS_PIDS+=("$1")
}

netns_cleanup() {
  local pid ns cmd i
  trap - EXIT INT TERM
  for cmd in "${NETNS_EXTRA_CLEANUP[@]}"; do
    eval "$cmd" || true
  done
  NETNS_EXTRA_CLEANUP=()
  for pid in "${NETNS_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${NETNS_PIDS[@]}"; do
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  NETNS_PIDS=()
  # by tag as well: netns_create usually runs in $(...), a subshell
  for ns in "${NETNS_LIST[@]}" $(ip netns list 2>/dev/null |
      awk -v t="${NETNS_TAG:-none}-" 'index($1, t) == 1 {print $1}'); do
    ip netns del "$ns" 2>/dev/null || true
  done
  NETNS_LIST=()
  for cmd in "${NETNS_LATE_CLEANUP[@]}"; do
    eval "$cmd" || true
  done
  NETNS_LATE_CLEANUP=()
}
