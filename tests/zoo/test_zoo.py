"""The loader zoo: Firecracker and Cloud Hypervisor need KVM, which these
machines lack, so their PVH boot, and libkrun's and OpenVMM's, is emulated
under QEMU TCG:

- the image is loaded by rust-vmm linux-loader's rules
  (tests/tools/rustvmm_load.py: ELF64 only, e_entry and every PT_LOAD at
  1 MiB or above, p_filesz bytes copied, the 4-byte PVH note);
- the start_info (at 0x6000), modlist, memmap, cmdline, initrd and RSDP
  are laid out as Firecracker (on QEMU pc), Cloud Hypervisor, libkrun or
  OpenVMM (on microvm) does (framework.layouts.LOADERS): libkrun's sorted
  map ends one byte past the RAM, its initrd ends exactly at the RAM's end,
  unaligned; OpenVMM's map is one RAM range from 0 over the ISA hole, its
  MP table at 0, its RSDP at 0x8000.  The test loader (framework.pvhload)
  enters the image with them.

The probe kernel under each loader's layout: its zero page must be that
layout, after the stub's documented rules.  Then each Linux kernel x wrap x
loader is a row: init, the cmdline, the initrd (md5) and an e820 equal to
the loader's map after the documented rules, plus what the loader's tables
must give the kernel.  Then an image that carries its initrd and command
line (--cmdline-policy embedded) under three loaders, the loader's initrd
joined after it.  Then make check-image's refusals.
"""
import random
import re
import struct

import pytest

from e820 import isa_rule
from framework import images, layouts, linux, probe, pvhload, qemu, tool as pvhstub
from tools import rustvmm_load

CMDLINE = 'console=ttyS0 panic=-1 zoo="rust vmm"'

# Each loader (framework.layouts.LOADERS): what the kernel must show of its tables.
LOADERS = {
    "firecracker": [],
    "cloud-hypervisor": [("the kernel did not take the RSDP at 0xa0000",
                          r"^PVHSTUB-DMESG: ACPI: RSDP 0x00000000000A0000 ")],
    "libkrun": [],
    "openvmm": [("the kernel did not take the RSDP at 0x8000",
                 r"^PVHSTUB-DMESG: ACPI: RSDP 0x0000000000008000 ")],
}
# Firecracker's MP table: Debian's generic kernel (CONFIG_X86_MPPARSE=y)
# must find it at 0x9fc00; the cloud kernel has no MP table parser.
MP_TABLE = ("the kernel did not find Firecracker's MP table at 0x9fc00",
            r"^PVHSTUB-DMESG: found SMP MP-table at \[mem 0x0009fc00-0x0009fc0f\]")
# Each kernel: its wrap modes, the loaders it boots under, and what more a
# loader's tables must give it.  The cloud kernel also with the stub's
# physical KASLR ("full"): it must run at the slot the stub chose, clear of
# the loader's initrd at the top of RAM.
ZOO = [
    ("cloud", "32 64 decompress full", "firecracker cloud-hypervisor libkrun openvmm", {}),
    ("generic", "32 64 decompress", "firecracker cloud-hypervisor", {"firecracker": [MP_TABLE]}),
]
ROWS = [(k, w, ldr) for k, ws, ls, _ in ZOO for w in ws.split() for ldr in ls.split()]


def initrd_for(loader, initrd):
    """The initrd's bytes.  libkrun puts the initrd right below the end of
    RAM, at whatever address its size gives: 516 bytes of zero padding (which
    the kernel's cpio reader skips, 4 at a time) make that address no
    multiple of a page."""
    return initrd.read_bytes() + (bytes(516) if loader == "libkrun" else b"")


@pytest.mark.boot
@pytest.mark.parametrize("loader", list(LOADERS))
def test_probe(work, probe_kernel, loader):
    """The probe kernel, wrapped, entered with the loader's tables: its zero
    page is the loader's map after the ISA-hole rule, its cmdline, its
    initrd where the loader put it, byte for byte, and its RSDP (or none
    given, and one the kernel finds by scanning).  (The probe is a 32-bit
    kernel, so its image is ELF32, which rust-vmm would not load: its
    segments go where they say.)"""
    image = pvhstub.wrap(probe_kernel, work / "probe.pvh")
    info = pvhstub.inspect(image)
    layout = layouts.loader(loader, cmdline=CMDLINE + " pvhstub.debug", initrd=random.Random(11).randbytes(300000 + 516))
    b = pvhload.boot(work, work / "console.log", layout, info["e_entry"],
                     pvhstub.placed(image, info), timeout=60)
    assert re.search(r"^pvhstub: start_info 0x6000 v1, ", b.console, re.M), \
        "the stub did not take the start_info at 0x6000\n" + b.tail()
    # The stub takes its own options (pvhstub.*) out of the kernel's cmdline.
    bad = probe.mismatches(b.console, b.rc, isa_rule(layout.memmap), CMDLINE, layout.initrd, layout.rsdp)
    assert not bad, "\n".join(bad) + "\n" + b.tail()


@pytest.mark.boot
@pytest.mark.linux
@pytest.mark.parametrize("name,mode,loader", ROWS, ids=["%s-%s-%s" % r for r in ROWS])
def test_zoo(work, kernel, initrd, name, mode, loader):
    image = pvhstub.wrap(kernel(name), work / "k.pvh", images.WRAPS[mode])
    entry, segments = rustvmm_load.load(image.read_bytes())
    checks = LOADERS[loader] + next(z[3] for z in ZOO if z[0] == name).get(loader, [])
    layout = layouts.loader(loader, cmdline=CMDLINE + " pvhstub.debug", initrd=initrd_for(loader, initrd))
    b = pvhload.boot(work, work / "console.log", layout, entry, [(addr, data) for _, addr, data in segments],
                     timeout=180, extra=qemu.ICOUNT)
    linux.assert_boot(b, CMDLINE)
    assert re.search(r"^pvhstub: start_info 0x6000 v1, ", b.console, re.M), \
        "the stub did not take the start_info at 0x6000\n" + b.tail()
    for why, pattern in checks:
        assert re.search(pattern, b.console, re.M), why + "\n" + b.tail()
    if mode == "full":
        placed, at = linux.stub_placement(b.console), linux.where(b.console)
        assert placed, "the stub did not pick a physical slot for the kernel\n" + b.tail()
        assert at and at[1] == placed[1], "the kernel does not run at the stub's physical slot 0x%x: %s" % (
            placed[1], at)


# An image that carries the test initrd and its command line, with
# --cmdline-policy embedded: Firecracker and Cloud Hypervisor always pass a
# command line of their own (here one the kernel must not get), and the
# loader's initrd (a marker part) must arrive after the carried one.
CARRIED = [("firecracker", "decompress"), ("cloud-hypervisor", "64"), ("libkrun", "full")]


@pytest.mark.boot
@pytest.mark.linux
@pytest.mark.parametrize("loader,mode", CARRIED, ids=["%s-%s" % r for r in CARRIED])
def test_zoo_carried(work, cloud_kernel, initrd, loader, mode):
    image = pvhstub.wrap(cloud_kernel, work / "k.pvh", images.WRAPS[mode] + [
        "--initrd", initrd, "--cmdline", CMDLINE + " pvhstub.debug", "--cmdline-policy", "embedded"])
    entry, segments = rustvmm_load.load(image.read_bytes())
    part = images.cpio_part(work / "loader.cpio", "loader")
    layout = layouts.loader(loader, cmdline="console=ttyS0 reboot=k panic=1 pci=off", initrd=part.read_bytes())
    b = pvhload.boot(work, work / "console.log", layout, entry, [(addr, data) for _, addr, data in segments],
                     timeout=180, extra=qemu.ICOUNT)
    linux.assert_boot(b, CMDLINE)
    assert "PVHSTUB-PARTS: loader last=loader" in b.console, "the loader's initrd did not arrive last\n" + b.tail()
    linux.assert_carried(b, [initrd], part.stat().st_size)


# --- make check-image: what rust-vmm refuses ---------------------------------
def low_segment(img, info):
    """The first PT_LOAD moved below 1 MiB (p_paddr 0x80000)."""
    i = next(i for i, s in enumerate(info["segments"]) if s["type"] == "LOAD")
    struct.pack_into("<Q", img, info["e_phoff"] + i * info["e_phentsize"] + 24, 0x80000)


def second_note(img, info):
    """A second PT_NOTE, after the first, over its notes past Xen's: the last
    PT_NOTE, which rust-vmm reads last, then has no PVH entry."""
    note = next(s for s in info["segments"] if s["type"] == "NOTE")
    xen = sum(12 + ((len(n["owner"]) + 1 + 3) & ~3) + ((n["size"] + 3) & ~3)
              for n in info["notes"] if n["owner"] == "Xen")
    phnum = len(info["segments"])
    at = info["e_phoff"] + phnum * info["e_phentsize"]
    size = note["filesz"] - xen
    assert size > 0, "no note past Xen's to point at"
    img[at:at + 56] = struct.pack("<IIQQQQQQ", 4, 4, note["offset"] + xen, 0, 0, size, size, 4)
    struct.pack_into("<H", img, 0x38, phnum + 1)        # e_phnum


BAD_IMAGES = {
    "elf32": (["--elf32"], None, "ELF32: linux-loader loads only ELF64"),
    "segment-below-1mib": ([], low_segment, "PT_LOAD 0 at 0x80000 is below 1 MiB"),
    "second-note": ([], second_note, "no XEN_ELFNOTE_PHYS32_ENTRY in the last PT_NOTE"),
}


@pytest.mark.parametrize("row", list(BAD_IMAGES))
def test_check_image_refuses(work, cloud_kernel, row):
    args, patch, message = BAD_IMAGES[row]
    image = pvhstub.wrap(cloud_kernel, work / "k.pvh", args)
    img = bytearray(image.read_bytes())
    if patch:
        patch(img, pvhstub.inspect(image))
    with pytest.raises(rustvmm_load.Refused, match=re.escape(message)):
        rustvmm_load.load(bytes(img))
