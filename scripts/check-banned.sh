#!/usr/bin/env bash
# Fails when a banned call (lib/banned.h) appears in the program's sources,
# which do not include banned.h (they use only the public API). The library
# gets the same check from the compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
pat='\b(strcpy|strcat|strncpy|strncat|sprintf|vsprintf|strtok|atoi|atol|atof|gmtime|localtime|gets)\s*\('
if grep -nE "$pat" src/*.c src/*.h tests/unit/*.c bench/*.c 2>/dev/null | grep -vE '(snprintf|vsnprintf|_r\s*\()'; then
	echo "banned calls found (see lib/banned.h)" >&2
	exit 1
fi
echo "lint: no banned calls"
