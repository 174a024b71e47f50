#!/bin/sh
# The placement pitfall: a loader puts the initrd, and its own tables,
# inside the kernel's decompression window.  pvhload (a test-only PVH chain
# loader) does exactly that; the stub must move the initrd out and copy
# the rest, or stop with a message that names the overlap.
#   tests/overlap/run.sh BUILD_DIR
set -u
obj=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib.sh
. "$top/tests/lib.sh"
suite overlap
need qemu-system-x86_64 python3 readelf timeout || exit 1

kernel="$PVHSTUB_CACHE/kernels/vmlinuz-cloud"
[ -s "$kernel" ] || { fail "overlap: $kernel is missing (run scripts/fetch-kernels.sh)"; exit 1; }
"$obj/pvhstub" wrap "$kernel" -o "$out/cloud.pvh" || { fail "overlap: wrap"; exit 1; }
# A 24 MiB incompressible file makes the initrd large enough to be hit.
"$top/scripts/mkinitrd.sh" "$out/initrd.cpio" 24 || { fail "overlap: building the initrd"; exit 1; }

entry=$(readelf -hW "$out/cloud.pvh" | sed -n 's/.*Entry point address: *//p')
# The payload segment: [start, start + filesz) is the compressed kernel,
# [start, start + memsz) the decompression window.
set -- $(readelf -lW "$out/cloud.pvh" | awk '$1 == "LOAD" { a = $4; f = $5; m = $6 } END { print a, f, m }')
win_start=$(($1)) file_end=$(($1 + $2)) win_end=$(($1 + $3))
size=$(stat -c %s "$out/initrd.cpio")
# Inside the window, past the compressed kernel: where a loader that trusts
# a too-small ELF would put them.  The initrd first, the tables after it.
rd=0x2000000
tables=$(( (rd + size + 0xfffff) & ~0xfffff ))
if [ $((rd)) -lt $file_end ] || [ $((tables + 0x10000)) -gt $win_end ]; then
	fail "overlap: the test's addresses do not fit in the window [$file_end, $win_end)"
	exit 1
fi
cmdline='console=ttyS0 panic=-1 overlap=yes'

# QEMU's generic loader refuses ROM regions that overlap, and the image's
# payload segment reserves the whole window (its memsz): load each
# segment's file bytes as a raw blob instead, as a loader would.
segments=""
for seg in $(python3 - "$out/cloud.pvh" "$out" <<'PY'
import struct, sys
img = open(sys.argv[1], "rb").read()
phoff, = struct.unpack_from("<Q", img, 0x20)
phnum, = struct.unpack_from("<H", img, 0x38)
for i in range(phnum):
    typ, flags, off, vaddr, paddr, filesz, memsz, align = struct.unpack_from("<IIQQQQQQ", img, phoff + 56 * i)
    if typ == 1:
        name = "%s/segment%d.bin" % (sys.argv[2], i)
        open(name, "wb").write(img[off:off + filesz])
        print("%s@0x%x" % (name, paddr))
PY
); do
	segments="$segments -device loader,file=${seg%@*},addr=${seg#*@},force-raw=on"
done
loader_args="pvhload.entry=$entry pvhload.initrd=$(printf 0x%x "$rd"),$(printf 0x%x "$size") pvhload.tables=$(printf 0x%x "$tables")"

# 1. Room above the window: the initrd moves and arrives intact.
log="$out/move.log"
qemu_boot "$log" 180 -M pc -m 512 -icount shift=0,sleep=off \
	-kernel "$obj/tests/pvhload.elf" -append "$loader_args -- $cmdline pvhstub.debug" \
	$segments \
	-device "loader,file=$out/initrd.cpio,addr=$rd,force-raw=on"
boot_verdict overlap "$cmdline" \
	"an initrd and loader tables inside the window survive ($(grep -o 'moving initrd.*' "$log" | head -n 1))" \
	"the stub did not say it moved the initrd" \
	"pvhstub: moving initrd \[$(printf 0x%x "$rd"), $(printf 0x%x $((rd + size)))) out of the decompression window"

# 2. No room anywhere: a clear panic that names the overlap, then a clean stop.
log="$out/noroom.log"
qemu_boot "$log" 120 -M pc -m 80 \
	-kernel "$obj/tests/pvhload.elf" -append "$loader_args -- $cmdline" \
	$segments \
	-device "loader,file=$out/initrd.cpio,addr=$rd,force-raw=on"
if [ "$QEMU_RC" = 3 ] && grep -q "pvhstub: PANIC: initrd \[0x2000000, .*) must move (decompression window \[0x1000000, 0x[0-9a-f]*), limit 0x[0-9a-f]*), but no free RAM" "$log" &&
   ! grep -q "Linux version" "$log"; then
	pass "overlap: with no room, panic names the overlap and QEMU exits 3 ($(grep -o 'PANIC: .*' "$log"))"
else
	fail "overlap: with no room, want a panic naming the overlap and exit status 3 (got $QEMU_RC)"
	log_tail "$log"
fi

# 3. dom0, honestly: a start_info with SIF_INITDOMAIN (as Xen gives dom0)
# and a Linux payload: the stub warns once that Linux entered natively runs
# as an unprivileged domain, and boots on.
log="$out/dom0.log"
qemu_boot "$log" 180 -M pc -m 512 -icount shift=0,sleep=off \
	-kernel "$obj/tests/pvhload.elf" -append "$loader_args pvhload.flags=0x3 -- $cmdline pvhstub.debug" \
	$segments \
	-device "loader,file=$out/initrd.cpio,addr=$rd,force-raw=on"
warned=$(tr -d '\r' < "$log" | grep -c "^pvhstub: warning: this domain is dom0 (SIF_INITDOMAIN), but Linux entered at its native entry never learns it and runs as an unprivileged domain; boot dom0 through a CONFIG_PVH kernel's own PVH entry")
if [ "$QEMU_RC" != 124 ] && [ "$warned" = 1 ] && python3 "$top/tests/boot/check.py" "$log" "$cmdline" --payload > "$log.check"; then
	pass "overlap: SIF_INITDOMAIN with a Linux payload: one warning that it will not run as dom0, then init"
else
	sed 's/^/    /' "$log.check" 2>/dev/null
	fail "overlap: SIF_INITDOMAIN with a Linux payload: want one warning ($warned) and init (QEMU $QEMU_RC)"
	log_tail "$log"
fi
suite_end
