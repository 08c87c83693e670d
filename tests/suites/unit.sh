#!/usr/bin/env bash
# tier: check
# The unit tests of the front end (tests/unit): the preprocessor's #if
# arithmetic and macro expansion, each CHECK named by its file and line.
. tests/lib.sh

bin=$BUILD/tests/test_pp
if [ ! -x "$bin" ]; then
    fail "preprocessor" "$bin is missing (build it with make)"
else
    rc=0
    limit 60 "$bin" > "$TMP/pp.out" 2>&1 || rc=$?
    while IFS= read -r line; do
        case "$line" in "FAIL "*) t_fail=$((t_fail + 1)); echo "FAIL preprocessor: ${line#FAIL }" ;; esac
    done < "$TMP/pp.out"
    sum=$(grep -E '^unit: [0-9]+ passed, [0-9]+ failed$' "$TMP/pp.out")
    if [ -z "$sum" ]; then
        fail "preprocessor" "no 'unit: N passed, N failed' line ($(status_text "$rc"))" "$TMP/pp.out"
    elif [ "$rc" -ne 0 ] && [ "$t_fail" -eq 0 ]; then
        fail "preprocessor" "$(status_text "$rc") without a FAIL line" "$TMP/pp.out"
    elif [ "$rc" -eq 0 ]; then
        ok "preprocessor: ${sum#unit: }"
    fi
fi
suite_end
