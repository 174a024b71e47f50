#!/bin/sh
# Debian's kernel packages run this after installing a kernel, through
# run-parts, with VERSION and the image path: wrap it into a PVH image.
# After 'apt remove pvhstub' this conffile stays behind: do nothing then.
[ -x @LIBDIR@/pvhstub-kernel ] || exit 0
exec @LIBDIR@/pvhstub-kernel add "$1" "${2:-}" >&2
