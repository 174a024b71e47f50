#!/bin/sh
# The wrap tool: good images wrap into loader-friendly, reproducible ELF;
# bad images get a clear message, a non-zero exit and no output file.
#   tests/tool/run.sh BUILD_DIR
set -u
obj=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
tool="$obj/pvhstub"
. "$top/tests/lib.sh"
rm -rf "$obj/tests/tool"
suite tool
work=$out
need python3 readelf cmp || exit 1

mk() { out=$1; shift; python3 "$top/tests/tool/mkbzimage.py" "$work/$out" "$@"; }

# bad NAME "EXPECTED MESSAGE PART" [mkbzimage args...]
bad() {
	name=$1 want=$2
	shift 2
	mk "$name.in" "$@"
	echo keep > "$work/$name.keep"
	"$tool" wrap "$work/$name.in" -o "$work/$name.out" > "$work/$name.err" 2>&1
	rc=$?
	"$tool" wrap "$work/$name.in" -o "$work/$name.keep" > /dev/null 2>&1
	if [ "$rc" = 0 ]; then
		fail "bad image '$name': wrap succeeded"
	elif ! grep -qF -- "$want" "$work/$name.err"; then
		fail "bad image '$name': message lacks '$want': $(cat "$work/$name.err")"
	elif [ -e "$work/$name.out" ] || ls "$work" | grep -q "^$name.out.tmp"; then
		fail "bad image '$name': an output file was left behind"
	elif [ "$(cat "$work/$name.keep")" != keep ]; then
		fail "bad image '$name': an existing output file was clobbered"
	else
		pass "bad image '$name' is refused: $(cat "$work/$name.err")"
	fi
}

bad empty "no 'HdrS' signature at offset 0x202 (file too short)" truncate=0
bad short "file too short" truncate=0x204
bad no-hdrs "not a bzImage: no 'HdrS'" header=0
bad gzip "gzip data, not a bzImage" 'magic=\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03xxxxxx' header=0
bad elf "an ELF file, but not an x86-64 (ELF64) or i386 (ELF32) vmlinux" 'magic=\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00' header=0
bad zstd "zstd data" 'magic=\x28\xb5\x2f\xfdxxxxxxxxxxxx' header=0
bad protocol-2.04 "boot protocol 2.04 is too old: pvhstub needs 2.05 or later (a relocatable kernel), or 2.10 for init_size and pref_address" version=0x204
bad protocol-2.09-fixed "boot protocol 2.09 has no pref_address or init_size, and this kernel is not relocatable (it decompresses to its CONFIG_PHYSICAL_START)" version=0x209 relocatable_kernel=0
bad protocol-2.07-align "boot protocol 2.07 has no pref_address or init_size, and this kernel is relocatable but its kernel_alignment is bad" version=0x207 kernel_alignment=0x300000
bad no-32bit-entry "code32_start is 0: the image has no 32-bit entry. It is a real-mode program (iPXE's .lkrn is one)" code32_start=0
bad zimage "a zImage" loadflags=0
bad setup-sects "setup_sects 200 puts the protected-mode code at 0x19200, past the end" setup_sects=200 truncate=0x1000
bad setup-sects-past-end "past the end of the" setup_sects=4 truncate=0xa00
bad truncated-pm "truncated: syssize says 65536 bytes" truncate=0x4000
bad truncated-by-16 "truncated: syssize says 65536 bytes of protected-mode code at 0xa00, the file has 65520" truncate=68080
bad syssize-zero "truncated: syssize says 0 bytes" syssize=0
bad payload-range "payload_offset 0xff00 + payload_length 0x1000 lie outside" payload_offset=0xff00
bad alignment "kernel_alignment 0x3000 is not a power of two" kernel_alignment=0x3000
bad init-size "init_size 0x1000 is smaller than the protected-mode code" init_size=0x1000
bad header-end "setup header ends at 0x210: outside [0x264, 0x290]" jump=0x0eeb
# Found by fuzzing: "HdrS" in a file that ends inside the header.
bad header-cut "truncated: the setup header ends at 0x268, past the end of the 528-byte file" truncate=0x210
bad window-4g "does not fit below 4 GiB" pref_address=0xfff00000

# A 32-bit kernel asked for the 64-bit handoff.
mk k32.in xloadflags=0
if "$tool" wrap --handoff 64 "$work/k32.in" -o "$work/k32.out" 2>"$work/k32.err" ||
   ! grep -q 'the 64-bit handoff needs a kernel with a 64-bit entry (XLF_KERNEL_64)' "$work/k32.err" ||
   [ -e "$work/k32.out" ]; then
	fail "a 32-bit kernel is refused the 64-bit handoff: $(cat "$work/k32.err")"
else
	pass "a 32-bit kernel is refused the 64-bit handoff: $(cat "$work/k32.err")"
fi
if "$tool" wrap --handoff 16 "$work/k32.in" -o "$work/k32.out" 2>/dev/null; then
	fail "--handoff takes only 32 or 64"
else
	pass "--handoff takes only 32 or 64"
fi

# Kernels the first version refused.
good() { # label "readelf -lW pattern" wrap-args...
	label=$1 want=$2
	shift 2
	if "$tool" wrap "$@" > "$work/good.err" 2>&1 && readelf -lW "$work/g.out" | grep -Eq "$want"; then
		pass "$label"
	else
		fail "$label: $(cat "$work/good.err") $(readelf -lW "$work/g.out" 2>&1 | grep LOAD)"
	fi
}
mk norel.in relocatable_kernel=0
good "a non-relocatable kernel is placed at its pref_address" 'LOAD +0x[0-9a-f]+ 0x0+1000000 0x0+1000000 0x010000 0x800000 ' \
	"$work/norel.in" -o "$work/g.out"
# Boot protocols 2.05 to 2.09, relocatable: loaded at 1 MiB, the window
# derived (1 MiB up to the 2 MiB alignment, 8 times the 64 KiB of code,
# 16 MiB), the stub moved above it, and the wrap says it is a margin.
for v in 205 209; do
	mk "old$v.in" version=0x$v
	good "boot protocol 2.${v#2} (relocatable) is loaded at 1 MiB with a derived window" \
		'LOAD +0x[0-9a-f]+ 0x0+100000 0x0+100000 0x0?10000 0x1180000 ' "$work/old$v.in" -o "$work/g.out"
	if grep -q "warning: boot protocol 2.${v#2} has no init_size: the image reserves \[0x100000, 0x1280000) for the kernel's decompression, a margin of 8 times its code plus 16 MiB" "$work/good.err" &&
	   readelf -lW "$work/g.out" | grep -Eq 'LOAD +0x[0-9a-f]+ 0x0+1280000 0x0+1280000 '; then
		pass "boot protocol 2.${v#2}: the wrap names the derived window, and the stub sits above it"
	else
		fail "boot protocol 2.${v#2}: the wrap names the derived window, and the stub sits above it: $(cat "$work/good.err")"
	fi
done

mk round8.in truncate=68088
good "a syssize that rounds 8 bytes past the end of the file is accepted; the file's bytes are loaded" \
	'LOAD +0x[0-9a-f]+ 0x0+1000000 0x0+1000000 0x00fff8 0x800000 ' "$work/round8.in" -o "$work/g.out"
mk k32.in xloadflags=0
good "a kernel without XLF_KERNEL_64 gets an ELF32 image" 'LOAD' "$work/k32.in" -o "$work/g.out"
readelf -hW "$work/g.out" | grep -q 'Class: *ELF32' && readelf -hW "$work/g.out" | grep -q 'Machine: *Intel 80386' &&
	readelf -nW "$work/g.out" | grep -q 'Xen.*0x00000012' &&
	pass "the 32-bit kernel's image is ELF32 EM_386 with the PHYS32_ENTRY note" ||
	fail "the 32-bit kernel's image is ELF32 EM_386 with the PHYS32_ENTRY note: $(readelf -hW "$work/g.out")"
mk e64.in
good "--elf32 writes an ELF32 image for a 64-bit kernel" 'LOAD' --elf32 --handoff 64 "$work/e64.in" -o "$work/g.out"
if readelf -hW "$work/g.out" | grep -q 'Class: *ELF32' && "$tool" inspect "$work/g.out" > "$work/i32.out" &&
   grep -q '^  Firecracker *no  (takes ELF64 only)' "$work/i32.out" &&
   grep -q '^  qemu-system-i386 *no  (a 64-bit kernel, and its CPUs have no long mode)' "$work/i32.out" && grep -q '^handoff: *64-bit' "$work/i32.out" &&
   "$tool" xlconfig "$work/g.out" -o "$work/i32.cfg"; then
	pass "inspect and xlconfig read an ELF32 image; inspect says which loaders take it (not qemu-system-i386: a 64-bit kernel)"
else
	fail "inspect and xlconfig read an ELF32 image: $(cat "$work/i32.out")"
fi
python3 "$top/tests/tool/mkpayload.py" raw "$work/vmlinux32.raw" i386=1
good "an i386 vmlinux is entered at its 32-bit entry" 'LOAD +0x[0-9a-f]+ 0x01000000 0x01000000 0x04003 0x14003 ' \
	"$work/vmlinux32.raw" -o "$work/g.out"
"$tool" inspect "$work/g.out" | grep -q '^handoff: *32-bit, to 0x1000000' &&
	pass "the i386 vmlinux's image hands off in 32-bit mode to e_entry" ||
	fail "the i386 vmlinux's image hands off in 32-bit mode to e_entry: $("$tool" inspect "$work/g.out")"
python3 "$top/tests/tool/mkpayload.py" gzip "$work/p32.gzip" i386=1 && mk bz32.in payload="$work/p32.gzip" xloadflags=0
good "--decompress on an i386 bzImage wraps its ELF32 vmlinux" 'LOAD +0x[0-9a-f]+ 0x01000000 0x01000000 0x04003 0x14003 ' \
	--decompress "$work/bz32.in" -o "$work/g.out"
if "$tool" wrap --decompress --handoff 64 "$work/bz32.in" -o "$work/g64.out" 2> "$work/g64.err" ||
   ! grep -q 'an i386 vmlinux has no 64-bit entry' "$work/g64.err"; then
	fail "an i386 vmlinux is refused the 64-bit handoff: $(cat "$work/g64.err")"
else
	pass "an i386 vmlinux is refused the 64-bit handoff: $(cat "$work/g64.err")"
fi
# A payload that wants the stub's 1 MiB (memtest86+ does): the stub moves
# right above its window, relocated; its entry, its note and every absolute
# address in it move by the same amount.
mk at1mib.in relocatable_kernel=0 pref_address=0x100000
if "$tool" wrap "$work/at1mib.in" -o "$work/at1mib.pvh" 2> "$work/at1mib.err" &&
   python3 - "$work/at1mib.pvh" "$obj/stub.elf" <<'PY'
import struct, sys
img, stub = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
ph = [struct.unpack_from("<IIQQQQQQ", img, 64 + 56 * i) for i in range(struct.unpack_from("<H", img, 56)[0])]
loads = [p for p in ph if p[0] == 1]
stub_ph, payload = loads[0], loads[1]
entry = struct.unpack_from("<Q", img, 24)[0]
# The stub's link address and entry, from the stub itself.
s_entry = struct.unpack_from("<I", stub, 24)[0]
s_base = [struct.unpack_from("<IIIIIIII", stub, struct.unpack_from("<I", stub, 28)[0] + 32 * i)
          for i in range(struct.unpack_from("<H", stub, 44)[0])]
s_base = [p for p in s_base if p[0] == 1][0][3]
delta = stub_ph[4] - s_base
note = [p for p in ph if p[0] == 4][0]
desc = struct.unpack_from("<I", img, note[2] + 12 + 4)[0]          # "Xen\0", then the entry
ok = (payload[4] == 0x100000 and stub_ph[4] == 0x100000 + 0x800000 and delta > 0
      and entry == s_entry + delta and desc == entry and note[4] >= stub_ph[4])
print("stub at 0x%x (moved by 0x%x), entry 0x%x, note 0x%x" % (stub_ph[4], delta, entry, desc))
sys.exit(0 if ok else 1)
PY
then
	pass "a non-relocatable kernel at 1 MiB: the stub moves above its window, entry and note with it"
else
	fail "a non-relocatable kernel at 1 MiB: the stub moves above its window: $(cat "$work/at1mib.err")"
fi
objcopy -R .rel.text -R .rel.rodata -R .rel.notes "$obj/stub.elf" "$work/stub-norel.elf"
if "$tool" wrap --stub "$work/stub-norel.elf" "$work/at1mib.in" -o "$work/norel.pvh" 2> "$work/norel.err" ||
   ! grep -q 'overlaps the stub at \[0x100000, .*has no relocations to move it with' "$work/norel.err"; then
	fail "a stub without its relocations stays, and the kernel at 1 MiB is refused: $(cat "$work/norel.err")"
else
	pass "a stub without its relocations stays, and the kernel at 1 MiB is refused: $(cat "$work/norel.err")"
fi

# inspect describes what wrap refuses, and says why.
mk old.in version=0x207 relocatable_kernel=0
# iPXE's 2.07 header runs on into text where payload_offset would be, and
# has no 32-bit entry (code32_start 0).
mk ipxe-like.in version=0x207 payload_offset=0x2e302e31 payload_length=0x69672b30 code32_start=0 \
	relocatable_kernel=0
mk memtest-like.in relocatable_kernel=0 pref_address=0x100000 init_size=0xfff00000
for k in old ipxe-like memtest-like; do
	if "$tool" inspect "$work/$k.in" > "$work/$k.inspect" 2>&1 && grep -q '^kind: *bzImage' "$work/$k.inspect" &&
	   grep -q '^pvhstub wrap: *no: ' "$work/$k.inspect"; then
		pass "inspect describes a kernel wrap refuses ($k): $(grep '^pvhstub wrap' "$work/$k.inspect")"
	else
		fail "inspect describes a kernel wrap refuses ($k): $(cat "$work/$k.inspect")"
	fi
done
mk good.bz
"$tool" inspect "$work/good.bz" 2>&1 | grep -q '^pvhstub wrap: *yes: 32-bit handoff to 0x1000000, window \[0x1000000, 0x1800000), ELF64' &&
	pass "inspect says where wrap would put a good kernel" ||
	fail "inspect says where wrap would put a good kernel: $("$tool" inspect "$work/good.bz" 2>&1)"

# A missing input, output into a missing folder, output over the input.
if "$tool" wrap "$work/nonexistent" -o "$work/x.out" 2>"$work/missing.err" ||
   ! grep -q 'No such file' "$work/missing.err" || [ -e "$work/x.out" ]; then
	fail "a missing input is refused"
else
	pass "a missing input is refused: $(cat "$work/missing.err")"
fi
mk good.bz
if "$tool" wrap "$work/good.bz" -o "$work/no/such/dir/x.pvh" 2>"$work/dir.err"; then
	fail "output into a missing folder is refused"
else
	pass "output into a missing folder is refused: $(cat "$work/dir.err")"
fi
cp "$work/good.bz" "$work/same.bz"
if "$tool" wrap "$work/same.bz" -o "$work/same.bz" 2>"$work/same.err" || ! cmp -s "$work/good.bz" "$work/same.bz"; then
	fail "wrapping a file onto itself is refused"
else
	pass "wrapping a file onto itself is refused: $(cat "$work/same.err")"
fi
if "$tool" frobnicate >/dev/null 2>&1 || "$tool" wrap >/dev/null 2>&1; then
	fail "usage errors exit non-zero"
else
	pass "usage errors exit non-zero"
fi

# One argv parser for every command: operands and options in any order,
# POSIXLY_CORRECT or not; --help everywhere; clear usage errors.
argv_ok() { # label command...
	label=$1
	shift
	if "$@" > "$work/argv.out" 2> "$work/argv.err"; then
		pass "argv: $label"
	else
		fail "argv: $label: $(cat "$work/argv.err")"
	fi
}
argv_usage() { # label "expected message" command...
	label=$1 want=$2
	shift 2
	"$@" > "$work/argv.out" 2> "$work/argv.err"
	rc=$?
	if [ "$rc" = 2 ] && grep -qF -- "$want" "$work/argv.err"; then
		pass "argv: $label is a usage error: $(head -n 1 "$work/argv.err")"
	else
		fail "argv: $label is a usage error (exit 2, '$want'): exit $rc, $(cat "$work/argv.err")"
	fi
}
python3 "$top/tests/tool/mkpayload.py" xz "$work/argv.payload" && mk argv.bz payload="$work/argv.payload"
argv_ok "extract -o OUT KERNEL" "$tool" extract -o "$work/argv.vmlinux" "$work/argv.bz"
argv_ok "wrap -o OUT --handoff 64 KERNEL" "$tool" wrap -o "$work/argv1.pvh" --handoff 64 "$work/argv.bz"
argv_ok "wrap KERNEL --output=OUT --handoff=64 under POSIXLY_CORRECT" \
	env POSIXLY_CORRECT=1 "$tool" wrap "$work/argv.bz" --output="$work/argv2.pvh" --handoff=64
if cmp -s "$work/argv1.pvh" "$work/argv2.pvh"; then
	pass "argv: both orders make the same image"
else
	fail "argv: both orders make the same image"
fi
for cmd in wrap inspect extract xlconfig; do
	if "$tool" "$cmd" --help > "$work/argv.out" 2>&1 && grep -q "^Usage: pvhstub $cmd" "$work/argv.out"; then
		pass "argv: $cmd --help prints the usage and exits 0"
	else
		fail "argv: $cmd --help prints the usage and exits 0"
	fi
done
argv_usage "an unknown option" "pvhstub wrap: unknown option '--frob'" "$tool" wrap --frob "$work/argv.bz" -o "$work/x.pvh"
argv_usage "a second operand" "pvhstub extract: unexpected argument 'extra'" "$tool" extract "$work/argv.bz" extra -o "$work/x"
argv_usage "a missing -o" "pvhstub extract: need BZIMAGE and -o OUT" "$tool" extract "$work/argv.bz"
argv_usage "an option without its value" "pvhstub xlconfig: this option needs a value: '--memory'" "$tool" xlconfig "$work/argv1.pvh" -o "$work/x.cfg" --memory
argv_usage "an operand after --" "pvhstub wrap: unexpected argument '-o'" "$tool" wrap -- "$work/argv.bz" -o "$work/x.pvh"

# A good image: the ELF every loader accepts.
check_image() { # label image
	label=$1 img=$2
	hdr=$(readelf -hW "$img")
	phdrs=$(readelf -lW "$img")
	if ! echo "$hdr" | grep -q 'Class: *ELF64'; then
		fail "$label: not ELF64"
	elif ! echo "$hdr" | grep -q 'Flags: *0x0$'; then
		fail "$label: e_flags is not 0"
	elif [ "$(echo "$phdrs" | grep -c '^ *NOTE')" != 1 ]; then
		fail "$label: not exactly one PT_NOTE"
	elif ! readelf -nW "$img" | grep -q 'Xen *0x00000008.*0x00000012'; then
		fail "$label: no 8-byte XEN_ELFNOTE_PHYS32_ENTRY (18) note"
	elif readelf -nW "$img" | grep -q 'GNU'; then
		fail "$label: carries a GNU note"
	elif [ "$(dd if="$img" bs=1 skip=514 count=4 2>/dev/null)" = HdrS ]; then
		fail "$label: 'HdrS' at 0x202"
	elif [ "$(python3 -c "import struct,sys;d=open(sys.argv[1],'rb').read(8192);print(any(struct.unpack_from('<I',d,i)[0] in (0x1badb002,0xe85250d6) for i in range(0,len(d)-3,4)))" "$img")" != False ]; then
		fail "$label: multiboot magic in the first 8 KiB"
	else
		pass "$label: ELF64, e_flags 0, one PT_NOTE with the PHYS32_ENTRY note, no HdrS or multiboot magic"
	fi
}

if "$tool" wrap "$work/good.bz" -o "$work/good.pvh" 2>"$work/good.err"; then
	pass "a well-formed synthetic bzImage wraps"
	check_image "synthetic image" "$work/good.pvh"
	# The payload segment reserves the window: pref 16 MiB + init_size 8 MiB.
	if readelf -lW "$work/good.pvh" | grep -Eq 'LOAD +0x[0-9a-f]+ 0x0+1000000 0x0+1000000 0x010000 0x800000 '; then
		pass "the payload PT_LOAD sits at pref_address and reserves init_size"
	else
		fail "the payload PT_LOAD sits at pref_address and reserves init_size"
		readelf -lW "$work/good.pvh"
	fi
	"$tool" wrap "$work/good.bz" -o "$work/good2.pvh"
	"$tool" wrap --handoff 64 "$work/good.bz" -o "$work/good64.pvh"
	if [ "$(readelf -hW "$work/good64.pvh" | grep 'Entry point')" = "$(readelf -hW "$work/good.pvh" | grep 'Entry point')" ] &&
	   ! cmp -s "$work/good.pvh" "$work/good64.pvh"; then
		pass "--handoff 64 makes a different image with the same PVH entry"
	else
		fail "--handoff 64 makes a different image with the same PVH entry"
	fi
	if cmp -s "$work/good.pvh" "$work/good2.pvh"; then
		pass "wrapping is reproducible"
	else
		fail "wrapping is reproducible"
	fi
else
	fail "a well-formed synthetic bzImage wraps: $(cat "$work/good.err")"
fi

# make PAYLOAD= gives the very image pvhstub wrap gives.
if make -C "$top" --no-print-directory O="$obj" PAYLOAD="$work/good.bz" >"$work/make.log" 2>&1 &&
   cmp -s "$obj/good.bz.pvh" "$work/good.pvh"; then
	pass "make PAYLOAD= and pvhstub wrap produce identical images"
else
	fail "make PAYLOAD= and pvhstub wrap produce identical images"
	cat "$work/make.log"
fi
rm -f "$obj/good.bz.pvh"

# A bad PAYLOAD= is a clear make error, and leaves nothing.
mk bad.bz version=0x204
if make -C "$top" --no-print-directory O="$obj" PAYLOAD="$work/bad.bz" >"$work/make-bad.log" 2>&1; then
	fail "make PAYLOAD=<bad image> fails"
elif ! grep -q 'boot protocol 2.04 is too old' "$work/make-bad.log" || [ -e "$obj/bad.bz.pvh" ]; then
	fail "make PAYLOAD=<bad image> fails with the tool's message and no output"
	cat "$work/make-bad.log"
else
	pass "make PAYLOAD=<bad image> fails: $(grep 'too old' "$work/make-bad.log")"
fi

# --decompress: every format Linux uses, through its library; the vmlinux's
# segment must arrive byte for byte.
python3 "$top/tests/tool/mkpayload.py" raw "$work/vmlinux.raw"
for f in gzip xz lzma bzip2 zstd lz4 lzo; do
	python3 "$top/tests/tool/mkpayload.py" "$f" "$work/p.$f" && mk "bz.$f" payload="$work/p.$f"
	if "$tool" wrap --decompress "$work/bz.$f" -o "$work/d.$f.pvh" 2>"$work/d.$f.err" &&
	   python3 - "$work/d.$f.pvh" "$work/vmlinux.raw" <<'PY'
import struct, sys
img, elf = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
phoff, phnum = struct.unpack_from("<Q", img, 0x20)[0], struct.unpack_from("<H", img, 0x38)[0]
segs = [struct.unpack_from("<IIQQQQQQ", img, phoff + 56 * i) for i in range(phnum)]
want = elf[0x1000:0x1000 + 0x4003]
sys.exit(0 if any(t == 1 and pa == 0x1000000 and img[off:off + fs] == want and ms == 0x14003
                  for t, _, off, _, pa, fs, ms, _ in segs) else 1)
PY
	then
		pass "--decompress: $f payload unpacks to the vmlinux, segment intact"
	else
		fail "--decompress: $f payload unpacks to the vmlinux, segment intact: $(cat "$work/d.$f.err")"
	fi
done

# KASLR for --decompress: the relocation table Linux appends to the vmlinux
# is kept, counted and placed after the kernel; --kaslr picks the mode.
python3 "$top/tests/tool/mkpayload.py" gzip "$work/p.relocs" relocs=good && mk bz.relocs payload="$work/p.relocs"
kaslr_case() { # label "inspect pattern" wrap-args...
	label=$1 want=$2
	shift 2
	rm -f "$work/k.pvh"
	if "$tool" wrap "$@" -o "$work/k.pvh" > "$work/k.err" 2>&1 &&
	   "$tool" inspect "$work/k.pvh" > "$work/k.txt" 2>&1 && grep -Eq -- "$want" "$work/k.txt"; then
		pass "$label"
	else
		fail "$label: $(cat "$work/k.err") $(grep -E 'KASLR|relocations' "$work/k.txt")"
	fi
}
kaslr_case "--decompress keeps the kernel's relocation table, after the kernel" \
	'^relocations: +5 \(64-bit 2, 32-bit 2, inverse 32-bit 1\), a [0-9]+-byte table at 0x1015000$' \
	--decompress "$work/bz.relocs"
kaslr_case "inspect names the kept table's source: Linux's 3-list format" \
	'^relocs format: +3 lists \(64-bit, inverse 32-bit, 32-bit: Linux up to 6.14\)$' --decompress "$work/bz.relocs"
# Linux 6.15 and later: no inverse list, two zero words.
python3 "$top/tests/tool/mkpayload.py" gzip "$work/p.relocs2" relocs=two && mk bz.relocs2 payload="$work/p.relocs2"
kaslr_case "--decompress reads the 2-list table of Linux 6.15 and later" \
	'^relocations: +4 \(64-bit 2, 32-bit 2, inverse 32-bit 0\), a [0-9]+-byte table at 0x1015000$' \
	--decompress "$work/bz.relocs2"
kaslr_case "inspect names the kept table's source: the 2-list format" \
	'^relocs format: +2 lists \(64-bit, 32-bit: Linux 6.15 and later\)$' --decompress --kaslr full "$work/bz.relocs2"
python3 "$top/tests/tool/mkpayload.py" gzip "$work/p.relocs3pc" relocs=good percpu=1 && mk bz.relocs3pc payload="$work/p.relocs3pc"
kaslr_case "--decompress reads a 3-list table behind a zero-based per-CPU segment" \
	'^relocs format: +3 lists' --decompress "$work/bz.relocs3pc"
kaslr_case "--decompress randomizes the virtual offset by default" \
	'^KASLR: +by the stub: virtual offset \(nokaslr' --decompress "$work/bz.relocs"
kaslr_case "--kaslr virtual is the default" \
	'^KASLR: +by the stub: virtual offset \(nokaslr' --decompress --kaslr virtual "$work/bz.relocs"
kaslr_case "--kaslr full adds the physical slot" \
	'^KASLR: +by the stub: virtual offset and physical slot \(nokaslr' --decompress --kaslr full "$work/bz.relocs"
kaslr_case "a vmlinux without section headers is moved whole" \
	'^physical move: +all of the kernel.s [0-9]+ bytes$' --decompress --kaslr full "$work/bz.relocs"
kaslr_case "a kernel that may be loaded above 4 GiB gets slots up to 512 GiB" \
	'^physical slots: +2 MiB-aligned, in e820 RAM from 0x1000000 up to 512 GiB \(CAN_BE_LOADED_ABOVE_4G\)$' \
	--decompress --kaslr full "$work/bz.relocs"
kaslr_case "--no-kaslr keeps no table" '^KASLR: +off \(wrapped with --kaslr off\)' \
	--decompress --no-kaslr "$work/bz.relocs"
kaslr_case "a bzImage is left to randomize itself" "^KASLR: +the kernel's own decompressor" "$work/bz.relocs"
kaslr_case "a kernel without a relocation table gets no KASLR, and inspect says so" \
	'^KASLR: +none: the kernel has no relocation table kept; it runs at 0x1000000' --decompress "$work/bz.gzip"
grep -q "warning: the kernel has no relocation table (CONFIG_RANDOMIZE_BASE is off): no KASLR; the kernel runs at 0x1000000" "$work/k.err" &&
	pass "wrap warns that a kernel without a relocation table gets no KASLR" ||
	fail "wrap warns that a kernel without a relocation table gets no KASLR: $(cat "$work/k.err")"
# The table's bytes: header, then 16-bit steps between sorted offsets.
"$tool" wrap --decompress "$work/bz.relocs" -o "$work/k.pvh" 2>/dev/null
if python3 - "$work/k.pvh" <<'PY'
import struct, sys
img = open(sys.argv[1], "rb").read()
phoff, phnum = struct.unpack_from("<Q", img, 0x20)[0], struct.unpack_from("<H", img, 0x38)[0]
for i in range(phnum):
    t, _, off, _, pa, fs, ms, _ = struct.unpack_from("<IIQQQQQQ", img, phoff + 56 * i)
    if t == 1 and pa == 0x1015000:
        magic, c64, c32, cinv, size, _ = struct.unpack_from("<6I", img, off)
        stream = img[off + 24:off + 24 + size]
        sys.exit(0 if (magic, c64, c32, cinv) == (0x72485650, 2, 2, 1) and
                 stream == bytes([0x10, 0, 0xe8, 0x3f, 0x20, 0, 0xdf, 0x3f, 0, 1]) and fs == ms == 24 + size
                 else 1)
sys.exit(1)
PY
then
	pass "the kept table holds the sites as sorted 16-bit steps from the kernel's start"
else
	fail "the kept table holds the sites as sorted 16-bit steps from the kernel's start"
fi
bad_table() { # name "expected" [mkpayload options; default relocs=NAME]
	name=$1 want=$2
	shift 2
	[ $# -gt 0 ] || set -- relocs="$name"
	python3 "$top/tests/tool/mkpayload.py" gzip "$work/p.r$name" "$@" && mk "bz.r$name" payload="$work/p.r$name"
	set -- "$name" "$want"
	rm -f "$work/r.pvh"
	if "$tool" wrap --decompress "$work/bz.r$1" -o "$work/r.pvh" 2> "$work/r.err" ||
	   ! grep -qF -- "$2" "$work/r.err" || [ -e "$work/r.pvh" ]; then
		fail "--decompress refuses a relocation table ($1) with '$2' and no output: $(cat "$work/r.err")"
	else
		pass "--decompress refuses a relocation table ($1): $(cat "$work/r.err")"
	fi
}
bad_table outside "32-bit relocation at 0xffffffff81014000 lies outside the kernel [0xffffffff81000000, 0xffffffff81014003)"
bad_table noend "the 20 bytes after the vmlinux are no relocation table: 0 zero words"
bad_table extra "the 36 bytes after the vmlinux are no relocation table: 3 zero words, the first word not zero"
bad_table four "the 44 bytes after the vmlinux are no relocation table: 4 zero words"
bad_table firstword "the 32 bytes after the vmlinux are no relocation table: 2 zero words, the first word not zero"
bad_table odd "the vmlinux is followed by 33 bytes, which are not a relocation table"
# A 2-list table behind a vmlinux with a zero-based per-CPU segment lacks
# the list that segment's sites need.
bad_table two-percpu "the relocation table has 2 lists, but the vmlinux has a zero-based per-CPU segment" \
	relocs=two percpu=1
# The options, checked.
for args in "--kaslr full $work/bz.relocs:applies to a pre-decompressed kernel" \
	    "--decompress --kaslr sometimes $work/bz.relocs:--kaslr takes virtual, full or off, not 'sometimes'" \
	    "--decompress --kaslr full --no-kaslr $work/bz.relocs:--kaslr and --no-kaslr together"; do
	# shellcheck disable=SC2086
	if "$tool" wrap ${args%%:*} -o "$work/o.pvh" 2> "$work/o.err" || ! grep -qF -- "${args#*:}" "$work/o.err" ||
	   [ -e "$work/o.pvh" ]; then
		fail "wrap $(echo "${args%%:*}" | sed "s|$work/||") is refused with '${args#*:}': $(cat "$work/o.err")"
	else
		pass "wrap $(echo "${args%%:*}" | sed "s|$work/||") is refused: $(cat "$work/o.err")"
	fi
done

# bad NAME_AND_PAYLOAD_ARGS... : a compressed payload that must be refused.
bad_payload() { # name "expected" format mkpayload-options...
	name=$1 want=$2 fmt=$3
	shift 3
	python3 "$top/tests/tool/mkpayload.py" "$fmt" "$work/$name.payload" "$@"
	mk "$name.bz" payload="$work/$name.payload"
	if "$tool" wrap --decompress "$work/$name.bz" -o "$work/$name.pvh" 2>"$work/$name.err"; then
		fail "--decompress refuses $name: it succeeded"
	elif ! grep -qF -- "$want" "$work/$name.err" || [ -e "$work/$name.pvh" ]; then
		fail "--decompress refuses $name with '$want' and no output: $(cat "$work/$name.err")"
	else
		pass "--decompress refuses $name: $(cat "$work/$name.err")"
	fi
}
for f in gzip xz bzip2 zstd lzo; do
	bad_payload "corrupt-$f" "the payload is corrupt" "$f" corrupt=1
done
bad_payload bomb-lying "decompresses to more than the 1048576 bytes its size field claims" gzip zeros=64 claim=0x100000
bad_payload bomb-claimed "the limit is 512 MiB (a decompression bomb?)" gzip zeros=1 claim=0x40000000
bad_payload short-claim "decompresses to more than the 16 bytes its size field claims" xz claim=0x10
bad_payload long-claim "xz payload decompressed to 20483 bytes, but the kernel says 30000" xz claim=30000
bad_payload bad-phdrs "the decompressed payload: bad program headers" gzip badphdr=1
# Found by fuzzing: a bzip2 stream cut short looped forever; an lzma header
# asking for a 4 GiB dictionary made liblzma allocate it.
bad_payload truncated-bzip2 "bzip2 decompression failed" bzip2 cut=60
bad_payload lzma-dictionary "lzma payload needs more than 256 MiB of memory to decompress" lzma dict=0xff000000
head -c 4096 /dev/urandom | tr '\000-\377' '\100-\177\100-\177\100-\177\100-\177' > "$work/noise.payload"
mk unknown.bz payload="$work/noise.payload"
if "$tool" wrap --decompress "$work/unknown.bz" -o "$work/unknown.pvh" 2>"$work/unknown.err" ||
   ! grep -q 'unknown compression format' "$work/unknown.err" || [ -e "$work/unknown.pvh" ]; then
	fail "--decompress refuses an unknown format: $(cat "$work/unknown.err")"
else
	pass "--decompress refuses an unknown format: $(cat "$work/unknown.err")"
fi
python3 "$top/tests/tool/mkpayload.py" raw "$work/vmlinux-odd.raw" misalign=1
if "$tool" wrap "$work/vmlinux-odd.raw" -o "$work/odd.pvh" 2>"$work/odd.err" &&
   readelf -lW "$work/odd.pvh" | grep -q 'LOAD .* 0x0000000001000000 0x0000000001000000 0x004003 0x014003'; then
	pass "a vmlinux with unaligned program headers wraps"
else
	fail "a vmlinux with unaligned program headers wraps: $(cat "$work/odd.err")"
fi
if "$tool" wrap --handoff 32 "$work/vmlinux.raw" -o "$work/v32.pvh" 2>"$work/v32.err" ||
   ! grep -q 'an x86-64 vmlinux has no 32-bit entry' "$work/v32.err"; then
	fail "a vmlinux is refused the 32-bit handoff: $(cat "$work/v32.err")"
else
	pass "a vmlinux is refused the 32-bit handoff: $(cat "$work/v32.err")"
fi
python3 "$top/tests/tool/mkpayload.py" raw "$work/vmlinux-badphdr.raw" badphdr=1
if "$tool" wrap "$work/vmlinux-badphdr.raw" -o "$work/vb.pvh" 2>"$work/vb.err" ||
   ! grep -q 'bad program headers' "$work/vb.err" || [ -e "$work/vb.pvh" ]; then
	fail "an ELF with bad program headers is refused: $(cat "$work/vb.err")"
else
	pass "an ELF with bad program headers is refused: $(cat "$work/vb.err")"
fi

# inspect and extract.
if "$tool" inspect "$work/d.gzip.pvh" > "$work/inspect.out" 2>&1 &&
   grep -q '^kind: *PVH image made by pvhstub wrap' "$work/inspect.out" &&
   grep -q '^handoff: *64-bit, to 0x1000000' "$work/inspect.out" &&
   grep -q '^version: *6.1.0-synthetic x$' "$work/inspect.out" &&
   grep -q '^  pvhstub the kernel version *"6.1.0-synthetic x"$' "$work/inspect.out" &&
   grep -q '^  Xen     PHYS32_ENTRY *0x100100$' "$work/inspect.out" &&
   grep -q '^  Xen PVH (xl, dom0) yes' "$work/inspect.out" &&
   "$tool" inspect "$work/bz.gzip" > "$work/inspect-bz.out" 2>&1 &&
   grep -q '^kind: *bzImage' "$work/inspect-bz.out" && grep -q '^payload: *gzip' "$work/inspect-bz.out" &&
   grep -q '^version: *6.1.0-synthetic x' "$work/inspect-bz.out" &&
   grep -q '^  Xen PVH (xl, dom0) no' "$work/inspect-bz.out"; then
	pass "inspect describes wrapped images and bzImages, their notes and loaders"
else
	fail "inspect describes wrapped images and bzImages, their notes and loaders"
	cat "$work/inspect.out" "$work/inspect-bz.out"
fi
if "$tool" inspect "$work/noise.payload" >/dev/null 2>&1; then
	fail "inspect refuses what is not a kernel"
else
	pass "inspect refuses what is not a kernel"
fi
if "$tool" extract "$work/bz.xz" -o "$work/extracted" && cmp -s "$work/extracted" "$work/vmlinux.raw"; then
	pass "extract gives back the vmlinux inside a bzImage"
else
	fail "extract gives back the vmlinux inside a bzImage"
fi

# pvhstub xlconfig: a correct config for a wrapped image, clear refusals.
if "$tool" xlconfig "$work/good.pvh" --name 'g"1' --ramdisk "$work/good.bz" --dir /guests \
	--cmdline 'a="b c" d\e' --vcpus 2 --on-crash preserve -o "$work/good.cfg" 2>"$work/xl.err" \
	--disk 'vdev=xvda,access=r,target=/srv/a "b".img' --vif 'ip=10.0.0.2' --vif bridge=xenbr0 &&
   grep -qx 'type = "pvh"' "$work/good.cfg" && grep -qx 'name = "g\\"1"' "$work/good.cfg" &&
   grep -qx 'kernel = "/guests/good.pvh"' "$work/good.cfg" && grep -qx 'ramdisk = "/guests/good.bz"' "$work/good.cfg" &&
   grep -qx 'cmdline = "a=\\"b c\\" d\\\\e"' "$work/good.cfg" && grep -qx 'vcpus = 2' "$work/good.cfg" &&
   grep -qx 'memory = 281' "$work/good.cfg" && grep -qx 'on_crash = "preserve"' "$work/good.cfg" &&
   grep -qx 'on_poweroff = "destroy"' "$work/good.cfg" &&
   grep -qx 'disk = \[ "vdev=xvda,access=r,target=/srv/a \\"b\\".img" \]' "$work/good.cfg" &&
   grep -qx 'vif = \[ "ip=10.0.0.2", "bridge=xenbr0" \]' "$work/good.cfg"; then
	pass "xlconfig writes a pvh config with escaped strings, disks, vifs and enough memory"
else
	fail "xlconfig writes a pvh config with escaped strings, disks, vifs and enough memory: $(cat "$work/xl.err")"
	cat "$work/good.cfg"
fi
xl_bad() { # label "expected message" args...
	label=$1 want=$2
	shift 2
	rm -f "$work/bad.cfg"
	if "$tool" xlconfig "$@" -o "$work/bad.cfg" 2>"$work/xlbad.err"; then
		fail "xlconfig refuses $label: it succeeded"
	elif ! grep -qF -- "$want" "$work/xlbad.err" || [ -e "$work/bad.cfg" ]; then
		fail "xlconfig refuses $label with '$want' and no output: $(cat "$work/xlbad.err")"
	else
		pass "xlconfig refuses $label: $(cat "$work/xlbad.err")"
	fi
}
xl_bad "too little memory" "--memory 16 MiB is too small: the kernel's window ends at 24 MiB" "$work/good.pvh" --memory 16
xl_bad "a plain bzImage" "not an image made by pvhstub wrap" "$work/good.bz"
xl_bad "an unknown action" "--on-crash takes destroy, restart, preserve, rename-restart, coredump-destroy or coredump-restart, not 'explode'" "$work/good.pvh" --on-crash explode
xl_bad "a missing ramdisk" "--ramdisk $work/nonexistent: No such file or directory" "$work/good.pvh" --ramdisk "$work/nonexistent"
xl_bad "an empty disk spec" "--disk: '' is not an xl spec" "$work/good.pvh" --disk ''
xl_bad "a vif spec of two lines" "--vif holds a control character (0x0a), which an xl config cannot carry" "$work/good.pvh" --vif "$(printf 'a\nb')"
xl_bad "nine vifs" "at most 8 --vif options" "$work/good.pvh" $(for i in 1 2 3 4 5 6 7 8 9; do echo --vif bridge=br$i; done)

# make help lists every target the Makefile declares phony.
help=$(make -C "$top" --no-print-directory O="$obj" help 2>&1)
missing=$(sed -n '/^\.PHONY:/,/[^\\]$/p' "$top/Makefile" | sed 's/^\.PHONY://; s/\\$//' | tr ' \t' '\n\n' |
	  grep . | while read -r t; do echo "$help" | grep -Eq "^  ([a-z-]+ )*$t( |$)" || echo "$t"; done)
if [ -z "$missing" ] && [ -n "$help" ]; then
	pass "make help lists every phony target"
else
	fail "make help lists every phony target: missing $(echo $missing)"
fi

# Crafted ELF files, every command under valgrind (tests/tool/crafts.sh).
if need valgrind && [ -s "$work/good.pvh" ] && [ -s "$work/vmlinux.raw" ]; then
	"$top/tests/tool/crafts.sh" "$obj" "$work/good.pvh" "$work/vmlinux.raw"
else
	fail "crafted ELF table: valgrind, or the good image and vmlinux it starts from, missing"
fi

# Real Debian kernels, when fetched.
for k in cloud generic; do
	src="$PVHSTUB_CACHE/kernels/vmlinuz-$k"
	[ -s "$src" ] || { fail "$k: $src is missing (run scripts/fetch-kernels.sh)"; continue; }
	if "$tool" wrap "$src" -o "$work/$k.pvh"; then
		check_image "Debian $k kernel" "$work/$k.pvh"
	else
		fail "Debian $k kernel wraps"
	fi
done

# The physical move of Debian 12's and sid's cloud kernels stops where only
# .bss, .brk and .init.scratch are left: after the last byte of every other
# allocated section, as readelf reads the sections (through the segment that
# holds each: 6.1's per-CPU section is linked at 0).
for k in cloud cloud-sid; do
	src="$PVHSTUB_CACHE/kernels/vmlinuz-$k"
	[ -s "$src" ] || { fail "$k: $src is missing (run scripts/fetch-kernels.sh)"; continue; }
	if ! "$tool" extract "$src" -o "$work/move-$k.elf" ||
	   ! "$tool" wrap --decompress --kaslr full "$src" -o "$work/move-$k.pvh"; then
		fail "Debian $k kernel: extract and wrap --decompress --kaslr full"
		continue
	fi
	want=$(python3 - "$work/move-$k.elf" <<'PY'
import re, subprocess, sys
out = subprocess.run(["readelf", "-lSW", sys.argv[1]], capture_output=True, text=True, check=True).stdout
loads = [tuple(int(x, 16) for x in m.groups()) for m in
         re.finditer(r"^\s+LOAD\s+0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+)", out, re.M)]
start = min(p for v, p, m in loads)
end = max(p + m for v, p, m in loads)
keep, seen = 0, set()
for m in re.finditer(r"^\s*\[\s*\d+\] (\S+)\s+\S+\s+([0-9a-f]{16}) [0-9a-f]+ ([0-9a-f]+) \S+ +(\S*A\S*) ", out, re.M):
    name, addr, size = m.group(1), int(m.group(2), 16), int(m.group(3), 16)
    if not size:
        continue
    if name in (".bss", ".brk", ".init.scratch"):
        seen.add(name)
        continue
    for v, p, msz in loads:
        if v <= addr < v + msz:
            keep = max(keep, p + addr - v + size)
assert seen == {".bss", ".brk", ".init.scratch"}, seen
print((keep + 7) // 8 * 8 - start, end - start)
PY
) || { fail "Debian $k kernel: reading its sections with readelf"; continue; }
	line=$("$tool" inspect "$work/move-$k.pvh" | grep '^physical move:')
	if [ "$line" = "physical move:   ${want% *} of the kernel's ${want#* } bytes (the rest is .bss, .brk and .init.scratch, which it clears itself)" ]; then
		pass "Debian $k kernel: the physical move leaves out .bss, .brk and .init.scratch ($line)"
	else
		fail "Debian $k kernel: the physical move should be ${want% *} of ${want#* } bytes: $line"
	fi
done
suite_end
