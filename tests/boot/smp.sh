#!/bin/sh
# SMP boots (sourced by tests/boot/run.sh, in its suite): Debian's cloud
# kernel, every wrap, on pc with -smp 4 and microvm with -smp 2: init is
# reached with the right cmdline, initrd and e820, and Linux brings up every
# CPU.  These boots run without -icount: on QEMU 7.2 with -icount, -smp
# above 1 hangs native boots and stub boots alike (the vCPUs are run round
# robin on one thread and never reach init).  Without -icount the kernel
# calibrates its TSC against the PIT in real time, which a loaded host
# upsets on microvm (it has no HPET or PM timer to fall back on: "Unable to
# calibrate against PIT", then a hang in two of three boots beside two busy
# loops), so microvm boots get tsc_early_khz= and skip the calibration.
# shellcheck shell=sh

smp_src="$PVHSTUB_CACHE/kernels/vmlinuz-cloud"
smp_cmdline='console=ttyS0 panic=-1 smp=yes'
if [ ! -s "$smp_src" ]; then
	fail "smp: $smp_src is missing (run scripts/fetch-kernels.sh)"
else
	for variant in 32 64 decompress; do
		args=$(wrap_args "$variant")
		image="$out/smp-$variant.pvh"
		# shellcheck disable=SC2086
		"$obj/pvhstub" wrap $args "$smp_src" -o "$image" 2>/dev/null || { fail "smp: wrap $args"; continue; }
		for spec in pc:4 microvm:2; do
			machine=${spec%:*} cpus=${spec#*:}
			log="$out/smp-$machine-$variant.log"
			extra=
			[ "$machine" = microvm ] && extra=" tsc_early_khz=2500000"
			qemu_boot "$log" 180 -M "$machine" -smp "$cpus" -m 512 -kernel "$image" \
				-initrd "$out/initrd.cpio" -append "$smp_cmdline$extra pvhstub.debug"
			boot_verdict "smp $machine -smp $cpus, wrap $args" "$smp_cmdline$extra" \
				"$cpus CPUs up, init with the right cmdline, initrd and e820" \
				"Linux did not bring up $cpus CPUs" "smp: Brought up 1 node, $cpus CPUs"
		done
	done
fi
