# Shared by the test scripts: results, and QEMU boots with a timeout.
# A suite starts with:  obj=$1; top=...; . "$top/tests/lib.sh"; suite NAME
# shellcheck shell=sh disable=SC2154
# (SC2154: $top and $obj are the sourcing suite's.)

# The machine-wide cache ($PVHSTUB_CACHE) and the private apt states.
# shellcheck source=scripts/common.sh
. "$top/scripts/common.sh"

# suite NAME: work in $obj/tests/NAME ($out), record results in
# $obj/tests/results/NAME ($RESULTS), starting empty.
suite() {
	out="$obj/tests/$1"
	RESULTS="$obj/tests/results/$1"
	mkdir -p "$out" "$obj/tests/results"
	: > "$RESULTS"
}

# The suite's verdict: fails if anything failed.
suite_end() {
	! grep -q '^fail' "$RESULTS"
}

pass() { echo "PASS: $*"; echo "pass $*" >> "$RESULTS"; }
fail() { echo "FAIL: $*"; echo "fail $*" >> "$RESULTS"; }

# The tail of a console log, for a failure report.
log_tail() {
	echo "---- last 40 lines of $1 ----"
	tail -n 40 "$1" 2>/dev/null | sed 's/^/    /'
	echo "---- end of $1 ----"
}

# wrap_args VARIANT: pvhstub wrap's options for a test variant (32, 64,
# decompress: decompressed, with the stub's default KASLR, the virtual
# offset; virtual: the same, said; full: decompressed, with the stub's
# physical KASLR too).
wrap_args() {
	case $1 in
	decompress) echo --decompress ;;
	virtual) echo --decompress --kaslr virtual ;;
	full) echo --decompress --kaslr full ;;
	*) echo "--handoff $1" ;;
	esac
}

# Fail loudly when a tool the tests need is missing.
need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || {
			fail "required tool '$t' is missing (run scripts/install-deps.sh)"
			return 1
		}
	done
}

# qemu_boot LOG TIMEOUT ARGS...: boot ($QEMU, default qemu-system-x86_64)
# with the serial console in LOG, an
# isa-debug-exit device, no reboot, and a hard timeout.  Sets QEMU_RC
# (124 on timeout).
qemu_boot() {
	log=$1 secs=$2
	shift 2
	: > "$log"
	timeout --kill-after=5 "$secs" "${QEMU:-qemu-system-x86_64}" -display none -no-reboot \
		-serial "file:$log" -device isa-debug-exit,iobase=0xf4,iosize=4 "$@" \
		</dev/null >"$log.qemu" 2>&1
	QEMU_RC=$?
	if [ "$QEMU_RC" = 124 ] || [ "$QEMU_RC" = 137 ]; then
		echo "qemu: timed out after ${secs}s" >> "$log.qemu"
		QEMU_RC=124
	fi
	return 0
}

# boot_verdict NAME CMDLINE OK [WHY PATTERN]...: the verdict on the Linux
# boot qemu_boot just made into $log: it did not time out; each PATTERN (a
# grep regex) is in the log, carriage returns dropped, or the boot fails
# with WHY; then tests/boot/check.py (init, /proc/cmdline is CMDLINE, the
# initrd's payload md5, the e820) passes with "NAME: OK", or fails with its
# checks and the log's tail.
boot_verdict() {
	bv_name=$1 bv_want=$2 bv_ok=$3
	shift 3
	if [ "$QEMU_RC" = 124 ]; then
		fail "$bv_name: QEMU did not finish within $secs s"
		log_tail "$log"
		return
	fi
	while [ $# -ge 2 ]; do
		if ! tr -d '\r' < "$log" | grep -q -- "$2"; then
			fail "$bv_name: $1"
			log_tail "$log"
			return
		fi
		shift 2
	done
	if python3 "$top/tests/boot/check.py" "$log" "$bv_want" --payload > "$log.check"; then
		pass "$bv_name: $bv_ok"
	else
		sed 's/^/    /' "$log.check"
		fail "$bv_name: see the checks above"
		log_tail "$log"
	fi
}
