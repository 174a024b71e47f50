#!/bin/sh
# The README's set-up on the Debian releases users run, from minimal roots:
# for each of bookworm (12), trixie (13) and sid, in a fresh mmdebstrap
# minbase root on the machine's own mirror,
#   sh scripts/install-deps.sh && make deb, then lintian (no error, no warning);
#   apt-get install of that package and of the release's cloud kernel
#   metapackage: the kernel's hooks wrap it into /boot/pvh/VERSION.pvh;
#   /boot/pvh/current boots to init under the release's own QEMU;
#   on sid, the hook finds the image in /usr/lib/modules/VERSION/ alone;
#   purging the kernel removes its image, purging pvhstub what it made;
#   on trixie, 'make run' reaches init with trixie's QEMU.
# A root is kept in $PVHSTUB_CACHE/roots/, keyed by install-deps.sh and the
# release's package lists (their Release files): when either changes, the
# root is built again and install-deps.sh runs on a fresh root.  Each run
# works on an overlay (or a copy) of it, so the kept root stays as
# install-deps.sh left it.  Needs root.
#   tests/hosts/run.sh BUILD_DIR [RELEASE...]
set -u
obj=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib.sh
. "$top/tests/lib.sh"
# One release: a suite of its own (hosts-RELEASE), so that the releases can
# run side by side (tests/shell/test_shell_suites.py).
if [ $# = 1 ]; then suite "hosts-$1"; else suite hosts; fi

need mmdebstrap chroot mount umount flock sha256sum python3 || exit 1
if [ "$(id -u)" != 0 ]; then
	fail "the hosts suite builds roots and mounts /proc in them: it needs root"
	exit 1
fi
releases=${*:-bookworm trixie sid}
roots="$PVHSTUB_CACHE/roots"
mkdir -p "$roots"

suites_of() {
	case $1 in
	sid) echo sid ;;
	*) echo "$1 $1-updates $1-security" ;;
	esac
}

# The mounts a root needs; every one is undone before anything is deleted.
mounted=""
mount_in() { # ROOT
	mount -t proc proc "$1/proc" && mounted="$1/proc $mounted"
	mount -t sysfs sysfs "$1/sys" && mounted="$1/sys $mounted"
}
unmount_all() {
	for m in $mounted; do umount -l "$m" 2>/dev/null; done
	mounted=""
}
# rm -rf a root, but only with nothing mounted below it.
remove_root() {
	if grep -q " $1/" /proc/mounts; then
		echo "hosts: $1 still has mounts; left in place" >&2
		return 1
	fi
	rm -rf "$1"
}
work=""
cleanup() {
	unmount_all
	[ -n "$work" ] && mountpoint -q "$work/root" && umount -l "$work/root"
	[ -n "$work" ] && remove_root "$work/root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP	# so that cleanup runs then too

# in ROOT CMD...: run a shell command inside ROOT, as a fresh login would
# (no stdin, a plain environment).
in_root() {
	r=$1
	shift
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive CI="${CI:-}" /bin/sh -c "$*" </dev/null
}

# root_boot NAME OK LOGNAME IMAGE "QEMU-ARGS" [WHY PATTERN]...: boot IMAGE (a
# path inside the root) with /tmp/initrd.cpio under the root's own QEMU,
# then the boot's verdict (tests/lib.sh boot_verdict, with the must-have
# patterns given).
root_boot() {
	rb_name=$1 rb_ok=$2 rb_log=$3 rb_image=$4 rb_args=$5
	shift 5
	rm -f "$r/tmp/$rb_log.log"
	in_root "$r" "timeout --kill-after=5 240 qemu-system-x86_64 $rb_args -m 512 \
		-display none -no-reboot -serial file:/tmp/$rb_log.log -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-kernel $rb_image -initrd /tmp/initrd.cpio -append '$cmdline pvhstub.debug'" \
		> "$out/$rel/qemu-$rb_log.log" 2>&1
	QEMU_RC=$? secs=240
	[ "$QEMU_RC" = 124 ] || [ "$QEMU_RC" = 137 ] && QEMU_RC=124
	log="$out/$rel/boot-$rb_log.log"
	cp "$r/tmp/$rb_log.log" "$log" 2>/dev/null || : > "$log"
	boot_verdict "$rb_name" "$cmdline" "$rb_ok" "$@"
	log="$out/$rel"
}

# The tree as a user's clone has it (no build output, caches or git data).
copy_tree() { # DEST
	rm -rf "$1" && mkdir -p "$1"
	(cd "$top" && tar -cf - --exclude=./.git --exclude=./.cache --exclude=./build .) | (cd "$1" && tar -xf -)
}

for rel in $releases; do
	# shellcheck disable=SC2046
	apt_release "$PVHSTUB_CACHE/apt/$rel" $(suites_of "$rel") || { fail "$rel: no mirror in the machine's apt sources"; continue; }
	lists="$PVHSTUB_CACHE/apt/$rel/lists"
	if ! ls "$lists"/*Release >/dev/null 2>&1; then
		fail "$rel: the mirror's $rel index could not be fetched (apt-get update in $PVHSTUB_CACHE/apt/$rel)"
		continue
	fi
	key=$({ cat "$top/scripts/install-deps.sh"; echo "$rel"; cat "$lists"/*Release; } | sha256sum | cut -c1-12)
	kept="$roots/$rel-$key"
	log="$out/$rel"
	mkdir -p "$log"

	# The root, after install-deps.sh ran on it fresh (once per key).
	exec 8>"$roots/$rel.lock"
	flock 8
	if [ -f "$kept/.pvhstub-root" ]; then
		pass "$rel: a minbase root where scripts/install-deps.sh installed everything (kept, key $key: $(cat "$kept/.pvhstub-root"))"
	else
		start=$(date +%s)
		for old in "$roots/$rel"-*; do [ -d "$old" ] && remove_root "$old"; done
		mirror=$(debian_mirror) security=$(debian_security_mirror)
		set --
		for s in $(suites_of "$rel"); do
			case $s in
			*-security) set -- "$@" "deb $security $s main" ;;
			*) set -- "$@" "deb $mirror $s main" ;;
			esac
		done
		if ! mmdebstrap --variant=minbase --aptopt='Acquire::Check-Valid-Until "false"' \
				"$rel" "$kept.tmp" "$@" > "$log/mmdebstrap.log" 2>&1; then
			fail "$rel: mmdebstrap --variant=minbase $rel: $(tail -n 5 "$log/mmdebstrap.log")"
			remove_root "$kept.tmp"
			flock -u 8
			continue
		fi
		copy_tree "$kept.tmp/src"
		mount_in "$kept.tmp"
		in_root "$kept.tmp" 'cd /src && sh scripts/install-deps.sh' > "$log/install-deps.log" 2>&1
		rc=$?
		unmount_all
		if [ $rc = 0 ] && grep -q "^install-deps: Debian.*: done (clang [0-9]*, libclang-rt-[0-9]*-dev)" "$log/install-deps.log"; then
			rm -rf "$kept.tmp/src" "$kept.tmp/var/cache/apt/archives"/*.deb
			echo "built $(date -u +%Y-%m-%d) in $(( $(date +%s) - start )) s; $(grep '^install-deps: .*: done' "$log/install-deps.log" | sed 's/^install-deps: //')" > "$kept.tmp/.pvhstub-root"
			mv "$kept.tmp" "$kept"
			pass "$rel: a fresh minbase root: sh scripts/install-deps.sh installs everything ($(cat "$kept/.pvhstub-root"))"
		else
			fail "$rel: sh scripts/install-deps.sh in a fresh minbase root (exit $rc): $(tail -n 8 "$log/install-deps.log")"
			remove_root "$kept.tmp"
			flock -u 8
			continue
		fi
	fi

	# This run's root: an overlay on the kept one (a copy where overlays
	# are not allowed).
	work="$out/$rel/w"
	mountpoint -q "$work/root" && umount -l "$work/root"
	remove_root "$work/root" || { flock -u 8; continue; }
	rm -rf "$work" && mkdir -p "$work/upper" "$work/ovl" "$work/root"
	if ! mount -t overlay overlay -o "lowerdir=$kept,upperdir=$work/upper,workdir=$work/ovl" "$work/root" 2>/dev/null; then
		cp -a "$kept/." "$work/root/"
	fi
	r="$work/root"
	copy_tree "$r/src"
	mount_in "$r"

	# install-deps.sh again: it must see everything there, and say so.
	if in_root "$r" 'cd /src && sh scripts/install-deps.sh' > "$log/install-deps-again.log" 2>&1 &&
	   grep -q '^install-deps: .*: everything is installed' "$log/install-deps-again.log"; then
		pass "$rel: install-deps.sh again: $(grep '^install-deps:' "$log/install-deps-again.log" | sed 's/^install-deps: //')"
	else
		fail "$rel: install-deps.sh again: $(tail -n 5 "$log/install-deps-again.log")"
	fi

	# make deb, lintian.
	if in_root "$r" 'cd /src && make deb O=/tmp/b' > "$log/make-deb.log" 2>&1 &&
	   deb=$(grep '^/tmp/b/deb/pvhstub_.*_amd64\.deb$' "$log/make-deb.log" | tail -n 1) && [ -s "$r$deb" ]; then
		pass "$rel: make deb builds $(basename "$deb")"
	else
		fail "$rel: make deb: $(tail -n 15 "$log/make-deb.log")"
		unmount_all; umount -l "$r" 2>/dev/null; flock -u 8
		continue
	fi
	if in_root "$r" "lintian --fail-on error,warning $deb" > "$log/lintian.log" 2>&1; then
		pass "$rel: lintian $(in_root "$r" 'dpkg-query -W -f="\${Version}" lintian'): no error or warning in the package"
	else
		fail "$rel: lintian: $(grep '^[EW]:' "$log/lintian.log" | tr '\n' ';')"
	fi

	# The package and the release's cloud kernel, as a user installs them.
	if in_root "$r" "apt-get install -y -q --no-install-recommends $deb linux-image-cloud-amd64" > "$log/apt-install.log" 2>&1; then
		# The one kernel in the fresh root (sid's packages are split:
		# linux-image-VER, linux-binary-VER, linux-modules-VER).
		kver=$(ls "$r/usr/lib/modules" 2>/dev/null | head -n 1)
		if [ -n "$kver" ] && [ -s "$r/boot/pvh/$kver.pvh" ] && [ "$(readlink "$r/boot/pvh/current")" = "$kver.pvh" ]; then
			pass "$rel: apt-get install pvhstub linux-image-cloud-amd64: the hook wraps $kver into /boot/pvh/$kver.pvh, current points at it ($(grep 'pvhstub: wrapped' "$log/apt-install.log" | head -n 1))"
		else
			fail "$rel: apt-get install: no /boot/pvh/$kver.pvh or current: $(grep 'pvhstub' "$log/apt-install.log" | tr '\n' ';') $(ls -l "$r/boot/pvh" 2>&1 | tr '\n' ';')"
		fi
	else
		kver=""
		fail "$rel: apt-get install pvhstub linux-image-cloud-amd64: $(tail -n 10 "$log/apt-install.log")"
	fi

	# /boot/pvh/current boots to init, under the release's own QEMU.
	qver=$(in_root "$r" 'qemu-system-x86_64 --version' | sed -n '1s/^QEMU emulator version \([^ ]*\).*/\1/p')
	cmdline="console=ttyS0 panic=-1 hosts=$rel"
	if [ -n "$kver" ] && in_root "$r" 'sh /src/scripts/mkinitrd.sh /tmp/initrd.cpio 4' > "$log/mkinitrd.log" 2>&1; then
		root_boot "$rel: /boot/pvh/current ($kver)" "boots to init on the release's QEMU $qver (pc, -icount)" \
			current /boot/pvh/current "-M pc -icount shift=0,sleep=off"
		# QEMU 10 and 11 (trixie's, sid's): --decompress on pc, the plain
		# wrap (the hook's image, booted on pc above) and --decompress on
		# microvm, and an SMP boot under -icount (QEMU 7.2 hung there;
		# check-boot runs its SMP boots without it).
		if [ "$rel" != bookworm ]; then
			kimg=/boot/vmlinuz-$kver
			[ -f "$r$kimg" ] || kimg=/usr/lib/modules/$kver/vmlinuz
			in_root "$r" "pvhstub wrap --decompress $kimg -o /tmp/dec.pvh" > "$log/wrap-dec.log" 2>&1 ||
				fail "$rel: pvhstub wrap --decompress $kver: $(cat "$log/wrap-dec.log")"
			root_boot "$rel: $kver plain on microvm" "boots to init on QEMU $qver (microvm, -icount)" \
				plain-microvm "/boot/pvh/$kver.pvh" "-M microvm -icount shift=0,sleep=off"
			for m in pc microvm; do
				[ -s "$r/tmp/dec.pvh" ] &&
				root_boot "$rel: $kver --decompress on $m" "boots to init on QEMU $qver ($m, -icount)" \
					dec-$m /tmp/dec.pvh "-M $m -icount shift=0,sleep=off"
			done
			root_boot "$rel: $kver plain on pc -smp 4" "boots to init on QEMU $qver (pc -smp 4, -icount)" \
				smp "/boot/pvh/$kver.pvh" "-M pc -smp 4 -icount shift=0,sleep=off" \
				"the kernel did not bring up 4 CPUs" 'smp: Brought up 1 node, 4 CPUs'
		fi
	else
		fail "$rel: /boot/pvh/current boots: no kernel installed, or mkinitrd failed: $(tail -n 3 "$log/mkinitrd.log" 2>/dev/null)"
	fi

	# sid's layout: with no /boot/vmlinuz-VERSION (no legacy-boot copy),
	# the hook wraps /usr/lib/modules/VERSION/vmlinuz.
	if [ -n "$kver" ] && [ -f "$r/usr/lib/modules/$kver/vmlinuz" ]; then
		mv "$r/boot/vmlinuz-$kver" "$r/tmp/vmlinuz-$kver.away" 2>/dev/null
		rm -f "$r/boot/pvh/$kver.pvh"
		if in_root "$r" "run-parts --report --regex '^pvhstub\$' --arg=$kver --arg=/boot/vmlinuz-$kver /etc/kernel/postinst.d" > "$log/hook-usrlib.log" 2>&1 &&
		   grep -q "pvhstub: wrapped /usr/lib/modules/$kver/vmlinuz into /boot/pvh/$kver.pvh" "$log/hook-usrlib.log" &&
		   [ -s "$r/boot/pvh/$kver.pvh" ]; then
			pass "$rel: with no /boot/vmlinuz-$kver, the hook wraps /usr/lib/modules/$kver/vmlinuz"
		else
			fail "$rel: the hook with only /usr/lib/modules/$kver/vmlinuz: $(cat "$log/hook-usrlib.log")"
		fi
		mv "$r/tmp/vmlinuz-$kver.away" "$r/boot/vmlinuz-$kver" 2>/dev/null
	fi

	# Purging the kernel removes its image; purging pvhstub what it made.
	if [ -n "$kver" ]; then
		kpkgs=$(in_root "$r" "dpkg-query -W -f='\${Package}\n'" | grep -F -- "-$kver" | tr '\n' ' ')
		if in_root "$r" "apt-get purge -y -q linux-image-cloud-amd64 $kpkgs" > "$log/apt-purge.log" 2>&1 &&
		   [ ! -e "$r/boot/pvh/$kver.pvh" ] && [ ! -e "$r/boot/pvh/current" ]; then
			pass "$rel: apt-get purge of the kernel removes /boot/pvh/$kver.pvh and current ($(grep 'pvhstub: removed' "$log/apt-purge.log" | head -n 1))"
		else
			fail "$rel: apt-get purge of the kernel: $(grep pvhstub "$log/apt-purge.log" | tr '\n' ';') $(ls -l "$r/boot/pvh" 2>&1 | tr '\n' ';')"
		fi
	fi
	if in_root "$r" 'dpkg --purge pvhstub' > "$log/purge.log" 2>&1 && [ ! -e "$r/boot/pvh" ] &&
	   [ ! -e "$r/var/lib/pvhstub" ] && [ ! -e "$r/usr/bin/pvhstub" ] && [ ! -e "$r/etc/default/pvhstub" ]; then
		pass "$rel: dpkg --purge pvhstub leaves no /boot/pvh, /var/lib/pvhstub, tool or settings"
	else
		fail "$rel: dpkg --purge pvhstub: $(tail -n 3 "$log/purge.log"); $(ls -d "$r/boot/pvh" "$r/var/lib/pvhstub" "$r/etc/default/pvhstub" 2>&1)"
	fi

	# make run, as the README's quick start has it, on trixie: Debian 13 is
	# where most users are.
	if [ "$rel" = trixie ]; then
		in_root "$r" 'cd /src && timeout 600 make run' > "$log/make-run.log" 2>&1
		rc=$?
		if tr -d '\r' < "$log/make-run.log" | grep -q 'PVHSTUB-INIT: reached init' &&
		   tr -d '\r' < "$log/make-run.log" | grep -q '^pvhstub: start_info 0x[0-9a-f]* v1'; then
			pass "$rel: make run reaches init through the stub with QEMU $qver (exit $rc)"
		else
			fail "$rel: make run reaches init with QEMU $qver (exit $rc)"
			log_tail "$log/make-run.log"
		fi
	fi

	unmount_all
	mountpoint -q "$r" && umount -l "$r"
	remove_root "$r"
	work=""
	flock -u 8
done
suite_end
