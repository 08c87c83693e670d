#!/usr/bin/env bash
# tier: check
# FILE_i.c of WinRT files (#13): for every WinRT file of the corpus (and
# tests/golden/winrt_iids.idl), amidl's _i.c is widl -u's, line for line
# from its second line (the banner is amidl's own), with two differences
# made on widl's side before the comparison: each IID is named as widl's
# header declares it (widl's _i.c writes IID_IFoo for
# IID___x_ABI_C<ns>_CIFoo and IID_IVector<HSTRING > for
# IID___FIVector_1_HSTRING: names that are not the header's, the second
# not a C identifier), and a second definition of the same IID (a declare
# { } block naming an instance twice) is dropped, as a C compiler rejects
# it. Then winrt_iids.h and winrt_iids_i.c compile and link on Linux, C
# and C++, also with a second unit defining the IIDs through INITGUID.
. tests/lib.sh

W=$SHARED/tools/widl M=$CORPUS/mingw-w64
mkdir -p "$TMP/a" "$TMP/w"
# widl's _i.c with its IIDs named by its header's DEFINE_GUIDs, each once
cat > "$TMP/names.py" <<'PYEOF'
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

if [ ! -x "$W" ] || [ ! -d "$M" ]; then
    skip "the _i.c of the corpus's WinRT files as widl's" "$W or the corpus missing"
else
    n=0 same=0 iids=0
    : > "$TMP/iid.err"
    for idl in "$M"/*.idl tests/golden/winrt_iids.idl; do
        [ "$idl" = tests/golden/winrt_iids.idl ] || grep -q '^ *namespace \|^ *import *"windows\.' "$idl" || continue
        b=$(basename "$idl" .idl)
        n=$((n + 1))
        inc="-DBOOL=WINBOOL -I $M -I $M-include"
        [ "$idl" = tests/golden/winrt_iids.idl ] && inc="-I runtime/idl -I tests/golden"
        # shellcheck disable=SC2086
        if ! limit 60 "$AMIDL" -w --no-glue $inc --outdir "$TMP/a" "$idl" >> "$TMP/iid.err" 2>&1; then
            echo "  ^ amidl failed on $b.idl" >> "$TMP/iid.err"; continue
        fi
        # shellcheck disable=SC2086
        if ! limit 60 "$W" --winrt $inc -u -U "$TMP/w/${b}_i.c" -h -H "$TMP/w/$b.h" "$idl" > "$TMP/w/$b.err" 2>&1; then
            { echo "  ^ widl failed on $b.idl:"; cat "$TMP/w/$b.err"; } >> "$TMP/iid.err"; continue
        fi
        python3 "$TMP/names.py" "$TMP/w/${b}_i.c" "$TMP/w/$b.h" > "$TMP/w/$b.want"
        tail -n +2 "$TMP/a/${b}_i.c" > "$TMP/a/$b.got"
        if diff -u "$TMP/w/$b.want" "$TMP/a/$b.got" > "$TMP/a/$b.diff"; then
            same=$((same + 1))
            iids=$((iids + $(grep -c '^MIDL_DEFINE_GUID(' "$TMP/a/$b.got")))
        else
            { echo "  ^ ${b}_i.c differs from widl's (- widl, renamed; + amidl):"; head -20 "$TMP/a/$b.diff"; } >> "$TMP/iid.err"
        fi
    done
    if [ "$n" -gt 1 ] && [ "$same" -eq "$n" ]; then
        ok "the _i.c of the corpus's $((n - 1)) WinRT files and winrt_iids.idl are widl's ($iids IIDs)"
    else
        fail "the _i.c of the corpus's WinRT files" "$same of $n as widl's" "$TMP/iid.err"
    fi
fi

# the header's DEFINE_GUIDs and the _i.c link on Linux, C and C++
L=$TMP/link
mkdir -p "$L"
for f in runtime/idl/unknwn.idl runtime/idl/wtypes.idl runtime/idl/wtypesbase.idl tests/golden/winrt_inspectable.idl tests/golden/winrt_iids.idl; do
    limit 60 "$AMIDL" -w --no-glue -I tests/golden --outdir "$L" "$f" >> "$L/err" 2>&1 || echo "amidl failed on $f" >> "$L/err"
done
printf '#define INITGUID\n#include "winrt_iids.h"\n' > "$L/initguid.c"
check "winrt_iids.h and winrt_iids_i.c link, and the IIDs are widl's (C)" bash -c \
    "gcc -std=c99 -Wall -Wextra -Werror -I runtime/include -I '$L' -o '$L/c' tests/linux/winrt_iidtest.c '$L/winrt_iids_i.c' '$L/winrt_inspectable_i.c' && '$L/c' | grep -qx ok"
check "winrt_iids.h and winrt_iids_i.c link, and the IIDs are widl's (C++)" bash -c \
    "g++ -std=c++11 -Wall -Werror -x c++ -I runtime/include -I '$L' -o '$L/cxx' tests/linux/winrt_iidtest.c '$L/winrt_iids_i.c' '$L/winrt_inspectable_i.c' && '$L/cxx' | grep -qx ok"
check "winrt_iids_i.c links with a unit defining the IIDs through INITGUID (C)" bash -c \
    "gcc -std=c99 -I runtime/include -I '$L' -o '$L/c2' tests/linux/winrt_iidtest.c '$L/initguid.c' '$L/winrt_iids_i.c' '$L/winrt_inspectable_i.c' && '$L/c2' | grep -qx ok"
check "winrt_iids_i.c links with a unit defining the IIDs through INITGUID (C++)" bash -c \
    "g++ -std=c++11 -Wall -Werror -x c++ -I runtime/include -I '$L' -o '$L/cxx2' tests/linux/winrt_iidtest.c '$L/initguid.c' '$L/winrt_iids_i.c' '$L/winrt_inspectable_i.c' && '$L/cxx2' | grep -qx ok"
suite_end
