"""Seeded PVH layouts at boot (tests/fuzzboot/fuzzboot.py): each seed is a
test.  The seed draws a layout (machine, memory map, modules, tables at odd
addresses, the probe kernel's header) and predicts the outcome from the
rules the stub documents: the probe's zero page matches the layout, or the
stub panics with the message of the reason.  A failure names the seed and
the command that replays it (make fuzz-boot SEED=N COUNT=1); its files stay
in build/tests/fuzzboot/seed-N.
"""
import argparse

import pytest

import fuzzboot
from framework import paths

SEEDS = range(1, 501)


@pytest.fixture(scope="session")
def fuzzboot_args(tool):
    for f in (paths.BUILD / "tests" / "pvhload.elf", paths.BUILD / "tests" / "probe.bzImage"):
        if not f.is_file():
            pytest.fail("no %s: make test-build" % f)
    return argparse.Namespace(obj=str(paths.BUILD), keep=False)


@pytest.mark.boot
@pytest.mark.parametrize("seed", SEEDS)
def test_seed(fuzzboot_args, seed):
    _, lay, bad = fuzzboot.run_seed(seed, fuzzboot_args)
    expect = "booted" if lay.expect[0] == "boot" else "refused: " + lay.expect[1]
    assert not bad, "seed %d (%s; expected %s):\n%s\nreplay: make fuzz-boot SEED=%d COUNT=1 (files kept in %s)" % (
        seed, fuzzboot.describe(lay), expect, "\n".join(bad), seed, paths.BUILD / "tests" / "fuzzboot" /
        ("seed-%d" % seed))
