#!/usr/bin/python3
"""An independent oracle for the counter tests: can this process open Linux's generic event
NAME with perf_event_open(2) (this thread, user mode, as specbias asks)? Prints one line per
name, "NAME ok" or "NAME errno TEXT", and exits 0. Raw syscall through ctypes, so it needs
neither perf nor PAPI.

usage: perf_probe.py NAME...   (task-clock, page-faults, cycles, instructions, ...)"""
import ctypes
import errno
import os
import platform
import struct
import sys

SOFTWARE, HARDWARE = 1, 0
EVENTS = {
    "task-clock": (SOFTWARE, 1), "cpu-clock": (SOFTWARE, 0), "page-faults": (SOFTWARE, 2),
    "context-switches": (SOFTWARE, 3), "cpu-migrations": (SOFTWARE, 4),
    "minor-faults": (SOFTWARE, 5), "major-faults": (SOFTWARE, 6),
    "cycles": (HARDWARE, 0), "instructions": (HARDWARE, 1), "cache-references": (HARDWARE, 2),
    "cache-misses": (HARDWARE, 3), "branches": (HARDWARE, 4), "branch-misses": (HARDWARE, 5),
}
NR = {"x86_64": 298, "aarch64": 241}


def probe(name):
    kind, config = EVENTS[name]
    # struct perf_event_attr, PERF_ATTR_SIZE_VER0 (64 bytes): type, size, config,
    # sample_period, sample_type, read_format, flags (disabled | exclude_kernel | exclude_hv),
    # wakeup_events, bp_type, config1.
    flags = (1 << 0) | (1 << 5) | (1 << 6)
    attr = struct.pack("=IIQQQQQIIQ", kind, 64, config, 0, 0, 0, flags, 0, 0, 0)
    buf = ctypes.create_string_buffer(attr, len(attr))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fd = libc.syscall(ctypes.c_long(NR[platform.machine()]), buf, ctypes.c_int(0),
                      ctypes.c_int(-1), ctypes.c_int(-1), ctypes.c_ulong(0))
    if fd >= 0:
        os.close(fd)
        return "ok"
    e = ctypes.get_errno()
    return f"errno {os.strerror(e)}"


if __name__ == "__main__":
    if platform.machine() not in NR:
        print(f"SKIP: no perf_event_open number for {platform.machine()} here")
        sys.exit(77)
    for n in sys.argv[1:]:
        print(n, probe(n))
