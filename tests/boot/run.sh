#!/bin/sh
# Boot Debian's 6.1 cloud and generic kernels through the stub on QEMU pc
# and microvm, and check each boot with check.py.
#   tests/boot/run.sh BUILD_DIR
set -u
obj=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
suite boot

need qemu-system-x86_64 python3 timeout || exit 1
"$top/scripts/mkinitrd.sh" "$out/initrd.cpio" 4 || { fail "building the test initrd"; exit 1; }

cmdline='console=ttyS0 panic=-1 pvhstub.test="a b" x=1'
for kernel in cloud generic; do
	src="$top/.cache/kernels/vmlinuz-$kernel"
	if [ ! -s "$src" ]; then
		fail "$kernel: $src is missing (run scripts/fetch-kernels.sh)"
		continue
	fi
	"$obj/pvhstub" wrap "$src" -o "$out/$kernel.pvh" || { fail "$kernel: wrap"; continue; }
	for machine in pc microvm; do
		name="$kernel-$machine"
		log="$out/$name.log"
		# -icount: deterministic virtual time, so that timer calibration cannot race
		# the host (microvm has no HPET or PM timer to fall back on).
		qemu_boot "$log" 180 -M "$machine" -m 512 -icount shift=0,sleep=off -kernel "$out/$kernel.pvh" \
			-initrd "$out/initrd.cpio" -append "$cmdline pvhstub.debug"
		if [ "$QEMU_RC" = 124 ]; then
			fail "$name: QEMU did not finish within 180 s"
			log_tail "$log"
			continue
		fi
		if python3 "$top/tests/boot/check.py" "$log" "$cmdline" --payload > "$log.check"; then
			pass "$name: boots to init with the right cmdline, initrd and e820"
		else
			sed 's/^/    /' "$log.check"
			fail "$name: see the checks above"
			log_tail "$log"
		fi
	done
done
suite_end
