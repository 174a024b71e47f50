#!/bin/sh
# Native versus PVH: the probe kernel booted natively (QEMU's Linux loader,
# SeaBIOS) and through the stub must see the same zero page, but for the
# differences compare.py names.  Then the same for a real Debian kernel.
#   tests/probe/run.sh BUILD_DIR
set -u
obj=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib.sh
. "$top/tests/lib.sh"
suite probe-runs
need qemu-system-x86_64 python3 timeout || exit 1

probe="$obj/tests/probe.bzImage"
"$obj/pvhstub" wrap "$probe" -o "$out/probe.pvh" || { fail "probe: wrap"; exit 1; }
python3 -c "import random,sys; sys.stdout.buffer.write(random.Random(7).randbytes(300000))" > "$out/initrd.bin"

# compare_dumps NAME QEMU_ARGS...: boot natively and through the stub, diff.
# $native_image and $pvh_image, when set, replace the probe and its image.
compare_dumps() {
	name=$1
	shift
	qemu_boot "$out/$name-native.log" 60 -M pc "$@" -kernel "${native_image:-$probe}"
	rc_native=$QEMU_RC
	qemu_boot "$out/$name-pvh.log" 60 -M pc "$@" -kernel "${pvh_image:-$out/probe.pvh}"
	if [ "$rc_native" != 33 ] || [ "$QEMU_RC" != 33 ]; then
		fail "probe $name: want both boots to end through isa-debug-exit (33), got native $rc_native, pvh $QEMU_RC"
		log_tail "$out/$name-native.log"
		log_tail "$out/$name-pvh.log"
	elif python3 "$top/tests/probe/compare.py" native "$out/$name-native.log" "$out/$name-pvh.log" > "$out/$name.diff"; then
		sed 's/^/    /' "$out/$name.diff"
		pass "probe $name: native and PVH zero pages agree but for the named differences"
	else
		sed 's/^/    /' "$out/$name.diff"
		fail "probe $name: native and PVH zero pages differ"
	fi
}

args='console=ttyS0 probe "quoted arg" x=1'
long="$args $(python3 -c "print(' '.join('opt%04d=%s' % (i, 'v' * 6) for i in range(130)))")"
compare_dumps 128M -m 128 -initrd "$out/initrd.bin" -append "$args"
compare_dumps 1G -m 1024 -initrd "$out/initrd.bin" -append "$args"
compare_dumps 5G -m 5120 -initrd "$out/initrd.bin" -append "$args"
compare_dumps long-cmdline -m 1024 -initrd "$out/initrd.bin" -append "$long"
compare_dumps no-initrd -m 256 -append "$args"

# Boot protocols 2.05 and 2.09: the probe with its version patched (it is
# relocatable).  The wrap loads it at 1 MiB with a derived window and moves
# the stub above; the zero pages must agree, but for the header fields the
# old protocol lacks (compare.py).
for v in 0205 0209; do
	python3 - "$probe" "$out/probe-$v.bzImage" "$v" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[0x206:0x208] = int(sys.argv[3], 16).to_bytes(2, "little")
open(sys.argv[2], "wb").write(d)
PY
	if ! "$obj/pvhstub" wrap "$out/probe-$v.bzImage" -o "$out/probe-$v.pvh" 2> "$out/probe-$v.err" ||
	   ! grep -q "warning: boot protocol 2.${v#02} has no init_size: the image reserves \[0x100000, " "$out/probe-$v.err"; then
		fail "probe protocol 2.${v#02}: wrap with a derived window: $(cat "$out/probe-$v.err")"
		continue
	fi
	native_image="$out/probe-$v.bzImage" pvh_image="$out/probe-$v.pvh" \
		compare_dumps "protocol-2.${v#02}" -m 256 -initrd "$out/initrd.bin" -append "$args"
done

# The probe under PVH on microvm: its e820 is the memmap QEMU passed.
log="$out/microvm.log"
qemu_boot "$log" 60 -M microvm -m 512 -kernel "$out/probe.pvh" -initrd "$out/initrd.bin" \
	-append "$args pvhstub.debug"
if [ "$QEMU_RC" != 33 ]; then
	fail "probe microvm: want an isa-debug-exit (33), got $QEMU_RC"
	log_tail "$log"
elif python3 "$top/tests/probe/compare.py" memmap "$log" > "$log.check"; then
	pass "probe microvm: the zero page's e820 is QEMU's memmap"
else
	sed 's/^/    /' "$log.check"
	fail "probe microvm: the zero page's e820 is QEMU's memmap"
fi

# The loader's cmdline is untrusted, and pvhstub.debug prints it: 300
# newlines in it once overflowed the stub's COM1 line buffer (CR before each
# LF) and the guest died.  The boot must end normally, the line printed whole.
log="$out/newlines.log"
qemu_boot "$log" 60 -M pc -m 256 -kernel "$out/probe.pvh" \
	-append "$args pvhstub.debug x$(python3 -c "print('a\n' * 300, end='')")y"
if [ "$QEMU_RC" = 33 ] && tr -d '\r' < "$log" | grep -q '^probe: end' &&
   [ "$(tr -d '\r' < "$log" | grep -c '^a$')" -ge 100 ]; then
	pass "probe newlines: a cmdline of newlines is printed and the boot goes on"
else
	fail "probe newlines: a cmdline of newlines is printed and the boot goes on (QEMU $QEMU_RC)"
	log_tail "$log"
fi

# Many memmap entries, end to end: the test loader (tests/overlap/pvhload)
# hands the stub 32 or 200 entries; past 128 they go in a SETUP_E820_EXT
# record, which the probe walks.
entry=$(readelf -hW "$out/probe.pvh" | sed -n 's/.*Entry point address: *//p')
for n in 32 200; do
	log="$out/entries-$n.log"
	qemu_boot "$log" 60 -M pc -m 512 -kernel "$obj/tests/pvhload.elf" \
		-append "pvhload.entry=$entry pvhload.entries=$(printf 0x%x "$n") -- $args pvhstub.debug" \
		-device "loader,file=$out/probe.pvh"
	if [ "$QEMU_RC" = 33 ] && grep -q "probe: e820_entries $([ "$n" -gt 128 ] && echo 128 || echo $((n + 1)))" "$log" &&
	   { [ "$n" -le 128 ] || grep -q "probe: setup_data type 1 len" "$log"; } &&
	   python3 "$top/tests/probe/compare.py" memmap "$log" > "$log.check"; then
		pass "probe with $n memmap entries: the zero page (and setup_data) hold the loader's map"
	else
		sed 's/^/    /' "$log.check" 2>/dev/null
		fail "probe with $n memmap entries: the zero page (and setup_data) hold the loader's map (QEMU status $QEMU_RC)"
		log_tail "$log"
	fi
done

# Real kernels, natively and through the stub: Debian 12's 6.1, Debian 13's
# 6.12 and sid's 7.2 cloud kernels, and sid's generic one.
"$top/scripts/mkinitrd.sh" "$out/initrd.cpio" 4 || fail "building the test initrd"
cmdline='console=ttyS0 panic=-1 native=vs-pvh'
for name in cloud cloud-trixie cloud-sid generic-sid; do
	kernel="$PVHSTUB_CACHE/kernels/vmlinuz-$name"
	if [ ! -s "$kernel" ]; then
		fail "linux $name native vs PVH: $kernel is missing (run scripts/fetch-kernels.sh)"
		continue
	fi
	"$obj/pvhstub" wrap "$kernel" -o "$out/$name.pvh" || { fail "linux $name native vs PVH: wrap"; continue; }
	qemu_boot "$out/linux-$name-native.log" 180 -M pc -m 512 -icount shift=0,sleep=off \
		-kernel "$kernel" -initrd "$out/initrd.cpio" -append "$cmdline"
	rc_native=$QEMU_RC
	qemu_boot "$out/linux-$name-pvh.log" 180 -M pc -m 512 -icount shift=0,sleep=off \
		-kernel "$out/$name.pvh" -initrd "$out/initrd.cpio" -append "$cmdline"
	pkg=$(cat "$kernel.package" 2>/dev/null)
	if [ "$rc_native" = 124 ] || [ "$QEMU_RC" = 124 ]; then
		fail "linux $name native vs PVH: a boot timed out (native $rc_native, pvh $QEMU_RC)"
		log_tail "$out/linux-$name-native.log"
		log_tail "$out/linux-$name-pvh.log"
	elif python3 "$top/tests/probe/linux_compare.py" "$out/linux-$name-native.log" "$out/linux-$name-pvh.log" \
		"$cmdline" > "$out/linux-$name.check"; then
		sed 's/^/    /' "$out/linux-$name.check"
		pass "linux $name native vs PVH: $pkg reports the same boot"
	else
		sed 's/^/    /' "$out/linux-$name.check"
		fail "linux $name native vs PVH: $pkg reports different boots"
		log_tail "$out/linux-$name-pvh.log"
	fi
done
suite_end
