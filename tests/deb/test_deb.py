"""The Debian package, for real: make install and uninstall into a DESTDIR;
build the package, lintian it, install it into this machine's dpkg, let the
kernel hooks wrap test kernels put in /boot (as a kernel package's postinst
does, and through kernel-install), boot the image, remove the kernels,
purge the package, and check that nothing is left.

Needs root (CI runs on a throwaway machine).  The tests run in order, on
one xdist worker (the group "dpkg"), each on the machine state the ones
before left; the package fixture removes everything they put in /boot, and
the package, at the end.
"""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from framework import linux, paths, qemu

pytestmark = [pytest.mark.boot, pytest.mark.linux, pytest.mark.long, pytest.mark.xdist_group("dpkg")]

# Two test kernels (the second is the newer), and one that cannot be wrapped.
V1, V2, VBAD = "6.1.0-9901-pvhstubtest", "6.1.0-9902-pvhstubtest", "6.1.0-9903-pvhstubtest"
PVH = pathlib.Path("/boot/pvh")
DEFAULTS = pathlib.Path("/etc/default/pvhstub")
# What the package must install.
FILES = ["/usr/bin/pvhstub", "/usr/share/man/man1/pvhstub.1.gz", "/etc/kernel/postinst.d/pvhstub",
         "/etc/kernel/postrm.d/pvhstub", "/usr/lib/kernel/install.d/85-pvhstub.install", "/etc/default/pvhstub"]
CMDLINE = "console=ttyS0 panic=-1 deb=1"
# The tests, in the order they run (tests/conftest.py).
STEPS = ["test_make_install", "test_make_uninstall", "test_package_builds", "test_lintian", "test_dpkg_installs", "test_postinst_wraps", "test_hook_image_boots", "test_kernel_install_add", "test_grub_glob_lists_no_image", "test_unwrappable_kernel_skipped", "test_xlconfig_follows_current", "test_decompress_setting", "test_kernel_install_remove", "test_postrm_removes", "test_removed_hooks_inert", "test_purge_leaves_nothing"]
DESTDIR = paths.BUILD / "tests" / "pytest" / "test_deb" / "destdir"


def sh(argv, **kw):
    """ARGV's exit status and output (stdout and stderr)."""
    p = subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, **kw)
    return p.returncode, p.stdout.decode(errors="replace")


def listing():
    return sh(["ls", "-l", PVH])[1]


def current():
    return os.readlink(PVH / "current") if (PVH / "current").is_symlink() else None


def hooks(phase, version):
    """/etc/kernel/PHASE.d's pvhstub hook, as a kernel package's maintainer
    script runs them (only ours: the machine's other hooks are not ours to
    run on a test kernel)."""
    return sh(["run-parts", "--report", "--exit-on-error", "--regex", "^pvhstub$", "--arg=" + version,
               "--arg=/boot/vmlinuz-" + version, "/etc/kernel/%s.d" % phase])


def kernel_install(*args):
    """kernel-install ARGS with only our plugin."""
    return sh(["kernel-install"] + list(args), env=dict(os.environ, KERNEL_INSTALL_PLUGINS=
                                                         "/usr/lib/kernel/install.d/85-pvhstub.install"))


def settings(**values):
    """Set /etc/default/pvhstub's VALUES (NAME=value)."""
    text = DEFAULTS.read_text()
    for name, value in values.items():
        text, n = re.subn(r"^%s=.*$" % name, "%s=%s" % (name, value), text, flags=re.M)
        assert n == 1, "no %s= line in %s" % (name, DEFAULTS)
    DEFAULTS.write_text(text)


class Package:
    """What the tests share: the package file, its file list."""
    deb = None
    files = []


@pytest.fixture(scope="module")
def package(tool, cloud_kernel):
    if os.getuid() != 0:
        pytest.skip("the package test installs a package and writes /boot: it needs root")
    for tool_ in ("dpkg", "dpkg-buildpackage", "lintian", "run-parts", "kernel-install"):
        if not shutil.which(tool_):
            pytest.fail("%s is not installed (scripts/install-deps.sh installs it)" % tool_)
    for v in (V1, V2, VBAD):
        if os.path.exists("/boot/vmlinuz-" + v) or (PVH / (v + ".pvh")).exists():
            pytest.fail("/boot already holds a kernel or image named %s; not touching it" % v)
    machine_id = pathlib.Path("/etc/machine-id")
    entry_root = pathlib.Path("/boot") / (machine_id.read_text().strip() if machine_id.is_file() else "")
    had_entry_root = entry_root.exists()
    sh(["dpkg", "--purge", "pvhstub"])          # left over from an interrupted run
    yield Package
    sh(["dpkg", "--purge", "pvhstub"])
    for v in (V1, V2, VBAD):
        for f in ("/boot/vmlinuz-" + v, PVH / (v + ".pvh")):
            if os.path.lexists(f):
                os.unlink(f)
    for f in (PVH / "current", PVH / "pvh.cfg"):
        if os.path.lexists(f):
            os.unlink(f)
    if PVH.is_dir() and not any(PVH.iterdir()):
        PVH.rmdir()
    if not had_entry_root and entry_root != pathlib.Path("/boot") and entry_root.exists():
        shutil.rmtree(entry_root)


def make(target):
    return sh(["make", "-C", paths.TOP, "--no-print-directory", "O=%s" % paths.BUILD, "DESTDIR=%s" % DESTDIR,
               "PREFIX=/opt/pvh", target])


def test_make_install(package):
    """make install into a DESTDIR: every file, the hooks naming the installed helper and tool."""
    if DESTDIR.exists():
        shutil.rmtree(DESTDIR)
    rc, out = make("install")
    assert rc == 0, out[-3000:]
    for f in ("opt/pvh/bin/pvhstub", "opt/pvh/share/man/man1/pvhstub.1", "etc/default/pvhstub",
              "etc/kernel/install.d/85-pvhstub.install"):
        assert (DESTDIR / f).is_file(), "make install did not install /%s" % f
    assert os.access(DESTDIR / "opt/pvh/bin/pvhstub", os.X_OK)
    for f, line in (("etc/kernel/postinst.d/pvhstub", "exec /opt/pvh/lib/pvhstub/pvhstub-kernel add"),
                    ("etc/kernel/postrm.d/pvhstub", "exec /opt/pvh/lib/pvhstub/pvhstub-kernel remove"),
                    ("opt/pvh/lib/pvhstub/pvhstub-kernel", "PVHSTUB=${PVHSTUB:-/opt/pvh/bin/pvhstub}")):
        assert re.search("^" + re.escape(line), (DESTDIR / f).read_text(), re.M), "/%s lacks %r" % (f, line)


def test_make_uninstall(package):
    """make uninstall removes all but the settings in /etc/default/pvhstub."""
    if not DESTDIR.exists():
        pytest.fail("no %s: test_make_install failed" % DESTDIR)
    rc, out = make("uninstall")
    assert rc == 0, out[-3000:]
    left = sorted(str(p.relative_to(DESTDIR)) for p in DESTDIR.rglob("*") if not p.is_dir())
    assert left == ["etc/default/pvhstub"], "make uninstall must leave only the settings: %s" % left


def test_package_builds(package, work):
    """scripts/mkdeb.sh prints the package's path."""
    p = subprocess.run([str(paths.TOP / "scripts/mkdeb.sh"), str(work / "pkg")], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = p.stdout.decode().split()
    deb = pathlib.Path(lines[-1]) if p.returncode == 0 and lines else None
    assert deb and deb.is_file() and deb.stat().st_size, "scripts/mkdeb.sh: exit %d\n%s" % (
        p.returncode, p.stderr.decode(errors="replace")[-3000:])
    package.deb = deb


def need_deb(package):
    if not package.deb:
        pytest.fail("no package: test_package_builds failed")


def test_lintian(package):
    need_deb(package)
    rc, out = sh(["lintian", "--fail-on", "error", package.deb])
    assert rc == 0, "lintian finds errors:\n" + "\n".join(x for x in out.splitlines() if x.startswith("E:"))


def test_dpkg_installs(package):
    need_deb(package)
    rc, out = sh(["dpkg", "-i", package.deb])
    assert rc == 0, out[-3000:]
    package.files = sh(["dpkg", "-L", "pvhstub"])[1].splitlines()
    missing = [f for f in FILES if f not in package.files or not os.path.exists(f)]
    assert not missing, "the package does not install %s" % missing
    conffiles = sh(["dpkg-query", "-W", "-f=${Conffiles}\n", "pvhstub"])[1]
    assert " /etc/default/pvhstub " in conffiles, "/etc/default/pvhstub is no conffile: %r" % conffiles


def test_postinst_wraps(package, cloud_kernel):
    shutil.copy(cloud_kernel, "/boot/vmlinuz-" + V1)
    rc, out = hooks("postinst", V1)
    assert rc == 0 and (PVH / (V1 + ".pvh")).is_file() and current() == V1 + ".pvh", out + listing()
    rc, info = sh(["/usr/bin/pvhstub", "inspect", PVH / "current"])
    assert re.search(r"^kind: *PVH image made by pvhstub wrap", info, re.M), info


def test_hook_image_boots(package, work, initrd):
    b = qemu.boot(PVH / "current", work / "boot.log", machine="microvm", initrd=initrd,
                  append=CMDLINE + " pvhstub.debug", timeout=180, extra=qemu.ICOUNT)
    linux.assert_boot(b, CMDLINE)


def test_kernel_install_add(package, cloud_kernel):
    """The newer kernel becomes current."""
    shutil.copy(cloud_kernel, "/boot/vmlinuz-" + V2)
    rc, out = kernel_install("add", V2, "/boot/vmlinuz-" + V2)
    assert rc == 0 and (PVH / (V2 + ".pvh")).is_file() and current() == V2 + ".pvh", out + listing()


def test_grub_glob_lists_no_image(package):
    """GRUB's 10_linux lists /boot/vmlinuz-*, /vmlinuz-* and /boot/kernel-*:
    only the real kernels may match, never an image of ours."""
    listed = [p for g in ("/boot/vmlinuz-*", "/vmlinuz-*", "/boot/kernel-*") for p in pathlib.Path("/").glob(g[1:])
              if p.is_file()]
    ours = [p for p in listed if str(p.resolve()).startswith(str(PVH) + "/") or p.resolve().suffix == ".pvh"]
    assert not ours, "update-grub's glob would list a PVH image: %s" % ours
    assert pathlib.Path("/boot/vmlinuz-" + V2) in listed, listed


def test_unwrappable_kernel_skipped(package):
    """A kernel the tool refuses: logged, skipped, and the kernel's own
    installation (run-parts) still succeeds."""
    bad = pathlib.Path("/boot/vmlinuz-" + VBAD)
    bad.write_bytes(bytes(8192))
    try:
        rc, out = hooks("postinst", VBAD)
    finally:
        bad.unlink()
    assert rc == 0, out
    assert not (PVH / (VBAD + ".pvh")).exists(), listing()
    assert "could not wrap /boot/vmlinuz-" + VBAD in out, out
    assert current() == V2 + ".pvh", listing()


def test_xlconfig_follows_current(package):
    settings(PVHSTUB_XLCONFIG=PVH / "pvh.cfg")
    rc, out = kernel_install("add", V2, "/boot/vmlinuz-" + V2)
    assert rc == 0, out
    cfg = (PVH / "pvh.cfg").read_text() if (PVH / "pvh.cfg").is_file() else ""
    for line in ('kernel = "%s"' % (PVH / "current"), 'type = "pvh"', 'cmdline = "console=hvc0"'):
        assert re.search("^" + re.escape(line) + "$", cfg, re.M), "pvh.cfg lacks %r:\n%s\n%s" % (line, cfg, out)


@pytest.mark.parametrize("kaslr,want", [("", "virtual offset"), ("full", "virtual offset and physical slot")],
                         ids=["default", "full"])
def test_decompress_setting(package, kaslr, want):
    """PVHSTUB_DECOMPRESS=yes: the stub's KASLR, the virtual offset by
    default, both ways with PVHSTUB_KASLR=full."""
    settings(PVHSTUB_DECOMPRESS="yes", PVHSTUB_KASLR=kaslr)
    try:
        rc, out = kernel_install("add", V2, "/boot/vmlinuz-" + V2)
        info = sh(["/usr/bin/pvhstub", "inspect", PVH / "current"])[1]
    finally:
        settings(PVHSTUB_DECOMPRESS="no", PVHSTUB_KASLR="")
    assert rc == 0, out
    assert re.search(r"^KASLR: *by the stub: %s \(nokaslr" % re.escape(want), info, re.M), info


def test_kernel_install_remove(package):
    """current falls back to the older kernel."""
    os.unlink("/boot/vmlinuz-" + V2)
    rc, out = kernel_install("remove", V2)
    assert rc == 0 and not (PVH / (V2 + ".pvh")).exists() and current() == V1 + ".pvh", out + listing()


def test_postrm_removes(package):
    """postrm.d deletes the image, and current with the last one."""
    os.unlink("/boot/vmlinuz-" + V1)
    rc, out = hooks("postrm", V1)
    assert rc == 0 and not (PVH / (V1 + ".pvh")).exists() and not os.path.lexists(PVH / "current"), \
        out + listing()


def test_removed_hooks_inert(package, cloud_kernel):
    """After dpkg -r, the hooks left in /etc do nothing and fail nothing."""
    shutil.copy(cloud_kernel, "/boot/vmlinuz-" + V1)
    hooks("postinst", V1)
    os.unlink("/boot/vmlinuz-" + V1)
    rc, out = sh(["dpkg", "-r", "pvhstub"])
    assert rc == 0, out
    shutil.copy(cloud_kernel, "/boot/vmlinuz-" + V2)
    try:
        rc, out = hooks("postinst", V2)
    finally:
        os.unlink("/boot/vmlinuz-" + V2)
    assert rc == 0 and not (PVH / (V2 + ".pvh")).exists(), out + listing()


def test_purge_leaves_nothing(package):
    """No package file, no image, no folder of ours."""
    need_deb(package)
    rc, out = sh(["dpkg", "--purge", "pvhstub"])
    assert rc == 0, out
    left = [f for f in package.files if os.path.isfile(f) or os.path.islink(f)]
    left += [str(f) for f in (PVH, pathlib.Path("/var/lib/pvhstub"), DEFAULTS) if os.path.lexists(f)]
    assert package.files and not left, "dpkg --purge leaves %s" % left
