#!/usr/bin/env python3
"""mkpayload.py FORMAT OUT [vmlinux options]: a tiny x86-64 vmlinux, compressed
as Linux compresses a bzImage payload (FORMAT's tool, then the decompressed
size appended as le32; gzip's own trailer ends with it, so gzip gets none).

FORMAT: gzip xz lzma bzip2 zstd lz4 lzo, or raw (the vmlinux itself).
Options: claim=N       give N as the size instead of the true one
         zeros=MIB     compress MIB MiB of zeros instead of a vmlinux
         corrupt=1     flip bytes in the middle of the compressed stream
         badphdr=1     e_phoff points past the end of the file
         misalign=1    the program headers sit at an odd offset
         cut=N         keep only the first N bytes of the compressed stream
         dict=N        (lzma) claim an N-byte dictionary in the header
         i386=1        an ELF32 i386 vmlinux instead
         banner=1      Linux's banner ("Linux version 6.1.0-synthetic x (t@h) (gcc) #1 SMP")
                       in the x86-64 vmlinux's data, at 0x1000 into its segment (same sizes)
         relocs=KIND   append a relocation table as Linux does (CONFIG_RANDOMIZE_BASE):
                       good, outside (a site past the kernel), noend (no
                       terminating 0), extra (a word before the first 0), odd
                       (a length that is no multiple of 4)
"""
import struct
import subprocess
import sys

COMMANDS = {
    "gzip": ["gzip", "-9", "-n", "-c"], "xz": ["xz", "--check=crc32", "-c"],
    "lzma": ["xz", "--format=lzma", "-c"], "bzip2": ["bzip2", "-9", "-c"],
    "zstd": ["zstd", "-19", "-q", "-c"], "lz4": ["lz4", "-l", "-9", "-q", "-c"],
    "lzo": ["lzop", "-9", "-c"],
}


def vmlinux32():
    """ELF32 i386, one PT_LOAD of code at 16 MiB, entry (physical) at its start."""
    code = bytes([0xf4, 0xeb, 0xfd]) + bytes(range(256)) * 64
    ehdr = struct.pack("<16sHHIIIIIHHHHHH", b"\x7fELF\x01\x01\x01" + b"\0" * 9, 2, 3, 1,
                       0x1000000, 0x34, 0, 0, 52, 32, 1, 40, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, 0x1000, 0xc1000000, 0x1000000, len(code),
                       len(code) + 0x10000, 7, 0x1000)
    img = bytearray(ehdr + phdr)
    img += b"\0" * (0x1000 - len(img)) + code
    return bytes(img)


BANNER = b"Linux version 6.1.0-synthetic x (t@h) (gcc 12 (Debian)) #1 SMP\n\0"


def vmlinux(badphdr, misalign=False, percpu=False, banner=False):
    """ELF64 x86-64, one PT_LOAD of code at 16 MiB, entry (physical) at its start; with
    percpu, a second PT_LOAD linked at virtual 0 (a zero-based per-CPU area) after it."""
    code = bytes([0xf4, 0xeb, 0xfd]) + bytes(range(256)) * 64      # hlt; jmp .-1; data
    if banner:
        code = code[:0x1000] + BANNER + code[0x1000 + len(BANNER):]
    phoff = 0x7fffffff if badphdr else 0x41 if misalign else 0x40
    ehdr = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + b"\0" * 9, 2, 62, 1,
                       0x1000000, phoff, 0, 0, 64, 56, 2 if percpu else 1, 64, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 7, 0x1000, 0xffffffff81000000, 0x1000000,
                       len(code), len(code) + 0x10000, 0x200000)
    if percpu:
        phdr += struct.pack("<IIQQQQQQ", 1, 6, 0x1000, 0, 0x1020000, 0x100, 0x100, 0x1000)
    img = bytearray(ehdr + (b"\0" if misalign else b"") + phdr)
    img += b"\0" * (0x1000 - len(img)) + code
    return bytes(img)


TEXT = 0xffffffff81000000


def relocs(kind):
    """[0][64-bit][0][inverse 32-bit][0][32-bit], each site the low half of its address
    (Linux up to 6.14); "two": [0][64-bit][0][32-bit] (6.15 on, no inverse list)."""
    r64, inv, r32 = [TEXT + 0x10, TEXT + 0x3ff8], [TEXT + 0x100], [TEXT + 0x20, TEXT + 0x3fff]
    if kind == "outside":
        r32.append(TEXT + 0x14000)          # memsz ends at +0x14003: a dword does not fit
    words = [0] + r64 + [0] + inv + [0] + r32
    if kind == "two":
        words = [0] + r64 + [0] + r32
    if kind == "four":
        words = [0] + r64 + [0] + inv + [0] + r32 + [0] + r32
    if kind == "firstword":
        words = [0x81000044] + r64 + [0] + inv + [0] + r32
    if kind == "noend":
        words = r64 + inv + r32
    if kind == "extra":
        words = [0x81000044] + words
    tail = b"".join(struct.pack("<I", w & 0xffffffff) for w in words)
    return tail + (b"\1" if kind == "odd" else b"")


def main():
    fmt, out = sys.argv[1], sys.argv[2]
    opts = dict(a.split("=", 1) for a in sys.argv[3:])
    data = (b"\0" * (int(opts["zeros"]) << 20) if "zeros" in opts else
            vmlinux32() if "i386" in opts else vmlinux("badphdr" in opts, "misalign" in opts, "percpu" in opts, "banner" in opts))
    if "relocs" in opts:
        data += relocs(opts["relocs"])
    if fmt == "raw":
        open(out, "wb").write(data)
        return
    comp = bytearray(subprocess.run(COMMANDS[fmt], input=data, stdout=subprocess.PIPE, check=True).stdout)
    if "dict" in opts:
        struct.pack_into("<I", comp, 1, int(opts["dict"], 0))
    if "cut" in opts:
        comp = comp[:int(opts["cut"], 0)]
    if "corrupt" in opts:
        mid = len(comp) // 2
        for i in range(mid, min(mid + 8, len(comp) - 8)):
            comp[i] ^= 0x5a
    claim = int(opts.get("claim", str(len(data))), 0)
    if fmt == "gzip" and "cut" not in opts:
        # Linux appends no size to gzip's stream: its trailer ends with the size (ISIZE).
        struct.pack_into("<I", comp, len(comp) - 4, claim)
        open(out, "wb").write(bytes(comp))
        return
    open(out, "wb").write(bytes(comp) + struct.pack("<I", claim))


if __name__ == "__main__":
    main()
