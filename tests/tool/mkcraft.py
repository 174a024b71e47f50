#!/usr/bin/env python3
"""mkcraft.py IMAGE VMLINUX OUTDIR: crafted ELF files that attack the tool's
ELF reading, each derived from a good wrapped IMAGE (ELF64: stub PT_LOAD,
payload PT_LOAD, PT_NOTE) or a good VMLINUX.  Writes OUTDIR/<name>.elf and
prints the names.  Every craft must be refused or described without one
invalid read (tests/tool/test_crafts.py runs the tool on them under valgrind).
"""
import os
import struct
import sys

EHDR = "<16sHHIQQQIHHHHHH"
PHDR = "<IIQQQQQQ"
NEAR_2_64 = 0xffffffffffffffc0
PT_LOAD, PT_NOTE = 1, 4


def ehdr(img):
    return list(struct.unpack_from(EHDR, img, 0))


def put_ehdr(img, f):
    struct.pack_into(EHDR, img, 0, *f)


def phdrs(img):
    e = ehdr(img)
    return [list(struct.unpack_from(PHDR, img, e[5] + 56 * i)) for i in range(e[10])]


def put_phdr(img, i, p):
    struct.pack_into(PHDR, img, ehdr(img)[5] + 56 * i, *p)


def find(img, ptype, nth=0):
    return [i for i, p in enumerate(phdrs(img)) if p[0] == ptype][nth]


def set_ph(img, ptype, nth=0, **kw):
    """Change fields of the nth program header of type ptype."""
    names = ["type", "flags", "offset", "vaddr", "paddr", "filesz", "memsz", "align"]
    i = find(img, ptype, nth)
    p = phdrs(img)[i]
    for k, v in kw.items():
        p[names.index(k)] = v
    put_phdr(img, i, p)
    return img


def set_eh(img, **kw):
    names = ["ident", "type", "machine", "version", "entry", "phoff", "shoff", "flags",
             "ehsize", "phentsize", "phnum", "shentsize", "shnum", "shstrndx"]
    e = ehdr(img)
    for k, v in kw.items():
        e[names.index(k)] = v
    put_ehdr(img, e)
    return img


def note_at(img, namesz, descsz):
    """The PT_NOTE's first note claims namesz and descsz."""
    off = phdrs(img)[find(img, PT_NOTE)][2]
    struct.pack_into("<II", img, off, namesz, descsz)
    return img


def pn_xnum(img, count):
    """e_phnum = PN_XNUM, the real count in section 0's sh_info."""
    sh = len(img)
    img += struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, count, 0, 0)
    return set_eh(img, phnum=0xffff, shoff=sh, shnum=1, shentsize=64)


def elf32(img):
    """The same bytes, relabelled ELF32 i386 (headers then misread)."""
    img[4] = 1
    struct.pack_into("<H", img, 18, 3)
    return img


# Each craft: a name, and how to make it from the good image i and vmlinux v
# (bytearrays; size: the image's length).
c = bytearray
CRAFTS = {
    "phoff-wraps": lambda i, v, size: set_eh(c(i), phoff=NEAR_2_64),
    "phoff-past-end": lambda i, v, size: set_eh(c(i), phoff=size - 8),
    "load-offset-wraps": lambda i, v, size: set_ph(c(i), PT_LOAD, offset=NEAR_2_64),
    "load-offset-wraps-2nd": lambda i, v, size: set_ph(c(i), PT_LOAD, 1, offset=NEAR_2_64),
    "note-offset-wraps": lambda i, v, size: set_ph(c(i), PT_NOTE, offset=NEAR_2_64),
    "note-size-wraps": lambda i, v, size: set_ph(c(i), PT_NOTE, filesz=NEAR_2_64),
    "vmlinux-offset-wraps": lambda i, v, size: set_ph(c(v), PT_LOAD, offset=NEAR_2_64),
    "vmlinux-filesz-wraps": lambda i, v, size: set_ph(c(v), PT_LOAD, filesz=NEAR_2_64, memsz=NEAR_2_64),
    "vmlinux-paddr-wraps": lambda i, v, size: set_ph(c(v), PT_LOAD, paddr=NEAR_2_64),
    "vmlinux-entry-wraps": lambda i, v, size: set_eh(c(v), entry=NEAR_2_64),
    # Counts and sizes near their limits.
    "phnum-65535": lambda i, v, size: set_eh(c(i), phnum=0xffff),
    "phnum-xnum-huge": lambda i, v, size: pn_xnum(c(i), 0xffffffff),
    "phnum-xnum-3": lambda i, v, size: pn_xnum(c(i), 3),
    "phentsize-0": lambda i, v, size: set_eh(c(i), phentsize=0),
    "phentsize-huge": lambda i, v, size: set_eh(c(i), phentsize=0xffff),
    "shoff-wraps": lambda i, v, size: set_eh(c(i), shoff=NEAR_2_64, shnum=0xffff, shentsize=64),
    "note-namesz-huge": lambda i, v, size: note_at(c(i), 0xfffffffc, 8),
    "note-descsz-huge": lambda i, v, size: note_at(c(i), 4, 0xfffffffc),
    "note-both-huge": lambda i, v, size: note_at(c(i), 0xffffffff, 0xffffffff),
    "note-unaligned": lambda i, v, size: set_ph(c(i), PT_NOTE, offset=phdrs(i)[find(i, PT_NOTE)][2] + 1),
    "note-align-8": lambda i, v, size: set_ph(c(i), PT_NOTE, align=8),
    # Segments past the end of the file.
    "load-past-end": lambda i, v, size: set_ph(c(i), PT_LOAD, offset=size - 16),
    "load-filesz-past-end": lambda i, v, size: set_ph(c(i), PT_LOAD, filesz=size),
    "payload-past-end": lambda i, v, size: set_ph(c(i), PT_LOAD, 1, filesz=size),
    "vmlinux-past-end": lambda i, v, size: set_ph(c(v), PT_LOAD, filesz=len(v)),
    "note-past-end": lambda i, v, size: set_ph(c(i), PT_NOTE, offset=size - 4),
    # Cut short, and the wrong class.
    "truncated-ehdr": lambda i, v, size: c(i[:40]),
    "truncated-phdrs": lambda i, v, size: c(i[:64 + 56 + 20]),
    "truncated-info": lambda i, v, size: c(i[:0x1000 + 40]),
    "elf32-relabelled": lambda i, v, size: elf32(c(i)),
    "vmlinux-elf32": lambda i, v, size: elf32(c(v)),
    "big-endian": lambda i, v, size: c(i[:5]) + b"\x02" + c(i[6:]),
}


def crafts(image, vmlinux):
    """{name: the craft's bytes}."""
    return {name: make(bytearray(image), bytearray(vmlinux), len(image)) for name, make in CRAFTS.items()}


def main():
    image = open(sys.argv[1], "rb").read()
    vmlinux = open(sys.argv[2], "rb").read()
    out = sys.argv[3]
    os.makedirs(out, exist_ok=True)
    for name, data in crafts(image, vmlinux).items():
        open(os.path.join(out, name + ".elf"), "wb").write(bytes(data))
        print(name)


if __name__ == "__main__":
    main()
