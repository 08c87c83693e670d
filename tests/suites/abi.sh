#!/usr/bin/env bash
# tier: slow
# timeout: 3600
# amidl's headers against the reference widl 11.12 over the corpus
# (tests/abi.sh: ../shared/tools/abi_compare.py, sizeof and vtable
# offsets under mingw-w64 gcc, each header compiled alone as C and C++).
# AMIDL_SKIP_ABI=1 skips it.
. tests/lib.sh

if [ "${AMIDL_SKIP_ABI:-0}" = 1 ]; then
    skip "abi" "AMIDL_SKIP_ABI=1"
elif ! command -v x86_64-w64-mingw32-gcc >/dev/null || [ ! -x "$SHARED/tools/widl" ]; then
    fail "abi" "x86_64-w64-mingw32-gcc or $SHARED/tools/widl missing"
else
    rc=0
    limit 3000 bash tests/abi.sh "$TMP/abi" > "$TMP/abi.out" 2>&1 || rc=$?
    while IFS= read -r line; do
        case "$line" in
            ok:*) ok "${line#ok: }" ;;
            FAIL:*) t_fail=$((t_fail + 1)); echo "FAIL ${line#FAIL: }" ;;
            abi:*) echo "$line" ;;
            *) echo "    $line" ;;
        esac
    done < "$TMP/abi.out"
    [ "$rc" -eq 0 ] || fail "abi" "tests/abi.sh: $(status_text "$rc")" "$TMP/abi.out"
fi
suite_end
