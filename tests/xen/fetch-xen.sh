#!/bin/sh
# Fetch Debian 12's Xen 4.17 (hypervisor, tools and their libraries) with
# apt-get download (Debian 12's archive, through an apt state of our own,
# whatever release the machine runs) and unpack it into $PVHSTUB_CACHE/xen/:
#   xen.elf    the hypervisor, for QEMU's -kernel (multiboot)
#   root/      the unpacked packages, for the dom0 initramfs
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/common.sh"
dir="$PVHSTUB_CACHE/xen"
PACKAGES="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common libxenmisc4.17 libxenstore4
libxentoollog1 libxenevtchn1 libxengnttab1 libxencall1 libxenforeignmemory1 libxendevicemodel1
libxentoolcore1 libxenhypfs1 libyajl2 xenstore-utils"

# xenstore-write: the hotplug scripts of the PV disk and network.
cache_lock xen
[ -s "$dir/xen.elf" ] && [ -x "$dir/root/usr/lib/xen-4.17/bin/xl" ] && [ -x "$dir/root/usr/bin/xenstore-write" ] && exit 0
rm -rf "$dir"
mkdir -p "$dir/debs" "$dir/root.tmp"
cd "$dir/debs"
echo "fetch-xen: $(echo $PACKAGES | wc -w) packages"
apt_release "$PVHSTUB_CACHE/apt/bookworm" bookworm bookworm-updates bookworm-security
# shellcheck disable=SC2086
apt-get $APT_OPTS download -q $PACKAGES >../download.log 2>&1 || { cat ../download.log >&2; exit 1; }
for deb in *.deb; do
	dpkg-deb -x "$deb" "$dir/root.tmp"
done
zcat "$dir"/root.tmp/boot/xen-4.17-amd64.gz > "$dir/xen.elf.tmp"
mv "$dir/root.tmp" "$dir/root"
mv "$dir/xen.elf.tmp" "$dir/xen.elf"
rm -rf "$dir/debs"
