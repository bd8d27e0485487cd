#!/usr/bin/env bash
# Runs every black-box test script tests/cli/t*.sh against $BESPOKE (the
# built program), each in a fresh temporary folder. A script exits 0 (pass),
# 77 (skip, after saying why) or anything else (fail).
set -u
: "${BESPOKE:?set BESPOKE to the bespoke binary}"
here=$(cd "$(dirname "$0")" && pwd)
export BESPOKE TESTLIB="$here/cli/lib.sh" SHARED_DATA="${SHARED_DATA:-$(cd "$here/.." && pwd)/../shared/data}"
pass=0; fail=0; skip=0
for t in "$here"/cli/t*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	dir=$(mktemp -d)
	( cd "$dir" && bash "$t" ) >"$dir.log" 2>&1
	rc=$?
	case $rc in
	0) pass=$((pass + 1)); echo "ok   $name" ;;
	77) skip=$((skip + 1)); echo "skip $name: $(tail -1 "$dir.log")" ;;
	*) fail=$((fail + 1)); echo "FAIL $name (exit $rc)"; tail -30 "$dir.log" | sed 's/^/    /' ;;
	esac
	rm -rf "$dir" "$dir.log"
done
echo "cli: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
