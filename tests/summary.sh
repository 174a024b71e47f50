#!/bin/sh
# tests/summary.sh BUILD_DIR: add up every suite's results and print the
# closing line.  Exits 1 if anything failed or nothing ran.
obj=$1
dir="$obj/tests/results"
passed=$(cat "$dir"/* 2>/dev/null | grep -c '^pass ')
failed=$(cat "$dir"/* 2>/dev/null | grep -c '^fail ')
skipped=$(cat "$dir"/* 2>/dev/null | grep -c '^skip ')
if [ "$failed" != 0 ]; then
	echo "Failed:"
	cat "$dir"/* | sed -n 's/^fail /  /p'
fi
if [ "$skipped" != 0 ]; then
	echo "Skipped (allowed outside CI; under CI=true a skip fails):"
	cat "$dir"/* | sed -n 's/^skip /  /p'
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
