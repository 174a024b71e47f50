#!/usr/bin/env python3
"""Check a boot's serial log: the stub ran, the kernel reached init with our
cmdline and initrd, and the e820 the kernel printed matches the loader's map.

usage: check.py LOG EXPECTED_CMDLINE [--payload]

The expected e820 is computed here from the loader's memmap (which the stub
prints with pvhstub.debug) by the documented ISA-hole rule, then sanitized
as Linux does before it prints it (tests/e820.py).
Prints one PASS/FAIL line per assertion; exits 1 if any failed.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from e820 import Verdicts, isa_rule, kernel_e820, sanitize, show, stub_memmap  # noqa: E402

def main():
    log, want_cmdline = sys.argv[1], sys.argv[2]
    want_payload = "--payload" in sys.argv[3:]
    text = open(log, errors="replace").read().replace("\r", "")
    check = Verdicts()

    check(re.search(r"^pvhstub: start_info 0x[0-9a-f]+ v1, e820 ", text, re.M) is not None, "the stub ran")
    check("PVHSTUB-INIT: reached init" in text, "the kernel reached init")

    m = re.search(r"^PVHSTUB-CMDLINE: (.*)$", text, re.M)
    got = m.group(1) if m else None
    check(got == want_cmdline, "/proc/cmdline matches", f"got {got!r}, want {want_cmdline!r}")

    # The kernel unpacked the initrd (and init, checked above, is the initrd's own).
    check(re.search(r"^PVHSTUB-DMESG: Freeing initrd memory: [1-9]", text, re.M) is not None,
          "the initrd was used")
    if want_payload:
        m = re.search(r"^PVHSTUB-PAYLOAD: (\w+) (\w+)$", text, re.M)
        check(bool(m) and m.group(1) == m.group(2), "the initrd's payload checksum matches",
              m.group(0) if m else "no PVHSTUB-PAYLOAD line")

    memmap = stub_memmap(text)
    kernel = kernel_e820(text)
    check(len(memmap) > 0, "the loader's memmap was printed")
    check(len(kernel) > 0, "the kernel printed its e820")
    if memmap and kernel:
        want = sanitize(isa_rule(memmap))
        check(kernel == want, "the kernel's e820 matches the loader's memmap",
              "\n  kernel:\n%s\n  wanted:\n%s" % (show(kernel), show(want)))
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
