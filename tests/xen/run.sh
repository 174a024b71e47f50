#!/bin/sh
# Real Xen (Debian's 4.17) under QEMU TCG.
#   1. PVH dom0: Xen boots the stub-wrapped probe as dom0 (start_info v0),
#      and the unwrapped stub, whose panic must crash the domain.
#   2. xl PVH domU: a Linux PV dom0 runs xl; configs from 'pvhstub xlconfig'
#      boot the stub-wrapped Debian cloud kernel (with a 64 MiB payload in
#      its initrd, to prove placement, a PV disk it reads a file from and a
#      PV network it pings dom0 over), the stub-wrapped probe, and the
#      cloud kernel wrapped with --decompress --kaslr full (the stub's KASLR),
#      with two vCPUs, the cloud kernel's vmlinux through Linux's own PVH
#      entry, whose kernel log is compared with the stub's (compare_dmesg.py),
#      and the tiny kernel, which has no Xen support, to init.
#   tests/xen/run.sh BUILD_DIR
set -u
obj=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
suite xen
need qemu-system-x86_64 python3 timeout || exit 1

xen="$PVHSTUB_CACHE/xen/xen.elf"
[ -s "$xen" ] || { fail "xen: $xen is missing (run tests/xen/fetch-xen.sh)"; exit 1; }
# QEMU 7.2 TCG workarounds: SMAP breaks PV dom0 iretq, RDTSCP breaks SVM nested exits.
XEN_QEMU="-M pc -cpu max,-smap,-rdtscp -m 1536"
XEN_ARGS="console=com1 loglvl=all guest_loglvl=all dom0_mem=512M,max:512M dom0_max_vcpus=1"

# 1. PVH dom0: the probe, wrapped, with an initrd, arguments through Xen's module string.
"$obj/pvhstub" wrap "$obj/tests/probe.bzImage" -o "$out/probe.pvh" || { fail "xen dom0: wrap"; exit 1; }
python3 -c "import random,sys; sys.stdout.buffer.write(random.Random(9).randbytes(300000))" > "$out/dom0-initrd.bin"
log="$out/dom0.log"
start=$(date +%s)
# shellcheck disable=SC2086
qemu_boot "$log" 300 $XEN_QEMU -kernel "$xen" -append "$XEN_ARGS dom0=pvh dom0-iommu=none" \
	-initrd "$out/probe.pvh pvhstub.subarch=xen pvhstub.debug hello dom0,$out/dom0-initrd.bin"
secs=$(( $(date +%s) - start ))
if [ "$QEMU_RC" != 33 ]; then
	fail "xen dom0: want the probe to end through isa-debug-exit (33), got $QEMU_RC after ${secs}s"
	log_tail "$log"
elif python3 "$top/tests/xen/check_dom0.py" "$log" "$out/dom0-initrd.bin" "hello dom0" 512 > "$log.check"; then
	sed 's/^/    /' "$log.check"
	pass "xen dom0: the probe as PVH dom0 sees Xen's map, subarch Xen, its cmdline and initrd (${secs}s)"
else
	sed 's/^/    /' "$log.check"
	fail "xen dom0: see the checks above"
	log_tail "$log"
fi
# 1b. panic() on Xen: the unwrapped stub has no payload; as dom0 it must say
# so on Xen's console and crash the domain (SCHEDOP_shutdown), not hang.
log="$out/dom0-panic.log"
# shellcheck disable=SC2086
qemu_boot "$log" 120 $XEN_QEMU -kernel "$xen" -append "$XEN_ARGS dom0=pvh dom0-iommu=none" \
	-initrd "$obj/stub.elf unwrapped"
if [ "$QEMU_RC" != 124 ] && grep -q "^pvhstub: PANIC: no payload: wrap this stub with 'pvhstub wrap'" "$log" &&
   grep -q "Hardware Dom0 crashed" "$log"; then
	pass "xen dom0: panic() prints on Xen's console and crashes the domain"
else
	fail "xen dom0: panic() prints on Xen's console and crashes the domain (QEMU status $QEMU_RC)"
	log_tail "$log"
fi

# 2. xl PVH domUs under a PV dom0.
guests="$out/guests"
rm -rf "$guests"
mkdir -p "$guests"
dom0_kernel="$PVHSTUB_CACHE/kernels/vmlinuz-generic"
cloud="$PVHSTUB_CACHE/kernels/vmlinuz-cloud"
linux_cmdline='console=hvc0 earlyprintk=xen keep_bootcon panic=-1 domu="pvh guest" kmsg=1'
# The Linux domUs' PV devices: an ext4 disk image (read-only, through
# blkback and a loop device: tests/xen/block-loop) holding a pseudo-random
# file whose md5 init prints, and a network interface with no bridge
# (tests/xen/vif-ip gives dom0's end 10.99.0.1) that init pings dom0 over.
# blkfront and netfront are modules of the cloud kernel, loaded by init.
pv_cmdline="$linux_cmdline pvhdisk=/dev/xvda pvhnet=10.99.0.2"
cloud_mods="$PVHSTUB_CACHE/kernels/modules-cloud/kernel/drivers"
# A kernel with no Xen support at all (the tiny x86_64 kernel: no CONFIG_XEN,
# no CONFIG_PVH).  A PVH domU has no PIT, HPET or PM timer, so it needs the
# TSC's rate on its command line (1 GHz: QEMU's -icount shift=0 runs one
# instruction a nanosecond); with no serial port and no hvc driver its
# console is an early 8250 on port 0xe9, which Xen prints as "(dN) ...".
# Its ACPI (S0 only) cannot power off, so dom0 stops it after 15 s (it
# reaches init in under 2 s of its own time).
tiny="$(tiny_dir)/vmlinuz-tiny-x86_64-reloc"
tiny_cmdline='earlycon=uart8250,io,0xe9 keep_bootcon console=ttyS0 tsc_early_khz=1000000 panic=-1'
disk_opts="--disk format=raw,vdev=xvda,access=r,script=/etc/xen/scripts/block-loop,target=/guests/disk.img
--vif ip=10.99.0.2,script=/etc/xen/scripts/vif-ip"
mkdisk() {
	rm -rf "$out/disk" && mkdir -p "$out/disk" &&
	python3 -c "import random,sys; sys.stdout.buffer.write(random.Random(12).randbytes(3 << 20))" \
		> "$out/disk/payload.bin" &&
	md5sum "$out/disk/payload.bin" | cut -d' ' -f1 > "$out/disk.md5" &&
	mke2fs -q -F -t ext4 -L pvhdisk -d "$out/disk" "$guests/disk.img" 8M >/dev/null
}
probe_cmdline='probe as domU'
# shellcheck disable=SC2086  # $disk_opts: two options and their specs, no spaces in them
if [ ! -s "$dom0_kernel" ] || [ ! -s "$cloud" ]; then
	fail "xen domU: Debian's kernels are missing (run scripts/fetch-kernels.sh)"
elif [ ! -s "$tiny" ]; then
	fail "xen domU: the tiny kernel is missing (run tests/kernels/build-tiny.sh)"
elif ! "$obj/pvhstub" wrap "$cloud" -o "$guests/cloud.pvh" ||
     ! cp "$out/probe.pvh" "$guests/probe.pvh" ||
     ! MODULES="$cloud_mods/block/xen-blkfront.ko $cloud_mods/net/xen-netfront.ko" \
	"$top/scripts/mkinitrd.sh" "$guests/linux-initrd.cpio" 64 || ! mkdisk ||
     ! "$obj/pvhstub" xlconfig "$guests/cloud.pvh" --name linux --dir /guests $disk_opts \
	--ramdisk "$guests/linux-initrd.cpio" --cmdline "$pv_cmdline pvhstub.debug" -o "$guests/1-linux.cfg" ||
     ! "$obj/pvhstub" xlconfig "$guests/probe.pvh" --name probe --dir /guests \
	--ramdisk "$out/dom0-initrd.bin" --cmdline "$probe_cmdline pvhstub.debug" -o "$guests/2-probe.cfg" ||
     ! cp "$out/dom0-initrd.bin" "$guests/" || ! echo 15 > "$guests/2-probe.wait" ||
     ! "$obj/pvhstub" extract "$cloud" -o "$guests/vmlinux-cloud" ||
     ! sed -e 's|^name = .*|name = "own"|' -e 's|^kernel = .*|kernel = "/guests/vmlinux-cloud"|' \
	-e 's| pvhstub.debug"$|"|' "$guests/1-linux.cfg" > "$guests/4-own.cfg" ||
     ! "$obj/pvhstub" wrap --decompress --kaslr full "$cloud" -o "$guests/kaslr.pvh" ||
     ! "$top/scripts/mkinitrd.sh" "$guests/small-initrd.cpio" ||
     ! "$obj/pvhstub" xlconfig "$guests/kaslr.pvh" --name kaslr --dir /guests --vcpus 2 \
	--ramdisk "$guests/small-initrd.cpio" --cmdline "$linux_cmdline" -o "$guests/3-kaslr.cfg" ||
     ! "$obj/pvhstub" wrap "$tiny" -o "$guests/tiny.pvh" ||
     ! "$obj/pvhstub" xlconfig "$guests/tiny.pvh" --name tiny --dir /guests \
	--ramdisk "$guests/small-initrd.cpio" --cmdline "$tiny_cmdline pvhstub.debug" -o "$guests/5-tiny.cfg" ||
     ! echo 15 > "$guests/5-tiny.wait" ||
     ! "$top/tests/xen/mkdom0.sh" "$out/dom0.cpio" "$guests"; then
	fail "xen domU: preparing the guests and the dom0 initramfs"
else
	log="$out/domu.log"
	start=$(date +%s)
	# -icount: without it, the PV dom0's clock jumped now and then (its TSC
	# is the host's under TCG), so xl's waits ended early or xl crashed; in
	# about one run of four the Linux domU was stopped before init.
	# dom0 holds the guests in its initramfs (about 140 MiB with the
	# --decompress image): it gets 768 MiB here, the guests the rest.
	# shellcheck disable=SC2086
	qemu_boot "$log" 900 $XEN_QEMU -icount shift=0,sleep=off -kernel "$xen" \
		-append "$(echo "$XEN_ARGS" | sed 's/dom0_mem=512M,max:512M/dom0_mem=768M,max:768M/')" \
		-initrd "$dom0_kernel console=hvc0 earlyprintk=xen,$out/dom0.cpio"
	secs=$(( $(date +%s) - start ))
	if [ "$QEMU_RC" = 124 ] || ! grep -q '^DOM0-DONE' "$log"; then
		fail "xen domU: dom0 did not finish its guests (QEMU status $QEMU_RC after ${secs}s)"
		grep -E '^DOM0-' "$log" | sed 's/^/    /'
		log_tail "$log"
	elif python3 "$top/tests/xen/check_domu.py" "$log" "$pv_cmdline" "$probe_cmdline" "$(cat "$out/disk.md5")" "$tiny_cmdline" \
		> "$log.check"; then
		sed 's/^/    /' "$log.check"
		pass "xen domU: xl boots the wrapped Debian kernel (PV disk and network working), the probe, the kernel randomized by the stub, and a kernel with no Xen support as PVH domUs (${secs}s in all)"
	else
		sed 's/^/    /' "$log.check"
		fail "xen domU: see the checks above"
		log_tail "$log"
	fi
	# The same kernel and xl config entered through the stub and through
	# Linux's own PVH entry: their kernel logs, normalized, agree but for
	# the differences tests/xen/compare_dmesg.py lists with their reasons.
	if python3 "$top/tests/xen/compare_dmesg.py" "$log" linux own > "$log.dmesg"; then
		sed 's/^/    /' "$log.dmesg"
		pass "xen domU: stub and Linux's own PVH entry log the same, but for $(grep -c '^expected:' "$log.dmesg") explained lines"
	else
		sed 's/^/    /' "$log.dmesg"
		fail "xen domU: stub and Linux's own PVH entry log lines no difference explains"
	fi
fi
suite_end
