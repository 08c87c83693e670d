#!/usr/bin/env bash
# tier: check
# The wire codec (runtime/src/wire.c, docs/wire.md): every method of
# tests/e2e/kinds.idl through bytes and back (tests/wire/test-wire.c), with
# every truncation and one-byte corruption of each message fed to the
# decoders and hostile messages refused; the same under valgrind; the
# decoder's fuzz seeds and regressions (fuzz/wire-seeds) replayed through
# the harness without libFuzzer, natively and under valgrind (the
# fuzz-replay suite replays them under ASan+UBSan).
. tests/lib.sh

run_harness "wire" "$BUILD/tests/test-wire"
seeds=(fuzz/wire-seeds/*)
if [ "${#seeds[@]}" -lt 20 ] || [ ! -f "${seeds[0]}" ]; then
    fail "wire: fuzz seeds" "fuzz/wire-seeds holds ${#seeds[@]} files (make fuzz-wire-seeds)"
else
    check "wire: ${#seeds[@]} fuzz seeds and regressions replayed" "$BUILD/tests/wire-replay" "${seeds[@]}"
fi
if command -v valgrind >/dev/null; then
    AMIDL_TEST_TIMEOUT_MULTIPLIER=$((AMIDL_TEST_TIMEOUT_MULTIPLIER * 10)) \
        run_harness "wire (valgrind)" "$(command -v valgrind)" -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=9 --trace-children=no "$BUILD/tests/test-wire"
    CHECK_LIMIT=600 check "wire: fuzz seeds replayed under valgrind" valgrind -q --leak-check=full --error-exitcode=9 \
        "$BUILD/tests/wire-replay" "${seeds[@]}"
else
    skip "wire (valgrind)" "valgrind is missing"
fi
suite_end
