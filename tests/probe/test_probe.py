"""Native versus PVH: the probe kernel (tests/tools/probe, a bzImage of our own
that dumps its zero page on the serial console and exits QEMU with 33)
booted natively (QEMU's Linux loader, SeaBIOS) and through the stub must see
the same zero page, but for the differences compare.py names.  Then the
same for real Debian kernels, and the probe under other loaders' maps.
"""
import re
import struct

import pytest

import compare
import linux_compare
from e820 import Verdicts
from framework import images, layouts, probe, pvhload, qemu, tool as pvhstub

pytestmark = pytest.mark.boot

ARGS = 'console=ttyS0 probe "quoted arg" x=1'
LONG = ARGS + " " + " ".join("opt%04d=%s" % (i, "v" * 6) for i in range(130))
EXITED = probe.EXITED


def with_protocol(kernel, out, version):
    """The probe with its boot protocol version patched (it is relocatable)."""
    d = bytearray(kernel.read_bytes())
    struct.pack_into("<H", d, 0x206, version)
    out.write_bytes(bytes(d))
    return out


def check(verdict_fn, *args):
    bad = Verdicts()
    try:
        verdict_fn(bad, *args)
    except compare.Incomplete as e:
        bad(False, str(e))
    assert not bad, "\n".join(bad)


# Each row: memory MiB, with an initrd, the command line, the boot protocol
# (None: the probe's own).  Protocols 2.05 and 2.09: the wrap loads the
# probe at 1 MiB with a derived window and moves the stub above; the zero
# pages must agree but for the header fields the old protocol lacks.
DUMPS = {
    "128M": (128, True, ARGS, None),
    "1G": (1024, True, ARGS, None),
    "5G": (5120, True, ARGS, None),
    "long-cmdline": (1024, True, LONG, None),
    "no-initrd": (256, False, ARGS, None),
    "protocol-2.05": (256, True, ARGS, 0x205),
    "protocol-2.09": (256, True, ARGS, 0x209),
}


@pytest.mark.parametrize("row", list(DUMPS))
def test_native_vs_pvh(work, probe_kernel, row):
    memory, with_initrd, cmdline, version = DUMPS[row]
    native = with_protocol(probe_kernel, work / "probe.bzImage", version) if version else probe_kernel
    r = pvhstub.run(["wrap", native, "-o", work / "probe.pvh"])
    assert r.rc == 0, str(r)
    if version:
        assert re.search(r"warning: boot protocol 2\.%02x has no init_size: the image reserves \[0x100000, "
                         % (version & 0xff), r.stderr.decode()), str(r)
    run = dict(memory=memory, initrd=probe.initrd(work / "initrd.bin", 7)[0] if with_initrd else None, append=cmdline, timeout=60)
    n = qemu.boot(native, work / "native.log", **run)
    p = qemu.boot(work / "probe.pvh", work / "pvh.log", **run)
    assert n.rc == EXITED, n.tail()
    assert p.rc == EXITED, p.tail()
    check(compare.native, n.console, p.console)


def test_microvm_memmap(work, probe_kernel):
    """The probe under PVH on microvm: its e820 is the memmap QEMU passed."""
    image = pvhstub.wrap(probe_kernel, work / "probe.pvh")
    b = qemu.boot(image, work / "console.log", machine="microvm", initrd=probe.initrd(work / "initrd.bin", 7)[0],
                  append=ARGS + " pvhstub.debug", timeout=60)
    assert b.rc == EXITED, b.tail()
    check(compare.memmap, b.console)


# Machines whose firmware may leave its last line open on COM1: -nographic turns on
# SeaBIOS's serial console on pc and q35, which ends "Booting from ROM.." without a newline.
FIRST_LINE = ["pc", "q35", "microvm"]


@pytest.mark.parametrize("machine", FIRST_LINE)
def test_first_line_begins_a_line(work, probe_kernel, machine):
    """Every line the stub prints begins a line of the console, whatever the firmware left."""
    image = pvhstub.wrap(probe_kernel, work / "probe.pvh")
    b = qemu.boot(image, work / "console.log", machine=machine, memory=256, append=ARGS, timeout=60,
                  extra=["-nographic"])
    assert b.rc == EXITED, b.tail()
    assert re.search(r"^pvhstub: start_info 0x", b.console, re.M), b.tail()
    assert not re.search(r".pvhstub: ", b.console), b.tail()


def test_cmdline_of_newlines(work, probe_kernel):
    """The loader's cmdline is untrusted, and pvhstub.debug prints it: 300
    newlines in it once overflowed the stub's COM1 line buffer (CR before
    each LF) and the guest died.  The boot must end normally, the line
    printed whole."""
    image = pvhstub.wrap(probe_kernel, work / "probe.pvh")
    b = qemu.boot(image, work / "console.log", memory=256, append=ARGS + " pvhstub.debug x" + "a\n" * 300 + "y",
                  timeout=60)
    assert b.rc == EXITED and re.search(r"^probe: end", b.console, re.M), b.tail()
    assert len(re.findall(r"^a$", b.console, re.M)) >= 100, b.tail()


@pytest.mark.parametrize("entries", [32, 200])
def test_memmap_entries(work, probe_kernel, entries):
    """Many memmap entries, end to end: the test loader hands the stub 32 or
    200 entries; past 128 they go in a SETUP_E820_EXT record, which the
    probe walks."""
    image = pvhstub.wrap(probe_kernel, work / "probe.pvh")
    info = pvhstub.inspect(image)
    layout = layouts.own(cmdline=ARGS + " pvhstub.debug", entries=entries)
    b = pvhload.boot(work, work / "console.log", layout, info["e_entry"],
                     pvhstub.placed(image, info), timeout=60)
    assert b.rc == EXITED, b.tail()
    assert "probe: e820_entries %d" % min(entries + 1, 128) in b.console, b.tail()
    if entries > 128:
        assert "probe: setup_data type 1 len" in b.console, b.tail()
    check(compare.memmap, b.console)


# Real kernels, natively and through the stub: Debian 12's 6.1, Debian 13's
# 6.12 and sid's 7.x cloud kernels, and sid's generic one.
LINUX = ["cloud", "cloud-trixie", "cloud-sid", "generic-sid"]


@pytest.mark.linux
@pytest.mark.parametrize("name", LINUX)
def test_linux_native_vs_pvh(work, kernel, initrd, name):
    cmdline = "console=ttyS0 panic=-1 native=vs-pvh"
    k = kernel(name)
    image = pvhstub.wrap(k, work / "k.pvh")
    run = dict(initrd=initrd, append=cmdline, timeout=180, extra=qemu.ICOUNT)
    n = qemu.boot(k, work / "native.log", **run)
    p = qemu.boot(image, work / "pvh.log", **run)
    assert n.rc != 124, n.tail()
    assert p.rc != 124, p.tail()
    bad = Verdicts()
    linux_compare.compare(bad, n.console, p.console, cmdline)
    assert not bad, "%s: %s\n%s" % (images.package(k), "\n".join(bad), p.tail())
