"""The placement pitfall: a loader puts the initrd, and its own tables,
inside the kernel's decompression window.  The test loader
(framework.pvhload) does exactly that, as a loader that trusts a too-small
ELF would: the image's segments at their addresses, the initrd (24 MiB,
incompressible) at 32 MiB, past the compressed kernel, and the start_info,
memmap and cmdline (framework.layouts.own(tables=)) after it.  The stub must
move the initrd out and copy the rest, or stop with a message that names
the overlap.
"""
import random
import re

import pytest

from e820 import isa_rule, stub_memmap
from framework import images, layouts, linux, probe, pvhload, qemu, tool as pvhstub

pytestmark = pytest.mark.boot

CMDLINE = "console=ttyS0 panic=-1 overlap=yes"
RD = 0x2000000
DOM0_WARNING = ("pvhstub: warning: this domain is dom0 (SIF_INITDOMAIN), but Linux entered at its native entry "
                "never learns it and runs as an unprivileged domain; boot dom0 through a CONFIG_PVH kernel's own "
                "PVH entry (its vmlinux) instead")


def overlap_boot(work, cloud_kernel, memory, flags=0, debug=True, timeout=180, icount=True):
    image = pvhstub.wrap(cloud_kernel, work / "cloud.pvh")
    initrd = images.initrd(work / "initrd.cpio", 24)
    info = pvhstub.inspect(image)
    loads = pvhstub.segments(info)
    # The payload segment: [paddr, paddr + filesz) is the compressed kernel,
    # [paddr, paddr + memsz) the decompression window.
    payload = loads[-1]
    file_end, win_end = payload["paddr"] + payload["filesz"], payload["paddr"] + payload["memsz"]
    size = initrd.stat().st_size
    tables = (RD + size + 0xfffff) & ~0xfffff
    assert RD >= file_end and tables + 0x10000 <= win_end, \
        "the test's addresses do not fit in the window [0x%x, 0x%x)" % (file_end, win_end)
    layout = layouts.own(memory=memory, cmdline=CMDLINE + (" pvhstub.debug" if debug else ""),
                         initrd=(RD, initrd.read_bytes()), tables=tables, flags=flags)
    b = pvhload.boot(work, work / "console.log", layout, info["e_entry"],
                     pvhstub.placed(image, info), timeout=timeout,
                     extra=qemu.ICOUNT if icount else [])
    return b, size


def test_probe_initrd_moves(work, probe_kernel):
    """The same layout for the probe kernel, its window made 48 MiB: the
    initrd (2 MiB) and the tables in it, the initrd moved out whole, the
    tables read before the kernel's window is touched."""
    bz = images.with_header(probe_kernel, work / "probe.bzImage", init_size=48 << 20)
    image = pvhstub.wrap(bz, work / "probe.pvh")
    info = pvhstub.inspect(image)
    loads = pvhstub.segments(info)
    window = (loads[-1]["paddr"], loads[-1]["paddr"] + loads[-1]["memsz"])
    rd_at = window[0] + (16 << 20)
    initrd = random.Random(5).randbytes(2 << 20)
    tables = rd_at + len(initrd) + (1 << 20)
    assert loads[-1]["paddr"] + loads[-1]["filesz"] <= rd_at and tables + 0x10000 <= window[1], window
    layout = layouts.own(cmdline=CMDLINE + " pvhstub.debug", initrd=(rd_at, initrd), tables=tables)
    b = pvhload.boot(work, work / "console.log", layout, info["e_entry"],
                     pvhstub.placed(image, info), timeout=60)
    moved = re.search(r"pvhstub: moving initrd \[0x%x, 0x%x\) out of the decompression window to (0x[0-9a-f]+)"
                      % (rd_at, rd_at + len(initrd)), b.console)
    assert moved, "the stub did not say it moved the initrd out of [0x%x, 0x%x)\n%s" % (window + (b.tail(),))
    to = int(moved.group(1), 16)
    assert to >= window[1] or to + len(initrd) <= window[0], "moved into the window: 0x%x" % to
    bad = probe.mismatches(b.console, b.rc, isa_rule(stub_memmap(b.console)), CMDLINE, (to, initrd))
    assert not bad, "\n".join(bad) + "\n" + b.tail()


@pytest.mark.linux
def test_initrd_moves(work, cloud_kernel):
    """Room above the window: the initrd moves and arrives intact."""
    b, size = overlap_boot(work, cloud_kernel, 512)
    linux.assert_boot(b, CMDLINE)
    assert re.search(r"pvhstub: moving initrd \[0x%x, 0x%x\) out of the decompression window" % (RD, RD + size),
                     b.console), "the stub did not say it moved the initrd\n" + b.tail()


@pytest.mark.linux
def test_no_room(work, cloud_kernel):
    """No room anywhere: a clear panic that names the overlap, then a clean stop."""
    b, _ = overlap_boot(work, cloud_kernel, 80, debug=False, timeout=120, icount=False)
    assert b.rc == 3, "QEMU did not exit 3 after the panic\n" + b.tail()
    assert re.search(r"pvhstub: PANIC: initrd \[0x2000000, .*\) must move \(decompression window "
                     r"\[0x1000000, 0x[0-9a-f]*\), limit 0x[0-9a-f]*\), but no free RAM", b.console), b.tail()
    assert "Linux version" not in b.console, b.tail()


@pytest.mark.linux
def test_dom0_warns(work, cloud_kernel):
    """dom0, honestly: a start_info with SIF_INITDOMAIN (as Xen gives dom0)
    and a Linux payload: the stub warns once that Linux entered natively
    runs as an unprivileged domain, and boots on."""
    b, _ = overlap_boot(work, cloud_kernel, 512, flags=layouts.SIF_INITDOMAIN | 1)
    assert len(re.findall("^" + re.escape(DOM0_WARNING) + "$", b.console, re.M)) == 1, b.tail()
    linux.assert_boot(b, CMDLINE)


# The stub's physical KASLR must keep the kernel off the initrd the loader
# placed.  In 128 MiB, with a 6 MiB initrd at 64 MiB, 25 of the 34 physical
# slots of Debian's cloud kernel (46 MiB, from 16 MiB, 2 MiB apart) overlap
# it: ten boots that all miss them by chance happen once in a million.
KASLR_RD, KASLR_BOOTS = 0x4000000, 10


@pytest.mark.linux
def test_kaslr_avoids_initrd(work, cloud_kernel):
    image = pvhstub.wrap(cloud_kernel, work / "full.pvh", ["--decompress", "--kaslr", "full"])
    initrd = images.initrd(work / "initrd.cpio", 4)
    info = pvhstub.inspect(image)
    segments = pvhstub.placed(image, info)
    rd = (KASLR_RD, KASLR_RD + initrd.stat().st_size)
    seen = set()
    for i in range(KASLR_BOOTS):
        layout = layouts.own(memory=128, cmdline=CMDLINE + " pvhstub.debug",
                             initrd=(KASLR_RD, initrd.read_bytes()))
        b = pvhload.boot(work, work / ("boot-%d.log" % i), layout, info["e_entry"], segments, cpu="max",
                         timeout=180, extra=qemu.ICOUNT)
        linux.assert_boot(b, CMDLINE)
        at = linux.where(b.console)
        assert at, "init did not say where the kernel runs\n" + b.tail()
        kernel = (at[1], at[1] + info["kaslr"]["kernel_bytes"])
        assert kernel[1] <= rd[0] or kernel[0] >= rd[1], \
            "the kernel [0x%x, 0x%x) overlaps the initrd [0x%x, 0x%x)\n%s" % (kernel + rd + (b.tail(),))
        seen.add(at[1])
    assert len(seen) >= 2, "ten boots, one physical slot: 0x%x" % seen.pop()
