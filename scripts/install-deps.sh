#!/bin/sh
# Install what pvhstub builds, packages and tests with, from the machine's
# Debian archive: Debian 12 (bookworm), 13 (trixie) or sid, amd64.
# Idempotent: does nothing when everything is already there.  Names that
# differ between releases (clang's runtime, libclang-rt-N-dev, follows the
# clang the release has) are picked from what the archive offers.
set -eu

# The names every supported release shares.
PACKAGES="make gcc libc6-dev binutils build-essential kconfig-frontends libxen-dev libcmocka-dev \
qemu-system-x86 busybox-static cpio python3 ca-certificates zlib1g liblzma5 libgcc-s1 \
zlib1g-dev liblzma-dev libbz2-dev liblz4-dev libzstd-dev liblzo2-dev \
zstd lz4 lzop xz-utils bzip2 gzip clang libelf-dev valgrind \
debhelper dpkg-dev lintian systemd flex bison bc e2fsprogs util-linux mmdebstrap \
python3-pytest python3-pytest-xdist shellcheck"

release="unknown"
if [ -r /etc/os-release ]; then
	# shellcheck disable=SC1091
	release=$(. /etc/os-release; echo "${PRETTY_NAME:-$ID}")
fi
case $(dpkg --print-architecture 2>/dev/null) in
amd64) ;;
*) echo "install-deps: pvhstub builds on amd64 hosts; this is $(dpkg --print-architecture 2>/dev/null || uname -m)" >&2
   exit 1 ;;
esac

installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

# clang-N, as the clang metapackage (installed, or the archive's) names it.
clang_major() {
	v=$(dpkg-query -W -f='${Depends}\n' clang 2>/dev/null | sed -n 's/.*clang-\([0-9][0-9]*\).*/\1/p')
	[ -n "$v" ] || v=$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n 1)
	echo "$v"
}

missing=""
for p in $PACKAGES; do
	installed "$p" || missing="$missing $p"
done
rt=""
major=$(clang_major)
if [ -n "$major" ]; then
	rt=libclang-rt-$major-dev
	installed "$rt" || missing="$missing $rt"
fi
if [ -z "$missing" ]; then
	echo "install-deps: $release: everything is installed (clang $major)"
	exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install:$missing" >&2; exit 1; }
	SUDO=sudo
fi
echo "install-deps: $release: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
if [ -z "$rt" ]; then
	# Only now do the package lists say which clang this release has.
	major=$(clang_major)
	[ -n "$major" ] || { echo "install-deps: the archive offers no clang-N behind 'clang'" >&2; exit 1; }
	rt=libclang-rt-$major-dev
	missing="$missing $rt"
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
echo "install-deps: $release: done (clang $major, $rt)"
