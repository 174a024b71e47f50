"""Crafted ELF files (tests/tool/mkcraft.py), each made from a good wrapped
image or vmlinux: every command that reads an image runs on each under
valgrind, and must make no invalid read or write, exit 0 (described) or 1
(refused with a message), and leave no output on a refusal."""
import os
import sys

import pytest

from framework import images, tool as pvhstub

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
        rc, bad = pvhstub.valgrind_problems(work, args, cmd)
        if bad:
            problems.append(bad)
        elif rc == 1 and cmd != "inspect" and [n for n in os.listdir(work) if n.startswith(args[-1])]:
            problems.append("%s: refused, but left %s" % (cmd, sorted(os.listdir(work))))
    assert not problems, "\n".join(problems)
