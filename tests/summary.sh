#!/bin/sh
# tests/summary.sh BUILD_DIR: add up every suite's results and print the
# closing line.  Exits 1 if anything failed or nothing ran.
obj=$1
dir="$obj/tests/results"
passed=$(cat "$dir"/* 2>/dev/null | grep -c '^pass ')
failed=$(cat "$dir"/* 2>/dev/null | grep -c '^fail ')
if [ "$failed" != 0 ]; then
	echo "Failed:"
	cat "$dir"/* | sed -n 's/^fail /  /p'
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
