"""The tool's command line as a user meets it: every refusal is a row (the
command, its exit status, its message), run in a folder of its own whose
every file is checksummed before and after: a refusal creates nothing and
changes nothing.  Then the rows that must write, and what they wrote."""
import json
import os
import pty
import re
import signal
import socket
import stat
import subprocess
import time

import pytest

from framework import images, paths, qemu, tool as pvhstub


@pytest.fixture
def folder(work, tool):
    """A folder with a synthetic bzImage (gzip payload), its wrapped image,
    its vmlinux and an initrd: k, w.pvh, v.elf, initrd.img."""
    images.payload("gzip", work / "payload.gz", "relocs=good", "banner=1")
    images.bzimage(work / "k", payload=work / "payload.gz")
    os.unlink(work / "payload.gz")
    for args in (["wrap", "k", "-o", "w.pvh"], ["extract", "k", "-o", "v.elf"]):
        r = pvhstub.run(args, cwd=work)
        assert r.rc == 0, str(r)
    (work / "initrd.img").write_bytes(b"070701" + b"0" * 4090)
    return work


def mknod_char(d):
    if os.getuid() != 0:
        pytest.skip("mknod needs root")
    os.mknod(d / "node", 0o644 | stat.S_IFCHR, os.makedev(1, 3))


def mknod_block(d):
    if os.getuid() != 0:
        pytest.skip("mknod needs root")
    os.mknod(d / "blk", 0o644 | stat.S_IFBLK, os.makedev(7, 0))


def bind_socket(path):
    """A UNIX socket at path, left bound (its file stays)."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


# id, prepare(folder) or None, argv, exit status, a regex stderr must match.
REFUSALS = [
    # An output that is an input, however it is spelled.
    ("extract-onto-input", None, ["extract", "k", "-o", "k"], 1,
     r"^pvhstub extract: refusing to overwrite the input k with the output k$"),
    ("extract-onto-input-dot", None, ["extract", "k", "-o", "./k"], 1, r"refusing to overwrite the input k"),
    ("extract-onto-input-dotdot", lambda d: os.mkdir(d / "sub"), ["extract", "k", "-o", "sub/../k"], 1,
     r"refusing to overwrite the input k with the output sub/../k"),
    ("extract-through-link", lambda d: os.symlink("k", d / "lk"), ["extract", "lk", "-o", "k"], 1,
     r"refusing to overwrite the input lk"),
    ("extract-onto-hard-link", lambda d: os.link(d / "k", d / "hk"), ["extract", "k", "-o", "hk"], 1,
     r"refusing to overwrite the input k with the output hk"),
    ("wrap-onto-input", None, ["wrap", "k", "-o", "k"], 1, r"refusing to overwrite the input k"),
    ("wrap-onto-stub", None, ["wrap", "k", "--stub", str(paths.BUILD / "stub.elf"), "-o",
                              str(paths.BUILD / "stub.elf")], 1,
     r"refusing to overwrite the input .*stub.elf"),
    ("xlconfig-onto-image", None, ["xlconfig", "w.pvh", "-o", "w.pvh"], 1,
     r"refusing to overwrite the input w.pvh with the output w.pvh"),
    ("xlconfig-onto-ramdisk", None, ["xlconfig", "w.pvh", "--ramdisk", "initrd.img", "-o", "initrd.img"], 1,
     r"refusing to overwrite the input initrd.img"),
    # Only regular files are replaced.
    ("wrap-onto-char-device", mknod_char, ["wrap", "k", "-o", "node"], 1,
     r"^pvhstub wrap: node is a character device: pvhstub writes regular files only \(-o - writes to standard output\)$"),
    ("wrap-onto-block-device", mknod_block, ["wrap", "k", "-o", "blk"], 1, r"blk is a block device"),
    ("wrap-onto-fifo", lambda d: os.mkfifo(d / "fifo"), ["wrap", "k", "-o", "fifo"], 1, r"fifo is a FIFO"),
    ("wrap-onto-directory", lambda d: os.mkdir(d / "dir"), ["wrap", "k", "-o", "dir"], 1, r"dir is a directory"),
    ("xlconfig-onto-fifo", lambda d: os.mkfifo(d / "fifo"), ["xlconfig", "w.pvh", "-o", "fifo"], 1,
     r"fifo is a FIFO"),
    ("extract-onto-dangling-link", lambda d: os.symlink("nowhere", d / "dl"), ["extract", "k", "-o", "dl"], 1,
     r"dl: a symbolic link to a file that does not exist"),
    ("wrap-into-missing-folder", None, ["wrap", "k", "-o", "no/such/out"], 1,
     r"no/such/out: cannot create a file beside it: No such file or directory"),
    # Inputs that are not regular files are refused at once, never waited on
    # (a FIFO without a writer would block a plain open()).
    ("inspect-a-fifo", lambda d: os.mkfifo(d / "fifo"), ["inspect", "fifo"], 1,
     r"^pvhstub inspect: fifo: a FIFO: pvhstub reads regular files only$"),
    ("wrap-a-fifo", lambda d: os.mkfifo(d / "fifo"), ["wrap", "fifo", "-o", "x"], 1,
     r"^pvhstub wrap: fifo: a FIFO: pvhstub reads regular files only$"),
    ("wrap-initrd-fifo", lambda d: os.mkfifo(d / "fifo"), ["wrap", "k", "--initrd", "fifo", "-o", "x"], 1,
     r"fifo: a FIFO: pvhstub reads regular files only$"),
    ("wrap-stub-fifo", lambda d: os.mkfifo(d / "fifo"), ["wrap", "--stub", "fifo", "k", "-o", "x"], 1,
     r"fifo: a FIFO: pvhstub reads regular files only$"),
    ("xlconfig-a-fifo", lambda d: os.mkfifo(d / "fifo"), ["xlconfig", "fifo", "-o", "x.cfg"], 1,
     r"^pvhstub xlconfig: fifo: a FIFO: pvhstub reads regular files only$"),
    ("extract-a-fifo", lambda d: os.mkfifo(d / "fifo"), ["extract", "fifo", "-o", "x"], 1,
     r"^pvhstub extract: fifo: a FIFO: pvhstub reads regular files only$"),
    ("inspect-a-socket", lambda d: bind_socket(d / "sock"), ["inspect", "sock"], 1,
     r"^pvhstub inspect: sock: a socket: pvhstub reads regular files only$"),
    ("inspect-a-char-device", None, ["inspect", "/dev/zero"], 1,
     r"^pvhstub inspect: /dev/zero: a character device: pvhstub reads regular files only$"),
    ("wrap-a-directory", lambda d: os.mkdir(d / "dir"), ["wrap", "dir", "-o", "x"], 1,
     r"^pvhstub wrap: dir: a directory: pvhstub reads regular files only$"),
    ("wrap-too-large", lambda d: os.truncate(d / "k", 513 << 20), ["wrap", "k", "-o", "x"], 1,
     r"^pvhstub wrap: k: larger than 512 MiB: no kernel or initrd is$"),
    # Inputs that cannot boot.
    ("wrap-a-wrapped-image", None, ["wrap", "w.pvh", "-o", "again.pvh"], 1,
     r"w.pvh: this is already a PVH image made by pvhstub wrap; wrap the kernel it was made from"),
    ("extract-a-wrapped-image", None, ["extract", "w.pvh", "-o", "x"], 1, r"pvhstub extract: w.pvh: "),
    ("xlconfig-a-bzimage", None, ["xlconfig", "k", "-o", "x.cfg"], 1, r"not an image made by pvhstub wrap"),
    ("no-kaslr-on-a-bzimage", None, ["wrap", "--no-kaslr", "k", "-o", "x"], 1,
     r"k: --no-kaslr applies to a pre-decompressed kernel"),
    ("kaslr-on-a-bzimage", None, ["wrap", "--kaslr", "full", "k", "-o", "x"], 1,
     r"k: --kaslr applies to a pre-decompressed kernel"),
    ("stub-not-elf", lambda d: (d / "text.txt").write_text("hello\n"),
     ["wrap", "--stub", "text.txt", "k", "-o", "x"], 1, r"^pvhstub wrap: --stub text.txt: not an ELF file"),
    ("stub-missing", None, ["wrap", "--stub", "nostub", "k", "-o", "x"], 1,
     r"^pvhstub wrap: nostub: No such file or directory"),
    # Usage errors: exit 2, whatever the command.
    ("no-command", None, [], 2, r"^pvhstub: no command\nTry 'pvhstub --help'.$"),
    ("unknown-command", None, ["frob"], 2, r"^pvhstub: unknown command 'frob'\nTry 'pvhstub --help'.$"),
    ("unknown-option", None, ["wrap", "--frob", "k", "-o", "x"], 2,
     r"^pvhstub wrap: unknown option '--frob'\nTry 'pvhstub wrap --help'.$"),
    ("option-without-value", None, ["wrap", "k", "-o"], 2, r"this option needs a value: '-o'"),
    ("wrap-no-output", None, ["wrap", "k"], 2, r"need KERNEL and -o OUT"),
    ("wrap-two-kernels", None, ["wrap", "k", "w.pvh", "-o", "x"], 2, r"unexpected argument 'w.pvh'"),
    ("output-twice", None, ["wrap", "k", "-o", "x", "-o", "y"], 2,
     r"^pvhstub wrap: --output given twice, the second time as 'y'"),
    ("handoff-twice", None, ["wrap", "k", "--handoff", "32", "--handoff", "64", "-o", "x"], 2,
     r"--handoff given twice"),
    ("handoff-16", None, ["wrap", "k", "--handoff", "16", "-o", "x"], 2, r"--handoff takes 32 or 64, not '16'"),
    ("kaslr-bogus", None, ["wrap", "k", "--kaslr", "some", "-o", "x"], 2,
     r"--kaslr takes virtual, full or off, not 'some'"),
    ("kaslr-and-no-kaslr", None, ["wrap", "k", "--kaslr", "full", "--no-kaslr", "-o", "x"], 2,
     r"--kaslr and --no-kaslr together"),
    ("xl-memory-abc", None, ["xlconfig", "w.pvh", "--memory", "abc", "-o", "x.cfg"], 2,
     r"--memory wants a positive number of MiB, not 'abc'"),
    ("xl-memory-huge", None, ["xlconfig", "w.pvh", "--memory", "99999999999", "-o", "x.cfg"], 2,
     r"--memory takes at most 16777216, not '99999999999'"),
    ("xl-memory-overflow", None, ["xlconfig", "w.pvh", "--memory", "99999999999999999999999", "-o", "x.cfg"], 2,
     r"--memory takes at most 16777216"),
    ("xl-vcpus-0", None, ["xlconfig", "w.pvh", "--vcpus", "0", "-o", "x.cfg"], 2,
     r"--vcpus wants a positive number, not '0'"),
    ("xl-on-crash-bogus", None, ["xlconfig", "w.pvh", "--on-crash", "bogus", "-o", "x.cfg"], 2,
     r"--on-crash takes destroy, restart, preserve, rename-restart, coredump-destroy or coredump-restart, not 'bogus'"),
    ("xl-name-twice", None, ["xlconfig", "w.pvh", "--name", "a", "--name", "b", "-o", "x.cfg"], 2,
     r"--name given twice"),
    ("xl-cmdline-newline", None, ["xlconfig", "w.pvh", "--cmdline", "a\nb", "-o", "x.cfg"], 2,
     r"--cmdline holds a control character \(0x0a\), which an xl config cannot carry"),
    ("xl-name-tab", None, ["xlconfig", "w.pvh", "--name", "a\tb", "-o", "x.cfg"], 2,
     r"--name holds a control character \(0x09\)"),
    ("xl-disk-escape", None, ["xlconfig", "w.pvh", "--disk", "target=/a\x1b[0m", "-o", "x.cfg"], 2,
     r"--disk holds a control character \(0x1b\)"),
    ("xl-image-path-newline", lambda d: os.symlink("w.pvh", d / "w\nx"), ["xlconfig", "w\nx", "-o", "x.cfg"], 2,
     r"IMAGE holds a control character \(0x0a\)"),
    ("xl-ramdisk-missing", None, ["xlconfig", "w.pvh", "--ramdisk", "nope", "-o", "x.cfg"], 1,
     r"--ramdisk nope: No such file or directory"),
    ("xl-ramdisk-directory", lambda d: os.mkdir(d / "rd"), ["xlconfig", "w.pvh", "--ramdisk", "rd", "-o", "x.cfg"], 1,
     r"^pvhstub xlconfig: --ramdisk rd: not a regular file$"),
    ("xl-memory-too-small", None, ["xlconfig", "w.pvh", "--memory", "16", "-o", "x.cfg"], 1,
     r"--memory 16 MiB is too small"),
]


@pytest.mark.parametrize("prepare,argv,rc,message", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refusal(folder, prepare, argv, rc, message):
    if prepare:
        prepare(folder)
    pvhstub.refuses(folder, argv, rc, message)


def test_stdout_is_a_terminal(folder):
    """A binary image is not written to a terminal; a text config is."""
    before = pvhstub.snapshot(folder)
    for argv, rc in ((["wrap", "k", "-o", "-"], 1), (["extract", "k", "-o", "-"], 1),
                     (["xlconfig", "w.pvh", "-o", "-"], 0)):
        master, slave = pty.openpty()
        try:
            r = pvhstub.run(argv, cwd=folder, stdout=slave)
        finally:
            os.close(slave)
        os.close(master)
        assert r.rc == rc, str(r)
        if rc:
            assert "-o -: standard output is a terminal; redirect it to a file or a pipe" in r.stderr.decode(), str(r)
    assert not pvhstub.changes(before, pvhstub.snapshot(folder))


def test_stdout_output(folder):
    """-o - writes to standard output (a pipe here), the same bytes as to a file, and no file named '-'."""
    for argv in (["wrap", "k"], ["extract", "k"], ["xlconfig", "w.pvh"]):
        to_file = pvhstub.run(argv + ["-o", "out"], cwd=folder)
        to_stdout = pvhstub.run(argv + ["-o", "-"], cwd=folder)
        assert to_file.rc == 0 and to_stdout.rc == 0, "%s\n%s" % (to_file, to_stdout)
        assert to_stdout.stdout == (folder / "out").read_bytes(), argv
        assert not (folder / "-").exists()
    # Standard output that is the input is refused, before anything is written.
    with open(folder / "k", "ab") as f:
        r = pvhstub.run(["extract", "k", "-o", "-"], cwd=folder, stdout=f)
    assert r.rc == 1 and "-o -: standard output is the input k" in r.stderr.decode(), str(r)


def test_symlink_output_replaces_its_target(folder):
    """-o LINK replaces the file the link names; the link stays a link."""
    (folder / "old.pvh").write_bytes(b"old")
    os.symlink("old.pvh", folder / "current")
    r = pvhstub.run(["wrap", "k", "-o", "current"], cwd=folder)
    assert r.rc == 0, str(r)
    assert os.readlink(folder / "current") == "old.pvh"
    assert (folder / "old.pvh").read_bytes() == pvhstub.run(["wrap", "k", "-o", "-"], cwd=folder).stdout


def test_modes(folder):
    """A new output gets 0666 less the umask; a replaced one keeps its mode."""
    env = dict(os.environ)
    r = subprocess.run(["sh", "-c", "umask 027 && exec \"$0\" wrap k -o new.pvh", str(paths.TOOL)], cwd=folder)
    assert r.returncode == 0
    assert stat.S_IMODE(os.stat(folder / "new.pvh").st_mode) == 0o640
    (folder / "kept.pvh").write_bytes(b"x")
    os.chmod(folder / "kept.pvh", 0o600)
    r = pvhstub.run(["wrap", "k", "-o", "kept.pvh"], cwd=folder, env=env)
    assert r.rc == 0, str(r)
    assert stat.S_IMODE(os.stat(folder / "kept.pvh").st_mode) == 0o600
    assert (folder / "kept.pvh").stat().st_size > 1


@pytest.fixture(scope="session")
def slow_bzimage(tmp_path_factory):
    """A bzImage whose payload takes a while to decompress: 480 MiB of zeros."""
    d = tmp_path_factory.mktemp("slow")
    images.payload("gzip", d / "p.gz", "zeros=480")
    return images.bzimage(d / "big", payload=d / "p.gz")


NO_TMPFILE = paths.BUILD / "tests/no_tmpfile.so"


def unnamed_file(pid, folder):
    """Does process pid hold an O_TMPFILE file of folder open (its link reads 'folder/#N (deleted)')?"""
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except FileNotFoundError:
        return False
    for fd in fds:
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("%s/#" % folder) and target.endswith(" (deleted)"):
            return True
    return False


def named_file(pid, folder):
    """Is the fallback's named temporary file there?"""
    return any(n.startswith("out.tmp.") for n in os.listdir(folder))


def no_tmpfile_env():
    """The environment that sends the tool to its named fallback (tests/tools/no_tmpfile.c)."""
    assert NO_TMPFILE.exists(), "%s is not built (make test-build)" % NO_TMPFILE
    return dict(os.environ, LD_PRELOAD=str(NO_TMPFILE))


def start_wrap(folder, env, preexec_fn, present=None):
    """wrap --decompress of folder/big into folder/out, started; with PRESENT (unnamed_file
    or named_file), once the output's temporary file is there, the wrap still running."""
    p = subprocess.Popen([str(paths.TOOL), "wrap", "--decompress", "big", "-o", "out"], cwd=folder,
                         stderr=subprocess.PIPE, env=env, preexec_fn=preexec_fn)
    if present:
        deadline = time.time() + 20
        while not present(p.pid, folder) and time.time() < deadline and p.poll() is None:
            time.sleep(0.002)
        assert p.poll() is None, "the wrap ended before the signal: %s" % p.stderr.read()
        assert present(p.pid, folder), "no temporary file appeared (%s)" % present.__name__
    return p


def default_signals():
    """In the child: SIGINT, SIGTERM and SIGHUP as in a terminal's foreground job (a
    background job of a shell without job control starts with SIGINT ignored)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def test_ignored_signal_stays_ignored(work, tool, slow_bzimage):
    """A signal the tool was started ignoring does not end it: the named fallback's clean-up
    handler is not put in its place.  The wrap goes on to its end (this payload of zeros is
    no ELF: a refusal, after the whole decompression) and removes its file."""
    os.symlink(slow_bzimage, work / "big")

    def ignore_sigint():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    p = start_wrap(work, no_tmpfile_env(), ignore_sigint, named_file)
    p.send_signal(signal.SIGINT)
    rc, err = p.wait(timeout=120), p.stderr.read().decode()
    assert rc == 1 and "the decompressed payload: not an ELF file" in err, (rc, err)
    assert sorted(os.listdir(work)) == ["big"]


# How the output is made (an unnamed O_TMPFILE file; a named temporary file where the
# filesystem has no O_TMPFILE, by tests/tools/no_tmpfile.c), the signal, and when it comes:
# "open" once the output's file exists, "late" 0.3 s into the decompression after that,
# "early" at once, while the input is still being read.
SIGNALS = [(how, sig, when) for how in ("unnamed", "named")
           for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP) for when in ("open",)] + [
    ("unnamed", signal.SIGKILL, when) for when in ("early", "open", "late")]


@pytest.mark.parametrize("how,sig,when", SIGNALS, ids=["%s-%s-%s" % (h, s.name, w) for h, s, w in SIGNALS])
@pytest.mark.parametrize("old", [False, True], ids=["new", "replace"])
def test_signal_leaves_nothing(work, tool, slow_bzimage, how, sig, when, old):
    """A signal during a long wrap --decompress leaves the folder as it was: no temporary
    file, the old output (if any) whole, and the tool dies of the signal.  SIGKILL too,
    where the output is written unnamed; the fallback's named file needs a handler."""
    os.symlink(slow_bzimage, work / "big")
    if old:
        (work / "out").write_bytes(b"the old output\n")
    env = no_tmpfile_env() if how == "named" else None
    before = pvhstub.snapshot(work)
    present = None if when == "early" else unnamed_file if how == "unnamed" else named_file
    p = start_wrap(work, env, default_signals, present)
    if present:
        if how == "unnamed":
            assert not named_file(p.pid, work), "a named file beside the output while it is written"
        time.sleep(0.3 if when == "late" else 0.01)
    p.send_signal(sig)
    rc = p.wait(timeout=60)
    assert rc == -sig, "exit %s, not killed by %s" % (rc, sig.name)
    assert not pvhstub.changes(before, pvhstub.snapshot(work))


def test_named_fallback_writes(folder):
    """Where the filesystem has no O_TMPFILE, the output is the same, through a named file."""
    env = no_tmpfile_env()
    (folder / "old.pvh").write_bytes(b"old")
    os.chmod(folder / "old.pvh", 0o640)
    for out in ("new.pvh", "old.pvh"):
        r = pvhstub.run(["wrap", "k", "-o", out], cwd=folder, env=env)
        assert r.rc == 0, str(r)
    want = pvhstub.run(["wrap", "k", "-o", "-"], cwd=folder).stdout
    assert (folder / "new.pvh").read_bytes() == want and (folder / "old.pvh").read_bytes() == want
    assert stat.S_IMODE(os.stat(folder / "old.pvh").st_mode) == 0o640
    assert not [n for n in os.listdir(folder) if ".tmp." in n]


def test_version(tool):
    want = "pvhstub %s\n" % paths.version()
    for argv in (["--version"], ["version"]):
        r = pvhstub.run(argv)
        assert r.rc == 0 and r.stdout.decode() == want, str(r)


COMMAND_OPTIONS = {
    "wrap": {"--output", "--decompress", "--kaslr", "--no-kaslr", "--handoff", "--elf32", "--stub", "--initrd",
             "--cmdline", "--cmdline-policy", "--profile", "--help"},
    "inspect": {"--json", "--help"},
    "extract": {"--output", "--help"},
    "xlconfig": {"--output", "--name", "--memory", "--vcpus", "--ramdisk", "--cmdline", "--dir",
                 "--on-poweroff", "--on-reboot", "--on-crash", "--disk", "--vif", "--help"},
}


def options_in(textual):
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", textual))


@pytest.mark.parametrize("cmd", sorted(COMMAND_OPTIONS))
def test_help(cmd):
    """Each command's --help is its own: its usage line, and its options only."""
    r = pvhstub.run([cmd, "--help"])
    out = r.stdout.decode()
    assert r.rc == 0 and out.startswith("Usage: pvhstub %s" % cmd), str(r)
    assert options_in(out) == COMMAND_OPTIONS[cmd], options_in(out) ^ COMMAND_OPTIONS[cmd]
    r2 = pvhstub.run([cmd, "-h"])
    assert r2.rc == 0 and r2.stdout == r.stdout


def man_sections():
    """The man page's text per section, escapes undone."""
    text = (paths.TOP / "docs/pvhstub.1").read_text().replace("\\-", "-").replace("\\(dq", '"')
    text = re.sub(r"\\f[BIRP]", "", text)
    sections, name = {}, None
    for line in text.splitlines():
        if line.startswith(".SH "):
            name = line[4:].strip('"')
            sections[name] = ""
        elif name:
            sections[name] += re.sub(r"^\.[A-Z]+ ?", "", line) + "\n"
    return sections


def test_man_page_matches_help():
    """The man page documents each command's options, as --help does, no more, no less."""
    man = man_sections()
    for cmd, section in (("wrap", "OPTIONS"), ("inspect", "INSPECT"), ("extract", "EXTRACT"),
                         ("xlconfig", "XLCONFIG")):
        want = COMMAND_OPTIONS[cmd] - {"--help"}
        got = options_in(man[section]) - {"--help"}
        assert got == want, "man page section %s: %s" % (section, got ^ want)
    synopsis = man["SYNOPSIS"]
    for cmd in COMMAND_OPTIONS:
        assert "pvhstub %s" % cmd in synopsis, cmd
        r = pvhstub.run([cmd, "--help"])
        usage = r.stdout.decode().split("\n\n")[0]
        assert options_in(usage) - {"--help"} <= options_in(synopsis) | {"--output"}, \
            "SYNOPSIS lacks %s" % (options_in(usage) - options_in(synopsis))
    assert "--version" in synopsis


def test_xlconfig_paths(folder):
    """xlconfig names the image as given, made absolute, a link unresolved; --dir as asked."""
    os.symlink("w.pvh", folder / "current")
    for argv, kernel in ((["current"], "%s/current" % folder), (["./current"], "%s/current" % folder),
                         ([str(folder / "current")], "%s/current" % folder),
                         (["current", "--dir", "/srv/xen"], "/srv/xen/current"),
                         (["current", "--dir", "/srv/xen/"], "/srv/xen/current")):
        r = pvhstub.run(["xlconfig"] + argv + ["-o", "-"], cwd=folder)
        assert r.rc == 0, str(r)
        assert 'kernel = "%s"\n' % kernel in r.stdout.decode(), r.stdout.decode()


def test_wrap_vmlinux_relocation_message(folder):
    """A bare vmlinux (from extract) has no relocation table, and the wrap says why, truly."""
    for argv in (["wrap", "v.elf", "-o", "v.pvh"], ["wrap", "--decompress", "v.elf", "-o", "v.pvh"]):
        r = pvhstub.run(argv, cwd=folder)
        assert r.rc == 0, str(r)
        err = r.stderr.decode()
        assert "a vmlinux file has no relocation table (Linux keeps it only inside the bzImage: wrap that with --decompress for KASLR)" in err, err
        assert "CONFIG_RANDOMIZE_BASE" not in err


def test_inspect_names(folder):
    """inspect names e_machine, decodes the notes it knows, gives a version and a verdict for every image."""
    for image, kind, verdict in (("k", "bzImage", r"yes: 32-bit handoff"),
                                 ("v.elf", r"ELF64 \(vmlinux\)", r"yes: 64-bit handoff"),
                                 ("w.pvh", "PVH image made by pvhstub wrap",
                                  r"no: this is already a PVH image made by pvhstub wrap")):
        r = pvhstub.run(["inspect", image], cwd=folder)
        out = r.stdout.decode()
        assert r.rc == 0, str(r)
        assert re.search(r"^kind: +%s$" % kind, out, re.M), out
        assert re.search(r"^version: +6\.1\.0-synthetic x", out, re.M), out
        assert re.search(r"^pvhstub wrap: +%s" % verdict, out, re.M), out
        if image != "k":
            assert re.search(r"^e_machine: +62 \(x86-64\), ELF64,", out, re.M), out
    out = pvhstub.run(["inspect", "w.pvh"], cwd=folder).stdout.decode()
    assert re.search(r"^  Xen +PHYS32_ENTRY +0x100110$", out, re.M), out
    assert re.search(r'^  pvhstub +the kernel version +"6\.1\.0-synthetic x"$', out, re.M), out


def test_inspect_json(folder):
    """inspect --json: one object per file, one per line, with what the text says."""
    r = pvhstub.run(["inspect", "--json", "k", "w.pvh", "v.elf", "missing"], cwd=folder)
    assert r.rc == 1, str(r)
    objs = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert [o["file"] for o in objs] == ["k", "w.pvh", "v.elf", "missing"]
    k, w, v, missing = objs
    assert all(o["pvhstub"] == paths.version() for o in objs)
    assert k["kind"] == "bzimage" and k["compression"] == "gzip" and k["boot_protocol"] == "2.15"
    assert k["wrap"]["ok"] and k["wrap"]["handoff"] == 32 and k["wrap"]["elf_class"] == 64
    assert k["loaders"]["qemu-system-i386"]["ok"] is False
    assert w["kind"] == "pvhstub-image" and w["handoff"] == 32 and w["window_start"] == 0x1000000
    assert w["wrap"] == {"ok": False, "reason": w["wrap"]["reason"]}
    assert "already a PVH image" in w["wrap"]["reason"]
    assert {n["type_name"] for n in w["notes"]} == {"PHYS32_ENTRY", "the kernel version"}
    assert w["loaders"]["Firecracker"]["ok"] and not w["loaders"]["qemu-system-i386"]["ok"]
    assert v["kind"] == "vmlinux" and v["machine"] == "x86-64" and v["version"].startswith("6.1.0-synthetic")
    assert v["warnings"] and "no relocation table" in v["warnings"][0]
    assert "error" in missing and "kind" not in missing
    assert pvhstub.inspect(folder / "w.pvh")["version"] == w["version"]


def test_inspect_i386_claim(folder, tool):
    """qemu-system-i386 is claimed only for a kernel it can run: a 32-bit one."""
    images.bzimage(folder / "k32", "xloadflags=0")
    for args, ok in ((["k32", "-o", "k32.pvh"], True), (["--elf32", "k", "-o", "k64.pvh"], False)):
        r = pvhstub.run(["wrap"] + args, cwd=folder)
        assert r.rc == 0, str(r)
        j = pvhstub.inspect(folder / args[-1])
        assert j["elf_class"] == 32
        assert j["loaders"]["qemu-system-i386"]["ok"] is ok, j["loaders"]


def test_vmlinux_version_debian(cloud_kernel, work):
    """A real vmlinux's version, from its banner, is the one its bzImage's header carries."""
    r = pvhstub.run(["extract", cloud_kernel, "-o", "vmlinux"], cwd=work)
    assert r.rc == 0, str(r)
    bz, vm = pvhstub.inspect(cloud_kernel), pvhstub.inspect(work / "vmlinux")
    assert bz["version"] and vm["version"] == bz["version"], (bz["version"], vm["version"])
    assert any(n["type_name"] == "BUILD_SALT" and bz["version"].startswith(n["string"]) for n in vm["notes"])


# A 64-bit kernel on a CPU without long mode: the stub says so, and QEMU ends (isa-debug-exit: 3).
NO_LONG_MODE = [
    ("qemu-system-i386", None, ["--elf32"]),
    ("qemu-system-x86_64", "qemu32", []),
    ("qemu-system-x86_64", "qemu32", ["--handoff", "64"]),
]


@pytest.mark.boot
@pytest.mark.parametrize("qemu_bin,cpu,wrap", NO_LONG_MODE, ids=["i386-elf32", "qemu32-handoff32", "qemu32-handoff64"])
def test_no_long_mode(cloud_kernel, work, qemu_bin, cpu, wrap):
    r = pvhstub.run(["wrap"] + wrap + [cloud_kernel, "-o", "k.pvh"], cwd=work)
    assert r.rc == 0, str(r)
    b = qemu.boot(work / "k.pvh", work / "console.log", qemu=qemu_bin, cpu=cpu, append="console=ttyS0",
                  timeout=60)
    assert b.rc == 3, b.tail()
    assert "pvhstub: PANIC: a 64-bit kernel needs long mode (CPUID 0x80000001 EDX.LM); this CPU lacks it" \
        in b.console, b.tail()
