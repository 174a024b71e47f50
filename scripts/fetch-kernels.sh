#!/bin/sh
# Fetch Debian 12's current 6.1 kernels (cloud and generic) with apt-get
# download, and extract their bzImages into .cache/kernels/:
#   .cache/kernels/vmlinuz-cloud, .cache/kernels/vmlinuz-generic
#   .cache/kernels/modules-generic/   the generic kernel's Xen drivers
# The versioned package names come from the linux-image-*-amd64 metapackages.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dir="$top/.cache/kernels"
mkdir -p "$dir"
cd "$dir"

# The versioned package a metapackage depends on, e.g. linux-image-6.1.0-56-cloud-amd64.
resolve() {
	apt-cache depends "$1" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

fetch() { # flavour metapackage suffix [module-path-pattern...]
	flavour=$1 meta=$2 suffix=$3
	shift 3
	[ -s "vmlinuz-$flavour" ] && { [ $# = 0 ] || [ -d "modules-$flavour" ]; } && return 0
	pkg=$(resolve "$meta")
	if [ -z "$pkg" ]; then
		apt-get update -q >/dev/null
		pkg=$(resolve "$meta")
	fi
	[ -n "$pkg" ] || { echo "fetch-kernels: cannot resolve $meta" >&2; exit 1; }
	pkg="$pkg$suffix"
	echo "fetch-kernels: $pkg"
	rm -rf x "$pkg"_*.deb
	apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
	deb=$(ls "$pkg"_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { echo "fetch-kernels: apt-get download $pkg failed" >&2; exit 1; }
	mkdir x
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C x --wildcards './boot/vmlinuz-*' "$@"
	if [ $# -gt 0 ]; then
		rm -rf "modules-$flavour"
		mv x/lib/modules/* "modules-$flavour"
	fi
	mv x/boot/vmlinuz-* "vmlinuz-$flavour.tmp"
	echo "${pkg}" > "vmlinuz-$flavour.package"
	mv "vmlinuz-$flavour.tmp" "vmlinuz-$flavour"
	rm -rf x "$deb"
}

fetch cloud linux-image-cloud-amd64 ""
# The generic image, unsigned: the same bzImage without the Secure Boot
# signature.  It is the Xen tests' PV dom0, so keep the Xen drivers it needs.
fetch generic linux-image-amd64 -unsigned './lib/modules/*/kernel/drivers/xen/*'

