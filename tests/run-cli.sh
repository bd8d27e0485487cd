#!/usr/bin/env bash
# Runs every black-box test script tests/cli/t*.sh against $BESPOKE (the
# built program), each in a fresh temporary folder. A script exits 0 (pass),
# 77 (skip, after saying why) or anything else (fail). Arguments, when
# given, name the scripts to run instead (paths or tNNNN prefixes).
set -u
: "${BESPOKE:?set BESPOKE to the bespoke binary}"
here=$(cd "$(dirname "$0")" && pwd)
export BESPOKE TESTLIB="$here/cli/lib.sh" SHARED_DATA="${SHARED_DATA:-$(cd "$here/.." && pwd)/../shared/data}"
pass=0; fail=0; skip=0
tests=("$here"/cli/t*.sh)
if [ $# -gt 0 ]; then
	tests=()
	for a in "$@"; do
		[ -f "$a" ] && tests+=("$(cd "$(dirname "$a")" && pwd)/$(basename "$a")") ||
			tests+=("$here"/cli/"$(basename "$a" .sh)"*.sh)
	done
fi
for t in "${tests[@]}"; do
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
