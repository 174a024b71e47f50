#!/usr/bin/env python3
"""Seeded PVH layouts at boot: the stub's assembly, placement, KASLR and entry under random loaders.

  fuzzboot.py --obj BUILD --seed N --count M [--mode MODE] [--jobs J] [--results FILE] [--keep]

(make fuzz-boot SEED=N COUNT=M [MODE=...]; make check runs seeds 1 to 1600,
300 of each mode of the 64-bit probe and 100 of the 32-bit one, as pytest
tests, tests/fuzzboot/test_fuzzboot.py.)

Each seed has a wrap mode (MODES; seed N's is CYCLE[(N-1) mod 16], or --mode):
the 32-bit probe kernel as it is, or the 64-bit one (tests/tools/probe:
probe64-3 or probe64-2.bzImage, the relocation table in 3 or 2 lists,
drawn) through --handoff 32, --handoff 64, or --decompress with --kaslr
off, virtual or full.  And it draws, with Python's random.Random(seed), a
valid but unusual PVH layout: a QEMU machine and memory size; a memory map of 1 to 250 entries
(holes, reserved, ACPI, NVS and unknown types, tiny RAM, RAM mostly above
4 GiB, adjacent and unsorted entries, zero-length ones, RAM over the ISA
hole); modules anywhere (inside the kernel's window, above 4 GiB, over the
stub, zero-length, several); the start_info (version 0, 1 or 2), command
line, module list, memory map and RSDP at odd addresses; and the probe
kernel's header (window size, initrd_addr_max, CAN_BE_LOADED_ABOVE_4G).
The layout is a framework.layouts.Layout, packed by its functions and
booted by framework.pvhload: QEMU places every table with -device loader,
and the test loader enters the stub with %ebx at the start_info.

Tables and initrds lie now and then just beside 2 MiB boundaries, and in
half the seeds up to the top of the RAM below 4 GiB.  A --kaslr full seed
may draw a map with one physical slot or none (RAM cut inside the kernel,
and at most one more range that fits it), and RAM far above 4 GiB (up to
16 GiB: QEMU allocates what is touched).

The seed also predicts the outcome, from the rules the stub documents:
either the probe's zero page matches the layout (e820 = the memmap after
the ISA-hole rule, the initrd byte for byte where the stub must put it,
the cmdline, the RSDP), or the stub panics with a message that names the
reason.  The 64-bit probe must also run where the mode puts it (the load
address; with --kaslr full, a physical slot by the rules of
docs/wrapping.md, or the load address and the stub's warning when the map
has none, and as many slots as the seed counts when pvhstub.debug says),
entered through the mode's handoff, with every relocation site moved by the
virtual offset the stub reports (2 MiB-aligned, inside the kernel's 1 GiB),
its own bytes whole, and the loader's tables outside the kernel (their
checksums on its command line, probe.sum=) unharmed.  Anything else (a
hang, a fault, another message, a mismatch) fails, and prints the command
that replays the seed.
"""
import argparse
import concurrent.futures
import functools
import hashlib
import os
import pathlib
import random
import re
import shutil
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from e820 import isa_rule  # noqa: E402
from framework import images, layouts, probe as zero_page, pvhload, tool as pvhstub  # noqa: E402

MiB, GiB = layouts.MiB, layouts.GiB
FOUR_GIB = layouts.FOUR_GIB
SIF_TYPES = (2, 3, 4, 5, 7, 12, 0xf00)      # reserved, ACPI, NVS, unusable, pmem, PRAM, unknown
CMDLINE_MAX = zero_page.CMDLINE_MAX
TIMEOUT = 60
WRAP_LOCK = threading.Lock()
# The wrap modes: pvhstub wrap's options for each.  probe32 is the 32-bit probe, the rest the 64-bit one.
MODES = {
    "probe32": [], "h32": ["--handoff", "32"], "h64": ["--handoff", "64"],
    "dec-off": ["--decompress", "--kaslr", "off"], "dec-virtual": ["--decompress", "--kaslr", "virtual"],
    "dec-full": ["--decompress", "--kaslr", "full"],
}
SLOT_ALIGN = 2 * MiB
KASLR_FLAG = 0x02       # loadflags (boot.rst)
SLOT_MAX = 512 * GiB
START_INFO_SIZE = 56            # sizeof(struct hvm_start_info), whatever its version
ZERO_PAGE_E820 = 128            # the zero page's e820 entries: the slot planner reads those
SUM = "probe.sum=0x%08x,0x%04x"


# Seed N's mode is CYCLE[(N - 1) % 16]: in 1600 seeds, 300 of each mode of the
# 64-bit probe and 100 of the 32-bit one, whose handoff h32 takes too.
CYCLE = ["probe32"] + [m for m in MODES if m != "probe32"] * 3


def mode_of(seed):
    return CYCLE[(seed - 1) % len(CYCLE)]


@functools.lru_cache(maxsize=None)
def elf_read(path, obj):
    """(e_entry, [(paddr, filesz, memsz, offset)] of its PT_LOAD segments, the
    whole 'pvhstub inspect --json')."""
    info = pvhstub.inspect(path, tool=os.path.join(obj, "pvhstub"))
    return info["e_entry"], [(s["paddr"], s["filesz"], s["memsz"], s["offset"]) for s in pvhstub.segments(info)], info


def tool_id(obj, _ids={}):
    """A short hash of OBJ's pvhstub, which carries the stub."""
    if obj not in _ids:
        with open(os.path.join(obj, "pvhstub"), "rb") as f:
            _ids[obj] = hashlib.sha256(f.read()).hexdigest()[:12]
    return _ids[obj]


class Layout:
    """One seed's layout, and what the stub must make of it."""

    def __init__(self, seed, obj, mode=None):
        self.seed = seed
        self.rng = random.Random(seed)
        self.obj = obj
        self.mode = mode or mode_of(seed)
        self.blobs = []             # (addr, bytes)
        self.taken = []             # ranges no other blob may use
        self.kinds = ["mode:" + self.mode]     # what this seed exercises, for the summary
        self.sums = []              # (addr, bytes) the probe checksums: the loader's tables
        self.probe_hdr()

    # --- the machine -----------------------------------------------------
    def machine(self):
        r = self.rng
        self.machine_name = r.choice(["pc", "pc", "q35", "microvm"])
        mems = [64, 96, 128, 256, 512, 1024, 2048, 4096, 6144]
        if self.mode == "dec-full":             # slots far above 4 GiB
            mems += [12288, 16384]
        self.mem = r.choice(mems) * MiB
        below = layouts.qemu_low_top(self.machine_name, self.mem // MiB)
        self.low_top = below
        self.high = (FOUR_GIB, FOUR_GIB + self.mem - below) if self.mem > below else None
        # Where blobs may go: real RAM, away from what QEMU, SeaBIOS, pvhload and the images use,
        # above the stub.  The firmware writes below 1 MiB and in the top 17 MiB of the RAM under
        # 4 GiB (framework.pvhload): blobs there are staged elsewhere and copied in by pvhload.
        # Half the seeds keep 32 MiB clear of that top all the same; in the others tables and
        # initrds may lie where a moved initrd's new home is (the highest free RAM).
        # (Not under 256 MiB: pvhload must find room to stage them.)
        self.top = self.low_top - (32 * MiB if r.random() < 0.5 or self.low_top < 256 * MiB else 0)
        self.zones = [(self.stub[1], self.top)]
        if self.high:
            self.zones.append(self.high)
        # QEMU refuses blobs over the images' file bytes (its ROMs).
        self.forbidden = [self.stub_file, self.pvhload] + self.files

    # --- the probe's header and the wrap -----------------------------------
    def probe_hdr(self):
        r = self.rng
        if self.mode == "probe32":
            probe = os.path.join(self.obj, "tests", "probe.bzImage")
            self.spec = None
            self.init_size = r.choice([0x3000, 0x3000, 16 * MiB, 48 * MiB])
            self.above4g = r.random() < 0.2
        else:
            self.lists = r.choice([3, 2])
            self.kinds.append("relocs:%d lists" % self.lists)
            probe = os.path.join(self.obj, "tests", "probe64-%d.bzImage" % self.lists)
            self.spec = zero_page.spec(probe)
            # Its window holds it, its .bss and its page tables: no less.
            self.init_size = r.choice([None, None, 16 * MiB + self.spec["size"], 48 * MiB])
            self.above4g = r.random() < 0.5
        self.addr_max = r.choice([0x7fffffff, 0x7fffffff, 0x37ffffff, 0xffffffff, 0x0fffffff])
        # Each build's tool wraps the probe anew: the key names the tool.
        key = "%s-%s-%x-%d-%x-%s" % (self.mode, os.path.basename(probe).split(".")[0], self.init_size or 0,
                                     self.above4g, self.addr_max, tool_id(self.obj))
        img = os.path.join(self.obj, "tests", "fuzzboot", "probe-%s.pvh" % key)
        with WRAP_LOCK:
            if not os.path.exists(img):
                self.wrap(probe, img)
        self.image = img
        self.entry, self.loads, self.info = elf_read(img, self.obj)
        loads = self.loads
        self.stub = (loads[0][0], loads[0][0] + loads[0][2])
        self.stub_file = (loads[0][0], loads[0][0] + loads[0][1])
        self.window = (self.info["window_start"], self.info["window_end"])
        self.files = [(p[0], p[0] + p[1]) for p in loads[1:]]
        pv = elf_read(os.path.join(self.obj, "tests", "pvhload.elf"), self.obj)[1][0]
        self.pvhload = (pv[0], (pv[0] + pv[2] + 0xfff) & ~0xfff)

    def wrap(self, probe, img):
        """The probe with this seed's header fields, wrapped in its mode.
        Several processes may wrap the same one: each in files of its own,
        the last rename wins with the same bytes."""
        tmp = "%s.%d" % (img, os.getpid())
        images.with_header(probe, tmp + ".bz", self.init_size, self.addr_max, self.above4g)
        subprocess.run([os.path.join(self.obj, "pvhstub"), "wrap"] + MODES[self.mode] + [tmp + ".bz", "-o", tmp],
                       check=True, stdout=subprocess.DEVNULL)
        os.replace(tmp, img)
        os.unlink(tmp + ".bz")

    # --- placing blobs ---------------------------------------------------
    def free(self, rng_):
        return (not any(layouts.overlaps(rng_, t) for t in self.taken + self.forbidden))

    def place(self, size, zones=None, align=None, below_4g=True):
        """A random free address for size bytes in one of zones (real RAM), or None."""
        r = self.rng
        zones = [z for z in (zones or self.zones) if not below_4g or z[1] <= FOUR_GIB]
        align = align or r.choice([1, 1, 4, 8, 16, 4096])
        beside = r.random() < 0.15          # just below or at a 2 MiB boundary: a slot's edge
        for _ in range(200):
            lo, hi = r.choice(zones)
            if hi - lo < size + align:
                continue
            a = r.randrange(lo, hi - size) // align * align
            if beside:
                edge = (a + SLOT_ALIGN - 1) & ~(SLOT_ALIGN - 1)
                a = r.choice([edge, edge - size, edge - ((size + 0xfff) & ~0xfff), edge + 0x1000])
            if lo <= a and a + size <= hi and self.free((a, a + max(size, 1))):
                if beside:
                    self.kinds.append("beside a 2 MiB boundary")
                return a
        return None

    def put(self, addr, data):
        self.blobs.append((addr, bytes(data)))
        self.taken.append((addr, addr + max(len(data), 1)))

    # --- the memory map --------------------------------------------------
    def memmap(self):
        r = self.rng
        ram = []
        style = r.choice(["qemu", "qemu", "fragmented", "fragmented", "tiny", "high", "isa"])
        if style == "high" and not self.high:
            style = "tiny"
        if self.mode == "dec-full" and r.random() < 0.3:
            return self.slot_map(r.choice(["one-slot", "no-slot"]))
        self.kinds.append("map:" + style)
        top = self.low_top
        if style in ("tiny", "high"):
            top = min(self.low_top, max(self.window[1], 2 * MiB) + r.choice([0, 64 << 10, 2 * MiB, 16 * MiB]))
            top = max(top, 0x200000)
        if style == "isa":
            ram.append((0, top))            # OpenVMM-like: one range over the ISA hole
        else:
            if r.random() < 0.9:
                ram.append((0, r.choice([0x9fc00, 0xa0000, 0x9f000])))
            ram.append((0x100000, top))
        if self.high and (style == "high" or r.random() < 0.7):
            ram.append((self.high[0], self.high[0] + r.randrange(1, (self.high[1] - self.high[0]) // 4096 + 1) * 4096))
        nonram = []
        if style != "isa" and r.random() < 0.7:
            nonram += [(0x9fc00, 0xa0000, 2), (0xf0000, 0x100000, 2)]
        for _ in range(r.choice([0, 1, 2, 4])):
            a = r.choice([0xfec00000, 0xfee00000, 0xe0000000, 0xfffc0000, 0xfd00000000, self.low_top])
            nonram.append((a, a + r.choice([0x1000, 0x20000, 0x10000000]), r.choice(SIF_TYPES)))

        # Window trouble: RAM that stops inside it, or a hole (empty or typed) in it.
        self.window_bad = r.random() < 0.08
        if self.window_bad:
            self.kinds.append("window-not-ram")
            w0, w1 = self.window
            cut = r.randrange(w0, w1) & ~0xfff
            if r.random() < 0.5:            # RAM stops inside the window (or before it)
                ram = [(s, min(e, cut)) if e > cut and s < w1 else (s, e) for s, e in ram]
                ram = [(s, e) for s, e in ram if e > s]
            else:                           # a hole in it, empty or of another type
                hole = (cut, min(w1, cut + r.choice([0x1000, 0x10000, 1 * MiB])))
                ram = [p for s, e in ram for p in ((s, min(e, hole[0])), (max(s, hole[1]), e)) if p[1] > p[0]]
                if r.random() < 0.5:
                    nonram.append((hole[0], hole[1], r.choice(SIF_TYPES)))

        # Fragment: cut RAM into adjacent pieces, punch holes outside the window, type some holes.
        want = r.choice([1, 2, 4, 8, 16, 40, 100, 200, 250])
        pieces = list(ram)
        tries = 0
        while len(pieces) + len(nonram) < want and tries < 4 * want:
            tries += 1
            i = r.randrange(len(pieces))
            s, e = pieces[i]
            if e - s < 0x4000:
                continue
            c = r.randrange(s + 0x1000, e - 0x1000) & ~0xfff
            if c <= s:
                continue
            if r.random() < 0.25:          # a hole [c, c2), outside the window
                c2 = min(e - 0x1000, c + r.choice([0x1000, 0x10000, 1 * MiB]))
                if c2 <= c or layouts.overlaps((c, c2), self.window):
                    continue
                pieces[i:i + 1] = [(s, c), (c2, e)]
                if r.random() < 0.6:
                    nonram.append((c, c2, r.choice(SIF_TYPES)))
            else:
                pieces[i:i + 1] = [(s, c), (c, e)]
        entries = [(s, e, 1) for s, e in pieces] + nonram
        if r.random() < 0.1:
            entries += [(r.choice([0, 0x100000, 0x5000000]), None, r.choice([1, 2]))] * r.randint(1, 3)
        entries = [(s, s if e is None else e, t) for s, e, t in entries]
        order = r.random()
        if order < 0.25:
            r.shuffle(entries)
            self.kinds.append("unsorted")
        elif order < 0.4 and len(entries) > 1:
            for _ in range(3):
                i, j = r.randrange(len(entries)), r.randrange(len(entries))
                entries[i], entries[j] = entries[j], entries[i]
            self.kinds.append("unsorted")
        else:
            entries.sort()
        self.map = entries
        self.work = isa_rule(entries)
        if len(entries) > 100:
            self.kinds.append("map>100")

    def slot_map(self, style):
        """A map where the kernel's own place is no slot (RAM cut inside the
        kernel: its window is still all RAM, in two ranges) and, for
        one-slot, one more range that holds it once, 2 MiB-aligned, below
        4 GiB or above."""
        r = self.rng
        self.kinds.append("map:" + style)
        start, size = self.window[0], self.kernel_size()
        cut = r.randrange(start + 0x1000, start + size) & ~0xfff
        first = (cut + SLOT_ALIGN - 1) & ~(SLOT_ALIGN - 1)
        top = r.randrange(self.window[1], max(self.window[1] + 1, first + size - 0x1000)) + 0xfff & ~0xfff
        ram = [(0, 0x9fc00), (0x100000, cut), (cut, top)]
        if style == "one-slot":
            zones = [(top + SLOT_ALIGN, self.top)]
            if self.high and self.above4g:
                zones.append(self.high)
            zones = [(lo, hi) for lo, hi in zones if hi - lo > 2 * size + SLOT_ALIGN]
            if zones:
                lo, hi = r.choice(zones)
                at = r.randrange(lo, hi - size - SLOT_ALIGN) & ~(SLOT_ALIGN - 1)
                ram.append((at, at + size + r.randrange(0, SLOT_ALIGN // 0x1000) * 0x1000))
        self.map = [(s_, e, 1) for s_, e in ram] + [(0x9fc00, 0xa0000, 2), (0xf0000, 0x100000, 2)]
        self.work = isa_rule(self.map)
        self.window_bad = False

    def kernel_size(self):
        """The bytes a moved kernel takes (its footprint, .bss and .brk too), in whole 8-byte steps."""
        return (self.spec["size"] + 7) & ~7

    def ram_pieces(self):
        return [(s, e) for s, e, t in self.work if t == 1]

    # --- modules, cmdline, RSDP, start_info ---------------------------------
    def modules(self):
        r = self.rng
        n = r.choice([0, 1, 1, 1, 1, 1, 2, 3, 4])
        self.mods = []
        self.initrd = b""
        self.mod0_blob = False
        if not n:
            return
        self.kinds.append("modules:%d" % n)
        size = r.choice([0] + [r.randint(1, 4096)] * 4 + [r.randint(1, 1 * MiB)] * 4 + [r.randint(1, 16 * MiB)] * 2)
        where = r.random()
        # Module 0 lies in RAM of the map that is real RAM too.
        ram_zones = [(max(s, 0x100000), e) for s, e in self.ram_pieces() if e > 0x100000]
        addr = None
        if size == 0:
            addr = r.choice([0, 0x2000000, 0x123456])
            self.kinds.append("initrd-empty")
        elif where < 0.03:
            addr = (self.stub[0] + self.stub[1]) // 2 & ~0xfff
            self.kinds.append("initrd-over-stub")
        else:
            zones = []
            if where < 0.3:
                zones = [(max(s, self.window[0]), min(e, self.window[1])) for s, e in ram_zones
                         if layouts.overlaps((s, e), self.window)]
            elif where < 0.45 and self.high:
                zones = [z for z in ram_zones if z[0] >= FOUR_GIB]
            zones = [z for z in zones if z[1] - z[0] > size] or \
                [(s, min(e, self.top)) for s, e in ram_zones
                 if min(e, self.top) - s > size] + [z for z in ram_zones if z[0] >= FOUR_GIB]
            zones = [(s, e) for s, e in zones if e - s > size and (e <= self.top or s >= FOUR_GIB)]
            if zones:
                addr = self.place(size, zones, align=r.choice([1, 4096, 4096, 2 * MiB]), below_4g=False)
            if addr is None:
                size = 0
                addr = 0
                self.kinds.append("initrd-empty")
            else:
                self.initrd = r.randbytes(size)
                self.put(addr, self.initrd)
                self.mod0_blob = True
        self.mods.append((addr, size))
        for _ in range(n - 1):
            a = r.choice([0, r.randrange(0x100000, self.low_top), r.randrange(FOUR_GIB, 8 * GiB)]) & ~0xfff
            self.mods.append((a, r.choice([0, 0x1000, r.randint(1, 8 * MiB)])))

    def cmdline(self):
        r = self.rng
        self.cmdline_paddr = 0
        self.cmd = self.loader_cmd = ""
        self.debug = False
        if r.random() < 0.05:
            return
        length = r.choice([0, r.randint(1, 80), r.randint(1, 2047), r.randint(2000, 2200)])
        words, n = [], 0
        while n < length:
            w = "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789=._,-/:") for _ in range(r.randint(1, 24)))
            words.append(w)
            n += len(w) + 1
        self.cmd = " ".join(words)[:length].strip()
        if self.spec:                       # the tables' checksums, filled in by tables()
            self.cmd = " ".join([SUM % (0, 0)] * 4 + ([self.cmd] if self.cmd else []))
            self.debug = self.mode == "dec-full" and r.random() < 0.5
        if len(self.cmd) > CMDLINE_MAX:
            self.kinds.append("cmdline-truncated")
        data = self.cmdline_bytes()
        self.cmdline_paddr = self.place(len(data))
        self.put(self.cmdline_paddr, data)

    def cmdline_bytes(self):
        """The loader's command line: self.cmd, after pvhstub.debug when the
        seed asks the stub for it (the stub takes it out), NUL-ended."""
        self.loader_cmd = ("pvhstub.debug " if self.debug else "") + self.cmd
        return self.loader_cmd.encode() + b"\0"

    def rsdp(self):
        r = self.rng
        self.rsdp_paddr = 0
        self.rsdp_bytes = b""
        if r.random() < 0.3:
            return
        self.rsdp_bytes = layouts.rsdp(b"PVHFZB")
        self.rsdp_paddr = self.place(36)
        self.put(self.rsdp_paddr, self.rsdp_bytes)

    def tables(self):
        """start_info, memmap and modlist; now and then one where the stub cannot use it."""
        r = self.rng
        self.refusal = None
        self.version = r.choice([1] * 17 + [0, 2, 2])
        mm = layouts.memmap(self.map)
        ml = layouts.modlist(self.mods)
        bad = r.choice(["none"] * 93 + ["si-stub", "si-stub", "mm-stub", "mm-stub", "mm-high", "cl-stub", "ml-stub"])
        in_bss = (self.stub[1] - 0x2000) & ~0xf     # the stub's bss: no blob can go there, and it is zeroed
        if bad == "cl-stub" and self.cmdline_paddr:
            self.blobs = [(a, d) for a, d in self.blobs if a != self.cmdline_paddr]
            self.cmdline_paddr = in_bss
        if bad == "mm-stub":
            mm_paddr = in_bss
        elif bad == "mm-high" and self.high:
            mm_paddr = self.place(len(mm), [self.high], below_4g=False)
            self.put(mm_paddr, mm)
        else:
            mm_paddr = self.place(len(mm))
            self.put(mm_paddr, mm)
        ml_paddr = 0
        if self.mods and bad == "ml-stub":
            ml_paddr = in_bss
        elif self.mods:
            ml_paddr = self.place(len(ml))
            self.put(ml_paddr, ml)
        si = layouts.start_info(self.version, 0, len(self.mods), ml_paddr, self.cmdline_paddr, self.rsdp_paddr,
                                mm_paddr, len(self.map))
        if bad == "si-stub":
            si_paddr = in_bss
            self.refusal = ("start_info-over-stub", r"start_info \[0x[0-9a-f]+, 0x[0-9a-f]+\) overlaps the stub image")
        else:
            si_paddr = self.place(len(si))
            self.put(si_paddr, si)
        self.tables_at = dict(si=si_paddr, mm=mm_paddr, ml=ml_paddr, cl=self.cmdline_paddr)
        self.sum_tables([(si_paddr, si), (mm_paddr, mm), (ml_paddr, ml), (self.rsdp_paddr, self.rsdp_bytes)])

    def sum_tables(self, tables):
        """Put the checksums of TABLES, (address, bytes), on the probe64's
        command line (probe.sum=): each below 4 GiB, outside the kernel's
        window (which it may write: its .bss) and not where the stub's
        refusals put one."""
        if not (self.spec and self.cmdline_paddr):
            return
        blobs = dict(self.blobs)
        words = []
        for addr, data in tables:
            if addr and data and blobs.get(addr) == data and addr + len(data) <= FOUR_GIB and \
                    not layouts.overlaps((addr, addr + len(data)), self.window):
                self.sums.append((addr, data))
                words.append(SUM % (addr, len(data)))
        words += [SUM % (0, 0)] * (4 - len(words))
        self.cmd = " ".join(words) + self.cmd[len(" ".join(words)):]
        data = self.cmdline_bytes()
        self.blobs = [(a, data if a == self.cmdline_paddr else d) for a, d in self.blobs]

    # --- the prediction ----------------------------------------------------
    def find_home(self, size, last_ok, avoid):
        """translate/initrd.c's find_home(): the highest 4 KiB-aligned fit inside one RAM entry."""
        best = None
        for s, e, t in self.work:
            if t != 1 or s >= FOUR_GIB:
                continue
            last = min(e - 1, FOUR_GIB - 1, last_ok)
            tops = [last + 1] + [a for a, b in avoid if s < a <= last + 1]
            for top in tops:
                dst = (top - size) & ~0xfff
                if dst < s or dst + size - 1 > last:
                    continue
                if not any(layouts.overlaps((dst, dst + size), a) for a in avoid):
                    if best is None or dst > best:
                        best = dst
        return best

    def predict(self):
        """("boot", initrd_addr) or ("refuse", kind, regex)."""
        if self.refusal:
            return ("refuse",) + self.refusal
        t = self.tables_at
        stub = self.stub
        hexr = r"0x[0-9a-f]+"
        if self.version == 0:
            return ("refuse", "v0-no-memmap", r"no memory map: start_info v0 carries none and this is not Xen")
        mm_range = (t["mm"], t["mm"] + 24 * len(self.map))
        if t["mm"] >= FOUR_GIB:
            return ("refuse", "memmap-above-4g", r"memmap \[%s, %s\) is not readable memory" % (hexr, hexr))
        if layouts.overlaps(mm_range, stub):
            return ("refuse", "memmap-over-stub", r"memmap \[%s, %s\) overlaps the stub image" % (hexr, hexr))
        if t["cl"] and layouts.overlaps((t["cl"], t["cl"] + 1), stub):
            return ("refuse", "cmdline-over-stub", r"cmdline \[%s, %s\) overlaps the stub image" % (hexr, hexr))
        if self.mods:
            if layouts.overlaps((t["ml"], t["ml"] + 32 * len(self.mods)), stub):
                return ("refuse", "modlist-over-stub", r"modlist \[%s, %s\) overlaps the stub image" % (hexr, hexr))
            a, size = self.mods[0]
            if size:
                rd = (a, a + size)
                if layouts.overlaps(rd, self.window):
                    self.kinds.append("initrd-in-window")
                if a >= FOUR_GIB:
                    self.kinds.append("initrd-above-4g")
                if layouts.overlaps(rd, stub):
                    return ("refuse", "initrd-over-stub",
                            r"initrd \[0x%x, 0x%x\) overlaps the stub image" % rd)
                anywhere = self.above4g
                limit = FOUR_GIB if anywhere else self.addr_max + 1
                if layouts.overlaps(rd, self.window) or (not anywhere and rd[1] > limit):
                    if rd[1] > FOUR_GIB:
                        return ("refuse", "initrd-above-4g-must-move",
                                r"initrd \[0x%x, 0x%x\) must move .* but it lies above 4 GiB" % rd)
                    avoid = [(0, 0x100000), stub, self.window] + self.loader_tables() + \
                        [(m, m + s) for m, s in self.mods[1:] if s and m < FOUR_GIB] + \
                        [(s, e) for s, e, ty in self.work if ty != 1]
                    home = self.find_home(size, min(limit - 1, FOUR_GIB - 1), avoid)
                    if home is None:
                        return ("refuse", "initrd-no-room",
                                r"initrd \[0x%x, 0x%x\) must move .* but no free RAM below the limit holds it" % rd)
                    self.kinds.append("initrd-moved")
                    return self.window_check() or ("boot", home)
        return self.window_check() or ("boot", self.mods[0][0] if self.mods and self.mods[0][1] else 0)

    def window_check(self):
        w0, w1 = self.window
        at = w0
        for s, e, t in self.work:
            if t == 1 and s <= at < e:
                at = e
        covered = at >= w1
        other = any(t != 1 and layouts.overlaps((s, e), self.window) for s, e, t in self.work)
        if covered and not other:
            return None
        return ("refuse", "window-not-ram",
                r"the kernel's window \[0x%x, 0x%x\) is not all RAM" % (w0, w1))

    def loader_tables(self):
        """What neither a moved initrd nor a moved kernel may cover: the
        RSDP's page and the next, the start_info, module list, the loader's
        command line and memory map (the empty ones and those at 0 left out)."""
        t = self.tables_at
        page = self.rsdp_paddr & ~0xfff
        tables = [(page, page + 0x2000), (t["si"], t["si"] + START_INFO_SIZE),
                  (t["ml"], t["ml"] + 32 * len(self.mods)),
                  (t["cl"], t["cl"] + len(self.loader_cmd.encode()) + 1)]
        if self.version >= 1:
            tables.append((t["mm"], t["mm"] + 24 * len(self.map)))
        return [(a, b) for a, b in tables if a and b > a]

    # --- where the 64-bit probe must run ------------------------------------
    def slots(self, initrd):
        """The physical slots of --kaslr full, by docs/wrapping.md's rules and
        counted as the stub counts them (per e820 entry of the zero page):
        (count, [(first, last)] of 2 MiB-aligned starts).  A slot lies in one
        RAM entry, at or above the kernel's address, below 4 GiB or (when the
        kernel allows) 512 GiB, and shares no byte with the stub, the initrd
        (INITRD: where it is after any move), the start_info, the module list,
        the loader's command line, the RSDP's page (and the next) or the
        memory map."""
        size = self.kernel_size()
        avoid = [(a, b) for a, b in [self.stub, initrd] if a and b > a] + self.loader_tables()
        low, high = self.window[0], SLOT_MAX if self.above4g else FOUR_GIB
        count, starts = 0, []
        for s_, e, ty in self.work[:ZERO_PAGE_E820]:
            if ty != 1:
                continue
            # Starts x with [x, x + size) inside the entry, minus those that touch an avoided range.
            free = [(max(s_, low), min(e, high) - size)]
            for a, b in avoid:
                free = [p for x, y in free for p in ((x, min(y, a - size)), (max(x, b), y)) if p[0] <= p[1]]
            for x, y in free:
                first = (x + SLOT_ALIGN - 1) & ~(SLOT_ALIGN - 1)
                if first <= y:
                    count += (y - first) // SLOT_ALIGN + 1
                    starts.append((first, y))
        return count, starts

    def probe_check(self, text, initrd):
        """What is wrong with where the 64-bit probe ran and what it saw of
        itself and the loader's tables (the zero page is checked apart)."""
        if not self.spec:
            return []
        start = self.window[0]
        # KASLR_FLAG in loadflags says the kernel was randomized (it then randomizes its memory
        # regions too): set in the modes that randomize, and only in them.
        kaslr_flag = int(zero_page.parse(text)[0].get("loadflags", "0"), 16) & KASLR_FLAG
        bad = [] if bool(kaslr_flag) == (self.mode in ("dec-virtual", "dec-full")) else [
            "loadflags' KASLR_FLAG is %s in mode %s" % ("set" if kaslr_flag else "clear", self.mode)]
        if self.mode in ("h32", "h64", "dec-off"):
            return bad + zero_page.image_mismatches(text, self.spec, 32 if self.mode == "h32" else 64, start) + \
                self.sum_check(text)
        m = re.search(r"KASLR [^,]+, virtual \+(0x[0-9a-f]+), physical (0x[0-9a-f]+)", text)
        if not m:
            return ["the stub's line names no virtual offset and physical address"]
        delta, phys = int(m.group(1), 16), int(m.group(2), 16)
        size = self.kernel_size()
        if delta % SLOT_ALIGN or start + size + delta > zero_page.KERNEL_IMAGE_SIZE:
            bad.append("virtual offset 0x%x: not 2 MiB-aligned, or the kernel [0x%x, 0x%x) leaves its 1 GiB"
                       % (delta, start + delta, start + delta + size))
        if self.mode == "dec-virtual":
            want = start
        else:
            count, starts = self.slots(initrd)
            self.kinds.append("slots:%s" % (count if count < 2 else "2+"))
            if not count:
                want = start
                if "no free physical slot" not in text:
                    bad.append("no slot in the map, and the stub did not say so")
            elif any(x <= phys <= y and not (phys - x) % SLOT_ALIGN for x, y in starts):
                want = phys
                if start < phys < start + size:
                    self.kinds.append("move overlapping the kernel (backwards)")
                if phys >= FOUR_GIB:
                    self.kinds.append("slot above 4 GiB")
            else:
                want = None
                bad.append("physical 0x%x is no slot; the slots are %s" % (
                    phys, ", ".join("[0x%x, 0x%x]" % p for p in starts[:8])))
            said = re.search(r"(\d+) physical slots", text)
            if self.debug and (not said or int(said.group(1)) != count):
                bad.append("the stub counted %s physical slots, the seed %d" % (said and said.group(1), count))
        if want is not None and phys != want:
            bad.append("the stub put the kernel at 0x%x, want 0x%x" % (phys, want))
        return bad + zero_page.image_mismatches(text, self.spec, 64, phys, delta) + self.sum_check(text)

    def sum_check(self, text):
        got = {(a, n): h for a, n, h in (zero_page.image(text) or {"sums": []})["sums"]}
        return ["the loader's table at 0x%x (%d bytes) changed: checksum 0x%08x, want 0x%08x"
                % (a, len(d), got.get((a, len(d)), 0), zero_page.crc32(d))
                for a, d in self.sums if got.get((a, len(d))) != zero_page.crc32(d)]

    def generate(self):
        self.machine()
        self.memmap()
        self.modules()
        self.cmdline()
        self.rsdp()
        self.tables()
        self.expect = self.predict()
        self.kinds += ["machine:%s" % self.machine_name, "start_info v%d" % self.version,
                       "rsdp %s" % ("given" if self.rsdp_paddr else "absent"),
                       "window %d KiB" % ((self.window[1] - self.window[0]) >> 10)]
        if self.high:
            self.kinds.append("RAM above 4 GiB")
        if not self.cmdline_paddr:
            self.kinds.append("no cmdline")


def segment_files(image, loads):
    """[(paddr, file)]: IMAGE's PT_LOAD bytes, each in a file of its own
    beside it, written once for all the seeds that boot it."""
    out, img = [], None
    for i, (paddr, filesz, _, off) in enumerate(loads):
        f = pathlib.Path("%s.seg%d" % (image, i))
        with WRAP_LOCK:
            if not f.exists():
                img = img or open(image, "rb").read()
                f.with_suffix(".tmp%d" % os.getpid()).write_bytes(img[off:off + filesz])
                os.replace(f.with_suffix(".tmp%d" % os.getpid()), f)
        out.append((paddr, f))
    return out


def layout(lay):
    """The seed's layout as framework.layouts describes every loader's."""
    out = layouts.Layout(lay.machine_name, lay.mem // MiB)
    out.si = lay.tables_at["si"]
    out.blobs = list(lay.blobs)
    return out


def check(lay, text, rc):
    """A list of what is wrong (empty: the boot is right)."""
    exp = lay.expect
    panic = re.search(r"pvhstub: PANIC: (.*)", text)
    if exp[0] == "refuse":
        if rc == 124:
            return ["timed out; want the panic %r" % exp[2]]
        if not panic:
            return ["want a panic matching %r; none (QEMU %s)" % (exp[2], rc)]
        if not re.search(exp[2], panic.group(1)):
            return ["want a panic matching %r; got %r" % (exp[2], panic.group(1))]
        if rc != 3 or "probe: begin" in text:
            return ["panicked (%r) but QEMU exited %s, probe ran: %s" % (panic.group(1), rc, "probe: begin" in text)]
        return []
    if panic:
        return ["want a boot; the stub panicked: %s" % panic.group(1)]
    size = len(lay.initrd)
    return zero_page.mismatches(text, rc, lay.work, lay.cmd, (exp[1], lay.initrd) if size else None,
                                lay.rsdp_paddr) + lay.probe_check(text, (exp[1], exp[1] + size))


def run_seed(seed, args):
    workdir = os.path.join(args.obj, "tests", "fuzzboot", "seed-%d" % seed)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    lay = Layout(seed, args.obj, getattr(args, "mode", None))
    lay.generate()
    log = os.path.join(workdir, "console.log")
    segments = segment_files(lay.image, lay.loads)
    # -nodefaults: no NIC, VGA or their option ROMs, which SeaBIOS would run (a third of a boot).
    b = pvhload.boot(workdir, log, layout(lay), lay.entry, segments, extra=["-nodefaults"],
                     elf=os.path.join(args.obj, "tests", "pvhload.elf"), timeout=TIMEOUT)
    bad = check(lay, b.console, b.rc)
    said = pathlib.Path(log + ".qemu").read_text(errors="replace").strip()
    if said and b.rc not in (3, zero_page.EXITED):
        bad.append("QEMU said: " + said[:300])
    if not bad and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    elif bad:
        bad.append(b.tail(15))
    return seed, lay, bad


def replay(seed, lay):
    return "make fuzz-boot SEED=%d COUNT=1 MODE=%s" % (seed, lay.mode)


def describe(lay):
    return "%s, %s %dM, %d memmap entries, %d modules, start_info v%d, window [0x%x, 0x%x)" % (
        lay.mode, lay.machine_name, lay.mem // MiB, len(lay.map), len(lay.mods), lay.version, *lay.window)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--obj", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--mode", choices=list(MODES), help="every seed in this wrap mode (default: by seed)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--results")
    ap.add_argument("--keep", action="store_true", help="keep every seed's files")
    args = ap.parse_args()
    args.obj = os.path.abspath(args.obj)
    # Each run wraps the probe anew with this build's stub.
    shutil.rmtree(os.path.join(args.obj, "tests", "fuzzboot"), ignore_errors=True)
    os.makedirs(os.path.join(args.obj, "tests", "fuzzboot"))
    outcomes, failed, kinds = {}, [], {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for seed, lay, bad in pool.map(lambda s: run_seed(s, args), range(args.seed, args.seed + args.count)):
            kind = "booted" if lay.expect[0] == "boot" else "refused: " + lay.expect[1]
            for k in set(lay.kinds):
                kinds[k] = kinds.get(k, 0) + 1
            if bad:
                failed.append(seed)
                print("FAIL: fuzz-boot seed %d (%s; expected %s):" % (seed, describe(lay), kind), flush=True)
                for b in bad:
                    print("    " + b)
                print("    replay: %s   (files kept in %s/tests/fuzzboot/seed-%d)" % (replay(seed, lay), args.obj, seed))
            else:
                outcomes[kind] = outcomes.get(kind, 0) + 1
    ok = sum(outcomes.values())
    summary = "fuzz-boot: seeds %d..%d: %d as predicted (%s), %d failed" % (
        args.seed, args.seed + args.count - 1, ok,
        ", ".join("%s %d" % (k, v) for k, v in sorted(outcomes.items(), key=lambda kv: (kv[0] != "booted", kv[0]))),
        len(failed))
    print(("FAIL: " if failed else "PASS: ") + summary)
    print("fuzz-boot: the seeds exercised: " + ", ".join("%s %d" % kv for kv in sorted(kinds.items())))
    if args.results:
        with open(args.results, "a") as r:
            if failed:
                r.write("fail fuzz-boot: seeds %s did not go as predicted (replay: make fuzz-boot SEED=N COUNT=1)\n"
                        % " ".join(map(str, failed)))
            if ok:
                r.write("%s %s\n" % ("pass" if not failed else "fail", summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
