#!/bin/sh
# The crafted-ELF table: every command that reads an image (inspect,
# xlconfig, wrap, extract) runs under valgrind on each craft of
# tests/tool/mkcraft.py.  A craft passes when no command makes one invalid
# read or write, each exits 0 (described) or 1 (refused with a message),
# and a refusal leaves no output file.
#   tests/tool/crafts.sh BUILD_DIR GOOD_IMAGE GOOD_VMLINUX
# (run by tests/tool/run.sh: its lines go to the tool suite's results)
set -u
obj=$1 image=$2 vmlinux=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
RESULTS="$obj/tests/results/tool"	# The tool suite's results.
tool="$obj/pvhstub"
dir="$obj/tests/tool/crafts"
rm -rf "$dir" && mkdir -p "$dir"

# One command on one craft, under valgrind; prints a problem, or nothing.
run_one() { # craft command
	craft=$1 cmd=$2
	log="$dir/$craft.$cmd.log"
	out="$dir/$craft.$cmd.out"
	case $cmd in
	inspect) set -- inspect "$dir/$craft.elf" ;;
	xlconfig) set -- xlconfig "$dir/$craft.elf" -o "$out" ;;
	wrap) set -- wrap "$dir/$craft.elf" -o "$out" ;;
	extract) set -- extract "$dir/$craft.elf" -o "$out" ;;
	esac
	timeout 120 valgrind -q --error-exitcode=99 --log-file="$log.vg" "$tool" "$@" > "$log" 2>&1
	rc=$?
	if [ "$rc" = 99 ] || [ -s "$log.vg" ]; then
		echo "$cmd: valgrind: $(grep -m1 -E 'Invalid|uninitialised|Conditional' "$log.vg")"
	elif [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
		echo "$cmd: exit $rc: $(tail -n 1 "$log")"
	elif [ "$rc" = 1 ] && ! grep -q "^pvhstub $cmd: " "$log"; then
		echo "$cmd: refused without a message"
	elif [ "$rc" = 1 ] && ls "$dir" | grep -q "^$craft.$cmd.out"; then
		echo "$cmd: refused, but left an output file"
	fi
}

# What inspect and xlconfig made of a craft, for the report.
summary() {
	if grep -q '^pvhstub inspect' "$dir/$1.inspect.log"; then
		sed -n 's/^pvhstub inspect: [^:]*: /inspect refuses: /p' "$dir/$1.inspect.log"
	else
		echo "inspect: $(grep -m1 '^kind' "$dir/$1.inspect.log" | tr -s ' ')$(grep -m1 '^warning' "$dir/$1.inspect.log" | sed 's/^/, /')"
	fi | head -n 1 | tr '\n' ';'
	sed -n 's/^pvhstub xlconfig: [^:]*: / xlconfig refuses: /p' "$dir/$1.xlconfig.log" | head -n 1
}

crafts=$(python3 "$top/tests/tool/mkcraft.py" "$image" "$vmlinux" "$dir") || {
	fail "crafted ELF table: mkcraft.py failed"
	exit 1
}
for craft in $crafts; do
	problems=$(for cmd in inspect xlconfig wrap extract; do run_one "$craft" "$cmd"; done)
	if [ -n "$problems" ]; then
		fail "crafted ELF '$craft' under valgrind: $(echo "$problems" | tr '\n' ';')"
	else
		pass "crafted ELF '$craft': inspect, xlconfig, wrap and extract are clean under valgrind ($(summary "$craft"))"
	fi
done
