#!/usr/bin/env python3
"""linux_compare.py NATIVE.log PVH.log CMDLINE: the same Debian kernel booted
natively (QEMU -kernel bzImage) and through the stub must report the same
/proc/cmdline, e820 (after the ISA-hole rule), RSDP and initrd, and reach init."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from e820 import Verdicts, isa_rule, kernel_e820, sanitize, show  # noqa: E402


def parse(path):
    text = open(path, errors="replace").read().replace("\r", "")
    m = re.search(r"^PVHSTUB-CMDLINE: (.*)$", text, re.M)
    return {
        "init": "PVHSTUB-INIT: reached init" in text,
        "cmdline": m.group(1) if m else None,
        "e820": kernel_e820(text),
        "rsdp": re.findall(r"^PVHSTUB-DMESG: (ACPI: RSDP .*)$", text, re.M),
        "initrd": re.findall(r"^PVHSTUB-DMESG: (Freeing initrd memory: .*)$", text, re.M),
        "payload": re.findall(r"^PVHSTUB-PAYLOAD: (\w+) (\w+)$", text, re.M),
    }


def main():
    native, pvh, cmdline = parse(sys.argv[1]), parse(sys.argv[2]), sys.argv[3]
    verdict = Verdicts()

    verdict(native["init"] and pvh["init"], "both reach init")
    verdict(native["cmdline"] == pvh["cmdline"] == cmdline, "/proc/cmdline matches: %r" % pvh["cmdline"])
    want = sanitize(isa_rule(native["e820"]))
    verdict(bool(native["e820"]) and pvh["e820"] == want,
            "the kernel's e820 matches, after the ISA-hole rule (%d entries)" % len(pvh["e820"]))
    if pvh["e820"] != want:
        print("  native after the rule:\n%s\n  pvh:\n%s" % (show(want), show(pvh["e820"])))
    verdict(bool(native["rsdp"]) and native["rsdp"] == pvh["rsdp"], "ACPI: RSDP matches: %s" % pvh["rsdp"])
    verdict(bool(native["initrd"]) and native["initrd"] == pvh["initrd"],
            "the initrd was used, the same size: %s" % pvh["initrd"])
    ok = all(p and p[0][0] == p[0][1] for p in (native["payload"], pvh["payload"]))
    verdict(ok and native["payload"] == pvh["payload"], "the initrd's contents match (md5)")
    return verdict.status()


if __name__ == "__main__":
    sys.exit(main())
