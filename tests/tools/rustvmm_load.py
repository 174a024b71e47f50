#!/usr/bin/env python3
"""rustvmm_load.py IMAGE [OUTDIR]: read IMAGE as rust-vmm's linux-loader does
(Firecracker and Cloud Hypervisor), from its src/loader/elf.rs:

  - ELF64, x86-64, little-endian only;
  - e_entry at or above 1 MiB (HIMEM_START);
  - every PT_LOAD with p_filesz != 0 is copied, p_filesz bytes from p_offset
    to p_paddr, which must be at or above 1 MiB; p_memsz past p_filesz is
    not zeroed (fresh RAM is zero), and a PT_LOAD with p_filesz 0 is skipped;
  - the PVH entry is the first 4 bytes of the descriptor of the note named
    "Xen" with type 18 (XEN_ELFNOTE_PHYS32_ENTRY), notes 4-byte padded; each
    PT_NOTE is read in turn, and one without that note clears what an earlier
    one found.

Without OUTDIR it only checks the rules (make check-image); with it, it also
writes each segment's bytes to OUTDIR/segN.bin and prints, for the test
loader, "entry 0xE" and one "segment FILE 0xADDR" line per segment.
Exit status 1, with the rule named, if the image breaks one.  The tests
call load() (tests/zoo/test_zoo.py).  It reads the ELF file itself, as
rust-vmm does, and not through pvhstub inspect: it is a model of another
loader's reader, which must not share pvhstub's.
"""
import struct
import sys

HIMEM_START = 0x100000
PT_LOAD, PT_NOTE = 1, 4


class Refused(Exception):
    pass


def fail(why):
    raise Refused("rust-vmm would refuse the image: " + why)


def notes(img, off, size):
    """(name, type, desc) of each note in [off, off + size), 4-byte padded."""
    end, out = off + size, []
    while off + 12 <= end:
        namesz, descsz, typ = struct.unpack_from("<III", img, off)
        name_at = off + 12
        desc_at = name_at + ((namesz + 3) & ~3)
        nxt = desc_at + ((descsz + 3) & ~3)
        if nxt > end:
            fail("a note runs past its PT_NOTE")
        out.append((img[name_at:name_at + namesz].rstrip(b"\0"), typ, img[desc_at:desc_at + descsz]))
        off = nxt
    return out


def load(img):
    """The PVH entry and the segments [(index, paddr, bytes)] rust-vmm loads; Refused if it would not."""
    if img[:4] != b"\x7fELF":
        fail("not an ELF")
    if img[4] != 2:
        fail("ELF32: linux-loader loads only ELF64")
    if img[5] != 1:
        fail("not little-endian")
    e_machine, = struct.unpack_from("<H", img, 0x12)
    if e_machine != 62:
        fail("e_machine %d is not x86-64" % e_machine)
    e_entry, e_phoff = struct.unpack_from("<QQ", img, 0x18)
    e_phentsize, e_phnum = struct.unpack_from("<HH", img, 0x36)
    if e_entry < HIMEM_START:
        fail("e_entry 0x%x is below 1 MiB" % e_entry)
    pvh, segments = None, []
    for i in range(e_phnum):
        typ, _, off, _, paddr, filesz, memsz, _ = struct.unpack_from("<IIQQQQQQ", img, e_phoff + i * e_phentsize)
        if typ == PT_LOAD and filesz:
            if paddr < HIMEM_START:
                fail("PT_LOAD %d at 0x%x is below 1 MiB" % (i, paddr))
            if off + filesz > len(img) or filesz > memsz:
                fail("PT_LOAD %d lies outside the file" % i)
            segments.append((i, paddr, img[off:off + filesz]))
        elif typ == PT_NOTE:
            found = [d for n, t, d in notes(img, off, filesz) if n == b"Xen" and t == 18]
            pvh = struct.unpack_from("<I", found[0])[0] if found and len(found[0]) >= 4 else None
    if pvh is None:
        fail("no XEN_ELFNOTE_PHYS32_ENTRY in the last PT_NOTE: no PVH boot")
    if not segments:
        fail("nothing to load")
    return pvh, segments


def main():
    outdir = sys.argv[2] if len(sys.argv) > 2 else None
    try:
        pvh, segments = load(open(sys.argv[1], "rb").read())
    except Refused as e:
        sys.exit(str(e))
    if outdir is None:
        print("ok: ELF64, PVH entry 0x%x, %d segments from 0x%x" % (pvh, len(segments), min(s[1] for s in segments)))
        return
    print("entry 0x%x" % pvh)
    for i, paddr, data in segments:
        name = "%s/seg%d.bin" % (outdir, i)
        open(name, "wb").write(data)
        print("segment %s 0x%x" % (name, paddr))


if __name__ == "__main__":
    main()
