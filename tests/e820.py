"""e820 helpers for the tests: the stub's ISA-hole rule, and Linux's sanitizing.

isa_rule(entries): what the stub does to a loader's map: RAM is cut out of
    [0xa0000, 0x100000), and the parts of that range no non-RAM entry covers
    become reserved.  Sorted by address; otherwise unchanged.
sanitize(entries): what Linux does before it prints "BIOS-e820": overlaps go
    to the higher type, and touching entries of one type merge.
stub_memmap(text), kernel_e820(text): the same maps read back from a console log.
Entries are (start, end, type) tuples, end exclusive.
"""
import re

ISA = (0xA0000, 0x100000)
NAMES = {1: "usable", 2: "reserved", 3: "ACPI data", 4: "ACPI NVS", 5: "unusable",
         6: "disabled", 7: "persistent (type 7)"}
# Linux 6.16 and later name two types otherwise, after a column of two
# spaces ("[mem ...]  System RAM"), and print the gaps ("[gap ...]").
NAMES_6_16 = {1: "System RAM", 2: "device reserved"}


def isa_rule(entries):
    out = []
    for start, end, typ in entries:
        if end <= start:
            continue
        if typ == 1 and start < ISA[1] and end > ISA[0]:
            if start < ISA[0]:
                out.append((start, ISA[0], typ))
            if end > ISA[1]:
                out.append((max(start, ISA[1]), end, typ))
        else:
            out.append((start, end, typ))
    out.sort(key=lambda e: e[0])
    at = ISA[0]
    holes = []
    for start, end, typ in out:
        if typ == 1 or end <= at:
            continue
        if start >= ISA[1] or at >= ISA[1]:
            break
        if start > at:
            holes.append((at, start, 2))
        at = end
    if at < ISA[1]:
        holes.append((at, ISA[1], 2))
    return sorted(out + holes, key=lambda e: e[0])


def sanitize(entries):
    cuts = sorted({p for e in entries for p in e[:2]})
    out = []
    for lo, hi in zip(cuts, cuts[1:]):
        types = [t for a, e, t in entries if a <= lo and e >= hi]
        if not types:
            continue
        t = max(types)
        if out and out[-1][1] == lo and out[-1][2] == t:
            out[-1] = (out[-1][0], hi, t)
        else:
            out.append((lo, hi, t))
    return out


def kernel_type(name):
    name = name.strip()
    for names in (NAMES, NAMES_6_16):
        for k, v in names.items():
            if v == name:
                return k
    return int(name.split()[-1]) if name.startswith("type ") else name


def show(entries):
    return "\n".join("    [0x%x, 0x%x) type %s" % e for e in entries)


def stub_memmap(text):
    """The loader's memmap, as the stub prints it with pvhstub.debug."""
    return [(int(a, 16), int(a, 16) + int(s, 16), int(t)) for a, s, t in re.findall(
        r"pvhstub:   memmap\[\d+\] addr 0x([0-9a-f]+) size 0x([0-9a-f]+) type (\d+)", text)]


def kernel_e820(text):
    """The kernel's "BIOS-e820" lines, as the test initrd's init prints them."""
    return [(int(a, 16), int(e, 16) + 1, kernel_type(n)) for a, e, n in re.findall(
        r"^PVHSTUB-DMESG: BIOS-e820: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] (.*)$", text, re.M)]


class Verdicts(list):
    """Each check prints PASS or FAIL; the list keeps the failed ones;
    status() is 1 if any failed."""

    def __call__(self, ok, what, detail=""):
        print(("PASS: " if ok else "FAIL: ") + what + (" (%s)" % detail if detail and not ok else ""))
        if not ok:
            self.append(what + (" (%s)" % detail if detail else ""))

    def status(self):
        return 1 if self else 0
