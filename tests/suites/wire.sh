#!/usr/bin/env bash
# tier: check
# The wire codec (runtime/src/wire.c, docs/wire.md): every method of
# tests/e2e/kinds.idl through bytes and back (tests/wire/test-wire.c), with
# every truncation and one-byte corruption of each message fed to the
# decoders, every allocation failed in turn and hostile messages refused;
# the decoder's fuzz seeds and regressions (fuzz/wire-seeds) replayed
# through the harness without libFuzzer. (The valgrind suite runs both
# under valgrind, the asan and tsan suites the round trips, the
# fuzz-replay suite the seeds under ASan+UBSan.)
. tests/lib.sh

run_harness "wire" "$BUILD/tests/test-wire"
seeds=(fuzz/wire-seeds/*)
if [ "${#seeds[@]}" -lt 20 ] || [ ! -f "${seeds[0]}" ]; then
    fail "wire: fuzz seeds" "fuzz/wire-seeds holds ${#seeds[@]} files (make fuzz-wire-seeds)"
else
    check "wire: ${#seeds[@]} fuzz seeds and regressions replayed" "$BUILD/tests/wire-replay" "${seeds[@]}"
fi
suite_end
