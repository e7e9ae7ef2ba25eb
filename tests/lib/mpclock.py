# SPDX-License-Identifier: BSD-3-Clause
"""This machine's CLOCK_REALTIME as the tests read and step it, through
clock_adjtime(2) and struct timex of <sys/timex.h> (x86_64 and other LP64
Linux).

    state()        what a steering ptp4l or ntpd changes: frequency,
                   tick, PLL offset, STA_UNSYNC (adjtimex, read only)
    step(ns)       steps the clock by ns, relative (ADJ_SETOFFSET), as
                   ntpd and ptp4l step a clock; stepping back by as much
                   puts it where it would have been
"""
import ctypes
import os

ADJ_SETOFFSET = 0x0100
ADJ_NANO = 0x2000
STA_UNSYNC = 0x0040


class Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long),
                ("freq", ctypes.c_long), ("maxerror", ctypes.c_long),
                ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long),
                ("tolerance", ctypes.c_long), ("tv_sec", ctypes.c_long),
                ("tv_usec", ctypes.c_long), ("tick", ctypes.c_long),
                ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long),
                ("shift", ctypes.c_int), ("stabil", ctypes.c_long),
                ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
                ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long),
                ("tai", ctypes.c_int), ("pad", ctypes.c_int * 11)]


_libc = ctypes.CDLL(None, use_errno=True)


def state():
    t = Timex()
    _libc.adjtimex(ctypes.byref(t))
    return "freq %d tick %d offset %d unsync %d" % (
        t.freq, t.tick, t.offset, t.status & STA_UNSYNC != 0)


def step(ns):
    """Raises OSError when the clock cannot be stepped (no CAP_SYS_TIME)."""
    t = Timex()
    t.modes = ADJ_SETOFFSET | ADJ_NANO
    t.tv_sec, t.tv_usec = divmod(ns, 10**9)     # tv_usec: ns, >= 0
    if _libc.clock_adjtime(0, ctypes.byref(t)) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


if __name__ == "__main__":
    print(state())
