#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Traffic ends for linkem's tests, run inside a network namespace.

  lk_peer.py send --dst IP --dport P --sport P --count N --pps R
                  [--size BYTES] [--kind s|r] [--first-seq N]
  lk_peer.py recv --port P --out FILE --ready FILE [--idle S] [--max S]
  lk_peer.py ping --dst IP [--timeout S]    (ICMP echo; exit 0 on reply)

The sender writes a STAMP-like payload (RFC 8762 layouts): the sequence
number in the first 4 octets and its CLOCK_REALTIME send time (Unix ns)
in the next 8. With --kind r it writes the unauthenticated reflector
layout: a non-zero receive timestamp at offset 16 and the sender's
sequence number (seq + 1000000) at offset 24. The receiver records, per
datagram, the sequence number, the kernel receive time (SO_TIMESTAMPNS,
CLOCK_REALTIME: the same clock in every namespace of this machine), the
send time from the payload and the length.
"""
import argparse
import json
import os
import select
import socket
import struct
import sys
import time

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SO_NO_CHECK = 11  # linux: UDP checksum 0, see send()


def send(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # veth offloads the UDP checksum: a frame taken off the wire by an
    # AF_PACKET socket and sent again would arrive with a partial sum
    # and be dropped. No checksum at all is valid for UDP over IPv4.
    s.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind(("0.0.0.0", a.sport))
    size = max(a.size, 44)
    gap = 1.0 / a.pps
    start = time.perf_counter()
    for i in range(a.count):
        due = start + i * gap
        while True:
            left = due - time.perf_counter()
            if left <= 0:
                break
            if left > 0.0003:
                time.sleep(left - 0.0002)
        seq = (a.first_seq + i) & 0xFFFFFFFF
        buf = bytearray(size)
        if a.kind == "r":
            struct.pack_into("!IQHH", buf, 0, seq, 0, 0x8001, 7)
            struct.pack_into("!QI", buf, 16, 0x1234567800000000,
                             (seq + 1000000) & 0xFFFFFFFF)
        struct.pack_into("!I", buf, 0, seq)
        struct.pack_into("!Q", buf, 4, time.time_ns())
        s.sendto(buf, (a.dst, a.dport))
    print(json.dumps({"sent": a.count}))


def recv(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("0.0.0.0", a.port))
    with open(a.ready, "w") as f:
        f.write("ready\n")
    got = []
    end = time.monotonic() + a.max
    last = None
    while True:
        now = time.monotonic()
        if now >= end or (last is not None and now - last >= a.idle):
            break
        wait = min(end - now, a.idle if last is not None else end - now)
        r, _, _ = select.select([s], [], [], max(wait, 0.01))
        if not r:
            continue
        data, anc, _, addr = s.recvmsg(65536, 256)
        rx_ns = None
        for level, typ, val in anc:
            if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", val[:16])
                rx_ns = sec * 1000000000 + nsec
        if rx_ns is None:
            rx_ns = time.time_ns()
        if len(data) < 12:
            continue
        seq, tx_ns = struct.unpack_from("!IQ", data, 0)
        got.append([seq, rx_ns, tx_ns, len(data), addr[1]])
        last = time.monotonic()
    with open(a.out, "w") as f:
        json.dump({"pkts": got}, f)


def icmp_sum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(a):
    """One ICMP echo at a time until a reply (no iputils needed)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    end = time.monotonic() + a.timeout
    seq = 0
    while time.monotonic() < end:
        seq += 1
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"linkem"
        pkt = hdr[:2] + struct.pack("!H", icmp_sum(hdr)) + hdr[4:]
        s.sendto(pkt, (a.dst, 0))
        stop = min(end, time.monotonic() + 0.5)
        while time.monotonic() < stop:
            r, _, _ = select.select([s], [], [], stop - time.monotonic())
            if not r:
                break
            data, addr = s.recvfrom(2048)
            ihl = (data[0] & 0x0F) * 4
            typ, _, _, rid, rseq = struct.unpack_from("!BBHHH", data, ihl)
            if addr[0] == a.dst and typ == 0 and rid == ident:
                return 0
    return 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="role", required=True)
    ps = sub.add_parser("send")
    ps.add_argument("--dst", required=True)
    ps.add_argument("--dport", type=int, required=True)
    ps.add_argument("--sport", type=int, required=True)
    ps.add_argument("--count", type=int, required=True)
    ps.add_argument("--pps", type=float, required=True)
    ps.add_argument("--size", type=int, default=44)
    ps.add_argument("--kind", choices=["s", "r"], default="s")
    ps.add_argument("--first-seq", type=int, default=0)
    pr = sub.add_parser("recv")
    pr.add_argument("--port", type=int, required=True)
    pr.add_argument("--out", required=True)
    pr.add_argument("--ready", required=True)
    pr.add_argument("--idle", type=float, default=1.0)
    pr.add_argument("--max", type=float, default=30.0)
    pp = sub.add_parser("ping")
    pp.add_argument("--dst", required=True)
    pp.add_argument("--timeout", type=float, default=10.0)
    a = p.parse_args()
    if a.role == "ping":
        return ping(a)
    send(a) if a.role == "send" else recv(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
