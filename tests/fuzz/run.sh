#!/usr/bin/env bash
# Builds each libFuzzer harness with clang (ASan+UBSan) against the library
# sources and runs it for a few seconds on its seed corpus.
# Usage: tests/fuzz/run.sh SECONDS tests/fuzz/fuzz_*.c
set -euo pipefail
secs=$1; shift
out=build-fuzz
mkdir -p "$out"
for src in "$@"; do
	name=$(basename "$src" .c)
	echo "fuzz: $name (${secs}s)"
	# shellcheck disable=SC2086
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-Iinclude -Ilib $PKG_CFLAGS -o "$out/$name" "$src" lib/*/*.c \
		$PKG_LIBS -lm -pthread
	corpus="$out/corpus-$name"
	mkdir -p "$corpus"
	seeds="tests/fuzz/seeds/${name#fuzz_}"
	[ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
	"$out/$name" -max_total_time="$secs" -max_len=65536 "$corpus" \
		>"$out/$name.log" 2>&1 || { tail -40 "$out/$name.log"; exit 1; }
	grep -E '^(#[0-9]+ *DONE|Done)' "$out/$name.log" | tail -1 || true
done
