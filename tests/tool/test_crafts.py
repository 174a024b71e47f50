"""Crafted ELF files (tests/tool/mkcraft.py), each made from a good wrapped
image or vmlinux: every command that reads an image runs on each under
valgrind, and must make no invalid read or write, exit 0 (described) or 1
(refused with a message), and leave no output on a refusal."""
import os
import subprocess
import sys

import pytest

from framework import images, paths, tool as pvhstub

sys.path.insert(0, os.path.dirname(__file__))
import mkcraft  # noqa: E402

COMMANDS = {
    "inspect": ["inspect", "craft.elf"],
    "xlconfig": ["xlconfig", "craft.elf", "-o", "out.cfg"],
    "wrap": ["wrap", "craft.elf", "-o", "out.pvh"],
    "extract": ["extract", "craft.elf", "-o", "out.elf"],
}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A good wrapped image and a good vmlinux, the crafts' starting points."""
    d = tmp_path_factory.mktemp("good")
    images.bzimage(d / "k")
    r = pvhstub.run(["wrap", "k", "-o", "good.pvh"], cwd=d)
    assert r.rc == 0, str(r)
    images.payload("raw", d / "vmlinux")
    return (d / "good.pvh").read_bytes(), (d / "vmlinux").read_bytes()


@pytest.mark.parametrize("name", list(mkcraft.CRAFTS))
def test_craft(work, tool, good, name):
    (work / "craft.elf").write_bytes(bytes(mkcraft.CRAFTS[name](bytearray(good[0]), bytearray(good[1]),
                                                                len(good[0]))))
    problems = []
    for cmd, args in COMMANDS.items():
        log = work / ("%s.valgrind" % cmd)
        p = subprocess.run(["valgrind", "-q", "--error-exitcode=99", "--log-file=%s" % log, str(paths.TOOL)] + args,
                           cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        err = p.stderr.decode(errors="replace")
        if p.returncode == 99 or log.read_text().strip():
            problems.append("%s: valgrind: %s" % (cmd, log.read_text()[:600]))
        elif p.returncode not in (0, 1):
            problems.append("%s: exit %d: %s" % (cmd, p.returncode, err))
        elif p.returncode == 1 and not err.startswith("pvhstub %s: " % cmd):
            problems.append("%s: refused without a message: %r" % (cmd, err))
        elif p.returncode == 1 and cmd != "inspect" and [n for n in os.listdir(work) if n.startswith(args[-1])]:
            problems.append("%s: refused, but left %s" % (cmd, sorted(os.listdir(work))))
    assert not problems, "\n".join(problems)
