#!/usr/bin/env bash
# tier: slow
# make install into a temporary prefix; the make, CMake (Ninja, Unix
# Makefiles) and Meson examples and the README's tutorial built against
# it; make uninstall (tests/install.sh does it, this relays its lines).
. tests/lib.sh

# relay LABEL < lines "ok: X" / "FAIL: X" (what follows a FAIL is its output)
relay() {
    local line
    while IFS= read -r line; do
        case "$line" in
            ok:*) ok "$1: ${line#ok: }" ;;
            FAIL:*) t_fail=$((t_fail + 1)); echo "FAIL $1: ${line#FAIL: }" ;;
            *) echo "    $line" ;;
        esac
    done
}
rc=0
# the examples take AMIDL from the environment: theirs is the installed one
(unset AMIDL; limit 1200 bash tests/install.sh "$TMP/install") > "$TMP/install.out" 2>&1 || rc=$?
relay install < "$TMP/install.out"
[ "$rc" -eq 0 ] || fail "install" "tests/install.sh: $(status_text "$rc")" "$TMP/install.out"
suite_end
