#!/usr/bin/env python3
"""Join the probe kernels' parts into bzImages (tests/tools/probe, docs/probe.md).

  mkprobe.py bz32 SETUP.bin PROBE32.bin IMAGE_SIZE OUT
      the 32-bit probe: fill in syssize and init_size.
  mkprobe.py blob SIZE OUT
      SIZE pseudo-random bytes, the 64-bit probe's bulk.
  mkprobe.py bz64 SETUP.bin PROBE64.elf FLAT.bin STRIPPED.elf OUT
      the 64-bit probe: FLAT.bin (objcopy -O binary) runs as the bzImage's
      protected-mode code; its payload is STRIPPED.elf and the relocation
      table, gzipped, as Linux's is (what pvhstub wrap --decompress takes).
      The table is made from PROBE64.elf's relocations (linked with
      --emit-relocs), as arch/x86/tools/relocs does: three lists when the
      ELF has a zero-based per-CPU area, two when not.  OUT.json says what
      the probe must report: its sites' link-time bytes and kinds, the hash
      of its bytes, where it is linked.
"""
import gzip
import json
import os
import random
import struct
import sys

KOFF = 0xffffffff80000000
XLF_KERNEL_64, XLF_CAN_BE_LOADED_ABOVE_4G = 1, 2
R_64, R_PC32, R_PLT32, R_32, R_32S = 1, 2, 4, 10, 11
PC_RELATIVE = {R_PC32, R_PLT32, 9, 41, 42}      # and GOTPCREL(X): all within the image
SHN_ABS = 0xfff1
RUN = 32                                        # PROBE64_SITES_RUN
RUNS = ("a", "b", "c")


def write(path, data):
    open(path + ".tmp", "wb").write(data)
    os.replace(path + ".tmp", path)


def setup_part(path):
    setup = bytearray(open(path, "rb").read())
    sects = setup[0x1f1] or 4
    if len(setup) != (sects + 1) * 512:
        sys.exit("mkprobe: setup is %d bytes, want %d" % (len(setup), (sects + 1) * 512))
    return setup


def bzimage(setup, pm, image_size, out, payload=b"", xloadflags=0, pref_address=None):
    pm = pm + b"\0" * (-len(pm) % 16)
    struct.pack_into("<I", setup, 0x1f4, (len(pm) + len(payload) + 15) // 16)
    struct.pack_into("<I", setup, 0x260, (max(image_size, len(pm) + len(payload)) + 0xfff) & ~0xfff)
    if payload:
        struct.pack_into("<II", setup, 0x248, len(pm), len(payload))
    struct.pack_into("<H", setup, 0x236, xloadflags)
    if pref_address is not None:
        struct.pack_into("<Q", setup, 0x258, pref_address)
    write(out, bytes(setup) + pm + payload)


class Elf64:
    """What we need of an ELF64 file: sections, symbols, relocations."""

    def __init__(self, path):
        self.data = open(path, "rb").read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2:
            sys.exit("mkprobe: %s is not an ELF64 file" % path)
        (self.entry, self.phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
         shstrndx) = struct.unpack_from("<QQQIHHHHHH", d, 0x18)
        self.sections = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize) for i in range(shnum)]
        names = self.sections[shstrndx]
        self.names = [self.cstr(names[4] + s[0]) for s in self.sections]
        self.phdrs = [struct.unpack_from("<IIQQQQQQ", d, self.phoff + i * phentsize) for i in range(phnum)]

    def cstr(self, off):
        return self.data[off:self.data.index(b"\0", off)].decode()

    def section(self, name):
        return self.sections[self.names.index(name)] if name in self.names else None

    def symbols(self, index):
        s = self.sections[index]
        strtab = self.sections[s[6]][4]
        for off in range(s[4], s[4] + s[5], 24):
            name, info, other, shndx, value, size = struct.unpack_from("<IBBHQQ", self.data, off)
            yield self.cstr(strtab + name), shndx, value

    def relocations(self):
        """(site, type, symbol's section index, symbol's name) of every relocation."""
        for s in self.sections:
            if s[1] != 4:                       # SHT_RELA
                continue
            syms = list(self.symbols(s[6]))
            for off in range(s[4], s[4] + s[5], 24):
                site, info, _ = struct.unpack_from("<QQq", self.data, off)
                name, shndx, _ = syms[info >> 32]
                yield site, info & 0xffffffff, shndx, name


def relocation_table(elf, symbols):
    """Linux's table for ELF: the words, the number of lists, and each site as (address, kind)."""
    percpu = elf.names.index(".data..percpu") if ".data..percpu" in elf.names else None
    runs = [(symbols["probe_sites_" + r], symbols["probe_sites_" + r] + RUN) for r in RUNS]
    lists = {"64": [], "inv": [], "32": []}
    for site, rtype, shndx, name in elf.relocations():
        if rtype in PC_RELATIVE:
            kind = "inv" if percpu is not None and shndx == percpu else None
        elif rtype in (R_64, R_32, R_32S):
            kind = None if shndx == SHN_ABS else "64" if rtype == R_64 else "32"
        else:
            sys.exit("mkprobe: relocation type %d at 0x%x (%s): not one the probe uses" % (rtype, site, name))
        if kind is None:
            continue
        if not any(a <= site < b for a, b in runs):
            sys.exit("mkprobe: a %s relocation at 0x%x (%s) outside the sites: the probe's code must be "
                     "position-independent" % (kind, site, name))
        lists[kind].append(site)
    nlists = 3 if percpu is not None else 2
    words = [0] + sorted(lists["64"]) + [0]
    if nlists == 3:
        words += sorted(lists["inv"]) + [0]
    words += sorted(lists["32"])
    table = b"".join(struct.pack("<I", w & 0xffffffff) for w in words)
    return table, nlists, [(a, k) for k in lists for a in lists[k]]


def image_hash(flat, moved, run_offsets):
    h = 0xcbf29ce484222325
    for off in range(0, moved, 8):
        if any(r <= off < r + RUN for r in run_offsets):
            continue
        h = ((h ^ struct.unpack_from("<Q", flat, off)[0]) * 0x100000001b3) & 0xffffffffffffffff
    return h


def bz64(setup_bin, elf_path, flat_path, stripped_path, out):
    elf = Elf64(elf_path)
    symtab = elf.names.index(".symtab")
    symbols = {n: v for n, _, v in elf.symbols(symtab) if n}
    text = symbols["_text"]
    flat = open(flat_path, "rb").read()
    table, nlists, sites = relocation_table(elf, symbols)
    moved = symbols["_moved_end"] - text
    runs = {r: symbols["probe_sites_" + r] - text for r in RUNS}
    info = {
        "lists": nlists, "link_virt": text, "phys": text - KOFF, "entry64": symbols["probe64_entry64"] - text,
        "moved": moved, "size": symbols["_end"] - text,
        "image_hash": "0x%016x" % image_hash(flat, moved, runs.values()),
        "runs": {r: flat[o:o + RUN].hex() for r, o in runs.items()},
        "sites": {r: [[a - text - o, k] for a, k in sorted(sites) if 0 <= a - text - o < RUN] for r, o in runs.items()},
    }
    payload = open(stripped_path, "rb").read() + table
    gz = gzip.compress(payload, compresslevel=9, mtime=0)
    bzimage(setup_part(setup_bin), flat, info["size"], out, gz, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
            info["phys"])
    write(out + ".json", json.dumps(info, indent=1, sort_keys=True).encode() + b"\n")


def main(argv):
    if argv[:1] == ["bz32"] and len(argv) == 5:
        bzimage(setup_part(argv[1]), open(argv[2], "rb").read(), int(argv[3], 0), argv[4])
    elif argv[:1] == ["blob"] and len(argv) == 3:
        write(argv[2], random.Random(64).randbytes(int(argv[1], 0)))
    elif argv[:1] == ["bz64"] and len(argv) == 6:
        bz64(*argv[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
