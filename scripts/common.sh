# shellcheck shell=sh disable=SC2154
# (SC2154: $top is the sourcing script's.)
# Sourced by the helper scripts and the tests: where the machine-wide cache
# is, and how to reach another Debian release's packages without touching
# the machine's own apt setup.  Expects $top (the source tree) to be set.

# The cache of downloads, built kernels and release roots, shared by every
# clone on the machine: $PVHSTUB_CACHE, else /var/cache/pvhstub for root,
# else $XDG_CACHE_HOME/pvhstub.  What is in it is keyed by its inputs, and a
# miss only costs time.
if [ -z "${PVHSTUB_CACHE:-}" ]; then
	if [ "$(id -u)" = 0 ]; then
		PVHSTUB_CACHE=/var/cache/pvhstub
	else
		PVHSTUB_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/pvhstub
	fi
fi
export PVHSTUB_CACHE

# The tiny kernels' folder: keyed by the script that builds them and the
# compiler, so a change to either builds them again.
tiny_dir() {
	echo "$PVHSTUB_CACHE/tiny/$({ cat "$top/tests/kernels/build-tiny.sh"; gcc --version 2>/dev/null | head -n 1; } |
		sha256sum | cut -c1-12)"
}

# cache_lock NAME: hold $PVHSTUB_CACHE/NAME.lock until the script exits, so
# that two clones filling the same cache entry wait for each other.
cache_lock() {
	mkdir -p "$PVHSTUB_CACHE"
	exec 9>"$PVHSTUB_CACHE/$1.lock"
	if ! flock -n 9; then
		echo "$(basename "$0"): waiting for another run's $PVHSTUB_CACHE/$1" >&2
		flock 9
	fi
}

# The machine's Debian mirror, as its apt sources name it (deb822 .sources
# files or one-line sources.list): the URI that serves the release suites,
# and the one that serves the -security suites.  $PVHSTUB_MIRROR and
# $PVHSTUB_SECURITY_MIRROR override them.  No host name is built in.
apt_source_uris() { # prints "URI SUITE" for every deb source of the machine
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk 'function flush() { if (deb) for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j];
				deb = 0; nu = ns = 0 }
			/^[ \t]*$/ { flush(); next }
			/^[ \t]*#/ { next }
			tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			tolower($1) == "uris:" { for (i = 2; i <= NF; i++) u[++nu] = $i }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) s[++ns] = $i }
			tolower($1) == "enabled:" && tolower($2) == "no" { deb = 0; nu = ns = 0 }
			END { flush() }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		sed -n 's/^[ \t]*deb[ \t]\+\(\[[^]]*\][ \t]\+\)\?\([^ \t]\+\)[ \t]\+\([^ \t]\+\).*/\2 \3/p' "$f"
	done
}

debian_mirror() {
	[ -n "${PVHSTUB_MIRROR:-}" ] && { echo "$PVHSTUB_MIRROR"; return 0; }
	uri=$(apt_source_uris | awk '$2 ~ /^(oldoldstable|oldstable|stable|testing|unstable|buster|bullseye|bookworm|trixie|forky|duke|sid)(-updates)?$/ { print $1; exit }')
	[ -n "$uri" ] || uri=$(apt_source_uris | awk '$1 ~ /\/debian\/?$/ { print $1; exit }')
	[ -n "$uri" ] || { echo "no Debian mirror in /etc/apt/sources.list{,.d/*}: set PVHSTUB_MIRROR" >&2; return 1; }
	echo "${uri%/}"
}

debian_security_mirror() {
	[ -n "${PVHSTUB_SECURITY_MIRROR:-}" ] && { echo "$PVHSTUB_SECURITY_MIRROR"; return 0; }
	uri=$(apt_source_uris | awk '$2 ~ /-security$/ { print $1; exit }')
	echo "${uri%/}"
}

# apt_release DIR SUITE...: a private apt state in DIR for the given suites
# of the machine's mirror (SUITE-security comes from the security mirror),
# updated when its last update is a day old or its sources changed
# ($APT_EXTRA: more options, e.g. APT::Architectures, for every call); sets APT_OPTS for apt-get and apt-cache.
# The machine's sources, lists and status are never read or written.
apt_release() {
	adir=$1
	shift
	mirror=$(debian_mirror) || return 1
	security=$(debian_security_mirror)
	mkdir -p "$adir/lists/partial" "$adir/cache/archives/partial"
	for s in "$@"; do
		case $s in
		*-security) [ -n "$security" ] && echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $security $s main" ;;
		*) echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main" ;;
		esac
	done > "$adir/sources.list.new"
	: > "$adir/status"
	APT_OPTS="-o Dir::State=$adir -o Dir::State::Lists=$adir/lists -o Dir::State::status=$adir/status \
-o Dir::Cache=$adir/cache -o Dir::Etc::SourceList=$adir/sources.list -o Dir::Etc::SourceParts=/dev/null \
-o Acquire::Check-Valid-Until=false${APT_EXTRA:+ $APT_EXTRA}"
	if ! cmp -s "$adir/sources.list.new" "$adir/sources.list" ||
	   [ -z "$(find "$adir/updated" -mmin -1440 2>/dev/null)" ]; then
		mv "$adir/sources.list.new" "$adir/sources.list"
		# An index that fails (a mirror mid-sync) does not stop us while
		# the packages we need resolve.
		# shellcheck disable=SC2086
		apt-get $APT_OPTS update -q >/dev/null 2>&1 || true
		touch "$adir/updated"
	else
		rm -f "$adir/sources.list.new"
	fi
}
