#!/bin/sh
# The loader zoo: Firecracker and Cloud Hypervisor need KVM, which these
# machines lack, so their PVH boot is emulated under QEMU TCG:
#   - the image is loaded by rust-vmm linux-loader's rules
#     (tests/zoo/rustvmm_load.py: ELF64 only, e_entry and every PT_LOAD at
#     1 MiB or above, p_filesz bytes copied, the 4-byte PVH note), each
#     segment put in place by QEMU's generic loader;
#   - the test loader (tests/overlap/pvhload) lays out the start_info,
#     modlist, memmap, cmdline, initrd and RSDP as Firecracker (on QEMU pc),
#     Cloud Hypervisor, libkrun or OpenVMM (on microvm) does
#     (pvhload.layout=): libkrun's sorted map ends one byte past the RAM,
#     its initrd ends exactly at the RAM's end, unaligned; OpenVMM's map is
#     one RAM range from 0 over the ISA hole, its MP table at 0, its RSDP at
#     0x8000.
# Debian's cloud and generic kernels, every wrap, reach init under both, with
# the cmdline, the initrd (md5) and an e820 equal to the loader's map after
# the documented rules; under Cloud Hypervisor's layout the kernel must take
# the RSDP from 0xa0000 (under OpenVMM's from 0x8000), under Firecracker's the generic kernel must find its
# MP table at 0x9fc00; the cloud kernel wrapped with --kaslr full must run
# where the stub moved it.  check-image: every image the zoo boots passes the
# rules, and images that break one are refused.
#   tests/zoo/run.sh BUILD_DIR
set -u
obj=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib.sh
. "$top/tests/lib.sh"
suite zoo
need qemu-system-x86_64 python3 timeout || exit 1
load="$top/tests/zoo/rustvmm_load.py"
"$top/scripts/mkinitrd.sh" "$out/initrd.cpio" 4 || { fail "zoo: building the initrd"; exit 1; }
rd=0x8000000	# where QEMU puts the initrd; the loader then moves it to the top of RAM
# libkrun puts the initrd right below the end of RAM, at whatever address its
# size gives: 516 bytes of zero padding (which the kernel's cpio reader
# skips, 4 at a time) make that address no multiple of a page.
cp "$out/initrd.cpio" "$out/initrd-odd.cpio" && head -c 516 /dev/zero >> "$out/initrd-odd.cpio" ||
	{ fail "zoo: padding the initrd"; exit 1; }
cmdline='console=ttyS0 panic=-1 zoo="rust vmm"'

# zoo_boot NAME LAYOUT MACHINE IMAGE: load IMAGE by rust-vmm's rules, lay the
# tables out as LAYOUT does, boot, check.
zoo_boot() {
	name=$1 layout=$2 machine=$3 image=$4
	initrd="$out/initrd.cpio"
	[ "$layout" = libkrun ] && initrd="$out/initrd-odd.cpio"
	rd_size=$(printf 0x%x "$(stat -c %s "$initrd")")
	segs="$out/$name.segs"
	mkdir -p "$segs"
	if ! python3 "$load" "$image" "$segs" > "$segs/list" 2> "$segs/err"; then
		fail "zoo $name: $(cat "$segs/err")"
		return
	fi
	entry=$(sed -n 's/^entry //p' "$segs/list")
	devices=$(awk '$1 == "segment" { printf " -device loader,file=%s,addr=%s,force-raw=on", $2, $3 }' "$segs/list")
	log="$out/$name.log"
	# shellcheck disable=SC2086
	qemu_boot "$log" 180 -M "$machine" -m 512 -icount shift=0,sleep=off \
		-kernel "$obj/tests/pvhload.elf" \
		-append "pvhload.entry=$entry pvhload.initrd=$rd,$rd_size pvhload.layout=$layout -- $cmdline pvhstub.debug" \
		$devices -device "loader,file=$initrd,addr=$rd,force-raw=on"
	set -- "the stub did not take the start_info at 0x6000" '^pvhstub: start_info 0x6000 v1, '
	mp_note=
	if [ "$layout" = cloud-hypervisor ]; then
		set -- "$@" "the kernel did not take the RSDP at 0xa0000" '^PVHSTUB-DMESG: ACPI: RSDP 0x00000000000A0000 '
	fi
	if [ "$layout" = openvmm ]; then
		set -- "$@" "the kernel did not take the RSDP at 0x8000" '^PVHSTUB-DMESG: ACPI: RSDP 0x0000000000008000 '
	fi
	# Firecracker's MP table: Debian's generic kernel (CONFIG_X86_MPPARSE=y)
	# must find it at 0x9fc00; the cloud kernel has no MP table parser.
	if [ "$layout" = firecracker ] && [ "${name#generic}" != "$name" ]; then
		mp_note=", its MP table found at 0x9fc00"
		set -- "$@" "the kernel did not find Firecracker's MP table at 0x9fc00" \
			'^PVHSTUB-DMESG: found SMP MP-table at \[mem 0x0009fc00-0x0009fc0f\]'
	fi
	# The stub's physical KASLR: the kernel runs where the stub's line says
	# it moved it ("Kernel code" in /proc/iomem, 8 hex digits).
	case $name in *-full-*)
		phys=$(tr -d '\r' < "$log" | sed -n 's/^pvhstub: .*, KASLR .*, physical 0x\([0-9a-f]*\)$/\1/p')
		set -- "$@" "the stub did not pick a physical slot for the kernel" \
			'^pvhstub: .*, KASLR .*, virtual +0x[0-9a-f]*, physical 0x[0-9a-f]*$' \
			"the kernel does not run at the stub's physical slot 0x$phys" \
			"^PVHSTUB-KERNEL: [0-9a-f]\{16\} 0*$phys-"
	esac
	boot_verdict "zoo $name" "$cmdline" \
		"loaded by rust-vmm's rules, tables as $layout lays them out: init, cmdline, initrd and e820 right$mp_note" "$@"
}

for kernel in cloud generic; do
	src="$PVHSTUB_CACHE/kernels/vmlinuz-$kernel"
	[ -s "$src" ] || { fail "zoo: $src is missing (run scripts/fetch-kernels.sh)"; continue; }
	# The cloud kernel also with the stub's physical KASLR: the kernel must
	# move into a slot clear of the loader's layout (the initrd at the top of RAM).
	for variant in 32 64 decompress $([ "$kernel" = cloud ] && echo full); do
		args=$(wrap_args "$variant")
		image="$out/$kernel-$variant.pvh"
		# shellcheck disable=SC2086
		"$obj/pvhstub" wrap $args "$src" -o "$image" 2>/dev/null || { fail "zoo: wrap $args $src"; continue; }
		if python3 "$load" "$image" > "$out/check.txt" 2>&1; then
			pass "check-image $kernel-$variant: $(cat "$out/check.txt")"
		else
			fail "check-image $kernel-$variant: $(cat "$out/check.txt")"
		fi
		zoo_boot "$kernel-$variant-firecracker" firecracker pc "$image"
		zoo_boot "$kernel-$variant-cloud-hypervisor" cloud-hypervisor microvm "$image"
		# libkrun and OpenVMM (2026's PVH loaders): the cloud kernel, every wrap.
		if [ "$kernel" = cloud ]; then
			zoo_boot "$kernel-$variant-libkrun" libkrun microvm "$image"
			zoo_boot "$kernel-$variant-openvmm" openvmm microvm "$image"
		fi
	done
done

# check-image refuses what rust-vmm refuses: an ELF32 image, a segment below
# 1 MiB, and a second PT_NOTE without the PVH note.
bad_image() { # name "expected" python-patch
	cp "$out/cloud-32.pvh" "$out/bad-$1.pvh"
	python3 - "$out/bad-$1.pvh" "$3" <<'PY'
import struct, sys
path, what = sys.argv[1], sys.argv[2]
img = bytearray(open(path, "rb").read())
phoff, = struct.unpack_from("<Q", img, 0x20)
phnum, = struct.unpack_from("<H", img, 0x38)
for i in range(phnum):
    at = phoff + 56 * i
    typ, = struct.unpack_from("<I", img, at)
    if what == "low" and typ == 1:
        struct.pack_into("<Q", img, at + 24, 0x80000)      # p_paddr
        break
    if what == "note" and typ == 4:
        # A second PT_NOTE over a note of another name (the kernel version note).
        off, = struct.unpack_from("<Q", img, at + 8)
        size, = struct.unpack_from("<Q", img, at + 32)
        n = 0
        while n < size:
            namesz, descsz, t = struct.unpack_from("<III", img, off + n)
            if img[off + n + 12:off + n + 15] != b"Xen":
                break
            n += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
        img[0x38] = phnum + 1
        extra = phoff + 56 * phnum
        img[extra:extra + 56] = struct.pack("<IIQQQQQQ", 4, 4, off + n, 0, 0, size - n, size - n, 4)
        break
open(path, "wb").write(img)
PY
	if python3 "$load" "$out/bad-$1.pvh" > "$out/bad-$1.txt" 2>&1 || ! grep -qF "$2" "$out/bad-$1.txt"; then
		fail "check-image refuses $1: want '$2': $(cat "$out/bad-$1.txt")"
	else
		pass "check-image refuses $1: $(cat "$out/bad-$1.txt")"
	fi
}
if [ -s "$out/cloud-32.pvh" ]; then
	"$obj/pvhstub" wrap --elf32 "$PVHSTUB_CACHE/kernels/vmlinuz-cloud" -o "$out/cloud-elf32.pvh"
	if python3 "$load" "$out/cloud-elf32.pvh" > "$out/elf32.txt" 2>&1 ||
	   ! grep -q 'ELF32: linux-loader loads only ELF64' "$out/elf32.txt"; then
		fail "check-image refuses an ELF32 image: $(cat "$out/elf32.txt")"
	else
		pass "check-image refuses an ELF32 image (--elf32): $(cat "$out/elf32.txt")"
	fi
	bad_image low "PT_LOAD 0 at 0x80000 is below 1 MiB" low
	bad_image note "no XEN_ELFNOTE_PHYS32_ENTRY in the last PT_NOTE" note
fi
suite_end
