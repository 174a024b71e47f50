#!/bin/sh
# mkdeb.sh OUTDIR: build the Debian package from a copy of this tree in
# OUTDIR (dpkg-buildpackage writes next to the source, so never in the
# tree itself), and leave OUTDIR/pvhstub_VERSION_amd64.deb.
set -eu
outdir=$1
top=$(cd "$(dirname "$0")/.." && pwd)
for t in dpkg-buildpackage dh dpkg-parsechangelog; do
	command -v "$t" >/dev/null || { echo "mkdeb: $t is missing (run scripts/install-deps.sh)" >&2; exit 1; }
done
version=$(cd "$top" && dpkg-parsechangelog -S Version)
src="$outdir/pvhstub-$version"
rm -rf "$outdir" && mkdir -p "$src"
# The sources only: no build output (OUTDIR's own folder among it), caches
# or git metadata.
inside=build
case $outdir in "$top"/*) rel=${outdir#"$top"/} inside=${rel%%/*} ;; esac
(cd "$top" && tar -cf - --exclude=./.git --exclude=./.cache --exclude=./build \
	--exclude="./$inside" .) | (cd "$src" && tar -xf -)
(cd "$src" && dpkg-buildpackage -us -uc -b) > "$outdir/build.log" 2>&1 || {
	tail -n 40 "$outdir/build.log" >&2
	echo "mkdeb: dpkg-buildpackage failed; the whole log is $outdir/build.log" >&2
	exit 1
}
ls "$outdir"/pvhstub_"$version"_*.deb
