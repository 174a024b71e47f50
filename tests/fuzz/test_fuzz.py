"""Each libFuzzer harness (ASan + UBSan) for $PVHSTUB_FUZZ_SECONDS (60 by
default), seeded with real start_info dumps (tests/fuzz/seeds/) and real
and synthetic kernel images; the KASLR slot planner's against a brute-force
reference.  A crash, leak, out-of-memory or timeout
input fails the test, and stays in build/tests/fuzz/findings/HARNESS/
(each harness its own folder, emptied only when that harness runs again);
the failure names each input and the command that replays it."""
import os
import shutil
import subprocess
import sys

import pytest

from framework import images, paths, tool as pvhstub

sys.path.insert(0, str(paths.TOP / "tests" / "tool"))
import mkcraft  # noqa: E402
import mkpe  # noqa: E402

FUZZ = paths.BUILD / "tests" / "fuzz"


def image_corpus(d):
    """Debian's kernels' first 64 KiB (their real headers), synthetic bzImages in every
    compression, a vmlinux, relocation tables as Linux appends them and as the wrap keeps
    them, wrapped images of each, and the crafted-ELF table built on them."""
    for f in (paths.TOP / "tests/fuzz/seeds/image").iterdir():
        shutil.copy(f, d / f.name)
    kernels = paths.cache() / "kernels"
    for k in sorted(kernels.glob("vmlinuz-*")) if kernels.is_dir() else []:
        if not k.name.endswith(".package"):
            (d / (k.name + "-head")).write_bytes(k.read_bytes()[:65536])
    work = d.parent / "work-image"
    work.mkdir(exist_ok=True)
    for f in ("gzip", "xz", "lzma", "bzip2", "zstd", "lz4", "lzo"):
        images.payload(f, work / ("p." + f))
        images.bzimage(d / ("bz." + f), payload=work / ("p." + f))
    images.payload("raw", d / "vmlinux")
    images.payload("raw", work / "vmlinux-relocs", "relocs=good")
    (d / "relocs-tail").write_bytes((work / "vmlinux-relocs").read_bytes()[-32:])
    images.payload("raw", work / "vmlinux-relocs2", "relocs=two")
    (d / "relocs2-tail").write_bytes((work / "vmlinux-relocs2").read_bytes()[-24:])
    images.payload("gzip", work / "p.relocs", "relocs=good")
    images.bzimage(d / "bz-relocs", payload=work / "p.relocs")
    images.bzimage(d / "bz-plain")
    for args in (["--decompress", "--kaslr", "full", "bz-relocs", "-o", "wrapped-kaslr"],
                 ["bz-plain", "-o", "wrapped-bz"], ["--handoff", "64", "bz-plain", "-o", "wrapped-bz64"],
                 ["--decompress", "bz.gzip", "-o", "wrapped-decompressed"], ["vmlinux", "-o", "wrapped-vmlinux"]):
        r = pvhstub.run(["wrap"] + args, cwd=d)
        assert r.rc == 0, str(r)
    info = pvhstub.inspect(d / "wrapped-kaslr")
    table = [s for s in pvhstub.segments(info) if s["paddr"] == info["kaslr"]["table_addr"]][0]
    (d / "relocs-kept").write_bytes(pvhstub.segment_bytes(d / "wrapped-kaslr", table))
    good, vmlinux = (d / "wrapped-bz").read_bytes(), (d / "vmlinux").read_bytes()
    for name, data in mkcraft.crafts(good, vmlinux).items():
        (d / ("craft-" + name)).write_bytes(bytes(data))
    # Unified Kernel Images (tests/tool/mkpe.py): one with every part and two profiles, and the
    # image wrapped from it, which carries an initrd and a command line.
    bz = (d / "bz.gzip").read_bytes()
    (d / "uki").write_bytes(mkpe.uki(bz, initrd=b"rd" * 50, cmdline=b"console=ttyS0", ucode=b"uc" * 9, signed=64,
                                     profiles=[(b"ID=a\nTITLE=A", []), (b"ID=b", [(".cmdline", b"p1")])]))
    r = pvhstub.run(["wrap", "--decompress", "uki", "--cmdline-policy", "append", "-o", "wrapped-uki"], cwd=d)
    assert r.rc == 0, str(r)


def translate_corpus(d):
    for f in (paths.TOP / "tests/fuzz/seeds/translate").iterdir():
        shutil.copy(f, d / f.name)


def slots_corpus(d):
    """None: libFuzzer grows it (tests/fuzz/fuzz_slots.c draws every field from a few bytes)."""


@pytest.mark.parametrize("harness,corpus", [("translate", translate_corpus), ("image", image_corpus),
                                            ("slots", slots_corpus)], ids=["translate", "image", "slots"])
def test_fuzz(harness, corpus):
    binary = FUZZ / ("fuzz_" + harness)
    if not binary.is_file():
        pytest.fail("%s is not built (make fuzz-build)" % binary)
    seconds = int(os.environ.get("PVHSTUB_FUZZ_SECONDS", "60"))
    corpus_dir = FUZZ / ("corpus-" + harness)
    findings = FUZZ / "findings" / harness
    for d in (corpus_dir, findings):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    corpus(corpus_dir)
    log = FUZZ / (harness + ".log")
    with open(log, "wb") as f:
        rc = subprocess.run([str(binary), "-max_total_time=%d" % seconds, "-timeout=10", "-rss_limit_mb=2048",
                             "-print_final_stats=1", "-artifact_prefix=%s/" % findings, str(corpus_dir)],
                            stdout=f, stderr=subprocess.STDOUT, timeout=seconds + 600).returncode
    text = log.read_text(errors="replace")
    found = sorted(findings.iterdir())
    execs = [line.split(":")[-1].strip() for line in text.splitlines()
             if line.startswith("stat::number_of_executed_units")]
    replay = "\n".join("  %s %s" % (binary, f) for f in found)
    assert rc == 0 and not found, "fuzz %s: exit %d after %s runs; findings:\n%s\nthe log's tail (%s):\n%s" % (
        harness, rc, execs[0] if execs else "?", replay or "  (none written)", log,
        "\n".join(text.splitlines()[-40:]))
    assert execs and int(execs[0]) > 0, "no runs counted in %s" % log
