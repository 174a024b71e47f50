"""compare(verdict, NATIVE, PVH, CMDLINE) (tests/probe/test_probe.py): the
same Debian kernel booted natively (QEMU -kernel bzImage) and through the
stub must report the same /proc/cmdline, e820 (after the ISA-hole rule),
RSDP and initrd, and reach init."""
import re

from e820 import isa_rule, kernel_e820, sanitize, show


def parse(text):
    m = re.search(r"^PVHSTUB-CMDLINE: (.*)$", text, re.M)
    return {
        "init": "PVHSTUB-INIT: reached init" in text,
        "cmdline": m.group(1) if m else None,
        "e820": kernel_e820(text),
        "rsdp": re.findall(r"^PVHSTUB-DMESG: (ACPI: RSDP .*)$", text, re.M),
        "initrd": re.findall(r"^PVHSTUB-DMESG: (Freeing initrd memory: .*)$", text, re.M),
        "payload": re.findall(r"^PVHSTUB-PAYLOAD: (\w+) (\w+)$", text, re.M),
    }


def compare(verdict, native_console, pvh_console, cmdline):
    native, pvh = parse(native_console), parse(pvh_console)

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
