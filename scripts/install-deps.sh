#!/bin/sh
# Install what pvhstub builds and tests with, from Debian 12's archive.
# Idempotent: does nothing when everything is already there.
set -eu

PACKAGES="make gcc libc6-dev binutils kconfig-frontends libxen-dev libcmocka-dev \
qemu-system-x86 busybox-static cpio python3 ca-certificates zlib1g liblzma5 libgcc-s1 \
zlib1g-dev liblzma-dev libbz2-dev liblz4-dev libzstd-dev liblzo2-dev \
zstd lz4 lzop xz-utils bzip2 gzip clang libclang-rt-14-dev libelf-dev valgrind \
debhelper dpkg-dev lintian systemd flex bison bc e2fsprogs"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install:$missing" >&2; exit 1; }
	SUDO=sudo
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
