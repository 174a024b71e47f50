#!/bin/sh
# Debian's kernel packages run this after removing a kernel, through
# run-parts, with VERSION and the image path: delete its PVH image.
# After 'apt remove pvhstub' this conffile stays behind: do nothing then.
[ -x @LIBDIR@/pvhstub-kernel ] || exit 0
exec @LIBDIR@/pvhstub-kernel remove "$1" >&2
