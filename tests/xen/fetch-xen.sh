#!/bin/sh
# Fetch Debian 12's Xen 4.17 (hypervisor, tools and their libraries) with
# apt-get download and unpack it into .cache/xen/:
#   .cache/xen/xen.elf    the hypervisor, for QEMU's -kernel (multiboot)
#   .cache/xen/root/      the unpacked packages, for the dom0 initramfs
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
dir="$top/.cache/xen"
PACKAGES="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common libxenmisc4.17 libxenstore4
libxentoollog1 libxenevtchn1 libxengnttab1 libxencall1 libxenforeignmemory1 libxendevicemodel1
libxentoolcore1 libxenhypfs1 libyajl2 xenstore-utils"

# xenstore-write: the hotplug scripts of the PV disk and network.
[ -s "$dir/xen.elf" ] && [ -x "$dir/root/usr/lib/xen-4.17/bin/xl" ] && [ -x "$dir/root/usr/bin/xenstore-write" ] && exit 0
rm -rf "$dir"
mkdir -p "$dir/debs" "$dir/root.tmp"
cd "$dir/debs"
echo "fetch-xen: $(echo $PACKAGES | wc -w) packages"
# shellcheck disable=SC2086
if ! apt-get download -q $PACKAGES >../download.log 2>&1; then
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get download -q $PACKAGES >../download.log 2>&1 || { cat ../download.log >&2; exit 1; }
fi
for deb in *.deb; do
	dpkg-deb -x "$deb" "$dir/root.tmp"
done
zcat "$dir"/root.tmp/boot/xen-4.17-amd64.gz > "$dir/xen.elf.tmp"
mv "$dir/root.tmp" "$dir/root"
mv "$dir/xen.elf.tmp" "$dir/xen.elf"
rm -rf "$dir/debs"
