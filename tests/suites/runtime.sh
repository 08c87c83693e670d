#!/usr/bin/env bash
# tier: check
# libamidlrt's tests (tests/runtime, task.h: each test in its own process
# with a time limit), the call-object tests again with AMRT_SPIN_US=0, a
# short soak (AMRT_SOAK_SECONDS, default 5 here; the long one is the soak
# suite), amidlrt.h from C++ against the shared library, the exports.
. tests/lib.sh

for t in core sync pool callobj stress e2e; do
    run_harness "$t" "$BUILD/tests/test-$t"
done
# every wait sleeps, no worker lingers
for t in callobj stress e2e; do
    AMRT_SPIN_US=0 run_harness "$t (AMRT_SPIN_US=0)" "$BUILD/tests/test-$t"
done
soak=${AMRT_SOAK_SECONDS:-5}
AMRT_SOAK_SECONDS=$soak AMRT_TEST_TIMEOUT=$((${soak%.*} + 120)) HARNESS_LIMIT=$((${soak%.*} + 180)) \
    run_harness "soak ${soak} s" "$BUILD/tests/test-soak"

if [ -x "$BUILD/tests/cxx-api" ]; then
    check "amidlrt.h from C++ (REFIID references, C++ vtables), linked to the shared library" \
        env LD_LIBRARY_PATH="$BUILD/lib" "$BUILD/tests/cxx-api"
else
    fail "amidlrt.h from C++" "$BUILD/tests/cxx-api is missing (build it with make)"
fi
nm -D --defined-only "$BUILD/lib/libamidlrt.so" > "$TMP/nm.out" 2>&1
if [ ! -s "$TMP/nm.out" ]; then
    fail "libamidlrt.so exports only its API" "nm found no symbol in $BUILD/lib/libamidlrt.so" "$TMP/nm.out"
elif grep amrt__ "$TMP/nm.out" > "$TMP/nm.bad"; then
    fail "libamidlrt.so exports only its API" "amrt__ internals exported" "$TMP/nm.bad"
else
    ok "libamidlrt.so exports only its API (no amrt__ internals)"
fi
suite_end
