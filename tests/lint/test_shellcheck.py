"""The shell that stays shell passes shellcheck: the helper scripts, the
kernel hooks, the guest inits and dom0's init (busybox sh, checked as
dash), CI's entry, the benchmark.  Every shell script in git is a row."""
import shutil
import subprocess

import pytest

from framework import paths

# Scripts whose shebang shellcheck cannot take: checked as this shell.
SHELL_OF = {"tests/initrd/init": "dash", "tests/xen/dom0-init": "dash", "tests/xen/block-loop": "dash",
            "tests/xen/vif-ip": "dash"}


def shell_scripts():
    files = subprocess.run(["git", "ls-files"], cwd=paths.TOP, stdout=subprocess.PIPE, text=True,
                           check=True).stdout.split()
    out = []
    for f in files:
        p = paths.TOP / f
        try:
            first = p.open("rb").readline()
        except (IsADirectoryError, FileNotFoundError):
            continue
        if first.startswith(b"#!") and (b"sh" in first.split(b"/")[-1] and b"python" not in first):
            out.append(f)
        elif f.endswith(".sh"):
            out.append(f)
    return sorted(out)


SCRIPTS = shell_scripts()


@pytest.mark.parametrize("script", SCRIPTS)
def test_shellcheck(script):
    if not shutil.which("shellcheck"):
        pytest.fail("shellcheck is not installed (scripts/install-deps.sh installs it)")
    args = ["shellcheck", "-x", "-f", "gcc"]
    if script in SHELL_OF:
        args += ["-s", SHELL_OF[script], "-e", "SC2187"]
    p = subprocess.run(args + [script], cwd=paths.TOP, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, p.stdout
