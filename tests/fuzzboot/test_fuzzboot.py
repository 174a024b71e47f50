"""Seeded PVH layouts at boot (tests/fuzzboot/fuzzboot.py): each seed is a
test.  Seed N has a wrap mode (fuzzboot.CYCLE): the 64-bit probe through
--handoff 32 and 64 and --decompress with --kaslr off, virtual and full,
300 seeds of each, and the 32-bit probe, 100.  The seed draws a
layout (machine, memory map, modules, tables at odd addresses, the probe
kernel's header) and predicts the outcome from the rules the stub
documents: the probe's zero page matches the layout, and the 64-bit probe
runs where the mode puts it, relocated, whole, the loader's tables
unharmed; or the stub panics with the message of the reason.  A failure
names the seed and the command that replays it (make fuzz-boot SEED=N
COUNT=1 MODE=...); its files stay in build/tests/fuzzboot/seed-N.
"""
import argparse

import pytest

import fuzzboot
from framework import paths

# 300 seeds of each mode of the 64-bit probe, 100 of the 32-bit probe (fuzzboot.CYCLE).
SEEDS = range(1, 100 * len(fuzzboot.CYCLE) + 1)


@pytest.fixture(scope="session")
def fuzzboot_args(tool):
    for f in [paths.BUILD / "tests" / n for n in ("pvhload.elf", "probe.bzImage", "probe64-3.bzImage",
                                                  "probe64-2.bzImage")]:
        if not f.is_file():
            pytest.fail("no %s: make test-build" % f)
    return argparse.Namespace(obj=str(paths.BUILD), keep=False)


@pytest.mark.boot
@pytest.mark.parametrize("seed", SEEDS)
def test_seed(fuzzboot_args, seed):
    _, lay, bad = fuzzboot.run_seed(seed, fuzzboot_args)
    expect = "booted" if lay.expect[0] == "boot" else "refused: " + lay.expect[1]
    assert not bad, "seed %d (%s; expected %s):\n%s\nreplay: %s (files kept in %s)" % (
        seed, fuzzboot.describe(lay), expect, "\n".join(bad), fuzzboot.replay(seed, lay),
        paths.BUILD / "tests" / "fuzzboot" / ("seed-%d" % seed))
