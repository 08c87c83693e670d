#!/usr/bin/env bash
# tier: slow
# The runtime tests (the wire codec's too) and the samples under valgrind:
# no error, no definite or indirect leak. Time limits are AMIDL_TEST_TIMEOUT_MULTIPLIER (default
# 10 here) times the usual ones.
AMIDL_TEST_TIMEOUT_MULTIPLIER=${AMIDL_TEST_TIMEOUT_MULTIPLIER:-10}
. tests/lib.sh

if ! command -v valgrind >/dev/null; then
    fail "valgrind" "valgrind is not installed (README's first command installs it)"
    suite_end; exit
fi
vg() {      # vg NAME BINARY: clean under valgrind, its harness passes
    local name=$1 bin=$2 rc=0
    if [ ! -x "$bin" ]; then fail "$name" "$bin is missing (build it with make)"; return; fi
    limit 120 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$bin" > "$TMP/vg.out" 2>&1 || rc=$?
    case "$rc" in
        0) ok "$name is clean under valgrind (no error, no leak)" ;;
        99) fail "$name under valgrind" "valgrind found errors or leaks" "$TMP/vg.out" ;;
        *) fail "$name under valgrind" "$(status_text "$rc")" "$TMP/vg.out" ;;
    esac
}
for t in core sync pool callobj e2e wire; do
    vg "runtime $t" "$BUILD/tests/test-$t"
done
# the wire decoder's fuzz seeds and regressions (fuzz/wire-seeds) through its harness
CHECK_LIMIT=300 check "wire fuzz seeds replayed under valgrind" valgrind -q --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 "$BUILD/tests/wire-replay" fuzz/wire-seeds/*
vg "cancel" "$BUILD/samples/cancel"
vg "serverasync" "$BUILD/samples/serverasync"
vg "simplestream" "$BUILD/samples/simplestream/client"
suite_end
