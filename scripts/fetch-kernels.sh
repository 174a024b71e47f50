#!/bin/sh
# fetch-kernels.sh [NAME...]: fetch Debian's kernels with apt-get download
# and extract their images into $PVHSTUB_CACHE/kernels/ (scripts/common.sh:
# /var/cache/pvhstub for root), shared by every clone on the machine.
# Without NAMEs, everything the tests use:
#   vmlinuz-cloud, vmlinuz-generic, vmlinuz-rt   Debian 12's 6.1 (amd64)
#   vmlinuz-686-pae                              Debian 12's 6.1 (i386)
#   vmlinuz-cloud-6.12, vmlinuz-generic-6.12     bookworm-backports
#   vmlinuz-cloud-trixie, vmlinuz-generic-trixie Debian 13's cloud and generic kernels
#   vmlinuz-cloud-sid, vmlinuz-generic-sid       sid's cloud and generic kernels
#   modules-generic-6.12/, modules-generic-trixie/: the Xen tests' PV dom0
#                      kernels' Xen drivers, blkback, netback, loop, virtio_blk
#                      and ext4 (modules-generic/: 6.1's, without virtio_blk, ext4)
#   modules-cloud/     the cloud kernel's blkfront and netfront (Xen PV devices)
#                      (modules-cloud-trixie/, modules-cloud-sid/: the same)
#   busybox-i386       a static i386 busybox, for the 686-pae kernel's initrd
#   memtest86+x64.bin  memtest86+ (Debian's memtest86+ package)
#   ipxe.lkrn          iPXE as a Linux kernel (Debian's ipxe package)
#   ukify/             Debian 13's ukify (systemd-ukify), its EFI stub
#                      (systemd-boot-efi) and python3-pefile, unpacked, to
#                      build Unified Kernel Images on any host: run
#                      PYTHONPATH=ukify/usr/lib/python3/dist-packages
#                      python3 ukify/usr/lib/systemd/ukify build
#                      --stub=ukify/usr/lib/systemd/boot/efi/linuxx64.efi.stub
# Each vmlinuz-NAME has a vmlinuz-NAME.package naming the package it came
# from.  Every release comes through an apt state of our own
# ($PVHSTUB_CACHE/apt/RELEASE: its own source list on the machine's mirror,
# package lists and cache), whatever release the machine runs, and the
# machine's apt setup is never changed.  Both kernel package layouts are
# read: the image at ./boot/vmlinuz-VER (Debian 12, 13) or at
# ./usr/lib/modules/VER/vmlinuz in a linux-binary-VER package (sid), the
# modules under ./lib/modules or ./usr/lib/modules, compressed (Debian 13
# and later ship *.ko.xz) or not; the ones kept are stored decompressed, as
# *.ko, for busybox's insmod.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/common.sh
. "$top/scripts/common.sh"
dir="$PVHSTUB_CACHE/kernels"
mkdir -p "$dir"
cache_lock kernels
cd "$dir"

ALL="cloud generic rt 686-pae cloud-6.12 generic-6.12 cloud-trixie generic-trixie cloud-sid generic-sid memtest ipxe busybox-i386 ukify"
want=${*:-$ALL}

APT_OPTS=""
I386_OPTS="-o APT::Architectures::=amd64 -o APT::Architectures::=i386"
release() { # bookworm|bookworm-backports|trixie|sid [i386]
	APT_EXTRA="" arch=""
	[ "${2:-}" = i386 ] && APT_EXTRA=$I386_OPTS arch=-i386
	case $1 in
	bookworm) apt_release "$PVHSTUB_CACHE/apt/bookworm$arch" bookworm bookworm-updates bookworm-security ;;
	bookworm-backports) apt_release "$PVHSTUB_CACHE/apt/bookworm-backports" bookworm-backports ;;
	trixie) apt_release "$PVHSTUB_CACHE/apt/trixie" trixie trixie-updates trixie-security ;;
	sid) apt_release "$PVHSTUB_CACHE/apt/sid" sid ;;
	esac
}

# The versioned package a metapackage depends on, e.g. linux-image-6.1.0-56-cloud-amd64.
resolve() {
	# shellcheck disable=SC2086
	apt-cache $APT_OPTS depends "$1" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

# apt-get download PKG into the current folder; prints the .deb's name.
download() {
	rm -f "${1%:*}"_*.deb
	# shellcheck disable=SC2086
	apt-get $APT_OPTS download -q "$1" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true
	deb=$(find . -maxdepth 1 -name "${1%:*}_*.deb" | sort | head -n 1)
	deb=${deb#./}
	[ -n "$deb" ] || { echo "fetch-kernels: apt-get download $1 failed" >&2; exit 1; }
	echo "$deb"
}

# unpack DEB DIR: all of the package's files into DIR.
unpack() {
	dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2"
}

fetch() { # flavour metapackage suffix [module path under lib/modules/VER/ ...]
	flavour=$1 meta=$2 suffix=$3
	shift 3
	# modules-FLAVOUR/.patterns: what an earlier fetch took; other patterns refetch.
	[ -s "vmlinuz-$flavour" ] && { [ $# = 0 ] ||
		[ "$(cat "modules-$flavour/.patterns" 2>/dev/null)" = "$*" ]; } && return 0
	pkg=$(resolve "$meta")
	[ -n "$pkg" ] || { echo "fetch-kernels: cannot resolve $meta (is the mirror's index there?)" >&2; exit 1; }
	pkg="$pkg$suffix"
	echo "fetch-kernels: $pkg"
	rm -rf x && mkdir x
	deb=$(download "$pkg")
	unpack "$deb" x
	rm -f "$deb"
	# sid's layout: linux-image-VER is a metapackage of linux-binary-VER
	# (the image) and linux-modules-VER.
	# shellcheck disable=SC2086
	for part in $(apt-cache $APT_OPTS depends "$pkg" 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-\(binary\|modules\)-[0-9][^ ]*\)$/\1/p'); do
		case $part in linux-modules-*) [ $# -gt 0 ] || continue ;; esac
		echo "fetch-kernels: $part (part of $pkg)"
		deb=$(download "$part")
		unpack "$deb" x
		rm -f "$deb"
	done
	image=$(find x/boot -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sort | head -n 1)
	[ -n "$image" ] || image=$(find x/usr/lib/modules -mindepth 2 -maxdepth 2 -name vmlinuz 2>/dev/null | sort | head -n 1)
	[ -n "$image" ] || { echo "fetch-kernels: $pkg has no ./boot/vmlinuz-* nor ./usr/lib/modules/*/vmlinuz" >&2; exit 1; }
	if [ $# -gt 0 ]; then
		mods=$(find x/lib/modules x/usr/lib/modules -mindepth 1 -maxdepth 1 2>/dev/null | sort | head -n 1)
		[ -n "$mods" ] || { echo "fetch-kernels: $pkg has no modules under ./lib or ./usr/lib" >&2; exit 1; }
		rm -rf "modules-$flavour.tmp" && mkdir "modules-$flavour.tmp"
		for p in "$@"; do
			# shellcheck disable=SC2086 # $p is a glob, expanded in $mods
			found=$(cd "$mods" && for g in $p; do [ -e "$g" ] && echo "$g"; done; true)
			[ -n "$found" ] || { echo "fetch-kernels: $pkg has no modules/$p" >&2; exit 1; }
			for f in $found; do
				mkdir -p "modules-$flavour.tmp/$(dirname "$f")"
				cp -a "$mods/$f" "modules-$flavour.tmp/$f"
			done
		done
		find "modules-$flavour.tmp" -name '*.ko.xz' -exec xz -d {} +
		find "modules-$flavour.tmp" -name '*.ko.zst' -exec zstd -q -d --rm {} +
		echo "$*" > "modules-$flavour.tmp/.patterns"
		rm -rf "modules-$flavour"
		mv "modules-$flavour.tmp" "modules-$flavour"
	fi
	cp "$image" "vmlinuz-$flavour.tmp"
	echo "${pkg}" > "vmlinuz-$flavour.package"
	mv "vmlinuz-$flavour.tmp" "vmlinuz-$flavour"
	rm -rf x
}

# fetch_file NAME PACKAGE PATH: one file of a package.
fetch_file() {
	[ -s "$1" ] && return 0
	rm -rf x && mkdir x
	deb=$(download "$2")
	unpack "$deb" x
	[ -f "x/$3" ] || { echo "fetch-kernels: $2 has no $3" >&2; exit 1; }
	mv "x/$3" "$1.tmp"
	dpkg-deb -f "$deb" Package Version | tr '\n' ' ' > "$1.package"
	mv "$1.tmp" "$1"
	rm -rf x "$deb"
}

# fetch_tree NAME PACKAGE...: the packages unpacked together into NAME/.
fetch_tree() {
	name=$1
	shift
	[ -s "$name/.packages" ] && return 0
	rm -rf "$name.tmp" && mkdir "$name.tmp"
	for p in "$@"; do
		deb=$(download "$p")
		unpack "$deb" "$name.tmp"
		dpkg-deb -f "$deb" Package Version | tr '\n' ' ' >> "$name.tmp/.packages"
		echo >> "$name.tmp/.packages"
		rm -f "$deb"
	done
	rm -rf "$name"
	mv "$name.tmp" "$name"
}

# fetch_dom0 FLAVOUR: a 6.12 generic kernel as the Xen tests' PV dom0, with the Xen
# drivers, the PV disk and network back ends, loop behind the disk, and what
# reads the guests' disk: virtio_blk, and ext4 for its ext2 with crc32c, which
# ext4 asks the crypto API for at every mount (virtio and virtio_pci are built
# into 6.12).
fetch_dom0() {
	fetch "$1" linux-image-amd64 -unsigned 'kernel/drivers/xen/*' \
		'kernel/drivers/block/xen-blkback/*' 'kernel/drivers/block/loop.ko*' \
		'kernel/drivers/net/xen-netback/*' 'kernel/drivers/block/virtio_blk.ko*' \
		'kernel/fs/ext4/*' 'kernel/fs/jbd2/*' 'kernel/fs/mbcache.ko*' 'kernel/lib/crc16.ko*' \
		'kernel/crypto/crc32c_generic.ko*'
}

for w in $want; do
	case $w in
	cloud)
		# The Xen tests' domU: PV disk and network front ends, for its initrd.
		release bookworm
		fetch cloud linux-image-cloud-amd64 "" 'kernel/drivers/block/xen-blkfront.ko' \
			'kernel/drivers/net/xen-netfront.ko' ;;
	generic)
		# The generic image, unsigned: the same bzImage without the Secure
		# Boot signature, with the Xen drivers, the PV disk and network back
		# ends and the loop device behind the disk.
		release bookworm
		fetch generic linux-image-amd64 -unsigned 'kernel/drivers/xen/*' \
			'kernel/drivers/block/xen-blkback/*' 'kernel/drivers/block/loop.ko' \
			'kernel/drivers/net/xen-netback/*' ;;
	rt) release bookworm; fetch rt linux-image-rt-amd64 "" ;;
	686-pae) release bookworm i386; fetch 686-pae linux-image-686-pae:i386 "" ;;
	cloud-6.12) release bookworm-backports; fetch cloud-6.12 linux-image-cloud-amd64 "" ;;
	generic-6.12)
		# Also Xen 4.17's PV dom0 (Debian 12's own 6.12; 6.1's loses process memory
		# under QEMU TCG, tests/xen/test_xen.py).
		release bookworm-backports
		fetch_dom0 generic-6.12 ;;
	# Debian 13's and sid's: the Xen 4.20 tests' domUs (and dom0: generic-trixie).
	cloud-trixie)
		release trixie
		fetch cloud-trixie linux-image-cloud-amd64 "" 'kernel/drivers/block/xen-blkfront.ko*' \
			'kernel/drivers/net/xen-netfront.ko*' ;;
	generic-trixie)
		# Xen 4.20's PV dom0 (generic-6.12 is 4.17's).
		release trixie
		fetch_dom0 generic-trixie ;;
	cloud-sid)
		release sid
		fetch cloud-sid linux-image-cloud-amd64 "" 'kernel/drivers/block/xen-blkfront.ko*' \
			'kernel/drivers/net/xen-netfront.ko*' ;;
	generic-sid) release sid; fetch generic-sid linux-image-amd64 "" ;;
	# memtest86+: a boot-protocol payload that is not Linux (non-relocatable, at 1 MiB).
	memtest) release bookworm; fetch_file memtest86+x64.bin memtest86+ ./boot/memtest86+x64.bin ;;
	# iPXE's .lkrn: a boot-protocol payload with no 32-bit entry (real mode only).
	ipxe) release bookworm; fetch_file ipxe.lkrn ipxe ./boot/ipxe.lkrn ;;
	busybox-i386)
		release bookworm i386
		fetch_file busybox-i386 busybox-static:i386 ./bin/busybox
		chmod +x busybox-i386 ;;
	# Unified Kernel Images: Debian 13's ukify runs on Debian 12's python3 too.
	ukify) release trixie; fetch_tree ukify systemd-ukify systemd-boot-efi python3-pefile ;;
	*) echo "fetch-kernels: unknown kernel '$w' (known: $ALL)" >&2; exit 2 ;;
	esac
done
