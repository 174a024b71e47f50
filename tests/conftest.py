"""pytest's set-up for pvhstub: fixtures, and how results are counted.

- Each test works in a folder of its own, build/tests/pytest/<test>/, kept
  after the run so that a failure can be looked at and replayed.
- A skip says why; under CI=true a skip fails the run, as a missing
  prerequisite must not pass for a test.
- Results are pytest's own: passed, failed, error (a fixture or set-up
  broke), skipped; one row of a table is one test.
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
def probe_kernel(tool):
    """The probe kernel (tests/tools/probe: a bzImage of our own that dumps its zero page)."""
    p = paths.BUILD / "tests" / "probe.bzImage"
    if not p.is_file():
        pytest.fail("no %s: make test-build" % p)
    return p


@pytest.fixture(scope="session")
def cloud_kernel(kernel):
    """Debian 12's cloud kernel (6.1), from the machine cache."""
    return kernel("cloud")


@pytest.fixture(scope="session")
def kernel():
    """kernel(NAME): vmlinuz-NAME from the machine cache (Debian's, fetched
    if need be; tiny-*, built if need be); a skip saying why if it cannot be."""
    def get(name):
        k, why = images.kernel(name)
        if k is None:
            pytest.skip("cannot fetch or build the kernel %s: %s" % (name, why))
        return k
    return get


@pytest.fixture(scope="session")
def fixtures_dir(worker_id):
    """A folder for this pytest process's shared fixtures (initrds)."""
    d = paths.BUILD / "tests" / "pytest" / "_fixtures" / worker_id
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def initrd(fixtures_dir):
    """The test initrd (busybox, tests/initrd/init) with a 4 MiB payload."""
    return images.initrd(fixtures_dir / "initrd.cpio")


@pytest.fixture(scope="session")
def initrd_i386(fixtures_dir):
    """The same with Debian's static i386 busybox, for i386 kernels."""
    busybox, why = images.cached("busybox-i386", "busybox-i386")
    if busybox is None:
        pytest.skip("cannot fetch an i386 busybox: " + why)
    return images.initrd(fixtures_dir / "initrd-i386.cpio", busybox=busybox)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and os.environ.get("CI") == "true":
        rep.outcome = "failed"
        rep.longrepr = "skipped under CI=true, which must run every test: %s" % (
            rep.longrepr[2] if isinstance(rep.longrepr, tuple) else rep.longrepr)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The tests that run for minutes go first, so that the workers end
    together; the tests of one xdist group stay together, and a module's
    STEPS (the names of its tests, in order: steps on one machine state)
    run in that order.  After pytest's own ordering (trylast), which groups
    tests by the parameters of module fixtures but not by steps."""
    def key(item):
        group = item.get_closest_marker("xdist_group")
        steps = getattr(getattr(item, "module", None), "STEPS", [])    # a cmocka test has no module
        name = getattr(item, "originalname", item.name)
        return (item.get_closest_marker("long") is None, group.args[0] if group else "",
                steps.index(name) if name in steps else -1)
    items.sort(key=key)
