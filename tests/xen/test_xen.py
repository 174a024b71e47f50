"""Real Xen under QEMU TCG: Debian 12's 4.17 and Debian 13's 4.20, two rows
of one description (XEN).  For each version:

- PVH dom0: Xen boots the stub-wrapped probe as dom0 (start_info v0), and
  the unwrapped stub, whose panic must crash the domain;
- xl PVH domUs: a Linux PV dom0 (tests/xen/dom0-init, its initramfs made by
  mkdom0.sh) runs xl on the version's guests (GUESTS), configs made by
  'pvhstub xlconfig', each checked from the log (check_domu.py); a kernel
  through the stub and through Linux's own PVH entry log the same but for
  explained lines (compare_dmesg.py); and the lifecycle: the stub's domU and
  Linux's own entry saved and restored, migrated to localhost, rebooted and
  shut down, and on 4.20 the stub's domU again with --kaslr full (a new
  slot after the reboot).

One Xen run holds every domU of a version, so the tests of a version share
it (the xl fixture) and run on one xdist worker (xdist_group).
"""
import hashlib
import random
import re
import shutil
import subprocess

import pytest

import check_dom0
import check_domu
import compare_dmesg
from e820 import Verdicts
from framework import images, paths, probe, qemu, tool as pvhstub

pytestmark = [pytest.mark.boot, pytest.mark.linux]

XEN_ARGS = "console=com1 loglvl=all guest_loglvl=all dom0_max_vcpus=1"
# QEMU 7.2 TCG workarounds: SMAP breaks PV dom0 iretq, RDTSCP breaks SVM
# nested exits, and with PKU a domU's XSAVE state is now and then bad ("Bad
# FPU state detected at restore_fpregs_from_fpstate", then #UD): PKU is off
# on both versions.
#
# Each version: QEMU's CPU, the PV dom0's kernel and its modules (the Xen
# drivers, blkback, netback, loop, virtio_blk and ext4), what every Linux domU
# adds to its command line, and the kernel of the lifecycle pair.
# 4.17's dom0 is bookworm-backports' 6.12, not 6.1: a 6.1 PV dom0 under QEMU
# 7.2 TCG lost its own processes' memory now and then while xl mapped a
# domU's (xl migrate, xl reboot): a busybox process of dom0's, never a
# domU, died on a NULL it had not written (glibc malloc's free-list
# pointers read as 0: "cut[782]: segfault at 10", "init[705]: segfault at
# 3d8"), in 2 of 3 runs, with or without PKU, PCID and INVPCID; with 6.12
# in 0 of 4 (docs/testing.md).
# noxsave (4.20): under Xen 4.20 in QEMU 7.2 TCG the size of the XSAVE area
# a domU reads from CPUID leaf 0xD does not match the features it enabled in
# XCR0 ("XSAVE consistency problem"); 6.12 warns and falls back to FXSAVE,
# 7.x panics in that fallback, through the stub and its own PVH entry alike.
# Xen 4.17 on the same QEMU reports it right.  A harness fact, not the
# stub's (docs/testing.md).
# life_kaslr: the lifecycle again with the life kernel wrapped --decompress
# --kaslr full ("life-kaslr", 192 MiB: room for about 70 physical slots).
XEN = {
    "4.17": dict(cpu="max,-smap,-rdtscp,-pku", dom0="generic-6.12", extra="", life="cloud", life_kaslr=False),
    "4.20": dict(cpu="max,-smap,-rdtscp,-pku", dom0="generic-trixie", extra=" noxsave", life="cloud-trixie",
                 life_kaslr=True),
}
# The domUs of each version's run, in the order dom0 creates them: name,
# kind (check_domu.py), kernel (for "own": the stub guest whose kernel and
# config it takes, entered through Linux's own PVH entry), initrd payload
# MiB.  Each version's ("stub", "own") pair is also compared by its log.
# "uki": a UKI built by ukify around the kernel, with the test initrd and
# the Linux domUs' command line in it, wrapped; its xl config names no
# ramdisk and no command line: they must come from the image.
GUESTS = {
    "4.17": [("linux", "stub", "cloud", 64), ("probe", "probe", None, 0), ("kaslr", "kaslr", "cloud", 0),
             ("own", "own", "linux", 0), ("tiny", "tiny", "tiny-x86_64-reloc", 0)],
    "4.20": [("linux612", "stub", "cloud-trixie", 0), ("linux7", "stub", "cloud-sid", 0),
             ("linux7-own", "own", "linux7", 0), ("uki", "uki", "cloud-trixie", 0)],
}
COMPARE = {"4.17": ("linux", "own"), "4.20": ("linux7", "linux7-own")}

LINUX_CMDLINE = 'console=hvc0 earlyprintk=xen keep_bootcon panic=-1 domu="pvh guest" kmsg=1'
# The Linux domUs' PV devices: an ext4 disk image (read-only, through
# blkback and a loop device: tests/xen/block-loop) holding a pseudo-random
# file whose md5 init prints, and a network interface with no bridge
# (tests/xen/vif-ip gives dom0's end 10.99.0.1) that init pings dom0 over.
# blkfront and netfront are modules of the guest's kernel, loaded by init.
PV_CMDLINE = LINUX_CMDLINE + " pvhdisk=/dev/xvda pvhnet=10.99.0.2"
PV_DEVICES = ["--disk", "format=raw,vdev=xvda,access=r,script=/etc/xen/scripts/block-loop,target=/guests/disk.img",
              "--vif", "ip=10.99.0.2,script=/etc/xen/scripts/vif-ip"]
PROBE_CMDLINE = "probe as domU"
# A kernel with no Xen support at all (no CONFIG_XEN, no CONFIG_PVH). A PVH
# domU has no PIT, HPET or PM timer, so it needs the TSC's rate on its
# command line (1 GHz: -icount shift=0 runs one instruction a nanosecond);
# with no serial port and no hvc driver its console is an early 8250 on
# port 0xe9, which Xen prints as "(dN) ...".  Its ACPI (S0 only) cannot
# power off, so dom0 stops it after 15 s.
TINY_CMDLINE = "earlycon=uart8250,io,0xe9 keep_bootcon console=ttyS0 tsc_early_khz=1000000 panic=-1"
LIFE_STEPS = ["boot", "save-restore", "migrate", "reboot", "shutdown"]
# dom0's memory in the xl runs: its initramfs holds the toolstack alone (the guests
# are on a disk), and the lifecycle's save file (a 192 MiB domU's) goes to a tmpfs.
DOM0_MEM = "640M,max:640M"


def xen_elf(version):
    elf, why = images.xen(version)
    if elf is None:
        pytest.skip("cannot fetch Xen %s: %s" % (version, why))
    return elf


def run(argv, **kw):
    p = subprocess.run([str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    assert p.returncode == 0, "%s: exit %d\n%s" % (" ".join(map(str, argv)), p.returncode,
                                                  p.stdout.decode(errors="replace")[-3000:])


def xen_boot(version, log, initrd, append, timeout, memory=1536, icount=False, extra=()):
    return qemu.boot(xen_elf(version), log, memory=memory, cpu=XEN[version]["cpu"], initrd=initrd,
                     append=XEN_ARGS + " " + append, timeout=timeout,
                     extra=(["-icount", "shift=0,sleep=off"] if icount else []) + list(extra))


# --- PVH dom0 ----------------------------------------------------------------
@pytest.mark.parametrize("version", list(XEN))
def test_dom0_probe(work, probe_kernel, version):
    """The probe, wrapped, as PVH dom0 with an initrd; its arguments come
    through Xen's module string."""
    pvhstub.ok("wrap", probe_kernel, "-o", work / "probe.pvh")
    initrd, data = probe.initrd(work / "dom0-initrd.bin", 9)
    b = xen_boot(version, work / "console.log", "%s pvhstub.subarch=xen pvhstub.debug hello dom0,%s"
                 % (work / "probe.pvh", initrd), "dom0_mem=512M,max:512M dom0=pvh dom0-iommu=none", 300)
    assert b.rc == 33, "the probe did not end through isa-debug-exit (33)\n" + b.tail()
    bad = Verdicts()
    check_dom0.check(bad, b.console, data, "hello dom0", 512)
    assert not bad, "\n".join(bad) + "\n" + b.tail()


@pytest.mark.parametrize("version", list(XEN))
def test_dom0_panic(work, version):
    """panic() on Xen: the unwrapped stub has no payload; as dom0 it must say
    so on Xen's console and crash the domain (SCHEDOP_shutdown), not hang."""
    b = xen_boot(version, work / "console.log", "%s unwrapped" % (paths.BUILD / "stub.elf"),
                 "dom0_mem=512M,max:512M dom0=pvh dom0-iommu=none", 120)
    assert b.rc != 124, b.tail()
    assert re.search(r"^pvhstub: PANIC: no payload: wrap this stub with 'pvhstub wrap'", b.console, re.M), b.tail()
    assert "Hardware Dom0 crashed" in b.console, b.tail()


# --- xl PVH domUs under a PV dom0 --------------------------------------------
def mkinitrd(out, kernel_modules=None, payload_mib=0):
    """The test initrd; with KERNEL_MODULES (a modules folder), its blkfront and netfront."""
    d = kernel_modules and kernel_modules / "kernel" / "drivers"
    images.initrd(out, payload_mib, modules=[d / "block/xen-blkfront.ko", d / "net/xen-netfront.ko"] if d else ())


def modules_of(kernel_name):
    d = paths.cache() / "kernels" / ("modules-" + kernel_name)
    if not d.is_dir():
        pytest.skip("no %s (scripts/fetch-kernels.sh %s)" % (d, kernel_name))
    return d


def with_kernel(cfg, name, kernel):
    """An xl config as another domain, NAME, booting KERNEL, without pvhstub.debug."""
    text = re.sub(r'^name = .*$', 'name = "%s"' % name, cfg.read_text(), flags=re.M)
    text = re.sub(r'^kernel = .*$', 'kernel = "/guests/%s"' % kernel, text, flags=re.M)
    return text.replace(' pvhstub.debug"', '"')


def prepare_guests(version, kernel, guests, probe_kernel, initrd_bin):
    """GUESTS (tests/xen/dom0-init reads it): N-NAME.cfg in order, the images
    they name, a NAME.wait where dom0 must stop the guest, the lifecycle
    pair's NAME.life, and the PV disk.  Returns the disk file's md5."""
    x = XEN[version]
    linux = PV_CMDLINE + x["extra"]
    small = guests / "small-initrd.cpio"
    mkinitrd(small)
    # A kernel wrapped or extracted once serves every guest of it.
    pvh, vmlinux = {}, {}
    n = 0
    for n, (name, kind, kname, payload) in enumerate(GUESTS[version], 1):
        cfg = guests / ("%d-%s.cfg" % (n, name))
        if kind == "stub":
            mkinitrd(guests / ("initrd-%s.cpio" % name), modules_of(kname), payload)
            pvhstub.ok("wrap", kernel(kname), "-o", guests / (name + ".pvh"))
            pvh[kname] = name + ".pvh"
            pvhstub.ok("xlconfig", guests / (name + ".pvh"), "--name", name, "--dir", "/guests", *PV_DEVICES,
                 "--ramdisk", guests / ("initrd-%s.cpio" % name), "--cmdline", linux + " pvhstub.debug", "-o", cfg)
        elif kind == "own":
            base = next(g for g in GUESTS[version] if g[0] == kname)
            pvhstub.ok("extract", kernel(base[2]), "-o", guests / ("vmlinux-" + name))
            vmlinux[base[2]] = "vmlinux-" + name
            stub_cfg = next(guests.glob("[0-9]*-%s.cfg" % kname))
            cfg.write_text(with_kernel(stub_cfg, name, "vmlinux-" + name))
        elif kind == "probe":
            pvhstub.ok("wrap", probe_kernel, "-o", guests / "probe.pvh")
            shutil.copy(initrd_bin, guests / initrd_bin.name)
            pvhstub.ok("xlconfig", guests / "probe.pvh", "--name", name, "--dir", "/guests", "--ramdisk",
                 guests / initrd_bin.name, "--cmdline", PROBE_CMDLINE + " pvhstub.debug", "-o", cfg)
            (guests / ("%d-%s.wait" % (n, name))).write_text("15\n")
        elif kind == "kaslr":
            pvhstub.ok("wrap", "--decompress", "--kaslr", "full", kernel(kname), "-o", guests / "kaslr.pvh")
            pvhstub.ok("xlconfig", guests / "kaslr.pvh", "--name", name, "--dir", "/guests", "--vcpus", "2",
                 "--ramdisk", small, "--cmdline", LINUX_CMDLINE + x["extra"], "-o", cfg)
        elif kind == "uki":
            mkinitrd(guests / "initrd-uki.cpio", modules_of(kname))
            images.uki(guests.parent / "uki.efi", kernel(kname), initrd=guests / "initrd-uki.cpio",
                       cmdline=linux + " pvhstub.debug")
            (guests / "initrd-uki.cpio").unlink()     # Only the image carries it to dom0.
            pvhstub.ok("wrap", guests.parent / "uki.efi", "-o", guests / "uki.pvh")
            pvhstub.ok("xlconfig", guests / "uki.pvh", "--name", name, "--dir", "/guests", *PV_DEVICES, "-o", cfg)
        elif kind == "tiny":
            pvhstub.ok("wrap", kernel(kname), "-o", guests / "tiny.pvh")
            pvhstub.ok("xlconfig", guests / "tiny.pvh", "--name", name, "--dir", "/guests", "--ramdisk", small,
                 "--cmdline", TINY_CMDLINE + " pvhstub.debug", "-o", cfg)
            (guests / ("%d-%s.wait" % (n, name))).write_text("15\n")
    # The lifecycle pair (dom0-init's lifecycle(): boot, save and restore,
    # migrate to localhost, reboot, shut down): "life" through the stub and
    # "life-own" through Linux's own PVH entry, ticking (lifecycle=1).  128
    # MiB each: xl save writes the domain's memory to dom0's RAM.
    life = x["life"]
    mkinitrd(guests / "initrd-life.cpio", modules_of(life))
    if life not in pvh:
        pvh[life] = "life.pvh"
        pvhstub.ok("wrap", kernel(life), "-o", guests / "life.pvh")
    if life not in vmlinux:
        vmlinux[life] = "vmlinux-life"
        pvhstub.ok("extract", kernel(life), "-o", guests / "vmlinux-life")
    cfg = guests / ("%d-life.cfg" % (n + 1))
    pvhstub.ok("xlconfig", guests / pvh[life], "--name", "life", "--dir", "/guests", *PV_DEVICES, "--memory", "128",
         "--ramdisk", guests / "initrd-life.cpio", "--cmdline", linux.replace(" kmsg=1", "") + " lifecycle=1",
         "-o", cfg)
    (guests / ("%d-life-own.cfg" % (n + 2))).write_text(with_kernel(cfg, "life-own", vmlinux[life]))
    lives = ["%d-life" % (n + 1), "%d-life-own" % (n + 2)]
    if x["life_kaslr"]:
        pvhstub.ok("wrap", "--decompress", "--kaslr", "full", kernel(life), "-o", guests / "life-kaslr.pvh")
        pvhstub.ok("xlconfig", guests / "life-kaslr.pvh", "--name", "life-kaslr", "--dir", "/guests", *PV_DEVICES,
                   "--memory", "192", "--ramdisk", guests / "initrd-life.cpio", "--cmdline",
                   linux.replace(" kmsg=1", "") + " lifecycle=1", "-o", guests / ("%d-life-kaslr.cfg" % (n + 3)))
        lives.append("%d-life-kaslr" % (n + 3))
    for name in lives:
        (guests / (name + ".life")).write_text("")
    # The PV disk: 3 MiB of pseudo-random bytes in an 8 MiB ext4 image.
    disk = guests.parent / "disk"
    shutil.rmtree(disk, ignore_errors=True)
    disk.mkdir()
    payload = random.Random(12).randbytes(3 << 20)
    (disk / "payload.bin").write_bytes(payload)
    run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "pvhdisk", "-d", disk, guests / "disk.img", "8M"])
    return hashlib.md5(payload).hexdigest()


class XlRun:
    """One Xen run of a version's domUs: the boot, its console, the disk's
    md5, and each domU's domain id (the order of creation, from 1)."""

    def __init__(self, boot, disk_md5):
        self.boot, self.console, self.disk_md5 = boot, boot.console, disk_md5
        self.ids = {name: i + 1 for i, name in enumerate(re.findall(r"^DOM0-CREATE: (\S+)", self.console, re.M))}


RUNS = {}


@pytest.fixture
def xl(kernel, probe_kernel, version):
    """The xl run of VERSION (once per worker: its tests share an xdist group)."""
    if version not in RUNS:
        RUNS[version] = xl_run(version, kernel, probe_kernel)
    r = RUNS[version]
    assert r.boot.rc != 124 and "DOM0-DONE" in r.console, "dom0 did not finish its guests\n%s\n%s" % (
        "\n".join(re.findall(r"^DOM0-.*$", r.console, re.M)), r.boot.tail())
    return r


def xl_run(version, kernel, probe_kernel):
    top = paths.BUILD / "tests" / "pytest" / "test_xen" / ("xl-" + version)
    shutil.rmtree(top, ignore_errors=True)
    guests = top / "guests"
    guests.mkdir(parents=True)
    initrd_bin, _ = probe.initrd(top / "dom0-initrd.bin", 9)
    md5 = prepare_guests(version, kernel, guests, probe_kernel, initrd_bin)
    x = XEN[version]
    run([paths.TOP / "tests/xen/mkdom0.sh", top / "dom0.cpio", version, modules_of(x["dom0"])])
    # The guests' files come to dom0 on a disk of their own (ext2, read-only,
    # virtio; dom0-init mounts it on /guests), not in its initramfs: adding
    # a guest costs dom0 no memory.  Its size: the files, and room for ext2's
    # metadata.
    size = sum(f.stat().st_size for f in guests.rglob("*") if f.is_file())
    run(["mke2fs", "-q", "-F", "-t", "ext2", "-L", "guests", "-d", guests, top / "guests.img",
         "%dK" % ((size * 5 // 4 >> 10) + 16384)])
    # -icount: without it the PV dom0's clock jumped now and then (its TSC is
    # the host's under TCG), so xl's waits ended early.  dom0 gets DOM0_MEM
    # (the lifecycle's save file goes to a tmpfs in it), the guests the rest.
    b = xen_boot(version, top / "console.log", "%s console=hvc0 earlyprintk=xen,%s" % (kernel(x["dom0"]),
                 top / "dom0.cpio"), "dom0_mem=%s" % DOM0_MEM, 1500, memory=2048, icount=True,
                 extra=["-drive", "file=%s,if=virtio,format=raw,readonly=on" % (top / "guests.img")])
    return XlRun(b, md5)


def xen_rows(rows):
    """pytest params of (version, ...) rows, grouped by version on one worker."""
    return [pytest.param(*r, id="-".join(map(str, r)),
                         marks=[pytest.mark.xdist_group("xen-" + r[0]), pytest.mark.long]) for r in rows]


# What dom0's kernel says when one of its own processes or its FPU state went wrong: a
# harness fault, not a guest's, named as such so that it is never read as the stub's.
DOM0_FAULTS = r"^(?:\[\s*[\d.]+\] )?(?:\S+\[\d+\]: segfault at |traps: \S+\[\d+\] |.*Bad FPU state detected).*$"


@pytest.mark.parametrize("version", xen_rows([(v,) for v in XEN]))
def test_dom0_healthy(xl, version):
    """dom0 itself ran clean: no process of its own faulted, no FPU state was bad.  A lifecycle
    row that fails with this one failing is dom0's fault (QEMU TCG's), not the guest's."""
    faults = [m.group(0) for m in re.finditer(DOM0_FAULTS, xl.console, re.M)
              if not m.group(0).startswith(("(d", "DOMU-CONSOLE"))]
    assert not faults, "dom0 faulted (the CPU flags in XEN?):\n" + "\n".join(faults[:10])


@pytest.mark.parametrize("version", xen_rows([(v,) for v in XEN]))
def test_domus_created(xl, version):
    names = [g[0] for g in GUESTS[version]]
    created = re.findall(r"^DOM0-CREATE: (\S+)", xl.console, re.M)
    assert created == names, "dom0 created %s, not %s\n%s" % (created, names, xl.boot.tail())


@pytest.mark.parametrize("version,guest", xen_rows([(v, g[0]) for v in XEN for g in GUESTS[v]]))
def test_domu(xl, version, guest):
    name, kind, _, payload = next(g for g in GUESTS[version] if g[0] == guest)
    bad = Verdicts()
    linux = PV_CMDLINE + XEN[version]["extra"]
    if kind == "stub":
        check_domu.linux_stub(bad, xl.console, xl.ids, name, linux, payload=payload > 0)
        check_domu.pv_devices(bad, xl.console, name, xl.disk_md5, own=False)
    elif kind == "own":
        check_domu.pv_devices(bad, xl.console, name, xl.disk_md5, own=True)
    elif kind == "probe":
        check_domu.probe(bad, xl.console, xl.ids, PROBE_CMDLINE)
    elif kind == "kaslr":
        check_domu.kaslr(bad, xl.console, xl.ids)
    elif kind == "tiny":
        check_domu.tiny(bad, xl.console, xl.ids, TINY_CMDLINE)
    elif kind == "uki":
        check_domu.linux_stub(bad, xl.console, xl.ids, name, linux, payload=False)
        check_domu.pv_devices(bad, xl.console, name, xl.disk_md5, own=False)
        check_domu.carried(bad, xl.console, xl.ids, name)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("version", xen_rows([(v,) for v in XEN]))
def test_own_entry_logs_the_same(xl, version):
    """The same kernel and xl config through the stub and through Linux's
    own PVH entry: their kernel logs, normalized, agree but for the
    differences compare_dmesg.py lists with their reasons."""
    bad = compare_dmesg.compare(xl.console, *COMPARE[version])
    assert not bad, "\n".join(bad)


def life_row(console, name, step):
    m = re.search(r"^DOM0-LIFE: %s %s (\S+)(.*)$" % (re.escape(name), step), console, re.M)
    return (m.group(1), m.group(0)) if m else (None, "no row")


def stub_line(console, row):
    """The stub's line from the domain a lifecycle ROW names ("as domain N"):
    Xen prints a domU's port-0xe9 lines as "(dN) ..."."""
    m = re.search(r"as domain (\d+)\)$", row)
    m = m and re.search(r"^\(d%s\) pvhstub: start_info .* on Xen.*$" % m.group(1), console, re.M)
    return m.group(0) if m else None


def kaslr_of(line):
    """(virtual offset, physical address) from a stub line, or None."""
    m = line and re.search(r"KASLR [^,]+, virtual \+(0x[0-9a-f]+), physical (0x[0-9a-f]+)", line)
    return m and (int(m.group(1), 16), int(m.group(2), 16))


@pytest.mark.parametrize("version,guest,step", xen_rows(
    [(v, "life", s) for v in XEN for s in LIFE_STEPS] +
    [(v, "life-kaslr", s) for v in XEN if XEN[v]["life_kaslr"] for s in LIFE_STEPS]))
def test_lifecycle(xl, version, guest, step):
    """xl STEP on a stub's domU (Linux's own PVH entry's row is shown beside
    it).  life-kaslr, --kaslr full: each boot a KASLR line, and the reboot a
    new virtual offset and physical slot."""
    stub, line = life_row(xl.console, guest, step)
    own = life_row(xl.console, "life-own", step)[1]
    print(line + "\n" + own)
    assert stub == "ok", "%s\nLinux's own PVH entry: %s" % (line, own)
    if step in ("boot", "reboot"):
        said = stub_line(xl.console, line)
        assert said, "at the %s, no stub line from the domU's domain: %s" % (step, line)
        print(said)
        if guest == "life-kaslr":
            now = kaslr_of(said)
            assert now, "at the %s, no virtual offset and physical slot: %s" % (step, said)
            if step == "reboot":
                before = kaslr_of(stub_line(xl.console, life_row(xl.console, guest, "boot")[1]))
                assert now != before, "the reboot ran the kernel at the boot's offset and slot: %s" % said


@pytest.mark.parametrize("version", xen_rows([(v,) for v in XEN]))
def test_lifecycle_disk(xl, version):
    """Every PV disk read of the stub's domU, across all steps, has the disk's md5."""
    ticks = re.findall(r"^DOMU-CONSOLE life: PVHSTUB-TICK: .*$", xl.console, re.M)
    assert not [t for t in ticks if t.endswith("unreadable")], "the disk was unreadable at a tick"
    md5s = {t.rsplit(" ", 1)[1] for t in ticks if re.search(r" [0-9a-f]{32}$", t)}
    assert md5s == {xl.disk_md5}, "the stub's domU read %s, the disk's md5 is %s" % (md5s, xl.disk_md5)
