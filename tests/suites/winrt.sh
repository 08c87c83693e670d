#!/usr/bin/env bash
# tier: check
# WinRT headers: API contracts are written as widl --winrt writes them, each
# version macro the same, for tests/golden/winrt_contracts.idl and the
# corpus's windowscontracts.idl; every WinRT file of the corpus passes
# --check; every one's header (namespaces, enums, structs, interfaces,
# delegates, runtimeclasses, generics and their instances) is widl's, and so
# are tests/golden/winrt_namespace.idl's and winrt_iids.idl's (tests/abi.sh
# compiles them and compares their ABI under mingw-w64 gcc). Their FILE_i.c
# is widl -u's from its second line (the banner is amidl's own), with two
# differences made on widl's side before the comparison: each IID is named
# as widl's header declares it (widl's _i.c writes IID_IFoo for
# IID___x_ABI_C<ns>_CIFoo and IID_IVector<HSTRING > for
# IID___FIVector_1_HSTRING: names that are not the header's, the second not
# a C identifier), and a second definition of the same IID (a declare { }
# block naming an instance twice) is dropped, as a C compiler rejects it;
# winrt_iids.h and its _i.c compile and link on Linux, C and C++, also with
# a second unit defining the IIDs through INITGUID.
. tests/lib.sh

W=$SHARED/tools/widl
# widl's _i.c (argument 1) with its IIDs named by its header's (argument 2)
# DEFINE_GUIDs, each once, without its first line
cat > "$TMP/iid_names.py" <<'PYEOF'
import re, sys
ic, h = open(sys.argv[1]).read(), open(sys.argv[2]).read()
guid = r'(0x[0-9a-f]{8}, 0x[0-9a-f]{4}, 0x[0-9a-f]{4}, [0-9a-fx, ]*)\);'
names = {}
for m in re.finditer(r'^DEFINE_GUID\((\w+), ' + guid, h, re.M):
    names.setdefault(m.group(2), m.group(1))
seen, out = set(), []
for line in ic.split("\n")[1:]:
    m = re.match(r'MIDL_DEFINE_GUID\((\w+), (.*?), ' + guid + '$', line)
    if m:
        name = names.get(m.group(3), m.group(2))
        if name in seen:
            continue
        seen.add(name)
        line = "MIDL_DEFINE_GUID(%s, %s, %s);" % (m.group(1), name, m.group(3))
    out.append(line)
sys.stdout.write("\n".join(out))
PYEOF
# iid_same DIR_WIDL DIR_AMIDL NAME: NAME_i.c as widl's (renamed), else the diff in DIR_AMIDL/NAME_i.diff
iid_same() {
    python3 "$TMP/iid_names.py" "$1/$3_i.c" "$1/$3.h" > "$1/$3_i.want" &&
        tail -n +2 "$2/$3_i.c" | diff -u "$1/$3_i.want" - > "$2/$3_i.diff"
}
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
    n=0 same=0 isame=0 iids=0
    : > "$TMP/hdr.err"
    : > "$TMP/iid.err"
    for idl in "$CORPUS"/mingw-w64/*.idl; do
        grep -q '^ *namespace \|^ *import *"windows\.' "$idl" || continue
        b=$(basename "$idl" .idl) g=__$(basename "$idl" .idl | tr . _)_h__
        n=$((n + 1))
        if ! limit 60 "$AMIDL" -w --no-glue -DBOOL=WINBOOL -I "$CORPUS/mingw-w64" -I "$CORPUS/mingw-w64-include" \
                --outdir "$TMP/wa" "$idl" >> "$TMP/hdr.err" 2>&1; then
            echo "  ^ amidl failed on $b.idl" >> "$TMP/hdr.err"; continue
        fi
        limit 60 "$W" -DBOOL=WINBOOL -I "$CORPUS/mingw-w64" -I "$CORPUS/mingw-w64-include" -h -H "$TMP/ww/$b.h" \
            -u -U "$TMP/ww/${b}_i.c" "$idl" >/dev/null 2>&1
        if iid_same "$TMP/ww" "$TMP/wa" "$b"; then
            isame=$((isame + 1))
            iids=$((iids + $(grep -c '^MIDL_DEFINE_GUID(' "$TMP/wa/${b}_i.c")))
        else
            { echo "  ^ ${b}_i.c differs from widl's (- widl, renamed; + amidl):"; head -20 "$TMP/wa/${b}_i.diff"; } >> "$TMP/iid.err"
        fi
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
    if [ "$n" -gt 0 ] && [ "$isame" -eq "$n" ] && [ "$iids" -gt 0 ]; then
        ok "the _i.c of the corpus's $n WinRT files are widl's, renamed as its headers declare them ($iids IIDs)"
    else
        fail "the _i.c of the corpus's WinRT files" "$isame of $n as widl's ($iids IIDs)" "$TMP/iid.err"
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
        check "amidl writes $n.h and ${n}_i.c" "$AMIDL" -w --no-glue -I tests/golden --outdir "$TMP/ga" "tests/golden/$n.idl"
        check "widl --winrt writes $n.h and ${n}_i.c" "$W" --winrt -I runtime/idl -I tests/golden -h -H "$TMP/gw/$n.h" \
            -u -U "$TMP/gw/${n}_i.c" "tests/golden/$n.idl"
        if diff -u <(sed -n "/^#ifndef __${n}_h__\$/,\$p" "$TMP/gw/$n.h") \
                   <(sed -n "/^#ifndef __${n}_h__\$/,\$p" "$TMP/ga/$n.h") > "$TMP/g.diff"; then
            ok "$n.h is widl's"
        else
            fail "$n.h is widl's" "it differs (- widl, + amidl)" "$TMP/g.diff"
        fi
        if iid_same "$TMP/gw" "$TMP/ga" "$n"; then
            ok "${n}_i.c is widl's, renamed as its header declares them"
        else
            fail "${n}_i.c is widl's" "it differs (- widl, renamed; + amidl)" "$TMP/ga/${n}_i.diff"
        fi
    done
fi

# the header's DEFINE_GUIDs and the _i.c link on Linux, C and C++
L=$TMP/link
mkdir -p "$L"
for f in runtime/idl/unknwn.idl runtime/idl/wtypes.idl runtime/idl/wtypesbase.idl tests/golden/winrt_inspectable.idl tests/golden/winrt_iids.idl; do
    limit 60 "$AMIDL" -w --no-glue -I tests/golden --outdir "$L" "$f" >> "$L/err" 2>&1 || echo "amidl failed on $f" >> "$L/err"
done
printf '#define INITGUID\n#include "winrt_iids.h"\n' > "$L/initguid.c"
iids="'$L/winrt_iids_i.c' '$L/winrt_inspectable_i.c'"
check "winrt_iids.h and winrt_iids_i.c link, and the IIDs are widl's (C)" bash -c \
    "gcc -std=c99 -Wall -Wextra -Werror -I runtime/include -I '$L' -o '$L/c' tests/linux/winrt_iidtest.c $iids && '$L/c' | grep -qx ok"
check "winrt_iids.h and winrt_iids_i.c link, and the IIDs are widl's (C++)" bash -c \
    "g++ -std=c++11 -Wall -Werror -x c++ -I runtime/include -I '$L' -o '$L/cxx' tests/linux/winrt_iidtest.c $iids && '$L/cxx' | grep -qx ok"
check "winrt_iids_i.c links with a unit defining the IIDs through INITGUID (C)" bash -c \
    "gcc -std=c99 -Wall -Wextra -Werror -I runtime/include -I '$L' -o '$L/c2' tests/linux/winrt_iidtest.c '$L/initguid.c' $iids && '$L/c2' | grep -qx ok"
check "winrt_iids_i.c links with a unit defining the IIDs through INITGUID (C++)" bash -c \
    "g++ -std=c++11 -Wall -Werror -x c++ -I runtime/include -I '$L' -o '$L/cxx2' tests/linux/winrt_iidtest.c '$L/initguid.c' $iids && '$L/cxx2' | grep -qx ok"
suite_end
