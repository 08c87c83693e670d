#!/usr/bin/env bash
# tier: check
# Build integration: depfiles with make and ninja, --verify,
# --write-if-changed; the compiler built with clang (-Wall -Wextra
# -Werror; make builds $BUILD/clang before this suite runs).
. tests/lib.sh

ABS_AMIDL=$(cd "$(dirname "$AMIDL")" && pwd)/$(basename "$AMIDL")
D=$TMP/dep; mkdir -p "$D"
printf 'import "unknwn.idl";\nimport "b.idl";\n[object, uuid(11111111-2222-3333-4444-555555555501)] interface IA : IB { HRESULT A(); }\n' > "$D/a.idl"
printf 'import "unknwn.idl";\n[object, uuid(11111111-2222-3333-4444-555555555502)] interface IB : IUnknown { HRESULT B(); }\n' > "$D/b.idl"
printf 'typedef int UNRELATED;\n' > "$D/unrelated.idl"
printf 'all: a.h\n%%.h: %%.idl\n\t%s -I %s -MD -MP --no-glue $<\n-include a.d\n' "$ABS_AMIDL" "$PWD/runtime/idl" > "$D/Makefile"
check "make builds a.h with -MD" make -s -C "$D"
check "-MD writes a.d naming the outputs and every file read" bash -c \
    "cat '$D/a.d' && grep -q '^a.h a_i.c:' '$D/a.d' && grep -q 'b.idl' '$D/a.d' && grep -q 'unknwn.idl' '$D/a.d' && grep -q '^b.idl:' '$D/a.d'"
check "make: up to date after the build" make -q -C "$D"
sleep 1; touch "$D/unrelated.idl"
check "make: touching an unrelated file does not rebuild" make -q -C "$D"
touch "$D/b.idl"
rc=0; make -q -C "$D" > "$TMP/q.out" 2>&1 || rc=$?
if [ "$rc" -eq 1 ]; then ok "make: touching an imported .idl rebuilds"
else fail "make: touching an imported .idl rebuilds" "make -q: $(status_text "$rc"), expected 1 (out of date)" "$TMP/q.out"; fi

if command -v ninja >/dev/null; then
    N=$TMP/ninja; mkdir -p "$N"; cp "$D"/a.idl "$D"/b.idl "$D"/unrelated.idl "$N"/
    printf 'rule amidl\n  command = %s -I %s -MD -MF $out.d --no-glue --header $out --no-iid $in\n  depfile = $out.d\n  deps = gcc\nbuild a.h: amidl a.idl\n' \
        "$ABS_AMIDL" "$PWD/runtime/idl" > "$N/build.ninja"
    check "ninja: builds with the depfile" bash -c "cd '$N' && ninja && test -s a.h"
    sleep 1; touch "$N/unrelated.idl"
    check "ninja: touching an unrelated file does not rebuild" bash -c "cd '$N' && ninja -n | tee /dev/stderr | grep -q 'no work to do'"
    touch "$N/b.idl"
    check "ninja: touching an imported .idl rebuilds" bash -c "cd '$N' && ! ninja -n | tee /dev/stderr | grep -q 'no work to do'"
else
    fail "ninja" "ninja is not installed (README's first command installs it)"
fi

V=$TMP/verify; mkdir -p "$V"; cp "$D/b.idl" "$V/"
limit 60 "$AMIDL" -w -I runtime/idl --outdir "$V" "$V/b.idl"
check "--verify: exit 0 when the files on disk are what amidl generates" "$AMIDL" --verify -w -I runtime/idl --outdir "$V" "$V/b.idl"
echo "/* edited by hand */" >> "$V/b.h"
rc=0; limit 60 "$AMIDL" --verify -w -I runtime/idl --outdir "$V" "$V/b.idl" > "$TMP/v.out" 2>&1 || rc=$?
if [ "$rc" -eq 1 ] && grep -q '^-/\* edited by hand \*/' "$TMP/v.out"; then
    ok "--verify: a unified diff and exit 1 when they differ"
else
    fail "--verify: a unified diff and exit 1 when they differ" "$(status_text "$rc")" "$TMP/v.out"
fi
limit 60 "$AMIDL" -w -I runtime/idl --outdir "$V" "$V/b.idl"
touch -d '2001-01-01' "$V/b.h"
limit 60 "$AMIDL" -w -I runtime/idl --write-if-changed --outdir "$V" "$V/b.idl"
check "--write-if-changed leaves an identical output untouched" bash -c "[ \$(stat -c %Y '$V/b.h') -lt 1000000000 ]"

if [ -f "$BUILD/clang/libamidlfe.a" ]; then
    ok "the compiler builds with clang (-Wall -Wextra -Werror): $BUILD/clang/libamidlfe.a"
else
    fail "the compiler builds with clang" "$BUILD/clang/libamidlfe.a is missing (make $BUILD/clang/libamidlfe.a)"
fi
suite_end
