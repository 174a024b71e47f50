#!/bin/sh
# fetch-xen.sh [VERSION...]: fetch Debian's Xen (the hypervisor, the tools,
# and every library they link, down to the C library) with apt-get download,
# from the archive of the release that ships it (through an apt state of our
# own, whatever release the machine runs), and unpack it into
# $PVHSTUB_CACHE/xen-VERSION/:
#   xen.elf    the hypervisor, for QEMU's -kernel (multiboot)
#   root/      the unpacked packages: the dom0 initramfs's userland
#   packages   what root/ was made of, name and version
# VERSIONs: 4.17 (Debian 12) and 4.20 (Debian 13); without one, both.
# dom0's userland comes whole from that release: xl 4.20 needs trixie's
# glibc (2.41), which a Debian 12 machine does not have.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/common.sh
. "$top/scripts/common.sh"

# The Xen packages of a version; the libraries they need are added by
# following their Depends (closure), so no host library is used.
xen_packages() { # VERSION
	echo "xen-hypervisor-$1-amd64 xen-utils-$1 libxenmisc$1 libxenstore4 libxentoollog1 libxenevtchn1
libxengnttab1 libxencall1 libxenforeignmemory1 libxendevicemodel1 libxentoolcore1 libxenhypfs1
libyajl2 xenstore-utils xen-utils-common libgcc-s1"
}

# closure PKG...: PKG... and the libraries they need, following Depends and
# Pre-Depends to a fixed point in the private state's release, through
# library packages only (lib*, zlib*): never the scripts' interpreters (python3,
# udev, ucf), since dom0's init starts the daemons itself.
closure() {
	# shellcheck disable=SC2046 # package names: one word each
	set -- $(echo "$@" | tr ' ' '\n' | sort -u)
	while :; do
		# shellcheck disable=SC2086
		more=$( { echo "$@" | tr ' ' '\n'; apt-cache $APT_OPTS depends --no-recommends --no-suggests \
			--no-conflicts --no-breaks --no-replaces --no-enhances "$@" 2>/dev/null |
			sed -n 's/^ *\(Pre\)\{0,1\}Depends: \(\(lib\|zlib\)[^ <>]*\)$/\2/p'; } | sort -u)
		[ "$more" = "$(echo "$@" | tr ' ' '\n')" ] && break
		# shellcheck disable=SC2086 # package names: one word each
		set -- $more
	done
	echo "$@"
}

fetch_version() { # VERSION
	ver=$1
	case $ver in
	4.17) suites="bookworm bookworm-updates bookworm-security" rel=bookworm ;;
	4.20) suites="trixie trixie-updates trixie-security" rel=trixie ;;
	*) echo "fetch-xen: unknown Xen version '$ver' (known: 4.17, 4.20)" >&2; exit 2 ;;
	esac
	dir="$PVHSTUB_CACHE/xen-$ver"
	cache_lock "xen-$ver"
	[ -s "$dir/xen.elf" ] && [ -x "$dir/root/usr/lib/xen-$ver/bin/xl" ] &&
		[ -x "$dir/root/usr/bin/xenstore-write" ] && [ -s "$dir/packages" ] && return 0
	rm -rf "$dir"
	mkdir -p "$dir/debs" "$dir/root.tmp"
	# shellcheck disable=SC2086
	apt_release "$PVHSTUB_CACHE/apt/$rel" $suites
	# shellcheck disable=SC2046
	# shellcheck disable=SC2046 # package names: one word each
	pkgs=$(closure $(xen_packages "$ver"))
	[ -n "$pkgs" ] || { echo "fetch-xen: no packages for Xen $ver in $rel (is the mirror's index there?)" >&2; exit 1; }
	echo "fetch-xen: Xen $ver from $rel: $(echo "$pkgs" | wc -w) packages"
	# shellcheck disable=SC2086
	(cd "$dir/debs" && apt-get $APT_OPTS download -q $pkgs) > "$dir/download.log" 2>&1 ||
		{ cat "$dir/download.log" >&2; exit 1; }
	for deb in "$dir"/debs/*.deb; do
		dpkg-deb -x "$deb" "$dir/root.tmp"
		# shellcheck disable=SC2016 # dpkg-deb's own fields
		dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb" >> "$dir/packages.tmp"
	done
	zcat "$dir/root.tmp/boot/xen-$ver-amd64.gz" > "$dir/xen.elf.tmp"
	mv "$dir/root.tmp" "$dir/root"
	mv "$dir/packages.tmp" "$dir/packages"
	mv "$dir/xen.elf.tmp" "$dir/xen.elf"
	rm -rf "$dir/debs"
	exec 9>&-
}

# shellcheck disable=SC2048 # versions: one word each
for v in ${*:-4.17 4.20}; do
	fetch_version "$v"
done
