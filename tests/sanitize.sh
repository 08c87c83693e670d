# tests/sanitize.sh - sourced by the asan and tsan suites (after
# tests/lib.sh): sanitize KIND runs the runtime tests of $BUILD/KIND/tests
# (make sanitize-build-KIND builds them), each through run_harness, and
# fails a test whose log holds a sanitizer report.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# the soak, short under the sanitizers (its full length is the soak suite)
export AMRT_SOAK_SECONDS=${AMRT_SAN_SOAK_SECONDS:-8}

sanitize() {
    local kind=$1 t spin name
    for t in test-core test-sync test-pool test-callobj test-stress test-soak test-e2e test-wire \
             spin0:test-callobj spin0:test-stress; do
        spin=; name=$t
        case "$t" in spin0:*) spin=0; t=${t#spin0:} ;; esac
        if [ -n "$spin" ]; then
            AMRT_SPIN_US=0 HARNESS_LIMIT=600 run_harness "$kind $t (AMRT_SPIN_US=0)" "$BUILD/$kind/tests/$t" > "$TMP/$kind.out"
        else
            HARNESS_LIMIT=600 run_harness "$kind $t" "$BUILD/$kind/tests/$t" > "$TMP/$kind.out"
        fi
        cat "$TMP/$kind.out"
        if grep -q "Sanitizer" "$TMP/$kind.out"; then
            grep -m5 "Sanitizer\|#[0-4] " "$TMP/$kind.out" > "$TMP/$kind.report"
            fail "$kind $name" "sanitizer report" "$TMP/$kind.report"
        fi
    done
}
