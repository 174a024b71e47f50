"""The suites still written in shell, run by pytest so that they share the
two cores with the rest: one test each, which runs tests/NAME/run.sh and
fails with its FAIL lines and the tail of its output.

Each suite records its own checks, one line each, in
build/tests/results/NAME (tests/lib.sh); the test fails if one of them
failed, if there is none, or if the suite did not exit 0.  Each of these
suites is to become tables of pytest rows of its own, as tests/boot did.
"""
import subprocess

import pytest

from framework import paths

# Each suite: its script (tests/SCRIPT/run.sh) and arguments after the build
# folder, its timeout in seconds, the xdist group of suites that must not
# run side by side, and whether it boots Linux or Xen (make check-quick
# leaves those out).  The package test installs into this machine's dpkg
# and /boot; the hosts tests work in roots of their own, one release each
# (each writes its lines as hosts-RELEASE).  Longest first.
SUITES = {
    "hosts-sid": ("hosts", ["sid"], 3600, None, True),
    "hosts-trixie": ("hosts", ["trixie"], 3600, None, True),
    "hosts-bookworm": ("hosts", ["bookworm"], 3600, None, True),
    "deb": ("deb", [], 1200, "dpkg", True),
}


def params():
    for name, (script, args, timeout, group, linux) in SUITES.items():
        marks = [pytest.mark.boot, pytest.mark.shell, pytest.mark.long] + ([pytest.mark.linux] if linux else [])
        if group:
            marks.append(pytest.mark.xdist_group(group))
        yield pytest.param(name, script, args, timeout, id=name, marks=marks)


@pytest.mark.parametrize("name,script,args,timeout", params())
def test_shell_suite(work, tool, name, script, args, timeout):
    results = paths.BUILD / "tests" / "results" / name
    log = work / "output.log"
    with open(log, "wb") as out:
        try:
            rc = subprocess.run([str(paths.TOP / "tests" / script / "run.sh"), str(paths.BUILD)] + args,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "killed after %d s" % timeout
    lines = results.read_text().splitlines() if results.is_file() else []
    fails = [x for x in lines if x.startswith("fail ")]
    tail = "\n".join("    " + x for x in log.read_text(errors="replace").splitlines()[-60:])
    assert rc == 0 and not fails and lines, "tests/%s/run.sh %s: exit %s, %d checks, %d failed:\n%s\n" \
        "the last lines of %s:\n%s" % (script, " ".join(args), rc, len(lines), len(fails), "\n".join(fails), log, tail)
