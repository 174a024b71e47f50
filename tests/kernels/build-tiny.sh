#!/bin/sh
# build-tiny.sh: small kernels built from Debian's linux-source-6.1, without
# CONFIG_PVH and without CONFIG_XEN (tinyconfig has neither), for x86_64
# and i386, relocatable and not.  Cached in $PVHSTUB_CACHE/tiny/KEY/ (KEY:
# a hash of this script and the compiler; scripts/common.sh, tiny_dir):
#   vmlinuz-tiny-{x86_64,i386}-{reloc,fixed}, and build-times.txt
# A kernel already built is not built again.  Prints each build's time.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/common.sh"
dir="$(tiny_dir)"
mkdir -p "$dir"
cache_lock tiny
cd "$dir"

want=""
for arch in x86_64 i386; do
	for kind in reloc fixed; do
		[ -s "vmlinuz-tiny-$arch-$kind" ] || want="$want $arch-$kind"
	done
done
[ -n "$want" ] || exit 0
for t in make gcc flex bison bc; do
	command -v "$t" >/dev/null || { echo "build-tiny: $t is missing (run scripts/install-deps.sh)" >&2; exit 1; }
done

# The source, once, shared by every key: Debian 12's linux-source-6.1,
# through an apt state of our own (any host release has the same source).
src="$PVHSTUB_CACHE/tiny/src-6.1"
if [ ! -d "$src" ]; then
	apt_release "$PVHSTUB_CACHE/apt/bookworm" bookworm bookworm-updates bookworm-security
	rm -rf deb src.tmp && mkdir deb src.tmp
	# shellcheck disable=SC2086
	(cd deb && apt-get $APT_OPTS download -q linux-source-6.1 2>&1 | grep -v '^W: Download is performed unsandboxed') || true
	ls deb/linux-source-6.1_*.deb >/dev/null 2>&1 || { echo "build-tiny: apt-get download linux-source-6.1 failed" >&2; exit 1; }
	dpkg-deb --fsys-tarfile deb/linux-source-6.1_*.deb | tar -x -C src.tmp ./usr/src/linux-source-6.1.tar.xz
	tar -xJf src.tmp/usr/src/linux-source-6.1.tar.xz -C src.tmp
	mv src.tmp/linux-source-6.1 "$src"
	rm -rf src.tmp deb
fi

# tinyconfig, plus what a boot to our test init needs: the serial console,
# an initramfs, ELF and #! binaries, /proc, /sys, devtmpfs, printk times (the
# test init reads dmesg by them), and ACPI with PCI (its tables need PCI) to
# power off; RELOCATABLE on or off.  PVH and XEN stay off.  Both kinds of an
# arch are built in one tree, one after the other: kbuild rebuilds only what
# depends on CONFIG_RELOCATABLE (a few dozen files), not the whole kernel.
build() { # arch kind
	arch=$1 kind=$2
	out="$dir/build-$arch"
	start=$(date +%s)
	mkdir -p "$out"
	if [ "$kind" = reloc ]; then relocatable=-e; else relocatable=-d; fi
	make -C "$src" O="$out" ARCH="$arch" tinyconfig >/dev/null
	"$src/scripts/config" --file "$out/.config" \
		-e PRINTK -e TTY -e SERIAL_8250 -e SERIAL_8250_CONSOLE -e BLK_DEV_INITRD \
		-e BINFMT_ELF -e BINFMT_SCRIPT -e PROC_FS -e SYSFS -e DEVTMPFS -e ACPI \
		-e PRINTK_TIME -e PCI -e RD_GZIP -e KERNEL_GZIP -d PVH -d XEN -d HYPERVISOR_GUEST \
		"$relocatable" RELOCATABLE -d RANDOMIZE_BASE
	make -C "$src" O="$out" ARCH="$arch" olddefconfig >/dev/null
	for opt in PVH XEN; do
		! grep -q "^CONFIG_$opt=y" "$out/.config" || { echo "build-tiny: CONFIG_$opt is set" >&2; exit 1; }
	done
	if grep -q "^CONFIG_RELOCATABLE=y" "$out/.config"; then reloc=reloc; else reloc=fixed; fi
	[ "$reloc" = "$kind" ] || { echo "build-tiny: CONFIG_RELOCATABLE is not what $kind wants" >&2; exit 1; }
	make -C "$src" O="$out" ARCH="$arch" -j"$(nproc)" bzImage > "$out/build-$kind.log" 2>&1 || {
		tail -n 30 "$out/build-$kind.log" >&2
		echo "build-tiny: $arch-$kind failed; see $out/build-$kind.log" >&2
		exit 1
	}
	cp "$out/arch/x86/boot/bzImage" "vmlinuz-tiny-$arch-$kind.tmp"
	mv "vmlinuz-tiny-$arch-$kind.tmp" "vmlinuz-tiny-$arch-$kind"
	secs=$(( $(date +%s) - start ))
	echo "$arch-$kind $secs s" >> build-times.txt
	echo "build-tiny: $arch-$kind built in $secs s"
}
for arch in x86_64 i386; do
	rm -rf "$dir/build-$arch"
	for w in $want; do
		[ "${w%-*}" != "$arch" ] || build "$arch" "${w#*-}"
	done
	rm -rf "$dir/build-$arch"
done
