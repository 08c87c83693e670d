#!/usr/bin/env bash
# tier: slow
# timeout: 1800
# The two-process suite (oop.sh) with its server and client programs built
# with ASan+UBSan, then with TSan (make oop-sanitize-build): a sanitizer
# report ends its process with an error, which fails that case.
AMIDL_TEST_TIMEOUT_MULTIPLIER=${AMIDL_TEST_TIMEOUT_MULTIPLIER:-5}
. tests/lib.sh
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
for kind in asan tsan; do
    rc=0
    OOP_BUILD=$BUILD/$kind limit 1200 bash tests/suites/oop.sh > "$TMP/$kind.out" 2>&1 || rc=$?
    while IFS= read -r line; do
        case "$line" in
            "ok "*) ok "$kind: ${line#ok }" ;;
            "FAIL "*) t_fail=$((t_fail + 1)); echo "FAIL $kind: ${line#FAIL }" ;;
            "skip "*) echo "skip $kind: ${line#skip }" ;;
            *) echo "$line" ;;
        esac
    done < "$TMP/$kind.out"
    grep -q '^ok ' "$TMP/$kind.out" || fail "$kind oop" "no case ran ($(status_text "$rc"))" "$TMP/$kind.out"
done
suite_end
