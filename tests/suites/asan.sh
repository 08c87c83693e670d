#!/usr/bin/env bash
# tier: slow
# The runtime tests under AddressSanitizer+UndefinedBehaviorSanitizer with
# leak checking (clang; make builds them in $BUILD/asan), the call-object
# tests also with AMRT_SPIN_US=0. Time limits: AMIDL_TEST_TIMEOUT_MULTIPLIER
# (default 5 here) times the usual ones.
AMIDL_TEST_TIMEOUT_MULTIPLIER=${AMIDL_TEST_TIMEOUT_MULTIPLIER:-5}
. tests/lib.sh
. tests/sanitize.sh
sanitize asan
suite_end
