#!/usr/bin/env python3
"""Check a boot's serial log, for the shell suites: the stub ran, the kernel
reached init with our cmdline and initrd, and the e820 the kernel printed
matches the loader's map (tests/framework/linux.py, which pytest's boot
tests use too).

usage: check.py LOG EXPECTED_CMDLINE [--payload]

Prints one FAIL line per problem, or one PASS line; exits 1 if any failed.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from framework import linux  # noqa: E402


def main():
    log, want_cmdline = sys.argv[1], sys.argv[2]
    text = open(log, errors="replace").read().replace("\r", "")
    bad = linux.problems(text, want_cmdline, payload="--payload" in sys.argv[3:])
    for b in bad:
        print("FAIL: " + b)
    if not bad:
        print("PASS: init reached with the cmdline, the initrd and the e820 wanted")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
