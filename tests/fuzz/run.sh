#!/usr/bin/env bash
# Builds the library once with clang for fuzzing (ASan+UBSan, coverage),
# links each libFuzzer harness against it and runs it for a few seconds on
# its seed corpus.
# Usage: tests/fuzz/run.sh SECONDS tests/fuzz/fuzz_*.c
set -euo pipefail
secs=$1; shift
out=build-fuzz
read -r -a pkg_cflags <<<"${PKG_CFLAGS:-}"
read -r -a pkg_libs <<<"${PKG_LIBS:-}"
flags=(-std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Ilib "${pkg_cflags[@]}")
mkdir -p "$out/obj"

# The library: an object per source, rebuilt when it or any header is newer.
objs=()
todo=()
for c in lib/*/*.c; do
	o="$out/obj/$(echo "${c%.c}" | tr / _).o"
	objs+=("$o")
	if [ ! -e "$o" ] || [ "$c" -nt "$o" ] ||
		[ -n "$(find include lib -name '*.h' -newer "$o" | head -1)" ]; then
		todo+=("$c" "$o")
	fi
done
compile() {
	clang "${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined -c "$1" -o "$2"
}
# Two at a time; a failed compile stops the run (set -e on wait).
for ((i = 0; i < ${#todo[@]}; i += 4)); do
	pids=()
	compile "${todo[i]}" "${todo[i + 1]}" & pids+=($!)
	if [ $((i + 2)) -lt ${#todo[@]} ]; then
		compile "${todo[i + 2]}" "${todo[i + 3]}" & pids+=($!)
	fi
	for p in "${pids[@]}"; do wait "$p"; done
done
rm -f "$out/libfuzz.a"
ar rcs "$out/libfuzz.a" "${objs[@]}"

for src in "$@"; do
	name=$(basename "$src" .c)
	echo "fuzz: $name (${secs}s)"
	clang "${flags[@]}" -fsanitize=fuzzer,address,undefined -o "$out/$name" \
		"$src" "$out/libfuzz.a" "${pkg_libs[@]}" -lglpk -lm -pthread
	corpus="$out/corpus-$name"
	mkdir -p "$corpus"
	seeds="tests/fuzz/seeds/${name#fuzz_}"
	[ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
	"$out/$name" -max_total_time="$secs" -max_len=65536 "$corpus" \
		>"$out/$name.log" 2>&1 || { tail -40 "$out/$name.log"; exit 1; }
	grep -E '^(#[0-9]+ *DONE|Done)' "$out/$name.log" | tail -1 || true
done
