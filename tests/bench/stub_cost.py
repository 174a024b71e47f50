#!/usr/bin/env python3
"""stub_cost.py BUILD_DIR ENTRIES OUTDIR: the stub's own work, PVH entry to
kernel entry, in guest TSC ticks under -icount (tests/bench/bench.sh).

The probe kernel, wrapped, is entered through the test loader with a
memmap of ENTRIES RAM entries (framework.layouts.own); pvhload reads the TSC
just before it enters the stub (port 0xe9), the probe at its first
instruction.  Prints the difference.
"""
import os
import pathlib
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
obj, entries, out = pathlib.Path(sys.argv[1]).resolve(), int(sys.argv[2]), pathlib.Path(sys.argv[3])
os.environ["PVHSTUB_BUILD"] = str(obj)
from framework import layouts, pvhload, qemu, tool  # noqa: E402

work = out / ("cost-%d" % entries)
work.mkdir(parents=True, exist_ok=True)
image = tool.wrap(obj / "tests" / "probe.bzImage", work / "probe.pvh")
info = tool.inspect(image)
e9 = work / "port-e9.log"
b = pvhload.boot(work, work / "console.log", layouts.own(cmdline="console=ttyS0", entries=entries), info["e_entry"],
                 tool.placed(image, info), timeout=60,
                 extra=qemu.ICOUNT + ["-debugcon", "file:%s" % e9])
a = re.search(r"^pvhload: tsc (0x[0-9a-f]+)", e9.read_text(errors="replace"), re.M)
z = re.search(r"^probe: entry_tsc (\d+)$", b.console, re.M)
if not a or not z:
    sys.exit("bench: stub cost run with %d entries failed\n%s" % (entries, b.tail()))
print(int(z.group(1)) - int(a.group(1), 16))
