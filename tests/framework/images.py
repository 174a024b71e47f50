"""Kernel images for the tests: synthetic ones (tests/tool/mk*.py), made
fresh, and Debian's, from the machine cache (scripts/fetch-kernels.sh)."""
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import tempfile

from . import paths


def bzimage(out, *fields, payload=None):
    """A synthetic bzImage (tests/tool/mkbzimage.py): FIELDS are field=value."""
    args = [str(out)] + list(fields) + (["payload=%s" % payload] if payload else [])
    subprocess.run([sys.executable, str(paths.TOP / "tests/tool/mkbzimage.py")] + args, check=True)
    return out


def payload(fmt, out, *options):
    """A tiny vmlinux compressed as a bzImage payload (tests/tool/mkpayload.py)."""
    subprocess.run([sys.executable, str(paths.TOP / "tests/tool/mkpayload.py"), fmt, str(out)] + list(options),
                   check=True)
    return out


def with_header(src, out, init_size=None, initrd_addr_max=None, above_4g=None):
    """A copy of the bzImage SRC with setup header fields set (boot.rst's
    offsets): init_size (the window), initrd_addr_max, and
    XLF_CAN_BE_LOADED_ABOVE_4G in xloadflags."""
    bz = bytearray(pathlib.Path(src).read_bytes())
    if init_size is not None:
        struct.pack_into("<I", bz, 0x260, init_size)
    if initrd_addr_max is not None:
        struct.pack_into("<I", bz, 0x22c, initrd_addr_max)
    if above_4g is not None:
        xlf, = struct.unpack_from("<H", bz, 0x236)
        struct.pack_into("<H", bz, 0x236, (xlf | 2) if above_4g else (xlf & ~2))
    pathlib.Path(out).write_bytes(bz)
    return out


def xen(version):
    """Xen VERSION's hypervisor (tests/xen/fetch-xen.sh, from Debian's
    package, in the machine cache): (its xen.elf, "") or (None, why)."""
    p = subprocess.run([str(paths.TOP / "tests/xen/fetch-xen.sh"), version], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    elf = paths.cache() / ("xen-" + version) / "xen.elf"
    if p.returncode != 0 or not elf.is_file():
        return None, p.stdout.decode(errors="replace")[-2000:]
    return elf, ""


def debian_kernel(name):
    """vmlinuz-NAME from the machine cache, fetched first if need be; None if it cannot be."""
    return cached(name, "vmlinuz-" + name)


def cached(fetch_name, filename):
    """A file scripts/fetch-kernels.sh FETCH_NAME puts in the machine cache
    (memtest86+x64.bin, ipxe.lkrn, busybox-i386, ...); None if it cannot."""
    p = subprocess.run([str(paths.TOP / "scripts/fetch-kernels.sh"), fetch_name], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    f = paths.cache() / "kernels" / filename
    if p.returncode != 0 or not f.is_file():
        return None, p.stdout.decode(errors="replace")[-2000:]
    return f, ""


def tiny_kernel(name):
    """vmlinuz-NAME of the kernels tests/kernels/build-tiny.sh builds from
    Debian's linux-source (without CONFIG_PVH, CONFIG_XEN); built first if
    need be (about 22 minutes on 2 cores); None if it cannot be."""
    p = subprocess.run([str(paths.TOP / "tests/kernels/build-tiny.sh")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    folder = subprocess.run(["sh", "-c", 'top="$1"; . "$top/scripts/common.sh"; tiny_dir', "sh", str(paths.TOP)],
                            stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    k = pathlib.Path(folder) / ("vmlinuz-" + name)
    if p.returncode != 0 or not k.is_file():
        return None, p.stdout.decode(errors="replace")[-2000:]
    return k, ""


def kernel(name):
    """Any kernel the boot tests name: tiny-* from build-tiny.sh, the rest Debian's."""
    return tiny_kernel(name) if name.startswith("tiny-") else debian_kernel(name)


def package(k):
    """The Debian package a cached vmlinuz-NAME came from (its .package file), or its name."""
    p = pathlib.Path(str(k) + ".package")
    return p.read_text().strip() if p.is_file() else pathlib.Path(k).name


# The wrap modes the boot tests use, as pvhstub wrap's options: the 32- and
# 64-bit handoffs of a bzImage; decompressed at wrap time with the stub's
# default KASLR (the virtual offset); and with its physical KASLR too.
WRAPS = {
    "32": ["--handoff", "32"],
    "64": ["--handoff", "64"],
    "decompress": ["--decompress"],
    "full": ["--decompress", "--kaslr", "full"],
}


def initrd(out, payload_mib=4, busybox=None, modules=()):
    """The test initrd (scripts/mkinitrd.sh): init reports what the tests
    read, and a PAYLOAD_MIB pseudo-random file proves the initrd intact;
    MODULES (kernel module files) are loaded by init."""
    env = dict(os.environ)
    if busybox:
        env["BUSYBOX"] = str(busybox)
    if modules:
        env["MODULES"] = " ".join(map(str, modules))
    p = subprocess.run([str(paths.TOP / "scripts/mkinitrd.sh"), str(out), str(payload_mib)], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        raise RuntimeError("scripts/mkinitrd.sh %s: %s" % (out, p.stdout.decode(errors="replace")))
    return out


def cpio_part(out, name):
    """A small initrd part (a newc cpio): /parts.d/NAME, and /parts.last
    holding NAME.  The test init lists /parts.d and prints /parts.last: the
    parts that arrived, and which came last (a later archive's file
    replaces an earlier one's)."""
    root = pathlib.Path(tempfile.mkdtemp())
    try:
        (root / "parts.d").mkdir()
        (root / "parts.d" / name).write_text(name + "\n")
        (root / "parts.last").write_text(name + "\n")
        files = "\n".join([".", "parts.d", "parts.d/" + name, "parts.last"]) + "\n"
        with open(out, "wb") as f:
            subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0"], cwd=root, input=files.encode(),
                           stdout=f, check=True)
    finally:
        shutil.rmtree(root)
    return out


def ukify_tree():
    """Debian 13's ukify, its EFI stub and python3-pefile, unpacked in the
    machine cache (scripts/fetch-kernels.sh ukify): (folder, "") or (None, why)."""
    return cached("ukify", "ukify/.packages")


def uki(out, kernel, initrd=None, cmdline=None, ucode=None, profiles=(), uname=None):
    """A Unified Kernel Image built by Debian 13's ukify around KERNEL: its
    .initrd, .cmdline and .ucode (each left out when None), and PROFILES, a
    list of dicts (ID, TITLE; cmdline: that profile's own .cmdline, not for
    profile 0, which has the base's)."""
    marker, why = ukify_tree()
    if marker is None:
        raise RuntimeError("cannot fetch ukify: " + why)
    tree = marker.parent
    env = dict(os.environ, PYTHONPATH=str(tree / "usr/lib/python3/dist-packages"))
    ukify = ["/usr/bin/python3", str(tree / "usr/lib/systemd/ukify"), "build"]
    efi = tree / "usr/lib/systemd/boot/efi"

    def build(args, dest):
        # A profile's own PE is built on the addon stub, which has no .sbat to come before its .profile.
        stub = "--stub=%s" % (efi / ("linuxx64.efi.stub" if "--linux" in args[0] else "addonx64.efi.stub"))
        p = subprocess.run(ukify + [stub] + args + ["--output=%s" % dest],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            raise RuntimeError("ukify %s: %s" % (" ".join(args), p.stdout.decode(errors="replace")))

    base = ["--linux=%s" % kernel, "--uname=%s" % (uname or "pvhstub-test")]
    if initrd:
        base.append("--initrd=%s" % initrd)
    if cmdline is not None:
        base.append("--cmdline=%s" % cmdline)
    if ucode:
        base.append("--microcode=%s" % ucode)
    if not profiles:
        build(base, out)
        return out
    # ukify's multi-profile recipe: profile 0's .profile closes the base
    # (whose sections every profile shares), each other profile is a PE of
    # its own (.profile, then its .cmdline) joined with --join-profile.
    def profile_arg(prof):
        return "--profile=ID=%s\nTITLE=%s" % (prof["ID"], prof["TITLE"])
    joined = []
    for i, prof in enumerate(profiles[1:], 1):
        one = pathlib.Path(str(out) + ".profile%d" % i)
        args = [profile_arg(prof)] + (["--cmdline=%s" % prof["cmdline"]] if "cmdline" in prof else [])
        build(args, one)
        joined.append("--join-profile=%s" % one)
    build(base + [profile_arg(profiles[0])] + joined, out)
    return out
