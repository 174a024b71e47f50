#!/usr/bin/env python3
"""Check a boot's serial log: the stub ran, the kernel reached init with our
cmdline and initrd, and the e820 the kernel printed matches the loader's map.

usage: check.py LOG EXPECTED_CMDLINE [--payload]

The expected e820 is computed here from the loader's memmap (which the stub
prints with pvhstub.debug) by the documented rules: RAM is cut out of
[0xa0000, 0x100000), that range is reserved, and then, as Linux does when it
sanitizes, overlaps go to the higher type and equal neighbours merge.
Prints one PASS/FAIL line per assertion; exits 1 if any failed.
"""
import re
import sys

ISA = (0xA0000, 0x100000)
NAMES = {1: "usable", 2: "reserved", 3: "ACPI data", 4: "ACPI NVS", 5: "unusable",
         6: "disabled", 7: "persistent (type 7)"}


def expected_e820(memmap):
    spans = []
    for addr, size, typ in memmap:
        if size == 0:
            continue
        end = addr + size
        if typ == 1 and addr < ISA[1] and end > ISA[0]:
            if addr < ISA[0]:
                spans.append((addr, ISA[0], typ))
            if end > ISA[1]:
                spans.append((max(addr, ISA[1]), end, typ))
        else:
            spans.append((addr, end, typ))
    spans.append((ISA[0], ISA[1], 2))
    cuts = sorted({p for s in spans for p in s[:2]})
    out = []
    for lo, hi in zip(cuts, cuts[1:]):
        types = [t for a, e, t in spans if a <= lo and e >= hi]
        if not types:
            continue
        t = max(types)
        if out and out[-1][1] == lo and out[-1][2] == t:
            out[-1] = (out[-1][0], hi, t)
        else:
            out.append((lo, hi, t))
    return out


def kernel_type(name):
    for k, v in NAMES.items():
        if v == name:
            return k
    m = re.match(r"type (\d+)", name)
    return int(m.group(1)) if m else name


def main():
    log, want_cmdline = sys.argv[1], sys.argv[2]
    want_payload = "--payload" in sys.argv[3:]
    text = open(log, errors="replace").read().replace("\r", "")
    failed = 0

    def check(ok, what, detail=""):
        nonlocal failed
        print(("PASS: " if ok else "FAIL: ") + what + (f" ({detail})" if detail and not ok else ""))
        failed += 0 if ok else 1

    check("pvhstub: PVH entry" in text, "the stub ran")
    check("PVHSTUB-INIT: reached init" in text, "the kernel reached init")

    m = re.search(r"^PVHSTUB-CMDLINE: (.*)$", text, re.M)
    got = m.group(1) if m else None
    check(got == want_cmdline, "/proc/cmdline matches", f"got {got!r}, want {want_cmdline!r}")

    # init is the initrd's own: reaching it proves the initrd was used.
    check("Unpacking initramfs" in text or "Freeing initrd memory" in text
          or "PVHSTUB-INIT" in text, "the initrd was used")
    if want_payload:
        m = re.search(r"^PVHSTUB-PAYLOAD: (\w+) (\w+)$", text, re.M)
        check(bool(m) and m.group(1) == m.group(2), "the initrd's payload checksum matches",
              m.group(0) if m else "no PVHSTUB-PAYLOAD line")

    memmap = [(int(a, 16), int(s, 16), int(t)) for a, s, t in re.findall(
        r"pvhstub:   memmap\[\d+\] addr 0x([0-9a-f]+) size 0x([0-9a-f]+) type (\d+)", text)]
    kernel = [(int(a, 16), int(e, 16) + 1, kernel_type(n)) for a, e, n in re.findall(
        r"^PVHSTUB-DMESG: BIOS-e820: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] (.*)$", text, re.M)]
    check(len(memmap) > 0, "the loader's memmap was printed")
    check(len(kernel) > 0, "the kernel printed its e820")
    if memmap and kernel:
        want = expected_e820(memmap)
        check(kernel == want, "the kernel's e820 matches the loader's memmap",
              "\n  kernel: %s\n  wanted: %s" % (
                  [(hex(a), hex(e), t) for a, e, t in kernel],
                  [(hex(a), hex(e), t) for a, e, t in want]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
