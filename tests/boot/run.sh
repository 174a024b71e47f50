#!/bin/sh
# Boot Debian's 6.1 cloud and generic kernels through the stub, with the
# 32-bit and the 64-bit handoff, on QEMU pc and microvm, and check each boot
# with check.py.
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
	for handoff in 32 64; do
		image="$out/$kernel-$handoff.pvh"
		"$obj/pvhstub" wrap --handoff "$handoff" "$src" -o "$image" || { fail "$kernel: wrap --handoff $handoff"; continue; }
		for machine in pc microvm; do
			name="$kernel-$machine-$handoff"
			log="$out/$name.log"
			# -icount: deterministic virtual time, so that timer calibration cannot race
			# the host (microvm has no HPET or PM timer to fall back on).
			qemu_boot "$log" 180 -M "$machine" -m 512 -icount shift=0,sleep=off -kernel "$image" \
				-initrd "$out/initrd.cpio" -append "$cmdline pvhstub.debug"
			if [ "$QEMU_RC" = 124 ]; then
				fail "$name: QEMU did not finish within 180 s"
				log_tail "$log"
				continue
			fi
			if ! grep -q "pvhstub: start_info .* $handoff-bit handoff to " "$log"; then
				fail "$name: the stub did not announce the $handoff-bit handoff"
				log_tail "$log"
			elif python3 "$top/tests/boot/check.py" "$log" "$cmdline" --payload > "$log.check"; then
				pass "$name: $handoff-bit handoff boots to init with the right cmdline, initrd and e820"
			else
				sed 's/^/    /' "$log.check"
				fail "$name: see the checks above"
				log_tail "$log"
			fi
		done
	done
done
suite_end
