"""compare(text, STUB, OWN) (tests/xen/test_xen.py): the same kernel, the same xl config, as two
PVH domUs: STUB entered through the stub, OWN through Linux's own PVH entry.
Their kernel logs (init prints dmesg as "PVHSTUB-KMSG: " lines with kmsg=1)
are normalized (timestamps dropped, every number made N, every hex number
H) and compared as multisets: every line one boot has more often than the
other must be a difference listed in EXPECTED, with its reason; any other
fails.
"""
import re
from collections import Counter

# (which boot prints it, a pattern of the normalized line, why)
EXPECTED = [
    ("stub", r"^Booting paravirtualized kernel on Xen PVH$",
     "x86_init.oem.banner: Linux's own PVH entry (xen_pvh_init) installs xen_banner; entered "
     "natively, Linux keeps default_banner, which says 'paravirtualized'"),
    ("own", r"^Booting kernel on Xen PVH$", "xen_banner's first line (see above)"),
    ("own", r"^Xen version: N\.N\.N", "xen_banner's second line: only Linux's own PVH entry prints it"),
    ("stub", r"^platform_pci_unplug: Xen Platform PCI: unrecognised magic value$",
     "xen_unplug_emulated_devices() runs before the late PVH detection, so xen_pvh_domain() is "
     "still false and it reads the platform device's magic I/O port, which a PVH domU does not "
     "have. Harmless. xen_emul_unplug=never would skip the probe, but the stub does not add it: "
     "for a kernel without CONFIG_XEN_PVH it would also turn the PV devices off"),
    ("both", r"^acpi LNXCPU:H: Still not present$",
     "both boots print one line per ACPI processor object of a vCPU that is not online (xl's "
     "tables list the domain's maximum); how many reach the log before init reads it varies "
     "from boot to boot (39 against 42, then 1 against 0, in two runs)"),
    ("stub", r"^eN: update \[mem H-H\] usable ==> usable$",
     "the stub's start_info copy is a setup_data node (type 0x69737670): Linux reserves every "
     "node (e820__reserve_setup_data, E820_TYPE_RESERVED_KERN, which prints as usable)"),
    ("stub", r"^extended physical RAM map:$", "then it prints the map again (same node)"),
    ("stub", r"^reserve setup_data: \[mem H-H\] ", "the map printed again, entry by entry (same node)"),
    ("both", r"^hrtimer: interrupt took N ns$|^clocksource: .*(unstable|watchdog)|"
     r"^sched: RT throttling activated$", "timing noise under QEMU TCG, either boot"),
]


def kmsg(text, name):
    lines = re.findall(r"^DOMU-CONSOLE %s: PVHSTUB-KMSG: (.*)$" % re.escape(name), text, re.M)
    return [normalize(l) for l in lines]


def normalize(line):
    line = re.sub(r"^\[\s*\d+\.\d+\]\s*", "", line)
    line = re.sub(r"0x[0-9a-fA-F]+", "H", line)
    line = re.sub(r"LNXCPU:[0-9a-fA-F]+", "LNXCPU:H", line)
    line = re.sub(r"\b[0-9a-fA-F]{8,}\b", "H", line)
    line = re.sub(r"\d+", "N", line)
    return re.sub(r"\s+", " ", line).strip()


def explain(side, line):
    for who, pattern, why in EXPECTED:
        if who in (side, "both") and re.search(pattern, line):
            return why
    return None


def compare(text, stub_name, own_name):
    """The lines only one boot has, which no EXPECTED difference explains
    (printed, with the explained ones and their reasons)."""
    stub, own = Counter(kmsg(text, stub_name)), Counter(kmsg(text, own_name))
    if not stub or not own:
        return ["no kernel log from %s (%d lines) or %s (%d lines)"
                % (stub_name, sum(stub.values()), own_name, sum(own.values()))]
    bad = []
    for side, extra in (("stub", stub - own), ("own", own - stub)):
        for line, n in sorted(extra.items()):
            why = explain(side, line)
            if why:
                print("expected: only the %s boot (x%d): %s\n    why: %s" % (side, n, line, why))
            else:
                bad.append("unexplained, only the %s boot (x%d): %s" % (side, n, line))
    print("%d normalized lines through the stub, %d through Linux's own entry, %d unexplained"
          % (sum(stub.values()), sum(own.values()), len(bad)))
    return bad
