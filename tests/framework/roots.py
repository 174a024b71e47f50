"""Roots of the Debian releases users run, for the hosts tests.

A root is a fresh mmdebstrap minbase root of the release, from the
machine's own mirror, where `sh scripts/install-deps.sh` (the README's
set-up) ran and said it installed everything.  It is kept in
$PVHSTUB_CACHE/roots/RELEASE-KEY, KEY a hash of install-deps.sh and the
release's package lists (their Release files): when either changes, the
root is built again, and install-deps.sh runs on a fresh root.  A test run
works on an overlay of it (a copy where overlays are not allowed), so the
kept root stays as install-deps.sh left it.  Needs root.
"""
import contextlib
import fcntl
import hashlib
import os
import pathlib
import shutil
import subprocess
import time

from . import paths

RELEASES = ["bookworm", "trixie", "sid"]


def suites(release):
    return [release] if release == "sid" else [release, release + "-updates", release + "-security"]


def common(script):
    """SCRIPT run by sh after scripts/common.sh: (exit status, stdout)."""
    p = subprocess.run(["sh", "-c", '. "$1/scripts/common.sh"; ' + script, "sh", str(paths.TOP)],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode().strip()


class Failed(Exception):
    """A root that could not be made, and why."""


def sh(argv, log, timeout=3600, **kw):
    """ARGV with its output in LOG: its exit status (124 after TIMEOUT seconds)."""
    with open(log, "wb") as out:
        try:
            return subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=timeout, **kw).returncode
        except subprocess.TimeoutExpired:
            return 124


def tail(log, n=10):
    lines = pathlib.Path(log).read_text(errors="replace").splitlines()[-n:] if os.path.exists(log) else []
    return "\n".join("    " + x for x in lines)


def in_root(root, command, log, timeout=1800):
    """COMMAND (sh) inside ROOT, as a fresh login runs it: no stdin, a plain
    environment; its output in LOG.  Its exit status."""
    return sh(["chroot", root, "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
               "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive", "CI=" + os.environ.get("CI", ""),
               "/bin/sh", "-c", command], log, timeout)


def copy_tree(dest):
    """The source tree as a user's clone has it (no build output, caches or git data)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    pack = subprocess.Popen(["tar", "-C", str(paths.TOP), "--exclude=./.git", "--exclude=./.cache",
                             "--exclude=./build", "-cf", "-", "."], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-C", str(dest), "-xf", "-"], stdin=pack.stdout, check=True)
    pack.stdout.close()
    if pack.wait() != 0:
        raise Failed("tar of the source tree failed")


@contextlib.contextmanager
def mounted(root):
    """/proc and /sys inside ROOT, undone at the end."""
    done = []
    try:
        for kind, where in (("proc", "proc"), ("sysfs", "sys")):
            subprocess.run(["mount", "-t", kind, kind, str(root / where)], check=True)
            done.append(root / where)
        yield root
    finally:
        for m in reversed(done):
            subprocess.run(["umount", "-l", str(m)])


def mounts_below(path):
    """What is mounted at PATH or below it, deepest first."""
    path = os.path.realpath(path)
    points = [line.split()[1] for line in pathlib.Path("/proc/mounts").read_text().splitlines()]
    return sorted((m for m in points if m == path or m.startswith(path + "/")), reverse=True)


def unmount_below(path):
    """Unmount whatever is mounted at PATH or below it (a run killed before
    its clean-up leaves its mounts)."""
    for m in mounts_below(path):
        subprocess.run(["umount", "-l", m])


def remove(root):
    """rm -rf ROOT, but only with nothing mounted below it."""
    if not root.exists():
        return
    if mounts_below(root):
        raise Failed("%s still has mounts; left in place" % root)
    shutil.rmtree(root)


@contextlib.contextmanager
def locked(release):
    """The release's roots, ours while the block runs."""
    d = paths.cache() / "roots"
    d.mkdir(parents=True, exist_ok=True)
    with open(d / (release + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield d


def kept(release, logs):
    """The kept root of RELEASE, built first if its key changed: (its path,
    what it says of itself).  Call it holding locked(release).  Raises
    Failed with the reason."""
    apt = paths.cache() / "apt" / release
    rc, _ = common('apt_release "%s" %s' % (apt, " ".join(suites(release))))
    if rc != 0:
        raise Failed("%s: no mirror in the machine's apt sources" % release)
    releases = sorted((apt / "lists").glob("*Release"))
    if not releases:
        raise Failed("%s: the mirror's index could not be fetched (apt-get update in %s)" % (release, apt))
    h = hashlib.sha256((paths.TOP / "scripts/install-deps.sh").read_bytes() + release.encode() + b"\n")
    for f in releases:
        h.update(f.read_bytes())
    roots = paths.cache() / "roots"
    root = roots / ("%s-%s" % (release, h.hexdigest()[:12]))
    stamp = root / ".pvhstub-root"
    if stamp.is_file():
        return root, "kept: " + stamp.read_text().strip()
    start = time.time()
    for old in roots.glob(release + "-*"):
        if old.is_dir():
            remove(old)
    mirror, security = common("debian_mirror")[1], common("debian_security_mirror")[1]
    sources = ["deb %s %s main" % (security if s.endswith("-security") else mirror, s) for s in suites(release)]
    tmp = roots / (root.name + ".tmp")
    remove(tmp)
    log = logs / "mmdebstrap.log"
    if sh(["mmdebstrap", "--variant=minbase", "--aptopt=Acquire::Check-Valid-Until \"false\"", release, tmp]
          + sources, log) != 0:
        remove(tmp)
        raise Failed("mmdebstrap --variant=minbase %s:\n%s" % (release, tail(log, 5)))
    copy_tree(tmp / "src")
    log = logs / "install-deps.log"
    with mounted(tmp):
        rc = in_root(tmp, "cd /src && sh scripts/install-deps.sh", log)
    said = [x for x in log.read_text(errors="replace").splitlines() if x.startswith("install-deps: ")]
    done = [x for x in said if x.endswith(")") and ": done (clang " in x]
    if rc != 0 or not done:
        remove(tmp)
        raise Failed("sh scripts/install-deps.sh in a fresh minbase root (exit %d):\n%s" % (rc, tail(log, 8)))
    shutil.rmtree(tmp / "src")
    for deb in (tmp / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()
    stamp = "built %s in %d s; %s" % (time.strftime("%Y-%m-%d", time.gmtime()), time.time() - start,
                                      done[-1][len("install-deps: "):])
    (tmp / ".pvhstub-root").write_text(stamp + "\n")
    tmp.rename(root)
    return root, "built: " + stamp


@contextlib.contextmanager
def overlay(kept_root, work):
    """A root of our own on KEPT_ROOT, in WORK, with the source tree in
    /src and /proc and /sys mounted; gone at the end."""
    root = work / "root"
    unmount_below(work)
    remove(work)
    for d in ("upper", "ovl", "root"):
        (work / d).mkdir(parents=True)
    mounted_overlay = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", "lowerdir=%s,upperdir=%s,workdir=%s" % (
            kept_root, work / "upper", work / "ovl"), str(root)], stderr=subprocess.DEVNULL).returncode == 0
    if not mounted_overlay:
        subprocess.run(["cp", "-a", "%s/." % kept_root, str(root)], check=True)
    try:
        copy_tree(root / "src")
        with mounted(root):
            yield root
    finally:
        unmount_below(work)
        remove(work)
