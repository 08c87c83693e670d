#!/usr/bin/env bash
# tests/sanitize.sh - run the runtime tests built by 'make test-sanitize'
# under ASan+UBSan (leak checking on) and under TSan; each of the two
# suites ends with its own line "N passed, N failed".
set -u
BUILD=${BUILD:-build}
pass=0; fail=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# the soak, short under the sanitizers (its full length is make test and make soak)
export AMRT_SOAK_SECONDS=${AMRT_SAN_SOAK_SECONDS:-8}
total_fail=0
for kind in asan tsan; do
    pass=0; fail=0
    echo "== runtime tests under ${kind}"
    # the call-object tests also with AMRT_SPIN_US=0: every wait sleeps, no worker lingers
    for t in test-core test-sync test-pool test-callobj test-stress test-soak test-e2e \
             spin0:test-callobj spin0:test-stress; do
        spin=; name=$t
        case "$t" in spin0:*) spin=0; t=${t#spin0:} ;; esac
        while IFS= read -r line; do
            case "$line" in
                "ok "*) pass=$((pass + 1)) ;;
                "FAIL "*) fail=$((fail + 1)); echo "FAIL: $kind $name: ${line#FAIL }" ;;
            esac
        done < <(env ${spin:+AMRT_SPIN_US=$spin} timeout 300 "$BUILD/$kind/tests/$t" 2>"$BUILD/$kind/${name/:/-}.log")
        if grep -q "Sanitizer" "$BUILD/$kind/${name/:/-}.log"; then
            fail=$((fail + 1)); echo "FAIL: $kind $name: sanitizer report"; grep -m5 "Sanitizer\|#[0-4] " "$BUILD/$kind/${name/:/-}.log"
        fi
    done
    echo "$pass passed, $fail failed"      # each suite ends with its own line
    total_fail=$((total_fail + fail))
done
[ "$total_fail" -eq 0 ]
