#!/usr/bin/env bash
# tier: check
# WinRT headers so far: API contracts (and the namespaces holding them) are
# written as widl --winrt writes them, each version macro the same, for
# tests/golden/winrt_contracts.idl and the corpus's windowscontracts.idl;
# every WinRT file of the corpus passes --check; a file with any other
# declaration in a namespace is refused with one located error, nothing
# written (that output is not implemented yet).
. tests/lib.sh

W=$SHARED/tools/widl
mkdir -p "$TMP/amidl"
macros() { grep -A1 '^#if !defined(.*_VERSION)$' "$1" | grep '^#define .*_VERSION 0x'; }
for idl in tests/golden/winrt_contracts.idl "$CORPUS/mingw-w64/windowscontracts.idl"; do
    n=$(basename "$idl" .idl)
    if [ ! -f "$idl" ]; then skip "WinRT contracts of $n" "$idl missing"; continue; fi
    check "amidl writes $n.h" "$AMIDL" -w --no-iid --no-glue -I "$CORPUS/mingw-w64" --outdir "$TMP/amidl" "$idl"
    if [ ! -x "$W" ]; then skip "$n.h contract macros as widl's" "$W missing"; continue; fi
    mkdir -p "$TMP/widl"
    check "widl --winrt writes $n.h" "$W" --winrt -I "$CORPUS/mingw-w64" -h -H "$TMP/widl/$n.h" "$idl"
    macros "$TMP/widl/$n.h" > "$TMP/w.txt"
    macros "$TMP/amidl/$n.h" > "$TMP/a.txt" 2>/dev/null
    if [ ! -s "$TMP/w.txt" ]; then
        fail "$n.h contract macros as widl's" "no contract macro in widl's header"
    elif diff -u "$TMP/w.txt" "$TMP/a.txt" > "$TMP/diff"; then
        ok "$n.h contract macros as widl's ($(wc -l < "$TMP/w.txt"))"
    else
        fail "$n.h contract macros as widl's" "they differ (- widl, + amidl)" "$TMP/diff"
    fi
done

# the front end reads every WinRT file of the corpus
n=0 bad=0
: > "$TMP/check.err"
for idl in "$CORPUS"/mingw-w64/*.idl; do
    grep -q '^ *namespace \|^ *runtimeclass \|^ *declare ' "$idl" || continue
    n=$((n + 1))
    limit 60 "$AMIDL" --check -w -DBOOL=WINBOOL -I "$CORPUS/mingw-w64" -I "$CORPUS/mingw-w64-include" "$idl" \
        >> "$TMP/check.err" 2>&1 || { bad=$((bad + 1)); echo "  ^ $(basename "$idl")" >> "$TMP/check.err"; }
done
if [ "$n" -eq 0 ]; then
    skip "amidl --check on the corpus's WinRT files" "no corpus"
elif [ "$bad" -eq 0 ]; then
    ok "amidl --check accepts the corpus's $n WinRT files"
else
    fail "amidl --check on the corpus's WinRT files" "$bad of $n rejected" "$TMP/check.err"
fi

# an interface in a namespace: one located error, no output
mkdir -p "$TMP/out"
printf 'namespace N {\n    [contractversion(1)]\n    apicontract C {};\n    [contract(N.C, 1)]\n    enum E { A = 0 };\n}\n' \
    > "$TMP/iface.idl"
rc=0
"$AMIDL" --nostdinc --outdir "$TMP/out" "$TMP/iface.idl" > "$TMP/err" 2>&1 || rc=$?
if [ "$rc" -eq 1 ] && grep -q "^$TMP/iface.idl:[0-9]*:[0-9]*: error: WinRT output is not supported yet" "$TMP/err" \
        && [ -z "$(ls -A "$TMP/out")" ]; then
    ok "a declaration in a namespace other than a contract: a located error, exit 1, nothing written"
else
    fail "a declaration in a namespace other than a contract" "exit $rc, or no located error, or output written" "$TMP/err"
fi
suite_end
