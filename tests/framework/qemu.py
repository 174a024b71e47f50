"""QEMU boots for the tests: every boot has a timeout, and its console log
is kept in the test's folder; a failed check shows the log's tail."""
import pathlib
import shlex
import subprocess

DEBUG_EXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
# Deterministic virtual time: timer calibration cannot race the host (microvm
# has no HPET or PM timer to fall back on).
ICOUNT = ["-icount", "shift=0,sleep=off"]


class Boot:
    """A finished boot: rc (124 after the timeout; 3 after the stub's panic), the console."""

    def __init__(self, argv, rc, log, timeout):
        self.argv, self.rc, self.log, self.timeout = argv, rc, log, timeout
        self.console = pathlib.Path(log).read_text(errors="replace").replace("\r", "")

    def tail(self, n=40):
        lines = self.console.splitlines()[-n:]
        ended = "timed out after %d s" % self.timeout if self.rc == 124 else "exit %s" % self.rc
        said = pathlib.Path(str(self.log) + ".qemu").read_text(errors="replace").strip()
        return "replay: sh %s.cmd\nQEMU %s%s; the last %d lines of %s:\n%s" % (
            self.log, ended, ", saying: " + said[-1000:] if said else "", len(lines), self.log,
            "\n".join("    " + x for x in lines))


def boot(image, log, qemu="qemu-system-x86_64", machine="pc", memory=512, cpu=None, initrd=None,
         append=None, timeout=120, extra=()):
    """Boot image with QEMU's -kernel, the serial console into log, no
    reboot, killed after timeout seconds (rc 124)."""
    argv = [qemu, "-M", machine, "-m", str(memory), "-display", "none", "-no-reboot",
            "-serial", "file:%s" % log] + DEBUG_EXIT + ["-kernel", str(image)]
    if cpu:
        argv += ["-cpu", cpu]
    if initrd:
        argv += ["-initrd", str(initrd)]
    if append is not None:
        argv += ["-append", append]
    argv += list(extra)
    pathlib.Path(log).write_text("")
    # The command that replays this boot, beside its log.
    pathlib.Path(str(log) + ".cmd").write_text(" ".join(map(shlex.quote, map(str, argv))) + "\n")
    with open(str(log) + ".qemu", "wb") as err:
        try:
            rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = 124
    return Boot(argv, rc, log, timeout)
