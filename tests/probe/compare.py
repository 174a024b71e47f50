#!/usr/bin/env python3
"""Compare two probe dumps, or a probe dump with the loader's memmap.

  compare.py native NATIVE.log PVH.log   the same boot, native and through the stub
  compare.py memmap PVH.log              the probe's e820 against the memmap the
                                         stub printed (pvhstub.debug)

Every "probe: KEY VALUE" line must be equal on both sides, except:

  allowed differences (what PVH and native loaders legitimately do differently):
    type_of_loader          QEMU's native loader says 0xb0; the stub 0xff (0x90 on Xen)
    hardware_subarch(_data) the stub's subarch policy (Xen when on Xen)
    the ISA hole            the stub reserves [0xa0000, 0x100000) as Linux's PVH entry does;
                            the native e820 is compared after the same rule (tests/e820.py)
    header fields newer than the kernel's boot protocol
                            the stub passes 0, as an old kernel's own setup code
                            would (it copies only the header it knows); the probe's
                            native setup copies a 2.15 header whatever its version
  placement (addresses each loader picks; their contents are compared instead):
    zero_page, code32_start, cmdline_addr, initrd_addr, acpi_rsdp_addr (the native
    loader leaves it 0 and the RSDP is found by scanning; "rsdp" must match)

Each difference found is printed with its name; an unexplained one fails.  Each side's
handoff state (interrupts, PIC masks, segments, CR0) must also keep the boot protocol's
rules (framework.probe.handoff_mismatches): the native side proves the oracle.
tests/probe/test_probe.py calls native() and memmap().
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from e820 import Verdicts, isa_rule, sanitize, show, stub_memmap  # noqa: E402
from framework import probe  # noqa: E402
from framework.probe import Incomplete  # noqa: E402,F401 (tests/probe/test_probe.py catches it)

ALLOWED = {"type_of_loader", "hardware_subarch", "hardware_subarch_data",
           "hardware_subarch_data_magic"}
PLACEMENT = {"begin", "code32_start", "cmdline_addr", "initrd_addr", "acpi_rsdp_addr"}
# The protocol that added each header field the probe prints (boot.rst).
FIELD_PROTOCOL = {"initrd_addr_max": 0x203, "kernel_alignment": 0x205, "relocatable": 0x205,
                  "cmdline_size": 0x206, "pref_address": 0x20a, "init_size": 0x20a,
                  "xloadflags": 0x20c, "handover_offset": 0x20b, "kernel_info_offset": 0x20f}
DERIVED = {"e820_entries",      # compared through the e820 list itself
           "entry_tsc"}         # when the probe started: differs run to run


def parse(text):
    """The probe's dump (framework.probe.parse), and the memmap the stub printed."""
    fields, e820, setup_data = probe.parse(text)
    return fields, e820, setup_data, stub_memmap(text)


def newer_fields_only(fields, native, pvh):
    """Do the two "hdr" lines differ only in fields the kernel's protocol lacks, 0 on the PVH side?"""
    version = int(fields.get("hdr version", "version 0x20f").split()[1], 16)
    n, p = native.split(), pvh.split()
    if len(n) != len(p) or len(n) % 2:
        return False
    for name, nv, pv in zip(n[0::2], n[1::2], p[1::2]):
        if nv != pv and not (FIELD_PROTOCOL.get(name, 0) > version and int(pv, 0) == 0):
            return False
    return True


def handoff(verdict, side, fields):
    """The CPU and PIC state the kernel was handed keeps the boot protocol's rules; and
    what the stub writes whatever the loader (type_of_loader)."""
    bad = probe.handoff_mismatches(fields) if side == "native" else probe.stub_mismatches(fields)
    verdict(not bad, "%s: the handoff state keeps the boot protocol's rules%s" % (side, "".join("; " + b for b in bad)))


def memmap(verdict, text):
    """The probe's e820 against the memmap the stub printed (pvhstub.debug)."""
    fields, e820, _, memmap = parse(text)
    handoff(verdict, "pvh", fields)
    verdict(bool(memmap), "the stub printed the loader's memmap")
    want = sanitize(isa_rule(memmap))
    got = sanitize(e820)
    verdict(got == want, "the probe's e820 equals the loader's memmap after the ISA-hole rule")
    if got != want:
        print("  probe:\n%s\n  memmap:\n%s" % (show(got), show(want)))


def native(verdict, native_text, pvh_text):
    """The same boot, native and through the stub."""
    nf, ne, ns, _ = parse(native_text)
    pf, pe, ps, _ = parse(pvh_text)
    handoff(verdict, "native", nf)
    handoff(verdict, "pvh", pf)
    for key in sorted(set(nf) | set(pf)):
        n, p = nf.get(key, "(absent)"), pf.get(key, "(absent)")
        if n == p or key in DERIVED:
            continue
        if key.startswith("hdr ") and newer_fields_only(nf, n, p):
            print("allowed difference: %s: fields newer than protocol %s: native %s, pvh %s"
                  % (key, nf.get("hdr version", "?").split()[1], n, p))
        elif key in ALLOWED:
            print("allowed difference: %s: native %s, pvh %s" % (key, n, p))
        elif key in PLACEMENT:
            print("placement: %s: native %s, pvh %s" % (key, n, p))
        else:
            verdict(False, "unexplained difference: %s: native %s, pvh %s" % (key, n, p))
    keys = ["cmdline", "initrd_size", "rsdp", "loadflags"]
    if int(nf.get("initrd_size", "0"), 16):
        keys.append("initrd_crc32")     # only printed when there is an initrd
    for key in keys:
        verdict(key in nf and nf.get(key) == pf.get(key), "%s matches (%s)" % (key, nf.get(key, "absent")[:60]))
    verdict(ns == ps, "setup_data chains match (%s)" % (ns or "none"))
    if ne != pe:
        print("allowed difference: the ISA hole: native e820 has %d entries, pvh %d" % (len(ne), len(pe)))
    verdict(isa_rule(ne) == pe, "the e820 matches, after the ISA-hole rule (%d entries)" % len(pe))
    if isa_rule(ne) != pe:
        print("  native after the rule:\n%s\n  pvh:\n%s" % (show(isa_rule(ne)), show(pe)))


def read(path):
    return open(path, errors="replace").read().replace("\r", "")


def main():
    verdict = Verdicts()
    try:
        if sys.argv[1] == "memmap":
            memmap(verdict, read(sys.argv[2]))
        else:
            native(verdict, read(sys.argv[2]), read(sys.argv[3]))
    except Incomplete as e:
        verdict(False, str(e))
    return verdict.status()


if __name__ == "__main__":
    sys.exit(main())
