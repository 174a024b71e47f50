#!/bin/sh
# Fetch Debian 12's current 6.1 kernels with apt-get download, and extract
# their bzImages into .cache/kernels/:
#   vmlinuz-cloud, vmlinuz-generic, vmlinuz-rt   (amd64)
#   vmlinuz-686-pae                              (i386)
#   vmlinuz-cloud-6.12, vmlinuz-generic-6.12     (bookworm-backports)
#   modules-generic/   the generic kernel's Xen drivers, blkback, netback, loop
#   modules-cloud/     the cloud kernel's blkfront and netfront (Xen PV devices)
#   busybox-i386       a static i386 busybox, for the 686-pae kernel's initrd
#   memtest86+x64.bin  memtest86+ (Debian's memtest86+ package)
#   ipxe.lkrn          iPXE as a Linux kernel (Debian's ipxe package)
# The versioned package names come from the linux-image-* metapackages.  The
# i386 packages come without adding i386 to dpkg: apt is told so for these
# calls only (APT::Architectures).  The backports come through an apt state
# of our own in .cache/kernels/apt/ (its own source list, package lists and
# cache), so the machine's apt setup is never changed.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dir="$top/.cache/kernels"
mkdir -p "$dir"
cd "$dir"

APT_OPTS=""
I386_OPTS="-o APT::Architectures::=amd64 -o APT::Architectures::=i386"

# The versioned package a metapackage depends on, e.g. linux-image-6.1.0-56-cloud-amd64.
resolve() {
	# shellcheck disable=SC2086
	apt-cache $APT_OPTS depends "$1" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

# An index that fails to download (a mirror mid-sync) does not stop us
# while the one we need is there: resolve() decides.
update() {
	# shellcheck disable=SC2086
	apt-get $APT_OPTS update -q >/dev/null 2>&1 || true
}

# apt-get download PKG into the current folder (after an update if the
# package lists lack it); prints the .deb's name.
download() {
	rm -f "${1%:*}"_*.deb
	for try in 1 2; do
		# shellcheck disable=SC2086
		apt-get $APT_OPTS download -q "$1" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true
		ls "${1%:*}"_*.deb >/dev/null 2>&1 && break
		[ "$try" = 2 ] || update
	done
	deb=$(ls "${1%:*}"_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { echo "fetch-kernels: apt-get download $1 failed" >&2; exit 1; }
	echo "$deb"
}

fetch() { # flavour metapackage suffix [module-path-pattern...]
	flavour=$1 meta=$2 suffix=$3
	shift 3
	# modules-FLAVOUR/.patterns: what an earlier fetch took; other patterns refetch.
	[ -s "vmlinuz-$flavour" ] && { [ $# = 0 ] ||
		[ "$(cat "modules-$flavour/.patterns" 2>/dev/null)" = "$*" ]; } && return 0
	pkg=$(resolve "$meta")
	if [ -z "$pkg" ]; then
		update
		pkg=$(resolve "$meta")
	fi
	[ -n "$pkg" ] || { echo "fetch-kernels: cannot resolve $meta" >&2; exit 1; }
	pkg="$pkg$suffix"
	echo "fetch-kernels: $pkg"
	rm -rf x
	deb=$(download "$pkg")
	mkdir x
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C x --wildcards './boot/vmlinuz-*' "$@"
	if [ $# -gt 0 ]; then
		rm -rf "modules-$flavour"
		mv x/lib/modules/* "modules-$flavour"
		echo "$*" > "modules-$flavour/.patterns"
	fi
	mv x/boot/vmlinuz-* "vmlinuz-$flavour.tmp"
	echo "${pkg}" > "vmlinuz-$flavour.package"
	mv "vmlinuz-$flavour.tmp" "vmlinuz-$flavour"
	rm -rf x "$deb"
}

# The Xen tests' domU: PV disk and network front ends, for its initrd.
fetch cloud linux-image-cloud-amd64 "" './lib/modules/*/kernel/drivers/block/xen-blkfront.ko' \
	'./lib/modules/*/kernel/drivers/net/xen-netfront.ko'
# The generic image, unsigned: the same bzImage without the Secure Boot
# signature.  It is the Xen tests' PV dom0, so keep the Xen drivers it needs,
# with the PV disk and network back ends and the loop device behind the disk.
fetch generic linux-image-amd64 -unsigned './lib/modules/*/kernel/drivers/xen/*' \
	'./lib/modules/*/kernel/drivers/block/xen-blkback/*' './lib/modules/*/kernel/drivers/block/loop.ko' \
	'./lib/modules/*/kernel/drivers/net/xen-netback/*'

fetch rt linux-image-rt-amd64 ""
# memtest86+ (a boot-protocol payload that is not Linux: non-relocatable, at 1 MiB).
if [ ! -s memtest86+x64.bin ]; then
	rm -rf x
	deb=$(download memtest86+)
	mkdir x
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C x ./boot/memtest86+x64.bin
	mv x/boot/memtest86+x64.bin memtest86+x64.bin
	dpkg-deb -f "$deb" Package Version | tr '\n' ' ' > memtest86+x64.bin.package
	rm -rf x "$deb"
fi
# iPXE's .lkrn: a boot-protocol payload with no 32-bit entry (real mode only).
if [ ! -s ipxe.lkrn ]; then
	rm -rf x
	deb=$(download ipxe)
	mkdir x
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C x ./boot/ipxe.lkrn
	mv x/boot/ipxe.lkrn ipxe.lkrn
	dpkg-deb -f "$deb" Package Version | tr '\n' ' ' > ipxe.lkrn.package
	rm -rf x "$deb"
fi
APT_OPTS=$I386_OPTS
fetch 686-pae linux-image-686-pae:i386 ""
if [ ! -x busybox-i386 ]; then
	rm -rf x
	deb=$(download busybox-static:i386)
	mkdir x
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C x ./bin/busybox
	mv x/bin/busybox busybox-i386
	rm -rf x "$deb"
fi

# Debian 12's backported 6.12 kernels.
bp="$dir/apt"
mkdir -p "$bp/lists/partial" "$bp/cache/archives/partial" "$bp/sources.list.d"
echo "deb http://deb.debian.org/debian bookworm-backports main" > "$bp/sources.list"
APT_OPTS="-o Dir::Etc::SourceList=$bp/sources.list -o Dir::Etc::SourceParts=$bp/sources.list.d \
-o Dir::State::Lists=$bp/lists -o Dir::Cache=$bp/cache"
fetch cloud-6.12 linux-image-cloud-amd64 ""
fetch generic-6.12 linux-image-amd64 -unsigned
