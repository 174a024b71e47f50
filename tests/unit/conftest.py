"""pytest drives the cmocka unit tests: each test_*.c here is built twice by
tests/unit/Makefile (plain, and under ASan+UBSan), and each cmocka test of
each build is one pytest test, named BUILD/CASE, with its cmocka output.
A binary that is missing, that dies before it reports every test, or whose
exit status is not the number of its failed tests, fails as a test of its
own (BUILD/exit)."""
import re
import subprocess

import pytest

from framework import paths

BUILDS = {"plain": "unit", "asan+ubsan": "unit-san"}


class CmockaItem(pytest.Item):
    def __init__(self, *, ok, output, **kw):
        super().__init__(**kw)
        self.ok, self.output = ok, output

    def runtest(self):
        if not self.ok:
            raise CmockaFailure(self.output)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CmockaFailure):
            return "cmocka: %s\n%s" % (self.name, excinfo.value.args[0])
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, self.name


class CmockaFailure(Exception):
    pass


class CmockaFile(pytest.File):
    def collect(self):
        for build, folder in BUILDS.items():
            binary = paths.BUILD / "tests" / folder / self.path.stem
            if not binary.is_file():
                yield CmockaItem.from_parent(self, name="%s/exit" % build, ok=False,
                                             output="%s is not built (make check-unit builds it)" % binary)
                continue
            p = subprocess.run([str(binary)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
            out = p.stdout.decode(errors="replace")
            cases, current, lines = [], None, []
            for line in out.splitlines():
                m = re.match(r"^\[ RUN      \] (.*)$", line)
                if m:
                    current, lines = m.group(1), []
                    continue
                m = re.match(r"^\[ *(OK|FAILED|ERROR|SKIPPED) *\] (.*)$", line)
                if m and current is not None and m.group(2) == current:
                    cases.append((current, m.group(1) == "OK", "\n".join(lines)))
                    current = None
                    continue
                lines.append(line)
            for name, ok, output in cases:
                yield CmockaItem.from_parent(self, name="%s/%s" % (build, name), ok=ok, output=output)
            total = re.search(r"^\[==========\] Running (\d+) test", out, re.M)
            complete = total and int(total.group(1)) == len(cases) and current is None
            # cmocka exits with the number of tests that failed: those fail on their own.
            failed = sum(not ok for _, ok, _ in cases)
            yield CmockaItem.from_parent(self, name="%s/exit" % build, ok=p.returncode == failed and bool(complete),
                                         output="exit %d, %d of %s tests reported\n%s" % (
                                             p.returncode, len(cases), total.group(1) if total else "?",
                                             "\n".join(out.splitlines()[-40:])))


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".c" and file_path.name.startswith("test_"):
        return CmockaFile.from_parent(parent, path=file_path)
