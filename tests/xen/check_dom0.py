"""The probe as Xen's PVH dom0 (tests/xen/test_xen.py): check(verdict, ...).

- the stub got start_info v0 with SIF_PRIVILEGED|SIF_INITDOMAIN and took the
  memory map from XENMEM_memory_map;
- the probe's e820 is that map after the ISA-hole rule;
- that map is consistent with the host map Xen printed: every reserved or
  ACPI range of the host is there, and the usable RAM adds up to dom0_mem
  (Xen 4.17 release builds do not print dom0's own map);
- subarch 2, with hardware_subarch_data pointing at a start_info magic;
- the cmdline is the module's arguments without our pvhstub.* options;
- the initrd (module 1) arrived whole: its CRC-32 matches.
"""
import re
import zlib

from e820 import isa_rule, sanitize, show, stub_memmap


def check(verdict, text, data, cmdline, dom0_mib):
    """TEXT: Xen's console; DATA: the initrd's bytes; VERDICT(ok, what) takes each check."""
    probe = dict(l.split(" ", 1) for l in re.findall(r"^\(d0\) probe: (\S+ .*)$", text, re.M)
                 if not l.startswith(("e820 ", "hdr ", "setup_data ")))
    probe_e820 = [(int(a, 16), int(a, 16) + int(s, 16), int(t)) for a, s, t in re.findall(
        r"^\(d0\) probe: e820 0x([0-9a-f]+) 0x([0-9a-f]+) (\d+)$", text, re.M)]
    xen_map = stub_memmap(text)
    names = {"usable": 1, "reserved": 2, "ACPI data": 3, "ACPI NVS": 4, "unusable": 5}
    host = [(int(a, 16), int(e, 16) + 1, names.get(n, n)) for a, e, n in re.findall(
        r"^\(XEN\)  \[([0-9a-f]+), ([0-9a-f]+)\] \((.*)\)$", text, re.M)]
    verdict("(d0) probe: end" in text, "the probe ran to its end as dom0")
    verdict("warning: this domain is dom0" not in text,
            "no dom0 warning: the payload is not Linux (it would be for a wrapped Linux kernel)")
    m = re.search(r"pvhstub: start_info v(\d+): flags 0x([0-9a-f]+)", text)
    verdict(bool(m) and m.group(1) == "0" and int(m.group(2), 16) & 3 == 3,
            "start_info v0 with SIF_PRIVILEGED|SIF_INITDOMAIN (%s)" % (m.group(0) if m else "none"))
    verdict("memmap from XENMEM_memory_map" in text and bool(xen_map),
            "the map came from XENMEM_memory_map (%d entries)" % len(xen_map))
    verdict(bool(probe_e820) and sanitize(probe_e820) == sanitize(isa_rule(xen_map)),
            "the probe's e820 is Xen's dom0 map after the ISA-hole rule")
    if sanitize(probe_e820) != sanitize(isa_rule(xen_map)):
        print("  probe:\n%s\n  xen:\n%s" % (show(sanitize(probe_e820)), show(sanitize(isa_rule(xen_map)))))
    usable = sum(e - a for a, e, t in xen_map if t == 1)
    verdict(bool(host) and abs(usable - (dom0_mib << 20)) < (1 << 20),
            "dom0's usable RAM is dom0_mem: %d bytes for %d MiB" % (usable, dom0_mib))
    kept = all(any(a <= ha and he <= e and t != 1 for a, e, t in xen_map)
               for ha, he, ht in host if ht != 1)
    verdict(bool(host) and kept, "every non-RAM range of the host map Xen printed is non-RAM for dom0")
    verdict(probe.get("hardware_subarch") == "2", "hardware_subarch is 2 (Xen)")
    verdict(probe.get("hardware_subarch_data_magic") == "0x336ec578",
            "hardware_subarch_data points at a start_info (magic %s)" % probe.get("hardware_subarch_data_magic"))
    verdict(probe.get("type_of_loader") == "0x90", "type_of_loader is 0x90 (Xen)")
    verdict(probe.get("cmdline") == '"%s"' % cmdline, "the cmdline came through Xen's module arguments: %s" % probe.get("cmdline"))
    verdict(probe.get("initrd_size") == hex(len(data)) and probe.get("initrd_crc32") == "0x%08x" % zlib.crc32(data),
            "the initrd arrived whole (size %s, CRC-32 %s)" % (probe.get("initrd_size"), probe.get("initrd_crc32")))
