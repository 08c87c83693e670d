#!/usr/bin/env bash
# tier: slow
# The runtime's soak at length: AMRT_SOAK_SECONDS (default 60; make soak
# runs 300 and the stress test at full size).
. tests/lib.sh

soak=${AMRT_SOAK_SECONDS:-60}
AMRT_SOAK_SECONDS=$soak AMRT_TEST_TIMEOUT=$((${soak%.*} + 120)) HARNESS_LIMIT=$((${soak%.*} + 180)) \
    run_harness "soak ${soak} s" "$BUILD/tests/test-soak"
suite_end
