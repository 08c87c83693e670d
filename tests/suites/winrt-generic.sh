#!/usr/bin/env bash
# tier: check
# WinRT parameterized interface instances (#13): the unit tests of the
# signatures, SHA-1 and version-5 IIDs (tests/unit/test_winrt.c), then,
# for each corpus file with a declare { } block, the instances its blocks
# name, in order, their C names and IIDs as the front end computes them
# (test_winrt FILE prints them as DEFINE_GUID lines) against the
# DEFINE_GUID(IID___F...) lines of widl --winrt's header for the file, and
# their methods with the parameters substituted (test_winrt -m: the C call
# macros of each vtable) against the header's #define X_M(This,...) lines.
. tests/lib.sh

bin=$BUILD/tests/test_winrt
W=$SHARED/tools/widl
if [ ! -x "$bin" ]; then
    fail "winrt unit tests" "$bin is missing (build it with make)"
    suite_end
    exit
fi

rc=0
limit 60 "$bin" > "$TMP/unit.out" 2>&1 || rc=$?
sum=$(grep -E '^unit: [0-9]+ passed, 0 failed$' "$TMP/unit.out")
if [ "$rc" -eq 0 ] && [ -n "$sum" ]; then
    ok "winrt unit tests: ${sum#unit: }"
else
    fail "winrt unit tests" "$(status_text "$rc")" "$TMP/unit.out"
fi

# the instances of the corpus's declare blocks, as widl's headers declare their IIDs
M=$CORPUS/mingw-w64
files=$(grep -l '^ *declare *{' "$M"/*.idl 2>/dev/null)
if [ -z "$files" ]; then
    skip "instances of the corpus's declare blocks" "no corpus at $M"
elif [ ! -x "$W" ]; then
    skip "instances of the corpus's declare blocks" "$W missing"
else
    n=0 bad=0 total=0 mbad=0 mtotal=0
    : > "$TMP/diffs"
    : > "$TMP/mdiffs"
    for idl in $files; do
        b=$(basename "$idl" .idl)
        n=$((n + 1))
        rc=0
        limit 60 "$W" --winrt -I "$M" -I "$M-include" -h -H "$TMP/$b.h" "$idl" > "$TMP/widl.err" 2>&1 || rc=$?
        if [ "$rc" -ne 0 ]; then
            bad=$((bad + 1))
            { echo "$b: widl failed ($(status_text "$rc"))"; cat "$TMP/widl.err"; } >> "$TMP/diffs"
            continue
        fi
        # an instance's IID: __F... (Windows.Foundation generics) or __x_..._N_ (any other namespace)
        grep -E '^DEFINE_GUID\(IID___(F|x_[A-Za-z0-9_]*_[0-9]+_)' "$TMP/$b.h" > "$TMP/$b.want"
        rc=0
        limit 60 "$bin" -I "$M" -I "$M-include" "$idl" > "$TMP/$b.got" 2>&1 || rc=$?
        total=$((total + $(wc -l < "$TMP/$b.want")))
        if [ "$rc" -ne 0 ]; then
            bad=$((bad + 1))
            { echo "$b: test_winrt failed ($(status_text "$rc"))"; head -20 "$TMP/$b.got"; } >> "$TMP/diffs"
        elif [ ! -s "$TMP/$b.want" ]; then
            bad=$((bad + 1))
            echo "$b: no instance IID in widl's header" >> "$TMP/diffs"
        elif ! diff -u "$TMP/$b.want" "$TMP/$b.got" > "$TMP/$b.diff"; then
            bad=$((bad + 1))
            { echo "$b: (- widl, + amidl)"; head -40 "$TMP/$b.diff"; } >> "$TMP/diffs"
        fi
        # their methods: the C call macros of each vtable, root first (names, order, parameters)
        grep -E '^#define (__F|__x_[A-Za-z0-9_]*_[0-9]+_)[A-Za-z0-9_]*\(This' "$TMP/$b.h" > "$TMP/$b.mwant"
        rc=0
        limit 60 "$bin" -m -I "$M" -I "$M-include" "$idl" > "$TMP/$b.mgot" 2>&1 || rc=$?
        mtotal=$((mtotal + $(wc -l < "$TMP/$b.mwant")))
        if [ "$rc" -ne 0 ] || ! diff -u "$TMP/$b.mwant" "$TMP/$b.mgot" > "$TMP/$b.mdiff"; then
            mbad=$((mbad + 1))
            { echo "$b: methods (- widl, + amidl; $(status_text "$rc"))"; head -40 "$TMP/$b.mdiff"; } >> "$TMP/mdiffs"
        fi
    done
    if [ "$bad" -eq 0 ]; then
        ok "instances of the declare blocks of $n corpus files: $total C names and IIDs as widl's, in its order"
    else
        fail "instances of the corpus's declare blocks" "$bad of $n files differ" "$TMP/diffs"
    fi
    if [ "$mbad" -eq 0 ] && [ "$mtotal" -gt 0 ]; then
        ok "methods of those instances, substituted: $mtotal C call macros as widl's (names, order, parameters)"
    else
        fail "methods of the corpus's instances" "$mbad of $n files differ ($mtotal macros)" "$TMP/mdiffs"
    fi
fi

# a declare block's repeat: the instance once (widl defines its interface once)
cat > "$TMP/rep.idl" <<'EOF'
import "unknwn.idl";
[object, uuid(af86e2e0-b12d-4c6a-9c5a-d7aa65101e90)]
interface IInspectable : IUnknown { HRESULT GetIids(); }
namespace Windows.Foundation {
    [uuid(61c17706-2d65-11e0-9ae8-d48564015472)]
    interface IReference<T> : IInspectable { [propget] HRESULT Value([out, retval] T *value); }
    declare {
        interface Windows.Foundation.IReference<INT32>;
        interface Windows.Foundation.IReference<DOUBLE>;
        interface Windows.Foundation.IReference<INT32>;
    }
}
EOF
rc=0
limit 60 "$bin" -I runtime/idl "$TMP/rep.idl" > "$TMP/rep.got" 2>&1 || rc=$?
# IReference<INT32> and IReference<DOUBLE>: the IIDs of widl's windows.foundation.h
cat > "$TMP/rep.want" <<'EOF'
DEFINE_GUID(IID___FIReference_1_INT32, 0x548cefbd, 0xbc8a, 0x5fa0, 0x8d,0xf2, 0x95,0x74,0x40,0xfc,0x8b,0xf4);
DEFINE_GUID(IID___FIReference_1_DOUBLE, 0x2f2d6c29, 0x5473, 0x5f3e, 0x92,0xe7, 0x96,0x57,0x2b,0xb9,0x90,0xe2);
EOF
if [ "$rc" -eq 0 ] && diff -u "$TMP/rep.want" "$TMP/rep.got" > "$TMP/rep.diff"; then
    ok "a repeated instance in a declare block: declared once, the IIDs of widl's windows.foundation.h"
else
    cat "$TMP/rep.got" >> "$TMP/rep.diff"
    fail "a repeated instance in a declare block" "$(status_text "$rc"), or not the two instances" "$TMP/rep.diff"
fi
suite_end
