#!/bin/sh
# mkinitrd.sh OUT [PAYLOAD_MIB]
# Build a busybox initramfs (newc cpio) whose init reports /proc/cmdline, the
# kernel's e820 and, with PAYLOAD_MIB, the checksum of a pseudo-random file
# of that size (to prove the initrd arrived intact).
# MODULES="a.ko b.ko": kernel modules the init loads first, in that order
# (the Xen tests' PV disk and network drivers).
set -eu

out=$1
mib=${2:-0}
top=$(cd "$(dirname "$0")/.." && pwd)
busybox=${BUSYBOX:-/bin/busybox}	# BUSYBOX=: another static busybox (an i386 one)
[ -x "$busybox" ] || { echo "mkinitrd: need busybox-static ($busybox)" >&2; exit 1; }
# A static ELF: no PT_INTERP.  Read from its header, not by running it: an
# i386 busybox does not run on a host kernel without IA32 emulation.
python3 - "$busybox" <<'PY' || exit 1
import struct, sys
b = open(sys.argv[1], "rb").read()
if b[:4] != b"\x7fELF":
    sys.exit("mkinitrd: %s is not an ELF file (install busybox-static)" % sys.argv[1])
if b[4] == 2:
    phoff, = struct.unpack_from("<Q", b, 0x20); phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
else:
    phoff, = struct.unpack_from("<I", b, 0x1c); phentsize, phnum = struct.unpack_from("<HH", b, 0x2a)
if any(struct.unpack_from("<I", b, phoff + i * phentsize)[0] == 3 for i in range(phnum)):
    sys.exit("mkinitrd: %s is not static (install busybox-static)" % sys.argv[1])
PY

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
cp "$busybox" "$root/bin/busybox"
cp "$top/tests/initrd/init" "$root/init"
chmod 755 "$root/init"
for m in ${MODULES:-}; do
	[ -f "$m" ] || { echo "mkinitrd: no module $m" >&2; exit 1; }
	mkdir -p "$root/lib/modules"
	cp "$m" "$root/lib/modules/"
	basename "$m" >> "$root/lib/modules/order"
done
if [ "$mib" -gt 0 ]; then
	# Deterministic but incompressible content.
	python3 -c "import random,sys; r=random.Random($mib); sys.stdout.buffer.write(r.randbytes($mib<<20))" > "$root/payload.bin"
	md5sum "$root/payload.bin" | cut -d' ' -f1 > "$root/payload.md5"
fi
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out.tmp"
mv "$out.tmp" "$out"
