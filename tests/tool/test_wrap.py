"""pvhstub wrap, inspect, extract and xlconfig on synthetic kernels
(tests/tool/mkbzimage.py, mkpayload.py): each bad input is a row with its
exact message, refused with the folder left as it was; each good one a row
with what the image must hold, read through 'pvhstub inspect --json'."""
import os
import random
import re
import struct
import subprocess

import mkbzimage
import pytest

from framework import images, paths, tool as pvhstub

MIB = 1 << 20


def lit(message):
    """A message to find as it is."""
    return re.escape(message)


# --- bzImages that wrap refuses: name, mkbzimage fields, the message --------
BAD_BZIMAGES = [
    ("empty", ["truncate=0"], "no 'HdrS' signature at offset 0x202 (file too short)"),
    ("short", ["truncate=0x204"], "file too short"),
    ("no-hdrs", ["header=0"], "not a bzImage: no 'HdrS'"),
    ("gzip", ["magic=\\x1f\\x8b\\x08\\x00\\x00\\x00\\x00\\x00\\x00\\x03xxxxxx", "header=0"],
     "gzip data, not a bzImage"),
    ("elf", ["magic=\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00", "header=0"],
     "an ELF file, but not an x86-64 (ELF64) or i386 (ELF32) vmlinux"),
    ("zstd", ["magic=\\x28\\xb5\\x2f\\xfdxxxxxxxxxxxx", "header=0"], "zstd data"),
    ("protocol-2.04", ["version=0x204"],
     "boot protocol 2.04 is too old: pvhstub needs 2.05 or later (a relocatable kernel), or 2.10 for init_size and pref_address"),
    ("protocol-2.09-fixed", ["version=0x209", "relocatable_kernel=0"],
     "boot protocol 2.09 has no pref_address or init_size, and this kernel is not relocatable (it decompresses to its CONFIG_PHYSICAL_START)"),
    ("protocol-2.07-align", ["version=0x207", "kernel_alignment=0x300000"],
     "boot protocol 2.07 has no pref_address or init_size, and this kernel is relocatable but its kernel_alignment is bad"),
    ("no-32bit-entry", ["code32_start=0"],
     "code32_start is 0: the image has no 32-bit entry. It is a real-mode program (iPXE's .lkrn is one)"),
    ("zimage", ["loadflags=0"], "a zImage"),
    ("setup-sects", ["setup_sects=200", "truncate=0x1000"],
     "setup_sects 200 puts the protected-mode code at 0x19200, past the end"),
    ("setup-sects-past-end", ["setup_sects=4", "truncate=0xa00"], "past the end of the"),
    ("truncated-pm", ["truncate=0x4000"], "truncated: syssize says 65536 bytes"),
    ("truncated-by-16", ["truncate=68080"],
     "truncated: syssize says 65536 bytes of protected-mode code at 0xa00, the file has 65520"),
    ("syssize-zero", ["syssize=0"], "truncated: syssize says 0 bytes"),
    ("payload-range", ["payload_offset=0xff00"], "payload_offset 0xff00 + payload_length 0x1000 lie outside"),
    ("alignment", ["kernel_alignment=0x3000"], "kernel_alignment 0x3000 is not a power of two"),
    ("init-size", ["init_size=0x1000"], "init_size 0x1000 is smaller than the protected-mode code"),
    ("header-end", ["jump=0x0eeb"], "setup header ends at 0x210: outside [0x264, 0x290]"),
    # Found by fuzzing: "HdrS" in a file that ends inside the header.
    ("header-cut", ["truncate=0x210"], "truncated: the setup header ends at 0x268, past the end of the 528-byte file"),
    ("window-4g", ["pref_address=0xfff00000"], "does not fit below 4 GiB"),
]


@pytest.mark.parametrize("fields,message", [r[1:] for r in BAD_BZIMAGES], ids=[r[0] for r in BAD_BZIMAGES])
def test_bad_bzimage(work, tool, fields, message):
    images.bzimage(work / "k", *fields)
    (work / "out").write_text("keep\n")       # An existing output stays as it was.
    pvhstub.refuses(work, ["wrap", "k", "-o", "out"], 1, r"^pvhstub wrap: k: .*" + lit(message))
    pvhstub.refuses(work, ["wrap", "k", "-o", "new"], 1, lit(message))


# --- Compressed payloads, for --decompress ----------------------------------
def payload_bz(work, name, fmt, *options):
    """A bzImage whose payload is mkpayload.py's FMT with OPTIONS."""
    images.payload(fmt, work / (name + ".payload"), *options)
    images.bzimage(work / name, payload=work / (name + ".payload"))
    os.unlink(work / (name + ".payload"))
    return name


BAD_PAYLOADS = [(f"corrupt-{f}", f, ["corrupt=1"], "the payload is corrupt")
                for f in ("gzip", "xz", "bzip2", "zstd", "lzo")] + [
    ("bomb-lying", "gzip", ["zeros=64", "claim=0x100000"], "decompresses to more than the 1048576 bytes its size field claims"),
    ("bomb-claimed", "gzip", ["zeros=1", "claim=0x40000000"], "the limit is 512 MiB (a decompression bomb?)"),
    ("short-claim", "xz", ["claim=0x10"], "decompresses to more than the 16 bytes its size field claims"),
    ("long-claim", "xz", ["claim=30000"], "xz payload decompressed to 20483 bytes, but the kernel says 30000"),
    ("bad-phdrs", "gzip", ["badphdr=1"], "the decompressed payload: bad program headers"),
    # Found by fuzzing: a bzip2 stream cut short looped forever; an lzma
    # header asking for a 4 GiB dictionary made liblzma allocate it.
    ("truncated-bzip2", "bzip2", ["cut=60"], "bzip2 decompression failed"),
    ("lzma-dictionary", "lzma", ["dict=0xff000000"], "lzma payload needs more than 256 MiB of memory to decompress"),
    # Relocation tables that are none.
    ("relocs-outside", "gzip", ["relocs=outside"],
     "32-bit relocation at 0xffffffff81014000 lies outside the kernel [0xffffffff81000000, 0xffffffff81014003)"),
    ("relocs-noend", "gzip", ["relocs=noend"], "the 20 bytes after the vmlinux are no relocation table: 0 zero words"),
    ("relocs-extra", "gzip", ["relocs=extra"],
     "the 36 bytes after the vmlinux are no relocation table: 3 zero words, the first word not zero"),
    ("relocs-four", "gzip", ["relocs=four"], "the 44 bytes after the vmlinux are no relocation table: 4 zero words"),
    ("relocs-firstword", "gzip", ["relocs=firstword"],
     "the 32 bytes after the vmlinux are no relocation table: 2 zero words, the first word not zero"),
    ("relocs-odd", "gzip", ["relocs=odd"], "the vmlinux is followed by 33 bytes, which are not a relocation table"),
    # A 2-list table behind a zero-based per-CPU segment lacks the list its sites need.
    ("relocs-two-percpu", "gzip", ["relocs=two", "percpu=1"],
     "the relocation table has 2 lists, but the vmlinux has a zero-based per-CPU segment"),
]


@pytest.mark.parametrize("fmt,options,message", [r[1:] for r in BAD_PAYLOADS], ids=[r[0] for r in BAD_PAYLOADS])
def test_bad_payload(work, tool, fmt, options, message):
    payload_bz(work, "k", fmt, *options)
    pvhstub.refuses(work, ["wrap", "--decompress", "k", "-o", "out"], 1, lit(message))


def test_unknown_compression(work, tool):
    rng = random.Random(1)
    (work / "noise").write_bytes(bytes(rng.randrange(0x40, 0x80) for _ in range(4096)))
    images.bzimage(work / "k", payload=work / "noise")
    pvhstub.refuses(work, ["wrap", "--decompress", "k", "-o", "out"], 1, lit("unknown compression format"))
    pvhstub.refuses(work, ["inspect", "noise"], 1, r"^pvhstub inspect: noise: ")


# --- Other refusals ------------------------------------------------------------
REFUSALS = [
    ("32-bit-kernel-handoff-64", lambda d: images.bzimage(d / "k", "xloadflags=0"),
     ["wrap", "--handoff", "64", "k", "-o", "out"], 1,
     "the 64-bit handoff needs a kernel with a 64-bit entry (XLF_KERNEL_64)"),
    ("i386-vmlinux-handoff-64", lambda d: payload_bz(d, "k", "gzip", "i386=1") and None,
     ["wrap", "--decompress", "--handoff", "64", "k", "-o", "out"], 1, "an i386 vmlinux has no 64-bit entry"),
    ("vmlinux-handoff-32", lambda d: images.payload("raw", d / "v"),
     ["wrap", "--handoff", "32", "v", "-o", "out"], 1, "an x86-64 vmlinux has no 32-bit entry"),
    ("vmlinux-bad-phdrs", lambda d: images.payload("raw", d / "v", "badphdr=1"),
     ["wrap", "v", "-o", "out"], 1, "bad program headers"),
    ("missing-input", None, ["wrap", "nonexistent", "-o", "out"], 1, "nonexistent: No such file or directory"),
    ("no-arguments", None, ["wrap"], 2, "pvhstub wrap: need KERNEL and -o OUT"),
    ("second-operand", lambda d: images.bzimage(d / "k"), ["extract", "k", "extra", "-o", "x"], 2,
     "pvhstub extract: unexpected argument 'extra'"),
    ("missing-o", lambda d: images.bzimage(d / "k"), ["extract", "k"], 2, "pvhstub extract: need BZIMAGE and -o OUT"),
    ("option-without-value", lambda d: images.bzimage(d / "k"), ["xlconfig", "k", "-o", "x.cfg", "--memory"], 2,
     "pvhstub xlconfig: this option needs a value: '--memory'"),
    ("operand-after-dashdash", lambda d: images.bzimage(d / "k"), ["wrap", "--", "k", "-o", "x"], 2,
     "pvhstub wrap: unexpected argument '-o'"),
    ("kaslr-on-bzimage", lambda d: payload_bz(d, "k", "gzip", "relocs=good") and None,
     ["wrap", "--kaslr", "full", "k", "-o", "x"], 1, "applies to a pre-decompressed kernel"),
    ("stub-without-relocations", lambda d: (images.bzimage(d / "k", "relocatable_kernel=0", "pref_address=0x100000"),
                                            subprocess.run(["objcopy", "-R", ".rel.text", "-R", ".rel.rodata", "-R",
                                                            ".rel.notes", str(paths.BUILD / "stub.elf"),
                                                            str(d / "stub.elf")], check=True)),
     ["wrap", "--stub", "stub.elf", "k", "-o", "x"], 1, None),
]


@pytest.mark.parametrize("prepare,argv,rc,message", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refusal(work, tool, prepare, argv, rc, message):
    if prepare:
        prepare(work)
    if message is None:     # The stub that cannot move.
        message = r"overlaps the stub at \[0x100000, .*has no relocations to move it with"
    else:
        message = lit(message)
    pvhstub.refuses(work, argv, rc, message)


# --- Images that wrap makes ------------------------------------------------------
def wrap(work, *args, out="out.pvh"):
    r = pvhstub.run(["wrap"] + list(args) + ["-o", out], cwd=work)
    assert r.rc == 0, str(r)
    return pvhstub.inspect(work / out), r.stderr.decode()


def load(info, paddr):
    """The PT_LOAD at paddr: (filesz, memsz)."""
    found = [(s["filesz"], s["memsz"]) for s in pvhstub.segments(info) if s["paddr"] == paddr]
    assert found, "no PT_LOAD at 0x%x: %s" % (paddr, pvhstub.segments(info))
    return found[0]


# name, how to make the kernel (mkbzimage fields, or a payload), wrap args,
# the payload's PT_LOAD (paddr, filesz, memsz), a warning wrap must print.
GOOD = [
    ("synthetic", ["k"], [], (0x1000000, 0x10000, 0x800000), None),
    ("not-relocatable", ["k", "relocatable_kernel=0"], [], (0x1000000, 0x10000, 0x800000), None),
    # Boot protocols 2.05 to 2.09, relocatable: loaded at 1 MiB, the window
    # derived (1 MiB up to the 2 MiB alignment, 8 times the 64 KiB of code,
    # 16 MiB), the stub moved above it, and the wrap says it is a margin.
    ("protocol-2.05", ["k", "version=0x205"], [], (0x100000, 0x10000, 0x1180000),
     "warning: boot protocol 2.05 has no init_size: the image reserves [0x100000, 0x1280000) for the kernel's decompression, a margin of 8 times its code plus 16 MiB"),
    ("protocol-2.09", ["k", "version=0x209"], [], (0x100000, 0x10000, 0x1180000),
     "warning: boot protocol 2.09 has no init_size: the image reserves [0x100000, 0x1280000) for the kernel's decompression, a margin of 8 times its code plus 16 MiB"),
    # boot.rst: setup_sects 0 means 4 (the protected-mode code at 0xa00).
    ("setup-sects-0", ["k", "setup_sects=0"], [], (0x1000000, 0x10000, 0x800000), None),
    ("setup-sects-1", ["k", "setup_sects=1"], [], (0x1000000, 0x10000, 0x800000), None),
    # A syssize that rounds up to 8 bytes past the file's end: the file's bytes are loaded.
    ("syssize-rounds", ["k", "truncate=68088"], [], (0x1000000, 0xfff8, 0x800000), None),
    ("32-bit-kernel", ["k", "xloadflags=0"], [], (0x1000000, 0x10000, 0x800000), None),
    ("elf32-of-64-bit", ["k"], ["--elf32", "--handoff", "64"], (0x1000000, 0x10000, 0x800000), None),
    ("i386-vmlinux", ["raw", "i386=1"], [], (0x1000000, 0x4003, 0x14003),
     "warning: the stub randomizes only x86-64 kernels: no KASLR; the kernel runs at 0x1000000"),
    ("i386-decompress", ["gzip", "i386=1", "xloadflags=0"], ["--decompress"], (0x1000000, 0x4003, 0x14003),
     "warning: the stub randomizes only x86-64 kernels: no KASLR; the kernel runs at 0x1000000"),
    ("vmlinux-unaligned-phdrs", ["raw", "misalign=1"], [], (0x1000000, 0x4003, 0x14003),
     "warning: a vmlinux file has no relocation table (Linux keeps it only inside the bzImage: wrap that with --decompress for KASLR): no KASLR; the kernel runs at 0x1000000"),
]


def make_kernel(work, spec):
    """spec: ["k", fields...] for a bzImage, or [FORMAT, options..., bzimage fields with '='] for a payload."""
    if spec[0] == "k":
        return images.bzimage(work / "k", *spec[1:]).name
    if spec[0] == "raw":
        return images.payload("raw", work / "k", *spec[1:]).name
    opts = [o for o in spec[1:] if o.split("=")[0] in ("i386", "relocs", "percpu", "banner")]
    fields = [o for o in spec[1:] if o not in opts]
    images.payload(spec[0], work / "p", *opts)
    images.bzimage(work / "k", *fields, payload=work / "p")
    return "k"


def protected_mode_code(kernel):
    """A bzImage's protected-mode code, where boot.rst puts it: after 1 + setup_sects
    sectors, setup_sects 0 meaning 4; syssize paragraphs, cut at the file's end."""
    data = kernel.read_bytes()

    def field(name):
        off, fmt = mkbzimage.FIELDS[name]
        return struct.unpack_from("<" + fmt, data, off)[0]
    start = ((field("setup_sects") or 4) + 1) * 512
    return data[start:start + field("syssize") * 16]


@pytest.mark.parametrize("spec,args,seg,warning", [r[1:] for r in GOOD], ids=[r[0] for r in GOOD])
def test_good(work, tool, spec, args, seg, warning):
    k = make_kernel(work, spec)
    info, err = wrap(work, *args, k)
    assert load(info, seg[0]) == seg[1:]
    if spec[0] == "k":      # A bzImage: its protected-mode code is what the image loads.
        placed = [b for paddr, b in pvhstub.placed(work / "out.pvh", info) if paddr == seg[0]]
        assert placed == [protected_mode_code(work / k)], "the payload's bytes are not the protected-mode code"
    if warning:
        assert warning in err, err
    else:
        assert "warning" not in err, err
    again, _ = wrap(work, *args, k, out="again.pvh")
    assert (work / "out.pvh").read_bytes() == (work / "again.pvh").read_bytes(), "wrapping is not reproducible"


def test_protocol_209_stub_above_window(work, tool):
    images.bzimage(work / "k", "version=0x209")
    info, _ = wrap(work, "k")
    assert min(s["paddr"] for s in pvhstub.segments(info) if s["paddr"] != 0x100000) == 0x1280000


def test_32_bit_kernel_image(work, tool):
    """A kernel without XLF_KERNEL_64 gets an ELF32 EM_386 image with the PHYS32_ENTRY note."""
    images.bzimage(work / "k", "xloadflags=0")
    info, _ = wrap(work, "k")
    assert info["elf_class"] == 32 and info["machine"] == "i386", info
    assert any(n["owner"] == "Xen" and n["type"] == 18 for n in info["notes"])
    assert info["loaders"]["qemu-system-i386"]["ok"] and not info["loaders"]["Firecracker"]["ok"]


def test_elf32_of_64_bit_kernel(work, tool):
    images.bzimage(work / "k")
    info, _ = wrap(work, "--elf32", "--handoff", "64", "k")
    assert info["elf_class"] == 32 and info["handoff"] == 64
    assert info["loaders"]["Firecracker"] == {"ok": False, "why": "takes ELF64 only"}
    assert info["loaders"]["qemu-system-i386"]["ok"] is False
    r = pvhstub.run(["xlconfig", "out.pvh", "-o", "x.cfg"], cwd=work)
    assert r.rc == 0, str(r)


def test_i386_vmlinux_entry(work, tool):
    images.payload("raw", work / "v", "i386=1")
    info, _ = wrap(work, "v")
    assert info["handoff"] == 32 and info["entry"] == 0x1000000


def test_stub_moves_above_a_kernel_at_1mib(work, tool):
    """A payload that wants the stub's 1 MiB (memtest86+ does): the stub moves right above its
    window, relocated; its entry and note move by the same amount."""
    images.bzimage(work / "k", "relocatable_kernel=0", "pref_address=0x100000")
    info, _ = wrap(work, "k")
    stub = pvhstub.inspect(paths.BUILD / "stub.elf")
    base = pvhstub.segments(stub)[0]["paddr"]
    loads = pvhstub.segments(info)
    assert loads[1]["paddr"] == 0x100000 and loads[0]["paddr"] == 0x100000 + 0x800000, loads
    delta = loads[0]["paddr"] - base
    phys32 = [n["value"] for n in info["notes"] if n["type_name"] == "PHYS32_ENTRY"]
    assert delta > 0 and info["e_entry"] == stub["e_entry"] + delta and phys32 == [info["e_entry"]]
    assert pvhstub.segments(info, "NOTE")[0]["paddr"] >= loads[0]["paddr"]


INSPECT_REFUSED = [
    ("old", ["version=0x207", "relocatable_kernel=0"]),
    # iPXE's 2.07 header runs on into text where payload_offset would be,
    # and has no 32-bit entry (code32_start 0).
    ("ipxe-like", ["version=0x207", "payload_offset=0x2e302e31", "payload_length=0x69672b30", "code32_start=0",
                   "relocatable_kernel=0"]),
    ("memtest-like", ["relocatable_kernel=0", "pref_address=0x100000", "init_size=0xfff00000"]),
]


@pytest.mark.parametrize("fields", [r[1] for r in INSPECT_REFUSED], ids=[r[0] for r in INSPECT_REFUSED])
def test_inspect_what_wrap_refuses(work, tool, fields):
    images.bzimage(work / "k", *fields)
    info = pvhstub.inspect(work / "k")
    assert info["kind"] == "bzimage" and info["wrap"]["ok"] is False and info["wrap"]["reason"], info["wrap"]
    out = pvhstub.run(["inspect", "k"], cwd=work).stdout.decode()
    assert "pvhstub wrap:    no: " + info["wrap"]["reason"] in out, out


def test_inspect_where_wrap_puts_it(work, tool):
    images.bzimage(work / "k")
    assert pvhstub.inspect(work / "k")["wrap"] == {"ok": True, "handoff": 32, "entry": 0x1000000,
                                                   "window_start": 0x1000000, "window_end": 0x1800000,
                                                   "elf_class": 64}
    out = pvhstub.run(["inspect", "k"], cwd=work).stdout.decode()
    assert "pvhstub wrap:    yes: 32-bit handoff to 0x1000000, window [0x1000000, 0x1800000), ELF64\n" in out


def check_image(image, info):
    """The ELF every loader accepts: ELF64, e_flags 0, one PT_NOTE with an 8-byte
    PHYS32_ENTRY note, no GNU note, no 'HdrS' at 0x202, no multiboot magic in 8 KiB."""
    assert info["elf_class"] == 64 and info["e_flags"] == 0
    assert len(pvhstub.segments(info, "NOTE")) == 1
    assert [n["size"] for n in info["notes"] if n["owner"] == "Xen" and n["type"] == 18] == [8]
    assert not [n for n in info["notes"] if n["owner"] == "GNU"]
    head = open(image, "rb").read(8192)
    assert head[0x202:0x206] != b"HdrS"
    words = {int.from_bytes(head[i:i + 4], "little") for i in range(0, len(head) - 3, 4)}
    assert not words & {0x1badb002, 0xe85250d6}, "multiboot magic"


def test_good_image(work, tool):
    images.bzimage(work / "k")
    info, _ = wrap(work, "k")
    check_image(work / "out.pvh", info)
    info64, _ = wrap(work, "--handoff", "64", "k", out="64.pvh")
    assert info64["e_entry"] == info["e_entry"] and info64["handoff"] == 64
    assert (work / "64.pvh").read_bytes() != (work / "out.pvh").read_bytes()


@pytest.mark.parametrize("name", ["cloud", "generic"])
def test_debian_image(work, tool, name):
    k, why = images.debian_kernel(name)
    if k is None:
        pytest.skip("cannot fetch Debian's %s kernel: %s" % (name, why))
    info, _ = wrap(work, str(k))
    check_image(work / "out.pvh", info)


def test_make_payload(work, tool):
    """make PAYLOAD= gives the very image pvhstub wrap gives; a bad PAYLOAD= is a clear make error."""
    images.bzimage(work / "good.bz")
    wrap(work, "good.bz")
    out = work / "build"
    subprocess.run(["cp", "-a", str(paths.BUILD / ".config"), str(work / "config")], check=True)
    r = subprocess.run(["make", "-C", str(paths.TOP), "--no-print-directory", "O=%s" % paths.BUILD,
                        "PAYLOAD=%s" % (work / "good.bz")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    made = paths.BUILD / "good.bz.pvh"
    try:
        assert r.returncode == 0, r.stdout.decode()
        assert made.read_bytes() == (work / "out.pvh").read_bytes()
    finally:
        made.unlink(missing_ok=True)
    images.bzimage(work / "bad.bz", "version=0x204")
    r = subprocess.run(["make", "-C", str(paths.TOP), "--no-print-directory", "O=%s" % paths.BUILD,
                        "PAYLOAD=%s" % (work / "bad.bz")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert r.returncode != 0 and b"boot protocol 2.04 is too old" in r.stdout, r.stdout.decode()
    assert not (paths.BUILD / "bad.bz.pvh").exists()
    del out


def test_argv_orders(work, tool):
    """Options and operands in any order, POSIXLY_CORRECT or not."""
    payload_bz(work, "k", "xz")
    for argv, env in ((["extract", "-o", "v", "k"], None), (["wrap", "-o", "a.pvh", "--handoff", "64", "k"], None),
                      (["wrap", "k", "--output=b.pvh", "--handoff=64"], dict(os.environ, POSIXLY_CORRECT="1"))):
        r = pvhstub.run(argv, cwd=work, env=env)
        assert r.rc == 0, str(r)
    assert (work / "a.pvh").read_bytes() == (work / "b.pvh").read_bytes()


FORMATS = ["gzip", "xz", "lzma", "bzip2", "zstd", "lz4", "lzo"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_decompress(work, tool, fmt):
    """--decompress: every format Linux uses; the vmlinux's segment arrives byte for byte."""
    images.payload("raw", work / "vmlinux")
    payload_bz(work, "k", fmt)
    info, _ = wrap(work, "--decompress", "k")
    seg = [s for s in pvhstub.segments(info) if s["paddr"] == 0x1000000]
    assert len(seg) == 1 and seg[0]["memsz"] == 0x14003
    assert pvhstub.segment_bytes(work / "out.pvh", seg[0]) == (work / "vmlinux").read_bytes()[0x1000:0x1000 + 0x4003]
    if fmt == "xz":
        r = pvhstub.run(["extract", "k", "-o", "extracted"], cwd=work)
        assert r.rc == 0 and (work / "extracted").read_bytes() == (work / "vmlinux").read_bytes(), str(r)


# KASLR for --decompress: payload options, wrap args, what inspect --json's kaslr must hold.
KASLR = [
    ("3-lists", ["relocs=good"], [], {"by": "stub", "physical": False, "relocations_64": 2, "relocations_32": 2,
                                      "relocations_32_inverse": 1, "table_addr": 0x1015000, "relocs_lists": 3}),
    ("2-lists", ["relocs=two"], [], {"relocations_64": 2, "relocations_32": 2, "relocations_32_inverse": 0,
                                     "table_addr": 0x1015000, "relocs_lists": 2}),
    ("2-lists-full", ["relocs=two"], ["--kaslr", "full"], {"relocs_lists": 2, "physical": True}),
    ("3-lists-percpu", ["relocs=good", "percpu=1"], [], {"relocs_lists": 3}),
    ("virtual-said", ["relocs=good"], ["--kaslr", "virtual"], {"by": "stub", "physical": False}),
    # No section headers: the whole kernel moves; above 4 GiB allowed: slots to 512 GiB.
    ("full", ["relocs=good"], ["--kaslr", "full"], {"by": "stub", "physical": True, "slots_from": 0x1000000,
                                                    "slots_below": 512 << 30}),
    ("no-kaslr", ["relocs=good"], ["--no-kaslr"], {"by": "off"}),
    ("no-table", [], [], {"by": "none"}),
]


@pytest.mark.parametrize("options,args,want", [r[1:] for r in KASLR], ids=[r[0] for r in KASLR])
def test_kaslr(work, tool, options, args, want):
    payload_bz(work, "k", "gzip", *options)
    info, err = wrap(work, "--decompress", *args, "k")
    kaslr = info["kaslr"]
    assert {k: kaslr.get(k) for k in want} == want, kaslr
    if kaslr.get("physical"):
        assert kaslr["move_bytes"] == kaslr["kernel_bytes"], "a vmlinux without section headers moves whole"
    if want.get("by") == "none":
        assert "warning: the kernel has no relocation table (CONFIG_RANDOMIZE_BASE is off): no KASLR; the kernel runs at 0x1000000" in err, err
    text = pvhstub.run(["inspect", "out.pvh"], cwd=work).stdout.decode()
    line = {"stub": "by the stub: virtual offset" + (" and physical slot" if want.get("physical") else "") + " (nokaslr",
            "off": "off (wrapped with --kaslr off)", "none": "none: the kernel has no relocation table kept; it runs at 0x1000000"}
    assert re.search(r"^KASLR: +" + re.escape(line[kaslr["by"]]), text, re.M), text


def test_bzimage_kaslr_is_its_own(work, tool):
    payload_bz(work, "k", "gzip", "relocs=good")
    info, _ = wrap(work, "k")
    assert info["kaslr"] == {"by": "kernel"}


def test_relocation_table_bytes(work, tool):
    """The kept table: header, then the sites as sorted 16-bit steps from the kernel's start."""
    payload_bz(work, "k", "gzip", "relocs=good")
    info, _ = wrap(work, "--decompress", "k")
    seg = [s for s in pvhstub.segments(info) if s["paddr"] == 0x1015000][0]
    table = pvhstub.segment_bytes(work / "out.pvh", seg)
    magic, c64, c32, cinv, size = (int.from_bytes(table[i:i + 4], "little") for i in range(0, 20, 4))
    assert (magic, c64, c32, cinv) == (0x72485650, 2, 2, 1)
    assert table[24:24 + size] == bytes([0x10, 0, 0xe8, 0x3f, 0x20, 0, 0xdf, 0x3f, 0, 1])
    assert seg["filesz"] == seg["memsz"] == 24 + size


def test_xlconfig(work, tool):
    """A config with escaped strings, disks, vifs and enough memory."""
    images.bzimage(work / "k")
    wrap(work, "k")
    r = pvhstub.run(["xlconfig", "out.pvh", "--name", 'g"1', "--ramdisk", "k", "--dir", "/guests",
                     "--cmdline", 'a="b c" d\\e', "--vcpus", "2", "--on-crash", "preserve", "-o", "g.cfg",
                     "--disk", 'vdev=xvda,access=r,target=/srv/a "b".img', "--vif", "ip=10.0.0.2",
                     "--vif", "bridge=xenbr0"], cwd=work)
    assert r.rc == 0, str(r)
    cfg = (work / "g.cfg").read_text().splitlines()
    for line in ('type = "pvh"', 'name = "g\\"1"', 'kernel = "/guests/out.pvh"', 'ramdisk = "/guests/k"',
                 'cmdline = "a=\\"b c\\" d\\\\e"', "vcpus = 2", "memory = 281", 'on_crash = "preserve"',
                 'on_poweroff = "destroy"', 'disk = [ "vdev=xvda,access=r,target=/srv/a \\"b\\".img" ]',
                 'vif = [ "ip=10.0.0.2", "bridge=xenbr0" ]'):
        assert line in cfg, "%r not in %s" % (line, cfg)


XL_REFUSALS = [
    ("too-little-memory", ["--memory", "16"], 1, "--memory 16 MiB is too small: the kernel's window ends at 24 MiB"),
    ("a-bzimage", None, 1, "not an image made by pvhstub wrap"),
    ("unknown-action", ["--on-crash", "explode"], 2,
     "--on-crash takes destroy, restart, preserve, rename-restart, coredump-destroy or coredump-restart, not 'explode'"),
    ("missing-ramdisk", ["--ramdisk", "nonexistent"], 1, "--ramdisk nonexistent: No such file or directory"),
    ("empty-disk", ["--disk", ""], 1, "--disk: '' is not an xl spec"),
    ("two-line-vif", ["--vif", "a\nb"], 2, "--vif holds a control character (0x0a), which an xl config cannot carry"),
    ("nine-vifs", [a for i in range(1, 10) for a in ("--vif", "bridge=br%d" % i)], 2, "at most 8 --vif options"),
]


@pytest.mark.parametrize("args,rc,message", [r[1:] for r in XL_REFUSALS], ids=[r[0] for r in XL_REFUSALS])
def test_xlconfig_refusal(work, tool, args, rc, message):
    images.bzimage(work / "k")
    wrap(work, "k")
    image = ["k"] if args is None else ["out.pvh"] + args
    pvhstub.refuses(work, ["xlconfig"] + image + ["-o", "bad.cfg"], rc, lit(message))


def test_make_help_lists_every_phony_target():
    make = (paths.TOP / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:((?:.*\\\n)*.*)$", make, re.M).group(1).replace("\\\n", " ").split()
    r = subprocess.run(["make", "-C", str(paths.TOP), "--no-print-directory", "O=%s" % paths.BUILD, "help"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    listed = r.stdout.decode()
    missing = [t for t in phony if not re.search(r"^  ([a-z-]+ )*%s( |$)" % re.escape(t), listed, re.M)]
    assert phony and not missing, missing


@pytest.mark.parametrize("name", ["cloud", "cloud-sid"])
def test_physical_move_extent(work, tool, name):
    """The physical move of Debian 12's and sid's cloud kernels stops where only .bss, .brk and
    .init.scratch are left: after every other allocated section, as readelf lists them."""
    k, why = images.debian_kernel(name)
    if k is None:
        pytest.skip("cannot fetch Debian's %s kernel: %s" % (name, why))
    r = pvhstub.run(["extract", str(k), "-o", "vmlinux"], cwd=work)
    assert r.rc == 0, str(r)
    info, _ = wrap(work, "--decompress", "--kaslr", "full", str(k))
    out = subprocess.run(["readelf", "-lSW", str(work / "vmlinux")], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    loads = [tuple(int(x, 16) for x in m.groups()) for m in re.finditer(
        r"^\s+LOAD\s+0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+)", out, re.M)]
    start, end = min(p for v, p, m in loads), max(p + m for v, p, m in loads)
    keep, seen = 0, set()
    for m in re.finditer(r"^\s*\[\s*\d+\] (\S+)\s+\S+\s+([0-9a-f]{16}) [0-9a-f]+ ([0-9a-f]+) \S+ +(\S*A\S*) ", out, re.M):
        sname, addr, size = m.group(1), int(m.group(2), 16), int(m.group(3), 16)
        if not size:
            continue
        if sname in (".bss", ".brk", ".init.scratch"):
            seen.add(sname)
            continue
        for v, p, msz in loads:
            if v <= addr < v + msz:
                keep = max(keep, p + addr - v + size)
    assert seen == {".bss", ".brk", ".init.scratch"}, seen
    assert (info["kaslr"]["move_bytes"], info["kaslr"]["kernel_bytes"]) == ((keep + 7) // 8 * 8 - start, end - start)


def test_inspect_decompressed_image(work, tool):
    """inspect describes a --decompress image and its bzImage: kinds, versions, notes, loaders."""
    payload_bz(work, "k", "gzip")
    info, _ = wrap(work, "--decompress", "k")
    assert info["kind"] == "pvhstub-image" and info["handoff"] == 64 and info["entry"] == 0x1000000
    assert info["version"] == "6.1.0-synthetic x"
    assert [n["string"] for n in info["notes"] if n["type_name"] == "the kernel version"] == ["6.1.0-synthetic x"]
    assert [n["value"] for n in info["notes"] if n["type_name"] == "PHYS32_ENTRY"] == [info["e_entry"]]
    assert info["loaders"]["Xen PVH (xl, dom0)"]["ok"]
    bz = pvhstub.inspect(work / "k")
    assert bz["kind"] == "bzimage" and bz["compression"] == "gzip" and bz["version"] == "6.1.0-synthetic x"
    assert not bz["loaders"]["Xen PVH (xl, dom0)"]["ok"]
    text = pvhstub.run(["inspect", "out.pvh"], cwd=work).stdout.decode()
    for line in (r"^kind: +PVH image made by pvhstub wrap$", r"^handoff: +64-bit, to 0x1000000$",
                 r"^version: +6\.1\.0-synthetic x$", r'^  pvhstub +the kernel version +"6\.1\.0-synthetic x"$',
                 r"^  Xen PVH \(xl, dom0\) yes"):
        assert re.search(line, text, re.M), (line, text)
