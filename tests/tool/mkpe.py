"""Synthetic PE/COFF files (Unified Kernel Images) for the tool's tests,
built as the PE format specification lays them out: the DOS header with
e_lfanew at 0x3c, "PE\\0\\0", the COFF header, a PE32+ optional header with
16 data directories, the section table, then each section's bytes at a
file-aligned offset.  Each field a test breaks is a keyword of pe()."""
import struct

FILE_ALIGN = 0x200
LFANEW = 0x80


def align(n, a=FILE_ALIGN):
    return (n + a - 1) // a * a


def pe(sections, signed=0, machine=0x8664, opt_magic=0x20b, nsections=None, optsize=240, lfanew=LFANEW,
       raw_pad=True):
    """A PE file holding SECTIONS, a list of (name, bytes) or (name, bytes,
    {field: value}) where a field (offset, rawsize, vsize) replaces the
    one the layout gives; SIGNED: a certificate table of that many bytes
    (its directory entry; the bytes themselves are zeros at the end)."""
    table = lfanew + 4 + 20 + optsize
    at = align(table + 40 * len(sections))
    heads, body = [], []
    for s in sections:
        name, data = s[0], s[1]
        f = dict(offset=at, rawsize=align(len(data)) if raw_pad else len(data), vsize=len(data))
        f.update(s[2] if len(s) > 2 else {})
        heads.append(struct.pack("<8sIIIIIIHHI", name.encode(), f["vsize"], 0x1000 * (len(heads) + 1),
                                 f["rawsize"], f["offset"], 0, 0, 0, 0, 0x40000040))
        body.append((at, data + bytes(align(len(data)) - len(data))))
        at += align(len(data))
    cert_at = at
    size = at + signed
    img = bytearray(size if size > table + 40 * len(sections) else table + 40 * len(sections))
    img[0:2] = b"MZ"
    struct.pack_into("<I", img, 0x3c, lfanew)
    img[lfanew:lfanew + 4] = b"PE\0\0"
    struct.pack_into("<HHIIIHH", img, lfanew + 4, machine,
                     len(sections) if nsections is None else nsections, 0, 0, 0, optsize, 0x22)
    opt = lfanew + 24
    if optsize >= 2:
        struct.pack_into("<H", img, opt, opt_magic)
    if optsize >= 112:
        struct.pack_into("<I", img, opt + 108, 16)
    if optsize >= 112 + 5 * 8 and signed:
        struct.pack_into("<II", img, opt + 112 + 4 * 8, cert_at, signed)
    for i, h in enumerate(heads):
        img[table + 40 * i:table + 40 * (i + 1)] = h
    for off, data in body:
        img[off:off + len(data)] = data
    return img


def uki(linux, initrd=None, cmdline=None, ucode=None, uname=b"6.1.0-test", profiles=(), signed=0, extra=()):
    """A UKI as ukify lays it out: .osrel .cmdline .uname .linux .initrd
    .ucode, then per profile a .profile and that profile's (name, bytes)
    sections.  PROFILES: a list of (profile text, [sections])."""
    s = [(".osrel", b'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 13 (trixie)"\n')]
    if cmdline is not None:
        s.append((".cmdline", cmdline))
    s.append((".uname", uname))
    s.append((".linux", linux))
    if initrd is not None:
        s.append((".initrd", initrd))
    if ucode is not None:
        s.append((".ucode", ucode))
    s += list(extra)
    for text, own in profiles:
        s.append((".profile", text))
        s += list(own)
    return pe(s, signed=signed)
