#!/usr/bin/env python3
"""mkseed.py LOG OUT [PREFIX]: a fuzz_translate seed from a real boot.

LOG holds a boot's console with pvhstub.debug (a QEMU or Xen log; PREFIX,
e.g. "(d1) ", is stripped from Xen's lines).  The seed rebuilds what that
loader handed the stub: the start_info (version, flags, RSDP), its memmap,
module 0 and the command line, laid out in the harness's memory image.
"""
import os
import re
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from e820 import stub_memmap  # noqa: E402

BASE = 0x10000


def main():
    log, out = sys.argv[1], sys.argv[2]
    prefix = re.escape(sys.argv[3]) if len(sys.argv) > 3 else ""
    text = open(log, errors="replace").read().replace("\r", "")
    lines = "\n".join(re.findall(r"^%s(pvhstub:.*)$" % prefix, text, re.M))
    m = re.search(r"start_info v(\d+): flags 0x([0-9a-f]+), nr_modules (\d+), .* rsdp 0x([0-9a-f]+)", lines)
    if not m:
        sys.exit("mkseed: no start_info dump in %s" % log)
    version, flags, nmods, rsdp = int(m.group(1)), int(m.group(2), 16), int(m.group(3)), int(m.group(4), 16)
    memmap = [(a, e - a, t) for a, e, t in stub_memmap(lines)]
    if "from XENMEM_memory_map" in lines:
        memmap = []          # v0: the map came from Xen, not from the start_info
    c = re.search(r'cmdline "(.*)"', lines)
    rd = re.search(r"module 0 addr 0x([0-9a-f]+) size 0x([0-9a-f]+)", lines)
    mem = bytearray(0x4000)
    mm_off, ml_off, cl_off = 0x100, 0x2000, 0x3000
    for i, (a, s, t) in enumerate(memmap):
        struct.pack_into("<QQII", mem, mm_off + 24 * i, a, s, t, 0)
    if nmods and rd:
        struct.pack_into("<QQQQ", mem, ml_off, int(rd.group(1), 16), int(rd.group(2), 16), 0, 0)
    cmd = (c.group(1) if c else "").encode() + b"\0"
    mem[cl_off:cl_off + len(cmd)] = cmd
    struct.pack_into("<IIIIQQQ", mem, 0, 0x336EC578, version, flags, 1 if nmods else 0,
                     BASE + ml_off, BASE + cl_off, rsdp)
    if version >= 1:
        struct.pack_into("<QII", mem, 40, BASE + mm_off, len(memmap), 0)
    choice = bytes([(0x01 if "on Xen" in lines else 0) | (0x08 if version == 0 else 0), 0, 3, 0])
    open(out, "wb").write(choice + bytes(mem))


if __name__ == "__main__":
    main()
