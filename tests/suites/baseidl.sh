#!/usr/bin/env bash
# tier: check
# The base IDL we wrote ourselves (runtime/idl/oaidl.idl, oleidl.idl,
# ocidl.idl, propidl.idl) against mingw-w64's, read by ../shared/tools/widl
# from the corpus: every structure size and vtable slot offset of
# mingw-w64's header under x86_64-w64-mingw32-gcc (tests/baseidl/
# abi_subset.py over abi_compare.py; none may be missing), every IID, and every size and offset of ours (wtypes, objidlbase, objidl too)
# measured by Linux gcc against mingw-w64's for x64
# (tests/baseidl/layout_linux.py). That the headers compile on Linux as C
# and C++ is tests/suites/golden.sh's.
. tests/lib.sh

# a user IDL importing oleidl.idl, ocidl.idl and propidl.idl first (ocidl.idl imports servprov.idl), as real ones do: its
# header, IIDs and glue compile on Linux with gcc, g++ and clang, and link
# with the runtime and the base IDL's IIDs
U=$TMP/user
mkdir -p "$U"
check "amidl writes a user IDL importing oleidl.idl and ocidl.idl" "$AMIDL" -w -I runtime/idl --outdir "$U" tests/baseidl/user_ole.idl
cat > "$U/main.c" << 'EOF'
#include "user_ole.h"
#include <string.h>
int main(void)
{
    IUserCanvas *c = 0; IOleInPlaceObject *o = 0; IConnectionPoint *p = 0; IUserWindowless *w = 0;
    AsyncIAdviseSink2 *as = 0; IRunnableObject *ro = 0; INTERFACEINFO ii;
    (void)as; (void)ro; memset(&ii, 0, sizeof ii);
    QACONTAINER qa; QACONTROL qc; DVEXTENTINFO ext; PROPVARIANT pv; PROPSPEC ps;
    (void)c; (void)o; (void)p; (void)w;
    memset(&pv, 0, sizeof pv); pv.vt = VT_I4; pv.lVal = 7; ps.ulKind = PRSPEC_PROPID; ps.propid = PID_FIRST_USABLE;
    if (pv.lVal != 7 || ps.propid != 2 || sizeof pv != 2 * sizeof (void *) + 8) return 1;
    memset(&qa, 0, sizeof qa); memset(&qc, 0, sizeof qc); memset(&ext, 0, sizeof ext);
    qa.cbSize = sizeof qa; qc.cbSize = sizeof qc; ext.cb = sizeof ext;
    return memcmp(&IID_IUserCanvas, &IID_IOleWindow, sizeof (IID)) == 0 || IID_IOleWindow.Data1 != 0x114
        || IID_IDataObject.Data1 != 0x10e || IID_IOleCache2.Data1 != 0x128 || IID_IViewObject2.Data1 != 0x127
        || IID_IViewObjectEx.Data1 != 0x3af24292 || IID_IOleUndoManager.Data1 != 0xd001f200
        || IID_IQuickActivate.Data1 != 0xcf51ed10 || IID_IOleInPlaceSiteWindowless.Data1 != 0x922eada0
        || IID_IPointerInactive.Data1 != 0x55980ba0 || IID_IAdviseSinkEx.Data1 != 0x3af24290
        || IID_AsyncIUserUndo.Data1 != 0x5b0c7e52 || IID_IMarshal.Data1 != 3 || IID_IMarshal2.Data1 != 0x1cf
        || IID_IPSFactoryBuffer.Data1 != 0xd5f569d0 || IID_IRpcChannelBuffer3.Data1 != 0x25b15600
        || IID_IGlobalInterfaceTable.Data1 != 0x146 || IID_IMalloc.Data1 != 2
        || IID_IPropertyStorage.Data1 != 0x138 || IID_IEnumSTATPROPSETSTG.Data1 != 0x13b
        || IID_AsyncIAdviseSink.Data1 != 0x150 || IID_AsyncIAdviseSink2.Data1 != 0x151
        || IID_IMessageFilter.Data1 != 0x16 || IID_IDataAdviseHolder.Data1 != 0x110
        || IID_IServiceProvider.Data1 != 0x6d5140c1;
}
EOF
rtiids=("$BUILD"/runtime/include/*_i.c)
for cc in gcc clang; do
    if ! command -v "$cc" > /dev/null; then skip "user IDL importing oleidl and ocidl with $cc" "$cc missing"; continue; fi
    check "user IDL importing oleidl and ocidl: header, IIDs and glue compile and link ($cc -std=c11)" \
        "$cc" -std=c11 -Wall -Wextra -Werror -pthread -I runtime/include -I "$BUILD/runtime/include" -I "$U" -o "$U/prog-$cc" \
        "$U/main.c" "$U/user_ole_i.c" "$U/user_ole_async.c" "${rtiids[@]}" "$BUILD/lib/libamidlrt.a"
    check "user IDL importing oleidl and ocidl: the program runs ($cc)" "$U/prog-$cc"
done
for cxx in g++ clang++; do
    if ! command -v "$cxx" > /dev/null; then skip "user IDL importing oleidl and ocidl with $cxx" "$cxx missing"; continue; fi
    for f in main.c user_ole_i.c user_ole_async.c; do
        check "user IDL importing oleidl and ocidl: $f compiles as C++ ($cxx -std=c++11)" \
            "$cxx" -std=c++11 -Wall -Wextra -Werror -x c++ -c -o "$U/cxx.o" -I runtime/include -I "$BUILD/runtime/include" -I "$U" "$U/$f"
    done
done

W=$SHARED/tools/widl
if ! command -v x86_64-w64-mingw32-gcc > /dev/null || [ ! -x "$W" ]; then
    skip "base IDL against mingw-w64" "x86_64-w64-mingw32-gcc or $W missing"
    suite_end
    exit 0
fi
R=$TMP/widl O=$TMP/amidl
mkdir -p "$R" "$O"
inc=(-DBOOL=WINBOOL -I "$CORPUS/mingw-w64" -I "$CORPUS/mingw-w64-include")
# oaidl.idl (with its wire types), oleidl.idl, ocidl.idl, propidl.idl and
# servprov.idl are all of Windows' (nothing may be missing, every IID is there);
# objidlbase.idl and objidl.idl have every IID (their structures and
# vtables are compared on Linux below). objidlbase and objidl come last:
# until then $O has none of our headers that mingw-w64's own include
for n in oaidl ocidl oleidl propidl servprov objidlbase objidl; do
    mode=
    [ "$n" = objidlbase ] || [ "$n" = objidl ] && mode=@absent
    check "widl writes mingw-w64's $n.h" "$W" "${inc[@]}" -h -H "$R/$n.h" -u -U "$R/${n}_i.c" "$CORPUS/mingw-w64/$n.idl"
    # ours alone in its directory: what it imports comes from mingw-w64
    check "amidl writes runtime/idl/$n.idl" "$AMIDL" -w --no-glue -I runtime/idl --outdir "$O" "runtime/idl/$n.idl"
    # mingw-w64's system headers include objidlbase.h and objidl.h
    # themselves, so ours cannot stand in for them there
    if [ "$n" != objidlbase ] && [ "$n" != objidl ]; then
        rc=0
        ABI_INCLUDE="$CORPUS/mingw-w64-include" limit 120 python3 tests/baseidl/abi_subset.py "$R" "$O" "$n" ${mode:+"$mode"} \
            > "$TMP/abi.out" 2>&1 || rc=$?
        if [ "$rc" -eq 0 ]; then
            ok "$n.h: $(tail -1 "$TMP/abi.out" | sed "s/^$n: //") (mingw-w64 gcc, against mingw-w64's)"
        else
            fail "$n.h sizes and vtable offsets as mingw-w64's" "$(status_text "$rc")" "$TMP/abi.out"
        fi
    fi
    # every IID mingw-w64 defines, with the same value
    iids() { grep -o 'IID_[A-Za-z0-9_]*, *0x[0-9a-fA-F]*[^)]*' "$1" | tr -d ' ' | tr 'A-F' 'a-f' | sort; }
    iids "$R/${n}_i.c" > "$TMP/ref.iids"
    # mingw-w64's objidl.idl holds objidlbase's too; ours imports them
    if [ "$n" = objidl ]; then
        cat "$O/objidl_i.c" "$O/objidlbase_i.c" > "$TMP/our_i.c"
    else
        cp "$O/${n}_i.c" "$TMP/our_i.c"
    fi
    iids "$TMP/our_i.c" > "$TMP/our.iids"
    if [ ! -s "$TMP/ref.iids" ] || [ ! -s "$TMP/our.iids" ]; then
        fail "$n: IIDs as mingw-w64's" "no IIDs in widl's or in our ${n}_i.c"
    elif ! diff "$TMP/ref.iids" "$TMP/our.iids" > "$TMP/iid.diff"; then
        fail "$n: IIDs as mingw-w64's" "they differ (< mingw-w64, > ours)" "$TMP/iid.diff"
    else
        ok "$n: our $(wc -l < "$TMP/our.iids") IIDs as mingw-w64's (it has $(wc -l < "$TMP/ref.iids"))"
    fi
done

# on Linux (gcc, LP64) every size and offset of ours as mingw-w64's for x64
L=$TMP/linux
mkdir -p "$L"
for idl in runtime/idl/*.idl; do
    "$AMIDL" -w --no-glue -I runtime/idl --outdir "$L" "$idl" > "$TMP/err" 2>&1 || fail "amidl $idl" "it failed" "$TMP/err"
done
for n in wtypes objidlbase objidl oleidl oaidl ocidl propidl servprov; do
    rc=0
    limit 120 python3 tests/baseidl/layout_linux.py "$L" "$n" "$CORPUS/mingw-w64-include" > "$TMP/lay.out" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
        ok "$n.h on Linux: $(tail -1 "$TMP/lay.out" | sed "s/^$n: //") (gcc against mingw-w64's for x64)"
    else
        fail "$n.h on Linux: sizes and vtable offsets as mingw-w64's for x64" "$(status_text "$rc")" "$TMP/lay.out"
    fi
done
suite_end
