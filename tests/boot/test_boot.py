"""Linux boots through the stub on QEMU: every kernel x wrap mode x machine
is a row, then KASLR, SMP, and the images that are not Linux.

Each boot runs the test initrd (tests/initrd/init), which prints what the
checks read (tests/framework/linux.py): init reached, /proc/cmdline, the
kernel's e820 (which must be the loader's memmap after the ISA-hole rule),
the initrd payload's md5, where the kernel runs, the paging depth.
"""
import lzma
import os
import re
import struct

import pytest

from framework import images, linux, qemu, tool as pvhstub

pytestmark = pytest.mark.boot
LINUX = pytest.mark.linux

CMDLINE = 'console=ttyS0 panic=-1 pvhstub.test="a b" x=1'
ICOUNT = qemu.ICOUNT

# Every kernel the boots use: the wrap modes (tests/framework/images.py
# WRAPS), the machines and the QEMU binaries it boots on.  A new kernel is a
# line.  tiny-* are our own builds of Debian's linux-source-6.1 without
# CONFIG_PVH or CONFIG_XEN (tests/kernels/build-tiny.sh), relocatable and
# not (a fixed one is placed at its pref_address); the rest are Debian's
# (scripts/fetch-kernels.sh names them).
KERNELS = [
    ("cloud", "32 64 decompress", "pc microvm", "x86_64"),
    ("generic", "32 64 decompress", "pc microvm", "x86_64"),
    ("rt", "32 64 decompress", "pc", "x86_64"),
    ("cloud-6.12", "32 64 decompress", "pc", "x86_64"),
    ("generic-6.12", "32 64 decompress", "pc", "x86_64"),
    ("cloud-trixie", "32 64 decompress full", "pc microvm", "x86_64"),
    # sid's 7.x: a 2-list relocation table, its entry past the image's start.
    ("cloud-sid", "32 64 decompress full", "pc microvm", "x86_64"),
    ("generic-sid", "32 64 decompress full", "pc microvm", "x86_64"),
    # An i386 kernel: an ELF32 image, its own static i386 busybox in the initrd.
    ("686-pae", "32 decompress", "pc", "i386 x86_64"),
    ("tiny-x86_64-reloc", "32 64 decompress", "pc", "x86_64"),
    ("tiny-x86_64-fixed", "32 64 decompress", "pc", "x86_64"),
    ("tiny-i386-reloc", "32 decompress", "pc", "i386"),
    ("tiny-i386-fixed", "32 decompress", "pc", "i386"),
]
BOOTS = [(k, w, m, q) for k, ws, ms, qs in KERNELS for w in ws.split() for q in qs.split() for m in ms.split()]

# Debian's 6.12 kernels oops now and then under QEMU 7.2 TCG, natively as
# well (a double fault, or a #DB with garbage EFLAGS, in PCI probing): 1
# native boot in 12, measured.  Once the stub has handed off, such an oops
# gets one more boot, said aloud; a second failure fails.
FLAKY_TCG = ("cloud-6.12", "generic-6.12", "cloud-trixie")
OOPS = re.compile(r"Oops: .*|double fault.*|exc_debug_kernel.*")


def wrap(work, src, args, name="k.pvh"):
    return pvhstub.wrap(src, work / name, args)


@LINUX
@pytest.mark.parametrize("name,mode,machine,arch", BOOTS, ids=["%s-%s-%s-%s" % r for r in BOOTS])
def test_linux(request, work, kernel, initrd, name, mode, machine, arch):
    image = wrap(work, kernel(name), images.WRAPS[mode])
    info = pvhstub.inspect(image)
    i386 = "KERNEL_64" not in info["xloadflags_names"]    # an i386 kernel, with an i386 busybox
    handoff = 32 if mode == "32" or i386 else 64
    assert info["handoff"] == handoff, info
    if arch == "i386":
        assert info["elf_class"] == 32, "qemu-system-i386 loads ELF32 images only: %s" % info
    # The i386 busybox only for the rows that need it: its absence skips only those.
    run = dict(qemu="qemu-system-" + arch, machine=machine,
               initrd=request.getfixturevalue("initrd_i386") if i386 else initrd,
               append=CMDLINE + " pvhstub.debug", timeout=240, extra=ICOUNT)
    b = qemu.boot(image, work / "console.log", **run)
    oops = OOPS.search(b.console)
    if name in FLAKY_TCG and linux.stub_line(b.console) and oops:
        print("NOTE: %s oopsed after the handoff (%s): a known QEMU TCG flake of 6.12, native boots too; "
              "booting once more" % (name, oops.group(0)))
        b = qemu.boot(image, work / "console-2.log", **run)
    linux.assert_boot(b, CMDLINE)
    line = linux.stub_line(b.console)
    assert re.search(r", %d-bit entry 0x" % handoff, line), "the stub did not announce the %d-bit handoff: %s" % (
        handoff, line)


@LINUX
def test_bare_vmlinux(work, kernel, initrd):
    """A bare vmlinux (no bzImage header: the stub uses its template), taken
    out of the generic kernel (an xz payload) by Python's lzma, not the tool."""
    data = kernel("generic").read_bytes()
    at = data.find(b"\xfd7zXZ\x00")
    assert at > 0, "no xz stream in the generic kernel"
    (work / "vmlinux").write_bytes(lzma.LZMADecompressor().decompress(data[at:]))
    assert pvhstub.inspect(work / "vmlinux")["kind"] == "vmlinux"
    image = wrap(work, work / "vmlinux", [])
    b = qemu.boot(image, work / "console.log", initrd=initrd, append=CMDLINE + " pvhstub.debug", timeout=180,
                  extra=ICOUNT)
    linux.assert_boot(b, CMDLINE)


# --- SMP -------------------------------------------------------------------
# Every wrap of Debian's cloud kernel, on pc with 4 CPUs and microvm with 2:
# init with the right cmdline, initrd and e820, and Linux brings up every
# CPU.  These boots run without -icount: on QEMU 7.2 with -icount, -smp
# above 1 hangs native boots and stub boots alike.  Without -icount the
# kernel calibrates its TSC against the PIT in real time, which a loaded
# host upsets on microvm (no HPET or PM timer to fall back on), so microvm
# boots get tsc_early_khz= and skip the calibration.
SMP = [(mode, machine, cpus) for mode in ("32", "64", "decompress") for machine, cpus in (("pc", 4), ("microvm", 2))]


@LINUX
@pytest.mark.parametrize("mode,machine,cpus", SMP, ids=["%s-%s-smp%d" % r for r in SMP])
def test_smp(work, cloud_kernel, initrd, mode, machine, cpus):
    image = wrap(work, cloud_kernel, images.WRAPS[mode])
    cmdline = "console=ttyS0 panic=-1 smp=yes" + (" tsc_early_khz=2500000" if machine == "microvm" else "")
    b = qemu.boot(image, work / "console.log", machine=machine, initrd=initrd, append=cmdline + " pvhstub.debug",
                  timeout=180, extra=["-smp", str(cpus)])
    linux.assert_boot(b, cmdline)
    assert "smp: Brought up 1 node, %d CPUs" % cpus in b.console, "Linux did not bring up %d CPUs\n%s" % (
        cpus, b.tail())


# --- KASLR, boot by boot ---------------------------------------------------
# The initrd's init prints _text from /proc/kallsyms and the physical
# "Kernel code" range from /proc/iomem; each boot's kernel must run where
# the stub's line says it put it, with the paging depth a native boot has on
# that CPU (-cpu max has LA57, and the cloud kernel XLF_5LEVEL).
# Five boots a machine must show at least four distinct addresses: the
# virtual offset has 482 slots (1 GiB less the 16 MiB start and the 46 MiB
# kernel, in 2 MiB steps) and the physical slot about 220 in 512 MiB (about
# 2,900 in 6 GiB), so by the birthday bound five boots repeat one slot about
# 2% (4%) of the time; two repeats would take a broken randomizer.
KASLR_BOOTS = 5
SOURCES = r"(RDSEED\+)?(RDRAND\+)?TSC(\+i8254)?\+boot data"
MAX = ["-cpu", "max"] + ICOUNT
PHYS_ANY = r"physical 0x[0-9a-f]+$"
# Each row: kernel, wrap (KASLR_WRAPS), machines, MiB, QEMU's CPU options,
# the stub's line, whether the physical address varies too, the paging, and
# how many of the boots must run above 4 GiB ("some", "none" or None: any).
KASLR = {
    "virt": ("cloud", "decompress", "pc microvm", 512, MAX,
             r"KASLR %s, virtual \+0x[0-9a-f]+, physical 0x1000000$" % SOURCES, False, "5-level", None),
    "full": ("cloud", "full", "pc microvm", 6144, MAX,
             r"KASLR %s, virtual \+0x[0-9a-f]+, %s" % (SOURCES, PHYS_ANY), True, "5-level", "some"),
    # XLF_CAN_BE_LOADED_ABOVE_4G cleared in the setup header the stub hands on.
    "below-4g": ("cloud", "full-below-4g", "pc", 6144, MAX,
                 r"KASLR %s, virtual \+0x[0-9a-f]+, physical 0x[0-9a-f]{1,8}$" % SOURCES, True, "5-level", "none"),
    # No RDRAND or RDSEED, and real time: the TSC, the i8254 and the boot data.
    "qemu64": ("cloud", "full", "pc", 512, ["-cpu", "qemu64"],
               r"KASLR TSC\+i8254\+boot data, virtual \+0x[0-9a-f]+, %s" % PHYS_ANY, True, "4-level", None),
    # The bzImage: the kernel's own decompressor randomizes.
    "bzimage": ("cloud", "bzimage", "pc microvm", 512, MAX, None, True, "5-level", None),
    "virt-sid": ("cloud-sid", "decompress", "pc", 512, MAX,
                 r"KASLR %s, virtual \+0x[0-9a-f]+, physical 0x1000000$" % SOURCES, False, "5-level", None),
    "full-sid": ("cloud-sid", "full", "pc microvm", 6144, MAX,
                 r"KASLR %s, virtual \+0x[0-9a-f]+, %s" % (SOURCES, PHYS_ANY), True, "5-level", "some"),
}
KASLR_WRAPS = {"bzimage": [], "decompress": ["--decompress"], "full": ["--decompress", "--kaslr", "full"],
               "full-below-4g": ["--decompress", "--kaslr", "full"], "no-kaslr": ["--decompress", "--no-kaslr"]}
LINK_VIRT = 0xffffffff81000000


def below_4g(image):
    """Clear XLF_CAN_BE_LOADED_ABOVE_4G in the setup header the stub hands on
    (pvhstub_info v4, "PVHi": the header is 56 bytes in, at 0x1f1)."""
    img = bytearray(image.read_bytes())
    at = img.find(struct.pack("<II", 0x69485650, 4))
    assert at > 0, "no pvhstub_info v4 in %s" % image
    x = at + 56 + 0x236 - 0x1f1
    flags, = struct.unpack_from("<H", img, x)
    assert flags & 2, "xloadflags 0x%x lacks CAN_BE_LOADED_ABOVE_4G" % flags
    struct.pack_into("<H", img, x, flags & ~2)
    image.write_bytes(bytes(img))


def kaslr_image(work, kernel, name, mode):
    image = wrap(work, kernel(name), KASLR_WRAPS[mode])
    if mode == "full-below-4g":
        below_4g(image)
    return image


def kaslr_boot(work, image, initrd, machine, memory, cpu, log, append=""):
    """One boot to init; the boot and where its kernel runs."""
    b = qemu.boot(image, work / log, machine=machine, memory=memory, initrd=initrd,
                  append="console=ttyS0 panic=-1 quiet" + (" " + append if append else ""), timeout=180, extra=cpu)
    assert b.rc != 124 and "PVHSTUB-INIT: reached init" in b.console, "init was not reached\n" + b.tail()
    at = linux.where(b.console)
    assert at, "init did not say where the kernel runs\n" + b.tail()
    return b, at


@LINUX
@pytest.mark.long
@pytest.mark.parametrize("row", list(KASLR))
def test_kaslr(work, kernel, initrd, row):
    name, mode, machines, memory, cpu, pattern, phys, paging, high = KASLR[row]
    image = kaslr_image(work, kernel, name, mode)
    above = 0
    for machine in machines.split():
        seen = []
        for i in range(KASLR_BOOTS):
            b, at = kaslr_boot(work, image, initrd, machine, memory, cpu, "%s-%d.log" % (machine, i))
            if pattern:
                assert re.search(r"^pvhstub: .*, " + pattern, b.console, re.M), \
                    "the stub's line does not match %r\n%s" % (pattern, b.tail())
            assert "pvhstub: warning: KASLR" not in b.console, b.tail()
            placed = linux.stub_placement(b.console)
            if placed:
                assert (at[0], at[1]) == (LINK_VIRT + placed[0], placed[1]), \
                    "the kernel runs at %x %x, the stub said +%x %x\n%s" % (at[0], at[1], placed[0], placed[1],
                                                                           b.tail())
            assert linux.paging(b.console) == paging, \
                "the kernel runs with %s paging, not %s as natively on this CPU" % (linux.paging(b.console), paging)
            seen.append(at)
            above += at[1] >= 1 << 32
        shown = ", ".join("%x %x" % a[:2] for a in seen)
        assert len({a[0] for a in seen}) >= 4, "%s: too few distinct virtual addresses: %s" % (machine, shown)
        if phys:
            assert len({a[1] for a in seen}) >= 4, "%s: too few distinct physical addresses: %s" % (machine, shown)
    # Half the RAM of a 6 GiB guest is above 4 GiB: all ten boots below it happen once in a thousand.
    if high == "some":
        assert above > 0, "none of the boots ran above 4 GiB (%s: %s)" % (name, images.package(kernel(name)))
    elif high == "none":
        assert above == 0, "%d boots ran above 4 GiB, which the kernel does not allow" % above


# One boot at the link address: (wrap, command line, the stub's line, paging).
FIXED = {
    "nokaslr": ("decompress", "nokaslr no5lvl", r"64-bit entry 0x1000000, KASLR off \(nokaslr\)$", "4-level"),
    "wrap-no-kaslr": ("no-kaslr", "", r"64-bit entry 0x1000000 \(5-level paging\)$", "5-level"),
}


@LINUX
@pytest.mark.parametrize("row", list(FIXED))
def test_kaslr_off(work, kernel, initrd, row):
    mode, append, pattern, paging = FIXED[row]
    image = kaslr_image(work, kernel, "cloud", mode)
    b, at = kaslr_boot(work, image, initrd, "microvm", 512, MAX, "console.log", append)
    assert at[:2] == (LINK_VIRT, 0x1000000), "the kernel runs at %x %x\n%s" % (at[0], at[1], b.tail())
    assert re.search(r"^pvhstub: .*" + pattern, b.console, re.M), b.tail()
    assert linux.paging(b.console) == paging, b.tail()


@LINUX
def test_kaslr_without_relocations(work, kernel, initrd):
    """A kernel without a relocation table (our tiny one, without
    CONFIG_RANDOMIZE_BASE): one warning at wrap and one at boot, and init at
    the fixed address."""
    r = pvhstub.run(["wrap", "--decompress", kernel("tiny-x86_64-reloc"), "-o", "k.pvh"], cwd=work)
    assert r.rc == 0 and b"warning: the kernel has no relocation table" in r.stderr, str(r)
    b = qemu.boot(work / "k.pvh", work / "console.log", initrd=initrd, append="console=ttyS0 panic=-1", timeout=120,
                  extra=ICOUNT)
    assert b.console.count("pvhstub: warning: no KASLR: the wrap kept no relocation table for this kernel; "
                           "it runs at 0x1000000") == 1, b.tail()
    assert re.search(r"^pvhstub: start_info .* 64-bit entry 0x1000000$", b.console, re.M), b.tail()
    assert "PVHSTUB-INIT: reached init" in b.console, b.tail()


# --- Unified Kernel Images --------------------------------------------------
# A UKI built by Debian 13's ukify (tests/framework/images.py uki()) around
# a Debian kernel: its .initrd the test initrd, its .ucode a marker part,
# its .cmdline UKI_CMDLINE; wrapped in each mode.  The kernel must reach
# init with the carried initrd intact, the loader's initrd (a marker part)
# joined after it when there is one, a --initrd part between them when the
# row adds one (init lists the parts and which came last), and the command
# line its policy picks; the stub's "carried:" line must say the same.
UKI_CMDLINE = "console=ttyS0 panic=-1 uki=1"
LOADER_CMDLINE = "console=ttyS0 panic=-1 loader=1"
PROFILE1_CMDLINE = "console=ttyS0 panic=-1 profile=1"
PROFILES = [dict(ID="default", TITLE="Default"), dict(ID="one", TITLE="One", cmdline=PROFILE1_CMDLINE + " pvhstub.debug")]
# Each row: kernel, wrap mode (images.WRAPS), machine, more wrap options,
# the loader's initrd (a part) or not, the loader's command line or None,
# the command line the kernel must get, whose (the stub's words).
UKI_BOOTS = {
    "32-pc": ("cloud-trixie", "32", "pc", [], False, None, UKI_CMDLINE, "the image's"),
    "64-microvm": ("cloud-trixie", "64", "microvm", [], False, None, UKI_CMDLINE, "the image's"),
    "decompress-pc": ("cloud-trixie", "decompress", "pc", [], False, None, UKI_CMDLINE, "the image's"),
    "full-microvm": ("cloud-trixie", "full", "microvm", [], False, None, UKI_CMDLINE, "the image's"),
    # The loader's initrd and command line: the default policy takes the loader's command line.
    "full-pc-loader": ("cloud-trixie", "full", "pc", [], True, LOADER_CMDLINE, LOADER_CMDLINE, "the loader's"),
    "32-microvm-loader": ("cloud-trixie", "32", "microvm", [], True, LOADER_CMDLINE, LOADER_CMDLINE,
                          "the loader's"),
    "decompress-microvm-embedded": ("cloud-trixie", "decompress", "microvm", ["--cmdline-policy", "embedded"], True,
                                    LOADER_CMDLINE, UKI_CMDLINE, "the image's"),
    "64-pc-append": ("cloud-trixie", "64", "pc", ["--cmdline-policy", "append", "--initrd", "wrap.cpio"], True,
                     "loader=1 pvhstub.debug", UKI_CMDLINE + " loader=1", "the image's + the loader's"),
    # sid's 7.x, and a two-profile UKI: profile 0 by default (the base's command line), or 1 (its own).
    "sid-full-pc": ("cloud-sid", "full", "pc", [], True, None, UKI_CMDLINE, "the image's"),
    "profile-0": ("cloud-trixie", "decompress", "pc", [], False, None, UKI_CMDLINE, "the image's"),
    "profile-1": ("cloud-trixie", "decompress", "pc", ["--profile", "1"], False, None, PROFILE1_CMDLINE,
                  "the image's"),
}


@pytest.fixture(scope="session")
def uki_parts(fixtures_dir):
    """The marker parts (images.cpio_part): the UKI's .ucode, a --initrd, the loader's."""
    return {n: images.cpio_part(fixtures_dir / ("%s.cpio" % n), n) for n in ("ucode", "wrap", "loader")}


def uki_of(fixtures_dir, kernel, initrd, parts, name, profiles):
    """The UKI of kernel NAME (with PROFILES or not), built once a session."""
    out = fixtures_dir / ("%s%s.efi" % (name, "-profiles" if profiles else ""))
    if not out.exists():
        images.uki(out, kernel(name), initrd=initrd, cmdline=UKI_CMDLINE + " pvhstub.debug", ucode=parts["ucode"],
                   profiles=PROFILES if profiles else ())
    return out


@LINUX
@pytest.mark.parametrize("row", list(UKI_BOOTS))
def test_uki(work, kernel, initrd, fixtures_dir, uki_parts, row):
    name, mode, machine, args, loader_rd, loader_cmdline, cmdline, whose = UKI_BOOTS[row]
    uki = uki_of(fixtures_dir, kernel, initrd, uki_parts, name, row.startswith("profile"))
    args = [uki_parts["wrap"] if a == "wrap.cpio" else a for a in args]
    image = wrap(work, uki, images.WRAPS[mode] + args)
    b = qemu.boot(image, work / "console.log", machine=machine, initrd=uki_parts["loader"] if loader_rd else None,
                  append=loader_cmdline + " pvhstub.debug" if loader_cmdline else None, timeout=240, extra=ICOUNT)
    linux.assert_boot(b, cmdline)
    parts = ["loader"] * loader_rd + ["ucode"] + ["wrap"] * ("--initrd" in args)
    want = "PVHSTUB-PARTS: %s last=%s" % (" ".join(sorted(parts)), "loader" if loader_rd else parts[-1])
    assert want in b.console, "want %r\n%s" % (want, b.tail())
    linux.assert_carried(b, [uki_parts["ucode"], initrd] + [uki_parts["wrap"]] * ("--initrd" in args),
                         os.path.getsize(uki_parts["loader"]) if loader_rd else 0, whose)


# --- Images that are not Linux ---------------------------------------------
def test_memtest(work):
    """memtest86+, wrapped unpatched: not relocatable, it wants 1 MiB, so
    the stub moves above it.  It never ends; the check is its own screen on
    the serial console: the banner, and its memory size, which it takes from
    the e820 the stub built (512 MiB less the holes: 511 MiB)."""
    mt, why = images.cached("memtest", "memtest86+x64.bin")
    if mt is None:
        pytest.skip("cannot fetch memtest86+: " + why)
    image = wrap(work, mt, [])
    b = qemu.boot(image, work / "console.log", append="console=ttyS0,115200", timeout=45,
                  extra=["-debugcon", "file:%s" % (work / "e9.log")])
    e9 = (work / "e9.log").read_text(errors="replace")
    assert re.search(r"pvhstub: start_info .* 32-bit entry 0x100000\b", e9), e9[-2000:]
    for want in ("Memtest86+ v", "Memory  :  511MB", "Testing"):
        assert want in b.console, "%r not on memtest's screen\n%s" % (want, b.tail())


def test_ipxe_refused(work):
    """iPXE's ipxe.lkrn, from Debian's package: boot protocol 2.07 and no
    32-bit entry at all (code32_start 0); its real-mode setup needs a BIOS.
    No PVH loader can run it, so the wrap refuses it, saying why, and
    inspect says the same."""
    ipxe, why = images.cached("ipxe", "ipxe.lkrn")
    if ipxe is None:
        pytest.skip("cannot fetch ipxe.lkrn: " + why)
    pvhstub.refuses(work, ["wrap", ipxe, "-o", "ipxe.pvh"], 1,
                    re.escape("code32_start is 0: the image has no 32-bit entry. It is a real-mode program "
                              "(iPXE's .lkrn is one)"))
    info = pvhstub.inspect(ipxe)
    assert not info["wrap"]["ok"] and info["wrap"]["reason"].startswith("code32_start is 0"), info["wrap"]
