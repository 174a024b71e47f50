#!/bin/sh
# The Debian package, for real: build it, lintian it, install it, let the
# kernel hooks wrap a kernel put in /boot (as a kernel package's postinst
# does, and through kernel-install), boot the image, remove the kernels,
# purge the package, and check nothing is left.  Needs root: CI runs on a
# throwaway machine.  Everything the test puts in /boot is removed at exit.
#   tests/deb/run.sh BUILD_DIR
set -u
obj=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib.sh
. "$top/tests/lib.sh"
suite deb

need dpkg dpkg-buildpackage lintian run-parts kernel-install qemu-system-x86_64 python3 || exit 1
if [ "$(id -u)" != 0 ]; then
	fail "the package test installs a package and writes /boot: it needs root"
	exit 1
fi
kernel="$PVHSTUB_CACHE/kernels/vmlinuz-cloud"
[ -s "$kernel" ] || { fail "$kernel is missing (run scripts/fetch-kernels.sh)"; exit 1; }

# Two test kernels (the second is the newer), and one that cannot be wrapped.
v1=6.1.0-9901-pvhstubtest v2=6.1.0-9902-pvhstubtest vbad=6.1.0-9903-pvhstubtest
dir=/boot/pvh
entry_root="/boot/$(cat /etc/machine-id 2>/dev/null)"
[ -e "$entry_root" ] && had_entry_root=1 || had_entry_root=0
cleanup() {
	dpkg --purge pvhstub >/dev/null 2>&1
	rm -f "/boot/vmlinuz-$v1" "/boot/vmlinuz-$v2" "/boot/vmlinuz-$vbad"
	rm -f "$dir/$v1.pvh" "$dir/$v2.pvh" "$dir/current" "$dir/pvh.cfg"
	rmdir "$dir" 2>/dev/null
	[ "$had_entry_root" = 1 ] || rm -rf "$entry_root"
}
for v in $v1 $v2 $vbad; do
	if [ -e "/boot/vmlinuz-$v" ] || [ -e "$dir/$v.pvh" ]; then
		fail "/boot already holds a kernel or image named $v; not touching it"
		exit 1
	fi
done
trap cleanup EXIT
dpkg --purge pvhstub >/dev/null 2>&1	# Left over from an interrupted run.

# make install and uninstall, into a DESTDIR: every file, the hooks naming
# the installed helper and tool, and the settings kept on uninstall.
root="$out/destdir"
rm -rf "$root"
if make -C "$top" --no-print-directory O="$obj" DESTDIR="$root" PREFIX=/opt/pvh install > "$out/install.log" 2>&1 &&
   [ -x "$root/opt/pvh/bin/pvhstub" ] && [ -f "$root/opt/pvh/share/man/man1/pvhstub.1" ] &&
   [ -f "$root/etc/default/pvhstub" ] && [ -x "$root/etc/kernel/install.d/60-pvhstub.install" ] &&
   grep -q '^exec /opt/pvh/lib/pvhstub/pvhstub-kernel add' "$root/etc/kernel/postinst.d/pvhstub" &&
   grep -q '^exec /opt/pvh/lib/pvhstub/pvhstub-kernel remove' "$root/etc/kernel/postrm.d/pvhstub" &&
   grep -q '^PVHSTUB=${PVHSTUB:-/opt/pvh/bin/pvhstub}' "$root/opt/pvh/lib/pvhstub/pvhstub-kernel"; then
	pass "make install PREFIX=/opt/pvh DESTDIR=...: the tool, the man page, the hooks and the settings"
else
	fail "make install PREFIX=/opt/pvh DESTDIR=...: $(tail -n 5 "$out/install.log"); $(cd "$root" 2>/dev/null && find . -type f)"
fi
make -C "$top" --no-print-directory O="$obj" DESTDIR="$root" PREFIX=/opt/pvh uninstall > "$out/uninstall.log" 2>&1
if [ "$(cd "$root" && find . -type f)" = "./etc/default/pvhstub" ]; then
	pass "make uninstall removes all but the settings in /etc/default/pvhstub"
else
	fail "make uninstall removes all but the settings: left $(cd "$root" && find . -type f | tr '\n' ' ')"
fi

# Build, lint, install.
if deb=$("$top/scripts/mkdeb.sh" "$out/pkg" 2>"$out/mkdeb.err") && [ -s "$deb" ]; then
	pass "the package builds: $(basename "$deb")"
else
	fail "the package builds: $(cat "$out/mkdeb.err")"
	exit 1
fi
if lintian --fail-on error "$deb" > "$out/lintian.log" 2>&1; then
	pass "lintian finds no error in the package"
else
	fail "lintian finds no error in the package: $(grep '^E:' "$out/lintian.log" | tr '\n' ';')"
fi
if dpkg -i "$deb" > "$out/dpkg-i.log" 2>&1; then
	pass "dpkg -i installs the package"
else
	fail "dpkg -i installs the package: $(tail -n 5 "$out/dpkg-i.log")"
	exit 1
fi
dpkg -L pvhstub > "$out/files"
missing=$(for f in /usr/bin/pvhstub /usr/share/man/man1/pvhstub.1.gz /etc/kernel/postinst.d/pvhstub \
		/etc/kernel/postrm.d/pvhstub /usr/lib/kernel/install.d/60-pvhstub.install /etc/default/pvhstub; do
		grep -qx "$f" "$out/files" && [ -e "$f" ] || echo "$f"
	done)
dpkg-query -W -f='${Conffiles}\n' pvhstub | grep -q ' /etc/default/pvhstub ' || missing="$missing (conffile) /etc/default/pvhstub"
if [ -z "$missing" ]; then
	pass "the package installs the tool, the man page, both hooks, the kernel-install plugin and the /etc/default/pvhstub conffile"
else
	fail "the package installs: missing $(echo $missing)"
fi

# As a kernel package's postinst runs its hooks (only ours: the machine's
# other hooks are not ours to run on a test kernel).
hooks() { # postinst|postrm VERSION
	run-parts --report --exit-on-error --regex '^pvhstub$' --arg="$2" --arg="/boot/vmlinuz-$2" \
		"/etc/kernel/$1.d" > "$out/hook.log" 2>&1
}
cp "$kernel" "/boot/vmlinuz-$v1"
if hooks postinst "$v1" && [ -s "$dir/$v1.pvh" ] && [ "$(readlink "$dir/current")" = "$v1.pvh" ] &&
   /usr/bin/pvhstub inspect "$dir/current" | grep -q '^kind: *PVH image made by pvhstub wrap'; then
	pass "postinst.d: /boot/vmlinuz-$v1 is wrapped into $dir/$v1.pvh, current points at it ($(grep 'pvhstub: wrapped' "$out/hook.log"))"
else
	fail "postinst.d wraps /boot/vmlinuz-$v1: $(cat "$out/hook.log"); $(ls -l "$dir" 2>&1)"
fi

# The image boots to init.
"$top/scripts/mkinitrd.sh" "$out/initrd.cpio" || fail "building the test initrd"
cmdline="console=ttyS0 panic=-1 deb=1"
qemu_boot "$out/boot.log" 180 -M microvm -m 512 -icount shift=0,sleep=off -kernel "$dir/current" \
	-initrd "$out/initrd.cpio" -append "$cmdline pvhstub.debug"
if [ "$QEMU_RC" != 124 ] && python3 "$top/tests/boot/check.py" "$out/boot.log" "$cmdline" > "$out/boot.check"; then
	pass "the hook's image ($dir/current) boots to init on QEMU microvm"
else
	sed 's/^/    /' "$out/boot.check"
	fail "the hook's image ($dir/current) boots to init on QEMU microvm (QEMU exit $QEMU_RC)"
	log_tail "$out/boot.log"
fi

# kernel-install, only our plugin: the newer kernel becomes current.
cp "$kernel" "/boot/vmlinuz-$v2"
ki() { KERNEL_INSTALL_PLUGINS=/usr/lib/kernel/install.d/60-pvhstub.install kernel-install "$@" > "$out/ki.log" 2>&1; }
if ki add "$v2" "/boot/vmlinuz-$v2" && [ -s "$dir/$v2.pvh" ] && [ "$(readlink "$dir/current")" = "$v2.pvh" ]; then
	pass "kernel-install add: $v2 is wrapped and current points at the newest"
else
	fail "kernel-install add wraps $v2: $(cat "$out/ki.log"); $(ls -l "$dir" 2>&1)"
fi

# GRUB's 10_linux lists /boot/vmlinuz-*, /vmlinuz-* and /boot/kernel-*:
# only the real kernels may match, never an image of ours.
listed=$(for f in /boot/vmlinuz-* /vmlinuz-* /boot/kernel-*; do [ -f "$f" ] && echo "$f"; done)
ours=$(for f in $listed; do case $(readlink -f "$f") in "$dir"/* | *.pvh) echo "$f" ;; esac; done)
if [ -n "$ours" ] || ! echo "$listed" | grep -qx "/boot/vmlinuz-$v2"; then
	fail "update-grub's glob would list a PVH image: $listed"
else
	pass "update-grub's glob lists only the kernels, no PVH image ($(echo $listed))"
fi

# A kernel the tool refuses: logged, skipped, and the kernel's own
# installation (run-parts) still succeeds.
head -c 8192 /dev/zero > "/boot/vmlinuz-$vbad"
if hooks postinst "$vbad" && [ ! -e "$dir/$vbad.pvh" ] && grep -q "could not wrap /boot/vmlinuz-$vbad" "$out/hook.log" &&
   [ "$(readlink "$dir/current")" = "$v2.pvh" ]; then
	pass "a kernel that cannot be wrapped is logged and skipped; the hook exits 0: $(grep 'pvhstub wrap' "$out/hook.log")"
else
	fail "a kernel that cannot be wrapped is logged and skipped: $(cat "$out/hook.log")"
fi
rm -f "/boot/vmlinuz-$vbad"

# The optional xl config follows current.
sed -i "s|^PVHSTUB_XLCONFIG=.*|PVHSTUB_XLCONFIG=$dir/pvh.cfg|" /etc/default/pvhstub
if ki add "$v2" "/boot/vmlinuz-$v2" && grep -qx "kernel = \"$dir/current\"" "$dir/pvh.cfg" &&
   grep -qx 'type = "pvh"' "$dir/pvh.cfg" && grep -qx "cmdline = \"console=hvc0\"" "$dir/pvh.cfg"; then
	pass "with PVHSTUB_XLCONFIG set, the hook writes an xl config for $dir/current"
else
	fail "with PVHSTUB_XLCONFIG set, the hook writes an xl config: $(cat "$out/ki.log")"
fi

# PVHSTUB_DECOMPRESS=yes: the stub's KASLR, the virtual offset by default,
# both ways with PVHSTUB_KASLR=full.
for kaslr in '' full; do
	want='virtual offset'
	[ "$kaslr" = full ] && want='virtual offset and physical slot'
	sed -i "s|^PVHSTUB_DECOMPRESS=.*|PVHSTUB_DECOMPRESS=yes|; s|^PVHSTUB_KASLR=.*|PVHSTUB_KASLR=$kaslr|" /etc/default/pvhstub
	if ki add "$v2" "/boot/vmlinuz-$v2" &&
	   /usr/bin/pvhstub inspect "$dir/current" | grep -q "^KASLR: *by the stub: $want (nokaslr"; then
		pass "with PVHSTUB_DECOMPRESS=yes and PVHSTUB_KASLR='$kaslr', the image is decompressed and randomized by the stub: $want"
	else
		fail "PVHSTUB_DECOMPRESS=yes PVHSTUB_KASLR='$kaslr' (want '$want'): $(cat "$out/ki.log"); $(/usr/bin/pvhstub inspect "$dir/current" 2>&1 | grep KASLR)"
	fi
done
sed -i "s|^PVHSTUB_DECOMPRESS=.*|PVHSTUB_DECOMPRESS=no|; s|^PVHSTUB_KASLR=.*|PVHSTUB_KASLR=|" /etc/default/pvhstub

# Removal: kernel-install remove, then the postrm hook.
rm -f "/boot/vmlinuz-$v2"
if ki remove "$v2" && [ ! -e "$dir/$v2.pvh" ] && [ "$(readlink "$dir/current")" = "$v1.pvh" ]; then
	pass "kernel-install remove deletes $v2's image; current falls back to $v1"
else
	fail "kernel-install remove deletes $v2's image: $(cat "$out/ki.log"); $(ls -l "$dir" 2>&1)"
fi
rm -f "/boot/vmlinuz-$v1"
if hooks postrm "$v1" && [ ! -e "$dir/$v1.pvh" ] && [ ! -e "$dir/current" ]; then
	pass "postrm.d deletes $v1's image, and current with the last one"
else
	fail "postrm.d deletes $v1's image: $(cat "$out/hook.log"); $(ls -l "$dir" 2>&1)"
fi

# Purge leaves nothing: no package file, no image, no folder of ours.
cp "$kernel" "/boot/vmlinuz-$v1" && hooks postinst "$v1"
rm -f "/boot/vmlinuz-$v1"
dpkg -r pvhstub > "$out/dpkg-r.log" 2>&1
cp "$kernel" "/boot/vmlinuz-$v2"
if hooks postinst "$v2" && [ ! -e "$dir/$v2.pvh" ]; then
	pass "after dpkg -r, the hooks left in /etc do nothing and fail nothing"
else
	fail "after dpkg -r, the hooks left in /etc do nothing: $(cat "$out/hook.log")"
fi
rm -f "/boot/vmlinuz-$v2"
dpkg --purge pvhstub > "$out/dpkg-purge.log" 2>&1
left=$(while read -r f; do [ -f "$f" ] || [ -L "$f" ] && echo "$f"; done < "$out/files"
       for f in "$dir" /var/lib/pvhstub /etc/default/pvhstub; do [ -e "$f" ] && echo "$f"; done)
if [ -z "$left" ]; then
	pass "dpkg --purge leaves no file behind: the package's, the images, $dir, /var/lib/pvhstub"
else
	fail "dpkg --purge leaves no file behind: $(echo $left)"
fi
suite_end
