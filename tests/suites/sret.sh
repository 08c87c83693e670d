#!/usr/bin/env bash
# tier: check
# Methods returning structures and unions (tests/sret/sret.idl): on Linux
# the header's C view returns them by value as its C++ view does, so a C
# caller into a C++ object and a C++ caller into a C object get the values
# (small ones in registers, large ones through memory), built by gcc/g++,
# clang/clang++ and the mixed pairs (tests/mk/sret.mk). Under mingw-w64 the
# header keeps widl's layout, and the calling conventions written in the
# IDL (tests/sret/callconv.idl) survive as widl writes them: abi_compare.py
# (sizes and vtable offsets) and tests/sret/signatures.py (each function
# type as C++ mangles it, for win32, where the calling convention is part
# of it) against ../shared/tools/widl's header.
. tests/lib.sh

for pair in gcc-g++ clang-clang++ gcc-clang++ clang-g++; do
    bin=$BUILD/tests/sret/sret-$pair
    if [ -x "$bin" ]; then
        run_harness "struct return ($pair)" "$bin"
    elif [ "$pair" = gcc-g++ ] || command -v clang++ > /dev/null; then
        fail "struct return ($pair)" "$bin is missing (make test-sret builds it)"
    else
        skip "struct return ($pair)" "clang or clang++ is not installed"
    fi
done

W=$SHARED/tools/widl
if ! command -v x86_64-w64-mingw32-g++ > /dev/null || [ ! -x "$W" ]; then
    skip "headers under mingw-w64" "x86_64-w64-mingw32-g++ or $W missing"
else
    M=$TMP/mingw
    mkdir -p "$M/widl" "$M/amidl"
    inc=(-DBOOL=WINBOOL -I "$CORPUS/mingw-w64" -I "$CORPUS/mingw-w64-include")
    for n in sret callconv; do
        check "widl writes $n.h" "$W" "${inc[@]}" -h -H "$M/widl/$n.h" "tests/sret/$n.idl"
        check "amidl writes $n.h (mingw-w64 imports)" "$AMIDL" -w --no-iid --no-glue "${inc[@]}" \
            --outdir "$M/amidl" "tests/sret/$n.idl"
        rc=0
        ABI_INCLUDE="$CORPUS/mingw-w64-include" limit 120 python3 "$SHARED/tools/abi_compare.py" \
            "$M/widl" "$M/amidl" "$n" > "$M/abi.txt" 2>&1 || rc=$?
        if [ "$rc" -eq 0 ] && grep -q "^$n: identical" "$M/abi.txt"; then
            ok "mingw-w64: $n.h sizes and vtable offsets as widl's ($(grep -o '[0-9]* probes' "$M/abi.txt" | head -1))"
        else
            fail "mingw-w64: $n.h sizes and vtable offsets as widl's" "abi_compare.py: $(status_text "$rc")" "$M/abi.txt"
        fi
        # each function type as C++ mangles it, for win32, where the calling
        # convention is part of it (for win64 the types are the same but for it)
        for target in win32; do
            probe=x86_64-w64-mingw32-g++
            [ "$target" = win32 ] && probe="x86_64-w64-mingw32-g++ -m32"
            for d in widl amidl; do
                rc=0
                PROBE_INCLUDE="$CORPUS/mingw-w64-include" CXX_PROBE="$probe" limit 120 python3 tests/sret/signatures.py \
                    "$M/widl/$n.h" "$M/$d" "$n" > "$M/$d.sig" 2> "$M/$d.err" || rc=$?
                [ "$rc" -eq 0 ] || fail "$target: function types of $d's $n.h" "signatures.py: $(status_text "$rc")" "$M/$d.err"
            done
            compared=$(grep -vc 'overloaded\|not-declared\|error\|MISSING' "$M/widl.sig")
            if [ "$compared" -lt 10 ]; then
                fail "$target: $n.h function types as widl's" "only $compared signatures from widl's header" "$M/widl.sig"
            elif diff -u "$M/widl.sig" "$M/amidl.sig" > "$M/sig.diff"; then
                ok "$target: $n.h function types as widl's (methods in both views, typedefs, members, functions: $compared)"
            else
                fail "$target: $n.h function types as widl's" "the headers disagree" "$M/sig.diff"
            fi
        done
    done
fi
suite_end
