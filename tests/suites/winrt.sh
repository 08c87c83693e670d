#!/usr/bin/env bash
# tier: check
# WinRT headers: API contracts are written as widl --winrt writes them, each
# version macro the same, for tests/golden/winrt_contracts.idl and the
# corpus's windowscontracts.idl; every WinRT file of the corpus passes
# --check; every one's header (namespaces, enums, structs, interfaces,
# delegates, runtimeclasses, generics and their instances) is widl's, and so
# is tests/golden/winrt_namespace.idl's (tests/abi.sh compiles them and
# compares their ABI under mingw-w64 gcc).
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

# every WinRT file of the corpus (and the COM file importing WinRT headers)
# is written, and its header is widl's from the include guard on (the
# banner and the system includes before it are amidl's own)
if [ -x "$W" ] && [ -d "$CORPUS/mingw-w64" ]; then
    mkdir -p "$TMP/wa" "$TMP/ww"
    n=0 same=0
    : > "$TMP/hdr.err"
    for idl in "$CORPUS"/mingw-w64/*.idl; do
        grep -q '^ *namespace \|^ *import *"windows\.' "$idl" || continue
        b=$(basename "$idl" .idl) g=__$(basename "$idl" .idl | tr . _)_h__
        n=$((n + 1))
        if ! limit 60 "$AMIDL" -w --no-iid --no-glue -DBOOL=WINBOOL -I "$CORPUS/mingw-w64" -I "$CORPUS/mingw-w64-include" \
                --outdir "$TMP/wa" "$idl" >> "$TMP/hdr.err" 2>&1; then
            echo "  ^ amidl failed on $b.idl" >> "$TMP/hdr.err"; continue
        fi
        limit 60 "$W" -DBOOL=WINBOOL -I "$CORPUS/mingw-w64" -I "$CORPUS/mingw-w64-include" -h -H "$TMP/ww/$b.h" "$idl" >/dev/null 2>&1
        for d in wa ww; do
            sed -n "/^#ifndef $g\$/,\$p" "$TMP/$d/$b.h" > "$TMP/$d/$b.norm"
        done
        if [ -s "$TMP/ww/$b.norm" ] && diff -u "$TMP/ww/$b.norm" "$TMP/wa/$b.norm" > "$TMP/wa/$b.diff"; then
            same=$((same + 1))
        else
            { echo "  ^ $b.h differs from widl's (- widl, + amidl):"; head -20 "$TMP/wa/$b.diff"; } >> "$TMP/hdr.err"
        fi
    done
    if [ "$n" -gt 0 ] && [ "$same" -eq "$n" ]; then
        ok "the headers of the corpus's $n WinRT files are widl's"
    else
        fail "the headers of the corpus's WinRT files" "$same of $n as widl's" "$TMP/hdr.err"
    fi
else
    skip "the corpus's WinRT headers as widl's" "$W or the corpus missing"
fi

# tests/golden/winrt_namespace.idl and winrt_iids.idl (an instance a
# declare block names twice: a forward declaration for each, the first in
# the body with its C++ declaration) as widl --winrt writes them (the
# golden suite checks amidl's output byte for byte; this, that it is widl's)
if [ -x "$W" ]; then
    mkdir -p "$TMP/gw" "$TMP/ga"
    for n in winrt_namespace winrt_iids; do
        check "amidl writes $n.h" "$AMIDL" -w --no-iid --no-glue -I tests/golden --outdir "$TMP/ga" "tests/golden/$n.idl"
        check "widl --winrt writes $n.h" "$W" --winrt -I runtime/idl -I tests/golden -h -H "$TMP/gw/$n.h" "tests/golden/$n.idl"
        if diff -u <(sed -n "/^#ifndef __${n}_h__\$/,\$p" "$TMP/gw/$n.h") \
                   <(sed -n "/^#ifndef __${n}_h__\$/,\$p" "$TMP/ga/$n.h") > "$TMP/g.diff"; then
            ok "$n.h is widl's"
        else
            fail "$n.h is widl's" "it differs (- widl, + amidl)" "$TMP/g.diff"
        fi
    done
fi
suite_end
