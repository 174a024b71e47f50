#!/bin/sh
# mkdom0.sh OUT XEN_VERSION MODULES_DIR: the Xen tests' dom0 initramfs.
# busybox (static, the machine's), the xl toolstack of Debian's Xen
# XEN_VERSION ($PVHSTUB_CACHE/xen-VERSION/root, tests/xen/fetch-xen.sh) with
# every library it links, found by that root's own dynamic loader and taken
# from that root, its loader too (Xen 4.20's userland is Debian 13's, its
# glibc newer than a Debian 12 machine's), xenstore-read/-write/-rm, the dom0
# kernel's modules (MODULES_DIR, from scripts/fetch-kernels.sh): the Xen
# drivers, the PV disk and network back ends, loop, and virtio_blk and ext4
# for the guests' disk, each after what it depends on (lib/modules/order),
# and our hotplug scripts (tests/xen/block-loop, vif-ip).  The guests (xl
# configs and the images they name) are not in it: they come on a disk of
# their own (tests/xen/test_xen.py), so that a guest costs dom0 no memory.
set -eu
out=$1 ver=$2 mods=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/common.sh
. "$top/scripts/common.sh"
xroot="$PVHSTUB_CACHE/xen-$ver/root"
bin=usr/lib/xen-$ver/bin
[ -x "$xroot/$bin/xl" ] || { echo "mkdom0: no Xen $ver tools in $xroot (run tests/xen/fetch-xen.sh $ver)" >&2; exit 1; }
[ -d "$mods" ] || { echo "mkdom0: no $mods (run scripts/fetch-kernels.sh)" >&2; exit 1; }
# shellcheck disable=SC2012 # the first of two paths that exists
loader=$(ls "$xroot"/lib64/ld-linux-x86-64.so.2 "$xroot"/usr/lib64/ld-linux-x86-64.so.2 2>/dev/null | head -n 1)
[ -n "$loader" ] || { echo "mkdom0: no ld-linux-x86-64.so.2 in $xroot (libc6)" >&2; exit 1; }
libpath="$xroot/usr/lib/x86_64-linux-gnu:$xroot/lib/x86_64-linux-gnu"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# A merged /usr, as Debian 13 ships it: every library in /usr/lib/x86_64-linux-gnu.
mkdir -p "$root/bin" "$root/$bin" "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" \
	"$root/run" "$root/tmp" "$root/var/lib" "$root/var/log" "$root/etc" "$root/usr/bin" \
	"$root/usr/lib/x86_64-linux-gnu" "$root/usr/lib64"
ln -s usr/lib64 "$root/lib64"
cp /bin/busybox "$root/bin/busybox"
cp "$top/tests/xen/dom0-init" "$root/init"
chmod 755 "$root/init"
ln -s /run "$root/var/run"
mkdir -p "$root/etc/xen"
: > "$root/etc/xen/xl.conf"
echo "$ver" > "$root/etc/xen/version"

# The toolstack, and what it links, all from the release's packages: its
# loader lists the libraries (--list), which must all resolve inside the
# root, never on this machine.
cp -L "$loader" "$root/usr/lib64/"
for b in $bin/xl $bin/xenstored $bin/xenconsoled $bin/xen-init-dom0 $bin/libxl-save-helper usr/bin/xenstore; do
	cp "$xroot/$b" "$root/$b"
	"$loader" --library-path "$libpath" --list "$xroot/$b" > "$root/ldd.txt" 2>&1 ||
		{ echo "mkdom0: $loader --list $b failed:" >&2; cat "$root/ldd.txt" >&2; exit 1; }
	if grep -q 'not found' "$root/ldd.txt"; then
		echo "mkdom0: $b needs libraries the Xen $ver root lacks (add their packages to fetch-xen.sh):" >&2
		grep 'not found' "$root/ldd.txt" >&2
		exit 1
	fi
	# shellcheck disable=SC2013 # library paths: one word each
	for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 }' "$root/ldd.txt"); do
		case "$lib" in
		"$xroot"/*) cp -L "$lib" "$root/usr/lib/x86_64-linux-gnu/" ;;
		*) echo "mkdom0: $b links $lib, from outside the Xen $ver root" >&2; exit 1 ;;
		esac
	done
done
rm -f "$root/ldd.txt"
# pthread_cancel() dlopens libgcc_s, so the loader does not list it.
# shellcheck disable=SC2012 # the first of two paths that exists
gcc_s=$(ls "$xroot"/lib/x86_64-linux-gnu/libgcc_s.so.1 "$xroot"/usr/lib/x86_64-linux-gnu/libgcc_s.so.1 2>/dev/null | head -n 1)
[ -n "$gcc_s" ] || { echo "mkdom0: no libgcc_s.so.1 in $xroot (libgcc-s1)" >&2; exit 1; }
cp -L "$gcc_s" "$root/usr/lib/x86_64-linux-gnu/"
# xenstore is one program that acts by the name it is called by.
for n in read write rm; do
	ln -s xenstore "$root/usr/bin/xenstore-$n"
done
mkdir -p "$root/etc/xen/scripts"
cp "$top/tests/xen/block-loop" "$top/tests/xen/vif-ip" "$root/etc/xen/scripts/"

# module_file NAME: NAME's .ko in $mods (a module's name has "_" where its file may have "-").
module_file() {
	find "$mods" \( -name "$1.ko" -o -name "$(echo "$1" | tr _ -).ko" \) | head -n 1
}
# add_module NAME: NAME, after the modules it depends on, once each, into
# the initramfs and lib/modules/order.  A dependency with no file is built
# into the kernel (6.12 has virtio and virtio_pci, which virtio_blk needs,
# built in).
order=" "
add_module() {
	case "$order" in *" $1 "*) return 0 ;; esac
	[ -n "$(module_file "$1")" ] || return 1
	for dep in $(strings "$(module_file "$1")" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$dep" || true
	done
	order="$order$1 "
	cp "$(module_file "$1")" "$root/lib/modules/"
	basename "$(module_file "$1")" .ko >> "$root/lib/modules/order"
}
# crc32c_generic: ext4 asks the crypto API for crc32c at every mount, and no modprobe is there to load it.
for m in xen-privcmd xen-evtchn xenfs xen-gntdev xen-gntalloc xen-blkback xen-netback loop virtio_blk crc32c_generic ext4; do
	add_module "$m" || { echo "mkdom0: module $m is missing from $mods (scripts/fetch-kernels.sh)" >&2; exit 1; }
done
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out.tmp"
mv "$out.tmp" "$out"
