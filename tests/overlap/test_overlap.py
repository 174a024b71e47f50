"""The placement pitfall: a loader puts the initrd, and its own tables,
inside the kernel's decompression window.  The test loader
(tests/tools/pvhload.c) does exactly that, as a loader that trusts a
too-small ELF would: the image's segments at their addresses, the initrd
(24 MiB, incompressible) at 32 MiB, past the compressed kernel, and the
start_info, memmap and cmdline (pvhload.tables=) after it.  The stub must
move the initrd out and copy the rest, or stop with a message that names
the overlap.
"""
import re

import pytest

from framework import images, linux, pvhload, qemu, tool as pvhstub

pytestmark = [pytest.mark.boot, pytest.mark.linux]

CMDLINE = "console=ttyS0 panic=-1 overlap=yes"
RD = 0x2000000
DOM0_WARNING = ("pvhstub: warning: this domain is dom0 (SIF_INITDOMAIN), but Linux entered at its native entry "
                "never learns it and runs as an unprivileged domain; boot dom0 through a CONFIG_PVH kernel's own "
                "PVH entry (its vmlinux) instead")


def overlap_boot(work, cloud_kernel, memory, options=(), debug=True, timeout=180, icount=True):
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
    b = pvhload.boot(work, work / "console.log", info["e_entry"],
                     [(s["paddr"], pvhstub.segment_bytes(image, s)) for s in loads],
                     CMDLINE + (" pvhstub.debug" if debug else ""), initrd=initrd, initrd_at=RD,
                     options=["pvhload.tables=0x%x" % tables] + list(options), memory=memory, timeout=timeout,
                     extra=qemu.ICOUNT if icount else [])
    return b, size


def test_initrd_moves(work, cloud_kernel):
    """Room above the window: the initrd moves and arrives intact."""
    b, size = overlap_boot(work, cloud_kernel, 512)
    linux.assert_boot(b, CMDLINE)
    assert re.search(r"pvhstub: moving initrd \[0x%x, 0x%x\) out of the decompression window" % (RD, RD + size),
                     b.console), "the stub did not say it moved the initrd\n" + b.tail()


def test_no_room(work, cloud_kernel):
    """No room anywhere: a clear panic that names the overlap, then a clean stop."""
    b, _ = overlap_boot(work, cloud_kernel, 80, debug=False, timeout=120, icount=False)
    assert b.rc == 3, "QEMU did not exit 3 after the panic\n" + b.tail()
    assert re.search(r"pvhstub: PANIC: initrd \[0x2000000, .*\) must move \(decompression window "
                     r"\[0x1000000, 0x[0-9a-f]*\), limit 0x[0-9a-f]*\), but no free RAM", b.console), b.tail()
    assert "Linux version" not in b.console, b.tail()


def test_dom0_warns(work, cloud_kernel):
    """dom0, honestly: a start_info with SIF_INITDOMAIN (as Xen gives dom0)
    and a Linux payload: the stub warns once that Linux entered natively
    runs as an unprivileged domain, and boots on."""
    b, _ = overlap_boot(work, cloud_kernel, 512, options=["pvhload.flags=0x3"])
    assert len(re.findall("^" + re.escape(DOM0_WARNING) + "$", b.console, re.M)) == 1, b.tail()
    linux.assert_boot(b, CMDLINE)


# The stub's physical KASLR must keep the kernel off the initrd the loader
# placed.  In 128 MiB, with a 6 MiB initrd at 64 MiB, 25 of the 34 physical
# slots of Debian's cloud kernel (46 MiB, from 16 MiB, 2 MiB apart) overlap
# it: ten boots that all miss them by chance happen once in a million.
KASLR_RD, KASLR_BOOTS = 0x4000000, 10


def test_kaslr_avoids_initrd(work, cloud_kernel):
    image = pvhstub.wrap(cloud_kernel, work / "full.pvh", ["--decompress", "--kaslr", "full"])
    initrd = images.initrd(work / "initrd.cpio", 4)
    info = pvhstub.inspect(image)
    segments = [(s["paddr"], pvhstub.segment_bytes(image, s)) for s in pvhstub.segments(info)]
    rd = (KASLR_RD, KASLR_RD + initrd.stat().st_size)
    seen = set()
    for i in range(KASLR_BOOTS):
        b = pvhload.boot(work, work / ("boot-%d.log" % i), info["e_entry"], segments, CMDLINE + " pvhstub.debug",
                         initrd=initrd, initrd_at=KASLR_RD, memory=128, cpu="max", timeout=180, extra=qemu.ICOUNT)
        linux.assert_boot(b, CMDLINE)
        at = linux.where(b.console)
        assert at, "init did not say where the kernel runs\n" + b.tail()
        kernel = (at[1], at[1] + info["kaslr"]["kernel_bytes"])
        assert kernel[1] <= rd[0] or kernel[0] >= rd[1], \
            "the kernel [0x%x, 0x%x) overlaps the initrd [0x%x, 0x%x)\n%s" % (kernel + rd + (b.tail(),))
        seen.add(at[1])
    assert len(seen) >= 2, "ten boots, one physical slot: 0x%x" % seen.pop()
