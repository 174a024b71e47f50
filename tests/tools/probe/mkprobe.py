#!/usr/bin/env python3
"""mkprobe.py SETUP.bin PROBE32.bin IMAGE_SIZE OUT: join the probe's parts
into a bzImage and fill in syssize and init_size."""
import struct
import sys

setup = bytearray(open(sys.argv[1], "rb").read())
pm = bytearray(open(sys.argv[2], "rb").read())
image_size = int(sys.argv[3], 0)          # 32-bit part, bss included
sects = setup[0x1f1] or 4
if len(setup) != (sects + 1) * 512:
    sys.exit("mkprobe: setup is %d bytes, want %d" % (len(setup), (sects + 1) * 512))
pm += b"\0" * (-len(pm) % 16)
struct.pack_into("<I", setup, 0x1f4, len(pm) // 16)
struct.pack_into("<I", setup, 0x260, (max(image_size, len(pm)) + 0xfff) & ~0xfff)
open(sys.argv[4] + ".tmp", "wb").write(setup + pm)
import os
os.replace(sys.argv[4] + ".tmp", sys.argv[4])
