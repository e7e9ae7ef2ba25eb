#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A STAMP session-reflector (RFC 8762, unauthenticated, stateful) on the
kernel's UDP stack: no DPDK, the socket API a Linux host's tools use, with
whatever offloads the interface has (checksum offload on by default on a
veth). Written from the RFC for the tests, independently of lib/stamp.c.

    kernel_stamp_peer.py ADDR PORT [--ready FILE]

T2 is the kernel's receive timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME), T3
is read just before sendto(); the Error Estimate says synchronised (S) with
a multiplier of 1 and a scale of 17 (2^-15 s, about 31 us). The sender's
TTL comes from IP_RECVTTL. Exits on SIGTERM with a line of counts.
"""
import signal
import socket
import struct
import sys
import time

NTP_UNIX = 2208988800
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)     # <linux/in.h>
IP_TTL = getattr(socket, "IP_TTL", 2)
ERREST = 0x8000 | (17 << 8) | 1     # S=1, Z=0, scale 17, multiplier 1


def ntp(ns):
    """Unix ns to the 64-bit NTP format (RFC 5905 section 6)."""
    sec, frac = divmod(ns, 10**9)
    return ((sec + NTP_UNIX) << 32) | ((frac << 32) // 10**9)


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    ready = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--ready" \
        else None
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    s.bind((addr, port))
    seqs = {}
    counts = {"reflected": 0, "short": 0}

    def on_term(signum, frame):
        print("kernel peer: reflected %(reflected)d, short %(short)d" %
              counts, flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, on_term)
    if ready:
        open(ready, "w").close()
    while True:
        data, anc, _, peer = s.recvmsg(2048, 256)
        t2 = None
        ttl = 255
        for level, kind, val in anc:
            if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", val[:16])
                t2 = sec * 10**9 + nsec
            elif level == socket.IPPROTO_IP and kind == IP_TTL:
                ttl = struct.unpack("i", val[:4])[0]
        if t2 is None:
            t2 = time.time_ns()
        if len(data) < 44:
            counts["short"] += 1
            continue
        sseq, t1, serr, ssid = struct.unpack("!IQHH", data[:16])
        key = (peer, ssid)
        rseq = seqs.get(key, 0)
        seqs[key] = rseq + 1
        # RFC 8762 section 4.3.1, figure 4: the reflector's packet is as
        # long as the sender's (the rest of its octets MBZ)
        t3 = time.time_ns()
        out = struct.pack("!IQHHQIQHHB3x", rseq, ntp(t3), ERREST, ssid,
                          ntp(t2), sseq, t1, serr, 0, ttl & 0xff)
        out += bytes(len(data) - len(out))
        s.sendto(out, peer)
        counts["reflected"] += 1


if __name__ == "__main__":
    main()
