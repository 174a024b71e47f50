"""pytest's set-up for pvhstub: fixtures, and how results are counted.

- Each test works in a folder of its own, build/tests/pytest/<test>/, kept
  after the run so that a failure can be looked at and replayed.
- A skip says why; under CI=true a skip fails the run, as a missing
  prerequisite must not pass for a test.
- Each result is also written, one line, to $PVHSTUB_RESULTS when set
  ("pass NAME" or "fail NAME"), which make check's summary adds up.
"""
import os
import pathlib
import re
import shutil
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from framework import images, paths  # noqa: E402


@pytest.fixture(scope="session")
def tool():
    if not paths.TOOL.is_file():
        pytest.fail("no %s: run make first" % paths.TOOL)
    return paths.TOOL


@pytest.fixture
def work(request):
    """An empty folder for this test, kept after it."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])[:120]
    d = paths.BUILD / "tests" / "pytest" / request.node.module.__name__ / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


@pytest.fixture(scope="session")
def cloud_kernel():
    """Debian 12's cloud kernel (6.1), from the machine cache."""
    k, why = images.debian_kernel("cloud")
    if k is None:
        pytest.skip("cannot fetch Debian's cloud kernel: " + why)
    return k


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and os.environ.get("CI") == "true":
        rep.outcome = "failed"
        rep.longrepr = "skipped under CI=true, which must run every test: %s" % (
            rep.longrepr[2] if isinstance(rep.longrepr, tuple) else rep.longrepr)


def pytest_configure(config):
    # Under xdist each report reaches the controller too: only it writes them.
    config.pvhstub_writes_results = not hasattr(config, "workerinput")
    global CONFIG
    CONFIG = config


CONFIG = None


def pytest_runtest_logreport(report):
    results = os.environ.get("PVHSTUB_RESULTS")
    if not results or not CONFIG.pvhstub_writes_results:
        return
    verdict = None
    if report.when == "call" and report.outcome in ("passed", "failed"):
        verdict = "pass" if report.passed else "fail"
    elif report.when != "call" and report.outcome == "failed":
        verdict = "fail"    # An error in set-up or tear-down.
    elif report.outcome == "skipped" and report.when == "setup":
        verdict = "skip"
    if verdict:
        with open(results, "a") as f:
            f.write("%s %s%s\n" % (verdict, report.nodeid, "" if report.when == "call" else
                                   " (%s)" % report.when))
