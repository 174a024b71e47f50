#!/bin/sh
# Seeded PVH layouts at boot (tests/fuzzboot/fuzzboot.py): each seed's
# layout boots the probe kernel through the stub, and either the probe's
# zero page matches it or the stub refuses with the reason the seed
# predicts.
#   tests/fuzzboot/run.sh BUILD_DIR [SEED [COUNT]]
set -u
obj=$1
seed=${2:-1}
count=${3:-500}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib.sh
. "$top/tests/lib.sh"
suite fuzzboot
need qemu-system-x86_64 python3 timeout || exit 1
for f in "$obj/pvhstub" "$obj/tests/pvhload.elf" "$obj/tests/probe.bzImage"; do
	[ -s "$f" ] || { fail "fuzz-boot: $f is missing (make all $obj/tests/pvhload.elf $obj/tests/probe.bzImage)"; exit 1; }
done
python3 "$top/tests/fuzzboot/fuzzboot.py" --obj "$obj" --seed "$seed" --count "$count" --results "$RESULTS" ||
	grep -q '^fail' "$RESULTS" || fail "fuzz-boot: fuzzboot.py stopped before its verdict"
suite_end
