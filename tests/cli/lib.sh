# Sourced by every tests/cli/t*.sh: small assertions around $BESPOKE.
# Each script runs in a fresh temporary folder; exit 77 means skipped.
set -u
B=$BESPOKE

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }

# expect_exit CODE CMD...: runs CMD, keeps stdout in out.txt and stderr in
# err.txt, and fails unless it exits with CODE.
expect_exit() {
	local want=$1; shift
	"$@" >out.txt 2>err.txt
	local got=$?
	if [ "$got" != "$want" ]; then
		echo "--- stdout"; cat out.txt; echo "--- stderr"; cat err.txt
		fail "'$*' exited $got, expected $want"
	fi
}

# contains FILE TEXT: FILE has a line containing TEXT.
contains() { grep -qF -- "$2" "$1" || { cat "$1"; fail "$1 lacks '$2'"; }; }
lacks() { ! grep -qF -- "$2" "$1" || { cat "$1"; fail "$1 has '$2'"; }; }

# json_get FILE EXPR: a value out of JSON output (python3 is on every
# Debian machine this runs on; jq may not be).
json_get() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }
