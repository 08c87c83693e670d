#!/usr/bin/env bash
# tier: check
# ACF files (MIDL's application configuration files): FILE.acf beside
# FILE.idl is read as MIDL does, --acf FILE (widl) and /acf FILE (MIDL) name
# another; their attributes are merged into the IDL's declarations and
# checked there, with locations in the ACF; the ACF is in the depfile;
# --check and a build agree; implicit_handle(handle_t h) in the IDL itself.
. tests/lib.sh
A=$(cd "$(dirname "$AMIDL")" && pwd)/$(basename "$AMIDL")     # the cases run in $D

D=$TMP/acf
mkdir -p "$D/out"
cat > "$D/rpc.idl" <<'EOF'
[uuid(5b1c7e02-3a4d-4e5f-8a6b-7c8d9e0f1a21), version(1.0)]
interface IRpc
{
    typedef struct PT { int a; } PT;
    int Ping([in] int x, [out] PT *y);
}
EOF
good='[implicit_handle(handle_t hBinding), strict_context_handle]
interface IRpc
{
    typedef [encode, decode] PT;
    Ping([comm_status] x);
}'

# acf_case NAME WANT_STATUS GREP ARGS...: amidl ARGS in $D, exit status and a stderr line
acf_case() {
    local name=$1 want=$2 pat=$3 rc=0; shift 3
    (cd "$D" && limit 60 "$A" "$@") > "$TMP/out" 2>&1 || rc=$?
    if [ "$rc" -ne "$want" ]; then fail "$name" "exit status $rc, expected $want" "$TMP/out"
    elif [ -n "$pat" ] && ! grep -Eq -- "$pat" "$TMP/out"; then fail "$name" "no line matching '$pat'" "$TMP/out"
    else ok "$name"; fi
}

printf '%s\n' "$good" > "$D/rpc.acf"
acf_case "FILE.acf beside FILE.idl is read (a valid one)" 0 "" --check rpc.idl
printf '[implicit_handle(handle_t hBinding), bogus_attr]\ninterface IRpc { }\n' > "$D/rpc.acf"
acf_case "FILE.acf is read by default: its unknown attribute is a located error" 1 \
    "^rpc\.acf:1:38: error: unknown attribute 'bogus_attr'$" --check rpc.idl
printf '%s\n' "$good" > "$D/other.acf"
acf_case "--acf FILE replaces FILE.acf" 0 "" --check --acf other.acf rpc.idl
acf_case "--acf=FILE" 0 "" --check --acf=other.acf rpc.idl
acf_case "/acf FILE (MIDL)" 0 "" --check /acf other.acf rpc.idl
acf_case "--acf of a missing file is an error" 1 "^amidl: error: cannot find ACF file 'nowhere\.acf'$" \
    --check --acf nowhere.acf rpc.idl

# the merged attributes are checked where they stand
printf 'interface IRpc { Ping([encode] x); }\n' > "$D/bad1.acf"
acf_case "an ACF attribute in the wrong place: located in the ACF" 1 \
    "^bad1\.acf:1:24: error: attribute 'encode' is not allowed on a parameter$" --check --acf bad1.acf rpc.idl
printf '[in] interface IRpc { }\n' > "$D/bad2.acf"
acf_case "an IDL-only attribute in an ACF" 1 "^bad2\.acf:1:2: error: attribute 'in' is not allowed in an ACF file$" \
    --check --acf bad2.acf rpc.idl
printf 'interface IRpc { Pong(); }\ninterface INope { }\n' > "$D/bad3.acf"
acf_case "an ACF naming a method the IDL does not have" 1 \
    "^bad3\.acf:1:18: error: 'Pong' in the ACF file is not a method of 'IRpc'$" --check --acf bad3.acf rpc.idl
acf_case "an ACF naming an interface the IDL does not have" 1 \
    "^bad3\.acf:2:11: error: 'INope' in the ACF file is not declared in 'rpc\.idl'$" --check --acf bad3.acf rpc.idl
printf 'interface IRpc { Ping([comm_status] z); typedef [encode] NoSuchType; }\n' > "$D/bad4.acf"
acf_case "an ACF naming a parameter the method does not have" 1 \
    "^bad4\.acf:1:37: error: 'z' in the ACF file is not a parameter of 'Ping'$" --check --acf bad4.acf rpc.idl
acf_case "an ACF naming a type the IDL does not have" 1 \
    "^bad4\.acf:1:58: error: 'NoSuchType' in the ACF file is not declared in 'rpc\.idl'$" --check --acf bad4.acf rpc.idl
printf 'interface IRpc { typedef [allocate(all_nodes)] PT; }\n' > "$D/stub.acf"
acf_case "a stub-only ACF attribute: accepted, -Wacf says it has no effect" 0 \
    "^stub\.acf:1:27: warning: ACF attribute 'allocate' is read and has no effect.*\[-Wacf\]$" --check -Wacf --acf stub.acf rpc.idl
for f in bad1 bad2 bad3 bad4; do
    (cd "$D" && limit 60 "$A" --check --acf $f.acf rpc.idl) > "$TMP/a" 2>&1; ra=$?
    rm -rf "$D/out"; mkdir -p "$D/out"
    (cd "$D" && limit 60 "$A" --outdir out --acf $f.acf rpc.idl) > "$TMP/b" 2>&1; rb=$?
    if [ "$ra" = 1 ] && [ "$rb" = 1 ] && diff <(diags < "$TMP/a") <(diags < "$TMP/b") > "$TMP/diff" && [ -z "$(ls -A "$D/out")" ]; then
        ok "--check and a build agree on $f.acf"
    else fail "--check and a build agree on $f.acf" "exit $ra / $rb, or files left" "$TMP/diff"; fi
done

# typedef [...] A, B;: the names share the attribute list; each name gets
# what is kept, and what is dropped or refused is reported once
cat > "$D/two.idl" <<'EOF'
[uuid(5b1c7e02-3a4d-4e5f-8a6b-7c8d9e0f1a23), version(1.0)]
interface ITwo
{
    typedef struct PT { int a; } PT;
    typedef struct QT { int a; } QT;
    int Ping([in] int x);
}
EOF
printf 'interface ITwo { typedef [allocate(all_nodes), comm_status] PT, QT; }\n' > "$D/two1.acf"
acf_case "typedef A, B in an ACF: the attribute after a dropped one reaches both names" 1 \
    "^2 errors generated\.$" --check --acf two1.acf two.idl
printf 'interface ITwo { typedef [in, encode] PT, QT; }\n' > "$D/two2.acf"
acf_case "typedef A, B in an ACF: a refused attribute is reported once" 1 \
    "^1 error generated\.$" --check --acf two2.acf two.idl
printf 'interface ITwo { typedef [allocate(all_nodes), encode] PT, QT; }\n' > "$D/two3.acf"
acf_case "typedef A, B in an ACF: a dropped attribute is reported once" 0 \
    "^1 warning generated\.$" --check -Wacf --acf two3.acf two.idl

# one typedef named on many lines of attributes: its attribute chain grows
# past 100000 entries and is still extended without a cycle (no hang)
line="typedef [encode$(printf ', encode%.0s' $(seq 999))] PT;"
{ echo 'interface IRpc {'; for i in $(seq 101); do echo "$line"; done; echo '}'; } > "$D/long.acf"
acf_case "an ACF giving one typedef 101000 attributes: no hang" 0 "" --check --acf long.acf rpc.idl

# the depfile lists the ACF
printf '%s\n' "$good" > "$D/rpc.acf"
rm -rf "$D/out"; mkdir -p "$D/out"
acf_case "a build with FILE.acf and -MD" 0 "" --outdir out -MD rpc.idl
if [ -f "$D/out/rpc.d" ] && grep -q '^  rpc\.acf$\|^  rpc\.acf \\$\| rpc\.acf$' "$D/out/rpc.d"; then ok "the depfile lists the ACF"
else fail "the depfile lists the ACF" "rpc.acf is not in out/rpc.d" "$D/out/rpc.d"; fi

# implicit_handle(handle_t h) written in the IDL itself (ACF attributes in the IDL)
cat > "$D/inidl.idl" <<'EOF'
[uuid(5b1c7e02-3a4d-4e5f-8a6b-7c8d9e0f1a22), version(1.0), implicit_handle(handle_t hBinding)]
interface IRpc2
{
    int Ping([in] int x);
}
EOF
acf_case "implicit_handle(handle_t h) in the IDL" 0 "" --outdir out inidl.idl
if grep -qx 'extern handle_t hBinding;' "$D/out/inidl.h"; then ok "the header declares the implicit_handle's variable"
else fail "the header declares the implicit_handle's variable" "no 'extern handle_t hBinding;'" "$D/out/inidl.h"; fi

# include "a.h", "b.h"; in the ACF: #include lines in the header; a name
# that cannot be written between quotes is a located error, no output
printf 'include "one.h";\ninclude "two.h", "three.h";\ninterface IRpc { }\n' > "$D/inc.acf"
rm -rf "$D/out"; mkdir -p "$D/out"
acf_case "an ACF with include statements" 0 "" --outdir out --acf inc.acf rpc.idl
if [ "$(grep '^#include "' "$D/out/rpc.h" | tr '\n' ' ')" = '#include "one.h" #include "two.h" #include "three.h" ' ]; then
    ok "the header #includes the ACF's files, in order"
else fail "the header #includes the ACF's files, in order" "not the three #include lines" "$D/out/rpc.h"; fi
printf 'include "ok.h", "bad\\"name.h";\n' > "$D/inc2.acf"
rm -rf "$D/out"; mkdir -p "$D/out"
acf_case "an ACF include of a name with a quote: a located error" 1 \
    "^inc2\.acf:1:17: error: ACF include names no usable file" --outdir out --acf inc2.acf rpc.idl
if [ -z "$(ls -A "$D/out")" ]; then ok "no output after a bad ACF include"; else fail "no output after a bad ACF include" "files left"; fi
suite_end
