#!/usr/bin/env bash
# tier: check
# tests/golden/NAME.idl -> every output amidl writes for it (NAME.h, NAME_i.c,
# and NAME_async.c for a file with [async_uuid] interfaces), byte for byte,
# with --no-banner-version (so that a new version changes no golden file):
# the outputs and the expectations are both found by glob, so a missing or
# an extra file fails (make golden-update rewrites them); those headers and
# the base IDL's compile with gcc -std=c99 and g++ -std=c++11 against
# runtime/include; the IIDs link. tests/suites/glue-cxx.sh compiles the glue.
. tests/lib.sh

G=$TMP/golden B=$TMP/base
mkdir -p "$G" "$B"
for idl in tests/golden/*.idl; do
    n=$(basename "$idl" .idl)
    rc=0
    limit 60 "$AMIDL" -w --no-banner-version --outdir "$G" "$idl" > "$TMP/err" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then fail "golden $n" "amidl failed: $(status_text "$rc")" "$TMP/err"; continue; fi
    # what amidl wrote for NAME, and what tests/golden expects for it
    for out in $( { (cd "$G" && ls "$n.h" "$n"_*.c); (cd tests/golden && ls "$n.h" "$n"_*.c); } 2>/dev/null | sort -u); do
        if [ ! -f "tests/golden/$out" ]; then
            fail "golden $out" "no expectation (make golden-update writes it)"
        elif [ ! -f "$G/$out" ]; then
            fail "golden $out" "expected, but amidl did not write it"
        elif cmp -s "tests/golden/$out" "$G/$out"; then
            ok "golden $out"
        else
            diff -u "tests/golden/$out" "$G/$out" > "$TMP/diff"
            fail "golden $out" "differs from the expectation (make golden-update, then review the diff)" "$TMP/diff"
        fi
    done
done

for idl in runtime/idl/*.idl; do
    rc=0
    limit 60 "$AMIDL" -w --no-glue --outdir "$B" "$idl" > "$TMP/err" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || fail "base IDL $idl" "amidl failed: $(status_text "$rc")" "$TMP/err"
done
for h in "$B"/*.h "$G"/*.h; do
    d=$(dirname "$h"); n=$(basename "$h")
    printf '#include "%s"\n' "$n" > "$TMP/inc.c"
    check "gcc -std=c99 $n" gcc -std=c99 -Wall -Wextra -Werror -fsyntax-only -I runtime/include -I "$B" -I "$d" "$TMP/inc.c"
    check "g++ -std=c++11 $n" g++ -std=c++11 -Wall -Werror -fsyntax-only -x c++ -I runtime/include -I "$B" -I "$d" "$TMP/inc.c"
done
for c in "$B"/*_i.c "$G"/*_i.c; do
    check "gcc -c $(basename "$c")" gcc -std=c99 -Wall -Wextra -Werror -c -o "$TMP/iid.o" -I runtime/include -I "$B" "$c"
    check "g++ -c $(basename "$c")" g++ -std=c++11 -Wall -Werror -c -x c++ -o "$TMP/iid.o" -I runtime/include -I "$B" "$c"
done
check "IIDs link and AsyncISimpleStream's vtable has its slots (C)" bash -c \
    "gcc -std=c99 -Wall -Werror -I runtime/include -I '$B' -I '$G' -o '$TMP/iidtest' tests/linux/iidtest.c '$G/async_basic_i.c' && '$TMP/iidtest' | grep -qx ok"
check "IIDs link and AsyncISimpleStream's vtable has its slots (C++)" bash -c \
    "g++ -std=c++11 -Wall -Werror -x c++ -I runtime/include -I '$B' -I '$G' -o '$TMP/iidtest2' tests/linux/iidtest.c -x c++ '$G/async_basic_i.c' && '$TMP/iidtest2' | grep -qx ok"

# an async interface whose async base is imported from another user IDL:
# its thunks name the base's glue, defined in that file's FILE_async.c
mkdir -p "$TMP/derived"
printf 'import "async_basic.idl";\n[object, uuid(6d1c2a10-8f3e-4b7a-9c21-5e0f4d3b2a01), async_uuid(6d1c2a10-8f3e-4b7a-9c21-5e0f4d3b2a02)]\ninterface IDerivedStream : ISimpleStream { HRESULT Rewind(void); }\n' > "$TMP/derived/derived.idl"
check "glue of an async interface deriving from an imported one compiles and links with the base's glue" bash -c \
    "'$AMIDL' -w --outdir '$TMP/derived' tests/golden/async_basic.idl && '$AMIDL' -w -I tests/golden --outdir '$TMP/derived' '$TMP/derived/derived.idl' &&
     printf 'int main(void) { return 0; }\\n' > '$TMP/derived/main.c' &&
     gcc -std=c11 -Wall -Wextra -Werror -Iruntime/include -I'$BUILD/runtime/include' -I'$TMP/derived' -o '$TMP/derived/prog' \
         '$TMP/derived/main.c' '$TMP/derived/derived_async.c' '$TMP/derived/derived_i.c' '$TMP/derived/async_basic_async.c' \
         '$TMP/derived/async_basic_i.c' '$BUILD/lib/libamidlrt.a' -pthread && '$TMP/derived/prog'"
suite_end
