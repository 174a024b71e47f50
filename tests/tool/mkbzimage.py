#!/usr/bin/env python3
"""Write a synthetic bzImage for the wrap tool's tests.

usage: mkbzimage.py OUT [field=value ...] [truncate=N] [magic=BYTES] [payload=FILE]

The default is a well-formed image: protocol 2.15, relocatable, 64-bit,
4 setup sectors, 64 KiB of protected-mode code.  Each field=value overrides
one setup-header field (values in C notation, e.g. version=0x205).
payload=FILE puts FILE's bytes (a compressed kernel, see mkpayload.py) in
the protected-mode code at 0x200, with payload_offset and payload_length set.
"""
import struct
import sys

FIELDS = {  # name: (offset, struct format)
    "setup_sects": (0x1f1, "B"), "syssize": (0x1f4, "I"), "boot_flag": (0x1fe, "H"),
    "jump": (0x200, "H"), "header": (0x202, "I"), "version": (0x206, "H"),
    "kernel_version": (0x20e, "H"), "loadflags": (0x211, "B"), "code32_start": (0x214, "I"),
    "initrd_addr_max": (0x22c, "I"), "kernel_alignment": (0x230, "I"),
    "relocatable_kernel": (0x234, "B"), "xloadflags": (0x236, "H"), "cmdline_size": (0x238, "I"),
    "payload_offset": (0x248, "I"), "payload_length": (0x24c, "I"),
    "pref_address": (0x258, "Q"), "init_size": (0x260, "I"),
}


def main():
    out = sys.argv[1]
    args = dict(a.split("=", 1) for a in sys.argv[2:])
    setup_sects = int(args.get("setup_sects", "4"), 0)
    # boot.rst: "If this field is 0, the real value is 4."  The image is laid out so.
    setup_size = (setup_sects or 4) + 1
    payload = open(args["payload"], "rb").read() if "payload" in args else None
    pm_size = 64 * 1024 if payload is None else (0x200 + len(payload) + 15) & ~15
    values = {
        "setup_sects": setup_sects, "syssize": pm_size // 16, "boot_flag": 0xaa55,
        "jump": 0x66eb, "header": 0x53726448, "version": 0x020f, "kernel_version": 0x100,
        "loadflags": 0x01, "code32_start": 0x100000, "initrd_addr_max": 0x7fffffff,
        "kernel_alignment": 0x200000, "relocatable_kernel": 1, "xloadflags": 0x7f,
        "cmdline_size": 2047, "payload_offset": 0x100, "payload_length": 0x1000,
        "pref_address": 0x1000000, "init_size": 0x800000,
    }
    if payload is not None:
        values["payload_offset"], values["payload_length"] = 0x200, len(payload)
    for k, v in args.items():
        if k in FIELDS:
            values[k] = int(v, 0)
    img = bytearray(setup_size * 512 + pm_size)
    for k, v in values.items():
        off, fmt = FIELDS[k]
        struct.pack_into("<" + fmt, img, off, v)
    img[0x300:0x300 + 18] = b"6.1.0-synthetic x\0"
    # Recognisable protected-mode code.
    pm = setup_size * 512
    for i in range(pm, len(img), 4):
        struct.pack_into("<I", img, i, (i * 2654435761) & 0xffffffff)
    if payload is not None:
        img[pm + 0x200:pm + 0x200 + len(payload)] = payload
    if "magic" in args:
        img = bytearray(args["magic"].encode("latin-1").decode("unicode_escape").encode("latin-1")) + img[16:]
    if "truncate" in args:
        img = img[:int(args["truncate"], 0)]
    open(out, "wb").write(img)


if __name__ == "__main__":
    main()
