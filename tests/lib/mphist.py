# SPDX-License-Identifier: BSD-3-Clause
"""The probe's histograms (lib/hist.c's serialised form), read back in the
tests: decode, exact merge, quantiles as hist_quantile() computes them,
and exact nearest-rank quantiles of raw samples to compare with.
"""
import base64


SUB_BITS = 6
SUB = 1 << SUB_BITS
MAX_EXP = 37
NBUCKETS = (MAX_EXP - SUB_BITS + 1) * SUB


def bucket_low(i):
    if i < SUB:
        return i
    e = (i >> SUB_BITS) + SUB_BITS - 1
    return (1 << e) + ((i & (SUB - 1)) << (e - SUB_BITS))


def bucket_width(i):
    if i < SUB:
        return 1
    e = (i >> SUB_BITS) + SUB_BITS - 1
    return 1 << (e - SUB_BITS)


def nearest_rank(q, count):
    """ceil(q * count) in [1, count], computed as hist_quantile() does."""
    r = q * count
    rank = int(r)
    if rank < r:
        rank += 1
    return max(1, min(count, rank))


class Hist:
    """Decoder and exact merge of hist_to_base64(); quantiles as
    hist_quantile() (nearest rank, bucket midpoint clamped to min, max)."""

    def __init__(self):
        self.count, self.sum, self.min, self.max = 0, 0, None, 0
        self.buckets = {}

    @staticmethod
    def decode(b64):
        raw = base64.b64decode(b64, validate=True)
        pos = 2
        if raw[0] != 1 or raw[1] != SUB_BITS:
            raise ValueError("histogram version %d sub-bits %d" % (raw[0], raw[1]))

        def varint():
            nonlocal pos
            v, shift = 0, 0
            while True:
                b = raw[pos]
                pos += 1
                v |= (b & 0x7f) << shift
                shift += 7
                if not b & 0x80:
                    return v
        h = Hist()
        h.count = varint()
        if h.count:
            h.sum, h.min, h.max, _overflow, nnz = (varint() for _ in range(5))
            nxt = 0
            for _ in range(nnz):
                i = nxt + varint()
                h.buckets[i] = varint()
                nxt = i + 1
        return h

    def merge(self, o):
        if not o.count:
            return
        for i, c in o.buckets.items():
            self.buckets[i] = self.buckets.get(i, 0) + c
        self.count += o.count
        self.sum += o.sum
        self.min = o.min if self.min is None else min(self.min, o.min)
        self.max = max(self.max, o.max)

    def quantile(self, q):
        rank = nearest_rank(q, self.count)
        cum = 0
        for i in sorted(self.buckets):
            cum += self.buckets[i]
            if cum >= rank:
                v = bucket_low(i) + bucket_width(i) // 2
                return min(max(v, self.min), self.max)
        return self.max


def exact_quantile(xs, q):
    """Nearest rank, as the probe's histograms (without their buckets)."""
    xs = sorted(xs)
    return xs[nearest_rank(q, len(xs)) - 1]


def merged(records, key):
    h = Hist()
    for r in records:
        b64 = r["hist"].get(key)
        if b64:
            h.merge(Hist.decode(b64))
    return h
