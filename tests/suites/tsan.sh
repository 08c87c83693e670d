#!/usr/bin/env bash
# tier: slow
# The runtime tests under ThreadSanitizer (clang; make builds them in
# $BUILD/tsan), the call-object tests also with AMRT_SPIN_US=0. Time
# limits: AMIDL_TEST_TIMEOUT_MULTIPLIER (default 10 here) times the usual.
AMIDL_TEST_TIMEOUT_MULTIPLIER=${AMIDL_TEST_TIMEOUT_MULTIPLIER:-10}
. tests/lib.sh
. tests/sanitize.sh
sanitize tsan
suite_end
