"""What a Linux boot through the stub must show, read from its console.

The test initrd's init (tests/initrd/init) prints lines that start with
"PVHSTUB-": init reached, /proc/cmdline, the kernel's dmesg, where _text
and the kernel code run, the paging depth, the initrd payload's md5.  The
stub prints its own line ("pvhstub: start_info ...") and, with
pvhstub.debug, the loader's memmap.  tests/boot/check.py is the same check
for the shell suites.
"""
import os
import re

from e820 import isa_rule, kernel_e820, sanitize, show, stub_memmap

STUB_LINE = re.compile(r"^pvhstub: start_info 0x[0-9a-f]+ v1, e820 .*$", re.M)


def problems(console, cmdline, payload=True):
    """What is wrong with a boot to init: a list of sentences, empty if none."""
    bad = []
    if not STUB_LINE.search(console):
        bad.append("the stub did not print its start_info line")
    if "PVHSTUB-INIT: reached init" not in console:
        bad.append("the kernel did not reach init")
    m = re.search(r"^PVHSTUB-CMDLINE: (.*)$", console, re.M)
    got = m.group(1) if m else None
    if got != cmdline:
        bad.append("/proc/cmdline is %r, not %r" % (got, cmdline))
    # The kernel unpacked the initrd (and init, checked above, is the initrd's own).
    if not re.search(r"^PVHSTUB-DMESG: Freeing initrd memory: [1-9]", console, re.M):
        bad.append("the kernel did not use the initrd (no 'Freeing initrd memory')")
    if payload:
        m = re.search(r"^PVHSTUB-PAYLOAD: (\w+) (\w+)$", console, re.M)
        if not m or m.group(1) != m.group(2):
            bad.append("the initrd's payload checksum: %s" % (m.group(0) if m else "no PVHSTUB-PAYLOAD line"))
    memmap, kernel = stub_memmap(console), kernel_e820(console)
    if not memmap:
        bad.append("the loader's memmap was not printed (pvhstub.debug)")
    if not kernel:
        bad.append("the kernel did not print its e820")
    if memmap and kernel:
        want = sanitize(isa_rule(memmap))
        if kernel != want:
            bad.append("the kernel's e820 is not the loader's memmap:\n  kernel:\n%s\n  wanted:\n%s"
                       % (show(kernel), show(want)))
    return bad


def assert_boot(b, cmdline, payload=True):
    """A boot (qemu.Boot) that reached init with CMDLINE, the initrd and the e820 wanted."""
    assert b.rc != 124, b.tail()
    bad = problems(b.console, cmdline, payload)
    assert not bad, "\n".join(bad) + "\n" + b.tail()


def stub_line(console):
    """The stub's start_info line, or None."""
    m = STUB_LINE.search(console)
    return m.group(0) if m else None


def where(console):
    """(virtual _text, physical 'Kernel code' range) as init prints them, or None."""
    m = re.search(r"^PVHSTUB-KERNEL: ([0-9a-f]{16}) ([0-9a-f]+)-([0-9a-f]+)", console, re.M)
    return (int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16)) if m else None


def paging(console):
    """'5-level' or '4-level', as init reads la57 in /proc/cpuinfo; None if not printed."""
    m = re.search(r"^PVHSTUB-PAGING: (\S+)", console, re.M)
    return m.group(1) if m else None


def stub_placement(console):
    """(virtual offset, physical address) from the stub's KASLR line, or None."""
    m = re.search(r"^pvhstub: .*, virtual \+0x([0-9a-f]+), physical 0x([0-9a-f]+)$", console, re.M)
    return (int(m.group(1), 16), int(m.group(2), 16)) if m else None


def assert_carried(b, parts, loader=0, whose="the image's"):
    """The stub's line for an image that carries an initrd (PARTS: the files
    it joined, each padded to 4 bytes) and maybe a command line: the
    loader's initrd of LOADER bytes after it, the command line WHOSE."""
    own = sum(os.path.getsize(p) + 3 & ~3 for p in parts)
    line = "pvhstub: carried: initrd 0x%x + the loader's 0x%x, command line %s" % (own, loader, whose)
    assert line in b.console, "want %r\n%s" % (line, b.tail())
