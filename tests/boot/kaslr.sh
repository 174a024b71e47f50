#!/bin/sh
# KASLR, boot by boot (sourced by tests/boot/run.sh, in its suite): Debian's
# cloud kernel, QEMU -cpu max (RDRAND) under -icount.  The initrd's init
# prints _text from /proc/kallsyms and the physical "Kernel code" range
# from /proc/iomem (PVHSTUB-KERNEL).
#   - wrap --decompress (the stub's default: the virtual offset) in 512 MiB,
#     and --kaslr full (virtual and physical) in a 6 GiB guest, five boots
#     each on pc and microvm; of the ten full boots at least one must run
#     above 4 GiB (half the RAM is there: all ten below happen once in a
#     thousand);
#   - the same image with XLF_CAN_BE_LOADED_ABOVE_4G cleared in its setup
#     header: five boots in 6 GiB, none above 4 GiB;
#   - -cpu qemu64 (no RDRAND, RDSEED) without -icount: five boots at
#     distinct slots from the TSC, the i8254 and the boot data;
#   - the bzImage path (the kernel's own decompressor), five boots each;
#   - nokaslr on the command line, and wrap --no-kaslr: the fixed address;
#   - a kernel without a relocation table: one warning, the fixed address;
#   - 5-level paging: -cpu max has LA57, so every boot of the cloud kernel
#     (XLF_5LEVEL) runs with 5 levels, as a native one does, and with
#     no5lvl with 4 (init reads la57 in /proc/cpuinfo: PVHSTUB-PAGING).
#   - sid's 7.2 cloud kernel (a 2-list relocation table, its entry past
#     the image's start): --decompress on pc, --kaslr full on pc and
#     microvm in 6 GiB (one of the ten above 4 GiB).
# Each boot's kernel must run where the stub's console line says it put it.
# Five boots must show at least four distinct addresses: the virtual offset
# has 482 slots (1 GiB less the 16 MiB start and the 46 MiB kernel, in
# 2 MiB steps) and the physical slot about 220 in 512 MiB (about 2,900 in
# 6 GiB), so by the birthday bound five boots repeat one slot about 2% (4%)
# of the time; two repeats would take a broken randomizer.
# shellcheck shell=sh

KASLR_BOOTS=5
src="$PVHSTUB_CACHE/kernels/vmlinuz-cloud"

# The stub's entropy line: the sources that delivered, in this order.
KASLR_SOURCES='(RDSEED\+)?(RDRAND\+)?TSC(\+i8254)?\+boot data'
# Guest memory and CPU for kaslr_boot (512 MiB, -cpu max under -icount by default).
KASLR_MEM=512
KASLR_CPU='-cpu max -icount shift=0,sleep=off'

# kaslr_boot NAME MACHINE IMAGE [APPEND]: boot once; sets where="VIRT PHYS-RANGE" or "".
kaslr_boot() {
	log="$out/kaslr-$1.log"
	# shellcheck disable=SC2086
	qemu_boot "$log" 180 -M "$2" $KASLR_CPU -m "$KASLR_MEM" -kernel "$3" \
		-initrd "$out/initrd.cpio" -append "console=ttyS0 panic=-1 quiet${4:+ $4}"
	where=$(sed -n 's/^PVHSTUB-KERNEL: \([0-9a-f]\{16\}\) \([0-9a-f]*-[0-9a-f]*\).*/\1 \2/p' "$log" | head -n 1)
	paging=$(tr -d '\r' < "$log" | sed -n 's/^PVHSTUB-PAGING: //p' | head -n 1)
	if [ "$QEMU_RC" = 124 ] || ! grep -q '^PVHSTUB-INIT: reached init' "$log" || [ -z "$where" ]; then
		fail "kaslr $1: init did not report where the kernel runs (QEMU exit $QEMU_RC)"
		log_tail "$log"
		where=
	fi
}

# kaslr_five ID LABEL MACHINE IMAGE STUB-PATTERN PHYS [PAGING]: five boots
# (PAGING: 5-level unless given); at least
# four distinct virtual addresses, and physical ones too when PHYS is 1.
# Adds the boots whose kernel runs at or above 4 GiB to $high.  The
# link address is one slot among the others (a random pick may land on it);
# a stub that could not move the kernel says so in a warning, which fails.
# Five boots over the physical slots of a 512 MiB guest (222) show fewer
# than four distinct addresses about once in 2,000 runs.
kaslr_five() {
	id=$1 label=$2 machine=$3 image=$4 pattern=$5 phys=$6 want_paging=${7:-5-level}
	seen=''
	i=0
	while [ "$i" -lt "$KASLR_BOOTS" ]; do
		kaslr_boot "$id-$machine-$i" "$machine" "$image"
		[ -n "$where" ] || return
		if [ -n "$pattern" ] && ! tr -d '\r' < "$log" | grep -Eq "$pattern"; then
			fail "kaslr $label on $machine: the stub's line does not match '$pattern'"
			log_tail "$log"
			return
		fi
		if tr -d '\r' < "$log" | grep -q '^pvhstub: warning: KASLR'; then
			fail "kaslr $label on $machine: $(tr -d '\r' < "$log" | grep -m1 '^pvhstub: warning: KASLR')"
			return
		fi
		# The kernel runs where the stub says it put it.
		stub=$(tr -d '\r' < "$log" | sed -n 's/^pvhstub: .*, virtual +0x\([0-9a-f]*\), physical 0x\([0-9a-f]*\)$/\1 \2/p')
		if [ -n "$stub" ]; then
			said=$(printf 'ffffffff%08x %08x' $((0x81000000 + 0x${stub% *})) $((0x${stub#* })))
			if [ "$said" != "${where%%-*}" ]; then
				fail "kaslr $label on $machine: the kernel runs at $where, the stub said $said"
				return
			fi
		fi
		if [ "$paging" != "$want_paging" ]; then
			fail "kaslr $label on $machine: the kernel runs with '$paging' paging, not $want_paging as on this CPU natively"
			log_tail "$log"
			return
		fi
		seen="$seen$where
"
		phys_start=${where#* }
		phys_start=${phys_start%%-*}
		[ "${#phys_start}" -gt 8 ] && high=$((high + 1))
		i=$((i + 1))
	done
	virt=$(printf '%s' "$seen" | cut -d' ' -f1 | sort -u | wc -l)
	pcount=$(printf '%s' "$seen" | cut -d' ' -f2 | sort -u | wc -l)
	shown=$(printf '%s' "$seen" | tr '\n' ',' | sed 's/,$//')
	if [ "$virt" -lt 4 ]; then
		fail "kaslr $label on $machine: $virt distinct virtual addresses in 5 boots: $shown"
	elif [ "$phys" = 1 ] && [ "$pcount" -lt 4 ]; then
		fail "kaslr $label on $machine: $pcount distinct physical addresses in 5 boots: $shown"
	else
		pass "kaslr $label on $machine (${KASLR_MEM} MiB): 5 boots to init with $want_paging paging, $virt distinct virtual$([ "$phys" = 1 ] && echo " and $pcount physical") addresses: $shown"
	fi
}

# kaslr_fixed ID LABEL IMAGE APPEND STUB-PATTERN PAGING: one boot at the link address.
kaslr_fixed() {
	kaslr_boot "$1" microvm "$3" "$4"
	[ -n "$where" ] || return
	if [ "${where%%-*}" = "ffffffff81000000 01000000" ] && tr -d '\r' < "$log" | grep -Eq "$5" &&
	   [ "$paging" = "$6" ]; then
		pass "kaslr $2: init reached, the kernel at its link address ($where), $paging paging"
	else
		fail "kaslr $2: the kernel at its link address with $6 paging, and the stub says '$5': $where, $paging"
		log_tail "$log"
	fi
}

# kaslr_high LABEL: at least one of the boots counted in $high ran above 4 GiB.
kaslr_high() {
	if [ "$high" -gt 0 ]; then
		pass "kaslr $1: $high of 10 boots in 6 GiB ran above 4 GiB"
	else
		fail "kaslr $1: none of 10 boots in 6 GiB ran above 4 GiB (half its RAM is there)"
	fi
}

# no_high IMAGE OUT: IMAGE with XLF_CAN_BE_LOADED_ABOVE_4G cleared in the
# setup header the stub hands on (pvhstub_info.setup_hdr: 56 bytes into the
# info block, "PVHi"; xloadflags is at 0x236 - 0x1f1 there).
no_high() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
img = bytearray(open(sys.argv[1], "rb").read())
at = img.find(struct.pack("<II", 0x69485650, 3))
assert at > 0, "no pvhstub_info v3"
x = at + 56 + 0x236 - 0x1f1
flags, = struct.unpack_from("<H", img, x)
assert flags & 2, "xloadflags 0x%x lacks CAN_BE_LOADED_ABOVE_4G" % flags
struct.pack_into("<H", img, x, flags & ~2)
open(sys.argv[2], "wb").write(img)
PY
}

if [ ! -s "$src" ]; then
	fail "kaslr: $src is missing (run scripts/fetch-kernels.sh)"
else
	"$obj/pvhstub" wrap --decompress "$src" -o "$out/kaslr-virt.pvh" &&
	"$obj/pvhstub" wrap --decompress --kaslr full "$src" -o "$out/kaslr-full.pvh" &&
	"$obj/pvhstub" wrap --decompress --no-kaslr "$src" -o "$out/kaslr-off.pvh" &&
	no_high "$out/kaslr-full.pvh" "$out/kaslr-low.pvh" &&
	"$obj/pvhstub" wrap "$src" -o "$out/kaslr-bz.pvh" || fail "kaslr: wrapping $src"
	high=0
	for machine in pc microvm; do
		kaslr_five virt "--decompress (virtual, the default)" "$machine" "$out/kaslr-virt.pvh" \
			"pvhstub: .*, KASLR $KASLR_SOURCES, virtual \+0x[0-9a-f]+, physical 0x1000000\$" 0
		KASLR_MEM=6144 kaslr_five full "--decompress --kaslr full" "$machine" "$out/kaslr-full.pvh" \
			"pvhstub: .*, KASLR $KASLR_SOURCES, virtual \+0x[0-9a-f]+, physical 0x[0-9a-f]+\$" 1
	done
	kaslr_high "--kaslr full, $(cat "$src.package")"
	# Without XLF_CAN_BE_LOADED_ABOVE_4G: never above 4 GiB.
	high=0
	KASLR_MEM=6144 kaslr_five low "--kaslr full, xloadflags without CAN_BE_LOADED_ABOVE_4G" pc \
		"$out/kaslr-low.pvh" "pvhstub: .*, KASLR $KASLR_SOURCES, virtual \+0x[0-9a-f]+, physical 0x[0-9a-f]{1,8}\$" 1
	if [ "$high" = 0 ]; then
		pass "kaslr: a kernel without XLF_CAN_BE_LOADED_ABOVE_4G stays below 4 GiB in 5 boots in 6 GiB"
	else
		fail "kaslr: a kernel without XLF_CAN_BE_LOADED_ABOVE_4G ran above 4 GiB in $high of 5 boots"
	fi
	# No RDRAND or RDSEED, and real time (no -icount): the TSC, the i8254
	# and the boot data must still give distinct slots.
	KASLR_CPU='-cpu qemu64' kaslr_five qemu64 "--kaslr full, -cpu qemu64 (no RDRAND), real time" pc \
		"$out/kaslr-full.pvh" 'pvhstub: .*, KASLR TSC\+i8254\+boot data, virtual \+0x[0-9a-f]+, physical 0x[0-9a-f]+$' 1 4-level
	for machine in pc microvm; do
		kaslr_five bz "bzImage (the kernel's own)" "$machine" "$out/kaslr-bz.pvh" '' 1
	done
	src7="$PVHSTUB_CACHE/kernels/vmlinuz-cloud-sid"
	if [ ! -s "$src7" ]; then
		fail "kaslr: $src7 is missing (run scripts/fetch-kernels.sh)"
	elif "$obj/pvhstub" wrap --decompress "$src7" -o "$out/kaslr-virt7.pvh" &&
	     "$obj/pvhstub" wrap --decompress --kaslr full "$src7" -o "$out/kaslr-full7.pvh"; then
		kaslr_five virt7 "--decompress (virtual), $(cat "$src7.package")" pc "$out/kaslr-virt7.pvh" \
			"pvhstub: .*, KASLR $KASLR_SOURCES, virtual \+0x[0-9a-f]+, physical 0x1000000\$" 0
		high=0
		for machine in pc microvm; do
			KASLR_MEM=6144 kaslr_five full7 "--decompress --kaslr full, $(cat "$src7.package")" \
				"$machine" "$out/kaslr-full7.pvh" \
				"pvhstub: .*, KASLR $KASLR_SOURCES, virtual \+0x[0-9a-f]+, physical 0x[0-9a-f]+\$" 1
		done
		kaslr_high "--kaslr full, $(cat "$src7.package")"
	else
		fail "kaslr: wrapping $src7 with --decompress"
	fi
	kaslr_fixed nokaslr "nokaslr no5lvl on the command line" "$out/kaslr-virt.pvh" "nokaslr no5lvl" \
		'pvhstub: .*64-bit entry 0x1000000, KASLR off \(nokaslr\)$' 4-level
	kaslr_fixed off "wrap --no-kaslr" "$out/kaslr-off.pvh" '' \
		'pvhstub: .*64-bit entry 0x1000000 \(5-level paging\)$' 5-level
fi

# A kernel without a relocation table (our tiny one: CONFIG_RANDOMIZE_BASE
# off): one warning, at wrap and at boot, and init at the fixed address.
tiny="$(tiny_dir)/vmlinuz-tiny-x86_64-reloc"
if [ ! -s "$tiny" ]; then
	fail "kaslr: $tiny is missing (run tests/kernels/build-tiny.sh)"
elif ! "$obj/pvhstub" wrap --decompress "$tiny" -o "$out/kaslr-tiny.pvh" 2> "$out/kaslr-tiny.err" ||
     ! grep -q 'warning: the kernel has no relocation table' "$out/kaslr-tiny.err"; then
	fail "kaslr: wrapping a kernel without relocations warns: $(cat "$out/kaslr-tiny.err")"
else
	log="$out/kaslr-tiny.log"
	qemu_boot "$log" 120 -M pc -m 512 -icount shift=0,sleep=off -kernel "$out/kaslr-tiny.pvh" \
		-initrd "$out/initrd.cpio" -append "console=ttyS0 panic=-1"
	warnings=$(tr -d '\r' < "$log" | grep -c 'pvhstub: warning: no KASLR: the wrap kept no relocation table for this kernel; it runs at 0x1000000')
	if [ "$warnings" = 1 ] && tr -d '\r' < "$log" | grep -q 'pvhstub: start_info .* 64-bit entry 0x1000000$' &&
	   grep -q '^PVHSTUB-INIT: reached init' "$log"; then
		pass "kaslr: a kernel without relocations warns once and boots to init at 0x1000000"
	else
		fail "kaslr: a kernel without relocations warns once ($warnings) and boots to init at 0x1000000"
		log_tail "$log"
	fi
fi
