"""Loader layouts: what a PVH loader hands the image, as bytes at addresses.

A Layout is the start_info's address and blobs (address, bytes): the
start_info, module list, memory map, command line, initrd and whatever else
the loader leaves in the guest's memory (an MP table, a GDT, page tables).
Two things only QEMU's firmware knows are filled in at run time, by the
test loader (tests/tools/pvhload.c): QEMU's own memory map
(Layout.qemu_memmap) and its RSDP (Layout.qemu_rsdp).  framework.pvhload
boots a Layout; each named loader below is a function that makes one, and
the seeded layouts of tests/fuzzboot make theirs with the same packers.

The loaders' addresses are from their sources (docs/testing.md, "Loaders
tested").  The structures are packed as Xen's public header
xen/arch-x86/hvm/start_info.h lays them out (version 1).
"""
import struct

MiB, GiB = 1 << 20, 1 << 30
FOUR_GIB = 4 * GiB
START_INFO_MAGIC = 0x336ec578
RAM, RESERVED = 1, 2
SIF_INITDOMAIN = 2


def overlaps(a, b):
    """Whether the ranges a and b, (start, end) with end exclusive, share a byte."""
    return a[0] < b[1] and b[0] < a[1]


def checksum(b):
    """The byte that makes B sum to 0 (ACPI's and the MP specification's checksums)."""
    return -sum(b) & 0xff


# --- the structures ----------------------------------------------------------
def start_info(version=1, flags=0, modules=0, modlist=0, cmdline=0, rsdp=0, memmap=0, entries=0):
    """struct hvm_start_info: 40 bytes of version 0, 56 of version 1 and later."""
    b = struct.pack("<IIIIQQQ", START_INFO_MAGIC, version, flags, modules, modlist, cmdline, rsdp)
    return b + struct.pack("<QII", memmap, entries, 0) if version else b


def memmap(entries):
    """struct hvm_memmap_table_entry[]: ENTRIES are (start, end, type), end exclusive."""
    return b"".join(struct.pack("<QQII", s, e - s, t, 0) for s, e, t in entries)


def modlist(mods):
    """struct hvm_modlist_entry[]: MODS are (paddr, size)."""
    return b"".join(struct.pack("<QQQQ", a, s, 0, 0) for a, s in mods)


def rsdp(oem=b"PVHTST"):
    """A valid ACPI 2.0 RSDP (36 bytes, both checksums) with no XSDT behind it."""
    b = bytearray(36)
    b[0:8] = b"RSD PTR "
    b[9:15] = oem
    b[15] = 2
    struct.pack_into("<I", b, 20, 36)
    b[8] = checksum(b[0:20])
    b[32] = checksum(b)
    return bytes(b)


def mptable(fp, ct):
    """An Intel MultiProcessor Specification 1.4 table, its floating pointer
    at FP and its configuration table at CT, as (address, bytes) pairs.  It
    describes the emulated machine (QEMU, one vCPU): the processor, the ISA
    bus, the I/O APIC (id 2, at 0xfec00000), ISA IRQs 1 and 3 to 15 on the
    I/O APIC's pins of the same number and IRQ 0 on pin 2, ExtINT and NMI on
    every local APIC's LINT0 and LINT1.  A kernel with ACPI's MADT only
    finds and reserves it ("found SMP MP-table at [mem ...]")."""
    ioapic = 2
    entries = [bytes([0, 0, 0x14, 3, 0x00, 0x06, 0, 0, 0x01, 0x02]) + bytes(10),      # the boot CPU
               bytes([1, 0]) + b"ISA   ",                                              # bus 0
               bytes([2, ioapic, 0x11, 1]) + struct.pack("<I", 0xfec00000)]
    entries += [bytes([3, 0, 0, 0, 0, irq, ioapic, irq or 2]) for irq in range(16) if irq != 2]
    entries += [bytes([4, 3, 0, 0, 0, 0, 0xff, 0]), bytes([4, 1, 0, 0, 0, 0, 0xff, 1])]
    body = b"".join(entries)
    head = bytearray(b"PCMP" + struct.pack("<HBB", 44 + len(body), 4, 0) + b"PVHLOAD LOADER-ZOO  " +
                     struct.pack("<IHHII", 0, 0, len(entries), 0xfee00000, 0))
    table = head + body
    table[7] = checksum(table)
    pointer = bytearray(b"_MP_" + struct.pack("<IBBB", ct, 1, 4, 0) + bytes(5))
    pointer[10] = checksum(pointer)
    return [(fp, bytes(pointer)), (ct, bytes(table))]


def gdt(*descriptors):
    return b"".join(struct.pack("<Q", d) for d in descriptors)


def identity_tables(pml4):
    """Page tables mapping the first 1 GiB with 2 MiB pages: PML4 at PML4,
    its PDPT and page directory in the two pages after it."""
    pdpt, pd = pml4 + 0x1000, pml4 + 0x2000
    return (struct.pack("<Q", pdpt | 3) + bytes(4088) + struct.pack("<Q", pd | 3) + bytes(4088) +
            b"".join(struct.pack("<Q", i << 21 | 0x83) for i in range(512)))


# --- a layout ----------------------------------------------------------------
def qemu_low_top(machine, memory_mib):
    """Where QEMU's RAM below 4 GiB ends: pc puts 3 GiB below the hole from
    3.5 GiB of RAM, q35 2 GiB from 2.75 GiB, microvm 3 GiB."""
    mem = memory_mib * MiB
    split, low = {"pc": (0xe0000000, 3 * GiB), "q35": (0xb0000000, 2 * GiB),
                  "microvm": (0xc0000000, 3 * GiB)}[machine]
    return mem if mem < split else low


class Layout:
    """What the loader leaves in memory for the image (see the module's text)."""

    def __init__(self, machine="pc", memory=512):
        self.machine, self.memory = machine, memory
        self.si = None                      # the start_info's address
        self.blobs = []                     # (address, bytes)
        self.qemu_memmap = None             # where pvhload copies QEMU's memmap (the start_info says so)
        self.qemu_rsdp = None               # where it copies QEMU's RSDP; 0: QEMU's own, where it lies
        self.memmap = None                  # the map the start_info gives, (start, end, type); None: QEMU's
        self.initrd = None                  # (address, bytes) of module 0
        self.cmdline = None
        self.rsdp = None                    # what the start_info's rsdp_paddr must be; None: QEMU's own

    def put(self, addr, data):
        self.blobs.append((addr, bytes(data)))
        return addr

    def low_top(self):
        return qemu_low_top(self.machine, self.memory)

    def ram_top(self):
        """The end of the RAM a named layout gives from 1 MiB: QEMU's RAM
        below 4 GiB but its last MiB, which the firmware keeps (SeaBIOS's
        ACPI tables on pc and q35)."""
        return min(self.low_top(), FOUR_GIB) - MiB


def own(machine="pc", memory=512, cmdline="", initrd=None, tables=None, flags=0, entries=None):
    """Tables as QEMU's own PVH loader makes them, at TABLES (default 9 MiB,
    past the test loader, before a kernel's usual 16 MiB):
    the start_info, module 0 (INITRD: (address, bytes)), QEMU's memmap, or
    with ENTRIES a map of that many RAM entries (low RAM, then the RAM from
    1 MiB in ENTRIES - 1 pieces), the command line and QEMU's RSDP where it
    lies.  FLAGS are the start_info's (SIF_INITDOMAIN | 1 as Xen gives dom0)."""
    lay = Layout(machine, memory)
    at = tables if tables is not None else 9 * MiB
    lay.si, ml, cl, mm = at, at + 0x100, at + 0x200, at + 0x1000
    lay.cmdline = cmdline
    lay.put(cl, cmdline.encode() + b"\0")
    if initrd:
        lay.initrd = initrd
        lay.put(*initrd)
        lay.put(ml, modlist([(initrd[0], len(initrd[1]))]))
    if entries:
        top = lay.ram_top()
        piece = ((top - MiB) // (entries - 1)) & ~0xfff
        lay.memmap = [(0, 0x9f000, RAM)] + [(MiB + i * piece, MiB + (i + 1) * piece if i < entries - 2 else top, RAM)
                                            for i in range(entries - 1)]
        lay.put(mm, memmap(lay.memmap))
        count = entries
    else:
        lay.qemu_memmap, count = mm, 0
    lay.qemu_rsdp = 0
    lay.put(lay.si, start_info(flags=flags, modules=1 if initrd else 0, modlist=ml if initrd else 0, cmdline=cl,
                               memmap=mm, entries=count))
    return lay


# Firecracker's and Cloud Hypervisor's fixed addresses (and libkrun's and
# OpenVMM's, which keep the same four).
RV_START_INFO, RV_MODLIST, RV_MEMMAP, RV_CMDLINE = 0x6000, 0x6040, 0x7000, 0x20000
MMCONFIG = (0xe0000000, 0xf0000000, RESERVED)       # PCI MMCONFIG, reserved in their maps


def rust_vmm(loader, machine, memory, cmdline, initrd=b"", flags=0):
    """The tables where Firecracker, Cloud Hypervisor, libkrun or OpenVMM put them:

    - all four: start_info v1 at 0x6000, the modlist at 0x6040, the memmap
      at 0x7000, the cmdline at 0x20000, the initrd (INITRD, bytes) at the
      top of the RAM from 1 MiB, page-aligned.
    - firecracker: an unsorted memmap (low RAM, reserved [0x9fc00, 0xe0000),
      the PCI MMCONFIG window, then the RAM from 1 MiB), its MP table at
      0x9fc00, rsdp_paddr 0 (the kernel scans for the RSDP).
    - cloud-hypervisor: low RAM to 0xa0000, MMCONFIG, the RAM from 1 MiB;
      its GDT at 0x500, IDT at 0x520, page tables at 0x9000, the RSDP at
      0xa0000 (QEMU's, copied there).
    - libkrun (configure_pvh(), src/arch/src/x86_64/mod.rs, 2026): as
      Firecracker, but its map is sorted, with no MMCONFIG entry, and its
      last RAM entry ends one byte past the RAM (it adds 1 to an end that
      is already exclusive); its initrd ends exactly at the end of RAM,
      unaligned.
    - openvmm (vm/loader/src/pvh.rs, its microVM profile, 2026): its map is
      its RAM ranges as they are (here one, from 0 over the ISA hole, which
      the stub must cut out), its MP floating pointer at 0 and
      configuration table at 0x400, its boot GDT at 0x800, the RSDP at
      0x8000 (QEMU's, copied there), the initrd page-aligned at the top.
    """
    lay = Layout(machine, memory)
    top = lay.ram_top()
    if loader == "openvmm":
        lay.memmap = [(0, top, RAM)]
    else:
        lay.memmap = [(0, 0xa0000 if loader == "cloud-hypervisor" else 0x9fc00, RAM)]
        if loader != "cloud-hypervisor":
            lay.memmap.append((0x9fc00, 0xe0000, RESERVED))
        if loader != "libkrun":
            lay.memmap.append(MMCONFIG)
        lay.memmap.append((MiB, top + (loader == "libkrun"), RAM))
    if initrd:
        lay.initrd = (top - len(initrd) if loader == "libkrun" else (top - len(initrd)) & ~0xfff, initrd)
        lay.put(*lay.initrd)
    lay.cmdline = cmdline
    lay.put(RV_CMDLINE, cmdline.encode() + b"\0")
    lay.put(RV_MODLIST, modlist([(lay.initrd[0], len(initrd))] if initrd else [(0, 0)]))
    lay.put(RV_MEMMAP, memmap(lay.memmap))
    lay.rsdp = 0
    if loader in ("firecracker", "libkrun"):
        for blob in mptable(0x9fc00, 0x9fc10):
            lay.put(*blob)
    elif loader == "openvmm":
        for blob in mptable(0, 0x400):
            lay.put(*blob)
        lay.put(0x800, gdt(0, 0x00cf9b000000ffff, 0x00cf93000000ffff, 0x00008b0000000067))  # null, code, data, TSS
        lay.rsdp = lay.qemu_rsdp = 0x8000
    else:
        lay.put(0x500, gdt(0, 0x00af9b000000ffff, 0x00cf93000000ffff, 0x008f8b000000ffff))
        lay.put(0x520, bytes(8))
        lay.put(0x9000, identity_tables(0x9000))
        lay.rsdp = lay.qemu_rsdp = 0xa0000
    lay.si = lay.put(RV_START_INFO, start_info(flags=flags, modules=1 if initrd else 0, modlist=RV_MODLIST,
                                               cmdline=RV_CMDLINE, rsdp=lay.rsdp, memmap=RV_MEMMAP,
                                               entries=len(lay.memmap)))
    return lay


# Each named loader: the QEMU machine its emulation runs on.
LOADERS = {"firecracker": "pc", "cloud-hypervisor": "microvm", "libkrun": "microvm", "openvmm": "microvm"}


def loader(name, memory=512, cmdline="", initrd=b"", flags=0):
    """The layout of the loader NAME (LOADERS), on its machine."""
    return rust_vmm(name, LOADERS[name], memory, cmdline, initrd, flags)
