#!/usr/bin/env bash
# tier: check
# The call-object glue (FILE_async.c) is C that C++ also accepts: the glue
# of every IDL under tests/golden, tests/e2e, tests/runtime and samples that
# has [async_uuid] interfaces compiles with gcc -std=c11, clang -std=c11,
# g++ -std=c++11 and clang++ -std=c++11, all -Wall -Wextra -Werror; and
# test-e2e (C) runs against kinds_async.c compiled by g++ (REFIID is a
# reference in C++, the runtime must still receive the pointer).
. tests/lib.sh

G=$TMP/glue
mkdir -p "$G"
compilers=("gcc -std=c11" "g++ -std=c++11 -x c++")
for cc in clang clang++; do
    if command -v "$cc" > /dev/null; then
        [ "$cc" = clang ] && compilers+=("clang -std=c11") || compilers+=("clang++ -std=c++11 -x c++")
    else
        skip "glue with $cc" "$cc is not installed"
    fi
done
n_glue=0
for idl in tests/golden/*.idl tests/e2e/*.idl tests/runtime/*.idl samples/*/*.idl; do
    n=$(basename "$idl" .idl)
    rc=0
    limit 60 "$AMIDL" -w --outdir "$G" "$idl" > "$TMP/err" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then fail "amidl $idl" "$(status_text "$rc")" "$TMP/err"; continue; fi
    [ -f "$G/${n}_async.c" ] || continue
    n_glue=$((n_glue + 1))
    for cc in "${compilers[@]}"; do
        # shellcheck disable=SC2086  # $cc is a command and its options
        check "${n}_async.c: $cc -Wall -Wextra -Werror" $cc -Wall -Wextra -Werror -c -o "$G/$n.o" \
            -Iruntime/include -I"$BUILD/runtime/include" -I"$G" "$G/${n}_async.c"
    done
done
# the globs must keep finding glue to compile: the six async goldens, kinds,
# calltest and simplestream at least
if [ "$n_glue" -ge 9 ]; then ok "glue files found: $n_glue"; else fail "glue files found" "only $n_glue"; fi

# a base declared ahead and defined after its user (base_declared_ahead.idl):
# the user's glue names the base's before its definition; compiled as C++
# it links (one definition, C linkage) and registers
check "base_declared_ahead_async.c compiled as C++ links and registers" bash -c \
    "g++ -std=c++11 -Wall -Wextra -Werror -x c++ -c -o '$G/ahead.o' -Iruntime/include -I'$BUILD/runtime/include' -I'$G' '$G/base_declared_ahead_async.c' &&
     printf 'int main(void) { return 0; }\\n' > '$G/ahead_main.c' &&
     gcc -std=c11 -Iruntime/include -I'$BUILD/runtime/include' -I'$G' -o '$G/ahead' '$G/ahead_main.c' '$G/ahead.o' \
         '$G/base_declared_ahead_i.c' '$BUILD/lib/libamidlrt.a' -pthread && '$G/ahead'"

# an async interface deriving from another IDL's: its glue names the base's
# glue (defined in that file's FILE_async.c) with C linkage in C++ too
D=$TMP/derived
mkdir -p "$D"
printf 'import "async_basic.idl";\n[object, uuid(6d1c2a10-8f3e-4b7a-9c21-5e0f4d3b2a11), async_uuid(6d1c2a10-8f3e-4b7a-9c21-5e0f4d3b2a12)]\ninterface IDerivedStream : ISimpleStream { HRESULT Rewind(void); }\n' > "$D/derived.idl"
if limit 60 "$AMIDL" -w --outdir "$D" tests/golden/async_basic.idl > "$TMP/err" 2>&1 &&
   limit 60 "$AMIDL" -w -I tests/golden --outdir "$D" "$D/derived.idl" >> "$TMP/err" 2>&1; then
    for cc in "${compilers[@]}"; do
        # shellcheck disable=SC2086
        check "derived_async.c (async base imported): $cc -Wall -Wextra -Werror" $cc -Wall -Wextra -Werror -c \
            -o "$D/derived.o" -Iruntime/include -I"$BUILD/runtime/include" -I"$D" "$D/derived_async.c"
    done
    check "derived_async.c compiled as C++ links with async_basic_async.c compiled as C" bash -c \
        "g++ -std=c++11 -Wall -Wextra -Werror -x c++ -c -o '$D/d.o' -Iruntime/include -I'$BUILD/runtime/include' -I'$D' '$D/derived_async.c' &&
         gcc -std=c11 -Wall -Wextra -Werror -c -o '$D/b.o' -Iruntime/include -I'$BUILD/runtime/include' -I'$D' '$D/async_basic_async.c' &&
         printf 'int main(void) { return 0; }\\n' > '$D/main.c' &&
         gcc -std=c11 -Iruntime/include -I'$BUILD/runtime/include' -I'$D' -o '$D/prog' '$D/main.c' '$D/d.o' '$D/b.o' \
             '$D/derived_i.c' '$D/async_basic_i.c' '$BUILD/lib/libamidlrt.a' -pthread && '$D/prog'"
else
    fail "amidl on the derived IDL" "it failed" "$TMP/err"
fi

run_harness "test-e2e, glue compiled as C++" "$BUILD/tests/test-e2e-cxx"
# a chain of 300 interfaces, each deriving from the next one defined after
# it (a late base, as MIDL accepts), all [async_uuid]: every
# base is written before its users and every vtable holds the whole chain
# (past 256 the bases came out of order and the vtables lost IUnknown's
# methods: glue that did not compile). A 1,000,000-line file: gcc gets
# 600 s on a loaded machine
L=$TMP/late
mkdir -p "$L"
python3 - "$L/late_async_chain.idl" <<'PYEOF'
import sys
n = 300
with open(sys.argv[1], "w") as f:
    f.write('import "unknwn.idl";\n')
    for i in range(n):
        base = "I%d" % (i + 1) if i < n - 1 else "IUnknown"
        au = ", async_uuid(5b1c7e03-3a4d-4e5f-8a6b-%012x)" % i
        f.write("[object, uuid(5b1c7e02-3a4d-4e5f-8a6b-%012x)%s]\n"
                "interface I%d : %s { HRESULT M%d([in] int a); }\n" % (i, au, i, base, i))
PYEOF
rc=0
limit 120 "$AMIDL" -w --outdir "$L" "$L/late_async_chain.idl" > "$TMP/err" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then
    CHECK_LIMIT=600 check "late_async_chain_async.c (300 late async bases): gcc -Wall -Wextra -Werror" gcc -std=c11 -Wall -Wextra \
        -Werror -c -o "$L/late.o" -Iruntime/include -I"$BUILD/runtime/include" -I"$L" "$L/late_async_chain_async.c"
else
    fail "amidl late_async_chain.idl (300 late async bases)" "$(status_text "$rc")" "$TMP/err"
fi
suite_end
