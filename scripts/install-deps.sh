#!/usr/bin/env bash
# Installs every Debian package metroprobe needs to build, test and run the
# demo. Idempotent: when everything is there it only checks and returns.
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config gcc libc6-dev
  # libraries
  dpdk dpdk-dev libdpdk-dev libpcap-dev libnuma-dev libsqlite3-dev
  libmicrohttpd-dev libjansson-dev libinih-dev libcurl4-openssl-dev
  libssl-dev libcmocka-dev
  # tests and demo
  iproute2 ethtool procps psmisc tshark python3 python3-scapy jq curl sqlite3
  chromium prometheus linuxptp
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q "${missing[@]}"
