#!/usr/bin/env bash
# The wire codec (docs/wire.md): round trips through bytes, hostile input.
out=$(timeout 60 "$BUILD/tests/test-wire" 2>&1)
if [ $? -eq 0 ]; then echo "ok wire: round trip and truncations"; else echo "FAIL wire: round trip and truncations"; echo "$out" | sed 's/^/    /'; fi
if command -v valgrind >/dev/null; then
    out=$(timeout 120 valgrind -q --leak-check=full --error-exitcode=9 "$BUILD/tests/test-wire" 2>&1)
    if [ $? -eq 0 ]; then echo "ok wire: valgrind clean"; else echo "FAIL wire: valgrind"; echo "$out" | sed 's/^/    /'; fi
else
    echo "ok wire: valgrind (skipped: valgrind missing)"
fi
