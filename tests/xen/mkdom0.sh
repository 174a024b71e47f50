#!/bin/sh
# mkdom0.sh OUT GUESTS_DIR: the Xen tests' dom0 initramfs.  busybox, the xl
# toolstack from Debian's Xen 4.17 packages ($PVHSTUB_CACHE/xen/root) with every
# library it links (found with ldd), xenstore-read/-write/-rm, the generic
# kernel's Xen drivers with the PV disk and network back ends and loop, our
# hotplug scripts (tests/xen/block-loop, vif-ip), and GUESTS_DIR (xl
# configs and the images they name) as /guests.
set -eu
out=$1 guests=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/common.sh"
xroot="$PVHSTUB_CACHE/xen/root"
mods="$PVHSTUB_CACHE/kernels/modules-generic"
bin=usr/lib/xen-4.17/bin
[ -x "$xroot/$bin/xl" ] || { echo "mkdom0: no Xen tools in $xroot (run tests/xen/fetch-xen.sh)" >&2; exit 1; }
[ -d "$mods" ] || { echo "mkdom0: no $mods (run scripts/fetch-kernels.sh)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/$bin" "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" \
	"$root/run" "$root/tmp" "$root/var/lib" "$root/var/log" "$root/etc"
cp /bin/busybox "$root/bin/busybox"
cp "$top/tests/xen/dom0-init" "$root/init"
chmod 755 "$root/init"
ln -s /run "$root/var/run"
mkdir -p "$root/etc/xen"
: > "$root/etc/xen/xl.conf"

# The toolstack, and what it links: Xen's libraries from the unpacked
# packages, the rest from this (Debian 12) machine.
libpath="$xroot/usr/lib/x86_64-linux-gnu"
mkdir -p "$root/usr/bin"
for b in $bin/xl $bin/xenstored $bin/xenconsoled $bin/xen-init-dom0 $bin/libxl-save-helper usr/bin/xenstore; do
	cp "$xroot/$b" "$root/$b"
	LD_LIBRARY_PATH="$libpath" ldd "$xroot/$b" > "$root/ldd.txt" || { echo "mkdom0: ldd $b failed" >&2; exit 1; }
	if grep -q 'not found' "$root/ldd.txt"; then
		echo "mkdom0: $b needs libraries this machine lacks:" >&2
		grep 'not found' "$root/ldd.txt" >&2
		exit 1
	fi
	for lib in $(awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' "$root/ldd.txt"); do
		case "$lib" in
		"$libpath"/*) dest="$root/usr/lib/x86_64-linux-gnu/" ;;
		*) dest="$root$(dirname "$lib")/" ;;
		esac
		mkdir -p "$dest"
		cp -L "$lib" "$dest"
	done
done
rm -f "$root/ldd.txt"
# xenstore is one program that acts by the name it is called by.
for n in read write rm; do
	ln -s xenstore "$root/usr/bin/xenstore-$n"
done
mkdir -p "$root/etc/xen/scripts"
cp "$top/tests/xen/block-loop" "$top/tests/xen/vif-ip" "$root/etc/xen/scripts/"
# pthread_cancel() dlopens libgcc_s, so ldd does not list it.
mkdir -p "$root/lib/x86_64-linux-gnu"
cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$root/lib/x86_64-linux-gnu/"

for m in xen-privcmd xen-evtchn xenfs xen-gntdev xen-gntalloc xen-blkback xen-netback loop; do
	f=$(find "$mods" -name "$m.ko" | head -n 1)
	[ -n "$f" ] || { echo "mkdom0: module $m is missing from $mods" >&2; exit 1; }
	cp "$f" "$root/lib/modules/"
done
cp -r "$guests" "$root/guests"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out.tmp"
mv "$out.tmp" "$out"
