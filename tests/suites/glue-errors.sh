#!/usr/bin/env bash
# tier: check
# What the glue cannot pass: tests/glue-errors/NAME.idl gives the located
# errors of NAME.expected (naming interface, method, parameter, member),
# exit 1, and no output file at all.
. tests/lib.sh

for idl in tests/glue-errors/*.idl; do
    n=$(basename "$idl" .idl)
    exp=tests/glue-errors/$n.expected
    rm -rf "$TMP/out"; mkdir -p "$TMP/out"
    rc=0
    limit 60 "$AMIDL" -I runtime/idl --outdir "$TMP/out" "$idl" > /dev/null 2> "$TMP/got" || rc=$?
    diags < "$TMP/got" > "$TMP/got.diags"
    if [ "$rc" -ne 1 ]; then
        fail "glue-errors $n" "$(status_text "$rc"), expected exit status 1" "$TMP/got"
    elif ! diff "$exp" "$TMP/got.diags" > "$TMP/diff"; then
        fail "glue-errors $n" "the diagnostics differ from $exp (< expected, > got)" "$TMP/diff"
    elif [ -n "$(ls -A "$TMP/out")" ]; then
        fail "glue-errors $n" "files left behind: $(ls "$TMP/out" | tr '\n' ' ')"
    else
        ok "glue-errors $n"
    fi
done
suite_end
