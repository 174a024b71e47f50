"""What the probe kernel (tests/tools/probe: a bzImage of our own) reports: its
zero page as "probe: KEY VALUE" lines on the console, then QEMU exits 33."""
import json
import pathlib
import random
import re
import zlib

EXITED = 33             # the probe's isa-debug-exit status after its dump
CMDLINE_MAX = 2047      # its cmdline_size
FOUR_GIB = 1 << 32


class Incomplete(Exception):
    pass


def parse(text):
    """(fields, e820, setup_data) of the dump in TEXT: e820 as (start, end,
    type), the zero page's entries then SETUP_E820_EXT's; "hdr" lines as
    fields "hdr NAME"."""
    lines = re.findall(r"^probe: (.*)$", text, re.M)
    if not lines or lines[0].split()[0] != "begin" or lines[-1] != "end":
        raise Incomplete("no complete probe dump")
    fields, e820, setup_data = {}, [], []
    for line in lines[1:-1]:
        key, _, value = line.partition(" ")
        if key == "e820":
            a, s, t = value.split()
            e820.append((int(a, 16), int(a, 16) + int(s, 16), int(t)))
        elif key == "setup_data":
            setup_data.append(value)
        elif key == "hdr":
            fields["hdr " + value.split()[0]] = value
        else:
            fields[key] = value
    return fields, e820, setup_data


def initrd(out, seed, size=300000):
    """SIZE pseudo-random bytes from SEED, for the probe's initrd: (OUT, the bytes)."""
    data = random.Random(seed).randbytes(size)
    pathlib.Path(out).write_bytes(data)
    return out, data


def crc32(data):
    """The probe's checksum of bytes (zlib's CRC-32)."""
    return zlib.crc32(data)


# The state a kernel is handed (boot.rst, "32-bit boot protocol" and "64-bit boot protocol"):
# interrupts off, CS = __BOOT_CS and DS = ES = SS = __BOOT_DS, protected mode, paging off at
# 32 bits and on at 64; the PICs as a native boot's setup code leaves them (every line masked
# but the cascade).  The 64-bit probe says which entry it took ("entry 32|64"); the 32-bit
# probe has only the 32-bit one, and reports the OR of EBX, EBP and EDI as it got them.
HANDOFF = "if 0 pic 0xfb 0xff"
HANDOFF_SEGMENTS = {"32": "cs 0x10 ds 0x18 es 0x18 ss 0x18 pe 1 pg 0",
                    "64": "cs 0x10 ds 0x18 es 0x18 ss 0x18 pe 1 pg 1"}


def handoff_mismatches(fields):
    """What in the probe's "handoff" lines breaks the boot protocol's rules."""
    bad = []
    if fields.get("handoff") != HANDOFF:
        bad.append("handoff state %r, want %r (interrupts off, the PICs masked)" % (fields.get("handoff"), HANDOFF))
    seg, want = fields.get("handoff_segments"), HANDOFF_SEGMENTS[fields.get("entry", "32")]
    if seg is not None and seg != want:
        bad.append("handoff segments %r, want %r" % (seg, want))
    regs = fields.get("handoff_regs")
    if regs is not None and regs != "ebx|ebp|edi 0x0":
        bad.append("handoff registers %r: the 32-bit protocol hands EBX, EBP and EDI over as 0" % regs)
    return bad


def stub_mismatches(fields):
    """What the stub writes whatever the loader (not under Xen): type_of_loader 0xff
    (non-zero, or the kernel ignores the initrd); the handoff's state."""
    bad = [] if fields.get("type_of_loader") == "0xff" else [
        "type_of_loader %s, want 0xff" % fields.get("type_of_loader")]
    return bad + handoff_mismatches(fields)


def mismatches(text, rc, e820, cmdline, initrd=None, rsdp=None, subarch=0):
    """What in the probe's dump differs from what the loader gave, after the
    stub's rules: E820 (start, end, type) exactly; the CMDLINE, cut at
    cmdline_size; module 0, INITRD (address, bytes), at that address and
    byte for byte (its checksum); acpi_rsdp_addr RSDP (None: any, and 0 must
    leave an RSDP the probe finds by scanning); hardware_subarch; the CPU and
    PIC state of the handoff.  An empty list: the zero page is right."""
    try:
        f, got, _ = parse(text)
    except Incomplete:
        return ["no complete probe dump (QEMU exit %s)" % rc]
    bad = [] if rc == EXITED else ["QEMU exited %s after the dump, not %d" % (rc, EXITED)]
    if got != e820:
        bad.append("e820 differs: probe %s, want %s" % ([(hex(a), hex(b), t) for a, b, t in got][:12],
                                                        [(hex(a), hex(b), t) for a, b, t in e820][:12]))
    got_cmd = re.search(r'^probe: cmdline "(.*)"$', text, re.M)
    if not got_cmd or got_cmd.group(1) != cmdline[:CMDLINE_MAX]:
        bad.append("cmdline differs: probe %r, want %r" % (got_cmd and got_cmd.group(1)[:80], cmdline[:80]))
    addr, data = initrd or (0, b"")
    if int(f.get("initrd_size", "-1"), 16) != len(data):
        bad.append("initrd_size %s, want 0x%x" % (f.get("initrd_size"), len(data)))
    if int(f.get("initrd_addr", "-1"), 16) != addr:
        bad.append("initrd_addr %s, want 0x%x" % (f.get("initrd_addr"), addr))
    if data and addr + len(data) <= FOUR_GIB and f.get("initrd_crc32") != "0x%08x" % crc32(data):
        bad.append("initrd_crc32 %s, want 0x%08x" % (f.get("initrd_crc32"), crc32(data)))
    if rsdp is not None and int(f.get("acpi_rsdp_addr", "-1"), 16) != rsdp:
        bad.append("acpi_rsdp_addr %s, want 0x%x" % (f.get("acpi_rsdp_addr"), rsdp))
    if int(f.get("rsdp", "0"), 16) == 0:
        bad.append("no RSDP: not in acpi_rsdp_addr, and not found by the probe's scan")
    if f.get("hardware_subarch") != str(subarch):
        bad.append("hardware_subarch %s, want %d" % (f.get("hardware_subarch"), subarch))
    return bad + stub_mismatches(f)


# --- the 64-bit probe (probe64-LISTS.bzImage): where it runs, its bytes, its sites ---
KOFF = 0xffffffff80000000
KERNEL_IMAGE_SIZE = 1 << 30      # the virtual range a relocated kernel stays in, from KOFF
SIZES = {"64": 8, "32": 4, "inv": 4}


def spec(bzimage):
    """What mkprobe.py says the probe64 BZIMAGE must report (its .json)."""
    return json.loads(pathlib.Path(str(bzimage) + ".json").read_text())


def image(text):
    """The probe64's own lines: {"entry", "phys", "virt", "moved", "hash",
    "runs": {name: bytes}, "sums": [(addr, len, crc32)]}, or None."""
    m = re.search(r"^probe: image phys (0x[0-9a-f]+) virt (0x[0-9a-f]+) moved (0x[0-9a-f]+)$", text, re.M)
    e = re.search(r"^probe: entry (\d+)$", text, re.M)
    h = re.search(r"^probe: image_hash (0x[0-9a-f]+)$", text, re.M)
    if not (m and e and h):
        return None
    return {"entry": int(e.group(1)), "phys": int(m.group(1), 16), "virt": int(m.group(2), 16),
            "moved": int(m.group(3), 16), "hash": h.group(1),
            "runs": {k: bytes.fromhex(v) for k, v in re.findall(r"^probe: sites (\w) ([0-9a-f]+)$", text, re.M)},
            "sums": [(int(a, 16), int(n, 16), int(s, 16))
                     for a, n, s in re.findall(r"^probe: sum (0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+)$", text, re.M)]}


def relocated_runs(sp, delta):
    """The site runs as the relocations leave them for virtual offset DELTA:
    a 64-bit or 32-bit site plus DELTA, an inverse one minus it."""
    runs = {}
    for name, hexbytes in sp["runs"].items():
        b = bytearray(bytes.fromhex(hexbytes))
        for off, kind in sp["sites"][name]:
            n = SIZES[kind]
            v = int.from_bytes(b[off:off + n], "little")
            v = (v - delta if kind == "inv" else v + delta) % (1 << (8 * n))
            b[off:off + n] = v.to_bytes(n, "little")
        runs[name] = bytes(b)
    return runs


def image_mismatches(text, sp, entry, phys=None, delta=0):
    """What in the probe64's report differs from its SPEC entered through the
    ENTRY-bit handoff, at physical PHYS (None: any), relocated by DELTA: the
    entry, where it runs, where its sites say it is linked, the hash of its
    bytes and every site."""
    got = image(text)
    if got is None:
        return ["no image report from the 64-bit probe"]
    bad = []
    if got["entry"] != entry:
        bad.append("entered through the %d-bit handoff, want %d" % (got["entry"], entry))
    if phys is not None and got["phys"] != phys:
        bad.append("runs at 0x%x, want 0x%x" % (got["phys"], phys))
    if got["virt"] != sp["link_virt"] + delta:
        bad.append("linked at 0x%x by its relocations, want 0x%x (virtual offset 0x%x)"
                   % (got["virt"], sp["link_virt"] + delta, delta))
    if got["moved"] != sp["moved"] or got["hash"] != sp["image_hash"]:
        bad.append("its bytes hash to %s over 0x%x, want %s over 0x%x: the kernel was not moved or loaded whole"
                   % (got["hash"], got["moved"], sp["image_hash"], sp["moved"]))
    for name, want in relocated_runs(sp, delta).items():
        if got["runs"].get(name) != want:
            bad.append("relocation sites %s: %s, want %s" % (name, got["runs"].get(name, b"").hex(), want.hex()))
    return bad
