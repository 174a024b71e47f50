#!/bin/sh
# tests/fuzz/run.sh BUILD_DIR SECONDS: run each libFuzzer harness for
# SECONDS (ASan + UBSan), seeded with real start_info dumps (committed in
# tests/fuzz/seeds/) and real and synthetic kernel images.  Any finding
# fails; its input is kept in BUILD_DIR/fuzz/ for a unit test.
set -u
obj=$1 secs=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
suite fuzz

# The image harness's corpus: Debian's kernels' first 64 KiB (their real
# headers), the tool tests' synthetic bzImages in every compression, a
# vmlinux, wrapped images of each, and the crafted-ELF table built on them
# (tests/tool/mkcraft.py), so that inspect, xlconfig and the note walk start
# from images they accept.
corpus="$out/corpus-image"
mkdir -p "$corpus" "$out/corpus-translate"
cp "$top"/tests/fuzz/seeds/translate/* "$out/corpus-translate/"
cp "$top"/tests/fuzz/seeds/image/* "$corpus/"
for k in "$PVHSTUB_CACHE"/kernels/vmlinuz-*; do
	case "$k" in *.package) continue ;; esac
	[ -s "$k" ] && head -c 65536 "$k" > "$corpus/$(basename "$k")-head"
done
for f in gzip xz lzma bzip2 zstd lz4 lzo; do
	python3 "$top/tests/tool/mkpayload.py" "$f" "$out/p.$f" &&
	python3 "$top/tests/tool/mkbzimage.py" "$corpus/bz.$f" payload="$out/p.$f"
done
python3 "$top/tests/tool/mkpayload.py" raw "$corpus/vmlinux"
# A relocation table as Linux appends it (the tail of a vmlinux), and one as the wrap keeps it.
python3 "$top/tests/tool/mkpayload.py" raw "$out/vmlinux-relocs" relocs=good &&
	tail -c 32 "$out/vmlinux-relocs" > "$corpus/relocs-tail"
python3 "$top/tests/tool/mkpayload.py" raw "$out/vmlinux-relocs2" relocs=two &&
	tail -c 24 "$out/vmlinux-relocs2" > "$corpus/relocs2-tail"
python3 "$top/tests/tool/mkpayload.py" gzip "$out/p.relocs" relocs=good &&
	python3 "$top/tests/tool/mkbzimage.py" "$corpus/bz-relocs" payload="$out/p.relocs" &&
	"$obj/pvhstub" wrap --decompress --kaslr full "$corpus/bz-relocs" -o "$corpus/wrapped-kaslr" &&
	python3 - "$corpus/wrapped-kaslr" "$corpus/relocs-kept" <<'PY'
import struct, sys
img = open(sys.argv[1], "rb").read()
at = img.find(struct.pack("<I", 0x72485650))
size = struct.unpack_from("<I", img, at + 16)[0]
open(sys.argv[2], "wb").write(img[at:at + 24 + size])
PY
python3 "$top/tests/tool/mkbzimage.py" "$corpus/bz-plain"
"$obj/pvhstub" wrap "$corpus/bz-plain" -o "$corpus/wrapped-bz"
"$obj/pvhstub" wrap --handoff 64 "$corpus/bz-plain" -o "$corpus/wrapped-bz64"
"$obj/pvhstub" wrap --decompress "$corpus/bz.gzip" -o "$corpus/wrapped-decompressed"
"$obj/pvhstub" wrap "$corpus/vmlinux" -o "$corpus/wrapped-vmlinux"
python3 "$top/tests/tool/mkcraft.py" "$corpus/wrapped-bz" "$corpus/vmlinux" "$out/crafts" >/dev/null &&
	for c in "$out"/crafts/*.elf; do cp "$c" "$corpus/craft-$(basename "$c" .elf)"; done

for h in translate image; do
	log="$out/$h.log"
	rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*
	"$out/fuzz_$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/" "$out/corpus-$h" > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" = 0 ] && ! ls "$out"/crash-* "$out"/leak-* "$out"/oom-* >/dev/null 2>&1; then
		pass "fuzz $h: ${execs:-?} runs in ${secs}s, no finding"
	else
		fail "fuzz $h: a finding (exit $rc) after ${execs:-?} runs; inputs in $out"
		tail -n 40 "$log"
	fi
done
suite_end
