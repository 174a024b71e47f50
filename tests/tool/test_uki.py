"""Unified Kernel Images and the initrd and command line an image carries:
pvhstub wrap and inspect on synthetic UKIs (tests/tool/mkpe.py around
mkbzimage.py's bzImage) and on one Debian 13's ukify builds.  Each good
input is a row with the bytes the image must carry (read back from its
PT_LOAD) and its command line and policy (inspect --json); each bad one a
row with its message, refused with the folder left as it was, and under
valgrind without an invalid read or write."""
import os
import re
import sys

import pytest

from framework import images, tool as pvhstub

sys.path.insert(0, os.path.dirname(__file__))
import mkpe  # noqa: E402

UCODE = b"ucode-part" * 7          # 70 bytes: padded to 72
INITRD = b"initrd-part" * 100      # 1100 bytes: padded to 1100
EXTRA = b"x" * 5                   # padded to 8


def pad4(b):
    return b + bytes(-len(b) % 4)


@pytest.fixture
def bz(work):
    """The synthetic bzImage's bytes."""
    return images.bzimage(work / "bz").read_bytes()


def carried(image):
    """(the carried initrd's bytes, the carried command line, the policy) of a wrapped image."""
    info = pvhstub.inspect(image)
    rd = b""
    if info["carried_initrd_size"]:
        start, size = info["carried_initrd_addr"], info["carried_initrd_size"]
        for paddr, data in pvhstub.placed(image, info):
            if paddr <= start and start + size <= paddr + len(data):
                rd = data[start - paddr:start - paddr + size]
        assert rd, "no PT_LOAD holds the carried initrd: %s" % info["segments"]
    return rd, info["carried_cmdline"], info["cmdline_policy"]


# Good rows: name, the UKI (mkpe.uki's keywords; None: the bzImage itself),
# wrap's options, the initrd and command line the image must carry, its policy.
GOOD = [
    ("uki", dict(initrd=INITRD, cmdline=b"console=ttyS0 uki=1"), [], pad4(INITRD), "console=ttyS0 uki=1", "loader"),
    # .ucode first, then .initrd, then the --initrd files in order.
    ("uki-ucode-extra", dict(initrd=INITRD, ucode=UCODE, cmdline=b"a"), ["--initrd", "e1", "--initrd", "e2"],
     pad4(UCODE) + pad4(INITRD) + pad4(EXTRA) + pad4(b"yy"), "a", "loader"),
    # --cmdline replaces .cmdline; the policy is the image's.
    ("uki-cmdline", dict(initrd=INITRD, cmdline=b"a"), ["--cmdline", "b c", "--cmdline-policy", "append"],
     pad4(INITRD), "b c", "append"),
    # As systemd-stub hands it over: up to a NUL, control characters as blanks, none at the end.
    ("uki-cmdline-mangled", dict(cmdline=b"a\tb\nc \n\0junk"), ["--cmdline-policy", "embedded"], b"", "a b c",
     "embedded"),
    ("uki-no-initrd", dict(cmdline=b"x=1"), [], b"", "x=1", "loader"),
    ("uki-nothing", dict(), [], b"", None, "loader"),
    # Profiles: 0 by default; a profile's .cmdline replaces the shared one.
    ("profile-0", dict(initrd=INITRD, cmdline=b"base", profiles=[(b"ID=a\nTITLE=A", []),
                                                                 (b"ID=b", [(".cmdline", b"prof1")])]),
     [], pad4(INITRD), "base", "loader"),
    ("profile-1", dict(initrd=INITRD, cmdline=b"base", profiles=[(b"ID=a\nTITLE=A", []),
                                                                 (b"ID=b", [(".cmdline", b"prof1")])]),
     ["--profile", "1"], pad4(INITRD), "prof1", "loader"),
    ("bzimage-initrd-cmdline", None, ["--initrd", "e1", "--cmdline", "root=/dev/vda"], pad4(EXTRA),
     "root=/dev/vda", "loader"),
    ("bzimage-decompress", None, ["--initrd", "e2", "--initrd", "e1"], pad4(b"yy") + pad4(EXTRA), None, "loader"),
]


def make_input(work, bz, spec):
    (work / "e1").write_bytes(EXTRA)
    (work / "e2").write_bytes(b"yy")
    if spec is None:
        return "bz"
    (work / "k.efi").write_bytes(mkpe.uki(bz, **spec))
    return "k.efi"


@pytest.mark.parametrize("spec,args,initrd,cmdline,policy", [r[1:] for r in GOOD], ids=[r[0] for r in GOOD])
def test_carried(work, tool, bz, spec, args, initrd, cmdline, policy):
    src = make_input(work, bz, spec)
    pvhstub.ok("wrap", src, *args, "-o", "k.pvh", cwd=work)
    assert carried(work / "k.pvh") == (initrd, cmdline, policy)
    if spec is not None:
        info = pvhstub.inspect(work / src)
        assert info["kind"] == "uki" and info["wrap"]["ok"], info
        assert info["uname"] == "6.1.0-test" and info["os_release"] == "Debian GNU/Linux 13 (trixie)", info
        assert len(info["profiles"]) == len(spec.get("profiles", ())), info


def test_inspect_uki(work, tool, bz):
    (work / "k.efi").write_bytes(mkpe.uki(bz, initrd=INITRD, ucode=UCODE, cmdline=b"c=1", signed=0x100,
                                          profiles=[(b"ID=a\nTITLE='The A'", []), (b"ID=b", [])]))
    info = pvhstub.inspect(work / "k.efi")
    assert [s["name"] for s in info["sections"]] == [".osrel", ".cmdline", ".uname", ".linux", ".initrd", ".ucode",
                                                     ".profile", ".profile"], info
    assert info["profiles"] == [{"id": "a", "title": "The A"}, {"id": "b", "title": None}], info
    assert info["signed"] and (info["ucode_size"], info["initrd_size"], info["cmdline"]) == (70, 1100, "c=1"), info
    assert any("signature covers the PE file only" in w for w in info["warnings"]), info
    text = pvhstub.ok("inspect", "k.efi", cwd=work).stdout.decode()
    for want in ("kind:            Unified Kernel Image", "  1: ID b, TITLE (none)", "signed:          yes",
                 'cmdline (profile 0): "c=1"', "pvhstub wrap:    yes"):
        assert want in text, text
    # A signed UKI wraps, with a warning that the signature does not carry over.
    r = pvhstub.ok("wrap", "k.efi", "-o", "k.pvh", cwd=work)
    assert b"warning: the UKI is signed" in r.stderr, str(r)


def sections(bz, **change):
    """A UKI's sections, with one changed: {name: (bytes, fields)}."""
    s = [(".osrel", b"NAME=x\n"), (".linux", bz), (".initrd", INITRD)]
    return [(n, d, change.get(n, {})) for n, d in s]


def overlapping(bz):
    s = sections(bz)
    at = mkpe.align(0x80 + 4 + 20 + 240 + 40 * 3)
    s[2] = (".initrd", INITRD, {"offset": at + mkpe.align(7) + 0x200})     # inside .linux
    return mkpe.pe(s)


# Bad rows: name, the file (from the bzImage's bytes), wrap's options, the message.
BAD = [
    ("cut-in-coff", lambda bz: mkpe.pe(sections(bz))[:0x80 + 10], [],
     "a PE file cut short in its COFF header"),
    ("cut-in-section-table", lambda bz: mkpe.pe(sections(bz))[:0x80 + 24 + 240 + 50], [],
     "a PE file cut short in its headers: 3 sections at 0x188"),
    ("section-past-end", lambda bz: mkpe.pe(sections(bz, **{".initrd": {"offset": 0x7fff0000}})), [],
     "section .initrd [0x7fff0000, +0x44c) lies past the end of the file"),
    ("section-size-past-end", lambda bz: mkpe.pe(sections(bz, **{".linux": {"vsize": 0xfffffff0,
                                                                           "rawsize": 0xfffffff0}})), [],
     "section .linux [0x400, +0xfffffff0) lies past the end of the file"),
    ("sections-overlap", overlapping, [], "sections .linux [0x400, +0x10a00) and .initrd"),
    ("no-linux", lambda bz: mkpe.pe([(".text", b"\xc3" * 16), (".initrd", INITRD)]), [],
     "a PE file without a .linux section: not a Unified Kernel Image, and no bzImage (no 'HdrS' at 0x202)"),
    ("linux-not-bzimage", lambda bz: mkpe.uki(b"\x7fELF" + bytes(60)), [], "its .linux: "),
    ("linux-truncated", lambda bz: mkpe.uki(bz[:0x1000]), [], "its .linux: truncated: syssize says"),
    ("no-sections", lambda bz: mkpe.pe([], nsections=0), [], "a PE file with 0 sections"),
    ("many-sections", lambda bz: mkpe.pe(sections(bz), nsections=0xffff), [], "a PE file with 65535 sections"),
    ("bad-optional-magic", lambda bz: mkpe.pe(sections(bz), opt_magic=0x107), [],
     "optional header has magic 0x107, neither PE32 (0x10b) nor PE32+ (0x20b)"),
    # e_lfanew leads nowhere: no PE file, and no bzImage either.
    ("lfanew-past-end", lambda bz: mkpe.pe(sections(bz), lfanew=0x7ffffff0)[:0x200], [],
     "a PE file with no Linux setup header: no 'HdrS' signature at offset 0x202"),
    ("no-profile-2", lambda bz: mkpe.uki(bz, profiles=[(b"ID=a", []), (b"ID=b", [])]), ["--profile", "2"],
     "the UKI has profiles 0 to 1; there is no profile 2"),
    ("no-profiles", lambda bz: mkpe.uki(bz), ["--profile", "1"],
     "the UKI has no .profile sections, so only profile 0; there is no profile 1"),
    ("profile-of-bzimage", lambda bz: bz, ["--profile", "1"],
     "--profile applies to a Unified Kernel Image, and this is none"),
    ("policy-without-cmdline", lambda bz: mkpe.uki(bz, initrd=INITRD), ["--cmdline-policy", "append"],
     "--cmdline-policy applies to a command line the image carries"),
    ("cmdline-too-long", lambda bz: mkpe.uki(bz, cmdline=b"x" * 2048), [],
     "the command line the image would carry is 2048 bytes; the kernel takes at most 2047"),
]


@pytest.mark.parametrize("make,args,message", [r[1:] for r in BAD], ids=[r[0] for r in BAD])
def test_bad_uki(work, tool, bz, make, args, message):
    (work / "k.efi").write_bytes(bytes(make(bz)))
    (work / "out").write_text("keep\n")
    pvhstub.refuses(work, ["wrap", "k.efi", *args, "-o", "out"], 1, r"^pvhstub wrap: k\.efi: .*" + re.escape(message))
    if not args:
        # inspect describes what it can read (exit 0, "pvhstub wrap: no: ..."), or refuses (exit 1).
        r = pvhstub.run(["inspect", "k.efi"], cwd=work)
        assert r.rc in (0, 1) and message in r.stderr.decode() + r.stdout.decode(), str(r)
    # Under valgrind: no invalid read or write on the way to the message.
    problems = [pvhstub.valgrind_problems(work, ["wrap", "k.efi", *args, "-o", "new"], "wrap")[1],
                pvhstub.valgrind_problems(work, ["inspect", "--json", "k.efi"], "inspect")[1]]
    assert not any(problems), "\n".join(p for p in problems if p)
    assert not (work / "new").exists(), "wrap refused, but wrote its output"


def test_initrd_option_refusals(work, tool, bz):
    """A missing --initrd is named; the output is never one of the inputs."""
    pvhstub.refuses(work, ["wrap", "bz", "--initrd", "none", "-o", "out"], 1, r"^pvhstub wrap: none: ")
    (work / "rd").write_bytes(b"rd")
    pvhstub.refuses(work, ["wrap", "bz", "--initrd", "rd", "-o", "rd"], 1, r"^pvhstub wrap: .*rd")
    pvhstub.refuses(work, ["wrap", "bz", "--cmdline-policy", "first", "-o", "out"], 2,
                    r"--cmdline-policy takes loader, embedded or append, not 'first'")


@pytest.mark.linux
def test_ukify(work, tool, kernel, initrd):
    """A UKI built by Debian 13's ukify: the image carries its .ucode and
    .initrd, in that order and byte for byte, and its .cmdline."""
    images.cpio_part(work / "ucode.cpio", "ucode")
    uki = images.uki(work / "k.efi", kernel("cloud-trixie"), initrd=initrd, cmdline="console=ttyS0 uki=1",
                     ucode=work / "ucode.cpio")
    info = pvhstub.inspect(uki)
    assert info["kind"] == "uki" and info["cmdline"] == "console=ttyS0 uki=1", info
    assert [s["name"] for s in info["sections"] if s["name"] in (".linux", ".initrd", ".ucode", ".cmdline")] == [
        ".cmdline", ".linux", ".initrd", ".ucode"], info["sections"]
    pvhstub.ok("wrap", "k.efi", "--decompress", "-o", "k.pvh", cwd=work)
    rd, cmdline, policy = carried(work / "k.pvh")
    assert rd == pad4((work / "ucode.cpio").read_bytes()) + pad4(initrd.read_bytes()), "the carried initrd differs"
    assert (cmdline, policy) == ("console=ttyS0 uki=1", "loader")


def test_xlconfig_of_carrying_image(work, tool, bz):
    """xlconfig of an image that carries its initrd: no ramdisk unless given
    one, and memory for the carried initrd (the image's end, 256 MiB more)."""
    (work / "big").write_bytes(bytes(64 << 20))
    pvhstub.ok("wrap", "bz", "--initrd", "big", "--cmdline", "x=1", "-o", "k.pvh", cwd=work)
    info = pvhstub.inspect(work / "k.pvh")
    end_mib = (info["carried_initrd_addr"] + info["carried_initrd_size"] + (1 << 20) - 1) >> 20
    cfg = pvhstub.ok("xlconfig", "k.pvh", "-o", "-", cwd=work).stdout.decode()
    assert "ramdisk" not in cfg and "memory = %d\n" % (end_mib + 256) in cfg, cfg
    r = pvhstub.run(["xlconfig", "k.pvh", "--memory", str(end_mib), "-o", "-"], cwd=work)
    assert r.rc == 1 and b"the image, with the initrd it carries, ends at %d MiB" % end_mib in r.stderr, str(r)
