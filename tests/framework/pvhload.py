"""The test PVH loader (tests/tools/pvhload.c) under QEMU: a loader's view.

QEMU's generic loader puts the image's segments and the initrd where the
loader under test would (raw bytes, -device loader); pvhload then lays the
start_info, memmap, modlist and cmdline out as that loader does (its
options: pvhload.layout=, .tables=, .flags=) and enters the image at its
PVH entry.  QEMU's -kernel cannot do this: it refuses ROM regions that
overlap, and the payload segment reserves the whole window.
"""
from . import paths, qemu

ELF = paths.BUILD / "tests" / "pvhload.elf"


def raw(path, addr):
    return ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (path, addr)]


def boot(work, log, entry, segments, cmdline, initrd=None, initrd_at=None, options=(), extra=(), **kw):
    """Boot through pvhload: SEGMENTS are [(paddr, bytes)], written to
    WORK/segmentN.bin; INITRD (a file) goes to INITRD_AT and becomes module
    0; OPTIONS are pvhload's own; the rest as for qemu.boot()."""
    devices = []
    for i, (addr, data) in enumerate(segments):
        blob = work / ("segment%d.bin" % i)
        blob.write_bytes(data)
        devices += raw(blob, addr)
    append = "pvhload.entry=0x%x" % entry
    if initrd:
        append += " pvhload.initrd=0x%x,0x%x" % (initrd_at, initrd.stat().st_size)
        devices += raw(initrd, initrd_at)
    append += "".join(" " + o for o in options) + " -- " + cmdline
    return qemu.boot(ELF, log, append=append, extra=list(extra) + devices, **kw)
