#!/usr/bin/env bash
# tier: check
# Methods returning structures and unions (tests/sret/sret.idl): on Linux
# the header's C view returns them by value as its C++ view does, so a C
# caller into a C++ object and a C++ caller into a C object get the values
# (small ones in registers, large ones through memory), built by gcc/g++,
# clang/clang++ and the mixed pairs (tests/mk/sret.mk). Under mingw-w64 the
# header keeps widl's layout: abi_compare.py (sizes and vtable offsets) and
# tests/sret/signatures.py (each method's type as C++ mangles it, C and C++
# views) against ../shared/tools/widl's header for the same IDL.
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
    skip "struct return under mingw-w64" "x86_64-w64-mingw32-g++ or $W missing"
else
    M=$TMP/mingw
    mkdir -p "$M/widl" "$M/amidl"
    inc=(-DBOOL=WINBOOL -I "$CORPUS/mingw-w64" -I "$CORPUS/mingw-w64-include")
    check "widl writes sret.h" "$W" "${inc[@]}" -h -H "$M/widl/sret.h" tests/sret/sret.idl
    check "amidl writes sret.h (mingw-w64 imports)" "$AMIDL" -w --no-iid --no-glue "${inc[@]}" \
        --outdir "$M/amidl" tests/sret/sret.idl
    rc=0
    ABI_INCLUDE="$CORPUS/mingw-w64-include" limit 120 python3 "$SHARED/tools/abi_compare.py" \
        "$M/widl" "$M/amidl" sret > "$M/abi.txt" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ] && grep -q '^sret: identical' "$M/abi.txt"; then
        ok "mingw-w64: sret.h sizes and vtable offsets as widl's ($(grep -o "[0-9]* probes" "$M/abi.txt" | head -1))"
    else
        fail "mingw-w64: sret.h sizes and vtable offsets as widl's" "abi_compare.py: $(status_text "$rc")" "$M/abi.txt"
    fi
    for d in widl amidl; do
        rc=0
        PROBE_INCLUDE="$CORPUS/mingw-w64-include" limit 120 python3 tests/sret/signatures.py \
            "$M/widl/sret.h" "$M/$d" sret > "$M/$d.sig" 2> "$M/$d.err" || rc=$?
        [ "$rc" -eq 0 ] || fail "mingw-w64: method types of $d's sret.h" "signatures.py: $(status_text "$rc")" "$M/$d.err"
    done
    if [ ! -s "$M/widl.sig" ]; then
        fail "mingw-w64: method types as widl's" "no signatures from widl's header"
    elif diff -u "$M/widl.sig" "$M/amidl.sig" > "$M/sig.diff"; then
        ok "mingw-w64: each method's type as widl's, C and C++ views ($(grep -vc overloaded "$M/widl.sig") compared)"
    else
        fail "mingw-w64: method types as widl's" "the headers disagree" "$M/sig.diff"
    fi
fi
suite_end
