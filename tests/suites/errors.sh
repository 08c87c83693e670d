#!/usr/bin/env bash
# tier: check
# Bad input: tests/errors/NAME.idl against NAME.expected, the diagnostic
# lines exactly, and exit status 1 when one of them is an error (0 for an
# empty .expected or warnings only); then generated inputs:
# 10 MB long, nested 10,000 deep, 10,000 bases in a chain each defined
# after its user. Only the runtime's base IDL is imported
# (-I runtime/idl): the cases are self-contained.
. tests/lib.sh

for idl in tests/errors/*.idl; do
    n=$(basename "$idl" .idl)
    exp=${idl%.idl}.expected
    if [ ! -f "$exp" ]; then fail "errors $n" "no $exp"; continue; fi
    rc=0
    limit 60 "$AMIDL" --check -I runtime/idl "$idl" > /dev/null 2> "$TMP/got" || rc=$?
    want_rc=1
    grep -q ': error: \|: fatal error: \|^amidl: ' "$exp" || want_rc=0
    diags < "$TMP/got" > "$TMP/got.diags"
    if [ "$rc" -ge 124 ] || grep -q 'AddressSanitizer\|Segmentation' "$TMP/got"; then
        fail "errors $n" "crashed: $(status_text "$rc")" "$TMP/got"
    elif [ "$rc" -ne "$want_rc" ]; then
        fail "errors $n" "exit status $rc, expected $want_rc" "$TMP/got"
    elif ! diff "$exp" "$TMP/got.diags" > "$TMP/diff"; then
        fail "errors $n" "the diagnostics differ from $exp (< expected, > got)" "$TMP/diff"
    else
        ok "errors $n"
    fi
done

# the WinRT cases built (not --check): the same diagnostics and exit
# status, and no output written when one is an error
nb=0 bbad=
for idl in tests/errors/winrt_*.idl; do
    n=$(basename "$idl" .idl) rc=0 crc=0
    nb=$((nb + 1))
    mkdir -p "$TMP/build/$n"
    limit 60 "$AMIDL" -I runtime/idl --outdir "$TMP/build/$n" "$idl" > /dev/null 2> "$TMP/build.got" || rc=$?
    limit 60 "$AMIDL" --check -I runtime/idl "$idl" > /dev/null 2> "$TMP/check.got" || crc=$?
    if [ "$rc" -ne "$crc" ] || ! cmp -s "$TMP/build.got" "$TMP/check.got"; then
        bbad="$bbad $n(build $rc, --check $crc)"
    elif [ "$rc" -ne 0 ] && [ -n "$(ls -A "$TMP/build/$n")" ]; then
        bbad="$bbad $n(wrote $(ls "$TMP/build/$n" | tr '\n' ' '))"
    elif [ "$rc" -eq 0 ] && [ ! -s "$TMP/build/$n/$n.h" ]; then
        bbad="$bbad $n(no $n.h)"
    fi
done
if [ -n "$bbad" ]; then fail "errors: the $nb WinRT cases built report what --check reports" "differ:$bbad"
else ok "errors: the $nb WinRT cases built report what --check reports, and write nothing on an error"; fi

# generated inputs: very long, very deep
python3 - "$TMP" <<'PYEOF'
import sys
d = sys.argv[1]
with open(d + "/long.idl", "w") as f:
    n = 0
    while f.tell() < 10 * 1024 * 1024:
        f.write("typedef struct S%d { int a; long b; } S%d;\n" % (n, n)); n += 1
    f.write("typedef MISSING_TYPE LAST;\n")
    open(d + "/long.line", "w").write(str(n + 1))
with open(d + "/deep_struct.idl", "w") as f:
    f.write("typedef " + "struct { " * 10000 + "int x; " + "} y; " * 10000 + "} Z;\n")
with open(d + "/deep_expr.idl", "w") as f:
    f.write("const int X = " + "(" * 10000 + "1" + ")" * 10000 + ";\n")
with open(d + "/deep_if.idl", "w") as f:
    f.write("#if " + "(" * 10000 + "1" + ")" * 10000 + "\n#endif\n")
with open(d + "/deep_include.idl", "w") as f:
    f.write('#include "deep_include.idl"\n')
PYEOF
# generated: NAME, file, the diagnostic it must give (a grep pattern)
gen() {
    local name=$1 file=$2 want=$3 rc=0
    limit 60 "$AMIDL" --check "$TMP/$file" > "$TMP/gen.out" 2>&1 || rc=$?
    if [ "$rc" -ne 1 ]; then fail "$name" "$(status_text "$rc"), expected exit status 1" "$TMP/gen.out"
    elif ! grep -q -- "$want" "$TMP/gen.out"; then fail "$name" "no diagnostic matching '$want'" "$TMP/gen.out"
    else ok "$name"; fi
}
gen "10 MB file: located error on its last line" long.idl \
    "long.idl:$(cat "$TMP/long.line"):9: error: unknown type name .MISSING_TYPE."
for deep in deep_struct deep_expr deep_if deep_include; do
    gen "$deep: nested 10,000 deep is a located error" "$deep.idl" "$deep.idl:[0-9]*:[0-9]*: error: "
done
# a chain of 10,000 interfaces, each deriving from the next one, defined
# after it (MIDL accepts a late base): checked without a recursion as deep
# as the chain (under a 1 MB stack, a crash before)
python3 - "$TMP" <<'PYEOF'
import sys
n = 10000
with open(sys.argv[1] + "/late_chain.idl", "w") as f:
    f.write('import "unknwn.idl";\n')
    for i in range(n):
        base = "I%d" % (i + 1) if i < n - 1 else "IUnknown"
        f.write("[object, uuid(5b1c7e02-3a4d-4e5f-8a6b-%012x)] interface I%d : %s { HRESULT M%d(); }\n" % (i, i, base, i))
PYEOF
rc=0
(ulimit -s 1024 && limit 120 "$AMIDL" --check -I runtime/idl "$TMP/late_chain.idl") > "$TMP/gen.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then ok "late_chain: 10,000 bases each defined after its user, accepted"
else fail "late_chain: 10,000 bases each defined after its user, accepted" "$(status_text "$rc")" "$TMP/gen.out"; fi
# grammar/known.c's table: each name it suggests an import for is declared
# by that file (a user who follows the note gets a file that compiles), and
# the table is sorted as its bsearch needs
sed -n 's/^    { "\([A-Za-z_0-9]*\)", "\([a-z]*\.idl\)" },$/\1 \2/p' grammar/known.c > "$TMP/known.txt"
bad=
while read -r name file; do
    printf 'import "%s";\ntypedef %s *known_test_t;\n' "$file" "$name" > "$TMP/known.idl"
    limit 60 "$AMIDL" --check -I runtime/idl "$TMP/known.idl" > "$TMP/known.out" 2>&1 || bad="$bad $name($file)"
done < "$TMP/known.txt"
if [ "$(wc -l < "$TMP/known.txt")" -lt 50 ]; then fail "known.c: the table is read" "only $(wc -l < "$TMP/known.txt") entries found"
elif [ -n "$bad" ]; then fail "known.c: every suggested import declares its name" "not declared:$bad"
else ok "known.c: each of its $(wc -l < "$TMP/known.txt") names is declared by the file its note suggests"; fi
if cut -d' ' -f1 "$TMP/known.txt" | LC_ALL=C sort -c 2>/dev/null; then ok "known.c: the table is sorted (bsearch)"
else fail "known.c: the table is sorted (bsearch)" "$(cut -d' ' -f1 "$TMP/known.txt" | LC_ALL=C sort -c 2>&1)"; fi
suite_end
