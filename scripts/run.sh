#!/bin/sh
# scripts/run.sh BUILD_DIR: boot a Debian kernel through the stub in QEMU.
# The initrd's init prints /proc/cmdline and the kernel's e820, then powers
# off.  Environment:
#   KERNEL=NAME|/path/to/bzImage           (default cloud: Debian 12's 6.1;
#                                           a NAME of scripts/fetch-kernels.sh,
#                                           such as cloud-trixie or cloud-sid,
#                                           is fetched first)
#   MACHINE=pc|microvm                      (default pc)
#   APPEND="..."                            extra kernel arguments
#                                           (pvhstub.debug dumps the zero page,
#                                           rdshell gives a shell on the console)
set -eu
obj=$1
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/common.sh
. "$top/scripts/common.sh"
kernel=${KERNEL:-cloud}
machine=${MACHINE:-pc}
# A file, or else a name fetch-kernels.sh knows.
if [ ! -f "$kernel" ]; then
	case "$kernel" in
	*/*) echo "run: no kernel file $kernel" >&2; exit 1 ;;
	esac
	"$top/scripts/fetch-kernels.sh" "$kernel"
	kernel="$PVHSTUB_CACHE/kernels/vmlinuz-$kernel"
fi
mkdir -p "$obj/run"
name=$(basename "$kernel")
"$obj/pvhstub" wrap "$kernel" -o "$obj/run/$name.pvh"
"$top/scripts/mkinitrd.sh" "$obj/run/initrd.cpio"
append="console=ttyS0${APPEND:+ $APPEND}"
echo "run: $name.pvh on QEMU $machine, cmdline \"$append\" (Ctrl-A X quits)"
exec timeout --foreground 600 qemu-system-x86_64 -M "$machine" -m 512 \
	-icount shift=0,sleep=off -display none -no-reboot -serial mon:stdio \
	-device isa-debug-exit,iobase=0xf4,iosize=4 \
	-kernel "$obj/run/$name.pvh" -initrd "$obj/run/initrd.cpio" -append "$append"
