#!/usr/bin/env bash
# tier: slow
# Every fuzz seed once through the libFuzzer harness under ASan+UBSan
# (make fuzz builds $BUILD/fuzz/fuzz_amidl): tests/errors, tests/golden,
# tests/glue-errors, tests/e2e, tests/fuzz, the base IDL, the samples; and
# the wire decoder's seeds and regressions (fuzz/wire-seeds) through its
# harness (make fuzz-wire builds $BUILD/fuzz/fuzz_wire), all in one run.
AMIDL_TEST_TIMEOUT_MULTIPLIER=${AMIDL_TEST_TIMEOUT_MULTIPLIER:-5}
. tests/lib.sh

bin=$BUILD/fuzz/fuzz_amidl
if [ ! -x "$bin" ]; then
    fail "fuzz replay" "$bin is missing (make fuzz)"
else
    export ASAN_OPTIONS=detect_leaks=1
    export AMIDL_FUZZ_INCLUDE=runtime/idl:$CORPUS/mingw-w64:$CORPUS/mingw-w64-include
    for seed in tests/errors/*.idl tests/golden/*.idl tests/glue-errors/*.idl tests/e2e/*.idl \
                runtime/idl/*.idl samples/simplestream/*.idl bench/glue.idl tests/fuzz/*; do
        [ -f "$seed" ] || continue
        check "fuzz replay $seed" "$bin" -timeout=60 "$seed"
    done
fi
wire=$BUILD/fuzz/fuzz_wire
if [ ! -x "$wire" ]; then
    fail "fuzz replay: wire seeds" "$wire is missing (make fuzz-wire)"
else
    seeds=(fuzz/wire-seeds/*)
    ASAN_OPTIONS=detect_leaks=1 CHECK_LIMIT=300 check "fuzz replay: ${#seeds[@]} wire seeds and regressions" \
        "$wire" -timeout=60 "${seeds[@]}"
fi
suite_end
