"""The xl PVH domUs of a Xen run (tests/xen/test_xen.py), read from its log.
Each function takes VERDICT(ok, what), which records each check.

The serial log holds Xen's console: the stub's and the probe's port 0xe9
output as "(dN) ...", and dom0's prints, including each domU's hvc0 console
log as "DOMU-CONSOLE NAME: ...".
Linux domU: init reached over hvc0, /proc/cmdline, the kernel's e820 against
the memmap Xen's toolstack built (printed by the stub), "Booting
paravirtualized kernel on Xen PVH", subarch Xen, and the 64 MiB initrd
payload's md5 (placement: Xen loads modules right after the image); its PV
devices: the file on the xvda disk (blkfront, blkback in dom0) has DISK_MD5,
and a ping to dom0 over eth0 (netfront, netback) gets its replies.
Probe domU: its zero page's e820 against the memmap, its cmdline and initrd.
Own domU: the cloud kernel's vmlinux through Linux's own PVH entry, for
compare_dmesg.py (the comparison is a check of its own); here, its init and
its PV devices, as for the Linux domU.
KASLR domU (--decompress --kaslr full, vcpus = 2): init reached, both vCPUs
up, and the kernel runs
where the stub says it put it: startup_64 at 0xffffffff81000000 plus the
stub's virtual offset, "Kernel code" at its physical slot.
UKI domU (a UKI built by ukify, wrapped; no ramdisk or command line in
its xl config): as the Linux domU, and the stub's line says the initrd and
command line came from the image.
Tiny domU (no Xen support in the kernel): the stub's 32-bit handoff, the
kernel's command line and "Run /init as init process" on its port 0xe9
console.
"""
import re

from e820 import isa_rule, kernel_e820, sanitize, show, stub_memmap


def domain_ids(text, verdict, want):
    created = re.findall(r"^DOM0-CREATE: (\S+)", text, re.M)
    verdict(created == want, "dom0 created the %d domUs: %s" % (len(want), created))
    for line in re.findall(r"^DOM0-(?:ERROR|XL|STOPPED): .*$", text, re.M):
        print("  note: " + line)
    # Domain ids: the order of creation, from 1.
    return {name: i + 1 for i, name in enumerate(created)}


def xen_lines(text, ids, name):
    return "\n".join(re.findall(r"^\(d%d\) (.*)$" % ids.get(name, -1), text, re.M))


def console_of(text, name):
    return "\n".join(re.findall(r"^DOMU-CONSOLE %s: (.*)$" % re.escape(name), text, re.M))


def linux_stub(verdict, text, ids, name, cmdline, payload):
    """A Linux domU entered through the stub."""
    console, stub = console_of(text, name), xen_lines(text, ids, name)
    verdict(re.search(r"pvhstub: start_info 0x[0-9a-f]+ v1 on Xen, ", stub) is not None,
            "%s: the stub ran and saw Xen" % name)
    verdict(re.search(r"pvhstub: start_info .* subarch 2, \d\d-bit entry", stub) is not None,
            "%s: subarch Xen (64-bit kernel on Xen)" % name)
    verdict("PVHSTUB-INIT: reached init" in console, "%s: reached init, its output came over hvc0" % name)
    m = re.search(r"^PVHSTUB-CMDLINE: (.*)$", console, re.M)
    verdict(bool(m) and m.group(1) == cmdline, "%s: /proc/cmdline is %r" % (name, m.group(1) if m else None))
    verdict("Booting paravirtualized kernel on Xen PVH" in console,
            "%s: 'Booting paravirtualized kernel on Xen PVH'" % name)
    kernel = kernel_e820(console)
    want = sanitize(isa_rule(stub_memmap(stub)))
    verdict(bool(kernel) and kernel == want,
            "%s: the kernel's e820 is the memmap Xen built (%d entries)" % (name, len(kernel)))
    if kernel != want:
        print("  kernel:\n%s\n  memmap:\n%s" % (show(kernel), show(want)))
    if payload:
        m = re.search(r"^PVHSTUB-PAYLOAD: (\w+) (\w+)$", console, re.M)
        verdict(bool(m) and m.group(1) == m.group(2), "%s: the initrd payload arrived intact (md5)" % name)


def carried(verdict, text, ids, name):
    """A wrapped UKI's domU, whose xl config names no ramdisk and no command
    line: the stub says the initrd and command line came from the image."""
    stub = xen_lines(text, ids, name)
    verdict(re.search(r"^pvhstub: carried: initrd 0x[0-9a-f]+ \+ the loader's 0x0, command line the image's$", stub,
                      re.M) is not None, "%s: the initrd and command line came from the image (the stub's line)" % name)
    verdict("Freeing initrd memory" in console_of(text, name), "%s: the kernel used the carried initrd" % name)


def pv_devices(verdict, text, name, disk_md5, own):
    """The PV disk and network, through the stub or through Linux's own entry."""
    console = console_of(text, name)
    if own:
        verdict("PVHSTUB-INIT: reached init" in console, "%s: reached init, its output came over hvc0" % name)
        verdict("Booting kernel on Xen PVH" in console, "%s: 'Booting kernel on Xen PVH' (xen_banner)" % name)
    m = re.search(r"^PVHSTUB-DISK: (.*)$", console, re.M)
    verdict(bool(m) and m.group(1) == "/dev/xvda " + disk_md5,
            "%s: PV disk: payload.bin on xvda has md5 %s (%s)" % (name, disk_md5, m.group(1) if m else None))
    m = re.search(r"^PVHSTUB-NET: (.*)$", console, re.M)
    got = re.search(r"(\d+) packets transmitted, (\d+) packets received", m.group(1)) if m else None
    verdict(bool(got) and int(got.group(2)) > 0,
            "%s: PV network: dom0 answers pings over eth0 (%s)" % (name, m.group(1) if m else None))


def probe(verdict, text, ids, cmdline):
    """The probe kernel as a domU: its zero page."""
    def memmap(name):
        return stub_memmap(xen_lines(text, ids, name))

    probe = xen_lines(text, ids, "probe")
    fields = dict(l.split(" ", 1) for l in re.findall(r"^probe: (\S+ .*)$", probe, re.M)
                  if not l.startswith(("e820 ", "hdr ", "setup_data ")))
    e820 = [(int(a, 16), int(a, 16) + int(s, 16), int(t)) for a, s, t in re.findall(
        r"^probe: e820 0x([0-9a-f]+) 0x([0-9a-f]+) (\d+)$", probe, re.M)]
    verdict("probe: end" in probe, "probe: dumped its zero page")
    verdict(bool(e820) and sanitize(e820) == sanitize(isa_rule(memmap("probe"))),
            "probe: its e820 is the start_info memmap Xen built, after the ISA-hole rule")
    verdict(fields.get("cmdline") == '"%s"' % cmdline, "probe: cmdline %s" % fields.get("cmdline"))
    verdict(fields.get("initrd_size", "0x0") != "0x0" and "initrd_crc32" in fields,
            "probe: got its initrd (%s bytes)" % fields.get("initrd_size"))


def kaslr(verdict, text, ids):
    """The cloud kernel wrapped with --decompress --kaslr full, 2 vCPUs."""
    console = console_of(text, "kaslr")
    m = re.search(r"pvhstub: start_info 0x[0-9a-f]+ v1 on Xen, .* 64-bit entry 0x[0-9a-f]+, "
                  r"KASLR ([^,]+), virtual \+0x([0-9a-f]+), physical 0x([0-9a-f]+)$", xen_lines(text, ids, "kaslr"), re.M)
    verdict(m is not None, "kaslr: the stub randomized the kernel on Xen (%s)" % (m.group(0)[-60:] if m else None))
    verdict("PVHSTUB-INIT: reached init" in console, "kaslr: reached init, its output came over hvc0")
    verdict("smp: Brought up 1 node, 2 CPUs" in console, "kaslr: both vCPUs up (vcpus = 2)")
    k = re.search(r"^PVHSTUB-KERNEL: ([0-9a-f]{16}) ([0-9a-f]+)-", console, re.M)
    if m and k:
        virt, phys = 0xffffffff81000000 + int(m.group(2), 16), int(m.group(3), 16)
        verdict(int(k.group(1), 16) == virt and int(k.group(2), 16) == phys,
                "kaslr: startup_64 at 0x%s, Kernel code at 0x%s: where the stub put them (0x%x, 0x%x)"
                % (k.group(1), k.group(2), virt, phys))
    else:
        verdict(False, "kaslr: the kernel reported where it runs (PVHSTUB-KERNEL)")


def tiny(verdict, text, ids, cmdline):
    """The tiny kernel (no CONFIG_XEN, no CONFIG_PVH): its console is port 0xe9."""
    tiny = xen_lines(text, ids, "tiny")
    verdict(re.search(r"pvhstub: start_info 0x[0-9a-f]+ v1 on Xen, .* subarch 2, 32-bit entry", tiny) is not None,
            "tiny: the stub ran on Xen and entered the kernel's 32-bit entry")
    verdict(re.search(r"^\[ *[0-9.]+\] Command line: %s$" % re.escape(cmdline), tiny, re.M) is not None,
            "tiny: the kernel got its command line")
    verdict(re.search(r"^\[ *[0-9.]+\] Run /init as init process$", tiny, re.M) is not None,
            "tiny: a kernel with no Xen support reached init")
