"""The README's set-up on the Debian releases users run (bookworm, trixie,
sid), each in a fresh minbase root on the machine's own mirror
(framework.roots):

- `sh scripts/install-deps.sh` installs everything in a fresh root, and,
  run again, says everything is there;
- `make deb`, then lintian (no error, no warning);
- apt-get install of that package and of the release's cloud kernel
  metapackage: the kernel's hooks wrap it into /boot/pvh/VERSION.pvh;
- boots (BOOTS) under the release's own QEMU: /boot/pvh/current on pc, and
  on QEMU 10 and 11 the plain and --decompress images on pc and microvm and
  an SMP boot;
- on sid, the hook finds the image in /usr/lib/modules/VERSION/ alone;
- on trixie, kernel-install with layout=uki: the plugin wraps the UKI
  ukify built, and the image boots with its initrd and command line;
- purging the kernel removes its image, purging pvhstub what it made;
- on trixie, 'make run' reaches init with trixie's QEMU.

The tests of a release run in order on one xdist worker (its group), each
on the root the ones before left.  Needs root.
"""
import json
import os
import re
import shutil

import pytest

from framework import linux, paths, qemu, roots

RELEASES = roots.RELEASES
NEWER = ["trixie", "sid"]           # QEMU 10 and 11
ICOUNT = "-icount shift=0,sleep=off"
# Each boot: its name, the image (in the root), QEMU's machine arguments,
# the releases it runs on, and what more its console must show.  QEMU 7.2
# (bookworm) hangs -smp under -icount; 10.0's microvm needed the stub's PIC
# masking.
BOOTS = [
    ("current", "/boot/pvh/current", "-M pc", RELEASES, []),
    ("plain-microvm", "/boot/pvh/{kver}.pvh", "-M microvm", NEWER, []),
    ("decompress-pc", "/tmp/dec.pvh", "-M pc", NEWER, []),
    ("decompress-microvm", "/tmp/dec.pvh", "-M microvm", NEWER, []),
    ("smp", "/boot/pvh/{kver}.pvh", "-M pc -smp 4", NEWER,
     [("the kernel did not bring up 4 CPUs", r"smp: Brought up 1 node, 4 CPUs")]),
]
# sid's kernel packages put vmlinuz in /usr/lib/modules/VERSION/ too.
USR_LIB_LAYOUT = ["sid"]
# kernel-install with layout=uki (systemd-ukify): the plugin wraps the UKI it built.
UKI_LAYOUT = ["trixie"]
UKI_CMDLINE = "console=ttyS0 panic=-1 hook=uki"
MAKE_RUN = ["trixie"]               # Debian 13: where most users are
# The tests of a release, in the order they run (tests/conftest.py).
STEPS = ["test_install_deps_fresh", "test_install_deps_again", "test_make_deb", "test_lintian", "test_apt_install",
         "test_boot", "test_hook_usr_lib_layout", "test_kernel_install_uki", "test_purge_kernel", "test_purge_pvhstub",
         "test_make_run"]


def rows(releases, *more):
    marks = [pytest.mark.boot, pytest.mark.linux, pytest.mark.long]
    return [pytest.param(r, *more, id="-".join([r] + [str(m) for m in more[:1]]),
                         marks=marks + [pytest.mark.xdist_group("hosts-" + r)]) for r in releases]


class Host:
    """One release's root and what its tests found so far."""

    def __init__(self, release, logs):
        self.release, self.logs = release, logs
        self.root = self.kept = self.kept_says = self.failed = None
        self.deb = self.kver = None

    def run(self, command, name, timeout=1800):
        """COMMAND in the root; (exit status, its output, kept in LOGS/NAME.log)."""
        log = self.logs / (name + ".log")
        rc = roots.in_root(self.root, command, log, timeout)
        return rc, log.read_text(errors="replace")

    def need(self, what, why):
        if not what:
            pytest.fail("%s: %s" % (self.release, why))


@pytest.fixture(scope="module")
def host(request, tool):
    release = request.param
    if os.getuid() != 0:
        pytest.skip("the hosts tests build roots and mount /proc in them: they need root")
    for cmd in ("mmdebstrap", "chroot", "mount", "umount"):
        if not shutil.which(cmd):
            pytest.fail("%s is not installed (scripts/install-deps.sh installs it)" % cmd)
    logs = paths.BUILD / "tests" / "pytest" / "test_hosts" / release
    roots.unmount_below(logs)
    if logs.exists():
        shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True, exist_ok=True)
    h = Host(release, logs)
    with roots.locked(release):
        try:
            h.kept, h.kept_says = roots.kept(release, logs)
        except roots.Failed as e:
            h.failed = str(e)
            yield h
            return
        with roots.overlay(h.kept, logs / "w") as root:
            h.root = root
            yield h


@pytest.mark.parametrize("host", rows(RELEASES), indirect=True)
def test_install_deps_fresh(host):
    """sh scripts/install-deps.sh installs everything in a fresh minbase root
    (when the root's key changed; else the kept root says when it did)."""
    assert host.kept, host.failed
    print("%s: %s" % (host.release, host.kept_says))


@pytest.mark.parametrize("host", rows(RELEASES), indirect=True)
def test_install_deps_again(host):
    host.need(host.root, "no root")
    rc, out = host.run("cd /src && sh scripts/install-deps.sh", "install-deps-again")
    assert rc == 0 and re.search(r"^install-deps: .*: everything is installed", out, re.M), out[-2000:]


@pytest.mark.parametrize("host", rows(RELEASES), indirect=True)
def test_make_deb(host):
    host.need(host.root, "no root")
    rc, out = host.run("cd /src && make deb O=/tmp/b", "make-deb")
    debs = re.findall(r"^(/tmp/b/deb/pvhstub_.*_amd64\.deb)$", out, re.M)
    assert rc == 0 and debs and os.path.getsize(str(host.root) + debs[-1]), out[-3000:]
    host.deb = debs[-1]


@pytest.mark.parametrize("host", rows(RELEASES), indirect=True)
def test_lintian(host):
    host.need(host.deb, "no package: test_make_deb failed")
    rc, out = host.run("lintian --fail-on error,warning " + host.deb, "lintian")
    assert rc == 0, "\n".join(x for x in out.splitlines() if x[:2] in ("E:", "W:"))


@pytest.mark.parametrize("host", rows(RELEASES), indirect=True)
def test_apt_install(host):
    """The package and the release's cloud kernel, as a user installs them:
    the hook wraps the kernel, and current points at it."""
    host.need(host.deb, "no package: test_make_deb failed")
    rc, out = host.run("apt-get install -y -q --no-install-recommends %s linux-image-cloud-amd64" % host.deb,
                       "apt-install")
    assert rc == 0, out[-3000:]
    # The one kernel in the fresh root (sid's packages are split:
    # linux-image-VER, linux-binary-VER, linux-modules-VER).
    kvers = sorted(os.listdir(host.root / "usr/lib/modules"))
    assert len(kvers) == 1, "want one kernel in /usr/lib/modules: %s" % kvers
    pvh = host.root / "boot/pvh"
    assert (pvh / (kvers[0] + ".pvh")).is_file() and os.readlink(pvh / "current") == kvers[0] + ".pvh", \
        "\n".join(x for x in out.splitlines() if "pvhstub" in x) + "\n" + str(sorted(os.listdir(pvh)))
    host.kver = kvers[0]


def boot_in_root(host, name, image, machine, initrd=None, append=None):
    """IMAGE booted by the root's QEMU: a qemu.Boot, its logs kept as qemu.boot() keeps them."""
    console = host.root / "tmp" / ("%s.log" % name)
    if console.exists():
        console.unlink()
    command = ("timeout --kill-after=5 240 qemu-system-x86_64 %s %s -m 512 -display none -no-reboot "
               "-serial file:/tmp/%s.log -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel %s%s%s"
               % (machine, ICOUNT, name, image, " -initrd " + initrd if initrd else "",
                  " -append '%s'" % append if append else ""))
    rc, said = host.run(command, "qemu-" + name, timeout=300)
    log = host.logs / ("boot-%s.log" % name)
    log.write_bytes(console.read_bytes() if console.exists() else b"")
    (host.logs / ("boot-%s.log.qemu" % name)).write_text(said)
    (host.logs / ("boot-%s.log.cmd" % name)).write_text("# in the %s root (tests/hosts/test_hosts.py)\n%s\n"
                                                        % (host.release, command))
    return qemu.Boot(command, 124 if rc in (124, 137) else rc, log, 240)


# scope="module": with a direct parameter beside it, pytest would otherwise
# give the host fixture this test's scope, and set its root up anew.
@pytest.mark.parametrize("host,boot", [p for b in BOOTS for p in rows(b[3], b[0])], indirect=["host"],
                         scope="module")
def test_boot(host, boot):
    host.need(host.kver, "no kernel installed: test_apt_install failed")
    _, image, machine, _, checks = next(b for b in BOOTS if b[0] == boot)
    image = image.format(kver=host.kver)
    if image == "/tmp/dec.pvh" and not (host.root / "tmp/dec.pvh").is_file():
        kimg = "/boot/vmlinuz-" + host.kver
        if not (host.root / kimg[1:]).is_file():
            kimg = "/usr/lib/modules/%s/vmlinuz" % host.kver
        rc, out = host.run("pvhstub wrap --decompress %s -o /tmp/dec.pvh" % kimg, "wrap-decompress")
        assert rc == 0, out
    if not (host.root / "tmp/initrd.cpio").is_file():
        rc, out = host.run("sh /src/scripts/mkinitrd.sh /tmp/initrd.cpio 4", "mkinitrd")
        assert rc == 0, out[-2000:]
    cmdline = "console=ttyS0 panic=-1 hosts=" + host.release
    b = boot_in_root(host, boot, image, machine, "/tmp/initrd.cpio", cmdline + " pvhstub.debug")
    linux.assert_boot(b, cmdline)
    for why, pattern in checks:
        assert re.search(pattern, b.console), why + "\n" + b.tail()


@pytest.mark.parametrize("host", rows(USR_LIB_LAYOUT), indirect=True)
def test_hook_usr_lib_layout(host):
    """With no /boot/vmlinuz-VERSION, the hook wraps /usr/lib/modules/VERSION/vmlinuz."""
    host.need(host.kver, "no kernel installed: test_apt_install failed")
    kver = host.kver
    assert (host.root / "usr/lib/modules" / kver / "vmlinuz").is_file(), "no /usr/lib/modules/%s/vmlinuz" % kver
    boot, away = host.root / "boot" / ("vmlinuz-" + kver), host.root / "tmp" / ("vmlinuz-%s.away" % kver)
    if boot.exists():
        boot.rename(away)
    (host.root / "boot/pvh" / (kver + ".pvh")).unlink()
    try:
        rc, out = host.run("run-parts --report --regex '^pvhstub$' --arg=%s --arg=/boot/vmlinuz-%s "
                           "/etc/kernel/postinst.d" % (kver, kver), "hook-usrlib")
    finally:
        if away.exists():
            away.rename(boot)
    assert rc == 0 and ("pvhstub: wrapped /usr/lib/modules/%s/vmlinuz into /boot/pvh/%s.pvh" % (kver, kver)) in out \
        and (host.root / "boot/pvh" / (kver + ".pvh")).is_file(), out


@pytest.mark.parametrize("host", rows(UKI_LAYOUT), indirect=True)
def test_kernel_install_uki(host):
    """kernel-install with layout=uki: 60-ukify.install builds the UKI,
    85-pvhstub.install wraps it into /boot/pvh/VERSION.pvh, which carries
    its initrd and /etc/kernel/cmdline and boots with no -initrd or -append."""
    host.need(host.kver, "no kernel installed: test_apt_install failed")
    kver = host.kver
    rc, out = host.run("apt-get install -y -q --no-install-recommends systemd-ukify systemd-boot-efi", "apt-ukify")
    assert rc == 0, out[-3000:]
    (host.root / "etc/kernel").mkdir(exist_ok=True)
    (host.root / "etc/kernel/install.conf").write_text("layout=uki\n")
    (host.root / "etc/kernel/cmdline").write_text(UKI_CMDLINE + " pvhstub.debug\n")
    if not (host.root / "tmp/initrd.cpio").is_file():
        rc, out = host.run("sh /src/scripts/mkinitrd.sh /tmp/initrd.cpio 4", "mkinitrd")
        assert rc == 0, out[-2000:]
    kimg = "/boot/vmlinuz-" + kver
    if not (host.root / kimg[1:]).is_file():
        kimg = "/usr/lib/modules/%s/vmlinuz" % kver
    rc, out = host.run("kernel-install -v add %s %s /tmp/initrd.cpio" % (kver, kimg), "kernel-install-uki")
    assert rc == 0 and re.search(r"^pvhstub: wrapped /\S*/uki\.efi into /boot/pvh/%s\.pvh$" % re.escape(kver), out,
                                 re.M), out[-3000:]
    # The UKI kernel-install put in place: the PVH image is made from it, before it is copied.
    assert list((host.root / "boot/EFI/Linux").glob("*%s.efi" % kver)), out[-3000:]
    assert os.readlink(host.root / "boot/pvh/current") == kver + ".pvh"
    # The command line ukify put in the UKI: /etc/kernel/cmdline, and the machine id kernel-install adds.
    rc, out = host.run("pvhstub inspect --json /boot/pvh/current", "inspect-uki")
    carried = json.loads(out.splitlines()[-1])["carried_cmdline"] if rc == 0 else None
    assert carried and carried.startswith(UKI_CMDLINE + " pvhstub.debug"), out[-2000:]
    b = boot_in_root(host, "uki-current", "/boot/pvh/current", "-M pc")
    linux.assert_boot(b, carried.replace(" pvhstub.debug", ""))
    linux.assert_carried(b, [host.root / "tmp/initrd.cpio"])


@pytest.mark.parametrize("host", rows(RELEASES), indirect=True)
def test_purge_kernel(host):
    """Purging the kernel removes its image and current."""
    host.need(host.kver, "no kernel installed: test_apt_install failed")
    kpkgs = [p for p in host.run("dpkg-query -W -f='${Package}\\n'", "packages")[1].split() if p.endswith(
        "-" + host.kver)]
    rc, out = host.run("apt-get purge -y -q linux-image-cloud-amd64 " + " ".join(kpkgs), "apt-purge")
    pvh = host.root / "boot/pvh"
    assert rc == 0 and not (pvh / (host.kver + ".pvh")).exists() and not os.path.lexists(pvh / "current"), \
        out[-2000:]


@pytest.mark.parametrize("host", rows(RELEASES), indirect=True)
def test_purge_pvhstub(host):
    """dpkg --purge pvhstub leaves no /boot/pvh, /var/lib/pvhstub, tool or settings."""
    host.need(host.deb, "no package: test_make_deb failed")
    rc, out = host.run("dpkg --purge pvhstub", "purge")
    left = [f for f in ("boot/pvh", "var/lib/pvhstub", "usr/bin/pvhstub", "etc/default/pvhstub")
            if os.path.lexists(host.root / f)]
    assert rc == 0 and not left, "left %s\n%s" % (left, out[-2000:])


@pytest.mark.parametrize("host", rows(MAKE_RUN), indirect=True)
def test_make_run(host):
    """make run, as the README's quick start has it, reaches init through the stub."""
    host.need(host.root, "no root")
    rc, out = host.run("cd /src && timeout 600 make run", "make-run", timeout=700)
    out = out.replace("\r", "")
    assert "PVHSTUB-INIT: reached init" in out and re.search(r"^pvhstub: start_info 0x[0-9a-f]* v1", out, re.M), \
        "make run (exit %d):\n%s" % (rc, "\n".join(out.splitlines()[-30:]))
