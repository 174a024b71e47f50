"""Boot a loader layout (framework.layouts) through the test PVH loader
(tests/tools/pvhload.c) under QEMU: a loader's view.

QEMU's generic loader writes the image's segments and the layout's blobs
(raw bytes, -device loader) where the loader under test would; pvhload then
enters the image at its PVH entry with %ebx at the layout's start_info.
QEMU's -kernel cannot do this: it refuses ROM regions that overlap, and the
payload segment reserves the whole window.

The firmware (SeaBIOS, QEMU's PVH option ROM) runs between QEMU's loader
and pvhload, and writes below 1 MiB and in the top 17 MiB of the RAM below
4 GiB: a blob there would be lost.  Such blobs go elsewhere first, and
pvhload copies each to its place (pvhload.copy=SRC,DST,LEN) just before it
enters the image.
"""
import functools
import pathlib

from . import layouts, paths, qemu, tool

ELF = paths.BUILD / "tests" / "pvhload.elf"
# What the firmware may write below the top of the RAM under 4 GiB: about
# 200 KiB just below top - 16 MiB (measured on pc in 80 and 256 MiB: a
# pattern QEMU's loader wrote there was gone when pvhload ran), and the top
# 128 KiB SeaBIOS keeps.
FIRMWARE_TOP = 17 * layouts.MiB


@functools.lru_cache(maxsize=None)
def image_range(elf):
    """[start, end) of pvhload's own PT_LOAD, with its bss and stack."""
    info = tool.inspect(elf)
    s = tool.segments(info)[0]
    return (s["paddr"], (s["paddr"] + s["memsz"] + 0xfff) & ~0xfff)


def size_of(data):
    """A segment's length: its bytes, or a file of them."""
    return data.stat().st_size if isinstance(data, pathlib.Path) else len(data)


def plan(layout, segments, loader_range):
    """(direct, copies): the blobs QEMU may write where they belong, and
    (staging address, destination, bytes) for those the firmware would
    overwrite.  The staging areas stay clear of every image byte, every
    blob's destination and pvhload."""
    low_top = layout.low_top()
    unsafe = [(0, layouts.MiB), (low_top - FIRMWARE_TOP, low_top)]
    blobs = [(a, d) for a, d in layout.blobs if d]
    direct, moved = [], []
    for a, d in blobs:
        (moved if any(layouts.overlaps((a, a + len(d)), u) for u in unsafe) else direct).append((a, d))
    taken = unsafe + [loader_range] + [(a, a + size_of(d)) for a, d in segments + blobs]
    copies, at = [], 16 * layouts.MiB
    for dst, data in moved:
        while True:
            clash = [t for t in taken if layouts.overlaps((at, at + len(data)), t)]
            if not clash:
                break
            at = (max(t[1] for t in clash) + 0xfff) & ~0xfff
        if at + len(data) > low_top:
            raise RuntimeError("no room to stage a %d-byte blob for 0x%x below 0x%x" % (len(data), dst, low_top))
        copies.append((at, dst, data))
        taken.append((at, at + len(data)))
    return direct, copies


def boot(work, log, layout, entry, segments, extra=(), elf=None, **kw):
    """Boot SEGMENTS ([(paddr, bytes or a file of them)], the image as a
    loader places it) and LAYOUT through pvhload, entering at ENTRY; the rest
    as for qemu.boot().  The blobs are written to WORK, beside the log and
    its replay command."""
    elf = pathlib.Path(elf or ELF)
    direct, copies = plan(layout, segments, image_range(elf))
    devices = []
    files = list(segments) + direct + [(src, data) for src, _, data in copies]
    for i, (addr, data) in enumerate(files):
        blob = data if isinstance(data, pathlib.Path) else pathlib.Path(work) / ("blob%d.bin" % i)
        if blob is not data:
            blob.write_bytes(data)
        devices += ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (blob, addr)]
    append = "pvhload.entry=0x%x pvhload.si=0x%x" % (entry, layout.si)
    append += "".join(" pvhload.copy=0x%x,0x%x,0x%x" % (src, dst, len(data)) for src, dst, data in copies)
    if layout.qemu_memmap is not None:
        append += " pvhload.memmap=0x%x" % layout.qemu_memmap
    if layout.qemu_rsdp is not None:
        append += " pvhload.rsdp=0x%x" % layout.qemu_rsdp
    return qemu.boot(elf, log, machine=layout.machine, memory=layout.memory, append=append,
                     extra=list(extra) + devices, **kw)

